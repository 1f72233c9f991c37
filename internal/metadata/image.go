// Package metadata owns the cluster metadata: the records that describe
// topics, partitions, configs and brokers, the immutable MetadataImage they
// build, and the log those records are kept in.
//
// It follows KRaft's shape (KIP-500, KIP-631): every change is a record;
// applying a batch of records to an Image yields a new Image, published by
// pointer swap, so readers never lock. A single node keeps the records in a
// local file log (Log); the Raft quorum of a later issue replaces only where
// the records are stored and committed, not the records or the images.
//
// The package must not know about partitions' data, the network or clients.
package metadata

import (
	"maps"
	"slices"

	"github.com/google/uuid"
)

// Image is an immutable view of the cluster metadata. Never modify an Image
// or anything reachable from it; Apply returns a new one.
type Image struct {
	// ClusterID is the cluster's id (base64 UUID, as in meta.properties).
	ClusterID string
	// Offset is the offset of the last record applied.
	Offset int64
	// Brokers by node id.
	Brokers map[int32]*Broker
	// Topics by name, and the same topics by id.
	Topics   map[string]*Topic
	TopicIDs map[uuid.UUID]*Topic
	// Configs by resource: ConfigKey{Type, Name} -> key -> value. Type is
	// Kafka's resource type (2 topic, 4 broker); the cluster-wide broker
	// default has Name "".
	Configs map[ConfigKey]map[string]string
	// NextProducerID is the first producer id not yet handed out.
	NextProducerID int64
}

// ConfigKey names a config resource.
type ConfigKey struct {
	Type int8
	Name string
}

// Config resource types, as Kafka numbers them.
const (
	ResourceTopic  int8 = 2
	ResourceBroker int8 = 4
)

// Broker is a registered broker.
type Broker struct {
	ID        int32
	Rack      string
	Endpoints []Endpoint
}

// Endpoint is a listener a broker advertises.
type Endpoint struct {
	Name string
	Host string
	Port int32
}

// Topic is a topic and its partitions.
type Topic struct {
	Name       string
	ID         uuid.UUID
	Partitions []Partition
}

// Partition is one partition's placement and leadership.
type Partition struct {
	Replicas    []int32
	ISR         []int32
	Leader      int32
	LeaderEpoch int32
	// PartitionEpoch is bumped on every change of the partition record.
	PartitionEpoch int32
}

// NewImage returns an empty image for the cluster.
func NewImage(clusterID string) *Image {
	return &Image{
		ClusterID: clusterID,
		Offset:    -1,
		Brokers:   map[int32]*Broker{},
		Topics:    map[string]*Topic{},
		TopicIDs:  map[uuid.UUID]*Topic{},
		Configs:   map[ConfigKey]map[string]string{},
	}
}

// TopicConfig returns the topic's config overrides (never nil).
func (im *Image) TopicConfig(topic string) map[string]string {
	if m := im.Configs[ConfigKey{ResourceTopic, topic}]; m != nil {
		return m
	}
	return map[string]string{}
}

// BrokerConfig returns the dynamic config of broker name ("" for the
// cluster-wide default).
func (im *Image) BrokerConfig(name string) map[string]string {
	if m := im.Configs[ConfigKey{ResourceBroker, name}]; m != nil {
		return m
	}
	return map[string]string{}
}

// SortedTopics returns topic names in order.
func (im *Image) SortedTopics() []string {
	return slices.Sorted(maps.Keys(im.Topics))
}

// Apply returns a new image with recs applied. Records that refer to
// something absent are skipped: the controller validated them when they were
// written, so this only happens to records made moot by a later one.
func (im *Image) Apply(offset int64, recs []Record) *Image {
	next := *im
	next.Offset = offset
	var copiedTopics, copiedBrokers, copiedConfigs bool
	cloneTopics := func() {
		if !copiedTopics {
			next.Topics = maps.Clone(im.Topics)
			next.TopicIDs = maps.Clone(im.TopicIDs)
			copiedTopics = true
		}
	}
	for _, r := range recs {
		switch {
		case r.Topic != nil:
			cloneTopics()
			t := &Topic{Name: r.Topic.Name, ID: r.Topic.ID}
			next.Topics[t.Name] = t
			next.TopicIDs[t.ID] = t
		case r.Partition != nil:
			cloneTopics()
			old := next.TopicIDs[r.Partition.TopicID]
			if old == nil {
				continue
			}
			t := *old
			p := r.Partition
			parts := slices.Clone(t.Partitions)
			for int32(len(parts)) <= p.Partition {
				parts = append(parts, Partition{Leader: -1})
			}
			parts[p.Partition] = Partition{
				Replicas:       slices.Clone(p.Replicas),
				ISR:            slices.Clone(p.ISR),
				Leader:         p.Leader,
				LeaderEpoch:    p.LeaderEpoch,
				PartitionEpoch: parts[p.Partition].PartitionEpoch + 1,
			}
			t.Partitions = parts
			next.Topics[t.Name] = &t
			next.TopicIDs[t.ID] = &t
		case r.RemoveTopic != nil:
			cloneTopics()
			if t := next.TopicIDs[r.RemoveTopic.ID]; t != nil {
				delete(next.Topics, t.Name)
				delete(next.TopicIDs, t.ID)
				if !copiedConfigs {
					next.Configs = maps.Clone(im.Configs)
					copiedConfigs = true
				}
				delete(next.Configs, ConfigKey{ResourceTopic, t.Name})
			}
		case r.Config != nil:
			if !copiedConfigs {
				next.Configs = maps.Clone(im.Configs)
				copiedConfigs = true
			}
			k := ConfigKey{r.Config.ResourceType, r.Config.ResourceName}
			m := maps.Clone(next.Configs[k])
			if m == nil {
				m = map[string]string{}
			}
			if r.Config.Value == nil {
				delete(m, r.Config.Name)
			} else {
				m[r.Config.Name] = *r.Config.Value
			}
			if len(m) == 0 {
				delete(next.Configs, k)
			} else {
				next.Configs[k] = m
			}
		case r.ProducerIDs != nil:
			next.NextProducerID = r.ProducerIDs.NextBlockStart
		case r.Broker != nil:
			if !copiedBrokers {
				next.Brokers = maps.Clone(im.Brokers)
				copiedBrokers = true
			}
			b := *r.Broker
			next.Brokers[b.ID] = &b
		}
	}
	return &next
}

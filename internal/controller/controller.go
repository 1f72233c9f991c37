// Package controller validates administrative operations (create and delete
// topics, add partitions, change configs) against the current metadata image
// and commits them as metadata records (Kafka's QuorumController).
//
// Validation and commit happen under the metadata log's lock, so two
// concurrent creations of one topic cannot both succeed. Answers are Kafka
// error codes with messages; a Go error means the log could not be written.
package controller

import (
	"fmt"
	"regexp"

	"github.com/google/uuid"
	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/sluicehq/sluice/internal/metadata"
)

// Validator checks topic configs (the config package's rules).
type Validator func(configs map[string]string) error

// Controller commits admin operations.
type Controller struct {
	log      *metadata.Log
	validate Validator
	// DefaultPartitions and DefaultReplicationFactor are num.partitions and
	// default.replication.factor.
	DefaultPartitions        int32
	DefaultReplicationFactor int16
}

// New returns a controller over log.
func New(log *metadata.Log, validate Validator, partitions int32, rf int16) *Controller {
	return &Controller{log: log, validate: validate, DefaultPartitions: partitions, DefaultReplicationFactor: rf}
}

// Error is a Kafka error code with a message.
type Error struct {
	Err *kerr.Error
	Msg string
}

func (e *Error) Error() string { return e.Err.Message + ": " + e.Msg }

func errf(code *kerr.Error, format string, args ...any) *Error {
	return &Error{Err: code, Msg: fmt.Sprintf(format, args...)}
}

var legalTopic = regexp.MustCompile(`^[a-zA-Z0-9._-]+$`)

// ValidateTopicName returns why name is not a legal topic name, or nil.
func ValidateTopicName(name string) *Error {
	switch {
	case name == "":
		return errf(kerr.InvalidTopicException, "topic name is empty")
	case name == "." || name == "..":
		return errf(kerr.InvalidTopicException, "topic name cannot be %q", name)
	case len(name) > 249:
		return errf(kerr.InvalidTopicException, "topic name is %d characters long, the maximum is 249", len(name))
	case !legalTopic.MatchString(name):
		return errf(kerr.InvalidTopicException, "topic name %q is illegal, it contains a character other than ASCII alphanumerics, '.', '_' and '-'", name)
	}
	return nil
}

// CreateTopic describes a topic to create.
type CreateTopic struct {
	Name              string
	Partitions        int32 // -1: num.partitions
	ReplicationFactor int16 // -1: default.replication.factor
	Assignment        map[int32][]int32
	Configs           map[string]string
}

// Created is a topic as it was (or would be) created.
type Created struct {
	ID                uuid.UUID
	Partitions        int32
	ReplicationFactor int16
}

// CreateTopics creates topics; each gets its own outcome. validateOnly
// checks without committing.
func (c *Controller) CreateTopics(topics []CreateTopic, validateOnly bool) ([]Created, []*Error, error) {
	created := make([]Created, len(topics))
	errs := make([]*Error, len(topics))
	_, err := c.log.Commit(func(im *metadata.Image) ([]metadata.Record, error) {
		var recs []metadata.Record
		seen := map[string]bool{}
		for i, t := range topics {
			var recsT []metadata.Record
			recsT, created[i], errs[i] = c.createTopic(im, t, seen)
			if errs[i] == nil && !validateOnly {
				recs = append(recs, recsT...)
			}
		}
		return recs, nil
	})
	return created, errs, err
}

func (c *Controller) createTopic(im *metadata.Image, t CreateTopic, seen map[string]bool) ([]metadata.Record, Created, *Error) {
	var out Created
	if e := ValidateTopicName(t.Name); e != nil {
		return nil, out, e
	}
	if _, ok := im.Topics[t.Name]; ok || seen[t.Name] {
		return nil, out, errf(kerr.TopicAlreadyExists, "topic %q already exists", t.Name)
	}
	brokers := sortedBrokers(im)
	n, rf := t.Partitions, t.ReplicationFactor
	if len(t.Assignment) > 0 {
		if n != -1 || rf != -1 {
			return nil, out, errf(kerr.InvalidRequest, "both the number of partitions or replication factor and a replica assignment were given")
		}
		n = int32(len(t.Assignment))
		for p := int32(0); p < n; p++ {
			reps, ok := t.Assignment[p]
			if !ok {
				return nil, out, errf(kerr.InvalidReplicaAssignment, "partitions must be numbered from 0 without gaps; partition %d is missing", p)
			}
			if len(reps) == 0 {
				return nil, out, errf(kerr.InvalidReplicaAssignment, "partition %d has no replicas", p)
			}
			if rf == -1 {
				rf = int16(len(reps))
			}
			for _, r := range reps {
				if im.Brokers[r] == nil {
					return nil, out, errf(kerr.InvalidReplicaAssignment, "partition %d: broker %d is not registered", p, r)
				}
			}
		}
	}
	if n == -1 {
		n = c.DefaultPartitions
	}
	if rf == -1 {
		rf = c.DefaultReplicationFactor
	}
	if n <= 0 {
		return nil, out, errf(kerr.InvalidPartitions, "number of partitions must be larger than 0, got %d", n)
	}
	if rf <= 0 {
		return nil, out, errf(kerr.InvalidReplicationFactor, "replication factor must be larger than 0, got %d", rf)
	}
	if int(rf) > len(brokers) {
		return nil, out, errf(kerr.InvalidReplicationFactor, "replication factor: %d larger than available brokers: %d", rf, len(brokers))
	}
	if c.validate != nil {
		if err := c.validate(t.Configs); err != nil {
			return nil, out, errf(kerr.InvalidConfig, "%v", err)
		}
	}
	seen[t.Name] = true
	id := uuid.New()
	out = Created{ID: id, Partitions: n, ReplicationFactor: rf}
	recs := []metadata.Record{{Topic: &metadata.TopicRecord{Name: t.Name, ID: id}}}
	for p := int32(0); p < n; p++ {
		reps := t.Assignment[p]
		if reps == nil {
			reps = assign(brokers, p, rf)
		}
		recs = append(recs, metadata.Record{Partition: &metadata.PartitionRecord{
			TopicID: id, Partition: p, Replicas: reps, ISR: reps, Leader: reps[0],
		}})
	}
	for k, v := range t.Configs {
		v := v
		recs = append(recs, metadata.Record{Config: &metadata.ConfigRecord{
			ResourceType: metadata.ResourceTopic, ResourceName: t.Name, Name: k, Value: &v,
		}})
	}
	return recs, out, nil
}

// assign places partition p's rf replicas round-robin over brokers, the
// leader rotating with p.
func assign(brokers []int32, p int32, rf int16) []int32 {
	reps := make([]int32, rf)
	for i := range reps {
		reps[i] = brokers[(int(p)+i)%len(brokers)]
	}
	return reps
}

func sortedBrokers(im *metadata.Image) []int32 {
	var ids []int32
	for id := range im.Brokers {
		ids = append(ids, id)
	}
	for i := 1; i < len(ids); i++ {
		for j := i; j > 0 && ids[j] < ids[j-1]; j-- {
			ids[j], ids[j-1] = ids[j-1], ids[j]
		}
	}
	return ids
}

// DeleteTopic deletes a topic by name (or, if name is empty, by id).
func (c *Controller) DeleteTopic(name string, id uuid.UUID) (string, uuid.UUID, *Error, error) {
	var kerrOut *Error
	var gotName string
	var gotID uuid.UUID
	_, err := c.log.Commit(func(im *metadata.Image) ([]metadata.Record, error) {
		var t *metadata.Topic
		if name != "" {
			t = im.Topics[name]
		} else {
			t = im.TopicIDs[id]
		}
		if t == nil {
			if name != "" {
				kerrOut = errf(kerr.UnknownTopicOrPartition, "topic %q does not exist", name)
			} else {
				kerrOut = errf(kerr.UnknownTopicID, "no topic has id %s", id)
			}
			return nil, nil
		}
		if len(t.Name) > 2 && t.Name[:2] == "__" && (t.Name == "__consumer_offsets" || t.Name == "__transaction_state") {
			kerrOut = errf(kerr.TopicAuthorizationFailed, "internal topic %q cannot be deleted", t.Name)
			return nil, nil
		}
		gotName, gotID = t.Name, t.ID
		return []metadata.Record{{RemoveTopic: &metadata.RemoveTopicRecord{ID: t.ID}}}, nil
	})
	return gotName, gotID, kerrOut, err
}

// CreatePartitions raises the partition count of a topic to total.
func (c *Controller) CreatePartitions(topic string, total int32, assignment [][]int32, validateOnly bool) (*Error, error) {
	var kerrOut *Error
	_, err := c.log.Commit(func(im *metadata.Image) ([]metadata.Record, error) {
		t := im.Topics[topic]
		if t == nil {
			kerrOut = errf(kerr.UnknownTopicOrPartition, "topic %q does not exist", topic)
			return nil, nil
		}
		cur := int32(len(t.Partitions))
		if total < cur {
			kerrOut = errf(kerr.InvalidPartitions, "topic currently has %d partitions, which is higher than the requested %d", cur, total)
			return nil, nil
		}
		if total == cur {
			kerrOut = errf(kerr.InvalidPartitions, "topic already has %d partitions", cur)
			return nil, nil
		}
		if assignment != nil && int32(len(assignment)) != total-cur {
			kerrOut = errf(kerr.InvalidReplicaAssignment, "%d partitions to add but %d assignments given", total-cur, len(assignment))
			return nil, nil
		}
		rf := int16(len(t.Partitions[0].Replicas))
		brokers := sortedBrokers(im)
		var recs []metadata.Record
		for p := cur; p < total; p++ {
			var reps []int32
			if assignment != nil {
				reps = assignment[p-cur]
				for _, r := range reps {
					if im.Brokers[r] == nil {
						kerrOut = errf(kerr.InvalidReplicaAssignment, "broker %d is not registered", r)
						return nil, nil
					}
				}
			} else {
				reps = assign(brokers, p, rf)
			}
			recs = append(recs, metadata.Record{Partition: &metadata.PartitionRecord{
				TopicID: t.ID, Partition: p, Replicas: reps, ISR: reps, Leader: reps[0],
			}})
		}
		if validateOnly {
			return nil, nil
		}
		return recs, nil
	})
	return kerrOut, err
}

// ConfigChange is one key of one resource to set (Value non-nil) or remove.
type ConfigChange struct {
	Name  string
	Value *string
}

// AlterConfigs applies changes to a resource. replace (AlterConfigs, the
// legacy API) removes every key not given. check validates the resulting
// config map.
func (c *Controller) AlterConfigs(resType int8, resName string, changes []ConfigChange, replace, validateOnly bool, check func(im *metadata.Image, result map[string]string) *Error) (*Error, error) {
	var kerrOut *Error
	_, err := c.log.Commit(func(im *metadata.Image) ([]metadata.Record, error) {
		if resType == metadata.ResourceTopic && im.Topics[resName] == nil {
			kerrOut = errf(kerr.UnknownTopicOrPartition, "topic %q does not exist", resName)
			return nil, nil
		}
		cur := im.Configs[metadata.ConfigKey{Type: resType, Name: resName}]
		result := map[string]string{}
		if !replace {
			for k, v := range cur {
				result[k] = v
			}
		}
		for _, ch := range changes {
			if ch.Value == nil {
				delete(result, ch.Name)
			} else {
				result[ch.Name] = *ch.Value
			}
		}
		if check != nil {
			if e := check(im, result); e != nil {
				kerrOut = e
				return nil, nil
			}
		}
		if validateOnly {
			return nil, nil
		}
		var recs []metadata.Record
		for k := range cur {
			if _, ok := result[k]; !ok {
				recs = append(recs, metadata.Record{Config: &metadata.ConfigRecord{ResourceType: resType, ResourceName: resName, Name: k}})
			}
		}
		for k, v := range result {
			if old, ok := cur[k]; ok && old == v {
				continue
			}
			v := v
			recs = append(recs, metadata.Record{Config: &metadata.ConfigRecord{ResourceType: resType, ResourceName: resName, Name: k, Value: &v}})
		}
		return recs, nil
	})
	return kerrOut, err
}

// RegisterBroker records this broker and its endpoints.
func (c *Controller) RegisterBroker(b metadata.Broker) error {
	_, err := c.log.Commit(func(im *metadata.Image) ([]metadata.Record, error) {
		if old := im.Brokers[b.ID]; old != nil && sameBroker(old, &b) {
			return nil, nil
		}
		return []metadata.Record{{Broker: &b}}, nil
	})
	return err
}

func sameBroker(a, b *metadata.Broker) bool {
	if a.ID != b.ID || a.Rack != b.Rack || len(a.Endpoints) != len(b.Endpoints) {
		return false
	}
	for i := range a.Endpoints {
		if a.Endpoints[i] != b.Endpoints[i] {
			return false
		}
	}
	return true
}

// OffsetsTopic is the internal topic of committed offsets and group state.
const OffsetsTopic = "__consumer_offsets"

// EnsureOffsetsTopic creates __consumer_offsets with the given number of
// partitions (offsets.topic.num.partitions), compacted as Kafka makes it, if
// it does not exist yet. Once it returns, the topic's partitions are hosted
// (the image is published after the replica manager has applied it).
func (c *Controller) EnsureOffsetsTopic(partitions int32) error {
	if c.log.Image().Topics[OffsetsTopic] != nil {
		return nil
	}
	_, errs, err := c.CreateTopics([]CreateTopic{{
		Name:              OffsetsTopic,
		Partitions:        partitions,
		ReplicationFactor: -1,
		Configs: map[string]string{
			"cleanup.policy":   "compact",
			"compression.type": "producer",
			"segment.bytes":    "104857600",
		},
	}}, false)
	if err != nil {
		return err
	}
	if errs[0] != nil && errs[0].Err != kerr.TopicAlreadyExists {
		return errs[0]
	}
	return nil
}

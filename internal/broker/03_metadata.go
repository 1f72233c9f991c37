package broker

// Metadata: v0-13
//
// Behavior:
//   - Lists brokers, the cluster id, the controller, and the requested topics
//     (all topics when the list is null, or empty in v0).
//   - Unknown topics are created when auto.create.topics.enable is on and the
//     request allows it (always before v4), with num.partitions partitions.
//   - Topic names that cannot be topics get INVALID_TOPIC_EXCEPTION.
//
// Version notes:
//   - v10+ carries topic ids; v12+ may ask by id (name null).

import (
	"context"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/sluicehq/sluice/internal/controller"
	"github.com/sluicehq/sluice/internal/metadata"
)

func (b *Broker) handleMetadata(ctx context.Context, req *kmsg.MetadataRequest) *kmsg.MetadataResponse {
	resp := req.ResponseKind().(*kmsg.MetadataResponse)
	im := b.image()
	all := req.Topics == nil || (req.Version == 0 && len(req.Topics) == 0)
	if !all && b.cfg.AutoCreateTopics && (req.Version < 4 || req.AllowAutoTopicCreation) {
		var create []controller.CreateTopic
		for _, t := range req.Topics {
			if t.Topic == nil || im.Topics[*t.Topic] != nil || controller.ValidateTopicName(*t.Topic) != nil {
				continue
			}
			create = append(create, controller.CreateTopic{Name: *t.Topic, Partitions: -1, ReplicationFactor: -1})
		}
		if len(create) > 0 {
			if _, _, err := b.ctrl.CreateTopics(create, false); err != nil {
				b.logger.Error("auto-create topics", "err", err)
			}
			im = b.image()
		}
	}
	resp.ClusterID = &im.ClusterID
	resp.ControllerID = b.cfg.NodeID
	for _, id := range sortedIDs(im) {
		br := im.Brokers[id]
		mb := kmsg.NewMetadataResponseBroker()
		mb.NodeID = br.ID
		if ep, ok := endpointFor(br, b.cfg.Advertised.Name); ok {
			mb.Host, mb.Port = ep.Host, ep.Port
		}
		if br.Rack != "" {
			rack := br.Rack
			mb.Rack = &rack
		}
		resp.Brokers = append(resp.Brokers, mb)
	}
	if all {
		for _, name := range im.SortedTopics() {
			resp.Topics = append(resp.Topics, b.metadataTopic(im, im.Topics[name], name, req.Version))
		}
		return resp
	}
	for _, rt := range req.Topics {
		var t *metadata.Topic
		var name string
		if rt.Topic != nil {
			name = *rt.Topic
			t = im.Topics[name]
		} else {
			t = im.TopicIDs[rt.TopicID]
		}
		mt := b.metadataTopic(im, t, name, req.Version)
		if t == nil {
			mt.TopicID = rt.TopicID
			mt.ErrorCode = kerr.UnknownTopicOrPartition.Code
			if rt.Topic == nil {
				mt.ErrorCode = kerr.UnknownTopicID.Code
			} else if e := controller.ValidateTopicName(name); e != nil {
				mt.ErrorCode = kerr.InvalidTopicException.Code
			}
		}
		resp.Topics = append(resp.Topics, mt)
	}
	return resp
}

func (b *Broker) metadataTopic(im *metadata.Image, t *metadata.Topic, name string, version int16) kmsg.MetadataResponseTopic {
	mt := kmsg.NewMetadataResponseTopic()
	if t == nil {
		if name != "" {
			mt.Topic = &name
		}
		return mt
	}
	tn := t.Name
	mt.Topic = &tn
	mt.TopicID = t.ID
	mt.IsInternal = isInternal(t.Name)
	for i, p := range t.Partitions {
		mp := kmsg.NewMetadataResponseTopicPartition()
		mp.Partition = int32(i)
		mp.Leader = p.Leader
		mp.LeaderEpoch = p.LeaderEpoch
		mp.Replicas = p.Replicas
		mp.ISR = p.ISR
		mp.OfflineReplicas = []int32{}
		if p.Leader < 0 {
			mp.ErrorCode = kerr.LeaderNotAvailable.Code
		}
		mt.Partitions = append(mt.Partitions, mp)
	}
	return mt
}

func isInternal(topic string) bool {
	return topic == "__consumer_offsets" || topic == "__transaction_state"
}

func sortedIDs(im *metadata.Image) []int32 {
	ids := make([]int32, 0, len(im.Brokers))
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

func endpointFor(br *metadata.Broker, listener string) (metadata.Endpoint, bool) {
	for _, ep := range br.Endpoints {
		if ep.Name == listener {
			return ep, true
		}
	}
	if len(br.Endpoints) > 0 {
		return br.Endpoints[0], true
	}
	return metadata.Endpoint{}, false
}

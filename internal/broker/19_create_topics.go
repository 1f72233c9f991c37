package broker

// CreateTopics: v0-7
//
// Behavior:
//   - Each topic gets its own error: INVALID_TOPIC_EXCEPTION,
//     TOPIC_ALREADY_EXISTS, INVALID_PARTITIONS, INVALID_REPLICATION_FACTOR,
//     INVALID_REPLICA_ASSIGNMENT, INVALID_CONFIG, each with a message (v1+).
//   - validate_only checks everything and creates nothing.
//   - v5+ returns the topic id (v7), partition count, replication factor
//     and the resulting configs.

import (
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/sluicehq/sluice/internal/controller"
)

func (b *Broker) handleCreateTopics(req *kmsg.CreateTopicsRequest) (kmsg.Response, error) {
	resp := req.ResponseKind().(*kmsg.CreateTopicsResponse)
	topics := make([]controller.CreateTopic, len(req.Topics))
	for i, t := range req.Topics {
		ct := controller.CreateTopic{Name: t.Topic, Partitions: t.NumPartitions, ReplicationFactor: t.ReplicationFactor}
		if len(t.ReplicaAssignment) > 0 {
			ct.Assignment = map[int32][]int32{}
			for _, a := range t.ReplicaAssignment {
				ct.Assignment[a.Partition] = a.Replicas
			}
		}
		ct.Configs = map[string]string{}
		for _, c := range t.Configs {
			if c.Value != nil {
				ct.Configs[c.Name] = *c.Value
			}
		}
		topics[i] = ct
	}
	created, errs, err := b.ctrl.CreateTopics(topics, req.ValidateOnly)
	if err != nil {
		return nil, err
	}
	im := b.image()
	for i, t := range req.Topics {
		st := kmsg.NewCreateTopicsResponseTopic()
		st.Topic = t.Topic
		if e := errs[i]; e != nil {
			st.ErrorCode, st.ErrorMessage = e.Err.Code, errMsg(e.Msg)
			if e.Err == kerr.TopicAlreadyExists {
				st.ErrorMessage = errMsg("Topic '" + t.Topic + "' already exists.")
			}
			resp.Topics = append(resp.Topics, st)
			continue
		}
		st.TopicID = created[i].ID
		st.NumPartitions = created[i].Partitions
		st.ReplicationFactor = created[i].ReplicationFactor
		if req.Version >= 5 && b.configs != nil {
			for _, c := range b.configs.DescribeTopic(im, t.Topic, nil, false, false) {
				rc := kmsg.NewCreateTopicsResponseTopicConfig()
				rc.Name, rc.Value, rc.ReadOnly, rc.Source, rc.IsSensitive = c.Name, c.Value, c.ReadOnly, int8(c.Source), c.IsSensitive
				st.Configs = append(st.Configs, rc)
			}
		}
		resp.Topics = append(resp.Topics, st)
	}
	return resp, nil
}

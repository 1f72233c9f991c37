package broker

// DeleteTopics: v0-6
//
// Behavior:
//   - Deletes topics by name (or by id, v6+): the topic leaves the metadata
//     at once and its partitions' logs are closed and removed.
//   - UNKNOWN_TOPIC_OR_PARTITION / UNKNOWN_TOPIC_ID for absent topics;
//     internal topics cannot be deleted.

import (
	"github.com/google/uuid"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func (b *Broker) handleDeleteTopics(req *kmsg.DeleteTopicsRequest) (kmsg.Response, error) {
	resp := req.ResponseKind().(*kmsg.DeleteTopicsResponse)
	type target struct {
		name string
		id   uuid.UUID
	}
	var targets []target
	if req.Version >= 6 {
		for _, t := range req.Topics {
			tg := target{id: t.TopicID}
			if t.Topic != nil {
				tg.name = *t.Topic
			}
			targets = append(targets, tg)
		}
	} else {
		for _, name := range req.TopicNames {
			targets = append(targets, target{name: name})
		}
	}
	for _, tg := range targets {
		name, id, kerrOut, err := b.ctrl.DeleteTopic(tg.name, tg.id)
		if err != nil {
			return nil, err
		}
		st := kmsg.NewDeleteTopicsResponseTopic()
		if name == "" {
			name = tg.name
		}
		if name != "" {
			n := name
			st.Topic = &n
		}
		st.TopicID = id
		if kerrOut != nil {
			st.TopicID = tg.id
			st.ErrorCode, st.ErrorMessage = kerrOut.Err.Code, errMsg(kerrOut.Msg)
		}
		resp.Topics = append(resp.Topics, st)
	}
	return resp, nil
}

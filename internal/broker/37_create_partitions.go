package broker

// CreatePartitions: v0-3
//
// Behavior:
//   - Raises a topic's partition count; fewer or equal partitions get
//     INVALID_PARTITIONS with a message, absent topics
//     UNKNOWN_TOPIC_OR_PARTITION, and bad assignments
//     INVALID_REPLICA_ASSIGNMENT. validate_only changes nothing.

import "github.com/twmb/franz-go/pkg/kmsg"

func (b *Broker) handleCreatePartitions(req *kmsg.CreatePartitionsRequest) (kmsg.Response, error) {
	resp := req.ResponseKind().(*kmsg.CreatePartitionsResponse)
	for _, t := range req.Topics {
		var assignment [][]int32
		for _, a := range t.Assignment {
			assignment = append(assignment, a.Replicas)
		}
		kerrOut, err := b.ctrl.CreatePartitions(t.Topic, t.Count, assignment, req.ValidateOnly)
		if err != nil {
			return nil, err
		}
		st := kmsg.NewCreatePartitionsResponseTopic()
		st.Topic = t.Topic
		if kerrOut != nil {
			st.ErrorCode, st.ErrorMessage = kerrOut.Err.Code, errMsg(kerrOut.Msg)
		}
		resp.Topics = append(resp.Topics, st)
	}
	return resp, nil
}

package broker

// ListOffsets: v0-11
//
// Behavior:
//   - timestamp -1: latest (high watermark, or last stable offset for
//     read_committed); -2: earliest (log start offset); -3: the offset and
//     timestamp of the record with the largest timestamp (KIP-734); -4:
//     earliest local (the log start offset: Sluice keeps no tiered data);
//     otherwise the first offset whose timestamp is at least the one asked
//     for, or -1 if none.
//
// Version notes:
//   - v0 answers in OldStyleOffsets.

import (
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func (b *Broker) handleListOffsets(req *kmsg.ListOffsetsRequest) *kmsg.ListOffsetsResponse {
	resp := req.ResponseKind().(*kmsg.ListOffsetsResponse)
	for _, rt := range req.Topics {
		st := kmsg.NewListOffsetsResponseTopic()
		st.Topic = rt.Topic
		for _, rp := range rt.Partitions {
			sp := kmsg.NewListOffsetsResponseTopicPartition()
			sp.Partition = rp.Partition
			sp.Timestamp, sp.Offset = -1, -1
			p := b.replicas.Get(rt.Topic, rp.Partition)
			if p == nil {
				sp.ErrorCode = kerr.UnknownTopicOrPartition.Code
				st.Partitions = append(st.Partitions, sp)
				continue
			}
			sp.LeaderEpoch = p.LeaderEpoch()
			switch ts := rp.Timestamp; {
			case ts == -1:
				sp.Offset = p.HighWatermark()
			case ts == -2 || ts == -4:
				sp.Offset = p.Log.StartOffset()
			case ts == -3:
				sp.Offset, sp.Timestamp = p.Log.MaxTimestamp()
			case ts < 0:
				sp.ErrorCode = kerr.InvalidRequest.Code
			default:
				if off, t, ok := p.Log.OffsetForTimestamp(ts); ok && off < p.HighWatermark() {
					sp.Offset, sp.Timestamp = off, t
				}
			}
			if req.Version == 0 && sp.Offset >= 0 {
				sp.OldStyleOffsets = []int64{sp.Offset}
			}
			st.Partitions = append(st.Partitions, sp)
		}
		resp.Topics = append(resp.Topics, st)
	}
	return resp
}

package group

import (
	"context"
	"testing"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/sluicehq/sluice/internal/batch"
)

// FuzzReplayRecord: no record on __consumer_offsets, however corrupt, panics
// the loader; the seeds are records the coordinator writes.
func FuzzReplayRecord(f *testing.F) {
	store := newMemStore()
	topics := newFakeTopics(map[string]int32{"t": 3})
	c := New(testConfig(), store, topics, nil)
	if err := c.Start(context.Background()); err != nil {
		f.Fatal(err)
	}
	// A classic group, offsets, and a consumer group.
	ctx := context.Background()
	resp, _ := c.Handle(ctx, commitReq("simple", "", -1, "t", map[int32]int64{0: 1}))
	_ = resp
	j := kmsg.NewPtrJoinGroupRequest()
	j.Version = 3
	j.Group = "classic"
	j.SessionTimeoutMillis = 10000
	j.RebalanceTimeoutMillis = 10000
	j.ProtocolType = "consumer"
	j.Protocols = []kmsg.JoinGroupRequestProtocol{{Name: "range", Metadata: consumerMeta("t")}}
	jr, _ := c.Handle(ctx, j)
	s := kmsg.NewPtrSyncGroupRequest()
	s.Group = "classic"
	s.MemberID = jr.(*kmsg.JoinGroupResponse).MemberID
	s.Generation = 1
	s.GroupAssignment = []kmsg.SyncGroupRequestGroupAssignment{{MemberID: s.MemberID, MemberAssignment: []byte{1, 2}}}
	c.Handle(ctx, s)
	h := kmsg.NewPtrConsumerGroupHeartbeatRequest()
	h.Version = 1
	h.Group = "cg"
	h.MemberID = "m"
	h.SubscribedTopicNames = []string{"t"}
	h.SubscribedTopicRegex = kmsg.StringPtr("t.*")
	h.Topics = []kmsg.ConsumerGroupHeartbeatRequestTopic{}
	c.Handle(ctx, h)
	c.Close()
	for _, recs := range store.parts {
		for _, r := range recs {
			f.Add(r.Key, r.Value, r.Value == nil)
		}
	}
	f.Fuzz(func(t *testing.T, key, value []byte, tombstone bool) {
		if tombstone {
			value = nil
		}
		groups := map[string]*group{}
		c := New(testConfig(), newMemStore(), topics, nil)
		_ = c.replayRecord(groups, batch.Record{Key: key, Value: value})
		_ = c.replayRecord(groups, batch.Record{Key: key, Value: value})
		for _, g := range groups {
			g.mu.Lock()
			if g.typ == typeConsumer {
				g.finishConsumerLoadLocked()
			}
			g.stopTimerLocked()
			g.mu.Unlock()
		}
	})
}

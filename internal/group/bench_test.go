package group

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// BenchmarkRebalance10Members100Partitions: one classic rebalance of a
// 10-member group over a 100-partition topic, from the moment all members
// rejoin to every member holding its assignment (JoinGroup x10, leader
// SyncGroup with a 100-partition plan, follower SyncGroups).
func BenchmarkRebalance10Members100Partitions(b *testing.B) {
	cfg := testConfig()
	cfg.InitialRebalanceDelay = 300 * time.Millisecond // the first generation gathers all ten
	c := startCoordinator(b, cfg, newMemStore(), nil)
	const members = 10
	ids := make([]string, members)
	for i := range ids {
		r := recv(b, joinAsync(b, c, "bench", "", nil, 30*time.Second))
		ids[i] = r.MemberID
	}
	plan := func(joined []kmsg.JoinGroupResponseMember) []kmsg.SyncGroupRequestGroupAssignment {
		out := make([]kmsg.SyncGroupRequestGroupAssignment, len(joined))
		for i, m := range joined {
			a := kmsg.ConsumerMemberAssignment{Topics: []kmsg.ConsumerMemberAssignmentTopic{{Topic: "t"}}}
			for p := i; p < 100; p += len(joined) {
				a.Topics[0].Partitions = append(a.Topics[0].Partitions, int32(p))
			}
			out[i] = kmsg.SyncGroupRequestGroupAssignment{MemberID: m.MemberID, MemberAssignment: a.AppendTo(nil)}
		}
		return out
	}
	leaderID := func() string {
		g := c.lockGroup("bench", false)
		defer g.mu.Unlock()
		return g.classic.leader
	}
	state := func() string {
		g := c.lockGroup("bench", false)
		defer g.mu.Unlock()
		return g.classic.state
	}
	// A rebalance starts when the leader rejoins (as when a member joins or
	// leaves); the others learn of it and rejoin.
	rebalance := func() {
		var wg sync.WaitGroup
		leader := leaderID()
		order := ids
		if leader != "" {
			order = append([]string{leader}, slices.DeleteFunc(slices.Clone(ids), func(s string) bool { return s == leader })...)
		}
		for i, id := range order {
			if i > 0 || leader != "" {
				for leader != "" && id != leader && state() != statePreparingRebalance {
					time.Sleep(10 * time.Microsecond)
				}
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				j := recv(b, joinAsync(b, c, "bench", id, nil, 30*time.Second))
				if j.ErrorCode != 0 {
					b.Errorf("join: %d", j.ErrorCode)
					return
				}
				req := syncReq("bench", id, j.Generation, nil)
				if j.LeaderID == id {
					req.GroupAssignment = plan(j.Members)
				}
				if s := recv(b, syncAsync(b, c, req)); s.ErrorCode != 0 || len(s.MemberAssignment) == 0 {
					b.Errorf("sync: %d", s.ErrorCode)
				}
			}()
		}
		wg.Wait()
	}
	rebalance() // the first generation
	b.ResetTimer()
	for range b.N {
		rebalance()
	}
}

// BenchmarkConsumerGroupRebalance10Members100Partitions: KIP-848, the 10th
// member joins a 9-member group on 100 partitions and everyone heartbeats
// until the group is Stable again (server-side uniform assignment,
// revocation, then hand-over).
func BenchmarkConsumerGroupRebalance10Members100Partitions(b *testing.B) {
	topics := newFakeTopics(map[string]int32{"t": 100})
	for i := range b.N {
		c := New(testConfig(), newMemStore(), topics, nil)
		if err := c.Start(context.Background()); err != nil {
			b.Fatal(err)
		}
		group := fmt.Sprint("g", i)
		var ms []*simMemberB
		for j := range 9 {
			m := &simMemberB{simMember{id: fmt.Sprint("m", j), owned: assignment{}}}
			ms = append(ms, m)
			m.hb(b, c, group, "t")
		}
		for range 3 {
			for _, m := range ms {
				m.hb(b, c, group)
			}
		}
		b.StartTimer()
		start := time.Now()
		last := &simMemberB{simMember{id: "m9", owned: assignment{}}}
		ms = append(ms, last)
		last.hb(b, c, group, "t")
		for round := 0; ; round++ {
			for _, m := range ms {
				m.hb(b, c, group)
			}
			c.mu.Lock()
			g := c.mu.groups[group]
			c.mu.Unlock()
			g.mu.Lock()
			st := g.consumer.state()
			g.mu.Unlock()
			if st == stateStable {
				break
			}
			if round > 10 {
				b.Fatal("did not converge")
			}
		}
		b.ReportMetric(float64(time.Since(start).Microseconds()), "µs/rebalance")
		b.StopTimer()
		c.Close()
	}
}

type simMemberB struct{ simMember }

func (m *simMemberB) hb(b *testing.B, c *Coordinator, group string, topics ...string) {
	req := kmsg.NewPtrConsumerGroupHeartbeatRequest()
	req.Version = 1
	req.Group = group
	req.MemberID = m.id
	req.MemberEpoch = m.epoch
	req.RebalanceTimeoutMillis = 5000
	if m.epoch == 0 {
		req.SubscribedTopicNames = topics
	}
	req.Topics = []kmsg.ConsumerGroupHeartbeatRequestTopic{}
	for _, id := range m.owned.sortedIDs() {
		req.Topics = append(req.Topics, kmsg.ConsumerGroupHeartbeatRequestTopic{TopicID: id, Partitions: m.owned[id]})
	}
	resp, err := c.Handle(context.Background(), req)
	if err != nil {
		b.Fatal(err)
	}
	r := resp.(*kmsg.ConsumerGroupHeartbeatResponse)
	if r.ErrorCode != 0 {
		b.Fatalf("heartbeat: %d", r.ErrorCode)
	}
	m.epoch = r.MemberEpoch
	if r.Assignment != nil {
		m.owned = assignment{}
		for _, tp := range r.Assignment.Topics {
			for _, p := range tp.Partitions {
				m.owned.add(tp.TopicID, p)
			}
		}
	}
}

// BenchmarkOffsetCommit1000Partitions: one OffsetCommit of 1,000 partitions
// from a simple consumer (in-memory store: the coordinator's own cost).
func BenchmarkOffsetCommit1000Partitions(b *testing.B) {
	c := startCoordinator(b, testConfig(), newMemStore(), nil)
	offsets := make(map[int32]int64, 1000)
	for p := range int32(1000) {
		offsets[p] = int64(p) * 10
	}
	req := commitReq("bench", "", -1, "big-topic", offsets)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		resp, err := c.Handle(context.Background(), req)
		if err != nil {
			b.Fatal(err)
		}
		if code := resp.(*kmsg.OffsetCommitResponse).Topics[0].Partitions[999].ErrorCode; code != 0 {
			b.Fatal(code)
		}
	}
}

// BenchmarkLoad10000Groups: Start replays __consumer_offsets holding 10,000
// groups, each with group metadata and 10 committed offsets.
func BenchmarkLoad10000Groups(b *testing.B) {
	store := newMemStore()
	seed := New(testConfig(), store, nil, nil)
	if err := seed.Start(context.Background()); err != nil {
		b.Fatal(err)
	}
	for i := range 10000 {
		group := fmt.Sprintf("group-%05d", i)
		offsets := make(map[int32]int64, 10)
		for p := range int32(10) {
			offsets[p] = int64(i + int(p))
		}
		r := handle[*kmsg.OffsetCommitResponse](b, seed, commitReq(group, "", -1, "topic", offsets))
		if r.Topics[0].Partitions[0].ErrorCode != 0 {
			b.Fatal(r.Topics[0].Partitions[0].ErrorCode)
		}
		g := seed.lockGroup(group, false)
		g.classic.protocolType = "consumer"
		if err := g.writeClassicMetadataLocked(context.Background()); err != nil {
			b.Fatal(err)
		}
		g.mu.Unlock()
	}
	seed.Close()
	b.ResetTimer()
	for range b.N {
		c := New(testConfig(), store, nil, nil)
		if err := c.Start(context.Background()); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		if n := len(c.mu.groups); n != 10000 {
			b.Fatalf("loaded %d groups", n)
		}
		c.Close()
		b.StartTimer()
	}
	b.ReportMetric(float64(store.count()), "records")
}

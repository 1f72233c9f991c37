package group

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// simMember is a KIP-848 client: it owns what the last assignment said.
type simMember struct {
	id    string
	epoch int32
	owned assignment
}

func (m *simMember) heartbeat(t *testing.T, c *Coordinator, group string, report bool, topics ...string) *kmsg.ConsumerGroupHeartbeatResponse {
	t.Helper()
	req := kmsg.NewPtrConsumerGroupHeartbeatRequest()
	req.Version = 1
	req.Group = group
	req.MemberID = m.id
	req.MemberEpoch = m.epoch
	req.RebalanceTimeoutMillis = 5000
	if m.epoch == 0 {
		req.SubscribedTopicNames = topics
		req.ServerAssignor = strp("uniform")
	}
	if report || m.epoch == 0 {
		req.Topics = []kmsg.ConsumerGroupHeartbeatRequestTopic{}
		for _, id := range m.owned.sortedIDs() {
			req.Topics = append(req.Topics, kmsg.ConsumerGroupHeartbeatRequestTopic{TopicID: id, Partitions: m.owned[id]})
		}
	}
	resp := handle[*kmsg.ConsumerGroupHeartbeatResponse](t, c, req)
	if resp.ErrorCode != 0 {
		t.Fatalf("member %s heartbeat: error %d", m.id, resp.ErrorCode)
	}
	m.epoch = resp.MemberEpoch
	if resp.Assignment != nil {
		m.owned = assignment{}
		for _, tp := range resp.Assignment.Topics {
			for _, p := range tp.Partitions {
				m.owned.add(tp.TopicID, p)
			}
		}
	}
	return resp
}

// checkExclusive fails if two members own one partition.
func checkExclusive(t *testing.T, members ...*simMember) {
	t.Helper()
	seen := map[tpKey]string{}
	for _, m := range members {
		m.owned.each(func(id [16]byte, p int32) {
			if other, ok := seen[tpKey{id, p}]; ok {
				t.Fatalf("partition %d owned by %s and %s", p, other, m.id)
			}
			seen[tpKey{id, p}] = m.id
		})
	}
}

func consumerDescribe(t *testing.T, c *Coordinator, group string) kmsg.ConsumerGroupDescribeResponseGroup {
	t.Helper()
	req := kmsg.NewPtrConsumerGroupDescribeRequest()
	req.Version = 1
	req.Groups = []string{group}
	return handle[*kmsg.ConsumerGroupDescribeResponse](t, c, req).Groups[0]
}

// TestConsumerGroupRevocationBeforeReassignment: a partition moves to a new
// member only after its previous owner has stopped listing it.
func TestConsumerGroupRevocationBeforeReassignment(t *testing.T) {
	topics := newFakeTopics(map[string]int32{"t": 6})
	c := startCoordinator(t, testConfig(), newMemStore(), topics)
	a := &simMember{id: "a", owned: assignment{}}
	a.heartbeat(t, c, "g", true, "t")
	if a.owned.count() != 6 || a.epoch != 1 {
		t.Fatalf("a alone: %d partitions, epoch %d", a.owned.count(), a.epoch)
	}
	b := &simMember{id: "b", owned: assignment{}}
	b.heartbeat(t, c, "g", true, "t")
	if b.owned.count() != 0 || b.epoch != 2 {
		t.Fatalf("b while a still owns everything: %d partitions, epoch %d", b.owned.count(), b.epoch)
	}
	if d := consumerDescribe(t, c, "g"); d.State != stateReconciling || d.Epoch != 2 {
		t.Fatalf("group: %s epoch %d", d.State, d.Epoch)
	}
	// a is told to keep 3 but stays at epoch 1 until it confirms.
	aOwnedBefore := a.owned.clone()
	resp := a.heartbeat(t, c, "g", false)
	if resp.MemberEpoch != 1 || a.owned.count() != 3 {
		t.Fatalf("a revoking: epoch %d, %d partitions", resp.MemberEpoch, a.owned.count())
	}
	// b asks again: a has not confirmed, b still gets nothing.
	b.heartbeat(t, c, "g", false)
	if b.owned.count() != 0 {
		t.Fatalf("b got %v before a revoked", b.owned)
	}
	_ = aOwnedBefore
	// a confirms (its heartbeat lists only the 3 it kept): epoch 2.
	a.heartbeat(t, c, "g", true)
	if a.epoch != 2 || a.owned.count() != 3 {
		t.Fatalf("a after revoking: epoch %d, %d partitions", a.epoch, a.owned.count())
	}
	b.heartbeat(t, c, "g", true)
	if b.owned.count() != 3 {
		t.Fatalf("b after a revoked: %v", b.owned)
	}
	checkExclusive(t, a, b)
	if d := consumerDescribe(t, c, "g"); d.State != stateStable || len(d.Members) != 2 || d.AssignorName != "uniform" {
		t.Fatalf("group: %+v", d)
	}
}

// TestConsumerGroupThreeMembers: three members join one by one, then leave,
// heartbeating like clients; no partition ever has two owners, and each
// phase converges to a balanced assignment.
func TestConsumerGroupThreeMembers(t *testing.T) {
	topics := newFakeTopics(map[string]int32{"t": 7, "u": 2})
	c := startCoordinator(t, testConfig(), newMemStore(), topics)
	var members []*simMember
	converge := func(want ...int) {
		t.Helper()
		for range 20 {
			for _, m := range members {
				m.heartbeat(t, c, "g", true)
				checkExclusive(t, members...)
			}
			d := consumerDescribe(t, c, "g")
			if d.State != stateStable {
				continue
			}
			ok := true
			for i, m := range members {
				if m.owned.count() != want[i] {
					ok = false
				}
			}
			if ok {
				return
			}
		}
		for _, m := range members {
			t.Logf("%s: %v", m.id, m.owned)
		}
		t.Fatalf("did not converge to %v", want)
	}
	for i, id := range []string{"m1", "m2", "m3"} {
		m := &simMember{id: id, owned: assignment{}}
		m.heartbeat(t, c, "g", true, "t", "u")
		checkExclusive(t, append(members, m)...)
		members = append(members, m)
		switch i {
		case 0:
			converge(9)
		case 1:
			converge(5, 4) // uniform: 9 over 2
		case 2:
			converge(3, 3, 3)
		}
	}
	epoch := consumerDescribe(t, c, "g").Epoch
	if epoch != 3 {
		t.Fatalf("group epoch %d after three joins", epoch)
	}
	// m1 leaves with epoch -1.
	leave := kmsg.NewPtrConsumerGroupHeartbeatRequest()
	leave.Version = 1
	leave.Group = "g"
	leave.MemberID = "m1"
	leave.MemberEpoch = -1
	if r := handle[*kmsg.ConsumerGroupHeartbeatResponse](t, c, leave); r.ErrorCode != 0 || r.MemberEpoch != -1 {
		t.Fatalf("leave: %+v", r)
	}
	members = members[1:]
	converge(5, 4)
	// m2 stops heartbeating: its session expires and m3 takes everything.
	m3 := members[1]
	members = members[1:]
	eventually(t, 5*time.Second, func() error {
		m3.heartbeat(t, c, "g", true)
		if m3.owned.count() != 9 {
			return fmt.Errorf("m3 owns %d", m3.owned.count())
		}
		return nil
	})
	// Unknown member and fenced epochs.
	stranger := &simMember{id: "m3", epoch: m3.epoch + 5}
	req := kmsg.NewPtrConsumerGroupHeartbeatRequest()
	req.Version = 1
	req.Group = "g"
	req.MemberID = stranger.id
	req.MemberEpoch = stranger.epoch
	if r := handle[*kmsg.ConsumerGroupHeartbeatResponse](t, c, req); r.ErrorCode != kerr.FencedMemberEpoch.Code {
		t.Fatalf("future epoch: %d", r.ErrorCode)
	}
	req.MemberID = "nobody"
	if r := handle[*kmsg.ConsumerGroupHeartbeatResponse](t, c, req); r.ErrorCode != kerr.UnknownMemberID.Code {
		t.Fatalf("unknown member: %d", r.ErrorCode)
	}
	// A classic JoinGroup cannot join this group; DescribeGroups says so.
	if r := recv(t, joinAsync(t, c, "g", "", nil, time.Second)); r.ErrorCode != kerr.InconsistentGroupProtocol.Code {
		t.Fatalf("classic join of a consumer group: %d", r.ErrorCode)
	}
	dg := kmsg.NewPtrDescribeGroupsRequest()
	dg.Version = 6
	dg.Groups = []string{"g"}
	if r := handle[*kmsg.DescribeGroupsResponse](t, c, dg); r.Groups[0].ErrorCode != kerr.GroupIDNotFound.Code {
		t.Fatalf("describe classic of consumer group: %+v", r.Groups[0])
	}
	lg := kmsg.NewPtrListGroupsRequest()
	lg.Version = 5
	lg.TypesFilter = []string{"consumer"}
	if r := handle[*kmsg.ListGroupsResponse](t, c, lg); len(r.Groups) != 1 || r.Groups[0].GroupType != "consumer" {
		t.Fatalf("list consumer groups: %+v", r.Groups)
	}
}

// TestConsumerGroupOffsetCommit: commits carry the member epoch.
func TestConsumerGroupOffsetCommit(t *testing.T) {
	topics := newFakeTopics(map[string]int32{"t": 2})
	store := newMemStore()
	c := startCoordinator(t, testConfig(), store, topics)
	m := &simMember{id: "m", owned: assignment{}}
	m.heartbeat(t, c, "g", true, "t")
	commit := func(epoch int32) int16 {
		req := commitReq("g", "m", epoch, "t", map[int32]int64{0: 5})
		req.Version = 9
		return handle[*kmsg.OffsetCommitResponse](t, c, req).Topics[0].Partitions[0].ErrorCode
	}
	before := store.count()
	if code := commit(m.epoch + 1); code != kerr.FencedMemberEpoch.Code {
		t.Fatalf("commit with a future epoch: %d", code)
	}
	if store.count() != before {
		t.Fatal("a fenced commit wrote records")
	}
	if code := commit(m.epoch); code != 0 {
		t.Fatalf("commit: %d", code)
	}
	if got := fetched(t, handle[*kmsg.OffsetFetchResponse](t, c, fetchReq("g", "t", 0))); got[0] != 5 {
		t.Fatalf("fetched %v", got)
	}
}

func TestStaticConsumerMemberRejoin(t *testing.T) {
	topics := newFakeTopics(map[string]int32{"t": 4})
	c := startCoordinator(t, testConfig(), newMemStore(), topics)
	inst := "i1"
	hb := func(id string, epoch int32) *kmsg.ConsumerGroupHeartbeatResponse {
		req := kmsg.NewPtrConsumerGroupHeartbeatRequest()
		req.Version = 1
		req.Group = "g"
		req.MemberID = id
		req.MemberEpoch = epoch
		req.InstanceID = &inst
		req.RebalanceTimeoutMillis = 1000
		req.SubscribedTopicNames = []string{"t"}
		req.Topics = []kmsg.ConsumerGroupHeartbeatRequestTopic{}
		return handle[*kmsg.ConsumerGroupHeartbeatResponse](t, c, req)
	}
	r := hb("first", 0)
	if r.ErrorCode != 0 || len(r.Assignment.Topics[0].Partitions) != 4 {
		t.Fatalf("static join: %+v", r)
	}
	epoch := r.MemberEpoch
	if r := hb("second", 0); r.ErrorCode != kerr.UnreleasedInstanceID.Code {
		t.Fatalf("second incarnation while the first is active: %d", r.ErrorCode)
	}
	if r := hb("first", -2); r.ErrorCode != 0 || r.MemberEpoch != -2 {
		t.Fatalf("static leave: %+v", r)
	}
	r = hb("second", 0)
	if r.ErrorCode != 0 || r.MemberEpoch != epoch || len(r.Assignment.Topics[0].Partitions) != 4 {
		t.Fatalf("static rejoin: %+v (epoch before %d)", r, epoch)
	}
	if d := consumerDescribe(t, c, "g"); d.Epoch != epoch || len(d.Members) != 1 || d.Members[0].MemberID != "second" {
		t.Fatalf("group after static rejoin: %+v", d)
	}
}

func TestAssignors(t *testing.T) {
	t1, t2 := [16]byte{1}, [16]byte{2}
	parts := map[[16]byte]int32{t1: 5, t2: 3}
	members := []assignMember{{id: "a", topics: [][16]byte{t1, t2}}, {id: "b", topics: [][16]byte{t1, t2}}, {id: "c", topics: [][16]byte{t1}}}
	for name, fn := range map[string]assignor{"uniform": uniformAssign, "range": rangeAssign} {
		out := fn(members, parts)
		total := 0
		seen := map[tpKey]bool{}
		for _, a := range out {
			a.each(func(id [16]byte, p int32) {
				if seen[tpKey{id, p}] {
					t.Fatalf("%s: %v assigned twice", name, tpKey{id, p})
				}
				seen[tpKey{id, p}] = true
			})
			total += a.count()
		}
		if total != 8 {
			t.Fatalf("%s: %d partitions assigned, want 8", name, total)
		}
		if out["c"].has(t2, 0) || out["c"].has(t2, 1) || out["c"].has(t2, 2) {
			t.Fatalf("%s: c got a topic it does not subscribe to", name)
		}
		if name == "uniform" {
			for id, a := range out {
				if n := a.count(); n < 2 || n > 3 {
					t.Fatalf("uniform: %s has %d", id, n)
				}
			}
			// Sticky: the same input again changes nothing.
			for i := range members {
				members[i].previous = out[members[i].id]
			}
			again := fn(members, parts)
			for id := range out {
				if !again[id].equal(out[id]) {
					t.Fatalf("uniform is not sticky for %s: %v then %v", id, out[id], again[id])
				}
			}
			for i := range members {
				members[i].previous = nil
			}
		}
	}
}

// TestConsumerGroupReload: a KIP-848 group written to the store comes back
// after a restart; members carry on with their epochs and assignments.
func TestConsumerGroupReload(t *testing.T) {
	topics := newFakeTopics(map[string]int32{"t": 6})
	store := newMemStore()
	c := New(testConfig(), store, topics, nil)
	if err := c.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	ms := []*simMember{{id: "a", owned: assignment{}}, {id: "b", owned: assignment{}}, {id: "c", owned: assignment{}}}
	for _, m := range ms {
		m.heartbeat(t, c, "g", true, "t")
	}
	for range 3 {
		for _, m := range ms {
			m.heartbeat(t, c, "g", true)
		}
	}
	before := consumerDescribe(t, c, "g")
	if before.State != stateStable {
		t.Fatalf("state %s", before.State)
	}
	// b is mid-revocation when the coordinator stops: d joins.
	d := &simMember{id: "d", owned: assignment{}}
	d.heartbeat(t, c, "g", true, "t")
	ms[0].heartbeat(t, c, "g", false)
	c.Close()

	c2 := startCoordinator(t, testConfig(), store, topics)
	after := consumerDescribe(t, c2, "g")
	if after.Epoch != before.Epoch+1 || len(after.Members) != 4 {
		t.Fatalf("after reload: epoch %d (before %d), %d members", after.Epoch, before.Epoch, len(after.Members))
	}
	for i, m := range after.Members {
		if i < 3 && m.MemberID != ms[i].id {
			t.Fatalf("member %d: %s", i, m.MemberID)
		}
	}
	ms = append(ms, d)
	for range 4 {
		for _, m := range ms {
			m.heartbeat(t, c2, "g", true)
			checkExclusive(t, ms...)
		}
	}
	final := consumerDescribe(t, c2, "g")
	if final.State != stateStable {
		t.Fatalf("after reload and heartbeats: %s", final.State)
	}
	total := 0
	for _, m := range ms {
		total += m.owned.count()
	}
	if total != 6 {
		t.Fatalf("%d partitions owned in total", total)
	}
	// Everyone leaves; the empty group is deleted, and stays deleted.
	for _, m := range ms {
		req := kmsg.NewPtrConsumerGroupHeartbeatRequest()
		req.Version = 1
		req.Group = "g"
		req.MemberID = m.id
		req.MemberEpoch = -1
		handle[*kmsg.ConsumerGroupHeartbeatResponse](t, c2, req)
	}
	dg := kmsg.NewPtrDeleteGroupsRequest()
	dg.Groups = []string{"g"}
	if r := handle[*kmsg.DeleteGroupsResponse](t, c2, dg); r.Groups[0].ErrorCode != 0 {
		t.Fatalf("delete: %d", r.Groups[0].ErrorCode)
	}
	c2.Close()
	c3 := startCoordinator(t, testConfig(), store, topics)
	if g := consumerDescribe(t, c3, "g"); g.ErrorCode != kerr.GroupIDNotFound.Code {
		t.Fatalf("deleted group after reload: %+v", g)
	}
}

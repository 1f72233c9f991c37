package group

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// stableGroup brings two dynamic members to Stable and returns their ids
// (leader first) and the generation.
func stableGroup(t *testing.T, c *Coordinator, group string) (leader, follower string, gen int32) {
	t.Helper()
	const session = 5 * time.Second
	a, aCh := joinNew(t, c, group, session)
	ja := recv(t, aCh)
	if ja.ErrorCode != 0 || ja.LeaderID != a || len(ja.Members) != 1 {
		t.Fatalf("first member join: %+v", ja)
	}
	sa := recv(t, syncAsync(t, c, syncReq(group, a, ja.Generation, map[string]string{a: "all"})))
	if sa.ErrorCode != 0 || string(sa.MemberAssignment) != "all" {
		t.Fatalf("leader sync alone: %+v", sa)
	}
	if st := describe(t, c, group).State; st != stateStable {
		t.Fatalf("state %s, want Stable", st)
	}

	// A second member joins: the leader learns of it from its heartbeat.
	b, bCh := joinNew(t, c, group, session)
	eventually(t, time.Second, func() error {
		if st := describe(t, c, group).State; st != statePreparingRebalance {
			return fmt.Errorf("state %s, want PreparingRebalance", st)
		}
		return nil
	})
	hb := handle[*kmsg.HeartbeatResponse](t, c, heartbeatReq(group, a, ja.Generation, nil))
	if hb.ErrorCode != kerr.RebalanceInProgress.Code {
		t.Fatalf("heartbeat during rebalance: %d, want REBALANCE_IN_PROGRESS", hb.ErrorCode)
	}
	if st := describe(t, c, group).State; st != statePreparingRebalance {
		t.Fatalf("state %s, want PreparingRebalance", st)
	}
	aCh = joinAsync(t, c, group, a, nil, session)
	ja, jb := recv(t, aCh), recv(t, bCh)
	if ja.ErrorCode != 0 || jb.ErrorCode != 0 {
		t.Fatalf("rejoin errors %d %d", ja.ErrorCode, jb.ErrorCode)
	}
	if ja.Generation != jb.Generation || ja.Generation != 2 {
		t.Fatalf("generations %d %d, want 2", ja.Generation, jb.Generation)
	}
	if ja.LeaderID != a || jb.LeaderID != a || len(ja.Members) != 2 || len(jb.Members) != 0 {
		t.Fatalf("leader %s/%s members %d/%d", ja.LeaderID, jb.LeaderID, len(ja.Members), len(jb.Members))
	}
	if *ja.Protocol != "range" {
		t.Fatalf("protocol %q, want range", *ja.Protocol)
	}
	if st := describe(t, c, group).State; st != stateCompletingRebalance {
		t.Fatalf("state %s, want CompletingRebalance", st)
	}
	// The follower syncs first and waits for the leader.
	sbCh := syncAsync(t, c, syncReq(group, b, jb.Generation, nil))
	sa = recv(t, syncAsync(t, c, syncReq(group, a, ja.Generation, map[string]string{a: "p0", b: "p1"})))
	sb := recv(t, sbCh)
	if string(sa.MemberAssignment) != "p0" || string(sb.MemberAssignment) != "p1" {
		t.Fatalf("assignments %q %q", sa.MemberAssignment, sb.MemberAssignment)
	}
	for _, m := range []string{a, b} {
		if hb := handle[*kmsg.HeartbeatResponse](t, c, heartbeatReq(group, m, ja.Generation, nil)); hb.ErrorCode != 0 {
			t.Fatalf("heartbeat %s: %d", m, hb.ErrorCode)
		}
	}
	return a, b, ja.Generation
}

func TestJoinSyncHeartbeatTwoMembers(t *testing.T) {
	store := newMemStore()
	c := startCoordinator(t, testConfig(), store, nil)
	a, b, gen := stableGroup(t, c, "g")
	d := describe(t, c, "g")
	if d.State != stateStable || d.Protocol != "range" || len(d.Members) != 2 || string(d.Members[1].MemberAssignment) != "p1" {
		t.Fatalf("describe: %+v", d)
	}
	if d.Members[0].ClientID != "cl" || d.Members[0].ClientHost != "/127.0.0.1" {
		t.Fatalf("client info: %+v", d.Members[0])
	}
	// A stale generation heartbeat.
	if hb := handle[*kmsg.HeartbeatResponse](t, c, heartbeatReq("g", a, gen-1, nil)); hb.ErrorCode != kerr.IllegalGeneration.Code {
		t.Fatalf("stale heartbeat: %d", hb.ErrorCode)
	}
	// b leaves (batched LeaveGroup v3+): a rebalance, a gets everything.
	leave := kmsg.NewPtrLeaveGroupRequest()
	leave.Version = 5
	leave.Group = "g"
	leave.Members = []kmsg.LeaveGroupRequestMember{{MemberID: b}, {MemberID: "nobody"}}
	lr := handle[*kmsg.LeaveGroupResponse](t, c, leave)
	if lr.ErrorCode != 0 || lr.Members[0].ErrorCode != 0 || lr.Members[1].ErrorCode != kerr.UnknownMemberID.Code {
		t.Fatalf("leave: %+v", lr)
	}
	ja := recv(t, joinAsync(t, c, "g", a, nil, 5*time.Second))
	if ja.ErrorCode != 0 || ja.Generation != gen+1 || len(ja.Members) != 1 {
		t.Fatalf("rejoin after leave: %+v", ja)
	}
	// Describe lists it; ListGroups with a states filter (v4+).
	lg := kmsg.NewPtrListGroupsRequest()
	lg.Version = 5
	lg.StatesFilter = []string{"completingrebalance"}
	lresp := handle[*kmsg.ListGroupsResponse](t, c, lg)
	if len(lresp.Groups) != 1 || lresp.Groups[0].GroupType != "classic" || lresp.Groups[0].ProtocolType != "consumer" {
		t.Fatalf("list groups: %+v", lresp.Groups)
	}
	lg.StatesFilter = []string{"Stable"}
	if lresp := handle[*kmsg.ListGroupsResponse](t, c, lg); len(lresp.Groups) != 0 {
		t.Fatalf("list Stable groups: %+v", lresp.Groups)
	}
	// Not empty: DeleteGroups refuses.
	dg := kmsg.NewPtrDeleteGroupsRequest()
	dg.Version = 2
	dg.Groups = []string{"g", "missing"}
	dr := handle[*kmsg.DeleteGroupsResponse](t, c, dg)
	if dr.Groups[0].ErrorCode != kerr.NonEmptyGroup.Code || dr.Groups[1].ErrorCode != kerr.GroupIDNotFound.Code {
		t.Fatalf("delete groups: %+v", dr.Groups)
	}
}

func TestMemberIDRequired(t *testing.T) {
	c := startCoordinator(t, testConfig(), newMemStore(), nil)
	r := recv(t, joinAsync(t, c, "g", "", nil, time.Second))
	if r.ErrorCode != kerr.MemberIDRequired.Code || r.MemberID == "" {
		t.Fatalf("join v9 without member id: %+v", r)
	}
	// Before v4 the member is admitted directly.
	req := kmsg.NewPtrJoinGroupRequest()
	req.Version = 3
	req.Group = "g3"
	req.SessionTimeoutMillis = 1000
	req.RebalanceTimeoutMillis = 1000
	req.ProtocolType = "consumer"
	req.Protocols = []kmsg.JoinGroupRequestProtocol{{Name: "range"}}
	resp := handle[*kmsg.JoinGroupResponse](t, c, req)
	if resp.ErrorCode != 0 || resp.MemberID == "" || resp.LeaderID != resp.MemberID || resp.Generation != 1 {
		t.Fatalf("join v3: %+v", resp)
	}
	// The pending member id expires after its session timeout.
	pending := recv(t, joinAsync(t, c, "g2", "", nil, 50*time.Millisecond))
	time.Sleep(150 * time.Millisecond)
	if late := recv(t, joinAsync(t, c, "g2", pending.MemberID, nil, 50*time.Millisecond)); late.ErrorCode != kerr.UnknownMemberID.Code {
		t.Fatalf("join with expired pending id: %d", late.ErrorCode)
	}
}

func TestCommitRejectedWritesNothing(t *testing.T) {
	store := newMemStore()
	c := startCoordinator(t, testConfig(), store, nil)
	a, _, gen := stableGroup(t, c, "g")
	before := store.count()
	for _, tc := range []struct {
		member string
		gen    int32
		want   int16
	}{
		{a, gen - 1, kerr.IllegalGeneration.Code},
		{a, gen + 1, kerr.IllegalGeneration.Code},
		{"stranger", gen, kerr.UnknownMemberID.Code},
		{"", -1, kerr.UnknownMemberID.Code}, // a simple commit into a non-empty group
	} {
		resp := handle[*kmsg.OffsetCommitResponse](t, c, commitReq("g", tc.member, tc.gen, "t", map[int32]int64{0: 10, 1: 20}))
		for _, p := range resp.Topics[0].Partitions {
			if p.ErrorCode != tc.want {
				t.Errorf("commit member=%q gen=%d: error %d, want %d", tc.member, tc.gen, p.ErrorCode, tc.want)
			}
		}
	}
	if n := store.count(); n != before {
		t.Fatalf("rejected commits wrote %d records", n-before)
	}
	if got := fetched(t, handle[*kmsg.OffsetFetchResponse](t, c, fetchReq("g", "t", 0, 1))); got[0] != -1 || got[1] != -1 {
		t.Fatalf("offsets after rejected commits: %v", got)
	}
	resp := handle[*kmsg.OffsetCommitResponse](t, c, commitReq("g", a, gen, "t", map[int32]int64{0: 10, 1: 20}))
	if resp.Topics[0].Partitions[0].ErrorCode != 0 || store.count() != before+2 {
		t.Fatalf("valid commit: %+v, records %d", resp.Topics, store.count()-before)
	}
	if got := fetched(t, handle[*kmsg.OffsetFetchResponse](t, c, fetchReq("g", "t", 0, 1))); got[0] != 10 || got[1] != 20 {
		t.Fatalf("offsets: %v", got)
	}
}

func TestOffsetFetchNothingCommitted(t *testing.T) {
	c := startCoordinator(t, testConfig(), newMemStore(), nil)
	// A group that does not exist, a partition never committed: -1, no error.
	resp := handle[*kmsg.OffsetFetchResponse](t, c, fetchReq("nobody", "t", 0, 5))
	p := resp.Groups[0].Topics[0].Partitions
	if resp.Groups[0].ErrorCode != 0 || len(p) != 2 || p[0].Offset != -1 || p[0].ErrorCode != 0 || p[0].LeaderEpoch != -1 {
		t.Fatalf("fetch from missing group: %+v", resp.Groups)
	}
	// v1 (single group, sarama's shape) too.
	req := kmsg.NewPtrOffsetFetchRequest()
	req.Version = 1
	req.Group = "nobody"
	req.Topics = []kmsg.OffsetFetchRequestTopic{{Topic: "t", Partitions: []int32{0}}}
	r1 := handle[*kmsg.OffsetFetchResponse](t, c, req)
	if r1.Topics[0].Partitions[0].Offset != -1 || r1.Topics[0].Partitions[0].ErrorCode != 0 {
		t.Fatalf("v1 fetch: %+v", r1.Topics)
	}
	// A simple commit (generation -1) from outside any group is accepted.
	cr := handle[*kmsg.OffsetCommitResponse](t, c, commitReq("simple", "", -1, "t", map[int32]int64{3: 7}))
	if cr.Topics[0].Partitions[0].ErrorCode != 0 {
		t.Fatalf("simple commit: %+v", cr.Topics)
	}
	all := handle[*kmsg.OffsetFetchResponse](t, c, fetchReq("simple", ""))
	if got := fetched(t, all); got[3] != 7 || len(got) != 1 || *all.Groups[0].Topics[0].Partitions[0].Metadata != "md" {
		t.Fatalf("fetch all: %+v", all.Groups)
	}
	if all.Groups[0].Topics[0].Partitions[0].LeaderEpoch != 3 {
		t.Fatalf("leader epoch not kept: %+v", all.Groups[0].Topics[0].Partitions[0])
	}
	// A commit with a generation to a group that does not exist.
	cr = handle[*kmsg.OffsetCommitResponse](t, c, commitReq("ghost", "m", 3, "t", map[int32]int64{0: 1}))
	if cr.Topics[0].Partitions[0].ErrorCode != kerr.IllegalGeneration.Code {
		t.Fatalf("commit to missing group v8: %d", cr.Topics[0].Partitions[0].ErrorCode)
	}
	// OffsetDelete, then the empty group can be deleted.
	od := kmsg.NewPtrOffsetDeleteRequest()
	od.Group = "simple"
	od.Topics = []kmsg.OffsetDeleteRequestTopic{{Topic: "t", Partitions: []kmsg.OffsetDeleteRequestTopicPartition{{Partition: 3}}}}
	if r := handle[*kmsg.OffsetDeleteResponse](t, c, od); r.ErrorCode != 0 || r.Topics[0].Partitions[0].ErrorCode != 0 {
		t.Fatalf("offset delete: %+v", r)
	}
	if got := fetched(t, handle[*kmsg.OffsetFetchResponse](t, c, fetchReq("simple", "t", 3))); got[3] != -1 {
		t.Fatalf("after delete: %v", got)
	}
}

func TestOffsetDeleteSubscribedTopic(t *testing.T) {
	c := startCoordinator(t, testConfig(), newMemStore(), nil)
	a, _, gen := stableGroup(t, c, "g")
	handle[*kmsg.OffsetCommitResponse](t, c, commitReq("g", a, gen, "t", map[int32]int64{0: 1}))
	handle[*kmsg.OffsetCommitResponse](t, c, commitReq("g", a, gen, "other", map[int32]int64{0: 1}))
	od := kmsg.NewPtrOffsetDeleteRequest()
	od.Group = "g"
	od.Topics = []kmsg.OffsetDeleteRequestTopic{
		{Topic: "t", Partitions: []kmsg.OffsetDeleteRequestTopicPartition{{Partition: 0}}},
		{Topic: "other", Partitions: []kmsg.OffsetDeleteRequestTopicPartition{{Partition: 0}}},
	}
	r := handle[*kmsg.OffsetDeleteResponse](t, c, od)
	if r.Topics[0].Partitions[0].ErrorCode != kerr.GroupSubscribedToTopic.Code || r.Topics[1].Partitions[0].ErrorCode != 0 {
		t.Fatalf("offset delete: %+v", r.Topics)
	}
}

func TestStaticMemberRejoinWithoutRebalance(t *testing.T) {
	store := newMemStore()
	c := startCoordinator(t, testConfig(), store, nil)
	ia, ib := "instance-a", "instance-b"
	const session = 5 * time.Second
	// Static members get their id at once (no MEMBER_ID_REQUIRED).
	ja := recv(t, joinAsync(t, c, "g", "", &ia, session))
	if ja.ErrorCode != 0 {
		t.Fatalf("static join: %+v", ja)
	}
	recv(t, syncAsync(t, c, syncReq("g", ja.MemberID, ja.Generation, map[string]string{ja.MemberID: "x"})))
	jbCh := joinAsync(t, c, "g", "", &ib, session)
	eventually(t, time.Second, func() error {
		if st := describe(t, c, "g").State; st != statePreparingRebalance {
			return fmt.Errorf("state %s, want PreparingRebalance", st)
		}
		return nil
	})
	ja = recv(t, joinAsync(t, c, "g", ja.MemberID, &ia, session))
	jb := recv(t, jbCh)
	sbCh := syncAsync(t, c, syncReq("g", jb.MemberID, jb.Generation, nil))
	recv(t, syncAsync(t, c, syncReq("g", ja.MemberID, ja.Generation, map[string]string{ja.MemberID: "a", jb.MemberID: "b"})))
	recv(t, sbCh)
	gen := ja.Generation

	// b restarts: same instance id, no member id. No rebalance.
	jb2 := recv(t, joinAsync(t, c, "g", "", &ib, session))
	if jb2.ErrorCode != 0 || jb2.Generation != gen || jb2.MemberID == jb.MemberID || jb2.LeaderID != ja.MemberID {
		t.Fatalf("static rejoin: %+v (gen %d)", jb2, gen)
	}
	if st := describe(t, c, "g").State; st != stateStable {
		t.Fatalf("state after static rejoin: %s", st)
	}
	sb := recv(t, syncAsync(t, c, syncReq("g", jb2.MemberID, gen, nil)))
	if string(sb.MemberAssignment) != "b" {
		t.Fatalf("static member's assignment after rejoin: %q", sb.MemberAssignment)
	}
	if hb := handle[*kmsg.HeartbeatResponse](t, c, heartbeatReq("g", ja.MemberID, gen, &ia)); hb.ErrorCode != 0 {
		t.Fatalf("leader heartbeat: %d", hb.ErrorCode)
	}
	// The old incarnation is fenced.
	if hb := handle[*kmsg.HeartbeatResponse](t, c, heartbeatReq("g", jb.MemberID, gen, &ib)); hb.ErrorCode != kerr.FencedInstanceID.Code {
		t.Fatalf("old static member heartbeat: %d, want FENCED_INSTANCE_ID", hb.ErrorCode)
	}
}

func TestSessionExpiry(t *testing.T) {
	c := startCoordinator(t, testConfig(), newMemStore(), nil)
	const session = 300 * time.Millisecond
	a, aCh := joinNew(t, c, "g", session)
	ja := recv(t, aCh)
	recv(t, syncAsync(t, c, syncReq("g", a, ja.Generation, nil)))
	b, bCh := joinNew(t, c, "g", session)
	ja = recv(t, joinAsync(t, c, "g", a, nil, session))
	jb := recv(t, bCh)
	sbCh := syncAsync(t, c, syncReq("g", b, jb.Generation, nil))
	recv(t, syncAsync(t, c, syncReq("g", a, ja.Generation, nil)))
	recv(t, sbCh)

	// Only a heartbeats; b's session runs out and a is told to rejoin.
	eventually(t, 3*time.Second, func() error {
		hb := handle[*kmsg.HeartbeatResponse](t, c, heartbeatReq("g", a, ja.Generation, nil))
		if hb.ErrorCode != kerr.RebalanceInProgress.Code {
			return fmt.Errorf("heartbeat error %d, want REBALANCE_IN_PROGRESS", hb.ErrorCode)
		}
		return nil
	})
	j := recv(t, joinAsync(t, c, "g", a, nil, session))
	if j.ErrorCode != 0 || len(j.Members) != 1 || j.Generation != ja.Generation+1 {
		t.Fatalf("rejoin after expiry: %+v", j)
	}
	if hb := handle[*kmsg.HeartbeatResponse](t, c, heartbeatReq("g", b, jb.Generation, nil)); hb.ErrorCode != kerr.UnknownMemberID.Code {
		t.Fatalf("expired member heartbeat: %d", hb.ErrorCode)
	}
	// Everyone gone: the group ends Empty with a new generation.
	time.Sleep(2 * session)
	eventually(t, 3*time.Second, func() error {
		if st := describe(t, c, "g").State; st != stateEmpty {
			return fmt.Errorf("state %s, want Empty", st)
		}
		return nil
	})
}

func TestInitialRebalanceDelay(t *testing.T) {
	cfg := testConfig()
	cfg.InitialRebalanceDelay = 200 * time.Millisecond
	c := startCoordinator(t, cfg, newMemStore(), nil)
	start := time.Now()
	_, aCh := joinNew(t, c, "g", time.Second)
	_, bCh := joinNew(t, c, "g", time.Second)
	ja, jb := recv(t, aCh), recv(t, bCh)
	if ja.Generation != 1 || jb.Generation != 1 {
		t.Fatalf("both members should be in the first generation: %d %d", ja.Generation, jb.Generation)
	}
	if d := time.Since(start); d < 200*time.Millisecond {
		t.Fatalf("join completed after %v, before the initial delay", d)
	}
}

func TestGroupMaxSize(t *testing.T) {
	cfg := testConfig()
	cfg.MaxSize = 1
	c := startCoordinator(t, cfg, newMemStore(), nil)
	_, aCh := joinNew(t, c, "g", time.Second)
	recv(t, aCh)
	if r := recv(t, joinAsync(t, c, "g", "", nil, time.Second)); r.ErrorCode != kerr.GroupMaxSizeReached.Code {
		t.Fatalf("join of a full group: %d", r.ErrorCode)
	}
}

func TestReloadFromStore(t *testing.T) {
	store := newMemStore()
	topics := newFakeTopics(map[string]int32{"t": 4})
	c := New(testConfig(), store, topics, nil)
	if err := c.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	a, b, gen := stableGroup(t, c, "g")
	handle[*kmsg.OffsetCommitResponse](t, c, commitReq("g", a, gen, "t", map[int32]int64{0: 100, 1: 101}))
	handle[*kmsg.OffsetCommitResponse](t, c, commitReq("g", b, gen, "t", map[int32]int64{2: 102, 1: 111}))
	handle[*kmsg.OffsetCommitResponse](t, c, commitReq("simple", "", -1, "t", map[int32]int64{3: 5}))
	handle[*kmsg.OffsetCommitResponse](t, c, commitReq("gone", "", -1, "t", map[int32]int64{3: 5}))
	dg := kmsg.NewPtrDeleteGroupsRequest()
	dg.Groups = []string{"gone"}
	if r := handle[*kmsg.DeleteGroupsResponse](t, c, dg); r.Groups[0].ErrorCode != 0 {
		t.Fatalf("delete: %+v", r.Groups)
	}
	c.Close()

	c2 := startCoordinator(t, testConfig(), store, topics)
	if got := fetched(t, handle[*kmsg.OffsetFetchResponse](t, c2, fetchReq("g", "t", 0, 1, 2, 3))); got[0] != 100 || got[1] != 111 || got[2] != 102 || got[3] != -1 {
		t.Fatalf("offsets after reload: %v", got)
	}
	if got := fetched(t, handle[*kmsg.OffsetFetchResponse](t, c2, fetchReq("simple", "t", 3))); got[3] != 5 {
		t.Fatalf("simple group after reload: %v", got)
	}
	d := describe(t, c2, "g")
	if d.State != stateStable || len(d.Members) != 2 || d.Members[0].MemberID != a || string(d.Members[1].MemberAssignment) != "p1" {
		t.Fatalf("group after reload: %+v", d)
	}
	// Members carry on with their generation after the restart.
	if hb := handle[*kmsg.HeartbeatResponse](t, c2, heartbeatReq("g", b, gen, nil)); hb.ErrorCode != 0 {
		t.Fatalf("heartbeat after reload: %d", hb.ErrorCode)
	}
	lg := kmsg.NewPtrListGroupsRequest()
	lg.Version = 5
	names := map[string]string{}
	for _, g := range handle[*kmsg.ListGroupsResponse](t, c2, lg).Groups {
		names[g.Group] = g.GroupState
	}
	if len(names) != 2 || names["g"] != stateStable || names["simple"] != stateEmpty {
		t.Fatalf("groups after reload: %v", names)
	}
}

func TestPartitionFor(t *testing.T) {
	// Values from Java: Math.abs("...".hashCode()) % 50 with Utils.abs.
	for _, tc := range []struct {
		group string
		want  int32
	}{
		{"", 0},
		{"a", 97 % 50},
		{"my-group", int32((javaHash("my-group") & 0x7fffffff) % 50)},
		{"polygenelubricants", int32((javaHash("polygenelubricants") & 0x7fffffff) % 50)}, // hashCode is Integer.MIN_VALUE
	} {
		if got := PartitionFor(tc.group, 50); got != tc.want {
			t.Errorf("PartitionFor(%q) = %d, want %d", tc.group, got, tc.want)
		}
	}
	if javaHash("polygenelubricants") != -2147483648 {
		t.Fatalf("hash of polygenelubricants: %d", javaHash("polygenelubricants"))
	}
	if PartitionFor("polygenelubricants", 50) != 0 {
		t.Fatal("Utils.abs(MIN_VALUE) is 0")
	}
}

func javaHash(s string) int64 { return int64(javaStringHashCode(s)) }

func TestOffsetExpiry(t *testing.T) {
	store := newMemStore()
	cfg := testConfig()
	cfg.OffsetsRetention = 50 * time.Millisecond
	c := startCoordinator(t, cfg, store, nil)
	handle[*kmsg.OffsetCommitResponse](t, c, commitReq("old", "", -1, "t", map[int32]int64{0: 1, 1: 2}))
	if n := c.ExpireOffsets(context.Background()); n != 0 {
		t.Fatalf("expired %d fresh offsets", n)
	}
	time.Sleep(100 * time.Millisecond)
	handle[*kmsg.OffsetCommitResponse](t, c, commitReq("fresh", "", -1, "t", map[int32]int64{0: 1}))
	if n := c.ExpireOffsets(context.Background()); n != 2 {
		t.Fatalf("expired %d offsets, want 2", n)
	}
	if got := fetched(t, handle[*kmsg.OffsetFetchResponse](t, c, fetchReq("old", "t", 0, 1))); got[0] != -1 || got[1] != -1 {
		t.Fatalf("after expiry: %v", got)
	}
	lg := kmsg.NewPtrListGroupsRequest()
	if r := handle[*kmsg.ListGroupsResponse](t, c, lg); len(r.Groups) != 1 || r.Groups[0].Group != "fresh" {
		t.Fatalf("groups after expiry: %+v", r.Groups)
	}
	// The tombstones hold across a restart.
	c.Close()
	c2 := startCoordinator(t, cfg, store, nil)
	if got := fetched(t, handle[*kmsg.OffsetFetchResponse](t, c2, fetchReq("old", "t", 0))); got[0] != -1 {
		t.Fatalf("after reload: %v", got)
	}
}

func TestNotStartedAndWrongProtocol(t *testing.T) {
	c := New(testConfig(), newMemStore(), nil, nil)
	defer c.Close()
	hb := heartbeatReq("g", "m", 1, nil)
	resp, err := c.Handle(context.Background(), hb)
	if err != nil || resp.(*kmsg.HeartbeatResponse).ErrorCode != kerr.CoordinatorLoadInProgress.Code {
		t.Fatalf("before Start: %v %v", resp, err)
	}
	if err := c.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	a, aCh := joinNew(t, c, "classic", time.Second)
	recv(t, aCh)
	_ = a
	req := kmsg.NewPtrConsumerGroupHeartbeatRequest()
	req.Version = 1
	req.Group = "classic"
	req.MemberID = "x"
	req.SubscribedTopicNames = []string{"t"}
	req.RebalanceTimeoutMillis = 1000
	if r := handle[*kmsg.ConsumerGroupHeartbeatResponse](t, c, req); r.ErrorCode != kerr.GroupIDNotFound.Code {
		t.Fatalf("consumer heartbeat to a classic group: %d", r.ErrorCode)
	}
	cd := kmsg.NewPtrConsumerGroupDescribeRequest()
	cd.Groups = []string{"classic"}
	if r := handle[*kmsg.ConsumerGroupDescribeResponse](t, c, cd); r.Groups[0].ErrorCode != kerr.GroupIDNotFound.Code {
		t.Fatalf("consumer describe of a classic group: %+v", r.Groups[0])
	}
	if _, err := c.Handle(context.Background(), kmsg.NewPtrProduceRequest()); err == nil {
		t.Fatal("a non-group request should be an error")
	}
}

package group

import (
	"context"
	"log/slog"
	"os"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/sluicehq/sluice/internal/batch"
)

// memStore is an in-memory Store: one record list per partition.
type memStore struct {
	mu    sync.Mutex
	parts map[int32][]batch.Record
	fail  error // returned by Append when set
}

func newMemStore() *memStore { return &memStore{parts: make(map[int32][]batch.Record)} }

func (s *memStore) Append(_ context.Context, p int32, recs []batch.Record) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail != nil {
		return s.fail
	}
	for _, r := range recs {
		r.Offset = int64(len(s.parts[p]))
		r.Key = slices.Clone(r.Key)
		if r.Value != nil {
			r.Value = slices.Clone(r.Value)
		}
		s.parts[p] = append(s.parts[p], r)
	}
	return nil
}

func (s *memStore) Replay(_ context.Context, p int32, fn func(batch.Record) error) error {
	s.mu.Lock()
	recs := slices.Clone(s.parts[p])
	s.mu.Unlock()
	for _, r := range recs {
		if err := fn(r); err != nil {
			return err
		}
	}
	return nil
}

func (s *memStore) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, rs := range s.parts {
		n += len(rs)
	}
	return n
}

// fakeTopics is a static metadata image.
type fakeTopics struct {
	byName map[string]fakeTopic
}

type fakeTopic struct {
	id         [16]byte
	partitions int32
}

func newFakeTopics(topics map[string]int32) *fakeTopics {
	ft := &fakeTopics{byName: make(map[string]fakeTopic)}
	i := byte(1)
	for name, n := range topics {
		ft.byName[name] = fakeTopic{id: [16]byte{i, 0xAA}, partitions: n}
		i++
	}
	return ft
}

func (f *fakeTopics) Lookup(topic string) ([16]byte, int32, bool) {
	t, ok := f.byName[topic]
	return t.id, t.partitions, ok
}

func (f *fakeTopics) LookupID(id [16]byte) (string, int32, bool) {
	for name, t := range f.byName {
		if t.id == id {
			return name, t.partitions, true
		}
	}
	return "", 0, false
}

func (f *fakeTopics) TopicNames() []string {
	var out []string
	for name := range f.byName {
		out = append(out, name)
	}
	return out
}

func testConfig() Config {
	return Config{
		Partitions:                4,
		MinSessionTimeout:         10 * time.Millisecond,
		MaxSessionTimeout:         time.Minute,
		ConsumerSessionTimeout:    time.Second,
		ConsumerHeartbeatInterval: 50 * time.Millisecond,
	}
}

func testLogger(t testing.TB) *slog.Logger {
	if os.Getenv("GROUP_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	_ = t
	return nil
}

func startCoordinator(t testing.TB, cfg Config, store Store, topics Topics) *Coordinator {
	t.Helper()
	c := New(cfg, store, topics, testLogger(t))
	if err := c.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

func handle[R kmsg.Response](t testing.TB, c *Coordinator, req kmsg.Request) R {
	t.Helper()
	ctx := WithRequestInfo(context.Background(), RequestInfo{ClientID: "test-client", ClientHost: "/127.0.0.1"})
	resp, err := c.Handle(ctx, req)
	if err != nil {
		t.Fatalf("Handle(%T): %v", req, err)
	}
	if resp.GetVersion() != req.GetVersion() {
		t.Fatalf("response version %d, request version %d", resp.GetVersion(), req.GetVersion())
	}
	return resp.(R)
}

// joinAsync sends a JoinGroup in the background.
func joinAsync(t testing.TB, c *Coordinator, group, memberID string, instance *string, session time.Duration) <-chan *kmsg.JoinGroupResponse {
	t.Helper()
	req := kmsg.NewPtrJoinGroupRequest()
	req.Version = 9
	req.Group = group
	req.MemberID = memberID
	req.InstanceID = instance
	req.SessionTimeoutMillis = int32(session.Milliseconds())
	req.RebalanceTimeoutMillis = 2000
	req.ProtocolType = "consumer"
	req.Protocols = []kmsg.JoinGroupRequestProtocol{{Name: "range", Metadata: consumerMeta("t")}, {Name: "roundrobin", Metadata: consumerMeta("t")}}
	ch := make(chan *kmsg.JoinGroupResponse, 1)
	go func() {
		resp, err := c.Handle(WithRequestInfo(context.Background(), RequestInfo{ClientID: "cl", ClientHost: "/127.0.0.1"}), req)
		if err != nil {
			t.Errorf("join: %v", err)
			close(ch)
			return
		}
		ch <- resp.(*kmsg.JoinGroupResponse)
	}()
	return ch
}

func consumerMeta(topics ...string) []byte {
	m := kmsg.ConsumerMemberMetadata{Version: 0, Topics: topics}
	return m.AppendTo(nil)
}

func recv[T any](t testing.TB, ch <-chan T) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(5 * time.Second):
		t.Fatal("timed out waiting for a response")
		panic("unreachable")
	}
}

// joinNew does the two-step v4+ join of a new member and returns the
// channel of its (second) JoinGroup.
func joinNew(t testing.TB, c *Coordinator, group string, session time.Duration) (string, <-chan *kmsg.JoinGroupResponse) {
	t.Helper()
	first := recv(t, joinAsync(t, c, group, "", nil, session))
	if first.ErrorCode != 79 { // MEMBER_ID_REQUIRED
		t.Fatalf("first join: error %d, want MEMBER_ID_REQUIRED", first.ErrorCode)
	}
	return first.MemberID, joinAsync(t, c, group, first.MemberID, nil, session)
}

func syncReq(group, member string, gen int32, assignments map[string]string) *kmsg.SyncGroupRequest {
	req := kmsg.NewPtrSyncGroupRequest()
	req.Version = 5
	req.Group = group
	req.MemberID = member
	req.Generation = gen
	req.ProtocolType = strp("consumer")
	req.Protocol = strp("range")
	for m, a := range assignments {
		req.GroupAssignment = append(req.GroupAssignment, kmsg.SyncGroupRequestGroupAssignment{MemberID: m, MemberAssignment: []byte(a)})
	}
	return req
}

func syncAsync(t testing.TB, c *Coordinator, req *kmsg.SyncGroupRequest) <-chan *kmsg.SyncGroupResponse {
	ch := make(chan *kmsg.SyncGroupResponse, 1)
	go func() {
		resp, err := c.Handle(context.Background(), req)
		if err != nil {
			t.Errorf("sync: %v", err)
			close(ch)
			return
		}
		ch <- resp.(*kmsg.SyncGroupResponse)
	}()
	return ch
}

func heartbeatReq(group, member string, gen int32, instance *string) *kmsg.HeartbeatRequest {
	req := kmsg.NewPtrHeartbeatRequest()
	req.Version = 4
	req.Group = group
	req.MemberID = member
	req.Generation = gen
	req.InstanceID = instance
	return req
}

func commitReq(group, member string, gen int32, topic string, offsets map[int32]int64) *kmsg.OffsetCommitRequest {
	req := kmsg.NewPtrOffsetCommitRequest()
	req.Version = 8
	req.Group = group
	req.MemberID = member
	req.Generation = gen
	rt := kmsg.OffsetCommitRequestTopic{Topic: topic}
	for p, o := range offsets {
		rt.Partitions = append(rt.Partitions, kmsg.OffsetCommitRequestTopicPartition{Partition: p, Offset: o, LeaderEpoch: 3, Metadata: strp("md")})
	}
	req.Topics = []kmsg.OffsetCommitRequestTopic{rt}
	return req
}

func fetchReq(group string, topic string, partitions ...int32) *kmsg.OffsetFetchRequest {
	req := kmsg.NewPtrOffsetFetchRequest()
	req.Version = 8
	rg := kmsg.OffsetFetchRequestGroup{Group: group, MemberEpoch: -1}
	if topic != "" {
		rg.Topics = []kmsg.OffsetFetchRequestGroupTopic{{Topic: topic, Partitions: partitions}}
	}
	req.Groups = []kmsg.OffsetFetchRequestGroup{rg}
	return req
}

// fetched maps partition -> offset of a one-group OffsetFetch v8 response.
func fetched(t testing.TB, resp *kmsg.OffsetFetchResponse) map[int32]int64 {
	t.Helper()
	out := make(map[int32]int64)
	if len(resp.Groups) != 1 || resp.Groups[0].ErrorCode != 0 {
		t.Fatalf("offset fetch: %+v", resp.Groups)
	}
	for _, rt := range resp.Groups[0].Topics {
		for _, p := range rt.Partitions {
			if p.ErrorCode != 0 {
				t.Fatalf("offset fetch partition %d: error %d", p.Partition, p.ErrorCode)
			}
			out[p.Partition] = p.Offset
		}
	}
	return out
}

func describe(t testing.TB, c *Coordinator, group string) kmsg.DescribeGroupsResponseGroup {
	t.Helper()
	req := kmsg.NewPtrDescribeGroupsRequest()
	req.Version = 5
	req.Groups = []string{group}
	return handle[*kmsg.DescribeGroupsResponse](t, c, req).Groups[0]
}

// eventually polls fn until it returns nil.
func eventually(t testing.TB, total time.Duration, fn func() error) {
	t.Helper()
	deadline := time.Now().Add(total)
	for {
		err := fn()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal(err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

package group_test

import (
	"context"
	"fmt"
	"net"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/sluicehq/sluice/embed"
)

// Integration tests: real franz-go consumers against a real embedded broker.

func startBroker(t *testing.T, dir string) *embed.Broker {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	b, err := embed.Start(ctx, embed.Options{DataDir: dir, Overrides: map[string]string{
		"group.initial.rebalance.delay.ms": "0",
		"group.min.session.timeout.ms":     "500",
		"offsets.topic.num.partitions":     "5",
		"num.partitions":                   "3",
	}})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func newClient(t *testing.T, addr string, opts ...kgo.Opt) *kgo.Client {
	t.Helper()
	base := []kgo.Opt{kgo.SeedBrokers(addr), kgo.FetchMaxWait(200 * time.Millisecond)}
	if os.Getenv("KGO_LOG") != "" {
		base = append(base, kgo.WithLogger(kgo.BasicLogger(os.Stderr, kgo.LogLevelDebug, nil)))
	}
	cl, err := kgo.NewClient(append(base, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return cl
}

func createTopic(t *testing.T, addr, topic string, partitions int32) {
	t.Helper()
	cl := newClient(t, addr)
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	resp, err := kadm.NewClient(cl).CreateTopic(ctx, partitions, 1, nil, topic)
	if err != nil || resp.Err != nil {
		t.Fatalf("create topic: %v %v", err, resp.Err)
	}
}

func produce(t *testing.T, addr, topic string, from, n int) {
	t.Helper()
	cl := newClient(t, addr, kgo.DefaultProduceTopic(topic))
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	recs := make([]*kgo.Record, 0, n)
	for i := from; i < from+n; i++ {
		recs = append(recs, &kgo.Record{Key: []byte(strconv.Itoa(i)), Value: []byte(strconv.Itoa(i))})
	}
	if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
}

// seen collects what a group consumed, by value.
type seen struct {
	mu     sync.Mutex
	counts map[string]int
	byCl   map[int]map[int32]bool // consumer index -> partitions it read
}

func newSeen() *seen { return &seen{counts: map[string]int{}, byCl: map[int]map[int32]bool{}} }

func (s *seen) add(cl int, r *kgo.Record) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.counts[string(r.Value)]++
	if s.byCl[cl] == nil {
		s.byCl[cl] = map[int32]bool{}
	}
	s.byCl[cl][r.Partition] = true
}

func (s *seen) total() (distinct, dups int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, n := range s.counts {
		if n > 1 {
			dups += n - 1
		}
	}
	return len(s.counts), dups
}

// pollLoop consumes with cl until ctx ends, committing after each poll.
func pollLoop(ctx context.Context, cl *kgo.Client, idx int, s *seen) {
	for ctx.Err() == nil {
		fs := cl.PollFetches(ctx)
		fs.EachRecord(func(r *kgo.Record) { s.add(idx, r) })
		if len(fs.Records()) > 0 {
			_ = cl.CommitUncommittedOffsets(ctx)
		}
	}
}

func waitFor(t *testing.T, total time.Duration, fn func() error) {
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
		time.Sleep(50 * time.Millisecond)
	}
}

// describeGroup returns the members' assigned partition counts of a classic group.
func groupMembers(t *testing.T, addr, group string) (state string, members int) {
	t.Helper()
	cl := newClient(t, addr)
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	gs, err := kadm.NewClient(cl).DescribeGroups(ctx, group)
	if err != nil {
		return err.Error(), 0
	}
	g := gs[group]
	return g.State, len(g.Members)
}

// TestTwoGroupsTwoConsumers is the quickstart scenario: two groups of two
// consumers on a 3-partition topic; each group reads every message exactly
// once, partitions split within the group, offsets independent.
func TestTwoGroupsTwoConsumers(t *testing.T) {
	b := startBroker(t, t.TempDir())
	defer b.Close()
	createTopic(t, b.Addr(), "events", 3)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var wg sync.WaitGroup
	groups := map[string]*seen{"g1": newSeen(), "g2": newSeen()}
	var clients []*kgo.Client
	for name, s := range groups {
		for i := range 2 {
			cl := newClient(t, b.Addr(), kgo.ConsumerGroup(name), kgo.ConsumeTopics("events"),
				kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.DisableAutoCommit(), kgo.ClientID(fmt.Sprintf("%s-%d", name, i)))
			clients = append(clients, cl)
			wg.Add(1)
			go func() {
				defer wg.Done()
				pollLoop(ctx, cl, i, s)
			}()
		}
	}
	for name := range groups {
		waitFor(t, 20*time.Second, func() error {
			if st, n := groupMembers(t, b.Addr(), name); st != "Stable" || n != 2 {
				return fmt.Errorf("group %s: %s with %d members", name, st, n)
			}
			return nil
		})
	}
	const n = 300
	produce(t, b.Addr(), "events", 0, n)
	for name, s := range groups {
		waitFor(t, 20*time.Second, func() error {
			if d, _ := s.total(); d != n {
				return fmt.Errorf("group %s saw %d of %d", name, d, n)
			}
			return nil
		})
	}
	cancel()
	wg.Wait()
	for _, cl := range clients {
		if err := cl.CommitUncommittedOffsets(context.Background()); err != nil {
			t.Errorf("final commit: %v", err)
		}
	}
	for name, s := range groups {
		if _, dups := s.total(); dups != 0 {
			t.Errorf("group %s read %d messages twice", name, dups)
		}
		parts := 0
		for cl, ps := range s.byCl {
			if len(ps) == 0 || len(ps) == 3 {
				t.Errorf("group %s consumer %d read partitions %v: not split", name, cl, ps)
			}
			parts += len(ps)
		}
		if parts != 3 {
			t.Errorf("group %s: partitions read %d times in total, want 3 (%v)", name, parts, s.byCl)
		}
	}
	for _, cl := range clients {
		cl.Close()
	}
	// Offsets are per group: both committed everything.
	adm := kadm.NewClient(newClient(t, b.Addr()))
	defer adm.Close()
	for name := range groups {
		offs, err := adm.FetchOffsets(context.Background(), name)
		if err != nil {
			t.Fatal(err)
		}
		var sum int64
		offs.Each(func(o kadm.OffsetResponse) { sum += o.At })
		if sum != n {
			t.Errorf("group %s committed offsets sum to %d, want %d", name, sum, n)
		}
	}
}

// killableDialer lets a test cut a client off the network without it
// leaving its group, like a killed process.
type killableDialer struct {
	mu    sync.Mutex
	dead  bool
	conns []net.Conn
}

func (d *killableDialer) dial(ctx context.Context, network, host string) (net.Conn, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.dead {
		return nil, fmt.Errorf("killed")
	}
	c, err := (&net.Dialer{}).DialContext(ctx, network, host)
	if err == nil {
		d.conns = append(d.conns, c)
	}
	return c, err
}

func (d *killableDialer) kill() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.dead = true
	for _, c := range d.conns {
		c.Close()
	}
}

// TestKilledMemberPartitionsMove: a member that vanishes without leaving
// loses its partitions to the survivor within the session timeout.
func TestKilledMemberPartitionsMove(t *testing.T) {
	b := startBroker(t, t.TempDir())
	defer b.Close()
	createTopic(t, b.Addr(), "work", 3)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s := newSeen()
	var assigned [2]atomic.Int32
	mk := func(i int, dialer *killableDialer) *kgo.Client {
		opts := []kgo.Opt{kgo.ConsumerGroup("kill"), kgo.ConsumeTopics("work"),
			kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.DisableAutoCommit(),
			kgo.SessionTimeout(1500 * time.Millisecond), kgo.HeartbeatInterval(300 * time.Millisecond),
			kgo.OnPartitionsAssigned(func(_ context.Context, _ *kgo.Client, m map[string][]int32) {
				assigned[i].Add(int32(len(m["work"])))
			}),
			kgo.OnPartitionsRevoked(func(_ context.Context, _ *kgo.Client, m map[string][]int32) {
				assigned[i].Add(-int32(len(m["work"])))
			}),
		}
		if dialer != nil {
			opts = append(opts, kgo.Dialer(dialer.dial))
		}
		return newClient(t, b.Addr(), opts...)
	}
	victim := &killableDialer{}
	survivor, doomed := mk(0, nil), mk(1, victim)
	defer survivor.Close()
	var wg sync.WaitGroup
	for i, cl := range []*kgo.Client{survivor, doomed} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			pollLoop(ctx, cl, i, s)
		}()
	}
	waitFor(t, 20*time.Second, func() error {
		if a0, a1 := assigned[0].Load(), assigned[1].Load(); a0 == 0 || a1 == 0 || a0+a1 != 3 {
			return fmt.Errorf("assignments %d/%d", a0, a1)
		}
		return nil
	})
	killedAt := time.Now()
	victim.kill()
	waitFor(t, 15*time.Second, func() error {
		if a0 := assigned[0].Load(); a0 != 3 {
			return fmt.Errorf("survivor has %d partitions", a0)
		}
		return nil
	})
	t.Logf("partitions moved %v after the kill (session timeout 1.5s)", time.Since(killedAt).Round(time.Millisecond))
	produce(t, b.Addr(), "work", 0, 90)
	waitFor(t, 15*time.Second, func() error {
		if d, _ := s.total(); d != 90 {
			return fmt.Errorf("survivor read %d of 90", d)
		}
		return nil
	})
	cancel()
	wg.Wait()
	doomed.Close()
}

// TestRestartKeepsOffsets: committed offsets and groups survive a restart.
func TestRestartKeepsOffsets(t *testing.T) {
	dir := t.TempDir()
	b := startBroker(t, dir)
	createTopic(t, b.Addr(), "durable", 3)
	produce(t, b.Addr(), "durable", 0, 60)
	cl := newClient(t, b.Addr(), kgo.ConsumerGroup("keeper"), kgo.ConsumeTopics("durable"),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.DisableAutoCommit())
	got := 0
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for got < 60 && ctx.Err() == nil {
		fs := cl.PollFetches(ctx)
		got += len(fs.Records())
	}
	if err := cl.CommitUncommittedOffsets(ctx); err != nil {
		t.Fatal(err)
	}
	cl.Close()
	adm := kadm.NewClient(newClient(t, b.Addr()))
	before, err := adm.FetchOffsets(ctx, "keeper")
	adm.Close()
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}

	b = startBroker(t, dir)
	defer b.Close()
	adm = kadm.NewClient(newClient(t, b.Addr()))
	defer adm.Close()
	var after kadm.OffsetResponses
	waitFor(t, 10*time.Second, func() error {
		after, err = adm.FetchOffsets(context.Background(), "keeper")
		return err
	})
	var sum int64
	before.Each(func(o kadm.OffsetResponse) {
		sum += o.At
		a, ok := after.Lookup(o.Topic, o.Partition)
		if !ok || a.At != o.At {
			t.Errorf("%s/%d: %d before restart, %v after", o.Topic, o.Partition, o.At, a.At)
		}
	})
	if sum != 60 {
		t.Fatalf("committed offsets sum to %d, want 60", sum)
	}
	groups, err := adm.ListGroups(context.Background())
	if _, ok := groups["keeper"]; err != nil || len(groups) != 1 || !ok {
		t.Fatalf("groups after restart: %v %v", groups, err)
	}
	// A consumer in the group resumes after the committed offsets.
	produce(t, b.Addr(), "durable", 60, 30)
	cl = newClient(t, b.Addr(), kgo.ConsumerGroup("keeper"), kgo.ConsumeTopics("durable"),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	defer cl.Close()
	got = 0
	for got < 30 && ctx.Err() == nil {
		fs := cl.PollFetches(ctx)
		fs.EachRecord(func(r *kgo.Record) {
			if v, _ := strconv.Atoi(string(r.Value)); v < 60 {
				t.Errorf("re-read %d after restart", v)
			}
			got++
		})
	}
}

// TestConsumerProtocolThreeMembers: three franz-go consumers with
// group.protocol=consumer (kgo.ServerSideBalancer, KIP-848) join, split the
// partitions, then one leaves and the others take over.
func TestConsumerProtocolThreeMembers(t *testing.T) {
	b := startBroker(t, t.TempDir())
	defer b.Close()
	createTopic(t, b.Addr(), "kip848", 6)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s := newSeen()
	var clients [3]*kgo.Client
	var cctx [3]context.Context
	var ccancel [3]context.CancelFunc
	var wg [3]sync.WaitGroup
	for i := range clients {
		clients[i] = newClient(t, b.Addr(), kgo.ConsumerGroup("next-gen"), kgo.ConsumeTopics("kip848"),
			kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.ServerSideBalancer(),
			kgo.DisableAutoCommit(), kgo.ClientID(fmt.Sprintf("c%d", i)))
		cctx[i], ccancel[i] = context.WithCancel(ctx)
		wg[i].Add(1)
		go func() {
			defer wg[i].Done()
			pollLoop(cctx[i], clients[i], i, s)
		}()
	}
	describe := func() (kmsg.ConsumerGroupDescribeResponseGroup, error) {
		req := kmsg.NewPtrConsumerGroupDescribeRequest()
		req.Groups = []string{"next-gen"}
		cl := newClient(t, b.Addr())
		defer cl.Close()
		resp, err := req.RequestWith(context.Background(), cl)
		if err != nil {
			return kmsg.ConsumerGroupDescribeResponseGroup{}, err
		}
		return resp.Groups[0], nil
	}
	waitStable := func(members int) {
		t.Helper()
		waitFor(t, 40*time.Second, func() error {
			g, err := describe()
			if err != nil {
				return err
			}
			if g.ErrorCode != 0 || g.State != "Stable" || len(g.Members) != members {
				return fmt.Errorf("group %s (error %d) with %d members", g.State, g.ErrorCode, len(g.Members))
			}
			for _, m := range g.Members {
				n := 0
				for _, tp := range m.Assignment.TopicPartitions {
					n += len(tp.Partitions)
				}
				if n != 6/members {
					return fmt.Errorf("member %s has %d partitions", m.ClientID, n)
				}
			}
			return nil
		})
	}
	waitStable(3)
	produce(t, b.Addr(), "kip848", 0, 120)
	waitFor(t, 20*time.Second, func() error {
		if d, _ := s.total(); d != 120 {
			return fmt.Errorf("read %d of 120", d)
		}
		return nil
	})
	if _, dups := s.total(); dups != 0 {
		t.Errorf("%d messages read twice", dups)
	}
	// One member leaves: the two others split its partitions.
	ccancel[2]()
	wg[2].Wait()
	clients[2].Close()
	waitStable(2)
	produce(t, b.Addr(), "kip848", 120, 60)
	waitFor(t, 20*time.Second, func() error {
		if d, _ := s.total(); d != 180 {
			return fmt.Errorf("read %d of 180", d)
		}
		return nil
	})
	cancel()
	for i := range 2 {
		wg[i].Wait()
		clients[i].Close()
	}
}

// TestMemberAddedNoDuplicates: a second consumer joins a group that has
// committed; the rebalance completes and nothing is read twice.
func TestMemberAddedNoDuplicates(t *testing.T) {
	b := startBroker(t, t.TempDir())
	defer b.Close()
	createTopic(t, b.Addr(), "grow", 3)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s := newSeen()
	mk := func(i int) *kgo.Client {
		return newClient(t, b.Addr(), kgo.ConsumerGroup("grow"), kgo.ConsumeTopics("grow"),
			kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.DisableAutoCommit(),
			kgo.OnPartitionsRevoked(func(ctx context.Context, cl *kgo.Client, _ map[string][]int32) {
				_ = cl.CommitUncommittedOffsets(ctx)
			}), kgo.ClientID(fmt.Sprint("grow-", i)))
	}
	var wg sync.WaitGroup
	start := func(i int) *kgo.Client {
		cl := mk(i)
		wg.Add(1)
		go func() {
			defer wg.Done()
			pollLoop(ctx, cl, i, s)
		}()
		return cl
	}
	first := start(0)
	defer first.Close()
	produce(t, b.Addr(), "grow", 0, 100)
	waitFor(t, 20*time.Second, func() error {
		if d, _ := s.total(); d != 100 {
			return fmt.Errorf("read %d of 100", d)
		}
		return nil
	})
	second := start(1)
	defer second.Close()
	waitFor(t, 20*time.Second, func() error {
		if st, n := groupMembers(t, b.Addr(), "grow"); st != "Stable" || n != 2 {
			return fmt.Errorf("group %s with %d members", st, n)
		}
		return nil
	})
	produce(t, b.Addr(), "grow", 100, 100)
	waitFor(t, 20*time.Second, func() error {
		if d, _ := s.total(); d != 200 {
			return fmt.Errorf("read %d of 200", d)
		}
		return nil
	})
	cancel()
	wg.Wait()
	if _, dups := s.total(); dups != 0 {
		t.Fatalf("%d messages read twice", dups)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.byCl[1]) == 0 {
		t.Fatalf("the added member read nothing: %v", s.byCl)
	}
}

// TestStaticMemberRestartNoRebalance: a static member (group.instance.id)
// that restarts within its session timeout gets its partitions back and the
// other member sees no rebalance.
func TestStaticMemberRestartNoRebalance(t *testing.T) {
	b := startBroker(t, t.TempDir())
	defer b.Close()
	createTopic(t, b.Addr(), "static", 4)
	var sessions [2]atomic.Int32 // OnPartitionsAssigned calls per instance
	var owned [2]atomic.Value
	mk := func(i int) *kgo.Client {
		return newClient(t, b.Addr(), kgo.ConsumerGroup("static"), kgo.ConsumeTopics("static"),
			kgo.InstanceID(fmt.Sprint("instance-", i)), kgo.SessionTimeout(10*time.Second),
			// An eager balancer: OnPartitionsAssigned then reports the whole
			// assignment, not only what a cooperative rebalance adds.
			kgo.Balancers(kgo.RangeBalancer()),
			kgo.OnPartitionsAssigned(func(_ context.Context, _ *kgo.Client, m map[string][]int32) {
				sessions[i].Add(1)
				if len(m["static"]) > 0 {
					owned[i].Store(fmt.Sprint(m["static"]))
				}
			}))
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	poll := func(cl *kgo.Client) {
		for ctx.Err() == nil {
			if cl.PollFetches(ctx).IsClientClosed() {
				return
			}
		}
	}
	a := mk(0)
	defer a.Close()
	go poll(a)
	b1 := mk(1)
	go poll(b1)
	waitFor(t, 20*time.Second, func() error {
		if st, n := groupMembers(t, b.Addr(), "static"); st != "Stable" || n != 2 || owned[0].Load() == nil || owned[1].Load() == nil {
			return fmt.Errorf("group %s with %d members", st, n)
		}
		return nil
	})
	time.Sleep(500 * time.Millisecond) // let the leader's session settle
	aSessions := sessions[0].Load()
	before := owned[1].Load()
	b1.Close() // a static member does not leave the group on close
	if st, n := groupMembers(t, b.Addr(), "static"); st != "Stable" || n != 2 {
		t.Fatalf("after the static member closed: %s with %d members", st, n)
	}
	owned[1] = atomic.Value{}
	b2 := mk(1)
	defer b2.Close()
	go poll(b2)
	waitFor(t, 10*time.Second, func() error {
		if owned[1].Load() == nil {
			return fmt.Errorf("restarted member has no partitions yet")
		}
		return nil
	})
	if got := owned[1].Load(); got != before {
		t.Errorf("restarted static member got %v, had %v", got, before)
	}
	time.Sleep(time.Second)
	if n := sessions[0].Load(); n != aSessions {
		t.Errorf("the other member went through %d more rebalances", n-aSessions)
	}
}

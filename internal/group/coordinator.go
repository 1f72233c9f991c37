package group

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/sluicehq/sluice/internal/batch"
)

// Store is implemented by the broker over the __consumer_offsets topic.
//
// Append and Replay may be called concurrently for different partitions;
// Append is never called concurrently for one group.
type Store interface {
	// Append writes records to partition p of __consumer_offsets and returns
	// once they are durable (acks=all). A nil Value is a tombstone. The
	// coordinator does not touch recs after Append returns. An error wrapping
	// ErrNotCoordinator (or kerr.NotLeaderForPartition) tells clients to look
	// the coordinator up again; any other error means "try again later".
	Append(ctx context.Context, partition int32, recs []batch.Record) error
	// Replay calls fn for every record of partition p from the log start, in
	// offset order. The record's buffers may be reused after fn returns.
	Replay(ctx context.Context, partition int32, fn func(r batch.Record) error) error
}

// Topics answers from the broker's current metadata image.
type Topics interface {
	Lookup(topic string) (id [16]byte, partitions int32, ok bool)
	LookupID(id [16]byte) (topic string, partitions int32, ok bool)
}

// TopicLister is optionally implemented by a Topics. Without it, KIP-848
// members subscribing with a regular expression get no topics.
type TopicLister interface {
	// TopicNames returns every topic name (internal topics included).
	TopicNames() []string
}

// ErrNotCoordinator may be wrapped by Store errors: clients get
// NOT_COORDINATOR and find the coordinator again.
var ErrNotCoordinator = errors.New("group: not the coordinator for this partition")

// Config holds the coordinator's settings; the broker fills it from Kafka's
// property names (given next to each field).
type Config struct {
	// Partitions is offsets.topic.num.partitions (default 50).
	Partitions int32
	// InitialRebalanceDelay is group.initial.rebalance.delay.ms (Kafka's
	// default 3s, see DefaultConfig); zero means no delay.
	InitialRebalanceDelay time.Duration
	// MinSessionTimeout / MaxSessionTimeout are group.min.session.timeout.ms
	// (6s) and group.max.session.timeout.ms (30m).
	MinSessionTimeout, MaxSessionTimeout time.Duration
	// MaxSize is group.max.size; zero means unlimited (Kafka's default is
	// Integer.MAX_VALUE). It bounds classic groups.
	MaxSize int
	// OffsetsRetention is offsets.retention.minutes (7 days).
	OffsetsRetention time.Duration
	// OffsetsRetentionCheckInterval is offsets.retention.check.interval.ms (10m).
	OffsetsRetentionCheckInterval time.Duration
	// OffsetMetadataMaxBytes is offset.metadata.max.bytes (4096).
	OffsetMetadataMaxBytes int
	// ConsumerSessionTimeout is group.consumer.session.timeout.ms (45s).
	ConsumerSessionTimeout time.Duration
	// ConsumerHeartbeatInterval is group.consumer.heartbeat.interval.ms (5s).
	ConsumerHeartbeatInterval time.Duration
	// ConsumerMaxSize is group.consumer.max.size; zero means unlimited.
	ConsumerMaxSize int
	// ConsumerAssignors is group.consumer.assignors: "uniform" and/or "range";
	// the first is the default (["uniform", "range"]).
	ConsumerAssignors []string
	// LoadParallelism is how many partitions Start replays at once (4).
	LoadParallelism int
}

// DefaultConfig returns Kafka's defaults.
func DefaultConfig() Config {
	c := Config{InitialRebalanceDelay: 3 * time.Second}
	c.EnsureDefaults()
	return c
}

// EnsureDefaults fills zero fields with Kafka's defaults (InitialRebalanceDelay
// excepted: zero is a valid setting).
func (c *Config) EnsureDefaults() {
	if c.Partitions <= 0 {
		c.Partitions = 50
	}
	if c.MinSessionTimeout <= 0 {
		c.MinSessionTimeout = 6 * time.Second
	}
	if c.MaxSessionTimeout <= 0 {
		c.MaxSessionTimeout = 30 * time.Minute
	}
	if c.OffsetsRetention <= 0 {
		c.OffsetsRetention = 7 * 24 * time.Hour
	}
	if c.OffsetsRetentionCheckInterval <= 0 {
		c.OffsetsRetentionCheckInterval = 10 * time.Minute
	}
	if c.OffsetMetadataMaxBytes <= 0 {
		c.OffsetMetadataMaxBytes = 4096
	}
	if c.ConsumerSessionTimeout <= 0 {
		c.ConsumerSessionTimeout = 45 * time.Second
	}
	if c.ConsumerHeartbeatInterval <= 0 {
		c.ConsumerHeartbeatInterval = 5 * time.Second
	}
	if len(c.ConsumerAssignors) == 0 {
		c.ConsumerAssignors = []string{"uniform", "range"}
	}
	if c.LoadParallelism <= 0 {
		c.LoadParallelism = 4
	}
}

// Validate reports settings Kafka would refuse.
func (c *Config) Validate() error {
	if c.MinSessionTimeout > c.MaxSessionTimeout {
		return fmt.Errorf("group.min.session.timeout.ms %v > group.max.session.timeout.ms %v", c.MinSessionTimeout, c.MaxSessionTimeout)
	}
	if c.InitialRebalanceDelay < 0 {
		return fmt.Errorf("group.initial.rebalance.delay.ms must be >= 0")
	}
	for _, a := range c.ConsumerAssignors {
		if assignorByName(a) == nil {
			return fmt.Errorf("group.consumer.assignors: unknown assignor %q (known: uniform, range)", a)
		}
	}
	return nil
}

// RequestInfo describes the client behind a request: DescribeGroups and
// ConsumerGroupDescribe report it per member.
type RequestInfo struct {
	ClientID   string
	ClientHost string // the peer's address, Kafka writes "/1.2.3.4"
}

type requestInfoKey struct{}

// WithRequestInfo returns ctx carrying info for Handle.
func WithRequestInfo(ctx context.Context, info RequestInfo) context.Context {
	return context.WithValue(ctx, requestInfoKey{}, info)
}

func requestInfo(ctx context.Context) RequestInfo {
	info, _ := ctx.Value(requestInfoKey{}).(RequestInfo)
	return info
}

// Coordinator is the group coordinator of one broker.
type Coordinator struct {
	cfg    Config
	store  Store
	topics Topics
	log    *slog.Logger

	// ctx lives from Start to Close; timer-driven writes use it.
	ctx    context.Context
	cancel context.CancelFunc
	// done is closed by Close: every blocking wait selects on it.
	done chan struct{}
	wg   sync.WaitGroup
	// loaded[p] is set once partition p of __consumer_offsets is replayed.
	loaded []atomic.Bool
	closed atomic.Bool

	mu struct {
		sync.Mutex
		// groups by id; a group removed from here is marked dead first.
		groups map[string]*group
	}
}

// New returns a coordinator; call Start before Handle answers anything other
// than COORDINATOR_LOAD_IN_PROGRESS.
func New(cfg Config, store Store, topics Topics, logger *slog.Logger) *Coordinator {
	cfg.EnsureDefaults()
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	ctx, cancel := context.WithCancel(context.Background())
	c := &Coordinator{
		cfg:    cfg,
		store:  store,
		topics: topics,
		log:    logger.With("component", "group"),
		ctx:    ctx,
		cancel: cancel,
		done:   make(chan struct{}),
		loaded: make([]atomic.Bool, cfg.Partitions),
	}
	c.mu.groups = make(map[string]*group)
	return c
}

// Start replays every partition of __consumer_offsets (the coordinator of a
// single-node cluster owns all of them) and starts offset expiry. It returns
// once everything is loaded.
func (c *Coordinator) Start(ctx context.Context) error {
	if err := c.cfg.Validate(); err != nil {
		return err
	}
	start := time.Now()
	if err := c.loadAll(ctx); err != nil {
		return err
	}
	c.mu.Lock()
	n := len(c.mu.groups)
	c.mu.Unlock()
	c.log.Info("loaded __consumer_offsets", "groups", n, "partitions", c.cfg.Partitions, "took", time.Since(start))
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		c.expiryLoop()
	}()
	return nil
}

// Close stops timers and expiry and fails blocked requests with
// NOT_COORDINATOR. It does not close the Store.
func (c *Coordinator) Close() {
	if c.closed.Swap(true) {
		return
	}
	close(c.done)
	c.cancel()
	c.mu.Lock()
	groups := make([]*group, 0, len(c.mu.groups))
	for _, g := range c.mu.groups {
		groups = append(groups, g)
	}
	c.mu.Unlock()
	for _, g := range groups {
		g.mu.Lock()
		g.stopTimerLocked()
		g.mu.Unlock()
	}
	c.wg.Wait()
}

// PartitionFor is the __consumer_offsets partition of a group:
// Utils.abs(groupId.hashCode()) % offsets.topic.num.partitions, as Kafka.
func (c *Coordinator) PartitionFor(groupID string) int32 {
	return PartitionFor(groupID, c.cfg.Partitions)
}

// PartitionFor is Kafka's partitionFor with n partitions.
func PartitionFor(groupID string, n int32) int32 {
	return (javaStringHashCode(groupID) & 0x7fffffff) % n
}

// javaStringHashCode is java.lang.String.hashCode: over UTF-16 code units.
func javaStringHashCode(s string) int32 {
	var h int32
	for _, r := range s {
		if r >= 0x10000 {
			r -= 0x10000
			h = 31*h + int32(0xD800+(r>>10))
			h = 31*h + int32(0xDC00+(r&0x3FF))
			continue
		}
		h = 31*h + int32(r)
	}
	return h
}

// Handle answers one group request. The response has the request's version.
// A Go error means "close the connection" (an unsupported request, or the
// client went away while its JoinGroup/SyncGroup was waiting).
func (c *Coordinator) Handle(ctx context.Context, req kmsg.Request) (kmsg.Response, error) {
	var resp kmsg.Response
	var err error
	switch r := req.(type) {
	case *kmsg.JoinGroupRequest:
		resp, err = c.joinGroup(ctx, r)
	case *kmsg.SyncGroupRequest:
		resp, err = c.syncGroup(ctx, r)
	case *kmsg.HeartbeatRequest:
		resp = c.heartbeat(r)
	case *kmsg.LeaveGroupRequest:
		resp = c.leaveGroup(ctx, r)
	case *kmsg.OffsetCommitRequest:
		resp = c.offsetCommit(ctx, r)
	case *kmsg.OffsetFetchRequest:
		resp = c.offsetFetch(r)
	case *kmsg.OffsetDeleteRequest:
		resp = c.offsetDelete(ctx, r)
	case *kmsg.DescribeGroupsRequest:
		resp = c.describeGroups(r)
	case *kmsg.ListGroupsRequest:
		resp = c.listGroups(r)
	case *kmsg.DeleteGroupsRequest:
		resp = c.deleteGroups(ctx, r)
	case *kmsg.ConsumerGroupHeartbeatRequest:
		resp = c.consumerGroupHeartbeat(ctx, r)
	case *kmsg.ConsumerGroupDescribeRequest:
		resp = c.consumerGroupDescribe(r)
	default:
		return nil, fmt.Errorf("group: unsupported request key %d", req.Key())
	}
	if err != nil {
		return nil, err
	}
	resp.SetVersion(req.GetVersion())
	return resp, nil
}

// coordinatorError is the error for any request on groupID when this
// coordinator cannot serve it yet (loading) or any more (closed); 0 if it can.
func (c *Coordinator) coordinatorError(groupID string) int16 {
	if c.closed.Load() {
		return kerr.NotCoordinator.Code
	}
	if !c.loaded[c.PartitionFor(groupID)].Load() {
		return kerr.CoordinatorLoadInProgress.Code
	}
	return 0
}

// lookup returns the group, creating an empty classic group if create is set.
func (c *Coordinator) lookup(id string, create bool) *group {
	c.mu.Lock()
	defer c.mu.Unlock()
	g := c.mu.groups[id]
	if g == nil && create {
		g = newGroup(c, id)
		c.mu.groups[id] = g
	}
	return g
}

// lockGroup returns the live group id locked, or nil if it does not exist and
// create is false.
func (c *Coordinator) lockGroup(id string, create bool) *group {
	for {
		g := c.lookup(id, create)
		if g == nil {
			return nil
		}
		g.mu.Lock()
		if !g.dead {
			return g
		}
		g.mu.Unlock()
	}
}

// removeLocked marks g dead and forgets it (g.mu held).
func (c *Coordinator) removeLocked(g *group) {
	g.dead = true
	g.stopTimerLocked()
	c.mu.Lock()
	if c.mu.groups[g.id] == g {
		delete(c.mu.groups, g.id)
	}
	c.mu.Unlock()
}

// allGroups is a snapshot of the group list.
func (c *Coordinator) allGroups() []*group {
	c.mu.Lock()
	defer c.mu.Unlock()
	gs := make([]*group, 0, len(c.mu.groups))
	for _, g := range c.mu.groups {
		gs = append(gs, g)
	}
	return gs
}

// appendErrorCode maps a Store error to the code Kafka gives clients
// (GroupMetadataManager's appendForGroup / CoordinatorRuntime error mapping).
func appendErrorCode(err error) int16 {
	if errors.Is(err, ErrNotCoordinator) {
		return kerr.NotCoordinator.Code
	}
	var ke *kerr.Error
	if errors.As(err, &ke) {
		switch ke {
		case kerr.UnknownTopicOrPartition, kerr.NotEnoughReplicas, kerr.NotEnoughReplicasAfterAppend, kerr.RequestTimedOut:
			return kerr.CoordinatorNotAvailable.Code
		case kerr.NotLeaderForPartition, kerr.KafkaStorageError:
			return kerr.NotCoordinator.Code
		case kerr.MessageTooLarge, kerr.RecordListTooLarge, kerr.InvalidFetchSize:
			return kerr.UnknownServerError.Code
		}
	}
	return kerr.CoordinatorNotAvailable.Code
}

func (c *Coordinator) now() time.Time { return time.Now() }

func strp(s string) *string { return &s }

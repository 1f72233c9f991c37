// Package replica owns partitions as the broker serves them: a commitlog.Log
// plus the leader epoch, high watermark and the waiters for new data
// (Kafka's Partition and ReplicaManager).
//
// With one replica the high watermark follows the log end offset as soon as
// a batch is appended; acks=all still goes through WaitForHighWatermark, the
// same path a replicated partition completes on, so replication slots in
// here without touching the Produce handler.
package replica

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"github.com/sluicehq/sluice/internal/commitlog"
)

// Partition is one partition of a topic hosted on this broker.
type Partition struct {
	Topic   string
	TopicID uuid.UUID
	Index   int32
	Log     *commitlog.Log

	leaderEpoch   atomic.Int32
	highWatermark atomic.Int64
	// policy is what Produce checks for this topic (see Policy).
	policy atomic.Pointer[Policy]

	// appendMu serializes appends: offsets are assigned in append order.
	appendMu sync.Mutex

	mu struct {
		sync.Mutex
		// waiters are woken (non-blocking send) after every append.
		waiters map[chan<- struct{}]struct{}
		closed  bool
	}
}

// ErrClosed is returned by operations on a partition being deleted or shut
// down.
var ErrClosed = errors.New("partition closed")

// NewPartition wraps an opened log.
func NewPartition(topic string, id uuid.UUID, index int32, log *commitlog.Log, leaderEpoch int32) *Partition {
	p := &Partition{Topic: topic, TopicID: id, Index: index, Log: log}
	p.leaderEpoch.Store(leaderEpoch)
	p.highWatermark.Store(log.EndOffset())
	p.mu.waiters = map[chan<- struct{}]struct{}{}
	return p
}

// LeaderEpoch returns the current leader epoch.
func (p *Partition) LeaderEpoch() int32 { return p.leaderEpoch.Load() }

// SetLeaderEpoch records a new leader epoch from the metadata image.
func (p *Partition) SetLeaderEpoch(e int32) { p.leaderEpoch.Store(e) }

// HighWatermark returns the offset below which records are committed and
// visible to consumers.
func (p *Partition) HighWatermark() int64 { return p.highWatermark.Load() }

// Policy is what the broker checks and does on Produce for a topic,
// beyond the log's own configuration.
type Policy struct {
	// Compact: cleanup.policy includes compact, so records without a key
	// are refused.
	Compact bool
	// MaxMessageBytes is max.message.bytes.
	MaxMessageBytes int
	// TimestampBeforeMaxMs and TimestampAfterMaxMs are
	// message.timestamp.before.max.ms and .after.max.ms, checked for
	// CreateTime topics.
	TimestampBeforeMaxMs, TimestampAfterMaxMs int64
	// LogAppendTime: message.timestamp.type=LogAppendTime.
	LogAppendTime bool
	// Codec is compression.type as a batch codec, or -1 for "producer"
	// (batches are kept as sent).
	Codec int8
}

// SetPolicy replaces the topic policy.
func (p *Partition) SetPolicy(pol Policy) { p.policy.Store(&pol) }

// Policy returns the topic policy.
func (p *Partition) Policy() *Policy {
	if pol := p.policy.Load(); pol != nil {
		return pol
	}
	return &defaultPolicy
}

var defaultPolicy = Policy{Codec: -1, TimestampBeforeMaxMs: 1<<63 - 1, TimestampAfterMaxMs: 1<<63 - 1}

// AppendAsLeader appends validated record batches, assigning offsets in
// place.
func (p *Partition) AppendAsLeader(records []byte, now time.Time) (commitlog.AppendResult, error) {
	p.appendMu.Lock()
	res, err := p.Log.Append(records, commitlog.AppendOptions{
		LeaderEpoch:   p.leaderEpoch.Load(),
		Now:           now,
		AssignOffsets: true,
	})
	if err == nil && !res.Duplicate {
		// One replica: the in-sync set is this broker, so the high
		// watermark is the log end offset.
		p.highWatermark.Store(p.Log.EndOffset())
	}
	p.appendMu.Unlock()
	if err == nil {
		p.wake()
	}
	return res, err
}

// WaitForHighWatermark returns once the high watermark is above offset (the
// acks=all condition), or with ctx's error.
func (p *Partition) WaitForHighWatermark(ctx context.Context, offset int64) error {
	if p.highWatermark.Load() > offset {
		return nil
	}
	ch := make(chan struct{}, 1)
	p.AddWaiter(ch)
	defer p.RemoveWaiter(ch)
	for p.highWatermark.Load() <= offset {
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

// AddWaiter registers ch to receive a (non-blocking) send after every
// append. ch should be buffered.
func (p *Partition) AddWaiter(ch chan<- struct{}) {
	p.mu.Lock()
	if !p.mu.closed {
		p.mu.waiters[ch] = struct{}{}
	}
	p.mu.Unlock()
}

// RemoveWaiter unregisters ch.
func (p *Partition) RemoveWaiter(ch chan<- struct{}) {
	p.mu.Lock()
	delete(p.mu.waiters, ch)
	p.mu.Unlock()
}

func (p *Partition) wake() {
	p.mu.Lock()
	for ch := range p.mu.waiters {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
	p.mu.Unlock()
}

// close wakes and forgets every waiter.
func (p *Partition) close() {
	p.mu.Lock()
	p.mu.closed = true
	for ch := range p.mu.waiters {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
	p.mu.waiters = map[chan<- struct{}]struct{}{}
	p.mu.Unlock()
}

// Read returns whole batches from offset, at most maxBytes (at least one
// batch if minOneBatch), below the high watermark.
func (p *Partition) Read(offset int64, maxBytes int, minOneBatch bool) (commitlog.Region, error) {
	return p.Log.Read(offset, maxBytes, p.highWatermark.Load(), minOneBatch)
}

// TruncateHighWatermark re-reads the high watermark after the log moved its
// start (DeleteRecords, retention) or was truncated.
func (p *Partition) TruncateHighWatermark() {
	p.appendMu.Lock()
	if hw := p.Log.EndOffset(); hw < p.highWatermark.Load() {
		p.highWatermark.Store(hw)
	}
	p.appendMu.Unlock()
}

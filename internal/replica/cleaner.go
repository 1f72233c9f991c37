package replica

import (
	"errors"
	"log/slog"
	"sort"
	"sync"
	"time"

	"github.com/sluicehq/sluice/internal/commitlog"
)

// CleanerConfig configures the log cleaner (Kafka's log.cleaner.* broker
// keys). The zero value disables it.
type CleanerConfig struct {
	Enable  bool          // log.cleaner.enable
	Threads int           // log.cleaner.threads (0: disabled)
	Backoff time.Duration // log.cleaner.backoff.ms: sleep when nothing is due
	// DedupeBufferSize (log.cleaner.dedupe.buffer.size) is split between
	// the threads: each offset map uses at most its share.
	DedupeBufferSize int64
	// IOMaxBytesPerSecond (log.cleaner.io.max.bytes.per.second) throttles
	// all threads together; <= 0 or Kafka's Double.MaxValue: unlimited.
	IOMaxBytesPerSecond float64
	// TopicConfig returns a topic's cleaner settings and whether its
	// cleanup.policy includes compact (read at every scheduling round, so
	// dynamic changes apply to the next pass).
	TopicConfig func(topic string) (cfg commitlog.CleanConfig, compact bool)
}

// CleanerStatus is the cleaner's progress on one partition, for
// kafka-log-dirs and metrics.
type CleanerStatus struct {
	Partition TopicPartition
	// Checkpoint is the first offset not yet compacted (Kafka's
	// cleaner-offset-checkpoint).
	Checkpoint int64
	// Last is the last pass (zero if none since start).
	Last        commitlog.CleanStats
	LastError   string // the last pass's error, "" if it succeeded
	Uncleanable bool   // a pass failed: skipped until the partition is reopened
	Passes      int
	BytesRead   int64 // totals since start
	BytesWrite  int64
}

// LogCleaner runs compaction in the background (Kafka's LogCleaner and
// LogCleanerManager): each of its threads repeatedly picks the compacted
// partition with the highest dirty ratio among those due (dirty ratio at
// least min.cleanable.dirty.ratio, max.compaction.lag.ms exceeded, or kept
// tombstones past their delete horizon) and not being cleaned by another
// thread, runs one pass on it, and sleeps for the backoff when none is due.
type LogCleaner struct {
	cfg      CleanerConfig
	logger   *slog.Logger
	parts    func() map[TopicPartition]*Partition
	throttle *commitlog.Throttler
	stop     <-chan struct{}
	wake     chan struct{}

	mu struct {
		sync.Mutex
		inProgress map[*Partition]bool
		// uncleanable: a pass failed on the log (corruption, I/O error);
		// it is skipped until the partition is reopened (Kafka's
		// uncleanable partitions).
		uncleanable map[*Partition]bool
		status      map[TopicPartition]*CleanerStatus
	}
}

// newLogCleaner builds a cleaner over the partitions parts returns.
func newLogCleaner(cfg CleanerConfig, parts func() map[TopicPartition]*Partition, stop <-chan struct{}, logger *slog.Logger) *LogCleaner {
	if cfg.Threads <= 0 {
		cfg.Threads = 1
	}
	if cfg.Backoff <= 0 {
		cfg.Backoff = 15 * time.Second
	}
	if cfg.DedupeBufferSize <= 0 {
		cfg.DedupeBufferSize = commitlog.DefaultDedupeBufferSize
	}
	c := &LogCleaner{cfg: cfg, logger: logger, parts: parts, stop: stop, wake: make(chan struct{}, 1),
		throttle: commitlog.NewThrottler(cfg.IOMaxBytesPerSecond)}
	c.mu.inProgress = map[*Partition]bool{}
	c.mu.uncleanable = map[*Partition]bool{}
	c.mu.status = map[TopicPartition]*CleanerStatus{}
	return c
}

// startCleaner starts the log cleaner threads if enabled (called by Start).
func (m *Manager) startCleaner() {
	cc := m.cfg.Cleaner
	if !cc.Enable || cc.Threads <= 0 || cc.TopicConfig == nil {
		return
	}
	m.cleaner = newLogCleaner(cc, m.All, m.stop, m.logger.With("component", "log-cleaner"))
	for i := 0; i < cc.Threads; i++ {
		m.wg.Add(1)
		go func() {
			defer m.wg.Done()
			m.cleaner.run()
		}()
	}
}

// Cleaner returns the log cleaner, or nil when it is disabled.
func (m *Manager) Cleaner() *LogCleaner { return m.cleaner }

// Wake makes idle cleaner threads look for work now instead of after their
// backoff (tests, a config change).
func (c *LogCleaner) Wake() {
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// SetIOMaxBytesPerSecond changes the throttle (a dynamic broker config).
func (c *LogCleaner) SetIOMaxBytesPerSecond(rate float64) { c.throttle.SetRate(rate) }

func (c *LogCleaner) stopped() bool {
	select {
	case <-c.stop:
		return true
	default:
		return false
	}
}

// run is one cleaner thread.
func (c *LogCleaner) run() {
	cl := commitlog.NewCleaner(c.cfg.DedupeBufferSize/int64(c.cfg.Threads), c.throttle)
	cl.SetInterrupt(c.stopped)
	for !c.stopped() {
		if c.cleanOne(cl) {
			continue
		}
		t := time.NewTimer(c.cfg.Backoff)
		select {
		case <-c.stop:
			t.Stop()
			return
		case <-c.wake:
		case <-t.C:
		}
		t.Stop()
	}
}

// cleanOne cleans the dirtiest due partition; false when none is due.
func (c *LogCleaner) cleanOne(cl *commitlog.Cleaner) bool {
	p, cc := c.grabFilthiest(time.Now())
	if p == nil {
		return false
	}
	defer func() {
		c.mu.Lock()
		delete(c.mu.inProgress, p)
		c.mu.Unlock()
	}()
	tp := TopicPartition{p.Topic, p.Index}
	st, err := cl.Clean(p.Log, cc)
	c.mu.Lock()
	s := c.statusLocked(tp)
	s.Last = st
	s.Passes++
	s.BytesRead += st.BytesRead
	s.BytesWrite += st.BytesWritten
	s.LastError = ""
	if err != nil {
		s.LastError = err.Error()
		s.Uncleanable = !errors.Is(err, commitlog.ErrCleaningAborted) && !errors.Is(err, commitlog.ErrClosed)
	} else {
		s.Checkpoint = st.EndOffset
	}
	c.mu.Unlock()
	switch {
	case err == nil:
		c.logger.Debug("cleaned", "partition", tp, "from", st.FirstDirtyOffset, "to", st.EndOffset,
			"read", st.BytesRead, "written", st.BytesWritten, "duration", st.Duration)
	case errors.Is(err, commitlog.ErrCleaningAborted), errors.Is(err, commitlog.ErrClosed):
		c.logger.Info("cleaning aborted", "partition", tp, "err", err)
	default:
		c.logger.Error("cleaning failed; partition marked uncleanable", "partition", tp, "err", err)
		c.mu.Lock()
		c.mu.uncleanable[p] = true
		c.mu.Unlock()
	}
	return true
}

func (c *LogCleaner) statusLocked(tp TopicPartition) *CleanerStatus {
	s := c.mu.status[tp]
	if s == nil {
		s = &CleanerStatus{Partition: tp, Checkpoint: -1}
		c.mu.status[tp] = s
	}
	return s
}

// grabFilthiest picks the due compacted partition with the highest dirty
// ratio and marks it in progress (Kafka's grabFilthiestCompactedLog).
func (c *LogCleaner) grabFilthiest(now time.Time) (*Partition, commitlog.CleanConfig) {
	type cand struct {
		p  *Partition
		cc commitlog.CleanConfig
		cl commitlog.Cleanable
	}
	var best *cand
	parts := c.parts()
	c.prune(parts)
	for _, p := range parts {
		cc, compact := c.cfg.TopicConfig(p.Topic)
		if !compact {
			continue
		}
		c.mu.Lock()
		busy := c.mu.inProgress[p] || c.mu.uncleanable[p]
		c.mu.Unlock()
		if busy {
			continue
		}
		cc.StableOffset = p.HighWatermark()
		cl, err := p.Log.Cleanable(cc, now)
		if err != nil || !cl.ShouldClean(cc) {
			continue
		}
		if best == nil || cl.DirtyRatio > best.cl.DirtyRatio {
			best = &cand{p, cc, cl}
		}
	}
	if best == nil {
		return nil, commitlog.CleanConfig{}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.mu.inProgress[best.p] {
		return nil, commitlog.CleanConfig{}
	}
	c.mu.inProgress[best.p] = true
	return best.p, best.cc
}

// prune forgets partitions no longer hosted (deleted topics).
func (c *LogCleaner) prune(parts map[TopicPartition]*Partition) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for p := range c.mu.uncleanable {
		if parts[TopicPartition{p.Topic, p.Index}] != p {
			delete(c.mu.uncleanable, p)
		}
	}
	for tp := range c.mu.status {
		if parts[tp] == nil {
			delete(c.mu.status, tp)
		}
	}
}

// Status returns the cleaner's progress on every partition it has cleaned
// since start, sorted by partition. Partitions not cleaned yet report
// their persisted checkpoint through StatusOf.
func (c *LogCleaner) Status() []CleanerStatus {
	c.mu.Lock()
	out := make([]CleanerStatus, 0, len(c.mu.status))
	for _, s := range c.mu.status {
		out = append(out, *s)
	}
	c.mu.Unlock()
	sort.Slice(out, func(i, j int) bool {
		if out[i].Partition.Topic != out[j].Partition.Topic {
			return out[i].Partition.Topic < out[j].Partition.Topic
		}
		return out[i].Partition.Partition < out[j].Partition.Partition
	})
	return out
}

// StatusOf returns the progress on one partition; a partition not cleaned
// since start reports its persisted checkpoint.
func (c *LogCleaner) StatusOf(p *Partition) CleanerStatus {
	tp := TopicPartition{p.Topic, p.Index}
	c.mu.Lock()
	if s := c.mu.status[tp]; s != nil {
		out := *s
		c.mu.Unlock()
		return out
	}
	c.mu.Unlock()
	ck, _ := p.Log.CleanerCheckpoint()
	return CleanerStatus{Partition: tp, Checkpoint: ck}
}

package replica

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"github.com/sluicehq/sluice/internal/commitlog"
	"github.com/sluicehq/sluice/internal/metadata"
)

// TopicPartition names a partition.
type TopicPartition struct {
	Topic     string
	Partition int32
}

func (tp TopicPartition) String() string { return tp.Topic + "-" + strconv.Itoa(int(tp.Partition)) }

// ManagerConfig configures a Manager.
type ManagerConfig struct {
	// Dir is the log directory partitions live in (the first of log.dirs).
	Dir string
	// NodeID is this broker's id.
	NodeID int32
	// LogConfig returns the log configuration of a topic from an image.
	LogConfig func(im *metadata.Image, topic string) (commitlog.Config, Policy)
	// RetentionCheckInterval is log.retention.check.interval.ms.
	RetentionCheckInterval time.Duration
	// FlushCheckInterval is log.flush.scheduler.interval.ms (how often
	// flush.ms is checked); 0 disables the flusher.
	FlushCheckInterval time.Duration
	// Cleaner configures the log cleaner (cleaner.go); zero: disabled.
	Cleaner CleanerConfig
}

// Manager hosts this broker's partitions and keeps them in line with the
// metadata image (Kafka's ReplicaManager and LogManager).
type Manager struct {
	cfg    ManagerConfig
	logger *slog.Logger

	// parts is the current partition table, replaced whole on change so
	// lookups on the hot path take no lock.
	parts atomic.Pointer[map[TopicPartition]*Partition]
	mu    sync.Mutex // serializes changes to parts

	stop    chan struct{}
	wg      sync.WaitGroup
	cleaner *LogCleaner // nil when disabled
}

// NewManager creates a manager; Apply opens the partitions of an image.
func NewManager(cfg ManagerConfig, logger *slog.Logger) (*Manager, error) {
	if err := os.MkdirAll(cfg.Dir, 0o755); err != nil {
		return nil, err
	}
	m := &Manager{cfg: cfg, logger: logger, stop: make(chan struct{})}
	empty := map[TopicPartition]*Partition{}
	m.parts.Store(&empty)
	return m, nil
}

// Get returns the partition, or nil if this broker does not host it.
func (m *Manager) Get(topic string, partition int32) *Partition {
	return (*m.parts.Load())[TopicPartition{topic, partition}]
}

// All returns every hosted partition.
func (m *Manager) All() map[TopicPartition]*Partition { return *m.parts.Load() }

// Apply brings the hosted partitions in line with im: opens (creating) the
// logs of partitions placed on this broker, closes and deletes those of
// removed topics, and applies changed configs.
func (m *Manager) Apply(im *metadata.Image) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	old := *m.parts.Load()
	next := make(map[TopicPartition]*Partition, len(old))
	var firstErr error
	for _, t := range im.Topics {
		cfg, pol := m.cfg.LogConfig(im, t.Name)
		for i, pm := range t.Partitions {
			if !hosts(pm, m.cfg.NodeID) {
				continue
			}
			tp := TopicPartition{t.Name, int32(i)}
			if p := old[tp]; p != nil && p.TopicID == t.ID {
				p.Log.SetConfig(cfg)
				p.SetPolicy(pol)
				p.SetLeaderEpoch(pm.LeaderEpoch)
				next[tp] = p
				continue
			}
			p, err := m.open(tp, t.ID, cfg, pm.LeaderEpoch)
			if err != nil {
				if firstErr == nil {
					firstErr = err
				}
				continue
			}
			p.SetPolicy(pol)
			next[tp] = p
		}
	}
	for tp, p := range old {
		if q := next[tp]; q == p {
			continue
		}
		p.close()
		if err := p.Log.Delete(); err != nil {
			m.logger.Error("deleting partition", "partition", tp, "err", err)
		}
	}
	m.parts.Store(&next)
	return firstErr
}

func hosts(pm metadata.Partition, node int32) bool {
	for _, r := range pm.Replicas {
		if r == node {
			return true
		}
	}
	return false
}

const partitionMetadataFile = "partition.metadata"

// open opens the log of tp, creating it. A directory left by an earlier
// topic of the same name (another topic id) is removed first.
func (m *Manager) open(tp TopicPartition, id uuid.UUID, cfg commitlog.Config, epoch int32) (*Partition, error) {
	dir := filepath.Join(m.cfg.Dir, tp.String())
	if b, err := os.ReadFile(filepath.Join(dir, partitionMetadataFile)); err == nil {
		if got, ok := parsePartitionMetadata(string(b)); !ok || got != id {
			m.logger.Warn("removing log of an earlier topic with the same name", "partition", tp, "dir", dir)
			if err := os.RemoveAll(dir); err != nil {
				return nil, err
			}
		}
	}
	l, err := commitlog.Open(dir, cfg, m.logger.With("partition", tp.String()))
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", tp, err)
	}
	if err := writePartitionMetadata(dir, id); err != nil {
		l.Close()
		return nil, err
	}
	return NewPartition(tp.Topic, id, tp.Partition, l, epoch), nil
}

// partition.metadata as Kafka writes it: "version: 0\ntopic_id: <base64>".
func writePartitionMetadata(dir string, id uuid.UUID) error {
	path := filepath.Join(dir, partitionMetadataFile)
	want := "version: 0\ntopic_id: " + encodeTopicID(id) + "\n"
	if b, err := os.ReadFile(path); err == nil && string(b) == want {
		return nil
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(want), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

func parsePartitionMetadata(s string) (uuid.UUID, bool) {
	for _, line := range strings.Split(s, "\n") {
		if v, ok := strings.CutPrefix(line, "topic_id: "); ok {
			return decodeTopicID(strings.TrimSpace(v))
		}
	}
	return uuid.UUID{}, false
}

// RemoveStrays deletes partition directories of topics absent from im (a
// topic deleted while this broker was down).
func (m *Manager) RemoveStrays(im *metadata.Image) {
	ents, err := os.ReadDir(m.cfg.Dir)
	if err != nil {
		return
	}
	hosted := m.All()
	for _, e := range ents {
		name := e.Name()
		i := strings.LastIndexByte(name, '-')
		if !e.IsDir() || i <= 0 || strings.HasPrefix(name, "__cluster_metadata") {
			continue
		}
		n, err := strconv.Atoi(name[i+1:])
		if err != nil {
			continue
		}
		if _, ok := hosted[TopicPartition{name[:i], int32(n)}]; ok {
			continue
		}
		if _, ok := os.Stat(filepath.Join(m.cfg.Dir, name, partitionMetadataFile)); ok != nil {
			continue // not ours
		}
		m.logger.Info("removing stray partition directory", "dir", name)
		_ = os.RemoveAll(filepath.Join(m.cfg.Dir, name))
	}
}

// Start runs the retention and flush loops and the log cleaner.
func (m *Manager) Start() {
	m.startCleaner()
	if m.cfg.RetentionCheckInterval > 0 {
		m.loop(m.cfg.RetentionCheckInterval, func(p *Partition) {
			if n, err := p.Log.ApplyRetention(time.Now()); err != nil {
				m.logger.Error("retention", "partition", p.Topic, "index", p.Index, "err", err)
			} else if n > 0 {
				m.logger.Info("retention deleted segments", "topic", p.Topic, "partition", p.Index, "segments", n)
			}
		})
	}
	if m.cfg.FlushCheckInterval > 0 {
		m.loop(m.cfg.FlushCheckInterval, func(p *Partition) {
			if p.Log.NeedsFlush(time.Now()) {
				if err := p.Log.Flush(); err != nil {
					m.logger.Error("flush", "topic", p.Topic, "partition", p.Index, "err", err)
				}
			}
		})
	}
}

func (m *Manager) loop(every time.Duration, fn func(*Partition)) {
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-m.stop:
				return
			case <-t.C:
				for _, p := range m.All() {
					fn(p)
				}
			}
		}
	}()
}

// Close stops the loops and closes every log (flushing it).
func (m *Manager) Close(ctx context.Context) error {
	close(m.stop)
	m.wg.Wait()
	m.mu.Lock()
	defer m.mu.Unlock()
	var firstErr error
	for _, p := range m.All() {
		p.close()
		if err := p.Log.Close(); err != nil && firstErr == nil {
			firstErr = err
		}
	}
	empty := map[TopicPartition]*Partition{}
	m.parts.Store(&empty)
	return firstErr
}

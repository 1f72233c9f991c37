package server

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/sluicehq/sluice/internal/batch"
	"github.com/sluicehq/sluice/internal/config"
	"github.com/sluicehq/sluice/internal/controller"
	"github.com/sluicehq/sluice/internal/group"
	"github.com/sluicehq/sluice/internal/metadata"
	"github.com/sluicehq/sluice/internal/replica"
)

const offsetsTopic = controller.OffsetsTopic

// offsetsStore is the group coordinator's storage: the partitions of
// __consumer_offsets hosted here.
type offsetsStore struct {
	replicas *replica.Manager
	ensure   func() error
}

func (s *offsetsStore) Append(ctx context.Context, partition int32, recs []batch.Record) error {
	if err := s.ensure(); err != nil {
		return err
	}
	p := s.replicas.Get(offsetsTopic, partition)
	if p == nil {
		return fmt.Errorf("%w: %s-%d is not hosted here", group.ErrNotCoordinator, offsetsTopic, partition)
	}
	b := batch.AppendBatch(nil, 0, time.Now().UnixMilli(), recs)
	res, err := p.AppendAsLeader(b, time.Now())
	if err != nil {
		return err
	}
	return p.WaitForHighWatermark(ctx, res.LastOffset)
}

func (s *offsetsStore) Replay(ctx context.Context, partition int32, fn func(r batch.Record) error) error {
	p := s.replicas.Get(offsetsTopic, partition)
	if p == nil {
		return nil // not created yet: nothing stored
	}
	var buf []byte
	off := p.Log.StartOffset()
	for off < p.HighWatermark() {
		if err := ctx.Err(); err != nil {
			return err
		}
		r, err := p.Read(off, 1<<20, true)
		if err != nil {
			return err
		}
		buf = r.ReadTo(buf[:0])
		r.Release()
		if len(buf) == 0 {
			break
		}
		for b := buf; len(b) > 0; {
			n := batch.BatchSize(b)
			if n <= 0 || n > len(b) {
				return fmt.Errorf("%s-%d: corrupt batch at offset %d", offsetsTopic, partition, off)
			}
			h, err := batch.ParseHeader(b[:n])
			if err != nil {
				return err
			}
			if !h.Control() {
				if err := batch.ForEachRecord(b[:n], fn); err != nil {
					return err
				}
			}
			off = h.LastOffset() + 1
			b = b[n:]
		}
	}
	return nil
}

// topicsView answers the coordinator's topic lookups from the image.
type topicsView struct{ meta *metadata.Log }

func (v topicsView) Lookup(topic string) ([16]byte, int32, bool) {
	t := v.meta.Image().Topics[topic]
	if t == nil {
		return [16]byte{}, 0, false
	}
	return t.ID, int32(len(t.Partitions)), true
}

func (v topicsView) LookupID(id [16]byte) (string, int32, bool) {
	t := v.meta.Image().TopicIDs[id]
	if t == nil {
		return "", 0, false
	}
	return t.Name, int32(len(t.Partitions)), true
}

func (v topicsView) TopicNames() []string { return v.meta.Image().SortedTopics() }

func startGroups(ctx context.Context, cfg *config.Broker, meta *metadata.Log, replicas *replica.Manager, ctrl *controller.Controller, logger *slog.Logger) (groupCoordinator, error) {
	ensure := func() error { return ctrl.EnsureOffsetsTopic(cfg.OffsetsTopicNumPartitions) }
	gcfg := group.DefaultConfig()
	gcfg.Partitions = cfg.OffsetsTopicNumPartitions
	gcfg.InitialRebalanceDelay = time.Duration(cfg.GroupInitialRebalanceDelayMs) * time.Millisecond
	gcfg.MinSessionTimeout = time.Duration(cfg.GroupMinSessionTimeoutMs) * time.Millisecond
	gcfg.MaxSessionTimeout = time.Duration(cfg.GroupMaxSessionTimeoutMs) * time.Millisecond
	gcfg.MaxSize = int(cfg.GroupMaxSize)
	gcfg.OffsetsRetention = time.Duration(cfg.OffsetsRetentionMinutes) * time.Minute
	c := group.New(gcfg, &offsetsStore{replicas: replicas, ensure: ensure}, topicsView{meta}, logger)
	if err := c.Start(ctx); err != nil {
		return nil, err
	}
	return c, nil
}

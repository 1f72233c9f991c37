package group

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/sluicehq/sluice/internal/batch"
)

func msDuration(ms int32) time.Duration { return time.Duration(ms) * time.Millisecond }

// loadAll replays every partition of __consumer_offsets, LoadParallelism at a
// time, and installs the groups found.
func (c *Coordinator) loadAll(ctx context.Context) error {
	parts := make(chan int32)
	errs := make(chan error, c.cfg.Partitions)
	var wg sync.WaitGroup
	for range min(int32(c.cfg.LoadParallelism), c.cfg.Partitions) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for p := range parts {
				if err := c.loadPartition(ctx, p); err != nil {
					errs <- err
				}
			}
		}()
	}
	for p := range c.cfg.Partitions {
		parts <- p
	}
	close(parts)
	wg.Wait()
	close(errs)
	return <-errs // nil when the channel is empty
}

// loadPartition replays partition p and publishes its groups; requests for
// those groups get COORDINATOR_LOAD_IN_PROGRESS until it returns.
func (c *Coordinator) loadPartition(ctx context.Context, p int32) error {
	groups := make(map[string]*group)
	err := c.store.Replay(ctx, p, func(r batch.Record) error {
		return c.replayRecord(groups, r)
	})
	if err != nil {
		return fmt.Errorf("group: loading __consumer_offsets partition %d: %w", p, err)
	}
	now := c.now()
	c.mu.Lock()
	for id, g := range groups {
		if g.typ == typeClassic && len(g.classic.members) == 0 && len(g.offsets) == 0 && !g.hasMetadata {
			continue // everything about it was deleted
		}
		c.mu.groups[id] = g
	}
	c.mu.Unlock()
	for _, g := range groups {
		g.mu.Lock()
		if g.typ == typeConsumer {
			g.finishConsumerLoadLocked()
		}
		for _, m := range g.classic.members {
			m.deadline = now.Add(m.sessionTimeout)
		}
		if len(g.classic.members) > 0 {
			g.scheduleLocked()
		}
		g.mu.Unlock()
	}
	c.loaded[p].Store(true)
	return nil
}

// expiryLoop expires offsets every OffsetsRetentionCheckInterval.
func (c *Coordinator) expiryLoop() {
	t := time.NewTicker(c.cfg.OffsetsRetentionCheckInterval)
	defer t.Stop()
	for {
		select {
		case <-c.done:
			return
		case <-t.C:
			c.ExpireOffsets(c.ctx)
		}
	}
}

// ExpireOffsets runs one pass of offsets.retention.minutes expiry (Kafka's
// cleanupGroupMetadata): offsets of empty groups older than OffsetsRetention
// (counted from the later of the commit and the group becoming empty) get
// tombstones, and an empty group left with no offsets is deleted. It returns
// how many offsets expired.
func (c *Coordinator) ExpireOffsets(ctx context.Context) int {
	now := c.now()
	total := 0
	for _, g := range c.allGroups() {
		g.mu.Lock()
		if !g.dead && g.isEmptyLocked() {
			total += g.expireLocked(ctx, now)
		}
		g.mu.Unlock()
	}
	return total
}

func (g *group) expireLocked(ctx context.Context, now time.Time) int {
	retention := g.c.cfg.OffsetsRetention.Milliseconds()
	var expired []topicPartition
	for tp, e := range g.offsets {
		base := max(e.commitTimestamp, g.emptySince)
		if now.UnixMilli()-base >= retention {
			expired = append(expired, tp)
		}
	}
	deleteGroup := len(expired) == len(g.offsets)
	if len(expired) == 0 && !deleteGroup {
		return 0
	}
	recs := make([]batch.Record, 0, len(expired)+1)
	for _, tp := range expired {
		recs = append(recs, batch.Record{Timestamp: now.UnixMilli(), Key: offsetCommitKey(g.id, tp.topic, tp.partition)})
	}
	if deleteGroup && g.hasMetadata {
		recs = append(recs, batch.Record{Timestamp: now.UnixMilli(), Key: groupMetadataKey(g.id)})
	}
	if deleteGroup && g.typ == typeConsumer {
		recs = append(recs, g.consumerTombstonesLocked(now.UnixMilli())...)
	}
	if len(recs) > 0 {
		if err := g.c.store.Append(ctx, g.partition, recs); err != nil {
			g.c.log.Warn("expiring offsets", "group", g.id, "err", err)
			return 0
		}
	}
	for _, tp := range expired {
		delete(g.offsets, tp)
	}
	if deleteGroup {
		g.c.log.Info("deleting expired empty group", "group", g.id, "offsets", len(expired))
		g.c.removeLocked(g)
	}
	return len(expired)
}

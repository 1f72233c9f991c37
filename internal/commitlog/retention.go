package commitlog

import (
	"fmt"
	"io"
	"time"

	"github.com/sluicehq/sluice/internal/batch"
)

// ApplyRetention deletes whole non-active segments (Kafka's
// deleteRetentionMsBreachedSegments, deleteRetentionSizeBreachedSegments and
// deleteLogStartOffsetBreachedSegments):
//
//   - from the oldest, while a segment's largest timestamp is older than
//     now - RetentionMs (RetentionMs -1: never). A segment without
//     timestamps uses its file's modification time;
//   - from the oldest, while the log is larger than RetentionBytes by at
//     least the segment's size (RetentionBytes -1: unlimited);
//   - segments wholly below the log start offset.
//
// The log start offset moves to the base of the first remaining segment. It
// returns the number of segments deleted. The active segment is never
// deleted (Kafka rolls it first when it alone breaches retention.ms; we
// leave it to the next roll).
func (l *Log) ApplyRetention(now time.Time) (int, error) {
	cfg := l.config()
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.mu.closed {
		return 0, ErrClosed
	}
	segs := *l.segments.Load()
	nowMs := now.UnixMilli()
	total := int64(0)
	for _, s := range segs {
		total += s.size.Load()
	}
	n := 0
	for n < len(segs)-1 {
		s := segs[n]
		del := false
		if cfg.RetentionMs >= 0 {
			ts, _ := s.maxTimestamp()
			if ts < 0 {
				ts = s.created.UnixMilli()
			}
			del = nowMs-ts > cfg.RetentionMs
		}
		if !del && cfg.RetentionBytes >= 0 {
			del = total-s.size.Load() >= cfg.RetentionBytes
		}
		if !del {
			del = segs[n+1].base <= l.startOffset.Load()
		}
		if !del {
			break
		}
		total -= s.size.Load()
		n++
	}
	if n == 0 {
		return 0, nil
	}
	newStart := max(l.startOffset.Load(), segs[n].base)
	if err := l.removeSegmentsLocked(n, newStart); err != nil {
		return n, err
	}
	l.logger.Info("retention deleted segments", "count", n, "logStartOffset", newStart)
	return n, nil
}

// removeSegmentsLocked drops the first n segments and sets the start offset.
func (l *Log) removeSegmentsLocked(n int, newStart int64) error {
	segs := *l.segments.Load()
	rest := make([]*segment, len(segs)-n)
	copy(rest, segs[n:])
	l.segments.Store(&rest)
	l.startOffset.Store(newStart)
	l.mu.producers.truncateHead(newStart)
	// Checkpoint the start offset before the files go, so a crash in
	// between cannot resurrect a start offset below the first segment.
	err := l.writeCheckpointLocked(false)
	for _, s := range segs[:n] {
		s.markRemoved()
	}
	return err
}

// deleteSegmentsBelowLocked removes non-active segments whose offsets are all
// below start.
func (l *Log) deleteSegmentsBelowLocked(start int64) {
	segs := *l.segments.Load()
	n := 0
	for n < len(segs)-1 && segs[n+1].base <= start {
		n++
	}
	if n > 0 {
		l.removeSegmentsLocked(n, start)
	}
}

// DeleteRecordsBefore moves the log start offset to offset (Kafka's
// DeleteRecords; offset must be <= EndOffset, usually <= the high
// watermark, which the caller checks), persists it, and deletes the
// segments wholly below it. Moving backwards is a no-op.
func (l *Log) DeleteRecordsBefore(offset int64) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.mu.closed {
		return ErrClosed
	}
	if offset > l.endOffset.Load() {
		return fmt.Errorf("%w: delete before %d beyond the log end %d", ErrOffsetOutOfRange, offset, l.endOffset.Load())
	}
	if offset <= l.startOffset.Load() {
		return nil
	}
	l.startOffset.Store(offset)
	l.mu.producers.truncateHead(offset)
	if err := l.writeCheckpointLocked(false); err != nil {
		return err
	}
	l.deleteSegmentsBelowLocked(offset)
	return nil
}

// Truncate removes every batch whose last offset is >= offset, so the log
// ends at or below offset (a follower truncating to the leader, Kafka's
// truncateTo). A batch straddling offset is removed whole. Segments whose
// base is >= offset are deleted, unless that would leave no segment.
func (l *Log) Truncate(offset int64) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.mu.closed {
		return ErrClosed
	}
	if offset >= l.endOffset.Load() {
		return nil
	}
	if offset < l.startOffset.Load() {
		offset = l.startOffset.Load()
	}
	cfg := l.config()
	segs := *l.segments.Load()
	keep := len(segs)
	for keep > 1 && segs[keep-1].base >= offset {
		keep--
	}
	removed := segs[keep:]
	rest := make([]*segment, keep)
	copy(rest, segs[:keep])
	last := rest[keep-1]

	// Find the first batch with last offset >= offset in last.
	var hdr [batch.HeaderSize]byte
	limit := last.size.Load()
	pos := last.lookup(offset)
	for {
		h, err := last.readHeader(&hdr, pos, limit)
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("commitlog: truncate segment %d at %d: %w", last.base, pos, err)
		}
		if h.LastOffset() >= offset {
			break
		}
		pos += int64(h.Size())
	}
	if err := last.log.Truncate(pos); err != nil {
		return err
	}
	last.size.Store(pos)
	if _, err := last.recover(cfg); err != nil { // rebuild indexes and nextOffset
		return err
	}
	last.unflushed = true
	newEnd := max(last.nextOffset, last.base)
	if len(removed) > 0 {
		l.segments.Store(&rest)
		for _, s := range removed {
			s.markRemoved()
		}
	}
	l.endOffset.Store(newEnd)
	if l.mu.recoveryPoint > newEnd {
		l.mu.recoveryPoint = newEnd
	}
	if newEnd < l.startOffset.Load() {
		l.startOffset.Store(newEnd)
	}
	ps, err := l.buildProducerState()
	if err != nil {
		return err
	}
	l.mu.producers = ps
	return nil
}

package commitlog

// The log cleaner: compaction of one partition's log, after Kafka's
// LogCleaner / Cleaner / LogCleanerManager (KIP-58 min.compaction.lag.ms,
// KIP-354 max.compaction.lag.ms, KIP-534 delete horizons in the batch).
//
// A compacted log has a clean head [log start, firstDirty) that was compacted
// before and a dirty tail [firstDirty, end). firstDirty is the cleaner
// checkpoint, persisted in the partition directory. One pass (Cleaner.Clean):
//
//  1. The cleanable range is [firstDirty, firstUncleanable), where
//     firstUncleanable is the base of the active segment, or of the first
//     segment holding a record younger than min.compaction.lag.ms. The
//     active segment is never cleaned.
//  2. An offset map (key -> latest offset, offsetmap.go) is built over the
//     cleanable range, up to the dedupe buffer's capacity; when the map
//     fills, the pass stops at the last batch that fit and the rest waits for
//     the next pass.
//  3. Every non-active segment below the map's end (clean head included) is
//     rewritten: a record survives if it is past the map's end, or it has a
//     key and is the latest offset for it, and it has a value or is a
//     tombstone whose batch's delete horizon has not passed. Records without
//     a key are dropped. Segments are grouped so that a group's output fits
//     one segment (segment.bytes, segment.index.bytes, 32-bit relative
//     offsets), and each group is swapped in atomically (cleanerswap.go).
//  4. The checkpoint moves to the map's end.
//
// Batches: a batch whose records all survive and that needs no delete
// horizon is copied byte for byte. Otherwise it is rebuilt with the same
// base offset, last offset delta, partition leader epoch, producer id, epoch
// and base sequence, attributes and codec (recompressed with it), with only
// the surviving records (their offset deltas unchanged: the log gets gaps)
// and a new CRC. A batch holding surviving tombstones gets a delete horizon
// (now + delete.retention.ms) the first time it is cleaned: the
// AttrDeleteHorizon attribute bit, with the horizon as base timestamp and
// the record timestamp deltas rebased on it (KIP-534). Its tombstones go in
// the first pass after the horizon. A batch with no survivors is dropped,
// unless it is the last batch of an idempotent producer still in the
// producer state: then an empty batch (header only, same offsets and
// producer fields) is kept so the producer's last sequence and epoch survive
// (Kafka's BatchRetention.RETAIN_EMPTY).
//
// Control batches are copied unchanged for now. Transactions will slot in at
// filterBatch: aborted transactions' records are dropped while building the
// map and cleaning (from the .txnindex), and markers are removed like
// tombstones, after their delete horizon, once their transaction has no data
// left (Kafka's shouldDiscardBatch / needToSetDeleteHorizon for markers).

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/sluicehq/sluice/internal/batch"
)

// CleanConfig is a compacted topic's cleaner configuration (Kafka's topic
// configs of the same names). Zero values are meaningful (0 ms, ratio 0),
// except MaxCompactionLagMs (<= 0: none); DefaultCleanConfig has Kafka's
// defaults.
type CleanConfig struct {
	DeleteRetentionMs      int64   // delete.retention.ms, default 1 day
	MinCompactionLagMs     int64   // min.compaction.lag.ms, default 0
	MaxCompactionLagMs     int64   // max.compaction.lag.ms, default Long.MAX_VALUE
	MinCleanableDirtyRatio float64 // min.cleanable.dirty.ratio, default 0.5
	// StableOffset bounds the cleanable range: records at or above it are
	// not mapped (Kafka cleans below the last stable offset, itself at most
	// the high watermark, so nothing a follower may still truncate is
	// compacted). 0: no bound beyond the active segment.
	StableOffset int64
}

// Kafka's cleaner defaults.
const (
	DefaultDeleteRetentionMs      = 24 * 60 * 60 * 1000
	DefaultMinCleanableDirtyRatio = 0.5
	DefaultDedupeBufferSize       = 128 << 20
)

// DefaultCleanConfig returns Kafka's defaults.
func DefaultCleanConfig() CleanConfig {
	return CleanConfig{
		DeleteRetentionMs:      DefaultDeleteRetentionMs,
		MaxCompactionLagMs:     math.MaxInt64,
		MinCleanableDirtyRatio: DefaultMinCleanableDirtyRatio,
	}
}

// EnsureDefaults clamps out-of-range values: negative durations mean 0, a
// MaxCompactionLagMs <= 0 means none.
func (c *CleanConfig) EnsureDefaults() {
	c.DeleteRetentionMs = max(c.DeleteRetentionMs, 0)
	c.MinCompactionLagMs = max(c.MinCompactionLagMs, 0)
	if c.MaxCompactionLagMs <= 0 {
		c.MaxCompactionLagMs = math.MaxInt64
	}
}

// Cleanable describes how much of a log the cleaner could compact now
// (Kafka's LogToClean).
type Cleanable struct {
	FirstDirtyOffset       int64   // the cleaner checkpoint, clamped into the log
	FirstUncleanableOffset int64   // active segment base or min.compaction.lag.ms bound
	CleanBytes             int64   // bytes of segments below FirstDirtyOffset
	CleanableBytes         int64   // bytes of segments in [FirstDirty, FirstUncleanable)
	DirtyRatio             float64 // CleanableBytes / (CleanBytes + CleanableBytes)
	// MaxCompactionDelayMs > 0: the oldest dirty record is that much past
	// max.compaction.lag.ms, so the log is cleaned whatever its ratio.
	MaxCompactionDelayMs int64
	// DeleteHorizonMs is the earliest delete horizon of tombstones kept by
	// the last pass (-1: none); when it has passed a pass removes them even
	// with nothing dirty.
	DeleteHorizonMs int64
	now             int64
}

// ShouldClean reports whether a pass is due (Kafka's
// grabFilthiestCompactedLog rules).
func (c Cleanable) ShouldClean(cc CleanConfig) bool {
	cc.EnsureDefaults()
	if c.CleanableBytes > 0 && (c.DirtyRatio >= cc.MinCleanableDirtyRatio || c.MaxCompactionDelayMs > 0) {
		return true
	}
	return c.DeleteHorizonMs >= 0 && c.DeleteHorizonMs <= c.now
}

// CleanStats describes one cleaning pass (the progress the broker reports).
type CleanStats struct {
	Start             time.Time
	Duration          time.Duration
	FirstDirtyOffset  int64   // checkpoint before the pass
	EndOffset         int64   // checkpoint after: the first offset not cleaned
	DirtyRatio        float64 // before the pass
	DirtyBytes        int64   // dirty log covered by the offset map
	BytesRead         int64   // all segment bytes read (map + rewrite)
	BytesWritten      int64
	RecordsRead       int64 // records in the rewritten segments
	RecordsRetained   int64
	TombstonesRemoved int64
	SegmentsCleaned   int   // source segments rewritten
	SegmentsWritten   int   // cleaned segments swapped in
	MapEntries        int   // keys in the offset map
	MapBytes          int64 // memory of the offset map
	MapFull           bool  // the map filled before the end of the dirty section
	DeleteHorizonMs   int64 // earliest horizon of tombstones kept, -1 none
}

// MBPerSecond is the cleaning throughput in MB (1e6 bytes) of dirty log per
// second.
func (s CleanStats) MBPerSecond() float64 {
	if s.Duration <= 0 {
		return 0
	}
	return float64(s.DirtyBytes) / 1e6 / s.Duration.Seconds()
}

// ErrCleaningAborted: the log changed under the cleaner (retention,
// truncation, close); nothing was swapped for the affected group and the
// checkpoint did not move. The next pass starts over.
var ErrCleaningAborted = errors.New("commitlog: cleaning aborted")

// Cleaner holds one cleaner thread's reusable resources: the offset map
// (bounded by the dedupe buffer) and I/O buffers. Not safe for concurrent
// use; a Log may be cleaned by one Cleaner at a time (the scheduler's job),
// concurrently with appends, reads, retention and flushes.
type Cleaner struct {
	dedupeBytes int64
	throttle    *Throttler
	om          *offsetMap
	rbuf        []byte // segment read buffer
	out         []byte // rebuilt batch
	body        []byte // rebuilt records section before compression
	keep        []bool // per-record decisions of the current batch
	now         func() time.Time
	interrupt   func() bool
}

// SetInterrupt installs f, polled between reads: when it returns true the
// pass stops with ErrCleaningAborted (broker shutdown).
func (c *Cleaner) SetInterrupt(f func() bool) { c.interrupt = f }

// readChunk is the cleaner's read size (log.cleaner.io.buffer.size is
// split between reads and writes in Kafka; 1 MiB reads keep syscalls rare).
const readChunk = 1 << 20

// NewCleaner returns a cleaner whose offset map uses at most
// dedupeBufferBytes (<= 0: Kafka's 128 MiB), sharing throttle (nil: no
// throttling).
func NewCleaner(dedupeBufferBytes int64, throttle *Throttler) *Cleaner {
	if dedupeBufferBytes <= 0 {
		dedupeBufferBytes = DefaultDedupeBufferSize
	}
	return &Cleaner{dedupeBytes: dedupeBufferBytes, throttle: throttle, om: newOffsetMap(), now: time.Now}
}

// MapBytes is the memory currently held by the offset map.
func (c *Cleaner) MapBytes() int64 { return c.om.bytes() }

// Cleanable computes the log's cleanable range and dirty ratio.
func (l *Log) Cleanable(cc CleanConfig, now time.Time) (Cleanable, error) {
	cc.EnsureDefaults()
	ck, err := readCleanerCheckpoint(l.dir)
	if err != nil {
		return Cleanable{}, err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.mu.closed {
		return Cleanable{}, ErrClosed
	}
	return l.cleanableLocked(cc, ck, now.UnixMilli()), nil
}

func (l *Log) cleanableLocked(cc CleanConfig, ck cleanerCheckpoint, nowMs int64) Cleanable {
	segs := *l.segments.Load()
	start, end := l.startOffset.Load(), l.endOffset.Load()
	c := Cleanable{FirstDirtyOffset: ck.firstDirty, DeleteHorizonMs: ck.deleteHorizonMs, now: nowMs}
	if c.FirstDirtyOffset < start || c.FirstDirtyOffset > end {
		c.FirstDirtyOffset = start
	}
	active := segs[len(segs)-1]
	c.FirstUncleanableOffset = max(active.base, c.FirstDirtyOffset)
	if cc.StableOffset > 0 {
		c.FirstUncleanableOffset = max(min(c.FirstUncleanableOffset, cc.StableOffset), c.FirstDirtyOffset)
	}
	// min.compaction.lag.ms: the first dirty segment holding a record
	// younger than the lag bounds the cleanable range.
	for i, s := range segs[:len(segs)-1] {
		if segs[i+1].base <= c.FirstDirtyOffset {
			continue
		}
		if cc.MinCompactionLagMs > 0 && s.largestTimestamp() > nowMs-cc.MinCompactionLagMs {
			c.FirstUncleanableOffset = max(s.base, c.FirstDirtyOffset)
			break
		}
	}
	var firstDirtyTS int64 = -1
	for i, s := range segs[:len(segs)-1] {
		segEnd := segs[i+1].base
		size := s.size.Load()
		switch {
		case segEnd <= c.FirstDirtyOffset:
			c.CleanBytes += size
		case s.base < c.FirstUncleanableOffset:
			c.CleanableBytes += size
			if firstDirtyTS < 0 && size > 0 {
				firstDirtyTS = s.rollTS
			}
		}
	}
	if total := c.CleanBytes + c.CleanableBytes; total > 0 {
		c.DirtyRatio = float64(c.CleanableBytes) / float64(total)
	}
	// max.compaction.lag.ms (KIP-354): the earliest dirty record's timestamp
	// (the first batch of the first dirty segment).
	if cc.MaxCompactionLagMs < math.MaxInt64 && firstDirtyTS >= 0 {
		if d := nowMs - cc.MaxCompactionLagMs - firstDirtyTS; d > 0 {
			c.MaxCompactionDelayMs = d
		}
	}
	return c
}

// largestTimestamp is the segment's max timestamp, or its file time when it
// has none (Kafka's LogSegment.largestTimestamp).
func (s *segment) largestTimestamp() int64 {
	if ts, _ := s.maxTimestamp(); ts >= 0 {
		return ts
	}
	return s.created.UnixMilli()
}

// cleanPass is the state of one Clean call.
type cleanPass struct {
	l           *Log
	cc          CleanConfig
	nowMs       int64
	lastOffsets map[int64]int64 // producer id -> last offset of its last batch
	stats       CleanStats
}

// Clean runs one compaction pass over l (see the file comment) whether or not
// it is due (the scheduler asks Cleanable.ShouldClean first). It returns the
// pass's statistics; on error the log is unchanged for every group not yet
// swapped, and the checkpoint does not move.
func (c *Cleaner) Clean(l *Log, cc CleanConfig) (CleanStats, error) {
	cc.EnsureDefaults()
	now := c.now()
	p := &cleanPass{l: l, cc: cc, nowMs: now.UnixMilli()}
	p.stats.Start = now
	p.stats.DeleteHorizonMs = -1
	ck, err := readCleanerCheckpoint(l.dir)
	if err != nil {
		return p.stats, err
	}

	// Snapshot the segments, the cleanable range and the producers' last
	// offsets under the log lock; the segments are referenced so retention
	// cannot close them under us.
	l.mu.Lock()
	if l.mu.closed {
		l.mu.Unlock()
		return p.stats, ErrClosed
	}
	cl := l.cleanableLocked(cc, ck, p.nowMs)
	all := *l.segments.Load()
	activeBase := all[len(all)-1].base
	segs := make([]*segment, 0, len(all)-1)
	for _, s := range all[:len(all)-1] {
		if s.acquire() {
			segs = append(segs, s)
		}
	}
	p.lastOffsets = make(map[int64]int64, len(l.mu.producers.producers))
	for pid, e := range l.mu.producers.producers {
		p.lastOffsets[pid] = e.lastOffset()
	}
	l.mu.Unlock()
	defer func() {
		for _, s := range segs {
			if s != nil {
				s.release()
			}
		}
	}()
	p.stats.FirstDirtyOffset = cl.FirstDirtyOffset
	p.stats.DirtyRatio = cl.DirtyRatio

	endOffset, err := c.buildOffsetMap(p, segs, cl.FirstDirtyOffset, cl.FirstUncleanableOffset)
	if err != nil {
		return p.stats, err
	}
	p.stats.EndOffset = endOffset

	// Segments to rewrite: every non-active segment with offsets below
	// endOffset (those starting at or after it hold nothing the map covers).
	var toClean []*segment
	for _, s := range segs {
		if s.base < endOffset {
			toClean = append(toClean, s)
		}
	}
	index := make(map[*segment]int, len(segs))
	for i, s := range segs {
		index[s] = i
	}
	cfg := l.config()
	for _, group := range groupSegments(toClean, activeBase, cfg) {
		if err := c.cleanGroup(p, group, cfg); err != nil {
			p.stats.Duration = time.Since(now)
			return p.stats, err
		}
		// Drop the pass's references on the replaced segments now, so their
		// files go as soon as no reader holds them.
		for _, g := range group {
			if i, ok := index[g]; ok {
				g.release()
				segs[i] = nil
			}
		}
	}
	if l.closed.Load() { // deleted: the directory may belong to a new log by now
		return p.stats, ErrCleaningAborted
	}
	err = writeCleanerCheckpoint(l.dir, cleanerCheckpoint{firstDirty: endOffset, deleteHorizonMs: p.stats.DeleteHorizonMs})
	p.stats.Duration = time.Since(now)
	if err == nil {
		l.logger.Info("cleaned log", "from", p.stats.FirstDirtyOffset, "to", endOffset,
			"segments", p.stats.SegmentsCleaned, "read", p.stats.BytesRead, "written", p.stats.BytesWritten,
			"records", p.stats.RecordsRead, "retained", p.stats.RecordsRetained, "duration", p.stats.Duration)
	}
	return p.stats, err
}

// buildOffsetMap fills the map from the dirty section [from, to) and returns
// the offset the pass cleans up to: to, or the end of the last batch that
// fit when the map filled.
func (c *Cleaner) buildOffsetMap(p *cleanPass, segs []*segment, from, to int64) (int64, error) {
	c.om.reset(to-from, c.dedupeBytes)
	p.stats.MapBytes = c.om.bytes()
	end := from
	full := false
	for i, s := range segs {
		if full || s.base >= to {
			break
		}
		if i+1 < len(segs) && segs[i+1].base <= from {
			continue
		}
		err := c.scan(p, s, func(h *batch.Header, b []byte) (bool, error) {
			if h.LastOffset() < from {
				return false, nil
			}
			if h.LastOffset() >= to {
				return true, nil
			}
			if !h.Control() && h.NumRecords > 0 {
				if c.om.wouldOverflow(int(h.NumRecords)) && c.om.n > 0 {
					full = true
					return true, nil
				}
				// A first batch with more records than the map holds is
				// mapped in part: the pass ends inside it.
				partial, lastPut := false, int64(-1)
				err := c.forEachRaw(h, b, func(r rawRecord) {
					off := h.BaseOffset + r.offDelta
					if partial || r.keyNull || off < from {
						return
					}
					if c.om.n >= c.om.maxEntries {
						partial = true
						return
					}
					c.om.put(r.key, off)
					lastPut = off
				})
				if err != nil {
					return true, err
				}
				if partial {
					full = true
					end = lastPut + 1
					return true, nil
				}
			}
			end = h.LastOffset() + 1
			p.stats.DirtyBytes += int64(len(b))
			return false, nil
		})
		if err != nil {
			return 0, fmt.Errorf("commitlog: cleaner offset map, segment %d: %w", s.base, err)
		}
	}
	if !full {
		end = max(end, to)
	}
	p.stats.MapFull = full
	p.stats.MapEntries = c.om.n
	c.om.latest = end - 1
	return end, nil
}

// groupSegments splits segs (consecutive, non-active) into groups whose
// cleaned output fits one segment (Kafka's groupSegmentsBySize): total size
// within segment.bytes, total offset index within segment.index.bytes, and
// the group's offsets within 32-bit relative offsets. all is the full
// non-active list, for segment ends.
func groupSegments(segs []*segment, activeBase int64, cfg *Config) [][]*segment {
	endOf := func(i int) int64 { // exclusive end of segs[i]'s offsets
		if i+1 < len(segs) {
			return segs[i+1].base
		}
		return activeBase
	}
	var groups [][]*segment
	for first := 0; first < len(segs); {
		n := 1
		size := segs[first].size.Load()
		idx := segs[first].indexBytes()
		for first+n < len(segs) {
			next := segs[first+n]
			if size+next.size.Load() > min(cfg.SegmentBytes, math.MaxInt32) ||
				idx+next.indexBytes() > int64(cfg.SegmentIndexBytes) ||
				endOf(first+n)-1-segs[first].base > math.MaxInt32 {
				break
			}
			size += next.size.Load()
			idx += next.indexBytes()
			n++
		}
		groups = append(groups, segs[first:first+n])
		first += n
	}
	return groups
}

func (s *segment) indexBytes() int64 {
	s.idx.RLock()
	defer s.idx.RUnlock()
	return int64(len(s.idx.offsets)) * offsetEntrySize
}

// cleanGroup rewrites one group into a .cleaned segment and swaps it in.
func (c *Cleaner) cleanGroup(p *cleanPass, group []*segment, cfg *Config) error {
	sizes := make([]int64, len(group))
	for i, s := range group {
		sizes[i] = s.size.Load()
	}
	w, err := createCleaned(p.l.dir, group[0].base, cfg)
	if err != nil {
		return err
	}
	w.throttle = c.throttle
	defer w.abort() // no-op after a successful install
	for _, s := range group {
		err := c.scan(p, s, func(h *batch.Header, b []byte) (bool, error) {
			return false, c.filterBatch(p, h, b, w)
		})
		if err != nil {
			return fmt.Errorf("commitlog: cleaning segment %d: %w", s.base, err)
		}
	}
	// The cleaned segment keeps the last source's modification time, so
	// time-based retention of compact,delete topics sees the data's age.
	if st, err := group[len(group)-1].log.Stat(); err == nil {
		w.mtime = st.ModTime()
	}
	if err := w.finish(); err != nil {
		return err
	}
	if err := p.l.installCleaned(group, sizes, w); err != nil {
		return err
	}
	p.stats.SegmentsCleaned += len(group)
	p.stats.SegmentsWritten++
	p.stats.BytesWritten += w.pos
	return nil
}

// scan calls fn with every batch of s in order, reading the file in large
// chunks (throttled). b aliases the read buffer: valid during fn only. fn
// returning true stops the scan.
func (c *Cleaner) scan(p *cleanPass, s *segment, fn func(h *batch.Header, b []byte) (bool, error)) error {
	limit := s.size.Load()
	if cap(c.rbuf) < readChunk {
		c.rbuf = make([]byte, readChunk)
	}
	for pos := int64(0); pos < limit; {
		if c.interrupt != nil && c.interrupt() {
			return ErrCleaningAborted
		}
		n := min(int64(cap(c.rbuf)), limit-pos)
		buf := c.rbuf[:n]
		if _, err := s.log.ReadAt(buf, pos); err != nil {
			return err
		}
		c.throttle.Wait(int(n))
		p.stats.BytesRead += n
		off := 0
		for off+batch.HeaderSize <= len(buf) {
			size := batch.BatchSize(buf[off:])
			if size < batch.HeaderSize {
				return fmt.Errorf("%w: batch length at %d", batch.ErrCorrupt, pos+int64(off))
			}
			if off+size > len(buf) {
				break
			}
			h, err := batch.ParseHeader(buf[off:])
			if err != nil {
				return err
			}
			stop, err := fn(&h, buf[off:off+size])
			if err != nil || stop {
				return err
			}
			off += size
		}
		if off == 0 {
			// A batch larger than the buffer: grow it and read again.
			need := batch.HeaderSize
			if len(buf) >= batch.LengthOverhead {
				need = max(batch.BatchSize(buf), need)
			}
			if int64(need) > limit-pos {
				return fmt.Errorf("%w: batch at %d runs past the segment end", batch.ErrCorrupt, pos)
			}
			c.rbuf = make([]byte, need)
			continue
		}
		pos += int64(off)
	}
	return nil
}

// rawRecord is one record's framing inside a batch's records section.
type rawRecord struct {
	start, end     int // the whole record, length varint included
	tsStart, tsEnd int // the timestamp delta varint
	tsDelta        int64
	offDelta       int64
	key            []byte
	keyNull        bool
	valueNull      bool
}

// nextRaw parses the record at recs[pos:].
func nextRaw(recs []byte, pos int) (rawRecord, error) {
	r := rawRecord{start: pos}
	l, k := binary.Varint(recs[pos:])
	if k <= 0 || l < 1 || l > int64(len(recs)-pos-k) {
		return r, badRecord(pos, "length")
	}
	p := pos + k
	r.end = p + int(l)
	b := recs[:r.end]
	p++ // attributes
	r.tsStart = p
	if r.tsDelta, k = binary.Varint(b[p:]); k <= 0 {
		return r, badRecord(pos, "timestamp delta")
	}
	p += k
	r.tsEnd = p
	if r.offDelta, k = binary.Varint(b[p:]); k <= 0 || r.offDelta < 0 {
		return r, badRecord(pos, "offset delta")
	}
	p += k
	kl, k := binary.Varint(b[p:])
	if k <= 0 || kl < -1 || kl > int64(len(b)-p-k) {
		return r, badRecord(pos, "key")
	}
	p += k
	if kl < 0 {
		r.keyNull = true
	} else {
		r.key = b[p : p+int(kl)]
		p += int(kl)
	}
	vl, k := binary.Varint(b[p:])
	if k <= 0 || vl < -1 || vl > int64(len(b)-p-k) {
		return r, badRecord(pos, "value")
	}
	r.valueNull = vl < 0
	return r, nil
}

func badRecord(pos int, what string) error {
	return fmt.Errorf("%w: record at %d: bad %s", batch.ErrCorrupt, pos, what)
}

// records returns the (decompressed) records section of batch b.
func records(h *batch.Header, b []byte) ([]byte, error) {
	recs := b[batch.HeaderSize:]
	if c := h.Codec(); c != batch.CodecNone {
		return batch.Decompress(c, recs)
	}
	return recs, nil
}

// forEachRaw calls fn with each record of batch b.
func (c *Cleaner) forEachRaw(h *batch.Header, b []byte, fn func(r rawRecord)) error {
	recs, err := records(h, b)
	if err != nil {
		return err
	}
	pos := 0
	for i := int32(0); i < h.NumRecords; i++ {
		r, err := nextRaw(recs, pos)
		if err != nil {
			return err
		}
		fn(r)
		pos = r.end
	}
	return nil
}

// filterBatch writes what survives of batch b to w (see the file comment).
func (c *Cleaner) filterBatch(p *cleanPass, h *batch.Header, b []byte, w *cleanedWriter) error {
	p.stats.RecordsRead += int64(h.NumRecords)
	if h.Control() {
		// Markers stay until transactions are supported.
		p.stats.RecordsRetained += int64(h.NumRecords)
		return w.append(b, h)
	}
	if h.NumRecords == 0 {
		// An empty batch kept for a producer's state stays while it is the
		// producer's last.
		if last, ok := p.lastOffsets[h.ProducerID]; ok && h.ProducerID >= 0 && last == h.LastOffset() {
			return w.append(b, h)
		}
		return nil
	}
	recs, err := records(h, b)
	if err != nil {
		return err
	}
	horizon, hasHorizon := h.DeleteHorizon()
	keepTombstones := !hasHorizon || p.nowMs < horizon
	c.keep = c.keep[:0]
	retained, tombstones := 0, 0
	pos := 0
	for i := int32(0); i < h.NumRecords; i++ {
		r, err := nextRaw(recs, pos)
		if err != nil {
			return err
		}
		pos = r.end
		off := h.BaseOffset + r.offDelta
		keep := off > c.om.latest ||
			(!r.keyNull && off >= c.om.get(r.key) && (!r.valueNull || keepTombstones))
		if keep {
			retained++
			if r.valueNull {
				tombstones++
			}
		} else if r.valueNull && !r.keyNull && off >= c.om.get(r.key) {
			p.stats.TombstonesRemoved++
		}
		c.keep = append(c.keep, keep)
	}
	p.stats.RecordsRetained += int64(retained)
	needHorizon := tombstones > 0 && !hasHorizon
	if tombstones > 0 {
		hz := horizon
		if needHorizon {
			hz = p.nowMs + p.cc.DeleteRetentionMs
		}
		if p.stats.DeleteHorizonMs < 0 || hz < p.stats.DeleteHorizonMs {
			p.stats.DeleteHorizonMs = hz
		}
	}
	if retained == int(h.NumRecords) && !needHorizon {
		return w.append(b, h) // unchanged: copied byte for byte
	}
	if retained == 0 {
		if h.ProducerID >= 0 && p.lastOffsets[h.ProducerID] == h.LastOffset() {
			return w.append(c.emptyBatch(h), h)
		}
		return nil
	}
	out, err := c.rebuild(p, h, recs, retained, needHorizon)
	if err != nil {
		return err
	}
	nh, _ := batch.ParseHeader(out)
	return w.append(out, &nh)
}

// rebuild builds the batch of h with the kept records of recs.
func (c *Cleaner) rebuild(p *cleanPass, h *batch.Header, recs []byte, retained int, needHorizon bool) ([]byte, error) {
	nh := *h
	if needHorizon {
		nh.Attributes |= batch.AttrDeleteHorizon
		nh.BaseTimestamp = p.nowMs + p.cc.DeleteRetentionMs
	}
	body := c.body[:0]
	maxTS := int64(-1)
	pos := 0
	for i := 0; i < len(c.keep); i++ {
		r, _ := nextRaw(recs, pos) // parsed once already
		pos = r.end
		if !c.keep[i] {
			continue
		}
		ts := h.BaseTimestamp + r.tsDelta
		maxTS = max(maxTS, ts)
		if nh.BaseTimestamp == h.BaseTimestamp {
			body = append(body, recs[r.start:r.end]...)
			continue
		}
		// Rebase the timestamp delta on the delete horizon.
		_, k := binary.Varint(recs[r.start:])
		bodyLen := r.end - r.start - k
		newDelta := ts - nh.BaseTimestamp
		bodyLen += varintSize(newDelta) - (r.tsEnd - r.tsStart)
		body = binary.AppendVarint(body, int64(bodyLen))
		body = append(body, recs[r.start+k:r.tsStart]...)
		body = binary.AppendVarint(body, newDelta)
		body = append(body, recs[r.tsEnd:r.end]...)
	}
	c.body = body
	if h.LogAppendTime() {
		maxTS = h.MaxTimestamp
	}
	out := append(c.out[:0], make([]byte, batch.HeaderSize)...)
	if codec := h.Codec(); codec != batch.CodecNone {
		var err error
		if out, err = batch.Compress(out, codec, body); err != nil {
			return nil, err
		}
	} else {
		out = append(out, body...)
	}
	c.out = out
	nh.Length = int32(len(out) - batch.LengthOverhead)
	nh.NumRecords = int32(retained)
	nh.MaxTimestamp = maxTS
	batch.PutHeader(out, nh)
	return out, nil
}

// emptyBatch is h's header alone with no records: same offsets, producer
// fields and attributes (uncompressed), timestamps the batch's max (Kafka's
// DefaultRecordBatch.writeEmptyHeader).
func (c *Cleaner) emptyBatch(h *batch.Header) []byte {
	nh := *h
	nh.Attributes &^= batch.CodecMask | batch.AttrDeleteHorizon
	nh.BaseTimestamp = h.MaxTimestamp
	nh.NumRecords = 0
	nh.Length = batch.HeaderSize - batch.LengthOverhead
	out := append(c.out[:0], make([]byte, batch.HeaderSize)...)
	batch.PutHeader(out, nh)
	c.out = out
	return out
}

func varintSize(v int64) int {
	var buf [binary.MaxVarintLen64]byte
	return binary.PutVarint(buf[:], v)
}

// Package commitlog owns one partition's log on disk: its segments
// (%020d.log, with the sparse %020d.index offset index and %020d.timeindex
// time index), appending batches exactly as producers sent them (only the
// base offset, the partition leader epoch and, with LogAppendTime, the max
// timestamp are rewritten in place), reads of whole batches as file regions
// for zero-copy fetch, recovery after a crash, retention, the log start
// offset checkpoint, flush policy and the idempotent-producer state used to
// de-duplicate retried batches.
//
// It mirrors Kafka's UnifiedLog / LocalLog / LogSegment / OffsetIndex /
// TimeIndex / ProducerStateManager and LogLoader. It must not know about the
// network, replication or partitions' high watermarks: the caller passes the
// high watermark to Read, decides when to run ApplyRetention and Flush, and
// maps the errors to Kafka error codes. Records are validated by
// batch.Validate before Append; the log trusts their framing.
//
// # Concurrency
//
// Appends and other mutations (retention, truncation, DeleteRecordsBefore)
// serialise on Log.mu. Reads never take Log.mu: the segment list is an
// immutable slice swapped atomically, the log end offset and start offset
// are atomics, a segment's committed size is an atomic, and its in-memory
// indexes are under a per-segment RWMutex held only for a lookup. A Region
// holds a reference on its segment; a segment removed by retention is
// renamed to .deleted at once and unlinked and closed when its last Region is
// released. Lock order: Log.flushMu, then Log.mu, then segment.idx.
//
// # Durability
//
// The log relies on the page cache: a process crash (kill -9) loses nothing
// that Append returned. Against power loss, Flush fsyncs and records the
// recovery point in the checkpoint file; with Kafka's default flush.messages
// and flush.ms (Long.MAX_VALUE) only rolled segments are flushed (NeedsFlush
// reports them) and everything after the recovery point is rescanned on the
// next unclean Open: each batch's length, offsets and CRC are checked and the
// segment is truncated at the first bad batch, so a corrupt batch is never
// served and no complete batch before it is lost. Index files are rebuilt for
// recovered segments and whenever they fail a sanity check.
package commitlog

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sluicehq/sluice/internal/batch"
)

// Errors. Map them to Kafka error codes at the protocol layer.
var (
	// ErrOffsetOutOfRange: OFFSET_OUT_OF_RANGE.
	ErrOffsetOutOfRange = errors.New("offset out of range")
	// ErrOutOfOrderSequence: OUT_OF_ORDER_SEQUENCE_NUMBER.
	ErrOutOfOrderSequence = errors.New("out of order sequence number")
	// ErrInvalidProducerEpoch: INVALID_PRODUCER_EPOCH.
	ErrInvalidProducerEpoch = errors.New("invalid producer epoch")
	// ErrUnknownProducerID: UNKNOWN_PRODUCER_ID. Not returned since Kafka 2.5
	// semantics (an unknown producer may start at any sequence); kept for the
	// contract.
	ErrUnknownProducerID = errors.New("unknown producer id")
	// ErrUnexpectedOffset: a replicated append (AssignOffsets false) whose
	// offsets do not follow the log end. Kafka: UnexpectedAppendOffsetException.
	ErrUnexpectedOffset = errors.New("unexpected append offset")
	// ErrClosed: the log was closed or deleted.
	ErrClosed = errors.New("log closed")
)

// AppendOptions tell Append how to treat the records.
type AppendOptions struct {
	// LeaderEpoch is written into every batch when AssignOffsets.
	LeaderEpoch int32
	// Now is the append time (LogAppendTime, segment.ms); zero: time.Now().
	Now time.Time
	// AssignOffsets: leader append (offsets assigned from the log end,
	// producer sequences checked). false: replicated append, the batches keep
	// their offsets, which must start at or after the log end.
	AssignOffsets bool
}

// AppendResult describes a successful append.
type AppendResult struct {
	FirstOffset    int64 // base offset of the first batch
	LastOffset     int64 // last offset of the last batch
	LogAppendTime  int64 // -1 unless LogAppendTime is configured
	LogStartOffset int64
	Duplicate      bool // an idempotent retry: nothing was written
	Batches        int
	Records        int
}

// Log is one partition's log. All methods are safe for concurrent use.
type Log struct {
	dir    string
	logger *slog.Logger
	cfg    atomic.Pointer[Config]

	// segments is the immutable, sorted list of live segments; the last is
	// the active one. Replaced (never modified) under mu.
	segments    atomic.Pointer[[]*segment]
	endOffset   atomic.Int64 // log end offset (LEO)
	startOffset atomic.Int64 // log start offset
	unflushed   atomic.Int64 // messages appended since the last flush
	lastFlushMs atomic.Int64 // wall time of the last flush
	rolled      atomic.Bool  // a segment rolled since the last flush
	closed      atomic.Bool  // mirrors mu.closed for readers

	mu struct {
		sync.Mutex
		producers *producerState
		closed    bool
		// recoveryPoint: all offsets below it are fsynced.
		recoveryPoint int64
	}
	flushMu sync.Mutex // serialises Flush; taken before mu
}

// Open opens (creating if needed) the log in dir and recovers it: see the
// package doc. A nil logger discards.
func Open(dir string, cfg Config, logger *slog.Logger) (*Log, error) {
	cfg.EnsureDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if logger == nil {
		logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	l := &Log{dir: dir, logger: logger.With("dir", dir)}
	l.cfg.Store(&cfg)
	l.mu.producers = newProducerState()
	l.lastFlushMs.Store(time.Now().UnixMilli())
	if err := l.load(); err != nil {
		return nil, err
	}
	return l, nil
}

func (l *Log) config() *Config { return l.cfg.Load() }

// SetConfig replaces the configuration (dynamic topic config changes). It
// takes effect on the next append or retention run.
func (l *Log) SetConfig(cfg Config) {
	cfg.EnsureDefaults()
	l.cfg.Store(&cfg)
}

// Dir returns the log's directory.
func (l *Log) Dir() string { return l.dir }

// StartOffset is the log start offset.
func (l *Log) StartOffset() int64 { return l.startOffset.Load() }

// EndOffset is the log end offset (the offset the next record gets). It is
// lock-free.
func (l *Log) EndOffset() int64 { return l.endOffset.Load() }

// Size is the total size in bytes of the segment files.
func (l *Log) Size() int64 {
	var n int64
	for _, s := range *l.segments.Load() {
		n += s.size.Load()
	}
	return n
}

// NumSegments returns the number of segments.
func (l *Log) NumSegments() int { return len(*l.segments.Load()) }

func (l *Log) active() *segment {
	segs := *l.segments.Load()
	return segs[len(segs)-1]
}

// Append appends a records blob that passed batch.Validate. For a leader
// append (opts.AssignOffsets) offsets are assigned from the log end, the
// leader epoch is written, LogAppendTime is applied if configured, and
// idempotent batches are checked against the producer state: a retried batch
// (one of the producer's last five) returns the original offsets with
// Duplicate set and writes nothing. The records slice is modified in place.
func (l *Log) Append(records []byte, opts AppendOptions) (AppendResult, error) {
	cfg := l.config()
	res := AppendResult{LogAppendTime: -1}
	if len(records) == 0 {
		return res, fmt.Errorf("%w: empty append", batch.ErrCorrupt)
	}
	if int64(len(records)) > cfg.SegmentBytes {
		return res, fmt.Errorf("%w: %d bytes exceeds segment.bytes %d", batch.ErrTooLarge, len(records), cfg.SegmentBytes)
	}
	now := opts.Now
	if now.IsZero() {
		now = time.Now()
	}
	nowMs := now.UnixMilli()

	l.mu.Lock()
	defer l.mu.Unlock()
	if l.mu.closed {
		return res, ErrClosed
	}
	res.LogStartOffset = l.startOffset.Load()

	// Pass 1: headers, producer checks, offsets.
	var pending pendingProducers
	next := l.endOffset.Load()
	first := true
	var maxTS int64 = -1
	for b := records; len(b) > 0; {
		h, err := batch.ParseHeader(b)
		if err != nil {
			return res, err
		}
		size := h.Size()
		if size < batch.HeaderSize || size > len(b) {
			return res, fmt.Errorf("%w: batch length %d", batch.ErrCorrupt, h.Length)
		}
		if opts.AssignOffsets {
			h.BaseOffset = next
			if cfg.MessageTimestampLogAppendTime {
				h.MaxTimestamp = nowMs // what the producer state remembers for duplicates
			}
		} else if h.BaseOffset < next {
			return res, fmt.Errorf("%w: batch base offset %d below the log end %d", ErrUnexpectedOffset, h.BaseOffset, next)
		}
		if h.ProducerID >= 0 && !h.Control() {
			pe := pending.get(l.mu.producers, h.ProducerID)
			e := &pe.entry
			if opts.AssignOffsets {
				if dup, ok := e.findDuplicate(&h); ok && pe.known {
					if len(records) != size {
						return res, fmt.Errorf("%w: duplicate batch (sequence %d) in a multi-batch append",
							ErrOutOfOrderSequence, h.BaseSequence)
					}
					res.FirstOffset, res.LastOffset, res.Duplicate = dup.firstOffset, dup.lastOffset, true
					if cfg.MessageTimestampLogAppendTime {
						res.LogAppendTime = dup.timestamp
					}
					return res, nil
				}
				if err := checkSequence(e, pe.known, &h); err != nil {
					return res, err
				}
			}
			e.add(&h, h.BaseOffset)
			pe.known = true
		}
		if first {
			res.FirstOffset = h.BaseOffset
			first = false
		}
		if h.MaxTimestamp > maxTS {
			maxTS = h.MaxTimestamp
		}
		next = h.LastOffset() + 1
		res.Batches++
		res.Records += int(h.NumRecords)
		b = b[size:]
	}
	res.LastOffset = next - 1
	if cfg.MessageTimestampLogAppendTime && opts.AssignOffsets {
		res.LogAppendTime = nowMs
		maxTS = nowMs
	}

	seg, err := l.maybeRollLocked(cfg, res.FirstOffset, res.LastOffset, len(records), maxTS, now)
	if err != nil {
		return res, err
	}

	// Pass 2: rewrite in place.
	if opts.AssignOffsets {
		off := res.FirstOffset
		for b := records; len(b) > 0; {
			size := batch.BatchSize(b)
			one := b[:size]
			batch.SetBaseOffset(one, off)
			batch.SetPartitionLeaderEpoch(one, opts.LeaderEpoch)
			if cfg.MessageTimestampLogAppendTime {
				batch.SetLogAppendTime(one, nowMs)
			}
			h, _ := batch.ParseHeader(one)
			off = h.LastOffset() + 1
			b = b[size:]
		}
	}

	pos := seg.size.Load()
	if _, err := seg.log.WriteAt(records, pos); err != nil {
		seg.log.Truncate(pos) // best effort: never leave a torn batch behind
		return res, fmt.Errorf("commitlog: append to %s: %w", seg.log.Name(), err)
	}
	p := pos
	for b := records; len(b) > 0; {
		h, _ := batch.ParseHeader(b)
		if err := seg.trackBatch(&h, p, cfg); err != nil {
			// The data is written; an index write failure only costs a
			// rebuild on the next open.
			l.logger.Warn("index write failed", "segment", seg.base, "err", err)
		}
		p += int64(h.Size())
		b = b[h.Size():]
	}
	seg.unflushed = true
	seg.size.Store(p)
	l.endOffset.Store(next)
	pending.commit(l.mu.producers)
	l.unflushed.Add(int64(res.Records))
	return res, nil
}

// maybeRollLocked returns the segment to append to, rolling first if the
// active one is full by size, age, index or relative offset range (Kafka's
// LogSegment.shouldRoll).
func (l *Log) maybeRollLocked(cfg *Config, firstOffset, lastOffset int64, size int, maxTS int64, now time.Time) (*segment, error) {
	seg := l.active()
	segSize := seg.size.Load()
	if segSize == 0 {
		return seg, nil
	}
	roll := segSize > cfg.SegmentBytes-int64(size) ||
		!seg.canHold(lastOffset, size) ||
		seg.indexFullLocked(cfg)
	if !roll {
		var waited int64
		if seg.rollTS >= 0 && maxTS >= 0 {
			waited = maxTS - seg.rollTS
		} else {
			waited = now.Sub(seg.created).Milliseconds()
		}
		roll = waited > cfg.SegmentMs
	}
	if !roll {
		return seg, nil
	}
	return l.rollLocked(firstOffset, now)
}

// rollLocked seals the active segment and starts a new one at base.
func (l *Log) rollLocked(base int64, now time.Time) (*segment, error) {
	old := l.active()
	if err := old.maybeAppendTimeEntry(); err != nil {
		return nil, err
	}
	if base < old.nextOffset {
		base = old.nextOffset
	}
	seg, err := createSegment(l.dir, base, now)
	if err != nil {
		return nil, err
	}
	segs := *l.segments.Load()
	newSegs := make([]*segment, len(segs), len(segs)+1)
	copy(newSegs, segs)
	newSegs = append(newSegs, seg)
	l.segments.Store(&newSegs)
	l.rolled.Store(true)
	l.logger.Debug("rolled segment", "base", base)
	return seg, nil
}

// Roll forces a new active segment (tests, admin).
func (l *Log) Roll() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.mu.closed {
		return ErrClosed
	}
	if l.active().size.Load() == 0 {
		return nil
	}
	_, err := l.rollLocked(l.endOffset.Load(), time.Now())
	return err
}

// NeedsFlush is a cheap check for the flusher: true when flush.messages
// messages were appended, flush.ms elapsed with unflushed messages, or a
// segment was rolled since the last Flush.
func (l *Log) NeedsFlush(now time.Time) bool {
	if l.rolled.Load() {
		return true
	}
	n := l.unflushed.Load()
	if n == 0 {
		return false
	}
	cfg := l.config()
	return n >= cfg.FlushMessages || now.UnixMilli()-l.lastFlushMs.Load() >= cfg.FlushMs
}

// Flush fsyncs every segment written since the last flush and records the
// recovery point in the checkpoint file. Appends continue while it runs.
func (l *Log) Flush() error {
	l.flushMu.Lock()
	defer l.flushMu.Unlock()
	l.mu.Lock()
	if l.mu.closed {
		l.mu.Unlock()
		return ErrClosed
	}
	end := l.endOffset.Load()
	l.rolled.Store(false)
	n := l.unflushed.Swap(0)
	var dirty []*segment
	for _, s := range *l.segments.Load() {
		if s.unflushed && s.acquire() {
			s.unflushed = false
			dirty = append(dirty, s)
		}
	}
	l.mu.Unlock()
	var err error
	for _, s := range dirty {
		err = errors.Join(err, s.flush())
		s.release()
	}
	l.lastFlushMs.Store(time.Now().UnixMilli())
	if err != nil {
		l.unflushed.Add(n)
		l.rolled.Store(true)
		l.mu.Lock()
		for _, s := range dirty {
			s.unflushed = true
		}
		l.mu.Unlock()
		return err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if end > l.mu.recoveryPoint {
		l.mu.recoveryPoint = end
	}
	return l.writeCheckpointLocked(false)
}

// Close flushes and closes the log, marking the shutdown clean so the next
// Open skips recovery. Regions still held stay readable until released.
func (l *Log) Close() error {
	if err := l.Flush(); err != nil && !errors.Is(err, ErrClosed) {
		return err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.mu.closed {
		return nil
	}
	l.mu.closed = true
	l.closed.Store(true)
	err := l.active().maybeAppendTimeEntry()
	for _, s := range *l.segments.Load() {
		if err == nil && (s.unflushed || s == l.active()) {
			err = s.flush()
		}
	}
	if err == nil {
		l.mu.recoveryPoint = l.endOffset.Load()
		err = l.writeCheckpointLocked(true)
	}
	for _, s := range *l.segments.Load() {
		s.release()
	}
	return err
}

// Delete closes the log and removes its directory. Open Regions keep their
// (unlinked) files readable until released.
func (l *Log) Delete() error {
	l.mu.Lock()
	if !l.mu.closed {
		l.mu.closed = true
		l.closed.Store(true)
		for _, s := range *l.segments.Load() {
			s.release()
		}
	}
	l.mu.Unlock()
	return os.RemoveAll(l.dir)
}

// Region is a byte range of whole batches in a segment file. It holds a
// reference on the segment: call Release exactly once when done. File is
// shared: read it only with ReadAt/pread or sendfile with an explicit
// offset, never through its file position.
type Region struct {
	File *os.File
	Pos  int64
	Size int
	seg  *segment
}

// Release drops the Region's reference on its segment. A zero Region's
// Release does nothing.
func (r Region) Release() {
	if r.seg != nil {
		r.seg.release()
	}
}

// ReadTo appends the Region's bytes to dst (pread) and returns it. On a read
// error it returns dst unchanged.
func (r Region) ReadTo(dst []byte) []byte {
	out, _ := r.AppendTo(dst)
	return out
}

// AppendTo is ReadTo that reports errors.
func (r Region) AppendTo(dst []byte) ([]byte, error) {
	if r.Size == 0 {
		return dst, nil
	}
	n := len(dst)
	dst = grow(dst, r.Size)
	if _, err := r.File.ReadAt(dst[n:n+r.Size], r.Pos); err != nil {
		return dst[:n], err
	}
	return dst, nil
}

func grow(b []byte, n int) []byte {
	if cap(b)-len(b) < n {
		nb := make([]byte, len(b), len(b)+n)
		copy(nb, b)
		b = nb
	}
	return b[:len(b)+n]
}

// Read returns whole batches starting at the batch that contains offset,
// stopping before the first batch whose last offset is >= maxOffset (the
// high watermark, exclusive; < 0 means the log end), and capped at maxBytes
// unless minOneBatch and the first batch alone is larger (then that batch is
// returned whole). A read never crosses a segment boundary; an empty Region
// means nothing is readable yet. Offsets outside [StartOffset, EndOffset]
// are ErrOffsetOutOfRange.
func (l *Log) Read(offset int64, maxBytes int, maxOffset int64, minOneBatch bool) (Region, error) {
	for {
		if l.closed.Load() {
			return Region{}, ErrClosed
		}
		start, end := l.startOffset.Load(), l.endOffset.Load()
		if offset < start || offset > end {
			return Region{}, fmt.Errorf("%w: offset %d, log range [%d, %d]", ErrOffsetOutOfRange, offset, start, end)
		}
		if maxOffset < 0 || maxOffset > end {
			maxOffset = end
		}
		if offset >= maxOffset {
			return Region{}, nil
		}
		segs := *l.segments.Load()
		i := sort.Search(len(segs), func(i int) bool { return segs[i].base > offset }) - 1
		if i < 0 {
			i = 0
		}
		for ; i < len(segs); i++ {
			seg := segs[i]
			if !seg.acquire() {
				break // removed concurrently: reload the list
			}
			r, found, err := seg.read(offset, maxBytes, maxOffset, minOneBatch)
			if err != nil || found {
				if err != nil || r.Size == 0 {
					seg.release()
					return Region{}, err
				}
				return r, nil
			}
			seg.release()
		}
		if i == len(segs) {
			return Region{}, nil
		}
	}
}

// read finds the batch containing offset in s and builds the region. found
// is false when the segment has no batch with last offset >= offset.
func (s *segment) read(offset int64, maxBytes int, maxOffset int64, minOneBatch bool) (Region, bool, error) {
	limit := s.size.Load()
	pos := s.lookup(offset)
	var hdr [batch.HeaderSize]byte
	for {
		h, err := s.readHeader(&hdr, pos, limit)
		if err == io.EOF {
			return Region{}, false, nil
		}
		if err != nil {
			return Region{}, false, fmt.Errorf("commitlog: segment %d at %d: %w", s.base, pos, err)
		}
		if h.LastOffset() >= offset {
			break
		}
		pos += int64(h.Size())
	}
	r := Region{File: s.log, Pos: pos, seg: s}
	p := pos
	for {
		h, err := s.readHeader(&hdr, p, limit)
		if err == io.EOF {
			break
		}
		if err != nil {
			return Region{}, true, fmt.Errorf("commitlog: segment %d at %d: %w", s.base, p, err)
		}
		if h.LastOffset() >= maxOffset {
			break
		}
		size := h.Size()
		if r.Size+size > maxBytes && !(r.Size == 0 && minOneBatch) {
			break
		}
		r.Size += size
		p += int64(size)
		if r.Size >= maxBytes {
			break
		}
	}
	return r, true, nil
}

// OffsetForTimestamp returns the first offset at or after the log start whose
// record timestamp is >= ts, with that record's timestamp (Kafka's
// ListOffsets by timestamp). ok is false when no record qualifies.
func (l *Log) OffsetForTimestamp(ts int64) (offset, timestamp int64, ok bool) {
	start := l.startOffset.Load()
	for _, seg := range *l.segments.Load() {
		if maxTS, _ := seg.maxTimestamp(); maxTS < ts {
			continue
		}
		if !seg.acquire() {
			continue
		}
		offset, timestamp, ok = seg.findTimestamp(ts, start)
		seg.release()
		if ok {
			return offset, timestamp, true
		}
	}
	return -1, -1, false
}

func (s *segment) findTimestamp(ts, startOffset int64) (int64, int64, bool) {
	s.idx.RLock()
	rel, found := lookupTime(s.idx.times, ts)
	s.idx.RUnlock()
	from := s.base
	if found {
		from = s.base + int64(rel)
	}
	if startOffset > from {
		from = startOffset
	}
	limit := s.size.Load()
	pos := s.lookup(from)
	var hdr [batch.HeaderSize]byte
	var buf []byte
	for {
		h, err := s.readHeader(&hdr, pos, limit)
		if err != nil {
			return -1, -1, false
		}
		if h.MaxTimestamp >= ts && h.LastOffset() >= startOffset {
			buf = grow(buf[:0], h.Size())
			if _, err := s.log.ReadAt(buf, pos); err != nil {
				return -1, -1, false
			}
			var off, rts int64 = -1, -1
			errStop := errors.New("stop")
			err := batch.ForEachRecord(buf, func(r batch.Record) error {
				if r.Timestamp >= ts && r.Offset >= startOffset {
					off, rts = r.Offset, r.Timestamp
					return errStop
				}
				return nil
			})
			if off >= 0 {
				return off, rts, true
			}
			if err != nil && err != errStop {
				return -1, -1, false
			}
		}
		pos += int64(h.Size())
	}
}

// MaxTimestamp returns the largest timestamp in the log and the offset of the
// first record carrying it (ListOffsets MAX_TIMESTAMP, KIP-734); (-1, -1)
// when the log is empty.
func (l *Log) MaxTimestamp() (offset, timestamp int64) {
	offset, timestamp = -1, -1
	var best *segment
	for _, seg := range *l.segments.Load() {
		ts, off := seg.maxTimestamp()
		if ts > timestamp {
			timestamp, offset, best = ts, off, seg
		}
	}
	if best != nil && best.acquire() {
		// The batch's last offset is known; find the record itself.
		if off, ts, ok := best.findTimestamp(timestamp, l.startOffset.Load()); ok && ts == timestamp {
			offset = off
		}
		best.release()
	}
	return offset, timestamp
}

package commitlog

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sluicehq/sluice/internal/batch"
)

// File suffixes, as Kafka names them.
const (
	logSuffix       = ".log"
	indexSuffix     = ".index"
	timeIndexSuffix = ".timeindex"
	deletedSuffix   = ".deleted"
	cleanedSuffix   = ".cleaned"
	swapSuffix      = ".swap"
	tmpSuffix       = ".tmp"
)

func segmentName(dir string, base int64, suffix string) string {
	return filepath.Join(dir, fmt.Sprintf("%020d%s", base, suffix))
}

// segment is one .log file with its offset and time indexes (Kafka's
// LogSegment).
//
// Concurrency: the appender (holding Log.mu) is the only writer. Readers use
// size (bytes below it are complete batches and never change, except by
// Truncate) and the index slices under idx (an RWMutex held only for a
// lookup). refs counts the log's own reference plus one per Region; when it
// drops to zero after the segment was removed from the log, the files are
// closed and unlinked.
type segment struct {
	base int64 // base offset: the file names
	dir  string

	log, offIdx, timeIdx *os.File

	size atomic.Int64 // committed bytes in the .log file
	refs atomic.Int32 // 1 for the log + 1 per Region
	// removed is set when the segment left the log; the files are unlinked
	// (they were renamed to .deleted) when refs reaches zero.
	removed atomic.Bool

	idx struct {
		sync.RWMutex
		offsets []offsetEntry
		times   []timeEntry
		// maxTS and offsetOfMaxTS: largest batch MaxTimestamp in the segment
		// and the last offset of the (first) batch carrying it; -1 if empty.
		maxTS, offsetOfMaxTS int64
	}

	// Fields below are owned by the appender (Log.mu held) or by the loader.
	nextOffset      int64 // offset after the last batch (== base when empty)
	bytesSinceIndex int
	created         time.Time // for SegmentMs when there is no rolling timestamp
	rollTS          int64     // MaxTimestamp of the first batch, -1 if none
	unflushed       bool      // written since the last fsync
	scratch         [timeEntrySize]byte
}

// createSegment creates empty files for a segment at base (truncating any
// leftovers).
func createSegment(dir string, base int64, now time.Time) (*segment, error) {
	s := &segment{base: base, dir: dir, nextOffset: base, created: now, rollTS: -1}
	s.idx.maxTS, s.idx.offsetOfMaxTS = -1, -1
	var err error
	flags := os.O_RDWR | os.O_CREATE | os.O_TRUNC
	if s.log, err = os.OpenFile(segmentName(dir, base, logSuffix), flags, 0o644); err != nil {
		return nil, err
	}
	if s.offIdx, err = os.OpenFile(segmentName(dir, base, indexSuffix), flags, 0o644); err != nil {
		s.closeFiles()
		return nil, err
	}
	if s.timeIdx, err = os.OpenFile(segmentName(dir, base, timeIndexSuffix), flags, 0o644); err != nil {
		s.closeFiles()
		return nil, err
	}
	s.refs.Store(1)
	return s, nil
}

// openSegmentFiles opens the files of an existing segment (creating missing
// index files).
func openSegmentFiles(dir string, base int64) (*segment, error) {
	s := &segment{base: base, dir: dir, nextOffset: base, rollTS: -1}
	s.idx.maxTS, s.idx.offsetOfMaxTS = -1, -1
	var err error
	if s.log, err = os.OpenFile(segmentName(dir, base, logSuffix), os.O_RDWR, 0o644); err != nil {
		return nil, err
	}
	flags := os.O_RDWR | os.O_CREATE
	if s.offIdx, err = os.OpenFile(segmentName(dir, base, indexSuffix), flags, 0o644); err != nil {
		s.closeFiles()
		return nil, err
	}
	if s.timeIdx, err = os.OpenFile(segmentName(dir, base, timeIndexSuffix), flags, 0o644); err != nil {
		s.closeFiles()
		return nil, err
	}
	st, err := s.log.Stat()
	if err != nil {
		s.closeFiles()
		return nil, err
	}
	s.created = st.ModTime()
	s.size.Store(st.Size())
	s.refs.Store(1)
	return s, nil
}

func (s *segment) closeFiles() error {
	var errs []error
	for _, f := range []*os.File{s.log, s.offIdx, s.timeIdx} {
		if f != nil {
			errs = append(errs, f.Close())
		}
	}
	return errors.Join(errs...)
}

// acquire takes a reference for a reader; it fails if the segment's files
// are already closed.
func (s *segment) acquire() bool {
	for {
		n := s.refs.Load()
		if n <= 0 {
			return false
		}
		if s.refs.CompareAndSwap(n, n+1) {
			return true
		}
	}
}

// release drops a reference; the last one closes the files, and unlinks them
// if the segment was removed from the log.
func (s *segment) release() {
	if s.refs.Add(-1) != 0 {
		return
	}
	s.closeFiles()
	if s.removed.Load() {
		for _, suf := range []string{logSuffix, indexSuffix, timeIndexSuffix} {
			os.Remove(segmentName(s.dir, s.base, suf+deletedSuffix))
		}
	}
}

// markRemoved renames the files to .deleted and drops the log's reference:
// they are unlinked when the last Region is released. Called with Log.mu.
func (s *segment) markRemoved() {
	for _, suf := range []string{logSuffix, indexSuffix, timeIndexSuffix} {
		os.Rename(segmentName(s.dir, s.base, suf), segmentName(s.dir, s.base, suf+deletedSuffix))
	}
	s.removed.Store(true)
	s.release()
}

// maxOffsetEntries / maxTimeEntries: when an index holds that many entries
// the segment is full and rolls (Kafka's segment.index.bytes).
func maxOffsetEntries(cfg *Config) int { return max(cfg.SegmentIndexBytes/offsetEntrySize, 1) }
func maxTimeEntries(cfg *Config) int   { return max(cfg.SegmentIndexBytes/timeEntrySize, 1) }

// indexFull reports whether either index is full.
func (s *segment) indexFullLocked(cfg *Config) bool {
	s.idx.RLock()
	defer s.idx.RUnlock()
	return len(s.idx.offsets) >= maxOffsetEntries(cfg) || len(s.idx.times) >= maxTimeEntries(cfg)
}

// canHold reports whether offsets up to last and size more bytes are
// addressable by the 32-bit relative offsets and positions of the indexes.
func (s *segment) canHold(last int64, size int) bool {
	return last-s.base <= math.MaxUint32 && s.size.Load()+int64(size) <= math.MaxUint32
}

// trackBatch updates the indexes for a batch just written at pos. Called by
// the appender (Log.mu held) and by the loader.
func (s *segment) trackBatch(h *batch.Header, pos int64, cfg *Config) error {
	size := h.Size()
	s.idx.Lock()
	writeEntry := s.bytesSinceIndex > cfg.IndexIntervalBytes
	if h.MaxTimestamp > s.idx.maxTS {
		s.idx.maxTS, s.idx.offsetOfMaxTS = h.MaxTimestamp, h.LastOffset()
	}
	if writeEntry {
		rel := uint32(h.LastOffset() - s.base)
		s.idx.offsets = append(s.idx.offsets, offsetEntry{rel: rel, pos: uint32(pos)})
	}
	s.idx.Unlock()
	if s.rollTS < 0 && pos == 0 {
		s.rollTS = h.MaxTimestamp
	}
	s.nextOffset = h.LastOffset() + 1
	if !writeEntry {
		s.bytesSinceIndex += size
		return nil
	}
	s.bytesSinceIndex = size
	n := len(s.idx.offsets) // only this goroutine appends
	binary.BigEndian.PutUint32(s.scratch[0:], uint32(h.LastOffset()-s.base))
	binary.BigEndian.PutUint32(s.scratch[4:], uint32(pos))
	if _, err := s.offIdx.WriteAt(s.scratch[:offsetEntrySize], int64(n-1)*offsetEntrySize); err != nil {
		return err
	}
	return s.maybeAppendTimeEntry()
}

// maybeAppendTimeEntry appends (maxTS, offsetOfMaxTS) to the time index if
// the max timestamp grew since the last entry.
func (s *segment) maybeAppendTimeEntry() error {
	s.idx.Lock()
	ts, off := s.idx.maxTS, s.idx.offsetOfMaxTS
	n := len(s.idx.times)
	if ts < 0 || (n > 0 && s.idx.times[n-1].ts >= ts) {
		s.idx.Unlock()
		return nil
	}
	s.idx.times = append(s.idx.times, timeEntry{ts: ts, rel: uint32(off - s.base)})
	s.idx.Unlock()
	binary.BigEndian.PutUint64(s.scratch[0:], uint64(ts))
	binary.BigEndian.PutUint32(s.scratch[8:], uint32(off-s.base))
	_, err := s.timeIdx.WriteAt(s.scratch[:timeEntrySize], int64(n)*timeEntrySize)
	return err
}

// maxTimestamp returns the segment's largest batch timestamp and the last
// offset of the batch carrying it (-1, -1 when empty).
func (s *segment) maxTimestamp() (ts, offset int64) {
	s.idx.RLock()
	defer s.idx.RUnlock()
	return s.idx.maxTS, s.idx.offsetOfMaxTS
}

// lookup returns a position at or before the batch containing offset.
func (s *segment) lookup(offset int64) int64 {
	if offset <= s.base {
		return 0
	}
	rel := offset - s.base
	if rel > math.MaxUint32 {
		rel = math.MaxUint32
	}
	s.idx.RLock()
	defer s.idx.RUnlock()
	return lookupOffset(s.idx.offsets, uint32(rel))
}

// readHeader reads the batch header at pos (pread). It returns io.EOF when
// pos is at limit, and io.ErrUnexpectedEOF when a header or batch would
// extend past limit.
func (s *segment) readHeader(buf *[batch.HeaderSize]byte, pos, limit int64) (batch.Header, error) {
	if pos >= limit {
		return batch.Header{}, io.EOF
	}
	if pos+batch.HeaderSize > limit {
		return batch.Header{}, io.ErrUnexpectedEOF
	}
	if _, err := s.log.ReadAt(buf[:], pos); err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return batch.Header{}, err
	}
	h, err := batch.ParseHeader(buf[:])
	if err != nil {
		return h, err
	}
	if h.Length < batch.HeaderSize-batch.LengthOverhead || pos+int64(h.Size()) > limit {
		return h, io.ErrUnexpectedEOF
	}
	return h, nil
}

// flush fsyncs the segment's files.
func (s *segment) flush() error {
	return errors.Join(s.log.Sync(), s.offIdx.Sync(), s.timeIdx.Sync())
}

// rewriteIndexes replaces the index files with the in-memory entries (after
// a rebuild or a truncation).
func (s *segment) rewriteIndexes() error {
	s.idx.RLock()
	ob := encodeOffsetIndex(s.idx.offsets)
	tb := encodeTimeIndex(s.idx.times)
	s.idx.RUnlock()
	if err := s.offIdx.Truncate(0); err != nil {
		return err
	}
	if _, err := s.offIdx.WriteAt(ob, 0); err != nil {
		return err
	}
	if err := s.timeIdx.Truncate(0); err != nil {
		return err
	}
	_, err := s.timeIdx.WriteAt(tb, 0)
	return err
}

// resetIndexes clears the in-memory indexes and counters before a rebuild.
func (s *segment) resetIndexes() {
	s.idx.Lock()
	s.idx.offsets, s.idx.times = s.idx.offsets[:0], s.idx.times[:0]
	s.idx.maxTS, s.idx.offsetOfMaxTS = -1, -1
	s.idx.Unlock()
	s.bytesSinceIndex = 0
	s.nextOffset = s.base
	s.rollTS = -1
}

// recover scans the whole segment, checking each batch's length, CRC and
// records, rebuilds the indexes, and truncates the file at the first bad
// batch. It returns the number of bytes truncated.
func (s *segment) recover(cfg *Config) (int64, error) {
	s.resetIndexes()
	limit := s.size.Load()
	pos := int64(0)
	buf := make([]byte, 0, 64<<10)
	var hdr [batch.HeaderSize]byte
	for {
		h, err := s.readHeader(&hdr, pos, limit)
		if err == io.EOF {
			break
		}
		if err != nil {
			if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, batch.ErrCorrupt) || errors.Is(err, batch.ErrUnsupportedMagic) {
				break // torn or garbage tail
			}
			return 0, err
		}
		if h.BaseOffset < s.nextOffset || h.LastOffsetDelta < 0 || !s.canHoldRel(h.LastOffset()) {
			break // offsets must increase within a segment
		}
		size := h.Size()
		if cap(buf) < size {
			buf = make([]byte, size)
		}
		buf = buf[:size]
		if _, err := s.log.ReadAt(buf, pos); err != nil {
			return 0, err
		}
		if _, err := batch.ValidateStored(buf); err != nil { // compacted batches have gaps
			break
		}
		if err := s.trackBatchNoWrite(&h, pos, cfg); err != nil {
			return 0, err
		}
		pos += int64(size)
	}
	truncated := limit - pos
	if truncated > 0 {
		if err := s.log.Truncate(pos); err != nil {
			return 0, err
		}
		s.size.Store(pos)
	}
	if err := s.rewriteIndexes(); err != nil {
		return 0, err
	}
	return truncated, nil
}

func (s *segment) canHoldRel(last int64) bool { return last-s.base <= math.MaxUint32 }

// trackBatchNoWrite is trackBatch without writing the index files (the
// caller rewrites them at the end).
func (s *segment) trackBatchNoWrite(h *batch.Header, pos int64, cfg *Config) error {
	size := h.Size()
	s.idx.Lock()
	if h.MaxTimestamp > s.idx.maxTS {
		s.idx.maxTS, s.idx.offsetOfMaxTS = h.MaxTimestamp, h.LastOffset()
	}
	if s.bytesSinceIndex > cfg.IndexIntervalBytes {
		s.idx.offsets = append(s.idx.offsets, offsetEntry{rel: uint32(h.LastOffset() - s.base), pos: uint32(pos)})
		if n := len(s.idx.times); n == 0 || s.idx.times[n-1].ts < s.idx.maxTS {
			s.idx.times = append(s.idx.times, timeEntry{ts: s.idx.maxTS, rel: uint32(s.idx.offsetOfMaxTS - s.base)})
		}
		s.bytesSinceIndex = 0
	}
	s.idx.Unlock()
	s.bytesSinceIndex += size
	if s.rollTS < 0 && pos == 0 {
		s.rollTS = h.MaxTimestamp
	}
	s.nextOffset = h.LastOffset() + 1
	return nil
}

// load reads the index files of a segment that needs no recovery, checks
// them, and scans the batch headers after the last offset index entry to
// find the segment's end and max timestamp. It reports needRecovery when the
// indexes are inconsistent or the tail is torn; the caller then runs
// recover.
func (s *segment) load(cfg *Config) (needRecovery bool, err error) {
	s.resetIndexes()
	limit := s.size.Load()
	ob, err := readAllFile(s.offIdx)
	if err != nil {
		return false, err
	}
	tb, err := readAllFile(s.timeIdx)
	if err != nil {
		return false, err
	}
	offs, err := loadOffsetIndex(ob, limit)
	if err != nil {
		return true, nil
	}
	times, err := loadTimeIndex(tb)
	if err != nil {
		return true, nil
	}
	s.idx.Lock()
	s.idx.offsets, s.idx.times = offs, times
	if n := len(times); n > 0 {
		s.idx.maxTS, s.idx.offsetOfMaxTS = times[n-1].ts, s.base+int64(times[n-1].rel)
	}
	s.idx.Unlock()

	var hdr [batch.HeaderSize]byte
	pos := int64(0)
	if n := len(offs); n > 0 {
		pos = int64(offs[n-1].pos)
	}
	first := true
	for {
		h, err := s.readHeader(&hdr, pos, limit)
		if err == io.EOF {
			break
		}
		if err != nil {
			if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, batch.ErrCorrupt) || errors.Is(err, batch.ErrUnsupportedMagic) {
				return true, nil
			}
			return false, err
		}
		if first && len(offs) > 0 && h.LastOffset() != s.base+int64(offs[len(offs)-1].rel) {
			return true, nil // index entry does not point at its batch
		}
		if h.BaseOffset < s.nextOffset && !first {
			return true, nil
		}
		if pos == 0 {
			s.rollTS = h.MaxTimestamp
		}
		first = false
		s.idx.Lock()
		if h.MaxTimestamp > s.idx.maxTS {
			s.idx.maxTS, s.idx.offsetOfMaxTS = h.MaxTimestamp, h.LastOffset()
		}
		s.idx.Unlock()
		s.nextOffset = h.LastOffset() + 1
		pos += int64(h.Size())
		// bytesSinceIndex: Kafka counts bytes since the last entry including
		// the indexed batch.
		s.bytesSinceIndex += h.Size()
	}
	if s.rollTS < 0 && limit > 0 {
		if h, err := s.readHeader(&hdr, 0, limit); err == nil {
			s.rollTS = h.MaxTimestamp
		}
	}
	return false, nil
}

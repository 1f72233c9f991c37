package commitlog

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/sluicehq/sluice/internal/batch"
)

// checkpointFile holds "v1 <logStartOffset> <recoveryPoint> <clean>\n",
// written atomically (temp file, fsync, rename, fsync of the directory).
// clean is 1 only after Close: the next Open then skips recovery.
const checkpointFile = "sluice-log.checkpoint"

type checkpoint struct {
	logStartOffset int64
	recoveryPoint  int64
	clean          bool
}

func readCheckpoint(dir string) (checkpoint, error) {
	b, err := os.ReadFile(filepath.Join(dir, checkpointFile))
	if errors.Is(err, os.ErrNotExist) {
		return checkpoint{}, nil
	}
	if err != nil {
		return checkpoint{}, err
	}
	f := strings.Fields(string(b))
	if len(f) != 4 || f[0] != "v1" {
		return checkpoint{}, fmt.Errorf("commitlog: malformed checkpoint %q", b)
	}
	var c checkpoint
	if c.logStartOffset, err = strconv.ParseInt(f[1], 10, 64); err != nil {
		return c, fmt.Errorf("commitlog: malformed checkpoint: %w", err)
	}
	if c.recoveryPoint, err = strconv.ParseInt(f[2], 10, 64); err != nil {
		return c, fmt.Errorf("commitlog: malformed checkpoint: %w", err)
	}
	c.clean = f[3] == "1"
	return c, nil
}

// writeCheckpointLocked persists the log start offset and recovery point.
func (l *Log) writeCheckpointLocked(clean bool) error {
	c := 0
	if clean {
		c = 1
	}
	data := fmt.Sprintf("v1 %d %d %d\n", l.startOffset.Load(), l.mu.recoveryPoint, c)
	return writeFileAtomic(l.dir, checkpointFile, []byte(data))
}

func writeFileAtomic(dir, name string, data []byte) error {
	tmp := filepath.Join(dir, name+tmpSuffix)
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, filepath.Join(dir, name))
	}
	if err != nil {
		os.Remove(tmp)
		return err
	}
	return syncDir(dir)
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}

// parseBase parses the %020d prefix of a segment file name.
func parseBase(name, suffix string) (int64, bool) {
	if !strings.HasSuffix(name, suffix) {
		return 0, false
	}
	s := strings.TrimSuffix(name, suffix)
	if len(s) != 20 {
		return 0, false
	}
	n, err := strconv.ParseInt(s, 10, 64)
	return n, err == nil && n >= 0
}

// load finds and recovers the segments (Kafka's LogLoader):
//
//  1. leftovers: *.deleted and *.cleaned files and temp files are removed
//     (an interrupted deletion or compaction); *.swap files (a finished
//     compaction that was being swapped in) are renamed into place and the
//     segments they replace are removed; index files without a .log are
//     removed;
//  2. after an unclean shutdown every segment holding offsets at or after the
//     recovery point is recovered (batches checked, torn tail truncated,
//     indexes rebuilt); if a segment had to be truncated, all later segments
//     are removed, since nothing after a hole can be trusted;
//  3. other segments load their index files, rebuilding them if a sanity
//     check fails;
//  4. the log start offset is the larger of the checkpoint's and the first
//     segment's base; the producer state is rebuilt from the log.
func (l *Log) load() error {
	cfg := l.config()
	cp, err := readCheckpoint(l.dir)
	if err != nil {
		return err
	}
	if err := l.recoverCleanerSwap(); err != nil { // cleanerswap.go
		return err
	}
	if err := l.removeLeftovers(); err != nil {
		return err
	}
	bases, err := listSegments(l.dir)
	if err != nil {
		return err
	}
	var segs []*segment
	fail := func(err error) error {
		for _, s := range segs {
			s.closeFiles()
		}
		return err
	}
	for _, base := range bases {
		s, err := openSegmentFiles(l.dir, base)
		if err != nil {
			return fail(err)
		}
		segs = append(segs, s)
	}
	for i := 0; i < len(segs); i++ {
		s := segs[i]
		recover := !cp.clean && (i == len(segs)-1 || segs[i+1].base > cp.recoveryPoint)
		if !recover {
			need, err := s.load(cfg)
			if err != nil {
				return fail(err)
			}
			if need {
				l.logger.Warn("segment index inconsistent, rebuilding", "segment", s.base)
				recover = true
			}
		}
		if !recover {
			continue
		}
		truncated, err := s.recover(cfg)
		if err != nil {
			return fail(err)
		}
		if truncated > 0 {
			l.logger.Warn("truncated invalid bytes at the end of a segment",
				"segment", s.base, "bytes", truncated, "end", s.nextOffset)
			for _, later := range segs[i+1:] {
				l.logger.Warn("removing segment after a truncated one", "segment", later.base)
				later.markRemoved()
			}
			segs = segs[:i+1]
		}
	}
	// A segment that ends where its successor does not start is fine (gaps
	// come from compaction), but one that overlaps its successor is not.
	for i := 0; i+1 < len(segs); i++ {
		if segs[i].nextOffset > segs[i+1].base {
			return fail(fmt.Errorf("commitlog: segment %d ends at %d after the next segment's base %d",
				segs[i].base, segs[i].nextOffset, segs[i+1].base))
		}
	}

	start := cp.logStartOffset
	if len(segs) > 0 && segs[0].base > start {
		start = segs[0].base
	}
	end := start
	if n := len(segs); n > 0 {
		end = max(segs[n-1].nextOffset, segs[n-1].base)
	}
	if start > end {
		// Everything was deleted (DeleteRecordsBefore past the end): start
		// over at the start offset.
		for _, s := range segs {
			s.markRemoved()
		}
		segs = nil
		end = start
	}
	// Drop a trailing empty segment that is not the only one? Kafka keeps
	// it; so do we. Create the first segment if there is none.
	if len(segs) == 0 {
		s, err := createSegment(l.dir, start, time.Now())
		if err != nil {
			return err
		}
		segs = append(segs, s)
	}
	l.segments.Store(&segs)
	l.startOffset.Store(start)
	l.endOffset.Store(end)
	l.mu.recoveryPoint = min(max(cp.recoveryPoint, start), end)
	if cp.clean {
		l.mu.recoveryPoint = end
	}
	// Remove segments wholly below the start offset (an interrupted
	// DeleteRecordsBefore).
	l.mu.Lock()
	l.deleteSegmentsBelowLocked(start)
	l.mu.Unlock()

	ps, err := l.buildProducerState()
	if err != nil {
		return err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.mu.producers = ps
	// Mark the shutdown unclean until the next Close.
	return l.writeCheckpointLocked(false)
}

func listSegments(dir string) ([]int64, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var bases []int64
	for _, e := range ents {
		if b, ok := parseBase(e.Name(), logSuffix); ok {
			bases = append(bases, b)
		}
	}
	sort.Slice(bases, func(i, j int) bool { return bases[i] < bases[j] })
	return bases, nil
}

// removeLeftovers handles files left by an interrupted operation.
func (l *Log) removeLeftovers() error {
	ents, err := os.ReadDir(l.dir)
	if err != nil {
		return err
	}
	logs := map[int64]bool{}
	for _, e := range ents {
		if b, ok := parseBase(e.Name(), logSuffix); ok {
			logs[b] = true
		}
	}
	var swaps []int64
	for _, e := range ents {
		name := e.Name()
		path := filepath.Join(l.dir, name)
		switch {
		case strings.HasSuffix(name, deletedSuffix), strings.HasSuffix(name, cleanedSuffix),
			strings.HasSuffix(name, tmpSuffix):
			l.logger.Info("removing leftover file", "file", name)
			if err := os.Remove(path); err != nil {
				return err
			}
		case strings.HasSuffix(name, logSuffix+swapSuffix):
			if b, ok := parseBase(strings.TrimSuffix(name, swapSuffix), logSuffix); ok {
				swaps = append(swaps, b)
			}
		}
	}
	for _, base := range swaps {
		if err := l.completeSwap(base); err != nil {
			return err
		}
		logs[base] = true
	}
	// Index files without a log.
	ents, err = os.ReadDir(l.dir)
	if err != nil {
		return err
	}
	for _, e := range ents {
		for _, suf := range []string{indexSuffix, timeIndexSuffix, indexSuffix + swapSuffix, timeIndexSuffix + swapSuffix} {
			if b, ok := parseBase(e.Name(), suf); ok && !logs[b] {
				os.Remove(filepath.Join(l.dir, e.Name()))
			}
		}
	}
	return nil
}

// completeSwap installs a .log.swap segment (the output of a compaction that
// replaced the segments in its offset range): segments whose base falls in
// [base, swap end) are removed, then the swap files are renamed (Kafka's
// LogLoader swap handling). Its indexes are rebuilt by recovery if absent.
func (l *Log) completeSwap(base int64) error {
	swapPath := segmentName(l.dir, base, logSuffix+swapSuffix)
	f, err := os.Open(swapPath)
	if err != nil {
		return err
	}
	end := base
	s := &segment{base: base, log: f}
	st, err := f.Stat()
	if err == nil {
		var hdr [batch.HeaderSize]byte
		for pos := int64(0); ; {
			h, err := s.readHeader(&hdr, pos, st.Size())
			if err != nil {
				break
			}
			end = h.LastOffset() + 1
			pos += int64(h.Size())
		}
	}
	f.Close()
	bases, err := listSegments(l.dir)
	if err != nil {
		return err
	}
	for _, b := range bases {
		if b >= base && b < end {
			for _, suf := range []string{logSuffix, indexSuffix, timeIndexSuffix} {
				os.Remove(segmentName(l.dir, b, suf))
			}
		}
	}
	for _, suf := range []string{logSuffix, indexSuffix, timeIndexSuffix} {
		src := segmentName(l.dir, base, suf+swapSuffix)
		if suf != logSuffix {
			os.Remove(segmentName(l.dir, base, suf)) // rebuilt from the log
			os.Remove(src)
			continue
		}
		if err := os.Rename(src, segmentName(l.dir, base, suf)); err != nil {
			return err
		}
	}
	l.logger.Info("completed an interrupted segment swap", "segment", base, "end", end)
	return syncDir(l.dir)
}

// buildProducerState replays the idempotent batch headers of the whole log.
// TODO: write a .snapshot at roll and replay only after it.
func (l *Log) buildProducerState() (*producerState, error) {
	ps := newProducerState()
	start := l.startOffset.Load()
	var hdr [batch.HeaderSize]byte
	for _, s := range *l.segments.Load() {
		limit := s.size.Load()
		for pos := int64(0); ; {
			h, err := s.readHeader(&hdr, pos, limit)
			if err == io.EOF {
				break
			}
			if err != nil {
				return nil, fmt.Errorf("commitlog: producer state from segment %d at %d: %w", s.base, pos, err)
			}
			if h.LastOffset() >= start {
				ps.observe(&h)
			}
			pos += int64(h.Size())
		}
	}
	return ps, nil
}

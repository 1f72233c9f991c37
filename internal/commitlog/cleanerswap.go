package commitlog

// Atomic replacement of cleaned segments, and the cleaner checkpoint.
//
// A group of segments [B, E) (B the first segment's base, E the base of the
// segment after the group) is replaced by one cleaned segment with base B:
//
//  1. B.log.cleaned, B.index.cleaned, B.timeindex.cleaned are written and
//     fsynced (crash: removed at Open; the old set stays);
//  2. the intent file cleaner-swap ("v1 B E") is written atomically;
//  3. B.index.cleaned and B.timeindex.cleaned are renamed to .swap, then
//     B.log.cleaned to B.log.swap: the commit point; the directory is
//     fsynced;
//  4. the group's other segments are renamed to .deleted (unlinked when their
//     last reader releases them), then B's .swap files are renamed over
//     B.log, B.index, B.timeindex (rename replaces atomically; open readers
//     keep the old inodes); the directory is fsynced;
//  5. the intent file is removed.
//
// Open (recoverCleanerSwap, before anything else in load) finishes or undoes
// an interrupted swap from the intent file: with B.log.swap present, step 4
// is redone (every .log with a base in (B, E) is removed, the .swap files
// renamed); without it, the swap either never committed or already
// finished, and any .cleaned or .swap file of B is removed. Either way the
// log holds exactly the old or exactly the new segment set. Kafka names the
// files the same (.cleaned, .swap, .deleted) but infers the replaced range
// from the swap segment's content, which cannot tell an emptied-out group
// member from the next segment; the intent file removes the guess.

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/sluicehq/sluice/internal/batch"
)

const (
	// cleanerCheckpointFile holds "v1 <firstDirtyOffset> <deleteHorizonMs>\n"
	// (Kafka's cleaner-offset-checkpoint, per partition directory).
	cleanerCheckpointFile = "cleaner-offset-checkpoint"
	// cleanerSwapFile is the swap intent: "v1 <base> <end>\n".
	cleanerSwapFile = "cleaner-swap"
)

type cleanerCheckpoint struct {
	firstDirty      int64 // -1: none (clean from the log start)
	deleteHorizonMs int64 // earliest horizon of kept tombstones, -1 none
}

func readCleanerCheckpoint(dir string) (cleanerCheckpoint, error) {
	ck := cleanerCheckpoint{firstDirty: -1, deleteHorizonMs: -1}
	b, err := os.ReadFile(filepath.Join(dir, cleanerCheckpointFile))
	if errors.Is(err, os.ErrNotExist) {
		return ck, nil
	}
	if err != nil {
		return ck, err
	}
	f := strings.Fields(string(b))
	if len(f) != 3 || f[0] != "v1" {
		return ck, fmt.Errorf("commitlog: malformed cleaner checkpoint %q", b)
	}
	if ck.firstDirty, err = strconv.ParseInt(f[1], 10, 64); err != nil {
		return ck, fmt.Errorf("commitlog: malformed cleaner checkpoint: %w", err)
	}
	if ck.deleteHorizonMs, err = strconv.ParseInt(f[2], 10, 64); err != nil {
		return ck, fmt.Errorf("commitlog: malformed cleaner checkpoint: %w", err)
	}
	return ck, nil
}

func writeCleanerCheckpoint(dir string, ck cleanerCheckpoint) error {
	return writeFileAtomic(dir, cleanerCheckpointFile, fmt.Appendf(nil, "v1 %d %d\n", ck.firstDirty, ck.deleteHorizonMs))
}

// CleanerCheckpoint returns the cleaner checkpoint: the first offset not yet
// compacted (-1 when never cleaned).
func (l *Log) CleanerCheckpoint() (int64, error) {
	ck, err := readCleanerCheckpoint(l.dir)
	return ck.firstDirty, err
}

// cleanedWriter writes one cleaned segment: B.log.cleaned and its indexes.
type cleanedWriter struct {
	dir   string
	base  int64
	cfg   *Config
	f     *os.File
	w     *bufio.Writer
	pos   int64
	mtime time.Time
	done  bool
	// throttle accounts written bytes with the reads (Kafka's cleaner
	// throttles both).
	throttle *Throttler

	offsets         []offsetEntry
	times           []timeEntry
	bytesSinceIndex int
	maxTS, offMaxTS int64
}

func createCleaned(dir string, base int64, cfg *Config) (*cleanedWriter, error) {
	f, err := os.OpenFile(segmentName(dir, base, logSuffix+cleanedSuffix), os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return nil, err
	}
	return &cleanedWriter{dir: dir, base: base, cfg: cfg, f: f, w: bufio.NewWriterSize(f, 1<<20), maxTS: -1, offMaxTS: -1}, nil
}

// append writes batch b (header h) and indexes it as the appender does
// (segment.trackBatchNoWrite).
func (w *cleanedWriter) append(b []byte, h *batch.Header) error {
	if _, err := w.w.Write(b); err != nil {
		return err
	}
	w.throttle.Wait(len(b))
	if h.MaxTimestamp > w.maxTS {
		w.maxTS, w.offMaxTS = h.MaxTimestamp, h.LastOffset()
	}
	if w.bytesSinceIndex > w.cfg.IndexIntervalBytes {
		w.offsets = append(w.offsets, offsetEntry{rel: uint32(h.LastOffset() - w.base), pos: uint32(w.pos)})
		if n := len(w.times); n == 0 || w.times[n-1].ts < w.maxTS {
			w.times = append(w.times, timeEntry{ts: w.maxTS, rel: uint32(w.offMaxTS - w.base)})
		}
		w.bytesSinceIndex = 0
	}
	w.bytesSinceIndex += len(b)
	w.pos += int64(len(b))
	return nil
}

// finish writes the indexes, fsyncs and closes the files.
func (w *cleanedWriter) finish() error {
	if n := len(w.times); w.maxTS >= 0 && (n == 0 || w.times[n-1].ts < w.maxTS) {
		w.times = append(w.times, timeEntry{ts: w.maxTS, rel: uint32(w.offMaxTS - w.base)})
	}
	err := w.w.Flush()
	if err == nil {
		err = w.f.Sync()
	}
	if cerr := w.f.Close(); err == nil {
		err = cerr
	}
	w.f = nil
	if err == nil && !w.mtime.IsZero() {
		err = os.Chtimes(segmentName(w.dir, w.base, logSuffix+cleanedSuffix), w.mtime, w.mtime)
	}
	if err == nil {
		err = writeSynced(segmentName(w.dir, w.base, indexSuffix+cleanedSuffix), encodeOffsetIndex(w.offsets))
	}
	if err == nil {
		err = writeSynced(segmentName(w.dir, w.base, timeIndexSuffix+cleanedSuffix), encodeTimeIndex(w.times))
	}
	return err
}

// abort removes the cleaned files unless they were installed.
func (w *cleanedWriter) abort() {
	if w.done {
		return
	}
	if w.f != nil {
		w.f.Close()
	}
	removeCleanedFiles(w.dir, w.base)
}

func removeCleanedFiles(dir string, base int64) {
	for _, suf := range []string{logSuffix, indexSuffix, timeIndexSuffix} {
		os.Remove(segmentName(dir, base, suf+cleanedSuffix))
		os.Remove(segmentName(dir, base, suf+swapSuffix))
	}
}

func writeSynced(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
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
	return err
}

// crashHook, when set (tests), is called at each step of installCleaned with
// the step's name; returning true stops the swap there, as a crash would
// (the files are left as they are and the in-memory log is not changed).
var crashHook func(step string) bool

// errSimulatedCrash is returned when crashHook stopped a swap.
var errSimulatedCrash = errors.New("commitlog: simulated crash")

// crashAt reports whether the test hook simulates a crash at step; the
// cleaned files are then left for Open to deal with.
func crashAt(w *cleanedWriter, step string) bool {
	if crashHook == nil || !crashHook(step) {
		return false
	}
	w.done = true
	return true
}

// installCleaned swaps the cleaned segment w in for group (see the file
// comment). sizes are the group's sizes when cleaning started: if the log
// no longer holds the group unchanged (retention, truncation, close), the
// cleaned files are dropped and ErrCleaningAborted returned.
func (l *Log) installCleaned(group []*segment, sizes []int64, w *cleanedWriter) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.mu.closed {
		return ErrCleaningAborted
	}
	segs := *l.segments.Load()
	i := 0
	for i < len(segs) && segs[i] != group[0] {
		i++
	}
	if i+len(group) >= len(segs) { // absent, or would include the active segment
		return ErrCleaningAborted
	}
	for j, s := range group {
		if segs[i+j] != s || s.size.Load() != sizes[j] {
			return ErrCleaningAborted
		}
	}
	base, end := group[0].base, segs[i+len(group)].base
	dir := l.dir
	if crashAt(w, "cleaned") {
		return errSimulatedCrash
	}
	if err := writeFileAtomic(dir, cleanerSwapFile, fmt.Appendf(nil, "v1 %d %d\n", base, end)); err != nil {
		return err
	}
	if crashAt(w, "intent") {
		return errSimulatedCrash
	}
	for _, suf := range []string{indexSuffix, timeIndexSuffix, logSuffix} {
		if err := os.Rename(segmentName(dir, base, suf+cleanedSuffix), segmentName(dir, base, suf+swapSuffix)); err != nil {
			return err
		}
		if crashAt(w, "swap"+suf) {
			return errSimulatedCrash
		}
	}
	if err := syncDir(dir); err != nil {
		return err
	}
	// Committed: from here on a crash completes the swap at Open.
	w.done = true
	for _, s := range group[1:] {
		s.markRemoved()
		if crashAt(w, "deleted") {
			return errSimulatedCrash
		}
	}
	for _, suf := range []string{indexSuffix, timeIndexSuffix, logSuffix} {
		if err := os.Rename(segmentName(dir, base, suf+swapSuffix), segmentName(dir, base, suf)); err != nil {
			return err
		}
		if crashAt(w, "install"+suf) {
			return errSimulatedCrash
		}
	}
	if err := syncDir(dir); err != nil {
		return err
	}
	ns, err := openSegmentFiles(dir, base)
	if err != nil {
		return err
	}
	cfg := l.config()
	if need, err := ns.load(cfg); err != nil || need {
		if _, err := ns.recover(cfg); err != nil {
			ns.closeFiles()
			return err
		}
	}
	next := make([]*segment, 0, len(segs)-len(group)+1)
	next = append(next, segs[:i]...)
	next = append(next, ns)
	next = append(next, segs[i+len(group):]...)
	l.segments.Store(&next)
	// The old first segment's files were replaced by rename: drop the log's
	// reference without renaming anything; readers keep the old inode.
	group[0].release()
	if crashAt(w, "done") {
		return errSimulatedCrash
	}
	return os.Remove(filepath.Join(dir, cleanerSwapFile))
}

// recoverCleanerSwap finishes or rolls back a swap interrupted by a crash
// (see the file comment). It runs first in load.
func (l *Log) recoverCleanerSwap() error {
	path := filepath.Join(l.dir, cleanerSwapFile)
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	var base, end int64
	if _, err := fmt.Sscanf(string(b), "v1 %d %d\n", &base, &end); err != nil {
		return fmt.Errorf("commitlog: malformed %s %q: %w", cleanerSwapFile, b, err)
	}
	dir := l.dir
	if _, err := os.Stat(segmentName(dir, base, logSuffix+swapSuffix)); err == nil {
		bases, err := listSegments(dir)
		if err != nil {
			return err
		}
		for _, b := range bases {
			if b > base && b < end {
				for _, suf := range []string{logSuffix, indexSuffix, timeIndexSuffix} {
					if err := os.Remove(segmentName(dir, b, suf)); err != nil && !errors.Is(err, os.ErrNotExist) {
						return err
					}
				}
			}
		}
		for _, suf := range []string{indexSuffix, timeIndexSuffix, logSuffix} {
			err := os.Rename(segmentName(dir, base, suf+swapSuffix), segmentName(dir, base, suf))
			if err != nil && !errors.Is(err, os.ErrNotExist) {
				return err
			}
		}
		l.logger.Info("completed an interrupted cleaner swap", "segment", base, "end", end)
	} else {
		removeCleanedFiles(dir, base)
		l.logger.Info("rolled back an interrupted cleaner swap", "segment", base, "end", end)
	}
	if err := syncDir(dir); err != nil {
		return err
	}
	if err := os.Remove(path); err != nil {
		return err
	}
	return syncDir(dir)
}

package commitlog

import (
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/batch"
)

// crash abandons a log as kill -9 would: files closed, nothing flushed or
// checkpointed as clean.
func crash(l *Log) {
	l.mu.Lock()
	l.mu.closed = true
	for _, s := range *l.segments.Load() {
		s.closeFiles()
	}
	l.mu.Unlock()
}

func TestRecoveryTornTail(t *testing.T) {
	type tamper func(t *testing.T, path string, positions []int64)
	cases := []struct {
		name     string
		tamper   tamper
		wantEnd  int64 // batches of 2 records each
		wantKept int
	}{
		{"no damage", func(*testing.T, string, []int64) {}, 20, 10},
		{"truncated mid last batch", func(t *testing.T, p string, pos []int64) {
			must(t, os.Truncate(p, pos[9]+30))
		}, 18, 9},
		{"truncated mid header", func(t *testing.T, p string, pos []int64) {
			must(t, os.Truncate(p, pos[9]+5))
		}, 18, 9},
		{"flipped byte in last batch", func(t *testing.T, p string, pos []int64) {
			flip(t, p, pos[9]+batch.HeaderSize+3)
		}, 18, 9},
		{"flipped byte in batch 6", func(t *testing.T, p string, pos []int64) {
			flip(t, p, pos[6]+40)
		}, 12, 6},
		{"garbage length in batch 3", func(t *testing.T, p string, pos []int64) {
			flip(t, p, pos[3]+9)
		}, 6, 3},
		{"zeros appended", func(t *testing.T, p string, pos []int64) {
			f, _ := os.OpenFile(p, os.O_WRONLY|os.O_APPEND, 0)
			f.Write(make([]byte, 4096))
			f.Close()
		}, 20, 10},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			cfg := Config{IndexIntervalBytes: 100}
			l := openT(t, dir, cfg)
			var positions []int64
			for i := 0; i < 10; i++ {
				positions = append(positions, l.active().size.Load())
				appendT(t, l, mkBatch(2, 40, int64(100+i)))
			}
			crash(l)
			c.tamper(t, segmentName(dir, 0, logSuffix), positions)

			l = openT(t, dir, cfg)
			defer l.Close()
			if l.EndOffset() != c.wantEnd {
				t.Fatalf("end %d want %d", l.EndOffset(), c.wantEnd)
			}
			if got := readAll(t, l, 0); len(got) != c.wantKept {
				t.Fatalf("kept %d batches want %d", len(got), c.wantKept)
			}
			if fi, _ := os.Stat(segmentName(dir, 0, logSuffix)); c.wantKept < 10 && fi.Size() != positions[c.wantKept] {
				t.Fatalf("log size %d want %d", fi.Size(), positions[c.wantKept])
			}
			res := appendT(t, l, mkBatch(1, 1, 1))
			if res.FirstOffset != c.wantEnd {
				t.Fatalf("next append at %d", res.FirstOffset)
			}
			if off, ts := l.MaxTimestamp(); ts != int64(100+c.wantKept-1) || off != c.wantEnd-2 { // first record of the last batch
				t.Fatalf("max timestamp %d@%d", ts, off)
			}
		})
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func flip(t *testing.T, path string, pos int64) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	must(t, err)
	defer f.Close()
	b := make([]byte, 1)
	_, err = f.ReadAt(b, pos)
	must(t, err)
	b[0] ^= 0x5a
	_, err = f.WriteAt(b, pos)
	must(t, err)
}

// After an unclean shutdown, a corrupt segment before the last one is
// truncated and the later segments are removed.
func TestRecoveryCorruptEarlierSegment(t *testing.T) {
	dir := t.TempDir()
	cfg := smallConfig()
	l := openT(t, dir, cfg)
	for i := 0; i < 40; i++ {
		appendT(t, l, mkBatch(2, 200, int64(i)))
	}
	segs := *l.segments.Load()
	if len(segs) < 3 {
		t.Fatal("need 3 segments")
	}
	second := segs[1].base
	crash(l)
	flip(t, segmentName(dir, second, logSuffix), 100)
	l = openT(t, dir, cfg)
	defer l.Close()
	if l.NumSegments() != 2 || l.EndOffset() != second {
		t.Fatalf("segments %d end %d, want 2 and %d", l.NumSegments(), l.EndOffset(), second)
	}
	readAll(t, l, 0)
}

// Bad index files of a cleanly closed log are detected and rebuilt.
func TestRebuildBadIndex(t *testing.T) {
	dir := t.TempDir()
	cfg := smallConfig()
	l := openT(t, dir, cfg)
	for i := 0; i < 40; i++ {
		appendT(t, l, mkBatch(2, 200, int64(i)))
	}
	want := readAll(t, l, 0)
	must(t, l.Close())
	// Garbage in the first segment's indexes, the second's removed.
	must(t, os.WriteFile(segmentName(dir, 0, indexSuffix), []byte{0, 0, 0, 9, 0, 0, 0, 1, 0, 0, 0, 2}, 0o644))
	must(t, os.WriteFile(segmentName(dir, 0, timeIndexSuffix), []byte{1, 2, 3}, 0o644))
	bases, _ := listSegments(dir)
	must(t, os.Remove(segmentName(dir, bases[1], indexSuffix)))
	l = openT(t, dir, cfg)
	defer l.Close()
	if got := readAll(t, l, 0); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("got %v", got)
	}
	for off := int64(0); off < l.EndOffset(); off += 7 {
		readAll(t, l, off)
	}
	fi, _ := os.Stat(segmentName(dir, 0, indexSuffix))
	if fi.Size()%offsetEntrySize != 0 || fi.Size() == 0 {
		t.Fatalf("index not rebuilt: %d bytes", fi.Size())
	}
	if off, ts, _ := l.OffsetForTimestamp(10); off != 20 || ts != 10 {
		t.Fatalf("OffsetForTimestamp after rebuild: %d %d", off, ts)
	}
}

func TestLeftoverFiles(t *testing.T) {
	dir := t.TempDir()
	l := openT(t, dir, smallConfig())
	for i := 0; i < 40; i++ {
		appendT(t, l, mkBatch(2, 200, int64(i)))
	}
	bases, _ := listSegments(dir)
	must(t, l.Close())
	junk := []string{
		fmt.Sprintf("%020d.log.deleted", 999999),
		fmt.Sprintf("%020d.index.deleted", 999999),
		fmt.Sprintf("%020d.log.cleaned", 5),
		checkpointFile + ".tmp",
		fmt.Sprintf("%020d.index", 777777), // index without a log
	}
	for _, j := range junk {
		must(t, os.WriteFile(filepath.Join(dir, j), []byte("x"), 0o644))
	}
	// A swap file replacing segments 1 and 2: a copy of segment 1.
	data, _ := os.ReadFile(segmentName(dir, bases[1], logSuffix))
	must(t, os.WriteFile(segmentName(dir, bases[1], logSuffix+swapSuffix), data, 0o644))
	l = openT(t, dir, smallConfig())
	defer l.Close()
	for _, j := range junk {
		if _, err := os.Stat(filepath.Join(dir, j)); !os.IsNotExist(err) {
			t.Errorf("%s not removed", j)
		}
	}
	got, _ := listSegments(dir)
	// bases[1]'s swap ends at bases[2]: only bases[1] is replaced.
	if len(got) != len(bases) {
		t.Fatalf("segments %v, before %v", got, bases)
	}
	readAll(t, l, 0)
}

func TestRetentionByTime(t *testing.T) {
	dir := t.TempDir()
	cfg := smallConfig()
	cfg.RetentionMs = 1000
	l := openT(t, dir, cfg)
	defer l.Close()
	base := time.UnixMilli(1_000_000)
	for i := 0; i < 40; i++ {
		appendT(t, l, mkBatch(2, 200, base.UnixMilli()+int64(i)*100))
	}
	segs := *l.segments.Load()
	if len(segs) < 4 {
		t.Fatalf("need segments, have %d", len(segs))
	}
	ts1, _ := segs[1].maxTimestamp()
	// Segments 0 and 1 are older than retention at now = ts1 + 1001.
	n, err := l.ApplyRetention(time.UnixMilli(ts1 + 1001))
	must(t, err)
	if n != 2 || l.StartOffset() != segs[2].base || l.NumSegments() != len(segs)-2 {
		t.Fatalf("deleted %d, start %d, segments %d", n, l.StartOffset(), l.NumSegments())
	}
	if _, err := l.Read(0, 100, -1, true); !errors.Is(err, ErrOffsetOutOfRange) {
		t.Fatalf("read below start: %v", err)
	}
	if _, err := os.Stat(segmentName(dir, 0, logSuffix)); !os.IsNotExist(err) {
		t.Fatal("segment file not removed")
	}
	readAll(t, l, l.StartOffset())
	// Far future: everything but the active segment goes.
	n, err = l.ApplyRetention(time.UnixMilli(math.MaxInt64 / 2))
	must(t, err)
	if l.NumSegments() != 1 || l.StartOffset() != l.active().base {
		t.Fatalf("n %d segments %d start %d", n, l.NumSegments(), l.StartOffset())
	}
}

func TestRetentionBySize(t *testing.T) {
	cfg := smallConfig()
	cfg.RetentionBytes = 3 * 4096
	l := openT(t, t.TempDir(), cfg)
	defer l.Close()
	for i := 0; i < 100; i++ {
		appendT(t, l, mkBatch(2, 200, int64(i)))
	}
	before := l.NumSegments()
	n, err := l.ApplyRetention(time.Now())
	must(t, err)
	if n == 0 || l.NumSegments() != before-n {
		t.Fatalf("n %d segments %d -> %d", n, before, l.NumSegments())
	}
	// Kafka keeps at least retention.bytes: it deletes a segment only if
	// the rest still holds retention.bytes.
	if l.Size() < cfg.RetentionBytes || l.Size()-(*l.segments.Load())[0].size.Load() >= cfg.RetentionBytes {
		t.Fatalf("size %d after retention", l.Size())
	}
	if n, _ := l.ApplyRetention(time.Now()); n != 0 {
		t.Fatalf("second run deleted %d", n)
	}
}

func TestDeleteRecordsBefore(t *testing.T) {
	dir := t.TempDir()
	cfg := smallConfig()
	l := openT(t, dir, cfg)
	for i := 0; i < 40; i++ {
		appendT(t, l, mkBatch(2, 200, int64(i)))
	}
	segs := *l.segments.Load()
	target := segs[2].base + 3 // inside segment 2
	must(t, l.DeleteRecordsBefore(target))
	if l.StartOffset() != target || l.NumSegments() != len(segs)-2 {
		t.Fatalf("start %d segments %d", l.StartOffset(), l.NumSegments())
	}
	if _, err := l.Read(target-1, 100, -1, true); !errors.Is(err, ErrOffsetOutOfRange) {
		t.Fatal(err)
	}
	r, err := l.Read(target, 100, -1, true)
	must(t, err)
	h, _ := batch.ParseHeader(r.ReadTo(nil))
	r.Release()
	if h.BaseOffset > target || h.LastOffset() < target {
		t.Fatalf("batch %d-%d does not hold %d", h.BaseOffset, h.LastOffset(), target)
	}
	must(t, l.DeleteRecordsBefore(1)) // backwards: no-op
	if err := l.DeleteRecordsBefore(l.EndOffset() + 1); !errors.Is(err, ErrOffsetOutOfRange) {
		t.Fatal(err)
	}
	// Survives an unclean restart and a clean one.
	crash(l)
	l = openT(t, dir, cfg)
	if l.StartOffset() != target {
		t.Fatalf("start after crash %d", l.StartOffset())
	}
	must(t, l.Close())
	l = openT(t, dir, cfg)
	defer l.Close()
	if l.StartOffset() != target {
		t.Fatalf("start after reopen %d", l.StartOffset())
	}
	// Everything: the log restarts empty at the end.
	end := l.EndOffset()
	must(t, l.DeleteRecordsBefore(end))
	if l.StartOffset() != end || l.EndOffset() != end {
		t.Fatal(l.StartOffset(), l.EndOffset())
	}
	if res := appendT(t, l, mkBatch(1, 1, 1)); res.FirstOffset != end {
		t.Fatal(res)
	}
}

// A Region keeps its segment's file readable after retention removed it; the
// file is unlinked when the Region is released.
func TestRefcountedDeletion(t *testing.T) {
	dir := t.TempDir()
	cfg := smallConfig()
	cfg.RetentionMs = 1
	l := openT(t, dir, cfg)
	defer l.Close()
	for i := 0; i < 20; i++ {
		appendT(t, l, mkBatch(2, 300, 1))
	}
	r, err := l.Read(0, 1<<20, -1, true)
	must(t, err)
	want := r.ReadTo(nil)
	n, err := l.ApplyRetention(time.Now())
	must(t, err)
	if n == 0 {
		t.Fatal("nothing deleted")
	}
	if _, err := os.Stat(segmentName(dir, 0, logSuffix)); !os.IsNotExist(err) {
		t.Fatal(".log still has its name")
	}
	if _, err := os.Stat(segmentName(dir, 0, logSuffix+deletedSuffix)); err != nil {
		t.Fatal("expected .deleted while a reader holds it:", err)
	}
	got := r.ReadTo(nil)
	if string(got) != string(want) {
		t.Fatal("region bytes changed")
	}
	r.Release()
	if _, err := os.Stat(segmentName(dir, 0, logSuffix+deletedSuffix)); !os.IsNotExist(err) {
		t.Fatal(".deleted not unlinked after release")
	}
}

func TestTruncate(t *testing.T) {
	dir := t.TempDir()
	cfg := smallConfig()
	cfg.SegmentBytes = 1024
	l := openT(t, dir, cfg)
	defer l.Close()
	for i := 0; i < 40; i++ {
		appendT(t, l, mkIdem(7, 0, int32(2*i), 2))
	}
	segs := *l.segments.Load()
	cut := segs[1].base + 5 // inside a batch: that batch goes too
	must(t, l.Truncate(cut))
	if l.EndOffset() != cut-1 || l.NumSegments() != 2 {
		t.Fatalf("end %d segments %d", l.EndOffset(), l.NumSegments())
	}
	readAll(t, l, 0)
	// Producer state follows: the next sequence is the truncated end's.
	res, err := l.Append(mkIdem(7, 0, int32(cut-1), 2), AppendOptions{AssignOffsets: true})
	if err != nil || res.FirstOffset != cut-1 {
		t.Fatal(res, err)
	}
	must(t, l.Truncate(0))
	if l.EndOffset() != 0 || l.NumSegments() != 1 {
		t.Fatal(l.EndOffset(), l.NumSegments())
	}
}

func TestFlushPolicy(t *testing.T) {
	dir := t.TempDir()
	cfg := smallConfig()
	cfg.FlushMessages = 10
	l := openT(t, dir, cfg)
	defer l.Close()
	now := time.Now()
	if l.NeedsFlush(now) {
		t.Fatal("empty log needs flush")
	}
	appendT(t, l, mkBatch(5, 1, 1))
	if l.NeedsFlush(now) {
		t.Fatal("5 < flush.messages")
	}
	appendT(t, l, mkBatch(5, 1, 1))
	if !l.NeedsFlush(now) {
		t.Fatal("10 messages need a flush")
	}
	must(t, l.Flush())
	if l.NeedsFlush(now) {
		t.Fatal("flushed")
	}
	cfg.FlushMessages, cfg.FlushMs = math.MaxInt64, 60_000
	l.SetConfig(cfg)
	appendT(t, l, mkBatch(1, 1, 1))
	if l.NeedsFlush(time.Now()) || !l.NeedsFlush(time.Now().Add(61*time.Second)) {
		t.Fatal("flush.ms")
	}
	must(t, l.Flush())
	cp, err := readCheckpoint(dir)
	must(t, err)
	if cp.recoveryPoint != l.EndOffset() || cp.clean {
		t.Fatalf("checkpoint %+v", cp)
	}
	// Default policy: only a roll asks for a flush.
	l.SetConfig(smallConfig())
	for i := 0; i < 100 && l.NumSegments() == 1; i++ {
		appendT(t, l, mkBatch(5, 100, 1))
	}
	if !l.NeedsFlush(time.Now()) {
		t.Fatal("a rolled segment needs a flush")
	}
}

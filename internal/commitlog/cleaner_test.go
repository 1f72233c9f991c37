package commitlog

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/batch"
)

// rec is a record as read back from a log.
type rec struct {
	off       int64
	key, val  string
	tombstone bool
	ts        int64
}

func (r rec) String() string {
	if r.tombstone {
		return fmt.Sprintf("%d:%s=<nil>", r.off, r.key)
	}
	return fmt.Sprintf("%d:%s=%s", r.off, r.key, r.val)
}

// readRecords reads every record of l from its start (through Read, as a
// fetch would) and the headers of the batches seen.
func readRecords(t testing.TB, l *Log) ([]rec, []batch.Header) {
	t.Helper()
	var out []rec
	var hdrs []batch.Header
	off := l.StartOffset()
	for off < l.EndOffset() {
		r, err := l.Read(off, 1<<20, -1, true)
		if err != nil {
			t.Fatal(err)
		}
		data := r.ReadTo(nil)
		r.Release()
		if len(data) == 0 {
			break
		}
		for b := data; len(b) > 0; {
			h, err := batch.ValidateStored(b)
			if err != nil {
				t.Fatalf("batch at offset %d: %v", off, err)
			}
			one := b[:h.Size()]
			err = batch.ForEachRecord(one, func(r batch.Record) error {
				out = append(out, rec{off: r.Offset, key: string(r.Key), val: string(r.Value), tombstone: r.Value == nil, ts: r.Timestamp})
				return nil
			})
			if err != nil {
				t.Fatalf("records at offset %d: %v", h.BaseOffset, err)
			}
			hdrs = append(hdrs, h)
			off = h.LastOffset() + 1
			b = b[h.Size():]
		}
	}
	return out, hdrs
}

// kv is a record to append: val "" with del set is a tombstone.
type kv struct {
	key, val string
	del      bool
	ts       int64
}

func keyedBatch(t testing.TB, codec batch.Codec, recs []kv) []byte {
	t.Helper()
	rs := make([]batch.Record, len(recs))
	for i, r := range recs {
		rs[i] = batch.Record{Key: []byte(r.key), Timestamp: r.ts}
		if !r.del {
			rs[i].Value = []byte(r.val)
		}
		if rs[i].Timestamp == 0 {
			rs[i].Timestamp = 1000
		}
	}
	b, err := batch.AppendBatchWith(nil, batch.BatchOptions{Timestamp: rs[0].Timestamp, ProducerID: -1,
		ProducerEpoch: -1, BaseSequence: -1, Codec: codec}, rs)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// script appends rounds of updates to keys k0..k(nkeys-1), batchSize records
// per batch, with every 7th update a tombstone, and returns what was
// appended (offset order).
func script(t testing.TB, l *Log, codec batch.Codec, rounds, nkeys, batchSize int) []rec {
	t.Helper()
	var all []rec
	var pending []kv
	n := 0
	flush := func() {
		if len(pending) == 0 {
			return
		}
		res := appendT(t, l, keyedBatch(t, codec, pending))
		for i, p := range pending {
			all = append(all, rec{off: res.FirstOffset + int64(i), key: p.key, val: p.val, tombstone: p.del})
		}
		pending = pending[:0]
	}
	for r := 0; r < rounds; r++ {
		for k := 0; k < nkeys; k++ {
			n++
			p := kv{key: fmt.Sprintf("k%d", k), val: fmt.Sprintf("v%d-%d", r, k)}
			if n%7 == 0 {
				p = kv{key: p.key, del: true}
			}
			pending = append(pending, p)
			if len(pending) == batchSize {
				flush()
			}
		}
	}
	flush()
	return all
}

// latest returns the expected survivors of a full compaction of all (below
// end): the latest record of each key, tombstones included if keepDeletes.
func latest(all []rec, end int64, keepDeletes bool) []rec {
	last := map[string]rec{}
	var tail []rec
	for _, r := range all {
		if r.off >= end {
			tail = append(tail, r)
			continue
		}
		last[r.key] = r
	}
	var out []rec
	for _, r := range last {
		if r.tombstone && !keepDeletes {
			continue
		}
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].off < out[j].off })
	return append(out, tail...)
}

func sameRecs(t testing.TB, what string, got, want []rec) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d records, want %d\n got %v\nwant %v", what, len(got), len(want), head(got), head(want))
	}
	for i := range got {
		g, w := got[i], want[i]
		if g.off != w.off || g.key != w.key || g.val != w.val || g.tombstone != w.tombstone {
			t.Fatalf("%s: record %d is %v, want %v", what, i, g, w)
		}
	}
}

func head(r []rec) []rec {
	if len(r) > 20 {
		return r[:20]
	}
	return r
}

func cleanT(t testing.TB, c *Cleaner, l *Log, cc CleanConfig) CleanStats {
	t.Helper()
	st, err := c.Clean(l, cc)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

var keepDeletes = CleanConfig{DeleteRetentionMs: 1 << 40, MinCleanableDirtyRatio: 0.01}

// TestCleanLatestPerKey: after a pass over a log whose segments are all
// inactive, exactly the latest record of each key is left, at its original
// offset; the log end and the active segment are unchanged; it survives a
// reopen.
func TestCleanLatestPerKey(t *testing.T) {
	for _, codec := range []batch.Codec{batch.CodecNone, batch.CodecGzip, batch.CodecSnappy, batch.CodecLZ4, batch.CodecZstd} {
		t.Run(codec.String(), func(t *testing.T) {
			dir := t.TempDir()
			l := openT(t, dir, smallConfig())
			all := script(t, l, codec, 30, 20, 6)
			must(t, l.Roll())
			end := l.EndOffset()
			segsBefore := l.NumSegments()

			cl, err := l.Cleanable(keepDeletes, time.Now())
			must(t, err)
			if cl.FirstDirtyOffset != 0 || cl.FirstUncleanableOffset != end || cl.DirtyRatio != 1 || !cl.ShouldClean(keepDeletes) {
				t.Fatalf("cleanable before: %+v", cl)
			}
			c := NewCleaner(1<<20, nil)
			st := cleanT(t, c, l, keepDeletes)
			want := latest(all, end, true)
			got, hdrs := readRecords(t, l)
			sameRecs(t, "after clean", got, want)
			if l.EndOffset() != end || st.EndOffset != end || st.RecordsRetained != int64(len(want)) {
				t.Fatalf("end %d (was %d), stats %+v", l.EndOffset(), end, st)
			}
			for _, h := range hdrs {
				if h.Codec() != codec {
					t.Fatalf("batch %d codec %v, want %v", h.BaseOffset, h.Codec(), codec)
				}
				if h.LastOffsetDelta != 5 && h.LastOffset() != end-1 {
					t.Fatalf("batch %d lost its last offset delta: %d", h.BaseOffset, h.LastOffsetDelta)
				}
			}
			if ck, _ := l.CleanerCheckpoint(); ck != end {
				t.Fatalf("checkpoint %d, want %d", ck, end)
			}
			cl, _ = l.Cleanable(keepDeletes, time.Now())
			if cl.CleanableBytes != 0 || cl.ShouldClean(keepDeletes) {
				t.Fatalf("cleanable after: %+v", cl)
			}
			// A second pass changes no record and merges the now small
			// segments (the first could not: each was segment.bytes).
			cleanT(t, c, l, keepDeletes)
			got, _ = readRecords(t, l)
			sameRecs(t, "second pass", got, want)
			if l.NumSegments() > 2 || segsBefore < 4 {
				t.Fatalf("segments not merged: %d before, %d after", segsBefore, l.NumSegments())
			}

			// Appends continue after the gaps; reopen (clean and unclean).
			res := appendT(t, l, keyedBatch(t, codec, []kv{{key: "k1", val: "new"}}))
			if res.FirstOffset != end {
				t.Fatalf("append after clean at %d, want %d", res.FirstOffset, end)
			}
			want = append(want, rec{off: end, key: "k1", val: "new"})
			must(t, l.Close())
			l = openT(t, dir, smallConfig())
			got, _ = readRecords(t, l)
			sameRecs(t, "reopened", got, want)
			crash(l)
			// Without the log checkpoint every segment is recovered: the
			// compacted batches (gaps, fewer records) must pass.
			must(t, os.Remove(filepath.Join(dir, checkpointFile)))
			l = openT(t, dir, smallConfig())
			defer l.Close()
			got, _ = readRecords(t, l)
			sameRecs(t, "recovered", got, want)
		})
	}
}

// TestCleanActiveSegmentUntouched: the active segment is neither read for
// the map nor rewritten; older duplicates of keys updated only in the active
// segment stay.
func TestCleanActiveSegmentUntouched(t *testing.T) {
	dir := t.TempDir()
	l := openT(t, dir, Config{SegmentBytes: 1 << 20, IndexIntervalBytes: 256, RetentionMs: -1})
	defer l.Close()
	first := script(t, l, batch.CodecNone, 5, 10, 10)
	must(t, l.Roll())
	split := l.EndOffset()
	second := script(t, l, batch.CodecNone, 5, 10, 10) // active segment
	activeFile := segmentName(dir, split, logSuffix)
	before, _ := os.ReadFile(activeFile)
	cleanT(t, NewCleaner(1<<20, nil), l, keepDeletes)
	after, _ := os.ReadFile(activeFile)
	if !bytes.Equal(before, after) {
		t.Fatal("active segment changed")
	}
	got, _ := readRecords(t, l)
	want := latest(append(first, second...), split, true)
	sameRecs(t, "after clean", got, want)
}

// TestCleanTombstonesAfterDeleteRetention: tombstones survive the pass that
// sets their batch's delete horizon and every pass before it; the first pass
// after it removes them, and the checkpoint's horizon schedules that pass.
func TestCleanTombstonesAfterDeleteRetention(t *testing.T) {
	dir := t.TempDir()
	l := openT(t, dir, smallConfig())
	defer l.Close()
	all := script(t, l, batch.CodecNone, 10, 20, 4)
	must(t, l.Roll())
	end := l.EndOffset()
	cc := CleanConfig{DeleteRetentionMs: 60_000, MinCleanableDirtyRatio: 0.5}
	c := NewCleaner(1<<20, nil)
	t0 := time.Now()
	c.now = func() time.Time { return t0 }
	st := cleanT(t, c, l, cc)
	if st.DeleteHorizonMs != t0.UnixMilli()+60_000 {
		t.Fatalf("horizon %d, want %d", st.DeleteHorizonMs, t0.UnixMilli()+60_000)
	}
	withDeletes := latest(all, end, true)
	got, hdrs := readRecords(t, l)
	sameRecs(t, "first pass", got, withDeletes)
	for _, h := range hdrs {
		if hz, ok := h.DeleteHorizon(); ok && hz != t0.UnixMilli()+60_000 {
			t.Fatalf("batch %d horizon %d", h.BaseOffset, hz)
		}
	}
	// Record timestamps survive the rebase on the horizon.
	for _, r := range got {
		if r.ts != 1000 {
			t.Fatalf("record %v timestamp %d, want 1000", r, r.ts)
		}
	}
	// Before the horizon: not due, and a forced pass keeps the tombstones.
	cl, _ := l.Cleanable(cc, t0.Add(59*time.Second))
	if cl.ShouldClean(cc) {
		t.Fatalf("due before the horizon: %+v", cl)
	}
	c.now = func() time.Time { return t0.Add(59 * time.Second) }
	cleanT(t, c, l, cc)
	got, _ = readRecords(t, l)
	sameRecs(t, "before the horizon", got, withDeletes)
	// After: due with nothing dirty, and the tombstones go.
	cl, _ = l.Cleanable(cc, t0.Add(61*time.Second))
	if !cl.ShouldClean(cc) || cl.CleanableBytes != 0 {
		t.Fatalf("not due after the horizon: %+v", cl)
	}
	c.now = func() time.Time { return t0.Add(61 * time.Second) }
	st = cleanT(t, c, l, cc)
	got, _ = readRecords(t, l)
	sameRecs(t, "after the horizon", got, latest(all, end, false))
	if st.TombstonesRemoved == 0 || st.DeleteHorizonMs != -1 {
		t.Fatalf("stats %+v", st)
	}
	cl, _ = l.Cleanable(cc, t0.Add(62*time.Second))
	if cl.ShouldClean(cc) {
		t.Fatalf("still due: %+v", cl)
	}
}

// TestCleanMinCompactionLag: segments holding records younger than
// min.compaction.lag.ms are neither mapped nor cleaned; max.compaction.lag.ms
// makes a log due whatever its dirty ratio.
func TestCleanMinCompactionLag(t *testing.T) {
	dir := t.TempDir()
	l := openT(t, dir, Config{SegmentBytes: 1 << 20, IndexIntervalBytes: 256, RetentionMs: -1})
	defer l.Close()
	now := time.Now()
	old, young := now.Add(-2*time.Hour).UnixMilli(), now.Add(-time.Minute).UnixMilli()
	var all []rec
	add := func(ts int64, round int) {
		var kvs []kv
		for k := 0; k < 10; k++ {
			kvs = append(kvs, kv{key: fmt.Sprintf("k%d", k), val: fmt.Sprintf("v%d", round), ts: ts})
		}
		res := appendT(t, l, keyedBatch(t, batch.CodecNone, kvs))
		for i, p := range kvs {
			all = append(all, rec{off: res.FirstOffset + int64(i), key: p.key, val: p.val})
		}
	}
	add(old, 0)
	add(old, 1)
	must(t, l.Roll())
	split := l.EndOffset()
	add(young, 2)
	must(t, l.Roll())
	end := l.EndOffset()
	add(young, 3) // active

	cc := CleanConfig{MinCompactionLagMs: time.Hour.Milliseconds(), MinCleanableDirtyRatio: 0.01}
	cl, _ := l.Cleanable(cc, now)
	if cl.FirstUncleanableOffset != split {
		t.Fatalf("first uncleanable %d, want %d", cl.FirstUncleanableOffset, split)
	}
	cleanT(t, NewCleaner(1<<20, nil), l, cc)
	got, _ := readRecords(t, l)
	want := latest(all, split, true)
	sameRecs(t, "with lag", got, want)

	// Without the lag the young segment is cleaned too.
	cleanT(t, NewCleaner(1<<20, nil), l, CleanConfig{MinCleanableDirtyRatio: 0.01})
	got, _ = readRecords(t, l)
	sameRecs(t, "without lag", got, latest(all, end, true))

	// max.compaction.lag.ms: a tiny dirty ratio is due once the oldest dirty
	// record is older than the lag.
	add(young, 4)
	must(t, l.Roll())
	add(young, 5)
	hi := CleanConfig{MinCleanableDirtyRatio: 0.99}
	cl, _ = l.Cleanable(hi, now)
	if cl.ShouldClean(hi) {
		t.Fatalf("due without max lag: %+v", cl)
	}
	hi.MaxCompactionLagMs = 1000
	cl, _ = l.Cleanable(hi, now)
	if !cl.ShouldClean(hi) || cl.MaxCompactionDelayMs <= 0 {
		t.Fatalf("not due with max lag: %+v", cl)
	}
}

// TestCleanIdempotentProducerState: a producer's last batch survives as an
// empty batch when all its records are superseded, so its sequence is known
// after a restart; its earlier batches go.
func TestCleanIdempotentProducerState(t *testing.T) {
	dir := t.TempDir()
	l := openT(t, dir, smallConfig())
	idem := func(seq int32, keys ...string) []byte {
		var rs []batch.Record
		for _, k := range keys {
			rs = append(rs, batch.Record{Key: []byte(k), Value: []byte("p")})
		}
		b, err := batch.AppendBatchWith(nil, batch.BatchOptions{Timestamp: 1000, ProducerID: 7, ProducerEpoch: 2, BaseSequence: seq}, rs)
		must(t, err)
		return b
	}
	first := appendT(t, l, idem(0, "a", "b"))
	last := appendT(t, l, idem(2, "c", "d", "e"))
	appendT(t, l, keyedBatch(t, batch.CodecNone, []kv{{key: "a", val: "x"}, {key: "b", val: "x"}, {key: "c", val: "x"}, {key: "d", val: "x"}, {key: "e", val: "x"}}))
	must(t, l.Roll())
	cleanT(t, NewCleaner(1<<20, nil), l, keepDeletes)
	_, hdrs := readRecords(t, l)
	var kept []batch.Header
	for _, h := range hdrs {
		if h.ProducerID == 7 {
			kept = append(kept, h)
		}
	}
	if len(kept) != 1 {
		t.Fatalf("producer batches kept: %+v", kept)
	}
	h := kept[0]
	if h.BaseOffset != last.FirstOffset || h.LastOffset() != last.LastOffset || h.NumRecords != 0 ||
		h.BaseSequence != 2 || h.ProducerEpoch != 2 || h.LastSequence() != 4 {
		t.Fatalf("empty batch %+v, want offsets %d-%d seq 2-4", h, last.FirstOffset, last.LastOffset)
	}
	_ = first
	crash(l)
	l = openT(t, dir, smallConfig())
	defer l.Close()
	// The retry of the last batch is a duplicate; the next sequence is 5.
	res, err := l.Append(idem(2, "c", "d", "e"), AppendOptions{AssignOffsets: true})
	if err != nil || !res.Duplicate || res.FirstOffset != last.FirstOffset {
		t.Fatalf("retry after clean: %+v %v", res, err)
	}
	if _, err := l.Append(idem(6, "f"), AppendOptions{AssignOffsets: true}); !errors.Is(err, ErrOutOfOrderSequence) {
		t.Fatalf("gap in sequence accepted after clean: %v", err)
	}
	if _, err := l.Append(idem(5, "f"), AppendOptions{AssignOffsets: true}); err != nil {
		t.Fatalf("next sequence after clean: %v", err)
	}
}

// TestCleanMapFull: a dedupe buffer too small for the dirty section cleans
// up to where the map reached; repeated passes finish the job.
func TestCleanMapFull(t *testing.T) {
	dir := t.TempDir()
	l := openT(t, dir, Config{SegmentBytes: 64 << 10, IndexIntervalBytes: 256, RetentionMs: -1})
	defer l.Close()
	all := script(t, l, batch.CodecNone, 3, 3000, 50)
	must(t, l.Roll())
	end := l.EndOffset()
	c := NewCleaner(1024*omSlotSize, nil) // 1024 slots: 921 keys
	passes := 0
	for {
		st := cleanT(t, c, l, keepDeletes)
		passes++
		if st.MapBytes > 1024*omSlotSize {
			t.Fatalf("map uses %d bytes, limit %d", st.MapBytes, 1024*omSlotSize)
		}
		if !st.MapFull {
			break
		}
		if st.EndOffset >= end || passes > 20 {
			t.Fatalf("pass %d: %+v", passes, st)
		}
	}
	if passes < 3 {
		t.Fatalf("map never filled: %d passes", passes)
	}
	got, _ := readRecords(t, l)
	sameRecs(t, "after passes", got, latest(all, end, true))
}

// TestCleanReadsInFlight: a Region taken before a swap still reads the old
// bytes after it.
func TestCleanReadsInFlight(t *testing.T) {
	l := openT(t, t.TempDir(), smallConfig())
	defer l.Close()
	script(t, l, batch.CodecNone, 10, 5, 5)
	must(t, l.Roll())
	r, err := l.Read(0, 1<<20, -1, true)
	must(t, err)
	before := r.ReadTo(nil)
	cleanT(t, NewCleaner(1<<20, nil), l, keepDeletes)
	after := r.ReadTo(nil)
	r.Release()
	if len(before) == 0 || !bytes.Equal(before, after) {
		t.Fatalf("region changed under a reader: %d -> %d bytes", len(before), len(after))
	}
}

// TestCleanCrashAtEachStep stops a swap at each step, as kill -9 would, and
// reopens: the log holds either the old or the new records, exactly, and a
// later pass finishes the job.
func TestCleanCrashAtEachStep(t *testing.T) {
	steps := []struct {
		step      string
		committed bool
	}{
		{"cleaned", false}, {"intent", false}, {"swap.index", false}, {"swap.timeindex", false},
		{"swap.log", true}, {"deleted", true}, {"install.index", true}, {"install.timeindex", true},
		{"install.log", true}, {"done", true},
	}
	for _, tc := range steps {
		t.Run(tc.step, func(t *testing.T) {
			dir := t.TempDir()
			cfg := Config{SegmentBytes: 1 << 20, IndexIntervalBytes: 256, RetentionMs: -1}
			l := openT(t, dir, cfg)
			var all []rec
			for i := 0; i < 6; i++ { // six small segments: one group
				all = append(all, script(t, l, batch.CodecNone, 3, 10, 5)...)
				must(t, l.Roll())
			}
			end := l.EndOffset()
			crashHook = func(step string) bool { return step == tc.step }
			defer func() { crashHook = nil }()
			_, err := NewCleaner(1<<20, nil).Clean(l, keepDeletes)
			crashHook = nil
			if !errors.Is(err, errSimulatedCrash) {
				t.Fatalf("clean: %v", err)
			}
			crash(l)
			l = openT(t, dir, cfg)
			defer l.Close()
			want := all
			if tc.committed {
				want = latest(all, end, true)
			}
			got, _ := readRecords(t, l)
			sameRecs(t, "after crash at "+tc.step, got, want)
			ents, _ := os.ReadDir(dir)
			for _, e := range ents {
				if n := e.Name(); filepath.Ext(n) == cleanedSuffix || filepath.Ext(n) == swapSuffix || n == cleanerSwapFile {
					t.Errorf("leftover %s", n)
				}
			}
			cleanT(t, NewCleaner(1<<20, nil), l, keepDeletes)
			got, _ = readRecords(t, l)
			sameRecs(t, "next pass", got, latest(all, end, true))
		})
	}
}

// TestCleanConcurrentAppends cleans while another goroutine appends and
// reads: no error, and the survivors are right.
func TestCleanConcurrentAppends(t *testing.T) {
	l := openT(t, t.TempDir(), Config{SegmentBytes: 16 << 10, IndexIntervalBytes: 256, RetentionMs: -1})
	defer l.Close()
	var all []rec
	done := make(chan struct{})
	go func() {
		defer close(done)
		rng := rand.New(rand.NewPCG(1, 2))
		for i := 0; i < 3000; i++ {
			k := fmt.Sprintf("k%d", rng.IntN(50))
			v := fmt.Sprintf("v%d", i)
			res, err := l.Append(keyedBatch(t, batch.CodecNone, []kv{{key: k, val: v}}), AppendOptions{AssignOffsets: true})
			if err != nil {
				t.Error(err)
				return
			}
			all = append(all, rec{off: res.FirstOffset, key: k, val: v})
		}
	}()
	c := NewCleaner(1<<20, nil)
	cc := CleanConfig{MinCleanableDirtyRatio: 0.01, DeleteRetentionMs: 1 << 40}
	for running := true; running; {
		select {
		case <-done:
			running = false
		default:
		}
		if _, err := c.Clean(l, cc); err != nil && !errors.Is(err, ErrCleaningAborted) {
			t.Fatal(err)
		}
		readRecords(t, l)
	}
	must(t, l.Roll())
	cleanT(t, c, l, cc)
	got, _ := readRecords(t, l)
	sameRecs(t, "final", got, latest(all, l.EndOffset(), true))
}

func TestThrottler(t *testing.T) {
	th := NewThrottler(1e6)
	var slept time.Duration
	th.sleep = func(d time.Duration) { slept += d }
	th.Wait(500_000)
	th.Wait(1_500_000) // the fake sleep lets no time pass: the debt adds up
	if slept < 2400*time.Millisecond || slept > 2600*time.Millisecond {
		t.Fatalf("slept %v for 0.5 + 2 MB of debt at 1 MB/s", slept)
	}
	un := NewThrottler(1.7976931348623157e308)
	un.sleep = func(time.Duration) { t.Fatal("unlimited throttler slept") }
	un.Wait(1 << 30)
}

func TestOffsetMap(t *testing.T) {
	m := newOffsetMap()
	m.reset(5000, 1<<20)
	for i := 0; i < 5000; i++ {
		m.put([]byte(fmt.Sprintf("key-%d", i%1000)), int64(i))
	}
	if m.n != 1000 {
		t.Fatalf("%d entries", m.n)
	}
	for i := 0; i < 1000; i++ {
		if got := m.get([]byte(fmt.Sprintf("key-%d", i))); got != int64(4000+i) {
			t.Fatalf("key-%d: %d", i, got)
		}
	}
	if m.get([]byte("absent")) != -1 || m.get(nil) != -1 && m.get([]byte{}) != -1 {
		t.Fatal("absent key found")
	}
	m.reset(1<<30, 1<<20)
	if m.bytes() > 1<<20 {
		t.Fatalf("map %d bytes over its 1 MiB budget", m.bytes())
	}
}

// TestCleanThrottled: every byte the cleaner reads or writes goes through
// the throttle.
func TestCleanThrottled(t *testing.T) {
	l := openT(t, t.TempDir(), smallConfig())
	defer l.Close()
	script(t, l, batch.CodecNone, 20, 20, 6)
	must(t, l.Roll())
	th := NewThrottler(1e6)
	var slept time.Duration
	th.sleep = func(d time.Duration) { slept += d }
	st := cleanT(t, NewCleaner(1<<20, th), l, keepDeletes)
	io := st.BytesRead + st.BytesWritten
	want := time.Duration(float64(io) / 1e6 * float64(time.Second))
	if slept < want*9/10 {
		t.Fatalf("slept %v for %d bytes at 1 MB/s, want about %v", slept, io, want)
	}
}

// TestCleanCrashEmptiedLastSegment: the last segment of a group loses all
// its records (expired tombstones), so the cleaned segment ends before that
// segment's base. A crash after the commit must still remove it at Open:
// the swap intent names the group's end (Kafka infers it from the swap
// segment's content and would keep the old segment, mixing old and new).
func TestCleanCrashEmptiedLastSegment(t *testing.T) {
	for _, step := range []string{"swap.log", "deleted", "install.log"} {
		t.Run(step, func(t *testing.T) {
			dir := t.TempDir()
			cfg := Config{SegmentBytes: 1 << 20, IndexIntervalBytes: 256, RetentionMs: -1}
			l := openT(t, dir, cfg)
			all := script(t, l, batch.CodecNone, 2, 10, 5)
			must(t, l.Roll())
			// Tombstones for keys that never had a value, in a batch whose
			// delete horizon passed long ago.
			tb := keyedBatch(t, batch.CodecNone, []kv{{key: "gone1", del: true}, {key: "gone2", del: true}})
			h, _ := batch.ParseHeader(tb)
			h.Attributes |= batch.AttrDeleteHorizon
			h.BaseTimestamp = 1
			batch.PutHeader(tb, h)
			res := appendT(t, l, tb)
			must(t, l.Roll())
			end := l.EndOffset()
			_ = res // the expired tombstones are not in the expected survivors

			crashHook = func(s string) bool { return s == step }
			defer func() { crashHook = nil }()
			if _, err := NewCleaner(1<<20, nil).Clean(l, keepDeletes); !errors.Is(err, errSimulatedCrash) {
				t.Fatalf("clean: %v", err)
			}
			crashHook = nil
			crash(l)
			l = openT(t, dir, cfg)
			defer l.Close()
			got, _ := readRecords(t, l)
			sameRecs(t, "after crash", got, latest(all, end, true))
			if bases, _ := listSegments(dir); len(bases) != 2 {
				t.Fatalf("segments %v, want the cleaned one and the active one", bases)
			}
		})
	}
}

// TestCleanRandomized runs random appends (keys, tombstones, codecs,
// idempotent producers), rolls, cleaning passes with small offset maps,
// clock jumps past delete horizons, crashes at random swap steps and
// reopens, checking after each step that every record read is the one
// appended at its offset and that each key ends at its latest record (or is
// gone if that is an expired tombstone); at the end a full compaction leaves
// exactly the latest live record of every key.
func TestCleanRandomized(t *testing.T) {
	steps := []string{"cleaned", "intent", "swap.index", "swap.log", "deleted", "install.index", "install.log", "done"}
	codecs := []batch.Codec{batch.CodecNone, batch.CodecNone, batch.CodecSnappy, batch.CodecZstd}
	for seed := uint64(1); seed <= 6; seed++ {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(seed, 99))
			dir := t.TempDir()
			cfg := Config{SegmentBytes: 8 << 10, IndexIntervalBytes: 512, RetentionMs: -1}
			l := openT(t, dir, cfg)
			defer func() { l.Close() }()
			appended := map[int64]rec{}
			var all []rec
			clock := time.UnixMilli(1_000_000)
			cc := CleanConfig{DeleteRetentionMs: 5000, MinCleanableDirtyRatio: 0.01}
			seq := map[int64]int32{}
			check := func(what string) {
				t.Helper()
				got, _ := readRecords(t, l)
				last := map[string]rec{}
				for _, r := range got {
					want, ok := appended[r.off]
					if !ok || want.key != r.key || want.val != r.val || want.tombstone != r.tombstone {
						t.Fatalf("%s: offset %d holds %v, appended %v", what, r.off, r, want)
					}
					last[r.key] = r
				}
				for _, w := range latest(all, 1<<62, true) {
					g, ok := last[w.key]
					if (!ok && !w.tombstone) || (ok && g.off != w.off) {
						t.Fatalf("%s: key %s ends at %v, latest is %v", what, w.key, g, w)
					}
				}
			}
			for op := 0; op < 120; op++ {
				switch x := rng.IntN(10); {
				case x < 6: // append a batch
					n := 1 + rng.IntN(8)
					var kvs []kv
					for i := 0; i < n; i++ {
						p := kv{key: fmt.Sprintf("k%d", rng.IntN(40)), val: fmt.Sprintf("v%d-%d", op, i)}
						if rng.IntN(6) == 0 {
							p = kv{key: p.key, del: true}
						}
						kvs = append(kvs, p)
					}
					b := keyedBatch(t, codecs[rng.IntN(len(codecs))], kvs)
					if rng.IntN(3) == 0 { // idempotent
						pid := int64(1 + rng.IntN(3))
						h, _ := batch.ParseHeader(b)
						h.ProducerID, h.ProducerEpoch, h.BaseSequence = pid, 0, seq[pid]
						batch.PutHeader(b, h)
						seq[pid] += int32(n)
					}
					res := appendT(t, l, b)
					for i, p := range kvs {
						r := rec{off: res.FirstOffset + int64(i), key: p.key, val: p.val, tombstone: p.del}
						appended[r.off] = r
						all = append(all, r)
					}
				case x < 7:
					must(t, l.Roll())
				case x < 8:
					clock = clock.Add(time.Duration(rng.IntN(8000)) * time.Millisecond)
				default: // a pass, maybe crashing
					c := NewCleaner(int64(1024+rng.IntN(2048))*omSlotSize, nil)
					c.now = func() time.Time { return clock }
					crashStep := ""
					if rng.IntN(3) == 0 {
						crashStep = steps[rng.IntN(len(steps))]
					}
					crashHook = func(s string) bool { return s == crashStep }
					_, err := c.Clean(l, cc)
					crashHook = nil
					switch {
					case errors.Is(err, errSimulatedCrash):
						crash(l)
						l = openT(t, dir, cfg)
					case err != nil:
						t.Fatal(err)
					}
				}
				check(fmt.Sprintf("op %d", op))
			}
			// Full compaction: roll, then passes until nothing is left to do,
			// with the clock past every horizon.
			must(t, l.Roll())
			c := NewCleaner(1<<20, nil)
			clock = clock.Add(time.Minute)
			c.now = func() time.Time { return clock }
			for i := 0; i < 3; i++ {
				cleanT(t, c, l, cc)
				clock = clock.Add(time.Minute)
			}
			got, _ := readRecords(t, l)
			sameRecs(t, "fully compacted", got, latest(all, 1<<62, false))
		})
	}
}

// TestCleanBatchLargerThanMap: a batch with more keys than the offset map
// holds is cleaned in several passes, each ending inside it.
func TestCleanBatchLargerThanMap(t *testing.T) {
	l := openT(t, t.TempDir(), Config{SegmentBytes: 1 << 20, IndexIntervalBytes: 256, RetentionMs: -1})
	defer l.Close()
	var all []rec
	for round := 0; round < 2; round++ {
		var kvs []kv
		for k := 0; k < 3000; k++ {
			kvs = append(kvs, kv{key: fmt.Sprintf("k%d", k), val: fmt.Sprintf("v%d", round)})
		}
		res := appendT(t, l, keyedBatch(t, batch.CodecNone, kvs))
		for i, p := range kvs {
			all = append(all, rec{off: res.FirstOffset + int64(i), key: p.key, val: p.val})
		}
	}
	must(t, l.Roll())
	c := NewCleaner(1024*omSlotSize, nil) // 921 keys per pass
	for passes := 0; ; passes++ {
		if passes > 10 {
			t.Fatal("no progress")
		}
		if st := cleanT(t, c, l, keepDeletes); !st.MapFull {
			break
		}
	}
	got, _ := readRecords(t, l)
	sameRecs(t, "after passes", got, latest(all, l.EndOffset(), true))
}

// TestCleanBelowStableOffset: nothing at or above the stable offset (the
// high watermark) is mapped, so records there keep older duplicates alive.
func TestCleanBelowStableOffset(t *testing.T) {
	l := openT(t, t.TempDir(), Config{SegmentBytes: 1 << 20, IndexIntervalBytes: 256, RetentionMs: -1})
	defer l.Close()
	all := script(t, l, batch.CodecNone, 4, 10, 10) // one batch per round
	must(t, l.Roll())
	hw := int64(20) // rounds 0-1 committed, 2-3 not yet
	cc := CleanConfig{MinCleanableDirtyRatio: 0.01, DeleteRetentionMs: 1 << 40, StableOffset: hw}
	cl, _ := l.Cleanable(cc, time.Now())
	if cl.FirstUncleanableOffset != hw {
		t.Fatalf("first uncleanable %d, want %d", cl.FirstUncleanableOffset, hw)
	}
	if st := cleanT(t, NewCleaner(1<<20, nil), l, cc); st.EndOffset != hw {
		t.Fatalf("cleaned to %d", st.EndOffset)
	}
	got, _ := readRecords(t, l)
	sameRecs(t, "below the stable offset", got, latest(all, hw, true))
}

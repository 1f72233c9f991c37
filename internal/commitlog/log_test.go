package commitlog

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/batch"
)

// mkBatch builds a batch of n records with valueSize-byte values and the
// given timestamp.
func mkBatch(n, valueSize int, ts int64) []byte {
	recs := make([]batch.Record, n)
	for i := range recs {
		recs[i] = batch.Record{Key: []byte(fmt.Sprintf("k%d", i)), Value: bytes.Repeat([]byte{'v'}, valueSize)}
	}
	return batch.AppendBatch(nil, 0, ts, recs)
}

// mkIdem builds an idempotent batch.
func mkIdem(pid int64, epoch int16, seq int32, n int) []byte {
	recs := make([]batch.Record, n)
	for i := range recs {
		recs[i] = batch.Record{Value: []byte(fmt.Sprintf("seq%d", int(seq)+i))}
	}
	b, err := batch.AppendBatchWith(nil, batch.BatchOptions{Timestamp: 1000, ProducerID: pid,
		ProducerEpoch: epoch, BaseSequence: seq}, recs)
	if err != nil {
		panic(err)
	}
	return b
}

func smallConfig() Config {
	return Config{SegmentBytes: 4096, IndexIntervalBytes: 256, RetentionMs: -1}
}

func openT(t testing.TB, dir string, cfg Config) *Log {
	t.Helper()
	l, err := Open(dir, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func appendT(t testing.TB, l *Log, b []byte) AppendResult {
	t.Helper()
	if _, err := batch.Validate(b, 0); err != nil {
		t.Fatal(err)
	}
	res, err := l.Append(b, AppendOptions{AssignOffsets: true, LeaderEpoch: 3})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// readAll reads every batch from offset to the end and returns the base
// offsets of the batches seen.
func readAll(t testing.TB, l *Log, from int64) []int64 {
	t.Helper()
	var bases []int64
	off := from
	for off < l.EndOffset() {
		r, err := l.Read(off, 1<<20, -1, true)
		if err != nil {
			t.Fatal(err)
		}
		data := r.ReadTo(nil)
		r.Release()
		if len(data) == 0 {
			t.Fatalf("empty read at %d (end %d)", off, l.EndOffset())
		}
		s, err := batch.Validate(data, 0)
		if err != nil {
			t.Fatalf("read at %d returned invalid data: %v", off, err)
		}
		for b := data; len(b) > 0; b = b[batch.BatchSize(b):] {
			h, _ := batch.ParseHeader(b)
			bases = append(bases, h.BaseOffset)
			off = h.LastOffset() + 1
		}
		_ = s
	}
	return bases
}

func TestAppendReadRoundTrip(t *testing.T) {
	l := openT(t, t.TempDir(), smallConfig())
	defer l.Close()
	if l.StartOffset() != 0 || l.EndOffset() != 0 {
		t.Fatal("new log not empty")
	}
	var want []int64
	for i := 0; i < 50; i++ {
		res := appendT(t, l, mkBatch(3, 50, int64(1000+i)))
		if res.FirstOffset != int64(3*i) || res.LastOffset != int64(3*i+2) || res.Duplicate {
			t.Fatalf("append %d: %+v", i, res)
		}
		want = append(want, res.FirstOffset)
	}
	if l.EndOffset() != 150 {
		t.Fatalf("end %d", l.EndOffset())
	}
	if l.NumSegments() < 3 {
		t.Fatalf("expected rolls, have %d segments", l.NumSegments())
	}
	got := readAll(t, l, 0)
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("got %v want %v", got, want)
	}
	// Every offset reads from the batch containing it.
	for off := int64(0); off < 150; off++ {
		r, err := l.Read(off, 1, -1, true)
		if err != nil {
			t.Fatal(err)
		}
		b := r.ReadTo(nil)
		r.Release()
		h, err := batch.ParseHeader(b)
		if err != nil || h.BaseOffset != off/3*3 || h.PartitionLeaderEpoch != 3 || len(b) != h.Size() {
			t.Fatalf("read %d: %+v %v", off, h, err)
		}
		if err := batch.CheckCRC(b); err != nil {
			t.Fatal(err)
		}
	}
}

func TestReadLimits(t *testing.T) {
	l := openT(t, t.TempDir(), Config{IndexIntervalBytes: 100})
	defer l.Close()
	b := mkBatch(2, 100, 1)
	size := len(b)
	for i := 0; i < 10; i++ {
		appendT(t, l, mkBatch(2, 100, 1))
	}
	cases := []struct {
		name      string
		off       int64
		maxBytes  int
		maxOffset int64
		minOne    bool
		wantSize  int
		wantErr   error
	}{
		{"all", 0, 1 << 20, -1, false, 10 * size, nil},
		{"from middle of batch", 5, 1 << 20, -1, false, 8 * size, nil},
		{"maxBytes caps", 0, 3*size + 10, -1, false, 3 * size, nil},
		{"too small, no minOne", 0, size - 1, -1, false, 0, nil},
		{"too small, minOne", 0, size - 1, -1, true, size, nil},
		{"hw exclusive", 0, 1 << 20, 6, false, 3 * size, nil},
		{"hw inside batch", 0, 1 << 20, 5, false, 2 * size, nil},
		{"at hw", 6, 1 << 20, 6, true, 0, nil},
		{"at end", 20, 1 << 20, -1, true, 0, nil},
		{"past end", 21, 1 << 20, -1, true, 0, ErrOffsetOutOfRange},
		{"negative", -1, 1 << 20, -1, true, 0, ErrOffsetOutOfRange},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r, err := l.Read(c.off, c.maxBytes, c.maxOffset, c.minOne)
			if !errors.Is(err, c.wantErr) {
				t.Fatalf("err %v want %v", err, c.wantErr)
			}
			defer r.Release()
			if r.Size != c.wantSize {
				t.Fatalf("size %d want %d", r.Size, c.wantSize)
			}
		})
	}
}

func TestIndexLookup(t *testing.T) {
	l := openT(t, t.TempDir(), Config{IndexIntervalBytes: 1})
	defer l.Close()
	for i := 0; i < 100; i++ {
		appendT(t, l, mkBatch(1+i%3, 10, int64(i)))
	}
	seg := l.active()
	seg.idx.RLock()
	n := len(seg.idx.offsets)
	seg.idx.RUnlock()
	if n < 90 {
		t.Fatalf("expected an index entry per batch, have %d", n)
	}
	for off := int64(0); off < l.EndOffset(); off++ {
		pos := seg.lookup(off)
		var hdr [batch.HeaderSize]byte
		h, err := seg.readHeader(&hdr, pos, seg.size.Load())
		if err != nil || h.BaseOffset > off {
			t.Fatalf("lookup(%d) = %d -> %+v %v", off, pos, h, err)
		}
	}
	// The index file on disk matches memory.
	fi, _ := os.Stat(segmentName(l.dir, 0, indexSuffix))
	if fi.Size() != int64(n*offsetEntrySize) {
		t.Fatalf("index file %d bytes, %d entries", fi.Size(), n)
	}
}

func TestOffsetForTimestamp(t *testing.T) {
	l := openT(t, t.TempDir(), smallConfig())
	defer l.Close()
	// Batch i has records with timestamps 1000+10i (first), 1000+10i+1 ...
	for i := 0; i < 40; i++ {
		recs := []batch.Record{{Value: []byte("a"), Timestamp: int64(1000 + 10*i)},
			{Value: []byte("b"), Timestamp: int64(1000 + 10*i + 5)}}
		appendT(t, l, batch.AppendBatch(nil, 0, int64(1000+10*i), recs))
	}
	cases := []struct {
		ts, off, rts int64
		ok           bool
	}{
		{0, 0, 1000, true},
		{1000, 0, 1000, true},
		{1001, 1, 1005, true},
		{1005, 1, 1005, true},
		{1006, 2, 1010, true},
		{1200, 40, 1200, true},
		{1395, 79, 1395, true},
		{1396, -1, -1, false},
	}
	for _, c := range cases {
		off, rts, ok := l.OffsetForTimestamp(c.ts)
		if off != c.off || rts != c.rts || ok != c.ok {
			t.Errorf("OffsetForTimestamp(%d) = %d,%d,%v want %d,%d,%v", c.ts, off, rts, ok, c.off, c.rts, c.ok)
		}
	}
	off, ts := l.MaxTimestamp()
	if off != 79 || ts != 1395 {
		t.Errorf("MaxTimestamp = %d,%d", off, ts)
	}
}

func TestReopenClean(t *testing.T) {
	dir := t.TempDir()
	l := openT(t, dir, smallConfig())
	for i := 0; i < 30; i++ {
		appendT(t, l, mkBatch(2, 60, int64(i)))
	}
	want := readAll(t, l, 0)
	segs := l.NumSegments()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	l = openT(t, dir, smallConfig())
	defer l.Close()
	if l.EndOffset() != 60 || l.NumSegments() != segs {
		t.Fatalf("end %d segments %d", l.EndOffset(), l.NumSegments())
	}
	if got := readAll(t, l, 0); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("got %v want %v", got, want)
	}
	res := appendT(t, l, mkBatch(1, 1, 5))
	if res.FirstOffset != 60 {
		t.Fatalf("append after reopen at %d", res.FirstOffset)
	}
	if off, ts := l.MaxTimestamp(); ts != 29 || off != 58 {
		t.Fatalf("max timestamp after reopen %d %d", off, ts)
	}
}

func TestLogAppendTime(t *testing.T) {
	cfg := smallConfig()
	cfg.MessageTimestampLogAppendTime = true
	l := openT(t, t.TempDir(), cfg)
	defer l.Close()
	now := time.UnixMilli(123456789)
	res, err := l.Append(mkBatch(2, 5, 1), AppendOptions{AssignOffsets: true, Now: now})
	if err != nil || res.LogAppendTime != now.UnixMilli() {
		t.Fatal(res, err)
	}
	r, _ := l.Read(0, 1000, -1, true)
	b := r.ReadTo(nil)
	r.Release()
	h, _ := batch.ParseHeader(b)
	if !h.LogAppendTime() || h.MaxTimestamp != now.UnixMilli() || batch.CheckCRC(b) != nil {
		t.Fatalf("%+v", h)
	}
}

func TestDeleteRemovesDir(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "topic-0")
	l := openT(t, dir, smallConfig())
	appendT(t, l, mkBatch(1, 1, 1))
	if err := l.Delete(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Fatal("dir still exists")
	}
	if _, err := l.Append(mkBatch(1, 1, 1), AppendOptions{AssignOffsets: true}); !errors.Is(err, ErrClosed) {
		t.Fatal(err)
	}
}

func setBase(b []byte, off int64) { batch.SetBaseOffset(b, off) }

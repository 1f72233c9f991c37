package commitlog

import (
	"testing"
	"time"
)

// bench16K is one 16 KiB batch of 1 KiB records (16 records).
func bench16K() []byte { return mkBatch(16, 1000, time.Now().UnixMilli()) }

// BenchmarkAppend appends 16 KiB batches of 1 KiB records (page cache, no
// fsync: Kafka's default flush policy). Retention keeps the disk use bounded
// and runs outside the timer.
func BenchmarkAppend(b *testing.B) {
	cfg := Config{SegmentBytes: 64 << 20, RetentionBytes: 128 << 20, RetentionMs: -1}
	l := openT(b, b.TempDir(), cfg)
	defer l.Close()
	buf := bench16K()
	opts := AppendOptions{AssignOffsets: true, LeaderEpoch: 1, Now: time.Now()}
	b.SetBytes(int64(len(buf)))
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, err := l.Append(buf, opts); err != nil {
			b.Fatal(err)
		}
		if i++; i%8192 == 0 {
			b.StopTimer()
			l.ApplyRetention(time.Now())
			b.StartTimer()
		}
	}
}

// BenchmarkAppendIdempotent is BenchmarkAppend with producer sequence checks.
func BenchmarkAppendIdempotent(b *testing.B) {
	cfg := Config{SegmentBytes: 64 << 20, RetentionBytes: 128 << 20, RetentionMs: -1}
	l := openT(b, b.TempDir(), cfg)
	defer l.Close()
	opts := AppendOptions{AssignOffsets: true, LeaderEpoch: 1, Now: time.Now()}
	bufs := make([][]byte, 1024)
	for i := range bufs {
		bufs[i] = mkIdem(1, 0, int32(i*16), 16)
	}
	b.SetBytes(int64(len(bufs[0])))
	b.ReportAllocs()
	i, epoch := 0, int16(0)
	for b.Loop() {
		if i == len(bufs) { // restart the sequence with a new epoch
			b.StopTimer()
			epoch++
			for j := range bufs {
				bufs[j] = mkIdem(1, epoch, int32(j*16), 16)
			}
			i = 0
			b.StartTimer()
		}
		if _, err := l.Append(bufs[i], opts); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// BenchmarkRead reads 64 KiB Regions (4 batches) sequentially through the
// log with ReadTo into a reused buffer.
func BenchmarkRead(b *testing.B) {
	l := openT(b, b.TempDir(), Config{SegmentBytes: 16 << 20})
	defer l.Close()
	buf := bench16K()
	for i := 0; i < 2048; i++ { // 32 MiB, 2 segments
		if _, err := l.Append(buf, AppendOptions{AssignOffsets: true}); err != nil {
			b.Fatal(err)
		}
	}
	end := l.EndOffset()
	dst := make([]byte, 0, 128<<10)
	var off int64
	b.SetBytes(4 * int64(len(buf)))
	b.ReportAllocs()
	for b.Loop() {
		r, err := l.Read(off, 4*len(buf), end, true)
		if err != nil {
			b.Fatal(err)
		}
		dst = r.ReadTo(dst[:0])
		r.Release()
		if len(dst) == 0 {
			b.Fatal("empty read")
		}
		if off += 64; off >= end {
			off = 0
		}
	}
}

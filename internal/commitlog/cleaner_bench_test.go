package commitlog

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/batch"
)

// BenchmarkClean measures one compaction pass over a 64 MiB dirty log (16
// KiB batches of 1 KiB random values over 10,000 keys, 64 MiB segments of
// which all but the active one are dirty). MB/s is dirty log cleaned per
// second; map-bytes is the offset map's memory, bounded by the dedupe
// buffer (the "small-map" variant gives it 1 MiB: several passes).
func BenchmarkClean(b *testing.B) {
	for _, bc := range []struct {
		name   string
		dedupe int64
		codec  batch.Codec
	}{
		{"none", DefaultDedupeBufferSize, batch.CodecNone},
		{"small-map", 1 << 20, batch.CodecNone},
		{"lz4", DefaultDedupeBufferSize, batch.CodecLZ4},
	} {
		b.Run(bc.name, func(b *testing.B) { benchClean(b, bc.dedupe, bc.codec) })
	}
}

func benchClean(b *testing.B, dedupe int64, codec batch.Codec) {
	const total = 64 << 20
	rng := rand.New(rand.NewPCG(1, 2))
	val := make([]byte, 1024)
	var batches [][]byte
	for size := 0; size < total; {
		recs := make([]batch.Record, 16)
		for i := range recs {
			for j := range val {
				val[j] = byte(rng.Uint32())
			}
			recs[i] = batch.Record{Key: []byte(fmt.Sprintf("key-%05d", rng.IntN(10000))), Value: append([]byte(nil), val...), Timestamp: 1000}
		}
		bt, err := batch.AppendBatchWith(nil, batch.BatchOptions{Timestamp: 1000, ProducerID: -1, ProducerEpoch: -1, BaseSequence: -1, Codec: codec}, recs)
		if err != nil {
			b.Fatal(err)
		}
		batches = append(batches, bt)
		size += len(bt)
	}
	c := NewCleaner(dedupe, nil)
	cc := CleanConfig{MinCleanableDirtyRatio: 0.01, DeleteRetentionMs: 1 << 40}
	var dirty, mapBytes int64
	var elapsed time.Duration
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		l := openT(b, b.TempDir(), Config{SegmentBytes: 16 << 20, RetentionMs: -1})
		for _, bt := range batches {
			buf := append([]byte(nil), bt...)
			if _, err := l.Append(buf, AppendOptions{AssignOffsets: true}); err != nil {
				b.Fatal(err)
			}
		}
		l.Roll()
		b.StartTimer()
		start := time.Now()
		for {
			st, err := c.Clean(l, cc)
			if err != nil {
				b.Fatal(err)
			}
			dirty += st.DirtyBytes
			mapBytes = max(mapBytes, st.MapBytes)
			if !st.MapFull {
				break
			}
		}
		elapsed += time.Since(start)
		b.StopTimer()
		l.Delete()
		b.StartTimer()
	}
	b.ReportMetric(float64(dirty)/1e6/elapsed.Seconds(), "dirty-MB/s")
	b.ReportMetric(float64(mapBytes), "map-bytes")
}

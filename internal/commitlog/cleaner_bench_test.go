package commitlog

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/batch"
)

// BenchmarkClean measures one compaction pass over a 64 MiB dirty log (16
// KiB batches of 1 KiB random values over 10,000 keys, 64 MiB segments of
// which all but the active one are dirty). MB/s is dirty log cleaned per
// second; map-bytes is the offset map's memory, bounded by the dedupe
// buffer (the "small-map" variant gives it 256 KiB, 7,372 keys: several passes).
func BenchmarkClean(b *testing.B) {
	for _, bc := range []struct {
		name   string
		dedupe int64
		codec  batch.Codec
	}{
		{"none", DefaultDedupeBufferSize, batch.CodecNone},
		{"small-map", 256 << 10, batch.CodecNone},
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

// BenchmarkAppendWhileCleaning measures append throughput on one log while
// another log is cleaned in a loop (each pass a full 64 MiB dirty pass: the
// checkpoint is reset), against the same appends with the cleaner idle. The
// issue's bound: the cleaner costs other partitions at most 20%.
func BenchmarkAppendWhileCleaning(b *testing.B) {
	for _, bc := range []struct {
		name string
		rate float64 // cleaner I/O throttle, bytes/s; -1: no cleaner
	}{{"idle", -1}, {"cleaning-unthrottled", 0}, {"cleaning-300MBps", 300e6}} {
		cleaning := bc.rate >= 0
		b.Run(bc.name, func(b *testing.B) {
			var dirty atomic.Int64
			start := time.Now()
			var stop chan struct{}
			var done chan struct{}
			if cleaning {
				victim := openT(b, b.TempDir(), Config{SegmentBytes: 16 << 20, RetentionMs: -1})
				defer victim.Close()
				rng := rand.New(rand.NewPCG(1, 2))
				val := make([]byte, 1024)
				for size := 0; size < 64<<20; {
					recs := make([]batch.Record, 16)
					for i := range recs {
						for j := range val {
							val[j] = byte(rng.Uint32())
						}
						recs[i] = batch.Record{Key: []byte(fmt.Sprintf("key-%05d", rng.IntN(10000))), Value: append([]byte(nil), val...)}
					}
					bt := batch.AppendBatch(nil, 0, 1000, recs)
					if _, err := victim.Append(bt, AppendOptions{AssignOffsets: true}); err != nil {
						b.Fatal(err)
					}
					size += len(bt)
				}
				victim.Roll()
				start = time.Now()
				stop, done = make(chan struct{}), make(chan struct{})
				go func() {
					defer close(done)
					c := NewCleaner(DefaultDedupeBufferSize, NewThrottler(bc.rate))
					cc := CleanConfig{MinCleanableDirtyRatio: 0.01, DeleteRetentionMs: 1 << 40}
					for {
						select {
						case <-stop:
							return
						default:
						}
						os.Remove(filepath.Join(victim.Dir(), cleanerCheckpointFile))
						st, err := c.Clean(victim, cc)
						if err != nil {
							b.Error(err)
							return
						}
						dirty.Add(st.DirtyBytes)
					}
				}()
			}
			cfg := Config{SegmentBytes: 64 << 20, RetentionBytes: 128 << 20, RetentionMs: -1}
			l := openT(b, b.TempDir(), cfg)
			defer l.Close()
			buf := bench16K()
			opts := AppendOptions{AssignOffsets: true, LeaderEpoch: 1, Now: time.Now()}
			b.SetBytes(int64(len(buf)))
			i := 0
			for b.Loop() {
				if _, err := l.Append(buf, opts); err != nil {
					b.Fatal(err)
				}
				if i++; i%4096 == 0 {
					l.ApplyRetention(time.Now())
				}
			}
			if cleaning {
				close(stop)
				<-done
				b.ReportMetric(float64(dirty.Load())/1e6/time.Since(start).Seconds(), "cleaner-dirty-MB/s")
			}
		})
	}
}

package commitlog

import (
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/batch"
)

// Readers, an appender and retention run together (meaningful under -race):
// every read returns whole, valid batches holding the requested offset.
func TestConcurrentAppendReadRetention(t *testing.T) {
	cfg := smallConfig()
	cfg.RetentionBytes = 8 * 4096
	l := openT(t, t.TempDir(), cfg)
	defer l.Close()
	var done atomic.Bool
	var wg sync.WaitGroup
	errc := make(chan error, 4)
	for r := 0; r < 2; r++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var buf []byte
			for !done.Load() {
				off := l.StartOffset() + (l.EndOffset()-l.StartOffset())/2
				reg, err := l.Read(off, 8192, -1, true)
				if errors.Is(err, ErrOffsetOutOfRange) {
					continue // retention moved the start
				}
				if err != nil {
					errc <- err
					return
				}
				buf = reg.ReadTo(buf[:0])
				reg.Release()
				if len(buf) == 0 {
					continue
				}
				if _, err := batch.Validate(buf, 0); err != nil {
					errc <- err
					return
				}
				h, _ := batch.ParseHeader(buf)
				if h.BaseOffset > off || h.LastOffset() < off {
					errc <- errors.New("read did not start at the batch holding the offset")
					return
				}
			}
		}()
	}
	for i := 0; i < 2000; i++ {
		appendT(t, l, mkBatch(3, 100, int64(i)))
		if i%50 == 0 {
			if _, err := l.ApplyRetention(time.Now()); err != nil {
				t.Fatal(err)
			}
		}
		if i%300 == 0 {
			if err := l.Flush(); err != nil {
				t.Fatal(err)
			}
		}
	}
	done.Store(true)
	wg.Wait()
	close(errc)
	for err := range errc {
		t.Fatal(err)
	}
	if l.StartOffset() == 0 || l.EndOffset() != 6000 {
		t.Fatal(l.StartOffset(), l.EndOffset())
	}
}

func TestRollBySegmentMs(t *testing.T) {
	cfg := Config{SegmentMs: 1000}
	l := openT(t, t.TempDir(), cfg)
	defer l.Close()
	appendT(t, l, mkBatch(1, 1, 10_000))
	appendT(t, l, mkBatch(1, 1, 10_900)) // within segment.ms of the first batch
	if l.NumSegments() != 1 {
		t.Fatal("rolled too early")
	}
	appendT(t, l, mkBatch(1, 1, 11_001))
	if l.NumSegments() != 2 || l.active().base != 2 {
		t.Fatalf("segments %d", l.NumSegments())
	}
}

func TestReadAfterClose(t *testing.T) {
	l := openT(t, t.TempDir(), smallConfig())
	appendT(t, l, mkBatch(1, 1, 1))
	r, err := l.Read(0, 100, -1, true)
	must(t, err)
	must(t, l.Close())
	if len(r.ReadTo(nil)) == 0 {
		t.Fatal("region unreadable after Close")
	}
	r.Release()
	if _, err := l.Read(0, 100, -1, true); !errors.Is(err, ErrClosed) {
		t.Fatal(err)
	}
}

package replica

import (
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/sluicehq/sluice/internal/batch"
	"github.com/sluicehq/sluice/internal/commitlog"
)

func testPartition(t *testing.T, topic string, updates int) *Partition {
	t.Helper()
	l, err := commitlog.Open(t.TempDir(), commitlog.Config{SegmentBytes: 1 << 20, RetentionMs: -1}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	for i := 0; i < updates; i++ {
		b := batch.AppendBatch(nil, 0, 1000, []batch.Record{{Key: []byte(fmt.Sprintf("k%d", i%10)), Value: []byte("v")}})
		if _, err := l.Append(b, commitlog.AppendOptions{AssignOffsets: true}); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Roll(); err != nil {
		t.Fatal(err)
	}
	return NewPartition(topic, uuid.New(), 0, l, 0)
}

// TestLogCleanerPicksDirtiest: only compacted topics are cleaned, the due
// one with the highest dirty ratio first; progress is reported per
// partition; the threads stop with the manager.
func TestLogCleanerPicksDirtiest(t *testing.T) {
	a := testPartition(t, "a", 100)
	b := testPartition(t, "b", 200)
	del := testPartition(t, "del", 100)
	parts := map[TopicPartition]*Partition{{"a", 0}: a, {"b", 0}: b, {"del", 0}: del}
	stop := make(chan struct{})
	cfg := CleanerConfig{Enable: true, Threads: 1, Backoff: time.Hour,
		TopicConfig: func(topic string) (commitlog.CleanConfig, bool) {
			return commitlog.CleanConfig{MinCleanableDirtyRatio: 0.5, DeleteRetentionMs: 1 << 40}, topic != "del"
		}}
	lc := newLogCleaner(cfg, func() map[TopicPartition]*Partition { return parts }, stop,
		slog.New(slog.NewTextHandler(io.Discard, nil)))
	cl := commitlog.NewCleaner(1<<20, nil)

	// Both compacted logs are fully dirty (ratio 1): either goes first;
	// then the other; then nothing is due (the delete-only topic never).
	passes := 0
	for passes < 3 && lc.cleanOne(cl) {
		passes++
	}
	if passes != 2 || len(lc.Status()) != 2 {
		t.Fatalf("%d passes, status %+v", passes, lc.Status())
	}
	for _, p := range []*Partition{a, b} {
		s := lc.StatusOf(p)
		if s.Passes != 1 || s.Checkpoint != p.Log.EndOffset() || s.Last.RecordsRetained != 10 || s.LastError != "" {
			t.Fatalf("%s status %+v", p.Topic, s)
		}
	}
	if s := lc.StatusOf(del); s.Passes != 0 || s.Checkpoint != -1 {
		t.Fatalf("delete-only topic cleaned: %+v", s)
	}

	// New dirty data on b only: b is picked.
	for i := 0; i < 50; i++ {
		rec := batch.AppendBatch(nil, 0, 1000, []batch.Record{{Key: []byte("k1"), Value: []byte("w")}})
		if _, err := b.Log.Append(rec, commitlog.AppendOptions{AssignOffsets: true}); err != nil {
			t.Fatal(err)
		}
	}
	b.Log.Roll()
	if p, _ := lc.grabFilthiest(time.Now()); p != b {
		t.Fatalf("picked %v, want b", p)
	}

	// A running thread stops when the manager stops.
	done := make(chan struct{})
	go func() { lc.run(); close(done) }()
	close(stop)
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("cleaner thread did not stop")
	}
}

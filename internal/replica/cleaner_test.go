package replica

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
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
	// Not committed yet (the high watermark did not move): not cleanable.
	if p, _ := lc.grabFilthiest(time.Now()); p != nil {
		t.Fatalf("picked %v above the high watermark", p.Topic)
	}
	rec := batch.AppendBatch(nil, 0, 1000, []batch.Record{{Key: []byte("k2"), Value: []byte("w")}})
	if _, err := b.AppendAsLeader(rec, time.Now()); err != nil {
		t.Fatal(err)
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

// TestLogCleanerUncleanable: a log the cleaner fails on (a corrupt batch)
// is marked uncleanable and skipped; others are still cleaned.
func TestLogCleanerUncleanable(t *testing.T) {
	bad := testPartition(t, "bad", 100)
	good := testPartition(t, "good", 100)
	// Corrupt a record length inside the first batch (CRC left stale is
	// not checked by the cleaner's framing walk; a bad length is).
	f, err := os.OpenFile(filepath.Join(bad.Log.Dir(), fmt.Sprintf("%020d.log", 0)), os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteAt([]byte{0x7f}, batch.HeaderSize)
	f.Close()
	parts := map[TopicPartition]*Partition{{"bad", 0}: bad, {"good", 0}: good}
	cfg := CleanerConfig{Enable: true, Threads: 1, Backoff: time.Hour,
		TopicConfig: func(string) (commitlog.CleanConfig, bool) {
			return commitlog.CleanConfig{MinCleanableDirtyRatio: 0.5}, true
		}}
	lc := newLogCleaner(cfg, func() map[TopicPartition]*Partition { return parts }, make(chan struct{}),
		slog.New(slog.NewTextHandler(io.Discard, nil)))
	cl := commitlog.NewCleaner(1<<20, nil)
	passes := 0
	for passes < 4 && lc.cleanOne(cl) {
		passes++
	}
	if s := lc.StatusOf(bad); !s.Uncleanable || s.LastError == "" || s.Passes != 1 {
		t.Fatalf("bad: %+v", s)
	}
	if s := lc.StatusOf(good); s.Passes != 1 || s.LastError != "" {
		t.Fatalf("good: %+v", s)
	}
	if passes != 2 {
		t.Fatalf("%d passes, want 2", passes)
	}
}

package integration

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluicehq/sluice/internal/batch"
	"github.com/sluicehq/sluice/internal/clustertest"
)

// compactedWorkload is what was produced to a compacted topic: the value
// hash of every offset, and the latest record of every key.
type compactedWorkload struct {
	produced map[int64]uint64 // offset -> hash of key+value (0 for a tombstone)
	latest   map[string]int64 // key -> offset of its latest record
	deleted  map[string]bool  // keys whose latest record is a tombstone
	sentinel int64            // the last record, alone in the active segment
}

func hashKV(k, v []byte) uint64 {
	if v == nil {
		return 0
	}
	h := fnv.New64a()
	h.Write(k)
	h.Write([]byte{0})
	h.Write(v)
	return h.Sum64() | 1
}

// compactedTopic creates a compacted topic with 1 MiB segments that roll
// after segmentMs.
func compactedTopic(t *testing.T, ctx context.Context, addr, topic string, segmentMs int) {
	str := func(s string) *string { return &s }
	createTopic(t, ctx, addr, topic, 1, map[string]*string{
		"cleanup.policy":            str("compact"),
		"segment.bytes":             str("1048576"),
		"segment.ms":                str(fmt.Sprint(segmentMs)),
		"delete.retention.ms":       str("1000"),
		"min.cleanable.dirty.ratio": str("0.01"),
	})
}

// produceCompacted writes 100,000 updates of random 100-byte values over
// 1,000 keys, then tombstones for keys 0-199, then new values for keys 0-49
// (deleted keys that come back), waits for segment.ms and writes a sentinel
// that rolls the segment, so everything else is cleanable.
func produceCompacted(t *testing.T, ctx context.Context, addr, topic string, segmentMs int) *compactedWorkload {
	t.Helper()
	p := client(t, addr, kgo.DefaultProduceTopic(topic), kgo.ProducerLinger(5*time.Millisecond))
	w := &compactedWorkload{produced: map[int64]uint64{}, latest: map[string]int64{}, deleted: map[string]bool{}}
	rng := rand.New(rand.NewPCG(4, 2))
	send := func(recs []*kgo.Record) {
		res := p.ProduceSync(ctx, recs...)
		if err := res.FirstErr(); err != nil {
			t.Fatalf("produce: %v", err)
		}
		for _, r := range res {
			rec := r.Record
			k := string(rec.Key)
			w.produced[rec.Offset] = hashKV(rec.Key, rec.Value)
			if old, ok := w.latest[k]; !ok || rec.Offset > old {
				w.latest[k] = rec.Offset
				w.deleted[k] = rec.Value == nil
			}
		}
	}
	// Another idempotent producer writes a batch whose records are all
	// superseded later: the cleaner keeps it as an empty batch (its
	// producer's last), which consumers must step over.
	other := client(t, addr, kgo.DefaultProduceTopic(topic))
	var early []*kgo.Record
	for k := 990; k < 1000; k++ {
		early = append(early, &kgo.Record{Key: []byte(fmt.Sprintf("key-%03d", k)), Value: []byte("early")})
	}
	p, other = other, p
	send(early)
	p, other = other, p
	other.Close()

	var recs []*kgo.Record
	for i := 0; i < 100_000; i++ {
		v := make([]byte, 100)
		for j := range v {
			v[j] = byte(rng.Uint32())
		}
		recs = append(recs, &kgo.Record{Key: []byte(fmt.Sprintf("key-%03d", (i*7919)%1000)), Value: v})
		if len(recs) == 2000 {
			send(recs)
			recs = nil
		}
	}
	for k := 0; k < 200; k++ {
		recs = append(recs, &kgo.Record{Key: []byte(fmt.Sprintf("key-%03d", k))}) // tombstone
	}
	send(recs)
	recs = nil
	for k := 0; k < 50; k++ {
		recs = append(recs, &kgo.Record{Key: []byte(fmt.Sprintf("key-%03d", k)), Value: []byte("back")})
	}
	send(recs)
	time.Sleep(time.Duration(segmentMs)*time.Millisecond + 200*time.Millisecond)
	send([]*kgo.Record{{Key: []byte("sentinel"), Value: []byte("last")}})
	w.sentinel = w.latest["sentinel"]
	return w
}

// readCompacted reads the topic from the beginning to the sentinel and
// returns the records seen, failing on any record that is not what was
// produced at its offset.
func readCompacted(t *testing.T, ctx context.Context, addr, topic string, w *compactedWorkload) []*kgo.Record {
	t.Helper()
	c := client(t, addr, kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	defer c.Close()
	var out []*kgo.Record
	for {
		fs := c.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("reading %s: %v (got %d records)", topic, ctx.Err(), len(out))
		}
		var fetchErr error
		fs.EachError(func(_ string, _ int32, err error) { fetchErr = err })
		if fetchErr != nil {
			if errors.Is(fetchErr, context.DeadlineExceeded) {
				t.Fatal(fetchErr)
			}
			continue // e.g. a restart in progress
		}
		done := false
		fs.EachRecord(func(r *kgo.Record) {
			want, ok := w.produced[r.Offset]
			if !ok || want != hashKV(r.Key, r.Value) {
				t.Fatalf("offset %d holds key %q, not what was produced there", r.Offset, r.Key)
			}
			out = append(out, r)
			done = done || r.Offset >= w.sentinel
		})
		if done {
			return out
		}
	}
}

// checkCompacted reports how the records read differ from a fully
// compacted log: exactly the latest record of each live key at its original
// offset, nothing of deleted keys, the sentinel last. "" when they match.
func checkCompacted(recs []*kgo.Record, w *compactedWorkload) string {
	seen := map[string]int{}
	var problems []string
	for _, r := range recs {
		k := string(r.Key)
		seen[k]++
		switch {
		case w.deleted[k]:
			problems = append(problems, fmt.Sprintf("deleted key %s at %d", k, r.Offset))
		case r.Offset != w.latest[k]:
			problems = append(problems, fmt.Sprintf("key %s at %d, latest is at %d", k, r.Offset, w.latest[k]))
		}
	}
	for k := range w.latest {
		if !w.deleted[k] && seen[k] != 1 {
			problems = append(problems, fmt.Sprintf("live key %s seen %d times", k, seen[k]))
		}
	}
	if len(problems) == 0 {
		return ""
	}
	if len(problems) > 5 {
		problems = append(problems[:5], fmt.Sprintf("... %d problems", len(problems)))
	}
	return strings.Join(problems, "; ")
}

// checkConsistent checks that reading the log in order ends in the right
// state (the latest value of every key; deleted keys absent or tombstoned),
// compacted or not.
func checkConsistent(recs []*kgo.Record, w *compactedWorkload) string {
	last := map[string]*kgo.Record{}
	for _, r := range recs {
		last[string(r.Key)] = r
	}
	for k, off := range w.latest {
		r := last[k]
		switch {
		case w.deleted[k] && r != nil && r.Value != nil:
			return fmt.Sprintf("deleted key %s ends with a value at %d", k, r.Offset)
		case !w.deleted[k] && (r == nil || r.Offset != off):
			return fmt.Sprintf("key %s does not end at its latest offset %d", k, off)
		}
	}
	return ""
}

// waitCompacted reads the topic until it is fully compacted.
func waitCompacted(t *testing.T, ctx context.Context, srv *clustertest.Process, topic string, w *compactedWorkload) {
	t.Helper()
	var last string
	for ctx.Err() == nil {
		recs := readCompacted(t, ctx, srv.Addr(), topic, w)
		if msg := checkConsistent(recs, w); msg != "" {
			t.Fatal(msg)
		}
		if last = checkCompacted(recs, w); last == "" {
			t.Logf("compacted: %d records for %d keys (%d deleted) out of %d produced",
				len(recs), len(w.latest), countTrue(w.deleted), len(w.produced))
			return
		}
		time.Sleep(500 * time.Millisecond)
	}
	t.Fatalf("not compacted in time: %s\n%s", last, tail(srv.Logs(), 3000))
}

func countTrue(m map[string]bool) int {
	n := 0
	for _, v := range m {
		if v {
			n++
		}
	}
	return n
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

// TestCompaction: 100,000 updates over 1,000 keys plus tombstones on a
// compacted topic; after cleaning a consumer from the beginning sees exactly
// the latest value of every live key, at its original offset, and nothing
// of deleted keys once delete.retention.ms has passed. A keyless record is
// refused with INVALID_RECORD.
func TestCompaction(t *testing.T) {
	srv := start(t, "--override", "log.cleaner.backoff.ms=100")
	ctx := ctxFor(t, 4*time.Minute)
	const topic, segmentMs = "compacted", 3000
	compactedTopic(t, ctx, srv.Addr(), topic, segmentMs)

	p := client(t, srv.Addr(), kgo.DefaultProduceTopic(topic))
	err := p.ProduceSync(ctx, &kgo.Record{Value: []byte("no key")}).FirstErr()
	if !errors.Is(err, kerr.InvalidRecord) {
		t.Fatalf("keyless record on a compacted topic: %v, want INVALID_RECORD", err)
	}

	w := produceCompacted(t, ctx, srv.Addr(), topic, segmentMs)
	waitCompacted(t, ctx, srv, topic, w)
	if n := emptyBatches(t, filepath.Join(srv.DataDir, topic+"-0")); n != 1 {
		t.Fatalf("%d empty batches kept, want 1 (the early producer's last batch)", n)
	}
	checkCleanerProgressShown(t, srv.Addr(), topic)

	// The compacted log survives a clean restart.
	srv.Stop()
	srv.Start()
	recs := readCompacted(t, ctx, srv.Addr(), topic, w)
	if msg := checkCompacted(recs, w); msg != "" {
		t.Fatalf("after restart: %s", msg)
	}
}

// TestCompactionKill9: the broker is killed (SIGKILL) while the cleaner is
// writing cleaned segments, several times; after each restart the log reads
// consistently (every record is the one produced at its offset, each key
// ends at its latest value), and once the cleaner finishes the log is
// exactly compacted.
func TestCompactionKill9(t *testing.T) {
	// The log is written with the cleaner off, then the broker restarts with
	// it on and throttled, so one pass over the whole log takes seconds and
	// starts over after each kill.
	srv := start(t, "--override", "log.cleaner.enable=false")
	ctx := ctxFor(t, 5*time.Minute)
	const topic, segmentMs = "compacted-kill", 3000
	compactedTopic(t, ctx, srv.Addr(), topic, segmentMs)
	w := produceCompacted(t, ctx, srv.Addr(), topic, segmentMs)
	srv.Stop()
	srv.Args = []string{"--override", "log.cleaner.backoff.ms=100",
		"--override", "log.cleaner.io.max.bytes.per.second=4000000"}
	srv.Start()

	partDir := filepath.Join(srv.DataDir, topic+"-0")
	kills := 0
	for round := 0; round < 3; round++ {
		// Kill once the cleaner is writing (.cleaned present), at a
		// random moment of the write.
		deadline := time.Now().Add(60 * time.Second)
		for !cleaningInProgress(partDir) {
			if time.Now().After(deadline) {
				t.Fatalf("round %d: no cleaning seen\n%s", round, tail(srv.Logs(), 3000))
			}
			time.Sleep(5 * time.Millisecond)
		}
		time.Sleep(time.Duration(rand.IntN(500)) * time.Millisecond)
		srv.Kill()
		kills++
		srv.Start()
		t.Logf("kill %d: restart removed %d leftover files, finished or rolled back %d swaps", kills,
			strings.Count(srv.Logs(), "removing leftover file"), strings.Count(srv.Logs(), "cleaner swap"))
		recs := readCompacted(t, ctx, srv.Addr(), topic, w)
		if msg := checkConsistent(recs, w); msg != "" {
			t.Fatalf("after kill %d: %s", kills, msg)
		}
	}
	waitCompacted(t, ctx, srv, topic, w)
}

// cleaningInProgress reports whether the partition directory holds files of
// a cleaning pass not yet swapped in.
func cleaningInProgress(dir string) bool {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return false
	}
	for _, e := range ents {
		n := e.Name()
		if strings.HasSuffix(n, ".cleaned") || strings.HasSuffix(n, ".swap") || n == "cleaner-swap" {
			return true
		}
	}
	return false
}

// emptyBatches counts the batches without records in a partition's
// segments (kept by the cleaner for idempotent producers' state).
func emptyBatches(t *testing.T, dir string) int {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(dir, "*.log"))
	n := 0
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for len(b) > 0 {
			h, err := batch.ValidateStored(b)
			if err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			if h.NumRecords == 0 {
				n++
			}
			b = b[h.Size():]
		}
	}
	return n
}

// checkCleanerProgressShown: kafka-log-dirs --describe shows the cleaner's
// progress for the compacted partition.
func checkCleanerProgressShown(t *testing.T, addr, topic string) {
	t.Helper()
	out, err := exec.Command(clustertest.Binary(t), "kafka-log-dirs", "--bootstrap-server", addr,
		"--describe", "--topic-list", topic).CombinedOutput()
	if err != nil {
		t.Fatalf("kafka-log-dirs: %v\n%s", err, out)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	var doc struct {
		Brokers []struct {
			LogDirs []struct {
				Partitions []struct {
					Partition string `json:"partition"`
					Cleaner   *struct {
						Checkpoint int64 `json:"checkpoint"`
						Passes     int   `json:"passes"`
						BytesRead  int64 `json:"bytesRead"`
					} `json:"cleaner"`
				} `json:"partitions"`
			} `json:"logDirs"`
		} `json:"brokers"`
	}
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &doc); err != nil {
		t.Fatalf("kafka-log-dirs JSON: %v\n%s", err, out)
	}
	for _, b := range doc.Brokers {
		for _, d := range b.LogDirs {
			for _, p := range d.Partitions {
				if p.Partition == topic+"-0" {
					if p.Cleaner == nil || p.Cleaner.Passes < 1 || p.Cleaner.Checkpoint <= 0 || p.Cleaner.BytesRead <= 0 {
						t.Fatalf("cleaner progress not shown: %s", out)
					}
					return
				}
			}
		}
	}
	t.Fatalf("partition %s-0 not in kafka-log-dirs output:\n%s", topic, out)
}

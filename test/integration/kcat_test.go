package integration

import (
	"bytes"
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// TestKcat produces with kcat (librdkafka) and consumes with kcat and with
// franz-go: the second client family sees the same log.
func TestKcat(t *testing.T) {
	kcat := needKcat(t)
	srv := start(t)
	ctx := ctxFor(t, 2*time.Minute)

	meta, err := exec.CommandContext(ctx, kcat, "-b", srv.Addr(), "-L").CombinedOutput()
	if err != nil {
		t.Fatalf("kcat -L: %v\n%s", err, meta)
	}
	if !strings.Contains(string(meta), "1 brokers:") {
		t.Fatalf("kcat -L output lacks the broker list:\n%s", meta)
	}

	var in bytes.Buffer
	const n = 200
	for i := 0; i < n; i++ {
		fmt.Fprintf(&in, "k%d:value %d\n", i%5, i)
	}
	// The topic does not exist: produce auto-creates it through Metadata.
	prod := exec.CommandContext(ctx, kcat, "-b", srv.Addr(), "-P", "-t", "kcat-topic", "-K:", "-z", "lz4", "-X", "acks=all")
	prod.Stdin = &in
	if out, err := prod.CombinedOutput(); err != nil {
		t.Fatalf("kcat -P: %v\n%s", err, out)
	}

	out, err := exec.CommandContext(ctx, kcat, "-b", srv.Addr(), "-C", "-t", "kcat-topic", "-o", "beginning", "-e",
		"-f", "%k=%s@%o\n").CombinedOutput()
	if err != nil {
		t.Fatalf("kcat -C: %v\n%s", err, out)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	var records []string
	for _, l := range lines {
		if strings.Contains(l, "=value ") {
			records = append(records, l)
		}
	}
	if len(records) != n {
		t.Fatalf("kcat consumed %d records, want %d:\n%s", len(records), n, out)
	}
	for i, l := range records {
		want := fmt.Sprintf("k%d=value %d@%d", i%5, i, i)
		if l != want {
			t.Fatalf("record %d: %q, want %q", i, l, want)
		}
	}

	// franz-go reads what librdkafka wrote.
	c := client(t, srv.Addr(), kgo.ConsumeTopics("kcat-topic"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	got := 0
	for got < n {
		fs := c.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("franz-go read %d of %d", got, n)
		}
		fs.EachRecord(func(r *kgo.Record) {
			if want := fmt.Sprintf("value %d", got); string(r.Value) != want {
				t.Fatalf("record %d: %q, want %q", got, r.Value, want)
			}
			got++
		})
	}
}

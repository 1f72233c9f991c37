package integration

import (
	"crypto/rand"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

func segments(t *testing.T, dataDir, topic string) int {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(dataDir, topic+"-0", "*.log"))
	if err != nil {
		t.Fatal(err)
	}
	return len(m)
}

func earliest(t *testing.T, c *kgo.Client, topic string) int64 {
	t.Helper()
	offs, err := kadm.NewClient(c).ListStartOffsets(ctxFor(t, 10*time.Second), topic)
	if err != nil {
		t.Fatal(err)
	}
	o, _ := offs.Lookup(topic, 0)
	return o.Offset
}

// TestRetentionAndSegmentRoll: small segments roll; retention by size and by
// time removes whole old segments, moving the log start offset, and what
// remains reads back contiguously.
func TestRetentionAndSegmentRoll(t *testing.T) {
	srv := start(t, "--override", "log.retention.check.interval.ms=300")
	ctx := ctxFor(t, 2*time.Minute)
	s := func(v string) *string { return &v }
	createTopic(t, ctx, srv.Addr(), "by-size", 1, map[string]*string{"segment.bytes": s("1048576")})
	createTopic(t, ctx, srv.Addr(), "by-time", 1, map[string]*string{"segment.bytes": s("1048576"), "retention.ms": s("60000")})
	const total = 600
	value := make([]byte, 10000) // incompressible, so sizes are what they seem
	rand.Read(value)
	p := client(t, srv.Addr(), kgo.ProducerLinger(0))
	old := time.Now().Add(-time.Hour)
	for i := 0; i < total; i++ {
		for _, topic := range []string{"by-size", "by-time"} {
			r := &kgo.Record{Topic: topic, Value: append([]byte(fmt.Sprintf("%04d", i)), value...)}
			if topic == "by-time" && i < total*3/4 {
				r.Timestamp = old // the first three quarters are an hour old
			}
			if err := p.ProduceSync(ctx, r).FirstErr(); err != nil {
				t.Fatal(err)
			}
		}
	}
	if n := segments(t, srv.DataDir, "by-size"); n < 5 {
		t.Fatalf("by-size has %d segments after 6 MB with segment.bytes=1048576", n)
	}
	// Size retention is switched on at run time: a dynamic topic config
	// takes effect without a restart.
	alter, err := kadm.NewClient(p).AlterTopicConfigs(ctx, []kadm.AlterConfig{{Name: "retention.bytes", Value: s("2500000")}}, "by-size")
	if err == nil {
		err = alter[0].Err
	}
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for earliest(t, p, "by-size") == 0 || earliest(t, p, "by-time") == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("retention did not move the log start offsets: by-size %d by-time %d", earliest(t, p, "by-size"), earliest(t, p, "by-time"))
		}
		time.Sleep(200 * time.Millisecond)
	}
	if n := segments(t, srv.DataDir, "by-size"); n > 4 {
		t.Fatalf("by-size keeps %d segments of 1 MiB under retention.bytes=2500000", n)
	}
	if e := earliest(t, p, "by-time"); e > total*3/4 {
		t.Fatalf("by-time start offset %d: retention removed records younger than retention.ms", e)
	}
	for _, topic := range []string{"by-size", "by-time"} {
		start := earliest(t, p, topic)
		c := client(t, srv.Addr(), kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
		next := start
		for next < total {
			fs := c.PollFetches(ctx)
			if ctx.Err() != nil {
				t.Fatalf("%s: read up to %d", topic, next)
			}
			fs.EachError(func(_ string, _ int32, err error) { t.Fatal(err) })
			fs.EachRecord(func(r *kgo.Record) {
				if r.Offset != next || string(r.Value[:4]) != fmt.Sprintf("%04d", next) {
					t.Fatalf("%s: got offset %d value %q, want offset %d", topic, r.Offset, r.Value[:4], next)
				}
				next++
			})
		}
	}
}

package integration

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

// TestDynamicTopicConfig: a topic config altered at run time takes effect at
// once and survives a restart; invalid values are refused with
// INVALID_CONFIG naming the key; LogAppendTime topics stamp batches.
func TestDynamicTopicConfig(t *testing.T) {
	srv := start(t)
	ctx := ctxFor(t, 2*time.Minute)
	createTopic(t, ctx, srv.Addr(), "cfg", 1, nil)
	s := func(v string) *string { return &v }
	big := &kgo.Record{Topic: "cfg", Value: make([]byte, 5000)}
	p := client(t, srv.Addr(), kgo.ProducerBatchCompression(kgo.NoCompression()), kgo.RecordRetries(0))
	if err := p.ProduceSync(ctx, big).FirstErr(); err != nil {
		t.Fatalf("5000-byte record before the change: %v", err)
	}
	adm := kadm.NewClient(client(t, srv.Addr()))
	alter := func(key, value string) error {
		resp, err := adm.AlterTopicConfigs(ctx, []kadm.AlterConfig{{Name: key, Value: s(value)}}, "cfg")
		if err != nil {
			return err
		}
		if resp[0].Err != nil {
			return errors.New(resp[0].Err.Error() + ": " + resp[0].ErrMessage)
		}
		return nil
	}
	if err := alter("max.message.bytes", "2000"); err != nil {
		t.Fatal(err)
	}
	if err := p.ProduceSync(ctx, big).FirstErr(); !errors.Is(err, kerr.MessageTooLarge) {
		t.Fatalf("5000-byte record after max.message.bytes=2000: %v, want MESSAGE_TOO_LARGE", err)
	}
	err := alter("max.message.bytes", "lots")
	if err == nil || !strings.Contains(err.Error(), "INVALID_CONFIG") || !strings.Contains(err.Error(), "max.message.bytes") {
		t.Fatalf("invalid value: %v, want INVALID_CONFIG naming max.message.bytes", err)
	}
	if err := alter("retention.ms", "-5"); err == nil || !strings.Contains(err.Error(), "retention.ms") {
		t.Fatalf("retention.ms=-5: %v, want INVALID_CONFIG naming retention.ms", err)
	}
	if err := alter("message.timestamp.type", "LogAppendTime"); err != nil {
		t.Fatal(err)
	}

	srv.Stop()
	srv.Start()
	p2 := client(t, srv.Addr(), kgo.ProducerBatchCompression(kgo.NoCompression()), kgo.RecordRetries(0))
	if err := p2.ProduceSync(ctx, &kgo.Record{Topic: "cfg", Value: make([]byte, 5000)}).FirstErr(); !errors.Is(err, kerr.MessageTooLarge) {
		t.Fatalf("after restart: %v, want MESSAGE_TOO_LARGE (the config must survive)", err)
	}
	old := time.Now().Add(-48 * time.Hour)
	if err := p2.ProduceSync(ctx, &kgo.Record{Topic: "cfg", Value: []byte("small"), Timestamp: old}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	adm2 := kadm.NewClient(client(t, srv.Addr()))
	rcs, err := adm2.DescribeTopicConfigs(ctx, "cfg")
	if err != nil {
		t.Fatal(err)
	}
	rc, err := rcs.On("cfg", nil)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, c := range rc.Configs {
		if c.Key == "max.message.bytes" {
			found = true
			if c.Value == nil || *c.Value != "2000" || c.Source.String() != "DYNAMIC_TOPIC_CONFIG" {
				t.Fatalf("max.message.bytes described as %v from %v", c.MaybeValue(), c.Source)
			}
		}
	}
	if !found {
		t.Fatal("max.message.bytes not described")
	}
	c := client(t, srv.Addr(), kgo.ConsumeTopics("cfg"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	for got := 0; got < 2; {
		fs := c.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatal("records not read back")
		}
		fs.EachRecord(func(r *kgo.Record) {
			got++
			if string(r.Value) == "small" && r.Timestamp.Before(time.Now().Add(-time.Hour)) {
				t.Fatalf("LogAppendTime topic kept the producer's timestamp %v", r.Timestamp)
			}
		})
	}
}

// TestTopicCompressionAndTimestampChecks: compression.type other than
// "producer" recompresses on the broker; message.timestamp.before.max.ms
// refuses old CreateTime records with INVALID_TIMESTAMP.
func TestTopicCompressionAndTimestampChecks(t *testing.T) {
	srv := start(t)
	ctx := ctxFor(t, time.Minute)
	s := func(v string) *string { return &v }
	createTopic(t, ctx, srv.Addr(), "zstd-topic", 1, map[string]*string{"compression.type": s("zstd")})
	createTopic(t, ctx, srv.Addr(), "recent-only", 1, map[string]*string{"message.timestamp.before.max.ms": s("3600000")})
	p := client(t, srv.Addr(), kgo.ProducerBatchCompression(kgo.NoCompression()), kgo.RecordRetries(0))

	var want []string
	for i := 0; i < 20; i++ {
		v := strings.Repeat(fmt.Sprintf("value-%d ", i), 20)
		want = append(want, v)
		if err := p.ProduceSync(ctx, &kgo.Record{Topic: "zstd-topic", Key: []byte(fmt.Sprint(i)), Value: []byte(v),
			Headers: []kgo.RecordHeader{{Key: "h", Value: []byte("x")}}}).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	seg, err := os.ReadFile(filepath.Join(srv.DataDir, "zstd-topic-0", "00000000000000000000.log"))
	if err != nil {
		t.Fatal(err)
	}
	if len(seg) < 61 || seg[22]&7 != 4 {
		t.Fatalf("first stored batch has codec %d, want zstd (4)", seg[22]&7)
	}
	c := client(t, srv.Addr(), kgo.ConsumeTopics("zstd-topic"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	var got []string
	for len(got) < len(want) {
		fs := c.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("read %d of %d", len(got), len(want))
		}
		fs.EachRecord(func(r *kgo.Record) {
			if len(r.Headers) != 1 || string(r.Headers[0].Value) != "x" || string(r.Key) != fmt.Sprint(len(got)) {
				t.Fatalf("record %d lost its key or headers: %q %v", len(got), r.Key, r.Headers)
			}
			got = append(got, string(r.Value))
		})
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("record %d: %q, want %q", i, got[i], want[i])
		}
	}

	old := &kgo.Record{Topic: "recent-only", Value: []byte("old"), Timestamp: time.Now().Add(-48 * time.Hour)}
	if err := p.ProduceSync(ctx, old).FirstErr(); !errors.Is(err, kerr.InvalidTimestamp) {
		t.Fatalf("two-day-old record: %v, want INVALID_TIMESTAMP", err)
	}
	if err := p.ProduceSync(ctx, &kgo.Record{Topic: "recent-only", Value: []byte("new")}).FirstErr(); err != nil {
		t.Fatalf("current record: %v", err)
	}
}

package integration

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// TestRoundTripCodecs produces with keys, headers and timestamps under every
// compression codec and reads every record back unchanged.
func TestRoundTripCodecs(t *testing.T) {
	srv := start(t)
	ctx := ctxFor(t, 2*time.Minute)
	codecs := map[string]kgo.CompressionCodec{
		"none": kgo.NoCompression(), "gzip": kgo.GzipCompression(), "snappy": kgo.SnappyCompression(),
		"lz4": kgo.Lz4Compression(), "zstd": kgo.ZstdCompression(),
	}
	for name, codec := range codecs {
		t.Run(name, func(t *testing.T) {
			topic := "codec-" + name
			createTopic(t, ctx, srv.Addr(), topic, 3, nil)
			p := client(t, srv.Addr(), kgo.ProducerBatchCompression(codec), kgo.DefaultProduceTopic(topic))
			base := time.UnixMilli(1700000000000)
			const n = 500
			want := map[string]*kgo.Record{}
			for i := 0; i < n; i++ {
				r := &kgo.Record{
					Key:       []byte(fmt.Sprintf("key-%d", i%13)),
					Value:     bytes.Repeat([]byte{byte('a' + i%26)}, 10+i%200),
					Headers:   []kgo.RecordHeader{{Key: "h1", Value: []byte(fmt.Sprint(i))}, {Key: "empty", Value: nil}},
					Timestamp: base.Add(time.Duration(i) * time.Millisecond),
				}
				want[string(r.Headers[0].Value)] = r
				p.Produce(ctx, r, func(_ *kgo.Record, err error) {
					if err != nil {
						t.Error(err)
					}
				})
			}
			if err := p.Flush(ctx); err != nil {
				t.Fatal(err)
			}
			c := client(t, srv.Addr(), kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
			got := 0
			lastOffset := map[int32]int64{}
			for got < n {
				fs := c.PollFetches(ctx)
				if ctx.Err() != nil {
					t.Fatalf("got %d of %d", got, n)
				}
				fs.EachError(func(_ string, _ int32, err error) { t.Fatal(err) })
				fs.EachRecord(func(r *kgo.Record) {
					got++
					w := want[string(r.Headers[0].Value)]
					if w == nil {
						t.Fatalf("unexpected record %+v", r)
					}
					if !bytes.Equal(r.Key, w.Key) || !bytes.Equal(r.Value, w.Value) || !r.Timestamp.Equal(w.Timestamp) ||
						len(r.Headers) != 2 || r.Headers[1].Key != "empty" || len(r.Headers[1].Value) != 0 {
						t.Fatalf("record differs: got key %q ts %v headers %v, want key %q ts %v", r.Key, r.Timestamp, r.Headers, w.Key, w.Timestamp)
					}
					if last, ok := lastOffset[r.Partition]; ok && r.Offset != last+1 {
						t.Fatalf("partition %d: offset %d after %d", r.Partition, r.Offset, last)
					}
					lastOffset[r.Partition] = r.Offset
				})
			}
		})
	}
}

// TestMillionRecordsInOrder reads a million records back in order with the
// exact bytes.
func TestMillionRecordsInOrder(t *testing.T) {
	if testing.Short() {
		t.Skip("long")
	}
	srv := start(t)
	ctx := ctxFor(t, 5*time.Minute)
	createTopic(t, ctx, srv.Addr(), "million", 1, nil)
	p := client(t, srv.Addr(), kgo.DefaultProduceTopic("million"), kgo.ProducerLinger(5*time.Millisecond), kgo.MaxBufferedRecords(100000))
	const n = 1_000_000
	value := func(i int) []byte { return []byte(fmt.Sprintf("record-%07d-%s", i, strings.Repeat("x", i%17))) }
	for i := 0; i < n; i++ {
		p.Produce(ctx, &kgo.Record{Value: value(i)}, func(_ *kgo.Record, err error) {
			if err != nil {
				t.Error(err)
			}
		})
	}
	if err := p.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	c := client(t, srv.Addr(), kgo.ConsumeTopics("million"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchMaxBytes(16<<20))
	next := 0
	for next < n {
		fs := c.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("read %d of %d", next, n)
		}
		fs.EachError(func(_ string, _ int32, err error) { t.Fatal(err) })
		fs.EachRecord(func(r *kgo.Record) {
			if r.Offset != int64(next) || !bytes.Equal(r.Value, value(next)) {
				t.Fatalf("record %d: offset %d value %q", next, r.Offset, r.Value)
			}
			next++
		})
	}
	offs, err := kadm.NewClient(c).ListEndOffsets(ctx, "million")
	if err != nil {
		t.Fatal(err)
	}
	if o, _ := offs.Lookup("million", 0); o.Offset != n {
		t.Fatalf("end offset %d, want %d", o.Offset, n)
	}
}

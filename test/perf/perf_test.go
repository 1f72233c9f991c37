// Package perf holds end-to-end benchmarks against the real sluice binary
// (built without the race detector) running as a separate process, driven
// by franz-go on the same machine. Run them with
//
//	go test -run '^$' -bench . -benchtime 5x ./test/perf/
//
// Each benchmark reports the client-observed throughput and the broker's own
// CPU time per GB and peak RSS, read from /proc.
package perf

import (
	"context"
	"crypto/rand"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluicehq/sluice/internal/clustertest"
)

func TestMain(m *testing.M) {
	os.Setenv("SLUICE_TEST_NORACE", "1")
	os.Exit(m.Run())
}

const (
	partitions = 8
	recordSize = 1024
)

// procStats returns the process's CPU time (user+system) and peak RSS.
func procStats(pid int) (cpu time.Duration, hwmKB int64) {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err == nil {
		s := string(stat)
		fields := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
		ut, _ := strconv.ParseInt(fields[11], 10, 64)
		st, _ := strconv.ParseInt(fields[12], 10, 64)
		cpu = time.Duration(ut+st) * time.Second / 100 // USER_HZ
	}
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err == nil {
		for _, line := range strings.Split(string(status), "\n") {
			if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
				hwmKB, _ = strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			}
		}
	}
	return cpu, hwmKB
}

func setup(b *testing.B, topic string) (*clustertest.Process, context.Context) {
	srv := clustertest.StartProcess(b)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	b.Cleanup(cancel)
	cl, err := kgo.NewClient(kgo.SeedBrokers(srv.Addr()))
	if err != nil {
		b.Fatal(err)
	}
	defer cl.Close()
	if _, err := kadm.NewClient(cl).CreateTopic(ctx, partitions, 1, nil, topic); err != nil {
		b.Fatal(err)
	}
	return srv, ctx
}

func produce(b *testing.B, ctx context.Context, addr, topic string, n int) {
	value := make([]byte, recordSize)
	rand.Read(value)
	p, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.DefaultProduceTopic(topic),
		kgo.RequiredAcks(kgo.AllISRAcks()), kgo.ProducerBatchMaxBytes(1<<20), kgo.MaxBufferedRecords(1<<16))
	if err != nil {
		b.Fatal(err)
	}
	defer p.Close()
	var failed atomic.Int64
	for i := 0; i < n; i++ {
		p.Produce(ctx, &kgo.Record{Value: value}, func(_ *kgo.Record, err error) {
			if err != nil {
				failed.Add(1)
			}
		})
	}
	if err := p.Flush(ctx); err != nil {
		b.Fatal(err)
	}
	if f := failed.Load(); f > 0 {
		b.Fatalf("%d records failed", f)
	}
}

func report(b *testing.B, srv *clustertest.Process, cpu0 time.Duration, bytes int64) {
	cpu, hwm := procStats(srv.Pid())
	gb := float64(bytes) / 1e9
	b.ReportMetric((cpu-cpu0).Seconds()/gb, "broker-cpu-s/GB")
	b.ReportMetric(float64(hwm)/1024, "broker-peak-RSS-MB")
}

// BenchmarkProduce: 8 partitions, 1 KiB incompressible records, acks=all,
// idempotent franz-go producer with default linger.
func BenchmarkProduce(b *testing.B) {
	srv, ctx := setup(b, "bench-produce")
	const perOp = 200_000 // 200 MB per iteration
	b.SetBytes(perOp * recordSize)
	cpu0, _ := procStats(srv.Pid())
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		produce(b, ctx, srv.Addr(), "bench-produce", perOp)
	}
	b.StopTimer()
	report(b, srv, cpu0, int64(b.N)*perOp*recordSize)
	if got := endOffsets(b, ctx, srv.Addr(), "bench-produce"); got != int64(b.N)*perOp {
		b.Fatalf("the log holds %d records, %d were produced", got, b.N*perOp)
	}
}

func endOffsets(b *testing.B, ctx context.Context, addr, topic string) int64 {
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr))
	if err != nil {
		b.Fatal(err)
	}
	defer cl.Close()
	offs, err := kadm.NewClient(cl).ListEndOffsets(ctx, topic)
	if err != nil {
		b.Fatal(err)
	}
	var n int64
	offs.Each(func(o kadm.ListedOffset) { n += o.Offset })
	return n
}

// BenchmarkConsume reads back 200 MB per iteration from the start.
func BenchmarkConsume(b *testing.B) {
	srv, ctx := setup(b, "bench-consume")
	const total = 200_000
	produce(b, ctx, srv.Addr(), "bench-consume", total)
	b.SetBytes(total * recordSize)
	cpu0, _ := procStats(srv.Pid())
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		c, err := kgo.NewClient(kgo.SeedBrokers(srv.Addr()), kgo.ConsumeTopics("bench-consume"),
			kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchMaxBytes(64<<20), kgo.FetchMaxPartitionBytes(8<<20))
		if err != nil {
			b.Fatal(err)
		}
		got := 0
		for got < total {
			fs := c.PollFetches(ctx)
			if ctx.Err() != nil {
				b.Fatalf("consumed %d of %d", got, total)
			}
			got += fs.NumRecords()
		}
		c.Close()
	}
	b.StopTimer()
	report(b, srv, cpu0, int64(b.N)*total*recordSize)
}

// BenchmarkEndToEndLatency produces at a steady 50 MB/s and measures the
// time from produce to consume of each record (p50, p99, p99.9), with
// franz-go's default linger (10 ms, which dominates) and with linger 0 (what
// the broker adds).
func BenchmarkEndToEndLatency(b *testing.B) {
	b.Run("linger=default", func(b *testing.B) { e2e(b) })
	b.Run("linger=0", func(b *testing.B) { e2e(b, kgo.ProducerLinger(0)) })
}

func e2e(b *testing.B, popts ...kgo.Opt) {
	srv, ctx := setup(b, "bench-e2e")
	const rate = 50 << 20 // bytes per second
	const seconds = 5
	perTick := rate / recordSize / 1000 // records per millisecond
	var mu sync.Mutex
	var lat []time.Duration
	for i := 0; i < b.N; i++ {
		c, err := kgo.NewClient(kgo.SeedBrokers(srv.Addr()), kgo.ConsumeTopics("bench-e2e"),
			kgo.ConsumeResetOffset(kgo.NewOffset().AtEnd()), kgo.FetchMaxWait(100*time.Millisecond))
		if err != nil {
			b.Fatal(err)
		}
		p, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(srv.Addr()), kgo.DefaultProduceTopic("bench-e2e"), kgo.RequiredAcks(kgo.AllISRAcks())}, popts...)...)
		if err != nil {
			b.Fatal(err)
		}
		// Let the consumer find the partitions' end offsets before producing.
		warm, cancelWarm := context.WithTimeout(ctx, 2*time.Second)
		c.PollRecords(warm, 1)
		cancelWarm()
		total := seconds * 1000 * perTick
		done := make(chan struct{})
		go func() {
			defer close(done)
			got := 0
			for got < total && ctx.Err() == nil {
				fs := c.PollFetches(ctx)
				now := time.Now()
				fs.EachRecord(func(r *kgo.Record) {
					sent, _ := strconv.ParseInt(string(r.Value[:19]), 10, 64)
					mu.Lock()
					lat = append(lat, now.Sub(time.Unix(0, sent)))
					mu.Unlock()
					got++
				})
			}
		}()
		value := make([]byte, recordSize)
		tick := time.NewTicker(time.Millisecond)
		for sent := 0; sent < total; {
			<-tick.C
			for j := 0; j < perTick; j++ {
				v := append([]byte(nil), value...)
				copy(v, strconv.FormatInt(time.Now().UnixNano(), 10))
				p.Produce(ctx, &kgo.Record{Value: v}, nil)
				sent++
			}
		}
		tick.Stop()
		<-done
		p.Close()
		c.Close()
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	if len(lat) == 0 {
		b.Fatal("no latencies")
	}
	q := func(f float64) float64 { return float64(lat[int(f*float64(len(lat)-1))].Microseconds()) / 1000 }
	b.ReportMetric(q(0.5), "p50-ms")
	b.ReportMetric(q(0.99), "p99-ms")
	b.ReportMetric(q(0.999), "p99.9-ms")
	b.ReportMetric(float64(lat[len(lat)-1].Microseconds())/1000, "max-ms")
}

package cli

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"sort"
	"sync"
	"time"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// benchOpts are `sluice bench`'s options, shared by its three modes.
type benchOpts struct {
	c           conn
	topic       string
	numRecords  int64
	recordSize  int
	partitions  int32
	rate        float64
	acks        string
	linger      time.Duration
	compression string
	jsonFile    string
	plotFile    string
	idle        time.Duration
}

func newBenchCmd() *cobra.Command {
	o := &benchOpts{}
	cmd := &cobra.Command{
		Use:   "bench produce|consume|e2e",
		Short: "Measure throughput and latency percentiles (p50, p99, p99.9, max)",
		Long: `bench produce sends records as fast as allowed and measures each record's acknowledgement latency.
bench consume reads records from the start of the topic and measures throughput.
bench e2e produces at a steady --rate while a consumer measures the time from send to receipt.`,
		Example: `  sluice bench produce --num-records 1000000 --record-size 1024 --partitions 8
  sluice bench consume --num-records 1000000
  sluice bench e2e --rate 50000 --num-records 500000 --json run.json --plot latency.svg`,
		ValidArgs: []string{"produce", "consume", "e2e"},
		Args:      exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			switch args[0] {
			case "produce", "consume", "e2e":
			default:
				return usageErrorf("unknown bench mode %q: expected produce, consume or e2e", args[0])
			}
			return runBench(cmd, o, args[0])
		},
	}
	addBootstrapFlag(cmd, &o.c)
	f := cmd.Flags()
	f.StringVarP(&o.topic, "topic", "t", "sluice-bench", "topic to use (created if missing)")
	f.Int64VarP(&o.numRecords, "num-records", "n", 100000, "number of records")
	f.IntVarP(&o.recordSize, "record-size", "s", 1024, "record value size in bytes")
	f.Int32VarP(&o.partitions, "partitions", "p", 8, "partitions when creating the topic")
	f.Float64Var(&o.rate, "rate", 0, "records per second (0: as fast as possible; e2e defaults to 10000)")
	f.StringVar(&o.acks, "acks", "all", "producer acks: all, 1 or 0")
	f.DurationVar(&o.linger, "linger", 0, "producer linger")
	f.StringVar(&o.compression, "compression", "none", "none, gzip, snappy, lz4 or zstd")
	f.StringVar(&o.jsonFile, "json", "", "write the run (settings, results, histogram) as JSON to FILE")
	f.StringVar(&o.plotFile, "plot", "", "write a latency histogram as SVG to FILE")
	f.DurationVar(&o.idle, "timeout", 10*time.Second, "give up when no record arrives for this long (consume, e2e)")
	return cmd
}

// benchResult is one run, as printed and as written by --json.
type benchResult struct {
	Mode          string          `json:"mode"`
	Topic         string          `json:"topic"`
	Partitions    int             `json:"partitions"`
	Records       int64           `json:"records"`
	RecordSize    int             `json:"record_size"`
	Bytes         int64           `json:"bytes"`
	Seconds       float64         `json:"seconds"`
	RecordsPerSec float64         `json:"records_per_sec"`
	MiBPerSec     float64         `json:"mib_per_sec"`
	TargetRate    float64         `json:"target_rate,omitempty"`
	Acks          string          `json:"acks,omitempty"`
	Latency       *latencySummary `json:"latency_ms,omitempty"`
	Histogram     []histBucket    `json:"histogram,omitempty"`
}

type latencySummary struct {
	Mean float64 `json:"mean"`
	P50  float64 `json:"p50"`
	P99  float64 `json:"p99"`
	P999 float64 `json:"p99_9"`
	Max  float64 `json:"max"`
}

type histBucket struct {
	LowMs  float64 `json:"low_ms"`
	HighMs float64 `json:"high_ms"`
	Count  int64   `json:"count"`
}

// latencies collects durations from many goroutines.
type latencies struct {
	mu sync.Mutex
	ns []int64
}

func (l *latencies) add(d time.Duration) {
	l.mu.Lock()
	l.ns = append(l.ns, int64(d))
	l.mu.Unlock()
}

// summarize sorts the samples and returns percentiles in milliseconds
// (nearest-rank) and a log-scale histogram of about 40 buckets.
func summarize(ns []int64) (*latencySummary, []histBucket) {
	if len(ns) == 0 {
		return nil, nil
	}
	s := append([]int64(nil), ns...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	ms := func(v int64) float64 { return float64(v) / 1e6 }
	pct := func(p float64) float64 {
		i := int(math.Ceil(p*float64(len(s)))) - 1
		return ms(s[min(max(i, 0), len(s)-1)])
	}
	var sum float64
	for _, v := range s {
		sum += float64(v)
	}
	sum_ := &latencySummary{Mean: sum / float64(len(s)) / 1e6, P50: pct(0.50), P99: pct(0.99), P999: pct(0.999), Max: ms(s[len(s)-1])}
	lo, hi := math.Max(float64(s[0]), 1000), math.Max(float64(s[len(s)-1]), 1001)
	const n = 40
	step := math.Log(hi/lo) / n
	if step <= 0 {
		step = 0.01
	}
	buckets := make([]histBucket, n)
	for i := range buckets {
		buckets[i].LowMs = lo * math.Exp(step*float64(i)) / 1e6
		buckets[i].HighMs = lo * math.Exp(step*float64(i+1)) / 1e6
	}
	for _, v := range s {
		i := 0
		if float64(v) > lo {
			i = int(math.Log(float64(v)/lo) / step)
		}
		buckets[min(i, n-1)].Count++
	}
	return sum_, buckets
}

func runBench(cmd *cobra.Command, o *benchOpts, mode string) error {
	o.c.props = map[string]string{"acks": o.acks, "linger.ms": fmt.Sprint(o.linger.Milliseconds()), "compression.type": o.compression}
	ctx := cmd.Context()
	adm, admCl, err := o.c.admin(ctx)
	if err != nil {
		return err
	}
	defer admCl.Close()
	parts, err := ensureBenchTopic(ctx, adm, o.topic, o.partitions, mode == "consume")
	if err != nil {
		return err
	}
	res := &benchResult{Mode: mode, Topic: o.topic, Partitions: parts, RecordSize: o.recordSize}
	progress := newProgressBar(cmd.ErrOrStderr(), o.numRecords, "rec")
	switch mode {
	case "produce":
		err = benchProduce(ctx, o, res, progress)
	case "consume":
		err = benchConsume(ctx, o, res, progress)
	case "e2e":
		if o.rate == 0 {
			o.rate = 10000
		}
		err = benchE2E(ctx, o, adm, res, progress)
	}
	progress.finish()
	if err != nil {
		return err
	}
	printBench(cmd.OutOrStdout(), res)
	if o.jsonFile != "" {
		b, _ := json.MarshalIndent(res, "", "  ")
		if err := os.WriteFile(o.jsonFile, append(b, '\n'), 0o644); err != nil {
			return err
		}
	}
	if o.plotFile != "" {
		if res.Latency == nil {
			return usageErrorf("--plot needs latencies; bench %s does not measure them", mode)
		}
		f, err := os.Create(o.plotFile)
		if err != nil {
			return err
		}
		writeLatencySVG(f, fmt.Sprintf("sluice bench %s: %d × %d B, %s", mode, res.Records, res.RecordSize, o.topic), res.Latency, res.Histogram)
		if err := f.Close(); err != nil {
			return err
		}
	}
	return nil
}

func ensureBenchTopic(ctx context.Context, adm *kadm.Client, topic string, partitions int32, mustExist bool) (int, error) {
	tds, err := adm.ListTopics(ctx, topic)
	if err != nil {
		return 0, err
	}
	if td, ok := tds[topic]; ok && td.Err == nil {
		return len(td.Partitions), nil
	}
	if mustExist {
		return 0, unknownTopicErrorf("unknown topic %q (run 'sluice bench produce' first)", topic)
	}
	r, err := adm.CreateTopic(ctx, partitions, -1, nil, topic)
	if err != nil {
		return 0, err
	}
	if r.Err != nil && !isKerr(r.Err, kerrTopicExists) {
		return 0, topicErr(topic, r.Err, r.ErrMessage)
	}
	return int(partitions), nil
}

func finishRates(res *benchResult, el time.Duration) {
	res.Seconds = el.Seconds()
	if res.Seconds > 0 {
		res.RecordsPerSec = float64(res.Records) / res.Seconds
		res.MiBPerSec = float64(res.Bytes) / res.Seconds / (1 << 20)
	}
}

func benchProduce(ctx context.Context, o *benchOpts, res *benchResult, bar *progressBar) error {
	cl, err := o.c.client(ctx, roleProducer)
	if err != nil {
		return err
	}
	defer cl.Close()
	val := make([]byte, o.recordSize)
	for i := range val {
		val[i] = byte('A' + i%26)
	}
	var (
		lat      latencies
		mu       sync.Mutex
		firstErr error
		done     int64
	)
	lat.ns = make([]int64, 0, o.numRecords)
	th := &throttler{target: o.rate, start: time.Now()}
	start := time.Now()
	for i := int64(0); i < o.numRecords && ctx.Err() == nil; i++ {
		sent := time.Now()
		cl.Produce(ctx, &kgo.Record{Topic: o.topic, Value: val}, func(r *kgo.Record, err error) {
			d := time.Since(sent)
			mu.Lock()
			if err != nil && firstErr == nil {
				firstErr = err
			}
			done++
			n := done
			mu.Unlock()
			if err == nil {
				lat.add(d)
			}
			bar.update(n)
		})
		th.wait(ctx, i+1)
	}
	if err := cl.Flush(ctx); err != nil {
		return err
	}
	el := time.Since(start)
	if firstErr != nil {
		return fmt.Errorf("producing to %s: %w", o.topic, firstErr)
	}
	res.Records, res.Bytes, res.Acks, res.TargetRate = int64(len(lat.ns)), int64(len(lat.ns))*int64(o.recordSize), o.acks, o.rate
	finishRates(res, el)
	res.Latency, res.Histogram = summarize(lat.ns)
	return nil
}

func benchConsume(ctx context.Context, o *benchOpts, res *benchResult, bar *progressBar) error {
	cl, err := o.c.client(ctx, roleConsumer, kgo.ConsumeTopics(o.topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.FetchMaxBytes(64<<20), kgo.FetchMaxPartitionBytes(8<<20))
	if err != nil {
		return err
	}
	defer cl.Close()
	start := time.Now()
	for res.Records < o.numRecords {
		pctx, cancel := context.WithTimeout(ctx, o.idle)
		fs := cl.PollRecords(pctx, int(o.numRecords-res.Records))
		timedOut := pctx.Err() != nil
		cancel()
		if ctx.Err() != nil {
			return ctx.Err()
		}
		fs.EachRecord(func(r *kgo.Record) {
			res.Records++
			res.Bytes += int64(len(r.Key) + len(r.Value))
		})
		bar.update(res.Records)
		if timedOut && fs.NumRecords() == 0 {
			break
		}
	}
	finishRates(res, time.Since(start))
	if res.Records > 0 {
		res.RecordSize = int(res.Bytes / res.Records)
	}
	if res.Records < o.numRecords {
		return fmt.Errorf("only %d of %d records arrived within %s (produce more with 'sluice bench produce')", res.Records, o.numRecords, o.idle)
	}
	return nil
}

func benchE2E(ctx context.Context, o *benchOpts, adm *kadm.Client, res *benchResult, bar *progressBar) error {
	if o.recordSize < 8 {
		return usageErrorf("e2e needs --record-size of at least 8 (the send time is stored in the value)")
	}
	ends, err := adm.ListEndOffsets(ctx, o.topic)
	if err != nil {
		return err
	}
	startAt := map[string]map[int32]kgo.Offset{o.topic: {}}
	ends.Each(func(l kadm.ListedOffset) { startAt[o.topic][l.Partition] = kgo.NewOffset().At(l.Offset) })
	cons, err := o.c.client(ctx, roleConsumer, kgo.ConsumePartitions(startAt), kgo.FetchMaxWait(100*time.Millisecond))
	if err != nil {
		return err
	}
	defer cons.Close()
	prod, err := o.c.client(ctx, roleProducer)
	if err != nil {
		return err
	}
	defer prod.Close()

	var lat latencies
	lat.ns = make([]int64, 0, o.numRecords)
	consErr := make(chan error, 1)
	start := time.Now()
	go func() {
		var got int64
		for got < o.numRecords {
			pctx, cancel := context.WithTimeout(ctx, o.idle)
			fs := cons.PollRecords(pctx, -1)
			timedOut := pctx.Err() != nil
			cancel()
			now := time.Now().UnixNano()
			fs.EachRecord(func(r *kgo.Record) {
				if len(r.Value) >= 8 {
					lat.add(time.Duration(now - int64(binary.BigEndian.Uint64(r.Value))))
				}
				got++
			})
			bar.update(got)
			if ctx.Err() != nil {
				consErr <- ctx.Err()
				return
			}
			if timedOut && fs.NumRecords() == 0 {
				consErr <- fmt.Errorf("only %d of %d records arrived (nothing for %s)", got, o.numRecords, o.idle)
				return
			}
		}
		consErr <- nil
	}()
	th := &throttler{target: o.rate, start: time.Now()}
	var (
		mu       sync.Mutex
		firstErr error
	)
	for i := int64(0); i < o.numRecords && ctx.Err() == nil; i++ {
		val := make([]byte, o.recordSize)
		binary.BigEndian.PutUint64(val, uint64(time.Now().UnixNano()))
		prod.Produce(ctx, &kgo.Record{Topic: o.topic, Value: val}, func(_ *kgo.Record, err error) {
			if err != nil {
				mu.Lock()
				if firstErr == nil {
					firstErr = err
				}
				mu.Unlock()
			}
		})
		th.wait(ctx, i+1)
	}
	if err := prod.Flush(ctx); err != nil {
		return err
	}
	if firstErr != nil {
		return fmt.Errorf("producing to %s: %w", o.topic, firstErr)
	}
	if err := <-consErr; err != nil {
		return err
	}
	el := time.Since(start)
	res.Records, res.Bytes, res.Acks, res.TargetRate = int64(len(lat.ns)), int64(len(lat.ns))*int64(o.recordSize), o.acks, o.rate
	finishRates(res, el)
	res.Latency, res.Histogram = summarize(lat.ns)
	return nil
}

func printBench(w io.Writer, r *benchResult) {
	p := newPalette(w)
	fmt.Fprintf(w, "%s %d records × %d B, topic %s (%d partitions)", p.bold("bench "+r.Mode+":"), r.Records, r.RecordSize, r.Topic, r.Partitions)
	if r.Acks != "" {
		fmt.Fprintf(w, ", acks=%s", r.Acks)
	}
	if r.TargetRate > 0 {
		fmt.Fprintf(w, ", target %.0f records/s", r.TargetRate)
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "  throughput: %.0f records/s, %.2f MiB/s (%.3f s)\n", r.RecordsPerSec, r.MiBPerSec, r.Seconds)
	if l := r.Latency; l != nil {
		fmt.Fprintf(w, "  latency:    p50 %.3f ms  p99 %.3f ms  p99.9 %.3f ms  max %.3f ms  (mean %.3f ms)\n", l.P50, l.P99, l.P999, l.Max, l.Mean)
	}
}

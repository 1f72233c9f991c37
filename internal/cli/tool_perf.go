package cli

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kgo"
)

// producerPerfOpts are kafka-producer-perf-test's options (Kafka's
// ProducerPerformance, parsed by argparse4j: --producer-props takes several values).
type producerPerfOpts struct {
	conn             conn
	topic            string
	numRecords       int64
	recordSize       int
	payloadFile      string
	payloadDelimiter string
	payloadMonotonic bool
	throughput       float64
	producerProps    []string
	commandProps     []string
	producerConfig   string
	commandConfig    string
	printMetrics     bool
	transactionalID  string
	txnDurationMs    int64
}

func newProducerPerfCmd() *cobra.Command {
	o := &producerPerfOpts{}
	cmd := &cobra.Command{
		Use:   "kafka-producer-perf-test",
		Short: "Measure producer throughput and latency (Kafka's kafka-producer-perf-test.sh)",
		Example: `  kafka-producer-perf-test.sh --topic t --num-records 1000000 --record-size 1024 --throughput -1 \
      --producer-props bootstrap.servers=localhost:9092 acks=all`,
		RunE: func(cmd *cobra.Command, _ []string) error { return runProducerPerf(cmd, o) },
	}
	f := cmd.Flags()
	f.StringVar(&o.conn.bootstrap, "bootstrap-server", "", "The server(s) to connect to (or bootstrap.servers in --producer-props).")
	f.StringVar(&o.topic, "topic", "", "REQUIRED: produce messages to this topic")
	f.Int64Var(&o.numRecords, "num-records", 0, "REQUIRED: number of messages to produce")
	f.IntVar(&o.recordSize, "record-size", 0, "message size in bytes. Note that you must provide exactly one of --record-size or --payload-file or --payload-monotonic.")
	f.StringVar(&o.payloadFile, "payload-file", "", "file to read the message payloads from, split by --payload-delimiter; one is picked at random for each record.")
	f.StringVar(&o.payloadDelimiter, "payload-delimiter", "\\n", "delimiter used when --payload-file is provided.")
	f.BoolVar(&o.payloadMonotonic, "payload-monotonic", false, "payload is the record's sequence number as a string")
	f.Float64Var(&o.throughput, "throughput", 0, "REQUIRED: throttle maximum message throughput to *approximately* THROUGHPUT messages/sec. Set this to -1 to disable throttling.")
	f.StringArrayVar(&o.producerProps, "producer-props", nil, "kafka producer related configuration properties like bootstrap.servers,client.id etc. These configs take precedence over those passed via --producer.config.")
	f.SetAnnotation("producer-props", annNargs, []string{"true"})
	f.StringArrayVar(&o.commandProps, "command-property", nil, "same as --producer-props (Kafka 4 name)")
	f.SetAnnotation("command-property", annNargs, []string{"true"})
	f.StringVar(&o.producerConfig, "producer.config", "", "producer config properties file.")
	f.StringVar(&o.commandConfig, "command-config", "", "producer config properties file (Kafka 4 name).")
	f.BoolVar(&o.printMetrics, "print-metrics", false, "print out metrics at the end of the test.")
	f.StringVar(&o.transactionalID, "transactional-id", "", "The transactional id to use (not supported yet).")
	f.Int64Var(&o.txnDurationMs, "transaction-duration-ms", 0, "The max age of each transaction (not supported yet).")
	return kafkaTool(cmd, "Error: ")
}

// perfStats accumulates latencies and prints progress exactly as Kafka's
// ProducerPerformance.Stats does.
type perfStats struct {
	mu                 sync.Mutex
	out                io.Writer
	start, windowStart time.Time
	reportingInterval  time.Duration
	sampling           int64
	latencies          []int
	count, bytes       int64
	totalLatency       int64
	maxLatency         int
	windowCount        int64
	windowBytes        int64
	windowTotalLatency int64
	windowMaxLatency   int
	iteration          int64
}

func newPerfStats(numRecords int64, out io.Writer, now time.Time) *perfStats {
	sampling := numRecords / min(numRecords, 500000)
	if sampling < 1 {
		sampling = 1
	}
	return &perfStats{out: out, start: now, windowStart: now, reportingInterval: 5 * time.Second,
		sampling: sampling, latencies: make([]int, 0, numRecords/sampling+1)}
}

// record adds one acknowledged record; latency is in whole milliseconds.
func (s *perfStats) record(iter int64, latency int, size int, now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.count++
	s.bytes += int64(size)
	s.totalLatency += int64(latency)
	s.maxLatency = max(s.maxLatency, latency)
	s.windowCount++
	s.windowBytes += int64(size)
	s.windowTotalLatency += int64(latency)
	s.windowMaxLatency = max(s.windowMaxLatency, latency)
	if iter%s.sampling == 0 {
		s.latencies = append(s.latencies, latency)
	}
	if now.Sub(s.windowStart) >= s.reportingInterval {
		s.printWindowLocked(now)
		s.windowStart, s.windowCount, s.windowBytes, s.windowTotalLatency, s.windowMaxLatency = now, 0, 0, 0, 0
	}
}

func elapsedMs(from, to time.Time) float64 {
	ms := float64(to.Sub(from).Milliseconds())
	if ms <= 0 {
		ms = 1
	}
	return ms
}

// printWindowLocked prints "N records sent, X records/sec (Y MB/sec), Z ms avg latency, W ms max latency."
func (s *perfStats) printWindowLocked(now time.Time) {
	el := elapsedMs(s.windowStart, now)
	avg := 0.0
	if s.windowCount > 0 {
		avg = float64(s.windowTotalLatency) / float64(s.windowCount)
	}
	fmt.Fprintf(s.out, "%d records sent, %.1f records/sec (%.2f MB/sec), %.1f ms avg latency, %.1f ms max latency.\n",
		s.windowCount, 1000.0*float64(s.windowCount)/el, 1000.0*float64(s.windowBytes)/el/(1024.0*1024.0), avg, float64(s.windowMaxLatency))
}

// printTotal prints Kafka's summary line with the 50th/95th/99th/99.9th percentiles.
func (s *perfStats) printTotal(now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	el := elapsedMs(s.start, now)
	avg := 0.0
	if s.count > 0 {
		avg = float64(s.totalLatency) / float64(s.count)
	}
	p := percentilesInt(s.latencies, 0.5, 0.95, 0.99, 0.999)
	fmt.Fprintf(s.out, "%d records sent, %f records/sec (%.2f MB/sec), %.2f ms avg latency, %.2f ms max latency, %d ms 50th, %d ms 95th, %d ms 99th, %d ms 99.9th.\n",
		s.count, 1000.0*float64(s.count)/el, 1000.0*float64(s.bytes)/el/(1024.0*1024.0), avg, float64(s.maxLatency), p[0], p[1], p[2], p[3])
}

// percentilesInt picks sorted[(int)(p*len)] for each p, as Kafka does.
func percentilesInt(lat []int, ps ...float64) []int {
	sorted := append([]int(nil), lat...)
	sort.Ints(sorted)
	out := make([]int, len(ps))
	for i, p := range ps {
		if len(sorted) > 0 {
			out[i] = sorted[min(int(p*float64(len(sorted))), len(sorted)-1)]
		}
	}
	return out
}

// throttler paces sends to about target per second (target < 0: no limit),
// like Kafka's ThroughputThrottler.
type throttler struct {
	target float64
	start  time.Time
}

func (t *throttler) wait(ctx context.Context, sent int64) {
	if t.target <= 0 {
		return
	}
	due := t.start.Add(time.Duration(float64(sent) / t.target * float64(time.Second)))
	if d := time.Until(due); d > 0 {
		select {
		case <-ctx.Done():
		case <-time.After(d):
		}
	}
}

// payloadSource yields record values for the perf tools.
type payloadSource struct {
	fixed     []byte
	payloads  [][]byte
	monotonic bool
}

func (p *payloadSource) next(i int64) []byte {
	switch {
	case p.monotonic:
		return []byte(strconv.FormatInt(i, 10))
	case len(p.payloads) > 0:
		return p.payloads[rand.IntN(len(p.payloads))]
	}
	return p.fixed
}

func newPayloadSource(recordSize int, file, delim string, monotonic bool) (*payloadSource, error) {
	n := 0
	for _, b := range []bool{recordSize > 0, file != "", monotonic} {
		if b {
			n++
		}
	}
	if n != 1 {
		return nil, usageErrorf("exactly one of --record-size, --payload-file or --payload-monotonic is required")
	}
	if monotonic {
		return &payloadSource{monotonic: true}, nil
	}
	if file != "" {
		data, err := os.ReadFile(file)
		if err != nil {
			return nil, withCode(ExitUsage, err)
		}
		delim = strings.NewReplacer(`\n`, "\n", `\t`, "\t", `\r`, "\r").Replace(delim)
		var ps [][]byte
		for _, part := range bytes.Split(data, []byte(delim)) {
			if len(part) > 0 {
				ps = append(ps, part)
			}
		}
		if len(ps) == 0 {
			return nil, usageErrorf("File is empty: %s", file)
		}
		return &payloadSource{payloads: ps}, nil
	}
	b := make([]byte, recordSize)
	for i := range b {
		b[i] = byte(rand.IntN(26) + 65)
	}
	return &payloadSource{fixed: b}, nil
}

func runProducerPerf(cmd *cobra.Command, o *producerPerfOpts) error {
	ch := cmd.Flags().Changed
	switch {
	case o.topic == "":
		return usageErrorf("argument --topic is required")
	case !ch("num-records"):
		return usageErrorf("argument --num-records is required")
	case !ch("throughput"):
		return usageErrorf("argument --throughput is required")
	case o.transactionalID != "" || o.txnDurationMs > 0:
		return usageErrorf("--transactional-id and --transaction-duration-ms are not supported yet")
	case o.numRecords <= 0:
		return usageErrorf("--num-records should be greater than zero")
	}
	payloads, err := newPayloadSource(o.recordSize, o.payloadFile, o.payloadDelimiter, o.payloadMonotonic)
	if err != nil {
		return err
	}
	file, err := loadConfigFile(firstNonEmpty(o.producerConfig, o.commandConfig))
	if err != nil {
		return err
	}
	extra, err := parseKeyValueArgs(append(append([]string{}, o.producerProps...), o.commandProps...))
	if err != nil {
		return err
	}
	o.conn.props = mergeProps(file, extra)
	o.conn.required = true
	ctx := cmd.Context()
	cl, err := o.conn.client(ctx, roleProducer, kgo.DefaultProduceTopic(o.topic))
	if err != nil {
		return err
	}
	defer cl.Close()
	out := cmd.OutOrStdout()
	stats, err := produceForPerf(ctx, cl, o.topic, o.numRecords, o.throughput, payloads, out, nil)
	if err != nil {
		return err
	}
	stats.printTotal(time.Now())
	if o.printMetrics {
		printProducerMetrics(out, stats, cl)
	}
	return nil
}

// produceForPerf sends n records, recording each acknowledgement's latency.
// progress, if non-nil, is told the running count.
func produceForPerf(ctx context.Context, cl *kgo.Client, topic string, n int64, throughput float64, payloads *payloadSource, out io.Writer, progress func(done int64)) (*perfStats, error) {
	start := time.Now()
	stats := newPerfStats(n, out, start)
	th := &throttler{target: throughput, start: start}
	var (
		mu       sync.Mutex
		firstErr error
	)
	for i := int64(0); i < n; i++ {
		if ctx.Err() != nil {
			break
		}
		mu.Lock()
		ferr := firstErr
		mu.Unlock()
		if ferr != nil {
			break
		}
		val := payloads.next(i)
		sendStart := time.Now()
		iter := i
		cl.Produce(ctx, &kgo.Record{Topic: topic, Value: val}, func(r *kgo.Record, err error) {
			now := time.Now()
			if err != nil {
				mu.Lock()
				if firstErr == nil {
					firstErr = err
				}
				mu.Unlock()
				return
			}
			stats.record(iter, int(now.Sub(sendStart).Milliseconds()), len(r.Key)+len(r.Value), now)
			if progress != nil {
				progress(stats.done())
			}
		})
		th.wait(ctx, i+1)
	}
	if err := cl.Flush(ctx); err != nil {
		return nil, err
	}
	mu.Lock()
	defer mu.Unlock()
	if firstErr != nil {
		return nil, fmt.Errorf("producing to %s: %w", topic, firstErr)
	}
	return stats, nil
}

func (s *perfStats) done() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.count
}

func printProducerMetrics(w io.Writer, s *perfStats, cl *kgo.Client) {
	s.mu.Lock()
	defer s.mu.Unlock()
	el := elapsedMs(s.start, time.Now()) / 1000
	id := "sluice-perf"
	if v := cl.OptValue(kgo.ClientID); v != nil {
		id = fmt.Sprint(v)
	}
	rows := [][2]string{
		{"producer-metrics:record-send-total:{client-id=" + id + "}", fmt.Sprintf("%.3f", float64(s.count))},
		{"producer-metrics:record-send-rate:{client-id=" + id + "}", fmt.Sprintf("%.3f", float64(s.count)/el)},
		{"producer-metrics:outgoing-byte-total:{client-id=" + id + "}", fmt.Sprintf("%.3f", float64(s.bytes))},
		{"producer-metrics:outgoing-byte-rate:{client-id=" + id + "}", fmt.Sprintf("%.3f", float64(s.bytes)/el)},
		{"producer-metrics:request-latency-avg:{client-id=" + id + "}", fmt.Sprintf("%.3f", float64(s.totalLatency)/float64(max(s.count, 1)))},
		{"producer-metrics:request-latency-max:{client-id=" + id + "}", fmt.Sprintf("%.3f", float64(s.maxLatency))},
	}
	printMetricsTable(w, rows)
}

// printMetricsTable prints Kafka's ToolsUtils.printMetrics layout.
func printMetricsTable(w io.Writer, rows [][2]string) {
	width := 0
	for _, r := range rows {
		width = max(width, len(r[0]))
	}
	fmt.Fprintf(w, "\n%-*s   %s\n", width, "Metric Name", "Value")
	for _, r := range rows {
		fmt.Fprintf(w, "%-*s : %s\n", width, r[0], r[1])
	}
}

// consumerPerfOpts are kafka-consumer-perf-test's options (Kafka's ConsumerPerformance).
type consumerPerfOpts struct {
	conn              conn
	brokerList        string
	topic             string
	group             string
	fetchSize         int32
	fromLatest        bool
	socketBuffer      int
	consumerConfig    string
	commandConfig     string
	printMetrics      bool
	showDetailedStats bool
	timeoutMs         int64
	messages          int64
	reportingInterval int64
	dateFormat        string
	hideHeader        bool
	threads           int
	fetchThreads      int
}

func newConsumerPerfCmd() *cobra.Command {
	o := &consumerPerfOpts{}
	cmd := &cobra.Command{
		Use:     "kafka-consumer-perf-test",
		Short:   "Measure consumer throughput (Kafka's kafka-consumer-perf-test.sh)",
		Example: `  kafka-consumer-perf-test.sh --bootstrap-server localhost:9092 --topic t --messages 1000000`,
		RunE:    func(cmd *cobra.Command, _ []string) error { return runConsumerPerf(cmd, o) },
	}
	f := cmd.Flags()
	addKafkaConnFlags(cmd, &o.conn, &o.consumerConfig, "consumer.config")
	f.StringVar(&o.commandConfig, "command-config", "", "Consumer config properties file (Kafka 4 name).")
	f.StringVar(&o.brokerList, "broker-list", "", "DEPRECATED, use --bootstrap-server instead.")
	f.StringVar(&o.topic, "topic", "", "REQUIRED: The topic to consume from.")
	f.StringVar(&o.group, "group", "", "The group id to consume on. (default: perf-consumer-<random>)")
	f.Int32Var(&o.fetchSize, "fetch-size", 1024*1024, "The amount of data to fetch in a single request.")
	f.BoolVar(&o.fromLatest, "from-latest", false, "If the consumer does not already have an established offset to consume from, start with the latest message present in the log rather than the earliest message.")
	f.IntVar(&o.socketBuffer, "socket-buffer-size", 2*1024*1024, "The size of the tcp RECV size.")
	f.BoolVar(&o.printMetrics, "print-metrics", false, "Print out the metrics.")
	f.BoolVar(&o.showDetailedStats, "show-detailed-stats", false, "If set, stats are reported for each reporting interval as configured by reporting-interval")
	f.Int64Var(&o.timeoutMs, "timeout", 10000, "The maximum allowed time in milliseconds between returned records.")
	f.Int64Var(&o.messages, "messages", 0, "REQUIRED: The number of messages to send or consume")
	f.Int64Var(&o.reportingInterval, "reporting-interval", 5000, "Interval in milliseconds at which to print progress info.")
	f.StringVar(&o.dateFormat, "date-format", "yyyy-MM-dd HH:mm:ss:SSS", "The date format to use for formatting the time field. See java.text.SimpleDateFormat for options.")
	f.BoolVar(&o.hideHeader, "hide-header", false, "If set, skips printing the header for the stats")
	f.IntVar(&o.threads, "threads", 1, "DEPRECATED and ignored.")
	f.IntVar(&o.fetchThreads, "num-fetch-threads", 1, "DEPRECATED and ignored.")
	return kafkaTool(cmd, "Error: ")
}

// javaDate is a java.text.SimpleDateFormat pattern (the common letters).
type javaDate string

// Format renders t; milliseconds (SSS) are substituted by hand because Go
// layouts only know fractional seconds after a '.' or ','.
func (f javaDate) Format(t time.Time) string {
	layout := strings.NewReplacer("yyyy", "2006", "yy", "06", "MM", "01", "dd", "02", "HH", "15", "hh", "03",
		"mm", "04", "ss", "05", "SSS", "\x00", "a", "PM", "Z", "-0700").Replace(string(f))
	return strings.ReplaceAll(t.Format(layout), "\x00", fmt.Sprintf("%03d", t.Nanosecond()/1e6))
}

const consumerPerfHeader = "start.time, end.time, data.consumed.in.MB, MB.sec, data.consumed.in.nMsg, nMsg.sec, rebalance.time.ms, fetch.time.ms, fetch.MB.sec, fetch.nMsg.sec"
const consumerPerfDetailedHeader = "time, threadId, data.consumed.in.MB, MB.sec, data.consumed.in.nMsg, nMsg.sec, rebalance.time.ms, fetch.time.ms, fetch.MB.sec, fetch.nMsg.sec"

// consumerPerfResult is one consumer-perf run's totals.
type consumerPerfResult struct {
	start, end  time.Time
	bytes, msgs int64
	joinMs      int64
}

// summaryLine renders Kafka's CSV summary line.
func (r *consumerPerfResult) summaryLine(layout javaDate) string {
	elapsedSec := float64(r.end.Sub(r.start).Milliseconds()) / 1000
	if elapsedSec <= 0 {
		elapsedSec = 0.001
	}
	fetchMs := r.end.Sub(r.start).Milliseconds() - r.joinMs
	fetchSec := float64(max(fetchMs, 1)) / 1000
	mb := float64(r.bytes) / (1024 * 1024)
	return fmt.Sprintf("%s, %s, %.4f, %.4f, %d, %.4f, %d, %d, %.4f, %.4f",
		layout.Format(r.start), layout.Format(r.end), mb, mb/elapsedSec, r.msgs, float64(r.msgs)/elapsedSec,
		r.joinMs, fetchMs, mb/fetchSec, float64(r.msgs)/fetchSec)
}

func runConsumerPerf(cmd *cobra.Command, o *consumerPerfOpts) error {
	if o.topic == "" {
		return usageErrorf("Missing required argument \"[topic]\"")
	}
	if !cmd.Flags().Changed("messages") {
		return usageErrorf("Missing required argument \"[messages]\"")
	}
	if o.conn.bootstrap == "" {
		o.conn.bootstrap = o.brokerList
	}
	file, err := loadConfigFile(firstNonEmpty(o.consumerConfig, o.commandConfig))
	if err != nil {
		return err
	}
	o.conn.props = file
	group := firstNonEmpty(o.group, file["group.id"], fmt.Sprintf("perf-consumer-%d", rand.IntN(100000)))
	reset := kgo.NewOffset().AtStart()
	if o.fromLatest {
		reset = kgo.NewOffset().AtEnd()
	}
	layout := javaDate(o.dateFormat)
	out := cmd.OutOrStdout()
	ctx := cmd.Context()
	var (
		mu       sync.Mutex
		joinedAt time.Time
	)
	start := time.Now()
	cl, err := o.conn.client(ctx, roleConsumer,
		kgo.ConsumeTopics(o.topic), kgo.ConsumerGroup(group), kgo.ConsumeResetOffset(reset),
		kgo.FetchMaxPartitionBytes(o.fetchSize),
		kgo.OnPartitionsAssigned(func(context.Context, *kgo.Client, map[string][]int32) {
			mu.Lock()
			if joinedAt.IsZero() {
				joinedAt = time.Now()
			}
			mu.Unlock()
		}))
	if err != nil {
		return err
	}
	defer cl.Close()
	if !o.hideHeader {
		if o.showDetailedStats {
			fmt.Fprintln(out, consumerPerfDetailedHeader)
		} else {
			fmt.Fprintln(out, consumerPerfHeader)
		}
	}
	res := &consumerPerfResult{start: start}
	lastReport, lastBytes, lastMsgs := start, int64(0), int64(0)
	lastConsumed := time.Now()
	timeout := time.Duration(o.timeoutMs) * time.Millisecond
	for res.msgs < o.messages && time.Since(lastConsumed) <= timeout {
		pctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
		fs := cl.PollRecords(pctx, int(o.messages-res.msgs))
		cancel()
		if ctx.Err() != nil {
			break
		}
		var ferr error
		fs.EachError(func(t string, p int32, err error) {
			if ferr == nil && pctx.Err() == nil {
				ferr = fmt.Errorf("consuming %s[%d]: %w", t, p, err)
			}
		})
		if ferr != nil {
			return ferr
		}
		if n := fs.NumRecords(); n > 0 {
			lastConsumed = time.Now()
			fs.EachRecord(func(r *kgo.Record) {
				res.msgs++
				res.bytes += int64(len(r.Key) + len(r.Value))
			})
		}
		if o.showDetailedStats && time.Since(lastReport) >= time.Duration(o.reportingInterval)*time.Millisecond {
			now := time.Now()
			mu.Lock()
			join := int64(0)
			if !joinedAt.IsZero() && joinedAt.After(lastReport) {
				join = joinedAt.Sub(lastReport).Milliseconds()
			}
			mu.Unlock()
			printDetailedProgress(out, layout, now, lastReport, res.bytes, lastBytes, res.msgs, lastMsgs, join)
			lastReport, lastBytes, lastMsgs = now, res.bytes, res.msgs
		}
	}
	res.end = time.Now()
	mu.Lock()
	if !joinedAt.IsZero() {
		res.joinMs = joinedAt.Sub(start).Milliseconds()
	}
	mu.Unlock()
	if res.msgs < o.messages {
		fmt.Fprintf(cmd.ErrOrStderr(), "WARNING: Exiting before consuming the expected number of messages: timeout (%d ms) exceeded. You can use the --timeout option to increase the timeout.\n", o.timeoutMs)
	}
	if !o.showDetailedStats {
		fmt.Fprintln(out, res.summaryLine(layout))
	}
	if o.printMetrics {
		el := float64(max(res.end.Sub(res.start).Milliseconds(), 1)) / 1000
		printMetricsTable(out, [][2]string{
			{"consumer-fetch-manager-metrics:records-consumed-total:{client-id=" + group + "}", fmt.Sprintf("%.3f", float64(res.msgs))},
			{"consumer-fetch-manager-metrics:records-consumed-rate:{client-id=" + group + "}", fmt.Sprintf("%.3f", float64(res.msgs)/el)},
			{"consumer-fetch-manager-metrics:bytes-consumed-total:{client-id=" + group + "}", fmt.Sprintf("%.3f", float64(res.bytes))},
			{"consumer-fetch-manager-metrics:bytes-consumed-rate:{client-id=" + group + "}", fmt.Sprintf("%.3f", float64(res.bytes)/el)},
		})
	}
	return nil
}

func printDetailedProgress(w io.Writer, layout javaDate, now, last time.Time, bytes, lastBytes, msgs, lastMsgs, joinMs int64) {
	el := float64(max(now.Sub(last).Milliseconds(), 1))
	mb := float64(bytes) / (1024 * 1024)
	intervalMB := float64(bytes-lastBytes) / (1024 * 1024)
	fetchMs := float64(max(now.Sub(last).Milliseconds()-joinMs, 1))
	fmt.Fprintf(w, "%s, %d, %.4f, %.4f, %d, %.4f, %d, %d, %.4f, %.4f\n",
		layout.Format(now), 0, mb, 1000*intervalMB/el, msgs, float64(msgs-lastMsgs)/el*1000,
		joinMs, int64(fetchMs), 1000*intervalMB/fetchMs, 1000*float64(msgs-lastMsgs)/fetchMs)
}

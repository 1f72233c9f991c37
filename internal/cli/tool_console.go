package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

// consoleProducerOpts are kafka-console-producer's options (Kafka's ConsoleProducer).
type consoleProducerOpts struct {
	conn            conn
	brokerList      string
	topic           string
	producerConfig  string
	commandConfig   string
	properties      []string
	readerProps     []string
	prodProps       []string
	commandProps    []string
	compression     string
	sync            bool
	acks            string
	batchSize       int
	lingerMs        int
	requestTimeout  int
	maxBlockMs      int
	maxMemoryBytes  int64
	maxPartitionMem int
	retries         int
	retryBackoffMs  int
	metadataExpiry  int
	socketBuffer    int
	lineReader      string
}

func newConsoleProducerCmd() *cobra.Command {
	o := &consoleProducerOpts{}
	cmd := &cobra.Command{
		Use:   "kafka-console-producer",
		Short: "Read lines from standard input and publish them (Kafka's kafka-console-producer.sh)",
		Example: `  kafka-console-producer.sh --bootstrap-server localhost:9092 --topic t
  kafka-console-producer.sh --bootstrap-server localhost:9092 --topic t \
      --property parse.key=true --property key.separator=: \
      --property parse.headers=true --property headers.delimiter=';' \
      --property headers.separator=, --property headers.key.separator==`,
		RunE: func(cmd *cobra.Command, _ []string) error { return runConsoleProducer(cmd, o) },
	}
	f := cmd.Flags()
	addKafkaConnFlags(cmd, &o.conn, &o.producerConfig, "producer.config")
	f.StringVar(&o.commandConfig, "command-config", "", "Producer config properties file (Kafka 4 name of --producer.config).")
	f.StringVar(&o.brokerList, "broker-list", "", "DEPRECATED, use --bootstrap-server instead.")
	f.StringVar(&o.topic, "topic", "", "REQUIRED: The topic id to produce messages to.")
	f.StringArrayVar(&o.properties, "property", nil, "A mechanism to pass user-defined properties in the form key=value to the message reader.")
	f.StringArrayVar(&o.readerProps, "reader-property", nil, "Same as --property (Kafka 4 name).")
	f.StringArrayVar(&o.prodProps, "producer-property", nil, "A mechanism to pass user-defined properties in the form key=value to the producer.")
	f.StringArrayVar(&o.commandProps, "command-property", nil, "Same as --producer-property (Kafka 4 name).")
	f.StringVar(&o.compression, "compression-codec", "", "The compression codec: either 'none', 'gzip', 'snappy', 'lz4', or 'zstd'. If specified without value, then it defaults to 'gzip'.")
	f.Lookup("compression-codec").NoOptDefVal = "gzip"
	f.SetAnnotation("compression-codec", annOptArg, []string{"true"})
	f.BoolVar(&o.sync, "sync", false, "If set message send requests to the brokers are synchronously, one at a time as they arrive.")
	f.StringVar(&o.acks, "request-required-acks", "-1", "The required acks of the producer requests.")
	f.IntVar(&o.batchSize, "batch-size", 16384, "Number of bytes to send in a single batch if they are not being sent synchronously.")
	f.IntVar(&o.lingerMs, "timeout", 1000, "If set and the producer is running in asynchronous mode, the maximum time (ms) a message will queue awaiting sufficient batch size.")
	f.IntVar(&o.requestTimeout, "request-timeout-ms", 1500, "The ack timeout of the producer requests.")
	f.IntVar(&o.maxBlockMs, "max-block-ms", 60000, "The max time that the producer will block for during a send request.")
	f.Int64Var(&o.maxMemoryBytes, "max-memory-bytes", 32*1024*1024, "The total memory used by the producer to buffer records waiting to be sent to the server.")
	f.IntVar(&o.maxPartitionMem, "max-partition-memory-bytes", 16384, "The buffer size allocated for a partition.")
	f.IntVar(&o.retries, "message-send-max-retries", 3, "Number of times a send is retried.")
	f.IntVar(&o.retryBackoffMs, "retry-backoff-ms", 100, "Backoff before each retry.")
	f.IntVar(&o.metadataExpiry, "metadata-expiry-ms", 300000, "The period after which metadata is refreshed.")
	f.IntVar(&o.socketBuffer, "socket-buffer-size", 102400, "The size of the tcp RECV size.")
	f.StringVar(&o.lineReader, "line-reader", "", "The class name of the class to use for reading lines from standard in (only the default LineMessageReader is supported).")
	return kafkaTool(cmd, "ERROR ")
}

// producerProps layers: config file < explicit options < --producer-property.
func (o *consoleProducerOpts) producerProps(cmd *cobra.Command) (map[string]string, error) {
	file, err := loadConfigFile(firstNonEmpty(o.producerConfig, o.commandConfig))
	if err != nil {
		return nil, err
	}
	explicit := map[string]string{
		"acks":       o.acks,
		"linger.ms":  strconv.Itoa(o.lingerMs),
		"batch.size": strconv.Itoa(o.batchSize),
	}
	ch := cmd.Flags().Changed
	if ch("max-partition-memory-bytes") && !ch("batch-size") {
		explicit["batch.size"] = strconv.Itoa(o.maxPartitionMem)
	}
	if ch("compression-codec") {
		explicit["compression.type"] = o.compression
	}
	if ch("request-timeout-ms") {
		explicit["request.timeout.ms"] = strconv.Itoa(o.requestTimeout)
	}
	if ch("max-memory-bytes") {
		explicit["buffer.memory"] = strconv.FormatInt(o.maxMemoryBytes, 10)
	}
	if ch("message-send-max-retries") {
		explicit["retries"] = strconv.Itoa(o.retries)
	}
	if ch("retry-backoff-ms") {
		explicit["retry.backoff.ms"] = strconv.Itoa(o.retryBackoffMs)
	}
	if ch("metadata-expiry-ms") {
		explicit["metadata.max.age.ms"] = strconv.Itoa(o.metadataExpiry)
	}
	extra, err := parseKeyValueArgs(append(append([]string{}, o.prodProps...), o.commandProps...))
	if err != nil {
		return nil, err
	}
	// Kafka applies file and --producer-property first, then the explicit
	// options that were given; acks/linger/batch defaults only fill gaps.
	props := mergeProps(file, extra)
	for k, v := range explicit {
		isDefault := (k == "acks" && !ch("request-required-acks")) || (k == "linger.ms" && !ch("timeout")) ||
			(k == "batch.size" && !ch("batch-size") && !ch("max-partition-memory-bytes"))
		if _, set := props[k]; set && isDefault {
			continue
		}
		props[k] = v
	}
	return props, nil
}

func firstNonEmpty(s ...string) string {
	for _, x := range s {
		if x != "" {
			return x
		}
	}
	return ""
}

func runConsoleProducer(cmd *cobra.Command, o *consoleProducerOpts) error {
	if o.topic == "" {
		return usageErrorf("Missing required argument \"[topic]\"")
	}
	if o.lineReader != "" && !strings.HasSuffix(o.lineReader, "LineMessageReader") {
		return usageErrorf("--line-reader %s is not supported; only the default LineMessageReader is", o.lineReader)
	}
	if o.conn.bootstrap == "" {
		o.conn.bootstrap = o.brokerList
	}
	props, err := o.producerProps(cmd)
	if err != nil {
		return err
	}
	readerProps, err := parseKeyValueArgs(append(append([]string{}, o.properties...), o.readerProps...))
	if err != nil {
		return err
	}
	lr, err := newLineReader(cmd.InOrStdin(), readerProps)
	if err != nil {
		return err
	}
	o.conn.props = props
	ctx := cmd.Context()
	cl, err := o.conn.client(ctx, roleProducer)
	if err != nil {
		return err
	}
	defer cl.Close()
	sent, err := produceLines(ctx, cl, lr, o.topic, o.sync, cmd.ErrOrStderr(), interactive(cmd.InOrStdin()), cmd.OutOrStdout())
	_ = sent
	return err
}

// interactive reports whether r is a terminal (the prompt is shown only then).
func interactive(r io.Reader) bool {
	f, ok := r.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// produceLines sends every record lr yields to topic. On a malformed line it
// first waits until every earlier record is delivered, then returns the
// line's error (or, with ignore.error, reports it on errw and goes on).
// It returns how many records were acknowledged.
func produceLines(ctx context.Context, cl *kgo.Client, lr *lineReader, topic string, syncSend bool, errw io.Writer, prompt bool, out io.Writer) (int64, error) {
	var (
		mu       sync.Mutex
		firstErr error
		acked    int64
	)
	done := func(r *kgo.Record, err error) {
		mu.Lock()
		defer mu.Unlock()
		if err != nil {
			if firstErr == nil {
				firstErr = fmt.Errorf("Error when sending message to topic %s: %w", r.Topic, err)
			}
			return
		}
		acked++
	}
	flush := func() error {
		if err := cl.Flush(ctx); err != nil {
			return err
		}
		mu.Lock()
		defer mu.Unlock()
		return firstErr
	}
	for {
		if prompt {
			fmt.Fprint(out, ">")
		}
		rec, err := lr.next()
		if err == io.EOF {
			break
		}
		var le *lineError
		if errors.As(err, &le) {
			if lr.ignoreError {
				fmt.Fprintf(errw, "WARN %v; line skipped (ignore.error=true)\n", le)
				continue
			}
			if ferr := flush(); ferr != nil {
				return acked, ferr
			}
			return acked, le
		}
		if err != nil {
			return acked, err
		}
		rec.Topic = topic
		if syncSend {
			done(rec, cl.ProduceSync(ctx, rec).FirstErr())
		} else {
			cl.Produce(ctx, rec, done)
		}
		mu.Lock()
		ferr := firstErr
		mu.Unlock()
		if ferr != nil {
			break
		}
	}
	return acked, flush()
}

// consoleConsumerOpts are kafka-console-consumer's options (Kafka's ConsoleConsumer).
type consoleConsumerOpts struct {
	conn             conn
	topic, include   string
	partition        int32
	offset           string
	group            string
	consumerConfig   string
	commandConfig    string
	consumerProps    []string
	commandProps     []string
	formatter        string
	formatterConfig  string
	properties       []string
	formatterProps   []string
	fromBeginning    bool
	maxMessages      int64
	timeoutMs        int64
	skipOnError      bool
	isolationLevel   string
	keyDeserializer  string
	valDeserializer  string
	enableSystestEvt bool
}

func newConsoleConsumerCmd() *cobra.Command {
	o := &consoleConsumerOpts{}
	cmd := &cobra.Command{
		Use:   "kafka-console-consumer",
		Short: "Read records and print them on standard output (Kafka's kafka-console-consumer.sh)",
		Example: `  kafka-console-consumer.sh --bootstrap-server localhost:9092 --topic t --from-beginning
  kafka-console-consumer.sh --bootstrap-server localhost:9092 --topic t --group g \
      --property print.key=true --property print.headers=true --property print.offset=true --property print.partition=true`,
		RunE: func(cmd *cobra.Command, _ []string) error { return runConsoleConsumer(cmd, o) },
	}
	f := cmd.Flags()
	addKafkaConnFlags(cmd, &o.conn, &o.consumerConfig, "consumer.config")
	f.StringVar(&o.commandConfig, "command-config", "", "Consumer config properties file (Kafka 4 name of --consumer.config).")
	f.StringVar(&o.topic, "topic", "", "The topic to consume on.")
	f.StringVar(&o.include, "include", "", "Regular expression specifying list of topics to include for consumption.")
	f.StringVar(&o.include, "whitelist", "", "DEPRECATED, use --include instead.")
	f.Int32Var(&o.partition, "partition", -1, "The partition to consume from. Consumption starts from the end of the partition unless '--offset' is specified.")
	f.StringVar(&o.offset, "offset", "latest", "The offset to consume from (a non-negative number), or 'earliest' which means from beginning, or 'latest' which means from end.")
	f.StringVar(&o.group, "group", "", "The consumer group id of the consumer.")
	f.StringArrayVar(&o.consumerProps, "consumer-property", nil, "A mechanism to pass user-defined properties in the form key=value to the consumer.")
	f.StringArrayVar(&o.commandProps, "command-property", nil, "Same as --consumer-property (Kafka 4 name).")
	f.StringVar(&o.formatter, "formatter", "kafka.tools.DefaultMessageFormatter", "The name of a class to use for formatting kafka messages for display (default, or NoOpMessageFormatter).")
	f.StringVar(&o.formatterConfig, "formatter-config", "", "Config properties file to initialize the message formatter.")
	f.StringArrayVar(&o.properties, "property", nil, "The properties to initialize the message formatter (print.key, print.value, print.headers, print.offset, print.partition, print.timestamp, key.separator, line.separator, headers.separator, null.literal).")
	f.StringArrayVar(&o.formatterProps, "formatter-property", nil, "Same as --property (Kafka 4 name).")
	f.BoolVar(&o.fromBeginning, "from-beginning", false, "If the consumer does not already have an established offset to consume from, start with the earliest message present in the log rather than the latest message.")
	f.Int64Var(&o.maxMessages, "max-messages", -1, "The maximum number of messages to consume before exiting. If not set, consumption is continual.")
	f.Int64Var(&o.timeoutMs, "timeout-ms", -1, "If specified, exit if no message is available for consumption for the specified interval.")
	f.BoolVar(&o.skipOnError, "skip-message-on-error", false, "If there is an error when processing a message, skip it instead of halt.")
	f.StringVar(&o.isolationLevel, "isolation-level", "read_uncommitted", "Set to read_committed in order to filter out transactional messages which are not committed.")
	f.StringVar(&o.keyDeserializer, "key-deserializer", "", "Accepted for compatibility; keys are printed as bytes.")
	f.StringVar(&o.valDeserializer, "value-deserializer", "", "Accepted for compatibility; values are printed as bytes.")
	f.BoolVar(&o.enableSystestEvt, "enable-systest-events", false, "Accepted for compatibility.")
	return kafkaTool(cmd, "ERROR ")
}

func runConsoleConsumer(cmd *cobra.Command, o *consoleConsumerOpts) error {
	ch := cmd.Flags().Changed
	if (o.topic == "") == (o.include == "") {
		return usageErrorf("Exactly one of --include/--topic is required.")
	}
	if ch("partition") && o.topic == "" {
		return usageErrorf("The topic is required when partition is specified.")
	}
	if ch("offset") && !ch("partition") {
		return usageErrorf("The partition is required when offset is specified.")
	}
	if ch("offset") && o.fromBeginning {
		return usageErrorf("Options from-beginning and offset cannot be specified together.")
	}
	if ch("partition") && o.group != "" {
		return usageErrorf("Options group and partition cannot be specified together.")
	}
	switch o.formatter {
	case "", "default", "kafka.tools.DefaultMessageFormatter", "org.apache.kafka.tools.consumer.DefaultMessageFormatter",
		"kafka.tools.NoOpMessageFormatter", "org.apache.kafka.tools.consumer.NoOpMessageFormatter", "NoOpMessageFormatter":
	default:
		return usageErrorf("formatter %q is not supported (use the default formatter or NoOpMessageFormatter)", o.formatter)
	}
	file, err := loadConfigFile(firstNonEmpty(o.consumerConfig, o.commandConfig))
	if err != nil {
		return err
	}
	extra, err := parseKeyValueArgs(append(append([]string{}, o.consumerProps...), o.commandProps...))
	if err != nil {
		return err
	}
	props := mergeProps(file, extra)
	if ch("isolation-level") || props["isolation.level"] == "" {
		props["isolation.level"] = o.isolationLevel
	}
	group := firstNonEmpty(o.group, props["group.id"])
	fprops, err := loadConfigFile(o.formatterConfig)
	if err != nil {
		return err
	}
	argProps, err := parseKeyValueArgs(append(append([]string{}, o.properties...), o.formatterProps...))
	if err != nil {
		return err
	}
	formatter := newMessageFormatter(mergeProps(fprops, argProps))
	noop := strings.HasSuffix(o.formatter, "NoOpMessageFormatter")

	start := kgo.NewOffset().AtEnd()
	if o.fromBeginning {
		start = kgo.NewOffset().AtStart()
	} else if v, ok := props["auto.offset.reset"]; ok {
		if start, err = autoOffsetReset(v); err != nil {
			return err
		}
	}
	var opts []kgo.Opt
	switch {
	case ch("partition"):
		off := start
		if ch("offset") {
			switch strings.ToLower(o.offset) {
			case "earliest":
				off = kgo.NewOffset().AtStart()
			case "latest":
				off = kgo.NewOffset().AtEnd()
			default:
				n, err := strconv.ParseInt(o.offset, 10, 64)
				if err != nil || n < 0 {
					return usageErrorf("The provided offset value '%s' is incorrect. Valid values are 'earliest', 'latest', or a non-negative long.", o.offset)
				}
				off = kgo.NewOffset().At(n)
			}
		}
		opts = append(opts, kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{o.topic: {o.partition: off}}))
	case o.include != "":
		opts = append(opts, kgo.ConsumeRegex(), kgo.ConsumeTopics(o.include), kgo.ConsumeResetOffset(start))
	default:
		opts = append(opts, kgo.ConsumeTopics(o.topic), kgo.ConsumeResetOffset(start))
	}
	if group != "" {
		opts = append(opts, kgo.ConsumerGroup(group))
	}
	o.conn.props = props
	ctx := cmd.Context()
	cl, err := o.conn.client(ctx, roleConsumer, opts...)
	if err != nil {
		return err
	}
	defer cl.Close()
	if o.topic != "" {
		if err := requireTopic(ctx, kadm.NewClient(cl), o.topic, o.partition); err != nil {
			return err
		}
	}
	var n int64
	err = consumeLoop(ctx, cl, o.maxMessages, time.Duration(o.timeoutMs)*time.Millisecond, func(r *kgo.Record, w *bufio.Writer) {
		n++
		if !noop {
			w.Write(formatter.appendRecord(nil, r))
		}
	}, cmd.OutOrStdout())
	if group != "" && propBool(props, "enable.auto.commit", true) {
		cctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		cl.CommitUncommittedOffsets(cctx)
		cancel()
	}
	fmt.Fprintf(cmd.ErrOrStderr(), "Processed a total of %d messages\n", n)
	if errors.Is(err, context.Canceled) {
		return nil // Ctrl-C ends a console consumer normally
	}
	return err
}

// requireTopic fails with exit code 4 when topic (or its partition) does not exist.
func requireTopic(ctx context.Context, adm *kadm.Client, topic string, partition int32) error {
	tds, err := adm.ListTopicsWithInternal(ctx, topic)
	if err != nil {
		return err
	}
	td, ok := tds[topic]
	if !ok || isKerr(td.Err, kerr.UnknownTopicOrPartition) {
		return unknownTopicErrorf("Topic '%s' does not exist", topic)
	}
	if td.Err != nil {
		return fmt.Errorf("topic %s: %w", topic, td.Err)
	}
	if partition >= 0 {
		if _, ok := td.Partitions[partition]; !ok {
			return unknownTopicErrorf("Partition %d of topic '%s' does not exist (the topic has %d partitions)", partition, topic, len(td.Partitions))
		}
	}
	return nil
}

// consumeLoop polls until max records (max < 0: no limit) were handed to fn,
// no record arrived for idle (idle <= 0: wait forever), or ctx ends.
func consumeLoop(ctx context.Context, cl *kgo.Client, max int64, idle time.Duration, fn func(*kgo.Record, *bufio.Writer), out io.Writer) error {
	w := bufio.NewWriterSize(out, 64<<10)
	defer w.Flush()
	var n int64
	for max < 0 || n < max {
		pctx, cancel := ctx, context.CancelFunc(func() {})
		if idle > 0 {
			pctx, cancel = context.WithTimeout(ctx, idle)
		}
		limit := -1
		if max >= 0 {
			limit = int(max - n)
		}
		fs := cl.PollRecords(pctx, limit)
		timedOut := pctx.Err() != nil && ctx.Err() == nil
		cancel()
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if fs.IsClientClosed() {
			return nil
		}
		var ferr error
		fs.EachError(func(t string, p int32, err error) {
			if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
				return
			}
			if ferr == nil {
				ferr = fmt.Errorf("consuming %s[%d]: %w", t, p, err)
			}
		})
		if ferr != nil {
			return ferr
		}
		fs.EachRecord(func(r *kgo.Record) {
			n++
			fn(r, w)
		})
		if err := w.Flush(); err != nil {
			return err
		}
		if timedOut && fs.NumRecords() == 0 {
			return nil
		}
	}
	return nil
}

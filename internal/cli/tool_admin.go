package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/sluicehq/sluice/internal/wire"
)

// getOffsetsOpts are kafka-get-offsets' options (Kafka's GetOffsetShell).
type getOffsetsOpts struct {
	conn            conn
	brokerList      string
	commandConfig   string
	topic           string
	topicPartitions string
	partitions      string
	time            string
	excludeInternal bool
}

func newGetOffsetsCmd() *cobra.Command {
	o := &getOffsetsOpts{}
	cmd := &cobra.Command{
		Use:   "kafka-get-offsets",
		Short: "Print partition offsets: topic:partition:offset (Kafka's kafka-get-offsets.sh)",
		Example: `  kafka-get-offsets.sh --bootstrap-server localhost:9092 --topic t            # latest
  kafka-get-offsets.sh --bootstrap-server localhost:9092 --topic t --time -2  # earliest`,
		RunE: func(cmd *cobra.Command, _ []string) error { return runGetOffsets(cmd, o) },
	}
	f := cmd.Flags()
	addKafkaConnFlags(cmd, &o.conn, &o.commandConfig, "command-config")
	f.StringVar(&o.brokerList, "broker-list", "", "DEPRECATED, use --bootstrap-server instead.")
	f.StringVar(&o.topic, "topic", "", "The topic to get the offsets for. It also accepts a regular expression. If not present, all authorized topics are queried.")
	f.StringVar(&o.topicPartitions, "topic-partitions", "", "Comma separated list of topic-partition patterns: topic1:1,topic2:0-3,topic3,topic4:5-,topic5:-3")
	f.StringVar(&o.partitions, "partitions", "", "Comma separated list of partition ids. If not present, all partitions of the matched topics are queried.")
	f.StringVar(&o.time, "time", "-1", "timestamp of the offsets before that: -1 or latest, -2 or earliest, -3 or max-timestamp, or a timestamp in ms")
	f.BoolVar(&o.excludeInternal, "exclude-internal-topics", false, "By default, internal topics are included. If specified, internal topics are excluded.")
	return kafkaTool(cmd, "Error occurred: ")
}

// partitionFilter is one --topic-partitions pattern: a topic regex and a
// partition range [lo, hi] (hi < 0: open).
type partitionFilter struct {
	topic  *regexp.Regexp
	lo, hi int32
}

func parseTopicPartitions(s string) ([]partitionFilter, error) {
	var out []partitionFilter
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		t, ps, hasP := strings.Cut(part, ":")
		if t == "" {
			t = ".*"
		}
		re, err := regexp.Compile("^(?:" + t + ")$")
		if err != nil {
			return nil, usageErrorf("invalid topic pattern %q: %v", t, err)
		}
		pf := partitionFilter{topic: re, lo: 0, hi: -1}
		if hasP {
			lo, hi, isRange := strings.Cut(ps, "-")
			parse := func(v string, def int32) (int32, error) {
				if v == "" {
					return def, nil
				}
				n, err := strconv.ParseInt(v, 10, 32)
				if err != nil || n < 0 {
					return 0, usageErrorf("invalid partition %q in %q", v, part)
				}
				return int32(n), nil
			}
			var err error
			if pf.lo, err = parse(lo, 0); err != nil {
				return nil, err
			}
			if !isRange {
				pf.hi = pf.lo
			} else if pf.hi, err = parse(hi, -1); err != nil {
				return nil, err
			} else if pf.hi >= 0 {
				pf.hi-- // "5-" open, "-3" means partitions below 3
			}
		}
		out = append(out, pf)
	}
	return out, nil
}

func (f partitionFilter) match(t string, p int32) bool {
	return f.topic.MatchString(t) && p >= f.lo && (f.hi < 0 || p <= f.hi)
}

func runGetOffsets(cmd *cobra.Command, o *getOffsetsOpts) error {
	if o.topicPartitions != "" && (o.topic != "" || o.partitions != "") {
		return usageErrorf("--topic-partitions cannot be used with --topic or --partitions")
	}
	var filters []partitionFilter
	var err error
	if o.topicPartitions != "" {
		if filters, err = parseTopicPartitions(o.topicPartitions); err != nil {
			return err
		}
	} else {
		t := o.topic
		if t == "" {
			t = ".*"
		}
		spec := ""
		if o.partitions == "" {
			filters, err = parseTopicPartitions(t)
		} else {
			for _, p := range strings.Split(o.partitions, ",") {
				if _, err := strconv.ParseUint(strings.TrimSpace(p), 10, 31); err != nil {
					return usageErrorf("--partitions expects a comma separated list of numeric partition ids, got %q", o.partitions)
				}
				spec += "," + t + ":" + strings.TrimSpace(p)
			}
			filters, err = parseTopicPartitions(spec)
		}
		if err != nil {
			return err
		}
	}
	if o.conn.bootstrap == "" {
		o.conn.bootstrap = o.brokerList
	}
	ctx := cmd.Context()
	adm, cl, err := o.conn.adminWithConfigFile(ctx, o.commandConfig)
	if err != nil {
		return err
	}
	defer cl.Close()
	tds, err := adm.ListTopicsWithInternal(ctx)
	if err != nil {
		return err
	}
	var topics []string
	for _, td := range tds {
		if o.excludeInternal && td.IsInternal {
			continue
		}
		for _, f := range filters {
			if f.topic.MatchString(td.Topic) {
				topics = append(topics, td.Topic)
				break
			}
		}
	}
	if len(topics) == 0 {
		if o.topic != "" {
			return unknownTopicErrorf("Could not match any topic-partitions with the specified filters")
		}
		return nil
	}
	var listed kadm.ListedOffsets
	switch strings.ToLower(o.time) {
	case "-1", "latest":
		listed, err = adm.ListEndOffsets(ctx, topics...)
	case "-2", "earliest":
		listed, err = adm.ListStartOffsets(ctx, topics...)
	case "-3", "max-timestamp":
		listed, err = adm.ListMaxTimestampOffsets(ctx, topics...)
	default:
		ts, perr := strconv.ParseInt(o.time, 10, 64)
		if perr != nil || ts < 0 {
			return usageErrorf("Malformed time argument %s. Please use -1 or latest / -2 or earliest / -3 or max-timestamp, or a specified long format timestamp", o.time)
		}
		listed, err = adm.ListOffsetsAfterMilli(ctx, ts, topics...)
	}
	if err != nil {
		return err
	}
	type row struct {
		t   string
		p   int32
		off int64
	}
	var rows []row
	listed.Each(func(l kadm.ListedOffset) {
		for _, f := range filters {
			if f.match(l.Topic, l.Partition) {
				if l.Err == nil && l.Offset >= 0 {
					rows = append(rows, row{l.Topic, l.Partition, l.Offset})
				}
				return
			}
		}
	})
	sort.Slice(rows, func(i, j int) bool {
		return rows[i].t < rows[j].t || rows[i].t == rows[j].t && rows[i].p < rows[j].p
	})
	out := cmd.OutOrStdout()
	for _, r := range rows {
		fmt.Fprintf(out, "%s:%d:%d\n", r.t, r.p, r.off)
	}
	return nil
}

// deleteRecordsOpts are kafka-delete-records' options (Kafka's DeleteRecordsCommand).
type deleteRecordsOpts struct {
	conn          conn
	commandConfig string
	jsonFile      string
}

func newDeleteRecordsCmd() *cobra.Command {
	o := &deleteRecordsOpts{}
	cmd := &cobra.Command{
		Use:   "kafka-delete-records",
		Short: "Delete records below given offsets (Kafka's kafka-delete-records.sh)",
		Example: `  echo '{"partitions":[{"topic":"t","partition":0,"offset":3}],"version":1}' > del.json
  kafka-delete-records.sh --bootstrap-server localhost:9092 --offset-json-file del.json`,
		RunE: func(cmd *cobra.Command, _ []string) error { return runDeleteRecords(cmd, o) },
	}
	addKafkaConnFlags(cmd, &o.conn, &o.commandConfig, "command-config")
	cmd.Flags().StringVar(&o.jsonFile, "offset-json-file", "", `REQUIRED: The JSON file with offset per partition. The format to use is:
{"partitions":
  [{"topic": "foo", "partition": 1, "offset": 1}],
 "version":1
}`)
	return kafkaTool(cmd, "Error: ")
}

// parseOffsetJSON reads DeleteRecordsCommand's JSON; offset -1 means the high watermark.
func parseOffsetJSON(data []byte) (kadm.Offsets, error) {
	var doc struct {
		Version    *int `json:"version"`
		Partitions []struct {
			Topic     *string `json:"topic"`
			Partition *int32  `json:"partition"`
			Offset    *int64  `json:"offset"`
		} `json:"partitions"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, usageErrorf("invalid offset JSON: %v", err)
	}
	if doc.Version != nil && *doc.Version != 1 {
		return nil, usageErrorf("Not supported version field value %d", *doc.Version)
	}
	if doc.Partitions == nil {
		return nil, usageErrorf("Missing partitions field")
	}
	os := kadm.Offsets{}
	seen := map[string]bool{}
	for _, p := range doc.Partitions {
		if p.Topic == nil || p.Partition == nil || p.Offset == nil {
			return nil, usageErrorf("each partition needs topic, partition and offset")
		}
		k := fmt.Sprintf("%s-%d", *p.Topic, *p.Partition)
		if seen[k] {
			return nil, usageErrorf("Offset json file contains duplicate topic partitions: %s", k)
		}
		seen[k] = true
		os.AddOffset(*p.Topic, *p.Partition, *p.Offset, -1)
	}
	return os, nil
}

func runDeleteRecords(cmd *cobra.Command, o *deleteRecordsOpts) error {
	if o.jsonFile == "" {
		return usageErrorf("Missing required argument \"[offset-json-file]\"")
	}
	data, err := os.ReadFile(o.jsonFile)
	if err != nil {
		return withCode(ExitUsage, err)
	}
	offsets, err := parseOffsetJSON(data)
	if err != nil {
		return err
	}
	ctx := cmd.Context()
	adm, cl, err := o.conn.adminWithConfigFile(ctx, o.commandConfig)
	if err != nil {
		return err
	}
	defer cl.Close()
	out := cmd.OutOrStdout()
	fmt.Fprintln(out, "Executing records delete operation")
	resps, err := adm.DeleteRecords(ctx, offsets)
	if err != nil {
		return err
	}
	fmt.Fprintln(out, "Records delete operation completed:")
	var firstErr error
	var all []kadm.DeleteRecordsResponse
	for _, ps := range resps {
		for _, r := range ps {
			all = append(all, r)
		}
	}
	sort.Slice(all, func(i, j int) bool {
		return all[i].Topic < all[j].Topic || all[i].Topic == all[j].Topic && all[i].Partition < all[j].Partition
	})
	for _, r := range all {
		if r.Err != nil {
			fmt.Fprintf(out, "partition: %s-%d\terror: %v\n", r.Topic, r.Partition, r.Err)
			if firstErr == nil {
				firstErr = r.Err
			}
			continue
		}
		fmt.Fprintf(out, "partition: %s-%d\tlow_watermark: %d\n", r.Topic, r.Partition, r.LowWatermark)
	}
	if firstErr != nil {
		return withCode(exitCodeOf(firstErr), fmt.Errorf("some partitions failed: %w", firstErr))
	}
	return nil
}

// logDirsOpts are kafka-log-dirs' options (Kafka's LogDirsCommand).
type logDirsOpts struct {
	conn          conn
	commandConfig string
	describe      bool
	topicList     string
	brokerList    string
}

func newLogDirsCmd() *cobra.Command {
	o := &logDirsOpts{}
	cmd := &cobra.Command{
		Use:     "kafka-log-dirs",
		Short:   "Describe log directories and partition sizes as JSON (Kafka's kafka-log-dirs.sh)",
		Example: `  kafka-log-dirs.sh --bootstrap-server localhost:9092 --describe --topic-list t`,
		RunE:    func(cmd *cobra.Command, _ []string) error { return runLogDirs(cmd, o) },
	}
	f := cmd.Flags()
	addKafkaConnFlags(cmd, &o.conn, &o.commandConfig, "command-config")
	f.BoolVar(&o.describe, "describe", false, "Describe the specified log directories on the specified brokers.")
	f.StringVar(&o.topicList, "topic-list", "", "The list of topics to be queried in the form \"topic1,topic2,topic3\". All topics will be queried if no topic list is specified")
	f.StringVar(&o.brokerList, "broker-list", "", "The list of brokers to be queried in the form \"0,1,2\". All brokers in the cluster will be queried if no broker list is specified")
	return kafkaTool(cmd, "Error: ")
}

// The JSON LogDirsCommand prints, with its key order.
type logDirsJSON struct {
	Brokers []logDirsBroker `json:"brokers"`
	Version int             `json:"version"`
}
type logDirsBroker struct {
	Broker  int32        `json:"broker"`
	LogDirs []logDirJSON `json:"logDirs"`
}
type logDirJSON struct {
	Partitions []logDirPartition `json:"partitions"`
	Error      *string           `json:"error"`
	LogDir     string            `json:"logDir"`
}
type logDirPartition struct {
	Partition string `json:"partition"`
	Size      int64  `json:"size"`
	OffsetLag int64  `json:"offsetLag"`
	IsFuture  bool   `json:"isFuture"`
	// Cleaner is Sluice's log-cleaner progress for compacted partitions
	// (absent from Kafka's output, which parsers ignore).
	Cleaner *wire.CleanerStatus `json:"cleaner,omitempty"`
}

// cleanerStatuses asks broker id for its log dirs directly, to read the
// cleaner progress Sluice adds as a tagged field (kadm does not keep tags).
func cleanerStatuses(ctx context.Context, cl *kgo.Client, id int32) map[string]*wire.CleanerStatus {
	out := map[string]*wire.CleanerStatus{}
	req := kmsg.NewPtrDescribeLogDirsRequest()
	resp, err := req.RequestWith(ctx, cl.Broker(int(id)))
	if err != nil {
		return out
	}
	for _, d := range resp.Dirs {
		for _, t := range d.Topics {
			for _, p := range t.Partitions {
				p.UnknownTags.Each(func(tag uint32, v []byte) {
					var st wire.CleanerStatus
					if tag == wire.TagCleanerStatus && json.Unmarshal(v, &st) == nil {
						out[fmt.Sprintf("%s-%d", t.Topic, p.Partition)] = &st
					}
				})
			}
		}
	}
	return out
}

func runLogDirs(cmd *cobra.Command, o *logDirsOpts) error {
	if !o.describe {
		return usageErrorf("Missing required argument \"[describe]\"")
	}
	ctx := cmd.Context()
	adm, cl, err := o.conn.adminWithConfigFile(ctx, o.commandConfig)
	if err != nil {
		return err
	}
	defer cl.Close()
	var topics []string
	for _, t := range strings.Split(o.topicList, ",") {
		if t = strings.TrimSpace(t); t != "" {
			topics = append(topics, t)
		}
	}
	tds, err := adm.ListTopicsWithInternal(ctx, topics...)
	if err != nil {
		return err
	}
	set := kadm.TopicsSet{}
	for _, td := range tds {
		if td.Err != nil {
			continue
		}
		for p := range td.Partitions {
			set.Add(td.Topic, p)
		}
	}
	brokers, err := adm.ListBrokers(ctx)
	if err != nil {
		return err
	}
	var ids []int32
	if o.brokerList != "" {
		known := map[int32]bool{}
		for _, b := range brokers {
			known[b.NodeID] = true
		}
		var missing []string
		for _, s := range strings.Split(o.brokerList, ",") {
			n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 32)
			if err != nil {
				return usageErrorf("invalid --broker-list %q", o.brokerList)
			}
			if !known[int32(n)] {
				missing = append(missing, s)
			}
			ids = append(ids, int32(n))
		}
		if len(missing) > 0 {
			return fmt.Errorf("ERROR: The given brokers do not exist from --broker-list: %s. Current existent brokers: %s",
				strings.Join(missing, ","), joinInt32(brokers.NodeIDs()))
		}
	} else {
		ids = brokers.NodeIDs()
	}
	out := cmd.OutOrStdout()
	fmt.Fprintln(out, "Querying brokers for log directories information")
	doc := logDirsJSON{Version: 1, Brokers: []logDirsBroker{}}
	for _, id := range ids {
		dirs, err := adm.DescribeBrokerLogDirs(ctx, id, set)
		if err != nil {
			return err
		}
		cleaner := cleanerStatuses(ctx, cl, id)
		b := logDirsBroker{Broker: id, LogDirs: []logDirJSON{}}
		for _, d := range dirs.Sorted() {
			ld := logDirJSON{LogDir: d.Dir, Partitions: []logDirPartition{}}
			if d.Err != nil {
				s := d.Err.Error()
				if ke, ok := d.Err.(*kerr.Error); ok {
					s = ke.Message
				}
				ld.Error = &s
			}
			for _, p := range d.Topics.Sorted() {
				name := fmt.Sprintf("%s-%d", p.Topic, p.Partition)
				ld.Partitions = append(ld.Partitions, logDirPartition{
					Partition: name, Size: p.Size, OffsetLag: p.OffsetLag, IsFuture: p.IsFuture, Cleaner: cleaner[name]})
			}
			b.LogDirs = append(b.LogDirs, ld)
		}
		doc.Brokers = append(doc.Brokers, b)
	}
	fmt.Fprintf(out, "Received log directory information from brokers %s\n", joinInt32(ids))
	js, err := json.Marshal(doc)
	if err != nil {
		return err
	}
	fmt.Fprintln(out, string(js))
	return nil
}

// brokerAPIVersionsOpts are kafka-broker-api-versions' options.
type brokerAPIVersionsOpts struct {
	conn          conn
	commandConfig string
}

func newBrokerAPIVersionsCmd() *cobra.Command {
	o := &brokerAPIVersionsOpts{}
	cmd := &cobra.Command{
		Use:     "kafka-broker-api-versions",
		Short:   "Print the API versions every broker supports (Kafka's kafka-broker-api-versions.sh)",
		Example: `  kafka-broker-api-versions.sh --bootstrap-server localhost:9092`,
		RunE:    func(cmd *cobra.Command, _ []string) error { return runBrokerAPIVersions(cmd, o) },
	}
	addKafkaConnFlags(cmd, &o.conn, &o.commandConfig, "command-config")
	return kafkaTool(cmd, "Error: ")
}

// apiVersionRange is one ApiVersions entry.
type apiVersionRange struct {
	Key      int16
	Min, Max int16
}

// formatNodeAPIVersions renders Kafka's NodeApiVersions.toString(true) for
// one broker, preceded by the node as Kafka's Node.toString prints it:
//
//	127.0.0.1:9092 (id: 1 rack: null) -> (
//		Produce(0): 0 to 11 [usable: 11],
//		...
//	)
func formatNodeAPIVersions(w io.Writer, host string, port int32, id int32, rack *string, keys []apiVersionRange) {
	r := "null"
	if rack != nil {
		r = *rack
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i].Key < keys[j].Key })
	lines := make([]string, 0, len(keys))
	for _, k := range keys {
		name := kmsg.NameForKey(k.Key)
		if name == "" {
			name = "UNKNOWN"
		}
		s := fmt.Sprintf("%s(%d): ", name, k.Key)
		if k.Min == k.Max {
			s += strconv.Itoa(int(k.Min))
		} else {
			s += fmt.Sprintf("%d to %d", k.Min, k.Max)
		}
		if req := kmsg.RequestForKey(k.Key); req != nil {
			cmax := req.MaxVersion()
			switch {
			case cmax < k.Min:
				s += " [unusable: node too new]"
			case k.Max < 0:
				s += " [unusable: node too old]"
			default:
				s += fmt.Sprintf(" [usable: %d]", min(cmax, k.Max))
			}
		}
		lines = append(lines, s)
	}
	fmt.Fprintf(w, "%s:%d (id: %d rack: %s) -> (\n\t%s\n)\n", host, port, id, r, strings.Join(lines, ",\n\t"))
}

func runBrokerAPIVersions(cmd *cobra.Command, o *brokerAPIVersionsOpts) error {
	ctx := cmd.Context()
	adm, cl, err := o.conn.adminWithConfigFile(ctx, o.commandConfig)
	if err != nil {
		return err
	}
	defer cl.Close()
	brokers, err := adm.ListBrokers(ctx)
	if err != nil {
		return err
	}
	vs, err := adm.ApiVersions(ctx)
	if err != nil {
		return err
	}
	out := cmd.OutOrStdout()
	sort.Slice(brokers, func(i, j int) bool { return brokers[i].NodeID < brokers[j].NodeID })
	for _, b := range brokers {
		v, ok := vs[b.NodeID]
		if !ok || v.Err != nil {
			fmt.Fprintf(out, "%s:%d (id: %d rack: null) -> ERROR: %v\n", b.Host, b.Port, b.NodeID, v.Err)
			continue
		}
		var keys []apiVersionRange
		for _, k := range v.Raw().ApiKeys {
			keys = append(keys, apiVersionRange{Key: k.ApiKey, Min: k.MinVersion, Max: k.MaxVersion})
		}
		formatNodeAPIVersions(out, b.Host, b.Port, b.NodeID, b.Rack, keys)
	}
	return nil
}

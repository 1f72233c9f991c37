package cli

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"io"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// Regular expressions people use to parse Kafka's perf-test output.
var (
	perfProgressRE = regexp.MustCompile(`^(\d+) records sent, ([\d.]+) records/sec \(([\d.]+) MB/sec\), ([\d.]+) ms avg latency, ([\d.]+) ms max latency\.$`)
	perfTotalRE    = regexp.MustCompile(`^(\d+) records sent, ([\d.]+) records/sec \(([\d.]+) MB/sec\), ([\d.]+) ms avg latency, ([\d.]+) ms max latency, (\d+) ms 50th, (\d+) ms 95th, (\d+) ms 99th, (\d+) ms 99\.9th\.$`)
	consPerfLineRE = regexp.MustCompile(`^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d:\d{3}, \d{4}-\d\d-\d\d \d\d:\d\d:\d\d:\d{3}, ([\d.]+), ([\d.]+), (\d+), ([\d.]+), (\d+), (-?\d+), ([\d.]+), ([\d.]+)$`)
)

func TestParseProperties(t *testing.T) {
	in := `# comment
! also a comment
bootstrap.servers = localhost:9092
acks:all
client.id   my\ client
long.value = a,\
    b,\
    c
tab=\t\u0041
empty=
`
	got, err := parseProperties(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"bootstrap.servers": "localhost:9092", "acks": "all", "client.id": "my client",
		"long.value": "a,b,c", "tab": "\tA", "empty": ""}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %q, want %q", k, got[k], v)
		}
	}
	if len(got) != len(want) {
		t.Errorf("got %d keys %v, want %d", len(got), got, len(want))
	}
}

func TestParseKeyValueArgs(t *testing.T) {
	m, err := parseKeyValueArgs([]string{"a=b", "headers.key.separator==", "c=d=e", "flag"})
	if err != nil {
		t.Fatal(err)
	}
	if m["a"] != "b" || m["headers.key.separator"] != "=" || m["c"] != "d=e" || m["flag"] != "" {
		t.Fatalf("got %v", m)
	}
	if _, err := parseKeyValueArgs([]string{"=x"}); exitCodeOf(err) != ExitUsage {
		t.Fatalf("want usage error, got %v", err)
	}
}

func TestNormalizeArgs(t *testing.T) {
	fs := pflag.NewFlagSet("t", pflag.ContinueOnError)
	fs.String("bootstrap-server", "", "")
	fs.String("topic", "", "")
	fs.String("time", "", "")
	fs.Bool("from-beginning", false, "")
	fs.StringArray("producer-props", nil, "")
	fs.SetAnnotation("producer-props", annNargs, []string{"true"})
	fs.String("compression-codec", "", "")
	fs.Lookup("compression-codec").NoOptDefVal = "gzip"
	fs.SetAnnotation("compression-codec", annOptArg, []string{"true"})
	fs.StringP("group", "g", "", "")
	for _, tc := range []struct{ in, want string }{
		{"-bootstrap-server h:1 -topic t", "--bootstrap-server h:1 --topic t"},
		{"--bootstrap h:1 --from t", "--bootstrap-server h:1 --from-beginning t"},
		{"--time -1 --topic=t", "--time -1 --topic=t"},
		{"--producer-props acks=1 linger.ms=5 --topic t", "--producer-props=acks=1 --producer-props=linger.ms=5 --topic t"},
		{"--compression-codec --topic t", "--compression-codec --topic t"},
		{"--compression-codec lz4 --topic t", "--compression-codec=lz4 --topic t"},
		{"-g grp -topic t", "-g grp --topic t"},
		{"--topic t -- -topic", "--topic t -- -topic"},
		{"--nosuch x", "--nosuch x"},
	} {
		got := strings.Join(normalizeArgs(fs, strings.Fields(tc.in)), " ")
		if got != tc.want {
			t.Errorf("normalizeArgs(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// The seed's three-partition walkthrough property set.
var walkthroughProps = map[string]string{
	"parse.key": "true", "key.separator": ":", "parse.headers": "true",
	"headers.delimiter": ";", "headers.separator": ",", "headers.key.separator": "=",
}

func TestLineReaderWalkthrough(t *testing.T) {
	in := "h1=v1,h2=v2;k1:value one\n;k2:no headers\r\nh=x;k3:v:with:colons\nno delimiter here\n"
	lr, err := newLineReader(strings.NewReader(in), walkthroughProps)
	if err != nil {
		t.Fatal(err)
	}
	r, err := lr.next()
	if err != nil || string(r.Key) != "k1" || string(r.Value) != "value one" || len(r.Headers) != 2 ||
		r.Headers[0].Key != "h1" || string(r.Headers[0].Value) != "v1" || r.Headers[1].Key != "h2" || string(r.Headers[1].Value) != "v2" {
		t.Fatalf("line 1: %+v %v", r, err)
	}
	r, err = lr.next()
	if err != nil || string(r.Key) != "k2" || string(r.Value) != "no headers" || len(r.Headers) != 0 {
		t.Fatalf("line 2: %+v %v", r, err)
	}
	r, err = lr.next()
	if err != nil || string(r.Key) != "k3" || string(r.Value) != "v:with:colons" {
		t.Fatalf("line 3: %+v %v", r, err)
	}
	_, err = lr.next()
	if err == nil || err.Error() != `line 4: no headers delimiter ";" found` {
		t.Fatalf("line 4: got %v", err)
	}
	if _, err := lr.next(); err != io.EOF {
		t.Fatalf("want EOF, got %v", err)
	}
}

func TestLineReaderErrorsAndNullMarker(t *testing.T) {
	props := map[string]string{"parse.key": "true", "key.separator": ":", "null.marker": "<null>"}
	lr, _ := newLineReader(strings.NewReader("<null>:v\nk:<null>\nnokey\n"), props)
	r, _ := lr.next()
	if r.Key != nil || string(r.Value) != "v" {
		t.Fatalf("null key: %+v", r)
	}
	r, _ = lr.next()
	if string(r.Key) != "k" || r.Value != nil {
		t.Fatalf("null value: %+v", r)
	}
	if _, err := lr.next(); err == nil || err.Error() != `line 3: no key separator ":" found` {
		t.Fatalf("got %v", err)
	}

	lr, _ = newLineReader(strings.NewReader("a;k:v\n"), walkthroughProps)
	if _, err := lr.next(); err == nil || err.Error() != `line 1: no header key separator "=" found in "a"` {
		t.Fatalf("got %v", err)
	}
	if _, err := newLineReader(strings.NewReader(""), map[string]string{"key.separator": "x", "null.marker": "x"}); exitCodeOf(err) != ExitUsage {
		t.Fatalf("want usage error, got %v", err)
	}
	// Default separators are tabs, as in Kafka.
	lr, _ = newLineReader(strings.NewReader("k\tv\n"), map[string]string{"parse.key": "true"})
	if r, _ := lr.next(); string(r.Key) != "k" || string(r.Value) != "v" {
		t.Fatalf("tab default: %+v", r)
	}
}

func TestMessageFormatter(t *testing.T) {
	rec := &kgo.Record{Key: []byte("k1"), Value: []byte("v1"), Partition: 0, Offset: 5, Timestamp: time.UnixMilli(1700000000000),
		Headers: []kgo.RecordHeader{{Key: "h1", Value: []byte("v1")}, {Key: "h2", Value: []byte("v2")}}}
	all := map[string]string{"print.timestamp": "true", "print.partition": "true", "print.offset": "true", "print.key": "true"}
	for _, tc := range []struct {
		props map[string]string
		rec   *kgo.Record
		want  string
	}{
		{nil, rec, "v1\n"},
		{all, rec, "CreateTime:1700000000000\tPartition:0\tOffset:5\tk1\tv1\n"},
		{map[string]string{"print.headers": "true", "print.key": "true"}, rec, "h1:v1,h2:v2\tk1\tv1\n"},
		{map[string]string{"print.headers": "true"}, &kgo.Record{Value: []byte("x")}, "NO_HEADERS\tx\n"},
		{map[string]string{"print.key": "true"}, &kgo.Record{Value: []byte("x")}, "null\tx\n"},
		{map[string]string{"print.key": "true", "null.literal": "NULL", "key.separator": " | "}, &kgo.Record{}, "NULL | NULL\n"},
		{map[string]string{"print.key": "true", "print.value": "false"}, rec, "k1\n"},
		{map[string]string{"print.headers": "true", "headers.separator": ";", "line.separator": "\r\n"}, rec, "h1:v1;h2:v2\tv1\r\n"},
	} {
		got := string(newMessageFormatter(tc.props).appendRecord(nil, tc.rec))
		if got != tc.want {
			t.Errorf("props %v: got %q, want %q", tc.props, got, tc.want)
		}
	}
	appended := &kgo.Record{Value: []byte("v"), Timestamp: time.UnixMilli(7)}
	appended.Attrs = logAppendAttrs(t)
	if got := string(newMessageFormatter(map[string]string{"print.timestamp": "true"}).appendRecord(nil, appended)); got != "LogAppendTime:7\tv\n" {
		t.Errorf("LogAppendTime: got %q", got)
	}
}

// logAppendAttrs returns record attributes with the LogAppendTime bit set.
func logAppendAttrs(t *testing.T) kgo.RecordAttrs {
	var a kgo.RecordAttrs
	for _, r := range []kgo.RecordAttrs{a} {
		_ = r
	}
	// RecordAttrs is a struct around uint8; bit 3 is the timestamp type.
	type attrs struct{ v uint8 }
	b := *(*kgo.RecordAttrs)(ptrOf(&attrs{v: 0x08}))
	if b.TimestampType() != 1 {
		t.Skip("cannot construct LogAppendTime attributes")
	}
	return b
}

func TestPerfStatsLinesMatchKafkaRegexes(t *testing.T) {
	var out bytes.Buffer
	start := time.Unix(1000, 0)
	s := newPerfStats(1000, &out, start)
	for i := int64(0); i < 1000; i++ {
		now := start.Add(time.Duration(i) * 6 * time.Millisecond)
		s.record(i, int(i%50), 100, now)
	}
	s.printTotal(start.Add(6 * time.Second))
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("want one progress and one total line, got %q", lines)
	}
	if m := perfProgressRE.FindStringSubmatch(lines[0]); m == nil {
		t.Fatalf("progress line %q does not match", lines[0])
	}
	m := perfTotalRE.FindStringSubmatch(lines[1])
	if m == nil {
		t.Fatalf("total line %q does not match", lines[1])
	}
	if m[1] != "1000" || m[2] != "166.666667" || m[5] != "49.00" || m[6] != "25" || m[9] != "49" {
		t.Fatalf("total line fields %q", m[1:])
	}
}

func TestConsumerPerfSummary(t *testing.T) {
	start := time.Date(2024, 1, 2, 3, 4, 5, 678e6, time.UTC)
	r := &consumerPerfResult{start: start, end: start.Add(2 * time.Second), bytes: 2 << 20, msgs: 2000, joinMs: 500}
	line := r.summaryLine(javaDate("yyyy-MM-dd HH:mm:ss:SSS"))
	want := "2024-01-02 03:04:05:678, 2024-01-02 03:04:07:678, 2.0000, 1.0000, 2000, 1000.0000, 500, 1500, 1.3333, 1333.3333"
	if line != want {
		t.Fatalf("got  %q\nwant %q", line, want)
	}
	if !consPerfLineRE.MatchString(line) {
		t.Fatal("summary does not match the usual regex")
	}
	if len(strings.Split(consumerPerfHeader, ", ")) != 10 {
		t.Fatal("header must have 10 columns")
	}
}

func TestFormatNodeAPIVersions(t *testing.T) {
	var b bytes.Buffer
	formatNodeAPIVersions(&b, "127.0.0.1", 9092, 1, nil, []apiVersionRange{{Key: 1, Min: 4, Max: 99}, {Key: 0, Min: 0, Max: 11}, {Key: 18, Min: 3, Max: 3}})
	want := "127.0.0.1:9092 (id: 1 rack: null) -> (\n\tProduce(0): 0 to 11 [usable: 11],\n\tFetch(1): 4 to 99 [usable: 18],\n\tApiVersions(18): 3 [usable: 3]\n)\n"
	if got := b.String(); !strings.HasPrefix(got, "127.0.0.1:9092 (id: 1 rack: null) -> (\n\tProduce(0): 0 to 11 [usable: 11],\n\tFetch(1): 4 to 99 [usable: ") ||
		!strings.HasSuffix(got, "],\n\tApiVersions(18): 3 [usable: 3]\n)\n") {
		t.Fatalf("got\n%s\nwant like\n%s", got, want)
	}
}

func TestTopicDescribeLines(t *testing.T) {
	var b bytes.Buffer
	v := "1000"
	d := &topicDescription{Topic: "t", ID: kadm.TopicID{1, 2, 3}, PartitionCount: 3, ReplicationFactor: 1,
		Configs: []kadm.Config{{Key: "retention.ms", Value: &v, Source: 1}, {Key: "segment.bytes", Value: &v, Source: 4}, {Key: "flush.ms", Value: &v, Source: 5}}}
	writeTopicHeader(&b, d)
	writePartitionLine(&b, "t", kadm.PartitionDetail{Partition: 0, Leader: 1, Replicas: []int32{1}, ISR: []int32{1}})
	writePartitionLine(&b, "t", kadm.PartitionDetail{Partition: 1, Leader: -1, Replicas: []int32{1, 2}, ISR: nil})
	want := "Topic: t\tTopicId: AQIDAAAAAAAAAAAAAAAAAA\tPartitionCount: 3\tReplicationFactor: 1\tConfigs: retention.ms=1000,segment.bytes=1000\n" +
		"\tTopic: t\tPartition: 0\tLeader: 1\tReplicas: 1\tIsr: 1\tElr: \tLastKnownElr: \n" +
		"\tTopic: t\tPartition: 1\tLeader: none\tReplicas: 1,2\tIsr: \tElr: \tLastKnownElr: \n"
	if b.String() != want {
		t.Fatalf("got\n%q\nwant\n%q", b.String(), want)
	}
}

func TestGroupOffsetsLayout(t *testing.T) {
	var b bytes.Buffer
	writeGroupOffsets(&b, []groupOffsetRow{
		{Group: "g", Topic: "t", Partition: 0, CurrentOffset: 3, LogEndOffset: 5, Lag: 2, ConsumerID: "c-1", Host: "/127.0.0.1", ClientID: "cl"},
		{Group: "g", Topic: "t", Partition: 1, CurrentOffset: -1, LogEndOffset: 7, Lag: -1, ConsumerID: "-", Host: "-", ClientID: "-"},
	})
	want := "\nGROUP           TOPIC           PARTITION  CURRENT-OFFSET  LOG-END-OFFSET  LAG             CONSUMER-ID     HOST            CLIENT-ID" +
		"\ng               t               0          3               5               2               c-1             /127.0.0.1      cl" +
		"\ng               t               1          -               7               -               -               -               -\n"
	if b.String() != want {
		t.Fatalf("got\n%q\nwant\n%q", b.String(), want)
	}
}

func TestParseAddConfigAndEntryLine(t *testing.T) {
	got, err := parseAddConfig("k1=v1,k2=[a,b,c],k3=v3")
	if err != nil || len(got) != 3 || got[1] != [2]string{"k2", "a,b,c"} || got[2] != [2]string{"k3", "v3"} {
		t.Fatalf("got %v %v", got, err)
	}
	if _, err := parseAddConfig("novalue"); exitCodeOf(err) != ExitUsage {
		t.Fatalf("want usage error, got %v", err)
	}
	v, d := "1000", "604800000"
	line := configEntryLine(kadm.Config{Key: "retention.ms", Value: &v, Source: 1, Synonyms: []kadm.ConfigSynonym{
		{Key: "retention.ms", Value: &v, Source: 1}, {Key: "log.retention.ms", Value: &d, Source: 5}}})
	want := "  retention.ms=1000 sensitive=false synonyms={DYNAMIC_TOPIC_CONFIG:retention.ms=1000, DEFAULT_CONFIG:log.retention.ms=604800000}"
	if line != want {
		t.Fatalf("got  %q\nwant %q", line, want)
	}
}

func TestParseOffsetJSONAndTopicPartitions(t *testing.T) {
	os, err := parseOffsetJSON([]byte(`{"partitions": [{"topic": "foo", "partition": 1, "offset": 3}], "version": 1}`))
	if err != nil {
		t.Fatal(err)
	}
	if o, ok := os.Lookup("foo", 1); !ok || o.At != 3 {
		t.Fatalf("got %v", os)
	}
	for _, bad := range []string{`{`, `{"version":2,"partitions":[]}`, `{"version":1}`,
		`{"partitions":[{"topic":"a","partition":0,"offset":1},{"topic":"a","partition":0,"offset":2}]}`} {
		if _, err := parseOffsetJSON([]byte(bad)); exitCodeOf(err) != ExitUsage {
			t.Errorf("%s: want usage error, got %v", bad, err)
		}
	}
	fs, err := parseTopicPartitions("t1:1,t2:0-3,t3,t4:5-,t5:-3")
	if err != nil {
		t.Fatal(err)
	}
	check := func(i int, topic string, p int32, want bool) {
		if got := fs[i].match(topic, p); got != want {
			t.Errorf("filter %d match(%s,%d) = %v, want %v", i, topic, p, got, want)
		}
	}
	check(0, "t1", 1, true)
	check(0, "t1", 2, false)
	check(1, "t2", 2, true)
	check(1, "t2", 3, false)
	check(2, "t3", 99, true)
	check(3, "t4", 4, false)
	check(3, "t4", 500, true)
	check(4, "t5", 2, true)
	check(4, "t5", 3, false)
}

func TestToolNameAndUsageExitCodes(t *testing.T) {
	for in, want := range map[string]string{"/usr/bin/kafka-topics.sh": "kafka-topics", "kafka-topics": "kafka-topics", "sluice": "sluice"} {
		if got := toolName(in); got != want {
			t.Errorf("toolName(%q) = %q", in, got)
		}
	}
	for _, tc := range []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"kafka-topics.sh", "--list"}, ExitUsage, "missing required option --bootstrap-server"},
		{[]string{"kafka-topics.sh", "--bootstrap-server", "h:1", "--bogus"}, ExitUsage, "unknown flag: --bogus"},
		{[]string{"kafka-topics.sh", "--bootstrap-server", "h:1"}, ExitUsage, "exactly one action"},
		{[]string{"sluice", "kafka-console-consumer", "--bootstrap-server", "h:1"}, ExitUsage, "Exactly one of --include/--topic is required."},
		{[]string{"sluice", "nosuch"}, ExitUsage, "unknown command"},
		{[]string{"kafka-producer-perf-test", "--topic", "t"}, ExitUsage, "--num-records is required"},
		{[]string{"sluice", "topic", "create"}, ExitUsage, "expects 1 argument"},
	} {
		_, stderr, code := runCLI(t, "", tc.args...)
		if code != tc.code || !strings.Contains(stderr, tc.msg) {
			t.Errorf("%v: code %d stderr %q, want %d and %q", tc.args, code, stderr, tc.code, tc.msg)
		}
	}
}

func TestUnreachableBroker(t *testing.T) {
	t.Setenv("SLUICE_CONNECT_TIMEOUT", "1s")
	start := time.Now()
	_, stderr, code := runCLI(t, "", "kafka-topics.sh", "--bootstrap-server", "127.0.0.1:1", "--list")
	if code != ExitUnreachable || !strings.Contains(stderr, "cannot reach broker at 127.0.0.1:1: ") {
		t.Fatalf("code %d stderr %q", code, stderr)
	}
	if time.Since(start) > 5*time.Second {
		t.Fatalf("took %s", time.Since(start))
	}
	t.Setenv("SLUICE_BOOTSTRAP", "127.0.0.1:1")
	if _, stderr, code := runCLI(t, "", "sluice", "topic", "list"); code != ExitUnreachable || !strings.Contains(stderr, "127.0.0.1:1") {
		t.Fatalf("SLUICE_BOOTSTRAP: code %d stderr %q", code, stderr)
	}
}

func TestExitCodeOf(t *testing.T) {
	if exitCodeOf(nil) != 0 || exitCodeOf(errors.New("x")) != 1 || exitCodeOf(context.Canceled) != ExitInterrupted {
		t.Fatal("basic codes")
	}
	if exitCodeOf(unknownTopicErrorf("x")) != ExitUnknownTopic {
		t.Fatal("unknown topic")
	}
}

func TestProgressAndHistogram(t *testing.T) {
	s := renderProgress(450, 1000, 9*time.Second, "rec", 20)
	if !strings.HasPrefix(s, " 45% [=========>          ] 450 rec/1.0 krec  50 rec/s  ETA 11s") {
		t.Fatalf("got %q", s)
	}
	var ns []int64
	for i := 1; i <= 1000; i++ {
		ns = append(ns, int64(i)*int64(time.Millisecond/10))
	}
	sum, hist := summarize(ns)
	if sum.P50 != 50 || sum.P99 != 99 || sum.P999 != 99.9 || sum.Max != 100 {
		t.Fatalf("summary %+v", sum)
	}
	var total int64
	for _, h := range hist {
		total += h.Count
	}
	if total != 1000 {
		t.Fatalf("histogram holds %d samples", total)
	}
	var svg bytes.Buffer
	writeLatencySVG(&svg, "test <plot>", sum, hist)
	dec := xml.NewDecoder(&svg)
	for {
		if _, err := dec.Token(); err == io.EOF {
			break
		} else if err != nil {
			t.Fatalf("SVG is not well-formed XML: %v", err)
		}
	}
}

func TestISODurationAndDatetime(t *testing.T) {
	for in, want := range map[string]time.Duration{"PT1H": time.Hour, "P1DT2H3M4S": 26*time.Hour + 3*time.Minute + 4*time.Second, "PT0.5S": 500 * time.Millisecond, "-PT10M": -10 * time.Minute} {
		if got, err := parseISODuration(in); err != nil || got != want {
			t.Errorf("%s: got %v %v", in, got, err)
		}
	}
	if _, err := parseISODuration("1h"); err == nil {
		t.Error("1h accepted")
	}
	if tm, err := parseKafkaDatetime("2024-01-02T03:04:05.678Z"); err != nil || tm.UnixMilli() != 1704164645678 {
		t.Errorf("got %v %v", tm, err)
	}
}

func TestInstallTools(t *testing.T) {
	dir := t.TempDir()
	stdout, stderr, code := runCLI(t, "", "sluice", "install-tools", dir)
	if code != 0 {
		t.Fatalf("code %d: %s", code, stderr)
	}
	if !strings.Contains(stdout, "Linked 24 Kafka tool names") {
		t.Fatalf("stdout %q", stdout)
	}
	for _, n := range []string{"kafka-topics.sh", "kafka-topics", "kafka-console-consumer.sh", "kafka-configs", "kafka-dump-log.sh"} {
		if _, err := readlink(dir + "/" + n); err != nil {
			t.Errorf("%s: %v", n, err)
		}
	}
	if _, _, code := runCLI(t, "", "sluice", "install-tools", dir); code == 0 {
		t.Error("second install without --force should fail")
	}
}

func TestCompletion(t *testing.T) {
	for _, sh := range []string{"bash", "zsh", "fish"} {
		out, stderr, code := runCLI(t, "", "sluice", "completion", sh)
		if code != 0 || !strings.Contains(out, "sluice") {
			t.Errorf("%s: code %d %s", sh, code, stderr)
		}
	}
}

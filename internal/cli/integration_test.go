package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/sluicehq/sluice/embed"
)

// One embedded broker serves every integration test (the machine is small).
var (
	brokerOnce sync.Once
	brokerAddr string
	brokerErr  error
)

func broker(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("integration test")
	}
	brokerOnce.Do(func() {
		dir, err := os.MkdirTemp("", "sluice-cli-test-")
		if err != nil {
			brokerErr = err
			return
		}
		b, err := embed.Start(context.Background(), embed.Options{DataDir: dir,
			Overrides: map[string]string{"group.initial.rebalance.delay.ms": "0"}})
		if err != nil {
			brokerErr = err
			return
		}
		brokerAddr = b.Addr()
	})
	if brokerErr != nil {
		t.Fatalf("starting embedded broker: %v", brokerErr)
	}
	return brokerAddr
}

func mustRun(t *testing.T, stdin string, argv ...string) (string, string) {
	t.Helper()
	out, errOut, code := runCLI(t, stdin, argv...)
	if code != 0 {
		t.Fatalf("%v: exit %d\nstdout: %s\nstderr: %s", argv, code, out, errOut)
	}
	return out, errOut
}

// TestQuickstart runs Kafka's quickstart through the Kafka-named entry points.
func TestQuickstart(t *testing.T) {
	b := broker(t)
	out, _ := mustRun(t, "", "kafka-topics.sh", "--create", "--topic", "quickstart-events", "--bootstrap-server", b)
	if out != "Created topic quickstart-events.\n" {
		t.Fatalf("create: %q", out)
	}
	out, _ = mustRun(t, "", "/opt/kafka/bin/kafka-topics.sh", "--describe", "--topic", "quickstart-events", "--bootstrap-server", b)
	re := regexp.MustCompile(`^Topic: quickstart-events\tTopicId: [A-Za-z0-9_-]{22}\tPartitionCount: 1\tReplicationFactor: 1\tConfigs: [^\n]*\n` +
		`\tTopic: quickstart-events\tPartition: 0\tLeader: \d+\tReplicas: \d+\tIsr: \d+\tElr: [^\t]*\tLastKnownElr: [^\n]*\n$`)
	if !re.MatchString(out) {
		t.Fatalf("describe output does not match Kafka's layout:\n%q", out)
	}
	mustRun(t, "This is my first event\nThis is my second event\n",
		"kafka-console-producer.sh", "--topic", "quickstart-events", "--bootstrap-server", b)
	out, errOut := mustRun(t, "", "kafka-console-consumer.sh", "--topic", "quickstart-events", "--from-beginning",
		"--bootstrap-server", b, "--max-messages", "2")
	if out != "This is my first event\nThis is my second event\n" {
		t.Fatalf("consume: %q", out)
	}
	if !strings.Contains(errOut, "Processed a total of 2 messages") {
		t.Fatalf("stderr: %q", errOut)
	}
	out, _ = mustRun(t, "", "kafka-topics", "--list", "--bootstrap-server", b, "--exclude-internal")
	if !strings.Contains(out, "quickstart-events\n") {
		t.Fatalf("list: %q", out)
	}
	// single-dash long options, as jopt-simple allows
	mustRun(t, "", "kafka-topics.sh", "-bootstrap-server", b, "-describe", "-topic", "quickstart-events")
}

var walkthroughArgs = []string{"--property", "parse.key=true", "--property", "key.separator=:",
	"--property", "parse.headers=true", "--property", "headers.delimiter=;",
	"--property", "headers.separator=,", "--property", "headers.key.separator=="}

// TestThreePartitionWalkthrough: keys and headers in, two groups of two
// consumers out, with print.key/print.headers/print.offset/print.partition.
func TestThreePartitionWalkthrough(t *testing.T) {
	b := broker(t)
	mustRun(t, "", "kafka-topics.sh", "--create", "--topic", "walk", "--partitions", "3", "--replication-factor", "1", "--bootstrap-server", b)
	out, _ := mustRun(t, "", "kafka-topics.sh", "--describe", "--topic", "walk", "--bootstrap-server", b)
	if n := strings.Count(out, "\tTopic: walk\tPartition: "); n != 3 || !strings.Contains(out, "PartitionCount: 3\t") {
		t.Fatalf("describe: %q", out)
	}
	var input strings.Builder
	const n = 30
	for i := 0; i < n; i++ {
		fmt.Fprintf(&input, "source=walk,seq=%d;key%d:value %d\n", i, i%6, i)
	}
	args := append([]string{"kafka-console-producer.sh", "--bootstrap-server", b, "--topic", "walk"}, walkthroughArgs...)
	mustRun(t, input.String(), args...)

	lineRE := regexp.MustCompile(`^Partition:([0-2])\tOffset:(\d+)\tsource:walk,seq:(\d+)\tkey(\d)\tvalue (\d+)$`)
	for _, group := range []string{"walk-g1", "walk-g2"} {
		var wg sync.WaitGroup
		outs := make([]string, 2)
		for c := 0; c < 2; c++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				o, e, code := runCLI(t, "", "kafka-console-consumer.sh", "--bootstrap-server", b, "--topic", "walk",
					"--group", group, "--from-beginning", "--timeout-ms", "6000",
					"--property", "print.key=true", "--property", "print.headers=true",
					"--property", "print.offset=true", "--property", "print.partition=true")
				if code != 0 {
					t.Errorf("consumer %d of %s: exit %d: %s", c, group, code, e)
				}
				outs[c] = o
			}()
		}
		wg.Wait()
		seen := map[string]bool{}
		keyPartition := map[string]string{}
		for _, o := range outs {
			for _, line := range strings.Split(strings.TrimSuffix(o, "\n"), "\n") {
				if line == "" {
					continue
				}
				m := lineRE.FindStringSubmatch(line)
				if m == nil {
					t.Fatalf("%s: line %q does not match the DefaultMessageFormatter layout", group, line)
				}
				if m[3] != m[5] {
					t.Fatalf("header seq %s differs from value %s", m[3], m[5])
				}
				if p, ok := keyPartition[m[4]]; ok && p != m[1] {
					t.Fatalf("key%s in partitions %s and %s", m[4], p, m[1])
				}
				keyPartition[m[4]] = m[1]
				if seen[m[5]] {
					t.Fatalf("%s: record %s consumed twice", group, m[5])
				}
				seen[m[5]] = true
			}
		}
		if len(seen) != n {
			t.Fatalf("%s consumed %d distinct records, want %d\n%q", group, len(seen), n, outs)
		}
	}
	out, _ = mustRun(t, "", "kafka-consumer-groups.sh", "--bootstrap-server", b, "--describe", "--group", "walk-g1")
	rowRE := regexp.MustCompile(`(?m)^walk-g1\s+walk\s+(\d)\s+(\d+)\s+(\d+)\s+0\s+`)
	if rows := rowRE.FindAllStringSubmatch(out, -1); len(rows) != 3 {
		t.Fatalf("group describe: %q", out)
	}
	if !strings.Contains(out, "GROUP           TOPIC           PARTITION  CURRENT-OFFSET  LOG-END-OFFSET  LAG             CONSUMER-ID     HOST            CLIENT-ID") {
		t.Fatalf("group describe header: %q", out)
	}
	out, _ = mustRun(t, "", "kafka-consumer-groups.sh", "--bootstrap-server", b, "--list")
	if !strings.Contains(out, "walk-g1\n") || !strings.Contains(out, "walk-g2\n") {
		t.Fatalf("group list: %q", out)
	}
	out, _ = mustRun(t, "", "kafka-consumer-groups.sh", "--bootstrap-server", b, "--reset-offsets", "--group", "walk-g1",
		"--topic", "walk", "--to-earliest", "--execute")
	if strings.Count(out, "walk-g1") != 3 || !strings.Contains(out, "NEW-OFFSET") {
		t.Fatalf("reset: %q", out)
	}
	out, _ = mustRun(t, "", "kafka-consumer-groups.sh", "--bootstrap-server", b, "--describe", "--group", "walk-g1")
	if rows := regexp.MustCompile(`(?m)^walk-g1\s+walk\s+\d\s+0\s+\d+\s+[1-9]`).FindAllString(out, -1); len(rows) != 3 {
		t.Fatalf("after reset: %q", out)
	}
	out, _ = mustRun(t, "", "kafka-consumer-groups.sh", "--bootstrap-server", b, "--delete", "--group", "walk-g2")
	if out != "Deletion of requested consumer groups ('walk-g2') was successful.\n" {
		t.Fatalf("delete: %q", out)
	}
	if _, e, code := runCLI(t, "", "kafka-consumer-groups.sh", "--bootstrap-server", b, "--describe", "--group", "walk-g2"); code != ExitUnknownGroup {
		t.Fatalf("describe deleted group: exit %d %s", code, e)
	}
}

// TestBadLine: every line before the bad one is delivered, then a one-line
// error and a non-zero exit; with ignore.error=true the line is skipped.
func TestBadLine(t *testing.T) {
	b := broker(t)
	mustRun(t, "", "kafka-topics.sh", "--create", "--topic", "badline", "--partitions", "1", "--bootstrap-server", b)
	input := "a=1;k1:one\na=2;k2:two\nthis line has no header delimiter\na=4;k4:four\n"
	args := append([]string{"kafka-console-producer.sh", "--bootstrap-server", b, "--topic", "badline"}, walkthroughArgs...)
	_, errOut, code := runCLI(t, input, args...)
	if code == 0 {
		t.Fatal("bad line: exit 0")
	}
	if strings.TrimSpace(errOut) != `ERROR line 3: no headers delimiter ";" found` {
		t.Fatalf("stderr %q", errOut)
	}
	out, _ := mustRun(t, "", "kafka-console-consumer.sh", "--bootstrap-server", b, "--topic", "badline", "--from-beginning",
		"--timeout-ms", "3000", "--property", "print.key=true")
	if out != "k1\tone\nk2\ttwo\n" {
		t.Fatalf("delivered before the bad line: %q", out)
	}
	_, errOut = mustRun(t, input, append(args, "--property", "ignore.error=true")...)
	if !strings.Contains(errOut, "line 3: no headers delimiter") {
		t.Fatalf("ignore.error stderr %q", errOut)
	}
	out, _ = mustRun(t, "", "kafka-console-consumer.sh", "--bootstrap-server", b, "--topic", "badline", "--from-beginning",
		"--max-messages", "5", "--property", "print.key=true")
	if out != "k1\tone\nk2\ttwo\nk1\tone\nk2\ttwo\nk4\tfour\n" {
		t.Fatalf("after ignore.error: %q", out)
	}
}

func TestPerfTools(t *testing.T) {
	b := broker(t)
	out, _ := mustRun(t, "", "kafka-producer-perf-test.sh", "--topic", "perf", "--num-records", "5000", "--record-size", "100",
		"--throughput", "-1", "--producer-props", "bootstrap.servers="+b, "acks=all", "linger.ms=1")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	last := lines[len(lines)-1]
	m := perfTotalRE.FindStringSubmatch(last)
	if m == nil || m[1] != "5000" {
		t.Fatalf("summary %q does not match", last)
	}
	for _, l := range lines[:len(lines)-1] {
		if !perfProgressRE.MatchString(l) {
			t.Fatalf("progress line %q does not match", l)
		}
	}
	t.Logf("kafka-producer-perf-test: %s", last)
	out, _ = mustRun(t, "", "kafka-consumer-perf-test.sh", "--bootstrap-server", b, "--topic", "perf", "--messages", "5000", "--timeout", "20000")
	lines = strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 2 || lines[0] != consumerPerfHeader {
		t.Fatalf("consumer perf output %q", out)
	}
	if m := consPerfLineRE.FindStringSubmatch(lines[1]); m == nil || m[3] != "5000" {
		t.Fatalf("consumer perf line %q", lines[1])
	}
	t.Logf("kafka-consumer-perf-test: %s", lines[1])
	out, _ = mustRun(t, "", "kafka-get-offsets.sh", "--bootstrap-server", b, "--topic", "perf")
	if out != "perf:0:5000\n" && !strings.Contains(out, "perf:0:") {
		t.Fatalf("get-offsets %q", out)
	}
	total := int64(0)
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		var p, off int64
		if _, err := fmt.Sscanf(l, "perf:%d:%d", &p, &off); err != nil {
			t.Fatalf("line %q: %v", l, err)
		}
		total += off
	}
	if total != 5000 {
		t.Fatalf("offsets sum to %d", total)
	}
}

func TestAdminTools(t *testing.T) {
	b := broker(t)
	mustRun(t, "", "kafka-topics.sh", "--create", "--topic", "adm", "--partitions", "2", "--config", "retention.ms=3600000", "--bootstrap-server", b)
	if _, e, code := runCLI(t, "", "kafka-topics.sh", "--create", "--topic", "adm", "--bootstrap-server", b); code != 1 || !strings.Contains(e, "Topic 'adm' already exists.") {
		t.Fatalf("duplicate create: %d %q", code, e)
	}
	mustRun(t, "", "kafka-topics.sh", "--create", "--topic", "adm", "--if-not-exists", "--bootstrap-server", b)
	out, _ := mustRun(t, "", "kafka-topics.sh", "--describe", "--topics-with-overrides", "--bootstrap-server", b, "--topic", "adm")
	if !strings.Contains(out, "Configs: retention.ms=3600000") || strings.Contains(out, "\tPartition:") {
		t.Fatalf("with overrides: %q", out)
	}
	mustRun(t, "", "kafka-topics.sh", "--alter", "--topic", "adm", "--partitions", "4", "--bootstrap-server", b)
	out, _ = mustRun(t, "", "kafka-topics.sh", "--describe", "--topic", "adm", "--bootstrap-server", b)
	if !strings.Contains(out, "PartitionCount: 4") {
		t.Fatalf("after alter: %q", out)
	}
	if _, e, code := runCLI(t, "", "kafka-topics.sh", "--describe", "--topic", "nosuch", "--bootstrap-server", b); code != ExitUnknownTopic || !strings.Contains(e, "Topic 'nosuch' does not exist as expected") {
		t.Fatalf("unknown topic: %d %q", code, e)
	}
	if _, e, code := runCLI(t, "", "kafka-console-consumer.sh", "--topic", "nosuch", "--bootstrap-server", b); code != ExitUnknownTopic {
		t.Fatalf("consumer unknown topic: %d %q", code, e)
	}
	mustRun(t, "", "kafka-topics.sh", "--describe", "--topic", "nosuch", "--if-exists", "--bootstrap-server", b)

	mustRun(t, "a\nb\nc\n", "kafka-console-producer.sh", "--topic", "adm", "--bootstrap-server", b, "--sync", "--compression-codec", "--request-required-acks", "1")
	dir := t.TempDir()
	js := filepath.Join(dir, "del.json")
	os.WriteFile(js, []byte(`{"partitions":[{"topic":"adm","partition":0,"offset":0}],"version":1}`), 0o644)
	out, _ = mustRun(t, "", "kafka-delete-records.sh", "--bootstrap-server", b, "--offset-json-file", js)
	if out != "Executing records delete operation\nRecords delete operation completed:\npartition: adm-0\tlow_watermark: 0\n" {
		t.Fatalf("delete-records: %q", out)
	}
	out, _ = mustRun(t, "", "kafka-log-dirs.sh", "--bootstrap-server", b, "--describe", "--topic-list", "adm")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 3 || lines[0] != "Querying brokers for log directories information" || !strings.HasPrefix(lines[1], "Received log directory information from brokers ") {
		t.Fatalf("log-dirs: %q", out)
	}
	var doc logDirsJSON
	if err := json.Unmarshal([]byte(lines[2]), &doc); err != nil || doc.Version != 1 || len(doc.Brokers) != 1 {
		t.Fatalf("log-dirs JSON %q: %v", lines[2], err)
	}
	if !strings.HasPrefix(lines[2], `{"brokers":[{"broker":`) || !strings.Contains(lines[2], `"partition":"adm-0","size":`) {
		t.Fatalf("log-dirs JSON layout %q", lines[2])
	}
	out, _ = mustRun(t, "", "kafka-broker-api-versions.sh", "--bootstrap-server", b)
	if !regexp.MustCompile(`^127\.0\.0\.1:\d+ \(id: \d+ rack: null\) -> \(\n\tProduce\(0\): \d+ to \d+ \[usable: \d+\],\n\tFetch\(1\): `).MatchString(out) || !strings.HasSuffix(out, "\n)\n") {
		t.Fatalf("api versions: %q", out)
	}
	out, _ = mustRun(t, "", "kafka-configs.sh", "--bootstrap-server", b, "--alter", "--entity-type", "topics", "--entity-name", "adm", "--add-config", "cleanup.policy=compact,retention.ms=1000")
	if out != "Completed updating config for topic adm.\n" {
		t.Fatalf("configs alter: %q", out)
	}
	out, _ = mustRun(t, "", "kafka-configs.sh", "--bootstrap-server", b, "--describe", "--entity-type", "topics", "--entity-name", "adm")
	if !strings.HasPrefix(out, "Dynamic configs for topic adm are:\n") || !strings.Contains(out, "  cleanup.policy=compact sensitive=false synonyms={DYNAMIC_TOPIC_CONFIG:cleanup.policy=compact") {
		t.Fatalf("configs describe: %q", out)
	}
	mustRun(t, "", "kafka-configs.sh", "--bootstrap-server", b, "--alter", "--topic", "adm", "--delete-config", "cleanup.policy")
	out, _ = mustRun(t, "", "kafka-configs.sh", "--bootstrap-server", b, "--describe", "--topic", "adm")
	if strings.Contains(out, "cleanup.policy") {
		t.Fatalf("after delete-config: %q", out)
	}
	mustRun(t, "", "kafka-topics.sh", "--delete", "--topic", "adm", "--bootstrap-server", b)
}

func TestFriendlyCommands(t *testing.T) {
	b := broker(t)
	t.Setenv("SLUICE_BOOTSTRAP", b)
	mustRun(t, "", "sluice", "topic", "create", "orders", "-p", "3", "-c", "retention.ms=86400000")
	out, _ := mustRun(t, "", "sluice", "topic", "list", "-o", "json")
	var list []map[string]any
	if err := json.Unmarshal([]byte(out), &list); err != nil {
		t.Fatalf("list json %q: %v", out, err)
	}
	mustRun(t, "k1:hello\nk2:world\nk3:again\n", "sluice", "produce", "orders", "--key-separator", ":", "-H", "src=test")
	out, _ = mustRun(t, "", "sluice", "consume", "orders", "--from-beginning", "-n", "3", "--print-key", "--print-headers")
	got := strings.Split(strings.TrimSpace(out), "\n")
	sort.Strings(got)
	if strings.Join(got, "|") != "src:test\tk1\thello|src:test\tk2\tworld|src:test\tk3\tagain" {
		t.Fatalf("consume: %q", out)
	}
	out, _ = mustRun(t, "", "sluice", "consume", "orders", "--from-beginning", "-n", "1", "-o", "json", "-g", "friendly")
	var rec recordJSON
	if err := json.Unmarshal([]byte(out), &rec); err != nil || rec.Topic != "orders" || rec.Headers["src"] != "test" {
		t.Fatalf("consume json %q: %v", out, err)
	}
	out, _ = mustRun(t, "", "sluice", "topic", "describe", "orders", "-o", "json")
	var views []topicView
	if err := json.Unmarshal([]byte(out), &views); err != nil || len(views) != 1 || views[0].Partitions != 3 || views[0].Configs["retention.ms"] != "86400000" {
		t.Fatalf("describe json %q: %v", out, err)
	}
	var recs int64
	for _, p := range views[0].PartitionDetails {
		recs += p.EndOffset - p.StartOffset
	}
	if recs != 3 {
		t.Fatalf("describe counts %d records", recs)
	}
	out, _ = mustRun(t, "", "sluice", "topic", "describe", "orders")
	if !strings.Contains(out, "PARTITION") || strings.Contains(out, "\x1b[") {
		t.Fatalf("describe table (no colour off a terminal): %q", out)
	}
	mustRun(t, "", "sluice", "group", "list")
	mustRun(t, "", "sluice", "group", "describe", "friendly")
	out, _ = mustRun(t, "", "sluice", "group", "reset", "friendly", "--topic", "orders", "--to", "earliest")
	if !strings.Contains(out, "NEW-OFFSET") {
		t.Fatalf("group reset: %q", out)
	}
	if _, e, code := runCLI(t, "", "sluice", "consume", "nosuch", "-n", "1"); code != ExitUnknownTopic {
		t.Fatalf("unknown topic: %d %q", code, e)
	}
	file := filepath.Join(t.TempDir(), "lines.txt")
	os.WriteFile(file, []byte(strings.Repeat("line\n", 1000)), 0o644)
	_, e := mustRun(t, "", "sluice", "produce", "orders", "--file", file)
	if !strings.Contains(e, "produced 1000 records to orders") {
		t.Fatalf("produce --file: %q", e)
	}
	mustRun(t, "", "sluice", "group", "delete", "friendly")
	mustRun(t, "", "sluice", "topic", "delete", "orders")
}

func TestBench(t *testing.T) {
	b := broker(t)
	dir := t.TempDir()
	jsonFile, svgFile := filepath.Join(dir, "run.json"), filepath.Join(dir, "lat.svg")
	out, _ := mustRun(t, "", "sluice", "bench", "produce", "-b", b, "-t", "bench", "-n", "5000", "-s", "512", "-p", "4",
		"--json", jsonFile, "--plot", svgFile)
	if !regexp.MustCompile(`latency: +p50 [\d.]+ ms  p99 [\d.]+ ms  p99\.9 [\d.]+ ms  max [\d.]+ ms`).MatchString(out) {
		t.Fatalf("bench produce: %q", out)
	}
	t.Logf("%s", out)
	var res benchResult
	data, _ := os.ReadFile(jsonFile)
	if err := json.Unmarshal(data, &res); err != nil || res.Records != 5000 || res.Latency == nil || len(res.Histogram) == 0 {
		t.Fatalf("json %s: %v", data, err)
	}
	svg, _ := os.ReadFile(svgFile)
	if !strings.HasPrefix(string(svg), "<svg") || !strings.Contains(string(svg), "p99.9") {
		t.Fatalf("svg: %.200s", svg)
	}
	out, _ = mustRun(t, "", "sluice", "bench", "consume", "-b", b, "-t", "bench", "-n", "5000")
	t.Logf("%s", out)
	out, _ = mustRun(t, "", "sluice", "bench", "e2e", "-b", b, "-t", "bench", "-n", "3000", "--rate", "3000")
	if !strings.Contains(out, "p99.9") {
		t.Fatalf("e2e: %q", out)
	}
	t.Logf("%s", out)
}

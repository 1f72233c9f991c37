package config

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

func TestDefault(t *testing.T) {
	b := Default()
	checks := []struct {
		name      string
		got, want any
	}{
		{"NodeID", b.NodeID, int32(1)},
		{"Listeners", b.Listeners, []Listener{{Name: "PLAINTEXT", Host: "127.0.0.1", Port: 9092, SecurityProtocol: "PLAINTEXT"}}},
		{"LogDirs", b.LogDirs, []string{"./data"}},
		{"ProcessRoles", b.ProcessRoles, []string{"broker", "controller"}},
		{"NumPartitions", b.NumPartitions, int32(1)},
		{"DefaultReplicationFactor", b.DefaultReplicationFactor, int16(1)},
		{"AutoCreateTopicsEnable", b.AutoCreateTopicsEnable, true},
		{"LogRetentionMs", b.LogRetentionMs, int64(168 * hour)},
		{"LogRetentionBytes", b.LogRetentionBytes, int64(-1)},
		{"LogSegmentBytes", b.LogSegmentBytes, int64(1 << 30)},
		{"LogRollMs", b.LogRollMs, int64(168 * hour)},
		{"LogIndexIntervalBytes", b.LogIndexIntervalBytes, int32(4096)},
		{"LogIndexSizeMaxBytes", b.LogIndexSizeMaxBytes, int32(10 << 20)},
		{"LogFlushIntervalMessages", b.LogFlushIntervalMessages, int64(9223372036854775807)},
		{"LogFlushIntervalMs", b.LogFlushIntervalMs, int64(9223372036854775807)},
		{"LogRetentionCheckIntervalMs", b.LogRetentionCheckIntervalMs, int64(300000)},
		{"MessageMaxBytes", b.MessageMaxBytes, int32(1048588)},
		{"SocketRequestMaxBytes", b.SocketRequestMaxBytes, int32(104857600)},
		{"LogMessageTimestampType", b.LogMessageTimestampType, "CreateTime"},
		{"OffsetsTopicNumPartitions", b.OffsetsTopicNumPartitions, int32(50)},
		{"OffsetsRetentionMinutes", b.OffsetsRetentionMinutes, int32(10080)},
		{"GroupInitialRebalanceDelayMs", b.GroupInitialRebalanceDelayMs, int32(3000)},
		{"GroupMaxSize", b.GroupMaxSize, int32(2147483647)},
		{"GroupMinSessionTimeoutMs", b.GroupMinSessionTimeoutMs, int32(6000)},
		{"GroupMaxSessionTimeoutMs", b.GroupMaxSessionTimeoutMs, int32(1800000)},
		{"LogCleanerEnable", b.LogCleanerEnable, true},
		{"LogCleanupPolicy", b.LogCleanupPolicy, []string{"delete"}},
		{"CompressionType", b.CompressionType, "producer"},
		{"ClusterID", b.ClusterID, ""},
		{"AdvertisedListeners", b.AdvertisedListeners, []Listener(nil)},
		{"Raw", len(b.Raw), 0},
	}
	for _, c := range checks {
		if !reflect.DeepEqual(c.got, c.want) {
			t.Errorf("%s = %#v, want %#v", c.name, c.got, c.want)
		}
	}
	if !b.IsBroker() || !b.IsController() {
		t.Error("default should be a combined broker and controller")
	}
}

func writeFile(t *testing.T, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "server.properties")
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// realWorld is close to config/kraft/server.properties of Kafka 3.x/4.x.
const realWorld = `
############################# Server Basics #############################
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@localhost:9093

############################# Socket Server Settings #############################
listeners=PLAINTEXT://:9092,CONTROLLER://:9093
inter.broker.listener.name=PLAINTEXT
advertised.listeners=PLAINTEXT://localhost:9092
controller.listener.names=CONTROLLER
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT,SSL:SSL,SASL_PLAINTEXT:SASL_PLAINTEXT,SASL_SSL:SASL_SSL
num.network.threads=3
num.io.threads=8
socket.send.buffer.bytes=102400
socket.receive.buffer.bytes=102400
socket.request.max.bytes=104857600

############################# Log Basics #############################
log.dirs=/tmp/kraft-combined-logs
num.partitions=1
num.recovery.threads.per.data.dir=1

############################# Internal Topic Settings  #############################
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1

############################# Log Retention Policy #############################
log.retention.hours=168
#log.retention.bytes=1073741824
log.segment.bytes=1073741824
log.retention.check.interval.ms=300000
ssl.keystore.password=secret
`

func TestLoadRealWorld(t *testing.T) {
	b, err := Load(writeFile(t, realWorld), nil)
	if err != nil {
		t.Fatal(err)
	}
	wantL := []Listener{
		{Name: "PLAINTEXT", Host: "", Port: 9092, SecurityProtocol: "PLAINTEXT"},
		{Name: "CONTROLLER", Host: "", Port: 9093, SecurityProtocol: "PLAINTEXT"},
	}
	if !reflect.DeepEqual(b.Listeners, wantL) {
		t.Errorf("Listeners = %+v", b.Listeners)
	}
	if want := []Listener{{Name: "PLAINTEXT", Host: "localhost", Port: 9092, SecurityProtocol: "PLAINTEXT"}}; !reflect.DeepEqual(b.Advertised(), want) {
		t.Errorf("Advertised = %+v", b.Advertised())
	}
	if want := []Voter{{ID: 1, Host: "localhost", Port: 9093}}; !reflect.DeepEqual(b.ControllerQuorumVoters, want) {
		t.Errorf("voters = %+v", b.ControllerQuorumVoters)
	}
	if !reflect.DeepEqual(b.LogDirs, []string{"/tmp/kraft-combined-logs"}) || b.Raw["num.io.threads"] != "8" {
		t.Errorf("LogDirs = %v, Raw = %v", b.LogDirs, b.Raw)
	}
	if b.InterBrokerListenerName != "PLAINTEXT" || b.OffsetsTopicReplicationFactor != 1 {
		t.Errorf("InterBroker = %q RF = %d", b.InterBrokerListenerName, b.OffsetsTopicReplicationFactor)
	}
}

func TestAdvertisedFallback(t *testing.T) {
	b, err := Load("", []string{"listeners=PLAINTEXT://0.0.0.0:9092,CONTROLLER://:9093,EXTERNAL://[::1]:9094",
		"listener.security.protocol.map=PLAINTEXT:PLAINTEXT,EXTERNAL:SSL"})
	if err != nil {
		t.Fatal(err)
	}
	want := []Listener{
		{Name: "PLAINTEXT", Host: "127.0.0.1", Port: 9092, SecurityProtocol: "PLAINTEXT"},
		{Name: "EXTERNAL", Host: "::1", Port: 9094, SecurityProtocol: "SSL"},
	}
	if got := b.Advertised(); !reflect.DeepEqual(got, want) {
		t.Errorf("Advertised = %+v, want %+v", got, want)
	}
	if got := want[1].String(); got != "EXTERNAL://[::1]:9094" {
		t.Errorf("String = %q", got)
	}
}

func TestLoadPrecedence(t *testing.T) {
	tests := []struct {
		name      string
		file      string
		overrides []string
		field     func(*Broker) any
		want      any
	}{
		{"hours", "log.retention.hours=1", nil, func(b *Broker) any { return b.LogRetentionMs }, int64(hour)},
		{"minutes over hours", "log.retention.hours=1\nlog.retention.minutes=2", nil, func(b *Broker) any { return b.LogRetentionMs }, int64(2 * minute)},
		{"ms over minutes and hours", "log.retention.hours=1\nlog.retention.minutes=2\nlog.retention.ms=3", nil, func(b *Broker) any { return b.LogRetentionMs }, int64(3)},
		{"negative is unlimited", "log.retention.hours=-5", nil, func(b *Broker) any { return b.LogRetentionMs }, int64(-1)},
		{"ms -1 unlimited", "log.retention.ms=-1", nil, func(b *Broker) any { return b.LogRetentionMs }, int64(-1)},
		{"roll hours", "log.roll.hours=2", nil, func(b *Broker) any { return b.LogRollMs }, int64(2 * hour)},
		{"roll ms over hours", "log.roll.hours=2\nlog.roll.ms=5", nil, func(b *Broker) any { return b.LogRollMs }, int64(5)},
		{"flush scheduler", "log.flush.scheduler.interval.ms=7", nil, func(b *Broker) any { return b.LogFlushIntervalMs }, int64(7)},
		{"flush interval over scheduler", "log.flush.scheduler.interval.ms=7\nlog.flush.interval.ms=8", nil, func(b *Broker) any { return b.LogFlushIntervalMs }, int64(8)},
		{"override beats file", "num.partitions=3", []string{"num.partitions=4"}, func(b *Broker) any { return b.NumPartitions }, int32(4)},
		{"later override wins", "", []string{"num.partitions=4", "num.partitions=5"}, func(b *Broker) any { return b.NumPartitions }, int32(5)},
		{"override value with equals", "", []string{"cluster.id=a=b"}, func(b *Broker) any { return b.ClusterID }, "a=b"},
		{"last file line wins", "num.partitions=3\nnum.partitions=6", nil, func(b *Broker) any { return b.NumPartitions }, int32(6)},
		{"log.dir", "log.dir=/x", nil, func(b *Broker) any { return b.LogDirs }, []string{"/x"}},
		{"log.dirs over log.dir", "log.dir=/x\nlog.dirs=/a, /b", nil, func(b *Broker) any { return b.LogDirs }, []string{"/a", "/b"}},
		{"broker.id alias", "broker.id=7", nil, func(b *Broker) any { return b.NodeID }, int32(7)},
		{"booleans any case", "auto.create.topics.enable=FALSE", nil, func(b *Broker) any { return b.AutoCreateTopicsEnable }, false},
		{"trimmed numbers", "message.max.bytes = 2000 ", nil, func(b *Broker) any { return b.MessageMaxBytes }, int32(2000)},
		{"cleanup policy list", "log.cleanup.policy=compact, delete", nil, func(b *Broker) any { return b.LogCleanupPolicy }, []string{"compact", "delete"}},
		{"raw keeps what was set", "num.partitions=3", []string{"log.retention.hours=2"}, func(b *Broker) any { return b.Raw },
			map[string]string{"num.partitions": "3", "log.retention.hours": "2"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := ""
			if tt.file != "" {
				path = writeFile(t, tt.file)
			}
			b, err := Load(path, tt.overrides)
			if err != nil {
				t.Fatal(err)
			}
			if got := tt.field(b); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %#v, want %#v", got, tt.want)
			}
		})
	}
}

func TestLoadErrors(t *testing.T) {
	tests := []struct {
		name      string
		file      string
		overrides []string
		want      string
		key       string
		line      int
	}{
		{"not a number", "log.retention.hours=abc", nil, `config: log.retention.hours: "abc" is not a number`, "log.retention.hours", 1},
		{"int overflow", "num.partitions=3000000000", nil, `config: num.partitions: "3000000000" is out of range for a 32-bit integer`, "num.partitions", 1},
		{"below minimum", "\nnum.partitions=0", nil, `config: num.partitions: "0" must be at least 1`, "num.partitions", 2},
		{"segment minimum", "log.segment.bytes=100", nil, `config: log.segment.bytes: "100" must be at least 1048576`, "log.segment.bytes", 1},
		{"ratio range", "log.cleaner.min.cleanable.ratio=1.5", nil, `config: log.cleaner.min.cleanable.ratio: "1.5" must be between 0 and 1`, "log.cleaner.min.cleanable.ratio", 1},
		{"not a boolean", "auto.create.topics.enable=yes", nil, `config: auto.create.topics.enable: "yes" is not a boolean (true or false)`, "auto.create.topics.enable", 1},
		{"enum", "log.message.timestamp.type=createtime", nil, `config: log.message.timestamp.type: "createtime" is not one of CreateTime, LogAppendTime`, "log.message.timestamp.type", 1},
		{"compression enum", "", []string{"compression.type=brotli"}, `config: compression.type: "brotli" is not one of uncompressed, zstd, lz4, snappy, gzip, producer`, "compression.type", 0},
		{"list enum", "log.cleanup.policy=delete,purge", nil, `config: log.cleanup.policy: "delete,purge" contains "purge"; accepted values: compact, delete`, "log.cleanup.policy", 1},
		{"typo", "log.retension.ms=1", nil, `config: unknown property "log.retension.ms" (did you mean log.retention.ms?)`, "log.retension.ms", 1},
		{"unknown no suggestion", "completely.different=1", nil, `config: unknown property "completely.different"`, "completely.different", 1},
		{"topic key in broker file", "retention.ms=1", nil, `config: unknown property "retention.ms" (did you mean log.retention.ms? retention.ms is a topic config)`, "retention.ms", 1},
		{"zookeeper", "zookeeper.connect=localhost:2181", nil, `config: zookeeper.connect: ZooKeeper mode is not supported; Sluice runs in KRaft mode only (use process.roles, node.id and controller.quorum.voters)`, "zookeeper.connect", 1},
		{"bad override", "", []string{"num.partitions"}, `config: override "num.partitions" is not key=value`, "", 0},
		{"bad listener", "listeners=localhost:9092", nil, `config: listeners: "localhost:9092" is not NAME://host:port (e.g. PLAINTEXT://127.0.0.1:9092)`, "listeners", 1},
		{"listener port", "listeners=PLAINTEXT://:70000", nil, `config: listeners: "PLAINTEXT://:70000" has port 70000; ports are 0 to 65535`, "listeners", 1},
		{"listener in list", "listeners=PLAINTEXT://:1,CONTROLLER:9093", nil, `config: listeners: "PLAINTEXT://:1,CONTROLLER:9093" has entry "CONTROLLER:9093", which is not NAME://host:port (e.g. PLAINTEXT://127.0.0.1:9092)`, "listeners", 1},
		{"duplicate listener", "listeners=PLAINTEXT://:1,plaintext://:2", nil, `config: listeners: "PLAINTEXT://:1,plaintext://:2" names listener PLAINTEXT more than once; each listener needs its own name`, "listeners", 1},
		{"no protocol", "listeners=CLIENT://:9092", nil, `config: listeners: listener CLIENT has no security protocol; add CLIENT:PLAINTEXT (or SSL, SASL_PLAINTEXT, SASL_SSL) to listener.security.protocol.map`, "listeners", 1},
		{"advertised not in listeners", "advertised.listeners=SSL://h:1", nil, `config: advertised.listeners: names listener SSL, which is not in listeners`, "advertised.listeners", 1},
		{"advertised wildcard", "advertised.listeners=PLAINTEXT://0.0.0.0:9092", nil, `config: advertised.listeners: PLAINTEXT uses the wildcard address 0.0.0.0; advertise a routable host`, "advertised.listeners", 1},
		{"protocol map", "listener.security.protocol.map=A:TLS", nil, `config: listener.security.protocol.map: "A:TLS" maps A to "TLS"; protocols are PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL`, "listener.security.protocol.map", 1},
		{"voters syntax", "controller.quorum.voters=1@localhost", nil, `config: controller.quorum.voters: "1@localhost" contains "1@localhost"; entries are id@host:port`, "controller.quorum.voters", 1},
		{"not a voter", "node.id=2\ncontroller.quorum.voters=1@h:9093", nil, `config: controller.quorum.voters: does not include node.id 2, but process.roles includes controller`, "controller.quorum.voters", 2},
		{"roles", "process.roles=broker,leader", nil, `config: process.roles: "broker,leader" contains "leader"; accepted values: broker, controller`, "process.roles", 1},
		{"empty roles", "process.roles=", nil, `config: process.roles: "" is empty; accepted values: broker, controller`, "process.roles", 1},
		{"broker.id mismatch", "node.id=1\nbroker.id=2", nil, `config: broker.id: 2 differs from node.id 1; remove broker.id`, "broker.id", 2},
		{"zero retention", "log.retention.ms=0", nil, `config: log.retention.ms: "0" must be -1 (unlimited) or a retention of at least 1 ms`, "log.retention.ms", 1},
		{"duplicate dirs", "log.dirs=/a,/a", nil, `config: log.dirs: names "/a" more than once`, "log.dirs", 1},
		{"session timeouts", "group.min.session.timeout.ms=10\ngroup.max.session.timeout.ms=5", nil, `config: group.min.session.timeout.ms: 10 is greater than group.max.session.timeout.ms 5`, "group.min.session.timeout.ms", 1},
		{"replication factor short", "default.replication.factor=40000", nil, `config: default.replication.factor: "40000" must be between 1 and 32767`, "default.replication.factor", 1},
		{"inter broker listener", "inter.broker.listener.name=INTERNAL", nil, `config: inter.broker.listener.name: INTERNAL is not in listeners`, "inter.broker.listener.name", 1},
		{"bad escape", `a=\u00`, nil, "", "", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := ""
			if tt.file != "" {
				path = writeFile(t, tt.file)
			}
			_, err := Load(path, tt.overrides)
			var cerr *Error
			if !errors.As(err, &cerr) {
				t.Fatalf("err = %v (%T), want *Error", err, err)
			}
			if tt.want == "" {
				return
			}
			if err.Error() != tt.want {
				t.Errorf("err =\n %s\nwant\n %s", err, tt.want)
			}
			if cerr.Key != tt.key || cerr.Line != tt.line {
				t.Errorf("Key, Line = %q, %d; want %q, %d", cerr.Key, cerr.Line, tt.key, tt.line)
			}
		})
	}
}

func TestLoadMissingFile(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "nope.properties"), nil)
	var cerr *Error
	if !errors.As(err, &cerr) {
		t.Fatalf("err = %v", err)
	}
}

func TestWith(t *testing.T) {
	b := Default()
	nb, err := b.With(map[string]string{"log.retention.hours": "1"}, map[string]string{"log.retention.minutes": "3"})
	if err != nil {
		t.Fatal(err)
	}
	if nb.LogRetentionMs != 3*minute || b.LogRetentionMs != 168*hour {
		t.Errorf("LogRetentionMs = %d (orig %d)", nb.LogRetentionMs, b.LogRetentionMs)
	}
	if _, err := b.With(map[string]string{"num.partitions": "x"}); err == nil {
		t.Error("want error")
	}
}

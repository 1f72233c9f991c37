package config

import (
	"errors"
	"reflect"
	"testing"
)

func TestValidateTopicConfigs(t *testing.T) {
	tests := []struct {
		name string
		m    map[string]string
		want string // "" for valid
	}{
		{"empty", nil, ""},
		{"all valid", map[string]string{
			"cleanup.policy": "compact,delete", "compression.type": "zstd", "retention.ms": "-1",
			"retention.bytes": "-1", "segment.bytes": "1048576", "min.insync.replicas": "2",
			"message.timestamp.type": "LogAppendTime", "min.cleanable.dirty.ratio": "0.1",
			"unclean.leader.election.enable": "TRUE", "max.message.bytes": "0", "preallocate": "false",
			"leader.replication.throttled.replicas": "0:1,1:2", "follower.replication.throttled.replicas": "*",
			"local.retention.ms": "-2", "message.downconversion.enable": "false", "compression.gzip.level": "9",
		}, ""},
		{"cleanup policy order and spaces", map[string]string{"cleanup.policy": " delete , compact "}, ""},
		{"unknown", map[string]string{"retention.msx": "1"}, `config: unknown topic config "retention.msx" (did you mean retention.ms?)`},
		{"broker key on a topic", map[string]string{"log.retention.ms": "1"}, `config: unknown topic config "log.retention.ms" (did you mean retention.ms? log.retention.ms is a broker config)`},
		{"cleanup policy", map[string]string{"cleanup.policy": "compact,purge"}, `config: cleanup.policy: "compact,purge" contains "purge"; accepted values: compact, delete`},
		{"cleanup policy empty", map[string]string{"cleanup.policy": ""}, `config: cleanup.policy: "" is empty; accepted values: compact, delete`},
		{"compression", map[string]string{"compression.type": "none"}, `config: compression.type: "none" is not one of uncompressed, zstd, lz4, snappy, gzip, producer`},
		{"retention below -1", map[string]string{"retention.ms": "-2"}, `config: retention.ms: "-2" must be at least -1`},
		{"retention not a number", map[string]string{"retention.ms": "1h"}, `config: retention.ms: "1h" is not a number`},
		{"segment.bytes minimum", map[string]string{"segment.bytes": "1024"}, `config: segment.bytes: "1024" must be at least 1048576`},
		{"segment.bytes is an int", map[string]string{"segment.bytes": "4294967296"}, `config: segment.bytes: "4294967296" is out of range for a 32-bit integer`},
		{"segment.ms minimum", map[string]string{"segment.ms": "0"}, `config: segment.ms: "0" must be at least 1`},
		{"ratio", map[string]string{"min.cleanable.dirty.ratio": "2"}, `config: min.cleanable.dirty.ratio: "2" must be between 0 and 1`},
		{"ratio NaN", map[string]string{"min.cleanable.dirty.ratio": "NaN"}, `config: min.cleanable.dirty.ratio: "NaN" is not a number`},
		{"min isr", map[string]string{"min.insync.replicas": "0"}, `config: min.insync.replicas: "0" must be at least 1`},
		{"timestamp type", map[string]string{"message.timestamp.type": "logappendtime"}, `config: message.timestamp.type: "logappendtime" is not one of CreateTime, LogAppendTime`},
		{"boolean", map[string]string{"preallocate": "1"}, `config: preallocate: "1" is not a boolean (true or false)`},
		{"gzip level", map[string]string{"compression.gzip.level": "0"}, `config: compression.gzip.level: "0" must be -1 (the default level) or between 1 and 9`},
		{"zstd level", map[string]string{"compression.zstd.level": "23"}, `config: compression.zstd.level: "23" must be between -131072 and 22`},
		{"throttled replicas", map[string]string{"leader.replication.throttled.replicas": "0-1"}, `config: leader.replication.throttled.replicas: "0-1" contains "0-1"; entries are partitionId:brokerId, or * for all`},
		{"compaction lags", map[string]string{"min.compaction.lag.ms": "10", "max.compaction.lag.ms": "5"}, `config: min.compaction.lag.ms: 10 is greater than max.compaction.lag.ms 5`},
		{"first error in key order", map[string]string{"segment.ms": "x", "retention.ms": "y"}, `config: retention.ms: "y" is not a number`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := ValidateTopicConfigs(tt.m)
			if tt.want == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			var cerr *Error
			if !errors.As(err, &cerr) {
				t.Fatalf("err = %v (%T), want *Error", err, err)
			}
			if err.Error() != tt.want {
				t.Errorf("err =\n %s\nwant\n %s", err, tt.want)
			}
		})
	}
}

func TestTopicConfigTable(t *testing.T) {
	seen := map[string]bool{}
	for _, d := range TopicConfigs() {
		if seen[d.Name] {
			t.Errorf("%s defined twice", d.Name)
		}
		seen[d.Name] = true
		if d.Doc == "" {
			t.Errorf("%s has no documentation", d.Name)
		}
		if err := d.Check(d.Default); err != nil {
			t.Errorf("%s: default does not validate: %v", d.Name, err)
		}
		for _, s := range d.Synonyms {
			bd, ok := brokerDefIndex[s.Name]
			if !ok {
				t.Errorf("%s: synonym %s is not a broker property", d.Name, s.Name)
				continue
			}
			if bd.mode != clusterWide {
				t.Errorf("%s: synonym %s should be dynamic cluster-wide", d.Name, s.Name)
			}
		}
		// The broker defaults and the topic default must agree.
		if len(d.Synonyms) > 0 {
			got := ResolveTopic(Default(), nil, nil).Values[d.Name]
			if got != normalize(d.Type, d.Default) {
				t.Errorf("%s: default via broker synonyms = %q, topic default %q", d.Name, got, d.Default)
			}
		}
	}
	for _, want := range []string{"cleanup.policy", "compression.type", "delete.retention.ms", "file.delete.delay.ms",
		"flush.messages", "flush.ms", "index.interval.bytes", "max.compaction.lag.ms", "max.message.bytes",
		"message.timestamp.type", "message.timestamp.before.max.ms", "message.timestamp.after.max.ms",
		"min.cleanable.dirty.ratio", "min.compaction.lag.ms", "min.insync.replicas", "preallocate", "retention.bytes",
		"retention.ms", "segment.bytes", "segment.index.bytes", "segment.jitter.ms", "segment.ms",
		"unclean.leader.election.enable", "message.downconversion.enable", "local.retention.ms",
		"local.retention.bytes", "remote.storage.enable"} {
		if !seen[want] {
			t.Errorf("missing topic config %s", want)
		}
	}
	if _, ok := LookupTopicConfig("retention.ms"); !ok {
		t.Error("LookupTopicConfig(retention.ms) not found")
	}
}

func TestBrokerDefTable(t *testing.T) {
	for _, d := range brokerDefs {
		if d.doc == "" {
			t.Errorf("%s has no documentation", d.name)
		}
		if _, dup := ignoredKeys[d.name]; dup {
			t.Errorf("%s is both understood and ignored", d.name)
		}
		if d.def != null {
			if msg := check(d.typ, d.rule, d.def); msg != "" {
				t.Errorf("%s: default %q %s", d.name, d.def, msg)
			}
		}
	}
}

func mustLoad(t *testing.T, overrides ...string) *Broker {
	t.Helper()
	b, err := Load("", overrides)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestResolveTopicPrecedence(t *testing.T) {
	tests := []struct {
		name      string
		static    []string
		dynamic   map[string]string
		overrides map[string]string
		get       func(Topic) any
		want      any
	}{
		{"kafka default", nil, nil, nil, func(t Topic) any { return t.RetentionMs }, int64(168 * hour)},
		{"static hours", []string{"log.retention.hours=2"}, nil, nil, func(t Topic) any { return t.RetentionMs }, int64(2 * hour)},
		{"static ms over hours", []string{"log.retention.hours=2", "log.retention.ms=5"}, nil, nil, func(t Topic) any { return t.RetentionMs }, int64(5)},
		{"dynamic default over static", []string{"log.retention.ms=5"}, map[string]string{"log.retention.minutes": "1"}, nil, func(t Topic) any { return t.RetentionMs }, int64(minute)},
		{"topic over dynamic", []string{"log.retention.ms=5"}, map[string]string{"log.retention.ms": "6"}, map[string]string{"retention.ms": "7"}, func(t Topic) any { return t.RetentionMs }, int64(7)},
		{"static unlimited", []string{"log.retention.hours=-1"}, nil, nil, func(t Topic) any { return t.RetentionMs }, int64(-1)},
		{"invalid override skipped", nil, nil, map[string]string{"retention.ms": "x"}, func(t Topic) any { return t.RetentionMs }, int64(168 * hour)},
		{"segment.ms from roll hours", []string{"log.roll.hours=1"}, nil, nil, func(t Topic) any { return t.SegmentMs }, int64(hour)},
		{"flush.ms from scheduler", []string{"log.flush.scheduler.interval.ms=100"}, nil, nil, func(t Topic) any { return t.FlushMs }, int64(100)},
		{"max.message.bytes from message.max.bytes", []string{"message.max.bytes=10"}, nil, nil, func(t Topic) any { return t.MaxMessageBytes }, 10},
		{"cleanup policy", []string{"log.cleanup.policy=compact"}, nil, map[string]string{}, func(t Topic) any { return [3]any{t.CleanupPolicy, t.Compact, t.Delete} }, [3]any{"compact", true, false}},
		{"cleanup both", nil, nil, map[string]string{"cleanup.policy": "delete, compact"}, func(t Topic) any { return [3]any{t.CleanupPolicy, t.Compact, t.Delete} }, [3]any{"delete,compact", true, true}},
		{"timestamp type", []string{"log.message.timestamp.type=LogAppendTime"}, nil, nil, func(t Topic) any { return t.LogAppendTime() }, true},
		{"min isr", nil, map[string]string{"min.insync.replicas": "2"}, nil, func(t Topic) any { return t.MinInsyncReplicas }, 2},
		{"no synonym", nil, nil, map[string]string{"remote.storage.enable": "true"}, func(t Topic) any { return t.RemoteStorageEnable }, true},
		{"segment bytes", nil, nil, nil, func(t Topic) any { return t.SegmentBytes }, int64(1 << 30)},
		{"index bytes", []string{"log.index.size.max.bytes=4096"}, nil, nil, func(t Topic) any { return t.SegmentIndexBytes }, 4096},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := mustLoad(t, tt.static...)
			got := tt.get(ResolveTopic(b, tt.dynamic, tt.overrides))
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %#v, want %#v", got, tt.want)
			}
		})
	}
}

func TestResolveTopicDefaults(t *testing.T) {
	got := ResolveTopic(nil, nil, nil)
	want := Topic{
		CleanupPolicy: "delete", Delete: true, CompressionType: "producer", CompressionGzipLevel: -1,
		CompressionLz4Level: 9, CompressionZstdLevel: 3, DeleteRetentionMs: 86400000, FileDeleteDelayMs: 60000,
		FlushMessages: 9223372036854775807, FlushMs: 9223372036854775807, IndexIntervalBytes: 4096,
		LocalRetentionBytes: -2, LocalRetentionMs: -2, MaxCompactionLagMs: 9223372036854775807,
		MaxMessageBytes: 1048588, MessageTimestampType: "CreateTime",
		MessageTimestampAfterMaxMs: 9223372036854775807, MessageTimestampBeforeMaxMs: 9223372036854775807,
		MinCleanableDirtyRatio: 0.5, MinInsyncReplicas: 1, RetentionBytes: -1, RetentionMs: 604800000,
		SegmentBytes: 1073741824, SegmentIndexBytes: 10485760, SegmentMs: 604800000,
	}
	got.Values = nil
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got  %+v\nwant %+v", got, want)
	}
}

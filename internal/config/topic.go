package config

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// Synonym is a broker property that supplies the default of a topic config
// (Kafka's ServerTopicConfigSynonyms), e.g. log.retention.hours for
// retention.ms.
type Synonym struct {
	Name string
	// Scale converts the broker value to the topic config's unit: 60000 for
	// minutes, 3600000 for hours; 0 when the units agree.
	Scale int64
}

// convert returns the broker value v in the topic config's unit. A negative
// retention is -1 (unlimited), as Kafka computes logRetentionTimeMillis.
func (s Synonym) convert(v string) string {
	v = strings.TrimSpace(v)
	retention := strings.HasPrefix(s.Name, "log.retention.")
	if s.Scale <= 1 && !retention {
		return v
	}
	n, err := strconv.ParseInt(v, 10, 64)
	switch {
	case err != nil:
		return v
	case n < 0:
		return "-1"
	case s.Scale <= 1:
		return v
	case n > math.MaxInt64/s.Scale:
		return strconv.FormatInt(math.MaxInt64, 10)
	}
	return strconv.FormatInt(n*s.Scale, 10)
}

// TopicConfigDef defines one topic config, as Kafka's LogConfig does.
type TopicConfigDef struct {
	Name string
	Type kmsg.ConfigType
	// Default is Kafka's default for the topic config. When Synonyms is not
	// empty the broker properties decide instead, and their defaults agree.
	Default string
	// Synonyms are the broker properties that supply the default, highest
	// precedence first.
	Synonyms  []Synonym
	Doc       string
	Sensitive bool
	ReadOnly  bool

	rule rule
}

// Check validates value for this config; the error names the key and rule.
func (d *TopicConfigDef) Check(value string) error {
	if msg := check(d.Type, d.rule, value); msg != "" {
		return valueError(d.Name, value, msg)
	}
	return nil
}

const (
	minute = 60 * 1000
	hour   = 60 * minute
)

func syn(names ...string) []Synonym {
	out := make([]Synonym, len(names))
	for i, n := range names {
		out[i] = Synonym{Name: n}
		switch {
		case strings.HasSuffix(n, ".minutes"):
			out[i].Scale = minute
		case strings.HasSuffix(n, ".hours"):
			out[i].Scale = hour
		}
	}
	return out
}

// topicDefs is every topic config of Kafka 4 (LogConfig), plus
// message.downconversion.enable, which Kafka 4 removed and old tools still
// send. Sorted by name.
var topicDefs = []TopicConfigDef{
	{Name: "cleanup.policy", Type: tList, Default: "delete", Synonyms: syn("log.cleanup.policy"), rule: oneOf("compact", "delete"),
		Doc: `What to do with segments beyond the retention limits: "delete" removes them, "compact" keeps the latest record per key; "compact,delete" does both.`},
	{Name: "compression.gzip.level", Type: tInt, Default: "-1", Synonyms: syn("compression.gzip.level"), rule: custom(checkGzipLevel),
		Doc: "The gzip level used when compression.type is gzip."},
	{Name: "compression.lz4.level", Type: tInt, Default: "9", Synonyms: syn("compression.lz4.level"), rule: between(1, 17),
		Doc: "The lz4 level used when compression.type is lz4."},
	{Name: "compression.type", Type: tString, Default: "producer", Synonyms: syn("compression.type"), rule: oneOf(compressionTypes...),
		Doc: "The final compression of the topic's data: uncompressed, zstd, lz4, snappy, gzip, or producer to keep what the producer sent."},
	{Name: "compression.zstd.level", Type: tInt, Default: "3", Synonyms: syn("compression.zstd.level"), rule: between(-131072, 22),
		Doc: "The zstd level used when compression.type is zstd."},
	{Name: "delete.retention.ms", Type: tLong, Default: "86400000", Synonyms: syn("log.cleaner.delete.retention.ms"), rule: atLeast(0),
		Doc: "How long tombstones (and transaction markers) are kept in a compacted topic, so that consumers can see them."},
	{Name: "file.delete.delay.ms", Type: tLong, Default: "60000", Synonyms: syn("log.segment.delete.delay.ms"), rule: atLeast(0),
		Doc: "How long a deleted segment's files stay on disk before they are removed."},
	{Name: "flush.messages", Type: tLong, Default: maxLong, Synonyms: syn("log.flush.interval.messages"), rule: atLeast(1),
		Doc: "Fsync the log after this many messages. The default leaves durability to replication and the OS page cache."},
	{Name: "flush.ms", Type: tLong, Default: maxLong, Synonyms: syn("log.flush.interval.ms", "log.flush.scheduler.interval.ms"), rule: atLeast(0),
		Doc: "Fsync the log when data has been unsynced this many milliseconds."},
	{Name: "follower.replication.throttled.replicas", Type: tList, Default: "", rule: custom(checkThrottledReplicas),
		Doc: "Replicas whose follower-side replication is throttled: partitionId:brokerId,... or * for all."},
	{Name: "index.interval.bytes", Type: tInt, Default: "4096", Synonyms: syn("log.index.interval.bytes"), rule: atLeast(0),
		Doc: "The number of log bytes between offset index entries."},
	{Name: "leader.replication.throttled.replicas", Type: tList, Default: "", rule: custom(checkThrottledReplicas),
		Doc: "Replicas whose leader-side replication is throttled: partitionId:brokerId,... or * for all."},
	{Name: "local.retention.bytes", Type: tLong, Default: "-2", Synonyms: syn("log.local.retention.bytes"), rule: atLeast(-2),
		Doc: "The local size limit of a tiered topic's partitions; -2 means retention.bytes."},
	{Name: "local.retention.ms", Type: tLong, Default: "-2", Synonyms: syn("log.local.retention.ms"), rule: atLeast(-2),
		Doc: "How long a tiered topic keeps segments locally; -2 means retention.ms."},
	{Name: "max.compaction.lag.ms", Type: tLong, Default: maxLong, Synonyms: syn("log.cleaner.max.compaction.lag.ms"), rule: atLeast(1),
		Doc: "The longest a record stays ineligible for compaction."},
	{Name: "max.message.bytes", Type: tInt, Default: "1048588", Synonyms: syn("message.max.bytes"), rule: atLeast(0),
		Doc: "The largest record batch the topic accepts, after compression."},
	{Name: "message.downconversion.enable", Type: tBool, Default: "true", rule: rule{},
		Doc: "Removed in Kafka 4.0; accepted for old tools and has no effect (Sluice never down-converts)."},
	{Name: "message.timestamp.after.max.ms", Type: tLong, Default: maxLong, Synonyms: syn("log.message.timestamp.after.max.ms"), rule: atLeast(0),
		Doc: "With CreateTime, reject batches whose timestamp is later than the broker's clock by more than this."},
	{Name: "message.timestamp.before.max.ms", Type: tLong, Default: maxLong, Synonyms: syn("log.message.timestamp.before.max.ms"), rule: atLeast(0),
		Doc: "With CreateTime, reject batches whose timestamp is earlier than the broker's clock by more than this."},
	{Name: "message.timestamp.type", Type: tString, Default: "CreateTime", Synonyms: syn("log.message.timestamp.type"), rule: oneOf("CreateTime", "LogAppendTime"),
		Doc: "Whether record timestamps are the producer's CreateTime or the broker's LogAppendTime."},
	{Name: "min.cleanable.dirty.ratio", Type: tDouble, Default: "0.5", Synonyms: syn("log.cleaner.min.cleanable.ratio"), rule: between(0, 1),
		Doc: "How much of the log must be uncompacted before the cleaner compacts it."},
	{Name: "min.compaction.lag.ms", Type: tLong, Default: "0", Synonyms: syn("log.cleaner.min.compaction.lag.ms"), rule: atLeast(0),
		Doc: "The shortest time a record stays uncompacted."},
	{Name: "min.insync.replicas", Type: tInt, Default: "1", Synonyms: syn("min.insync.replicas"), rule: atLeast(1),
		Doc: "The number of in-sync replicas that must acknowledge an acks=all produce, or it fails with NOT_ENOUGH_REPLICAS."},
	{Name: "preallocate", Type: tBool, Default: "false", Synonyms: syn("log.preallocate"),
		Doc: "Preallocate segment files when they are created."},
	{Name: "remote.log.copy.disable", Type: tBool, Default: "false",
		Doc: "Stop copying segments of a tiered topic to remote storage."},
	{Name: "remote.log.delete.on.disable", Type: tBool, Default: "false",
		Doc: "Delete the remote data when tiered storage is disabled for the topic."},
	{Name: "remote.storage.enable", Type: tBool, Default: "false",
		Doc: "Tier the topic's segments to remote storage (not supported by Sluice yet)."},
	{Name: "retention.bytes", Type: tLong, Default: "-1", Synonyms: syn("log.retention.bytes"),
		Doc: "The size a partition's log may reach before old segments are deleted (cleanup.policy=delete); -1 for no limit."},
	{Name: "retention.ms", Type: tLong, Default: "604800000", Synonyms: syn("log.retention.ms", "log.retention.minutes", "log.retention.hours"), rule: atLeast(-1),
		Doc: "How long a segment is kept before it is deleted (cleanup.policy=delete); -1 for no limit."},
	{Name: "segment.bytes", Type: tInt, Default: "1073741824", Synonyms: syn("log.segment.bytes"), rule: atLeast(1 << 20),
		Doc: "The size at which a segment file is rolled."},
	{Name: "segment.index.bytes", Type: tInt, Default: "10485760", Synonyms: syn("log.index.size.max.bytes"), rule: atLeast(4),
		Doc: "The size of a segment's offset and time index files."},
	{Name: "segment.jitter.ms", Type: tLong, Default: "0", Synonyms: syn("log.roll.jitter.ms", "log.roll.jitter.hours"), rule: atLeast(0),
		Doc: "The most random jitter subtracted from segment.ms, to avoid rolling every segment at once."},
	{Name: "segment.ms", Type: tLong, Default: "604800000", Synonyms: syn("log.roll.ms", "log.roll.hours"), rule: atLeast(1),
		Doc: "The time after which a segment is rolled even if it is not full, so that retention can delete or compact it."},
	{Name: "unclean.leader.election.enable", Type: tBool, Default: "false", Synonyms: syn("unclean.leader.election.enable"),
		Doc: "Allow a replica outside the ISR to become leader, at the cost of losing data."},
}

var topicDefIndex = func() map[string]*TopicConfigDef {
	m := make(map[string]*TopicConfigDef, len(topicDefs))
	for i := range topicDefs {
		m[topicDefs[i].Name] = &topicDefs[i]
	}
	return m
}()

// brokerSynonymGroups maps a broker property that is a topic config synonym
// to its whole synonym chain, e.g. log.retention.hours to [log.retention.ms,
// log.retention.minutes, log.retention.hours].
var brokerSynonymGroups = func() map[string][]string {
	m := map[string][]string{}
	for _, d := range topicDefs {
		var names []string
		for _, s := range d.Synonyms {
			names = append(names, s.Name)
		}
		for _, n := range names {
			m[n] = names
		}
	}
	return m
}()

// topicForSynonym maps a broker synonym to its topic config.
var topicForSynonym = func() map[string]string {
	m := map[string]string{}
	for _, d := range topicDefs {
		for _, s := range d.Synonyms {
			m[s.Name] = d.Name
		}
	}
	return m
}()

// TopicConfigs returns the definitions of all topic configs, sorted by name.
// The caller owns the returned slice.
func TopicConfigs() []TopicConfigDef {
	return append([]TopicConfigDef(nil), topicDefs...)
}

// LookupTopicConfig returns the definition of a topic config.
func LookupTopicConfig(name string) (TopicConfigDef, bool) {
	d, ok := topicDefIndex[name]
	if !ok {
		return TopicConfigDef{}, false
	}
	return *d, true
}

func topicConfigNames() []string {
	names := make([]string, len(topicDefs))
	for i, d := range topicDefs {
		names[i] = d.Name
	}
	return names
}

// ValidateTopicConfigs checks topic configs as given to CreateTopics or
// AlterConfigs: every key known, every value valid, and the rules between
// keys. The error (an *Error) names the key and the rule; the broker answers
// INVALID_CONFIG with its message. Keys are checked in sorted order so the
// error is deterministic.
func ValidateTopicConfigs(m map[string]string) error {
	for _, k := range sortedKeys(m) {
		d, ok := topicDefIndex[k]
		if !ok {
			if t := topicForSynonym[k]; t != "" {
				return &Error{Key: k, msg: fmt.Sprintf("unknown topic config %q (did you mean %s? %s is a broker config)", k, t, k)}
			}
			return unknownError("topic config", k, topicConfigNames())
		}
		if err := d.Check(m[k]); err != nil {
			return err
		}
	}
	minLag, okMin := m["min.compaction.lag.ms"]
	maxLag, okMax := m["max.compaction.lag.ms"]
	if okMin && okMax && parseInt(minLag) > parseInt(maxLag) {
		return keyError("min.compaction.lag.ms", fmt.Sprintf("%s is greater than max.compaction.lag.ms %s", strings.TrimSpace(minLag), strings.TrimSpace(maxLag)))
	}
	return nil
}

func checkThrottledReplicas(v string) string {
	items := splitList(v)
	if len(items) == 1 && items[0] == "*" {
		return ""
	}
	for _, it := range items {
		p, b, ok := strings.Cut(it, ":")
		_, err1 := strconv.ParseUint(strings.TrimSpace(p), 10, 31)
		_, err2 := strconv.ParseUint(strings.TrimSpace(b), 10, 31)
		if !ok || err1 != nil || err2 != nil {
			return fmt.Sprintf("contains %q; entries are partitionId:brokerId, or * for all", it)
		}
	}
	return ""
}

// sourced is one candidate value of a config and where it came from.
type sourced struct {
	name   string // the property as set (topic key or broker synonym)
	value  string // as set, unconverted
	source kmsg.ConfigSource
	scale  Synonym
	pseudo bool // the topic config's own default, not a Kafka synonym entry
}

// topicChain returns every candidate value of topic config d, highest
// precedence first: the topic override; then the synonyms set as dynamic
// cluster defaults; then those set statically; then the synonyms' defaults;
// finally the topic's own default if no synonym has one. Kafka lists
// DescribeConfigs synonyms in this order.
func topicChain(d *TopicConfigDef, b *Broker, dynamicDefaults, overrides map[string]string) []sourced {
	var chain []sourced
	if v, ok := overrides[d.Name]; ok {
		chain = append(chain, sourced{name: d.Name, value: v, source: kmsg.ConfigSourceDynamicTopicConfig})
	}
	for _, level := range []struct {
		m   map[string]string
		src kmsg.ConfigSource
	}{
		{dynamicDefaults, kmsg.ConfigSourceDynamicDefaultBrokerConfig},
		{b.Raw, kmsg.ConfigSourceStaticBrokerConfig},
	} {
		for _, s := range d.Synonyms {
			if v, ok := level.m[s.Name]; ok {
				chain = append(chain, sourced{name: s.Name, value: v, source: level.src, scale: s})
			}
		}
	}
	for _, s := range d.Synonyms {
		if def := brokerDefIndex[s.Name].def; def != null {
			chain = append(chain, sourced{name: s.Name, value: def, source: kmsg.ConfigSourceDefaultConfig, scale: s})
		}
	}
	if len(d.Synonyms) == 0 || chain == nil || chain[len(chain)-1].source != kmsg.ConfigSourceDefaultConfig {
		chain = append(chain, sourced{name: d.Name, value: d.Default, source: kmsg.ConfigSourceDefaultConfig, pseudo: true})
	}
	return chain
}

// effective returns the first candidate of the chain that is valid for d,
// converted to d's unit and normalized; invalid candidates are skipped.
func effective(d *TopicConfigDef, chain []sourced) (string, sourced) {
	for _, c := range chain {
		v := c.scale.convert(c.value)
		if check(d.Type, d.rule, v) == "" {
			return normalize(d.Type, v), c
		}
	}
	last := chain[len(chain)-1]
	return normalize(d.Type, d.Default), last
}

// normalize formats a valid value as Kafka's ConfigDef.convertToString does.
func normalize(t kmsg.ConfigType, v string) string {
	v = strings.TrimSpace(v)
	switch t {
	case tBool:
		return strings.ToLower(v)
	case tList:
		return strings.Join(splitList(v), ",")
	}
	return v
}

// Topic is the effective configuration of one topic, resolved from its
// overrides and the broker defaults (see ResolveTopic). Units are those of
// the Kafka topic configs: milliseconds and bytes.
type Topic struct {
	CleanupPolicy               string // "delete", "compact" or "compact,delete" (as configured)
	Compact                     bool   // cleanup.policy includes compact
	Delete                      bool   // cleanup.policy includes delete
	CompressionType             string // compression.type
	CompressionGzipLevel        int    // compression.gzip.level
	CompressionLz4Level         int    // compression.lz4.level
	CompressionZstdLevel        int    // compression.zstd.level
	DeleteRetentionMs           int64  // delete.retention.ms
	FileDeleteDelayMs           int64  // file.delete.delay.ms
	FlushMessages               int64  // flush.messages
	FlushMs                     int64  // flush.ms
	IndexIntervalBytes          int    // index.interval.bytes
	LocalRetentionBytes         int64  // local.retention.bytes
	LocalRetentionMs            int64  // local.retention.ms
	MaxCompactionLagMs          int64  // max.compaction.lag.ms
	MaxMessageBytes             int    // max.message.bytes
	MessageTimestampType        string // message.timestamp.type: CreateTime or LogAppendTime
	MessageTimestampAfterMaxMs  int64  // message.timestamp.after.max.ms
	MessageTimestampBeforeMaxMs int64  // message.timestamp.before.max.ms
	MinCleanableDirtyRatio      float64
	MinCompactionLagMs          int64 // min.compaction.lag.ms
	MinInsyncReplicas           int   // min.insync.replicas
	Preallocate                 bool  // preallocate
	RemoteStorageEnable         bool  // remote.storage.enable
	RetentionBytes              int64 // retention.bytes; -1 = unlimited
	RetentionMs                 int64 // retention.ms; -1 = unlimited
	SegmentBytes                int64 // segment.bytes
	SegmentIndexBytes           int   // segment.index.bytes
	SegmentJitterMs             int64 // segment.jitter.ms
	SegmentMs                   int64 // segment.ms
	UncleanLeaderElectionEnable bool  // unclean.leader.election.enable

	// Values holds every topic config by name, as DescribeConfigs reports it.
	Values map[string]string
}

// LogAppendTime reports whether the broker overwrites batch timestamps.
func (t Topic) LogAppendTime() bool { return t.MessageTimestampType == "LogAppendTime" }

// ResolveTopic computes a topic's effective configuration. Precedence, per
// config: the topic override; then the dynamic cluster-wide default
// (dynamicDefaults, keyed by broker property, e.g. log.retention.ms); then the
// static broker configuration (broker.Raw); then Kafka's default. Within a
// level a broker synonym chain keeps Kafka's order (log.retention.ms >
// .minutes > .hours). Invalid values (callers should have validated them)
// are skipped. A nil broker means Default().
func ResolveTopic(broker *Broker, dynamicDefaults map[string]string, overrides map[string]string) Topic {
	if broker == nil {
		broker = Default()
	}
	vals := make(map[string]string, len(topicDefs))
	for i := range topicDefs {
		d := &topicDefs[i]
		vals[d.Name], _ = effective(d, topicChain(d, broker, dynamicDefaults, overrides))
	}
	i64 := func(k string) int64 { return parseInt(vals[k]) }
	policy := splitList(vals["cleanup.policy"])
	return Topic{
		CleanupPolicy:               vals["cleanup.policy"],
		Compact:                     contains(policy, "compact"),
		Delete:                      contains(policy, "delete"),
		CompressionType:             vals["compression.type"],
		CompressionGzipLevel:        int(i64("compression.gzip.level")),
		CompressionLz4Level:         int(i64("compression.lz4.level")),
		CompressionZstdLevel:        int(i64("compression.zstd.level")),
		DeleteRetentionMs:           i64("delete.retention.ms"),
		FileDeleteDelayMs:           i64("file.delete.delay.ms"),
		FlushMessages:               i64("flush.messages"),
		FlushMs:                     i64("flush.ms"),
		IndexIntervalBytes:          int(i64("index.interval.bytes")),
		LocalRetentionBytes:         i64("local.retention.bytes"),
		LocalRetentionMs:            i64("local.retention.ms"),
		MaxCompactionLagMs:          i64("max.compaction.lag.ms"),
		MaxMessageBytes:             int(i64("max.message.bytes")),
		MessageTimestampType:        vals["message.timestamp.type"],
		MessageTimestampAfterMaxMs:  i64("message.timestamp.after.max.ms"),
		MessageTimestampBeforeMaxMs: i64("message.timestamp.before.max.ms"),
		MinCleanableDirtyRatio:      parseFloat(vals["min.cleanable.dirty.ratio"]),
		MinCompactionLagMs:          i64("min.compaction.lag.ms"),
		MinInsyncReplicas:           int(i64("min.insync.replicas")),
		Preallocate:                 parseBool(vals["preallocate"]),
		RemoteStorageEnable:         parseBool(vals["remote.storage.enable"]),
		RetentionBytes:              i64("retention.bytes"),
		RetentionMs:                 i64("retention.ms"),
		SegmentBytes:                i64("segment.bytes"),
		SegmentIndexBytes:           int(i64("segment.index.bytes")),
		SegmentJitterMs:             i64("segment.jitter.ms"),
		SegmentMs:                   i64("segment.ms"),
		UncleanLeaderElectionEnable: parseBool(vals["unclean.leader.election.enable"]),
		Values:                      vals,
	}
}

func init() {
	if !sort.SliceIsSorted(topicDefs, func(i, j int) bool { return topicDefs[i].Name < topicDefs[j].Name }) {
		panic("config: topicDefs not sorted")
	}
}

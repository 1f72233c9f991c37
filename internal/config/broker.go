package config

import (
	"fmt"
	"maps"
	"os"
	"strings"
)

// Broker is the typed static configuration of one Sluice server, read from a
// server.properties file and --override flags. Every field is named after its
// Kafka property; the comment gives the property and the unit. Fields derived
// from several properties (retention, roll, flush) follow Kafka's precedence.
//
// A *Broker is immutable once returned: share it freely, never modify it.
type Broker struct {
	// Identity and the KRaft quorum.
	NodeID                  int32    // node.id (or its alias broker.id)
	ProcessRoles            []string // process.roles: "broker", "controller"
	ClusterID               string   // cluster.id (Sluice extension), "" if unset
	ControllerQuorumVoters  []Voter  // controller.quorum.voters; empty: this node alone
	ControllerListenerNames []string // controller.listener.names, upper-cased
	BrokerRack              string   // broker.rack, "" if unset

	// Network.
	Listeners                   []Listener        // listeners
	AdvertisedListeners         []Listener        // advertised.listeners as set; nil if unset (see Advertised)
	ListenerSecurityProtocolMap map[string]string // listener.security.protocol.map, upper-cased names
	InterBrokerListenerName     string            // inter.broker.listener.name, "" if unset
	SocketRequestMaxBytes       int32             // socket.request.max.bytes
	ConnectionsMaxIdleMs        int64             // connections.max.idle.ms
	QueuedMaxRequests           int32             // queued.max.requests

	// Topic defaults and the log.
	AutoCreateTopicsEnable      bool     // auto.create.topics.enable
	DeleteTopicEnable           bool     // delete.topic.enable
	NumPartitions               int32    // num.partitions
	DefaultReplicationFactor    int16    // default.replication.factor
	LogDirs                     []string // log.dirs, else log.dir
	LogSegmentBytes             int64    // log.segment.bytes
	LogRollMs                   int64    // log.roll.ms > log.roll.hours
	LogRollJitterMs             int64    // log.roll.jitter.ms > log.roll.jitter.hours
	LogRetentionMs              int64    // log.retention.ms > .minutes > .hours; -1 = unlimited
	LogRetentionBytes           int64    // log.retention.bytes; -1 = unlimited
	LogRetentionCheckIntervalMs int64    // log.retention.check.interval.ms
	LogCleanupPolicy            []string // log.cleanup.policy: "delete" and/or "compact"
	LogIndexIntervalBytes       int32    // log.index.interval.bytes
	LogIndexSizeMaxBytes        int32    // log.index.size.max.bytes
	LogFlushIntervalMessages    int64    // log.flush.interval.messages
	LogFlushIntervalMs          int64    // log.flush.interval.ms > log.flush.scheduler.interval.ms
	LogFlushSchedulerIntervalMs int64    // log.flush.scheduler.interval.ms
	LogFlushOffsetCheckpointMs  int32    // log.flush.offset.checkpoint.interval.ms
	LogSegmentDeleteDelayMs     int64    // log.segment.delete.delay.ms
	LogPreallocate              bool     // log.preallocate
	LogMessageTimestampType     string   // log.message.timestamp.type: CreateTime or LogAppendTime
	LogMessageTimestampBeforeMs int64    // log.message.timestamp.before.max.ms
	LogMessageTimestampAfterMs  int64    // log.message.timestamp.after.max.ms
	MessageMaxBytes             int32    // message.max.bytes
	CompressionType             string   // compression.type
	MinInsyncReplicas           int32    // min.insync.replicas
	UncleanLeaderElectionEnable bool     // unclean.leader.election.enable

	// Log cleaner.
	LogCleanerEnable             bool    // log.cleaner.enable
	LogCleanerThreads            int32   // log.cleaner.threads
	LogCleanerBackoffMs          int64   // log.cleaner.backoff.ms
	LogCleanerDedupeBufferSize   int64   // log.cleaner.dedupe.buffer.size
	LogCleanerMinCleanableRatio  float64 // log.cleaner.min.cleanable.ratio
	LogCleanerDeleteRetentionMs  int64   // log.cleaner.delete.retention.ms
	LogCleanerMinCompactionLagMs int64   // log.cleaner.min.compaction.lag.ms
	LogCleanerMaxCompactionLagMs int64   // log.cleaner.max.compaction.lag.ms

	// Replication.
	ReplicaLagTimeMaxMs          int64 // replica.lag.time.max.ms
	ReplicaFetchMaxBytes         int32 // replica.fetch.max.bytes
	ReplicaFetchMinBytes         int32 // replica.fetch.min.bytes
	ReplicaFetchWaitMaxMs        int32 // replica.fetch.wait.max.ms
	ReplicaFetchResponseMaxBytes int32 // replica.fetch.response.max.bytes
	FetchMaxBytes                int32 // fetch.max.bytes

	// Group coordinator.
	OffsetsTopicNumPartitions       int32 // offsets.topic.num.partitions
	OffsetsTopicReplicationFactor   int16 // offsets.topic.replication.factor
	OffsetsTopicSegmentBytes        int32 // offsets.topic.segment.bytes
	OffsetsRetentionMinutes         int32 // offsets.retention.minutes
	OffsetsRetentionCheckIntervalMs int64 // offsets.retention.check.interval.ms
	OffsetsCommitTimeoutMs          int32 // offsets.commit.timeout.ms
	GroupInitialRebalanceDelayMs    int32 // group.initial.rebalance.delay.ms
	GroupMaxSize                    int32 // group.max.size
	GroupMinSessionTimeoutMs        int32 // group.min.session.timeout.ms
	GroupMaxSessionTimeoutMs        int32 // group.max.session.timeout.ms

	// Transactions and idempotence.
	TransactionStateLogNumPartitions     int32 // transaction.state.log.num.partitions
	TransactionStateLogReplicationFactor int16 // transaction.state.log.replication.factor
	TransactionStateLogMinISR            int32 // transaction.state.log.min.isr
	TransactionMaxTimeoutMs              int32 // transaction.max.timeout.ms
	TransactionalIDExpirationMs          int32 // transactional.id.expiration.ms
	ProducerIDExpirationMs               int32 // producer.id.expiration.ms

	// Raw holds every property that was set (file, then overrides), exactly
	// as written: Kafka's STATIC_BROKER_CONFIG source. Read it, never write.
	Raw map[string]string
}

// Default returns the embedded single-node configuration: node.id 1, broker
// and controller in one process, PLAINTEXT://127.0.0.1:9092, log.dirs ./data,
// and Kafka's defaults for everything else.
func Default() *Broker {
	b, err := build(map[string]string{})
	if err != nil {
		panic("config: the defaults do not validate: " + err.Error())
	}
	return b
}

// Load reads the properties file at path ("" for none: the embedded
// defaults) and then applies overrides, each "key=value" as given to
// kafka-server-start --override. Later settings of a key win. Every error is
// an *Error with a one-line message; the server exits with status 2 on it.
func Load(path string, overrides []string) (*Broker, error) {
	raw := map[string]string{}
	lines := map[string]int{}
	if path != "" {
		f, err := os.Open(path)
		if err != nil {
			return nil, &Error{msg: strings.TrimPrefix(err.Error(), "open ")}
		}
		props, err := ParseProperties(f)
		f.Close()
		if err != nil {
			return nil, &Error{msg: path + ": " + err.Error()}
		}
		for _, p := range props {
			raw[p.Key], lines[p.Key] = p.Value, p.Line
		}
	}
	for _, o := range overrides {
		k, v, ok := strings.Cut(o, "=")
		k = strings.TrimSpace(k)
		if !ok || k == "" {
			return nil, &Error{Value: o, msg: fmt.Sprintf("override %q is not key=value", o)}
		}
		raw[k], lines[k] = v, 0
	}
	b, err := build(raw)
	if err != nil {
		err.Line = lines[err.Key]
		return nil, err
	}
	return b, nil
}

// With returns a copy of b with the given properties layered on top of
// b.Raw (later maps win), validated as in Load. The broker uses it to apply
// dynamic configuration: b.With(dynamicDefaults, dynamicBroker).
func (b *Broker) With(layers ...map[string]string) (*Broker, error) {
	raw := maps.Clone(b.Raw)
	for _, l := range layers {
		maps.Copy(raw, l)
	}
	nb, err := build(raw)
	if err != nil {
		return nil, err
	}
	return nb, nil
}

// IsBroker reports whether process.roles includes broker.
func (b *Broker) IsBroker() bool { return contains(b.ProcessRoles, "broker") }

// IsController reports whether process.roles includes controller.
func (b *Broker) IsController() bool { return contains(b.ProcessRoles, "controller") }

// Advertised returns the listeners to give clients: advertised.listeners,
// else listeners without the controller listeners. A wildcard or empty host
// becomes 127.0.0.1 (Kafka would use the canonical host name). A port of 0
// is returned as is: the server substitutes the port it bound.
func (b *Broker) Advertised() []Listener {
	src := b.AdvertisedListeners
	if src == nil {
		src = b.Listeners
	}
	var out []Listener
	for _, l := range src {
		if b.AdvertisedListeners == nil && contains(b.ControllerListenerNames, l.Name) && len(b.Listeners) > 1 {
			continue
		}
		if l.Host == "" || l.Host == "0.0.0.0" || l.Host == "::" {
			l.Host = "127.0.0.1"
		}
		out = append(out, l)
	}
	return out
}

// Get returns the static value of a broker property: the value set, else
// the default. ok is false if the property is unknown or has no value.
func (b *Broker) Get(key string) (value string, ok bool) {
	if v, ok := b.Raw[key]; ok {
		return v, true
	}
	d, ok := lookupBrokerDef(key)
	if !ok || d.def == null {
		return "", false
	}
	return d.def, true
}

// build validates raw (every key known, every value of the right type and
// range) and computes the typed configuration.
func build(raw map[string]string) (*Broker, *Error) {
	for _, k := range sortedKeys(raw) {
		if err := checkBrokerKey(k); err != nil {
			return nil, err
		}
		d, _ := lookupBrokerDef(k)
		if d.ignored {
			continue
		}
		if msg := check(d.typ, d.rule, raw[k]); msg != "" {
			return nil, valueError(k, raw[k], msg)
		}
	}
	g := getter(raw)
	b := &Broker{
		NodeID:                  g.i32("node.id"),
		ProcessRoles:            g.list("process.roles"),
		ClusterID:               g.str("cluster.id"),
		ControllerListenerNames: upper(g.list("controller.listener.names")),
		BrokerRack:              g.str("broker.rack"),
		InterBrokerListenerName: strings.ToUpper(g.str("inter.broker.listener.name")),
		SocketRequestMaxBytes:   g.i32("socket.request.max.bytes"),
		ConnectionsMaxIdleMs:    g.i64("connections.max.idle.ms"),
		QueuedMaxRequests:       g.i32("queued.max.requests"),

		AutoCreateTopicsEnable:      g.bool("auto.create.topics.enable"),
		DeleteTopicEnable:           g.bool("delete.topic.enable"),
		NumPartitions:               g.i32("num.partitions"),
		DefaultReplicationFactor:    int16(g.i32("default.replication.factor")),
		LogSegmentBytes:             g.i64("log.segment.bytes"),
		LogRollMs:                   g.synonyms("segment.ms"),
		LogRollJitterMs:             g.synonyms("segment.jitter.ms"),
		LogRetentionMs:              g.synonyms("retention.ms"),
		LogRetentionBytes:           g.i64("log.retention.bytes"),
		LogRetentionCheckIntervalMs: g.i64("log.retention.check.interval.ms"),
		LogCleanupPolicy:            g.list("log.cleanup.policy"),
		LogIndexIntervalBytes:       g.i32("log.index.interval.bytes"),
		LogIndexSizeMaxBytes:        g.i32("log.index.size.max.bytes"),
		LogFlushIntervalMessages:    g.i64("log.flush.interval.messages"),
		LogFlushIntervalMs:          g.synonyms("flush.ms"),
		LogFlushSchedulerIntervalMs: g.i64("log.flush.scheduler.interval.ms"),
		LogFlushOffsetCheckpointMs:  g.i32("log.flush.offset.checkpoint.interval.ms"),
		LogSegmentDeleteDelayMs:     g.i64("log.segment.delete.delay.ms"),
		LogPreallocate:              g.bool("log.preallocate"),
		LogMessageTimestampType:     g.str("log.message.timestamp.type"),
		LogMessageTimestampBeforeMs: g.i64("log.message.timestamp.before.max.ms"),
		LogMessageTimestampAfterMs:  g.i64("log.message.timestamp.after.max.ms"),
		MessageMaxBytes:             g.i32("message.max.bytes"),
		CompressionType:             g.str("compression.type"),
		MinInsyncReplicas:           g.i32("min.insync.replicas"),
		UncleanLeaderElectionEnable: g.bool("unclean.leader.election.enable"),

		LogCleanerEnable:             g.bool("log.cleaner.enable"),
		LogCleanerThreads:            g.i32("log.cleaner.threads"),
		LogCleanerBackoffMs:          g.i64("log.cleaner.backoff.ms"),
		LogCleanerDedupeBufferSize:   g.i64("log.cleaner.dedupe.buffer.size"),
		LogCleanerMinCleanableRatio:  parseFloat(g.str("log.cleaner.min.cleanable.ratio")),
		LogCleanerDeleteRetentionMs:  g.i64("log.cleaner.delete.retention.ms"),
		LogCleanerMinCompactionLagMs: g.i64("log.cleaner.min.compaction.lag.ms"),
		LogCleanerMaxCompactionLagMs: g.i64("log.cleaner.max.compaction.lag.ms"),

		ReplicaLagTimeMaxMs:          g.i64("replica.lag.time.max.ms"),
		ReplicaFetchMaxBytes:         g.i32("replica.fetch.max.bytes"),
		ReplicaFetchMinBytes:         g.i32("replica.fetch.min.bytes"),
		ReplicaFetchWaitMaxMs:        g.i32("replica.fetch.wait.max.ms"),
		ReplicaFetchResponseMaxBytes: g.i32("replica.fetch.response.max.bytes"),
		FetchMaxBytes:                g.i32("fetch.max.bytes"),

		OffsetsTopicNumPartitions:       g.i32("offsets.topic.num.partitions"),
		OffsetsTopicReplicationFactor:   int16(g.i32("offsets.topic.replication.factor")),
		OffsetsTopicSegmentBytes:        g.i32("offsets.topic.segment.bytes"),
		OffsetsRetentionMinutes:         g.i32("offsets.retention.minutes"),
		OffsetsRetentionCheckIntervalMs: g.i64("offsets.retention.check.interval.ms"),
		OffsetsCommitTimeoutMs:          g.i32("offsets.commit.timeout.ms"),
		GroupInitialRebalanceDelayMs:    g.i32("group.initial.rebalance.delay.ms"),
		GroupMaxSize:                    g.i32("group.max.size"),
		GroupMinSessionTimeoutMs:        g.i32("group.min.session.timeout.ms"),
		GroupMaxSessionTimeoutMs:        g.i32("group.max.session.timeout.ms"),

		TransactionStateLogNumPartitions:     g.i32("transaction.state.log.num.partitions"),
		TransactionStateLogReplicationFactor: int16(g.i32("transaction.state.log.replication.factor")),
		TransactionStateLogMinISR:            g.i32("transaction.state.log.min.isr"),
		TransactionMaxTimeoutMs:              g.i32("transaction.max.timeout.ms"),
		TransactionalIDExpirationMs:          g.i32("transactional.id.expiration.ms"),
		ProducerIDExpirationMs:               g.i32("producer.id.expiration.ms"),

		Raw: maps.Clone(raw),
	}
	b.ListenerSecurityProtocolMap, _ = parseProtocolMap(g.str("listener.security.protocol.map"))
	b.ControllerQuorumVoters, _ = parseVoters(g.str("controller.quorum.voters"))
	b.Listeners, _ = parseListeners(g.str("listeners"))
	// An empty advertised.listeners means unset, as a missing one does.
	b.AdvertisedListeners, _ = parseListeners(g.str("advertised.listeners"))
	b.LogDirs = g.list("log.dir")
	if _, ok := raw["log.dirs"]; ok {
		b.LogDirs = g.list("log.dirs")
	}
	if err := b.crossCheck(raw); err != nil {
		return nil, err
	}
	return b, nil
}

// crossCheck enforces the rules that involve more than one property.
func (b *Broker) crossCheck(raw map[string]string) *Error {
	if v, ok := raw["broker.id"]; ok {
		id := int32(parseInt(v))
		if _, set := raw["node.id"]; !set {
			b.NodeID = id
		} else if id != b.NodeID {
			return keyError("broker.id", fmt.Sprintf("%d differs from node.id %d; remove broker.id", id, b.NodeID))
		}
	}
	if len(b.ProcessRoles) == 0 {
		return valueError("process.roles", raw["process.roles"], "is empty; accepted values: broker, controller")
	}
	if b.LogRetentionMs == 0 {
		k := firstSet(raw, "log.retention.ms", "log.retention.minutes", "log.retention.hours")
		return valueError(k, raw[k], "must be -1 (unlimited) or a retention of at least 1 ms")
	}
	if len(b.LogDirs) == 0 {
		return keyError(firstSet(raw, "log.dirs", "log.dir"), "is empty; name at least one directory")
	}
	if d := duplicate(b.LogDirs); d != "" {
		return keyError(firstSet(raw, "log.dirs", "log.dir"), fmt.Sprintf("names %q more than once", d))
	}
	if len(b.Listeners) == 0 {
		return keyError("listeners", "is empty; set at least one NAME://host:port")
	}
	for i := range b.Listeners {
		if err := b.assignProtocol(&b.Listeners[i], "listeners"); err != nil {
			return err
		}
	}
	for i := range b.AdvertisedListeners {
		l := &b.AdvertisedListeners[i]
		if err := b.assignProtocol(l, "advertised.listeners"); err != nil {
			return err
		}
		if !b.hasListener(l.Name) {
			return keyError("advertised.listeners", fmt.Sprintf("names listener %s, which is not in listeners", l.Name))
		}
		if l.Host == "0.0.0.0" || l.Host == "::" {
			return keyError("advertised.listeners", fmt.Sprintf("%s uses the wildcard address %s; advertise a routable host", l.Name, l.Host))
		}
		if l.Port == 0 {
			return keyError("advertised.listeners", fmt.Sprintf("%s has port 0; advertise the real port", l.Name))
		}
	}
	if b.InterBrokerListenerName != "" && !b.hasListener(b.InterBrokerListenerName) {
		return keyError("inter.broker.listener.name", fmt.Sprintf("%s is not in listeners", b.InterBrokerListenerName))
	}
	if b.IsController() && len(b.ControllerQuorumVoters) > 0 {
		found := false
		for _, v := range b.ControllerQuorumVoters {
			found = found || v.ID == b.NodeID
		}
		if !found {
			return keyError("controller.quorum.voters", fmt.Sprintf("does not include node.id %d, but process.roles includes controller", b.NodeID))
		}
	}
	if b.GroupMinSessionTimeoutMs > b.GroupMaxSessionTimeoutMs {
		return keyError("group.min.session.timeout.ms", fmt.Sprintf("%d is greater than group.max.session.timeout.ms %d", b.GroupMinSessionTimeoutMs, b.GroupMaxSessionTimeoutMs))
	}
	if b.LogCleanerMinCompactionLagMs > b.LogCleanerMaxCompactionLagMs {
		return keyError("log.cleaner.min.compaction.lag.ms", fmt.Sprintf("%d is greater than log.cleaner.max.compaction.lag.ms %d", b.LogCleanerMinCompactionLagMs, b.LogCleanerMaxCompactionLagMs))
	}
	return nil
}

// assignProtocol sets l.SecurityProtocol from listener.security.protocol.map;
// a controller listener missing from the map is PLAINTEXT, as in Kafka.
func (b *Broker) assignProtocol(l *Listener, key string) *Error {
	if p, ok := b.ListenerSecurityProtocolMap[l.Name]; ok {
		l.SecurityProtocol = p
		return nil
	}
	if contains(b.ControllerListenerNames, l.Name) {
		l.SecurityProtocol = "PLAINTEXT"
		return nil
	}
	return keyError(key, fmt.Sprintf("listener %s has no security protocol; add %s:PLAINTEXT (or SSL, SASL_PLAINTEXT, SASL_SSL) to listener.security.protocol.map", l.Name, l.Name))
}

func (b *Broker) hasListener(name string) bool {
	for _, l := range b.Listeners {
		if l.Name == name {
			return true
		}
	}
	return false
}

// getter reads validated values from raw, falling back to the defaults.
type getter map[string]string

func (g getter) str(key string) string {
	if v, ok := g[key]; ok {
		return strings.TrimSpace(v)
	}
	if d := brokerDefIndex[key].def; d != null {
		return d
	}
	return ""
}

func (g getter) i32(key string) int32     { return int32(parseInt(g.str(key))) }
func (g getter) i64(key string) int64     { return parseInt(g.str(key)) }
func (g getter) bool(key string) bool     { return parseBool(g.str(key)) }
func (g getter) list(key string) []string { return splitList(g.str(key)) }

// synonyms resolves the broker default of a topic config from its synonym
// chain: the first synonym set wins, else the first with a default.
func (g getter) synonyms(topicKey string) int64 {
	chain := topicDefIndex[topicKey].Synonyms
	for _, s := range chain {
		if v, ok := g[s.Name]; ok {
			return parseInt(s.convert(v))
		}
	}
	for _, s := range chain {
		if d := brokerDefIndex[s.Name].def; d != null {
			return parseInt(s.convert(d))
		}
	}
	return 0
}

func firstSet(raw map[string]string, keys ...string) string {
	for _, k := range keys {
		if _, ok := raw[k]; ok {
			return k
		}
	}
	return keys[len(keys)-1]
}

func duplicate(list []string) string {
	seen := map[string]bool{}
	for _, s := range list {
		if seen[s] {
			return s
		}
		seen[s] = true
	}
	return ""
}

func upper(list []string) []string {
	for i := range list {
		list[i] = strings.ToUpper(list[i])
	}
	return list
}

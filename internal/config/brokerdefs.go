package config

import (
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// updateMode says whether and how a broker property can change at run time,
// in the words of Kafka's DescribeConfigs documentation.
type updateMode int8

const (
	readOnly    updateMode = iota // only in server.properties; restart to change
	perBroker                     // dynamic, for one broker only (not a cluster default)
	clusterWide                   // dynamic, per broker or as the cluster-wide default
)

func (m updateMode) String() string {
	return [...]string{"read-only", "per-broker", "cluster-wide"}[m]
}

// brokerDef defines one broker property.
type brokerDef struct {
	name      string
	typ       kmsg.ConfigType
	def       string // Sluice's default (Kafka's unless noted in the package doc); null for none
	rule      rule
	mode      updateMode
	sensitive bool
	ignored   bool // accepted for compatibility, not acted on; not validated
	doc       string
}

const (
	maxLong = "9223372036854775807" // Long.MAX_VALUE
	maxInt  = "2147483647"          // Integer.MAX_VALUE
)

// brokerDefs lists the broker properties Sluice understands. Keep sorted
// within each group; lookups go through brokerDefIndex.
var brokerDefs = []brokerDef{
	// Node identity and the KRaft quorum.
	{name: "node.id", typ: tInt, def: "1", rule: atLeast(0), doc: "The node ID of this server (broker and/or controller). Must be unique in the cluster."},
	{name: "broker.id", typ: tInt, def: null, rule: atLeast(0), doc: "Alias of node.id kept for old configuration files; if both are set they must be equal."},
	{name: "process.roles", typ: tList, def: "broker,controller", rule: oneOf("broker", "controller"), doc: "The roles this process plays: broker, controller, or both (combined mode)."},
	{name: "cluster.id", typ: tString, def: null, doc: "Sluice extension: the cluster ID to format new log directories with. Kafka takes it from kafka-storage format; when unset, a new single node generates one."},
	{name: "controller.quorum.voters", typ: tList, def: "", rule: custom(checkVoters), doc: "The controller quorum as a list of id@host:port. Empty on a combined single node means this node alone."},
	{name: "controller.listener.names", typ: tList, def: "CONTROLLER", doc: "The listener names used by the controller. A listener named here is not advertised to clients."},
	{name: "broker.rack", typ: tString, def: null, doc: "The rack of this broker, used for rack-aware replica placement."},

	// Listeners.
	{name: "listeners", typ: tList, def: "PLAINTEXT://127.0.0.1:9092", rule: custom(checkListeners), doc: "The addresses to listen on, as NAME://host:port. An empty host binds all interfaces; port 0 picks a free port."},
	{name: "advertised.listeners", typ: tList, def: null, rule: custom(checkListeners), doc: "The addresses clients are told to use, if different from listeners. Each name must also appear in listeners."},
	{name: "listener.security.protocol.map", typ: tString, def: "PLAINTEXT:PLAINTEXT,SSL:SSL,SASL_PLAINTEXT:SASL_PLAINTEXT,SASL_SSL:SASL_SSL", rule: custom(checkProtocolMap), doc: "Maps listener names to security protocols, as NAME:PROTOCOL pairs."},
	{name: "inter.broker.listener.name", typ: tString, def: null, doc: "The listener brokers use to talk to each other. Defaults to the first non-controller listener."},
	{name: "socket.request.max.bytes", typ: tInt, def: "104857600", rule: atLeast(1), doc: "The maximum size of a request; larger requests close the connection."},
	{name: "connections.max.idle.ms", typ: tLong, def: "600000", doc: "Idle connections are closed after this many milliseconds."},
	{name: "queued.max.requests", typ: tInt, def: "500", rule: atLeast(1), doc: "The number of requests queued before the network threads stop reading."},

	// Topics and the log.
	{name: "auto.create.topics.enable", typ: tBool, def: "true", doc: "Create a topic when a client asks for its metadata or produces to it."},
	{name: "delete.topic.enable", typ: tBool, def: "true", doc: "Allow topics to be deleted with the DeleteTopics API."},
	{name: "num.partitions", typ: tInt, def: "1", rule: atLeast(1), doc: "The default number of partitions for new topics."},
	{name: "default.replication.factor", typ: tInt, def: "1", rule: between(1, math.MaxInt16), doc: "The default replication factor for new topics."},
	{name: "log.dir", typ: tList, def: "./data", doc: "The directory where log data is kept, if log.dirs is not set."},
	{name: "log.dirs", typ: tList, def: null, doc: "Comma separated directories where log data is kept. If not set, log.dir is used."},
	{name: "log.segment.bytes", typ: tInt, def: "1073741824", rule: atLeast(1 << 20), mode: clusterWide, doc: "The maximum size of a single segment file."},
	{name: "log.roll.ms", typ: tLong, def: null, rule: atLeast(1), mode: clusterWide, doc: "The maximum time before a new segment is rolled, in milliseconds. If not set, log.roll.hours is used."},
	{name: "log.roll.hours", typ: tInt, def: "168", rule: atLeast(1), mode: clusterWide, doc: "The maximum time before a new segment is rolled, in hours; secondary to log.roll.ms."},
	{name: "log.roll.jitter.ms", typ: tLong, def: null, rule: atLeast(0), mode: clusterWide, doc: "The maximum jitter subtracted from the roll time, in milliseconds. If not set, log.roll.jitter.hours is used."},
	{name: "log.roll.jitter.hours", typ: tInt, def: "0", rule: atLeast(0), mode: clusterWide, doc: "The maximum jitter subtracted from the roll time, in hours; secondary to log.roll.jitter.ms."},
	{name: "log.retention.ms", typ: tLong, def: null, mode: clusterWide, doc: "How long to keep a segment before deleting it, in milliseconds; -1 for no limit. If not set, log.retention.minutes is used."},
	{name: "log.retention.minutes", typ: tInt, def: null, mode: clusterWide, doc: "How long to keep a segment before deleting it, in minutes; secondary to log.retention.ms. If not set, log.retention.hours is used."},
	{name: "log.retention.hours", typ: tInt, def: "168", mode: clusterWide, doc: "How long to keep a segment before deleting it, in hours; tertiary to log.retention.ms."},
	{name: "log.retention.bytes", typ: tLong, def: "-1", mode: clusterWide, doc: "The maximum size of a partition's log before old segments are deleted; -1 for no limit."},
	{name: "log.retention.check.interval.ms", typ: tLong, def: "300000", rule: atLeast(1), doc: "How often, in milliseconds, logs are checked for segments to delete."},
	{name: "log.cleanup.policy", typ: tList, def: "delete", rule: oneOf("compact", "delete"), mode: clusterWide, doc: "The default cleanup policy for segments beyond the retention window: delete, compact, or both."},
	{name: "log.index.interval.bytes", typ: tInt, def: "4096", rule: atLeast(0), mode: clusterWide, doc: "The number of log bytes between offset index entries."},
	{name: "log.index.size.max.bytes", typ: tInt, def: "10485760", rule: atLeast(4), mode: clusterWide, doc: "The maximum size of an offset index file."},
	{name: "log.flush.interval.messages", typ: tLong, def: maxLong, rule: atLeast(1), mode: clusterWide, doc: "The number of messages appended to a partition before it is fsynced."},
	{name: "log.flush.interval.ms", typ: tLong, def: null, mode: clusterWide, doc: "The maximum time a message stays unsynced, in milliseconds. If not set, log.flush.scheduler.interval.ms is used."},
	{name: "log.flush.scheduler.interval.ms", typ: tLong, def: maxLong, mode: clusterWide, doc: "How often, in milliseconds, the flusher checks whether a log needs an fsync."},
	{name: "log.flush.offset.checkpoint.interval.ms", typ: tInt, def: "60000", rule: atLeast(0), doc: "How often the recovery point is checkpointed, in milliseconds."},
	{name: "log.flush.start.offset.checkpoint.interval.ms", typ: tInt, def: "60000", rule: atLeast(0), doc: "How often the log start offset is checkpointed, in milliseconds."},
	{name: "log.segment.delete.delay.ms", typ: tLong, def: "60000", rule: atLeast(0), mode: clusterWide, doc: "How long a deleted segment's files stay on disk before they are removed."},
	{name: "log.preallocate", typ: tBool, def: "false", mode: clusterWide, doc: "Preallocate segment files when they are created."},
	{name: "log.message.timestamp.type", typ: tString, def: "CreateTime", rule: oneOf("CreateTime", "LogAppendTime"), mode: clusterWide, doc: "Whether record timestamps are the producer's create time or the broker's append time."},
	{name: "log.message.timestamp.before.max.ms", typ: tLong, def: maxLong, rule: atLeast(0), mode: clusterWide, doc: "How far a CreateTime timestamp may lie before the broker's clock, in milliseconds."},
	{name: "log.message.timestamp.after.max.ms", typ: tLong, def: maxLong, rule: atLeast(0), mode: clusterWide, doc: "How far a CreateTime timestamp may lie after the broker's clock, in milliseconds."},
	{name: "log.local.retention.ms", typ: tLong, def: "-2", rule: atLeast(-2), mode: clusterWide, doc: "Local retention for tiered topics; -2 means use log.retention.ms."},
	{name: "log.local.retention.bytes", typ: tLong, def: "-2", rule: atLeast(-2), mode: clusterWide, doc: "Local retention size for tiered topics; -2 means use log.retention.bytes."},
	{name: "message.max.bytes", typ: tInt, def: "1048588", rule: atLeast(0), mode: clusterWide, doc: "The largest record batch size allowed, after compression."},
	{name: "compression.type", typ: tString, def: "producer", rule: oneOf(compressionTypes...), mode: clusterWide, doc: "The final compression of topic data: a codec, uncompressed, or producer to keep the producer's."},
	{name: "compression.gzip.level", typ: tInt, def: "-1", rule: custom(checkGzipLevel), mode: clusterWide, doc: "The gzip level used when compression.type is gzip."},
	{name: "compression.lz4.level", typ: tInt, def: "9", rule: between(1, 17), mode: clusterWide, doc: "The lz4 level used when compression.type is lz4."},
	{name: "compression.zstd.level", typ: tInt, def: "3", rule: between(-131072, 22), mode: clusterWide, doc: "The zstd level used when compression.type is zstd."},
	{name: "min.insync.replicas", typ: tInt, def: "1", rule: atLeast(1), mode: clusterWide, doc: "The number of in-sync replicas that must acknowledge an acks=all produce."},
	{name: "unclean.leader.election.enable", typ: tBool, def: "false", mode: clusterWide, doc: "Allow a replica outside the ISR to become leader, at the cost of losing data."},
	{name: "num.recovery.threads.per.data.dir", typ: tInt, def: "1", rule: atLeast(1), mode: clusterWide, doc: "Threads per log directory for recovery at startup and flushing at shutdown."},

	// Log cleaner (compaction).
	{name: "log.cleaner.enable", typ: tBool, def: "true", doc: "Run the log cleaner, which compacts topics with cleanup.policy=compact."},
	{name: "log.cleaner.threads", typ: tInt, def: "1", rule: atLeast(0), mode: clusterWide, doc: "The number of log cleaner threads."},
	{name: "log.cleaner.backoff.ms", typ: tLong, def: "15000", rule: atLeast(0), mode: clusterWide, doc: "How long the cleaner sleeps when there is nothing to clean."},
	{name: "log.cleaner.dedupe.buffer.size", typ: tLong, def: "134217728", mode: clusterWide, doc: "Memory used for deduplication across all cleaner threads."},
	{name: "log.cleaner.io.buffer.size", typ: tInt, def: "524288", rule: atLeast(0), mode: clusterWide, doc: "Memory used for cleaner I/O buffers across all cleaner threads."},
	{name: "log.cleaner.io.buffer.load.factor", typ: tDouble, def: "0.9", mode: clusterWide, doc: "The load factor of the cleaner's deduplication buffer."},
	{name: "log.cleaner.io.max.bytes.per.second", typ: tDouble, def: "1.7976931348623157E308", mode: clusterWide, doc: "Throttles cleaner I/O to this many bytes per second."},
	{name: "log.cleaner.min.cleanable.ratio", typ: tDouble, def: "0.5", rule: between(0, 1), mode: clusterWide, doc: "The minimum ratio of dirty to total log for a log to be cleaned."},
	{name: "log.cleaner.delete.retention.ms", typ: tLong, def: "86400000", rule: atLeast(0), mode: clusterWide, doc: "How long tombstones are kept in compacted topics."},
	{name: "log.cleaner.min.compaction.lag.ms", typ: tLong, def: "0", rule: atLeast(0), mode: clusterWide, doc: "The minimum time a record stays uncompacted."},
	{name: "log.cleaner.max.compaction.lag.ms", typ: tLong, def: maxLong, rule: atLeast(1), mode: clusterWide, doc: "The maximum time a record stays ineligible for compaction."},

	// Replication.
	{name: "replica.lag.time.max.ms", typ: tLong, def: "30000", doc: "A follower that has not caught up for this long is removed from the ISR."},
	{name: "replica.fetch.max.bytes", typ: tInt, def: "1048576", rule: atLeast(0), doc: "The bytes a follower asks for per partition in a fetch."},
	{name: "replica.fetch.min.bytes", typ: tInt, def: "1", doc: "The minimum bytes a follower's fetch waits for."},
	{name: "replica.fetch.wait.max.ms", typ: tInt, def: "500", doc: "The maximum time a follower's fetch waits for data."},
	{name: "replica.fetch.response.max.bytes", typ: tInt, def: "10485760", rule: atLeast(0), doc: "The bytes a follower asks for in a whole fetch response."},
	{name: "fetch.max.bytes", typ: tInt, def: "57671680", rule: atLeast(1024), doc: "The maximum bytes returned by a consumer fetch."},

	// Group coordinator.
	{name: "offsets.topic.num.partitions", typ: tInt, def: "50", rule: atLeast(1), doc: "The number of partitions of __consumer_offsets (cannot change once created)."},
	{name: "offsets.topic.replication.factor", typ: tShort, def: "1", rule: atLeast(1), doc: "The replication factor of __consumer_offsets. Sluice default 1 (Kafka: 3) so a single node works."},
	{name: "offsets.topic.segment.bytes", typ: tInt, def: "104857600", rule: atLeast(1), doc: "The segment size of __consumer_offsets."},
	{name: "offsets.retention.minutes", typ: tInt, def: "10080", rule: atLeast(1), doc: "Committed offsets of an empty group are kept this many minutes."},
	{name: "offsets.retention.check.interval.ms", typ: tLong, def: "600000", rule: atLeast(1), doc: "How often expired offsets are looked for."},
	{name: "offsets.commit.timeout.ms", typ: tInt, def: "5000", rule: atLeast(1), doc: "How long an offset commit waits for __consumer_offsets replication."},
	{name: "group.initial.rebalance.delay.ms", typ: tInt, def: "3000", doc: "How long the first rebalance of a new group waits for more members."},
	{name: "group.max.size", typ: tInt, def: maxInt, rule: atLeast(1), doc: "The maximum number of members in a classic group."},
	{name: "group.min.session.timeout.ms", typ: tInt, def: "6000", doc: "The smallest session timeout a member may ask for."},
	{name: "group.max.session.timeout.ms", typ: tInt, def: "1800000", doc: "The largest session timeout a member may ask for."},

	// Transactions and idempotence.
	{name: "transaction.state.log.num.partitions", typ: tInt, def: "50", rule: atLeast(1), doc: "The number of partitions of __transaction_state."},
	{name: "transaction.state.log.replication.factor", typ: tShort, def: "1", rule: atLeast(1), doc: "The replication factor of __transaction_state. Sluice default 1 (Kafka: 3)."},
	{name: "transaction.state.log.min.isr", typ: tInt, def: "1", rule: atLeast(1), doc: "min.insync.replicas of __transaction_state. Sluice default 1 (Kafka: 2)."},
	{name: "transaction.max.timeout.ms", typ: tInt, def: "900000", rule: atLeast(1), doc: "The largest transaction timeout a producer may ask for."},
	{name: "transactional.id.expiration.ms", typ: tInt, def: "604800000", rule: atLeast(1), doc: "A transactional id unused for this long is expired."},
	{name: "producer.id.expiration.ms", typ: tInt, def: "86400000", rule: atLeast(1), mode: clusterWide, doc: "An idempotent producer id unused for this long is expired."},
}

// compressionTypes are the values of compression.type (BrokerCompressionType).
var compressionTypes = []string{"uncompressed", "zstd", "lz4", "snappy", "gzip", "producer"}

// ignoredKeys are Kafka broker properties that Sluice accepts so that real
// server.properties files load, but does not act on (yet). Their values are
// kept in Broker.Raw and not validated. The mode is Kafka's.
var ignoredKeys = map[string]updateMode{
	"alter.config.policy.class.name":                              readOnly,
	"alter.log.dirs.replication.quota.window.num":                 readOnly,
	"authorizer.class.name":                                       readOnly,
	"auto.include.jmx.reporter":                                   readOnly,
	"auto.leader.rebalance.enable":                                readOnly,
	"background.threads":                                          clusterWide,
	"broker.heartbeat.interval.ms":                                readOnly,
	"broker.session.timeout.ms":                                   readOnly,
	"client.quota.callback.class":                                 readOnly,
	"config.providers":                                            readOnly,
	"connection.failed.authentication.delay.ms":                   readOnly,
	"controlled.shutdown.enable":                                  readOnly,
	"controller.quorum.append.linger.ms":                          readOnly,
	"controller.quorum.bootstrap.servers":                         readOnly,
	"controller.quorum.election.backoff.max.ms":                   readOnly,
	"controller.quorum.election.timeout.ms":                       readOnly,
	"controller.quorum.fetch.timeout.ms":                          readOnly,
	"controller.quorum.request.timeout.ms":                        readOnly,
	"controller.quorum.retry.backoff.ms":                          readOnly,
	"create.topic.policy.class.name":                              readOnly,
	"delete.records.purgatory.purge.interval.requests":            readOnly,
	"early.start.listeners":                                       readOnly,
	"eligible.leader.replicas.enable":                             readOnly,
	"fetch.purgatory.purge.interval.requests":                     readOnly,
	"follower.replication.throttled.rate":                         clusterWide,
	"group.consumer.heartbeat.interval.ms":                        readOnly,
	"group.consumer.max.size":                                     readOnly,
	"group.consumer.session.timeout.ms":                           readOnly,
	"group.coordinator.rebalance.protocols":                       readOnly,
	"group.coordinator.threads":                                   readOnly,
	"initial.broker.registration.timeout.ms":                      readOnly,
	"inter.broker.protocol.version":                               readOnly,
	"kafka.metrics.polling.interval.secs":                         readOnly,
	"kafka.metrics.reporters":                                     readOnly,
	"leader.imbalance.check.interval.seconds":                     readOnly,
	"leader.imbalance.per.broker.percentage":                      readOnly,
	"leader.replication.throttled.rate":                           clusterWide,
	"log.dir.failure.timeout.ms":                                  readOnly,
	"log.message.downconversion.enable":                           clusterWide,
	"log.message.format.version":                                  readOnly,
	"max.connection.creation.rate":                                clusterWide,
	"max.connections":                                             clusterWide,
	"max.connections.per.ip":                                      clusterWide,
	"max.connections.per.ip.overrides":                            clusterWide,
	"max.incremental.fetch.session.cache.slots":                   readOnly,
	"metadata.log.dir":                                            readOnly,
	"metadata.log.max.record.bytes.between.snapshots":             readOnly,
	"metadata.log.max.snapshot.interval.ms":                       readOnly,
	"metadata.log.segment.bytes":                                  readOnly,
	"metadata.log.segment.ms":                                     readOnly,
	"metadata.max.idle.interval.ms":                               readOnly,
	"metadata.max.retention.bytes":                                readOnly,
	"metadata.max.retention.ms":                                   readOnly,
	"metric.reporters":                                            clusterWide,
	"metrics.num.samples":                                         readOnly,
	"metrics.recording.level":                                     readOnly,
	"metrics.sample.window.ms":                                    readOnly,
	"num.network.threads":                                         clusterWide,
	"num.io.threads":                                              clusterWide,
	"num.replica.alter.log.dirs.threads":                          readOnly,
	"num.replica.fetchers":                                        clusterWide,
	"offsets.load.buffer.size":                                    readOnly,
	"offsets.topic.compression.codec":                             readOnly,
	"principal.builder.class":                                     perBroker,
	"producer.purgatory.purge.interval.requests":                  readOnly,
	"queued.max.request.bytes":                                    readOnly,
	"quota.window.num":                                            readOnly,
	"quota.window.size.seconds":                                   readOnly,
	"replica.alter.log.dirs.io.max.bytes.per.second":              clusterWide,
	"replica.fetch.backoff.ms":                                    readOnly,
	"replica.high.watermark.checkpoint.interval.ms":               readOnly,
	"replica.selector.class":                                      readOnly,
	"replica.socket.receive.buffer.bytes":                         readOnly,
	"replica.socket.timeout.ms":                                   readOnly,
	"replication.quota.window.num":                                readOnly,
	"replication.quota.window.size.seconds":                       readOnly,
	"request.timeout.ms":                                          readOnly,
	"reserved.broker.max.id":                                      readOnly,
	"security.inter.broker.protocol":                              readOnly,
	"server.max.startup.time.ms":                                  readOnly,
	"socket.connection.setup.timeout.max.ms":                      readOnly,
	"socket.connection.setup.timeout.ms":                          readOnly,
	"socket.listen.backlog.size":                                  readOnly,
	"socket.receive.buffer.bytes":                                 readOnly,
	"socket.send.buffer.bytes":                                    readOnly,
	"super.users":                                                 readOnly,
	"transaction.abort.timed.out.transaction.cleanup.interval.ms": readOnly,
	"transaction.partition.verification.enable":                   clusterWide,
	"transaction.remove.expired.transaction.cleanup.interval.ms":  readOnly,
	"transaction.state.log.load.buffer.size":                      readOnly,
	"transaction.state.log.segment.bytes":                         readOnly,
	"unstable.api.versions.enable":                                readOnly,
	"unstable.feature.versions.enable":                            readOnly,
}

// ignoredPrefixes are families of Kafka properties accepted and not acted on.
// Security settings are per-broker in Kafka (listener-prefixed or not).
var ignoredPrefixes = map[string]updateMode{
	"ssl.":              perBroker,
	"sasl.":             perBroker,
	"listener.name.":    perBroker,
	"password.encoder.": readOnly,
	"remote.log.":       readOnly,
	"group.share.":      readOnly,
	"share.":            readOnly,
	"confluent.":        readOnly,
	"log4j.":            readOnly,
}

// unsupportedPrefixes are properties that mean a mode Sluice does not have.
var unsupportedPrefixes = map[string]string{
	"zookeeper.": "ZooKeeper mode is not supported; Sluice runs in KRaft mode only (use process.roles, node.id and controller.quorum.voters)",
}

var brokerDefIndex = func() map[string]*brokerDef {
	m := make(map[string]*brokerDef, len(brokerDefs))
	for i := range brokerDefs {
		m[brokerDefs[i].name] = &brokerDefs[i]
	}
	return m
}()

// lookupBrokerDef returns the definition of key, synthesising one for an
// ignored key; ok is false for unknown keys.
func lookupBrokerDef(key string) (d *brokerDef, ok bool) {
	if d := brokerDefIndex[key]; d != nil {
		return d, true
	}
	if m, ok := ignoredKeys[key]; ok {
		return &brokerDef{name: key, typ: tString, def: null, mode: m, ignored: true, sensitive: isSensitiveName(key)}, true
	}
	for p, m := range ignoredPrefixes {
		if strings.HasPrefix(key, p) {
			return &brokerDef{name: key, typ: tString, def: null, mode: m, ignored: true, sensitive: isSensitiveName(key)}, true
		}
	}
	return nil, false
}

// isSensitiveName reports whether an ignored key holds a secret (Kafka's
// PASSWORD type), so that its value is never described.
func isSensitiveName(key string) bool {
	return strings.HasSuffix(key, ".password") || strings.HasSuffix(key, "jaas.config") ||
		strings.HasSuffix(key, ".secret") || strings.HasSuffix(key, "keystore.key") ||
		strings.HasSuffix(key, "keystore.certificate.chain") || strings.HasSuffix(key, "truststore.certificates") ||
		strings.HasSuffix(key, "client.secret")
}

// checkBrokerKey returns an error for an unknown or unsupported key.
func checkBrokerKey(key string) *Error {
	if _, ok := lookupBrokerDef(key); ok {
		return nil
	}
	for p, why := range unsupportedPrefixes {
		if strings.HasPrefix(key, p) {
			return keyError(key, why)
		}
	}
	// A topic config name in server.properties: point at its broker synonym.
	if d, ok := topicDefIndex[key]; ok && len(d.Synonyms) > 0 {
		return &Error{Key: key, msg: fmt.Sprintf("unknown property %q (did you mean %s? %s is a topic config)", key, d.Synonyms[0].Name, key)}
	}
	return unknownError("property", key, brokerKeyNames())
}

func brokerKeyNames() []string {
	names := make([]string, 0, len(brokerDefs)+len(ignoredKeys))
	for _, d := range brokerDefs {
		names = append(names, d.name)
	}
	for k := range ignoredKeys {
		names = append(names, k)
	}
	sort.Strings(names)
	return names
}

func checkGzipLevel(v string) string {
	n := parseInt(v)
	if n == -1 || (n >= 1 && n <= 9) {
		return ""
	}
	return "must be -1 (the default level) or between 1 and 9"
}

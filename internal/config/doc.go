// Package config holds Kafka's broker and topic configuration, the Kafka
// way: the same property names, types, defaults, ranges and precedence as
// Apache Kafka 4 (KafkaConfig, ServerLogConfigs, LogConfig,
// ServerTopicConfigSynonyms, DynamicBrokerConfig), so that a real
// server.properties file and Kafka's tools work unchanged.
//
// # Broker configuration
//
// Load reads a java.util.Properties file and applies kafka-server-start
// style overrides ("key=value"); Default is the embedded single-node
// configuration. Both return an immutable *Broker with typed fields named
// after the properties, and Raw, the properties as set.
//
//	b, err := config.Load("server.properties", []string{"log.retention.hours=24"})
//	var cerr *config.Error
//	if errors.As(err, &cerr) { ... exit 2 ... }
//
// Properties fall in three groups:
//
//   - understood: validated (type, range, accepted values) and turned into
//     fields of Broker; described by DescribeBroker;
//   - accepted but ignored: Kafka properties Sluice does not act on yet
//     (thread pools, socket buffers, security, metrics, ...), kept in Raw so
//     that existing files load;
//   - everything else is an error, with a suggestion for typos. zookeeper.*
//     is an error of its own: Sluice runs in KRaft mode only.
//
// Derived settings keep Kafka's precedence: log.retention.ms >
// log.retention.minutes > log.retention.hours (a negative value means
// unlimited, 0 is rejected); log.roll.ms > log.roll.hours;
// log.flush.interval.ms > log.flush.scheduler.interval.ms; log.dirs >
// log.dir; node.id, with broker.id as an alias.
//
// Defaults are Kafka's except where a single node needs otherwise:
// node.id=1, process.roles=broker,controller, listeners=
// PLAINTEXT://127.0.0.1:9092, log.dir=./data, controller.listener.names=
// CONTROLLER, and a replication factor of 1 (min ISR 1) for
// __consumer_offsets and __transaction_state. An empty
// controller.quorum.voters means this node is the only voter.
//
// # Topic configuration
//
// TopicConfigs lists every Kafka topic config with its type, default,
// validator, broker synonyms and documentation. ValidateTopicConfigs checks
// the configs of a CreateTopics or AlterConfigs request; ResolveTopic
// computes a topic's effective configuration with Kafka's precedence: topic
// override > dynamic cluster-default broker config > static broker config >
// default, each broker level walking the synonym chain in Kafka's order.
//
// # DescribeConfigs
//
// DescribeTopic and DescribeBroker are pure functions that build
// DescribeConfigs response entries (value, source, synonyms, read-only,
// sensitivity, type, documentation) from the static configuration and the
// dynamic configuration maps the caller keeps. ValidateBrokerDynamic and
// ValidateBrokerDynamicDefault say which broker properties AlterConfigs may
// change, per broker or cluster-wide.
//
// NB: where Kafka's own answer is inconsistent (a dynamic default of
// log.retention.hours next to a static log.retention.ms: Kafka computes the
// value from the merged properties but reports the dynamic source), Sluice
// takes the value from the source it reports, level by level.
//
// Errors are *Error values with one-line messages that name the property
// and what is accepted.
package config

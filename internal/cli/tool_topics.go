package cli

import (
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// topicsOpts are kafka-topics' options (Kafka's TopicCommand).
type topicsOpts struct {
	conn                      conn
	commandConfig             string
	list, create, alter       bool
	del, describe             bool
	topic, topicID            string
	configs, deleteConfigs    []string
	partitions                int32
	replicationFactor         int32
	replicaAssignment         string
	underReplicated           bool
	unavailable               bool
	underMinIsr, atMinIsr     bool
	withOverrides             bool
	ifExists, ifNotExists     bool
	excludeInternal           bool
	partitionSizeLimitPerResp int32
}

func newKafkaTopicsCmd() *cobra.Command {
	o := &topicsOpts{}
	cmd := &cobra.Command{
		Use:   "kafka-topics",
		Short: "Create, delete, describe, or change a topic (Kafka's kafka-topics.sh)",
		Example: `  kafka-topics.sh --bootstrap-server localhost:9092 --create --topic t --partitions 3 --replication-factor 1
  kafka-topics.sh --bootstrap-server localhost:9092 --describe --topic t
  kafka-topics.sh --bootstrap-server localhost:9092 --alter --topic t --partitions 6`,
		RunE: func(cmd *cobra.Command, _ []string) error { return runKafkaTopics(cmd, o) },
	}
	f := cmd.Flags()
	addKafkaConnFlags(cmd, &o.conn, &o.commandConfig, "command-config")
	f.BoolVar(&o.list, "list", false, "List all available topics.")
	f.BoolVar(&o.create, "create", false, "Create a new topic.")
	f.BoolVar(&o.del, "delete", false, "Delete a topic.")
	f.BoolVar(&o.alter, "alter", false, "Alter the number of partitions and replica assignment.")
	f.BoolVar(&o.describe, "describe", false, "List details for the given topics.")
	f.StringVar(&o.topic, "topic", "", "The topic to create, alter, describe or delete. It also accepts a regular expression, except for --create.")
	f.StringVar(&o.topicID, "topic-id", "", "The topic-id to describe.")
	f.StringArrayVar(&o.configs, "config", nil, "A topic configuration override for the topic being created (name=value).")
	f.StringArrayVar(&o.deleteConfigs, "delete-config", nil, "No longer supported (use kafka-configs).")
	f.Int32Var(&o.partitions, "partitions", 0, "The number of partitions for the topic being created or altered.")
	f.Int32Var(&o.replicationFactor, "replication-factor", 0, "The replication factor for each partition in the topic being created.")
	f.StringVar(&o.replicaAssignment, "replica-assignment", "", "Manual partition-to-broker assignments: b1:b2,b1:b2,...")
	f.BoolVar(&o.underReplicated, "under-replicated-partitions", false, "If set when describing topics, only show under-replicated partitions.")
	f.BoolVar(&o.unavailable, "unavailable-partitions", false, "If set when describing topics, only show partitions whose leader is not available.")
	f.BoolVar(&o.underMinIsr, "under-min-isr-partitions", false, "If set when describing topics, only show partitions whose isr count is less than the configured minimum.")
	f.BoolVar(&o.atMinIsr, "at-min-isr-partitions", false, "If set when describing topics, only show partitions whose isr count is equal to the configured minimum.")
	f.BoolVar(&o.withOverrides, "topics-with-overrides", false, "If set when describing topics, only show topics that have overridden configs.")
	f.BoolVar(&o.ifExists, "if-exists", false, "If set when altering or deleting or describing topics, the action will only execute if the topic exists.")
	f.BoolVar(&o.ifNotExists, "if-not-exists", false, "If set when creating topics, the action will only execute if the topic does not already exist.")
	f.BoolVar(&o.excludeInternal, "exclude-internal", false, "Exclude internal topics when listing or describing topics.")
	f.Int32Var(&o.partitionSizeLimitPerResp, "partition-size-limit-per-response", 2000, "The maximum partition size to be included in one DescribeTopicPartitions response.")
	return kafkaTool(cmd, "Error while executing topic command : ")
}

func (o *topicsOpts) check(cmd *cobra.Command) error {
	n := 0
	for _, b := range []bool{o.list, o.create, o.alter, o.del, o.describe} {
		if b {
			n++
		}
	}
	if n != 1 {
		return usageErrorf("Command must include exactly one action: --list, --describe, --create, --alter or --delete")
	}
	if (o.create || o.alter || o.del) && o.topic == "" {
		return usageErrorf("Missing required argument \"[topic]\"")
	}
	if o.alter && !cmd.Flags().Changed("partitions") && o.replicaAssignment == "" {
		return usageErrorf("Missing required argument \"[partitions]\"")
	}
	if len(o.configs) > 0 && !o.create {
		return usageErrorf("Option \"[config]\" can't be used with option \"[%s]\" (to alter topic configurations, use kafka-configs)", action(o))
	}
	if len(o.deleteConfigs) > 0 {
		return usageErrorf("Option \"[delete-config]\" is no longer supported; use kafka-configs --alter --delete-config")
	}
	if o.ifNotExists && !o.create {
		return usageErrorf("Option \"[if-not-exists]\" can only be used with option \"[create]\"")
	}
	if o.ifExists && !(o.alter || o.del || o.describe) {
		return usageErrorf("Option \"[if-exists]\" can only be used with options \"[alter]\", \"[delete]\" or \"[describe]\"")
	}
	if o.create && cmd.Flags().Changed("partitions") && o.partitions < 1 {
		return usageErrorf("The partitions must be greater than 0")
	}
	if o.create && cmd.Flags().Changed("replication-factor") && (o.replicationFactor < 1 || o.replicationFactor > 32767) {
		return usageErrorf("The replication factor must be between 1 and 32767 inclusive")
	}
	if o.replicaAssignment != "" && (cmd.Flags().Changed("replication-factor") || (o.create && cmd.Flags().Changed("partitions"))) {
		return usageErrorf("Option \"[replica-assignment]\" can't be used with options \"[partitions]\" or \"[replication-factor]\" on create")
	}
	return nil
}

func action(o *topicsOpts) string {
	switch {
	case o.list:
		return "list"
	case o.alter:
		return "alter"
	case o.del:
		return "delete"
	case o.describe:
		return "describe"
	}
	return "create"
}

func runKafkaTopics(cmd *cobra.Command, o *topicsOpts) error {
	if err := o.check(cmd); err != nil {
		return err
	}
	ctx := cmd.Context()
	adm, cl, err := o.conn.adminWithConfigFile(ctx, o.commandConfig)
	if err != nil {
		return err
	}
	defer cl.Close()
	out := cmd.OutOrStdout()
	switch {
	case o.create:
		return topicsCreate(ctx, cl, o, out)
	case o.list:
		names, err := matchingTopics(ctx, adm, o.topic, o.excludeInternal)
		if err != nil {
			return err
		}
		fmt.Fprintln(out, strings.Join(names, "\n"))
		return nil
	case o.alter:
		return topicsAlter(ctx, adm, o)
	case o.del:
		names, err := o.existingTopics(ctx, adm)
		if err != nil || len(names) == 0 {
			return err
		}
		resps, err := adm.DeleteTopics(ctx, names...)
		if err != nil {
			return err
		}
		for _, r := range resps.Sorted() {
			if r.Err != nil {
				return topicErr(r.Topic, r.Err, r.ErrMessage)
			}
		}
		return nil
	default:
		return topicsDescribe(ctx, adm, o, out)
	}
}

// matchingTopics lists topics (sorted) whose whole name matches the --topic
// regular expression, like Kafka's IncludeList.
func matchingTopics(ctx context.Context, adm *kadm.Client, pattern string, excludeInternal bool) ([]string, error) {
	tds, err := adm.ListTopicsWithInternal(ctx)
	if err != nil {
		return nil, err
	}
	var re *regexp.Regexp
	if pattern != "" {
		re, err = regexp.Compile("^(?:" + strings.TrimSpace(pattern) + ")$")
		if err != nil {
			return nil, usageErrorf("invalid topic pattern %q: %v", pattern, err)
		}
	}
	var names []string
	for _, td := range tds {
		if excludeInternal && td.IsInternal {
			continue
		}
		if re != nil && !re.MatchString(td.Topic) {
			continue
		}
		names = append(names, td.Topic)
	}
	sort.Strings(names)
	return names, nil
}

// existingTopics lists the topics --topic matches (see matchingTopics) and,
// unless --if-exists, fails when a --topic given matches none.
func (o *topicsOpts) existingTopics(ctx context.Context, adm *kadm.Client) ([]string, error) {
	names, err := matchingTopics(ctx, adm, o.topic, o.excludeInternal)
	if err != nil {
		return nil, err
	}
	if err := ensureTopicExists(names, o.topic, !o.ifExists); err != nil {
		return nil, err
	}
	return names, nil
}

func ensureTopicExists(found []string, requested string, require bool) error {
	if len(found) == 0 && requested != "" && require {
		return unknownTopicErrorf("Topic '%s' does not exist as expected", requested)
	}
	return nil
}

func topicErr(topic string, err error, msg string) error {
	if msg != "" && msg != err.Error() {
		err = fmt.Errorf("%w: %s", err, msg)
	}
	switch {
	case isKerr(err, kerr.TopicAlreadyExists):
		return fmt.Errorf("Topic '%s' already exists.", topic)
	case isKerr(err, kerr.UnknownTopicOrPartition):
		return unknownTopicErrorf("Topic '%s' does not exist as expected", topic)
	}
	return fmt.Errorf("topic %s: %w", topic, err)
}

func isKerr(err error, target *kerr.Error) bool {
	for e := err; e != nil; {
		if ke, ok := e.(*kerr.Error); ok && ke.Code == target.Code {
			return true
		}
		u, ok := e.(interface{ Unwrap() error })
		if !ok {
			return false
		}
		e = u.Unwrap()
	}
	return false
}

func topicsCreate(ctx context.Context, cl *kgo.Client, o *topicsOpts, out io.Writer) error {
	if strings.ContainsAny(o.topic, "._") {
		fmt.Fprintln(out, "WARNING: Due to limitations in metric names, topics with a period ('.') or underscore ('_') could collide. To avoid issues it is best to use either, but not both.")
	}
	cfg, err := parseKeyValueArgs(o.configs)
	if err != nil {
		return err
	}
	req := kmsg.NewPtrCreateTopicsRequest()
	req.TimeoutMillis = 30000
	t := kmsg.NewCreateTopicsRequestTopic()
	t.Topic = o.topic
	t.NumPartitions, t.ReplicationFactor = -1, -1
	if o.partitions > 0 {
		t.NumPartitions = o.partitions
	}
	if o.replicationFactor > 0 {
		t.ReplicationFactor = int16(o.replicationFactor)
	}
	if o.replicaAssignment != "" {
		assign, err := parseReplicaAssignment(o.replicaAssignment)
		if err != nil {
			return err
		}
		for i, replicas := range assign {
			a := kmsg.NewCreateTopicsRequestTopicReplicaAssignment()
			a.Partition = int32(i)
			a.Replicas = replicas
			t.ReplicaAssignment = append(t.ReplicaAssignment, a)
		}
	}
	keys := make([]string, 0, len(cfg))
	for k := range cfg {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		c := kmsg.NewCreateTopicsRequestTopicConfig()
		c.Name = k
		c.Value = kmsg.StringPtr(cfg[k])
		t.Configs = append(t.Configs, c)
	}
	req.Topics = append(req.Topics, t)
	resp, err := req.RequestWith(ctx, cl)
	if err != nil {
		return err
	}
	for _, rt := range resp.Topics {
		if err := kerr.ErrorForCode(rt.ErrorCode); err != nil {
			if isKerr(err, kerr.TopicAlreadyExists) && o.ifNotExists {
				return nil
			}
			return topicErr(rt.Topic, err, deref(rt.ErrorMessage))
		}
	}
	fmt.Fprintf(out, "Created topic %s.\n", o.topic)
	return nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// parseReplicaAssignment parses "1:2,2:3" into [[1 2] [2 3]].
func parseReplicaAssignment(s string) ([][]int32, error) {
	var out [][]int32
	for _, part := range strings.Split(s, ",") {
		var replicas []int32
		seen := map[int32]bool{}
		for _, b := range strings.Split(strings.TrimSpace(part), ":") {
			n, err := strconv.ParseInt(strings.TrimSpace(b), 10, 32)
			if err != nil {
				return nil, usageErrorf("invalid --replica-assignment %q: %q is not a broker id", s, b)
			}
			if seen[int32(n)] {
				return nil, usageErrorf("Partition replica lists may not contain duplicate entries: %s", part)
			}
			seen[int32(n)] = true
			replicas = append(replicas, int32(n))
		}
		out = append(out, replicas)
	}
	return out, nil
}

func topicsAlter(ctx context.Context, adm *kadm.Client, o *topicsOpts) error {
	names, err := o.existingTopics(ctx, adm)
	if err != nil || len(names) == 0 {
		return err
	}
	resps, err := adm.UpdatePartitions(ctx, int(o.partitions), names...)
	if err != nil {
		return err
	}
	for _, r := range resps.Sorted() {
		if r.Err != nil {
			return topicErr(r.Topic, r.Err, r.ErrMessage)
		}
	}
	return nil
}

// kafkaUUID renders a topic id as Kafka's Uuid.toString does: URL-safe
// base64 without padding.
func kafkaUUID(id kadm.TopicID) string {
	return base64.RawURLEncoding.EncodeToString(id[:])
}

// topicDescription is what kafka-topics --describe prints for one topic.
type topicDescription struct {
	Topic             string
	ID                kadm.TopicID
	PartitionCount    int
	ReplicationFactor int
	Configs           []kadm.Config
	Partitions        []kadm.PartitionDetail
}

// nonDefaultConfigs renders "k=v,k=v" of configs whose source is not the
// default, as TopicCommand's TopicDescription does.
func nonDefaultConfigs(cfgs []kadm.Config) string {
	var parts []string
	for _, c := range cfgs {
		if c.Source == kmsg.ConfigSourceDefaultConfig {
			continue
		}
		parts = append(parts, c.Key+"="+c.MaybeValue())
	}
	return strings.Join(parts, ",")
}

// writeTopicHeader prints Kafka's topic line:
// "Topic: t\tTopicId: x\tPartitionCount: 3\tReplicationFactor: 1\tConfigs: ...".
func writeTopicHeader(w io.Writer, d *topicDescription) {
	var b strings.Builder
	b.WriteString("Topic: " + d.Topic)
	if d.ID != (kadm.TopicID{}) {
		b.WriteString("\tTopicId: " + kafkaUUID(d.ID))
	}
	fmt.Fprintf(&b, "\tPartitionCount: %d\tReplicationFactor: %d\tConfigs: %s\n", d.PartitionCount, d.ReplicationFactor, nonDefaultConfigs(d.Configs))
	io.WriteString(w, b.String())
}

// writePartitionLine prints Kafka's per-partition line:
// "\tTopic: t\tPartition: 0\tLeader: 1\tReplicas: 1\tIsr: 1\tElr: \tLastKnownElr: ".
func writePartitionLine(w io.Writer, topic string, p kadm.PartitionDetail) {
	leader := "none"
	if p.Leader >= 0 {
		leader = strconv.Itoa(int(p.Leader))
	}
	fmt.Fprintf(w, "\tTopic: %s\tPartition: %d\tLeader: %s\tReplicas: %s\tIsr: %s\tElr: \tLastKnownElr: \n",
		topic, p.Partition, leader, joinInt32(p.Replicas), joinInt32(p.ISR))
}

func joinInt32(xs []int32) string {
	s := make([]string, len(xs))
	for i, x := range xs {
		s[i] = strconv.Itoa(int(x))
	}
	return strings.Join(s, ",")
}

// describeTopics fetches the metadata and configs of the named topics.
func describeTopics(ctx context.Context, adm *kadm.Client, names []string) ([]topicDescription, error) {
	tds, err := adm.ListTopicsWithInternal(ctx, names...)
	if err != nil {
		return nil, err
	}
	rcs, err := adm.DescribeTopicConfigs(ctx, names...)
	if err != nil {
		return nil, err
	}
	cfgs := map[string][]kadm.Config{}
	for _, rc := range rcs {
		cfgs[rc.Name] = rc.Configs
	}
	var out []topicDescription
	for _, name := range names {
		td, ok := tds[name]
		if !ok {
			continue
		}
		if td.Err != nil {
			return nil, topicErr(name, td.Err, "")
		}
		d := topicDescription{Topic: name, ID: td.ID, PartitionCount: len(td.Partitions), Configs: cfgs[name], Partitions: td.Partitions.Sorted()}
		if len(d.Partitions) > 0 {
			d.ReplicationFactor = len(d.Partitions[0].Replicas)
		}
		out = append(out, d)
	}
	return out, nil
}

func topicsDescribe(ctx context.Context, adm *kadm.Client, o *topicsOpts, out io.Writer) error {
	var names []string
	var err error
	if o.topicID != "" {
		names, err = topicsByID(ctx, adm, o.topicID)
		if err != nil {
			return err
		}
		if len(names) == 0 && !o.ifExists {
			return unknownTopicErrorf("Topic '%s' does not exist as expected", o.topicID)
		}
	} else {
		names, err = o.existingTopics(ctx, adm)
		if err != nil {
			return err
		}
	}
	if len(names) == 0 {
		return nil
	}
	descs, err := describeTopics(ctx, adm, names)
	if err != nil {
		return err
	}
	var live map[int32]bool
	if o.unavailable {
		brokers, err := adm.ListBrokers(ctx)
		if err != nil {
			return err
		}
		live = map[int32]bool{}
		for _, b := range brokers {
			live[b.NodeID] = true
		}
	}
	reportOpts := o.underReplicated || o.unavailable || o.underMinIsr || o.atMinIsr
	for i := range descs {
		d := &descs[i]
		if !reportOpts {
			hasOverride := nonDefaultConfigs(d.Configs) != ""
			if !o.withOverrides || hasOverride {
				writeTopicHeader(out, d)
			}
		}
		if o.withOverrides {
			continue
		}
		minIsr := 1
		for _, c := range d.Configs {
			if c.Key == "min.insync.replicas" {
				minIsr, _ = strconv.Atoi(c.MaybeValue())
			}
		}
		for _, p := range d.Partitions {
			show := !reportOpts ||
				(o.underReplicated && len(p.Replicas)-len(p.ISR) > 0) ||
				(o.unavailable && (p.Leader < 0 || !live[p.Leader])) ||
				(o.underMinIsr && (p.Leader < 0 || len(p.ISR) < minIsr)) ||
				(o.atMinIsr && len(p.ISR) == minIsr)
			if show {
				writePartitionLine(out, d.Topic, p)
			}
		}
	}
	return nil
}

func topicsByID(ctx context.Context, adm *kadm.Client, id string) ([]string, error) {
	tds, err := adm.ListTopicsWithInternal(ctx)
	if err != nil {
		return nil, err
	}
	for _, td := range tds {
		if kafkaUUID(td.ID) == id || td.ID.String() == id {
			return []string{td.Topic}, nil
		}
	}
	return nil, nil
}

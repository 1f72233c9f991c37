package cli

import (
	"context"
	"fmt"
	"github.com/twmb/franz-go/pkg/kerr"
	"io"
	"sort"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// configsOpts are kafka-configs' options (Kafka's ConfigCommand), for topics and brokers.
type configsOpts struct {
	conn           conn
	commandConfig  string
	describe       bool
	alter          bool
	entityType     string
	entityName     string
	entityDefault  bool
	topic          string
	broker         string
	brokerDefaults bool
	addConfig      string
	addConfigFile  string
	deleteConfig   []string
	all            bool
}

func newConfigsCmd() *cobra.Command {
	o := &configsOpts{}
	cmd := &cobra.Command{
		Use:   "kafka-configs",
		Short: "Describe or change topic and broker configs (Kafka's kafka-configs.sh)",
		Example: `  kafka-configs.sh --bootstrap-server localhost:9092 --describe --entity-type topics --entity-name t
  kafka-configs.sh --bootstrap-server localhost:9092 --alter --entity-type topics --entity-name t --add-config retention.ms=60000,cleanup.policy=compact
  kafka-configs.sh --bootstrap-server localhost:9092 --alter --entity-type brokers --entity-default --delete-config log.retention.ms`,
		RunE: func(cmd *cobra.Command, _ []string) error { return runConfigs(cmd, o) },
	}
	f := cmd.Flags()
	addKafkaConnFlags(cmd, &o.conn, &o.commandConfig, "command-config")
	f.BoolVar(&o.describe, "describe", false, "List configs for the given entity.")
	f.BoolVar(&o.alter, "alter", false, "Alter the configuration for the entity.")
	f.StringVar(&o.entityType, "entity-type", "", "Type of entity (topics/brokers).")
	f.StringVar(&o.entityName, "entity-name", "", "Name of entity (topic name/broker id).")
	f.BoolVar(&o.entityDefault, "entity-default", false, "Default entity name for brokers (applies to corresponding entity type).")
	f.StringVar(&o.topic, "topic", "", "The topic's name (same as --entity-type topics --entity-name).")
	f.StringVar(&o.broker, "broker", "", "The broker's ID (same as --entity-type brokers --entity-name).")
	f.BoolVar(&o.brokerDefaults, "broker-defaults", false, "The config defaults for all brokers (same as --entity-type brokers --entity-default).")
	f.StringVar(&o.addConfig, "add-config", "", "Key Value pairs of configs to add. Square brackets can be used to group values which contain commas: 'k1=v1,k2=[v1,v2,v2],k3=v3'.")
	f.StringVar(&o.addConfigFile, "add-config-file", "", "Path to a properties file with configs to add.")
	f.StringArrayVar(&o.deleteConfig, "delete-config", nil, "config keys to remove 'k1,k2'")
	f.BoolVar(&o.all, "all", false, "List all configs for the given entity, including static configs and defaults.")
	return kafkaTool(cmd, "Error while executing config command with args '...': ")
}

// parseAddConfig splits 'k1=v1,k2=[a,b],k3=v3' into ordered pairs.
func parseAddConfig(s string) ([][2]string, error) {
	var out [][2]string
	depth, start := 0, 0
	var parts []string
	for i, c := range s {
		switch c {
		case '[':
			depth++
		case ']':
			depth--
		case ',':
			if depth == 0 {
				parts = append(parts, s[start:i])
				start = i + 1
			}
		}
	}
	parts = append(parts, s[start:])
	for _, p := range parts {
		p = strings.TrimSpace(p)
		if p == "" {
			continue
		}
		k, v, ok := strings.Cut(p, "=")
		if !ok || k == "" {
			return nil, usageErrorf("Invalid entity config: all configs to be added must be in the format \"key=val\" (got %q)", p)
		}
		if strings.HasPrefix(v, "[") && strings.HasSuffix(v, "]") {
			v = v[1 : len(v)-1]
		}
		out = append(out, [2]string{strings.TrimSpace(k), v})
	}
	return out, nil
}

// configEntryLine renders one ConfigCommand describe line:
// "  name=value sensitive=false synonyms={SOURCE:name=value, ...}".
func configEntryLine(c kadm.Config) string {
	val := c.MaybeValue()
	if c.Sensitive || c.Value == nil {
		val = "null"
	}
	var syn []string
	for _, s := range c.Synonyms {
		v := "null"
		if s.Value != nil && !c.Sensitive {
			v = *s.Value
		}
		syn = append(syn, fmt.Sprintf("%s:%s=%s", s.Source, s.Key, v))
	}
	return fmt.Sprintf("  %s=%s sensitive=%t synonyms={%s}", c.Key, val, c.Sensitive, strings.Join(syn, ", "))
}

func runConfigs(cmd *cobra.Command, o *configsOpts) error {
	switch {
	case o.topic != "":
		o.entityType, o.entityName = "topics", o.topic
	case o.broker != "":
		o.entityType, o.entityName = "brokers", o.broker
	case o.brokerDefaults:
		o.entityType, o.entityDefault = "brokers", true
	}
	if o.describe == o.alter {
		return usageErrorf("Command must include exactly one action: --describe, --alter")
	}
	switch o.entityType {
	case "topics", "brokers":
	case "":
		return usageErrorf("Missing required argument \"[entity-type]\"")
	default:
		return usageErrorf("--entity-type %s is not supported yet (supported: topics, brokers)", o.entityType)
	}
	if o.entityType == "topics" && o.entityDefault {
		return usageErrorf("--entity-default is not valid for topics")
	}
	if o.alter && o.entityName == "" && !o.entityDefault {
		return usageErrorf("an entity name must be specified with --alter of %s", o.entityType)
	}
	ctx := cmd.Context()
	adm, cl, err := o.conn.adminWithConfigFile(ctx, o.commandConfig)
	if err != nil {
		return err
	}
	defer cl.Close()
	out := cmd.OutOrStdout()
	if o.describe {
		return configsDescribe(ctx, adm, o, out)
	}
	return configsAlter(ctx, adm, o, out)
}

func configsDescribe(ctx context.Context, adm *kadm.Client, o *configsOpts, out io.Writer) error {
	if o.entityType == "topics" {
		names := []string{o.entityName}
		if o.entityName == "" {
			tds, err := adm.ListTopics(ctx)
			if err != nil {
				return err
			}
			names = tds.Names()
		}
		rcs, err := adm.DescribeTopicConfigs(ctx, names...)
		if err != nil {
			return err
		}
		for _, rc := range rcs {
			if rc.Err != nil {
				if isKerr(rc.Err, kerrUnknownTopic) {
					return unknownTopicErrorf("The topic '%s' doesn't exist", rc.Name)
				}
				return fmt.Errorf("topic %s: %w", rc.Name, rc.Err)
			}
			writeConfigs(out, fmt.Sprintf("topic %s", rc.Name), rc.Configs, o.all, kmsg.ConfigSourceDynamicTopicConfig)
		}
		return nil
	}
	var ids []int32
	var defaults bool
	switch {
	case o.entityDefault:
		defaults = true
	case o.entityName != "":
		n, err := strconv.ParseInt(o.entityName, 10, 32)
		if err != nil {
			return usageErrorf("The entity name for brokers must be a valid integer broker id, but it is: %s", o.entityName)
		}
		ids = []int32{int32(n)}
	default:
		bs, err := adm.ListBrokers(ctx)
		if err != nil {
			return err
		}
		ids = bs.NodeIDs()
		defaults = true
	}
	for _, id := range ids {
		rcs, err := adm.DescribeBrokerConfigs(ctx, id)
		if err != nil {
			return err
		}
		for _, rc := range rcs {
			if rc.Err != nil {
				return fmt.Errorf("broker %d: %w", id, rc.Err)
			}
			writeConfigs(out, fmt.Sprintf("broker %d", id), rc.Configs, o.all, kmsg.ConfigSourceDynamicBrokerConfig)
		}
	}
	if defaults {
		rcs, err := adm.DescribeBrokerConfigs(ctx)
		if err != nil {
			return err
		}
		for _, rc := range rcs {
			if rc.Err != nil {
				return fmt.Errorf("broker defaults: %w", rc.Err)
			}
			writeConfigsTitled(out, "Default configs for brokers in the cluster are:", rc.Configs, o.all, kmsg.ConfigSourceDynamicDefaultBrokerConfig)
		}
	}
	return nil
}

func writeConfigs(w io.Writer, entity string, cfgs []kadm.Config, all bool, dynamic kmsg.ConfigSource) {
	title := "Dynamic configs for " + entity + " are:"
	if all {
		title = "All configs for " + entity + " are:"
	}
	writeConfigsTitled(w, title, cfgs, all, dynamic)
}

func writeConfigsTitled(w io.Writer, title string, cfgs []kadm.Config, all bool, dynamic kmsg.ConfigSource) {
	fmt.Fprintln(w, title)
	sorted := append([]kadm.Config(nil), cfgs...)
	sort.SliceStable(sorted, func(i, j int) bool { return sorted[i].Key < sorted[j].Key })
	for _, c := range sorted {
		if !all && c.Source != dynamic {
			continue
		}
		fmt.Fprintln(w, configEntryLine(c))
	}
}

func configsAlter(ctx context.Context, adm *kadm.Client, o *configsOpts, out io.Writer) error {
	adds, err := parseAddConfig(o.addConfig)
	if err != nil {
		return err
	}
	if o.addConfigFile != "" {
		m, err := loadPropertiesFile(o.addConfigFile)
		if err != nil {
			return err
		}
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			adds = append(adds, [2]string{k, m[k]})
		}
	}
	var dels []string
	for _, d := range o.deleteConfig {
		for _, k := range strings.Split(d, ",") {
			if k = strings.TrimSpace(k); k != "" {
				dels = append(dels, k)
			}
		}
	}
	if len(adds) == 0 && len(dels) == 0 {
		return usageErrorf("--alter needs --add-config, --add-config-file or --delete-config")
	}
	var alters []kadm.AlterConfig
	for _, a := range adds {
		v := a[1]
		alters = append(alters, kadm.AlterConfig{Op: kadm.SetConfig, Name: a[0], Value: &v})
	}
	for _, d := range dels {
		alters = append(alters, kadm.AlterConfig{Op: kadm.DeleteConfig, Name: d})
	}
	var resps kadm.AlterConfigsResponses
	switch {
	case o.entityType == "topics":
		resps, err = adm.AlterTopicConfigs(ctx, alters, o.entityName)
	case o.entityDefault:
		resps, err = adm.AlterBrokerConfigs(ctx, alters)
	default:
		n, perr := strconv.ParseInt(o.entityName, 10, 32)
		if perr != nil {
			return usageErrorf("The entity name for brokers must be a valid integer broker id, but it is: %s", o.entityName)
		}
		resps, err = adm.AlterBrokerConfigs(ctx, alters, int32(n))
	}
	if err != nil {
		return err
	}
	for _, r := range resps {
		if r.Err != nil {
			if o.entityType == "topics" && isKerr(r.Err, kerrUnknownTopic) {
				return unknownTopicErrorf("The topic '%s' doesn't exist", o.entityName)
			}
			msg := r.Err.Error()
			if r.ErrMessage != "" {
				msg += ": " + r.ErrMessage
			}
			return fmt.Errorf("%s", msg)
		}
	}
	switch {
	case o.entityType == "topics":
		fmt.Fprintf(out, "Completed updating config for topic %s.\n", o.entityName)
	case o.entityDefault:
		fmt.Fprintln(out, "Completed updating default config for brokers in the cluster.")
	default:
		fmt.Fprintf(out, "Completed updating config for broker %s.\n", o.entityName)
	}
	return nil
}

var kerrUnknownTopic = kerr.UnknownTopicOrPartition
var kerrTopicExists = kerr.TopicAlreadyExists

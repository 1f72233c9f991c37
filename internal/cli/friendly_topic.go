package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// addBootstrapFlag gives a friendly command -b/--bootstrap-server
// (default: $SLUICE_BOOTSTRAP, else 127.0.0.1:9092).
func addBootstrapFlag(cmd *cobra.Command, c *conn) {
	cmd.Flags().StringVarP(&c.bootstrap, "bootstrap-server", "b", "", "broker address host:port[,...] (default $SLUICE_BOOTSTRAP or "+DefaultBootstrap+")")
	c.props = map[string]string{}
}

func addOutputFlag(cmd *cobra.Command, out *string) {
	cmd.Flags().StringVarP(out, "output", "o", "table", "output format: table or json")
}

func checkOutput(o string) error {
	if o != "table" && o != "json" {
		return usageErrorf("invalid --output %q: expected table or json", o)
	}
	return nil
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func newTopicCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "topic",
		Short: "Create, list, describe and delete topics",
		Example: `  sluice topic create orders -p 3
  sluice topic create logs -p 6 -c retention.ms=3600000 -c cleanup.policy=delete
  sluice topic list
  sluice topic describe orders -o json
  sluice topic describe orders --watch
  sluice topic delete orders`,
	}
	cmd.AddCommand(newTopicCreateCmd(), newTopicListCmd(), newTopicDescribeCmd(), newTopicDeleteCmd())
	return cmd
}

func newTopicCreateCmd() *cobra.Command {
	var (
		c           conn
		partitions  int32
		rf          int16
		configs     []string
		ifNotExists bool
	)
	cmd := &cobra.Command{
		Use:     "create TOPIC",
		Short:   "Create a topic",
		Example: "  sluice topic create orders -p 3 -r 1 -c retention.ms=86400000",
		Args:    exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := parseKeyValueArgs(configs)
			if err != nil {
				return err
			}
			return withAdmin(cmd, &c, func(ctx context.Context, adm *kadm.Client) error {
				m := map[string]*string{}
				for k, v := range cfg {
					m[k] = kmsg.StringPtr(v)
				}
				r, err := adm.CreateTopic(ctx, partitions, rf, m, args[0])
				if err != nil {
					return err
				}
				if r.Err != nil {
					if ifNotExists && isKerr(r.Err, kerrTopicExists) {
						return nil
					}
					return topicErr(args[0], r.Err, r.ErrMessage)
				}
				p := newPalette(cmd.OutOrStdout())
				fmt.Fprintf(cmd.OutOrStdout(), "%s topic %s (%d partitions, replication factor %d, id %s)\n",
					p.green("created"), p.bold(args[0]), r.NumPartitions, r.ReplicationFactor, kafkaUUID(r.ID))
				return nil
			})
		},
	}
	addBootstrapFlag(cmd, &c)
	cmd.Flags().Int32VarP(&partitions, "partitions", "p", -1, "number of partitions (default: the broker's num.partitions)")
	cmd.Flags().Int16VarP(&rf, "replication-factor", "r", -1, "replication factor (default: the broker's default.replication.factor)")
	cmd.Flags().StringArrayVarP(&configs, "config", "c", nil, "topic config key=value (repeatable)")
	cmd.Flags().BoolVar(&ifNotExists, "if-not-exists", false, "succeed if the topic already exists")
	return cmd
}

func newTopicListCmd() *cobra.Command {
	var (
		c        conn
		output   string
		internal bool
	)
	cmd := &cobra.Command{
		Use:     "list",
		Aliases: []string{"ls"},
		Short:   "List topics",
		Args:    exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkOutput(output); err != nil {
				return err
			}
			return withAdmin(cmd, &c, func(ctx context.Context, adm *kadm.Client) error {
				tds, err := adm.ListTopicsWithInternal(ctx)
				if err != nil {
					return err
				}
				type row struct {
					Topic      string `json:"topic"`
					ID         string `json:"id"`
					Partitions int    `json:"partitions"`
					RF         int    `json:"replication_factor"`
					Internal   bool   `json:"internal"`
				}
				var rows []row
				for _, name := range tds.Names() {
					td := tds[name]
					if td.IsInternal && !internal {
						continue
					}
					rf := 0
					if ps := td.Partitions.Sorted(); len(ps) > 0 {
						rf = len(ps[0].Replicas)
					}
					rows = append(rows, row{td.Topic, kafkaUUID(td.ID), len(td.Partitions), rf, td.IsInternal})
				}
				out := cmd.OutOrStdout()
				if output == "json" {
					if rows == nil {
						rows = []row{}
					}
					return writeJSON(out, rows)
				}
				p := newPalette(out)
				tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, p.bold("TOPIC\tPARTITIONS\tRF\tID"))
				for _, r := range rows {
					fmt.Fprintf(tw, "%s\t%d\t%d\t%s\n", r.Topic, r.Partitions, r.RF, p.dim(r.ID))
				}
				return tw.Flush()
			})
		},
	}
	addBootstrapFlag(cmd, &c)
	addOutputFlag(cmd, &output)
	cmd.Flags().BoolVar(&internal, "internal", false, "include internal topics (__consumer_offsets, ...)")
	return cmd
}

// topicView is `sluice topic describe`'s model (also its JSON).
type topicView struct {
	Topic             string            `json:"topic"`
	ID                string            `json:"id"`
	Partitions        int               `json:"partitions"`
	ReplicationFactor int               `json:"replication_factor"`
	Configs           map[string]string `json:"configs"`
	PartitionDetails  []partitionView   `json:"partition_details"`
}

type partitionView struct {
	Partition   int32   `json:"partition"`
	Leader      int32   `json:"leader"`
	Replicas    []int32 `json:"replicas"`
	ISR         []int32 `json:"isr"`
	StartOffset int64   `json:"start_offset"`
	EndOffset   int64   `json:"end_offset"`
}

func buildTopicViews(ctx context.Context, adm *kadm.Client, names []string) ([]topicView, error) {
	tds, err := adm.ListTopicsWithInternal(ctx, names...)
	if err != nil {
		return nil, err
	}
	for _, n := range names {
		if td, ok := tds[n]; !ok || td.Err != nil {
			return nil, unknownTopicErrorf("unknown topic %q", n)
		}
	}
	descs, err := describeTopics(ctx, adm, names)
	if err != nil {
		return nil, err
	}
	starts, err := adm.ListStartOffsets(ctx, names...)
	if err != nil {
		return nil, err
	}
	ends, err := adm.ListEndOffsets(ctx, names...)
	if err != nil {
		return nil, err
	}
	var out []topicView
	for _, d := range descs {
		v := topicView{Topic: d.Topic, ID: kafkaUUID(d.ID), Partitions: d.PartitionCount, ReplicationFactor: d.ReplicationFactor, Configs: map[string]string{}}
		for _, c := range d.Configs {
			if c.Source != kmsg.ConfigSourceDefaultConfig {
				v.Configs[c.Key] = c.MaybeValue()
			}
		}
		for _, p := range d.Partitions {
			s, _ := starts.Lookup(d.Topic, p.Partition)
			e, _ := ends.Lookup(d.Topic, p.Partition)
			v.PartitionDetails = append(v.PartitionDetails, partitionView{p.Partition, p.Leader, p.Replicas, p.ISR, s.Offset, e.Offset})
		}
		out = append(out, v)
	}
	return out, nil
}

func writeTopicViews(w io.Writer, views []topicView, p palette) error {
	for i, v := range views {
		if i > 0 {
			fmt.Fprintln(w)
		}
		fmt.Fprintf(w, "%s %s  %s %s  %s %d  %s %d\n", p.bold("Topic:"), p.cyan(v.Topic), p.bold("ID:"), v.ID,
			p.bold("Partitions:"), v.Partitions, p.bold("Replication factor:"), v.ReplicationFactor)
		if len(v.Configs) > 0 {
			keys := make([]string, 0, len(v.Configs))
			for k := range v.Configs {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			var kv []string
			for _, k := range keys {
				kv = append(kv, k+"="+v.Configs[k])
			}
			fmt.Fprintf(w, "%s %s\n", p.bold("Configs:"), strings.Join(kv, ", "))
		}
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, p.bold("PARTITION\tLEADER\tREPLICAS\tISR\tSTART\tEND\tRECORDS"))
		for _, pd := range v.PartitionDetails {
			leader := fmt.Sprint(pd.Leader)
			if pd.Leader < 0 {
				leader = p.red("none")
			}
			fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%d\t%d\t%d\n", pd.Partition, leader, joinInt32(pd.Replicas), joinInt32(pd.ISR),
				pd.StartOffset, pd.EndOffset, max(pd.EndOffset-pd.StartOffset, 0))
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	return nil
}

func newTopicDescribeCmd() *cobra.Command {
	var (
		c      conn
		output string
		watch  time.Duration
	)
	cmd := &cobra.Command{
		Use:   "describe TOPIC...",
		Short: "Show a topic's partitions, leaders, offsets and configs",
		Example: `  sluice topic describe orders
  sluice topic describe orders -o json
  sluice topic describe orders --watch        # refresh every 2s
  sluice topic describe orders --watch=500ms`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkOutput(output); err != nil {
				return err
			}
			return withAdmin(cmd, &c, func(ctx context.Context, adm *kadm.Client) error {
				out := cmd.OutOrStdout()
				p := newPalette(out)
				for {
					views, err := buildTopicViews(ctx, adm, args)
					if err != nil {
						return err
					}
					if watch > 0 && isTerminal(out) {
						io.WriteString(out, "\x1b[H\x1b[2J")
					}
					if output == "json" {
						err = writeJSON(out, views)
					} else {
						err = writeTopicViews(out, views, p)
					}
					if err != nil || watch <= 0 {
						return err
					}
					if watch > 0 && !isTerminal(out) {
						fmt.Fprintln(out)
					}
					select {
					case <-ctx.Done():
						return nil
					case <-time.After(watch):
					}
				}
			})
		},
	}
	addBootstrapFlag(cmd, &c)
	addOutputFlag(cmd, &output)
	cmd.Flags().DurationVarP(&watch, "watch", "w", 0, "refresh every interval until interrupted (default interval 2s)")
	cmd.Flags().Lookup("watch").NoOptDefVal = "2s"
	return cmd
}

func newTopicDeleteCmd() *cobra.Command {
	var (
		c        conn
		ifExists bool
	)
	cmd := &cobra.Command{
		Use:     "delete TOPIC...",
		Aliases: []string{"rm"},
		Short:   "Delete topics",
		Args:    cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withAdmin(cmd, &c, func(ctx context.Context, adm *kadm.Client) error {
				resps, err := adm.DeleteTopics(ctx, args...)
				if err != nil {
					return err
				}
				p := newPalette(cmd.OutOrStdout())
				for _, r := range resps.Sorted() {
					if r.Err != nil {
						if ifExists && isKerr(r.Err, kerrUnknownTopic) {
							continue
						}
						return topicErr(r.Topic, r.Err, r.ErrMessage)
					}
					fmt.Fprintf(cmd.OutOrStdout(), "%s topic %s\n", p.red("deleted"), p.bold(r.Topic))
				}
				return nil
			})
		},
	}
	addBootstrapFlag(cmd, &c)
	cmd.Flags().BoolVar(&ifExists, "if-exists", false, "succeed if a topic does not exist")
	return cmd
}

package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"sync/atomic"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

func newProduceCmd() *cobra.Command {
	var (
		c           conn
		keySep      string
		headers     []string
		file        string
		acks        string
		compression string
		linger      time.Duration
	)
	cmd := &cobra.Command{
		Use:   "produce TOPIC",
		Short: "Write lines from standard input (or a file) to a topic, one record per line",
		Example: `  echo hello | sluice produce orders
  printf 'k1:v1\nk2:v2\n' | sluice produce orders --key-separator :
  sluice produce orders -H source=batch -H owner=ops --file events.txt   # with a progress bar`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			hdrs, err := parseHeaderFlags(headers)
			if err != nil {
				return err
			}
			props := map[string]string{}
			if keySep != "" {
				props["parse.key"], props["key.separator"] = "true", keySep
			}
			in := cmd.InOrStdin()
			var bar *progressBar
			if file != "" {
				f, err := os.Open(file)
				if err != nil {
					return withCode(ExitUsage, err)
				}
				defer f.Close()
				st, _ := f.Stat()
				bar = newProgressBar(cmd.ErrOrStderr(), st.Size(), "B")
				in = &countingReader{r: f, bar: bar}
			}
			lr, err := newLineReader(in, props)
			if err != nil {
				return err
			}
			c.props = map[string]string{"acks": acks, "linger.ms": fmt.Sprint(linger.Milliseconds())}
			if compression != "" {
				c.props["compression.type"] = compression
			}
			ctx := cmd.Context()
			cl, err := c.client(ctx, roleProducer)
			if err != nil {
				return err
			}
			defer cl.Close()
			start := time.Now()
			src := &headerAddingSource{lr: lr, headers: hdrs}
			n, err := produceLines(ctx, cl, src.reader(), args[0], false, cmd.ErrOrStderr(), false, io.Discard)
			bar.finish()
			el := time.Since(start)
			fmt.Fprintf(cmd.ErrOrStderr(), "produced %d records to %s in %s\n", n, args[0], el.Round(time.Millisecond))
			return err
		},
	}
	addBootstrapFlag(cmd, &c)
	cmd.Flags().StringVarP(&keySep, "key-separator", "k", "", "split each line into key and value at the first SEP")
	cmd.Flags().StringArrayVarP(&headers, "header", "H", nil, "add header key=value to every record (repeatable)")
	cmd.Flags().StringVarP(&file, "file", "f", "", "read lines from FILE instead of standard input (shows progress)")
	cmd.Flags().StringVar(&acks, "acks", "all", "acks: all, 1 or 0")
	cmd.Flags().StringVar(&compression, "compression", "", "none, gzip, snappy, lz4 or zstd")
	cmd.Flags().DurationVar(&linger, "linger", 5*time.Millisecond, "how long to wait to fill a batch")
	return cmd
}

// countingReader reports bytes read to a progress bar.
type countingReader struct {
	r   io.Reader
	n   int64
	bar *progressBar
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	c.bar.update(c.n)
	return n, err
}

// headerAddingSource wraps a lineReader to add fixed headers to every record.
type headerAddingSource struct {
	lr      *lineReader
	headers []kgo.RecordHeader
}

func (h *headerAddingSource) reader() *lineReader {
	if len(h.headers) == 0 {
		return h.lr
	}
	h.lr.extraHeaders = h.headers
	return h.lr
}

func parseHeaderFlags(hs []string) ([]kgo.RecordHeader, error) {
	var out []kgo.RecordHeader
	for _, h := range hs {
		k, v, ok := strings.Cut(h, "=")
		if !ok || k == "" {
			return nil, usageErrorf("invalid header %q: expected key=value", h)
		}
		out = append(out, kgo.RecordHeader{Key: k, Value: []byte(v)})
	}
	return out, nil
}

// recordJSON is `sluice consume -o json`'s line format.
type recordJSON struct {
	Topic     string            `json:"topic"`
	Partition int32             `json:"partition"`
	Offset    int64             `json:"offset"`
	Timestamp int64             `json:"timestamp"`
	Key       *string           `json:"key"`
	Value     *string           `json:"value"`
	Headers   map[string]string `json:"headers,omitempty"`
}

func toRecordJSON(r *kgo.Record) recordJSON {
	j := recordJSON{Topic: r.Topic, Partition: r.Partition, Offset: r.Offset, Timestamp: r.Timestamp.UnixMilli()}
	if r.Key != nil {
		s := string(r.Key)
		j.Key = &s
	}
	if r.Value != nil {
		s := string(r.Value)
		j.Value = &s
	}
	if len(r.Headers) > 0 {
		j.Headers = map[string]string{}
		for _, h := range r.Headers {
			j.Headers[h.Key] = string(h.Value)
		}
	}
	return j
}

func newConsumeCmd() *cobra.Command {
	var (
		c                           conn
		fromBeginning               bool
		group                       string
		maxMessages                 int64
		printKey, printHeaders      bool
		printPartition, printOffset bool
		printTimestamp              bool
		output                      string
		idle                        time.Duration
	)
	cmd := &cobra.Command{
		Use:   "consume TOPIC",
		Short: "Print records from a topic",
		Example: `  sluice consume orders --from-beginning
  sluice consume orders -g billing --print-key --print-partition --print-offset
  sluice consume orders --from-beginning -n 10 -o json | jq .value`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if output != "text" && output != "json" {
				return usageErrorf("invalid --output %q: expected text or json", output)
			}
			start := kgo.NewOffset().AtEnd()
			if fromBeginning {
				start = kgo.NewOffset().AtStart()
			}
			opts := []kgo.Opt{kgo.ConsumeTopics(args[0]), kgo.ConsumeResetOffset(start)}
			if group != "" {
				opts = append(opts, kgo.ConsumerGroup(group))
			}
			ctx := cmd.Context()
			cl, err := c.client(ctx, roleConsumer, opts...)
			if err != nil {
				return err
			}
			defer cl.Close()
			if err := requireTopic(ctx, kadm.NewClient(cl), args[0], -1); err != nil {
				return err
			}
			f := newMessageFormatter(map[string]string{
				"print.key": fmt.Sprint(printKey), "print.headers": fmt.Sprint(printHeaders),
				"print.partition": fmt.Sprint(printPartition), "print.offset": fmt.Sprint(printOffset),
				"print.timestamp": fmt.Sprint(printTimestamp),
			})
			var n int64
			err = consumeLoop(ctx, cl, maxMessages, idle, func(r *kgo.Record, w *bufio.Writer) {
				n++
				if output == "json" {
					b, _ := json.Marshal(toRecordJSON(r))
					w.Write(append(b, '\n'))
					return
				}
				w.Write(f.appendRecord(nil, r))
			}, cmd.OutOrStdout())
			if group != "" {
				cl.CommitUncommittedOffsets(ctx)
			}
			if isTerminal(cmd.ErrOrStderr()) || maxMessages >= 0 || idle > 0 {
				fmt.Fprintf(cmd.ErrOrStderr(), "consumed %d records\n", n)
			}
			if ctx.Err() != nil {
				return nil
			}
			return err
		},
	}
	addBootstrapFlag(cmd, &c)
	f := cmd.Flags()
	f.BoolVar(&fromBeginning, "from-beginning", false, "start at the oldest record (without a group, or a group with no committed offset)")
	f.StringVarP(&group, "group", "g", "", "consume as a member of consumer group GROUP (offsets are committed)")
	f.Int64VarP(&maxMessages, "max-messages", "n", -1, "exit after N records")
	f.BoolVar(&printKey, "print-key", false, "print the key before the value")
	f.BoolVar(&printHeaders, "print-headers", false, "print headers (k:v,k:v or NO_HEADERS)")
	f.BoolVar(&printPartition, "print-partition", false, "print Partition:N")
	f.BoolVar(&printOffset, "print-offset", false, "print Offset:N")
	f.BoolVar(&printTimestamp, "print-timestamp", false, "print CreateTime:ms")
	f.StringVarP(&output, "output", "o", "text", "text or json (one object per line)")
	f.DurationVar(&idle, "timeout", 0, "exit when no record arrives for this long (0: wait forever)")
	return cmd
}

func newGroupCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "group",
		Short: "List, describe, reset and delete consumer groups",
		Example: `  sluice group list
  sluice group describe billing
  sluice group reset billing --topic orders --to earliest            # dry run
  sluice group reset billing --topic orders --to offset:42 --execute
  sluice group delete billing`,
	}
	cmd.AddCommand(newGroupListCmd(), newGroupDescribeCmd(), newGroupResetCmd(), newGroupDeleteCmd())
	return cmd
}

func newGroupListCmd() *cobra.Command {
	var (
		c      conn
		output string
	)
	cmd := &cobra.Command{
		Use:     "list",
		Aliases: []string{"ls"},
		Short:   "List consumer groups and their states",
		Args:    exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkOutput(output); err != nil {
				return err
			}
			return withAdmin(cmd, &c, func(ctx context.Context, adm *kadm.Client) error {
				ls, err := adm.ListGroups(ctx)
				if err != nil {
					return err
				}
				out := cmd.OutOrStdout()
				if output == "json" {
					type row struct {
						Group string `json:"group"`
						State string `json:"state"`
						Type  string `json:"protocol_type"`
					}
					rows := []row{}
					for _, g := range ls.Sorted() {
						rows = append(rows, row{g.Group, g.State, g.ProtocolType})
					}
					return writeJSON(out, rows)
				}
				p := newPalette(out)
				tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, p.bold("GROUP\tSTATE\tTYPE"))
				for _, g := range ls.Sorted() {
					fmt.Fprintf(tw, "%s\t%s\t%s\n", g.Group, g.State, g.ProtocolType)
				}
				return tw.Flush()
			})
		},
	}
	addBootstrapFlag(cmd, &c)
	addOutputFlag(cmd, &output)
	return cmd
}

func newGroupDescribeCmd() *cobra.Command {
	var (
		c      conn
		output string
	)
	cmd := &cobra.Command{
		Use:   "describe GROUP...",
		Short: "Show a group's state, members, committed offsets and lag",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkOutput(output); err != nil {
				return err
			}
			return withAdmin(cmd, &c, func(ctx context.Context, adm *kadm.Client) error {
				lags, err := adm.Lag(ctx, args...)
				if err != nil {
					return err
				}
				out := cmd.OutOrStdout()
				type view struct {
					Group   string           `json:"group"`
					State   string           `json:"state"`
					Members int              `json:"members"`
					Lag     int64            `json:"total_lag"`
					Offsets []groupOffsetRow `json:"offsets"`
				}
				var views []view
				for _, l := range lags.Sorted() {
					if l.DescribeErr != nil {
						return fmt.Errorf("describing group %s: %w", l.Group, l.DescribeErr)
					}
					if l.State == "Dead" {
						return withCode(ExitUnknownGroup, fmt.Errorf("unknown group %q", l.Group))
					}
					rows := groupOffsetRows(l)
					v := view{Group: l.Group, State: l.State, Members: len(l.Members), Offsets: rows}
					for _, r := range rows {
						if r.Lag > 0 {
							v.Lag += r.Lag
						}
					}
					views = append(views, v)
				}
				if output == "json" {
					return writeJSON(out, views)
				}
				p := newPalette(out)
				for _, v := range views {
					fmt.Fprintf(out, "%s %s  %s %s  %s %d  %s %d\n", p.bold("Group:"), p.cyan(v.Group), p.bold("State:"), v.State,
						p.bold("Members:"), v.Members, p.bold("Total lag:"), v.Lag)
					tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
					fmt.Fprintln(tw, p.bold("TOPIC\tPARTITION\tCOMMITTED\tEND\tLAG\tMEMBER\tHOST"))
					for _, r := range v.Offsets {
						fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t%s\t%s\n", r.Topic, r.Partition, dashIfNeg(r.CurrentOffset),
							dashIfNeg(r.LogEndOffset), dashIfNeg(r.Lag), r.ConsumerID, r.Host)
					}
					tw.Flush()
				}
				return nil
			})
		},
	}
	addBootstrapFlag(cmd, &c)
	addOutputFlag(cmd, &output)
	return cmd
}

func newGroupResetCmd() *cobra.Command {
	var (
		c       conn
		topics  []string
		to      string
		execute bool
	)
	cmd := &cobra.Command{
		Use:   "reset GROUP",
		Short: "Move a group's committed offsets (dry run unless --execute)",
		Example: `  sluice group reset billing --topic orders --to earliest
  sluice group reset billing --topic orders:0,1 --to offset:100 --execute
  sluice group reset billing --all-topics --to shift:-10 --execute
  sluice group reset billing --topic orders --to time:2024-01-01T00:00:00.000 --execute
  sluice group reset billing --topic orders --to ago:PT1H --execute`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			spec, err := parseResetTo(to)
			if err != nil {
				return err
			}
			all, _ := cmd.Flags().GetBool("all-topics")
			if len(topics) == 0 && !all {
				return usageErrorf("give --topic TOPIC[:P,P] (repeatable) or --all-topics")
			}
			return withAdmin(cmd, &c, func(ctx context.Context, adm *kadm.Client) error {
				rows, err := resetGroup(ctx, adm, args[0], topics, all, spec, execute)
				if err != nil {
					return err
				}
				out := cmd.OutOrStdout()
				tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "TOPIC\tPARTITION\tNEW-OFFSET")
				for _, r := range rows {
					fmt.Fprintf(tw, "%s\t%d\t%d\n", r.Topic, r.Partition, r.NewOffset)
				}
				tw.Flush()
				if !execute {
					fmt.Fprintln(cmd.ErrOrStderr(), "dry run: nothing changed; add --execute to commit these offsets")
				}
				return nil
			})
		},
	}
	addBootstrapFlag(cmd, &c)
	cmd.Flags().StringArrayVarP(&topics, "topic", "t", nil, "topic, or topic:0,1,2 for some partitions (repeatable)")
	cmd.Flags().Bool("all-topics", false, "every topic the group has committed offsets for")
	cmd.Flags().StringVar(&to, "to", "", "earliest | latest | current | offset:N | shift:N | time:YYYY-MM-DDTHH:mm:SS.sss | ago:PnDTnHnMnS")
	cmd.Flags().BoolVar(&execute, "execute", false, "commit the new offsets (the group must have no active members)")
	return cmd
}

func parseResetTo(s string) (resetSpec, error) {
	var spec resetSpec
	kind, arg, _ := strings.Cut(s, ":")
	switch kind {
	case "earliest":
		spec.earliest = true
	case "latest":
		spec.latest = true
	case "current":
		spec.current = true
	case "offset", "shift":
		var n int64
		if _, err := fmt.Sscan(arg, &n); err != nil {
			return spec, usageErrorf("invalid --to %q: %s needs a number", s, kind)
		}
		if kind == "offset" {
			spec.toOffset = &n
		} else {
			spec.shiftBy = &n
		}
	case "time":
		t, err := parseKafkaDatetime(arg)
		if err != nil {
			return spec, err
		}
		ms := t.UnixMilli()
		spec.atMillis = &ms
	case "ago":
		d, err := parseISODuration(arg)
		if err != nil {
			return spec, err
		}
		ms := time.Now().Add(-d).UnixMilli()
		spec.atMillis = &ms
	default:
		return spec, usageErrorf("invalid --to %q: expected earliest, latest, current, offset:N, shift:N, time:DATETIME or ago:DURATION", s)
	}
	return spec, nil
}

func newGroupDeleteCmd() *cobra.Command {
	var c conn
	cmd := &cobra.Command{
		Use:     "delete GROUP...",
		Aliases: []string{"rm"},
		Short:   "Delete consumer groups (they must have no active members)",
		Args:    cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withAdmin(cmd, &c, func(ctx context.Context, adm *kadm.Client) error {
				return groupsDelete(ctx, adm, args, cmd.OutOrStdout())
			})
		},
	}
	addBootstrapFlag(cmd, &c)
	return cmd
}

var _ = atomic.Int64{}

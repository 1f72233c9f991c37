package cli

import (
	"context"
	"fmt"
	"io"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kadm"
)

// consumerGroupsOpts are kafka-consumer-groups' options (Kafka's ConsumerGroupCommand).
type consumerGroupsOpts struct {
	conn                            conn
	commandConfig                   string
	list, describe, del, reset      bool
	groups                          []string
	allGroups                       bool
	topics                          []string
	allTopics                       bool
	toEarliest, toLatest, toCurrent bool
	toOffset, shiftBy               int64
	toDatetime, byDuration          string
	dryRun, execute, export         bool
	members, offsets, verbose       bool
	state                           string
	timeoutMs                       int64
}

func newConsumerGroupsCmd() *cobra.Command {
	o := &consumerGroupsOpts{}
	cmd := &cobra.Command{
		Use:   "kafka-consumer-groups",
		Short: "List, describe, delete consumer groups and reset their offsets (Kafka's kafka-consumer-groups.sh)",
		Example: `  kafka-consumer-groups.sh --bootstrap-server localhost:9092 --list
  kafka-consumer-groups.sh --bootstrap-server localhost:9092 --describe --group g
  kafka-consumer-groups.sh --bootstrap-server localhost:9092 --reset-offsets --group g --topic t --to-earliest --execute`,
		RunE: func(cmd *cobra.Command, _ []string) error { return runConsumerGroups(cmd, o) },
	}
	f := cmd.Flags()
	addKafkaConnFlags(cmd, &o.conn, &o.commandConfig, "command-config")
	f.BoolVar(&o.list, "list", false, "List all consumer groups.")
	f.BoolVar(&o.describe, "describe", false, "Describe consumer group and list offset lag (number of messages not yet processed) related to given group.")
	f.BoolVar(&o.del, "delete", false, "Pass in groups to delete topic partition offsets and ownership information over the entire consumer group.")
	f.BoolVar(&o.reset, "reset-offsets", false, "Reset offsets of consumer group. Supports one consumer group at the time, and instances should be inactive.")
	f.StringArrayVar(&o.groups, "group", nil, "The consumer group we wish to act on.")
	f.BoolVar(&o.allGroups, "all-groups", false, "Apply to all consumer groups.")
	f.StringArrayVar(&o.topics, "topic", nil, "The topic whose consumer group information should be deleted or reset: topic or topic:0,1,2.")
	f.BoolVar(&o.allTopics, "all-topics", false, "Consider all topics assigned to a group in the `reset-offsets` process.")
	f.BoolVar(&o.toEarliest, "to-earliest", false, "Reset offsets to earliest offset.")
	f.BoolVar(&o.toLatest, "to-latest", false, "Reset offsets to latest offset.")
	f.BoolVar(&o.toCurrent, "to-current", false, "Reset offsets to current offset.")
	f.Int64Var(&o.toOffset, "to-offset", 0, "Reset offsets to a specific offset.")
	f.Int64Var(&o.shiftBy, "shift-by", 0, "Reset offsets shifting current offset by 'n', where 'n' can be positive or negative.")
	f.StringVar(&o.toDatetime, "to-datetime", "", "Reset offsets to offset from datetime. Format: 'YYYY-MM-DDTHH:mm:SS.sss'")
	f.StringVar(&o.byDuration, "by-duration", "", "Reset offsets to offset by duration from current timestamp. Format: 'PnDTnHnMnS'")
	f.BoolVar(&o.dryRun, "dry-run", false, "Only show results without executing changes on Consumer Groups.")
	f.BoolVar(&o.execute, "execute", false, "Execute operation.")
	f.BoolVar(&o.export, "export", false, "Export operation execution to a CSV file.")
	f.BoolVar(&o.members, "members", false, "Describe members of the group.")
	f.BoolVar(&o.offsets, "offsets", false, "Describe the group and list all topic partitions in the group along with their offset lag (default).")
	f.BoolVar(&o.verbose, "verbose", false, "Provide additional information, if any, when describing the group.")
	f.StringVar(&o.state, "state", "", "When specified with '--describe', includes the state of the group. With '--list', shows or filters by state.")
	f.Lookup("state").NoOptDefVal = " "
	f.SetAnnotation("state", annOptArg, []string{"true"})
	f.Int64Var(&o.timeoutMs, "timeout", 5000, "The timeout that can be set for some use cases.")
	return kafkaTool(cmd, "Error: ")
}

func runConsumerGroups(cmd *cobra.Command, o *consumerGroupsOpts) error {
	n := 0
	for _, b := range []bool{o.list, o.describe, o.del, o.reset} {
		if b {
			n++
		}
	}
	if n != 1 {
		return usageErrorf("Command must include exactly one action: --list, --describe, --delete, --reset-offsets")
	}
	if (o.describe || o.del || o.reset) && len(o.groups) == 0 && !o.allGroups {
		return usageErrorf("Option [%s] takes one of these options: [all-groups], [group]", map[bool]string{true: "describe", false: map[bool]string{true: "delete", false: "reset-offsets"}[o.del]}[o.describe])
	}
	ctx := cmd.Context()
	adm, cl, err := o.conn.adminWithConfigFile(ctx, o.commandConfig)
	if err != nil {
		return err
	}
	defer cl.Close()
	out := cmd.OutOrStdout()
	if o.allGroups {
		ls, err := adm.ListGroups(ctx)
		if err != nil {
			return err
		}
		o.groups = ls.Groups()
	}
	switch {
	case o.list:
		return groupsList(ctx, adm, o, out)
	case o.describe:
		return groupsDescribe(ctx, adm, o, out)
	case o.del:
		return groupsDelete(ctx, adm, o.groups, out)
	default:
		return groupsReset(ctx, cmd, adm, o, out)
	}
}

func groupsList(ctx context.Context, adm *kadm.Client, o *consumerGroupsOpts, out io.Writer) error {
	var filter []string
	if s := strings.TrimSpace(o.state); s != "" {
		for _, st := range strings.Split(s, ",") {
			filter = append(filter, strings.TrimSpace(st))
		}
	}
	ls, err := adm.ListGroups(ctx, filter...)
	if err != nil {
		return err
	}
	sorted := ls.Sorted()
	if o.state == "" {
		for _, g := range sorted {
			fmt.Fprintln(out, g.Group)
		}
		return nil
	}
	w := 15
	for _, g := range sorted {
		w = max(w, len(g.Group))
	}
	fmt.Fprintf(out, "%-*s %s\n", w, "GROUP", "STATE")
	for _, g := range sorted {
		fmt.Fprintf(out, "%-*s %s\n", w, g.Group, g.State)
	}
	return nil
}

// groupOffsetRow is one line of kafka-consumer-groups --describe.
type groupOffsetRow struct {
	Group, Topic                string
	Partition                   int32
	CurrentOffset, LogEndOffset int64 // -1: unknown
	Lag                         int64 // -1: unknown
	ConsumerID, Host, ClientID  string
}

func dashIfNeg(n int64) string {
	if n < 0 {
		return "-"
	}
	return strconv.FormatInt(n, 10)
}

// writeGroupOffsets prints rows in ConsumerGroupCommand's layout: a blank
// line, then GROUP TOPIC PARTITION CURRENT-OFFSET LOG-END-OFFSET LAG
// CONSUMER-ID HOST CLIENT-ID, columns as wide as their widest value (at least 15).
func writeGroupOffsets(w io.Writer, rows []groupOffsetRow) {
	gw, tw, cw, hw := 15, 15, 15, 15
	for _, r := range rows {
		gw, tw, cw, hw = max(gw, len(r.Group)), max(tw, len(r.Topic)), max(cw, len(r.ConsumerID)), max(hw, len(r.Host))
	}
	format := fmt.Sprintf("\n%%-%ds %%-%ds %%-10s %%-15s %%-15s %%-15s %%-%ds %%-%ds %%s", gw, tw, cw, hw)
	fmt.Fprintf(w, format, "GROUP", "TOPIC", "PARTITION", "CURRENT-OFFSET", "LOG-END-OFFSET", "LAG", "CONSUMER-ID", "HOST", "CLIENT-ID")
	for _, r := range rows {
		fmt.Fprintf(w, format, r.Group, r.Topic, strconv.Itoa(int(r.Partition)), dashIfNeg(r.CurrentOffset), dashIfNeg(r.LogEndOffset),
			dashIfNeg(r.Lag), r.ConsumerID, r.Host, r.ClientID)
	}
	fmt.Fprintln(w)
}

// groupOffsetRows turns a group's lag into describe rows.
func groupOffsetRows(l kadm.DescribedGroupLag) []groupOffsetRow {
	var rows []groupOffsetRow
	for _, ml := range l.Lag.Sorted() {
		r := groupOffsetRow{Group: l.Group, Topic: ml.Topic, Partition: ml.Partition, CurrentOffset: -1, LogEndOffset: -1, Lag: -1,
			ConsumerID: "-", Host: "-", ClientID: "-"}
		if ml.Commit.At >= 0 {
			r.CurrentOffset = ml.Commit.At
		}
		if ml.End.Err == nil {
			r.LogEndOffset = ml.End.Offset
		}
		if r.CurrentOffset >= 0 && r.LogEndOffset >= 0 {
			r.Lag = max(r.LogEndOffset-r.CurrentOffset, 0)
		}
		if ml.Member != nil {
			r.ConsumerID, r.Host, r.ClientID = ml.Member.MemberID, ml.Member.ClientHost, ml.Member.ClientID
		}
		rows = append(rows, r)
	}
	return rows
}

func groupsDescribe(ctx context.Context, adm *kadm.Client, o *consumerGroupsOpts, out io.Writer) error {
	lags, err := adm.Lag(ctx, o.groups...)
	if err != nil {
		return err
	}
	var missing []string
	for _, l := range lags.Sorted() {
		if l.DescribeErr != nil {
			return fmt.Errorf("describing group %s: %w", l.Group, l.DescribeErr)
		}
		if l.State == "Dead" {
			missing = append(missing, l.Group)
			continue
		}
		switch l.State {
		case "Empty":
			fmt.Fprintf(out, "\nConsumer group '%s' has no active members.\n", l.Group)
		case "PreparingRebalance", "CompletingRebalance", "Assigning", "Reconciling":
			fmt.Fprintf(out, "\nWarning: Consumer group '%s' is rebalancing.\n", l.Group)
		}
		switch {
		case o.state != "":
			coord := fmt.Sprintf("%s:%d  (%d)", l.Coordinator.Host, l.Coordinator.Port, l.Coordinator.NodeID)
			gw, cw := max(15, len(l.Group)), max(25, len(coord))
			format := fmt.Sprintf("\n%%-%ds %%-%ds %%-20s %%-20s %%s", gw, cw)
			fmt.Fprintf(out, format, "GROUP", "COORDINATOR (ID)", "ASSIGNMENT-STRATEGY", "STATE", "#MEMBERS")
			fmt.Fprintf(out, format, l.Group, coord, l.Protocol, l.State, strconv.Itoa(len(l.Members)))
			fmt.Fprintln(out)
		case o.members:
			writeGroupMembers(out, l, o.verbose)
		default:
			if l.FetchErr != nil {
				return fmt.Errorf("fetching offsets of group %s: %w", l.Group, l.FetchErr)
			}
			writeGroupOffsets(out, groupOffsetRows(l))
		}
	}
	if len(missing) > 0 {
		return withCode(ExitUnknownGroup, fmt.Errorf("Consumer group '%s' does not exist.", strings.Join(missing, "', '")))
	}
	return nil
}

func writeGroupMembers(w io.Writer, l kadm.DescribedGroupLag, verbose bool) {
	gw, cw, hw, iw := 15, 15, 15, 15
	for _, m := range l.Members {
		cw, hw, iw = max(cw, len(m.MemberID)), max(hw, len(m.ClientHost)), max(iw, len(m.ClientID))
	}
	gw = max(gw, len(l.Group))
	format := fmt.Sprintf("\n%%-%ds %%-%ds %%-%ds %%-%ds %%-12s", gw, cw, hw, iw)
	fmt.Fprintf(w, format, "GROUP", "CONSUMER-ID", "HOST", "CLIENT-ID", "#PARTITIONS")
	if verbose {
		fmt.Fprint(w, " ASSIGNMENT")
	}
	for _, m := range l.Members {
		var parts []string
		n := 0
		if ca, ok := m.Assigned.AsConsumer(); ok {
			for _, t := range ca.Topics {
				n += len(t.Partitions)
				parts = append(parts, fmt.Sprintf("%s(%s)", t.Topic, joinInt32(t.Partitions)))
			}
		}
		fmt.Fprintf(w, format, l.Group, m.MemberID, m.ClientHost, m.ClientID, strconv.Itoa(n))
		if verbose {
			fmt.Fprint(w, " "+strings.Join(parts, ","))
		}
	}
	fmt.Fprintln(w)
}

func groupsDelete(ctx context.Context, adm *kadm.Client, groups []string, out io.Writer) error {
	resps, err := adm.DeleteGroups(ctx, groups...)
	if err != nil {
		return err
	}
	var ok, failed []string
	var firstErr error
	for _, r := range resps.Sorted() {
		if r.Err != nil {
			failed = append(failed, fmt.Sprintf("* Group '%s' could not be deleted due to: %v", r.Group, r.Err))
			if firstErr == nil {
				firstErr = r.Err
			}
			continue
		}
		ok = append(ok, "'"+r.Group+"'")
	}
	if len(failed) == 0 {
		fmt.Fprintf(out, "Deletion of requested consumer groups (%s) was successful.\n", strings.Join(ok, ", "))
		return nil
	}
	if len(ok) > 0 {
		fmt.Fprintf(out, "These consumer groups were deleted successfully: %s\n", strings.Join(ok, ", "))
	}
	fmt.Fprintf(out, "Deletion of some consumer groups failed:\n%s\n", strings.Join(failed, "\n"))
	return withCode(exitCodeOf(firstErr), fmt.Errorf("deleting groups: %w", firstErr))
}

// resetSpec is how --reset-offsets computes new offsets.
type resetSpec struct {
	earliest, latest, current bool
	toOffset, shiftBy         *int64
	atMillis                  *int64
}

func (o *consumerGroupsOpts) resetSpec(cmd *cobra.Command) (resetSpec, error) {
	var s resetSpec
	ch := cmd.Flags().Changed
	n := 0
	if o.toEarliest {
		s.earliest = true
		n++
	}
	if o.toLatest {
		s.latest = true
		n++
	}
	if o.toCurrent {
		s.current = true
		n++
	}
	if ch("to-offset") {
		s.toOffset = &o.toOffset
		n++
	}
	if ch("shift-by") {
		s.shiftBy = &o.shiftBy
		n++
	}
	if o.toDatetime != "" {
		t, err := parseKafkaDatetime(o.toDatetime)
		if err != nil {
			return s, err
		}
		ms := t.UnixMilli()
		s.atMillis = &ms
		n++
	}
	if o.byDuration != "" {
		d, err := parseISODuration(o.byDuration)
		if err != nil {
			return s, err
		}
		ms := time.Now().Add(-d).UnixMilli()
		s.atMillis = &ms
		n++
	}
	if n != 1 {
		return s, usageErrorf("Option [reset-offsets] takes exactly one of: --to-earliest, --to-latest, --to-current, --to-offset, --shift-by, --to-datetime, --by-duration")
	}
	return s, nil
}

// parseKafkaDatetime parses ConsumerGroupCommand's 'YYYY-MM-DDTHH:mm:SS.sss'
// with an optional zone (Z, +hh:mm).
func parseKafkaDatetime(s string) (time.Time, error) {
	for _, layout := range []string{"2006-01-02T15:04:05.000Z07:00", "2006-01-02T15:04:05.000", "2006-01-02T15:04:05Z07:00", "2006-01-02T15:04:05"} {
		loc := time.Local
		if t, err := time.ParseInLocation(layout, s, loc); err == nil {
			return t, nil
		}
	}
	return time.Time{}, usageErrorf("Error parsing timestamp %q: expected 'YYYY-MM-DDTHH:mm:SS.sss' optionally followed by a zone", s)
}

var isoDurationRE = regexp.MustCompile(`^([-+]?)P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$`)

// parseISODuration parses Java's Duration.parse format (PnDTnHnMn.nS).
func parseISODuration(s string) (time.Duration, error) {
	m := isoDurationRE.FindStringSubmatch(strings.ToUpper(s))
	if m == nil || s == "P" || strings.HasSuffix(strings.ToUpper(s), "T") {
		return 0, usageErrorf("Error parsing duration %q: expected the ISO-8601 format PnDTnHnMnS", s)
	}
	var d time.Duration
	num := func(v string) float64 {
		f, _ := strconv.ParseFloat(v, 64)
		return f
	}
	d += time.Duration(num(m[2]) * float64(24*time.Hour))
	d += time.Duration(num(m[3]) * float64(time.Hour))
	d += time.Duration(num(m[4]) * float64(time.Minute))
	d += time.Duration(num(m[5]) * float64(time.Second))
	if m[1] == "-" {
		d = -d
	}
	return d, nil
}

// resetRow is one line of the reset-offsets table.
type resetRow struct {
	Group, Topic string
	Partition    int32
	NewOffset    int64
}

func writeResetRows(w io.Writer, rows []resetRow) {
	gw, tw := 15, 15
	for _, r := range rows {
		gw, tw = max(gw, len(r.Group)), max(tw, len(r.Topic))
	}
	format := fmt.Sprintf("%%-%ds %%-%ds %%-10s %%s\n", gw, tw)
	fmt.Fprintf(w, "\n"+format, "GROUP", "TOPIC", "PARTITION", "NEW-OFFSET")
	for _, r := range rows {
		fmt.Fprintf(w, format, r.Group, r.Topic, strconv.Itoa(int(r.Partition)), strconv.FormatInt(r.NewOffset, 10))
	}
}

func groupsReset(ctx context.Context, cmd *cobra.Command, adm *kadm.Client, o *consumerGroupsOpts, out io.Writer) error {
	if len(o.topics) == 0 && !o.allTopics {
		return usageErrorf("Option [reset-offsets] takes one of these options: [all-topics], [topic]")
	}
	if o.dryRun && o.execute {
		return usageErrorf("Option [reset-offsets] takes at most one of these options: [dry-run], [execute]")
	}
	spec, err := o.resetSpec(cmd)
	if err != nil {
		return err
	}
	if !o.dryRun && !o.execute {
		fmt.Fprintln(cmd.ErrOrStderr(), "WARN: No action will be performed as the --execute option is missing. "+
			"You should add the --dry-run option explicitly if you are scripting this command.")
	}
	var all []resetRow
	for _, g := range o.groups {
		rows, err := resetGroup(ctx, adm, g, o.topics, o.allTopics, spec, o.execute)
		if err != nil {
			return err
		}
		all = append(all, rows...)
	}
	writeResetRows(out, all)
	return nil
}

// resetGroup computes (and with execute, commits) the new offsets of group.
func resetGroup(ctx context.Context, adm *kadm.Client, group string, topicArgs []string, allTopics bool, spec resetSpec, execute bool) ([]resetRow, error) {
	described, err := adm.DescribeGroups(ctx, group)
	if err != nil {
		return nil, err
	}
	if dg, ok := described[group]; ok && dg.Err == nil && dg.State != "Empty" && dg.State != "Dead" && dg.State != "" && execute {
		return nil, fmt.Errorf("Assignments can only be reset if the group '%s' is inactive, but the current state is %s.", group, dg.State)
	}
	committed, err := adm.FetchOffsets(ctx, group)
	if err != nil {
		return nil, err
	}
	wanted := kadm.TopicsSet{}
	if allTopics {
		committed.Each(func(r kadm.OffsetResponse) { wanted.Add(r.Topic, r.Partition) })
	} else {
		var names []string
		explicit := map[string][]int32{}
		for _, a := range topicArgs {
			t, ps, has := strings.Cut(a, ":")
			names = append(names, t)
			if has {
				for _, p := range strings.Split(ps, ",") {
					n, err := strconv.ParseInt(strings.TrimSpace(p), 10, 32)
					if err != nil {
						return nil, usageErrorf("invalid partition %q in --topic %s", p, a)
					}
					explicit[t] = append(explicit[t], int32(n))
				}
			}
		}
		tds, err := adm.ListTopics(ctx, names...)
		if err != nil {
			return nil, err
		}
		for _, t := range names {
			td, ok := tds[t]
			if !ok || td.Err != nil {
				return nil, unknownTopicErrorf("Topic '%s' does not exist", t)
			}
			if ps := explicit[t]; len(ps) > 0 {
				wanted.Add(t, ps...)
			} else {
				for p := range td.Partitions {
					wanted.Add(t, p)
				}
			}
		}
	}
	topics := wanted.Topics()
	if len(topics) == 0 {
		return nil, nil
	}
	starts, err := adm.ListStartOffsets(ctx, topics...)
	if err != nil {
		return nil, err
	}
	ends, err := adm.ListEndOffsets(ctx, topics...)
	if err != nil {
		return nil, err
	}
	var atTime kadm.ListedOffsets
	if spec.atMillis != nil {
		if atTime, err = adm.ListOffsetsAfterMilli(ctx, *spec.atMillis, topics...); err != nil {
			return nil, err
		}
	}
	var rows []resetRow
	newOffsets := kadm.Offsets{}
	var ferr error
	wanted.Each(func(t string, p int32) {
		lo, _ := starts.Lookup(t, p)
		hi, _ := ends.Lookup(t, p)
		clamp := func(n int64) int64 { return min(max(n, lo.Offset), hi.Offset) }
		cur := int64(-1)
		if c, ok := committed.Lookup(t, p); ok && c.Err == nil {
			cur = c.At
		}
		var n int64
		switch {
		case spec.earliest:
			n = lo.Offset
		case spec.latest:
			n = hi.Offset
		case spec.current:
			n = cur
			if n < 0 {
				n = hi.Offset
			}
		case spec.toOffset != nil:
			n = clamp(*spec.toOffset)
		case spec.shiftBy != nil:
			if cur < 0 {
				cur = hi.Offset
			}
			n = clamp(cur + *spec.shiftBy)
		case spec.atMillis != nil:
			lt, _ := atTime.Lookup(t, p)
			n = lt.Offset
			if n < 0 {
				n = hi.Offset
			}
		}
		if lo.Err != nil || hi.Err != nil {
			ferr = fmt.Errorf("listing offsets of %s-%d failed", t, p)
		}
		newOffsets.AddOffset(t, p, n, -1)
		rows = append(rows, resetRow{Group: group, Topic: t, Partition: p, NewOffset: n})
	})
	if ferr != nil {
		return nil, ferr
	}
	sort.Slice(rows, func(i, j int) bool {
		return rows[i].Topic < rows[j].Topic || rows[i].Topic == rows[j].Topic && rows[i].Partition < rows[j].Partition
	})
	if execute {
		if err := adm.CommitAllOffsets(ctx, group, newOffsets); err != nil {
			return nil, fmt.Errorf("committing offsets of group %s: %w", group, err)
		}
	}
	return rows, nil
}

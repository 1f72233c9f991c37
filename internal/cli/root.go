// Package cli holds Sluice's command-line tools: the friendly `sluice topic`,
// `sluice produce`, `sluice consume`, `sluice group` and `sluice bench`
// commands, and the Kafka-compatible tools (kafka-topics,
// kafka-console-producer, ...) with Kafka's flags, defaults and output
// layout, so that runbooks written for Kafka work with only the program name
// changed.
//
// Tools talk to brokers only through franz-go (kgo/kadm); they never import
// broker internals. Every command writes to the cobra command's In/Out/Err
// streams, so tests run them in-process with Execute and captured buffers.
//
// Exit codes (see the Exit* constants): 0 success, 1 failure, 2 usage error
// (unknown flag, missing or conflicting options), 3 broker unreachable,
// 4 unknown topic or partition, 5 unknown consumer group, 130 interrupted.
package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"sort"
	"strings"
	"syscall"

	"github.com/spf13/cobra"
)

const (
	// annKafkaTool marks a Kafka-compatible tool; its value is the tool name.
	annKafkaTool = "sluice/kafka-tool"
	// annErrPrefix is how a tool prefixes its error line, matching Kafka's.
	annErrPrefix = "sluice/err-prefix"
)

const rootLong = `Sluice is a Kafka-compatible event streaming platform in one binary.
Every Kafka client works against it, and so do Kafka's command-line tools:
call them by their Kafka names (sluice install-tools ~/bin makes the links)
or as subcommands (sluice kafka-topics --list --bootstrap-server ...).`

const rootExample = `  # start a broker (data in ./data, listening on 127.0.0.1:9092)
  sluice server

  # make a topic, write to it, read it back
  sluice topic create orders -p 3
  printf 'k1:hello\nk2:world\n' | sluice produce orders --key-separator :
  sluice consume orders --from-beginning --print-key --max-messages 2

  # look around
  sluice topic list
  sluice topic describe orders --watch
  sluice group list

  # measure
  sluice bench produce --topic bench --num-records 100000 --record-size 1024 --plot lat.svg

  # Kafka's own tools, unchanged
  sluice install-tools ~/bin
  kafka-topics.sh --bootstrap-server 127.0.0.1:9092 --describe --topic orders
  kafka-console-consumer.sh --bootstrap-server 127.0.0.1:9092 --topic orders --from-beginning

Broker address: -b/--bootstrap-server, else $SLUICE_BOOTSTRAP, else 127.0.0.1:9092.
Exit codes: 0 ok, 1 failure, 2 usage, 3 broker unreachable, 4 unknown topic,
5 unknown group, 130 interrupted.`

// NewRoot returns the root command with every tool registered.
func NewRoot() *cobra.Command {
	root := &cobra.Command{
		Use:           "sluice",
		Short:         "Sluice: a Kafka-compatible event streaming platform in one binary",
		Long:          rootLong,
		Example:       rootExample,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error {
		return withCode(ExitUsage, err)
	})
	root.AddGroup(
		&cobra.Group{ID: "sluice", Title: "Commands:"},
		&cobra.Group{ID: "kafka", Title: "Kafka-compatible tools (also callable by their Kafka names):"},
	)
	for _, c := range []*cobra.Command{
		newTopicCmd(), newProduceCmd(), newConsumeCmd(), newGroupCmd(), newBenchCmd(),
		newInstallToolsCmd(), newCompletionCmd(),
	} {
		c.GroupID = "sluice"
		root.AddCommand(c)
	}
	for _, c := range kafkaTools() {
		c.GroupID = "kafka"
		root.AddCommand(c)
	}
	root.SetHelpCommandGroupID("sluice")
	root.SetCompletionCommandGroupID("sluice")
	return root
}

// kafkaTools returns a fresh command for every Kafka-compatible tool.
func kafkaTools() []*cobra.Command {
	return []*cobra.Command{
		newKafkaTopicsCmd(),
		newConsoleProducerCmd(),
		newConsoleConsumerCmd(),
		newProducerPerfCmd(),
		newConsumerPerfCmd(),
		newGetOffsetsCmd(),
		newDeleteRecordsCmd(),
		newDumpLogCmd(),
		newLogDirsCmd(),
		newBrokerAPIVersionsCmd(),
		newConsumerGroupsCmd(),
		newConfigsCmd(),
	}
}

// kafkaTool marks cmd as the Kafka tool name and returns it.
func kafkaTool(cmd *cobra.Command, errPrefix string) *cobra.Command {
	if cmd.Annotations == nil {
		cmd.Annotations = map[string]string{}
	}
	cmd.Annotations[annKafkaTool] = cmd.Name()
	cmd.Annotations[annErrPrefix] = errPrefix
	cmd.Args = noArgs
	return cmd
}

// noArgs rejects positional arguments as a usage error (Kafka's tools take
// only options).
func noArgs(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return usageErrorf("unexpected argument %q (%s takes only options)", args[0], cmd.Name())
	}
	return nil
}

func exactArgs(n int) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) != n {
			return usageErrorf("%s expects %d argument(s), got %d; see '%s --help'", cmd.CommandPath(), n, len(args), cmd.CommandPath())
		}
		return nil
	}
}

// toolName is the tool a program name stands for: its base name without a
// ".sh" (or Windows ".exe"/".bat") suffix.
func toolName(argv0 string) string {
	n := filepath.Base(argv0)
	for _, s := range []string{".sh", ".exe", ".bat"} {
		n = strings.TrimSuffix(n, s)
	}
	return n
}

// Execute runs root with args (args[0] is the program name) and returns the
// process exit code. When args[0] names a Kafka tool (kafka-topics.sh,
// /usr/local/bin/kafka-console-consumer, ...), that tool runs directly.
func Execute(root *cobra.Command, args []string) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return ExecuteContext(ctx, root, args)
}

// ExecuteContext is Execute with a caller-supplied context (tests, embedding).
func ExecuteContext(ctx context.Context, root *cobra.Command, args []string) int {
	var rest []string
	if len(args) > 0 {
		rest = args[1:]
		if name := toolName(args[0]); findKafkaTool(root, name) != nil {
			rest = append([]string{name}, rest...)
		}
	}
	if len(rest) > 0 {
		if tool := findKafkaTool(root, rest[0]); tool != nil {
			tool.InitDefaultHelpFlag()
			tool.InitDefaultVersionFlag()
			rest = append([]string{rest[0]}, normalizeArgs(tool.Flags(), rest[1:])...)
		}
	}
	root.SetArgs(rest)
	cmd, err := root.ExecuteContextC(ctx)
	if err == nil {
		return ExitOK
	}
	code := exitCodeOf(err)
	if code == ExitFailure && isCobraUsageError(err) {
		code = ExitUsage
	}
	if code == ExitInterrupted && ctx.Err() != nil {
		return code
	}
	prefix := "Error: "
	if cmd != nil && cmd.Annotations[annErrPrefix] != "" {
		prefix = cmd.Annotations[annErrPrefix]
	}
	w := root.ErrOrStderr()
	fmt.Fprintln(w, prefix+err.Error())
	if code == ExitUsage && cmd != nil {
		fmt.Fprintf(w, "Run '%s --help' for usage.\n", helpPath(cmd))
	}
	return code
}

func helpPath(cmd *cobra.Command) string {
	if t := cmd.Annotations[annKafkaTool]; t != "" {
		return t
	}
	return cmd.CommandPath()
}

func findKafkaTool(root *cobra.Command, name string) *cobra.Command {
	for _, c := range root.Commands() {
		if c.Annotations[annKafkaTool] == name {
			return c
		}
	}
	return nil
}

func isCobraUsageError(err error) bool {
	var ee *exitError
	if errors.As(err, &ee) {
		return false
	}
	msg := err.Error()
	for _, p := range []string{"unknown command", "unknown flag", "unknown shorthand flag", "flag needs an argument",
		"invalid argument", "accepts ", "requires at least", "required flag", "if any flags in the group"} {
		if strings.HasPrefix(msg, p) {
			return true
		}
	}
	return false
}

func newInstallToolsCmd() *cobra.Command {
	var force bool
	cmd := &cobra.Command{
		Use:   "install-tools DIR",
		Short: "Link Kafka's tool names (kafka-topics.sh, kafka-topics, ...) to this binary in DIR",
		Example: `  sluice install-tools ~/bin
  kafka-topics.sh --bootstrap-server 127.0.0.1:9092 --list`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			self, err := os.Executable()
			if err != nil {
				return err
			}
			if s, err := filepath.EvalSymlinks(self); err == nil {
				self = s
			}
			return installTools(cmd, self, args[0], force)
		},
	}
	cmd.Flags().BoolVarP(&force, "force", "f", false, "replace existing files of the same names")
	return cmd
}

// installTools creates, for every Kafka tool, DIR/NAME.sh and DIR/NAME as
// symbolic links to target.
func installTools(cmd *cobra.Command, target, dir string, force bool) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	var names []string
	for _, c := range kafkaTools() {
		names = append(names, c.Name())
	}
	sort.Strings(names)
	n := 0
	for _, name := range names {
		for _, file := range []string{name + ".sh", name} {
			p := filepath.Join(dir, file)
			if force {
				os.Remove(p)
			}
			if err := os.Symlink(target, p); err != nil {
				return fmt.Errorf("linking %s: %w (use --force to replace)", p, err)
			}
			n++
		}
	}
	fmt.Fprintf(cmd.OutOrStdout(), "Linked %d Kafka tool names in %s to %s\n", n, dir, target)
	return nil
}

func newCompletionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "completion bash|zsh|fish|powershell",
		Short: "Print a shell completion script",
		Example: `  source <(sluice completion bash)
  sluice completion zsh > "${fpath[1]}/_sluice"
  sluice completion fish > ~/.config/fish/completions/sluice.fish`,
		ValidArgs: []string{"bash", "zsh", "fish", "powershell"},
		Args:      exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			root, out := cmd.Root(), cmd.OutOrStdout()
			switch args[0] {
			case "bash":
				return root.GenBashCompletionV2(out, true)
			case "zsh":
				return root.GenZshCompletion(out)
			case "fish":
				return root.GenFishCompletion(out, true)
			case "powershell":
				return root.GenPowerShellCompletionWithDesc(out)
			}
			return usageErrorf("unknown shell %q: expected bash, zsh, fish or powershell", args[0])
		},
	}
}

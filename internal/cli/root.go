// Package cli holds Sluice's command-line tools: the friendly `sluice topic`,
// `sluice produce`, `sluice consume` commands and the Kafka-compatible tools
// (kafka-topics, kafka-console-producer, ...). Tools talk to brokers only
// through franz-go (kgo/kadm); they never import broker internals.
package cli

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"
)

// NewRoot returns the root command with every tool registered.
func NewRoot() *cobra.Command {
	root := &cobra.Command{
		Use:           "sluice",
		Short:         "Sluice: a Kafka-compatible event streaming platform in one binary",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	return root
}

// Execute runs root with args (args[0] is the program name) and returns the
// process exit code.
func Execute(root *cobra.Command, args []string) int {
	root.SetArgs(args[1:])
	if err := root.Execute(); err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		return 1
	}
	return 0
}

// Command sluice is the Sluice broker and its tools in one binary.
//
// `sluice server` runs a broker; every other subcommand is a tool. When the
// binary is invoked through a link named like a Kafka tool (kafka-topics.sh,
// kafka-console-producer, ...), it behaves as that tool.
package main

import (
	"os"

	"github.com/sluicehq/sluice/internal/cli"
	"github.com/sluicehq/sluice/internal/server"
)

func main() {
	root := cli.NewRoot()
	root.AddCommand(server.NewCommand())
	os.Exit(cli.Execute(root, os.Args))
}

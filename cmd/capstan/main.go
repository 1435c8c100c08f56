// Command capstan is Capstan's command-line tool: it renders and lints charts the way Helm does,
// packages and indexes them, and inspects and steers Releases in a cluster. It also works as the
// kubectl plugin `kubectl capstan`.
package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"
)

// subcommands holds the constructors each command file registers in its init function, so that
// commands live in their own files and the root stays small.
var subcommands []func() *cobra.Command

func register(newCmd func() *cobra.Command) { subcommands = append(subcommands, newCmd) }

func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:           "capstan",
		Short:         "Capstan renders, packages and manages Helm charts as Kubernetes Releases",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	for _, newCmd := range subcommands {
		root.AddCommand(newCmd())
	}
	return root
}

func main() {
	if err := newRootCmd().Execute(); err != nil {
		fmt.Fprintf(os.Stderr, "Error: %v\n", err)
		os.Exit(1)
	}
}

// Command capstan is Capstan's command-line tool: it renders and lints charts the way Helm does,
// packages and indexes them, and inspects and steers Releases in a cluster. It also works as the
// kubectl plugin `kubectl capstan`.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	// First, so that the CLI's garbage collection target holds while the linked packages
	// initialise, not only once main runs.
	_ "github.com/capstan-dev/capstan/cmd/capstan/internal/gcearly"

	"github.com/capstan-dev/capstan/cmd/capstan/internal/prestart"
	"github.com/capstan-dev/capstan/internal/render/cli"
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
		// `capstan completion` is the command's own (completion.go), limited to bash, zsh and fish.
		CompletionOptions: cobra.CompletionOptions{DisableDefaultCmd: true},
	}
	for _, newCmd := range subcommands {
		root.AddCommand(newCmd())
	}
	return root
}

// exitStatus is returned by a command whose outcome is a status other than 0 without being an
// error, such as diff's 2 for "something would change". It prints nothing.
type exitStatus int

func (e exitStatus) Error() string { return fmt.Sprintf("exit status %d", int(e)) }

func main() {
	err := newRootCmd().ExecuteContext(cli.WithPrestart(context.Background(), cli.Prestart{Schemas: prestart.Schemas(), Chart: prestart.Chart}))
	var status exitStatus
	switch {
	case err == nil:
	case errors.As(err, &status):
		os.Exit(int(status))
	default:
		fmt.Fprintf(os.Stderr, "Error: %v\n", err)
		os.Exit(1)
	}
}

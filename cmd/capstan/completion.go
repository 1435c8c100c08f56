package main

import (
	"fmt"

	"github.com/spf13/cobra"
)

func init() { register(newCompletionCmd) }

// newCompletionCmd builds `capstan completion SHELL`, which prints cobra's completion script for
// bash, zsh or fish. It replaces cobra's default completion command, which also offers
// powershell and its own flags, so that the command tree holds only what docs/reference.md lists.
func newCompletionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "completion bash|zsh|fish",
		Short: "Print the shell completion script for bash, zsh or fish",
		Long: "Completion prints a script that makes the shell complete capstan's commands, flags and\n" +
			"arguments. Load it in the current shell with, for example:\n\n" +
			"  source <(capstan completion bash)\n" +
			"  capstan completion zsh > \"${fpath[1]}/_capstan\"\n" +
			"  capstan completion fish | source",
		ValidArgs: []string{"bash", "zsh", "fish"},
		Args:      cobra.MatchAll(cobra.ExactArgs(1), cobra.OnlyValidArgs),
		RunE: func(cmd *cobra.Command, args []string) error {
			root, out := cmd.Root(), cmd.OutOrStdout()
			switch args[0] {
			case "bash":
				return root.GenBashCompletionV2(out, true)
			case "zsh":
				return root.GenZshCompletion(out)
			case "fish":
				return root.GenFishCompletion(out, true)
			}
			return fmt.Errorf("unsupported shell %q", args[0])
		},
	}
}

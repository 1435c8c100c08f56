package main

import (
	"github.com/spf13/cobra"

	"github.com/capstan-dev/capstan/internal/cli"
)

func init() { register(newHistoryCmd) }

// newHistoryCmd builds `capstan history`, which lists a Release's revisions from their records
// the way `helm history` does.
func newHistoryCmd() *cobra.Command {
	var kube cli.KubeFlags
	limit, format := cli.DefaultHistoryMax, cli.FormatTable
	cmd := &cobra.Command{
		Use:     "history RELEASE",
		Aliases: []string{"hist"},
		Short:   "Show the revision history of a Release",
		Long: "History lists the revisions of the Helm release a Release manages, oldest first, from the\n" +
			"revision records in the Release's namespace: revision, time, status, chart, app version and\n" +
			"description, as `helm history` prints them. RELEASE is the name of the Release object.",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			t, err := kube.Open(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			recs, err := t.Records(cmd.Context())
			if err != nil {
				return err
			}
			return cli.WriteHistory(cmd.OutOrStdout(), format, cli.History(recs, limit))
		},
	}
	kube.AddFlags(cmd.Flags())
	cmd.Flags().IntVar(&limit, "max", limit, "maximum number of revisions to list (the newest ones)")
	cmd.Flags().VarP(&format, "output", "o", "output format: table, json or yaml")
	return cmd
}

package main

import (
	"github.com/spf13/cobra"

	"github.com/capstan-dev/capstan/internal/cli"
)

func init() { register(newStatusCmd) }

// newStatusCmd builds `capstan status`, which shows where a Release stands from its status.
func newStatusCmd() *cobra.Command {
	var kube cli.KubeFlags
	var resources bool
	format := cli.FormatTable
	cmd := &cobra.Command{
		Use:   "status RELEASE",
		Short: "Show the status of a Release",
		Long: "Status shows what the controller reports for a Release: the revision in effect, its chart\n" +
			"and app version, when it was deployed, whether it is Ready and why, how many objects it\n" +
			"applied, and every condition. It reads only the Release object.",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			t, err := kube.Open(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			return cli.WriteStatus(cmd.OutOrStdout(), format, cli.NewStatusReport(t.Release, resources))
		},
	}
	kube.AddFlags(cmd.Flags())
	cmd.Flags().BoolVar(&resources, "show-resources", false, "list the objects in the Release's inventory")
	cmd.Flags().VarP(&format, "output", "o", "output format: table, json or yaml")
	return cmd
}

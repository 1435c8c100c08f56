package main

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/capstan-dev/capstan/internal/cli"
	"github.com/capstan-dev/capstan/internal/storage"
)

func init() { register(newGetCmd) }

// getFlags are the flags every `capstan get` subcommand shares.
type getFlags struct {
	kube     cli.KubeFlags
	revision int
}

// record reads the requested revision of the Release called name.
func (g *getFlags) record(ctx context.Context, name string) (*storage.Release, error) {
	t, err := g.kube.Open(ctx, name)
	if err != nil {
		return nil, err
	}
	return t.Record(ctx, g.revision)
}

// newGetCmd builds `capstan get`, whose subcommands print parts of a stored revision as
// `helm get` does.
func newGetCmd() *cobra.Command {
	g := &getFlags{}
	cmd := &cobra.Command{
		Use:   "get",
		Short: "Show the values, manifest or notes of a Release's revision",
		Long: "Get prints a part of a revision record of the Helm release a Release manages: the newest\n" +
			"revision, or the one --revision names. RELEASE is the name of the Release object.",
	}
	g.kube.AddFlags(cmd.PersistentFlags())
	cmd.PersistentFlags().IntVar(&g.revision, "revision", 0, "revision to show (default: the newest)")
	cmd.AddCommand(newGetValuesCmd(g), newGetManifestCmd(g), newGetNotesCmd(g))
	return cmd
}

func newGetValuesCmd(g *getFlags) *cobra.Command {
	var all bool
	format := cli.FormatTable
	cmd := &cobra.Command{
		Use:   "values RELEASE",
		Short: "Show the values of a revision",
		Long: "Values prints the values the user supplied for the revision (spec.values and valuesFrom,\n" +
			"as composed when the revision was made). With --all it prints the computed values: the\n" +
			"chart's defaults stored in the revision coalesced under the user's values.",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			rec, err := g.record(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			vals, err := cli.Values(rec, all)
			if err != nil {
				return err
			}
			return cli.WriteValues(cmd.OutOrStdout(), format, vals, all)
		},
	}
	cmd.Flags().BoolVarP(&all, "all", "a", false, "print all the computed values, chart defaults included")
	cmd.Flags().VarP(&format, "output", "o", "output format: table, json or yaml")
	return cmd
}

func newGetManifestCmd(g *getFlags) *cobra.Command {
	format := cli.FormatTable
	cmd := &cobra.Command{
		Use:   "manifest RELEASE",
		Short: "Show the manifest of a revision",
		Long:  "Manifest prints the rendered manifest the revision applied, without hooks and without CRDs.",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			rec, err := g.record(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			return cli.WriteManifest(cmd.OutOrStdout(), format, rec)
		},
	}
	cmd.Flags().VarP(&format, "output", "o", "output format: table, json or yaml")
	return cmd
}

func newGetNotesCmd(g *getFlags) *cobra.Command {
	format := cli.FormatTable
	cmd := &cobra.Command{
		Use:   "notes RELEASE",
		Short: "Show the notes of a revision",
		Long:  "Notes prints the chart's rendered NOTES.txt for the revision; nothing when the chart has none.",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			rec, err := g.record(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			return cli.WriteNotes(cmd.OutOrStdout(), format, rec)
		},
	}
	cmd.Flags().VarP(&format, "output", "o", "output format: table, json or yaml")
	return cmd
}

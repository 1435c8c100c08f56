package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/capstan-dev/capstan/internal/repo"
)

func init() { register(newRepoCmd) }

// newRepoCmd groups the chart repository commands.
func newRepoCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "repo",
		Short: "Work with chart repositories",
	}
	cmd.AddCommand(newRepoIndexCmd())
	return cmd
}

func newRepoIndexCmd() *cobra.Command {
	var baseURL, merge string
	cmd := &cobra.Command{
		Use:   "index DIR",
		Short: "Generate an index.yaml for the chart archives in DIR",
		Long: "Read DIR (and its direct subdirectories) for chart archives (*.tgz) and write DIR/index.yaml,\n" +
			"as `helm repo index` does. Archives that do not load as charts are skipped. With --url the\n" +
			"chart URLs are absolute; with --merge the entries of an existing index that DIR lacks are kept.",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return writeIndex(args[0], baseURL, merge)
		},
	}
	cmd.Flags().StringVar(&baseURL, "url", "", "URL of the chart repository")
	cmd.Flags().StringVar(&merge, "merge", "", "merge the generated index into the given index")
	return cmd
}

// writeIndex writes DIR/index.yaml through a temporary file, so a reader never sees half a file.
func writeIndex(dir, baseURL, merge string) error {
	out, err := repo.IndexDirectory(dir, baseURL, merge)
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, ".index-*.yaml")
	if err != nil {
		return fmt.Errorf("write index: %w", err)
	}
	defer func() { _ = os.Remove(tmp.Name()) }()
	if _, err := tmp.Write(out); err != nil {
		_ = tmp.Close()
		return fmt.Errorf("write index: %w", err)
	}
	if err := tmp.Chmod(0o644); err != nil {
		_ = tmp.Close()
		return fmt.Errorf("write index: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write index: %w", err)
	}
	if err := os.Rename(tmp.Name(), filepath.Join(dir, "index.yaml")); err != nil {
		return fmt.Errorf("write index: %w", err)
	}
	return nil
}

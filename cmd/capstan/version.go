package main

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/capstan-dev/capstan/internal/cli"
	"github.com/capstan-dev/capstan/internal/version"
)

func init() { register(newVersionCmd) }

// newVersionCmd builds `capstan version`, which prints the binary's build identity.
func newVersionCmd() *cobra.Command {
	format := cli.FormatTable
	cmd := &cobra.Command{
		Use:   "version",
		Short: "Print the version, git commit and build date of capstan",
		Long: "Version prints what the build stamped into the binary: the release version (`git describe`),\n" +
			"the git commit and the build date (UTC), with the Go version and platform. A plain\n" +
			"`go build` prints version dev and the commit and date the Go toolchain recorded, if any.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return cli.Write(cmd.OutOrStdout(), format, version.Get(), writeVersion)
		},
	}
	cmd.Flags().VarP(&format, "output", "o", "output format: table, json or yaml")
	return cmd
}

func writeVersion(w io.Writer, i version.Info) error {
	_, err := fmt.Fprintf(w, "Version:    %s\nCommit:     %s\nBuilt:      %s\nGo version: %s\nPlatform:   %s\n",
		i.Version, i.Commit, i.Date, i.GoVersion, i.Platform)
	return err
}

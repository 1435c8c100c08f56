package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/capstan-dev/capstan/internal/render/cli"
)

func init() { register(newVerifyCmd) }

// newVerifyCmd builds `capstan verify`, which checks a chart archive against its provenance
// file the way `helm verify` does.
func newVerifyCmd() *cobra.Command {
	var keyring string
	cmd := &cobra.Command{
		Use:   "verify PATH",
		Short: "Verify that a chart at the given path has been signed and is valid",
		Long: "Verify checks PATH (a .tgz chart archive) against PATH.prov: the OpenPGP signature must be made by a " +
			"key in --keyring, the archive's SHA-256 must be the signed one, and the signed Chart.yaml must name the " +
			"archive's chart and version.",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			v, err := cli.VerifyArchive(args[0], keyring)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			fmt.Fprintf(out, "Signed by: %s\n", v.Signer)
			fmt.Fprintf(out, "Using Key With Fingerprint: %s\n", v.Fingerprint)
			fmt.Fprintf(out, "Chart Hash Verified: %s\n", v.Digest)
			return nil
		},
	}
	cmd.Flags().StringVar(&keyring, "keyring", cli.DefaultKeyring(), "keyring containing public keys")
	return cmd
}

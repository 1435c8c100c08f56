package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/capstan-dev/capstan/internal/chart"
	"github.com/capstan-dev/capstan/internal/render/cli"
)

func init() { register(newPackageCmd) }

// newPackageCmd builds `capstan package`, which writes a chart directory as a versioned archive
// the way `helm package` does.
func newPackageCmd() *cobra.Command {
	var dest string
	var opts chart.PackageOptions
	var sign signOptions
	cmd := &cobra.Command{
		Use:   "package CHART_PATH [CHART_PATH...]",
		Short: "Package a chart directory into a versioned chart archive",
		Long: "Package writes each chart directory as <name>-<version>.tgz, applying its .helmignore. " +
			"The archive is reproducible: entries are sorted and carry a fixed time, or SOURCE_DATE_EPOCH when set.",
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			modTime, err := sourceDateEpoch()
			if err != nil {
				return err
			}
			opts.ModTime = modTime
			outDir, err := filepath.Abs(dest)
			if err != nil {
				return err
			}
			signer, err := sign.signer(cmd.InOrStdin())
			if err != nil {
				return err
			}
			for _, dir := range args {
				p, err := chart.Package(dir, outDir, opts)
				if err != nil {
					return err
				}
				if signer != nil {
					if err := signArchive(p, signer); err != nil {
						return err
					}
				}
				fmt.Fprintf(cmd.OutOrStdout(), "Successfully packaged chart and saved it to: %s\n", p)
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVarP(&dest, "destination", "d", ".", "directory to write the chart archive to")
	f.StringVar(&opts.Version, "version", "", "set the version on the chart to this semver version")
	f.StringVar(&opts.AppVersion, "app-version", "", "set the appVersion on the chart to this version")
	f.BoolVar(&sign.sign, "sign", false, "use a PGP private key to sign this package")
	f.StringVar(&sign.key, "key", "", "name of the key to use when signing. Used if --sign is true")
	f.StringVar(&sign.keyring, "keyring", cli.DefaultKeyring(), "location of a public keyring")
	f.StringVar(&sign.passphraseFile, "passphrase-file", "", `location of a file which contains the passphrase for the signing key. Use "-" in order to read from stdin.`)
	return cmd
}

// sourceDateEpoch reads SOURCE_DATE_EPOCH (seconds since 1970), the reproducible-builds
// convention Helm also honours; unset means the package's fixed default time.
func sourceDateEpoch() (time.Time, error) {
	v, ok := os.LookupEnv("SOURCE_DATE_EPOCH")
	if !ok || v == "" {
		return time.Time{}, nil
	}
	secs, err := strconv.ParseInt(v, 10, 64)
	if err != nil || secs < 0 {
		return time.Time{}, fmt.Errorf("invalid SOURCE_DATE_EPOCH %q: want a non-negative number of seconds", v)
	}
	return time.Unix(secs, 0).UTC(), nil
}

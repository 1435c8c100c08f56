package cli

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/ProtonMail/go-crypto/openpgp"

	"github.com/capstan-dev/capstan/internal/chart"
	"github.com/capstan-dev/capstan/internal/provenance"
)

// DefaultKeyring is helm's default --keyring: $GNUPGHOME/pubring.gpg, else ~/.gnupg/pubring.gpg.
func DefaultKeyring() string {
	if home := os.Getenv("GNUPGHOME"); home != "" {
		return filepath.Join(home, "pubring.gpg")
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return filepath.Join(".gnupg", "pubring.gpg")
	}
	return filepath.Join(home, ".gnupg", "pubring.gpg")
}

// ReadKeyringFile reads an OpenPGP keyring file (binary or armored).
func ReadKeyringFile(path string) (openpgp.EntityList, error) {
	data, err := readBounded(path, provenance.MaxKeyringSize)
	if err != nil {
		return nil, fmt.Errorf("reading keyring: %w", err)
	}
	ring, err := provenance.ReadKeyring(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return ring, nil
}

// VerifyArchive checks the chart archive at path against "<path>.prov" with the keyring file,
// as `helm verify` does, and also that the signed Chart.yaml names the archive's own chart and
// version.
func VerifyArchive(path, keyring string) (*provenance.Verification, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if fi.IsDir() {
		return nil, errors.New("unpacked charts cannot be verified")
	}
	data, err := readBounded(path, chart.DefaultLimits().MaxArchiveSize)
	if err != nil {
		return nil, err
	}
	c, err := chart.LoadBytes(data, chart.DefaultLimits())
	if err != nil {
		return nil, err
	}
	prov, err := readBounded(path+provenance.Extension, provenance.MaxSize)
	if err != nil {
		return nil, fmt.Errorf("could not load provenance file %s: %w", path+provenance.Extension, err)
	}
	ring, err := ReadKeyringFile(keyring)
	if err != nil {
		return nil, err
	}
	return provenance.Verify(data, prov, ring, provenance.VerifyOptions{
		FileName: filepath.Base(path), ChartName: c.Metadata.Name, ChartVersion: c.Metadata.Version})
}

// readBounded reads a file of at most limit bytes.
func readBounded(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path) // #nosec G304 -- the user names the file on the command line.
	if err != nil {
		return nil, err
	}
	defer func() { _ = f.Close() }()
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("%s is larger than the limit of %d bytes", path, limit)
	}
	return data, nil
}

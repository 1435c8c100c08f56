package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"

	"github.com/capstan-dev/capstan/internal/chart"
	"github.com/capstan-dev/capstan/internal/provenance"
	"github.com/capstan-dev/capstan/internal/render/cli"
)

// passphraseEnv is the environment variable helm also reads the signing key's passphrase from.
const passphraseEnv = "HELM_KEY_PASSPHRASE" //nolint:gosec // the name of a variable, not a credential.

// signOptions are the signing flags of `capstan package`, helm's.
type signOptions struct {
	sign           bool
	key            string
	keyring        string
	passphraseFile string
}

// signer returns the decrypted signing key, or nil when --sign is not set.
func (o signOptions) signer(stdin io.Reader) (*openpgp.Entity, error) {
	if !o.sign {
		return nil, nil
	}
	if o.key == "" {
		return nil, errors.New("--key is required for signing a package")
	}
	if o.keyring == "" {
		return nil, errors.New("--keyring is required for signing a package")
	}
	ring, err := cli.ReadKeyringFile(o.keyring)
	if err != nil {
		return nil, err
	}
	e, err := provenance.FindSigningKey(ring, o.key)
	if err != nil {
		return nil, err
	}
	if !provenance.IsEncrypted(e) {
		return e, nil
	}
	pass, err := o.passphrase(stdin)
	if err != nil {
		return nil, err
	}
	return e, provenance.Decrypt(e, pass)
}

// passphrase reads the first line of --passphrase-file ("-" is stdin), else $HELM_KEY_PASSPHRASE.
// Capstan does not prompt on a terminal.
func (o signOptions) passphrase(stdin io.Reader) ([]byte, error) {
	if o.passphraseFile == "" {
		if p, ok := os.LookupEnv(passphraseEnv); ok {
			return []byte(p), nil
		}
		return nil, fmt.Errorf("the signing key is encrypted: give its passphrase with --passphrase-file or $%s", passphraseEnv)
	}
	r := stdin
	if o.passphraseFile != "-" {
		f, err := os.Open(o.passphraseFile)
		if err != nil {
			return nil, err
		}
		defer func() { _ = f.Close() }()
		r = f
	}
	line, err := bufio.NewReader(io.LimitReader(r, 64<<10)).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	return []byte(strings.TrimRight(line, "\r\n")), nil
}

// signArchive writes "<archive>.prov" next to the archive at path, as `helm package --sign` does.
func signArchive(path string, signer *openpgp.Entity) error {
	data, err := os.ReadFile(path) // #nosec G304 -- the archive Package just wrote.
	if err != nil {
		return err
	}
	c, err := chart.LoadBytes(data, chart.DefaultLimits())
	if err != nil {
		return err
	}
	prov, err := provenance.Sign(data, filepath.Base(path), c.Metadata, signer, time.Time{})
	if err != nil {
		return err
	}
	// A provenance file is public, and helm writes it 0644 next to the archive Package just wrote.
	return os.WriteFile(path+provenance.Extension, prov, 0o644) //nolint:gosec // see above.
}

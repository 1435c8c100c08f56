// Package provenancetest makes throwaway OpenPGP keys and keyrings for tests of provenance
// signing and verification. Keys are generated in-process; none is ever written outside a
// test's temporary directory.
package provenancetest

import (
	"bytes"
	"crypto"
	"math"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/armor"
	"github.com/ProtonMail/go-crypto/openpgp/packet"
)

// T is what the helpers need of a test: *testing.T, *testing.B or GinkgoT().
type T interface {
	Helper()
	Fatalf(format string, args ...any)
}

// KeyOptions tune NewKey.
type KeyOptions struct {
	// Created is the key's creation time; zero means now.
	Created time.Time
	// Lifetime, when set, makes the key expire that long after Created.
	Lifetime time.Duration
}

// NewKey generates an RSA-2048 signing key whose user id is "name <email>", as
// `gpg --gen-key` would, with an unencrypted private key.
func NewKey(t T, name, email string, opts KeyOptions) *openpgp.Entity {
	t.Helper()
	secs := min(opts.Lifetime/time.Second, math.MaxUint32)
	cfg := &packet.Config{RSABits: 2048, DefaultHash: crypto.SHA256, KeyLifetimeSecs: uint32(secs)} //nolint:gosec // clamped above.
	if !opts.Created.IsZero() {
		cfg.Time = func() time.Time { return opts.Created }
	}
	e, err := openpgp.NewEntity(name, "", email, cfg)
	if err != nil {
		t.Fatalf("generating a key: %v", err)
	}
	return e
}

// Revoke adds a key revocation signature to e.
func Revoke(t T, e *openpgp.Entity) {
	t.Helper()
	if err := e.RevokeKey(packet.KeyCompromised, "test", nil); err != nil {
		t.Fatalf("revoking a key: %v", err)
	}
}

// PublicKeyring returns the public keys of entities as a binary keyring (`gpg --export`).
func PublicKeyring(t T, entities ...*openpgp.Entity) []byte {
	t.Helper()
	var b bytes.Buffer
	for _, e := range entities {
		if err := e.Serialize(&b); err != nil {
			t.Fatalf("serializing a public key: %v", err)
		}
	}
	return b.Bytes()
}

// ArmoredPublicKeyring returns the public keys of entities ASCII-armored (`gpg --export -a`).
func ArmoredPublicKeyring(t T, entities ...*openpgp.Entity) []byte {
	t.Helper()
	var b bytes.Buffer
	w, err := armor.Encode(&b, openpgp.PublicKeyType, nil)
	if err != nil {
		t.Fatalf("%v", err)
	}
	if _, err := w.Write(PublicKeyring(t, entities...)); err != nil {
		t.Fatalf("%v", err)
	}
	if err := w.Close(); err != nil {
		t.Fatalf("%v", err)
	}
	return b.Bytes()
}

// SecretKeyring returns entities with their private keys as a binary keyring, the GnuPG 1
// secring.gpg format helm reads with --keyring. A non-empty passphrase encrypts the keys.
func SecretKeyring(t T, passphrase string, entities ...*openpgp.Entity) []byte {
	t.Helper()
	var b bytes.Buffer
	for _, e := range entities {
		if passphrase != "" {
			if err := e.EncryptPrivateKeys([]byte(passphrase), nil); err != nil {
				t.Fatalf("encrypting a private key: %v", err)
			}
		}
		if err := e.SerializePrivateWithoutSigning(&b, nil); err != nil {
			t.Fatalf("serializing a private key: %v", err)
		}
	}
	return b.Bytes()
}

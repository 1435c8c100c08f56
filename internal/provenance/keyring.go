package provenance

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/ProtonMail/go-crypto/openpgp"
)

// MaxKeyringSize bounds a keyring read by ReadKeyring: 4 MiB is thousands of keys.
const MaxKeyringSize = 4 << 20

// ReadKeyring parses an OpenPGP keyring, ASCII-armored (`gpg --export --armor`) or binary
// (`gpg --export`, GnuPG 1 pubring.gpg and secring.gpg files). Several armored blocks may
// follow each other. A keyring with no key is an error.
func ReadKeyring(data []byte) (openpgp.EntityList, error) {
	if len(data) > MaxKeyringSize {
		return nil, &Error{Kind: ErrKeyring, Msg: fmt.Sprintf("keyring is %d bytes, larger than the limit of %d", len(data), MaxKeyringSize)}
	}
	var ring openpgp.EntityList
	var err error
	trimmed := bytes.TrimSpace(data)
	if bytes.HasPrefix(trimmed, []byte("-----BEGIN")) {
		ring, err = readArmoredBlocks(trimmed)
	} else {
		ring, err = openpgp.ReadKeyRing(bytes.NewReader(data))
	}
	if err != nil {
		return nil, &Error{Kind: ErrKeyring, Msg: fmt.Sprintf("keyring cannot be read: %v", err)}
	}
	if len(ring) == 0 {
		return nil, &Error{Kind: ErrKeyring, Msg: "keyring holds no key"}
	}
	return ring, nil
}

// readArmoredBlocks reads one or more concatenated armored key blocks.
func readArmoredBlocks(data []byte) (openpgp.EntityList, error) {
	const begin = "-----BEGIN"
	var ring openpgp.EntityList
	text := string(data)
	for text != "" {
		next := strings.Index(text[len(begin):], begin)
		block := text
		if next >= 0 {
			block, text = text[:next+len(begin)], text[next+len(begin):]
		} else {
			text = ""
		}
		el, err := openpgp.ReadArmoredKeyRing(strings.NewReader(block))
		if err != nil {
			return nil, err
		}
		ring = append(ring, el...)
	}
	return ring, nil
}

// FindSigningKey picks the key to sign with from a keyring as helm does: the entity with an
// identity equal to name, else the only entity with an identity containing name. The entity
// must hold a private key.
func FindSigningKey(ring openpgp.EntityList, name string) (*openpgp.Entity, error) {
	var candidate *openpgp.Entity
	vague := false
	for _, e := range ring {
		for id := range e.Identities {
			if id == name {
				return withPrivateKey(e, name)
			}
			if strings.Contains(id, name) {
				vague = vague || (candidate != nil && candidate != e)
				candidate = e
			}
		}
	}
	switch {
	case vague:
		return nil, &Error{Kind: ErrKeyring, Msg: fmt.Sprintf("more than one key contains the id %q", name)}
	case candidate == nil:
		return nil, &Error{Kind: ErrKeyring, Msg: fmt.Sprintf("no key in the keyring has the id %q", name)}
	}
	return withPrivateKey(candidate, name)
}

func withPrivateKey(e *openpgp.Entity, name string) (*openpgp.Entity, error) {
	if e.PrivateKey == nil {
		return nil, &Error{Kind: ErrKeyring, Msg: fmt.Sprintf("the key %q has no private key in this keyring", name)}
	}
	return e, nil
}

// Decrypt decrypts the private keys of e with passphrase, if they are encrypted.
func Decrypt(e *openpgp.Entity, passphrase []byte) error {
	if e.PrivateKey == nil || !e.PrivateKey.Encrypted {
		return nil
	}
	if err := e.DecryptPrivateKeys(passphrase); err != nil {
		return &Error{Kind: ErrKeyring, Msg: fmt.Sprintf("the private key cannot be decrypted: %v", err)}
	}
	return nil
}

// IsEncrypted reports whether e's primary private key needs a passphrase.
func IsEncrypted(e *openpgp.Entity) bool {
	return e.PrivateKey != nil && e.PrivateKey.Encrypted
}

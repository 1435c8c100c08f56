package provenance

import (
	"bytes"
	"crypto"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/clearsign"
	pgperrors "github.com/ProtonMail/go-crypto/openpgp/errors"
	"github.com/ProtonMail/go-crypto/openpgp/packet"
	"sigs.k8s.io/yaml"

	"github.com/capstan-dev/capstan/internal/chart"
)

// MaxSize bounds a provenance file. Helm's are a Chart.yaml, one digest and a signature: a
// few KiB. 64 KiB leaves room for long Chart.yaml files and refuses anything else.
const MaxSize = 64 << 10

// Extension is what a provenance file's name adds to its archive's name.
const Extension = ".prov"

// separator ends the Chart.yaml block and starts the files block. YAML's "---" cannot start a
// line of a clear-signed text, so Helm uses the document end marker "...".
const separator = "\n...\n"

// sums is the files block.
type sums struct {
	Files map[string]string `json:"files"`
}

// statement is the signed text of a provenance file, parsed.
type statement struct {
	name, version string
	files         map[string]string
}

// Verification is what a successful Verify proved.
type Verification struct {
	// ChartName and ChartVersion are the signed Chart.yaml's.
	ChartName, ChartVersion string
	// FileName is the archive name the signed digest was found under.
	FileName string
	// Digest is the archive's sha256, "sha256:<hex>".
	Digest string
	// Fingerprint is the signing key's primary fingerprint, upper-case hex.
	Fingerprint string
	// Signer is the signing key's primary identity ("Name (comment) <email>").
	Signer string
}

// VerifyOptions name what the provenance file must describe.
type VerifyOptions struct {
	// FileName is the archive's file name as it was served (the last element of its URL).
	// The signed digest is looked up under it, then under "<name>-<version>.tgz" of the signed
	// Chart.yaml. Empty means only the latter.
	FileName string
	// ChartName and ChartVersion, when set, must equal the signed Chart.yaml's.
	ChartName, ChartVersion string
	// Now is the time keys and signatures are checked for expiry at; zero means time.Now().
	Now time.Time
}

// Verify checks that prov is a provenance file for archive signed by a key in keyring: the
// clear-signed text verifies with a trusted, unexpired, unrevoked key; the archive's sha256
// equals the signed one; and the signed chart name and version are the expected ones. Every
// error matches ErrVerificationFailed and one of the kinds in errors.go, and its message says
// what failed.
func Verify(archive, prov []byte, keyring openpgp.EntityList, opts VerifyOptions) (v *Verification, err error) {
	// The OpenPGP parser reads bytes from the network. go-crypto before v1.5 panicked on a
	// clear-signed block with an empty text (found by FuzzVerify); whatever else it may panic
	// on, a panic refuses the file instead of stopping the controller.
	defer func() {
		if r := recover(); r != nil {
			v, err = nil, failf(ErrMalformed, "provenance file cannot be parsed")
		}
	}()
	if len(prov) > MaxSize {
		return nil, failf(ErrMalformed, "provenance file is %d bytes, larger than the limit of %d", len(prov), MaxSize)
	}
	block, _ := clearsign.Decode(prov)
	if block == nil || block.ArmoredSignature == nil {
		return nil, failf(ErrMalformed, "provenance file holds no OpenPGP clear-signed message")
	}
	signer, err := checkSignature(block, keyring, opts.Now)
	if err != nil {
		return nil, err
	}
	st, err := parseStatement(block.Plaintext)
	if err != nil {
		return nil, err
	}
	v, err = st.check(archive, opts)
	if err != nil {
		return nil, err
	}
	v.Fingerprint = strings.ToUpper(hex.EncodeToString(signer.PrimaryKey.Fingerprint))
	v.Signer = identity(signer)
	return v, nil
}

// checkSignature verifies the clear-signed block against keyring and returns the signer.
func checkSignature(block *clearsign.Block, keyring openpgp.EntityList, now time.Time) (*openpgp.Entity, error) {
	sig, err := io.ReadAll(io.LimitReader(block.ArmoredSignature.Body, MaxSize))
	if err != nil {
		return nil, failf(ErrMalformed, "provenance signature cannot be read: %v", err)
	}
	cfg := &packet.Config{Time: func() time.Time { return now }}
	if now.IsZero() {
		cfg.Time = nil
	}
	signer, err := openpgp.CheckDetachedSignature(keyring, bytes.NewReader(block.Bytes), bytes.NewReader(sig), cfg)
	if err == nil {
		return signer, nil
	}
	return nil, signatureError(err, signer, sig)
}

// signatureError turns go-crypto's verdict into a failure naming the key.
func signatureError(err error, signer *openpgp.Entity, sig []byte) error {
	key := "the signing key"
	if signer != nil {
		key = fmt.Sprintf("key %s (%s)", strings.ToUpper(hex.EncodeToString(signer.PrimaryKey.Fingerprint)), identity(signer))
	} else if id := issuerKeyID(sig); id != "" {
		key = "key ID " + id
	}
	var structural pgperrors.StructuralError
	var unsupported pgperrors.UnsupportedError
	switch {
	case errors.Is(err, pgperrors.ErrUnknownIssuer):
		return failf(ErrUntrustedKey, "provenance is signed by %s, which is not in the trusted keyring", key)
	case errors.Is(err, pgperrors.ErrKeyRevoked):
		return failf(ErrKeyRevoked, "provenance is signed by %s, which is revoked", key)
	case errors.Is(err, pgperrors.ErrKeyExpired):
		return failf(ErrKeyExpired, "provenance is signed by %s, which has expired", key)
	case errors.Is(err, pgperrors.ErrSignatureExpired):
		return failf(ErrKeyExpired, "provenance signature by %s has expired", key)
	case errors.As(err, &structural), errors.As(err, &unsupported):
		return failf(ErrMalformed, "provenance signature cannot be read: %v", err)
	default:
		return failf(ErrBadSignature, "provenance signature by %s does not verify: the signed text was altered or the signature is forged", key)
	}
}

// issuerKeyID returns the issuer key ID of the first signature packet, for messages.
func issuerKeyID(sig []byte) string {
	p, err := packet.NewReader(bytes.NewReader(sig)).Next()
	if err != nil {
		return ""
	}
	if s, ok := p.(*packet.Signature); ok && s.IssuerKeyId != nil {
		return fmt.Sprintf("%016X", *s.IssuerKeyId)
	}
	return ""
}

// identity is the entity's primary user id, or "no user id".
func identity(e *openpgp.Entity) string {
	if id := e.PrimaryIdentity(); id != nil {
		return id.Name
	}
	return "no user id"
}

// parseStatement splits the signed text into its Chart.yaml and files blocks.
func parseStatement(text []byte) (*statement, error) {
	parts := strings.Split(string(text), separator)
	if len(parts) != 2 {
		return nil, failf(ErrMalformed, "provenance text is not a Chart.yaml block and a files block separated by a line \"...\"")
	}
	var md chart.Metadata
	if err := yaml.Unmarshal([]byte(parts[0]), &md); err != nil {
		return nil, failf(ErrMalformed, "provenance Chart.yaml block does not parse: %v", err)
	}
	var s sums
	if err := yaml.Unmarshal([]byte(parts[1]), &s); err != nil {
		return nil, failf(ErrMalformed, "provenance files block does not parse: %v", err)
	}
	if md.Name == "" || md.Version == "" || len(s.Files) == 0 {
		return nil, failf(ErrMalformed, "provenance names no chart, no version or no file digest")
	}
	return &statement{name: md.Name, version: md.Version, files: s.Files}, nil
}

// check compares the statement with the archive and what the caller expects.
func (st *statement) check(archive []byte, opts VerifyOptions) (*Verification, error) {
	if opts.ChartName != "" && opts.ChartName != st.name || opts.ChartVersion != "" && opts.ChartVersion != st.version {
		return nil, failf(ErrChartMismatch, "provenance is for chart %s version %s, not %s version %s",
			quote(st.name), quote(st.version), quote(opts.ChartName), quote(opts.ChartVersion))
	}
	digest := Digest(archive)
	name, want := st.signedDigest(opts.FileName)
	if name == "" {
		return nil, failf(ErrDigestMismatch, "provenance signs no digest for %s (it lists %s)",
			quote(archiveName(opts.FileName, st)), strings.Join(quoteAll(sortedKeys(st.files)), ", "))
	}
	if want != digest {
		return nil, failf(ErrDigestMismatch, "archive %s has digest %s, but the provenance signs %s",
			quote(name), digest, quote(want))
	}
	return &Verification{ChartName: st.name, ChartVersion: st.version, FileName: name, Digest: digest}, nil
}

// signedDigest returns the file name and digest the statement signs for the archive.
func (st *statement) signedDigest(fileName string) (string, string) {
	for _, name := range []string{fileName, st.name + "-" + st.version + ".tgz"} {
		if d, ok := st.files[name]; ok && name != "" {
			return name, d
		}
	}
	return "", ""
}

func archiveName(fileName string, st *statement) string {
	if fileName != "" {
		return fileName
	}
	return st.name + "-" + st.version + ".tgz"
}

// Digest is the sha256 of data as a provenance file writes it: "sha256:<hex>".
func Digest(data []byte) string {
	sum := sha256.Sum256(data)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// Sign returns the provenance file of archive, whose Chart.yaml is md and whose file name is
// fileName (helm names it "<name>-<version>.tgz"), clear-signed with signer's primary key and
// SHA-512 as helm does. The signer's private key must be decrypted.
func Sign(archive []byte, fileName string, md *chart.Metadata, signer *openpgp.Entity, now time.Time) ([]byte, error) {
	if signer == nil || signer.PrivateKey == nil || signer.PrivateKey.Encrypted {
		return nil, &Error{Kind: ErrKeyring, Msg: "the signing key has no usable private key"}
	}
	text, err := statementText(archive, fileName, md)
	if err != nil {
		return nil, err
	}
	cfg := &packet.Config{DefaultHash: crypto.SHA512}
	if !now.IsZero() {
		cfg.Time = func() time.Time { return now }
	}
	var out bytes.Buffer
	w, err := clearsign.Encode(&out, signer.PrivateKey, cfg)
	if err != nil {
		return nil, fmt.Errorf("signing: %w", err)
	}
	if _, err := w.Write(text); err != nil {
		return nil, fmt.Errorf("signing: %w", err)
	}
	if err := w.Close(); err != nil {
		return nil, fmt.Errorf("signing: %w", err)
	}
	return out.Bytes(), nil
}

// statementText is the text a provenance file signs: Chart.yaml, "...", and the files block.
func statementText(archive []byte, fileName string, md *chart.Metadata) ([]byte, error) {
	head, err := yaml.Marshal(md)
	if err != nil {
		return nil, fmt.Errorf("encoding Chart.yaml: %w", err)
	}
	files, err := yaml.Marshal(sums{Files: map[string]string{fileName: Digest(archive)}})
	if err != nil {
		return nil, fmt.Errorf("encoding the files block: %w", err)
	}
	var b bytes.Buffer
	b.Write(head)
	b.WriteString(separator)
	b.Write(files)
	return b.Bytes(), nil
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	if len(keys) > 8 {
		keys = append(keys[:8], "…")
	}
	return keys
}

// quote quotes s for a message, cut to 128 bytes so a hostile file cannot flood it.
func quote(s string) string {
	if len(s) > 128 {
		s = s[:128] + "…"
	}
	return fmt.Sprintf("%q", s)
}

func quoteAll(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = quote(s)
	}
	return out
}

package ocisign

import (
	"bytes"
	"context"
	"crypto"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"time"

	protocommon "github.com/sigstore/protobuf-specs/gen/pb-go/common/v1"
	protorekor "github.com/sigstore/protobuf-specs/gen/pb-go/rekor/v1"
	"github.com/sigstore/sigstore-go/pkg/bundle"
	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/sigstore/sigstore-go/pkg/tlog"
	"github.com/sigstore/sigstore-go/pkg/verify"
	"github.com/sigstore/sigstore/pkg/cryptoutils"
	"github.com/sigstore/sigstore/pkg/signature"

	"github.com/capstan-dev/capstan/internal/repo"
)

// Where and how cosign stores signatures.
const (
	// CosignPayloadMediaType is the layer of a tag-stored cosign signature: the "simple
	// signing" JSON statement naming the signed manifest digest.
	CosignPayloadMediaType = "application/vnd.dev.cosign.simplesigning.v1+json"
	// BundleArtifactType is the artifact type of a Sigstore bundle attached as a referrer, as
	// cosign writes it with the new bundle format.
	BundleArtifactType = "application/vnd.dev.sigstore.bundle.v0.3+json"

	annotationSignature   = "dev.cosignproject.cosign/signature"
	annotationCertificate = "dev.sigstore.cosign/certificate"
	annotationRekorBundle = "dev.sigstore.cosign/bundle"
	simpleSigningType     = "cosign container image signature"
)

// Secret keys of cosign trust material.
const (
	// TrustedRootKey holds a Sigstore trusted root (trusted_root.json, the format `cosign
	// trusted-root create` writes and Sigstore's TUF repository serves): the certificate
	// authorities of keyless signing and the transparency logs' keys.
	TrustedRootKey = "trusted_root.json"
	// PublicKeySuffix marks the keys holding a PEM public key (as `cosign generate-key-pair`
	// writes cosign.pub).
	PublicKeySuffix = ".pub"
)

// ErrTrustMaterial matches an error about the trust material itself (the Secret's data or the
// identity rules), as opposed to the chart's signatures.
var ErrTrustMaterial = errors.New("invalid trust material")

// Identity is a keyless signer the policy accepts: regular expressions that must match the
// whole certificate subject (its subject alternative name) and the whole OIDC issuer.
type Identity struct {
	Issuer  string
	Subject string
}

// CosignPolicy is what a cosign verification trusts.
type CosignPolicy struct {
	// Identities, when not empty, makes the verification keyless: certificates chaining to the
	// trusted root's certificate authorities, whose subject and issuer match one identity.
	// When empty, signatures must verify with one of the Secret's public keys.
	Identities []Identity
	// RequireTlog requires every accepted signature to carry a transparency log entry that
	// verifies against the trusted root's logs; its integrated time is the time a keyless
	// certificate must have been valid at. When false, log entries are not read, and a keyless
	// certificate must be valid now.
	RequireTlog bool
}

// Result is an accepted signature of a chart.
type Result struct {
	// Digest is the signed chart manifest's digest.
	Digest string
	// Fingerprint is the SHA-256 of the public key (keyed) or certificate (keyless, notation),
	// upper-case hex.
	Fingerprint string
	// Signer is the Secret key of the public key that verified (keyed), or the certificate's
	// subject (its subject alternative name for keyless; its distinguished name for notation).
	Signer string
	// Issuer is the OIDC issuer (keyless) or the certificate's issuer (notation).
	Issuer string
	// Where names the signature artifact that verified.
	Where string
}

// Cosign verifies cosign signatures with one trust configuration.
type Cosign struct {
	policy CosignPolicy
	root   *root.TrustedRoot
	keys   []namedKey
	ids    []verify.CertificateIdentity
}

type namedKey struct {
	name        string
	key         crypto.PublicKey
	verifier    signature.Verifier
	fingerprint string
}

// NewCosign reads the trust material from a Secret's data: public keys under keys ending in
// ".pub", and a trusted root under "trusted_root.json". Keyless verification (Identities set)
// needs the trusted root; keyed verification needs at least one public key, and the trusted
// root too when RequireTlog is set. Errors match ErrTrustMaterial.
func NewCosign(data map[string][]byte, policy CosignPolicy) (*Cosign, error) {
	c := &Cosign{policy: policy}
	if raw, ok := data[TrustedRootKey]; ok {
		tr, err := root.NewTrustedRootFromJSON(raw)
		if err != nil {
			return nil, trustErr("%s is not a Sigstore trusted root: %v", TrustedRootKey, err)
		}
		c.root = tr
	}
	names := make([]string, 0, len(data))
	for name := range data {
		if strings.HasSuffix(name, PublicKeySuffix) {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	for _, name := range names {
		k, err := parsePublicKey(name, data[name])
		if err != nil {
			return nil, err
		}
		c.keys = append(c.keys, k)
	}
	for i, id := range policy.Identities {
		ci, err := certificateIdentity(i, id)
		if err != nil {
			return nil, err
		}
		c.ids = append(c.ids, ci)
	}
	switch {
	case len(c.ids) > 0 && c.root == nil:
		return nil, trustErr("keyless verification needs a trusted root under the key %s", TrustedRootKey)
	case len(c.ids) == 0 && len(c.keys) == 0:
		return nil, trustErr("keyed verification needs a public key under a key ending in %s (or set matchOIDCIdentity for keyless)", PublicKeySuffix)
	case policy.RequireTlog && c.root == nil:
		return nil, trustErr("transparency log entries are required but there is no trusted root under the key %s to check them with; add one, or set transparencyLog to Ignore", TrustedRootKey)
	case policy.RequireTlog && len(c.root.RekorLogs()) == 0:
		return nil, trustErr("transparency log entries are required but the trusted root lists no transparency log")
	}
	return c, nil
}

func parsePublicKey(name string, raw []byte) (namedKey, error) {
	key, err := cryptoutils.UnmarshalPEMToPublicKey(raw)
	if err != nil {
		return namedKey{}, trustErr("%s does not hold a PEM public key: %v", name, err)
	}
	v, err := signature.LoadDefaultVerifier(key)
	if err != nil {
		return namedKey{}, trustErr("%s: %v", name, err)
	}
	der, err := x509.MarshalPKIXPublicKey(key)
	if err != nil {
		return namedKey{}, trustErr("%s: %v", name, err)
	}
	sum := sha256.Sum256(der)
	return namedKey{name: name, key: key, verifier: v, fingerprint: strings.ToUpper(hex.EncodeToString(sum[:]))}, nil
}

// certificateIdentity compiles one identity rule. Both expressions are anchored: they must
// match the whole subject and the whole issuer.
func certificateIdentity(i int, id Identity) (verify.CertificateIdentity, error) {
	for field, expr := range map[string]string{"issuer": id.Issuer, "subject": id.Subject} {
		if expr == "" {
			return verify.CertificateIdentity{}, trustErr("matchOIDCIdentity[%d].%s is empty", i, field)
		}
		if _, err := regexp.Compile(expr); err != nil {
			return verify.CertificateIdentity{}, trustErr("matchOIDCIdentity[%d].%s is not a regular expression: %v", i, field, err)
		}
	}
	ci, err := verify.NewShortCertificateIdentity("", anchor(id.Issuer), "", anchor(id.Subject))
	if err != nil {
		return verify.CertificateIdentity{}, trustErr("matchOIDCIdentity[%d]: %v", i, err)
	}
	return ci, nil
}

func anchor(expr string) string { return "^(?:" + expr + ")$" }

func trustErr(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrTrustMaterial, fmt.Sprintf(format, args...))
}

// Query returns where cosign signatures are looked for: the cosign tag and bundle referrers.
func (c *Cosign) Query() repo.SignatureQuery {
	return repo.SignatureQuery{CosignTag: true, ArtifactTypes: []string{BundleArtifactType}}
}

// Verify returns the first signature among sigs that verifies for subject under the policy.
// When none does, the error names each artifact and why it was refused, or says that none
// was found.
func (c *Cosign) Verify(_ context.Context, subject repo.SignatureSubject, sigs []repo.SignatureArtifact) (*Result, error) {
	var reasons []string
	for _, a := range sigs {
		if a.Err != nil {
			reasons = append(reasons, fmt.Sprintf("%s: %v", a.Where, a.Err))
			continue
		}
		var res *Result
		var err error
		switch {
		case a.ArtifactType == BundleArtifactType:
			res, err = c.verifyBundle(subject, a)
		case strings.HasPrefix(a.Where, "tag "):
			res, err = c.verifyTagged(subject, a)
		default:
			continue
		}
		if err == nil {
			res.Where = a.Where
			return res, nil
		}
		reasons = append(reasons, fmt.Sprintf("%s: %v", a.Where, err))
	}
	if len(reasons) == 0 {
		return nil, fmt.Errorf("no cosign signature found for %s@%s (neither the tag %s nor a referrer of type %s)",
			subject.Repository, subject.Manifest.Digest, strings.Replace(subject.Manifest.Digest.String(), ":", "-", 1)+".sig", BundleArtifactType)
	}
	return nil, fmt.Errorf("no cosign signature of %s@%s verifies: %s", subject.Repository, subject.Manifest.Digest, strings.Join(reasons, "; "))
}

// verifyBundle checks a Sigstore bundle whose signature covers the manifest digest (a DSSE
// in-toto statement naming it as subject, or a message signature over it).
func (c *Cosign) verifyBundle(subject repo.SignatureSubject, a repo.SignatureArtifact) (*Result, error) {
	if len(a.Layers) != 1 {
		return nil, fmt.Errorf("a bundle artifact must have exactly one layer, it has %d", len(a.Layers))
	}
	var b bundle.Bundle
	if err := b.UnmarshalJSON(a.Layers[0]); err != nil {
		return nil, fmt.Errorf("the bundle does not parse: %w", err)
	}
	want, err := hex.DecodeString(subject.Manifest.Digest.Encoded())
	if err != nil {
		return nil, err
	}
	return c.verifyEntity(&b, verify.WithArtifactDigest("sha256", want), subject)
}

// verifyTagged checks a signature stored under cosign's tag: each simple-signing layer carries
// its signature (and, keyless, its certificate and transparency log entry) in annotations, and
// its payload must name the manifest digest.
func (c *Cosign) verifyTagged(subject repo.SignatureSubject, a repo.SignatureArtifact) (*Result, error) {
	var reasons []string
	for i, l := range a.Manifest.Layers {
		if l.MediaType != CosignPayloadMediaType {
			continue
		}
		res, err := c.verifyTaggedLayer(subject, l.Annotations, a.Layers[i])
		if err == nil {
			return res, nil
		}
		reasons = append(reasons, fmt.Sprintf("layer %d: %v", i, err))
	}
	if len(reasons) == 0 {
		return nil, fmt.Errorf("it has no layer of media type %s", CosignPayloadMediaType)
	}
	return nil, errors.New(strings.Join(reasons, "; "))
}

func (c *Cosign) verifyTaggedLayer(subject repo.SignatureSubject, ann map[string]string, payload []byte) (*Result, error) {
	sig, err := base64.StdEncoding.DecodeString(ann[annotationSignature])
	if err != nil || len(sig) == 0 {
		return nil, fmt.Errorf("annotation %s does not hold a base64 signature", annotationSignature)
	}
	e := &taggedSignature{payload: payload, sig: sig}
	if pemCert := ann[annotationCertificate]; pemCert != "" {
		blk, _ := pem.Decode([]byte(pemCert))
		if blk == nil {
			return nil, fmt.Errorf("annotation %s does not hold a PEM certificate", annotationCertificate)
		}
		if e.cert, err = x509.ParseCertificate(blk.Bytes); err != nil {
			return nil, fmt.Errorf("annotation %s: %w", annotationCertificate, err)
		}
	}
	if raw := ann[annotationRekorBundle]; raw != "" && c.policy.RequireTlog {
		entry, err := rekorEntry([]byte(raw))
		if err != nil {
			return nil, fmt.Errorf("annotation %s: %w", annotationRekorBundle, err)
		}
		e.tlog = []*tlog.Entry{entry}
	}
	res, err := c.verifyEntity(e, verify.WithArtifact(bytes.NewReader(payload)), subject)
	if err != nil {
		return nil, err
	}
	if err := checkSimpleSigning(payload, subject.Manifest.Digest.String()); err != nil {
		return nil, err
	}
	return res, nil
}

// checkSimpleSigning checks that a verified simple-signing payload names digest.
func checkSimpleSigning(payload []byte, digest string) error {
	var p struct {
		Critical struct {
			Image struct {
				Digest string `json:"docker-manifest-digest"`
			} `json:"image"`
			Type string `json:"type"`
		} `json:"critical"`
	}
	if err := json.Unmarshal(payload, &p); err != nil {
		return fmt.Errorf("the signed payload does not parse: %w", err)
	}
	if p.Critical.Type != simpleSigningType {
		return fmt.Errorf("the signed payload has type %q, want %q", truncate(p.Critical.Type, 64), simpleSigningType)
	}
	if p.Critical.Image.Digest != digest {
		return fmt.Errorf("the signature is for %s, not for this chart's manifest %s", truncate(p.Critical.Image.Digest, 80), digest)
	}
	return nil
}

// rekorEntry reads cosign's "bundle" annotation: a Rekor entry's body, time, index and log id
// with the log's signed entry timestamp.
func rekorEntry(raw []byte) (*tlog.Entry, error) {
	var rb struct {
		SignedEntryTimestamp []byte `json:"SignedEntryTimestamp"`
		Payload              struct {
			Body           []byte `json:"body"`
			IntegratedTime int64  `json:"integratedTime"`
			LogIndex       int64  `json:"logIndex"`
			LogID          string `json:"logID"`
		} `json:"Payload"`
	}
	if err := json.Unmarshal(raw, &rb); err != nil {
		return nil, fmt.Errorf("does not parse: %w", err)
	}
	logID, err := hex.DecodeString(rb.Payload.LogID)
	if err != nil {
		return nil, fmt.Errorf("logID is not hex")
	}
	var kind struct {
		Kind       string `json:"kind"`
		APIVersion string `json:"apiVersion"`
	}
	if err := json.Unmarshal(rb.Payload.Body, &kind); err != nil {
		return nil, fmt.Errorf("entry body does not parse: %w", err)
	}
	return tlog.NewTlogEntry(&protorekor.TransparencyLogEntry{
		LogIndex:          rb.Payload.LogIndex,
		LogId:             &protocommon.LogId{KeyId: logID},
		KindVersion:       &protorekor.KindVersion{Kind: kind.Kind, Version: kind.APIVersion},
		IntegratedTime:    rb.Payload.IntegratedTime,
		InclusionPromise:  &protorekor.InclusionPromise{SignedEntryTimestamp: rb.SignedEntryTimestamp},
		CanonicalizedBody: rb.Payload.Body,
	})
}

// verifyEntity runs sigstore-go's verifier: keyless with the trusted root and identities,
// else with each public key in turn.
func (c *Cosign) verifyEntity(e verify.SignedEntity, artifact verify.ArtifactPolicyOption, subject repo.SignatureSubject) (*Result, error) {
	vc, err := e.VerificationContent()
	if err != nil {
		return nil, err
	}
	if len(c.ids) > 0 {
		if vc.Certificate() == nil {
			return nil, errors.New("it is signed with a key, and keyless verification needs a certificate")
		}
		v, err := verify.NewVerifier(c.root, c.verifierOptions(true)...)
		if err != nil {
			return nil, err
		}
		opts := make([]verify.PolicyOption, 0, len(c.ids))
		for _, id := range c.ids {
			opts = append(opts, verify.WithCertificateIdentity(id))
		}
		res, err := v.Verify(e, verify.NewPolicy(artifact, opts...))
		if err != nil {
			return nil, c.describe(err, vc.Certificate())
		}
		sum := sha256.Sum256(vc.Certificate().Raw)
		return &Result{Digest: subject.Manifest.Digest.String(), Fingerprint: strings.ToUpper(hex.EncodeToString(sum[:])),
			Signer: res.Signature.Certificate.SubjectAlternativeName, Issuer: res.Signature.Certificate.Issuer}, nil
	}
	if vc.Certificate() != nil {
		return nil, errors.New("it is signed with a certificate, and keyed verification (no matchOIDCIdentity) needs a key signature")
	}
	var reasons []string
	for _, k := range c.keys {
		tm := root.TrustedMaterial(root.NewTrustedPublicKeyMaterial(func(string) (root.TimeConstrainedVerifier, error) {
			return root.NewExpiringKey(k.verifier, timeZero, timeZero), nil
		}))
		if c.root != nil {
			tm = root.TrustedMaterialCollection{c.root, tm}
		}
		v, err := verify.NewVerifier(tm, c.verifierOptions(false)...)
		if err != nil {
			return nil, err
		}
		if _, err := v.Verify(e, verify.NewPolicy(artifact, verify.WithKey())); err != nil {
			reasons = append(reasons, fmt.Sprintf("%s: %v", k.name, err))
			continue
		}
		return &Result{Digest: subject.Manifest.Digest.String(), Fingerprint: k.fingerprint, Signer: k.name}, nil
	}
	return nil, fmt.Errorf("it does not verify with any trusted public key (%s)", strings.Join(reasons, "; "))
}

func (c *Cosign) verifierOptions(keyless bool) []verify.VerifierOption {
	var opts []verify.VerifierOption
	switch {
	case c.policy.RequireTlog:
		opts = []verify.VerifierOption{verify.WithTransparencyLog(1), verify.WithObserverTimestamps(1)}
	case keyless:
		opts = []verify.VerifierOption{verify.WithCurrentTime()}
	default:
		return []verify.VerifierOption{verify.WithNoObserverTimestamps()}
	}
	// A keyless certificate must carry a timestamp of a certificate transparency log the trusted
	// root lists, as cosign requires; a root without such logs (a private CA) asks for none.
	if keyless && len(c.root.CTLogs()) > 0 {
		opts = append(opts, verify.WithSignedCertificateTimestamps(1))
	}
	return opts
}

// describe turns sigstore-go's refusal of a certificate into a sentence that names the
// certificate's subject and, where sigstore-go says only that the chain did not verify, why:
// not issued by a trusted authority, or not valid at the time it is checked at.
func (c *Cosign) describe(err error, cert *x509.Certificate) error {
	var who []string
	for _, u := range cert.URIs {
		who = append(who, u.String())
	}
	who = append(who, cert.EmailAddresses...)
	msg := err.Error()
	if strings.Contains(msg, "leaf certificate verification failed") {
		switch {
		case !c.issuedByTrustedCA(cert):
			msg = "it is not issued by a certificate authority of the trusted root"
		case !c.policy.RequireTlog && (timeNow().After(cert.NotAfter) || timeNow().Before(cert.NotBefore)):
			msg = fmt.Sprintf("it is valid from %s to %s, not now (with transparencyLog Ignore, a certificate is checked at the current time)",
				cert.NotBefore.UTC().Format(time.RFC3339), cert.NotAfter.UTC().Format(time.RFC3339))
		}
	}
	return fmt.Errorf("certificate for %s: %s", truncate(strings.Join(who, ", "), 256), msg)
}

// timeNow is time.Now, a variable only so that the message above reads the same clock as the
// check it explains.
var timeNow = time.Now

// issuedByTrustedCA reports whether cert is signed by a root or intermediate of a certificate
// authority of the trusted root.
func (c *Cosign) issuedByTrustedCA(cert *x509.Certificate) bool {
	for _, ca := range c.root.FulcioCertificateAuthorities() {
		fca, ok := ca.(*root.FulcioCertificateAuthority)
		if !ok {
			return true // another kind of authority: do not guess.
		}
		for _, issuer := range append([]*x509.Certificate{fca.Root}, fca.Intermediates...) {
			if issuer != nil && cert.CheckSignatureFrom(issuer) == nil {
				return true
			}
		}
	}
	return false
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// timeZero leaves a trusted public key without a validity window.
var timeZero time.Time

// taggedSignature is a signature stored under cosign's tag, seen as a sigstore-go signed
// entity: a message signature over the simple-signing payload, with the signing certificate
// (keyless) or no verification material but the trusted keys (keyed), and the Rekor entry
// cosign attached, if any.
type taggedSignature struct {
	payload []byte
	sig     []byte
	cert    *x509.Certificate
	tlog    []*tlog.Entry
}

func (t *taggedSignature) HasInclusionPromise() bool {
	return len(t.tlog) > 0 && t.tlog[0].HasInclusionPromise()
}

func (t *taggedSignature) HasInclusionProof() bool { return false }

func (t *taggedSignature) SignatureContent() (verify.SignatureContent, error) {
	sum := sha256.Sum256(t.payload)
	return bundle.NewMessageSignature(sum[:], "SHA2_256", t.sig), nil
}

func (t *taggedSignature) Timestamps() ([][]byte, error) { return nil, nil }

func (t *taggedSignature) TlogEntries() ([]*tlog.Entry, error) { return t.tlog, nil }

func (t *taggedSignature) VerificationContent() (verify.VerificationContent, error) {
	if t.cert != nil {
		return bundle.NewCertificate(t.cert), nil
	}
	return &bundle.PublicKey{}, nil
}

func (t *taggedSignature) Version() (string, error) { return "v0.1", nil }

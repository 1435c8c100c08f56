package ocisign

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"sort"
	"strings"

	"github.com/notaryproject/notation-core-go/revocation"
	"github.com/notaryproject/notation-core-go/revocation/crl"
	"github.com/notaryproject/notation-core-go/revocation/purpose"
	"github.com/notaryproject/notation-go"
	"github.com/notaryproject/notation-go/verifier"
	"github.com/notaryproject/notation-go/verifier/trustpolicy"
	"github.com/notaryproject/notation-go/verifier/truststore"

	"github.com/capstan-dev/capstan/internal/repo"
)

const (
	// NotationArtifactType is the artifact type of a notation signature manifest.
	NotationArtifactType = "application/vnd.cncf.notary.signature"
	// TrustPolicyKey holds notation's trust policy document (trustpolicy.json).
	TrustPolicyKey = "trustpolicy.json"
	// maxTrustPolicySize bounds the trust policy document.
	maxTrustPolicySize = 64 << 10
)

// envelopeTypes are the signature envelope media types notation writes.
var envelopeTypes = map[string]bool{"application/jose+json": true, "application/cose": true}

// Notation verifies notation signatures with a trust policy and trust store.
type Notation struct {
	verifier notation.Verifier
	policy   *trustpolicy.Document
}

// NewNotation reads notation's trust material from a Secret's data: the trust policy document
// under "trustpolicy.json" and the trust store's certificates (PEM) under keys ending in ".crt"
// or ".pem". Every named trust store the policy references ("ca:NAME",
// "signingAuthority:NAME", "tsa:NAME") holds all of those certificates. Revocation is checked
// offline: OCSP and CRL requests always fail, so a certificate that names revocation servers
// has an unknown revocation status (a failure under the strict level unless the policy
// overrides revocation to log or skip), and one that names none passes. A policy at level
// "skip" is refused, since it verifies nothing. Errors match ErrTrustMaterial.
func NewNotation(data map[string][]byte) (*Notation, error) {
	raw, ok := data[TrustPolicyKey]
	if !ok {
		return nil, trustErr("notation needs a trust policy under the key %s", TrustPolicyKey)
	}
	if len(raw) > maxTrustPolicySize {
		return nil, trustErr("%s is %d bytes, larger than the limit of %d bytes", TrustPolicyKey, len(raw), maxTrustPolicySize)
	}
	var doc trustpolicy.Document
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&doc); err != nil {
		return nil, trustErr("%s does not parse: %v", TrustPolicyKey, err)
	}
	if err := doc.Validate(); err != nil {
		return nil, trustErr("%s: %v", TrustPolicyKey, err)
	}
	for _, p := range doc.TrustPolicies {
		level, err := p.SignatureVerification.GetVerificationLevel()
		if err == nil && reflect.DeepEqual(level, trustpolicy.LevelSkip) {
			return nil, trustErr("%s: trust policy %q has verification level skip, which verifies nothing; remove spec.verify instead", TrustPolicyKey, p.Name)
		}
	}
	store, err := newSecretTrustStore(data)
	if err != nil {
		return nil, err
	}
	offline := &http.Client{Transport: offlineTransport{}}
	fetcher, err := crl.NewHTTPFetcher(offline)
	if err != nil {
		return nil, err
	}
	codeSigning, err := revocation.NewWithOptions(revocation.Options{OCSPHTTPClient: offline, CRLFetcher: fetcher, CertChainPurpose: purpose.CodeSigning})
	if err != nil {
		return nil, err
	}
	timestamping, err := revocation.NewWithOptions(revocation.Options{OCSPHTTPClient: offline, CRLFetcher: fetcher, CertChainPurpose: purpose.Timestamping})
	if err != nil {
		return nil, err
	}
	v, err := verifier.NewWithOptions(&doc, store, nil, verifier.VerifierOptions{
		RevocationCodeSigningValidator: codeSigning, RevocationTimestampingValidator: timestamping})
	if err != nil {
		return nil, trustErr("%s: %v", TrustPolicyKey, err)
	}
	return &Notation{verifier: v, policy: &doc}, nil
}

// Query returns where notation signatures are looked for: the referrers of notation's type.
func (n *Notation) Query() repo.SignatureQuery {
	return repo.SignatureQuery{ArtifactTypes: []string{NotationArtifactType}}
}

// Verify returns the first notation signature among sigs that the trust policy accepts for
// subject. When none does, the error names each signature and why it was refused, or says
// that none was found.
func (n *Notation) Verify(ctx context.Context, subject repo.SignatureSubject, sigs []repo.SignatureArtifact) (*Result, error) {
	ref := subject.Repository + "@" + subject.Manifest.Digest.String()
	var reasons []string
	for _, a := range sigs {
		if a.ArtifactType != NotationArtifactType {
			continue
		}
		if a.Err != nil {
			reasons = append(reasons, fmt.Sprintf("%s: %v", a.Where, a.Err))
			continue
		}
		if len(a.Layers) != 1 || !envelopeTypes[a.Manifest.Layers[0].MediaType] {
			reasons = append(reasons, fmt.Sprintf("%s: a notation signature has exactly one layer of type application/jose+json or application/cose", a.Where))
			continue
		}
		outcome, err := n.verifier.Verify(ctx, subject.Manifest, a.Layers[0], notation.VerifierVerifyOptions{
			ArtifactReference: ref, SignatureMediaType: a.Manifest.Layers[0].MediaType})
		if err != nil {
			reasons = append(reasons, fmt.Sprintf("%s: %v", a.Where, err))
			continue
		}
		res := &Result{Digest: subject.Manifest.Digest.String(), Where: a.Where}
		if outcome.EnvelopeContent != nil && len(outcome.EnvelopeContent.SignerInfo.CertificateChain) > 0 {
			leaf := outcome.EnvelopeContent.SignerInfo.CertificateChain[0]
			sum := sha256.Sum256(leaf.Raw)
			res.Fingerprint = strings.ToUpper(hex.EncodeToString(sum[:]))
			res.Signer, res.Issuer = leaf.Subject.String(), leaf.Issuer.String()
		}
		return res, nil
	}
	if len(reasons) == 0 {
		return nil, fmt.Errorf("no notation signature found for %s (no referrer of type %s)", ref, NotationArtifactType)
	}
	return nil, fmt.Errorf("no notation signature of %s verifies: %s", ref, strings.Join(reasons, "; "))
}

// secretTrustStore is a notation trust store holding the certificates of a Secret: every named
// store has all of them.
type secretTrustStore struct{ certs []*x509.Certificate }

func newSecretTrustStore(data map[string][]byte) (*secretTrustStore, error) {
	var names []string
	for name := range data {
		if strings.HasSuffix(name, ".crt") || strings.HasSuffix(name, ".pem") {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	s := &secretTrustStore{}
	for _, name := range names {
		rest := data[name]
		n := 0
		for {
			var blk *pem.Block
			blk, rest = pem.Decode(rest)
			if blk == nil {
				break
			}
			if blk.Type != "CERTIFICATE" {
				continue
			}
			c, err := x509.ParseCertificate(blk.Bytes)
			if err != nil {
				return nil, trustErr("%s: %v", name, err)
			}
			s.certs = append(s.certs, c)
			n++
		}
		if n == 0 {
			return nil, trustErr("%s holds no PEM certificate", name)
		}
	}
	if len(s.certs) == 0 {
		return nil, trustErr("notation needs the trust store's certificates under keys ending in .crt or .pem")
	}
	return s, nil
}

// GetCertificates returns every certificate of the Secret, for any named store.
func (s *secretTrustStore) GetCertificates(_ context.Context, _ truststore.Type, _ string) ([]*x509.Certificate, error) {
	return s.certs, nil
}

// offlineTransport refuses every request: revocation servers are never contacted.
type offlineTransport struct{}

func (offlineTransport) RoundTrip(*http.Request) (*http.Response, error) {
	return nil, errors.New("revocation servers are not contacted: Capstan verifies offline")
}

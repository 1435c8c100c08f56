// Package ocisigntest signs OCI charts in-process for tests, laying signatures out the way
// cosign and notation do: cosign's "sha256-<hex>.sig" tag with a simple-signing payload,
// Sigstore bundles (v0.3, a DSSE in-toto statement) as referrers, and notation envelopes as
// referrers. Keys, certificate authorities, transparency logs and trusted roots are generated
// in-process and never leave the test.
package ocisigntest

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"log"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"time"

	jsoncanonicalizer "github.com/cyberphone/json-canonicalization/go/src/webpki.org/jsoncanonicalizer"
	"github.com/google/go-containerregistry/pkg/registry"
	"github.com/notaryproject/notation-go"
	notationregistry "github.com/notaryproject/notation-go/registry"
	"github.com/notaryproject/notation-go/signer"
	specs "github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	protobundle "github.com/sigstore/protobuf-specs/gen/pb-go/bundle/v1"
	protocommon "github.com/sigstore/protobuf-specs/gen/pb-go/common/v1"
	protodsse "github.com/sigstore/protobuf-specs/gen/pb-go/dsse"
	"github.com/sigstore/sigstore-go/pkg/root"
	"google.golang.org/protobuf/encoding/protojson"
	"oras.land/oras-go/v2/content"
	"oras.land/oras-go/v2/registry/remote"
)

// T is what the helpers need of a test: *testing.T, *testing.B or GinkgoT().
type T interface {
	Helper()
	Fatalf(format string, args ...any)
	Cleanup(func())
}

// Media types and annotations of the layouts written here.
const (
	HelmConfigMediaType = "application/vnd.cncf.helm.config.v1+json"
	HelmChartMediaType  = "application/vnd.cncf.helm.chart.content.v1.tar+gzip"
	BundleArtifactType  = "application/vnd.dev.sigstore.bundle.v0.3+json"
	cosignPayloadType   = "application/vnd.dev.cosign.simplesigning.v1+json"
)

// OIDIssuer is the Fulcio extension holding the OIDC issuer (the original, raw-string form).
var OIDIssuer = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 57264, 1, 1}

// NewRegistry starts an in-process OCI registry (go-containerregistry, referrers API on) on a
// loopback port and returns its host:port.
func NewRegistry(t T) string {
	t.Helper()
	return NewRegistryWith(t, func(h http.Handler) http.Handler { return h })
}

// NewRegistryWith is NewRegistry with the registry's handler wrapped, to inject faults.
func NewRegistryWith(t T, wrap func(http.Handler) http.Handler) string {
	t.Helper()
	inner := registry.New(registry.Logger(log.New(io.Discard, "", 0)), registry.WithReferrersSupport(true))
	srv := httptest.NewServer(wrap(referrersFix{inner}))
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://")
}

// referrersFix makes go-containerregistry's referrers listing follow the OCI distribution
// spec: a referrer's artifactType is its manifest's artifactType when set, and only then its
// config's media type (the library reports the config's media type always).
type referrersFix struct{ inner http.Handler }

func (f referrersFix) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	parts := strings.Split(r.URL.Path, "/")
	if r.Method != http.MethodGet || len(parts) < 5 || parts[len(parts)-2] != "referrers" {
		f.inner.ServeHTTP(w, r)
		return
	}
	rec := httptest.NewRecorder()
	f.inner.ServeHTTP(rec, r)
	var index ocispec.Index
	if rec.Code != http.StatusOK || json.Unmarshal(rec.Body.Bytes(), &index) != nil {
		copyResponse(w, rec)
		return
	}
	repoPath := strings.Join(parts[2:len(parts)-2], "/")
	want := r.URL.Query().Get("artifactType")
	kept := []ocispec.Descriptor{}
	for _, d := range index.Manifests {
		mrec := httptest.NewRecorder()
		f.inner.ServeHTTP(mrec, httptest.NewRequest(http.MethodGet, "/v2/"+repoPath+"/manifests/"+d.Digest.String(), nil))
		var m ocispec.Manifest
		if json.Unmarshal(mrec.Body.Bytes(), &m) == nil && m.ArtifactType != "" {
			d.ArtifactType = m.ArtifactType
		}
		if want == "" || d.ArtifactType == want {
			kept = append(kept, d)
		}
	}
	index.Manifests = kept
	body, _ := json.Marshal(index)
	w.Header().Set("Content-Type", ocispec.MediaTypeImageIndex)
	if want != "" {
		w.Header().Set("OCI-Filters-Applied", "artifactType")
	}
	_, _ = w.Write(body)
}

func copyResponse(w http.ResponseWriter, rec *httptest.ResponseRecorder) {
	for k, v := range rec.Header() {
		w.Header()[k] = v
	}
	w.WriteHeader(rec.Code)
	_, _ = w.Write(rec.Body.Bytes())
}

func repository(t T, host, repoPath string) *remote.Repository {
	t.Helper()
	r, err := remote.NewRepository(host + "/" + repoPath)
	if err != nil {
		t.Fatalf("repository %s: %v", repoPath, err)
	}
	r.PlainHTTP = true
	return r
}

func push(t T, r *remote.Repository, mediaType string, data []byte) ocispec.Descriptor {
	t.Helper()
	d := content.NewDescriptorFromBytes(mediaType, data)
	if ok, _ := r.Exists(context.Background(), d); !ok {
		if err := r.Push(context.Background(), d, bytes.NewReader(data)); err != nil {
			t.Fatalf("push %s: %v", mediaType, err)
		}
	}
	return d
}

func pushManifest(t T, r *remote.Repository, m ocispec.Manifest, tag string) ocispec.Descriptor {
	t.Helper()
	m.Versioned = specs.Versioned{SchemaVersion: 2}
	m.MediaType = ocispec.MediaTypeImageManifest
	data, err := json.Marshal(m)
	if err != nil {
		t.Fatalf("manifest: %v", err)
	}
	d := content.NewDescriptorFromBytes(ocispec.MediaTypeImageManifest, data)
	if tag == "" {
		err = r.Push(context.Background(), d, bytes.NewReader(data))
	} else {
		err = r.PushReference(context.Background(), d, bytes.NewReader(data), tag)
	}
	if err != nil {
		t.Fatalf("push manifest: %v", err)
	}
	return d
}

// PushChart pushes archive as a Helm chart artifact tagged version in host/repoPath and
// returns the chart manifest's descriptor, which is what signatures sign.
func PushChart(t T, host, repoPath, name, version string, archive []byte) ocispec.Descriptor {
	t.Helper()
	r := repository(t, host, repoPath)
	cfg := push(t, r, HelmConfigMediaType, fmt.Appendf(nil, `{"name":%q,"version":%q,"apiVersion":"v2"}`, name, version))
	layer := push(t, r, HelmChartMediaType, archive)
	return pushManifest(t, r, ocispec.Manifest{Config: cfg, Layers: []ocispec.Descriptor{layer}}, strings.ReplaceAll(version, "+", "_"))
}

// Subject is a chart manifest pushed to a registry: what signatures sign.
type Subject struct {
	Host       string // host:port of the registry
	Repository string // the chart's repository path, such as charts/app
	Manifest   ocispec.Descriptor
}

// Chart returns a minimal chart archive (Chart.yaml and one ConfigMap template) as `helm
// package` lays it out.
func Chart(t T, name, version string) []byte {
	t.Helper()
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	files := []struct{ name, data string }{
		{name + "/Chart.yaml", fmt.Sprintf("apiVersion: v2\nname: %s\nversion: %s\n", name, version)},
		{name + "/templates/cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}\ndata:\n  chart: {{ .Chart.Name }}\n"},
	}
	for _, f := range files {
		hdr := &tar.Header{Name: f.name, Mode: 0o644, Size: int64(len(f.data)), Typeflag: tar.TypeReg, ModTime: time.Unix(0, 0)}
		if err := tw.WriteHeader(hdr); err != nil {
			t.Fatalf("chart: %v", err)
		}
		if _, err := tw.Write([]byte(f.data)); err != nil {
			t.Fatalf("chart: %v", err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatalf("chart: %v", err)
	}
	if err := gz.Close(); err != nil {
		t.Fatalf("chart: %v", err)
	}
	return buf.Bytes()
}

// Key is an ECDSA P-256 signing key, what `cosign generate-key-pair` makes.
type Key struct{ *ecdsa.PrivateKey }

// NewKey generates a signing key.
func NewKey(t T) Key {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatalf("key: %v", err)
	}
	return Key{k}
}

// PublicDER returns the public key in PKIX DER.
func (k Key) PublicDER() []byte {
	der, err := x509.MarshalPKIXPublicKey(&k.PublicKey)
	if err != nil {
		panic(err)
	}
	return der
}

// PublicPEM returns the public key as cosign.pub holds it.
func (k Key) PublicPEM() []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: k.PublicDER()})
}

func (k Key) sign(data []byte) []byte {
	sum := sha256.Sum256(data)
	sig, err := ecdsa.SignASN1(rand.Reader, k.PrivateKey, sum[:])
	if err != nil {
		panic(err)
	}
	return sig
}

// CA is a certificate authority: a self-signed root.
type CA struct {
	Cert *x509.Certificate
	key  Key
}

// NewCA makes a root certificate authority valid from 30 days ago for ten years.
func NewCA(t T, name string) *CA {
	t.Helper()
	k := NewKey(t)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name, Organization: []string{"Capstan tests"}},
		NotBefore: time.Now().AddDate(0, 0, -30), NotAfter: time.Now().AddDate(10, 0, 0),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k.PrivateKey)
	if err != nil {
		t.Fatalf("CA: %v", err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatalf("CA: %v", err)
	}
	return &CA{Cert: c, key: k}
}

// PEM returns the root certificate in PEM.
func (ca *CA) PEM() []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ca.Cert.Raw})
}

// LeafOptions describe a code-signing certificate.
type LeafOptions struct {
	// Subject is the identity: a URI (such as a workflow URL) or an email address for keyless
	// certificates; the common name for notation.
	Subject string
	// Issuer is the OIDC issuer written in Fulcio's issuer extension (keyless only).
	Issuer string
	// NotBefore and NotAfter default to an hour ago and a day from now.
	NotBefore, NotAfter time.Time
	// OCSP, when set, is written as the certificate's OCSP server.
	OCSP string
}

// Leaf issues a code-signing certificate and returns it with its key.
func (ca *CA) Leaf(t T, o LeafOptions) (*x509.Certificate, Key) {
	t.Helper()
	k := NewKey(t)
	if o.NotBefore.IsZero() {
		o.NotBefore = time.Now().Add(-time.Hour)
	}
	if o.NotAfter.IsZero() {
		o.NotAfter = time.Now().Add(24 * time.Hour)
	}
	serial, _ := rand.Int(rand.Reader, big.NewInt(1<<62))
	tmpl := &x509.Certificate{
		SerialNumber: serial, NotBefore: o.NotBefore, NotAfter: o.NotAfter,
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageCodeSigning},
		BasicConstraintsValid: true,
	}
	if o.OCSP != "" {
		tmpl.OCSPServer = []string{o.OCSP}
	}
	switch {
	case o.Issuer == "":
		// notation requires C, ST and O in a subject it matches trusted identities against.
		tmpl.Subject = pkix.Name{CommonName: o.Subject, Organization: []string{"Capstan tests"}, Province: []string{"WA"}, Country: []string{"US"}}
	case strings.Contains(o.Subject, "://"):
		u, err := url.Parse(o.Subject)
		if err != nil {
			t.Fatalf("subject: %v", err)
		}
		tmpl.URIs = []*url.URL{u}
	default:
		tmpl.EmailAddresses = []string{o.Subject}
	}
	if o.Issuer != "" {
		tmpl.ExtraExtensions = []pkix.Extension{{Id: OIDIssuer, Value: []byte(o.Issuer)}}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Cert, &k.PublicKey, ca.key.PrivateKey)
	if err != nil {
		t.Fatalf("leaf: %v", err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatalf("leaf: %v", err)
	}
	return c, k
}

// Log is a transparency log (Rekor v1): its key signs entry timestamps.
type Log struct{ key Key }

// NewLog makes a transparency log key.
func NewLog(t T) *Log { return &Log{key: NewKey(t)} }

func (l *Log) id() []byte {
	der, err := x509.MarshalPKIXPublicKey(&l.key.PublicKey)
	if err != nil {
		panic(err)
	}
	sum := sha256.Sum256(der)
	return sum[:]
}

// TrustedRoot returns a Sigstore trusted_root.json trusting ca for keyless certificates and,
// when log is not nil, log for transparency log entries.
func TrustedRoot(t T, ca *CA, tlog *Log) []byte {
	t.Helper()
	var cas []root.CertificateAuthority
	if ca != nil {
		cas = append(cas, &root.FulcioCertificateAuthority{Root: ca.Cert, ValidityPeriodStart: ca.Cert.NotBefore, URI: "https://fulcio.invalid"})
	}
	logs := map[string]*root.TransparencyLog{}
	if tlog != nil {
		logs[hex.EncodeToString(tlog.id())] = &root.TransparencyLog{BaseURL: "https://rekor.invalid", ID: tlog.id(),
			ValidityPeriodStart: time.Now().Add(-24 * time.Hour), HashFunc: crypto.SHA256, PublicKey: &tlog.key.PublicKey,
			SignatureHashFunc: crypto.SHA256}
	}
	tr, err := root.NewTrustedRoot(root.TrustedRootMediaType01, cas, nil, nil, logs)
	if err != nil {
		t.Fatalf("trusted root: %v", err)
	}
	data, err := tr.MarshalJSON()
	if err != nil {
		t.Fatalf("trusted root: %v", err)
	}
	return data
}

// Signer signs with a key (keyed) or with a certificate's key (keyless).
type Signer struct {
	Key  Key
	Cert *x509.Certificate
}

// TagOptions tune SignTag.
type TagOptions struct {
	// Digest is the manifest digest written into the payload; the subject's by default.
	Digest string
	// Log, when set, adds a transparency log entry (cosign's bundle annotation) for the
	// signature, integrated at LogTime (now when zero).
	Log     *Log
	LogTime time.Time
	// Signature replaces the signature annotation (base64) when set.
	Signature string
}

// SignTag signs subject as cosign does by default: a simple-signing payload naming the manifest
// digest, pushed as the layer of a manifest tagged "sha256-<hex>.sig" in host/repoPath, with
// the signature (and the certificate) in the layer's annotations.
func (sub Subject) SignTag(t T, s Signer, o TagOptions) {
	t.Helper()
	host, repoPath, subject := sub.Host, sub.Repository, sub.Manifest
	digest := o.Digest
	if digest == "" {
		digest = subject.Digest.String()
	}
	payload := fmt.Appendf(nil, `{"critical":{"identity":{"docker-reference":"%s/%s"},"image":{"docker-manifest-digest":"%s"},"type":"cosign container image signature"},"optional":null}`,
		host, repoPath, digest)
	sig := s.Key.sign(payload)
	ann := map[string]string{"dev.cosignproject.cosign/signature": base64.StdEncoding.EncodeToString(sig)}
	if o.Signature != "" {
		ann["dev.cosignproject.cosign/signature"] = o.Signature
	}
	var verifier []byte
	if s.Cert != nil {
		verifier = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: s.Cert.Raw})
		ann["dev.sigstore.cosign/certificate"] = string(verifier)
	} else {
		verifier = s.Key.PublicPEM()
	}
	if o.Log != nil {
		ann["dev.sigstore.cosign/bundle"] = string(o.Log.entry(t, payload, sig, verifier, o.LogTime))
	}
	r := repository(t, host, repoPath)
	cfg := push(t, r, "application/vnd.oci.image.config.v1+json", []byte(`{"architecture":"","os":"","config":{},"rootfs":{"type":"layers","diff_ids":[]}}`))
	layer := push(t, r, cosignPayloadType, payload)
	layer.Annotations = ann
	pushManifest(t, r, ocispec.Manifest{Config: cfg, Layers: []ocispec.Descriptor{layer}}, strings.Replace(subject.Digest.String(), ":", "-", 1)+".sig")
}

// entry makes cosign's bundle annotation: a hashedrekord entry for the signature over
// payload, integrated at when (now when zero), with the log's signed entry timestamp.
func (l *Log) entry(t T, payload, sig, verifierPEM []byte, when time.Time) []byte {
	t.Helper()
	sum := sha256.Sum256(payload)
	body, err := json.Marshal(map[string]any{
		"apiVersion": "0.0.1", "kind": "hashedrekord",
		"spec": map[string]any{
			"data":      map[string]any{"hash": map[string]string{"algorithm": "sha256", "value": hex.EncodeToString(sum[:])}},
			"signature": map[string]any{"content": base64.StdEncoding.EncodeToString(sig), "publicKey": map[string]string{"content": base64.StdEncoding.EncodeToString(verifierPEM)}},
		},
	})
	if err != nil {
		t.Fatalf("entry: %v", err)
	}
	if body, err = jsoncanonicalizer.Transform(body); err != nil {
		t.Fatalf("entry: %v", err)
	}
	if when.IsZero() {
		when = time.Now()
	}
	integrated := when.Unix()
	payloadJSON, err := json.Marshal(map[string]any{"body": base64.StdEncoding.EncodeToString(body), "integratedTime": integrated,
		"logIndex": 7, "logID": hex.EncodeToString(l.id())})
	if err != nil {
		t.Fatalf("entry: %v", err)
	}
	canonical, err := jsoncanonicalizer.Transform(payloadJSON)
	if err != nil {
		t.Fatalf("entry: %v", err)
	}
	set := l.key.sign(canonical)
	out, err := json.Marshal(map[string]any{"SignedEntryTimestamp": set, "Payload": map[string]any{
		"body": body, "integratedTime": integrated, "logIndex": 7, "logID": hex.EncodeToString(l.id())}})
	if err != nil {
		t.Fatalf("entry: %v", err)
	}
	return out
}

// BundleOptions tune SignBundle.
type BundleOptions struct {
	// Digest is the subject digest (sha256 hex) the statement names; the manifest's by default.
	Digest string
	// Layer replaces the bundle bytes when set.
	Layer []byte
	// Missing leaves the bundle layer out of the registry (the manifest still names it).
	Missing bool
}

// SignBundle signs subject as cosign's new bundle format does: an in-toto statement naming the
// manifest digest, in a DSSE envelope, in a Sigstore bundle v0.3 pushed as a referrer of
// subject with artifact type application/vnd.dev.sigstore.bundle.v0.3+json.
func (sub Subject) SignBundle(t T, s Signer, o BundleOptions) {
	t.Helper()
	host, repoPath, subject := sub.Host, sub.Repository, sub.Manifest
	digest := o.Digest
	if digest == "" {
		digest = subject.Digest.Encoded()
	}
	layerBytes := o.Layer
	if layerBytes == nil {
		stmt := fmt.Appendf(nil, `{"_type":"https://in-toto.io/Statement/v1","subject":[{"name":"%s/%s","digest":{"sha256":"%s"}}],"predicateType":"https://sigstore.dev/cosign/sign/v1","predicate":{}}`,
			host, repoPath, digest)
		const payloadType = "application/vnd.in-toto+json"
		pae := fmt.Appendf(nil, "DSSEv1 %d %s %d %s", len(payloadType), payloadType, len(stmt), stmt)
		b := &protobundle.Bundle{
			MediaType: BundleArtifactType,
			Content: &protobundle.Bundle_DsseEnvelope{DsseEnvelope: &protodsse.Envelope{
				Payload: stmt, PayloadType: payloadType, Signatures: []*protodsse.Signature{{Sig: s.Key.sign(pae)}}}},
			VerificationMaterial: &protobundle.VerificationMaterial{},
		}
		if s.Cert != nil {
			b.VerificationMaterial.Content = &protobundle.VerificationMaterial_Certificate{Certificate: &protocommon.X509Certificate{RawBytes: s.Cert.Raw}}
		} else {
			b.VerificationMaterial.Content = &protobundle.VerificationMaterial_PublicKey{PublicKey: &protocommon.PublicKeyIdentifier{Hint: "cosign.pub"}}
		}
		var err error
		if layerBytes, err = protojson.Marshal(b); err != nil {
			t.Fatalf("bundle: %v", err)
		}
	}
	r := repository(t, host, repoPath)
	cfg := push(t, r, ocispec.MediaTypeEmptyJSON, []byte("{}"))
	layer := content.NewDescriptorFromBytes(BundleArtifactType, layerBytes)
	if !o.Missing {
		layer = push(t, r, BundleArtifactType, layerBytes)
	}
	pushManifest(t, r, ocispec.Manifest{ArtifactType: BundleArtifactType, Config: cfg, Layers: []ocispec.Descriptor{layer}, Subject: &subject}, "")
}

// SignNotation signs subject with notation-go (a JWS envelope) with the leaf certificate's key
// and chain, and pushes the signature as a referrer as `notation sign` does.
func (sub Subject) SignNotation(t T, key Key, chain ...*x509.Certificate) {
	t.Helper()
	host, repoPath, subject := sub.Host, sub.Repository, sub.Manifest
	s, err := signer.NewGenericSigner(key.PrivateKey, chain)
	if err != nil {
		t.Fatalf("notation signer: %v", err)
	}
	repo := notationregistry.NewRepository(repository(t, host, repoPath))
	_, err = notation.Sign(context.Background(), s, repo, notation.SignOptions{
		SignerSignOptions: notation.SignerSignOptions{SignatureMediaType: "application/jose+json"},
		ArtifactReference: host + "/" + repoPath + "@" + subject.Digest.String(),
	})
	if err != nil {
		t.Fatalf("notation sign: %v", err)
	}
}

// TrustPolicy returns a notation trust policy trusting the CA store "charts" and any identity
// for every registry scope at the given level ("strict", "permissive", "audit", "skip"), with
// an optional revocation override ("enforce", "log", "skip").
func TrustPolicy(level, revocation string) []byte {
	sv := map[string]any{"level": level}
	if revocation != "" {
		sv["override"] = map[string]string{"revocation": revocation}
	}
	policy := map[string]any{"name": "charts", "registryScopes": []string{"*"}, "signatureVerification": sv}
	if level != "skip" {
		policy["trustStores"], policy["trustedIdentities"] = []string{"ca:charts"}, []string{"*"}
	}
	data, err := json.Marshal(map[string]any{"version": "1.0", "trustPolicies": []any{policy}})
	if err != nil {
		panic(err)
	}
	return data
}

// CopyReferrers pushes a copy of every referrer of from with its subject replaced by to, as a
// registry that serves one manifest's signatures for another would.
func CopyReferrers(t T, host, repoPath string, from, to ocispec.Descriptor) {
	t.Helper()
	r := repository(t, host, repoPath)
	ctx := context.Background()
	err := r.Referrers(ctx, from, "", func(refs []ocispec.Descriptor) error {
		for _, d := range refs {
			rc, err := r.Manifests().Fetch(ctx, d)
			if err != nil {
				return err
			}
			data, err := content.ReadAll(rc, d)
			_ = rc.Close()
			if err != nil {
				return err
			}
			var m ocispec.Manifest
			if err := json.Unmarshal(data, &m); err != nil {
				return err
			}
			m.Subject = &to
			pushManifest(t, r, m, "")
		}
		return nil
	})
	if err != nil {
		t.Fatalf("copy referrers: %v", err)
	}
}

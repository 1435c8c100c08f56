package ocisign_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	. "github.com/onsi/gomega"

	"github.com/capstan-dev/capstan/internal/ocisign"
	"github.com/capstan-dev/capstan/internal/ocisign/ocisigntest"
	"github.com/capstan-dev/capstan/internal/repo"
)

// verifier is what cosign and notation verifiers share.
type verifier interface {
	Query() repo.SignatureQuery
	Verify(ctx context.Context, subject repo.SignatureSubject, sigs []repo.SignatureArtifact) (*ocisign.Result, error)
}

// fixture is a registry holding one chart, app 1.0.0, under oci://host/charts.
type fixture struct {
	host    string
	archive []byte
	subject ocisigntest.Subject
	cache   *repo.ArchiveCache
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	host := ocisigntest.NewRegistry(t)
	archive := ocisigntest.Chart(t, "app", "1.0.0")
	return &fixture{host: host, archive: archive, cache: repo.NewArchiveCache(0), subject: ocisigntest.Subject{Host: host, Repository: "charts/app",
		Manifest: ocisigntest.PushChart(t, host, "charts/app", "app", "1.0.0", archive)}}
}

// fetch resolves app 1.0.0 and fetches it through FetchSigned with v's check.
func (f *fixture) fetch(t *testing.T, v verifier) ([]byte, *ocisign.Result, error) {
	t.Helper()
	r, err := repo.NewOCIRepository("oci://"+f.host+"/charts", repo.Options{PlainHTTP: true, ArchiveCache: f.cache,
		Retry: repo.RetryPolicy{InitialBackoff: 10 * time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	cv, err := r.Resolve(ctx, "app", "1.0.0")
	if err != nil {
		t.Fatal(err)
	}
	var res *ocisign.Result
	data, err := r.FetchSigned(ctx, cv, v.Query(), func(ctx context.Context, s repo.SignatureSubject, sigs []repo.SignatureArtifact) error {
		var err error
		res, err = v.Verify(ctx, s, sigs)
		return err
	})
	return data, res, err
}

func fingerprint(k ocisigntest.Key) string {
	der := k.PublicDER()
	sum := sha256.Sum256(der)
	return strings.ToUpper(hex.EncodeToString(sum[:]))
}

func TestCosign_keyed(t *testing.T) {
	key := ocisigntest.NewKey(t)
	other := ocisigntest.NewKey(t)
	trust := map[string][]byte{"cosign.pub": key.PublicPEM()}
	untrusted := map[string][]byte{"cosign.pub": other.PublicPEM()}
	keyedLog := ocisigntest.NewLog(t)

	cases := map[string]struct {
		sign   func(t *testing.T, f *fixture)
		trust  map[string][]byte
		policy ocisign.CosignPolicy
		errs   []string // substrings of the refusal; none means accepted
	}{
		"a tag signature by the trusted key is accepted": {
			sign: func(t *testing.T, f *fixture) {
				f.subject.SignTag(t, ocisigntest.Signer{Key: key}, ocisigntest.TagOptions{})
			},
			trust: trust,
		},
		"a bundle referrer by the trusted key is accepted": {
			sign: func(t *testing.T, f *fixture) {
				f.subject.SignBundle(t, ocisigntest.Signer{Key: key}, ocisigntest.BundleOptions{})
			},
			trust: trust,
		},
		"a tag signature with a log entry verified against the trusted root is accepted": {
			sign: func(t *testing.T, f *fixture) {
				f.subject.SignTag(t, ocisigntest.Signer{Key: key}, ocisigntest.TagOptions{Log: keyedLog})
			},
			trust:  map[string][]byte{"cosign.pub": key.PublicPEM(), ocisign.TrustedRootKey: ocisigntest.TrustedRoot(t, nil, keyedLog)},
			policy: ocisign.CosignPolicy{RequireTlog: true},
		},
		"a required log entry that is missing from a keyed signature is refused": {
			sign: func(t *testing.T, f *fixture) {
				f.subject.SignTag(t, ocisigntest.Signer{Key: key}, ocisigntest.TagOptions{})
			},
			trust:  map[string][]byte{"cosign.pub": key.PublicPEM(), ocisign.TrustedRootKey: ocisigntest.TrustedRoot(t, nil, keyedLog)},
			policy: ocisign.CosignPolicy{RequireTlog: true},
			errs:   []string{"failed to verify log inclusion"},
		},
		"a signature whose layer is missing from the registry is refused": {
			sign: func(t *testing.T, f *fixture) {
				f.subject.SignBundle(t, ocisigntest.Signer{Key: key}, ocisigntest.BundleOptions{Missing: true})
			},
			trust: trust,
			errs:  []string{"is missing from the registry"},
		},
		"a tag signature by an untrusted key is refused": {
			sign: func(t *testing.T, f *fixture) {
				f.subject.SignTag(t, ocisigntest.Signer{Key: other}, ocisigntest.TagOptions{})
			},
			trust: trust,
			errs:  []string{"tag sha256-", ".sig: layer 0: it does not verify with any trusted public key", "cosign.pub: failed to verify signature"},
		},
		"a bundle by an untrusted key is refused": {
			sign: func(t *testing.T, f *fixture) {
				f.subject.SignBundle(t, ocisigntest.Signer{Key: key}, ocisigntest.BundleOptions{})
			},
			trust: untrusted,
			errs:  []string{"referrer sha256:", "it does not verify with any trusted public key"},
		},
		"a tag signature whose payload names another digest is refused": {
			sign: func(t *testing.T, f *fixture) {
				f.subject.SignTag(t, ocisigntest.Signer{Key: key}, ocisigntest.TagOptions{Digest: "sha256:" + strings.Repeat("ab", 32)})
			},
			trust: trust,
			errs:  []string{"the signature is for sha256:abab", "not for this chart's manifest sha256:"},
		},
		"a bundle whose statement names another digest is refused": {
			sign: func(t *testing.T, f *fixture) {
				f.subject.SignBundle(t, ocisigntest.Signer{Key: key}, ocisigntest.BundleOptions{Digest: strings.Repeat("cd", 32)})
			},
			trust: trust,
			errs:  []string{"referrer sha256:", "does not match any digest in statement"},
		},
		"a malformed signature annotation is refused": {
			sign: func(t *testing.T, f *fixture) {
				f.subject.SignTag(t, ocisigntest.Signer{Key: key}, ocisigntest.TagOptions{Signature: "%%% not base64"})
			},
			trust: trust,
			errs:  []string{"does not hold a base64 signature"},
		},
		"a malformed bundle is refused": {
			sign: func(t *testing.T, f *fixture) {
				f.subject.SignBundle(t, ocisigntest.Signer{Key: key}, ocisigntest.BundleOptions{Layer: []byte(`{"mediaType": 42`)})
			},
			trust: trust,
			errs:  []string{"the bundle does not parse"},
		},
		"an oversized bundle is refused without being read": {
			sign: func(t *testing.T, f *fixture) {
				f.subject.SignBundle(t, ocisigntest.Signer{Key: key}, ocisigntest.BundleOptions{Layer: make([]byte, repo.MaxSignatureSize+1)})
			},
			trust: trust,
			errs:  []string{"larger than the limit of 262144 bytes"},
		},
		"no signature at all is refused": {
			sign:  func(*testing.T, *fixture) {},
			trust: trust,
			errs:  []string{"no cosign signature found for", "neither the tag sha256-", "nor a referrer of type application/vnd.dev.sigstore.bundle.v0.3+json"},
		},
		"a signature made with a certificate is refused by keyed verification": {
			sign: func(t *testing.T, f *fixture) {
				ca := ocisigntest.NewCA(t, "Fulcio")
				cert, k := ca.Leaf(t, ocisigntest.LeafOptions{Subject: "dev@example.com", Issuer: "https://issuer.example.com"})
				f.subject.SignTag(t, ocisigntest.Signer{Key: k, Cert: cert}, ocisigntest.TagOptions{})
			},
			trust: trust,
			errs:  []string{"keyed verification (no matchOIDCIdentity) needs a key signature"},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			f := newFixture(t)
			tc.sign(t, f)
			v, err := ocisign.NewCosign(tc.trust, tc.policy)
			g.Expect(err).NotTo(HaveOccurred())
			data, res, err := f.fetch(t, v)
			if len(tc.errs) == 0 {
				g.Expect(err).NotTo(HaveOccurred())
				g.Expect(data).To(Equal(f.archive))
				g.Expect(f.cache.Stats().Entries).To(Equal(1))
				g.Expect(res.Digest).To(Equal(f.subject.Manifest.Digest.String()))
				g.Expect(res.Signer).To(Equal("cosign.pub"))
				g.Expect(res.Fingerprint).To(Equal(fingerprint(key)))
				return
			}
			g.Expect(err).To(MatchError(repo.ErrUnverified))
			g.Expect(data).To(BeNil())
			g.Expect(f.cache.Stats().Entries).To(BeZero(), "a refused chart's layer is never pulled, so never cached")
			for _, s := range tc.errs {
				g.Expect(err.Error()).To(ContainSubstring(s))
			}
		})
	}
}

func TestCosign_keyless(t *testing.T) {
	const issuer = "https://token.actions.githubusercontent.com"
	const subject = "https://github.com/example/charts/.github/workflows/release.yaml@refs/heads/main"
	ca := ocisigntest.NewCA(t, "Fulcio")
	tlog := ocisigntest.NewLog(t)
	identity := []ocisign.Identity{{Issuer: `https://token\.actions\.githubusercontent\.com`, Subject: `https://github\.com/example/charts/.*`}}
	trust := map[string][]byte{ocisign.TrustedRootKey: ocisigntest.TrustedRoot(t, ca, tlog)}
	good := func(t *testing.T) ocisigntest.Signer {
		cert, k := ca.Leaf(t, ocisigntest.LeafOptions{Subject: subject, Issuer: issuer})
		return ocisigntest.Signer{Key: k, Cert: cert}
	}

	cases := map[string]struct {
		sign   func(t *testing.T, f *fixture)
		trust  map[string][]byte
		policy ocisign.CosignPolicy
		errs   []string
	}{
		"a tag signature with a log entry and a matching identity is accepted": {
			sign:   func(t *testing.T, f *fixture) { f.subject.SignTag(t, good(t), ocisigntest.TagOptions{Log: tlog}) },
			policy: ocisign.CosignPolicy{Identities: identity, RequireTlog: true},
		},
		"a certificate expired since is accepted when it was valid at the log entry's time": {
			sign: func(t *testing.T, f *fixture) {
				cert, k := ca.Leaf(t, ocisigntest.LeafOptions{Subject: subject, Issuer: issuer,
					NotBefore: time.Now().Add(-3 * time.Hour), NotAfter: time.Now().Add(-time.Hour)})
				f.subject.SignTag(t, ocisigntest.Signer{Key: k, Cert: cert}, ocisigntest.TagOptions{Log: tlog, LogTime: time.Now().Add(-2 * time.Hour)})
			},
			policy: ocisign.CosignPolicy{Identities: identity, RequireTlog: true},
		},
		"a log entry integrated after the certificate expired is refused": {
			sign: func(t *testing.T, f *fixture) {
				cert, k := ca.Leaf(t, ocisigntest.LeafOptions{Subject: subject, Issuer: issuer,
					NotBefore: time.Now().Add(-3 * time.Hour), NotAfter: time.Now().Add(-time.Hour)})
				f.subject.SignTag(t, ocisigntest.Signer{Key: k, Cert: cert}, ocisigntest.TagOptions{Log: tlog})
			},
			policy: ocisign.CosignPolicy{Identities: identity, RequireTlog: true},
			errs:   []string{"integrated time outside certificate validity"},
		},
		"without a required log, a bundle with a currently valid certificate is accepted": {
			sign:   func(t *testing.T, f *fixture) { f.subject.SignBundle(t, good(t), ocisigntest.BundleOptions{}) },
			policy: ocisign.CosignPolicy{Identities: identity},
		},
		"a required log entry that is missing is refused": {
			sign:   func(t *testing.T, f *fixture) { f.subject.SignTag(t, good(t), ocisigntest.TagOptions{}) },
			policy: ocisign.CosignPolicy{Identities: identity, RequireTlog: true},
			errs:   []string{"failed to verify log inclusion"},
		},
		"a log entry signed by an unknown log is refused": {
			sign: func(t *testing.T, f *fixture) {
				f.subject.SignTag(t, good(t), ocisigntest.TagOptions{Log: ocisigntest.NewLog(t)})
			},
			policy: ocisign.CosignPolicy{Identities: identity, RequireTlog: true},
			errs:   []string{"failed to verify log inclusion"},
		},
		"the wrong subject is refused, naming it": {
			sign: func(t *testing.T, f *fixture) {
				cert, k := ca.Leaf(t, ocisigntest.LeafOptions{Subject: "https://github.com/mallory/charts/.github/workflows/release.yaml@refs/heads/main", Issuer: issuer})
				f.subject.SignBundle(t, ocisigntest.Signer{Key: k, Cert: cert}, ocisigntest.BundleOptions{})
			},
			policy: ocisign.CosignPolicy{Identities: identity},
			errs:   []string{"certificate for https://github.com/mallory/charts/", "failed to verify certificate identity"},
		},
		"the wrong issuer is refused": {
			sign: func(t *testing.T, f *fixture) {
				cert, k := ca.Leaf(t, ocisigntest.LeafOptions{Subject: subject, Issuer: "https://accounts.google.com"})
				f.subject.SignBundle(t, ocisigntest.Signer{Key: k, Cert: cert}, ocisigntest.BundleOptions{})
			},
			policy: ocisign.CosignPolicy{Identities: identity},
			errs:   []string{"failed to verify certificate identity"},
		},
		"identity expressions match the whole value, not a part of it": {
			sign: func(t *testing.T, f *fixture) {
				cert, k := ca.Leaf(t, ocisigntest.LeafOptions{Subject: "https://evil.example/https://github.com/example/charts/x", Issuer: issuer})
				f.subject.SignBundle(t, ocisigntest.Signer{Key: k, Cert: cert}, ocisigntest.BundleOptions{})
			},
			policy: ocisign.CosignPolicy{Identities: identity},
			errs:   []string{"failed to verify certificate identity"},
		},
		"an expired certificate is refused": {
			sign: func(t *testing.T, f *fixture) {
				cert, k := ca.Leaf(t, ocisigntest.LeafOptions{Subject: subject, Issuer: issuer,
					NotBefore: time.Now().Add(-48 * time.Hour), NotAfter: time.Now().Add(-24 * time.Hour)})
				f.subject.SignBundle(t, ocisigntest.Signer{Key: k, Cert: cert}, ocisigntest.BundleOptions{})
			},
			policy: ocisign.CosignPolicy{Identities: identity},
			errs:   []string{"certificate for https://github.com/example/charts/", "is valid from", "not now"},
		},
		"a certificate from another CA is refused": {
			sign: func(t *testing.T, f *fixture) {
				cert, k := ocisigntest.NewCA(t, "Rogue").Leaf(t, ocisigntest.LeafOptions{Subject: subject, Issuer: issuer})
				f.subject.SignBundle(t, ocisigntest.Signer{Key: k, Cert: cert}, ocisigntest.BundleOptions{})
			},
			policy: ocisign.CosignPolicy{Identities: identity},
			errs:   []string{"it is not issued by a certificate authority of the trusted root"},
		},
		"a key signature is refused by keyless verification": {
			sign: func(t *testing.T, f *fixture) {
				f.subject.SignTag(t, ocisigntest.Signer{Key: ocisigntest.NewKey(t)}, ocisigntest.TagOptions{})
			},
			policy: ocisign.CosignPolicy{Identities: identity},
			errs:   []string{"keyless verification needs a certificate"},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			f := newFixture(t)
			tc.sign(t, f)
			tr := trust
			if tc.trust != nil {
				tr = tc.trust
			}
			v, err := ocisign.NewCosign(tr, tc.policy)
			g.Expect(err).NotTo(HaveOccurred())
			data, res, err := f.fetch(t, v)
			if len(tc.errs) == 0 {
				g.Expect(err).NotTo(HaveOccurred())
				g.Expect(data).To(Equal(f.archive))
				g.Expect(f.cache.Stats().Entries).To(Equal(1))
				g.Expect(res.Signer).To(Equal(subject))
				g.Expect(res.Issuer).To(Equal(issuer))
				g.Expect(res.Fingerprint).To(HaveLen(64))
				return
			}
			g.Expect(err).To(MatchError(repo.ErrUnverified))
			g.Expect(data).To(BeNil())
			g.Expect(f.cache.Stats().Entries).To(BeZero(), "a refused chart's layer is never pulled, so never cached")
			for _, s := range tc.errs {
				g.Expect(err.Error()).To(ContainSubstring(s))
			}
		})
	}
}

func TestNewCosign_trustMaterial(t *testing.T) {
	key := ocisigntest.NewKey(t)
	root := ocisigntest.TrustedRoot(t, ocisigntest.NewCA(t, "Fulcio"), nil)
	id := []ocisign.Identity{{Issuer: "https://issuer", Subject: ".*"}}
	cases := map[string]struct {
		data   map[string][]byte
		policy ocisign.CosignPolicy
		err    string
	}{
		"no key for keyed verification": {data: map[string][]byte{"other": []byte("x")},
			err: "keyed verification needs a public key under a key ending in .pub"},
		"a .pub that is no key": {data: map[string][]byte{"cosign.pub": []byte("not a key")},
			err: "cosign.pub does not hold a PEM public key"},
		"keyless without a trusted root": {data: map[string][]byte{"cosign.pub": key.PublicPEM()}, policy: ocisign.CosignPolicy{Identities: id},
			err: "keyless verification needs a trusted root under the key trusted_root.json"},
		"a trusted root that does not parse": {data: map[string][]byte{ocisign.TrustedRootKey: []byte("{")}, policy: ocisign.CosignPolicy{Identities: id},
			err: "trusted_root.json is not a Sigstore trusted root"},
		"a required log without a trusted root": {data: map[string][]byte{"cosign.pub": key.PublicPEM()}, policy: ocisign.CosignPolicy{RequireTlog: true},
			err: "transparency log entries are required but there is no trusted root"},
		"a required log with a trusted root listing none": {data: map[string][]byte{ocisign.TrustedRootKey: root}, policy: ocisign.CosignPolicy{Identities: id, RequireTlog: true},
			err: "the trusted root lists no transparency log"},
		"an identity that is not a regular expression": {data: map[string][]byte{ocisign.TrustedRootKey: root},
			policy: ocisign.CosignPolicy{Identities: []ocisign.Identity{{Issuer: "https://issuer", Subject: "(unclosed"}}},
			err:    "matchOIDCIdentity[0].subject is not a regular expression"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			_, err := ocisign.NewCosign(tc.data, tc.policy)
			g.Expect(err).To(MatchError(ocisign.ErrTrustMaterial))
			g.Expect(err.Error()).To(ContainSubstring(tc.err))
		})
	}
}

// TestFetchSigned_registryFailures: a registry failing while signatures are read is a transient
// error, retried like any fetch, never read as a missing or bad signature; a missing signature
// layer is the artifact's problem and is reported as such.
func TestFetchSigned_registryFailures(t *testing.T) {
	key := ocisigntest.NewKey(t)
	v, err := ocisign.NewCosign(map[string][]byte{"cosign.pub": key.PublicPEM()}, ocisign.CosignPolicy{})
	if err != nil {
		t.Fatal(err)
	}
	for name, path := range map[string]string{"the referrers listing": "/referrers/", "the cosign tag": ".sig"} {
		t.Run(name+" answering 500", func(t *testing.T) {
			g := NewWithT(t)
			var failing atomic.Bool
			host := ocisigntest.NewRegistryWith(t, func(h http.Handler) http.Handler {
				return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					if failing.Load() && strings.Contains(r.URL.Path, path) {
						http.Error(w, "down", http.StatusInternalServerError)
						return
					}
					h.ServeHTTP(w, r)
				})
			})
			f := &fixture{host: host, archive: ocisigntest.Chart(t, "app", "1.0.0"), cache: repo.NewArchiveCache(0)}
			f.subject = ocisigntest.Subject{Host: host, Repository: "charts/app", Manifest: ocisigntest.PushChart(t, host, "charts/app", "app", "1.0.0", f.archive)}
			f.subject.SignBundle(t, ocisigntest.Signer{Key: key}, ocisigntest.BundleOptions{})
			failing.Store(true)
			_, _, err := f.fetch(t, v)
			g.Expect(err).To(HaveOccurred())
			g.Expect(err).NotTo(MatchError(repo.ErrUnverified))
		})
	}
}

// TestFetchSigned_boundsTheSignaturesRead: a registry listing many referrers has at most
// repo.MaxSignatureArtifacts of them read, each reported.
func TestFetchSigned_boundsTheSignaturesRead(t *testing.T) {
	g := NewWithT(t)
	key := ocisigntest.NewKey(t)
	f := newFixture(t)
	for i := range repo.MaxSignatureArtifacts + 4 {
		f.subject.SignBundle(t, ocisigntest.Signer{Key: key}, ocisigntest.BundleOptions{Layer: fmt.Appendf(nil, `{"junk": %d}`, i)})
	}
	v, err := ocisign.NewCosign(map[string][]byte{"cosign.pub": key.PublicPEM()}, ocisign.CosignPolicy{})
	g.Expect(err).NotTo(HaveOccurred())
	_, _, err = f.fetch(t, v)
	g.Expect(err).To(MatchError(repo.ErrUnverified))
	g.Expect(strings.Count(err.Error(), "referrer sha256:")).To(Equal(repo.MaxSignatureArtifacts))
}

package ocisign_test

import (
	"testing"
	"time"

	. "github.com/onsi/gomega"

	"github.com/capstan-dev/capstan/internal/ocisign"
	"github.com/capstan-dev/capstan/internal/ocisign/ocisigntest"
	"github.com/capstan-dev/capstan/internal/repo"
)

func TestNotation(t *testing.T) {
	ca := ocisigntest.NewCA(t, "Chart Signing CA")
	trust := map[string][]byte{ocisign.TrustPolicyKey: ocisigntest.TrustPolicy("strict", ""), "charts.crt": ca.PEM()}
	cases := map[string]struct {
		sign  func(t *testing.T, f *fixture)
		trust map[string][]byte
		errs  []string
	}{
		"a signature chaining to the trust store is accepted": {
			sign: func(t *testing.T, f *fixture) {
				cert, k := ca.Leaf(t, ocisigntest.LeafOptions{Subject: "Chart Publisher"})
				f.subject.SignNotation(t, k, cert, ca.Cert)
			},
		},
		"a signature by a certificate of another CA is refused": {
			sign: func(t *testing.T, f *fixture) {
				rogue := ocisigntest.NewCA(t, "Rogue CA")
				cert, k := rogue.Leaf(t, ocisigntest.LeafOptions{Subject: "Chart Publisher"})
				f.subject.SignNotation(t, k, cert, rogue.Cert)
			},
			errs: []string{"no notation signature of", "referrer sha256:", "the signature's certificate chain does not contain any trusted certificate"},
		},
		"a signature for another manifest is refused": {
			sign: func(t *testing.T, f *fixture) {
				other := ocisigntest.PushChart(t, f.host, "charts/app", "app", "2.0.0", ocisigntest.Chart(t, "app", "2.0.0"))
				cert, k := ca.Leaf(t, ocisigntest.LeafOptions{Subject: "Chart Publisher"})
				sub := f.subject
				sub.Manifest = other
				sub.SignNotation(t, k, cert, ca.Cert)
				// Attach the signature of the other manifest to this chart too, as a registry
				// serving a signature for another digest would.
				ocisigntest.CopyReferrers(t, f.host, "charts/app", other, f.subject.Manifest)
			},
			errs: []string{"content descriptor mismatch"},
		},
		"an expired certificate is refused": {
			sign: func(t *testing.T, f *fixture) {
				// notation refuses to sign with an expired certificate: sign just before it
				// expires, and verify after.
				cert, k := ca.Leaf(t, ocisigntest.LeafOptions{Subject: "Chart Publisher", NotAfter: time.Now().Add(1500 * time.Millisecond)})
				f.subject.SignNotation(t, k, cert, ca.Cert)
				time.Sleep(time.Until(cert.NotAfter) + 100*time.Millisecond)
			},
			errs: []string{"expired"},
		},
		"a certificate naming an OCSP server has an unknown revocation status offline, refused under strict": {
			sign: func(t *testing.T, f *fixture) {
				cert, k := ca.Leaf(t, ocisigntest.LeafOptions{Subject: "Chart Publisher", OCSP: "http://ocsp.invalid"})
				f.subject.SignNotation(t, k, cert, ca.Cert)
			},
			errs: []string{"revocation"},
		},
		"the same certificate is accepted when the trust policy only logs revocation": {
			sign: func(t *testing.T, f *fixture) {
				cert, k := ca.Leaf(t, ocisigntest.LeafOptions{Subject: "Chart Publisher", OCSP: "http://ocsp.invalid"})
				f.subject.SignNotation(t, k, cert, ca.Cert)
			},
			trust: map[string][]byte{ocisign.TrustPolicyKey: ocisigntest.TrustPolicy("strict", "log"), "charts.crt": ca.PEM()},
		},
		"a signer outside the policy's trusted identities is refused": {
			sign: func(t *testing.T, f *fixture) {
				cert, k := ca.Leaf(t, ocisigntest.LeafOptions{Subject: "Chart Publisher"})
				f.subject.SignNotation(t, k, cert, ca.Cert)
			},
			trust: map[string][]byte{"charts.crt": ca.PEM(), ocisign.TrustPolicyKey: []byte(`{"version": "1.0", "trustPolicies": [{"name": "charts",
				"registryScopes": ["*"], "signatureVerification": {"level": "strict"}, "trustStores": ["ca:charts"],
				"trustedIdentities": ["x509.subject: C=US, ST=WA, O=Example, CN=Someone Else"]}]}`)},
			errs: []string{"signing certificate from the digital signature does not match the X.509 trusted identities"},
		},
		"a signer among the policy's trusted identities is accepted": {
			sign: func(t *testing.T, f *fixture) {
				cert, k := ca.Leaf(t, ocisigntest.LeafOptions{Subject: "Chart Publisher"})
				f.subject.SignNotation(t, k, cert, ca.Cert)
			},
			trust: map[string][]byte{"charts.crt": ca.PEM(), ocisign.TrustPolicyKey: []byte(`{"version": "1.0", "trustPolicies": [{"name": "charts",
				"registryScopes": ["*"], "signatureVerification": {"level": "strict"}, "trustStores": ["ca:charts"],
				"trustedIdentities": ["x509.subject: C=US, ST=WA, O=Capstan tests, CN=Chart Publisher"]}]}`)},
		},
		"a chart outside the policy's registry scopes is refused": {
			sign: func(t *testing.T, f *fixture) {
				cert, k := ca.Leaf(t, ocisigntest.LeafOptions{Subject: "Chart Publisher"})
				f.subject.SignNotation(t, k, cert, ca.Cert)
			},
			trust: map[string][]byte{"charts.crt": ca.PEM(), ocisign.TrustPolicyKey: []byte(`{"version": "1.0", "trustPolicies": [{"name": "charts",
				"registryScopes": ["ghcr.io/example/charts/app"], "signatureVerification": {"level": "strict"}, "trustStores": ["ca:charts"],
				"trustedIdentities": ["*"]}]}`)},
			errs: []string{"no applicable trust policy"},
		},
		"no signature is refused": {
			sign: func(*testing.T, *fixture) {},
			errs: []string{"no notation signature found for", "no referrer of type application/vnd.cncf.notary.signature"},
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
			v, err := ocisign.NewNotation(tr)
			g.Expect(err).NotTo(HaveOccurred())
			data, res, err := f.fetch(t, v)
			if len(tc.errs) == 0 {
				g.Expect(err).NotTo(HaveOccurred())
				g.Expect(data).To(Equal(f.archive))
				g.Expect(res.Digest).To(Equal(f.subject.Manifest.Digest.String()))
				g.Expect(res.Signer).To(Equal("CN=Chart Publisher,O=Capstan tests,ST=WA,C=US"))
				g.Expect(res.Issuer).To(Equal("CN=Chart Signing CA,O=Capstan tests"))
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

func TestNewNotation_trustMaterial(t *testing.T) {
	ca := ocisigntest.NewCA(t, "CA")
	cases := map[string]struct {
		data map[string][]byte
		err  string
	}{
		"no trust policy":              {data: map[string][]byte{"ca.crt": ca.PEM()}, err: "notation needs a trust policy under the key trustpolicy.json"},
		"a policy that does not parse": {data: map[string][]byte{ocisign.TrustPolicyKey: []byte("{"), "ca.crt": ca.PEM()}, err: "trustpolicy.json does not parse"},
		"a policy at level skip": {data: map[string][]byte{ocisign.TrustPolicyKey: ocisigntest.TrustPolicy("skip", ""), "ca.crt": ca.PEM()},
			err: `trust policy "charts" has verification level skip`},
		"no certificate": {data: map[string][]byte{ocisign.TrustPolicyKey: ocisigntest.TrustPolicy("strict", "")},
			err: "notation needs the trust store's certificates under keys ending in .crt or .pem"},
		"a .crt without a certificate": {data: map[string][]byte{ocisign.TrustPolicyKey: ocisigntest.TrustPolicy("strict", ""), "ca.crt": []byte("junk")},
			err: "ca.crt holds no PEM certificate"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			_, err := ocisign.NewNotation(tc.data)
			g.Expect(err).To(MatchError(ocisign.ErrTrustMaterial))
			g.Expect(err.Error()).To(ContainSubstring(tc.err))
		})
	}
}

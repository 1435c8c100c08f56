package ocisign_test

import (
	"context"
	"testing"

	"github.com/capstan-dev/capstan/internal/ocisign"
	"github.com/capstan-dev/capstan/internal/ocisign/ocisigntest"
	"github.com/capstan-dev/capstan/internal/repo"
)

// BenchmarkVerify measures the verification of one chart's signatures once they are read from
// the registry (the registry reads are the same few small requests for every provider): the
// parsing and checking of the signature, certificate chain, identity and log entry.
func BenchmarkVerify(b *testing.B) {
	const issuer, subject = "https://issuer.example.com", "https://github.com/example/charts/.github/workflows/release.yaml@refs/heads/main"
	ca, tlog, key := ocisigntest.NewCA(b, "Fulcio"), ocisigntest.NewLog(b), ocisigntest.NewKey(b)
	cert, certKey := ca.Leaf(b, ocisigntest.LeafOptions{Subject: subject, Issuer: issuer})
	notary := ocisigntest.NewCA(b, "Notary")
	ncert, nkey := notary.Leaf(b, ocisigntest.LeafOptions{Subject: "Chart Publisher"})
	keyless := []ocisign.Identity{{Issuer: `https://issuer\.example\.com`, Subject: `https://github\.com/example/.+`}}

	cases := []struct {
		name   string
		sign   func(s ocisigntest.Subject)
		newVer func() (verifier, error)
	}{
		{"cosign-keyed-tag", func(s ocisigntest.Subject) { s.SignTag(b, ocisigntest.Signer{Key: key}, ocisigntest.TagOptions{}) },
			func() (verifier, error) {
				return ocisign.NewCosign(map[string][]byte{"cosign.pub": key.PublicPEM()}, ocisign.CosignPolicy{})
			}},
		{"cosign-keyless-tag-tlog", func(s ocisigntest.Subject) {
			s.SignTag(b, ocisigntest.Signer{Key: certKey, Cert: cert}, ocisigntest.TagOptions{Log: tlog})
		}, func() (verifier, error) {
			return ocisign.NewCosign(map[string][]byte{ocisign.TrustedRootKey: ocisigntest.TrustedRoot(b, ca, tlog)},
				ocisign.CosignPolicy{Identities: keyless, RequireTlog: true})
		}},
		{"cosign-keyless-bundle", func(s ocisigntest.Subject) {
			s.SignBundle(b, ocisigntest.Signer{Key: certKey, Cert: cert}, ocisigntest.BundleOptions{})
		}, func() (verifier, error) {
			return ocisign.NewCosign(map[string][]byte{ocisign.TrustedRootKey: ocisigntest.TrustedRoot(b, ca, nil)},
				ocisign.CosignPolicy{Identities: keyless})
		}},
		{"notation", func(s ocisigntest.Subject) { s.SignNotation(b, nkey, ncert, notary.Cert) },
			func() (verifier, error) {
				return ocisign.NewNotation(map[string][]byte{ocisign.TrustPolicyKey: ocisigntest.TrustPolicy("strict", ""), "ca.crt": notary.PEM()})
			}},
	}
	for _, tc := range cases {
		b.Run(tc.name, func(b *testing.B) {
			host := ocisigntest.NewRegistry(b)
			archive := ocisigntest.Chart(b, "app", "1.0.0")
			s := ocisigntest.Subject{Host: host, Repository: "charts/app", Manifest: ocisigntest.PushChart(b, host, "charts/app", "app", "1.0.0", archive)}
			tc.sign(s)
			v, err := tc.newVer()
			if err != nil {
				b.Fatal(err)
			}
			r, err := repo.NewOCIRepository("oci://"+host+"/charts", repo.Options{PlainHTTP: true})
			if err != nil {
				b.Fatal(err)
			}
			ctx := context.Background()
			cv, err := r.Resolve(ctx, "app", "1.0.0")
			if err != nil {
				b.Fatal(err)
			}
			var subject repo.SignatureSubject
			var sigs []repo.SignatureArtifact
			_, err = r.FetchSigned(ctx, cv, v.Query(), func(_ context.Context, s repo.SignatureSubject, a []repo.SignatureArtifact) error {
				subject, sigs = s, a
				return nil
			})
			if err != nil {
				b.Fatal(err)
			}
			for b.Loop() {
				if _, err := v.Verify(ctx, subject, sigs); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

package controllers_test

import (
	"context"
	"errors"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	capstanv1 "github.com/capstan-dev/capstan/api/v1alpha1"
	"github.com/capstan-dev/capstan/internal/ocisign"
	"github.com/capstan-dev/capstan/internal/ocisign/ocisigntest"
	"github.com/capstan-dev/capstan/internal/repo"
	"github.com/capstan-dev/capstan/internal/testsupport"
)

// FetchSigned lets the test source check OCI signatures, as the manager's does.
func (s *repoSource) FetchSigned(ctx context.Context, cr *capstanv1.ChartRepository, name, version string,
	q repo.SignatureQuery, check repo.SignatureCheck) ([]byte, string, error) {
	s.mu.Lock()
	s.fetches[cr.Namespace]++
	s.mu.Unlock()
	src, err := s.open(cr)
	if err != nil {
		return nil, "", err
	}
	cv, err := src.Resolve(ctx, name, version)
	if err != nil {
		return nil, "", err
	}
	ociRepo, ok := src.(*repo.OCIRepository)
	if !ok {
		return nil, "", errors.New("not an OCI repository")
	}
	data, err := ociRepo.FetchSigned(ctx, cv, q, check)
	return data, "sha256:" + cv.Digest, err
}

var _ = Describe("A Release whose OCI chart must be signed", Ordered, func() {
	const (
		issuer  = "https://token.actions.githubusercontent.com"
		subject = "https://github.com/example/charts/.github/workflows/release.yaml@refs/heads/main"
	)
	var (
		host            string
		ca, notaryCA    *ocisigntest.CA
		tlog            *ocisigntest.Log
		keyed, stranger ocisigntest.Key
	)
	BeforeAll(func() {
		host = ocisigntest.NewRegistry(GinkgoT())
		ca, notaryCA, tlog = ocisigntest.NewCA(GinkgoT(), "Fulcio"), ocisigntest.NewCA(GinkgoT(), "Notary"), ocisigntest.NewLog(GinkgoT())
		keyed, stranger = ocisigntest.NewKey(GinkgoT()), ocisigntest.NewKey(GinkgoT())
		push := func(version string) ocisigntest.Subject {
			return ocisigntest.Subject{Host: host, Repository: "charts/signed", Manifest: ocisigntest.PushChart(GinkgoT(), host, "charts/signed",
				"signed", version, ocisigntest.Chart(GinkgoT(), "signed", version))}
		}
		cert, key := ca.Leaf(GinkgoT(), ocisigntest.LeafOptions{Subject: subject, Issuer: issuer})
		push("1.0.0").SignTag(GinkgoT(), ocisigntest.Signer{Key: key, Cert: cert}, ocisigntest.TagOptions{Log: tlog})
		push("1.1.0").SignBundle(GinkgoT(), ocisigntest.Signer{Key: stranger}, ocisigntest.BundleOptions{})
		ncert, nkey := notaryCA.Leaf(GinkgoT(), ocisigntest.LeafOptions{Subject: "Chart Publisher"})
		push("1.2.0").SignNotation(GinkgoT(), nkey, ncert, notaryCA.Cert)
		push("1.3.0") // unsigned
	})

	// newOCINamespace makes a namespace whose ChartRepository is the registry, verifying with v
	// and the Secret "trust" holding data.
	newOCINamespace := func(ctx context.Context, v *capstanv1.ChartVerification, data map[string]string) string {
		ns := newNamespace(ctx)
		createSecret(ctx, ns, "trust", data)
		cr := testsupport.MakeChartRepository("oci", ns, "oci://"+host+"/charts").Obj()
		cr.Spec.PlainHTTP = true
		cr.Spec.Verify = v
		Expect(k8sClient.Create(ctx, cr)).To(Succeed())
		cr.Status = testsupport.ReadyStatus(cr.Generation)
		Expect(k8sClient.Status().Update(ctx, cr)).To(Succeed())
		return ns
	}
	signed := func(name, ns, version string) *capstanv1.Release {
		return testsupport.MakeRelease(name, ns).Chart("oci", "signed", version).Obj()
	}

	It("installs a keyless-signed chart whose identity matches and shows the signer", func(ctx SpecContext) {
		ns := newOCINamespace(ctx, &capstanv1.ChartVerification{Provider: capstanv1.VerificationProviderCosign,
			SecretRef:         capstanv1.LocalObjectReference{Name: "trust"},
			MatchOIDCIdentity: []capstanv1.OIDCIdentityMatch{{Issuer: `https://token\.actions\.githubusercontent\.com`, Subject: `https://github\.com/example/charts/.+`}}},
			map[string]string{ocisign.TrustedRootKey: string(ocisigntest.TrustedRoot(GinkgoT(), ca, tlog))})
		Expect(k8sClient.Create(ctx, signed("keyless", ns, "1.0.0"))).To(Succeed())
		rel := expectReadyAt(ctx, ns, "keyless", 1)
		v := rel.Status.Verification
		Expect(v).NotTo(BeNil())
		Expect(v.Provider).To(Equal(capstanv1.VerificationProviderCosign))
		Expect(v.Signer).To(Equal(subject))
		Expect(v.Issuer).To(Equal(issuer))
		Expect(v.Digest).To(MatchRegexp(`^sha256:[0-9a-f]{64}$`))
		verified := condition(rel, capstanv1.VerifiedCondition)
		Expect(verified.Status).To(Equal(metav1.ConditionTrue))
		Expect(verified.Message).To(ContainSubstring("is signed (cosign) by " + subject + ", issued by " + issuer))
		Expect(configMapData(ctx, ns, "keyless")).To(HaveKeyWithValue("chart", "signed"))
	})

	It("stalls with VerificationFailed on a chart signed by an untrusted key, and applies nothing", func(ctx SpecContext) {
		ns := newOCINamespace(ctx, &capstanv1.ChartVerification{Provider: capstanv1.VerificationProviderCosign,
			SecretRef: capstanv1.LocalObjectReference{Name: "trust"}, TransparencyLog: capstanv1.TransparencyLogIgnore},
			map[string]string{"cosign.pub": string(keyed.PublicPEM())})
		calls.reset(ns)
		Expect(k8sClient.Create(ctx, signed("untrusted", ns, "1.1.0"))).To(Succeed())
		rel := expectStalled(ctx, ns, "untrusted", capstanv1.VerificationFailedReason)
		Expect(condition(rel, capstanv1.ReadyCondition).Message).To(MatchRegexp(
			`^chart signed 1\.1\.0 \(sha256:[0-9a-f]{64}\) failed verification: no cosign signature of 127\.0\.0\.1:\d+/charts/signed@sha256:[0-9a-f]{64} verifies: referrer sha256:[0-9a-f]{64}: it does not verify with any trusted public key`))
		Expect(condition(rel, capstanv1.VerifiedCondition).Status).To(Equal(metav1.ConditionFalse))
		Expect(rel.Status.Verification).To(BeNil())
		expectNothingWritten(ns, "untrusted", "untrusted")
	})

	It("installs an unsigned chart in warn mode, and says so", func(ctx SpecContext) {
		ns := newOCINamespace(ctx, &capstanv1.ChartVerification{Provider: capstanv1.VerificationProviderNotation,
			SecretRef: capstanv1.LocalObjectReference{Name: "trust"}, Mode: capstanv1.VerificationModeWarn},
			map[string]string{ocisign.TrustPolicyKey: string(ocisigntest.TrustPolicy("strict", "")), "notary.crt": string(notaryCA.PEM())})
		Expect(k8sClient.Create(ctx, signed("warned", ns, "1.3.0"))).To(Succeed())
		rel := expectReadyAt(ctx, ns, "warned", 1)
		verified := condition(rel, capstanv1.VerifiedCondition)
		Expect(verified.Status).To(Equal(metav1.ConditionFalse))
		Expect(verified.Reason).To(Equal(capstanv1.VerificationFailedReason))
		Expect(verified.Message).To(ContainSubstring("no notation signature found for"))
		Expect(rel.Status.Verification).To(BeNil())
		Eventually(func() []string { return eventReasons(ctx, ns, "warned") }).Should(ContainElement(capstanv1.VerificationFailedReason))
	})

	It("installs a notation-signed chart whose certificate chains to the trust store", func(ctx SpecContext) {
		ns := newOCINamespace(ctx, &capstanv1.ChartVerification{Provider: capstanv1.VerificationProviderNotation,
			SecretRef: capstanv1.LocalObjectReference{Name: "trust"}},
			map[string]string{ocisign.TrustPolicyKey: string(ocisigntest.TrustPolicy("strict", "")), "notary.crt": string(notaryCA.PEM())})
		Expect(k8sClient.Create(ctx, signed("notation", ns, "1.2.0"))).To(Succeed())
		rel := expectReadyAt(ctx, ns, "notation", 1)
		Expect(rel.Status.Verification).NotTo(BeNil())
		Expect(rel.Status.Verification.Signer).To(Equal("CN=Chart Publisher,O=Capstan tests,ST=WA,C=US"))
		Expect(rel.Status.Verification.Issuer).To(Equal("CN=Notary,O=Capstan tests"))
	})
})

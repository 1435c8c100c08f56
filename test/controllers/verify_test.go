package controllers_test

import (
	"context"
	"errors"
	"os"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	capstanv1 "github.com/capstan-dev/capstan/api/v1alpha1"
	"github.com/capstan-dev/capstan/internal/chart"
	"github.com/capstan-dev/capstan/internal/provenance"
	"github.com/capstan-dev/capstan/internal/provenance/provenancetest"
	"github.com/capstan-dev/capstan/internal/repo"
	"github.com/capstan-dev/capstan/internal/testsupport"
)

// FetchVerified lets the test source verify provenance files, as the manager's does.
func (s *repoSource) FetchVerified(ctx context.Context, cr *capstanv1.ChartRepository, name, version string,
	check repo.ProvenanceCheck) ([]byte, string, error) {
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
	httpRepo, ok := src.(*repo.HTTPRepository)
	if !ok {
		return nil, "", errors.New("not an HTTP repository")
	}
	data, err := httpRepo.FetchVerified(ctx, cv, check)
	return data, "sha256:" + cv.Digest, err
}

// ReadRepositorySecret reads a Secret of the repository's namespace with the suite's client.
func (s *repoSource) ReadRepositorySecret(ctx context.Context, cr *capstanv1.ChartRepository, name string) (*corev1.Secret, error) {
	sec := &corev1.Secret{}
	return sec, k8sClient.Get(ctx, client.ObjectKey{Namespace: cr.Namespace, Name: name}, sec)
}

// signPublished writes the provenance file of a published chart, signed by key.
func (cs *chartServer) signPublished(name, version string, key *openpgp.Entity) {
	data, err := os.ReadFile(cs.archive(name, version))
	Expect(err).NotTo(HaveOccurred())
	c, err := chart.LoadBytes(data, chart.Limits{})
	Expect(err).NotTo(HaveOccurred())
	prov, err := provenance.Sign(data, name+"-"+version+".tgz", c.Metadata, key, time.Time{})
	Expect(err).NotTo(HaveOccurred())
	cs.mu.Lock()
	defer cs.mu.Unlock()
	cs.files[name+"-"+version+".tgz.prov"] = prov
}

var _ = Describe("A Release whose chart must be signed", Ordered, func() {
	var trusted, stranger *openpgp.Entity
	BeforeAll(func() {
		trusted = provenancetest.NewKey(GinkgoT(), "Widgets Publisher", "release@widgets.example", provenancetest.KeyOptions{})
		stranger = provenancetest.NewKey(GinkgoT(), "Mallory", "mallory@example.com", provenancetest.KeyOptions{})
		charts.signPublished("widgets", "1.0.0", trusted)
		charts.signPublished("widgets", "1.1.0", stranger)
	})

	newSignedNamespace := func(ctx context.Context) string {
		ns := newNamespace(ctx)
		createSecret(ctx, ns, "keys", map[string]string{"keyring": string(provenancetest.ArmoredPublicKeyring(GinkgoT(), trusted))})
		return ns
	}
	widgets := func(name, ns, version string) *testsupport.ReleaseBuilder {
		return testsupport.MakeRelease(name, ns).Chart(repoName, "widgets", version)
	}

	It("installs a chart signed by a trusted key and records who signed it", func(ctx SpecContext) {
		ns := newSignedNamespace(ctx)
		Expect(k8sClient.Create(ctx, widgets("good", ns, "1.0.0").Verify("keys", capstanv1.VerificationModeEnforce).Obj())).To(Succeed())
		rel := expectReadyAt(ctx, ns, "good", 1)
		v := rel.Status.Verification
		Expect(v).NotTo(BeNil())
		Expect(v.Provider).To(Equal(capstanv1.VerificationProviderPGP))
		Expect(v.Signer).To(Equal("Widgets Publisher <release@widgets.example>"))
		Expect(v.Fingerprint).To(HaveLen(40))
		Expect(v.Digest).To(HavePrefix("sha256:"))
		verified := condition(rel, capstanv1.VerifiedCondition)
		Expect(verified.Status).To(Equal(metav1.ConditionTrue))
		Expect(verified.Message).To(ContainSubstring("is signed by Widgets Publisher"))
	})

	It("stalls with VerificationFailed before rendering a chart signed by an untrusted key, and writes nothing", func(ctx SpecContext) {
		ns := newSignedNamespace(ctx)
		calls.reset(ns)
		Expect(k8sClient.Create(ctx, widgets("bad", ns, "1.1.0").Verify("keys", capstanv1.VerificationModeEnforce).Obj())).To(Succeed())
		rel := expectStalled(ctx, ns, "bad", capstanv1.VerificationFailedReason)
		msg := condition(rel, capstanv1.ReadyCondition).Message
		Expect(msg).To(MatchRegexp(`^chart widgets 1\.1\.0 \(sha256:[0-9a-f]{64}\) failed verification: provenance is signed by key ID [0-9A-F]{16}, which is not in the trusted keyring$`))
		Expect(condition(rel, capstanv1.VerifiedCondition).Status).To(Equal(metav1.ConditionFalse))
		Expect(rel.Status.Verification).To(BeNil())
		expectNothingWritten(ns, "bad")
		Eventually(func() []string { return eventReasons(ctx, ns, "bad") }).Should(ContainElement(capstanv1.VerificationFailedReason))
	})

	It("stalls on a chart without a provenance file, when the repository asks for verification", func(ctx SpecContext) {
		ns := newSignedNamespace(ctx)
		cr := &capstanv1.ChartRepository{}
		Expect(k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: repoName}, cr)).To(Succeed())
		cr.Spec.Verify = &capstanv1.ChartVerification{Provider: capstanv1.VerificationProviderPGP, SecretRef: capstanv1.LocalObjectReference{Name: "keys"}}
		Expect(k8sClient.Update(ctx, cr)).To(Succeed())
		cr.Status = testsupport.ReadyStatus(cr.Generation)
		Expect(k8sClient.Status().Update(ctx, cr)).To(Succeed())
		Expect(k8sClient.Create(ctx, demo("unsigned", ns, "1.0.0").Obj())).To(Succeed())
		rel := expectStalled(ctx, ns, "unsigned", capstanv1.VerificationFailedReason)
		Expect(condition(rel, capstanv1.ReadyCondition).Message).To(MatchRegexp(
			`^chart demo 1\.0\.0 \(sha256:[0-9a-f]{64}\) failed verification: no provenance file at http://127\.0\.0\.1:\d+/demo-1\.0\.0\.tgz\.prov$`))
		expectNothingWritten(ns, "unsigned", "unsigned-config")

		By("letting the Release's own spec.chart.verify override the repository's")
		update(ctx, ns, "unsigned", func(r *capstanv1.Release) {
			r.Spec.Chart.Name, r.Spec.Chart.Version = "widgets", "1.0.0"
			r.Spec.Chart.Verify = &capstanv1.ChartVerification{Provider: capstanv1.VerificationProviderPGP,
				SecretRef: capstanv1.LocalObjectReference{Name: "keys"}}
		})
		expectReadyAt(ctx, ns, "unsigned", 1)
	})

	It("installs an unverified chart in warn mode and says so", func(ctx SpecContext) {
		ns := newSignedNamespace(ctx)
		Expect(k8sClient.Create(ctx, widgets("warned", ns, "1.1.0").Verify("keys", capstanv1.VerificationModeWarn).Obj())).To(Succeed())
		rel := expectReadyAt(ctx, ns, "warned", 1)
		verified := condition(rel, capstanv1.VerifiedCondition)
		Expect(verified.Status).To(Equal(metav1.ConditionFalse))
		Expect(verified.Reason).To(Equal(capstanv1.VerificationFailedReason))
		Expect(verified.Message).To(ContainSubstring("not in the trusted keyring"))
		Expect(rel.Status.Verification).To(BeNil())
		Eventually(func() []string { return eventReasons(ctx, ns, "warned") }).Should(ContainElement(capstanv1.VerificationFailedReason))
	})

	It("stalls when the keyring Secret holds no keyring", func(ctx SpecContext) {
		ns := newNamespace(ctx)
		createSecret(ctx, ns, "keys", map[string]string{"pubring": "x"})
		Expect(k8sClient.Create(ctx, widgets("nokeys", ns, "1.0.0").Verify("keys", capstanv1.VerificationModeEnforce).Obj())).To(Succeed())
		rel := expectStalled(ctx, ns, "nokeys", capstanv1.VerificationFailedReason)
		Expect(condition(rel, capstanv1.ReadyCondition).Message).To(HaveSuffix("spec.chart.verify.secretRef has no key keyring or keyring.gpg"))
		expectNothingWritten(ns, "nokeys")
	})
})

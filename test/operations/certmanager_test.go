package operations

import (
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	capstanv1 "github.com/capstan-dev/capstan/api/v1alpha1"
	"github.com/capstan-dev/capstan/internal/testsupport"
)

// certManagerBound is how long a health-gated install of cert-manager may take on the kwok
// cluster before the spec fails. Measured: see docs/operations.md.
const certManagerBound = 120 * time.Second

var _ = Describe("cert-manager", func() {
	It("installs health-gated, with its CRDs, and becomes Ready within the bound", func(ctx SpecContext) {
		const name = "cert-manager"
		ns := newNamespace(ctx, "cert-manager")

		By("installing cert-manager " + certManagerVersion + " with crds.enabled=true")
		started := time.Now()
		rel := testsupport.MakeRelease(name, ns).Chart(repoName, "cert-manager", certManagerVersion).
			Values(map[string]any{"crds": map[string]any{"enabled": true}}).Obj()
		Expect(k8sClient.Create(ctx, rel)).To(Succeed())
		var readyAt metav1.Time
		Eventually(func(g Gomega) {
			rel := getRelease(g, ctx, ns, name)
			ready := condition(rel, capstanv1.ReadyCondition)
			readyAt = ready.LastTransitionTime
			g.Expect(ready.Status).To(Equal(metav1.ConditionTrue), "Ready: %s %s", ready.Reason, ready.Message)
			g.Expect(rel.Status.ObservedGeneration).To(Equal(rel.Generation))
			g.Expect(rel.Status.CurrentRevision).To(Equal(1))
		}).WithContext(ctx).WithTimeout(certManagerBound).WithPolling(time.Second).Should(Succeed())
		took := since(started)
		AddReportEntry("cert-manager Release Ready after", took)
		GinkgoWriter.Printf("cert-manager %s: health-gated install Ready after %s\n", certManagerVersion, took)

		By("checking what Ready stands for: every Deployment available, the CRDs established, the post-install check run")
		for _, d := range []string{"cert-manager", "cert-manager-cainjector", "cert-manager-webhook"} {
			dep := &appsv1.Deployment{}
			Expect(k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: d}, dep)).To(Succeed())
			Expect(dep.Status.AvailableReplicas).To(BeNumerically(">=", 1), d)
			available := deploymentCondition(dep, appsv1.DeploymentAvailable)
			Expect(available.Status).To(BeEquivalentTo(metav1.ConditionTrue), d)
			Expect(available.LastTransitionTime.Time).To(BeTemporally("<=", readyAt.Time), "%s was available before the Release was Ready", d)
		}
		for _, crd := range []string{"certificates.cert-manager.io", "issuers.cert-manager.io", "clusterissuers.cert-manager.io",
			"certificaterequests.cert-manager.io", "orders.acme.cert-manager.io", "challenges.acme.cert-manager.io"} {
			obj := &apiextensionsv1.CustomResourceDefinition{}
			Expect(k8sClient.Get(ctx, client.ObjectKey{Name: crd}, obj)).To(Succeed())
			Expect(crdEstablished(obj)).To(BeTrue(), crd)
		}
		rec := record(ctx, ns, name, 1)
		Expect(hookRuns(rec)).To(ContainElement("cert-manager-startupapicheck=Succeeded"))
		Expect(exists(ctx, &batchv1.Job{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "cert-manager-startupapicheck"}})).
			To(BeFalse(), "hook-succeeded removed the check Job")
		Expect(records(ctx, ns, name)).To(Equal([]string{"v1=deployed"}))
	})
})

// deploymentCondition returns a Deployment's condition of a type, or an empty one.
func deploymentCondition(dep *appsv1.Deployment, typ appsv1.DeploymentConditionType) appsv1.DeploymentCondition {
	for _, c := range dep.Status.Conditions {
		if c.Type == typ {
			return c
		}
	}
	return appsv1.DeploymentCondition{}
}

// crdEstablished reports whether a CRD has Established=True.
func crdEstablished(crd *apiextensionsv1.CustomResourceDefinition) bool {
	for _, c := range crd.Status.Conditions {
		if c.Type == apiextensionsv1.Established && c.Status == apiextensionsv1.ConditionTrue {
			return true
		}
	}
	return false
}

package controllers_test

import (
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	capstanv1 "github.com/capstan-dev/capstan/api/v1alpha1"
	"github.com/capstan-dev/capstan/internal/testsupport"
)

var _ = Describe("Charts with CRDs, suspended Releases and failed deletions", func() {
	It("creates the chart's CRDs before its objects, shows them in .Capabilities, and never deletes them", func(ctx SpecContext) {
		ns := newNamespace(ctx)
		Expect(k8sClient.Create(ctx, testsupport.MakeRelease("wid", ns).Chart(repoName, "widgets", "1.0.0").Obj())).To(Succeed())
		expectReadyAt(ctx, ns, "wid", 1)
		crd := &apiextensionsv1.CustomResourceDefinition{ObjectMeta: metav1.ObjectMeta{Name: "widgets.test.capstan.dev"}}
		Expect(exists(ctx, crd)).To(BeTrue())
		Expect(crd.Labels).NotTo(HaveKey("app.kubernetes.io/managed-by"), "crds/ CRDs belong to no release, as in Helm")
		widget := &unstructured.Unstructured{}
		widget.SetAPIVersion("test.capstan.dev/v1")
		widget.SetKind("Widget")
		Expect(k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: "wid"}, widget)).To(Succeed())
		Expect(record(ctx, ns, "wid", 1).Manifest).NotTo(ContainSubstring("CustomResourceDefinition"), "crds/ are not in the manifest")
		caps := configMapData(ctx, ns, "wid-caps")
		Expect(caps).To(HaveKeyWithValue("kubeMinor", "36"), "the live server's version")

		By("seeing the CRD in .Capabilities on the next render")
		update(ctx, ns, "wid", func(r *capstanv1.Release) { r.Spec.Chart.Version = "1.1.0" })
		expectReadyAt(ctx, ns, "wid", 2)
		Expect(configMapData(ctx, ns, "wid-caps")).To(HaveKeyWithValue("hasWidgets", "true"))

		By("deleting the Widget but not the CRD on uninstall")
		Expect(k8sClient.Delete(ctx, getRelease(Default, ctx, ns, "wid"))).To(Succeed())
		Eventually(func() bool {
			return exists(ctx, &capstanv1.Release{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "wid"}})
		}).Should(BeFalse())
		Expect(exists(ctx, widget)).To(BeFalse())
		Expect(exists(ctx, crd)).To(BeTrue())
	})

	It("does nothing while suspended, and catches up when resumed", func(ctx SpecContext) {
		ns := newNamespace(ctx)
		Expect(k8sClient.Create(ctx, demo("sus", ns, "1.0.0").Obj())).To(Succeed())
		expectReadyAt(ctx, ns, "sus", 1)
		update(ctx, ns, "sus", func(r *capstanv1.Release) {
			r.Spec.Suspend = true
			r.Spec.Chart.Version = "1.1.0"
		})
		Eventually(func(g Gomega) {
			g.Expect(condition(getRelease(g, ctx, ns, "sus"), capstanv1.ReadyCondition).Reason).To(Equal(capstanv1.SuspendedReason))
		}).Should(Succeed())
		Consistently(func() []string { return records(ctx, ns, "sus") }, time.Second).Should(HaveLen(1))
		update(ctx, ns, "sus", func(r *capstanv1.Release) { r.Spec.Suspend = false })
		expectReadyAt(ctx, ns, "sus", 2)
	})

	It("installs into a target namespace it creates, keeping the records in the Release's namespace", func(ctx SpecContext) {
		ns := newNamespace(ctx)
		target := ns + "-target"
		rel := demo("tns", ns, "1.0.0").Obj()
		rel.Spec.TargetNamespace, rel.Spec.CreateNamespace = target, true
		Expect(k8sClient.Create(ctx, rel)).To(Succeed())
		got := expectReadyAt(ctx, ns, "tns", 1)
		Expect(got.Status.StorageNamespace).To(Equal(ns))
		Expect(records(ctx, ns, "tns")).To(Equal([]string{"v1=deployed"}))
		Expect(configMapData(ctx, target, "tns-config")).To(HaveKeyWithValue("greeting", "hello"))
		Expect(configMapData(ctx, ns, "tns-config")).To(BeNil())

		Expect(k8sClient.Delete(ctx, got)).To(Succeed())
		Eventually(func() bool { return exists(ctx, cmRef(target, "tns-config")) }).Should(BeFalse())
		Expect(exists(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: target}})).To(BeTrue(), "the namespace outlives the release")
	})

	It("lets a Release go at once when it never wrote anything, and when its namespace is being deleted", func(ctx SpecContext) {
		ns := newNamespace(ctx)
		Expect(k8sClient.Create(ctx, demo("ghost", ns, "1.0.0").ServiceAccount("ghost").Obj())).To(Succeed())
		Eventually(func(g Gomega) {
			g.Expect(getRelease(g, ctx, ns, "ghost").Finalizers).To(ContainElement(capstanv1.Finalizer))
		}).Should(Succeed())
		Expect(k8sClient.Delete(ctx, getRelease(Default, ctx, ns, "ghost"))).To(Succeed())
		Eventually(func() bool {
			return exists(ctx, &capstanv1.Release{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "ghost"}})
		}).Should(BeFalse())

		By("giving up an uninstall that cannot run in a terminating namespace")
		Expect(k8sClient.Create(ctx, demo("doomed", ns, "1.0.0").Obj())).To(Succeed())
		expectReadyAt(ctx, ns, "doomed", 1)
		calls.injectDeleteFailures("doomed-config", 1000)
		DeferCleanup(func() { calls.injectDeleteFailures("doomed-config", 0) })
		Expect(k8sClient.Delete(ctx, getRelease(Default, ctx, ns, "doomed"))).To(Succeed())
		Eventually(func(g Gomega) {
			g.Expect(condition(getRelease(g, ctx, ns, "doomed"), capstanv1.ReadyCondition).Reason).To(Equal(capstanv1.UninstallFailedReason))
		}).Should(Succeed())
		Expect(k8sClient.Delete(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}})).To(Succeed())
		// Nudge the controller, unless a retry already let the Release go.
		Eventually(func(g Gomega) {
			rel := &capstanv1.Release{}
			err := k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: "doomed"}, rel)
			if apierrors.IsNotFound(err) {
				return
			}
			g.Expect(err).NotTo(HaveOccurred())
			rel.Annotations = map[string]string{capstanv1.ReconcileRequestAnnotation: "1"}
			g.Expect(client.IgnoreNotFound(k8sClient.Update(ctx, rel))).To(Succeed())
		}).Should(Succeed())
		Eventually(func() bool {
			return exists(ctx, &capstanv1.Release{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "doomed"}})
		}).Should(BeFalse())
		Expect(exists(ctx, cmRef(ns, "doomed-config"))).To(BeTrue(), "its deletion kept failing; the namespace takes it")
	})

	It("refuses a ChartRepository in another namespace", func(ctx SpecContext) {
		ns := newNamespace(ctx)
		rel := demo("far", ns, "1.0.0").Obj()
		rel.Spec.Chart.RepositoryRef.Namespace = "default"
		Expect(k8sClient.Create(ctx, rel)).To(Succeed())
		got := expectStalled(ctx, ns, "far", capstanv1.CrossNamespaceRefDeniedReason)
		Expect(condition(got, capstanv1.ReadyCondition).Message).To(ContainSubstring("cross-namespace references are not allowed"))
	})

	It("keeps an object whose deletion failed in the inventory and deletes it on a later reconcile", func(ctx SpecContext) {
		ns := newNamespace(ctx)
		Expect(k8sClient.Create(ctx, demo("prune", ns, "1.0.0").Values(map[string]any{"extra": map[string]any{"enabled": true}}).Obj())).To(Succeed())
		expectReadyAt(ctx, ns, "prune", 1)
		calls.injectDeleteFailures("prune-extra", 2)
		update(ctx, ns, "prune", func(r *capstanv1.Release) { r.Spec.Values = rawValues(`{"extra":{"enabled":false}}`) })
		got := expectReadyAt(ctx, ns, "prune", 2)
		Expect(exists(ctx, cmRef(ns, "prune-extra"))).To(BeFalse(), "deleted by a later reconcile, found in the inventory")
		Expect(got.Status.Inventory.Entries).To(HaveLen(1))
		Expect(eventReasons(ctx, ns, "prune")).To(ContainElement("PruneFailed"), "the failed deletion was reported")
		Expect(records(ctx, ns, "prune")).To(Equal([]string{"v1=superseded", "v2=deployed"}))
	})
})

package controllers_test

import (
	"github.com/fluxcd/cli-utils/pkg/kstatus/status"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"

	capstanv1 "github.com/capstan-dev/capstan/api/v1alpha1"
	"github.com/capstan-dev/capstan/internal/reconcile"
)

// kstatusOf computes the kstatus of a Release as kubectl wait, Flux and Argo CD see it.
func kstatusOf(g Gomega, rel *capstanv1.Release) status.Status {
	raw, err := runtime.DefaultUnstructuredConverter.ToUnstructured(rel)
	g.Expect(err).NotTo(HaveOccurred())
	u := &unstructured.Unstructured{Object: raw}
	u.SetAPIVersion(capstanv1.GroupVersion.String())
	u.SetKind(capstanv1.ReleaseKind)
	res, err := status.Compute(u)
	g.Expect(err).NotTo(HaveOccurred())
	return res.Status
}

var _ = Describe("A Release's lifecycle", func() {
	It("installs, upgrades on a values and a version change, rolls back on request, holds, and uninstalls", func(ctx SpecContext) {
		ns := newNamespace(ctx)
		rel := demo("web", ns, "1.0.0").Values(map[string]any{"greeting": "hi", "extra": map[string]any{"enabled": true}}).Obj()
		Expect(k8sClient.Create(ctx, rel)).To(Succeed())

		By("installing revision 1")
		got := expectReadyAt(ctx, ns, "web", 1)
		Expect(configMapData(ctx, ns, "web-config")).To(Equal(map[string]string{"greeting": "hi", "chartVersion": "1.0.0"}))
		Expect(configMapData(ctx, ns, "web-extra")).NotTo(BeNil())
		Expect(records(ctx, ns, "web")).To(Equal([]string{"v1=deployed"}))
		Expect(got.Finalizers).To(ContainElement(capstanv1.Finalizer))
		Expect(got.Status.ChartName).To(Equal("demo"))
		Expect(got.Status.ChartVersion).To(Equal("1.0.0"))
		Expect(got.Status.AppVersion).To(Equal("1.0"))
		Expect(got.Status.RollbackTarget).To(Equal(1))
		Expect(got.Status.LastAppliedRevision).To(Equal("1.0.0"))
		Expect(got.Status.LastAttemptedReleaseAction).To(Equal(capstanv1.ActionInstall))
		Expect(condition(got, capstanv1.ReleasedCondition).Reason).To(Equal(capstanv1.InstallSucceededReason))
		Expect(condition(got, capstanv1.ReadyCondition).Message).To(Equal("Revision 1 of demo 1.0.0 is deployed"))
		Expect(hasCondition(got, capstanv1.ReconcilingCondition)).To(BeFalse(), "Reconciling is removed when work ends")
		Expect(got.Status.History).To(HaveLen(1))
		Expect(got.Status.History[0].Action).To(Equal(capstanv1.ActionInstall))
		Expect(got.Status.History[0].Status).To(Equal(capstanv1.RevisionDeployed))
		Expect(got.Status.History[0].FinishedAt).NotTo(BeNil())
		Expect(got.Status.Inventory.Entries).To(ConsistOf(
			capstanv1.InventoryEntry{ID: ns + "_web-config__ConfigMap", Version: "v1"},
			capstanv1.InventoryEntry{ID: ns + "_web-extra__ConfigMap", Version: "v1"},
		))
		Eventually(func(g Gomega) { g.Expect(kstatusOf(g, getRelease(g, ctx, ns, "web"))).To(Equal(status.CurrentStatus)) }).Should(Succeed())
		v1 := record(ctx, ns, "web", 1)
		Expect(v1.Config).To(Equal(map[string]any{"greeting": "hi", "extra": map[string]any{"enabled": true}}))
		Expect(v1.Labels).To(HaveKeyWithValue(reconcile.ReleaseUIDLabel, string(got.UID)))
		Expect(v1.Info.Description).To(Equal("Install complete"))
		Expect(v1.Info.Notes).To(ContainSubstring("Thank you for installing demo 1.0.0 as web."))
		Expect(v1.Chart.Templates).To(BeEmpty(), "records keep no templates")

		By("upgrading to revision 2 when the values change, pruning what the chart no longer renders")
		update(ctx, ns, "web", func(r *capstanv1.Release) {
			r.Spec.Values.Raw = []byte(`{"greeting":"hello again"}`)
		})
		got = expectReadyAt(ctx, ns, "web", 2)
		Expect(configMapData(ctx, ns, "web-config")).To(HaveKeyWithValue("greeting", "hello again"))
		Expect(exists(ctx, cmRef(ns, "web-extra"))).To(BeFalse(), "pruned after the upgrade")
		Expect(records(ctx, ns, "web")).To(Equal([]string{"v1=superseded", "v2=deployed"}))
		Expect(condition(got, capstanv1.ReleasedCondition).Reason).To(Equal(capstanv1.UpgradeSucceededReason))
		Expect(got.Status.Inventory.Entries).To(HaveLen(1))

		By("upgrading to revision 3 when the chart version changes")
		update(ctx, ns, "web", func(r *capstanv1.Release) { r.Spec.Chart.Version = "1.1.0" })
		got = expectReadyAt(ctx, ns, "web", 3)
		Expect(got.Status.ChartVersion).To(Equal("1.1.0"))
		Expect(configMapData(ctx, ns, "web-config")).To(HaveKeyWithValue("chartVersion", "1.1.0"))
		Expect(records(ctx, ns, "web")).To(Equal([]string{"v1=superseded", "v2=superseded", "v3=deployed"}))

		By("rolling back to revision 1 as revision 4 on the annotation")
		update(ctx, ns, "web", func(r *capstanv1.Release) {
			r.Annotations = map[string]string{capstanv1.RollbackToAnnotation: "1"}
		})
		got = expectReadyAt(ctx, ns, "web", 4)
		Expect(got.Status.LastHandledRollbackTo).To(Equal("1"))
		Expect(condition(got, capstanv1.ReleasedCondition).Reason).To(Equal(capstanv1.RollbackSucceededReason))
		Expect(configMapData(ctx, ns, "web-config")).To(Equal(map[string]string{"greeting": "hi", "chartVersion": "1.0.0"}))
		Expect(exists(ctx, cmRef(ns, "web-extra"))).To(BeTrue(), "revision 1's objects come back")
		Expect(records(ctx, ns, "web")).To(Equal([]string{"v1=superseded", "v2=superseded", "v3=superseded", "v4=deployed"}))
		v4 := record(ctx, ns, "web", 4)
		Expect(v4.Info.Description).To(Equal("Rollback to 1"))
		Expect(v4.Info.RollbackRevision).To(Equal(1))
		Expect(v4.Manifest).To(Equal(v1.Manifest))
		Expect(got.Status.History[0].Action).To(Equal(capstanv1.ActionRollback))

		By("holding at the rollback while the generation stays the same")
		update(ctx, ns, "web", func(r *capstanv1.Release) {
			r.Annotations[capstanv1.ReconcileRequestAnnotation] = "now"
		})
		Eventually(func(g Gomega) {
			g.Expect(getRelease(g, ctx, ns, "web").Status.LastHandledReconcileAt).To(Equal("now"))
		}).Should(Succeed())
		Consistently(func() []string { return records(ctx, ns, "web") }, "2s").Should(HaveLen(4))

		By("leaving the hold when the spec changes")
		update(ctx, ns, "web", func(r *capstanv1.Release) { r.Spec.Values.Raw = []byte(`{"greeting":"after the hold"}`) })
		expectReadyAt(ctx, ns, "web", 5)
		Expect(configMapData(ctx, ns, "web-config")).To(HaveKeyWithValue("greeting", "after the hold"))
		Expect(configMapData(ctx, ns, "web-config")).To(HaveKeyWithValue("chartVersion", "1.1.0"))

		By("recording events for what happened")
		Eventually(func() []string { return eventReasons(ctx, ns, "web") }).Should(ContainElements(
			capstanv1.InstallSucceededReason, capstanv1.UpgradeSucceededReason, capstanv1.RollbackSucceededReason))

		By("uninstalling when the Release is deleted")
		Expect(k8sClient.Delete(ctx, getRelease(Default, ctx, ns, "web"))).To(Succeed())
		Eventually(func() bool {
			return exists(ctx, &capstanv1.Release{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "web"}})
		}).Should(BeFalse())
		Expect(exists(ctx, cmRef(ns, "web-config"))).To(BeFalse())
		Expect(records(ctx, ns, "web")).To(BeEmpty())
	})

	It("keeps the history marked uninstalled with keepHistory, and never deletes objects marked keep", func(ctx SpecContext) {
		ns := newNamespace(ctx)
		rel := demo("kept", ns, "1.0.0").
			Values(map[string]any{"kept": map[string]any{"enabled": true}}).
			Uninstall(capstanv1.Uninstall{KeepHistory: true}).Obj()
		Expect(k8sClient.Create(ctx, rel)).To(Succeed())
		expectReadyAt(ctx, ns, "kept", 1)
		Expect(exists(ctx, cmRef(ns, "kept-kept"))).To(BeTrue())

		By("not pruning a keep object the new revision drops")
		update(ctx, ns, "kept", func(r *capstanv1.Release) { r.Spec.Values.Raw = []byte(`{"kept":{"enabled":false}}`) })
		got := expectReadyAt(ctx, ns, "kept", 2)
		Expect(exists(ctx, cmRef(ns, "kept-kept"))).To(BeTrue(), "helm.sh/resource-policy: keep survives the prune")
		Expect(got.Status.Inventory.Entries).To(HaveLen(1), "the kept object is let go")

		By("turning keep back on and uninstalling")
		update(ctx, ns, "kept", func(r *capstanv1.Release) { r.Spec.Values.Raw = []byte(`{"kept":{"enabled":true}}`) })
		expectReadyAt(ctx, ns, "kept", 3)
		Expect(k8sClient.Delete(ctx, getRelease(Default, ctx, ns, "kept"))).To(Succeed())
		Eventually(func() bool {
			return exists(ctx, &capstanv1.Release{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "kept"}})
		}).Should(BeFalse())
		Expect(exists(ctx, cmRef(ns, "kept-config"))).To(BeFalse())
		Expect(exists(ctx, cmRef(ns, "kept-kept"))).To(BeTrue(), "helm.sh/resource-policy: keep survives uninstall")
		Expect(records(ctx, ns, "kept")).To(Equal([]string{"v1=superseded", "v2=superseded", "v3=uninstalled"}))
	})

	It("upgrades when a referenced ConfigMap changes, and waits for a missing one", func(ctx SpecContext) {
		ns := newNamespace(ctx)
		rel := demo("vf", ns, "1.0.0").
			ValuesFrom(capstanv1.ValuesReference{Kind: capstanv1.ValuesKindConfigMap, Name: "vf-values"}).
			ValuesFrom(capstanv1.ValuesReference{Kind: capstanv1.ValuesKindSecret, Name: "vf-secret", Key: "tag", TargetPath: "extra.tag", Optional: true}).
			Values(map[string]any{"extra": map[string]any{"enabled": true}}).Obj()
		Expect(k8sClient.Create(ctx, rel)).To(Succeed())

		By("waiting while the ConfigMap is missing")
		Eventually(func(g Gomega) {
			ready := condition(getRelease(g, ctx, ns, "vf"), capstanv1.ReadyCondition)
			g.Expect(ready.Reason).To(Equal(capstanv1.ValuesFromNotFoundReason))
			g.Expect(ready.Message).To(ContainSubstring("ConfigMap " + ns + "/vf-values"))
		}).Should(Succeed())
		Expect(records(ctx, ns, "vf")).To(BeEmpty())

		By("installing once it exists")
		cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "vf-values"},
			Data: map[string]string{"values.yaml": "greeting: from-configmap\n"}}
		Expect(k8sClient.Create(ctx, cm)).To(Succeed())
		expectReadyAt(ctx, ns, "vf", 1)
		Expect(configMapData(ctx, ns, "vf-config")).To(HaveKeyWithValue("greeting", "from-configmap"))

		By("upgrading when the ConfigMap's data changes")
		cm.Data["values.yaml"] = "greeting: changed\n"
		Expect(k8sClient.Update(ctx, cm)).To(Succeed())
		expectReadyAt(ctx, ns, "vf", 2)
		Expect(configMapData(ctx, ns, "vf-config")).To(HaveKeyWithValue("greeting", "changed"))

		By("placing an optional Secret's key at its targetPath once it appears")
		sec := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "vf-secret"}, Data: map[string][]byte{"tag": []byte("v9")}}
		Expect(k8sClient.Create(ctx, sec)).To(Succeed())
		expectReadyAt(ctx, ns, "vf", 3)
		Expect(record(ctx, ns, "vf", 3).Config).To(HaveKeyWithValue("extra", map[string]any{"enabled": true, "tag": "v9"}))
	})
})

// hasCondition reports whether a Release has a condition of the type.
func hasCondition(rel *capstanv1.Release, typ string) bool {
	return condition(rel, typ).Type != ""
}

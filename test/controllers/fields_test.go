package controllers_test

import (
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	capstanv1 "github.com/capstan-dev/capstan/api/v1alpha1"
)

// releaseGone reports whether a Release no longer exists.
func releaseGone(g Gomega, ctx SpecContext, ns, name string) bool {
	err := k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, &capstanv1.Release{})
	g.Expect(client.IgnoreNotFound(err)).To(Succeed())
	return apierrors.IsNotFound(err)
}

// releaseHeld lets a ConfigMap the demo chart rendered with `held: true` go, by removing the
// finalizer that holds its deletion.
func releaseHeld(ctx SpecContext, ns, name string) {
	Eventually(func(g Gomega) {
		cm := &corev1.ConfigMap{}
		err := k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, cm)
		if apierrors.IsNotFound(err) {
			return
		}
		g.Expect(err).NotTo(HaveOccurred())
		cm.Finalizers = nil
		g.Expect(k8sClient.Update(ctx, cm)).To(Succeed())
	}).Should(Succeed())
}

var _ = Describe("upgrade.cleanupOnFail and uninstall.disableWait", func() {
	It("deletes what a failed upgrade created with cleanupOnFail, never the previous revision's objects or adopted ones", func(ctx SpecContext) {
		ns := newNamespace(ctx)
		noRemediation := &capstanv1.Remediation{Strategy: capstanv1.RemediationNone}
		Expect(k8sClient.Create(ctx, demo("clean", ns, "1.0.0").Upgrade(capstanv1.Upgrade{
			Remediation: noRemediation, CleanupOnFail: true, TakeOwnership: true}).Obj())).To(Succeed())
		Expect(k8sClient.Create(ctx, demo("dirty", ns, "1.0.0").Upgrade(capstanv1.Upgrade{
			Remediation: noRemediation}).Obj())).To(Succeed())
		expectReadyAt(ctx, ns, "clean", 1)
		expectReadyAt(ctx, ns, "dirty", 1)

		By("creating, outside any release, an object the next revision adopts")
		Expect(k8sClient.Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "clean-extra"},
			Data: map[string]string{"note": "made by hand"}})).To(Succeed())

		By("upgrading both to a revision with a new object that never becomes healthy")
		for _, name := range []string{"clean", "dirty"} {
			update(ctx, ns, name, func(r *capstanv1.Release) {
				r.Spec.Values = rawValues(`{"unhealthy":true,"extra":{"enabled":true},"greeting":"v2"}`)
			})
		}
		for _, name := range []string{"clean", "dirty"} {
			rel := expectStalled(ctx, ns, name, capstanv1.RetriesExhaustedReason)
			Expect(records(ctx, ns, name)).To(Equal([]string{"v1=deployed", "v2=failed"}))
			Expect(condition(rel, capstanv1.ReleasedCondition).Reason).To(Equal(capstanv1.UpgradeFailedReason))
		}

		By("cleanupOnFail deleting only the object the failed upgrade created")
		Expect(exists(ctx, cmRef(ns, "clean-unhealthy"))).To(BeFalse(), "created by the failed upgrade")
		Expect(configMapData(ctx, ns, "clean-extra")).To(HaveKeyWithValue("extra", "yes"), "existed before: adopted, not deleted")
		Expect(configMapData(ctx, ns, "clean-config")).To(HaveKeyWithValue("greeting", "v2"), "the previous revision's object stays")
		rel := kube().Release(Default, ctx, ns, "clean")
		Expect(rel.Status.Inventory.Len()).To(Equal(2), "clean-config and clean-extra")

		By("without cleanupOnFail the created object stays, in the inventory")
		Expect(exists(ctx, cmRef(ns, "dirty-unhealthy"))).To(BeTrue())
		Expect(exists(ctx, cmRef(ns, "dirty-extra"))).To(BeTrue())
		rel = kube().Release(Default, ctx, ns, "dirty")
		Expect(rel.Status.Inventory.Len()).To(Equal(3))
	})

	It("waits on uninstall for the deleted objects to be gone, up to the timeout", func(ctx SpecContext) {
		ns := newNamespace(ctx)
		rel := demo("wait", ns, "1.0.0").Values(map[string]any{"held": true}).Obj()
		rel.Spec.Timeout = &metav1.Duration{Duration: 2 * time.Second}
		Expect(k8sClient.Create(ctx, rel)).To(Succeed())
		expectReadyAt(ctx, ns, "wait", 1)
		DeferCleanup(releaseHeld, ns, "wait-held")

		Expect(k8sClient.Delete(ctx, rel)).To(Succeed())
		Eventually(func(g Gomega) {
			got := getRelease(g, ctx, ns, "wait")
			ready := condition(got, capstanv1.ReadyCondition)
			g.Expect(ready.Reason).To(Equal(capstanv1.UninstallFailedReason))
			g.Expect(ready.Message).To(ContainSubstring("ConfigMap/" + ns + "/wait-held still being deleted after 2s"))
		}).Should(Succeed())
		Expect(exists(ctx, cmRef(ns, "wait-config"))).To(BeFalse(), "the objects are deleted before the wait")
		Expect(records(ctx, ns, "wait")).To(HaveLen(1), "the uninstall is not finished: the record stays")
		Consistently(func(g Gomega) bool { return releaseGone(g, ctx, ns, "wait") }, 2*time.Second).Should(BeFalse())

		By("letting the held object go")
		releaseHeld(ctx, ns, "wait-held")
		Eventually(func(g Gomega) bool { return releaseGone(g, ctx, ns, "wait") }).Should(BeTrue())
		Expect(records(ctx, ns, "wait")).To(BeEmpty())
	})

	It("does not wait with uninstall.disableWait", func(ctx SpecContext) {
		ns := newNamespace(ctx)
		rel := demo("nowait", ns, "1.0.0").Values(map[string]any{"held": true}).
			Uninstall(capstanv1.Uninstall{DisableWait: true}).Obj()
		Expect(k8sClient.Create(ctx, rel)).To(Succeed())
		expectReadyAt(ctx, ns, "nowait", 1)
		DeferCleanup(releaseHeld, ns, "nowait-held")

		Expect(k8sClient.Delete(ctx, rel)).To(Succeed())
		Eventually(func(g Gomega) bool { return releaseGone(g, ctx, ns, "nowait") }).Should(BeTrue())
		held := &corev1.ConfigMap{}
		Expect(k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: "nowait-held"}, held)).To(Succeed())
		Expect(held.DeletionTimestamp).NotTo(BeNil(), "deleted, still held by its finalizer")
		Expect(records(ctx, ns, "nowait")).To(BeEmpty())
	})
})

var _ = Describe("The switches of install, rollback and uninstall", func() {
	It("honours install.disableWait, rollback.disableWait and disableHooks, and uninstall.disableHooks", func(ctx SpecContext) {
		ns := newNamespace(ctx)
		Expect(k8sClient.Create(ctx, demo("switches", ns, "1.0.0").Values(map[string]any{"hook": true, "unhealthy": true}).
			Install(capstanv1.Install{DisableWait: true}).Obj())).To(Succeed())
		expectReadyAt(ctx, ns, "switches", 1)
		Expect(exists(ctx, cmRef(ns, "switches-unhealthy"))).To(BeTrue(), "installed without waiting for it")

		update(ctx, ns, "switches", func(r *capstanv1.Release) { r.Spec.Values = rawValues(`{"hook":true}`) })
		expectReadyAt(ctx, ns, "switches", 2)
		Expect(hookCalls.of(ns, "switches")).To(Equal([]string{"pre-install:switches-hook", "pre-upgrade:switches-hook"}))

		By("rolling back to the revision that never becomes healthy, without waiting or hooks")
		update(ctx, ns, "switches", func(r *capstanv1.Release) {
			r.Spec.Rollback = &capstanv1.Rollback{DisableWait: true, DisableHooks: true}
			r.Annotations = map[string]string{capstanv1.RollbackToAnnotation: "1"}
		})
		Eventually(func(g Gomega) {
			rel := getRelease(g, ctx, ns, "switches")
			g.Expect(rel.Status.CurrentRevision).To(Equal(3))
			g.Expect(condition(rel, capstanv1.ReleasedCondition).Reason).To(Equal(capstanv1.RollbackSucceededReason))
		}).Should(Succeed())
		Expect(exists(ctx, cmRef(ns, "switches-unhealthy"))).To(BeTrue())
		Expect(hookCalls.of(ns, "switches")).To(HaveLen(2), "no pre-rollback hook ran")

		By("rolling back again with hooks")
		update(ctx, ns, "switches", func(r *capstanv1.Release) {
			r.Spec.Rollback = &capstanv1.Rollback{DisableWait: true}
			r.Annotations = map[string]string{capstanv1.RollbackToAnnotation: "2"}
		})
		Eventually(func() []string { return hookCalls.of(ns, "switches") }).Should(HaveLen(3))
		Expect(hookCalls.of(ns, "switches")[2]).To(Equal("pre-rollback:switches-hook"))

		By("uninstalling without the delete hooks")
		update(ctx, ns, "switches", func(r *capstanv1.Release) { r.Spec.Uninstall = &capstanv1.Uninstall{DisableHooks: true} })
		Expect(k8sClient.Delete(ctx, getRelease(Default, ctx, ns, "switches"))).To(Succeed())
		Eventually(func(g Gomega) bool { return releaseGone(g, ctx, ns, "switches") }).Should(BeTrue())
		Expect(hookCalls.of(ns, "switches")).To(HaveLen(3), "no pre-delete hook ran")
		Expect(exists(ctx, cmRef(ns, "switches-config"))).To(BeFalse())
	})

	It("honours install.disableHooks and upgrade.disableWait", func(ctx SpecContext) {
		ns := newNamespace(ctx)
		Expect(k8sClient.Create(ctx, demo("quiet", ns, "1.0.0").Values(map[string]any{"hook": true}).
			Install(capstanv1.Install{DisableHooks: true}).Upgrade(capstanv1.Upgrade{DisableWait: true}).Obj())).To(Succeed())
		expectReadyAt(ctx, ns, "quiet", 1)
		Expect(hookCalls.of(ns, "quiet")).To(BeEmpty(), "no pre-install hook ran")

		update(ctx, ns, "quiet", func(r *capstanv1.Release) { r.Spec.Values = rawValues(`{"hook":true,"unhealthy":true}`) })
		expectReadyAt(ctx, ns, "quiet", 2)
		Expect(exists(ctx, cmRef(ns, "quiet-unhealthy"))).To(BeTrue(), "upgraded without waiting for it")
		Expect(hookCalls.of(ns, "quiet")).To(Equal([]string{"pre-upgrade:quiet-hook"}))
	})

	It("deletes with uninstall.deletionPropagation", func(ctx SpecContext) {
		ns := newNamespace(ctx)
		rel := demo("fg", ns, "1.0.0").Uninstall(capstanv1.Uninstall{
			DeletionPropagation: capstanv1.PropagationForeground, DisableWait: true}).Obj()
		Expect(k8sClient.Create(ctx, rel)).To(Succeed())
		expectReadyAt(ctx, ns, "fg", 1)
		DeferCleanup(releaseHeld, ns, "fg-config")

		Expect(k8sClient.Delete(ctx, rel)).To(Succeed())
		Eventually(func(g Gomega) bool { return releaseGone(g, ctx, ns, "fg") }).Should(BeTrue())
		// envtest runs no garbage collector, so a foreground deletion stays visible.
		cm := &corev1.ConfigMap{}
		Expect(k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: "fg-config"}, cm)).To(Succeed())
		Expect(cm.DeletionTimestamp).NotTo(BeNil())
		Expect(cm.Finalizers).To(ContainElement(metav1.FinalizerDeleteDependents))
	})

	It("recreates an object on a rollback's immutable-field change with rollback.force", func(ctx SpecContext) {
		ns := newNamespace(ctx)
		Expect(k8sClient.Create(ctx, demo("rbf", ns, "1.0.0").Upgrade(capstanv1.Upgrade{Force: true}).
			Values(map[string]any{"frozen": map[string]any{"enabled": true, "value": "one"}}).Obj())).To(Succeed())
		expectReadyAt(ctx, ns, "rbf", 1)
		update(ctx, ns, "rbf", func(r *capstanv1.Release) { r.Spec.Values.Raw = []byte(`{"frozen":{"enabled":true,"value":"two"}}`) })
		expectReadyAt(ctx, ns, "rbf", 2)

		By("rolling back to value one without rollback.force: the immutable change fails the rollback")
		update(ctx, ns, "rbf", func(r *capstanv1.Release) {
			r.Annotations = map[string]string{capstanv1.RollbackToAnnotation: "1"}
		})
		expectStalled(ctx, ns, "rbf", capstanv1.ImmutableFieldChangedReason)
		Expect(configMapData(ctx, ns, "rbf-frozen")).To(HaveKeyWithValue("value", "two"))

		By("with rollback.force the object is recreated")
		update(ctx, ns, "rbf", func(r *capstanv1.Release) { r.Spec.Rollback = &capstanv1.Rollback{Force: true} })
		Eventually(func() map[string]string { return configMapData(ctx, ns, "rbf-frozen") }).Should(HaveKeyWithValue("value", "one"))
		Eventually(func(g Gomega) {
			g.Expect(condition(getRelease(g, ctx, ns, "rbf"), capstanv1.ReleasedCondition).Reason).To(Equal(capstanv1.RollbackSucceededReason))
		}).Should(Succeed())
	})

	It("leaves the driftDetection.ignore paths out of drift detection", func(ctx SpecContext) {
		ns := newNamespace(ctx)
		rel := demo("ign", ns, "1.0.0").Interval(time.Second).Drift(capstanv1.DriftDetectionWarn).Obj()
		rel.Spec.DriftDetection.Ignore = []capstanv1.IgnoreRule{{Paths: []string{"/data/greeting"},
			Target: &capstanv1.ObjectSelector{Kind: "ConfigMap", Name: "ign-config"}}}
		Expect(k8sClient.Create(ctx, rel)).To(Succeed())
		expectReadyAt(ctx, ns, "ign", 1)
		edit := func(key, value string) {
			Eventually(func(g Gomega) {
				cm := &corev1.ConfigMap{}
				g.Expect(k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: "ign-config"}, cm)).To(Succeed())
				cm.Data[key] = value
				g.Expect(k8sClient.Update(ctx, cm)).To(Succeed())
			}).Should(Succeed())
		}

		By("editing an ignored field: no drift")
		edit("greeting", "edited by hand")
		Consistently(func(g Gomega) metav1.ConditionStatus {
			return condition(getRelease(g, ctx, ns, "ign"), capstanv1.DriftedCondition).Status
		}, 3*time.Second).ShouldNot(Equal(metav1.ConditionTrue))

		By("editing a field that is not ignored: drift")
		edit("chartVersion", "edited by hand")
		Eventually(func(g Gomega) {
			drifted := condition(getRelease(g, ctx, ns, "ign"), capstanv1.DriftedCondition)
			g.Expect(drifted.Status).To(Equal(metav1.ConditionTrue))
			g.Expect(drifted.Message).To(ContainSubstring("(/data/chartVersion)"))
			g.Expect(drifted.Message).NotTo(ContainSubstring("greeting"))
		}).Should(Succeed())
	})
})

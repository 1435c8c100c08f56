package controllers_test

import (
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	capstanv1 "github.com/capstan-dev/capstan/api/v1alpha1"
)

var _ = Describe("Remediation, drift, dependencies and identity", func() {
	It("retries a failed upgrade, then rolls back to the last good revision and stalls", func(ctx SpecContext) {
		ns := newNamespace(ctx)
		rollbacks := metricValue("capstan_release_remediations_total", map[string]string{"strategy": "rollback", "result": "success"})
		Expect(k8sClient.Create(ctx, demo("rem", ns, "1.0.0").
			Upgrade(capstanv1.Upgrade{Remediation: &capstanv1.Remediation{Retries: 1}}).Obj())).To(Succeed())
		expectReadyAt(ctx, ns, "rem", 1)

		By("upgrading to a revision that never becomes healthy")
		update(ctx, ns, "rem", func(r *capstanv1.Release) { r.Spec.Values = rawValues(`{"unhealthy":true}`) })
		rel := expectStalled(ctx, ns, "rem", capstanv1.RetriesExhaustedReason)
		Expect(records(ctx, ns, "rem")).To(Equal([]string{"v1=superseded", "v2=failed", "v3=failed", "v4=deployed"}),
			"one attempt, one retry, then the rollback to revision 1")
		Expect(rel.Status.UpgradeFailures).To(BeEquivalentTo(2))
		Expect(rel.Status.CurrentRevision).To(Equal(4))
		Expect(condition(rel, capstanv1.RemediatedCondition).Status).To(Equal(metav1.ConditionTrue))
		Expect(condition(rel, capstanv1.RemediatedCondition).Reason).To(Equal(capstanv1.RollbackSucceededReason))
		Expect(condition(rel, capstanv1.ReleasedCondition).Reason).To(Equal(capstanv1.UpgradeFailedReason))
		Expect(record(ctx, ns, "rem", 2).Info.Description).To(ContainSubstring("unhealthy by design"))
		Expect(record(ctx, ns, "rem", 4).Info.Description).To(Equal("Rollback to 1"))
		Expect(exists(ctx, cmRef(ns, "rem-unhealthy"))).To(BeFalse(), "the rollback pruned the failed revision's object")
		Consistently(func() []string { return records(ctx, ns, "rem") }, 2*time.Second).Should(HaveLen(4))
		By("the metrics saying so: the Release stalled with RetriesExhausted, one successful rollback more")
		Expect(metricValue("capstan_release_status", map[string]string{"namespace": ns, "name": "rem",
			"state": "stalled", "reason": capstanv1.RetriesExhaustedReason})).To(Equal(1.0))
		Expect(metricValue("capstan_release_remediations_total", map[string]string{"strategy": "rollback", "result": "success"})).
			To(BeNumerically(">=", rollbacks+1))

		By("starting over with the reset annotation")
		update(ctx, ns, "rem", func(r *capstanv1.Release) { r.Annotations = map[string]string{capstanv1.ResetAnnotation: "1"} })
		Eventually(func() []string { return records(ctx, ns, "rem") }).Should(HaveLen(7))

		By("installing the good values again once the spec changes")
		update(ctx, ns, "rem", func(r *capstanv1.Release) { r.Spec.Values = rawValues(`{"greeting":"fixed"}`) })
		got := expectReadyAt(ctx, ns, "rem", 8)
		Expect(got.Status.UpgradeFailures).To(BeZero())
		Expect(hasCondition(got, capstanv1.RemediatedCondition)).To(BeFalse())
	})

	It("uninstalls a failed install when the install remediation says so", func(ctx SpecContext) {
		ns := newNamespace(ctx)
		Expect(k8sClient.Create(ctx, demo("uninst", ns, "1.0.0").Values(map[string]any{"unhealthy": true}).
			Install(capstanv1.Install{Remediation: &capstanv1.Remediation{Strategy: capstanv1.RemediationUninstall}}).Obj())).To(Succeed())
		rel := expectStalled(ctx, ns, "uninst", capstanv1.RetriesExhaustedReason)
		Expect(condition(rel, capstanv1.RemediatedCondition).Reason).To(Equal(capstanv1.UninstallSucceededReason))
		Expect(records(ctx, ns, "uninst")).To(BeEmpty())
		Expect(exists(ctx, cmRef(ns, "uninst-config"))).To(BeFalse())
		Expect(rel.Status.InstallFailures).To(BeEquivalentTo(1))
	})

	It("reports drift in warn mode and corrects it in enabled mode, without a new revision", func(ctx SpecContext) {
		ns := newNamespace(ctx)
		Expect(k8sClient.Create(ctx, demo("warn", ns, "1.0.0").Interval(time.Second).Obj())).To(Succeed())
		Expect(k8sClient.Create(ctx, demo("fix", ns, "1.0.0").Interval(time.Second).Drift(capstanv1.DriftDetectionEnabled).Obj())).To(Succeed())
		expectReadyAt(ctx, ns, "warn", 1)
		expectReadyAt(ctx, ns, "fix", 1)
		Eventually(func() float64 {
			return metricValue("capstan_release_status", map[string]string{"namespace": ns, "name": "warn", "state": "ready"})
		}).Should(Equal(1.0))

		By("editing both releases' ConfigMaps out of band")
		for _, name := range []string{"warn-config", "fix-config"} {
			cm := &corev1.ConfigMap{}
			Expect(k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, cm)).To(Succeed())
			cm.Data["greeting"] = "edited by hand"
			Expect(k8sClient.Update(ctx, cm)).To(Succeed())
		}

		Eventually(func(g Gomega) {
			rel := getRelease(g, ctx, ns, "warn")
			drifted := condition(rel, capstanv1.DriftedCondition)
			g.Expect(drifted.Status).To(Equal(metav1.ConditionTrue))
			g.Expect(drifted.Message).To(ContainSubstring("ConfigMap/" + ns + "/warn-config (/data/greeting)"))
			g.Expect(condition(rel, capstanv1.ReadyCondition).Status).To(Equal(metav1.ConditionTrue), "warn mode does not make the Release not ready")
		}).Should(Succeed())
		Expect(configMapData(ctx, ns, "warn-config")).To(HaveKeyWithValue("greeting", "edited by hand"))
		Expect(metricValue("capstan_release_drifted", map[string]string{"namespace": ns, "name": "warn"})).To(Equal(1.0),
			"drift left in place shows in the metrics")
		Eventually(func() []string { return eventReasons(ctx, ns, "warn") }).Should(ContainElement(capstanv1.DriftDetectedReason))

		Eventually(func() map[string]string { return configMapData(ctx, ns, "fix-config") }).Should(HaveKeyWithValue("greeting", "hello"))
		Eventually(func(g Gomega) {
			g.Expect(condition(getRelease(g, ctx, ns, "fix"), capstanv1.DriftedCondition).Reason).To(Equal(capstanv1.DriftCorrectedReason))
		}).Should(Succeed())
		Expect(records(ctx, ns, "fix")).To(Equal([]string{"v1=deployed"}))
		Expect(eventReasons(ctx, ns, "fix")).To(ContainElement(capstanv1.DriftCorrectedReason))
		Expect(metricValue("capstan_release_drifted", map[string]string{"namespace": ns, "name": "fix"})).To(Equal(0.0),
			"corrected drift is not drift left in place")
	})

	It("installs a Release only after the Releases it depends on are ready, and stalls on a cycle", func(ctx SpecContext) {
		ns := newNamespace(ctx)
		Expect(k8sClient.Create(ctx, demo("app", ns, "1.0.0").DependsOn("db").Obj())).To(Succeed())
		Eventually(func(g Gomega) {
			g.Expect(condition(getRelease(g, ctx, ns, "app"), capstanv1.ReadyCondition).Reason).To(Equal(capstanv1.DependencyNotReadyReason))
		}).Should(Succeed())
		Expect(records(ctx, ns, "app")).To(BeEmpty())

		Expect(k8sClient.Create(ctx, demo("db", ns, "1.0.0").Obj())).To(Succeed())
		db := expectReadyAt(ctx, ns, "db", 1)
		app := expectReadyAt(ctx, ns, "app", 1)
		Expect(record(ctx, ns, "app", 1).Info.FirstDeployed).To(BeTemporally(">=", record(ctx, ns, "db", 1).Info.FirstDeployed.Truncate(time.Second)))
		Expect(db.Status.History[0].FinishedAt.Time).To(BeTemporally("<=", app.Status.History[0].StartedAt.Add(time.Second)))

		By("stalling Releases that depend on each other")
		Expect(k8sClient.Create(ctx, demo("ping", ns, "1.0.0").DependsOn("pong").Obj())).To(Succeed())
		Expect(k8sClient.Create(ctx, demo("pong", ns, "1.0.0").DependsOn("ping").Obj())).To(Succeed())
		rel := expectStalled(ctx, ns, "ping", capstanv1.DependencyNotReadyReason)
		Expect(condition(rel, capstanv1.ReadyCondition).Message).To(ContainSubstring("cycle"))
	})

	It("acts as its service account, and stalls with nothing written when the account lacks rights", func(ctx SpecContext) {
		ns := newNamespace(ctx)
		sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "deployer"}}
		Expect(k8sClient.Create(ctx, sa)).To(Succeed())
		Expect(k8sClient.Create(ctx, demo("imp", ns, "1.0.0").ServiceAccount("deployer").Obj())).To(Succeed())
		rel := expectStalled(ctx, ns, "imp", capstanv1.AccessDeniedReason)
		msg := condition(rel, capstanv1.ReadyCondition).Message
		Expect(msg).To(ContainSubstring(`User "system:serviceaccount:` + ns + `:deployer" cannot list resource "secrets"`))
		expectNothingWritten(ns, "imp", "imp-config")

		By("installing once the account may manage the namespace")
		role := &rbacv1.Role{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "deployer"},
			Rules: []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{"secrets", "configmaps", "services"},
				Verbs: []string{"get", "list", "watch", "create", "update", "patch", "delete"}}},
		}
		Expect(k8sClient.Create(ctx, role)).To(Succeed())
		binding := &rbacv1.RoleBinding{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "deployer"},
			RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: "deployer"},
			Subjects:   []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Name: "deployer", Namespace: ns}},
		}
		Expect(k8sClient.Create(ctx, binding)).To(Succeed())
		update(ctx, ns, "imp", func(r *capstanv1.Release) { r.Spec.Values = rawValues(`{"greeting":"as deployer"}`) })
		expectReadyAt(ctx, ns, "imp", 1)
		var cm corev1.ConfigMap
		Expect(k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: "imp-config"}, &cm)).To(Succeed())
		Expect(cm.ManagedFields).NotTo(BeEmpty())
		Expect(cm.ManagedFields[0].Manager).To(Equal("capstan"))

		By("waiting for a service account that does not exist")
		Expect(k8sClient.Create(ctx, demo("nosa", ns, "1.0.0").ServiceAccount("ghost").Obj())).To(Succeed())
		Eventually(func(g Gomega) {
			g.Expect(condition(getRelease(g, ctx, ns, "nosa"), capstanv1.ReadyCondition).Reason).To(Equal(capstanv1.ServiceAccountNotFoundReason))
		}).Should(Succeed())
	})

	It("runs the hooks of install and upgrade around the apply", func(ctx SpecContext) {
		ns := newNamespace(ctx)
		Expect(k8sClient.Create(ctx, demo("hooked", ns, "1.0.0").Values(map[string]any{"hook": true}).Obj())).To(Succeed())
		expectReadyAt(ctx, ns, "hooked", 1)
		Expect(hookCalls.of(ns, "hooked")).To(Equal([]string{"pre-install:hooked-hook"}))
		Expect(exists(ctx, cmRef(ns, "hooked-hook"))).To(BeFalse(), "hooks are not part of the manifest")
		Expect(record(ctx, ns, "hooked", 1).Hooks).To(HaveLen(1))
		Expect(record(ctx, ns, "hooked", 1).Hooks[0].LastRun.Phase).To(BeEquivalentTo("Succeeded"))

		update(ctx, ns, "hooked", func(r *capstanv1.Release) { r.Spec.Chart.Version = "1.1.0" })
		expectReadyAt(ctx, ns, "hooked", 2)
		Expect(hookCalls.of(ns, "hooked")).To(Equal([]string{"pre-install:hooked-hook", "pre-upgrade:hooked-hook"}))

		By("running none with upgrade.disableHooks")
		update(ctx, ns, "hooked", func(r *capstanv1.Release) {
			r.Spec.Chart.Version = "2.0.0"
			r.Spec.Upgrade = &capstanv1.Upgrade{DisableHooks: true}
		})
		expectReadyAt(ctx, ns, "hooked", 3)
		Expect(hookCalls.of(ns, "hooked")).To(HaveLen(2))
	})
})

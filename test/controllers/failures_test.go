package controllers_test

import (
	"time"

	"github.com/fluxcd/cli-utils/pkg/kstatus/status"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	capstanv1 "github.com/capstan-dev/capstan/api/v1alpha1"
	"github.com/capstan-dev/capstan/internal/apply"
)

// expectNothingWritten checks that a Release that failed before its first revision left no
// record and no object in its namespace.
func expectNothingWritten(ns, name string, objects ...string) {
	ctx := suiteCtx
	Expect(records(ctx, ns, name)).To(BeEmpty())
	for _, o := range objects {
		Expect(exists(ctx, cmRef(ns, o))).To(BeFalse(), "%s must not exist", o)
	}
	for _, w := range calls.writesIn(ns) {
		Expect(w).To(MatchRegexp(`Release|Event`), "only the Release itself (finalizer, status) may be written; got %q", w)
	}
}

var _ = Describe("A Release that cannot be applied", func() {
	It("stalls with the template's message on a render error and writes nothing", func(ctx SpecContext) {
		ns := newNamespace(ctx)
		Expect(k8sClient.Create(ctx, demo("bad", ns, "1.0.0").Values(map[string]any{"failRender": true}).Obj())).To(Succeed())
		rel := expectStalled(ctx, ns, "bad", capstanv1.RenderFailedReason)
		Expect(condition(rel, capstanv1.ReadyCondition).Message).To(ContainSubstring("failRender is set: this chart refuses to render"))
		Expect(condition(rel, capstanv1.ReadyCondition).Message).To(ContainSubstring("demo/templates/fail.yaml"))
		expectNothingWritten(ns, "bad", "bad-config")
		Expect(rel.Status.Failures).To(BeEquivalentTo(1))
		Expect(kstatusOf(Default, rel)).To(Equal(status.FailedStatus), "kstatus reads a stall as Failed")
		Eventually(func() []string { return eventReasons(ctx, ns, "bad") }).Should(ContainElement(capstanv1.RenderFailedReason))

		By("recovering when the spec is fixed")
		update(ctx, ns, "bad", func(r *capstanv1.Release) { r.Spec.Values.Raw = []byte(`{"failRender":false}`) })
		got := expectReadyAt(ctx, ns, "bad", 1)
		Expect(hasCondition(got, capstanv1.StalledCondition)).To(BeFalse())
		Expect(got.Status.Failures).To(BeZero())
	})

	It("stalls with RenderBudgetExceeded on a chart that allocates without bound, writes nothing, and renders it again only for new inputs", func(ctx SpecContext) {
		ns := newNamespace(ctx)
		Expect(k8sClient.Create(ctx, demo("hog", ns, "1.0.0").Values(map[string]any{"allocate": true}).Obj())).To(Succeed())
		rel := expectStalled(ctx, ns, "hog", capstanv1.RenderBudgetExceededReason)
		msg := condition(rel, capstanv1.ReadyCondition).Message
		Expect(msg).To(ContainSubstring("demo/templates/allocate.yaml"))
		Expect(msg).To(ContainSubstring("more than 33554432 bytes (Limits.MaxLiveBytes, the render memory budget)"))
		expectNothingWritten(ns, "hog", "hog-config")
		Eventually(func() []string { return eventReasons(ctx, ns, "hog") }).Should(ContainElement(capstanv1.RenderBudgetExceededReason))

		By("not rendering the same chart and values again when reconciled")
		renders := source.fetchesIn(ns)
		Expect(renders).To(Equal(1))
		before := rel.DeepCopy()
		rel.Annotations = map[string]string{capstanv1.ReconcileRequestAnnotation: "again"}
		Expect(k8sClient.Patch(ctx, rel, client.MergeFrom(before))).To(Succeed())
		Expect(rel.Generation).To(Equal(before.Generation), "an annotation is not a new generation")
		Eventually(func(g Gomega) {
			g.Expect(getRelease(g, ctx, ns, "hog").Status.LastHandledReconcileAt).To(Equal("again"))
		}).Should(Succeed())
		Expect(source.fetchesIn(ns)).To(Equal(renders), "the reconcile stalled without fetching or rendering")
		rel = expectStalled(ctx, ns, "hog", capstanv1.RenderBudgetExceededReason)
		Expect(condition(rel, capstanv1.ReadyCondition).Message).To(Equal(msg))
		expectNothingWritten(ns, "hog", "hog-config")

		By("rendering again when the values change")
		update(ctx, ns, "hog", func(r *capstanv1.Release) { r.Spec.Values.Raw = []byte(`{"allocate":false}`) })
		expectReadyAt(ctx, ns, "hog", 1)
		Expect(source.fetchesIn(ns)).To(BeNumerically(">", renders))
	})

	It("refuses a lookup outside the Release's namespaces", func(ctx SpecContext) {
		ns := newNamespace(ctx)
		Expect(k8sClient.Create(ctx, demo("peek", ns, "1.0.0").Values(map[string]any{"lookupNamespace": "kube-system"}).Obj())).To(Succeed())
		rel := expectStalled(ctx, ns, "peek", capstanv1.RenderFailedReason)
		Expect(condition(rel, capstanv1.ReadyCondition).Message).To(ContainSubstring("lookup of /v1, Kind=ConfigMap in namespace kube-system"))
		expectNothingWritten(ns, "peek", "peek-config")

		By("allowing a lookup in its own namespace")
		update(ctx, ns, "peek", func(r *capstanv1.Release) { r.Spec.Values.Raw = []byte(`{"lookupNamespace":"` + ns + `"}`) })
		expectReadyAt(ctx, ns, "peek", 1)
		Expect(configMapData(ctx, ns, "peek-lookup")).To(HaveKeyWithValue("found", "false"))
	})

	It("writes nothing when the server-side dry-run rejects a field, and names the object and field", func(ctx SpecContext) {
		ns := newNamespace(ctx)
		values := map[string]any{"service": map[string]any{"enabled": true, "port": 700000}}
		Expect(k8sClient.Create(ctx, demo("dry", ns, "1.0.0").Values(values).Obj())).To(Succeed())
		rel := expectStalled(ctx, ns, "dry", capstanv1.DryRunFailedReason)
		msg := condition(rel, capstanv1.ReadyCondition).Message
		Expect(msg).To(ContainSubstring("Service/" + ns + "/dry-svc"))
		Expect(msg).To(ContainSubstring("spec.ports[0].port"))
		expectNothingWritten(ns, "dry", "dry-config")
	})

	It("stalls on an object owned by nobody unless takeOwnership, and adopts it with it", func(ctx SpecContext) {
		ns := newNamespace(ctx)
		foreign := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "own-config"}, Data: map[string]string{"by": "kubectl"}}
		Expect(k8sClient.Create(ctx, foreign)).To(Succeed())
		Expect(k8sClient.Create(ctx, demo("own", ns, "1.0.0").Obj())).To(Succeed())
		rel := expectStalled(ctx, ns, "own", capstanv1.OwnershipConflictReason)
		Expect(condition(rel, capstanv1.ReadyCondition).Message).To(ContainSubstring("ConfigMap/" + ns + "/own-config: exists and is not managed by any release"))
		Expect(records(ctx, ns, "own")).To(BeEmpty())
		Expect(configMapData(ctx, ns, "own-config")).To(Equal(map[string]string{"by": "kubectl"}))

		By("adopting it with install.takeOwnership")
		update(ctx, ns, "own", func(r *capstanv1.Release) { r.Spec.Install = &capstanv1.Install{TakeOwnership: true} })
		expectReadyAt(ctx, ns, "own", 1)
		Expect(configMapData(ctx, ns, "own-config")).To(HaveKeyWithValue("greeting", "hello"))
		Expect(annotationsOf(ctx, ns, "own-config")).To(HaveKeyWithValue(apply.ReleaseAnnotation, ns+"/own"), "the adopted object carries the release's identity")
	})

	It("stalls the second of two Releases claiming one release name, touching nothing", func(ctx SpecContext) {
		ns := newNamespace(ctx)
		Expect(k8sClient.Create(ctx, demo("first", ns, "1.0.0").ReleaseName("shared").Obj())).To(Succeed())
		expectReadyAt(ctx, ns, "first", 1)
		calls.reset(ns)
		Expect(k8sClient.Create(ctx, demo("second", ns, "1.1.0").ReleaseName("shared").
			Values(map[string]any{"greeting": "mine"}).Obj())).To(Succeed())
		rel := expectStalled(ctx, ns, "second", capstanv1.ReleaseNameConflictReason)
		Expect(condition(rel, capstanv1.ReadyCondition).Message).To(ContainSubstring("already managed by Release " + ns + "/first"))
		Expect(records(ctx, ns, "shared")).To(Equal([]string{"v1=deployed"}))
		Expect(configMapData(ctx, ns, "shared-config")).To(HaveKeyWithValue("greeting", "hello"))

		By("deleting the second Release without uninstalling the first's release")
		Expect(k8sClient.Delete(ctx, rel)).To(Succeed())
		Eventually(func() bool {
			return exists(ctx, &capstanv1.Release{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "second"}})
		}).Should(BeFalse())
		Expect(records(ctx, ns, "shared")).To(Equal([]string{"v1=deployed"}))
		Expect(exists(ctx, cmRef(ns, "shared-config"))).To(BeTrue())
		for _, w := range calls.writesIn(ns) {
			Expect(w).NotTo(ContainSubstring("Secret"), "no record was written")
			Expect(w).NotTo(ContainSubstring("shared-config"))
		}
	})

	It("stalls on an immutable-field change unless upgrade.force recreates the object", func(ctx SpecContext) {
		ns := newNamespace(ctx)
		Expect(k8sClient.Create(ctx, demo("imm", ns, "1.0.0").
			Values(map[string]any{"frozen": map[string]any{"enabled": true, "value": "one"}}).Obj())).To(Succeed())
		expectReadyAt(ctx, ns, "imm", 1)

		update(ctx, ns, "imm", func(r *capstanv1.Release) { r.Spec.Values.Raw = []byte(`{"frozen":{"enabled":true,"value":"two"}}`) })
		rel := expectStalled(ctx, ns, "imm", capstanv1.ImmutableFieldChangedReason)
		Expect(condition(rel, capstanv1.ReadyCondition).Message).To(ContainSubstring("ConfigMap/" + ns + "/imm-frozen"))
		Expect(condition(rel, capstanv1.ReadyCondition).Message).To(ContainSubstring("set upgrade.force"))
		Expect(records(ctx, ns, "imm")).To(Equal([]string{"v1=deployed"}), "nothing recorded")
		Expect(configMapData(ctx, ns, "imm-frozen")).To(HaveKeyWithValue("value", "one"))

		By("recreating the object with upgrade.force")
		update(ctx, ns, "imm", func(r *capstanv1.Release) { r.Spec.Upgrade = &capstanv1.Upgrade{Force: true} })
		expectReadyAt(ctx, ns, "imm", 2)
		Expect(configMapData(ctx, ns, "imm-frozen")).To(HaveKeyWithValue("value", "two"))
	})

	It("waits for a ChartRepository that is not ready and for a chart version that does not exist", func(ctx SpecContext) {
		ns := newNamespace(ctx)
		Expect(k8sClient.Create(ctx, demo("ver", ns, "9.9.9").Obj())).To(Succeed())
		Eventually(func(g Gomega) {
			rel := getRelease(g, ctx, ns, "ver")
			g.Expect(condition(rel, capstanv1.ReadyCondition).Reason).To(Equal(capstanv1.ChartVersionNotFoundReason))
			g.Expect(hasCondition(rel, capstanv1.StalledCondition)).To(BeFalse(), "a missing version may appear: waiting, not stalled")
		}).Should(Succeed())

		rel := demo("norepo", ns, "1.0.0").Obj()
		rel.Spec.Chart.RepositoryRef.Name = "missing"
		Expect(k8sClient.Create(ctx, rel)).To(Succeed())
		Eventually(func(g Gomega) {
			g.Expect(condition(getRelease(g, ctx, ns, "norepo"), capstanv1.ReadyCondition).Reason).To(Equal(capstanv1.DependencyNotReadyReason))
		}).Should(Succeed())
		Consistently(func() []string { return records(ctx, ns, "norepo") }, time.Second).Should(BeEmpty())
	})
})

package controllers_test

import (
	"context"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	capstanv1 "github.com/capstan-dev/capstan/api/v1alpha1"
	"github.com/capstan-dev/capstan/internal/storage"
)

// requestTest sets capstan.dev/test to value, as `capstan test` does.
func requestTest(ctx context.Context, ns, name, value string) {
	update(ctx, ns, name, func(r *capstanv1.Release) {
		if r.Annotations == nil {
			r.Annotations = map[string]string{}
		}
		r.Annotations[capstanv1.TestAnnotation] = value
	})
}

// expectTestOutcome waits until the test request value is handled with the given TestSuccess,
// in the same status as the outcome, and returns the Release.
func expectTestOutcome(ctx context.Context, ns, name, value string, status metav1.ConditionStatus) *capstanv1.Release {
	var rel *capstanv1.Release
	Eventually(func(g Gomega) {
		rel = getRelease(g, ctx, ns, name)
		g.Expect(rel.Status.LastHandledTestAt).To(Equal(value))
		g.Expect(condition(rel, capstanv1.ReconcilingCondition).Status).NotTo(Equal(metav1.ConditionTrue))
		test := condition(rel, capstanv1.TestSuccessCondition)
		g.Expect(test.Status).To(Equal(status), "TestSuccess: %s %s", test.Reason, test.Message)
		g.Expect(test.ObservedGeneration).To(Equal(rel.Generation))
	}).Should(Succeed())
	return rel
}

// testRun returns the last run of a revision's test hook.
func testRun(ctx context.Context, ns, name string, revision int, hook string) storage.HookExecution {
	for _, h := range record(ctx, ns, name, revision).Hooks {
		if h.Name == hook {
			return h.LastRun
		}
	}
	Fail("revision has no hook " + hook)
	return storage.HookExecution{}
}

var _ = Describe("Test hooks", func() {
	It("runs the deployed revision's tests on request, records their runs, and reports TestSuccess", func(ctx SpecContext) {
		ns := newNamespace(ctx)
		Expect(k8sClient.Create(ctx, demo("tested", ns, "1.0.0").Values(map[string]any{"tests": "pass"}).Obj())).To(Succeed())
		expectReadyAt(ctx, ns, "tested", 1)
		Expect(condition(getRelease(Default, ctx, ns, "tested"), capstanv1.TestSuccessCondition).Type).To(BeEmpty(),
			"tests run only when asked")
		Expect(hookCalls.of(ns, "tested")).To(BeEmpty())

		requestTest(ctx, ns, "tested", "2026-01-01T00:00:00.000000001Z")
		rel := expectTestOutcome(ctx, ns, "tested", "2026-01-01T00:00:00.000000001Z", metav1.ConditionTrue)
		test := condition(rel, capstanv1.TestSuccessCondition)
		Expect(test.Reason).To(Equal(capstanv1.TestSucceededReason))
		Expect(test.Message).To(Equal("1 test hook(s) of revision 1 passed: tested-passing-test"))
		Expect(condition(rel, capstanv1.ReadyCondition).Status).To(Equal(metav1.ConditionTrue))
		Expect(hookCalls.of(ns, "tested")).To(Equal([]string{"test:tested-passing-test"}))
		Expect(testRun(ctx, ns, "tested", 1, "tested-passing-test").Phase).To(Equal(storage.HookPhaseSucceeded))
		Expect(records(ctx, ns, "tested")).To(Equal([]string{"v1=deployed"}), "a test run makes no revision")
		Expect(eventReasons(ctx, ns, "tested")).To(ContainElement(capstanv1.TestSucceededReason))

		By("not running a handled request again")
		update(ctx, ns, "tested", func(r *capstanv1.Release) { r.Annotations["unrelated"] = "change" })
		Consistently(func() []string { return hookCalls.of(ns, "tested") }, "2s").Should(HaveLen(1))

		By("reporting a failing test by name without touching Ready or the failure counters")
		update(ctx, ns, "tested", func(r *capstanv1.Release) { r.Spec.Values = rawValues(`{"tests":"fail"}`) })
		expectReadyAt(ctx, ns, "tested", 2)
		Expect(condition(getRelease(Default, ctx, ns, "tested"), capstanv1.TestSuccessCondition).Type).To(BeEmpty(),
			"a new revision drops the last revision's outcome")
		requestTest(ctx, ns, "tested", "2026-01-01T00:00:01Z")
		rel = expectTestOutcome(ctx, ns, "tested", "2026-01-01T00:00:01Z", metav1.ConditionFalse)
		test = condition(rel, capstanv1.TestSuccessCondition)
		Expect(test.Reason).To(Equal(capstanv1.TestFailedReason))
		Expect(test.Message).To(HavePrefix("test hook tested-failing-test of revision 2 failed: "))
		Expect(condition(rel, capstanv1.ReadyCondition).Status).To(Equal(metav1.ConditionTrue))
		Expect(rel.Status.Failures).To(BeZero())
		Expect(rel.Status.UpgradeFailures).To(BeZero())
		Expect(testRun(ctx, ns, "tested", 2, "tested-failing-test").Phase).To(Equal(storage.HookPhaseFailed))
		Expect(records(ctx, ns, "tested")).To(Equal([]string{"v1=superseded", "v2=deployed"}))
		Expect(eventReasons(ctx, ns, "tested")).To(ContainElement(capstanv1.TestFailedReason))
	})

	It("runs the tests after every install and upgrade with spec.test.enable", func(ctx SpecContext) {
		ns := newNamespace(ctx)
		rel := demo("auto", ns, "1.0.0").Values(map[string]any{"tests": "pass"}).Obj()
		rel.Spec.Test = &capstanv1.Test{Enable: true}
		Expect(k8sClient.Create(ctx, rel)).To(Succeed())
		Eventually(func(g Gomega) {
			r := getRelease(g, ctx, ns, "auto")
			g.Expect(r.Status.CurrentRevision).To(Equal(1))
			g.Expect(condition(r, capstanv1.TestSuccessCondition).Status).To(Equal(metav1.ConditionTrue))
		}).Should(Succeed())
		Expect(hookCalls.of(ns, "auto")).To(Equal([]string{"test:auto-passing-test"}))

		update(ctx, ns, "auto", func(r *capstanv1.Release) { r.Spec.Chart.Version = "1.1.0" })
		expectReadyAt(ctx, ns, "auto", 2)
		Eventually(func(g Gomega) {
			r := getRelease(g, ctx, ns, "auto")
			g.Expect(condition(r, capstanv1.TestSuccessCondition).Message).To(ContainSubstring("of revision 2 passed"))
		}).Should(Succeed())
		Expect(hookCalls.of(ns, "auto")).To(HaveLen(2))
		Expect(testRun(ctx, ns, "auto", 2, "auto-passing-test").Phase).To(Equal(storage.HookPhaseSucceeded))
	})
})

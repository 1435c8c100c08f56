package operations

import (
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	capstanv1 "github.com/capstan-dev/capstan/api/v1alpha1"
	"github.com/capstan-dev/capstan/internal/storage"
)

var _ = Describe("A health-gated upgrade", func() {
	It("times out on a Deployment that never becomes available and is rolled back automatically to the previous revision's objects", func(ctx SpecContext) {
		const name, timeout = "shop", 20 * time.Second
		ns := newNamespace(ctx, "rollback")

		By("installing revision 1 with a 20s timeout")
		rel := app(name, ns).Values(map[string]any{"color": "blue"}).Obj()
		rel.Spec.Timeout = &metav1.Duration{Duration: timeout}
		Expect(k8sClient.Create(ctx, rel)).To(Succeed())
		expectReadyAt(ctx, ns, name, 1)
		good := expectRolledOut(ctx, ns, name).Spec.Template
		Expect(good.Spec.NodeSelector).To(BeEmpty())

		By("upgrading to values whose pods no node can run, with an extra object")
		started := time.Now()
		update(ctx, ns, name, func(r *capstanv1.Release) {
			r.Spec.Values = appValues(map[string]any{"color": "green", "extra": true,
				"nodeSelector": map[string]any{"capstan.dev/no-such-node": "true"}})
		})

		By("waiting for the upgrade to fail on the health timeout")
		var failed capstanv1.Snapshot
		Eventually(func(g Gomega) {
			r := getRelease(g, ctx, ns, name)
			s := r.Status.History.ByRevision(2)
			g.Expect(s).NotTo(BeNil())
			g.Expect(s.Status).To(Equal(capstanv1.RevisionFailed), s.Message)
			failed = *s
		}).WithContext(ctx).Should(Succeed())
		AddReportEntry("failed revision's message", failed.Message)
		Expect(failed.Action).To(Equal(capstanv1.ActionUpgrade))
		Expect(failed.Message).To(ContainSubstring("Deployment/" + ns + "/" + name))
		// The message says why the Deployment was not ready when time ran out (its rollout), not
		// that the last look at it was cut short by the deadline: condition messages are
		// deterministic (DESIGN §5).
		Expect(failed.Message).NotTo(ContainSubstring("cannot be read"))
		Expect(failed.FinishedAt).NotTo(BeNil())
		// Times in status have whole seconds: the failure came from the timeout, not earlier.
		Expect(failed.FinishedAt.Sub(failed.StartedAt.Time)).To(BeNumerically(">=", timeout-time.Second), failed.Message)
		AddReportEntry("upgrade failed on the health timeout after", since(started))

		By("waiting for the automatic rollback to revision 1")
		var final *capstanv1.Release
		Eventually(func(g Gomega) {
			final = getRelease(g, ctx, ns, name)
			g.Expect(final.Status.CurrentRevision).To(Equal(3))
			g.Expect(final.Status.History.ByRevision(3).Status).To(Equal(capstanv1.RevisionDeployed))
			g.Expect(condition(final, capstanv1.RemediatedCondition).Status).To(Equal(metav1.ConditionTrue))
			g.Expect(condition(final, capstanv1.StalledCondition).Reason).To(Equal(capstanv1.RetriesExhaustedReason))
		}).WithContext(ctx).Should(Succeed())
		AddReportEntry("upgrade to rolled back", since(started))
		Expect(condition(final, capstanv1.RemediatedCondition).Reason).To(Equal(capstanv1.RollbackSucceededReason))
		Expect(final.Status.History.ByRevision(3).Action).To(Equal(capstanv1.ActionRollback))
		Expect(final.Status.RollbackTarget).To(Equal(3))
		Expect(records(ctx, ns, name)).To(Equal([]string{"v1=superseded", "v2=failed", "v3=deployed"}))
		v1, v3 := record(ctx, ns, name, 1), record(ctx, ns, name, 3)
		Expect(v3.Info.RollbackRevision).To(Equal(1))
		Expect(v3.Info.Description).To(Equal("Rollback to 1"))
		Expect(v3.Manifest).To(Equal(v1.Manifest), "the rollback re-applies revision 1's stored manifest")
		Expect(v3.Info.Status).To(Equal(storage.StatusDeployed))
		Expect(eventReasons(ctx, ns, name)).To(ContainElements(capstanv1.UpgradeFailedReason, capstanv1.RollbackSucceededReason))

		By("checking that revision 1's objects are what runs")
		settings, found := configMap(ctx, ns, name+"-settings")
		Expect(found).To(BeTrue())
		Expect(settings.Data).To(Equal(map[string]string{"color": "blue"}))
		_, found = configMap(ctx, ns, name+"-extra")
		Expect(found).To(BeFalse(), "the object only the failed revision had is pruned")
		running := expectRolledOut(ctx, ns, name)
		Expect(running.Spec.Template.Spec.NodeSelector).To(BeEmpty())
		Expect(running.Spec.Template.Annotations).To(Equal(good.Annotations))
		var pods corev1.PodList
		Eventually(func(g Gomega) {
			g.Expect(k8sClient.List(ctx, &pods, client.InNamespace(ns), client.MatchingLabels{"app.kubernetes.io/instance": name})).To(Succeed())
			g.Expect(pods.Items).To(HaveLen(1), "the pending pod of the failed revision is gone")
			g.Expect(pods.Items[0].Status.Phase).To(Equal(corev1.PodRunning))
			g.Expect(pods.Items[0].Spec.NodeName).NotTo(BeEmpty())
			g.Expect(pods.Items[0].Spec.NodeSelector).To(BeEmpty())
		}).WithContext(ctx).Should(Succeed())
	})
})

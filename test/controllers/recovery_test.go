package controllers_test

import (
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	dto "github.com/prometheus/client_model/go"
	"sigs.k8s.io/controller-runtime/pkg/metrics"

	capstanv1 "github.com/capstan-dev/capstan/api/v1alpha1"
	"github.com/capstan-dev/capstan/internal/reconcile"
	"github.com/capstan-dev/capstan/internal/storage"
)

// gaugeValue reads capstan_releases for one state.
func gaugeValue(state string) float64 {
	families, err := metrics.Registry.Gather()
	Expect(err).NotTo(HaveOccurred())
	for _, f := range families {
		if f.GetName() != "capstan_releases" {
			continue
		}
		for _, m := range f.GetMetric() {
			if labelOf(m, "state") == state {
				return m.GetGauge().GetValue()
			}
		}
	}
	return -1
}

func labelOf(m *dto.Metric, name string) string {
	for _, l := range m.GetLabel() {
		if l.GetName() == name {
			return l.GetValue()
		}
	}
	return ""
}

var _ = Describe("A Release under adverse conditions", func() {
	It("writes nothing at all when reconciled again with nothing changed", func(ctx SpecContext) {
		ns := newNamespace(ctx)
		Expect(k8sClient.Create(ctx, demo("quiet", ns, "1.0.0").Interval(time.Second).
			Values(map[string]any{"extra": map[string]any{"enabled": true}}).Obj())).To(Succeed())
		expectReadyAt(ctx, ns, "quiet", 1)
		Eventually(func(g Gomega) {
			g.Expect(condition(getRelease(g, ctx, ns, "quiet"), capstanv1.DriftedCondition).Reason).To(Equal(capstanv1.NoDriftDetectedReason))
		}).Should(Succeed())
		before := getRelease(Default, ctx, ns, "quiet")
		events := len(eventReasons(ctx, ns, "quiet"))
		calls.reset(ns)

		By("letting at least three reconciles pass")
		Eventually(func() int { return calls.listsIn(ns) }, "20s").Should(BeNumerically(">=", 3))
		Expect(calls.writesIn(ns)).To(BeEmpty(), "no Create, Update, Patch, Apply or Delete, in the Release's client or the manager's")
		after := getRelease(Default, ctx, ns, "quiet")
		Expect(after.ResourceVersion).To(Equal(before.ResourceVersion), "the status was not patched")
		Expect(records(ctx, ns, "quiet")).To(Equal([]string{"v1=deployed"}))
		Expect(eventReasons(ctx, ns, "quiet")).To(HaveLen(events), "no event on a no-op reconcile")
	})

	It("marks a revision left pending by a crash failed and carries on without a lost or duplicate revision", func(ctx SpecContext) {
		ns := newNamespace(ctx)
		Expect(k8sClient.Create(ctx, demo("crash", ns, "1.0.0").Obj())).To(Succeed())
		rel := expectReadyAt(ctx, ns, "crash", 1)

		By("leaving revision 2 pending, as a controller killed between the record and the apply would")
		store := storage.NewStore(k8sClient)
		pending := record(ctx, ns, "crash", 1)
		pending.Version = 2
		pending.Info.Status = storage.StatusPendingUpgrade
		pending.Info.Description = "Preparing upgrade"
		pending.Labels = map[string]string{reconcile.ReleaseUIDLabel: string(rel.UID), reconcile.RevisionLabel: "2"}
		Expect(store.Create(ctx, pending)).To(Succeed())

		By("restarting the work with a spec change")
		update(ctx, ns, "crash", func(r *capstanv1.Release) { r.Spec.Chart.Version = "1.1.0" })
		DeferCleanup(func() {
			// This spec once failed in CI with the Release Ready at revision 4 instead of 3, and did
			// not fail again in many runs: if it does, the log says what the records were.
			if CurrentSpecReport().Failed() {
				rel := getRelease(Default, suiteCtx, ns, "crash")
				GinkgoWriter.Printf("records %v\nhistory %+v\nevents %v\n", records(suiteCtx, ns, "crash"),
					rel.Status.History, eventReasons(suiteCtx, ns, "crash"))
			}
		})
		expectReadyAt(ctx, ns, "crash", 3)
		Expect(records(ctx, ns, "crash")).To(Equal([]string{"v1=superseded", "v2=failed", "v3=deployed"}))
		Expect(record(ctx, ns, "crash", 2).Info.Description).To(ContainSubstring("interrupted"))
		Expect(eventReasons(ctx, ns, "crash")).To(ContainElement(capstanv1.PendingRecoveredReason))
		Expect(configMapData(ctx, ns, "crash-config")).To(HaveKeyWithValue("chartVersion", "1.1.0"))
	})

	It("requeues and re-reads when another writer creates the next revision first", func(ctx SpecContext) {
		ns := newNamespace(ctx)
		Expect(k8sClient.Create(ctx, demo("race", ns, "1.0.0").Obj())).To(Succeed())
		expectReadyAt(ctx, ns, "race", 1)

		calls.injectRecordConflicts(ns, 2)
		update(ctx, ns, "race", func(r *capstanv1.Release) { r.Spec.Chart.Version = "1.1.0" })
		got := expectReadyAt(ctx, ns, "race", 2)
		Expect(records(ctx, ns, "race")).To(Equal([]string{"v1=superseded", "v2=deployed"}))
		Expect(got.Status.UpgradeFailures).To(BeZero(), "a conflict is not a failed upgrade")
		Expect(got.Status.Failures).To(BeZero())
	})

	It("counts Releases by state in capstan_releases", func(ctx SpecContext) {
		ns := newNamespace(ctx)
		readyBefore, stalledBefore := gaugeValue(reconcile.StateReady), gaugeValue(reconcile.StateStalled)
		Expect(k8sClient.Create(ctx, demo("m-ok", ns, "1.0.0").Obj())).To(Succeed())
		Expect(k8sClient.Create(ctx, demo("m-bad", ns, "1.0.0").Values(map[string]any{"failRender": true}).Obj())).To(Succeed())
		expectReadyAt(ctx, ns, "m-ok", 1)
		expectStalled(ctx, ns, "m-bad", capstanv1.RenderFailedReason)
		Eventually(func() float64 { return gaugeValue(reconcile.StateReady) }).Should(BeNumerically(">=", readyBefore+1))
		Eventually(func() float64 { return gaugeValue(reconcile.StateStalled) }).Should(BeNumerically(">=", stalledBefore+1))

		By("forgetting a deleted Release")
		stalled := gaugeValue(reconcile.StateStalled)
		Expect(k8sClient.Delete(ctx, getRelease(Default, ctx, ns, "m-bad"))).To(Succeed())
		Eventually(func() float64 { return gaugeValue(reconcile.StateStalled) }).Should(Equal(stalled - 1))
	})
})

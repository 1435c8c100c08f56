package controllers_test

import (
	"fmt"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	capstanv1 "github.com/capstan-dev/capstan/api/v1alpha1"
)

// Health waits do not hold a worker: a Release whose objects are not ready yet parks its action,
// and a change of one of its objects (seen through a watch) or the recheck delay wakes it.
var _ = Describe("Waiting for health", func() {
	// wakeWithin is well under the 2-minute recheck of a watched wait: a Release that becomes Ready
	// this fast was woken by the watch.
	const wakeWithin = 10 * time.Second

	gated := func(name, ns string) *capstanv1.Release {
		return demo(name, ns, "1.0.0").Values(map[string]any{"service": map[string]any{"enabled": true}}).Obj()
	}
	touch := func(ctx SpecContext, ns, name string) {
		svc := &corev1.Service{}
		Expect(k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, svc)).To(Succeed())
		base := svc.DeepCopy()
		svc.Annotations = map[string]string{"test.capstan.dev/touched": time.Now().Format(time.RFC3339Nano)}
		Expect(k8sClient.Patch(ctx, svc, client.MergeFrom(base))).To(Succeed())
	}

	It("keeps workers free while more Releases wait than there are workers, and wakes each on a change of its object", func(ctx SpecContext) {
		ns := newNamespace(ctx)
		gates.Store(ns+"/gated-", true)
		DeferCleanup(func() { gates.Delete(ns + "/gated-") })
		const waiting = 6 // more than the suite's 4 workers
		for i := range waiting {
			Expect(k8sClient.Create(ctx, gated(fmt.Sprintf("gated-%d", i), ns))).To(Succeed())
		}
		By("parking every gated install with its record pending and the Release Reconciling")
		for i := range waiting {
			name := fmt.Sprintf("gated-%d", i)
			Eventually(func(g Gomega) {
				g.Expect(records(ctx, ns, name)).To(Equal([]string{"v1=pending-install"}))
				rel := getRelease(g, ctx, ns, name)
				g.Expect(condition(rel, capstanv1.ReconcilingCondition).Status).To(Equal(metav1.ConditionTrue))
				g.Expect(condition(rel, capstanv1.ReadyCondition).Status).To(Equal(metav1.ConditionUnknown))
			}).Should(Succeed())
		}

		By("installing another Release while they all wait")
		Expect(k8sClient.Create(ctx, demo("free", ns, "1.0.0").Obj())).To(Succeed())
		expectReadyAt(ctx, ns, "free", 1)
		for i := range waiting {
			Expect(records(ctx, ns, fmt.Sprintf("gated-%d", i))).To(Equal([]string{"v1=pending-install"}))
		}

		By("waking each Release when its object changes after the gate opened")
		gates.Delete(ns + "/gated-")
		start := time.Now()
		for i := range waiting {
			touch(ctx, ns, fmt.Sprintf("gated-%d-svc", i))
		}
		for i := range waiting {
			name := fmt.Sprintf("gated-%d", i)
			Eventually(func(g Gomega) {
				rel := getRelease(g, ctx, ns, name)
				g.Expect(condition(rel, capstanv1.ReadyCondition).Status).To(Equal(metav1.ConditionTrue))
				g.Expect(rel.Status.ObservedGeneration).To(Equal(rel.Generation))
				g.Expect(rel.Status.History).To(HaveLen(1))
				g.Expect(rel.Status.History[0].FinishedAt).NotTo(BeNil())
			}).WithTimeout(wakeWithin).Should(Succeed())
			Expect(records(ctx, ns, name)).To(Equal([]string{"v1=deployed"}))
		}
		GinkgoWriter.Printf("%d waiting Releases were Ready %s after their objects changed\n", waiting, time.Since(start))
	})

	It("holds installs past --max-waiting-releases in line, writing nothing, and starts them as waits end", func(ctx SpecContext) {
		ns := newNamespace(ctx)
		gates.Store(ns+"/gated-", true)
		DeferCleanup(func() { gates.Delete(ns + "/gated-") })
		const total = suiteMaxWaiting + 2
		started := func(g Gomega) (pending, none int) {
			for i := range total {
				switch recs := records(ctx, ns, fmt.Sprintf("gated-%d", i)); {
				case len(recs) == 0:
					none++
				case recs[0] == "v1=pending-install":
					pending++
				}
			}
			return pending, none
		}
		By("taking every place first")
		for i := range suiteMaxWaiting {
			Expect(k8sClient.Create(ctx, gated(fmt.Sprintf("gated-%d", i), ns))).To(Succeed())
		}
		Eventually(func(g Gomega) {
			pending, _ := started(g)
			g.Expect(pending).To(Equal(suiteMaxWaiting))
		}).Should(Succeed())
		By("creating more while every place is taken: they join the line without reading their records")
		listsFull := calls.listsIn(ns)
		for i := suiteMaxWaiting; i < total; i++ {
			Expect(k8sClient.Create(ctx, gated(fmt.Sprintf("gated-%d", i), ns))).To(Succeed())
		}
		for i := suiteMaxWaiting; i < total; i++ {
			name := fmt.Sprintf("gated-%d", i)
			Eventually(func() []string { return managerLog.lines(ns, `"`+name+`"`, "held: 8 releases are waiting") }).ShouldNot(BeEmpty())
		}
		Expect(calls.listsIn(ns)).To(Equal(listsFull), "a new Release held in line lists no records")

		By("parking as many as the limit allows; the others have no record and no object")
		Eventually(func(g Gomega) {
			pending, none := started(g)
			g.Expect(pending).To(Equal(suiteMaxWaiting))
			g.Expect(none).To(Equal(total - suiteMaxWaiting))
		}).Should(Succeed())
		Consistently(func(g Gomega) {
			pending, _ := started(g)
			g.Expect(pending).To(Equal(suiteMaxWaiting))
		}).WithTimeout(2 * time.Second).Should(Succeed())
		var heldOnes []string
		for i := range total {
			name := fmt.Sprintf("gated-%d", i)
			if len(records(ctx, ns, name)) == 0 {
				heldOnes = append(heldOnes, name)
				err := k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: name + "-svc"}, &corev1.Service{})
				Expect(apierrors.IsNotFound(err)).To(BeTrue(), "a held Release applies nothing")
			}
		}

		By("reconciling a held Release again while every place is taken: it reads nothing")
		lists := calls.listsIn(ns)
		heldLines := func(name string) int { return len(managerLog.lines(ns, `"`+name+`"`, "held: 8 releases are waiting")) }
		before := map[string]int{}
		for _, name := range heldOnes {
			before[name] = heldLines(name)
			update(ctx, ns, name, func(r *capstanv1.Release) { r.Annotations = map[string]string{"touched": "yes"} })
		}
		for _, name := range heldOnes {
			Eventually(func() int { return heldLines(name) }).Should(BeNumerically(">", before[name]),
				"the touched Release was reconciled and is still held")
		}
		Expect(calls.listsIn(ns)).To(Equal(lists), "no record list for the held ones")

		By("installing the held ones as the parked ones conclude")
		gates.Delete(ns + "/gated-")
		for i := range total {
			if svc := fmt.Sprintf("gated-%d-svc", i); k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: svc}, &corev1.Service{}) == nil {
				touch(ctx, ns, svc)
			}
		}
		for i := range total {
			expectReadyAt(ctx, ns, fmt.Sprintf("gated-%d", i), 1)
		}
	})

	It("fails the revision when the timeout runs out while it is parked", func(ctx SpecContext) {
		ns := newNamespace(ctx)
		gates.Store(ns+"/slow-svc", true)
		DeferCleanup(func() { gates.Delete(ns + "/slow-svc") })
		rel := gated("slow", ns)
		rel.Spec.Timeout = &metav1.Duration{Duration: 3 * time.Second}
		Expect(k8sClient.Create(ctx, rel)).To(Succeed())
		Eventually(func(g Gomega) {
			got := getRelease(g, ctx, ns, "slow")
			g.Expect(condition(got, capstanv1.ReadyCondition).Status).To(Equal(metav1.ConditionFalse))
			released := condition(got, capstanv1.ReleasedCondition)
			g.Expect(released.Reason).To(Equal(capstanv1.InstallFailedReason))
			g.Expect(released.Message).To(ContainSubstring("timed out after 3s waiting for 1 of 2 objects to become ready: Service/" + ns + "/slow-svc"))
		}).WithTimeout(wakeWithin).Should(Succeed())
		Expect(records(ctx, ns, "slow")).To(Equal([]string{"v1=failed"}))
	})

	It("lets a Release deleted while it waits uninstall at once", func(ctx SpecContext) {
		ns := newNamespace(ctx)
		gates.Store(ns+"/gone-", true)
		DeferCleanup(func() { gates.Delete(ns + "/gone-") })
		Expect(k8sClient.Create(ctx, gated("gone", ns))).To(Succeed())
		Eventually(func() []string { return records(ctx, ns, "gone") }).Should(Equal([]string{"v1=pending-install"}))
		Expect(k8sClient.Delete(ctx, gated("gone", ns))).To(Succeed())
		Eventually(func() bool {
			return exists(ctx, &capstanv1.Release{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "gone"}})
		}).WithTimeout(wakeWithin).Should(BeFalse())
		Expect(records(ctx, ns, "gone")).To(BeEmpty())
		Expect(exists(ctx, &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "gone-svc"}})).To(BeFalse())
	})
})

package api_test

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	capstanv1 "github.com/capstan-dev/capstan/api/v1alpha1"
)

var _ = Describe("Status subresource", func() {
	var ns string
	BeforeEach(func(ctx SpecContext) { ns = newNamespace(ctx) })

	get := func(ctx SpecContext, key client.ObjectKey) *capstanv1.Release {
		rel := &capstanv1.Release{}
		Expect(k8sClient.Get(ctx, key, rel)).To(Succeed())
		return rel
	}

	It("ignores status in a spec update and spec in a status update", func(ctx SpecContext) {
		obj := releaseObj(ns, "web")
		Expect(k8sClient.Create(ctx, obj)).To(Succeed())
		key := client.ObjectKeyFromObject(obj)
		created := get(ctx, key)
		Expect(created.Generation).To(Equal(int64(1)))

		By("updating the spec with a changed status in the same object")
		rel := created.DeepCopy()
		rel.Spec.Chart.Version = "~2.0"
		rel.Status.ChartName = "smuggled"
		Expect(k8sClient.Update(ctx, rel)).To(Succeed())
		afterSpec := get(ctx, key)
		Expect(afterSpec.Spec.Chart.Version).To(Equal("~2.0"))
		Expect(afterSpec.Status.ChartName).To(BeEmpty())
		Expect(afterSpec.Generation).To(Equal(int64(2)))

		By("updating the status with a changed spec in the same object")
		rel = afterSpec.DeepCopy()
		rel.Spec.Chart.Version = "~3.0"
		rel.Status.ObservedGeneration = afterSpec.Generation
		rel.Status.ChartName = "hello"
		rel.Status.CurrentRevision = 2
		rel.Status.History = capstanv1.History{{
			Revision: 2, Action: capstanv1.ActionUpgrade, Status: capstanv1.RevisionDeployed,
			ChartName: "hello", ChartVersion: "2.0.1", StartedAt: metav1.Now(),
		}}
		rel.Status.Inventory = capstanv1.NewInventory(capstanv1.InventoryEntry{ID: ns + "_web_apps_Deployment", Version: "v1"})
		rel.SetConditions([]metav1.Condition{{
			Type: capstanv1.ReadyCondition, Status: metav1.ConditionTrue, Reason: capstanv1.UpgradeSucceededReason,
			Message: "upgraded to 2.0.1", LastTransitionTime: metav1.Now(),
		}})
		Expect(k8sClient.Status().Update(ctx, rel)).To(Succeed())
		afterStatus := get(ctx, key)
		Expect(afterStatus.Spec.Chart.Version).To(Equal("~2.0"))
		Expect(afterStatus.Generation).To(Equal(int64(2)), "a status write does not bump the generation")
		Expect(afterStatus.Status.ObservedGeneration).To(Equal(int64(2)))
		Expect(afterStatus.Status.CurrentRevision).To(Equal(2))
		Expect(afterStatus.Status.History.Latest().ChartVersion).To(Equal("2.0.1"))
		Expect(afterStatus.Status.Inventory.Len()).To(Equal(1))
	})

	It("validates status writes too", func(ctx SpecContext) {
		obj := releaseObj(ns, "web")
		Expect(k8sClient.Create(ctx, obj)).To(Succeed())
		rel := get(ctx, client.ObjectKeyFromObject(obj))
		rel.Status.History = capstanv1.History{{Revision: 0, Action: "explode", Status: capstanv1.RevisionDeployed, ChartName: "x", ChartVersion: "1"}}
		err := k8sClient.Status().Update(ctx, rel)
		expectInvalid(Default, err, "status.history[0].action", `Unsupported value: "explode"`)
		expectInvalid(Default, err, "status.history[0].revision", "greater than or equal to 1")
	})

	It("starts a ChartRepository's observedGeneration at -1 and lets status move it", func(ctx SpecContext) {
		obj := repoObj(ns, "examples")
		Expect(k8sClient.Create(ctx, obj)).To(Succeed())
		repo := &capstanv1.ChartRepository{}
		Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(obj), repo)).To(Succeed())
		Expect(repo.Status.ObservedGeneration).To(Equal(int64(-1)))

		repo.Status.ObservedGeneration = repo.Generation
		repo.Status.URL = repo.Spec.URL
		Expect(k8sClient.Status().Update(ctx, repo)).To(Succeed())
		Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(obj), repo)).To(Succeed())
		Expect(repo.Status.ObservedGeneration).To(Equal(int64(1)))
		Expect(repo.Status.URL).To(Equal("https://charts.example.com/stable"))
	})
})

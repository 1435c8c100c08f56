package api_test

import (
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	capstanv1 "github.com/capstan-dev/capstan/api/v1alpha1"
)

var _ = Describe("Defaults", func() {
	var ns string
	BeforeEach(func(ctx SpecContext) { ns = newNamespace(ctx) })

	It("fills a minimal Release's defaults in the schema", func(ctx SpecContext) {
		obj := releaseObj(ns, "web", set("spec.valuesFrom", valuesFrom(1)), set("spec.kubeConfig", kubeConfig("edge", "")))
		Expect(k8sClient.Create(ctx, obj)).To(Succeed())

		rel := &capstanv1.Release{}
		Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(obj), rel)).To(Succeed())
		Expect(rel.Spec.Interval).To(Equal(&metav1.Duration{Duration: 10 * time.Minute}))
		Expect(rel.Spec.Timeout).To(Equal(&metav1.Duration{Duration: 5 * time.Minute}))
		Expect(rel.Spec.MaxHistory).To(HaveValue(Equal(10)))
		Expect(rel.Spec.Chart.Version).To(Equal("*"))
		Expect(rel.Spec.ValuesFrom[0].Key).To(Equal("values.yaml"))
		Expect(rel.Spec.KubeConfig.SecretRef.Key).To(Equal(capstanv1.DefaultKubeConfigKey))
		Expect(rel.Spec.KubeConfig.SecretRef.GetKey()).To(Equal((&capstanv1.SecretKeyReference{}).GetKey()), "the getter agrees")
		Expect(rel.Status.ObservedGeneration).To(Equal(int64(-1)))
		Expect(rel.Spec.ReleaseName).To(BeEmpty(), "releaseName defaults in the getter, not in the schema")
	})

	It("fills the defaults of empty option blocks", func(ctx SpecContext) {
		empty := map[string]any{}
		obj := releaseObj(ns, "web",
			set("spec.install", empty), set("spec.upgrade", empty), set("spec.uninstall", empty),
			set("spec.driftDetection", empty))
		Expect(k8sClient.Create(ctx, obj)).To(Succeed())

		rel := &capstanv1.Release{}
		Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(obj), rel)).To(Succeed())
		Expect(rel.Spec.Install.CRDs).To(Equal(capstanv1.CRDsCreate))
		Expect(rel.Spec.Upgrade.CRDs).To(Equal(capstanv1.CRDsSkip))
		Expect(rel.Spec.Uninstall.DeletionPropagation).To(Equal(capstanv1.PropagationBackground))
		Expect(rel.Spec.DriftDetection.Mode).To(Equal(capstanv1.DriftDetectionWarn))
	})

	It("agrees with the getters, which hold the same defaults for objects never sent to the apiserver", func(ctx SpecContext) {
		local := &capstanv1.Release{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: ns}}
		local.Spec.Chart = capstanv1.ChartTemplate{Name: "hello", RepositoryRef: capstanv1.RepositoryReference{Name: "examples"}}
		local.Spec.Install, local.Spec.Upgrade = &capstanv1.Install{}, &capstanv1.Upgrade{Conflicts: &capstanv1.Conflicts{}}
		local.Spec.Uninstall, local.Spec.DriftDetection = &capstanv1.Uninstall{}, &capstanv1.DriftDetection{}
		stored := local.DeepCopy()
		Expect(k8sClient.Create(ctx, stored)).To(Succeed())

		Expect(stored.GetInterval()).To(Equal(local.GetInterval()))
		Expect(stored.GetTimeout()).To(Equal(local.GetTimeout()))
		Expect(stored.GetMaxHistory()).To(Equal(local.GetMaxHistory()))
		Expect(stored.GetChartVersion()).To(Equal(local.GetChartVersion()))
		Expect(stored.GetInstallCRDs()).To(Equal(local.GetInstallCRDs()))
		Expect(stored.GetUpgradeCRDs()).To(Equal(local.GetUpgradeCRDs()))
		Expect(stored.GetDeletionPropagation()).To(Equal(local.GetDeletionPropagation()))
		Expect(stored.GetDriftMode()).To(Equal(local.GetDriftMode()))
		Expect(stored.GetConflictPolicy()).To(Equal(local.GetConflictPolicy()))
		Expect(stored.Spec.Upgrade.Conflicts.Policy).To(Equal(capstanv1.ConflictFail))
		Expect(stored.Spec.Interval).NotTo(BeNil(), "the create response carries the schema defaults")
	})

	It("fills a minimal ChartRepository's defaults", func(ctx SpecContext) {
		obj := repoObj(ns, "examples")
		Expect(k8sClient.Create(ctx, obj)).To(Succeed())

		repo := &capstanv1.ChartRepository{}
		Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(obj), repo)).To(Succeed())
		Expect(repo.Spec.Interval).To(Equal(&metav1.Duration{Duration: 10 * time.Minute}))
		Expect(repo.Spec.Timeout).To(Equal(&metav1.Duration{Duration: 60 * time.Second}))
		Expect(repo.Status.ObservedGeneration).To(Equal(int64(-1)))
		Expect(repo.GetInterval()).To(Equal((&capstanv1.ChartRepository{}).GetInterval()))
		Expect(repo.GetTimeout()).To(Equal((&capstanv1.ChartRepository{}).GetTimeout()))
	})
})

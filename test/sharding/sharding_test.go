package sharding_test

import (
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	capstanv1 "github.com/capstan-dev/capstan/api/v1alpha1"
	"github.com/capstan-dev/capstan/internal/options"
	ts "github.com/capstan-dev/capstan/internal/testsupport"
)

const ns = "sharded"

// labelled sets the shard label on obj; an empty shard leaves it unlabelled.
func labelled[T client.Object](obj T, shard string) T {
	if shard != "" {
		obj.SetLabels(map[string]string{options.ShardLabel: shard})
	}
	return obj
}

var _ = Describe("Two managers sharded by --watch-label-selector", func() {
	It("each reconciles only its own Releases and ChartRepositories, with its own leader", func(ctx SpecContext) {
		kube := ts.Kube{Client: k8sClient}
		Expect(k8sClient.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}})).To(Succeed())
		shard1 := startShard(options.ShardLabel + "=shard1")
		rest := startShard("!" + options.ShardLabel)

		for _, obj := range []client.Object{
			labelled(ts.MakeChartRepository("repo-one", ns, chartURL).Obj(), "shard1"),
			labelled(ts.MakeChartRepository("repo-rest", ns, chartURL).Obj(), ""),
			labelled(ts.MakeRelease("one", ns).Chart("repo-one", "note", "1.x").Values(map[string]any{"shard": "1"}).Obj(), "shard1"),
			labelled(ts.MakeRelease("plain", ns).Chart("repo-rest", "note", "1.x").Obj(), ""),
			// A Release of shard1 using the other shard's repository.
			labelled(ts.MakeRelease("cross", ns).Chart("repo-rest", "note", "1.x").Obj(), "shard1"),
			// No manager watches shard3.
			labelled(ts.MakeRelease("orphan", ns).Chart("repo-one", "note", "1.x").Obj(), "shard3"),
		} {
			Expect(k8sClient.Create(ctx, obj)).To(Succeed())
		}

		for _, name := range []string{"one", "plain", "cross"} {
			kube.ExpectReadyAt(ctx, ns, name, 1)
			Expect(kube.Exists(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}})).To(BeTrue(), name)
		}
		Consistently(func(g Gomega) {
			orphan := kube.Release(g, ctx, ns, "orphan")
			g.Expect(orphan.Finalizers).To(BeEmpty())
			g.Expect(orphan.Status.Conditions).To(BeEmpty())
			g.Expect(kube.Exists(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "orphan"}})).To(BeFalse())
		}).WithContext(ctx).WithTimeout(3 * time.Second).Should(Succeed())

		Expect(shard1.written.Objects()).To(Equal([]string{
			"ChartRepository " + ns + "/repo-one", "Release " + ns + "/cross", "Release " + ns + "/one",
		}))
		Expect(rest.written.Objects()).To(Equal([]string{
			"ChartRepository " + ns + "/repo-rest", "Release " + ns + "/plain",
		}))

		for _, id := range []string{"capstan.capstan.dev-shard1", "capstan.capstan.dev-default"} {
			lease := &coordinationv1.Lease{}
			Expect(k8sClient.Get(ctx, client.ObjectKey{Namespace: "default", Name: id}, lease)).To(Succeed(), id)
			Expect(lease.Spec.HolderIdentity).NotTo(BeNil(), id)
		}

		By("moving a Release to the other shard by its label")
		kube.Update(ctx, ns, "plain", func(rel *capstanv1.Release) {
			rel.Labels = map[string]string{options.ShardLabel: "shard1"}
			rel.Spec.Values = nil
			rel.Spec.Values = ts.MakeRelease("x", ns).Values(map[string]any{"shard": "moved"}).Obj().Spec.Values
		})
		kube.ExpectReadyAt(ctx, ns, "plain", 2)
		Expect(shard1.written.Objects()).To(ContainElement("Release " + ns + "/plain"))
	}, SpecTimeout(3*time.Minute)) // Eventually with a context waits for the context, not a default timeout
})

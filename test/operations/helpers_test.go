package operations

import (
	"context"
	"encoding/json"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	capstanv1 "github.com/capstan-dev/capstan/api/v1alpha1"
	"github.com/capstan-dev/capstan/internal/storage"
	"github.com/capstan-dev/capstan/internal/testsupport"
)

// repoName is the ChartRepository every spec creates in its namespace.
const repoName = "charts"

// currentNamespace is the namespace of the running spec, for the failure log.
var currentNamespace string

// newNamespace creates a namespace for the current spec with a ChartRepository pointing at the
// chart server, and waits until the ChartRepository controller has made it Ready. When the spec
// ends, its Releases are suspended so that they stop working in the background.
func newNamespace(ctx context.Context, prefix string) string {
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: prefix + "-"}}
	Expect(k8sClient.Create(ctx, ns)).To(Succeed())
	currentNamespace = ns.Name
	DeferCleanup(suspendReleases, ns.Name)
	cr := testsupport.MakeChartRepository(repoName, ns.Name, charts.URL()).Obj()
	Expect(k8sClient.Create(ctx, cr)).To(Succeed())
	Eventually(func(g Gomega) {
		g.Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(cr), cr)).To(Succeed())
		ready := meta.FindStatusCondition(cr.Status.Conditions, capstanv1.ReadyCondition)
		g.Expect(ready).NotTo(BeNil())
		g.Expect(ready.Status).To(Equal(metav1.ConditionTrue), "%s: %s", ready.Reason, ready.Message)
	}).WithContext(ctx).Should(Succeed())
	return ns.Name
}

// suspendReleases suspends every Release of a namespace (best effort: the spec is over).
func suspendReleases(ctx SpecContext, ns string) {
	var list capstanv1.ReleaseList
	if err := k8sClient.List(ctx, &list, client.InNamespace(ns)); err != nil {
		return
	}
	for i := range list.Items {
		rel := &list.Items[i]
		base := rel.DeepCopy()
		rel.Spec.Suspend = true
		_ = k8sClient.Patch(ctx, rel, client.MergeFrom(base))
	}
}

// app starts a Release of the app chart.
func app(name, ns string) *testsupport.ReleaseBuilder {
	return testsupport.MakeRelease(name, ns).Chart(repoName, "app", "1.0.0")
}

// appValues encodes spec.values.
func appValues(v map[string]any) *runtime.RawExtension {
	raw, err := json.Marshal(v)
	Expect(err).NotTo(HaveOccurred())
	return &runtime.RawExtension{Raw: raw}
}

// getRelease reads a Release.
func getRelease(g Gomega, ctx context.Context, ns, name string) *capstanv1.Release {
	return kube().Release(g, ctx, ns, name)
}

// condition returns a condition of a Release, or an empty one.
func condition(rel *capstanv1.Release, typ string) metav1.Condition {
	return testsupport.Condition(rel, typ)
}

// expectReadyAt waits until the Release is Ready for its current generation at a revision.
func expectReadyAt(ctx context.Context, ns, name string, revision int) *capstanv1.Release {
	return kube().ExpectReadyAt(ctx, ns, name, revision)
}

// update changes a Release's spec or metadata, retrying on conflicts.
func update(ctx context.Context, ns, name string, change func(*capstanv1.Release)) {
	kube().Update(ctx, ns, name, change)
}

// records lists a release's revisions as "v<N>=<status>", oldest first.
func records(ctx context.Context, ns, name string) []string {
	return kube().Records(ctx, ns, name)
}

// record reads one revision.
func record(ctx context.Context, ns, name string, version int) *storage.Release {
	return kube().Record(ctx, ns, name, version)
}

// eventReasons lists the reasons of the events about a Release.
func eventReasons(ctx context.Context, ns, name string) []string {
	return kube().EventReasons(ctx, ns, name)
}

// configMap reads a ConfigMap; found is false when it does not exist.
func configMap(ctx context.Context, ns, name string) (cm *corev1.ConfigMap, found bool) {
	cm = &corev1.ConfigMap{}
	err := k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, cm)
	if apierrors.IsNotFound(err) {
		return nil, false
	}
	Expect(err).NotTo(HaveOccurred())
	return cm, true
}

// exists reports whether an object exists.
func exists(ctx context.Context, obj client.Object) bool {
	return kube().Exists(ctx, obj)
}

// expectRolledOut waits until a Deployment has all its replicas updated and available on kwok
// nodes, and returns it.
func expectRolledOut(ctx context.Context, ns, name string) *appsv1.Deployment {
	dep := &appsv1.Deployment{}
	Eventually(func(g Gomega) {
		g.Expect(k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, dep)).To(Succeed())
		want := ptrValue(dep.Spec.Replicas, 1)
		g.Expect(dep.Status.ObservedGeneration).To(Equal(dep.Generation))
		g.Expect(dep.Status.UpdatedReplicas).To(Equal(want))
		g.Expect(dep.Status.AvailableReplicas).To(Equal(want))
		g.Expect(dep.Status.Replicas).To(Equal(want), "old pods are gone")
	}).WithContext(ctx).Should(Succeed())
	return dep
}

// ptrValue dereferences p, or returns def for nil.
func ptrValue[T any](p *T, def T) T {
	if p == nil {
		return def
	}
	return *p
}

// since returns how long ago start was, rounded for the report.
func since(start time.Time) time.Duration {
	return time.Since(start).Round(100 * time.Millisecond)
}

// kube gives the shared Release helpers over the suite's client.
func kube() testsupport.Kube { return testsupport.Kube{Client: k8sClient} }

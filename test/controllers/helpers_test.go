package controllers_test

import (
	"context"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	capstanv1 "github.com/capstan-dev/capstan/api/v1alpha1"
	"github.com/capstan-dev/capstan/internal/storage"
	"github.com/capstan-dev/capstan/internal/testsupport"
)

// repoName is the ChartRepository every spec creates in its namespace.
const repoName = "charts"

// newNamespace creates a namespace for the current spec, with a Ready ChartRepository pointing
// at the local chart server.
func newNamespace(ctx context.Context) string {
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "rel-"}}
	Expect(k8sClient.Create(ctx, ns)).To(Succeed())
	cr := testsupport.MakeChartRepository(repoName, ns.Name, charts.URL()).Obj()
	Expect(k8sClient.Create(ctx, cr)).To(Succeed())
	cr.Status = testsupport.ReadyStatus(cr.Generation)
	Expect(k8sClient.Status().Update(ctx, cr)).To(Succeed())
	return ns.Name
}

// demo starts a Release of the demo chart.
func demo(name, ns, version string) *testsupport.ReleaseBuilder {
	return testsupport.MakeRelease(name, ns).Chart(repoName, "demo", version)
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

// expectStalled waits until the Release is Stalled with a reason, and returns it.
func expectStalled(ctx context.Context, ns, name, reason string) *capstanv1.Release {
	var rel *capstanv1.Release
	Eventually(func(g Gomega) {
		rel = getRelease(g, ctx, ns, name)
		stalled := condition(rel, capstanv1.StalledCondition)
		g.Expect(stalled.Status).To(Equal(metav1.ConditionTrue), "Ready: %v", condition(rel, capstanv1.ReadyCondition))
		g.Expect(stalled.Reason).To(Equal(reason))
		g.Expect(condition(rel, capstanv1.ReadyCondition).Status).To(Equal(metav1.ConditionFalse))
		g.Expect(rel.Status.ObservedGeneration).To(Equal(rel.Generation))
	}).Should(Succeed())
	return rel
}

// records lists a release's revisions as "v<N>=<status>".
func records(ctx context.Context, ns, name string) []string {
	return kube().Records(ctx, ns, name)
}

// record reads one revision.
func record(ctx context.Context, ns, name string, version int) *storage.Release {
	return kube().Record(ctx, ns, name, version)
}

// configMapData reads a ConfigMap's data, or nil when it does not exist.
func configMapData(ctx context.Context, ns, name string) map[string]string {
	var cm corev1.ConfigMap
	err := k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, &cm)
	if apierrors.IsNotFound(err) {
		return nil
	}
	Expect(err).NotTo(HaveOccurred())
	return cm.Data
}

// exists reports whether an object exists.
func exists(ctx context.Context, obj client.Object) bool {
	return kube().Exists(ctx, obj)
}

// update changes a Release with retries on conflicts.
func update(ctx context.Context, ns, name string, change func(*capstanv1.Release)) {
	kube().Update(ctx, ns, name, change)
}

// eventReasons lists the reasons of the events about a Release.
func eventReasons(ctx context.Context, ns, name string) []string {
	return kube().EventReasons(ctx, ns, name)
}

// cmRef is a ConfigMap reference for exists.
func cmRef(ns, name string) *corev1.ConfigMap {
	return &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}}
}

// rawValues returns spec.values from JSON text.
func rawValues(js string) *runtime.RawExtension {
	return &runtime.RawExtension{Raw: []byte(js)}
}

// kube gives the shared Release helpers over the suite's client.
func kube() testsupport.Kube { return testsupport.Kube{Client: k8sClient} }

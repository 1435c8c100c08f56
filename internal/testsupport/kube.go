package testsupport

import (
	"context"
	"strconv"

	"github.com/onsi/gomega"
	eventsv1 "k8s.io/api/events/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	capstanv1 "github.com/capstan-dev/capstan/api/v1alpha1"
	"github.com/capstan-dev/capstan/internal/storage"
)

// Kube holds the reads and waits that Release test suites share, over one client. Its methods
// fail the running spec through Gomega.
type Kube struct{ Client client.Client }

// Release reads a Release.
func (k Kube) Release(g gomega.Gomega, ctx context.Context, ns, name string) *capstanv1.Release {
	rel := &capstanv1.Release{}
	g.Expect(k.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, rel)).To(gomega.Succeed())
	return rel
}

// Condition returns a condition of a Release, or an empty one.
func Condition(rel *capstanv1.Release, typ string) metav1.Condition {
	if c := meta.FindStatusCondition(rel.Status.Conditions, typ); c != nil {
		return *c
	}
	return metav1.Condition{}
}

// ExpectReadyAt waits until the Release is Ready for its current generation at a revision.
func (k Kube) ExpectReadyAt(ctx context.Context, ns, name string, revision int) *capstanv1.Release {
	var rel *capstanv1.Release
	gomega.Eventually(func(g gomega.Gomega) {
		rel = k.Release(g, ctx, ns, name)
		ready := Condition(rel, capstanv1.ReadyCondition)
		g.Expect(ready.Status).To(gomega.Equal(metav1.ConditionTrue), "Ready: %s %s; Released: %s", ready.Reason, ready.Message,
			Condition(rel, capstanv1.ReleasedCondition).Message)
		g.Expect(rel.Status.ObservedGeneration).To(gomega.Equal(rel.Generation))
		g.Expect(rel.Status.CurrentRevision).To(gomega.Equal(revision))
	}).WithContext(ctx).Should(gomega.Succeed())
	return rel
}

// Update changes a Release's spec or metadata, retrying on conflicts.
func (k Kube) Update(ctx context.Context, ns, name string, change func(*capstanv1.Release)) {
	gomega.Eventually(func(g gomega.Gomega) {
		rel := k.Release(g, ctx, ns, name)
		change(rel)
		g.Expect(k.Client.Update(ctx, rel)).To(gomega.Succeed())
	}).WithContext(ctx).Should(gomega.Succeed())
}

// Records lists a release's revisions as "v<N>=<status>", oldest first.
func (k Kube) Records(ctx context.Context, ns, name string) []string {
	rels, err := storage.NewStore(k.Client).List(ctx, ns, name)
	gomega.Expect(err).NotTo(gomega.HaveOccurred())
	out := make([]string, 0, len(rels))
	for _, r := range rels {
		out = append(out, "v"+strconv.Itoa(r.Version)+"="+string(r.Info.Status))
	}
	return out
}

// Record reads one revision.
func (k Kube) Record(ctx context.Context, ns, name string, version int) *storage.Release {
	rel, err := storage.NewStore(k.Client).Get(ctx, ns, name, version)
	gomega.Expect(err).NotTo(gomega.HaveOccurred())
	return rel
}

// EventReasons lists the reasons of the events about a Release.
func (k Kube) EventReasons(ctx context.Context, ns, name string) []string {
	var list eventsv1.EventList
	gomega.Expect(k.Client.List(ctx, &list, client.InNamespace(ns))).To(gomega.Succeed())
	var out []string
	for _, e := range list.Items {
		if e.Regarding.Kind == capstanv1.ReleaseKind && e.Regarding.Name == name {
			out = append(out, e.Reason)
		}
	}
	return out
}

// Exists reports whether an object exists, reading it into obj when it does.
func (k Kube) Exists(ctx context.Context, obj client.Object) bool {
	err := k.Client.Get(ctx, client.ObjectKeyFromObject(obj), obj)
	if apierrors.IsNotFound(err) {
		return false
	}
	gomega.Expect(err).NotTo(gomega.HaveOccurred())
	return true
}

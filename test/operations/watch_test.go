package operations

import (
	"cmp"
	"context"
	"slices"
	"strconv"
	"strings"
	"sync"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// seen is one watch event about one object.
type seen struct {
	Type watch.EventType
	Kind string
	Name string
	UID  types.UID
	// RV is the object's resourceVersion at the event. The test cluster's resourceVersions are
	// etcd revisions, one counter for every kind, so they order events across watches.
	RV  int64
	Obj client.Object
}

// String is "ADDED ConfigMap/name", for failure messages.
func (s seen) String() string { return string(s.Type) + " " + s.Kind + "/" + s.Name }

// recorder keeps every event of some kinds in one namespace, from before the spec acts, so the
// order in which the controller wrote objects can be asserted afterwards.
type recorder struct {
	mu     sync.Mutex
	events []seen
	closed []string
}

// recordEvents starts one watch per kind (kind name → empty list of that kind) in ns. The
// watches stop when the spec ends.
func recordEvents(ctx context.Context, ns string, kinds map[string]client.ObjectList) *recorder {
	r := &recorder{}
	for kind, list := range kinds {
		w, err := k8sClient.Watch(ctx, list, client.InNamespace(ns))
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(w.Stop)
		go r.follow(kind, w)
	}
	return r
}

func (r *recorder) follow(kind string, w watch.Interface) {
	for ev := range w.ResultChan() {
		obj, ok := ev.Object.(client.Object)
		if !ok || ev.Type == watch.Bookmark || ev.Type == watch.Error {
			continue
		}
		rv, _ := strconv.ParseInt(obj.GetResourceVersion(), 10, 64)
		r.mu.Lock()
		r.events = append(r.events, seen{Type: ev.Type, Kind: kind, Name: obj.GetName(), UID: obj.GetUID(), RV: rv, Obj: obj})
		r.mu.Unlock()
	}
	r.mu.Lock()
	r.closed = append(r.closed, kind)
	r.mu.Unlock()
}

// Events returns what was seen so far, ordered by resourceVersion, keeping those that match.
func (r *recorder) Events(keep func(seen) bool) []seen {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]seen, 0, len(r.events))
	for _, e := range r.events {
		if keep == nil || keep(e) {
			out = append(out, e)
		}
	}
	slices.SortStableFunc(out, func(a, b seen) int { return cmp.Compare(a.RV, b.RV) })
	return out
}

// After returns the events after resourceVersion rv whose object name starts with prefix,
// as strings.
func (r *recorder) After(rv int64, prefix string) []string {
	var out []string
	for _, e := range r.Events(func(e seen) bool { return e.RV > rv && strings.HasPrefix(e.Name, prefix) }) {
		out = append(out, e.String())
	}
	return out
}

// clusterRV returns the cluster's current resourceVersion (a consistent list's), to mark a moment
// for recorder.After.
func clusterRV(ctx context.Context, ns string) int64 {
	var list corev1.ConfigMapList
	Expect(k8sClient.List(ctx, &list, client.InNamespace(ns))).To(Succeed())
	rv, err := strconv.ParseInt(list.ResourceVersion, 10, 64)
	Expect(err).NotTo(HaveOccurred())
	return rv
}

// Closed lists the kinds whose watch ended before the spec did.
func (r *recorder) Closed() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.closed)
}

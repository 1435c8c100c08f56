package scale

import (
	"context"
	"fmt"
	"sync"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime"
	toolscache "k8s.io/client-go/tools/cache"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	capstanv1 "github.com/capstan-dev/capstan/api/v1alpha1"
)

// readyAt tells whether obj is ready for a generation of at least minGen.
type readyAt func(obj client.Object, minGen int64) bool

// releaseReady is kubectl wait --for=condition=Ready: Ready=True, observed at a generation of at
// least minGen.
func releaseReady(obj client.Object, minGen int64) bool {
	rel, ok := obj.(*capstanv1.Release)
	if !ok {
		return false
	}
	c := apimeta.FindStatusCondition(rel.Status.Conditions, "Ready")
	return c != nil && c.Status == "True" && c.ObservedGeneration >= minGen && c.ObservedGeneration == rel.Generation
}

// deploymentAvailable is a finished rollout: the status describes a generation of at least
// minGen, every replica is updated and available, and Available=True.
func deploymentAvailable(obj client.Object, minGen int64) bool {
	d, ok := obj.(*appsv1.Deployment)
	if !ok {
		return false
	}
	want := int32(1)
	if d.Spec.Replicas != nil {
		want = *d.Spec.Replicas
	}
	s := d.Status
	if s.ObservedGeneration < minGen || s.ObservedGeneration != d.Generation ||
		s.UpdatedReplicas != want || s.AvailableReplicas != want || s.Replicas != want {
		return false
	}
	for _, c := range s.Conditions {
		if c.Type == appsv1.DeploymentAvailable {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// expectation is one object the tracker waits for.
type expectation struct {
	minGen  int64
	started time.Time
	took    time.Duration
	done    bool
}

// tracker watches one kind in one namespace through an informer and records, for each expected
// object, how long after its start it was first seen ready.
type tracker struct {
	mu      sync.Mutex
	ready   readyAt
	want    map[string]*expectation
	pending int
	changed chan struct{}
	reader  client.Reader
	kind    client.Object
	ns      string
}

// startTracker starts an informer on objects like kind in ns.
func startTracker(ctx context.Context, c cache.Cache, kind client.Object, ns string, ready readyAt) (*tracker, error) {
	t := &tracker{ready: ready, want: map[string]*expectation{}, changed: make(chan struct{}, 1), reader: c, kind: kind, ns: ns}
	inf, err := c.GetInformer(ctx, kind)
	if err != nil {
		return nil, err
	}
	_, err = inf.AddEventHandler(toolscache.ResourceEventHandlerFuncs{
		AddFunc:    func(obj any) { t.observe(obj) },
		UpdateFunc: func(_, obj any) { t.observe(obj) },
	})
	return t, err
}

func (t *tracker) observe(obj any) {
	o, ok := obj.(client.Object)
	if !ok || o.GetNamespace() != t.ns {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	e := t.want[o.GetName()]
	if e == nil || e.done || !t.ready(o, e.minGen) {
		return
	}
	e.done, e.took = true, time.Since(e.started)
	t.pending--
	select {
	case t.changed <- struct{}{}:
	default:
	}
}

// expect starts the clock for name, which counts as ready once ready(obj, minGen) holds.
func (t *tracker) expect(name string, minGen int64, started time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if e := t.want[name]; e != nil && !e.done {
		t.pending--
	}
	t.want[name] = &expectation{minGen: minGen, started: started}
	t.pending++
}

// reset forgets every expectation.
func (t *tracker) reset() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.want, t.pending = map[string]*expectation{}, 0
}

// generations returns the current generation of every object of the namespace in the cache.
func (t *tracker) generations(ctx context.Context, list client.ObjectList) (map[string]int64, error) {
	if err := t.reader.List(ctx, list, client.InNamespace(t.ns)); err != nil {
		return nil, err
	}
	out := map[string]int64{}
	err := apimeta.EachListItem(list, func(o runtime.Object) error {
		if obj, ok := o.(client.Object); ok {
			out[obj.GetName()] = obj.GetGeneration()
		}
		return nil
	})
	return out, err
}

// wait blocks until every expected object is ready or timeout passes, printing progress every
// 30 seconds, and returns how long each took.
func (t *tracker) wait(ctx context.Context, what string, timeout time.Duration) ([]time.Duration, error) {
	start := time.Now()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	progress := time.NewTicker(30 * time.Second)
	defer progress.Stop()
	for {
		t.mu.Lock()
		pending, total := t.pending, len(t.want)
		t.mu.Unlock()
		if pending == 0 {
			return t.durations(), nil
		}
		select {
		case <-t.changed:
		case <-progress.C:
			fmt.Printf("  %s: %d/%d ready after %s\n", what, total-pending, total, time.Since(start).Round(time.Second))
		case <-deadline.C:
			return nil, fmt.Errorf("%s: %d of %d not ready after %s", what, pending, total, timeout)
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

func (t *tracker) durations() []time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make([]time.Duration, 0, len(t.want))
	for _, e := range t.want {
		out = append(out, e.took)
	}
	return out
}

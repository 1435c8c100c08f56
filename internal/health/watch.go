package health

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/watch"
	"sigs.k8s.io/controller-runtime/pkg/client"
	crlog "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/capstan-dev/capstan/internal/apply"
)

// DefaultLinger is how long a watch nobody waits on any more stays open, so that releases that
// wait one after the other in a namespace share one watch instead of opening one each.
const DefaultLinger = time.Minute

// Watches shares the watches that wake up waits: while a release waits for its objects to become
// ready, a change of one of them calls notify with the object's reference and the object as the
// event carried it (nil when it was deleted), so the wait can judge it at once, without polling
// and without reading it again. A watch is opened per identity (the client a Release acts with:
// what it may not read, it is not told about), namespace and kind, only for objects carrying
// Helm's managed-by label (every object Capstan applies carries it), and closed Linger after the
// last wait on it ended. Only kinds with a status are watched.
//
// A watch starts at the most recent state, which it announces as one event per existing object,
// so a change between the apply and the watch's start is not missed. A watch the identity may not
// open (forbidden, or a kind that cannot be watched) is not retried: the waits that need it poll.
// A watch that ends (the API server closes them after a while, or a connection breaks) is
// reopened, after a pause that grows while openings keep failing.
type Watches struct {
	notify func(apply.ObjectRef, *unstructured.Unstructured)
	linger time.Duration
	ctx    context.Context
	stop   context.CancelFunc

	mu      sync.Mutex
	streams map[streamKey]*stream
	opened  atomic.Int64
}

// streamKey identifies one shared watch.
type streamKey struct {
	identity  string
	namespace string
	gvk       schema.GroupVersionKind
}

// stream is one shared watch: its users, whether it could not be opened, and how to stop it.
type stream struct {
	users  int
	failed atomic.Bool
	stop   context.CancelFunc
	idle   *time.Timer
}

// NewWatches returns Watches that call notify for every event of a watched object until Stop.
// linger <= 0 takes DefaultLinger.
func NewWatches(notify func(apply.ObjectRef, *unstructured.Unstructured), linger time.Duration) *Watches {
	if linger <= 0 {
		linger = DefaultLinger
	}
	ctx, stop := context.WithCancel(context.Background())
	return &Watches{notify: notify, linger: linger, ctx: ctx, stop: stop, streams: map[streamKey]*stream{}}
}

// Stop closes every watch; later Watch calls report nothing watched.
func (w *Watches) Stop() { w.stop() }

// Opened reports how many watches were opened so far (reopenings included).
func (w *Watches) Opened() int64 { return w.opened.Load() }

// Watch makes changes of the objects refs name reach notify, through watches opened with c, which
// acts as identity, until the returned function is called (once). It reports whether every object
// is covered by a watch not known to have failed; when not, the caller should look again on its
// own from time to time. Kinds that are ready as soon as they exist (ConfigMap, Secret, RBAC) need
// no watch.
func (w *Watches) Watch(c client.WithWatch, identity string, refs []apply.ObjectRef) (release func(), watched bool) {
	keys := make(map[streamKey]bool)
	for _, r := range refs {
		gvk := r.GroupVersionKind()
		if statusless[gvk.GroupKind()] {
			continue
		}
		keys[streamKey{identity: identity, namespace: r.Namespace, gvk: gvk}] = true
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	watched = w.ctx.Err() == nil
	held := make([]streamKey, 0, len(keys))
	for k := range keys {
		if k.gvk.Version == "" {
			watched = false // a reference without a version cannot name a watch
			continue
		}
		s := w.streams[k]
		if s == nil {
			s = w.open(c, k)
		}
		if s.idle != nil {
			s.idle.Stop()
			s.idle = nil
		}
		s.users++
		held = append(held, k)
		if s.failed.Load() {
			watched = false
		}
	}
	var once sync.Once
	return func() { once.Do(func() { w.release(held) }) }, watched
}

// release gives back one use of each stream, and closes those nobody uses after the linger.
func (w *Watches) release(keys []streamKey) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, k := range keys {
		s := w.streams[k]
		if s == nil {
			continue
		}
		s.users--
		if s.users > 0 {
			continue
		}
		s.idle = time.AfterFunc(w.linger, func() { w.closeIdle(k, s) })
	}
}

// closeIdle closes a stream that has had no user for the linger.
func (w *Watches) closeIdle(k streamKey, s *stream) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.streams[k] != s || s.users > 0 {
		return
	}
	s.stop()
	delete(w.streams, k)
}

// open starts a stream; the caller holds mu.
func (w *Watches) open(c client.WithWatch, k streamKey) *stream {
	ctx, stop := context.WithCancel(w.ctx)
	s := &stream{stop: stop}
	w.streams[k] = s
	go w.run(ctx, c, k, s)
	return s
}

// Pauses between two attempts to open a watch that keeps failing.
const (
	firstRetry = time.Second
	lastRetry  = 30 * time.Second
)

// run keeps one watch open until ctx ends or the identity turns out not to be allowed to watch.
func (w *Watches) run(ctx context.Context, c client.WithWatch, k streamKey, s *stream) {
	log := crlog.FromContext(ctx).WithValues("kind", k.gvk.Kind, "namespace", k.namespace)
	pause := firstRetry
	for ctx.Err() == nil {
		list := &unstructured.UnstructuredList{}
		list.SetGroupVersionKind(k.gvk.GroupVersion().WithKind(k.gvk.Kind + "List"))
		opts := []client.ListOption{client.MatchingLabels{apply.ManagedByLabel: apply.ManagedByHelm}}
		if k.namespace != "" {
			opts = append(opts, client.InNamespace(k.namespace))
		}
		wi, err := c.Watch(ctx, list, opts...)
		if err != nil {
			if cannotWatch(err) {
				log.V(1).Info("cannot watch the objects waited for; waits on them poll", "error", err.Error())
				s.failed.Store(true)
				return
			}
			if !sleep(ctx, pause) {
				return
			}
			pause = min(2*pause, lastRetry)
			continue
		}
		w.opened.Add(1)
		began := time.Now()
		w.forward(ctx, k, wi)
		wi.Stop()
		if time.Since(began) > lastRetry {
			pause = firstRetry
			continue
		}
		// A watch that ended soon after it opened is treated as a failed opening.
		if !sleep(ctx, pause) {
			return
		}
		pause = min(2*pause, lastRetry)
	}
}

// forward passes the events of one watch on to notify until it ends.
func (w *Watches) forward(ctx context.Context, k streamKey, wi watch.Interface) {
	for {
		select {
		case <-ctx.Done():
			return
		case ev, ok := <-wi.ResultChan():
			if !ok {
				return
			}
			if ev.Type == watch.Error || ev.Type == watch.Bookmark {
				continue
			}
			obj, ok := ev.Object.(*unstructured.Unstructured)
			if !ok {
				continue
			}
			ref := apply.ObjectRef{Group: k.gvk.Group, Version: k.gvk.Version, Kind: k.gvk.Kind,
				Namespace: obj.GetNamespace(), Name: obj.GetName()}
			if ev.Type == watch.Deleted {
				obj = nil
			}
			w.notify(ref, obj)
		}
	}
}

// cannotWatch reports whether opening a watch failed for a reason that retrying does not change.
func cannotWatch(err error) bool {
	return apierrors.IsForbidden(err) || apierrors.IsUnauthorized(err) || apierrors.IsNotFound(err) ||
		apierrors.IsMethodNotSupported(err) || apierrors.IsBadRequest(err) || meta.IsNoMatchError(err) ||
		errors.Is(err, ErrNoVersion)
}

// sleep pauses for d unless ctx ends first; it reports whether it slept the whole pause.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

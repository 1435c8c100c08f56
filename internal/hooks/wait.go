package hooks

import (
	"context"
	"errors"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

var (
	errDeleted  = errors.New("the object was deleted before it finished")
	errReplaced = errors.New("the object was replaced by another of the same name before it finished")
)

// waitDone follows a freshly created object with a watch, from the resource version its create
// returned, until it has finished, calling seen with every state it observes. A watch that ends is
// resumed from the last version seen; one whose version has expired is resumed after a fresh read.
func (r *Runner) waitDone(ctx context.Context, obj *unstructured.Unstructured, seen func(state)) (state, error) {
	f := &follower{r: r, obj: obj, uid: obj.GetUID(), rv: obj.GetResourceVersion(), seen: seen}
	f.update(stateOf(obj))
	for !f.st.done {
		if err := f.watchOnce(ctx); err != nil {
			return f.st, err
		}
	}
	return f.st, nil
}

// follower is the state of one waitDone.
type follower struct {
	r    *Runner
	obj  *unstructured.Unstructured
	uid  types.UID
	rv   string
	st   state
	seen func(state)
}

func (f *follower) update(st state) {
	f.st = st
	f.seen(st)
}

// watchOnce runs one watch until the object is done, the watch ends, or something goes wrong.
func (f *follower) watchOnce(ctx context.Context) error {
	list := &unstructured.UnstructuredList{}
	gvk := f.obj.GroupVersionKind()
	gvk.Kind += "List"
	list.SetGroupVersionKind(gvk)
	w, err := f.r.client.Watch(ctx, list, &client.ListOptions{
		Namespace:     f.obj.GetNamespace(),
		FieldSelector: fields.OneTermEqualSelector("metadata.name", f.obj.GetName()),
		Raw:           &metav1.ListOptions{ResourceVersion: f.rv, AllowWatchBookmarks: true},
	})
	if err != nil {
		return err
	}
	defer w.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case ev, ok := <-w.ResultChan():
			if !ok {
				return f.pause(ctx)
			}
			stop, err := f.handle(ctx, ev)
			if stop || err != nil {
				return err
			}
		}
	}
}

// handle takes one watch event; stop says that this watch is over.
func (f *follower) handle(ctx context.Context, ev watch.Event) (stop bool, err error) {
	switch ev.Type {
	case watch.Error:
		werr := apierrors.FromObject(ev.Object)
		if apierrors.IsResourceExpired(werr) || apierrors.IsGone(werr) {
			return true, f.resync(ctx)
		}
		return true, werr
	case watch.Bookmark:
		if acc, err := meta.Accessor(ev.Object); err == nil {
			f.rv = acc.GetResourceVersion()
		}
		return false, nil
	}
	u, ok := ev.Object.(*unstructured.Unstructured)
	if !ok {
		return false, nil
	}
	if u.GetUID() != f.uid {
		return true, errReplaced
	}
	f.rv = u.GetResourceVersion()
	f.update(stateOf(u))
	if ev.Type == watch.Deleted && !f.st.done {
		return true, errDeleted
	}
	return f.st.done, nil
}

// resync reads the object afresh after its watch version expired.
func (f *follower) resync(ctx context.Context) error {
	live := &unstructured.Unstructured{}
	live.SetGroupVersionKind(f.obj.GroupVersionKind())
	err := f.r.client.Get(ctx, client.ObjectKeyFromObject(f.obj), live)
	switch {
	case apierrors.IsNotFound(err):
		return errDeleted
	case err != nil:
		return err
	case live.GetUID() != f.uid:
		return errReplaced
	}
	f.rv = live.GetResourceVersion()
	f.update(stateOf(live))
	return nil
}

// pause waits one interval before a watch that the server ended is started again, so a server that
// keeps closing watches is not hammered.
func (f *follower) pause(ctx context.Context) error {
	timer := time.NewTimer(f.r.interval)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-timer.C:
		return nil
	}
}

package openset

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	capstanv1 "github.com/capstan-dev/capstan/api/v1alpha1"
	"github.com/capstan-dev/capstan/internal/reconcile"
	"github.com/capstan-dev/capstan/internal/storage"
)

// apiCalls records the mutating calls (dry-runs excluded) made through the manager's client and
// every Release's client, and counts the release record LISTs, one per Release reconcile.
type apiCalls struct {
	mu          sync.Mutex
	writes      []string
	recordLists map[string]int
}

func newAPICalls() *apiCalls { return &apiCalls{recordLists: map[string]int{}} }

// reset forgets the writes recorded so far.
func (a *apiCalls) reset() {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.writes = nil
}

// written returns the writes recorded since the last reset, as "verb type namespace/name".
func (a *apiCalls) written() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]string(nil), a.writes...)
}

// listsIn returns how many times the release records of a namespace were listed.
func (a *apiCalls) listsIn(ns string) int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.recordLists[ns]
}

func (a *apiCalls) write(verb string, obj any, ns, name string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.writes = append(a.writes, fmt.Sprintf("%s %T %s/%s", verb, obj, ns, name))
}

// funcs are the interceptor functions that record the calls before passing them on.
func (a *apiCalls) funcs() interceptor.Funcs {
	return interceptor.Funcs{
		Create: func(ctx context.Context, c client.WithWatch, obj client.Object, opts ...client.CreateOption) error {
			if o := (&client.CreateOptions{}).ApplyOptions(opts); len(o.DryRun) == 0 {
				a.write("create", obj, obj.GetNamespace(), obj.GetName())
			}
			return c.Create(ctx, obj, opts...)
		},
		Update: func(ctx context.Context, c client.WithWatch, obj client.Object, opts ...client.UpdateOption) error {
			if o := (&client.UpdateOptions{}).ApplyOptions(opts); len(o.DryRun) == 0 {
				a.write("update", obj, obj.GetNamespace(), obj.GetName())
			}
			return c.Update(ctx, obj, opts...)
		},
		Patch: func(ctx context.Context, c client.WithWatch, obj client.Object, p client.Patch, opts ...client.PatchOption) error {
			if o := (&client.PatchOptions{}).ApplyOptions(opts); len(o.DryRun) == 0 {
				a.write("patch", obj, obj.GetNamespace(), obj.GetName())
			}
			return c.Patch(ctx, obj, p, opts...)
		},
		Apply: func(ctx context.Context, c client.WithWatch, obj runtime.ApplyConfiguration, opts ...client.ApplyOption) error {
			if o := (&client.ApplyOptions{}).ApplyOptions(opts); len(o.DryRun) == 0 {
				a.write("apply", obj, "", "")
			}
			return c.Apply(ctx, obj, opts...)
		},
		Delete: func(ctx context.Context, c client.WithWatch, obj client.Object, opts ...client.DeleteOption) error {
			if o := (&client.DeleteOptions{}).ApplyOptions(opts); len(o.DryRun) == 0 {
				a.write("delete", obj, obj.GetNamespace(), obj.GetName())
			}
			return c.Delete(ctx, obj, opts...)
		},
		DeleteAllOf: func(ctx context.Context, c client.WithWatch, obj client.Object, opts ...client.DeleteAllOfOption) error {
			if o := (&client.DeleteAllOfOptions{}).ApplyOptions(opts); len(o.DryRun) == 0 {
				a.write("deleteAllOf", obj, obj.GetNamespace(), "*")
			}
			return c.DeleteAllOf(ctx, obj, opts...)
		},
		SubResourceCreate: func(ctx context.Context, c client.Client, sub string, obj, subObj client.Object, opts ...client.SubResourceCreateOption) error {
			a.write("create/"+sub, obj, obj.GetNamespace(), obj.GetName())
			return c.SubResource(sub).Create(ctx, obj, subObj, opts...)
		},
		SubResourceUpdate: func(ctx context.Context, c client.Client, sub string, obj client.Object, opts ...client.SubResourceUpdateOption) error {
			a.write("update/"+sub, obj, obj.GetNamespace(), obj.GetName())
			return c.SubResource(sub).Update(ctx, obj, opts...)
		},
		SubResourcePatch: func(ctx context.Context, c client.Client, sub string, obj client.Object, p client.Patch, opts ...client.SubResourcePatchOption) error {
			a.write("patch/"+sub, obj, obj.GetNamespace(), obj.GetName())
			return c.SubResource(sub).Patch(ctx, obj, p, opts...)
		},
		List: func(ctx context.Context, c client.WithWatch, list client.ObjectList, opts ...client.ListOption) error {
			o := (&client.ListOptions{}).ApplyOptions(opts)
			if o.LabelSelector != nil && strings.Contains(o.LabelSelector.String(), storage.LabelOwner+"="+storage.Owner) {
				a.mu.Lock()
				a.recordLists[o.Namespace]++
				a.mu.Unlock()
			}
			return c.List(ctx, list, opts...)
		},
	}
}

// countingClients wraps the production per-Release client factory so that every Release's
// client records its calls.
type countingClients struct {
	inner reconcile.ClientFactory
	calls *apiCalls
}

// ForRelease returns the Release's client, wrapped.
func (f *countingClients) ForRelease(ctx context.Context, rel *capstanv1.Release) (client.WithWatch, error) {
	c, err := f.inner.ForRelease(ctx, rel)
	if err != nil {
		return nil, err
	}
	return interceptor.NewClient(c, f.calls.funcs()), nil
}

// noWatch lets the manager's client, which cannot watch, through the interceptor.
type noWatch struct{ client.Client }

// Watch always fails: nothing in the manager watches through its client.
func (noWatch) Watch(context.Context, client.ObjectList, ...client.ListOption) (watch.Interface, error) {
	return nil, errors.New("the manager's client does not watch")
}

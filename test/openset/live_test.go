package openset

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"

	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/metadata"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	capstanv1 "github.com/capstan-dev/capstan/api/v1alpha1"
	"github.com/capstan-dev/capstan/internal/apply"
)

// objKey identifies an object by group, kind, namespace and name, whatever its API version.
type objKey struct {
	Group, Kind, Namespace, Name string
}

// String names the key as kind.group namespace/name.
func (k objKey) String() string {
	return fmt.Sprintf("%s.%s %s/%s", k.Kind, k.Group, k.Namespace, k.Name)
}

// renderedKey is the key of a rendered object once applied: a namespaced object without a
// namespace goes to the release namespace.
func renderedKey(c client.Client, r rendered, releaseNS string) (objKey, error) {
	gvk := r.obj.GroupVersionKind()
	k := objKey{Group: gvk.Group, Kind: gvk.Kind, Namespace: r.obj.GetNamespace(), Name: r.obj.GetName()}
	namespaced, err := c.IsObjectNamespaced(r.obj)
	if err != nil {
		return k, fmt.Errorf("scope of %s: %w", k, err)
	}
	switch {
	case !namespaced:
		k.Namespace = ""
	case k.Namespace == "":
		k.Namespace = releaseNS
	}
	return k, nil
}

// inventoryKeys parses status.inventory's IDs, "<namespace>_<name>_<group>_<kind>".
func inventoryKeys(rel *capstanv1.Release) ([]objKey, error) {
	if rel.Status.Inventory == nil {
		return nil, nil
	}
	keys := make([]objKey, 0, len(rel.Status.Inventory.Entries))
	for _, e := range rel.Status.Inventory.Entries {
		parts := strings.Split(e.ID, "_")
		if len(parts) < 4 {
			return nil, fmt.Errorf("inventory ID %q has fewer than four parts", e.ID)
		}
		n := len(parts)
		keys = append(keys, objKey{Namespace: parts[0], Name: strings.Join(parts[1:n-2], "_"),
			Group: parts[n-2], Kind: parts[n-1]})
	}
	return keys, nil
}

// ownedKeys lists every object of every listable kind the API server serves and keeps those
// whose Helm ownership annotations name the release: what `helm` would consider its objects.
// The lists run concurrently: the first list of a new custom resource waits about a second for
// the API server's watch cache.
func ownedKeys(ctx context.Context, cfg *rest.Config, release, ns string) ([]objKey, error) {
	cfg = quiet(cfg)
	dc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		return nil, err
	}
	mc, err := metadata.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	lists, err := dc.ServerPreferredResources()
	if err != nil {
		return nil, err
	}
	var (
		mu   sync.Mutex
		wg   sync.WaitGroup
		keys []objKey
		errs []error
	)
	for _, l := range lists {
		gv, err := schema.ParseGroupVersion(l.GroupVersion)
		if err != nil {
			return nil, err
		}
		for _, r := range l.APIResources {
			if strings.Contains(r.Name, "/") || !slices.Contains(r.Verbs, "list") {
				continue
			}
			wg.Go(func() {
				found, err := ownedOfResource(ctx, mc, gv.WithResource(r.Name), r.Kind, release, ns)
				mu.Lock()
				defer mu.Unlock()
				keys, errs = append(keys, found...), append(errs, err)
			})
		}
	}
	wg.Wait()
	return keys, errors.Join(errs...)
}

// ownedOfResource lists one resource's objects by metadata and keeps the release's.
func ownedOfResource(ctx context.Context, mc metadata.Interface, gvr schema.GroupVersionResource, kind,
	release, ns string,
) ([]objKey, error) {
	list, err := mc.Resource(gvr).List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, fmt.Errorf("listing %s: %w", gvr, err)
	}
	var keys []objKey
	for _, item := range list.Items {
		a := item.GetAnnotations()
		if a[apply.ReleaseNameAnnotation] == release && a[apply.ReleaseNamespaceAnnotation] == ns {
			keys = append(keys, objKey{Group: gvr.Group, Kind: kind, Namespace: item.GetNamespace(), Name: item.GetName()})
		}
	}
	return keys, nil
}

// quiet copies a config for the test's discovery and metadata clients: they do not print the
// API server's deprecation warnings (listing every kind lists the deprecated ones too), and
// they are not throttled to client-go's default 5 requests a second.
func quiet(cfg *rest.Config) *rest.Config {
	c := rest.CopyConfig(cfg)
	c.WarningHandler = rest.NoWarnings{}
	c.QPS, c.Burst = 500, 1000
	return c
}

// sortedKeys returns the keys' strings, sorted, for readable set comparisons.
func sortedKeys(keys []objKey) []string {
	out := make([]string, 0, len(keys))
	for _, k := range keys {
		out = append(out, k.String())
	}
	sort.Strings(out)
	return out
}

// getLive reads the live object of a rendered one, with the rendered apiVersion.
func getLive(ctx context.Context, c client.Client, r rendered, k objKey) (*unstructured.Unstructured, error) {
	live := &unstructured.Unstructured{}
	live.SetGroupVersionKind(r.obj.GroupVersionKind())
	err := c.Get(ctx, client.ObjectKey{Namespace: k.Namespace, Name: k.Name}, live)
	return live, err
}

// wantLabels is what a live object's labels must be: the rendered ones, plus Helm's
// managed-by label on objects that carry the release's ownership metadata.
func wantLabels(r rendered, owned bool) map[string]string {
	want := maps.Clone(r.obj.GetLabels())
	if want == nil {
		want = map[string]string{}
	}
	if owned {
		want[apply.ManagedByLabel] = apply.ManagedByHelm
	}
	return want
}

// containedIn lists the places where want (a rendered object or part of one) is not found in
// got (the live object): every field the chart set must be there with the same value. Fields
// the API server added (defaults, status, metadata) are allowed; a rendered empty value may be
// absent.
func containedIn(path string, want, got any) []string {
	switch w := want.(type) {
	case map[string]any:
		return mapContainedIn(path, w, got)
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			if len(w) == 0 && got == nil {
				return nil
			}
			return []string{fmt.Sprintf("%s: want %d items, live has %v", path, len(w), describeLen(got))}
		}
		var diffs []string
		for i := range w {
			diffs = append(diffs, containedIn(path+"["+strconv.Itoa(i)+"]", w[i], g[i])...)
		}
		return diffs
	default:
		if scalarEqual(want, got) {
			return nil
		}
		return []string{fmt.Sprintf("%s: want %v, live has %v", path, want, got)}
	}
}

func mapContainedIn(path string, want map[string]any, got any) []string {
	g, ok := got.(map[string]any)
	if !ok {
		if len(want) == 0 && got == nil {
			return nil
		}
		return []string{fmt.Sprintf("%s: want an object, live has %T", path, got)}
	}
	var diffs []string
	for k, wv := range want {
		gv, present := g[k]
		if !present && isEmpty(wv) {
			continue
		}
		if !present {
			diffs = append(diffs, fmt.Sprintf("%s.%s: missing from the live object", path, k))
			continue
		}
		diffs = append(diffs, containedIn(path+"."+k, wv, gv)...)
	}
	return diffs
}

// isEmpty reports whether a rendered value is one the API server may drop: null, "", {}, [],
// and the zero values false and 0 of fields the API types leave out when zero.
func isEmpty(v any) bool {
	switch x := v.(type) {
	case nil:
		return true
	case string:
		return x == ""
	case bool:
		return !x
	case float64:
		return x == 0
	case map[string]any:
		return len(x) == 0
	case []any:
		return len(x) == 0
	}
	return false
}

// scalarEqual compares scalars: numbers by value whatever their Go type (YAML gives float64,
// the API server int64), and a rendered number or string with the live string the API server
// canonicalised it to when both are the same resource quantity (pods: 100 is live as "100",
// cpu: 0.5 as "500m").
func scalarEqual(want, got any) bool {
	fw, wNum := number(want)
	fg, gNum := number(got)
	if wNum && gNum {
		return fw == fg
	}
	if reflect.DeepEqual(want, got) {
		return true
	}
	g, ok := got.(string)
	if !ok {
		return false
	}
	w, ok := want.(string)
	if wNum {
		w, ok = strconv.FormatFloat(fw, 'f', -1, 64), true
	}
	if !ok {
		return false
	}
	qw, errW := resource.ParseQuantity(w)
	qg, errG := resource.ParseQuantity(g)
	return errW == nil && errG == nil && qw.Cmp(qg) == 0
}

func number(v any) (float64, bool) {
	switch x := v.(type) {
	case int64:
		return float64(x), true
	case int:
		return float64(x), true
	case float64:
		return x, true
	}
	return 0, false
}

func describeLen(v any) string {
	if l, ok := v.([]any); ok {
		return strconv.Itoa(len(l)) + " items"
	}
	return fmt.Sprintf("%T", v)
}

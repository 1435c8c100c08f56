package reconcile

import (
	"context"
	"errors"
	"fmt"
	"slices"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"

	capstanv1 "github.com/capstan-dev/capstan/api/v1alpha1"
	"github.com/capstan-dev/capstan/internal/redact"
)

// ErrLookupNotPermitted is the error of a lookup outside the Release's namespaces.
var ErrLookupNotPermitted = errors.New("lookup not permitted")

// NamespacedLookup serves the template lookup function through the Release's own client (so as
// its service account) and only inside the namespaces the Release may read: its own and its
// target namespace. A cluster-scoped kind, or a lookup across all namespaces, is refused with
// an error naming what was asked, rather than answered with an empty map that would hide it.
type NamespacedLookup struct {
	// Reader reads the objects, uncached.
	Reader client.Reader
	// Mapper tells namespaced kinds from cluster-scoped ones.
	Mapper meta.RESTMapper
	// Namespaces are the namespaces lookups may read.
	Namespaces []string
}

// newLookup returns the lookup of a Release.
func newLookup(c client.Client, rel *capstanv1.Release) *NamespacedLookup {
	ns := []string{rel.Namespace}
	if t := rel.GetTargetNamespace(); t != rel.Namespace {
		ns = append(ns, t)
	}
	return &NamespacedLookup{Reader: c, Mapper: c.RESTMapper(), Namespaces: ns}
}

// Lookup returns one object (name set) or a list (name empty) as a map; an object that does not
// exist is an empty map, as in Helm.
func (l *NamespacedLookup) Lookup(ctx context.Context, apiVersion, kind, namespace, name string) (map[string]any, error) {
	gv, err := schema.ParseGroupVersion(apiVersion)
	if err != nil {
		return nil, fmt.Errorf("lookup: apiVersion %q: %w", apiVersion, err)
	}
	gvk := gv.WithKind(kind)
	mapping, err := l.Mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
	if err != nil {
		return nil, fmt.Errorf("lookup of %s: %w", gvk, err)
	}
	if mapping.Scope.Name() != meta.RESTScopeNameNamespace || !slices.Contains(l.Namespaces, namespace) {
		where := "namespace " + namespace
		if namespace == "" {
			where = "all namespaces"
		}
		return nil, fmt.Errorf("%w: lookup of %s in %s; a Release may only look up namespaced objects in its own namespaces",
			ErrLookupNotPermitted, gvk, where)
	}
	if name == "" {
		return l.list(ctx, gvk, namespace)
	}
	obj := &unstructured.Unstructured{}
	obj.SetGroupVersionKind(gvk)
	if err := l.Reader.Get(ctx, client.ObjectKey{Namespace: namespace, Name: name}, obj); err != nil {
		if apierrors.IsNotFound(err) {
			return map[string]any{}, nil
		}
		return nil, fmt.Errorf("lookup of %s %s/%s: %w", gvk.Kind, namespace, name, err)
	}
	registerLookup(ctx, gvk, obj.Object)
	return obj.Object, nil
}

func (l *NamespacedLookup) list(ctx context.Context, gvk schema.GroupVersionKind, namespace string) (map[string]any, error) {
	list := &unstructured.UnstructuredList{}
	list.SetGroupVersionKind(gvk.GroupVersion().WithKind(gvk.Kind + "List"))
	if err := l.Reader.List(ctx, list, client.InNamespace(namespace)); err != nil {
		if apierrors.IsNotFound(err) {
			return map[string]any{}, nil
		}
		return nil, fmt.Errorf("lookup of %s in namespace %s: %w", gvk.Kind, namespace, err)
	}
	registerLookup(ctx, gvk, list.UnstructuredContent())
	return list.UnstructuredContent(), nil
}

// registerLookup registers the data of looked-up Secrets with the Redactor ctx carries: a
// template can print them (a fail, a rendered field the API server rejects).
func registerLookup(ctx context.Context, gvk schema.GroupVersionKind, obj map[string]any) {
	if gvk.Group == "" && gvk.Kind == "Secret" {
		registerSecretObject(redact.FromContext(ctx), obj)
	}
}

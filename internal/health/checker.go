package health

import (
	"context"
	"errors"
	"fmt"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/capstan-dev/capstan/internal/apply"
)

// DefaultInterval is how long Wait sleeps between two looks when Options.Interval is zero.
const DefaultInterval = 2 * time.Second

// statusless are kinds that have no status to wait for: they are ready once they exist, so they are read
// as metadata only, which also keeps Secret data out of the checker.
var statusless = map[schema.GroupKind]bool{
	{Kind: "ConfigMap"}:      true,
	{Kind: "Secret"}:         true,
	{Kind: "ServiceAccount"}: true,
	{Group: "rbac.authorization.k8s.io", Kind: "Role"}:               true,
	{Group: "rbac.authorization.k8s.io", Kind: "RoleBinding"}:        true,
	{Group: "rbac.authorization.k8s.io", Kind: "ClusterRole"}:        true,
	{Group: "rbac.authorization.k8s.io", Kind: "ClusterRoleBinding"}: true,
}

// ErrNoVersion says that a reference names no API version and the Checker's reader cannot look one up.
var ErrNoVersion = errors.New("the reference has no API version and the client cannot look one up")

// Options tune a Checker.
type Options struct {
	// Interval is the pause between two looks while waiting (default DefaultInterval).
	Interval time.Duration
}

// Checker reads objects through one client and tells whether they are ready.
type Checker struct {
	reader   client.Reader
	interval time.Duration
}

// New returns a Checker that reads through r. When r is a client.Client, references without a version
// are resolved to the version the cluster prefers.
func New(r client.Reader, opts Options) *Checker {
	if opts.Interval <= 0 {
		opts.Interval = DefaultInterval
	}
	return &Checker{reader: r, interval: opts.Interval}
}

// Check reads every referenced object once and reports those that are not Current. An object that does
// not exist, or whose kind is not served, is NotFound. Any other read error is returned.
func (c *Checker) Check(ctx context.Context, refs []apply.ObjectRef) (Report, error) {
	refs = unique(refs)
	var notReady []ObjectStatus
	for _, ref := range refs {
		s, err := c.status(ctx, ref)
		if err != nil {
			return Report{}, fmt.Errorf("reading %s: %w", ref, err)
		}
		if s.Status != Current {
			notReady = append(notReady, s)
		}
	}
	return newReport(len(refs), notReady), nil
}

// status reads one object and computes its health.
func (c *Checker) status(ctx context.Context, ref apply.ObjectRef) (ObjectStatus, error) {
	gvk, err := c.resolve(ref)
	if err != nil {
		return missing(ref, err)
	}
	key := client.ObjectKey{Namespace: ref.Namespace, Name: ref.Name}
	if statusless[gvk.GroupKind()] {
		return c.metadataStatus(ctx, ref, gvk, key)
	}
	live := seenFrom(ctx)[ref.ID()]
	if live == nil {
		live = &unstructured.Unstructured{}
		live.SetGroupVersionKind(gvk)
		if err := c.reader.Get(ctx, key, live); err != nil {
			return missing(ref, err)
		}
	}
	return judge(ctx, ref, live), nil
}

// judge computes the health of obj, the object ref names, with the checks of ctx before the
// built-in rules.
func judge(ctx context.Context, ref apply.ObjectRef, obj *unstructured.Unstructured) ObjectStatus {
	s, custom := checksFrom(ctx).Compute(obj)
	if !custom {
		s = Compute(obj)
	}
	s.Ref = ref
	return s
}

func (c *Checker) metadataStatus(ctx context.Context, ref apply.ObjectRef, gvk schema.GroupVersionKind, key client.ObjectKey) (ObjectStatus, error) {
	live := &metav1.PartialObjectMetadata{}
	live.SetGroupVersionKind(gvk)
	if err := c.reader.Get(ctx, key, live); err != nil {
		return missing(ref, err)
	}
	if live.DeletionTimestamp != nil {
		return ObjectStatus{Ref: ref, Status: Terminating, Message: "Resource scheduled for deletion"}, nil
	}
	return ObjectStatus{Ref: ref, Status: Current, Message: "Resource is current"}, nil
}

// missing turns a read error into a NotFound status when the object or its kind is absent.
func missing(ref apply.ObjectRef, err error) (ObjectStatus, error) {
	switch {
	case apierrors.IsNotFound(err):
		return ObjectStatus{Ref: ref, Status: NotFound, Message: "not found"}, nil
	case meta.IsNoMatchError(err):
		return ObjectStatus{Ref: ref, Status: NotFound, Message: "kind is not served by the cluster"}, nil
	}
	return ObjectStatus{}, err
}

// resolve fills in the version of a reference that has none, from the cluster's preferred version.
func (c *Checker) resolve(ref apply.ObjectRef) (schema.GroupVersionKind, error) {
	gvk := ref.GroupVersionKind()
	if gvk.Version != "" {
		return gvk, nil
	}
	mapped, ok := c.reader.(interface{ RESTMapper() meta.RESTMapper })
	if !ok {
		return gvk, ErrNoVersion
	}
	mapping, err := mapped.RESTMapper().RESTMapping(gvk.GroupKind())
	if err != nil {
		return gvk, err
	}
	return mapping.GroupVersionKind, nil
}

// unique drops repeated references (same object, whatever the version), keeping the first.
func unique(refs []apply.ObjectRef) []apply.ObjectRef {
	seen := make(map[string]bool, len(refs))
	out := make([]apply.ObjectRef, 0, len(refs))
	for _, r := range refs {
		if !seen[r.ID()] {
			seen[r.ID()] = true
			out = append(out, r)
		}
	}
	return out
}

type seenKey struct{}

// WithSeen returns a context under which a Checker judges the objects in seen (by
// apply.ObjectRef.ID) as given instead of reading them: each is the object as a watch event
// delivered it, newer than nothing the event's wake-up could read.
func WithSeen(ctx context.Context, seen map[string]*unstructured.Unstructured) context.Context {
	if len(seen) == 0 {
		return ctx
	}
	return context.WithValue(ctx, seenKey{}, seen)
}

func seenFrom(ctx context.Context) map[string]*unstructured.Unstructured {
	m, _ := ctx.Value(seenKey{}).(map[string]*unstructured.Unstructured)
	return m
}

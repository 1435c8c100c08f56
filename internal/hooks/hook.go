package hooks

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/capstan-dev/capstan/internal/manifest"
)

// The hook annotations (helm-semantics §5.1).
const (
	// AnnotationHook lists the events a hook runs on; its presence makes an object a hook.
	AnnotationHook = "helm.sh/hook"
	// AnnotationWeight orders the hooks of one event, lowest first; anything but an integer is 0.
	AnnotationWeight = "helm.sh/hook-weight"
	// AnnotationDeletePolicy lists when the hook's object is deleted.
	AnnotationDeletePolicy = "helm.sh/hook-delete-policy"
	// AnnotationTimeout is Capstan's own: a Go duration ("30s", "5m") that replaces the Release's
	// timeout for this hook.
	AnnotationTimeout = "capstan.dev/hook-timeout"
)

// ErrInvalidTimeout says that a capstan.dev/hook-timeout annotation is not a positive Go duration.
var ErrInvalidTimeout = errors.New(`not a positive duration such as "30s" or "5m"`)

// ParseTimeout reads a capstan.dev/hook-timeout value: a positive Go duration, surrounding space
// allowed. Anything else wraps ErrInvalidTimeout.
func ParseTimeout(value string) (time.Duration, error) {
	d, err := time.ParseDuration(strings.TrimSpace(value))
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("the %s annotation %q is %w", AnnotationTimeout, value, ErrInvalidTimeout)
	}
	return d, nil
}

// Timeout returns the hook's own timeout when it has a capstan.dev/hook-timeout annotation, else
// def (the Release's timeout).
func (h Hook) Timeout(def time.Duration) (time.Duration, error) {
	if h.Object == nil {
		return def, nil
	}
	value, ok := h.Object.GetAnnotations()[AnnotationTimeout]
	if !ok {
		return def, nil
	}
	return ParseTimeout(value)
}

// Event is a point in a release's life at which hooks run.
type Event string

// The hook events Helm defines.
const (
	PreInstall   Event = "pre-install"
	PostInstall  Event = "post-install"
	PreDelete    Event = "pre-delete"
	PostDelete   Event = "post-delete"
	PreUpgrade   Event = "pre-upgrade"
	PostUpgrade  Event = "post-upgrade"
	PreRollback  Event = "pre-rollback"
	PostRollback Event = "post-rollback"
	// Test hooks run only when a test is requested ("helm test").
	Test Event = "test"
)

// DeletePolicy says when a hook's object is deleted.
type DeletePolicy string

// The delete policies Helm defines.
const (
	// BeforeHookCreation deletes the previous object of the hook before it is created again. It is the
	// policy of a hook that names none.
	BeforeHookCreation DeletePolicy = "before-hook-creation"
	// HookSucceeded deletes the object once every hook of the event has succeeded.
	HookSucceeded DeletePolicy = "hook-succeeded"
	// HookFailed deletes the object when the hook failed.
	HookFailed DeletePolicy = "hook-failed"
)

// Hook is one hook object of a release.
type Hook struct {
	// Name is the object's metadata.name.
	Name string
	// Kind is the object's kind.
	Kind string
	// Path is the template the object was rendered from.
	Path string
	// Object is the rendered object. The runner never modifies it.
	Object *unstructured.Unstructured
	// Events are the events the hook runs on, without repeats.
	Events []Event
	// Weight orders the hooks of one event, lowest first.
	Weight int
	// DeletePolicies are the hook's delete policies; none means BeforeHookCreation.
	DeletePolicies []DeletePolicy
	// OutputLogPolicies say when the log of the hook's Pod (or its Job's Pod) is reported.
	OutputLogPolicies []OutputLogPolicy
}

// UnknownEventError says that a helm.sh/hook annotation names an event Helm does not know (such as Helm
// 2's crd-install). Helm drops the whole object, neither running it nor applying it.
type UnknownEventError struct {
	// Event is the unknown value, as written.
	Event string
}

func (e *UnknownEventError) Error() string { return fmt.Sprintf("unknown hook event %q", e.Event) }

// FromObject reads the hook annotations of a rendered object. isHook is false when the object has no
// helm.sh/hook annotation; an *UnknownEventError says the object is a hook Helm would drop.
func FromObject(path string, obj *unstructured.Unstructured) (hook Hook, isHook bool, err error) {
	ann := obj.GetAnnotations()
	value, isHook := ann[AnnotationHook]
	if !isHook {
		return Hook{}, false, nil
	}
	evs, err := ParseEvents(value)
	if err != nil {
		return Hook{}, true, err
	}
	return Hook{
		Name:              obj.GetName(),
		Kind:              obj.GetKind(),
		Path:              path,
		Object:            obj,
		Events:            evs,
		Weight:            ParseWeight(ann[AnnotationWeight]),
		DeletePolicies:    ParseDeletePolicies(ann[AnnotationDeletePolicy]),
		OutputLogPolicies: ParseOutputLogPolicies(ann[AnnotationOutputLogPolicy]),
	}, true, nil
}

// ParseEvents reads a helm.sh/hook value with Helm's rules (internal/manifest owns them): any
// unknown item, an empty one included, fails the whole value. Repeats run once.
func ParseEvents(value string) ([]Event, error) {
	names, err := manifest.ParseHookEvents(value)
	var unknown *manifest.UnknownHookEventError
	if errors.As(err, &unknown) {
		return nil, &UnknownEventError{Event: unknown.Event}
	}
	var out []Event
	for _, n := range names {
		if ev := Event(n); !slices.Contains(out, ev) {
			out = append(out, ev)
		}
	}
	return out, nil
}

// ParseWeight reads a helm.sh/hook-weight value as Helm does: a base-ten integer, with no surrounding
// space; anything else is 0.
func ParseWeight(value string) int { return manifest.ParseHookWeight(value) }

// ParseDeletePolicies reads a helm.sh/hook-delete-policy value: the known policies, trimmed and
// lower-cased, in order and without repeats.
func ParseDeletePolicies(value string) []DeletePolicy {
	var out []DeletePolicy
	for _, p := range manifest.ParseHookDeletePolicies(value) {
		out = append(out, DeletePolicy(p))
	}
	return out
}

// HasEvent reports whether the hook runs on ev.
func (h Hook) HasEvent(ev Event) bool { return slices.Contains(h.Events, ev) }

// IsTest reports whether the hook is a test hook.
func (h Hook) IsTest() bool { return h.HasEvent(Test) }

// HasDeletePolicy reports whether the hook's object is deleted on p, counting BeforeHookCreation as the
// policy of a hook that names none.
func (h Hook) HasDeletePolicy(p DeletePolicy) bool {
	if len(h.DeletePolicies) == 0 {
		return p == BeforeHookCreation
	}
	return slices.Contains(h.DeletePolicies, p)
}

// isCRD reports whether the hook is a CustomResourceDefinition, which Helm never deletes.
func (h Hook) isCRD() bool { return h.Kind == "CustomResourceDefinition" }

// ForEvent returns the hooks that run on ev in the order they run: by weight, then by name, with the
// input order breaking the remaining ties (Helm's input is in kind order).
func ForEvent(hooks []Hook, ev Event) []Hook {
	var out []Hook
	for _, h := range hooks {
		if h.HasEvent(ev) {
			out = append(out, h)
		}
	}
	slices.SortStableFunc(out, func(a, b Hook) int {
		if c := cmp.Compare(a.Weight, b.Weight); c != 0 {
			return c
		}
		return strings.Compare(a.Name, b.Name)
	})
	return out
}

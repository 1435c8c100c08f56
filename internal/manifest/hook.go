package manifest

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Hook annotations (helm-semantics §5.1).
const (
	// AnnotationHook lists the events a hook runs on; its presence makes a document a hook.
	AnnotationHook = "helm.sh/hook"
	// AnnotationHookWeight orders hooks of one event; it is an integer, anything else counts as 0.
	AnnotationHookWeight = "helm.sh/hook-weight"
	// AnnotationHookDeletePolicy lists when a hook's object is deleted.
	AnnotationHookDeletePolicy = "helm.sh/hook-delete-policy"
	// AnnotationHookOutputLogPolicy lists when a hook's container logs are copied to the output.
	AnnotationHookOutputLogPolicy = "helm.sh/hook-output-log-policy"
	// AnnotationResourcePolicy set to ResourcePolicyKeep keeps a regular object on uninstall.
	AnnotationResourcePolicy = "helm.sh/resource-policy"
	// ResourcePolicyKeep is the value of AnnotationResourcePolicy that keeps an object.
	ResourcePolicyKeep = "keep"
)

// Hook events.
const (
	EventPreInstall   = "pre-install"
	EventPostInstall  = "post-install"
	EventPreDelete    = "pre-delete"
	EventPostDelete   = "post-delete"
	EventPreUpgrade   = "pre-upgrade"
	EventPostUpgrade  = "post-upgrade"
	EventPreRollback  = "pre-rollback"
	EventPostRollback = "post-rollback"
	EventTest         = "test"
)

// Hook delete policies and output-log policies.
const (
	PolicyBeforeHookCreation = "before-hook-creation"
	PolicyHookSucceeded      = "hook-succeeded"
	PolicyHookFailed         = "hook-failed"
)

// hookEvents maps every accepted spelling of an event to its name; "test-success" is Helm 2's
// name for "test".
var hookEvents = map[string]string{
	EventPreInstall: EventPreInstall, EventPostInstall: EventPostInstall,
	EventPreDelete: EventPreDelete, EventPostDelete: EventPostDelete,
	EventPreUpgrade: EventPreUpgrade, EventPostUpgrade: EventPostUpgrade,
	EventPreRollback: EventPreRollback, EventPostRollback: EventPostRollback,
	EventTest: EventTest, "test-success": EventTest,
}

var deletePolicies = []string{PolicyBeforeHookCreation, PolicyHookSucceeded, PolicyHookFailed}

var outputLogPolicies = []string{PolicyHookSucceeded, PolicyHookFailed}

// Hook is a document annotated with helm.sh/hook: it is run around an operation instead of being
// part of the release manifest.
type Hook struct {
	// Name is the object's metadata.name.
	Name string
	// Kind is the object's kind.
	Kind string
	// Path is the template the document came from.
	Path string
	// Manifest is the document text.
	Manifest string
	// Events are the normalised events the hook runs on, in annotation order.
	Events []string
	// Weight orders hooks of one event (ascending); ties are broken by Name.
	Weight int
	// DeletePolicies are the known delete policies, in annotation order. Empty means
	// before-hook-creation when the hook runs.
	DeletePolicies []string
	// OutputLogPolicies are the known output-log policies, in annotation order.
	OutputLogPolicies []string
}

// AsManifest returns the hook as a Manifest (Name is the template path), so that ParseObjects
// and Validate can check hook documents too.
func (h Hook) AsManifest() Manifest {
	return Manifest{Name: h.Path, Content: h.Manifest, Head: &Head{Kind: h.Kind, Metadata: &Metadata{Name: h.Name}}}
}

// HasEvent reports whether the hook runs on event.
func (h Hook) HasEvent(event string) bool { return slices.Contains(h.Events, event) }

// IsTest reports whether the hook is a test hook (`helm test`, dropped by --skip-tests).
func (h Hook) IsTest() bool { return h.HasEvent(EventTest) }

// HasDeletePolicy reports whether the hook's object is deleted on policy, applying Helm's default
// of before-hook-creation when no policy is given.
func (h Hook) HasDeletePolicy(policy string) bool {
	if len(h.DeletePolicies) == 0 {
		return policy == PolicyBeforeHookCreation
	}
	return slices.Contains(h.DeletePolicies, policy)
}

// ForEvent returns the hooks that run on event in execution order: by weight, then by name, with
// the input (kind) order breaking the remaining ties.
func ForEvent(hooks []Hook, event string) []Hook {
	var out []Hook
	for _, h := range hooks {
		if h.HasEvent(event) {
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

// UnknownHookEventError names a helm.sh/hook item that is not an event; Helm drops the whole
// document then.
type UnknownHookEventError struct{ Event string }

func (e *UnknownHookEventError) Error() string { return fmt.Sprintf("unknown hook event %q", e.Event) }

// ParseHookEvents reads a helm.sh/hook value: a comma list of events, each trimmed and lower-cased,
// "test-success" read as "test". Any unknown item, an empty one included, fails the whole value
// with an *UnknownHookEventError. Repeats are kept, as Helm keeps them.
func ParseHookEvents(value string) ([]string, error) {
	var events []string
	for _, item := range strings.Split(value, ",") {
		event, known := hookEvents[normalise(item)]
		if !known {
			return nil, &UnknownHookEventError{Event: strings.TrimSpace(item)}
		}
		events = append(events, event)
	}
	return events, nil
}

// ParseHookWeight reads helm.sh/hook-weight as Helm does: a base-ten integer with no surrounding
// space; anything else is 0.
func ParseHookWeight(value string) int {
	w, err := strconv.Atoi(value)
	if err != nil {
		return 0
	}
	return w
}

// ParseHookDeletePolicies reads helm.sh/hook-delete-policy: the known policies, trimmed and
// lower-cased, in order and without repeats.
func ParseHookDeletePolicies(value string) []string { return parsePolicies(value, deletePolicies) }

// ParseHookOutputLogPolicies reads a helm.sh/hook-output-log-policy value: the known policies
// (hook-succeeded, hook-failed), trimmed and lower-cased, in order and without repeats.
func ParseHookOutputLogPolicies(value string) []string {
	return parsePolicies(value, outputLogPolicies)
}

// parsePolicies reads a comma list annotation, keeping the known values in order.
func parsePolicies(value string, known []string) []string {
	var out []string
	for _, item := range strings.Split(value, ",") {
		if p := normalise(item); slices.Contains(known, p) && !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	return out
}

func normalise(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

func newHook(path, doc string, head *Head, events []string) Hook {
	h := Hook{Name: head.Name(), Kind: head.Kind, Path: path, Manifest: doc, Events: events}
	if v, ok := head.Annotation(AnnotationHookWeight); ok {
		h.Weight = ParseHookWeight(v)
	}
	if v, ok := head.Annotation(AnnotationHookDeletePolicy); ok {
		h.DeletePolicies = ParseHookDeletePolicies(v)
	}
	if v, ok := head.Annotation(AnnotationHookOutputLogPolicy); ok {
		h.OutputLogPolicies = parsePolicies(v, outputLogPolicies)
	}
	return h
}

package apply

import (
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Conflict is one field of a live object that another field manager owns with a value other
// than the one Capstan applies.
type Conflict struct {
	Ref ObjectRef
	// Field is the field as the API server names it in a conflict: .spec.replicas,
	// .spec.template.spec.containers[name="app"].image.
	Field string
	// Manager is the other field manager, such as kube-controller-manager.
	Manager string
}

func (c Conflict) String() string {
	return fmt.Sprintf("%s: %s (manager %s)", c.Ref, c.Field, c.Manager)
}

// FieldConflictError says that applying objects would take fields that other field managers own.
// Nothing was written for those objects.
type FieldConflictError struct{ Conflicts []Conflict }

func (e *FieldConflictError) Error() string {
	parts := make([]string, 0, len(e.Conflicts))
	for _, c := range e.Conflicts {
		parts = append(parts, c.String())
	}
	sort.Strings(parts)
	more := ""
	if len(parts) > maxConflictsShown {
		more = fmt.Sprintf(" and %d more", len(parts)-maxConflictsShown)
		parts = parts[:maxConflictsShown]
	}
	return fmt.Sprintf("%d field(s) are owned by other field managers (upgrade.conflicts can force or yield them): %s%s",
		len(e.Conflicts), strings.Join(parts, "; "), more)
}

// maxConflictsShown bounds the conflicts a FieldConflictError's message names.
const maxConflictsShown = 5

// ConflictsOf returns the field-manager conflicts an apply of ref failed with, in the API
// server's order, or nil when err is not such a conflict.
func ConflictsOf(ref ObjectRef, err error) []Conflict {
	var status apierrors.APIStatus
	if err == nil || !apierrors.IsConflict(err) || !errors.As(err, &status) || status.Status().Details == nil {
		return nil
	}
	var out []Conflict
	for _, c := range status.Status().Details.Causes {
		if c.Type != metav1.CauseTypeFieldManagerConflict {
			continue
		}
		out = append(out, Conflict{Ref: ref, Field: c.Field, Manager: conflictManager(c.Message)})
	}
	return out
}

// conflictManager reads the manager's name from a conflict cause's message, which the API server
// writes as `conflict with "<manager>"`, followed by the subresource, API version and time of an
// Update. An unexpected message is returned whole.
func conflictManager(msg string) string {
	rest, ok := strings.CutPrefix(msg, "conflict with ")
	if !ok {
		return msg
	}
	quoted, err := strconv.QuotedPrefix(rest)
	if err != nil {
		return msg
	}
	name, err := strconv.Unquote(quoted)
	if err != nil {
		return msg
	}
	return name
}

// YieldFunc returns the JSON pointers (RFC 6901) of the fields of one object that Capstan leaves
// to other field managers.
type YieldFunc func(ObjectRef) []string

// Yielded splits conflicts into those on a field at or under one of pointers and the rest, and
// returns the pointers that cover at least one conflict, in pointers' order. A pointer names
// object fields: its segments are compared with the field names of the API server's path, so
// that /spec/replicas covers .spec.replicas and /spec/template covers
// .spec.template.spec.containers[name="app"].image; list elements cannot be named one by one.
func Yielded(conflicts []Conflict, pointers []string) (covering []string, rest []Conflict) {
	used := make([]bool, len(pointers))
	for _, c := range conflicts {
		covered := false
		for i, p := range pointers {
			if fieldUnder(c.Field, pointerField(p)) {
				used[i], covered = true, true
			}
		}
		if !covered {
			rest = append(rest, c)
		}
	}
	for i, p := range pointers {
		if used[i] {
			covering = append(covering, p)
		}
	}
	return covering, rest
}

// pointerField writes a JSON pointer in the API server's field path notation: /spec/replicas
// becomes .spec.replicas.
func pointerField(pointer string) string {
	if pointer == "" || pointer == "/" {
		return ""
	}
	var b strings.Builder
	for _, raw := range strings.Split(strings.TrimPrefix(pointer, "/"), "/") {
		b.WriteString(".")
		b.WriteString(strings.ReplaceAll(strings.ReplaceAll(raw, "~1", "/"), "~0", "~"))
	}
	return b.String()
}

// fieldUnder reports whether field is prefix or lies under it.
func fieldUnder(field, prefix string) bool {
	if prefix == "" {
		return false
	}
	return field == prefix || strings.HasPrefix(field, prefix+".") || strings.HasPrefix(field, prefix+"[")
}

package v1alpha1

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// MaxInventoryEntries bounds status.inventory.entries.
const MaxInventoryEntries = 10000

// ErrInvalidInventoryID is returned by ParseObjectRef for a string that is not an inventory ID.
var ErrInvalidInventoryID = errors.New("invalid inventory id")

// Inventory lists the objects a release applied, so that the next revision can prune what it no
// longer renders and uninstall knows what to delete.
type Inventory struct {
	// Entries are the applied objects, sorted by id.
	// +kubebuilder:validation:MaxItems=10000
	// +optional
	Entries []InventoryEntry `json:"entries,omitempty"`
}

// InventoryEntry identifies one applied object.
type InventoryEntry struct {
	// ID is "<namespace>_<name>_<group>_<kind>"; namespace is empty for a cluster-scoped object
	// and group is empty for the core group, for example "web_nginx_apps_Deployment" or
	// "_web__Namespace".
	// +kubebuilder:validation:MinLength=4
	// +kubebuilder:validation:MaxLength=1024
	// +required
	ID string `json:"id"`

	// Version is the API version (without the group) the object was applied with, such as v1.
	// +kubebuilder:validation:MaxLength=63
	// +required
	Version string `json:"v"`
}

// ObjectRef identifies an object by group, kind, namespace and name: the parts of an inventory
// ID.
type ObjectRef struct {
	// Namespace is empty for a cluster-scoped object.
	Namespace string
	// Name is the object's name.
	Name string
	// Group is empty for the core group.
	Group string
	// Kind is the object's kind.
	Kind string
}

// ID returns the inventory ID of the object, "<namespace>_<name>_<group>_<kind>".
func (r ObjectRef) ID() string {
	return r.Namespace + "_" + r.Name + "_" + r.Group + "_" + r.Kind
}

// String returns the ID.
func (r ObjectRef) String() string { return r.ID() }

// ParseObjectRef parses an inventory ID. Namespaces, groups and kinds never contain an
// underscore, so the namespace is the text before the first one and the group and kind the
// text after the last two; the name is everything in between and may itself hold underscores.
func ParseObjectRef(id string) (ObjectRef, error) {
	ns, rest, ok := strings.Cut(id, "_")
	rest, kind, ok2 := cutLast(rest)
	name, group, ok3 := cutLast(rest)
	if !ok || !ok2 || !ok3 {
		return ObjectRef{}, fmt.Errorf("%w %q: want <namespace>_<name>_<group>_<kind>", ErrInvalidInventoryID, id)
	}
	if name == "" || kind == "" {
		return ObjectRef{}, fmt.Errorf("%w %q: name and kind must not be empty", ErrInvalidInventoryID, id)
	}
	return ObjectRef{Namespace: ns, Name: name, Group: group, Kind: kind}, nil
}

// cutLast splits s around its last underscore.
func cutLast(s string) (before, after string, found bool) {
	i := strings.LastIndexByte(s, '_')
	if i < 0 {
		return s, "", false
	}
	return s[:i], s[i+1:], true
}

// NewInventoryEntry returns the entry of an object applied with the given API version (without
// the group).
func NewInventoryEntry(ref ObjectRef, version string) InventoryEntry {
	return InventoryEntry{ID: ref.ID(), Version: version}
}

// ObjectRef parses the entry's ID.
func (e InventoryEntry) ObjectRef() (ObjectRef, error) {
	return ParseObjectRef(e.ID)
}

// NewInventory returns an inventory of the given entries, sorted by ID, with one entry per ID
// (the last one given wins).
func NewInventory(entries ...InventoryEntry) *Inventory {
	byID := make(map[string]InventoryEntry, len(entries))
	for _, e := range entries {
		byID[e.ID] = e
	}
	out := make([]InventoryEntry, 0, len(byID))
	for _, e := range byID {
		out = append(out, e)
	}
	slices.SortFunc(out, func(a, b InventoryEntry) int { return strings.Compare(a.ID, b.ID) })
	return &Inventory{Entries: out}
}

// Len returns the number of entries; a nil inventory has none.
func (in *Inventory) Len() int {
	if in == nil {
		return 0
	}
	return len(in.Entries)
}

// Stale returns the entries of this inventory whose objects are not in next, in this
// inventory's order: what to prune after next is applied. A nil next makes every entry stale.
func (in *Inventory) Stale(next *Inventory) []InventoryEntry {
	if in == nil {
		return nil
	}
	keep := make(map[string]struct{}, next.Len())
	if next != nil {
		for _, e := range next.Entries {
			keep[e.ID] = struct{}{}
		}
	}
	var out []InventoryEntry
	for _, e := range in.Entries {
		if _, ok := keep[e.ID]; !ok {
			out = append(out, e)
		}
	}
	return out
}

// Contains reports whether the inventory holds the object, whatever its version.
func (in *Inventory) Contains(ref ObjectRef) bool {
	if in == nil {
		return false
	}
	id := ref.ID()
	return slices.ContainsFunc(in.Entries, func(e InventoryEntry) bool { return e.ID == id })
}

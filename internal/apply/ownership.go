package apply

import (
	"fmt"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// ReleaseAnnotation carries Capstan's identity of the release an object belongs to:
// "<storage namespace>/<release name>". Helm's annotations name the release and the namespace
// helm stores it in, which for helm is also where the objects go; a Capstan release may store its
// records in one namespace and install into another, so Capstan records the identity it compares
// on in an annotation of its own.
const ReleaseAnnotation = "capstan.dev/release"

// Holder says who an object belongs to, as far as its metadata tells.
type Holder int

// The holders OwnershipOf tells apart.
const (
	// HeldByNobody means the object carries no release identity at all.
	HeldByNobody Holder = iota
	// HeldByThisRelease means the object carries this release's identity.
	HeldByThisRelease
	// HeldByAnotherRelease means the object carries the identity of another release, Capstan's or helm's.
	HeldByAnotherRelease
)

// Ownership is what a live object's metadata says about the release it belongs to.
type Ownership struct {
	Holder Holder
	// Release names the other release as "namespace/name" when Holder is HeldByAnotherRelease.
	Release string
	// Helm is set when only helm's annotations name the release (the object has no Capstan identity).
	Helm bool
	// Legacy is set for an object without a Capstan identity whose helm annotations name this
	// release's name and its target namespace (which differs from its storage namespace), and
	// whose fields Capstan's field manager wrote. Capstan wrote objects that way before it
	// recorded its identity; a helm release stored in the target namespace under the same name
	// looks the same but for the field manager. The object is this release's only when the
	// release's own records or inventory list it too: records can be written by whoever may write
	// Secrets in the storage namespace, the field manager only by whoever may write the object.
	Legacy bool
}

// OwnershipOf decides who obj belongs to with respect to owner. Capstan's identity annotation
// decides when it is there; otherwise helm's annotations name a release (storage namespace, name),
// which is this release when both match owner's storage namespace and name. An object with
// neither belongs to nobody. Helm's managed-by label is written but not relied on.
func OwnershipOf(obj metav1.Object, owner Owner) Ownership {
	ann := obj.GetAnnotations()
	if id := ann[ReleaseAnnotation]; id != "" {
		if id == owner.ID() {
			return Ownership{Holder: HeldByThisRelease}
		}
		return Ownership{Holder: HeldByAnotherRelease, Release: id}
	}
	name, ns := ann[ReleaseNameAnnotation], ann[ReleaseNamespaceAnnotation]
	switch {
	case name == "" && ns == "":
		return Ownership{Holder: HeldByNobody}
	case name == owner.Name && ns == owner.Storage():
		return Ownership{Holder: HeldByThisRelease, Helm: true}
	}
	return Ownership{Holder: HeldByAnotherRelease, Release: ns + "/" + name, Helm: true,
		Legacy: name == owner.Name && ns == owner.Namespace && writtenBy(obj, FieldManager)}
}

// writtenBy reports whether a field manager has written some of obj's fields.
func writtenBy(obj metav1.Object, manager string) bool {
	for _, f := range obj.GetManagedFields() {
		if f.Manager == manager {
			return true
		}
	}
	return false
}

// Ours reports whether the object belongs to this release; listed says whether the release's own
// records or inventory list it, which settles a Legacy object.
func (o Ownership) Ours(listed bool) bool {
	return o.Holder == HeldByThisRelease || (o.Legacy && listed)
}

// Problem explains why an object that is not this release's cannot be written by it, or returns "".
func (o Ownership) Problem() string {
	switch {
	case o.Holder == HeldByThisRelease:
		return ""
	case o.Holder == HeldByNobody:
		return "exists and is not managed by any release"
	case o.Helm:
		return fmt.Sprintf("owned by helm release %s", o.Release)
	default:
		return fmt.Sprintf("owned by release %s", o.Release)
	}
}

// Storage is the namespace that holds the release's records: StorageNamespace, or Namespace as
// for a helm release.
func (o Owner) Storage() string {
	if o.StorageNamespace != "" {
		return o.StorageNamespace
	}
	return o.Namespace
}

// ID is the release's identity as ReleaseAnnotation carries it: "<storage namespace>/<name>".
func (o Owner) ID() string { return o.Storage() + "/" + o.Name }

// listedIDs indexes references by ID.
func listedIDs(refs []ObjectRef) map[string]bool {
	out := make(map[string]bool, len(refs))
	for _, r := range refs {
		out[r.ID()] = true
	}
	return out
}

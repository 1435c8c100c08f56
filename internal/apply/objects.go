package apply

import (
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// Helm's ownership metadata, which Capstan writes and reads so that the two recognise each other's objects.
const (
	ManagedByLabel             = "app.kubernetes.io/managed-by"
	ManagedByHelm              = "Helm"
	ReleaseNameAnnotation      = "meta.helm.sh/release-name"
	ReleaseNamespaceAnnotation = "meta.helm.sh/release-namespace"
	ResourcePolicyAnnotation   = "helm.sh/resource-policy"
	KeepPolicy                 = "keep"
)

// FieldManager is the server-side apply field manager of every write Capstan makes.
const FieldManager = "capstan"

// Owner identifies the release that owns a set of objects: the namespace that stores its records
// and its name. Namespace is where its namespaced objects go when they name none.
type Owner struct {
	// Name is the release name.
	Name string
	// Namespace is the release's target namespace.
	Namespace string
	// StorageNamespace holds the release's records; empty means Namespace, as for a helm release.
	StorageNamespace string
}

// ObjectRef identifies one object of a release.
type ObjectRef struct {
	Group     string
	Version   string
	Kind      string
	Namespace string
	Name      string
}

// RefOf returns the reference of an object.
func RefOf(u *unstructured.Unstructured) ObjectRef {
	gvk := u.GroupVersionKind()
	return ObjectRef{Group: gvk.Group, Version: gvk.Version, Kind: gvk.Kind, Namespace: u.GetNamespace(), Name: u.GetName()}
}

// GroupVersionKind returns the reference's GVK.
func (r ObjectRef) GroupVersionKind() schema.GroupVersionKind {
	return schema.GroupVersionKind{Group: r.Group, Version: r.Version, Kind: r.Kind}
}

// ID is the version-independent identity of the object: namespace_name_group_kind, as Flux writes it.
func (r ObjectRef) ID() string {
	return strings.Join([]string{r.Namespace, r.Name, r.Group, r.Kind}, "_")
}

// String names the object the way error messages do: Kind/namespace/name or Kind/name.
func (r ObjectRef) String() string {
	if r.Namespace == "" {
		return fmt.Sprintf("%s/%s", r.Kind, r.Name)
	}
	return fmt.Sprintf("%s/%s/%s", r.Kind, r.Namespace, r.Name)
}

// ParseID turns an ID written by ObjectRef.ID back into a reference (without a version).
func ParseID(id string) (ObjectRef, error) {
	parts := strings.Split(id, "_")
	if len(parts) != 4 {
		return ObjectRef{}, fmt.Errorf("inventory entry %q is not namespace_name_group_kind", id)
	}
	return ObjectRef{Namespace: parts[0], Name: parts[1], Group: parts[2], Kind: parts[3]}, nil
}

// SetOwnership stamps Helm's ownership label and annotations for owner on obj, naming the
// release's storage namespace as helm does, and Capstan's identity annotation.
func SetOwnership(obj *unstructured.Unstructured, owner Owner) {
	labels := obj.GetLabels()
	if labels == nil {
		labels = map[string]string{}
	}
	labels[ManagedByLabel] = ManagedByHelm
	obj.SetLabels(labels)
	ann := obj.GetAnnotations()
	if ann == nil {
		ann = map[string]string{}
	}
	ann[ReleaseNameAnnotation] = owner.Name
	ann[ReleaseNamespaceAnnotation] = owner.Storage()
	ann[ReleaseAnnotation] = owner.ID()
	obj.SetAnnotations(ann)
}

// OwnedBy reports whether a live object carries owner's identity (see OwnershipOf).
func OwnedBy(obj *unstructured.Unstructured, owner Owner) bool {
	return OwnershipOf(obj, owner).Holder == HeldByThisRelease
}

// Keep reports whether obj asks to survive pruning and uninstall.
func Keep(obj *unstructured.Unstructured) bool {
	return strings.TrimSpace(obj.GetAnnotations()[ResourcePolicyAnnotation]) == KeepPolicy
}

// IsCRD reports whether obj is a CustomResourceDefinition.
func IsCRD(obj *unstructured.Unstructured) bool {
	gvk := obj.GroupVersionKind()
	return gvk.Group == "apiextensions.k8s.io" && gvk.Kind == "CustomResourceDefinition"
}

// IsNamespace reports whether obj is a Namespace.
func IsNamespace(obj *unstructured.Unstructured) bool {
	gvk := obj.GroupVersionKind()
	return gvk.Group == "" && gvk.Kind == "Namespace"
}

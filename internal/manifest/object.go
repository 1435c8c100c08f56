package manifest

import (
	"errors"
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	utiljson "k8s.io/apimachinery/pkg/util/json"
	"sigs.k8s.io/yaml"
)

// ErrInvalidObject marks a document that cannot be applied: not a mapping, or missing apiVersion,
// kind or metadata.name.
var ErrInvalidObject = errors.New("invalid object")

// ErrDuplicateObject marks two documents that describe the same object.
var ErrDuplicateObject = errors.New("duplicate object")

// Object is one document parsed for the apply stage.
type Object struct {
	// Source is the template the document came from.
	Source string
	// Object is the parsed document; integers are int64, as the API machinery expects.
	Object *unstructured.Unstructured
}

// ObjectID identifies an object in a cluster. Version is left out on purpose: the same object
// served under two versions is still one object.
type ObjectID struct {
	Group, Kind, Namespace, Name string
}

func (id ObjectID) String() string {
	gk := schema.GroupKind{Group: id.Group, Kind: id.Kind}.String()
	if id.Namespace == "" {
		return gk + " " + id.Name
	}
	return gk + " " + id.Namespace + "/" + id.Name
}

// ID returns the object's identity. An object without a namespace is placed in defaultNamespace,
// which is where the apply stage puts namespaced objects; pass "" for cluster-scoped views.
func (o Object) ID(defaultNamespace string) ObjectID {
	gvk := o.Object.GroupVersionKind()
	ns := o.Object.GetNamespace()
	if ns == "" {
		ns = defaultNamespace
	}
	return ObjectID{Group: gvk.Group, Kind: gvk.Kind, Namespace: ns, Name: o.Object.GetName()}
}

// ParseObjects parses every manifest into objects, in order. Documents that are empty (only
// comments) yield nothing; a v1 List yields its items. It fails on a document that is not a
// mapping, naming the template.
func ParseObjects(manifests []Manifest) ([]Object, error) {
	var objs []Object
	for _, m := range manifests {
		parsed, err := parseDocument(m.Content)
		if err != nil {
			return nil, fmt.Errorf("%w: document from %s: %w", ErrInvalidObject, m.Name, err)
		}
		for _, u := range parsed {
			objs = append(objs, Object{Source: m.Name, Object: u})
		}
	}
	return objs, nil
}

func parseDocument(doc string) ([]*unstructured.Unstructured, error) {
	js, err := yaml.YAMLToJSON([]byte(doc))
	if err != nil {
		return nil, err
	}
	var content any
	if err := utiljson.Unmarshal(js, &content); err != nil {
		return nil, err
	}
	if content == nil {
		return nil, nil
	}
	obj, ok := content.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("not a mapping but %T", content)
	}
	return expandList(&unstructured.Unstructured{Object: obj})
}

// expandList returns the items of a v1 List (what kubectl and Helm's kube client flatten) and any
// other object as it is.
func expandList(u *unstructured.Unstructured) ([]*unstructured.Unstructured, error) {
	if u.GetAPIVersion() != "v1" || u.GetKind() != "List" {
		return []*unstructured.Unstructured{u}, nil
	}
	items, ok := u.Object["items"].([]any)
	if !ok && u.Object["items"] != nil {
		return nil, errors.New("items of a List must be a list")
	}
	out := make([]*unstructured.Unstructured, 0, len(items))
	for i, item := range items {
		m, ok := item.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("item %d of a List is not a mapping", i)
		}
		out = append(out, &unstructured.Unstructured{Object: m})
	}
	return out, nil
}

// Validate checks that a set of manifests can be applied as one release: every document parses,
// every object has apiVersion, kind and metadata.name (generateName alone is refused because such
// an object cannot be tracked), and no two documents describe the same group, kind, namespace and
// name. Objects without a namespace count as being in namespace. All problems are reported
// together, each naming its template.
func Validate(manifests []Manifest, namespace string) error {
	objs, err := ParseObjects(manifests)
	if err != nil {
		return err
	}
	return ValidateObjects(objs, namespace)
}

// ValidateObjects is Validate for documents ParseObjects has already parsed, so that a caller
// that needs the objects parses the YAML once.
func ValidateObjects(objs []Object, namespace string) error {
	var errs []error
	seen := make(map[ObjectID]string, len(objs))
	for _, o := range objs {
		if err := checkFields(o); err != nil {
			errs = append(errs, err)
			continue
		}
		id := o.ID(namespace)
		if first, dup := seen[id]; dup {
			errs = append(errs, fmt.Errorf("%w: %s is rendered by %s and again by %s", ErrDuplicateObject, id, first, o.Source))
			continue
		}
		seen[id] = o.Source
	}
	return errors.Join(errs...)
}

func checkFields(o Object) error {
	var missing []string
	u := o.Object
	if u.GetAPIVersion() == "" {
		missing = append(missing, "apiVersion")
	}
	if u.GetKind() == "" {
		missing = append(missing, "kind")
	}
	if u.GetName() == "" {
		missing = append(missing, "metadata.name")
	}
	if len(missing) == 0 {
		if u.GetGenerateName() != "" {
			return fmt.Errorf("%w: document from %s: metadata.name and metadata.generateName cannot both be set", ErrInvalidObject, o.Source)
		}
		return nil
	}
	msg := "missing " + strings.Join(missing, ", ")
	if u.GetGenerateName() != "" {
		msg += " (metadata.generateName is not supported: such objects cannot be tracked)"
	}
	return fmt.Errorf("%w: document from %s: %s", ErrInvalidObject, o.Source, msg)
}

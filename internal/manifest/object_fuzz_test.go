package manifest

import (
	"testing"
)

// FuzzValidate feeds arbitrary document streams to Validate: it never panics, and when it accepts
// a set, every object has apiVersion, kind and a name, no generateName, and no two objects share
// an identity.
func FuzzValidate(f *testing.F) {
	f.Add("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n")
	f.Add("apiVersion: v1\nkind: Pod\nmetadata:\n  generateName: x-\n")
	f.Add("apiVersion: v1\nkind: List\nitems:\n- {apiVersion: v1, kind: A, metadata: {name: a}}\n- 5\n")
	f.Add("# only a comment\n---\n[1, 2]\n")
	f.Add("apiVersion: v1\nkind: A\nmetadata: {name: a, namespace: default}\n---\napiVersion: v1\nkind: A\nmetadata: {name: a}\n")
	f.Fuzz(func(t *testing.T, text string) {
		var ms []Manifest
		for _, d := range Split(text) {
			ms = append(ms, Manifest{Name: "c/templates/x.yaml", Content: d, Head: &Head{}})
		}
		if Validate(ms, "default") != nil {
			return
		}
		objs, err := ParseObjects(ms)
		if err != nil {
			t.Fatalf("Validate accepted what ParseObjects refuses: %v", err)
		}
		seen := map[ObjectID]bool{}
		for _, o := range objs {
			u := o.Object
			if u.GetAPIVersion() == "" || u.GetKind() == "" || u.GetName() == "" || u.GetGenerateName() != "" {
				t.Fatalf("accepted an incomplete object: %v", u.Object)
			}
			id := o.ID("default")
			if seen[id] {
				t.Fatalf("accepted a duplicate %s", id)
			}
			seen[id] = true
		}
	})
}

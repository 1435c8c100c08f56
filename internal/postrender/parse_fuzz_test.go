package postrender

import (
	"testing"

	"sigs.k8s.io/yaml"
)

// FuzzParse checks that any --post-renderers file either parses into post-renderers that all
// have kustomize, and survive a round trip, or is refused with an error; it never panics.
func FuzzParse(f *testing.F) {
	f.Add([]byte("- kustomize:\n    patches:\n    - target: {kind: Service}\n      patch: '[]'\n    images:\n    - {name: a, newTag: b}\n"))
	f.Add([]byte("- {}\n"))
	f.Add([]byte("kustomize: {}"))
	f.Add([]byte("- kustomize: {patches: [{patch: x, optional: true}]}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		steps, err := Parse(data)
		if err != nil {
			return
		}
		for i, s := range steps {
			if s.Kustomize == nil {
				t.Fatalf("step %d has no kustomize", i)
			}
		}
		again, err := yaml.Marshal(steps)
		if err != nil {
			t.Fatalf("marshal: %v", err)
		}
		if _, err := Parse(again); err != nil {
			t.Fatalf("a parsed list does not parse again: %v\n%s", err, again)
		}
	})
}

package openset

import (
	"testing"

	. "github.com/onsi/gomega"

	capstanv1 "github.com/capstan-dev/capstan/api/v1alpha1"
)

func TestContainedIn(t *testing.T) {
	cases := map[string]struct {
		want, got map[string]any
		diffs     []string
	}{
		"fields the API server added are allowed": {
			want: map[string]any{"replicas": 1.0},
			got:  map[string]any{"replicas": int64(1), "revisionHistoryLimit": int64(10)},
		},
		"a changed value is reported with its path": {
			want:  map[string]any{"image": "a:1"},
			got:   map[string]any{"image": "a:2"},
			diffs: []string{"o.image: want a:1, live has a:2"},
		},
		"a rendered field missing from the live object is reported": {
			want:  map[string]any{"ports": []any{map[string]any{"port": 80.0}}},
			got:   map[string]any{},
			diffs: []string{"o.ports: missing from the live object"},
		},
		"a list of another length is reported": {
			want:  map[string]any{"args": []any{"a", "b"}},
			got:   map[string]any{"args": []any{"a"}},
			diffs: []string{"o.args: want 2 items, live has 1 items"},
		},
		"zero values the API types omit may be absent": {
			want: map[string]any{"hostNetwork": false, "x": 0.0, "s": "", "m": map[string]any{}, "l": []any{}, "n": nil},
			got:  map[string]any{},
		},
		"a quantity the API server canonicalised is the same value": {
			want: map[string]any{"pods": 100.0, "cpu": "0.5"},
			got:  map[string]any{"pods": "100", "cpu": "500m"},
		},
		"a different quantity is reported": {
			want:  map[string]any{"memory": "1Gi"},
			got:   map[string]any{"memory": "1G"},
			diffs: []string{"o.memory: want 1Gi, live has 1G"},
		},
		"a string that is not a number does not match a number": {
			want:  map[string]any{"port": 80.0},
			got:   map[string]any{"port": "http"},
			diffs: []string{"o.port: want 80, live has http"},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			NewWithT(t).Expect(containedIn("o", tc.want, tc.got)).To(Equal(tc.diffs))
		})
	}
}

func TestParseRendered(t *testing.T) {
	g := NewWithT(t)
	out := `---
# Source: gk/crds/a.yaml
---
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: as.example.com
---
# Source: gk/templates/job.yaml
apiVersion: batch/v1
kind: Job
metadata:
  name: hook
  annotations:
    helm.sh/hook: post-install
---
# Source: gk/charts/sub/templates/crds.yaml
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: bs.example.com
---
# Source: gk/charts/sub/crds/c.yaml
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: cs.example.com
`
	docs, err := parseRendered(out)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(docs).To(HaveLen(4))
	type summary struct {
		Name, Source  string
		Hook, CRDsDir bool
	}
	var got []summary
	for _, d := range docs {
		got = append(got, summary{d.obj.GetName(), d.source, d.isHook(), d.fromCRDDir()})
	}
	g.Expect(got).To(Equal([]summary{
		{"as.example.com", "gk/crds/a.yaml", false, true},
		{"hook", "gk/templates/job.yaml", true, false},
		{"bs.example.com", "gk/charts/sub/templates/crds.yaml", false, false},
		{"cs.example.com", "gk/charts/sub/crds/c.yaml", false, true},
	}))

	_, err = parseRendered("---\nkind: [unclosed\n")
	g.Expect(err).To(HaveOccurred())
}

func TestInventoryKeys(t *testing.T) {
	cases := map[string]struct {
		id      string
		want    objKey
		invalid bool
	}{
		"a namespaced object of a named group": {id: "web_nginx_apps_Deployment",
			want: objKey{Namespace: "web", Name: "nginx", Group: "apps", Kind: "Deployment"}},
		"a cluster-scoped object of the core group": {id: "_web__Namespace", want: objKey{Name: "web", Kind: "Namespace"}},
		"a name holding the separator":              {id: "ns_a_b_g_K", want: objKey{Namespace: "ns", Name: "a_b", Group: "g", Kind: "K"}},
		"an ID with too few parts is refused":       {id: "a_b_c", invalid: true},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			rel := &capstanv1.Release{}
			rel.Status.Inventory = &capstanv1.Inventory{Entries: []capstanv1.InventoryEntry{{ID: tc.id, Version: "v1"}}}
			keys, err := inventoryKeys(rel)
			if tc.invalid {
				g.Expect(err).To(HaveOccurred())
				return
			}
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(keys).To(Equal([]objKey{tc.want}))
		})
	}
}

// FuzzParseRendered checks that any text parses without a panic into non-empty objects.
func FuzzParseRendered(f *testing.F) {
	f.Add("---\n# Source: c/templates/a.yaml\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n")
	f.Add("---\n# Source: c/crds/a.yaml\n---\nkind: X\n")
	f.Add("---\n---\n\n")
	f.Add("kind: [")
	f.Fuzz(func(t *testing.T, out string) {
		docs, err := parseRendered(out)
		if err != nil {
			return
		}
		for _, d := range docs {
			if len(d.obj.Object) == 0 {
				t.Fatalf("an empty document was kept from %q", out)
			}
			_ = d.fromCRDDir()
		}
	})
}

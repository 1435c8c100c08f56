package manifest

import (
	"testing"

	. "github.com/onsi/gomega"
)

func manifests(docs map[string]string) []Manifest {
	var out []Manifest
	for _, name := range sortedKeys(docs) {
		for _, d := range Split(docs[name]) {
			out = append(out, Manifest{Name: name, Content: d, Head: &Head{}})
		}
	}
	return out
}

func TestValidate(t *testing.T) {
	cases := map[string]struct {
		docs map[string]string
		want []string // substrings of the error; nil means no error
	}{
		"distinct objects pass": {
			docs: map[string]string{"p/templates/a.yaml": doc("ConfigMap", "a") + "---\n" + doc("Secret", "a")},
		},
		"comment-only documents are ignored": {
			docs: map[string]string{"p/templates/a.yaml": "# nothing\n---\n" + doc("ConfigMap", "a")},
		},
		"the same kind and name twice is a duplicate, naming both templates": {
			docs: map[string]string{"p/templates/a.yaml": doc("ConfigMap", "a"), "p/templates/b.yaml": doc("ConfigMap", "a")},
			want: []string{"duplicate object", "ConfigMap default/a", "p/templates/a.yaml", "p/templates/b.yaml"},
		},
		"an explicit release namespace equals an omitted one": {
			docs: map[string]string{"p/templates/a.yaml": doc("ConfigMap", "a") + "---\n" +
				"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n  namespace: default\n"},
			want: []string{"duplicate object"},
		},
		"other namespaces are other objects": {
			docs: map[string]string{"p/templates/a.yaml": doc("ConfigMap", "a") + "---\n" +
				"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n  namespace: other\n"},
		},
		"two versions of one group and kind are the same object": {
			docs: map[string]string{"p/templates/a.yaml": "apiVersion: x.io/v1\nkind: K\nmetadata:\n  name: a\n---\n" +
				"apiVersion: x.io/v2\nkind: K\nmetadata:\n  name: a\n"},
			want: []string{"duplicate object", "K.x.io default/a"},
		},
		"missing fields are listed with the template": {
			docs: map[string]string{"p/templates/a.yaml": "metadata:\n  labels: {}\n"},
			want: []string{"invalid object", "p/templates/a.yaml", "missing apiVersion, kind, metadata.name"},
		},
		"generateName alone is refused": {
			docs: map[string]string{"p/templates/a.yaml": "apiVersion: v1\nkind: Pod\nmetadata:\n  generateName: x-\n"},
			want: []string{"missing metadata.name", "generateName is not supported"},
		},
		"name and generateName together are refused": {
			docs: map[string]string{"p/templates/a.yaml": "apiVersion: v1\nkind: Pod\nmetadata:\n  name: x\n  generateName: x-\n"},
			want: []string{"cannot both be set"},
		},
		"a document that is not a mapping is refused": {
			docs: map[string]string{"p/templates/a.yaml": "- 1\n"},
			want: []string{"invalid object", "p/templates/a.yaml", "not a mapping"},
		},
		"items of a v1 List are checked one by one": {
			docs: map[string]string{"p/templates/a.yaml": "apiVersion: v1\nkind: List\nitems:\n- " +
				"{apiVersion: v1, kind: ConfigMap, metadata: {name: a}}\n- {apiVersion: v1, kind: ConfigMap, metadata: {name: a}}\n"},
			want: []string{"duplicate object"},
		},
		"every problem is reported": {
			docs: map[string]string{"p/templates/a.yaml": "kind: X\nmetadata: {name: a}\n---\napiVersion: v1\nmetadata: {name: b}\n"},
			want: []string{"missing apiVersion", "missing kind"},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			err := Validate(manifests(tc.docs), "default")
			if tc.want == nil {
				g.Expect(err).NotTo(HaveOccurred())
				return
			}
			g.Expect(err).To(HaveOccurred())
			for _, s := range tc.want {
				g.Expect(err.Error()).To(ContainSubstring(s))
			}
		})
	}
}

func TestParseObjects(t *testing.T) {
	g := NewWithT(t)
	objs, err := ParseObjects(manifests(map[string]string{"p/templates/a.yaml": "apiVersion: apps/v1\nkind: Deployment\n" +
		"metadata:\n  name: d\nspec:\n  replicas: 3\n"}))
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(objs).To(HaveLen(1))
	g.Expect(objs[0].Source).To(Equal("p/templates/a.yaml"))
	g.Expect(objs[0].ID("ns")).To(Equal(ObjectID{Group: "apps", Kind: "Deployment", Namespace: "ns", Name: "d"}))
	g.Expect(objs[0].Object.Object["spec"]).To(Equal(map[string]any{"replicas": int64(3)}))
}

func TestValidateObjects_checksWhatParseObjectsParsed(t *testing.T) {
	g := NewWithT(t)
	ms := manifests(map[string]string{"p/templates/a.yaml": doc("ConfigMap", "a"), "p/templates/b.yaml": doc("ConfigMap", "a")})
	objs, err := ParseObjects(ms)
	g.Expect(err).NotTo(HaveOccurred())
	err = ValidateObjects(objs, "default")
	g.Expect(err).To(MatchError(ErrDuplicateObject))
	g.Expect(err).To(MatchError(Validate(ms, "default").Error()), "the same report as Validate")
	g.Expect(ValidateObjects(objs[:1], "default")).To(Succeed())
}

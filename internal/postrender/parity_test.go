package postrender

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	. "github.com/onsi/gomega"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/yaml"

	capstanv1 "github.com/capstan-dev/capstan/api/v1alpha1"
	"github.com/capstan-dev/capstan/internal/manifest"
)

// goldenDir holds helm's own `helm template` output for the conformance corpus.
const goldenDir = "../../test/conformance/golden"

// parityCharts are the corpus renders the parity test post-renders.
var parityCharts = []string{
	"cert-manager", "descheduler", "gatekeeper", "kyverno-policies", "local-path-provisioner",
	"metrics-server", "podinfo", "sealed-secrets", "trust-manager", "metallb",
}

var (
	sourceLine   = regexp.MustCompile(`(?m)^# Source: (.+)\n`)
	workloadKind = regexp.MustCompile(`(?m)^kind: (Deployment|DaemonSet|StatefulSet)\s*$`)
	imageLine    = regexp.MustCompile(`(?m)^\s*(?:- )?image: "?([a-z0-9./-]+)[:@]`)
)

// TestPostRenderer_PostRender_kustomizeParity post-renders helm's output for corpus charts
// and compares it, document by document and in order, with what kustomize's reference engine
// (krusty, as `kustomize build` runs it) makes of the same documents and a kustomization.yaml
// written on disk with the same patches, image override and labels.
func TestPostRenderer_PostRender_kustomizeParity(t *testing.T) {
	for _, chart := range parityCharts {
		t.Run(chart, func(t *testing.T) {
			g := NewWithT(t)
			data, err := os.ReadFile(filepath.Join(goldenDir, chart, "default.yaml"))
			g.Expect(err).NotTo(HaveOccurred())
			order, files := splitGolden(string(data))
			image := workloadImage(order, files)
			steps, common := parityPostRenderers(image)
			out, err := New(steps, common).PostRender(files)
			g.Expect(err).NotTo(HaveOccurred())
			var ours []string
			for _, name := range order {
				ours = append(ours, manifest.Split(out[name])...)
			}

			want := kustomizeBuild(t, order, files, image)
			g.Expect(ours).To(HaveLen(len(want)))
			changed := 0
			for i := range want {
				if d := cmp.Diff(decode(t, want[i]), decode(t, ours[i])); d != "" {
					t.Errorf("document %d differs from kustomize build's (-kustomize +ours):\n%s", i, d)
				}
				if !strings.Contains(ours[i], "parity.example/common") {
					t.Errorf("document %d has no common label", i)
				}
				if strings.Contains(ours[i], "parity") && strings.Contains(ours[i], ":parity") {
					changed++
				}
			}
			if image != noImage {
				g.Expect(changed).To(BeNumerically(">", 0), "the image override changed something")
			}
			t.Logf("%s: %d documents from %d templates equal kustomize build's", chart, len(want), len(order))
		})
	}
}

// noImage is the image override's name for charts without workloads: it matches nothing.
const noImage = "no-such-image"

// workloadImage is the first image of the first Deployment, DaemonSet or StatefulSet.
func workloadImage(order []string, files map[string]string) string {
	for _, name := range order {
		for _, doc := range manifest.Split(files[name]) {
			if !workloadKind.MatchString(doc) {
				continue
			}
			if m := imageLine.FindStringSubmatch(doc); m != nil {
				return m[1]
			}
		}
	}
	return noImage
}

// parityPostRenderers patch every Deployment (strategic merge), every object with an
// app.kubernetes.io/name label (JSON 6902), override image and add common metadata.
func parityPostRenderers(image string) ([]capstanv1.PostRenderer, *capstanv1.CommonMetadata) {
	return []capstanv1.PostRenderer{{Kustomize: &capstanv1.KustomizePostRenderer{
			Patches: []capstanv1.KustomizePatch{
				{Target: &capstanv1.PatchTarget{Group: "apps", Kind: "Deployment"}, Optional: true, Patch: smpPatch},
				{Target: &capstanv1.PatchTarget{LabelSelector: "app.kubernetes.io/name"}, Optional: true, Patch: jsonPatch},
			},
			Images: []capstanv1.ImageOverride{{Name: image, NewTag: "parity"}},
		}}}, &capstanv1.CommonMetadata{
			Labels:      map[string]string{"parity.example/common": "yes"},
			Annotations: map[string]string{"parity.example/note": "post-rendered"},
		}
}

const (
	smpPatch = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: any
spec:
  revisionHistoryLimit: 3
  template:
    metadata:
      annotations:
        parity.example/patched: "true"
`
	jsonPatch = `- op: add
  path: /metadata/labels/parity.example~1json
  value: "yes"
`
)

// kustomizeBuild runs krusty on a directory on disk holding the documents and a kustomization
// written by hand, and returns the documents it outputs.
func kustomizeBuild(t *testing.T, order []string, files map[string]string, image string) []string {
	t.Helper()
	dir := t.TempDir()
	var stream strings.Builder
	for _, name := range order {
		for _, doc := range manifest.Split(files[name]) {
			stream.WriteString("---\n" + doc)
			if !strings.HasSuffix(doc, "\n") {
				stream.WriteString("\n")
			}
		}
	}
	kustomization := fmt.Sprintf(`apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
- resources.yaml
sortOptions:
  order: fifo
patches:
- target:
    group: apps
    kind: Deployment
  patch: |
%s- target:
    labelSelector: app.kubernetes.io/name
  patch: |
%simages:
- name: %s
  newTag: parity
labels:
- pairs:
    parity.example/common: "yes"
transformers:
- annotations.yaml
`, indent(smpPatch), indent(jsonPatch), image)
	annotations := `apiVersion: builtin
kind: AnnotationsTransformer
metadata:
  name: notes
annotations:
  parity.example/note: post-rendered
fieldSpecs:
- path: metadata/annotations
  create: true
`
	for name, content := range map[string]string{
		"resources.yaml": stream.String(), "kustomization.yaml": kustomization, "annotations.yaml": annotations,
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	opts := krusty.MakeDefaultOptions()
	opts.Reorder = krusty.ReorderOptionUnspecified // `kustomize build`'s default: sortOptions decide
	m, err := krusty.MakeKustomizer(opts).Run(filesys.MakeFsOnDisk(), dir)
	if err != nil {
		t.Fatalf("kustomize build: %v", err)
	}
	out, err := m.AsYaml()
	if err != nil {
		t.Fatal(err)
	}
	return manifest.Split(string(out))
}

func indent(s string) string {
	return "    " + strings.ReplaceAll(strings.TrimSuffix(s, "\n"), "\n", "\n    ") + "\n"
}

// splitGolden cuts helm's output into its templates, in the order helm printed them.
func splitGolden(text string) ([]string, map[string]string) {
	var order []string
	files := map[string]string{}
	for _, doc := range manifest.Split(text) {
		m := sourceLine.FindStringSubmatch(doc)
		if m == nil {
			continue
		}
		body := strings.TrimSpace(strings.Replace(doc, m[0], "", 1))
		if body == "" {
			continue
		}
		if _, seen := files[m[1]]; !seen {
			order = append(order, m[1])
			files[m[1]] = body + "\n"
			continue
		}
		files[m[1]] += "---\n" + body + "\n"
	}
	return order, files
}

func decode(t *testing.T, doc string) map[string]any {
	t.Helper()
	var v map[string]any
	if err := yaml.Unmarshal([]byte(doc), &v); err != nil {
		t.Fatalf("decoding %q: %v", doc, err)
	}
	return v
}

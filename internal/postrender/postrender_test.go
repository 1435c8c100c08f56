package postrender

import (
	"errors"
	"testing"

	. "github.com/onsi/gomega"

	capstanv1 "github.com/capstan-dev/capstan/api/v1alpha1"
)

const (
	deployment = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: shop
  labels:
    app: web
spec:
  selector:
    matchLabels:
      app: web
  template:
    metadata:
      labels:
        app: web
    spec:
      containers:
      - name: web
        image: nginx:1.27
      - name: sidecar
        image: ghcr.io/example/proxy:v1
`
	service = `apiVersion: v1
kind: Service
metadata:
  name: web
  labels:
    app: web
spec:
  ports:
  - port: 80
`
	configMap = `apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
data:
  mode: fast
`
	hook = `apiVersion: batch/v1
kind: Job
metadata:
  name: migrate
  annotations:
    helm.sh/hook: pre-upgrade
spec:
  template:
    spec:
      restartPolicy: Never
      containers:
      - name: migrate
        image: nginx:1.27
`
)

// chartFiles is a small rendered chart: one file with two documents, a hook and a partial.
func chartFiles() map[string]string {
	return map[string]string{
		"web/templates/deployment.yaml": deployment,
		"web/templates/service.yaml":    service + "---\n" + configMap,
		"web/templates/hook.yaml":       hook,
		"web/templates/_helpers.tpl":    "\n",
	}
}

func kustomize(patches []capstanv1.KustomizePatch, images ...capstanv1.ImageOverride) []capstanv1.PostRenderer {
	return []capstanv1.PostRenderer{{Kustomize: &capstanv1.KustomizePostRenderer{Patches: patches, Images: images}}}
}

func TestPostRenderer_PostRender(t *testing.T) {
	cases := map[string]struct {
		steps  []capstanv1.PostRenderer
		common *capstanv1.CommonMetadata
		// want maps a file to substrings its output must hold; absent lists substrings it must not.
		want, absent map[string][]string
	}{
		"a strategic merge patch applies to the objects its target selects": {
			steps: kustomize([]capstanv1.KustomizePatch{{
				Target: &capstanv1.PatchTarget{Kind: "Deployment", Name: "web"},
				Patch:  "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: any\nspec:\n  replicas: 3\n",
			}}),
			want:   map[string][]string{"web/templates/deployment.yaml": {"replicas: 3", "name: web"}},
			absent: map[string][]string{"web/templates/service.yaml": {"replicas"}},
		},
		"a strategic merge patch without a target applies to the object it names": {
			steps: kustomize([]capstanv1.KustomizePatch{{
				Patch: "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  mode: slow\n",
			}}),
			want: map[string][]string{"web/templates/service.yaml": {"mode: slow", "port: 80"}},
		},
		"a JSON 6902 patch applies to its target": {
			steps: kustomize([]capstanv1.KustomizePatch{{
				Target: &capstanv1.PatchTarget{Version: "v1", Kind: "Service"},
				Patch:  "- op: replace\n  path: /spec/ports/0/port\n  value: 8080\n",
			}}),
			want:   map[string][]string{"web/templates/service.yaml": {"port: 8080", "mode: fast"}},
			absent: map[string][]string{"web/templates/service.yaml": {"port: 80\n"}},
		},
		"a label selector and a name pattern select like kustomize": {
			steps: kustomize([]capstanv1.KustomizePatch{{
				Target: &capstanv1.PatchTarget{Name: "w.*", LabelSelector: "app=web"},
				Patch:  "- op: add\n  path: /metadata/labels/patched\n  value: \"yes\"\n",
			}}),
			want: map[string][]string{
				"web/templates/deployment.yaml": {"patched: \"yes\""},
				"web/templates/service.yaml":    {"patched: \"yes\""},
			},
			absent: map[string][]string{"web/templates/hook.yaml": {"patched"}},
		},
		"image overrides set a tag, a name and a digest": {
			steps: kustomize(nil,
				capstanv1.ImageOverride{Name: "nginx", NewName: "registry.example/nginx", NewTag: "1.28"},
				capstanv1.ImageOverride{Name: "ghcr.io/example/proxy", Digest: "sha256:" + sixtyFourA}),
			want: map[string][]string{
				"web/templates/deployment.yaml": {"image: registry.example/nginx:1.28", "image: ghcr.io/example/proxy@sha256:" + sixtyFourA},
				"web/templates/hook.yaml":       {"image: registry.example/nginx:1.28"},
			},
		},
		"hooks are post-rendered and keep their hook annotation": {
			steps: kustomize([]capstanv1.KustomizePatch{{
				Target: &capstanv1.PatchTarget{Group: "batch", Kind: "Job"},
				Patch:  "apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: any\nspec:\n  backoffLimit: 0\n",
			}}),
			want: map[string][]string{"web/templates/hook.yaml": {"backoffLimit: 0", "helm.sh/hook: pre-upgrade"}},
		},
		"the second post-renderer sees the first one's output": {
			steps: append(
				kustomize([]capstanv1.KustomizePatch{{
					Target: &capstanv1.PatchTarget{Kind: "ConfigMap"},
					Patch:  "- op: add\n  path: /metadata/labels\n  value: {stage: one}\n",
				}}),
				kustomize([]capstanv1.KustomizePatch{{
					Target: &capstanv1.PatchTarget{LabelSelector: "stage=one"},
					Patch:  "- op: add\n  path: /data/second\n  value: seen\n",
				}})...),
			want: map[string][]string{"web/templates/service.yaml": {"stage: one", "second: seen"}},
		},
		"common metadata goes on every object's metadata, not on selectors or pod templates": {
			common: &capstanv1.CommonMetadata{Labels: map[string]string{"team": "blue"},
				Annotations: map[string]string{"example.com/owner": "blue"}},
			want: map[string][]string{
				"web/templates/deployment.yaml": {"team: blue", "example.com/owner: blue", "matchLabels:\n      app: web\n"},
				"web/templates/hook.yaml":       {"team: blue", "helm.sh/hook: pre-upgrade"},
				"web/templates/service.yaml":    {"team: blue"},
			},
			absent: map[string][]string{"web/templates/deployment.yaml": {"template:\n    metadata:\n      annotations"}},
		},
		"an optional patch that matches nothing is skipped": {
			steps: kustomize([]capstanv1.KustomizePatch{{
				Target:   &capstanv1.PatchTarget{Kind: "Ingress"},
				Patch:    "- op: add\n  path: /metadata/labels/x\n  value: y\n",
				Optional: true,
			}}),
			want: map[string][]string{"web/templates/service.yaml": {"port: 80"}},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			p := New(tc.steps, tc.common)
			g.Expect(p).NotTo(BeNil())
			out, err := p.PostRender(chartFiles())
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(out).To(HaveLen(3), "every file with documents comes back, the empty partial does not")
			for file, text := range out {
				g.Expect(text).NotTo(ContainSubstring(SourceAnnotation), file)
			}
			for file, subs := range tc.want {
				for _, s := range subs {
					g.Expect(out[file]).To(ContainSubstring(s), file)
				}
			}
			for file, subs := range tc.absent {
				for _, s := range subs {
					g.Expect(out[file]).NotTo(ContainSubstring(s), file)
				}
			}
		})
	}
}

const sixtyFourA = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"

func TestPostRenderer_PostRender_documentOrder(t *testing.T) {
	g := NewWithT(t)
	p := New(nil, &capstanv1.CommonMetadata{Labels: map[string]string{"team": "blue"}})
	out, err := p.PostRender(chartFiles())
	g.Expect(err).NotTo(HaveOccurred())
	text := out["web/templates/service.yaml"]
	g.Expect(text).To(MatchRegexp(`(?s)^apiVersion: v1\nkind: Service\n.*\n---\napiVersion: v1\ndata:\n.*kind: ConfigMap`),
		"the two documents of one file stay in file order")
}

func TestPostRenderer_PostRender_errors(t *testing.T) {
	cases := map[string]struct {
		patches []capstanv1.KustomizePatch
		// path is the patch the error must name; noMatch says whether it is ErrNoMatch.
		path    string
		noMatch bool
		text    string
	}{
		"a target that matches nothing names the patch": {
			patches: []capstanv1.KustomizePatch{
				{Target: &capstanv1.PatchTarget{Kind: "Service"}, Patch: "- op: add\n  path: /metadata/labels/x\n  value: y\n"},
				{Target: &capstanv1.PatchTarget{Kind: "Ingress", Name: "web"}, Patch: "- op: add\n  path: /metadata/labels/x\n  value: y\n"},
			},
			path: "postRenderers[0].kustomize.patches[1]", noMatch: true, text: "target kind=Ingress name=web",
		},
		"a strategic merge patch naming an object that is not rendered": {
			patches: []capstanv1.KustomizePatch{{Patch: "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: absent\ndata:\n  a: b\n"}},
			path:    "postRenderers[0].kustomize.patches[0]", noMatch: true, text: "from the patch itself",
		},
		"a JSON 6902 patch without a target": {
			patches: []capstanv1.KustomizePatch{{Patch: "- op: remove\n  path: /spec\n"}},
			path:    "postRenderers[0].kustomize.patches[0]", text: "a JSON 6902 patch needs a target",
		},
		"a patch that is not YAML": {
			patches: []capstanv1.KustomizePatch{{Patch: "kind: [unclosed"}},
			path:    "postRenderers[0].kustomize.patches[0]", text: "the patch does not parse",
		},
		"a bad label selector": {
			patches: []capstanv1.KustomizePatch{{Target: &capstanv1.PatchTarget{LabelSelector: "a in (("}, Patch: "- op: remove\n  path: /spec\n"}},
			path:    "postRenderers[0].kustomize.patches[0]",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			_, err := New(kustomize(tc.patches), nil).PostRender(chartFiles())
			var pe *PatchError
			g.Expect(errors.As(err, &pe)).To(BeTrue(), "%v", err)
			g.Expect(pe.Path).To(Equal(tc.path))
			g.Expect(errors.Is(err, ErrNoMatch)).To(Equal(tc.noMatch))
			g.Expect(err.Error()).To(HavePrefix(tc.path))
			g.Expect(err.Error()).To(ContainSubstring(tc.text))
		})
	}
}

func TestPostRenderer_PostRender_kustomizeError(t *testing.T) {
	g := NewWithT(t)
	// The target matches, but the JSON patch's path does not exist: kustomize's own error,
	// prefixed with the post-renderer it came from.
	steps := kustomize([]capstanv1.KustomizePatch{{
		Target: &capstanv1.PatchTarget{Kind: "ConfigMap"},
		Patch:  "- op: replace\n  path: /spec/absent\n  value: 1\n",
	}})
	_, err := New(steps, nil).PostRender(chartFiles())
	g.Expect(err).To(MatchError(HavePrefix("postRenderers[0].kustomize: ")))
}

func TestPostRenderer_PostRender_nil(t *testing.T) {
	g := NewWithT(t)
	g.Expect(New(nil, nil)).To(BeNil())
	g.Expect(New(nil, &capstanv1.CommonMetadata{})).To(BeNil())
	files := chartFiles()
	out, err := New(nil, nil).PostRender(files)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(out).To(Equal(files), "a nil post-renderer changes nothing, byte for byte")
}

func TestDigest(t *testing.T) {
	g := NewWithT(t)
	one := kustomize([]capstanv1.KustomizePatch{{Target: &capstanv1.PatchTarget{Kind: "Service"}, Patch: "- op: remove\n  path: /spec\n"}})
	two := kustomize([]capstanv1.KustomizePatch{{Target: &capstanv1.PatchTarget{Kind: "Service"}, Patch: "- op: remove\n  path: /metadata\n"}})
	g.Expect(Digest(nil, nil)).To(BeEmpty())
	g.Expect(Digest(nil, &capstanv1.CommonMetadata{})).To(BeEmpty())
	g.Expect(Digest(one, nil)).To(HaveLen(64))
	g.Expect(Digest(one, nil)).To(Equal(Digest(one, nil)))
	g.Expect(Digest(one, nil)).NotTo(Equal(Digest(two, nil)), "a patch change is a new digest")
	g.Expect(Digest(one, &capstanv1.CommonMetadata{Labels: map[string]string{"a": "b"}})).NotTo(Equal(Digest(one, nil)))
}

func TestParse(t *testing.T) {
	cases := map[string]struct {
		yaml    string
		err     string
		patches int
	}{
		"flux's shape": {
			yaml:    "- kustomize:\n    patches:\n    - target: {kind: Service}\n      patch: |\n        - op: remove\n          path: /spec\n    images:\n    - {name: nginx, newTag: \"2\"}\n",
			patches: 1,
		},
		"an unknown field is refused": {
			yaml: "- kustomize:\n    patchesStrategicMerge: []\n",
			err:  `unknown field "patchesStrategicMerge"`,
		},
		"a post-renderer without kustomize is refused": {
			yaml: "- {}\n",
			err:  "postRenderers[0] has no kustomize",
		},
		"not a list": {
			yaml: "kustomize: {}\n",
			err:  "post-renderers: ",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			steps, err := Parse([]byte(tc.yaml))
			if tc.err != "" {
				g.Expect(err).To(MatchError(ContainSubstring(tc.err)))
				return
			}
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(steps).To(HaveLen(1))
			g.Expect(steps[0].Kustomize.Patches).To(HaveLen(tc.patches))
		})
	}
}

package render

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	. "github.com/onsi/gomega"

	"github.com/capstan-dev/capstan/internal/chart"
	"github.com/capstan-dev/capstan/internal/engine"
	"github.com/capstan-dev/capstan/internal/manifest"
	"github.com/capstan-dev/capstan/internal/values"
)

// writeChart writes files (path → content) under a temporary directory and loads the chart.
func writeChart(t *testing.T, files map[string]string) *chart.Chart {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	c, err := chart.Load(dir, chart.DefaultLimits())
	if err != nil {
		t.Fatalf("load test chart: %v", err)
	}
	return c
}

const appChart = "apiVersion: v2\nname: app\nversion: 0.1.0\n"

// webChart is an application chart with a subchart, a CRD, hooks and notes.
func webChart(t *testing.T) *chart.Chart {
	return writeChart(t, map[string]string{
		"Chart.yaml":  appChart,
		"values.yaml": "replicas: 1\nsub:\n  greeting: hi\n",
		"templates/deploy.yaml": "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {{ .Release.Name }}\n" +
			"spec:\n  replicas: {{ .Values.replicas }}\n",
		"templates/svc.yaml":     "apiVersion: v1\nkind: Service\nmetadata:\n  name: {{ .Release.Name }}\n---\n# upgrade={{ .Release.IsUpgrade }} ns={{ .Release.Namespace }} rev={{ .Release.Revision }}\n",
		"templates/hook.yaml":    "apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: migrate\n  annotations:\n    helm.sh/hook: pre-install,pre-upgrade\n",
		"templates/_helpers.tpl": `{{ define "x" }}x{{ end }}`,
		"templates/NOTES.txt":    "Installed {{ .Release.Name }}.",
		"crds/crd.yaml":          "kind: CustomResourceDefinition # {{ not templated }}\n",
		"charts/sub/Chart.yaml":  "apiVersion: v2\nname: sub\nversion: 0.1.0\n",
		"charts/sub/templates/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: sub\ndata:\n" +
			"  greeting: {{ .Values.greeting }}\n",
		"charts/sub/templates/NOTES.txt": "subchart notes",
	})
}

func TestRender(t *testing.T) {
	g := NewWithT(t)
	res, err := Render(context.Background(), webChart(t), map[string]any{"replicas": int64(3)},
		Options{ReleaseName: "web", Namespace: "shop"})
	g.Expect(err).NotTo(HaveOccurred())

	var kinds []string
	for _, m := range res.Manifests {
		kinds = append(kinds, m.Head.Kind+"@"+m.Name)
	}
	g.Expect(kinds).To(Equal([]string{
		"ConfigMap@app/charts/sub/templates/cm.yaml", "Service@app/templates/svc.yaml",
		"Deployment@app/templates/deploy.yaml", "@app/templates/svc.yaml",
	}))
	g.Expect(res.Manifests[2].Content).To(ContainSubstring("replicas: 3"))
	g.Expect(res.Manifests[3].Content).To(Equal("# upgrade=false ns=shop rev=1\n"))
	g.Expect(res.Hooks).To(HaveLen(1))
	g.Expect(res.Hooks[0].Events).To(Equal([]string{manifest.EventPreInstall, manifest.EventPreUpgrade}))
	g.Expect(res.Notes).To(Equal("Installed web."), "only the root chart's notes")
	g.Expect(res.Files).NotTo(HaveKey("app/charts/sub/templates/NOTES.txt"))
	g.Expect(res.CRDs).To(HaveLen(1))
	g.Expect(res.CRDs[0].Name).To(Equal("app/crds/crd.yaml"))
	g.Expect(res.Values).To(HaveKeyWithValue("replicas", int64(3)))
	g.Expect(res.Values["sub"]).To(HaveKeyWithValue("greeting", "hi"))
	g.Expect(res.Manifest()).NotTo(ContainSubstring("CustomResourceDefinition"), "CRDs only with IncludeCRDs")
	g.Expect(res.Manifest()).To(HavePrefix("---\n# Source: app/charts/sub/templates/cm.yaml\napiVersion: v1\n"))
	g.Expect(res.Manifest()).NotTo(ContainSubstring("migrate"), "hooks are not part of the manifest")
}

func TestRender_options(t *testing.T) {
	g := NewWithT(t)
	caps := engine.DefaultCapabilities()
	res, err := Render(context.Background(), webChart(t), nil, Options{
		ReleaseName: "web", IsUpgrade: true, Revision: 4, IncludeCRDs: true, Capabilities: caps,
	})
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(res.Manifest()).To(HavePrefix("---\n# Source: app/crds/crd.yaml\nkind: CustomResourceDefinition # {{ not templated }}\n\n---\n"))
	g.Expect(res.Manifest()).To(ContainSubstring("# upgrade=true ns=default rev=4\n"))
}

func TestRender_errors(t *testing.T) {
	cases := map[string]struct {
		files   map[string]string
		values  map[string]any
		name    string
		stage   Stage
		message string
		is      error
	}{
		"a library chart is not installable": {
			files: map[string]string{"Chart.yaml": appChart + "type: library\n"},
			stage: StageChart, message: "library charts are not installable", is: ErrLibraryChart,
		},
		"a declared dependency missing from charts/": {
			files: map[string]string{"Chart.yaml": appChart + "dependencies:\n- name: db\n  version: 1.0.0\n  repository: https://x\n"},
			stage: StageChart, is: chart.ErrMissingDependencies,
			message: "an error occurred while checking for chart dependencies. You may need to run 'helm dependency build' " +
				"to fetch missing dependencies: found in Chart.yaml, but missing in charts/ directory: db",
		},
		"an upper-case release name": {
			files: map[string]string{"Chart.yaml": appChart}, name: "Web", stage: StageRelease, is: ErrInvalidReleaseName,
			message: `release name check failed: release name "Web": invalid release name, must match regex ^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$ and the length must not be longer than 53`,
		},
		"values that break the schema": {
			files:  map[string]string{"Chart.yaml": appChart, "values.schema.json": `{"properties": {"replicas": {"type": "integer"}}}`},
			values: map[string]any{"replicas": "many"}, stage: StageValues,
			message: "values don't meet the specifications of the schema(s) in the following chart(s):\napp:\n- at '/replicas': got string, want integer\n",
		},
		"a schema violation is reported before a template that fails": {
			files: map[string]string{
				"Chart.yaml": appChart, "values.schema.json": `{"properties": {"replicas": {"type": "integer"}}}`,
				"templates/a.yaml": `{{ fail "no way" }}`,
			},
			values: map[string]any{"replicas": "many"}, stage: StageValues,
			message: "values don't meet the specifications of the schema(s) in the following chart(s):\napp:\n- at '/replicas': got string, want integer\n",
		},
		"an incompatible kubeVersion fails in the render stage": {
			files: map[string]string{"Chart.yaml": appChart + "kubeVersion: '<1.20.0'\n"}, stage: StageRender,
			message: "chart requires kubeVersion: <1.20.0 which is incompatible with Kubernetes v1.37.0",
		},
		"a failing template": {
			files: map[string]string{"Chart.yaml": appChart, "templates/a.yaml": `{{ fail "no way" }}`}, stage: StageRender,
			message: "execution error at (app/templates/a.yaml:1:3): no way",
		},
		"rendered YAML that does not parse": {
			files: map[string]string{"Chart.yaml": appChart, "templates/a.yaml": "a: b: c\n"}, stage: StageRender,
			message: "YAML parse error on app/templates/a.yaml: error converting YAML to JSON: yaml: mapping values are not allowed in this context",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			if tc.name == "" {
				tc.name = "rel"
			}
			_, err := Render(context.Background(), writeChart(t, tc.files), tc.values, Options{ReleaseName: tc.name})
			g.Expect(err).To(MatchError(tc.message))
			g.Expect(StageOf(err)).To(Equal(tc.stage))
			if tc.is != nil {
				g.Expect(errors.Is(err, tc.is)).To(BeTrue())
			}
		})
	}
}

func TestRender_parseErrorIsTyped(t *testing.T) {
	g := NewWithT(t)
	c := writeChart(t, map[string]string{"Chart.yaml": appChart, "templates/a.yaml": "- 1\n"})
	_, err := Render(context.Background(), c, nil, Options{ReleaseName: "rel"})
	var perr *manifest.ParseError
	g.Expect(errors.As(err, &perr)).To(BeTrue())
	g.Expect(perr.Template).To(Equal("app/templates/a.yaml"))
}

func TestRender_lintMode(t *testing.T) {
	g := NewWithT(t)
	c := writeChart(t, map[string]string{"Chart.yaml": appChart,
		"templates/a.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x{{ required \"need y\" .Values.y }}\n"})
	res, err := Render(context.Background(), c, nil, Options{ReleaseName: "rel", LintMode: true})
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(res.Manifests[0].Head.Name()).To(Equal("x"))
}

func TestValidateReleaseName(t *testing.T) {
	cases := map[string]struct {
		name string
		want error
	}{
		"a DNS label":                       {"web", nil},
		"dots separate labels":              {"web.prod-1", nil},
		"53 characters are allowed":         {strings.Repeat("a", 53), nil},
		"54 characters are not":             {strings.Repeat("a", 54), ErrInvalidReleaseName},
		"upper case is refused":             {"Web", ErrInvalidReleaseName},
		"a trailing dash is refused":        {"web-", ErrInvalidReleaseName},
		"an underscore is refused":          {"my_web", ErrInvalidReleaseName},
		"the empty name is a missing name":  {"", ErrMissingReleaseName},
		"an empty label is refused":         {"a..b", ErrInvalidReleaseName},
		"a newline after a name is refused": {"web\n", ErrInvalidReleaseName},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			err := ValidateReleaseName(tc.name)
			if tc.want == nil {
				g.Expect(err).NotTo(HaveOccurred())
				return
			}
			g.Expect(errors.Is(err, tc.want)).To(BeTrue(), "got %v", err)
		})
	}
}

func TestRender_partialResultOnParseError(t *testing.T) {
	g := NewWithT(t)
	c := writeChart(t, map[string]string{"Chart.yaml": appChart, "templates/a.yaml": "a: b: c\n", "templates/ok.yaml": "k: v\n"})
	res, err := Render(context.Background(), c, nil, Options{ReleaseName: "rel"})
	g.Expect(err).To(HaveOccurred())
	g.Expect(res).NotTo(BeNil())
	g.Expect(res.Files).To(HaveKeyWithValue("app/templates/a.yaml", "a: b: c\n"))
	g.Expect(res.Manifests).To(BeEmpty())
}

func TestRender_caches(t *testing.T) {
	g := NewWithT(t)
	files := map[string]string{
		"Chart.yaml":         appChart,
		"values.schema.json": `{"properties": {"replicas": {"type": "integer"}}}`,
		"templates/a.yaml":   "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\ndata:\n  r: {{ .Values.replicas | quote }}\n",
	}
	opts := Options{ReleaseName: "rel", Templates: engine.NewTemplateCache(0), Schemas: values.NewSchemaCache(0)}
	want, err := Render(context.Background(), writeChart(t, files), map[string]any{"replicas": 1}, Options{ReleaseName: "rel"})
	g.Expect(err).NotTo(HaveOccurred())
	for range 2 {
		got, err := Render(context.Background(), writeChart(t, files), map[string]any{"replicas": 1}, opts)
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(got.Manifest()).To(Equal(want.Manifest()))
	}
	hits, misses := opts.Templates.Stats()
	g.Expect([]uint64{hits, misses}).To(Equal([]uint64{1, 1}))
	g.Expect(opts.Schemas.Len()).To(Equal(1))

	_, err = Render(context.Background(), writeChart(t, files), map[string]any{"replicas": "many"}, opts)
	g.Expect(StageOf(err)).To(Equal(StageValues), "a cached schema still rejects bad values")
}

// fakePostRenderer replaces every file with its own, or fails.
type fakePostRenderer struct {
	files map[string]string
	err   error
	saw   map[string]string
}

func (f *fakePostRenderer) PostRender(files map[string]string) (map[string]string, error) {
	f.saw = files
	return f.files, f.err
}

func TestRender_postRenderer(t *testing.T) {
	g := NewWithT(t)
	c := writeChart(t, map[string]string{
		"Chart.yaml":          appChart,
		"templates/NOTES.txt": "notes",
		"templates/cm.yaml":   "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n",
	})
	post := &fakePostRenderer{files: map[string]string{
		"app/templates/cm.yaml":  "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n  labels: {patched: \"yes\"}\n",
		"app/templates/ns.yaml":  "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: n\n",
		"app/templates/job.yaml": "apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: j\n  annotations:\n    helm.sh/hook: pre-install\n",
	}}
	res, err := Render(context.Background(), c, nil, Options{ReleaseName: "r", PostRenderer: post})
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(post.saw).To(HaveKey("app/templates/cm.yaml"))
	g.Expect(post.saw).NotTo(HaveKey("app/templates/NOTES.txt"), "notes are taken out before post-rendering")
	g.Expect(res.Notes).To(Equal("notes"))
	names := []string{}
	for _, m := range res.Manifests {
		names = append(names, m.Head.Kind)
	}
	g.Expect(names).To(Equal([]string{"Namespace", "ConfigMap"}), "post-rendered files are sorted in install order")
	g.Expect(res.Manifests[1].Content).To(ContainSubstring("patched"))
	g.Expect(res.Hooks).To(HaveLen(1), "hooks are classified after post-rendering")

	post.err = errors.New("no")
	_, err = Render(context.Background(), writeChart(t, map[string]string{"Chart.yaml": appChart}), nil,
		Options{ReleaseName: "r", PostRenderer: post})
	g.Expect(StageOf(err)).To(Equal(StagePostRender))
}

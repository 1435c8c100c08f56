package main

import (
	"bytes"
	"errors"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	. "github.com/onsi/gomega"
	"sigs.k8s.io/yaml"
	goyaml "sigs.k8s.io/yaml/goyaml.v3"
)

// repoRoot is the repository's top directory, seen from this package.
var repoRoot = filepath.Join("..", "..")

var chartsDir = filepath.Join(repoRoot, "config", "samples", "charts")

var (
	helmOnce sync.Once
	helmPath string
	errHelm  error
)

// helm runs the reference Helm binary (built once by hack/tools.sh) and returns its standard
// output; the error carries standard error.
func helm(t *testing.T, args ...string) (string, error) {
	t.Helper()
	helmOnce.Do(func() {
		out, err := exec.Command(filepath.Join(repoRoot, "hack", "tools.sh"), "helm").Output()
		if err != nil {
			errHelm = errors.Join(errors.New("building the reference helm with hack/tools.sh helm failed"), err)
			return
		}
		helmPath = strings.TrimSpace(string(out))
	})
	if errHelm != nil {
		t.Fatal(errHelm)
	}
	cmd := exec.Command(helmPath, args...)
	cmd.Env = append(os.Environ(), "HELM_CACHE_HOME="+t.TempDir(), "HELM_CONFIG_HOME="+t.TempDir(), "HELM_DATA_HOME="+t.TempDir())
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return string(out), errors.Join(err, errors.New(stderr.String()))
	}
	return string(out), nil
}

// renderedObject is the part of a rendered manifest the tests look at.
type renderedObject struct {
	Kind     string `json:"kind"`
	Metadata struct {
		Name        string            `json:"name"`
		Annotations map[string]string `json:"annotations"`
	} `json:"metadata"`
	Spec struct {
		Replicas *int `json:"replicas"`
	} `json:"spec"`
}

// parseManifest splits helm template output into objects.
func parseManifest(g Gomega, out string) []renderedObject {
	var objs []renderedObject
	for _, doc := range strings.Split(out, "\n---") {
		if strings.TrimSpace(strings.TrimPrefix(doc, "---")) == "" {
			continue
		}
		var o renderedObject
		g.Expect(yaml.Unmarshal([]byte(doc), &o)).To(Succeed(), "document:\n%s", doc)
		if o.Kind != "" {
			objs = append(objs, o)
		}
	}
	return objs
}

// kindsOf lists "Kind/name" for every object, sorted.
func kindsOf(objs []renderedObject) []string {
	out := make([]string, 0, len(objs))
	for _, o := range objs {
		out = append(out, o.Kind+"/"+o.Metadata.Name)
	}
	sort.Strings(out)
	return out
}

func TestCharts_lint(t *testing.T) {
	for _, chart := range []string{"hello", "stack"} {
		t.Run(chart, func(t *testing.T) {
			g := NewWithT(t)
			out, err := helm(t, "lint", "--strict", filepath.Join(chartsDir, chart))
			g.Expect(err).NotTo(HaveOccurred(), out)
			g.Expect(out).To(ContainSubstring("1 chart(s) linted, 0 chart(s) failed"))
		})
	}
}

func TestCharts_template(t *testing.T) {
	cases := map[string]struct {
		chart, release string
		args           []string
		want           []string
		hooks          map[string]string
	}{
		"hello renders a web application": {
			chart: "hello", release: "hello",
			want: []string{"ConfigMap/hello", "Deployment/hello", "Service/hello"},
		},
		"hello prefixes names with a release name that lacks the chart's": {
			chart: "hello", release: "web",
			want: []string{"ConfigMap/web-hello", "Deployment/web-hello", "Service/web-hello"},
		},
		"stack renders its subchart and the seed hook": {
			chart: "stack", release: "shop",
			want: []string{"ConfigMap/shop-stack-api", "Deployment/shop-cache", "Deployment/shop-stack-api",
				"Job/shop-stack-seed", "Service/shop-cache", "Service/shop-stack-api"},
			hooks: map[string]string{"Job/shop-stack-seed": "post-install"},
		},
		"stack without its cache leaves the subchart out": {
			chart: "stack", release: "shop", args: []string{"--set", "cache.enabled=false"},
			want:  []string{"ConfigMap/shop-stack-api", "Deployment/shop-stack-api", "Job/shop-stack-seed", "Service/shop-stack-api"},
			hooks: map[string]string{"Job/shop-stack-seed": "post-install"},
		},
		"stack without the seed has no hook": {
			chart: "stack", release: "shop", args: []string{"--set", "seed.enabled=false"},
			want: []string{"ConfigMap/shop-stack-api", "Deployment/shop-cache", "Deployment/shop-stack-api",
				"Service/shop-cache", "Service/shop-stack-api"},
			hooks: map[string]string{},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			args := append([]string{"template", tc.release, filepath.Join(chartsDir, tc.chart)}, tc.args...)
			out, err := helm(t, args...)
			g.Expect(err).NotTo(HaveOccurred())
			objs := parseManifest(g, out)
			g.Expect(kindsOf(objs)).To(Equal(tc.want))
			hooks := map[string]string{}
			for _, o := range objs {
				if h, ok := o.Metadata.Annotations["helm.sh/hook"]; ok {
					hooks[o.Kind+"/"+o.Metadata.Name] = h
				}
			}
			if tc.hooks != nil {
				g.Expect(hooks).To(Equal(tc.hooks))
			}
		})
	}
}

// TestCharts_schema checks that hello's values.schema.json refuses bad values with Helm's own
// validator.
func TestCharts_schema(t *testing.T) {
	cases := map[string][]string{
		"a replica count that is not a number": {"--set", "replicaCount=many"},
		"an empty greeting":                    {"--set-string", "greeting.text="},
		"a port out of range":                  {"--set", "service.port=70000"},
		"an unknown service field":             {"--set", "service.nodePort=30000"},
	}
	for name, args := range cases {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			_, err := helm(t, append([]string{"template", "hello", filepath.Join(chartsDir, "hello")}, args...)...)
			g.Expect(err).To(MatchError(ContainSubstring("values don't meet the specifications of the schema")))
		})
	}
}

// TestCharts_sampleValues renders hello with the values the sample Releases in config/samples
// give it, in the order Capstan composes them: the ConfigMap of valuesFrom, then spec.values.
func TestCharts_sampleValues(t *testing.T) {
	cases := map[string]struct {
		files    []string
		replicas int
	}{
		"the hello Release":          {files: []string{"capstan_v1alpha1_release.yaml"}, replicas: 1},
		"the hello-advanced Release": {files: []string{"configmap_hello_values.yaml", "capstan_v1alpha1_release_advanced.yaml"}, replicas: 2},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			args := []string{"template", "sample", filepath.Join(chartsDir, "hello")}
			for _, f := range tc.files {
				args = append(args, "-f", writeSampleValues(t, g, f))
			}
			out, err := helm(t, args...)
			g.Expect(err).NotTo(HaveOccurred())
			var replicas []int
			for _, o := range parseManifest(g, out) {
				if o.Kind == "Deployment" {
					g.Expect(o.Spec.Replicas).NotTo(BeNil())
					replicas = append(replicas, *o.Spec.Replicas)
				}
			}
			g.Expect(replicas).To(Equal([]int{tc.replicas}))
		})
	}
}

// writeSampleValues extracts the values a sample carries (a Release's spec.values or a
// ConfigMap's values.yaml) into a values file and returns its path.
func writeSampleValues(t *testing.T, g Gomega, file string) string {
	data, err := os.ReadFile(filepath.Join(repoRoot, "config", "samples", file))
	g.Expect(err).NotTo(HaveOccurred())
	var obj struct {
		Kind string            `json:"kind"`
		Data map[string]string `json:"data"`
		Spec struct {
			Values map[string]any `json:"values"`
		} `json:"spec"`
	}
	g.Expect(yaml.Unmarshal(data, &obj)).To(Succeed())
	var values []byte
	if obj.Kind == "ConfigMap" {
		values = []byte(obj.Data["values.yaml"])
	} else {
		values, err = goyaml.Marshal(obj.Spec.Values)
		g.Expect(err).NotTo(HaveOccurred())
	}
	g.Expect(values).NotTo(BeEmpty(), "sample %s carries values", file)
	p := filepath.Join(t.TempDir(), "values.yaml")
	g.Expect(os.WriteFile(p, values, 0o600)).To(Succeed())
	return p
}

// TestCharts_servedToHelm packages and indexes both charts with the reference Helm, serves them
// with this command's handler, and has Helm read them back from the repository, the way a
// Helm client would use the repository make run starts.
func TestCharts_servedToHelm(t *testing.T) {
	g := NewWithT(t)
	dir := t.TempDir()
	for _, chart := range []string{"hello", "stack"} {
		out, err := helm(t, "package", "--destination", dir, filepath.Join(chartsDir, chart))
		g.Expect(err).NotTo(HaveOccurred(), out)
	}
	_, err := helm(t, "repo", "index", dir)
	g.Expect(err).NotTo(HaveOccurred())
	root, err := os.OpenRoot(dir)
	g.Expect(err).NotTo(HaveOccurred())
	defer func() { _ = root.Close() }()
	srv := httptest.NewServer(newHandler(root, slog.New(slog.NewTextHandler(io.Discard, nil))))
	defer srv.Close()

	out, err := helm(t, "show", "chart", "--repo", srv.URL, "stack", "--version", "0.1.0")
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(out).To(ContainSubstring("name: stack"))
	out, err = helm(t, "template", "served", "hello", "--repo", srv.URL)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(kindsOf(parseManifest(g, out))).To(ContainElement("Deployment/served-hello"))
}

package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	. "github.com/onsi/gomega"
)

// writeFiles writes files (path → content) under a new temporary directory and returns it.
func writeFiles(t *testing.T, files map[string]string) string {
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
	return dir
}

// run executes a command the way cmd/capstan does and returns stdout, stderr and the error.
func run(newCmd func() *cobra.Command, stdin string, args ...string) (string, string, error) {
	cmd := newCmd()
	var stdout, stderr bytes.Buffer
	cmd.SetArgs(args)
	cmd.SetOut(&stdout)
	cmd.SetErr(&stderr)
	cmd.SetIn(strings.NewReader(stdin))
	cmd.SilenceUsage, cmd.SilenceErrors = true, true
	err := cmd.ExecuteContext(context.Background())
	return stdout.String(), stderr.String(), err
}

// demoChart has a CRD, two templates, a test hook and a pre-install hook.
func demoChart(t *testing.T) string {
	return writeFiles(t, map[string]string{
		"Chart.yaml":    "apiVersion: v2\nname: demo\nversion: 0.1.0\nicon: https://example.com/i.png\n",
		"values.yaml":   "name: cm\n",
		"crds/crd.yaml": "kind: CustomResourceDefinition\n",
		"templates/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Values.name }}\ndata:\n" +
			"  upgrade: {{ .Release.IsUpgrade | quote }}\n  ns: {{ .Release.Namespace }}\n  rel: {{ .Release.Name }}\n" +
			"  kube: {{ .Capabilities.KubeVersion }}\n  extra: {{ .Capabilities.APIVersions.Has \"x.io/v1\" | quote }}\n",
		"templates/sa.yaml":   "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: sa\n",
		"templates/test.yaml": "apiVersion: v1\nkind: Pod\nmetadata:\n  name: t\n  annotations:\n    helm.sh/hook: test\n",
		"templates/pre.yaml":  "apiVersion: v1\nkind: Secret\nmetadata:\n  name: pre\n  annotations:\n    helm.sh/hook: pre-install\n",
	})
}

func TestTemplate_output(t *testing.T) {
	g := NewWithT(t)
	chartDir := demoChart(t)
	out, stderr, err := run(NewTemplateCommand, "", "rel", chartDir, "-n", "prod")
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(stderr).To(BeEmpty())
	g.Expect(out).To(Equal(`---
# Source: demo/templates/sa.yaml
apiVersion: v1
kind: ServiceAccount
metadata:
  name: sa

---
# Source: demo/templates/cm.yaml
apiVersion: v1
kind: ConfigMap
metadata:
  name: cm
data:
  upgrade: "false"
  ns: prod
  rel: rel
  kube: v1.37.0
  extra: "false"
---
# Source: demo/templates/pre.yaml
apiVersion: v1
kind: Secret
metadata:
  name: pre
  annotations:
    helm.sh/hook: pre-install

---
# Source: demo/templates/test.yaml
apiVersion: v1
kind: Pod
metadata:
  name: t
  annotations:
    helm.sh/hook: test

`))
}

func TestTemplate_flags(t *testing.T) {
	chartDir := demoChart(t)
	vals := writeFiles(t, map[string]string{"a.yaml": "name: from-a\n", "b.yaml": "name: from-b\n"})
	cases := map[string]struct {
		args     []string
		stdin    string
		contains []string
		excludes []string
	}{
		"the default release name and namespace": {
			args: []string{chartDir}, contains: []string{"rel: release-name", "ns: default"},
		},
		"--include-crds puts the raw CRD files first": {
			args: []string{chartDir, "--include-crds"}, contains: []string{"---\n# Source: demo/crds/crd.yaml\nkind: CustomResourceDefinition\n\n---\n"},
		},
		"--skip-tests drops test hooks only": {
			args: []string{chartDir, "--skip-tests"}, contains: []string{"name: pre"}, excludes: []string{"name: t\n"},
		},
		"--no-hooks drops every hook": {
			args: []string{chartDir, "--no-hooks"}, excludes: []string{"name: pre", "name: t\n"},
		},
		"--is-upgrade flips the release flags": {
			args: []string{chartDir, "--is-upgrade"}, contains: []string{`upgrade: "true"`},
		},
		"--kube-version and --api-versions change capabilities": {
			args: []string{chartDir, "--kube-version", "1.30.2", "--api-versions", "x.io/v1,y.io/v1"}, contains: []string{"kube: v1.30.2", `extra: "true"`},
		},
		"-f takes comma-separated files, later files win": {
			args: []string{chartDir, "-f", filepath.Join(vals, "b.yaml") + "," + filepath.Join(vals, "a.yaml")}, contains: []string{"name: from-a"},
		},
		"-f - reads standard input, --set wins over files": {
			args: []string{chartDir, "-f", "-", "--set", "name=from-set"}, stdin: "name: from-stdin\n", contains: []string{"name: from-set"},
		},
		"--set-string and --set-json are applied": {
			args: []string{chartDir, "--set-json", `name="from-json"`}, contains: []string{"name: from-json"},
		},
		"--show-only prints matching templates, pattern by pattern": {
			args:     []string{chartDir, "--show-only", "templates/pre.yaml", "-s", "templates/s*.yaml"},
			contains: []string{"---\n# Source: demo/templates/pre.yaml\napiVersion: v1\nkind: Secret\nmetadata:\n  name: pre\n  annotations:\n    helm.sh/hook: pre-install\n\n\n---\n# Source: demo/templates/sa.yaml\n"},
			excludes: []string{"ConfigMap"},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			out, _, err := run(NewTemplateCommand, tc.stdin, tc.args...)
			g.Expect(err).NotTo(HaveOccurred())
			for _, s := range tc.contains {
				g.Expect(out).To(ContainSubstring(s))
			}
			for _, s := range tc.excludes {
				g.Expect(out).NotTo(ContainSubstring(s))
			}
		})
	}
}

func TestTemplate_errors(t *testing.T) {
	chartDir := demoChart(t)
	failing := writeFiles(t, map[string]string{"Chart.yaml": "apiVersion: v2\nname: bad\nversion: 0.1.0\n",
		"templates/a.yaml": `{{ fail "boom" }}`})
	cases := map[string]struct {
		args []string
		want string
	}{
		"a render failure carries Helm's --debug hint": {
			args: []string{failing}, want: "execution error at (bad/templates/a.yaml:1:3): boom\n\nUse --debug flag to render out invalid YAML",
		},
		"an unknown --show-only template": {
			args: []string{chartDir, "--show-only", "templates/nope.yaml"}, want: "could not find template templates/nope.yaml in chart",
		},
		"a bad --kube-version": {
			args: []string{chartDir, "--kube-version", "banana"}, want: "invalid kube version 'banana': ",
		},
		"an invalid release name has no hint": {
			args: []string{"Bad_Name", chartDir}, want: `release name "Bad_Name": invalid release name`,
		},
		"a missing chart path": {
			args: []string{filepath.Join(chartDir, "nope")}, want: `path "` + filepath.Join(chartDir, "nope") + `" not found`,
		},
		"a bare name would be a repository chart": {
			args: []string{"nginx"}, want: "non-absolute URLs should be in form of repo_name/path_to_chart, got: nginx",
		},
		"a repository chart is not fetched": {
			args: []string{"bitnami/nginx"}, want: "repo bitnami not found",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			out, _, err := run(NewTemplateCommand, "", tc.args...)
			g.Expect(err).To(HaveOccurred())
			g.Expect(err.Error()).To(ContainSubstring(tc.want))
			g.Expect(out).To(BeEmpty())
		})
	}
}

func TestTemplate_outputDir(t *testing.T) {
	g := NewWithT(t)
	chartDir := demoChart(t)
	outDir := t.TempDir()
	out, _, err := run(NewTemplateCommand, "", chartDir, "--output-dir", outDir, "--include-crds", "--skip-tests")
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(out).To(Equal("wrote " + outDir + "/demo/crds/crd.yaml\n" +
		"wrote " + outDir + "/demo/templates/sa.yaml\n" +
		"wrote " + outDir + "/demo/templates/cm.yaml\n" +
		"wrote " + outDir + "/demo/templates/pre.yaml\n\n"))
	data, err := os.ReadFile(filepath.Join(outDir, "demo", "templates", "sa.yaml"))
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(string(data)).To(Equal("---\n# Source: demo/templates/sa.yaml\napiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: sa\n\n"))

	// A second run truncates manifests but appends hooks to files that exist, as Helm does.
	_, _, err = run(NewTemplateCommand, "", chartDir, "--output-dir", outDir, "--skip-tests")
	g.Expect(err).NotTo(HaveOccurred())
	data, err = os.ReadFile(filepath.Join(outDir, "demo", "templates", "sa.yaml"))
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(strings.Count(string(data), "# Source:")).To(Equal(1))
	data, err = os.ReadFile(filepath.Join(outDir, "demo", "templates", "pre.yaml"))
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(strings.Count(string(data), "# Source:")).To(Equal(2))
}

func TestTemplate_postRenderers(t *testing.T) {
	chartDir := demoChart(t)
	files := writeFiles(t, map[string]string{
		"post.yaml": `- kustomize:
    patches:
    - target: {kind: ConfigMap, name: cm}
      patch: |
        - op: replace
          path: /data/ns
          value: patched
    - target: {kind: Secret}
      patch: |
        apiVersion: v1
        kind: Secret
        metadata:
          name: pre
          labels: {hook: patched}
`,
		"nomatch.yaml": "- kustomize:\n    patches:\n    - target: {kind: Ingress}\n      patch: '[]'\n",
		"typo.yaml":    "- kustomise: {}\n",
	})
	g := NewWithT(t)
	out, stderr, err := run(NewTemplateCommand, "", "rel", chartDir, "--post-renderers", filepath.Join(files, "post.yaml"))
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(stderr).To(BeEmpty())
	g.Expect(out).To(ContainSubstring("# Source: demo/templates/cm.yaml\napiVersion: v1\ndata:\n"))
	g.Expect(out).To(ContainSubstring("  ns: patched\n"))
	g.Expect(out).To(MatchRegexp(`# Source: demo/templates/pre.yaml\n(.+\n)*    helm.sh/hook: pre-install\n  labels:\n    hook: patched\n`),
		"the hook is post-rendered too")
	g.Expect(strings.Index(out, "demo/templates/sa.yaml")).To(BeNumerically("<", strings.Index(out, "demo/templates/cm.yaml")),
		"manifests keep helm's install order")

	_, _, err = run(NewTemplateCommand, "", chartDir, "--post-renderers", filepath.Join(files, "nomatch.yaml"))
	g.Expect(err).To(MatchError(ContainSubstring("postRenderers[0].kustomize.patches[0] (target kind=Ingress): the patch's target matches no object")))
	_, _, err = run(NewTemplateCommand, "", chartDir, "--post-renderers", filepath.Join(files, "typo.yaml"))
	g.Expect(err).To(MatchError(ContainSubstring(`unknown field "kustomise"`)))
	_, _, err = run(NewTemplateCommand, "", chartDir, "--post-renderers", filepath.Join(files, "absent.yaml"))
	g.Expect(err).To(MatchError(ContainSubstring("reading --post-renderers: ")))
}

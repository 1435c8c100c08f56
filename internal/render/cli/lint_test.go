package cli

import (
	"testing"

	. "github.com/onsi/gomega"
)

func TestLint(t *testing.T) {
	good := map[string]string{
		"Chart.yaml":        "apiVersion: v2\nname: good\nversion: 1.0.0\nicon: https://example.com/i.png\n",
		"values.yaml":       "name: x\n",
		"templates/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Values.name }}\n",
	}
	with := func(extra map[string]string) map[string]string {
		m := map[string]string{}
		for k, v := range good {
			m[k] = v
		}
		for k, v := range extra {
			m[k] = v
		}
		return m
	}
	cases := map[string]struct {
		files    map[string]string
		args     []string
		failed   bool
		messages []string
	}{
		"a clean chart passes": {files: good},
		"a missing icon is only information": {
			files:    with(map[string]string{"Chart.yaml": "apiVersion: v2\nname: good\nversion: 1.0.0\n"}),
			messages: []string{"[INFO] Chart.yaml: icon is recommended"},
		},
		"Chart.yaml problems are all reported": {
			files:  with(map[string]string{"Chart.yaml": "apiVersion: v3\nname: good\nversion: one\nicon: https://x.io/i.png\nmaintainers:\n- email: a@b.c\n"}),
			failed: true,
			messages: []string{
				`[ERROR] Chart.yaml: apiVersion 'v3' is not valid. The value must be either "v1" or "v2"`,
				"[ERROR] Chart.yaml: version 'one' is not a valid SemVer",
				"[ERROR] Chart.yaml: each maintainer requires a name",
			},
		},
		"required values only log, so the render still checks names (a warning)": {
			files: with(map[string]string{"templates/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n" +
				"  name: Bad_{{ required \"need it\" .Values.missing }}\n"}),
			messages: []string{`[WARNING] templates/cm.yaml: object name does not conform to Kubernetes naming requirements: "Bad_"`},
		},
		"a workload without selector": {
			files:    with(map[string]string{"templates/d.yaml": "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: d\nspec: {}\n"}),
			failed:   true,
			messages: []string{`[ERROR] templates/d.yaml: a Deployment must contain matchLabels or matchExpressions, and "d" does not`},
		},
		"a glued separator stops the check of the templates": {
			files: with(map[string]string{"templates/a.yaml": "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: d\n---apiVersion: v1\n",
				"templates/b.yaml": "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: e\n"}),
			failed: true,
			messages: []string{"[ERROR] templates/a.yaml: a Deployment must contain matchLabels or matchExpressions, and \"d\" does not\n" +
				"[ERROR] templates/a.yaml: unable to parse YAML: invalid Yaml document separator: apiVersion: v1\n\n"},
		},
		"subcharts must be declared, declared ones should be present": {
			files: with(map[string]string{"Chart.yaml": "apiVersion: v2\nname: good\nversion: 1.0.0\nicon: https://x.io/i.png\n" +
				"dependencies:\n- name: db\n  version: 1.0.0\n  repository: https://x\n",
				"charts/cache/Chart.yaml": "apiVersion: v2\nname: cache\nversion: 0.1.0\n"}),
			failed:   true,
			messages: []string{": chart metadata is missing these dependencies: cache", "[WARNING] /", ": chart directory is missing these dependencies: db"},
		},
		"CRD files must hold CRDs": {
			files:    with(map[string]string{"crds/x.yaml": "apiVersion: v1\nkind: ConfigMap\n"}),
			failed:   true,
			messages: []string{"[ERROR] crds/x.yaml: apiVersion is not in 'apiextensions.k8s.io'"},
		},
		"a version that is not strict SemVer 2 is a warning": {
			files:    with(map[string]string{"Chart.yaml": "apiVersion: v2\nname: good\nversion: v1.0\nicon: https://x.io/i.png\n"}),
			messages: []string{"[WARNING] Chart.yaml: version 'v1.0' is not a valid SemVerV2"},
		},
		"unknown Chart.yaml fields are a warning": {
			files:    with(map[string]string{"Chart.yaml": "apiVersion: v2\nname: good\nversion: 1.0.0\nicon: https://x.io/i.png\ncolour: red\n"}),
			messages: []string{"[WARNING] Chart.yaml: failed to strictly parse chart metadata file\n\terror unmarshaling JSON: while decoding JSON: json: unknown field \"colour\""},
		},
		"invalid YAML in a template": {
			files:    with(map[string]string{"templates/cm.yaml": "a: b: c\n"}),
			failed:   true,
			messages: []string{"[ERROR] templates/cm.yaml: unable to parse YAML: error converting YAML to JSON"},
		},
		"a document without a name": {
			files:    with(map[string]string{"templates/cm.yaml": "data: {}\n"}),
			messages: []string{`[WARNING] templates/cm.yaml: object name does not conform to Kubernetes naming requirements: ""`},
		},
		"RBAC names may contain colons": {
			files: with(map[string]string{"templates/cm.yaml": "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata:\n  name: system:x\n"}),
		},
		"a schema violation from --set": {
			files:    with(map[string]string{"values.schema.json": `{"properties": {"name": {"type": "string", "maxLength": 3}}}`}),
			args:     []string{"--set", "name=toolong"},
			failed:   true,
			messages: []string{"[ERROR] values.yaml: values don't meet the specifications of the schema(s)"},
		},
		"a template error": {
			files:    with(map[string]string{"templates/x.yaml": "{{ .Values.nope.deeper }}"}),
			failed:   true,
			messages: []string{"[ERROR] templates/: ", "nil pointer evaluating interface {}.deeper"},
		},
		"a wrong extension": {
			files:    with(map[string]string{"templates/x.json": "{}"}),
			failed:   true,
			messages: []string{"[ERROR] templates/x.json: file extension '.json' not valid"},
		},
		"--strict fails on warnings": {
			files:    with(map[string]string{"Chart.yaml": "apiVersion: v2\nname: good\nversion: \"1.0\"\nicon: https://x.io/i.png\n"}),
			args:     []string{"--strict"},
			failed:   true,
			messages: []string{"[WARNING] Chart.yaml: version '1.0' is not a valid SemVerV2"},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			dir := writeFiles(t, tc.files)
			out, _, err := run(NewLintCommand, "", append([]string{dir}, tc.args...)...)
			g.Expect(out).To(HavePrefix("==> Linting " + dir + "\n"))
			for _, m := range tc.messages {
				g.Expect(out).To(ContainSubstring(m))
			}
			if tc.failed {
				g.Expect(err).To(MatchError(ContainSubstring("1 chart(s) linted, 1 chart(s) failed")))
				return
			}
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(out).To(HaveSuffix("\n1 chart(s) linted, 0 chart(s) failed\n"))
		})
	}
}

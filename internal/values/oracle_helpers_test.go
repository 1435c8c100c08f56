package values

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"sigs.k8s.io/yaml"

	"github.com/capstan-dev/capstan/internal/chart"

	"github.com/capstan-dev/capstan/internal/testenv/oracle"
)

// The oracle tests run the reference helm v4.3.1 binary (built once per machine by
// hack/tools.sh) on charts written from the same in-memory charts our code composes, and
// compare every chart's .Values (with types) or the error text.

// helmBinary returns the reference helm binary, building it on first use.
func helmBinary(t *testing.T) string {
	t.Helper()
	p, err := oracle.Helm()
	if err != nil {
		t.Fatalf("the reference helm binary is not available: %v", err)
	}
	return p
}

// dumpTemplate prints each chart's .Values with the kind of every leaf, so that int64, float64,
// string and null are told apart. The same text is produced in Go by typedDump.
const dumpTemplate = `{{- define "capstan.dump" -}}
{{- if kindIs "map" . -}}
{{- $first := true -}}
{ {{- range $k, $v := . -}}{{- if not $first -}},{{- end -}}{{- $first = false -}}{{ toJson $k }}:{{ include "capstan.dump" $v }}{{- end -}} }
{{- else if kindIs "slice" . -}}
[ {{- range $i, $v := . -}}{{- if $i -}},{{- end -}}{{ include "capstan.dump" $v }}{{- end -}} ]
{{- else -}}
{{ kindOf . }}:{{ toJson . }}
{{- end -}}
{{- end -}}
kind: CapstanDump
path: {{ .Template.BasePath }}
typed: {{ include "capstan.dump" .Values | toJson }}
`

// typedDump is dumpTemplate's output for v.
func typedDump(v any) string {
	switch t := v.(type) {
	case map[string]any:
		keys := sortedKeys(t)
		parts := make([]string, len(keys))
		for i, k := range keys {
			kj, _ := json.Marshal(k)
			parts[i] = string(kj) + ":" + typedDump(t[k])
		}
		return "{" + strings.Join(parts, ",") + "}"
	case []any:
		parts := make([]string, len(t))
		for i, e := range t {
			parts[i] = typedDump(e)
		}
		return "[" + strings.Join(parts, ",") + "]"
	default:
		kind := "invalid"
		if v != nil {
			kind = reflect.ValueOf(v).Kind().String()
		}
		data, _ := json.Marshal(v)
		return kind + ":" + string(data)
	}
}

// writeChart writes c (and its subcharts under charts/<name>) as a chart directory.
func writeChart(t *testing.T, dir string, c *chart.Chart) {
	t.Helper()
	meta, err := yaml.Marshal(c.Metadata)
	if err != nil {
		t.Fatalf("Chart.yaml: %v", err)
	}
	files := map[string][]byte{
		"Chart.yaml":          meta,
		"values.yaml":         c.RawValues,
		"templates/dump.yaml": []byte(dumpTemplate),
	}
	if c.Schema != nil {
		files["values.schema.json"] = c.Schema
	}
	for name, data := range files {
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	for _, sub := range c.Dependencies() {
		writeChart(t, filepath.Join(dir, "charts", sub.Name()), sub)
	}
}

// helmResult is what helm printed: each rendered chart's typed values by template base path,
// or the error.
type helmResult struct {
	dumps map[string]string
	err   string
}

// runHelm renders chartDir with helm template and the given flags, run from workDir.
func runHelm(t *testing.T, workDir, chartDir string, flags ...string) helmResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	args := append([]string{"template", "rel", chartDir}, flags...)
	cmd := exec.CommandContext(ctx, helmBinary(t), args...)
	cmd.Dir = workDir
	cmd.Env = append(os.Environ(), "HELM_CONFIG_HOME="+workDir, "HELM_CACHE_HOME="+workDir, "HELM_DATA_HOME="+workDir)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		_, msg, ok := strings.Cut(stderr.String(), "Error: ")
		if !ok {
			t.Fatalf("helm failed without an error line: %v\n%s", err, stderr.String())
		}
		return helmResult{err: strings.TrimRight(msg, "\n")}
	}
	res := helmResult{dumps: map[string]string{}}
	var path string
	for _, line := range strings.Split(stdout.String(), "\n") {
		if p, ok := strings.CutPrefix(line, "path: "); ok {
			path = p
		}
		if raw, ok := strings.CutPrefix(line, "typed: "); ok {
			var s string
			if err := json.Unmarshal([]byte(raw), &s); err != nil {
				t.Fatalf("helm output line %q: %v", line, err)
			}
			res.dumps[path] = s
		}
	}
	return res
}

// ourDumps renders what our composition gives every chart of the processed tree, keyed like
// runHelm's output (library charts render nothing and are skipped).
func ourDumps(c *chart.Chart, vals map[string]any) map[string]string {
	out := map[string]string{}
	var walk func(ch *chart.Chart, v map[string]any)
	walk = func(ch *chart.Chart, v map[string]any) {
		if !ch.IsLibrary() {
			out[ch.ChartFullPath()+"/templates"] = typedDump(v)
		}
		for _, sub := range ch.Dependencies() {
			sv, ok := v[sub.Name()].(map[string]any)
			if !ok {
				sv = map[string]any{}
			}
			walk(sub, sv)
		}
	}
	walk(c, vals)
	return out
}

// sortedPaths lists a dump map's keys in order, for readable failures.
func sortedPaths(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

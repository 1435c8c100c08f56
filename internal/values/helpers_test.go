package values

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/capstan-dev/capstan/internal/chart"
	"github.com/capstan-dev/capstan/internal/testenv/probes"
)

// probesDir holds the probe charts and Helm's golden outputs (test/conformance/testdata/probes).
var probesDir = probes.Dir()

// testChart builds a chart in memory. Values are given as YAML so that they are typed exactly as
// ReadValues types them, and the YAML is kept for writing the chart to disk for the oracle.
type testChart struct {
	c *chart.Chart
}

func newChart(t testing.TB, name, valuesYAML string) *testChart {
	t.Helper()
	vals, err := ReadValues([]byte(valuesYAML))
	if err != nil {
		t.Fatalf("values of %s: %v", name, err)
	}
	return &testChart{c: &chart.Chart{
		Metadata:  &chart.Metadata{APIVersion: chart.APIVersionV2, Name: name, Version: "0.1.0"},
		Values:    vals,
		RawValues: []byte(valuesYAML),
	}}
}

// version sets the chart's version.
func (b *testChart) version(v string) *testChart {
	b.c.Metadata.Version = v
	return b
}

// deps declares Chart.yaml dependencies; an empty call declares an empty (non-nil) list.
func (b *testChart) deps(deps ...*chart.Dependency) *testChart {
	b.c.Metadata.Dependencies = append([]*chart.Dependency{}, deps...)
	return b
}

// subs adds loaded subcharts (the charts/ directory).
func (b *testChart) subs(subs ...*testChart) *testChart {
	for _, s := range subs {
		b.c.AddDependency(s.c)
	}
	return b
}

// schema sets values.schema.json.
func (b *testChart) schema(s string) *testChart {
	b.c.Schema = []byte(s)
	return b
}

func (b *testChart) chart() *chart.Chart { return b.c }

// dep is a Chart.yaml dependency entry with version 0.1.0.
func dep(name string) *chart.Dependency {
	return &chart.Dependency{Name: name, Version: "0.1.0"}
}

// loadProbe reads a probe chart directory (Chart.yaml, values.yaml, values.schema.json and
// charts/<dir> recursively) into a chart.
func loadProbe(t testing.TB, dir string) *chart.Chart {
	t.Helper()
	meta := &chart.Metadata{}
	if err := yaml.Unmarshal(mustRead(t, filepath.Join(dir, "Chart.yaml")), meta); err != nil {
		t.Fatalf("Chart.yaml in %s: %v", dir, err)
	}
	c := &chart.Chart{Metadata: meta, Values: map[string]any{}}
	if raw, err := os.ReadFile(filepath.Join(dir, "values.yaml")); err == nil {
		vals, err := ReadValues(raw)
		if err != nil {
			t.Fatalf("values.yaml in %s: %v", dir, err)
		}
		c.Values, c.RawValues = vals, raw
	}
	if raw, err := os.ReadFile(filepath.Join(dir, "values.schema.json")); err == nil {
		c.Schema = raw
	}
	entries, err := os.ReadDir(filepath.Join(dir, "charts"))
	if err != nil {
		return c
	}
	for _, e := range entries {
		if e.IsDir() {
			c.AddDependency(loadProbe(t, filepath.Join(dir, "charts", e.Name())))
		}
	}
	return c
}

func mustRead(t testing.TB, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("reading %s: %v", path, err)
	}
	return data
}

// probeUserValues composes user values as the probe README's command line does.
func probeUserValues(t testing.TB, files []string, sets ...string) map[string]any {
	t.Helper()
	opts := Options{Values: sets}
	for _, f := range files {
		opts.ValueFiles = append(opts.ValueFiles, mustRead(t, filepath.Join(probesDir, f)))
	}
	vals, err := opts.Merge()
	if err != nil {
		t.Fatalf("user values: %v", err)
	}
	return vals
}

// goldenDocs splits a golden helm template output into its documents keyed by "# Source:" path.
func goldenDocs(t testing.TB, name string) map[string]string {
	t.Helper()
	out := string(mustRead(t, probes.Golden(name)))
	docs := map[string]string{}
	for _, part := range strings.Split(out, "\n---\n") {
		part = strings.TrimPrefix(part, "---\n")
		src, body, ok := strings.Cut(part, "\n")
		if !ok || !strings.HasPrefix(src, "# Source: ") {
			continue
		}
		docs[strings.TrimPrefix(src, "# Source: ")] = body
	}
	return docs
}

// goldenBlock extracts the literal block that follows "<key>: |" in a golden document and
// removes its indentation, giving back what toYaml printed.
func goldenBlock(t testing.TB, doc, key string) string {
	t.Helper()
	lines := strings.Split(doc, "\n")
	start := -1
	for i, l := range lines {
		if strings.TrimSpace(l) == key+": |" {
			start = i + 1
			break
		}
	}
	if start < 0 {
		t.Fatalf("no %q block in golden document:\n%s", key, doc)
	}
	indent := len(lines[start]) - len(strings.TrimLeft(lines[start], " "))
	var block []string
	for _, l := range lines[start:] {
		if len(l)-len(strings.TrimLeft(l, " ")) < indent || strings.TrimSpace(l) == "" {
			break
		}
		block = append(block, l[indent:])
	}
	return strings.Join(block, "\n")
}

// toYAML prints v the way Helm's toYaml does (sigs.k8s.io/yaml, trailing newline removed).
func toYAML(t testing.TB, v any) string {
	t.Helper()
	data, err := yaml.Marshal(v)
	if err != nil {
		t.Fatalf("toYaml: %v", err)
	}
	return strings.TrimSuffix(string(data), "\n")
}

// subchartNames lists the names of c's subcharts, sorted.
func subchartNames(c *chart.Chart) []string {
	var names []string
	for _, s := range c.Dependencies() {
		names = append(names, s.Name())
	}
	sort.Strings(names)
	return names
}

// warnings collects a Composer's warnings.
type warnings []string

func (w *warnings) composer() Composer {
	return Composer{Warn: func(msg string) { *w = append(*w, msg) }}
}

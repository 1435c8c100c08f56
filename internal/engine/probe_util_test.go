package engine

import (
	"io/fs"
	"maps"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/capstan-dev/capstan/internal/chart"
)

// loadProbeChart reads a probe chart from disk into a chart.Chart, the way the loader lays it
// out: Chart.yaml into Metadata, templates/ into Templates, values.yaml into Values, charts/<x>
// into subcharts, everything else into Files. It is a test stand-in for internal/chart's loader.
func loadProbeChart(t testing.TB, dir string) *chart.Chart {
	t.Helper()
	c := &chart.Chart{Metadata: &chart.Metadata{}}
	readYAML(t, filepath.Join(dir, "Chart.yaml"), c.Metadata)
	c.Values = map[string]any{}
	if _, err := os.Stat(filepath.Join(dir, "values.yaml")); err == nil {
		readYAML(t, filepath.Join(dir, "values.yaml"), &c.Values)
	}
	var subdirs []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			if path.Dir(rel) == "charts" {
				subdirs = append(subdirs, p)
				return filepath.SkipDir
			}
			return nil
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		switch {
		case rel == "Chart.yaml" || rel == "values.yaml" || rel == "values.schema.json" || rel == "Chart.lock":
		case strings.HasPrefix(rel, "templates/"):
			c.Templates = append(c.Templates, &chart.File{Name: rel, Data: data})
		default:
			c.Files = append(c.Files, &chart.File{Name: rel, Data: data})
		}
		return nil
	})
	if err != nil {
		t.Fatalf("load %s: %v", dir, err)
	}
	sort.Strings(subdirs)
	for _, s := range subdirs {
		c.AddDependency(loadProbeChart(t, s))
	}
	// Dependency processing (internal/values) marks the declared dependencies it keeps.
	for _, d := range c.Metadata.Dependencies {
		d.Enabled = true
	}
	return c
}

func readYAML(t testing.TB, file string, into any) {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatalf("read %s: %v", file, err)
	}
	if err := yaml.Unmarshal(data, into); err != nil {
		t.Fatalf("parse %s: %v", file, err)
	}
}

// simpleCoalesce merges user values over the chart defaults and, for each subchart, its defaults
// under the parent's table plus the parent's globals. It covers what the probes used here need;
// the real algorithm lives in internal/values.
func simpleCoalesce(c *chart.Chart, user map[string]any) map[string]any {
	out := deepMerge(copyValue(c.Values).(map[string]any), user)
	for _, dep := range c.Dependencies() {
		sub, _ := out[dep.Name()].(map[string]any)
		merged := simpleCoalesce(dep, sub)
		globals := map[string]any{}
		if g, ok := merged["global"].(map[string]any); ok {
			maps.Copy(globals, g)
		}
		if g, ok := out["global"].(map[string]any); ok {
			maps.Copy(globals, g)
		}
		merged["global"] = globals
		out[dep.Name()] = merged
	}
	return out
}

// deepMerge copies src over dst, merging maps recursively.
func deepMerge(dst, src map[string]any) map[string]any {
	for k, v := range src {
		if sm, ok := v.(map[string]any); ok {
			if dm, ok := dst[k].(map[string]any); ok {
				dst[k] = deepMerge(dm, sm)
				continue
			}
		}
		dst[k] = v
	}
	return dst
}

package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/capstan-dev/capstan/internal/chart"
	"github.com/capstan-dev/capstan/internal/engine"
	"github.com/capstan-dev/capstan/internal/manifest"
)

// severity ranks lint messages as helm lint does.
type severity int

const (
	sevInfo severity = iota + 1
	sevWarning
	sevError
)

func (s severity) String() string {
	switch s {
	case sevInfo:
		return "INFO"
	case sevWarning:
		return "WARNING"
	default:
		return "ERROR"
	}
}

// message is one lint finding about a path of the chart.
type message struct {
	severity severity
	path     string
	err      error
}

func (m message) String() string { return fmt.Sprintf("[%s] %s: %v", m.severity, m.path, m.err) }

// linter runs the rules on one chart at a time.
type linter struct {
	ctx       context.Context
	values    map[string]any
	namespace string
	caps      *engine.Capabilities
	log       *slog.Logger
}

// lint runs every rule on the chart at p.
func (l linter) lint(p string) []message {
	var msgs []message
	if dir, ok := chartDir(p); ok {
		msgs = append(msgs, lintChartFile(filepath.Join(dir, "Chart.yaml"))...)
		if _, err := os.Stat(filepath.Join(dir, "values.yaml")); err != nil {
			msgs = append(msgs, message{sevInfo, "values.yaml", errors.New("file does not exist")})
		}
		if fi, err := os.Stat(filepath.Join(dir, "templates")); err != nil || !fi.IsDir() {
			msgs = append(msgs, message{sevWarning, "templates/", errors.New("directory does not exist")})
		}
	}
	// helm lint goes on past Chart.yaml's errors to the template and dependency rules; that
	// is followed where the chart loads. A chart that does not load after Chart.yaml errors
	// stops here: helm then reports its loader's errors, whose texts Capstan's loader does not
	// reproduce (docs/conformance.md).
	c, err := chart.Load(p, chart.DefaultLimits())
	if err != nil {
		if hasAbove(msgs, sevWarning) {
			return msgs
		}
		return append(msgs, message{sevError, "Chart.yaml", err})
	}
	deps := lintDependencies(p, c)
	msgs = append(msgs, l.lintRender(c)...)
	msgs = append(msgs, lintCRDs(c)...)
	return append(msgs, deps...)
}

// lintDependencies compares Chart.yaml's dependencies with the subcharts in charts/, naming the
// chart by its absolute path as helm does. It must run before rendering, which prunes subcharts.
func lintDependencies(p string, c *chart.Chart) []message {
	where, err := filepath.Abs(p)
	if err != nil {
		where = p
	}
	declared := map[string]bool{}
	for _, d := range c.Metadata.Dependencies {
		if d != nil {
			declared[d.Name] = true
		}
	}
	loaded := map[string]bool{}
	var undeclared, missing []string
	for _, sub := range c.Dependencies() {
		loaded[sub.Name()] = true
		if !declared[sub.Name()] {
			undeclared = append(undeclared, sub.Name())
		}
	}
	for _, d := range c.Metadata.Dependencies {
		if d != nil && !loaded[d.Name] {
			missing = append(missing, d.Name)
		}
	}
	var msgs []message
	if len(undeclared) > 0 {
		slices.Sort(undeclared)
		msgs = append(msgs, message{sevError, where, fmt.Errorf("chart metadata is missing these dependencies: %s", strings.Join(undeclared, ","))})
	}
	if len(missing) > 0 {
		msgs = append(msgs, message{sevWarning, where, fmt.Errorf("chart directory is missing these dependencies: %s", strings.Join(missing, ","))})
	}
	return msgs
}

// lintCRDs checks that every document of the root chart's crds/ files is a
// CustomResourceDefinition of apiextensions.k8s.io.
func lintCRDs(c *chart.Chart) []message {
	var msgs []message
	for _, f := range c.CRDs() {
		if !strings.HasPrefix(f.Name, "crds/") {
			continue
		}
		for _, d := range manifest.Split(string(f.Data)) {
			if err := checkCRD(d); err != nil {
				msgs = append(msgs, message{sevError, f.Name, err})
			}
		}
	}
	return msgs
}

func checkCRD(doc string) error {
	head, err := manifest.ParseHead(doc)
	switch {
	case err != nil:
		return fmt.Errorf("unable to parse YAML: %w", err)
	case head.APIVersion == "" && head.Kind == "":
		return nil
	case !strings.HasPrefix(head.APIVersion, "apiextensions.k8s.io/"):
		return errors.New("apiVersion is not in 'apiextensions.k8s.io'")
	case head.Kind != "CustomResourceDefinition":
		return errors.New("object kind is not 'CustomResourceDefinition'")
	}
	return nil
}

func chartDir(p string) (string, bool) {
	fi, err := os.Stat(p)
	return p, err == nil && fi.IsDir()
}

package conformance

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"

	"sigs.k8s.io/yaml"
)

// CorpusFile is the corpus definition, relative to this package's directory.
const CorpusFile = "corpus.yaml"

// Corpus is corpus.yaml: the real-world charts of the suite.
type Corpus struct {
	Charts []CorpusChart `json:"charts"`
}

// CorpusChart is one chart of the corpus with its value sets.
type CorpusChart struct {
	// Name names the golden directory and the benchmark.
	Name string `json:"name"`
	// Module is module@version of the Go module that ships the chart.
	Module string `json:"module"`
	// Path is the chart's directory inside the module.
	Path string `json:"path"`
	// Release and Namespace are the release's name and namespace.
	Release   string `json:"release"`
	Namespace string `json:"namespace"`
	// Args are template arguments every value set gets.
	Args []string `json:"args"`
	// Sets are the value sets: name → extra template arguments.
	Sets map[string][]string `json:"sets"`
}

// LoadCorpus reads and checks a corpus file.
func LoadCorpus(path string) (*Corpus, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var c Corpus
	if err := yaml.UnmarshalStrict(data, &c); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	for _, ch := range c.Charts {
		if err := ch.check(); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
	}
	return &c, nil
}

var errBadCorpus = errors.New("invalid corpus entry")

func (c CorpusChart) check() error {
	if c.Name == "" || !strings.Contains(c.Module, "@") || c.Path == "" || c.Release == "" {
		return fmt.Errorf("%w: %q needs name, module@version, path and release", errBadCorpus, c.Name)
	}
	if _, ok := c.Sets["default"]; !ok || len(c.Sets) < 3 {
		return fmt.Errorf("%w: %q needs a default value set and at least two more", errBadCorpus, c.Name)
	}
	return nil
}

// SetNames returns the value-set names in order, "default" first.
func (c CorpusChart) SetNames() []string {
	names := make([]string, 0, len(c.Sets))
	for n := range c.Sets {
		if n != "default" {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	return append([]string{"default"}, names...)
}

// TemplateArgs returns the template arguments of a value set for the chart in chartDir:
// RELEASE CHART --namespace NS, the common arguments, then the set's own.
func (c CorpusChart) TemplateArgs(chartDir, set string) []string {
	args := []string{c.Release, chartDir}
	if c.Namespace != "" {
		args = append(args, "--namespace", c.Namespace)
	}
	args = append(args, c.Args...)
	return append(args, c.Sets[set]...)
}

// GoldenPath returns golden/<chart>/<set>.yaml.
func (c CorpusChart) GoldenPath(set string) string {
	return filepath.Join("golden", c.Name, set+".yaml")
}

// LintGoldenPath returns golden/lint/<name>.txt, helm lint's combined output for a chart.
func LintGoldenPath(name string) string {
	return filepath.Join("golden", "lint", name+".txt")
}

// NormalizeLint replaces the chart's path in lint output with "<chart>": the "==> Linting" line
// shows it as given, dependency problems as the absolute path abs. Goldens then do not depend on
// where the module cache or the checkout lives.
func NormalizeLint(out, given, abs string) string {
	out = strings.ReplaceAll(out, "==> Linting "+given+"\n", "==> Linting <chart>\n")
	return strings.ReplaceAll(out, abs, "<chart>")
}

// ChartDir downloads the chart's module into the module cache (once) and returns the chart's
// directory there. It runs `go mod download` outside any module, so no go.mod is touched.
func (c CorpusChart) ChartDir(ctx context.Context) (string, error) {
	dir, err := ModuleDir(ctx, c.Module)
	if err != nil {
		return "", err
	}
	return filepath.Join(dir, filepath.FromSlash(c.Path)), nil
}

// ModuleDir returns the module cache directory of module@version, downloading it if needed.
func ModuleDir(ctx context.Context, moduleVersion string) (string, error) {
	tmp, err := os.MkdirTemp("", "capstan-corpus-")
	if err != nil {
		return "", err
	}
	defer func() { _ = os.RemoveAll(tmp) }()
	cmd := exec.CommandContext(ctx, "go", "mod", "download", "-json", moduleVersion) //nolint:gosec // The module comes from corpus.yaml.
	cmd.Dir = tmp
	cmd.Env = append(os.Environ(), "GOWORK=off", "GOFLAGS=-mod=mod")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	runErr := cmd.Run()
	var info struct{ Dir, Error string }
	decodeErr := json.Unmarshal(stdout.Bytes(), &info)
	if err := errors.Join(runErr, decodeErr); err != nil {
		return "", fmt.Errorf("go mod download %s: %s %s: %w", moduleVersion, info.Error, strings.TrimSpace(stderr.String()), err)
	}
	if info.Error != "" || info.Dir == "" {
		return "", fmt.Errorf("%w: go mod download %s: %s", errBadCorpus, moduleVersion, info.Error)
	}
	return info.Dir, nil
}

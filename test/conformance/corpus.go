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
	// CI, when set, adds a value set for every values file the chart ships in ci/ (as helm's
	// chart-testing runs them): "ci-<file name without .yaml>", rendered with -f that file and
	// then CI.Args.
	CI *CISets `json:"ci,omitempty"`
	// Errors are command lines that must fail exactly as helm fails: name → extra template
	// arguments. Their goldens hold helm's combined output, the "Error: …" line included.
	Errors map[string][]string `json:"errors,omitempty"`
}

// CISets configures the value sets made from a chart's ci/*.yaml files.
type CISets struct {
	// Args are extra template arguments after -f ci/<file>.
	Args []string `json:"args"`
}

// Render is one `template` command line of the corpus.
type Render struct {
	// Name is the value set's or the error case's name.
	Name string
	// Args are the arguments after `template`.
	Args []string
	// Fails marks an error case: the command must fail as helm's does.
	Fails bool
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
	if _, ok := c.Sets["default"]; !ok || (len(c.Sets) < 3 && c.CI == nil) {
		return fmt.Errorf("%w: %q needs a default value set and at least two more (or ci)", errBadCorpus, c.Name)
	}
	for name := range c.Errors {
		if _, dup := c.Sets[name]; dup || strings.HasPrefix(name, "ci-") {
			return fmt.Errorf("%w: %q: error case %q collides with a value set", errBadCorpus, c.Name, name)
		}
	}
	return nil
}

// Renders returns every command line of the chart in chartDir: the value sets ("default"
// first, the others by name), one value set per ci/*.yaml file when CI is set, then the error
// cases by name.
func (c CorpusChart) Renders(chartDir string) ([]Render, error) {
	renders := []Render{{Name: "default", Args: c.templateArgs(chartDir, c.Sets["default"])}}
	for _, name := range sortedKeys(c.Sets) {
		if name != "default" {
			renders = append(renders, Render{Name: name, Args: c.templateArgs(chartDir, c.Sets[name])})
		}
	}
	ci, err := c.ciSets(chartDir)
	if err != nil {
		return nil, err
	}
	renders = append(renders, ci...)
	for _, name := range sortedKeys(c.Errors) {
		renders = append(renders, Render{Name: name, Args: c.templateArgs(chartDir, c.Errors[name]), Fails: true})
	}
	return renders, nil
}

func (c CorpusChart) ciSets(chartDir string) ([]Render, error) {
	if c.CI == nil {
		return nil, nil
	}
	files, err := filepath.Glob(filepath.Join(chartDir, "ci", "*.yaml"))
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("%w: %q sets ci but the chart has no ci/*.yaml", errBadCorpus, c.Name)
	}
	sort.Strings(files)
	var renders []Render
	for _, f := range files {
		name := "ci-" + strings.TrimSuffix(filepath.Base(f), ".yaml")
		if _, dup := c.Sets[name]; dup {
			return nil, fmt.Errorf("%w: %q: value set %q collides with a ci file", errBadCorpus, c.Name, name)
		}
		args := append([]string{"-f", f}, c.CI.Args...)
		renders = append(renders, Render{Name: name, Args: c.templateArgs(chartDir, args)})
	}
	return renders, nil
}

func sortedKeys(m map[string][]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// templateArgs returns RELEASE CHART --namespace NS, the common arguments, then extra.
func (c CorpusChart) templateArgs(chartDir string, extra []string) []string {
	args := []string{c.Release, chartDir}
	if c.Namespace != "" {
		args = append(args, "--namespace", c.Namespace)
	}
	args = append(args, c.Args...)
	return append(args, extra...)
}

// GoldenPath returns the golden file of a render: golden/<chart>/<set>.yaml, helm's stdout, for
// a value set; golden/<chart>/<case>.txt, helm's combined output, for an error case.
func (c CorpusChart) GoldenPath(r Render) string {
	if r.Fails {
		return filepath.Join("golden", c.Name, r.Name+".txt")
	}
	return filepath.Join("golden", c.Name, r.Name+".yaml")
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

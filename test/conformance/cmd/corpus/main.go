// Command corpus resolves the conformance corpus for the scripts in hack/:
//
//	corpus list     one line per chart and value set: name, set, chart dir, then the template
//	                arguments, tab-separated (for hack/bench-template.sh)
//	corpus golden   renders every chart and value set with $HELM template and writes
//	                golden/<chart>/<set>.yaml, and records $HELM lint for every chart and
//	                probe in golden/lint/<name>.txt, and $HELM template for every probe case in
//	                testdata/probes/golden/<case>.txt (for hack/golden.sh, `make golden`)
//
// It runs from test/conformance, so that value-file paths in corpus.yaml resolve.
package main

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"

	"github.com/capstan-dev/capstan/internal/testenv/probes"
	"github.com/capstan-dev/capstan/test/conformance"
)

func main() {
	if err := run(context.Background(), os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "corpus:", err)
		os.Exit(1)
	}
}

var errUsage = errors.New("usage: corpus list|golden")

func run(ctx context.Context, args []string) error {
	if len(args) != 1 {
		return errUsage
	}
	corpus, err := conformance.LoadCorpus(conformance.CorpusFile)
	if err != nil {
		return err
	}
	switch args[0] {
	case "list":
		return list(ctx, corpus)
	case "golden":
		return golden(ctx, corpus)
	default:
		return errUsage
	}
}

func list(ctx context.Context, corpus *conformance.Corpus) error {
	for _, c := range corpus.Charts {
		dir, renders, err := resolve(ctx, c)
		if err != nil {
			return err
		}
		for _, r := range renders {
			if r.Fails {
				continue
			}
			fields := append([]string{c.Name, r.Name, dir}, r.Args...)
			fmt.Println(strings.Join(fields, "\t"))
		}
	}
	return nil
}

func resolve(ctx context.Context, c conformance.CorpusChart) (string, []conformance.Render, error) {
	dir, err := c.ChartDir(ctx)
	if err != nil {
		return "", nil, err
	}
	renders, err := c.Renders(dir)
	return dir, renders, err
}

func golden(ctx context.Context, corpus *conformance.Corpus) error {
	helm := os.Getenv("HELM")
	if helm == "" {
		return errors.New("HELM must name the reference helm binary (hack/tools.sh helm)")
	}
	for _, c := range corpus.Charts {
		dir, renders, err := resolve(ctx, c)
		if err != nil {
			return err
		}
		for _, r := range renders {
			if err := writeGolden(ctx, helm, c, r); err != nil {
				return err
			}
		}
		if err := writeLintGolden(ctx, helm, c.Name, "", dir); err != nil {
			return err
		}
	}
	for _, probe := range conformance.LintProbes {
		if err := writeLintGolden(ctx, helm, "probe-"+probe, conformance.ProbesDir, probe); err != nil {
			return err
		}
	}
	return writeProbeGoldens(ctx, helm)
}

// writeProbeGoldens records `helm template ARGS` for every probe case, run in the probes
// directory: what a terminal shows (stdout and stderr on one pipe, in the order helm writes
// them, with the final "Error: …" line of the cases that fail on purpose).
func writeProbeGoldens(ctx context.Context, helm string) error {
	if err := os.MkdirAll(probes.GoldenDir(), 0o755); err != nil {
		return err
	}
	names := slices.Sorted(maps.Keys(conformance.ProbeCases))
	for _, name := range names {
		args := append([]string{"template"}, conformance.ProbeCases[name]...)
		cmd := exec.CommandContext(ctx, helm, args...) //nolint:gosec // The reference helm on the probe charts.
		cmd.Dir = conformance.ProbesDir
		cmd.Env = helmEnv()
		out, err := cmd.CombinedOutput()
		var exit *exec.ExitError
		if err != nil && !errors.As(err, &exit) {
			return fmt.Errorf("helm template probe %s: %w", name, err)
		}
		path := probes.Golden(name)
		fmt.Fprintf(os.Stderr, "golden %s (%d bytes)\n", path, len(out))
		if err := os.WriteFile(path, out, 0o644); err != nil { //nolint:gosec // A fixed golden path.
			return err
		}
	}
	return nil
}

// writeLintGolden records `helm lint <chart>` run in dir: the combined output (logs, report,
// error line, in the order helm writes them) with the chart path normalised.
func writeLintGolden(ctx context.Context, helm, name, dir, chartPath string) error {
	cmd := exec.CommandContext(ctx, helm, "lint", chartPath) //nolint:gosec // The reference helm on the pinned corpus.
	cmd.Dir = dir
	cmd.Env = helmEnv()
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		return fmt.Errorf("helm lint %s: %w", name, err)
	}
	path := conformance.LintGoldenPath(name)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "golden %s (%d bytes)\n", path, len(out))
	abs, err := filepath.Abs(filepath.Join(dir, chartPath))
	if err != nil {
		return err
	}
	return os.WriteFile(path, []byte(conformance.NormalizeLint(string(out), chartPath, abs)), 0o644) //nolint:gosec // A fixed golden path.
}

func helmEnv() []string {
	return append(os.Environ(), "HELM_CACHE_HOME="+os.TempDir(), "HELM_CONFIG_HOME="+os.TempDir(), "KUBECONFIG=/dev/null")
}

// writeGolden records one render: helm's stdout for a value set (which must succeed), helm's
// combined output for an error case (which must fail).
func writeGolden(ctx context.Context, helm string, c conformance.CorpusChart, r conformance.Render) error {
	//nolint:gosec // Running the reference helm on the pinned corpus is this tool's job.
	cmd := exec.CommandContext(ctx, helm, append([]string{"template"}, r.Args...)...)
	cmd.Env = helmEnv()
	var out []byte
	var err error
	var stderr strings.Builder
	if r.Fails {
		out, err = cmd.CombinedOutput()
		if err == nil {
			return fmt.Errorf("helm template %s/%s succeeded, but it is an error case", c.Name, r.Name)
		}
		var exit *exec.ExitError
		if !errors.As(err, &exit) {
			return fmt.Errorf("helm template %s/%s: %w", c.Name, r.Name, err)
		}
	} else {
		cmd.Stderr = &stderr
		if out, err = cmd.Output(); err != nil {
			return fmt.Errorf("helm template %s/%s: %w\n%s", c.Name, r.Name, err, stderr.String())
		}
	}
	path := c.GoldenPath(r)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "golden %s (%d bytes)\n", path, len(out))
	return os.WriteFile(path, out, 0o644) //nolint:gosec // The path is golden/<chart>/<render> from corpus.yaml.
}

package helmchart

import (
	"bytes"
	"context"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/spf13/cobra"

	"github.com/capstan-dev/capstan/internal/render/cli"
	"github.com/capstan-dev/capstan/internal/testenv"
	"github.com/capstan-dev/capstan/internal/testenv/oracle"
)

// chartDir is charts/capstan of this checkout.
var chartDir = filepath.Join(testenv.RepoRoot(), "charts", "capstan")

// oracleHelmVersion is what the reference helm built by hack/tools.sh reports as its version, so
// that .Capabilities.HelmVersion agrees (see test/conformance).
const oracleHelmVersion = "v4.3"

// run is the outcome of one command: what it printed and its error.
type run struct {
	stdout, stderr string
	err            error
}

// capstanTemplate runs `capstan template ARGS...` in process.
func capstanTemplate(ctx context.Context, args ...string) run {
	return runCommand(cli.WithHelmVersion(ctx, oracleHelmVersion), cli.NewTemplateCommand(), args)
}

// capstanLint runs `capstan lint ARGS...` in process.
func capstanLint(ctx context.Context, args ...string) run {
	return runCommand(ctx, cli.NewLintCommand(), args)
}

func runCommand(ctx context.Context, cmd *cobra.Command, args []string) run {
	var stdout, stderr bytes.Buffer
	cmd.SetArgs(args)
	cmd.SetOut(&stdout)
	cmd.SetErr(&stderr)
	cmd.SetIn(strings.NewReader(""))
	cmd.SilenceUsage, cmd.SilenceErrors = true, true
	err := cmd.ExecuteContext(ctx)
	return run{stdout: stdout.String(), stderr: stderr.String(), err: err}
}

// helm runs the reference helm binary.
func helm(t *testing.T, args ...string) run {
	t.Helper()
	bin, err := oracle.Helm()
	if err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(t.Context(), bin, args...)
	cmd.Env = append(cmd.Environ(), "HELM_CACHE_HOME="+t.TempDir(), "HELM_CONFIG_HOME="+t.TempDir(), "HELM_DATA_HOME="+t.TempDir())
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err = cmd.Run()
	return run{stdout: stdout.String(), stderr: stderr.String(), err: err}
}

// valueSets are the values the chart is rendered with: the defaults and the documented options.
var valueSets = map[string][]string{
	"defaults":              {"capstan", chartDir, "--namespace", "capstan-system"},
	"defaults with CRDs":    {"capstan", chartDir, "--namespace", "capstan-system", "--include-crds"},
	"single tenant":         {"capstan", chartDir, "--namespace", "capstan-system", "--set", "tenancy=single", "--set", "userRoles.enabled=false"},
	"two shards, monitored": {"capstan", chartDir, "--namespace", "capstan-system", "--set", "sharding.shards[0].name=shard1", "--set", "sharding.shards[1].name=team-b", "--set", "sharding.shards[1].replicas=2", "--set", "serviceMonitor.enabled=true", "--set", "prometheusRule.enabled=true", "--set", "serviceMonitor.labels.release=prom", "--set", "grafanaDashboard.enabled=true"},
	"another name, pinned image and flags": {"ops", chartDir, "--namespace", "platform",
		"--set", "image.repository=registry.example.com/capstan", "--set", "image.digest=sha256:" + strings.Repeat("ab", 32),
		"--set", "allowNetworks={10.96.0.0/12,fd00:10:96::/112}", "--set", "extraArgs={--release-concurrency=8}",
		"--set", "logLevel=debug", "--set", "leaderElection.enabled=false", "--set", "replicaCount=2",
		"--set", "nodeSelector.kubernetes\\.io/os=linux", "--set", "podAnnotations.team=platform", "--set", "imagePullSecrets[0].name=regcred"},
}

// TestChart_templateLikeHelm renders the chart with helm template and capstan template for each
// value set: the outputs must be byte-identical.
func TestChart_templateLikeHelm(t *testing.T) {
	for name, args := range valueSets {
		t.Run(name, func(t *testing.T) {
			want := helm(t, append([]string{"template"}, args...)...)
			if want.err != nil {
				t.Fatalf("helm template: %v\n%s", want.err, want.stderr)
			}
			got := capstanTemplate(t.Context(), args...)
			if got.err != nil {
				t.Fatalf("capstan template: %v\n%s", got.err, got.stderr)
			}
			if diff := cmp.Diff(want.stdout, got.stdout); diff != "" {
				t.Errorf("capstan template differs from helm template (-helm +capstan):\n%s", diff)
			}
			if got.stderr != want.stderr {
				t.Errorf("stderr: capstan %q, helm %q", got.stderr, want.stderr)
			}
		})
	}
}

// TestChart_lint runs helm lint and capstan lint on the chart: no warning, no error.
func TestChart_lint(t *testing.T) {
	h := helm(t, "lint", chartDir)
	if h.err != nil || strings.Contains(h.stdout, "[WARNING]") || strings.Contains(h.stdout, "[ERROR]") {
		t.Errorf("helm lint: %v\n%s%s", h.err, h.stdout, h.stderr)
	}
	c := capstanLint(t.Context(), chartDir)
	if c.err != nil || strings.Contains(c.stdout, "[WARNING]") || strings.Contains(c.stdout, "[ERROR]") {
		t.Errorf("capstan lint: %v\n%s%s", c.err, c.stdout, c.stderr)
	}
	if !strings.Contains(c.stdout, "1 chart(s) linted, 0 chart(s) failed") {
		t.Errorf("capstan lint did not report a passing chart:\n%s", c.stdout)
	}
}

// TestChart_schemaRejectsBadValues renders the chart with bad values: helm and capstan both refuse
// them, and capstan's error names the offending value.
func TestChart_schemaRejectsBadValues(t *testing.T) {
	cases := map[string]struct {
		set   []string
		names string
	}{
		"an unknown tenancy":                {[]string{"tenancy=shared"}, "tenancy"},
		"a digest that is a tag":            {[]string{"image.digest=latest"}, "digest"},
		"an unknown top-level key":          {[]string{"replicas=2"}, "replicas"},
		"a negative replica count":          {[]string{"replicaCount=-1"}, "replicaCount"},
		"a shard name that is no label":     {[]string{"sharding.shards[0].name=Shard_1"}, "name"},
		"a shard without a name":            {[]string{"sharding.shards[0].replicas=2"}, "name"},
		"a log format the manager refuses":  {[]string{"logFormat=text"}, "logFormat"},
		"a port out of range":               {[]string{"metricsPort=70000"}, "metricsPort"},
		"an extra argument that is no flag": {[]string{"extraArgs={rm -rf}"}, "extraArgs"},
		"a network that is no CIDR":         {[]string{"allowNetworks={intranet}"}, "allowNetworks"},
		"a pull policy with a typo":         {[]string{"image.pullPolicy=Sometimes"}, "pullPolicy"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			args := []string{"capstan", chartDir, "--namespace", "capstan-system"}
			for _, s := range c.set {
				args = append(args, "--set", s)
			}
			if h := helm(t, append([]string{"template"}, args...)...); h.err == nil {
				t.Errorf("helm template accepted --set %v", c.set)
			}
			got := capstanTemplate(t.Context(), args...)
			if got.err == nil {
				t.Fatalf("capstan template accepted --set %v", c.set)
			}
			if !strings.Contains(got.err.Error(), "values don't meet the specifications of the schema") || !strings.Contains(got.err.Error(), c.names) {
				t.Errorf("capstan's error does not name %q as a schema violation: %v", c.names, got.err)
			}
		})
	}
}

package operations

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/capstan-dev/capstan/internal/chart"
	"github.com/capstan-dev/capstan/internal/repo"
)

// cert-manager's chart ships in its Go module, as test/conformance/corpus.yaml records.
const (
	certManagerModule  = "github.com/cert-manager/cert-manager@v1.21.2"
	certManagerPath    = "deploy/charts/cert-manager"
	certManagerVersion = "1.21.2"
)

// chartServer is a loopback Helm HTTP repository: the packaged charts and their index.yaml.
type chartServer struct {
	srv *httptest.Server
}

// newChartServer packages every chart of testdata/charts and cert-manager's chart into dir,
// indexes them with repo.IndexDirectory (relative URLs, as `helm repo index` writes them) and
// serves the directory.
func newChartServer(ctx context.Context, dir string) (*chartServer, error) {
	sources, err := filepath.Glob(filepath.Join("testdata", "charts", "*", "Chart.yaml"))
	if err != nil {
		return nil, err
	}
	if len(sources) == 0 {
		return nil, errors.New("no chart under testdata/charts")
	}
	for _, src := range sources {
		if _, err := chart.Package(filepath.Dir(src), dir, chart.PackageOptions{}); err != nil {
			return nil, fmt.Errorf("packaging %s: %w", filepath.Dir(src), err)
		}
	}
	mod, err := moduleDir(ctx, certManagerModule)
	if err != nil {
		return nil, err
	}
	// The chart in the source tree carries the placeholder version v0.0.0; cert-manager's release
	// tooling sets the real one when it publishes the chart, and so do we.
	_, err = chart.Package(filepath.Join(mod, filepath.FromSlash(certManagerPath)), dir,
		chart.PackageOptions{Version: certManagerVersion, AppVersion: "v" + certManagerVersion})
	if err != nil {
		return nil, fmt.Errorf("packaging cert-manager: %w", err)
	}
	index, err := repo.IndexDirectory(dir, "", "")
	if err != nil {
		return nil, fmt.Errorf("indexing %s: %w", dir, err)
	}
	if err := os.WriteFile(filepath.Join(dir, "index.yaml"), index, 0o600); err != nil {
		return nil, err
	}
	return &chartServer{srv: httptest.NewServer(http.FileServer(http.Dir(dir)))}, nil
}

// URL is the repository's URL, for a ChartRepository's spec.url.
func (s *chartServer) URL() string { return s.srv.URL }

// Close stops the server.
func (s *chartServer) Close() { s.srv.Close() }

// moduleDir downloads module@version into the module cache (once) and returns its directory. It
// runs outside any module, so the repository's go.mod is never touched.
func moduleDir(ctx context.Context, moduleVersion string) (string, error) {
	tmp, err := os.MkdirTemp("", "capstan-operations-mod-")
	if err != nil {
		return "", err
	}
	defer func() { _ = os.RemoveAll(tmp) }()
	cmd := exec.CommandContext(ctx, "go", "mod", "download", "-json", moduleVersion)
	cmd.Dir = tmp
	cmd.Env = append(os.Environ(), "GOWORK=off", "GOFLAGS=-mod=mod")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	runErr := cmd.Run()
	var info struct{ Dir, Error string }
	if err := errors.Join(runErr, json.Unmarshal(stdout.Bytes(), &info)); err != nil {
		return "", fmt.Errorf("go mod download %s: %s %s: %w", moduleVersion, info.Error, strings.TrimSpace(stderr.String()), err)
	}
	if info.Error != "" || info.Dir == "" {
		return "", fmt.Errorf("go mod download %s: %s", moduleVersion, info.Error)
	}
	return info.Dir, nil
}

// kubectl runs /usr/bin/kubectl (or the one on PATH) against the cluster, as a user would, with
// extra environment variables, and returns its combined output.
func kubectl(ctx context.Context, env []string, args ...string) (string, error) {
	bin := "/usr/bin/kubectl"
	if _, err := os.Stat(bin); err != nil {
		bin = "kubectl"
	}
	cmd := exec.CommandContext(ctx, bin, append([]string{"--kubeconfig", cluster.Kubeconfig,
		"--cache-dir", filepath.Join(cluster.Dir, "kubectl-cache")}, args...)...)
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("kubectl %s: %w: %s", strings.Join(args, " "), err, out)
	}
	return string(out), nil
}

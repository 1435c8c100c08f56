// Package testenv starts a real kube-apiserver and etcd (controller-runtime's envtest) for tests, from
// the binaries hack/controlplane.sh builds into the cache outside the checkout.
package testenv

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"

	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
)

// RepoRoot returns the repository's root directory, found from this source file.
func RepoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
}

// Assets returns the directory holding etcd, kube-apiserver and kubectl: KUBEBUILDER_ASSETS when set,
// otherwise what hack/controlplane.sh builds (building it if needed).
func Assets() (string, error) {
	if dir := os.Getenv("KUBEBUILDER_ASSETS"); dir != "" {
		return dir, nil
	}
	//nolint:gosec // G204: the script path is fixed inside this repository.
	out, err := exec.Command(filepath.Join(RepoRoot(), "hack", "controlplane.sh"), "build").Output()
	if err != nil {
		return "", fmt.Errorf("building the control plane with hack/controlplane.sh: %w", err)
	}
	return strings.TrimSpace(string(out)), nil
}

// StartEnv starts env, a configured envtest environment, with the binaries of Assets: a second
// cluster with its own API server flags (a static token file, for instance).
func StartEnv(env *envtest.Environment) (*rest.Config, error) {
	assets, err := Assets()
	if err != nil {
		return nil, err
	}
	env.BinaryAssetsDirectory = assets
	cfg, err := env.Start()
	if err != nil {
		return nil, fmt.Errorf("starting envtest with assets from %s: %w", assets, err)
	}
	return cfg, nil
}

// Start starts an API server with the CRDs found in crdDirs (relative to the repository root) installed.
// The caller stops the returned environment.
func Start(crdDirs ...string) (*envtest.Environment, *rest.Config, error) {
	assets, err := Assets()
	if err != nil {
		return nil, nil, err
	}
	env := &envtest.Environment{BinaryAssetsDirectory: assets, ErrorIfCRDPathMissing: true}
	for _, d := range crdDirs {
		env.CRDDirectoryPaths = append(env.CRDDirectoryPaths, filepath.Join(RepoRoot(), d))
	}
	cfg, err := env.Start()
	if err != nil {
		return nil, nil, fmt.Errorf("starting envtest with assets from %s: %w", assets, err)
	}
	return env, cfg, nil
}

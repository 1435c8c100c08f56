package cli

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// errChartNotFound marks a chart reference that names no local chart.
var errChartNotFound = errors.New("chart not found")

// notFound is an errChartNotFound with helm's text and no prefix.
type notFound string

func (e notFound) Error() string { return string(e) }

func (e notFound) Is(target error) bool { return target == errChartNotFound }

func notFoundf(format string, args ...any) error { return notFound(fmt.Sprintf(format, args...)) }

// locateChart resolves the CHART argument to an absolute local path, as helm does before loading
// (so load errors name the absolute path), with helm's messages for what is not a local chart.
// Capstan's CLI reads only local directories and archives; repositories are the controller's job.
func locateChart(name string) (string, error) {
	if _, err := os.Stat(name); err == nil {
		return filepath.Abs(name)
	}
	switch {
	case filepath.IsAbs(name) || strings.HasPrefix(name, "."):
		return "", notFoundf("path %q not found", name)
	case strings.Contains(name, "://"):
		return "", notFoundf("%s: only local chart directories and archives can be rendered", name)
	case !strings.Contains(name, "/"):
		return "", notFoundf("non-absolute URLs should be in form of repo_name/path_to_chart, got: %s", name)
	}
	repo, _, _ := strings.Cut(name, "/")
	return "", notFoundf("repo %s not found", repo)
}

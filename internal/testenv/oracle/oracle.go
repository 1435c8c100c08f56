// Package oracle finds the reference helm v4.3.1 binary that tests compare Capstan with. Capstan
// itself never runs helm; only tests do, as an oracle for Helm's behaviour.
package oracle

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
)

var (
	once    sync.Once
	path    string
	errHelm error
)

// Helm returns the path of the reference helm binary: $HELM when set (the Makefile sets it),
// otherwise the one hack/tools.sh builds once per machine into the cache outside the checkout.
func Helm() (string, error) {
	once.Do(func() {
		if p := os.Getenv("HELM"); p != "" {
			path = p
			return
		}
		_, file, _, _ := runtime.Caller(0)
		script := filepath.Join(filepath.Dir(file), "..", "..", "..", "hack", "tools.sh")
		var stderr bytes.Buffer
		cmd := exec.Command(script, "helm") //nolint:gosec // G204: the script path is fixed inside this repository.
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			errHelm = fmt.Errorf("building the reference helm with hack/tools.sh helm: %w: %s", err, stderr.String())
			return
		}
		path = strings.TrimSpace(string(out))
	})
	return path, errHelm
}

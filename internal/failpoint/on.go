//go:build failpoints

package failpoint

import (
	"fmt"
	"os"
	"strings"
	"sync"
	"syscall"
)

// Enabled is true: this build reads CAPSTAN_FAILPOINTS and injects the faults it names.
const Enabled = true

// armed reads the points armed by the environment once: name → action. The only action is
// "kill" (SIGKILL to the process itself, as the OOM killer or a node loss would).
var armed = sync.OnceValue(func() map[string]string {
	out := map[string]string{}
	for _, item := range strings.Split(os.Getenv(EnvVar), ",") {
		name, action, ok := strings.Cut(strings.TrimSpace(item), "=")
		if ok && name != "" {
			out[name] = action
		}
	}
	return out
})

// Inject runs the action armed at the point name, if any.
func Inject(name string) {
	if armed()[name] != "kill" {
		return
	}
	fmt.Fprintf(os.Stderr, "capstan failpoint %s: kill\n", name)
	_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
	select {} // SIGKILL cannot be caught; never return into the pipeline.
}

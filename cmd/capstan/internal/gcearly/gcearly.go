// Package gcearly sets the CLI's garbage collection target before the packages the CLI links
// initialise: imported by main first, it has no dependencies beyond the runtime's, so Go's
// initialisation order (dependencies first, then by import path) runs it before the Kubernetes,
// OCI and JSON-schema packages allocate their tables.
package gcearly

import (
	"os"
	"runtime/debug"
)

// Percent is the garbage collector's target for a run of the CLI. A run lives for a fraction of
// a second and allocates a few tens of MiB, so collecting less often saves CPU at little cost in
// memory. GOGC in the environment still wins.
const Percent = 400

func init() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(Percent)
	}
}

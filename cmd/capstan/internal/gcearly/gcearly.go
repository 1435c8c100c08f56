// Package gcearly sets the CLI's garbage collection target, and turns heap profile sampling off,
// before the packages the CLI links initialise: imported by main first, it has no dependencies
// beyond the runtime's, so Go's initialisation order (dependencies first, then by import path)
// runs it before the Kubernetes, OCI and JSON-schema packages allocate their tables.
package gcearly

import (
	"os"
	"runtime"
	"runtime/debug"
)

// Percent is the garbage collector's target for a run of the CLI. A run lives for a fraction of
// a second and allocates a few tens of MiB, so collecting less often saves CPU at little cost in
// memory. GOGC in the environment still wins.
const Percent = 400

func init() {
	// The CLI never writes a heap profile; sampling one costs a stack walk and a bucket per
	// sample, about 3% of the CPU of a template run. Set before the linked packages allocate.
	runtime.MemProfileRate = 0
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(Percent)
	}
}

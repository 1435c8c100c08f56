package main

import (
	"os"
	"os/exec"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/capstan-dev/capstan/cmd/capstan/internal/gcearly"
)

// The CLI's garbage collection target holds from before the heavy packages initialise: they
// allocate about 8 MB of tables, which at Go's default target meant three collections before
// main ran.
func TestGCTarget_setBeforeTheLinkedPackagesInitialise(t *testing.T) {
	if os.Getenv("GOGC") != "" {
		t.Skip("GOGC is set in the environment, and wins")
	}
	before := debug.SetGCPercent(100)
	debug.SetGCPercent(before)
	if before != gcearly.Percent {
		t.Fatalf("GC percent is %d, want %d", before, gcearly.Percent)
	}
	if runtime.MemProfileRate != 0 {
		t.Fatalf("heap profile sampling is on (MemProfileRate %d)", runtime.MemProfileRate)
	}

	// This test binary links what the CLI links; Go's init trace lists the packages in the order
	// they initialised.
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "GODEBUG=inittrace=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	order := map[string]int{}
	for i, line := range strings.Split(string(out), "\n") {
		if f := strings.Fields(line); len(f) > 1 && f[0] == "init" {
			order[f[1]] = i
		}
	}
	early, ok := order["github.com/capstan-dev/capstan/cmd/capstan/internal/gcearly"]
	if !ok {
		t.Fatalf("gcearly is not in the init trace:\n%s", out)
	}
	for _, heavy := range []string{"github.com/santhosh-tekuri/jsonschema/v6", "k8s.io/client-go/kubernetes/scheme",
		"sigs.k8s.io/controller-runtime/pkg/client/apiutil", "oras.land/oras-go/v2"} {
		at, ok := order[heavy]
		if !ok {
			t.Errorf("%s is not in the init trace", heavy)
			continue
		}
		if at < early {
			t.Errorf("%s initialises before gcearly", heavy)
		}
	}
}

// The work prestart begins runs beside the heaviest initialisations, not after them: its package
// initialises before them.
func TestPrestart_beginsBeforeTheHeavyPackagesInitialise(t *testing.T) {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "GODEBUG=inittrace=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	order := map[string]int{}
	for i, line := range strings.Split(string(out), "\n") {
		if f := strings.Fields(line); len(f) > 1 && f[0] == "init" {
			order[f[1]] = i
		}
	}
	begins, ok := order["github.com/capstan-dev/capstan/cmd/capstan/internal/prestart"]
	if !ok {
		t.Fatalf("prestart is not in the init trace:\n%s", out)
	}
	for _, heavy := range []string{"k8s.io/client-go/kubernetes/scheme", "sigs.k8s.io/controller-runtime/pkg/client/apiutil",
		"sigs.k8s.io/controller-runtime/pkg/internal/controller/metrics", "oras.land/oras-go/v2"} {
		at, ok := order[heavy]
		if !ok {
			t.Errorf("%s is not in the init trace", heavy)
			continue
		}
		if at < begins {
			t.Errorf("%s initialises before prestart", heavy)
		}
	}
}

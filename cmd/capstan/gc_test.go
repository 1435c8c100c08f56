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

	expectInitialisedBefore(t, "github.com/capstan-dev/capstan/cmd/capstan/internal/gcearly",
		"github.com/santhosh-tekuri/jsonschema/v6", "k8s.io/client-go/kubernetes/scheme",
		"sigs.k8s.io/controller-runtime/pkg/client/apiutil", "oras.land/oras-go/v2")
}

// expectInitialisedBefore fails unless the package first initialises before each of later. This
// test binary links what the CLI links, and Go's init trace lists the packages in the order they
// initialised.
func expectInitialisedBefore(t *testing.T, first string, later ...string) {
	t.Helper()
	order := initTrace(t)
	at, ok := order[first]
	if !ok {
		t.Fatalf("%s is not in the init trace", first)
	}
	for _, heavy := range later {
		after, ok := order[heavy]
		if !ok {
			t.Errorf("%s is not in the init trace", heavy)
			continue
		}
		if after < at {
			t.Errorf("%s initialises before %s", heavy, first)
		}
	}
}

// initTrace runs this test binary, which links what the CLI links, with Go's init trace on, and
// returns each package initialised with its place in the order.
func initTrace(t *testing.T) map[string]int {
	t.Helper()
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
	return order
}

// The work prestart begins runs beside the heaviest initialisations, not after them: its package
// initialises before them.
func TestPrestart_beginsBeforeTheHeavyPackagesInitialise(t *testing.T) {
	expectInitialisedBefore(t, "github.com/capstan-dev/capstan/cmd/capstan/internal/prestart",
		"k8s.io/client-go/kubernetes/scheme", "sigs.k8s.io/controller-runtime/pkg/client/apiutil", "oras.land/oras-go/v2")
}

// The CLI links controller-runtime's client and logger, never its manager: the root package
// brings the builder, the webhooks and their metrics, whose initialisation every command would
// pay (internal/reconcile and internal/health import the subpackages they use instead).
func TestCLI_linksNoControllerManager(t *testing.T) {
	out := initTrace(t)
	for _, pkg := range []string{"sigs.k8s.io/controller-runtime", "sigs.k8s.io/controller-runtime/pkg/builder",
		"sigs.k8s.io/controller-runtime/pkg/internal/controller/metrics"} {
		if _, ok := out[pkg]; ok {
			t.Errorf("%s is linked into the CLI", pkg)
		}
	}
	if _, ok := out["sigs.k8s.io/controller-runtime/pkg/client/apiutil"]; !ok {
		t.Error("the init trace lacks controller-runtime's client: the test reads it wrong")
	}
}

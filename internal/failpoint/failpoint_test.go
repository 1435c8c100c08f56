//go:build !failpoints

package failpoint

import "testing"

// TestProductionBuildHasNoFailpoints proves that a build without the failpoints tag (the one
// make build and make image produce) injects nothing, whatever the environment says.
func TestProductionBuildHasNoFailpoints(t *testing.T) {
	if Enabled {
		t.Fatal("failpoints are compiled into the default build")
	}
	t.Setenv(EnvVar, AfterPendingRecord+"=kill")
	for _, name := range Names {
		Inject(name) // Would kill the test process in a failpoints build.
	}
}

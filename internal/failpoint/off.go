//go:build !failpoints

package failpoint

// Enabled is false: this build injects no fault.
const Enabled = false

// Inject does nothing in this build.
func Inject(string) {}

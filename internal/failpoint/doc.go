// Package failpoint names the points of the release pipeline where the chaos suite kills the
// manager, and injects those faults in a binary built with the build tag "failpoints" only. In
// the production build Inject is an empty function and Enabled is false, so the compiler drops
// every call and every guarded block: the shipped binary has no way to be told to crash.
package failpoint

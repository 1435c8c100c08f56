// Package hooks runs a release's Helm hooks: the objects a chart marks with helm.sh/hook to run around
// an install, upgrade, rollback, uninstall or test instead of being part of the release. It reads the
// hook annotations (events, weight, delete policies) the way Helm does, orders the hooks of one event by
// weight and then name, and runs them one at a time through the client it is given: it deletes the
// previous object when the before-hook-creation policy (the default) asks, creates the hook with Helm's
// ownership metadata, waits for Jobs to complete and Pods to succeed, records each hook's last run, and
// applies the hook-succeeded and hook-failed policies. The first hook that fails stops the run with an
// error naming it and why. It has no opinion on when hooks run or what a failure means for the release:
// the reconciler decides that.
package hooks

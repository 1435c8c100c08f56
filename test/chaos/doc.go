// Package chaos proves that Capstan's releases are crash-consistent by killing the real manager.
//
// The suite builds bin/manager with the failpoints build tag, starts a private local cluster
// (kwok nodes), serves a small chart at two versions, and drives Releases through install,
// upgrade (values and chart version), rollback and uninstall. In every cycle it arms one named
// failpoint (CAPSTAN_FAILPOINTS=<point>=kill) or kills the process at a random moment, restarts
// the manager without faults, waits until the Release settles, and checks the invariants: revision
// numbers contiguous, exactly one deployed and none pending, the live objects carrying the
// release's ownership metadata exactly the deployed manifest's (no orphan, none missing) and equal
// to it, the deployed revision what the spec asks, status.currentRevision equal to the records, and
// after an uninstall nothing left. It prints a table of kills, violations and recovery times per
// failpoint. Between cycles the manager is stopped with SIGTERM and must exit cleanly.
//
// Short mode (the default, inside make test) kills the manager once per failpoint plus a few
// random times; CAPSTAN_CHAOS=long (make chaos) runs at least 200 kills.
package chaos

package storage

import (
	"fmt"
	"slices"
)

// Status is a revision's place in the release lifecycle; the values are Helm's.
type Status string

// The statuses of Helm's release lifecycle.
const (
	StatusUnknown         Status = "unknown"
	StatusDeployed        Status = "deployed"
	StatusUninstalled     Status = "uninstalled"
	StatusSuperseded      Status = "superseded"
	StatusFailed          Status = "failed"
	StatusUninstalling    Status = "uninstalling"
	StatusPendingInstall  Status = "pending-install"
	StatusPendingUpgrade  Status = "pending-upgrade"
	StatusPendingRollback Status = "pending-rollback"
)

// String returns the status as Helm writes it.
func (s Status) String() string { return string(s) }

// IsPending reports whether an operation on the revision is (or was left) in progress.
func (s Status) IsPending() bool {
	return s == StatusPendingInstall || s == StatusPendingUpgrade || s == StatusPendingRollback
}

// IsKnown reports whether s is one of Helm's statuses.
func (s Status) IsKnown() bool {
	_, ok := transitions[s]
	return ok
}

// transitions lists, for each status, the statuses Helm's actions move a stored revision to:
// a pending revision ends deployed or failed; a deployed one is superseded by a later deploy
// (and a failed one by an upgrade that finds nothing deployed, or an uninstalled one by
// `install --replace`); the latest revision goes through uninstalling to uninstalled when the
// release is uninstalled with its history kept.
var transitions = map[Status][]Status{
	StatusPendingInstall:  {StatusDeployed, StatusFailed},
	StatusPendingUpgrade:  {StatusDeployed, StatusFailed},
	StatusPendingRollback: {StatusDeployed, StatusFailed},
	StatusDeployed:        {StatusSuperseded, StatusUninstalling, StatusUninstalled},
	StatusFailed:          {StatusSuperseded, StatusUninstalling, StatusUninstalled},
	StatusSuperseded:      {StatusUninstalling, StatusUninstalled},
	StatusUninstalling:    {StatusUninstalled, StatusFailed},
	StatusUninstalled:     {StatusSuperseded},
	StatusUnknown:         nil,
}

// CheckTransition returns nil if a stored revision may move from one status to another, and an
// error wrapping ErrIllegalTransition otherwise. A status never moves to itself.
func CheckTransition(from, to Status) error {
	if slices.Contains(transitions[from], to) {
		return nil
	}
	return fmt.Errorf("%w: %q to %q", ErrIllegalTransition, from, to)
}

package reconcile

import (
	"fmt"
	"strconv"
	"strings"

	capstanv1 "github.com/capstan-dev/capstan/api/v1alpha1"
	"github.com/capstan-dev/capstan/internal/apply"
)

// ActionKind is what Decide asks the reconciler to do.
type ActionKind string

// The actions of the release state machine.
const (
	// ActionNothing leaves the release as it is (in sync, held after a rollback, or stalled).
	ActionNothing ActionKind = "Nothing"
	// ActionInstall renders the desired chart and values as the first deployed revision.
	ActionInstall ActionKind = "Install"
	// ActionUpgrade renders the desired chart and values as a new revision over a deployed one.
	ActionUpgrade ActionKind = "Upgrade"
	// ActionRollback re-applies a stored revision's manifest as a new revision (manual rollback).
	ActionRollback ActionKind = "Rollback"
	// ActionUninstall removes the release's objects and records.
	ActionUninstall ActionKind = "Uninstall"
	// ActionRemediate applies the remediation strategy after the retries of a failed action ran out.
	ActionRemediate ActionKind = "Remediate"
	// ActionCorrectDrift re-applies the drifted objects of the deployed revision, without a new
	// revision.
	ActionCorrectDrift ActionKind = "CorrectDrift"
)

// Action is a decision with what the reconciler needs to carry it out.
type Action struct {
	// Kind is what to do.
	Kind ActionKind
	// Revision is the revision a Rollback re-applies or a rollback remediation returns to.
	Revision int
	// Strategy is the strategy of a Remediate action.
	Strategy capstanv1.RemediationStrategy
	// Stall is set on a Nothing that holds the release until the spec or an input changes.
	Stall bool
	// Reason is the condition reason of a stall, or a short token for why the action was chosen.
	Reason string
	// Message explains the decision in one deterministic sentence.
	Message string
}

// Desired is what the spec and its inputs ask for now.
type Desired struct {
	// Generation is the Release's metadata.generation.
	Generation int64
	// ChartName, ChartVersion and ChartDigest identify the resolved chart.
	ChartName, ChartVersion, ChartDigest string
	// ValuesDigest is the digest of the composed user values.
	ValuesDigest string
	// PostRenderDigest identifies spec.postRenderers and spec.commonMetadata; "" when unset.
	PostRenderDigest string
}

// Record is what Decide needs to know about one stored revision.
type Record struct {
	// Revision is the revision number.
	Revision int
	// Status is the revision's Helm status.
	Status string
	// ChartName, ChartVersion and ChartDigest identify the chart it was rendered from; the
	// digest is empty when the record does not carry one.
	ChartName, ChartVersion, ChartDigest string
	// ValuesDigest is the digest of the record's user values.
	ValuesDigest string
	// PostRenderDigest is the post-render digest the record was written with; "" for none.
	PostRenderDigest string
	// Ours is true when this Release wrote the record (its UID label matches).
	Ours bool
}

// Attempt identifies the last install, upgrade or manual rollback this Release attempted.
type Attempt struct {
	// Generation, ChartVersion and ValuesDigest are the desired state of the attempt.
	Generation   int64
	ChartVersion string
	ValuesDigest string
	// Action is the attempted action.
	Action capstanv1.ReleaseAction
}

// Facts are everything Decide looks at. They are gathered before deciding; Decide reads nothing
// else, so the whole state machine is testable as a table.
type Facts struct {
	// Deleting is true when the Release is being deleted.
	Deleting bool
	// Desired is the state the spec asks for.
	Desired Desired
	// Last is the newest record, Deployed the newest deployed record; nil when there is none.
	Last, Deployed *Record
	// LastAttempt is the last attempt recorded in status.
	LastAttempt Attempt
	// InstallFailures and UpgradeFailures are the failure counters from status.
	InstallFailures, UpgradeFailures int64
	// InstallRemediation and UpgradeRemediation are the remediation settings, defaults filled in.
	InstallRemediation, UpgradeRemediation capstanv1.Remediation
	// Remediated is true when the remediation of the current failure already ran.
	Remediated bool
	// RollbackTo is the capstan.dev/rollback-to annotation, LastHandledRollbackTo the value last
	// acted on.
	RollbackTo, LastHandledRollbackTo string
	// DriftMode is the drift detection mode; Drift the changes found, nil when not checked.
	DriftMode capstanv1.DriftDetectionMode
	Drift     []apply.Change
}

// Decide chooses the next action from the facts. The rules, in order: a deleted Release is
// uninstalled; a new rollback request is carried out; once a failed action used up its retries
// for the same desired state, the remediation runs once and the release then stalls; a release
// with nothing deployed is installed; a manual rollback holds until the generation changes; a
// release written by someone else (helm) is taken over by an upgrade, as is one whose newest
// revision failed; a change of chart or values upgrades; otherwise the release is in sync and
// only drift (in enabled mode) is corrected.
func Decide(f Facts) Action {
	if f.Deleting {
		return Action{Kind: ActionUninstall, Reason: "Deleted", Message: "the Release is being deleted"}
	}
	if a, ok := decideRollbackRequest(f); ok {
		return a
	}
	if a, ok := decideExhausted(f); ok {
		return a
	}
	if f.Deployed == nil {
		return Action{Kind: ActionInstall, Reason: "NotInstalled", Message: "no revision is deployed"}
	}
	if holdingRollback(f) {
		return inSync(f, fmt.Sprintf("held at the rollback requested by %s=%s until the generation changes",
			capstanv1.RollbackToAnnotation, f.RollbackTo))
	}
	if f.Last != nil && !f.Last.Ours {
		return Action{Kind: ActionUpgrade, Reason: "TakeOver",
			Message: fmt.Sprintf("revision %d was not written by this Release; taking the release over", f.Last.Revision)}
	}
	if f.Last != nil && f.Last.Revision != f.Deployed.Revision {
		return Action{Kind: ActionUpgrade, Reason: "LastFailed",
			Message: fmt.Sprintf("the newest revision %d is %s", f.Last.Revision, f.Last.Status)}
	}
	if change := desiredChange(f.Desired, f.Deployed); change != "" {
		return Action{Kind: ActionUpgrade, Reason: "Changed", Message: change}
	}
	return inSync(f, "")
}

// decideRollbackRequest turns a new capstan.dev/rollback-to value into a Rollback, or a stall
// when the value is not a revision number.
func decideRollbackRequest(f Facts) (Action, bool) {
	if f.RollbackTo == "" || f.RollbackTo == f.LastHandledRollbackTo {
		return Action{}, false
	}
	n, err := strconv.Atoi(strings.TrimSpace(f.RollbackTo))
	if err != nil || n < 1 {
		return Action{Kind: ActionNothing, Stall: true, Reason: capstanv1.RollbackFailedReason,
			Message: fmt.Sprintf("annotation %s=%q is not a revision number", capstanv1.RollbackToAnnotation, f.RollbackTo)}, true
	}
	return Action{Kind: ActionRollback, Revision: n, Reason: "RollbackRequested",
		Message: fmt.Sprintf("rollback to revision %d requested", n)}, true
}

// decideExhausted handles a failed action whose retries ran out for the current desired state:
// the remediation strategy runs once, then the release stalls.
func decideExhausted(f Facts) (Action, bool) {
	if !sameAttempt(f) {
		return Action{}, false
	}
	action, failures, rem := "upgrade", f.UpgradeFailures, f.UpgradeRemediation
	if f.InstallFailures > 0 {
		action, failures, rem = "install", f.InstallFailures, f.InstallRemediation
	}
	if failures == 0 || !rem.RetriesExhausted(failures) {
		return Action{}, false
	}
	stall := decideStall(f)
	if f.Remediated {
		return stall, true
	}
	switch rem.GetStrategy() {
	case capstanv1.RemediationRollback:
		if f.Deployed == nil {
			return stall, true
		}
		return Action{Kind: ActionRemediate, Strategy: capstanv1.RemediationRollback, Revision: f.Deployed.Revision,
			Reason:  capstanv1.RetriesExhaustedReason,
			Message: fmt.Sprintf("%s failed %d time(s); rolling back to revision %d", action, failures, f.Deployed.Revision)}, true
	case capstanv1.RemediationUninstall:
		return Action{Kind: ActionRemediate, Strategy: capstanv1.RemediationUninstall,
			Reason:  capstanv1.RetriesExhaustedReason,
			Message: fmt.Sprintf("%s failed %d time(s); uninstalling", action, failures)}, true
	default:
		return stall, true
	}
}

// decideStall is the hold once a failed action's retries ran out and its remediation ran.
func decideStall(f Facts) Action {
	action, failures, rem := "upgrade", f.UpgradeFailures, f.UpgradeRemediation
	if f.InstallFailures > 0 {
		action, failures, rem = "install", f.InstallFailures, f.InstallRemediation
	}
	return Action{Kind: ActionNothing, Stall: true, Reason: capstanv1.RetriesExhaustedReason,
		Message: fmt.Sprintf("%s failed %d time(s) with %d retries allowed; change the spec or an input, or set %s",
			action, failures, rem.GetRetries(), capstanv1.ResetAnnotation)}
}

// sameAttempt reports whether the desired state is the one of the last attempt, so that its
// failure counters still apply.
func sameAttempt(f Facts) bool {
	a := f.LastAttempt
	return a.Generation == f.Desired.Generation && a.ChartVersion == f.Desired.ChartVersion &&
		a.ValuesDigest == f.Desired.ValuesDigest
}

// holdingRollback reports whether a handled manual rollback still holds the release: its
// annotation is unchanged and the generation is the one it was carried out at.
func holdingRollback(f Facts) bool {
	return f.LastHandledRollbackTo != "" && f.RollbackTo == f.LastHandledRollbackTo &&
		f.LastAttempt.Action == capstanv1.ActionRollback && f.LastAttempt.Generation == f.Desired.Generation
}

// desiredChange describes how the desired state differs from a deployed record, or returns "".
func desiredChange(d Desired, r *Record) string {
	switch {
	case d.ChartName != r.ChartName:
		return fmt.Sprintf("chart %s replaces %s", d.ChartName, r.ChartName)
	case d.ChartVersion != r.ChartVersion:
		return fmt.Sprintf("chart version %s replaces %s", d.ChartVersion, r.ChartVersion)
	case d.ChartDigest != "" && r.ChartDigest != "" && d.ChartDigest != r.ChartDigest:
		return fmt.Sprintf("the archive of chart version %s changed", d.ChartVersion)
	case d.ValuesDigest != r.ValuesDigest:
		return "the values changed"
	case d.PostRenderDigest != r.PostRenderDigest:
		return "the post-renderers changed"
	}
	return ""
}

// inSync is the decision for a release whose deployed revision is what is wanted: nothing, or a
// drift correction when drift was found in enabled mode.
func inSync(f Facts, message string) Action {
	if len(f.Drift) > 0 && f.DriftMode == capstanv1.DriftDetectionEnabled {
		return Action{Kind: ActionCorrectDrift, Reason: capstanv1.DriftDetectedReason,
			Message: fmt.Sprintf("%d object(s) drifted from the deployed revision", len(f.Drift))}
	}
	return Action{Kind: ActionNothing, Reason: "InSync", Message: message}
}

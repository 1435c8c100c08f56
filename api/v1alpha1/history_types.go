package v1alpha1

import (
	"cmp"
	"slices"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// MaxStatusHistory is how many of the newest snapshots status.history keeps. Truncate may keep
// one more: the newest successful snapshot, when it is older than those.
const MaxStatusHistory = 10

// ReleaseAction is an action that creates a revision of a release.
// +kubebuilder:validation:Enum=install;upgrade;rollback;uninstall
type ReleaseAction string

const (
	// ActionInstall installs a release that has no deployed revision.
	ActionInstall ReleaseAction = "install"
	// ActionUpgrade moves a deployed release to a new chart version or new values.
	ActionUpgrade ReleaseAction = "upgrade"
	// ActionRollback re-applies the manifest of an earlier revision as a new revision.
	ActionRollback ReleaseAction = "rollback"
	// ActionUninstall removes a release's objects.
	ActionUninstall ReleaseAction = "uninstall"
)

// RevisionStatus is the state of one revision, with Helm's names, so that `helm history` and
// status.history agree.
// +kubebuilder:validation:Enum=unknown;deployed;uninstalled;superseded;failed;uninstalling;pending-install;pending-upgrade;pending-rollback
type RevisionStatus string

const (
	// RevisionUnknown is a revision in an undetermined state.
	RevisionUnknown RevisionStatus = "unknown"
	// RevisionDeployed is the revision currently in effect.
	RevisionDeployed RevisionStatus = "deployed"
	// RevisionUninstalled is a revision whose objects were removed (kept with keepHistory).
	RevisionUninstalled RevisionStatus = "uninstalled"
	// RevisionSuperseded is a once-deployed revision replaced by a newer one.
	RevisionSuperseded RevisionStatus = "superseded"
	// RevisionFailed is a revision whose action failed.
	RevisionFailed RevisionStatus = "failed"
	// RevisionUninstalling is a revision being uninstalled.
	RevisionUninstalling RevisionStatus = "uninstalling"
	// RevisionPendingInstall is a revision recorded before its install ran.
	RevisionPendingInstall RevisionStatus = "pending-install"
	// RevisionPendingUpgrade is a revision recorded before its upgrade ran.
	RevisionPendingUpgrade RevisionStatus = "pending-upgrade"
	// RevisionPendingRollback is a revision recorded before its rollback ran.
	RevisionPendingRollback RevisionStatus = "pending-rollback"
)

// IsPending reports whether the revision was recorded but its action has not finished.
func (s RevisionStatus) IsPending() bool {
	return s == RevisionPendingInstall || s == RevisionPendingUpgrade || s == RevisionPendingRollback
}

// Snapshot is the summary of one revision of a release, mirrored from its revision record.
type Snapshot struct {
	// Revision is the release revision number, starting at 1.
	// +kubebuilder:validation:Minimum=1
	// +required
	Revision int `json:"revision"`

	// Action is the action that created the revision.
	// +required
	Action ReleaseAction `json:"action"`

	// Status of the revision, as Helm names it.
	// +required
	Status RevisionStatus `json:"status"`

	// ChartName is the name of the chart deployed by the revision.
	// +kubebuilder:validation:MaxLength=253
	// +required
	ChartName string `json:"chartName"`

	// ChartVersion is the version of the chart deployed by the revision.
	// +kubebuilder:validation:MaxLength=256
	// +required
	ChartVersion string `json:"chartVersion"`

	// AppVersion is the chart's appVersion.
	// +kubebuilder:validation:MaxLength=256
	// +optional
	AppVersion string `json:"appVersion,omitempty"`

	// ValuesDigest is the digest of the composed values, sha256:<hex>.
	// +kubebuilder:validation:MaxLength=80
	// +optional
	ValuesDigest string `json:"valuesDigest,omitempty"`

	// ManifestDigest is the digest of the rendered manifest, sha256:<hex>.
	// +kubebuilder:validation:MaxLength=80
	// +optional
	ManifestDigest string `json:"manifestDigest,omitempty"`

	// StartedAt is when the action started.
	// +required
	StartedAt metav1.Time `json:"startedAt"`

	// FinishedAt is when the action finished; empty while it is pending.
	// +optional
	FinishedAt *metav1.Time `json:"finishedAt,omitempty"`

	// Message is a one-line summary of the outcome, without secrets or values.
	// +kubebuilder:validation:MaxLength=1024
	// +optional
	Message string `json:"message,omitempty"`
}

// Successful reports whether the revision was deployed at some point: it is deployed or
// superseded, so it is a valid rollback target.
func (in *Snapshot) Successful() bool {
	return in.Status == RevisionDeployed || in.Status == RevisionSuperseded
}

// History is a release's revisions, newest first: status.history.
type History []Snapshot

// Latest returns the snapshot with the highest revision, or nil for an empty history.
func (h History) Latest() *Snapshot {
	return h.newest(func(*Snapshot) bool { return true })
}

// Previous returns the snapshot with the highest revision below the latest one, or nil.
func (h History) Previous() *Snapshot {
	latest := h.Latest()
	if latest == nil {
		return nil
	}
	return h.newest(func(s *Snapshot) bool { return s.Revision < latest.Revision })
}

// LatestSuccessful returns the newest snapshot that was deployed at some point (deployed or
// superseded), or nil. It is the candidate target of a remediating rollback.
func (h History) LatestSuccessful() *Snapshot {
	return h.newest((*Snapshot).Successful)
}

// ByRevision returns the snapshot of revision n, or nil.
func (h History) ByRevision(n int) *Snapshot {
	return h.newest(func(s *Snapshot) bool { return s.Revision == n })
}

// Truncate returns the n newest snapshots, newest first. If none of them is successful, the
// newest successful snapshot is kept as well, so a rollback target stays visible (as Helm keeps
// the last deployed revision when it prunes). n <= 0 keeps every snapshot. The receiver is not
// modified.
func (h History) Truncate(n int) History {
	out := h.Sorted()
	if n <= 0 || len(out) <= n {
		return out
	}
	kept := out[:n:n]
	if slices.ContainsFunc(kept, func(s Snapshot) bool { return s.Successful() }) {
		return kept
	}
	if last := out[n:].LatestSuccessful(); last != nil {
		return append(kept, *last)
	}
	return kept
}

// Upsert returns the history with s in place of the snapshot of the same revision, or with s
// added, sorted newest first. The receiver is not modified.
func (h History) Upsert(s Snapshot) History {
	out := slices.DeleteFunc(slices.Clone(h), func(o Snapshot) bool { return o.Revision == s.Revision })
	return append(out, s).Sorted()
}

// Sorted returns a copy of the history ordered by revision, newest first.
func (h History) Sorted() History {
	out := slices.Clone(h)
	slices.SortStableFunc(out, func(a, b Snapshot) int { return cmp.Compare(b.Revision, a.Revision) })
	return out
}

// newest returns the snapshot with the highest revision among those that match, or nil.
func (h History) newest(match func(*Snapshot) bool) *Snapshot {
	var best *Snapshot
	for i := range h {
		s := &h[i]
		if match(s) && (best == nil || s.Revision > best.Revision) {
			best = s
		}
	}
	return best
}

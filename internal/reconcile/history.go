package reconcile

import (
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	capstanv1 "github.com/capstan-dev/capstan/api/v1alpha1"
	"github.com/capstan-dev/capstan/internal/storage"
	"github.com/capstan-dev/capstan/internal/values"
)

// Record descriptions Capstan writes, which `helm history` shows and from which the action of a
// revision is read back.
const (
	descInstalled   = "Install complete"
	descUpgraded    = "Upgrade complete"
	descRollbackTo  = "Rollback to "
	descInstallFail = "Install failed: "
	descUpgradeFail = "Upgrade failed: "
)

// syncStatusFromRecords makes the status fields that mirror storage agree with the records:
// current revision, chart, app version, rollback target and history. It depends only on the
// records and the previous history, so an unchanged storage gives an unchanged status.
func syncStatusFromRecords(rel *capstanv1.Release, records []*storage.Release) {
	st := &rel.Status
	st.ReleaseName = rel.GetReleaseName()
	st.StorageNamespace = rel.GetStorageNamespace()
	st.CurrentRevision, st.ChartName, st.ChartVersion, st.AppVersion, st.RollbackTarget = 0, "", "", "", 0
	if dep := deployedRecord(records); dep != nil {
		st.CurrentRevision, st.RollbackTarget = dep.Version, dep.Version
		if md := dep.Chart.Metadata; md != nil {
			st.ChartName, st.ChartVersion, st.AppVersion = md.Name, md.Version, md.AppVersion
		}
	}
	st.History = syncHistory(st.History, records, historyLimit(rel))
}

// historyLimit is how many snapshots status keeps: maxHistory, capped by MaxStatusHistory.
func historyLimit(rel *capstanv1.Release) int {
	n := rel.GetMaxHistory()
	if n <= 0 || n > capstanv1.MaxStatusHistory {
		return capstanv1.MaxStatusHistory
	}
	return n
}

// syncHistory rebuilds the history from the records, keeping the action and times the previous
// snapshots of the same revisions carried. Revisions without a record are dropped.
func syncHistory(prev capstanv1.History, records []*storage.Release, limit int) capstanv1.History {
	if len(records) == 0 {
		return nil
	}
	out := make(capstanv1.History, 0, len(records))
	for _, r := range records {
		out = append(out, snapshotOf(r, prev.ByRevision(r.Version)))
	}
	return out.Truncate(limit)
}

// snapshotOf summarises a record, keeping what only the earlier snapshot knows.
func snapshotOf(r *storage.Release, prev *capstanv1.Snapshot) capstanv1.Snapshot {
	s := capstanv1.Snapshot{
		Revision: r.Version, Status: capstanv1.RevisionStatus(r.Info.Status),
		ValuesDigest: values.Digest(r.Config), ManifestDigest: manifestDigest(r.Manifest),
		Message: oneLine(r.Info.Description), Action: actionOf(r, prev),
		StartedAt: startedAt(r, prev),
	}
	if r.Stripped() {
		// A revision's values and manifest never change: a stripped record's digests are those
		// the snapshot took when it had them, else unknown until a reconcile lists it again.
		s.ValuesDigest, s.ManifestDigest = "", ""
		if prev != nil {
			s.ValuesDigest, s.ManifestDigest = prev.ValuesDigest, prev.ManifestDigest
		}
	}
	if md := r.Chart.Metadata; md != nil {
		s.ChartName, s.ChartVersion, s.AppVersion = md.Name, md.Version, md.AppVersion
	}
	if s.ChartName == "" {
		s.ChartName, s.ChartVersion = "unknown", "unknown"
	}
	if !s.Status.IsPending() && prev != nil && prev.FinishedAt != nil {
		s.FinishedAt = prev.FinishedAt.DeepCopy()
	}
	if !r.Info.Status.IsKnown() {
		s.Status = capstanv1.RevisionUnknown
	}
	return s
}

// actionOf reads a revision's action: from the earlier snapshot, else from the record.
func actionOf(r *storage.Release, prev *capstanv1.Snapshot) capstanv1.ReleaseAction {
	if prev != nil && prev.Action != "" {
		return prev.Action
	}
	desc := r.Info.Description
	switch {
	case r.Info.RollbackRevision > 0 || strings.HasPrefix(desc, descRollbackTo):
		return capstanv1.ActionRollback
	case r.Info.Status == storage.StatusUninstalled || r.Info.Status == storage.StatusUninstalling:
		return capstanv1.ActionUninstall
	case r.Version == 1 || r.Info.Status == storage.StatusPendingInstall || strings.HasPrefix(desc, "Install"):
		return capstanv1.ActionInstall
	default:
		return capstanv1.ActionUpgrade
	}
}

// startedAt is the earlier snapshot's start, else the record's deploy time, at second precision
// (what the API stores), never zero (the field is required).
func startedAt(r *storage.Release, prev *capstanv1.Snapshot) metav1.Time {
	if prev != nil && !prev.StartedAt.IsZero() {
		return prev.StartedAt
	}
	t := r.Info.LastDeployed
	if t.IsZero() {
		t = r.Info.FirstDeployed
	}
	if t.IsZero() {
		t = time.Unix(0, 0)
	}
	return metav1.NewTime(t.UTC().Truncate(time.Second))
}

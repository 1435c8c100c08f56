package reconcile

import (
	"context"
	"errors"
	"fmt"
	"slices"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	crlog "sigs.k8s.io/controller-runtime/pkg/log"

	capstanv1 "github.com/capstan-dev/capstan/api/v1alpha1"
	"github.com/capstan-dev/capstan/internal/apply"
	"github.com/capstan-dev/capstan/internal/failpoint"
	"github.com/capstan-dev/capstan/internal/manifest"
	"github.com/capstan-dev/capstan/internal/storage"
	"github.com/capstan-dev/capstan/internal/values"
)

// refsOf returns the references of prepared objects.
func refsOf(objs []*unstructured.Unstructured) []apply.ObjectRef {
	out := make([]apply.ObjectRef, 0, len(objs))
	for _, o := range objs {
		out = append(out, apply.RefOf(o))
	}
	return out
}

// inventoryOf builds status.inventory from sets of references, or nil when there are none.
func inventoryOf(sets ...[]apply.ObjectRef) *capstanv1.Inventory {
	var entries []capstanv1.InventoryEntry
	for _, set := range sets {
		for _, r := range set {
			ref := capstanv1.ObjectRef{Namespace: r.Namespace, Name: r.Name, Group: r.Group, Kind: r.Kind}
			entries = append(entries, capstanv1.NewInventoryEntry(ref, r.Version))
		}
	}
	if len(entries) == 0 {
		return nil
	}
	return capstanv1.NewInventory(entries...)
}

// inventoryRefs reads status.inventory back into references; unreadable entries are skipped.
func inventoryRefs(inv *capstanv1.Inventory) []apply.ObjectRef {
	if inv == nil {
		return nil
	}
	out := make([]apply.ObjectRef, 0, len(inv.Entries))
	for _, e := range inv.Entries {
		r, err := e.ObjectRef()
		if err != nil {
			continue
		}
		out = append(out, apply.ObjectRef{Group: r.Group, Version: e.Version, Kind: r.Kind, Namespace: r.Namespace, Name: r.Name})
	}
	return out
}

// unionRefs joins reference lists, keeping the first occurrence of each object.
func unionRefs(sets ...[]apply.ObjectRef) []apply.ObjectRef {
	seen := map[string]bool{}
	var out []apply.ObjectRef
	for _, set := range sets {
		for _, r := range set {
			if !seen[r.ID()] {
				seen[r.ID()] = true
				out = append(out, r)
			}
		}
	}
	return out
}

// sortForDeletion orders references in Helm's uninstall kind order.
func sortForDeletion(refs []apply.ObjectRef) []apply.ObjectRef {
	out := slices.Clone(refs)
	slices.SortStableFunc(out, func(a, b apply.ObjectRef) int {
		switch {
		case manifest.UninstallOrder.Less(a.Kind, b.Kind):
			return -1
		case manifest.UninstallOrder.Less(b.Kind, a.Kind):
			return 1
		}
		return 0
	})
	return out
}

// deployedObjects parses and prepares the objects of the deployed record, once per session.
func (s *session) deployedObjects(ctx context.Context) ([]*unstructured.Unstructured, error) {
	if s.deployed != nil {
		return s.deployed, nil
	}
	dep := deployedRecord(s.records)
	if dep == nil {
		return nil, nil
	}
	objs, err := s.recordObjects(ctx, dep)
	if err != nil {
		return nil, err
	}
	s.deployed = objs
	return objs, nil
}

// recordObjects parses a record's manifest and prepares its objects; objects whose kind the
// cluster no longer serves keep the namespace they were written with.
func (s *session) recordObjects(ctx context.Context, rec *storage.Release) ([]*unstructured.Unstructured, error) {
	objs, err := parseStoredManifest(rec.Manifest, s.rel.GetTargetNamespace())
	if err != nil {
		return nil, transientErr(capstanv1.StorageFailedReason,
			fmt.Errorf("the manifest of revision %d cannot be read: %w", rec.Version, err))
	}
	if err := s.newApplier(false, false, false).Prepare(objs); err != nil {
		var dry *apply.DryRunError
		if !errors.As(err, &dry) {
			return nil, transientErr(ReasonReconcileFailed, err)
		}
		crlog.FromContext(ctx).V(1).Info("some kinds of a stored revision are not served", "revision", rec.Version, "detail", err.Error())
	}
	return objs, nil
}

// previousRefs is what the release had before the revision being written: everything it may own
// by its durable state (ownedRefs).
func (s *session) previousRefs(ctx context.Context) ([]apply.ObjectRef, error) {
	if s.previousKnown {
		return s.previous, nil
	}
	return s.ownedRefs(ctx)
}

// ownedRefs is every object the release may own, read only from durable state: status.inventory
// (written ahead of every revision, and kept while a deletion fails), the deployed record's objects,
// and the objects of every record newer than the deployed one — revisions that failed or were
// interrupted after their record was created, whose objects may be partly applied. A prune or an
// uninstall that starts from it leaves no orphan, whatever step a crash interrupted.
func (s *session) ownedRefs(ctx context.Context) ([]apply.ObjectRef, error) {
	objs, err := s.deployedObjects(ctx)
	if err != nil {
		return nil, err
	}
	sets := [][]apply.ObjectRef{inventoryRefs(s.rel.Status.Inventory), refsOf(objs)}
	for _, rec := range recordsAfterDeployed(s.records) {
		if rec.DecodeError() != nil {
			continue
		}
		objs, err := s.recordObjects(ctx, rec)
		if err != nil {
			crlog.FromContext(ctx).Info("the manifest of an undeployed revision cannot be read; its objects are not pruned",
				"revision", rec.Version, "error", err.Error())
			continue
		}
		sets = append(sets, refsOf(objs))
	}
	return unionRefs(sets...), nil
}

// recordsAfterDeployed returns the records newer than the newest deployed one (all of them when
// none is deployed). records are sorted by version.
func recordsAfterDeployed(records []*storage.Release) []*storage.Release {
	for i := len(records) - 1; i >= 0; i-- {
		if records[i].Info.Status == storage.StatusDeployed {
			return records[i+1:]
		}
	}
	return records
}

// prune deletes what previous has and current does not, in uninstall order, and returns the
// objects whose deletion failed (kept in the inventory and retried on the next reconcile).
// Objects marked keep, or owned by someone else by now, are let go.
func (s *session) prune(ctx context.Context, a *apply.Applier, previous, current []apply.ObjectRef) ([]apply.ObjectRef, error) {
	stale := sortForDeletion(apply.Stale(previous, current))
	if len(stale) == 0 {
		return nil, nil
	}
	err := deleteStale(ctx, a, stale)
	var pe *apply.PruneError
	if err == nil || !errors.As(err, &pe) {
		if err != nil {
			return stale, transientErr("PruneFailed", err)
		}
		return nil, nil
	}
	failed := make([]apply.ObjectRef, 0, len(pe.Failures))
	for _, f := range pe.Failures {
		failed = append(failed, f.Ref)
	}
	return failed, classifyFailures("PruneFailed", pe.Failures, fmt.Errorf("pruning objects the release no longer has: %w", err))
}

// deleteStale deletes stale objects; a failpoints build deletes the first one alone, so that the
// chaos suite can kill the manager in the middle of a prune.
func deleteStale(ctx context.Context, a *apply.Applier, stale []apply.ObjectRef) error {
	if failpoint.Enabled && len(stale) > 1 {
		if _, err := a.Delete(ctx, stale[:1]); err != nil {
			return err
		}
		failpoint.Inject(failpoint.MidPrune)
	}
	_, err := a.Delete(ctx, stale)
	return err
}

// settle is the in-sync path: status mirrors the records, leftovers of earlier revisions whose
// deletion failed are pruned again, and the inventory is the deployed revision's objects.
func (s *session) settle(ctx context.Context) error {
	syncStatusFromRecords(s.rel, s.records)
	restoreReleased(s.rel, s.records)
	s.rel.Status.Conflicts = nil
	objs, err := s.deployedObjects(ctx)
	if err != nil {
		return err
	}
	current := refsOf(objs)
	owned, err := s.ownedRefs(ctx)
	if err != nil {
		return err
	}
	failed, pruneErr := s.prune(ctx, s.newApplier(false, false, false), owned, current)
	s.rel.Status.Inventory = inventoryOf(current, failed)
	if pruneErr == nil {
		st := &s.rel.Status
		st.Failures, st.InstallFailures, st.UpgradeFailures = 0, 0, 0
	}
	return pruneErr
}

// restoreReleased sets Released=True when the newest record is deployed but Released says
// otherwise: the action that wrote it succeeded, and a reconcile that failed after the record was
// marked deployed (a superseding or refresh write refused) may not have said so. A remediation is
// left as it is: its rollback deployed the newest record, but the action asked for failed.
func restoreReleased(rel *capstanv1.Release, records []*storage.Release) {
	last := lastRecord(records)
	if last == nil || last.Info.Status != storage.StatusDeployed || findCondition(rel, capstanv1.RemediatedCondition) != nil {
		return
	}
	if c := findCondition(rel, capstanv1.ReleasedCondition); c != nil && c.Status == metav1.ConditionTrue {
		return
	}
	action := capstanv1.ActionUpgrade
	switch {
	case last.Info.RollbackRevision > 0:
		action = capstanv1.ActionRollback
	case last.Version == 1:
		action = capstanv1.ActionInstall
	}
	if snap := rel.Status.History.ByRevision(last.Version); snap != nil && snap.Action != "" {
		action = snap.Action
	}
	setCondition(rel, capstanv1.ReleasedCondition, metav1.ConditionTrue, successReason(action),
		fmt.Sprintf("%s revision %d of %s %s", pastTense(action), last.Version, chartNameOf(last), chartVersionOf(last)))
}

// Accessors of a record's chart, tolerant of records without metadata.

func chartNameOf(r *storage.Release) string {
	if r.Chart.Metadata == nil {
		return ""
	}
	return r.Chart.Metadata.Name
}

func chartVersionOf(r *storage.Release) string {
	if r.Chart.Metadata == nil {
		return ""
	}
	return r.Chart.Metadata.Version
}

func appVersionOf(r *storage.Release) string {
	if r.Chart.Metadata == nil {
		return ""
	}
	return r.Chart.Metadata.AppVersion
}

func valuesDigestOf(r *storage.Release) string { return values.Digest(r.Config) }

// pastTense names a completed action for messages.
func pastTense(a capstanv1.ReleaseAction) string {
	switch a {
	case capstanv1.ActionInstall:
		return "Installed"
	case capstanv1.ActionUpgrade:
		return "Upgraded to"
	case capstanv1.ActionRollback:
		return "Rolled back as"
	default:
		return "Uninstalled"
	}
}

func successReason(a capstanv1.ReleaseAction) string {
	switch a {
	case capstanv1.ActionInstall:
		return capstanv1.InstallSucceededReason
	case capstanv1.ActionUpgrade:
		return capstanv1.UpgradeSucceededReason
	default:
		return capstanv1.RollbackSucceededReason
	}
}

func failureReason(a capstanv1.ReleaseAction) string {
	switch a {
	case capstanv1.ActionInstall:
		return capstanv1.InstallFailedReason
	case capstanv1.ActionUpgrade:
		return capstanv1.UpgradeFailedReason
	default:
		return capstanv1.RollbackFailedReason
	}
}

package reconcile

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	crlog "sigs.k8s.io/controller-runtime/pkg/log"
	crreconcile "sigs.k8s.io/controller-runtime/pkg/reconcile"

	capstanv1 "github.com/capstan-dev/capstan/api/v1alpha1"
	"github.com/capstan-dev/capstan/internal/apply"
	"github.com/capstan-dev/capstan/internal/failpoint"
	"github.com/capstan-dev/capstan/internal/storage"
)

// Finalize uninstalls the release of a Release being deleted. It reports done when the
// finalizer may be removed: after a successful uninstall, when the Release never installed
// anything, when it is suspended, or when another Release owns the release name (nothing of it
// is touched then). Otherwise the finalizer stays and the result says when to try again.
func (r *Reconciler) Finalize(ctx context.Context, rel *capstanv1.Release, p *StatusPatcher) (crreconcile.Result, bool, error) {
	r.Abandon(ctx, rel)
	if rel.Spec.Suspend {
		crlog.FromContext(ctx).Info("release is suspended; leaving its objects and records in place")
		r.Metrics.forget(clientKey(rel))
		return crreconcile.Result{}, true, nil
	}
	ctx, red := startRedaction(ctx)
	s := r.newSession(rel, p)
	s.red = red
	s.action = Action{Kind: ActionUninstall}
	err := s.finalize(ctx)
	if err == nil || classify(err).Reason == capstanv1.ReleaseNameConflictReason {
		r.Metrics.forget(clientKey(rel))
		return crreconcile.Result{}, true, nil
	}
	if r.namespaceTerminating(ctx, rel.Namespace) {
		s.event(corev1EventWarning, capstanv1.UninstallFailedReason, string(capstanv1.ActionUninstall),
			"the namespace is being deleted and the uninstall failed; letting the Release go: "+err.Error())
		r.Metrics.forget(clientKey(rel))
		return crreconcile.Result{}, true, nil
	}
	summarize(rel, Outcome{Err: err, Redact: red.Redact})
	redactStatus(rel, red)
	res, err := r.result(ctx, rel, err)
	return res, false, err
}

// namespaceTerminating reports whether a namespace is being deleted: its objects (the service
// account a Release impersonates among them) are going away, so an uninstall that cannot finish
// must not keep the Release, and with it the namespace, forever.
func (r *Reconciler) namespaceTerminating(ctx context.Context, name string) bool {
	ns := &corev1.Namespace{}
	if err := r.Client.Get(ctx, client.ObjectKey{Name: name}, ns); err != nil {
		return false
	}
	return !ns.DeletionTimestamp.IsZero()
}

// finalize uninstalls from the records, not only from what status says: a crash after a record
// was created and before status mentioned it leaves a record that status does not know of. A
// Release whose status shows nothing and whose records cannot be read (its service account is
// gone) is let go, as it most likely never wrote anything.
func (s *session) finalize(ctx context.Context) error {
	wroteNothing := len(s.rel.Status.History) == 0 && s.rel.Status.Inventory.Len() == 0
	if err := s.connect(ctx); err != nil {
		if wroteNothing {
			return nil
		}
		return err
	}
	if err := s.listRecords(ctx); err != nil {
		if wroteNothing {
			return nil
		}
		return err
	}
	if err := s.checkNameOwner(ctx); err != nil {
		return err
	}
	if len(s.records) == 0 && s.rel.Status.Inventory.Len() == 0 {
		return nil
	}
	if err := s.recoverPending(ctx); err != nil {
		return err
	}
	if err := s.connectTarget(ctx); err != nil {
		if s.rel.Spec.KubeConfig != nil {
			// The objects are in a cluster Capstan cannot reach: the Release stays until it can,
			// unless it is suspended (which leaves objects and records in place).
			e := classify(err)
			return &Error{Class: e.Class, Reason: e.Reason, RequeueAfter: e.RequeueAfter,
				Err: fmt.Errorf("cannot uninstall from the remote cluster, so the Release is kept (set spec.suspend to true to delete it and leave the release's objects and records in place): %w", err)}
		}
		return err
	}
	return s.uninstall(ctx)
}

// uninstall runs the pre-delete hooks, deletes the release's objects in uninstall order (keeping
// those marked keep), waits until they are gone (unless uninstall.disableWait), runs the
// post-delete hooks, and deletes the records or, with keepHistory,
// marks the newest uninstalled.
func (s *session) uninstall(ctx context.Context) error {
	markReconciling(s.rel, fmt.Sprintf("Uninstalling release %s", s.rel.GetReleaseName()))
	s.patch(ctx)
	last := lastRecord(s.records)
	if err := s.deleteHooks(ctx, last, "pre-delete"); err != nil {
		return transientErr(capstanv1.UninstallFailedReason, err)
	}
	refs, err := s.uninstallRefs(ctx)
	if err != nil {
		return err
	}
	failed, err := s.prune(ctx, s.newApplier(false, false, false), refs, nil)
	s.rel.Status.Inventory = inventoryOf(failed)
	if err != nil {
		return transientErr(capstanv1.UninstallFailedReason, err)
	}
	if err := s.waitForDeletion(ctx, sortForDeletion(refs)); err != nil {
		return transientErr(capstanv1.UninstallFailedReason, err)
	}
	if err := s.deleteHooks(ctx, last, "post-delete"); err != nil {
		return transientErr(capstanv1.UninstallFailedReason, err)
	}
	failpoint.Inject(failpoint.MidUninstall)
	if err := s.removeRecords(ctx); err != nil {
		return err
	}
	msg := fmt.Sprintf("Uninstalled release %s", s.rel.GetReleaseName())
	s.event(corev1EventNormal, capstanv1.UninstallSucceededReason, string(capstanv1.ActionUninstall), msg)
	if err := s.listRecords(ctx); err != nil {
		return err
	}
	syncStatusFromRecords(s.rel, s.records)
	return nil
}

// uninstallRefs is everything the release may have written (ownedRefs: the inventory, the
// deployed record and every record newer than it).
func (s *session) uninstallRefs(ctx context.Context) ([]apply.ObjectRef, error) {
	return s.ownedRefs(ctx)
}

// deleteHooks runs the delete hooks of the newest record, unless uninstall hooks are off.
func (s *session) deleteHooks(ctx context.Context, last *storage.Release, event string) error {
	if last == nil || s.r.NewHookRunner == nil || len(last.Hooks) == 0 {
		return nil
	}
	if u := s.rel.Spec.Uninstall; u != nil && u.DisableHooks {
		return nil
	}
	if err := s.r.NewHookRunner(s.target, s.owner).Run(ctx, event, last.Hooks, s.rel.GetTimeout()); err != nil {
		return fmt.Errorf("%s hooks failed: %w", event, err)
	}
	return nil
}

// removeRecords deletes every record, or with keepHistory marks the newest uninstalled and any
// other deployed one superseded.
func (s *session) removeRecords(ctx context.Context) error {
	ns, name := s.rel.GetStorageNamespace(), s.rel.GetReleaseName()
	if u := s.rel.Spec.Uninstall; u == nil || !u.KeepHistory {
		if err := s.store.DeleteAll(ctx, ns, name); err != nil {
			return s.storageError(err, "deleting the release records")
		}
		return nil
	}
	last := lastRecord(s.records)
	for _, rec := range s.records {
		var next storage.Status
		switch {
		case rec == last:
			next = storage.StatusUninstalled
		case rec.Info.Status == storage.StatusDeployed:
			next = storage.StatusSuperseded
		default:
			continue
		}
		if storage.CheckTransition(rec.Info.Status, next) != nil {
			continue
		}
		rec.Info.Status = next
		if next == storage.StatusUninstalled {
			rec.Info.Description = "Uninstallation complete"
			rec.Info.Deleted = s.r.now().UTC()
		}
		if err := s.store.UpdateStatus(ctx, rec); err != nil {
			return s.storageError(err, "marking the release uninstalled")
		}
	}
	return nil
}

// RecoverSuspended recovers the pending revisions that this Release's own interrupted attempts
// left, for a Release that is suspended (and so does nothing else): helm, and the Release once
// resumed, then find no operation in progress. Records written by other tools are left alone.
func (r *Reconciler) RecoverSuspended(ctx context.Context, rel *capstanv1.Release) error {
	r.Abandon(ctx, rel)
	s := r.newSession(rel, nil)
	if err := s.connect(ctx); err != nil {
		return err
	}
	if err := s.listRecords(ctx); err != nil {
		return err
	}
	ownPending := false
	for _, rec := range s.records {
		ownPending = ownPending || (rec.Info.Status.IsPending() && writtenByCapstan(rec))
	}
	if !ownPending {
		return nil
	}
	if err := s.checkNameOwner(ctx); err != nil {
		return err
	}
	return s.recoverRecords(ctx, true)
}

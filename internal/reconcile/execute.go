package reconcile

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	crlog "sigs.k8s.io/controller-runtime/pkg/log"

	capstanv1 "github.com/capstan-dev/capstan/api/v1alpha1"
	"github.com/capstan-dev/capstan/internal/apply"
	"github.com/capstan-dev/capstan/internal/failpoint"
	"github.com/capstan-dev/capstan/internal/manifest"
	"github.com/capstan-dev/capstan/internal/render"
	"github.com/capstan-dev/capstan/internal/storage"
)

// release installs or upgrades the release to the desired chart and values.
func (s *session) release(ctx context.Context) error {
	if err := s.r.budgetMemo.check(s.rel.UID, s.desired); err != nil {
		return err // rendered before with these inputs, over budget: not again.
	}
	upgrade := s.action.Kind == ActionUpgrade
	revision := s.revisionNumber()
	act, verb := capstanv1.ActionInstall, "Installing"
	if upgrade {
		act, verb = capstanv1.ActionUpgrade, "Upgrading to"
	}
	s.recordAttempt(act, s.desired.ChartVersion, s.desired.ValuesDigest)
	// Written with the inventory before the first write of the revision (writeAhead), or with the
	// outcome when the planning fails: one status write fewer than a patch of its own.
	markReconciling(s.rel, fmt.Sprintf("%s chart %s %s as revision %d", verb, s.desired.ChartName, s.desired.ChartVersion, revision))
	p, err := s.planRelease(ctx, upgrade, revision)
	if err != nil {
		s.r.budgetMemo.remember(s.rel.UID, s.desired, err)
		return err
	}
	return s.execute(ctx, p)
}

// recordAttempt notes the attempt in status. A new desired state starts the failure counters and
// the remediation over.
func (s *session) recordAttempt(act capstanv1.ReleaseAction, chartVersion, valuesDigest string) {
	st := &s.rel.Status
	if st.LastAttemptedGeneration != s.rel.Generation || st.LastAttemptedRevision != chartVersion ||
		st.LastAttemptedValuesDigest != valuesDigest {
		st.InstallFailures, st.UpgradeFailures = 0, 0
		removeCondition(s.rel, capstanv1.RemediatedCondition)
	}
	st.LastAttemptedGeneration, st.LastAttemptedRevision = s.rel.Generation, chartVersion
	st.LastAttemptedValuesDigest, st.LastAttemptedReleaseAction = valuesDigest, act
}

// newRecord builds the pending record of a rendered revision.
func (s *session) newRecord(res *render.Result, revision int, upgrade bool) *storage.Release {
	now := s.r.now().UTC()
	status, desc := storage.StatusPendingInstall, "Initial install underway"
	if upgrade {
		status, desc = storage.StatusPendingUpgrade, "Preparing upgrade"
	}
	return &storage.Release{
		Name: s.rel.GetReleaseName(), Namespace: s.rel.GetStorageNamespace(), Version: revision,
		Info: storage.Info{FirstDeployed: s.firstDeployed(now), LastDeployed: now, Status: status,
			Description: desc, Notes: res.Notes},
		Chart:       storage.NewChart(res.Chart),
		Config:      s.userValues,
		Manifest:    res.Manifest(),
		Hooks:       recordHooks(res.Hooks),
		ApplyMethod: storage.ApplyMethodServerSide,
		Labels:      s.recordLabels(s.desired.ChartDigest, s.desired.PostRenderDigest),
	}
}

// firstDeployed is the first deploy time of the release, or now for its first revision.
func (s *session) firstDeployed(now time.Time) time.Time {
	for _, r := range s.records {
		if !r.Info.FirstDeployed.IsZero() {
			return r.Info.FirstDeployed
		}
	}
	return now
}

// recordLabels are the labels of every record this Release writes (the attempt is added when the
// record is created): the chart digest and post-render digest are those of the manifest it holds.
func (s *session) recordLabels(chartDigest, postRenderDigest string) map[string]string {
	labels := map[string]string{ReleaseUIDLabel: string(s.rel.UID), GenerationLabel: strconv.FormatInt(s.rel.Generation, 10)}
	if chartDigest != "" {
		labels[ChartDigestLabel] = chartDigest
	}
	if postRenderDigest != "" {
		labels[PostRenderDigestLabel] = postRenderDigest
	}
	return labels
}

// recordHooks converts rendered hooks to their record form.
func recordHooks(hooks []manifest.Hook) []*storage.Hook {
	out := make([]*storage.Hook, 0, len(hooks))
	for _, h := range hooks {
		out = append(out, &storage.Hook{Name: h.Name, Kind: h.Kind, Path: h.Path, Manifest: h.Manifest,
			Events: h.Events, Weight: h.Weight, DeletePolicies: h.DeletePolicies, OutputLogPolicies: h.OutputLogPolicies})
	}
	return out
}

// execute writes a checked plan: pending record, pre hooks and apply; then the wait for health
// (await), which may go on across reconciles; then the post hooks, the prune and the record's
// final status (conclude). A failure after the record exists marks it failed.
func (s *session) execute(ctx context.Context, p *plan) error {
	s.startSnapshot(p)
	if err := s.writeAhead(ctx, p); err != nil {
		return err
	}
	attempt := s.r.beginAttempt()
	parked := false
	defer func() {
		if !parked {
			s.r.endAttempt(attempt)
		}
	}()
	p.record.Labels[AttemptLabel] = attempt
	p.record.Labels[RevisionLabel] = strconv.Itoa(p.record.Version)
	if !p.noWait && s.r.Watches != nil && s.r.Enqueue != nil {
		// From before the apply until its wait is listed, events of its objects are kept for it.
		defer s.r.waits.expect(refIDs(p.objectRefs()))()
	}
	if err := s.createRecord(ctx, p.record); err != nil {
		return err
	}
	failpoint.Inject(failpoint.AfterPendingRecord)
	s.pruneHistory(ctx, p.record)
	applied, err := s.deploy(ctx, p)
	if errors.Is(err, errShuttingDown) {
		return s.interrupt(ctx, p)
	}
	if err != nil {
		return s.conclude(ctx, p, applied, err)
	}
	if p.noWait || s.r.NewWaiter == nil {
		return s.finish(ctx, p, applied)
	}
	w := s.r.newWaiting(ctx, s, p, attempt, applied)
	failpoint.Inject(failpoint.DuringWait)
	err = s.await(ctx, w)
	parked = isProgressing(err)
	return err
}

// refIDs are the IDs (apply.ObjectRef.ID) of refs.
func refIDs(refs []apply.ObjectRef) []string {
	ids := make([]string, len(refs))
	for i, r := range refs {
		ids[i] = r.ID()
	}
	return ids
}

// conclude records the outcome of a revision whose record exists: failed with cause, or deployed.
func (s *session) conclude(ctx context.Context, p *plan, applied []apply.ObjectRef, cause error) error {
	// A manual rollback is handled once it has an outcome; an interrupted one is carried out again.
	if p.rollbackRequest != "" {
		s.rel.Status.LastHandledRollbackTo = p.rollbackRequest
	}
	if cause != nil {
		return s.fail(ctx, p, applied, cause)
	}
	return s.succeed(ctx, p)
}

// finish runs the post hooks of a revision whose objects are ready, and concludes it.
func (s *session) finish(ctx context.Context, p *plan, applied []apply.ObjectRef) error {
	if ShuttingDown(ctx) {
		return s.interrupt(ctx, p)
	}
	err := s.runHooks(ctx, p, p.postEvent)
	if err == nil {
		failpoint.Inject(failpoint.AfterPostHooks)
	}
	return s.conclude(ctx, p, applied, err)
}

// writeAhead makes the union of the objects the release may own durable before the first write of
// the revision: status.inventory becomes everything the release may own so far (ownedRefs) plus
// the revision's objects, and is written now, or nothing else is. Until a prune or an uninstall
// has deleted them, these objects stay in the inventory, so no interruption can orphan them.
func (s *session) writeAhead(ctx context.Context, p *plan) error {
	owned, err := s.ownedRefs(ctx)
	if err != nil {
		return err
	}
	p.ownedBefore = owned
	s.rel.Status.Inventory = inventoryOf(unionRefs(p.objectRefs(), owned))
	if s.patcher == nil {
		return nil
	}
	redactStatus(s.rel, s.red)
	if err := s.patcher.Patch(ctx, s.rel); err != nil {
		return transientErr(ReasonReconcileFailed,
			fmt.Errorf("recording the objects revision %d may write before writing any: %w", p.record.Version, err))
	}
	return nil
}

// createRecord stores the pending record; a conflict means another writer got there first.
func (s *session) createRecord(ctx context.Context, rec *storage.Release) error {
	err := s.store.Create(ctx, rec)
	switch {
	case err == nil:
		return nil
	case isConflict(err):
		return waitErr("Conflict", s.r.conflictRequeue(),
			fmt.Errorf("another writer created revision %d of release %s first; reading the records again", rec.Version, rec.Name))
	case errors.Is(err, storage.ErrTooLarge):
		return stallErr(capstanv1.RecordTooLargeReason, err)
	default:
		return apiErr(capstanv1.StorageFailedReason, fmt.Errorf("creating revision %d: %w", rec.Version, err))
	}
}

// deploy runs the pre hooks and applies. It returns what it applied. Between two steps, a
// shutdown of the manager stops it with errShuttingDown.
func (s *session) deploy(ctx context.Context, p *plan) ([]apply.ObjectRef, error) {
	if err := s.runHooks(ctx, p, p.preEvent); err != nil {
		return nil, err
	}
	if err := s.noteCreated(ctx, p); err != nil {
		return nil, err
	}
	if ShuttingDown(ctx) {
		return nil, errShuttingDown
	}
	all := append(append([]*unstructured.Unstructured{}, p.crds...), p.objects...)
	applied, err := p.applier.Apply(ctx, all)
	if len(p.crds) > 0 && s.rel.Spec.KubeConfig != nil {
		// No informer watches a remote cluster's CRDs: forget what it served before.
		if inv, ok := s.caps.(interface{ Invalidate() }); ok {
			inv.Invalidate()
		}
	}
	if err != nil {
		return applied, s.applyError(err, capstanv1.ApplyFailedReason)
	}
	failpoint.Inject(failpoint.AfterApply)
	if ShuttingDown(ctx) {
		return applied, errShuttingDown
	}
	return applied, nil
}

// interrupt records a revision the manager's shutdown interrupted after its record was created:
// the record is marked failed as interrupted (as recovery would mark it, and counted the same
// way), through a fresh bounded context, so that no pending record outlives the process.
func (s *session) interrupt(ctx context.Context, p *plan) error {
	fresh, cancel := Fresh(ctx)
	defer cancel()
	storage.MarkInterrupted(p.record)
	if err := s.store.UpdateStatus(fresh, p.record); err != nil {
		crlog.FromContext(ctx).Info("could not record the interrupted revision; the next leader recovers it",
			"revision", p.record.Version, "error", err.Error())
	}
	if err := s.refresh(fresh, p.record.Version); err != nil {
		return err
	}
	return errShuttingDown
}

// runHooks runs the record's hooks of one event, unless hooks are off.
func (s *session) runHooks(ctx context.Context, p *plan, event string) error {
	if p.noHooks || s.r.NewHookRunner == nil || len(p.record.Hooks) == 0 {
		return nil
	}
	runner := s.r.NewHookRunner(s.target, s.owner)
	if err := runner.Run(ctx, event, p.record.Hooks, s.rel.GetTimeout()); err != nil {
		return fmt.Errorf("%s hooks failed: %w", event, err)
	}
	return nil
}

// succeed prunes what the previous revision had and this one does not, records the revision as
// deployed, supersedes the older one, prunes history and updates status.
func (s *session) succeed(ctx context.Context, p *plan) error {
	current := p.objectRefs()
	previous, err := s.previousRefs(ctx)
	if err != nil {
		return err
	}
	failed, pruneErr := s.prune(ctx, p.applier, previous, current)
	rec := p.record
	rec.Info.Status, rec.Info.Description = storage.StatusDeployed, successDescription(p)
	if err := s.store.UpdateStatus(ctx, rec); err != nil {
		return s.storageError(err, "recording revision as deployed")
	}
	// The revision is deployed from here on: status says so even if what follows fails.
	s.rel.Status.Inventory = inventoryOf(current, failed)
	s.markSucceeded(p)
	failpoint.Inject(failpoint.BetweenDeployedAndSuperseded)
	if err := s.afterDeploy(ctx, rec); err != nil {
		return err
	}
	return pruneErr
}

// pruneHistory prunes the records to maxHistory after a record was created, as Helm does, so that
// a crash loop cannot grow them without bound; the newest deployed revision and the newest one
// are never removed. It prunes from the records this reconcile listed and the one it just
// created, without listing them again: a record another writer added meanwhile is only missed,
// and left for the next prune. A failure is logged: the next creation or success prunes again.
func (s *session) pruneHistory(ctx context.Context, created *storage.Release) {
	deleted, err := s.store.PruneFrom(ctx, s.rel.GetStorageNamespace(), s.rel.GetReleaseName(), s.knownRecords(created), s.rel.GetMaxHistory())
	s.pruned = append(s.pruned, deleted...)
	if err != nil {
		crlog.FromContext(ctx).Info("could not prune the history", "error", err.Error())
	}
}

// afterDeploy supersedes older deployed revisions, prunes history to maxHistory and updates the
// status history, from the records this reconcile listed and wrote, without listing them again
// (see knownRecords).
func (s *session) afterDeploy(ctx context.Context, rec *storage.Release) error {
	rels, err := s.store.SupersedeAndPruneFrom(ctx, s.rel.GetStorageNamespace(), s.rel.GetReleaseName(),
		s.knownRecords(rec), rec.Version, s.rel.GetMaxHistory())
	if err != nil {
		return s.storageError(err, "concluding the revision")
	}
	s.records, s.pruned = rels, nil
	s.finishSnapshot(rec.Version)
	syncStatusFromRecords(s.rel, s.records)
	return nil
}

// knownRecords are the release's records as this reconcile knows them after writing rec: those
// it listed, but the ones it pruned since, and rec, sorted by version. While its revision is
// pending, helm refuses to touch the release and Capstan runs one operation per release, so
// nobody else writes them; a record another writer added anyway is left for the next reconcile,
// and one it changed fails the rewrite with a conflict (storage.SupersedeAndPruneFrom).
func (s *session) knownRecords(rec *storage.Release) []*storage.Release {
	known := make([]*storage.Release, 0, len(s.records)+1)
	for _, r := range s.records {
		if r.Version != rec.Version && !slices.Contains(s.pruned, r.Version) {
			known = append(known, r)
		}
	}
	known = append(known, rec)
	slices.SortStableFunc(known, func(a, b *storage.Release) int { return a.Version - b.Version })
	return known
}

// successDescription is the record description of a deployed revision.
func successDescription(p *plan) string {
	switch p.action {
	case capstanv1.ActionInstall:
		return descInstalled
	case capstanv1.ActionUpgrade:
		return descUpgraded
	default:
		return fmt.Sprintf("%s%d", descRollbackTo, p.record.Info.RollbackRevision)
	}
}

// markSucceeded records a successful action in status, conditions and events.
func (s *session) markSucceeded(p *plan) {
	s.driftChecked = true
	s.reportDrift(nil)
	removeCondition(s.rel, capstanv1.TestSuccessCondition) // It described the revision before this one.
	st := &s.rel.Status
	chartVersion := chartVersionOf(p.record)
	msg := fmt.Sprintf("%s revision %d of %s %s", pastTense(p.action), p.record.Version, chartNameOf(p.record), chartVersion)
	if p.remediation {
		setCondition(s.rel, capstanv1.RemediatedCondition, metav1.ConditionTrue, capstanv1.RollbackSucceededReason, msg)
		s.event(corev1EventNormal, capstanv1.RollbackSucceededReason, "Remediate", msg)
		return
	}
	st.Failures, st.InstallFailures, st.UpgradeFailures = 0, 0, 0
	st.LastAppliedRevision = chartVersion
	removeCondition(s.rel, capstanv1.RemediatedCondition)
	reason := successReason(p.action)
	setCondition(s.rel, capstanv1.ReleasedCondition, metav1.ConditionTrue, reason, msg)
	s.event(corev1EventNormal, reason, string(p.action), msg)
}

// fail records a failed action: the record becomes failed, the failure is counted and reported.
func (s *session) fail(ctx context.Context, p *plan, applied []apply.ObjectRef, cause error) error {
	ctx, cancel := Fresh(ctx) // The cause may be the reconcile's own context, cancelled at shutdown.
	defer cancel()
	rec := p.record
	rec.Info.Status = storage.StatusFailed
	// The record's description is mirrored into status.history by every later reconcile, whose
	// Redactor may no longer know this one's values: scrub it before it is stored.
	rec.Info.Description = oneLine(s.red.Redact(failureDescription(p) + cause.Error()))
	if err := s.store.UpdateStatus(ctx, rec); err != nil {
		crlog.FromContext(ctx).Info("could not record the revision as failed; the next reconcile recovers it",
			"revision", rec.Version, "error", err.Error())
	}
	remaining := s.cleanupOnFail(ctx, p, applied)
	if previous, err := s.previousRefs(ctx); err == nil {
		// Everything written ahead stays but what cleanupOnFail deleted: the objects of a failed
		// revision are pruned by the next successful action or in-sync reconcile.
		cleaned := apply.Stale(applied, remaining)
		s.rel.Status.Inventory = inventoryOf(apply.Stale(unionRefs(remaining, p.objectRefs(), previous), cleaned))
	}
	s.actionFailed = true
	reason := failureReason(p.action)
	msg := s.red.Redact(fmt.Sprintf("%s of revision %d failed: %s", p.action, rec.Version, cause.Error()))
	s.countFailure(p)
	if p.remediation {
		setCondition(s.rel, capstanv1.RemediatedCondition, metav1.ConditionFalse, capstanv1.RollbackFailedReason, msg)
	} else {
		setCondition(s.rel, capstanv1.ReleasedCondition, metav1.ConditionFalse, reason, msg)
	}
	s.event(corev1EventWarning, reason, string(p.action), msg)
	if err := s.refresh(ctx, rec.Version); err != nil {
		return err
	}
	if e := classify(cause); e.Class == ClassStalling {
		return stallErr(e.Reason, errors.New(msg))
	}
	return transientErr(reason, errors.New(msg))
}

// countFailure adds a failed install or upgrade to the counter remediation compares with its
// retries. Rollbacks are not retried, so they are not counted there.
func (s *session) countFailure(p *plan) {
	switch {
	case p.remediation:
	case p.action == capstanv1.ActionInstall:
		s.rel.Status.InstallFailures++
	case p.action == capstanv1.ActionUpgrade:
		s.rel.Status.UpgradeFailures++
	}
}

func failureDescription(p *plan) string {
	switch p.action {
	case capstanv1.ActionInstall:
		return descInstallFail
	case capstanv1.ActionUpgrade:
		return descUpgradeFail
	default:
		return fmt.Sprintf("%s%d failed: ", descRollbackTo, p.record.Info.RollbackRevision)
	}
}

// refresh re-reads the records after a write and mirrors them in status, with the finish time
// of the revision just written.
func (s *session) refresh(ctx context.Context, version int) error {
	if err := s.listRecords(ctx); err != nil {
		return err
	}
	s.finishSnapshot(version)
	syncStatusFromRecords(s.rel, s.records)
	return nil
}

// startSnapshot puts the pending revision into the status history with its start time.
func (s *session) startSnapshot(p *plan) {
	rec := p.record
	snap := capstanv1.Snapshot{Revision: rec.Version, Action: p.action, Status: capstanv1.RevisionStatus(rec.Info.Status),
		ChartName: chartNameOf(rec), ChartVersion: chartVersionOf(rec), AppVersion: appVersionOf(rec),
		ValuesDigest: valuesDigestOf(rec), ManifestDigest: manifestDigest(rec.Manifest),
		StartedAt: metav1.NewTime(s.r.now().UTC().Truncate(time.Second)), Message: rec.Info.Description}
	s.rel.Status.History = s.rel.Status.History.Upsert(snap).Truncate(historyLimit(s.rel))
}

// finishSnapshot stamps the finish time on a revision's snapshot.
func (s *session) finishSnapshot(version int) {
	for i := range s.rel.Status.History {
		if h := &s.rel.Status.History[i]; h.Revision == version && h.FinishedAt == nil {
			t := metav1.NewTime(s.r.now().UTC().Truncate(time.Second))
			h.FinishedAt = &t
		}
	}
}

// storageError classifies a failed record write after the apply.
func (s *session) storageError(err error, what string) error {
	if isConflict(err) {
		return waitErr("Conflict", s.r.conflictRequeue(), fmt.Errorf("%s: %w", what, err))
	}
	return apiErr(capstanv1.StorageFailedReason, fmt.Errorf("%s: %w", what, err))
}

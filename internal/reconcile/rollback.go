package reconcile

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	capstanv1 "github.com/capstan-dev/capstan/api/v1alpha1"
	"github.com/capstan-dev/capstan/internal/storage"
)

// manualRollback carries out a capstan.dev/rollback-to request: the target revision's stored
// manifest becomes a new revision, and the Release holds there until its generation changes.
func (s *session) manualRollback(ctx context.Context) error {
	target := findRecord(s.records, s.action.Revision)
	if target == nil || target.DecodeError() != nil {
		return stallf(capstanv1.RollbackFailedReason, "revision %d requested by %s cannot be rolled back to: %s",
			s.action.Revision, capstanv1.RollbackToAnnotation, knownRevisions(s.records))
	}
	s.recordAttempt(capstanv1.ActionRollback, chartVersionOf(target), valuesDigestOf(target))
	request := s.rel.GetAnnotations()[capstanv1.RollbackToAnnotation]
	if n := interruptedRollbacks(s.records, string(s.rel.UID)); n >= s.r.crashLoopLimit() {
		s.rel.Status.LastHandledRollbackTo = request
		return stallf(capstanv1.RollbackFailedReason, "the rollback to revision %d was interrupted %d time(s); giving up", target.Version, n)
	}
	return s.rollbackTo(ctx, target, request)
}

// knownRevisions lists the revisions that exist, for a clear error.
func knownRevisions(records []*storage.Release) string {
	if len(records) == 0 {
		return "the release has no revisions"
	}
	nums := make([]string, 0, len(records))
	for _, r := range records {
		if r.DecodeError() == nil {
			nums = append(nums, strconv.Itoa(r.Version))
		}
	}
	return "it does not exist; known revisions are " + strings.Join(nums, ", ")
}

// rollbackTo re-applies a stored revision as a new one. request is the annotation value a manual
// rollback handles, "" for a remediation.
func (s *session) rollbackTo(ctx context.Context, target *storage.Release, request string) error {
	revision := s.revisionNumber()
	markReconciling(s.rel, fmt.Sprintf("Rolling back to revision %d as revision %d", target.Version, revision))
	p, err := s.planRollback(ctx, target, revision)
	if err != nil {
		return err
	}
	p.remediation, p.rollbackRequest = request == "", request
	return s.execute(ctx, p)
}

// planRollback builds the rollback revision from the target's record (no re-rendering) and
// checks it against the cluster.
func (s *session) planRollback(ctx context.Context, target *storage.Release, revision int) (*plan, error) {
	objs, err := parseStoredManifest(target.Manifest, s.rel.GetTargetNamespace())
	if err != nil {
		return nil, stallErr(capstanv1.RollbackFailedReason, fmt.Errorf("the manifest of revision %d cannot be read: %w", target.Version, err))
	}
	now := s.r.now().UTC()
	chrt := target.Chart
	chrt.Templates, chrt.Files = nil, nil
	rec := &storage.Release{
		Name: s.rel.GetReleaseName(), Namespace: s.rel.GetStorageNamespace(), Version: revision,
		Info: storage.Info{FirstDeployed: s.firstDeployed(now), LastDeployed: now, Status: storage.StatusPendingRollback,
			Description: fmt.Sprintf("%s%d", descRollbackTo, target.Version), RollbackRevision: target.Version,
			Notes: target.Info.Notes},
		Chart: chrt, Config: target.Config, Manifest: target.Manifest, Hooks: freshHooks(target.Hooks),
		ApplyMethod: storage.ApplyMethodServerSide, Labels: s.recordLabels(target.Labels[ChartDigestLabel], target.Labels[PostRenderDigestLabel]),
	}
	p := &plan{action: capstanv1.ActionRollback, preEvent: "pre-rollback", postEvent: "post-rollback", objects: objs, record: rec}
	if rb := s.rel.Spec.Rollback; rb != nil {
		p.noWait, p.noHooks, p.force = rb.DisableWait, rb.DisableHooks, rb.Force
	}
	p.forceConflicts = s.forcingConflicts()
	p.applier = s.newApplier(false, p.force, p.forceConflicts)
	return p, s.preflight(ctx, p)
}

// freshHooks copies stored hooks without their last runs.
func freshHooks(hooks []*storage.Hook) []*storage.Hook {
	out := make([]*storage.Hook, 0, len(hooks))
	for _, h := range hooks {
		c := *h
		c.LastRun = storage.HookExecution{}
		out = append(out, &c)
	}
	return out
}

// remediate applies the remediation strategy once the retries of a failed action ran out, then
// stalls: nothing more happens until the spec or an input changes or the counters are reset.
func (s *session) remediate(ctx context.Context) error {
	exhausted := errors.New(s.exhaustedMessage())
	switch s.action.Strategy {
	case capstanv1.RemediationRollback:
		target := findRecord(s.records, s.action.Revision)
		if target == nil {
			return stallErr(capstanv1.RetriesExhaustedReason, exhausted)
		}
		if n := interruptedRollbacks(s.records, string(s.rel.UID)); n >= s.r.crashLoopLimit() {
			msg := fmt.Sprintf("the rollback to revision %d was interrupted %d time(s); giving up", target.Version, n)
			setCondition(s.rel, capstanv1.RemediatedCondition, metav1.ConditionFalse, capstanv1.RollbackFailedReason, msg)
			s.event(corev1EventWarning, capstanv1.RollbackFailedReason, "Remediate", msg)
			return stallErr(capstanv1.RetriesExhaustedReason, exhausted)
		}
		if err := s.rollbackTo(ctx, target, ""); err != nil {
			return err
		}
	case capstanv1.RemediationUninstall:
		if err := s.uninstall(ctx); err != nil {
			setCondition(s.rel, capstanv1.RemediatedCondition, metav1.ConditionFalse, capstanv1.UninstallFailedReason, err.Error())
			return err
		}
		msg := "uninstalled the release after the failed " + failedAction(s.rel)
		setCondition(s.rel, capstanv1.RemediatedCondition, metav1.ConditionTrue, capstanv1.UninstallSucceededReason, msg)
		s.event(corev1EventNormal, capstanv1.UninstallSucceededReason, "Remediate", msg)
	}
	return stallErr(capstanv1.RetriesExhaustedReason, exhausted)
}

// failedAction names the action whose failures are being remediated.
func failedAction(rel *capstanv1.Release) string {
	if rel.Status.InstallFailures > 0 {
		return "install"
	}
	return "upgrade"
}

// exhaustedMessage is the stall message once retries ran out; Decide uses the same words, so the
// condition does not change between the remediating reconcile and the ones after it.
func (s *session) exhaustedMessage() string {
	f := s.facts()
	f.Remediated = true
	return decideStall(f).Message
}

package reconcile

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strconv"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	crlog "sigs.k8s.io/controller-runtime/pkg/log"

	capstanv1 "github.com/capstan-dev/capstan/api/v1alpha1"
	"github.com/capstan-dev/capstan/internal/storage"
	"github.com/capstan-dev/capstan/internal/values"
)

// Labels that mark the records this controller writes, besides ReleaseUIDLabel.
const (
	// AttemptLabel carries the id of the attempt (one execution of a revision by one process)
	// that created the record. A pending record whose attempt is not running in this process was
	// left by an interrupted attempt.
	AttemptLabel = capstanv1.Group + "/attempt"
	// GenerationLabel carries the Release's metadata.generation the record was written for, so
	// that interrupted attempts of the same desired state can be counted from the records alone.
	GenerationLabel = capstanv1.Group + "/generation"
	// RevisionLabel carries the number of the revision Capstan wrote the record for. helm copies
	// a release's custom labels from its newest record into the next record it writes, Capstan's
	// labels included; on a record helm wrote after one of Capstan's, this label names an older
	// revision, which tells the two writers apart where ReleaseUIDLabel cannot.
	RevisionLabel = capstanv1.Group + "/revision"
)

// Defaults of the recovery settings.
const (
	// DefaultForeignPendingTimeout is how long a pending revision written by another tool (helm)
	// is waited on before it is taken for stale and marked failed.
	DefaultForeignPendingTimeout = 15 * time.Minute
	// DefaultCrashLoopLimit is how many interrupted attempts of the same desired state count as
	// one failed attempt.
	DefaultCrashLoopLimit = 3
)

// foreignPendingRequeue bounds the wait between two looks at another tool's pending revision.
const foreignPendingRequeue = 30 * time.Second

func (r *Reconciler) foreignPendingTimeout() time.Duration {
	if r.Options.ForeignPendingTimeout > 0 {
		return r.Options.ForeignPendingTimeout
	}
	return DefaultForeignPendingTimeout
}

func (r *Reconciler) crashLoopLimit() int {
	if r.Options.CrashLoopLimit > 0 {
		return r.Options.CrashLoopLimit
	}
	return DefaultCrashLoopLimit
}

// beginAttempt registers a new attempt as running in this process and returns its id.
func (r *Reconciler) beginAttempt() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	id := hex.EncodeToString(b[:])
	r.attempts.Store(id, true)
	return id
}

// endAttempt forgets a finished attempt.
func (r *Reconciler) endAttempt(id string) { r.attempts.Delete(id) }

// running reports whether an attempt runs in this process now.
func (r *Reconciler) running(id string) bool {
	_, ok := r.attempts.Load(id)
	return id != "" && ok
}

// writtenByCapstan reports whether Capstan wrote a record: it carries ReleaseUIDLabel, and
// RevisionLabel names the record's own revision. A record whose RevisionLabel names another
// revision was written by helm, which copied the labels of the record before it. Records written
// before RevisionLabel existed carry none and count as Capstan's when they carry ReleaseUIDLabel.
func writtenByCapstan(rec *storage.Release) bool {
	if rec.Labels[ReleaseUIDLabel] == "" {
		return false
	}
	rev, ok := rec.Labels[RevisionLabel]
	return !ok || rev == strconv.Itoa(rec.Version)
}

// writtenBy reports whether the Release with UID uid wrote a record.
func writtenBy(rec *storage.Release, uid string) bool {
	return uid != "" && rec.Labels[ReleaseUIDLabel] == uid && writtenByCapstan(rec)
}

// recoverPending marks revisions left pending by an interrupted operation as failed, and repairs
// two deployed revisions left by a crash between marking one deployed and superseding the other.
// Only the Release that holds the release name (checked before) gets here, and the manager is
// leader-elected, so a pending record written by Capstan whose attempt is not running in this
// process was interrupted: it is recovered at once. A pending record written by another tool
// (helm) may belong to an operation still running: it is waited on, and marked failed only once
// it is older than the foreign-pending timeout. With ownOnly, foreign records are left alone.
func (s *session) recoverPending(ctx context.Context) error {
	return s.recoverRecords(ctx, false)
}

func (s *session) recoverRecords(ctx context.Context, ownOnly bool) error {
	changed := false
	for _, rec := range s.records {
		if !rec.Info.Status.IsPending() {
			continue
		}
		if ownOnly && !writtenByCapstan(rec) {
			continue
		}
		done, err := s.recoverRecord(ctx, rec)
		if err != nil {
			return err
		}
		changed = changed || done
	}
	if changed {
		if err := s.listRecords(ctx); err != nil {
			return err
		}
	}
	return s.repairDeployed(ctx)
}

// recoverRecord marks one pending record failed if it was interrupted; it returns whether it did.
func (s *session) recoverRecord(ctx context.Context, rec *storage.Release) (bool, error) {
	was := rec.Info.Status
	if writtenByCapstan(rec) {
		if s.r.running(rec.Labels[AttemptLabel]) {
			return false, waitErr("Conflict", s.r.conflictRequeue(),
				fmt.Errorf("revision %d of release %s is being written by a running attempt", rec.Version, rec.Name))
		}
		if err := s.markInterrupted(ctx, rec); err != nil {
			return false, err
		}
		s.event(corev1EventWarning, capstanv1.PendingRecoveredReason, "Recover",
			fmt.Sprintf("revision %d was left %s by an interrupted reconcile and is now marked failed", rec.Version, was))
		return true, nil
	}
	timeout := s.r.foreignPendingTimeout()
	age := s.r.now().Sub(pendingSince(rec))
	if age < timeout {
		return false, waitErr(capstanv1.OperationInProgressReason, min(timeout-age, foreignPendingRequeue),
			fmt.Errorf("revision %d of release %s is %s, written by another tool; waiting until it finishes or is older than %s",
				rec.Version, rec.Name, was, timeout))
	}
	if err := s.markInterrupted(ctx, rec); err != nil {
		return false, err
	}
	s.event(corev1EventWarning, capstanv1.PendingRecoveredReason, "Recover",
		fmt.Sprintf("revision %d was left %s by another tool for more than %s and is now marked failed", rec.Version, was, timeout))
	return true, nil
}

func (s *session) markInterrupted(ctx context.Context, rec *storage.Release) error {
	storage.MarkInterrupted(rec)
	err := s.store.UpdateStatus(ctx, rec)
	if isConflict(err) {
		return waitErr("Conflict", s.r.conflictRequeue(), err)
	}
	if err != nil {
		return apiErr(capstanv1.StorageFailedReason, fmt.Errorf("recovering pending revision %d: %w", rec.Version, err))
	}
	crlog.FromContext(ctx).Info("recovered a revision left pending", "revision", rec.Version)
	return nil
}

// pendingSince is when a pending revision was written: its last deploy time, which every writer
// sets when it creates the record.
func pendingSince(rec *storage.Release) time.Time {
	if !rec.Info.LastDeployed.IsZero() {
		return rec.Info.LastDeployed
	}
	return rec.Info.FirstDeployed
}

// repairDeployed supersedes every deployed revision but the newest: a crash between marking a
// revision deployed and superseding the one before leaves two.
func (s *session) repairDeployed(ctx context.Context) error {
	deployed := 0
	for _, rec := range s.records {
		if rec.Info.Status == storage.StatusDeployed {
			deployed++
		}
	}
	if deployed < 2 {
		return nil
	}
	newest := deployedRecord(s.records)
	if _, err := s.store.Supersede(ctx, s.rel.GetStorageNamespace(), s.rel.GetReleaseName(), newest.Version); err != nil {
		return s.storageError(err, "superseding older deployed revisions")
	}
	crlog.FromContext(ctx).Info("repaired more than one deployed revision", "deployed", newest.Version)
	return s.listRecords(ctx)
}

// interrupted counts the records after the deployed one that this Release wrote for desired and
// that were recovered from an interrupted install or upgrade.
func interrupted(records []*storage.Release, uid string, d Desired) int {
	n := 0
	for _, rec := range recordsAfterDeployed(records) {
		was, ok := storage.InterruptedFrom(rec)
		if !ok || was == storage.StatusPendingRollback || !writtenBy(rec, uid) {
			continue
		}
		if rec.Labels[GenerationLabel] == strconv.FormatInt(d.Generation, 10) &&
			chartVersionOf(rec) == d.ChartVersion && values.Digest(rec.Config) == d.ValuesDigest {
			n++
		}
	}
	return n
}

// interruptedRollbacks counts the records after the deployed one that this Release wrote as
// rollbacks and that were recovered from an interrupted attempt.
func interruptedRollbacks(records []*storage.Release, uid string) int {
	n := 0
	for _, rec := range recordsAfterDeployed(records) {
		if was, ok := storage.InterruptedFrom(rec); ok && was == storage.StatusPendingRollback && rec.Labels[ReleaseUIDLabel] == uid {
			n++
		}
	}
	return n
}

// countCrashes turns a crash loop into failed attempts: every crashLoopLimit interrupted attempts
// of the current desired state count as one failed install or upgrade, so that the retries and
// the remediation apply and the loop ends. It is computed from the records alone, since a
// process that crashes may never write its status.
func (s *session) countCrashes(context.Context) error {
	n := interrupted(s.records, string(s.rel.UID), s.desired)
	failures := int64(n / s.r.crashLoopLimit())
	if failures == 0 {
		return nil
	}
	act := capstanv1.ActionUpgrade
	if deployedRecord(s.records) == nil {
		act = capstanv1.ActionInstall
	}
	s.recordAttempt(act, s.desired.ChartVersion, s.desired.ValuesDigest)
	counter := &s.rel.Status.UpgradeFailures
	if act == capstanv1.ActionInstall {
		counter = &s.rel.Status.InstallFailures
	}
	if *counter >= failures {
		return nil
	}
	*counter = failures
	reason := failureReason(act)
	msg := fmt.Sprintf("%s of the same desired state was interrupted %d time(s); counted as %d failed attempt(s)",
		act, n, failures)
	setCondition(s.rel, capstanv1.ReleasedCondition, metav1.ConditionFalse, reason, msg)
	s.event(corev1EventWarning, reason, string(act), msg)
	return nil
}

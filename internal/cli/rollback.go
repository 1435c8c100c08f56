package cli

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	capstanv1 "github.com/capstan-dev/capstan/api/v1alpha1"
	"github.com/capstan-dev/capstan/internal/storage"
)

// ParseRevision reads a REVISION argument: a decimal number, 0 meaning "choose for me".
func ParseRevision(s string) (int, error) {
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("%w: revision %q: want a revision number such as 3", ErrInvalidArgument, s)
	}
	return n, nil
}

// DefaultRollbackTarget picks the revision a rollback without REVISION goes back to. When the
// newest revision is not the one in effect (an upgrade failed), it is status.rollbackTarget, the
// last good revision the controller recorded. Otherwise it is the newest revision before the
// deployed one that was itself deployed once (superseded), which is what `helm rollback` without
// a revision means in the usual case.
func DefaultRollbackTarget(rel *capstanv1.Release, records []*storage.Release) (int, error) {
	if len(records) == 0 {
		return 0, fmt.Errorf("%w: the release has no revisions to roll back to", ErrNoRevision)
	}
	last := records[len(records)-1]
	if t := rel.Status.RollbackTarget; t > 0 && t != last.Version && wasDeployed(findRecord(records, t)) {
		return t, nil
	}
	current := last.Version
	if dep := newest(records, func(r *storage.Release) bool { return r.Info.Status == storage.StatusDeployed }); dep != nil {
		current = dep.Version
	}
	prev := newest(records, func(r *storage.Release) bool { return r.Version < current && wasDeployed(r) })
	if prev == nil {
		return 0, fmt.Errorf("%w: no revision before %d was ever deployed; name the REVISION to roll back to (revisions: %s)",
			ErrNoRevision, current, revisionList(records))
	}
	return prev.Version, nil
}

// CheckRollbackTarget returns an error when revision n cannot be rolled back to: it does not
// exist or its record cannot be read. The controller would stall on such a request.
func CheckRollbackTarget(records []*storage.Release, n int) error {
	r := findRecord(records, n)
	switch {
	case r == nil:
		return fmt.Errorf("%w: the release has no revision %d (revisions: %s)", ErrNoRevision, n, revisionList(records))
	case r.DecodeError() != nil:
		return fmt.Errorf("%w: revision %d cannot be rolled back to: %w", ErrNoRevision, n, r.DecodeError())
	}
	return nil
}

// RollbackRequestValue returns the capstan.dev/rollback-to value that asks for a rollback to
// revision n: the number itself, or the number with a leading zero when the controller already
// handled exactly that value, since it acts only on a value that differs from
// status.lastHandledRollbackTo. Both spellings are the same decimal number.
func RollbackRequestValue(rel *capstanv1.Release, n int) string {
	v := strconv.Itoa(n)
	if v == rel.Status.LastHandledRollbackTo {
		return "0" + v
	}
	return v
}

// RollbackCheck returns the Check that waits for the outcome of the rollback requested with
// value. before is the Release as it was before the request. The rollback succeeded when Ready
// is True; when Ready is False the error carries the Released condition's failure message, or
// Ready's.
func RollbackCheck(before *capstanv1.Release, value string) Check {
	req := request{annotation: capstanv1.RollbackToAnnotation, value: value, result: capstanv1.ReadyCondition,
		handled: func(s *capstanv1.ReleaseStatus) string { return s.LastHandledRollbackTo }, stalledBefore: stalled(before)}
	return func(rel *capstanv1.Release) (bool, error) {
		done, ready, err := req.check(rel)
		if !done || err != nil {
			return done, err
		}
		if ready.Status == metav1.ConditionTrue {
			return true, nil
		}
		msg := ready.Message
		if rc := meta.FindStatusCondition(rel.Status.Conditions, capstanv1.ReleasedCondition); rc != nil && rc.Status == metav1.ConditionFalse {
			msg = rc.Message
		}
		return true, fmt.Errorf("rollback %w (%s): %s", ErrFailed, ready.Reason, msg)
	}
}

// findRecord returns revision n, or nil.
func findRecord(records []*storage.Release, n int) *storage.Release {
	i := slices.IndexFunc(records, func(r *storage.Release) bool { return r.Version == n })
	if i < 0 {
		return nil
	}
	return records[i]
}

// newest returns the record with the highest revision among those that match, or nil.
func newest(records []*storage.Release, match func(*storage.Release) bool) *storage.Release {
	var best *storage.Release
	for _, r := range records {
		if match(r) && (best == nil || r.Version > best.Version) {
			best = r
		}
	}
	return best
}

// wasDeployed reports whether a record is readable and was in effect at some point.
func wasDeployed(r *storage.Release) bool {
	return r != nil && r.DecodeError() == nil &&
		(r.Info.Status == storage.StatusDeployed || r.Info.Status == storage.StatusSuperseded)
}

// revisionList lists the revision numbers, for error messages.
func revisionList(records []*storage.Release) string {
	nums := make([]string, 0, len(records))
	for _, r := range records {
		nums = append(nums, strconv.Itoa(r.Version))
	}
	if len(nums) == 0 {
		return "none"
	}
	return strings.Join(nums, ", ")
}

package storage

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
)

// UpdateStatus writes a revision's new status. It takes from rel only what a status change
// carries (Info: status, description, timestamps, notes; and each hook's LastRun), keeps the
// stored chart, values and manifest, and refuses any move Helm's lifecycle never makes
// (ErrIllegalTransition). The write is conditional on the Secret's resourceVersion: if rel was
// read from the store and the record changed since, or it changes during the call, the error
// wraps ErrConflict.
func (s *Store) UpdateStatus(ctx context.Context, rel *Release) error {
	return s.rewrite(ctx, rel, func(stored *Release) error {
		if err := CheckTransition(stored.Info.Status, rel.Info.Status); err != nil {
			return fmt.Errorf("release %s/%s version %d: %w", rel.Namespace, rel.Name, rel.Version, err)
		}
		stored.Info = rel.Info
		copyHookRuns(stored.Hooks, rel.Hooks)
		return nil
	})
}

// UpdateHooks writes only the last run of each of a revision's hooks, taken from rel's hooks
// (matched by position, name and kind); status, description, timestamps, chart, values and
// manifest stay as stored. It records a run that happened without a status change, such as the
// test hooks of a deployed revision, which UpdateStatus refuses as deployed to deployed. Like
// UpdateStatus it is conditional on the Secret's resourceVersion and wraps ErrConflict.
func (s *Store) UpdateHooks(ctx context.Context, rel *Release) error {
	return s.rewrite(ctx, rel, func(stored *Release) error {
		copyHookRuns(stored.Hooks, rel.Hooks)
		return nil
	})
}

// rewrite reads rel's Secret, lets change modify the decoded record, and writes it back
// conditionally on the resourceVersion read (and on rel's, when rel was read from the store).
func (s *Store) rewrite(ctx context.Context, rel *Release, change func(stored *Release) error) error {
	if rel == nil {
		return fmt.Errorf("%w: nil release", ErrInvalid)
	}
	secret, err := s.secretToRewrite(ctx, rel)
	if err != nil {
		return err
	}
	if rel.resourceVersion != "" && rel.resourceVersion != secret.ResourceVersion {
		return fmt.Errorf("%w: release %s/%s version %d changed since it was read",
			ErrConflict, rel.Namespace, rel.Name, rel.Version)
	}
	stored, err := FromSecret(secret, s.maxDecoded)
	if err != nil {
		return err
	}
	if err := change(stored); err != nil {
		return err
	}
	enc, err := Encode(stored)
	if err != nil {
		return err
	}
	if err := checkEncodedSize(stored.Name, len(enc)); err != nil {
		return err
	}
	secret.Data[DataKey] = []byte(enc)
	if secret.Labels == nil {
		secret.Labels = map[string]string{}
	}
	setSystemLabels(secret.Labels, stored)
	secret.Labels[LabelModifiedAt] = strconv.FormatInt(s.now().Unix(), 10)
	if err := s.writer.Update(ctx, secret); err != nil {
		if apierrors.IsNotFound(err) {
			return fmt.Errorf("%w: release %s/%s version %d", ErrNotFound, rel.Namespace, rel.Name, rel.Version)
		}
		return fmt.Errorf("update release %s/%s version %d: %w", rel.Namespace, rel.Name, rel.Version, mapWriteError(err))
	}
	rel.resourceVersion = secret.ResourceVersion
	rel.keepWritten(secret)
	return nil
}

// copyHookRuns copies the LastRun of each hook in from to the hook of the same position and name.
func copyHookRuns(to, from []*Hook) {
	for i, h := range to {
		if i < len(from) && from[i] != nil && h != nil && from[i].Name == h.Name && from[i].Kind == h.Kind {
			h.LastRun = from[i].LastRun
		}
	}
}

// Supersede marks every deployed revision older than version as superseded, and returns their
// versions. Call it after the revision `version` became deployed (upgrade, rollback) or
// uninstalled with history kept: Helm keeps at most one deployed revision, the newest. A failed
// revision stays failed.
func (s *Store) Supersede(ctx context.Context, ns, name string, version int) ([]int, error) {
	rels, err := s.List(ctx, ns, name)
	if err != nil {
		return nil, err
	}
	return s.supersede(ctx, rels, version)
}

// supersede does Supersede's work on rels, the release's revisions as just listed; it marks the
// superseded ones in rels too.
func (s *Store) supersede(ctx context.Context, rels []*Release, version int) ([]int, error) {
	var done []int
	for _, rel := range rels {
		if rel.Version >= version || rel.Info.Status != StatusDeployed {
			continue
		}
		rel.Info.Status = StatusSuperseded
		if err := s.UpdateStatus(ctx, rel); err != nil {
			rel.Info.Status = StatusDeployed
			return done, err
		}
		done = append(done, rel.Version)
	}
	return done, nil
}

// SupersedeAndPruneFrom does what Supersede and then Prune do after the revision `version` became
// deployed, on rels, the release's revisions sorted by version, as the caller knows them (see
// PruneFrom), without listing them. The records may be
// summaries (Release.Summary): a status rewrite reads what it keeps from the stored Secret, and
// is conditional on the resourceVersion the caller saw, so a revision another writer changed
// since fails with ErrConflict rather than being overwritten. It marks the superseded revisions
// in rels, and returns those that remain, with their statuses as written, sorted by version.
func (s *Store) SupersedeAndPruneFrom(ctx context.Context, ns, name string, rels []*Release, version, maxHistory int) ([]*Release, error) {
	if _, err := s.supersede(ctx, rels, version); err != nil {
		return nil, fmt.Errorf("superseding older revisions: %w", err)
	}
	deleted, err := s.PruneFrom(ctx, ns, name, rels, maxHistory)
	if err != nil {
		return nil, fmt.Errorf("pruning history: %w", err)
	}
	return slices.DeleteFunc(rels, func(r *Release) bool { return slices.Contains(deleted, r.Version) }), nil
}

// RecoverPending marks every revision left pending-install, pending-upgrade or pending-rollback
// as failed, with a description that says so, and returns them. A pending revision means the
// operation that wrote it was interrupted (Capstan runs one operation per release at a time, so
// call this only when none of its own is in flight).
func (s *Store) RecoverPending(ctx context.Context, ns, name string) ([]*Release, error) {
	rels, err := s.List(ctx, ns, name)
	if err != nil {
		return nil, err
	}
	var done []*Release
	for _, rel := range rels {
		if !rel.Info.Status.IsPending() {
			continue
		}
		MarkInterrupted(rel)
		if err := s.UpdateStatus(ctx, rel); err != nil {
			return done, err
		}
		done = append(done, rel)
	}
	return done, nil
}

// Prune deletes the oldest revisions until at most maxHistory remain, and returns the versions it
// deleted. It never deletes the last deployed revision, the newest revision (whose number the
// next revision continues from) or a corrupt record (left for a human). maxHistory <= 0 means
// unlimited, as in Helm.
func (s *Store) Prune(ctx context.Context, ns, name string, maxHistory int) ([]int, error) {
	if maxHistory <= 0 {
		return nil, nil
	}
	rels, err := s.List(ctx, ns, name)
	if err != nil {
		return nil, err
	}
	return s.PruneFrom(ctx, ns, name, rels, maxHistory)
}

// PruneFrom does Prune's work on rels, the release's revisions sorted by version, as the caller
// listed them and knows them to be since (a revision it created since is included): it saves
// the list when the caller has one. A revision another writer deleted meanwhile counts as
// deleted.
func (s *Store) PruneFrom(ctx context.Context, ns, name string, rels []*Release, maxHistory int) ([]int, error) {
	if maxHistory <= 0 {
		return nil, nil
	}
	var deleted []int
	for _, rel := range pruneCandidates(rels, maxHistory) {
		if err := s.Delete(ctx, ns, name, rel.Version); err != nil {
			return deleted, err
		}
		deleted = append(deleted, rel.Version)
	}
	return deleted, nil
}

// pruneCandidates picks, oldest first, the revisions to delete so that at most maxHistory remain.
// rels is sorted by version.
func pruneCandidates(rels []*Release, maxHistory int) []*Release {
	if len(rels) <= maxHistory {
		return nil
	}
	keep := lastDeployed(rels)
	newest := rels[len(rels)-1]
	var out []*Release
	for _, rel := range rels {
		if len(rels)-len(out) <= maxHistory {
			break
		}
		if rel == keep || rel == newest || rel.decodeErr != nil {
			continue
		}
		out = append(out, rel)
	}
	return out
}

// interruptedSuffix ends the description of a revision marked failed because the operation that
// wrote it was interrupted.
const interruptedSuffix = " by an interrupted operation; marked failed"

// MarkInterrupted changes a pending revision in memory to failed, with a description that says
// which pending status the interrupted operation left it in (InterruptedFrom reads it back).
func MarkInterrupted(rel *Release) {
	was := rel.Info.Status
	rel.Info.Status = StatusFailed
	rel.Info.Description = fmt.Sprintf("Release %q was left %s%s", rel.Name, was, interruptedSuffix)
}

// InterruptedFrom reports whether a failed revision was marked failed by MarkInterrupted, and the
// pending status it was left in.
func InterruptedFrom(rel *Release) (Status, bool) {
	desc := rel.Info.Description
	if rel.Info.Status != StatusFailed || !strings.HasSuffix(desc, interruptedSuffix) {
		return "", false
	}
	_, after, ok := strings.Cut(strings.TrimSuffix(desc, interruptedSuffix), " was left ")
	if !ok || !Status(after).IsPending() {
		return "", false
	}
	return Status(after), true
}

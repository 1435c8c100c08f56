package storage

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// Store reads and writes a release's revision records as Secrets in the release's namespace.
// Writes go through the client given to NewStore; reads go through the reader given with
// WithReader (use the manager's uncached API reader, so the controller never caches Secrets
// cluster-wide), or the same client if none is given.
type Store struct {
	writer     client.Client
	reader     client.Reader
	maxDecoded int64
	now        func() time.Time
}

// Option configures a Store.
type Option func(*Store)

// WithReader makes the store read through r (for example mgr.GetAPIReader()).
func WithReader(r client.Reader) Option { return func(s *Store) { s.reader = r } }

// WithMaxDecodedSize bounds the decoded JSON of every record the store reads.
func WithMaxDecodedSize(n int64) Option { return func(s *Store) { s.maxDecoded = n } }

// WithClock sets the clock used for the createdAt and modifiedAt labels.
func WithClock(now func() time.Time) Option { return func(s *Store) { s.now = now } }

// NewStore returns a store that writes through c.
func NewStore(c client.Client, opts ...Option) *Store {
	s := &Store{writer: c, reader: c, maxDecoded: DefaultMaxDecodedSize, now: time.Now}
	for _, o := range opts {
		o(s)
	}
	return s
}

// List returns every revision of the release, sorted by version. A Secret whose record cannot be
// decoded is returned as a placeholder with status unknown and a DecodeError, so revision numbers
// stay monotonic and nothing corrupt is silently dropped.
func (s *Store) List(ctx context.Context, ns, name string) ([]*Release, error) {
	secrets, err := s.listSecrets(ctx, ns, name)
	if err != nil {
		return nil, err
	}
	rels := make([]*Release, 0, len(secrets))
	for i := range secrets {
		rel, err := FromSecret(&secrets[i], s.maxDecoded)
		if err != nil && !errors.Is(err, ErrCorrupt) {
			continue
		}
		if rel.Name != name {
			continue
		}
		if err == nil {
			// Kept as written, so that a status change of a listed record needs no read.
			secret := secrets[i]
			rel.keepWritten(&secret)
		}
		rels = append(rels, rel)
	}
	slices.SortFunc(rels, func(a, b *Release) int { return a.Version - b.Version })
	return rels, nil
}

func (s *Store) listSecrets(ctx context.Context, ns, name string) ([]corev1.Secret, error) {
	if err := ValidateName(name); err != nil {
		return nil, err
	}
	if err := validateNamespace(ns); err != nil {
		return nil, err
	}
	var list corev1.SecretList
	err := s.reader.List(ctx, &list, client.InNamespace(ns),
		client.MatchingLabels{LabelOwner: Owner, LabelName: name})
	if err != nil {
		return nil, fmt.Errorf("list release %s/%s records: %w", ns, name, err)
	}
	return list.Items, nil
}

// Get returns one revision. It wraps ErrNotFound when the revision does not exist and ErrCorrupt
// (returning the placeholder too) when its record cannot be decoded.
func (s *Store) Get(ctx context.Context, ns, name string, version int) (*Release, error) {
	secret, err := s.getSecret(ctx, ns, name, version)
	if err != nil {
		return nil, err
	}
	return FromSecret(secret, s.maxDecoded)
}

func (s *Store) getSecret(ctx context.Context, ns, name string, version int) (*corev1.Secret, error) {
	if err := ValidateName(name); err != nil {
		return nil, err
	}
	if err := validateNamespace(ns); err != nil {
		return nil, err
	}
	var secret corev1.Secret
	key := types.NamespacedName{Namespace: ns, Name: SecretName(name, version)}
	if err := s.reader.Get(ctx, key, &secret); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, fmt.Errorf("%w: release %s/%s version %d", ErrNotFound, ns, name, version)
		}
		return nil, fmt.Errorf("get release %s/%s version %d: %w", ns, name, version, err)
	}
	return &secret, nil
}

// Last returns the revision with the highest version, whatever its status (a corrupt one
// included, as a placeholder). The next revision is Last().Version+1. It wraps ErrNotFound when
// the release has no revision.
func (s *Store) Last(ctx context.Context, ns, name string) (*Release, error) {
	rels, err := s.List(ctx, ns, name)
	if err != nil {
		return nil, err
	}
	if len(rels) == 0 {
		return nil, fmt.Errorf("%w: release %s/%s has no revision", ErrNotFound, ns, name)
	}
	return rels[len(rels)-1], nil
}

// Deployed returns the deployed revision with the highest version. It wraps ErrNotFound when no
// revision is deployed.
func (s *Store) Deployed(ctx context.Context, ns, name string) (*Release, error) {
	rels, err := s.List(ctx, ns, name)
	if err != nil {
		return nil, err
	}
	if rel := lastDeployed(rels); rel != nil {
		return rel, nil
	}
	return nil, fmt.Errorf("%w: release %s/%s has no deployed revision", ErrNotFound, ns, name)
}

func lastDeployed(rels []*Release) *Release {
	for i := len(rels) - 1; i >= 0; i-- {
		if rels[i].Info.Status == StatusDeployed {
			return rels[i]
		}
	}
	return nil
}

// Create stores a new revision. It never overwrites: when the revision already exists it returns
// an error wrapping ErrConflict, meaning another writer got there first (requeue and re-read). A
// record too large for a Secret wraps ErrTooLarge and nothing is written.
func (s *Store) Create(ctx context.Context, rel *Release) error {
	secret, err := NewSecret(rel, s.now())
	if err != nil {
		return err
	}
	if err := s.writer.Create(ctx, secret); err != nil {
		return fmt.Errorf("create release %s/%s version %d: %w", rel.Namespace, rel.Name, rel.Version, mapWriteError(err))
	}
	rel.resourceVersion = secret.ResourceVersion
	rel.keepWritten(secret)
	return nil
}

// maxKeptRecord bounds the data of a Secret a record keeps as written (see Release.written): a
// small chart's record is a few KiB; a parked wait holds its record, and 256 waits may be parked.
const maxKeptRecord = 32 << 10

// keepWritten keeps secret, as the API server answered its write, for the record's next rewrite;
// a large one is not kept (the rewrite reads it).
func (r *Release) keepWritten(secret *corev1.Secret) {
	if len(secret.Data[DataKey]) > maxKeptRecord {
		r.written = nil
		return
	}
	secret.ManagedFields = nil
	r.written = secret
}

// secretToRewrite returns the record's Secret for a rewrite: a copy of the one this store last
// wrote for rel when rel has not been re-read since, else the Secret as the API server has it.
// A rewrite from the copy is conditional on its resourceVersion like any other, so a Secret
// changed meanwhile still fails with ErrConflict, and a deleted one with ErrNotFound.
func (s *Store) secretToRewrite(ctx context.Context, rel *Release) (*corev1.Secret, error) {
	if w := rel.written; w != nil && rel.resourceVersion != "" && w.ResourceVersion == rel.resourceVersion {
		return w.DeepCopy(), nil
	}
	return s.getSecret(ctx, rel.Namespace, rel.Name, rel.Version)
}

// Delete removes one revision. A revision that is already gone is not an error.
func (s *Store) Delete(ctx context.Context, ns, name string, version int) error {
	secret, err := s.getSecret(ctx, ns, name, version)
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	return s.deleteSecret(ctx, secret)
}

// DeleteAll removes every revision of the release (what `helm uninstall` does without
// --keep-history).
func (s *Store) DeleteAll(ctx context.Context, ns, name string) error {
	secrets, err := s.listSecrets(ctx, ns, name)
	if err != nil {
		return err
	}
	var errs []error
	for i := range secrets {
		if n, _, ok := ParseSecretName(secrets[i].Name); !ok || n != name {
			continue
		}
		errs = append(errs, s.deleteSecret(ctx, &secrets[i]))
	}
	return errors.Join(errs...)
}

// deleteSecret deletes exactly the Secret that was read, and only if it is a release record.
func (s *Store) deleteSecret(ctx context.Context, secret *corev1.Secret) error {
	if secret.Type != SecretType || secret.Labels[LabelOwner] != Owner {
		return fmt.Errorf("%w: secret %s/%s is not a release record", ErrInvalid, secret.Namespace, secret.Name)
	}
	pre := client.Preconditions{UID: &secret.UID}
	if err := s.writer.Delete(ctx, secret, pre); err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("delete secret %s/%s: %w", secret.Namespace, secret.Name, mapWriteError(err))
	}
	return nil
}

// mapWriteError turns the apiserver's answers that mean "someone else wrote first" into
// ErrConflict and a size rejection into ErrTooLarge, keeping the original error in the chain.
func mapWriteError(err error) error {
	switch {
	case apierrors.IsAlreadyExists(err), apierrors.IsConflict(err):
		return fmt.Errorf("%w: %w", ErrConflict, err)
	case apierrors.IsRequestEntityTooLargeError(err), isDataTooLong(err):
		return fmt.Errorf("%w: %w", ErrTooLarge, err)
	}
	return err
}

// isDataTooLong reports whether the apiserver refused a Secret because its data is over the limit.
func isDataTooLong(err error) bool {
	if !apierrors.IsInvalid(err) {
		return false
	}
	var status apierrors.APIStatus
	if !errors.As(err, &status) || status.Status().Details == nil {
		return false
	}
	for _, c := range status.Status().Details.Causes {
		if c.Type == metav1.CauseTypeTooLong && c.Field == "data" {
			return true
		}
	}
	return false
}

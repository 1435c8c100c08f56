package apply

import (
	"context"
	"fmt"
	"time"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/capstan-dev/capstan/internal/failpoint"
)

// Options tune an Applier.
type Options struct {
	// TakeOwnership adopts objects that exist without this release's ownership metadata.
	TakeOwnership bool
	// Force deletes and recreates an object when an immutable field changes.
	Force bool
	// ForceConflicts takes fields over from other field managers instead of failing on a conflict.
	ForceConflicts bool
	// Yield names, per object, fields left to other field managers: a field under one of its
	// pointers that another manager owns with another value is left out of what is applied
	// (whatever ForceConflicts says); one nobody else owns is applied as given.
	Yield YieldFunc
	// TakeOver names field managers whose fields Capstan's manager takes over when it writes an
	// object they wrote (helm's, for a release taken over from helm): after the apply, their
	// managedFields entries are merged into Capstan's and the object is applied again, so that
	// the fields the new revision no longer has are removed (see MigrationPatch).
	TakeOver []string
	// CRDTimeout bounds the wait for new CRDs to become Established (default one minute).
	CRDTimeout time.Duration
	// DeletionPropagation is used when pruning and uninstalling (default background).
	DeletionPropagation metav1.DeletionPropagation
	// InSync, when set, remembers what Apply wrote and Diff found in sync, so that Diff dry-runs
	// only objects written since.
	InSync *InSync
}

// Applier applies and deletes the objects of one release through one client.
type Applier struct {
	client client.Client
	owner  Owner
	opts   Options
	// written holds the objects Apply wrote as the API server returned them, by ObjectRef.ID,
	// until TakeWritten.
	written map[string]*unstructured.Unstructured
}

// New returns an Applier that writes through c on behalf of owner. Objects without a namespace whose
// kind is namespaced go to owner.Namespace, as Helm does.
func New(c client.Client, owner Owner, opts Options) *Applier {
	if opts.CRDTimeout == 0 {
		opts.CRDTimeout = time.Minute
	}
	if opts.DeletionPropagation == "" {
		opts.DeletionPropagation = metav1.DeletePropagationBackground
	}
	return &Applier{client: c, owner: owner, opts: opts}
}

// Prepare stamps ownership metadata on every object and puts namespaced objects that name no namespace
// into the release's namespace. Kinds the cluster does not serve yet are resolved against CRDs in objs.
func (a *Applier) Prepare(objs []*unstructured.Unstructured) error {
	crdScopes := crdScopes(objs)
	var failures []Failure
	for _, obj := range objs {
		SetOwnership(obj, a.owner)
		namespaced, err := a.isNamespaced(obj.GroupVersionKind(), crdScopes)
		if err != nil {
			failures = append(failures, Failure{Ref: RefOf(obj), Message: err.Error()})
			continue
		}
		switch {
		case !namespaced:
			obj.SetNamespace("")
		case obj.GetNamespace() == "":
			obj.SetNamespace(a.owner.Namespace)
		}
	}
	if len(failures) > 0 {
		return &DryRunError{Failures: failures}
	}
	return nil
}

func (a *Applier) isNamespaced(gvk schema.GroupVersionKind, crdScopes map[schema.GroupKind]bool) (bool, error) {
	mapping, err := a.client.RESTMapper().RESTMapping(gvk.GroupKind(), gvk.Version)
	if err == nil {
		return mapping.Scope.Name() == meta.RESTScopeNameNamespace, nil
	}
	if namespaced, ok := crdScopes[gvk.GroupKind()]; ok {
		return namespaced, nil
	}
	if meta.IsNoMatchError(err) {
		return false, fmt.Errorf("no kind %q is served in version %q and no CRD of this release defines it", gvk.Kind, gvk.GroupVersion())
	}
	return false, err
}

// crdScopes maps every kind defined by a CRD in objs to whether it is namespaced.
func crdScopes(objs []*unstructured.Unstructured) map[schema.GroupKind]bool {
	out := map[schema.GroupKind]bool{}
	for _, obj := range objs {
		if !IsCRD(obj) {
			continue
		}
		group, _, _ := unstructured.NestedString(obj.Object, "spec", "group")
		kind, _, _ := unstructured.NestedString(obj.Object, "spec", "names", "kind")
		scope, _, _ := unstructured.NestedString(obj.Object, "spec", "scope")
		out[schema.GroupKind{Group: group, Kind: kind}] = scope == string(apiextensionsv1.NamespaceScoped)
	}
	return out
}

// CheckOwnership reads every object that already exists and fails with an OwnershipConflictError when
// any of them is not this release's (see OwnershipOf). An object that belongs to no release is adopted
// only with TakeOwnership; an object of another release, Capstan's or helm's, never is. previous are the
// objects the release's own records and inventory list, which settles objects Capstan wrote before it
// recorded its identity.
func (a *Applier) CheckOwnership(ctx context.Context, objs []*unstructured.Unstructured, previous []ObjectRef) error {
	listed := listedIDs(previous)
	var conflicts []Failure
	for _, obj := range objs {
		ref := RefOf(obj)
		live, err := a.get(ctx, ref)
		if apierrors.IsNotFound(err) || meta.IsNoMatchError(err) {
			continue
		}
		if err != nil {
			return fmt.Errorf("reading %s: %w", ref, err)
		}
		own := OwnershipOf(live, a.owner)
		if own.Ours(listed[ref.ID()]) || (own.Holder == HeldByNobody && a.opts.TakeOwnership) {
			continue
		}
		conflicts = append(conflicts, Failure{Ref: ref, Message: own.Problem()})
	}
	if len(conflicts) > 0 {
		return &OwnershipConflictError{Conflicts: conflicts}
	}
	return nil
}

func (a *Applier) get(ctx context.Context, ref ObjectRef) (*unstructured.Unstructured, error) {
	live := &unstructured.Unstructured{}
	live.SetGroupVersionKind(ref.GroupVersionKind())
	err := a.client.Get(ctx, client.ObjectKey{Namespace: ref.Namespace, Name: ref.Name}, live)
	return live, err
}

// DryRun sends every object to the API server as a dry-run server-side apply and collects every
// rejection. Objects whose kind is defined by a CRD of this same release and not yet served are skipped:
// they are validated when they are applied, after their CRD. An immutable-field change is reported as an
// ImmutableFieldError unless Force is set.
func (a *Applier) DryRun(ctx context.Context, objs []*unstructured.Unstructured) error {
	_, err := a.DryRunSeen(ctx, objs)
	return err
}

// Seen is what a dry-run learned of the objects it sent, by ObjectRef.ID.
type Seen struct {
	// New holds the objects that do not exist: the dry-run would have created them.
	New map[string]bool
	// Unchanged holds the objects that exist at the resourceVersion InSync remembers them
	// written or found in sync at: nobody has written them since.
	Unchanged map[string]bool
}

// DryRunSeen is DryRun, and also reports from the dry-run's answers which objects do not exist yet
// (an answer to a dry-run create has no resourceVersion) and which exist unchanged since InSync saw
// them, so that a caller can leave those out of reads it would otherwise make. An object whose
// dry-run failed is in neither set.
func (a *Applier) DryRunSeen(ctx context.Context, objs []*unstructured.Unstructured) (Seen, error) {
	crdScopes := crdScopes(objs)
	seen := Seen{New: map[string]bool{}, Unchanged: map[string]bool{}}
	var failures, immutable []Failure
	var conflicts []Conflict
	for _, obj := range objs {
		answer := obj.DeepCopy()
		err := a.write(ctx, answer, client.DryRunAll)
		if err == nil {
			id := RefOf(obj).ID()
			switch rv := answer.GetResourceVersion(); {
			case rv == "":
				seen.New[id] = true
			case rv == a.opts.InSync.at(RefOf(obj)):
				seen.Unchanged[id] = true
			}
			continue
		}
		if _, ours := crdScopes[obj.GroupVersionKind().GroupKind()]; ours && meta.IsNoMatchError(err) {
			continue
		}
		if isImmutable(err) {
			if !a.opts.Force {
				immutable = append(immutable, failureOf(RefOf(obj), err))
			}
			continue
		}
		if c := ConflictsOf(RefOf(obj), err); len(c) > 0 {
			conflicts = append(conflicts, c...)
			failures = append(failures, failureOf(RefOf(obj), err))
			continue
		}
		failures = append(failures, failureOf(RefOf(obj), err))
	}
	if len(conflicts) > 0 && len(failures) == len(conflictedObjects(conflicts)) {
		return seen, &FieldConflictError{Conflicts: conflicts}
	}
	if len(failures) > 0 {
		return seen, &DryRunError{Failures: failures}
	}
	if len(immutable) > 0 {
		return seen, &ImmutableFieldError{Failures: immutable}
	}
	return seen, nil
}

// apply sends obj as a server-side apply of Capstan's field manager with the options given, and
// leaves the API server's answer in obj.
func (a *Applier) apply(ctx context.Context, obj *unstructured.Unstructured, extra ...client.ApplyOption) error {
	obj.SetManagedFields(nil)
	obj.SetResourceVersion("")
	opts := append([]client.ApplyOption{client.FieldOwner(FieldManager)}, extra...)
	return a.client.Apply(ctx, client.ApplyConfigurationFromUnstructured(obj), opts...)
}

// write applies obj, forcing when ForceConflicts says so, and leaves the answer in obj. When
// Yield names fields of obj, it applies without forcing first: the fields of the conflicts that
// Yield covers are then left out of obj, and the rest is applied again, forced when
// ForceConflicts says so, else failing on the conflicts that remain.
func (a *Applier) write(ctx context.Context, obj *unstructured.Unstructured, extra ...client.ApplyOption) error {
	forced := extra
	if a.opts.ForceConflicts {
		forced = append(append([]client.ApplyOption{}, extra...), client.ForceOwnership)
	}
	var pointers []string
	if a.opts.Yield != nil {
		pointers = a.opts.Yield(RefOf(obj))
	}
	if len(pointers) == 0 {
		return a.apply(ctx, obj, forced...)
	}
	first := obj.DeepCopy()
	err := a.apply(ctx, first, extra...)
	conflicts := ConflictsOf(RefOf(obj), err)
	covering, _ := Yielded(conflicts, pointers)
	if len(conflicts) == 0 || (len(covering) == 0 && !a.opts.ForceConflicts) {
		obj.Object = first.Object
		return err
	}
	for _, p := range covering {
		removePointer(obj.Object, p)
	}
	return a.apply(ctx, obj, forced...)
}

// conflictedObjects returns the IDs of the objects conflicts are about.
func conflictedObjects(conflicts []Conflict) map[string]bool {
	out := map[string]bool{}
	for _, c := range conflicts {
		out[c.Ref.ID()] = true
	}
	return out
}

// Apply writes objs with server-side apply in stages: CRDs and Namespaces first, then — once every CRD
// is Established — the rest in the order given (the caller sorts them in Helm's install order). It stops
// at the first failing object and reports what it had applied.
func (a *Applier) Apply(ctx context.Context, objs []*unstructured.Unstructured) ([]ObjectRef, error) {
	var first, rest []*unstructured.Unstructured
	for _, obj := range objs {
		if IsCRD(obj) || IsNamespace(obj) {
			first = append(first, obj)
			continue
		}
		rest = append(rest, obj)
	}
	applied, err := a.applyAll(ctx, first, nil)
	if err != nil {
		return applied, err
	}
	if err := a.WaitForCRDs(ctx, first); err != nil {
		return applied, err
	}
	failpoint.Inject(failpoint.AfterApplyFirstStage)
	return a.applyAll(ctx, rest, applied)
}

// TakeWritten returns the objects Apply wrote, as the API server answered the write, by
// ObjectRef.ID, and forgets them. An object Apply deleted and created again is not among them.
func (a *Applier) TakeWritten() map[string]*unstructured.Unstructured {
	w := a.written
	a.written = nil
	return w
}

func (a *Applier) applyAll(ctx context.Context, objs []*unstructured.Unstructured, applied []ObjectRef) ([]ObjectRef, error) {
	for _, obj := range objs {
		ref := RefOf(obj)
		written := obj.DeepCopy()
		err := a.write(ctx, written)
		if err == nil && len(a.opts.TakeOver) > 0 && ownedBy(written, a.opts.TakeOver) {
			written, err = a.takeOver(ctx, obj, written)
		}
		if err != nil && isImmutable(err) && a.opts.Force {
			written = nil
			err = a.recreate(ctx, obj)
		}
		if err != nil {
			a.opts.InSync.forget(ref)
			return applied, &WriteError{Failures: []Failure{failureOf(ref, err)}, Applied: applied}
		}
		if written != nil {
			a.opts.InSync.note(obj, written.GetResourceVersion())
			if a.written == nil {
				a.written = map[string]*unstructured.Unstructured{}
			}
			a.written[ref.ID()] = written
		} else {
			a.opts.InSync.forget(ref)
		}
		applied = append(applied, ref)
	}
	return applied, nil
}

// recreate deletes obj, waits until it is gone, and applies it again.
func (a *Applier) recreate(ctx context.Context, obj *unstructured.Unstructured) error {
	ref := RefOf(obj)
	live, err := a.get(ctx, ref)
	if err != nil {
		return err
	}
	policy := metav1.DeletePropagationBackground
	if err := a.client.Delete(ctx, live, &client.DeleteOptions{PropagationPolicy: &policy}); client.IgnoreNotFound(err) != nil {
		return err
	}
	err = wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, a.opts.CRDTimeout, true, func(ctx context.Context) (bool, error) {
		_, err := a.get(ctx, ref)
		if apierrors.IsNotFound(err) {
			return true, nil
		}
		return false, client.IgnoreNotFound(err)
	})
	if err != nil {
		return fmt.Errorf("waiting for %s to be deleted before recreating it: %w", ref, err)
	}
	return a.write(ctx, obj.DeepCopy())
}

// takeOver hands the fields TakeOver's managers own in the object written (the answer to
// applying obj) to Capstan's field manager and applies obj again, which removes the fields
// only they had and obj no longer has. It returns the answer to the second apply.
func (a *Applier) takeOver(ctx context.Context, obj, written *unstructured.Unstructured) (*unstructured.Unstructured, error) {
	if _, err := a.migrate(ctx, written); err != nil {
		return written, err
	}
	again := obj.DeepCopy()
	return again, a.write(ctx, again)
}

// WaitForCRDs waits until every CRD among objs reports Established, bounded by CRDTimeout.
func (a *Applier) WaitForCRDs(ctx context.Context, objs []*unstructured.Unstructured) error {
	for _, obj := range objs {
		if !IsCRD(obj) {
			continue
		}
		err := wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, a.opts.CRDTimeout, true, func(ctx context.Context) (bool, error) {
			crd := &apiextensionsv1.CustomResourceDefinition{}
			if err := a.client.Get(ctx, client.ObjectKey{Name: obj.GetName()}, crd); err != nil {
				return false, client.IgnoreNotFound(err)
			}
			for _, c := range crd.Status.Conditions {
				if c.Type == apiextensionsv1.Established && c.Status == apiextensionsv1.ConditionTrue {
					return true, nil
				}
			}
			return false, nil
		})
		if err != nil {
			return fmt.Errorf("CRD %s did not become Established: %w", obj.GetName(), err)
		}
	}
	return nil
}

// Delete removes the referenced objects in the order given, skipping objects that ask to be kept,
// that are already gone, whose API is no longer served, or that do not carry this release's identity
// (another release or tool has taken them over). refs must be the release's own objects: from its
// records or inventory.
// CRDs are never deleted. Every failure is reported in a PruneError; deleted holds what was removed.
func (a *Applier) Delete(ctx context.Context, refs []ObjectRef) (deleted []ObjectRef, err error) {
	var failures []Failure
	for _, ref := range refs {
		if ref.Group == "apiextensions.k8s.io" && ref.Kind == "CustomResourceDefinition" {
			continue
		}
		live, getErr := a.get(ctx, ref)
		switch {
		case apierrors.IsNotFound(getErr) || meta.IsNoMatchError(getErr):
			deleted = append(deleted, ref)
			continue
		case getErr != nil:
			failures = append(failures, failureOf(ref, getErr))
			continue
		case Keep(live) || !OwnershipOf(live, a.owner).Ours(true):
			continue
		}
		policy := a.opts.DeletionPropagation
		if delErr := a.client.Delete(ctx, live, &client.DeleteOptions{PropagationPolicy: &policy}); client.IgnoreNotFound(delErr) != nil {
			failures = append(failures, failureOf(ref, delErr))
			continue
		}
		deleted = append(deleted, ref)
	}
	if len(failures) > 0 {
		return deleted, &PruneError{Failures: failures}
	}
	return deleted, nil
}

// Stale returns the references of previous that are not in current (compared by ID, so a version
// change of the same object is not stale), in previous' order.
func Stale(previous, current []ObjectRef) []ObjectRef {
	keep := make(map[string]bool, len(current))
	for _, r := range current {
		keep[r.ID()] = true
	}
	var out []ObjectRef
	for _, r := range previous {
		if !keep[r.ID()] {
			out = append(out, r)
		}
	}
	return out
}

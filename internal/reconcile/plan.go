package reconcile

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	capstanv1 "github.com/capstan-dev/capstan/api/v1alpha1"
	"github.com/capstan-dev/capstan/internal/apply"
	"github.com/capstan-dev/capstan/internal/manifest"
	"github.com/capstan-dev/capstan/internal/postrender"
	"github.com/capstan-dev/capstan/internal/render"
	"github.com/capstan-dev/capstan/internal/storage"
)

// plan is a revision ready to be written: its record, its objects, and the applier checked
// against the cluster. Everything in it was computed without writing anything.
type plan struct {
	// action is the release action the revision records.
	action capstanv1.ReleaseAction
	// record is the pending record to create.
	record *storage.Release
	// objects are the release's objects, prepared, in install order. A parked wait lets them go
	// (slim) and keeps only their references, in refs.
	objects []*unstructured.Unstructured
	refs    []apply.ObjectRef
	// crds are the chart's crds/ objects to apply first, per the CRD policy.
	crds []*unstructured.Unstructured
	// applier writes the objects.
	applier *apply.Applier
	// preEvent and postEvent are the hook events around the apply.
	preEvent, postEvent string
	// noWait and noHooks turn off waiting and hooks for this action.
	noWait, noHooks bool
	// force recreates objects on immutable-field changes.
	force bool
	// takeOwnership adopts objects without ownership metadata.
	takeOwnership bool
	// forceConflicts takes fields over from other field managers.
	forceConflicts bool
	// remediation marks a rollback that remediates a failed action.
	remediation bool
	// rollbackRequest is the capstan.dev/rollback-to value a manual rollback handles.
	rollbackRequest string
	// cleanupOnFail deletes, after a failed upgrade, the objects it created (upgrade.cleanupOnFail).
	cleanupOnFail bool
	// created are the objects the upgrade creates, noted before the apply when cleanupOnFail is set.
	created []apply.ObjectRef
	// ownedBefore is what the release owned before this revision, as writeAhead found it.
	ownedBefore []apply.ObjectRef
}

// objectRefs returns the references of the release's objects, in install order.
func (p *plan) objectRefs() []apply.ObjectRef {
	if p.objects == nil && p.refs != nil {
		return p.refs
	}
	return refsOf(p.objects)
}

// slim lets go of what a plan no longer needs once its objects are applied and it waits for
// them: the objects themselves (their references are kept) and the record's manifest, values and
// chart defaults, which no later write of the record takes from memory (storage.Store.UpdateStatus
// writes back the stored ones). Parked waits hold their plans, hundreds at a time at scale.
func (p *plan) slim() {
	p.refs = p.objectRefs()
	p.objects, p.crds = nil, nil
	if p.record != nil {
		p.record.Strip()
	}
}

// revisionNumber is the number of the next revision: one past the newest record.
func (s *session) revisionNumber() int {
	if last := lastRecord(s.records); last != nil {
		return last.Version + 1
	}
	return 1
}

// planRelease renders the desired chart and values as the next revision and checks it against
// the cluster: parse, record size, ownership and a server-side dry-run of every object.
func (s *session) planRelease(ctx context.Context, upgrade bool, revision int) (*plan, error) {
	res, objs, err := s.renderRevision(ctx, upgrade, revision)
	if err != nil {
		return nil, err
	}
	p := s.newPlan(upgrade)
	p.objects = objs
	p.record = s.newRecord(res, revision, upgrade)
	if p.crds, err = s.chartCRDs(ctx, res, upgrade); err != nil {
		return nil, err
	}
	return p, s.preflight(ctx, p)
}

// renderRevision fetches the desired chart and renders it with the composed values, the live
// capabilities and the namespaced lookup as revision, and parses the objects. It writes nothing.
func (s *session) renderRevision(ctx context.Context, upgrade bool, revision int) (*render.Result, []*unstructured.Unstructured, error) {
	ch, err := s.loadChart(ctx)
	if err != nil {
		return nil, nil, err
	}
	caps, err := s.caps.Capabilities(ctx)
	if err != nil {
		return nil, nil, transientErr(ReasonReconcileFailed, fmt.Errorf("discovering the cluster's capabilities: %w", err))
	}
	started := time.Now()
	res, err := render.Render(ctx, ch, s.userValues, render.Options{
		ReleaseName: s.rel.GetReleaseName(), Namespace: s.rel.GetTargetNamespace(), Revision: revision,
		IsUpgrade: upgrade, Capabilities: caps, Lookup: newLookup(s.target, s.rel), Timeout: s.r.Options.RenderTimeout,
		Limits: s.r.Options.RenderLimits, Templates: s.r.Options.Templates, Schemas: s.r.Options.Schemas,
		PostRenderer: postrender.New(s.rel.Spec.PostRenderers, s.rel.Spec.CommonMetadata),
	})
	s.r.Metrics.observeRender(time.Since(started), err)
	if err != nil {
		return nil, nil, renderError(err)
	}
	objs, err := parseObjects(res.Manifests, s.rel.GetTargetNamespace())
	if err != nil {
		return nil, nil, err
	}
	return res, objs, nil
}

// newPlan fills in the action's settings from the spec.
func (s *session) newPlan(upgrade bool) *plan {
	spec := s.rel.Spec
	p := &plan{action: capstanv1.ActionInstall, preEvent: "pre-install", postEvent: "post-install"}
	if upgrade {
		p.action, p.preEvent, p.postEvent = capstanv1.ActionUpgrade, "pre-upgrade", "post-upgrade"
		if u := spec.Upgrade; u != nil {
			p.noWait, p.noHooks, p.force, p.takeOwnership = u.DisableWait, u.DisableHooks, u.Force, u.TakeOwnership
			p.cleanupOnFail = u.CleanupOnFail
		}
	} else if i := spec.Install; i != nil {
		p.noWait, p.noHooks, p.takeOwnership = i.DisableWait, i.DisableHooks, i.TakeOwnership
	}
	p.forceConflicts = s.forcingConflicts()
	p.applier = s.newApplier(p.takeOwnership, p.force, p.forceConflicts)
	return p
}

// forcingConflicts reports whether an install, upgrade or rollback takes conflicting fields over
// from other field managers: with spec.upgrade.conflicts Force, and in the revision that takes a
// release over from helm, whose fields are the release's own.
func (s *session) forcingConflicts() bool {
	return s.rel.GetConflictPolicy() == capstanv1.ConflictForce || s.takingOver()
}

// takingOver reports whether the newest record was written by helm rather than this Release:
// its objects then carry helm's field manager, whose fields this Release takes over.
func (s *session) takingOver() bool {
	last := lastRecord(s.records)
	return last != nil && !writtenBy(last, string(s.rel.UID))
}

// newApplier returns an applier for the Release's objects through its client. It yields the
// fields spec.upgrade.conflicts lists and takes over the fields of helm's field manager, and in
// the revision that takes a release over from helm also those of kubectl's client-side apply.
func (s *session) newApplier(takeOwnership, force, forceConflicts bool) *apply.Applier {
	takeOver := []string{helmFieldManager}
	if s.takingOver() {
		takeOver = append(takeOver, kubectlClientSideManager)
	}
	return apply.New(s.target, s.owner, apply.Options{
		TakeOwnership: takeOwnership, Force: force, ForceConflicts: forceConflicts,
		Yield: yieldFunc(s.rel), TakeOver: takeOver,
		DeletionPropagation: metav1.DeletionPropagation(capitalize(string(s.rel.GetDeletionPropagation()))),
		InSync:              s.r.inSyncOf(s.rel),
	})
}

// yieldFunc turns spec.upgrade.conflicts.yield into the pointers to leave to other field
// managers for one object, or nil without policy Yield.
func yieldFunc(rel *capstanv1.Release) apply.YieldFunc {
	rules := rel.GetYieldRules()
	if len(rules) == 0 {
		return nil
	}
	return func(r apply.ObjectRef) []string {
		return fieldRulePaths(rules, r)
	}
}

// fieldRulePaths returns the paths of the rules whose target selects the object.
func fieldRulePaths(rules []capstanv1.FieldRule, r apply.ObjectRef) []string {
	ref := capstanv1.ObjectRef{Namespace: r.Namespace, Name: r.Name, Group: r.Group, Kind: r.Kind}
	var out []string
	for _, rule := range rules {
		if rule.Target.Matches(ref) {
			out = append(out, rule.Paths...)
		}
	}
	return out
}

// capitalize turns the API's lower-case propagation policy into Kubernetes' spelling.
func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// renderError classifies a render failure: every stage of it is a stall with its own reason.
func renderError(err error) error {
	var pe *manifest.ParseError
	switch {
	case errors.As(err, &pe):
		return stallErr(capstanv1.ManifestParseFailedReason, err)
	case render.StageOf(err) == render.StageChart:
		return stallErr(capstanv1.ChartLoadFailedReason, err)
	case render.StageOf(err) == render.StageValues:
		return stallErr(capstanv1.SchemaInvalidReason, err)
	case render.StageOf(err) == render.StagePostRender:
		return stallErr(capstanv1.PostRenderFailedReason, err)
	case isBudgetError(err):
		return stallErr(capstanv1.RenderBudgetExceededReason, err)
	case apierrors.IsForbidden(err):
		return stallErr(capstanv1.AccessDeniedReason, err) // a lookup the Release's identity may not make
	default:
		return stallErr(capstanv1.RenderFailedReason, err)
	}
}

// parseObjects turns rendered manifests into objects, refusing documents that cannot be applied
// (no kind or name, generateName only, duplicates).
func parseObjects(ms []manifest.Manifest, namespace string) ([]*unstructured.Unstructured, error) {
	parsed, err := manifest.ParseObjects(ms)
	if err != nil {
		return nil, stallErr(capstanv1.ManifestParseFailedReason, err)
	}
	if err := manifest.ValidateObjects(parsed, namespace); err != nil {
		return nil, stallErr(capstanv1.ManifestParseFailedReason, err)
	}
	out := make([]*unstructured.Unstructured, 0, len(parsed))
	for _, o := range parsed {
		out = append(out, o.Object)
	}
	return out, nil
}

// parseStoredManifest turns a record's manifest text back into objects.
func parseStoredManifest(text string, namespace string) ([]*unstructured.Unstructured, error) {
	var ms []manifest.Manifest
	for _, doc := range manifest.Split(text) {
		ms = append(ms, manifest.Manifest{Name: sourceOf(doc), Content: doc})
	}
	return parseObjects(ms, namespace)
}

// sourceOf reads the template name from a document's "# Source:" comment.
func sourceOf(doc string) string {
	for _, line := range strings.Split(doc, "\n") {
		if name, ok := strings.CutPrefix(strings.TrimSpace(line), "# Source: "); ok {
			return name
		}
	}
	return "manifest"
}

// chartCRDs returns the chart's crds/ objects the CRD policy applies: none for Skip, those that
// do not exist yet for Create, all for CreateReplace.
func (s *session) chartCRDs(ctx context.Context, res *render.Result, upgrade bool) ([]*unstructured.Unstructured, error) {
	policy := s.rel.GetInstallCRDs()
	if upgrade {
		policy = s.rel.GetUpgradeCRDs()
	}
	if policy == capstanv1.CRDsSkip || len(res.CRDs) == 0 {
		return nil, nil
	}
	var ms []manifest.Manifest
	for _, f := range res.CRDs {
		for _, doc := range manifest.Split(string(f.Data)) {
			ms = append(ms, manifest.Manifest{Name: f.Name, Content: doc})
		}
	}
	crds, err := parseObjects(ms, "")
	if err != nil || policy == capstanv1.CRDsCreateReplace {
		return crds, err
	}
	var missing []*unstructured.Unstructured
	for _, crd := range crds {
		live := &unstructured.Unstructured{}
		live.SetGroupVersionKind(crd.GroupVersionKind())
		err := s.target.Get(ctx, client.ObjectKeyFromObject(crd), live)
		switch {
		case apierrors.IsNotFound(err):
			missing = append(missing, crd)
		case err != nil:
			return nil, apiErr(capstanv1.DryRunFailedReason, fmt.Errorf("reading CRD %s: %w", crd.GetName(), err))
		}
	}
	return missing, nil
}

// preflight prepares the objects and checks them against the cluster without writing: kinds are
// served (or defined by the release's CRDs), every object passes a server-side dry-run, and none
// belongs to someone else.
func (s *session) preflight(ctx context.Context, p *plan) error {
	s.rel.Status.Conflicts = nil
	if _, err := storage.CheckSize(p.record); err != nil {
		return stallErr(capstanv1.RecordTooLargeReason, err)
	}
	all := append(append([]*unstructured.Unstructured{}, p.crds...), p.objects...)
	if err := p.applier.Prepare(all); err != nil {
		return s.applyError(err, capstanv1.DryRunFailedReason)
	}
	for _, crd := range p.crds {
		stripOwnership(crd)
	}
	if err := s.ensureNamespace(ctx); err != nil {
		return err
	}
	// The dry-run's answers tell which objects do not exist yet, and which exist unchanged since
	// this release wrote them: neither can belong to someone else, so only the others are read
	// for the ownership check. Ownership conflicts are still reported before dry-run rejections.
	seen, err := p.applier.DryRunSeen(ctx, all)
	if err := s.checkOwnership(ctx, p.applier, unseen(p.objects, seen)); err != nil {
		return err
	}
	if err != nil && !p.forceConflicts && onlyHelmConflicts(err) {
		p.forceConflicts = true
		p.applier = s.newApplier(p.takeOwnership, p.force, true)
		err = p.applier.DryRun(ctx, all)
	}
	if err != nil {
		return s.applyError(err, capstanv1.DryRunFailedReason)
	}
	return nil
}

// unseen leaves out of objs those a dry-run saw to be new or unchanged since this release wrote
// them.
func unseen(objs []*unstructured.Unstructured, seen apply.Seen) []*unstructured.Unstructured {
	out := make([]*unstructured.Unstructured, 0, len(objs))
	for _, o := range objs {
		if id := apply.RefOf(o).ID(); !seen.New[id] && !seen.Unchanged[id] {
			out = append(out, o)
		}
	}
	return out
}

// checkOwnership refuses objects that exist and belong to another release, Capstan's or helm's, or
// to nobody without takeOwnership. It runs before the pending record, so a conflict writes nothing.
func (s *session) checkOwnership(ctx context.Context, a *apply.Applier, objs []*unstructured.Unstructured) error {
	previous, err := s.previousRefs(ctx)
	if err != nil {
		return err
	}
	if err := a.CheckOwnership(ctx, objs, previous); err != nil {
		return s.applyError(err, capstanv1.OwnershipConflictReason)
	}
	return nil
}

// Field managers whose fields a Release takes over: helm's (helm 3 writes client-side, helm 4
// applies server-side, both as "helm"), the previous owner of a release taken over from helm,
// and kubectl's client-side apply, with which objects are often written before helm adopts them.
const (
	helmFieldManager         = "helm"
	kubectlClientSideManager = "kubectl-client-side-apply"
)

// onlyHelmConflicts reports whether a dry-run failed only on field-manager conflicts with the
// helm CLI's manager. Fields helm applied before a takeover are the release's own, so they are
// taken over; conflicts with any other manager (an autoscaler, a person) still fail.
func onlyHelmConflicts(err error) bool {
	var fc *apply.FieldConflictError
	if !errors.As(err, &fc) || len(fc.Conflicts) == 0 {
		return false
	}
	for _, c := range fc.Conflicts {
		if c.Manager != helmFieldManager {
			return false
		}
	}
	return true
}

// stripOwnership removes the release ownership metadata from a crds/ CRD: as in Helm, such CRDs
// belong to no release (and are never deleted).
func stripOwnership(obj *unstructured.Unstructured) {
	labels := obj.GetLabels()
	delete(labels, apply.ManagedByLabel)
	obj.SetLabels(labels)
	ann := obj.GetAnnotations()
	delete(ann, apply.ReleaseNameAnnotation)
	delete(ann, apply.ReleaseNamespaceAnnotation)
	delete(ann, apply.ReleaseAnnotation)
	obj.SetAnnotations(ann)
}

// applyError classifies an error of the apply package. Ownership conflicts and immutable fields
// stall; dry-run rejections stall unless the API server's answer may pass by itself (then they
// are retried) or a namespace or kind is missing (then they wait).
func (s *session) applyError(err error, reason string) error {
	var (
		fc   *apply.FieldConflictError
		own  *apply.OwnershipConflictError
		dry  *apply.DryRunError
		imm  *apply.ImmutableFieldError
		wErr *apply.WriteError
	)
	switch {
	case errors.As(err, &own):
		return stallErr(capstanv1.OwnershipConflictReason, errors.New(describeFailures(own.Error(), own.Conflicts)))
	case errors.As(err, &fc):
		s.rel.Status.Conflicts = fieldConflicts(fc.Conflicts)
		return stallErr(capstanv1.FieldConflictReason, err)
	case errors.As(err, &imm):
		return stallErr(capstanv1.ImmutableFieldChangedReason, errors.New(describeFailures(imm.Error(), imm.Failures)))
	case errors.As(err, &dry):
		return dryRunError(dry)
	case errors.As(err, &wErr):
		return classifyFailures(capstanv1.ApplyFailedReason, wErr.Failures, errors.New(describeFailures(wErr.Error(), wErr.Failures)))
	}
	return apiErr(reason, err)
}

// dryRunError classifies a dry-run rejection.
func dryRunError(dry *apply.DryRunError) error {
	msg := errors.New(describeFailures(dry.Error(), dry.Failures))
	for _, f := range dry.Failures {
		if f.Err == nil || apierrors.IsNotFound(f.Err) || meta.IsNoMatchError(f.Err) {
			return waitErr(capstanv1.DryRunFailedReason, 0, msg)
		}
	}
	return classifyFailures(capstanv1.DryRunFailedReason, dry.Failures, msg)
}

// classifyFailures is a stall unless one of the failures may pass by itself or is a denial.
func classifyFailures(reason string, fs []apply.Failure, msg error) error {
	for _, f := range fs {
		if apierrors.IsForbidden(f.Err) {
			return stallErr(capstanv1.AccessDeniedReason, msg)
		}
		if isTransientAPI(f.Err) {
			return transientErr(reason, msg)
		}
	}
	return stallErr(reason, msg)
}

// describeFailures returns the apply package's message, except that a Secret's failure is
// reduced to its field so that no secret data can reach a condition or event.
func describeFailures(full string, fs []apply.Failure) string {
	for _, f := range fs {
		if f.Ref.Kind == "Secret" && f.Ref.Group == "" {
			return redactSecretFailures(fs)
		}
	}
	return full
}

func redactSecretFailures(fs []apply.Failure) string {
	parts := make([]string, 0, len(fs))
	for _, f := range fs {
		if f.Ref.Kind == "Secret" && f.Ref.Group == "" {
			f.Message = "rejected (details withheld for Secrets)"
		}
		parts = append(parts, f.String())
	}
	return strings.Join(parts, "; ")
}

// ensureNamespace creates spec.targetNamespace when spec.createNamespace asks for it. The
// namespace is not part of the release and survives uninstall.
func (s *session) ensureNamespace(ctx context.Context) error {
	if !s.rel.Spec.CreateNamespace || s.rel.Spec.TargetNamespace == "" {
		return nil
	}
	ns := &unstructured.Unstructured{}
	ns.SetAPIVersion("v1")
	ns.SetKind("Namespace")
	ns.SetName(s.rel.Spec.TargetNamespace)
	err := s.target.Get(ctx, client.ObjectKeyFromObject(ns), ns.DeepCopy())
	if !apierrors.IsNotFound(err) {
		return apiErrOrNil(capstanv1.DryRunFailedReason, err)
	}
	if err := s.target.Create(ctx, ns); err != nil && !apierrors.IsAlreadyExists(err) {
		return apiErr(capstanv1.ApplyFailedReason, fmt.Errorf("creating namespace %s: %w", ns.GetName(), err))
	}
	return nil
}

func apiErrOrNil(reason string, err error) error {
	if err == nil {
		return nil
	}
	return apiErr(reason, err)
}

// maxStatusConflicts bounds status.conflicts, as the CRD does.
const maxStatusConflicts = 20

// fieldConflicts turns conflicts into status.conflicts, sorted and at most maxStatusConflicts.
// A conflict names an object, a field path and a manager, never a value, so a Secret's is
// shown too.
func fieldConflicts(conflicts []apply.Conflict) []capstanv1.FieldConflict {
	out := make([]capstanv1.FieldConflict, 0, len(conflicts))
	for _, c := range conflicts {
		out = append(out, capstanv1.FieldConflict{Object: c.Ref.String(), Field: c.Field, Manager: c.Manager})
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Object != b.Object {
			return a.Object < b.Object
		}
		if a.Field != b.Field {
			return a.Field < b.Field
		}
		return a.Manager < b.Manager
	})
	if len(out) > maxStatusConflicts {
		out = out[:maxStatusConflicts]
	}
	return out
}

package reconcile

import (
	"context"
	"errors"
	"fmt"
	"slices"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"
	crlog "sigs.k8s.io/controller-runtime/pkg/log"

	capstanv1 "github.com/capstan-dev/capstan/api/v1alpha1"
	"github.com/capstan-dev/capstan/internal/apply"
	"github.com/capstan-dev/capstan/internal/health"
	"github.com/capstan-dev/capstan/internal/redact"
	"github.com/capstan-dev/capstan/internal/storage"
)

// session is one reconcile of one Release: the facts gathered so far and the clients to act with.
type session struct {
	r       *Reconciler
	rel     *capstanv1.Release
	patcher *StatusPatcher
	action  Action
	// red holds the values this reconcile read from Secrets; every message leaving it is
	// scrubbed with it (nil redacts nothing).
	red *redact.Redactor

	// c is the Release's client in the managing cluster: records, values, Secrets.
	c     client.WithWatch
	store *storage.Store
	// target is the client of the cluster the objects go to (c unless spec.kubeConfig names
	// another cluster), targetID the identity it acts as, caps that cluster's capabilities.
	target   client.WithWatch
	targetID string
	caps     CapabilitiesSource

	owner apply.Owner
	// records are the release's records as listed, sorted by version; summaries of them
	// (storage.Release.Summary) once a wait parked. pruned are the versions this reconcile
	// deleted since the list.
	records []*storage.Release
	pruned  []int

	repo       *capstanv1.ChartRepository
	desired    Desired
	userValues map[string]any
	// healthChecks are spec.healthChecks, compiled; every health read of the reconcile uses them.
	healthChecks *health.Checks

	// deployed caches the prepared objects of the deployed record.
	deployed []*unstructured.Unstructured
	// previous, once previousKnown, is what previousRefs returns: set when a wait parks and the
	// records are summarised.
	previous      []apply.ObjectRef
	previousKnown bool
	// driftChecked is set when a drift check ran; drift holds what it found.
	driftChecked bool
	drift        []apply.Change
	// actionFailed is set when an install, upgrade or rollback failed after its record was created.
	actionFailed bool
	// decided is set once every fact was gathered and Decide chose the action.
	decided bool
}

func (r *Reconciler) newSession(rel *capstanv1.Release, p *StatusPatcher) *session {
	return &session{r: r, rel: rel, patcher: p, action: Action{Kind: ActionNothing}}
}

// run gathers the facts step by step (the first error stops it), decides, and carries the
// decision out.
func (s *session) run(ctx context.Context) error {
	steps := []func(context.Context) error{
		s.stillHeld, s.checkReferences, s.compileHealthChecks, s.connect, s.connectTarget, s.loadRecords, s.checkDependencies, s.resolveChart,
		s.composeValues, s.countCrashes,
	}
	for _, step := range steps {
		if ShuttingDown(ctx) {
			return errShuttingDown
		}
		if err := step(ctx); err != nil {
			return err
		}
	}
	ctx = health.WithChecks(ctx, s.healthChecks)
	facts := s.facts()
	s.action = Decide(facts)
	if s.action.Kind == ActionNothing && !s.action.Stall {
		changes, err := s.detectDrift(ctx)
		if err != nil {
			return err
		}
		facts.Drift = changes
		s.action = Decide(facts)
		s.reportDrift(changes)
	}
	s.decided = true
	crlog.FromContext(ctx).V(1).Info("decided", "action", s.action.Kind, "reason", s.action.Reason, "message", s.action.Message)
	if ShuttingDown(ctx) {
		return errShuttingDown
	}
	return s.carryOut(ctx)
}

// compileHealthChecks compiles spec.healthChecks, once per generation; an expression that does
// not compile stalls the Release until the spec changes.
func (s *session) compileHealthChecks(context.Context) error {
	checks, err := s.r.healthChecks.Compile(string(s.rel.UID), s.rel.Generation, s.rel.Spec.HealthChecks)
	if err != nil {
		return stallErr(capstanv1.HealthCheckInvalidReason, err)
	}
	s.healthChecks = checks
	return nil
}

// carryOut executes the decided action.
func (s *session) carryOut(ctx context.Context) error {
	if s.action.Kind != ActionInstall && s.action.Kind != ActionUpgrade {
		s.r.waits.unhold(client.ObjectKeyFromObject(s.rel))
	}
	switch s.action.Kind {
	case ActionNothing:
		if s.action.Stall {
			return stallErr(s.action.Reason, errors.New(s.action.Message))
		}
		return s.settle(ctx)
	case ActionInstall, ActionUpgrade:
		if err := s.admit(); err != nil {
			return err
		}
		defer s.unreserve()
		return s.release(ctx)
	case ActionRollback:
		return s.manualRollback(ctx)
	case ActionRemediate:
		return s.remediate(ctx)
	case ActionCorrectDrift:
		return s.correctDrift(ctx)
	default:
		return fmt.Errorf("unexpected action %s", s.action.Kind)
	}
}

// facts assembles what Decide looks at.
func (s *session) facts() Facts {
	st := s.rel.Status
	uid := string(s.rel.UID)
	return Facts{
		Desired:  s.desired,
		Last:     recordFacts(lastRecord(s.records), uid),
		Deployed: recordFacts(deployedRecord(s.records), uid),
		LastAttempt: Attempt{Generation: st.LastAttemptedGeneration, ChartVersion: st.LastAttemptedRevision,
			ValuesDigest: st.LastAttemptedValuesDigest, Action: st.LastAttemptedReleaseAction},
		InstallFailures:       st.InstallFailures,
		UpgradeFailures:       st.UpgradeFailures,
		InstallRemediation:    *s.rel.GetInstallRemediation(),
		UpgradeRemediation:    *s.rel.GetUpgradeRemediation(),
		Remediated:            findCondition(s.rel, capstanv1.RemediatedCondition) != nil,
		RollbackTo:            s.rel.GetAnnotations()[capstanv1.RollbackToAnnotation],
		LastHandledRollbackTo: st.LastHandledRollbackTo,
		DriftMode:             s.rel.GetDriftMode(),
	}
}

// checkReferences refuses references to other namespaces unless the manager allows them.
func (s *session) checkReferences(context.Context) error {
	if s.r.Options.AllowCrossNamespaceRefs {
		return nil
	}
	if key := s.rel.GetRepositoryKey(); key.Namespace != s.rel.Namespace {
		return stallf(capstanv1.CrossNamespaceRefDeniedReason,
			"spec.chart.repositoryRef names namespace %s; cross-namespace references are not allowed", key.Namespace)
	}
	for _, key := range s.rel.GetDependencyKeys() {
		if key.Namespace != s.rel.Namespace {
			return stallf(capstanv1.CrossNamespaceRefDeniedReason,
				"spec.dependsOn names Release %s/%s; cross-namespace references are not allowed", key.Namespace, key.Name)
		}
	}
	return nil
}

// connect obtains the Release's client and the store and owner built on it.
func (s *session) connect(ctx context.Context) error {
	c, err := s.r.Clients.ForRelease(ctx, s.rel)
	if err != nil {
		return err
	}
	s.c = c
	s.store = storage.NewStore(c)
	s.owner = releaseOwner(s.rel)
	return nil
}

// connectTarget obtains the client of the cluster the Release's objects go to: the Release's own
// client, or with spec.kubeConfig the remote cluster's, whose kubeconfig Secret is read through
// the Release's own client.
func (s *session) connectTarget(ctx context.Context) error {
	if s.rel.Spec.KubeConfig == nil {
		s.target, s.targetID, s.caps = s.c, s.r.identity(s.rel), s.r.Capabilities
		return nil
	}
	if s.r.Remote == nil {
		return stallErr(capstanv1.KubeConfigInvalidReason, errNoRemoteClusters)
	}
	t, err := s.r.Remote.ForRemote(ctx, s.rel, s.c)
	if err != nil {
		return err
	}
	s.target, s.targetID, s.caps = t.Client, t.Identity, t.Capabilities
	return nil
}

// releaseOwner is the identity of a Release's release for ownership: its storage namespace (the
// Release's namespace) and release name, with objects going to its target namespace.
func releaseOwner(rel *capstanv1.Release) apply.Owner {
	return apply.Owner{Name: rel.GetReleaseName(), Namespace: rel.GetTargetNamespace(), StorageNamespace: rel.GetStorageNamespace()}
}

// loadRecords reads the release's records, refuses a release name another Release owns, and
// recovers revisions left pending by an interrupted reconcile (before waiting on dependencies, so
// that a blocked Release does not keep a pending record that helm would refuse to touch).
func (s *session) loadRecords(ctx context.Context) error {
	if err := s.listRecords(ctx); err != nil {
		return err
	}
	if err := s.checkNameOwner(ctx); err != nil {
		return err
	}
	return s.recoverPending(ctx)
}

func (s *session) listRecords(ctx context.Context) error {
	records, err := s.store.List(ctx, s.rel.GetStorageNamespace(), s.rel.GetReleaseName())
	if err != nil {
		return apiErr(capstanv1.StorageFailedReason, fmt.Errorf("reading the release records: %w", err))
	}
	s.records, s.pruned = records, nil
	return nil
}

// checkNameOwner stalls with ReleaseNameConflict unless this Release owns the release name.
func (s *session) checkNameOwner(ctx context.Context) error {
	list, err := s.r.releasesNamed(ctx, s.rel.Namespace, s.rel.GetReleaseName())
	if err != nil {
		return transientErr(ReasonReconcileFailed, fmt.Errorf("listing Releases: %w", err))
	}
	var candidates []candidate
	for i := range list.Items {
		other := &list.Items[i]
		if other.GetReleaseName() == s.rel.GetReleaseName() {
			candidates = append(candidates, candidate{uid: string(other.UID), name: other.Name, created: other.CreationTimestamp.Unix()})
		}
	}
	if !containsUID(candidates, string(s.rel.UID)) {
		candidates = append(candidates, candidate{uid: string(s.rel.UID), name: s.rel.Name, created: s.rel.CreationTimestamp.Unix()})
	}
	if owner := nameOwner(s.records, candidates); owner != string(s.rel.UID) {
		return stallErr(capstanv1.ReleaseNameConflictReason, errors.New(conflictMessage(s.rel, owner, candidates)))
	}
	return nil
}

// ReleaseNameIndex is the field index of Releases by the release name they manage
// (spec.releaseName, or the Release's name): the manager's cache registers it, so that the
// name-owner check of every reconcile reads the few Releases of one name rather than copying every
// Release of the namespace (at 1,000 Releases in a namespace that copy was a fifth of the
// manager's CPU).
const ReleaseNameIndex = "capstan.dev/release-name"

// releasesNamed returns the Releases of namespace that manage release name, through the
// ReleaseNameIndex; a reader without the index (a plain client in tests) lists the namespace
// and filters. The objects are the cache's own: read them, never change them.
func (r *Reconciler) releasesNamed(ctx context.Context, namespace, name string) (*capstanv1.ReleaseList, error) {
	list := &capstanv1.ReleaseList{}
	err := r.Client.List(ctx, list, client.InNamespace(namespace), client.MatchingFields{ReleaseNameIndex: name},
		client.UnsafeDisableDeepCopy)
	if err == nil {
		return list, nil
	}
	if err := r.Client.List(ctx, list, client.InNamespace(namespace)); err != nil {
		return nil, err
	}
	list.Items = slices.DeleteFunc(list.Items, func(rel capstanv1.Release) bool { return rel.GetReleaseName() != name })
	return list, nil
}

func containsUID(cs []candidate, uid string) bool {
	for _, c := range cs {
		if c.uid == uid {
			return true
		}
	}
	return false
}

// checkDependencies waits until every Release in spec.dependsOn is Ready for its current
// generation, and stalls on a dependency cycle.
func (s *session) checkDependencies(ctx context.Context) error {
	for _, key := range s.rel.GetDependencyKeys() {
		dep := &capstanv1.Release{}
		if err := s.r.Client.Get(ctx, key, dep); err != nil {
			if apierrors.IsNotFound(err) {
				return waitErr(capstanv1.DependencyNotReadyReason, s.r.dependencyRequeue(),
					fmt.Errorf("dependency Release %s does not exist", key))
			}
			return transientErr(capstanv1.DependencyNotReadyReason, fmt.Errorf("reading dependency %s: %w", key, err))
		}
		if cycle, err := s.dependencyCycle(ctx, key); err != nil || cycle {
			if err != nil {
				return err
			}
			return stallf(capstanv1.DependencyNotReadyReason, "spec.dependsOn forms a cycle through Release %s", key)
		}
		if !isReady(dep.Status.Conditions, dep.Generation, dep.Status.ObservedGeneration) {
			return waitErr(capstanv1.DependencyNotReadyReason, s.r.dependencyRequeue(),
				fmt.Errorf("dependency Release %s is not ready", key))
		}
	}
	return nil
}

// isReady reports whether a Ready condition is True for the object's current generation.
func isReady(conds []metav1.Condition, generation, observed int64) bool {
	for _, c := range conds {
		if c.Type == capstanv1.ReadyCondition {
			return c.Status == metav1.ConditionTrue && observed == generation
		}
	}
	return false
}

// event records an event about the Release, if a recorder is configured. It is the one place
// events are emitted, so the note is redacted here.
func (s *session) event(eventType, reason, action, note string) {
	if s.r.Events == nil {
		return
	}
	s.r.Events.Eventf(s.rel, nil, eventType, reason, action, "%s", oneLine(s.red.Redact(note)))
}

// patch writes the status changed so far, so users see progress before long work.
func (s *session) patch(ctx context.Context) {
	if s.patcher == nil {
		return
	}
	redactStatus(s.rel, s.red)
	if err := s.patcher.Patch(ctx, s.rel); err != nil {
		crlog.FromContext(ctx).V(1).Info("could not write progress to status", "error", err.Error())
	}
}

const (
	corev1EventNormal  = "Normal"
	corev1EventWarning = "Warning"
)

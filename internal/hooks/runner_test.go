package hooks_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	"github.com/capstan-dev/capstan/internal/apply"
	"github.com/capstan-dev/capstan/internal/hooks"
)

const hookTimeout = 60 * time.Second

func TestRunner_Run_runsHooksInWeightOrder(t *testing.T) {
	t.Parallel()
	g := NewWithT(t)
	owner := release(t)
	third := jobHook(t, "a-third", `helm.sh/hook: pre-install, helm.sh/hook-weight: "10"`, "", "")
	second := jobHook(t, "c-second", `helm.sh/hook: pre-install, helm.sh/hook-weight: "5"`, "", "")
	first := configMapHook(t, "b-first", `helm.sh/hook: "pre-install,pre-upgrade", helm.sh/hook-weight: "-1"`)
	other := configMapHook(t, "d-post", `helm.sh/hook: post-install`)

	start := time.Now()
	results, err := runner(t, owner).Run(context.Background(), hooks.PreInstall, []hooks.Hook{third, other, second, first}, hookTimeout)
	g.Expect(err).NotTo(HaveOccurred())
	t.Logf("a ConfigMap hook and two Job hooks ran in %s", time.Since(start).Round(time.Millisecond))
	g.Expect(results).To(HaveLen(3))
	for i, want := range []string{"b-first", "c-second", "a-third"} {
		r := results[i]
		g.Expect(r.Name).To(Equal(want))
		g.Expect(r.Ref.Namespace).To(Equal(owner.Namespace), "a hook without a namespace goes to the release's")
		g.Expect(r.LastRun.Phase).To(Equal(hooks.PhaseSucceeded))
		g.Expect(r.LastRun.CompletedAt).NotTo(BeTemporally("<", r.LastRun.StartedAt))
		if i > 0 {
			g.Expect(r.LastRun.StartedAt).NotTo(BeTemporally("<", results[i-1].LastRun.CompletedAt), "one hook at a time")
		}
		g.Expect(r.Deleted).To(BeFalse())
	}
	// Jobs are waited for: by the time the run is over, both have completed.
	for _, h := range []hooks.Hook{second, third} {
		obj, found := live(t, owner, h)
		g.Expect(found).To(BeTrue())
		g.Expect(conditionTrue(obj, "Complete")).To(BeTrue(), h.Name)
		g.Expect(apply.OwnedBy(obj, owner)).To(BeTrue(), "hooks carry Helm's ownership metadata")
		g.Expect(obj.GetManagedFields()[0].Manager).To(Equal("capstan"))
	}
	_, found := live(t, owner, other)
	g.Expect(found).To(BeFalse(), "a hook of another event does not run")
}

func TestRunner_Run_hookSucceededDeletesAfterSuccess(t *testing.T) {
	t.Parallel()
	g := NewWithT(t)
	owner := release(t)
	cleaned := jobHook(t, "cleaned", `helm.sh/hook: post-upgrade, helm.sh/hook-delete-policy: hook-succeeded`, "", "")
	kept := configMapHook(t, "kept", `helm.sh/hook: post-upgrade, helm.sh/hook-delete-policy: hook-failed`)

	results, err := runner(t, owner).Run(context.Background(), hooks.PostUpgrade, []hooks.Hook{cleaned, kept}, hookTimeout)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(results).To(HaveLen(2))
	g.Expect(results[0].Name).To(Equal("cleaned"))
	g.Expect(results[0].LastRun.Phase).To(Equal(hooks.PhaseSucceeded))
	g.Expect(results[0].Deleted).To(BeTrue())
	g.Expect(results[1].Deleted).To(BeFalse())
	_, found := live(t, owner, cleaned)
	g.Expect(found).To(BeFalse())
	_, found = live(t, owner, kept)
	g.Expect(found).To(BeTrue(), "hook-failed does not delete a hook that succeeded")
}

func TestRunner_Run_beforeHookCreationReplacesTheOldObject(t *testing.T) {
	t.Parallel()
	g := NewWithT(t)
	owner := release(t)
	h := jobHook(t, "migrate", `helm.sh/hook: pre-upgrade`, "", "")
	r := runner(t, owner)

	_, err := r.Run(context.Background(), hooks.PreUpgrade, []hooks.Hook{h}, hookTimeout)
	g.Expect(err).NotTo(HaveOccurred())
	old, found := live(t, owner, h)
	g.Expect(found).To(BeTrue(), "the default policy keeps the object until the next run")

	results, err := r.Run(context.Background(), hooks.PreUpgrade, []hooks.Hook{h}, hookTimeout)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(results[0].LastRun.Phase).To(Equal(hooks.PhaseSucceeded))
	renewed, found := live(t, owner, h)
	g.Expect(found).To(BeTrue())
	g.Expect(renewed.GetUID()).NotTo(Equal(old.GetUID()), "the Job was deleted and created again")
	g.Expect(conditionTrue(renewed, "Complete")).To(BeTrue())
}

func TestRunner_Run_leftoverWithoutBeforeHookCreationFails(t *testing.T) {
	t.Parallel()
	g := NewWithT(t)
	owner := release(t)
	h := configMapHook(t, "leftover", `helm.sh/hook: pre-install, helm.sh/hook-delete-policy: hook-failed`)
	_, err := runner(t, owner).Run(context.Background(), hooks.PreInstall, []hooks.Hook{h}, hookTimeout)
	g.Expect(err).NotTo(HaveOccurred())

	results, err := runner(t, owner).Run(context.Background(), hooks.PreInstall, []hooks.Hook{h}, hookTimeout)
	var hookErr *hooks.Error
	g.Expect(errors.As(err, &hookErr)).To(BeTrue(), "got %v", err)
	g.Expect(hookErr.Reason).To(Equal(hooks.ReasonCreateFailed))
	g.Expect(apierrors.IsAlreadyExists(err)).To(BeTrue())
	g.Expect(results[0].LastRun.Phase).To(Equal(hooks.PhaseFailed))
	_, found := live(t, owner, h)
	g.Expect(found).To(BeTrue(), "hook-failed deletes only an object this run created")
}

func TestRunner_Run_failingHookStopsTheRun(t *testing.T) {
	t.Parallel()
	g := NewWithT(t)
	owner := release(t)
	before := jobHook(t, "before", `helm.sh/hook: pre-upgrade, helm.sh/hook-weight: "-1", helm.sh/hook-delete-policy: hook-succeeded`, "", "")
	// kwok completes every Job pod it runs, so this Job fails the only way it can: its pod is never
	// scheduled and its one-second deadline passes.
	doomed := jobHook(t, "doomed", `helm.sh/hook: pre-upgrade, helm.sh/hook-delete-policy: hook-failed`, "activeDeadlineSeconds: 1", nowhere)
	after := configMapHook(t, "after", `helm.sh/hook: pre-upgrade, helm.sh/hook-weight: "1"`)

	start := time.Now()
	results, err := runner(t, owner).Run(context.Background(), hooks.PreUpgrade, []hooks.Hook{after, doomed, before}, hookTimeout)
	t.Logf("the run failed after %s: %v", time.Since(start).Round(time.Millisecond), err)
	var hookErr *hooks.Error
	g.Expect(errors.As(err, &hookErr)).To(BeTrue(), "got %v", err)
	g.Expect(hookErr.Hook).To(Equal("doomed"))
	g.Expect(hookErr.Event).To(Equal(hooks.PreUpgrade))
	g.Expect(hookErr.Reason).To(Equal(hooks.ReasonFailed))
	g.Expect(err.Error()).To(HavePrefix("pre-upgrade hook Job/" + owner.Namespace + "/doomed failed: HookFailed: job failed: DeadlineExceeded"))

	g.Expect(results).To(HaveLen(2), "the hook after the failing one never started")
	g.Expect(results[0].LastRun.Phase).To(Equal(hooks.PhaseSucceeded))
	g.Expect(results[0].Deleted).To(BeTrue(), "hooks that succeeded are cleaned up by their policy even when a later one fails")
	g.Expect(results[1].LastRun.Phase).To(Equal(hooks.PhaseFailed))
	g.Expect(results[1].Deleted).To(BeTrue(), "hook-failed deletes the failed hook")
	for _, h := range []hooks.Hook{before, doomed, after} {
		_, found := live(t, owner, h)
		g.Expect(found).To(BeFalse(), h.Name)
	}
}

func TestRunner_Run_failedPreUpgradeHookChangesNothingElse(t *testing.T) {
	t.Parallel()
	g := NewWithT(t)
	owner := release(t)
	ctx := context.Background()
	applier := apply.New(kube(t), owner, apply.Options{})
	v1 := releaseConfig(owner, "v1")
	g.Expect(applier.Prepare(v1)).To(Succeed())
	_, err := applier.Apply(ctx, v1)
	g.Expect(err).NotTo(HaveOccurred())
	before := liveConfig(t, owner)

	// An upgrade runs its pre-upgrade hooks first and applies the new revision only if they pass.
	stuck := hookOf(t, `
apiVersion: v1
kind: Pod
metadata:
  name: check
  annotations: {helm.sh/hook: pre-upgrade}
spec:
  nodeSelector: {`+nowhere+`}
  containers: [{name: c, image: example.invalid/check}]`)
	results, err := runner(t, owner).Run(ctx, hooks.PreUpgrade, []hooks.Hook{stuck}, 3*time.Second)
	if err == nil {
		v2 := releaseConfig(owner, "v2")
		g.Expect(applier.Prepare(v2)).To(Succeed())
		_, err = applier.Apply(ctx, v2)
		g.Expect(err).NotTo(HaveOccurred())
	}

	var hookErr *hooks.Error
	g.Expect(errors.As(err, &hookErr)).To(BeTrue(), "got %v", err)
	g.Expect(hookErr.Reason).To(Equal(hooks.ReasonTimeout))
	g.Expect(errors.Is(err, context.DeadlineExceeded)).To(BeTrue())
	g.Expect(hookErr.Message).To(Equal("did not finish within 3s (last seen: pod pending)"))
	g.Expect(results[0].LastRun.Phase).To(Equal(hooks.PhaseFailed))
	after := liveConfig(t, owner)
	g.Expect(after.GetResourceVersion()).To(Equal(before.GetResourceVersion()), "the release's objects were not touched")
	g.Expect(after.Object["data"]).To(Equal(map[string]any{"version": "v1"}))
}

func TestRunner_Run_podHookSucceedsWhenItsPodDoes(t *testing.T) {
	t.Parallel()
	g := NewWithT(t)
	owner := release(t)
	h := hookOf(t, `
apiVersion: v1
kind: Pod
metadata:
  name: smoke
  annotations: {helm.sh/hook: test-success, helm.sh/hook-delete-policy: "before-hook-creation,hook-succeeded"}
spec:
  restartPolicy: Never
  containers: [{name: c, image: example.invalid/smoke}]`)
	// kwok keeps a Pod that no Job owns Running forever; play the kubelet and end it.
	c := kube(t)
	go func() { _ = finishPod(context.Background(), c, owner.Namespace, "smoke") }()
	results, err := runner(t, owner).Run(context.Background(), hooks.Test, []hooks.Hook{h}, hookTimeout)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(results).To(HaveLen(1))
	g.Expect(results[0].LastRun.Phase).To(Equal(hooks.PhaseSucceeded))
	g.Expect(results[0].Deleted).To(BeTrue())
}

func TestRunner_Run_jobDeletedByItsTTLRightAfterCompletingSucceeds(t *testing.T) {
	t.Parallel()
	g := NewWithT(t)
	owner := release(t)
	h := jobHook(t, "ephemeral", `helm.sh/hook: post-install`, "ttlSecondsAfterFinished: 0", "")
	results, err := runner(t, owner).Run(context.Background(), hooks.PostInstall, []hooks.Hook{h}, hookTimeout)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(results[0].LastRun.Phase).To(Equal(hooks.PhaseSucceeded))
	g.Eventually(func() bool {
		_, found := live(t, owner, h)
		return found
	}).WithTimeout(30*time.Second).Should(BeFalse(), "the TTL controller deletes the Job")
}

func TestRunner_Run_cancelAbandonsTheRunPromptly(t *testing.T) {
	t.Parallel()
	g := NewWithT(t)
	owner := release(t)
	h := jobHook(t, "waiting", `helm.sh/hook: pre-rollback, helm.sh/hook-delete-policy: hook-failed`, "", nowhere)
	ctx, cancel := context.WithCancel(context.Background())
	type outcome struct {
		results []hooks.Result
		err     error
	}
	done := make(chan outcome, 1)
	r := runner(t, owner)
	go func() {
		results, err := r.Run(ctx, hooks.PreRollback, []hooks.Hook{h}, time.Hour)
		done <- outcome{results, err}
	}()
	g.Eventually(func() bool {
		_, found := live(t, owner, h)
		return found
	}).WithTimeout(30 * time.Second).Should(BeTrue())
	cancelled := time.Now()
	cancel()
	var out outcome
	g.Eventually(done).WithTimeout(time.Second).Should(Receive(&out))
	g.Expect(time.Since(cancelled)).To(BeNumerically("<", time.Second))
	var hookErr *hooks.Error
	g.Expect(errors.As(out.err, &hookErr)).To(BeTrue(), "got %v", out.err)
	g.Expect(hookErr.Reason).To(Equal(hooks.ReasonCanceled))
	g.Expect(errors.Is(out.err, context.Canceled)).To(BeTrue())
	g.Expect(out.results[0].LastRun.Phase).To(Equal(hooks.PhaseUnknown))
	_, found := live(t, owner, h)
	g.Expect(found).To(BeTrue(), "an abandoned run deletes nothing")
}

func TestRunner_Run_refusesToReplaceAnotherReleasesObject(t *testing.T) {
	t.Parallel()
	g := NewWithT(t)
	owner := release(t)
	h := configMapHook(t, "shared", `helm.sh/hook: pre-install`)
	theirs := h.Object.DeepCopy()
	theirs.SetNamespace(owner.Namespace)
	apply.SetOwnership(theirs, apply.Owner{Name: "other", Namespace: owner.Namespace})
	g.Expect(kube(t).Create(context.Background(), theirs)).To(Succeed())

	_, err := runner(t, owner).Run(context.Background(), hooks.PreInstall, []hooks.Hook{h}, hookTimeout)
	var hookErr *hooks.Error
	g.Expect(errors.As(err, &hookErr)).To(BeTrue(), "got %v", err)
	g.Expect(hookErr.Reason).To(Equal(hooks.ReasonDeleteFailed))
	g.Expect(err.Error()).To(ContainSubstring("belongs to release " + owner.Namespace + "/other"))
	obj, found := live(t, owner, h)
	g.Expect(found).To(BeTrue())
	g.Expect(obj.GetUID()).To(Equal(theirs.GetUID()))
}

func TestRunner_Run_refusesTheSameReleaseNameStoredElsewhere(t *testing.T) {
	t.Parallel()
	g := NewWithT(t)
	owner := release(t)
	owner.StorageNamespace = "team-a"
	h := configMapHook(t, "shared", `helm.sh/hook: pre-install`)
	theirs := h.Object.DeepCopy()
	theirs.SetNamespace(owner.Namespace)
	apply.SetOwnership(theirs, apply.Owner{Name: owner.Name, Namespace: owner.Namespace, StorageNamespace: "team-b"})
	g.Expect(kube(t).Create(context.Background(), theirs)).To(Succeed())

	_, err := runner(t, owner).Run(context.Background(), hooks.PreInstall, []hooks.Hook{h}, hookTimeout)
	g.Expect(err).To(MatchError(ContainSubstring("belongs to release team-b/" + owner.Name)))
	obj, found := live(t, owner, h)
	g.Expect(found).To(BeTrue())
	g.Expect(obj.GetUID()).To(Equal(theirs.GetUID()))
}

func TestRunner_Delete(t *testing.T) {
	t.Parallel()
	g := NewWithT(t)
	owner := release(t)
	r := runner(t, owner)
	leftover := configMapHook(t, "leftover", `helm.sh/hook: post-install`)
	keep := configMapHook(t, "keep", `helm.sh/hook: post-install, helm.sh/resource-policy: keep`)
	never := configMapHook(t, "never-ran", `helm.sh/hook: pre-delete`)
	_, err := r.Run(context.Background(), hooks.PostInstall, []hooks.Hook{leftover, keep}, hookTimeout)
	g.Expect(err).NotTo(HaveOccurred())

	deleted, err := r.Delete(context.Background(), []hooks.Hook{leftover, keep, never}, hookTimeout)
	g.Expect(err).NotTo(HaveOccurred())
	names := []string{}
	for _, ref := range deleted {
		names = append(names, ref.Name)
	}
	g.Expect(names).To(Equal([]string{"leftover", "never-ran"}))
	_, found := live(t, owner, leftover)
	g.Expect(found).To(BeFalse())
	_, found = live(t, owner, keep)
	g.Expect(found).To(BeTrue())
}

func conditionTrue(u *unstructured.Unstructured, t string) bool {
	list, _, _ := unstructured.NestedSlice(u.Object, "status", "conditions")
	for _, item := range list {
		if c, ok := item.(map[string]any); ok && c["type"] == t && c["status"] == "True" {
			return true
		}
	}
	return false
}

func TestRunner_Run_crdHooksAreAppliedAndNeverDeleted(t *testing.T) {
	t.Parallel()
	g := NewWithT(t)
	owner := release(t)
	group := owner.Namespace + ".example.com"
	crd := hookOf(t, `
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.`+group+`
  annotations: {helm.sh/hook: pre-install, helm.sh/hook-delete-policy: "before-hook-creation,hook-succeeded"}
spec:
  group: `+group+`
  scope: Namespaced
  names: {plural: widgets, singular: widget, kind: Widget, listKind: WidgetList}
  versions:
  - name: v1
    served: true
    storage: true
    schema: {openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}}`)
	r := runner(t, owner)
	for range 2 {
		results, err := r.Run(context.Background(), hooks.PreInstall, []hooks.Hook{crd}, hookTimeout)
		g.Expect(err).NotTo(HaveOccurred(), "a second run applies the CRD again instead of failing to create it")
		g.Expect(results[0].LastRun.Phase).To(Equal(hooks.PhaseSucceeded))
		g.Expect(results[0].Ref.Namespace).To(BeEmpty(), "a cluster-scoped hook gets no namespace")
		g.Expect(results[0].Deleted).To(BeFalse())
	}
	obj := &unstructured.Unstructured{}
	obj.SetGroupVersionKind(crd.Object.GroupVersionKind())
	g.Expect(kube(t).Get(context.Background(), client.ObjectKey{Name: crd.Name}, obj)).To(Succeed(), "CRDs are never deleted")
	g.Expect(kube(t).Delete(context.Background(), obj)).To(Succeed())
}

// probeLogs reads pod logs through the cluster's pods/log subresource, as the controller's
// Release clients do, and remembers what the server answered.
type probeLogs struct {
	cs     kubernetes.Interface
	mu     sync.Mutex
	called bool
	err    error
}

func (p *probeLogs) TailLogs(ctx context.Context, ns, pod, container string, lines, limitBytes int64) ([]byte, error) {
	data, err := p.cs.CoreV1().Pods(ns).GetLogs(pod, &corev1.PodLogOptions{Container: container, TailLines: &lines, LimitBytes: &limitBytes}).DoRaw(ctx)
	p.mu.Lock()
	defer p.mu.Unlock()
	p.called, p.err = true, err
	return data, err
}

// TestRunner_Run_outputLogPolicyOnKwok runs a Job hook with helm.sh/hook-output-log-policy on kwok.
// kwok runs no containers and its nodes serve no kubelet API, so the pods/log subresource cannot
// serve a log: the hook still succeeds, with no log reported. (TestRunner_Run_failedPodHookReportsItsLog
// checks the log reporting itself against a fake that serves logs.)
func TestRunner_Run_outputLogPolicyOnKwok(t *testing.T) {
	t.Parallel()
	g := NewWithT(t)
	owner := release(t)
	h := jobHook(t, "logged", `helm.sh/hook: post-install, helm.sh/hook-output-log-policy: "hook-succeeded,hook-failed"`, "", "")
	logs := &probeLogs{cs: kubernetes.NewForConfigOrDie(cluster.Config(t))}
	r := hooks.NewRunner(kube(t), owner, hooks.Options{Interval: 100 * time.Millisecond, Logs: logs})
	results, err := r.Run(context.Background(), hooks.PostInstall, []hooks.Hook{h}, hookTimeout)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(results).To(HaveLen(1))
	logs.mu.Lock()
	defer logs.mu.Unlock()
	g.Expect(logs.called).To(BeTrue(), "the log of the Job's pod was asked for")
	if logs.err == nil {
		g.Expect(results[0].Logs).To(HavePrefix("last log lines of pod logged-"), "the cluster served a log")
		return
	}
	t.Logf("kwok's answer to pods/log: %v", logs.err)
	g.Expect(results[0].Logs).To(BeEmpty(), "a log that cannot be read is not reported")
}

// TestRunner_Run_hookTimeoutAnnotationShortensTheWait runs a Pod hook that kwok never schedules
// with the Release's timeout of a minute and capstan.dev/hook-timeout: 2s: the hook times out
// after its own two seconds, and the log of its pod is asked for.
func TestRunner_Run_hookTimeoutAnnotationShortensTheWait(t *testing.T) {
	t.Parallel()
	g := NewWithT(t)
	owner := release(t)
	stuck := hookOf(t, `
apiVersion: v1
kind: Pod
metadata:
  name: stuck
  annotations: {helm.sh/hook: pre-install, capstan.dev/hook-timeout: 2s}
spec:
  nodeSelector: {`+nowhere+`}
  containers: [{name: c, image: example.invalid/check}]`)
	logs := &probeLogs{cs: kubernetes.NewForConfigOrDie(cluster.Config(t))}
	r := hooks.NewRunner(kube(t), owner, hooks.Options{Interval: 100 * time.Millisecond, Logs: logs})
	start := time.Now()
	results, err := r.Run(context.Background(), hooks.PreInstall, []hooks.Hook{stuck}, time.Minute)
	took := time.Since(start)
	t.Logf("the hook timed out after %s: %v", took.Round(time.Millisecond), err)
	var hookErr *hooks.Error
	g.Expect(errors.As(err, &hookErr)).To(BeTrue(), "got %v", err)
	g.Expect(hookErr.Reason).To(Equal(hooks.ReasonTimeout))
	g.Expect(hookErr.Message).To(Equal("did not finish within 2s (last seen: pod pending)"))
	g.Expect(errors.Is(err, context.DeadlineExceeded)).To(BeTrue())
	g.Expect(took).To(BeNumerically("<", 20*time.Second), "the hook's own 2s, not the Release's minute")
	g.Expect(results[0].LastRun.Phase).To(Equal(hooks.PhaseFailed))
	logs.mu.Lock()
	defer logs.mu.Unlock()
	g.Expect(logs.called).To(BeTrue(), "a timed-out hook's log is asked for without any output-log policy")
	t.Logf("the API server's answer for the unscheduled pod's log: %v", logs.err)
}

// TestRunner_Run_invalidHookTimeoutFailsBeforeAnyHookRuns gives the second hook of an event a
// timeout that is not a Go duration: the run fails naming that hook and the annotation, and not
// even the first hook's object is created.
func TestRunner_Run_invalidHookTimeoutFailsBeforeAnyHookRuns(t *testing.T) {
	t.Parallel()
	g := NewWithT(t)
	owner := release(t)
	first := configMapHook(t, "first", `helm.sh/hook: pre-install, helm.sh/hook-weight: "-1"`)
	typo := jobHook(t, "migrate", `helm.sh/hook: pre-install, capstan.dev/hook-timeout: "30 seconds"`, "", "")
	results, err := runner(t, owner).Run(context.Background(), hooks.PreInstall, []hooks.Hook{typo, first}, hookTimeout)
	g.Expect(err).To(MatchError("pre-install hook Job/" + owner.Namespace + "/migrate failed: HookInvalid: " +
		`the capstan.dev/hook-timeout annotation "30 seconds" is not a positive duration such as "30s" or "5m"`))
	g.Expect(errors.Is(err, hooks.ErrInvalidTimeout)).To(BeTrue())
	g.Expect(results).To(HaveLen(1))
	g.Expect(results[0].Name).To(Equal("migrate"))
	g.Expect(results[0].LastRun.Phase).To(Equal(hooks.PhaseFailed))
	for _, h := range []hooks.Hook{first, typo} {
		_, found := live(t, owner, h)
		g.Expect(found).To(BeFalse(), h.Name)
	}
}

// TestRunner_Run_leftoverFailedHookIsCleanedOnTheNextRun leaves a failed hook's object behind —
// its hook-failed deletion refused by the API server, or no policy deleting it — and runs the
// hook again: the next run deletes the leftover as its delete policy says before it creates the
// object again, so the hook runs (and here fails again, for its own reason) instead of failing
// with AlreadyExists.
func TestRunner_Run_leftoverFailedHookIsCleanedOnTheNextRun(t *testing.T) {
	t.Parallel()
	doomedPod := func(t *testing.T, policy string) hooks.Hook {
		return hookOf(t, `
apiVersion: v1
kind: Pod
metadata:
  name: stuck
  annotations: {helm.sh/hook: pre-upgrade, helm.sh/hook-delete-policy: "`+policy+`", capstan.dev/hook-timeout: 2s}
spec:
  nodeSelector: {`+nowhere+`}
  containers: [{name: c, image: example.invalid/check}]`)
	}
	for name, tc := range map[string]struct {
		hook         func(t *testing.T) hooks.Hook
		refuseDelete bool   // the first run's hook-failed deletion is refused
		wantReason   string // of the second run
		wantDeleted  bool   // by the second run's policy
	}{
		"a failed Job whose hook-failed deletion was refused": {
			hook: func(t *testing.T) hooks.Hook {
				return jobHook(t, "doomed", `helm.sh/hook: pre-upgrade, helm.sh/hook-delete-policy: hook-failed`, "activeDeadlineSeconds: 1", nowhere)
			},
			refuseDelete: true, wantReason: hooks.ReasonFailed, wantDeleted: true,
		},
		"a timed-out Pod whose hook-failed deletion was refused": {
			hook:         func(t *testing.T) hooks.Hook { return doomedPod(t, "hook-failed") },
			refuseDelete: true, wantReason: hooks.ReasonTimeout, wantDeleted: true,
		},
		"a failed Job with the default before-hook-creation": {
			hook: func(t *testing.T) hooks.Hook {
				return jobHook(t, "doomed", `helm.sh/hook: pre-upgrade`, "activeDeadlineSeconds: 1", nowhere)
			},
			wantReason: hooks.ReasonFailed,
		},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			g := NewWithT(t)
			owner := release(t)
			h := tc.hook(t)
			first := runner(t, owner)
			if tc.refuseDelete {
				refusing := interceptor.NewClient(kube(t), interceptor.Funcs{
					Delete: func(context.Context, client.WithWatch, client.Object, ...client.DeleteOption) error {
						return apierrors.NewServiceUnavailable("the API server is overloaded")
					}})
				first = hooks.NewRunner(refusing, owner, hooks.Options{Interval: 100 * time.Millisecond})
			}
			_, err := first.Run(context.Background(), hooks.PreUpgrade, []hooks.Hook{h}, hookTimeout)
			var cleanupErr *hooks.CleanupError
			g.Expect(errors.As(err, &cleanupErr)).To(Equal(tc.refuseDelete), "got %v", err)
			old, found := live(t, owner, h)
			g.Expect(found).To(BeTrue(), "the first run left its failed object behind")

			results, err := runner(t, owner).Run(context.Background(), hooks.PreUpgrade, []hooks.Hook{h}, hookTimeout)
			t.Logf("the second run: %v", err)
			var hookErr *hooks.Error
			g.Expect(errors.As(err, &hookErr)).To(BeTrue(), "got %v", err)
			g.Expect(hookErr.Reason).To(Equal(tc.wantReason), "the hook ran again instead of failing with AlreadyExists")
			g.Expect(results[0].Deleted).To(Equal(tc.wantDeleted))
			renewed, found := live(t, owner, h)
			if tc.wantDeleted {
				g.Expect(found).To(BeFalse())
				return
			}
			g.Expect(found).To(BeTrue())
			g.Expect(renewed.GetUID()).NotTo(Equal(old.GetUID()), "the leftover was replaced")
		})
	}
}

// TestRunner_Run_leftoverOfAnotherReleaseStays checks the other side of the leftover cleanup: an
// object of another release is never deleted, whatever the hook's policies, and the create fails
// with AlreadyExists. (A leftover of this release that no policy removes stays too:
// TestRunner_Run_leftoverWithoutBeforeHookCreationFails.)
func TestRunner_Run_leftoverOfAnotherReleaseStays(t *testing.T) {
	t.Parallel()
	g := NewWithT(t)
	owner := release(t)
	h := configMapHook(t, "shared", `helm.sh/hook: pre-install, helm.sh/hook-delete-policy: "hook-failed,hook-succeeded"`)
	theirs := h.Object.DeepCopy()
	theirs.SetNamespace(owner.Namespace)
	apply.SetOwnership(theirs, apply.Owner{Name: "other", Namespace: owner.Namespace})
	g.Expect(kube(t).Create(context.Background(), theirs)).To(Succeed())

	_, err := runner(t, owner).Run(context.Background(), hooks.PreInstall, []hooks.Hook{h}, hookTimeout)
	var hookErr *hooks.Error
	g.Expect(errors.As(err, &hookErr)).To(BeTrue(), "got %v", err)
	g.Expect(hookErr.Reason).To(Equal(hooks.ReasonCreateFailed))
	g.Expect(apierrors.IsAlreadyExists(err)).To(BeTrue())
	obj, found := live(t, owner, h)
	g.Expect(found).To(BeTrue())
	g.Expect(obj.GetUID()).To(Equal(theirs.GetUID()))
}

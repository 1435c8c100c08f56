package operations

import (
	"slices"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
	"sigs.k8s.io/controller-runtime/pkg/client"

	capstanv1 "github.com/capstan-dev/capstan/api/v1alpha1"
	"github.com/capstan-dev/capstan/internal/storage"
	"github.com/capstan-dev/capstan/internal/testsupport"
)

var _ = Describe("Chart hooks", func() {
	It("run in weight order, honour their delete policies, and a failing pre-upgrade hook stops the upgrade with nothing else changed", func(ctx SpecContext) {
		const name = "jobs"
		ns := newNamespace(ctx, "hooks")
		seenObjects := recordEvents(ctx, ns, map[string]client.ObjectList{
			"ConfigMap": &corev1.ConfigMapList{}, "Job": &batchv1.JobList{},
		})
		// lifecycle keeps creations and deletions of the release's objects, and changes of its
		// ConfigMaps (a Job's status changes as it runs; a ConfigMap only changes when written).
		lifecycle := func(after int64) []string {
			var out []string
			for _, e := range seenObjects.Events(func(e seen) bool {
				return e.RV > after && strings.HasPrefix(e.Name, name+"-") && (e.Type != watch.Modified || e.Kind == "ConfigMap")
			}) {
				out = append(out, e.String())
			}
			return out
		}

		By("installing: pre-install hooks by weight then name, the manifest, then post-install hooks")
		rel := testsupport.MakeRelease(name, ns).Chart(repoName, "hooked", "1.0.0").
			Upgrade(capstanv1.Upgrade{Remediation: &capstanv1.Remediation{Strategy: capstanv1.RemediationNone}}).Obj()
		Expect(k8sClient.Create(ctx, rel)).To(Succeed())
		expectReadyAt(ctx, ns, name, 1)
		Eventually(func() []string { return lifecycle(0) }).WithContext(ctx).WithTimeout(5 * time.Second).Should(Equal([]string{
			"ADDED Job/jobs-migrate",      // weight -5
			"ADDED ConfigMap/jobs-marker", // weight 0 (none given)
			"ADDED ConfigMap/jobs-tie-a",  // weight 3, name a
			"ADDED ConfigMap/jobs-tie-b",  // weight 3, name b
			"ADDED Job/jobs-seed",         // weight 5
			"DELETED Job/jobs-migrate",    // hook-succeeded, once the pre-install hooks succeeded
			"ADDED ConfigMap/jobs-config", // the release's manifest
			"ADDED Job/jobs-notify",       // post-install
			"DELETED Job/jobs-notify",     // hook-succeeded
		}))
		seed := &batchv1.Job{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name + "-seed"}}
		Expect(exists(ctx, seed)).To(BeTrue(), "a hook with only before-hook-creation stays after it ran")
		Expect(jobComplete(seed)).To(BeTrue(), "kwok ran the hook Job to completion")
		Expect(hookRuns(record(ctx, ns, name, 1))).To(Equal([]string{
			"jobs-migrate=Succeeded", "jobs-marker=Succeeded", "jobs-tie-a=Succeeded", "jobs-tie-b=Succeeded",
			"jobs-seed=Succeeded", "jobs-notify=Succeeded",
		}), "the revision records each hook's run, in the order the runs started")

		By("upgrading: before-hook-creation replaces the hooks left by the install")
		mark := clusterRV(ctx, ns)
		update(ctx, ns, name, func(r *capstanv1.Release) { r.Spec.Values = appValues(map[string]any{"message": "second"}) })
		expectReadyAt(ctx, ns, name, 2)
		Eventually(func() []string { return lifecycle(mark) }).WithContext(ctx).WithTimeout(5 * time.Second).Should(Equal([]string{
			"ADDED Job/jobs-migrate",
			"DELETED ConfigMap/jobs-marker", "ADDED ConfigMap/jobs-marker",
			"DELETED ConfigMap/jobs-tie-a", "ADDED ConfigMap/jobs-tie-a",
			"DELETED ConfigMap/jobs-tie-b", "ADDED ConfigMap/jobs-tie-b",
			"DELETED Job/jobs-seed", "ADDED Job/jobs-seed",
			"DELETED Job/jobs-migrate",
			"MODIFIED ConfigMap/jobs-config",
			"ADDED Job/jobs-notify", "DELETED Job/jobs-notify",
		}))
		config, _ := configMap(ctx, ns, name+"-config")
		Expect(config.Data).To(Equal(map[string]string{"message": "second"}))

		By("upgrading with a pre-upgrade hook that fails")
		mark = clusterRV(ctx, ns)
		update(ctx, ns, name, func(r *capstanv1.Release) {
			r.Spec.Values = appValues(map[string]any{"message": "third", "failUpgrade": true})
		})
		var failed *capstanv1.Release
		Eventually(func(g Gomega) {
			failed = getRelease(g, ctx, ns, name)
			g.Expect(condition(failed, capstanv1.StalledCondition).Reason).To(Equal(capstanv1.RetriesExhaustedReason))
			g.Expect(failed.Status.ObservedGeneration).To(Equal(failed.Generation))
		}).WithContext(ctx).Should(Succeed())
		released := condition(failed, capstanv1.ReleasedCondition)
		AddReportEntry("Released message after the failing hook", released.Message)
		Expect(released.Status).To(Equal(metav1.ConditionFalse))
		Expect(released.Reason).To(Equal(capstanv1.UpgradeFailedReason))
		Expect(released.Message).To(And(ContainSubstring("pre-upgrade"), ContainSubstring("Job/"+ns+"/jobs-doomed"),
			ContainSubstring("DeadlineExceeded")))
		Expect(records(ctx, ns, name)).To(Equal([]string{"v1=superseded", "v2=deployed", "v3=failed"}))
		Expect(hookRuns(record(ctx, ns, name, 3))).To(Equal([]string{
			"jobs-migrate=Succeeded", "jobs-marker=Succeeded", "jobs-tie-a=Succeeded", "jobs-tie-b=Succeeded",
			"jobs-seed=Succeeded", "jobs-doomed=Failed",
		}), "the post-upgrade hook never ran")

		stalledAt := clusterRV(ctx, ns)
		events := lifecycle(mark)
		Expect(added(events)).To(Equal([]string{"Job/jobs-migrate", "ConfigMap/jobs-marker", "ConfigMap/jobs-tie-a",
			"ConfigMap/jobs-tie-b", "Job/jobs-seed", "Job/jobs-doomed"}), "the hooks ran up to the failing one, and nothing after it")
		Expect(events).To(ContainElements("DELETED Job/jobs-doomed", "DELETED Job/jobs-migrate"),
			"hook-failed removes the failed hook, hook-succeeded the hooks that succeeded before it")
		Expect(events).NotTo(ContainElement(ContainSubstring("jobs-config")), "the release's own objects were not touched")
		config, _ = configMap(ctx, ns, name+"-config")
		Expect(config.Data).To(Equal(map[string]string{"message": "second"}))
		Consistently(func() []string { return lifecycle(stalledAt) }).WithContext(ctx).
			WithTimeout(3*time.Second).Should(BeEmpty(), "the stalled Release writes nothing more")
		Expect(seenObjects.Closed()).To(BeEmpty(), "the watches saw every event")
	})
})

// jobComplete reports whether a Job has Complete=True.
func jobComplete(job *batchv1.Job) bool {
	return slices.ContainsFunc(job.Status.Conditions, func(c batchv1.JobCondition) bool {
		return c.Type == batchv1.JobComplete && c.Status == corev1.ConditionTrue
	})
}

// hookRuns lists a revision's hooks that ran as "name=phase", ordered by when they started.
func hookRuns(rec *storage.Release) []string {
	hooks := slices.Clone(rec.Hooks)
	hooks = slices.DeleteFunc(hooks, func(h *storage.Hook) bool { return h.LastRun.StartedAt.IsZero() })
	slices.SortStableFunc(hooks, func(a, b *storage.Hook) int { return a.LastRun.StartedAt.Compare(b.LastRun.StartedAt) })
	out := make([]string, 0, len(hooks))
	for _, h := range hooks {
		out = append(out, h.Name+"="+string(h.LastRun.Phase))
	}
	return out
}

// added keeps the objects of the ADDED events, in order.
func added(events []string) []string {
	var out []string
	for _, e := range events {
		if obj, ok := strings.CutPrefix(e, string(watch.Added)+" "); ok {
			out = append(out, obj)
		}
	}
	return out
}

package e2e

import (
	"context"
	"os"
	"path/filepath"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	capstanv1 "github.com/capstan-dev/capstan/api/v1alpha1"
)

// patchedRelease is the Release of config/samples/capstan_v1alpha1_release_postrender.yaml; the
// hello chart names its objects after it.
const patchedRelease = "hello-patched"

// samplePostRender is the sample as a user would apply it, with the repository it names.
func samplePostRender() string {
	sample, err := os.ReadFile(filepath.Join(repoRoot, "config", "samples", "capstan_v1alpha1_release_postrender.yaml"))
	Expect(err).NotTo(HaveOccurred())
	return examplesRepository() + string(sample)
}

// The user story of issue 15's post-render patches and custom health: the sample Release with
// kustomize patches, an image override and common metadata, applied with kubectl on the kwok
// cluster; then a CEL health check that fails an upgrade at once, and one that lets the next
// upgrade through.
var _ = Describe("A user shaping what a release applies", Ordered, ContinueOnFailure, func() {
	var ns string
	inStoryNamespace(&ns)

	It("applies the post-render sample and gets the patched, relabelled objects running on kwok", func(ctx SpecContext) {
		start := time.Now()
		apply(ctx, ns, samplePostRender())
		Expect(kubectlWait(ctx, ns, "release/"+patchedRelease, "condition=Ready", 2*time.Minute)).To(Succeed())
		timeStep("post-render sample: kubectl apply to Ready", start)

		var d appsv1.Deployment
		Expect(k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: patchedRelease}, &d)).To(Succeed())
		Expect(d.Spec.RevisionHistoryLimit).To(HaveValue(Equal(int32(3))), "the strategic-merge patch")
		Expect(d.Spec.Template.Annotations).To(HaveKeyWithValue("example.com/patched-by", "capstan"))
		Expect(d.Spec.Template.Spec.Containers[0].Image).To(HavePrefix("registry.example.com/mirror/hello:"), "the image override")
		Expect(configMapData(ctx, ns, patchedRelease, "patched")).To(Equal("true"), "the JSON 6902 patch chosen by label selector")

		var cm corev1.ConfigMap
		Expect(k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: patchedRelease}, &cm)).To(Succeed())
		var svc corev1.Service
		Expect(k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: patchedRelease}, &svc)).To(Succeed())
		for _, meta := range []metav1.ObjectMeta{d.ObjectMeta, cm.ObjectMeta, svc.ObjectMeta} {
			Expect(meta.Labels).To(HaveKeyWithValue("example.com/team", "platform"), meta.Name)
			Expect(meta.Annotations).To(HaveKeyWithValue("example.com/owner", "platform@example.com"), meta.Name)
			Expect(meta.Annotations).To(HaveKeyWithValue("meta.helm.sh/release-name", patchedRelease),
				"ownership metadata is added after the patches")
		}
		pods := expectDeploymentRunning(ctx, ns, patchedRelease, 1)
		Expect(pods[0].Spec.Containers[0].Image).To(HavePrefix("registry.example.com/mirror/hello:"))
		Expect(pods[0].Annotations).To(HaveKeyWithValue("example.com/patched-by", "capstan"))
	})

	It("fails an upgrade as soon as a CEL health check says failed, long before the timeout", func(ctx SpecContext) {
		start := time.Now()
		patch := `{"spec":{"timeout":"5m","upgrade":{"remediation":{"retries":0}},` +
			`"values":{"podAnnotations":{"example.com/canary":"broken"}},` +
			`"healthChecks":[{"group":"apps","kind":"Deployment",` +
			`"current":"has(status.availableReplicas) && status.availableReplicas == spec.replicas",` +
			`"failed":"has(spec.template.metadata.annotations) && 'example.com/canary' in spec.template.metadata.annotations` +
			` && spec.template.metadata.annotations['example.com/canary'] == 'broken'"}]}}`
		_, stderr, err := kubectl(ctx, "patch", "release", patchedRelease, "-n", ns, "--type=merge", "-p", patch)
		Expect(err).NotTo(HaveOccurred(), stderr)
		Eventually(func(g Gomega) {
			// With no retries, the failed upgrade is rolled back (the default remediation) and
			// the Release stalls; Released keeps what failed.
			rel := getRelease(ctx, ns, patchedRelease)
			ready := conditionOf(rel, capstanv1.ReadyCondition)
			g.Expect(ready.Status).To(Equal(metav1.ConditionFalse))
			g.Expect(ready.ObservedGeneration).To(Equal(rel.Generation))
			released := conditionOf(rel, capstanv1.ReleasedCondition)
			g.Expect(released.Reason).To(Equal(capstanv1.UpgradeFailedReason))
			g.Expect(released.Message).To(ContainSubstring("Deployment/" + ns + "/" + patchedRelease + ": Failed: healthChecks[0].failed is true"))
			g.Expect(conditionOf(rel, capstanv1.RemediatedCondition).Status).To(Equal(metav1.ConditionTrue))
		}).WithContext(ctx).WithTimeout(90 * time.Second).WithPolling(500 * time.Millisecond).Should(Succeed())
		took := time.Since(start)
		timeStep("post-render sample: failing CEL health check to UpgradeFailed", start)
		Expect(took).To(BeNumerically("<", time.Minute), "the wait ended at the failed expression, not at the 5m timeout")
		Expect(historyOf(getRelease(ctx, ns, patchedRelease))).To(ContainElement(SatisfyAll(
			HaveField("Revision", 2), HaveField("Action", "upgrade"), HaveField("Status", "failed"))))
	})

	It("upgrades once the values satisfy the health check", func(ctx SpecContext) {
		start := time.Now()
		_, stderr, err := kubectl(ctx, "patch", "release", patchedRelease, "-n", ns, "--type=merge", "-p",
			`{"spec":{"values":{"replicaCount":2,"podAnnotations":{"example.com/canary":"fixed"}}}}`)
		Expect(err).NotTo(HaveOccurred(), stderr)
		Expect(kubectlWait(ctx, ns, "release/"+patchedRelease, "condition=Ready", 2*time.Minute)).To(Succeed())
		timeStep("post-render sample: passing CEL health check to Ready", start)
		rel := getRelease(ctx, ns, patchedRelease)
		Expect(rel.Status.CurrentRevision).To(Equal(4), "after the failed revision 2 and its rollback, 3")
		Expect(conditionOf(rel, capstanv1.ReadyCondition).Reason).To(Equal(capstanv1.UpgradeSucceededReason))
		pods := expectDeploymentRunning(ctx, ns, patchedRelease, 2)
		for _, p := range pods {
			Expect(p.Annotations).To(HaveKeyWithValue("example.com/canary", "fixed"))
			Expect(p.Annotations).To(HaveKeyWithValue("example.com/patched-by", "capstan"), "the patch still applies")
		}
	})

	It("uninstalls when the user deletes the Release", func(ctx SpecContext) {
		objs := inventoryObjects(getRelease(ctx, ns, patchedRelease))
		_, stderr, err := kubectl(ctx, "delete", "release", patchedRelease, "-n", ns, "--timeout=2m")
		Expect(err).NotTo(HaveOccurred(), stderr)
		expectAllGone(ctx, objs)
		Expect(releaseRecords(context.WithoutCancel(ctx), ns, patchedRelease)).To(BeEmpty())
	})
})

// brokenSeedObjects is a Release of the chart stack whose post-install hook Job is patched (post-
// renderers reach hooks too) to ask for 1000 CPUs, which no kwok node has, and to time out after
// 5 s of its own (capstan.dev/hook-timeout) instead of the Release's 90 s; without the patch
// (patched false) the hook is the chart's own.
func brokenSeedObjects(patched bool) string {
	postRenderers := ""
	if patched {
		postRenderers = `
  postRenderers:
  - kustomize:
      patches:
      - target:
          group: batch
          kind: Job
        patch: |
          apiVersion: batch/v1
          kind: Job
          metadata:
            name: any
            annotations:
              capstan.dev/hook-timeout: 5s
          spec:
            template:
              spec:
                containers:
                - name: seed
                  resources:
                    requests:
                      cpu: "1000"`
	}
	return examplesRepository() + `apiVersion: capstan.dev/v1alpha1
kind: Release
metadata:
  name: seeded
spec:
  chart:
    repositoryRef:
      name: examples
    name: stack
    version: "0.1.x"
  timeout: 90s` + postRenderers + "\n"
}

// The user story of issue 15's hooks that explain themselves, on kwok: a post-install hook that
// cannot finish fails the install after its own timeout with a message that names the hook and
// what it was waiting for; once the user removes the cause, the next attempt deletes the failed
// hook's Job (before-hook-creation) and runs a new one.
var _ = Describe("A user whose post-install hook cannot finish", Ordered, ContinueOnFailure, func() {
	var ns string
	inStoryNamespace(&ns)

	It("sees the install fail after the hook's own timeout, with the hook named", func(ctx SpecContext) {
		start := time.Now()
		apply(ctx, ns, brokenSeedObjects(true))
		Eventually(func(g Gomega) {
			rel := getRelease(ctx, ns, "seeded")
			g.Expect(conditionOf(rel, capstanv1.ReadyCondition).Status).To(Equal(metav1.ConditionFalse))
			released := conditionOf(rel, capstanv1.ReleasedCondition)
			g.Expect(released.Reason).To(Equal(capstanv1.InstallFailedReason))
			g.Expect(released.Message).To(ContainSubstring("post-install hook Job/" + ns + "/seeded-stack-seed failed"))
			g.Expect(released.Message).To(ContainSubstring("did not finish within 5s"))
		}).WithContext(ctx).WithTimeout(80 * time.Second).WithPolling(500 * time.Millisecond).Should(Succeed())
		timeStep("hook: apply to a failed install at the hook's 5s timeout", start)
		Expect(time.Since(start)).To(BeNumerically("<", 80*time.Second), "the hook's timeout, not the Release's 90s")
		Expect(eventReasons(ctx, ns, "Release", "seeded")).To(ContainElement("Warning/" + capstanv1.InstallFailedReason))
	})

	It("installs on the next attempt once the cause is gone, replacing the failed hook's Job", func(ctx SpecContext) {
		var failed batchv1.Job
		Expect(k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: "seeded-stack-seed"}, &failed)).To(Succeed(),
			"a failed hook's Job is kept for inspection (its delete policy is hook-succeeded)")
		start := time.Now()
		apply(ctx, ns, brokenSeedObjects(false))
		Expect(kubectlWait(ctx, ns, "release/seeded", "condition=Ready", 2*time.Minute)).To(Succeed())
		timeStep("hook: fixed spec to Ready", start)
		rel := getRelease(ctx, ns, "seeded")
		Expect(conditionOf(rel, capstanv1.ReadyCondition).Status).To(Equal(metav1.ConditionTrue))
		Eventually(func(g Gomega) {
			var job batchv1.Job
			err := k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: "seeded-stack-seed"}, &job)
			if err == nil {
				g.Expect(job.UID).NotTo(Equal(failed.UID), "the failed attempt's Job was deleted before the new run")
			}
		}).WithContext(ctx).WithTimeout(30 * time.Second).Should(Succeed())
	})
})

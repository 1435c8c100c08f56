package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	capstanv1 "github.com/capstan-dev/capstan/api/v1alpha1"
)

// stackObjects is an OCI ChartRepository and a Release of the chart stack (a parent chart, the
// subchart cache, a global value both read, and a post-install hook Job).
func stackObjects() string {
	return fmt.Sprintf(`apiVersion: capstan.dev/v1alpha1
kind: ChartRepository
metadata:
  name: examples-oci
spec:
  url: %s
  plainHTTP: true
---
apiVersion: capstan.dev/v1alpha1
kind: Release
metadata:
  name: shop
spec:
  chart:
    repositoryRef:
      name: examples-oci
    name: stack
    version: "0.1.x"
  timeout: 90s
  values:
    global:
      environment: e2e
`, ociRepoURL)
}

// helmStatus is the part of `helm status -o json` (the whole revision record) the stack story
// reads.
type helmStatus struct {
	Info struct {
		Status      string `json:"status"`
		Description string `json:"description"`
	} `json:"info"`
	Hooks []struct {
		Name    string   `json:"name"`
		Kind    string   `json:"kind"`
		Events  []string `json:"events"`
		LastRun struct {
			StartedAt   time.Time `json:"started_at"`
			CompletedAt time.Time `json:"completed_at"`
			Phase       string    `json:"phase"`
		} `json:"last_run"`
	} `json:"hooks"`
}

var _ = Describe("A user installing the stack chart, with a subchart and a post-install hook, from an OCI registry", Ordered, ContinueOnFailure, func() {
	var ns string
	BeforeAll(func(ctx SpecContext) {
		ns = newNamespace(ctx)
	})
	AfterEach(func(ctx SpecContext) {
		if CurrentSpecReport().Failed() {
			describeNamespace(ctx, ns)
		}
	})

	It("gets a Ready release with the parent's and the subchart's workloads Available", func(ctx SpecContext) {
		start := time.Now()
		apply(ctx, ns, stackObjects())
		Expect(kubectlWait(ctx, ns, "release/shop", "condition=Ready", 2*time.Minute)).To(Succeed())
		timeStep("stack: kubectl apply to Ready (hook included)", start)

		rel := getRelease(ctx, ns, "shop")
		Expect(rel.Status.CurrentRevision).To(Equal(1))
		Expect(rel.Status.ChartName).To(Equal("stack"))
		Expect(rel.Status.AppVersion).To(Equal("2.3.0"))
		Expect(historyOf(rel)).To(Equal([]snapshotView{{1, "install", "deployed", "Install complete"}}))
		Expect(rel.Status.Inventory.Entries).To(HaveLen(5), "the hook Job is not part of the release's objects")

		expectDeploymentRunning(ctx, ns, "shop-stack-api", 1)
		expectDeploymentRunning(ctx, ns, "shop-cache", 1)
		var cache appsv1.Deployment
		Expect(k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: "shop-cache"}, &cache)).To(Succeed())
		Expect(cache.Labels).To(HaveKeyWithValue("capstan.dev/environment", "e2e"), "the global value reaches the subchart")
		Expect(configMapData(ctx, ns, "shop-stack-api", "CACHE_ADDRESS")).To(Equal("shop-cache:6379"))

		notes, err := capstanCLI(ctx, "get", "notes", "shop", "-n", ns)
		Expect(err).NotTo(HaveOccurred())
		Expect(notes).To(ContainSubstring("The post-install Job shop-stack-seed seeded it."))
	})

	It("ran the post-install hook Job to completion, deleted it, and recorded the run", func(ctx SpecContext) {
		out, err := helmCLI(ctx, "status", "shop", "-n", ns, "-o", "json")
		Expect(err).NotTo(HaveOccurred())
		var status helmStatus
		Expect(json.Unmarshal([]byte(out), &status)).To(Succeed(), out)
		Expect(status.Info.Status).To(Equal("deployed"))
		Expect(status.Hooks).To(HaveLen(1))
		hook := status.Hooks[0]
		Expect(hook.Name).To(Equal("shop-stack-seed"))
		Expect(hook.Kind).To(Equal("Job"))
		Expect(hook.Events).To(Equal([]string{"post-install"}))
		Expect(hook.LastRun.Phase).To(Equal("Succeeded"))
		Expect(hook.LastRun.StartedAt).NotTo(BeZero())
		Expect(hook.LastRun.CompletedAt).To(BeTemporally(">=", hook.LastRun.StartedAt))

		hooks, err := helmCLI(ctx, "get", "hooks", "shop", "-n", ns)
		Expect(err).NotTo(HaveOccurred())
		Expect(hooks).To(SatisfyAll(ContainSubstring("name: shop-stack-seed"), ContainSubstring("helm.sh/hook: post-install")))

		By("the Job controller having seen the hook's pod finish on a kwok node")
		Expect(eventReasons(ctx, ns, "Job", "shop-stack-seed")).To(ContainElement("Normal/Completed"))
		By("the hook-succeeded policy having deleted the Job")
		err = k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: "shop-stack-seed"}, &batchv1.Job{})
		Expect(apierrors.IsNotFound(err)).To(BeTrue(), "the hook Job is deleted once it succeeded: %v", err)

		helmTable, err := helmCLI(ctx, "history", "shop", "-n", ns)
		Expect(err).NotTo(HaveOccurred())
		capstanTable, err := capstanCLI(ctx, "history", "shop", "-n", ns)
		Expect(err).NotTo(HaveOccurred())
		Expect(capstanTable).To(Equal(helmTable))
		Expect(parseHistory(mustHelm(ctx, "history", "shop", "-n", ns, "-o", "json"))).To(ConsistOf(
			HaveField("Description", "Install complete")))
	})

	It("removes the parent's and the subchart's objects when the user deletes the Release", func(ctx SpecContext) {
		objects := inventoryObjects(getRelease(ctx, ns, "shop"))
		start := time.Now()
		_, _, err := kubectl(ctx, "delete", "-n", ns, "release/shop", "--timeout=2m")
		Expect(err).NotTo(HaveOccurred())
		timeStep("stack: kubectl delete release", start)

		expectAllGone(ctx, objects)
		Expect(releaseRecords(ctx, ns, "shop")).To(BeEmpty())
		expectNoPodsOrReplicaSets(ctx, ns, map[string]string{"app.kubernetes.io/instance": "shop"})
		Expect(eventReasons(ctx, ns, "Release", "shop")).To(ContainElement("Normal/" + capstanv1.UninstallSucceededReason))
	})
})

// mustHelm runs the reference helm and returns its output, failing the spec on an error.
func mustHelm(ctx context.Context, args ...string) string {
	out, err := helmCLI(ctx, args...)
	Expect(err).NotTo(HaveOccurred())
	return out
}

package e2e

import (
	"context"
	"fmt"
	"strconv"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	capstanv1 "github.com/capstan-dev/capstan/api/v1alpha1"
)

// helloTimeout is the Release's spec.timeout: how long a rollout may take before the upgrade
// fails. Short, so that the failing rollout is noticed quickly.
const helloTimeout = 20 * time.Second

// The values of each revision the user asks for.
var (
	// helloV2 scales the application and changes its greeting.
	helloV2 = map[string]any{"replicaCount": 2, "greeting": map[string]any{"text": "Hello from revision 2"}}
	// helloBroken asks every pod for 1000 CPUs. The kwok nodes have 32 each, so the new pods are
	// never scheduled and the rollout can never complete; the old pods keep serving.
	helloBroken = map[string]any{"replicaCount": 2, "greeting": map[string]any{"text": "Hello from revision 2"},
		"resources": map[string]any{"requests": map[string]any{"cpu": "1000"}}}
)

// helloObjects is what the user applies: the repository and a Release of the chart hello with
// the given values, a short timeout, and an upgrade that rolls back at its first failure.
func helloObjects(values map[string]any) string {
	return examplesRepository() + fmt.Sprintf(`apiVersion: capstan.dev/v1alpha1
kind: Release
metadata:
  name: hello
spec:
  chart:
    repositoryRef:
      name: examples
    name: hello
    version: "0.1.x"
  timeout: %s
  upgrade:
    remediation:
      retries: 0
      strategy: rollback
  values: %s
`, helloTimeout, valuesJSON(values))
}

// The user story of issue 7: install, upgrade, a rollout that cannot complete and is rolled
// back automatically, a manual rollback with the CLI, helm reading the same history, and
// deletion. Each step builds on the one before, in one namespace; a failed step does not skip
// the later ones (ContinueOnFailure), so one defect does not hide the state of the rest.
var _ = Describe("A user running the hello chart through a Release", Ordered, ContinueOnFailure, func() {
	var ns string
	BeforeAll(func(ctx SpecContext) {
		ns = newNamespace(ctx)
	})
	AfterEach(func(ctx SpecContext) {
		if CurrentSpecReport().Failed() {
			describeNamespace(ctx, ns)
		}
	})

	It("applies a ChartRepository and a Release and gets a Ready release whose Deployment is Available on a kwok node", func(ctx SpecContext) {
		start := time.Now()
		apply(ctx, ns, helloObjects(map[string]any{}))
		Expect(kubectlWait(ctx, ns, "release/hello", "condition=Ready", 2*time.Minute)).To(Succeed())
		timeStep("hello: kubectl apply to Ready", start)

		rel := getRelease(ctx, ns, "hello")
		Expect(rel.Status.ObservedGeneration).To(Equal(rel.Generation))
		Expect(rel.Status.CurrentRevision).To(Equal(1))
		Expect(rel.Status.ChartName).To(Equal("hello"))
		Expect(rel.Status.ChartVersion).To(Equal("0.1.0"))
		Expect(conditionOf(rel, capstanv1.ReadyCondition)).To(SatisfyAll(
			HaveField("Status", metav1.ConditionTrue), HaveField("Reason", capstanv1.InstallSucceededReason)))
		Expect(historyOf(rel)).To(Equal([]snapshotView{{1, "install", "deployed", "Install complete"}}))

		pods := expectDeploymentRunning(ctx, ns, "hello", 1)
		Expect(pods[0].Spec.Containers[0].Image).To(Equal("registry.example.com/capstan/hello:1.0.0"))
		Expect(configMapData(ctx, ns, "hello", "greeting.txt")).To(Equal("Hello from Capstan"))
		Expect(releaseRecords(ctx, ns, "hello")).To(Equal([]string{"sh.helm.release.v1.hello.v1"}))

		stdout, _, err := kubectl(ctx, "get", "release", "hello", "-n", ns, "--no-headers")
		Expect(err).NotTo(HaveOccurred())
		Expect(stdout).To(MatchRegexp(`^hello\s+hello\s+0\.1\.0\s+1\s+True\s+Revision 1 of hello 0\.1\.0 is deployed\s`))
	})

	It("upgrades to revision 2 when the user changes the values", func(ctx SpecContext) {
		start := time.Now()
		apply(ctx, ns, helloObjects(helloV2))
		// kubectl wait compares the condition's observedGeneration with the new generation, so
		// the Ready of revision 1 does not satisfy it.
		Expect(kubectlWait(ctx, ns, "release/hello", "condition=Ready", 2*time.Minute)).To(Succeed())
		timeStep("hello: values change to Ready", start)

		rel := getRelease(ctx, ns, "hello")
		Expect(rel.Status.CurrentRevision).To(Equal(2))
		Expect(conditionOf(rel, capstanv1.ReadyCondition).Reason).To(Equal(capstanv1.UpgradeSucceededReason))
		Expect(historyOf(rel)).To(Equal([]snapshotView{
			{1, "install", "superseded", "Install complete"},
			{2, "upgrade", "deployed", "Upgrade complete"},
		}))
		expectDeploymentRunning(ctx, ns, "hello", 2)
		Expect(configMapData(ctx, ns, "hello", "greeting.txt")).To(Equal("Hello from revision 2"))
	})

	It("rolls back by itself to the old values when a rollout can never complete", func(ctx SpecContext) {
		start := time.Now()
		apply(ctx, ns, helloObjects(helloBroken))
		generation := getRelease(ctx, ns, "hello").Generation

		By("waiting with kubectl for the remediation, while watching that Ready never turns True")
		remediated := make(chan error, 1)
		go func() {
			defer GinkgoRecover()
			remediated <- kubectlWait(ctx, ns, "release/hello", "condition=Remediated", 3*time.Minute)
		}()
		sawUnschedulable, readyTrue := watchFailingRollout(ctx, ns, generation)
		Eventually(remediated).WithTimeout(30 * time.Second).Should(Receive(Succeed()))
		timeStep("hello: failing values change to automatic rollback", start)
		Expect(sawUnschedulable).To(BeTrue(), "a pod asking for 1000 CPUs was reported Unschedulable")
		Expect(readyTrue).To(BeEmpty(), "Ready was True for the generation that cannot roll out")

		rel := getRelease(ctx, ns, "hello")
		expectRemediated(rel)
		history := historyOf(rel)
		Expect(history).To(HaveLen(4))
		Expect(history[:2]).To(Equal([]snapshotView{
			{1, "install", "superseded", "Install complete"}, {2, "upgrade", "superseded", "Upgrade complete"}}))
		Expect(history[2]).To(SatisfyAll(HaveField("Revision", 3), HaveField("Action", "upgrade"), HaveField("Status", "failed")))
		Expect(history[2].Description).To(SatisfyAll(HavePrefix("Upgrade failed: "),
			ContainSubstring("timed out after "+helloTimeout.String()), ContainSubstring("Deployment/"+ns+"/hello")))
		Expect(history[3]).To(Equal(snapshotView{4, "rollback", "deployed", "Rollback to 2"}))

		By("running revision 2's values again: two pods without the CPU request, the second greeting")
		pods := expectDeploymentRunning(ctx, ns, "hello", 2)
		for _, p := range pods {
			Expect(p.Spec.Containers[0].Resources.Requests).NotTo(HaveKey(corev1.ResourceCPU), p.Name)
		}
		Expect(configMapData(ctx, ns, "hello", "greeting.txt")).To(Equal("Hello from revision 2"))
		Expect(revisionValues(ctx, ns, 4)).To(Equal(revisionValues(ctx, ns, 2)))
		Expect(revisionValues(ctx, ns, 3)).To(ContainSubstring(`"cpu":"1000"`))

		By("telling the user through kubectl")
		err := kubectlWait(ctx, ns, "release/hello", "condition=Ready", 3*time.Second)
		Expect(err).To(MatchError(ContainSubstring("timed out")), "a stalled Release must not satisfy kubectl wait for Ready")
		Expect(kubectlWait(ctx, ns, "release/hello", "condition=Ready=False", 10*time.Second)).To(Succeed())
		Expect(kubectlWait(ctx, ns, "release/hello", "condition=Stalled", 10*time.Second)).To(Succeed())
		stdout, _, err := kubectl(ctx, "get", "release", "hello", "-n", ns, "--no-headers")
		Expect(err).NotTo(HaveOccurred())
		Expect(stdout).To(MatchRegexp(`^hello\s+hello\s+0\.1\.0\s+4\s+False\s+upgrade failed 1 time\(s\) with 0 retries allowed`))
		Expect(eventReasons(ctx, ns, "Release", "hello")).To(ContainElements(
			"Warning/"+capstanv1.UpgradeFailedReason, "Normal/"+capstanv1.RollbackSucceededReason))
	})

	It("rolls back to revision 1 with capstan rollback, and stays there", func(ctx SpecContext) {
		start := time.Now()
		out, err := capstanCLI(ctx, "rollback", "hello", "1", "-n", ns, "--timeout", "2m")
		Expect(err).NotTo(HaveOccurred())
		timeStep("hello: capstan rollback", start)
		Expect(out).To(ContainSubstring(`Rollback was a success: release "hello" is at revision 5, a copy of revision 1.`))
		Expect(kubectlWait(ctx, ns, "release/hello", "condition=Ready", 30*time.Second)).To(Succeed())

		rel := getRelease(ctx, ns, "hello")
		Expect(rel.Status.CurrentRevision).To(Equal(5))
		Expect(rel.Status.LastHandledRollbackTo).To(Equal("1"))
		Expect(conditionOf(rel, capstanv1.ReadyCondition).Reason).To(Equal(capstanv1.RollbackSucceededReason))
		Expect(conditionOf(rel, capstanv1.StalledCondition).Status).To(BeEquivalentTo("absent"))
		Expect(historyOf(rel)).To(ContainElement(snapshotView{5, "rollback", "deployed", "Rollback to 1"}))
		expectDeploymentRunning(ctx, ns, "hello", 1)
		Expect(configMapData(ctx, ns, "hello", "greeting.txt")).To(Equal("Hello from Capstan"))

		By("holding at the rolled-back revision when asked to reconcile, although the spec still has the broken values")
		token := strconv.FormatInt(time.Now().UnixNano(), 10)
		_, _, err = kubectl(ctx, "annotate", "-n", ns, "release/hello", "--overwrite", capstanv1.ReconcileRequestAnnotation+"="+token)
		Expect(err).NotTo(HaveOccurred())
		Expect(kubectlWait(ctx, ns, "release/hello", "jsonpath={.status.lastHandledReconcileAt}="+token, time.Minute)).To(Succeed())
		rel = getRelease(ctx, ns, "hello")
		Expect(rel.Status.CurrentRevision).To(Equal(5))
		Expect(rel.Status.History).To(HaveLen(5))
		Expect(conditionOf(rel, capstanv1.ReadyCondition).Status).To(Equal(metav1.ConditionTrue))
	})

	It("shows the same revisions in helm history, capstan history and the Release status", func(ctx SpecContext) {
		helmJSON, err := helmCLI(ctx, "history", "hello", "-n", ns, "-o", "json")
		Expect(err).NotTo(HaveOccurred())
		helmRows := parseHistory(helmJSON)
		capstanJSON, err := capstanCLI(ctx, "history", "hello", "-n", ns, "-o", "json")
		Expect(err).NotTo(HaveOccurred())
		capstanRows := parseHistory(capstanJSON)

		statuses, descriptions := make([]string, 0, len(helmRows)), make([]string, 0, len(helmRows))
		for i, row := range helmRows {
			Expect(row.Revision).To(Equal(i + 1))
			Expect(row.Chart).To(Equal("hello-0.1.0"))
			Expect(row.AppVersion).To(Equal("1.0.0"))
			statuses = append(statuses, row.Status)
			descriptions = append(descriptions, row.Description)
		}
		Expect(statuses).To(Equal([]string{"superseded", "superseded", "failed", "superseded", "deployed"}))
		Expect(descriptions[3:]).To(Equal([]string{"Rollback to 2", "Rollback to 1"}))
		Expect(helmRows[3].RollbackRevision).To(Equal(2), "helm reads the rollback target from the record")
		Expect(helmRows[4].RollbackRevision).To(Equal(1), "helm reads the rollback target from the record")

		By("capstan history agreeing on revisions, statuses, charts and descriptions")
		Expect(capstanRows).To(HaveLen(len(helmRows)))
		for i := range helmRows {
			Expect(capstanRows[i]).To(SatisfyAll(HaveField("Revision", helmRows[i].Revision),
				HaveField("Status", helmRows[i].Status), HaveField("Chart", helmRows[i].Chart),
				HaveField("AppVersion", helmRows[i].AppVersion), HaveField("Description", helmRows[i].Description)))
		}

		By("the Release status agreeing on every revision")
		history := historyOf(getRelease(ctx, ns, "hello"))
		Expect(history).To(HaveLen(len(helmRows)))
		for i, row := range helmRows {
			Expect(history[i]).To(SatisfyAll(HaveField("Revision", row.Revision), HaveField("Status", row.Status),
				HaveField("Description", row.Description)))
		}

		By("printing the same table")
		helmTable, err := helmCLI(ctx, "history", "hello", "-n", ns)
		Expect(err).NotTo(HaveOccurred())
		capstanTable, err := capstanCLI(ctx, "history", "hello", "-n", ns)
		Expect(err).NotTo(HaveOccurred())
		Expect(capstanTable).To(Equal(helmTable))

		By("helm list showing the deployed revision")
		list, err := helmCLI(ctx, "list", "-n", ns, "-o", "json")
		Expect(err).NotTo(HaveOccurred())
		Expect(parseHelmList(list)).To(Equal([]helmListRow{{Name: "hello", Namespace: ns, Revision: "5",
			Status: "deployed", Chart: "hello-0.1.0", AppVersion: "1.0.0"}}))

		By("capstan history -o json printing helm's JSON byte for byte (docs/cli.md), rollback_revision included")
		Expect(capstanJSON).To(Equal(helmJSON), "capstan history -o json:\n%s\nhelm history -o json:\n%s", capstanJSON, helmJSON)
	})

	It("removes every object of the release when the user deletes the Release", func(ctx SpecContext) {
		rel := getRelease(ctx, ns, "hello")
		objects := inventoryObjects(rel)
		Expect(objects).To(HaveLen(3), "a ConfigMap, a Service and a Deployment")
		Expect(releaseRecords(ctx, ns, "hello")).To(HaveLen(5))
		selector := map[string]string{"app.kubernetes.io/instance": "hello"}

		start := time.Now()
		_, _, err := kubectl(ctx, "delete", "-n", ns, "release/hello", "--timeout=2m")
		Expect(err).NotTo(HaveOccurred())
		timeStep("hello: kubectl delete release", start)

		err = k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: "hello"}, &capstanv1.Release{})
		Expect(apierrors.IsNotFound(err)).To(BeTrue(), "the Release is gone once kubectl delete returns: %v", err)
		expectAllGone(ctx, objects)
		Expect(releaseRecords(ctx, ns, "hello")).To(BeEmpty())
		expectNoPodsOrReplicaSets(ctx, ns, selector)
		list, err := helmCLI(ctx, "list", "-n", ns, "-o", "json",
			"--deployed", "--failed", "--pending", "--superseded", "--uninstalled", "--uninstalling")
		Expect(err).NotTo(HaveOccurred())
		Expect(parseHelmList(list)).To(BeEmpty())
		Expect(eventReasons(ctx, ns, "Release", "hello")).To(ContainElement("Normal/" + capstanv1.UninstallSucceededReason))

		By("leaving the ChartRepository, which is not part of the release")
		Expect(k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: "examples"}, &capstanv1.ChartRepository{})).To(Succeed())
	})
})

// watchFailingRollout polls the Release and its pods until the Release is Remediated. It
// reports whether a pod of the new template was seen Unschedulable, and every Ready=True seen
// for generation (which must never happen: that generation cannot roll out).
func watchFailingRollout(ctx context.Context, ns string, generation int64) (sawUnschedulable bool, readyTrue []string) {
	Eventually(func(g Gomega) {
		rel := getRelease(ctx, ns, "hello")
		if ready := conditionOf(rel, capstanv1.ReadyCondition); ready.Status == metav1.ConditionTrue && ready.ObservedGeneration == generation {
			readyTrue = append(readyTrue, ready.Message)
		}
		sawUnschedulable = sawUnschedulable || unschedulablePod(ctx, ns)
		g.Expect(conditionOf(rel, capstanv1.RemediatedCondition)).To(SatisfyAll(
			HaveField("Status", metav1.ConditionTrue), HaveField("ObservedGeneration", generation)))
	}).WithContext(ctx).WithTimeout(3 * time.Minute).WithPolling(500 * time.Millisecond).Should(Succeed())
	return sawUnschedulable, readyTrue
}

// unschedulablePod reports whether a pod of hello is waiting with PodScheduled=False because no
// node can hold it.
func unschedulablePod(ctx context.Context, ns string) bool {
	var pods corev1.PodList
	Expect(k8sClient.List(ctx, &pods, client.InNamespace(ns), client.MatchingLabels{"app.kubernetes.io/instance": "hello"})).To(Succeed())
	for _, p := range pods.Items {
		for _, c := range p.Status.Conditions {
			if c.Type == corev1.PodScheduled && c.Status == corev1.ConditionFalse && c.Reason == corev1.PodReasonUnschedulable {
				return true
			}
		}
	}
	return false
}

// expectRemediated checks the conditions after the automatic rollback: the upgrade failed, the
// rollback succeeded, and the Release stalls until the user changes something.
func expectRemediated(rel *capstanv1.Release) {
	Expect(rel.Status.ObservedGeneration).To(Equal(rel.Generation))
	Expect(rel.Status.CurrentRevision).To(Equal(4))
	Expect(rel.Status.RollbackTarget).To(Equal(4))
	Expect(rel.Status.UpgradeFailures).To(BeEquivalentTo(1))
	Expect(conditionOf(rel, capstanv1.ReleasedCondition)).To(SatisfyAll(
		HaveField("Status", metav1.ConditionFalse), HaveField("Reason", capstanv1.UpgradeFailedReason)))
	Expect(conditionOf(rel, capstanv1.RemediatedCondition)).To(SatisfyAll(
		HaveField("Status", metav1.ConditionTrue), HaveField("Reason", capstanv1.RollbackSucceededReason)))
	Expect(conditionOf(rel, capstanv1.StalledCondition)).To(SatisfyAll(
		HaveField("Status", metav1.ConditionTrue), HaveField("Reason", capstanv1.RetriesExhaustedReason)))
	Expect(conditionOf(rel, capstanv1.ReadyCondition)).To(SatisfyAll(
		HaveField("Status", metav1.ConditionFalse), HaveField("Reason", capstanv1.RetriesExhaustedReason)))
}

// revisionValues returns the user values stored in one revision, as `capstan get values -o json`
// prints them.
func revisionValues(ctx context.Context, ns string, revision int) string {
	out, err := capstanCLI(ctx, "get", "values", "hello", "-n", ns, "--revision", strconv.Itoa(revision), "-o", "json")
	Expect(err).NotTo(HaveOccurred())
	return out
}

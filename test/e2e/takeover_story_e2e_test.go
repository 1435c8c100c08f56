package e2e

import (
	"context"
	"fmt"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	capstanv1 "github.com/capstan-dev/capstan/api/v1alpha1"
)

// legacyDeployment is the hello chart's Deployment of the helm release "legacy".
const legacyDeployment = "legacy-hello"

// legacyRelease is the Release that takes the helm release "legacy" over; conflicts is the
// spec.upgrade.conflicts block, "" for the default (Fail).
func legacyRelease(greeting, conflicts string) string {
	return examplesRepository() + fmt.Sprintf(`apiVersion: capstan.dev/v1alpha1
kind: Release
metadata:
  name: legacy
spec:
  chart:
    repositoryRef:
      name: examples
    name: hello
    version: "0.1.x"
  timeout: 90s
  values:
    greeting:
      text: %q
  upgrade:
    remediation:
      retries: 0
      strategy: none%s
`, greeting, conflicts)
}

// yieldReplicas leaves the Deployments' replicas to whoever else manages them.
const yieldReplicas = `
    conflicts:
      policy: Yield
      yield:
      - paths: [/spec/replicas]
        target:
          group: apps
          kind: Deployment`

// managers returns "manager operation" of each managedFields entry of a live Deployment, and logs
// the entries whole under label.
func managers(ctx context.Context, ns, name, label string) []string {
	var d appsv1.Deployment
	Expect(k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, &d)).To(Succeed())
	var out []string
	for _, mf := range d.ManagedFields {
		out = append(out, mf.Manager+" "+string(mf.Operation))
		fields := ""
		if mf.FieldsV1 != nil {
			fields = mf.FieldsV1.GetRawString()
		}
		fmt.Fprintf(GinkgoWriter, "%s: %s %s %s: %s\n", label, mf.Manager, mf.Operation, mf.Subresource, fields)
	}
	return out
}

// The user story of issue 15's conflict policy, on kwok with the real helm and a real
// HorizontalPodAutoscaler: a release installed by helm is taken over by a Release, and the
// annotation only helm's values rendered goes; then an autoscaler takes the replicas, an upgrade
// under the default policy stops and names it, and under Yield the autoscaler keeps them.
var _ = Describe("A user moving a helm release to Capstan, beside an autoscaler", Ordered, ContinueOnFailure, func() {
	var ns string
	inStoryNamespace(&ns)

	It("takes over the helm release and removes what only helm's values rendered", func(ctx SpecContext) {
		_, err := helmCLI(ctx, "install", "legacy", "hello", "--repo", chartRepoURL, "--version", "0.1.0", "-n", ns,
			"--set", `podAnnotations.example\.com/legacy=yes`)
		Expect(err).NotTo(HaveOccurred())
		Expect(managers(ctx, ns, legacyDeployment, "before the take-over")).To(ContainElement("helm Apply"))
		var before appsv1.Deployment
		Expect(k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: legacyDeployment}, &before)).To(Succeed())
		Expect(before.Spec.Template.Annotations).To(HaveKeyWithValue("example.com/legacy", "yes"))

		start := time.Now()
		apply(ctx, ns, legacyRelease("Hello from Capstan", ""))
		Expect(kubectlWait(ctx, ns, "release/legacy", "condition=Ready", 2*time.Minute)).To(Succeed())
		timeStep("take-over: kubectl apply to Ready", start)

		var after appsv1.Deployment
		Expect(k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: legacyDeployment}, &after)).To(Succeed())
		Expect(after.Spec.Template.Annotations).NotTo(HaveKey("example.com/legacy"),
			"the field only helm's values rendered is removed once helm's ownership moved to capstan")
		Expect(managers(ctx, ns, legacyDeployment, "after the take-over")).NotTo(ContainElement(HavePrefix("helm ")))
		rel := getRelease(ctx, ns, "legacy")
		Expect(rel.Status.CurrentRevision).To(Equal(2), "revision 1 is helm's")
		out, err := helmCLI(ctx, "history", "legacy", "-n", ns, "-o", "json")
		Expect(err).NotTo(HaveOccurred())
		Expect(parseHistory(out)).To(HaveLen(2))
	})

	It("stops an upgrade on the autoscaler's replicas under the default policy, naming field and manager", func(ctx SpecContext) {
		hpa := `apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: legacy
spec:
  scaleTargetRef:
    apiVersion: apps/v1
    kind: Deployment
    name: ` + legacyDeployment + `
  minReplicas: 3
  maxReplicas: 5
  metrics:
  - type: Resource
    resource:
      name: cpu
      target:
        type: Utilization
        averageUtilization: 80
`
		apply(ctx, ns, hpa)
		By("waiting for the autoscaler to raise the replicas to its minimum (it needs no metrics for that)")
		Eventually(func(g Gomega) {
			var d appsv1.Deployment
			g.Expect(k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: legacyDeployment}, &d)).To(Succeed())
			g.Expect(d.Spec.Replicas).To(HaveValue(Equal(int32(3))))
		}).WithContext(ctx).WithTimeout(90 * time.Second).WithPolling(time.Second).Should(Succeed())
		managers(ctx, ns, legacyDeployment, "after the autoscaler")

		apply(ctx, ns, legacyRelease("Hello again", ""))
		Eventually(func(g Gomega) {
			rel := getRelease(ctx, ns, "legacy")
			ready := conditionOf(rel, capstanv1.ReadyCondition)
			g.Expect(ready.ObservedGeneration).To(Equal(rel.Generation))
			g.Expect(ready.Reason).To(Equal(capstanv1.FieldConflictReason))
			g.Expect(ready.Message).To(ContainSubstring(".spec.replicas"))
			// The field manager is the controller-manager binary's name: kube-controller-manager,
			// with the version suffix the local cluster's binaries carry.
			g.Expect(rel.Status.Conflicts).To(ContainElement(SatisfyAll(
				HaveField("Object", "Deployment/"+ns+"/"+legacyDeployment), HaveField("Field", ".spec.replicas"),
				HaveField("Manager", HavePrefix("kube-controller-manager")))))
		}).WithContext(ctx).WithTimeout(60 * time.Second).WithPolling(500 * time.Millisecond).Should(Succeed())
		Expect(getRelease(ctx, ns, "legacy").Status.CurrentRevision).To(Equal(2), "nothing was written")
		Expect(configMapData(ctx, ns, legacyDeployment, "greeting.txt")).To(Equal("Hello from Capstan"))
	})

	It("upgrades under Yield and leaves the replicas to the autoscaler", func(ctx SpecContext) {
		start := time.Now()
		apply(ctx, ns, legacyRelease("Hello again", yieldReplicas))
		Expect(kubectlWait(ctx, ns, "release/legacy", "condition=Ready", 2*time.Minute)).To(Succeed())
		timeStep("take-over: Yield upgrade to Ready", start)
		rel := getRelease(ctx, ns, "legacy")
		Expect(rel.Status.CurrentRevision).To(Equal(3))
		Expect(rel.Status.Conflicts).To(BeEmpty())
		Expect(configMapData(ctx, ns, legacyDeployment, "greeting.txt")).To(Equal("Hello again"))
		expectDeploymentRunning(ctx, ns, legacyDeployment, 3)
		owners := managers(ctx, ns, legacyDeployment, "after the Yield upgrade")
		Expect(strings.Join(owners, ",")).To(ContainSubstring("kube-controller-manager"))
		Expect(conditionOf(rel, capstanv1.ReadyCondition).Status).To(Equal(metav1.ConditionTrue))
	})
})

package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"sigs.k8s.io/controller-runtime/pkg/client"

	capstanv1 "github.com/capstan-dev/capstan/api/v1alpha1"
	"github.com/capstan-dev/capstan/internal/testenv"
)

// edgeNamespace is the namespace the edge Release creates in the remote cluster.
const edgeNamespace = "edge"

// edgeObjects is the repository and a Release of the chart hello into the remote cluster whose
// kubeconfig is in the Secret "edge", with drift correction checked every few seconds.
func edgeObjects(values map[string]any) string {
	return examplesRepository() + fmt.Sprintf(`apiVersion: capstan.dev/v1alpha1
kind: Release
metadata:
  name: hello-edge
spec:
  chart:
    repositoryRef:
      name: examples
    name: hello
    version: "0.1.x"
  kubeConfig:
    secretRef:
      name: edge
  targetNamespace: %s
  createNamespace: true
  interval: 3s
  timeout: 60s
  driftDetection:
    mode: enabled
  values: %s
`, edgeNamespace, valuesJSON(values))
}

// inlineKubeconfig is a kubeconfig of cfg with the certificates inline, as Capstan requires of a
// kubeconfig in a Secret (the local cluster's own kubeconfig names files).
func inlineKubeconfig(cfg *rest.Config) []byte {
	data := func(inline []byte, file string) []byte {
		if len(inline) > 0 {
			return inline
		}
		b, err := os.ReadFile(file)
		Expect(err).NotTo(HaveOccurred())
		return b
	}
	kc := clientcmdapi.NewConfig()
	kc.Clusters["edge"] = &clientcmdapi.Cluster{Server: cfg.Host, CertificateAuthorityData: data(cfg.CAData, cfg.CAFile)}
	kc.AuthInfos["edge-admin"] = &clientcmdapi.AuthInfo{
		ClientCertificateData: data(cfg.CertData, cfg.CertFile), ClientKeyData: data(cfg.KeyData, cfg.KeyFile)}
	kc.Contexts["edge"] = &clientcmdapi.Context{Cluster: "edge", AuthInfo: "edge-admin"}
	kc.CurrentContext = "edge"
	out, err := clientcmd.Write(*kc)
	Expect(err).NotTo(HaveOccurred())
	return out
}

// A second local cluster (another kwok control plane on its own ports) receives the chart's
// objects; the Release, its records, status and events stay in the suite's cluster.
var _ = Describe("A user deploying into a second cluster with spec.kubeConfig", Ordered, ContinueOnFailure, func() {
	var (
		ns     string
		remote client.Client
	)
	BeforeAll(func(ctx SpecContext) {
		ns = newNamespace(ctx)
		start := time.Now()
		edge, err := testenv.StartCluster()
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(edge.Stop)
		timeStep("edge: second cluster up", start)
		remote, err = client.New(edge.Config, client.Options{Scheme: k8sClient.Scheme()})
		Expect(err).NotTo(HaveOccurred())
		file := filepath.Join(GinkgoT().TempDir(), "edge.kubeconfig")
		Expect(os.WriteFile(file, inlineKubeconfig(edge.Config), 0o600)).To(Succeed())
		_, _, err = kubectl(ctx, "create", "secret", "generic", "edge", "-n", ns, "--from-file=value="+file)
		Expect(err).NotTo(HaveOccurred())
	})
	AfterEach(func(ctx SpecContext) {
		if CurrentSpecReport().Failed() {
			describeNamespace(ctx, ns)
		}
	})

	It("installs into the second cluster, waiting for its Deployment there, with the records in the first", func(ctx SpecContext) {
		start := time.Now()
		apply(ctx, ns, edgeObjects(map[string]any{}))
		Expect(kubectlWait(ctx, ns, "release/hello-edge", "condition=Ready", 2*time.Minute)).To(Succeed())
		timeStep("edge: kubectl apply to Ready", start)

		By("finding the Deployment Available in the second cluster as soon as the Release is Ready: the health wait looked there")
		var d appsv1.Deployment
		Expect(remote.Get(ctx, client.ObjectKey{Namespace: edgeNamespace, Name: "hello-edge"}, &d)).To(Succeed())
		Expect(d.Status.Conditions).To(ContainElement(SatisfyAll(
			HaveField("Type", appsv1.DeploymentAvailable), HaveField("Status", corev1.ConditionTrue))))
		Expect(d.Status.ObservedGeneration).To(Equal(d.Generation))

		rel := getRelease(ctx, ns, "hello-edge")
		Expect(rel.Status.CurrentRevision).To(Equal(1))
		Expect(conditionOf(rel, capstanv1.ReadyCondition).Reason).To(Equal(capstanv1.InstallSucceededReason))
		expectDeploymentRunningIn(ctx, remote, edgeNamespace, "hello-edge", 1)
		Expect(remoteConfigMap(ctx, remote, "hello-edge")).To(HaveKeyWithValue("greeting.txt", "Hello from Capstan"))
		Expect(releaseRecords(ctx, ns, "hello-edge")).To(Equal([]string{"sh.helm.release.v1.hello-edge.v1"}))
		err := k8sClient.Get(ctx, client.ObjectKey{Name: edgeNamespace}, &corev1.Namespace{})
		Expect(apierrors.IsNotFound(err)).To(BeTrue(), "the first cluster has no namespace %s: %v", edgeNamespace, err)
	})

	It("upgrades in the second cluster when the user changes the values", func(ctx SpecContext) {
		start := time.Now()
		apply(ctx, ns, edgeObjects(helloV2))
		Expect(kubectlWait(ctx, ns, "release/hello-edge", "condition=Ready", 2*time.Minute)).To(Succeed())
		timeStep("edge: values change to Ready", start)
		Expect(getRelease(ctx, ns, "hello-edge").Status.CurrentRevision).To(Equal(2))
		expectDeploymentRunningIn(ctx, remote, edgeNamespace, "hello-edge", 2)
		Expect(remoteConfigMap(ctx, remote, "hello-edge")).To(HaveKeyWithValue("greeting.txt", "Hello from revision 2"))
		Expect(releaseRecords(ctx, ns, "hello-edge")).To(Equal([]string{
			"sh.helm.release.v1.hello-edge.v1", "sh.helm.release.v1.hello-edge.v2"}))
	})

	It("corrects an edit made by hand in the second cluster", func(ctx SpecContext) {
		cm := &corev1.ConfigMap{}
		Expect(remote.Get(ctx, client.ObjectKey{Namespace: edgeNamespace, Name: "hello-edge"}, cm)).To(Succeed())
		cm.Data["greeting.txt"] = "edited by hand"
		Expect(remote.Update(ctx, cm)).To(Succeed())
		Eventually(func() map[string]string { return remoteConfigMap(ctx, remote, "hello-edge") }).
			WithTimeout(30 * time.Second).WithPolling(time.Second).Should(HaveKeyWithValue("greeting.txt", "Hello from revision 2"))
		Eventually(func() []string { return eventReasons(ctx, ns, "Release", "hello-edge") }).
			WithTimeout(10 * time.Second).Should(ContainElement("Normal/" + capstanv1.DriftCorrectedReason))
		Expect(getRelease(ctx, ns, "hello-edge").Status.CurrentRevision).To(Equal(2), "no new revision")
	})

	It("uninstalls from the second cluster when the user deletes the Release", func(ctx SpecContext) {
		_, _, err := kubectl(ctx, "delete", "release", "hello-edge", "-n", ns, "--timeout=90s")
		Expect(err).NotTo(HaveOccurred())
		Eventually(func() bool {
			err := remote.Get(ctx, client.ObjectKey{Namespace: edgeNamespace, Name: "hello-edge"}, &appsv1.Deployment{})
			return apierrors.IsNotFound(err)
		}).WithTimeout(30 * time.Second).Should(BeTrue())
		Expect(remoteConfigMap(ctx, remote, "hello-edge")).To(BeNil())
		Expect(releaseRecords(ctx, ns, "hello-edge")).To(BeEmpty())
		Expect(remote.Get(ctx, client.ObjectKey{Name: edgeNamespace}, &corev1.Namespace{})).To(Succeed(),
			"the namespace createNamespace made is not part of the release")
	})

	It("runs a chart's post-install hook Job in the second cluster and records the run in the first", func(ctx SpecContext) {
		start := time.Now()
		apply(ctx, ns, fmt.Sprintf(`apiVersion: capstan.dev/v1alpha1
kind: Release
metadata:
  name: shop-edge
spec:
  chart:
    repositoryRef:
      name: examples
    name: stack
    version: "0.1.x"
  kubeConfig:
    secretRef:
      name: edge
  targetNamespace: %s
  timeout: 90s
`, edgeNamespace))
		Expect(kubectlWait(ctx, ns, "release/shop-edge", "condition=Ready", 2*time.Minute)).To(Succeed())
		timeStep("edge: stack with its hook to Ready", start)

		out, err := helmCLI(ctx, "status", "shop-edge", "-n", ns, "-o", "json")
		Expect(err).NotTo(HaveOccurred())
		var status helmStatus
		Expect(json.Unmarshal([]byte(out), &status)).To(Succeed(), out)
		Expect(status.Hooks).To(HaveLen(1))
		Expect(status.Hooks[0].Name).To(Equal("shop-edge-stack-seed"))
		Expect(status.Hooks[0].LastRun.Phase).To(Equal("Succeeded"), "the run is recorded in the first cluster")
		By("the second cluster's Job controller having seen the hook's pod finish")
		var events corev1.EventList
		Expect(remote.List(ctx, &events, client.InNamespace(edgeNamespace))).To(Succeed())
		completed := false
		for _, e := range events.Items {
			completed = completed || (e.InvolvedObject.Kind == "Job" && e.InvolvedObject.Name == "shop-edge-stack-seed" && e.Reason == "Completed")
		}
		Expect(completed).To(BeTrue(), "a Completed event of Job shop-edge-stack-seed in the second cluster")
		var jobs batchv1.JobList
		Expect(k8sClient.List(ctx, &jobs, client.InNamespace(ns))).To(Succeed())
		Expect(jobs.Items).To(BeEmpty(), "no Job ran in the Release's namespace of the first cluster")
		err = k8sClient.Get(ctx, client.ObjectKey{Name: edgeNamespace}, &corev1.Namespace{})
		Expect(apierrors.IsNotFound(err)).To(BeTrue(), "nor in a namespace %s there: %v", edgeNamespace, err)

		_, _, err = kubectl(ctx, "delete", "release", "shop-edge", "-n", ns, "--timeout=90s")
		Expect(err).NotTo(HaveOccurred())
		Expect(releaseRecords(ctx, ns, "shop-edge")).To(BeEmpty())
	})
})

// remoteConfigMap returns the data of a ConfigMap of the edge namespace in the second cluster,
// nil when it does not exist.
func remoteConfigMap(ctx context.Context, c client.Client, name string) map[string]string {
	var cm corev1.ConfigMap
	err := c.Get(ctx, client.ObjectKey{Namespace: edgeNamespace, Name: name}, &cm)
	if apierrors.IsNotFound(err) {
		return nil
	}
	Expect(err).NotTo(HaveOccurred())
	return cm.Data
}

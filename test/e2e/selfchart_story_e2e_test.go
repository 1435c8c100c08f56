package e2e

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/capstan-dev/capstan/internal/chart"
	"github.com/capstan-dev/capstan/internal/repo"
)

// selfChartRepo packages Capstan's own chart, charts/capstan, twice — as it is (0.1.0, image tag
// 0.1.0) and as version 0.2.0 with appVersion 0.2.0 (so the image tag changes) — indexes both
// and serves them from a loopback HTTP chart repository; it returns the repository's URL.
func selfChartRepo() string {
	dir := GinkgoT().TempDir()
	src := filepath.Join(repoRoot, "charts", "capstan")
	_, err := chart.Package(src, dir, chart.PackageOptions{})
	Expect(err).NotTo(HaveOccurred())
	_, err = chart.Package(src, dir, chart.PackageOptions{Version: "0.2.0", AppVersion: "0.2.0"})
	Expect(err).NotTo(HaveOccurred())
	index, err := repo.IndexDirectory(dir, "", "")
	Expect(err).NotTo(HaveOccurred())
	Expect(os.WriteFile(filepath.Join(dir, "index.yaml"), index, 0o600)).To(Succeed())
	srv := httptest.NewServer(http.FileServer(http.Dir(dir)))
	DeferCleanup(srv.Close)
	return srv.URL
}

// selfRelease is a ChartRepository serving Capstan's chart and a Release of it at version with
// the given values (JSON).
func selfRelease(url, version, values string) string {
	return fmt.Sprintf(`apiVersion: capstan.dev/v1alpha1
kind: ChartRepository
metadata:
  name: capstan-charts
spec:
  url: %s
---
apiVersion: capstan.dev/v1alpha1
kind: Release
metadata:
  name: capstan-self
spec:
  chart:
    repositoryRef:
      name: capstan-charts
    name: capstan
    version: %q
  timeout: 2m
  values: %s
`, url, version, values)
}

// managerContainer returns the one container of a manager Deployment.
func managerContainer(d *appsv1.Deployment) corev1.Container {
	Expect(d.Spec.Template.Spec.Containers).To(HaveLen(1))
	return d.Spec.Template.Spec.Containers[0]
}

var _ = Describe("Capstan's own chart, installed with helm and then by Capstan itself", Ordered, ContinueOnFailure, func() {
	var helmNS, ns, url string
	BeforeAll(func(ctx SpecContext) {
		helmNS, ns = newNamespace(ctx), newNamespace(ctx)
		url = selfChartRepo()
	})
	AfterEach(func(ctx SpecContext) {
		if CurrentSpecReport().Failed() {
			describeNamespace(ctx, ns)
		}
	})

	It("installs with helm install: RBAC, the manager Deployment running on kwok", func(ctx SpecContext) {
		// Not the release name capstan: the config/default story may have created capstan-manager.
		start := time.Now()
		out, err := helmCLI(ctx, "install", "capstan-helm", filepath.Join(repoRoot, "charts", "capstan"), "-n", helmNS)
		Expect(err).NotTo(HaveOccurred(), out)
		DeferCleanup(func(ctx SpecContext) {
			out, err := helmCLI(ctx, "uninstall", "capstan-helm", "-n", helmNS)
			Expect(err).NotTo(HaveOccurred(), out)
			err = k8sClient.Get(ctx, client.ObjectKey{Name: "capstan-helm-manager"}, &rbacv1.ClusterRole{})
			Expect(apierrors.IsNotFound(err)).To(BeTrue(), "helm uninstall removes the ClusterRole: %v", err)
		})
		pods := expectDeploymentRunning(ctx, helmNS, "capstan-helm-manager", 1)
		timeStep("self chart: helm install to the manager running", start)
		Expect(pods[0].Spec.ServiceAccountName).To(Equal("capstan-helm-manager"))
		Expect(pods[0].Spec.Containers[0].Image).To(Equal("capstan:0.1.0"))

		for _, obj := range []client.Object{&rbacv1.ClusterRole{}, &rbacv1.ClusterRoleBinding{}} {
			Expect(k8sClient.Get(ctx, client.ObjectKey{Name: "capstan-helm-manager"}, obj)).To(Succeed())
		}
		Expect(k8sClient.Get(ctx, client.ObjectKey{Namespace: helmNS, Name: "capstan-helm-manager"}, &corev1.ServiceAccount{})).To(Succeed())
		Expect(k8sClient.Get(ctx, client.ObjectKey{Namespace: helmNS, Name: "capstan-helm-leader-election"}, &rbacv1.Role{})).To(Succeed())
		Expect(k8sClient.Get(ctx, client.ObjectKey{Namespace: helmNS, Name: "capstan-helm-leader-election"}, &rbacv1.RoleBinding{})).To(Succeed())
		Expect(k8sClient.Get(ctx, client.ObjectKey{Name: "capstan-helm-edit"}, &rbacv1.ClusterRole{})).To(Succeed())

		By("the manager running as the multi-tenant lockdown, as config/default")
		var d appsv1.Deployment
		Expect(k8sClient.Get(ctx, client.ObjectKey{Namespace: helmNS, Name: "capstan-helm-manager"}, &d)).To(Succeed())
		Expect(managerContainer(&d).Args).To(ContainElements("--leader-elect", "--default-service-account=capstan-release", "--deny-private-networks"))
		Expect(mustHelm(ctx, "get", "notes", "capstan-helm", "-n", helmNS)).To(ContainSubstring(
			"kubectl -n " + helmNS + " rollout status deployment/capstan-helm-manager"))
		Expect(parseHelmList(mustHelm(ctx, "list", "-n", helmNS, "-o", "json"))).To(ConsistOf(SatisfyAll(
			HaveField("Name", "capstan-helm"), HaveField("Status", "deployed"), HaveField("Chart", "capstan-0.1.0"))))
	})

	It("is installed by Capstan from a chart repository, as a Release", func(ctx SpecContext) {
		start := time.Now()
		apply(ctx, ns, selfRelease(url, "0.1.0", `{}`))
		Expect(kubectlWait(ctx, ns, "release/capstan-self", "condition=Ready", 3*time.Minute)).To(Succeed())
		timeStep("self chart: Release 0.1.0 to Ready", start)

		rel := getRelease(ctx, ns, "capstan-self")
		Expect(rel.Status.CurrentRevision).To(Equal(1))
		Expect(rel.Status.ChartVersion).To(Equal("0.1.0"))
		Expect(historyOf(rel)).To(Equal([]snapshotView{{1, "install", "deployed", "Install complete"}}))
		pods := expectDeploymentRunning(ctx, ns, "capstan-self-manager", 1)
		Expect(pods[0].Spec.Containers[0].Image).To(Equal("capstan:0.1.0"))
		Expect(k8sClient.Get(ctx, client.ObjectKey{Name: "capstan-self-manager"}, &rbacv1.ClusterRole{})).To(Succeed())

		notes, err := capstanCLI(ctx, "get", "notes", "capstan-self", "-n", ns)
		Expect(err).NotTo(HaveOccurred())
		Expect(notes).To(ContainSubstring("kubectl -n " + ns + " rollout status deployment/capstan-self-manager"))
		Expect(notes).To(ContainSubstring("Multi-tenant lockdown"))
	})

	It("upgrades itself to a new chart version and values, keeping helm's history", func(ctx SpecContext) {
		start := time.Now()
		apply(ctx, ns, selfRelease(url, "0.2.0", `{"logLevel": "debug", "replicaCount": 2}`))
		Eventually(func(g Gomega) {
			rel := getRelease(ctx, ns, "capstan-self")
			g.Expect(rel.Status.CurrentRevision).To(Equal(2))
			g.Expect(rel.Status.ObservedGeneration).To(Equal(rel.Generation))
		}).WithContext(ctx).WithTimeout(3 * time.Minute).WithPolling(time.Second).Should(Succeed())
		Expect(kubectlWait(ctx, ns, "release/capstan-self", "condition=Ready", 3*time.Minute)).To(Succeed())
		timeStep("self chart: upgrade 0.1.0 -> 0.2.0 to Ready", start)

		rel := getRelease(ctx, ns, "capstan-self")
		Expect(rel.Status.ChartVersion).To(Equal("0.2.0"))
		Expect(rel.Status.AppVersion).To(Equal("0.2.0"))
		Expect(historyOf(rel)).To(Equal([]snapshotView{
			{1, "install", "superseded", "Install complete"},
			{2, "upgrade", "deployed", "Upgrade complete"},
		}))
		pods := expectDeploymentRunning(ctx, ns, "capstan-self-manager", 2)
		Expect(pods[0].Spec.Containers[0].Image).To(Equal("capstan:0.2.0"))
		var d appsv1.Deployment
		Expect(k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: "capstan-self-manager"}, &d)).To(Succeed())
		Expect(managerContainer(&d).Args).To(ContainElement("--log-level=debug"))
		Expect(d.Labels).To(HaveKeyWithValue("helm.sh/chart", "capstan-0.2.0"))

		By("helm reading the same two revisions from Capstan's records")
		rows := parseHistory(mustHelm(ctx, "history", "capstan-self", "-n", ns, "-o", "json"))
		Expect(rows).To(HaveLen(2))
		Expect(rows[0]).To(SatisfyAll(HaveField("Revision", 1), HaveField("Status", "superseded"), HaveField("Chart", "capstan-0.1.0")))
		Expect(rows[1]).To(SatisfyAll(HaveField("Revision", 2), HaveField("Status", "deployed"), HaveField("Chart", "capstan-0.2.0"),
			HaveField("AppVersion", "0.2.0")))
	})

	It("is uninstalled when the Release is deleted; the CRDs stay", func(ctx SpecContext) {
		_, _, err := kubectl(ctx, "delete", "-n", ns, "release/capstan-self", "--timeout=2m")
		Expect(err).NotTo(HaveOccurred())
		for _, obj := range []client.Object{&rbacv1.ClusterRole{}, &rbacv1.ClusterRoleBinding{}} {
			err := k8sClient.Get(ctx, client.ObjectKey{Name: "capstan-self-manager"}, obj)
			Expect(apierrors.IsNotFound(err)).To(BeTrue(), "%T capstan-self-manager: %v", obj, err)
		}
		err = k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: "capstan-self-manager"}, &appsv1.Deployment{})
		Expect(apierrors.IsNotFound(err)).To(BeTrue(), "the Deployment is gone: %v", err)
		_, _, err = kubectl(ctx, "get", "crd", "releases.capstan.dev")
		Expect(err).NotTo(HaveOccurred(), "crds/ CRDs are never deleted, as with helm")
	})
})

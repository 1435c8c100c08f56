package api_test

import (
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	capstanv1 "github.com/capstan-dev/capstan/api/v1alpha1"
)

// table splits kubectl's tabular output into lines of whitespace-separated fields.
func table(out string) [][]string {
	var rows [][]string
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		rows = append(rows, strings.Fields(line))
	}
	return rows
}

// readyCondition returns a Ready condition with the given status and message.
func readyCondition(status metav1.ConditionStatus, reason, message string) metav1.Condition {
	return metav1.Condition{Type: capstanv1.ReadyCondition, Status: status, Reason: reason, Message: message, LastTransitionTime: metav1.Now()}
}

var _ = Describe("kubectl", func() {
	var ns string
	BeforeEach(func(ctx SpecContext) { ns = newNamespace(ctx) })

	It("prints the Release columns, empty before the controller reports and filled after", func(ctx SpecContext) {
		Expect(k8sClient.Create(ctx, releaseObj(ns, "web"))).To(Succeed())

		out, err := kubectl(ctx, "get", "releases", "-n", ns)
		Expect(err).NotTo(HaveOccurred())
		rows := table(out)
		Expect(rows[0]).To(Equal([]string{"NAME", "CHART", "VERSION", "REVISION", "READY", "VERIFIED", "STATUS", "AGE"}))
		Expect(rows[1][0]).To(Equal("web"))

		rel := &capstanv1.Release{}
		Expect(k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: "web"}, rel)).To(Succeed())
		rel.Status.ChartName, rel.Status.ChartVersion, rel.Status.CurrentRevision = "hello", "1.2.3", 3
		rel.SetConditions([]metav1.Condition{readyCondition(metav1.ConditionTrue, capstanv1.UpgradeSucceededReason, "Upgraded to 1.2.3"),
			{Type: capstanv1.VerifiedCondition, Status: metav1.ConditionTrue, Reason: capstanv1.VerificationSucceededReason,
				Message: "chart hello 1.2.3 is signed", LastTransitionTime: metav1.Now()}})
		Expect(k8sClient.Status().Update(ctx, rel)).To(Succeed())

		out, err = kubectl(ctx, "get", "releases", "-n", ns)
		Expect(err).NotTo(HaveOccurred())
		rows = table(out)
		Expect(rows).To(HaveLen(2))
		Expect(rows[1][:9]).To(Equal([]string{"web", "hello", "1.2.3", "3", "True", "True", "Upgraded", "to", "1.2.3"}))
	})

	It("prints the ChartRepository columns", func(ctx SpecContext) {
		Expect(k8sClient.Create(ctx, repoObj(ns, "examples"))).To(Succeed())
		repo := &capstanv1.ChartRepository{}
		Expect(k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: "examples"}, repo)).To(Succeed())
		repo.Status.Index = &capstanv1.IndexSummary{Digest: "sha256:00", Size: 1234, Charts: 42, Versions: 420, FetchedAt: metav1.Now()}
		repo.SetConditions([]metav1.Condition{readyCondition(metav1.ConditionFalse, capstanv1.IndexFetchFailedReason, "HTTP 503")})
		Expect(k8sClient.Status().Update(ctx, repo)).To(Succeed())

		out, err := kubectl(ctx, "get", "crepo", "-n", ns)
		Expect(err).NotTo(HaveOccurred())
		rows := table(out)
		Expect(rows[0]).To(Equal([]string{"NAME", "URL", "CHARTS", "READY", "STATUS", "AGE"}))
		Expect(rows[1][:6]).To(Equal([]string{"examples", "https://charts.example.com/stable", "42", "False", "HTTP", "503"}))
	})

	It("knows the short names and the capstan category", func(ctx SpecContext) {
		Expect(k8sClient.Create(ctx, releaseObj(ns, "web"))).To(Succeed())
		Expect(k8sClient.Create(ctx, repoObj(ns, "examples"))).To(Succeed())

		out, err := kubectl(ctx, "get", "rel", "-n", ns, "-o", "name")
		Expect(err).NotTo(HaveOccurred())
		Expect(strings.Fields(out)).To(Equal([]string{"release.capstan.dev/web"}))

		out, err = kubectl(ctx, "get", "capstan", "-n", ns, "-o", "name")
		Expect(err).NotTo(HaveOccurred())
		Expect(strings.Fields(out)).To(ConsistOf("release.capstan.dev/web", "chartrepository.capstan.dev/examples"))
	})

	It("explains the fields with the types' documentation", func(ctx SpecContext) {
		out, err := kubectl(ctx, "explain", "release.spec.chart")
		Expect(err).NotTo(HaveOccurred())
		Expect(out).To(ContainSubstring("Chart says which chart to install"))
		Expect(out).To(ContainSubstring("repositoryRef"))
		Expect(out).To(ContainSubstring("newest stable version"))

		out, err = kubectl(ctx, "explain", "chartrepository.spec.url")
		Expect(err).NotTo(HaveOccurred())
		Expect(out).To(ContainSubstring("credentials belong in secretRef"))
	})
})

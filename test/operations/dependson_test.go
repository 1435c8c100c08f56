package operations

import (
	"context"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
	"sigs.k8s.io/controller-runtime/pkg/client"

	capstanv1 "github.com/capstan-dev/capstan/api/v1alpha1"
)

var _ = Describe("dependsOn", func() {
	It("installs three Releases in dependency order, each after the one before it is Ready", func(ctx SpecContext) {
		ns := newNamespace(ctx, "depends")
		seenObjects := recordEvents(ctx, ns, map[string]client.ObjectList{
			"Secret": &corev1.SecretList{}, "Deployment": &appsv1.DeploymentList{},
		})

		By("creating web (needs api) and api (needs db) before db exists")
		Expect(k8sClient.Create(ctx, app("web", ns).DependsOn("api").Obj())).To(Succeed())
		Expect(k8sClient.Create(ctx, app("api", ns).DependsOn("db").Obj())).To(Succeed())
		Eventually(func(g Gomega) {
			for name, dep := range map[string]string{"web": "api", "api": "db"} {
				ready := condition(getRelease(g, ctx, ns, name), capstanv1.ReadyCondition)
				g.Expect(ready.Status).To(Equal(metav1.ConditionFalse), name)
				g.Expect(ready.Reason).To(Equal(capstanv1.DependencyNotReadyReason), name)
				g.Expect(ready.Message).To(ContainSubstring(ns+"/"+dep), name)
			}
		}).WithContext(ctx).Should(Succeed())
		Expect(records(ctx, ns, "web")).To(BeEmpty())
		Expect(records(ctx, ns, "api")).To(BeEmpty())

		By("creating db, which lets the chain install")
		started := time.Now()
		Expect(k8sClient.Create(ctx, app("db", ns).Obj())).To(Succeed())
		for _, name := range []string{"db", "api", "web"} {
			expectReadyAt(ctx, ns, name, 1)
		}
		AddReportEntry("db created to web Ready", since(started))

		By("checking from the watched writes that each install began only after its dependency was deployed and available")
		Expect(seenObjects.Closed()).To(BeEmpty())
		for _, pair := range [][2]string{{"db", "api"}, {"api", "web"}} {
			dep, next := pair[0], pair[1]
			deployedAt := firstRV(ctx, seenObjects, func(e seen) bool {
				return e.Kind == "Secret" && e.Name == "sh.helm.release.v1."+dep+".v1" && e.Obj.GetLabels()["status"] == "deployed"
			})
			availableAt := firstRV(ctx, seenObjects, func(e seen) bool {
				d, ok := e.Obj.(*appsv1.Deployment)
				return ok && e.Name == dep && d.Status.AvailableReplicas >= 1
			})
			startedAt := firstRV(ctx, seenObjects, func(e seen) bool {
				return e.Kind == "Secret" && e.Name == "sh.helm.release.v1."+next+".v1" && e.Type == watch.Added
			})
			appliedAt := firstRV(ctx, seenObjects, func(e seen) bool { return e.Kind == "Deployment" && e.Name == next })
			Expect(availableAt).To(BeNumerically("<", deployedAt), "%s is deployed only once its Deployment is available", dep)
			Expect(deployedAt).To(BeNumerically("<", startedAt), "%s's first revision is recorded after %s was deployed", next, dep)
			Expect(startedAt).To(BeNumerically("<", appliedAt), "%s's objects are applied after its revision is recorded", next)
		}
	})
})

// firstRV waits until the recorder saw an event that matches, and returns its resourceVersion.
func firstRV(ctx context.Context, r *recorder, match func(seen) bool) int64 {
	Eventually(func() []seen { return r.Events(match) }).WithContext(ctx).WithTimeout(5 * time.Second).ShouldNot(BeEmpty())
	return r.Events(match)[0].RV
}

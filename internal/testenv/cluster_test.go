package testenv_test

import (
	"context"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/capstan-dev/capstan/internal/testenv"
)

// TestStartCluster proves the local cluster runs workloads to completion: a Deployment becomes
// Available on a kwok node, which is what health checks downstream rely on.
func TestStartCluster(t *testing.T) {
	g := NewWithT(t)
	c, err := testenv.StartCluster()
	g.Expect(err).NotTo(HaveOccurred())
	defer c.Stop()

	k, err := client.New(c.Config, client.Options{})
	g.Expect(err).NotTo(HaveOccurred())
	ctx := context.Background()
	labels := map[string]string{"app": "probe"}
	dep := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "probe", Namespace: "default"},
		Spec: appsv1.DeploymentSpec{
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "example.invalid/probe"}}},
			},
		},
	}
	g.Expect(k.Create(ctx, dep)).To(Succeed())
	g.Eventually(func(g Gomega) {
		g.Expect(k.Get(ctx, client.ObjectKeyFromObject(dep), dep)).To(Succeed())
		g.Expect(dep.Status.AvailableReplicas).To(Equal(int32(1)))
	}).WithTimeout(60 * time.Second).WithPolling(500 * time.Millisecond).Should(Succeed())
}

package operations

import (
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	capstanv1 "github.com/capstan-dev/capstan/api/v1alpha1"
)

var _ = Describe("A Release with a service account", func() {
	It("that lacks rights stalls and writes nothing, and installs once the rights are granted", func(ctx SpecContext) {
		const name, account = "guarded", "deployer"
		ns := newNamespace(ctx, "impersonate")

		By("creating a service account that may write Secrets and ConfigMaps but only read Deployments")
		role := &rbacv1.Role{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: account},
			Rules: []rbacv1.PolicyRule{
				{APIGroups: []string{""}, Resources: []string{"secrets", "configmaps"}, Verbs: []string{"*"}},
				{APIGroups: []string{"apps"}, Resources: []string{"deployments"}, Verbs: []string{"get", "list", "watch"}},
			},
		}
		Expect(k8sClient.Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: account}})).To(Succeed())
		Expect(k8sClient.Create(ctx, role)).To(Succeed())
		Expect(k8sClient.Create(ctx, &rbacv1.RoleBinding{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: account},
			RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: account},
			Subjects:   []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Namespace: ns, Name: account}},
		})).To(Succeed())

		By("installing a chart with a ConfigMap and a Deployment as that account")
		Expect(k8sClient.Create(ctx, app(name, ns).ServiceAccount(account).Obj())).To(Succeed())
		var rel *capstanv1.Release
		Eventually(func(g Gomega) {
			rel = getRelease(g, ctx, ns, name)
			stalled := condition(rel, capstanv1.StalledCondition)
			g.Expect(stalled.Status).To(Equal(metav1.ConditionTrue), "Ready: %v", condition(rel, capstanv1.ReadyCondition))
			g.Expect(stalled.Reason).To(Equal(capstanv1.AccessDeniedReason))
			g.Expect(rel.Status.ObservedGeneration).To(Equal(rel.Generation))
		}).WithContext(ctx).Should(Succeed())
		ready := condition(rel, capstanv1.ReadyCondition)
		AddReportEntry("Ready message while stalled", ready.Message)
		Expect(ready.Status).To(Equal(metav1.ConditionFalse))
		Expect(ready.Reason).To(Equal(capstanv1.AccessDeniedReason))
		Expect(ready.Message).To(And(ContainSubstring("deployments"), ContainSubstring("system:serviceaccount:"+ns+":"+account)))
		Expect(eventReasons(ctx, ns, name)).To(ContainElement(capstanv1.AccessDeniedReason))

		By("checking that nothing was written, not even what the account may write")
		Consistently(func(g Gomega) {
			var cms corev1.ConfigMapList
			g.Expect(k8sClient.List(ctx, &cms, client.InNamespace(ns))).To(Succeed())
			g.Expect(names(&cms)).To(ConsistOf("kube-root-ca.crt"))
			var secrets corev1.SecretList
			g.Expect(k8sClient.List(ctx, &secrets, client.InNamespace(ns))).To(Succeed())
			g.Expect(names(&secrets)).To(BeEmpty(), "no revision record either")
			var deps appsv1.DeploymentList
			g.Expect(k8sClient.List(ctx, &deps, client.InNamespace(ns))).To(Succeed())
			g.Expect(deps.Items).To(BeEmpty())
			g.Expect(condition(getRelease(g, ctx, ns, name), capstanv1.StalledCondition).Reason).To(Equal(capstanv1.AccessDeniedReason))
		}).WithContext(ctx).WithTimeout(3 * time.Second).Should(Succeed())

		By("granting the missing rights and asking for a reconcile, as a user would")
		role.Rules[1].Verbs = []string{"*"}
		Expect(k8sClient.Update(ctx, role)).To(Succeed())
		_, err := kubectl(ctx, nil, "annotate", "-n", ns, "--overwrite", "release/"+name,
			capstanv1.ReconcileRequestAnnotation+"="+time.Now().Format(time.RFC3339Nano))
		Expect(err).NotTo(HaveOccurred())
		expectReadyAt(ctx, ns, name, 1)
		expectRolledOut(ctx, ns, name)
		Expect(records(ctx, ns, name)).To(Equal([]string{"v1=deployed"}))
	})
})

// names lists the names of a list's items.
func names(list client.ObjectList) []string {
	var out []string
	Expect(meta.EachListItem(list, func(o runtime.Object) error {
		if m, ok := o.(metav1.Object); ok {
			out = append(out, m.GetName())
		}
		return nil
	})).To(Succeed())
	return out
}

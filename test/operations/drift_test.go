package operations

import (
	"context"
	"os"
	"path/filepath"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	capstanv1 "github.com/capstan-dev/capstan/api/v1alpha1"
)

// driftInterval is the Releases' spec.interval in the drift scenarios: drift is looked for on
// every periodic reconcile.
const driftInterval = 5 * time.Second

var _ = Describe("Drift", func() {
	It("made with kubectl edit and kubectl delete is corrected when drift detection is enabled", func(ctx SpecContext) {
		const name = "site"
		ns := newNamespace(ctx, "drift-fix")
		Expect(k8sClient.Create(ctx, app(name, ns).Drift(capstanv1.DriftDetectionEnabled).Interval(driftInterval).Obj())).To(Succeed())
		expectReadyAt(ctx, ns, name, 1)
		deployed := expectRolledOut(ctx, ns, name)
		settings, _ := configMap(ctx, ns, name+"-settings")

		By("editing the ConfigMap and the Deployment with kubectl edit")
		edited := time.Now()
		kubectlEdit(ctx, ns, "configmap/"+name+"-settings", "s/color: blue/color: red/")
		kubectlEdit(ctx, ns, "deployment/"+name, "s|image: example.invalid/app:1.0|image: example.invalid/app:hotfix|")
		cm, _ := configMap(ctx, ns, name+"-settings")
		Expect(cm.Data).To(HaveKeyWithValue("color", "red"), "kubectl edit changed the live object")

		By("waiting for the controller to put both back")
		Eventually(func(g Gomega) {
			cm, _ := configMap(ctx, ns, name+"-settings")
			g.Expect(cm).NotTo(BeNil())
			g.Expect(cm.Data).To(Equal(map[string]string{"color": "blue"}))
			g.Expect(deploymentImage(g, ctx, ns, name)).To(Equal("example.invalid/app:1.0"))
		}).WithContext(ctx).Should(Succeed())
		AddReportEntry("kubectl edit corrected after", since(edited))
		expectDrifted(ctx, ns, name, metav1.ConditionFalse, capstanv1.DriftCorrectedReason)
		expectRolledOut(ctx, ns, name)

		By("deleting the ConfigMap and the Deployment with kubectl delete")
		deleted := time.Now()
		_, err := kubectl(ctx, nil, "delete", "-n", ns, "configmap/"+name+"-settings", "deployment/"+name)
		Expect(err).NotTo(HaveOccurred())

		By("waiting for the controller to create them again")
		Eventually(func(g Gomega) {
			cm, found := configMap(ctx, ns, name+"-settings")
			g.Expect(found).To(BeTrue())
			g.Expect(cm.UID).NotTo(Equal(settings.UID))
			g.Expect(cm.Data).To(Equal(map[string]string{"color": "blue"}))
			dep := &appsv1.Deployment{}
			g.Expect(k8sClient.Get(ctx, types.NamespacedName{Namespace: ns, Name: name}, dep)).To(Succeed())
			g.Expect(dep.UID).NotTo(Equal(deployed.UID))
		}).WithContext(ctx).Should(Succeed())
		AddReportEntry("kubectl delete corrected after", since(deleted))
		expectRolledOut(ctx, ns, name)
		expectDrifted(ctx, ns, name, metav1.ConditionFalse, capstanv1.DriftCorrectedReason)

		By("checking that correcting drift made no new revision")
		rel := expectReadyAt(ctx, ns, name, 1)
		Expect(records(ctx, ns, name)).To(Equal([]string{"v1=deployed"}))
		Expect(rel.Status.History).To(HaveLen(1))
		Expect(eventReasons(ctx, ns, name)).To(ContainElement(capstanv1.DriftCorrectedReason))
	})

	It("made with kubectl edit and kubectl delete is reported, and left alone, in warn mode", func(ctx SpecContext) {
		const name = "site"
		ns := newNamespace(ctx, "drift-warn")
		Expect(k8sClient.Create(ctx, app(name, ns).Drift(capstanv1.DriftDetectionWarn).Interval(driftInterval).Obj())).To(Succeed())
		expectReadyAt(ctx, ns, name, 1)
		expectRolledOut(ctx, ns, name)

		By("editing the ConfigMap with kubectl edit and deleting the Deployment with kubectl delete")
		changed := time.Now()
		kubectlEdit(ctx, ns, "configmap/"+name+"-settings", "s/color: blue/color: red/")
		_, err := kubectl(ctx, nil, "delete", "-n", ns, "deployment/"+name)
		Expect(err).NotTo(HaveOccurred())

		By("waiting for the drift to be reported")
		want := "2 object(s) drifted from the deployed revision: ConfigMap/" + ns + "/" + name + "-settings (/data/color); " +
			"Deployment/" + ns + "/" + name + " (missing)"
		Eventually(func(g Gomega) {
			rel := getRelease(g, ctx, ns, name)
			drifted := condition(rel, capstanv1.DriftedCondition)
			g.Expect(drifted.Status).To(Equal(metav1.ConditionTrue), drifted.Message)
			g.Expect(drifted.Reason).To(Equal(capstanv1.DriftDetectedReason))
			g.Expect(drifted.Message).To(Equal(want))
		}).WithContext(ctx).Should(Succeed())
		AddReportEntry("drift reported after", since(changed))
		Expect(eventReasons(ctx, ns, name)).To(ContainElement(capstanv1.DriftDetectedReason))

		By("checking that nothing is put back for more than one interval, and the Release stays Ready")
		Consistently(func(g Gomega) {
			cm, _ := configMap(ctx, ns, name+"-settings")
			g.Expect(cm.Data).To(HaveKeyWithValue("color", "red"))
			g.Expect(exists(ctx, &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}})).To(BeFalse())
			rel := getRelease(g, ctx, ns, name)
			g.Expect(condition(rel, capstanv1.ReadyCondition).Status).To(Equal(metav1.ConditionTrue))
			g.Expect(condition(rel, capstanv1.DriftedCondition).Message).To(Equal(want))
		}).WithContext(ctx).WithTimeout(driftInterval + 2*time.Second).Should(Succeed())
		Expect(records(ctx, ns, name)).To(Equal([]string{"v1=deployed"}))

		By("switching drift detection to enabled, which corrects what was reported")
		update(ctx, ns, name, func(r *capstanv1.Release) { r.Spec.DriftDetection.Mode = capstanv1.DriftDetectionEnabled })
		Eventually(func(g Gomega) {
			cm, _ := configMap(ctx, ns, name+"-settings")
			g.Expect(cm.Data).To(Equal(map[string]string{"color": "blue"}))
			g.Expect(deploymentImage(g, ctx, ns, name)).To(Equal("example.invalid/app:1.0"))
		}).WithContext(ctx).Should(Succeed())
		expectDrifted(ctx, ns, name, metav1.ConditionFalse, capstanv1.DriftCorrectedReason)
		expectReadyAt(ctx, ns, name, 1)
		expectRolledOut(ctx, ns, name)
		Expect(records(ctx, ns, name)).To(Equal([]string{"v1=deployed"}))
	})
})

// kubectlEdit runs `kubectl edit` on one object with an editor that applies a sed expression to
// the file kubectl opens, as a user changing the object by hand.
func kubectlEdit(ctx context.Context, ns, object, sedExpr string) {
	editor := filepath.Join(GinkgoT().TempDir(), "editor.sh")
	Expect(os.WriteFile(editor, []byte("#!/bin/sh\nexec sed -i -e \"$CAPSTAN_EDIT\" \"$@\"\n"), 0o700)).To(Succeed())
	out, err := kubectl(ctx, []string{"KUBE_EDITOR=" + editor, "CAPSTAN_EDIT=" + sedExpr}, "edit", "-n", ns, object)
	Expect(err).NotTo(HaveOccurred())
	Expect(out).To(ContainSubstring("edited"))
}

// deploymentImage returns the image of a Deployment's first container.
func deploymentImage(g Gomega, ctx context.Context, ns, name string) string {
	dep := &appsv1.Deployment{}
	g.Expect(k8sClient.Get(ctx, types.NamespacedName{Namespace: ns, Name: name}, dep)).To(Succeed())
	g.Expect(dep.Spec.Template.Spec.Containers).NotTo(BeEmpty())
	return dep.Spec.Template.Spec.Containers[0].Image
}

// expectDrifted waits until a Release's Drifted condition has a status and reason.
func expectDrifted(ctx context.Context, ns, name string, status metav1.ConditionStatus, reason string) {
	Eventually(func(g Gomega) {
		drifted := condition(getRelease(g, ctx, ns, name), capstanv1.DriftedCondition)
		g.Expect(drifted.Status).To(Equal(status), drifted.Message)
		g.Expect(drifted.Reason).To(Equal(reason))
	}).WithContext(ctx).Should(Succeed())
}

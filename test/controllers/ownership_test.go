package controllers_test

import (
	"context"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	capstanv1 "github.com/capstan-dev/capstan/api/v1alpha1"
	"github.com/capstan-dev/capstan/internal/apply"
	"github.com/capstan-dev/capstan/internal/chart"
	"github.com/capstan-dev/capstan/internal/storage"
)

// inTarget starts a Release of the demo chart that installs into another namespace.
func inTarget(name, ns, target, version string, values map[string]any) *capstanv1.Release {
	b := demo(name, ns, version)
	if values != nil {
		b = b.Values(values)
	}
	rel := b.Obj()
	rel.Spec.TargetNamespace = target
	return rel
}

// annotationsOf reads a ConfigMap's annotations.
func annotationsOf(ctx context.Context, ns, name string) map[string]string {
	var cm corev1.ConfigMap
	Expect(k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, &cm)).To(Succeed())
	return cm.Annotations
}

// expectUntouched checks that the controller wrote nothing in the target namespace since its
// calls were reset, and only the Release itself in its own namespace.
func expectUntouched(target, own string) {
	Expect(calls.writesIn(target)).To(BeEmpty(), "nothing may be written in the target namespace")
	for _, w := range calls.writesIn(own) {
		Expect(w).To(MatchRegexp(`Release|Event`), "only the Release itself (finalizer, status) may be written; got %q", w)
	}
}

// installHelmRecord stores what `helm install <name> -n <ns>` leaves behind for the demo chart's
// ConfigMap: a deployed record without Capstan's labels and the object with helm's annotations.
func installHelmRecord(ctx context.Context, ns, name string) {
	manifest := "---\n# Source: demo/templates/configmap.yaml\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: " +
		name + "-config\ndata:\n  greeting: \"from-helm\"\n"
	now := time.Now().UTC().Truncate(time.Second)
	rec := &storage.Release{Name: name, Namespace: ns, Version: 1, Manifest: manifest,
		Info:  storage.Info{FirstDeployed: now, LastDeployed: now, Status: storage.StatusDeployed, Description: "Install complete"},
		Chart: storage.Chart{Metadata: &chart.Metadata{APIVersion: "v2", Name: "demo", Version: "1.0.0", AppVersion: "1.0"}}}
	Expect(storage.NewStore(k8sClient).Create(ctx, rec)).To(Succeed())
	cm := &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name + "-config",
			Labels:      map[string]string{apply.ManagedByLabel: apply.ManagedByHelm},
			Annotations: map[string]string{apply.ReleaseNameAnnotation: name, apply.ReleaseNamespaceAnnotation: ns}},
		Data: map[string]string{"greeting": "from-helm"},
	}
	Expect(k8sClient.Create(ctx, cm, client.FieldOwner("helm"))).To(Succeed())
}

var _ = Describe("Ownership between releases", func() {
	It("stalls a second Release of the same release name and target from another namespace, even with takeOwnership, and never touches the first's objects", func(ctx SpecContext) {
		target, first, second := newNamespace(ctx), newNamespace(ctx), newNamespace(ctx)
		Expect(k8sClient.Create(ctx, inTarget("web", first, target, "1.0.0", nil))).To(Succeed())
		expectReadyAt(ctx, first, "web", 1)
		Expect(annotationsOf(ctx, target, "web-config")).To(And(
			HaveKeyWithValue(apply.ReleaseAnnotation, first+"/web"),
			HaveKeyWithValue(apply.ReleaseNameAnnotation, "web"),
			HaveKeyWithValue(apply.ReleaseNamespaceAnnotation, first),
		), "objects name the release by its storage namespace, as helm does")
		calls.reset(target)

		Expect(k8sClient.Create(ctx, inTarget("web", second, target, "1.1.0", map[string]any{"greeting": "mine"}))).To(Succeed())
		rel := expectStalled(ctx, second, "web", capstanv1.OwnershipConflictReason)
		Expect(condition(rel, capstanv1.ReadyCondition).Message).To(ContainSubstring(
			"ConfigMap/" + target + "/web-config: owned by release " + first + "/web"))
		Expect(records(ctx, second, "web")).To(BeEmpty())
		Expect(configMapData(ctx, target, "web-config")).To(HaveKeyWithValue("greeting", "hello"))
		expectUntouched(target, second)

		By("refusing to adopt the first's objects with install.takeOwnership")
		update(ctx, second, "web", func(r *capstanv1.Release) { r.Spec.Install = &capstanv1.Install{TakeOwnership: true} })
		rel = expectStalled(ctx, second, "web", capstanv1.OwnershipConflictReason)
		Expect(condition(rel, capstanv1.ReadyCondition).Message).To(ContainSubstring("owned by release " + first + "/web"))
		Expect(records(ctx, second, "web")).To(BeEmpty())
		Expect(annotationsOf(ctx, target, "web-config")).To(HaveKeyWithValue(apply.ReleaseAnnotation, first+"/web"))
		expectUntouched(target, second)

		By("deleting the second Release without pruning the first's objects")
		Expect(k8sClient.Delete(ctx, rel)).To(Succeed())
		Eventually(func() bool {
			return exists(ctx, &capstanv1.Release{ObjectMeta: metav1.ObjectMeta{Namespace: second, Name: "web"}})
		}).Should(BeFalse())
		Expect(configMapData(ctx, target, "web-config")).To(HaveKeyWithValue("greeting", "hello"))
		Expect(records(ctx, first, "web")).To(Equal([]string{"v1=deployed"}))
		expectUntouched(target, second)
		Consistently(func(g Gomega) {
			got := getRelease(g, ctx, first, "web")
			g.Expect(condition(got, capstanv1.ReadyCondition).Status).To(Equal(metav1.ConditionTrue))
			g.Expect(got.Status.CurrentRevision).To(Equal(1))
		}, time.Second).Should(Succeed())
	})

	It("neither corrects drift on nor prunes an object another release took over", func(ctx SpecContext) {
		ns := newNamespace(ctx)
		Expect(k8sClient.Create(ctx, demo("keeper", ns, "1.0.0").Interval(time.Second).Drift(capstanv1.DriftDetectionEnabled).Obj())).To(Succeed())
		expectReadyAt(ctx, ns, "keeper", 1)

		By("another release taking the ConfigMap over")
		cm := &corev1.ConfigMap{}
		Expect(k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: "keeper-config"}, cm)).To(Succeed())
		cm.Annotations[apply.ReleaseAnnotation] = "elsewhere/keeper"
		cm.Data["greeting"] = "theirs"
		Expect(k8sClient.Update(ctx, cm)).To(Succeed())
		calls.reset(ns)
		Consistently(func() map[string]string { return configMapData(ctx, ns, "keeper-config") }, 3*time.Second).
			Should(HaveKeyWithValue("greeting", "theirs"), "drift correction leaves another release's object alone")
		Expect(calls.listsIn(ns)).To(BeNumerically(">", 1), "the Release was reconciled meanwhile")
		Expect(condition(getRelease(Default, ctx, ns, "keeper"), capstanv1.DriftedCondition).Status).NotTo(Equal(metav1.ConditionTrue))

		By("uninstalling without deleting it")
		Expect(k8sClient.Delete(ctx, &capstanv1.Release{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "keeper"}})).To(Succeed())
		Eventually(func() bool {
			return exists(ctx, &capstanv1.Release{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "keeper"}})
		}).Should(BeFalse())
		Expect(records(ctx, ns, "keeper")).To(BeEmpty(), "the release was uninstalled")
		Expect(configMapData(ctx, ns, "keeper-config")).To(HaveKeyWithValue("greeting", "theirs"))
	})

	It("refuses to adopt with takeOwnership the objects of a helm release stored in the target namespace, which a Release there takes over", func(ctx SpecContext) {
		target, tenant := newNamespace(ctx), newNamespace(ctx)
		installHelmRecord(ctx, target, "web")
		calls.reset(target)

		rel := inTarget("web", tenant, target, "1.0.0", nil)
		rel.Spec.Install = &capstanv1.Install{TakeOwnership: true}
		Expect(k8sClient.Create(ctx, rel)).To(Succeed())
		rel = expectStalled(ctx, tenant, "web", capstanv1.OwnershipConflictReason)
		Expect(condition(rel, capstanv1.ReadyCondition).Message).To(ContainSubstring(
			"ConfigMap/" + target + "/web-config: owned by helm release " + target + "/web"))
		Expect(records(ctx, tenant, "web")).To(BeEmpty())
		Expect(records(ctx, target, "web")).To(Equal([]string{"v1=deployed"}), "helm's record is not touched")
		Expect(configMapData(ctx, target, "web-config")).To(HaveKeyWithValue("greeting", "from-helm"))
		Expect(annotationsOf(ctx, target, "web-config")).NotTo(HaveKey(apply.ReleaseAnnotation))
		expectUntouched(target, tenant)

		By("taking it over through a Release of the same name in the helm release's namespace")
		Expect(k8sClient.Create(ctx, demo("web", target, "1.0.0").Obj())).To(Succeed())
		expectReadyAt(ctx, target, "web", 2)
		Expect(records(ctx, target, "web")).To(Equal([]string{"v1=superseded", "v2=deployed"}))
		Expect(configMapData(ctx, target, "web-config")).To(HaveKeyWithValue("greeting", "hello"))
		Expect(annotationsOf(ctx, target, "web-config")).To(HaveKeyWithValue(apply.ReleaseAnnotation, target+"/web"))

		By("still refusing the Release of the other namespace, now naming Capstan's release")
		update(ctx, tenant, "web", func(r *capstanv1.Release) { r.Spec.Values = rawValues(`{"greeting":"again"}`) })
		rel = expectStalled(ctx, tenant, "web", capstanv1.OwnershipConflictReason)
		Expect(condition(rel, capstanv1.ReadyCondition).Message).To(ContainSubstring("owned by release " + target + "/web"))
		Expect(records(ctx, tenant, "web")).To(BeEmpty())
	})
})

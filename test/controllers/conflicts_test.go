package controllers_test

import (
	"context"
	"fmt"
	"sort"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv1 "k8s.io/api/autoscaling/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	capstanv1 "github.com/capstan-dev/capstan/api/v1alpha1"
	"github.com/capstan-dev/capstan/internal/testsupport"
)

// scaled starts a Release of the scaled chart, whose 2.0.0 drops the ConfigMap key "retired".
func scaled(name, ns, version string) *testsupport.ReleaseBuilder {
	return testsupport.MakeRelease(name, ns).Chart(repoName, "scaled", version)
}

// managedFields lists an object's field managers as "manager operation[ subresource]: fields",
// sorted, for the spec's log and its expectations.
func managedFields(ctx context.Context, obj client.Object) []string {
	Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(obj), obj)).To(Succeed())
	var out []string
	for _, e := range obj.GetManagedFields() {
		entry := e.Manager + " " + string(e.Operation)
		if e.Subresource != "" {
			entry += " " + e.Subresource
		}
		out = append(out, entry+": "+e.FieldsV1.GetRawString())
	}
	sort.Strings(out)
	return out
}

// logManagedFields writes an object's managed fields to the spec's log.
func logManagedFields(ctx context.Context, when string, obj client.Object) []string {
	fields := managedFields(ctx, obj)
	GinkgoWriter.Printf("managedFields of %s/%s %s:\n", obj.GetNamespace(), obj.GetName(), when)
	for _, f := range fields {
		GinkgoWriter.Printf("  %s\n", f)
	}
	return fields
}

// deploymentReplicas reads a Deployment's spec.replicas.
func deploymentReplicas(ctx context.Context, ns, name string) int32 {
	d := &appsv1.Deployment{}
	Expect(k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, d)).To(Succeed())
	return ptr.Deref(d.Spec.Replicas, -1)
}

// scaleAs sets a Deployment's replicas through its scale subresource as another field manager,
// as a HorizontalPodAutoscaler does (kube-controller-manager, subresource scale).
func scaleAs(ctx context.Context, ns, name, manager string, replicas int32) {
	d := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}}
	patch := client.RawPatch(types.MergePatchType, fmt.Appendf(nil, `{"spec":{"replicas":%d}}`, replicas))
	Expect(k8sClient.SubResource("scale").Patch(ctx, d, patch, &client.SubResourcePatchOptions{
		SubResourceBody: &autoscalingv1.Scale{}, PatchOptions: client.PatchOptions{FieldManager: manager}})).To(Succeed())
}

// ownedByManager reports whether a manager owns some field of the object itself.
func ownedByManager(fields []string, manager string) bool {
	for _, f := range fields {
		if len(f) > len(manager) && f[:len(manager)+1] == manager+" " {
			return true
		}
	}
	return false
}

var _ = Describe("Taking a helm release over", func() {
	for _, tc := range []struct {
		how  string
		args []string
		// op is the operation of helm's managedFields entry.
		op string
	}{
		{how: "helm 4 (server-side apply)", op: "Apply"},
		{how: "helm 3 style (client-side, --server-side=false)", args: []string{"--server-side=false"}, op: "Update"},
	} {
		It("hands the fields "+tc.how+" wrote to capstan's field manager, so a key the new chart drops is removed", func(ctx SpecContext) {
			h := newHelm()
			ns := newNamespace(ctx)
			h.run(append([]string{"install", "moved", charts.archive("scaled", "1.0.0"), "-n", ns}, tc.args...)...)
			cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "moved-settings"}}
			Expect(configMapData(ctx, ns, "moved-settings")).To(Equal(map[string]string{"color": "blue", "retired": "yes"}))
			before := logManagedFields(ctx, "after helm install ("+tc.how+")", cm)
			Expect(before).To(ContainElement(HavePrefix("helm "+tc.op+": ")), "helm wrote the ConfigMap")

			Expect(k8sClient.Create(ctx, scaled("moved", ns, "2.0.0").Obj())).To(Succeed())
			expectReadyAt(ctx, ns, "moved", 2)
			Expect(records(ctx, ns, "moved")).To(Equal([]string{"v1=superseded", "v2=deployed"}))
			Expect(configMapData(ctx, ns, "moved-settings")).To(Equal(map[string]string{"color": "blue"}),
				"the key chart 2.0.0 no longer has is gone")
			after := logManagedFields(ctx, "after the take-over by Capstan (chart 2.0.0)", cm)
			Expect(ownedByManager(after, "helm")).To(BeFalse(), "helm owns no field any more")
			Expect(after).To(ContainElement(HavePrefix("capstan Apply: ")))

			By("helm itself still reading the release Capstan continued")
			var hist []helmHistoryEntry
			h.runJSON(&hist, "history", "moved", "-n", ns)
			Expect(hist).To(HaveLen(2))
			Expect(hist[1].Chart).To(Equal("scaled-2.0.0"))
		})
	}
})

var _ = Describe("Field conflicts with another field manager", func() {
	It("fails with the field and its manager, yields it to an autoscaler under Yield, and takes it under Force", func(ctx SpecContext) {
		ns := newNamespace(ctx)
		Expect(k8sClient.Create(ctx, scaled("app", ns, "1.0.0").Values(map[string]any{"deployment": true}).Obj())).To(Succeed())
		expectReadyAt(ctx, ns, "app", 1)
		Expect(deploymentReplicas(ctx, ns, "app-web")).To(Equal(int32(1)), "a new Deployment gets the chart's replicas")
		scaleAs(ctx, ns, "app-web", "kube-controller-manager", 5)
		deploy := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "app-web"}}
		logManagedFields(ctx, "after the autoscaler scaled it", deploy)

		By("failing the upgrade under the default policy, Fail, with the conflict in the condition and status")
		update(ctx, ns, "app", func(r *capstanv1.Release) { r.Spec.Values = rawValues(`{"deployment":true,"color":"green"}`) })
		rel := expectStalled(ctx, ns, "app", capstanv1.FieldConflictReason)
		msg := condition(rel, capstanv1.ReadyCondition).Message
		Expect(msg).To(ContainSubstring("Deployment/" + ns + "/app-web: .spec.replicas (manager kube-controller-manager)"))
		Expect(rel.Status.Conflicts).To(Equal([]capstanv1.FieldConflict{
			{Object: "Deployment/" + ns + "/app-web", Field: ".spec.replicas", Manager: "kube-controller-manager"}}))
		Expect(records(ctx, ns, "app")).To(Equal([]string{"v1=deployed"}), "nothing was written")
		Expect(configMapData(ctx, ns, "app-settings")).To(HaveKeyWithValue("color", "blue"))
		Expect(deploymentReplicas(ctx, ns, "app-web")).To(Equal(int32(5)))

		By("upgrading under Yield and leaving spec.replicas to the autoscaler")
		update(ctx, ns, "app", func(r *capstanv1.Release) {
			r.Spec.Upgrade = &capstanv1.Upgrade{Conflicts: &capstanv1.Conflicts{Policy: capstanv1.ConflictYield,
				Yield: []capstanv1.FieldRule{{Paths: []string{"/spec/replicas"}, Target: &capstanv1.ObjectSelector{Kind: "Deployment"}}}}}
		})
		rel = expectReadyAt(ctx, ns, "app", 2)
		Expect(rel.Status.Conflicts).To(BeEmpty())
		Expect(configMapData(ctx, ns, "app-settings")).To(HaveKeyWithValue("color", "green"))
		Expect(deploymentReplicas(ctx, ns, "app-web")).To(Equal(int32(5)), "the autoscaler keeps its replicas")
		fields := logManagedFields(ctx, "after the upgrade under Yield", deploy)
		Expect(fields).To(ContainElement(And(HavePrefix("kube-controller-manager Update scale: "), ContainSubstring(`"f:replicas"`))))

		By("taking spec.replicas back under Force")
		update(ctx, ns, "app", func(r *capstanv1.Release) {
			r.Spec.Upgrade = &capstanv1.Upgrade{Conflicts: &capstanv1.Conflicts{Policy: capstanv1.ConflictForce}}
			r.Spec.Values = rawValues(`{"deployment":true,"color":"red"}`)
		})
		expectReadyAt(ctx, ns, "app", 3)
		Expect(deploymentReplicas(ctx, ns, "app-web")).To(Equal(int32(1)), "Capstan's value wins")
		fields = logManagedFields(ctx, "after the upgrade under Force", deploy)
		Expect(ownedByManager(fields, "kube-controller-manager")).To(BeFalse())
	})
})

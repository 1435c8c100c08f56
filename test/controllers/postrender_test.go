package controllers_test

import (
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	capstanv1 "github.com/capstan-dev/capstan/api/v1alpha1"
	"github.com/capstan-dev/capstan/internal/apply"
	"github.com/capstan-dev/capstan/internal/reconcile"
	"github.com/capstan-dev/capstan/internal/testsupport"
)

// greetingPatch post-renders the demo chart's ConfigMap with a JSON 6902 patch.
func greetingPatch(value string) []capstanv1.PostRenderer {
	return []capstanv1.PostRenderer{{Kustomize: &capstanv1.KustomizePostRenderer{
		Patches: []capstanv1.KustomizePatch{{
			Target: &capstanv1.PatchTarget{Kind: "ConfigMap", Name: ".*-config"},
			Patch:  "- op: add\n  path: /data/patched\n  value: " + value + "\n",
		}},
	}}}
}

var _ = Describe("Post-renderers and custom health checks", func() {
	It("applies spec.postRenderers and commonMetadata before ownership metadata, and upgrades when they change", func(ctx SpecContext) {
		ns := newNamespace(ctx)
		rel := demo("post", ns, "1.0.0").Obj()
		rel.Spec.PostRenderers = greetingPatch("one")
		rel.Spec.CommonMetadata = &capstanv1.CommonMetadata{Labels: map[string]string{"team": "blue"}}
		Expect(k8sClient.Create(ctx, rel)).To(Succeed())
		expectReadyAt(ctx, ns, "post", 1)
		cm := &corev1.ConfigMap{}
		Expect(k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: "post-config"}, cm)).To(Succeed())
		Expect(cm.Data).To(HaveKeyWithValue("patched", "one"))
		Expect(cm.Data).To(HaveKeyWithValue("greeting", "hello"))
		Expect(cm.Labels).To(HaveKeyWithValue("team", "blue"))
		Expect(cm.Annotations).To(HaveKeyWithValue(apply.ReleaseNameAnnotation, "post"), "ownership metadata comes after the post-renderers")
		Expect(cm.Annotations).NotTo(HaveKey(HavePrefix("postrender.capstan.dev/")))
		first := record(ctx, ns, "post", 1)
		Expect(first.Manifest).To(ContainSubstring("patched: one"), "the record holds the post-rendered manifest")
		Expect(first.Labels).To(HaveKey(reconcile.PostRenderDigestLabel))

		By("upgrading when only a patch changes")
		update(ctx, ns, "post", func(r *capstanv1.Release) { r.Spec.PostRenderers = greetingPatch("two") })
		expectReadyAt(ctx, ns, "post", 2)
		Expect(configMapData(ctx, ns, "post-config")).To(HaveKeyWithValue("patched", "two"))
		Expect(record(ctx, ns, "post", 2).Labels[reconcile.PostRenderDigestLabel]).NotTo(Equal(first.Labels[reconcile.PostRenderDigestLabel]))

		By("stalling on a patch whose target matches nothing")
		update(ctx, ns, "post", func(r *capstanv1.Release) {
			r.Spec.PostRenderers[0].Kustomize.Patches[0].Target.Kind = "Ingress"
		})
		stalled := expectStalled(ctx, ns, "post", capstanv1.PostRenderFailedReason)
		Expect(condition(stalled, capstanv1.ReadyCondition).Message).To(ContainSubstring("postRenderers[0].kustomize.patches[0]"))
		Expect(records(ctx, ns, "post")).To(HaveLen(2), "nothing was written")

		By("going on once the patch is optional")
		update(ctx, ns, "post", func(r *capstanv1.Release) { r.Spec.PostRenderers[0].Kustomize.Patches[0].Optional = true })
		expectReadyAt(ctx, ns, "post", 3)
		Expect(configMapData(ctx, ns, "post-config")).NotTo(HaveKey("patched"))
	})

	It("waits for a custom resource until its health check's CEL says it is current", func(ctx SpecContext) {
		ns := newNamespace(ctx)
		rel := testsupport.MakeRelease("gad", ns).Chart(repoName, "gadgets", "1.0.0").Obj()
		rel.Spec.HealthChecks = []capstanv1.HealthCheck{{
			APIVersion: "test.capstan.dev/v1", Kind: "Gadget",
			Current: "has(status.phase) && status.phase == 'Running'",
			Failed:  "has(status.phase) && status.phase == 'Broken'",
		}}
		Expect(k8sClient.Create(ctx, rel)).To(Succeed())
		gadget := &unstructured.Unstructured{}
		gadget.SetAPIVersion("test.capstan.dev/v1")
		gadget.SetKind("Gadget")
		key := client.ObjectKey{Namespace: ns, Name: "gad-celhealth"}
		Eventually(func() error { return k8sClient.Get(ctx, key, gadget) }).Should(Succeed())

		notReady := func(g Gomega) {
			r := getRelease(g, ctx, ns, "gad")
			g.Expect(condition(r, capstanv1.ReadyCondition).Status).NotTo(Equal(metav1.ConditionTrue))
		}
		Consistently(notReady, 3*time.Second).Should(Succeed(), "a Gadget without status is in progress")

		By("holding on a status that is Running but for an older generation")
		setGadgetStatus(ctx, gadget, map[string]any{"phase": "Running", "observedGeneration": gadget.GetGeneration() - 1})
		Consistently(notReady, 5*time.Second).Should(Succeed())

		By("holding on a status of the current generation that is not Running (kstatus alone would call it Current)")
		setGadgetStatus(ctx, gadget, map[string]any{"phase": "Starting", "observedGeneration": gadget.GetGeneration()})
		Consistently(notReady, 5*time.Second).Should(Succeed())

		By("becoming Ready once the status is Running for the current generation")
		setGadgetStatus(ctx, gadget, map[string]any{"phase": "Running", "observedGeneration": gadget.GetGeneration()})
		expectReadyAt(ctx, ns, "gad", 1)
	})

	It("stalls with HealthCheckInvalid when an expression does not compile", func(ctx SpecContext) {
		ns := newNamespace(ctx)
		rel := testsupport.MakeRelease("badcel", ns).Chart(repoName, "gadgets", "1.0.0").Obj()
		rel.Spec.HealthChecks = []capstanv1.HealthCheck{{Group: "test.capstan.dev", Kind: "Gadget", Current: "status.phase =="}}
		Expect(k8sClient.Create(ctx, rel)).To(Succeed())
		stalled := expectStalled(ctx, ns, "badcel", capstanv1.HealthCheckInvalidReason)
		Expect(condition(stalled, capstanv1.ReadyCondition).Message).To(ContainSubstring("healthChecks[0].current: "))
		Expect(records(ctx, ns, "badcel")).To(BeEmpty(), "nothing is installed with a check that cannot run")
	})
})

// setGadgetStatus writes a Gadget's status, as its controller would.
func setGadgetStatus(ctx SpecContext, gadget *unstructured.Unstructured, status map[string]any) {
	Eventually(func() error {
		if err := k8sClient.Get(ctx, client.ObjectKeyFromObject(gadget), gadget); err != nil {
			return err
		}
		gadget.Object["status"] = status
		return k8sClient.Status().Update(ctx, gadget)
	}).Should(Succeed())
}

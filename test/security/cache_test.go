package security

import (
	"context"
	"fmt"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/capstan-dev/capstan/controllers"
	"github.com/capstan-dev/capstan/internal/options"
)

var _ = Describe("The manager's informer cache", func() {
	It("holds no Secret or ConfigMap data, managed fields or kubectl's last-applied copy", func(ctx SpecContext) {
		ns := newTenantNamespace(ctx, "cache-")
		By("applying a Secret and a ConfigMap with kubectl, which keeps a copy in an annotation")
		_, err := kubectl(ctx, fmt.Sprintf(`apiVersion: v1
kind: Secret
metadata: {name: creds, namespace: %[1]s}
stringData: {password: %[2]s}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: values, namespace: %[1]s}
data: {values.yaml: "password: %[2]s"}
`, ns, canary), "apply", "-f", "-")
		Expect(err).NotTo(HaveOccurred())
		secretKey := client.ObjectKey{Namespace: ns, Name: "creds"}
		cmKey := client.ObjectKey{Namespace: ns, Name: "values"}
		// The other specs look for the canary everywhere; these two hold it on purpose.
		DeferCleanup(func(ctx SpecContext) {
			Expect(admin.Delete(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "creds"}})).To(Succeed())
			Expect(admin.Delete(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "values"}})).To(Succeed())
		})

		By("a cache without the transform, as the manager's identity, would hold the canary (the check can fail)")
		plain := startCache(ctx, cache.Options{Scheme: scheme})
		Eventually(func(g Gomega) {
			s := &corev1.Secret{}
			g.Expect(plain.Get(ctx, secretKey, s)).To(Succeed())
			g.Expect(string(s.Data["password"])).To(Equal(canary))
			g.Expect(s.Annotations[controllers.LastAppliedAnnotation]).To(ContainSubstring(canary))
		}).WithContext(ctx).Should(Succeed())

		By("the manager's cache options strip it, typed and metadata-only")
		opts, err := controllers.CacheOptions(options.Defaults())
		Expect(err).NotTo(HaveOccurred())
		opts.Scheme = scheme
		stripped := startCache(ctx, opts)
		Eventually(func(g Gomega) {
			s := &corev1.Secret{}
			g.Expect(stripped.Get(ctx, secretKey, s)).To(Succeed())
			g.Expect(s.Data).To(BeEmpty())
			g.Expect(s.StringData).To(BeEmpty())
			g.Expect(s.ManagedFields).To(BeEmpty())
			g.Expect(s.Annotations).NotTo(HaveKey(controllers.LastAppliedAnnotation))
			cm := &corev1.ConfigMap{}
			g.Expect(stripped.Get(ctx, cmKey, cm)).To(Succeed())
			g.Expect(cm.Data).To(BeEmpty())
			g.Expect(cm.Annotations).NotTo(HaveKey(controllers.LastAppliedAnnotation))
			for _, kind := range []string{"Secret", "ConfigMap"} {
				m := &metav1.PartialObjectMetadata{}
				m.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind(kind))
				key := secretKey
				if kind == "ConfigMap" {
					key = cmKey
				}
				g.Expect(stripped.Get(ctx, key, m)).To(Succeed())
				g.Expect(m.ManagedFields).To(BeEmpty())
				g.Expect(m.Annotations).NotTo(HaveKey(controllers.LastAppliedAnnotation))
				g.Expect(jsonOf(m)).NotTo(ContainSubstring(canary))
			}
		}).WithContext(ctx).Should(Succeed())
	})
})

// startCache starts an informer cache with the manager's own identity, stopped after the spec.
func startCache(ctx context.Context, opts cache.Options) cache.Cache {
	c, err := cache.New(managerConfig, opts)
	Expect(err).NotTo(HaveOccurred())
	cctx, cancel := context.WithCancel(context.Background())
	DeferCleanup(cancel)
	go func() {
		defer GinkgoRecover()
		Expect(c.Start(cctx)).To(Succeed())
	}()
	syncCtx, cancelSync := context.WithTimeout(ctx, time.Minute)
	defer cancelSync()
	Expect(c.WaitForCacheSync(syncCtx)).To(BeTrue(), "the cache did not sync within a minute")
	return c
}

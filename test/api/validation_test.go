package api_test

import (
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

var _ = Describe("Validation", func() {
	var ns string
	BeforeEach(func(ctx SpecContext) { ns = newNamespace(ctx) })

	DescribeTable("a Release is rejected with a message naming the field",
		func(ctx SpecContext, field, fragment string, mutations ...mutation) {
			err := k8sClient.Create(ctx, releaseObj(ns, "web", mutations...))
			expectInvalid(Default, err, field, fragment)
		},
		Entry("an interval in years", "spec.interval", "should match", set("spec.interval", "1y")),
		Entry("a negative interval", "spec.interval", "should match", set("spec.interval", "-5s")),
		Entry("a zero interval", "spec.interval", "positive duration", set("spec.interval", "0s")),
		Entry("an interval that overflows a Go duration", "spec.interval", "fits in 290 years", set("spec.interval", "9999999999999h")),
		Entry("a timeout in words", "spec.timeout", "should match", set("spec.timeout", "5 minutes")),
		Entry("a bad test timeout", "spec.test.timeout", "should match", set("spec.test.timeout", "soon")),
		Entry("a 54-character releaseName", "spec.releaseName", "may not be more than 53", set("spec.releaseName", strings.Repeat("a", 54))),
		Entry("an upper-case releaseName", "spec.releaseName", "should match", set("spec.releaseName", "Web")),
		Entry("a releaseName with an underscore", "spec.releaseName", "should match", set("spec.releaseName", "my_web")),
		Entry("a 54-character metadata.name without releaseName", "spec.releaseName", "releaseName is required",
			rename(strings.Repeat("w", 54))),
		Entry("a targetNamespace with a dot", "spec.targetNamespace", "should match", set("spec.targetNamespace", "a.b")),
		Entry("createNamespace without targetNamespace", "spec.createNamespace", "requires targetNamespace",
			set("spec.createNamespace", true)),
		Entry("no chart", "spec.chart", "Required", unset("spec.chart")),
		Entry("a chart name that is a path", "spec.chart.name", "should match", set("spec.chart.name", "../etc/passwd")),
		Entry("a version constraint with shell characters", "spec.chart.version", "should match",
			set("spec.chart.version", "1.0; rm -rf /")),
		Entry("values that are a list", "spec.values", "must be of type object", set("spec.values", []any{"a"})),
		Entry("a valuesFrom kind other than ConfigMap or Secret", "spec.valuesFrom[0].kind", `Unsupported value: "Pod"`,
			set("spec.valuesFrom", []any{map[string]any{"kind": "Pod", "name": "values"}})),
		Entry("a valuesFrom entry without a name", "spec.valuesFrom[0].name", "Required",
			set("spec.valuesFrom", []any{map[string]any{"kind": "Secret"}})),
		Entry("a valuesFrom key with a slash", "spec.valuesFrom[0].key", "should match",
			set("spec.valuesFrom", []any{map[string]any{"kind": "Secret", "name": "v", "key": "../x"}})),
		Entry("too many valuesFrom entries", "spec.valuesFrom", "must have at most 32 items", set("spec.valuesFrom", valuesFrom(33))),
		Entry("an unknown drift detection mode", "spec.driftDetection.mode", `Unsupported value: "auto"`,
			set("spec.driftDetection.mode", "auto")),
		Entry("a drift ignore path that is not a JSON pointer", "spec.driftDetection.ignore[0].paths[0]", "should match",
			set("spec.driftDetection.ignore", []any{map[string]any{"paths": []any{"spec.replicas"}}})),
		Entry("an unknown install CRDs policy", "spec.install.crds", `Unsupported value: "Always"`,
			set("spec.install.crds", "Always")),
		Entry("an unknown upgrade CRDs policy", "spec.upgrade.crds", `Unsupported value: "Replace"`,
			set("spec.upgrade.crds", "Replace")),
		Entry("negative retries", "spec.upgrade.remediation.retries", "greater than or equal to 0",
			set("spec.upgrade.remediation.retries", int64(-1))),
		Entry("an unknown remediation strategy", "spec.upgrade.remediation.strategy", `Unsupported value: "reinstall"`,
			set("spec.upgrade.remediation.strategy", "reinstall")),
		Entry("rollback as the install remediation", "spec.install.remediation.strategy", "nothing to roll back to",
			set("spec.install.remediation.strategy", "rollback")),
		Entry("an unknown deletion propagation", "spec.uninstall.deletionPropagation", `Unsupported value: "cascade"`,
			set("spec.uninstall.deletionPropagation", "cascade")),
		Entry("an unknown conflict policy", "spec.upgrade.conflicts.policy", `Unsupported value: "fail"`,
			set("spec.upgrade.conflicts", map[string]any{"policy": "fail"})),
		Entry("policy Yield without fields to yield", "spec.upgrade.conflicts.yield", "yield is required with policy Yield",
			set("spec.upgrade.conflicts", map[string]any{"policy": "Yield"})),
		Entry("fields to yield under policy Force", "spec.upgrade.conflicts.yield", "allowed only with it",
			set("spec.upgrade.conflicts", map[string]any{"policy": "Force", "yield": []any{map[string]any{"paths": []any{"/spec/replicas"}}}})),
		Entry("fields to yield under the default policy", "spec.upgrade.conflicts.yield", "allowed only with it",
			set("spec.upgrade.conflicts", map[string]any{"yield": []any{map[string]any{"paths": []any{"/spec/replicas"}}}})),
		Entry("a yielded path that is not a JSON pointer", "spec.upgrade.conflicts.yield[0].paths[0]", "should match",
			set("spec.upgrade.conflicts", map[string]any{"policy": "Yield", "yield": []any{map[string]any{"paths": []any{"spec.replicas"}}}})),
		Entry("a negative maxHistory", "spec.maxHistory", "greater than or equal to 0", set("spec.maxHistory", int64(-1))),
		Entry("a dependency on itself", "spec.dependsOn", "must not name the Release itself",
			set("spec.dependsOn", []any{map[string]any{"name": "web"}})),
		Entry("a chart verification provider that does not exist", "spec.chart.verify.provider", `Unsupported value: "gpg"`,
			set("spec.chart.verify", map[string]any{"provider": "gpg", "secretRef": map[string]any{"name": "keys"}})),
		Entry("keyless identities with provider pgp", "spec.chart.verify.matchOIDCIdentity", "only used by provider cosign",
			set("spec.chart.verify", withKeys(pgpVerify("keys", "enforce"), "matchOIDCIdentity", []any{map[string]any{"issuer": "https://issuer", "subject": ".*"}}))),
		Entry("a transparency log policy with provider notation", "spec.chart.verify.transparencyLog", "only used by provider cosign",
			set("spec.chart.verify", map[string]any{"provider": "notation", "secretRef": map[string]any{"name": "keys"}, "transparencyLog": "Ignore"})),
		Entry("a transparency log policy that does not exist", "spec.chart.verify.transparencyLog", `Unsupported value: "Optional"`,
			set("spec.chart.verify", withKeys(cosignVerify("keys"), "transparencyLog", "Optional"))),
		Entry("a keyless identity without an issuer", "spec.chart.verify.matchOIDCIdentity[0].issuer", "Required",
			set("spec.chart.verify", withKeys(cosignVerify("keys"), "matchOIDCIdentity", []any{map[string]any{"subject": ".*"}}))),
		Entry("a chart verification Secret name with a slash", "spec.chart.verify.secretRef.name", "should match",
			set("spec.chart.verify", pgpVerify("other/keys", "enforce"))),
		Entry("a serviceAccountName with upper case", "spec.serviceAccountName", "should match",
			set("spec.serviceAccountName", "Deployer")),
		Entry("a post-renderer without kustomize", "spec.postRenderers[0].kustomize", "Required",
			set("spec.postRenderers", []any{map[string]any{}})),
		Entry("a patch without its patch", "spec.postRenderers[0].kustomize.patches[0].patch", "Required",
			set("spec.postRenderers", []any{map[string]any{"kustomize": map[string]any{
				"patches": []any{map[string]any{"target": map[string]any{"kind": "Service"}}}}}})),
		Entry("an image override that changes nothing", "spec.postRenderers[0].kustomize.images[0]", "needs newName, newTag or digest",
			set("spec.postRenderers", []any{map[string]any{"kustomize": map[string]any{
				"images": []any{map[string]any{"name": "nginx"}}}}})),
		Entry("a health check for no group", "spec.healthChecks[0]", "needs apiVersion or group",
			set("spec.healthChecks", []any{map[string]any{"kind": "Rollout", "current": "true"}})),
		Entry("a health check with both apiVersion and group", "spec.healthChecks[0]", "not both",
			set("spec.healthChecks", []any{map[string]any{"group": "argoproj.io", "apiVersion": "argoproj.io/v1alpha1",
				"kind": "Rollout", "current": "true"}})),
		Entry("a health check without current", "spec.healthChecks[0].current", "Required",
			set("spec.healthChecks", []any{map[string]any{"group": "argoproj.io", "kind": "Rollout"}})),
		Entry("a kubeConfig without a secretRef", "spec.kubeConfig.secretRef", "Required",
			set("spec.kubeConfig", map[string]any{})),
		Entry("a kubeConfig Secret of another namespace", "spec.kubeConfig.secretRef.name", "should match",
			set("spec.kubeConfig", kubeConfig("other/edge", ""))),
		Entry("a kubeConfig key with a slash", "spec.kubeConfig.secretRef.key", "should match",
			set("spec.kubeConfig", kubeConfig("edge", "../value"))),
	)

	DescribeTable("a ChartRepository is rejected with a message naming the field",
		func(ctx SpecContext, field, fragment string, mutations ...mutation) {
			err := k8sClient.Create(ctx, repoObj(ns, "examples", mutations...))
			expectInvalid(Default, err, field, fragment)
		},
		Entry("an ftp URL", "spec.url", "should match", set("spec.url", "ftp://charts.example.com")),
		Entry("a URL without a scheme", "spec.url", "should match", set("spec.url", "charts.example.com/stable")),
		Entry("an upper-case scheme", "spec.url", "should match", set("spec.url", "HTTPS://charts.example.com")),
		Entry("credentials in the URL", "spec.url", "should match", set("spec.url", "https://user:secret@charts.example.com")),
		Entry("a query string in the URL", "spec.url", "should match", set("spec.url", "https://charts.example.com/?sig=secret")),
		Entry("a URL longer than 2048 bytes", "spec.url", "may not be more than 2048",
			set("spec.url", "https://charts.example.com/"+strings.Repeat("a", 2048))),
		Entry("an interval in days", "spec.interval", "should match", set("spec.interval", "1d")),
		Entry("a zero timeout", "spec.timeout", "positive duration", set("spec.timeout", "0s")),
		Entry("insecureSkipTLSVerify on an OCI registry", "spec.insecureSkipTLSVerify", "only supported for http(s)",
			set("spec.url", "oci://ghcr.io/example"), set("spec.insecureSkipTLSVerify", true)),
		Entry("plainHTTP on an https repository", "spec.plainHTTP", "only supported for oci://",
			set("spec.plainHTTP", true)),
		Entry("passCredentials on an OCI registry", "spec.passCredentials", "only supported for http(s)",
			set("spec.url", "oci://ghcr.io/example"), set("spec.passCredentials", true)),
		Entry("a secretRef without a name", "spec.secretRef.name", "Required", set("spec.secretRef", map[string]any{})),
		Entry("pgp verification of an OCI registry", "spec.verify", "for an OCI repository use cosign or notation",
			set("spec.url", "oci://ghcr.io/example"), set("spec.verify", pgpVerify("keys", "enforce"))),
		Entry("cosign verification of an http(s) repository", "spec.verify", "an http(s) repository has provenance files, checked by pgp",
			set("spec.verify", cosignVerify("keys"))),
		Entry("notation verification of an http(s) repository", "spec.verify", "check signatures of OCI charts",
			set("spec.verify", map[string]any{"provider": "notation", "secretRef": map[string]any{"name": "keys"}})),
		Entry("a verification mode other than enforce or warn", "spec.verify.mode", `Unsupported value: "audit"`,
			set("spec.verify", pgpVerify("keys", "audit"))),
		Entry("verification without trust material", "spec.verify.secretRef", "Required",
			set("spec.verify", map[string]any{"provider": "pgp"})),
	)

	DescribeTable("an update of a Release's identity is rejected",
		func(ctx SpecContext, create []mutation, update mutation, field, fragment string) {
			obj := releaseObj(ns, "web", create...)
			Expect(k8sClient.Create(ctx, obj)).To(Succeed())
			update(obj)
			expectInvalid(Default, k8sClient.Update(ctx, obj), field, fragment)
		},
		Entry("changing releaseName", []mutation{set("spec.releaseName", "web-a")},
			set("spec.releaseName", "web-b"), "spec.releaseName", "releaseName is immutable"),
		Entry("setting releaseName when it was unset", nil,
			set("spec.releaseName", "web-b"), "spec.releaseName", "releaseName is immutable"),
		Entry("removing a releaseName that differs from metadata.name", []mutation{set("spec.releaseName", "web-a")},
			unset("spec.releaseName"), "spec.releaseName", "releaseName is immutable"),
		Entry("changing targetNamespace", []mutation{set("spec.targetNamespace", "apps")},
			set("spec.targetNamespace", "other"), "spec.targetNamespace", "targetNamespace is immutable"),
		Entry("setting targetNamespace when it was unset", nil,
			set("spec.targetNamespace", "apps"), "spec.targetNamespace", "targetNamespace is immutable"),
		Entry("removing targetNamespace", []mutation{set("spec.targetNamespace", "apps")},
			unset("spec.targetNamespace"), "spec.targetNamespace", "targetNamespace is immutable"),
		Entry("setting kubeConfig when it was unset", nil,
			set("spec.kubeConfig", kubeConfig("edge", "")), "spec.kubeConfig", "kubeConfig is immutable"),
		Entry("changing kubeConfig's Secret", []mutation{set("spec.kubeConfig", kubeConfig("edge", ""))},
			set("spec.kubeConfig", kubeConfig("other", "")), "spec.kubeConfig", "kubeConfig is immutable"),
		Entry("changing kubeConfig's key", []mutation{set("spec.kubeConfig", kubeConfig("edge", ""))},
			set("spec.kubeConfig.secretRef.key", "value.yaml"), "spec.kubeConfig", "kubeConfig is immutable"),
		Entry("removing kubeConfig", []mutation{set("spec.kubeConfig", kubeConfig("edge", ""))},
			unset("spec.kubeConfig"), "spec.kubeConfig", "kubeConfig is immutable"),
	)

	DescribeTable("an update that keeps a Release's identity is accepted",
		func(ctx SpecContext, create []mutation, update mutation) {
			obj := releaseObj(ns, "web", create...)
			Expect(k8sClient.Create(ctx, obj)).To(Succeed())
			update(obj)
			Expect(k8sClient.Update(ctx, obj)).To(Succeed())
		},
		Entry("changing the chart version with releaseName and targetNamespace set",
			[]mutation{set("spec.releaseName", "web-a"), set("spec.targetNamespace", "apps")},
			set("spec.chart.version", "~2.0")),
		Entry("setting releaseName to metadata.name, its default", nil, set("spec.releaseName", "web")),
		Entry("removing a releaseName equal to metadata.name", []mutation{set("spec.releaseName", "web")},
			unset("spec.releaseName")),
		Entry("changing the chart version of a Release with a kubeConfig", []mutation{set("spec.kubeConfig", kubeConfig("edge", ""))},
			set("spec.chart.version", "~2.0")),
		Entry("writing down kubeConfig's default key", []mutation{set("spec.kubeConfig", kubeConfig("edge", ""))},
			set("spec.kubeConfig.secretRef.key", "value")),
	)

	It("accepts the boundary values", func(ctx SpecContext) {
		for i, m := range []mutation{
			set("spec.releaseName", strings.Repeat("a", 53)),
			set("spec.valuesFrom", valuesFrom(32)),
			set("spec.interval", "1h30m15.5s"),
			set("spec.maxHistory", int64(0)),
		} {
			Expect(k8sClient.Create(ctx, releaseObj(ns, "edge-"+string(rune('a'+i)), m))).To(Succeed())
		}
		Expect(k8sClient.Create(ctx, releaseObj(ns, strings.Repeat("n", 60),
			set("spec.releaseName", "short")))).To(Succeed(), "a long metadata.name is fine with a releaseName")
		Expect(k8sClient.Create(ctx, repoObj(ns, "ipv6", set("spec.url", "http://[::1]:8879/charts")))).To(Succeed())
		Expect(k8sClient.Create(ctx, repoObj(ns, "signed", set("spec.verify", pgpVerify("keys", "warn"))))).To(Succeed())
		Expect(k8sClient.Create(ctx, releaseObj(ns, "signed", set("spec.chart.verify", pgpVerify("keys", "enforce"))))).To(Succeed())
		Expect(k8sClient.Create(ctx, repoObj(ns, "oci", set("spec.url", "oci://localhost:5000"),
			set("spec.plainHTTP", true)))).To(Succeed())
		Expect(k8sClient.Create(ctx, repoObj(ns, "cosign", set("spec.url", "oci://ghcr.io/example"),
			set("spec.verify", withKeys(cosignVerify("keys"), "transparencyLog", "Ignore"))))).To(Succeed())
		Expect(k8sClient.Create(ctx, repoObj(ns, "notation", set("spec.url", "oci://ghcr.io/example"),
			set("spec.verify", map[string]any{"provider": "notation", "secretRef": map[string]any{"name": "keys"}})))).To(Succeed())
		Expect(k8sClient.Create(ctx, releaseObj(ns, "keyless", set("spec.chart.verify", withKeys(cosignVerify("root"),
			"matchOIDCIdentity", []any{map[string]any{"issuer": `https://token\.actions\.githubusercontent\.com`, "subject": "https://github\\.com/example/.+"}}))))).To(Succeed())
	})

	It("keeps unknown fields out of a Release but free-form values in", func(ctx SpecContext) {
		obj := releaseObj(ns, "web",
			set("spec.values", map[string]any{"any": map[string]any{"nested": []any{int64(1), "x", nil}}}),
			set("spec.bogus", "dropped"))
		Expect(k8sClient.Create(ctx, obj)).To(Succeed())
		got := &unstructured.Unstructured{}
		got.SetGroupVersionKind(obj.GroupVersionKind())
		Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(obj), got)).To(Succeed())
		Expect(got.Object["spec"]).NotTo(HaveKey("bogus"))
		Expect(got.Object["spec"]).To(HaveKeyWithValue("values",
			map[string]any{"any": map[string]any{"nested": []any{int64(1), "x", nil}}}))
	})
})

// cosignVerify is a spec.verify block for cosign signatures checked with the trust material in
// Secret name.
func cosignVerify(name string) map[string]any {
	return map[string]any{"provider": "cosign", "secretRef": map[string]any{"name": name}}
}

// withKeys returns m with one more key.
func withKeys(m map[string]any, key string, value any) map[string]any {
	m[key] = value
	return m
}

// pgpVerify is a spec.verify block for provenance files checked with the keyring in Secret name.
func pgpVerify(name, mode string) map[string]any {
	return map[string]any{"provider": "pgp", "secretRef": map[string]any{"name": name}, "mode": mode}
}

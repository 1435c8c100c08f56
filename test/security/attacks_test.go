package security

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	capstanv1 "github.com/capstan-dev/capstan/api/v1alpha1"
	"github.com/capstan-dev/capstan/internal/testsupport"
)

// The attack table of docs/security.md: one spec per row, named as the table names it.
var _ = Describe("A tenant on the default install", func() {
	var w *world
	BeforeEach(func(ctx SpecContext) { w = newWorld(ctx) })

	It("installs and uninstalls its own Release as its namespace's capstan-release account, and a reader sees it (baseline)", func(ctx SpecContext) {
		rel := w.probe("base", nil).Obj()
		w.create(ctx, rel)
		testsupport.Kube{Client: admin}.ExpectReadyAt(ctx, w.ns, "base", 1)
		Expect(admin.Get(ctx, client.ObjectKey{Namespace: w.ns, Name: "base-probe"}, &corev1.ConfigMap{})).To(Succeed())
		Expect(testsupport.Kube{Client: admin}.Records(ctx, w.ns, "base")).To(Equal([]string{"v1=deployed"}))

		By("the reader reads the Release and its status, but not the revision record")
		seen := &capstanv1.Release{}
		Expect(w.viewer.Get(ctx, client.ObjectKey{Namespace: w.ns, Name: "base"}, seen)).To(Succeed())
		Expect(meta(seen.Status.Conditions, capstanv1.ReadyCondition).Status).To(Equal(metav1.ConditionTrue))
		expectForbidden(w.viewer.List(ctx, &corev1.SecretList{}, client.InNamespace(w.ns)))
		expectCanaryNowhere(ctx)

		By("deleting it as the tenant uninstalls it as the same account")
		Expect(w.editor.Delete(ctx, rel)).To(Succeed())
		Eventually(func(g Gomega) {
			g.Expect(admin.Get(ctx, client.ObjectKeyFromObject(rel), &capstanv1.Release{})).To(Satisfy(apierrors.IsNotFound))
			g.Expect(admin.Get(ctx, client.ObjectKey{Namespace: w.ns, Name: "base-probe"}, &corev1.ConfigMap{})).To(Satisfy(apierrors.IsNotFound))
			g.Expect(testsupport.Kube{Client: admin}.Records(ctx, w.ns, "base")).To(BeEmpty())
		}).WithContext(ctx).Should(Succeed())
	})

	It("pulls its chart with repository credentials read as its own identity: AccessDenied when it may not read them", func(ctx SpecContext) {
		By("a ChartRepository with credentials, read as the namespace's capstan-release, becomes Ready")
		Expect(admin.Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: w.ns, Name: "repo-auth"},
			Data: map[string][]byte{"username": []byte("reader"), "password": []byte("not-the-canary")}})).To(Succeed())
		private := testsupport.MakeChartRepository("private", w.ns, charts.URL).Obj()
		private.Spec.SecretRef = &capstanv1.LocalObjectReference{Name: "repo-auth"}
		Expect(w.editor.Create(ctx, private)).To(Succeed())
		Eventually(func(g Gomega) {
			cr := &capstanv1.ChartRepository{}
			g.Expect(admin.Get(ctx, client.ObjectKeyFromObject(private), cr)).To(Succeed())
			g.Expect(meta(cr.Status.Conditions, capstanv1.ReadyCondition).Status).To(Equal(metav1.ConditionTrue))
		}).WithContext(ctx).Should(Succeed())

		By("a Release acting as an account that may keep its records but not read that Secret")
		const account, name = "limited", "pull"
		Expect(admin.Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: w.ns, Name: account}})).To(Succeed())
		Expect(admin.Create(ctx, &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Namespace: w.ns, Name: account}, Rules: []rbacv1.PolicyRule{
			{APIGroups: []string{""}, Resources: []string{"configmaps"}, Verbs: []string{"*"}},
			{APIGroups: []string{""}, Resources: []string{"secrets"}, Verbs: []string{"list", "create", "update", "patch", "delete"}},
			{APIGroups: []string{""}, Resources: []string{"secrets"}, Verbs: []string{"get"}, ResourceNames: []string{"sh.helm.release.v1." + name + ".v1"}},
		}})).To(Succeed())
		Expect(admin.Create(ctx, &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Namespace: w.ns, Name: account},
			RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: account},
			Subjects: []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Namespace: w.ns, Name: account}},
		})).To(Succeed())
		w.create(ctx, testsupport.MakeRelease(name, w.ns).Chart("private", "probe", "1.0.0").ServiceAccount(account).Obj())
		w.expectRefused(ctx, name, Equal(capstanv1.AccessDeniedReason), true,
			"system:serviceaccount:"+w.ns+":"+account, `"repo-auth"`)
		Consistently(func(g Gomega) {
			g.Expect(testsupport.Kube{Client: admin}.Records(ctx, w.ns, name)).To(BeEmpty())
			g.Expect(admin.Get(ctx, client.ObjectKey{Namespace: w.ns, Name: name + "-probe"}, &corev1.ConfigMap{})).To(Satisfy(apierrors.IsNotFound))
		}).WithContext(ctx).Should(Succeed())
		expectCanaryNowhere(ctx)
	})

	It("cannot lookup a Secret of another namespace: RenderFailed, lookup not permitted", func(ctx SpecContext) {
		w.create(ctx, w.probe("peek", map[string]any{"lookup": map[string]any{"namespace": w.victim, "name": canarySecret, "fail": true}}).Obj())
		w.expectRefused(ctx, "peek", Equal(capstanv1.RenderFailedReason), true, "lookup not permitted", "namespace "+w.victim)
		w.expectNothingWritten(ctx, "peek")
		expectCanaryNowhere(ctx)
	})

	It("cannot lookup a Secret of a targetNamespace its identity may not read: AccessDenied", func(ctx SpecContext) {
		rel := w.probe("peek-target", map[string]any{"lookup": map[string]any{"name": canarySecret, "fail": true}}).Obj()
		rel.Spec.TargetNamespace = w.victim
		w.create(ctx, rel)
		w.expectRefused(ctx, "peek-target", Equal(capstanv1.AccessDeniedReason), true,
			"system:serviceaccount:"+w.ns+":"+releaseAccount, "secrets", w.victim)
		w.expectNothingWritten(ctx, "peek-target")
		expectCanaryNowhere(ctx)
	})

	It("cannot install into a targetNamespace its identity may not write: AccessDenied before any write", func(ctx SpecContext) {
		rel := w.probe("trespass", nil).Obj()
		rel.Spec.TargetNamespace = w.victim
		w.create(ctx, rel)
		w.expectRefused(ctx, "trespass", Equal(capstanv1.AccessDeniedReason), true,
			"system:serviceaccount:"+w.ns+":"+releaseAccount, "configmaps", w.victim)
		w.expectNothingWritten(ctx, "trespass")
		expectCanaryNowhere(ctx)
	})

	It("installs into another namespace only once that namespace's owner grants its account (the delegation the refusals rely on)", func(ctx SpecContext) {
		rel := w.probe("granted", nil).Obj()
		rel.Spec.TargetNamespace = w.victim
		grantEdit(ctx, w.victim, w.ns)
		w.create(ctx, rel)
		testsupport.Kube{Client: admin}.ExpectReadyAt(ctx, w.ns, "granted", 1)
		Expect(admin.Get(ctx, client.ObjectKey{Namespace: w.victim, Name: "granted-probe"}, &corev1.ConfigMap{})).To(Succeed())
		Expect(testsupport.Kube{Client: admin}.Records(ctx, w.ns, "granted")).To(Equal([]string{"v1=deployed"}), "records stay in the Release's namespace")
		expectCanaryNowhere(ctx)
	})

	It("cannot have its ChartRepository read credentials as the manager: AccessDenied when the namespace's account may not", func(ctx SpecContext) {
		By("taking the namespace's capstan-release account's rights away (RBAC, not the account's existence, decides)")
		var bindings rbacv1.RoleBindingList
		Expect(admin.List(ctx, &bindings, client.InNamespace(w.ns))).To(Succeed())
		for i := range bindings.Items {
			if s := bindings.Items[i].Subjects; len(s) == 1 && s[0].Kind == rbacv1.ServiceAccountKind && s[0].Name == releaseAccount {
				Expect(admin.Delete(ctx, &bindings.Items[i])).To(Succeed())
			}
		}
		Expect(admin.Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: w.ns, Name: "repo-auth"},
			Data: map[string][]byte{"username": []byte("reader"), "password": []byte("not-the-canary")}})).To(Succeed())
		private := testsupport.MakeChartRepository("private", w.ns, charts.URL).Obj()
		private.Spec.SecretRef = &capstanv1.LocalObjectReference{Name: "repo-auth"}
		Expect(w.editor.Create(ctx, private)).To(Succeed())
		w.expectRepositoryRefused(ctx, "private", Equal(capstanv1.AccessDeniedReason),
			"system:serviceaccount:"+w.ns+":"+releaseAccount, `"repo-auth"`)
		expectCanaryNowhere(ctx)
	})

	It("cannot have a hook bind cluster-admin: the hook is refused and no ClusterRoleBinding exists", func(ctx SpecContext) {
		w.create(ctx, w.probe("escalate", map[string]any{"hook": map[string]any{"clusterAdmin": true}}).Obj())
		w.expectRefused(ctx, "escalate", Equal(capstanv1.AccessDeniedReason), true,
			"pre-install", "forbidden", "clusterrolebindings")
		w.expectUntouched(ctx, "escalate", w.victim)
		Expect(testsupport.Kube{Client: admin}.Records(ctx, w.ns, "escalate")).To(Equal([]string{"v1=failed"}),
			"the hook runs after the revision record, which the tenant's identity may write in its own namespace")
		expectCanaryNowhere(ctx)
	})

	It("cannot have a hook write into another namespace: the hook is refused", func(ctx SpecContext) {
		w.create(ctx, w.probe("plant", map[string]any{"hook": map[string]any{"namespace": w.victim}}).Obj())
		w.expectRefused(ctx, "plant", Equal(capstanv1.AccessDeniedReason), true,
			"pre-install", "forbidden", w.victim)
		w.expectUntouched(ctx, "plant", w.victim)
		expectCanaryNowhere(ctx)
	})

	It("cannot take valuesFrom a Secret of another namespace: the API has no namespace there", func(ctx SpecContext) {
		obj := &unstructured.Unstructured{}
		obj.SetUnstructuredContent(map[string]any{
			"apiVersion": capstanv1.GroupVersion.String(), "kind": capstanv1.ReleaseKind,
			"metadata": map[string]any{"name": "borrow", "namespace": w.ns},
			"spec": map[string]any{
				"chart":      map[string]any{"repositoryRef": map[string]any{"name": repository}, "name": "probe", "version": "1.0.0"},
				"valuesFrom": []any{map[string]any{"kind": "Secret", "name": canarySecret, "namespace": w.victim}},
			},
		})
		By("strict field validation (kubectl's default) rejects the field")
		err := w.editor.Create(ctx, obj.DeepCopy(), client.FieldValidation("Strict"))
		Expect(err).To(MatchError(ContainSubstring(`unknown field "spec.valuesFrom[0].namespace"`)))

		By("without it the field is dropped, and the Release reads its own namespace only")
		Expect(w.editor.Create(ctx, obj, client.FieldValidation("Ignore"))).To(Succeed())
		w.expectRefused(ctx, "borrow", Equal(capstanv1.ValuesFromNotFoundReason), false, w.ns+"/"+canarySecret)
		w.expectNothingWritten(ctx, "borrow")
		expectCanaryNowhere(ctx)
	})

	It("cannot name another namespace's service account: the API refuses the name", func(ctx SpecContext) {
		rel := w.probe("borrow-sa", nil).Obj()
		rel.Spec.ServiceAccountName = "system:serviceaccount:kube-system:clusterrole-aggregation-controller"
		err := w.editor.Create(ctx, rel)
		Expect(err).To(MatchError(ContainSubstring("spec.serviceAccountName")))
		w.expectNothingWritten(ctx, "borrow-sa")
	})

	It("never acts as the manager when its namespace has no capstan-release account: ServiceAccountNotFound", func(ctx SpecContext) {
		Expect(admin.Delete(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: w.ns, Name: releaseAccount}})).To(Succeed())
		w.create(ctx, w.probe("orphan", nil).Obj())
		w.expectRefused(ctx, "orphan", Equal(capstanv1.ServiceAccountNotFoundReason), false, w.ns+"/"+releaseAccount)
		w.expectNothingWritten(ctx, "orphan")
	})

	It("cannot create a Release in another namespace, and a reader cannot create one at all", func(ctx SpecContext) {
		expectForbidden(w.editor.Create(ctx, testsupport.MakeRelease("intrude", w.victim).Chart(repository, "probe", "1.0.0").Obj()))
		expectForbidden(w.viewer.Create(ctx, w.probe("intrude", nil).Obj()))
		expectForbidden(w.editor.Get(ctx, client.ObjectKey{Namespace: w.victim, Name: canarySecret}, &corev1.Secret{}))
		w.expectNothingWritten(ctx, "intrude")
	})

	It("cannot leak a valuesFrom Secret value through a values.schema.json pattern message: SchemaInvalid names the path and rule", func(ctx SpecContext) {
		w.ownCanary(ctx, "values.yaml", "password: "+canary)
		w.create(ctx, testsupport.MakeRelease("schema", w.ns).Chart(repository, "schema-probe", "1.0.0").
			ValuesFrom(capstanv1.ValuesReference{Kind: capstanv1.ValuesKindSecret, Name: canarySecret}).Obj())
		w.expectRefused(ctx, "schema", Equal(capstanv1.SchemaInvalidReason), true, "password")
		w.expectNothingWritten(ctx, "schema")
		expectCanaryNowhere(ctx)
	})

	It("cannot leak a valuesFrom Secret value through a template fail message: redacted", func(ctx SpecContext) {
		w.ownCanary(ctx, "password", canary)
		w.create(ctx, w.probe("failing", nil).ValuesFrom(capstanv1.ValuesReference{
			Kind: capstanv1.ValuesKindSecret, Name: canarySecret, Key: "password", TargetPath: "failWith"}).Obj())
		w.expectRefused(ctx, "failing", Equal(capstanv1.RenderFailedReason), true, "refusing to render with")
		w.expectNothingWritten(ctx, "failing")
		expectCanaryNowhere(ctx)
	})

	It("cannot leak a Secret it may look up through a template fail message: redacted", func(ctx SpecContext) {
		w.ownCanary(ctx, "password", canary)
		w.create(ctx, w.probe("confess", map[string]any{"lookup": map[string]any{"name": canarySecret, "fail": true}}).Obj())
		w.expectRefused(ctx, "confess", Equal(capstanv1.RenderFailedReason), true, "stolen:")
		w.expectNothingWritten(ctx, "confess")
		expectCanaryNowhere(ctx)
	})

	It("cannot leak a valuesFrom Secret value through an API server rejection that quotes it: redacted", func(ctx SpecContext) {
		w.ownCanary(ctx, "tag", canary)
		w.create(ctx, w.probe("quoted", nil).ValuesFrom(capstanv1.ValuesReference{
			Kind: capstanv1.ValuesKindSecret, Name: canarySecret, Key: "tag", TargetPath: "label"}).Obj())
		w.expectRefused(ctx, "quoted", Equal(capstanv1.DryRunFailedReason), true, "quoted-probe")
		w.expectNothingWritten(ctx, "quoted")
		expectCanaryNowhere(ctx)
	})

	It("cannot share objects with a Release of the same release name and targetNamespace from another namespace: OwnershipConflict", func(ctx SpecContext) {
		By("both tenants' accounts may write a shared namespace; the other tenant installs there first")
		shared := newTenantNamespace(ctx, "shared-")
		grantEdit(ctx, shared, w.ns, w.victim)
		Expect(w.neighbour.Create(ctx, testsupport.MakeChartRepository(repository, w.victim, charts.URL).Obj())).To(Succeed())
		first := testsupport.MakeRelease("app", w.victim).Chart(repository, "probe", "1.0.0").Obj()
		first.Spec.TargetNamespace = shared
		Expect(w.neighbour.Create(ctx, first)).To(Succeed())
		testsupport.Kube{Client: admin}.ExpectReadyAt(ctx, w.victim, "app", 1)

		By("the tenant's Release of the same name and target stalls and writes nothing")
		second := w.probe("app", map[string]any{"name": "app-probe"}).Obj()
		second.Spec.TargetNamespace = shared
		w.create(ctx, second)
		w.expectRefused(ctx, "app", Equal(capstanv1.OwnershipConflictReason), true, w.victim)
		Consistently(func(g Gomega) {
			g.Expect(testsupport.Kube{Client: admin}.Records(ctx, w.ns, "app")).To(BeEmpty())
			g.Expect(testsupport.Kube{Client: admin}.Records(ctx, w.victim, "app")).To(Equal([]string{"v1=deployed"}))
			first := testsupport.Kube{Client: admin}.Release(g, ctx, w.victim, "app")
			g.Expect(meta(first.Status.Conditions, capstanv1.ReadyCondition).Status).To(Equal(metav1.ConditionTrue))
		}).WithContext(ctx).Should(Succeed())
		expectCanaryNowhere(ctx)
	})

	It("cannot takeOwnership of an object another release owns: OwnershipConflict", func(ctx SpecContext) {
		w.create(ctx, w.probe("owner", nil).Obj())
		testsupport.Kube{Client: admin}.ExpectReadyAt(ctx, w.ns, "owner", 1)
		w.create(ctx, w.probe("thief", map[string]any{"name": "owner-probe"}).Install(capstanv1.Install{TakeOwnership: true}).Obj())
		w.expectRefused(ctx, "thief", Equal(capstanv1.OwnershipConflictReason), true, "owner-probe", "owner")
		Consistently(func(g Gomega) {
			g.Expect(testsupport.Kube{Client: admin}.Records(ctx, w.ns, "thief")).To(BeEmpty())
			cm := &corev1.ConfigMap{}
			g.Expect(admin.Get(ctx, client.ObjectKey{Namespace: w.ns, Name: "owner-probe"}, cm)).To(Succeed())
			g.Expect(cm.Annotations).To(HaveKeyWithValue("meta.helm.sh/release-name", "owner"))
		}).WithContext(ctx).Should(Succeed())
	})

	It("cannot takeOwnership of an object of a helm release stored in the target namespace: OwnershipConflict", func(ctx SpecContext) {
		target := newTenantNamespace(ctx, "helm-")
		grantEdit(ctx, target, w.ns)
		installHelmRelease(ctx, target, "web")
		rel := w.probe("web", nil).Install(capstanv1.Install{TakeOwnership: true}).Obj()
		rel.Spec.TargetNamespace = target
		w.create(ctx, rel)
		w.expectRefused(ctx, "web", Equal(capstanv1.OwnershipConflictReason), true, "owned by helm release "+target+"/web")
		Consistently(func(g Gomega) {
			g.Expect(testsupport.Kube{Client: admin}.Records(ctx, w.ns, "web")).To(BeEmpty())
			g.Expect(testsupport.Kube{Client: admin}.Records(ctx, target, "web")).To(Equal([]string{"v1=deployed"}), "helm's record is not touched")
			g.Expect(helmNote(g, ctx, target, "web")).To(Equal("from-helm"))
		}).WithContext(ctx).Should(Succeed())
	})

	It("cannot point a ChartRepository at a cloud-metadata address: AddressNotAllowed", func(ctx SpecContext) {
		Expect(w.editor.Create(ctx, testsupport.MakeChartRepository("metadata", w.ns, "http://169.254.169.254/charts").Obj())).To(Succeed())
		w.expectRepositoryRefused(ctx, "metadata", Equal(capstanv1.AddressNotAllowedReason), "169.254.169.254")
	})

	It("cannot point a ChartRepository at a server that redirects to a cloud-metadata address: AddressNotAllowed", func(ctx SpecContext) {
		redirector := httptest.NewServer(http.RedirectHandler("http://169.254.169.254/latest/meta-data/", http.StatusFound))
		DeferCleanup(redirector.Close)
		Expect(w.editor.Create(ctx, testsupport.MakeChartRepository("redirect", w.ns, redirector.URL).Obj())).To(Succeed())
		w.expectRepositoryRefused(ctx, "redirect", Equal(capstanv1.AddressNotAllowedReason), "169.254.169.254")
	})

	It("cannot take the manager down with a chart that allocates without bound: RenderBudgetExceeded", func(ctx SpecContext) {
		w.create(ctx, w.probe("hog", map[string]any{"allocate": true}).Obj())
		w.expectRefused(ctx, "hog", Equal(capstanv1.RenderBudgetExceededReason), true, "render memory budget")
		w.expectNothingWritten(ctx, "hog")
		Expect(manager.Running()).To(BeTrue(), "the manager survived")
	})
})

// The drift half of row 15b: a Secret value the chart put into an object, drifted out of band.
var _ = Describe("A tenant's drifted Release", func() {
	var w *world
	BeforeEach(func(ctx SpecContext) { w = newWorld(ctx) })

	It("cannot leak a valuesFrom Secret value through a drift message: Drifted names the object and path only", func(ctx SpecContext) {
		w.ownCanary(ctx, "password", canary)
		values := capstanv1.ValuesReference{Kind: capstanv1.ValuesKindSecret, Name: canarySecret, Key: "password", TargetPath: "secretValue"}
		for _, mode := range []capstanv1.DriftDetectionMode{capstanv1.DriftDetectionWarn, capstanv1.DriftDetectionEnabled} {
			name := "drift-" + string(mode)
			w.create(ctx, w.probe(name, nil).ValuesFrom(values).Drift(mode).Interval(2*time.Second).Obj())
			testsupport.Kube{Client: admin}.ExpectReadyAt(ctx, w.ns, name, 1)
			key := client.ObjectKey{Namespace: w.ns, Name: name + "-probe-secret"}
			live := &corev1.Secret{}
			Expect(admin.Get(ctx, key, live)).To(Succeed())
			Expect(string(live.Data["value"])).To(Equal(canary), "the chart put the canary into its Secret")

			By(fmt.Sprintf("%s: the cluster admin changes the Secret's value out of band", mode))
			live.Data["value"] = []byte("changed-out-of-band")
			Expect(admin.Update(ctx, live, client.FieldOwner("intruder"))).To(Succeed())

			reason, path := capstanv1.DriftDetectedReason, "/data/value"
			if mode == capstanv1.DriftDetectionEnabled {
				reason = capstanv1.DriftCorrectedReason
			}
			Eventually(func(g Gomega) {
				rel := testsupport.Kube{Client: admin}.Release(g, ctx, w.ns, name)
				drifted := meta(rel.Status.Conditions, capstanv1.DriftedCondition)
				g.Expect(drifted.Reason).To(Equal(reason), "Drifted: %+v", drifted)
				g.Expect(drifted.Message).To(And(ContainSubstring(key.Name), ContainSubstring(path)))
				g.Expect(eventNotes(g, ctx, w.ns, name, reason)).To(ContainElement(And(ContainSubstring(key.Name), ContainSubstring(path))))
			}).WithContext(ctx).Should(Succeed())
			rel := testsupport.Kube{Client: admin}.Release(Default, ctx, w.ns, name)
			AddReportEntry(string(mode)+" drift of "+name, meta(rel.Status.Conditions, capstanv1.DriftedCondition).Message)
			if mode == capstanv1.DriftDetectionWarn {
				Expect(meta(rel.Status.Conditions, capstanv1.DriftedCondition).Status).To(Equal(metav1.ConditionTrue))
			} else {
				Eventually(func(g Gomega) {
					g.Expect(admin.Get(ctx, key, live)).To(Succeed())
					g.Expect(string(live.Data["value"])).To(Equal(canary), "enabled mode corrected the drift")
				}).WithContext(ctx).Should(Succeed())
			}
			expectCanaryNowhereBut(ctx, key)

			By("uninstalling it, so that the canary the chart was given is gone for the specs that follow")
			Expect(w.editor.Delete(ctx, rel)).To(Succeed())
			Eventually(func(g Gomega) {
				g.Expect(admin.Get(ctx, key, &corev1.Secret{})).To(Satisfy(apierrors.IsNotFound))
			}).WithContext(ctx).Should(Succeed())
		}
		expectCanaryNowhere(ctx)
	})
})

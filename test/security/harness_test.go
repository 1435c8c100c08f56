package security

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/onsi/gomega/types"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	capstanv1 "github.com/capstan-dev/capstan/api/v1alpha1"
	"github.com/capstan-dev/capstan/internal/testsupport"
)

// Names every world uses.
const (
	// releaseAccount is config/default's --default-service-account.
	releaseAccount = "capstan-release"
	// repository is the ChartRepository each tenant namespace gets.
	repository = "charts"
	// canarySecret is the victim's Secret whose value every attack tries to reach.
	canarySecret = "canary"
)

// world is one spec's cast, in namespaces of its own: a tenant namespace whose owner holds
// `edit` (and a reader holding `view`), whose capstan-release account is bound to `edit` there,
// with a ChartRepository serving the probe charts; and a victim namespace, set up the same
// way, holding the canary Secret.
type world struct {
	// ns is the tenant's namespace, victim the other tenant's.
	ns, victim string
	// editor acts as the user bound to edit in ns, viewer as the one bound to view.
	editor, viewer client.WithWatch
	// neighbour acts as the user bound to edit in victim (the other tenant, for rows where two
	// tenants' Releases meet).
	neighbour client.WithWatch
}

// newWorld sets a world up and waits until the tenant's ChartRepository is Ready.
func newWorld(ctx context.Context) *world {
	w := &world{ns: newTenantNamespace(ctx, "tenant-"), victim: newTenantNamespace(ctx, "victim-")}
	w.editor = impersonate("editor:" + w.ns)
	w.viewer = impersonate("viewer:" + w.ns)
	w.neighbour = impersonate("editor:" + w.victim)
	Expect(admin.Create(ctx, &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: w.victim, Name: canarySecret},
		Data:       map[string][]byte{"password": []byte(canary)},
	})).To(Succeed())
	By("creating the ChartRepository as the tenant (capstan-edit is aggregated to edit)")
	Eventually(func() error {
		return w.editor.Create(ctx, testsupport.MakeChartRepository(repository, w.ns, charts.URL).Obj())
	}).WithContext(ctx).Should(Succeed())
	Eventually(func(g Gomega) {
		cr := &capstanv1.ChartRepository{}
		g.Expect(admin.Get(ctx, client.ObjectKey{Namespace: w.ns, Name: repository}, cr)).To(Succeed())
		g.Expect(meta(cr.Status.Conditions, capstanv1.ReadyCondition).Status).To(Equal(metav1.ConditionTrue))
	}).WithContext(ctx).Should(Succeed())
	return w
}

// newTenantNamespace creates a namespace with the capstan-release account and the editor and
// viewer users, each bound to the built-in role of that name.
func newTenantNamespace(ctx context.Context, prefix string) string {
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: prefix}}
	Expect(admin.Create(ctx, ns)).To(Succeed())
	name := ns.Name
	Expect(admin.Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: name, Name: releaseAccount}})).To(Succeed())
	bind(ctx, name, "edit", rbacv1.Subject{Kind: rbacv1.ServiceAccountKind, Namespace: name, Name: releaseAccount})
	bind(ctx, name, "edit", rbacv1.Subject{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: "editor:" + name})
	bind(ctx, name, "view", rbacv1.Subject{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: "viewer:" + name})
	return name
}

// ownCanary puts the canary in the tenant's own namespace, in a Secret its account may read,
// under key with content (the redaction rows: a reader of the namespace may not read Secrets).
func (w *world) ownCanary(ctx context.Context, key, content string) {
	Expect(admin.Create(ctx, &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: w.ns, Name: canarySecret},
		Data:       map[string][]byte{key: []byte(content)},
	})).To(Succeed())
}

// grantEdit lets the capstan-release account of each of accountNamespaces edit namespace ns: a
// namespace two tenants may both deploy into (the ownership rows).
func grantEdit(ctx context.Context, ns string, accountNamespaces ...string) {
	for _, from := range accountNamespaces {
		bind(ctx, ns, "edit", rbacv1.Subject{Kind: rbacv1.ServiceAccountKind, Namespace: from, Name: releaseAccount})
	}
}

// expectRepositoryRefused waits until the tenant's ChartRepository name is not Ready with a
// reason reason matches and a message containing each of mentions (the network rows).
func (w *world) expectRepositoryRefused(ctx context.Context, name string, reason types.GomegaMatcher, mentions ...string) {
	Eventually(func(g Gomega) {
		cr := &capstanv1.ChartRepository{}
		g.Expect(admin.Get(ctx, client.ObjectKey{Namespace: w.ns, Name: name}, cr)).To(Succeed())
		ready := meta(cr.Status.Conditions, capstanv1.ReadyCondition)
		g.Expect(ready.Status).To(Equal(metav1.ConditionFalse), "Ready: %+v", ready)
		g.Expect(ready.Reason).To(reason, "Ready: %s", ready.Message)
		for _, m := range mentions {
			g.Expect(ready.Message).To(ContainSubstring(m))
		}
	}).WithContext(ctx).Should(Succeed())
}

// bind binds subject to the ClusterRole role inside namespace ns.
func bind(ctx context.Context, ns, role string, subject rbacv1.Subject) {
	Expect(admin.Create(ctx, &rbacv1.RoleBinding{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, GenerateName: role + "-"},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: role},
		Subjects:   []rbacv1.Subject{subject},
	})).To(Succeed())
}

// impersonate returns a client acting as user (the cluster admin may impersonate anyone).
func impersonate(user string) client.WithWatch {
	cfg := rest.CopyConfig(cluster.Config)
	cfg.Impersonate = rest.ImpersonationConfig{UserName: user}
	c, err := client.NewWithWatch(cfg, client.Options{Scheme: scheme})
	Expect(err).NotTo(HaveOccurred())
	return c
}

// probe is a Release of the probe chart in the tenant's namespace with the given values.
func (w *world) probe(name string, values map[string]any) *testsupport.ReleaseBuilder {
	b := testsupport.MakeRelease(name, w.ns).Chart(repository, "probe", "1.0.0")
	if values != nil {
		b = b.Values(values)
	}
	return b
}

// create creates the Release as the tenant (the user bound to edit).
func (w *world) create(ctx context.Context, rel *capstanv1.Release) {
	Expect(w.editor.Create(ctx, rel)).To(Succeed())
}

// meta returns the condition of type typ, or an empty one.
func meta(conds []metav1.Condition, typ string) metav1.Condition {
	for _, c := range conds {
		if c.Type == typ {
			return c
		}
	}
	return metav1.Condition{}
}

// expectRefused waits until the Release is not Ready with a reason reason matches, its message
// containing each of mentions, and returns it. stalled says whether it must also be Stalled (a
// refusal only a change fixes) rather than waiting or failing.
func (w *world) expectRefused(ctx context.Context, name string, reason types.GomegaMatcher, stalled bool, mentions ...string) *capstanv1.Release {
	var rel *capstanv1.Release
	Eventually(func(g Gomega) {
		rel = &capstanv1.Release{}
		g.Expect(admin.Get(ctx, client.ObjectKey{Namespace: w.ns, Name: name}, rel)).To(Succeed())
		ready := meta(rel.Status.Conditions, capstanv1.ReadyCondition)
		g.Expect(ready.Status).To(Equal(metav1.ConditionFalse), "Ready: %+v", ready)
		g.Expect(ready.Reason).To(reason, "Ready: %s", ready.Message)
		for _, m := range mentions {
			g.Expect(ready.Message).To(ContainSubstring(m))
		}
		if stalled {
			g.Expect(meta(rel.Status.Conditions, capstanv1.StalledCondition).Status).To(Equal(metav1.ConditionTrue))
		}
	}).WithContext(ctx).Should(Succeed())
	AddReportEntry("refusal of "+name, meta(rel.Status.Conditions, capstanv1.ReadyCondition).Message)
	return rel
}

// expectNothingWritten checks, for a while, that the tenant and victim namespaces hold only
// what the world put there (no ConfigMap but kube-root-ca.crt, no Secret but the canary: no
// revision record either) and that no cluster-scoped object of the Release exists.
func (w *world) expectNothingWritten(ctx context.Context, name string) {
	w.expectUntouched(ctx, name, w.ns, w.victim)
}

// expectUntouched is expectNothingWritten for the namespaces given: a refusal that comes after
// the revision record (a failing hook) leaves that record, in the tenant's own namespace.
func (w *world) expectUntouched(ctx context.Context, name string, namespaces ...string) {
	Consistently(func(g Gomega) {
		for _, ns := range namespaces {
			var cms corev1.ConfigMapList
			g.Expect(admin.List(ctx, &cms, client.InNamespace(ns))).To(Succeed())
			g.Expect(itemNames(cms.Items)).To(ConsistOf("kube-root-ca.crt"), "ConfigMaps in %s", ns)
			var secrets corev1.SecretList
			g.Expect(admin.List(ctx, &secrets, client.InNamespace(ns))).To(Succeed())
			others := []string{}
			for _, n := range itemNames(secrets.Items) {
				if n != canarySecret {
					others = append(others, n)
				}
			}
			g.Expect(others).To(BeEmpty(), "Secrets in %s besides the canary (records included)", ns)
		}
		var crbs rbacv1.ClusterRoleBindingList
		g.Expect(admin.List(ctx, &crbs)).To(Succeed())
		for _, b := range crbs.Items {
			g.Expect(b.Name).NotTo(HavePrefix(name+"-"), "a cluster-scoped object of the Release")
		}
	}).WithContext(ctx).Should(Succeed())
}

// itemNames lists the names of objects.
func itemNames[T any, P interface {
	*T
	GetName() string
}](items []T) []string {
	out := []string{}
	for i := range items {
		out = append(out, P(&items[i]).GetName())
	}
	return out
}

// canaryForms are the canary as it could leak: raw, base64 (a Secret's data) and base64 of the
// base64 (a record or a Secret inside a Secret).
func canaryForms() []string {
	b64 := base64.StdEncoding.EncodeToString([]byte(canary))
	return []string{canary, b64, base64.StdEncoding.EncodeToString([]byte(b64))}
}

// expectCanaryNowhere checks that the canary appears in no Release (spec or status), no event,
// no ConfigMap, no Secret but its own, and not in any log of the manager.
func expectCanaryNowhere(ctx context.Context) {
	expectCanaryNowhereBut(ctx)
}

// expectCanaryNowhereBut is expectCanaryNowhere, except in the Secrets named (a chart's own
// Secret that was given the value on purpose).
func expectCanaryNowhereBut(ctx context.Context, allowed ...client.ObjectKey) {
	var places []string
	var rels capstanv1.ReleaseList
	Expect(admin.List(ctx, &rels)).To(Succeed())
	places = append(places, jsonOf(rels))
	var events eventsv1.EventList
	Expect(admin.List(ctx, &events)).To(Succeed())
	places = append(places, jsonOf(events))
	var coreEvents corev1.EventList
	Expect(admin.List(ctx, &coreEvents)).To(Succeed())
	places = append(places, jsonOf(coreEvents))
	var cms corev1.ConfigMapList
	Expect(admin.List(ctx, &cms)).To(Succeed())
	places = append(places, jsonOf(cms))
	var secrets corev1.SecretList
	Expect(admin.List(ctx, &secrets)).To(Succeed())
	for i := range secrets.Items {
		if s := secrets.Items[i]; s.Name != canarySecret && !slices.Contains(allowed, client.ObjectKeyFromObject(&s)) {
			places = append(places, jsonOf(secrets.Items[i]))
		}
	}
	logs, err := filepath.Glob(filepath.Join(workDir, "manager*.log"))
	Expect(err).NotTo(HaveOccurred())
	Expect(logs).NotTo(BeEmpty())
	for _, path := range logs {
		log, err := os.ReadFile(path)
		Expect(err).NotTo(HaveOccurred())
		places = append(places, string(log))
	}
	for _, p := range places {
		for _, form := range canaryForms() {
			Expect(strings.Contains(p, form)).To(BeFalse(), "the canary (as %q) leaked into: %.300s", form, p)
		}
	}
}

func jsonOf(v any) string {
	b, err := json.Marshal(v)
	Expect(err).NotTo(HaveOccurred())
	return string(b)
}

// expectForbidden asserts that err is the apiserver's refusal.
func expectForbidden(err error) {
	GinkgoHelper()
	Expect(err).To(HaveOccurred())
	Expect(err.Error()).To(ContainSubstring("forbidden"))
}

// eventNotes returns the messages of the events with reason about the Release ns/name, read
// through both the core and the events.k8s.io API.
func eventNotes(g Gomega, ctx context.Context, ns, name, reason string) []string {
	var out []string
	var events eventsv1.EventList
	g.Expect(admin.List(ctx, &events, client.InNamespace(ns))).To(Succeed())
	for _, e := range events.Items {
		if e.Regarding.Kind == capstanv1.ReleaseKind && e.Regarding.Name == name && e.Reason == reason {
			out = append(out, e.Note)
		}
	}
	var core corev1.EventList
	g.Expect(admin.List(ctx, &core, client.InNamespace(ns))).To(Succeed())
	for _, e := range core.Items {
		if e.InvolvedObject.Kind == capstanv1.ReleaseKind && e.InvolvedObject.Name == name && e.Reason == reason {
			out = append(out, e.Message)
		}
	}
	return out
}

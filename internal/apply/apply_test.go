package apply_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync/atomic"
	"testing"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"github.com/capstan-dev/capstan/internal/apply"
	"github.com/capstan-dev/capstan/internal/testenv"
)

var (
	k8s    client.Client
	nsSeq  atomic.Int32
	owner  = apply.Owner{Name: "web"}
	scheme = runtime.NewScheme()
)

func TestMain(m *testing.M) {
	_ = clientgoscheme.AddToScheme(scheme)
	_ = apiextensionsv1.AddToScheme(scheme)
	env, cfg, err := testenv.Start()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	k8s, err = client.New(cfg, client.Options{Scheme: scheme})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	_ = env.Stop()
	os.Exit(code)
}

// newNamespace creates a namespace of its own for one test and returns its name.
func newNamespace(t *testing.T) string {
	t.Helper()
	name := fmt.Sprintf("apply-%d", nsSeq.Add(1))
	if err := k8s.Create(context.Background(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}); err != nil {
		t.Fatal(err)
	}
	return name
}

func objs(t *testing.T, docs ...string) []*unstructured.Unstructured {
	t.Helper()
	var out []*unstructured.Unstructured
	for _, d := range docs {
		u := &unstructured.Unstructured{}
		if err := yaml.Unmarshal([]byte(d), &u.Object); err != nil {
			t.Fatal(err)
		}
		out = append(out, u)
	}
	return out
}

func applierFor(ns string, opts apply.Options) *apply.Applier {
	o := owner
	o.Namespace = ns
	return apply.New(k8s, o, opts)
}

const configMap = `
apiVersion: v1
kind: ConfigMap
metadata: {name: settings}
data: {color: blue}
`

const badDeployment = `
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: -1
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: web, image: nginx}]}
`

const clusterRole = `
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: capstan-apply-test, namespace: ignored}
rules: []
`

const widgetCRD = `
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.example.capstan.dev}
spec:
  group: example.capstan.dev
  scope: Namespaced
  names: {plural: widgets, singular: widget, kind: Widget, listKind: WidgetList}
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec: {type: object, properties: {size: {type: integer}}}
`

const widget = `
apiVersion: example.capstan.dev/v1
kind: Widget
metadata: {name: small}
spec: {size: 1}
`

func TestApplier_Prepare(t *testing.T) {
	g := NewWithT(t)
	set := objs(t, configMap, clusterRole, widgetCRD, widget)
	g.Expect(applierFor("team-a", apply.Options{}).Prepare(set)).To(Succeed())
	g.Expect(set[0].GetNamespace()).To(Equal("team-a"), "a namespaced object without a namespace goes to the release's")
	g.Expect(set[1].GetNamespace()).To(BeEmpty(), "a cluster-scoped object carries no namespace")
	g.Expect(set[3].GetNamespace()).To(Equal("team-a"), "the scope of a kind defined by the release's own CRD is taken from it")
	for _, o := range set {
		g.Expect(apply.OwnedBy(o, apply.Owner{Name: "web", Namespace: "team-a"})).To(BeTrue(), o.GetName())
	}
}

func TestApplier_Prepare_unknownKind(t *testing.T) {
	g := NewWithT(t)
	set := objs(t, `{apiVersion: nowhere.capstan.dev/v1, kind: Ghost, metadata: {name: boo}}`)
	err := applierFor("team-a", apply.Options{}).Prepare(set)
	g.Expect(err).To(MatchError(ContainSubstring(`Ghost/boo: no kind "Ghost" is served in version "nowhere.capstan.dev/v1"`)))
}

func TestApplier_DryRun_rejectsAndWritesNothing(t *testing.T) {
	g := NewWithT(t)
	ns := newNamespace(t)
	a := applierFor(ns, apply.Options{})
	set := objs(t, configMap, badDeployment)
	g.Expect(a.Prepare(set)).To(Succeed())

	err := a.DryRun(context.Background(), set)
	var dr *apply.DryRunError
	g.Expect(errors.As(err, &dr)).To(BeTrue(), "got %v", err)
	g.Expect(dr.Failures).To(HaveLen(1))
	g.Expect(dr.Failures[0].Ref.String()).To(Equal("Deployment/" + ns + "/web"))
	g.Expect(dr.Failures[0].Field).To(Equal("spec.replicas"))

	cm := &corev1.ConfigMap{}
	err = k8s.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: "settings"}, cm)
	g.Expect(apierrors.IsNotFound(err)).To(BeTrue(), "the valid ConfigMap must not have been written")
}

func TestApplier_CheckOwnership(t *testing.T) {
	helmOwned := func(name, releaseNS string) map[string]string {
		return map[string]string{apply.ReleaseNameAnnotation: name, apply.ReleaseNamespaceAnnotation: releaseNS}
	}
	managed := map[string]string{apply.ManagedByLabel: "Helm"}
	cases := map[string]struct {
		existing func(ns string) *corev1.ConfigMap
		take     bool
		// listed says the release's own records list the object.
		listed bool
		// manager is the field manager that creates the existing object (default the test's).
		manager     string
		wantProblem string
	}{
		"an object nobody owns is a conflict": {
			existing:    func(ns string) *corev1.ConfigMap { return cm(ns, nil, nil) },
			wantProblem: "exists and is not managed by any release",
		},
		"an object of another helm release is a conflict": {
			existing:    func(ns string) *corev1.ConfigMap { return cm(ns, managed, helmOwned("other", ns)) },
			wantProblem: "owned by helm release %s/other",
		},
		"takeOwnership adopts an unowned object": {
			existing: func(ns string) *corev1.ConfigMap { return cm(ns, nil, nil) },
			take:     true,
		},
		"takeOwnership does not adopt an object of another Capstan release": {
			existing: func(ns string) *corev1.ConfigMap {
				return cm(ns, managed, map[string]string{apply.ReleaseNameAnnotation: "web", apply.ReleaseNamespaceAnnotation: "team-b",
					apply.ReleaseAnnotation: "team-b/web"})
			},
			take:        true,
			wantProblem: "owned by release team-b/web",
		},
		"takeOwnership does not adopt an object of a helm release": {
			existing:    func(ns string) *corev1.ConfigMap { return cm(ns, managed, helmOwned("other", ns)) },
			take:        true,
			wantProblem: "owned by helm release %s/other",
		},
		"our own object is fine": {
			existing: func(ns string) *corev1.ConfigMap {
				return cm(ns, managed, map[string]string{apply.ReleaseNameAnnotation: "web", apply.ReleaseNamespaceAnnotation: "team-a",
					apply.ReleaseAnnotation: "team-a/web"})
			},
		},
		"an object of the helm release of the same identity is ours (the take-over path)": {
			existing: func(ns string) *corev1.ConfigMap { return cm(ns, managed, helmOwned("web", "team-a")) },
		},
		"a helm release of the same name stored in the target namespace is a conflict": {
			existing:    func(ns string) *corev1.ConfigMap { return cm(ns, managed, helmOwned("web", ns)) },
			take:        true,
			wantProblem: "owned by helm release %s/web",
		},
		"an object a helm release in the target namespace wrote is a conflict even when the records list it": {
			existing:    func(ns string) *corev1.ConfigMap { return cm(ns, managed, helmOwned("web", ns)) },
			listed:      true,
			wantProblem: "owned by helm release %s/web",
		},
		"an object an earlier Capstan annotated with the target namespace is ours when the records list it": {
			existing: func(ns string) *corev1.ConfigMap { return cm(ns, managed, helmOwned("web", ns)) },
			manager:  apply.FieldManager,
			listed:   true,
		},
		"a missing object is fine": {},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			ns := newNamespace(t)
			if tc.existing != nil {
				var opts []client.CreateOption
				if tc.manager != "" {
					opts = append(opts, client.FieldOwner(tc.manager))
				}
				g.Expect(k8s.Create(context.Background(), tc.existing(ns), opts...)).To(Succeed())
			}
			o := apply.Owner{Name: "web", Namespace: ns, StorageNamespace: "team-a"}
			a := apply.New(k8s, o, apply.Options{TakeOwnership: tc.take})
			set := objs(t, configMap)
			g.Expect(a.Prepare(set)).To(Succeed())
			var previous []apply.ObjectRef
			if tc.listed {
				previous = []apply.ObjectRef{apply.RefOf(set[0])}
			}
			err := a.CheckOwnership(context.Background(), set, previous)
			if tc.wantProblem == "" {
				g.Expect(err).NotTo(HaveOccurred())
				return
			}
			var oc *apply.OwnershipConflictError
			g.Expect(errors.As(err, &oc)).To(BeTrue(), "got %v", err)
			want := tc.wantProblem
			if strings.Contains(want, "%s") {
				want = fmt.Sprintf(want, ns)
			}
			g.Expect(oc.Error()).To(ContainSubstring("ConfigMap/" + ns + "/settings: " + want))
		})
	}
}

func cm(ns string, labels, ann map[string]string) *corev1.ConfigMap {
	return &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "settings", Namespace: ns, Labels: labels, Annotations: ann}}
}

func TestApplier_Apply_stagesCRDsBeforeTheirObjects(t *testing.T) {
	g := NewWithT(t)
	ns := newNamespace(t)
	a := applierFor(ns, apply.Options{})
	set := objs(t, widget, configMap, widgetCRD)
	g.Expect(a.Prepare(set)).To(Succeed())
	g.Expect(a.DryRun(context.Background(), set)).To(Succeed(), "a CR whose CRD comes with the release is checked at apply time")
	applied, err := a.Apply(context.Background(), set)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(applied).To(HaveLen(3))
	g.Expect(applied[0].Kind).To(Equal("CustomResourceDefinition"), "CRDs go first")

	live := &unstructured.Unstructured{}
	live.SetAPIVersion("example.capstan.dev/v1")
	live.SetKind("Widget")
	g.Expect(k8s.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: "small"}, live)).To(Succeed())
	g.Expect(apply.OwnedBy(live, apply.Owner{Name: "web", Namespace: ns})).To(BeTrue())
	g.Expect(live.GetManagedFields()[0].Manager).To(Equal(apply.FieldManager))
}

const immutableV1 = `
apiVersion: v1
kind: ConfigMap
metadata: {name: frozen}
immutable: true
data: {color: blue}
`

const immutableV2 = `
apiVersion: v1
kind: ConfigMap
metadata: {name: frozen}
immutable: true
data: {color: green}
`

func TestApplier_immutableFields(t *testing.T) {
	g := NewWithT(t)
	ns := newNamespace(t)
	ctx := context.Background()
	a := applierFor(ns, apply.Options{})
	v1 := objs(t, immutableV1)
	g.Expect(a.Prepare(v1)).To(Succeed())
	_, err := a.Apply(ctx, v1)
	g.Expect(err).NotTo(HaveOccurred())

	v2 := objs(t, immutableV2)
	g.Expect(a.Prepare(v2)).To(Succeed())
	err = a.DryRun(ctx, v2)
	var ie *apply.ImmutableFieldError
	g.Expect(errors.As(err, &ie)).To(BeTrue(), "got %v", err)
	g.Expect(ie.Failures[0].Ref.String()).To(Equal("ConfigMap/" + ns + "/frozen"))
	g.Expect(ie.Failures[0].Field).To(Equal("data"))

	forced := applierFor(ns, apply.Options{Force: true})
	g.Expect(forced.DryRun(ctx, v2)).To(Succeed())
	_, err = forced.Apply(ctx, v2)
	g.Expect(err).NotTo(HaveOccurred())
	got := &corev1.ConfigMap{}
	g.Expect(k8s.Get(ctx, client.ObjectKey{Namespace: ns, Name: "frozen"}, got)).To(Succeed())
	g.Expect(got.Data["color"]).To(Equal("green"), "force recreated the object with the new data")
}

func TestApplier_Delete(t *testing.T) {
	g := NewWithT(t)
	ns := newNamespace(t)
	ctx := context.Background()
	a := applierFor(ns, apply.Options{})
	set := objs(t, configMap,
		`{apiVersion: v1, kind: Secret, metadata: {name: kept, annotations: {helm.sh/resource-policy: keep}}, stringData: {k: v}}`,
		widgetCRD)
	g.Expect(a.Prepare(set)).To(Succeed())
	_, err := a.Apply(ctx, set)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(k8s.Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "foreign", Namespace: ns}})).To(Succeed())
	sameNameElsewhere := apply.New(k8s, apply.Owner{Name: "web", Namespace: ns, StorageNamespace: "team-b"}, apply.Options{})
	theirs := objs(t, `{apiVersion: v1, kind: ConfigMap, metadata: {name: theirs}}`)
	g.Expect(sameNameElsewhere.Prepare(theirs)).To(Succeed())
	_, err = sameNameElsewhere.Apply(ctx, theirs)
	g.Expect(err).NotTo(HaveOccurred())

	refs := []apply.ObjectRef{
		apply.RefOf(set[0]), apply.RefOf(set[1]), apply.RefOf(set[2]),
		{Version: "v1", Kind: "ConfigMap", Namespace: ns, Name: "foreign"},
		{Version: "v1", Kind: "ConfigMap", Namespace: ns, Name: "already-gone"},
		apply.RefOf(theirs[0]),
	}
	deleted, err := a.Delete(ctx, refs)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(deleted).To(ConsistOf(refs[0], refs[4]))
	g.Expect(k8s.Get(ctx, client.ObjectKey{Namespace: ns, Name: "theirs"}, &corev1.ConfigMap{})).To(Succeed(),
		"a release of the same name stored in another namespace keeps its object")

	g.Expect(apierrors.IsNotFound(k8s.Get(ctx, client.ObjectKey{Namespace: ns, Name: "settings"}, &corev1.ConfigMap{}))).To(BeTrue())
	g.Expect(k8s.Get(ctx, client.ObjectKey{Namespace: ns, Name: "kept"}, &corev1.Secret{})).To(Succeed(), "keep policy survives")
	g.Expect(k8s.Get(ctx, client.ObjectKey{Namespace: ns, Name: "foreign"}, &corev1.ConfigMap{})).To(Succeed(), "objects of others are not ours to delete")
	g.Expect(k8s.Get(ctx, client.ObjectKey{Name: "widgets.example.capstan.dev"}, &apiextensionsv1.CustomResourceDefinition{})).To(Succeed(), "CRDs are never deleted")
}

func TestApplier_Diff(t *testing.T) {
	g := NewWithT(t)
	ns := newNamespace(t)
	ctx := context.Background()
	a := applierFor(ns, apply.Options{})
	set := objs(t, configMap)
	g.Expect(a.Prepare(set)).To(Succeed())
	_, err := a.Apply(ctx, set)
	g.Expect(err).NotTo(HaveOccurred())

	changes, err := a.Diff(ctx, set, nil)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(changes).To(BeEmpty(), "a freshly applied object has not drifted")

	live := &corev1.ConfigMap{}
	g.Expect(k8s.Get(ctx, client.ObjectKey{Namespace: ns, Name: "settings"}, live)).To(Succeed())
	live.Data["color"] = "red"
	g.Expect(k8s.Update(ctx, live, client.FieldOwner("kubectl-edit"))).To(Succeed())

	changes, err = a.Diff(ctx, set, nil)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(changes).To(HaveLen(1))
	g.Expect(changes[0].Kind).To(Equal(apply.ChangeDrifted))
	g.Expect(changes[0].Fields).To(Equal([]string{"/data/color"}))

	ignored, err := a.Diff(ctx, set, func(apply.ObjectRef) []string { return []string{"/data/color"} })
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(ignored).To(BeEmpty(), "an ignored pointer is not drift")

	other := apply.New(k8s, apply.Owner{Name: "web", Namespace: ns, StorageNamespace: "team-b"}, apply.Options{ForceConflicts: true})
	taken := objs(t, configMap)
	g.Expect(other.Prepare(taken)).To(Succeed())
	_, err = other.Apply(ctx, taken)
	g.Expect(err).NotTo(HaveOccurred())
	changes, err = a.Diff(ctx, set, nil)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(changes).To(BeEmpty(), "an object another release took over is not compared, so drift correction never writes it")

	g.Expect(k8s.Delete(ctx, live)).To(Succeed())
	changes, err = a.Diff(ctx, set, nil)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(changes).To(ConsistOf(apply.Change{Ref: apply.RefOf(set[0]), Kind: apply.ChangeMissing}))
}

func TestApplier_Diff_objectOfNoRelease(t *testing.T) {
	g := NewWithT(t)
	ns := newNamespace(t)
	ctx := context.Background()
	g.Expect(k8s.Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "settings", Namespace: ns},
		Data: map[string]string{"color": "red"}})).To(Succeed())
	set := objs(t, configMap)
	a := applierFor(ns, apply.Options{})
	g.Expect(a.Prepare(set)).To(Succeed())
	changes, err := a.Diff(ctx, set, nil)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(changes).To(BeEmpty(), "an object of no release is not the release's to compare")

	changes, err = applierFor(ns, apply.Options{TakeOwnership: true}).Diff(ctx, set, nil)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(changes).To(HaveLen(1), "with takeOwnership it would be adopted, so it is compared")
	g.Expect(changes[0].Fields).To(ContainElement("/metadata/annotations"))
}

func TestStale(t *testing.T) {
	g := NewWithT(t)
	a := apply.ObjectRef{Version: "v1", Kind: "ConfigMap", Namespace: "n", Name: "a"}
	b := apply.ObjectRef{Group: "apps", Version: "v1", Kind: "Deployment", Namespace: "n", Name: "b"}
	bNewVersion := b
	bNewVersion.Version = "v2"
	g.Expect(apply.Stale([]apply.ObjectRef{a, b}, []apply.ObjectRef{bNewVersion})).To(Equal([]apply.ObjectRef{a}))
	g.Expect(apply.Stale(nil, []apply.ObjectRef{a})).To(BeEmpty())
}

func TestParseID(t *testing.T) {
	g := NewWithT(t)
	ref := apply.ObjectRef{Group: "apps", Kind: "Deployment", Namespace: "n", Name: "b"}
	got, err := apply.ParseID(ref.ID())
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(got).To(Equal(ref))
	_, err = apply.ParseID("nonsense")
	g.Expect(err).To(MatchError(ContainSubstring(`inventory entry "nonsense"`)))
}

// dryRuns counts the dry-run applies sent through it.
type dryRuns struct {
	client.Client
	n atomic.Int32
}

func (c *dryRuns) Apply(ctx context.Context, obj runtime.ApplyConfiguration, opts ...client.ApplyOption) error {
	o := &client.ApplyOptions{}
	o.ApplyOptions(opts)
	if len(o.DryRun) > 0 {
		c.n.Add(1)
	}
	return c.Client.Apply(ctx, obj, opts...)
}

func TestApplier_Diff_inSyncSkipsUnwrittenObjects(t *testing.T) {
	g := NewWithT(t)
	ns := newNamespace(t)
	ctx := context.Background()
	counting := &dryRuns{Client: k8s}
	o := owner
	o.Namespace = ns
	memory := apply.NewInSync()
	a := apply.New(counting, o, apply.Options{InSync: memory})
	set := objs(t, configMap)
	g.Expect(a.Prepare(set)).To(Succeed())
	_, err := a.Apply(ctx, set)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(memory.Len()).To(Equal(1))

	changes, err := a.Diff(ctx, set, nil)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(changes).To(BeEmpty())
	g.Expect(counting.n.Load()).To(BeZero(), "nobody wrote the object since it was applied: no dry-run")

	// A write by someone else moves the resourceVersion: compared again, drift found.
	live := &corev1.ConfigMap{}
	g.Expect(k8s.Get(ctx, client.ObjectKey{Namespace: ns, Name: "settings"}, live)).To(Succeed())
	live.Data["color"] = "red"
	g.Expect(k8s.Update(ctx, live, client.FieldOwner("kubectl-edit"))).To(Succeed())
	changes, err = a.Diff(ctx, set, nil)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(changes).To(HaveLen(1))
	g.Expect(counting.n.Load()).To(BeEquivalentTo(1))
	changes, err = a.Diff(ctx, set, nil)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(changes).To(HaveLen(1), "drift is not remembered as in sync")
	g.Expect(counting.n.Load()).To(BeEquivalentTo(2))

	// A write that changes nothing of ours: compared once, then remembered.
	g.Expect(k8s.Get(ctx, client.ObjectKey{Namespace: ns, Name: "settings"}, live)).To(Succeed())
	delete(live.Data, "color")
	g.Expect(k8s.Update(ctx, live, client.FieldOwner("kubectl-edit"))).To(Succeed())
	_, err = a.Apply(ctx, set) // takes the fields back, as a drift correction does
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(k8s.Get(ctx, client.ObjectKey{Namespace: ns, Name: "settings"}, live)).To(Succeed())
	live.Labels["team"] = "a"
	g.Expect(k8s.Update(ctx, live, client.FieldOwner("labeller"))).To(Succeed())
	changes, err = a.Diff(ctx, set, nil)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(changes).To(BeEmpty())
	g.Expect(counting.n.Load()).To(BeEquivalentTo(3))
	_, err = a.Diff(ctx, set, nil)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(counting.n.Load()).To(BeEquivalentTo(3), "in sync at this resourceVersion")

	// Another desired object at the same resourceVersion is compared.
	other := objs(t, configMap)
	other[0].Object["data"] = map[string]any{"color": "green"}
	g.Expect(a.Prepare(other)).To(Succeed())
	changes, err = a.Diff(ctx, other, nil)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(changes).To(HaveLen(1))
	g.Expect(counting.n.Load()).To(BeEquivalentTo(4))
}

func TestApplier_DryRunSeen(t *testing.T) {
	g := NewWithT(t)
	ns := newNamespace(t)
	ctx := context.Background()
	memory := apply.NewInSync()
	a := applierFor(ns, apply.Options{InSync: memory})
	set := objs(t, configMap)
	g.Expect(a.Prepare(set)).To(Succeed())
	id := apply.RefOf(set[0]).ID()

	seen, err := a.DryRunSeen(ctx, set)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(seen.New).To(Equal(map[string]bool{id: true}), "a dry-run create answers without a resourceVersion")
	g.Expect(seen.Unchanged).To(BeEmpty())

	_, err = a.Apply(ctx, set)
	g.Expect(err).NotTo(HaveOccurred())
	seen, err = a.DryRunSeen(ctx, set)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(seen.New).To(BeEmpty())
	g.Expect(seen.Unchanged).To(Equal(map[string]bool{id: true}), "nobody wrote it since this release applied it")

	live := &corev1.ConfigMap{}
	g.Expect(k8s.Get(ctx, client.ObjectKey{Namespace: ns, Name: "settings"}, live)).To(Succeed())
	live.Labels["team"] = "a"
	g.Expect(k8s.Update(ctx, live, client.FieldOwner("labeller"))).To(Succeed())
	seen, err = a.DryRunSeen(ctx, set)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(seen.New).To(BeEmpty())
	g.Expect(seen.Unchanged).To(BeEmpty(), "written by someone else since")
}

package apply_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"testing"

	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv1 "k8s.io/api/autoscaling/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/capstan-dev/capstan/internal/apply"
)

func TestConflictsOf(t *testing.T) {
	ref := apply.ObjectRef{Group: "apps", Version: "v1", Kind: "Deployment", Namespace: "apps", Name: "web"}
	conflict := apierrors.NewApplyConflict([]metav1.StatusCause{
		{Type: metav1.CauseTypeFieldManagerConflict, Field: ".spec.replicas",
			Message: `conflict with "kube-controller-manager" with subresource "scale" using apps/v1 at 2026-12-07T10:00:00Z`},
		{Type: metav1.CauseTypeFieldManagerConflict, Field: ".metadata.labels.tier", Message: `conflict with "helm"`},
		{Type: metav1.CauseTypeFieldManagerConflict, Field: ".spec.paused", Message: "something else"},
		{Type: metav1.CauseTypeFieldValueInvalid, Field: ".spec", Message: "not a conflict"},
	}, "Apply failed with 3 conflicts")
	cases := map[string]struct {
		err  error
		want []apply.Conflict
	}{
		"every field-manager cause, with the manager's name read from its message (an unexpected message kept whole)": {
			err: fmt.Errorf("dry-run: %w", conflict),
			want: []apply.Conflict{
				{Ref: ref, Field: ".spec.replicas", Manager: "kube-controller-manager"},
				{Ref: ref, Field: ".metadata.labels.tier", Manager: "helm"},
				{Ref: ref, Field: ".spec.paused", Manager: "something else"},
			},
		},
		"no error":                      {},
		"a conflict of resourceVersion": {err: apierrors.NewConflict(appsv1.Resource("deployments"), "web", errors.New("changed"))},
		"another error":                 {err: errors.New("boom")},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			NewWithT(t).Expect(apply.ConflictsOf(ref, tc.err)).To(Equal(tc.want))
		})
	}
}

func TestYielded(t *testing.T) {
	conflicts := func(fields ...string) []apply.Conflict {
		var out []apply.Conflict
		for _, f := range fields {
			out = append(out, apply.Conflict{Field: f, Manager: "other"})
		}
		return out
	}
	cases := map[string]struct {
		conflicts []apply.Conflict
		pointers  []string
		covering  []string
		rest      []apply.Conflict
	}{
		"a pointer covers its own field": {
			conflicts: conflicts(".spec.replicas"), pointers: []string{"/spec/replicas"},
			covering: []string{"/spec/replicas"},
		},
		"a pointer covers the fields and list elements under it": {
			conflicts: conflicts(`.spec.template.spec.containers[name="app"].image`, ".spec.template.metadata.labels.x"),
			pointers:  []string{"/spec/template"}, covering: []string{"/spec/template"},
		},
		"a pointer does not cover a sibling whose name it prefixes": {
			conflicts: conflicts(".spec.replicasMax"), pointers: []string{"/spec/replicas"},
			rest: conflicts(".spec.replicasMax"),
		},
		"conflicts no pointer covers are the rest, and unused pointers are not returned": {
			conflicts: conflicts(".spec.replicas", ".spec.paused"), pointers: []string{"/spec/paused", "/spec/minReadySeconds", "/spec/replicas"},
			covering: []string{"/spec/paused", "/spec/replicas"},
		},
		"escaped segments name keys with slashes and tildes": {
			conflicts: conflicts(".metadata.annotations.example.com/a~b"), pointers: []string{"/metadata/annotations/example.com~1a~0b"},
			covering: []string{"/metadata/annotations/example.com~1a~0b"},
		},
		"the root pointer covers nothing": {
			conflicts: conflicts(".spec.replicas"), pointers: []string{"/"}, rest: conflicts(".spec.replicas"),
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			covering, rest := apply.Yielded(tc.conflicts, tc.pointers)
			g.Expect(covering).To(Equal(tc.covering))
			g.Expect(rest).To(Equal(tc.rest))
		})
	}
}

func TestFieldConflictError(t *testing.T) {
	var cs []apply.Conflict
	for i := range 7 {
		cs = append(cs, apply.Conflict{Ref: apply.ObjectRef{Kind: "ConfigMap", Namespace: "apps", Name: fmt.Sprintf("c%d", i)},
			Field: ".data.k", Manager: "other"})
	}
	NewWithT(t).Expect((&apply.FieldConflictError{Conflicts: cs}).Error()).To(Equal(
		"7 field(s) are owned by other field managers (upgrade.conflicts can force or yield them): " +
			"ConfigMap/apps/c0: .data.k (manager other); ConfigMap/apps/c1: .data.k (manager other); " +
			"ConfigMap/apps/c2: .data.k (manager other); ConfigMap/apps/c3: .data.k (manager other); " +
			"ConfigMap/apps/c4: .data.k (manager other) and 2 more"))
}

// fields encodes managed fields as the API server does.
func fields(t *testing.T, set string) *metav1.FieldsV1 {
	t.Helper()
	if !json.Valid([]byte(set)) {
		t.Fatalf("invalid fields %s", set)
	}
	return metav1.NewFieldsV1(set)
}

func TestMigrationPatch(t *testing.T) {
	capstan := metav1.ManagedFieldsEntry{Manager: "capstan", Operation: metav1.ManagedFieldsOperationApply, APIVersion: "v1",
		FieldsType: "FieldsV1", FieldsV1: fields(t, `{"f:data":{"f:a":{}}}`)}
	helmUpdate := metav1.ManagedFieldsEntry{Manager: "helm", Operation: metav1.ManagedFieldsOperationUpdate, APIVersion: "v1",
		FieldsType: "FieldsV1", FieldsV1: fields(t, `{"f:data":{"f:a":{},"f:b":{}}}`)}
	helmApply := helmUpdate
	helmApply.Operation = metav1.ManagedFieldsOperationApply
	kubectl := metav1.ManagedFieldsEntry{Manager: "kubectl-client-side-apply", Operation: metav1.ManagedFieldsOperationUpdate,
		APIVersion: "v1", FieldsType: "FieldsV1", FieldsV1: fields(t, `{"f:metadata":{"f:labels":{"f:x":{}}}}`)}
	scaler := metav1.ManagedFieldsEntry{Manager: "helm", Operation: metav1.ManagedFieldsOperationUpdate, APIVersion: "v1",
		Subresource: "status", FieldsType: "FieldsV1", FieldsV1: fields(t, `{"f:status":{}}`)}
	other := metav1.ManagedFieldsEntry{Manager: "someone", Operation: metav1.ManagedFieldsOperationUpdate, APIVersion: "v1",
		FieldsType: "FieldsV1", FieldsV1: fields(t, `{"f:data":{"f:c":{}}}`)}

	type owned struct {
		Manager, Operation, Subresource, Fields string
	}
	cases := map[string]struct {
		entries  []metav1.ManagedFieldsEntry
		managers []string
		// want is the managed fields after the patch; nil means no patch.
		want []owned
	}{
		"helm 3's client-side fields join capstan's": {
			entries: []metav1.ManagedFieldsEntry{capstan, helmUpdate}, managers: []string{"helm"},
			want: []owned{{"capstan", "Apply", "", `{"f:data":{"f:a":{},"f:b":{}}}`}},
		},
		"helm 4's server-side fields join capstan's": {
			entries: []metav1.ManagedFieldsEntry{capstan, helmApply}, managers: []string{"helm"},
			want: []owned{{"capstan", "Apply", "", `{"f:data":{"f:a":{},"f:b":{}}}`}},
		},
		"helm's fields become capstan's when capstan owns none yet": {
			entries: []metav1.ManagedFieldsEntry{helmApply}, managers: []string{"helm"},
			want: []owned{{"capstan", "Apply", "", `{"f:data":{"f:a":{},"f:b":{}}}`}},
		},
		"several managers, leaving other managers and subresources alone": {
			entries:  []metav1.ManagedFieldsEntry{other, helmUpdate, kubectl, capstan, scaler},
			managers: []string{"helm", "kubectl-client-side-apply"},
			want: []owned{
				{"someone", "Update", "", `{"f:data":{"f:c":{}}}`},
				{"capstan", "Apply", "", `{"f:data":{"f:a":{},"f:b":{}},"f:metadata":{"f:labels":{"f:x":{}}}}`},
				{"helm", "Update", "status", `{"f:status":{}}`},
			},
		},
		"nothing to do without the managers": {
			entries: []metav1.ManagedFieldsEntry{capstan, other, scaler}, managers: []string{"helm"},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			obj := &unstructured.Unstructured{}
			obj.SetAPIVersion("v1")
			obj.SetKind("ConfigMap")
			obj.SetResourceVersion("42")
			obj.SetManagedFields(tc.entries)
			patch, err := apply.MigrationPatch(obj, tc.managers)
			g.Expect(err).NotTo(HaveOccurred())
			if tc.want == nil {
				g.Expect(patch).To(BeNil())
				return
			}
			var ops []struct {
				Op, Path string
				Value    json.RawMessage
			}
			g.Expect(json.Unmarshal(patch, &ops)).To(Succeed())
			g.Expect(ops).To(HaveLen(2))
			g.Expect(ops[1].Path).To(Equal("/metadata/resourceVersion"), "the patch is guarded by the resourceVersion read")
			g.Expect(string(ops[1].Value)).To(Equal(`"42"`))
			var entries []metav1.ManagedFieldsEntry
			g.Expect(json.Unmarshal(ops[0].Value, &entries)).To(Succeed())
			var got []owned
			for _, e := range entries {
				got = append(got, owned{e.Manager, string(e.Operation), e.Subresource, e.FieldsV1.GetRawString()})
			}
			g.Expect(got).To(Equal(tc.want))
		})
	}
}

// managers lists an object's field managers as "manager/operation[/subresource]: fields".
func managers(obj client.Object) []string {
	var out []string
	for _, e := range obj.GetManagedFields() {
		s := e.Manager + "/" + string(e.Operation)
		if e.Subresource != "" {
			s += "/" + e.Subresource
		}
		out = append(out, s+": "+e.FieldsV1.GetRawString())
	}
	sort.Strings(out)
	return out
}

func TestApplier_Apply_takesOverHelmFields(t *testing.T) {
	cases := map[string]func(ctx context.Context, cm *corev1.ConfigMap) error{
		"helm 3 (client-side create)": func(ctx context.Context, cm *corev1.ConfigMap) error {
			return k8s.Create(ctx, cm, client.FieldOwner("helm"))
		},
		"helm 4 (server-side apply)": func(ctx context.Context, cm *corev1.ConfigMap) error {
			u, err := toUnstructured(cm)
			if err != nil {
				return err
			}
			return k8s.Apply(ctx, client.ApplyConfigurationFromUnstructured(u), client.FieldOwner("helm"), client.ForceOwnership)
		},
	}
	for name, write := range cases {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			ctx := context.Background()
			ns := newNamespace(t)
			cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "settings"},
				Data: map[string]string{"color": "blue", "retired": "yes"}}
			g.Expect(write(ctx, cm)).To(Succeed())

			a := applierFor(ns, apply.Options{TakeOver: []string{"helm"}, ForceConflicts: true})
			set := objs(t, configMap) // color: blue, no retired
			g.Expect(a.Prepare(set)).To(Succeed())
			_, err := a.Apply(ctx, set)
			g.Expect(err).NotTo(HaveOccurred())

			live := &corev1.ConfigMap{}
			g.Expect(k8s.Get(ctx, client.ObjectKeyFromObject(cm), live)).To(Succeed())
			g.Expect(live.Data).To(Equal(map[string]string{"color": "blue"}), "the key the new revision drops is removed")
			for _, m := range managers(live) {
				g.Expect(m).NotTo(HavePrefix("helm/"), "helm owns nothing any more")
			}
		})
	}

	t.Run("without TakeOver, helm keeps the dropped key", func(t *testing.T) {
		g := NewWithT(t)
		ctx := context.Background()
		ns := newNamespace(t)
		cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "settings"},
			Data: map[string]string{"color": "blue", "retired": "yes"}}
		g.Expect(k8s.Create(ctx, cm, client.FieldOwner("helm"))).To(Succeed())
		a := applierFor(ns, apply.Options{ForceConflicts: true})
		set := objs(t, configMap)
		g.Expect(a.Prepare(set)).To(Succeed())
		_, err := a.Apply(ctx, set)
		g.Expect(err).NotTo(HaveOccurred())
		live := &corev1.ConfigMap{}
		g.Expect(k8s.Get(ctx, client.ObjectKeyFromObject(cm), live)).To(Succeed())
		g.Expect(live.Data).To(HaveKey("retired"))
	})
}

func toUnstructured(obj client.Object) (*unstructured.Unstructured, error) {
	raw, err := json.Marshal(obj)
	if err != nil {
		return nil, err
	}
	u := &unstructured.Unstructured{}
	if err := json.Unmarshal(raw, &u.Object); err != nil {
		return nil, err
	}
	u.SetAPIVersion("v1")
	u.SetKind("ConfigMap")
	return u, nil
}

const scaledDeployment = `
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 1
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: web, image: nginx}]}
`

// scaleBy sets a Deployment's replicas through the scale subresource as another field manager,
// as the HorizontalPodAutoscaler does.
func scaleBy(t *testing.T, ns, manager string, replicas int32) {
	t.Helper()
	d := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "web"}}
	patch := client.RawPatch(types.MergePatchType, []byte(fmt.Sprintf(`{"spec":{"replicas":%d}}`, replicas)))
	err := k8s.SubResource("scale").Patch(context.Background(), d, patch,
		&client.SubResourcePatchOptions{SubResourceBody: &autoscalingv1.Scale{}, PatchOptions: client.PatchOptions{FieldManager: manager}})
	if err != nil {
		t.Fatal(err)
	}
}

func replicasOf(t *testing.T, ns string) int32 {
	t.Helper()
	d := &appsv1.Deployment{}
	if err := k8s.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: "web"}, d); err != nil {
		t.Fatal(err)
	}
	return ptr.Deref(d.Spec.Replicas, -1)
}

func TestApplier_conflictPolicies(t *testing.T) {
	yieldReplicas := func(apply.ObjectRef) []string { return []string{"/spec/replicas"} }
	cases := map[string]struct {
		opts         apply.Options
		wantConflict bool
		replicas     int32
	}{
		"by default a conflict fails the dry-run, naming field and manager": {wantConflict: true, replicas: 5},
		"ForceConflicts takes the field":                                    {opts: apply.Options{ForceConflicts: true}, replicas: 1},
		"Yield leaves the field to its other manager":                       {opts: apply.Options{Yield: yieldReplicas}, replicas: 5},
		"Yield wins over ForceConflicts for the fields it names":            {opts: apply.Options{Yield: yieldReplicas, ForceConflicts: true}, replicas: 5},
		"Yield of other fields still fails": {
			opts:         apply.Options{Yield: func(apply.ObjectRef) []string { return []string{"/spec/paused"} }},
			wantConflict: true, replicas: 5,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			ctx := context.Background()
			ns := newNamespace(t)
			first := applierFor(ns, tc.opts) // the same policy creates the object
			set := objs(t, scaledDeployment)
			g.Expect(first.Prepare(set)).To(Succeed())
			_, err := first.Apply(ctx, set)
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(replicasOf(t, ns)).To(Equal(int32(1)), "a new object gets the chart's replicas")
			scaleBy(t, ns, "autoscaler", 5)

			a := applierFor(ns, tc.opts)
			set = objs(t, scaledDeployment)
			g.Expect(a.Prepare(set)).To(Succeed())
			err = a.DryRun(ctx, set)
			if tc.wantConflict {
				var fc *apply.FieldConflictError
				g.Expect(errors.As(err, &fc)).To(BeTrue(), "got %v", err)
				g.Expect(fc.Conflicts).To(ConsistOf(apply.Conflict{Ref: apply.RefOf(set[0]), Field: ".spec.replicas", Manager: "autoscaler"}))
				g.Expect(replicasOf(t, ns)).To(Equal(int32(5)))
				return
			}
			g.Expect(err).NotTo(HaveOccurred())
			_, err = a.Apply(ctx, set)
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(replicasOf(t, ns)).To(Equal(tc.replicas))
		})
	}
}

package chaos

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	capstanv1 "github.com/capstan-dev/capstan/api/v1alpha1"
	"github.com/capstan-dev/capstan/internal/apply"
	"github.com/capstan-dev/capstan/internal/manifest"
	"github.com/capstan-dev/capstan/internal/reconcile"
	"github.com/capstan-dev/capstan/internal/storage"
)

// ownedKinds are the kinds the chaos chart renders.
var ownedKinds = []string{"ConfigMapList", "DeploymentList"}

func rawValues(v map[string]any) *runtime.RawExtension {
	raw, _ := json.Marshal(v)
	return &runtime.RawExtension{Raw: raw}
}

// settled reports whether the model's Release has settled: gone after an uninstall; otherwise
// Ready for its generation, the rollback asked for handled, one revision deployed and none pending.
func (h *harness) settled(ctx context.Context, m *model) bool {
	rel, err := h.release(ctx, m.name)
	if err != nil {
		return false
	}
	if !m.exists {
		return rel == nil
	}
	if rel == nil || rel.Status.ObservedGeneration != rel.Generation || rel.Status.LastHandledRollbackTo != m.rollbackTo {
		return false
	}
	if c := findCondition(rel, capstanv1.ReadyCondition); c == nil || c.Status != metav1.ConditionTrue {
		return false
	}
	recs, err := storage.NewStore(h.c).List(ctx, namespace, m.name)
	if err != nil {
		return false
	}
	for _, r := range recs {
		if r.Info.Status.IsPending() {
			return false
		}
	}
	return len(recs) > 0 && recs[len(recs)-1].Info.Status == storage.StatusDeployed
}

// waitSettled polls until the Release settles or timeout passes.
func (h *harness) waitSettled(ctx context.Context, m *model, timeout time.Duration) bool {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if h.settled(ctx, m) {
			return true
		}
		time.Sleep(200 * time.Millisecond)
	}
	return false
}

func findCondition(rel *capstanv1.Release, typ string) *metav1.Condition {
	for i := range rel.Status.Conditions {
		if rel.Status.Conditions[i].Type == typ {
			return &rel.Status.Conditions[i]
		}
	}
	return nil
}

// violations checks the invariants on the model's Release and returns every one broken.
func (h *harness) violations(ctx context.Context, m *model) []string {
	recs, err := storage.NewStore(h.c).List(ctx, namespace, m.name)
	if err != nil {
		return []string{"listing the records: " + err.Error()}
	}
	live, err := h.owned(ctx, m.name)
	if err != nil {
		return []string{"listing the live objects: " + err.Error()}
	}
	if !m.exists {
		var out []string
		if len(recs) > 0 {
			out = append(out, fmt.Sprintf("after uninstall %d record(s) remain", len(recs)))
		}
		if len(live) > 0 {
			out = append(out, fmt.Sprintf("after uninstall objects remain: %v", keys(live)))
		}
		return out
	}
	out, deployed := recordViolations(recs)
	rel, err := h.release(ctx, m.name)
	if err != nil || rel == nil {
		return append(out, fmt.Sprintf("reading the Release: %v", err))
	}
	if deployed == nil {
		return out
	}
	if rel.Status.CurrentRevision != deployed.Version {
		out = append(out, fmt.Sprintf("status.currentRevision is %d, the deployed record is %d", rel.Status.CurrentRevision, deployed.Version))
	}
	if got := expectedOf(deployed); got.String() != m.want.String() {
		out = append(out, fmt.Sprintf("revision %d holds %s, the spec asks %s", deployed.Version, got, m.want))
	}
	out = append(out, liveViolations(deployed, live)...)
	return append(out, h.helmHistoryViolations(ctx, m)...)
}

// recordViolations checks the records: contiguous numbers (but for the gap history pruning leaves
// after a kept last-deployed revision), exactly one deployed, none pending,
// history bounded. It returns the deployed record.
func recordViolations(recs []*storage.Release) ([]string, *storage.Release) {
	var out []string
	var deployed []*storage.Release
	for i, r := range recs {
		if i > 0 && r.Version != recs[i-1].Version+1 && !prunedPast(recs, i-1) {
			out = append(out, fmt.Sprintf("revision %d follows %d", r.Version, recs[i-1].Version))
		}
		if r.Info.Status.IsPending() {
			out = append(out, fmt.Sprintf("revision %d is %s", r.Version, r.Info.Status))
		}
		if r.Info.Status == storage.StatusDeployed {
			deployed = append(deployed, r)
		}
	}
	if len(deployed) != 1 {
		out = append(out, fmt.Sprintf("%d deployed revisions; the records: %s", len(deployed), describeRecords(recs)))
	}
	if len(recs) > maxHistory+1 {
		out = append(out, fmt.Sprintf("%d records with maxHistory %d", len(recs), maxHistory))
	}
	if len(deployed) == 0 {
		return out, nil
	}
	return out, deployed[len(deployed)-1]
}

// describeRecords names each record's version, status, description and the label that tells its
// writer (Capstan's records name their own revision in it; helm's copy names an older one), for
// a violation.
func describeRecords(recs []*storage.Release) string {
	parts := make([]string, 0, len(recs))
	for _, r := range recs {
		parts = append(parts, fmt.Sprintf("v%d=%s (%q, %s=%q)", r.Version, r.Info.Status, r.Info.Description,
			reconcile.RevisionLabel, r.Labels[reconcile.RevisionLabel]))
	}
	return strings.Join(parts, ", ")
}

// prunedPast reports whether a gap after recs[i] is history pruning that kept recs[i] as the last
// deployed revision (Store.Prune never deletes it) while deleting newer, failed ones: the history
// is full, and recs[i] is deployed or was superseded since.
func prunedPast(recs []*storage.Release, i int) bool {
	st := recs[i].Info.Status
	return len(recs) >= maxHistory && (st == storage.StatusDeployed || st == storage.StatusSuperseded)
}

// liveViolations compares the deployed manifest with the live objects carrying the release's
// ownership metadata: none more (orphans), none less (missing), and equal content.
func liveViolations(deployed *storage.Release, live map[string]*unstructured.Unstructured) []string {
	var out []string
	want := map[string]*unstructured.Unstructured{}
	for _, doc := range manifest.Split(deployed.Manifest) {
		obj := &unstructured.Unstructured{}
		if err := yaml.Unmarshal([]byte(doc), &obj.Object); err != nil || obj.GetKind() == "" {
			continue
		}
		want[obj.GetKind()+"/"+obj.GetName()] = obj
	}
	for k := range live {
		if want[k] == nil {
			out = append(out, "orphan "+k)
		}
	}
	for k, w := range want {
		l := live[k]
		if l == nil {
			out = append(out, "missing "+k)
			continue
		}
		if d := contentDiff(w, l); d != "" {
			out = append(out, k+" differs from revision "+fmt.Sprint(deployed.Version)+": "+d)
		}
	}
	sort.Strings(out)
	return out
}

// contentDiff compares what the chart sets: a ConfigMap's data, a Deployment's pod annotations.
func contentDiff(want, live *unstructured.Unstructured) string {
	paths := [][]string{{"data"}, {"spec", "template", "metadata", "annotations", "color"}}
	for _, p := range paths {
		w, _, _ := unstructured.NestedFieldNoCopy(want.Object, p...)
		l, _, _ := unstructured.NestedFieldNoCopy(live.Object, p...)
		if w != nil && !reflect.DeepEqual(w, l) {
			return fmt.Sprintf("%v is %v, want %v", p, l, w)
		}
	}
	return ""
}

// owned lists the live objects of the chart's kinds that carry the release's ownership metadata.
func (h *harness) owned(ctx context.Context, release string) (map[string]*unstructured.Unstructured, error) {
	out := map[string]*unstructured.Unstructured{}
	for _, kind := range ownedKinds {
		list := &unstructured.UnstructuredList{}
		group := ""
		if kind == "DeploymentList" {
			group = "apps"
		}
		list.SetGroupVersionKind(schemaGVK(group, kind))
		if err := h.c.List(ctx, list, client.InNamespace(namespace), client.MatchingLabels{apply.ManagedByLabel: apply.ManagedByHelm}); err != nil {
			return nil, err
		}
		for i := range list.Items {
			o := &list.Items[i]
			if o.GetAnnotations()[apply.ReleaseNameAnnotation] == release && o.GetDeletionTimestamp() == nil {
				out[o.GetKind()+"/"+o.GetName()] = o
			}
		}
	}
	return out, nil
}

func keys(m map[string]*unstructured.Unstructured) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

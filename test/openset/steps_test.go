package openset

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/metrics"

	capstanv1 "github.com/capstan-dev/capstan/api/v1alpha1"
	"github.com/capstan-dev/capstan/internal/storage"
	"github.com/capstan-dev/capstan/internal/testsupport"
)

// repoName is the ChartRepository of every namespace.
const repoName = "charts"

// readyBound is how long an install or upgrade may take here before the test fails: generous,
// as the machine is shared; the measured times are in docs/openset.md.
const readyBound = 3 * time.Minute

// prepareNamespace creates a chart's namespace and a ChartRepository in it, and waits until
// the repository is Ready, so that the Release's timing starts with a usable repository.
func (s *suite) prepareNamespace(ctx context.Context, t *testing.T, ns string) {
	g := NewWithT(t)
	g.Expect(s.client.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}})).To(Succeed())
	cr := testsupport.MakeChartRepository(repoName, ns, s.repoURL).Obj()
	g.Expect(s.client.Create(ctx, cr)).To(Succeed())
	g.Eventually(func(g Gomega) {
		g.Expect(s.client.Get(ctx, client.ObjectKeyFromObject(cr), cr)).To(Succeed())
		g.Expect(apimeta.IsStatusConditionTrue(cr.Status.Conditions, capstanv1.ReadyCondition)).To(BeTrue(),
			"ChartRepository conditions: %v", cr.Status.Conditions)
	}).WithTimeout(time.Minute).WithPolling(100 * time.Millisecond).Should(Succeed())
}

// newRelease is a Release of an open-set chart. envtest runs no controllers and has no nodes, so
// Deployments never become Available and hook Jobs never complete: the Release neither waits
// for health nor runs hooks (docs/openset.md).
func newRelease(c openChart) *capstanv1.Release {
	return testsupport.MakeRelease(c.name, c.name).Chart(repoName, c.name, "").Values(c.values).
		Install(capstanv1.Install{DisableWait: true, DisableHooks: true}).
		Upgrade(capstanv1.Upgrade{DisableWait: true, DisableHooks: true}).Obj()
}

// waitReady polls the Release every 100 ms until it is Ready for its generation at a
// revision, and returns it with the time that took from start.
func (s *suite) waitReady(ctx context.Context, t *testing.T, ns, name string, revision int, start time.Time) (*capstanv1.Release, time.Duration) {
	g := NewWithT(t)
	rel := &capstanv1.Release{}
	g.Eventually(func(g Gomega) {
		g.Expect(s.client.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, rel)).To(Succeed())
		ready := apimeta.FindStatusCondition(rel.Status.Conditions, capstanv1.ReadyCondition)
		g.Expect(ready).NotTo(BeNil())
		g.Expect(ready.Status).To(Equal(metav1.ConditionTrue), "Ready: %s: %s", ready.Reason, ready.Message)
		g.Expect(rel.Status.ObservedGeneration).To(Equal(rel.Generation))
		g.Expect(rel.Status.CurrentRevision).To(Equal(revision))
	}).WithTimeout(readyBound).WithPolling(100 * time.Millisecond).Should(Succeed())
	return rel, time.Since(start)
}

// reconcileTotal sums controller-runtime's reconcile counter of the Release controller.
func reconcileTotal(t *testing.T) float64 {
	families, err := metrics.Registry.Gather()
	NewWithT(t).Expect(err).NotTo(HaveOccurred())
	total := 0.0
	for _, f := range families {
		if f.GetName() != "controller_runtime_reconcile_total" {
			continue
		}
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "controller" && l.GetValue() == "release" {
					total += m.GetCounter().GetValue()
				}
			}
		}
	}
	return total
}

// touch sets an annotation no part of Capstan reads; the Release controller's predicate lets
// every annotation change through, so each touch is one reconcile of an unchanged Release.
func (s *suite) touch(ctx context.Context, t *testing.T, ns, name, value string) {
	rel := &capstanv1.Release{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}}
	patch := fmt.Appendf(nil, `{"metadata":{"annotations":{"openset.test/touched":%q}}}`, value)
	NewWithT(t).Expect(s.client.Patch(ctx, rel, client.RawPatch("application/merge-patch+json", patch))).To(Succeed())
}

// eventsAbout counts the events about a Release.
func (s *suite) eventsAbout(ctx context.Context, t *testing.T, ns, name string) int {
	var list eventsv1.EventList
	NewWithT(t).Expect(s.client.List(ctx, &list, client.InNamespace(ns))).To(Succeed())
	n := 0
	for _, e := range list.Items {
		if e.Regarding.Kind == capstanv1.ReleaseKind && e.Regarding.Name == name {
			n++
		}
	}
	return n
}

// recordWeight is what a revision record weighs: data.release as stored (base64 of the gzipped
// JSON) and the JSON it decodes to, with the JSON sizes of the record's main parts.
type recordWeight struct {
	stored, decoded                         int
	manifest, hooks, chartValues, templates int
}

// String prints the weight for the test log.
func (w recordWeight) String() string {
	return fmt.Sprintf("data.release %d bytes (%.1f KiB); decoded JSON %d bytes (%.1f KiB), of which manifest %d, hooks %d, chart default values %d, templates+files %d",
		w.stored, float64(w.stored)/1024, w.decoded, float64(w.decoded)/1024, w.manifest, w.hooks, w.chartValues, w.templates)
}

// weigh reads a revision Secret and weighs its record.
func (s *suite) weigh(ctx context.Context, t *testing.T, ns, name string, revision int) recordWeight {
	g := NewWithT(t)
	secret := &corev1.Secret{}
	g.Expect(s.client.Get(ctx, client.ObjectKey{Namespace: ns, Name: storage.SecretName(name, revision)}, secret)).To(Succeed())
	g.Expect(secret.Type).To(Equal(storage.SecretType))
	data := secret.Data[storage.DataKey]
	raw, err := base64.StdEncoding.DecodeString(string(data))
	g.Expect(err).NotTo(HaveOccurred())
	zr, err := gzip.NewReader(bytes.NewReader(raw))
	g.Expect(err).NotTo(HaveOccurred())
	jsonData, err := io.ReadAll(io.LimitReader(zr, storage.DefaultMaxDecodedSize+1))
	g.Expect(err).NotTo(HaveOccurred())
	var rec storage.Release
	g.Expect(json.Unmarshal(jsonData, &rec)).To(Succeed())
	g.Expect(rec.Version).To(Equal(revision))
	g.Expect(rec.Manifest).NotTo(BeEmpty())
	return recordWeight{stored: len(data), decoded: len(jsonData), manifest: jsonSize(t, rec.Manifest),
		hooks: jsonSize(t, rec.Hooks), chartValues: jsonSize(t, rec.Chart.Values),
		templates: jsonSize(t, rec.Chart.Templates) + jsonSize(t, rec.Chart.Files)}
}

// jsonSize is the size of a value's JSON encoding.
func jsonSize(t *testing.T, v any) int {
	data, err := json.Marshal(v)
	NewWithT(t).Expect(err).NotTo(HaveOccurred())
	return len(data)
}

// records lists a release's revisions as "v<N>=<status>", oldest first.
func (s *suite) records(ctx context.Context, t *testing.T, ns, name string) []string {
	rels, err := storage.NewStore(s.client).List(ctx, ns, name)
	NewWithT(t).Expect(err).NotTo(HaveOccurred())
	out := make([]string, 0, len(rels))
	for _, r := range rels {
		out = append(out, fmt.Sprintf("v%d=%s", r.Version, r.Info.Status))
	}
	return out
}

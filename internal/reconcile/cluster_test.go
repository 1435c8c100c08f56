package reconcile

import (
	"context"
	"errors"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/version"
	fakediscovery "k8s.io/client-go/discovery/fake"
	clienttesting "k8s.io/client-go/testing"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	capstanv1 "github.com/capstan-dev/capstan/api/v1alpha1"
)

func TestNamespacedLookup(t *testing.T) {
	mapper := meta.NewDefaultRESTMapper(nil)
	mapper.Add(schema.GroupVersionKind{Version: "v1", Kind: "ConfigMap"}, meta.RESTScopeNamespace)
	mapper.Add(schema.GroupVersionKind{Version: "v1", Kind: "Namespace"}, meta.RESTScopeRoot)
	c := fake.NewClientBuilder().WithRESTMapper(mapper).WithObjects(
		&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "a", Namespace: "apps"}, Data: map[string]string{"k": "v"}},
		&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "b", Namespace: "apps"}},
		&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "secret-ish", Namespace: "kube-system"}},
	).Build()
	l := &NamespacedLookup{Reader: c, Mapper: mapper, Namespaces: []string{"apps", "target"}}
	ctx := context.Background()
	g := NewWithT(t)

	got, err := l.Lookup(ctx, "v1", "ConfigMap", "apps", "a")
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(got).To(HaveKeyWithValue("data", map[string]any{"k": "v"}))

	got, err = l.Lookup(ctx, "v1", "ConfigMap", "target", "missing")
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(got).To(BeEmpty(), "a missing object is an empty map, as in Helm")

	got, err = l.Lookup(ctx, "v1", "ConfigMap", "apps", "")
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(got["items"]).To(HaveLen(2))

	for name, args := range map[string][3]string{
		"another namespace":     {"ConfigMap", "kube-system", "secret-ish"},
		"all namespaces":        {"ConfigMap", "", ""},
		"a cluster-scoped kind": {"Namespace", "", "apps"},
	} {
		_, err := l.Lookup(ctx, "v1", args[0], args[1], args[2])
		g.Expect(errors.Is(err, ErrLookupNotPermitted)).To(BeTrue(), "%s: %v", name, err)
	}
	_, err = l.Lookup(ctx, "v1", "Widget", "apps", "x")
	g.Expect(err).To(HaveOccurred(), "an unknown kind is an error")
}

func TestDiscoveryCapabilities(t *testing.T) {
	g := NewWithT(t)
	fd := &fakediscovery.FakeDiscovery{Fake: &clienttesting.Fake{}, FakedServerVersion: &version.Info{GitVersion: "v1.36.3", Major: "1", Minor: "36"}}
	fd.Resources = []*metav1.APIResourceList{
		{GroupVersion: "v1", APIResources: []metav1.APIResource{{Name: "configmaps", Kind: "ConfigMap"}}},
		{GroupVersion: "example.com/v1", APIResources: []metav1.APIResource{{Name: "widgets", Kind: "Widget"}}},
	}
	now := time.Unix(1000, 0)
	d := &DiscoveryCapabilities{Discovery: fd, TTL: time.Minute, Now: func() time.Time { return now }}

	caps, err := d.Capabilities(context.Background())
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(caps.KubeVersion.Version).To(Equal("v1.36.3"))
	g.Expect(caps.KubeVersion.Minor).To(Equal("36"))
	g.Expect(caps.APIVersions.Has("example.com/v1")).To(BeTrue())
	g.Expect(caps.APIVersions.Has("example.com/v1/Widget")).To(BeTrue())
	g.Expect(caps.APIVersions.Has("apps/v1")).To(BeFalse(), "only what the server serves")
	calls := len(fd.Actions())

	caps.APIVersions[0] = "tampered"
	again, err := d.Capabilities(context.Background())
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(again.APIVersions).NotTo(ContainElement("tampered"), "callers get copies")
	g.Expect(fd.Actions()).To(HaveLen(calls), "served from the cache")

	fd.Resources = append(fd.Resources, &metav1.APIResourceList{GroupVersion: "new.io/v1", APIResources: []metav1.APIResource{{Name: "gadgets", Kind: "Gadget"}}})
	d.Invalidate()
	caps, err = d.Capabilities(context.Background())
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(caps.APIVersions.Has("new.io/v1/Gadget")).To(BeTrue(), "rediscovered after a CRD change")

	fd.Resources = fd.Resources[:1]
	now = now.Add(2 * time.Minute)
	caps, err = d.Capabilities(context.Background())
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(caps.APIVersions.Has("new.io/v1")).To(BeFalse(), "rediscovered after the TTL")
}

func TestMetrics(t *testing.T) {
	g := NewWithT(t)
	reg := prometheus.NewRegistry()
	m, err := NewMetrics(reg)
	g.Expect(err).NotTo(HaveOccurred())
	_, err = NewMetrics(reg)
	g.Expect(err).NotTo(HaveOccurred(), "registering twice reuses the collectors")

	ready, stalled := releaseAt(1), releaseAt(1)
	ready.Name, stalled.Name = "ok", "bad"
	summarize(ready, Outcome{})
	summarize(stalled, Outcome{Err: stallErr("RenderFailed", errors.New("x"))})
	m.observe(ready, Action{Kind: ActionInstall}, nil, time.Second)
	m.observe(stalled, Action{Kind: ActionNothing}, stallErr("RenderFailed", errors.New("x")), time.Millisecond)
	g.Expect(gauge(m.releases.WithLabelValues(StateReady))).To(Equal(1.0))
	g.Expect(gauge(m.releases.WithLabelValues(StateStalled))).To(Equal(1.0))

	m.observe(ready, Action{Kind: ActionNothing}, nil, time.Millisecond)
	g.Expect(gauge(m.releases.WithLabelValues(StateReady))).To(Equal(1.0), "a Release counts once")
	m.forget(client.ObjectKeyFromObject(stalled))
	g.Expect(gauge(m.releases.WithLabelValues(StateStalled))).To(Equal(0.0))
	g.Expect(collected(m.actions)).To(Equal(3), "one series per action and result")

	var none *Metrics
	none.observe(ready, Action{Kind: "x"}, nil, time.Second)
	none.observeRender(time.Second, nil)
	none.forget(client.ObjectKey{})
	markSuspended(ready)
	g.Expect(stateOf(ready)).To(Equal(StateSuspended))
}

// gauge reads one gauge.
func gauge(c prometheus.Gauge) float64 {
	var out dto.Metric
	if err := c.Write(&out); err != nil {
		return -1
	}
	return out.GetGauge().GetValue()
}

// collected counts the series a collector exports.
func collected(c prometheus.Collector) int {
	ch := make(chan prometheus.Metric, 64)
	c.Collect(ch)
	close(ch)
	return len(ch)
}

// TestMetrics_perRelease follows one Release's series through state changes, drift, a
// remediation and its deletion, and a render's duration.
func TestMetrics_perRelease(t *testing.T) {
	g := NewWithT(t)
	reg := prometheus.NewRegistry()
	m, err := NewMetrics(reg)
	g.Expect(err).NotTo(HaveOccurred())
	rel := releaseAt(1)
	rel.Namespace, rel.Name = "apps", "web"
	key := client.ObjectKeyFromObject(rel)

	summarize(rel, Outcome{})
	m.observe(rel, Action{Kind: ActionInstall}, nil, time.Second)
	reason := findCondition(rel, capstanv1.ReadyCondition).Reason
	g.Expect(reason).NotTo(BeEmpty())
	g.Expect(gauge(m.status.WithLabelValues("apps", "web", StateReady, reason))).To(Equal(1.0))
	g.Expect(gauge(m.drifted.WithLabelValues("apps", "web"))).To(Equal(0.0))

	setCondition(rel, capstanv1.DriftedCondition, metav1.ConditionTrue, capstanv1.DriftDetectedReason, "1 object(s) drifted")
	setCondition(rel, capstanv1.RemediatedCondition, metav1.ConditionTrue, capstanv1.RollbackSucceededReason, "rolled back")
	exhausted := stallErr(capstanv1.RetriesExhaustedReason, errors.New("retries exhausted"))
	summarize(rel, Outcome{Err: exhausted})
	m.observe(rel, Action{Kind: ActionRemediate, Strategy: capstanv1.RemediationRollback}, exhausted, time.Second)
	g.Expect(collected(m.status)).To(Equal(1), "the series of the old state is gone")
	g.Expect(gauge(m.status.WithLabelValues("apps", "web", StateStalled, capstanv1.RetriesExhaustedReason))).To(Equal(1.0))
	g.Expect(gauge(m.drifted.WithLabelValues("apps", "web"))).To(Equal(1.0))
	g.Expect(counter(m.remediations.WithLabelValues("rollback", "success"))).To(Equal(1.0))
	g.Expect(counter(m.remediations.WithLabelValues("rollback", "failure"))).To(Equal(0.0))
	g.Expect(collected(m.remediations)).To(Equal(4), "every strategy and result is exported from the start")

	waiting := progressing(time.Second, errors.New("revision 5 waits for health"))
	m.observe(rel, Action{Kind: ActionRemediate, Strategy: capstanv1.RemediationRollback}, waiting, time.Second)
	g.Expect(counter(m.remediations.WithLabelValues("rollback", "success"))).To(Equal(1.0), "a rollback still waiting is not counted yet")
	g.Expect(histogramCount(m.actions, "Remediate", "progressing")).To(Equal(uint64(1)))

	m.observeRender(20*time.Millisecond, nil)
	m.observeRender(time.Millisecond, errors.New("render failed"))
	g.Expect(histogramCount(m.renders, "success")).To(Equal(uint64(1)))
	g.Expect(histogramCount(m.renders, "error")).To(Equal(uint64(1)))

	m.forget(key)
	g.Expect(collected(m.status)).To(Equal(0))
	g.Expect(collected(m.drifted)).To(Equal(0))
}

func counter(c prometheus.Counter) float64 {
	var out dto.Metric
	if err := c.Write(&out); err != nil {
		return -1
	}
	return out.GetCounter().GetValue()
}

func histogramCount(h *prometheus.HistogramVec, labels ...string) uint64 {
	var out dto.Metric
	if err := h.WithLabelValues(labels...).(prometheus.Histogram).Write(&out); err != nil {
		return 0
	}
	return out.GetHistogram().GetSampleCount()
}

// TestRepositoryMetrics follows one ChartRepository's series from ready to failing to deleted.
func TestRepositoryMetrics(t *testing.T) {
	g := NewWithT(t)
	reg := prometheus.NewRegistry()
	m, err := NewRepositoryMetrics(reg)
	g.Expect(err).NotTo(HaveOccurred())
	_, err = NewRepositoryMetrics(reg)
	g.Expect(err).NotTo(HaveOccurred(), "registering twice reuses the collector")
	cr := &capstanv1.ChartRepository{ObjectMeta: metav1.ObjectMeta{Name: "charts", Namespace: "apps"}}

	repoSetCondition(cr, capstanv1.ReadyCondition, metav1.ConditionTrue, capstanv1.SucceededReason, "fetched")
	m.observe(cr)
	g.Expect(gauge(m.status.WithLabelValues("apps", "charts", StateReady, capstanv1.SucceededReason))).To(Equal(1.0))

	repoSetCondition(cr, capstanv1.ReadyCondition, metav1.ConditionFalse, capstanv1.IndexFetchFailedReason, "503")
	m.observe(cr)
	g.Expect(collected(m.status)).To(Equal(1), "the series of the old state is gone")
	g.Expect(gauge(m.status.WithLabelValues("apps", "charts", StateNotReady, capstanv1.IndexFetchFailedReason))).To(Equal(1.0))

	m.forget(client.ObjectKeyFromObject(cr))
	g.Expect(collected(m.status)).To(Equal(0))
	var none *RepositoryMetrics
	none.observe(cr)
	none.forget(client.ObjectKey{})
}

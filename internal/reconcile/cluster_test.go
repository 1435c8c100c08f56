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
	m.observe(ready, string(ActionInstall), nil, time.Second)
	m.observe(stalled, string(ActionNothing), stallErr("RenderFailed", errors.New("x")), time.Millisecond)
	g.Expect(gauge(m.releases.WithLabelValues(StateReady))).To(Equal(1.0))
	g.Expect(gauge(m.releases.WithLabelValues(StateStalled))).To(Equal(1.0))

	m.observe(ready, string(ActionNothing), nil, time.Millisecond)
	g.Expect(gauge(m.releases.WithLabelValues(StateReady))).To(Equal(1.0), "a Release counts once")
	m.forget(client.ObjectKeyFromObject(stalled))
	g.Expect(gauge(m.releases.WithLabelValues(StateStalled))).To(Equal(0.0))
	g.Expect(collected(m.actions)).To(Equal(3), "one series per action and result")

	var none *Metrics
	none.observe(ready, "x", nil, time.Second)
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

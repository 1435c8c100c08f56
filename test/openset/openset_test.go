package openset

import (
	"context"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"sigs.k8s.io/controller-runtime/pkg/client"

	capstanv1 "github.com/capstan-dev/capstan/api/v1alpha1"
	"github.com/capstan-dev/capstan/internal/storage"
)

// recordLimit is the most a stored revision record (data.release) may weigh: the issue's
// bound, and the API server's limit on a Secret's data.
const recordLimit = 1 << 20

// TestOpenSet installs the three open-set charts one after the other (cert-manager alone first,
// so its timings are taken on an otherwise idle manager) and checks each against helm template.
func TestOpenSet(t *testing.T) {
	s := startSuite(t, certManager, metalLB, gatekeeper)
	t.Run("cert-manager installs, idles without writing, upgrades, and matches helm template", s.testCertManager)
	t.Run("metallb with its frr-k8s and crds subcharts matches helm template", func(t *testing.T) { s.testInstall(t, metalLB) })
	// gatekeeper goes last: its namespace webhook fails closed, and nothing serves it on envtest.
	t.Run("gatekeeper with its crds/ CRDs and hooks matches helm template", func(t *testing.T) { s.testInstall(t, gatekeeper) })
}

// testInstall installs a chart at revision 1 and compares it with helm template.
func (s *suite) testInstall(t *testing.T, c openChart) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*readyBound)
	defer cancel()
	rel, took, caps := s.install(ctx, t, c)
	t.Logf("%s: install Ready at revision 1 after %s", c.name, took.Round(time.Millisecond))
	s.compare(ctx, t, c, rel, s.expect(ctx, t, c, c.values, caps))
	NewWithT(t).Expect(s.records(ctx, t, c.name, c.name)).To(Equal([]string{"v1=deployed"}))
}

// install creates the namespace, repository and Release of a chart and waits for Ready; it
// returns the Release, the time from creating it to Ready, and the capabilities it was
// rendered with.
func (s *suite) install(ctx context.Context, t *testing.T, c openChart) (*capstanv1.Release, time.Duration, capabilities) {
	g := NewWithT(t)
	s.prepareNamespace(ctx, t, c.name)
	caps, err := discoverCapabilities(s.cfg)
	g.Expect(err).NotTo(HaveOccurred())
	start := time.Now()
	g.Expect(s.client.Create(ctx, newRelease(c))).To(Succeed())
	rel, took := s.waitReady(ctx, t, c.name, c.name, 1, start)
	return rel, took, caps
}

// testCertManager installs cert-manager with its CRDs, compares it with helm template, counts
// the writes of three no-op reconciles, weighs the record, upgrades to two replicas and compares
// again.
func (s *suite) testCertManager(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*readyBound)
	defer cancel()
	g := NewWithT(t)
	c := certManager
	rel, took, caps := s.install(ctx, t, c)
	t.Logf("cert-manager: install (create → Ready at revision 1) took %s", took.Round(time.Millisecond))
	g.Expect(took).To(BeNumerically("<", readyBound))
	s.compare(ctx, t, c, rel, s.expect(ctx, t, c, c.values, caps))

	s.expectNoWrites(ctx, t, c.name, c.name, 3)

	s.expectRecordWeight(ctx, t, c.name, 1)

	values := map[string]any{"crds": map[string]any{"enabled": true}, "replicaCount": 2}
	caps, err := discoverCapabilities(s.cfg)
	g.Expect(err).NotTo(HaveOccurred())
	start := time.Now()
	g.Expect(s.client.Patch(ctx, &capstanv1.Release{ObjectMeta: rel.ObjectMeta},
		client.RawPatch("application/merge-patch+json", []byte(`{"spec":{"values":{"replicaCount":2}}}`)))).To(Succeed())
	rel, took = s.waitReady(ctx, t, c.name, c.name, 2, start)
	t.Logf("cert-manager: upgrade (replicaCount: 2 → Ready at revision 2) took %s", took.Round(time.Millisecond))
	g.Expect(took).To(BeNumerically("<", readyBound))
	g.Expect(s.records(ctx, t, c.name, c.name)).To(Equal([]string{"v1=superseded", "v2=deployed"}))
	dep := &appsv1.Deployment{}
	g.Expect(s.client.Get(ctx, client.ObjectKey{Namespace: c.name, Name: "cert-manager"}, dep)).To(Succeed())
	g.Expect(dep.Spec.Replicas).To(HaveValue(BeEquivalentTo(2)))
	s.compare(ctx, t, c, rel, s.expect(ctx, t, c, values, caps))

	s.expectRecordWeight(ctx, t, c.name, 2)
}

// expectRecordWeight weighs a revision record, logs it and checks it: what is stored fits a
// Secret with room to spare, the JSON can be read back under storage's decoding limit, and
// it carries no templates or files (Capstan's records leave them out, unlike Helm's).
func (s *suite) expectRecordWeight(ctx context.Context, t *testing.T, name string, revision int) {
	g := NewWithT(t)
	w := s.weigh(ctx, t, name, name, revision)
	t.Logf("%s: revision %d record: %s", name, revision, w)
	g.Expect(w.stored).To(BeNumerically("<", recordLimit))
	g.Expect(w.decoded).To(BeNumerically("<", storage.DefaultMaxDecodedSize))
	g.Expect(w.templates).To(Equal(len(`null`)+len(`null`)), "no templates and no files")
}

// expectNoWrites reconciles an unchanged, Ready Release n times and expects no mutating call
// (dry-runs excluded) from the manager's client or the Release's client, no status change and
// no event.
func (s *suite) expectNoWrites(ctx context.Context, t *testing.T, ns, name string, n int) {
	g := NewWithT(t)
	before := &capstanv1.Release{}
	g.Expect(s.client.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, before)).To(Succeed())
	events := s.eventsAbout(ctx, t, ns, name)
	g.Expect(s.calls.written()).To(ContainElements(
		ContainSubstring("patch/status *v1alpha1.Release "+ns+"/"+name),
		ContainSubstring("create *v1.Secret "+ns+"/"+storage.SecretName(name, 1))),
		"the counters saw the install: the manager's status patches and the Release client's record")
	s.calls.reset()
	for i := range n {
		lists, reconciles := s.calls.listsIn(ns), reconcileTotal(t)
		s.touch(ctx, t, ns, name, time.Now().Format(time.RFC3339Nano))
		g.Eventually(func(g Gomega) {
			g.Expect(s.calls.listsIn(ns)).To(BeNumerically(">", lists), "reconcile %d read the records", i+1)
			g.Expect(reconcileTotal(t)).To(BeNumerically(">", reconciles), "reconcile %d finished", i+1)
		}).WithContext(ctx).WithTimeout(time.Minute).WithPolling(50 * time.Millisecond).Should(Succeed())
	}
	writes := s.calls.written()
	t.Logf("%s: %d no-op reconciles made %d mutating calls %v", name, n, len(writes), writes)
	g.Expect(writes).To(BeEmpty(), "no Create, Update, Patch, Apply or Delete by the manager's client or the Release's")
	after := &capstanv1.Release{}
	g.Expect(s.client.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, after)).To(Succeed())
	g.Expect(equality.Semantic.DeepEqual(after.Status, before.Status)).To(BeTrue(), "the status is unchanged")
	g.Expect(s.eventsAbout(ctx, t, ns, name)).To(Equal(events), "no event on a no-op reconcile")
}

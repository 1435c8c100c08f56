package controllers_test

import (
	"strconv"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	capstanv1 "github.com/capstan-dev/capstan/api/v1alpha1"
	"github.com/capstan-dev/capstan/internal/apply"
	"github.com/capstan-dev/capstan/internal/reconcile"
	"github.com/capstan-dev/capstan/internal/storage"
)

// extraConfigMap is a manifest document of one ConfigMap.
func extraConfigMap(name string) string {
	return "---\n# Source: demo/templates/extra-crash.yaml\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: " + name + "\ndata:\n  a: b\n"
}

// ownedConfigMap creates a ConfigMap carrying the release's ownership metadata, as an apply of an
// interrupted revision would have left it.
func ownedConfigMap(ctx SpecContext, ns, release, name string) {
	cm := &unstructured.Unstructured{}
	cm.SetAPIVersion("v1")
	cm.SetKind("ConfigMap")
	cm.SetNamespace(ns)
	cm.SetName(name)
	apply.SetOwnership(cm, apply.Owner{Name: release, Namespace: ns})
	Expect(k8sClient.Create(ctx, cm)).To(Succeed())
}

// interruptedRevision stores a pending copy of revision from as revision to, written by uid's
// Release in an attempt no process runs any more (by helm when uid is ""), with extra documents
// in its manifest.
func interruptedRevision(ctx SpecContext, ns, name string, from, to int, uid string, extra string) {
	labels := map[string]string{}
	if uid != "" {
		labels = map[string]string{reconcile.ReleaseUIDLabel: uid, reconcile.AttemptLabel: "gone",
			reconcile.RevisionLabel: strconv.Itoa(to)}
	}
	pendingRevision(ctx, ns, name, from, to, labels, extra)
}

// pendingRevision stores a pending copy of revision from as revision to, with labels.
func pendingRevision(ctx SpecContext, ns, name string, from, to int, labels map[string]string, extra string) {
	pending := record(ctx, ns, name, from)
	pending.Version = to
	pending.Info.Status = storage.StatusPendingUpgrade
	pending.Info.Description = "Preparing upgrade"
	pending.Info.LastDeployed = time.Now().UTC()
	pending.Manifest += extra
	pending.Labels = labels
	Expect(storage.NewStore(k8sClient).Create(ctx, pending)).To(Succeed())
}

var _ = Describe("A Release whose controller was killed", func() {
	It("uninstalls the objects of a revision interrupted before its status said anything, reading the records", func(ctx SpecContext) {
		ns := newNamespace(ctx)
		Expect(k8sClient.Create(ctx, demo("orphan", ns, "1.0.0").Obj())).To(Succeed())
		rel := expectReadyAt(ctx, ns, "orphan", 1)

		By("leaving revision 2 pending with an object applied, which status does not know of")
		interruptedRevision(ctx, ns, "orphan", 1, 2, string(rel.UID), extraConfigMap("orphan-extra"))
		ownedConfigMap(ctx, ns, "orphan", "orphan-extra")

		By("deleting the Release")
		Expect(k8sClient.Delete(ctx, rel)).To(Succeed())
		Eventually(func() bool {
			return exists(ctx, &capstanv1.Release{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "orphan"}})
		}).Should(BeFalse())
		Expect(exists(ctx, cmRef(ns, "orphan-extra"))).To(BeFalse(), "the interrupted revision's object is not orphaned")
		Expect(exists(ctx, cmRef(ns, "orphan-config"))).To(BeFalse())
		Expect(records(ctx, ns, "orphan")).To(BeEmpty(), "the interrupted record is not left behind")
	})

	It("prunes what an interrupted revision applied once the next revision succeeds", func(ctx SpecContext) {
		ns := newNamespace(ctx)
		Expect(k8sClient.Create(ctx, demo("leak", ns, "1.0.0").Obj())).To(Succeed())
		rel := expectReadyAt(ctx, ns, "leak", 1)
		interruptedRevision(ctx, ns, "leak", 1, 2, string(rel.UID), extraConfigMap("leak-extra"))
		ownedConfigMap(ctx, ns, "leak", "leak-extra")

		update(ctx, ns, "leak", func(r *capstanv1.Release) { r.Spec.Chart.Version = "1.1.0" })
		expectReadyAt(ctx, ns, "leak", 3)
		Expect(records(ctx, ns, "leak")).To(Equal([]string{"v1=superseded", "v2=failed", "v3=deployed"}))
		Eventually(func() bool { return exists(ctx, cmRef(ns, "leak-extra")) }).Should(BeFalse())
	})

	It("recovers its own pending record while suspended, and waits on helm's until it finishes", func(ctx SpecContext) {
		ns := newNamespace(ctx)
		Expect(k8sClient.Create(ctx, demo("held", ns, "1.0.0").Obj())).To(Succeed())
		rel := expectReadyAt(ctx, ns, "held", 1)
		update(ctx, ns, "held", func(r *capstanv1.Release) { r.Spec.Suspend = true })
		Eventually(func(g Gomega) {
			g.Expect(condition(getRelease(g, ctx, ns, "held"), capstanv1.ReadyCondition).Reason).To(Equal(capstanv1.SuspendedReason))
		}).Should(Succeed())

		By("recovering an own pending record of a suspended Release")
		interruptedRevision(ctx, ns, "held", 1, 2, string(rel.UID), "")
		update(ctx, ns, "held", func(r *capstanv1.Release) {
			r.Annotations = map[string]string{capstanv1.ReconcileRequestAnnotation: "1"}
		})
		Eventually(func() []string { return records(ctx, ns, "held") }).Should(Equal([]string{"v1=deployed", "v2=failed"}))

		By("waiting on a pending record helm wrote with the labels it copies from the newest record, once resumed")
		pendingRevision(ctx, ns, "held", 1, 3, record(ctx, ns, "held", 2).Labels, "")
		update(ctx, ns, "held", func(r *capstanv1.Release) { r.Spec.Suspend = false })
		Eventually(func(g Gomega) {
			g.Expect(condition(getRelease(g, ctx, ns, "held"), capstanv1.ReadyCondition).Reason).To(Equal(capstanv1.OperationInProgressReason))
		}).Should(Succeed())
		Consistently(func() []string { return records(ctx, ns, "held") }, 2*time.Second).
			Should(Equal([]string{"v1=deployed", "v2=failed", "v3=pending-upgrade"}))

		By("taking the release over once helm's upgrade finished")
		store := storage.NewStore(k8sClient)
		helm := record(ctx, ns, "held", 3)
		helm.Info.Status = storage.StatusDeployed
		Expect(store.UpdateStatus(ctx, helm)).To(Succeed())
		_, err := store.Supersede(ctx, ns, "held", 3)
		Expect(err).NotTo(HaveOccurred())
		update(ctx, ns, "held", func(r *capstanv1.Release) {
			r.Annotations = map[string]string{capstanv1.ReconcileRequestAnnotation: "2"}
		})
		expectReadyAt(ctx, ns, "held", 4)
		Expect(records(ctx, ns, "held")).To(Equal([]string{"v1=superseded", "v2=failed", "v3=superseded", "v4=deployed"}))
	})

	It("ends a crash loop: three interrupted upgrades of the same desired state count as a failed one, and remediation rolls back", func(ctx SpecContext) {
		ns := newNamespace(ctx)
		Expect(k8sClient.Create(ctx, demo("loop", ns, "1.0.0").Obj())).To(Succeed())
		expectReadyAt(ctx, ns, "loop", 1)
		update(ctx, ns, "loop", func(r *capstanv1.Release) { r.Spec.Suspend = true })
		Eventually(func(g Gomega) {
			g.Expect(condition(getRelease(g, ctx, ns, "loop"), capstanv1.ReadyCondition).Reason).To(Equal(capstanv1.SuspendedReason))
		}).Should(Succeed())
		update(ctx, ns, "loop", func(r *capstanv1.Release) { r.Spec.Chart.Version = "1.1.0" })
		rel := getRelease(Default, ctx, ns, "loop")

		By("leaving three upgrades to 1.1.0 interrupted, as a manager crashing on them would")
		store := storage.NewStore(k8sClient)
		for v := 2; v <= 4; v++ {
			crashed := record(ctx, ns, "loop", 1)
			crashed.Version = v
			crashed.Chart.Metadata.Version = "1.1.0"
			crashed.Info.Status = storage.StatusPendingUpgrade
			crashed.Labels = map[string]string{reconcile.ReleaseUIDLabel: string(rel.UID), reconcile.AttemptLabel: "gone",
				reconcile.RevisionLabel: strconv.Itoa(v), reconcile.GenerationLabel: strconv.FormatInt(rel.Generation+1, 10)} // the generation once resumed
			storage.MarkInterrupted(crashed)
			Expect(store.Create(ctx, crashed)).To(Succeed())
		}
		update(ctx, ns, "loop", func(r *capstanv1.Release) { r.Spec.Suspend = false })

		got := expectStalled(ctx, ns, "loop", capstanv1.RetriesExhaustedReason)
		Expect(got.Status.UpgradeFailures).To(Equal(int64(1)))
		Expect(records(ctx, ns, "loop")).To(Equal([]string{"v1=superseded", "v2=failed", "v3=failed", "v4=failed", "v5=deployed"}))
		Expect(record(ctx, ns, "loop", 5).Info.Description).To(Equal("Rollback to 1"))
		Expect(eventReasons(ctx, ns, "loop")).To(ContainElement(capstanv1.UpgradeFailedReason))
	})

	It("repairs two deployed revisions left by a kill between deployed and superseded", func(ctx SpecContext) {
		ns := newNamespace(ctx)
		Expect(k8sClient.Create(ctx, demo("twin", ns, "1.0.0").Obj())).To(Succeed())
		expectReadyAt(ctx, ns, "twin", 1)
		twin := record(ctx, ns, "twin", 1)
		twin.Version = 2
		twin.Labels[reconcile.RevisionLabel] = "2" // as Capstan labels the records it writes
		Expect(storage.NewStore(k8sClient).Create(ctx, twin)).To(Succeed())
		Expect(records(ctx, ns, "twin")).To(Equal([]string{"v1=deployed", "v2=deployed"}))
		update(ctx, ns, "twin", func(r *capstanv1.Release) {
			r.Annotations = map[string]string{capstanv1.ReconcileRequestAnnotation: "1"}
		})
		Eventually(func() []string { return records(ctx, ns, "twin") }).Should(Equal([]string{"v1=superseded", "v2=deployed"}))
		expectReadyAt(ctx, ns, "twin", 2)
	})
})

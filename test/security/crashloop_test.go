package security

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	coordinationv1 "k8s.io/api/coordination/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	capstanv1 "github.com/capstan-dev/capstan/api/v1alpha1"
	"github.com/capstan-dev/capstan/internal/failpoint"
	"github.com/capstan-dev/capstan/internal/testsupport"
)

// Row 21: a chart author's Release whose reconcile kills the manager, again and again.
var _ = Describe("A tenant's Release that crashes the manager", func() {
	var w *world
	BeforeEach(func(ctx SpecContext) { w = newWorld(ctx) })

	It("ends the crash loop: three killed upgrades of the same desired state count as a failed one, and remediation rolls back", func(ctx SpecContext) {
		By("building the manager with the failpoints tag while the Release installs")
		bin := filepath.Join(workDir, "manager-failpoints")
		built := make(chan error, 1)
		go func() { built <- goBuild(ctx, bin, ".", "failpoints") }()
		const name = "loop"
		w.create(ctx, w.probe(name, nil).Obj())
		kube := testsupport.Kube{Client: admin}
		kube.ExpectReadyAt(ctx, w.ns, name, 1)
		Eventually(built).WithContext(ctx).WithTimeout(5 * time.Minute).Should(Receive(BeNil()))

		By("stopping the manager, then asking for an upgrade")
		Expect(manager.Stop(40*time.Second)).To(Succeed(), manager.LogTail(50))
		testsupport.Kube{Client: w.editor}.Update(ctx, w.ns, name, func(r *capstanv1.Release) {
			r.Spec.Values = &runtime.RawExtension{Raw: []byte(`{"attempt":"upgrade"}`)}
		})

		point := failpoint.AfterPendingRecord
		for i := 1; i <= 3; i++ {
			By(fmt.Sprintf("run %d of the failpoints build, %s=kill armed, dies on the upgrade", i, point))
			p := launchManager(bin, []string{failpoint.EnvVar + "=" + point + "=kill"})
			Eventually(p.Running).WithContext(ctx).WithTimeout(60*time.Second).Should(BeFalse(), "run %d was not killed:\n%s", i, p.LogTail(30))
			log, err := os.ReadFile(p.LogPath)
			Expect(err).NotTo(HaveOccurred())
			Expect(string(log)).To(ContainSubstring("capstan failpoint "+point+": kill"), "run %d died of something else", i)
			Expect(kube.Records(ctx, w.ns, name)).To(HaveLen(1+i), "each run wrote one pending record before it died")
			expireLease(ctx)
		}
		Expect(kube.Records(ctx, w.ns, name)).To(Equal([]string{"v1=deployed", "v2=failed", "v3=failed", "v4=pending-upgrade"}),
			"each run recovered the previous interrupted record")

		By("restarting bin/manager, disarmed, as its service account with the same args")
		manager = launchManager(filepath.Join(workDir, "manager"), nil)
		expectReady(ctx, manager)
		var rel *capstanv1.Release
		Eventually(func(g Gomega) {
			rel = kube.Release(g, ctx, w.ns, name)
			stalled := meta(rel.Status.Conditions, capstanv1.StalledCondition)
			g.Expect(stalled.Status).To(Equal(metav1.ConditionTrue), "Ready: %+v", meta(rel.Status.Conditions, capstanv1.ReadyCondition))
			g.Expect(stalled.Reason).To(Equal(capstanv1.RetriesExhaustedReason), "Stalled: %s", stalled.Message)
			g.Expect(rel.Status.ObservedGeneration).To(Equal(rel.Generation))
		}).WithContext(ctx).Should(Succeed())
		AddReportEntry("crash loop of "+name, meta(rel.Status.Conditions, capstanv1.StalledCondition).Message)
		Expect(rel.Status.UpgradeFailures).To(Equal(int64(1)), "three interrupted attempts count as one failed upgrade")
		Expect(kube.Records(ctx, w.ns, name)).To(Equal([]string{"v1=superseded", "v2=failed", "v3=failed", "v4=failed", "v5=deployed"}))
		Expect(kube.Record(ctx, w.ns, name, 5).Info.Description).To(Equal("Rollback to 1"))
		Expect(kube.EventReasons(ctx, w.ns, name)).To(ContainElement(capstanv1.UpgradeFailedReason))

		By("the loop is over: no pending record, no new revision, the manager stays up")
		Consistently(func(g Gomega) {
			g.Expect(manager.Running()).To(BeTrue(), manager.LogTail(30))
			records := kube.Records(ctx, w.ns, name)
			g.Expect(records).To(HaveLen(5))
			g.Expect(strings.Join(records, " ")).NotTo(ContainSubstring("pending"))
		}).WithContext(ctx).Should(Succeed())
		expectCanaryNowhere(ctx)
	})
})

// expireLease deletes the leader-election lease a killed manager held: a killed process cannot
// release it, and waiting out its duration proves nothing here.
func expireLease(ctx SpecContext) {
	Expect(admin.DeleteAllOf(ctx, &coordinationv1.Lease{}, client.InNamespace(managerNamespace))).To(Succeed())
	Eventually(func(g Gomega) {
		var leases coordinationv1.LeaseList
		g.Expect(admin.List(ctx, &leases, client.InNamespace(managerNamespace))).To(Succeed())
		g.Expect(leases.Items).To(BeEmpty())
	}).WithContext(ctx).Should(Succeed())
}

package reconcile

import (
	"context"
	"sync/atomic"
	"testing"

	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	capstanv1 "github.com/capstan-dev/capstan/api/v1alpha1"
	"github.com/capstan-dev/capstan/internal/apply"
	"github.com/capstan-dev/capstan/internal/storage"
)

// The conclusion of a revision supersedes, prunes and snapshots from the records the reconcile
// listed and wrote, parked or not, without listing them again, and ends with what a list would
// have shown.
func TestSession_afterDeploy_fromKnownRecords(t *testing.T) {
	for _, parked := range []bool{false, true} {
		name := "in the reconcile that applied"
		if parked {
			name = "after the wait parked"
		}
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			ctx := context.Background()
			var lists, gets atomic.Int32
			c := fake.NewClientBuilder().WithInterceptorFuncs(interceptor.Funcs{
				List: func(ctx context.Context, c client.WithWatch, list client.ObjectList, opts ...client.ListOption) error {
					lists.Add(1)
					return c.List(ctx, list, opts...)
				},
				Get: func(ctx context.Context, c client.WithWatch, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
					gets.Add(1)
					return c.Get(ctx, key, obj, opts...)
				},
			}).Build()
			store := storage.NewStore(c)
			for _, r := range []*storage.Release{rec(1, storage.StatusSuperseded, "uid-web"),
				rec(2, storage.StatusDeployed, "uid-web"), rec(3, storage.StatusFailed, "uid-web")} {
				g.Expect(store.Create(ctx, r)).To(Succeed())
			}
			two := 2
			rel := &capstanv1.Release{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "apps", UID: "uid-web", Generation: 1}}
			rel.Spec.MaxHistory = &two
			s := (&Reconciler{}).newSession(rel, nil)
			s.c, s.target, s.store, s.owner = c, c, store, apply.Owner{Name: "web", Namespace: "apps"}
			g.Expect(s.listRecords(ctx)).To(Succeed())
			syncStatusFromRecords(rel, s.records)

			p := &plan{action: capstanv1.ActionUpgrade, record: rec(4, storage.StatusPendingUpgrade, "uid-web")}
			s.startSnapshot(p)
			g.Expect(s.createRecord(ctx, p.record)).To(Succeed())
			s.pruneHistory(ctx, p.record)
			g.Expect(s.pruned).To(Equal([]int{1, 3}), "pruned to maxHistory when the record is created, the deployed one kept")
			if parked {
				p.slim()
				for i, r := range s.records {
					s.records[i] = r.Summary()
				}
			}
			listed, got := lists.Load(), gets.Load()

			p.record.Info.Status = storage.StatusDeployed
			g.Expect(store.UpdateStatus(ctx, p.record)).To(Succeed())
			g.Expect(s.afterDeploy(ctx, p.record)).To(Succeed())
			g.Expect(lists.Load()).To(Equal(listed), "the conclusion lists no records")
			g.Expect(gets.Load()).To(Equal(got), "nor reads the one it supersedes: it was kept as listed")

			stored, err := store.List(ctx, "apps", "web")
			g.Expect(err).NotTo(HaveOccurred())
			statuses := map[int]storage.Status{}
			for _, r := range stored {
				statuses[r.Version] = r.Info.Status
			}
			g.Expect(statuses).To(Equal(map[int]storage.Status{2: storage.StatusSuperseded, 4: storage.StatusDeployed}),
				"revision 2 superseded, 1 and 3 pruned")
			g.Expect(stored[0].Manifest).NotTo(BeEmpty(), "a summary's rewrite keeps the stored manifest")
			g.Expect(stored[0].Config).NotTo(BeEmpty())

			want := rel.DeepCopy()
			syncStatusFromRecords(want, stored)
			g.Expect(rel.Status.History).To(Equal(want.Status.History), "the history a list would have given, digests included")
			g.Expect(rel.Status.History[0].ManifestDigest).To(HavePrefix("sha256:"))
			g.Expect(rel.Status.CurrentRevision).To(Equal(4))
		})
	}
}

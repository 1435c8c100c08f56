package reconcile

import (
	"context"
	"fmt"
	"testing"

	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	capstanv1 "github.com/capstan-dev/capstan/api/v1alpha1"
	"github.com/capstan-dev/capstan/internal/apply"
	"github.com/capstan-dev/capstan/internal/storage"
)

// cmRecord is a record of release web whose manifest holds one ConfigMap per name.
func cmRecord(version int, status storage.Status, uid string, names ...string) *storage.Release {
	r := rec(version, status, uid)
	r.Manifest = ""
	for _, n := range names {
		r.Manifest += fmt.Sprintf("---\n# Source: demo/templates/%s.yaml\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: %s\n", n, n)
	}
	return r
}

// crashSession is a session over a fake client holding records, for the Release web in apps.
func crashSession(t *testing.T, records ...*storage.Release) (*session, *eventLog) {
	t.Helper()
	g := NewWithT(t)
	ctx := context.Background()
	c := fake.NewClientBuilder().Build()
	store := storage.NewStore(c)
	for _, r := range records {
		g.Expect(store.Create(ctx, r)).To(Succeed())
	}
	events := &eventLog{}
	r := &Reconciler{Events: events}
	rel := &capstanv1.Release{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "apps", UID: "uid-web", Generation: 1}}
	s := r.newSession(rel, nil)
	s.c, s.store, s.owner = c, store, apply.Owner{Name: "web", Namespace: "apps"}
	g.Expect(s.listRecords(ctx)).To(Succeed())
	return s, events
}

func names(refs []apply.ObjectRef) []string {
	out := make([]string, 0, len(refs))
	for _, r := range refs {
		out = append(out, r.Name)
	}
	return out
}

func TestSession_ownedRefs(t *testing.T) {
	cases := map[string]struct {
		records   []*storage.Release
		inventory []string
		want      []string
	}{
		"the deployed revision and the inventory": {
			records:   []*storage.Release{cmRecord(1, storage.StatusDeployed, "uid-web", "a", "b")},
			inventory: []string{"leftover"},
			want:      []string{"leftover", "a", "b"},
		},
		"every revision after the deployed one, failed or interrupted, counts": {
			records: []*storage.Release{
				cmRecord(1, storage.StatusSuperseded, "uid-web", "old"),
				cmRecord(2, storage.StatusDeployed, "uid-web", "a"),
				cmRecord(3, storage.StatusFailed, "uid-web", "b"),
				cmRecord(4, storage.StatusPendingUpgrade, "uid-web", "c"),
			},
			want: []string{"a", "b", "c"},
		},
		"with nothing deployed, every record counts": {
			records: []*storage.Release{cmRecord(1, storage.StatusFailed, "uid-web", "a"), cmRecord(2, storage.StatusFailed, "", "b")},
			want:    []string{"a", "b"},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			s, _ := crashSession(t, tc.records...)
			var inv []apply.ObjectRef
			for _, n := range tc.inventory {
				inv = append(inv, apply.ObjectRef{Version: "v1", Kind: "ConfigMap", Namespace: "apps", Name: n})
			}
			s.rel.Status.Inventory = inventoryOf(inv)
			got, err := s.ownedRefs(context.Background())
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(names(got)).To(ConsistOf(tc.want))
		})
	}
}

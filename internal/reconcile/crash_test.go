package reconcile

import (
	"context"
	"fmt"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	capstanv1 "github.com/capstan-dev/capstan/api/v1alpha1"
	"github.com/capstan-dev/capstan/internal/apply"
	"github.com/capstan-dev/capstan/internal/storage"
	"github.com/capstan-dev/capstan/internal/values"
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
	s.c, s.target, s.store, s.owner = c, c, store, apply.Owner{Name: "web", Namespace: "apps"}
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

// statuses lists "v<N>=<status>" of the stored records.
func statuses(t *testing.T, s *session) []string {
	t.Helper()
	g := NewWithT(t)
	g.Expect(s.listRecords(context.Background())).To(Succeed())
	out := make([]string, 0, len(s.records))
	for _, r := range s.records {
		out = append(out, fmt.Sprintf("v%d=%s", r.Version, r.Info.Status))
	}
	return out
}

func TestSession_recoverPending(t *testing.T) {
	now := time.Unix(1700000000, 0).UTC()
	helmPending := func(age time.Duration) *storage.Release {
		r := cmRecord(2, storage.StatusPendingUpgrade, "", "a")
		r.Info.LastDeployed = now.Add(-age)
		return r
	}
	ours := func(attempt string) *storage.Release {
		r := cmRecord(2, storage.StatusPendingUpgrade, "uid-web", "a")
		r.Labels[AttemptLabel], r.Labels[RevisionLabel] = attempt, "2"
		return r
	}
	// helm copies the labels of the newest record, Capstan's revision 1, into the one it writes.
	helmCopied := func(age time.Duration) *storage.Release {
		r := helmPending(age)
		r.Labels = map[string]string{}
		r.Labels[ReleaseUIDLabel], r.Labels[AttemptLabel], r.Labels[RevisionLabel] = "uid-web", "dead", "1"
		return r
	}
	cases := map[string]struct {
		pending    *storage.Release
		running    bool
		ownOnly    bool
		wantReason string
		want       []string
		wantEvents []string
	}{
		"an own pending record of an attempt not running here is recovered at once": {
			pending: ours("dead"), want: []string{"v1=deployed", "v2=failed"}, wantEvents: []string{"Warning PendingRecovered"},
		},
		"an own record of an attempt running here is waited on": {
			pending: ours("live"), running: true, wantReason: "Conflict", want: []string{"v1=deployed", "v2=pending-upgrade"},
		},
		"helm's fresh pending record is waited on": {
			pending: helmPending(time.Minute), wantReason: capstanv1.OperationInProgressReason,
			want: []string{"v1=deployed", "v2=pending-upgrade"},
		},
		"helm's fresh pending record with the labels it copied from Capstan's is waited on": {
			pending: helmCopied(time.Minute), wantReason: capstanv1.OperationInProgressReason,
			want: []string{"v1=deployed", "v2=pending-upgrade"},
		},
		"a suspended Release leaves helm's pending record with copied labels alone": {
			pending: helmCopied(time.Hour), ownOnly: true, want: []string{"v1=deployed", "v2=pending-upgrade"},
		},
		"helm's pending record older than the timeout is marked failed, with an event": {
			pending: helmPending(16 * time.Minute), want: []string{"v1=deployed", "v2=failed"},
			wantEvents: []string{"Warning PendingRecovered"},
		},
		"a suspended Release leaves helm's pending record alone": {
			pending: helmPending(time.Hour), ownOnly: true, want: []string{"v1=deployed", "v2=pending-upgrade"},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			s, events := crashSession(t, cmRecord(1, storage.StatusDeployed, "uid-web", "a"), tc.pending)
			s.r.Options.Now = func() time.Time { return now }
			if tc.running {
				s.r.attempts.Store("live", true)
			}
			err := s.recoverRecords(context.Background(), tc.ownOnly)
			if tc.wantReason == "" {
				g.Expect(err).NotTo(HaveOccurred())
			} else {
				g.Expect(classify(err).Reason).To(Equal(tc.wantReason))
				g.Expect(classify(err).Class).To(Equal(ClassWaiting))
			}
			g.Expect(statuses(t, s)).To(Equal(tc.want))
			g.Expect(events.events).To(Equal(tc.wantEvents))
			if tc.wantEvents != nil {
				_, ok := storage.InterruptedFrom(s.records[1])
				g.Expect(ok).To(BeTrue(), "the description says the revision was interrupted")
			}
		})
	}
}

func TestSession_repairDeployed(t *testing.T) {
	g := NewWithT(t)
	s, _ := crashSession(t, cmRecord(1, storage.StatusSuperseded, "uid-web", "a"),
		cmRecord(2, storage.StatusDeployed, "uid-web", "a"), cmRecord(3, storage.StatusDeployed, "uid-web", "a"))
	g.Expect(s.recoverRecords(context.Background(), false)).To(Succeed())
	g.Expect(statuses(t, s)).To(Equal([]string{"v1=superseded", "v2=superseded", "v3=deployed"}))
}

func TestSession_countCrashes(t *testing.T) {
	desired := Desired{Generation: 1, ChartName: "demo", ChartVersion: "1.0.0"}
	crashed := func(v int, generation string) *storage.Release {
		r := cmRecord(v, storage.StatusPendingUpgrade, "uid-web", "a")
		r.Config = map[string]any{"n": float64(1)}
		r.Labels[GenerationLabel] = generation
		storage.MarkInterrupted(r)
		return r
	}
	deployed := cmRecord(1, storage.StatusDeployed, "uid-web", "a")
	cases := map[string]struct {
		records      []*storage.Release
		wantFailures int64
		wantEvents   []string
	}{
		"two interruptions are retried quietly": {
			records: []*storage.Release{deployed, crashed(2, "1"), crashed(3, "1")},
		},
		"three interruptions of the same desired state count as a failed upgrade": {
			records:      []*storage.Release{deployed, crashed(2, "1"), crashed(3, "1"), crashed(4, "1")},
			wantFailures: 1, wantEvents: []string{"Warning UpgradeFailed"},
		},
		"interruptions of another generation do not count": {
			records: []*storage.Release{deployed, crashed(2, "0"), crashed(3, "1"), crashed(4, "1")},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			s, events := crashSession(t, tc.records...)
			s.desired = desired
			s.desired.ValuesDigest = values.Digest(map[string]any{"n": float64(1)})
			g.Expect(s.countCrashes(context.Background())).To(Succeed())
			g.Expect(s.rel.Status.UpgradeFailures).To(Equal(tc.wantFailures))
			g.Expect(events.events).To(Equal(tc.wantEvents))
			if tc.wantFailures > 0 {
				f := s.facts()
				g.Expect(Decide(f).Kind).To(Equal(ActionRemediate), "the default upgrade remediation rolls back")
				g.Expect(s.countCrashes(context.Background())).To(Succeed())
				g.Expect(events.events).To(HaveLen(1), "counted once")
			}
		})
	}
}

package v1alpha1_test

import (
	"testing"

	. "github.com/onsi/gomega"

	capstanv1 "github.com/capstan-dev/capstan/api/v1alpha1"
)

// snap returns a snapshot of revision n with the given status.
func snap(n int, status capstanv1.RevisionStatus) capstanv1.Snapshot {
	return capstanv1.Snapshot{Revision: n, Action: capstanv1.ActionUpgrade, Status: status, ChartName: "nginx", ChartVersion: "1.0.0"}
}

// revisions lists the revision numbers of h in order.
func revisions(h capstanv1.History) []int {
	out := []int{}
	for _, s := range h {
		out = append(out, s.Revision)
	}
	return out
}

func TestHistory_lookups(t *testing.T) {
	// Deliberately out of order: lookups must not depend on the order.
	h := capstanv1.History{
		snap(2, capstanv1.RevisionSuperseded), snap(4, capstanv1.RevisionFailed), snap(1, capstanv1.RevisionSuperseded), snap(3, capstanv1.RevisionDeployed),
	}
	cases := map[string]struct {
		got  *capstanv1.Snapshot
		want int
	}{
		"Latest is the highest revision":             {h.Latest(), 4},
		"Previous is the one below it":               {h.Previous(), 3},
		"LatestSuccessful skips the failed revision": {h.LatestSuccessful(), 3},
		"ByRevision finds an old revision":           {h.ByRevision(1), 1},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			g.Expect(tc.got).NotTo(BeNil())
			g.Expect(tc.got.Revision).To(Equal(tc.want))
		})
	}
}

func TestHistory_lookupsFindNothing(t *testing.T) {
	one := capstanv1.History{snap(1, capstanv1.RevisionFailed)}
	cases := map[string]*capstanv1.Snapshot{
		"Latest of an empty history":              capstanv1.History(nil).Latest(),
		"Previous of an empty history":            capstanv1.History(nil).Previous(),
		"Previous of a single revision":           one.Previous(),
		"LatestSuccessful when everything failed": one.LatestSuccessful(),
		"ByRevision of a missing revision":        one.ByRevision(7),
	}
	for name, got := range cases {
		t.Run(name, func(t *testing.T) {
			NewWithT(t).Expect(got).To(BeNil())
		})
	}
}

func TestHistory_Latest_pointsIntoTheHistory(t *testing.T) {
	g := NewWithT(t)
	h := capstanv1.History{snap(1, capstanv1.RevisionPendingInstall)}
	h.Latest().Status = capstanv1.RevisionDeployed
	g.Expect(h[0].Status).To(Equal(capstanv1.RevisionDeployed))
}

func TestHistory_Truncate(t *testing.T) {
	cases := map[string]struct {
		h    capstanv1.History
		n    int
		want []int
	}{
		"keeps the newest n, newest first": {
			capstanv1.History{snap(1, capstanv1.RevisionSuperseded), snap(2, capstanv1.RevisionSuperseded), snap(3, capstanv1.RevisionDeployed)}, 2, []int{3, 2},
		},
		"shorter than n is only sorted": {
			capstanv1.History{snap(1, capstanv1.RevisionSuperseded), snap(2, capstanv1.RevisionDeployed)}, 5, []int{2, 1},
		},
		"zero keeps everything": {
			capstanv1.History{snap(2, capstanv1.RevisionDeployed), snap(1, capstanv1.RevisionSuperseded), snap(3, capstanv1.RevisionFailed)}, 0, []int{3, 2, 1},
		},
		"keeps the last successful revision when the newest ones all failed": {
			capstanv1.History{
				snap(5, capstanv1.RevisionFailed), snap(4, capstanv1.RevisionFailed), snap(3, capstanv1.RevisionFailed),
				snap(2, capstanv1.RevisionDeployed), snap(1, capstanv1.RevisionSuperseded),
			}, 2, []int{5, 4, 2},
		},
		"nothing successful to keep": {
			capstanv1.History{snap(3, capstanv1.RevisionFailed), snap(2, capstanv1.RevisionFailed), snap(1, capstanv1.RevisionFailed)}, 1, []int{3},
		},
		"empty history": {nil, 3, []int{}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			NewWithT(t).Expect(revisions(tc.h.Truncate(tc.n))).To(Equal(tc.want))
		})
	}
}

func TestHistory_Truncate_leavesTheReceiverAlone(t *testing.T) {
	g := NewWithT(t)
	h := capstanv1.History{snap(1, capstanv1.RevisionSuperseded), snap(2, capstanv1.RevisionDeployed)}
	_ = h.Truncate(1)
	g.Expect(revisions(h)).To(Equal([]int{1, 2}))
}

func TestHistory_Upsert(t *testing.T) {
	g := NewWithT(t)
	h := capstanv1.History{snap(1, capstanv1.RevisionDeployed)}

	h = h.Upsert(snap(2, capstanv1.RevisionPendingUpgrade))
	g.Expect(revisions(h)).To(Equal([]int{2, 1}))

	h = h.Upsert(snap(2, capstanv1.RevisionDeployed))
	g.Expect(revisions(h)).To(Equal([]int{2, 1}))
	g.Expect(h.Latest().Status).To(Equal(capstanv1.RevisionDeployed))
}

func TestSnapshot_Successful(t *testing.T) {
	cases := map[capstanv1.RevisionStatus]bool{
		capstanv1.RevisionDeployed: true, capstanv1.RevisionSuperseded: true, capstanv1.RevisionFailed: false,
		capstanv1.RevisionPendingUpgrade: false, capstanv1.RevisionUninstalled: false, capstanv1.RevisionUnknown: false,
	}
	for status, want := range cases {
		t.Run(string(status), func(t *testing.T) {
			s := snap(1, status)
			NewWithT(t).Expect(s.Successful()).To(Equal(want))
		})
	}
}

func TestRevisionStatus_IsPending(t *testing.T) {
	cases := map[capstanv1.RevisionStatus]bool{
		capstanv1.RevisionPendingInstall: true, capstanv1.RevisionPendingUpgrade: true, capstanv1.RevisionPendingRollback: true,
		capstanv1.RevisionDeployed: false, capstanv1.RevisionUninstalling: false, capstanv1.RevisionFailed: false,
	}
	for status, want := range cases {
		t.Run(string(status), func(t *testing.T) {
			NewWithT(t).Expect(status.IsPending()).To(Equal(want))
		})
	}
}

package cli

import (
	"strings"
	"testing"

	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	capstanv1 "github.com/capstan-dev/capstan/api/v1alpha1"
)

// deployedRelease is a Release whose revision 4 is in effect with two objects.
func deployedRelease() *capstanv1.Release {
	rel := release()
	rel.Spec.TargetNamespace = "apps"
	started, finished := metav1.NewTime(t0), metav1.NewTime(t0.Add(30e9))
	rel.Status = capstanv1.ReleaseStatus{
		ObservedGeneration: 3, ReleaseName: "web", CurrentRevision: 4, ChartName: "demo", ChartVersion: "1.0.0", AppVersion: "2.1",
		History: capstanv1.History{
			{Revision: 4, Action: capstanv1.ActionRollback, Status: capstanv1.RevisionDeployed, ChartName: "demo", ChartVersion: "1.0.0",
				StartedAt: started, FinishedAt: &finished, Message: "Rollback to 2"},
			{Revision: 3, Action: capstanv1.ActionUpgrade, Status: capstanv1.RevisionFailed, ChartName: "demo", ChartVersion: "1.1.0",
				StartedAt: started, Message: "Upgrade failed"},
		},
		Inventory: &capstanv1.Inventory{Entries: []capstanv1.InventoryEntry{
			{ID: "apps_web_apps_Deployment", Version: "v1"}, {ID: "apps_web__Service", Version: "v1"},
		}},
		Conditions: []metav1.Condition{
			cond(capstanv1.ReadyCondition, metav1.ConditionTrue, capstanv1.RollbackSucceededReason, "Revision 4 of demo 1.0.0 is deployed"),
			cond(capstanv1.ReleasedCondition, metav1.ConditionTrue, capstanv1.RollbackSucceededReason, "Rolled back to revision 2"),
		},
	}
	return rel
}

func TestNewStatusReport(t *testing.T) {
	g := NewWithT(t)
	r := NewStatusReport(deployedRelease(), false)
	g.Expect(r.Name).To(Equal("web"))
	g.Expect(r.TargetNamespace).To(Equal("apps"))
	g.Expect(r.Revision).To(Equal(4))
	g.Expect(r.Description).To(Equal("Rollback to 2"), "the current revision's snapshot, not the newest")
	g.Expect(r.LastDeployed.Time).To(Equal(t0.Add(30e9)), "when the action finished")
	g.Expect(r.Ready).To(Equal(metav1.ConditionTrue))
	g.Expect(r.Reason).To(Equal(capstanv1.RollbackSucceededReason))
	g.Expect(r.Objects).To(Equal(2))
	g.Expect(r.Resources).To(BeNil())
	g.Expect(NewStatusReport(deployedRelease(), true).Resources).To(Equal([]string{"apps_web_apps_Deployment", "apps_web__Service"}))

	fresh := NewStatusReport(release(), false)
	g.Expect(fresh.Ready).To(Equal(metav1.ConditionUnknown), "no Ready condition yet")
	g.Expect(fresh.LastDeployed).To(BeNil())
	g.Expect(fresh.ReleaseName).To(Equal("web"), "from the spec while status has none")
}

func TestWriteStatus(t *testing.T) {
	cases := map[string]struct {
		rel     *capstanv1.Release
		format  Format
		want    []string
		notWant []string
	}{
		"a deployed release": {
			rel: deployedRelease(), format: FormatTable,
			want: []string{
				"NAME: web\nNAMESPACE: team\nRELEASE NAME: web\nTARGET NAMESPACE: apps\nREVISION: 4\nCHART: demo-1.0.0\nAPP VERSION: 2.1\n" +
					"LAST DEPLOYED: Tue Mar  5 08:08:39 2024\nDESCRIPTION: Rollback to 2\n" +
					"READY: True (RollbackSucceeded) Revision 4 of demo 1.0.0 is deployed\nOBJECTS: 2\n" +
					"CONDITIONS:\nTYPE    \tSTATUS\tREASON           \tMESSAGE                             \n" +
					"Ready   \tTrue  \tRollbackSucceeded\tRevision 4 of demo 1.0.0 is deployed\n" +
					"Released\tTrue  \tRollbackSucceeded\tRolled back to revision 2           \n",
			},
			notWant: []string{"SUSPENDED", "GENERATION"},
		},
		"a release never reconciled": {
			rel: func() *capstanv1.Release {
				r := release()
				r.Spec.Suspend = true
				r.Status.ObservedGeneration = -1
				return r
			}(),
			format:  FormatTable,
			want:    []string{"REVISION: none (not installed)\n", "READY: Unknown\n", "SUSPENDED: true\n", "GENERATION: 3 (the controller has observed -1)\n", "OBJECTS: 0\n"},
			notWant: []string{"CHART:", "CONDITIONS:"},
		},
		"json": {
			rel: deployedRelease(), format: FormatJSON,
			want: []string{`"name":"web"`, `"revision":4`, `"ready":"True"`, `"objects":2`, `"lastDeployed":"2024-03-05T08:08:39Z"`},
		},
		"yaml": {
			rel: deployedRelease(), format: FormatYAML,
			want: []string{"releaseName: web\n", "revision: 4\n", "reason: RollbackSucceeded\n"},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			var b strings.Builder
			g.Expect(WriteStatus(&b, tc.format, NewStatusReport(tc.rel, false))).To(Succeed())
			for _, w := range tc.want {
				g.Expect(b.String()).To(ContainSubstring(w))
			}
			for _, w := range tc.notWant {
				g.Expect(b.String()).NotTo(ContainSubstring(w))
			}
		})
	}
}

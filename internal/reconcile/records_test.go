package reconcile

import (
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	capstanv1 "github.com/capstan-dev/capstan/api/v1alpha1"
	"github.com/capstan-dev/capstan/internal/chart"
	"github.com/capstan-dev/capstan/internal/storage"
)

func rec(version int, status storage.Status, uid string) *storage.Release {
	r := &storage.Release{Name: "web", Namespace: "apps", Version: version,
		Info:     storage.Info{Status: status, LastDeployed: time.Unix(1700000000+int64(version), 500).UTC()},
		Chart:    storage.Chart{Metadata: &chart.Metadata{Name: "demo", Version: "1.0.0", AppVersion: "2.0"}},
		Config:   map[string]any{"n": float64(version)},
		Manifest: "---\n# Source: demo/templates/cm.yaml\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web\n",
	}
	if uid != "" {
		r.Labels = map[string]string{ReleaseUIDLabel: uid}
	}
	return r
}

func TestNameOwner(t *testing.T) {
	a := candidate{uid: "a", name: "alpha", created: 10}
	b := candidate{uid: "b", name: "beta", created: 20}
	b2 := candidate{uid: "b2", name: "aaa", created: 20}
	cases := map[string]struct {
		records    []*storage.Release
		candidates []candidate
		want       string
	}{
		"the live writer of the records owns the name": {
			records: []*storage.Release{rec(1, storage.StatusDeployed, "b")}, candidates: []candidate{a, b}, want: "b",
		},
		"the newest labelled record decides, even over older ones": {
			records:    []*storage.Release{rec(1, storage.StatusSuperseded, "a"), rec(2, storage.StatusDeployed, "b")},
			candidates: []candidate{a, b}, want: "b",
		},
		"helm's unlabelled records leave the claim to the labelled one before them": {
			records:    []*storage.Release{rec(1, storage.StatusSuperseded, "b"), rec(2, storage.StatusDeployed, "")},
			candidates: []candidate{a, b}, want: "b",
		},
		"records of a Release that is gone fall to the oldest asking Release": {
			records: []*storage.Release{rec(1, storage.StatusUninstalled, "gone")}, candidates: []candidate{b, a}, want: "a",
		},
		"without records the oldest Release owns the name": {
			candidates: []candidate{b, a}, want: "a",
		},
		"equal ages are settled by name": {
			candidates: []candidate{b, b2}, want: "b2",
		},
		"a name nobody asks for has no owner": {want: ""},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			NewWithT(t).Expect(nameOwner(tc.records, tc.candidates)).To(Equal(tc.want))
		})
	}
}

func TestDigestLabelValue(t *testing.T) {
	g := NewWithT(t)
	hex := strings.Repeat("ab", 32)
	g.Expect(digestLabelValue("sha256:" + hex)).To(Equal(hex[:63]))
	g.Expect(digestLabelValue(hex)).To(Equal(hex[:63]))
	g.Expect(digestLabelValue("abc")).To(Equal("abc"))
	g.Expect(digestLabelValue("")).To(Equal(""))
}

func TestRecordFacts(t *testing.T) {
	g := NewWithT(t)
	r := rec(3, storage.StatusDeployed, "me")
	r.Labels[ChartDigestLabel] = "abc"
	f := recordFacts(r, "me")
	g.Expect(f).To(Equal(&Record{Revision: 3, Status: "deployed", ChartName: "demo", ChartVersion: "1.0.0", ChartDigest: "abc",
		ValuesDigest: valuesDigestOf(r), Ours: true}))
	g.Expect(recordFacts(r, "you").Ours).To(BeFalse())
	g.Expect(recordFacts(rec(1, storage.StatusDeployed, ""), "").Ours).To(BeFalse(), "an empty UID owns nothing")
	g.Expect(recordFacts(nil, "me")).To(BeNil())
	copied := rec(4, storage.StatusDeployed, "me")
	copied.Labels[RevisionLabel] = "3"
	g.Expect(recordFacts(copied, "me").Ours).To(BeFalse(), "helm wrote revision 4 with the labels of revision 3")
}

func TestWrittenByCapstan(t *testing.T) {
	labelled := func(version int, labels map[string]string) *storage.Release {
		return &storage.Release{Version: version, Labels: labels}
	}
	cases := map[string]struct {
		rec  *storage.Release
		want bool
	}{
		"helm's record without Capstan's labels":  {labelled(2, nil), false},
		"Capstan's record, its revision labelled": {labelled(2, map[string]string{ReleaseUIDLabel: "u", RevisionLabel: "2"}), true},
		"helm's record with the labels it copied from Capstan's revision 1": {
			labelled(2, map[string]string{ReleaseUIDLabel: "u", AttemptLabel: "a", RevisionLabel: "1"}), false},
		"Capstan's record from before the revision label": {labelled(2, map[string]string{ReleaseUIDLabel: "u", AttemptLabel: "a"}), true},
		"a revision label alone claims nothing":           {labelled(2, map[string]string{RevisionLabel: "2"}), false},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			NewWithT(t).Expect(writtenByCapstan(tc.rec)).To(Equal(tc.want))
		})
	}
}

func TestSyncStatusFromRecords(t *testing.T) {
	g := NewWithT(t)
	rel := &capstanv1.Release{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "apps"}}
	three := 3
	rel.Spec.MaxHistory = &three
	started := metav1.NewTime(time.Unix(1600000000, 0).UTC())
	finished := metav1.NewTime(time.Unix(1600000100, 0).UTC())
	rel.Status.History = capstanv1.History{{Revision: 4, Action: capstanv1.ActionUpgrade, Status: capstanv1.RevisionPendingUpgrade,
		StartedAt: started, FinishedAt: &finished, ChartName: "demo", ChartVersion: "1.0.0"}}
	rb := rec(5, storage.StatusDeployed, "me")
	rb.Info.RollbackRevision, rb.Info.Description = 2, "Rollback to 2"
	records := []*storage.Release{
		rec(1, storage.StatusSuperseded, ""), rec(2, storage.StatusSuperseded, "me"),
		rec(3, storage.StatusFailed, "me"), rec(4, storage.StatusSuperseded, "me"), rb,
	}
	syncStatusFromRecords(rel, records)

	st := rel.Status
	g.Expect(st.CurrentRevision).To(Equal(5))
	g.Expect(st.RollbackTarget).To(Equal(5))
	g.Expect([]string{st.ChartName, st.ChartVersion, st.AppVersion}).To(Equal([]string{"demo", "1.0.0", "2.0"}))
	g.Expect(st.ReleaseName).To(Equal("web"))
	g.Expect(st.StorageNamespace).To(Equal("apps"))
	g.Expect(st.History).To(HaveLen(3), "bounded by maxHistory")
	g.Expect(st.History[0].Revision).To(Equal(5))
	g.Expect(st.History[0].Action).To(Equal(capstanv1.ActionRollback))
	g.Expect(st.History[0].Message).To(Equal("Rollback to 2"))
	g.Expect(st.History[0].StartedAt.Time).To(Equal(time.Unix(1700000005, 0).UTC()), "second precision, as the API stores it")
	g.Expect(st.History[1].Revision).To(Equal(4))
	g.Expect(st.History[1].Status).To(Equal(capstanv1.RevisionSuperseded), "the status comes from the record")
	g.Expect(st.History[1].StartedAt).To(Equal(started), "times the status already knew are kept")
	g.Expect(st.History[1].FinishedAt).To(Equal(&finished))
	g.Expect(st.History[2].Action).To(Equal(capstanv1.ActionUpgrade))
	g.Expect(st.History[2].ValuesDigest).To(Equal(valuesDigestOf(records[2])))
	g.Expect(st.History[2].ManifestDigest).To(HavePrefix("sha256:"))

	again := rel.DeepCopy()
	syncStatusFromRecords(again, records)
	g.Expect(again.Status).To(Equal(rel.Status), "unchanged records give an unchanged status")

	syncStatusFromRecords(rel, nil)
	g.Expect(rel.Status.CurrentRevision).To(BeZero())
	g.Expect(rel.Status.History).To(BeNil())
}

func TestActionOf(t *testing.T) {
	cases := map[string]struct {
		record *storage.Release
		want   capstanv1.ReleaseAction
	}{
		"revision 1 is an install":           {record: rec(1, storage.StatusDeployed, ""), want: capstanv1.ActionInstall},
		"a later revision is an upgrade":     {record: rec(2, storage.StatusDeployed, ""), want: capstanv1.ActionUpgrade},
		"a pending install is an install":    {record: rec(3, storage.StatusPendingInstall, ""), want: capstanv1.ActionInstall},
		"an uninstalled one is an uninstall": {record: rec(3, storage.StatusUninstalled, ""), want: capstanv1.ActionUninstall},
		"a rollback revision is a rollback": {record: func() *storage.Release {
			r := rec(4, storage.StatusDeployed, "")
			r.Info.RollbackRevision = 1
			return r
		}(), want: capstanv1.ActionRollback},
		"a failed install says so": {record: func() *storage.Release {
			r := rec(2, storage.StatusFailed, "")
			r.Info.Description = "Install failed: x"
			return r
		}(), want: capstanv1.ActionInstall},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			NewWithT(t).Expect(actionOf(tc.record, nil)).To(Equal(tc.want))
		})
	}
}

func TestParseStoredManifest(t *testing.T) {
	g := NewWithT(t)
	text := "---\n# Source: demo/templates/a.yaml\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n" +
		"---\n# Source: demo/templates/b.yaml\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: b\n  namespace: other\n"
	objs, err := parseStoredManifest(text, "apps")
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(objs).To(HaveLen(2))
	g.Expect(objs[1].GetKind()).To(Equal("Deployment"))
	g.Expect(objs[1].GetNamespace()).To(Equal("other"))

	_, err = parseStoredManifest(text+"---\n# Source: demo/templates/c.yaml\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n", "apps")
	g.Expect(err).To(MatchError(ContainSubstring("duplicate")))
	g.Expect(sourceOf("# Source: x/y.yaml\nkind: A")).To(Equal("x/y.yaml"))
	g.Expect(sourceOf("kind: A")).To(Equal("manifest"))
}

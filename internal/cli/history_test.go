package cli

import (
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"

	"github.com/capstan-dev/capstan/internal/storage"
)

func TestHistory(t *testing.T) {
	four := []*storage.Release{
		rec(1, storage.StatusSuperseded, "Install complete"),
		rec(2, storage.StatusSuperseded, "Upgrade complete"),
		rec(3, storage.StatusFailed, "Upgrade failed: boom"),
		rec(4, storage.StatusDeployed, "Rollback to 2"),
	}
	cases := map[string]struct {
		records []*storage.Release
		limit   int
		want    []int
	}{
		"every revision, oldest first":              {records: four, limit: DefaultHistoryMax, want: []int{1, 2, 3, 4}},
		"a limit keeps the newest revisions":        {records: four, limit: 2, want: []int{3, 4}},
		"a limit of exactly the count keeps all":    {records: four, limit: 4, want: []int{1, 2, 3, 4}},
		"a zero limit lists nothing, as helm does":  {records: four, limit: 0, want: []int{}},
		"a negative limit lists nothing either":     {records: four, limit: -3, want: []int{}},
		"no records give an empty, non-nil history": {records: nil, limit: 10, want: []int{}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			got := History(tc.records, tc.limit)
			g.Expect(got).NotTo(BeNil())
			revs := []int{}
			for _, e := range got {
				revs = append(revs, e.Revision)
			}
			g.Expect(revs).To(Equal(tc.want))
		})
	}
}

func TestHistory_entries(t *testing.T) {
	noChart := rec(5, storage.StatusFailed, "x")
	noChart.Chart.Metadata = nil
	noChart.Info.LastDeployed = time.Time{}
	cases := map[string]struct {
		record *storage.Release
		want   HistoryEntry
	}{
		"a readable record": {
			record: rec(2, storage.StatusSuperseded, "Upgrade complete"),
			want: HistoryEntry{Revision: 2, Updated: t0.Add(time.Hour), Status: "superseded", Chart: "demo-1.0.0",
				AppVersion: "2.1", Description: "Upgrade complete"},
		},
		"a record without chart metadata shows MISSING, as helm does": {
			record: noChart,
			want:   HistoryEntry{Revision: 5, Status: "failed", Chart: "MISSING", AppVersion: "MISSING", Description: "x"},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			NewWithT(t).Expect(History([]*storage.Release{tc.record}, 1)).To(Equal([]HistoryEntry{tc.want}))
		})
	}

	t.Run("a record that cannot be read is listed with the reason", func(t *testing.T) {
		g := NewWithT(t)
		got := History([]*storage.Release{corrupt(7)}, 1)
		g.Expect(got).To(HaveLen(1))
		g.Expect(got[0].Revision).To(Equal(7))
		g.Expect(got[0].Status).To(Equal("unknown"))
		g.Expect(got[0].Chart).To(Equal("MISSING"))
		g.Expect(got[0].Description).To(HavePrefix("the record cannot be read: "))
	})
}

// The expected outputs below are what helm v4.3.1 printed for the same records; the envtest suite
// in cmd/capstan compares with the live binary.
func TestWriteHistory(t *testing.T) {
	long := "Upgrade complete with a very long description that goes on and on and on beyond sixty characters"
	entries := History([]*storage.Release{
		rec(1, storage.StatusSuperseded, "Install complete"),
		rec(2, storage.StatusSuperseded, long),
		rec(3, storage.StatusFailed, "Upgrade \"web\" failed: line1\nline2"),
		rec(4, storage.StatusDeployed, "Rollback to 2"),
	}, DefaultHistoryMax)
	pad := func(s string) string { return s + strings.Repeat(" ", len(long)-len(s)) }
	cases := map[string]struct {
		format  Format
		entries []HistoryEntry
		want    string
	}{
		"table": {
			format: FormatTable, entries: entries,
			want: "REVISION\tUPDATED                 \tSTATUS    \tCHART     \tAPP VERSION\t" + pad("DESCRIPTION") + "\n" +
				"1       \tTue Mar  5 08:08:09 2024\tsuperseded\tdemo-1.0.0\t2.1        \t" + pad("Install complete") + "\n" +
				"2       \tTue Mar  5 09:08:09 2024\tsuperseded\tdemo-1.0.0\t2.1        \t" + long + "\n" +
				"3       \tTue Mar  5 10:08:09 2024\tfailed    \tdemo-1.0.0\t2.1        \t" + pad(`Upgrade "web" failed: line1`) + "\n" +
				"        \t                        \t          \t          \t           \t" + pad("line2") + "\n" +
				"4       \tTue Mar  5 11:08:09 2024\tdeployed  \tdemo-1.0.0\t2.1        \t" + pad("Rollback to 2") + "\n",
		},
		"table with no entries is the header alone": {
			format: FormatTable, entries: []HistoryEntry{},
			want: "REVISION\tUPDATED\tSTATUS\tCHART\tAPP VERSION\tDESCRIPTION\n",
		},
		"json": {
			format: FormatJSON, entries: entries[2:],
			want: `[{"revision":3,"updated":"2024-03-05T10:08:09Z","status":"failed","chart":"demo-1.0.0","app_version":"2.1","description":"Upgrade \"web\" failed: line1\nline2"},` +
				`{"revision":4,"updated":"2024-03-05T11:08:09Z","status":"deployed","chart":"demo-1.0.0","app_version":"2.1","description":"Rollback to 2"}]` + "\n",
		},
		"json leaves out an unknown time": {
			format: FormatJSON, entries: []HistoryEntry{{Revision: 5, Status: "failed", Chart: "MISSING", AppVersion: "MISSING", Description: "x"}},
			want: `[{"revision":5,"status":"failed","chart":"MISSING","app_version":"MISSING","description":"x"}]` + "\n",
		},
		"json of no entries is an empty list": {format: FormatJSON, entries: []HistoryEntry{}, want: "[]\n"},
		"yaml": {
			format: FormatYAML, entries: entries[3:],
			want: "- app_version: \"2.1\"\n  chart: demo-1.0.0\n  description: Rollback to 2\n  revision: 4\n  status: deployed\n" +
				"  updated: \"2024-03-05T11:08:09Z\"\n",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			var b strings.Builder
			g.Expect(WriteHistory(&b, tc.format, tc.entries)).To(Succeed())
			g.Expect(b.String()).To(Equal(tc.want))
		})
	}
}

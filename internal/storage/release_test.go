package storage

import (
	"errors"
	"testing"
	"time"

	. "github.com/onsi/gomega"

	"github.com/capstan-dev/capstan/internal/chart"
)

func TestRelease_Summary(t *testing.T) {
	g := NewWithT(t)
	full := &Release{Name: "web", Namespace: "apps", Version: 3,
		Info:            Info{Status: StatusDeployed, Description: "Upgrade complete", LastDeployed: time.Unix(1700000000, 0).UTC()},
		Chart:           Chart{Metadata: &chart.Metadata{Name: "demo", Version: "1.0.0"}, Values: map[string]any{"a": 1.0}, Schema: []byte("{}"), Files: []*File{{Name: "x"}}},
		Config:          map[string]any{"b": 2.0},
		Manifest:        "---\nkind: ConfigMap\n",
		Hooks:           []*Hook{{Name: "h"}},
		ApplyMethod:     ApplyMethodServerSide,
		Labels:          map[string]string{"team": "a"},
		resourceVersion: "42", decodeErr: errors.New("x"),
	}
	sum := full.Summary()
	g.Expect(sum.Stripped()).To(BeTrue())
	g.Expect(full.Stripped()).To(BeFalse(), "the record summarised is left as it was")
	g.Expect(full.Manifest).NotTo(BeEmpty())
	g.Expect([]any{sum.Name, sum.Namespace, sum.Version, sum.Info, sum.ApplyMethod, sum.Labels, sum.ResourceVersion(), sum.DecodeError()}).To(
		Equal([]any{full.Name, full.Namespace, full.Version, full.Info, full.ApplyMethod, full.Labels, "42", full.decodeErr}))
	g.Expect(sum.Chart).To(Equal(Chart{Metadata: full.Chart.Metadata}))
	g.Expect(sum.Config).To(BeNil())
	g.Expect(sum.Manifest).To(BeEmpty())
	g.Expect(sum.Hooks).To(BeNil())
	sum.Labels["team"] = "b"
	g.Expect(full.Labels["team"]).To(Equal("a"), "labels are copied")

	full.Strip()
	g.Expect(full.Stripped()).To(BeTrue())
	g.Expect(full.Hooks).To(HaveLen(1), "Strip keeps the hooks, whose runs a stripped record still records")
	g.Expect(full.Chart).To(Equal(Chart{Metadata: sum.Chart.Metadata}))
	g.Expect(full.Config).To(BeNil())
	g.Expect(full.Manifest).To(BeEmpty())
}

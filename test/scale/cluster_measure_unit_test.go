package scale

import (
	"os"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"
)

func TestParseMetric_readsSeriesOfOneName(t *testing.T) {
	g := NewWithT(t)
	text := `# HELP rest_client_requests_total Number of HTTP requests.
# TYPE rest_client_requests_total counter
rest_client_requests_total{code="200",host="127.0.0.1:6443",method="PATCH"} 42
rest_client_requests_total{code="201",host="127.0.0.1:6443",method="POST"} 7
rest_client_requests_total_other{method="PATCH"} 1000
rest_client_request_duration_seconds_bucket{le="0.1"} 3
apiserver_request_total{code="200",dry_run="All",resource="configmaps",subresource="",verb="APPLY"} 5
`
	series, err := parseMetric(strings.NewReader(text), "rest_client_requests_total")
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(series).To(HaveLen(2))
	g.Expect(series[0].labels).To(Equal(map[string]string{"code": "200", "host": "127.0.0.1:6443", "method": "PATCH"}))
	g.Expect(series[0].value).To(Equal(42.0))
	g.Expect(series[1].labels["method"]).To(Equal("POST"))

	series, err = parseMetric(strings.NewReader(text), "apiserver_request_total")
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(series).To(HaveLen(1))
	g.Expect(series[0].labels).To(HaveKeyWithValue("dry_run", "All"))
	g.Expect(series[0].labels).To(HaveKeyWithValue("subresource", ""))
	g.Expect(series[0].labels).To(HaveKeyWithValue("verb", "APPLY"))
}

func TestParseLabels_unescapesQuotes(t *testing.T) {
	got := map[string]string{}
	parseLabels(`a="x\"y",b="",c="z"`, got)
	NewWithT(t).Expect(got).To(Equal(map[string]string{"a": `x"y`, "b": "", "c": "z"}))
}

func TestServerWrites_minusAndSum(t *testing.T) {
	g := NewWithT(t)
	apply := serverKey{verb: "APPLY", resource: "configmaps"}
	dry := serverKey{verb: "APPLY", resource: "configmaps", dryRun: "All"}
	status := serverKey{verb: "PUT", resource: "deployments", subresource: "status"}
	before := serverWrites{apply: 10, dry: 10, status: 3}
	after := serverWrites{apply: 15, dry: 12, status: 3}
	d := after.minus(before)
	g.Expect(d).To(Equal(serverWrites{apply: 5, dry: 2}))
	g.Expect(d.sum(isDryRun)).To(Equal(2.0))
	g.Expect(d.sum(chartObject)).To(Equal(5.0))
}

func TestClientWrites_perRelease(t *testing.T) {
	w := clientWrites{"PATCH": 28, "POST": 4, "GET": 10}.minus(clientWrites{"PATCH": 14, "POST": 2, "GET": 4})
	g := NewWithT(t)
	g.Expect(w.total()).To(Equal(16.0), "writes only")
	g.Expect(w.requests()).To(Equal(22.0), "reads included")
	g.Expect(w.perRelease(2)).To(Equal("GET 3.00, PATCH 7.00, POST 1.00"))
}

func TestPercentile_nearestRank(t *testing.T) {
	cases := map[string]struct {
		in   []time.Duration
		p    float64
		want time.Duration
	}{
		"nothing measured":         {nil, 50, 0},
		"one value is every rank":  {[]time.Duration{3}, 90, 3},
		"the median of ten":        {[]time.Duration{10, 9, 8, 7, 6, 5, 4, 3, 2, 1}, 50, 5},
		"the 90th of ten":          {[]time.Duration{10, 9, 8, 7, 6, 5, 4, 3, 2, 1}, 90, 9},
		"the 100th is the largest": {[]time.Duration{1, 2, 3}, 100, 3},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			NewWithT(t).Expect(percentile(tc.in, tc.p)).To(Equal(tc.want))
		})
	}
}

func TestReadProc_thisProcess(t *testing.T) {
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		t.Skip("no /proc on this system")
	}
	g := NewWithT(t)
	s, err := readProc(os.Getpid())
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(s.peakRSS).To(BeNumerically(">", 1<<20), "a Go test binary holds more than 1 MiB")
	g.Expect(s.anonRSS).To(BeNumerically(">", 0))
	g.Expect(s.anonRSS).To(BeNumerically("<=", s.peakRSS))
	g.Expect(s.cpu).To(BeNumerically(">=", 0))
}

package options

import (
	"flag"
	"testing"

	. "github.com/onsi/gomega"
)

func TestOptions_BindFlags(t *testing.T) {
	g := NewWithT(t)
	o := Defaults()
	fs := flag.NewFlagSet("manager", flag.ContinueOnError)
	o.BindFlags(fs)
	g.Expect(fs.Parse([]string{"--allow-cross-namespace-refs", "--default-service-account=tenant", "--max-chart-size=2048", "--log-format=console"})).To(Succeed())
	g.Expect(o.AllowCrossNamespaceRefs).To(BeTrue())
	g.Expect(o.DefaultServiceAccount).To(Equal("tenant"))
	g.Expect(o.Limits.MaxChartSize).To(Equal(int64(2048)))
	g.Expect(o.Limits.MaxIndexSize).To(Equal(int64(50 << 20)))
	g.Expect(o.Validate()).To(Succeed())
}

func TestOptions_Validate(t *testing.T) {
	cases := map[string]struct {
		mutate func(*Options)
		want   string
	}{
		"defaults are valid":             {mutate: func(*Options) {}},
		"zero release concurrency":       {mutate: func(o *Options) { o.ReleaseConcurrency = 0 }, want: "--release-concurrency must be at least 1"},
		"negative chart size":            {mutate: func(o *Options) { o.Limits.MaxChartSize = -1 }, want: "--max-chart-size must be positive"},
		"unknown log format":             {mutate: func(o *Options) { o.LogFormat = "xml" }, want: `--log-format must be json or console, got "xml"`},
		"unknown log level":              {mutate: func(o *Options) { o.LogLevel = "trace" }, want: "--log-level must be error, info or debug"},
		"cross-namespace off by default": {mutate: func(o *Options) { o.AllowCrossNamespaceRefs = false }},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			o := Defaults()
			tc.mutate(&o)
			err := o.Validate()
			if tc.want == "" {
				g.Expect(err).NotTo(HaveOccurred())
				return
			}
			g.Expect(err).To(MatchError(ContainSubstring(tc.want)))
		})
	}
}

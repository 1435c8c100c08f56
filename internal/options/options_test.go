package options

import (
	"flag"
	"io"
	"net/netip"
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

func TestOptions_cacheSizeFlags(t *testing.T) {
	g := NewWithT(t)
	o := Defaults()
	g.Expect(o.Limits.IndexCacheSize).To(Equal(int64(128 << 20)))
	g.Expect(o.Limits.ArchiveCacheSize).To(Equal(int64(256 << 20)))
	fs := flag.NewFlagSet("manager", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	o.BindFlags(fs)
	g.Expect(fs.Parse([]string{"--index-cache-size=1048576", "--archive-cache-size=4194304"})).To(Succeed())
	g.Expect(o.Limits.IndexCacheSize).To(Equal(int64(1 << 20)))
	g.Expect(o.Limits.ArchiveCacheSize).To(Equal(int64(4 << 20)))
	g.Expect(o.Validate()).To(Succeed())
}

func TestOptions_networkFlags(t *testing.T) {
	g := NewWithT(t)
	o := Defaults()
	g.Expect(o.DenyPrivateNetworks).To(BeFalse(), "off in the binary, so make run and loopback tests work")
	fs := flag.NewFlagSet("manager", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	o.BindFlags(fs)
	g.Expect(fs.Parse([]string{"--deny-private-networks", "--allow-networks=10.96.0.0/12, fd00:1::/64", "--allow-networks=10.0.0.7"})).To(Succeed())
	g.Expect(o.DenyPrivateNetworks).To(BeTrue())
	g.Expect(o.AllowNetworks).To(Equal([]netip.Prefix{
		netip.MustParsePrefix("10.96.0.0/12"), netip.MustParsePrefix("fd00:1::/64"), netip.MustParsePrefix("10.0.0.7/32"),
	}))

	fs = flag.NewFlagSet("manager", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	o.BindFlags(fs)
	g.Expect(fs.Parse([]string{"--allow-networks=10.0.0.0/33"})).To(MatchError(ContainSubstring(`"10.0.0.0/33" is neither a CIDR nor an IP address`)))
}

func TestOptions_Validate(t *testing.T) {
	cases := map[string]struct {
		mutate func(*Options)
		want   string
	}{
		"defaults are valid":             {mutate: func(*Options) {}},
		"zero release concurrency":       {mutate: func(o *Options) { o.ReleaseConcurrency = 0 }, want: "--release-concurrency must be at least 1"},
		"negative chart size":            {mutate: func(o *Options) { o.Limits.MaxChartSize = -1 }, want: "--max-chart-size must be positive"},
		"zero index cache":               {mutate: func(o *Options) { o.Limits.IndexCacheSize = 0 }, want: "--index-cache-size must be positive, got 0"},
		"negative archive cache":         {mutate: func(o *Options) { o.Limits.ArchiveCacheSize = -5 }, want: "--archive-cache-size must be positive, got -5"},
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

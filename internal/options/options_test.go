package options

import (
	"flag"
	"fmt"
	"io"
	"net/netip"
	"strings"
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

// TestOptions_everyFlagSetsItsField parses every manager flag with a value other than its default
// and checks the setting it names, so that no flag is bound to nothing.
func TestOptions_everyFlagSetsItsField(t *testing.T) {
	cases := map[string]func(o Options) any{
		"--metrics-bind-address=:9090":        func(o Options) any { return o.MetricsAddr },
		"--health-probe-bind-address=:9091":   func(o Options) any { return o.ProbeAddr },
		"--pprof-bind-address=127.0.0.1:6060": func(o Options) any { return o.PprofAddr },
		"--leader-elect=true":                 func(o Options) any { return o.LeaderElection },
		"--leader-election-id=other":          func(o Options) any { return o.LeaderElectionID },
		"--leader-election-namespace=sys":     func(o Options) any { return o.LeaderElectionNamespace },
		"--release-concurrency=9":             func(o Options) any { return o.ReleaseConcurrency },
		"--max-waiting-releases=17":           func(o Options) any { return o.MaxWaitingReleases },
		"--memory-limit=123":                  func(o Options) any { return o.MemoryLimit },
		"--render-memory-budget=456":          func(o Options) any { return o.RenderMemoryBudget },
		"--repository-concurrency=7":          func(o Options) any { return o.RepositoryConcurrency },
		"--max-index-size=11":                 func(o Options) any { return o.Limits.MaxIndexSize },
		"--max-chart-size=12":                 func(o Options) any { return o.Limits.MaxChartSize },
		"--max-decompressed-chart-size=13":    func(o Options) any { return o.Limits.MaxDecompressedSize },
		"--max-chart-file-size=14":            func(o Options) any { return o.Limits.MaxFileSize },
		"--index-cache-size=15":               func(o Options) any { return o.Limits.IndexCacheSize },
		"--archive-cache-size=16":             func(o Options) any { return o.Limits.ArchiveCacheSize },
		"--allow-cross-namespace-refs=true":   func(o Options) any { return o.AllowCrossNamespaceRefs },
		"--deny-private-networks=true":        func(o Options) any { return o.DenyPrivateNetworks },
		"--allow-networks=[10.1.0.0/16]":      func(o Options) any { return fmt.Sprint(o.AllowNetworks) },
		"--default-service-account=capstan":   func(o Options) any { return o.DefaultServiceAccount },
		"--log-format=console":                func(o Options) any { return o.LogFormat },
		"--log-level=debug":                   func(o Options) any { return o.LogLevel },
		"--graceful-shutdown-timeout=1m30s":   func(o Options) any { return o.GracefulShutdownTimeout.String() },
		"--watch-label-selector=team=a":       func(o Options) any { return o.WatchLabelSelector },
		"--shard-name=blue":                   func(o Options) any { return o.ShardName },
		"--foreign-pending-timeout=5m0s":      func(o Options) any { return o.ForeignPendingTimeout.String() },
	}
	fs := flag.NewFlagSet("manager", flag.ContinueOnError)
	o := Defaults()
	o.BindFlags(fs)
	count := 0
	fs.VisitAll(func(*flag.Flag) { count++ })
	NewWithT(t).Expect(cases).To(HaveLen(count), "every flag has a case here")
	for arg, field := range cases {
		t.Run(arg, func(t *testing.T) {
			g := NewWithT(t)
			o := Defaults()
			fs := flag.NewFlagSet("manager", flag.ContinueOnError)
			fs.SetOutput(io.Discard)
			o.BindFlags(fs)
			before := field(Defaults())
			_, value, _ := strings.Cut(arg, "=")
			g.Expect(fs.Parse([]string{strings.NewReplacer("[", "", "]", "").Replace(arg)})).To(Succeed())
			g.Expect(fmt.Sprint(field(o))).To(Equal(value))
			g.Expect(fmt.Sprint(before)).NotTo(Equal(value), "the case uses a value other than the default")
		})
	}
}

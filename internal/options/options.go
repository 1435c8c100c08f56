// Package options holds the manager's settings: the flags main.go binds, their defaults and their
// validation. Controllers receive an Options value instead of reading globals.
package options

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"net/netip"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/validation"
)

// Limits bounds every byte stream Capstan reads (DESIGN §6).
type Limits struct {
	// MaxIndexSize bounds a repository index.yaml download.
	MaxIndexSize int64
	// MaxChartSize bounds a chart archive download.
	MaxChartSize int64
	// MaxDecompressedSize bounds the sum of all bytes decompressed from one chart archive.
	MaxDecompressedSize int64
	// MaxFileSize bounds one file inside a chart.
	MaxFileSize int64
	// IndexCacheSize is the byte budget of the compact repository indexes kept in memory, shared
	// by every ChartRepository and Release.
	IndexCacheSize int64
	// ArchiveCacheSize is the byte budget of the verified chart archives kept in memory.
	ArchiveCacheSize int64
}

// Options are the manager's settings.
type Options struct {
	MetricsAddr string
	ProbeAddr   string
	// PprofAddr serves net/http/pprof for profiling; "" or "0" (the default) serves nothing.
	PprofAddr               string
	LeaderElection          bool
	LeaderElectionID        string
	LeaderElectionNamespace string
	ReleaseConcurrency      int
	// MaxWaitingReleases bounds the installs and upgrades awaiting their objects at once (0: none).
	MaxWaitingReleases int
	// MemoryLimit is the manager's memory limit in bytes; 0 reads GOMEMLIMIT and the cgroup.
	MemoryLimit int64
	// RenderMemoryBudget is one render's memory budget in bytes; 0 derives it (RenderBudget).
	RenderMemoryBudget      int64
	RepositoryConcurrency   int
	Limits                  Limits
	AllowCrossNamespaceRefs bool
	// DenyPrivateNetworks refuses repository connections to loopback, RFC 1918, CGNAT and ULA
	// addresses; link-local and cloud metadata addresses are refused regardless.
	DenyPrivateNetworks bool
	// AllowNetworks are private ranges repositories may still reach under DenyPrivateNetworks.
	AllowNetworks           []netip.Prefix
	DefaultServiceAccount   string
	LogFormat               string
	LogLevel                string
	GracefulShutdownTimeout time.Duration
	// WatchLabelSelector limits the Releases and ChartRepositories this manager sees (and so
	// reconciles) to those whose labels match; empty means all. It is how several managers share
	// a cluster as shards (docs/performance.md).
	WatchLabelSelector string
	// ShardName names this manager's shard in its leader-election Lease; empty derives a name
	// from WatchLabelSelector.
	ShardName             string
	ForeignPendingTimeout time.Duration
}

// ShardLabel is the label the sharding convention keys shards by: a manager started with
// --watch-label-selector=sharding.capstan.dev/key=shard1 owns the objects labelled shard1, one
// started with --watch-label-selector='!sharding.capstan.dev/key' owns the unlabelled rest.
const ShardLabel = "sharding.capstan.dev/key"

const mib = 1 << 20

// DefaultMaxWaitingReleases is --max-waiting-releases' default: enough Releases rolling out at once
// to keep a cluster that makes 8 Deployments a second available busy with 30-second rollouts,
// few enough that on this project's 2-core kwok cluster (about 3 a second) a wait lasts about a
// minute and a half, well inside the default 5-minute timeout.
const DefaultMaxWaitingReleases = 256

// Defaults returns the settings Capstan runs with when no flag is given.
func Defaults() Options {
	return Options{
		MetricsAddr:             ":8080",
		ProbeAddr:               ":8081",
		LeaderElectionID:        "capstan.capstan.dev",
		ReleaseConcurrency:      4,
		MaxWaitingReleases:      DefaultMaxWaitingReleases,
		RepositoryConcurrency:   2,
		Limits:                  defaultLimits(),
		LogFormat:               "json",
		LogLevel:                "info",
		GracefulShutdownTimeout: 30 * time.Second,
		ForeignPendingTimeout:   15 * time.Minute,
	}
}

// defaultLimits are the byte limits of DESIGN §6 and the cache budgets the render memory budget
// reserves room for.
func defaultLimits() Limits {
	return Limits{MaxIndexSize: 50 * mib, MaxChartSize: 10 * mib, MaxDecompressedSize: 100 * mib, MaxFileSize: 5 * mib,
		IndexCacheSize: 128 * mib, ArchiveCacheSize: 256 * mib}
}

// BindFlags registers every setting on fs, with o's current values as defaults.
func (o *Options) BindFlags(fs *flag.FlagSet) {
	fs.StringVar(&o.MetricsAddr, "metrics-bind-address", o.MetricsAddr, "Address the Prometheus metrics endpoint binds to; \"0\" disables it.")
	fs.StringVar(&o.ProbeAddr, "health-probe-bind-address", o.ProbeAddr, "Address the /healthz and /readyz endpoints bind to.")
	fs.StringVar(&o.PprofAddr, "pprof-bind-address", o.PprofAddr, "Address Go's /debug/pprof/ profiling endpoints bind to (\"0\" or empty, the default: not served). Bind it to loopback: profiles show memory contents' shape, not Secrets, but are not for tenants.")
	fs.BoolVar(&o.LeaderElection, "leader-elect", o.LeaderElection, "Elect a leader so that only one replica reconciles at a time.")
	fs.StringVar(&o.LeaderElectionID, "leader-election-id", o.LeaderElectionID, "Name of the Lease used for leader election.")
	fs.StringVar(&o.LeaderElectionNamespace, "leader-election-namespace", o.LeaderElectionNamespace, "Namespace of the leader-election Lease (default: the manager's namespace).")
	fs.IntVar(&o.ReleaseConcurrency, "release-concurrency", o.ReleaseConcurrency, "How many Releases are reconciled at once.")
	fs.IntVar(&o.MaxWaitingReleases, "max-waiting-releases", o.MaxWaitingReleases, "How many installs and upgrades may wait at once for their objects to become ready; past it a Release waits in line before applying anything (0: no bound).")
	fs.Int64Var(&o.MemoryLimit, "memory-limit", o.MemoryLimit, "The manager's memory limit in bytes, from which the render memory budget is derived (0: the smaller of GOMEMLIMIT and the cgroup's limit, else 1 GiB is assumed).")
	fs.Int64Var(&o.RenderMemoryBudget, "render-memory-budget", o.RenderMemoryBudget, "Memory one render may use, in bytes (0: derived from the memory limit and --release-concurrency, see docs/engine.md).")
	fs.IntVar(&o.RepositoryConcurrency, "repository-concurrency", o.RepositoryConcurrency, "How many ChartRepositories are reconciled at once.")
	fs.Int64Var(&o.Limits.MaxIndexSize, "max-index-size", o.Limits.MaxIndexSize, "Largest repository index, in bytes.")
	fs.Int64Var(&o.Limits.MaxChartSize, "max-chart-size", o.Limits.MaxChartSize, "Largest chart archive, in bytes.")
	fs.Int64Var(&o.Limits.MaxDecompressedSize, "max-decompressed-chart-size", o.Limits.MaxDecompressedSize, "Largest total size of a decompressed chart, in bytes.")
	fs.Int64Var(&o.Limits.MaxFileSize, "max-chart-file-size", o.Limits.MaxFileSize, "Largest single file inside a chart, in bytes.")
	fs.Int64Var(&o.Limits.IndexCacheSize, "index-cache-size", o.Limits.IndexCacheSize, "Memory for parsed repository indexes shared by all repositories, in bytes (least recently used out first).")
	fs.Int64Var(&o.Limits.ArchiveCacheSize, "archive-cache-size", o.Limits.ArchiveCacheSize, "Memory for verified chart archives shared by all Releases, in bytes (least recently used out first).")
	fs.BoolVar(&o.AllowCrossNamespaceRefs, "allow-cross-namespace-refs", o.AllowCrossNamespaceRefs, "Allow a Release to reference a ChartRepository or Release in another namespace.")
	fs.BoolVar(&o.DenyPrivateNetworks, "deny-private-networks", o.DenyPrivateNetworks,
		"Refuse repository connections to loopback, RFC 1918, CGNAT and unique local addresses (link-local and cloud metadata addresses are always refused).")
	fs.Func("allow-networks", "Comma-separated CIDRs (or addresses) repositories may reach despite --deny-private-networks, such as in-cluster chart servers; never opens link-local or metadata addresses.",
		func(v string) error {
			prefixes, err := ParseNetworks(v)
			o.AllowNetworks = append(o.AllowNetworks, prefixes...)
			return err
		})
	fs.StringVar(&o.DefaultServiceAccount, "default-service-account", o.DefaultServiceAccount, "Service account to impersonate for Releases that name none (empty: the manager's own identity).")
	fs.StringVar(&o.LogFormat, "log-format", o.LogFormat, "Log format: json or console.")
	fs.StringVar(&o.LogLevel, "log-level", o.LogLevel, "Log level: error, info or debug.")
	fs.DurationVar(&o.GracefulShutdownTimeout, "graceful-shutdown-timeout", o.GracefulShutdownTimeout, "How long running reconciles may take to finish on shutdown.")
	fs.StringVar(&o.WatchLabelSelector, "watch-label-selector", o.WatchLabelSelector,
		"Only watch and reconcile Releases and ChartRepositories whose labels match this selector, such as "+ShardLabel+"=shard1, or '!"+ShardLabel+"' for the unsharded rest (empty: all).")
	fs.StringVar(&o.ShardName, "shard-name", o.ShardName, "Name of this manager's shard, appended to the leader-election ID (default: derived from --watch-label-selector).")
	fs.DurationVar(&o.ForeignPendingTimeout, "foreign-pending-timeout", o.ForeignPendingTimeout, "How long a pending revision written by another tool (helm) is waited on before it is marked failed.")
}

// WatchSelector parses WatchLabelSelector; it returns nil when the manager watches everything.
func (o *Options) WatchSelector() (labels.Selector, error) {
	if strings.TrimSpace(o.WatchLabelSelector) == "" {
		return nil, nil //nolint:nilnil // no selector is a valid answer: watch everything.
	}
	sel, err := labels.Parse(o.WatchLabelSelector)
	if err != nil {
		return nil, fmt.Errorf("--watch-label-selector %q: %w", o.WatchLabelSelector, err)
	}
	return sel, nil
}

// ShardLeaderElectionID is the Lease name this manager elects its leader on: LeaderElectionID,
// followed by the shard's name when it is a shard, so that each shard has its own leader.
// Without --shard-name the name is derived from the selector: its value when the selector is
// the convention's ShardLabel=<value>, "default" for !ShardLabel, else a digest of the selector.
func (o *Options) ShardLeaderElectionID() string {
	name := o.ShardName
	if name == "" {
		name = shardNameOf(strings.TrimSpace(o.WatchLabelSelector))
	}
	if name == "" {
		return o.LeaderElectionID
	}
	return o.LeaderElectionID + "-" + name
}

func shardNameOf(selector string) string {
	switch {
	case selector == "":
		return ""
	case strings.ReplaceAll(selector, " ", "") == "!"+ShardLabel:
		return "default"
	}
	if v, ok := strings.CutPrefix(strings.ReplaceAll(selector, " ", ""), ShardLabel+"="); ok && len(validation.IsDNS1123Label(v)) == 0 {
		return v
	}
	sum := sha256.Sum256([]byte(selector))
	return "shard-" + hex.EncodeToString(sum[:5])
}

// Validate reports every setting that cannot work, joined into one error.
func (o *Options) Validate() error {
	var errs []error
	if o.MaxWaitingReleases < 0 {
		errs = append(errs, fmt.Errorf("--max-waiting-releases must be 0 (no bound) or more, got %d", o.MaxWaitingReleases))
	}
	if o.ReleaseConcurrency < 1 {
		errs = append(errs, fmt.Errorf("--release-concurrency must be at least 1, got %d", o.ReleaseConcurrency))
	}
	if o.RepositoryConcurrency < 1 {
		errs = append(errs, fmt.Errorf("--repository-concurrency must be at least 1, got %d", o.RepositoryConcurrency))
	}
	if o.MemoryLimit < 0 || o.RenderMemoryBudget < 0 {
		errs = append(errs, fmt.Errorf("--memory-limit and --render-memory-budget must not be negative, got %d and %d", o.MemoryLimit, o.RenderMemoryBudget))
	}
	for name, v := range map[string]int64{
		"--max-index-size": o.Limits.MaxIndexSize, "--max-chart-size": o.Limits.MaxChartSize,
		"--max-decompressed-chart-size": o.Limits.MaxDecompressedSize, "--max-chart-file-size": o.Limits.MaxFileSize,
		"--index-cache-size": o.Limits.IndexCacheSize, "--archive-cache-size": o.Limits.ArchiveCacheSize,
	} {
		if v <= 0 {
			errs = append(errs, fmt.Errorf("%s must be positive, got %d", name, v))
		}
	}
	if o.ForeignPendingTimeout <= 0 {
		errs = append(errs, fmt.Errorf("--foreign-pending-timeout must be positive, got %s", o.ForeignPendingTimeout))
	}
	if o.LogFormat != "json" && o.LogFormat != "console" {
		errs = append(errs, fmt.Errorf("--log-format must be json or console, got %q", o.LogFormat))
	}
	switch o.LogLevel {
	case "error", "info", "debug":
	default:
		errs = append(errs, fmt.Errorf("--log-level must be error, info or debug, got %q", o.LogLevel))
	}
	if _, err := o.WatchSelector(); err != nil {
		errs = append(errs, err)
	}
	if o.ShardName != "" {
		if msgs := validation.IsDNS1123Label(o.ShardName); len(msgs) > 0 {
			errs = append(errs, fmt.Errorf("--shard-name %q: %s", o.ShardName, strings.Join(msgs, "; ")))
		}
	}
	return errors.Join(errs...)
}

// ParseNetworks reads a comma-separated list of CIDRs or single addresses.
func ParseNetworks(v string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, f := range strings.Split(v, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		if p, err := netip.ParsePrefix(f); err == nil {
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(f)
		if err != nil {
			return out, fmt.Errorf("%q is neither a CIDR nor an IP address", f)
		}
		out = append(out, netip.PrefixFrom(a, a.BitLen()))
	}
	return out, nil
}

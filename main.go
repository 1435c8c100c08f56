// Command manager runs Capstan's controllers: it reconciles ChartRepository and Release objects,
// turning them into fetched charts, rendered manifests, applied objects and recorded revisions.
package main

import (
	"flag"
	"fmt"
	"os"
	"runtime/debug"

	"go.uber.org/zap/zapcore"
	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	capstanv1 "github.com/capstan-dev/capstan/api/v1alpha1"
	"github.com/capstan-dev/capstan/controllers"
	"github.com/capstan-dev/capstan/internal/options"
	"github.com/capstan-dev/capstan/internal/version"
)

func newScheme() *runtime.Scheme {
	scheme := runtime.NewScheme()
	utilruntime.Must(clientgoscheme.AddToScheme(scheme))
	utilruntime.Must(capstanv1.AddToScheme(scheme))
	return scheme
}

func newLogger(o options.Options) zap.Opts {
	return func(zo *zap.Options) {
		zo.Development = o.LogFormat == "console"
		if o.LogFormat == "json" {
			zo.Encoder = zapcore.NewJSONEncoder(zapcore.EncoderConfig{
				TimeKey: "ts", LevelKey: "level", NameKey: "logger", MessageKey: "msg",
				EncodeTime: zapcore.ISO8601TimeEncoder, EncodeLevel: zapcore.LowercaseLevelEncoder,
				EncodeDuration: zapcore.StringDurationEncoder,
			})
		}
		switch o.LogLevel {
		case "debug":
			zo.Level = zapcore.DebugLevel
		case "error":
			zo.Level = zapcore.ErrorLevel
		default:
			zo.Level = zapcore.InfoLevel
		}
	}
}

// gcPercent is the manager's garbage collection target unless GOGC is set: the heap may grow to
// 1.5 times what is live before a collection, not twice. Most of what the manager keeps lives as
// long as it does (its caches, the parked waits), so the default target let a large share of its
// anonymous memory be garbage awaiting collection. The CPU this costs is small once records no
// longer allocate a compressor each (docs/performance.md, "Memory: the garbage collector's
// target": at 1,000 installs, peak RSS 112 -> 94 MiB at 0.021 CPU-seconds per Release).
const gcPercent = 50

// setGCPercent applies gcPercent unless getenv("GOGC") says otherwise, and returns the target in
// force.
func setGCPercent(getenv func(string) string) int {
	if getenv("GOGC") != "" {
		old := debug.SetGCPercent(-1)
		debug.SetGCPercent(old)
		return old
	}
	debug.SetGCPercent(gcPercent)
	return gcPercent
}

func run() error {
	setGCPercent(os.Getenv)
	opts := options.Defaults()
	opts.BindFlags(flag.CommandLine)
	// --version is the binary's, not an option of the controllers, so it is bound here.
	showVersion := flag.Bool("version", false, "print the version, git commit and build date, then exit")
	flag.Parse()
	if *showVersion {
		_, err := fmt.Println("capstan manager", version.Get())
		return err
	}
	if err := opts.Validate(); err != nil {
		return err
	}
	ctrl.SetLogger(zap.New(newLogger(opts)))

	cacheOpts, err := controllers.CacheOptions(opts)
	if err != nil {
		return err
	}
	timeout := opts.GracefulShutdownTimeout
	mgr, err := ctrl.NewManager(ctrl.GetConfigOrDie(), ctrl.Options{
		Scheme:                        newScheme(),
		Cache:                         cacheOpts,
		Metrics:                       metricsserver.Options{BindAddress: opts.MetricsAddr},
		HealthProbeBindAddress:        opts.ProbeAddr,
		PprofBindAddress:              opts.PprofAddr,
		LeaderElection:                opts.LeaderElection,
		LeaderElectionID:              opts.ShardLeaderElectionID(),
		LeaderElectionNamespace:       opts.LeaderElectionNamespace,
		LeaderElectionReleaseOnCancel: true,
		GracefulShutdownTimeout:       &timeout,
	})
	if err != nil {
		return fmt.Errorf("creating the manager: %w", err)
	}
	if err := controllers.Setup(mgr, opts); err != nil {
		return fmt.Errorf("setting up controllers: %w", err)
	}
	if err := mgr.AddHealthzCheck("healthz", healthz.Ping); err != nil {
		return fmt.Errorf("adding the health check: %w", err)
	}
	if err := mgr.AddReadyzCheck("readyz", healthz.Ping); err != nil {
		return fmt.Errorf("adding the readiness check: %w", err)
	}
	ctrl.Log.WithName("setup").Info("starting manager", "watchLabelSelector", opts.WatchLabelSelector,
		"leaderElectionID", opts.ShardLeaderElectionID())
	if err := mgr.Start(ctrl.SetupSignalHandler()); err != nil {
		return fmt.Errorf("running the manager: %w", err)
	}
	return nil
}

func main() {
	if err := run(); err != nil {
		fmt.Fprintf(os.Stderr, "capstan manager: %v\n", err)
		os.Exit(1)
	}
}

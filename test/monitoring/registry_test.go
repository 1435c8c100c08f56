package monitoring

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-logr/logr"
	. "github.com/onsi/gomega"
	dto "github.com/prometheus/client_model/go"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/metrics"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	capstanv1 "github.com/capstan-dev/capstan/api/v1alpha1"
	"github.com/capstan-dev/capstan/controllers"
	"github.com/capstan-dev/capstan/internal/chart"
	"github.com/capstan-dev/capstan/internal/options"
	"github.com/capstan-dev/capstan/internal/repo"
	"github.com/capstan-dev/capstan/internal/testenv"
)

// documentedPrefixes are the metric families the reference in docs/operations.md lists: Capstan's
// own and the controller-runtime ones the kit uses (Go runtime and process metrics are left out).
var documentedPrefixes = []string{"capstan_", "controller_runtime_", "workqueue_", "rest_client_", "leader_election_"}

// sometimes are families that appear only after an event a short run may or may not see, left out
// of the table so that it does not flap (docs/operations.md names them under the table).
var sometimes = map[string]bool{"leader_election_slowpath_total": true}

// Markers around the generated table in docs/operations.md.
const (
	docBegin = "<!-- metrics:begin (generated from the registry by test/monitoring: make metrics-doc) -->"
	docEnd   = "<!-- metrics:end -->"
)

// TestMetrics_exportedByTheManager runs the controllers on envtest as main.go sets them up (leader
// election on), reconciles a ChartRepository and a Release, gathers controller-runtime's registry
// and checks that every metric and label the dashboard and the rules name is there. It then
// compares the metric reference of docs/operations.md with the registry (CAPSTAN_UPDATE_DOCS=1
// rewrites it).
func TestMetrics_exportedByTheManager(t *testing.T) {
	g := NewWithT(t)
	kit, err := Load(kitDir)
	g.Expect(err).NotTo(HaveOccurred())
	families := gatherAfterReconciles(t)

	for _, e := range kit.Exprs {
		for _, s := range e.Selectors {
			f, labels := lookup(families, s.Metric)
			if f == nil {
				t.Errorf("%s reads %s, which the manager does not export", e.Where, s.Metric)
				continue
			}
			for _, l := range s.Labels {
				if !labels[l] {
					t.Errorf("%s matches on label %q of %s, which has labels %v", e.Where, l, s.Metric, sortedKeys(labels))
				}
			}
		}
	}

	table := referenceTable(families)
	docPath := filepath.Join(testenv.RepoRoot(), "docs", "operations.md")
	doc, err := os.ReadFile(docPath)
	g.Expect(err).NotTo(HaveOccurred())
	before, rest, ok := strings.Cut(string(doc), docBegin+"\n")
	g.Expect(ok).To(BeTrue(), "docs/operations.md has no %q marker", docBegin)
	_, after, ok := strings.Cut(rest, docEnd)
	g.Expect(ok).To(BeTrue(), "docs/operations.md has no %q marker", docEnd)
	want := before + docBegin + "\n" + table + docEnd + after
	if os.Getenv("CAPSTAN_UPDATE_DOCS") != "" {
		g.Expect(os.WriteFile(docPath, []byte(want), 0o600)).To(Succeed())
		return
	}
	g.Expect(string(doc)).To(Equal(want), "the metric reference of docs/operations.md is stale: run make metrics-doc")
}

// gatherAfterReconciles starts envtest and the manager, waits for a ChartRepository and a Release
// to become Ready, and gathers the registry.
func gatherAfterReconciles(t *testing.T) map[string]*dto.MetricFamily {
	g := NewWithT(t)
	ctrl.SetLogger(logr.Discard())
	env, cfg, err := testenv.Start(filepath.Join("config", "crd", "bases"))
	g.Expect(err).NotTo(HaveOccurred())
	t.Cleanup(func() { _ = env.Stop() })
	scheme := runtime.NewScheme()
	g.Expect(clientgoscheme.AddToScheme(scheme)).To(Succeed())
	g.Expect(capstanv1.AddToScheme(scheme)).To(Succeed())
	c, err := client.New(cfg, client.Options{Scheme: scheme})
	g.Expect(err).NotTo(HaveOccurred())

	opts := options.Defaults()
	opts.LeaderElection, opts.LeaderElectionNamespace = true, "default"
	cacheOpts, err := controllers.CacheOptions(opts)
	g.Expect(err).NotTo(HaveOccurred())
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Scheme: scheme, Cache: cacheOpts, Metrics: metricsserver.Options{BindAddress: "0"}, HealthProbeBindAddress: "0",
		LeaderElection: true, LeaderElectionID: opts.ShardLeaderElectionID(), LeaderElectionNamespace: "default",
		LeaderElectionReleaseOnCancel: true,
	})
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(controllers.Setup(mgr, opts)).To(Succeed())
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- mgr.Start(ctx) }()
	t.Cleanup(func() { cancel(); <-done })

	url := serveChart(t)
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "metrics"}}
	g.Expect(c.Create(ctx, ns)).To(Succeed())
	g.Expect(c.Create(ctx, &capstanv1.ChartRepository{ObjectMeta: metav1.ObjectMeta{Name: "charts", Namespace: "metrics"},
		Spec: capstanv1.ChartRepositorySpec{URL: url}})).To(Succeed())
	rel := &capstanv1.Release{ObjectMeta: metav1.ObjectMeta{Name: "note", Namespace: "metrics"},
		Spec: capstanv1.ReleaseSpec{Chart: capstanv1.ChartTemplate{RepositoryRef: capstanv1.RepositoryReference{Name: "charts"}, Name: "note"}}}
	g.Expect(c.Create(ctx, rel)).To(Succeed())
	g.Eventually(func(g Gomega) {
		g.Expect(c.Get(ctx, client.ObjectKeyFromObject(rel), rel)).To(Succeed())
		g.Expect(meta(rel.Status.Conditions, capstanv1.ReadyCondition)).To(Equal(metav1.ConditionTrue))
	}).WithTimeout(60 * time.Second).WithPolling(200 * time.Millisecond).Should(Succeed())

	gathered, err := metrics.Registry.Gather()
	g.Expect(err).NotTo(HaveOccurred())
	families := map[string]*dto.MetricFamily{}
	for _, f := range gathered {
		families[f.GetName()] = f
	}
	return families
}

func meta(conds []metav1.Condition, typ string) metav1.ConditionStatus {
	for _, c := range conds {
		if c.Type == typ {
			return c.Status
		}
	}
	return ""
}

// lookup finds the family a series name belongs to (histograms and summaries export _bucket,
// _count and _sum series) and the labels its series may carry.
func lookup(families map[string]*dto.MetricFamily, series string) (*dto.MetricFamily, map[string]bool) {
	f := families[series]
	extra := ""
	if f == nil {
		for _, suffix := range []string{"_bucket", "_count", "_sum"} {
			if base, ok := strings.CutSuffix(series, suffix); ok {
				if f = families[base]; f != nil {
					if suffix == "_bucket" {
						extra = "le"
					}
					break
				}
			}
		}
	}
	if f == nil {
		return nil, nil
	}
	labels := labelNames(f)
	if extra != "" {
		labels[extra] = true
	}
	return f, labels
}

func labelNames(f *dto.MetricFamily) map[string]bool {
	labels := map[string]bool{}
	for _, m := range f.GetMetric() {
		for _, l := range m.GetLabel() {
			labels[l.GetName()] = true
		}
	}
	return labels
}

// referenceTable is the metric reference: one row per documented family, sorted by name.
func referenceTable(families map[string]*dto.MetricFamily) string {
	var names []string
	for name := range families {
		if sometimes[name] {
			continue
		}
		for _, p := range documentedPrefixes {
			if strings.HasPrefix(name, p) {
				names = append(names, name)
				break
			}
		}
	}
	slices.Sort(names)
	var b strings.Builder
	b.WriteString("| metric | type | labels | meaning |\n|---|---|---|---|\n")
	for _, name := range names {
		f := families[name]
		labels := sortedKeys(labelNames(f))
		for i, l := range labels {
			labels[i] = "`" + l + "`"
		}
		fmt.Fprintf(&b, "| `%s` | %s | %s | %s |\n", name, strings.ToLower(f.GetType().String()),
			strings.Join(labels, ", "), strings.ReplaceAll(f.GetHelp(), "|", `\|`))
	}
	return b.String()
}

func sortedKeys(m map[string]bool) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// serveChart packages a one-ConfigMap chart and serves it with its index.
func serveChart(t *testing.T) string {
	g := NewWithT(t)
	src, out := t.TempDir(), t.TempDir()
	g.Expect(os.MkdirAll(filepath.Join(src, "templates"), 0o755)).To(Succeed())
	g.Expect(os.WriteFile(filepath.Join(src, "Chart.yaml"), []byte("apiVersion: v2\nname: note\nversion: 1.0.0\n"), 0o600)).To(Succeed())
	g.Expect(os.WriteFile(filepath.Join(src, "templates", "cm.yaml"),
		[]byte("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}\ndata:\n  k: v\n"), 0o600)).To(Succeed())
	_, err := chart.Package(src, out, chart.PackageOptions{})
	g.Expect(err).NotTo(HaveOccurred())
	index, err := repo.IndexDirectory(out, "", "")
	g.Expect(err).NotTo(HaveOccurred())
	archive, err := os.ReadFile(filepath.Join(out, "note-1.0.0.tgz"))
	g.Expect(err).NotTo(HaveOccurred())
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/index.yaml":
			_, _ = w.Write(index)
		case "/note-1.0.0.tgz":
			_, _ = w.Write(archive)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

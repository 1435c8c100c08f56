package controllers_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	. "github.com/onsi/gomega"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	capstanv1 "github.com/capstan-dev/capstan/api/v1alpha1"
	"github.com/capstan-dev/capstan/controllers"
	"github.com/capstan-dev/capstan/internal/apply"
	"github.com/capstan-dev/capstan/internal/chart"
	"github.com/capstan-dev/capstan/internal/health"
	"github.com/capstan-dev/capstan/internal/reconcile"
	"github.com/capstan-dev/capstan/internal/repo"
	"github.com/capstan-dev/capstan/internal/storage"
)

// apiCalls counts the mutating calls (dry-runs excluded) and the record lists per namespace,
// and injects faults into record creation.
type apiCalls struct {
	mu     sync.Mutex
	writes map[string][]string
	lists  map[string]int
	// failRecordCreates is, per namespace, how many release record creations to answer with
	// AlreadyExists (another writer got there first) before letting them through.
	failRecordCreates map[string]int
	// failDeletes is, per object name, how many deletions to answer with an internal error.
	failDeletes map[string]int
}

func newAPICalls() *apiCalls {
	return &apiCalls{writes: map[string][]string{}, lists: map[string]int{}, failRecordCreates: map[string]int{},
		failDeletes: map[string]int{}}
}

// reset forgets what was counted in a namespace.
func (a *apiCalls) reset(ns string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	delete(a.writes, ns)
	delete(a.lists, ns)
}

// writesIn returns the mutating calls made in a namespace.
func (a *apiCalls) writesIn(ns string) []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]string(nil), a.writes[ns]...)
}

// listsIn returns how many times release records were listed in a namespace.
func (a *apiCalls) listsIn(ns string) int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.lists[ns]
}

// injectRecordConflicts makes the next n record creations in ns fail with AlreadyExists.
func (a *apiCalls) injectRecordConflicts(ns string, n int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.failRecordCreates[ns] = n
}

// injectDeleteFailures makes the next n deletions of objects with this name fail.
func (a *apiCalls) injectDeleteFailures(name string, n int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.failDeletes[name] = n
}

// takeDeleteFault reports whether this deletion should fail.
func (a *apiCalls) takeDeleteFault(obj client.Object) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.failDeletes[obj.GetName()] > 0 {
		a.failDeletes[obj.GetName()]--
		return true
	}
	return false
}

func (a *apiCalls) write(ns, what string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.writes[ns] = append(a.writes[ns], what)
}

// takeFault reports whether this record creation should fail.
func (a *apiCalls) takeFault(obj client.Object) bool {
	if !strings.HasPrefix(obj.GetName(), storage.NamePrefix) {
		return false
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.failRecordCreates[obj.GetNamespace()] > 0 {
		a.failRecordCreates[obj.GetNamespace()]--
		return true
	}
	return false
}

func describe(verb string, obj client.Object) string {
	return fmt.Sprintf("%s %T %s", verb, obj, obj.GetName())
}

func (a *apiCalls) funcs() interceptor.Funcs {
	return interceptor.Funcs{
		Create: func(ctx context.Context, c client.WithWatch, obj client.Object, opts ...client.CreateOption) error {
			o := (&client.CreateOptions{}).ApplyOptions(opts)
			if len(o.DryRun) == 0 {
				if a.takeFault(obj) {
					return apierrors.NewAlreadyExists(schema.GroupResource{Resource: "secrets"}, obj.GetName())
				}
				a.write(obj.GetNamespace(), describe("create", obj))
			}
			return c.Create(ctx, obj, opts...)
		},
		Update: func(ctx context.Context, c client.WithWatch, obj client.Object, opts ...client.UpdateOption) error {
			if o := (&client.UpdateOptions{}).ApplyOptions(opts); len(o.DryRun) == 0 {
				a.write(obj.GetNamespace(), describe("update", obj))
			}
			return c.Update(ctx, obj, opts...)
		},
		Patch: func(ctx context.Context, c client.WithWatch, obj client.Object, p client.Patch, opts ...client.PatchOption) error {
			if o := (&client.PatchOptions{}).ApplyOptions(opts); len(o.DryRun) == 0 {
				a.write(obj.GetNamespace(), describe("patch", obj))
			}
			return c.Patch(ctx, obj, p, opts...)
		},
		Apply: func(ctx context.Context, c client.WithWatch, obj runtime.ApplyConfiguration, opts ...client.ApplyOption) error {
			if o := (&client.ApplyOptions{}).ApplyOptions(opts); len(o.DryRun) == 0 {
				ns := ""
				if n, ok := obj.(interface{ GetNamespace() string }); ok {
					ns = n.GetNamespace()
				}
				a.write(ns, fmt.Sprintf("apply %T", obj))
			}
			return c.Apply(ctx, obj, opts...)
		},
		Delete: func(ctx context.Context, c client.WithWatch, obj client.Object, opts ...client.DeleteOption) error {
			if o := (&client.DeleteOptions{}).ApplyOptions(opts); len(o.DryRun) == 0 {
				if a.takeDeleteFault(obj) {
					return apierrors.NewInternalError(errors.New("injected failure"))
				}
				a.write(obj.GetNamespace(), describe("delete", obj))
			}
			return c.Delete(ctx, obj, opts...)
		},
		SubResourcePatch: func(ctx context.Context, c client.Client, sub string, obj client.Object, p client.Patch, opts ...client.SubResourcePatchOption) error {
			a.write(obj.GetNamespace(), describe("patch/"+sub, obj))
			return c.SubResource(sub).Patch(ctx, obj, p, opts...)
		},
		SubResourceUpdate: func(ctx context.Context, c client.Client, sub string, obj client.Object, opts ...client.SubResourceUpdateOption) error {
			a.write(obj.GetNamespace(), describe("update/"+sub, obj))
			return c.SubResource(sub).Update(ctx, obj, opts...)
		},
		List: func(ctx context.Context, c client.WithWatch, list client.ObjectList, opts ...client.ListOption) error {
			o := (&client.ListOptions{}).ApplyOptions(opts)
			if o.LabelSelector != nil && strings.Contains(o.LabelSelector.String(), storage.LabelOwner+"="+storage.Owner) {
				a.mu.Lock()
				a.lists[o.Namespace]++
				a.mu.Unlock()
			}
			return c.List(ctx, list, opts...)
		},
	}
}

// chartServer is a local HTTP chart repository. It serves files from memory without
// validators, so a republished index is always seen at once.
type chartServer struct {
	mu    sync.Mutex
	files map[string][]byte
	dir   string
	srv   *httptest.Server
}

func newChartServer() *chartServer {
	dir, err := os.MkdirTemp("", "capstan-charts-")
	Expect(err).NotTo(HaveOccurred())
	cs := &chartServer{files: map[string][]byte{}, dir: dir}
	cs.srv = httptest.NewServer(http.HandlerFunc(cs.serve))
	return cs
}

func (cs *chartServer) serve(w http.ResponseWriter, r *http.Request) {
	cs.mu.Lock()
	data, ok := cs.files[strings.TrimPrefix(r.URL.Path, "/")]
	cs.mu.Unlock()
	if !ok {
		http.NotFound(w, r)
		return
	}
	_, _ = w.Write(data)
}

// URL is the repository's address.
func (cs *chartServer) URL() string { return cs.srv.URL }

// Close stops the server and removes the packaged charts.
func (cs *chartServer) Close() {
	cs.srv.Close()
	_ = os.RemoveAll(cs.dir)
}

// publish packages testdata/charts/<name> at each version and regenerates the index.
func (cs *chartServer) publish(name string, versions ...string) {
	for _, v := range versions {
		_, err := chart.Package(filepath.Join("testdata", "charts", name), cs.dir, chart.PackageOptions{Version: v})
		Expect(err).NotTo(HaveOccurred())
	}
	index, err := repo.IndexDirectory(cs.dir, "", "")
	Expect(err).NotTo(HaveOccurred())
	entries, err := os.ReadDir(cs.dir)
	Expect(err).NotTo(HaveOccurred())
	cs.mu.Lock()
	defer cs.mu.Unlock()
	for _, e := range entries {
		data, err := os.ReadFile(filepath.Join(cs.dir, e.Name()))
		Expect(err).NotTo(HaveOccurred())
		cs.files[e.Name()] = data
	}
	cs.files["index.yaml"] = index
}

// archive returns the path of a packaged chart.
func (cs *chartServer) archive(name, version string) string {
	return filepath.Join(cs.dir, name+"-"+version+".tgz")
}

// repoSource is the chart source of the tests, straight on internal/repo.
type repoSource struct {
	indexes  *repo.IndexCache
	archives *repo.ArchiveCache

	mu      sync.Mutex
	fetches map[string]int // chart fetches (one per render) by the Release's namespace
}

func newRepoSource() *repoSource {
	return &repoSource{indexes: repo.NewIndexCache(0), archives: repo.NewArchiveCache(64 << 20), fetches: map[string]int{}}
}

// fetchesIn counts the chart fetches made for Releases in namespace ns: one per render.
func (s *repoSource) fetchesIn(ns string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.fetches[ns]
}

func (s *repoSource) open(cr *capstanv1.ChartRepository) (repo.Source, error) {
	return repo.New(cr.Spec.URL, repo.Options{IndexCache: s.indexes, ArchiveCache: s.archives, Timeout: 10 * time.Second,
		PlainHTTP: cr.Spec.PlainHTTP})
}

func (s *repoSource) Resolve(ctx context.Context, cr *capstanv1.ChartRepository, name, constraint string) (string, string, error) {
	src, err := s.open(cr)
	if err != nil {
		return "", "", err
	}
	cv, err := src.Resolve(ctx, name, constraint)
	if err != nil {
		return "", "", err
	}
	return cv.Version, cv.Digest, nil
}

func (s *repoSource) Fetch(ctx context.Context, cr *capstanv1.ChartRepository, name, version string) ([]byte, error) {
	s.mu.Lock()
	s.fetches[cr.Namespace]++
	s.mu.Unlock()
	src, err := s.open(cr)
	if err != nil {
		return nil, err
	}
	cv, err := src.Resolve(ctx, name, version)
	if err != nil {
		return nil, err
	}
	return src.Fetch(ctx, cv)
}

// nameWaiter stands in for the health waiter: objects whose name contains "unhealthy" never
// become healthy, objects whose name starts with a closed gate's prefix are in progress until the
// gate opens, and everything else is healthy at once. It counts its looks. A wait that includes
// an object whose name contains "celhealth" looks with the real health checker instead, so
// spec.healthChecks decide.
type nameWaiter struct{ c client.WithWatch }

var (
	// gates holds the closed gates: an object whose name has one as prefix is not ready.
	gates sync.Map
	// looks counts the waiter's looks at gated objects.
	looks atomic.Int64
)

func (w nameWaiter) Look(ctx context.Context, pending []apply.ObjectRef, last health.Report) (health.Report, error) {
	for _, r := range pending {
		if strings.Contains(r.Name, "celhealth") {
			return controllers.NewHealthWaiter(w.c).Look(ctx, pending, last)
		}
	}
	report := health.Report{Checked: max(last.Checked, len(pending))}
	for _, r := range pending {
		if strings.Contains(r.Name, "unhealthy") {
			return health.Report{}, fmt.Errorf("%s did not become ready: it is unhealthy by design", r)
		}
		gated := false
		gates.Range(func(prefix, _ any) bool {
			gated = gated || strings.HasPrefix(r.Namespace+"/"+r.Name, prefix.(string))
			return !gated
		})
		if gated {
			looks.Add(1)
			report.NotReady = append(report.NotReady, health.ObjectStatus{Ref: r, Status: health.InProgress, Message: "the gate is closed"})
		}
	}
	return report, nil
}

// hookLog stands in for the hook runner: it records which hooks ran for which event. A hook whose
// name contains "failing" fails.
type hookLog struct {
	mu   sync.Mutex
	runs map[string][]string
}

func newHookLog() *hookLog { return &hookLog{runs: map[string][]string{}} }

type hookRunner struct {
	log   *hookLog
	owner apply.Owner
}

func (h *hookLog) runner(owner apply.Owner) reconcile.HookRunner {
	return hookRunner{log: h, owner: owner}
}

func (r hookRunner) Run(_ context.Context, event string, hooks []*storage.Hook, _ time.Duration) error {
	r.log.mu.Lock()
	defer r.log.mu.Unlock()
	key := r.owner.Namespace + "/" + r.owner.Name
	for _, h := range hooks {
		for _, e := range h.Events {
			if e != event {
				continue
			}
			r.log.runs[key] = append(r.log.runs[key], event+":"+h.Name)
			if strings.Contains(h.Name, "failing") {
				h.LastRun = storage.HookExecution{StartedAt: time.Now(), CompletedAt: time.Now(), Phase: storage.HookPhaseFailed}
				return fmt.Errorf("%s hook ConfigMap/%s failed: HookFailed: it fails by design", event, h.Name)
			}
			h.LastRun = storage.HookExecution{StartedAt: time.Now(), CompletedAt: time.Now(), Phase: storage.HookPhaseSucceeded}
		}
	}
	return nil
}

// of returns the hook runs of a release.
func (h *hookLog) of(ns, name string) []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), h.runs[ns+"/"+name]...)
}

package chaos

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
)

// Table names of the fault scenarios.
const (
	apiWriteFaults = "api-writes-409-500-429"
	etcdPaused     = "etcd-paused-mid-upgrade"
)

// faultRate is the fraction of the manager's writes the proxy fails while it injects.
const faultRate = 0.2

// apiserverRequestTimeout is the chaos cluster's kube-apiserver --request-timeout, shorter than
// the default minute so that etcdPause outlasts it: requests made during the pause time out at the
// API server (the case a real etcd stall produces), not only wait.
const apiserverRequestTimeout = 15 * time.Second

// etcdPause is how long etcd is stopped, past apiserverRequestTimeout.
const etcdPause = 20 * time.Second

// faultProxy is a plain-HTTP loopback proxy in front of the API server that fails a fraction of
// mutating requests with 409, 500 or 429 while it injects.
type faultProxy struct {
	srv        *httptest.Server
	kubeconfig string
	inject     atomic.Bool
	mu         sync.Mutex
	rng        *rand.Rand
	injected   map[int]int
}

// startFaultProxy serves the proxy and writes a kubeconfig that points at it.
func (h *harness) startFaultProxy(rng *rand.Rand) *faultProxy {
	target, err := url.Parse(h.cluster.Config.Host)
	must(h.t, err)
	transport, err := rest.TransportFor(h.cluster.Config)
	must(h.t, err)
	rp := httputil.NewSingleHostReverseProxy(target)
	rp.Transport = transport
	rp.FlushInterval = -1 // watches stream
	f := &faultProxy{rng: rand.New(rand.NewPCG(rng.Uint64(), 409)), injected: map[int]int{}}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if code := f.fault(r); code != 0 {
			writeStatus(w, code, r)
			return
		}
		rp.ServeHTTP(w, r)
	}))
	h.t.Cleanup(f.srv.Close)
	f.kubeconfig = filepath.Join(h.dir, "fault-proxy.kubeconfig")
	kc := fmt.Sprintf(`apiVersion: v1
kind: Config
clusters:
- name: proxy
  cluster:
    server: %s
contexts:
- name: proxy
  context:
    cluster: proxy
    user: proxy
current-context: proxy
users:
- name: proxy
  user: {}
`, f.srv.URL)
	must(h.t, os.WriteFile(f.kubeconfig, []byte(kc), 0o600))
	return f
}

// fault decides whether to fail a request, and with which code (0 to forward it).
func (f *faultProxy) fault(r *http.Request) int {
	switch r.Method {
	case http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete:
	default:
		return 0
	}
	if !f.inject.Load() {
		return 0
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.rng.Float64() >= faultRate {
		return 0
	}
	code := []int{http.StatusConflict, http.StatusInternalServerError, http.StatusTooManyRequests}[f.rng.IntN(3)]
	f.injected[code]++
	return code
}

// counts describes the faults injected so far.
func (f *faultProxy) counts() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return fmt.Sprintf("409×%d 500×%d 429×%d", f.injected[http.StatusConflict],
		f.injected[http.StatusInternalServerError], f.injected[http.StatusTooManyRequests])
}

// writeStatus answers with a metav1.Status as the API server would.
func writeStatus(w http.ResponseWriter, code int, r *http.Request) {
	st := metav1.Status{
		TypeMeta: metav1.TypeMeta{Kind: "Status", APIVersion: "v1"},
		Status:   metav1.StatusFailure, Code: int32(code),
	}
	switch code {
	case http.StatusConflict:
		st.Reason = metav1.StatusReasonConflict
		st.Message = fmt.Sprintf("Operation cannot be fulfilled on %s: the object has been modified; please apply your changes to the latest version and try again (injected)", r.URL.Path)
	case http.StatusTooManyRequests:
		st.Reason = metav1.StatusReasonTooManyRequests
		st.Message = "too many requests (injected)"
		st.Details = &metav1.StatusDetails{RetryAfterSeconds: 1}
		w.Header().Set("Retry-After", "1")
	default:
		st.Reason = metav1.StatusReasonInternalError
		st.Message = "Internal error occurred: injected"
	}
	body, _ := json.Marshal(st)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_, _ = w.Write(body)
}

// apiFaults drives an install and an upgrade through a proxy that fails a fifth of the manager's
// writes with 409, 500 and 429; once the proxy stops injecting, the Release must settle and the
// invariants hold.
func (h *harness) apiFaults(ctx context.Context, m *model, rng *rand.Rand) outcome {
	f := h.startFaultProxy(rng)
	p := h.startWith(f.kubeconfig, "")
	p.waitLog("Starting workers", 30*time.Second)
	o := outcome{point: apiWriteFaults}
	var ops []string
	f.inject.Store(true)
	if m.exists {
		ops = append(ops, h.operate(ctx, m, opUninstall))
		h.waitSettled(ctx, m, 20*time.Second)
	}
	ops = append(ops, h.operate(ctx, m, opInstall))
	h.waitSettled(ctx, m, 20*time.Second)
	op := opValues
	if rng.IntN(2) == 0 {
		op = opVersion
	}
	ops = append(ops, h.operate(ctx, m, op))
	time.Sleep(time.Duration(2000+rng.IntN(3000)) * time.Millisecond)
	f.inject.Store(false)
	o.op = strings.Join(ops, ", ") + " (" + f.counts() + ")"
	h.settleAndStop(ctx, m, p, &o)
	return o
}

// pauseEtcd stops the cluster's etcd with SIGSTOP while the manager upgrades the model's Release,
// for etcdPause, then resumes it. The same manager process must finish the work.
func (h *harness) pauseEtcd(ctx context.Context, m *model, rng *rand.Rand) outcome {
	data, err := os.ReadFile(filepath.Join(h.cluster.Dir, "run", "etcd.pid"))
	must(h.t, err)
	pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
	must(h.t, err)
	p := h.start("")
	p.waitLog("Starting workers", 30*time.Second)
	o := outcome{point: etcdPaused}
	op := opValues
	if rng.IntN(2) == 0 {
		op = opVersion
	}
	o.op = h.operate(ctx, m, op)
	time.Sleep(time.Duration(rng.IntN(400)) * time.Millisecond) // while the upgrade runs
	must(h.t, syscall.Kill(pid, syscall.SIGSTOP))
	time.Sleep(etcdPause)
	must(h.t, syscall.Kill(pid, syscall.SIGCONT))
	h.settleAndStop(ctx, m, p, &o)
	return o
}

package scale

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

// userHZ is the unit of the CPU times in /proc/<pid>/stat; Linux reports them in USER_HZ, which
// is 100 on every architecture it supports.
const userHZ = 100

// procSample is what /proc says about a process at one moment.
type procSample struct {
	// cpu is user plus system CPU time since the process started.
	cpu time.Duration
	// peakRSS is VmHWM, the largest resident set the process has had, in bytes.
	peakRSS int64
	// anonRSS is RssAnon, the anonymous (heap, stacks) part of the resident set now, in bytes:
	// the resident set less the pages of the binary and other files the process maps.
	anonRSS int64
}

// readProc samples the CPU time and peak RSS of process pid.
func readProc(pid int) (procSample, error) {
	var s procSample
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return s, err
	}
	// The command name (field 2) may hold spaces; the fields after its closing parenthesis
	// start with field 3, so utime (14) and stime (15) are the 12th and 13th of them.
	_, rest, ok := strings.Cut(string(stat), ") ")
	fields := strings.Fields(rest)
	if !ok || len(fields) < 13 {
		return s, fmt.Errorf("unexpected /proc/%d/stat: %q", pid, stat)
	}
	utime, err1 := strconv.ParseInt(fields[11], 10, 64)
	stime, err2 := strconv.ParseInt(fields[12], 10, 64)
	if err1 != nil || err2 != nil {
		return s, fmt.Errorf("unexpected CPU times in /proc/%d/stat: %q", pid, stat)
	}
	s.cpu = time.Duration(utime+stime) * time.Second / userHZ
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return s, err
	}
	for _, line := range strings.Split(string(status), "\n") {
		for field, into := range map[string]*int64{"VmHWM:": &s.peakRSS, "RssAnon:": &s.anonRSS} {
			if v, found := strings.CutPrefix(line, field); found {
				kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
				if err != nil {
					return s, fmt.Errorf("unexpected %s line %q", field, line)
				}
				*into = kb << 10
			}
		}
	}
	return s, nil
}

// anonPeak follows the largest RssAnon of a process, sampled every anonSampleEvery: the kernel
// keeps a peak of the whole resident set (VmHWM) but not of its anonymous part.
type anonPeak struct {
	mu   sync.Mutex
	peak int64
}

// anonSampleEvery is how often anonPeak samples.
const anonSampleEvery = 250 * time.Millisecond

// follow samples pid until done is closed.
func (a *anonPeak) follow(pid int, done <-chan struct{}) {
	tick := time.NewTicker(anonSampleEvery)
	defer tick.Stop()
	for {
		select {
		case <-done:
			return
		case <-tick.C:
		}
		if s, err := readProc(pid); err == nil {
			a.observe(s.anonRSS)
		}
	}
}

func (a *anonPeak) observe(v int64) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.peak = max(a.peak, v)
}

// take returns the peak since the last take and starts a new one.
func (a *anonPeak) take() int64 {
	a.mu.Lock()
	defer a.mu.Unlock()
	p := a.peak
	a.peak = 0
	return p
}

// sample is one Prometheus series: its labels and value.
type sample struct {
	labels map[string]string
	value  float64
}

// parseMetric returns every series of metric name in a Prometheus text exposition. It reads only
// what the benchmark needs: counters with quoted label values, no exemplars.
func parseMetric(r io.Reader, name string) ([]sample, error) {
	var out []sample
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		rest, ok := strings.CutPrefix(line, name)
		if !ok || (rest != "" && rest[0] != '{' && rest[0] != ' ') {
			continue
		}
		s := sample{labels: map[string]string{}}
		if strings.HasPrefix(rest, "{") {
			end := strings.LastIndex(rest, "}")
			if end < 0 {
				return nil, fmt.Errorf("unterminated labels in %q", line)
			}
			parseLabels(rest[1:end], s.labels)
			rest = rest[end+1:]
		}
		fields := strings.Fields(rest)
		if len(fields) == 0 {
			return nil, fmt.Errorf("no value in %q", line)
		}
		v, err := strconv.ParseFloat(fields[0], 64)
		if err != nil {
			return nil, fmt.Errorf("bad value in %q: %w", line, err)
		}
		s.value = v
		out = append(out, s)
	}
	return out, sc.Err()
}

// parseLabels reads `a="x",b="y"` into into.
func parseLabels(text string, into map[string]string) {
	for text != "" {
		key, rest, ok := strings.Cut(text, `="`)
		if !ok {
			return
		}
		var val strings.Builder
		i := 0
		for ; i < len(rest) && rest[i] != '"'; i++ {
			if rest[i] == '\\' && i+1 < len(rest) {
				i++
			}
			val.WriteByte(rest[i])
		}
		into[strings.TrimLeft(key, ", ")] = val.String()
		if i >= len(rest) {
			return
		}
		text = strings.TrimPrefix(rest[i+1:], ",")
	}
}

// mutatingVerbs are the request verbs that write, as the API server (APPLY is a server-side
// apply PATCH) and client-go (HTTP methods) name them.
var mutatingVerbs = map[string]bool{
	"POST": true, "PUT": true, "PATCH": true, "APPLY": true, "DELETE": true, "DELETECOLLECTION": true,
	"CREATE": true, "UPDATE": true,
}

// readVerbs are the reads the API server counts one per request (a WATCH is one request for as
// long as it lasts, and is left out).
var readVerbs = map[string]bool{"GET": true, "LIST": true}

// clientWrites is the manager's own count of requests by HTTP method (reads included: GET
// covers gets, lists and watches), from the client-go metric controller-runtime exposes on the
// manager's metrics endpoint.
type clientWrites map[string]float64

// scrapeClientWrites reads rest_client_requests_total from the manager's /metrics.
func scrapeClientWrites(ctx context.Context, metricsURL string) (clientWrites, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, metricsURL, nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s", metricsURL, resp.Status)
	}
	series, err := parseMetric(resp.Body, "rest_client_requests_total")
	if err != nil {
		return nil, err
	}
	out := clientWrites{}
	for _, s := range series {
		out[s.labels["method"]] += s.value
	}
	return out, nil
}

// total is the sum over every mutating method.
func (w clientWrites) total() float64 {
	var n float64
	for m, v := range w {
		if mutatingVerbs[m] {
			n += v
		}
	}
	return n
}

// requests is the sum over every method, reads included.
func (w clientWrites) requests() float64 {
	var n float64
	for _, v := range w {
		n += v
	}
	return n
}

// minus returns w - before, method by method.
func (w clientWrites) minus(before clientWrites) clientWrites {
	out := clientWrites{}
	for m, v := range w {
		if d := v - before[m]; d != 0 {
			out[m] = d
		}
	}
	return out
}

// String lists the methods in a fixed order, per divisor (per Release).
func (w clientWrites) perRelease(n int) string {
	keys := make([]string, 0, len(w))
	for k := range w {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s %.2f", k, w[k]/float64(n)))
	}
	return strings.Join(parts, ", ")
}

// serverKey identifies a series of apiserver_request_total that the benchmark tells apart.
type serverKey struct {
	verb, resource, subresource, dryRun string
}

// serverWrites counts the API server's mutating requests, from every client, by verb, resource,
// subresource and whether they were dry runs.
type serverWrites map[serverKey]float64

// scrapeServerWrites reads apiserver_request_total from the API server's /metrics: the writes,
// and the GETs and LISTs.
func scrapeServerWrites(ctx context.Context, cfg *rest.Config) (serverWrites, error) {
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	body, err := cs.Discovery().RESTClient().Get().AbsPath("/metrics").Do(ctx).Raw()
	if err != nil {
		return nil, fmt.Errorf("GET the API server's /metrics: %w", err)
	}
	series, err := parseMetric(strings.NewReader(string(body)), "apiserver_request_total")
	if err != nil {
		return nil, err
	}
	out := serverWrites{}
	for _, s := range series {
		l := s.labels
		if mutatingVerbs[l["verb"]] || readVerbs[l["verb"]] {
			out[serverKey{l["verb"], l["resource"], l["subresource"], l["dry_run"]}] += s.value
		}
	}
	return out, nil
}

// minus returns w - before.
func (w serverWrites) minus(before serverWrites) serverWrites {
	out := serverWrites{}
	for k, v := range w {
		if d := v - before[k]; d != 0 {
			out[k] = d
		}
	}
	return out
}

// sum adds the series keep selects.
func (w serverWrites) sum(keep func(serverKey) bool) float64 {
	var n float64
	for k, v := range w {
		if keep(k) {
			n += v
		}
	}
	return n
}

// lines lists the series, largest first, per Release, for the benchmark's detail log.
func (w serverWrites) lines(n int) []string {
	keys := make([]serverKey, 0, len(w))
	for k := range w {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if w[keys[i]] != w[keys[j]] {
			return w[keys[i]] > w[keys[j]]
		}
		return fmt.Sprint(keys[i]) < fmt.Sprint(keys[j])
	})
	out := make([]string, 0, len(keys))
	for _, k := range keys {
		res := k.resource
		if k.subresource != "" {
			res += "/" + k.subresource
		}
		dry := ""
		if k.dryRun != "" {
			dry = " (dry run)"
		}
		out = append(out, fmt.Sprintf("%8.0f  %6.2f/release  %s %s%s", w[k], w[k]/float64(n), k.verb, res, dry))
	}
	return out
}

// isDryRun selects dry-run requests.
func isDryRun(k serverKey) bool { return k.dryRun != "" }

// chartObject selects persisted writes to the objects of the benchmark chart itself.
func chartObject(k serverKey) bool {
	switch k.resource {
	case "serviceaccounts", "configmaps", "secrets", "services", "deployments":
		return mutatingVerbs[k.verb] && k.subresource == "" && k.dryRun == ""
	}
	return false
}

// percentile returns the p-th percentile (0 < p ≤ 100) of ds by the nearest-rank method.
func percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	sorted := append([]time.Duration(nil), ds...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i] < sorted[j] })
	rank := int(p/100*float64(len(sorted))+0.999999) - 1
	rank = max(0, min(rank, len(sorted)-1))
	return sorted[rank]
}

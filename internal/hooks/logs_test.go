package hooks

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	"github.com/capstan-dev/capstan/internal/apply"
	"github.com/capstan-dev/capstan/internal/redact"
)

// logSecret is a value read from a Secret during the reconcile, which a hook then prints.
const logSecret = "hunter2-database-password"

// fakeLogs serves container logs from a map keyed by namespace/pod/container, honouring the tail
// and byte limits as the API server does, and records what was asked.
type fakeLogs struct {
	logs  map[string]string
	asked []string
}

func (f *fakeLogs) TailLogs(_ context.Context, ns, pod, container string, lines, limitBytes int64) ([]byte, error) {
	key := ns + "/" + pod + "/" + container
	f.asked = append(f.asked, fmt.Sprintf("%s tail=%d limit=%d", key, lines, limitBytes))
	text, ok := f.logs[key]
	if !ok {
		return nil, errors.New(`container "c" in pod is waiting to start`)
	}
	all := strings.SplitAfter(strings.TrimSuffix(text, "\n"), "\n")
	if int64(len(all)) > lines {
		all = all[int64(len(all))-lines:]
	}
	out := strings.Join(all, "")
	if int64(len(out)) > limitBytes {
		out = out[:limitBytes]
	}
	return []byte(out), nil
}

// numbered returns n log lines "line 1" … "line n".
func numbered(n int) string {
	var b strings.Builder
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&b, "line %d\n", i)
	}
	return b.String()
}

func pod(name, jobUID, phase string, created time.Time, exitCodes map[string]int64) *unstructured.Unstructured {
	p := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "ns", CreationTimestamp: metav1.NewTime(created),
			Labels: map[string]string{"batch.kubernetes.io/job-name": "migrate"}},
		Spec:   corev1.PodSpec{Containers: []corev1.Container{{Name: "init-db"}, {Name: "main"}}},
		Status: corev1.PodStatus{Phase: corev1.PodPhase(phase)},
	}
	if jobUID != "" {
		p.OwnerReferences = []metav1.OwnerReference{{APIVersion: "batch/v1", Kind: "Job", Name: "migrate", UID: types.UID(jobUID)}}
	}
	for _, c := range []string{"init-db", "main"} {
		if code, ok := exitCodes[c]; ok {
			p.Status.ContainerStatuses = append(p.Status.ContainerStatuses, corev1.ContainerStatus{Name: c,
				State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: int32(code)}}})
		}
	}
	obj, err := clientgoscheme.Scheme.ConvertToVersion(p, corev1.SchemeGroupVersion)
	if err != nil {
		panic(err)
	}
	u := &unstructured.Unstructured{}
	u.Object, _ = runtimeToUnstructured(obj)
	u.SetAPIVersion("v1")
	u.SetKind("Pod")
	return u
}

// logRun is a hook run of kind at the point where its object was created.
func logRun(kind, name, policies string) *hookRun {
	h := Hook{Name: name, Kind: kind, OutputLogPolicies: ParseOutputLogPolicies(policies)}
	run := newHookRun(PreUpgrade, h, time.Minute)
	gv := "v1"
	if kind == "Job" {
		gv = "batch/v1"
	}
	group := strings.TrimSuffix(strings.TrimSuffix(gv, "v1"), "/")
	run.res.Ref = apply.ObjectRef{Group: group, Version: "v1", Kind: kind, Namespace: "ns", Name: name}
	run.created, run.uid = true, "job-uid"
	return run
}

func TestRunner_hookLogs(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	cases := map[string]struct {
		run     *hookRun
		objects []client.Object
		logs    map[string]string
		secrets []string
		want    string
	}{
		"a failed Job: the newest failed pod of this Job, the container that exited non-zero, its last 20 lines": {
			run: logRun("Job", "migrate", "hook-failed"),
			objects: []client.Object{
				pod("migrate-old", "job-uid", "Failed", t0, map[string]int64{"main": 1}),
				pod("migrate-new", "job-uid", "Failed", t0.Add(time.Minute), map[string]int64{"init-db": 0, "main": 2}),
				pod("migrate-running", "job-uid", "Running", t0.Add(2*time.Minute), nil),
				pod("migrate-other", "other-job", "Failed", t0.Add(3*time.Minute), map[string]int64{"main": 1}),
			},
			logs: map[string]string{"ns/migrate-new/main": numbered(30)},
			want: "last log lines of pod migrate-new container main: line 11 | line 12 | line 13 | line 14 | line 15 | " +
				"line 16 | line 17 | line 18 | line 19 | line 20 | line 21 | line 22 | line 23 | line 24 | line 25 | " +
				"line 26 | line 27 | line 28 | line 29 | line 30",
		},
		"a failed Pod hook: the first container when none exited non-zero": {
			run:     logRun("Pod", "check", "hook-failed"),
			objects: []client.Object{pod("check", "", "Failed", t0, nil)},
			logs:    map[string]string{"ns/check/init-db": "\x1b[31mERROR\x1b[0m: database\tunreachable\r\n\n"},
			want:    "last log lines of pod check container init-db: [31mERROR[0m: database unreachable",
		},
		"no policy: a failure's log is read all the same": {
			run:     logRun("Pod", "check", ""),
			objects: []client.Object{pod("check", "", "Failed", t0, nil)},
			logs:    map[string]string{"ns/check/init-db": "boom\n"},
			want:    "last log lines of pod check container init-db: boom",
		},
		"only hook-succeeded: a failure's log is read all the same": {
			run:     logRun("Pod", "check", "hook-succeeded"),
			objects: []client.Object{pod("check", "", "Failed", t0, nil)},
			logs:    map[string]string{"ns/check/init-db": "boom\n"},
			want:    "last log lines of pod check container init-db: boom",
		},
		"a Secret value the reconcile read is redacted, a multi-line one too (before the lines are joined)": {
			run:     logRun("Pod", "check", ""),
			objects: []client.Object{pod("check", "", "Failed", t0, nil)},
			logs: map[string]string{"ns/check/init-db": "connecting as admin:" + logSecret + "\n" +
				"dumping config: password=s3cr3t-\n  passw0rd-of-the-db\nexit 1\n"},
			secrets: []string{logSecret, "s3cr3t-\n  passw0rd-of-the-db"}, // a multi-line value, such as a key
			want: "last log lines of pod check container init-db: connecting as admin:" + redact.Placeholder +
				" | dumping config: password=" + redact.Placeholder + " | exit 1",
		},
		"a ConfigMap hook has no log": {
			run:  logRun("ConfigMap", "settings", "hook-failed"),
			logs: map[string]string{"ns/settings/c": "boom\n"},
		},
		"a log that cannot be read (kwok, a pod never started) reports nothing": {
			run:     logRun("Pod", "check", "hook-failed"),
			objects: []client.Object{pod("check", "", "Pending", t0, nil)},
		},
		"a Job whose pods are gone reports nothing": {
			run: logRun("Job", "migrate", "hook-failed"),
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			c := fake.NewClientBuilder().WithScheme(clientgoscheme.Scheme).WithObjects(tc.objects...).Build()
			logs := &fakeLogs{logs: tc.logs}
			r := NewRunner(c, apply.Owner{Name: "app", Namespace: "ns"}, Options{Logs: logs})
			red := redact.New()
			red.Add(tc.secrets...)
			g.Expect(r.hookLogs(redact.NewContext(context.Background(), red), tc.run)).To(Equal(tc.want))
			for _, a := range logs.asked {
				g.Expect(a).To(HaveSuffix(fmt.Sprintf("tail=%d limit=%d", MaxLogLines, MaxLogBytes)))
			}
		})
	}
}

func TestLogExcerpt_isBounded(t *testing.T) {
	g := NewWithT(t)
	long := strings.Repeat("é", 400) + "\n" + strings.Repeat("x", 300) + " the end\n"
	got := logExcerpt([]byte(long))
	g.Expect(len(got)).To(BeNumerically("<=", maxLogExcerpt))
	g.Expect(got).To(HavePrefix("…"))
	g.Expect(got).To(HaveSuffix("the end"), "the end of the log is what explains a failure")
	g.Expect(strings.ToValidUTF8(got, "?")).To(Equal(got), "cut on a character boundary")
}

func TestError_Error_carriesTheLogExcerpt(t *testing.T) {
	g := NewWithT(t)
	e := &Error{Event: PreUpgrade, Ref: apply.ObjectRef{Group: "batch", Kind: "Job", Namespace: "ns", Name: "migrate"},
		Reason: ReasonFailed, Message: "job failed: BackoffLimitExceeded",
		Logs: "last log lines of pod migrate-x container main: connection refused"}
	g.Expect(e.Error()).To(Equal("pre-upgrade hook Job/ns/migrate failed: HookFailed: job failed: BackoffLimitExceeded; " +
		"last log lines of pod migrate-x container main: connection refused"))
}

func TestParseOutputLogPolicies(t *testing.T) {
	g := NewWithT(t)
	g.Expect(ParseOutputLogPolicies(" Hook-Failed, bogus,hook-succeeded,hook-failed")).
		To(Equal([]OutputLogPolicy{LogOnFailed, LogOnSucceeded}))
	g.Expect(ParseOutputLogPolicies("")).To(BeEmpty())
}

func runtimeToUnstructured(obj any) (map[string]any, error) {
	return runtime.DefaultUnstructuredConverter.ToUnstructured(obj)
}

// TestRunner_Run_failedPodHookReportsItsLog runs a Pod hook through Run on a fake API server that
// serves logs (kwok cannot: see TestRunner_Run_outputLogPolicyOnKwok) and fails the pod once it is
// created: the hook's error carries the pod's last log lines.
func TestRunner_Run_failedPodHookReportsItsLog(t *testing.T) {
	for name, tc := range map[string]struct {
		policy, phase string
		wantErr       string
		wantResultLog string
	}{
		"hook-failed on a failed pod: the error carries the log": {
			policy: "hook-failed", phase: "Failed",
			wantErr: "pre-install hook Pod/ns/check failed: HookFailed: pod failed; last log lines of pod check container c: connecting | connection refused",
		},
		"no policy on a failed pod: the error carries the log all the same": {
			phase: "Failed", wantErr: "pre-install hook Pod/ns/check failed: HookFailed: pod failed; last log lines of pod check container c: connecting | connection refused",
		},
		"hook-succeeded on a failed pod: the error carries the log all the same": {
			policy: "hook-succeeded", phase: "Failed",
			wantErr: "pre-install hook Pod/ns/check failed: HookFailed: pod failed; last log lines of pod check container c: connecting | connection refused",
		},
		"no policy on a pod that succeeded: no log": {
			phase: "Succeeded",
		},
		"hook-succeeded on a pod that succeeded: the result carries the log": {
			policy: "hook-succeeded", phase: "Succeeded",
			wantResultLog: "last log lines of pod check container c: connecting | connection refused",
		},
	} {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			mapper := meta.NewDefaultRESTMapper(nil)
			mapper.Add(corev1.SchemeGroupVersion.WithKind("Pod"), meta.RESTScopeNamespace)
			// The "kubelet": a watch of the pod reports it finished in tc.phase.
			c := fake.NewClientBuilder().WithScheme(clientgoscheme.Scheme).WithRESTMapper(mapper).
				WithInterceptorFuncs(interceptor.Funcs{Watch: func(ctx context.Context, inner client.WithWatch, _ client.ObjectList, _ ...client.ListOption) (watch.Interface, error) {
					live := &unstructured.Unstructured{}
					live.SetAPIVersion("v1")
					live.SetKind("Pod")
					if err := inner.Get(ctx, client.ObjectKey{Namespace: "ns", Name: "check"}, live); err != nil {
						return nil, err
					}
					g.Expect(unstructured.SetNestedField(live.Object, tc.phase, "status", "phase")).To(Succeed())
					w := watch.NewFakeWithChanSize(1, false)
					w.Modify(live)
					return w, nil
				}}).Build()
			logs := &fakeLogs{logs: map[string]string{"ns/check/c": "connecting\nconnection refused\n"}}
			r := NewRunner(c, apply.Owner{Name: "app", Namespace: "ns"}, Options{Logs: logs, Interval: 10 * time.Millisecond})
			obj := &unstructured.Unstructured{Object: map[string]any{
				"apiVersion": "v1", "kind": "Pod",
				"metadata": map[string]any{"name": "check", "annotations": map[string]any{
					AnnotationHook: "pre-install", AnnotationOutputLogPolicy: tc.policy}},
				"spec": map[string]any{"containers": []any{map[string]any{"name": "c", "image": "x"}}},
			}}
			h, _, err := FromObject("t/check.yaml", obj)
			g.Expect(err).NotTo(HaveOccurred())
			results, err := r.Run(context.Background(), PreInstall, []Hook{h}, 10*time.Second)
			if tc.wantErr == "" {
				g.Expect(err).NotTo(HaveOccurred())
				g.Expect(results).To(HaveLen(1))
				g.Expect(results[0].Logs).To(Equal(tc.wantResultLog))
				return
			}
			g.Expect(err).To(MatchError(tc.wantErr))
		})
	}
}

// TestRunner_Run_failedJobHookReportsItsPodsLog runs a Job hook through Run on a fake API server
// that serves logs: the "job controller" starts a pod for the Job and then fails the Job, or never
// finishes it. Either way the hook's error ends with the pod's last log lines, redacted, whatever
// the hook's output-log policy, and stays one bounded line.
func TestRunner_Run_failedJobHookReportsItsPodsLog(t *testing.T) {
	for name, tc := range map[string]struct {
		fail    bool
		timeout time.Duration
		wantErr string
	}{
		"a Job that fails": {
			fail: true, timeout: 10 * time.Second,
			wantErr: "pre-upgrade hook Job/ns/migrate failed: HookFailed: job failed: BackoffLimitExceeded: Job has reached the specified backoff limit; " +
				"last log lines of pod migrate-x7k2p container main: line 31 | line 32 | line 33 | line 34 | line 35 | line 36 | line 37 | line 38 | line 39 | " +
				"line 40 | line 41 | line 42 | line 43 | line 44 | line 45 | line 46 | line 47 | line 48 | connecting as admin:[redacted] | connection refused",
		},
		"a Job that runs out of time": {
			timeout: 300 * time.Millisecond,
			wantErr: "pre-upgrade hook Job/ns/migrate failed: HookTimeout: did not finish within 300ms (last seen: job running: 0 succeeded, 1 active, 0 failed); " +
				"last log lines of pod migrate-x7k2p container main: line 31 | line 32 | line 33 | line 34 | line 35 | line 36 | line 37 | line 38 | line 39 | " +
				"line 40 | line 41 | line 42 | line 43 | line 44 | line 45 | line 46 | line 47 | line 48 | connecting as admin:[redacted] | connection refused",
		},
	} {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			mapper := meta.NewDefaultRESTMapper(nil)
			mapper.Add(schema.GroupVersionKind{Group: "batch", Version: "v1", Kind: "Job"}, meta.RESTScopeNamespace)
			c := fake.NewClientBuilder().WithScheme(clientgoscheme.Scheme).WithRESTMapper(mapper).
				WithInterceptorFuncs(interceptor.Funcs{Watch: func(ctx context.Context, inner client.WithWatch, _ client.ObjectList, _ ...client.ListOption) (watch.Interface, error) {
					return jobController(ctx, inner, tc.fail)
				}}).Build()
			logs := &fakeLogs{logs: map[string]string{"ns/migrate-x7k2p/main": numbered(48) + "connecting as admin:" + logSecret + "\nconnection refused\n"}}
			r := NewRunner(c, apply.Owner{Name: "app", Namespace: "ns"}, Options{Logs: logs, Interval: 10 * time.Millisecond})
			h := Hook{Name: "migrate", Kind: "Job", Path: "t/migrate.yaml", Events: []Event{PreUpgrade}, Object: &unstructured.Unstructured{Object: map[string]any{
				"apiVersion": "batch/v1", "kind": "Job",
				"metadata": map[string]any{"name": "migrate", "annotations": map[string]any{AnnotationHook: "pre-upgrade"}},
				"spec": map[string]any{"template": map[string]any{"spec": map[string]any{
					"containers": []any{map[string]any{"name": "main", "image": "x"}}}}},
			}}}
			red := redact.New()
			red.Add(logSecret)
			results, err := r.Run(redact.NewContext(context.Background(), red), PreUpgrade, []Hook{h}, tc.timeout)
			g.Expect(err).To(MatchError(tc.wantErr))
			g.Expect(err.Error()).NotTo(ContainSubstring("\n"))
			var he *Error
			g.Expect(errors.As(err, &he)).To(BeTrue())
			g.Expect(len(he.Logs)).To(BeNumerically("<=", maxLogExcerpt+len("last log lines of pod migrate-x7k2p container main: ")))
			g.Expect(results[0].LastRun.Phase).To(Equal(PhaseFailed))
			g.Expect(logs.asked).To(Equal([]string{fmt.Sprintf("ns/migrate-x7k2p/main tail=%d limit=%d", MaxLogLines, MaxLogBytes)}))
		})
	}
}

// jobController plays the Job controller for a watch of the Job "migrate": it starts one pod for
// the Job, whose container exited 1, and reports the Job running, then failed when fail is set.
func jobController(ctx context.Context, c client.Client, fail bool) (watch.Interface, error) {
	job := &unstructured.Unstructured{}
	job.SetAPIVersion("batch/v1")
	job.SetKind("Job")
	if err := c.Get(ctx, client.ObjectKey{Namespace: "ns", Name: "migrate"}, job); err != nil {
		return nil, err
	}
	p := pod("migrate-x7k2p", string(job.GetUID()), "Failed", time.Now(), map[string]int64{"main": 1})
	p.SetResourceVersion("")
	if err := c.Create(ctx, p); err != nil && !apierrors.IsAlreadyExists(err) {
		return nil, err
	}
	_ = unstructured.SetNestedField(job.Object, int64(1), "status", "active")
	if fail {
		_ = unstructured.SetNestedSlice(job.Object, []any{map[string]any{"type": "Failed", "status": "True",
			"reason": "BackoffLimitExceeded", "message": "Job has reached the specified backoff limit"}}, "status", "conditions")
	}
	w := watch.NewFakeWithChanSize(1, false)
	w.Modify(job)
	return w, nil
}

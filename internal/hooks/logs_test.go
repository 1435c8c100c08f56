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
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	"github.com/capstan-dev/capstan/internal/apply"
)

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
		"no policy: no log is read": {
			run:     logRun("Pod", "check", ""),
			objects: []client.Object{pod("check", "", "Failed", t0, nil)},
			logs:    map[string]string{"ns/check/init-db": "boom\n"},
		},
		"only hook-succeeded: a failure reads no log": {
			run:     logRun("Pod", "check", "hook-succeeded"),
			objects: []client.Object{pod("check", "", "Failed", t0, nil)},
			logs:    map[string]string{"ns/check/init-db": "boom\n"},
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
			g.Expect(r.hookLogs(context.Background(), tc.run, LogOnFailed)).To(Equal(tc.want))
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
		"no policy on a failed pod: no log": {
			phase: "Failed", wantErr: "pre-install hook Pod/ns/check failed: HookFailed: pod failed",
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

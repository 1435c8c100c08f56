package health_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/capstan-dev/capstan/internal/apply"
	"github.com/capstan-dev/capstan/internal/health"
)

const tick = 200 * time.Millisecond

func TestChecker_Wait_deploymentBecomesCurrent(t *testing.T) {
	t.Parallel()
	g := NewWithT(t)
	ns := namespace(t)
	refs := create(t, deployment(ns, "web", 2, ""))
	var reports []health.Report
	start := time.Now()
	err := health.New(kube(t), health.Options{Interval: tick}).Wait(context.Background(), refs, 60*time.Second,
		func(r health.Report) { reports = append(reports, r) })
	g.Expect(err).NotTo(HaveOccurred())
	t.Logf("the Deployment was Current after %s, %d progress reports", time.Since(start).Round(time.Millisecond), len(reports))
	g.Expect(reports).NotTo(BeEmpty(), "a Deployment just created cannot be ready at the first look")
	g.Expect(reports[0].Summary()).To(HavePrefix("Deployment/" + ns + "/web: "))
	for i := 1; i < len(reports); i++ {
		g.Expect(reports[i].Summary()).NotTo(Equal(reports[i-1].Summary()), "progress is only called on a change")
	}
	report, err := health.New(kube(t), health.Options{}).Check(context.Background(), refs)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(report.Ready()).To(BeTrue())
	g.Expect(report.Checked).To(Equal(1))
}

func TestChecker_Wait_timesOutNamingWhatIsNotReady(t *testing.T) {
	t.Parallel()
	g := NewWithT(t)
	ns := namespace(t)
	refs := create(t, deployment(ns, "stuck", 2, nowhere), `
apiVersion: v1
kind: ConfigMap
metadata: {name: settings, namespace: `+ns+`}`)
	start := time.Now()
	err := health.New(kube(t), health.Options{Interval: tick}).Wait(context.Background(), refs, 4*time.Second, nil)
	elapsed := time.Since(start)
	var timeout *health.TimeoutError
	g.Expect(errors.As(err, &timeout)).To(BeTrue(), "got %v", err)
	g.Expect(errors.Is(err, context.DeadlineExceeded)).To(BeTrue())
	g.Expect(timeout.Report.Checked).To(Equal(2))
	g.Expect(timeout.Report.NotReady).To(HaveLen(1))
	g.Expect(timeout.Report.NotReady[0].Ref.Name).To(Equal("stuck"))
	g.Expect(err.Error()).To(ContainSubstring("Deployment/" + ns + "/stuck: "))
	g.Expect(err.Error()).NotTo(ContainSubstring("settings"))
	g.Expect(elapsed).To(BeNumerically("~", 4*time.Second, 2*time.Second))
}

func TestChecker_Wait_cancelStopsPromptly(t *testing.T) {
	t.Parallel()
	g := NewWithT(t)
	ns := namespace(t)
	refs := create(t, deployment(ns, "stuck", 1, nowhere))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	// A long interval: cancellation must not wait for the next look.
	checker := health.New(kube(t), health.Options{Interval: 30 * time.Second})
	go func() { done <- checker.Wait(ctx, refs, time.Hour, nil) }()
	time.Sleep(time.Second)
	cancelled := time.Now()
	cancel()
	var err error
	g.Eventually(done).WithTimeout(time.Second).Should(Receive(&err))
	g.Expect(time.Since(cancelled)).To(BeNumerically("<", time.Second))
	t.Logf("Wait returned %s after the cancel", time.Since(cancelled))
	g.Expect(errors.Is(err, context.Canceled)).To(BeTrue(), "got %v", err)
	var timeout *health.TimeoutError
	g.Expect(errors.As(err, &timeout)).To(BeFalse())
}

func TestChecker_Wait_jobCompletes(t *testing.T) {
	t.Parallel()
	g := NewWithT(t)
	ns := namespace(t)
	refs := create(t, job(ns, "migrate", "", ""))
	start := time.Now()
	g.Expect(health.New(kube(t), health.Options{Interval: tick}).Wait(context.Background(), refs, 60*time.Second, nil)).To(Succeed())
	t.Logf("the Job was complete after %s", time.Since(start).Round(time.Millisecond))
	u := getJob(t, ns, "migrate")
	g.Expect(health.Compute(u).Message).To(HavePrefix("Job Completed."))
}

func TestChecker_Wait_failedJobEndsTheWaitEarly(t *testing.T) {
	t.Parallel()
	g := NewWithT(t)
	ns := namespace(t)
	refs := create(t, job(ns, "doomed", "activeDeadlineSeconds: 1", nowhere))
	start := time.Now()
	err := health.New(kube(t), health.Options{Interval: tick}).Wait(context.Background(), refs, 80*time.Second, nil)
	var failed *health.FailedError
	g.Expect(errors.As(err, &failed)).To(BeTrue(), "got %v", err)
	g.Expect(time.Since(start)).To(BeNumerically("<", 40*time.Second))
	t.Logf("the failed Job ended the wait after %s", time.Since(start).Round(time.Millisecond))
	g.Expect(failed.Report.Failed()).To(HaveLen(1))
	g.Expect(err.Error()).To(ContainSubstring("Job/" + ns + "/doomed: Failed: Job failed: DeadlineExceeded"))
}

func TestChecker_Check(t *testing.T) {
	t.Parallel()
	g := NewWithT(t)
	ns := namespace(t)
	present := create(t, `
apiVersion: v1
kind: Secret
metadata: {name: creds, namespace: `+ns+`}
stringData: {password: hunter2}`, `
apiVersion: v1
kind: Service
metadata: {name: web, namespace: `+ns+`}
spec: {ports: [{port: 80}]}`)
	missing := apply.ObjectRef{Version: "v1", Kind: "ConfigMap", Namespace: ns, Name: "absent"}
	unserved := apply.ObjectRef{Group: "example.com", Version: "v1", Kind: "Widget", Namespace: ns, Name: "w"}
	// A reference without a version, as an inventory entry parsed from an ID has, is resolved.
	noVersion := apply.ObjectRef{Group: "apps", Kind: "Deployment", Namespace: ns, Name: "ghost"}
	refs := append(present, missing, unserved, noVersion, missing)
	report, err := health.New(kube(t), health.Options{}).Check(context.Background(), refs)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(report.Checked).To(Equal(5), "a repeated reference counts once")
	g.Expect(report.Summary()).To(Equal("ConfigMap/" + ns + "/absent: NotFound: not found; " +
		"Deployment/" + ns + "/ghost: NotFound: not found; " +
		"Widget/" + ns + "/w: NotFound: kind is not served by the cluster"))
}

func TestChecker_Wait_readsReadyObjectsOnlyOnce(t *testing.T) {
	t.Parallel()
	g := NewWithT(t)
	ns := namespace(t)
	refs := create(t, `
apiVersion: v1
kind: ConfigMap
metadata: {name: settings, namespace: `+ns+`}`, deployment(ns, "stuck", 1, nowhere))
	counter := &countingReader{Reader: kube(t), gets: map[string]int{}}
	err := health.New(counter, health.Options{Interval: tick}).Wait(context.Background(), refs, 3*time.Second, nil)
	var timeout *health.TimeoutError
	g.Expect(errors.As(err, &timeout)).To(BeTrue(), "got %v", err)
	t.Logf("GETs in a 3s wait at %s ticks: ready ConfigMap %d, stuck Deployment %d", tick, counter.count("settings"), counter.count("stuck"))
	g.Expect(counter.count("settings")).To(Equal(1))
	g.Expect(counter.count("stuck")).To(BeNumerically(">=", 5))
	// One GET per look: never more looks than the timeout allows.
	g.Expect(counter.count("stuck")).To(BeNumerically("<=", int(3*time.Second/tick)+1))
}

func TestChecker_Wait_forbiddenEndsAtOnce(t *testing.T) {
	t.Parallel()
	g := NewWithT(t)
	ns := namespace(t)
	refs := create(t, deployment(ns, "web", 1, nowhere))
	cfg := restConfig(t)
	cfg.Impersonate.UserName = "nobody"
	nobody, err := client.New(cfg, client.Options{})
	g.Expect(err).NotTo(HaveOccurred())
	start := time.Now()
	err = health.New(nobody, health.Options{Interval: tick}).Wait(context.Background(), refs, time.Minute, nil)
	g.Expect(apierrors.IsForbidden(err)).To(BeTrue(), "got %v", err)
	g.Expect(time.Since(start)).To(BeNumerically("<", 5*time.Second))
}

// countingReader counts GETs by object name.
type countingReader struct {
	client.Reader
	mu   sync.Mutex
	gets map[string]int
}

func (c *countingReader) Get(ctx context.Context, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
	c.mu.Lock()
	c.gets[key.Name]++
	c.mu.Unlock()
	return c.Reader.Get(ctx, key, obj, opts...)
}

func (c *countingReader) count(name string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.gets[name]
}

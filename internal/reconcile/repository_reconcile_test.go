package reconcile_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	capstanv1 "github.com/capstan-dev/capstan/api/v1alpha1"
	"github.com/capstan-dev/capstan/internal/reconcile"
)

// repoEnv runs the repository reconciler against in-memory objects, with a fake reader for
// Secrets and a recorder for events.
type repoEnv struct {
	sources *reconcile.ChartSources
	events  *events.FakeRecorder
	engine  *reconcile.RepositoryReconciler
	patches int
	marked  []capstanv1.ChartRepositoryStatus
}

func newRepoEnv(opts reconcile.ChartSourcesOptions, reader client.Reader) *repoEnv {
	e := &repoEnv{sources: reconcile.NewChartSources(opts), events: events.NewFakeRecorder(100)}
	e.engine = &reconcile.RepositoryReconciler{Sources: e.sources, Reader: reader, Events: e.events,
		SecretRequeue: 7 * time.Second, Now: func() time.Time { return time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC) }}
	return e
}

// Patch counts the writes made before the fetch.
func (e *repoEnv) Patch(_ context.Context, cr *capstanv1.ChartRepository) error {
	e.patches++
	e.marked = append(e.marked, *cr.Status.DeepCopy())
	return nil
}

func (e *repoEnv) reconcile(cr *capstanv1.ChartRepository) (ctrl.Result, error) {
	return e.engine.Reconcile(context.Background(), cr, e)
}

// emitted drains the events recorded so far.
func (e *repoEnv) emitted() []string {
	var out []string
	for {
		select {
		case ev := <-e.events.Events:
			out = append(out, ev)
		default:
			return out
		}
	}
}

// repoTexts is every message of cr's conditions, for canary checks.
func repoTexts(cr *capstanv1.ChartRepository) []string {
	var out []string
	for _, c := range cr.Status.Conditions {
		out = append(out, c.Message)
	}
	return out
}

func repoCond(cr *capstanv1.ChartRepository, typ string) *metav1.Condition {
	return meta.FindStatusCondition(cr.Status.Conditions, typ)
}

func TestRepositoryReconciler_Reconcile_firstFetch(t *testing.T) {
	g := NewWithT(t)
	srv := newRepoServer(t)
	srv.publish(t, "", "app", "1.0.0", "1.1.0")
	srv.publish(t, "", "web", "0.1.0")
	env := newRepoEnv(repoTestOptions(), repoReader())
	cr := repoCR("repo", srv.URL)
	cr.Spec.Interval = &metav1.Duration{Duration: time.Minute}

	res, err := env.reconcile(cr)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(res.RequeueAfter).To(BeNumerically(">=", 54*time.Second))
	g.Expect(res.RequeueAfter).To(BeNumerically("<", 66*time.Second))
	g.Expect(env.patches).To(Equal(1), "the first fetch is announced before it starts")
	ready := repoCond(cr, capstanv1.ReadyCondition)
	g.Expect(ready.Status).To(Equal(metav1.ConditionTrue))
	g.Expect(ready.Reason).To(Equal(capstanv1.SucceededReason))
	g.Expect(ready.Message).To(MatchRegexp(`^fetched index sha256:[0-9a-f]{12} with 2 charts in 3 versions$`))
	g.Expect(repoCond(cr, capstanv1.ReconcilingCondition)).To(BeNil())
	g.Expect(repoCond(cr, capstanv1.StalledCondition)).To(BeNil())
	g.Expect(repoCond(cr, capstanv1.FetchFailedCondition)).To(BeNil())
	g.Expect(cr.Status.ObservedGeneration).To(Equal(cr.Generation))
	g.Expect(cr.Status.URL).To(Equal(srv.URL))
	g.Expect(cr.Status.Index).NotTo(BeNil())
	g.Expect(cr.Status.Index.Digest).To(Equal("sha256:" + repoDigest(srv.files["/index.yaml"])))
	g.Expect(cr.Status.Index.Size).To(Equal(int64(len(srv.files["/index.yaml"]))))
	g.Expect(cr.Status.Index.Charts).To(Equal(int32(2)))
	g.Expect(cr.Status.Index.Versions).To(Equal(int32(3)))
	g.Expect(cr.Status.Index.FetchedAt.Time).To(Equal(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)))
	g.Expect(env.emitted()).To(ConsistOf("Normal Succeeded " + ready.Message))
}

func TestRepositoryReconciler_Reconcile_unchangedIndexIsANoOp(t *testing.T) {
	g := NewWithT(t)
	srv := newRepoServer(t)
	srv.publish(t, "", "app", "1.0.0")
	env := newRepoEnv(repoTestOptions(), repoReader())
	cr := repoCR("repo", srv.URL)
	_, err := env.reconcile(cr)
	g.Expect(err).NotTo(HaveOccurred())
	env.emitted()
	before := cr.Status.DeepCopy()
	env.engine.Now = func() time.Time { return time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC) }

	_, err = env.reconcile(cr)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(cr.Status).To(Equal(*before), "nothing in the status changes, so nothing is written")
	g.Expect(env.patches).To(Equal(1), "a periodic fetch is not announced")
	g.Expect(env.emitted()).To(BeEmpty())
	g.Expect(srv.hitsOf("/index.yaml")).To(Equal(2))
	g.Expect(env.sources.Stats().Indexes.Entries).To(Equal(1))
}

func TestRepositoryReconciler_Reconcile_changedIndex(t *testing.T) {
	g := NewWithT(t)
	srv := newRepoServer(t)
	srv.publish(t, "", "app", "1.0.0")
	env := newRepoEnv(repoTestOptions(), repoReader())
	cr := repoCR("repo", srv.URL)
	_, err := env.reconcile(cr)
	g.Expect(err).NotTo(HaveOccurred())
	env.emitted()
	oldDigest := cr.Status.Index.Digest
	env.engine.Now = func() time.Time { return time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC) }

	srv.publish(t, "", "app", "1.0.0", "2.0.0")
	_, err = env.reconcile(cr)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(cr.Status.Index.Digest).NotTo(Equal(oldDigest))
	g.Expect(cr.Status.Index.Versions).To(Equal(int32(2)))
	g.Expect(cr.Status.Index.FetchedAt.Time).To(Equal(time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)))
	g.Expect(env.emitted()).To(ConsistOf(ContainSubstring("Normal Succeeded fetched index " + cr.Status.Index.Digest[:19])))
}

func TestRepositoryReconciler_Reconcile_failureAndRecovery(t *testing.T) {
	g := NewWithT(t)
	srv := newRepoServer(t)
	srv.publish(t, "", "app", "1.0.0")
	env := newRepoEnv(repoTestOptions(), repoReader())
	cr := repoCR("repo", srv.URL)
	_, err := env.reconcile(cr)
	g.Expect(err).NotTo(HaveOccurred())
	env.emitted()

	srv.force("/index.yaml", http.StatusInternalServerError)
	_, err = env.reconcile(cr)
	g.Expect(err).To(HaveOccurred(), "a transient failure goes back to the rate limiter")
	g.Expect(env.emitted()).To(ConsistOf(ContainSubstring("Warning IndexFetchFailed failed to fetch")))
	g.Expect(cr.Status.Index).NotTo(BeNil(), "the last index stays described")
	g.Expect(repoCond(cr, capstanv1.ReconcilingCondition).Reason).To(Equal(reconcile.RepositoryRetryingReason))

	_, err = env.reconcile(cr)
	g.Expect(err).To(HaveOccurred())
	g.Expect(env.emitted()).To(BeEmpty(), "the same failure again is not news")
	g.Expect(env.patches).To(Equal(1), "retries write nothing before they finish, so conditions do not flap")

	srv.unforce("/index.yaml")
	_, err = env.reconcile(cr)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(repoCond(cr, capstanv1.ReadyCondition).Status).To(Equal(metav1.ConditionTrue))
	g.Expect(repoCond(cr, capstanv1.FetchFailedCondition)).To(BeNil())
	g.Expect(repoCond(cr, capstanv1.ReconcilingCondition)).To(BeNil())
	g.Expect(env.emitted()).To(ConsistOf(HavePrefix("Normal Succeeded fetched index")), "the recovery is reported")
}

func TestRepositoryReconciler_Reconcile_retriesOfANewGenerationAreAnnouncedOnce(t *testing.T) {
	g := NewWithT(t)
	srv := newRepoServer(t)
	srv.force("/index.yaml", http.StatusBadGateway)
	env := newRepoEnv(repoTestOptions(), repoReader())
	cr := repoCR("repo", srv.URL)
	for range 3 {
		_, err := env.reconcile(cr)
		g.Expect(err).To(HaveOccurred())
	}
	g.Expect(cr.Status.ObservedGeneration).To(Equal(int64(-1)), "a transient failure does not observe the generation")
	g.Expect(env.patches).To(Equal(1), "only the first attempt at the generation is announced")
	g.Expect(repoCond(cr, capstanv1.ReadyCondition).Status).To(Equal(metav1.ConditionFalse))
	g.Expect(env.emitted()).To(HaveLen(1))

	cr.Generation = 2
	_, err := env.reconcile(cr)
	g.Expect(err).To(HaveOccurred())
	g.Expect(env.patches).To(Equal(2), "a new generation is announced again")
}

func TestRepositoryReconciler_Reconcile_reconcileRequest(t *testing.T) {
	g := NewWithT(t)
	srv := newRepoServer(t)
	srv.publish(t, "", "app", "1.0.0")
	env := newRepoEnv(repoTestOptions(), repoReader())
	cr := repoCR("repo", srv.URL)
	_, err := env.reconcile(cr)
	g.Expect(err).NotTo(HaveOccurred())
	cr.Annotations = map[string]string{capstanv1.ReconcileRequestAnnotation: "now"}

	_, err = env.reconcile(cr)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(cr.Status.LastHandledReconcileAt).To(Equal("now"))
	g.Expect(env.patches).To(Equal(2), "a requested fetch is announced")
	g.Expect(srv.hitsOf("/index.yaml")).To(Equal(2))
}

func TestRepositoryReconciler_Reconcile_newGenerationOfAStalledRepository(t *testing.T) {
	g := NewWithT(t)
	srv := newRepoServer(t)
	srv.publish(t, "", "app", "1.0.0")
	srv.requireBasic(repoCanaryUser, repoCanaryPassword)
	reader := repoReader(repoSecret("auth", map[string]string{"username": repoCanaryUser, "password": repoCanaryPassword}))
	env := newRepoEnv(repoTestOptions(), reader)
	cr := repoCR("repo", srv.URL)
	_, err := env.reconcile(cr)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(repoCond(cr, capstanv1.StalledCondition)).NotTo(BeNil())

	cr.Spec.SecretRef = &capstanv1.LocalObjectReference{Name: "auth"}
	cr.Generation = 2
	_, err = env.reconcile(cr)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(env.marked).To(HaveLen(2))
	mark := &capstanv1.ChartRepository{Status: env.marked[1]}
	g.Expect(repoCond(mark, capstanv1.StalledCondition)).To(BeNil(), "Reconciling and Stalled never show together")
	g.Expect(repoCond(mark, capstanv1.ReconcilingCondition).Status).To(Equal(metav1.ConditionTrue))
	g.Expect(repoCond(mark, capstanv1.ReadyCondition).Status).To(Equal(metav1.ConditionUnknown))
	g.Expect(repoCond(cr, capstanv1.ReadyCondition).Status).To(Equal(metav1.ConditionTrue))
	g.Expect(cr.Status.ObservedGeneration).To(Equal(int64(2)))
	g.Expect(env.emitted()).To(ConsistOf(HavePrefix("Warning AuthenticationFailed"), HavePrefix("Normal Succeeded")))
}

func TestRepositoryReconciler_Suspended(t *testing.T) {
	g := NewWithT(t)
	srv := newRepoServer(t)
	srv.publish(t, "", "app", "1.0.0")
	env := newRepoEnv(repoTestOptions(), repoReader())
	cr := repoCR("repo", srv.URL)
	_, err := env.reconcile(cr)
	g.Expect(err).NotTo(HaveOccurred())
	cr.Spec.Suspend, cr.Generation = true, 2

	env.engine.Suspended(cr)
	ready := repoCond(cr, capstanv1.ReadyCondition)
	g.Expect(ready.Status).To(Equal(metav1.ConditionTrue), "Releases keep using the last index")
	g.Expect(ready.Reason).To(Equal(capstanv1.SuspendedReason))
	g.Expect(cr.Status.ObservedGeneration).To(Equal(int64(2)))
	g.Expect(srv.hitsOf("/index.yaml")).To(Equal(1), "nothing is fetched")
}

// TestRepositoryReconciler_Reconcile_badInputs covers hardening.md §3.2 B1–B15 as far as they
// concern a ChartRepository's index or registry: the condition reason, Stalled only where
// only a change of spec, Secret or repository helps, a message naming the problem and never
// the credentials, an event, and nothing cached.
func TestRepositoryReconciler_Reconcile_badInputs(t *testing.T) {
	cases := map[string]struct {
		setup    func(t *testing.T, srv *repoServer, cr *capstanv1.ChartRepository, o *reconcile.ChartSourcesOptions)
		objects  []client.Object
		reader   func(client.WithWatch) client.Reader
		tls      bool
		reason   string
		class    string // "transient", "waiting", "stalled" (no requeue) or "stalled-recheck" (interval)
		mentions string
	}{
		"B1 a scheme other than http, https or oci stalls": {
			setup: func(_ *testing.T, _ *repoServer, cr *capstanv1.ChartRepository, _ *reconcile.ChartSourcesOptions) {
				cr.Spec.URL = "ftp://charts.example.com/stable"
			},
			reason: capstanv1.IndexFetchFailedReason, class: "stalled", mentions: `scheme "ftp"`,
		},
		"B2 a loopback repository is refused when private networks are denied": {
			setup: func(t *testing.T, srv *repoServer, _ *capstanv1.ChartRepository, o *reconcile.ChartSourcesOptions) {
				srv.publish(t, "", "app", "1.0.0")
				o.DenyPrivateNetworks = true
			},
			reason: capstanv1.AddressNotAllowedReason, class: "stalled-recheck",
			mentions: "loopback address, refused while private networks are denied",
		},
		"B2 the cloud metadata address is refused even when private networks are allowed": {
			setup: func(_ *testing.T, _ *repoServer, cr *capstanv1.ChartRepository, _ *reconcile.ChartSourcesOptions) {
				cr.Spec.URL = "http://169.254.169.254/latest/meta-data"
			},
			reason: capstanv1.AddressNotAllowedReason, class: "stalled-recheck",
			mentions: "connection to 169.254.169.254 refused: link-local address (cloud metadata), refused for every repository",
		},
		"B2 the GCP metadata host name is refused before it is resolved": {
			setup: func(_ *testing.T, _ *repoServer, cr *capstanv1.ChartRepository, _ *reconcile.ChartSourcesOptions) {
				cr.Spec.URL = "http://metadata.google.internal/computeMetadata/v1"
			},
			reason: capstanv1.AddressNotAllowedReason, class: "stalled-recheck", mentions: "cloud metadata host name (GCP)",
		},
		"B2 an OCI registry at the AWS IPv6 metadata address is refused": {
			setup: func(_ *testing.T, _ *repoServer, cr *capstanv1.ChartRepository, _ *reconcile.ChartSourcesOptions) {
				cr.Spec.URL = "oci://[fd00:ec2::254]/charts"
			},
			reason: capstanv1.AddressNotAllowedReason, class: "stalled-recheck", mentions: "cloud metadata address (AWS)",
		},
		"B4 a refused connection is retried with backoff": {
			setup: func(_ *testing.T, srv *repoServer, _ *capstanv1.ChartRepository, _ *reconcile.ChartSourcesOptions) {
				srv.Close()
			},
			reason: capstanv1.IndexFetchFailedReason, class: "transient", mentions: "connection refused",
		},
		"B5 a server that does not answer is cut at spec.timeout": {
			setup: func(t *testing.T, srv *repoServer, cr *capstanv1.ChartRepository, _ *reconcile.ChartSourcesOptions) {
				srv.publish(t, "", "app", "1.0.0")
				srv.setDelay(5 * time.Second)
				cr.Spec.Timeout = &metav1.Duration{Duration: 300 * time.Millisecond}
			},
			reason: capstanv1.IndexFetchFailedReason, class: "transient", mentions: "300ms",
		},
		"B6 an index above the size limit stalls until the repository changes": {
			setup: func(t *testing.T, srv *repoServer, _ *capstanv1.ChartRepository, o *reconcile.ChartSourcesOptions) {
				srv.publish(t, "", "app", "1.0.0", "1.0.1", "1.0.2")
				o.MaxIndexSize = 256
			},
			reason: capstanv1.IndexFetchFailedReason, class: "stalled-recheck", mentions: "larger than the limit of 256 bytes",
		},
		"B7 a missing index is retried": {
			reason: capstanv1.IndexFetchFailedReason, class: "transient", mentions: "404 Not Found",
		},
		"B8 refused basic credentials stall without being shown": {
			setup: func(t *testing.T, srv *repoServer, cr *capstanv1.ChartRepository, _ *reconcile.ChartSourcesOptions) {
				srv.publish(t, "", "app", "1.0.0")
				srv.requireBasic(repoCanaryUser, "the-right-one")
				cr.Spec.SecretRef = &capstanv1.LocalObjectReference{Name: "auth"}
			},
			objects: []client.Object{repoSecret("auth", map[string]string{"username": repoCanaryUser, "password": repoCanaryPassword})},
			reason:  capstanv1.AuthenticationFailedReason, class: "stalled-recheck", mentions: "401 Unauthorized",
		},
		"B8 a forbidden bearer token stalls without being shown": {
			setup: func(t *testing.T, srv *repoServer, cr *capstanv1.ChartRepository, _ *reconcile.ChartSourcesOptions) {
				srv.publish(t, "", "app", "1.0.0")
				srv.force("/index.yaml", http.StatusForbidden)
				cr.Spec.SecretRef = &capstanv1.LocalObjectReference{Name: "auth"}
			},
			objects: []client.Object{repoSecret("auth", map[string]string{"bearerToken": repoCanaryToken})},
			reason:  capstanv1.AuthenticationFailedReason, class: "stalled-recheck", mentions: "403 Forbidden",
		},
		"B9 a busy server is retried": {
			setup: func(_ *testing.T, srv *repoServer, _ *capstanv1.ChartRepository, _ *reconcile.ChartSourcesOptions) {
				srv.force("/index.yaml", http.StatusServiceUnavailable)
			},
			reason: capstanv1.IndexFetchFailedReason, class: "transient", mentions: "503 Service Unavailable",
		},
		"B10 a server certificate from another CA stalls with the x509 reason": {
			tls: true,
			setup: func(t *testing.T, srv *repoServer, cr *capstanv1.ChartRepository, _ *reconcile.ChartSourcesOptions) {
				srv.publish(t, "", "app", "1.0.0")
				cr.Spec.CertSecretRef = &capstanv1.LocalObjectReference{Name: "tls"}
			},
			objects: []client.Object{repoSecret("tls", map[string]string{"ca.crt": "placeholder"})},
			reason:  capstanv1.IndexFetchFailedReason, class: "stalled-recheck", mentions: "certificate signed by unknown authority",
		},
		"B13 an empty index stalls as unparsable": {
			setup: func(_ *testing.T, srv *repoServer, _ *capstanv1.ChartRepository, _ *reconcile.ChartSourcesOptions) {
				srv.set("/index.yaml", []byte{})
			},
			reason: capstanv1.IndexParseFailedReason, class: "stalled-recheck", mentions: "empty index.yaml file",
		},
		"B13 an index without apiVersion stalls": {
			setup: func(_ *testing.T, srv *repoServer, _ *capstanv1.ChartRepository, _ *reconcile.ChartSourcesOptions) {
				srv.set("/index.yaml", []byte("entries: {}\n"))
			},
			reason: capstanv1.IndexParseFailedReason, class: "stalled-recheck", mentions: "no API version specified",
		},
		"B13 an index that is not YAML stalls": {
			setup: func(_ *testing.T, srv *repoServer, _ *capstanv1.ChartRepository, _ *reconcile.ChartSourcesOptions) {
				srv.set("/index.yaml", []byte("apiVersion: v1\nentries: [\n"))
			},
			reason: capstanv1.IndexParseFailedReason, class: "stalled-recheck", mentions: "index",
		},
		"a Secret that does not exist waits for it": {
			setup: func(_ *testing.T, _ *repoServer, cr *capstanv1.ChartRepository, _ *reconcile.ChartSourcesOptions) {
				cr.Spec.SecretRef = &capstanv1.LocalObjectReference{Name: "absent"}
			},
			reason: capstanv1.SecretNotFoundReason, class: "waiting", mentions: `Secret "absent" named by spec.secretRef does not exist`,
		},
		"a Secret without password stalls naming the key": {
			setup: func(_ *testing.T, _ *repoServer, cr *capstanv1.ChartRepository, _ *reconcile.ChartSourcesOptions) {
				cr.Spec.SecretRef = &capstanv1.LocalObjectReference{Name: "auth"}
			},
			objects: []client.Object{repoSecret("auth", map[string]string{"username": repoCanaryUser})},
			reason:  capstanv1.AuthenticationFailedReason, class: "stalled", mentions: "no key password",
		},
		"a TLS Secret with a certificate but no key stalls naming the key": {
			setup: func(_ *testing.T, _ *repoServer, cr *capstanv1.ChartRepository, _ *reconcile.ChartSourcesOptions) {
				cr.Spec.CertSecretRef = &capstanv1.LocalObjectReference{Name: "tls"}
			},
			objects: []client.Object{repoSecret("tls", map[string]string{"tls.crt": repoCanaryPassword})},
			reason:  capstanv1.TLSConfigInvalidReason, class: "stalled", mentions: "no key tls.key",
		},
		"a Secret the controller may not read stalls as access denied": {
			setup: func(_ *testing.T, _ *repoServer, cr *capstanv1.ChartRepository, _ *reconcile.ChartSourcesOptions) {
				cr.Spec.SecretRef = &capstanv1.LocalObjectReference{Name: "auth"}
			},
			reader: func(c client.WithWatch) client.Reader {
				return interceptor.NewClient(c, interceptor.Funcs{Get: func(context.Context, client.WithWatch, client.ObjectKey, client.Object, ...client.GetOption) error {
					return apierrors.NewForbidden(schema.GroupResource{Resource: "secrets"}, "auth", errors.New("RBAC"))
				}})
			},
			reason: capstanv1.AccessDeniedReason, class: "stalled-recheck", mentions: "forbidden",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			srv := newRepoServer(t)
			if tc.tls {
				srv = newRepoTLSServer(t)
			}
			cr := repoCR("repo", srv.URL)
			cr.Spec.Interval = &metav1.Duration{Duration: time.Hour}
			opts := repoTestOptions()
			if tc.setup != nil {
				tc.setup(t, srv, cr, &opts)
			}
			objects := tc.objects
			if tc.tls {
				other, _ := repoSelfSignedPEM(t, "another CA")
				objects = []client.Object{repoSecret("tls", map[string]string{"ca.crt": string(other)})}
			}
			var reader client.Reader = repoReader(objects...)
			if tc.reader != nil {
				reader = tc.reader(repoReader(objects...))
			}
			env := newRepoEnv(opts, reader)
			res, err := env.reconcile(cr)

			repoExpectClass(g, tc.class, res, err)
			ready := repoCond(cr, capstanv1.ReadyCondition)
			g.Expect(ready.Status).To(Equal(metav1.ConditionFalse))
			g.Expect(ready.Reason).To(Equal(tc.reason))
			g.Expect(ready.Message).To(ContainSubstring(tc.mentions))
			g.Expect(repoCond(cr, capstanv1.FetchFailedCondition).Reason).To(Equal(tc.reason))
			stalled := strings.HasPrefix(tc.class, "stalled")
			if stalled {
				g.Expect(repoCond(cr, capstanv1.StalledCondition).Reason).To(Equal(tc.reason))
				g.Expect(repoCond(cr, capstanv1.ReconcilingCondition)).To(BeNil())
				g.Expect(cr.Status.ObservedGeneration).To(Equal(cr.Generation))
			} else {
				g.Expect(repoCond(cr, capstanv1.StalledCondition)).To(BeNil())
				g.Expect(repoCond(cr, capstanv1.ReconcilingCondition).Reason).To(Equal(reconcile.RepositoryRetryingReason))
				g.Expect(cr.Status.ObservedGeneration).To(Equal(int64(-1)))
			}
			emitted := env.emitted()
			g.Expect(emitted).To(ConsistOf("Warning " + tc.reason + " " + ready.Message))
			texts := append(repoTexts(cr), emitted...)
			if err != nil {
				texts = append(texts, err.Error())
			}
			expectNoCanary(g, texts...)
			g.Expect(cr.Status.Index).To(BeNil())
			stats := env.sources.Stats()
			g.Expect(stats.Indexes.Entries).To(BeZero(), "nothing is cached from a failed fetch")
			g.Expect(stats.Archives.Entries).To(BeZero())
		})
	}
}

// repoExpectClass checks the result of each failure class.
func repoExpectClass(g Gomega, class string, res ctrl.Result, err error) {
	switch class {
	case "transient":
		g.Expect(err).To(HaveOccurred())
		g.Expect(res).To(BeZero())
	case "waiting":
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(res.RequeueAfter).To(Equal(7 * time.Second))
	case "stalled":
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(res).To(BeZero(), "only a watched change helps, so nothing is requeued")
	case "stalled-recheck":
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(res.RequeueAfter).To(BeNumerically("~", time.Hour, 6*time.Minute))
	default:
		g.Expect(class).To(BeEmpty(), "unknown class")
	}
}

// TestRepositoryReconciler_Reconcile_skipsInvalidEntries is B14: entries that fail Helm's
// validation are skipped with a warning and do not count; the repository is still Ready.
func TestRepositoryReconciler_Reconcile_skipsInvalidEntries(t *testing.T) {
	g := NewWithT(t)
	srv := newRepoServer(t)
	d := repoDigest([]byte("x"))
	srv.set("/index.yaml", []byte("apiVersion: v1\nentries:\n  app:\n"+
		"  - {apiVersion: v2, name: app, version: 1.0.0, digest: "+d+", urls: [a.tgz]}\n"+
		"  - {apiVersion: v2, name: app, version: one, digest: "+d+", urls: [b.tgz]}\n"+
		"  - null\n"))
	env := newRepoEnv(repoTestOptions(), repoReader())
	cr := repoCR("repo", srv.URL)
	_, err := env.reconcile(cr)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(repoCond(cr, capstanv1.ReadyCondition).Status).To(Equal(metav1.ConditionTrue))
	g.Expect(cr.Status.Index.Versions).To(Equal(int32(1)))
}

// TestRepositoryReconciler_Reconcile_aliasBomb is B15: a billion-laughs index is answered
// quickly, without expanding the aliases.
func TestRepositoryReconciler_Reconcile_aliasBomb(t *testing.T) {
	g := NewWithT(t)
	var b strings.Builder
	b.WriteString("apiVersion: v1\nx0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n")
	for i := 1; i < 10; i++ {
		b.WriteString("x" + string(rune('0'+i)) + ": &a" + string(rune('0'+i)) + " [")
		for j := range 10 {
			if j > 0 {
				b.WriteString(", ")
			}
			b.WriteString("*a" + string(rune('0'+i-1)))
		}
		b.WriteString("]\n")
	}
	b.WriteString("entries: {}\n")
	srv := newRepoServer(t)
	srv.set("/index.yaml", []byte(b.String()))
	env := newRepoEnv(repoTestOptions(), repoReader())
	cr := repoCR("repo", srv.URL)
	start := time.Now()
	_, _ = env.reconcile(cr)
	g.Expect(time.Since(start)).To(BeNumerically("<", 5*time.Second))
	g.Expect(repoCond(cr, capstanv1.ReadyCondition).Reason).To(Equal(capstanv1.IndexParseFailedReason))
}

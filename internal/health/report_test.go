package health_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"

	capstanv1 "github.com/capstan-dev/capstan/api/v1alpha1"
	"github.com/capstan-dev/capstan/internal/apply"
	"github.com/capstan-dev/capstan/internal/health"
)

func st(kind, ns, name string, s health.ObjectStatus) health.ObjectStatus {
	s.Ref = apply.ObjectRef{Kind: kind, Namespace: ns, Name: name}
	return s
}

func TestReport_Summary(t *testing.T) {
	many := make([]health.ObjectStatus, 0, 40)
	for i := range 40 {
		many = append(many, st("ConfigMap", "ns", fmt.Sprintf("cm-%02d", i), health.ObjectStatus{Status: health.NotFound, Message: "not found"}))
	}
	huge := st("Widget", "ns", "w", health.ObjectStatus{Status: health.InProgress, Message: strings.Repeat("y", 600)})
	cases := map[string]struct {
		report health.Report
		want   string
	}{
		"a ready report has an empty summary": {
			report: health.Report{Checked: 3},
			want:   "",
		},
		"in-progress objects show their message, others their status too": {
			report: health.Report{Checked: 3, NotReady: []health.ObjectStatus{
				st("Deployment", "ns", "web", health.ObjectStatus{Status: health.InProgress, Message: "Available: 0/2"}),
				st("Job", "ns", "migrate", health.ObjectStatus{Status: health.Failed, Message: "Job failed: BackoffLimitExceeded"}),
			}},
			want: "Deployment/ns/web: Available: 0/2; Job/ns/migrate: Failed: Job failed: BackoffLimitExceeded",
		},
		"cluster-scoped objects have no namespace in their name": {
			report: health.Report{Checked: 1, NotReady: []health.ObjectStatus{
				st("CustomResourceDefinition", "", "widgets.example.com", health.ObjectStatus{Status: health.InProgress, Message: "Install in progress"}),
			}},
			want: "CustomResourceDefinition/widgets.example.com: Install in progress",
		},
		"objects that do not fit are counted": {
			report: health.Report{Checked: 40, NotReady: many},
			want: strings.Join(func() []string {
				var parts []string
				for i := range 12 {
					parts = append(parts, fmt.Sprintf("ConfigMap/ns/cm-%02d: NotFound: not found", i))
				}
				return parts
			}(), "; ") + " (and 28 more)",
		},
		"one object too long to fit is cut, never dropped": {
			report: health.Report{Checked: 2, NotReady: []health.ObjectStatus{huge, many[0]}},
			want:   "Widget/ns/w: " + strings.Repeat("y", 512-len("Widget/ns/w: ")-len(" (and 1 more)")-len("…")) + "… (and 1 more)",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			got := tc.report.Summary()
			g.Expect(got).To(Equal(tc.want))
			g.Expect(len(got)).To(BeNumerically("<=", health.MaxSummaryLength))
			g.Expect(tc.report.Ready()).To(Equal(len(tc.report.NotReady) == 0))
		})
	}
}

func TestReport_Failed(t *testing.T) {
	g := NewWithT(t)
	failed := st("Job", "ns", "a", health.ObjectStatus{Status: health.Failed, Message: "x"})
	r := health.Report{Checked: 3, NotReady: []health.ObjectStatus{
		failed, st("Job", "ns", "b", health.ObjectStatus{Status: health.InProgress, Message: "y"}),
	}}
	g.Expect(r.Failed()).To(Equal([]health.ObjectStatus{failed}))
	g.Expect((&health.FailedError{Report: r}).Error()).To(Equal("objects failed: Job/ns/a: Failed: x"))
}

func TestTimeoutError(t *testing.T) {
	g := NewWithT(t)
	var err error = &health.TimeoutError{Timeout: 5 * time.Second, Report: health.Report{Checked: 4, NotReady: []health.ObjectStatus{
		st("Deployment", "ns", "web", health.ObjectStatus{Status: health.InProgress, Message: "Available: 0/2"}),
	}}}
	g.Expect(err.Error()).To(Equal("timed out after 5s waiting for 1 of 4 objects to become ready: Deployment/ns/web: Available: 0/2"))
	g.Expect(errors.Is(err, context.DeadlineExceeded)).To(BeTrue())
}

func TestAfterApply(t *testing.T) {
	g := NewWithT(t)
	cm := apply.ObjectRef{Version: "v1", Kind: "ConfigMap", Namespace: "n", Name: "c"}
	sa := apply.ObjectRef{Version: "v1", Kind: "ServiceAccount", Namespace: "n", Name: "s"}
	role := apply.ObjectRef{Group: "rbac.authorization.k8s.io", Version: "v1", Kind: "Role", Namespace: "n", Name: "r"}
	deploy := apply.ObjectRef{Group: "apps", Version: "v1", Kind: "Deployment", Namespace: "n", Name: "d"}
	svc := apply.ObjectRef{Version: "v1", Kind: "Service", Namespace: "n", Name: "s"}

	r := health.AfterApply([]apply.ObjectRef{cm, sa, deploy, role, svc, deploy})
	g.Expect(r.Checked).To(Equal(5), "every object counts, repeated ones once")
	g.Expect(r.Pending()).To(ConsistOf(deploy, svc), "only kinds with a status are read")
	g.Expect(r.Ready()).To(BeFalse())
	g.Expect(health.AfterApply([]apply.ObjectRef{cm, sa}).Ready()).To(BeTrue())
}

func TestChecker_AfterWrite(t *testing.T) {
	cm := apply.ObjectRef{Version: "v1", Kind: "ConfigMap", Namespace: "shop", Name: "c"}
	svc := apply.ObjectRef{Version: "v1", Kind: "Service", Namespace: "shop", Name: "web"}
	deploy := apply.ObjectRef{Group: "apps", Version: "v1", Kind: "Deployment", Namespace: "shop", Name: "web"}
	cert := apply.ObjectRef{Group: "cert-manager.io", Version: "v1", Kind: "Certificate", Namespace: "shop", Name: "web"}
	service := "apiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: shop}\nspec: {clusterIP: None}\n"
	created := "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: shop, generation: 1}\nspec: {replicas: 1}\n"
	unchanged := `apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop, generation: 4}
spec: {replicas: 1}
status:
  observedGeneration: 4
  replicas: 1
  updatedReplicas: 1
  readyReplicas: 1
  availableReplicas: 1
  conditions: [{type: Available, status: "True"}]
`
	checks, err := health.Compile([]capstanv1.HealthCheck{certificateCheck}, 0)
	if err != nil {
		t.Fatal(err)
	}
	cases := map[string]struct {
		refs     []apply.ObjectRef
		written  map[string]string
		complete bool
		pending  []apply.ObjectRef
		failed   int
	}{
		"a Service is ready as written, a Deployment just created is not": {
			refs: []apply.ObjectRef{cm, svc, deploy}, written: map[string]string{svc.ID(): service, deploy.ID(): created},
			complete: true, pending: []apply.ObjectRef{deploy},
		},
		"a Deployment the upgrade did not change is ready as written": {
			refs: []apply.ObjectRef{svc, deploy}, written: map[string]string{svc.ID(): service, deploy.ID(): unchanged},
			complete: true,
		},
		"an object without a written answer (recreated) is left to the first look": {
			refs: []apply.ObjectRef{cm, svc, deploy}, written: map[string]string{svc.ID(): service},
			pending: []apply.ObjectRef{deploy},
		},
		"spec.healthChecks judge the written object": {
			refs:     []apply.ObjectRef{cert},
			written:  map[string]string{cert.ID(): certificate(1, "status:\n  conditions:\n  - {type: Ready, status: 'False', reason: Failed}\n")},
			complete: true, pending: []apply.ObjectRef{cert}, failed: 1,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			written := map[string]*unstructured.Unstructured{}
			for id, doc := range tc.written {
				written[id] = object(t, doc)
			}
			ctx := health.WithChecks(context.Background(), checks)
			r, complete := health.New(nil, health.Options{}).AfterWrite(ctx, tc.refs, written)
			g.Expect(complete).To(Equal(tc.complete))
			g.Expect(r.Checked).To(Equal(len(tc.refs)))
			g.Expect(r.Pending()).To(ConsistOf(tc.pending))
			g.Expect(r.Failed()).To(HaveLen(tc.failed))
			g.Expect(r.Ready()).To(Equal(len(tc.pending) == 0))
		})
	}
}

// forbiddenReader refuses every read.
type forbiddenReader struct{ client.Reader }

func (forbiddenReader) Get(context.Context, client.ObjectKey, client.Object, ...client.GetOption) error {
	return apierrors.NewForbidden(schema.GroupResource{Group: "apps", Resource: "deployments"}, "web", errors.New("no reads in this test"))
}

func TestChecker_Look_judgesWhatAWatchDelivered(t *testing.T) {
	g := NewWithT(t)
	deploy := apply.ObjectRef{Group: "apps", Version: "v1", Kind: "Deployment", Namespace: "shop", Name: "web"}
	available := object(t, `apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop, generation: 2}
spec: {replicas: 1}
status:
  observedGeneration: 2
  replicas: 1
  updatedReplicas: 1
  readyReplicas: 1
  availableReplicas: 1
  conditions: [{type: Available, status: "True"}]
`)
	checker := health.New(forbiddenReader{}, health.Options{})
	last := health.NotChecked([]apply.ObjectRef{deploy})
	ctx := health.WithSeen(context.Background(), map[string]*unstructured.Unstructured{deploy.ID(): available})
	r, err := checker.Look(ctx, []apply.ObjectRef{deploy}, last)
	g.Expect(err).NotTo(HaveOccurred(), "the delivered object is judged, not read")
	g.Expect(r.Ready()).To(BeTrue())

	_, err = checker.Look(context.Background(), []apply.ObjectRef{deploy}, last)
	g.Expect(apierrors.IsForbidden(err)).To(BeTrue(), "without it the object is read")
}

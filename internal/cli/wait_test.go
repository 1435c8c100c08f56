package cli

import (
	"context"
	"errors"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	capstanv1 "github.com/capstan-dev/capstan/api/v1alpha1"
)

// The fake client only stands in for the apiserver's reads here, to exercise the branches of a
// wait; the envtest suite in cmd/capstan runs the same code against a real apiserver.
func fakeTarget(t *testing.T, rel *capstanv1.Release) *Target {
	t.Helper()
	c := fake.NewClientBuilder().WithScheme(Scheme()).WithObjects(rel).WithStatusSubresource(rel).Build()
	conn := NewConn(c, rel.Namespace)
	conn.PollInterval = 10 * time.Millisecond
	target, err := conn.Release(context.Background(), rel.Name)
	if err != nil {
		t.Fatalf("reading the Release: %v", err)
	}
	return target
}

func TestTarget_Wait(t *testing.T) {
	notReady := func(r *capstanv1.Release) {
		r.Status.Conditions = []metav1.Condition{cond(capstanv1.ReadyCondition, metav1.ConditionUnknown, capstanv1.ProgressingReason, "Rolling back")}
	}
	cases := map[string]struct {
		check   Check
		cancel  bool
		delete  bool
		wantErr error
		wantMsg string
	}{
		"the check is done":         {check: func(*capstanv1.Release) (bool, error) { return true, nil }},
		"the check fails":           {check: func(*capstanv1.Release) (bool, error) { return true, ErrFailed }, wantErr: ErrFailed},
		"a check error ends a wait": {check: func(*capstanv1.Release) (bool, error) { return false, ErrFailed }, wantErr: ErrFailed},
		"the timeout passes": {
			check: func(*capstanv1.Release) (bool, error) { return false, nil }, wantErr: ErrTimeout,
			wantMsg: "timed out after 100ms waiting for the outcome; the Release stands at Ready=Unknown (Progressing): Rolling back",
		},
		"the caller gives up": {
			check: func(*capstanv1.Release) (bool, error) { return false, nil }, cancel: true, wantErr: context.Canceled,
			wantMsg: "stopped waiting for the outcome",
		},
		"the Release is deleted": {
			check: func(*capstanv1.Release) (bool, error) { return false, nil }, delete: true, wantErr: ErrReleaseNotFound,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			rel := release()
			notReady(rel)
			target := fakeTarget(t, rel)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			if tc.cancel {
				cancel()
			}
			if tc.delete {
				g.Expect(target.conn.Client.Delete(ctx, rel)).To(Succeed())
			}
			err := target.Wait(ctx, 100*time.Millisecond, "the outcome", tc.check)
			if tc.wantErr == nil {
				g.Expect(err).NotTo(HaveOccurred())
				return
			}
			g.Expect(errors.Is(err, tc.wantErr)).To(BeTrue(), "error %v", err)
			if tc.wantMsg != "" {
				g.Expect(err.Error()).To(ContainSubstring(tc.wantMsg))
			}
		})
	}
}

func TestTarget_Annotate(t *testing.T) {
	g := NewWithT(t)
	rel := release()
	rel.Annotations = map[string]string{"keep": "me"}
	target := fakeTarget(t, rel)
	g.Expect(target.Annotate(context.Background(), capstanv1.RollbackToAnnotation, "2")).To(Succeed())
	g.Expect(target.Release.Annotations).To(Equal(map[string]string{"keep": "me", capstanv1.RollbackToAnnotation: "2"}))
}

func TestCheckActionable(t *testing.T) {
	g := NewWithT(t)
	rel := release()
	g.Expect(CheckActionable(rel)).To(Succeed())
	rel.Spec.Suspend = true
	g.Expect(CheckActionable(rel)).To(MatchError(ContainSubstring("is suspended")))
	rel.Spec.Suspend = false
	now := metav1.Now()
	rel.DeletionTimestamp = &now
	g.Expect(CheckActionable(rel)).To(MatchError(ErrNotActionable))
}

func TestWaitFlags(t *testing.T) {
	g := NewWithT(t)
	var f WaitFlags
	fs := newFlagSet()
	f.AddFlags(fs)
	g.Expect(fs.Parse(nil)).To(Succeed())
	g.Expect(f.Enabled()).To(BeTrue(), "waiting is the default")
	g.Expect(f.Timeout).To(Equal(5 * time.Minute))
	g.Expect(fs.Parse([]string{"--no-wait"})).To(Succeed())
	g.Expect(f.Enabled()).To(BeFalse())
	g.Expect(f.CheckTimeout()).To(Succeed(), "no timeout matters without a wait")

	f = WaitFlags{}
	fs = newFlagSet()
	f.AddFlags(fs)
	g.Expect(fs.Parse([]string{"--wait=false"})).To(Succeed())
	g.Expect(f.Enabled()).To(BeFalse())

	f = WaitFlags{}
	fs = newFlagSet()
	f.AddFlags(fs)
	g.Expect(fs.Parse([]string{"--timeout", "0s"})).To(Succeed())
	g.Expect(f.CheckTimeout()).To(MatchError(ErrInvalidArgument))
}

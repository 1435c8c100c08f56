package main

import (
	"context"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	capstanv1 "github.com/capstan-dev/capstan/api/v1alpha1"
)

// installing gives a Release the status of a first install under way.
func installing(rel *capstanv1.Release) {
	rel.Status.ObservedGeneration = rel.Generation
	rel.Status.Conditions = []metav1.Condition{
		condition(rel, capstanv1.ReadyCondition, metav1.ConditionUnknown, capstanv1.ProgressingReason, "Installing revision 1"),
		condition(rel, capstanv1.ReconcilingCondition, metav1.ConditionTrue, capstanv1.ProgressingReason, "Installing revision 1"),
	}
}

// stalled gives a Release the status of a controller that gave up until the spec changes.
func stalled(rel *capstanv1.Release) {
	rel.Status.ObservedGeneration = rel.Generation
	rel.Status.Conditions = []metav1.Condition{
		condition(rel, capstanv1.ReadyCondition, metav1.ConditionFalse, "ChartNotFound", "chart demo 1.x is not in the repository"),
		condition(rel, capstanv1.StalledCondition, metav1.ConditionTrue, "ChartNotFound", "chart demo 1.x is not in the repository"),
	}
}

// testStatusWait runs `status --wait` as the real binary and checks each exit status and the
// progress lines on standard error.
func (f *envFixture) testStatusWait(t *testing.T) {
	t.Run("Ready after an install exits 0, one progress line per change", func(t *testing.T) {
		g := NewWithT(t)
		ns := f.namespace(t)
		f.createRelease(t, ns, "site", "web", installing)
		go func() {
			time.Sleep(1500 * time.Millisecond)
			_ = f.updateStatus(context.Background(), ns, "site", func(rel *capstanv1.Release) {
				meta.SetStatusCondition(&rel.Status.Conditions, condition(rel, capstanv1.ReconcilingCondition,
					metav1.ConditionFalse, capstanv1.ProgressingReason, "Installing revision 1"))
			})
			time.Sleep(1500 * time.Millisecond)
			_ = f.updateStatus(context.Background(), ns, "site", readyStatus(1))
		}()
		out, errOut, code := f.runProcess(t, "status", "site", "-n", ns, "--wait", "--timeout", "30s")
		g.Expect(code).To(Equal(0), "stdout %s\nstderr %s", out, errOut)
		g.Expect(strings.Split(strings.TrimSpace(errOut), "\n")).To(Equal([]string{
			"Ready=Unknown (Progressing) Reconciling=True (Progressing): Installing revision 1",
			"Ready=Unknown (Progressing) Reconciling=False (Progressing): Installing revision 1",
			"Ready=True (UpgradeSucceeded) Released=True (UpgradeSucceeded): Revision deployed",
		}))
		g.Expect(out).To(ContainSubstring("READY: True (UpgradeSucceeded) Revision deployed\n"))
	})
	t.Run("Stalled exits 3 and still prints the status", func(t *testing.T) {
		g := NewWithT(t)
		ns := f.namespace(t)
		f.createRelease(t, ns, "site", "web", stalled)
		out, errOut, code := f.runProcess(t, "status", "site", "-n", ns, "--wait", "-o", "json")
		g.Expect(code).To(Equal(exitNotReady), "stdout %s\nstderr %s", out, errOut)
		g.Expect(out).To(ContainSubstring(`"ready":"False"`))
		g.Expect(errOut).To(HaveSuffix("Not ready: not ready: Release " + ns + "/site is stalled (ChartNotFound): chart demo 1.x is not in the repository\n"))
	})
	t.Run("not Ready within --timeout exits 3", func(t *testing.T) {
		g := NewWithT(t)
		ns := f.namespace(t)
		f.createRelease(t, ns, "site", "web", installing)
		out, errOut, code := f.runProcess(t, "status", "site", "-n", ns, "--wait", "--timeout", "1s")
		g.Expect(code).To(Equal(exitNotReady), "stdout %s\nstderr %s", out, errOut)
		g.Expect(out).To(ContainSubstring("READY: Unknown (Progressing) Installing revision 1\n"))
		g.Expect(errOut).To(ContainSubstring("Not ready: timed out after 1s waiting for the Release to be Ready"))
	})
	t.Run("without --wait a Release that is not Ready exits 0", func(t *testing.T) {
		g := NewWithT(t)
		ns := f.namespace(t)
		f.createRelease(t, ns, "site", "web", stalled)
		out, errOut, code := f.runProcess(t, "status", "site", "-n", ns)
		g.Expect(code).To(Equal(0), "stdout %s\nstderr %s", out, errOut)
		g.Expect(errOut).To(BeEmpty())
	})
	t.Run("an error exits 1", func(t *testing.T) {
		g := NewWithT(t)
		ns := f.namespace(t)
		out, errOut, code := f.runProcess(t, "status", "missing", "-n", ns, "--wait")
		g.Expect(code).To(Equal(1), "stdout %s\nstderr %s", out, errOut)
		g.Expect(errOut).To(HavePrefix("Error: "))
	})
}

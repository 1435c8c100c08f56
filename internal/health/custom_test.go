package health_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	. "github.com/onsi/gomega"

	capstanv1 "github.com/capstan-dev/capstan/api/v1alpha1"
	"github.com/capstan-dev/capstan/internal/health"
)

// certificateCheck is the cert-manager Certificate check of docs/health-and-hooks.md.
var certificateCheck = capstanv1.HealthCheck{
	Group: "cert-manager.io", Kind: "Certificate",
	Current:    "status.conditions.exists(c, c.type == 'Ready' && c.status == 'True')",
	InProgress: "status.conditions.exists(c, c.type == 'Issuing' && c.status == 'True')",
	Failed:     "status.conditions.exists(c, c.type == 'Ready' && c.status == 'False' && c.reason == 'Failed')",
}

func certificate(generation int, status string) string {
	return fmt.Sprintf("apiVersion: cert-manager.io/v1\nkind: Certificate\nmetadata:\n  name: web\n  namespace: shop\n  generation: %d\n%s",
		generation, status)
}

func TestChecks_Compute(t *testing.T) {
	cases := map[string]struct {
		checks  []capstanv1.HealthCheck
		object  string
		applies bool
		status  health.ObjectStatus
	}{
		"current when the current expression is true": {
			checks:  []capstanv1.HealthCheck{certificateCheck},
			object:  certificate(2, "status:\n  observedGeneration: 2\n  conditions:\n  - {type: Ready, status: 'True'}\n"),
			applies: true, status: health.ObjectStatus{Status: health.Current, Message: "healthChecks[0].current is true"},
		},
		"in progress when the inProgress expression is true": {
			checks:  []capstanv1.HealthCheck{certificateCheck},
			object:  certificate(1, "status:\n  conditions:\n  - {type: Issuing, status: 'True'}\n  - {type: Ready, status: 'True'}\n"),
			applies: true, status: health.ObjectStatus{Status: health.InProgress, Message: "healthChecks[0].inProgress is true"},
		},
		"failed is tried first and wins": {
			checks:  []capstanv1.HealthCheck{certificateCheck},
			object:  certificate(1, "status:\n  conditions:\n  - {type: Issuing, status: 'True'}\n  - {type: Ready, status: 'False', reason: Failed}\n"),
			applies: true, status: health.ObjectStatus{Status: health.Failed, Message: "healthChecks[0].failed is true"},
		},
		"in progress when no expression is true": {
			checks:  []capstanv1.HealthCheck{certificateCheck},
			object:  certificate(1, "status:\n  conditions:\n  - {type: Ready, status: 'False', reason: Pending}\n"),
			applies: true, status: health.ObjectStatus{Status: health.InProgress, Message: "healthChecks[0]: no expression is true yet"},
		},
		"the generation gate holds a stale status in progress": {
			checks:  []capstanv1.HealthCheck{certificateCheck},
			object:  certificate(3, "status:\n  observedGeneration: 2\n  conditions:\n  - {type: Ready, status: 'True'}\n"),
			applies: true, status: health.ObjectStatus{Status: health.InProgress,
				Message: "waiting for the controller to observe generation 3 (it observed 2)"},
		},
		"an object without status yet is in progress, not an error": {
			checks: []capstanv1.HealthCheck{{Group: "cert-manager.io", Kind: "Certificate",
				Current: "has(status.conditions) && status.conditions.exists(c, c.type == 'Ready')"}},
			object:  certificate(1, ""),
			applies: true, status: health.ObjectStatus{Status: health.InProgress, Message: "healthChecks[0]: no expression is true yet"},
		},
		"a field the object lacks leaves it in progress with the reason": {
			checks:  []capstanv1.HealthCheck{{Group: "cert-manager.io", Kind: "Certificate", Current: "status.ready"}},
			object:  certificate(1, ""),
			applies: true, status: health.ObjectStatus{Status: health.InProgress,
				Message: "healthChecks[0].current cannot be evaluated yet: no such key: ready"},
		},
		"a non-bool result is not health": {
			checks:  []capstanv1.HealthCheck{{Group: "cert-manager.io", Kind: "Certificate", Current: "status.phase"}},
			object:  certificate(1, "status: {phase: Ready}\n"),
			applies: true, status: health.ObjectStatus{Status: health.InProgress,
				Message: "healthChecks[0].current cannot be evaluated yet: the expression gave string, not a bool"},
		},
		"apiVersion matches only its version": {
			checks:  []capstanv1.HealthCheck{{APIVersion: "cert-manager.io/v1beta1", Kind: "Certificate", Current: "true"}},
			object:  certificate(1, ""),
			applies: false,
		},
		"the first matching check applies; self is the object": {
			checks: []capstanv1.HealthCheck{
				{APIVersion: "cert-manager.io/v1", Kind: "Certificate", Current: "self.metadata.name == 'web' && kind == 'Certificate'"},
				{Group: "cert-manager.io", Kind: "Certificate", Current: "false"},
			},
			object:  certificate(1, ""),
			applies: true, status: health.ObjectStatus{Status: health.Current, Message: "healthChecks[0].current is true"},
		},
		"other kinds keep the built-in rules": {
			checks:  []capstanv1.HealthCheck{certificateCheck},
			object:  "apiVersion: cert-manager.io/v1\nkind: Issuer\nmetadata: {name: x}\n",
			applies: false,
		},
		"a deleted object is left to the built-in rules (Terminating)": {
			checks:  []capstanv1.HealthCheck{{Group: "cert-manager.io", Kind: "Certificate", Current: "true"}},
			object:  "apiVersion: cert-manager.io/v1\nkind: Certificate\nmetadata: {name: x, deletionTimestamp: '2026-01-01T00:00:00Z'}\n",
			applies: false,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			checks, err := health.Compile(tc.checks, 0)
			g.Expect(err).NotTo(HaveOccurred())
			got, applies := checks.Compute(object(t, tc.object))
			g.Expect(applies).To(Equal(tc.applies))
			if !applies {
				return
			}
			g.Expect(got.Status).To(Equal(tc.status.Status))
			g.Expect(got.Message).To(Equal(tc.status.Message))
			g.Expect(got.Ref.Kind).To(Equal("Certificate"))
		})
	}
}

func TestChecks_Compute_costLimit(t *testing.T) {
	g := NewWithT(t)
	expensive := capstanv1.HealthCheck{Group: "cert-manager.io", Kind: "Certificate",
		Current: "status.items.all(a, status.items.all(b, status.items.all(c, a + b + c >= 0)))"}
	items := "status:\n  items: [" + strings.TrimSuffix(strings.Repeat("1,", 200), ",") + "]\n"
	checks, err := health.Compile([]capstanv1.HealthCheck{expensive}, 10_000)
	g.Expect(err).NotTo(HaveOccurred())
	got, _ := checks.Compute(object(t, certificate(1, items)))
	g.Expect(got.Status).To(Equal(health.Failed), "an expression that cannot finish fails the wait at once")
	g.Expect(got.Message).To(Equal("healthChecks[0].current: the expression went over its cost limit"))

	generous, err := health.Compile([]capstanv1.HealthCheck{expensive}, 0)
	g.Expect(err).NotTo(HaveOccurred())
	got, _ = generous.Compute(object(t, certificate(1, "status:\n  items: [1, 2, 3]\n")))
	g.Expect(got.Status).To(Equal(health.Current), "the same expression over a small object is within the default limit")
}

func TestCompile_errors(t *testing.T) {
	cases := map[string]struct {
		checks []capstanv1.HealthCheck
		want   []string
	}{
		"a syntax error names the check and its field": {
			checks: []capstanv1.HealthCheck{certificateCheck, {Group: "x.io", Kind: "X", Current: "status.ready ==", Failed: "true"}},
			want:   []string{"healthChecks[1].current: ", "Syntax error"},
		},
		"an undeclared variable": {
			checks: []capstanv1.HealthCheck{{Group: "x.io", Kind: "X", Current: "true", InProgress: "object.status.ready"}},
			want:   []string{"healthChecks[0].inProgress: ", "undeclared reference to 'object'"},
		},
		"an expression that is not a bool": {
			checks: []capstanv1.HealthCheck{{Group: "x.io", Kind: "X", Current: "1 + 2"}},
			want:   []string{"healthChecks[0].current: the expression gives int, not a bool"},
		},
		"every problem is reported at once": {
			checks: []capstanv1.HealthCheck{{Group: "x.io", Kind: "X", Current: "(", Failed: "'a'"}},
			want:   []string{"healthChecks[0].current: ", "healthChecks[0].failed: the expression gives string, not a bool"},
		},
		"a bad apiVersion": {
			checks: []capstanv1.HealthCheck{{APIVersion: "a/b/c", Kind: "X", Current: "true"}},
			want:   []string{"healthChecks[0].apiVersion: "},
		},
		"current is required": {
			checks: []capstanv1.HealthCheck{{Group: "x.io", Kind: "X", Failed: "true"}},
			want:   []string{"healthChecks[0].current: an expression is required"},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			checks, err := health.Compile(tc.checks, 0)
			g.Expect(checks).To(BeNil())
			g.Expect(errors.Is(err, health.ErrInvalidHealthCheck)).To(BeTrue(), "%v", err)
			g.Expect(err.Error()).NotTo(ContainSubstring("\n"), "the error fits a condition message")
			for _, w := range tc.want {
				g.Expect(err.Error()).To(ContainSubstring(w))
			}
		})
	}
}

func TestChecksCache_Compile(t *testing.T) {
	g := NewWithT(t)
	var cache health.ChecksCache
	first, err := cache.Compile("uid", 1, []capstanv1.HealthCheck{certificateCheck})
	g.Expect(err).NotTo(HaveOccurred())
	again, err := cache.Compile("uid", 1, nil)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(again).To(BeIdenticalTo(first), "one generation compiles once")
	next, err := cache.Compile("uid", 2, []capstanv1.HealthCheck{{Group: "x.io", Kind: "X", Current: "("}})
	g.Expect(next).To(BeNil())
	g.Expect(err).To(MatchError(health.ErrInvalidHealthCheck))
	none, err := cache.Compile("other", 1, nil)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(none).To(BeNil())
}

func TestWithChecks(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	g.Expect(health.WithChecks(ctx, nil)).To(Equal(ctx), "no checks, no new context")
}

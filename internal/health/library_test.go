package health_test

import (
	"os"
	"testing"

	. "github.com/onsi/gomega"
	"sigs.k8s.io/yaml"

	capstanv1 "github.com/capstan-dev/capstan/api/v1alpha1"
	"github.com/capstan-dev/capstan/internal/health"
)

// librarySample holds the default health checks docs/health-and-hooks.md documents.
const librarySample = "../../config/samples/capstan_v1alpha1_release_postrender.yaml"

// TestChecks_library evaluates the sample's checks for cert-manager Certificates, Argo Rollouts
// and Crossplane claims over objects in the states those controllers write.
func TestChecks_library(t *testing.T) {
	g := NewWithT(t)
	data, err := os.ReadFile(librarySample)
	g.Expect(err).NotTo(HaveOccurred())
	var rel capstanv1.Release
	g.Expect(yaml.UnmarshalStrict(data, &rel)).To(Succeed())
	checks, err := health.Compile(rel.Spec.HealthChecks, 0)
	g.Expect(err).NotTo(HaveOccurred())

	const cert = "apiVersion: cert-manager.io/v1\nkind: Certificate\nmetadata: {name: tls, namespace: web, generation: 2}\n"
	const rollout = "apiVersion: argoproj.io/v1alpha1\nkind: Rollout\nmetadata: {name: web, namespace: web, generation: 4}\n"
	const claim = "apiVersion: database.example.org/v1alpha1\nkind: PostgreSQLInstance\nmetadata: {name: db, namespace: web}\n"
	cases := map[string]struct {
		object string
		want   health.ObjectStatus
	}{
		"a Certificate just created": {cert, health.ObjectStatus{Status: health.InProgress}},
		"a Certificate being issued": {cert + "status:\n  conditions:\n  - {type: Issuing, status: 'True'}\n  - {type: Ready, status: 'False', reason: DoesNotExist}\n",
			health.ObjectStatus{Status: health.InProgress}},
		"a Certificate whose issuance failed": {cert + "status:\n  conditions:\n  - {type: Issuing, status: 'False', reason: Failed}\n",
			health.ObjectStatus{Status: health.Failed}},
		"a Certificate Ready for an older spec": {cert + "status:\n  conditions:\n  - {type: Ready, status: 'True', observedGeneration: 1}\n",
			health.ObjectStatus{Status: health.InProgress}},
		"a Certificate Ready": {cert + "status:\n  conditions:\n  - {type: Ready, status: 'True', observedGeneration: 2}\n",
			health.ObjectStatus{Status: health.Current}},
		"a Rollout paused at a step": {rollout + "status: {phase: Paused, observedGeneration: '4'}\n",
			health.ObjectStatus{Status: health.InProgress}},
		"a Rollout aborted": {rollout + "status: {phase: Progressing, abort: true}\n",
			health.ObjectStatus{Status: health.Failed}},
		"a Rollout degraded": {rollout + "status: {phase: Degraded}\n", health.ObjectStatus{Status: health.Failed}},
		"a Rollout healthy":  {rollout + "status: {phase: Healthy, observedGeneration: '4'}\n", health.ObjectStatus{Status: health.Current}},
		"a claim synced but not ready": {claim + "status:\n  conditions:\n  - {type: Synced, status: 'True'}\n  - {type: Ready, status: 'False', reason: Creating}\n",
			health.ObjectStatus{Status: health.InProgress}},
		"a claim whose composition fails": {claim + "status:\n  conditions:\n  - {type: Synced, status: 'False', reason: ReconcileError}\n",
			health.ObjectStatus{Status: health.Failed}},
		"a claim ready": {claim + "status:\n  conditions:\n  - {type: Synced, status: 'True'}\n  - {type: Ready, status: 'True'}\n",
			health.ObjectStatus{Status: health.Current}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			got, applies := checks.Compute(object(t, tc.object))
			g.Expect(applies).To(BeTrue())
			g.Expect(got.Status).To(Equal(tc.want.Status), got.Message)
		})
	}
}

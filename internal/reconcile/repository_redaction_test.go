package reconcile_test

import (
	"context"
	"encoding/base64"
	"testing"

	. "github.com/onsi/gomega"

	capstanv1 "github.com/capstan-dev/capstan/api/v1alpha1"
	"github.com/capstan-dev/capstan/internal/reconcile"
	"github.com/capstan-dev/capstan/internal/redact"
)

// TestChartSources_For_registersCredentials checks that the credentials a ChartRepository's
// Secret holds are registered with the Redactor of the context, in every form they travel in.
func TestChartSources_For_registersCredentials(t *testing.T) {
	g := NewWithT(t)
	cr := repoCR("repo", "https://charts.example")
	cr.Spec.SecretRef = &capstanv1.LocalObjectReference{Name: "auth"}
	red := redact.New()
	sources := reconcile.NewChartSources(repoTestOptions())
	_, err := sources.For(redact.NewContext(context.Background(), red),
		repoReader(repoSecret("auth", map[string]string{"username": repoCanaryUser, "password": repoCanaryPassword})), cr)
	g.Expect(err).NotTo(HaveOccurred())
	basic := base64.StdEncoding.EncodeToString([]byte(repoCanaryUser + ":" + repoCanaryPassword))
	g.Expect(red.Redact("user " + repoCanaryUser + " password " + repoCanaryPassword + " header Basic " + basic)).
		NotTo(Or(ContainSubstring(repoCanaryUser), ContainSubstring(repoCanaryPassword), ContainSubstring(basic[4:])))
}

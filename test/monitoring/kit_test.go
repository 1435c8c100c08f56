package monitoring

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	. "github.com/onsi/gomega"
	"sigs.k8s.io/yaml"

	"github.com/capstan-dev/capstan/internal/testenv"
)

var kitDir = filepath.Join(testenv.RepoRoot(), "config", "monitoring")

// TestKit_parses loads config/monitoring: every expression parses with Prometheus's parser and
// every alert is well formed; the alerts issue 16 asks for are there.
func TestKit_parses(t *testing.T) {
	g := NewWithT(t)
	kit, err := Load(kitDir)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(kit.Alerts).To(ContainElements("CapstanReleaseNotReady", "CapstanReleaseRemediationExhausted",
		"CapstanChartRepositoryFetchFailing", "CapstanReleaseDrifted"))
	var metrics []string
	for _, e := range kit.Exprs {
		for _, s := range e.Selectors {
			metrics = append(metrics, s.Metric)
		}
	}
	// The dashboard covers what issue 16 lists: releases by state, reconcile duration, failures,
	// remediation, drift, queue depth, render time and API writes.
	g.Expect(metrics).To(ContainElements("capstan_releases", "capstan_release_reconcile_duration_seconds_bucket",
		"controller_runtime_reconcile_errors_total", "capstan_release_remediations_total", "capstan_release_drifted",
		"workqueue_depth", "capstan_render_duration_seconds_bucket", "rest_client_requests_total"))
}

// TestKit_rejectsBrokenFiles checks that the checks can fail: a rules file with an expression
// that does not parse, a severity outside the list, a bad duration and a broken template, and a
// dashboard panel without a query.
func TestKit_rejectsBrokenFiles(t *testing.T) {
	g := NewWithT(t)
	dir := t.TempDir()
	rules := `groups:
- name: broken
  rules:
  - alert: Unbalanced
    expr: sum(rate(capstan_releases[5m])
    labels: {severity: warning}
    annotations: {summary: x}
  - alert: Loud
    expr: capstan_releases > 0
    labels: {severity: page-everyone}
    annotations: {summary: x}
  - alert: Slow
    expr: capstan_releases > 0
    for: 5 minutes
    labels: {severity: info}
    annotations: {summary: x}
  - alert: Templated
    expr: capstan_releases > 0
    labels: {severity: info}
    annotations: {summary: "{{ $labels.name "}
`
	g.Expect(os.WriteFile(filepath.Join(dir, "capstan-rules.yaml"), []byte(rules), 0o600)).To(Succeed())
	g.Expect(os.WriteFile(filepath.Join(dir, "capstan-dashboard.json"),
		[]byte(`{"title": "t", "uid": "u", "panels": [{"title": "empty", "targets": []}]}`), 0o600)).To(Succeed())
	_, err := Load(dir)
	g.Expect(err).To(HaveOccurred())
	for _, want := range []string{`alert Unbalanced`, `alert "Loud": severity "page-everyone"`, `alert "Slow": for:`,
		`alert "Templated": annotation summary`, `dashboard panel "empty" has no query`} {
		g.Expect(err.Error()).To(ContainSubstring(want))
	}
}

// TestKit_prometheusRuleHoldsTheRules checks that prometheusrule.yaml (written by make manifests)
// holds exactly the groups of capstan-rules.yaml.
func TestKit_prometheusRuleHoldsTheRules(t *testing.T) {
	g := NewWithT(t)
	var plain RuleGroups
	b, err := os.ReadFile(filepath.Join(kitDir, "capstan-rules.yaml"))
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(yaml.UnmarshalStrict(b, &plain)).To(Succeed())
	var pr struct {
		APIVersion string     `json:"apiVersion"`
		Kind       string     `json:"kind"`
		Spec       RuleGroups `json:"spec"`
	}
	b, err = os.ReadFile(filepath.Join(kitDir, "prometheusrule.yaml"))
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(yaml.Unmarshal(b, &pr)).To(Succeed())
	g.Expect(pr.Kind).To(Equal("PrometheusRule"))
	g.Expect(pr.Spec).To(Equal(plain), "run make manifests")
}

// TestKit_kustomizeBuilds builds config/monitoring with kubectl kustomize: the Service, the
// ServiceMonitor, the PrometheusRule and the dashboard's ConfigMap (holding the JSON file as is,
// labelled for Grafana's sidecar), all in capstan-system.
func TestKit_kustomizeBuilds(t *testing.T) {
	g := NewWithT(t)
	out, err := exec.CommandContext(t.Context(), "kubectl", "kustomize", kitDir).Output()
	g.Expect(err).NotTo(HaveOccurred())
	dashboard, err := os.ReadFile(filepath.Join(kitDir, "capstan-dashboard.json"))
	g.Expect(err).NotTo(HaveOccurred())
	kinds := map[string]bool{}
	for _, doc := range strings.Split(string(out), "\n---\n") {
		var obj struct {
			Kind     string `json:"kind"`
			Metadata struct {
				Name      string            `json:"name"`
				Namespace string            `json:"namespace"`
				Labels    map[string]string `json:"labels"`
			} `json:"metadata"`
			Data map[string]string `json:"data"`
		}
		g.Expect(yaml.Unmarshal([]byte(doc), &obj)).To(Succeed())
		kinds[obj.Kind] = true
		g.Expect(obj.Metadata.Namespace).To(Equal("capstan-system"), obj.Kind)
		if obj.Kind == "ConfigMap" {
			g.Expect(obj.Metadata.Labels).To(HaveKeyWithValue("grafana_dashboard", "1"))
			g.Expect(obj.Data).To(HaveKeyWithValue("capstan-dashboard.json", string(dashboard)))
		}
	}
	g.Expect(kinds).To(Equal(map[string]bool{"Service": true, "ServiceMonitor": true, "PrometheusRule": true, "ConfigMap": true}))
}

package controllers_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"strings"
	"sync"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	capstanv1 "github.com/capstan-dev/capstan/api/v1alpha1"
	"github.com/capstan-dev/capstan/internal/testsupport"
)

// canary is a Secret value that must never appear outside its Secret.
const canary = "canary-9f3b7c1e-secret"

// canaryForms are the canary and its base64 encodings.
var canaryForms = []string{canary, base64.StdEncoding.EncodeToString([]byte(canary)),
	base64.RawURLEncoding.EncodeToString([]byte(canary))}

// logCapture keeps what the manager logs.
type logCapture struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logCapture) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

// lines returns the logged lines that contain every one of parts.
func (l *logCapture) lines(parts ...string) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	for _, line := range strings.Split(l.buf.String(), "\n") {
		all := true
		for _, p := range parts {
			all = all && strings.Contains(line, p)
		}
		if all {
			out = append(out, line)
		}
	}
	return out
}

// vault starts a Release of the vault chart, which tries to echo Secret values.
func vault(name, ns string) *testsupport.ReleaseBuilder {
	return testsupport.MakeRelease(name, ns).Chart(repoName, "vault", "1.0.0")
}

// createSecret creates a Secret in ns.
func createSecret(ctx context.Context, ns, name string, data map[string]string) {
	s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}, StringData: data}
	Expect(k8sClient.Create(ctx, s)).To(Succeed())
}

// expectNoCanary checks every place a message about a Release can reach a reader who may not
// read Secrets: its status (and the rest of the object), the events of its namespace, every
// ConfigMap there, and the manager's log. It first waits until the failure was reported in
// each (a Warning event with reason, a "release stalled" log line in ns, redacted), so the
// absence of the canary means something.
func expectNoCanary(ctx context.Context, ns, name, reason string) {
	Eventually(func() []string { return eventReasons(ctx, ns, name) }).Should(ContainElement(reason))
	Eventually(func() []string { return managerLog.lines("release stalled", ns, reason) }).ShouldNot(BeEmpty())

	rel := getRelease(Default, ctx, ns, name)
	relJSON, err := json.Marshal(rel)
	Expect(err).NotTo(HaveOccurred())
	var events eventsv1.EventList
	Expect(k8sClient.List(ctx, &events, client.InNamespace(ns))).To(Succeed())
	eventsJSON, err := json.Marshal(events)
	Expect(err).NotTo(HaveOccurred())
	var cms corev1.ConfigMapList
	Expect(k8sClient.List(ctx, &cms, client.InNamespace(ns))).To(Succeed())
	cmsJSON, err := json.Marshal(cms)
	Expect(err).NotTo(HaveOccurred())
	for _, form := range canaryForms {
		Expect(string(relJSON)).NotTo(ContainSubstring(form), "the Release")
		Expect(string(eventsJSON)).NotTo(ContainSubstring(form), "the events")
		Expect(string(cmsJSON)).NotTo(ContainSubstring(form), "the ConfigMaps")
		Expect(managerLog.lines(form)).To(BeEmpty(), "the manager's log")
	}
}

var _ = Describe("Values read from Secrets", func() {
	It("are not quoted when a valuesFrom Secret value breaks the chart's schema", func(ctx SpecContext) {
		ns := newNamespace(ctx)
		createSecret(ctx, ns, "tokens", map[string]string{"values.yaml": "token: " + canary + "\n"})
		Expect(k8sClient.Create(ctx, vault("schema", ns).
			ValuesFrom(capstanv1.ValuesReference{Kind: capstanv1.ValuesKindSecret, Name: "tokens"}).Obj())).To(Succeed())
		rel := expectStalled(ctx, ns, "schema", capstanv1.SchemaInvalidReason)
		Expect(condition(rel, capstanv1.ReadyCondition).Message).To(ContainSubstring(
			"vault: - at '/token': value does not match pattern '^[a-z]+$'"), "the path and the rule are named")
		expectNoCanary(ctx, ns, "schema", capstanv1.SchemaInvalidReason)
	})

	It("are redacted when a template fails with a looked-up Secret's value", func(ctx SpecContext) {
		ns := newNamespace(ctx)
		createSecret(ctx, ns, "db", map[string]string{"password": canary})
		Expect(k8sClient.Create(ctx, vault("leak", ns).Values(map[string]any{"leakSecret": "db"}).Obj())).To(Succeed())
		rel := expectStalled(ctx, ns, "leak", capstanv1.RenderFailedReason)
		Expect(condition(rel, capstanv1.ReadyCondition).Message).To(ContainSubstring(
			"vault/templates/leak.yaml:3:4): the Secret holds [redacted] (base64 [redacted])"))
		expectNoCanary(ctx, ns, "leak", capstanv1.RenderFailedReason)
	})

	It("are redacted from an API server rejection that quotes them", func(ctx SpecContext) {
		ns := newNamespace(ctx)
		createSecret(ctx, ns, "label", map[string]string{"value": canary})
		Expect(k8sClient.Create(ctx, vault("dry", ns).ValuesFrom(capstanv1.ValuesReference{
			Kind: capstanv1.ValuesKindSecret, Name: "label", Key: "value", TargetPath: "labelValue"}).Obj())).To(Succeed())
		rel := expectStalled(ctx, ns, "dry", capstanv1.DryRunFailedReason)
		msg := condition(rel, capstanv1.ReadyCondition).Message
		Expect(msg).To(ContainSubstring("dry-config"), "the object is named")
		Expect(msg).To(ContainSubstring(`metadata.labels: Invalid value: "[redacted]!"`), "the field is named")
		expectNoCanary(ctx, ns, "dry", capstanv1.DryRunFailedReason)
	})
})

package reconcile

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	"github.com/prometheus/client_golang/prometheus"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	capstanv1 "github.com/capstan-dev/capstan/api/v1alpha1"
	"github.com/capstan-dev/capstan/internal/redact"
)

const canary = "canary-9f3b7c1e-secret"

// TestComposeValues_registersSecrets checks that a valuesFrom Secret's raw text and its string
// leaves are registered with the Redactor of the context, and a ConfigMap's are not.
func TestComposeValues_registersSecrets(t *testing.T) {
	g := NewWithT(t)
	c := fake.NewClientBuilder().WithObjects(
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "creds", Namespace: "apps"},
			Data: map[string][]byte{"values.yaml": []byte("db:\n  password: " + canary + "\n  port: 5432\n"), "raw": []byte("raw-secret-text")}},
		&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "base", Namespace: "apps"}, Data: map[string]string{"values.yaml": "image: public-image\n"}},
	).Build()
	rel := valuesRelease("",
		capstanv1.ValuesReference{Kind: capstanv1.ValuesKindSecret, Name: "creds"},
		capstanv1.ValuesReference{Kind: capstanv1.ValuesKindSecret, Name: "creds", Key: "raw", TargetPath: "token"},
		capstanv1.ValuesReference{Kind: capstanv1.ValuesKindConfigMap, Name: "base"})
	red := redact.New()
	_, err := ComposeValues(redact.NewContext(context.Background(), red), c, rel)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(red.Redact("password " + canary + ", token raw-secret-text, port 5432, image public-image")).
		To(Equal("password [redacted], token [redacted], port 5432, image public-image"))
}

// TestNamespacedLookup_registersSecrets checks that the data of looked-up Secrets (one, or a
// list) is registered, decoded from its base64 form, and that other kinds are not.
func TestNamespacedLookup_registersSecrets(t *testing.T) {
	g := NewWithT(t)
	mapper := meta.NewDefaultRESTMapper(nil)
	mapper.Add(schema.GroupVersionKind{Version: "v1", Kind: "ConfigMap"}, meta.RESTScopeNamespace)
	mapper.Add(schema.GroupVersionKind{Version: "v1", Kind: "Secret"}, meta.RESTScopeNamespace)
	c := fake.NewClientBuilder().WithRESTMapper(mapper).WithObjects(
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "db", Namespace: "apps"}, Data: map[string][]byte{"password": []byte(canary)}},
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "other", Namespace: "apps"}, Data: map[string][]byte{"token": []byte("listed-token-value")}},
		&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "cfg", Namespace: "apps"}, Data: map[string]string{"k": "configmap-value"}},
	).Build()
	l := &NamespacedLookup{Reader: c, Mapper: mapper, Namespaces: []string{"apps"}}
	one, list := redact.New(), redact.New()
	_, err := l.Lookup(redact.NewContext(context.Background(), one), "v1", "Secret", "apps", "db")
	g.Expect(err).NotTo(HaveOccurred())
	_, err = l.Lookup(redact.NewContext(context.Background(), one), "v1", "ConfigMap", "apps", "cfg")
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(one.Redact(canary + " " + base64.StdEncoding.EncodeToString([]byte(canary)) + " configmap-value")).
		To(Equal("[redacted] [redacted] configmap-value"))
	_, err = l.Lookup(redact.NewContext(context.Background(), list), "v1", "Secret", "apps", "")
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(list.Redact(canary + " listed-token-value")).To(Equal("[redacted] [redacted]"))
}

// TestSummarize_redacts checks the errors-to-condition mapping and the status sweep: no
// condition or history message keeps a registered value, and the rest of the message stays.
func TestSummarize_redacts(t *testing.T) {
	g := NewWithT(t)
	red := redact.New()
	red.Add(canary)
	rel := &capstanv1.Release{ObjectMeta: metav1.ObjectMeta{Generation: 2}}
	rel.Status.History = capstanv1.History{{Revision: 1, Message: "Upgrade \"web\" failed: " + canary}}
	setCondition(rel, capstanv1.ReleasedCondition, metav1.ConditionFalse, "UpgradeFailed", "quoted "+canary)
	err := stallErr(capstanv1.RenderFailedReason, fmt.Errorf("execution error at (app/templates/a.yaml:1:3): %s", canary))
	summarize(rel, Outcome{Err: err, Redact: red.Redact})
	redactStatus(rel, red)
	g.Expect(findCondition(rel, capstanv1.ReadyCondition).Message).To(Equal("execution error at (app/templates/a.yaml:1:3): [redacted]"))
	g.Expect(findCondition(rel, capstanv1.StalledCondition).Message).To(Equal("execution error at (app/templates/a.yaml:1:3): [redacted]"))
	g.Expect(fmt.Sprint(rel.Status)).NotTo(ContainSubstring(canary))
}

// TestStartRedaction checks that a reconcile reuses the Redactor its context carries (the CLI's)
// and that the error returned to controller-runtime is scrubbed but keeps its chain.
func TestStartRedaction(t *testing.T) {
	g := NewWithT(t)
	cli := redact.New()
	_, red := startRedaction(redact.NewContext(context.Background(), cli))
	g.Expect(red).To(BeIdenticalTo(cli))
	ctx, red := startRedaction(context.Background())
	g.Expect(red).NotTo(BeNil())
	g.Expect(redact.FromContext(ctx)).To(BeIdenticalTo(red))

	red.Add(canary)
	cause := errors.New("apply failed: " + canary)
	r := &Reconciler{}
	_, err := r.result(ctx, &capstanv1.Release{}, transientErr(capstanv1.ApplyFailedReason, cause))
	g.Expect(err).To(MatchError("apply failed: [redacted]"))
	g.Expect(errors.Is(err, cause)).To(BeTrue())
}

// TestRegisterSecretObject covers the shapes a looked-up Secret can have.
func TestRegisterSecretObject(t *testing.T) {
	g := NewWithT(t)
	red := redact.New()
	registerSecretObject(red, map[string]any{
		"data":       map[string]any{"a": base64.StdEncoding.EncodeToString([]byte("decoded-value")), "b": "not base64!"},
		"stringData": map[string]any{"c": "string-data-value"},
	})
	registerLookup(context.Background(), schema.GroupVersionKind{Version: "v1", Kind: "Secret"}, map[string]any{}) // no Redactor: no-op
	g.Expect(red.Redact("decoded-value not base64! string-data-value")).To(Equal("[redacted] [redacted] [redacted]"))
}

// TestRedactStatus_cutValue checks a value that oneLine cut in half at the message bound: the
// sweep still replaces what is left of it.
func TestRedactStatus_cutValue(t *testing.T) {
	g := NewWithT(t)
	red := redact.New()
	red.Add(canary)
	rel := &capstanv1.Release{}
	long := strings.Repeat("x", maxMessage-10) + " " + canary // the canary straddles the bound
	setCondition(rel, capstanv1.ReleasedCondition, metav1.ConditionFalse, "UpgradeFailed", long)
	g.Expect(findCondition(rel, capstanv1.ReleasedCondition).Message).To(ContainSubstring("canary"))
	redactStatus(rel, red)
	msg := findCondition(rel, capstanv1.ReleasedCondition).Message
	g.Expect(msg).To(HaveSuffix(" [redacted]..."))
	g.Expect(msg).NotTo(ContainSubstring("canary"))
}

// TestMetrics_labelsHoldNoMessage checks that a failure whose text holds a Secret value leaves
// only fixed label values in the release metrics: there is nothing there to redact.
func TestMetrics_labelsHoldNoMessage(t *testing.T) {
	g := NewWithT(t)
	reg := prometheus.NewRegistry()
	m, err := NewMetrics(reg)
	g.Expect(err).NotTo(HaveOccurred())
	rel := &capstanv1.Release{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "apps"}}
	for _, cause := range []error{
		stallErr(capstanv1.RenderFailedReason, errors.New("fail: "+canary)),
		transientErr(capstanv1.ApplyFailedReason, errors.New("apply: "+canary)),
	} {
		summarize(rel, Outcome{Err: cause})
		m.observe(rel, Action{Kind: ActionInstall}, cause, time.Second)
	}
	families, err := reg.Gather()
	g.Expect(err).NotTo(HaveOccurred())
	var labels []string
	for _, f := range families {
		for _, metric := range f.GetMetric() {
			for _, l := range metric.GetLabel() {
				labels = append(labels, l.GetName()+"="+l.GetValue())
			}
		}
	}
	g.Expect(labels).NotTo(BeEmpty())
	g.Expect(labels).To(HaveEach(MatchRegexp(`^(state=(ready|not_ready|stalled|suspended)|action=Install|result=(success|failure|stalled|waiting|progressing|error)|` +
		`strategy=(rollback|uninstall)|namespace=apps|name=web|reason=[A-Z][A-Za-z]+)$`)))
}

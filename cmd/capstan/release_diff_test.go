package main

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/discovery"
	"sigs.k8s.io/controller-runtime/pkg/client"

	capstanv1 "github.com/capstan-dev/capstan/api/v1alpha1"
	"github.com/capstan-dev/capstan/internal/chart"
	"github.com/capstan-dev/capstan/internal/cli"
	"github.com/capstan-dev/capstan/internal/repo"
	"github.com/capstan-dev/capstan/internal/storage"
	"github.com/capstan-dev/capstan/internal/testenv"
	"github.com/capstan-dev/capstan/internal/testsupport"
)

// serveChart packages testdata/charts/diffdemo into a local HTTP chart repository.
func serveChart(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if _, err := chart.Package(filepath.Join("testdata", "charts", "diffdemo"), dir, chart.PackageOptions{}); err != nil {
		t.Fatalf("package: %v", err)
	}
	index, err := repo.IndexDirectory(dir, "", "")
	if err != nil {
		t.Fatalf("index: %v", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "index.yaml"), index, 0o600); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.FileServer(http.Dir(dir)))
	t.Cleanup(srv.Close)
	return srv.URL
}

// runDiffCmd runs `capstan diff` in process and returns its output and the exit status it set.
func (f *envFixture) runDiffCmd(args ...string) (string, int, error) {
	out, _, err := f.run(append([]string{"diff"}, args...)...)
	var status exitStatus
	if errors.As(err, &status) {
		return out, int(status), nil
	}
	return out, 0, err
}

// TestDiffCommand previews a Release against envtest: everything to create before the first
// install, then a changed ConfigMap, a changed Secret (keys only) and a deleted object, and
// nothing once the spec matches the cluster again. The install is made by the Release state
// machine itself, run once in process with the same user client the command uses.
func TestDiffCommand(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	env, cfg, err := testenv.Start("config/crd/bases")
	if err != nil {
		t.Fatalf("cannot start envtest: %v", err)
	}
	t.Cleanup(func() { _ = env.Stop() })
	c, err := client.NewWithWatch(cfg, client.Options{Scheme: cli.Scheme()})
	g.Expect(err).NotTo(HaveOccurred())
	f := &envFixture{c: c, store: storage.NewStore(c), kubeconfig: writeKubeconfig(t, env)}
	ns := f.namespace(t)

	cr := testsupport.MakeChartRepository("repo", ns, serveChart(t)).Obj()
	g.Expect(c.Create(ctx, cr)).To(Succeed())
	cr.Status = testsupport.ReadyStatus(cr.Generation)
	g.Expect(c.Status().Update(ctx, cr)).To(Succeed())
	rel := testsupport.MakeRelease("web", ns).Chart("repo", "diffdemo", "1.0.0").Obj()
	g.Expect(c.Create(ctx, rel)).To(Succeed())

	// Before the first install, every object is to be created.
	out, code, err := f.runDiffCmd("web", "-n", ns, "-o", "json")
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(code).To(Equal(cli.DiffExitChanges))
	var report cli.DiffReport
	g.Expect(json.Unmarshal([]byte(out), &report)).To(Succeed())
	g.Expect(report.Action).To(Equal("Install"))
	g.Expect(report.Revision).To(Equal(1))
	g.Expect(report.Create).To(Equal([]cli.DiffObject{
		{Object: "Secret/" + ns + "/web-secret"}, {Object: "ConfigMap/" + ns + "/web-config"}, {Object: "ConfigMap/" + ns + "/web-extra"},
	}))
	g.Expect(report.Change).To(BeEmpty())
	g.Expect(report.Delete).To(BeEmpty())
	g.Expect(f.store.List(ctx, ns, "web")).To(BeEmpty(), "diff writes no record")

	// Install as the controller would.
	dc, err := discovery.NewDiscoveryClientForConfig(cfg)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(c.Get(ctx, client.ObjectKeyFromObject(rel), rel)).To(Succeed())
	_, err = previewer(c, dc).Reconcile(ctx, rel, nil)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(f.store.List(ctx, ns, "web")).To(HaveLen(1))

	// A values change: the ConfigMap and the Secret change, the extra ConfigMap goes.
	g.Expect(c.Get(ctx, client.ObjectKeyFromObject(rel), rel)).To(Succeed())
	rel.Spec.Values = &runtime.RawExtension{Raw: []byte(`{"greeting":"bonjour","password":"second-secret-value","extra":false}`)}
	g.Expect(c.Update(ctx, rel)).To(Succeed())
	out, code, err = f.runDiffCmd("web", "-n", ns)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(code).To(Equal(cli.DiffExitChanges))
	g.Expect(out).To(Equal(strings.Join([]string{
		`Release ` + ns + `/web (release "web"): the next reconcile would upgrade (Changed: the values changed); chart diffdemo 1.0.0 as revision 2.`,
		`change  Secret/` + ns + `/web-secret  /data/password`,
		`change  ConfigMap/` + ns + `/web-config  /data/greeting`,
		`delete  ConfigMap/` + ns + `/web-extra`,
		`0 to create, 2 to change, 1 to delete.`,
		``,
	}, "\n")))
	g.Expect(out).NotTo(ContainSubstring("secret-value"))
	g.Expect(out).NotTo(ContainSubstring("c2Vjb25k"), "no base64 of the Secret's data either")

	// Back to the installed values: nothing would change, exit status 0.
	g.Expect(c.Get(ctx, client.ObjectKeyFromObject(rel), rel)).To(Succeed())
	rel.Spec.Values = nil
	g.Expect(c.Update(ctx, rel)).To(Succeed())
	out, code, err = f.runDiffCmd("web", "-n", ns)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(code).To(Equal(cli.DiffExitNone))
	g.Expect(out).To(ContainSubstring("the next reconcile would do nothing"))
	g.Expect(out).To(HaveSuffix("No changes: the cluster matches what the next reconcile would apply.\n"))

	// A post-renderer change alone is an upgrade, and diff shows the field the patch changes.
	g.Expect(c.Get(ctx, client.ObjectKeyFromObject(rel), rel)).To(Succeed())
	rel.Spec.PostRenderers = []capstanv1.PostRenderer{{Kustomize: &capstanv1.KustomizePostRenderer{
		Patches: []capstanv1.KustomizePatch{{Target: &capstanv1.PatchTarget{Kind: "ConfigMap", Name: "web-config"},
			Patch: "- op: add\n  path: /data/patched\n  value: \"yes\"\n"}},
	}}}
	g.Expect(c.Update(ctx, rel)).To(Succeed())
	out, code, err = f.runDiffCmd("web", "-n", ns)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(code).To(Equal(cli.DiffExitChanges))
	g.Expect(out).To(ContainSubstring("the next reconcile would upgrade (Changed: the post-renderers changed)"))
	g.Expect(out).To(ContainSubstring(`change  ConfigMap/` + ns + `/web-config  /data/patched`))
	g.Expect(out).To(HaveSuffix("0 to create, 1 to change, 0 to delete.\n"))
	g.Expect(c.Get(ctx, client.ObjectKeyFromObject(rel), rel)).To(Succeed())
	rel.Spec.PostRenderers = nil
	g.Expect(c.Update(ctx, rel)).To(Succeed())

	// The real binary exits 2 when something would change, 1 on an error.
	g.Expect(c.Get(ctx, client.ObjectKeyFromObject(rel), rel)).To(Succeed())
	rel.Spec.Values = &runtime.RawExtension{Raw: []byte(`{"greeting":"hola"}`)}
	g.Expect(c.Update(ctx, rel)).To(Succeed())
	_, _, exit := f.runProcess(t, "diff", "web", "-n", ns)
	g.Expect(exit).To(Equal(2))
	_, stderr, exit := f.runProcess(t, "diff", "missing", "-n", ns)
	g.Expect(exit).To(Equal(1))
	g.Expect(stderr).To(ContainSubstring(`no Release "missing"`))

	// A value the preview read from a Secret is redacted from what the command prints.
	const canary = "canary-9f3b7c1e-secret"
	g.Expect(c.Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "leaky", Namespace: ns},
		StringData: map[string]string{"value": canary}})).To(Succeed())
	g.Expect(c.Get(ctx, client.ObjectKeyFromObject(rel), rel)).To(Succeed())
	rel.Spec.ValuesFrom = []capstanv1.ValuesReference{{Kind: capstanv1.ValuesKindSecret, Name: "leaky", Key: "value", TargetPath: "leak"}}
	g.Expect(c.Update(ctx, rel)).To(Succeed())
	_, _, err = f.runDiffCmd("web", "-n", ns)
	g.Expect(err).To(MatchError(ContainSubstring("diffdemo/templates/leak.yaml:3:4): leaking [redacted]")))
	g.Expect(err.Error()).NotTo(ContainSubstring(canary))
	_, stderr, exit = f.runProcess(t, "diff", "web", "-n", ns)
	g.Expect(exit).To(Equal(1))
	g.Expect(stderr).To(ContainSubstring("leaking [redacted]"))
	g.Expect(stderr).NotTo(ContainSubstring(canary))
}

package storage

import (
	"bytes"
	"context"
	"encoding/json"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/capstan-dev/capstan/internal/testenv/oracle"
)

// The reference helm binary (v4.3.1) is the oracle for the record format: it must read what the
// store writes, and the store must read and continue what it writes. $HELM (set by the Makefile)
// names the binary; otherwise hack/tools.sh builds it.
// helmCLI runs the reference helm binary against the shared control plane, with its own
// configuration directories and a kubeconfig for an envtest admin user.
type helmCLI struct {
	bin        string
	kubeconfig string
	home       string
}

func newHelm(t *testing.T) *helmCLI {
	t.Helper()
	startEnv(t)
	helmBin, err := oracle.Helm()
	if err != nil {
		t.Fatalf("the reference helm binary is not available: %v", err)
	}
	user, err := env.AddUser(envtest.User{Name: "helm-oracle", Groups: []string{"system:masters"}}, nil)
	if err != nil {
		t.Fatalf("envtest user: %v", err)
	}
	kc, err := user.KubeConfig()
	if err != nil {
		t.Fatalf("kubeconfig: %v", err)
	}
	dir := t.TempDir()
	h := &helmCLI{bin: helmBin, kubeconfig: filepath.Join(dir, "kubeconfig"), home: dir}
	if err := os.WriteFile(h.kubeconfig, kc, 0o600); err != nil {
		t.Fatal(err)
	}
	return h
}

// run runs helm and returns its standard output; any failure ends the test.
func (h *helmCLI) run(t *testing.T, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, h.bin, append(args, "--kubeconfig", h.kubeconfig)...)
	cmd.Env = append(os.Environ(), "HELM_DRIVER=secret",
		"HELM_CACHE_HOME="+filepath.Join(h.home, "cache"),
		"HELM_CONFIG_HOME="+filepath.Join(h.home, "config"),
		"HELM_DATA_HOME="+filepath.Join(h.home, "data"))
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("helm %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return stdout.String()
}

// runJSON runs helm with -o json and decodes the output into out.
func (h *helmCLI) runJSON(t *testing.T, out any, args ...string) {
	t.Helper()
	raw := h.run(t, append(args, "-o", "json")...)
	if err := json.Unmarshal([]byte(raw), out); err != nil {
		t.Fatalf("helm %s: output is not JSON: %v\n%s", strings.Join(args, " "), err, raw)
	}
}

type helmListEntry struct {
	Name, Namespace, Revision, Status, Chart string
	AppVersion                               string `json:"app_version"`
}

type helmHistoryEntry struct {
	Revision            int
	Status, Description string
	Chart               string
}

func historyOf(t *testing.T, h *helmCLI, ns, name string) []string {
	t.Helper()
	var hist []helmHistoryEntry
	h.runJSON(t, &hist, "history", name, "-n", ns)
	out := make([]string, 0, len(hist))
	for _, e := range hist {
		out = append(out, "v"+strconv.Itoa(e.Revision)+"="+e.Status+" "+e.Description)
	}
	return out
}

// deploy stores rel as pending, then deployed, then supersedes older revisions: what the
// reconciler does around an install or upgrade.
func (f *storeFixture) deploy(t *testing.T, rel *Release, pending Status, description string) {
	t.Helper()
	rel.Info.Status = pending
	if err := f.store.Create(f.ctx, rel); err != nil {
		t.Fatalf("create v%d: %v", rel.Version, err)
	}
	rel.Info.Status = StatusDeployed
	rel.Info.Description = description
	if err := f.store.UpdateStatus(f.ctx, rel); err != nil {
		t.Fatalf("deploy v%d: %v", rel.Version, err)
	}
	if _, err := f.store.Supersede(f.ctx, rel.Namespace, rel.Name, rel.Version); err != nil {
		t.Fatalf("supersede before v%d: %v", rel.Version, err)
	}
}

func TestInterop_helmReadsCapstanRecords(t *testing.T) {
	g := NewWithT(t)
	f := newFixture(t)
	h := newHelm(t)

	v1 := record(f.ns, "web", 1, StatusPendingInstall)
	v1.Info.FirstDeployed = time.Now().UTC()
	f.deploy(t, v1, StatusPendingInstall, "Install complete")
	v2 := record(f.ns, "web", 2, StatusPendingUpgrade)
	v2.Info.FirstDeployed = v1.Info.FirstDeployed
	v2.Info.Notes = "Thank you for installing demo with Capstan."
	v2.Config = map[string]any{"replicas": float64(3), "image": map[string]any{"tag": "v2"}}
	v2.Manifest = "---\n# Source: demo/templates/cm.yaml\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web\ndata:\n  rev: \"2\"\n"
	f.deploy(t, v2, StatusPendingUpgrade, "Upgrade complete")

	var list []helmListEntry
	h.runJSON(t, &list, "list", "-n", f.ns)
	g.Expect(list).To(Equal([]helmListEntry{{Name: "web", Namespace: f.ns, Revision: "2", Status: "deployed",
		Chart: "demo-0.1.0", AppVersion: "1.0"}}))

	g.Expect(historyOf(t, h, f.ns, "web")).To(Equal([]string{"v1=superseded Install complete", "v2=deployed Upgrade complete"}))
	g.Expect(h.run(t, "get", "manifest", "web", "-n", f.ns)).To(Equal(v2.Manifest + "\n"))
	g.Expect(h.run(t, "get", "notes", "web", "-n", f.ns)).To(ContainSubstring(v2.Info.Notes))

	var values, values1, all map[string]any
	h.runJSON(t, &values, "get", "values", "web", "-n", f.ns)
	g.Expect(values).To(Equal(v2.Config))
	h.runJSON(t, &values1, "get", "values", "web", "-n", f.ns, "--revision", "1")
	g.Expect(values1).To(Equal(map[string]any{"rev": float64(1)}))
	h.runJSON(t, &all, "get", "values", "web", "-n", f.ns, "--all")
	g.Expect(all).To(Equal(map[string]any{"greeting": "hello", "replicas": float64(3), "image": map[string]any{"tag": "v2"}}),
		"helm coalesces the stored chart defaults with the stored user values")
}

// writeTinyChart writes a chart with one ConfigMap and NOTES.txt and returns its directory.
func writeTinyChart(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "tiny")
	files := map[string]string{
		"Chart.yaml":             "apiVersion: v2\nname: tiny\nversion: 0.1.0\nappVersion: \"1.0\"\n",
		"values.yaml":            "greeting: hello\n",
		"templates/cm.yaml":      "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-cm\ndata:\n  greeting: {{ .Values.greeting | quote }}\n",
		"templates/NOTES.txt":    "Greeting is {{ .Values.greeting }}.\n",
		"templates/_helpers.tpl": "{{- define \"tiny.name\" -}}tiny{{- end -}}\n",
	}
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func (f *storeFixture) configMapGreeting(t *testing.T, name string) string {
	t.Helper()
	var cm corev1.ConfigMap
	if err := f.c.Get(f.ctx, client.ObjectKey{Namespace: f.ns, Name: name}, &cm); err != nil {
		t.Fatalf("get configmap: %v", err)
	}
	return cm.Data["greeting"]
}

func TestInterop_capstanContinuesHelmHistory(t *testing.T) {
	g := NewWithT(t)
	f := newFixture(t)
	h := newHelm(t)
	chartDir := writeTinyChart(t)
	h.run(t, "install", "tiny", chartDir, "-n", f.ns, "--set", "greeting=hi")

	// Helm's own Secret: the same name, type and label keys the store writes, and a record our
	// decoder reads in full.
	var s corev1.Secret
	g.Expect(f.c.Get(f.ctx, client.ObjectKey{Namespace: f.ns, Name: "sh.helm.release.v1.tiny.v1"}, &s)).To(Succeed())
	g.Expect(s.Type).To(Equal(SecretType))
	ours, err := NewSecret(record(f.ns, "tiny", 1, StatusDeployed), time.Now())
	g.Expect(err).NotTo(HaveOccurred())
	// Helm's create writes createdAt; its update (pending-install to deployed) rewrites the labels
	// with modifiedAt instead. The store keeps createdAt and adds modifiedAt.
	g.Expect(s.Labels).To(HaveKey("modifiedAt"))
	delete(s.Labels, "modifiedAt")
	delete(ours.Labels, "createdAt")
	g.Expect(slices.Sorted(maps.Keys(s.Labels))).To(Equal(slices.Sorted(maps.Keys(ours.Labels))))
	g.Expect(s.Labels).To(HaveKeyWithValue("owner", "helm"))
	g.Expect(s.Labels).To(HaveKeyWithValue("version", "1"))
	v1, err := Decode(string(s.Data[DataKey]))
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(v1.Name).To(Equal("tiny"))
	g.Expect(v1.Namespace).To(Equal(f.ns))
	g.Expect(v1.Version).To(Equal(1))
	g.Expect(v1.Info.Status).To(Equal(StatusDeployed))
	g.Expect(v1.Info.Description).To(Equal("Install complete"))
	g.Expect(v1.Info.FirstDeployed.IsZero()).To(BeFalse())
	g.Expect(v1.Info.Notes).To(ContainSubstring("Greeting is hi."))
	g.Expect(v1.Chart.Metadata.Name).To(Equal("tiny"))
	g.Expect(v1.Chart.Metadata.AppVersion).To(Equal("1.0"))
	g.Expect(v1.Chart.Values).To(Equal(map[string]any{"greeting": "hello"}))
	g.Expect(v1.Chart.Templates).To(HaveLen(3))
	g.Expect(v1.Config).To(Equal(map[string]any{"greeting": "hi"}))
	g.Expect(v1.Manifest).To(ContainSubstring("name: tiny-cm"))
	g.Expect(v1.ApplyMethod).To(Equal(ApplyMethodServerSide))
	reenc, err := Encode(v1)
	g.Expect(err).NotTo(HaveOccurred())
	again, err := Decode(reenc)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(again).To(Equal(v1), "nothing Helm wrote is lost when the store rewrites its record")

	// Capstan continues the history with revision 2.
	last, err := f.store.Last(f.ctx, f.ns, "tiny")
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(last.Version).To(Equal(1))
	v2 := &Release{Name: "tiny", Namespace: f.ns, Version: last.Version + 1, Chart: Chart{Metadata: last.Chart.Metadata, Values: last.Chart.Values},
		Config:   map[string]any{"greeting": "capstan"},
		Manifest: strings.Replace(last.Manifest, `"hi"`, `"capstan"`, 1), ApplyMethod: ApplyMethodServerSide,
		Info: Info{FirstDeployed: last.Info.FirstDeployed, LastDeployed: time.Now().UTC(), Notes: "Greeting is capstan."}}
	f.deploy(t, v2, StatusPendingUpgrade, "Upgrade complete")
	g.Expect(historyOf(t, h, f.ns, "tiny")).To(Equal([]string{"v1=superseded Install complete", "v2=deployed Upgrade complete"}))
	var values map[string]any
	h.runJSON(t, &values, "get", "values", "tiny", "-n", f.ns, "--revision", "1")
	g.Expect(values).To(Equal(map[string]any{"greeting": "hi"}), "Helm still reads its record after the store superseded it")

	// Helm upgrades from Capstan's revision, and rolls back to it.
	h.run(t, "upgrade", "tiny", chartDir, "-n", f.ns, "--set", "greeting=again")
	g.Expect(f.configMapGreeting(t, "tiny-cm")).To(Equal("again"))
	h.run(t, "rollback", "tiny", "2", "-n", f.ns)
	g.Expect(f.configMapGreeting(t, "tiny-cm")).To(Equal("capstan"), "helm applied the manifest Capstan stored")
	g.Expect(historyOf(t, h, f.ns, "tiny")).To(Equal([]string{
		"v1=superseded Install complete", "v2=superseded Upgrade complete",
		"v3=superseded Upgrade complete", "v4=deployed Rollback to 2",
	}))

	// And the store reads everything Helm wrote since.
	rels, err := f.store.List(f.ctx, f.ns, "tiny")
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(rels).To(HaveLen(4))
	for _, r := range rels {
		g.Expect(r.DecodeError()).NotTo(HaveOccurred())
	}
	g.Expect(rels[3].Manifest).To(Equal(v2.Manifest))
	g.Expect(rels[3].Info.RollbackRevision).To(Equal(2))
	dep, err := f.store.Deployed(f.ctx, f.ns, "tiny")
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(dep.Version).To(Equal(4))
}

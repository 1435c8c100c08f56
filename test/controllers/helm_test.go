package controllers_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	capstanv1 "github.com/capstan-dev/capstan/api/v1alpha1"
	"github.com/capstan-dev/capstan/internal/reconcile"
	"github.com/capstan-dev/capstan/internal/testenv/oracle"
)

// The reference helm binary (v4.3.1) is the oracle: it must list, inspect and continue what the
// controller records, and the controller must take over what it installs.
type helmCLI struct{ bin, kubeconfig, home string }

func newHelm() *helmCLI {
	helmBin, err := oracle.Helm()
	Expect(err).NotTo(HaveOccurred(), "cannot build the reference helm binary")
	user, err := testEnv.AddUser(envtest.User{Name: "helm-oracle", Groups: []string{"system:masters"}}, nil)
	Expect(err).NotTo(HaveOccurred())
	kc, err := user.KubeConfig()
	Expect(err).NotTo(HaveOccurred())
	dir := GinkgoT().TempDir()
	h := &helmCLI{bin: helmBin, kubeconfig: filepath.Join(dir, "kubeconfig"), home: dir}
	Expect(os.WriteFile(h.kubeconfig, kc, 0o600)).To(Succeed())
	return h
}

// run runs helm and returns its standard output; a failure fails the spec.
func (h *helmCLI) run(args ...string) string {
	stdout, stderr, err := h.try(args...)
	Expect(err).NotTo(HaveOccurred(), "helm %s: %s", strings.Join(args, " "), stderr)
	return stdout
}

// try runs helm and returns its standard output and error output and how it ended.
func (h *helmCLI) try(args ...string) (stdout, stderr string, err error) {
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, h.bin, append(args, "--kubeconfig", h.kubeconfig)...)
	cmd.Env = append(os.Environ(), "HELM_DRIVER=secret",
		"HELM_CACHE_HOME="+filepath.Join(h.home, "cache"),
		"HELM_CONFIG_HOME="+filepath.Join(h.home, "config"),
		"HELM_DATA_HOME="+filepath.Join(h.home, "data"))
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err = cmd.Run()
	return out.String(), errOut.String(), err
}

// runJSON runs helm with -o json and decodes its output.
func (h *helmCLI) runJSON(out any, args ...string) {
	raw := h.run(append(args, "-o", "json")...)
	Expect(json.Unmarshal([]byte(raw), out)).To(Succeed(), "helm output: %s", raw)
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

var _ = Describe("The reference helm binary", func() {
	It("lists, shows the history, manifest and values of a release the controller manages", func(ctx SpecContext) {
		h := newHelm()
		ns := newNamespace(ctx)
		Expect(k8sClient.Create(ctx, demo("shown", ns, "1.0.0").Values(map[string]any{"greeting": "hi"}).Obj())).To(Succeed())
		expectReadyAt(ctx, ns, "shown", 1)
		update(ctx, ns, "shown", func(r *capstanv1.Release) { r.Spec.Chart.Version = "1.1.0" })
		expectReadyAt(ctx, ns, "shown", 2)

		var list []helmListEntry
		h.runJSON(&list, "ls", "-n", ns)
		Expect(list).To(ConsistOf(helmListEntry{Name: "shown", Namespace: ns, Revision: "2", Status: "deployed",
			Chart: "demo-1.1.0", AppVersion: "1.0"}))

		var hist []helmHistoryEntry
		h.runJSON(&hist, "history", "shown", "-n", ns)
		Expect(hist).To(Equal([]helmHistoryEntry{
			{Revision: 1, Status: "superseded", Description: "Install complete", Chart: "demo-1.0.0"},
			{Revision: 2, Status: "deployed", Description: "Upgrade complete", Chart: "demo-1.1.0"},
		}))

		manifest := h.run("get", "manifest", "shown", "-n", ns)
		Expect(manifest).To(Equal(record(ctx, ns, "shown", 2).Manifest + "\n"))
		Expect(manifest).To(ContainSubstring("name: shown-config"))
		Expect(manifest).To(ContainSubstring(`chartVersion: "1.1.0"`))

		var values map[string]any
		h.runJSON(&values, "get", "values", "shown", "-n", ns)
		Expect(values).To(Equal(map[string]any{"greeting": "hi"}))
	})

	It("installs a release the controller then takes over, continuing its history", func(ctx SpecContext) {
		h := newHelm()
		ns := newNamespace(ctx)
		h.run("install", "taken", charts.archive("demo", "1.0.0"), "-n", ns, "--set", "greeting=from-helm")
		Expect(configMapData(ctx, ns, "taken-config")).To(HaveKeyWithValue("greeting", "from-helm"))

		Expect(k8sClient.Create(ctx, demo("taken", ns, "1.0.0").Values(map[string]any{"greeting": "from-capstan"}).Obj())).To(Succeed())
		rel := expectReadyAt(ctx, ns, "taken", 2)
		Expect(configMapData(ctx, ns, "taken-config")).To(HaveKeyWithValue("greeting", "from-capstan"))
		Expect(records(ctx, ns, "taken")).To(Equal([]string{"v1=superseded", "v2=deployed"}))
		Expect(record(ctx, ns, "taken", 2).Labels).To(HaveKeyWithValue(reconcile.ReleaseUIDLabel, string(rel.UID)))
		Expect(rel.Status.History).To(HaveLen(2))
		Expect(rel.Status.History[1].Action).To(Equal(capstanv1.ActionInstall), "helm's revision 1 appears in the status history")

		var hist []helmHistoryEntry
		h.runJSON(&hist, "history", "taken", "-n", ns)
		Expect(hist).To(HaveLen(2))
		Expect(hist[1].Status).To(Equal("deployed"))

		By("staying in sync afterwards")
		Consistently(func() []string { return records(ctx, ns, "taken") }, 2*time.Second).Should(HaveLen(2))

		By("upgrading fields helm's field manager also owned")
		update(ctx, ns, "taken", func(r *capstanv1.Release) { r.Spec.Chart.Version = "1.1.0" })
		expectReadyAt(ctx, ns, "taken", 3)
		Expect(configMapData(ctx, ns, "taken-config")).To(HaveKeyWithValue("chartVersion", "1.1.0"))
	})

	It("takes its release back after a helm upgrade, though helm copies the labels of its record", func(ctx SpecContext) {
		h := newHelm()
		ns := newNamespace(ctx)
		Expect(k8sClient.Create(ctx, demo("back", ns, "1.0.0").Values(map[string]any{"greeting": "hi"}).Obj())).To(Succeed())
		rel := expectReadyAt(ctx, ns, "back", 1)

		By("upgrading with helm to the same chart and values: helm's record carries Capstan's labels")
		h.run("upgrade", "back", charts.archive("demo", "1.0.0"), "-n", ns, "--reuse-values")
		copied := record(ctx, ns, "back", 2)
		Expect(copied.Labels).To(HaveKeyWithValue(reconcile.ReleaseUIDLabel, string(rel.UID)))
		Expect(copied.Labels).To(HaveKeyWithValue(reconcile.RevisionLabel, "1"))

		By("taking it over with a revision of its own at the next reconcile")
		update(ctx, ns, "back", func(r *capstanv1.Release) {
			r.Annotations = map[string]string{capstanv1.ReconcileRequestAnnotation: "1"}
		})
		rel = expectReadyAt(ctx, ns, "back", 3)
		Expect(records(ctx, ns, "back")).To(Equal([]string{"v1=superseded", "v2=superseded", "v3=deployed"}))
		Expect(record(ctx, ns, "back", 3).Labels).To(HaveKeyWithValue(reconcile.RevisionLabel, "3"))
		Expect(rel.Status.History[0].Action).To(Equal(capstanv1.ActionUpgrade))
		Consistently(func() []string { return records(ctx, ns, "back") }, 2*time.Second).Should(HaveLen(3))
	})

	It("keeps a helm release and a Capstan release of one name and target apart when their storage namespaces differ", func(ctx SpecContext) {
		h := newHelm()
		target, tenant := newNamespace(ctx), newNamespace(ctx)
		Expect(k8sClient.Create(ctx, inTarget("web", tenant, target, "1.0.0", nil))).To(Succeed())
		expectReadyAt(ctx, tenant, "web", 1)

		By("helm refusing to import Capstan's objects into its release of the same name in the target namespace")
		_, stderr, err := h.try("install", "web", charts.archive("demo", "1.0.0"), "-n", target)
		Expect(err).To(HaveOccurred(), "helm must not adopt another release's objects")
		Expect(stderr).To(ContainSubstring("cannot be imported into the current release"))
		Expect(stderr).To(ContainSubstring(`"meta.helm.sh/release-namespace" must equal "` + target + `"`))
		Expect(configMapData(ctx, target, "web-config")).To(HaveKeyWithValue("greeting", "hello"))
		var list []helmListEntry
		h.runJSON(&list, "ls", "-n", tenant)
		Expect(list).To(ConsistOf(HaveField("Name", "web")), "helm lists Capstan's release in its storage namespace")

		By("Capstan refusing, even with takeOwnership, the objects of a helm release stored in the target namespace")
		other := newNamespace(ctx)
		h.run("install", "shop", charts.archive("demo", "1.0.0"), "-n", other, "--set", "greeting=from-helm")
		rel := inTarget("shop", tenant, other, "1.0.0", nil)
		rel.Spec.Install = &capstanv1.Install{TakeOwnership: true}
		Expect(k8sClient.Create(ctx, rel)).To(Succeed())
		rel = expectStalled(ctx, tenant, "shop", capstanv1.OwnershipConflictReason)
		Expect(condition(rel, capstanv1.ReadyCondition).Message).To(ContainSubstring(
			"ConfigMap/" + other + "/shop-config: owned by helm release " + other + "/shop"))
		Expect(records(ctx, tenant, "shop")).To(BeEmpty())
		Expect(configMapData(ctx, other, "shop-config")).To(HaveKeyWithValue("greeting", "from-helm"))
		var hist []helmHistoryEntry
		h.runJSON(&hist, "history", "shop", "-n", other)
		Expect(hist).To(HaveLen(1))
		Expect(hist[0].Status).To(Equal("deployed"))
	})
})

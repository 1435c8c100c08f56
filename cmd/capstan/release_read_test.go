package main

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	capstanv1 "github.com/capstan-dev/capstan/api/v1alpha1"
	"github.com/capstan-dev/capstan/internal/cli"
	"github.com/capstan-dev/capstan/internal/storage"
	"github.com/capstan-dev/capstan/internal/testenv"
)

// historyRecords stores four revisions of release web in ns, with the descriptions that test the
// table layout (long, multi-line), and user values on revisions 2 and 4.
func (f *envFixture) historyRecords(t *testing.T, ns string) []*storage.Release {
	t.Helper()
	v1 := record(ns, "web", 1, storage.StatusSuperseded, "Install complete")
	v2 := record(ns, "web", 2, storage.StatusSuperseded, "Upgrade complete with a very long description that goes on and on and on past sixty")
	v2.Config = map[string]any{"replicas": 3.0, "image": map[string]any{"tag": "2.0"}}
	v3 := record(ns, "web", 3, storage.StatusFailed, "Upgrade \"web\" failed: line1\nline2")
	v3.Chart.Metadata.Version = "1.1.0"
	v4 := record(ns, "web", 4, storage.StatusDeployed, "Rollback to 2")
	v4.Config = v2.Config
	v4.Info.Notes = "Thank you for installing demo.\nVisit http://web.example."
	v4.Manifest = v2.Manifest + "---\n# Source: demo/templates/svc.yaml\napiVersion: v1\nkind: Service\n"
	recs := []*storage.Release{v1, v2, v3, v4}
	f.createRecords(t, recs...)
	return recs
}

func (f *envFixture) testHistory(t *testing.T) {
	ns := f.namespace(t)
	// The Release "site" manages the Helm release "web": records are found by release name.
	f.createRelease(t, ns, "site", "web", readyStatus(4))
	f.historyRecords(t, ns)
	f.createRelease(t, ns, "empty", "", nil)

	cases := map[string]struct {
		args      []string
		wantLines []string
		wantErr   error
	}{
		"the table lists every revision, oldest first": {
			args: []string{"history", "site", "-n", ns},
			wantLines: []string{
				"REVISION|UPDATED|STATUS|CHART|APP VERSION|DESCRIPTION",
				"1|Tue Mar  5 08:08:09 2024|superseded|demo-1.0.0|2.1|Install complete",
				"2|Tue Mar  5 09:08:09 2024|superseded|demo-1.0.0|2.1|Upgrade complete with a very long description that goes on and on and on past sixty",
				`3|Tue Mar  5 10:08:09 2024|failed|demo-1.1.0|2.1|Upgrade "web" failed: line1`,
				"|||||line2",
				"4|Tue Mar  5 11:08:09 2024|deployed|demo-1.0.0|2.1|Rollback to 2",
			},
		},
		"--max keeps the newest revisions": {
			args: []string{"hist", "site", "-n", ns, "--max", "2"},
			wantLines: []string{
				"REVISION|UPDATED|STATUS|CHART|APP VERSION|DESCRIPTION",
				`3|Tue Mar  5 10:08:09 2024|failed|demo-1.1.0|2.1|Upgrade "web" failed: li...`,
				"4|Tue Mar  5 11:08:09 2024|deployed|demo-1.0.0|2.1|Rollback to 2",
			},
		},
		"a Release that does not exist":  {args: []string{"history", "nope", "-n", ns}, wantErr: cli.ErrReleaseNotFound},
		"a Release without revisions":    {args: []string{"history", "empty", "-n", ns}, wantErr: cli.ErrNoRevision},
		"a Release in another namespace": {args: []string{"history", "site", "-n", "default"}, wantErr: cli.ErrReleaseNotFound},
		"an unknown output format":       {args: []string{"history", "site", "-n", ns, "-o", "wide"}, wantErr: errAny},
		"a missing RELEASE argument":     {args: []string{"history", "-n", ns}, wantErr: errAny},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			out, _, err := f.run(tc.args...)
			if tc.wantErr != nil {
				g.Expect(err).To(HaveOccurred())
				if !errors.Is(tc.wantErr, errAny) {
					g.Expect(errors.Is(err, tc.wantErr)).To(BeTrue(), "error %v", err)
				}
				return
			}
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(tableCells(out)).To(Equal(tc.wantLines))
		})
	}

	t.Run("json and yaml carry the same entries", func(t *testing.T) {
		g := NewWithT(t)
		out, _, err := f.run("history", "site", "-n", ns, "-o", "json", "--max", "1")
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(out).To(Equal(`[{"revision":4,"updated":"2024-03-05T11:08:09Z","status":"deployed","chart":"demo-1.0.0","app_version":"2.1","description":"Rollback to 2"}]` + "\n"))
		out, _, err = f.run("history", "site", "-n", ns, "-o", "yaml", "--max", "1")
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(out).To(Equal("- app_version: \"2.1\"\n  chart: demo-1.0.0\n  description: Rollback to 2\n  revision: 4\n  status: deployed\n  updated: \"2024-03-05T11:08:09Z\"\n"))
	})

	t.Run("an unreadable record is listed, not hidden", func(t *testing.T) {
		g := NewWithT(t)
		bad := &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Name: storage.SecretName("web", 5), Namespace: ns,
				Labels: map[string]string{"owner": "helm", "name": "web", "version": "5", "status": "deployed"}},
			Type: storage.SecretType, Data: map[string][]byte{storage.DataKey: []byte("garbage")},
		}
		g.Expect(f.c.Create(context.Background(), bad)).To(Succeed())
		defer func() { _ = f.c.Delete(context.Background(), bad) }()
		out, _, err := f.run("history", "site", "-n", ns, "--max", "1")
		g.Expect(err).NotTo(HaveOccurred())
		lines := tableCells(out)
		g.Expect(lines).To(HaveLen(2))
		g.Expect(lines[1]).To(HavePrefix("5|Mon Jan  1 00:00:00 0001|unknown|MISSING|MISSING|the record cannot be read: "))
	})
}

// errAny marks a case that must fail, for a reason cobra or pflag words.
var errAny = errors.New("any error")

// tableCells turns a table into lines of cells joined by "|", each cell trimmed, so that the
// assertions check columns and values but not the padding.
func tableCells(out string) []string {
	var lines []string
	for _, line := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
		cells := strings.Split(line, "\t")
		for i := range cells {
			cells[i] = strings.TrimSpace(cells[i])
		}
		lines = append(lines, strings.Join(cells, "|"))
	}
	return lines
}

func (f *envFixture) testGet(t *testing.T) {
	ns := f.namespace(t)
	f.createRelease(t, ns, "site", "web", readyStatus(4))
	recs := f.historyRecords(t, ns)

	cases := map[string]struct {
		args    []string
		want    string
		wantErr error
	}{
		"user values of the newest revision": {
			args: []string{"get", "values", "site", "-n", ns},
			want: "USER-SUPPLIED VALUES:\nimage:\n  tag: \"2.0\"\nreplicas: 3\n",
		},
		"user values of a revision without any": {
			args: []string{"get", "values", "site", "-n", ns, "--revision", "1"},
			want: "USER-SUPPLIED VALUES:\nnull\n",
		},
		"computed values coalesce the stored defaults": {
			args: []string{"get", "values", "site", "-n", ns, "--all", "-o", "json"},
			want: `{"image":{"tag":"2.0"},"replicas":3}` + "\n",
		},
		"computed values of revision 1 are the defaults without their nulls": {
			args: []string{"get", "values", "site", "-n", ns, "-a", "--revision", "1"},
			want: "COMPUTED VALUES:\nimage:\n  tag: \"1.0\"\nreplicas: 1\n",
		},
		"the manifest of the newest revision": {
			args: []string{"get", "manifest", "site", "-n", ns},
			want: recs[3].Manifest + "\n",
		},
		"the manifest of revision 1": {
			args: []string{"get", "manifest", "site", "-n", ns, "--revision", "1"},
			want: recs[0].Manifest + "\n",
		},
		"the notes": {
			args: []string{"get", "notes", "site", "-n", ns},
			want: "NOTES:\n" + recs[3].Info.Notes + "\n",
		},
		"a revision without notes prints nothing": {
			args: []string{"get", "notes", "site", "-n", ns, "--revision", "2"},
			want: "",
		},
		"a revision that does not exist": {
			args: []string{"get", "values", "site", "-n", ns, "--revision", "9"}, wantErr: cli.ErrNoRevision,
		},
		"a negative revision": {
			args: []string{"get", "manifest", "site", "-n", ns, "--revision", "-1"}, wantErr: cli.ErrInvalidArgument,
		},
		"a Release that does not exist": {
			args: []string{"get", "notes", "web", "-n", ns}, wantErr: cli.ErrReleaseNotFound,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			out, _, err := f.run(tc.args...)
			if tc.wantErr != nil {
				g.Expect(errors.Is(err, tc.wantErr)).To(BeTrue(), "error %v", err)
				return
			}
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(out).To(Equal(tc.want))
		})
	}
}

// The reference helm binary is built once per machine by hack/tools.sh.
var (
	helmOnce sync.Once
	helmBin  string
	helmErr  error
)

// helm runs the reference helm v4.3.1 binary against the control plane and returns its output.
func (f *envFixture) helm(t *testing.T, args ...string) string {
	t.Helper()
	helmOnce.Do(func() {
		if helmBin = os.Getenv("HELM"); helmBin != "" {
			return
		}
		out, err := exec.Command(filepath.Join(testenv.RepoRoot(), "hack", "tools.sh"), "helm").Output()
		helmBin, helmErr = strings.TrimSpace(string(out)), err
	})
	if helmErr != nil {
		t.Fatalf("cannot build the reference helm binary with hack/tools.sh helm: %v", helmErr)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	home := t.TempDir()
	cmd := exec.CommandContext(ctx, helmBin, append(args, "--kubeconfig", f.kubeconfig)...)
	cmd.Env = append(os.Environ(), "HELM_DRIVER=secret", "HELM_CACHE_HOME="+home, "HELM_CONFIG_HOME="+home, "HELM_DATA_HOME="+home)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("helm %s: %v", strings.Join(args, " "), err)
	}
	return string(out)
}

// testHelmOracle compares the commands that mirror helm's with the helm binary, byte for byte,
// on the same records. The Release is named differently from its Helm release on purpose.
func (f *envFixture) testHelmOracle(t *testing.T) {
	ns := f.namespace(t)
	f.createRelease(t, ns, "site", "web", readyStatus(4))
	f.historyRecords(t, ns)
	noChart := &storage.Release{Name: "web", Namespace: ns, Version: 5,
		Info: storage.Info{Status: storage.StatusFailed, Description: "a record without chart metadata"}}
	f.createRecords(t, noChart)

	cases := map[string][]string{
		"history":                        {"history", "%s", "-n", ns},
		"history --max 2":                {"history", "%s", "-n", ns, "--max", "2"},
		"history --max 0":                {"history", "%s", "-n", ns, "--max", "0"},
		"history -o json":                {"history", "%s", "-n", ns, "-o", "json"},
		"history -o yaml":                {"history", "%s", "-n", ns, "-o", "yaml"},
		"get values":                     {"get", "values", "%s", "-n", ns, "--revision", "4"},
		"get values of no values":        {"get", "values", "%s", "-n", ns, "--revision", "3"},
		"get values -o json":             {"get", "values", "%s", "-n", ns, "--revision", "2", "-o", "json"},
		"get values -o yaml":             {"get", "values", "%s", "-n", ns, "--revision", "2", "-o", "yaml"},
		"get values --all":               {"get", "values", "%s", "-n", ns, "--all", "--revision", "4"},
		"get values --all of revision 1": {"get", "values", "%s", "-n", ns, "--all", "--revision", "1", "-o", "json"},
		"get manifest":                   {"get", "manifest", "%s", "-n", ns, "--revision", "4"},
		"get manifest of the newest":     {"get", "manifest", "%s", "-n", ns},
		"get notes":                      {"get", "notes", "%s", "-n", ns, "--revision", "4"},
		"get notes of none":              {"get", "notes", "%s", "-n", ns, "--revision", "1"},
	}
	for name, args := range cases {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			want := f.helm(t, withName(args, "web")...)
			got, _, err := f.run(withName(args, "site")...)
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(got).To(Equal(want))
		})
	}
}

// withName returns args with the "%s" placeholder replaced by name.
func withName(args []string, name string) []string {
	out := make([]string, len(args))
	for i, a := range args {
		out[i] = strings.ReplaceAll(a, "%s", name)
	}
	return out
}

func (f *envFixture) testStatus(t *testing.T) {
	ns := f.namespace(t)
	f.createRelease(t, ns, "site", "web", func(rel *capstanv1.Release) {
		readyStatus(4)(rel)
		rel.Status.Inventory = &capstanv1.Inventory{Entries: []capstanv1.InventoryEntry{
			{ID: ns + "_web__ConfigMap", Version: "v1"}, {ID: ns + "_web__Service", Version: "v1"},
		}}
	})
	f.createRelease(t, ns, "fresh", "", nil)

	cases := map[string]struct {
		args []string
		want []string
	}{
		"a deployed Release": {
			args: []string{"status", "site", "-n", ns},
			want: []string{"NAME: site\n", "NAMESPACE: " + ns + "\n", "RELEASE NAME: web\n", "REVISION: 4\n", "CHART: demo-1.0.0\n",
				"APP VERSION: 2.1\n", "DESCRIPTION: Upgrade complete\n", "READY: True (UpgradeSucceeded) Revision deployed\n",
				"OBJECTS: 2\n", "CONDITIONS:\n"},
		},
		"the inventory on request": {
			args: []string{"status", "site", "-n", ns, "--show-resources"},
			want: []string{"OBJECTS: 2\n  " + ns + "_web__ConfigMap\n  " + ns + "_web__Service\n"},
		},
		"a Release the controller has not seen": {
			args: []string{"status", "fresh", "-n", ns},
			want: []string{"RELEASE NAME: fresh\n", "REVISION: none (not installed)\n", "READY: Unknown\n",
				"GENERATION: 1 (the controller has observed -1)\n"},
		},
		"json": {
			args: []string{"status", "site", "-n", ns, "-o", "json"},
			want: []string{`"releaseName":"web"`, `"revision":4`, `"ready":"True"`, `"objects":2`},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			out, _, err := f.run(tc.args...)
			g.Expect(err).NotTo(HaveOccurred())
			for _, w := range tc.want {
				g.Expect(out).To(ContainSubstring(w))
			}
		})
	}
}

func (f *envFixture) testContextNamespace(t *testing.T) {
	g := NewWithT(t)
	ns := f.namespace(t)
	f.createRelease(t, ns, "site", "web", readyStatus(4))
	f.historyRecords(t, ns)
	cmd := newRootCmd()
	var out strings.Builder
	cmd.SetOut(&out)
	cmd.SetArgs([]string{"history", "site", "--max", "1", "--kubeconfig", f.contextKubeconfig(t, ns)})
	g.Expect(cmd.Execute()).To(Succeed(), "no -n: the context's namespace")
	g.Expect(tableCells(out.String())[1]).To(HavePrefix("4|"))
}

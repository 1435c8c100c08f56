package repo

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"

	"github.com/capstan-dev/capstan/internal/testenv/oracle"
)

// The tests in this file use the reference helm v4.3.1 binary as an oracle against loopback
// servers. hack/tools.sh builds it once per machine; a failure to build fails the tests.

func helmBinary(t *testing.T) string {
	t.Helper()
	p, err := oracle.Helm()
	if err != nil {
		t.Fatalf("the reference helm binary is needed for this test and is not available: %v", err)
	}
	return p
}

// runHelm runs helm with its configuration, cache and data kept in a temporary home.
func runHelm(t *testing.T, home string, args ...string) string {
	t.Helper()
	cmd := exec.Command(helmBinary(t), args...)
	cmd.Env = append(os.Environ(),
		"HELM_CACHE_HOME="+filepath.Join(home, "cache"),
		"HELM_CONFIG_HOME="+filepath.Join(home, "config"),
		"HELM_DATA_HOME="+filepath.Join(home, "data"),
		"NO_PROXY=*",
	)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("helm %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// helmPackage writes a chart directory and packages it with helm, returning the archive path.
func helmPackage(t *testing.T, home, name, version string) string {
	t.Helper()
	src := filepath.Join(t.TempDir(), name)
	writeFile(t, filepath.Join(src, "Chart.yaml"), []byte(fmt.Sprintf(
		"apiVersion: v2\nname: %s\nversion: %s\nappVersion: \"2.0\"\ndescription: interop chart\nmaintainers:\n- name: someone\n", name, version)))
	writeFile(t, filepath.Join(src, "values.yaml"), []byte("replicas: 1\n"))
	writeFile(t, filepath.Join(src, "templates", "cm.yaml"), []byte("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n"))
	out := t.TempDir()
	runHelm(t, home, "package", src, "-d", out)
	return filepath.Join(out, fmt.Sprintf("%s-%s.tgz", name, version))
}

func TestHelmInterop_helmRepoIndexParses(t *testing.T) {
	g := NewWithT(t)
	home := t.TempDir()
	dir := t.TempDir()
	for _, v := range []string{"0.1.0", "0.2.0", "0.3.0-beta.1"} {
		tgz := helmPackage(t, home, "web", v)
		data, err := os.ReadFile(tgz)
		g.Expect(err).NotTo(HaveOccurred())
		writeFile(t, filepath.Join(dir, filepath.Base(tgz)), data)
	}
	runHelm(t, home, "repo", "index", dir, "--url", "https://charts.example.com/x")
	f, err := os.Open(filepath.Join(dir, "index.yaml"))
	g.Expect(err).NotTo(HaveOccurred())
	defer f.Close()
	idx, warnings, err := ParseIndex(f, 0)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(warnings).To(BeEmpty())
	g.Expect(versionsOf(idx.Versions("web"))).To(Equal([]string{"0.3.0-beta.1", "0.2.0", "0.1.0"}))
	cv, err := idx.Resolve("web", "")
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(cv.Version).To(Equal("0.2.0"))
	g.Expect(cv.AppVersion).To(Equal("2.0"))
	g.Expect(cv.URLs).To(Equal([]string{"https://charts.example.com/x/web-0.2.0.tgz"}))
	data, err := os.ReadFile(filepath.Join(dir, "web-0.2.0.tgz"))
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(cv.Digest).To(Equal(sha256Hex(data)))

	ours, err := IndexDirectory(dir, "https://charts.example.com/x", "")
	g.Expect(err).NotTo(HaveOccurred())
	mine, _, err := ParseIndex(bytes.NewReader(ours), 0)
	g.Expect(err).NotTo(HaveOccurred())
	for _, v := range idx.Versions("web") {
		c, err := mine.Resolve("web", v.Version)
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(c.Created.IsZero() || v.Created.IsZero()).To(BeFalse())
		c.Created, v.Created = time.Time{}, time.Time{} // each run stamps its own time
		g.Expect(c).To(Equal(v), "our index entry for %s matches helm's", v.Version)
	}
}

func TestHelmInterop_helmPullFromOurIndex(t *testing.T) {
	g := NewWithT(t)
	home := t.TempDir()
	srv := newRepoServer(t)
	dir := t.TempDir()
	for _, v := range []string{"1.0.0", "1.1.0"} {
		data, err := os.ReadFile(helmPackage(t, home, "api", v))
		g.Expect(err).NotTo(HaveOccurred())
		writeFile(t, filepath.Join(dir, "charts", fmt.Sprintf("api-%s.tgz", v)), data)
		srv.put(fmt.Sprintf("/charts/api-%s.tgz", v), data)
	}
	index, err := IndexDirectory(dir, "", "")
	g.Expect(err).NotTo(HaveOccurred())
	srv.put("/index.yaml", index)

	out := t.TempDir()
	runHelm(t, home, "pull", "api", "--repo", srv.URL, "--version", "~1.0", "-d", out)
	pulled, err := os.ReadFile(filepath.Join(out, "api-1.0.0.tgz"))
	g.Expect(err).NotTo(HaveOccurred())
	want, err := os.ReadFile(filepath.Join(dir, "charts", "api-1.0.0.tgz"))
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(pulled).To(Equal(want))

	shown := runHelm(t, home, "show", "chart", "api", "--repo", srv.URL)
	g.Expect(shown).To(ContainSubstring("version: 1.1.0"), "helm resolves the newest version from our index too")
}

func TestHelmInterop_helmPushToRegistry(t *testing.T) {
	g := NewWithT(t)
	home := t.TempDir()
	reg := newOCIRegistry(t)
	pushed := map[string][]byte{}
	for _, v := range []string{"0.5.0", "0.6.0+build.3", "0.7.0-rc.1"} {
		tgz := helmPackage(t, home, "svc", v)
		runHelm(t, home, "push", tgz, "oci://"+reg.host()+"/charts", "--plain-http")
		data, err := os.ReadFile(tgz)
		g.Expect(err).NotTo(HaveOccurred())
		pushed[v] = data
	}
	r, err := New("oci://"+reg.host()+"/charts", Options{PlainHTTP: true})
	g.Expect(err).NotTo(HaveOccurred())
	for constraint, want := range map[string]string{"": "0.6.0+build.3", "0.5.x": "0.5.0", ">=0.7.0-0": "0.7.0-rc.1"} {
		cv, err := r.Resolve(context.Background(), "svc", constraint)
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(cv.Version).To(Equal(want))
		g.Expect(cv.AppVersion).To(Equal("2.0"))
		data, err := r.Fetch(context.Background(), cv)
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(data).To(Equal(pushed[want]), "the layer is the archive helm pushed, byte for byte")
	}
}

// TestHelmInterop_resolutionMatchesHelm resolves a table of constraints against one repository with
// our resolver and with `helm show chart --version`, and expects the same version (or both to
// find none).
func TestHelmInterop_resolutionMatchesHelm(t *testing.T) {
	g := NewWithT(t)
	home := t.TempDir()
	srv := newRepoServer(t)
	dir := t.TempDir()
	versions := []string{"0.9.0", "1.0.0", "1.2.3", "1.2.4-rc.1", "1.3.0", "2.0.0-beta.1", "2.0.0", "2.1.0", "3.0.0-alpha.1"}
	for _, v := range versions {
		data := makeChart(t, "api", v)
		writeFile(t, filepath.Join(dir, fmt.Sprintf("api-%s.tgz", v)), data)
		srv.put(fmt.Sprintf("/api-%s.tgz", v), data)
	}
	index, err := IndexDirectory(dir, "", "")
	g.Expect(err).NotTo(HaveOccurred())
	srv.put("/index.yaml", index)
	idx, _, err := ParseIndex(bytes.NewReader(index), 0)
	g.Expect(err).NotTo(HaveOccurred())

	constraints := []string{"", "*", "1.x", "~1.2", "^1", "^1.2.4-0", ">=1.2.0 <2.0.0", "2.0.0-beta.1", ">=2.0.0-0",
		"~1.2.4-0", "1.2.3", "<1.0.0", ">=1.0.0, <1.3.0", "1.0.0 || 2.1.0", ">3.0.0-0", ">5", "=1.3.0", "!=2.1.0"}
	resolved := 0
	for _, c := range constraints {
		want := ""
		args := []string{"show", "chart", "api", "--repo", srv.URL}
		if c != "" {
			args = append(args, "--version", c)
		}
		cmd := exec.Command(helmBinary(t), args...)
		cmd.Env = append(os.Environ(), "HELM_CACHE_HOME="+home, "HELM_CONFIG_HOME="+home, "HELM_DATA_HOME="+home)
		if out, err := cmd.Output(); err == nil {
			for _, line := range strings.Split(string(out), "\n") {
				if v, ok := strings.CutPrefix(line, "version: "); ok {
					want = v
				}
			}
		}
		got := ""
		if cv, err := idx.Resolve("api", c); err == nil {
			got = cv.Version
		}
		g.Expect(got).To(Equal(want), "constraint %q: helm resolves %q, we resolve %q", c, want, got)
		if want != "" {
			resolved++
		}
	}
	g.Expect(resolved).To(BeNumerically(">=", len(constraints)-3), "most constraints resolve, so the comparison is not vacuous")
}

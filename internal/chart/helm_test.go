package chart

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	. "github.com/onsi/gomega"
)

// The reference helm binary (v4.3.1) serves as an oracle: whatever Package writes, Helm must
// load and render exactly as it renders the source directory, and `helm package` must produce
// the same files. hack/tools.sh builds the binary once per machine (a few minutes) and caches it.

const helmOracleTest = "TestPackage_helmOracle"

// helmBin is the reference binary; errHelm says why it is missing.
var helmBin, errHelm = "", errors.New("helm was not installed: the oracle test did not run through TestMain")

func TestMain(m *testing.M) {
	flag.Parse()
	if needsHelm() {
		helmBin, errHelm = installHelm()
	}
	os.Exit(m.Run())
}

// needsHelm reports whether this run selects the oracle test; fuzz workers and focused runs of
// other tests do not pay for the helm build.
func needsHelm() bool {
	if f := flag.Lookup("test.fuzzworker"); f != nil && f.Value.String() == "true" {
		return false
	}
	if f := flag.Lookup("test.fuzz"); f != nil && f.Value.String() != "" {
		return false
	}
	run := ""
	if f := flag.Lookup("test.run"); f != nil {
		run, _, _ = strings.Cut(f.Value.String(), "/")
	}
	re, err := regexp.Compile(run)
	return err != nil || re.MatchString(helmOracleTest)
}

func installHelm() (string, error) {
	out, err := exec.Command("../../hack/tools.sh", "helm").Output()
	if err != nil {
		var exitErr *exec.ExitError
		if errors.As(err, &exitErr) {
			err = fmt.Errorf("%w: %s", err, exitErr.Stderr)
		}
		return "", fmt.Errorf("hack/tools.sh helm could not provide the reference helm v4.3.1: %w", err)
	}
	return strings.TrimSpace(string(out)), nil
}

// helmRun is what one run of helm printed.
type helmRun struct {
	stdout, stderr string
	failed         bool
}

// helm runs the reference binary with a private home.
func helm(t *testing.T, args ...string) helmRun {
	t.Helper()
	home := t.TempDir()
	cmd := exec.Command(helmBin, args...)
	cmd.Env = append(os.Environ(), "HOME="+home, "HELM_CACHE_HOME="+home+"/cache",
		"HELM_CONFIG_HOME="+home+"/config", "HELM_DATA_HOME="+home+"/data")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	return helmRun{stdout: stdout.String(), stderr: stderr.String(), failed: err != nil}
}

// oracleChart is a chart that exercises what packaging must carry over: .helmignore, a link
// inside the chart, an archived subchart under an alias and condition, CRDs, .Files and .Chart.
func oracleChart(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "oracle")
	writeTree(t, dir, map[string]string{
		"Chart.yaml": "apiVersion: v2\nname: oracle\nversion: 1.2.3\nappVersion: \"4.5\"\ndescription: checks packaging\n" +
			"keywords: [a, b]\nannotations: {team: x}\ndependencies:\n- name: packed\n  version: \"~2\"\n  alias: other\n  condition: other.enabled\n",
		".helmignore":        "*.swp\nsecret/\n",
		"values.yaml":        "other:\n  enabled: true\nname: first\n---\nname: second\n",
		"values.schema.json": `{"type": "object", "required": ["name"]}`,
		"crds/crd.yaml":      "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  name: foos.x.io\n",
		"files/a.txt":        "alpha",
		"files/b.swp":        "ignored",
		"secret/key":         "ignored",
		"templates/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-{{ .Values.name }}\ndata:\n" +
			"  files: {{ range $p, $_ := .Files.Glob \"**\" }}{{ $p }} {{ end }}\n  chart: {{ .Chart | toJson | quote }}\n" +
			"  linked: {{ .Files.Get \"linked.txt\" | quote }}\n",
	})
	symlink(t, "files/a.txt", filepath.Join(dir, "linked.txt"))
	packed := with(minimalChart("packed"), map[string]string{
		"Chart.yaml":        "apiVersion: v2\nname: packed\nversion: 2.1.0\n",
		"templates/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Chart.Name }}-{{ .Values.a }}\n",
		"crds/sub.yaml":     "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  name: bars.x.io\n",
	})
	writeTree(t, dir, map[string]string{"charts/packed-2.1.0.tgz": string(chartTgz(t, "packed", packed))})
	return dir
}

func TestPackage_helmOracle(t *testing.T) {
	if errHelm != nil {
		t.Fatalf("the reference helm binary is required: %v", errHelm)
	}
	probe := func(name string) func(*testing.T) string {
		return func(*testing.T) string { return filepath.Join(probesDir, name) }
	}
	cases := map[string]struct {
		dir  func(t *testing.T) string
		args []string
	}{
		"t1 nulls, globals and a user values file": {dir: probe("t1"), args: []string{"-f", filepath.Join(probesDir, "t1/user.yaml")}},
		"t2 import-values":                         {dir: probe("t2")},
		"t3 conditions, tags and aliases":          {dir: probe("t3")},
		"t4 ordering, hooks, .Files and CRDs":      {dir: probe("t4"), args: []string{"--include-crds"}},
		"t5 a failing render fails the same way":   {dir: probe("t5"), args: []string{"--set", "mode=required"}},
		"t7 three levels of globals":               {dir: probe("t7"), args: []string{"-f", filepath.Join(probesDir, "t7/user.yaml"), "--set", "global.set=s"}},
		"t8 a library subchart and a schema":       {dir: probe("t8")},
		"t9 multi-document values":                 {dir: probe("t9")},
		"a chart with links, ignores and archives": {dir: oracleChart, args: []string{"--include-crds"}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			dir := tc.dir(t)
			archive, err := Package(dir, t.TempDir(), PackageOptions{})
			g.Expect(err).NotTo(HaveOccurred())

			fromDir := helm(t, append([]string{"template", "rel", dir}, tc.args...)...)
			fromArchive := helm(t, append([]string{"template", "rel", archive}, tc.args...)...)
			g.Expect(fromArchive.stdout).To(Equal(fromDir.stdout))
			g.Expect(fromArchive.failed).To(Equal(fromDir.failed), "dir: %s\narchive: %s", fromDir.stderr, fromArchive.stderr)
			if fromDir.failed {
				g.Expect(fromArchive.stderr).To(Equal(fromDir.stderr))
				g.Expect(fromDir.stderr).To(ContainSubstring("execution error at"))
			} else {
				g.Expect(fromDir.stdout).To(ContainSubstring("# Source:"))
			}

			helmArchive := helmPackage(g, t, dir)
			g.Expect(archiveContents(g, archive)).To(Equal(archiveContents(g, helmArchive)),
				"`helm package` writes the same files with the same bytes")
			_, err = Load(helmArchive, DefaultLimits())
			g.Expect(err).NotTo(HaveOccurred(), "Capstan loads what Helm packages")
		})
	}
}

// helmPackage runs `helm package` on dir and returns the archive's path.
func helmPackage(g Gomega, t *testing.T, dir string) string {
	out := t.TempDir()
	run := helm(t, "package", dir, "-d", out)
	g.Expect(run.failed).To(BeFalse(), run.stderr)
	archives, err := filepath.Glob(filepath.Join(out, "*.tgz"))
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(archives).To(HaveLen(1))
	return archives[0]
}

// archiveContents maps every entry of a chart archive to its bytes.
func archiveContents(g Gomega, name string) map[string]string {
	data, err := os.ReadFile(name)
	g.Expect(err).NotTo(HaveOccurred())
	zr, err := gzip.NewReader(bytes.NewReader(data))
	g.Expect(err).NotTo(HaveOccurred())
	tr := tar.NewReader(zr)
	contents := map[string]string{}
	for {
		hd, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return contents
		}
		g.Expect(err).NotTo(HaveOccurred())
		body, err := io.ReadAll(tr)
		g.Expect(err).NotTo(HaveOccurred())
		contents[hd.Name] = string(body)
	}
}

package hygiene

import (
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	. "github.com/onsi/gomega"
	"sigs.k8s.io/yaml"

	"github.com/capstan-dev/capstan/internal/options"
	"github.com/capstan-dev/capstan/internal/testenv/docref"
	"github.com/capstan-dev/capstan/test/conformance"
)

// TestDocs_everyManagerFlag checks the manager-flag table of docs/reference.md against
// internal/options: one row per flag, none for a flag that does not exist, and the default
// the row shows is the flag's default.
func TestDocs_everyManagerFlag(t *testing.T) {
	g := NewWithT(t)
	rows, err := docref.Table("docs/reference.md", "Manager flags (`main.go`, `internal/options`)")
	g.Expect(err).NotTo(HaveOccurred())
	documented := map[string]string{} // flag → its default cell
	for _, row := range rows {
		names := docref.LongFlags(row[0])
		g.Expect(names).To(HaveLen(1), "row %q names one flag", row[0])
		documented[names[0]] = row[1]
	}
	opts := options.Defaults()
	fs := flag.NewFlagSet("manager", flag.ContinueOnError)
	opts.BindFlags(fs)
	bound := map[string]bool{}
	fs.VisitAll(func(f *flag.Flag) {
		bound[f.Name] = true
		t.Run(f.Name, func(t *testing.T) {
			g := NewWithT(t)
			cell, ok := documented[f.Name]
			g.Expect(ok).To(BeTrue(), "--%s is not documented in docs/reference.md", f.Name)
			if f.DefValue == "" {
				g.Expect(cell).To(HavePrefix("empty"), "--%s defaults to the empty string", f.Name)
				return
			}
			g.Expect(docref.Code(cell)).To(ContainElement(f.DefValue), "the default of --%s", f.Name)
		})
	})
	for name := range documented {
		g.Expect(bound).To(HaveKey(name), "docs/reference.md documents --%s, which the manager does not have", name)
	}
}

// TestDocs_everyAPIFieldHasADescription checks that every property of both CRDs carries the
// doc comment of its Go field, so that `kubectl explain` documents it.
func TestDocs_everyAPIFieldHasADescription(t *testing.T) {
	files, err := filepath.Glob(docref.Path("config/crd/bases/*.yaml"))
	if err != nil || len(files) != 2 {
		t.Fatalf("want the two CRDs in config/crd/bases, found %v (%v)", files, err)
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			g := NewWithT(t)
			var crd struct {
				Spec struct {
					Versions []struct {
						Name   string `json:"name"`
						Schema struct {
							OpenAPIV3Schema schema `json:"openAPIV3Schema"`
						} `json:"schema"`
					} `json:"versions"`
				} `json:"spec"`
			}
			data, err := os.ReadFile(file)
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(yaml.Unmarshal(data, &crd)).To(Succeed())
			g.Expect(crd.Spec.Versions).NotTo(BeEmpty())
			for _, v := range crd.Spec.Versions {
				var missing []string
				fields := v.Schema.OpenAPIV3Schema.undocumented("", &missing)
				g.Expect(fields).To(BeNumerically(">", 20), "%s: the schema has fields", v.Name)
				g.Expect(missing).To(BeEmpty(), "%s: fields without a doc comment (kubectl explain shows nothing)", v.Name)
			}
		})
	}
}

// schema is the part of an OpenAPI v3 schema that holds fields.
type schema struct {
	Description          string            `json:"description"`
	Properties           map[string]schema `json:"properties"`
	Items                *schema           `json:"items"`
	AdditionalProperties *schema           `json:"additionalProperties"`
}

// undocumented appends the paths of properties without a description below s and returns how
// many properties it saw. The root's metadata is ObjectMeta, which the apiserver documents.
func (s schema) undocumented(path string, missing *[]string) int {
	n := 0
	for name, p := range s.Properties {
		n++
		child := path + "." + name
		if p.Description == "" && child != ".metadata" {
			*missing = append(*missing, child)
		}
		n += p.undocumented(child, missing)
	}
	if s.Items != nil {
		n += s.Items.undocumented(path+"[]", missing)
	}
	if s.AdditionalProperties != nil {
		n += s.AdditionalProperties.undocumented(path+"{}", missing)
	}
	return n
}

// repoPath is a code span naming something in the repository, such as `internal/chart`.
var repoPath = regexp.MustCompile(`^(api|cmd|config|controllers|hack|internal|test)(/[\w.-]+)*/?$`)

// TestDocs_readmeRowsNameTestsThatExist checks the README's "What works today" table: every path
// and make target a row's "proven by" cell names exists, every row names at least one package
// with tests, and the conformance row's counts are the suite's.
func TestDocs_readmeRowsNameTestsThatExist(t *testing.T) {
	g := NewWithT(t)
	rows, err := docref.Table("README.md", "What works today")
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(len(rows)).To(BeNumerically(">=", 10))
	targets := makeTargets(t)
	for _, row := range rows {
		g.Expect(row).To(HaveLen(3), "row %q has capability, state and proof", row[0])
		t.Run(row[0], func(t *testing.T) {
			g := NewWithT(t)
			tested := 0
			for _, span := range docref.Code(row[2]) {
				if target, ok := strings.CutPrefix(span, "make "); ok {
					g.Expect(targets).To(ContainElement(target), "the Makefile has no target %q", target)
					continue
				}
				if !repoPath.MatchString(span) {
					continue
				}
				info, err := os.Stat(docref.Path(span))
				g.Expect(err).NotTo(HaveOccurred(), "%q does not exist", span)
				if err == nil && info.IsDir() && hasTests(t, docref.Path(span)) {
					tested++
				}
			}
			g.Expect(tested).To(BeNumerically(">", 0), "the row names no package with tests: %q", row[2])
		})
	}
	conformanceCounts(t, rows)
}

// TestDocs_layoutAndIndex checks that every path the README's layout table names exists, and
// that docs/README.md indexes every page of docs/ and links only to pages that exist.
func TestDocs_layoutAndIndex(t *testing.T) {
	g := NewWithT(t)
	rows, err := docref.Table("README.md", "Layout")
	g.Expect(err).NotTo(HaveOccurred())
	for _, row := range rows {
		for _, span := range docref.Code(row[0]) {
			_, err := os.Stat(docref.Path(strings.TrimSuffix(span, "/")))
			g.Expect(err).NotTo(HaveOccurred(), "the README's layout names %q", span)
		}
	}
	index, err := os.ReadFile(docref.Path("docs/README.md"))
	g.Expect(err).NotTo(HaveOccurred())
	linked := map[string]bool{}
	for _, m := range regexp.MustCompile(`\]\(([\w.-]+\.md)\)`).FindAllStringSubmatch(string(index), -1) {
		linked[m[1]] = true
		_, err := os.Stat(docref.Path("docs/" + m[1]))
		g.Expect(err).NotTo(HaveOccurred(), "docs/README.md links to %s", m[1])
	}
	pages, err := filepath.Glob(docref.Path("docs/*.md"))
	g.Expect(err).NotTo(HaveOccurred())
	for _, page := range pages {
		if name := filepath.Base(page); name != "README.md" {
			g.Expect(linked).To(HaveKey(name), "docs/README.md does not index %s", name)
		}
	}
}

// conformanceCounts checks the numbers the conformance row quotes against the suite itself.
func conformanceCounts(t *testing.T, rows [][]string) {
	g := NewWithT(t)
	var row string
	for _, r := range rows {
		if slices.Contains(docref.Code(r[2]), "test/conformance") {
			row = r[2]
		}
	}
	g.Expect(row).NotTo(BeEmpty(), "a row is proven by test/conformance")
	corpus, err := conformance.LoadCorpus(docref.Path("test/conformance/corpus.yaml"))
	g.Expect(err).NotTo(HaveOccurred())
	renders, failures := 0, 0
	for _, c := range corpus.Charts {
		dir, err := c.ChartDir(t.Context())
		g.Expect(err).NotTo(HaveOccurred())
		all, err := c.Renders(dir)
		g.Expect(err).NotTo(HaveOccurred())
		for _, r := range all {
			if r.Fails {
				failures++
			} else {
				renders++
			}
		}
	}
	want := map[string]int{
		"probe cases":       len(conformance.ProbeCases),
		"real-world charts": len(corpus.Charts),
		"renders":           renders,
		"error cases":       failures,
	}
	for noun, n := range want {
		m := regexp.MustCompile(`(\d+) ` + noun).FindStringSubmatch(row)
		g.Expect(m).NotTo(BeNil(), "the conformance row quotes its number of %s", noun)
		if m != nil {
			g.Expect(strconv.Atoi(m[1])).To(Equal(n), "number of %s", noun)
		}
	}
}

func hasTests(t *testing.T, dir string) bool {
	t.Helper()
	tests, err := filepath.Glob(filepath.Join(dir, "*_test.go"))
	if err != nil {
		t.Fatal(err)
	}
	return len(tests) > 0
}

// makeTargets lists the Makefile's targets.
func makeTargets(t *testing.T) []string {
	t.Helper()
	data, err := os.ReadFile(docref.Path("Makefile"))
	if err != nil {
		t.Fatal(err)
	}
	var targets []string
	for _, m := range regexp.MustCompile(`(?m)^([a-z][\w-]*):`).FindAllStringSubmatch(string(data), -1) {
		targets = append(targets, m[1])
	}
	if len(targets) == 0 {
		t.Fatal("no targets in the Makefile")
	}
	return targets
}

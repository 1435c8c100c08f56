package engine

import (
	"context"
	"os"
	"regexp"
	"sort"
	"strings"
	"testing"

	. "github.com/onsi/gomega"

	"github.com/capstan-dev/capstan/internal/testenv/probes"
)

// goldenDoc is one document of helm template's output, with the template it came from.
type goldenDoc struct {
	source string
	body   string
}

var sourceLine = regexp.MustCompile(`(?m)^---\n# Source: (\S+)\n`)

// goldenDocs reads the documents of a golden helm template output. Trailing newlines are not
// compared: helm prints each document followed by one, and trims the end of the manifest block.
func goldenDocs(t *testing.T, file string) []goldenDoc {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatalf("read golden: %v", err)
	}
	text := string(data)
	var docs []goldenDoc
	idx := sourceLine.FindAllStringSubmatchIndex(text, -1)
	for i, m := range idx {
		end := len(text)
		if i+1 < len(idx) {
			end = idx[i+1][0]
		}
		docs = append(docs, goldenDoc{source: text[m[2]:m[3]], body: strings.TrimRight(text[m[1]:end], "\n")})
	}
	return docs
}

var docSeparator = regexp.MustCompile(`(?m)^---[ \t]*`)

// splitDocs splits one rendered file into documents the way Helm v4.3.1 does before printing
// them (left-trimmed pieces, whitespace-only pieces dropped).
func splitDocs(source, text string) []goldenDoc {
	var docs []goldenDoc
	for _, piece := range docSeparator.Split(strings.TrimLeft(text, " \t\r\n"), -1) {
		piece = strings.TrimLeft(piece, " \t\r\n")
		if strings.TrimSpace(piece) == "" {
			continue
		}
		docs = append(docs, goldenDoc{source: source, body: strings.TrimRight(piece, "\n")})
	}
	return docs
}

func renderedDocs(out map[string]string) []goldenDoc {
	var docs []goldenDoc
	for name, text := range out {
		docs = append(docs, splitDocs(name, text)...)
	}
	return docs
}

func sortDocs(docs []goldenDoc) []goldenDoc {
	sort.Slice(docs, func(i, j int) bool {
		if docs[i].source != docs[j].source {
			return docs[i].source < docs[j].source
		}
		return docs[i].body < docs[j].body
	})
	return docs
}

// probeOptions are the options of helm template, with the Helm version the goldens were made
// with: a go-install build of v4.3.1 reports "v4.3", the official release "v4.3.1".
func probeOptions() Options {
	opts := templateOptions()
	opts.Capabilities = DefaultCapabilities()
	opts.Capabilities.HelmVersion.Version = "v4.3"
	return opts
}

func TestRender_probeT4MatchesHelm(t *testing.T) {
	g := NewWithT(t)
	c := loadProbeChart(t, probes.Chart("t4"))
	out, err := Render(context.Background(), c, simpleCoalesce(c, nil), probeOptions())
	g.Expect(err).NotTo(HaveOccurred())

	golden := goldenDocs(t, probes.Golden("t4"))
	var want []goldenDoc
	for _, d := range golden {
		if !strings.Contains(d.source, "/crds/") { // CRD files are printed raw, not rendered.
			want = append(want, d)
		}
	}
	got := renderedDocs(out)
	// Helm drops what the engine renders but never prints: NOTES.txt and the hook with the
	// unknown crd-install event.
	var dropped []goldenDoc
	var kept []goldenDoc
	for _, d := range got {
		if strings.HasSuffix(d.source, "NOTES.txt") || strings.Contains(d.body, "helm.sh/hook: crd-install") {
			dropped = append(dropped, d)
			continue
		}
		kept = append(kept, d)
	}
	g.Expect(sortDocs(kept)).To(Equal(sortDocs(want)))
	g.Expect(dropped).To(HaveLen(2))
	g.Expect(out).To(HaveKeyWithValue("fmt/templates/NOTES.txt", "Notes for release-name\n"))
	g.Expect(out).To(HaveKey("fmt/templates/empty.yaml"))
	g.Expect(out).NotTo(HaveKey("fmt/templates/_a.tpl"))
	g.Expect(out).To(HaveKeyWithValue("fmt/templates/sub/y.yaml", ""))
}

func TestRender_probeT8LibraryChart(t *testing.T) {
	g := NewWithT(t)
	c := loadProbeChart(t, probes.Chart("t8"))
	out, err := Render(context.Background(), c, simpleCoalesce(c, nil), probeOptions())
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(sortDocs(renderedDocs(out))).To(Equal(goldenDocs(t, probes.Golden("t8"))))
	g.Expect(out).To(HaveLen(1), "a library chart contributes only its partials")
}

// helmError reads the error text of a failing helm template run from its golden output.
func helmError(t *testing.T, file string) string {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatalf("read golden: %v", err)
	}
	text := strings.TrimPrefix(string(data), "Error: ")
	text = strings.TrimSuffix(text, "\n")
	return strings.TrimSuffix(text, "\n\nUse --debug flag to render out invalid YAML")
}

func TestRender_probeT5ErrorsMatchHelm(t *testing.T) {
	for _, mode := range []string{"required", "requiredempty", "fail", "tplerr", "tplparse", "recursion", "badinclude", "nested", "badcall"} {
		t.Run(mode, func(t *testing.T) {
			g := NewWithT(t)
			c := loadProbeChart(t, probes.Chart("t5"))
			_, err := Render(context.Background(), c, simpleCoalesce(c, map[string]any{"mode": mode}), probeOptions())
			g.Expect(err).To(HaveOccurred())
			g.Expect(err.Error()).To(Equal(helmError(t, probes.Golden("t5-"+mode))))
		})
	}
}

func TestRender_probeT5OkModeRendersNothing(t *testing.T) {
	g := NewWithT(t)
	c := loadProbeChart(t, probes.Chart("t5"))
	out, err := Render(context.Background(), c, simpleCoalesce(c, nil), probeOptions())
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(out).To(Equal(map[string]string{"err/templates/a.yaml": "\n"}))
}

func TestRender_probeT6NilPointer(t *testing.T) {
	g := NewWithT(t)
	c := loadProbeChart(t, probes.Chart("t6"))
	_, err := Render(context.Background(), c, simpleCoalesce(c, nil), probeOptions())
	g.Expect(err).To(MatchError("perr/templates/bad.yaml:1:13\n" +
		"  executing \"perr/templates/bad.yaml\" at <.Values.missing.deeper>:\n" +
		"    nil pointer evaluating interface {}.deeper"))
}

func TestCheckKubeVersion_probeT8(t *testing.T) {
	g := NewWithT(t)
	c := loadProbeChart(t, probes.Chart("t8"))
	kv, err := ParseKubeVersion("v1.18.3")
	g.Expect(err).NotTo(HaveOccurred())
	caps := DefaultCapabilities()
	caps.KubeVersion = kv
	err = CheckKubeVersion(c, caps)
	g.Expect(err).To(HaveOccurred())
	g.Expect(err.Error()).To(Equal(helmError(t, probes.Golden("t8-kube"))))
	g.Expect(CheckKubeVersion(c, DefaultCapabilities())).To(Succeed())
}

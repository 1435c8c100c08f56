package manifest

import (
	"bytes"
	"errors"
	"log/slog"
	"testing"

	. "github.com/onsi/gomega"
)

// summary is a compact view of a sort result: kind/name@template per document.
func summary(ms []Manifest) []string {
	out := make([]string, 0, len(ms))
	for _, m := range ms {
		out = append(out, m.Head.Kind+"/"+m.Head.Name()+"@"+m.Name)
	}
	return out
}

func hookSummary(hs []Hook) []string {
	out := make([]string, 0, len(hs))
	for _, h := range hs {
		out = append(out, h.Kind+"/"+h.Name+"@"+h.Path)
	}
	return out
}

func doc(kind, name string, annotations ...string) string {
	s := "apiVersion: v1\nkind: " + kind + "\nmetadata:\n  name: " + name + "\n"
	if len(annotations) > 0 {
		s += "  annotations:\n"
		for i := 0; i+1 < len(annotations); i += 2 {
			s += "    " + annotations[i] + ": " + annotations[i+1] + "\n"
		}
	}
	return s
}

func TestSorter_Sort(t *testing.T) {
	cases := map[string]struct {
		files     map[string]string
		order     KindOrder
		manifests []string
		hooks     []string
	}{
		"manifests follow the install kind order": {
			files: map[string]string{"c/templates/a.yaml": doc("Deployment", "d") + "---\n" + doc("Service", "s") + "---\n" +
				doc("Namespace", "ns") + "---\n" + doc("ValidatingWebhookConfiguration", "v") + "---\n" + doc("APIService", "api")},
			manifests: []string{"Namespace/ns@c/templates/a.yaml", "Service/s@c/templates/a.yaml", "Deployment/d@c/templates/a.yaml",
				"APIService/api@c/templates/a.yaml", "ValidatingWebhookConfiguration/v@c/templates/a.yaml"},
		},
		"equal kinds keep template-name order, then file order, with charts/ before templates/": {
			files: map[string]string{
				"p/templates/z.yaml":              doc("ConfigMap", "z1") + "---\n" + doc("ConfigMap", "z2"),
				"p/templates/info.yaml":           doc("ConfigMap", "info"),
				"p/charts/sub/templates/use.yaml": doc("ConfigMap", "use"),
			},
			manifests: []string{"ConfigMap/use@p/charts/sub/templates/use.yaml", "ConfigMap/info@p/templates/info.yaml",
				"ConfigMap/z1@p/templates/z.yaml", "ConfigMap/z2@p/templates/z.yaml"},
		},
		"unknown kinds come last, by name, and a comment-only document has the empty kind": {
			files: map[string]string{"p/templates/m.yaml": doc("Foo", "foo") + "---\n" + doc("Bar", "bar") + "---\n# only a comment\n---\n" +
				doc("Pod", "pod")},
			manifests: []string{"Pod/pod@p/templates/m.yaml", "/@p/templates/m.yaml", "Bar/bar@p/templates/m.yaml", "Foo/foo@p/templates/m.yaml"},
		},
		"partials and whitespace-only files are skipped": {
			files: map[string]string{"p/templates/_helpers.tpl": doc("ConfigMap", "partial"), "p/templates/ws.yaml": " \n\n\t",
				"p/templates/cm.yaml": doc("ConfigMap", "cm")},
			manifests: []string{"ConfigMap/cm@p/templates/cm.yaml"},
		},
		"hooks are separated and sorted by kind, not by weight": {
			files: map[string]string{"p/templates/hooks.yaml": doc("Job", "hook-b", "helm.sh/hook", "pre-install,post-upgrade", "helm.sh/hook-weight", `"5"`) +
				"---\n" + doc("ConfigMap", "hook-a", "helm.sh/hook", "pre-install", "helm.sh/hook-weight", `"-5"`) +
				"---\n" + doc("Pod", "test-pod", "helm.sh/hook", "test") +
				"---\n" + doc("ServiceAccount", "hook-sa", `"helm.sh/hook"`, `" Pre-Install "`)},
			manifests: []string{},
			hooks: []string{"ServiceAccount/hook-sa@p/templates/hooks.yaml", "ConfigMap/hook-a@p/templates/hooks.yaml",
				"Pod/test-pod@p/templates/hooks.yaml", "Job/hook-b@p/templates/hooks.yaml"},
		},
		"a document with any unknown hook event is dropped entirely": {
			files: map[string]string{"p/templates/h.yaml": doc("ConfigMap", "crd", "helm.sh/hook", "crd-install") + "---\n" +
				doc("ConfigMap", "mixed", "helm.sh/hook", "pre-install,bogus") + "---\n" + doc("ConfigMap", "plain")},
			manifests: []string{"ConfigMap/plain@p/templates/h.yaml"},
		},
		"another kind order can be given": {
			files:     map[string]string{"p/templates/a.yaml": doc("Namespace", "ns") + "---\n" + doc("Service", "s")},
			order:     UninstallOrder,
			manifests: []string{"Service/s@p/templates/a.yaml", "Namespace/ns@p/templates/a.yaml"},
		},
		"numeric annotation values are read as strings": {
			files:     map[string]string{"p/templates/a.yaml": doc("ConfigMap", "num", "helm.sh/hook-weight", "5", "x", "true")},
			manifests: []string{"ConfigMap/num@p/templates/a.yaml"},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			hooks, manifests, err := Sorter{Order: tc.order, Logger: slog.New(slog.DiscardHandler)}.Sort(tc.files)
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(summary(manifests)).To(Equal(tc.manifests))
			if tc.hooks == nil {
				tc.hooks = []string{}
			}
			g.Expect(hookSummary(hooks)).To(Equal(tc.hooks))
		})
	}
}

func TestSorter_Sort_hookFields(t *testing.T) {
	g := NewWithT(t)
	text := doc("Job", "j", "helm.sh/hook", `" Pre-Install , test-success"`, "helm.sh/hook-weight", `"-3"`,
		"helm.sh/hook-delete-policy", `"Hook-Succeeded, bogus,hook-failed"`, "helm.sh/hook-output-log-policy", "hook-failed")
	hooks, manifests, err := Sort(map[string]string{"p/templates/j.yaml": text}, nil, InstallOrder)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(manifests).To(BeEmpty())
	g.Expect(hooks).To(Equal([]Hook{{
		Name: "j", Kind: "Job", Path: "p/templates/j.yaml", Manifest: text,
		Events: []string{EventPreInstall, EventTest}, Weight: -3,
		DeletePolicies:    []string{PolicyHookSucceeded, PolicyHookFailed},
		OutputLogPolicies: []string{PolicyHookFailed},
	}}))
}

func TestSorter_Sort_logsUnknownHooks(t *testing.T) {
	g := NewWithT(t)
	var buf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
		if a.Key == slog.TimeKey {
			return slog.Attr{}
		}
		return a
	}}))
	_, _, err := Sorter{Logger: log}.Sort(map[string]string{"p/templates/h.yaml": doc("ConfigMap", "crd", "helm.sh/hook", "crd-install")})
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(buf.String()).To(Equal("level=INFO msg=\"skipping unknown hooks\" hookTypes=crd-install\n"))
}

func TestSorter_Sort_parseErrors(t *testing.T) {
	cases := map[string]struct {
		text string
		want string
	}{
		"invalid YAML names the template and the line": {
			text: "a: b: c\n",
			want: "YAML parse error on p/templates/bad.yaml: error converting YAML to JSON: yaml: mapping values are not allowed in this context",
		},
		"a list document is not a mapping": {
			text: "- a\n- b\n",
			want: "YAML parse error on p/templates/bad.yaml: error unmarshaling JSON: while decoding JSON: json: cannot unmarshal array into Go value of type manifest.rawHead",
		},
		"an error in a later document still fails the whole sort": {
			text: doc("ConfigMap", "ok") + "---\nkind: [\n",
			want: "YAML parse error on p/templates/bad.yaml: error converting YAML to JSON: yaml: line 1: did not find expected node content",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			_, _, err := Sort(map[string]string{"p/templates/bad.yaml": tc.text}, nil, InstallOrder)
			g.Expect(err).To(MatchError(tc.want))
			var perr *ParseError
			g.Expect(errors.As(err, &perr)).To(BeTrue())
			g.Expect(perr.Template).To(Equal("p/templates/bad.yaml"))
		})
	}
}

func TestAssemble(t *testing.T) {
	g := NewWithT(t)
	_, manifests, err := Sort(map[string]string{"p/templates/a.yaml": "a: 1\n\n---\nb: 2"}, nil, nil)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(Assemble(manifests)).To(Equal("---\n# Source: p/templates/a.yaml\na: 1\n\n\n---\n# Source: p/templates/a.yaml\nb: 2\n"))
}

// TestSorter_Sort_aliasBomb is the kubernetes#83253 "billion laughs" payload in rendered output
// (hardening B15): it must fail fast instead of expanding.
func TestSorter_Sort_aliasBomb(t *testing.T) {
	g := NewWithT(t)
	bomb := "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: bomb\ndata:\n" +
		"  a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n" +
		"  b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\n  c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n" +
		"  d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\n  e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\n" +
		"  f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]\n  g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]\n" +
		"  h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]\n  i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]\n"
	_, _, err := Sort(map[string]string{"p/templates/bomb.yaml": bomb}, nil, InstallOrder)
	g.Expect(err).To(MatchError(ContainSubstring("excessive aliasing")))
	g.Expect(Validate([]Manifest{{Name: "p/templates/bomb.yaml", Content: bomb}}, "default")).
		To(MatchError(ContainSubstring("excessive aliasing")))
}

package conformance

import (
	"encoding/base64"
	"os"
	"path/filepath"
	"slices"
	"testing"

	. "github.com/onsi/gomega"
)

const pem = "-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIRAK\n-----END CERTIFICATE-----"

func TestDiffObjects(t *testing.T) {
	base := "---\n# Source: c/templates/a.yaml\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\ndata:\n  k: v\n"
	cases := map[string]struct {
		want, got string
		same      bool
	}{
		"identical output":                 {base, base, true},
		"blank lines do not matter":        {base, base + "\n\n", true},
		"a changed value is a difference":  {base, base[:len(base)-2] + "w\n", false},
		"a missing object is a difference": {base, "", false},
		"document order does not matter": {
			base + "---\n# Source: c/templates/b.yaml\napiVersion: v1\nkind: Secret\nmetadata:\n  name: b\n",
			"---\n# Source: c/templates/b.yaml\napiVersion: v1\nkind: Secret\nmetadata:\n  name: b\n" + base, true,
		},
		"the source template is compared": {base, "---\n# Source: c/templates/z.yaml\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\ndata:\n  k: v\n", false},
		"a repeated object is kept twice": {base + base, base, false},
		"generated certificates are masked, in text and base64": {
			"---\n# Source: c/templates/s.yaml\napiVersion: v1\nkind: Secret\nmetadata:\n  name: s\ndata:\n  tls.crt: " +
				base64.StdEncoding.EncodeToString([]byte(pem+"\n")) + "\nstringData:\n  ca: |\n    " + pem[:27] + "\n    AAAA\n    -----END CERTIFICATE-----\n",
			"---\n# Source: c/templates/s.yaml\napiVersion: v1\nkind: Secret\nmetadata:\n  name: s\ndata:\n  tls.crt: " +
				base64.StdEncoding.EncodeToString([]byte(pem[:27]+"\nBBBB\n-----END CERTIFICATE-----\n")) + "\nstringData:\n  ca: |\n    " + pem[:27] + "\n    CCCC\n    -----END CERTIFICATE-----\n",
			true,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			diff := diffObjects(tc.want, tc.got)
			if tc.same {
				g.Expect(diff).To(BeEmpty())
			} else {
				g.Expect(diff).NotTo(BeEmpty())
			}
		})
	}
}

func TestCompareOutput(t *testing.T) {
	a := "---\n# Source: c/templates/a.yaml\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\ndata:\n  k: v\n"
	b := "---\n# Source: c/templates/b.yaml\napiVersion: v1\nkind: Secret\nmetadata:\n  name: b\n"
	cert := func(body string) string {
		return "---\n# Source: c/templates/s.yaml\napiVersion: v1\nkind: Secret\nmetadata:\n  name: s\ndata:\n  tls.crt: " +
			base64.StdEncoding.EncodeToString([]byte(pem[:27]+"\n"+body+"\n-----END CERTIFICATE-----\n")) + "\n"
	}
	cases := map[string]struct {
		want, got, says string
	}{
		"identical output is equal":                       {a + b, a + b, ""},
		"another generated certificate is equal":          {cert("AAAA"), cert("BBBBBBBB"), ""},
		"a changed value names the objects":               {a, a[:len(a)-2] + "w\n", "objects differ"},
		"a missing object names the objects":              {a + b, a, "objects differ"},
		"the same objects in another order fail":          {a + b, b + a, "another order"},
		"a blank line fails as a byte difference":         {a + b, a + "\n" + b, "other bytes"},
		"a quoted value that parses the same still fails": {a, a[:len(a)-2] + "\"v\"\n", "other bytes"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			diff := compareOutput(tc.want, tc.got)
			if tc.says == "" {
				g.Expect(diff).To(BeEmpty())
				return
			}
			g.Expect(diff).To(ContainSubstring(tc.says))
		})
	}
}

func TestCorpusChart_renders(t *testing.T) {
	g := NewWithT(t)
	dir := t.TempDir()
	g.Expect(os.MkdirAll(filepath.Join(dir, "ci"), 0o755)).To(Succeed())
	for _, f := range []string{"b-values.yaml", "a.yaml", "notes.txt"} {
		g.Expect(os.WriteFile(filepath.Join(dir, "ci", f), nil, 0o600)).To(Succeed())
	}
	c := CorpusChart{
		Name: "x", Release: "rel", Namespace: "ns", Args: []string{"--common"},
		Sets:   map[string][]string{"default": nil, "zeta": {"--z"}, "alpha": {"--a"}},
		CI:     &CISets{Args: []string{"--ci"}},
		Errors: map[string][]string{"too-old": {"--kube-version", "v1.0.0"}},
	}
	renders, err := c.Renders(dir)
	g.Expect(err).NotTo(HaveOccurred())
	base := []string{"rel", dir, "--namespace", "ns", "--common"}
	g.Expect(renders).To(Equal([]Render{
		{Name: "default", Args: base},
		{Name: "alpha", Args: append(slices.Clone(base), "--a")},
		{Name: "zeta", Args: append(slices.Clone(base), "--z")},
		{Name: "ci-a", Args: append(slices.Clone(base), "-f", filepath.Join(dir, "ci", "a.yaml"), "--ci")},
		{Name: "ci-b-values", Args: append(slices.Clone(base), "-f", filepath.Join(dir, "ci", "b-values.yaml"), "--ci")},
		{Name: "too-old", Args: append(slices.Clone(base), "--kube-version", "v1.0.0"), Fails: true},
	}))
	g.Expect(c.GoldenPath(renders[3])).To(Equal(filepath.Join("golden", "x", "ci-a.yaml")))
	g.Expect(c.GoldenPath(renders[5])).To(Equal(filepath.Join("golden", "x", "too-old.txt")))

	c.CI = &CISets{}
	_, err = c.Renders(t.TempDir())
	g.Expect(err).To(MatchError(ContainSubstring("no ci/*.yaml")), "ci without files is a mistake")
}

func TestMaskText(t *testing.T) {
	g := NewWithT(t)
	g.Expect(maskText("a: " + base64.StdEncoding.EncodeToString([]byte(pem)))).To(Equal("a: " + masked))
	g.Expect(maskText("x\n" + pem + "\ny")).To(Equal("x\n" + masked + "\ny"))
	g.Expect(maskText("plain: text")).To(Equal("plain: text"))
}

func TestLoadCorpus(t *testing.T) {
	g := NewWithT(t)
	c, err := LoadCorpus(CorpusFile)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(len(c.Charts)).To(BeNumerically(">=", 8))
	for _, ch := range c.Charts {
		g.Expect(ch.Sets).To(HaveKey("default"), ch.Name)
	}
	renders, err := c.Charts[0].Renders("/dir")
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(renders[0]).To(Equal(Render{Name: "default", Args: []string{"cert-manager", "/dir", "--namespace", "cert-manager"}}))
}

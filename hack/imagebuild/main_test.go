package main

import (
	"io"
	"log"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	. "github.com/onsi/gomega"
	"sigs.k8s.io/yaml"

	"github.com/capstan-dev/capstan/internal/testenv"
)

const digest = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

// TestPin_kustomization checks that pinning sets the capstan entry to the pushed digest, keeps the
// file's comments and other entries, and drops a tag (kustomize would otherwise keep both).
func TestPin_kustomization(t *testing.T) {
	cases := map[string]struct {
		in   string
		want []map[string]string
	}{
		"a tagged entry becomes a digest": {
			in:   "# the install\nresources:\n- ../manager\nimages:\n- name: capstan\n  newTag: dev # the local tag\n",
			want: []map[string]string{{"name": "capstan", "newName": "reg.example/capstan", "digest": digest}},
		},
		"no images list gets one": {
			in:   "resources:\n- ../manager\n",
			want: []map[string]string{{"name": "capstan", "newName": "reg.example/capstan", "digest": digest}},
		},
		"other images are left alone": {
			in: "images:\n- name: other\n  newTag: v1\n- name: capstan\n  newName: old/capstan\n  digest: sha256:old\n",
			want: []map[string]string{{"name": "other", "newTag": "v1"},
				{"name": "capstan", "newName": "reg.example/capstan", "digest": digest}},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			file := filepath.Join(t.TempDir(), "kustomization.yaml")
			g.Expect(os.WriteFile(file, []byte(tc.in), 0o644)).To(Succeed())
			g.Expect(pinKustomization(file, "capstan", "reg.example/capstan", digest)).To(Succeed())
			out, err := os.ReadFile(file)
			g.Expect(err).NotTo(HaveOccurred())
			var k struct {
				Resources []string            `json:"resources"`
				Images    []map[string]string `json:"images"`
			}
			g.Expect(yaml.Unmarshal(out, &k)).To(Succeed())
			g.Expect(k.Images).To(Equal(tc.want))
			if len(tc.in) > 0 && tc.in[0] == '#' {
				g.Expect(string(out)).To(HavePrefix("# the install\n"))
			}
		})
	}
}

func TestPin_refusesWhatIsNotAKustomization(t *testing.T) {
	cases := map[string]string{
		"a list at the top":          "- a\n",
		"images that are not a list": "images: capstan\n",
		"not YAML":                   "images: [\n",
	}
	for name, in := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := pin([]byte(in), "capstan", "reg.example/capstan", digest)
			NewWithT(t).Expect(err).To(HaveOccurred())
		})
	}
}

func TestParseFlags(t *testing.T) {
	required := []string{"--version", "v1", "--commit", "abc", "--created", "2026-12-07T06:00:00Z"}
	cases := map[string]struct {
		args []string
		want string
	}{
		"the version, commit and date are required": {nil, "--version, --commit and --created are required"},
		"pinning needs a repository":                {append(required, "--pin", "k.yaml"), "--push and --pin need --repo"},
		"pushing needs a repository":                {append(required, "--push"), "--push and --pin need --repo"},
		"no arguments":                              {append(required, "extra"), "unexpected arguments"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := parseFlags(tc.args, io.Discard)
			NewWithT(t).Expect(err).To(MatchError(ContainSubstring(tc.want)))
		})
	}
	t.Run("the build date defaults to the creation time", func(t *testing.T) {
		g := NewWithT(t)
		c, err := parseFlags(required, io.Discard)
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(c.buildDate).To(Equal("2026-12-07T06:00:00Z"))
		b, specs, err := c.build()
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(b.Platforms).To(HaveLen(2))
		g.Expect(specs).To(HaveLen(2))
	})
	t.Run("bad values are named", func(t *testing.T) {
		g := NewWithT(t)
		for flag, value := range map[string]string{"--created": "yesterday", "--images": "capstan,nginx", "--platforms": "linux/amd64,"} {
			c, err := parseFlags(append(required, flag, value), io.Discard)
			g.Expect(err).NotTo(HaveOccurred())
			_, _, err = c.build()
			g.Expect(err).To(MatchError(ContainSubstring(flag)), "%s %s", flag, value)
		}
	})
}

// TestRun_pushAndPin runs the command as `make image IMAGE_REPO=...` does, for the manager on
// this machine's architecture: it writes the layout and images.txt, pushes to an in-process
// registry, and pins a kustomization to the digest the registry then serves under the tag.
func TestRun_pushAndPin(t *testing.T) {
	g := NewWithT(t)
	reg := httptest.NewServer(registry.New(registry.WithReferrersSupport(true), registry.Logger(log.New(io.Discard, "", 0))))
	t.Cleanup(reg.Close)
	prefix := strings.TrimPrefix(reg.URL, "http://") + "/acme"
	out := t.TempDir()
	kustomization := filepath.Join(t.TempDir(), "kustomization.yaml")
	g.Expect(os.WriteFile(kustomization, []byte("images:\n- name: capstan\n  newTag: dev\n"), 0o644)).To(Succeed())
	c, err := parseFlags([]string{"--out", out, "--module", testenv.RepoRoot(), "--version", "v0.0.1-test", "--commit", "abc",
		"--created", "2026-12-07T06:00:00Z", "--images", "capstan", "--platforms", "linux/" + runtime.GOARCH,
		"--repo", prefix, "--push", "--pin", kustomization}, io.Discard)
	g.Expect(err).NotTo(HaveOccurred())
	var stdout strings.Builder
	g.Expect(run(t.Context(), c, &stdout)).To(Succeed())

	ref, err := name.ParseReference(prefix + "/capstan:v0.0.1-test")
	g.Expect(err).NotTo(HaveOccurred())
	desc, err := remote.Head(ref)
	g.Expect(err).NotTo(HaveOccurred())
	pinned, err := os.ReadFile(kustomization)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(string(pinned)).To(Equal("images:\n- name: capstan\n  newName: " + prefix + "/capstan\n  digest: " + desc.Digest.String() + "\n"))
	g.Expect(stdout.String()).To(ContainSubstring("pushed " + prefix + "/capstan@" + desc.Digest.String()))

	summary, err := os.ReadFile(filepath.Join(out, "images.txt"))
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(string(summary)).To(MatchRegexp(`capstan\s+v0\.0\.1-test\s+index\s+` + desc.Digest.String() + `\s+\d+\n`))
	g.Expect(string(summary)).To(MatchRegexp(`capstan\s+v0\.0\.1-test\s+sbom linux/` + runtime.GOARCH + `\s+sha256:[0-9a-f]{64}\s+\d+\n`))
	g.Expect(filepath.Join(out, "capstan", "index.json")).To(BeAnExistingFile())
	g.Expect(filepath.Join(out, ".build")).NotTo(BeAnExistingFile(), "the compiled binaries are removed")
}

// TestPin_configDefault pins the install's own kustomization and checks that only its capstan
// entry changed: comments, order and indentation stay as written.
func TestPin_configDefault(t *testing.T) {
	g := NewWithT(t)
	data, err := os.ReadFile(filepath.Join(testenv.RepoRoot(), "config", "default", "kustomization.yaml"))
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(string(data)).To(ContainSubstring("images:\n- name: capstan\n  newTag: dev\n"))
	out, err := pin(data, "capstan", "ghcr.io/acme/capstan", digest)
	g.Expect(err).NotTo(HaveOccurred())
	want := strings.Replace(string(data), "- name: capstan\n  newTag: dev\n",
		"- name: capstan\n  newName: ghcr.io/acme/capstan\n  digest: "+digest+"\n", 1)
	g.Expect(string(out)).To(Equal(want))
}

package cli

import (
	"os"
	"path/filepath"
	"testing"

	. "github.com/onsi/gomega"
)

// twoClusters is a kubeconfig with two contexts: "one" (current, namespace team-a) and "two"
// (no namespace), on different servers.
const twoClusters = `apiVersion: v1
kind: Config
clusters:
- name: one
  cluster: {server: "https://one.example:6443"}
- name: two
  cluster: {server: "https://two.example:6443"}
users:
- name: admin
  user: {token: not-a-secret}
contexts:
- name: one
  context: {cluster: one, user: admin, namespace: team-a}
- name: two
  context: {cluster: two, user: admin}
current-context: one
`

func TestKubeFlags(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config")
	if err := os.WriteFile(path, []byte(twoClusters), 0o600); err != nil {
		t.Fatal(err)
	}
	cases := map[string]struct {
		flags    KubeFlags
		wantNS   string
		wantHost string
	}{
		"the current context and its namespace": {
			flags: KubeFlags{Kubeconfig: path}, wantNS: "team-a", wantHost: "https://one.example:6443",
		},
		"-n wins over the context's namespace": {
			flags: KubeFlags{Kubeconfig: path, Namespace: "other"}, wantNS: "other", wantHost: "https://one.example:6443",
		},
		"--context selects another cluster; without a namespace it is default": {
			flags: KubeFlags{Kubeconfig: path, Context: "two"}, wantNS: "default", wantHost: "https://two.example:6443",
		},
		"--context and -n together": {
			flags: KubeFlags{Kubeconfig: path, Context: "two", Namespace: "x"}, wantNS: "x", wantHost: "https://two.example:6443",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			ns, err := tc.flags.ResolveNamespace()
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(ns).To(Equal(tc.wantNS))
			cfg, err := tc.flags.RESTConfig()
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(cfg.Host).To(Equal(tc.wantHost))
			g.Expect(cfg.UserAgent).To(Equal("capstan-cli"))
		})
	}

	t.Run("an unknown context is an error", func(t *testing.T) {
		g := NewWithT(t)
		f := KubeFlags{Kubeconfig: path, Context: "three"}
		_, err := f.RESTConfig()
		g.Expect(err).To(MatchError(ContainSubstring(`context "three"`)))
		_, err = f.Connect()
		g.Expect(err).To(HaveOccurred())
	})
	t.Run("a kubeconfig that does not exist is an error", func(t *testing.T) {
		g := NewWithT(t)
		f := KubeFlags{Kubeconfig: filepath.Join(t.TempDir(), "missing")}
		_, err := f.RESTConfig()
		g.Expect(err).To(MatchError(ContainSubstring("missing")))
	})
}

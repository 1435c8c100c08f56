package engine

import (
	"runtime"
	"testing"

	. "github.com/onsi/gomega"

	"github.com/capstan-dev/capstan/internal/chart"
)

func TestDefaultCapabilities(t *testing.T) {
	g := NewWithT(t)
	caps := DefaultCapabilities()
	g.Expect(caps.KubeVersion.String()).To(Equal("v1.37.0"))
	g.Expect(caps.KubeVersion.GitVersion()).To(Equal("v1.37.0"))
	g.Expect(caps.KubeVersion.Major).To(Equal("1"))
	g.Expect(caps.KubeVersion.Minor).To(Equal("37"))
	g.Expect(caps.APIVersions).To(HaveLen(57))
	g.Expect(caps.APIVersions[0]).To(Equal("v1"))
	g.Expect(caps.APIVersions[56]).To(Equal("apiextensions.k8s.io/v1"))
	g.Expect(caps.HelmVersion).To(Equal(HelmVersion{Version: "v4.3.1", GoVersion: runtime.Version(), KubeClientVersion: "v1.37"}))

	caps.APIVersions[0] = "changed"
	g.Expect(DefaultCapabilities().APIVersions[0]).To(Equal("v1"), "every call returns a fresh copy")
}

func TestVersionSet_Has(t *testing.T) {
	g := NewWithT(t)
	vs := VersionSet{"apps/v1", "v1"}
	g.Expect(vs.Has("apps/v1")).To(BeTrue())
	g.Expect(vs.Has("apps/v1/Deployment")).To(BeFalse())
	g.Expect(vs.Has("apps")).To(BeFalse())
}

func TestParseKubeVersion(t *testing.T) {
	cases := map[string]struct {
		in                         string
		version, str, major, minor string
		wantErr                    bool
	}{
		"a plain version gets a v prefix": {in: "1.25.3", version: "v1.25.3", str: "v1.25.3", major: "1", minor: "25"},
		"a vendor suffix stays in Version but not in String": {
			in: "v1.25.3-gke.100", version: "v1.25.3-gke.100", str: "v1.25.3", major: "1", minor: "25"},
		"major.minor only":      {in: "v1.30", version: "v1.30", str: "v1.30", major: "1", minor: "30"},
		"garbage is an error":   {in: "latest", wantErr: true},
		"an empty string fails": {in: "", wantErr: true},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			kv, err := ParseKubeVersion(tc.in)
			if tc.wantErr {
				g.Expect(err).To(HaveOccurred())
				return
			}
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(kv.Version).To(Equal(tc.version))
			g.Expect(kv.GitVersion()).To(Equal(tc.version))
			g.Expect(kv.String()).To(Equal(tc.str))
			g.Expect(kv.Major).To(Equal(tc.major))
			g.Expect(kv.Minor).To(Equal(tc.minor))
		})
	}
}

func TestCheckKubeVersion(t *testing.T) {
	live := func(v string) *Capabilities {
		c := DefaultCapabilities()
		c.KubeVersion = KubeVersion{Version: v, Major: "1", Minor: "30"}
		return c
	}
	parsed := func(v string) *Capabilities {
		c := DefaultCapabilities()
		kv, err := ParseKubeVersion(v)
		if err != nil {
			t.Fatal(err)
		}
		c.KubeVersion = kv
		return c
	}
	cases := map[string]struct {
		constraint string
		caps       *Capabilities
		wantErr    string
	}{
		"no constraint always passes":         {constraint: "", caps: parsed("v1.1.0")},
		"a satisfied constraint passes":       {constraint: ">= 1.19.0", caps: nil},
		"an unsatisfied constraint fails":     {constraint: ">= 1.19.0", caps: parsed("v1.18.3"), wantErr: "chart requires kubeVersion: >= 1.19.0 which is incompatible with Kubernetes v1.18.3"},
		"--kube-version suffixes are ignored": {constraint: ">= 1.19.0", caps: parsed("v1.25.3-gke.100")},
		"the message shows the full version":  {constraint: ">= 1.26.0", caps: parsed("v1.25.3-gke.100"), wantErr: "chart requires kubeVersion: >= 1.26.0 which is incompatible with Kubernetes v1.25.3-gke.100"},
		"a live suffix fails a plain range":   {constraint: ">=1.19.0", caps: live("v1.30.2-eks-1234"), wantErr: "chart requires kubeVersion: >=1.19.0 which is incompatible with Kubernetes v1.30.2-eks-1234"},
		"a live suffix passes a -0 range":     {constraint: ">=1.19.0-0", caps: live("v1.30.2-eks-1234")},
		"an invalid constraint never matches": {constraint: ">>1", caps: nil, wantErr: "chart requires kubeVersion: >>1 which is incompatible with Kubernetes v1.37.0"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			c := newChart("c").meta(func(m *chart.Metadata) { m.KubeVersion = tc.constraint }).chart()
			err := CheckKubeVersion(c, tc.caps)
			if tc.wantErr == "" {
				g.Expect(err).NotTo(HaveOccurred())
				return
			}
			var kvErr *KubeVersionError
			g.Expect(err).To(BeAssignableToTypeOf(kvErr))
			g.Expect(err).To(MatchError(tc.wantErr))
		})
	}
}

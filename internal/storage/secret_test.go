package storage

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestSecretName_roundTrip(t *testing.T) {
	cases := map[string]struct {
		name    string
		version int
		want    string
	}{
		"a plain name":          {name: "web", version: 1, want: "sh.helm.release.v1.web.v1"},
		"a dotted name":         {name: "my.app.v2", version: 12, want: "sh.helm.release.v1.my.app.v2.v12"},
		"a name ending in v":    {name: "nav", version: 3, want: "sh.helm.release.v1.nav.v3"},
		"a 53-character name":   {name: strings.Repeat("a", 53), version: 999999, want: "sh.helm.release.v1." + strings.Repeat("a", 53) + ".v999999"},
		"a name with a hyphen":  {name: "cert-manager", version: 7, want: "sh.helm.release.v1.cert-manager.v7"},
		"a name that is digits": {name: "1", version: 2, want: "sh.helm.release.v1.1.v2"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			g.Expect(SecretName(tc.name, tc.version)).To(Equal(tc.want))
			n, v, ok := ParseSecretName(tc.want)
			g.Expect(ok).To(BeTrue())
			g.Expect(n).To(Equal(tc.name))
			g.Expect(v).To(Equal(tc.version))
		})
	}
}

func TestParseSecretName_rejects(t *testing.T) {
	for name, secret := range map[string]string{
		"another prefix":        "sh.helm.release.v2.web.v1",
		"no version":            "sh.helm.release.v1.web",
		"a version of zero":     "sh.helm.release.v1.web.v0",
		"a leading zero":        "sh.helm.release.v1.web.v01",
		"a negative version":    "sh.helm.release.v1.web.v-1",
		"no release name":       "sh.helm.release.v1..v1",
		"only the prefix":       "sh.helm.release.v1.",
		"a version that is hex": "sh.helm.release.v1.web.v1a",
		"a plain secret":        "default-token",
	} {
		t.Run(name, func(t *testing.T) {
			_, _, ok := ParseSecretName(secret)
			NewWithT(t).Expect(ok).To(BeFalse())
		})
	}
}

func TestValidateName(t *testing.T) {
	cases := map[string]struct {
		name string
		ok   bool
	}{
		"lower-case letters":             {name: "web", ok: true},
		"dots and hyphens":               {name: "a-b.c-d", ok: true},
		"53 characters":                  {name: strings.Repeat("x", 53), ok: true},
		"54 characters":                  {name: strings.Repeat("x", 54)},
		"empty":                          {name: ""},
		"upper case":                     {name: "Web"},
		"a comma that widens a selector": {name: "web,owner!=helm"},
		"a leading hyphen":               {name: "-web"},
		"a trailing dot":                 {name: "web."},
		"an underscore":                  {name: "my_app"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			err := ValidateName(tc.name)
			if tc.ok {
				g.Expect(err).NotTo(HaveOccurred())
				return
			}
			g.Expect(err).To(MatchError(ErrInvalid))
		})
	}
}

func TestNewSecret_shape(t *testing.T) {
	g := NewWithT(t)
	rel := sampleRelease()
	rel.Labels = map[string]string{"team": "blue", "capstan.dev/release": "web"}
	s, err := NewSecret(rel, time.Unix(1700000000, 0))
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(s.Name).To(Equal("sh.helm.release.v1.web.v3"))
	g.Expect(s.Namespace).To(Equal("apps"))
	g.Expect(s.Type).To(Equal(corev1.SecretType("helm.sh/release.v1")))
	g.Expect(s.Labels).To(Equal(map[string]string{
		"name": "web", "owner": "helm", "status": "deployed", "version": "3", "createdAt": "1700000000",
		"team": "blue", "capstan.dev/release": "web",
	}))
	g.Expect(s.Data).To(HaveLen(1))
	dec, err := Decode(string(s.Data["release"]))
	g.Expect(err).NotTo(HaveOccurred(), "data.release holds the single-base64 text; the API adds the second layer")
	g.Expect(dec.Manifest).To(Equal(rel.Manifest))
	g.Expect(rel.Labels).To(HaveLen(2), "the caller's labels are not modified")
}

func TestNewSecret_rejects(t *testing.T) {
	cases := map[string]func(r *Release){
		"a reserved label":        func(r *Release) { r.Labels = map[string]string{"status": "deployed"} },
		"an invalid label key":    func(r *Release) { r.Labels = map[string]string{"a b": "c"} },
		"an invalid label value":  func(r *Release) { r.Labels = map[string]string{"a": strings.Repeat("v", 64)} },
		"version zero":            func(r *Release) { r.Version = 0 },
		"an unknown status":       func(r *Release) { r.Info.Status = "running" },
		"an empty status":         func(r *Release) { r.Info.Status = "" },
		"an invalid name":         func(r *Release) { r.Name = "Web" },
		"no namespace":            func(r *Release) { r.Namespace = "" },
		"an invalid namespace":    func(r *Release) { r.Namespace = "a/b" },
		"a record over the limit": func(r *Release) { r.Manifest = randomText(t, MaxSecretSize*11/10) },
	}
	for name, mutate := range cases {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			rel := sampleRelease()
			mutate(rel)
			_, err := NewSecret(rel, time.Now())
			g.Expect(err).To(Or(MatchError(ErrInvalid), MatchError(ErrTooLarge)))
		})
	}
}

// randomText returns n characters that gzip cannot shrink much.
func randomText(t testing.TB, n int) string {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(b)[:n]
}

func TestCheckSize(t *testing.T) {
	cases := map[string]struct {
		manifest string
		tooLarge bool
	}{
		"a small record":                         {manifest: "kind: ConfigMap"},
		"3 MiB of YAML that compresses well":     {manifest: strings.Repeat("- name: x\n  value: y\n", 150000)},
		"600 KiB of text that barely compresses": {manifest: randomText(t, 600<<10)},
		"1.1 MiB of text that barely compresses": {manifest: randomText(t, 1100<<10), tooLarge: true},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			rel := sampleRelease()
			rel.Manifest = tc.manifest
			n, err := CheckSize(rel)
			enc, _ := Encode(rel)
			g.Expect(n).To(Equal(len(enc)))
			if tc.tooLarge {
				g.Expect(err).To(MatchError(ErrTooLarge))
				g.Expect(err.Error()).To(ContainSubstring("over the 1048576-byte Secret limit"))
				return
			}
			g.Expect(err).NotTo(HaveOccurred())
		})
	}
}

func TestCheckEncodedSize_boundary(t *testing.T) {
	g := NewWithT(t)
	g.Expect(checkEncodedSize("x", 1048576)).To(Succeed(), "the apiserver accepts exactly 1 MiB of data")
	g.Expect(checkEncodedSize("x", 1048577)).To(MatchError(ErrTooLarge))
}

func releaseSecret(t testing.TB, rel *Release) *corev1.Secret {
	t.Helper()
	s, err := NewSecret(rel, time.Unix(1, 0))
	if err != nil {
		t.Fatal(err)
	}
	s.ResourceVersion = "42"
	return s
}

func TestFromSecret(t *testing.T) {
	cases := map[string]struct {
		secret  func() *corev1.Secret
		err     error
		status  Status
		version int
	}{
		"a good record": {
			secret: func() *corev1.Secret { return releaseSecret(t, sampleRelease()) },
			status: StatusDeployed, version: 3,
		},
		"undecodable data is a placeholder": {
			secret: func() *corev1.Secret {
				s := releaseSecret(t, sampleRelease())
				s.Data[DataKey] = []byte("garbage!")
				return s
			},
			err: ErrCorrupt, status: StatusUnknown, version: 3,
		},
		"no data key is a placeholder": {
			secret: func() *corev1.Secret {
				s := releaseSecret(t, sampleRelease())
				delete(s.Data, DataKey)
				return s
			},
			err: ErrCorrupt, status: StatusUnknown, version: 3,
		},
		"a record copied under another revision's name": {
			secret: func() *corev1.Secret {
				s := releaseSecret(t, sampleRelease())
				s.Name = SecretName("web", 4)
				return s
			},
			err: ErrCorrupt, status: StatusUnknown, version: 4,
		},
		"a record copied from another namespace": {
			secret: func() *corev1.Secret {
				s := releaseSecret(t, sampleRelease())
				s.Namespace = "elsewhere"
				return s
			},
			err: ErrCorrupt, status: StatusUnknown, version: 3,
		},
		"a Secret that is not a release record": {
			secret: func() *corev1.Secret {
				return &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "web-tls", Namespace: "apps"}}
			},
			err: ErrInvalid,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			s := tc.secret()
			s.Labels = map[string]string{"owner": "helm", "name": "web", "createdAt": "1", "team": "blue"}
			rel, err := FromSecret(s, DefaultMaxDecodedSize)
			if tc.err == nil {
				g.Expect(err).NotTo(HaveOccurred())
				g.Expect(rel.DecodeError()).To(BeNil())
			} else {
				g.Expect(err).To(MatchError(tc.err))
			}
			if errors.Is(tc.err, ErrInvalid) {
				g.Expect(rel).To(BeNil())
				return
			}
			g.Expect(rel.Info.Status).To(Equal(tc.status))
			g.Expect(rel.Version).To(Equal(tc.version))
			g.Expect(rel.Namespace).To(Equal(s.Namespace))
			g.Expect(rel.Labels).To(Equal(map[string]string{"team": "blue"}), "reserved labels are not user labels")
			g.Expect(rel.ResourceVersion()).To(Equal("42"))
			if tc.err != nil {
				g.Expect(rel.DecodeError()).To(MatchError(ErrCorrupt))
			}
		})
	}
}

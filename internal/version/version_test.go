package version

import (
	"testing"

	. "github.com/onsi/gomega"
)

func TestResolve(t *testing.T) {
	cases := map[string]struct {
		v, c, d  string
		settings map[string]string
		want     [3]string
	}{
		"nothing stamped and no VCS settings gives the defaults": {
			want: [3]string{"dev", "unknown", "unknown"},
		},
		"the VCS settings fill commit and date when ldflags are absent": {
			settings: map[string]string{"vcs.revision": "abc123", "vcs.time": "2026-01-02T03:04:05Z"},
			want:     [3]string{"dev", "abc123", "2026-01-02T03:04:05Z"},
		},
		"a modified work tree marks the commit dirty": {
			settings: map[string]string{"vcs.revision": "abc123", "vcs.modified": "true"},
			want:     [3]string{"dev", "abc123-dirty", "unknown"},
		},
		"ldflags win over the VCS settings": {
			v: "v0.1.0", c: "def456", d: "2026-12-07T06:00:00Z",
			settings: map[string]string{"vcs.revision": "abc123", "vcs.time": "2026-01-02T03:04:05Z"},
			want:     [3]string{"v0.1.0", "def456", "2026-12-07T06:00:00Z"},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			i := resolve(tc.v, tc.c, tc.d, tc.settings)
			g.Expect([3]string{i.Version, i.Commit, i.Date}).To(Equal(tc.want))
			g.Expect(i.GoVersion).NotTo(BeEmpty())
			g.Expect(i.String()).To(ContainSubstring("version " + tc.want[0] + ", commit " + tc.want[1]))
		})
	}
}

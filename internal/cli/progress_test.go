package cli

import (
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"
)

func TestProgress_Show(t *testing.T) {
	steps := []string{"Ready=Unknown (Progressing): Installing", "Ready=Unknown (Progressing): Installing",
		"Ready=True (InstallSucceeded): Revision 1 is deployed"}
	cases := map[string]struct {
		terminal bool
		width    int
		want     string
	}{
		"a pipe gets one plain line per change and nothing for a repeat": {false, 0,
			"Ready=Unknown (Progressing): Installing\nReady=True (InstallSucceeded): Revision 1 is deployed\n"},
		"a terminal gets one line rewritten at every poll, with the time waited": {true, 120,
			"\r\x1b[K[0s] Ready=Unknown (Progressing): Installing" +
				"\r\x1b[K[1s] Ready=Unknown (Progressing): Installing" +
				"\r\x1b[K[2s] Ready=True (InstallSucceeded): Revision 1 is deployed\n"},
		"a narrow terminal gets the line cut so that it does not wrap": {true, 20,
			"\r\x1b[K[0s] Ready=Unknown…" + "\r\x1b[K[1s] Ready=Unknown…" + "\r\x1b[K[2s] Ready=True (I…\n"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			var out strings.Builder
			p := NewProgress(&out, c.terminal, c.width)
			clock := p.start
			p.now = func() time.Time { return clock }
			for _, s := range steps {
				p.Show(s)
				clock = clock.Add(time.Second + 300*time.Millisecond)
			}
			p.Done()
			p.Done()
			g.Expect(out.String()).To(Equal(c.want))
		})
	}
}

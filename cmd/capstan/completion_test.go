package main

import (
	"bytes"
	"testing"

	. "github.com/onsi/gomega"
)

func TestCompletionCmd(t *testing.T) {
	cases := map[string]struct {
		args    []string
		want    string
		wantErr string
	}{
		"bash gets cobra's v2 bash script": {args: []string{"bash"}, want: "__start_capstan"},
		"zsh gets a compdef script":        {args: []string{"zsh"}, want: "#compdef capstan"},
		"fish gets a complete -c script":   {args: []string{"fish"}, want: "complete -c capstan"},
		"another shell is refused":         {args: []string{"powershell"}, wantErr: `invalid argument "powershell"`},
		"a shell must be named":            {args: []string{}, wantErr: "accepts 1 arg(s)"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			root := newRootCmd()
			var out bytes.Buffer
			root.SetOut(&out)
			root.SetErr(&out)
			root.SetArgs(append([]string{"completion"}, tc.args...))
			err := root.Execute()
			if tc.wantErr != "" {
				g.Expect(err).To(MatchError(ContainSubstring(tc.wantErr)))
				return
			}
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(out.String()).To(ContainSubstring(tc.want))
		})
	}
}

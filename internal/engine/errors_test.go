package engine

import (
	"errors"
	"fmt"
	"testing"
	"text/template"

	. "github.com/onsi/gomega"
)

func TestParseError(t *testing.T) {
	g := NewWithT(t)
	_, err := template.New("x").Parse("{{ foo }}")
	g.Expect(parseError("c/templates/x.yaml", err)).To(MatchError(`parse error at (x:1): function "foo" not defined`))
	g.Expect(parseError("c/templates/x.yaml", errors.New("no colon here"))).To(MatchError("parse error in (c/templates/x.yaml): no colon here"))
}

func TestExecError(t *testing.T) {
	g := NewWithT(t)
	plain := errors.New("not from text/template")
	g.Expect(execError("n", plain)).To(BeIdenticalTo(plain))

	short := template.ExecError{Name: "n", Err: errors.New("template: only")}
	g.Expect(execError("n", short)).To(MatchError("execution error in (n): template: only"))

	untraceable := template.ExecError{Name: "n", Err: fmt.Errorf("template: n:1:2: executing \"n\" at <f>: error calling f: %w", errors.New("boom"))}
	g.Expect(execError("n", untraceable)).To(MatchError(untraceable.Error()))

	failed := template.ExecError{Name: "n", Err: fmt.Errorf("template: n:3:4: executing \"n\" at <fail>: error calling fail: %w", &failure{msg: "stop: here"})}
	g.Expect(execError("n", failed)).To(MatchError("execution error at (n:3:4): stop: here"))
}

func TestParseFrame(t *testing.T) {
	cases := map[string]struct {
		in   string
		want frame
		ok   bool
	}{
		"executing form": {
			in:   `template: a.yaml:1:2: executing "a.yaml" at <.X>: boom template: b`,
			want: frame{location: "a.yaml:1:2", call: `executing "a.yaml" at <.X>:`, message: "boom"}, ok: true},
		"no template form": {
			in: `template: no template "x" associated with template "gotpl"`, want: frame{message: `template: no template "x" associated with template "gotpl"`}, ok: true},
		"simple form": {in: "template: a.yaml:1:2: boom", want: frame{location: "a.yaml:1:2", message: "boom"}, ok: true},
		"executing form without a node falls back to the simple form": {
			in: `template: a.yaml: executing "a.yaml" oops: x`, want: frame{location: `a.yaml: executing "a.yaml" oops`, message: "x"}, ok: true},
		"not a template error": {in: "boom", ok: false},
		"no separator":         {in: "template: boom", ok: false},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			got, ok := parseFrame(tc.in)
			g.Expect(ok).To(Equal(tc.ok))
			g.Expect(got).To(Equal(tc.want))
		})
	}
}

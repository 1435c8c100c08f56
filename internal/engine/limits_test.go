package engine

import (
	"context"
	"errors"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"
)

// heapGrowth runs f and returns how much the live heap grew, sampled after f returns.
func heapGrowth(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	if after.HeapAlloc < before.HeapAlloc {
		return 0
	}
	return after.HeapAlloc - before.HeapAlloc
}

// TestRender_limits holds the rendering attacks of hardening.md §3.5 (E4, E5, E8): each must fail
// with a clear error, quickly, without growing memory.
func TestRender_limits(t *testing.T) {
	cases := map[string]struct {
		tmpl     string
		values   map[string]any
		timeout  time.Duration
		limits   Limits
		wantErr  error
		wantText string
	}{
		"until of a hundred million": {
			tmpl: `{{ range until 100000000 }}{{ end }}`, wantErr: ErrLimit, wantText: "until would build 100000000 elements"},
		"untilStep of a hundred million": {
			tmpl: `{{ untilStep 0 100000000 1 }}`, wantErr: ErrLimit, wantText: "untilStep would build 100000000 elements"},
		"untilStep whose steps overflow int": {
			tmpl: `{{ untilStep 0 9223372036854775807 4611686018427387905 | len }}`, wantErr: nil},
		"seq of a hundred million": {
			tmpl: `{{ seq 100000000 }}`, wantErr: ErrLimit, wantText: "seq would build"},
		"repeat of a billion": {
			tmpl: `{{ "x" | repeat 1000000000 }}`, wantErr: ErrLimit, wantText: "repeat would build about 1000000000 bytes"},
		"nested repeats": {
			tmpl: `{{ repeat 100000 (repeat 100000 "x") }}`, wantErr: ErrLimit, wantText: "repeat would build about 10000000000 bytes"},
		"random string of fifty million": {
			tmpl: `{{ randAlpha 50000000 }}`, wantErr: ErrLimit, wantText: "randAlpha would build 50000000 elements"},
		"randBytes of fifty million": {
			tmpl: `{{ randBytes 50000000 }}`, wantErr: ErrLimit, wantText: "randBytes would build"},
		"indent bomb": {
			tmpl: `{{ indent 1000000 (repeat 1000 "\n") }}`, wantErr: ErrLimit, wantText: "indent would build"},
		"replace bomb": {
			tmpl: `{{ replace "" (repeat 1000 "y") (repeat 1000000 "x") }}`, wantErr: ErrLimit, wantText: "replace would build"},
		"regexReplaceAll bomb": {
			tmpl: `{{ regexReplaceAll "" (repeat 1000000 "x") (repeat 1000 "$0") }}`, wantErr: ErrLimit, wantText: "regexReplaceAll would build"},
		"printf width bomb": {
			tmpl: `{{ printf (repeat 200 "%0999999d") }}`, wantErr: ErrLimit, wantText: "printf would build"},
		"doubling a string with cat": {
			tmpl: `{{ $s := "xxxxxxxxxxxxxxxx" }}{{ range until 40 }}{{ $s = cat $s $s }}{{ end }}`, wantErr: ErrLimit},
		"doubling a list with concat": {
			tmpl: `{{ $l := list 1 }}{{ range until 40 }}{{ $l = concat $l $l }}{{ end }}`, wantErr: ErrLimit, wantText: "concat would build"},
		"range over a hundred billion": {
			tmpl: `{{ range 100000000000 }}{{ end }}`, timeout: 500 * time.Millisecond, wantErr: ErrTimeout,
			wantText: "render timed out after 500ms"},
		"nested loops printing nothing": {
			tmpl:    `{{ range until 100000 }}{{ range until 100000 }}{{ end }}{{ end }}`,
			timeout: 500 * time.Millisecond, wantErr: ErrTimeout},
		"too many steps": {
			tmpl: `{{ range until 1000 }}{{ range until 1000 }}{{ end }}{{ end }}`, limits: Limits{MaxSteps: 100_000},
			wantErr: ErrLimit, wantText: "more than 100000 range iterations and template calls (Limits.MaxSteps)"},
		"huge output": {
			tmpl:    `{{ $s := repeat 1000000 "x" }}{{ range until 200 }}{{ $s }}{{ end }}`,
			wantErr: ErrLimit, wantText: "a template or include produced more than 104857600 bytes"},
		"huge include": {
			tmpl:    `{{ define "big" }}{{ $s := repeat 1000000 "x" }}{{ range until 200 }}{{ $s }}{{ end }}{{ end }}{{ include "big" . | len }}`,
			wantErr: ErrLimit, wantText: "produced more than 104857600 bytes"},
		"exponential template calls": {
			tmpl:    `{{ define "t" }}{{ with .a }}{{ template "t" . }}{{ template "t" . }}{{ end }}{{ end }}{{ template "t" .Values }}`,
			values:  nestedValues(60),
			timeout: 500 * time.Millisecond, wantErr: ErrTimeout},
		"deep template recursion": {
			tmpl: `{{ define "t" }}{{ template "t" . }}{{ end }}{{ template "t" . }}`, wantErr: ErrLimit, wantText: "nest more than 3000 levels"},
		"include recursion through many names": {
			tmpl:    cyclicIncludes(50),
			wantErr: ErrLimit, wantText: "nest more than 3000 levels"},
		"tpl recursion": {
			tmpl: `{{ tpl .Values.t . }}`, values: map[string]any{"t": "{{ tpl .Values.t . }}"}, wantErr: ErrLimit, wantText: "tpl calls nest more than 1000 levels"},
		"printing a map that contains itself": {
			tmpl: `{{ $d := dict }}{{ $_ := set $d "self" $d }}{{ $d }}`, wantErr: ErrLimit, wantText: "contains itself"},
		"encoding a map that contains itself": {
			tmpl: `{{ $d := dict }}{{ $_ := set $d "self" $d }}{{ toYamlPretty $d }}`, wantErr: ErrLimit, wantText: "contains itself"},
		"deep-copying a map that contains itself": {
			tmpl: `{{ $d := dict }}{{ $_ := set $d "self" $d }}{{ deepCopy $d }}`, wantErr: ErrLimit, wantText: "contains itself"},
		"a structure shared exponentially": {
			tmpl: `{{ $l := list "x" }}{{ range until 64 }}{{ $l = list $l $l }}{{ end }}{{ toJson $l }}`, wantErr: ErrLimit, wantText: "toJson would build more than"},
		"uniq of a long list stays fast": {
			tmpl: `{{ uniq (until 200000) | len }}`, timeout: 5 * time.Second},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			opts := templateOptions()
			opts.Timeout = tc.timeout
			opts.Limits = tc.limits
			if opts.Timeout == 0 {
				opts.Timeout = 10 * time.Second
			}
			var err error
			start := time.Now()
			grew := heapGrowth(func() { _, err = renderTextWith(t, tc.tmpl, tc.values, opts) })
			g.Expect(time.Since(start)).To(BeNumerically("<", opts.Timeout+2*time.Second))
			g.Expect(grew).To(BeNumerically("<", 512<<20), "live heap after the render")
			if tc.wantErr == nil {
				g.Expect(err).NotTo(HaveOccurred())
				return
			}
			g.Expect(err).To(MatchError(tc.wantErr))
			g.Expect(err.Error()).To(ContainSubstring(tc.wantText))
		})
	}
}

// nestedValues returns {a: {a: {... n levels}}}.
func nestedValues(n int) map[string]any {
	v := map[string]any{"leaf": true}
	for range n {
		v = map[string]any{"a": v}
	}
	return v
}

// cyclicIncludes defines n templates that include each other in a cycle, so no single name
// reaches the per-name limit before the total depth limit.
func cyclicIncludes(n int) string {
	var sb strings.Builder
	for i := range n {
		sb.WriteString(`{{ define "n` + itoa(i) + `" }}{{ include "n` + itoa((i+1)%n) + `" . }}{{ end }}`)
	}
	sb.WriteString(`{{ include "n0" . }}`)
	return sb.String()
}

func itoa(i int) string { return strconv.Itoa(i) }

func TestRender_selfIncludeKeepsHelmError(t *testing.T) {
	g := NewWithT(t)
	_, err := renderText(t, `{{ define "rec" }}{{ include "rec" . }}{{ end }}{{ include "rec" . }}`, nil)
	g.Expect(err).To(HaveOccurred())
	g.Expect(err.Error()).To(HaveSuffix("error calling include: rendering template has a nested reference name: rec: unable to execute template"))
	g.Expect(strings.Count(err.Error(), "error calling include")).To(Equal(1002))
}

func TestRender_maxIncludeDepthOption(t *testing.T) {
	g := NewWithT(t)
	opts := templateOptions()
	opts.MaxIncludeDepth = 5
	_, err := renderTextWith(t, `{{ define "rec" }}{{ include "rec" . }}{{ end }}{{ include "rec" . }}`, nil, opts)
	g.Expect(err).To(HaveOccurred())
	g.Expect(strings.Count(err.Error(), "error calling include")).To(Equal(7))
}

func TestRender_cancelledContext(t *testing.T) {
	g := NewWithT(t)
	ctx, cancel := context.WithCancel(context.Background())
	c := newChart("c").tpl("templates/t.yaml", `{{ range 100000000000 }}{{ end }}`).chart()
	time.AfterFunc(100*time.Millisecond, cancel)
	start := time.Now()
	_, err := Render(ctx, c, nil, templateOptions())
	g.Expect(err).To(MatchError(context.Canceled))
	g.Expect(errors.Is(err, ErrTimeout)).To(BeFalse())
	g.Expect(time.Since(start)).To(BeNumerically("<", 5*time.Second))
}

func TestRender_guardFunctionsAreNotForTemplates(t *testing.T) {
	g := NewWithT(t)
	_, err := renderText(t, `{{ _capstan_exit "x" }}`, nil)
	g.Expect(err).To(MatchError(`parse error at (c/templates/t.yaml:1): function "_capstan_exit" not defined`))

	_, err = renderText(t, `{{ tpl "{{ _capstan_exit \"guess\" }}" . }}`, nil)
	g.Expect(err).To(MatchError(ContainSubstring("template called an internal Capstan function")))
}

func TestRender_customLimits(t *testing.T) {
	g := NewWithT(t)
	opts := templateOptions()
	opts.Limits = Limits{MaxOutputBytes: 10}
	_, err := renderTextWith(t, `{{ repeat 11 "x" }}`, nil, opts)
	g.Expect(err).To(MatchError(ErrLimit))
	g.Expect(err.Error()).To(Equal("c/templates/t.yaml:1:3: render limit exceeded: repeat would build about 11 bytes, more than 10 bytes (Limits.MaxOutputBytes)"))
}

func TestRender_totalOutputLimit(t *testing.T) {
	g := NewWithT(t)
	half := `{{ $s := repeat 1000000 "x" }}{{ range until 60 }}{{ $s }}{{ end }}`
	c := newChart("c").tpl("templates/a.yaml", half).tpl("templates/b.yaml", half).chart()
	_, err := Render(context.Background(), c, nil, templateOptions())
	g.Expect(err).To(MatchError(ErrLimit))
	g.Expect(err.Error()).To(ContainSubstring("the rendered output is larger than 104857600 bytes"))
}

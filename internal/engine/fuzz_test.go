package engine

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/capstan-dev/capstan/internal/testenv/probes"
)

// fuzzLimits keep every fuzz run small and fast.
var fuzzLimits = Limits{
	MaxOutputBytes:   1 << 20,
	MaxBuiltBytes:    16 << 20,
	MaxListLength:    10_000,
	MaxTemplateDepth: 200,
	MaxSteps:         200_000,
}

// fuzzValues are the values fuzzed templates see.
var fuzzValues = map[string]any{
	"str": "hello", "num": 3.0, "list": []any{1.0, "a", map[string]any{"k": "v"}},
	"map": map[string]any{"a": 1.0, "b": []any{true}}, "tpl": "{{ .Values.str }}", "empty": "",
}

// FuzzRender renders random template text next to a helper file and a subchart: the render must
// return (output or error) and never panic, hang past its deadline or report an internal panic.
func FuzzRender(f *testing.F) {
	seeds := []string{
		`{{ .Values.str }}`, `{{ include "h" . }}`, `{{ tpl .Values.tpl . }}`, `{{ range until 5 }}{{ . }}{{ end }}`,
		`{{ toYaml .Values | nindent 2 }}`, `{{ required "x" .Values.none }}`, `{{ fail "f" }}`,
		`{{ define "r" }}{{ include "r" . }}{{ end }}{{ include "r" . }}`, `{{ range 100000000000 }}{{ end }}`,
		`{{ $d := dict }}{{ $_ := set $d "s" $d }}{{ $d }}`, `{{ repeat 1000000000 "x" }}`,
		`{{ printf "%0999999d" 1 }}`, `{{ .Values.missing.deeper }}`, `{{ .Files.Glob "**" }}`,
		`{{ .Subcharts.sub.Values }}`, `{{ .Capabilities.KubeVersion }}`, `{{ lookup "v1" "Pod" "" "" }}`,
		`{{ tpl "{{ define \"x\" }}1{{ end }}{{ include \"x\" . }}" . }}`, `{{ template "h" . }}`, `{{ else }}`, `{{`,
		`{{ range $i, $e := .Values.list }}{{ if eq $i 1 }}{{ break }}{{ end }}{{ $e }}{{ end }}`,
		`{{ with .Values.map }}{{ .a }}{{ else with .Values.str }}{{ . }}{{ end }}`,
		`{{ block "b" . }}B{{ end }}`, `{{ _capstan_enter "x" }}`, `{{ uniq (until 5000) }}`,
	}
	for _, s := range seeds {
		f.Add(s)
	}
	data, err := os.ReadFile(filepath.Join(probes.Chart("t4"), "templates", "info.yaml"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(string(data))
	f.Fuzz(func(t *testing.T, text string) {
		c := newChart("f").
			tpl("templates/a.yaml", text).
			tpl("templates/_h.tpl", `{{ define "h" }}H{{ .Values.str }}{{ end }}`).
			file("files/a.txt", "a\nb\n").
			chart()
		opts := templateOptions()
		opts.Timeout = time.Second
		opts.Limits = fuzzLimits
		values := copyValue(fuzzValues).(map[string]any)
		values["sub"] = map[string]any{"x": 1.0, "global": map[string]any{}}
		start := time.Now()
		_, err := Render(context.Background(), c, values, opts)
		if elapsed := time.Since(start); elapsed > opts.Timeout+time.Second {
			t.Fatalf("render took %s, past its %s deadline", elapsed, opts.Timeout)
		}
		if err != nil && strings.Contains(err.Error(), "rendering template failed") {
			t.Fatalf("render panicked: %v", err)
		}
	})
}

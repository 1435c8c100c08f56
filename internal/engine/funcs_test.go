package engine

import (
	"context"
	"errors"
	"strings"
	"testing"

	. "github.com/onsi/gomega"
)

// funcCase is one template expression and what Helm v4.3.1 renders for it.
type funcCase struct {
	tmpl    string
	values  map[string]any
	want    string
	wantErr string
}

func runFuncCases(t *testing.T, cases map[string]funcCase) {
	t.Helper()
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			got, err := renderText(t, tc.tmpl, tc.values)
			if tc.wantErr != "" {
				g.Expect(err).To(MatchError(tc.wantErr))
				return
			}
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(got).To(Equal(tc.want))
		})
	}
}

func TestRender_serializationFunctions(t *testing.T) {
	runFuncCases(t, map[string]funcCase{
		"toYaml of a string drops the trailing newline": {tmpl: `{{ toYaml "abc" }}`, want: "abc"},
		"toYaml of a list does not indent items":        {tmpl: `{{ toYaml (dict "a" (list 1 2)) }}`, want: "a:\n- 1\n- 2"},
		"toYaml of nil is null":                         {tmpl: `{{ toYaml .Values.none }}`, want: "null"},
		"toYaml sorts keys":                             {tmpl: `{{ toYaml (dict "b" 1 "a" 2) }}`, want: "a: 2\nb: 1"},
		"toYaml of a float value prints it plainly":     {tmpl: `{{ toYaml .Values.big }}`, values: map[string]any{"big": 1234567.0}, want: "1234567"},
		"toYaml swallows encoding errors":               {tmpl: `[{{ toYaml (float64 "NaN") }}]`, want: "[]"},
		"mustToYaml encodes like toYaml":                {tmpl: `{{ mustToYaml (list "a") }}`, want: "- a"},
		"toYamlPretty indents lists":                    {tmpl: `{{ toYamlPretty (dict "a" (list 1 2) "b" (dict "c" 1)) }}`, want: "a:\n  - 1\n  - 2\nb:\n  c: 1"},
		"fromYaml reads a mapping":                      {tmpl: `{{ (fromYaml "a: 1\nb: [x]").b }}`, want: "[x]"},
		"fromYaml reports errors under Error": {tmpl: `{{ fromYaml "a: [" | toJson }}`,
			want: `{"Error":"error converting YAML to JSON: yaml: line 1: did not find expected node content"}`},
		"fromYaml rejects a list": {tmpl: `{{ fromYaml "- a" | toJson }}`,
			want: `{"Error":"error unmarshaling JSON: while decoding JSON: json: cannot unmarshal array into Go value of type map[string]interface {}"}`},
		"fromYamlArray reads a list": {tmpl: `{{ fromYamlArray "[1, a]" | toJson }}`, want: `[1,"a"]`},
		"fromYamlArray reports errors as its only item": {tmpl: `{{ fromYamlArray "a: 1" | toJson }}`,
			want: `["error unmarshaling JSON: while decoding JSON: json: cannot unmarshal object into Go value of type []interface {}"]`},
		"toJson of nil is null":       {tmpl: `{{ toJson .Values.none }}`, want: "null"},
		"toJson swallows errors":      {tmpl: `[{{ toJson (float64 "NaN") }}]`, want: "[]"},
		"toJson escapes HTML":         {tmpl: `{{ toJson "<a>" }}`, want: `"\u003ca\u003e"`},
		"toRawJson does not":          {tmpl: `{{ toRawJson "<a>" }}`, want: `"<a>"`},
		"toPrettyJson indents by two": {tmpl: `{{ toPrettyJson (dict "a" 1) }}`, want: "{\n  \"a\": 1\n}"},
		"mustToJson encodes":          {tmpl: `{{ mustToJson (dict "a" 1) }}`, want: `{"a":1}`},
		"fromJson reads an object":    {tmpl: `{{ (fromJson "{\"a\": 2}").a }}`, want: "2"},
		"fromJson rejects arrays": {tmpl: `{{ fromJson "[1]" | toJson }}`,
			want: `{"Error":"json: cannot unmarshal array into Go value of type map[string]interface {}"}`},
		"fromJsonArray reads an array":             {tmpl: `{{ fromJsonArray "[1, 2.5, \"x\"]" | toJson }}`, want: `[1,2.5,"x"]`},
		"fromJsonArray reports errors as one item": {tmpl: `{{ fromJsonArray "{" | toJson }}`, want: `["unexpected end of JSON input"]`},
		"toToml indents nested tables":             {tmpl: `{{ toToml (dict "a" 1 "b" (dict "c" "d")) }}`, want: "a = 1\n\n[b]\n  c = \"d\"\n"},
		"toToml returns the error text": {tmpl: `{{ toToml (dict "a" (list 1 .Values.none)) }}`,
			want: "toml: cannot encode array with nil element"},
		"mustToToml fails instead": {tmpl: `{{ mustToToml (dict "a" (list 1 .Values.none)) }}`,
			wantErr: `template: c/templates/t.yaml:1:3: executing "c/templates/t.yaml" at <mustToToml (dict "a" (list 1 .Values.none))>: error calling mustToToml: toml: cannot encode array with nil element`},
		"mustToYaml fails on NaN": {tmpl: `{{ mustToYaml (float64 "NaN") }}`,
			wantErr: `template: c/templates/t.yaml:1:3: executing "c/templates/t.yaml" at <mustToYaml (float64 "NaN")>: error calling mustToYaml: error marshaling into JSON: json: unsupported value: NaN`},
		"mustToJson fails on NaN": {tmpl: `{{ mustToJson (float64 "NaN") }}`,
			wantErr: `template: c/templates/t.yaml:1:3: executing "c/templates/t.yaml" at <mustToJson (float64 "NaN")>: error calling mustToJson: json: unsupported value: NaN`},
		"mustToToml encodes":  {tmpl: `{{ mustToToml (dict "a" "b") }}`, want: "a = \"b\"\n"},
		"fromToml reads TOML": {tmpl: `{{ fromToml "a = 1\n[b]\nc = \"d\"" | toJson }}`, want: `{"a":1,"b":{"c":"d"}}`},
		"fromToml reports errors under Error": {tmpl: `{{ fromToml "a = " | toJson }}`,
			want: `{"Error":"toml: line 1 (last key \"a\"): unexpected EOF; expected value"}`},
	})
}

func TestRender_helmFunctions(t *testing.T) {
	runFuncCases(t, map[string]funcCase{
		"include renders a define":                {tmpl: `{{ define "x" }}X{{ . }}{{ end }}{{ include "x" 1 }}`, want: "X1"},
		"include can be piped":                    {tmpl: `{{ define "x" }}abc{{ end }}{{ include "x" . | upper }}`, want: "ABC"},
		"tpl renders text with the given context": {tmpl: `{{ tpl "{{ .Values.a }}-{{ .Template.Name }}" . }}`, values: map[string]any{"a": "v"}, want: "v-c/templates/t.yaml"},
		"tpl defines are visible to include inside it": {
			tmpl: `{{ tpl "{{ define \"in\" }}IN{{ end }}{{ include \"in\" . }}" . }}`, want: "IN"},
		"tpl sees the chart's defines":           {tmpl: `{{ define "d" }}D{{ end }}{{ tpl "{{ include \"d\" . }}" . }}`, want: "D"},
		"tpl removes no value":                   {tmpl: `{{ tpl "[{{ .Values.none }}]" . }}`, want: "[]"},
		"required passes a value":                {tmpl: `{{ required "m" .Values.a }}`, values: map[string]any{"a": "x"}, want: "x"},
		"required passes false and 0":            {tmpl: `{{ required "m" .Values.f }}{{ required "m" .Values.z }}`, values: map[string]any{"f": false, "z": 0.0}, want: "false0"},
		"required passes an empty list":          {tmpl: `{{ required "m" .Values.l }}`, values: map[string]any{"l": []any{}}, want: "[]"},
		"lookup finds nothing without a cluster": {tmpl: `{{ lookup "v1" "Secret" "default" "x" | toJson }}`, want: "{}"},
		"getHostByName is disabled":              {tmpl: `[{{ getHostByName "localhost" }}]`, want: "[]"},
		"env is removed":                         {tmpl: `{{ hasKey (dict "a" 1) "a" }}`, want: "true"},
	})
}

func TestRender_durationFunctions(t *testing.T) {
	runFuncCases(t, map[string]funcCase{
		"seconds of a Go duration":           {tmpl: `{{ durationSeconds "1m30s" }}`, want: "90"},
		"seconds of a number":                {tmpl: `{{ durationSeconds 2.5 }}`, want: "2.5"},
		"seconds of a numeric string":        {tmpl: `{{ durationSeconds "2.5" }}`, want: "2.5"},
		"milliseconds":                       {tmpl: `{{ durationMilliseconds "1.5s" }}`, want: "1500"},
		"microseconds":                       {tmpl: `{{ durationMicroseconds "1ms" }}`, want: "1000"},
		"nanoseconds":                        {tmpl: `{{ durationNanoseconds "1us" }}`, want: "1000"},
		"minutes":                            {tmpl: `{{ durationMinutes "90s" }}`, want: "1.5"},
		"hours":                              {tmpl: `{{ durationHours "90m" }}`, want: "1.5"},
		"days":                               {tmpl: `{{ durationDays "36h" }}`, want: "1.5"},
		"weeks":                              {tmpl: `{{ durationWeeks "84h" }}`, want: "0.5"},
		"an unparsable value gives zero":     {tmpl: `{{ durationSeconds "soon" }}`, want: "0"},
		"an empty string gives zero":         {tmpl: `{{ durationSeconds " " }}`, want: "0"},
		"nil gives zero":                     {tmpl: `{{ durationSeconds .Values.none }}`, want: "0"},
		"an overflowing integer gives zero":  {tmpl: `{{ durationSeconds 9223372036854775807 }}`, want: "0"},
		"mustToDuration returns a duration":  {tmpl: `{{ mustToDuration "90" }}`, want: "1m30s"},
		"round to a multiple":                {tmpl: `{{ durationRoundTo "1h29m" "1h" }}`, want: "1h0m0s"},
		"truncate to a multiple":             {tmpl: `{{ durationTruncateTo "1h59m" "1h" }}`, want: "1h0m0s"},
		"round with a bad multiple keeps v":  {tmpl: `{{ durationRoundTo "90s" "x" }}`, want: "1m30s"},
		"round with a bad value gives zero":  {tmpl: `{{ durationRoundTo "x" "1s" }}`, want: "0s"},
		"a uint counts seconds":              {tmpl: `{{ durationSeconds (.Values.u) }}`, values: map[string]any{"u": uint(3)}, want: "3"},
		"a float64 value counts seconds too": {tmpl: `{{ durationSeconds .Values.f }}`, values: map[string]any{"f": 60.0}, want: "60"},
	})
}

func TestRender_mustToDurationFails(t *testing.T) {
	g := NewWithT(t)
	_, err := renderText(t, `{{ mustToDuration "soon" }}`, nil)
	g.Expect(err).To(MatchError(`template: c/templates/t.yaml:1:3: executing "c/templates/t.yaml" at <mustToDuration "soon">: error calling mustToDuration: could not parse duration "soon"`))
}

func TestRender_sprigFunctions(t *testing.T) {
	runFuncCases(t, map[string]funcCase{
		"until counts up":                 {tmpl: `{{ until 3 }}`, want: "[0 1 2]"},
		"until counts down":               {tmpl: `{{ until -2 }}`, want: "[0 -1]"},
		"until zero is empty":             {tmpl: `{{ until 0 | toJson }}`, want: "[]"},
		"untilStep steps":                 {tmpl: `{{ untilStep 1 10 3 }}`, want: "[1 4 7]"},
		"untilStep down":                  {tmpl: `{{ untilStep 10 1 -4 }}`, want: "[10 6 2]"},
		"untilStep with a wrong sign":     {tmpl: `{{ untilStep 1 10 -1 | toJson }}`, want: "[]"},
		"seq to n":                        {tmpl: `{{ seq 3 }}`, want: "1 2 3"},
		"seq down to n":                   {tmpl: `{{ seq -1 }}`, want: "1 0 -1"},
		"seq between two":                 {tmpl: `{{ seq 2 4 }}`, want: "2 3 4"},
		"seq with a step":                 {tmpl: `{{ seq 1 2 6 }}`, want: "1 3 5"},
		"seq down with a positive step":   {tmpl: `[{{ seq 6 2 1 }}]`, want: "[]"},
		"seq down with a negative step":   {tmpl: `{{ seq 6 -2 1 }}`, want: "6 4 2"},
		"seq with no parameters":          {tmpl: `[{{ seq }}]`, want: "[]"},
		"repeat":                          {tmpl: `{{ repeat 3 "ab" }}`, want: "ababab"},
		"indent":                          {tmpl: `{{ indent 2 "a\nb" }}`, want: "  a\n  b"},
		"nindent":                         {tmpl: `{{ nindent 2 "a" }}`, want: "\n  a"},
		"replace":                         {tmpl: `{{ replace "a" "bb" "aXa" }}`, want: "bbXbb"},
		"replace an empty string":         {tmpl: `{{ "ab" | replace "" "-" }}`, want: "-a-b-"},
		"regexReplaceAll expands":         {tmpl: `{{ regexReplaceAll "a(x*)b" "-ab-axxb-" "${1}W" }}`, want: "-W-xxW-"},
		"regexReplaceAllLiteral does not": {tmpl: `{{ regexReplaceAllLiteral "a(x*)b" "-ab-" "${1}" }}`, want: "-${1}-"},
		"mustRegexReplaceAll":             {tmpl: `{{ mustRegexReplaceAll "b" "abc" "B" }}`, want: "aBc"},
		"regexSplit":                      {tmpl: `{{ regexSplit "z+" "pizza" -1 }}`, want: "[pi a]"},
		"regexFindAll":                    {tmpl: `{{ regexFindAll "[2,4,6,8]" "123456789" 3 }}`, want: "[2 4 6]"},
		"split":                           {tmpl: `{{ (split "$" "foo$bar")._1 }}`, want: "bar"},
		"splitList":                       {tmpl: `{{ splitList "," "a,b" }}`, want: "[a b]"},
		"splitn":                          {tmpl: `{{ (splitn "$" 2 "a$b$c")._1 }}`, want: "b$c"},
		"concat":                          {tmpl: `{{ concat (list 1) (list 2 3) }}`, want: "[1 2 3]"},
		"uniq keeps first occurrences":    {tmpl: `{{ uniq (list 1 2 1 "a" "a") }}`, want: "[1 2 a]"},
		"quote":                           {tmpl: `{{ quote "a" 1 }}`, want: `"a" "1"`},
		"squote":                          {tmpl: `{{ squote "a" }}`, want: `'a'`},
		"cat":                             {tmpl: `{{ cat "a" 1 .Values.none "b" }}`, want: "a 1 b"},
		"join":                            {tmpl: `{{ join "-" (list 1 "a") }}`, want: "1-a"},
		"printf":                          {tmpl: `{{ printf "%05d|%s" 42 "x" }}`, want: "00042|x"},
		"printf of a missing value":       {tmpl: `{{ printf "%s" .Values.none }}`, want: "%!s(<nil>)"},
		"print and println":               {tmpl: `{{ print "a" 1 }}|{{ println "b" }}`, want: "a1|b\n"},
		"html, js and urlquery":           {tmpl: `{{ html "<a>" }} {{ js "'" }} {{ urlquery "a b" }}`, want: `&lt;a&gt; \' a+b`},
		"toString":                        {tmpl: `{{ toString 1.5 }}`, want: "1.5"},
		"toStrings":                       {tmpl: `{{ toStrings (list 1 "b") }}`, want: "[1 b]"},
		"sortAlpha":                       {tmpl: `{{ sortAlpha (list "b" "a") }}`, want: "[a b]"},
		"toDecimal reads octal":           {tmpl: `{{ toDecimal "0777" }}`, want: "511"},
		"deepCopy":                        {tmpl: `{{ $d := dict "a" (dict "b" 1) }}{{ $c := deepCopy $d }}{{ $_ := set $c.a "b" 2 }}{{ $d.a.b }}`, want: "1"},
		"merge keeps the destination":     {tmpl: `{{ merge (dict "a" 1) (dict "a" 2 "b" 3) | toJson }}`, want: `{"a":1,"b":3}`},
		"mergeOverwrite overwrites":       {tmpl: `{{ mergeOverwrite (dict "a" 1) (dict "a" 2) | toJson }}`, want: `{"a":2}`},
		"randAlphaNum has the length":     {tmpl: `{{ randAlphaNum 12 | len }}`, want: "12"},
		"randBytes is base64":             {tmpl: `{{ randBytes 3 | len }}`, want: "4"},
		"semverCompare":                   {tmpl: `{{ semverCompare ">=1.2.0" "1.3.0" }}`, want: "true"},
		"sha256sum":                       {tmpl: `{{ sha256sum "a" }}`, want: "ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb"},
		"b64enc":                          {tmpl: `{{ b64enc "hi" }}`, want: "aGk="},
		"dig":                             {tmpl: `{{ dig "a" "b" "none" (dict "a" (dict "b" 1)) }}`, want: "1"},
		"numbers from values are float64": {tmpl: `{{ .Values.big }} {{ kindOf .Values.big }}`, values: map[string]any{"big": 1234567.0}, want: "1.234567e+06 float64"},
	})
}

func TestRender_splitOfValuesShadowsNothing(t *testing.T) {
	g := NewWithT(t)
	// .Values is common.Values, whose methods shadow keys of the same name as in Helm.
	got, err := renderText(t, `{{ typeOf .Values }} {{ .Values.AsMap.Table }} {{ typeOf .Template }}`, map[string]any{"Table": "t"})
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(got).To(Equal("common.Values t common.Values"))
}

func TestRender_requiredAndFail(t *testing.T) {
	cases := map[string]struct {
		tmpl    string
		values  map[string]any
		lint    bool
		want    string
		wantErr string
	}{
		"required fails on a missing value": {
			tmpl: `x: {{ required "need a" .Values.a }}`, wantErr: "execution error at (c/templates/t.yaml:1:6): need a"},
		"required fails on an empty string": {
			tmpl: `{{ required "need a" "" }}`, wantErr: "execution error at (c/templates/t.yaml:1:3): need a"},
		"required reports the outermost call site": {
			tmpl:    "{{ define \"in\" }}\n{{ required \"inner\" .Values.zzz }}{{ end }}\n\n  {{ include \"in\" . }}",
			wantErr: "execution error at (c/templates/t.yaml:4:5): inner"},
		"required inside tpl reports the tpl call site": {
			tmpl: `{{ tpl "{{ required \"deep\" .Values.x }}" . }}`, wantErr: "execution error at (c/templates/t.yaml:1:3): deep"},
		"fail fails": {
			tmpl: `{{ fail "custom failure" }}`, wantErr: "execution error at (c/templates/t.yaml:1:3): custom failure"},
		"required only logs in lint mode": {tmpl: `[{{ required "need a" .Values.a }}]`, lint: true, want: "[]"},
		"fail only logs in lint mode":     {tmpl: `[{{ fail "no" }}]`, lint: true, want: "[]"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			opts := templateOptions()
			opts.LintMode = tc.lint
			got, err := renderTextWith(t, tc.tmpl, tc.values, opts)
			if tc.wantErr != "" {
				g.Expect(err).To(MatchError(tc.wantErr))
				return
			}
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(got).To(Equal(tc.want))
		})
	}
}

// fakeLookup records its calls and serves one object.
type fakeLookup struct {
	calls []string
	obj   map[string]any
	err   error
}

func (f *fakeLookup) Lookup(_ context.Context, apiVersion, kind, namespace, name string) (map[string]any, error) {
	f.calls = append(f.calls, strings.Join([]string{apiVersion, kind, namespace, name}, "/"))
	return f.obj, f.err
}

func TestRender_lookup(t *testing.T) {
	cases := map[string]struct {
		lookup  *fakeLookup
		lint    bool
		want    string
		wantErr error
		calls   int
	}{
		"the caller's lookup serves the object": {
			lookup: &fakeLookup{obj: map[string]any{"kind": "Secret"}}, want: `{"kind":"Secret"}`, calls: 1},
		"a nil object reads as empty": {lookup: &fakeLookup{}, want: "{}", calls: 1},
		"an error fails the render": {
			lookup: &fakeLookup{err: errors.New("forbidden")}, wantErr: errors.New("forbidden"), calls: 1},
		"lint mode never asks": {lookup: &fakeLookup{obj: map[string]any{"a": 1}}, lint: true, want: "{}"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			opts := templateOptions()
			opts.Lookup = tc.lookup
			opts.LintMode = tc.lint
			got, err := renderTextWith(t, `{{ lookup "v1" "Secret" "ns" "n" | toJson }}`, nil, opts)
			g.Expect(tc.lookup.calls).To(HaveLen(tc.calls))
			if tc.calls > 0 {
				g.Expect(tc.lookup.calls[0]).To(Equal("v1/Secret/ns/n"))
			}
			if tc.wantErr != nil {
				g.Expect(err).To(MatchError(ContainSubstring(tc.wantErr.Error())))
				return
			}
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(got).To(Equal(tc.want))
		})
	}
}

package engine

// The oracle tests compare Capstan's engine with the reference helm v4.3.1 binary: $HELM when
// make sets it, else the one hack/tools.sh builds once per machine.

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	. "github.com/onsi/gomega"

	"github.com/capstan-dev/capstan/internal/testenv/oracle"
	"github.com/capstan-dev/capstan/internal/testenv/probes"
)

// helmBinary returns the reference helm, building it if needed.
func helmBinary(t *testing.T) string {
	t.Helper()
	p, err := oracle.Helm()
	if err != nil {
		t.Fatalf("the reference helm binary is not available: %v", err)
	}
	return p
}

// writeChart writes a chart directory for helm from a map of relative paths to contents.
func writeChart(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "oc")
	for name, text := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// helmTemplate runs helm template on dir and returns stdout and stderr.
func helmTemplate(t *testing.T, dir string, args ...string) (string, string) {
	t.Helper()
	cmd := exec.Command(helmBinary(t), append([]string{"template", dir}, args...)...)
	home := t.TempDir() // keep the user's helm configuration out of the comparison
	cmd.Env = append(os.Environ(), "HELM_CONFIG_HOME="+home, "HELM_CACHE_HOME="+home, "HELM_DATA_HOME="+home)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	_ = cmd.Run() // failures are part of what is compared
	return stdout.String(), stderr.String()
}

const endMark = "@@END@@"

var rawSource = regexp.MustCompile(`(?m)^---\n# Source: (\S+)\n`)

// helmRaw renders every template of the chart through helm and returns each file's raw output:
// a template that is not YAML makes helm template --debug dump every non-blank file as it is.
// Each case file ends with endMark so that the dump can be cut back into files exactly.
func helmRaw(t *testing.T, files map[string]string) map[string]string {
	t.Helper()
	files["templates/zzz-not-yaml.yaml"] = "a: b: c\n"
	stdout, stderr := helmTemplate(t, writeChart(t, files), "--debug")
	if !strings.Contains(stderr, "YAML parse error") {
		t.Fatalf("helm did not dump the raw output:\n%s", stderr)
	}
	out := map[string]string{}
	idx := rawSource.FindAllStringSubmatchIndex(stdout, -1)
	for i, m := range idx {
		end := len(stdout)
		if i+1 < len(idx) {
			end = idx[i+1][0]
		}
		body := stdout[m[1]:end]
		if cut := strings.LastIndex(body, endMark); cut >= 0 {
			out[stdout[m[2]:m[3]]] = body[:cut]
		}
	}
	return out
}

// oracleCases are expressions whose output must be byte-identical to Helm's.
var oracleCases = []string{
	`{{ .Capabilities.APIVersions | toJson }}`,
	`{{ .Capabilities.KubeVersion }} {{ .Capabilities.KubeVersion.Version }} {{ .Capabilities.KubeVersion.Major }} {{ .Capabilities.KubeVersion.Minor }} {{ .Capabilities.KubeVersion.GitVersion }} {{ .Capabilities.KubeVersion | toJson }}`,
	`{{ .Capabilities.HelmVersion.KubeClientVersion }} {{ .Capabilities.HelmVersion.GitCommit }}|{{ .Capabilities.HelmVersion.GitTreeState }}`,
	`{{ typeOf .Capabilities }} {{ typeOf .Capabilities.KubeVersion }} {{ typeOf .Capabilities.HelmVersion }} {{ typeOf .Capabilities.APIVersions }}`,
	`{{ typeOf .Files }} {{ typeOf .Values }} {{ typeOf .Template }} {{ typeOf .Release }} {{ typeOf .Chart }} {{ typeOf .Subcharts }}`,
	`{{ .Chart | toJson }}`,
	`{{ toYaml .Chart }}`,
	`{{ .Chart.Foo }}|{{ .Chart.IsRoot }}|{{ .Chart.Maintainers }}`,
	`{{ .Release }} {{ .Release.Revision | typeOf }}`,
	`{{ .Template }} {{ .Template.Name }} {{ .Template.BasePath }}`,
	`{{ keys .Subcharts | sortAlpha }} {{ .Subcharts.sub.Chart.Name }} {{ .Subcharts.sub.Values.s }} {{ .Subcharts.sub.Chart.IsRoot }}`,
	`{{ .Values }}`,
	`{{ .Values.num }} {{ .Values.int }} {{ .Values.big }} {{ .Values.neg }} {{ .Values.f }} {{ .Values.str | quote }} {{ .Values.yes }}`,
	`{{ .Values.list }} {{ .Values.map }} {{ index .Values.list 1 }} {{ len .Values.map }}`,
	`{{ .Values.missing }}|{{ .Values.map.missing }}|{{ printf "%v" .Values.missing }}|{{ printf "%s" .Values.missing }}`,
	`{{ default "d" .Values.missing }} {{ empty .Values.emptystr }} {{ coalesce .Values.missing .Values.str }} {{ ternary "a" "b" true }}`,
	`{{ .Files.Get "files/a.txt" | quote }} {{ .Files.GetBytes "files/a.txt" }} {{ index .Files "files/a.txt" }}`,
	`{{ .Files.Lines "files/a.txt" | toJson }} {{ .Files.Lines "files/empty.txt" | toJson }} {{ .Files.Lines "files/nl.txt" | toJson }} {{ .Files.Lines "nope" | toJson }}`,
	`{{ range $k, $v := .Files.Glob "files/*" }}{{ $k }};{{ end }}|{{ range $k, $v := .Files.Glob "**.txt" }}{{ $k }};{{ end }}|{{ range $k, $v := .Files.Glob "[" }}{{ $k }};{{ end }}|{{ range $k, $v := .Files.Glob "files/{a,b}.*" }}{{ $k }};{{ end }}`,
	`{{ (.Files.Glob "files/*").AsConfig }}`,
	`{{ (.Files.Glob "files/*").AsSecrets }}`,
	`{{ (.Files.Glob "nomatch/*").AsConfig }}|{{ (.Files.Glob "nomatch/*").AsSecrets }}`,
	`{{ toYaml "abc" }}|{{ toYaml (list 1 "a" true) }}|{{ toYaml .Values.missing }}|{{ toYaml (dict "b" 1 "a" (list 1 2)) }}|{{ toYaml .Values.big }}|{{ toYaml (float64 "NaN") }}`,
	`{{ toYamlPretty (dict "a" (list 1 2) "b" (dict "c" 1)) }}|{{ toYamlPretty "x" }}|{{ toYamlPretty .Values.list }}`,
	`{{ mustToYaml (dict "a" 1) }}|{{ mustToJson (list 1) }}|{{ mustToToml (dict "a" 1) }}`,
	`{{ fromYaml "a: [" | toJson }}|{{ fromYaml "- a" | toJson }}|{{ fromYaml "a: 1\nb: yes" | toJson }}|{{ fromYaml "" | toJson }}`,
	`{{ fromYamlArray "[1, a]" | toJson }}|{{ fromYamlArray "a: 1" | toJson }}|{{ fromYamlArray "" | toJson }}`,
	`{{ toJson .Values.missing }}|{{ toJson (float64 "NaN") }}|{{ toJson "<&>" }}|{{ toRawJson "<&>" }}|{{ toPrettyJson (dict "a" (list 1)) }}`,
	`{{ fromJson "[1]" | toJson }}|{{ fromJson "{\"a\":1}" | toJson }}|{{ fromJson "" | toJson }}|{{ fromJsonArray "[1, 2.5, \"x\"]" | toJson }}|{{ fromJsonArray "{" | toJson }}`,
	`{{ toToml (dict "a" 1 "b" (dict "c" "d")) }}|{{ toToml (dict "a" (list 1 .Values.missing)) }}|{{ toToml (dict "l" (list 1 2)) }}`,
	`{{ fromToml "a = 1\n[b]\nc = \"d\"" | toJson }}|{{ fromToml "a = " | toJson }}`,
	`{{ lookup "v1" "Secret" "default" "x" | toJson }}|{{ getHostByName "localhost" }}|`,
	`{{ tpl "{{ .Values.str }}-{{ .Template.Name }}" . }}|{{ tpl "{{ define \"intpl\" }}IN{{ end }}{{ include \"intpl\" . }}" . }}|{{ tpl "{{ .Values.missing }}" . }}`,
	`{{ define "oc.d" }}[{{ . }}]{{ end }}{{ include "oc.d" "x" }}{{ include "oc.d" .Values.list | upper }}`,
	`{{ required "m" .Values.str }} {{ required "m" .Values.zero }} {{ required "m" .Values.f }}`,
	`{{ until 3 }} {{ until -2 }} {{ until 0 }} {{ untilStep 1 10 3 }} {{ untilStep 10 1 -4 }} {{ untilStep 1 10 -1 }} {{ untilStep 0 0 1 }}`,
	`{{ seq 3 }}|{{ seq -1 }}|{{ seq 0 }}|{{ seq 2 4 }}|{{ seq 4 2 }}|{{ seq 1 2 6 }}|{{ seq 6 2 1 }}|{{ seq 6 -2 1 }}|{{ seq 1 -1 6 }}|{{ seq }}|{{ seq 1 2 3 4 }}`,
	`{{ repeat 3 "ab" }}|{{ repeat 0 "x" }}|{{ indent 2 "a\nb" }}|{{ nindent 3 "a" }}|{{ indent 0 "a" }}|{{ replace "a" "bb" "aXa" }}|{{ replace "" "-" "ab" }}`,
	`{{ regexReplaceAll "a(x*)b" "-ab-axxb-" "${1}W" }}|{{ regexReplaceAllLiteral "a(x*)b" "-ab-" "${1}" }}|{{ regexReplaceAll "" "abc" "-" }}|{{ regexReplaceAll "x*" "abc" "-" }}`,
	`{{ regexSplit "z+" "pizza" -1 }}|{{ regexSplit "z+" "pizza" 1 }}|{{ regexFindAll "[2,4,6,8]" "123456789" -1 }}|{{ regexFindAll "a" "aaa" 0 }}`,
	`{{ split "$" "foo$bar$baz" }}|{{ splitList "," "a,b" }}|{{ splitn "$" 2 "a$b$c" }}|{{ splitList "" "héllo" }}`,
	`{{ concat (list 1) (list 2 3) }}|{{ uniq (list 1 2 1 "a" "a" .Values.missing .Values.missing (list 1) (list 1)) }}|{{ uniq (until 300) | len }}|{{ uniq (concat (until 300) (until 300)) | len }}`,
	`{{ quote "a" 1 .Values.missing }}|{{ squote "a" }}|{{ cat "a" 1 .Values.missing "b" }}|{{ join "-" (list 1 "a" .Values.missing) }}`,
	`{{ printf "%05d|%s|%v|%q|%x|%8.3f|%-4s|%t" 42 "x" .Values.list "q" 255 3.14159 "ab" true }}|{{ printf "%*d" 5 1 }}|{{ printf "%[2]s%[1]s" "a" "b" }}|{{ printf "%d" }}`,
	`{{ print "a" 1 2 "b" }}|{{ println "b" 1 }}|{{ html "<a href='x'>" }}|{{ js "'\"</script>" }}|{{ urlquery "a b&c" }}`,
	`{{ toString 1.5 }}|{{ toString .Values.list }}|{{ toStrings (list 1 "b" .Values.missing) }}|{{ sortAlpha (list "b" "a" 3) }}|{{ toDecimal "0777" }}|{{ toDecimal "9" }}`,
	`{{ $d := dict "a" (dict "b" 1) }}{{ $c := deepCopy $d }}{{ $_ := set $c.a "b" 2 }}{{ $d.a.b }}{{ $c.a.b }}|{{ merge (dict "a" 1) (dict "a" 2 "b" 3) | toJson }}|{{ mergeOverwrite (dict "a" 1) (dict "a" 2) | toJson }}`,
	`{{ durationSeconds "1m30s" }} {{ durationSeconds 2.5 }} {{ durationSeconds "2.5" }} {{ durationMilliseconds "1.5s" }} {{ durationMicroseconds "1ms" }} {{ durationNanoseconds "1us" }}`,
	`{{ durationMinutes "90s" }} {{ durationHours "90m" }} {{ durationDays "36h" }} {{ durationWeeks "84h" }} {{ durationSeconds "soon" }} {{ durationSeconds .Values.missing }} {{ durationSeconds 9223372036854775807 }}`,
	`{{ mustToDuration "90" }} {{ durationRoundTo "1h29m" "1h" }} {{ durationTruncateTo "1h59m" "1h" }} {{ durationRoundTo "90s" "x" }} {{ durationRoundTo "x" "1s" }} {{ mustToDuration .Values.num }}`,
	`{{ range $i, $v := .Values.list }}{{ $i }}={{ $v }};{{ else }}empty{{ end }}|{{ range .Values.emptylist }}x{{ else }}none{{ end }}|{{ range 3 }}{{ . }}{{ end }}|{{ range $k, $v := .Values.map }}{{ $k }}{{ $v }}{{ end }}`,
	`{{ with .Values.map }}{{ .a }}{{ else }}no{{ end }}|{{ if and .Values.yes (not .Values.no) }}ok{{ end }}|{{ range .Values.list }}{{ if eq . 2.0 }}{{ break }}{{ end }}{{ . }}{{ end }}`,
	`{{ semverCompare ">=1.2.0" "1.3.0" }} {{ (semver "1.2.3-rc.1+b").Prerelease }} {{ sha256sum "a" }} {{ b64enc "hi" }} {{ b64dec "aGk=" }} {{ adler32sum "a" }}`,
	`{{ dig "a" "b" "none" (dict "a" (dict "b" 1)) }} {{ pluck "a" (dict "a" 1) (dict "a" 2) }} {{ keys (dict "b" 1 "a" 2) | sortAlpha }} {{ hasKey .Values.map "a" }} {{ pick (dict "a" 1 "b" 2) "a" }} {{ omit (dict "a" 1 "b" 2) "a" }}`,
	`{{ list 1 2 | first }} {{ list 1 2 | last }} {{ list 1 2 3 | rest }} {{ list 1 2 3 | initial }} {{ list 1 2 | reverse }} {{ append (list 1) 2 }} {{ prepend (list 1) 0 }} {{ without (list 1 2 3) 2 }} {{ has 2 (list 1 2) }} {{ slice (list 1 2 3) 1 }} {{ chunk 2 (list 1 2 3) }} {{ compact (list 1 "" 2) }}`,
	`{{ trunc 3 "abcdef" }} {{ abbrev 5 "hello world" }} {{ trim "  a " }} {{ upper "a" }} {{ title "hello world" }} {{ substr 1 3 "abcd" }} {{ nospace "a b" }} {{ initials "hello world" }} {{ snakecase "HelloWorld" }} {{ camelcase "hello_world" }} {{ kebabcase "HelloWorld" }} {{ wrap 5 "hello world" }} {{ plural "one" "many" 2 }}`,
	`{{ add 1 2 }} {{ sub 5 2 }} {{ mul 2 3 }} {{ div 7 2 }} {{ mod 7 2 }} {{ add1 1 }} {{ max 1 5 3 }} {{ min 4 2 }} {{ addf 1.5 2 }} {{ divf 1 3 }} {{ floor 1.5 }} {{ ceil 1.2 }} {{ round 1.567 2 }} {{ int "12" }} {{ int64 "7" }} {{ float64 "1.5" }} {{ atoi "42" }}`,
	`{{ base "a/b.txt" }} {{ dir "a/b.txt" }} {{ ext "a/b.txt" }} {{ clean "a//b/../c" }} {{ isAbs "/a" }} {{ urlParse "https://u@h:1/p?q=1#f" | toJson }} {{ urlJoin (dict "scheme" "https" "host" "h" "path" "/p") }}`,
	`{{ kindOf .Values.num }} {{ typeOf .Values.num }} {{ kindIs "map" .Values.map }} {{ typeIs "string" "a" }} {{ typeIsLike "float64" 1.0 }} {{ deepEqual (list 1) (list 1) }}`,
	`{{- /* a comment */ -}} x {{- "y" -}} z`,
	`{{ $x := 1 }}{{ $x = 2 }}{{ $x }}{{ with $y := .Values.str }}{{ $y }}{{ end }}{{ if false }}a{{ else if true }}b{{ end }}`,
	`{{ define "oc.tn" }}{{ .Template.Name }}{{ end }}{{ include "oc.tn" . }}|{{ tpl "{{ include \"oc.tn\" . }}" . }}`,
	`{{ range $k, $v := .Values.map }}{{ if eq $k "a" }}{{ continue }}{{ end }}{{ $k }}{{ end }}|{{ range $i := until 5 }}{{ if gt $i 2 }}{{ break }}{{ end }}{{ $i }}{{ end }}`,
	`{{ include "sub.files" .Subcharts.sub }}|{{ .Subcharts.sub.Files.Get "files/s.txt" }}|{{ .Files.Get "files/s.txt" }}`,
	`{{ $ctx := dict "Values" (dict "x" 1) }}{{ tpl "{{ .Values.x }}" $ctx }}|{{ tpl "{{ . }}" "str" }}|{{ tpl "" . }}`,
	`{{ (list 1 2 3) | len }} {{ index (list "a" "b") 1 }} {{ index .Values.map "a" }} {{ eq 1 1 }} {{ ne "a" "b" }} {{ lt 1 2 }} {{ or 0 "x" }} {{ and 1 0 }} {{ not true }}`,
}

// oracleChartFiles returns the chart that holds every oracle case as its own template.
func oracleChartFiles() map[string]string {
	files := map[string]string{
		"Chart.yaml": "apiVersion: v2\nname: oc\nversion: 1.2.3\nappVersion: \"9\"\ndescription: oracle\n" +
			"keywords: [k1]\nmaintainers: [{name: m, email: m@x}]\nannotations: {a: b}\n" +
			"dependencies:\n- name: sub\n  version: 0.1.0\n  repository: file://charts/sub\n",
		"values.yaml": "num: 1\nint: 3\nbig: 1234567\nneg: -2\nf: 1.5\nstr: hello\nyes: yes\nno: false\n" +
			"zero: 0\nemptystr: \"\"\nlist: [1, 2, 3]\nemptylist: []\nmap: {a: 1, b: two}\nsub: {s: fromparent}\n",
		"files/a.txt":                 "line1\nline2\n",
		"files/b.yaml":                "k: v\n",
		"files/empty.txt":             "",
		"files/nl.txt":                "\n",
		"charts/sub/Chart.yaml":       "apiVersion: v2\nname: sub\nversion: 0.1.0\n",
		"charts/sub/values.yaml":      "s: default\n",
		"charts/sub/templates/s.yaml": "{{ .Values }} {{ .Chart.Name }} {{ .Template.BasePath }} {{ .Chart.IsRoot }}" + endMark,
		"charts/sub/templates/_h.tpl": `{{ define "oc.d" }}from-sub{{ end }}{{ define "sub.files" }}{{ .Files.Get "files/s.txt" }}{{ .Template.Name }}{{ end }}`,
		"charts/sub/files/s.txt":      "sub file",
		"templates/NOTES.txt":         "notes {{ .Release.Name }}" + endMark,
		"templates/_helpers.tpl":      `{{ define "helper" }}H{{ end }}`,
		"templates/sub/nested.txt":    `{{ include "helper" . }}` + endMark,
		"templates/defines-only.yaml": `{{ define "x" }}y{{ end }}`,
		"templates/whitespace.yaml":   "  \n",
	}
	for i, tmpl := range oracleCases {
		files[fmt.Sprintf("templates/case%03d.yaml", i)] = tmpl + endMark
	}
	return files
}

func TestOracle_outputsMatchHelm(t *testing.T) {
	g := NewWithT(t)
	files := oracleChartFiles()
	want := helmRaw(t, files)
	delete(files, "templates/zzz-not-yaml.yaml")

	c := loadProbeChart(t, writeChart(t, files))
	got, err := Render(context.Background(), c, simpleCoalesce(c, nil), probeOptions())
	g.Expect(err).NotTo(HaveOccurred())
	for name, text := range got {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			if strings.HasSuffix(name, "NOTES.txt") { // helm takes notes out before the dump
				return
			}
			if strings.TrimSpace(text) == "" {
				g.Expect(want).NotTo(HaveKey(name), "helm dumps only non-blank files")
				return
			}
			g.Expect(want).To(HaveKey(name))
			g.Expect(strings.TrimSuffix(text, endMark)).To(Equal(want[name]), files[strings.TrimPrefix(name, "oc/")])
		})
	}
	g.Expect(len(want)).To(BeNumerically(">=", len(oracleCases)))
}

// oracleErrorCases are templates that fail; the error text must be Helm's.
var oracleErrorCases = map[string]string{
	"unknown function":          `{{ foo }}`,
	"unclosed action":           `{{ .Values.x`,
	"unexpected define":         "a\n{{ if true }}\n{{ define \"x\" }}{{ end }}\n{{ end }}",
	"bad include":               `{{ include "nope" . }}`,
	"nil pointer":               `a: {{ .Values.missing.deeper }}`,
	"wrong args":                `{{ add1 "abc" "d" }}`,
	"wrong type":                `{{ keys .Files }}`,
	"field of a string":         `{{ .Values.str.x }}`,
	"unknown capability field":  `{{ .Capabilities.Foo }}`,
	"index out of range":        `{{ index .Values.list 10 }}`,
	"required":                  `x: {{ required "value foo is required!" .Values.foo }}`,
	"required in include":       "{{ define \"in\" }}{{ required \"inner\" .Values.zzz }}{{ end }}\n\n  {{ include \"in\" . }}",
	"required in tpl":           `{{ tpl "{{ required \"deep\" .Values.zzz }}" . }}`,
	"fail":                      `{{ fail "custom failure" }}`,
	"tpl exec error":            `{{ tpl "{{ .Values.nope.x }}" . }}`,
	"tpl parse error":           `{{ tpl "{{ .Values.nope.x " . }}`,
	"error inside include":      "{{ define \"e\" }}{{ .Values.a.b }}{{ end }}{{ include \"e\" . }}",
	"nested include error":      "{{ define \"e1\" }}{{ include \"e2\" . }}{{ end }}{{ define \"e2\" }}\n{{ index 1 2 }}{{ end }}{{ include \"e1\" . }}",
	"mustToYaml":                `{{ mustToYaml (float64 "NaN") }}`,
	"mustToJson":                `{{ mustToJson (float64 "NaN") }}`,
	"mustToToml":                `{{ mustToToml (dict "a" (list 1 .Values.missing)) }}`,
	"mustToDuration":            `{{ mustToDuration "soon" }}`,
	"repeat negative":           `{{ repeat -1 "x" }}`,
	"indent negative":           `{{ indent -1 "x" }}`,
	"regex invalid":             `{{ regexReplaceAll "(" "x" "y" }}`,
	"must regex invalid":        `{{ mustRegexSplit "(" "x" -1 }}`,
	"uniq of a string":          `{{ mustUniq "abc" }}`,
	"concat of a string":        `{{ concat "abc" }}`,
	"template not defined":      `{{ template "nope" . }}`,
	"eq of maps":                `{{ eq .Values.map .Values.map }}`,
	"range over a string":       `{{ range .Values.str }}{{ end }}`,
	"nil command":               `{{ nil }}`,
	"printing a function value": `{{ .Files.Get }}`,
}

func TestOracle_errorsMatchHelm(t *testing.T) {
	for name, tmpl := range oracleErrorCases {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			files := map[string]string{
				"Chart.yaml":        "apiVersion: v2\nname: oe\nversion: 0.1.0\n",
				"values.yaml":       "str: hello\nlist: [1, 2]\nmap: {a: 1}\n",
				"templates/a.yaml":  tmpl,
				"templates/ok.yaml": "ok: 1\n",
			}
			dir := writeChart(t, files)
			_, stderr := helmTemplate(t, dir)
			want := strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(stderr), "Error: "), "\n\nUse --debug flag to render out invalid YAML")
			c := loadProbeChart(t, dir)
			_, err := Render(context.Background(), c, simpleCoalesce(c, nil), probeOptions())
			g.Expect(err).To(HaveOccurred())
			g.Expect(err.Error()).To(Equal(want))
		})
	}
}

func TestOracle_probeChartsMatchHelm(t *testing.T) {
	for _, root := range []string{probes.Chart("t4"), probes.Chart("t8"), probes.Chart("t10"), "testdata/webapp"} {
		t.Run(filepath.Base(root), func(t *testing.T) {
			g := NewWithT(t)
			files := map[string]string{}
			g.Expect(filepath.Walk(root, func(p string, info os.FileInfo, err error) error {
				if err != nil || info.IsDir() {
					return err
				}
				data, err := os.ReadFile(p)
				rel, _ := filepath.Rel(root, p)
				if strings.HasPrefix(rel, "templates/") || strings.Contains(rel, "/templates/") {
					data = append(data, []byte(endMark)...)
				}
				files[filepath.ToSlash(rel)] = string(data)
				return err
			})).To(Succeed())
			want := helmRaw(t, files)
			delete(files, "templates/zzz-not-yaml.yaml")
			c := loadProbeChart(t, writeChart(t, files))
			got, err := Render(context.Background(), c, simpleCoalesce(c, nil), probeOptions())
			g.Expect(err).NotTo(HaveOccurred())
			for name, text := range got {
				if strings.HasSuffix(name, "NOTES.txt") { // helm takes notes out before the dump
					continue
				}
				if strings.TrimSpace(strings.TrimSuffix(text, endMark)) == "" && want[name] == "" {
					continue
				}
				g.Expect(strings.TrimSuffix(text, endMark)).To(Equal(want[name]), name)
			}
		})
	}
}

package prestart

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/capstan-dev/capstan/internal/chart"
)

// writeChart makes a chart directory with a values schema under dir/name.
func writeChart(t *testing.T, dir, name string) string {
	t.Helper()
	root := filepath.Join(dir, name)
	files := map[string]string{
		"Chart.yaml":         "apiVersion: v2\nname: " + name + "\nversion: 0.1.0\n",
		"values.yaml":        "replicas: 1\n",
		"values.schema.json": `{"$schema": "http://json-schema.org/draft-07/schema#", "properties": {"replicas": {"type": "integer"}}}`,
		"templates/cm.yaml":  "kind: ConfigMap\ndata: {n: {{ .Values.replicas | quote }}}\n",
	}
	for p, data := range files {
		p = filepath.Join(root, p)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

func TestGuess(t *testing.T) {
	dir := t.TempDir()
	a, b, c := writeChart(t, dir, "a"), writeChart(t, dir, "b"), writeChart(t, dir, "c")
	file := filepath.Join(a, "values.yaml")
	cases := map[string]struct {
		args     []string
		dirs     []string
		validate bool
	}{
		"template NAME CHART":            {[]string{"capstan", "template", "rel", a}, []string{a}, true},
		"the chart before the flags":     {[]string{"capstan", "template", a, "--namespace", "x", "-f", file}, []string{a}, true},
		"at most two directories":        {[]string{"capstan", "template", a, b, c}, []string{a, b}, true},
		"flags are not operands":         {[]string{"capstan", "template", "--output-dir=" + b, a}, []string{a}, true},
		"files are not charts":           {[]string{"capstan", "template", file}, nil, true},
		"nothing after --":               {[]string{"capstan", "template", "--", a}, nil, true},
		"--skip-schema-validation":       {[]string{"capstan", "template", a, "--skip-schema-validation"}, []string{a}, false},
		"--skip-schema-validation=true":  {[]string{"capstan", "template", "--skip-schema-validation=true", a}, []string{a}, false},
		"--skip-schema-validation=false": {[]string{"capstan", "template", "--skip-schema-validation=false", a}, []string{a}, true},
		"another command":                {[]string{"capstan", "lint", a}, nil, false},
		"no operands":                    {[]string{"capstan", "template"}, nil, false},
		"no arguments":                   {[]string{"capstan"}, nil, false},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			dirs, validate := guess(tc.args)
			if !reflect.DeepEqual(dirs, tc.dirs) || validate != tc.validate {
				t.Fatalf("guess = %q, %v; want %q, %v", dirs, validate, tc.dirs, tc.validate)
			}
		})
	}
}

func TestSkipsValidation(t *testing.T) {
	cases := map[string]bool{
		"--skip-schema-validation":       true,
		"--skip-schema-validation=true":  true,
		"--skip-schema-validation=1":     true,
		"--skip-schema-validation=false": false,
		"--skip-schema-validation=x":     false,
		"--skip-schema-validationx":      false,
		"--skip-tests":                   false,
		"skip-schema-validation":         false,
	}
	for arg, want := range cases {
		if got := skipsValidation(arg); got != want {
			t.Errorf("skipsValidation(%q) = %v, want %v", arg, got, want)
		}
	}
}

// The chart handed over is what chart.Load gives, once; the schema is compiled into the cache.
func TestBegin_loadsTheChartThenCompilesItsSchema(t *testing.T) {
	dir := writeChart(t, t.TempDir(), "app")
	w := begin([]string{"capstan", "template", "rel", dir, "--namespace", "x"})
	got, ok := w.chart(dir)
	if !ok {
		t.Fatal("no chart for the directory")
	}
	want, err := chart.Load(dir, chart.DefaultLimits())
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("prestarted chart differs from chart.Load's:\n got: %#v\nwant: %#v", got, want)
	}
	if _, ok := w.chart(dir); ok {
		t.Fatal("the chart was handed out twice")
	}
	deadline := time.Now().Add(10 * time.Second)
	for w.schemas.Len() != 1 {
		if time.Now().After(deadline) {
			t.Fatal("the schema was not compiled")
		}
		time.Sleep(time.Millisecond)
	}
}

// A relative operand is loaded by its absolute path, as the command locates the chart.
func TestBegin_relativeDirectory(t *testing.T) {
	dir := t.TempDir()
	abs := writeChart(t, dir, "app")
	t.Chdir(dir)
	w := begin([]string{"capstan", "template", "app"})
	if _, ok := w.chart(abs); !ok {
		t.Fatal("no chart for the absolute path")
	}
}

func TestBegin_failedLoadIsNotHandedOut(t *testing.T) {
	dir := t.TempDir() // no Chart.yaml
	w := begin([]string{"capstan", "template", dir})
	if c, ok := w.chart(dir); ok || c != nil {
		t.Fatalf("chart = %v, %v; want nothing", c, ok)
	}
}

func TestBegin_nothingForOtherCommands(t *testing.T) {
	dir := writeChart(t, t.TempDir(), "app")
	for _, args := range [][]string{{"capstan", "lint", dir}, {"capstan", "template", dir, "--skip-schema-validation"}} {
		w := begin(args)
		if w.schemas != nil {
			t.Errorf("%q: a schema cache was made", args)
		}
		if args[1] == "lint" && len(w.loads) != 0 {
			t.Errorf("%q: a chart is being loaded", args)
		}
	}
	if _, ok := Chart(dir); ok || Schemas() != nil {
		t.Error("the test binary's own command line began work")
	}
}

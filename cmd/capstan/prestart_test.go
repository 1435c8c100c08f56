package main

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/capstan-dev/capstan/cmd/capstan/internal/prestart"
)

// asCLIEnv names the variable that makes this test binary run main with its own command line, so
// that package initialisation sees a capstan command line as in the real binary (prestart
// guesses from os.Args before main runs); see TestMain.
const asCLIEnv = "CAPSTAN_TEST_AS_CLI"

// exitNoPrestart is the exit status of a run as the CLI that should have begun work at
// initialisation and did not.
const exitNoPrestart = 3

func TestMain(m *testing.M) {
	switch os.Getenv(asCLIEnv) {
	case "":
		os.Exit(m.Run())
	case "prestarted":
		if prestart.Schemas() == nil {
			os.Exit(exitNoPrestart)
		}
	}
	main()
	os.Exit(0)
}

// `capstan template` prints the same, and fails the same, whether the chart was loaded and its
// schema compiled while the packages initialised or by the command itself.
func TestTemplate_prestartedSameAsNot(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{
		"Chart.yaml":  "apiVersion: v2\nname: app\nversion: 0.1.0\n",
		"values.yaml": "replicas: 1\nname: web\n",
		"values.schema.json": `{"$schema": "http://json-schema.org/draft-07/schema#", "$ref": "#/$defs/values",
			"$defs": {"values": {"type": "object", "properties": {"replicas": {"$ref": "#/$defs/replicas"}, "name": {"type": "string"}}},
			"replicas": {"type": "integer", "minimum": 1}}}`,
		"templates/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: {{ .Values.name }}}\ndata: {n: {{ .Values.replicas | quote }}}\n",
	}
	for name, body := range files {
		p := filepath.Join(dir, "app", name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	cases := map[string][]string{
		"valid values":                 {"template", "rel", "app", "--namespace", "x"},
		"a schema violation":           {"template", "rel", "app", "--set", "replicas=0"},
		"a type violation":             {"template", "app", "--set", "replicas=x"},
		"--skip-schema-validation":     {"template", "app", "--set", "replicas=0", "--skip-schema-validation"},
		"a directory that is no chart": {"template", "rel", "."},
	}
	t.Chdir(dir)
	for name, args := range cases {
		t.Run(name, func(t *testing.T) {
			mode := "prestarted"
			if name == "--skip-schema-validation" || name == "a directory that is no chart" {
				mode = "cli" // no schema cache; the chart load is still begun
			}
			cmd := exec.Command(os.Args[0], args...)
			cmd.Env = append(os.Environ(), asCLIEnv+"="+mode)
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			err := cmd.Run()
			var exit *exec.ExitError
			if errors.As(err, &exit) && exit.ExitCode() == exitNoPrestart {
				t.Fatal("the run as the CLI began no work at initialisation")
			}

			want, wantErr := runCapstan(args...)
			if wantErr != nil {
				if err == nil || stderr.String() != "Error: "+wantErr.Error()+"\n" {
					t.Fatalf("got error %v, stderr %q; want %q", err, stderr.String(), wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("run as the CLI: %v: %s", err, stderr.String())
			}
			if stdout.String() != want {
				t.Fatalf("output differs:\n got: %s\nwant: %s", stdout.String(), want)
			}
		})
	}
}

package main

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	. "github.com/onsi/gomega"
)

// runMainEnv makes the test binary act as the chartserver command, so the signal test runs the
// real main without a separate build.
const runMainEnv = "CHARTSERVER_TEST_RUN_MAIN"

func TestMain(m *testing.M) {
	if os.Getenv(runMainEnv) == "1" {
		os.Exit(realMain(os.Args[1:]))
	}
	os.Exit(m.Run())
}

func TestParseFlags(t *testing.T) {
	cases := map[string]struct {
		args    []string
		want    config
		wantErr string
	}{
		"dir and address": {args: []string{"--dir", "/srv", "--addr", "127.0.0.1:0"},
			want: config{dir: "/srv", addr: "127.0.0.1:0", ociNamespace: "charts"}},
		"the default address": {args: []string{"--dir=/srv"},
			want: config{dir: "/srv", addr: "127.0.0.1:8879", ociNamespace: "charts"}},
		"an OCI registry too": {args: []string{"--dir=/srv", "--oci-addr=127.0.0.1:5000", "--oci-namespace=team/charts"},
			want: config{dir: "/srv", addr: "127.0.0.1:8879", ociAddr: "127.0.0.1:5000", ociNamespace: "team/charts"}},
		"no directory":              {args: []string{"--addr", ":1"}, wantErr: "--dir is required"},
		"a stray argument":          {args: []string{"--dir", "/srv", "extra"}, wantErr: "unexpected arguments"},
		"an unknown flag":           {args: []string{"--port", "1"}, wantErr: "flag provided but not defined"},
		"an empty OCI namespace":    {args: []string{"--dir", "/srv", "--oci-namespace="}, wantErr: "--oci-namespace"},
		"a slash-led OCI namespace": {args: []string{"--dir", "/srv", "--oci-namespace=/charts"}, wantErr: "--oci-namespace"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			got, err := parseFlags(tc.args, io.Discard)
			if tc.wantErr != "" {
				g.Expect(err).To(MatchError(ContainSubstring(tc.wantErr)))
				return
			}
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(got).To(Equal(tc.want))
		})
	}
}

// TestRun serves a directory on a free port, fetches the index, then stops the server through
// its context and expects a clean return.
func TestRun(t *testing.T) {
	g := NewWithT(t)
	dir := t.TempDir()
	g.Expect(os.WriteFile(filepath.Join(dir, "index.yaml"), []byte("apiVersion: v1\n"), 0o644)).To(Succeed())
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	out, announce := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, config{dir: dir, addr: "127.0.0.1:0"}, announce, slog.New(slog.DiscardHandler))
		_ = announce.Close()
	}()
	url := readAddress(g, out)

	g.Expect(get(url + "/index.yaml")).To(Equal("apiVersion: v1\n"))
	cancel()
	g.Eventually(done).WithTimeout(10 * time.Second).Should(Receive(BeNil()))
}

func TestRun_errors(t *testing.T) {
	cases := map[string]struct {
		cfg  func(t *testing.T) config
		want string
	}{
		"a directory that does not exist": {
			cfg:  func(t *testing.T) config { return config{dir: filepath.Join(t.TempDir(), "gone"), addr: "127.0.0.1:0"} },
			want: "opening the directory to serve",
		},
		"an address that cannot be bound": {
			cfg:  func(t *testing.T) config { return config{dir: t.TempDir(), addr: "127.0.0.1:99999"} },
			want: "listening on 127.0.0.1:99999",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			err := run(t.Context(), tc.cfg(t), io.Discard, slog.New(slog.DiscardHandler))
			g.Expect(err).To(MatchError(ContainSubstring(tc.want)))
		})
	}
}

// TestMain_SIGTERM runs the command as a process, as make run does, and checks that SIGTERM makes
// it log the stop and exit 0.
func TestMain_SIGTERM(t *testing.T) {
	g := NewWithT(t)
	dir := t.TempDir()
	g.Expect(os.WriteFile(filepath.Join(dir, "index.yaml"), []byte("entries: {}\n"), 0o644)).To(Succeed())
	cmd := exec.Command(os.Args[0], "--dir", dir, "--addr", "127.0.0.1:0")
	cmd.Env = append(os.Environ(), runMainEnv+"=1")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(cmd.Start()).To(Succeed())
	defer func() { _ = cmd.Process.Kill() }()

	url := readAddress(g, stdout)
	g.Expect(get(url + "/index.yaml")).To(Equal("entries: {}\n"))
	g.Expect(cmd.Process.Signal(syscall.SIGTERM)).To(Succeed())
	g.Expect(cmd.Wait()).To(Succeed(), "stderr: %s", stderr.String())
	g.Expect(stderr.String()).To(And(ContainSubstring("path=/index.yaml"), ContainSubstring("msg=stopping")))
}

// readAddress reads the announcement line and returns the server's base URL.
func readAddress(g Gomega, r io.Reader) string {
	line, err := bufio.NewReader(r).ReadString('\n')
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(line).To(HavePrefix("serving "))
	_, url, found := strings.Cut(strings.TrimSpace(line), " at ")
	g.Expect(found).To(BeTrue(), "announcement %q", line)
	return url
}

func get(url string) (string, error) {
	resp, err := http.Get(url)
	if err != nil {
		return "", err
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(resp.Body)
	return string(body), err
}

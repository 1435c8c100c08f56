package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"
)

// shutdownGrace is how long in-flight requests may take to finish after a stop signal.
const shutdownGrace = 5 * time.Second

// config holds the command line.
type config struct {
	dir          string
	addr         string
	ociAddr      string
	ociNamespace string
}

func parseFlags(args []string, stderr io.Writer) (config, error) {
	var c config
	fs := flag.NewFlagSet("chartserver", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.dir, "dir", "", "directory to serve (index.yaml and chart archives)")
	fs.StringVar(&c.addr, "addr", "127.0.0.1:8879", "address to listen on; port 0 picks a free port")
	fs.StringVar(&c.ociAddr, "oci-addr", "", "also serve the archives of --dir as an OCI registry at this address (empty: no registry)")
	fs.StringVar(&c.ociNamespace, "oci-namespace", "charts", "repository namespace of the charts in the OCI registry")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if c.dir == "" {
		return c, errors.New("--dir is required")
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if c.ociNamespace == "" || strings.Trim(c.ociNamespace, "/") != c.ociNamespace {
		return c, fmt.Errorf("--oci-namespace %q must be a non-empty path without leading or trailing slashes", c.ociNamespace)
	}
	return c, nil
}

// endpoint is one server and the listener it serves.
type endpoint struct {
	srv *http.Server
	ln  net.Listener
}

// run serves c.dir until ctx is cancelled, then shuts down gracefully.
func run(ctx context.Context, c config, stdout io.Writer, logger *slog.Logger) error {
	root, err := os.OpenRoot(c.dir)
	if err != nil {
		return fmt.Errorf("opening the directory to serve: %w", err)
	}
	defer func() { _ = root.Close() }()
	web, err := listen(ctx, c.addr, newHandler(root, logger))
	if err != nil {
		return err
	}
	endpoints := []endpoint{web}
	defer closeAll(endpoints)
	announce := []string{fmt.Sprintf("serving %s at http://%s", c.dir, web.ln.Addr())}
	if c.ociAddr != "" {
		oci, line, err := ociEndpoint(ctx, c, logger)
		if err != nil {
			return err
		}
		endpoints = append(endpoints, oci)
		announce = append(announce, line)
	}
	for _, line := range announce {
		if _, err := fmt.Fprintln(stdout, line); err != nil {
			return fmt.Errorf("announcing the address: %w", err)
		}
	}
	return serve(ctx, endpoints, logger)
}

// ociEndpoint fills the OCI registry from c.dir and listens for it.
func ociEndpoint(ctx context.Context, c config, logger *slog.Logger) (endpoint, string, error) {
	reg, refs, err := newOCIRegistry(ctx, c.dir, c.ociNamespace, log.New(io.Discard, "", 0))
	if err != nil {
		return endpoint{}, "", fmt.Errorf("filling the OCI registry: %w", err)
	}
	oci, err := listen(ctx, c.ociAddr, logRequests(reg, logger.With("server", "oci")))
	if err != nil {
		return endpoint{}, "", err
	}
	return oci, fmt.Sprintf("serving %d charts (%s) at oci://%s/%s", len(refs), strings.Join(refs, " "),
		oci.ln.Addr(), c.ociNamespace), nil
}

func listen(ctx context.Context, addr string, h http.Handler) (endpoint, error) {
	ln, err := (&net.ListenConfig{}).Listen(ctx, "tcp", addr)
	if err != nil {
		return endpoint{}, fmt.Errorf("listening on %s: %w", addr, err)
	}
	return endpoint{ln: ln, srv: &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      5 * time.Minute,
		IdleTimeout:       2 * time.Minute,
	}}, nil
}

// closeAll closes every listener; closing one a server already closed is harmless.
func closeAll(endpoints []endpoint) {
	for _, e := range endpoints {
		_ = e.ln.Close()
	}
}

// serve runs every endpoint until ctx ends or one of them fails, then shuts them all down.
func serve(ctx context.Context, endpoints []endpoint, logger *slog.Logger) error {
	errc := make(chan error, len(endpoints))
	for _, e := range endpoints {
		go func() { errc <- e.srv.Serve(e.ln) }()
	}
	var failed error
	select {
	case err := <-errc:
		failed = fmt.Errorf("serving: %w", err)
	case <-ctx.Done():
		logger.Info("stopping")
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownGrace)
	defer cancel()
	for _, e := range endpoints {
		if err := e.srv.Shutdown(sctx); err != nil && failed == nil {
			failed = fmt.Errorf("shutting down: %w", err)
		}
	}
	return failed
}

func main() { os.Exit(realMain(os.Args[1:])) }

// realMain runs the command and returns its exit code: 0 after a clean stop, 1 when serving
// failed, 2 for a bad command line.
func realMain(args []string) int {
	logger := slog.New(slog.NewTextHandler(os.Stderr, nil))
	c, err := parseFlags(args, os.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "chartserver: %v\n", err)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, c, os.Stdout, logger); err != nil {
		fmt.Fprintf(os.Stderr, "chartserver: %v\n", err)
		return 1
	}
	return 0
}

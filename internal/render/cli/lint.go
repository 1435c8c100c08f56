package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/spf13/cobra"
)

// lintOptions are the flags of `capstan lint`.
type lintOptions struct {
	values      valueFlags
	namespace   string
	kubeVersion string
	strict      bool
	quiet       bool
}

// errLintFailed marks the error returned when a chart failed; its text is lint's summary line.
var errLintFailed = errors.New("lint failed")

// lintFailure is an errLintFailed whose text is the summary alone, as helm prints it.
type lintFailure string

func (e lintFailure) Error() string { return string(e) }

func (e lintFailure) Is(target error) bool { return target == errLintFailed }

// NewLintCommand returns `capstan lint CHART...`, which checks charts for problems the way
// `helm lint` does: Chart.yaml, values and schema, and a render in lint mode whose every
// document must be valid YAML describing a nameable object.
func NewLintCommand() *cobra.Command {
	o := &lintOptions{}
	cmd := &cobra.Command{
		Use:   "lint CHART...",
		Short: "Examine charts for possible issues",
		Long: "Run a series of tests on each chart (a directory or a .tgz archive) to verify that it is " +
			"well-formed. Errors make the chart fail to install; warnings break conventions.",
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error { return o.run(cmd, args) },
	}
	fs := cmd.Flags()
	o.values.bind(fs)
	fs.StringVarP(&o.namespace, "namespace", "n", "", "namespace used for the render (default \"default\")")
	fs.StringVar(&o.kubeVersion, "kube-version", "", "Kubernetes version used for capabilities and the kubeVersion check")
	fs.BoolVar(&o.strict, "strict", false, "fail on lint warnings")
	fs.BoolVar(&o.quiet, "quiet", false, "print only warnings and errors")
	return cmd
}

func (o *lintOptions) run(cmd *cobra.Command, paths []string) error {
	// helm lint does not sort manifests, so it never reports unknown hooks; the rest it logs.
	log := slog.New(dropMessage{Handler: newLogger(cmd.ErrOrStderr()).Handler(), msg: "skipping unknown hooks"})
	vals, err := o.values.merge(cmd.InOrStdin())
	if err != nil {
		return err
	}
	caps, err := (&templateOptions{kubeVersion: o.kubeVersion}).capabilities()
	if err != nil {
		return err
	}
	l := linter{values: vals, namespace: o.namespace, caps: caps, log: log, ctx: cmd.Context()}
	var out strings.Builder
	failed := 0
	for _, p := range paths {
		msgs := l.lint(p)
		if o.printChart(&out, p, msgs) {
			failed++
		}
	}
	if _, err := io.WriteString(cmd.OutOrStdout(), out.String()); err != nil {
		return err
	}
	summary := fmt.Sprintf("%d chart(s) linted, %d chart(s) failed", len(paths), failed)
	if failed > 0 {
		return lintFailure(summary)
	}
	_, err = fmt.Fprintln(cmd.OutOrStdout(), summary)
	return err
}

// printChart prints one chart's messages in Helm's layout and reports whether it failed.
func (o *lintOptions) printChart(out *strings.Builder, path string, msgs []message) bool {
	failed := false
	for _, m := range msgs {
		failed = failed || m.severity == sevError || (o.strict && m.severity == sevWarning)
	}
	if o.quiet && !hasAbove(msgs, sevInfo) {
		return failed
	}
	fmt.Fprintf(out, "==> Linting %s\n", path)
	for _, m := range msgs {
		if !o.quiet || m.severity > sevInfo {
			fmt.Fprintln(out, m)
		}
	}
	out.WriteString("\n")
	return failed
}

// dropMessage is a slog handler that drops the records with one message.
type dropMessage struct {
	slog.Handler
	msg string
}

func (h dropMessage) Handle(ctx context.Context, r slog.Record) error {
	if r.Message == h.msg {
		return nil
	}
	return h.Handler.Handle(ctx, r)
}

func hasAbove(msgs []message, sev severity) bool {
	for _, m := range msgs {
		if m.severity > sev {
			return true
		}
	}
	return false
}

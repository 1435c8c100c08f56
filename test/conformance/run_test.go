package conformance

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/capstan-dev/capstan/internal/render/cli"
)

// templateRun is the outcome of one in-process `capstan template` run.
type templateRun struct {
	stdout, stderr string
	err            error
}

// combined is what a terminal shows for the run, as the probe goldens record it: stderr lines
// (warnings are printed while rendering, before any output), stdout, and the error line that
// cmd/capstan's main prints.
func (r templateRun) combined() string {
	s := r.stderr + r.stdout
	if r.err != nil {
		s += fmt.Sprintf("Error: %v\n", r.err)
	}
	return s
}

// runTemplate runs the very command `capstan template` users run, in process.
func runTemplate(ctx context.Context, args []string) templateRun {
	var stdout, stderr bytes.Buffer
	err := execTemplate(ctx, args, &stdout, &stderr)
	return templateRun{stdout: stdout.String(), stderr: stderr.String(), err: err}
}

func execTemplate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cmd := cli.NewTemplateCommand()
	cmd.SetArgs(args)
	cmd.SetOut(stdout)
	cmd.SetErr(stderr)
	cmd.SetIn(strings.NewReader(""))
	cmd.SilenceUsage, cmd.SilenceErrors = true, true
	// The goldens come from helm binaries built with `go install`, which call themselves "v4.3".
	return cmd.ExecuteContext(cli.WithHelmVersion(ctx, "v4.3"))
}

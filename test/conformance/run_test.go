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

// oracleHelmVersion is what the reference helm reports as .Capabilities.HelmVersion.Version:
// hack/tools.sh builds it with `go install`, so it calls itself "v4.3" where the official v4.3.1
// release binary (and Capstan by default, engine.HelmCompatVersion) says "v4.3.1".
const oracleHelmVersion = "v4.3"

// runTemplate runs the very command `capstan template` users run, in process, reporting the
// reference helm's version.
func runTemplate(ctx context.Context, args []string) templateRun {
	return runTemplateAs(cli.WithHelmVersion(ctx, oracleHelmVersion), args)
}

// runTemplateAs runs `capstan template` under ctx as is: without cli.WithHelmVersion it reports
// the production default version.
func runTemplateAs(ctx context.Context, args []string) templateRun {
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
	return cmd.ExecuteContext(ctx)
}

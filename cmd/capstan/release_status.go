package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/capstan-dev/capstan/internal/cli"
)

func init() { register(newStatusCmd) }

// exitNotReady is the exit status of `status --wait` when the Release ended Stalled or was not
// Ready in time: not an error of the command, an answer about the Release.
const exitNotReady = 3

// newStatusCmd builds `capstan status`, which shows where a Release stands from its status.
func newStatusCmd() *cobra.Command {
	var kube cli.KubeFlags
	var resources, wait bool
	var timeout time.Duration
	format := cli.FormatTable
	cmd := &cobra.Command{
		Use:   "status RELEASE",
		Short: "Show the status of a Release",
		Long: "Status shows what the controller reports for a Release: the revision in effect, its chart\n" +
			"and app version, when it was deployed, whether it is Ready and why, how many objects it\n" +
			"applied, and every condition. It reads only the Release object.\n\n" +
			"With --wait it first waits until the Release is Ready for its latest spec or Stalled, or\n" +
			"--timeout passes, printing a line to standard error each time the conditions change.\n\n" +
			"Exit status: 0 on success, 3 when --wait ends with the Release Stalled or not Ready in\n" +
			"time (the status is printed all the same), 1 on an error.",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if wait && timeout <= 0 {
				return fmt.Errorf("%w: --timeout %s: want a positive duration", cli.ErrInvalidArgument, timeout)
			}
			t, err := kube.Open(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			var notReady error
			if wait {
				ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt)
				defer stop()
				notReady = t.WaitReady(ctx, timeout, progressFor(cmd.ErrOrStderr()))
				if notReady != nil && !errors.Is(notReady, cli.ErrNotReady) && !errors.Is(notReady, cli.ErrTimeout) {
					return notReady
				}
			}
			if err := cli.WriteStatus(cmd.OutOrStdout(), format, cli.NewStatusReport(t.Release, resources)); err != nil {
				return err
			}
			if notReady != nil {
				fmt.Fprintf(cmd.ErrOrStderr(), "Not ready: %v\n", notReady)
				return exitStatus(exitNotReady)
			}
			return nil
		},
	}
	kube.AddFlags(cmd.Flags())
	cmd.Flags().BoolVar(&resources, "show-resources", false, "list the objects in the Release's inventory")
	cmd.Flags().VarP(&format, "output", "o", "output format: table, json or yaml")
	cmd.Flags().BoolVar(&wait, "wait", false, "wait until the Release is Ready or Stalled, showing each change of its conditions")
	cmd.Flags().DurationVar(&timeout, "timeout", cli.DefaultWaitTimeout, "how long --wait waits")
	return cmd
}

// progressFor returns the display of a wait on w: one line rewritten in place when w is a
// terminal, plain lines otherwise (a pipe, a file, a test's buffer).
func progressFor(w io.Writer) *cli.Progress {
	if f, ok := w.(*os.File); ok {
		fd := int(f.Fd())
		if term.IsTerminal(fd) {
			width, _, err := term.GetSize(fd)
			if err != nil {
				width = 0
			}
			return cli.NewProgress(w, true, width)
		}
	}
	return cli.NewProgress(w, false, 0)
}

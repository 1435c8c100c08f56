package main

import (
	"fmt"
	"os"
	"os/signal"
	"time"

	"github.com/spf13/cobra"

	capstanv1 "github.com/capstan-dev/capstan/api/v1alpha1"
	"github.com/capstan-dev/capstan/internal/cli"
)

func init() { register(newTestCmd) }

// newTestCmd builds `capstan test`, which asks the controller to run a Release's test hooks with
// the capstan.dev/test annotation and waits for the TestSuccess condition.
func newTestCmd() *cobra.Command {
	var kube cli.KubeFlags
	var wait cli.WaitFlags
	cmd := &cobra.Command{
		Use:   "test RELEASE",
		Short: "Run the tests of a Release",
		Long: "Test asks the controller to run the chart's test hooks against the revision in effect, by\n" +
			"setting the annotation " + capstanv1.TestAnnotation + " to the current time on the Release, and\n" +
			"waits until the controller reports the TestSuccess condition. It then prints the result of\n" +
			"each test hook as `helm test` does. It fails when a test failed.",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := wait.CheckTimeout(); err != nil {
				return err
			}
			return runTest(cmd, &kube, &wait, args[0])
		},
	}
	kube.AddFlags(cmd.Flags())
	wait.AddFlags(cmd.Flags())
	return cmd
}

// runTest makes the request and, unless told not to, waits for the outcome and prints it.
func runTest(cmd *cobra.Command, kube *cli.KubeFlags, wait *cli.WaitFlags, name string) error {
	ctx := cmd.Context()
	t, err := kube.Open(ctx, name)
	if err != nil {
		return err
	}
	if err := cli.CheckActionable(t.Release); err != nil {
		return err
	}
	if t.Release.Status.CurrentRevision == 0 {
		return fmt.Errorf("%w: Release %s/%s has no deployed revision to test", cli.ErrNotActionable, t.Release.Namespace, name)
	}
	before := t.Release.DeepCopy()
	value := cli.TestRequestValue(time.Now())
	if err := t.Annotate(ctx, capstanv1.TestAnnotation, value); err != nil {
		return err
	}
	out := cmd.OutOrStdout()
	fmt.Fprintf(out, "Requested a test run of release %q (%s=%q).\n", t.ReleaseName(), capstanv1.TestAnnotation, value)
	if !wait.Enabled() {
		return nil
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt)
	defer stop()
	testErr := t.Wait(ctx, wait.Timeout, "the test run", cli.TestCheck(before, value))
	if t.Release.Status.LastHandledTestAt != value {
		return testErr
	}
	if err := cli.WriteTestResult(out, t.Release); err != nil {
		return err
	}
	if rec, err := t.Record(ctx, t.Release.Status.CurrentRevision); err != nil {
		fmt.Fprintf(cmd.ErrOrStderr(), "Warning: the test hooks of revision %d cannot be listed: %v\n", t.Release.Status.CurrentRevision, err)
	} else if err := cli.WriteTestSuites(out, rec); err != nil {
		return err
	}
	return testErr
}

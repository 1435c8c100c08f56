package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"

	"github.com/spf13/cobra"

	capstanv1 "github.com/capstan-dev/capstan/api/v1alpha1"
	"github.com/capstan-dev/capstan/internal/cli"
)

func init() { register(newRollbackCmd) }

// newRollbackCmd builds `capstan rollback`, which asks the controller to roll a Release back with
// the capstan.dev/rollback-to annotation and waits for the outcome.
func newRollbackCmd() *cobra.Command {
	var kube cli.KubeFlags
	var wait cli.WaitFlags
	cmd := &cobra.Command{
		Use:   "rollback RELEASE [REVISION]",
		Short: "Roll a Release back to an earlier revision",
		Long: "Rollback asks the controller to re-apply the stored manifest of REVISION as a new revision, by\n" +
			"setting the annotation " + capstanv1.RollbackToAnnotation + " on the Release, and waits until the\n" +
			"controller reports the outcome. The Release then stays at that revision until its spec changes.\n" +
			"Without REVISION (or with 0) it goes back to the last good revision when the newest one\n" +
			"failed, and otherwise to the revision deployed before the current one.",
		Args: cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := wait.CheckTimeout(); err != nil {
				return err
			}
			revision := 0
			if len(args) == 2 {
				n, err := cli.ParseRevision(args[1])
				if err != nil {
					return err
				}
				revision = n
			}
			return runRollback(cmd, &kube, &wait, args[0], revision)
		},
	}
	kube.AddFlags(cmd.Flags())
	wait.AddFlags(cmd.Flags())
	return cmd
}

// runRollback checks the target, makes the request and, unless told not to, waits for it.
func runRollback(cmd *cobra.Command, kube *cli.KubeFlags, wait *cli.WaitFlags, name string, revision int) error {
	ctx := cmd.Context()
	t, err := kube.Open(ctx, name)
	if err != nil {
		return err
	}
	if err := cli.CheckActionable(t.Release); err != nil {
		return err
	}
	revision, err = rollbackTarget(ctx, t, revision)
	if err != nil {
		return err
	}
	before := t.Release.DeepCopy()
	value := cli.RollbackRequestValue(t.Release, revision)
	if err := t.Annotate(ctx, capstanv1.RollbackToAnnotation, value); err != nil {
		return err
	}
	out := cmd.OutOrStdout()
	fmt.Fprintf(out, "Requested a rollback of release %q to revision %d (%s=%q).\n",
		t.ReleaseName(), revision, capstanv1.RollbackToAnnotation, value)
	if !wait.Enabled() {
		return nil
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt)
	defer stop()
	if err := t.Wait(ctx, wait.Timeout, fmt.Sprintf("the rollback to revision %d", revision), cli.RollbackCheck(before, value)); err != nil {
		return err
	}
	_, err = fmt.Fprintf(out, "Rollback was a success: release %q is at revision %d, a copy of revision %d.\n",
		t.ReleaseName(), t.Release.Status.CurrentRevision, revision)
	return err
}

// rollbackTarget returns the revision to roll back to: the one asked for once checked, or the
// default one when revision is 0.
func rollbackTarget(ctx context.Context, t *cli.Target, revision int) (int, error) {
	recs, err := t.Records(ctx)
	if err != nil {
		return 0, err
	}
	if revision == 0 {
		return cli.DefaultRollbackTarget(t.Release, recs)
	}
	return revision, cli.CheckRollbackTarget(recs, revision)
}

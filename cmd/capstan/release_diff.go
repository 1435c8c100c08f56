package main

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"
	"k8s.io/client-go/discovery"
	"sigs.k8s.io/controller-runtime/pkg/client"

	capstanv1 "github.com/capstan-dev/capstan/api/v1alpha1"
	"github.com/capstan-dev/capstan/internal/apply"
	"github.com/capstan-dev/capstan/internal/chart"
	"github.com/capstan-dev/capstan/internal/cli"
	"github.com/capstan-dev/capstan/internal/reconcile"
	"github.com/capstan-dev/capstan/internal/redact"
)

func init() { register(newDiffCmd) }

// newDiffCmd builds `capstan diff`, which shows what the next reconcile of a Release would
// change, from a server-side dry-run, without writing anything.
func newDiffCmd() *cobra.Command {
	var kube cli.KubeFlags
	var format cli.Format
	cmd := &cobra.Command{
		Use:   "diff RELEASE",
		Short: "Show what the next reconcile of a Release would change",
		Long: "Diff renders the Release as the controller's next reconcile would (the chart its\n" +
			"ChartRepository resolves, the values from valuesFrom and spec.values, the cluster's\n" +
			"capabilities) and compares every object with the cluster through a server-side dry-run.\n" +
			"It lists the objects that would be created, changed (with the JSON pointers of the changed\n" +
			"fields) and deleted. Nothing is written. It runs with your own credentials, so your RBAC\n" +
			"applies. Secrets are shown by name and changed keys only.\n\n" +
			"Exit status: 0 when nothing would change, 2 when something would, 1 on an error.",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			report, err := runDiff(cmd.Context(), &kube, args[0])
			if err != nil {
				return err
			}
			if err := cli.WriteDiff(cmd.OutOrStdout(), report, format); err != nil {
				return err
			}
			if code := report.ExitCode(); code != cli.DiffExitNone {
				return exitStatus(code)
			}
			return nil
		},
	}
	kube.AddFlags(cmd.Flags())
	cmd.Flags().VarP(&format, "output", "o", "output format: table, json or yaml")
	return cmd
}

// runDiff previews the Release called name with the user's client and builds the report.
func runDiff(ctx context.Context, kube *cli.KubeFlags, name string) (*cli.DiffReport, error) {
	ns, err := kube.ResolveNamespace()
	if err != nil {
		return nil, err
	}
	cfg, err := kube.RESTConfig()
	if err != nil {
		return nil, err
	}
	c, err := client.NewWithWatch(cfg, client.Options{Scheme: cli.Scheme()})
	if err != nil {
		return nil, fmt.Errorf("creating a client for %s: %w", cfg.Host, err)
	}
	t, err := cli.NewConn(c, ns).Release(ctx, name)
	if err != nil {
		return nil, err
	}
	dc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("creating a discovery client for %s: %w", cfg.Host, err)
	}
	// What the preview reads from Secrets with the user's identity is registered here and kept
	// out of everything printed (the user may read the Secrets; their terminal log may not).
	red := redact.New()
	p, err := previewer(c, dc).Preview(redact.NewContext(ctx, red), t.Release)
	if err != nil {
		return nil, red.Error(fmt.Errorf("previewing Release %s/%s: %w", ns, name, err))
	}
	report := diffReport(t.Release, p)
	report.Message = red.Redact(report.Message)
	return report, nil
}

// previewer is the Release state machine with the user's client in every role: the chart is
// fetched with the ChartRepository's spec and Secret as the user can read them, and a Release
// with spec.kubeConfig is compared with the remote cluster through the kubeconfig Secret the user
// can read (refused as the manager refuses it).
func previewer(c client.WithWatch, dc discovery.DiscoveryInterface) *reconcile.Reconciler {
	sources := reconcile.NewChartSources(reconcile.ChartSourcesOptions{UserAgent: "capstan-cli"})
	return &reconcile.Reconciler{
		Client: c, Clients: userClients{c}, Source: reconcile.NewReleaseChartSource(sources, c),
		Remote:       &reconcile.RemoteClients{Scheme: cli.Scheme(), UserAgent: "capstan-cli"},
		Capabilities: &reconcile.DiscoveryCapabilities{Discovery: dc},
		Options:      reconcile.Options{ChartLimits: chart.DefaultLimits()},
	}
}

// userClients gives every Release the CLI user's client.
type userClients struct{ c client.WithWatch }

func (u userClients) ForRelease(context.Context, *capstanv1.Release) (client.WithWatch, error) {
	return u.c, nil
}

// diffReport turns a preview into the printed report.
func diffReport(rel *capstanv1.Release, p *reconcile.Preview) *cli.DiffReport {
	r := &cli.DiffReport{Release: rel.Name, Namespace: rel.Namespace, ReleaseName: p.ReleaseName,
		Action: string(p.Action.Kind), Reason: p.Action.Reason, Message: p.Action.Message, Revision: p.Revision,
		Chart: p.ChartName, Version: p.ChartVersion}
	for _, ch := range p.Changes {
		o := cli.DiffObject{Object: objectName(ch.Ref), Fields: ch.Fields}
		if ch.Kind == apply.ChangeMissing {
			r.Create = append(r.Create, o)
		} else {
			r.Change = append(r.Change, o)
		}
	}
	for _, ref := range p.Stale {
		r.Delete = append(r.Delete, cli.DiffObject{Object: objectName(ref)})
	}
	return r
}

func objectName(r apply.ObjectRef) string {
	return cli.ObjectName(r.Group, r.Kind, r.Namespace, r.Name)
}

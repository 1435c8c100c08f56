package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	capstanv1 "github.com/capstan-dev/capstan/api/v1alpha1"
	"github.com/capstan-dev/capstan/internal/chart"
	"github.com/capstan-dev/capstan/internal/cli"
	"github.com/capstan-dev/capstan/internal/storage"
	"github.com/capstan-dev/capstan/internal/testenv"
	"github.com/capstan-dev/capstan/internal/testsupport"
)

// TestReleaseCommands runs history, get, status, rollback and test in process, as a user would
// type them, against a real kube-apiserver and etcd (envtest) with Capstan's CRDs. Revision
// records are written with storage.Store; no controller runs, so the rollback and test cases
// play the controller's part in a goroutine. The reference helm binary reads the same records,
// and the commands that mirror helm's must print exactly what it prints.
func TestReleaseCommands(t *testing.T) {
	env, cfg, err := testenv.Start("config/crd/bases")
	if err != nil {
		t.Fatalf("cannot start envtest: %v", err)
	}
	t.Cleanup(func() { _ = env.Stop() })
	c, err := client.New(cfg, client.Options{Scheme: cli.Scheme()})
	if err != nil {
		t.Fatalf("client: %v", err)
	}
	f := &envFixture{c: c, store: storage.NewStore(c), kubeconfig: writeKubeconfig(t, env)}

	t.Run("history", f.testHistory)
	t.Run("get", f.testGet)
	t.Run("helm prints the same", f.testHelmOracle)
	t.Run("status", f.testStatus)
	t.Run("status --wait and its exit statuses", f.testStatusWait)
	t.Run("the namespace comes from the kubeconfig context", f.testContextNamespace)
	t.Run("rollback", f.testRollback)
	t.Run("rollback exit codes", f.testRollbackExitCodes)
	t.Run("test", f.testTest)
}

// envFixture is what the subtests share: a client and a store on the control plane, and a
// kubeconfig for the commands.
type envFixture struct {
	c          client.Client
	store      *storage.Store
	kubeconfig string
}

// writeKubeconfig writes a kubeconfig for an admin user of the control plane.
func writeKubeconfig(t *testing.T, env *envtest.Environment) string {
	t.Helper()
	user, err := env.AddUser(envtest.User{Name: "capstan-cli", Groups: []string{"system:masters"}}, nil)
	if err != nil {
		t.Fatalf("envtest user: %v", err)
	}
	kc, err := user.KubeConfig()
	if err != nil {
		t.Fatalf("kubeconfig: %v", err)
	}
	path := filepath.Join(t.TempDir(), "kubeconfig")
	if err := os.WriteFile(path, kc, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// namespace creates a namespace for one subtest.
func (f *envFixture) namespace(t *testing.T) string {
	t.Helper()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "cli-"}}
	if err := f.c.Create(context.Background(), ns); err != nil {
		t.Fatalf("create namespace: %v", err)
	}
	return ns.Name
}

// createRelease creates a Release web (chart demo) in ns, with spec.releaseName set when
// releaseName is not empty, and gives it status; it returns the Release as stored.
func (f *envFixture) createRelease(t *testing.T, ns, name, releaseName string, status func(*capstanv1.Release)) *capstanv1.Release {
	t.Helper()
	rel := testsupport.MakeRelease(name, ns).Chart("repo", "demo", "1.x").ReleaseName(releaseName).Obj()
	if err := f.c.Create(context.Background(), rel); err != nil {
		t.Fatalf("create Release: %v", err)
	}
	if status != nil {
		f.setStatus(t, ns, name, status)
	}
	return f.release(t, ns, name)
}

// release reads a Release.
func (f *envFixture) release(t *testing.T, ns, name string) *capstanv1.Release {
	t.Helper()
	rel := &capstanv1.Release{}
	if err := f.c.Get(context.Background(), types.NamespacedName{Namespace: ns, Name: name}, rel); err != nil {
		t.Fatalf("get Release: %v", err)
	}
	return rel
}

// setStatus changes a Release's status through the status subresource, as the controller does.
func (f *envFixture) setStatus(t *testing.T, ns, name string, mutate func(*capstanv1.Release)) {
	t.Helper()
	if err := f.updateStatus(context.Background(), ns, name, mutate); err != nil {
		t.Fatalf("update Release status: %v", err)
	}
}

func (f *envFixture) updateStatus(ctx context.Context, ns, name string, mutate func(*capstanv1.Release)) error {
	return retry.RetryOnConflict(retry.DefaultRetry, func() error {
		rel := &capstanv1.Release{}
		if err := f.c.Get(ctx, types.NamespacedName{Namespace: ns, Name: name}, rel); err != nil {
			return err
		}
		mutate(rel)
		return f.c.Status().Update(ctx, rel)
	})
}

// createRecords stores revision records.
func (f *envFixture) createRecords(t *testing.T, recs ...*storage.Release) {
	t.Helper()
	for _, r := range recs {
		if err := f.store.Create(context.Background(), r); err != nil {
			t.Fatalf("create record v%d: %v", r.Version, err)
		}
	}
}

// run runs capstan in process with the fixture's kubeconfig and returns what it printed.
func (f *envFixture) run(args ...string) (stdout, stderr string, err error) {
	cmd := newRootCmd()
	var out, errOut bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&errOut)
	cmd.SetArgs(append(args, "--kubeconfig", f.kubeconfig))
	err = cmd.Execute()
	return out.String(), errOut.String(), err
}

// helperProcessEnv names the variable that turns this test binary into the capstan binary; see
// TestHelperProcess.
const helperProcessEnv = "CAPSTAN_TEST_MAIN_ARGS"

// TestHelperProcess is not a test: runProcess starts this test binary again with only this
// function selected and the capstan arguments in the environment, so that main runs as the real
// binary does and its exit code and standard error can be checked. Run normally, it returns at
// once.
func TestHelperProcess(*testing.T) {
	args, ok := os.LookupEnv(helperProcessEnv)
	if !ok {
		return
	}
	os.Args = append([]string{"capstan"}, strings.Split(args, "\n")...)
	main()
	os.Exit(0)
}

// runProcess runs capstan as a separate process and returns its output and exit code.
func (f *envFixture) runProcess(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestHelperProcess$")
	cmd.Env = append(os.Environ(), helperProcessEnv+"="+strings.Join(append(args, "--kubeconfig", f.kubeconfig), "\n"))
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		code = exit.ExitCode()
	case err != nil:
		t.Fatalf("running capstan: %v", err)
	}
	return out.String(), errOut.String(), code
}

// contextKubeconfig writes a copy of the fixture's kubeconfig whose current context has
// namespace ns.
func (f *envFixture) contextKubeconfig(t *testing.T, ns string) string {
	t.Helper()
	cfg, err := clientcmd.LoadFromFile(f.kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Contexts[cfg.CurrentContext].Namespace = ns
	path := filepath.Join(t.TempDir(), "kubeconfig")
	if err := clientcmd.WriteToFile(*cfg, path); err != nil {
		t.Fatal(err)
	}
	return path
}

// t0 is when revision 1 of the fixtures was deployed; revision n is n-1 hours later.
var t0 = time.Date(2024, 3, 5, 8, 8, 9, 0, time.UTC)

// record returns revision n of release name in ns, chart demo 1.0.0 (app version 2.1).
func record(ns, name string, n int, status storage.Status, description string) *storage.Release {
	return &storage.Release{
		Name: name, Namespace: ns, Version: n, ApplyMethod: storage.ApplyMethodServerSide,
		Info: storage.Info{FirstDeployed: t0, LastDeployed: t0.Add(time.Duration(n-1) * time.Hour), Status: status,
			Description: description},
		Chart: storage.Chart{
			Metadata: &chart.Metadata{APIVersion: "v2", Name: "demo", Version: "1.0.0", AppVersion: "2.1"},
			Values:   map[string]any{"replicas": 1.0, "image": map[string]any{"tag": "1.0", "pullPolicy": nil}, "gone": nil},
		},
		Manifest: "---\n# Source: demo/templates/cm.yaml\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: " + name + "\n",
	}
}

// readyStatus is the status of a Release whose revision is deployed and Ready at generation gen.
func readyStatus(revision int) func(*capstanv1.Release) {
	return func(rel *capstanv1.Release) {
		now := metav1.Now()
		rel.Status.ObservedGeneration = rel.Generation
		rel.Status.ReleaseName = rel.GetReleaseName()
		rel.Status.StorageNamespace = rel.Namespace
		rel.Status.CurrentRevision, rel.Status.RollbackTarget = revision, revision
		rel.Status.ChartName, rel.Status.ChartVersion, rel.Status.AppVersion = "demo", "1.0.0", "2.1"
		rel.Status.History = capstanv1.History{{Revision: revision, Action: capstanv1.ActionUpgrade, Status: capstanv1.RevisionDeployed,
			ChartName: "demo", ChartVersion: "1.0.0", StartedAt: metav1.NewTime(t0), FinishedAt: &now, Message: "Upgrade complete"}}
		rel.Status.Conditions = []metav1.Condition{
			condition(rel, capstanv1.ReadyCondition, metav1.ConditionTrue, capstanv1.UpgradeSucceededReason, "Revision deployed"),
			condition(rel, capstanv1.ReleasedCondition, metav1.ConditionTrue, capstanv1.UpgradeSucceededReason, "Upgraded"),
		}
	}
}

// condition returns a condition observed at rel's generation.
func condition(rel *capstanv1.Release, typ string, status metav1.ConditionStatus, reason, message string) metav1.Condition {
	return metav1.Condition{Type: typ, Status: status, Reason: reason, Message: message,
		ObservedGeneration: rel.Generation, LastTransitionTime: metav1.Now()}
}

// setCondition replaces or adds a condition of rel.
func setCondition(rel *capstanv1.Release, c metav1.Condition) {
	for i := range rel.Status.Conditions {
		if rel.Status.Conditions[i].Type == c.Type {
			rel.Status.Conditions[i] = c
			return
		}
	}
	rel.Status.Conditions = append(rel.Status.Conditions, c)
}

// removeCondition removes a condition of rel.
func removeCondition(rel *capstanv1.Release, typ string) {
	out := rel.Status.Conditions[:0]
	for _, c := range rel.Status.Conditions {
		if c.Type != typ {
			out = append(out, c)
		}
	}
	rel.Status.Conditions = out
}

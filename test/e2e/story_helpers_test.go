package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"

	capstanv1 "github.com/capstan-dev/capstan/api/v1alpha1"
	"github.com/capstan-dev/capstan/internal/testenv/oracle"
)

// runProgram runs bin with args (and env added to the suite's environment) and returns its
// standard output; the error carries the command line and its standard error.
func runProgram(ctx context.Context, env []string, bin string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = append(os.Environ(), env...)
	var out, errOut strings.Builder
	cmd.Stdout = &out
	cmd.Stderr = &errOut
	if err := cmd.Run(); err != nil {
		return out.String(), fmt.Errorf("%s %s: %w: %s%s", filepath.Base(bin), strings.Join(args, " "), err, errOut.String(), out.String())
	}
	return out.String(), nil
}

// capstanCLI runs the built bin/capstan against the suite's cluster.
func capstanCLI(ctx context.Context, args ...string) (string, error) {
	return runProgram(ctx, nil, capstanBin, append(args, "--kubeconfig", cluster.Kubeconfig)...)
}

// helmCLI runs the reference helm binary (an oracle for tests only) against the suite's cluster,
// with its cache and configuration inside the suite's work directory.
func helmCLI(ctx context.Context, args ...string) (string, error) {
	bin, err := oracle.Helm()
	Expect(err).NotTo(HaveOccurred(), "the end-to-end stories compare with the reference helm (hack/tools.sh helm)")
	home := filepath.Join(workDir, "helm")
	env := []string{"HELM_CACHE_HOME=" + home + "/cache", "HELM_CONFIG_HOME=" + home + "/config",
		"HELM_DATA_HOME=" + home + "/data"}
	return runProgram(ctx, env, bin, append(args, "--kubeconfig", cluster.Kubeconfig)...)
}

// kubectlWait runs `kubectl wait --for=<condition> <object>` in namespace ns, as a user would.
func kubectlWait(ctx context.Context, ns, object, condition string, timeout time.Duration) error {
	_, _, err := kubectl(ctx, "wait", "-n", ns, "--for="+condition, "--timeout="+timeout.String(), object)
	return err
}

// getRelease reads a Release as it is now.
func getRelease(ctx context.Context, ns, name string) *capstanv1.Release {
	rel := &capstanv1.Release{}
	Expect(k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, rel)).To(Succeed())
	return rel
}

// conditionOf returns a condition of a Release, or an empty one with status "absent".
func conditionOf(rel *capstanv1.Release, typ string) metav1.Condition {
	if c := meta.FindStatusCondition(rel.Status.Conditions, typ); c != nil {
		return *c
	}
	return metav1.Condition{Type: typ, Status: "absent"}
}

// snapshotView is what the stories compare of one revision: status.history entries, `helm
// history` rows and `capstan history` rows all reduce to it.
type snapshotView struct {
	Revision    int
	Action      string
	Status      string
	Description string
}

// historyOf returns a Release's status.history oldest first.
func historyOf(rel *capstanv1.Release) []snapshotView {
	out := make([]snapshotView, 0, len(rel.Status.History))
	for _, s := range rel.Status.History {
		out = append(out, snapshotView{Revision: s.Revision, Action: string(s.Action), Status: string(s.Status), Description: s.Message})
	}
	slices.SortFunc(out, func(a, b snapshotView) int { return a.Revision - b.Revision })
	return out
}

// historyRow is one row of `helm history -o json` (and of `capstan history -o json`).
type historyRow struct {
	Revision         int    `json:"revision"`
	Status           string `json:"status"`
	Chart            string `json:"chart"`
	AppVersion       string `json:"app_version"`
	Description      string `json:"description"`
	RollbackRevision int    `json:"rollback_revision"`
}

// parseHistory decodes `history -o json` output.
func parseHistory(out string) []historyRow {
	var rows []historyRow
	Expect(json.Unmarshal([]byte(out), &rows)).To(Succeed(), out)
	return rows
}

// helmListRow is one row of `helm list -o json`.
type helmListRow struct {
	Name       string `json:"name"`
	Namespace  string `json:"namespace"`
	Revision   string `json:"revision"`
	Status     string `json:"status"`
	Chart      string `json:"chart"`
	AppVersion string `json:"app_version"`
}

// parseHelmList decodes `helm list -o json` output.
func parseHelmList(out string) []helmListRow {
	var rows []helmListRow
	Expect(json.Unmarshal([]byte(out), &rows)).To(Succeed(), out)
	return rows
}

// valuesJSON renders values for a Release's spec.values (JSON is YAML).
func valuesJSON(values map[string]any) string {
	data, err := json.Marshal(values)
	Expect(err).NotTo(HaveOccurred())
	return string(data)
}

// kwokNodes returns the names of the nodes of the cluster c reaches, all simulated by kwok.
func kwokNodes(ctx context.Context, c client.Client) []string {
	var nodes corev1.NodeList
	Expect(c.List(ctx, &nodes)).To(Succeed())
	names := make([]string, 0, len(nodes.Items))
	for _, n := range nodes.Items {
		names = append(names, n.Name)
	}
	return names
}

// expectDeploymentRunning checks that a Deployment is Available with exactly replicas pods of its
// current template, each Running and Ready on one of the kwok nodes, and returns those pods.
func expectDeploymentRunning(ctx context.Context, ns, name string, replicas int32) []corev1.Pod {
	return expectDeploymentRunningIn(ctx, k8sClient, ns, name, replicas)
}

// expectDeploymentRunningIn is expectDeploymentRunning in the cluster c reaches.
func expectDeploymentRunningIn(ctx context.Context, c client.Client, ns, name string, replicas int32) []corev1.Pod {
	nodes := kwokNodes(ctx, c)
	Expect(nodes).NotTo(BeEmpty())
	var pods []corev1.Pod
	Eventually(func(g Gomega) {
		var d appsv1.Deployment
		g.Expect(c.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, &d)).To(Succeed())
		g.Expect(d.Spec.Replicas).To(HaveValue(Equal(replicas)))
		g.Expect(d.Status.ObservedGeneration).To(Equal(d.Generation))
		g.Expect(d.Status.Conditions).To(ContainElement(SatisfyAll(
			HaveField("Type", appsv1.DeploymentAvailable), HaveField("Status", corev1.ConditionTrue))))
		g.Expect(d.Status.UpdatedReplicas).To(Equal(replicas))
		g.Expect(d.Status.AvailableReplicas).To(Equal(replicas))
		g.Expect(d.Status.Replicas).To(Equal(replicas), "no pod of an older template is left")
		var list corev1.PodList
		g.Expect(c.List(ctx, &list, client.InNamespace(ns),
			client.MatchingLabels(d.Spec.Selector.MatchLabels))).To(Succeed())
		g.Expect(list.Items).To(HaveLen(int(replicas)))
		for _, p := range list.Items {
			g.Expect(p.Status.Phase).To(Equal(corev1.PodRunning), p.Name)
			g.Expect(p.Spec.NodeName).To(BeElementOf(nodes), p.Name)
			g.Expect(p.Status.Conditions).To(ContainElement(SatisfyAll(
				HaveField("Type", corev1.PodReady), HaveField("Status", corev1.ConditionTrue))), p.Name)
		}
		pods = list.Items
	}).WithContext(ctx).WithTimeout(60 * time.Second).WithPolling(500 * time.Millisecond).Should(Succeed())
	return pods
}

// configMapData returns one key of a ConfigMap.
func configMapData(ctx context.Context, ns, name, key string) string {
	var cm corev1.ConfigMap
	Expect(k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, &cm)).To(Succeed())
	return cm.Data[key]
}

// eventReasons returns "Type/Reason" of every event about an object.
func eventReasons(ctx context.Context, ns, kind, name string) []string {
	var events corev1.EventList
	Expect(k8sClient.List(ctx, &events, client.InNamespace(ns),
		client.MatchingFields{"involvedObject.kind": kind, "involvedObject.name": name})).To(Succeed())
	out := make([]string, 0, len(events.Items))
	for _, e := range events.Items {
		out = append(out, e.Type+"/"+e.Reason)
	}
	return out
}

// releaseRecords returns the names of the revision records (Helm's Secrets) of a release.
func releaseRecords(ctx context.Context, ns, release string) []string {
	var secrets corev1.SecretList
	Expect(k8sClient.List(ctx, &secrets, client.InNamespace(ns),
		client.MatchingLabels{"owner": "helm", "name": release})).To(Succeed())
	names := make([]string, 0, len(secrets.Items))
	for _, s := range secrets.Items {
		Expect(string(s.Type)).To(Equal("helm.sh/release.v1"), s.Name)
		names = append(names, s.Name)
	}
	slices.Sort(names)
	return names
}

// inventoryObjects turns a Release's inventory into objects to look up.
func inventoryObjects(rel *capstanv1.Release) []*unstructured.Unstructured {
	Expect(rel.Status.Inventory).NotTo(BeNil())
	out := make([]*unstructured.Unstructured, 0, len(rel.Status.Inventory.Entries))
	for _, e := range rel.Status.Inventory.Entries {
		ref, err := e.ObjectRef()
		Expect(err).NotTo(HaveOccurred())
		u := &unstructured.Unstructured{}
		u.SetGroupVersionKind(schema.GroupVersionKind{Group: ref.Group, Version: e.Version, Kind: ref.Kind})
		u.SetNamespace(ref.Namespace)
		u.SetName(ref.Name)
		out = append(out, u)
	}
	return out
}

// expectAllGone waits until none of objs exists any more.
func expectAllGone(ctx context.Context, objs []*unstructured.Unstructured) {
	Eventually(func(g Gomega) {
		for _, o := range objs {
			live := o.DeepCopy()
			err := k8sClient.Get(ctx, client.ObjectKeyFromObject(o), live)
			g.Expect(apierrors.IsNotFound(err)).To(BeTrue(), "%s %s/%s still exists (err=%v)", o.GetKind(), o.GetNamespace(), o.GetName(), err)
		}
	}).WithContext(ctx).WithTimeout(60 * time.Second).WithPolling(500 * time.Millisecond).Should(Succeed())
}

// expectNoPodsOrReplicaSets waits until no Pod and no ReplicaSet with the labels is left.
func expectNoPodsOrReplicaSets(ctx context.Context, ns string, labels map[string]string) {
	Eventually(func(g Gomega) {
		var pods corev1.PodList
		g.Expect(k8sClient.List(ctx, &pods, client.InNamespace(ns), client.MatchingLabels(labels))).To(Succeed())
		g.Expect(pods.Items).To(BeEmpty(), "pods")
		var sets appsv1.ReplicaSetList
		g.Expect(k8sClient.List(ctx, &sets, client.InNamespace(ns), client.MatchingLabels(labels))).To(Succeed())
		g.Expect(sets.Items).To(BeEmpty(), "replica sets")
	}).WithContext(ctx).WithTimeout(90 * time.Second).WithPolling(time.Second).Should(Succeed())
}

// describeNamespace prints what a user would look at when a story fails: the Releases as YAML,
// the events, and the workloads.
func describeNamespace(ctx context.Context, ns string) {
	for _, args := range [][]string{
		{"get", "releases,chartrepositories", "-n", ns, "-o", "yaml"},
		{"get", "events", "-n", ns, "--sort-by=.lastTimestamp"},
		{"get", "deployments,replicasets,pods,jobs,configmaps,secrets", "-n", ns, "-o", "wide"},
	} {
		stdout, stderr, _ := kubectl(context.WithoutCancel(ctx), args...)
		fmt.Fprintf(GinkgoWriter, "\n----- kubectl %s -----\n%s%s\n", strings.Join(args, " "), stdout, stderr)
	}
}

// timeStep records how long a step of a story took, in the suite's report.
func timeStep(name string, start time.Time) {
	d := time.Since(start).Round(time.Millisecond)
	AddReportEntry(name, d.String())
	fmt.Fprintf(GinkgoWriter, "%s: %s\n", name, d)
}

// inStoryNamespace gives an Ordered story one namespace for all its specs, written to *ns before
// the first, and describes the namespace after each spec that failed.
func inStoryNamespace(ns *string) {
	BeforeAll(func(ctx SpecContext) {
		*ns = newNamespace(ctx)
	})
	AfterEach(func(ctx SpecContext) {
		if CurrentSpecReport().Failed() {
			describeNamespace(ctx, *ns)
		}
	})
}

// examplesRepository is the HTTP ChartRepository "examples" of the suite's chart server, as the
// first document of a manifest (it ends with the separator).
func examplesRepository() string {
	return `apiVersion: capstan.dev/v1alpha1
kind: ChartRepository
metadata:
  name: examples
spec:
  url: ` + chartRepoURL + "\n---\n"
}

package e2e

import (
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// kubectl runs the real kubectl against the suite's cluster and returns its standard output and
// standard error. The error names the command.
func kubectl(ctx context.Context, args ...string) (stdout, stderr string, err error) {
	return kubectlWithInput(ctx, "", args...)
}

// kubectlWithInput is kubectl with stdin as standard input (for `apply -f -`).
func kubectlWithInput(ctx context.Context, stdin string, args ...string) (stdout, stderr string, err error) {
	full := append([]string{"--kubeconfig", cluster.Kubeconfig, "--cache-dir", filepath.Join(workDir, "kube-cache")}, args...)
	cmd := exec.CommandContext(ctx, "kubectl", full...)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errOut strings.Builder
	cmd.Stdout = &out
	cmd.Stderr = &errOut
	if err := cmd.Run(); err != nil {
		return out.String(), errOut.String(), fmt.Errorf("kubectl %s: %w: %s", strings.Join(args, " "), err, errOut.String())
	}
	return out.String(), errOut.String(), nil
}

// apply applies YAML documents into namespace ns with kubectl and returns kubectl's output.
func apply(ctx context.Context, ns, manifest string) string {
	stdout, _, err := kubectlWithInput(ctx, manifest, "apply", "-n", ns, "-f", "-")
	Expect(err).NotTo(HaveOccurred())
	return stdout
}

// newNamespace creates a namespace of its own for the current spec, deleted after it.
func newNamespace(ctx context.Context) string {
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "e2e-"}}
	Expect(k8sClient.Create(ctx, ns)).To(Succeed())
	DeferCleanup(func(ctx SpecContext) {
		Expect(client.IgnoreNotFound(k8sClient.Delete(ctx, ns))).To(Succeed())
	})
	return ns.Name
}

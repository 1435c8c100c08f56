package e2e

import (
	"fmt"
	"os"
	"path/filepath"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

// managerSA is the user name of the manager's service account in the kustomize install.
const managerSA = "system:serviceaccount:capstan-system:capstan-manager"

// The install manifests of config/default, applied to the suite's cluster in order: a server-side
// dry run, the real install, then what the manager's service account may and may not do.
var _ = Describe("The install manifests (config/default)", Ordered, func() {
	It("are accepted by a server-side dry run", func(ctx SpecContext) {
		// A dry run creates nothing, so the namespace the other objects go in must exist first.
		_, _, err := kubectl(ctx, "create", "namespace", "capstan-system")
		Expect(err).NotTo(HaveOccurred())
		stdout, _, err := kubectl(ctx, "apply", "-k", filepath.Join(repoRoot, "config", "default"), "--dry-run=server")
		Expect(err).NotTo(HaveOccurred())
		Expect(stdout).To(ContainSubstring("deployment.apps/capstan-manager created (server dry run)"))
		Expect(stdout).To(ContainSubstring("clusterrole.rbac.authorization.k8s.io/capstan-manager created (server dry run)"))
	})

	It("install a manager that passes the restricted Pod Security Standard and becomes available", func(ctx SpecContext) {
		_, _, err := kubectl(ctx, "apply", "--server-side", "--force-conflicts", "-k", filepath.Join(repoRoot, "config", "default"))
		Expect(err).NotTo(HaveOccurred())
		// kwok nodes never pull the image: the pod is admitted (the namespace enforces
		// "restricted") and scheduled, and kwok marks it ready.
		_, _, err = kubectl(ctx, "rollout", "status", "-n", "capstan-system", "deployment/capstan-manager", "--timeout=90s")
		Expect(err).NotTo(HaveOccurred())
	})

	DescribeTable("give the manager's service account least privilege",
		func(ctx SpecContext, verb, resource, namespace, want string) {
			args := []string{"auth", "can-i", verb, resource, "--as", managerSA}
			if namespace != "" {
				args = append(args, "-n", namespace)
			}
			// can-i exits 1 for "no", so only its answer is checked.
			stdout, _, _ := kubectl(ctx, args...)
			Expect(stdout).To(Equal(want+"\n"), "can %s %s %s in %q", managerSA, verb, resource, namespace)
		},
		Entry("it watches Releases everywhere", "watch", "releases.capstan.dev", "", "yes"),
		Entry("it writes Release status", "patch", "releases.capstan.dev/status", "tenant", "yes"),
		Entry("it manages finalizers", "update", "releases.capstan.dev/finalizers", "tenant", "yes"),
		Entry("it watches valuesFrom ConfigMaps (metadata only)", "watch", "configmaps", "tenant", "yes"),
		Entry("it does not get ConfigMaps as itself", "get", "configmaps", "tenant", "no"),
		Entry("it does not get Secrets as itself", "get", "secrets", "tenant", "no"),
		Entry("it sees whether a namespace is terminating", "get", "namespaces", "", "yes"),
		Entry("it does not delete namespaces", "delete", "namespaces", "", "no"),
		Entry("it does not write ConfigMaps as itself", "update", "configmaps", "tenant", "no"),
		Entry("it records events", "create", "events.events.k8s.io", "tenant", "yes"),
		Entry("it impersonates a Release's service account", "impersonate", "serviceaccounts", "tenant", "yes"),
		Entry("it never impersonates users", "impersonate", "users", "", "no"),
		Entry("it never impersonates groups", "impersonate", "groups", "", "no"),
		Entry("it does not create workloads as itself", "create", "deployments.apps", "tenant", "no"),
		Entry("it does not bind roles as itself", "create", "rolebindings.rbac.authorization.k8s.io", "tenant", "no"),
		Entry("it does not delete Releases", "delete", "releases.capstan.dev", "tenant", "no"),
		Entry("it holds its leader-election Lease", "update", "leases.coordination.k8s.io", "capstan-system", "yes"),
		Entry("it holds no Lease elsewhere", "update", "leases.coordination.k8s.io", "tenant", "no"),
	)

	It("grant cluster-admin only through the optional single-tenant component", func(ctx SpecContext) {
		dir := GinkgoT().TempDir()
		rel := func(p string) string {
			r, err := filepath.Rel(dir, filepath.Join(repoRoot, p))
			Expect(err).NotTo(HaveOccurred())
			return r
		}
		overlay := fmt.Sprintf("apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n- %s\ncomponents:\n- %s\n",
			rel("config/default"), rel("config/rbac/single-tenant"))
		Expect(os.WriteFile(filepath.Join(dir, "kustomization.yaml"), []byte(overlay), 0o600)).To(Succeed())
		stdout, _, err := kubectl(ctx, "apply", "-k", dir, "--dry-run=server")
		Expect(err).NotTo(HaveOccurred())
		Expect(stdout).To(ContainSubstring("clusterrolebinding.rbac.authorization.k8s.io/capstan-manager-cluster-admin created (server dry run)"))

		stdout, _, _ = kubectl(ctx, "auth", "can-i", "create", "deployments.apps", "--as", managerSA, "-n", "tenant")
		Expect(stdout).To(Equal("no\n"), "the dry run granted nothing")
	})
})

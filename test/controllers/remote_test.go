package controllers_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	capstanv1 "github.com/capstan-dev/capstan/api/v1alpha1"
	"github.com/capstan-dev/capstan/internal/storage"
	"github.com/capstan-dev/capstan/internal/testenv"
)

// remoteCluster is a second API server the remote-cluster specs deploy into.
type remoteCluster struct {
	cfg    *rest.Config
	client client.Client
	// certKubeconfig authenticates with a client certificate as a member of system:masters.
	certKubeconfig []byte
	// token authenticates (static token file) as a member of system:masters.
	token string
}

// startRemoteCluster starts the second cluster, stopped when the container ends.
func startRemoteCluster() *remoteCluster {
	dir := GinkgoT().TempDir()
	rc := &remoteCluster{token: "remote-token-" + canary}
	tokens := filepath.Join(dir, "tokens.csv")
	Expect(os.WriteFile(tokens, []byte(rc.token+`,token-deployer,token-deployer-uid,"system:masters"`+"\n"), 0o600)).To(Succeed())
	env := &envtest.Environment{}
	env.ControlPlane.GetAPIServer().Configure().Set("token-auth-file", tokens)
	cfg, err := testenv.StartEnv(env)
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(func() { Expect(env.Stop()).To(Succeed()) })
	rc.cfg = cfg
	rc.client, err = client.New(cfg, client.Options{Scheme: scheme})
	Expect(err).NotTo(HaveOccurred())
	user, err := env.AddUser(envtest.User{Name: "cert-deployer", Groups: []string{"system:masters"}}, nil)
	Expect(err).NotTo(HaveOccurred())
	rc.certKubeconfig, err = user.KubeConfig()
	Expect(err).NotTo(HaveOccurred())
	return rc
}

// kubeconfig returns a kubeconfig of the remote cluster with the given user entry.
func (rc *remoteCluster) kubeconfig(user *clientcmdapi.AuthInfo) []byte {
	kc := clientcmdapi.NewConfig()
	kc.Clusters["remote"] = &clientcmdapi.Cluster{Server: rc.cfg.Host, CertificateAuthorityData: rc.cfg.CAData}
	kc.AuthInfos["deployer"] = user
	kc.Contexts["remote"] = &clientcmdapi.Context{Cluster: "remote", AuthInfo: "deployer"}
	kc.CurrentContext = "remote"
	data, err := clientcmd.Write(*kc)
	Expect(err).NotTo(HaveOccurred())
	return data
}

// configMapIn reads a ConfigMap's data through c, or nil when it does not exist.
func configMapIn(ctx context.Context, c client.Client, ns, name string) map[string]string {
	var cm corev1.ConfigMap
	err := c.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, &cm)
	if apierrors.IsNotFound(err) {
		return nil
	}
	Expect(err).NotTo(HaveOccurred())
	return cm.Data
}

// helmRecords lists the Secrets holding release records in a namespace of the cluster c reaches.
func helmRecords(ctx context.Context, c client.Client, ns string) []corev1.Secret {
	var list corev1.SecretList
	Expect(c.List(ctx, &list, client.InNamespace(ns), client.MatchingLabels{storage.LabelOwner: storage.Owner})).To(Succeed())
	return list.Items
}

var _ = Describe("A Release with spec.kubeConfig", Ordered, func() {
	var remote *remoteCluster
	BeforeAll(func() { remote = startRemoteCluster() })

	It("installs, upgrades, looks up, corrects drift and uninstalls in the remote cluster, keeping records and status in the managing one", func(ctx SpecContext) {
		ns := newNamespace(ctx)
		target := "remote-" + ns
		createSecret(ctx, ns, "edge", map[string]string{capstanv1.DefaultKubeConfigKey: string(remote.certKubeconfig)})
		rel := demo("web", ns, "1.0.0").KubeConfig("edge", "").Interval(time.Second).Drift(capstanv1.DriftDetectionEnabled).Obj()
		rel.Spec.TargetNamespace, rel.Spec.CreateNamespace = target, true
		Expect(k8sClient.Create(ctx, rel)).To(Succeed())

		By("installing into a namespace it creates in the remote cluster, with a client certificate")
		got := expectReadyAt(ctx, ns, "web", 1)
		Expect(configMapIn(ctx, remote.client, target, "web-config")).To(HaveKeyWithValue("greeting", "hello"))
		Expect(exists(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: target}})).To(BeFalse(),
			"nothing of the release is in the managing cluster")
		Expect(records(ctx, ns, "web")).To(Equal([]string{"v1=deployed"}), "the records are in the managing cluster")
		Expect(helmRecords(ctx, remote.client, ns)).To(BeEmpty(), "and not in the remote one")
		Expect(helmRecords(ctx, remote.client, target)).To(BeEmpty())
		Expect(got.Status.Inventory.Entries).To(ContainElement(capstanv1.InventoryEntry{ID: target + "_web-config__ConfigMap", Version: "v1"}))

		By("upgrading with a lookup that reads the remote cluster")
		Expect(remote.client.Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: target, Name: "anything"},
			Data: map[string]string{"kept": "yes"}})).To(Succeed())
		update(ctx, ns, "web", func(r *capstanv1.Release) {
			r.Spec.Values = rawValues(fmt.Sprintf(`{"greeting":"hi","lookupNamespace":%q}`, target))
		})
		expectReadyAt(ctx, ns, "web", 2)
		Expect(configMapIn(ctx, remote.client, target, "web-config")).To(HaveKeyWithValue("greeting", "hi"))
		Expect(configMapIn(ctx, remote.client, target, "web-lookup")).To(HaveKeyWithValue("found", "true"))
		Expect(records(ctx, ns, "web")).To(Equal([]string{"v1=superseded", "v2=deployed"}))

		By("correcting drift made in the remote cluster")
		cm := &corev1.ConfigMap{}
		Expect(remote.client.Get(ctx, client.ObjectKey{Namespace: target, Name: "web-config"}, cm)).To(Succeed())
		cm.Data["greeting"] = "edited by hand"
		Expect(remote.client.Update(ctx, cm)).To(Succeed())
		Eventually(func() map[string]string { return configMapIn(ctx, remote.client, target, "web-config") }).
			Should(HaveKeyWithValue("greeting", "hi"))
		Eventually(func(g Gomega) {
			g.Expect(condition(getRelease(g, ctx, ns, "web"), capstanv1.DriftedCondition).Reason).To(Equal(capstanv1.DriftCorrectedReason))
		}).Should(Succeed())
		Expect(eventReasons(ctx, ns, "web")).To(ContainElement(capstanv1.DriftCorrectedReason), "events are in the managing cluster")

		By("uninstalling from the remote cluster when the Release is deleted")
		Expect(k8sClient.Delete(ctx, getRelease(Default, ctx, ns, "web"))).To(Succeed())
		Eventually(func() bool {
			return exists(ctx, &capstanv1.Release{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "web"}})
		}).Should(BeFalse())
		Expect(configMapIn(ctx, remote.client, target, "web-config")).To(BeNil())
		Expect(configMapIn(ctx, remote.client, target, "web-lookup")).To(BeNil())
		Expect(configMapIn(ctx, remote.client, target, "anything")).NotTo(BeNil(), "what the release does not own stays")
		Expect(records(ctx, ns, "web")).To(BeEmpty())
	})

	It("authenticates with a token, impersonates the kubeconfig's as user, and follows a rotated kubeconfig", func(ctx SpecContext) {
		ns := newNamespace(ctx)
		Expect(remote.client.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}})).To(Succeed())
		limited := remote.kubeconfig(&clientcmdapi.AuthInfo{Token: remote.token, Impersonate: "limited-user"})
		createSecret(ctx, ns, "edge", map[string]string{"kubeconfig": string(limited)})
		Expect(k8sClient.Create(ctx, demo("tok", ns, "1.0.0").KubeConfig("edge", "kubeconfig").Obj())).To(Succeed())

		By("acting as the impersonated user, who may not write there")
		rel := expectStalled(ctx, ns, "tok", capstanv1.AccessDeniedReason)
		Expect(condition(rel, capstanv1.ReadyCondition).Message).To(ContainSubstring(`User "limited-user"`))
		Expect(records(ctx, ns, "tok")).To(BeEmpty())

		By("rotating the Secret to the token's own identity: the change alone reconciles")
		sec := &corev1.Secret{}
		Expect(k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: "edge"}, sec)).To(Succeed())
		sec.Data["kubeconfig"] = remote.kubeconfig(&clientcmdapi.AuthInfo{Token: remote.token})
		Expect(k8sClient.Update(ctx, sec)).To(Succeed())
		expectReadyAt(ctx, ns, "tok", 1)
		Expect(configMapIn(ctx, remote.client, ns, "tok-config")).To(HaveKeyWithValue("greeting", "hello"))
		Expect(configMapData(ctx, ns, "tok-config")).To(BeNil(), "nothing is applied in the managing cluster")
		expectNoCanaryAnywhere(ctx, ns, "tok")
	})

	It("refuses a kubeconfig with a plugin or a file path, applying nothing and quoting nothing of it", func(ctx SpecContext) {
		ns := newNamespace(ctx)
		ran := filepath.Join(GinkgoT().TempDir(), "ran")
		cases := map[string]struct {
			user  *clientcmdapi.AuthInfo
			field string
		}{
			"exec": {&clientcmdapi.AuthInfo{Token: remote.token, Exec: &clientcmdapi.ExecConfig{
				APIVersion: "client.authentication.k8s.io/v1", Command: "/bin/sh", Args: []string{"-c", "touch " + ran},
				InteractiveMode: clientcmdapi.NeverExecInteractiveMode}}, `user "deployer" sets exec`},
			"provider": {&clientcmdapi.AuthInfo{AuthProvider: &clientcmdapi.AuthProviderConfig{
				Name: "oidc", Config: map[string]string{"id-token": remote.token}}}, `user "deployer" sets auth-provider`},
			"file": {&clientcmdapi.AuthInfo{TokenFile: "/var/run/secrets/kubernetes.io/serviceaccount/token"}, `user "deployer" sets tokenFile`},
		}
		for name, tc := range cases {
			createSecret(ctx, ns, name, map[string]string{"value": string(remote.kubeconfig(tc.user))})
			Expect(k8sClient.Create(ctx, demo(name, ns, "1.0.0").KubeConfig(name, "").Obj())).To(Succeed())
		}
		for name, tc := range cases {
			rel := expectStalled(ctx, ns, name, capstanv1.KubeConfigInvalidReason)
			msg := condition(rel, capstanv1.ReadyCondition).Message
			Expect(msg).To(ContainSubstring(fmt.Sprintf(`Secret %s/%s key "value"`, ns, name)), "the Secret is named")
			Expect(msg).To(ContainSubstring(tc.field), "the field is named")
			Expect(records(ctx, ns, name)).To(BeEmpty())
			Expect(configMapIn(ctx, remote.client, ns, name+"-config")).To(BeNil())
			expectNoCanary(ctx, ns, name, capstanv1.KubeConfigInvalidReason)
		}
		Expect(ran).NotTo(BeAnExistingFile(), "the exec plugin never ran")
	})

	It("keeps a Release whose kubeconfig Secret is gone on deletion until it is suspended", func(ctx SpecContext) {
		ns := newNamespace(ctx)
		target := "kept-" + ns
		createSecret(ctx, ns, "edge", map[string]string{"value": string(remote.certKubeconfig)})
		rel := demo("kept", ns, "1.0.0").KubeConfig("edge", "").Obj()
		rel.Spec.TargetNamespace, rel.Spec.CreateNamespace = target, true
		Expect(k8sClient.Create(ctx, rel)).To(Succeed())
		expectReadyAt(ctx, ns, "kept", 1)

		Expect(k8sClient.Delete(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "edge"}})).To(Succeed())
		Expect(k8sClient.Delete(ctx, getRelease(Default, ctx, ns, "kept"))).To(Succeed())
		Eventually(func(g Gomega) {
			ready := condition(getRelease(g, ctx, ns, "kept"), capstanv1.ReadyCondition)
			g.Expect(ready.Reason).To(Equal(capstanv1.SecretNotFoundReason))
			g.Expect(ready.Message).To(ContainSubstring("cannot uninstall from the remote cluster"))
			g.Expect(ready.Message).To(ContainSubstring("spec.suspend"))
		}).Should(Succeed())
		Expect(configMapIn(ctx, remote.client, target, "kept-config")).NotTo(BeNil())

		update(ctx, ns, "kept", func(r *capstanv1.Release) { r.Spec.Suspend = true })
		Eventually(func() bool {
			return exists(ctx, &capstanv1.Release{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "kept"}})
		}).Should(BeFalse())
		Expect(configMapIn(ctx, remote.client, target, "kept-config")).NotTo(BeNil(), "a suspended Release leaves its objects")
	})
})

// expectNoCanaryAnywhere checks that no form of the canary (the remote token holds it) is in a
// Release, the events of its namespace, or the manager's log.
func expectNoCanaryAnywhere(ctx context.Context, ns, name string) {
	rel := getRelease(Default, ctx, ns, name)
	for _, form := range canaryForms {
		Expect(fmt.Sprint(rel.Status)).NotTo(ContainSubstring(form))
		Expect(strings.Join(eventReasons(ctx, ns, name), " ")).NotTo(ContainSubstring(form))
		Expect(managerLog.lines(form)).To(BeEmpty(), "the manager's log")
	}
}

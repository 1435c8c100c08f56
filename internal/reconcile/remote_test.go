package reconcile

import (
	"context"
	"errors"
	"strings"
	"testing"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	capstanv1 "github.com/capstan-dev/capstan/api/v1alpha1"
	"github.com/capstan-dev/capstan/internal/redact"
)

// remoteToken is the token of the test kubeconfigs: no message may show it.
const remoteToken = "remote-token-7c1e9f3b"

// tokenKubeconfig is a kubeconfig of server with a token and extra user lines.
func tokenKubeconfig(server, extra string) string {
	return `apiVersion: v1
kind: Config
current-context: edge
contexts: [{name: edge, context: {cluster: edge, user: edge}}]
clusters: [{name: edge, cluster: {server: "` + server + `"}}]
users:
- name: edge
  user:
    token: ` + remoteToken + `
` + extra
}

func remoteRelease(key string) *capstanv1.Release {
	return &capstanv1.Release{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "apps"},
		Spec: capstanv1.ReleaseSpec{KubeConfig: &capstanv1.KubeConfigReference{
			SecretRef: capstanv1.SecretKeyReference{Name: "edge", Key: key}}},
	}
}

func kubeconfigSecret(key, data string) *corev1.Secret {
	return &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "edge", Namespace: "apps"}, Data: map[string][]byte{key: []byte(data)}}
}

// TestRemoteClients_ForRemote: the outcome of each kind of kubeconfig Secret, with messages that
// name the Secret and never the token.
func TestRemoteClients_ForRemote(t *testing.T) {
	cases := map[string]struct {
		secret     *corev1.Secret
		key        string
		wantReason string
		wantClass  Class
		wantText   string
	}{
		"a missing Secret waits": {
			wantReason: capstanv1.SecretNotFoundReason, wantClass: ClassWaiting, wantText: "the kubeconfig Secret apps/edge (spec.kubeConfig.secretRef) does not exist",
		},
		"a missing key waits": {
			secret: kubeconfigSecret("other", tokenKubeconfig("https://edge.example", "")), wantReason: capstanv1.SecretNotFoundReason,
			wantClass: ClassWaiting, wantText: `has no key "value"`,
		},
		"an exec plugin stalls": {
			secret:     kubeconfigSecret("value", tokenKubeconfig("https://edge.example", "    exec: {apiVersion: client.authentication.k8s.io/v1, command: sh}\n")),
			wantReason: capstanv1.KubeConfigInvalidReason, wantClass: ClassStalling, wantText: `Secret apps/edge key "value": kubeconfig refused: user "edge" sets exec`,
		},
		"another key is read when named": {
			secret: kubeconfigSecret("value.yaml", tokenKubeconfig("https://edge.example", "")), key: "value.yaml",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			b := fake.NewClientBuilder()
			if tc.secret != nil {
				b = b.WithObjects(tc.secret)
			}
			red := redact.New()
			f := &RemoteClients{Scheme: clientgoscheme.Scheme}
			target, err := f.ForRemote(redact.NewContext(context.Background(), red), remoteRelease(tc.key), b.Build())
			if tc.wantReason == "" {
				g.Expect(err).NotTo(HaveOccurred())
				g.Expect(target.Client).NotTo(BeNil())
				g.Expect(target.Identity).To(HavePrefix("remote:apps/edge/" + tc.key + "@"))
				g.Expect(red.Redact("token "+remoteToken)).To(Equal("token [redacted]"), "the token is registered")
				return
			}
			e := classify(err)
			g.Expect(e.Reason).To(Equal(tc.wantReason))
			g.Expect(e.Class).To(Equal(tc.wantClass))
			g.Expect(err.Error()).To(ContainSubstring(tc.wantText))
			g.Expect(err.Error()).NotTo(ContainSubstring(remoteToken))
		})
	}
}

// TestRemoteClients_cachePerVersion: a client is reused while the Secret keeps its version and
// replaced when it changes; a deleted Secret drops it.
func TestRemoteClients_cachePerVersion(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	c := fake.NewClientBuilder().WithObjects(kubeconfigSecret("value", tokenKubeconfig("https://edge.example", ""))).Build()
	f := &RemoteClients{Scheme: clientgoscheme.Scheme}
	rel := remoteRelease("")

	first, err := f.ForRemote(ctx, rel, c)
	g.Expect(err).NotTo(HaveOccurred())
	again, err := f.ForRemote(ctx, rel, c)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(again).To(BeIdenticalTo(first), "the same version gives the same client")

	sec := &corev1.Secret{}
	g.Expect(c.Get(ctx, types.NamespacedName{Namespace: "apps", Name: "edge"}, sec)).To(Succeed())
	sec.Data["value"] = []byte(tokenKubeconfig("https://other.example", ""))
	g.Expect(c.Update(ctx, sec)).To(Succeed())
	rotated, err := f.ForRemote(ctx, rel, c)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(rotated).NotTo(BeIdenticalTo(first), "a new version gives a new client")
	g.Expect(rotated.Identity).NotTo(Equal(first.Identity), "and a new identity for the shared watches")
	g.Expect(f.targets).To(HaveLen(1), "the stale client is dropped")

	g.Expect(c.Delete(ctx, sec)).To(Succeed())
	_, err = f.ForRemote(ctx, rel, c)
	g.Expect(classify(err).Reason).To(Equal(capstanv1.SecretNotFoundReason))
	g.Expect(f.targets).To(BeEmpty(), "a deleted Secret drops its client")
}

// TestSession_connectTarget: without spec.kubeConfig the target is the Release's own client;
// with it and no RemoteClusters the Release stalls; a read the Release's identity may not make
// stalls AccessDenied.
func TestSession_connectTarget(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	own := fake.NewClientBuilder().Build()

	s := (&Reconciler{}).newSession(&capstanv1.Release{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "apps"}}, nil)
	s.c = own
	g.Expect(s.connectTarget(ctx)).To(Succeed())
	g.Expect(s.target).To(BeIdenticalTo(own))

	s = (&Reconciler{}).newSession(remoteRelease(""), nil)
	s.c = own
	err := s.connectTarget(ctx)
	g.Expect(classify(err).Reason).To(Equal(capstanv1.KubeConfigInvalidReason))
	g.Expect(errors.Is(err, errNoRemoteClusters)).To(BeTrue())

	s = (&Reconciler{Remote: &RemoteClients{Scheme: clientgoscheme.Scheme}}).newSession(remoteRelease(""), nil)
	s.c = forbiddenReader{own}
	err = s.connectTarget(ctx)
	g.Expect(classify(err).Reason).To(Equal(capstanv1.AccessDeniedReason))
	g.Expect(strings.Contains(err.Error(), "apps/edge")).To(BeTrue(), err.Error())
	g.Expect(s.target).To(BeNil(), "nothing to act with")
}

// forbiddenReader refuses every Get as RBAC would.
type forbiddenReader struct{ client.WithWatch }

func (forbiddenReader) Get(_ context.Context, key client.ObjectKey, _ client.Object, _ ...client.GetOption) error {
	return apierrors.NewForbidden(schema.GroupResource{Resource: "secrets"}, key.Name, errors.New("the Release's identity may not read it"))
}

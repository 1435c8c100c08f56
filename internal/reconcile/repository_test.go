package reconcile_test

import (
	"context"
	"encoding/base64"
	"errors"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	capstanv1 "github.com/capstan-dev/capstan/api/v1alpha1"
	"github.com/capstan-dev/capstan/internal/reconcile"
	"github.com/capstan-dev/capstan/internal/repo"
)

func TestChartSources_For_secrets(t *testing.T) {
	otherCert, otherKey := repoSelfSignedPEM(t, "client")
	_, unrelatedKey := repoSelfSignedPEM(t, "other")
	cases := map[string]struct {
		oci      bool
		auth     map[string]string
		tls      map[string]string
		noSecret bool
		wantErr  error
		mentions []string
	}{
		"a missing Secret is reported as not found, naming it and the field": {
			noSecret: true, wantErr: reconcile.ErrRepositorySecretNotFound, mentions: []string{`"auth"`, "spec.secretRef", "does not exist"},
		},
		"a username without password names the missing key": {
			auth: map[string]string{"username": repoCanaryUser}, wantErr: reconcile.ErrRepositoryCredentials,
			mentions: []string{"has the key username but no key password"},
		},
		"a password without username names the missing key": {
			auth: map[string]string{"password": repoCanaryPassword}, wantErr: reconcile.ErrRepositoryCredentials,
			mentions: []string{"has the key password but no key username"},
		},
		"a Secret with none of the keys lists the keys it looks for": {
			auth: map[string]string{"user": "x"}, wantErr: reconcile.ErrRepositoryCredentials,
			mentions: []string{"username", "password", "bearerToken", ".dockerconfigjson"},
		},
		"basic credentials and a bearer token together are ambiguous": {
			auth:    map[string]string{"username": repoCanaryUser, "password": repoCanaryPassword, "bearerToken": repoCanaryToken},
			wantErr: reconcile.ErrRepositoryCredentials, mentions: []string{"more than one kind", "username/password, bearerToken"},
		},
		"an empty password is refused": {
			auth: map[string]string{"username": repoCanaryUser, "password": ""}, wantErr: reconcile.ErrRepositoryCredentials,
			mentions: []string{"empty key password"},
		},
		"a bearer token with an inner line break is refused without being shown": {
			auth: map[string]string{"bearerToken": repoCanaryToken + "\nX-Injected: 1"}, wantErr: reconcile.ErrRepositoryCredentials,
			mentions: []string{"bearerToken", "control character"},
		},
		"a .dockerconfigjson for an HTTP repository is refused": {
			auth: map[string]string{".dockerconfigjson": `{"auths":{}}`}, wantErr: reconcile.ErrRepositoryCredentials,
			mentions: []string{"only oci:// repositories use"},
		},
		"a .dockerconfigjson that is not JSON is refused for OCI": {
			oci: true, auth: map[string]string{".dockerconfigjson": `{"auths": ` + repoCanaryPassword}, wantErr: reconcile.ErrRepositoryCredentials,
			mentions: []string{".dockerconfigjson", "not valid JSON"},
		},
		"a TLS Secret with none of its keys lists them": {
			tls: map[string]string{"cert": "x"}, wantErr: reconcile.ErrRepositoryTLS,
			mentions: []string{"spec.certSecretRef", "ca.crt", "tls.crt", "tls.key"},
		},
		"a client certificate without its key names the missing key": {
			tls: map[string]string{"tls.crt": string(otherCert)}, wantErr: reconcile.ErrRepositoryTLS,
			mentions: []string{"has the key tls.crt but no key tls.key"},
		},
		"a key without its certificate names the missing key": {
			tls: map[string]string{"tls.key": string(otherKey)}, wantErr: reconcile.ErrRepositoryTLS,
			mentions: []string{"has the key tls.key but no key tls.crt"},
		},
		"a ca.crt that holds no PEM certificate is refused": {
			tls: map[string]string{"ca.crt": repoCanaryPassword}, wantErr: reconcile.ErrRepositoryTLS,
			mentions: []string{"ca.crt holding no PEM certificate"},
		},
		"a certificate with somebody else's key is refused with crypto/tls's reason": {
			tls:     map[string]string{"tls.crt": string(otherCert), "tls.key": string(unrelatedKey)},
			wantErr: reconcile.ErrRepositoryTLS, mentions: []string{"not a usable certificate and key", "does not match"},
		},
		"basic credentials are accepted": {
			auth: map[string]string{"username": repoCanaryUser, "password": repoCanaryPassword},
		},
		"a bearer token with the trailing newline of a file is accepted": {
			auth: map[string]string{"bearerToken": repoCanaryToken + "\n"},
		},
		"a .dockerconfigjson is accepted for OCI": {
			oci: true, auth: map[string]string{".dockerconfigjson": `{"auths":{}}`},
		},
		"a client certificate with its key and a CA is accepted": {
			tls: map[string]string{"ca.crt": string(otherCert), "tls.crt": string(otherCert), "tls.key": string(otherKey)},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			url := "https://charts.example.com/stable"
			if tc.oci {
				url = "oci://registry.example.com/charts"
			}
			cr := repoCR("repo", url)
			var objs []client.Object
			if tc.auth != nil || tc.noSecret {
				cr.Spec.SecretRef = &capstanv1.LocalObjectReference{Name: "auth"}
			}
			if tc.auth != nil {
				objs = append(objs, repoSecret("auth", tc.auth))
			}
			if tc.tls != nil {
				cr.Spec.CertSecretRef = &capstanv1.LocalObjectReference{Name: "tls"}
				objs = append(objs, repoSecret("tls", tc.tls))
			}
			sources := reconcile.NewChartSources(repoTestOptions())
			src, err := sources.For(context.Background(), repoReader(objs...), cr)
			if tc.wantErr == nil {
				g.Expect(err).NotTo(HaveOccurred())
				g.Expect(src).NotTo(BeNil())
				g.Expect(sources.Stats().Sources).To(Equal(1))
				return
			}
			g.Expect(err).To(MatchError(tc.wantErr))
			for _, m := range tc.mentions {
				g.Expect(err.Error()).To(ContainSubstring(m))
			}
			expectNoCanary(g, err.Error())
			g.Expect(err.Error()).NotTo(ContainSubstring(repoCanaryUser))
			g.Expect(sources.Stats().Sources).To(BeZero(), "nothing is kept for a repository whose Secrets are unusable")
		})
	}
}

func TestChartSources_For_credentialsReachTheServer(t *testing.T) {
	cases := map[string]struct {
		secret map[string]string
		want   string
	}{
		"basic credentials go as Basic authorization": {
			secret: map[string]string{"username": repoCanaryUser, "password": repoCanaryPassword},
			want:   "Basic " + base64.StdEncoding.EncodeToString([]byte(repoCanaryUser+":"+repoCanaryPassword)),
		},
		"a bearer token goes without the file's trailing newline": {
			secret: map[string]string{"bearerToken": repoCanaryToken + "\r\n"},
			want:   "Bearer " + repoCanaryToken,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			srv := newRepoServer(t)
			srv.publish(t, "", "app", "1.0.0")
			cr := repoCR("repo", srv.URL)
			cr.Spec.SecretRef = &capstanv1.LocalObjectReference{Name: "auth"}
			sources := reconcile.NewChartSources(repoTestOptions())
			src, err := sources.For(context.Background(), repoReader(repoSecret("auth", tc.secret)), cr)
			g.Expect(err).NotTo(HaveOccurred())
			_, err = src.Check(context.Background())
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(srv.authorizations("/index.yaml")).To(ConsistOf(tc.want))
		})
	}
}

func TestChartSources_For_trustsTheCAFromCertSecretRef(t *testing.T) {
	g := NewWithT(t)
	srv := newRepoTLSServer(t)
	srv.publish(t, "", "app", "1.0.0")
	cr := repoCR("repo", srv.URL)
	cr.Spec.CertSecretRef = &capstanv1.LocalObjectReference{Name: "tls"}
	sources := reconcile.NewChartSources(repoTestOptions())
	reader := repoReader(repoSecret("tls", map[string]string{"ca.crt": string(repoServerCA(srv))}))
	src, err := sources.For(context.Background(), reader, cr)
	g.Expect(err).NotTo(HaveOccurred())
	stats, err := src.Check(context.Background())
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(stats.Versions).To(Equal(1))
}

func TestChartSources_For_reuse(t *testing.T) {
	ctx := context.Background()
	cases := map[string]struct {
		change    func(g Gomega, reader client.Client, cr *capstanv1.ChartRepository)
		wantReuse bool
	}{
		"the same repository and Secret give the same client": {
			change: func(Gomega, client.Client, *capstanv1.ChartRepository) {}, wantReuse: true,
		},
		"a stale copy of the object with the same spec gives the same client": {
			change:    func(_ Gomega, _ client.Client, cr *capstanv1.ChartRepository) { cr.Generation = 7 },
			wantReuse: true,
		},
		"a changed Secret gives a new client": {
			change: func(g Gomega, reader client.Client, _ *capstanv1.ChartRepository) {
				s := repoSecret("auth", map[string]string{"username": "u", "password": "rotated"})
				g.Expect(reader.Get(ctx, client.ObjectKeyFromObject(s), s)).To(Succeed())
				s.Data["password"] = []byte("rotated-again")
				g.Expect(reader.Update(ctx, s)).To(Succeed())
			},
		},
		"a changed timeout gives a new client": {
			change: func(_ Gomega, _ client.Client, cr *capstanv1.ChartRepository) {
				cr.Spec.Timeout = &metav1.Duration{Duration: time.Second}
			},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			reader := repoReader(repoSecret("auth", map[string]string{"username": "u", "password": "p"}))
			cr := repoCR("repo", "https://charts.example.com")
			cr.Spec.SecretRef = &capstanv1.LocalObjectReference{Name: "auth"}
			sources := reconcile.NewChartSources(repoTestOptions())
			first, err := sources.For(ctx, reader, cr)
			g.Expect(err).NotTo(HaveOccurred())
			tc.change(g, reader, cr)
			second, err := sources.For(ctx, reader, cr)
			g.Expect(err).NotTo(HaveOccurred())
			if tc.wantReuse {
				g.Expect(second).To(BeIdenticalTo(first))
			} else {
				g.Expect(second).NotTo(BeIdenticalTo(first))
			}
			g.Expect(sources.Stats().Sources).To(Equal(1), "a repository keeps one client, its newest")
		})
	}
}

func TestChartSources_Forget(t *testing.T) {
	g := NewWithT(t)
	sources := reconcile.NewChartSources(repoTestOptions())
	reader := repoReader()
	for _, name := range []string{"a", "b"} {
		_, err := sources.For(context.Background(), reader, repoCR(name, "https://charts.example.com/"+name))
		g.Expect(err).NotTo(HaveOccurred())
	}
	sources.Forget(types.NamespacedName{Namespace: repoTestNamespace, Name: "a"})
	g.Expect(sources.Stats().Sources).To(Equal(1))
	sources.Forget(types.NamespacedName{Namespace: "elsewhere", Name: "b"})
	g.Expect(sources.Stats().Sources).To(Equal(1), "a repository of the same name in another namespace stays")
}

func TestChartSources_For_boundsTheClientsKept(t *testing.T) {
	g := NewWithT(t)
	opts := repoTestOptions()
	opts.MaxSources = 2
	sources := reconcile.NewChartSources(opts)
	reader := repoReader()
	first := repoCR("a", "https://charts.example.com/a")
	for _, cr := range []*capstanv1.ChartRepository{first, repoCR("b", "https://b.example.com"), repoCR("c", "https://c.example.com")} {
		_, err := sources.For(context.Background(), reader, cr)
		g.Expect(err).NotTo(HaveOccurred())
	}
	g.Expect(sources.Stats().Sources).To(Equal(2))
}

func TestChartSources_For_readsThroughTheGivenReader(t *testing.T) {
	g := NewWithT(t)
	forbidden := apierrors.NewForbidden(schema.GroupResource{Resource: "secrets"}, "auth", errors.New("tenant may not read it"))
	reader := interceptor.NewClient(repoReader(repoSecret("auth", map[string]string{"bearerToken": repoCanaryToken})),
		interceptor.Funcs{Get: func(context.Context, client.WithWatch, client.ObjectKey, client.Object, ...client.GetOption) error {
			return forbidden
		}})
	cr := repoCR("repo", "https://charts.example.com")
	cr.Spec.SecretRef = &capstanv1.LocalObjectReference{Name: "auth"}
	sources := reconcile.NewChartSources(repoTestOptions())
	_, err := sources.For(context.Background(), reader, cr)
	g.Expect(apierrors.IsForbidden(err)).To(BeTrue(), "the reader's refusal is kept for the caller to classify: %v", err)
	g.Expect(err.Error()).To(ContainSubstring("spec.secretRef"))
	g.Expect(sources.Stats().Sources).To(BeZero())
}

func TestChartSources_For_invalidURL(t *testing.T) {
	g := NewWithT(t)
	sources := reconcile.NewChartSources(repoTestOptions())
	_, err := sources.For(context.Background(), repoReader(), repoCR("repo", "ftp://charts.example.com/stable"))
	g.Expect(err).To(MatchError(repo.ErrInvalidURL))
	g.Expect(sources.Stats().Sources).To(BeZero())
}

func TestChartSources_ResolveAndFetch(t *testing.T) {
	g := NewWithT(t)
	srv := newRepoServer(t)
	archives := srv.publish(t, "", "app", "1.0.0", "1.5.0", "2.0.0")
	sources := reconcile.NewChartSources(repoTestOptions())
	cr := repoCR("repo", srv.URL)
	cv, err := sources.Resolve(context.Background(), repoReader(), cr, "app", "<2")
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(cv.Version).To(Equal("1.5.0"))
	data, err := sources.Fetch(context.Background(), repoReader(), cr, cv)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(repoDigest(data)).To(Equal(repoDigest(archives["1.5.0"])))
	again, err := sources.Fetch(context.Background(), repoReader(), cr, cv)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(again).To(Equal(data))
	g.Expect(srv.hitsOf("/app-1.5.0.tgz")).To(Equal(1), "the second fetch comes from the archive cache")
	g.Expect(sources.Stats().Archives.Hits).To(Equal(int64(1)))
}

package repositories_test

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/fluxcd/cli-utils/pkg/kstatus/status"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	capstanv1 "github.com/capstan-dev/capstan/api/v1alpha1"
)

var _ = Describe("An HTTP ChartRepository", func() {
	var ns string
	BeforeEach(func() { ns = newNamespace() })

	It("becomes Ready with its index described, reports Current to kstatus and says so in an event", func() {
		srv := newChartServer(false)
		srv.publish("app", "1.0.0", "1.1.0")
		srv.publish("web", "0.1.0")
		newRepository(ns, "charts", srv.URL, nil)

		Eventually(func(g Gomega) {
			cr := getRepository(g, ns, "charts")
			ready := mustCondition(g, cr, capstanv1.ReadyCondition)
			g.Expect(ready).NotTo(BeNil())
			g.Expect(ready.Status).To(Equal(metav1.ConditionTrue))
			g.Expect(ready.Reason).To(Equal(capstanv1.SucceededReason))
			g.Expect(cr.Status.ObservedGeneration).To(Equal(cr.Generation))
			g.Expect(cr.Status.URL).To(Equal(srv.URL))
			g.Expect(cr.Status.Index).NotTo(BeNil())
			g.Expect(cr.Status.Index.Digest).To(Equal(digestOf(srv.file("/index.yaml"))))
			g.Expect(cr.Status.Index.Size).To(Equal(int64(len(srv.file("/index.yaml")))))
			g.Expect(cr.Status.Index.Charts).To(Equal(int32(2)))
			g.Expect(cr.Status.Index.Versions).To(Equal(int32(3)))
			g.Expect(cr.Status.Index.FetchedAt.IsZero()).To(BeFalse())
			for _, typ := range []string{capstanv1.ReconcilingCondition, capstanv1.StalledCondition, capstanv1.FetchFailedCondition} {
				g.Expect(condition(cr, typ)).To(BeNil(), typ)
			}
			g.Expect(kstatusOf(g, cr)).To(Equal(status.CurrentStatus))
			g.Expect(repositoryEvents(g, ns, "charts")).To(ConsistOf("Normal Succeeded " + ready.Message))
		}).Should(Succeed())
	})

	It("emits an event and a new digest when the index changes", func() {
		srv := newChartServer(false)
		srv.publish("app", "1.0.0")
		newRepository(ns, "charts", srv.URL, nil)
		var first string
		Eventually(func(g Gomega) {
			cr := getRepository(g, ns, "charts")
			g.Expect(cr.Status.Index).NotTo(BeNil())
			first = cr.Status.Index.Digest
		}).Should(Succeed())

		srv.publish("app", "1.1.0")
		requestReconcile(ns, "charts", "first")
		Eventually(func(g Gomega) {
			cr := getRepository(g, ns, "charts")
			g.Expect(cr.Status.LastHandledReconcileAt).To(Equal("first"))
			g.Expect(cr.Status.Index.Digest).To(Equal(digestOf(srv.file("/index.yaml"))))
			g.Expect(cr.Status.Index.Digest).NotTo(Equal(first))
			g.Expect(cr.Status.Index.Versions).To(Equal(int32(2)))
			g.Expect(repositoryEvents(g, ns, "charts")).To(ConsistOf(
				HavePrefix("Normal Succeeded fetched index "+first[:19]),
				HavePrefix("Normal Succeeded fetched index "+cr.Status.Index.Digest[:19])))
		}).Should(Succeed())

		By("a requested fetch of an unchanged index emits nothing")
		hits := srv.hitsOf("/index.yaml")
		requestReconcile(ns, "charts", "second")
		Eventually(func() int { return srv.hitsOf("/index.yaml") }).Should(BeNumerically(">", hits))
		Eventually(func(g Gomega) {
			cr := getRepository(g, ns, "charts")
			g.Expect(cr.Status.LastHandledReconcileAt).To(Equal("second"))
			g.Expect(condition(cr, capstanv1.ReconcilingCondition)).To(BeNil())
		}).Should(Succeed())
		Consistently(func(g Gomega) {
			g.Expect(repositoryEvents(g, ns, "charts")).To(HaveLen(2))
		}, "1s").Should(Succeed())
	})

	It("trusts the CA in certSecretRef", func() {
		srv := newChartServer(true)
		srv.publish("app", "1.0.0")
		newSecret(ns, "tls", map[string]string{"ca.crt": srv.caPEM()})
		newRepository(ns, "charts", srv.URL, withCertSecret("tls"))
		Eventually(func(g Gomega) {
			cr := getRepository(g, ns, "charts")
			g.Expect(mustCondition(g, cr, capstanv1.ReadyCondition).Status).To(Equal(metav1.ConditionTrue))
			g.Expect(cr.Status.Index.Versions).To(Equal(int32(1)))
		}).Should(Succeed())
	})

	It("fetches again at its interval", func() {
		srv := newChartServer(false)
		srv.publish("app", "1.0.0")
		newRepository(ns, "charts", srv.URL, func(s *capstanv1.ChartRepositorySpec) {
			s.Interval = &metav1.Duration{Duration: time.Second}
		})
		Eventually(func() int { return srv.hitsOf("/index.yaml") }).Should(BeNumerically(">=", 3))
	})

	It("reports a failure, keeps retrying it, and reports the recovery", func() {
		srv := newChartServer(false)
		srv.publish("app", "1.0.0")
		srv.force("/index.yaml", http.StatusInternalServerError)
		newRepository(ns, "charts", srv.URL, nil)
		Eventually(func(g Gomega) {
			cr := getRepository(g, ns, "charts")
			g.Expect(condition(cr, capstanv1.FetchFailedCondition)).NotTo(BeNil())
			g.Expect(mustCondition(g, cr, capstanv1.ReadyCondition).Reason).To(Equal(capstanv1.IndexFetchFailedReason))
			g.Expect(mustCondition(g, cr, capstanv1.ReconcilingCondition).Status).To(Equal(metav1.ConditionTrue))
			g.Expect(kstatusOf(g, cr)).To(Equal(status.InProgressStatus))
		}).Should(Succeed())
		retries := srv.hitsOf("/index.yaml")
		Eventually(func() int { return srv.hitsOf("/index.yaml") }).Should(BeNumerically(">", retries), "retried with backoff")

		srv.unforce("/index.yaml")
		Eventually(func(g Gomega) {
			cr := getRepository(g, ns, "charts")
			g.Expect(mustCondition(g, cr, capstanv1.ReadyCondition).Status).To(Equal(metav1.ConditionTrue))
			g.Expect(condition(cr, capstanv1.FetchFailedCondition)).To(BeNil())
			g.Expect(kstatusOf(g, cr)).To(Equal(status.CurrentStatus))
			g.Expect(repositoryEvents(g, ns, "charts")).To(ConsistOf(
				HavePrefix("Warning IndexFetchFailed failed to fetch "+srv.URL+"/index.yaml : 500"),
				HavePrefix("Normal Succeeded fetched index")))
		}).Should(Succeed())
	})

	It("stops fetching while suspended, and Releases can keep using it", func() {
		srv := newChartServer(false)
		srv.publish("app", "1.0.0")
		newRepository(ns, "charts", srv.URL, nil)
		Eventually(func(g Gomega) {
			g.Expect(mustCondition(g, getRepository(g, ns, "charts"), capstanv1.ReadyCondition).Status).To(Equal(metav1.ConditionTrue))
		}).Should(Succeed())

		Eventually(func(g Gomega) {
			cr := getRepository(g, ns, "charts")
			cr.Spec.Suspend = true
			g.Expect(k8sClient.Update(context.Background(), cr)).To(Succeed())
		}).Should(Succeed())
		Eventually(func(g Gomega) {
			cr := getRepository(g, ns, "charts")
			ready := mustCondition(g, cr, capstanv1.ReadyCondition)
			g.Expect(ready.Reason).To(Equal(capstanv1.SuspendedReason))
			g.Expect(ready.Status).To(Equal(metav1.ConditionTrue))
			g.Expect(cr.Status.ObservedGeneration).To(Equal(cr.Generation))
			g.Expect(kstatusOf(g, cr)).To(Equal(status.CurrentStatus))
		}).Should(Succeed())

		hits := srv.hitsOf("/index.yaml")
		srv.publish("app", "2.0.0")
		requestReconcile(ns, "charts", "while-suspended")
		Eventually(func(g Gomega) {
			g.Expect(getRepository(g, ns, "charts").Status.LastHandledReconcileAt).To(Equal("while-suspended"))
		}).Should(Succeed())
		Consistently(func() int { return srv.hitsOf("/index.yaml") }, "2s").Should(Equal(hits))
	})

	It("fetches again when a Secret it names changes", func() {
		srv := newChartServer(false)
		srv.publish("app", "1.0.0")
		srv.requireBasic(canaryUser, "the-right-password")
		newSecret(ns, "auth", map[string]string{"username": canaryUser, "password": canaryPassword})
		newRepository(ns, "charts", srv.URL, func(s *capstanv1.ChartRepositorySpec) {
			s.SecretRef = &capstanv1.LocalObjectReference{Name: "auth"}
		})
		Eventually(func(g Gomega) {
			cr := getRepository(g, ns, "charts")
			g.Expect(condition(cr, capstanv1.StalledCondition)).NotTo(BeNil())
			g.Expect(mustCondition(g, cr, capstanv1.StalledCondition).Reason).To(Equal(capstanv1.AuthenticationFailedReason))
		}).Should(Succeed())

		Eventually(func(g Gomega) {
			s := &corev1.Secret{}
			g.Expect(k8sClient.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: "auth"}, s)).To(Succeed())
			s.Data["password"] = []byte("the-right-password")
			g.Expect(k8sClient.Update(context.Background(), s)).To(Succeed())
		}).Should(Succeed())
		Eventually(func(g Gomega) {
			cr := getRepository(g, ns, "charts")
			g.Expect(mustCondition(g, cr, capstanv1.ReadyCondition).Status).To(Equal(metav1.ConditionTrue))
			g.Expect(condition(cr, capstanv1.StalledCondition)).To(BeNil())
			expectNoCanary(g, texts(g, cr))
		}).Should(Succeed())
	})

	It("picks up a Secret created after the repository", func() {
		srv := newChartServer(false)
		srv.publish("app", "1.0.0")
		newRepository(ns, "charts", srv.URL, func(s *capstanv1.ChartRepositorySpec) {
			s.SecretRef = &capstanv1.LocalObjectReference{Name: "late"}
		})
		Eventually(func(g Gomega) {
			cr := getRepository(g, ns, "charts")
			g.Expect(mustCondition(g, cr, capstanv1.ReadyCondition).Reason).To(Equal(capstanv1.SecretNotFoundReason))
			g.Expect(condition(cr, capstanv1.StalledCondition)).To(BeNil())
		}).Should(Succeed())
		newSecret(ns, "late", map[string]string{"bearerToken": canaryToken})
		Eventually(func(g Gomega) {
			g.Expect(mustCondition(g, getRepository(g, ns, "charts"), capstanv1.ReadyCondition).Status).To(Equal(metav1.ConditionTrue))
		}).Should(Succeed())
	})
})

// failureCase is a bad repository or Secret and what the controller must say about it.
type failureCase struct {
	// setup prepares the server and returns the spec change and the Secrets to create.
	setup    func(srv *chartServer) (func(*capstanv1.ChartRepositorySpec), map[string]map[string]string)
	tls      bool
	reason   string
	stalled  bool
	mentions string
	// badBody is the index the server answered, which must not be in the index cache.
	badBody func(srv *chartServer) []byte
}

var _ = DescribeTable("A failing ChartRepository",
	func(tc failureCase) {
		ns := newNamespace()
		srv := newChartServer(tc.tls)
		change, secrets := tc.setup(srv)
		for name, data := range secrets {
			newSecret(ns, name, data)
		}
		newRepository(ns, "charts", srv.URL, change)

		Eventually(func(g Gomega) {
			cr := getRepository(g, ns, "charts")
			ready := mustCondition(g, cr, capstanv1.ReadyCondition)
			g.Expect(ready).NotTo(BeNil())
			g.Expect(ready.Status).To(Equal(metav1.ConditionFalse))
			g.Expect(ready.Reason).To(Equal(tc.reason))
			g.Expect(ready.Message).To(ContainSubstring(tc.mentions))
			g.Expect(mustCondition(g, cr, capstanv1.FetchFailedCondition).Reason).To(Equal(tc.reason))
			if tc.stalled {
				g.Expect(mustCondition(g, cr, capstanv1.StalledCondition).Reason).To(Equal(tc.reason))
				g.Expect(cr.Status.ObservedGeneration).To(Equal(cr.Generation))
				g.Expect(kstatusOf(g, cr)).To(Equal(status.FailedStatus))
			} else {
				g.Expect(condition(cr, capstanv1.StalledCondition)).To(BeNil())
				g.Expect(kstatusOf(g, cr)).To(Equal(status.InProgressStatus))
			}
			g.Expect(cr.Status.Index).To(BeNil())
			g.Expect(repositoryEvents(g, ns, "charts")).To(ContainElement("Warning " + tc.reason + " " + ready.Message))
			expectNoCanary(g, texts(g, cr))
		}).Should(Succeed())
		if tc.badBody != nil {
			indexes, _ := sources.Caches()
			_, cached := indexes.Get(digestOf(tc.badBody(srv)))
			Expect(cached).To(BeFalse(), "nothing is cached from a failed fetch")
		}
	},
	Entry("404: retried, not stalled", failureCase{
		setup: func(*chartServer) (func(*capstanv1.ChartRepositorySpec), map[string]map[string]string) {
			return nil, nil
		},
		reason: capstanv1.IndexFetchFailedReason, mentions: "404 Not Found",
	}),
	Entry("500: retried, not stalled", failureCase{
		setup: func(srv *chartServer) (func(*capstanv1.ChartRepositorySpec), map[string]map[string]string) {
			srv.force("/index.yaml", http.StatusInternalServerError)
			return nil, nil
		},
		reason: capstanv1.IndexFetchFailedReason, mentions: "500 Internal Server Error",
	}),
	Entry("401: stalled on the credentials, which are never shown", failureCase{
		setup: func(srv *chartServer) (func(*capstanv1.ChartRepositorySpec), map[string]map[string]string) {
			srv.publish("app", "1.0.0")
			srv.requireBasic(canaryUser, "another-password")
			return withSecret("auth"), map[string]map[string]string{"auth": {"username": canaryUser, "password": canaryPassword}}
		},
		reason: capstanv1.AuthenticationFailedReason, stalled: true, mentions: "401 Unauthorized",
	}),
	Entry("a server certificate the configured CA did not sign: stalled", failureCase{
		tls: true,
		setup: func(srv *chartServer) (func(*capstanv1.ChartRepositorySpec), map[string]map[string]string) {
			srv.publish("app", "1.0.0")
			return withCertSecret("tls"), map[string]map[string]string{"tls": {"ca.crt": unrelatedCA()}}
		},
		reason: capstanv1.IndexFetchFailedReason, stalled: true, mentions: "certificate signed by unknown authority",
	}),
	Entry("an index above the manager's limit: stalled", failureCase{
		setup: func(srv *chartServer) (func(*capstanv1.ChartRepositorySpec), map[string]map[string]string) {
			srv.set("/index.yaml", []byte("apiVersion: v1\nentries: {}\n# "+strings.Repeat("x", suiteMaxIndexSize)+"\n"))
			return nil, nil
		},
		reason: capstanv1.IndexFetchFailedReason, stalled: true, mentions: "larger than the limit",
		badBody: func(srv *chartServer) []byte { return srv.file("/index.yaml") },
	}),
	Entry("an index that is not YAML: stalled", failureCase{
		setup: func(srv *chartServer) (func(*capstanv1.ChartRepositorySpec), map[string]map[string]string) {
			srv.set("/index.yaml", []byte("apiVersion: v1\nentries: [\n"))
			return nil, nil
		},
		reason: capstanv1.IndexParseFailedReason, stalled: true, mentions: "index",
		badBody: func(srv *chartServer) []byte { return srv.file("/index.yaml") },
	}),
	Entry("an index without apiVersion: stalled", failureCase{
		setup: func(srv *chartServer) (func(*capstanv1.ChartRepositorySpec), map[string]map[string]string) {
			srv.set("/index.yaml", []byte("entries: {}\n"))
			return nil, nil
		},
		reason: capstanv1.IndexParseFailedReason, stalled: true, mentions: "no API version specified",
		badBody: func(srv *chartServer) []byte { return srv.file("/index.yaml") },
	}),
	Entry("a Secret that does not exist: waiting, not stalled", failureCase{
		setup: func(*chartServer) (func(*capstanv1.ChartRepositorySpec), map[string]map[string]string) {
			return withSecret("absent"), nil
		},
		reason: capstanv1.SecretNotFoundReason, mentions: `Secret "absent" named by spec.secretRef does not exist`,
	}),
	Entry("a Secret without password: stalled, naming the key", failureCase{
		setup: func(srv *chartServer) (func(*capstanv1.ChartRepositorySpec), map[string]map[string]string) {
			srv.publish("app", "1.0.0")
			return withSecret("auth"), map[string]map[string]string{"auth": {"username": canaryUser, "bearer": canaryToken}}
		},
		reason: capstanv1.AuthenticationFailedReason, stalled: true, mentions: "has the key username but no key password",
	}),
	Entry("a TLS Secret holding no certificate: stalled", failureCase{
		setup: func(srv *chartServer) (func(*capstanv1.ChartRepositorySpec), map[string]map[string]string) {
			srv.publish("app", "1.0.0")
			return withCertSecret("tls"), map[string]map[string]string{"tls": {"ca.crt": canaryPassword}}
		},
		reason: capstanv1.TLSConfigInvalidReason, stalled: true, mentions: "ca.crt holding no PEM certificate",
	}),
)

func withSecret(name string) func(*capstanv1.ChartRepositorySpec) {
	return func(s *capstanv1.ChartRepositorySpec) { s.SecretRef = &capstanv1.LocalObjectReference{Name: name} }
}

func withCertSecret(name string) func(*capstanv1.ChartRepositorySpec) {
	return func(s *capstanv1.ChartRepositorySpec) { s.CertSecretRef = &capstanv1.LocalObjectReference{Name: name} }
}

package repositories_test

import (
	"bytes"
	"context"
	"sync"

	"github.com/fluxcd/cli-utils/pkg/kstatus/status"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	capstanv1 "github.com/capstan-dev/capstan/api/v1alpha1"
	"github.com/capstan-dev/capstan/internal/reconcile"
	"github.com/capstan-dev/capstan/internal/repo"
)

var _ = Describe("The Release-facing chart source", func() {
	var ns string
	BeforeEach(func() { ns = newNamespace() })

	// readRepository returns a ChartRepository as the Release side reads it.
	readRepository := func(name string) *capstanv1.ChartRepository {
		var cr *capstanv1.ChartRepository
		Eventually(func(g Gomega) { cr = getRepository(g, ns, name) }).Should(Succeed())
		return cr
	}

	It("downloads a chart once for many Releases, across repositories naming the same server", func() {
		srv := newChartServer(false)
		archives := srv.publish("app", "1.0.0", "1.1.0")
		newRepository(ns, "one", srv.URL, nil)
		newRepository(ns, "two", srv.URL, nil)
		crs := []*capstanv1.ChartRepository{readRepository("one"), readRepository("two")}

		const releases = 12
		var wg sync.WaitGroup
		got := make([][]byte, releases)
		errs := make([]error, releases)
		for i := range releases {
			wg.Add(1)
			go func() {
				defer wg.Done()
				src := reconcile.NewReleaseChartSource(sources, k8sClient)
				cr := crs[i%2]
				version, _, err := src.Resolve(context.Background(), cr, "app", "~1.0")
				if err == nil {
					got[i], err = src.Fetch(context.Background(), cr, "app", version)
				}
				errs[i] = err
			}()
		}
		wg.Wait()
		for i := range releases {
			Expect(errs[i]).NotTo(HaveOccurred())
			Expect(bytes.Equal(got[i], archives["1.0.0"])).To(BeTrue())
		}
		Expect(srv.hitsOf("/app-1.0.0.tgz")).To(Equal(1))
	})

	It("refuses an archive whose digest differs from the index, and never caches it", func() {
		srv := newChartServer(false)
		srv.publish("app", "1.0.0")
		srv.set("/app-1.0.0.tgz", []byte("not the chart the index announced"))
		newRepository(ns, "charts", srv.URL, nil)
		cr := readRepository("charts")
		src := reconcile.NewReleaseChartSource(sources, k8sClient)
		for range 2 {
			_, err := src.Fetch(context.Background(), cr, "app", "1.0.0")
			Expect(err).To(MatchError(repo.ErrDigestMismatch))
		}
		Expect(srv.hitsOf("/app-1.0.0.tgz")).To(Equal(2), "a refused archive is downloaded again, not served from a cache")
	})

	It("resolves and fetches from an OCI registry with credentials", func() {
		reg := newOCIRegistry()
		archives := map[string][]byte{}
		for _, v := range []string{"1.0.0", "1.1.0"} {
			archives[v] = packageChart(GinkgoT().TempDir(), "app", v)
			reg.push("charts/app", v, archives[v], repo.MediaTypeHelmChart)
		}
		reg.requireBasic(canaryUser, canaryPassword)
		newSecret(ns, "auth", map[string]string{"username": canaryUser, "password": canaryPassword})
		newRepository(ns, "oci", "oci://"+reg.host()+"/charts", func(s *capstanv1.ChartRepositorySpec) {
			s.PlainHTTP = true
			s.SecretRef = &capstanv1.LocalObjectReference{Name: "auth"}
		})

		Eventually(func(g Gomega) {
			cr := getRepository(g, ns, "oci")
			ready := mustCondition(g, cr, capstanv1.ReadyCondition)
			g.Expect(ready).NotTo(BeNil())
			g.Expect(ready.Status).To(Equal(metav1.ConditionTrue))
			g.Expect(ready.Message).To(Equal("reached the registry oci://" + reg.host() + "/charts"))
			g.Expect(cr.Status.Index).To(BeNil(), "an OCI registry has no index")
			g.Expect(kstatusOf(g, cr)).To(Equal(status.CurrentStatus))
			g.Expect(repositoryEvents(g, ns, "oci")).To(ConsistOf("Normal Succeeded " + ready.Message))
		}).Should(Succeed())

		src := reconcile.NewReleaseChartSource(sources, k8sClient)
		cr := readRepository("oci")
		version, digest, err := src.Resolve(context.Background(), cr, "app", "1.x")
		Expect(err).NotTo(HaveOccurred())
		Expect(version).To(Equal("1.1.0"))
		Expect("sha256:" + digest).To(Equal(digestOf(archives["1.1.0"])))
		data, err := src.Fetch(context.Background(), cr, "app", version)
		Expect(err).NotTo(HaveOccurred())
		Expect(bytes.Equal(data, archives["1.1.0"])).To(BeTrue())

		By("an artifact that is not a Helm chart is refused (B20)")
		reg.requireBasic("", "")
		reg.push("charts/image", "1.0.0", archives["1.0.0"], "application/vnd.oci.image.layer.v1.tar+gzip")
		reg.requireBasic(canaryUser, canaryPassword)
		_, _, err = src.Resolve(context.Background(), cr, "image", "1.0.0")
		Expect(err).To(MatchError(repo.ErrUnsupportedMediaType))
		Expect(err.Error()).NotTo(ContainSubstring(canaryPassword))
	})

	It("stalls an OCI repository whose registry refuses the credentials, never showing them", func() {
		reg := newOCIRegistry()
		reg.requireBasic(canaryUser, "another-password")
		newSecret(ns, "auth", map[string]string{"username": canaryUser, "password": canaryPassword})
		newRepository(ns, "oci", "oci://"+reg.host()+"/charts", func(s *capstanv1.ChartRepositorySpec) {
			s.PlainHTTP = true
			s.SecretRef = &capstanv1.LocalObjectReference{Name: "auth"}
		})
		Eventually(func(g Gomega) {
			cr := getRepository(g, ns, "oci")
			g.Expect(condition(cr, capstanv1.StalledCondition)).NotTo(BeNil())
			g.Expect(mustCondition(g, cr, capstanv1.ReadyCondition).Reason).To(Equal(capstanv1.AuthenticationFailedReason))
			g.Expect(kstatusOf(g, cr)).To(Equal(status.FailedStatus))
			g.Expect(repositoryEvents(g, ns, "oci")).To(ContainElement(HavePrefix("Warning AuthenticationFailed")))
			expectNoCanary(g, texts(g, cr))
		}).Should(Succeed())
	})
})

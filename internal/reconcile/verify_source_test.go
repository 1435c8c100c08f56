package reconcile_test

import (
	"context"
	"testing"
	"time"

	. "github.com/onsi/gomega"

	"github.com/capstan-dev/capstan/internal/chart"
	"github.com/capstan-dev/capstan/internal/ocisign"
	"github.com/capstan-dev/capstan/internal/ocisign/ocisigntest"
	"github.com/capstan-dev/capstan/internal/provenance"
	"github.com/capstan-dev/capstan/internal/provenance/provenancetest"
	"github.com/capstan-dev/capstan/internal/reconcile"
	"github.com/capstan-dev/capstan/internal/repo"
)

func TestReleaseChartSource_FetchVerified(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	srv := newRepoServer(t)
	archives := srv.publish(t, "", "app", "1.0.0")
	key := provenancetest.NewKey(t, "Publisher", "pub@example.com", provenancetest.KeyOptions{})
	prov, err := provenance.Sign(archives["1.0.0"], "app-1.0.0.tgz", &chart.Metadata{APIVersion: "v2", Name: "app", Version: "1.0.0"}, key, time.Time{})
	g.Expect(err).NotTo(HaveOccurred())
	srv.set("/app-1.0.0.tgz.prov", prov)
	ring, err := provenance.ReadKeyring(provenancetest.PublicKeyring(t, key))
	g.Expect(err).NotTo(HaveOccurred())
	check := func(archive []byte, fileName string, prov []byte) error {
		_, err := provenance.Verify(archive, prov, ring, provenance.VerifyOptions{FileName: fileName, ChartName: "app", ChartVersion: "1.0.0"})
		return err
	}
	src := reconcile.NewReleaseChartSource(reconcile.NewChartSources(repoTestOptions()), repoReader())

	data, digest, err := src.FetchVerified(ctx, repoCR("repo", srv.URL), "app", "1.0.0", check)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(data).To(Equal(archives["1.0.0"]))
	g.Expect(digest).To(Equal("sha256:" + repoDigest(archives["1.0.0"])))

	_, _, err = src.FetchVerified(ctx, repoCR("oci", "oci://"+srv.Listener.Addr().String()+"/charts"), "app", "1.0.0", check)
	g.Expect(err).To(MatchError(repo.ErrUnverified), "an OCI repository has no provenance files to check")
}

func TestReleaseChartSource_FetchSigned(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	host := ocisigntest.NewRegistry(t)
	archive := ocisigntest.Chart(t, "app", "1.0.0")
	key := ocisigntest.NewKey(t)
	sub := ocisigntest.Subject{Host: host, Repository: "charts/app", Manifest: ocisigntest.PushChart(t, host, "charts/app", "app", "1.0.0", archive)}
	sub.SignTag(t, ocisigntest.Signer{Key: key}, ocisigntest.TagOptions{})
	v, err := ocisign.NewCosign(map[string][]byte{"cosign.pub": key.PublicPEM()}, ocisign.CosignPolicy{})
	g.Expect(err).NotTo(HaveOccurred())
	check := func(ctx context.Context, s repo.SignatureSubject, sigs []repo.SignatureArtifact) error {
		_, err := v.Verify(ctx, s, sigs)
		return err
	}
	src := reconcile.NewReleaseChartSource(reconcile.NewChartSources(repoTestOptions()), repoReader())
	cr := repoCR("oci", "oci://"+host+"/charts")
	cr.Spec.PlainHTTP = true

	data, digest, err := src.FetchSigned(ctx, cr, "app", "1.0.0", v.Query(), check)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(data).To(Equal(archive))
	g.Expect(digest).To(Equal("sha256:"+repoDigest(archive)), "the archive's digest, as for provenance")

	srv := newRepoServer(t)
	srv.publish(t, "", "app", "1.0.0")
	_, _, err = src.FetchSigned(ctx, repoCR("repo", srv.URL), "app", "1.0.0", v.Query(), check)
	g.Expect(err).To(MatchError(repo.ErrUnverified), "an http(s) repository has no cosign or notation signatures")
	g.Expect(err.Error()).To(ContainSubstring("only read from OCI repositories"))
}

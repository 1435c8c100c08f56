package reconcile_test

import (
	"bytes"
	"context"
	"sync"
	"testing"

	. "github.com/onsi/gomega"

	capstanv1 "github.com/capstan-dev/capstan/api/v1alpha1"
	"github.com/capstan-dev/capstan/internal/reconcile"
	"github.com/capstan-dev/capstan/internal/repo"
)

func TestReleaseChartSource_Resolve(t *testing.T) {
	g := NewWithT(t)
	srv := newRepoServer(t)
	archives := srv.publish(t, "", "app", "1.0.0", "1.2.0", "2.0.0-rc.1")
	src := reconcile.NewReleaseChartSource(reconcile.NewChartSources(repoTestOptions()), repoReader())
	version, digest, err := src.Resolve(context.Background(), repoCR("repo", srv.URL), "app", "1.x")
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(version).To(Equal("1.2.0"))
	g.Expect(digest).To(Equal(repoDigest(archives["1.2.0"])))
}

func TestReleaseChartSource_Fetch_downloadsOnceForManyCallers(t *testing.T) {
	g := NewWithT(t)
	srv := newRepoServer(t)
	archives := srv.publish(t, "", "app", "1.0.0")
	sources := reconcile.NewChartSources(repoTestOptions())
	// Two ChartRepositories naming the same repository, as two namespaces' copies would.
	crs := []*capstanv1.ChartRepository{repoCR("one", srv.URL), repoCR("two", srv.URL)}
	const callers = 16
	var wg sync.WaitGroup
	results := make([][]byte, callers)
	errs := make([]error, callers)
	for i := range callers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			src := reconcile.NewReleaseChartSource(sources, repoReader())
			cr := crs[i%len(crs)]
			if _, _, errs[i] = src.Resolve(context.Background(), cr, "app", "*"); errs[i] == nil {
				results[i], errs[i] = src.Fetch(context.Background(), cr, "app", "1.0.0")
			}
		}()
	}
	wg.Wait()
	for i := range callers {
		g.Expect(errs[i]).NotTo(HaveOccurred())
		g.Expect(bytes.Equal(results[i], archives["1.0.0"])).To(BeTrue())
	}
	g.Expect(srv.hitsOf("/app-1.0.0.tgz")).To(Equal(1), "one download serves every caller")
	g.Expect(sources.Stats().Archives.Entries).To(Equal(1))
}

func TestReleaseChartSource_Fetch_usesWhatResolveDescribed(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	srv := newRepoServer(t)
	srv.publish(t, "", "app", "1.0.0")
	cr := repoCR("repo", srv.URL)
	src := reconcile.NewReleaseChartSource(reconcile.NewChartSources(repoTestOptions()), repoReader())
	_, digest, err := src.Resolve(ctx, cr, "app", "1.0.0")
	g.Expect(err).NotTo(HaveOccurred())
	indexHits := srv.hitsOf("/index.yaml")

	// The chart is republished under the same version with other content (a new index entry
	// and archive): the Release that resolved the first one still installs what it resolved.
	other := repoPackage(t, t.TempDir(), "app", "1.0.1")
	srv.set("/app-1.0.0-new.tgz", other)
	srv.set("/index.yaml", []byte("apiVersion: v1\nentries:\n  app:\n  - apiVersion: v2\n    name: app\n    version: 1.0.0\n"+
		"    digest: "+repoDigest(other)+"\n    urls: [app-1.0.0-new.tgz]\n"))
	g.Expect(repoDigest(other)).NotTo(Equal(digest))
	data, err := src.Fetch(ctx, cr, "app", "1.0.0")
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(repoDigest(data)).To(Equal(digest))
	g.Expect(srv.hitsOf("/index.yaml")).To(Equal(indexHits), "Fetch after Resolve does not ask for the index again")
}

func TestReleaseChartSource_Fetch_withoutResolveAfterARestart(t *testing.T) {
	g := NewWithT(t)
	srv := newRepoServer(t)
	archives := srv.publish(t, "", "app", "1.0.0", "1.1.0")
	src := reconcile.NewReleaseChartSource(reconcile.NewChartSources(repoTestOptions()), repoReader())
	data, err := src.Fetch(context.Background(), repoCR("repo", srv.URL), "app", "1.0.0")
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(bytes.Equal(data, archives["1.0.0"])).To(BeTrue(), "the exact version is fetched, not the newest")
}

// TestReleaseChartSource_badInputs covers the rows of hardening.md §3.2 that concern charts
// (B1 in index entries, B11, B16–B19): the error class the Release side maps to a reason, a
// message naming the problem and no credentials, and nothing cached.
func TestReleaseChartSource_badInputs(t *testing.T) {
	cases := map[string]struct {
		setup      func(t *testing.T, srv *repoServer) (chart, constraint string)
		opts       func(*reconcile.ChartSourcesOptions)
		wantErr    error
		mentions   string
		downloads  int
		fetchTwice bool
	}{
		"B16 a constraint that does not parse": {
			setup: func(t *testing.T, srv *repoServer) (string, string) {
				srv.publish(t, "", "app", "1.0.0")
				return "app", ">=1.0 <"
			},
			wantErr: repo.ErrInvalidConstraint, mentions: `invalid version constraint ">=1.0 <"`,
		},
		"B17 no version satisfies the constraint": {
			setup: func(t *testing.T, srv *repoServer) (string, string) {
				srv.publish(t, "", "app", "1.0.0")
				return "app", "2.x"
			},
			wantErr: repo.ErrVersionNotFound, mentions: `chart "app" version "2.x" not found`,
		},
		"B17 the chart is not in the repository": {
			setup: func(t *testing.T, srv *repoServer) (string, string) {
				srv.publish(t, "", "app", "1.0.0")
				return "other", "*"
			},
			wantErr: repo.ErrChartNotFound, mentions: `chart "other" not found`,
		},
		"B18 an archive whose digest differs from the index is refused and not cached": {
			setup: func(t *testing.T, srv *repoServer) (string, string) {
				srv.publish(t, "", "app", "1.0.0")
				srv.set("/app-1.0.0.tgz", []byte("tampered "+repoCanaryPassword))
				return "app", "1.0.0"
			},
			wantErr: repo.ErrDigestMismatch, mentions: "but sha256:", downloads: 2, fetchTwice: true,
		},
		"B18 an index entry without a digest is refused before downloading": {
			setup: func(_ *testing.T, srv *repoServer) (string, string) {
				srv.set("/index.yaml", []byte("apiVersion: v1\nentries:\n  app:\n  - name: app\n    version: 1.0.0\n    urls: [app-1.0.0.tgz]\n"))
				srv.set("/app-1.0.0.tgz", []byte("never fetched"))
				return "app", "1.0.0"
			},
			wantErr: repo.ErrMissingDigest, mentions: "has no digest", downloads: 0,
		},
		"B19 an archive above the chart size limit is cut": {
			setup: func(t *testing.T, srv *repoServer) (string, string) {
				srv.publish(t, "", "app", "1.0.0")
				return "app", "1.0.0"
			},
			opts:    func(o *reconcile.ChartSourcesOptions) { o.MaxChartSize = 64 },
			wantErr: repo.ErrTooLarge, mentions: "larger than the limit of 64 bytes", downloads: 1,
		},
		"B1 an index entry pointing at a file:// URL is refused": {
			setup: func(_ *testing.T, srv *repoServer) (string, string) {
				srv.set("/index.yaml", []byte("apiVersion: v1\nentries:\n  app:\n  - name: app\n    version: 1.0.0\n    digest: "+
					repoDigest([]byte("x"))+"\n    urls: [\"file:///etc/passwd\"]\n"))
				return "app", "1.0.0"
			},
			wantErr: repo.ErrInvalidURL, mentions: "is not http or https",
		},
		"B2 an index entry pointing at the cloud metadata address is refused before connecting": {
			setup: func(_ *testing.T, srv *repoServer) (string, string) {
				srv.set("/index.yaml", []byte("apiVersion: v1\nentries:\n  app:\n  - name: app\n    version: 1.0.0\n    digest: "+
					repoDigest([]byte("x"))+"\n    urls: [\"http://169.254.169.254/latest/meta-data/app-1.0.0.tgz\"]\n"))
				return "app", "1.0.0"
			},
			wantErr: repo.ErrAddressNotAllowed, mentions: "connection to 169.254.169.254 refused: link-local address (cloud metadata)",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			srv := newRepoServer(t)
			srv.requireBasic(repoCanaryUser, repoCanaryPassword)
			chart, constraint := tc.setup(t, srv)
			opts := repoTestOptions()
			if tc.opts != nil {
				tc.opts(&opts)
			}
			sources := reconcile.NewChartSources(opts)
			reader := repoReader(repoSecret("auth", map[string]string{"username": repoCanaryUser, "password": repoCanaryPassword}))
			cr := repoCR("repo", srv.URL)
			cr.Spec.SecretRef = &capstanv1.LocalObjectReference{Name: "auth"}
			src := reconcile.NewReleaseChartSource(sources, reader)
			err := repoResolveAndFetch(src, cr, chart, constraint)
			if tc.fetchTwice {
				err = repoResolveAndFetch(src, cr, chart, constraint)
			}
			g.Expect(err).To(MatchError(tc.wantErr))
			g.Expect(err.Error()).To(ContainSubstring(tc.mentions))
			expectNoCanary(g, err.Error())
			g.Expect(sources.Stats().Archives.Entries).To(BeZero(), "a refused archive is never cached")
			g.Expect(srv.hitsOf("/app-1.0.0.tgz")).To(Equal(tc.downloads))
		})
	}
}

// repoResolveAndFetch does what the Release side does: resolve, then fetch the version.
func repoResolveAndFetch(src *reconcile.ReleaseChartSource, cr *capstanv1.ChartRepository, chart, constraint string) error {
	version, _, err := src.Resolve(context.Background(), cr, chart, constraint)
	if err != nil {
		return err
	}
	_, err = src.Fetch(context.Background(), cr, chart, version)
	return err
}

// TestReleaseChartSource_Fetch_credentialScope is B11: a chart URL on another host gets the
// repository's credentials only with passCredentials.
func TestReleaseChartSource_Fetch_credentialScope(t *testing.T) {
	cases := map[string]struct {
		pass bool
		want string
	}{
		"credentials stay with the repository's host by default": {pass: false, want: ""},
		"passCredentials sends them to the chart's host too":     {pass: true, want: "Bearer " + repoCanaryToken},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			index, charts := newRepoServer(t), newRepoServer(t)
			index.requireToken(repoCanaryToken)
			archives := charts.publish(t, charts.URL, "app", "1.0.0")
			index.set("/index.yaml", charts.files["/index.yaml"])
			cr := repoCR("repo", index.URL)
			cr.Spec.SecretRef = &capstanv1.LocalObjectReference{Name: "auth"}
			cr.Spec.PassCredentials = tc.pass
			src := reconcile.NewReleaseChartSource(reconcile.NewChartSources(repoTestOptions()),
				repoReader(repoSecret("auth", map[string]string{"bearerToken": repoCanaryToken})))
			data, err := src.Fetch(context.Background(), cr, "app", "1.0.0")
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(bytes.Equal(data, archives["1.0.0"])).To(BeTrue())
			g.Expect(charts.authorizations("/app-1.0.0.tgz")).To(ConsistOf(tc.want))
		})
	}
}

// TestReleaseChartSource_WithReader: a Release's chart is pulled with credentials its own
// identity read; the reader the source was built with (the manager's) is not asked.
func TestReleaseChartSource_WithReader(t *testing.T) {
	g := NewWithT(t)
	srv := newRepoServer(t)
	srv.requireToken(repoCanaryToken)
	srv.publish(t, "", "app", "1.0.0")
	cr := repoCR("repo", srv.URL)
	cr.Spec.SecretRef = &capstanv1.LocalObjectReference{Name: "auth"}
	manager := reconcile.NewReleaseChartSource(reconcile.NewChartSources(repoTestOptions()), repoReader())

	_, _, err := manager.Resolve(context.Background(), cr, "app", "1.x")
	g.Expect(err).To(MatchError(reconcile.ErrRepositorySecretNotFound), "the base reader holds no Secret")

	tenant := manager.WithReader(repoReader(repoSecret("auth", map[string]string{"bearerToken": repoCanaryToken})))
	version, _, err := tenant.Resolve(context.Background(), cr, "app", "1.x")
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(version).To(Equal("1.0.0"))
}

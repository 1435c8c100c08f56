package repo

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	. "github.com/onsi/gomega"

	"github.com/capstan-dev/capstan/internal/chart"
	"github.com/capstan-dev/capstan/internal/provenance"
	"github.com/capstan-dev/capstan/internal/provenance/provenancetest"
)

var (
	provKeysOnce           sync.Once
	provTrusted, provOther *openpgp.Entity
)

func provKeys(t testing.TB) {
	provKeysOnce.Do(func() {
		provTrusted = provenancetest.NewKey(t, "Publisher", "pub@example.com", provenancetest.KeyOptions{})
		provOther = provenancetest.NewKey(t, "Stranger", "stranger@example.com", provenancetest.KeyOptions{})
	})
}

func signChart(t testing.TB, data []byte, name, version string, key *openpgp.Entity) []byte {
	t.Helper()
	md := &chart.Metadata{APIVersion: "v2", Name: name, Version: version}
	prov, err := provenance.Sign(data, name+"-"+version+".tgz", md, key, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	return prov
}

// pgpCheck verifies with a keyring holding only the trusted key, as a Release would.
func pgpCheck(t testing.TB, name, version string) ProvenanceCheck {
	ring, err := provenance.ReadKeyring(provenancetest.PublicKeyring(t, provTrusted))
	if err != nil {
		t.Fatal(err)
	}
	return func(archive []byte, fileName string, prov []byte) error {
		_, err := provenance.Verify(archive, prov, ring, provenance.VerifyOptions{FileName: fileName, ChartName: name, ChartVersion: version})
		return err
	}
}

func TestHTTPRepository_FetchVerified(t *testing.T) {
	provKeys(t)
	good := makeChart(t, "app", "1.0.0")
	tampered := makeChart(t, "app", "1.0.0", chartFile{"app/templates/evil.yaml", "kind: ClusterRoleBinding\n"})
	cases := map[string]struct {
		archive []byte
		prov    func(t *testing.T) []byte
		auth    bool
		kind    error
		text    string
	}{
		"a chart signed by the trusted key is returned and cached": {
			prov: func(t *testing.T) []byte { return signChart(t, good, "app", "1.0.0", provTrusted) },
		},
		"the provenance file is fetched with the archive's credentials": {
			prov: func(t *testing.T) []byte { return signChart(t, good, "app", "1.0.0", provTrusted) }, auth: true,
		},
		"a missing provenance file is refused": {
			kind: ErrUnverified, text: "no provenance file at http://",
		},
		"an oversized provenance file is refused": {
			prov: func(*testing.T) []byte { return bytes.Repeat([]byte("x"), int(MaxProvenanceSize)+1) },
			kind: ErrUnverified, text: "larger than the limit of 65536 bytes",
		},
		"a malformed provenance file is refused": {
			prov: func(*testing.T) []byte { return []byte("-----BEGIN PGP SIGNED MESSAGE-----\nnonsense") },
			kind: provenance.ErrMalformed, text: "holds no OpenPGP clear-signed message",
		},
		"a provenance file for another version is refused": {
			prov: func(t *testing.T) []byte { return signChart(t, good, "app", "1.0.1", provTrusted) },
			kind: provenance.ErrChartMismatch, text: `provenance is for chart "app" version "1.0.1", not "app" version "1.0.0"`,
		},
		"a signature by a key outside the keyring is refused": {
			prov: func(t *testing.T) []byte { return signChart(t, good, "app", "1.0.0", provOther) },
			kind: provenance.ErrUntrustedKey, text: "provenance is signed by key ID " + keyID(provOther) + ", which is not in the trusted keyring",
		},
		"an archive changed after signing (index digest updated too) is refused": {
			archive: tampered,
			prov:    func(t *testing.T) []byte { return signChart(t, good, "app", "1.0.0", provTrusted) },
			kind:    provenance.ErrDigestMismatch, text: "but the provenance signs",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			data := good
			if tc.archive != nil {
				data = tc.archive
			}
			srv := newRepoServer(t)
			opts := Options{ArchiveCache: NewArchiveCache(0), Retry: fastRetry}
			if tc.auth {
				srv.set(func(s *repoServer) { s.user, s.pass = "alice", "s3cret" })
				opts.Username, opts.Password = "alice", "s3cret"
			}
			srv.put("/app-1.0.0.tgz", data)
			if tc.prov != nil {
				srv.put("/app-1.0.0.tgz.prov", tc.prov(t))
			}
			srv.put("/index.yaml", []byte(indexYAML(testEntry{"app", "1.0.0", sha256Hex(data), "app-1.0.0.tgz"})))
			r, err := NewHTTPRepository(srv.URL, opts)
			g.Expect(err).NotTo(HaveOccurred())
			cv, err := r.Resolve(context.Background(), "app", "1.0.0")
			g.Expect(err).NotTo(HaveOccurred())
			got, err := r.FetchVerified(context.Background(), cv, pgpCheck(t, "app", "1.0.0"))
			if tc.kind == nil {
				g.Expect(err).NotTo(HaveOccurred())
				g.Expect(got).To(Equal(data))
				g.Expect(opts.ArchiveCache.Stats().Entries).To(Equal(1))
				g.Expect(srv.rec.count("/app-1.0.0.tgz.prov")).To(Equal(1))
				return
			}
			g.Expect(got).To(BeNil())
			g.Expect(err).To(MatchError(ErrUnverified))
			g.Expect(err).To(MatchError(tc.kind))
			g.Expect(err.Error()).To(ContainSubstring(tc.text))
			g.Expect(opts.ArchiveCache.Stats().Entries).To(BeZero(), "a refused archive is not cached")
		})
	}
}

func TestHTTPRepository_FetchVerified_checksCachedArchives(t *testing.T) {
	g := NewWithT(t)
	provKeys(t)
	data := makeChart(t, "app", "1.0.0")
	srv := newRepoServer(t)
	srv.put("/app-1.0.0.tgz", data)
	srv.put("/app-1.0.0.tgz.prov", signChart(t, data, "app", "1.0.0", provOther))
	srv.put("/index.yaml", []byte(indexYAML(testEntry{"app", "1.0.0", sha256Hex(data), "app-1.0.0.tgz"})))
	cache := NewArchiveCache(0)
	r, err := NewHTTPRepository(srv.URL, Options{ArchiveCache: cache, Retry: fastRetry})
	g.Expect(err).NotTo(HaveOccurred())
	cv, err := r.Resolve(context.Background(), "app", "1.0.0")
	g.Expect(err).NotTo(HaveOccurred())
	_, err = r.Fetch(context.Background(), cv)
	g.Expect(err).NotTo(HaveOccurred(), "a Release without verification caches the archive")
	g.Expect(cache.Stats().Entries).To(Equal(1))

	_, err = r.FetchVerified(context.Background(), cv, pgpCheck(t, "app", "1.0.0"))
	g.Expect(err).To(MatchError(provenance.ErrUntrustedKey), "the cached copy is checked with this caller's keyring")
	g.Expect(srv.rec.count("/app-1.0.0.tgz")).To(Equal(1), "the archive came from the cache")
}

func TestHTTPRepository_FetchVerified_transientFailureIsNotARefusal(t *testing.T) {
	g := NewWithT(t)
	provKeys(t)
	data := makeChart(t, "app", "1.0.0")
	srv := newRepoServer(t)
	srv.put("/app-1.0.0.tgz", data)
	srv.put("/index.yaml", []byte(indexYAML(testEntry{"app", "1.0.0", sha256Hex(data), "app-1.0.0.tgz"})))
	r, err := NewHTTPRepository(srv.URL, Options{ArchiveCache: NewArchiveCache(0), Retry: fastRetry})
	g.Expect(err).NotTo(HaveOccurred())
	cv, err := r.Resolve(context.Background(), "app", "1.0.0")
	g.Expect(err).NotTo(HaveOccurred())
	srv.setHandler(srv.rec.wrap(statusFor("/app-1.0.0.tgz.prov", 503, srv.defaultHandler())))
	_, err = r.FetchVerified(context.Background(), cv, pgpCheck(t, "app", "1.0.0"))
	g.Expect(err).To(HaveOccurred())
	g.Expect(err).NotTo(MatchError(ErrUnverified), "a 503 is retried later, not a stall")
}

// statusFor answers code for path and hands every other request to next.
func statusFor(path string, code int, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == path {
			http.Error(w, http.StatusText(code), code)
			return
		}
		next.ServeHTTP(w, r)
	})
}

func keyID(e *openpgp.Entity) string { return fmt.Sprintf("%016X", e.PrimaryKey.KeyId) }

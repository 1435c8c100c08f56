package provenance_test

import (
	"crypto/rand"
	"testing"
	"time"

	"github.com/capstan-dev/capstan/internal/provenance"
	"github.com/capstan-dev/capstan/internal/provenance/provenancetest"
)

// BenchmarkVerify measures the cost of verifying one chart: decoding the provenance file,
// one RSA-2048 signature check, and hashing the archive. Sizes are a small chart (20 KiB) and a
// large one (1 MiB, where hashing dominates).
func BenchmarkVerify(b *testing.B) {
	key := provenancetest.NewKey(b, "Chart Publisher", "publisher@example.com", provenancetest.KeyOptions{})
	ring, err := provenance.ReadKeyring(provenancetest.PublicKeyring(b, key))
	if err != nil {
		b.Fatal(err)
	}
	for _, size := range []struct {
		name string
		n    int
	}{{"20KiB", 20 << 10}, {"1MiB", 1 << 20}} {
		data := make([]byte, size.n)
		_, _ = rand.Read(data)
		prov, err := provenance.Sign(data, "web-1.2.3.tgz", meta("web", "1.2.3"), key, time.Time{})
		if err != nil {
			b.Fatal(err)
		}
		b.Run(size.name, func(b *testing.B) {
			for b.Loop() {
				if _, err := provenance.Verify(data, prov, ring, provenance.VerifyOptions{FileName: "web-1.2.3.tgz"}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

package controllers

import (
	"bytes"
	"context"
	"testing"

	. "github.com/onsi/gomega"

	"github.com/capstan-dev/capstan/internal/options"
	"github.com/capstan-dev/capstan/internal/repo"
)

// TestNewChartSources_archiveCacheSizeFlag checks that --archive-cache-size bounds the archive
// cache the manager's repositories and Releases share, and that the default keeps far more.
func TestNewChartSources_archiveCacheSizeFlag(t *testing.T) {
	fill := func(g Gomega, opts options.Options) (entries int, bytesHeld int64, evictions int64) {
		_, archives := NewChartSources(opts).Caches()
		for _, key := range []string{"a", "b", "c"} {
			_, err := archives.Get(context.Background(), key, func(context.Context) ([]byte, error) {
				return bytes.Repeat([]byte{'x'}, 600<<10), nil
			})
			g.Expect(err).NotTo(HaveOccurred())
		}
		st := archives.Stats()
		return st.Entries, st.Bytes, st.Evictions
	}
	t.Run("a 1 MiB budget holds one 600 KiB archive", func(t *testing.T) {
		g := NewWithT(t)
		opts := options.Defaults()
		opts.Limits.ArchiveCacheSize = 1 << 20
		entries, held, evictions := fill(g, opts)
		g.Expect(entries).To(Equal(1))
		g.Expect(held).To(BeNumerically("<=", 1<<20))
		g.Expect(evictions).To(Equal(int64(2)))
	})
	t.Run("the default budget holds all three", func(t *testing.T) {
		g := NewWithT(t)
		entries, _, evictions := fill(g, options.Defaults())
		g.Expect(entries).To(Equal(3))
		g.Expect(evictions).To(BeZero())
	})
}

// TestNewChartSources_indexCacheSizeFlag checks the same of --index-cache-size.
func TestNewChartSources_indexCacheSizeFlag(t *testing.T) {
	g := NewWithT(t)
	opts := options.Defaults()
	opts.Limits.IndexCacheSize = 600 // room for two empty indexes (about 270 bytes each)
	indexes, _ := NewChartSources(opts).Caches()
	for _, d := range []string{"sha256:a", "sha256:b", "sha256:c"} {
		indexes.Add(&repo.Index{Digest: d})
	}
	st := indexes.Stats()
	g.Expect(st.Entries).To(Equal(2))
	g.Expect(st.Evictions).To(Equal(int64(1)))
	_, kept := indexes.Get("sha256:a")
	g.Expect(kept).To(BeFalse(), "the least recently used index went first")

	indexes, _ = NewChartSources(options.Defaults()).Caches()
	for _, d := range []string{"sha256:a", "sha256:b", "sha256:c"} {
		indexes.Add(&repo.Index{Digest: d})
	}
	g.Expect(indexes.Stats().Entries).To(Equal(3))
}

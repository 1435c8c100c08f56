package conformance

import (
	"io"
	"testing"
)

// BenchmarkTemplate times `capstan template` in process (chart load, values, render, sort,
// print) for every chart and value set of the corpus.
func BenchmarkTemplate(b *testing.B) {
	corpus, err := LoadCorpus(CorpusFile)
	if err != nil {
		b.Fatal(err)
	}
	for _, c := range corpus.Charts {
		dir, err := c.ChartDir(b.Context())
		if err != nil {
			b.Fatal(err)
		}
		renders, err := c.Renders(dir)
		if err != nil {
			b.Fatal(err)
		}
		for _, r := range renders {
			if r.Fails {
				continue
			}
			args := r.Args
			b.Run(c.Name+"/"+r.Name, func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					if err := execTemplate(b.Context(), args, io.Discard, io.Discard); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

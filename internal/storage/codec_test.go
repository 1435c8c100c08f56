package storage

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"encoding/json"
	"runtime"
	"runtime/debug"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	. "github.com/onsi/gomega"

	"github.com/capstan-dev/capstan/internal/chart"
)

// sampleRelease returns a record with every field set, as an upgrade would write it.
func sampleRelease() *Release {
	t0 := time.Date(2026, 3, 4, 5, 6, 7, 890, time.UTC)
	return &Release{
		Name:      "web",
		Namespace: "apps",
		Version:   3,
		Info: Info{
			FirstDeployed: t0, LastDeployed: t0.Add(time.Hour),
			Description: "Upgrade complete", Status: StatusDeployed, Notes: "Visit http://web",
		},
		Chart: Chart{
			Metadata: &chart.Metadata{APIVersion: "v2", Name: "web", Version: "1.2.3", AppVersion: "4.5",
				Annotations: map[string]string{"a": "b"}, Dependencies: []*chart.Dependency{{Name: "db", Repository: "oci://r/x"}}},
			Values: map[string]any{"replicas": float64(1), "image": map[string]any{"tag": "v1"}},
			Schema: []byte(`{"type":"object"}`),
		},
		Config:   map[string]any{"replicas": float64(2)},
		Manifest: "---\n# Source: web/templates/cm.yaml\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web\n",
		Hooks: []*Hook{{
			Name: "web-migrate", Kind: "Job", Path: "web/templates/job.yaml", Manifest: "kind: Job",
			Events: []string{"pre-upgrade"}, Weight: -5, DeletePolicies: []string{"before-hook-creation"},
			OutputLogPolicies: []string{"hook-failed"},
			LastRun:           HookExecution{StartedAt: t0, CompletedAt: t0.Add(time.Minute), Phase: HookPhaseSucceeded},
		}},
		ApplyMethod: ApplyMethodServerSide,
	}
}

// releaseCmp compares records as JSON sees them: unexported bookkeeping ignored, empty equals
// nil, raw JSON compared compacted.
var releaseCmp = cmp.Options{
	cmpopts.IgnoreUnexported(Release{}), cmpopts.EquateEmpty(),
	cmp.FilterValues(func(a, b json.RawMessage) bool { return len(a) > 0 || len(b) > 0 },
		cmp.Transformer("compactJSON", func(r json.RawMessage) string {
			var buf bytes.Buffer
			if err := json.Compact(&buf, r); err != nil {
				return string(r)
			}
			return buf.String()
		})),
}

func TestEncode_layers(t *testing.T) {
	g := NewWithT(t)
	enc, err := Encode(sampleRelease())
	g.Expect(err).NotTo(HaveOccurred())

	gz, err := base64.StdEncoding.DecodeString(enc)
	g.Expect(err).NotTo(HaveOccurred(), "data.release is standard base64")
	g.Expect(gz[:3]).To(Equal([]byte{0x1f, 0x8b, 0x08}), "then gzip")
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	g.Expect(err).NotTo(HaveOccurred())
	var doc map[string]any
	g.Expect(json.NewDecoder(zr).Decode(&doc)).To(Succeed(), "then JSON")

	g.Expect(doc).To(HaveKeyWithValue("name", "web"))
	g.Expect(doc).To(HaveKeyWithValue("namespace", "apps"))
	g.Expect(doc).To(HaveKeyWithValue("version", float64(3)))
	g.Expect(doc).To(HaveKeyWithValue("apply_method", "ssa"))
	g.Expect(doc).To(HaveKeyWithValue("config", map[string]any{"replicas": float64(2)}))
	g.Expect(doc).To(HaveKey("manifest"))
	info := doc["info"].(map[string]any)
	g.Expect(info).To(HaveKeyWithValue("first_deployed", "2026-03-04T05:06:07.00000089Z"))
	g.Expect(info).To(HaveKeyWithValue("last_deployed", "2026-03-04T06:06:07.00000089Z"))
	g.Expect(info).NotTo(HaveKey("deleted"), "zero timestamps are left out, as Helm v4 does")
	g.Expect(info).To(HaveKeyWithValue("status", "deployed"))
	g.Expect(info).To(HaveKeyWithValue("notes", "Visit http://web"))
	ch := doc["chart"].(map[string]any)
	g.Expect(ch).To(HaveKeyWithValue("schema", base64.StdEncoding.EncodeToString([]byte(`{"type":"object"}`))))
	g.Expect(ch["metadata"]).To(HaveKeyWithValue("appVersion", "4.5"))
	g.Expect(ch).To(HaveKey("values"))
	hook := doc["hooks"].([]any)[0].(map[string]any)
	g.Expect(hook).To(HaveKeyWithValue("delete_policies", []any{"before-hook-creation"}))
	g.Expect(hook).To(HaveKeyWithValue("output_log_policies", []any{"hook-failed"}))
	g.Expect(hook).To(HaveKeyWithValue("weight", float64(-5)))
	g.Expect(hook["last_run"]).To(HaveKeyWithValue("phase", "Succeeded"))
	g.Expect(hook["last_run"]).To(HaveKeyWithValue("started_at", "2026-03-04T05:06:07.00000089Z"))
}

func TestEncode_isBestCompression(t *testing.T) {
	g := NewWithT(t)
	enc, err := Encode(sampleRelease())
	g.Expect(err).NotTo(HaveOccurred())
	gz, _ := base64.StdEncoding.DecodeString(enc)
	// Byte 8 of a gzip header is XFL: 2 means the compressor used its slowest, best setting.
	g.Expect(gz[8]).To(Equal(byte(2)))
}

// TestEncode_reusesItsCompressor gives the same bytes as a new best-compression writer, encode
// after encode, and allocates a fraction of a new writer's ~800 KiB tables once one is pooled.
func TestEncode_reusesItsCompressor(t *testing.T) {
	g := NewWithT(t)
	rel := sampleRelease()
	raw, err := json.Marshal(rel)
	g.Expect(err).NotTo(HaveOccurred())
	var want bytes.Buffer
	zw, err := gzip.NewWriterLevel(&want, gzip.BestCompression)
	g.Expect(err).NotTo(HaveOccurred())
	_, err = zw.Write(raw)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(zw.Close()).To(Succeed())
	for range 3 {
		enc, err := Encode(rel)
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(enc).To(Equal(base64.StdEncoding.EncodeToString(want.Bytes())))
	}

	defer debug.SetGCPercent(debug.SetGCPercent(-1)) // a collection would empty the pool
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	const runs = 20
	for range runs {
		_, _ = Encode(rel)
	}
	runtime.ReadMemStats(&after)
	perEncode := (after.TotalAlloc - before.TotalAlloc) / runs
	g.Expect(perEncode).To(BeNumerically("<", 64<<10), "bytes allocated per Encode")
}

func TestDecode_roundTrip(t *testing.T) {
	cases := map[string]*Release{
		"a full upgrade record":                sampleRelease(),
		"a minimal pending install":            {Name: "a", Namespace: "b", Version: 1, Info: Info{Status: StatusPendingInstall}},
		"an uninstalled record with a deleted": {Name: "a", Namespace: "b", Version: 9, Info: Info{Status: StatusUninstalled, Deleted: time.Unix(1700000000, 0).UTC()}},
	}
	for name, rel := range cases {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			enc, err := Encode(rel)
			g.Expect(err).NotTo(HaveOccurred())
			got, err := Decode(enc)
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(cmp.Diff(rel, got, releaseCmp)).To(BeEmpty())
		})
	}
}

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

func gzipped(t testing.TB, data []byte, level int) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, level)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := zw.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// helmV3Record is shaped like a record written by Helm v3: zero timestamps as "", a full chart
// with templates and a lock, and an empty last_run.
const helmV3Record = `{"name":"old","info":{"first_deployed":"2024-05-01T10:00:00.123+02:00","last_deployed":"2024-05-01T10:00:00.123+02:00",
"deleted":"","description":"Install complete","status":"deployed","notes":"hi"},
"chart":{"metadata":{"name":"old","version":"0.1.0","apiVersion":"v2","type":"application"},
"lock":{"generated":"2024-01-01T00:00:00Z","digest":"sha256:ab","dependencies":[]},
"templates":[{"name":"templates/cm.yaml","data":"a2luZDogQ29uZmlnTWFw"}],"values":{"a":1},"schema":null,
"files":[{"name":"README.md","data":"aGk="}]},
"config":{"b":2},"manifest":"kind: ConfigMap\n","hooks":[{"name":"h","kind":"Pod","path":"old/templates/h.yaml",
"manifest":"kind: Pod","events":["test"],"last_run":{"started_at":"","completed_at":"","phase":""}}],
"version":1,"namespace":"default"}`

func TestDecode_accepts(t *testing.T) {
	cases := map[string]struct {
		data  string
		check func(g *WithT, rel *Release)
	}{
		"gzipped JSON as Helm writes it": {
			data: base64.StdEncoding.EncodeToString(gzipped(t, []byte(helmV3Record), gzip.BestCompression)),
			check: func(g *WithT, rel *Release) {
				g.Expect(rel.Name).To(Equal("old"))
				g.Expect(rel.Info.Status).To(Equal(StatusDeployed))
			},
		},
		"plain JSON without gzip": {
			data: b64(helmV3Record),
			check: func(g *WithT, rel *Release) {
				g.Expect(rel.Version).To(Equal(1))
				g.Expect(rel.Config).To(HaveKeyWithValue("b", float64(1*2)))
			},
		},
		"Helm v3's empty-string timestamps are zero": {
			data: b64(helmV3Record),
			check: func(g *WithT, rel *Release) {
				g.Expect(rel.Info.Deleted.IsZero()).To(BeTrue())
				g.Expect(rel.Info.FirstDeployed.Equal(time.Date(2024, 5, 1, 8, 0, 0, 123e6, time.UTC))).To(BeTrue())
				g.Expect(rel.Hooks[0].LastRun.StartedAt.IsZero()).To(BeTrue())
			},
		},
		"Helm's chart templates, files and lock are kept": {
			data: b64(helmV3Record),
			check: func(g *WithT, rel *Release) {
				g.Expect(rel.Chart.Templates).To(HaveLen(1))
				g.Expect(string(rel.Chart.Templates[0].Data)).To(Equal("kind: ConfigMap"))
				g.Expect(string(rel.Chart.Files[0].Data)).To(Equal("hi"))
				g.Expect(string(rel.Chart.Lock)).To(ContainSubstring(`"digest":"sha256:ab"`))
			},
		},
		"null timestamps and unknown fields": {
			data: b64(`{"name":"x","version":2,"info":{"deleted":null,"status":"failed","future":1},"whatever":[1]}`),
			check: func(g *WithT, rel *Release) {
				g.Expect(rel.Info.Status).To(Equal(StatusFailed))
				g.Expect(rel.Info.Deleted.IsZero()).To(BeTrue())
			},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			rel, err := Decode(tc.data)
			g.Expect(err).NotTo(HaveOccurred())
			tc.check(g, rel)
		})
	}
}

func TestDecode_rejects(t *testing.T) {
	valid := gzipped(t, []byte(helmV3Record), gzip.BestCompression)
	cases := map[string]struct {
		data  string
		limit int64
		want  string
	}{
		"not base64": {data: "%%%not base64", want: "base64"},
		"base64 twice (a raw wire value)": {
			data: b64(base64.StdEncoding.EncodeToString(valid)), want: "json",
		},
		"a truncated gzip stream":  {data: base64.StdEncoding.EncodeToString(valid[:len(valid)/2]), want: "gzip"},
		"a gzip header only":       {data: base64.StdEncoding.EncodeToString(valid[:10]), want: "gzip"},
		"gzip of garbage checksum": {data: base64.StdEncoding.EncodeToString(corruptTrailer(valid)), want: "gzip"},
		"gzipped text that is not JSON": {
			data: base64.StdEncoding.EncodeToString(gzipped(t, []byte("kind: ConfigMap"), gzip.BestSpeed)), want: "json",
		},
		"JSON of the wrong shape": {data: b64(`{"info":{"status":7}}`), want: "json"},
		"a bad timestamp":         {data: b64(`{"info":{"last_deployed":"yesterday"}}`), want: "json"},
		"a gzip bomb over a small limit": {
			data: base64.StdEncoding.EncodeToString(gzipped(t, make([]byte, 2<<20), gzip.BestCompression)), limit: 1 << 20,
			want: "decompresses to more than 1048576 bytes",
		},
		"plain JSON over a small limit": {
			data: b64(`{"name":"` + string(bytes.Repeat([]byte("a"), 100)) + `"}`), limit: 50, want: "larger than 50 bytes",
		},
		"empty": {data: "", want: "json"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			limit := tc.limit
			if limit == 0 {
				limit = DefaultMaxDecodedSize
			}
			rel, err := DecodeWithLimit(tc.data, limit)
			g.Expect(err).To(MatchError(ErrCorrupt))
			g.Expect(err.Error()).To(ContainSubstring(tc.want))
			g.Expect(rel).To(BeNil())
		})
	}
}

func corruptTrailer(gz []byte) []byte {
	out := bytes.Clone(gz)
	out[len(out)-8] ^= 0xff // the CRC-32 of the content
	return out
}

// TestDecode_bombAtDefaultLimit checks the default limit on a real bomb: a Secret-sized payload
// that inflates past DefaultMaxDecodedSize is refused without decoding it all.
func TestDecode_bombAtDefaultLimit(t *testing.T) {
	g := NewWithT(t)
	bomb := gzipped(t, make([]byte, DefaultMaxDecodedSize+1), gzip.BestSpeed)
	enc := base64.StdEncoding.EncodeToString(bomb)
	g.Expect(len(enc)).To(BeNumerically("<", MaxSecretSize), "the bomb fits in a Secret")
	_, err := Decode(enc)
	g.Expect(err).To(MatchError(ErrCorrupt))
	g.Expect(err.Error()).To(ContainSubstring("decompresses to more than"))

	atLimit := base64.StdEncoding.EncodeToString(gzipped(t, []byte(`"`+string(bytes.Repeat([]byte("a"), 1000))+`"`), gzip.BestSpeed))
	_, err = DecodeWithLimit(atLimit, 1002)
	g.Expect(err).To(MatchError(ContainSubstring("json")), "exactly at the limit is read, then fails only as JSON")
}

func TestEncode_nil(t *testing.T) {
	g := NewWithT(t)
	_, err := Encode(nil)
	g.Expect(err).To(MatchError(ErrInvalid))
}

func TestNewChart(t *testing.T) {
	g := NewWithT(t)
	g.Expect(NewChart(nil)).To(Equal(Chart{}))
	c := &chart.Chart{
		Metadata:  &chart.Metadata{Name: "web", Version: "1.0.0"},
		Values:    map[string]any{"a": "b"},
		Schema:    []byte(`{}`),
		Templates: []*chart.File{{Name: "templates/cm.yaml", Data: []byte("kind: ConfigMap")}},
		Files:     []*chart.File{{Name: "README.md", Data: []byte("hi")}},
	}
	got := NewChart(c)
	g.Expect(got.Metadata).To(Equal(c.Metadata))
	g.Expect(got.Values).To(Equal(c.Values))
	g.Expect(got.Schema).To(Equal(c.Schema))
	g.Expect(got.Templates).To(BeEmpty(), "records stay small: no templates")
	g.Expect(got.Files).To(BeEmpty())
}

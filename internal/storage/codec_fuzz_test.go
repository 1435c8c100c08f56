package storage

import (
	"compress/gzip"
	"encoding/base64"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// FuzzRevisionCodec feeds arbitrary data.release values to the decoder. Nothing may panic, every
// failure must be ErrCorrupt, and whatever decodes must survive an encode/decode round trip.
func FuzzRevisionCodec(f *testing.F) {
	full, err := Encode(sampleRelease())
	if err != nil {
		f.Fatal(err)
	}
	f.Add(full)
	f.Add(b64(helmV3Record))
	f.Add(base64.StdEncoding.EncodeToString(gzipped(f, []byte(helmV3Record), gzip.BestCompression)))
	f.Add(b64(`{"info":{"deleted":""}}`))
	f.Add(b64(`{"hooks":[null,{"last_run":null}],"chart":{"lock":null}}`))
	f.Add(base64.StdEncoding.EncodeToString([]byte{0x1f, 0x8b, 0x08, 0, 0}))
	f.Add("")
	f.Fuzz(func(t *testing.T, data string) {
		rel, err := DecodeWithLimit(data, 1<<20)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("decode error is not ErrCorrupt: %v", err)
			}
			return
		}
		enc, err := Encode(rel)
		if err != nil {
			t.Fatalf("a decoded record does not encode: %v", err)
		}
		again, err := Decode(enc)
		if err != nil {
			t.Fatalf("an encoded record does not decode: %v", err)
		}
		if d := cmp.Diff(rel, again, releaseCmp); d != "" {
			t.Fatalf("round trip changed the record (-first +second):\n%s", d)
		}
	})
}

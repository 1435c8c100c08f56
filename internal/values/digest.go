package values

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
)

// Digest returns "sha256:<hex>" of the canonical JSON encoding of v (map keys sorted, no
// insignificant whitespace), so equal values always give equal digests whatever their map
// order. A nil map digests like an empty one. Numbers digest by their JSON text, so int64(1)
// and float64(1) are the same value, as they are once rendered.
func Digest(v map[string]any) string {
	if v == nil {
		v = map[string]any{}
	}
	data, err := json.Marshal(v)
	if err != nil {
		// Only values built in Go (NaN, channels...) fail; %#v prints maps sorted, so this stays
		// deterministic.
		data = []byte(fmt.Sprintf("%#v", v))
	}
	sum := sha256.Sum256(data)
	return "sha256:" + hex.EncodeToString(sum[:])
}

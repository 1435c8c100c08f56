package conformance

import (
	"encoding/base64"
	"fmt"
	"regexp"
	"strings"

	"sigs.k8s.io/yaml"

	"github.com/capstan-dev/capstan/internal/manifest"
)

// Non-deterministic values charts generate (genCA, genSignedCert, genPrivateKey): PEM blocks,
// as text or base64-encoded. Both sides are masked the same way before comparing.
var (
	pemBlock  = regexp.MustCompile(`-----BEGIN [A-Z0-9 ]+-----[\s\S]*?-----END [A-Z0-9 ]+-----`)
	pemBase64 = regexp.MustCompile(`LS0tLS1CRUdJTi[A-Za-z0-9+/=]+`)
)

const masked = "<masked: generated certificate or key>"

// maskText masks generated material in raw output, for the byte-level comparison.
func maskText(s string) string {
	return pemBase64.ReplaceAllString(pemBlock.ReplaceAllString(s, masked), masked)
}

// maskValue masks generated material inside a parsed document.
func maskValue(v any) any {
	switch t := v.(type) {
	case map[string]any:
		for k, e := range t {
			t[k] = maskValue(e)
		}
	case []any:
		for i, e := range t {
			t[i] = maskValue(e)
		}
	case string:
		return maskString(t)
	}
	return v
}

func maskString(s string) string {
	if m := maskText(s); m != s {
		return m
	}
	if dec, err := base64.StdEncoding.DecodeString(s); err == nil && pemBlock.Match(dec) {
		return masked
	}
	return s
}

// document is one printed document, parsed for comparison.
type document struct {
	Source string
	Object any
}

// parseOutput splits `template` output into documents keyed by kind, namespace and name (the
// source template and a counter for documents without a name, or repeated ones).
func parseOutput(out string) (map[string]document, []string, error) {
	docs := map[string]document{}
	var order []string
	for _, text := range manifest.Split(out) {
		source, body, _ := strings.Cut(text, "\n")
		source = strings.TrimPrefix(source, "# Source: ")
		var obj any
		if err := yaml.Unmarshal([]byte(body), &obj); err != nil {
			return nil, nil, fmt.Errorf("document from %s: %w", source, err)
		}
		key := uniqueKey(docs, objectKey(source, obj))
		docs[key] = document{Source: source, Object: maskValue(obj)}
		order = append(order, key)
	}
	return docs, order, nil
}

func objectKey(source string, obj any) string {
	m, _ := obj.(map[string]any)
	meta, _ := m["metadata"].(map[string]any)
	kind, _ := m["kind"].(string)
	name, _ := meta["name"].(string)
	ns, _ := meta["namespace"].(string)
	if kind == "" || name == "" {
		return "(unnamed) from " + source
	}
	return fmt.Sprintf("%s %s/%s", kind, ns, name)
}

func uniqueKey(docs map[string]document, key string) string {
	if _, dup := docs[key]; !dup {
		return key
	}
	for i := 2; ; i++ {
		k := fmt.Sprintf("%s #%d", key, i)
		if _, dup := docs[k]; !dup {
			return k
		}
	}
}

package redact

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"strconv"
	"strings"
	"testing"

	. "github.com/onsi/gomega"
)

const canary = "canary-9f3b7c1e-secret"

func b64(enc *base64.Encoding, s string) string { return enc.EncodeToString([]byte(s)) }

func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

func TestRedactor_Redact(t *testing.T) {
	embedded := func(prefix string) string {
		return b64(base64.StdEncoding, prefix+canary+"-and-what-follows")
	}
	cases := map[string]struct {
		values []string
		in     string
		want   string
	}{
		"a plain value is replaced": {
			values: []string{canary}, in: "value " + canary + " is wrong", want: "value [redacted] is wrong",
		},
		"every occurrence is replaced": {
			values: []string{canary}, in: canary + "," + canary + " and " + canary, want: "[redacted],[redacted] and [redacted]",
		},
		"a message without values is returned as it is": {
			values: []string{canary}, in: "nothing to see here", want: "nothing to see here",
		},
		"standard base64 with padding": {
			values: []string{"secret-pass"}, in: "data: " + b64(base64.StdEncoding, "secret-pass") + ".", want: "data: [redacted].",
		},
		"standard base64 without padding": {
			values: []string{"secret-pass"}, in: "data=" + b64(base64.RawStdEncoding, "secret-pass") + ";", want: "data=[redacted];",
		},
		"URL-safe base64": {
			values: []string{"\xfb\xff\xbfsecret?>"}, in: "t=" + b64(base64.URLEncoding, "\xfb\xff\xbfsecret?>"), want: "t=[redacted]",
		},
		"URL-safe base64 without padding": {
			values: []string{"\xfb\xff\xbfsecret?>"}, in: "t=" + b64(base64.RawURLEncoding, "\xfb\xff\xbfsecret?>") + " end", want: "t=[redacted] end",
		},
		"base64 of the value at byte offset 0 inside a longer text": {
			values: []string{canary}, in: embedded(""), want: "[redacted]" + embedded("")[29:],
		},
		"JSON-escaped": {
			values: []string{`pa"ss\word<x>`}, in: `{"password":` + jsonString(`pa"ss\word<x>`) + `}`, want: `{"password":"[redacted]"}`,
		},
		"Go-quoted (%q)": {
			values: []string{"line1\tline2"}, in: fmt.Sprintf("Invalid value: %q: bad", "line1\tline2"), want: `Invalid value: "[redacted]": bad`,
		},
		"YAML single-quoted": {
			values: []string{"it's-secret"}, in: "key: 'it''s-secret'", want: "key: '[redacted]'",
		},
		"percent-encoded": {
			values: []string{"p@ss w/rd"}, in: "https://u:p%40ss+w%2Frd@host", want: "https://u:[redacted]@host",
		},
		"a multi-line value collapsed onto one line": {
			values: []string{"first line\nsecond line"}, in: "error: first line second line.", want: "error: [redacted].",
		},
		"one line of a multi-line value": {
			values: []string{"-----BEGIN KEY-----\nMIIEvQIBADANBgkqhkiG9w0B\n-----END KEY-----\n"}, in: "bad byte in MIIEvQIBADANBgkqhkiG9w0B",
			want: "bad byte in [redacted]",
		},
		"overlapping values become one placeholder": {
			values: []string{"abcdef-1234", "1234-ghijkl"}, in: "x abcdef-1234-ghijkl y", want: "x [redacted] y",
		},
		"a value inside another is covered by the longer": {
			values: []string{"inner-secret", "outer-inner-secret-value"}, in: "outer-inner-secret-value / inner-secret", want: "[redacted] / [redacted]",
		},
		"adjacent values become one placeholder": {
			values: []string{"aaaa-secret", "bbbb-secret"}, in: "aaaa-secretbbbb-secret", want: "[redacted]",
		},
		"values shorter than MinLen are not registered": {
			values: []string{"on", "443", "abc"}, in: "port 443 is on; abc", want: "port 443 is on; abc",
		},
		"a value of exactly MinLen bytes is": {
			values: []string{"s3cr"}, in: "got s3cr", want: "got [redacted]",
		},
		"a value at the very end": {
			values: []string{canary}, in: "ends with " + canary, want: "ends with [redacted]",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			r := New()
			r.Add(tc.values...)
			g.Expect(r.Redact(tc.in)).To(Equal(tc.want))
		})
	}
}

// TestRedactor_embeddedBase64 encodes the value inside longer texts at every byte alignment and
// checks that at most the characters shared with its neighbours (up to three before and one
// after) survive, and that no 4-character window of the value's standalone encoding does.
func TestRedactor_embeddedBase64(t *testing.T) {
	r := New()
	r.Add(canary)
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding, base64.RawStdEncoding} {
		for pre := range 6 {
			for post := range 4 {
				plain := strings.Repeat("P", pre) + canary + strings.Repeat("Q", post)
				got := r.Redact(enc.EncodeToString([]byte(plain)))
				if !strings.Contains(got, Placeholder) {
					t.Errorf("prefix %d, suffix %d: %q not redacted", pre, post, got)
				}
				rest := strings.ReplaceAll(got, Placeholder, "")
				if len(rest) > (pre+2)/3*4+4+(post+2)/3*4+4 {
					t.Errorf("prefix %d, suffix %d: too much left: %q", pre, post, got)
				}
			}
		}
	}
}

func TestRedactor_AddLeaves(t *testing.T) {
	g := NewWithT(t)
	r := New()
	r.AddLeaves(map[string]any{"db": map[string]any{"password": "hunter2-db", "port": 5432, "tls": true},
		"list": []any{"first-secret", map[string]any{"k": "nested-secret"}}, "short": "ab"})
	g.Expect(r.Len()).To(Equal(3))
	g.Expect(r.Redact("hunter2-db first-secret nested-secret 5432 true ab")).To(Equal("[redacted] [redacted] [redacted] 5432 true ab"))
}

func TestRedactor_AddSecret(t *testing.T) {
	g := NewWithT(t)
	auth := b64(base64.StdEncoding, "robot:registry-pass")
	docker := `{"auths":{"registry.example":{"username":"robot","password":"registry-pass","auth":"` + auth + `"}}}`
	r := New()
	r.AddSecret(map[string][]byte{".dockerconfigjson": []byte(docker)}, map[string]string{"token": "bearer-token-1"})
	g.Expect(r.Redact("pull failed for robot with registry-pass")).To(Equal("pull failed for [redacted] with [redacted]"))
	g.Expect(r.Redact("header Basic " + auth)).To(Equal("header Basic [redacted]"))
	g.Expect(r.Redact("token bearer-token-1")).To(Equal("token [redacted]"))
	g.Expect(r.Redact(docker)).To(Equal("[redacted]"))
}

func TestRedactor_Error(t *testing.T) {
	g := NewWithT(t)
	r := New()
	r.Add(canary)
	plain := errors.New("nothing secret")
	g.Expect(r.Error(plain)).To(BeIdenticalTo(plain))
	g.Expect(r.Error(nil)).To(Succeed())
	err := r.Error(fmt.Errorf("value %s: %w", canary, fs.ErrInvalid))
	g.Expect(err).To(MatchError("value [redacted]: invalid argument"))
	g.Expect(errors.Is(err, fs.ErrInvalid)).To(BeTrue())
}

func TestRedactor_nil(t *testing.T) {
	g := NewWithT(t)
	var r *Redactor
	r.Add(canary)
	g.Expect(r.Redact(canary)).To(Equal(canary))
	g.Expect(r.Len()).To(Equal(0))
	g.Expect(New().Redact(canary)).To(Equal(canary))
}

func TestRedactor_addAfterRedact(t *testing.T) {
	g := NewWithT(t)
	r := New()
	r.Add("first-secret")
	g.Expect(r.Redact("first-secret second-secret")).To(Equal("[redacted] second-secret"))
	r.Add("second-secret")
	g.Expect(r.Redact("first-secret second-secret")).To(Equal("[redacted] [redacted]"))
}

// FuzzRedactor_Redact checks that a registered value never survives in any text that embeds
// it, plainly or quoted.
func FuzzRedactor_Redact(f *testing.F) {
	f.Add("canary-value", "before ", " after")
	f.Add("p\"q\\r\nline", "{", "}")
	f.Fuzz(func(t *testing.T, secret, before, after string) {
		if len(secret) < MinLen {
			return
		}
		r := New()
		r.Add(secret)
		for _, text := range []string{before + secret + after, before + strconv.Quote(secret) + after} {
			if got := r.Redact(text); strings.Contains(got, secret) {
				t.Fatalf("%q survives in %q", secret, got)
			}
		}
	})
}

func TestRedactor_RedactCut(t *testing.T) {
	cases := map[string]struct {
		in, want string
	}{
		"a value cut in half before the marker": {in: "failed: canary-9f3b...", want: "failed: [redacted]..."},
		"a whole value before the marker":       {in: "failed: " + canary + "...", want: "failed: [redacted]..."},
		"a cut value and a whole one":           {in: canary + " and canary-9f...", want: "[redacted] and [redacted]..."},
		"a tail shorter than MinLen stays":      {in: "failed: can...", want: "failed: can..."},
		"no marker, no cut value":               {in: "failed: canary-9f3b", want: "failed: canary-9f3b"},
		"a cut base64 form":                     {in: "data: " + b64(base64.StdEncoding, canary)[:12] + "...", want: "data: [redacted]..."},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			r := New()
			r.Add(canary)
			NewWithT(t).Expect(r.RedactCut(tc.in, "...")).To(Equal(tc.want))
		})
	}
	NewWithT(t).Expect((*Redactor)(nil).RedactCut("x...", "...")).To(Equal("x..."))
}

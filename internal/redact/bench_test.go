package redact

import (
	"fmt"
	"strings"
	"testing"
)

// benchRedactor registers n values of 25 bytes sharing a prefix (the worst case of the index), as a reconcile with n secret leaves would.
func benchRedactor(n int) *Redactor {
	r := New()
	for i := range n {
		r.Add(fmt.Sprintf("secret-value-%04d-abcdefg", i))
	}
	return r
}

// benchMessage is a condition-sized message (about 1 KiB); with hit, it quotes one value.
func benchMessage(hit bool) string {
	msg := strings.Repeat("Deployment.apps \"web\" is invalid: spec.template.spec.containers[0].env[3].value: ", 12)
	if hit {
		msg += "secret-value-0007-abcdefg"
	}
	return msg
}

func BenchmarkRedact(b *testing.B) {
	for _, n := range []int{10, 100, 1000} {
		r := benchRedactor(n)
		for _, hit := range []bool{false, true} {
			msg := benchMessage(hit)
			b.Run(fmt.Sprintf("values=%d/hit=%t/bytes=%d", n, hit, len(msg)), func(b *testing.B) {
				r.Redact(msg) // build the index outside the loop
				b.SetBytes(int64(len(msg)))
				for b.Loop() {
					r.Redact(msg)
				}
			})
		}
	}
}

// BenchmarkRegister measures registering values and building the index once, the cost a
// reconcile pays before its first redacted message.
func BenchmarkRegister(b *testing.B) {
	for _, n := range []int{10, 100, 1000} {
		b.Run(fmt.Sprintf("values=%d", n), func(b *testing.B) {
			for b.Loop() {
				benchRedactor(n).Redact("x y z w")
			}
		})
	}
}

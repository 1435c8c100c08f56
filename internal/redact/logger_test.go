package redact

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/go-logr/logr"
	"github.com/go-logr/logr/funcr"
	. "github.com/onsi/gomega"
)

type withSecret struct{ Name, Token string }

func TestLogger(t *testing.T) {
	g := NewWithT(t)
	var lines []string
	base := funcr.New(func(prefix, args string) { lines = append(lines, prefix+" "+args) }, funcr.Options{Verbosity: 1})
	r := New()
	r.Add(canary)
	log := Logger(base, r).WithName("rel").WithValues("early", "with "+canary)
	log.Info("rendered "+canary, "value", canary, "count", 3, "obj", withSecret{Name: "web", Token: canary}, "plain", withSecret{Name: "web"})
	log.V(1).Info("debug", "bytes", []byte(canary))
	log.Error(errors.New("lookup returned "+canary), "failed", "err", fmt.Errorf("wrapped: %s", canary))
	g.Expect(lines).To(HaveLen(3))
	all := strings.Join(lines, "\n")
	g.Expect(all).NotTo(ContainSubstring(canary))
	g.Expect(lines[0]).To(ContainSubstring(`"msg"="rendered [redacted]"`))
	g.Expect(lines[0]).To(ContainSubstring(`"count"=3`))
	g.Expect(lines[0]).To(ContainSubstring(`"plain"={"Name"="web" "Token"=""}`)) // untouched, keeps its structure
	g.Expect(lines[0]).To(ContainSubstring(`"early"="with [redacted]"`))
	g.Expect(lines[2]).To(ContainSubstring(`"error"="lookup returned [redacted]"`))
	g.Expect(Logger(log, r)).To(Equal(log), "wrapping twice with the same Redactor is a no-op")
	g.Expect(Logger(base, nil)).To(Equal(base))
	g.Expect(Logger(logr.Discard(), r).Enabled()).To(BeFalse())
}

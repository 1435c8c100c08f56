package cli

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	. "github.com/onsi/gomega"
	"github.com/spf13/pflag"
)

func TestParseFormat(t *testing.T) {
	cases := map[string]struct {
		in      string
		want    Format
		wantErr bool
	}{
		"empty is table":           {in: "", want: FormatTable},
		"table":                    {in: "table", want: FormatTable},
		"json":                     {in: "json", want: FormatJSON},
		"case does not matter":     {in: "YAML", want: FormatYAML},
		"anything else is refused": {in: "wide", wantErr: true},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			got, err := ParseFormat(tc.in)
			if tc.wantErr {
				g.Expect(errors.Is(err, ErrInvalidArgument)).To(BeTrue(), "error %v", err)
				return
			}
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(got).To(Equal(tc.want))
		})
	}
}

func TestFormat_flag(t *testing.T) {
	g := NewWithT(t)
	f := FormatTable
	fs := pflag.NewFlagSet("x", pflag.ContinueOnError)
	fs.VarP(&f, "output", "o", "")
	g.Expect(fs.Parse([]string{"-o", "json"})).To(Succeed())
	g.Expect(f).To(Equal(FormatJSON))
	g.Expect(fs.Parse([]string{"-o", "xml"})).To(MatchError(ContainSubstring(`output format "xml"`)))
	var unset Format
	g.Expect(unset.String()).To(Equal("table"))
	g.Expect(unset.Type()).To(Equal("format"))
	g.Expect(Encode(&strings.Builder{}, FormatTable, 1)).To(MatchError(ErrInvalidArgument))
}

func FuzzParseFormat(f *testing.F) {
	for _, s := range []string{"", "table", "JSON", "yaml", "wide", "\x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := ParseFormat(s)
		if err != nil {
			if !errors.Is(err, ErrInvalidArgument) {
				t.Fatalf("ParseFormat(%q): error %v does not wrap ErrInvalidArgument", s, err)
			}
			return
		}
		if s != "" && !strings.EqualFold(s, string(got)) {
			t.Fatalf("ParseFormat(%q) = %q", s, got)
		}
	})
}

func newFlagSet() *pflag.FlagSet { return pflag.NewFlagSet("test", pflag.ContinueOnError) }

func TestWrite_tableOrEncoded(t *testing.T) {
	type point struct {
		X int `json:"x"`
	}
	table := func(w io.Writer, p point) error { _, err := fmt.Fprintf(w, "X=%d\n", p.X); return err }
	cases := map[string]struct {
		format Format
		want   string
	}{
		"table uses the command's own layout":      {FormatTable, "X=3\n"},
		"the empty format is table":                {"", "X=3\n"},
		"json is one line, as helm prints it":      {FormatJSON, `{"x":3}` + "\n"},
		"yaml is the same fields through sigs.k8s": {FormatYAML, "x: 3\n"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			var b strings.Builder
			g.Expect(Write(&b, tc.format, point{X: 3}, table)).To(Succeed())
			g.Expect(b.String()).To(Equal(tc.want))
		})
	}
}

package cli

import (
	"strings"
	"testing"

	. "github.com/onsi/gomega"
)

func TestTable_String(t *testing.T) {
	cases := map[string]struct {
		rows [][]any
		want string
	}{
		"no rows print nothing": {},
		"a header alone keeps its own widths": {
			rows: [][]any{{"REVISION", "UPDATED", "STATUS"}},
			want: "REVISION\tUPDATED\tSTATUS",
		},
		"every cell, the last included, is padded to its column and cells are tab separated": {
			rows: [][]any{{"REVISION", "STATUS", "DESCRIPTION"}, {1, "superseded", "Install complete"}, {12, "deployed", "x"}},
			want: "REVISION\tSTATUS    \tDESCRIPTION     \n" +
				"1       \tsuperseded\tInstall complete\n" +
				"12      \tdeployed  \tx               ",
		},
		"a multi-line cell spreads its row over several lines, other cells blank": {
			rows: [][]any{{"REV", "DESCRIPTION"}, {3, "ab\ncd"}, {4, "x"}},
			want: "REV\tDESCRIPTION\n" +
				"3  \tab         \n" +
				"   \tcd         \n" +
				"4  \tx          ",
		},
		"a multi-line cell wider in total than its widest line is cut with an ellipsis, as helm does": {
			rows: [][]any{{"REV", "DESCRIPTION"}, {3, "Upgrade \"web\" failed: line1\nline2"}, {4, "Rollback to 2"}},
			want: "REV\tDESCRIPTION                \n" +
				"3  \tUpgrade \"web\" failed: li...\n" +
				"4  \tRollback to 2              ",
		},
		"wide characters take two columns": {
			rows: [][]any{{"NAME", "X"}, {"日本", "y"}},
			want: "NAME\tX\n日本\ty",
		},
		"rows shorter than the header leave the missing columns out": {
			rows: [][]any{{"A", "B"}, {"long"}},
			want: "A   \tB\nlong",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			var tbl Table
			for _, r := range tc.rows {
				tbl.AddRow(r...)
			}
			g.Expect(tbl.String()).To(Equal(tc.want))
			var b strings.Builder
			g.Expect(tbl.Write(&b)).To(Succeed())
			g.Expect(b.String()).To(Equal(tc.want + "\n"))
		})
	}
}

func TestFit(t *testing.T) {
	cases := map[string]struct {
		in   string
		n    int
		want string
	}{
		"shorter text is padded":                      {in: "ab", n: 4, want: "ab  "},
		"text of the exact width is kept":             {in: "abcd", n: 4, want: "abcd"},
		"longer text keeps n-3 columns and ...":       {in: "abcdefgh", n: 6, want: "abc..."},
		"a tiny width still keeps one character":      {in: "abcdef", n: 2, want: "a..."},
		"a zero width leaves the text alone":          {in: "abc", n: 0, want: "abc"},
		"wide characters are cut on column, not rune": {in: "日本語です", n: 7, want: "日本..."},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			NewWithT(t).Expect(fit(tc.in, tc.n)).To(Equal(tc.want))
		})
	}
}

// FuzzTable checks that any cells lay out without panicking into lines that all have one tab
// fewer than the table has columns, and that a one-line cell that fits starts its part of the line.
func FuzzTable(f *testing.F) {
	f.Add("REVISION", "a\nb", "日本", "")
	f.Add("", "", "", "")
	f.Add("x\x00y", "\u0301", "long text that goes on", "\n\n")
	f.Fuzz(func(t *testing.T, a, b, c, d string) {
		clean := func(s string) string { return strings.ReplaceAll(s, "\t", " ") }
		a, b, c, d = clean(a), clean(b), clean(c), clean(d)
		var tbl Table
		tbl.AddRow("H1", "H2")
		tbl.AddRow(a, b)
		tbl.AddRow(c, d)
		out := tbl.String()
		for _, line := range strings.Split(out, "\n") {
			if got := strings.Count(line, "\t"); got != 1 {
				t.Fatalf("line %q has %d tabs, want 1\n%s", line, got, out)
			}
		}
		if !strings.HasPrefix(out, "H1") {
			t.Fatalf("the header is not first:\n%s", out)
		}
		if !strings.Contains(a, "\n") && !strings.Contains(b, "\n") && !strings.Contains(c, "\n") {
			lines := strings.Split(out, "\n")
			if len(lines) < 2 || !strings.HasPrefix(lines[1], a) {
				t.Fatalf("row 1 does not start with %q:\n%s", a, out)
			}
		}
	})
}

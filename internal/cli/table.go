package cli

import (
	"fmt"
	"io"
	"strings"
	"unicode"

	"golang.org/x/text/width"
)

// Table lays out rows the way the helm CLI prints its tables (history, list, status), so that
// scripts written against helm read Capstan's output too: each column is as wide as its widest
// line, every cell is padded with spaces to that width (the last one included), cells are
// separated by a tab, and a cell with several lines spreads the row over as many lines.
type Table struct {
	rows [][]string
}

// AddRow appends a row; each cell is formatted with %v.
func (t *Table) AddRow(cells ...any) {
	row := make([]string, len(cells))
	for i, c := range cells {
		row[i] = fmt.Sprintf("%v", c)
	}
	t.rows = append(t.rows, row)
}

// String returns the laid-out table without a final newline, or "" when it has no rows.
func (t *Table) String() string {
	widths := t.columnWidths()
	lines := make([]string, 0, len(t.rows))
	for _, row := range t.rows {
		lines = append(lines, layoutRow(row, widths)...)
	}
	return strings.Join(lines, "\n")
}

// Write writes the table and a newline to w.
func (t *Table) Write(w io.Writer) error {
	_, err := io.WriteString(w, t.String()+"\n")
	return err
}

// columnWidths returns the width of each column: that of its widest line.
func (t *Table) columnWidths() []int {
	var widths []int
	for _, row := range t.rows {
		for i, cell := range row {
			if i == len(widths) {
				widths = append(widths, 0)
			}
			for _, line := range strings.Split(cell, "\n") {
				widths[i] = max(widths[i], textWidth(line))
			}
		}
	}
	return widths
}

// layoutRow fits each cell to its column (whole cells wider than the column are cut, as helm's
// table does for a multi-line cell whose text is wider than its widest line), then splits the
// cells into lines and joins each line's cells with tabs.
func layoutRow(row []string, widths []int) []string {
	split := make([][]string, len(row))
	height := 1
	for i, cell := range row {
		split[i] = strings.Split(fit(cell, widths[i]), "\n")
		height = max(height, len(split[i]))
	}
	lines := make([]string, height)
	for l := range lines {
		parts := make([]string, len(row))
		for i := range row {
			part := ""
			if l < len(split[i]) {
				part = split[i][l]
			}
			parts[i] = fit(part, widths[i])
		}
		lines[l] = strings.Join(parts, "\t")
	}
	return lines
}

// fit pads s with spaces to width n, or cuts it to n-3 columns followed by "...".
func fit(s string, n int) string {
	w := textWidth(s)
	switch {
	case n <= 0 || w == n:
		return s
	case w < n:
		return s + strings.Repeat(" ", n-w)
	}
	var b strings.Builder
	used := 0
	for _, r := range s {
		b.WriteRune(r)
		rw := runeWidth(r)
		if used+rw >= n-3 {
			break
		}
		used += rw
	}
	b.WriteString("...")
	return b.String()
}

// textWidth returns how many terminal columns s takes.
func textWidth(s string) int {
	n := 0
	for _, r := range s {
		n += runeWidth(r)
	}
	return n
}

// runeWidth returns how many terminal columns r takes: none for control characters and
// combining marks, two for East Asian wide and fullwidth characters, one otherwise. It is close
// to what helm's table library computes; rare characters may differ.
func runeWidth(r rune) int {
	switch {
	case unicode.IsControl(r) || unicode.In(r, unicode.Mn, unicode.Me, unicode.Cf):
		return 0
	}
	switch width.LookupRune(r).Kind() {
	case width.EastAsianWide, width.EastAsianFullwidth:
		return 2
	}
	return 1
}

// Package docref reads the tables of the repository's Markdown documentation, so that tests can
// check that the documentation and the code name the same commands, flags and tests. It imports
// only the standard library.
package docref

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
)

// Path returns the absolute path of rel, a slash-separated path inside the repository.
func Path(rel string) string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "..", filepath.FromSlash(rel))
}

// ErrNoTable is returned when a heading has no table under it.
var ErrNoTable = errors.New("no table under the heading")

// Table returns the body rows (cells trimmed, header and separator dropped) of the first
// Markdown table below the heading whose text is heading ("## Manager flags" → "Manager flags"
// matches, at any level), before the next heading.
func Table(rel, heading string) ([][]string, error) {
	data, err := os.ReadFile(Path(rel))
	if err != nil {
		return nil, err
	}
	var rows [][]string
	in, seenHeader := false, false
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if text, ok := headingText(line); ok {
			if in && seenHeader {
				break
			}
			in = text == heading
			continue
		}
		if !in || !strings.HasPrefix(line, "|") {
			if in && seenHeader && line == "" && len(rows) > 0 {
				break
			}
			continue
		}
		if !seenHeader {
			seenHeader = true // the header row
			continue
		}
		cells := splitRow(line)
		if isSeparator(cells) {
			continue
		}
		rows = append(rows, cells)
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(rows) == 0 {
		return nil, fmt.Errorf("%w %q in %s", ErrNoTable, heading, rel)
	}
	return rows, nil
}

func headingText(line string) (string, bool) {
	if !strings.HasPrefix(line, "#") {
		return "", false
	}
	return strings.TrimSpace(strings.TrimLeft(line, "#")), true
}

// splitRow splits "| a | b \| c |" into its cells; an escaped pipe stays in its cell.
func splitRow(line string) []string {
	line = strings.TrimSuffix(strings.TrimPrefix(line, "|"), "|")
	var cells []string
	var cur strings.Builder
	for i := 0; i < len(line); i++ {
		switch {
		case line[i] == '\\' && i+1 < len(line) && line[i+1] == '|':
			cur.WriteByte('|')
			i++
		case line[i] == '|':
			cells = append(cells, strings.TrimSpace(cur.String()))
			cur.Reset()
		default:
			cur.WriteByte(line[i])
		}
	}
	return append(cells, strings.TrimSpace(cur.String()))
}

func isSeparator(cells []string) bool {
	for _, c := range cells {
		if strings.Trim(c, "-: ") != "" {
			return false
		}
	}
	return true
}

var codeSpan = regexp.MustCompile("`([^`]+)`")

// Code returns the `code` spans of a cell, in order.
func Code(cell string) []string {
	var spans []string
	for _, m := range codeSpan.FindAllStringSubmatch(cell, -1) {
		spans = append(spans, m[1])
	}
	return spans
}

// LongFlags returns the names of the `--long` flags a cell names (without the dashes).
func LongFlags(cell string) []string {
	var names []string
	for _, span := range Code(cell) {
		if name, ok := strings.CutPrefix(span, "--"); ok {
			names = append(names, name)
		}
	}
	return names
}

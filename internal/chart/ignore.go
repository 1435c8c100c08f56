package chart

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"path"
	"strings"
)

// IgnoreFile is the name of the file that lists paths the directory loader skips.
const IgnoreFile = ".helmignore"

// defaultIgnoreRule is always appended after the chart's own rules: dot-files under templates/.
const defaultIgnoreRule = "templates/.?*"

var utf8BOM = []byte{0xEF, 0xBB, 0xBF}

// ignoreRule is one line of a .helmignore file.
type ignoreRule struct {
	pattern string
	negate  bool // the line started with '!'
	dirOnly bool // the line ended with '/'
	whole   bool // match the whole relative path rather than its base name
}

// ignoreRules is a parsed .helmignore. Its semantics are Helm's, which are not gitignore's: see
// ignore for the negation rule.
type ignoreRules struct {
	rules []ignoreRule
}

// parseIgnore reads .helmignore rules, one per line, and appends the built-in default rule.
func parseIgnore(r io.Reader) (*ignoreRules, error) {
	rules := &ignoreRules{}
	scanner := bufio.NewScanner(r)
	first := true
	for scanner.Scan() {
		line := scanner.Bytes()
		if first {
			line = bytes.TrimPrefix(line, utf8BOM)
			first = false
		}
		if err := rules.add(string(line)); err != nil {
			return nil, err
		}
	}
	if err := scanner.Err(); err != nil {
		return nil, err
	}
	return rules, rules.add(defaultIgnoreRule)
}

// add parses one line. Blank lines and comments add nothing; "**" and malformed patterns fail.
func (r *ignoreRules) add(line string) error {
	line = strings.TrimSpace(line)
	if line == "" || strings.HasPrefix(line, "#") {
		return nil
	}
	if strings.Contains(line, "**") {
		return errors.New("double-star (**) syntax is not supported")
	}
	// A non-empty name makes Match check the whole pattern, so bad syntax is reported here.
	if _, err := path.Match(line, "abc"); err != nil {
		return err
	}
	rule := ignoreRule{}
	line, rule.negate = strings.CutPrefix(line, "!")
	line, rule.dirOnly = strings.CutSuffix(line, "/")
	var anchored bool
	line, anchored = strings.CutPrefix(line, "/")
	rule.whole = anchored || strings.Contains(line, "/")
	rule.pattern = line
	r.rules = append(r.rules, rule)
	return nil
}

// ignore reports whether the slash-separated relative path should be skipped. The first rule
// that decides wins. A negated rule decides "skip" for every path it does NOT match (and, for
// a directory-only rule, for every non-directory); a path it matches goes on to the next rule.
// So "!keep.txt" alone skips everything not named keep.txt: this is Helm's behaviour.
func (r *ignoreRules) ignore(name string, isDir bool) bool {
	if name == "" || name == "." || name == "./" {
		return false
	}
	for _, rule := range r.rules {
		if rule.negate {
			if (rule.dirOnly && !isDir) || !rule.matches(name) {
				return true
			}
			continue
		}
		if rule.dirOnly && !isDir {
			continue
		}
		if rule.matches(name) {
			return true
		}
	}
	return false
}

func (rule ignoreRule) matches(name string) bool {
	if !rule.whole {
		name = path.Base(name)
	}
	ok, err := path.Match(rule.pattern, name)
	return err == nil && ok
}

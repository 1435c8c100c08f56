package cli

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/capstan-dev/capstan/internal/manifest"
	"github.com/capstan-dev/capstan/internal/render"
)

// sourceLine finds the template path after the chart name in a "# Source:" line.
var sourceLine = regexp.MustCompile(`# Source: [^/]+/(.+)`)

// templateOutput prints or writes a rendered release the way `helm template` does.
type templateOutput struct {
	opts    *templateOptions
	stdout  io.Writer
	written map[string]bool
}

func (t *templateOutput) print(res *render.Result) error {
	var b strings.Builder
	if err := t.manifests(&b, res); err != nil {
		return err
	}
	if err := t.hooks(&b, res); err != nil {
		return err
	}
	if len(t.opts.showOnly) > 0 {
		return t.showOnly(b.String())
	}
	_, err := io.WriteString(t.stdout, b.String())
	return err
}

// manifests appends the release manifest (trimmed, one trailing newline), or writes its
// documents under --output-dir and appends only the newline.
func (t *templateOutput) manifests(b *strings.Builder, res *render.Result) error {
	if t.opts.outputDir == "" {
		b.WriteString(strings.TrimSpace(res.Manifest()))
		b.WriteByte('\n')
		return nil
	}
	t.written = map[string]bool{}
	if t.opts.includeCRDs {
		for _, crd := range res.CRDs {
			if err := t.writeOnce(crd.Name, string(crd.Data)); err != nil {
				return err
			}
		}
	}
	for _, m := range res.Manifests {
		if err := t.writeOnce(m.Name, m.Content); err != nil {
			return err
		}
	}
	b.WriteByte('\n')
	return nil
}

// hooks appends (or writes) every hook unless --no-hooks; --skip-tests drops test hooks.
func (t *templateOutput) hooks(b *strings.Builder, res *render.Result) error {
	if t.opts.noHooks {
		return nil
	}
	for _, h := range res.Hooks {
		if t.opts.skipTests && h.IsTest() {
			continue
		}
		if t.opts.outputDir == "" {
			manifest.WriteDocument(b, h.Path, h.Manifest)
			continue
		}
		// Helm appends a hook to a file that already exists on disk, even from an earlier run.
		_, statErr := os.Stat(filepath.Join(t.opts.outputDir, h.Path))
		if err := t.writeFile(h.Path, h.Manifest, statErr == nil); err != nil {
			return err
		}
	}
	return nil
}

// writeOnce writes a document, truncating its file the first time this run writes that name
// and appending afterwards.
func (t *templateOutput) writeOnce(name, data string) error {
	if err := t.writeFile(name, data, t.written[name]); err != nil {
		return err
	}
	t.written[name] = true
	return nil
}

// writeFile writes one framed document to <output-dir>/<name> and reports it on stdout.
func (t *templateOutput) writeFile(name, data string, appendData bool) error {
	target := t.opts.outputDir + string(filepath.Separator) + name
	if err := checkInside(t.opts.outputDir, target); err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
		return err
	}
	flags := os.O_CREATE | os.O_TRUNC | os.O_WRONLY
	if appendData {
		flags = os.O_APPEND | os.O_WRONLY
	}
	f, err := os.OpenFile(target, flags, 0o644) //nolint:gosec // Rendered manifests are meant to be read by other tools, as helm writes them.
	if err != nil {
		return err
	}
	_, err = io.WriteString(f, manifest.SourceHeader(name)+data+"\n")
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(t.stdout, "wrote %s\n", target)
	return err
}

var errOutsideOutputDir = errors.New("template path leaves the output directory")

func checkInside(dir, target string) error {
	rel, err := filepath.Rel(dir, target)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return fmt.Errorf("%w: %s", errOutsideOutputDir, target)
	}
	return nil
}

// showOnly re-splits the output and prints the documents whose source path (after the chart
// name) matches one of the --show-only patterns, pattern by pattern.
func (t *templateOutput) showOnly(output string) error {
	docs := manifest.Split(output)
	var b strings.Builder
	for _, pattern := range t.opts.showOnly {
		pattern = filepath.ToSlash(pattern)
		found := false
		for _, d := range docs {
			m := sourceLine.FindStringSubmatch(d)
			if m == nil {
				continue
			}
			if ok, _ := filepath.Match(pattern, m[1]); ok {
				b.WriteString("---\n" + d + "\n")
				found = true
			}
		}
		if !found {
			return fmt.Errorf("could not find template %s in chart", pattern)
		}
	}
	_, err := io.WriteString(t.stdout, b.String())
	return err
}

package chart

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// LoadDir loads an unpacked chart directory. It applies the chart's .helmignore (and the built-in
// rule templates/.?*), follows symbolic links that stay inside the chart, and rejects links that
// leave it, link cycles and irregular files (devices, sockets, FIFOs). Every file is read through
// the limits: no file above MaxFileSize, no more than MaxDecompressedSize in all.
func LoadDir(dir string, lim Limits) (*Chart, error) {
	b := newBudget(lim)
	top, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	root, err := filepath.EvalSymlinks(top)
	if err != nil {
		return nil, err
	}
	w := &dirWalker{root: root, budget: b}
	head, err := w.readRootFile(chartFileName)
	if err != nil {
		return nil, fmt.Errorf("unable to detect chart at %s: %w", filepath.Join(top, chartFileName), err)
	}
	if err := checkAPIVersion(head); err != nil {
		return nil, err
	}
	if w.rules, err = w.loadIgnoreRules(); err != nil {
		return nil, err
	}
	if err := w.walkDir(root, "", []string{root}); err != nil {
		return nil, err
	}
	return loadFiles(w.files, b, 0)
}

// dirWalker collects the files of a chart directory in lexical order, depth first.
type dirWalker struct {
	root   string // the chart directory with every symbolic link resolved
	rules  *ignoreRules
	budget *budget
	files  []*bufferedFile
}

// loadIgnoreRules parses the chart's .helmignore, or gives the default rules when there is none.
func (w *dirWalker) loadIgnoreRules() (*ignoreRules, error) {
	data, err := w.readRootFile(IgnoreFile)
	if errors.Is(err, fs.ErrNotExist) {
		data, err = nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("cannot load %s: %w", IgnoreFile, err)
	}
	return parseIgnore(bytes.NewReader(data))
}

// readRootFile reads a file at the chart root before the walk (Chart.yaml, .helmignore) with the
// same safety checks the walk applies.
func (w *dirWalker) readRootFile(name string) ([]byte, error) {
	resolved, fi, err := resolve(filepath.Join(w.root, name))
	if err != nil {
		return nil, err
	}
	if err := w.checkSafe(name, resolved, fi); err != nil {
		return nil, err
	}
	data, tooLong, err := readLimited(resolved, fi.Size(), w.budget.lim.MaxFileSize)
	if err == nil && tooLong {
		err = errorOf(ErrLimitExceeded, "chart file %q is larger than the maximum file size %d", name, w.budget.lim.MaxFileSize)
	}
	return trimBOM(data), err
}

// checkSafe refuses a resolved entry outside the chart, and a non-directory that is not a
// regular file.
func (w *dirWalker) checkSafe(name, resolved string, fi fs.FileInfo) error {
	if !within(w.root, resolved) {
		return errorOf(ErrUnsafePath, "symbolic link %s points outside the chart directory", name)
	}
	if !fi.IsDir() && !fi.Mode().IsRegular() {
		return errorOf(ErrUnsafePath, "cannot load irregular file %s as it has file mode type bits set", name)
	}
	return nil
}

// walkDir visits the entries of the resolved directory dir, known to the chart as rel. ancestors
// are the real paths of the directories being walked, to catch links that loop back.
func (w *dirWalker) walkDir(dir, rel string, ancestors []string) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	names := make([]string, 0, len(entries))
	for _, e := range entries {
		names = append(names, e.Name())
	}
	slices.Sort(names)
	for _, name := range names {
		childRel := name
		if rel != "" {
			childRel = rel + "/" + name
		}
		if err := w.visit(filepath.Join(dir, name), childRel, ancestors); err != nil {
			return err
		}
	}
	return nil
}

// visit handles one entry: it resolves a link, applies the ignore rules to the entry's own path
// with the target's type, and only then checks the target is safe to read.
func (w *dirWalker) visit(name, rel string, ancestors []string) error {
	resolved, fi, err := resolve(name)
	if err != nil {
		return err
	}
	if w.rules.ignore(rel, fi.IsDir()) {
		return nil
	}
	if err := w.checkSafe(name, resolved, fi); err != nil {
		return err
	}
	if err := w.budget.takeEntry(); err != nil {
		return err
	}
	if !fi.IsDir() {
		return w.readFile(resolved, rel, fi.Size())
	}
	if slices.Contains(ancestors, resolved) {
		return errorOf(ErrUnsafePath, "symbolic link %s makes a cycle", name)
	}
	return w.walkDir(resolved, rel, append(ancestors[:len(ancestors):len(ancestors)], resolved))
}

// resolve returns the real path of name and what it points at, following symbolic links.
func resolve(name string) (string, fs.FileInfo, error) {
	fi, err := os.Lstat(name)
	if err != nil {
		return "", nil, err
	}
	if fi.Mode()&fs.ModeSymlink == 0 {
		return name, fi, nil
	}
	resolved, err := filepath.EvalSymlinks(name)
	if err != nil {
		return "", nil, fmt.Errorf("error evaluating symlink %s: %w", name, err)
	}
	fi, err = os.Lstat(resolved)
	if err != nil {
		return "", nil, err
	}
	return resolved, fi, nil
}

// within reports whether the real path p is root or lies below it.
func within(root, p string) bool {
	return p == root || strings.HasPrefix(p, root+string(filepath.Separator))
}

// readFile reads one regular file against the per-file and total limits. The read itself is
// capped, so a file that grows after it was listed cannot take more memory than allowed.
func (w *dirWalker) readFile(name, rel string, size int64) error {
	lim := w.budget.lim
	if size > lim.MaxFileSize {
		return w.fileTooBig(rel)
	}
	if !w.budget.fits(size) {
		return w.overBudget(rel)
	}
	data, tooLong, err := readLimited(name, size, min(lim.MaxFileSize, w.budget.bytesLeft))
	switch {
	case err != nil:
		return fmt.Errorf("error reading %s: %w", rel, err)
	case tooLong && int64(len(data)) > lim.MaxFileSize:
		return w.fileTooBig(rel)
	case tooLong:
		return w.overBudget(rel)
	}
	w.budget.take(int64(len(data)))
	w.files = append(w.files, &bufferedFile{Name: rel, Data: trimBOM(data)})
	return nil
}

func (w *dirWalker) fileTooBig(rel string) error {
	return errorOf(ErrLimitExceeded, "chart file %q is larger than the maximum file size %d", rel, w.budget.lim.MaxFileSize)
}

func (w *dirWalker) overBudget(rel string) error {
	return fmt.Errorf("error reading %s: %w", rel, errorOf(ErrLimitExceeded,
		"chart exceeds maximum decompressed size of %d bytes", w.budget.lim.MaxDecompressedSize))
}

// readLimited reads at most limit bytes of a file, expecting about size of them. For a longer
// file it reports tooLong, with the first limit+1 bytes.
func readLimited(name string, size, limit int64) (data []byte, tooLong bool, err error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, false, err
	}
	defer func() { _ = f.Close() }()
	data, err = readAll(io.LimitReader(f, min(limit, math.MaxInt64-1)+1), max(0, min(size, limit))+1)
	if err != nil {
		return nil, false, err
	}
	return data, int64(len(data)) > limit, nil
}

// readAll is io.ReadAll starting from a buffer of capHint bytes, so a file of the expected size is
// read with a single allocation.
func readAll(r io.Reader, capHint int64) ([]byte, error) {
	data := make([]byte, 0, capHint)
	for {
		if len(data) == cap(data) {
			data = append(data, 0)[:len(data)]
		}
		n, err := r.Read(data[len(data):cap(data)])
		data = data[:len(data)+n]
		if errors.Is(err, io.EOF) {
			return data, nil
		}
		if err != nil {
			return nil, err
		}
	}
}

func trimBOM(data []byte) []byte { return bytes.TrimPrefix(data, utf8BOM) }

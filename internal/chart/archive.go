package chart

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"path"
	"regexp"
	"strings"
)

// drivePath matches a Windows drive letter left over after path cleaning, e.g. "c:/x".
var drivePath = regexp.MustCompile(`^[a-zA-Z]:/`)

// bufferedFile is one file of a chart being loaded, named relative to the chart root.
type bufferedFile struct {
	Name string
	Data []byte
}

// LoadArchive loads a gzipped chart archive from a stream, reading at most MaxArchiveSize bytes.
// Archive-level failures read "unable to load chart archive: <cause>", as in Helm v4, and a
// stream that is not gzip reads "stream does not appear to be a valid chart file (details: …)".
func LoadArchive(r io.Reader, lim Limits) (*Chart, error) {
	return loadRootArchive(r, newBudget(lim), func(err error) error {
		return fmt.Errorf("stream does not appear to be a valid chart file (details: %w)", err)
	})
}

// LoadBytes loads a gzipped chart archive held in memory.
func LoadBytes(b []byte, lim Limits) (*Chart, error) {
	return LoadArchive(bytes.NewReader(b), lim)
}

// loadRootArchive unpacks a root archive, checks its apiVersion and builds the chart tree.
// notGzip words the error for input that has no gzip header.
func loadRootArchive(r io.Reader, b *budget, notGzip func(error) error) (*Chart, error) {
	files, err := readArchive(r, b)
	if errors.Is(err, gzip.ErrHeader) {
		return nil, notGzip(err)
	}
	if err != nil {
		return nil, fmt.Errorf("unable to load chart archive: %w", err)
	}
	chartYAML := findFile(files, chartFileName)
	if chartYAML == nil {
		return nil, errors.New("unable to detect chart version, no Chart.yaml found")
	}
	if err := checkAPIVersion(chartYAML.Data); err != nil {
		return nil, err
	}
	return loadFiles(files, b, 0)
}

// readArchive unpacks a gzipped tar into memory, charging every entry and byte to b. It strips
// the top folder of each entry, rejects entries that escape the chart or are not regular files,
// and stops as soon as a limit is crossed, whatever the tar headers claim.
func readArchive(r io.Reader, b *budget) ([]*bufferedFile, error) {
	compressed := &cappedReader{r: r, max: b.lim.MaxArchiveSize, err: errorOf(ErrLimitExceeded,
		"chart archive is larger than the maximum archive size %d", b.lim.MaxArchiveSize)}
	gz, err := gzip.NewReader(compressed)
	if err != nil {
		return nil, err
	}
	defer func() { _ = gz.Close() }()
	stream := &cappedReader{r: gz, max: b.streamAllowance(), err: errTooLarge(b)}
	u := &unpacker{budget: b, tr: tar.NewReader(stream), seen: map[string]bool{}}
	for {
		done, err := u.next()
		if err != nil {
			return nil, err
		}
		if done {
			break
		}
	}
	if len(u.files) == 0 {
		return nil, errors.New("no files in chart archive")
	}
	return u.files, nil
}

func errTooLarge(b *budget) error {
	return errorOf(ErrLimitExceeded, "decompressed chart is larger than the maximum size %d", b.lim.MaxDecompressedSize)
}

// unpacker holds the state of one archive being read.
type unpacker struct {
	budget *budget
	tr     *tar.Reader
	top    string
	seen   map[string]bool
	files  []*bufferedFile
}

// next reads one tar entry; it reports true at the end of the archive.
func (u *unpacker) next() (bool, error) {
	hd, err := u.tr.Next()
	if errors.Is(err, io.EOF) {
		return true, nil
	}
	if err != nil {
		return false, err
	}
	if err := u.budget.takeEntry(); err != nil {
		return false, err
	}
	if hd.FileInfo().IsDir() || hd.Typeflag == tar.TypeXGlobalHeader || hd.Typeflag == tar.TypeXHeader {
		return false, nil
	}
	name, err := u.entryName(hd.Name)
	if err != nil {
		return false, err
	}
	if err := checkEntryType(hd); err != nil {
		return false, err
	}
	data, err := u.readEntry(hd, name)
	if err != nil {
		return false, err
	}
	u.files = append(u.files, &bufferedFile{Name: name, Data: trimBOM(data)})
	return false, nil
}

// entryName turns a tar entry name into a path relative to the chart root: the first segment
// (the chart's folder) is dropped, `\` separators are normalised, and the checks and messages
// are Helm's. Capstan also rejects names mixing `\` and `/`, entries under different top
// folders, and duplicate entries.
func (u *unpacker) entryName(raw string) (string, error) {
	sep := "/"
	if strings.Contains(raw, `\`) {
		if strings.Contains(raw, "/") {
			return "", errorOf(ErrUnsafeArchive, "chart contains illegally named files")
		}
		sep = `\`
	}
	parts := strings.Split(raw, sep)
	name := strings.ReplaceAll(strings.Join(parts[1:], sep), sep, "/")
	if err := checkEntryPath(raw, name, parts[0]); err != nil {
		return "", err
	}
	name = path.Clean(name)
	if u.top == "" {
		u.top = parts[0]
	}
	if parts[0] != u.top {
		return "", errorOf(ErrUnsafeArchive, "chart archive has more than one top-level folder: %q and %q", u.top, parts[0])
	}
	if u.seen[name] {
		return "", errorOf(ErrUnsafeArchive, "chart archive contains %q more than once", name)
	}
	u.seen[name] = true
	return name, nil
}

// checkEntryPath applies Helm's path checks to an entry name with its top folder removed.
func checkEntryPath(raw, name, top string) error {
	if path.IsAbs(name) {
		return errorOf(ErrUnsafeArchive, "chart illegally contains absolute paths")
	}
	name = path.Clean(name)
	switch {
	case name == ".":
		return errorOf(ErrUnsafeArchive, "chart illegally contains content outside the base directory: %q", raw)
	case strings.HasPrefix(name, ".."):
		return errorOf(ErrUnsafeArchive, "chart illegally references parent directory")
	case drivePath.MatchString(name):
		return errorOf(ErrUnsafeArchive, "chart contains illegally named files")
	case top == chartFileName:
		return errorOf(ErrUnsafeArchive, "chart yaml not in base directory")
	}
	return nil
}

// checkEntryType accepts regular files only: links and devices could point a later reader at
// anything on the host (Helm CVE-2019-18658, CVE-2025-53547).
func checkEntryType(hd *tar.Header) error {
	var kind string
	switch hd.Typeflag {
	case tar.TypeReg: // The tar reader already turns the legacy TypeRegA into TypeReg.
		return nil
	case tar.TypeSymlink:
		kind = "a symbolic link"
	case tar.TypeLink:
		kind = "a hard link"
	case tar.TypeChar, tar.TypeBlock:
		kind = "a device"
	case tar.TypeFifo:
		kind = "a FIFO"
	default:
		kind = fmt.Sprintf("an entry of unsupported type %q", hd.Typeflag)
	}
	return errorOf(ErrUnsafeArchive, "chart illegally contains %s: %q", kind, hd.Name)
}

// readEntry reads one file, checking the header's size before allocating and the bytes actually
// present after; a header that promises more than the stream holds fails too.
func (u *unpacker) readEntry(hd *tar.Header, name string) ([]byte, error) {
	lim := u.budget.lim
	if hd.Size > lim.MaxFileSize {
		return nil, errorOf(ErrLimitExceeded, "decompressed chart file %q is larger than the maximum file size %d", name, lim.MaxFileSize)
	}
	if !u.budget.fits(hd.Size) {
		return nil, errTooLarge(u.budget)
	}
	data := make([]byte, hd.Size)
	if _, err := io.ReadFull(u.tr, data); err != nil {
		return nil, err
	}
	u.budget.take(hd.Size)
	return data, nil
}

// cappedReader fails with err once more than max bytes have been read through it.
type cappedReader struct {
	r   io.Reader
	max int64
	n   int64
	err error
}

func (c *cappedReader) Read(p []byte) (int, error) {
	if c.n > c.max {
		return 0, c.err
	}
	if room := c.max - c.n; room < int64(len(p)) {
		p = p[:room+1] // One byte past the cap is enough to know it was crossed.
	}
	n, err := c.r.Read(p)
	c.n += int64(n)
	if c.n > c.max {
		return 0, c.err
	}
	return n, err
}

func findFile(files []*bufferedFile, name string) *bufferedFile {
	for _, f := range files {
		if f.Name == name {
			return f
		}
	}
	return nil
}

package chart

import "math"

// Default limits, sized to the anchors in hardening.md: Flux's 10 MiB chart, Helm's 100 MiB
// decompressed chart and 5 MiB file, and a 20,000-entry cap against archives of tiny files.
const (
	DefaultMaxArchiveSize      int64 = 10 << 20
	DefaultMaxDecompressedSize int64 = 100 << 20
	DefaultMaxFileSize         int64 = 5 << 20
	DefaultMaxEntries                = 20000
)

// MaxSubchartDepth is how deep subcharts may nest under charts/ (the root chart is depth 0).
// Real charts stay below five levels; the cap stops archives nested inside archives from
// costing quadratic work.
const MaxSubchartDepth = 20

// entryOverhead is the tar stream allowance per entry (header, padding, long-name records) on
// top of the file bytes, so that bytes which never reach a file are bounded too.
const entryOverhead = 2048

// Limits bounds every byte a load reads. A field that is zero or negative takes its default, so
// the zero value is safe to use.
type Limits struct {
	// MaxArchiveSize caps the compressed bytes of a chart archive.
	MaxArchiveSize int64
	// MaxDecompressedSize caps the bytes of all files of a chart together, subcharts included.
	MaxDecompressedSize int64
	// MaxFileSize caps the bytes of any one file.
	MaxFileSize int64
	// MaxEntries caps the number of files and directories of a chart, subcharts included.
	MaxEntries int
}

// DefaultLimits returns the limits Capstan applies unless configured otherwise: 10 MiB archive,
// 100 MiB decompressed, 5 MiB per file, 20,000 entries.
func DefaultLimits() Limits {
	return Limits{
		MaxArchiveSize:      DefaultMaxArchiveSize,
		MaxDecompressedSize: DefaultMaxDecompressedSize,
		MaxFileSize:         DefaultMaxFileSize,
		MaxEntries:          DefaultMaxEntries,
	}
}

func (l Limits) withDefaults() Limits {
	d := DefaultLimits()
	if l.MaxArchiveSize <= 0 {
		l.MaxArchiveSize = d.MaxArchiveSize
	}
	if l.MaxDecompressedSize <= 0 {
		l.MaxDecompressedSize = d.MaxDecompressedSize
	}
	if l.MaxFileSize <= 0 {
		l.MaxFileSize = d.MaxFileSize
	}
	if l.MaxEntries <= 0 {
		l.MaxEntries = d.MaxEntries
	}
	return l
}

// budget is what is left of the limits during one load. One budget is shared by the whole chart
// tree, nested archives included, so nesting cannot multiply the memory a load may use.
type budget struct {
	lim         Limits
	bytesLeft   int64
	entriesLeft int
}

func newBudget(lim Limits) *budget {
	lim = lim.withDefaults()
	return &budget{lim: lim, bytesLeft: lim.MaxDecompressedSize, entriesLeft: lim.MaxEntries}
}

// takeEntry charges one file or directory.
func (b *budget) takeEntry() error {
	if b.entriesLeft <= 0 {
		return errorOf(ErrLimitExceeded, "chart has more than the maximum of %d files and directories", b.lim.MaxEntries)
	}
	b.entriesLeft--
	return nil
}

// fits reports whether n more bytes stay inside the total budget.
func (b *budget) fits(n int64) bool { return n <= b.bytesLeft }

func (b *budget) take(n int64) { b.bytesLeft -= n }

// streamAllowance is how many decompressed tar bytes an archive may stream: the bytes its files
// may still take plus a fixed overhead for each entry it may still hold.
func (b *budget) streamAllowance() int64 {
	overhead := int64(b.entriesLeft+2) * entryOverhead
	if b.bytesLeft > math.MaxInt64-overhead {
		return math.MaxInt64
	}
	return b.bytesLeft + overhead
}

package docref

import (
	"os"
	"path/filepath"
	"testing"

	. "github.com/onsi/gomega"
)

func TestTable_readsTheTableUnderItsHeading(t *testing.T) {
	g := NewWithT(t)
	dir := t.TempDir()
	doc := "# Title\n\n| a | b |\n|---|---|\n| x | y |\n\n## Flags\n\nSome prose.\n\n" +
		"| flag | default |\n|---|---|\n| `--one` | `1` |\n| `--two`, `-t`/`--three` | a \\| b |\n\n## Next\n\n| z | z |\n|---|---|\n| q | q |\n"
	g.Expect(os.WriteFile(filepath.Join(dir, "doc.md"), []byte(doc), 0o600)).To(Succeed())
	rel, err := filepath.Rel(Path(""), filepath.Join(dir, "doc.md"))
	g.Expect(err).NotTo(HaveOccurred())

	rows, err := Table(filepath.ToSlash(rel), "Flags")
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(rows).To(Equal([][]string{{"`--one`", "`1`"}, {"`--two`, `-t`/`--three`", "a | b"}}))
	g.Expect(LongFlags(rows[1][0])).To(Equal([]string{"two", "three"}))
	g.Expect(Code(rows[1][0])).To(Equal([]string{"--two", "-t", "--three"}))

	_, err = Table(filepath.ToSlash(rel), "Missing")
	g.Expect(err).To(MatchError(ErrNoTable))
}

func TestPath_isInsideTheRepository(t *testing.T) {
	_, err := os.Stat(Path("go.mod"))
	NewWithT(t).Expect(err).NotTo(HaveOccurred())
}

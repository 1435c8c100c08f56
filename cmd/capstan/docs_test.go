package main

import (
	"slices"
	"strings"
	"testing"

	. "github.com/onsi/gomega"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/capstan-dev/capstan/internal/testenv/docref"
)

// TestDocs_everyCommandAndFlag checks docs/reference.md against the command tree: every command
// has a row, the row lists exactly the command's own flags (inherited ones on the parent's row),
// and no row names a command that does not exist.
func TestDocs_everyCommandAndFlag(t *testing.T) {
	g := NewWithT(t)
	rows, err := docref.Table("docs/reference.md", "CLI (`cmd/capstan`)")
	g.Expect(err).NotTo(HaveOccurred())
	documented := map[string][]string{} // command path → flags of its row
	for _, row := range rows {
		spans := docref.Code(row[0])
		g.Expect(spans).NotTo(BeEmpty(), "row %q names no command", row[0])
		documented[commandPath(spans[0])] = docref.LongFlags(row[1])
	}
	commands := map[string]*cobra.Command{}
	walkCommands(newRootCmd(), func(c *cobra.Command) {
		if c.HasParent() {
			commands[c.CommandPath()] = c
		}
	})
	for path, c := range commands {
		t.Run(path, func(t *testing.T) {
			g := NewWithT(t)
			flags, ok := documented[path]
			g.Expect(ok).To(BeTrue(), "docs/reference.md has no row for %q", path)
			g.Expect(sorted(flags)).To(Equal(ownFlags(c)), "the flags of %q in docs/reference.md", path)
		})
	}
	for path := range documented {
		g.Expect(commands).To(HaveKey(path), "docs/reference.md documents %q, which does not exist", path)
	}
}

// commandPath cuts the arguments off a usage line: "capstan get values RELEASE" → "capstan get values".
func commandPath(usage string) string {
	var words []string
	for _, w := range strings.Fields(usage) {
		if strings.ToLower(w) != w || strings.ContainsAny(w, "[]<>.") {
			break
		}
		words = append(words, w)
	}
	return strings.Join(words, " ")
}

func walkCommands(c *cobra.Command, visit func(*cobra.Command)) {
	visit(c)
	for _, sub := range c.Commands() {
		walkCommands(sub, visit)
	}
}

// ownFlags are the flags a command defines itself, sorted; inherited ones belong to the parent.
func ownFlags(c *cobra.Command) []string {
	names := []string{}
	c.LocalNonPersistentFlags().VisitAll(func(f *pflag.Flag) { names = append(names, f.Name) })
	c.PersistentFlags().VisitAll(func(f *pflag.Flag) { names = append(names, f.Name) })
	return sorted(names)
}

func sorted(s []string) []string {
	out := append([]string{}, s...)
	slices.Sort(out)
	return slices.Compact(out)
}

func TestCommandPath_cutsArguments(t *testing.T) {
	g := NewWithT(t)
	g.Expect(commandPath("capstan get values RELEASE")).To(Equal("capstan get values"))
	g.Expect(commandPath("capstan template [NAME] CHART")).To(Equal("capstan template"))
	g.Expect(commandPath("capstan lint CHART...")).To(Equal("capstan lint"))
	g.Expect(commandPath("capstan repo")).To(Equal("capstan repo"))
}

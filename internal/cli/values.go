package cli

import (
	"fmt"
	"io"

	"github.com/capstan-dev/capstan/internal/chart"
	"github.com/capstan-dev/capstan/internal/storage"
	"github.com/capstan-dev/capstan/internal/values"
)

// Values returns the values of a revision as `helm get values` does: the user-supplied values
// (the record's config), or with all set the computed values — the chart defaults stored in the
// record coalesced under the config with internal/values, Helm's rules included (a null in the
// config deletes a default, nulls among the defaults are dropped). Records keep only the parent
// chart's defaults, so subchart defaults are not part of the result (nor are they in Helm's).
func Values(rec *storage.Release, all bool) (map[string]any, error) {
	if !all {
		return rec.Config, nil
	}
	md := rec.Chart.Metadata
	if md == nil {
		md = &chart.Metadata{Name: rec.Name}
	}
	ch := &chart.Chart{Metadata: md, Values: rec.Chart.Values}
	out, err := values.Coalesce(ch, rec.Config)
	if err != nil {
		return nil, fmt.Errorf("computing the values of revision %d: %w", rec.Version, err)
	}
	return out, nil
}

// WriteValues prints values in format f. The table format is helm's: a heading, USER-SUPPLIED
// VALUES or COMPUTED VALUES, then YAML ("null" when there are none).
func WriteValues(w io.Writer, f Format, vals map[string]any, all bool) error {
	if f != FormatTable {
		return Encode(w, f, vals)
	}
	heading := "USER-SUPPLIED VALUES:"
	if all {
		heading = "COMPUTED VALUES:"
	}
	if _, err := fmt.Fprintln(w, heading); err != nil {
		return err
	}
	return Encode(w, FormatYAML, vals)
}

// RevisionText is what `get manifest` and `get notes` print with -o json|yaml: one text part of a
// revision with the revision it came from.
type RevisionText struct {
	// Release is the Helm release name; Revision the record's number.
	Release  string `json:"release"`
	Revision int    `json:"revision"`
	// Manifest or Notes is the part asked for (the other is left out).
	Manifest string `json:"manifest,omitempty"`
	Notes    string `json:"notes,omitempty"`
}

// WriteManifest prints a revision's manifest as `helm get manifest` does, or as a RevisionText.
func WriteManifest(w io.Writer, f Format, rec *storage.Release) error {
	return Write(w, f, RevisionText{Release: rec.Name, Revision: rec.Version, Manifest: rec.Manifest},
		func(w io.Writer, r RevisionText) error {
			_, err := fmt.Fprintln(w, r.Manifest)
			return err
		})
}

// WriteNotes prints a revision's notes as `helm get notes` does (nothing when it has none), or
// as a RevisionText.
func WriteNotes(w io.Writer, f Format, rec *storage.Release) error {
	return Write(w, f, RevisionText{Release: rec.Name, Revision: rec.Version, Notes: rec.Info.Notes},
		func(w io.Writer, r RevisionText) error {
			if r.Notes == "" {
				return nil
			}
			_, err := fmt.Fprintf(w, "NOTES:\n%s\n", r.Notes)
			return err
		})
}

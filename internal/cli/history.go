package cli

import (
	"fmt"
	"io"
	"time"

	"github.com/capstan-dev/capstan/internal/storage"
)

// DefaultHistoryMax is how many revisions `capstan history` lists by default, as `helm history`.
const DefaultHistoryMax = 256

// missing is what helm prints for the chart and app version of a record without chart metadata.
const missing = "MISSING"

// HistoryEntry is one revision in `capstan history`, with the JSON and YAML keys of `helm
// history -o json`.
type HistoryEntry struct {
	// Revision is the revision number.
	Revision int `json:"revision"`
	// Updated is when the revision was deployed or attempted; left out when unknown.
	Updated time.Time `json:"updated,omitzero"`
	// Status is the revision's status, as Helm names it.
	Status string `json:"status"`
	// Chart is <chart name>-<chart version>.
	Chart string `json:"chart"`
	// AppVersion is the chart's appVersion.
	AppVersion string `json:"app_version"`
	// RollbackRevision is the revision a rollback restored; left out for other revisions.
	RollbackRevision int `json:"rollback_revision,omitempty"`
	// Description is the record's description, or why the record cannot be read.
	Description string `json:"description"`
}

// History returns the newest limit revisions of records (sorted oldest first, as
// storage.Store.List returns them), oldest first. limit <= 0 lists none, as in helm.
func History(records []*storage.Release, limit int) []HistoryEntry {
	start := max(0, len(records)-max(0, limit))
	out := make([]HistoryEntry, 0, len(records)-start)
	for _, r := range records[start:] {
		out = append(out, historyEntry(r))
	}
	return out
}

// historyEntry summarises one record. A record that cannot be decoded is listed with status
// unknown and the decoding error as its description (helm skips it silently).
func historyEntry(r *storage.Release) HistoryEntry {
	e := HistoryEntry{Revision: r.Version, Updated: r.Info.LastDeployed, Status: r.Info.Status.String(),
		Chart: missing, AppVersion: missing, RollbackRevision: r.Info.RollbackRevision, Description: r.Info.Description}
	if md := r.Chart.Metadata; md != nil {
		e.Chart, e.AppVersion = md.Name+"-"+md.Version, md.AppVersion
	}
	if err := r.DecodeError(); err != nil {
		e.Description = fmt.Sprintf("the record cannot be read: %v", err)
	}
	return e
}

// WriteHistory prints entries in format f; the table has helm history's columns.
func WriteHistory(w io.Writer, f Format, entries []HistoryEntry) error {
	if f != FormatTable {
		return Encode(w, f, entries)
	}
	var t Table
	t.AddRow("REVISION", "UPDATED", "STATUS", "CHART", "APP VERSION", "DESCRIPTION")
	for _, e := range entries {
		t.AddRow(e.Revision, FormatTime(e.Updated), e.Status, e.Chart, e.AppVersion, e.Description)
	}
	return t.Write(w)
}

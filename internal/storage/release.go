package storage

import (
	"encoding/json"
	"maps"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/capstan-dev/capstan/internal/chart"
)

// ApplyMethodServerSide and ApplyMethodClientSide are the values of Release.ApplyMethod. Helm v4
// upgrades a release with server-side apply by default only when its last record says "ssa".
const (
	ApplyMethodServerSide = "ssa"
	ApplyMethodClientSide = "csa"
)

// Release is one revision of a release, in the JSON shape of Helm v4's release v1 record. Field
// names and JSON keys follow what the helm binary writes, so either side reads the other's records.
type Release struct {
	// Name is the release name (at most 53 characters, a DNS subdomain).
	Name string `json:"name,omitempty"`
	// Info holds the revision's status, description, notes and timestamps.
	Info Info `json:"info"`
	// Chart is the chart the revision was rendered from, without its templates.
	Chart Chart `json:"chart"`
	// Config holds the values the user supplied (not the chart defaults).
	Config map[string]any `json:"config,omitempty"`
	// Manifest is the rendered manifest, without hooks and without CRDs from crds/.
	Manifest string `json:"manifest,omitempty"`
	// Hooks are the revision's hook resources and their last runs.
	Hooks []*Hook `json:"hooks,omitempty"`
	// Version is the revision number, starting at 1.
	Version int `json:"version,omitempty"`
	// Namespace is the namespace the release lives in (and its records are stored in).
	Namespace string `json:"namespace,omitempty"`
	// ApplyMethod records how the manifest was applied: "ssa" or "csa" (Helm v4).
	ApplyMethod string `json:"apply_method,omitempty"`
	// Labels are the user's labels on the record's Secret, without the reserved ones. Helm keeps
	// them on the Secret only, never in the JSON.
	Labels map[string]string `json:"-"`

	resourceVersion string
	decodeErr       error
	// written is the Secret as this store last wrote it for the record (its answer to the create
	// or update, managedFields left out), kept when its data is at most maxKeptRecord bytes: the
	// next status change rewrites it without reading it first.
	written *corev1.Secret
	// stripped says that Strip dropped the record's values, manifest and chart content.
	stripped bool
}

// Strip drops, in place, what a change of the record's status does not need: the user's values,
// the manifest, and the chart's values, schema, templates and files (its metadata stays, and the
// hooks). A status rewrite (UpdateStatus) of a stripped record keeps the stored content, as it
// does for any record; what summarises the content, such as a digest of the manifest, must come
// from before the record was stripped.
func (r *Release) Strip() {
	r.Config, r.Manifest = nil, ""
	r.Chart = Chart{Metadata: r.Chart.Metadata}
	r.stripped = true
}

// Stripped reports whether Strip dropped the record's content.
func (r *Release) Stripped() bool { return r.stripped }

// Summary returns a stripped copy of r without its hooks either: what identifies the revision,
// its status and its chart's metadata, enough to supersede or prune it later. A deployed
// record's summary keeps the Secret as written, if r kept it: superseding it then needs no read.
func (r *Release) Summary() *Release {
	c := &Release{Name: r.Name, Namespace: r.Namespace, Version: r.Version, Info: r.Info,
		ApplyMethod: r.ApplyMethod, Labels: maps.Clone(r.Labels),
		Chart: Chart{Metadata: r.Chart.Metadata}, resourceVersion: r.resourceVersion, decodeErr: r.decodeErr}
	if r.Info.Status == StatusDeployed {
		c.written = r.written
	}
	c.Strip()
	return c
}

// ResourceVersion returns the resourceVersion of the Secret the record was read from or written
// to, or "" for a record that was never stored.
func (r *Release) ResourceVersion() string { return r.resourceVersion }

// DecodeError returns why the stored record could not be read, or nil. A record with a decode
// error is a placeholder that carries only its name, namespace, version and status unknown.
func (r *Release) DecodeError() error { return r.decodeErr }

// Info is the status part of a record. Zero timestamps are left out of the JSON, as Helm v4 does.
type Info struct {
	// FirstDeployed is when revision 1 of the release was deployed.
	FirstDeployed time.Time `json:"first_deployed,omitzero"`
	// LastDeployed is when this revision was deployed (or attempted).
	LastDeployed time.Time `json:"last_deployed,omitzero"`
	// Deleted is when the release was uninstalled.
	Deleted time.Time `json:"deleted,omitzero"`
	// Description is a one-line, human summary ("Install complete", "Upgrade \"x\" failed: …").
	Description string `json:"description,omitempty"`
	// Status is the revision's place in the release lifecycle.
	Status Status `json:"status,omitempty"`
	// RollbackRevision is the revision a rollback restored (Helm v4).
	RollbackRevision int `json:"rollback_revision,omitempty"`
	// Notes is the rendered NOTES.txt.
	Notes string `json:"notes,omitempty"`
	// Resources is kept verbatim when Helm wrote it; Capstan never sets it.
	Resources json.RawMessage `json:"resources,omitempty"`
}

// infoWire is Info with timestamps as raw JSON, so that the empty strings Helm v3 writes for
// zero times decode as zero.
type infoWire struct {
	FirstDeployed    json.RawMessage `json:"first_deployed"`
	LastDeployed     json.RawMessage `json:"last_deployed"`
	Deleted          json.RawMessage `json:"deleted"`
	Description      string          `json:"description"`
	Status           Status          `json:"status"`
	RollbackRevision int             `json:"rollback_revision"`
	Notes            string          `json:"notes"`
	Resources        json.RawMessage `json:"resources"`
}

// UnmarshalJSON reads an Info written by Helm v3, Helm v4 or Capstan.
func (i *Info) UnmarshalJSON(data []byte) error {
	var w infoWire
	if err := json.Unmarshal(data, &w); err != nil {
		return err
	}
	out := Info{Description: w.Description, Status: w.Status, RollbackRevision: w.RollbackRevision,
		Notes: w.Notes, Resources: w.Resources}
	var err error
	if out.FirstDeployed, err = optionalTime(w.FirstDeployed); err != nil {
		return err
	}
	if out.LastDeployed, err = optionalTime(w.LastDeployed); err != nil {
		return err
	}
	if out.Deleted, err = optionalTime(w.Deleted); err != nil {
		return err
	}
	*i = out
	return nil
}

// optionalTime parses a JSON timestamp where absent, null and "" all mean the zero time.
func optionalTime(raw json.RawMessage) (time.Time, error) {
	var t time.Time
	if len(raw) == 0 || string(raw) == "null" || string(raw) == `""` {
		return t, nil
	}
	err := json.Unmarshal(raw, &t)
	return t, err
}

// Chart is the chart part of a record. Capstan stores the metadata, default values and schema but
// no templates or files, to keep records small; records written by Helm keep theirs.
type Chart struct {
	// Metadata is the chart's Chart.yaml.
	Metadata *chart.Metadata `json:"metadata"`
	// Lock is Chart.lock as Helm encoded it; Capstan keeps what it read and otherwise writes null.
	Lock json.RawMessage `json:"lock,omitempty"`
	// Templates are the chart's templates (always empty in records Capstan writes).
	Templates []*File `json:"templates"`
	// Values are the chart's default values.
	Values map[string]any `json:"values"`
	// Schema is the chart's values.schema.json, if any.
	Schema []byte `json:"schema"`
	// SchemaModTime is kept when Helm wrote it.
	SchemaModTime time.Time `json:"schemamodtime,omitzero"`
	// Files are the chart's other files (always empty in records Capstan writes).
	Files []*File `json:"files"`
	// ModTime is kept when Helm wrote it.
	ModTime time.Time `json:"modtime,omitzero"`
}

// File is a chart file inside a record; its data is base64 in the JSON.
type File struct {
	// Name is the file's path relative to the chart root.
	Name string `json:"name"`
	// Data is the file's content.
	Data []byte `json:"data"`
	// ModTime is kept when Helm wrote it.
	ModTime time.Time `json:"modtime,omitzero"`
}

// NewChart returns the record form of a loaded chart: metadata, default values and schema.
func NewChart(c *chart.Chart) Chart {
	if c == nil {
		return Chart{}
	}
	return Chart{Metadata: c.Metadata, Values: c.Values, Schema: c.Schema}
}

// HookPhase is the outcome of a hook's last run.
type HookPhase string

// The hook phases Helm records.
const (
	HookPhaseUnknown   HookPhase = "Unknown"
	HookPhaseRunning   HookPhase = "Running"
	HookPhaseSucceeded HookPhase = "Succeeded"
	HookPhaseFailed    HookPhase = "Failed"
)

// Hook is one hook resource of a revision.
type Hook struct {
	// Name is the hook resource's metadata.name.
	Name string `json:"name,omitempty"`
	// Kind is the hook resource's kind.
	Kind string `json:"kind,omitempty"`
	// Path is the template the hook was rendered from ("chart/templates/job.yaml").
	Path string `json:"path,omitempty"`
	// Manifest is the hook resource's YAML.
	Manifest string `json:"manifest,omitempty"`
	// Events are the helm.sh/hook events ("pre-install", "post-upgrade", "test", …).
	Events []string `json:"events,omitempty"`
	// LastRun is the hook's most recent execution.
	LastRun HookExecution `json:"last_run"`
	// Weight is helm.sh/hook-weight.
	Weight int `json:"weight,omitempty"`
	// DeletePolicies is helm.sh/hook-delete-policy.
	DeletePolicies []string `json:"delete_policies,omitempty"`
	// OutputLogPolicies is helm.sh/hook-output-log-policy.
	OutputLogPolicies []string `json:"output_log_policies,omitempty"`
}

// HookExecution is the record of one hook run.
type HookExecution struct {
	// StartedAt is when the run began.
	StartedAt time.Time `json:"started_at,omitzero"`
	// CompletedAt is when the run ended.
	CompletedAt time.Time `json:"completed_at,omitzero"`
	// Phase is the run's outcome; "" when the hook never ran.
	Phase HookPhase `json:"phase"`
}

type hookExecutionWire struct {
	StartedAt   json.RawMessage `json:"started_at"`
	CompletedAt json.RawMessage `json:"completed_at"`
	Phase       HookPhase       `json:"phase"`
}

// UnmarshalJSON reads a hook run written by Helm v3, Helm v4 or Capstan.
func (h *HookExecution) UnmarshalJSON(data []byte) error {
	var w hookExecutionWire
	if err := json.Unmarshal(data, &w); err != nil {
		return err
	}
	out := HookExecution{Phase: w.Phase}
	var err error
	if out.StartedAt, err = optionalTime(w.StartedAt); err != nil {
		return err
	}
	if out.CompletedAt, err = optionalTime(w.CompletedAt); err != nil {
		return err
	}
	*h = out
	return nil
}

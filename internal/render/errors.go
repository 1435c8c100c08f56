package render

import (
	"errors"
	"regexp"
)

// Stage names the step of the pipeline an error comes from, so callers can map it to a
// condition reason (and the CLI can decide whether Helm would suggest --debug).
type Stage string

// The stages of Render, in order.
const (
	// StageChart covers the checks of the loaded chart: library charts and missing dependencies.
	StageChart Stage = "Chart"
	// StageRelease covers the release name.
	StageRelease Stage = "Release"
	// StageValues covers dependency processing, coalescing and schema validation.
	StageValues Stage = "Values"
	// StageRender covers the kubeVersion check, template execution and manifest parsing: the
	// steps Helm runs after it has created the release record.
	StageRender Stage = "Render"
	// StagePostRender covers Options.PostRenderer.
	StagePostRender Stage = "PostRender"
)

// Error is an error of one pipeline stage. Its text is the cause's text alone, which is Helm's.
type Error struct {
	Stage Stage
	Err   error
}

func (e *Error) Error() string { return e.Err.Error() }

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// StageOf returns the stage of a Render error, or "" when err did not come from Render.
func StageOf(err error) Stage {
	var re *Error
	if errors.As(err, &re) {
		return re.Stage
	}
	return ""
}

func stageError(stage Stage, err error) error {
	if err == nil {
		return nil
	}
	return &Error{Stage: stage, Err: err}
}

// ErrNoChart reports a nil chart or one without metadata.
var ErrNoChart = errors.New("no chart metadata")

// ErrLibraryChart reports an attempt to render a library chart on its own.
var ErrLibraryChart = errors.New("library charts are not installable")

// ErrInvalidReleaseName reports a release name Helm would refuse.
var ErrInvalidReleaseName = errors.New("invalid release name, must match regex " + releaseNamePattern +
	" and the length must not be longer than 53")

// ErrMissingReleaseName reports an empty release name.
var ErrMissingReleaseName = errors.New("no name provided")

// releaseNamePattern is Helm's rule for release names: a DNS-1123 subdomain.
const releaseNamePattern = `^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`

var releaseNameRE = regexp.MustCompile(releaseNamePattern)

// MaxReleaseNameLength is the longest release name Helm accepts.
const MaxReleaseNameLength = 53

// ValidateReleaseName checks a release name as Helm does before installing: not empty, at most
// MaxReleaseNameLength characters, and a DNS-1123 subdomain.
func ValidateReleaseName(name string) error {
	if name == "" {
		return ErrMissingReleaseName
	}
	if len(name) > MaxReleaseNameLength || !releaseNameRE.MatchString(name) {
		return ErrInvalidReleaseName
	}
	return nil
}

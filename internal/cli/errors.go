package cli

import "errors"

var (
	// ErrReleaseNotFound means the named Release object does not exist in the namespace.
	ErrReleaseNotFound = errors.New("release not found")
	// ErrNoRevision means the Helm release has no revision record, or not the one asked for.
	ErrNoRevision = errors.New("no such revision")
	// ErrNotActionable means the controller would not act on a request for this Release now (it
	// is suspended or being deleted), so the command refuses to make it.
	ErrNotActionable = errors.New("the controller will not act on this release")
	// ErrFailed means the controller carried out the request and reported a failure.
	ErrFailed = errors.New("failed")
	// ErrTimeout means the outcome of a request did not show in the Release's status in time.
	ErrTimeout = errors.New("timed out")
	// ErrInvalidArgument means a command-line argument or flag value is not acceptable.
	ErrInvalidArgument = errors.New("invalid argument")
)

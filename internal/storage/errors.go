package storage

import "errors"

var (
	// ErrConflict means another writer changed the release's history first: a revision with the
	// same number already exists, or the record changed since it was read. Requeue and re-read.
	ErrConflict = errors.New("release record conflict")
	// ErrNotFound means the requested revision (or any revision, or any deployed revision) does
	// not exist.
	ErrNotFound = errors.New("release record not found")
	// ErrCorrupt means a stored record could not be decoded or does not match the Secret that
	// holds it. Such records are reported, never rewritten or deleted automatically.
	ErrCorrupt = errors.New("release record is corrupt")
	// ErrTooLarge means the encoded record does not fit in a Secret (1 MiB).
	ErrTooLarge = errors.New("release record too large")
	// ErrInvalid means the record or an argument is not acceptable (bad name, version, labels).
	ErrInvalid = errors.New("invalid release record")
	// ErrIllegalTransition means a status change that Helm's release lifecycle never makes.
	ErrIllegalTransition = errors.New("illegal release status transition")
)

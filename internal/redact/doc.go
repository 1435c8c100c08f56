// Package redact keeps values read from Secrets out of every message that leaves the process.
//
// A Redactor lives for one reconcile (or one CLI command). The code that reads a Secret —
// valuesFrom, the template lookup function, repository credentials — registers what it read;
// the code that lets a message out — the errors-to-condition mapping, the event helper, the
// reconcile's logger, the CLI's printers, the error returned to controller-runtime — passes it
// through Redact. Each registered value is searched for in the forms a message can carry it in:
// as it is, with its whitespace collapsed (condition messages are one line), JSON-, Go- and
// YAML-escaped, percent-encoded, and base64-encoded (standard and URL alphabets, padded or not,
// standalone or embedded at any of the three byte alignments inside a longer base64 text).
// Every occurrence becomes Placeholder.
//
// The package is pure: no client, no network. docs/redaction.md explains the choices and the
// limits (short values, numbers, partial quotes).
package redact

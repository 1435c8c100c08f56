// Package manifest owns what happens to rendered templates before anything is applied: it splits
// each template's output into YAML documents exactly as Helm v4.3.1 does, reads the small head of
// every document (apiVersion, kind, name, annotations), separates hooks from regular manifests,
// orders both by Helm's install kind order, and assembles the release manifest text. For the apply
// stage it also parses documents into unstructured objects and rejects sets that cannot be applied
// safely: duplicate objects and documents without apiVersion, kind or metadata.name.
//
// The package is pure: it reads no files, talks to no cluster and keeps no global state.
package manifest

// Package values composes a release's values exactly as Helm v4.3.1 does. It reads values
// documents (YAML 1.1 through sigs.k8s.io/yaml, several documents deep-merged), parses the
// --set family of flags with Helm's strvals rules and limits, merges user sources in Helm's
// order, processes a chart's dependencies (conditions, tags, aliases, import-values), coalesces
// chart defaults under user values with Helm's null and global rules, validates the result
// against every enabled chart's values.schema.json without ever loading an external $ref, and
// digests values for status records. It is a pure package: no network, no files, no cluster.
//
// Dependency processing lives here rather than in internal/chart because deciding which
// subcharts are enabled and what they import requires coalescing values first.
package values

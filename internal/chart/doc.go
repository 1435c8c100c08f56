// Package chart owns the in-memory form of a Helm chart and loads it from a directory, a .tgz
// archive or bytes, with hard limits on every byte read. It validates Chart.yaml as Helm does,
// finds subcharts under charts/ at any depth, and rejects archive entries that would escape the
// chart. It touches no network and no cluster.
//
// Loading follows Helm v4.3 (helm-semantics.md §1): the same file placement, .helmignore rules,
// multi-document values.yaml and error texts. Where Capstan is stricter (a per-file limit, one
// size budget for the whole tree, no link or device entries, links that stay inside the chart)
// docs/chart-loading.md says so. Package and Archive write a chart back as a reproducible archive
// that Helm loads and renders as it renders the source directory.
package chart

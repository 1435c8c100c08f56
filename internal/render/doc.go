// Package render is the one rendering pipeline of Capstan: the `capstan template` and `capstan
// lint` commands and the Release controller all call Render. Given a loaded chart, the user's
// values and the release's identity, it runs Helm v4.3.1's install-time steps in Helm's order
// (library check, dependency check, release-name validation, dependency processing, coalescing,
// schema validation, kubeVersion check, template rendering, notes extraction, manifest sorting)
// and returns the sorted manifests, hooks, CRDs, notes and final values.
//
// The package is pure: it reads no files and talks to no cluster. What the cluster knows
// (capabilities, lookup) is passed in through Options.
package render

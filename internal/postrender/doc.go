// Package postrender changes rendered manifests before they are applied: the kustomize patches
// and image overrides of spec.postRenderers, then the labels and annotations of
// spec.commonMetadata. It runs kustomize's own engine (krusty) over an in-memory filesystem,
// never an external program, and touches no cluster or network.
package postrender

// Package controllers holds the thin reconcilers for Release and ChartRepository: the Reconcile
// entry, finalizers, suspend, watches, index keys and map functions. Domain logic lives in
// internal/.
package controllers

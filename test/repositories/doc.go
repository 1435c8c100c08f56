// Package repositories holds the envtest suite of the ChartRepository controller: a real
// kube-apiserver and etcd, a controller-runtime manager running the controller exactly as
// controllers.SetupChartRepository wires it, local HTTP chart repositories and an in-process
// OCI registry. It proves the conditions, events and kstatus results the controller promises,
// the failure reasons of bad repositories and Secrets (never showing a credential), suspend,
// recovery, the Secret watch, and that the Release-facing chart source downloads a chart once
// for many callers.
package repositories

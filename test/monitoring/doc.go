// Package monitoring checks Capstan's monitoring kit, config/monitoring: that every PromQL
// expression of the Grafana dashboard and the alert rules parses (with Prometheus's own parser),
// that the rules are well formed, that every metric and label they name is exported by a manager
// set up as main.go sets it up (gathered from controller-runtime's registry on envtest after a
// Release and a ChartRepository were reconciled), and that the metric reference in
// docs/operations.md is the one generated from that registry.
package monitoring

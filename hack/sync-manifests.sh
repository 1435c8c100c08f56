#!/usr/bin/env bash
# Writes the files that copy generated or hand-written sources, so that each has one source:
#   config/crd/bases/*.yaml            -> charts/capstan/crds/
#   config/rbac/role.yaml (its rules)  -> charts/capstan/files/manager-rules.yaml
#   config/monitoring/capstan-rules.yaml -> config/monitoring/prometheusrule.yaml (as a PrometheusRule)
#                                         and charts/capstan/files/capstan-rules.yaml
#   config/monitoring/capstan-dashboard.json -> charts/capstan/files/
# `make manifests` runs it; test/helmchart and test/monitoring fail when a copy is stale.
set -euo pipefail
cd "$(dirname "$0")/.."

chart=charts/capstan
rm -f "$chart"/crds/*.yaml
cp config/crd/bases/*.yaml "$chart/crds/"
sed -n '/^rules:$/,$p' config/rbac/role.yaml | tail -n +2 > "$chart/files/manager-rules.yaml"
cp config/monitoring/capstan-rules.yaml config/monitoring/capstan-dashboard.json "$chart/files/"
{
  echo "# Capstan's alerts for the Prometheus Operator: the groups of capstan-rules.yaml, written by"
  echo "# \`make manifests\` (hack/sync-manifests.sh). Edit capstan-rules.yaml, not this file."
  echo "apiVersion: monitoring.coreos.com/v1"
  echo "kind: PrometheusRule"
  echo "metadata:"
  echo "  name: capstan"
  echo "  labels:"
  echo "    app.kubernetes.io/name: capstan"
  echo "spec:"
  grep -v '^#' config/monitoring/capstan-rules.yaml | sed 's/^/  /'
} > config/monitoring/prometheusrule.yaml

#!/usr/bin/env bash
# Regenerates the conformance goldens with the pinned reference helm (`make golden` passes HELM):
#   test/conformance/golden/<chart>/<valueset>.yaml   helm template, every corpus chart and value set
#   test/conformance/golden/lint/<name>.txt           helm lint, every corpus chart and lint probe
#   test/conformance/testdata/probes/golden/<case>.txt helm template, every probe case (ProbeCases)
# The corpus charts come from the Go modules pinned in test/conformance/corpus.yaml, fetched into
# the module cache; nothing is copied into the tree. The probe charts are the project's own test
# data in test/conformance/testdata/probes.
set -euo pipefail
cd "$(dirname "$0")/.."
HELM=${HELM:-$(hack/tools.sh helm)}
export HELM
cd test/conformance
exec go run ./cmd/corpus golden

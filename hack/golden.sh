#!/usr/bin/env bash
# Regenerates test/conformance/golden/<chart>/<valueset>.yaml with the pinned reference helm
# (`make golden` passes HELM). The charts come from the Go modules pinned in
# test/conformance/corpus.yaml, fetched into the module cache; nothing is copied into the tree.
set -euo pipefail
cd "$(dirname "$0")/.."
HELM=${HELM:-$(hack/tools.sh helm)}
export HELM
cd test/conformance
exec go run ./cmd/corpus golden

#!/usr/bin/env bash
# Times `capstan template` against `helm template` v4.3.1 for every chart and value set of the
# conformance corpus (test/conformance/corpus.yaml): the mean wall time of RUNS runs each, after
# one warm-up run. Uses hyperfine when it is installed, else a date +%s%N loop.
set -euo pipefail
cd "$(dirname "$0")/.."
HELM=${HELM:-$(hack/tools.sh helm)}
RUNS=${RUNS:-5}
mkdir -p bin
go build -trimpath -tags kustomize_disable_go_plugin_support -o bin/capstan ./cmd/capstan
CAPSTAN=$PWD/bin/capstan
export HELM_CACHE_HOME=${TMPDIR:-/tmp}/capstan-bench-helm HELM_CONFIG_HOME=${TMPDIR:-/tmp}/capstan-bench-helm KUBECONFIG=/dev/null

# mean_ms CMD...: mean wall time in milliseconds over RUNS runs.
mean_ms() {
  "$@" >/dev/null 2>&1 || { echo "failed: $*" >&2; return 1; }
  if command -v hyperfine >/dev/null; then
    hyperfine -N --runs "$RUNS" --export-json /dev/stdout --style none "$(printf '%q ' "$@")" 2>/dev/null |
      sed -n 's/.*"mean": \([0-9.e+-]*\).*/\1/p' | head -1 | awk '{printf "%.0f", $1 * 1000}'
    return
  fi
  local start end
  start=$(date +%s%N)
  for _ in $(seq "$RUNS"); do "$@" >/dev/null 2>&1; done
  end=$(date +%s%N)
  echo $(( (end - start) / RUNS / 1000000 ))
}

cd test/conformance
printf '%-18s %-22s %9s %11s %7s\n' chart "value set" "helm ms" "capstan ms" "ratio"
go run ./cmd/corpus list | while IFS=$'\t' read -r -a f; do
  args=("${f[@]:3}")
  h=$(mean_ms "$HELM" template "${args[@]}")
  c=$(mean_ms "$CAPSTAN" template "${args[@]}")
  printf '%-18s %-22s %9s %11s %7s\n' "${f[0]}" "${f[1]}" "$h" "$c" "$(awk -v h="$h" -v c="$c" 'BEGIN { if (c > 0) printf "%.2fx", h / c }')"
done

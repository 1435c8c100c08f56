#!/usr/bin/env bash
# A/B timing of `capstan template` against `helm template` v4.3.1 on the conformance corpus:
# for each selected render, RUNS interleaved runs of each binary (helm, capstan, helm, capstan,
# ...) after one warm-up each, so both see the same machine load; prints the median wall time of
# each relative to helm's, and the same for CPU time (user + system, from /usr/bin/time when it is
# installed). On a shared machine quote the ratios, not the milliseconds.
#
#   hack/bench-ab.sh                      # cilium and cert-manager, every value set, RUNS=7
#   RENDERS='cilium/default' RUNS=11 hack/bench-ab.sh
#   CAPSTAN=bin/capstan-old hack/bench-ab.sh   # an already built binary instead of building one
#   BASE=bin/capstan-main hack/bench-ab.sh      # also time a second capstan build, interleaved
set -euo pipefail
cd "$(dirname "$0")/.."
HELM=${HELM:-$(hack/tools.sh helm)}
RUNS=${RUNS:-7}
RENDERS=${RENDERS:-'^(cilium|cert-manager)/'}
if [[ -z ${CAPSTAN:-} ]]; then
  mkdir -p bin
  go build -trimpath -tags kustomize_disable_go_plugin_support -o bin/capstan ./cmd/capstan
  CAPSTAN=bin/capstan
fi
CAPSTAN=$(cd "$(dirname "$CAPSTAN")" && pwd)/$(basename "$CAPSTAN")
if [[ -n ${BASE:-} ]]; then
  BASE=$(cd "$(dirname "$BASE")" && pwd)/$(basename "$BASE")
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export HELM_CACHE_HOME=$tmp/helm HELM_CONFIG_HOME=$tmp/helm HELM_DATA_HOME=$tmp/helm KUBECONFIG=/dev/null

# ms CMD...: one run's wall time and CPU time in milliseconds ("wall cpu", cpu 0 without
# /usr/bin/time); fails when the command fails.
ms() {
  local start end cpu=0
  start=$(date +%s%N)
  if [[ -x /usr/bin/time ]]; then
    /usr/bin/time -f '%U %S' -o "$tmp/cpu" "$@" >/dev/null 2>&1 || { echo "failed: $*" >&2; return 1; }
    cpu=$(awk '{ printf "%d", ($1 + $2) * 1000 }' "$tmp/cpu")
  else
    "$@" >/dev/null 2>&1 || { echo "failed: $*" >&2; return 1; }
  fi
  end=$(date +%s%N)
  echo "$(((end - start) / 1000000)) $cpu"
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'; }
median() { sort -n | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

cd test/conformance
bins=("$HELM" "$CAPSTAN")
names=(helm capstan)
if [[ -n ${BASE:-} ]]; then
  bins+=("$BASE")
  names+=(base)
fi
header="render runs"
for n in "${names[@]:1}"; do header+=" $n-wall/helm $n-cpu/helm"; done
printf '%-28s %5s %12s %12s %12s %12s\n' $header | sed 's/ *$//'
go run ./cmd/corpus list | while IFS=$'\t' read -r -a f; do
  [[ "${f[0]}/${f[1]}" =~ $RENDERS ]] || continue
  args=(template "${f[@]:3}")
  for i in "${!bins[@]}"; do
    ms "${bins[$i]}" "${args[@]}" >/dev/null
    : >"$tmp/$i"
  done
  for _ in $(seq "$RUNS"); do
    for i in "${!bins[@]}"; do ms "${bins[$i]}" "${args[@]}" >>"$tmp/$i"; done
  done
  hw=$(cut -d' ' -f1 "$tmp/0" | median)
  hc=$(cut -d' ' -f2 "$tmp/0" | median)
  line=$(printf '%-28s %5s' "${f[0]}/${f[1]}" "$RUNS")
  detail="helm ${hw}ms/${hc}ms"
  for i in "${!bins[@]}"; do
    [[ $i == 0 ]] && continue
    w=$(cut -d' ' -f1 "$tmp/$i" | median)
    c=$(cut -d' ' -f2 "$tmp/$i" | median)
    line+=$(printf ' %12s %12s' "$(ratio "$w" "$hw")" "$(ratio "$c" "$hc")")
    detail+=" ${names[$i]} ${w}ms/${c}ms"
  done
  echo "$line   ($detail wall/cpu medians)"
done

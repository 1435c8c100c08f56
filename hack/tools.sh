#!/usr/bin/env bash
# Installs a pinned Go tool into a cache outside the checkout and prints its path:
#   hack/tools.sh controller-gen | golangci-lint | helm | setup-envtest ...
# Every clone on this machine shares the cache, so each tool builds once per version.
set -euo pipefail

CACHE=${CAPSTAN_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/capstan}
BIN=$CACHE/bin

# name  version  package
TOOLS=(
  "controller-gen v0.23.0 sigs.k8s.io/controller-tools/cmd/controller-gen"
  "golangci-lint v2.15.0 github.com/golangci/golangci-lint/v2/cmd/golangci-lint"
  "helm v4.3.1 helm.sh/helm/v4/cmd/helm"
)

die() { printf '[tools] error: %s\n' "$*" >&2; exit 1; }

lookup() {
  local t
  for t in "${TOOLS[@]}"; do
    set -- $t
    if [ "$1" = "$NAME" ]; then VERSION=$2; PKG=$3; return 0; fi
  done
  die "unknown tool $NAME (known: $(printf '%s ' "${TOOLS[@]%% *}"))"
}

NAME=${1:?usage: hack/tools.sh TOOL}
lookup
OUT=$BIN/$NAME-$VERSION
if [ ! -x "$OUT" ]; then
  mkdir -p "$BIN"
  exec 9>"$BIN/.$NAME.lock"
  flock 9
  if [ ! -x "$OUT" ]; then
    printf '[tools] installing %s %s (once per machine)\n' "$NAME" "$VERSION" >&2
    tmp=$(mktemp -d "$BIN/.$NAME.XXXXXX")
    # Tools are built with their own go.mod, outside ours.
    (cd "$tmp" && GOFLAGS= GOBIN="$tmp" go install "$PKG@$VERSION") ||
      { rm -rf "$tmp"; die "could not build $NAME $VERSION from the Go module proxy ($(go env GOPROXY))"; }
    mv -f "$tmp/$(basename "$PKG")" "$OUT"
    rm -rf "$tmp"
  fi
fi
echo "$OUT"

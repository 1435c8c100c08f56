#!/usr/bin/env bash
# Builds the control-plane binaries Capstan's tests and `make run` use, from the Go module proxy,
# into a cache outside the checkout so every clone on this machine reuses them.
#
#   hack/controlplane.sh build     build whatever is missing (idempotent), then print the assets dir
#   hack/controlplane.sh assets    print the envtest assets dir (etcd, kube-apiserver, kubectl)
#   hack/controlplane.sh bin NAME  print the path of one cached binary
#
# The versions are pinned here and nowhere else.
set -euo pipefail

KUBE_VERSION=${KUBE_VERSION:-v1.36.3}
STAGING_VERSION=${STAGING_VERSION:-v0.36.3}
ETCD_VERSION=${ETCD_VERSION:-v3.6.16}
KWOK_VERSION=${KWOK_VERSION:-v0.8.0}

CACHE=${CAPSTAN_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/capstan}
BIN=$CACHE/bin
SRC=$CACHE/src
ASSETS=$CACHE/envtest/${KUBE_VERSION#v}

log() { printf '[controlplane] %s\n' "$*" >&2; }
die() { printf '[controlplane] error: %s\n' "$*" >&2; exit 1; }

path_of() {
  case $1 in
    kube-apiserver|kube-controller-manager|kube-scheduler) echo "$BIN/$1-$KUBE_VERSION" ;;
    etcd) echo "$BIN/etcd-$ETCD_VERSION" ;;
    kwok) echo "$BIN/kwok-$KWOK_VERSION" ;;
    kubectl) command -v kubectl || die "kubectl is not on PATH" ;;
    *) die "unknown component $1" ;;
  esac
}

check_proxy() {
  if ! go list -m -versions k8s.io/kubernetes >/dev/null 2>&1; then
    die "cannot reach the Go module proxy ($(go env GOPROXY)); the control plane builds from it. Check the network or GOPROXY."
  fi
}

# atomic install: build to a temp name in the same dir, then rename.
install_bin() { # name tmpfile
  chmod +x "$2"
  mv -f "$2" "$(path_of "$1")"
}

build_kube() { # component
  local out; out=$(path_of "$1")
  [ -x "$out" ] && return 0
  check_proxy
  local dir=$SRC/kubernetes-$KUBE_VERSION
  if [ ! -f "$dir/go.sum" ]; then
    log "preparing wrapper module for k8s.io/kubernetes@$KUBE_VERSION"
    rm -rf "$dir"; mkdir -p "$dir"
    local kmod
    kmod=$(cd "$dir" && GOFLAGS=-mod=mod go mod download -json "k8s.io/kubernetes@$KUBE_VERSION" | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p')
    [ -f "$kmod" ] || die "could not download k8s.io/kubernetes@$KUBE_VERSION from the module proxy"
    {
      echo "module capstan.local/controlplane"
      echo
      echo "go 1.26.0"
      echo
      echo "godebug default=go1.26"
      echo
      echo "require k8s.io/kubernetes $KUBE_VERSION"
      echo
      echo "replace ("
      grep -E '=> \./staging/src/' "$kmod" | awk -v v="$STAGING_VERSION" '{print "\t" $1 " => " $1 " " v}'
      echo ")"
    } >"$dir/go.mod"
    cat >"$dir/tools.go" <<'GO'
//go:build tools

package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
	_ "k8s.io/kubernetes/cmd/kube-scheduler"
)
GO
    log "resolving modules (go mod tidy)"
    (cd "$dir" && go mod tidy) || die "go mod tidy failed for the kubernetes wrapper module"
  fi
  local minor=${KUBE_VERSION#v1.}; minor=${minor%%.*}
  local ld="-s -w -X k8s.io/component-base/version.gitVersion=$KUBE_VERSION -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=$minor -X k8s.io/component-base/version.gitTreeState=clean -X k8s.io/component-base/version.buildDate=1970-01-01T00:00:00Z"
  log "building $1 $KUBE_VERSION (the first build takes several minutes)"
  (cd "$dir" && CGO_ENABLED=0 go build -trimpath -ldflags "$ld" -o "$out.tmp" "k8s.io/kubernetes/cmd/$1") || die "building $1 failed"
  install_bin "$1" "$out.tmp"
  log "built $out"
}

build_etcd() {
  local out; out=$(path_of etcd)
  [ -x "$out" ] && return 0
  check_proxy
  local dir=$SRC/etcd-$ETCD_VERSION
  if [ ! -f "$dir/go.sum" ]; then
    rm -rf "$dir"; mkdir -p "$dir"
    cat >"$dir/go.mod" <<GOMOD
module capstan.local/etcd

go 1.26.0

require go.etcd.io/etcd/server/v3 $ETCD_VERSION
GOMOD
    cat >"$dir/main.go" <<'GO'
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
GO
    log "resolving modules for etcd $ETCD_VERSION"
    (cd "$dir" && go mod tidy) || die "go mod tidy failed for etcd"
  fi
  log "building etcd $ETCD_VERSION"
  (cd "$dir" && CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$out.tmp" .) || die "building etcd failed"
  install_bin etcd "$out.tmp"
  log "built $out"
}

build_kwok() {
  local out; out=$(path_of kwok)
  [ -x "$out" ] && return 0
  check_proxy
  local gobin; gobin=$(mktemp -d)
  log "building kwok $KWOK_VERSION"
  CGO_ENABLED=0 GOBIN=$gobin go install -trimpath -ldflags "-s -w" "sigs.k8s.io/kwok/cmd/kwok@$KWOK_VERSION" || die "building kwok failed"
  mv -f "$gobin/kwok" "$out.tmp"; rmdir "$gobin"
  install_bin kwok "$out.tmp"
  log "built $out"
}

link_assets() {
  mkdir -p "$ASSETS"
  ln -sf "$(path_of etcd)" "$ASSETS/etcd"
  ln -sf "$(path_of kube-apiserver)" "$ASSETS/kube-apiserver"
  ln -sf "$(path_of kubectl)" "$ASSETS/kubectl"
}

build_all() {
  mkdir -p "$BIN" "$SRC"
  # One builder at a time: CI and a developer may share the cache.
  exec 9>"$CACHE/.build.lock"
  flock 9
  build_etcd
  build_kube kube-apiserver
  build_kube kube-controller-manager
  build_kube kube-scheduler
  build_kwok
  link_assets
}

case ${1:-build} in
  build) build_all; echo "$ASSETS" ;;
  assets) echo "$ASSETS" ;;
  bin) path_of "${2:?component}" ;;
  *) die "usage: $0 build|assets|bin NAME" ;;
esac

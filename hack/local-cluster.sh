#!/usr/bin/env bash
# A local Kubernetes control plane for `make run` and the end-to-end tests: etcd, kube-apiserver,
# kube-controller-manager, kube-scheduler and kwok (simulated nodes that run pods through kwok's
# stages), all from the binaries hack/controlplane.sh builds once into the cache.
#
#   hack/local-cluster.sh up          start everything (idempotent); prints the kubeconfig path
#   hack/local-cluster.sh down        stop everything this script started
#   hack/local-cluster.sh kubeconfig  print the admin kubeconfig path
#   hack/local-cluster.sh status      say what is running
#
# State lives outside the checkout in $CAPSTAN_CLUSTER_DIR (default ~/.cache/capstan/cluster).
# The kube-apiserver's --request-timeout can be set with CAPSTAN_APISERVER_REQUEST_TIMEOUT (default 1m0s).
# Ports can be moved with CAPSTAN_CLUSTER_PORT_BASE (default 16440: apiserver = base+3, etcd = base+4/+5,
# scheduler = base+6, controller-manager = base+7, kwok = base+8), so tests can run a second cluster.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
CACHE=${CAPSTAN_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/capstan}
DIR=${CAPSTAN_CLUSTER_DIR:-$CACHE/cluster}
BASE=${CAPSTAN_CLUSTER_PORT_BASE:-16440}
NODES=${CAPSTAN_CLUSTER_NODES:-2}
KWOK_MODULE=sigs.k8s.io/kwok@v0.8.0
API_PORT=$((BASE + 3)); ETCD_PORT=$((BASE + 4)); ETCD_PEER=$((BASE + 5))
SCHED_PORT=$((BASE + 6)); KCM_PORT=$((BASE + 7)); KWOK_PORT=$((BASE + 8))
KUBECONFIG_PATH=$DIR/admin.kubeconfig
COMPONENTS=(etcd kube-apiserver kube-controller-manager kube-scheduler kwok)

log() { printf '[cluster] %s\n' "$*" >&2; }
die() { printf '[cluster] error: %s\n' "$*" >&2; exit 1; }
bin() { "$HERE/controlplane.sh" bin "$1"; }
kc() { kubectl --kubeconfig "$KUBECONFIG_PATH" "$@"; }

alive() { local f=$DIR/run/$1.pid; [ -f "$f" ] && kill -0 "$(cat "$f")" 2>/dev/null; }

start() { # name args...
  local name=$1; shift
  if alive "$name"; then return 0; fi
  "$@" >"$DIR/logs/$name.log" 2>&1 &
  echo $! >"$DIR/run/$name.pid"
}

pki() {
  local p=$DIR/pki
  [ -f "$p/admin.crt" ] && return 0
  mkdir -p "$p"
  log "generating certificates"
  openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=capstan-local-ca" \
    -keyout "$p/ca.key" -out "$p/ca.crt" 2>/dev/null
  openssl genrsa -out "$p/sa.key" 2048 2>/dev/null
  openssl rsa -in "$p/sa.key" -pubout -out "$p/sa.pub" 2>/dev/null
  printf 'subjectAltName=IP:127.0.0.1,IP:10.0.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc\n' >"$p/san.ext"
  openssl req -newkey rsa:2048 -nodes -subj "/CN=kube-apiserver" -keyout "$p/apiserver.key" -out "$p/apiserver.csr" 2>/dev/null
  openssl x509 -req -in "$p/apiserver.csr" -CA "$p/ca.crt" -CAkey "$p/ca.key" -CAcreateserial -days 3650 \
    -extfile "$p/san.ext" -out "$p/apiserver.crt" 2>/dev/null
  openssl req -newkey rsa:2048 -nodes -subj "/O=system:masters/CN=capstan-admin" -keyout "$p/admin.key" -out "$p/admin.csr" 2>/dev/null
  openssl x509 -req -in "$p/admin.csr" -CA "$p/ca.crt" -CAkey "$p/ca.key" -CAcreateserial -days 3650 -out "$p/admin.crt" 2>/dev/null
}

kubeconfig() {
  cat >"$KUBECONFIG_PATH" <<KC
apiVersion: v1
kind: Config
clusters:
- name: capstan-local
  cluster:
    server: https://127.0.0.1:$API_PORT
    certificate-authority: $DIR/pki/ca.crt
users:
- name: capstan-admin
  user:
    client-certificate: $DIR/pki/admin.crt
    client-key: $DIR/pki/admin.key
contexts:
- name: capstan-local
  context: {cluster: capstan-local, user: capstan-admin, namespace: default}
current-context: capstan-local
KC
}

stages() {
  local mod
  mod=$(cd "$HERE/.." && go mod download -json "$KWOK_MODULE" | sed -n 's/.*"Dir": "\(.*\)".*/\1/p')
  [ -d "$mod" ] || die "could not download $KWOK_MODULE for its stages"
  KWOK_STAGES=()
  local f
  for f in node/fast/node-initialize.yaml node/heartbeat-with-lease/node-heartbeat-with-lease.yaml \
           pod/fast/pod-ready.yaml pod/fast/pod-complete.yaml pod/fast/pod-delete.yaml; do
    KWOK_STAGES+=(-c "$mod/kustomize/stage/$f")
  done
}

wait_ready() {
  local i
  for i in $(seq 1 120); do
    kc get --raw /readyz >/dev/null 2>&1 && return 0
    alive kube-apiserver || die "kube-apiserver exited; see $DIR/logs/kube-apiserver.log"
    sleep 0.5
  done
  die "kube-apiserver did not become ready in 60s; see $DIR/logs/kube-apiserver.log"
}

nodes() {
  local i
  for i in $(seq 0 $((NODES - 1))); do
    kc apply -f - >/dev/null <<NODE
apiVersion: v1
kind: Node
metadata:
  name: kwok-node-$i
  annotations: {node.alpha.kubernetes.io/ttl: "0", kwok.x-k8s.io/node: fake}
  labels: {type: kwok, kubernetes.io/hostname: kwok-node-$i, kubernetes.io/os: linux, kubernetes.io/arch: amd64}
spec: {}
status:
  allocatable: {cpu: "32", memory: 256Gi, pods: "110"}
  capacity: {cpu: "32", memory: 256Gi, pods: "110"}
NODE
  done
}

up() {
  "$HERE/controlplane.sh" build >/dev/null
  mkdir -p "$DIR/logs" "$DIR/run" "$DIR/etcd"
  pki; kubeconfig; stages
  local p=$DIR/pki
  start etcd "$(bin etcd)" --data-dir "$DIR/etcd" --name local \
    --listen-client-urls "http://127.0.0.1:$ETCD_PORT" --advertise-client-urls "http://127.0.0.1:$ETCD_PORT" \
    --listen-peer-urls "http://127.0.0.1:$ETCD_PEER" --initial-advertise-peer-urls "http://127.0.0.1:$ETCD_PEER" \
    --initial-cluster "local=http://127.0.0.1:$ETCD_PEER" --unsafe-no-fsync --quota-backend-bytes 4294967296
  start kube-apiserver "$(bin kube-apiserver)" --etcd-servers "http://127.0.0.1:$ETCD_PORT" \
    --bind-address 127.0.0.1 --advertise-address 127.0.0.1 --secure-port "$API_PORT" \
    --tls-cert-file "$p/apiserver.crt" --tls-private-key-file "$p/apiserver.key" --client-ca-file "$p/ca.crt" \
    --service-account-issuer https://kubernetes.default.svc --service-account-key-file "$p/sa.pub" \
    --service-account-signing-key-file "$p/sa.key" --service-cluster-ip-range 10.0.0.0/24 \
    --authorization-mode RBAC --allow-privileged --enable-priority-and-fairness=false \
    --request-timeout "${CAPSTAN_APISERVER_REQUEST_TIMEOUT:-1m0s}"
  wait_ready
  start kube-controller-manager "$(bin kube-controller-manager)" --kubeconfig "$KUBECONFIG_PATH" \
    --authentication-kubeconfig "$KUBECONFIG_PATH" --authorization-kubeconfig "$KUBECONFIG_PATH" \
    --bind-address 127.0.0.1 --secure-port "$KCM_PORT" --leader-elect=false \
    --service-account-private-key-file "$p/sa.key" --root-ca-file "$p/ca.crt" \
    --controllers '*,-nodeipam,-cloud-node-lifecycle,-route,-service'
  start kube-scheduler "$(bin kube-scheduler)" --kubeconfig "$KUBECONFIG_PATH" \
    --authentication-kubeconfig "$KUBECONFIG_PATH" --authorization-kubeconfig "$KUBECONFIG_PATH" \
    --bind-address 127.0.0.1 --secure-port "$SCHED_PORT" --leader-elect=false
  start kwok "$(bin kwok)" --kubeconfig "$KUBECONFIG_PATH" "${KWOK_STAGES[@]}" \
    --manage-all-nodes=false --manage-nodes-with-annotation-selector kwok.x-k8s.io/node=fake \
    --node-lease-duration-seconds 40 --cidr 10.244.0.0/16 --node-ip 10.0.1.1 \
    --server-address "127.0.0.1:$KWOK_PORT"
  nodes
  local i
  for i in $(seq 1 60); do
    kc get serviceaccount default -n default >/dev/null 2>&1 && break
    sleep 0.5
  done
  for c in "${COMPONENTS[@]}"; do alive "$c" || die "$c exited; see $DIR/logs/$c.log"; done
  log "up: $(kc version -o json 2>/dev/null | sed -n 's/.*"gitVersion": "\(v[^"]*\)".*/\1/p' | tail -1), $NODES kwok nodes"
  echo "$KUBECONFIG_PATH"
}

down() {
  local i c
  for ((i = ${#COMPONENTS[@]} - 1; i >= 0; i--)); do
    c=${COMPONENTS[$i]}
    if alive "$c"; then
      kill "$(cat "$DIR/run/$c.pid")" 2>/dev/null || true
      for _ in $(seq 1 50); do alive "$c" || break; sleep 0.1; done
      alive "$c" && kill -9 "$(cat "$DIR/run/$c.pid")" 2>/dev/null || true
    fi
    rm -f "$DIR/run/$c.pid"
  done
  log "down"
}

status() {
  local c
  for c in "${COMPONENTS[@]}"; do
    if alive "$c"; then echo "$c running (pid $(cat "$DIR/run/$c.pid"))"; else echo "$c stopped"; fi
  done
}

case ${1:-} in
  up) up ;;
  down) down ;;
  kubeconfig) echo "$KUBECONFIG_PATH" ;;
  status) status ;;
  purge) down; rm -rf "$DIR" ;;
  *) die "usage: $0 up|down|kubeconfig|status|purge" ;;
esac

#!/usr/bin/env bash
# Runs Capstan on this machine: `make run` calls it after `make build controlplane`.
#
# With no KUBECONFIG it brings up the local cluster (hack/local-cluster.sh: etcd, kube-apiserver,
# kube-controller-manager, kube-scheduler, kwok nodes), installs the CRDs, packages and indexes the
# example charts of config/samples/charts with bin/capstan, serves them on loopback with
# hack/chartserver, runs bin/manager, applies config/samples into the namespace "default", and
# prints what to try next. With KUBECONFIG set it installs the CRDs into that cluster and runs the
# manager against it; the samples are applied there only with CAPSTAN_SAMPLES=1.
#
# The manager runs in the foreground: Ctrl-C stops it and the chart server and leaves the cluster
# up (stop that with `make cluster-down`). Running it again is safe.
#
# Settings (environment):
#   CAPSTAN_RUN_DIR       state: packaged charts, logs, pid files (default ~/.cache/capstan/run)
#   CAPSTAN_CHART_ADDR    the chart server's address (default 127.0.0.1:8879, what the samples name)
#   CAPSTAN_OCI_ADDR      the same charts as an OCI registry (default 127.0.0.1:5000, what the OCI
#                         sample names; empty: none)
#   CAPSTAN_SAMPLES       1: apply config/samples, 0: don't (default 1 on the local cluster, else 0)
#   CAPSTAN_MANAGER_ARGS  extra flags for bin/manager
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
CACHE=${CAPSTAN_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/capstan}
RUN_DIR=${CAPSTAN_RUN_DIR:-$CACHE/run}
CHART_ADDR=${CAPSTAN_CHART_ADDR:-127.0.0.1:8879}
OCI_ADDR=${CAPSTAN_OCI_ADDR-127.0.0.1:5000}
SAMPLES_NS=default
MANAGER=$ROOT/bin/manager
CAPSTAN=$ROOT/bin/capstan
CHARTSERVER=$ROOT/bin/chartserver

log() { printf '\033[1m[run]\033[0m %s\n' "$*" >&2; }
die() { printf '[run] error: %s\n' "$*" >&2; exit 1; }

# port_busy HOST:PORT succeeds when something accepts connections there.
port_busy() { (exec 3<>"/dev/tcp/${1%:*}/${1##*:}") 2>/dev/null; }

# free_port prints the first port from $1 upwards that nothing listens on.
free_port() {
  local p=$1
  while port_busy "127.0.0.1:$p"; do p=$((p + 1)); done
  echo "$p"
}

# stop_pidfile FILE NAME stops the process a pid file names if it is still the program NAME, so a
# run that was killed without cleaning up does not block the next one.
stop_pidfile() {
  local f=$1 name=$2 pid
  [ -f "$f" ] || return 0
  pid=$(cat "$f")
  if kill -0 "$pid" 2>/dev/null && [ "$(basename "$(readlink "/proc/$pid/exe" 2>/dev/null)")" = "$name" ]; then
    log "stopping $name left over from an earlier run (pid $pid)"
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  fi
  rm -f "$f"
}

binaries() {
  if [ ! -x "$MANAGER" ] || [ ! -x "$CAPSTAN" ]; then
    log "building bin/manager and bin/capstan"
    (cd "$ROOT" && go build -trimpath -tags kustomize_disable_go_plugin_support -o bin/manager . && go build -trimpath -tags kustomize_disable_go_plugin_support -o bin/capstan ./cmd/capstan)
  fi
  (cd "$ROOT" && go build -trimpath -o bin/chartserver ./hack/chartserver)
}

cluster() {
  if [ -n "${KUBECONFIG:-}" ]; then
    LOCAL=0
    log "using the cluster of KUBECONFIG=$KUBECONFIG ($(kubectl config current-context 2>/dev/null || echo 'no current context'))"
    kubectl get --raw=/readyz --request-timeout=15s >/dev/null || die "the cluster in KUBECONFIG is not reachable"
    return 0
  fi
  LOCAL=1
  log "starting the local cluster (hack/local-cluster.sh up)"
  KUBECONFIG=$("$ROOT/hack/local-cluster.sh" up | tail -n 1)
  export KUBECONFIG
}

crds() {
  log "installing the CRDs (config/crd/bases)"
  kubectl apply --server-side --field-manager=capstan-run --force-conflicts -f "$ROOT/config/crd/bases" >/dev/null
  kubectl wait --for=condition=Established --timeout=60s \
    crd/releases.capstan.dev crd/chartrepositories.capstan.dev >/dev/null
}

# charts packages every chart of config/samples/charts and indexes them into $RUN_DIR/charts,
# built aside and swapped in whole.
charts() {
  local tmp=$RUN_DIR/charts.new chart
  rm -rf "$tmp" "$RUN_DIR/charts.old"
  mkdir -p "$tmp"
  for chart in "$ROOT"/config/samples/charts/*/; do
    [ -f "$chart/Chart.yaml" ] || continue
    "$CAPSTAN" package --destination "$tmp" "$chart" >/dev/null || die "bin/capstan package $chart failed"
  done
  "$CAPSTAN" repo index "$tmp" || die "bin/capstan repo index failed"
  [ ! -d "$RUN_DIR/charts" ] || mv "$RUN_DIR/charts" "$RUN_DIR/charts.old"
  mv "$tmp" "$RUN_DIR/charts"
  rm -rf "$RUN_DIR/charts.old"
  log "packaged $(cd "$RUN_DIR/charts" && echo *.tgz) into $RUN_DIR/charts"
}

chartserver() {
  local oci=()
  stop_pidfile "$RUN_DIR/chartserver.pid" chartserver
  port_busy "$CHART_ADDR" && die "$CHART_ADDR is taken by another program; free it or set CAPSTAN_CHART_ADDR (the samples expect 127.0.0.1:8879)"
  if [ -n "$OCI_ADDR" ] && port_busy "$OCI_ADDR"; then
    log "warning: $OCI_ADDR is taken, so the charts are not served over OCI (the sample examples-oci will not become Ready)"
  elif [ -n "$OCI_ADDR" ]; then
    oci=(--oci-addr "$OCI_ADDR")
  fi
  "$CHARTSERVER" --dir "$RUN_DIR/charts" --addr "$CHART_ADDR" "${oci[@]}" >"$RUN_DIR/chartserver.out" 2>"$RUN_DIR/chartserver.log" &
  CHARTSERVER_PID=$!
  echo "$CHARTSERVER_PID" >"$RUN_DIR/chartserver.pid"
  for _ in $(seq 1 50); do
    curl -fsS "http://$CHART_ADDR/index.yaml" -o /dev/null 2>/dev/null && {
      log "serving the example charts at http://$CHART_ADDR${oci[*]:+ and oci://$OCI_ADDR/charts} (log: $RUN_DIR/chartserver.log)"
      return 0
    }
    kill -0 "$CHARTSERVER_PID" 2>/dev/null || break
    sleep 0.2
  done
  die "the chart server did not start; see $RUN_DIR/chartserver.log"
}

manager() {
  stop_pidfile "$RUN_DIR/manager.pid" manager
  PROBE_PORT=$(free_port 18081)
  log "starting bin/manager (health probes on 127.0.0.1:$PROBE_PORT, log also in $RUN_DIR/manager.log)"
  # shellcheck disable=SC2086 # CAPSTAN_MANAGER_ARGS is a list of flags.
  "$MANAGER" --metrics-bind-address=0 --health-probe-bind-address="127.0.0.1:$PROBE_PORT" \
    --log-format=console ${CAPSTAN_MANAGER_ARGS:-} > >(tee "$RUN_DIR/manager.log") 2>&1 &
  MANAGER_PID=$!
  echo "$MANAGER_PID" >"$RUN_DIR/manager.pid"
  for _ in $(seq 1 150); do
    curl -fsS "http://127.0.0.1:$PROBE_PORT/readyz" -o /dev/null 2>/dev/null && return 0
    kill -0 "$MANAGER_PID" 2>/dev/null || die "bin/manager exited; see $RUN_DIR/manager.log"
    sleep 0.2
  done
  die "bin/manager did not become ready in 30s; see $RUN_DIR/manager.log"
}

samples() {
  local want=${CAPSTAN_SAMPLES:-$LOCAL}
  if [ "$want" != 1 ]; then
    log "not applying the samples to this cluster; to do so: kubectl apply -n $SAMPLES_NS -k config/samples"
    return 0
  fi
  log "applying config/samples into the namespace $SAMPLES_NS"
  kubectl apply -n "$SAMPLES_NS" -k "$ROOT/config/samples" >&2
  watch_ready &
  WATCHER_PID=$!
}

# watch_ready reports, in the background, when the sample Release becomes Ready.
watch_ready() {
  local start=$SECONDS
  if kubectl wait -n "$SAMPLES_NS" --for=condition=Ready --timeout=90s release/hello >/dev/null 2>&1; then
    log "release/hello is Ready after $((SECONDS - start))s: kubectl get releases -A"
  elif [ $((SECONDS - start)) -ge 85 ]; then
    # Only a wait that ran its course is news; one cut short by Ctrl-C is not.
    log "release/hello is not Ready after 90s; see kubectl describe release hello -n $SAMPLES_NS"
  fi
}

next_steps() {
  local kc=""
  [ "$LOCAL" = 1 ] && kc="export KUBECONFIG=$KUBECONFIG"$'\n'"  "
  cat >&2 <<EOF

  Capstan is running (Ctrl-C stops the manager and the chart server; the cluster stays up).
  In another terminal:

  ${kc}kubectl get chartrepositories,releases -A
  kubectl wait --for=condition=Ready release/hello -n $SAMPLES_NS --timeout=2m

  # change values: an upgrade to revision 2
  kubectl patch release hello -n $SAMPLES_NS --type=merge -p '{"spec":{"values":{"replicaCount":3,"greeting":{"text":"Hello again"}}}}'
  kubectl get release hello -n $SAMPLES_NS -o jsonpath='{range .status.history[*]}{.revision} {.action} {.status}{"\\n"}{end}'
  kubectl get deployment,configmap,service -n $SAMPLES_NS -l app.kubernetes.io/instance=hello

  # roll back to revision 1
  $(rollback_hint)

  # uninstall
  kubectl delete release hello -n $SAMPLES_NS

  The example charts (config/samples/charts: hello, stack) are at http://$CHART_ADDR
  and, as an OCI registry, at oci://$OCI_ADDR/charts (unless that port was taken).
EOF
  if [ "$LOCAL" = 1 ]; then
    printf '  Stop the local cluster with: %s\n\n' "$(stop_cluster_hint)" >&2
  fi
}

# shellcheck disable=SC2317 # called from the EXIT trap.
# stop_child PID waits for a child to exit, sending it SIGTERM first unless Ctrl-C already
# reached it (the manager exits at once, without its graceful shutdown, on a second signal), and
# SIGKILL after 45 seconds.
stop_child() {
  local pid=$1 i
  kill -0 "$pid" 2>/dev/null || return 0
  [ "$INTERRUPTED" = 1 ] || kill -TERM "$pid" 2>/dev/null || true
  for i in $(seq 1 450); do
    kill -0 "$pid" 2>/dev/null || break
    if [ "$i" = 30 ] && [ "$INTERRUPTED" = 1 ]; then kill -TERM "$pid" 2>/dev/null || true; fi
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

# rollback_hint prints the rollback command: bin/capstan rollback once the CLI has it, else the
# annotation it sets.
rollback_hint() {
  if "$CAPSTAN" rollback --help >/dev/null 2>&1; then
    echo "bin/capstan rollback hello 1 -n $SAMPLES_NS"
  else
    echo "kubectl annotate release hello -n $SAMPLES_NS --overwrite capstan.dev/rollback-to=1"
  fi
}

# shellcheck disable=SC2317 # the EXIT trap.
cleanup() {
  local code=$?
  trap - EXIT INT TERM
  if [ -n "${WATCHER_PID:-}" ]; then
    pkill -P "$WATCHER_PID" 2>/dev/null || true
    kill "$WATCHER_PID" 2>/dev/null || true
  fi
  if [ -n "${MANAGER_PID:-}" ]; then
    log "stopping the manager"
    stop_child "$MANAGER_PID"
  fi
  [ -z "${CHARTSERVER_PID:-}" ] || stop_child "$CHARTSERVER_PID"
  rm -f "$RUN_DIR/manager.pid" "$RUN_DIR/chartserver.pid"
  if [ "${LOCAL:-0}" = 1 ]; then
    log "stopped; the local cluster is still up ($(stop_cluster_hint) stops it)"
  fi
  exit "$code"
}

stop_cluster_hint() {
  if grep -q '^cluster-down:' "$ROOT/Makefile" 2>/dev/null; then echo "make cluster-down"; else echo "hack/local-cluster.sh down"; fi
}

main() {
  command -v kubectl >/dev/null || die "kubectl is not on PATH"
  command -v curl >/dev/null || die "curl is not on PATH"
  mkdir -p "$RUN_DIR"
  trap cleanup EXIT
  INTERRUPTED=0
  trap 'INTERRUPTED=1; exit 130' INT
  trap 'exit 143' TERM
  binaries
  cluster
  crds
  charts
  chartserver
  manager
  samples
  next_steps
  local code=0
  wait "$MANAGER_PID" || code=$?
  MANAGER_PID=
  [ "$code" = 0 ] || log "bin/manager exited with status $code; see $RUN_DIR/manager.log"
  exit "$code"
}

main "$@"

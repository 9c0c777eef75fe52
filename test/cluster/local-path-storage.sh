#!/usr/bin/env bash
# The test cluster's default StorageClass, the way kind has one: Rancher's local-path-provisioner (Apache-2.0, the
# provisioner kind ships), built from the Go module proxy, as the class "standard" (kind's name, kind's
# WaitForFirstConsumer binding). The program never names a class, so it runs unchanged on kind and here.
#
#   test/cluster/local-path-storage.sh build   compile it (once, cached; under the CPU lock)
#   test/cluster/local-path-storage.sh up      build if needed, then start it against $KUBECONFIG
#   test/cluster/local-path-storage.sh down    stop it (by its PID)
#
# The cluster of ../shared/tools/runtime gives pods no route to the API server, so the provisioner runs on this
# machine with the cluster's kubeconfig, as the controllers do; its helper pods (which make and remove each volume's
# directory on the node) run in the cluster, with the local busybox image imported by `up`. Volumes live under
# $K8S_RUN_DIR/local-path, so k8s-down.sh removes them with the cluster.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
VERSION=v0.0.30
BIN=$TOOLS/local-path-provisioner/$VERSION/bin/local-path-provisioner
PIDFILE=$RUN/pids/local-path-provisioner.pid
LOG=$RUN/logs/local-path-provisioner.log
NAMESPACE=local-path-storage
HELPER_IMAGE=local/busybox:base
log() { printf 'local-path-storage: %s\n' "$*" >&2; }

build() { go_tool "$BIN" "github.com/rancher/local-path-provisioner@$VERSION"; }

running() { recorded_running "$PIDFILE" "$BIN"; }

up() {
  : "${KUBECONFIG:?KUBECONFIG must point at the cluster}"
  build
  if running; then log "already running (pid $(cut -d' ' -f1 "$PIDFILE"))"; return 0; fi
  local runtime=${STATSD_STACK_RUNTIME:-}
  [ -n "$runtime" ] || for d in "$(dirname "$0")/../../../shared/tools/runtime" /work/shared/tools/runtime; do
    [ -x "$d/import-image.sh" ] && { runtime=$d; break; }
  done
  [ -x "$runtime/import-image.sh" ] || { log "import-image.sh not found: set STATSD_STACK_RUNTIME"; exit 1; }
  "$runtime/import-image.sh" "$HELPER_IMAGE" >&2
  mkdir -p "$RUN/local-path" "$RUN/pids" "$RUN/logs"
  kubectl apply -f - >&2 <<YAML
apiVersion: v1
kind: Namespace
metadata: { name: $NAMESPACE }
---
apiVersion: v1
kind: ServiceAccount
metadata: { name: local-path-provisioner-service-account, namespace: $NAMESPACE }
automountServiceAccountToken: false
---
apiVersion: v1
kind: ConfigMap
metadata: { name: local-path-config, namespace: $NAMESPACE }
data:
  config.json: |-
    {"nodePathMap": [{"node": "DEFAULT_PATH_FOR_NON_LISTED_NODES", "paths": ["$RUN/local-path"]}]}
  setup: |-
    set -eu
    mkdir -m 0777 -p "\$VOL_DIR"
  teardown: |-
    set -eu
    rm -rf "\$VOL_DIR"
  helperPod.yaml: |-
    apiVersion: v1
    kind: Pod
    metadata: { name: helper-pod }
    spec:
      containers:
        - name: helper-pod
          image: $HELPER_IMAGE
          imagePullPolicy: IfNotPresent
---
apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata:
  name: standard
  annotations: { storageclass.kubernetes.io/is-default-class: "true" }
provisioner: rancher.io/local-path
volumeBindingMode: WaitForFirstConsumer
reclaimPolicy: Delete
YAML
  setsid "$BIN" start --kubeconfig "$KUBECONFIG" --namespace "$NAMESPACE" --configmap-name local-path-config \
    --service-account-name local-path-provisioner-service-account --helper-image "$HELPER_IMAGE" \
    >>"$LOG" 2>&1 < /dev/null &
  echo "$! $BIN" > "$PIDFILE"
  sleep 1
  running || { tail -20 "$LOG" >&2; log "the provisioner exited at once (log $LOG)"; exit 1; }
  log "running (pid $(cut -d' ' -f1 "$PIDFILE"), volumes under $RUN/local-path, log $LOG); default StorageClass: standard"
}

down() { stop_recorded "$PIDFILE" "$BIN"; }

case "${1:-}" in
  build) build ;;
  up) up ;;
  down) down ;;
  *) echo "usage: $0 build|up|down" >&2; exit 2 ;;
esac

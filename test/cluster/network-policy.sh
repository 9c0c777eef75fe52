#!/usr/bin/env bash
# The test cluster's NetworkPolicy enforcement, the way kind has one (kind ships kube-network-policies): kube-router's
# network policy controller (Apache-2.0), built from the Go module proxy, run with its pod router and service proxy
# off. It turns the NetworkPolicies into iptables rules and ipsets on the node (this machine). kube-network-policies
# cannot run here: it needs nftables' queue statement, which this kernel lacks (CONFIG_NFT_QUEUE is not set).
#
#   test/cluster/network-policy.sh build   compile it (once, cached; under the CPU lock)
#   test/cluster/network-policy.sh up      build if needed, then start it against $KUBECONFIG
#   test/cluster/network-policy.sh down    stop it (by its PID) and remove its iptables rules and ipsets
#
# Only the tests run it, on the throwaway loopback cluster of ../shared/tools/runtime; the program never deploys it.
# v2.1.0 is the one version the Go module proxy serves here, and security flaws are reported against it: keep it
# off any cluster that matters. It needs the `ipset` command (Debian's ipset) and iptables.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
VERSION=v2.1.0
BIN=$TOOLS/kube-router/$VERSION/bin/kube-router
PIDFILE=$RUN/pids/kube-router.pid
LOG=$RUN/logs/kube-router.log
log() { printf 'network-policy: %s\n' "$*" >&2; }

build() { go_tool "$BIN" "github.com/cloudnativelabs/kube-router/v2/cmd/kube-router@$VERSION"; }

running() { recorded_running "$PIDFILE" "$BIN"; }

# The cluster's Service ranges (its ServiceCIDR objects; Kubernetes' own default if it has none).
service_cidrs() {
  local cidrs; cidrs=$(kubectl get servicecidrs -o jsonpath='{range .items[*]}{range .spec.cidrs[*]}{@}{" "}{end}{end}' 2> /dev/null || true)
  echo "${cidrs:-10.96.0.0/12}"
}
# The rule dropping what a pod sends to a Service address that no endpoint translated.
untranslated() { echo "-d $1 -m conntrack ! --ctstate DNAT -m comment --comment statsd-stack-no-endpoint-drop -j DROP"; }

up() {
  : "${KUBECONFIG:?KUBECONFIG must point at the cluster}"
  build
  command -v ipset >/dev/null || { log "the ipset command is needed (apt-get install ipset)"; exit 1; }
  if running; then log "already running (pid $(cut -d' ' -f1 "$PIDFILE"))"; return 0; fi
  mkdir -p "$RUN/pids" "$RUN/logs"
  local node
  node=$(kubectl get nodes -o jsonpath='{.items[0].metadata.name}')
  # The firewall only: pod routes and Services stay the runtime's (its bridge CNI and kube-proxy).
  setsid "$BIN" --kubeconfig "$KUBECONFIG" --hostname-override "$node" --run-firewall=true --run-router=false \
    --run-service-proxy=false --enable-cni=false --health-port=0 --metrics-port=0 \
    >>"$LOG" 2>&1 < /dev/null &
  echo "$! $BIN" > "$PIDFILE"
  # Running once its first sync has written the node's rules; a policy is enforced within a second of its creation.
  for _ in $(seq 100); do
    running || { tail -20 "$LOG" >&2; log "kube-router exited at once (log $LOG)"; exit 1; }
    iptables -S KUBE-ROUTER-FORWARD > /dev/null 2>&1 && break
    sleep 0.2
  done
  iptables -S KUBE-ROUTER-FORWARD > /dev/null 2>&1 || { tail -20 "$LOG" >&2; log "no rules after 20 s (log $LOG)"; exit 1; }
  # kube-router's chains come first in the filter table's FORWARD chain and ACCEPT what a pod sends, so kube-proxy's
  # REJECT of a packet to a Service without endpoints (a Deployment scaled to 0, between two pods) never runs: the
  # packet, not translated to any pod, left the machine by its default route, and an address outside answered. The
  # mangle table's FORWARD chain runs before the filter table's: there such a packet is dropped.
  local services; services=$(service_cidrs)
  for cidr in $services; do
    iptables -t mangle -C FORWARD $(untranslated "$cidr") 2> /dev/null || iptables -t mangle -I FORWARD 1 $(untranslated "$cidr")
  done
  log "running (pid $(cut -d' ' -f1 "$PIDFILE"), node $node, log $LOG): NetworkPolicies are enforced"
}

down() {
  stop_recorded "$PIDFILE" "$BIN"
  # Its chains and ipsets outlive it: the node's traffic would stay filtered by the last policies it saw. (Its own
  # --cleanup-config crashes in v2.1.0, in the service proxy's cleanup, which never ran here.)
  # (grep finds nothing once they are gone: `|| true`, or pipefail would end `down` there.)
  { iptables -t mangle -S FORWARD | grep -E 'statsd-stack-no-endpoint-drop' || true; } | sed 's/^-A/-D/' | while read -r rule; do
    eval "iptables -t mangle $rule"
  done
  { iptables -S | grep -E '^-A (INPUT|FORWARD|OUTPUT) .*kube-router netpol' || true; } | sed 's/^-A/-D/' | while read -r rule; do
    eval "iptables $rule"
  done
  local chains; chains=$(iptables -S | sed -nE 's/^-N (KUBE-(ROUTER|POD-FW|NWPLCY)-.*)$/\1/p')
  for chain in $chains; do iptables -F "$chain"; done
  for chain in $chains; do iptables -X "$chain"; done
  local sets; sets=$(ipset list -n 2> /dev/null | grep -E '^KUBE-(SRC|DST)-' || true)
  for set in $sets; do ipset destroy "$set"; done
  [ -z "$chains$sets" ] || log "its iptables chains and ipsets removed"
}

case "${1:-}" in
  build) build ;;
  up) up ;;
  down) down ;;
  *) echo "usage: $0 build|up|down" >&2; exit 2 ;;
esac

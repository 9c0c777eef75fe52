#!/bin/sh
# Brings existing whisper files to new carbon retentions, keeping every point exactly once. Run it inside the
# graphite-statsd container after changing `graphiteRetentions` (carbon applies a new schema to new series only):
#
#   docker exec -i statsd-stack-graphite-graphite-0 sh -s -- 10s:1d,5m:90d < scripts/resize-whisper.sh
#   kubectl -n statsd-stack-graphite exec -i deploy/<graphite deployment> -- sh -s -- 10s:1d,5m:90d < scripts/resize-whisper.sh
#
# Usage: resize-whisper.sh RETENTIONS [WHISPER_DIR]   (WHISPER_DIR default /opt/graphite/storage/whisper)
#
# Why not whisper-resize or whisper-auto-resize (what the Graphite docs suggest): they copy every archive of the old
# file into the new one, so where the finest archive has empty slots the coarser archives' rolled-up points land in
# them too. For counts (aggregation `sum`, all of statsd's stats_counts.*) that adds each minute's and each ten
# minutes' total a second and third time: test/local/carbon-retentions.test.ts measures it. This script creates each
# file anew with the new archives and the file's own aggregation method and xFilesFactor, then copies the old file
# into it with whisper-fill, which takes each stretch of time from the finest archive that holds it; then it moves the
# new file over the old one. A file already on the new archives is left alone. Points carbon writes to a file while
# it is copied (a few milliseconds per file) are lost.
set -eu

RETENTIONS=${1:?usage: resize-whisper.sh RETENTIONS [WHISPER_DIR]}
DIR=${2:-/opt/graphite/storage/whisper}
# The graphite-statsd image installs whisper's tools as /opt/graphite/bin/whisper-*.py; Debian as whisper-*.
[ -d /opt/graphite/bin ] && PATH=/opt/graphite/bin:$PATH
tool() {
  if command -v "$1.py" > /dev/null 2>&1; then echo "$1.py"; elif command -v "$1" > /dev/null 2>&1; then echo "$1"; else
    echo "resize-whisper: $1 not found" >&2; exit 1
  fi
}
INFO=$(tool whisper-info)
CREATE=$(tool whisper-create)
FILL=$(tool whisper-fill)
ARCHIVES=$(echo "$RETENTIONS" | tr ',' ' ')

# The archives of a file as "precision:points ...", to compare with what whisper-create makes.
archives_of() {
  "$INFO" "$1" | awk '/^secondsPerPoint:/ { s = $2 } /^points:/ { printf "%s:%s ", s, $2 }'
}

# What whisper-create makes of RETENTIONS: create it once, in a scratch file.
SCRATCH=$(mktemp -d)
trap 'rm -rf "$SCRATCH"' EXIT
# shellcheck disable=SC2086
"$CREATE" "$SCRATCH/probe.wsp" $ARCHIVES > /dev/null
WANTED=$(archives_of "$SCRATCH/probe.wsp")

resized=0
kept=0
for file in $(find "$DIR" -name '*.wsp' -type f); do
  if [ "$(archives_of "$file")" = "$WANTED" ]; then kept=$((kept + 1)); continue; fi
  method=$("$INFO" "$file" aggregationMethod)
  factor=$("$INFO" "$file" xFilesFactor)
  new="$file.resize.$$"
  # shellcheck disable=SC2086
  "$CREATE" --aggregationMethod="$method" --xFilesFactor="$factor" "$new" $ARCHIVES > /dev/null
  "$FILL" "$file" "$new"
  # The new file takes the old one's owner (carbon's user) and mode.
  chown "$(stat -c %u:%g "$file")" "$new" 2> /dev/null || true
  chmod "$(stat -c %a "$file")" "$new"
  mv "$new" "$file"
  resized=$((resized + 1))
done
echo "resize-whisper: $resized file(s) brought to $RETENTIONS, $kept already on it"

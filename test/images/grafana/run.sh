#!/bin/sh
# Entrypoint of the TEST-ONLY Grafana stand-in (see grafana-standin.js). Does what grafana/grafana's /run.sh does:
# warns about unreadable config/home or an unwritable data folder, creates the plugins folder, turns every
# GF_<NAME>__FILE variable into GF_<NAME> with the file's content (both set: error), sets HOME, then starts
# `grafana server` with the same arguments. GF_AWS_PROFILES and GF_INSTALL_PLUGINS are not supported here.
set -e

# Permission problems are reported, not fatal.
perms_ok=1
not_ok() { echo "$1='$2' is not $3."; perms_ok=0; }
[ -r "$GF_PATHS_CONFIG" ] || not_ok GF_PATHS_CONFIG "$GF_PATHS_CONFIG" readable
[ -w "$GF_PATHS_DATA" ] || not_ok GF_PATHS_DATA "$GF_PATHS_DATA" writable
[ -r "$GF_PATHS_HOME" ] || not_ok GF_PATHS_HOME "$GF_PATHS_HOME" readable
[ "$perms_ok" = 1 ] || echo "You may have issues with file permissions, more information here: http://docs.grafana.org/installation/docker/#migrate-to-v51-or-later"

[ -d "$GF_PATHS_PLUGINS" ] || mkdir "$GF_PATHS_PLUGINS"

for file_var in $(env | sed -n 's/^\(GF_[^=]*\)__FILE=.\{1,\}$/\1/p'); do
  if [ -n "$(printenv "$file_var" || true)" ]; then
    echo >&2 "ERROR: Both $file_var and ${file_var}__FILE are set (but are exclusive)"
    exit 1
  fi
  file=$(printenv "${file_var}__FILE")
  echo "Getting secret $file_var from $file"
  export "$file_var=$(cat "$file")"
  unset "${file_var}__FILE"
done

export HOME="$GF_PATHS_HOME"

if [ -n "${GF_AWS_PROFILES:-}" ] || [ -n "${GF_INSTALL_PLUGINS:-}" ]; then
  echo >&2 "WARN: GF_AWS_PROFILES and GF_INSTALL_PLUGINS are not supported by the Grafana stand-in; ignored"
fi

# The image's paths go before the container's arguments, its cfg: overrides after them.
set -- --homepath="$GF_PATHS_HOME" --config="$GF_PATHS_CONFIG" --packaging=docker "$@"
set -- "$@" cfg:default.log.mode=console cfg:default.paths.data="$GF_PATHS_DATA" cfg:default.paths.logs="$GF_PATHS_LOGS" \
  cfg:default.paths.plugins="$GF_PATHS_PLUGINS" cfg:default.paths.provisioning="$GF_PATHS_PROVISIONING"
exec grafana server "$@"

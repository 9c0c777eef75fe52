#!/bin/sh
# Entrypoint of the node stand-in, behaving like the official node image's: the arguments are handed to `node` when
# the first one is an option (-e, --version, ...), names no command found on PATH (app.js), or is a file that
# is not executable (a script given by path); anything else (npm, bash, an executable) runs as it is.
set -e
run_with_node=false
case "$1" in
  -*) run_with_node=true ;;
  *)
    if [ -z "$(command -v "$1")" ]; then
      run_with_node=true
    elif [ -f "$1" ] && [ ! -x "$1" ]; then
      run_with_node=true
    fi
    ;;
esac
if [ "$run_with_node" = true ]; then
  set -- node "$@"
fi
exec "$@"

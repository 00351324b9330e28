#!/usr/bin/env bash
# Stops the engine and registry that up.sh started (and nothing else).
# --only FILE stops just the services an up.sh run listed in FILE.
# --clean also removes everything up.sh made under $MATRIX_STATE.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
case "${1:-}" in
  "" | --only | --clean) ;;
  -h | --help)
    sed -n '2,4s/^# //p' "$0"
    exit 0
    ;;
  *)
    echo "down.sh: unknown option $1 (use --only FILE, --clean or --help); nothing was stopped" >&2
    exit 2
    ;;
esac
# --only FILE: stop only the services listed in FILE (see MATRIX_STARTED_FILE).
if [ "${1:-}" = --only ]; then
  for s in engine engine2 registry dockerd; do
    grep -qx "$s" "$2" 2>/dev/null && stop_pid "$STATE/run/$s.pid" "$s"
  done
  exit 0
fi
stop_pid "$STATE/run/engine.pid" engine
stop_pid "$STATE/run/engine2.pid" engine2
stop_pid "$STATE/run/registry.pid" registry
stop_pid "$STATE/run/dockerd.pid" dockerd
if [ "${1:-}" = --clean ]; then
  rm -f /usr/local/bin/dagger /usr/local/bin/task
  # A mount left under the state (dockerd bind-mounts its data root onto
  # itself) would make rm fail.
  umount_under "$STATE"
  rm -rf "$STATE"
  log "removed $STATE"
fi

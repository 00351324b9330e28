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
# stop NAME...: stops those services side by side (an engine takes 15-35 s
# to close its cache cleanly).
stop() {
  local s
  for s in "$@"; do stop_pid "$STATE/run/$s.pid" "$s" & done
  wait
}
# --only FILE: stop only the services listed in FILE (see MATRIX_STARTED_FILE).
if [ "${1:-}" = --only ]; then
  only=()
  for s in engine engine2 registry dockerd; do
    if grep -qx "$s" "$2" 2>/dev/null; then only+=("$s"); fi
  done
  stop "${only[@]}"
  exit 0
fi
stop engine engine2 registry dockerd
if [ "${1:-}" = --clean ]; then
  rm -f /usr/local/bin/dagger /usr/local/bin/task
  # A mount left under the state (dockerd bind-mounts its data root onto
  # itself) would make rm fail.
  umount_under "$STATE"
  rm -rf "$STATE"
  log "removed $STATE"
fi

#!/bin/sh
# Serves the bare repositories under GIT_ROOT (default /srv/git) with git
# daemon. Repositories are exported when they hold git-daemon-export-ok, or
# all of them with GIT_EXPORT_ALL=1. Pushes (receive-pack) are off unless
# GIT_ENABLE_PUSH=1: git:// has no authentication. Extra arguments go to
# git daemon.
set -eu
root=${GIT_ROOT:-/srv/git}
set -- --reuseaddr --verbose --port="${GIT_PORT:-9418}" --base-path="$root" "$@"
[ "${GIT_EXPORT_ALL:-0}" = 1 ] && set -- --export-all "$@"
[ "${GIT_ENABLE_PUSH:-0}" = 1 ] && set -- --enable=receive-pack "$@"
exec git daemon "$@" "$root"

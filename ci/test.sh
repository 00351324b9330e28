#!/usr/bin/env bash
# The test command: unit tests, then integration tests against the world's
# engine and registry (ci/world/up.sh). Under CI=true an unreachable engine
# fails the integration tests instead of skipping them.
set -euo pipefail
cd "$(dirname "$0")/.."
state=${MATRIX_STATE:-/var/lib/matrix}
# shellcheck disable=SC1091
[ -f "$state/env" ] && . "$state/env"
go vet ./...
# The Go components are modules of their own.
for mod in $(find components -name go.mod | sort); do
  (cd "$(dirname "$mod")" && go vet ./... && go test -count=1 ./...)
done
# -p 1: integration packages share one engine, and the fault suite restarts it.
go test -p 1 -count=1 -timeout 80m -v "${@:-./...}"

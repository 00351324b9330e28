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
(cd components/backend && go vet ./... && go test -count=1 ./...)
go test -count=1 -timeout 40m -v "${@:-./...}"

#!/usr/bin/env bash
# The main job from nothing: sets up whatever of the air-gapped world is
# missing (ci/world/up.sh: idempotent; about 9 minutes from nothing, 15 s
# when it is up), points dagger at its engine, then builds and verifies the
# 24 cells (12 components x linux/amd64, linux/arm64) through the Dagger
# module. Further arguments go to build-all, e.g. --components backend.
# The bundle is ../shared/dagger unless MATRIX_DAGGER_BUNDLE says otherwise.
set -euo pipefail
cd "$(dirname "$0")/.."
export MATRIX_DAGGER_BUNDLE=${MATRIX_DAGGER_BUNDLE:-$(cd .. && pwd)/shared/dagger}
ci/world/up.sh
# shellcheck disable=SC1091
. "${MATRIX_STATE:-/var/lib/matrix}/env"
exec dagger call build-all --platforms linux/amd64,linux/arm64 "$@"

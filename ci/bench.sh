#!/usr/bin/env bash
# The benchmark suite: matrix against raw Dagger, sequential per-cell builds
# and buildah, on this machine. Prints the figures docs/benchmarks.md holds.
#   ci/bench.sh            warm, change, native/emulated, publish, export (minutes)
#   ci/bench.sh --cold     also the cold build-all comparisons (prunes the engine cache; an hour)
set -euo pipefail
cd "$(dirname "$0")/.."
state=${MATRIX_STATE:-/var/lib/matrix}
# shellcheck disable=SC1091
[ -f "$state/env" ] && . "$state/env"
command -v buildah >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq buildah >/dev/null
benches='WarmNoOp|OneFileChanged|GoStage|Publish|Export'
if [ "${1:-}" = --cold ]; then
  benches="$benches|Cold"
  export MATRIX_BENCH_COLD=1
fi
go test -run '^$' -bench "$benches" -benchtime 3x -timeout 180m -v ./bench/ | tee "${TMPDIR:-/tmp}/matrix-bench.txt"

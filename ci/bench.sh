#!/usr/bin/env bash
# The benchmark suite: matrix against raw Dagger, sequential per-cell builds
# and buildah, on this machine. Prints the figures docs/benchmarks.md holds.
#   ci/bench.sh            warm, change, publish, export, native/emulated (about 30 minutes)
#   ci/bench.sh --cold     also the cold build-all comparisons (prunes the engine cache; about 100 minutes a run per mode)
set -euo pipefail
cd "$(dirname "$0")/.."
state=${MATRIX_STATE:-/var/lib/matrix}
# shellcheck disable=SC1091
[ -f "$state/env" ] && . "$state/env"
command -v buildah >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq buildah >/dev/null
out=${TMPDIR:-/tmp}/matrix-bench.txt
: >"$out"
if [ "${1:-}" = --cold ]; then
  # Each run of each mode is a full cold build of 24 cells (25-40 minutes here):
  # one by default, MATRIX_BENCH_COLD_RUNS for more.
  MATRIX_BENCH_COLD=1 go test -tags engine -run '^$' -bench Cold -benchtime "${MATRIX_BENCH_COLD_RUNS:-1}x" -timeout 240m -v ./test/bench/ | tee -a "$out"
fi
go test -tags engine -run '^$' -bench 'WarmNoOp|OneFileChanged|Publish|Export' -benchtime 3x -timeout 180m -v ./test/bench/ | tee -a "$out"
# The emulated Go stage takes about five minutes a run: MATRIX_BENCH_GOSTAGE_RUNS sets how many.
go test -tags engine -run '^$' -bench GoStage -benchtime "${MATRIX_BENCH_GOSTAGE_RUNS:-3}x" -timeout 180m -v ./test/bench/ | tee -a "$out"

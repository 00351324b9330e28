#!/usr/bin/env bash
# The test command: every test, unit and integration, against the world's
# engine and registry. It first sets up whatever of the world is missing,
# with everything the tests use (ci/world/up.sh --docker --second-engine
# --test-tools: idempotent, 15 s when it is up; the bundle is
# ../shared/dagger unless MATRIX_DAGGER_BUNDLE says otherwise), unless
# MATRIX_WORLD_UP=1 says the caller did (.ci/run times its own set-up).
# Integration tests carry the build tag `engine`; `task test:unit` (go test
# ./...) runs the rest, needing no world. Under CI=true an unreachable
# engine fails the integration tests instead of skipping them, and a skip
# fails the run.
#
# gotestsum writes each phase's go test -json stream and JUnit XML into
# $MATRIX_TEST_OUT (default reports/test), which .ci/run reads for its time
# table.
set -euo pipefail
cd "$(dirname "$0")/.."
state=${MATRIX_STATE:-/var/lib/matrix}
if [ "${MATRIX_WORLD_UP:-}" != 1 ]; then
  export MATRIX_DAGGER_BUNDLE=${MATRIX_DAGGER_BUNDLE:-$(cd .. && pwd)/shared/dagger}
  ci/world/up.sh --docker --second-engine --test-tools
fi
# shellcheck disable=SC1091
[ -f "$state/env" ] && . "$state/env"
out=${MATRIX_TEST_OUT:-reports/test}
mkdir -p "$out"
gotestsum_version=v1.13.0
gotestsum() { go run "gotest.tools/gotestsum@$gotestsum_version" "$@"; }

# The module's first load of this tree compiles it (about a minute): it
# starts now, beside the vet and the test compiles, not inside the first
# test that calls the module. The tests judge the module, not this.
dagger functions >"$out/module-load.log" 2>&1 &

go vet -tags engine ./...
# The browser the timeline page is loaded in (once per machine).
ci/browser.sh
# The Go components are modules of their own.
for mod in $(find components -name go.mod | sort); do
  (cd "$(dirname "$mod")" && go vet ./... && go test -count=1 ./...)
done

# phase NAME GO-TEST-ARGS...: one go test run, its stream kept as NAME.json.
phase() {
  local name=$1; shift
  gotestsum --format standard-verbose --jsonfile "$out/$name.json" --junitfile "$out/$name.xml" -- "$@"
}
# -p 2: two packages at a time share the engine, which serves many sessions;
# most integration tests wait on the engine, the registry or a fault's
# timer, not on this machine's cores. -parallel 6: the tests marked
# t.Parallel (TestBadInput's dagger calls, the system tests that publish to a
# repository, or run an engine, of their own) side by side; go test starts
# them only after the package's other tests, so the long ones are all
# parallel, and six keep a slow one from holding the rest back. The restart tests (tag restart) stop
# and start the engine, so they run alone, last.
status=0
trap 'exit 143' TERM INT
phase all -tags engine -p 2 -parallel 6 -count=1 -timeout 80m "${@:-./...}" || status=1
if [ $# -eq 0 ]; then
  phase restart -tags engine,restart -count=1 -timeout 20m -run 'Restart' ./test/reliability/ || status=1
fi
# Under CI every integration test runs: a skip is a defect.
if [ "${CI:-}" = true ]; then
  skipped=$(cat "$out"/*.json | grep -h '"Action":"skip"' | grep '"Test"' || true)
  if [ -n "$skipped" ]; then
    echo "test: these tests skipped under CI=true (each needs the world; a skip hides a defect):" >&2
    echo "$skipped" | sed -n 's/.*"Package":"\([^"]*\)","Test":"\([^"]*\)".*/  \1 \2/p' >&2
    status=1
  fi
fi
exit "$status"

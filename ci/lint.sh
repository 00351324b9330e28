#!/usr/bin/env bash
# The lint command (task lint): go vet over every Go module, golangci-lint on
# the root module (.golangci.yaml), actionlint on the GitHub workflow, and
# test/ci_files_test.go, which parses Taskfile.yml, the workflow and
# .gitlab-ci.yml and checks that their `dagger call` lines agree. Needs Go
# and the Go module proxy (golangci-lint and actionlint are built from
# source, pinned); no engine. actionlint runs shellcheck on `run:` scripts
# when it is installed.
set -euo pipefail
cd "$(dirname "$0")/.."

actionlint_version=v1.7.12
golangci_version=v2.15.0
golangci() { go run "github.com/golangci/golangci-lint/v2/cmd/golangci-lint@$golangci_version" "$@"; }

echo "==> gofmt -l (every Go file, ci/ included)"
unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './.git/*'))
if [ -n "$unformatted" ]; then
  echo "lint: not gofmt'ed (run gofmt -w on them):" >&2
  echo "$unformatted" >&2
  exit 1
fi

echo "==> go vet ./... (root module; unit tests, then with the tags engine, restart and runners)"
go vet ./...
go vet -tags engine ./...
go vet -tags engine,restart ./test/reliability/
go vet -tags engine,runners ./test/

echo "==> golangci-lint $golangci_version run ./... (.golangci.yaml: a small, deliberate set; every build tag)"
golangci run ./...

# The Dagger module's bindings (ci/dagger.gen.go, ci/internal/) are generated
# by `dagger develop` or the engine and never committed.
if [ -f ci/dagger.gen.go ]; then
  echo "==> go vet . and golangci-lint (ci/, the Dagger module)"
  (cd ci && go vet . && golangci run --config ../.golangci.yaml ./...)
else
  echo "==> skipping go vet in ci/: ci/dagger.gen.go is absent (generate it with \`dagger develop\`)"
fi

shopt -s nullglob globstar
for mod in components/**/go.mod; do
  dir=$(dirname "$mod")
  echo "==> go vet ./... ($dir)"
  (cd "$dir" && go vet ./...)
done

echo "==> actionlint $actionlint_version .github/workflows/ci.yml"
if ! command -v shellcheck >/dev/null; then
  echo "    (shellcheck not installed: run: scripts are not shellchecked)"
fi
go run "github.com/rhysd/actionlint/cmd/actionlint@$actionlint_version" .github/workflows/ci.yml

echo "==> CI files: YAML parse and dagger call lines and the root layout (go test -run 'TestCIFiles|TestLayout' ./test/)"
# Only TestCIFiles runs, so CI=true cannot turn an engine skip into a failure.
go test -count=1 -run '^(TestCIFiles|TestLayout)' ./test/

echo "==> the CI files as the runners last ran them (ci/runners/last-run.sha256)"
# act and gitlab-ci-local take too long for every CI run (docs/ci.md: the CI files,
# run here), so a change to a CI file lands only with a passing `task runners`.
if ! grep -v '^#' ci/runners/last-run.sha256 | sha256sum --check --quiet --strict -; then
  echo "lint: a CI file changed after the last runners run: run \`task runners\` (it rewrites ci/runners/last-run.sha256 when every run passes) and commit the stamp with the change" >&2
  exit 1
fi

echo "==> ci/world as ci/world/fresh.sh last proved it (ci/world/fresh.sha256)"
# The fresh-root-filesystem check takes over 10 minutes, so .ci/run runs it
# only when ci/world or the bundle changed since it last passed.
bundle=${MATRIX_DAGGER_BUNDLE:-../shared/dagger}
if [ ! -f "$bundle/SHA256SUMS" ]; then
  # A hosted runner (or a runner stand-in) has no air-gapped world to prove.
  echo "    skipped: no Dagger bundle at $bundle (the air-gapped world's check)"
elif ! (. ci/world/lib.sh && fresh_stamp_ok "$bundle"); then
  echo "lint: ci/world or $bundle/SHA256SUMS changed after the last fresh.sh pass: run \`task fresh\` (it rewrites ci/world/fresh.sha256 when it passes) and commit the stamp with the change" >&2
  exit 1
fi

echo "==> matrix lint (the components' Dockerfiles, notes included)"
go run ./cmd/matrix --severity note lint

echo "lint: ok"

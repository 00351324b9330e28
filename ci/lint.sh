#!/usr/bin/env bash
# The lint command (task lint): go vet over every Go module, actionlint on the
# GitHub workflow, and test/ci_files_test.go, which parses Taskfile.yml, the
# workflow and .gitlab-ci.yml and checks that their `dagger call` lines agree.
# Needs Go and the Go module proxy (actionlint is built from source, pinned);
# no engine. actionlint runs shellcheck on `run:` scripts when it is installed.
set -euo pipefail
cd "$(dirname "$0")/.."

actionlint_version=v1.7.12

echo "==> go vet ./... (root module)"
go vet ./...

# The Dagger module's bindings (ci/dagger.gen.go, ci/internal/) are generated
# by `dagger develop` or the engine and never committed.
if [ -f ci/dagger.gen.go ]; then
  echo "==> go vet . (ci/, the Dagger module)"
  (cd ci && go vet .)
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

echo "==> matrix lint (the components' Dockerfiles, notes included)"
go run ./cmd/matrix lint --severity note

echo "lint: ok"

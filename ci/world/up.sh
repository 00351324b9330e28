#!/usr/bin/env bash
# Sets up the air-gapped Dagger world on a Debian 12 host (root, no Docker, no
# public registry): Debian packages, the Dagger v0.21.8 bundle, a local
# registry on 127.0.0.1:5000 seeded with multi-platform base images, the Go
# SDK runtime, and the engine in a private mount namespace. Idempotent: every
# step checks first and reuses what is healthy.
#
#   MATRIX_DAGGER_BUNDLE=../shared/dagger ci/world/up.sh   (or --bundle DIR)
#   ... --docker   also a Docker daemon (Debian's docker.io) with the engine and
#                  registry images of the Docker road (ci/world/docker.sh) loaded
#   ... --second-engine  also a second engine on /run/dagger/engine2.sock, with
#                  its own state and network (matrix --engine; MATRIX_ENGINE2)
#   ... --test-tools  also the cosign and oras CLIs the attestation tests check
#                  with, compiled from the Go module proxy into $STATE/bin
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

with_docker=
second_engine=
test_tools=
while [ $# -gt 0 ]; do
  case "$1" in
    --bundle) MATRIX_DAGGER_BUNDLE=$2; shift 2 ;;
    --bundle=*) MATRIX_DAGGER_BUNDLE=${1#*=}; shift ;;
    --docker) with_docker=1; shift ;;
    --second-engine) second_engine=1; shift ;;
    --test-tools) test_tools=1; shift ;;
    -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
    *) die "unknown argument $1 (use --bundle DIR, --docker, --second-engine, --test-tools)" ;;
  esac
done
[ -n "${MATRIX_DAGGER_BUNDLE:-}" ] || die "MATRIX_DAGGER_BUNDLE is not set: point it (or --bundle) at the directory holding dagger-v${DAGGER_VERSION}-linux-amd64.tar.xz and SHA256SUMS"
MATRIX_DAGGER_BUNDLE=$(cd "$MATRIX_DAGGER_BUNDLE" && pwd) || die "bundle directory $MATRIX_DAGGER_BUNDLE does not exist"
[ "$(id -u)" = 0 ] || die "air-gapped set-up runs as root (it installs packages and starts the engine)"

mkdir -p "$STATE"/{bin,run,log}
start=$(date +%s)
step packages   install_packages
step binfmt     enable_binfmt
step bundle     install_bundle
step tools      install_tools
# The Go tools, one after another (see GO_TOOL_FLAGS), beside the steps below.
{
  step syft-build build_syft
  step task install_task
  [ -z "$test_tools" ] || step test-tools install_test_tools
} & go_tools_pid=$!
step registry   start_registry
step bases      seed_bases
step upstream   seed_upstream
wait "$go_tools_pid" || exit 1
step syft       seed_syft
step sdk        build_sdk_runtime
# The engines and the Docker road start side by side: each start mostly
# waits (an engine loading its cache, the daemon coming up).
step engine     start_engine & pids=$!
[ -z "$second_engine" ] || { step engine2 start_engine2 & pids="$pids $!"; }
if [ -n "$with_docker" ]; then
  {
    step docker          start_docker
    step engine-image    build_engine_image
    step registry-image  build_registry_image
  } & pids="$pids $!"
fi
for pid in $pids; do wait "$pid" || exit 1; done
write_env
log "world ready in $(( $(date +%s) - start ))s; use it with: . $STATE/env"

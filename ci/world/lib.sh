# Shared by up.sh and down.sh. Everything the world makes lives under $STATE,
# so `down.sh --clean` can remove exactly that.
DAGGER_VERSION=0.21.8
GO_VERSION=${MATRIX_GO_VERSION:-1.26.8}
TASK_VERSION=v3.54.0
COSIGN_VERSION=v2.6.5
ORAS_VERSION=v1.3.6
# The SBOM scanner's image (pkg/sbom: SyftVersion, DefaultImage), seeded
# from source because nothing can be pulled here.
SYFT_VERSION=v1.57.2
SYFT_IMAGE=anchore/syft:$SYFT_VERSION
STATE=${MATRIX_STATE:-/var/lib/matrix}
REGISTRY_ADDR=127.0.0.1:5000
ENGINE_SOCK=/run/dagger/engine.sock
ENGINE_WAIT=${MATRIX_ENGINE_WAIT:-120}
# How long a stop waits for a clean exit before SIGKILL.
STOP_WAIT=${MATRIX_STOP_WAIT:-300}
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# arch-test: mmdebstrap needs it for foreign-architecture rootfs, and it is only a
# Recommends (installs here use --no-install-recommends).
PACKAGES="runc containernetworking-plugins dnsmasq-base iptables qemu-user-static binfmt-support git docker-registry mmdebstrap arch-test skopeo curl xz-utils ca-certificates"
BASES="debian:bookworm-slim golang:1.26-bookworm"

log() { printf 'world: %s\n' "$*" >&2; }
# umount_under DIR unmounts whatever is mounted below DIR: deepest first,
# lazily, in case something still holds a file open.
umount_under() {
  local m
  for m in $(findmnt -rn -o TARGET | grep -F "$1/" | sort -r); do umount -l "$m" || true; done
}
die() { printf 'world: error: %s\n' "$*" >&2; exit 1; }
step() {
  local name=$1 t0; shift
  t0=$(date +%s)
  "$@" || die "step $name failed (see messages above; logs in $STATE/log)"
  log "$name: ok ($(( $(date +%s) - t0 ))s)"
  # .ci/run's time table reads MATRIX_TIMES_FILE.
  [ -z "${MATRIX_TIMES_FILE:-}" ] || echo "up.sh $name $(( $(date +%s) - t0 ))" >>"$MATRIX_TIMES_FILE"
}

# The stamp of ci/world/fresh.sh's last pass: the digest of every file
# under ci/world (but the stamp) and the bundle's SHA256SUMS. .ci/run runs
# fresh.sh only when it changed; ci/lint.sh fails on a stale stamp.
FRESH_STAMP=ci/world/fresh.sha256
fresh_digest() {
  local bundle=$1
  (cd "$ROOT" && find ci/world -type f ! -path "$FRESH_STAMP" -print0 | LC_ALL=C sort -z | xargs -0 sha256sum
    echo "$(sha256sum <"$bundle/SHA256SUMS" | cut -d' ' -f1)  bundle SHA256SUMS") | sha256sum | cut -d' ' -f1
}
# fresh_stamp_ok BUNDLE: the stamp matches ci/world and the bundle.
fresh_stamp_ok() {
  [ "$(grep -v '^#' "$ROOT/$FRESH_STAMP" 2>/dev/null | cut -d' ' -f1)" = "$(fresh_digest "$1")" ]
}
# started notes a service this invocation started, so a caller (.ci/run) can
# stop exactly those: MATRIX_STARTED_FILE names the list.
started() { [ -z "${MATRIX_STARTED_FILE:-}" ] || echo "$1" >>"$MATRIX_STARTED_FILE"; }
alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

# apt_install PKG...: installs those of the packages that are missing.
apt_install() {
  local missing=() p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  log "installing ${missing[*]}"
  apt-get update -qq >"$STATE/log/apt.log" 2>&1 || { tail -20 "$STATE/log/apt.log" >&2; return 1; }
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >>"$STATE/log/apt.log" 2>&1 \
    || { tail -20 "$STATE/log/apt.log" >&2; return 1; }
}

install_packages() {
  # binfmt_misc must be mounted before qemu-user-static registers its handlers.
  mount_binfmt
  # shellcheck disable=SC2086 # one word per package
  apt_install $PACKAGES
}

mount_binfmt() {
  [ -e /proc/sys/fs/binfmt_misc/register ] && return 0
  mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc
}

enable_binfmt() {
  mount_binfmt
  if ! grep -q '^enabled' /proc/sys/fs/binfmt_misc/qemu-aarch64 2>/dev/null; then
    update-binfmts --enable qemu-aarch64 >/dev/null 2>&1 || true  # checked just below
  fi
  grep -q '^enabled' /proc/sys/fs/binfmt_misc/qemu-aarch64 2>/dev/null \
    || { log "qemu-aarch64 binfmt handler missing: reinstall qemu-user-static after mounting binfmt_misc"; return 1; }
  grep -q 'flags: .*F' /proc/sys/fs/binfmt_misc/qemu-aarch64 \
    || { log "qemu-aarch64 handler lacks the F flag: containers could not find the interpreter"; return 1; }
}

install_bundle() {
  local tarball="$MATRIX_DAGGER_BUNDLE/dagger-v${DAGGER_VERSION}-linux-amd64.tar.xz" dir="$STATE/bundle"
  [ -f "$tarball" ] || { log "$tarball not found"; return 1; }
  [ -f "$MATRIX_DAGGER_BUNDLE/SHA256SUMS" ] || { log "$MATRIX_DAGGER_BUNDLE/SHA256SUMS not found"; return 1; }
  if ! (cd "$dir" 2>/dev/null && sha256sum --quiet -c "$MATRIX_DAGGER_BUNDLE/SHA256SUMS" >/dev/null 2>&1); then
    rm -rf "$dir"; mkdir -p "$dir"
    tar -xJf "$tarball" -C "$dir"
    # Binaries may sit in a subdirectory of the archive; flatten them.
    find "$dir" -mindepth 2 -type f -exec mv -t "$dir" {} +
    (cd "$dir" && sha256sum --quiet -c "$MATRIX_DAGGER_BUNDLE/SHA256SUMS") \
      || { log "bundle does not match $MATRIX_DAGGER_BUNDLE/SHA256SUMS"; return 1; }
  fi
  install -m 0755 "$dir/dagger" "$STATE/bin/dagger"
  install -m 0755 "$dir/dagger-engine" "$STATE/bin/dagger-engine"
  install -D -m 0755 "$dir/dagger-init" /usr/local/bin/dagger-init
  install -D -m 0755 "$dir/dnsname" /opt/cni/bin/dnsname
  install -D -m 0755 "$dir/dial-stdio" /usr/bin/dial-stdio
  ln -sf "$STATE/bin/dagger" /usr/local/bin/dagger
  cp -n /usr/lib/cni/* /opt/cni/bin/ 2>/dev/null || true  # -n: keep what is there
  [ -x /opt/cni/bin/bridge ] || { log "CNI plugins missing from /opt/cni/bin"; return 1; }
  ln -sf /usr/sbin/runc /usr/local/bin/runc
  # The engine relinks /usr/bin/iptables* to /usr/bin/xtables-*-multi; Debian
  # has them in /usr/sbin only.
  local x
  for x in xtables-legacy-multi xtables-nft-multi; do
    [ -e /usr/sbin/$x ] && [ ! -e /usr/bin/$x ] && ln -s /usr/sbin/$x /usr/bin/$x
  done
  return 0
}

install_tools() {
  (cd "$ROOT" && go build -o "$STATE/bin/matrix-world" ./cmd/matrix-world)
}

# The Go tools the world compiles (syft, go-task, cosign, oras) are built one
# after another, beside the other steps, all with the same flags: so each
# package they share, the standard library first, is compiled once into the
# build cache, where side by side on two cores each build compiled it again.
GO_TOOL_FLAGS="-trimpath"

# install_task compiles go-task (minutes on a fresh machine).
install_task() {
  if [ ! -x "$STATE/bin/task" ]; then
    CGO_ENABLED=0 GOBIN="$STATE/bin" go install $GO_TOOL_FLAGS "github.com/go-task/task/v3/cmd/task@$TASK_VERSION" >"$STATE/log/task.log" 2>&1 \
      || { tail -5 "$STATE/log/task.log" >&2; return 1; }
  fi
  ln -sf "$STATE/bin/task" /usr/local/bin/task
}

# install_test_tools compiles the cosign and oras CLIs (minutes on a fresh
# machine) that the attestation tests verify with (up.sh --test-tools).
install_test_tools() {
  local mod bin
  for mod in "github.com/sigstore/cosign/v2/cmd/cosign@$COSIGN_VERSION" "oras.land/oras/cmd/oras@$ORAS_VERSION"; do
    bin=${mod%@*}; bin=${bin##*/}
    if [ ! -x "$STATE/bin/$bin" ] || [ "$(cat "$STATE/bin/$bin.version" 2>/dev/null)" != "${mod#*@}" ]; then
      CGO_ENABLED=0 GOBIN="$STATE/bin" go install $GO_TOOL_FLAGS "$mod" >>"$STATE/log/test-tools.log" 2>&1 \
        || { tail -5 "$STATE/log/test-tools.log" >&2; return 1; }
      echo "${mod#*@}" >"$STATE/bin/$bin.version"
    fi
  done
}

# build_syft compiles syft for this host's platform, once (minutes on a
# fresh machine).
build_syft() {
  local dir="$STATE/tools/syft-$SYFT_VERSION"
  [ -x "$dir/syft" ] && return 0
  mkdir -p "$dir"
  CGO_ENABLED=0 GOBIN="$dir" go install $GO_TOOL_FLAGS -ldflags "-s -w -X main.version=${SYFT_VERSION#v}" \
    "github.com/anchore/syft/cmd/syft@$SYFT_VERSION" >"$STATE/log/syft.log" 2>&1 \
    || { tail -5 "$STATE/log/syft.log" >&2; return 1; }
}

# seed_syft pushes anchore/syft:$SYFT_VERSION, as upstream ships it (FROM
# scratch, /syft), for this host's platform: the engines pull it for the
# SBOMs instead of each compiling syft.
seed_syft() {
  curl -fs -o /dev/null --max-time 5 -H 'Accept: application/vnd.oci.image.index.v1+json' \
    "http://$REGISTRY_ADDR/v2/${SYFT_IMAGE%:*}/manifests/${SYFT_IMAGE##*:}" && return 0
  "$STATE/bin/matrix-world" tool --registry "$REGISTRY_ADDR" --image "$SYFT_IMAGE" --name syft \
    "--$(go env GOARCH)" "$STATE/tools/syft-$SYFT_VERSION/syft"
}

registry_up() { curl -fs -o /dev/null --max-time 2 "http://$REGISTRY_ADDR/v2/"; }

start_registry() {
  registry_up && return 0
  mkdir -p "$STATE/registry" "$STATE/etc"
  cat >"$STATE/etc/registry.yml" <<YAML
version: 0.1
log: {level: warn}
storage:
  filesystem: {rootdirectory: $STATE/registry}
  delete: {enabled: true}
http:
  addr: $REGISTRY_ADDR
YAML
  setsid docker-registry serve "$STATE/etc/registry.yml" >"$STATE/log/registry.log" 2>&1 </dev/null &
  echo $! >"$STATE/run/registry.pid"
  started registry
  local i
  for i in $(seq 1 50); do registry_up && return 0; sleep 0.2; done
  tail -5 "$STATE/log/registry.log" >&2
  log "registry did not answer on $REGISTRY_ADDR within 10s"; return 1
}

toolchain_dir() {
  go mod download -json "golang.org/toolchain@v0.0.1-go$GO_VERSION.linux-$1" \
    | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p'
}

# This host's own CA certificates (a TLS-inspecting egress proxy's, here).
# The world bakes them into its bases, as a site behind such a proxy bakes
# its CA into the base images it mirrors, and its engines do not see them:
# an engine that has custom CAs installs them into every container it runs,
# with update-ca-certificates before and after each exec, and that cost five
# times all the other execs of a CI run (docs/benchmarks.md).
HOST_CA_DIR=/usr/local/share/ca-certificates
# shellcheck disable=SC2016 # $1 is the hook's argument, expanded by mmdebstrap's shell
CA_HOOK='mkdir -p "$1/usr/local/share/ca-certificates"; for f in '"$HOST_CA_DIR"'/*.crt; do [ ! -e "$f" ] || cp "$f" "$1/usr/local/share/ca-certificates/"; done'
cas_digest() { { find "$HOST_CA_DIR" -maxdepth 1 -name '*.crt' -type f 2>/dev/null | LC_ALL=C sort | xargs -r cat; echo "$GOLANG_PACKAGES"; } | sha256sum | cut -c1-16; }

# mmdebstrap into $STATE/rootfs/NAME-ARCH.tar unless it is already there,
# with this host's CA certificates in place before ca-certificates is
# configured.
rootfs() {
  local name=$1 arch=$2 include=$3 out="$STATE/rootfs/$1-$2.tar"
  [ -s "$out" ] && return 0
  mkdir -p "$STATE/rootfs"
  rm -f "$out.tmp"
  mmdebstrap --quiet --format=tar --variant=minbase --architectures="$arch" ${include:+--include="$include"} \
    --setup-hook="$CA_HOOK" bookworm "$out.tmp" >"$STATE/log/rootfs-$name-$arch.log" 2>&1 \
    || { tail -20 "$STATE/log/rootfs-$name-$arch.log" >&2; rm -f "$out.tmp"; return 1; }
  mv "$out.tmp" "$out"
}

GOLANG_PACKAGES=git,ca-certificates,openssh-client,openssl

# The bases, and the SDK runtime made from the golang root file system, are
# made again when this host's CAs changed (or were not baked in yet).
bases_current() { [ "$(cat "$STATE/rootfs/cas" 2>/dev/null)" = "$(cas_digest)" ]; }

seed_bases() {
  if bases_current; then
    "$STATE/bin/matrix-world" check-bases --registry "$REGISTRY_ADDR" $BASES && return 0
  else
    rm -f "$STATE"/rootfs/*.tar "$STATE/sdk.digest"
  fi
  log "seeding $BASES into $REGISTRY_ADDR (mmdebstrap, a few minutes)"
  local pids=() a
  for a in amd64 arm64; do
    rootfs debian "$a" "" & pids+=($!)
    rootfs golang "$a" "$GOLANG_PACKAGES" & pids+=($!)
  done
  for a in "${pids[@]}"; do wait "$a" || return 1; done
  "$STATE/bin/matrix-world" seed --registry "$REGISTRY_ADDR" --rootfs "$STATE/rootfs" \
    --go-amd64 "$(toolchain_dir amd64)" --go-arm64 "$(toolchain_dir arm64)" --go-version "$GO_VERSION" || return 1
  cas_digest >"$STATE/rootfs/cas"
}

# The stand-ins for third-party images (matrix mirror, export, import): one
# with linux/amd64 and linux/arm64, one with linux/amd64 only.
seed_upstream() {
  "$STATE/bin/matrix-world" upstream --registry "$REGISTRY_ADDR"
}

build_sdk_runtime() {
  [ -s "$STATE/sdk.digest" ] && [ -f "$STATE/sdk-content/index.json" ] && return 0
  rootfs golang amd64 "$GOLANG_PACKAGES"
  rm -rf "$STATE/sdk-content"
  "$STATE/bin/matrix-world" sdk --rootfs "$STATE/rootfs/golang-amd64.tar" --go "$(toolchain_dir amd64)" \
    --codegen "$STATE/bundle/codegen" --out "$STATE/sdk-content" >"$STATE/sdk.digest.tmp"
  mv "$STATE/sdk.digest.tmp" "$STATE/sdk.digest"
}

# engine_ok asks the engine itself for its version (bounded: a socket with no
# engine behind it makes clients hang).
engine_ok() {
  local sock=${1:-$ENGINE_SOCK}
  [ -S "$sock" ] || return 1
  local out
  out=$(DAGGER_NO_NAG=1 _EXPERIMENTAL_DAGGER_RUNNER_HOST="unix://$sock" \
    timeout 20 "$STATE/bin/dagger" core version 2>/dev/null) || return 1
  case "$out" in *"v$DAGGER_VERSION"*) return 0 ;; *) return 1 ;; esac
}

stop_pid() {
  local pidfile=$1 what=$2 pid t0
  alive "$pidfile" || { rm -f "$pidfile"; return 0; }
  pid=$(cat "$pidfile") t0=$(date +%s)
  kill "$pid" 2>/dev/null || true
  # Wait for a clean exit: an engine killed mid-write marks its cache unclean
  # and wipes all of it at the next start (docs/cache.md).
  for _ in $(seq 1 $((STOP_WAIT * 5))); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
  if kill -0 "$pid" 2>/dev/null; then
    log "$what (pid $pid) still running after ${STOP_WAIT}s: killing it (a killed engine's cache is wiped at its next start)"
    kill -9 "$pid" 2>/dev/null || true; sleep 1
  fi
  rm -f "$pidfile"
  log "stopped $what (pid $pid) in $(( $(date +%s) - t0 ))s"
}

# engine_config mirrors docker.io to the local registry and marks the loopback
# registries plain HTTP: 5000 the world's, 5001-5003 the fault suite's.
engine_config() {
  local regs='"docker.io": {"mirrors": ["localhost:5000"]}' p
  for p in 5000 5001 5002 5003; do
    regs="$regs, \"localhost:$p\": {\"http\": true}, \"127.0.0.1:$p\": {\"http\": true}"
  done
  # The cache policy: Dagger's default keeps 20 % of the disk free and prunes
  # down to 10 GB whenever it is not: on this host, whose free space is under
  # 20 % of its disk (most of it reserved), that pruned
  # the engine between two runs (every "warm" run then built from nothing).
  # Here the cache is kept up to MATRIX_ENGINE_CACHE (default 60GB) while
  # 10 GB stay free.
  printf '{"registries": {%s}, "gc": {"maxUsedSpace": "%s", "reservedSpace": "20GB", "minFreeSpace": "10GB"}}\n' \
    "$regs" "${MATRIX_ENGINE_CACHE:-60GB}"
}

# engine_stamp is what a running engine was started with.
engine_stamp() { engine_config; echo "dnsmasq --bind-dynamic"; echo "no custom CAs"; }

# The second engine (up.sh --second-engine): its own socket, state directory
# and container network, so two engines of one run (matrix --engine) can
# build side by side on this machine.
ENGINE2_SOCK=/run/dagger/engine2.sock

# start_engine [NAME SOCK NETWORK CIDR]: the engine (default), or another one.
start_engine() {
  local name=${1:-engine} sock=${2:-$ENGINE_SOCK} net=${3:-dagger} cidr=${4:-10.87.0.0/16}
  mkdir -p "$STATE/etc" "$STATE/$name" "$STATE/empty" /etc/dagger /usr/local/share/dagger/content /run/dagger "$HOST_CA_DIR"
  # A healthy engine is reused unless its configuration or start changed.
  if [ "$(engine_stamp)" = "$(cat "$STATE/run/$name.stamp" 2>/dev/null)" ] && engine_ok "$sock"; then
    return 0
  fi
  stop_pid "$STATE/run/$name.pid" "$name"
  # The one config every engine reads; engines start side by side, so each
  # writes it whole and renames it in place.
  engine_config >"$STATE/etc/engine.json.$name" && mv -f "$STATE/etc/engine.json.$name" "$STATE/etc/engine.json"
  engine_stamp >"$STATE/run/$name.stamp"
  rm -f "$sock"
  # A private mount namespace keeps the engine's bind mount of /etc/resolv.conf
  # from leaking to the host; it also shows the engine our config and SDK content.
  # Each engine's DNS (dnsmasq, started by the CNI dnsname plugin) binds only
  # its own bridge: two engines' dnsmasq would both take *:53 otherwise.
  # --bind-dynamic, not --bind-interfaces: dnsmasq starts before a new
  # network's bridge exists ("unknown interface dagger0" on a fresh machine).
  # An empty directory hides this host's CAs from the engine (see HOST_CA_DIR).
  install -m 0755 /usr/sbin/dnsmasq "$STATE/bin/dnsmasq.real.$name" && mv -f "$STATE/bin/dnsmasq.real.$name" "$STATE/bin/dnsmasq.real"
  printf '#!/bin/sh\nexec %s --bind-dynamic "$@"\n' "$STATE/bin/dnsmasq.real" >"$STATE/bin/dnsmasq.$name"
  chmod 0755 "$STATE/bin/dnsmasq.$name" && mv -f "$STATE/bin/dnsmasq.$name" "$STATE/bin/dnsmasq"
  # Each engine, as it starts, points /usr/bin/iptables and its kin at one
  # backend, removing and linking them again: two engines doing that at once
  # fail with "symlink ... file exists". The starts take turns until that is
  # done (the log's ipMasqBackend line), then load their caches side by side.
  exec 9>"$STATE/run/engine-start.lock"
  flock 9
  DAGGER_GO_SDK_MANIFEST_DIGEST=$(cat "$STATE/sdk.digest") setsid unshare --mount --propagation private -- sh -c '
    mount --bind "$1" /etc/dagger &&
    mount --bind "$2" /usr/local/share/dagger/content &&
    mount --bind "$8" /usr/sbin/dnsmasq &&
    mount --bind "$9" "${10}" &&
    exec "$3" --root "$4" --addr "unix://$5" --network-name "$6" --network-cidr "$7"' "$name" \
    "$STATE/etc" "$STATE/sdk-content" "$STATE/bin/dagger-engine" "$STATE/$name" "$sock" "$net" "$cidr" "$STATE/bin/dnsmasq" \
    "$STATE/empty" "$HOST_CA_DIR" \
    >"$STATE/log/$name.log" 2>&1 </dev/null 9>&- &
  echo $! >"$STATE/run/$name.pid"
  started "$name"
  local deadline=$(( $(date +%s) + ENGINE_WAIT ))
  while [ "$(date +%s)" -lt "$deadline" ] && alive "$STATE/run/$name.pid" &&
    ! grep -q 'using ipMasqBackend' "$STATE/log/$name.log"; do
    sleep 0.2
  done
  exec 9>&-
  while [ "$(date +%s)" -lt "$deadline" ]; do
    alive "$STATE/run/$name.pid" || { tail -20 "$STATE/log/$name.log" >&2; log "$name exited during start"; return 1; }
    engine_ok "$sock" && return 0
    sleep 1
  done
  tail -20 "$STATE/log/$name.log" >&2
  log "$name did not answer with v$DAGGER_VERSION on $sock within ${ENGINE_WAIT}s"; return 1
}

start_engine2() { start_engine engine2 "$ENGINE2_SOCK" dagger2 10.88.0.0/16; }

write_env() {
  cat >"$STATE/env" <<ENV
export _EXPERIMENTAL_DAGGER_RUNNER_HOST=unix://$ENGINE_SOCK
export _EXPERIMENTAL_DAGGER_CLI_BIN=$STATE/bin/dagger
export DAGGER_NO_NAG=1
export MATRIX_REGISTRY=localhost:5000
# The Docker road's engine runs the world's bases, which carry this host's CAs.
export MATRIX_DOCKER_CA_DIR=none
ENV
  # The second engine, when up.sh --second-engine started it.
  if engine_ok "$ENGINE2_SOCK"; then echo "export MATRIX_ENGINE2=unix://$ENGINE2_SOCK" >>"$STATE/env"; fi
  cat >>"$STATE/env" <<ENV
export PATH=$STATE/bin:\$PATH
ENV
}

# ---- Docker: a real daemon (Debian's docker.io) and the two images the
# Docker road runs, assembled here because nothing can be pulled. ----
DOCKER_PACKAGES="docker.io"
ENGINE_IMAGE=registry.dagger.io/engine:v$DAGGER_VERSION
# The Docker road's registry image; Debian's docker-registry is distribution 2.8.
REGISTRY_IMAGE=registry:2.8

docker_up() { timeout 10 docker version >/dev/null 2>&1; }

start_docker() {
  docker_up && return 0
  # shellcheck disable=SC2086 # one word per package
  apt_install $DOCKER_PACKAGES || return 1
  mkdir -p "$STATE/docker"
  # No systemd here: dockerd runs as a plain process, its state under $STATE.
  setsid dockerd --data-root "$STATE/docker" >"$STATE/log/dockerd.log" 2>&1 </dev/null &
  echo $! >"$STATE/run/dockerd.pid"
  started dockerd
  local i
  for i in $(seq 1 60); do docker_up && return 0; sleep 0.5; done
  tail -20 "$STATE/log/dockerd.log" >&2
  log "dockerd did not answer within 30s"; return 1
}

# image_rootfs NAME PACKAGES HOOK...: a Debian rootfs tarball for an image.
image_rootfs() {
  local name=$1 include=$2 out="$STATE/images/$1.tar"; shift 2
  mkdir -p "$STATE/images"
  rm -f "$out.tmp"
  mmdebstrap --quiet --format=tar --variant=minbase --architectures=amd64 --include="$include" \
    "$@" bookworm "$out.tmp" >"$STATE/log/image-$name.log" 2>&1 \
    || { tail -20 "$STATE/log/image-$name.log" >&2; rm -f "$out.tmp"; return 1; }
  mv "$out.tmp" "$out"
}

# The engine image carries what the CLI's docker-container driver and the
# engine expect (engine/client/drivers, engine/distconsts in Dagger v0.21.8):
# dagger-engine, dagger-init, runc, CNI plugins and dnsname, dnsmasq,
# iptables, `buildctl dial-stdio` (the driver's `docker exec` entry), tini,
# and the Go SDK runtime in /usr/local/share/dagger/content.
build_engine_image() {
  local digest want
  digest=$(cat "$STATE/sdk.digest")
  want="$DAGGER_VERSION $(sha256sum "$STATE/bundle/dagger-engine" | cut -c1-16) $digest"
  [ "$(docker image inspect -f '{{index .Config.Labels "matrix.world"}}' "$ENGINE_IMAGE" 2>/dev/null)" = "$want" ] && return 0
  image_rootfs engine ca-certificates,git,openssh-client,pigz,xz-utils,iptables,dnsmasq-base,runc,containernetworking-plugins,tini,mount \
    --customize-hook="$here/engine-image-hook.sh \"\$1\" $STATE" || return 1
  docker import \
    --change 'ENTRYPOINT ["/usr/local/bin/dagger-entrypoint.sh"]' \
    --change "ENV DAGGER_GO_SDK_MANIFEST_DIGEST=$digest" \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change "LABEL matrix.world=\"$want\"" \
    "$STATE/images/engine.tar" "$ENGINE_IMAGE" >/dev/null
  rm -f "$STATE/images/engine.tar"
}

build_registry_image() {
  docker image inspect "$REGISTRY_IMAGE" >/dev/null 2>&1 && return 0
  # Debian's default config asks for htpasswd auth; the stage registry has none.
  image_rootfs registry docker-registry --customize-hook='printf "%s\n" "version: 0.1" "log: {level: warn}" "storage:" "  filesystem: {rootdirectory: /var/lib/registry}" "  delete: {enabled: true}" "http:" "  addr: :5000" >"$1/etc/docker/registry/config.yml"' || return 1
  docker import \
    --change 'CMD ["/usr/bin/docker-registry", "serve", "/etc/docker/registry/config.yml"]' \
    --change 'EXPOSE 5000' \
    "$STATE/images/registry.tar" "$REGISTRY_IMAGE" >/dev/null
  rm -f "$STATE/images/registry.tar"
}

#!/bin/sh
# The Docker road: one set-up for every Docker host (a Linux laptop, Docker
# Desktop, a GitHub-hosted runner, a GitLab dind job). It starts the Dagger
# engine v0.21.8 as a container and a registry inside the engine container's
# network namespace, so the engine pushes to and pulls from the stage
# registry at localhost:5000 (Publish and DockerBuild's FROM cannot reach a
# Dagger service in v0.21.8), and publishes the registry's port for read-back.
# Idempotent: what is running and configured the same is kept.
#
#   ci/world/docker.sh up        start (or keep) engine and registry; print the env (the default)
#   ci/world/docker.sh down      remove both containers and the network
#   ci/world/docker.sh clean     down, and remove the engine's and registry's volumes
#
# Settings (environment):
#   MATRIX_DOCKER_NAME     name prefix of containers, network, volume  [matrix]
#   MATRIX_DOCKER_PUBLISH  where the registry port is published        [127.0.0.1:5000]
#                          (GitLab dind: 0.0.0.0:5000, read back at docker:5000)
#   MATRIX_DOCKER_READBACK where this shell reads the registry back    [127.0.0.1:<port>]
#   MATRIX_DOCKER_SUBNET   the Docker network of the engine            [172.30.57.0/24]
#   MATRIX_DOCKER_IP       the engine's address in it; the engine, its
#                          containers and a Linux host all reach the
#                          registry there                               [172.30.57.2]
#   MATRIX_DOCKER_MIRROR   optional docker.io mirror host[:port] (air-gapped sites)
#   MATRIX_DOCKER_CA_DIR   extra CA certificates (*.crt) the engine and its containers
#                          trust, e.g. a TLS-inspecting proxy's       [~/.config/dagger/ca-certificates,
#                                                                       else /usr/local/share/ca-certificates]
#                          none: no extra CAs (the world's env says so: its
#                          bases carry them, and each exec is cheaper)
#   MATRIX_ENGINE_CACHE    the most the engine's cache keeps, e.g. 60GB   [Dagger's default]
#   MATRIX_DOCKER_ENV      the env file written                        [$HOME/.cache/matrix/docker.env]
#   MATRIX_STOP_WAIT       seconds an engine gets to stop cleanly, keeping
#                          its cache, before it is killed              [300]
set -eu

DAGGER_VERSION=0.21.8
NAME=${MATRIX_DOCKER_NAME:-matrix}
ENGINE_IMAGE=${MATRIX_ENGINE_IMAGE:-registry.dagger.io/engine:v$DAGGER_VERSION}
REGISTRY_IMAGE=${MATRIX_REGISTRY_IMAGE:-registry:2.8}
PUBLISH=${MATRIX_DOCKER_PUBLISH:-127.0.0.1:5000}
READBACK=${MATRIX_DOCKER_READBACK:-127.0.0.1:${PUBLISH##*:}}
SUBNET=${MATRIX_DOCKER_SUBNET:-172.30.57.0/24}
IP=${MATRIX_DOCKER_IP:-172.30.57.2}
MIRROR=${MATRIX_DOCKER_MIRROR:-}
# The dagger CLI's own docker driver reads ~/.config/dagger/ca-certificates.
CA_DIR=${MATRIX_DOCKER_CA_DIR:-${HOME:-/root}/.config/dagger/ca-certificates}
[ -d "$CA_DIR" ] || [ "$CA_DIR" = none ] || CA_DIR=/usr/local/share/ca-certificates
ENV_FILE=${MATRIX_DOCKER_ENV:-${HOME:-/root}/.cache/matrix/docker.env}
WAIT=${MATRIX_ENGINE_WAIT:-120}
ENGINE=$NAME-engine REGISTRY=$NAME-registry VOLUME=$NAME-engine-state

STOP_WAIT=${MATRIX_STOP_WAIT:-300}

log() { printf 'docker-road: %s\n' "$*" >&2; }
die() { printf 'docker-road: error: %s\n' "$*" >&2; exit 1; }

http_ok() {
  if command -v curl >/dev/null; then curl -fs -o /dev/null --max-time 3 "$1"
  else wget -q -O /dev/null -T 3 "$1"; fi
}

# engine_config marks the stage registry plain HTTP under each name the run
# uses for it, and mirrors docker.io when asked.
engine_config() {
  regs="\"localhost:5000\": {\"http\": true}, \"127.0.0.1:5000\": {\"http\": true}, \"$IP:5000\": {\"http\": true}"
  [ -z "$MIRROR" ] || regs="$regs, \"docker.io\": {\"mirrors\": [\"$MIRROR\"]}, \"$MIRROR\": {\"http\": true}"
  # The cache policy: Dagger's default keeps 20 % of the disk free, so on a
  # disk already fuller than that (this CI host's) it prunes the engine at
  # every chance, and a leg rebuilds, with new layer digests, what the last
  # one built. Keep 10 GB free instead, and the cache within
  # MATRIX_ENGINE_CACHE when set (as the world's engines do, ci/world/lib.sh).
  gc='"minFreeSpace": "10GB"'
  [ -z "${MATRIX_ENGINE_CACHE:-}" ] || gc="$gc, \"maxUsedSpace\": \"$MATRIX_ENGINE_CACHE\""
  printf '{"registries": {%s}, "gc": {%s}}\n' "$regs" "$gc"
}

cas() { [ "$CA_DIR" = none ] || find "$CA_DIR" -maxdepth 1 -name '*.crt' -type f 2>/dev/null | sort; }

running() { [ "$(docker inspect -f '{{.State.Running}}' "$1" 2>/dev/null)" = true ]; }

ensure_image() {
  docker image inspect "$1" >/dev/null 2>&1 && return 0
  log "pulling $1"
  docker pull "$1" >&2 || die "image $1 is not here and cannot be pulled: pull it where a registry is reachable and \`docker load\` it (air-gapped: ci/world/up.sh --docker builds it)"
}

# remove stops the containers first: an engine killed (docker rm -f) marks
# its cache unclean and wipes all of it on the next start.
remove() {
  for c in "$@"; do
    docker inspect "$c" >/dev/null 2>&1 || continue
    docker stop -t "$STOP_WAIT" "$c" >/dev/null 2>&1 || true
    docker rm -f "$c" >/dev/null 2>&1 || true
  done
}

start_engine() {
  want="$(docker image inspect -f '{{.Id}}' "$ENGINE_IMAGE") $({ engine_config; cas | xargs -r cat; } | cksum | cut -d' ' -f1) $PUBLISH $IP"
  if running "$ENGINE" && [ "$(docker inspect -f '{{index .Config.Labels "matrix.config"}}' "$ENGINE")" = "$want" ]; then
    return 0
  fi
  remove "$REGISTRY" "$ENGINE"
  docker network inspect "$NAME" >/dev/null 2>&1 ||
    docker network create --subnet "$SUBNET" "$NAME" >/dev/null ||
    die "cannot create Docker network $NAME on $SUBNET: set MATRIX_DOCKER_SUBNET and MATRIX_DOCKER_IP to a free range"
  log "starting $ENGINE ($ENGINE_IMAGE) on $NAME at $IP, registry port published on $PUBLISH"
  if privileged; then
    set -- --privileged "$ENGINE_IMAGE"
  else
    # A daemon lacking a capability itself cannot grant --privileged
    # ("unable to apply caps"): the engine gets every capability the daemon
    # has and no seccomp/AppArmor confinement instead.
    log "this Docker daemon cannot grant --privileged; running the engine with all the capabilities it has"
    # shellcheck disable=SC2046 # one word per flag
    set -- --cap-add ALL $(missing_caps) --security-opt seccomp=unconfined --security-opt apparmor=unconfined \
      --security-opt systempaths=unconfined --entrypoint sh "$ENGINE_IMAGE" -c "$REMOUNT"
  fi
  docker create --name "$ENGINE" --restart always --network "$NAME" --ip "$IP" -p "$PUBLISH:5000" \
    -v "$VOLUME:/var/lib/dagger" --label "matrix.config=$want" "$@" >/dev/null
  # docker cp, not a bind mount: with dind the daemon cannot see this file system.
  tmp=$(mktemp)
  engine_config >"$tmp"
  docker cp "$tmp" "$ENGINE:/etc/dagger/engine.json" >/dev/null
  rm -f "$tmp"
  # The engine adds these to its own trust and to every container's.
  for ca in $(cas); do docker cp "$ca" "$ENGINE:/usr/local/share/ca-certificates/" >/dev/null; done
  docker start "$ENGINE" >/dev/null
}

# privileged: --privileged, as the dagger CLI's own docker driver runs the
# engine, where the daemon can grant it.
privileged() { docker run --rm --privileged --entrypoint true "$ENGINE_IMAGE" >/dev/null 2>&1; }

# missing_caps: --cap-drop for each capability absent from this host's
# bounding set: a daemon cannot hand out what it lacks.
missing_caps() {
  bnd=$(sed -n 's/^CapBnd:[[:space:]]*//p' /proc/self/status 2>/dev/null)
  [ -n "$bnd" ] || return 0
  i=0
  for c in CHOWN DAC_OVERRIDE DAC_READ_SEARCH FOWNER FSETID KILL SETGID SETUID SETPCAP LINUX_IMMUTABLE \
    NET_BIND_SERVICE NET_BROADCAST NET_ADMIN NET_RAW IPC_LOCK IPC_OWNER SYS_MODULE SYS_RAWIO SYS_CHROOT SYS_PTRACE \
    SYS_PACCT SYS_ADMIN SYS_BOOT SYS_NICE SYS_RESOURCE SYS_TIME SYS_TTY_CONFIG MKNOD LEASE AUDIT_WRITE \
    AUDIT_CONTROL SETFCAP MAC_OVERRIDE MAC_ADMIN SYSLOG WAKE_ALARM BLOCK_SUSPEND AUDIT_READ PERFMON BPF CHECKPOINT_RESTORE; do
    [ $(( (0x$bnd >> i) & 1 )) -eq 1 ] || printf -- '--cap-drop %s ' "$c"
    i=$((i + 1))
  done
}

# REMOUNT runs before the image's entrypoint when --privileged is refused:
# Docker mounts /sys and the cgroup tree read-only in other containers, and
# the engine creates cgroups for the containers it runs.
REMOUNT='mount -o remount,rw /sys && for m in /sys/fs/cgroup/*; do mount -o remount,bind,rw "$m" 2>/dev/null || :; done; exec /usr/local/bin/dagger-entrypoint.sh'

# The registry joins the engine's network namespace: there it is the
# engine's own localhost:5000, and it goes when the engine container goes.
start_registry() {
  engine_id=$(docker inspect -f '{{.Id}}' "$ENGINE")
  if running "$REGISTRY" && [ "$(docker inspect -f '{{.HostConfig.NetworkMode}}' "$REGISTRY")" = "container:$engine_id" ]; then
    return 0
  fi
  docker rm -f "$REGISTRY" >/dev/null 2>&1 || true
  docker run -d --name "$REGISTRY" --restart always --network "container:$ENGINE" \
    -v "$NAME-registry:/var/lib/registry" "$REGISTRY_IMAGE" >/dev/null
}

wait_ready() {
  deadline=$(( $(date +%s) + WAIT ))
  until docker exec "$ENGINE" test -S /run/dagger/engine.sock 2>/dev/null && http_ok "http://$READBACK/v2/"; do
    [ "$(date +%s)" -lt "$deadline" ] || {
      docker logs --tail 20 "$ENGINE" >&2 || true
      die "engine or registry not ready within ${WAIT}s (engine socket in $ENGINE; registry at http://$READBACK/v2/)"
    }
    running "$ENGINE" || { docker logs --tail 20 "$ENGINE" >&2; die "$ENGINE exited during start"; }
    sleep 1
  done
  if command -v dagger >/dev/null; then
    v=$(DAGGER_NO_NAG=1 _EXPERIMENTAL_DAGGER_RUNNER_HOST="docker-container://$ENGINE" timeout 60 dagger core version 2>/dev/null) ||
      die "dagger CLI cannot reach docker-container://$ENGINE"
    case "$v" in *"v$DAGGER_VERSION"*) ;; *) die "engine answers $v, want v$DAGGER_VERSION" ;; esac
  fi
}

write_env() {
  mkdir -p "$(dirname "$ENV_FILE")"
  cat >"$ENV_FILE" <<ENV
export _EXPERIMENTAL_DAGGER_RUNNER_HOST=docker-container://$ENGINE
export DAGGER_NO_NAG=1
export MATRIX_STAGE_REGISTRY=localhost:5000
export MATRIX_REGISTRY=$IP:5000
export MATRIX_READBACK=$READBACK
ENV
  # GitHub Actions: later steps of the job get the same environment.
  if [ -n "${GITHUB_ENV:-}" ]; then sed 's/^export //' "$ENV_FILE" >>"$GITHUB_ENV"; fi
  cat "$ENV_FILE"
  log "ready; use it with: . $ENV_FILE"
}

# lock serializes set-ups of one road on one Docker host: the legs of a
# release, run side by side by act or gitlab-ci-local, share the road.
# mkdir, not flock: macOS has no flock. The holder file names the host and
# process, so a lock left by a killed set-up is taken over, not waited on.
lock() {
  LOCK=${TMPDIR:-/tmp}/matrix-docker-$NAME.lock
  i=0
  until mkdir "$LOCK" 2>/dev/null; do
    if stale_lock; then
      log "taking over $LOCK: its holder ($(cat "$LOCK/holder" 2>/dev/null)) is gone"
      rm -rf "$LOCK"
      continue
    fi
    i=$((i + 1))
    [ "$i" -le $((WAIT * 5)) ] || die "another set-up of $NAME holds $LOCK for over ${WAIT}s; if none runs, remove it"
    sleep 0.2
  done
  echo "$(uname -n) $$" >"$LOCK/holder"
  trap 'rm -rf "$LOCK"' EXIT
}

# stale_lock: the lock's holder ran on this host and its process is gone. A
# holder on another host (a job container) is never judged, only waited on.
stale_lock() {
  read -r host pid <"$LOCK/holder" 2>/dev/null || return 1
  [ "$host" = "$(uname -n)" ] && [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null
}

up() {
  docker version >/dev/null 2>&1 || die "no Docker daemon answers: start Docker (Docker Desktop, \`systemctl start docker\`) or set DOCKER_HOST"
  lock
  ensure_image "$ENGINE_IMAGE"
  ensure_image "$REGISTRY_IMAGE"
  start_engine
  start_registry
  wait_ready
  write_env
}

down() {
  remove "$REGISTRY" "$ENGINE"
  docker network rm "$NAME" >/dev/null 2>&1 || true
  rm -f "$ENV_FILE"
  log "removed $ENGINE, $REGISTRY and network $NAME"
}

case "${1:-up}" in
  up) up ;;
  down) down ;;
  clean) down; docker volume rm "$VOLUME" "$NAME-registry" >/dev/null 2>&1 || true ;;
  -h|--help) sed -n '2,/^set -eu/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//' ;;
  *) die "unknown command $1 (use up, down or clean)" ;;
esac

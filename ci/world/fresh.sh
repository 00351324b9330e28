#!/usr/bin/env bash
# Proves that ci/world/up.sh sets the world up from nothing on a fresh Debian
# 12 machine: a new bookworm root file system (mmdebstrap), with only the
# checkout and the Dagger bundle bound in read-only, runs the whole set-up in
# its own network, mount and PID namespaces, and each step's result and time
# is printed. A package the set-up uses without installing it fails here even
# though this host has it from earlier runs (arch-test was such a package).
#
#   MATRIX_DAGGER_BUNDLE=../shared/dagger ci/world/fresh.sh   (task fresh; root)
#
# Runs on a host where ci/world/up.sh has run (it installs mmdebstrap and
# iptables; missing ones are installed here). Work and logs go to
# ${MATRIX_FRESH_DIR:-/var/tmp/matrix-fresh}, remade on every run; the full
# log is up.log there. Also bound in read-only: /usr/local/go (a fresh
# machine of this kind ships Go there). Network: the namespace reaches only
# ports 53, 80 and 443 through NAT on this host (the resolver, the Debian
# mirror, the Go module proxy); its 127.0.0.1:5000 and engine bridge are its
# own, never this host's.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
# shellcheck source=ci/world/lib.sh
. "$here/lib.sh" # CA_HOOK, umount_under, the stamp; its log and die are replaced below

log() { printf 'fresh: %s\n' "$*" >&2; }
die() { printf 'fresh: error: %s\n' "$*" >&2; exit 1; }
case "${1:-}" in -h|--help) sed -n '2,18p' "$0"; exit 0 ;; "") ;; *) die "unknown argument $1" ;; esac
[ "$(id -u)" = 0 ] || die "runs as root (mmdebstrap, network namespace, chroot)"
: "${MATRIX_DAGGER_BUNDLE:?set MATRIX_DAGGER_BUNDLE (or use task fresh) to the Dagger bundle directory}"
bundle=$(cd "$MATRIX_DAGGER_BUNDLE" && pwd)
dir=${MATRIX_FRESH_DIR:-/var/tmp/matrix-fresh}
case "$dir" in /?*) ;; *) die "MATRIX_FRESH_DIR must be an absolute path other than /" ;; esac
dir=${dir%/}
# Generated content (GBs of rootfs, engine state) never goes into the checkout.
case "$dir/" in "$root"/*) die "MATRIX_FRESH_DIR must be outside the checkout $root" ;; esac
r=$dir/rootfs
ns=matrix-fresh host_if=mfresh0 ns_if=mfresh1 net=10.203.0.0/30 host_ip=10.203.0.1 ns_ip=10.203.0.2
chain=MATRIX-FRESH
PATH=$PATH:/usr/local/go/bin

# One run at a time: a second would tear down the first one's namespace.
exec 9>/run/matrix-fresh.lock
flock -n 9 || die "another fresh run holds /run/matrix-fresh.lock"

missing=()
command -v mmdebstrap >/dev/null || missing+=(mmdebstrap)
command -v iptables >/dev/null || missing+=(iptables)
if [ ${#missing[@]} -gt 0 ]; then
  log "installing ${missing[*]} on this host (ci/world/up.sh would have)"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
for c in ip nsenter unshare chroot flock findmnt go; do
  command -v "$c" >/dev/null || die "$c is missing on this host"
done
# The same iptables as the host's own rules (Docker, CNI): whichever backend
# `iptables` selects here (update-alternatives), nft or legacy.
ipt=$(command -v iptables)
log "host iptables: $("$ipt" -V)"

inner='' fwd_before=''
cleanup() {
  # --kill-child: killing unshare SIGKILLs the namespace's init, and with it
  # every process (registry, engine) and mount inside.
  if [ -n "$inner" ] && kill -0 "$inner" 2>/dev/null; then
    kill -KILL "$inner" 2>/dev/null || true
    wait "$inner" 2>/dev/null || true
  fi
  umount_under "$dir"  # only an interrupted mmdebstrap mounts in this namespace
  ip netns del "$ns" 2>/dev/null || true
  ip link del "$host_if" 2>/dev/null || true
  while "$ipt" -t nat -D POSTROUTING -s "$net" ! -d "$net" -j MASQUERADE 2>/dev/null; do :; done
  while "$ipt" -D FORWARD -i "$host_if" -j "$chain" 2>/dev/null; do :; done
  while "$ipt" -D FORWARD -o "$host_if" -j "$chain" 2>/dev/null; do :; done
  while "$ipt" -D INPUT -i "$host_if" -j REJECT 2>/dev/null; do :; done
  "$ipt" -F "$chain" 2>/dev/null || true
  "$ipt" -X "$chain" 2>/dev/null || true
  [ -z "$fwd_before" ] || sysctl -q -w "net.ipv4.ip_forward=$fwd_before" || true
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
cleanup  # what a killed earlier run left behind
if ip -4 -o addr show | grep -q ' 10\.203\.0\.'; then die "$net is already in use on this host"; fi

rm -rf "$dir"
mkdir -p "$dir"
t0=$(date +%s)

# 1. The root file system. minbase (Essential + Priority required: dpkg, apt,
# bash, coreutils, util-linux, mount) plus git, curl, ca-certificates and
# xz-utils, which a fresh machine of this kind has, and nothing else: no
# `important` (iproute2, cron, ...), so a tool up.sh uses without installing
# fails here rather than being found by luck. The apt sources are this
# host's Debian ones (same mirror); this host's local CA certificates
# (egress TLS) go in before ca-certificates is configured, as on such a machine.
sources=()
[ -f /etc/apt/sources.list.d/debian.sources ] && sources+=(/etc/apt/sources.list.d/debian.sources)
grep -qs '^deb ' /etc/apt/sources.list && sources+=(/etc/apt/sources.list)
log "making a Debian 12 minbase root file system in $r"
mmdebstrap --variant=minbase --include=git,curl,ca-certificates,xz-utils --setup-hook="$CA_HOOK" \
  bookworm "$r" "${sources[@]}" >"$dir/mmdebstrap.log" 2>&1 ||
  { tail -20 "$dir/mmdebstrap.log" >&2; die "mmdebstrap failed (log: $dir/mmdebstrap.log)"; }
rootfs_s=$(( $(date +%s) - t0 ))
log "root file system ready (${rootfs_s}s)"
cp /etc/resolv.conf "$r/etc/resolv.conf"  # the host's resolver, reached through the NAT
mkdir -p "$r/src/main" "$r/src/shared/dagger" "$r/usr/local/go"

# What runs inside: up.sh with MATRIX_STATE at its default, then the engine
# asked for its version, then the world's services stopped so the engine can
# tidy its containers before the PID namespace ends everything else.
cat >"$r/root/fresh-inside.sh" <<'INSIDE'
#!/bin/bash
set -uo pipefail
echo "fresh: inside: $(. /etc/os-release && echo "$PRETTY_NAME"), $(go version) from /usr/local/go (read-only bind)"
MATRIX_DAGGER_BUNDLE=/src/shared/dagger /src/main/ci/world/up.sh
rc=$?
. /src/main/ci/world/lib.sh
if [ "$rc" = 0 ]; then
  if v=$(DAGGER_NO_NAG=1 _EXPERIMENTAL_DAGGER_RUNNER_HOST="unix://$ENGINE_SOCK" timeout 60 "$STATE/bin/dagger" core version 2>"$STATE/log/core-version.log") &&
    case "$v" in *"v$DAGGER_VERSION"*) true ;; *) false ;; esac; then
    echo "fresh: engine answers dagger core version: $v"
  else
    echo "fresh: engine does not answer dagger core version: $v"; tail -5 "$STATE/log/core-version.log"; rc=1
  fi
fi
stop_pid "$STATE/run/engine.pid" engine
stop_pid "$STATE/run/registry.pid" registry
exit "$rc"
INSIDE
chmod +x "$r/root/fresh-inside.sh"

# 2. The network: a new namespace whose only way out is a veth pair NATed
# through this host, for DNS, HTTP (Debian mirror) and HTTPS (Go proxy).
ip netns add "$ns"
ip link add "$host_if" type veth peer name "$ns_if"
ip link set "$ns_if" netns "$ns"
ip addr add "$host_ip/30" dev "$host_if"
ip link set "$host_if" up
ip netns exec "$ns" ip link set lo up
ip netns exec "$ns" ip addr add "$ns_ip/30" dev "$ns_if"
ip netns exec "$ns" ip link set "$ns_if" up
ip netns exec "$ns" ip route add default via "$host_ip"
fwd_before=$(sysctl -n net.ipv4.ip_forward)
sysctl -q -w net.ipv4.ip_forward=1
"$ipt" -N "$chain"
"$ipt" -A "$chain" -o "$host_if" -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT
"$ipt" -A "$chain" -i "$host_if" -p udp --dport 53 -j ACCEPT
"$ipt" -A "$chain" -i "$host_if" -p tcp -m multiport --dports 53,80,443 -j ACCEPT
"$ipt" -A "$chain" -j REJECT
# Inserted first: Docker may have set the FORWARD policy to DROP.
"$ipt" -I FORWARD 1 -i "$host_if" -j "$chain"
"$ipt" -I FORWARD 1 -o "$host_if" -j "$chain"
# Nothing on this host itself (its registry, its engine's DNS) is for the namespace.
"$ipt" -I INPUT 1 -i "$host_if" -j REJECT
"$ipt" -t nat -A POSTROUTING -s "$net" ! -d "$net" -j MASQUERADE

# 3. Mounts, in a private mount namespace (they end with it, never reach this
# host's): the root file system bound onto itself, because the engine runs
# `unshare --mount --propagation private`, which fails with EINVAL unless /
# is a mount point; the checkout, bundle and Go read-only; a new proc (the
# new PID namespace) and sysfs (the new network namespace), this host's
# cgroup hierarchies under it (the engine's runc needs them), /dev, and a
# tmpfs /run. /tmp stays a directory of the root file system, as on a
# Debian 12 machine (tmpfs /tmp came with Debian 13); mmdebstrap builds its
# four base images there.
# shellcheck disable=SC2016 # expanded by the inner shell
mounts='set -e
r=$1
ro() { mount --bind "$1" "$2"; mount -o remount,bind,ro "$2"; }
mount --bind "$r" "$r"
ro "$2" "$r/src/main"
ro "$3" "$r/src/shared/dagger"
ro /usr/local/go "$r/usr/local/go"
mount -t proc proc "$r/proc"
mount -t sysfs sysfs "$r/sys"
mount --rbind /sys/fs/cgroup "$r/sys/fs/cgroup"
mount --rbind /dev "$r/dev"
mount -t tmpfs -o mode=0755 tmpfs "$r/run"
shift 3
exec chroot "$r" /usr/bin/env -i "$@" /root/fresh-inside.sh'
envs=(HOME=/root TERM=dumb LANG=C.UTF-8 GOFLAGS=-buildvcs=false
  PATH=/usr/local/go/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin)
# The Go module proxy and checksum database exactly as this host has them.
for v in GOPROXY GOSUMDB GONOSUMDB GOPRIVATE GONOPROXY GOINSECURE; do
  val=$(go env "$v")
  [ -z "$val" ] || envs+=("$v=$val")
done

log "running ci/world/up.sh inside (checkout ro at /src/main, bundle ro at /src/shared/dagger, /usr/local/go ro; log: $dir/up.log)"
t1=$(date +%s)
: >"$dir/up.log"
nsenter --net="/run/netns/$ns" -- unshare --mount --propagation private --pid --fork --kill-child -- \
  sh -c "$mounts" fresh "$r" "$root" "$bundle" "${envs[@]}" >"$dir/up.log" 2>&1 </dev/null &
inner=$!
# Step lines as they come; the rest stays in the log.
tail -n +1 -f --pid="$inner" "$dir/up.log" | grep --line-buffered -E '^(world|fresh): ' >&2 &
follower=$!
rc=0
wait "$inner" || rc=$?
inner=''
wait "$follower" || true
up_s=$(( $(date +%s) - t1 ))
mkdir -p "$dir/logs"
cp -r "$r/var/lib/matrix/log/." "$dir/logs/" 2>/dev/null || true

# 4. The summary, one row per step of up.sh from its own log lines.
steps="packages binfmt bundle tools task syft-build registry bases upstream syft sdk engine"
printf '\n%-10s %-8s %7s\n' STEP STATUS SECONDS
failed=''
for s in $steps; do
  if secs=$(sed -n -E "s/^world: $s: ok \(([0-9]+)s\)\$/\1/p" "$dir/up.log" | grep .); then
    printf '%-10s %-8s %7s\n' "$s" ok "$secs"
  elif grep -q "^world: error: step $s failed" "$dir/up.log"; then
    printf '%-10s %-8s %7s\n' "$s" FAILED -; failed=$s
  else
    printf '%-10s %-8s %7s\n' "$s" "not run" -
  fi
done
printf '\nroot file system %ss, up.sh %ss, total %ss\n' "$rootfs_s" "$up_s" "$(( $(date +%s) - t0 ))"
if [ "$failed" = engine ]; then
  # Why, in the engine's own words (up.sh printed the tail of its log).
  log "engine: $(sed -n '/^world: sdk: ok/,/^world: error: step engine/p' "$dir/up.log" | sed '1d;$d' | tail -5)"
fi
grep -E '^fresh: engine' "$dir/up.log" >&2 || true
[ "$rc" = 0 ] || die "ci/world/up.sh failed on the fresh root file system${failed:+ at step $failed} (exit $rc); log: $dir/up.log, root file system kept in $r"
log "passed: ci/world/up.sh set up the world from nothing on fresh Debian 12 (log: $dir/up.log)"
# The stamp (commit it): .ci/run skips this check until ci/world or the
# bundle changes again.
{
  echo "# ci/world/fresh.sh as it last passed: digest of ci/world/** and the bundle's SHA256SUMS (ci/world/lib.sh fresh_digest)."
  echo "# $(date -u +%Y-%m-%dT%H:%M:%SZ): passed in $(( $(date +%s) - t0 ))s (root file system ${rootfs_s}s, up.sh ${up_s}s)"
  echo "$(fresh_digest "$bundle")  ci/world + $bundle/SHA256SUMS"
} >"$root/$FRESH_STAMP"
log "stamp written: $FRESH_STAMP (commit it with the change)"
# The root file system (packages, base images, engine state) is generated:
# drop it, keep the logs. Nothing is mounted there any more (the mount
# namespace ended with its processes).
umount_under "$r"
rm -rf "$r"

#!/bin/sh
# mmdebstrap customize hook for the Docker road's engine image: puts the
# Dagger bundle's binaries and the Go SDK runtime where the engine expects
# them (engine/distconsts of Dagger v0.21.8). $1 is the rootfs, $2 $MATRIX_STATE.
set -eu
root=$1 state=$2 b=$2/bundle
install -D -m 0755 "$b/dagger-engine" "$root/usr/local/bin/dagger-engine"
install -D -m 0755 "$b/dagger-init" "$root/usr/local/bin/dagger-init"
install -D -m 0755 "$b/dagger" "$root/usr/local/bin/dagger"
install -D -m 0755 "$b/dial-stdio" "$root/usr/bin/dial-stdio"
ln -sf dial-stdio "$root/usr/bin/buildctl"   # the docker driver runs `buildctl dial-stdio`
mkdir -p "$root/opt/cni/bin" "$root/etc/dagger" "$root/var/lib/dagger" "$root/usr/local/share/dagger"
cp "$root"/usr/lib/cni/* "$root/opt/cni/bin/"
install -m 0755 "$b/dnsname" "$root/opt/cni/bin/dnsname"
ln -sf /usr/sbin/runc "$root/usr/local/bin/runc"
ln -sf /usr/bin/tini "$root/usr/local/bin/tini"
for x in xtables-legacy-multi xtables-nft-multi; do
  [ -e "$root/usr/sbin/$x" ] && ln -sf "/usr/sbin/$x" "$root/usr/bin/$x"
done
cp -r "$state/sdk-content" "$root/usr/local/share/dagger/content"
echo '{}' >"$root/etc/dagger/engine.json"
cat >"$root/usr/local/bin/dagger-entrypoint.sh" <<'SH'
#!/bin/sh
set -e
# cgroup v2: move this container's processes into a child group so the
# engine can enable controllers for the containers it runs.
if [ -f /sys/fs/cgroup/cgroup.controllers ]; then
  mkdir -p /sys/fs/cgroup/init
  xargs -rn1 </sys/fs/cgroup/cgroup.procs >/sys/fs/cgroup/init/cgroup.procs 2>/dev/null || :
  sed -e 's/ / +/g' -e 's/^/+/' </sys/fs/cgroup/cgroup.controllers >/sys/fs/cgroup/cgroup.subtree_control || :
fi
ulimit -n 1048576 2>/dev/null || :
exec tini -- dagger-engine "$@"
SH
chmod 0755 "$root/usr/local/bin/dagger-entrypoint.sh"

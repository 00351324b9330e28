#!/bin/sh
# Starts munged (as the munge user) with the cluster key, then slurmctld in the
# foreground; slurmctld drops to SlurmUser itself.
#   MUNGE_KEY_FILE   key to install (default /run/secrets/munge.key)
#   SLURMCTLD_HOST   controller host name written to SlurmctldHost (default:
#                    this container's short host name; slurmctld only starts
#                    on the host that slurm.conf names)
set -eu
key=${MUNGE_KEY_FILE:-/run/secrets/munge.key}
if [ -f "$key" ]; then
  install -o munge -g munge -m 0400 "$key" /etc/munge/munge.key
fi
if [ ! -s /etc/munge/munge.key ]; then
  echo "slurm-master: no munge key: mount the cluster key at $key (or set MUNGE_KEY_FILE)" >&2
  exit 1
fi
host=${SLURMCTLD_HOST:-$(hostname -s)}
sed -i "s/^SlurmctldHost=.*/SlurmctldHost=$host/" /etc/slurm/slurm.conf
setpriv --reuid=munge --regid=munge --init-groups munged
exec slurmctld -D "$@"

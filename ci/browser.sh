#!/bin/sh
# Debian's Chromium, which TestTimelineBrowserEngineRegistry loads the
# timeline page in (headless, under unshare -n): installed once per machine
# from the Debian mirror; ci/test.sh runs this first. Idempotent.
set -eu
command -v chromium >/dev/null && exit 0
export DEBIAN_FRONTEND=noninteractive
echo "browser: apt-get install chromium" >&2
apt-get install -y --no-install-recommends chromium >&2 ||
  { apt-get update >&2 && apt-get install -y --no-install-recommends chromium >&2; }

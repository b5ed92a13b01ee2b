#!/usr/bin/env bash
# The board's browser tests drive Debian's Chromium (playwright-core, no browser download): install it
# when missing, and check that it starts headless.
set -euo pipefail
echo "== Chromium (board tests)"
if [ ! -x /usr/bin/chromium ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends chromium >/dev/null
fi
/usr/bin/chromium --headless --no-sandbox --disable-gpu --no-first-run --disable-background-networking \
  --disable-component-update --disable-sync --dump-dom about:blank >/dev/null 2>&1
/usr/bin/chromium --version

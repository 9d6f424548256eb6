#!/usr/bin/env bash
# Installs headless Chromium and its WebDriver from Debian's packages for the browser tests
# (tests/test_browser.py drives /usr/bin/chromium). Idempotent: does nothing when both are present.
# Never downloads a browser build of its own (no `playwright install`).
set -euo pipefail

if [[ -x /usr/bin/chromium && -x /usr/bin/chromedriver ]]; then
    echo "install-browser: chromium and chromedriver already installed ($(/usr/bin/chromium --version 2>/dev/null || echo '?'))"
    exit 0
fi

SUDO=()
if [[ "$(id -u)" -ne 0 ]]; then
    if ! command -v sudo >/dev/null 2>&1; then
        echo "install-browser: not root and no sudo; install the Debian packages chromium and chromium-driver" >&2
        exit 1
    fi
    SUDO=(sudo)
fi

export DEBIAN_FRONTEND=noninteractive
"${SUDO[@]}" apt-get update
"${SUDO[@]}" apt-get install -y --no-install-recommends chromium chromium-driver

for bin in /usr/bin/chromium /usr/bin/chromedriver; do
    if [[ ! -x "$bin" ]]; then
        echo "install-browser: $bin is still missing after installing chromium and chromium-driver" >&2
        exit 1
    fi
done
echo "install-browser: installed $(/usr/bin/chromium --version 2>/dev/null || echo chromium)"

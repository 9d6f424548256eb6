#!/usr/bin/env bash
# Installs headless Chromium and its WebDriver from Debian's packages for the browser tests
# (tests/test_browser.py drives /usr/bin/chromium), and Debian's Noto CJK fonts so that Korean text
# (region names such as 대구광역시) renders as glyphs, not tofu boxes, in headless screenshots.
# Idempotent: does nothing when all are present. Never downloads a browser build of its own (no `playwright install`).
set -euo pipefail

missing=()
if [[ ! -x /usr/bin/chromium ]]; then missing+=(chromium); fi
if [[ ! -x /usr/bin/chromedriver ]]; then missing+=(chromium-driver); fi
if ! dpkg-query -W -f='${Status}' fonts-noto-cjk 2>/dev/null | grep -q "install ok installed"; then
    missing+=(fonts-noto-cjk)
fi

if [[ ${#missing[@]} -eq 0 ]]; then
    echo "install-browser: chromium, chromedriver and fonts-noto-cjk already installed" \
         "($(/usr/bin/chromium --version 2>/dev/null || echo '?'))"
    exit 0
fi

bash "$(dirname "$0")/apt-install.sh" install-browser "${missing[@]}"

for bin in /usr/bin/chromium /usr/bin/chromedriver; do
    if [[ ! -x "$bin" ]]; then
        echo "install-browser: $bin is still missing after installing ${missing[*]}" >&2
        exit 1
    fi
done
if ! fc-list :lang=ko 2>/dev/null | grep -q .; then
    echo "install-browser: no Korean font found after installing ${missing[*]} (fc-list :lang=ko is empty)" >&2
    exit 1
fi
echo "install-browser: installed ${missing[*]} ($(/usr/bin/chromium --version 2>/dev/null || echo chromium))"

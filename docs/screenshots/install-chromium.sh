#!/usr/bin/env bash
# Installs Chromium (Debian's package, /usr/bin/chromium) for `make screenshots` when it is missing.
# Playwright drives it; `playwright install` is never run, as it downloads a browser of its own.
set -euo pipefail

CHROMIUM=/usr/bin/chromium
[ -x "$CHROMIUM" ] && exit 0

SUDO=()
[ "$(id -u)" = 0 ] || SUDO=(sudo -n)
if ! command -v apt-get >/dev/null || ! "${SUDO[@]}" true 2>/dev/null; then
    echo "install-chromium: apt-get as root is unavailable; install Debian's chromium package ($CHROMIUM) first." >&2
    exit 1
fi

echo "install-chromium: installing chromium (Debian package) ..." >&2
if ! { "${SUDO[@]}" apt-get update -qq && "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium; } >/dev/null 2>&1 \
    || [ ! -x "$CHROMIUM" ]; then
    echo "install-chromium: apt-get could not install chromium." >&2
    exit 1
fi

#!/usr/bin/env bash
# Installs the servers the distributed deployment test runs (PostgreSQL, Redis) from the distribution's
# packages when they are missing. Idempotent and quiet. Without apt (or without root) it only says so:
# the tests then skip locally, and fail under CI=true, where nothing may be missing.
set -euo pipefail

have_servers() {
    compgen -G '/usr/lib/postgresql/*/bin/postgres' >/dev/null && command -v redis-server >/dev/null
}

have_servers && exit 0

SUDO=()
[ "$(id -u)" = 0 ] || SUDO=(sudo -n)
if ! command -v apt-get >/dev/null || ! "${SUDO[@]}" true 2>/dev/null; then
    echo "install-servers: apt-get as root is unavailable; the distributed deployment tests will not run here." >&2
    [ "${CI:-}" = true ] && exit 1
    exit 0
fi

echo "install-servers: installing postgresql and redis-server (Debian packages) ..." >&2
if ! { "${SUDO[@]}" apt-get update -qq && "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql redis-server; } >/dev/null 2>&1 \
    || ! have_servers; then
    echo "install-servers: apt-get could not install postgresql and redis-server." >&2
    [ "${CI:-}" = true ] && exit 1
fi
exit 0

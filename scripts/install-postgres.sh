#!/usr/bin/env bash
# Installs Debian's PostgreSQL server binaries (initdb, pg_ctl) for the DuckLake / Dagster-on-PostgreSQL tests
# (tests/test_ducklake.py starts a throwaway cluster as the `postgres` user). Idempotent: does nothing when
# initdb is already present in /usr/local/bin or /usr/lib/postgresql/*/bin. Never starts a server itself.
set -euo pipefail

if [[ -x /usr/local/bin/initdb ]] || compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null; then
    echo "install-postgres: initdb already installed"
    exit 0
fi

SUDO=()
if [[ "$(id -u)" -ne 0 ]]; then
    if ! command -v sudo >/dev/null 2>&1; then
        echo "install-postgres: not root and no sudo; install the Debian package postgresql" >&2
        exit 1
    fi
    SUDO=(sudo)
fi

export DEBIAN_FRONTEND=noninteractive
"${SUDO[@]}" apt-get update
"${SUDO[@]}" apt-get install -y --no-install-recommends postgresql

if ! compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null; then
    echo "install-postgres: initdb is still missing after installing postgresql" >&2
    exit 1
fi
echo "install-postgres: installed postgresql ($(ls -d /usr/lib/postgresql/*/bin | head -1))"

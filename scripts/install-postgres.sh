#!/usr/bin/env bash
# Installs Debian's PostgreSQL server binaries (initdb, pg_ctl) for the DuckLake / Dagster-on-PostgreSQL tests
# (tests/test_ducklake.py starts a throwaway cluster as the `postgres` user). Idempotent: does nothing when
# initdb is already present in /usr/local/bin or /usr/lib/postgresql/*/bin. Never starts a server itself.
set -euo pipefail

if [[ -x /usr/local/bin/initdb ]] || compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null; then
    echo "install-postgres: initdb already installed"
    exit 0
fi

bash "$(dirname "$0")/apt-install.sh" install-postgres postgresql

if ! compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null; then
    echo "install-postgres: initdb is still missing after installing postgresql" >&2
    exit 1
fi
echo "install-postgres: installed postgresql ($(ls -d /usr/lib/postgresql/*/bin | head -1))"

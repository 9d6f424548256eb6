#!/usr/bin/env bash
# Installs Debian packages for the scripts beside it: `apt-install.sh <caller> <package>...`. As root directly,
# otherwise through sudo; without either it names the packages to install by hand and exits 1.
set -euo pipefail
caller="$1"
shift

SUDO=()
if [[ "$(id -u)" -ne 0 ]]; then
    if ! command -v sudo >/dev/null 2>&1; then
        echo "$caller: not root and no sudo; install the Debian packages $*" >&2
        exit 1
    fi
    SUDO=(sudo)
fi

export DEBIAN_FRONTEND=noninteractive
"${SUDO[@]}" apt-get update
"${SUDO[@]}" apt-get install -y --no-install-recommends "$@"

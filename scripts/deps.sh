#!/bin/sh
# deps.sh — installs the Debian packages recite needs, when they are missing. Idempotent and
# quiet when everything is present. `deps.sh bench` adds what the benchmarks compare against.
#   build:  gcc make pkg-config + the -dev packages of xxhash, utf8proc, zstd, jansson, sqlite3
#   tests:  cmocka, clang (second compiler), clang-format, valgrind, python3 (CLI test helpers)
#   bench:  similarity-tester (sim_text), zstd (baseline), time (peak memory), xz-utils
set -eu

pkgs="gcc make pkg-config libxxhash-dev libutf8proc-dev libzstd-dev libjansson-dev libsqlite3-dev \
libcmocka-dev clang clang-format valgrind strace python3"
if [ "${1:-}" = bench ]; then
    pkgs="$pkgs similarity-tester zstd time xz-utils linux-source"
fi

missing=""
for p in $pkgs; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing="$missing $p"
    fi
done
[ -z "$missing" ] && exit 0

echo "deps: installing$missing" >&2
SUDO=""
if [ "$(id -u)" != 0 ]; then
    command -v sudo >/dev/null || { echo "deps: need root (or sudo) to install$missing" >&2; exit 2; }
    SUDO=sudo
fi
export DEBIAN_FRONTEND=noninteractive
log=$(mktemp)
# shellcheck disable=SC2086
if ! $SUDO apt-get install -y -q --no-install-recommends $missing >"$log" 2>&1; then
    # A fresh machine may have no package lists yet.
    $SUDO apt-get update -q >>"$log" 2>&1 || true
    # shellcheck disable=SC2086
    if ! $SUDO apt-get install -y -q --no-install-recommends $missing >>"$log" 2>&1; then
        tail -n 20 "$log" >&2
        rm -f "$log"
        echo "deps: apt-get install failed" >&2
        exit 2
    fi
fi
rm -f "$log"

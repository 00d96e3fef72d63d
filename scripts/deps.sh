#!/bin/sh
# deps.sh — installs the Debian packages recite needs, when they are missing. Idempotent and
# quiet when everything is present. `deps.sh bench` adds what the benchmarks compare against.
#   build:  gcc make pkg-config + the -dev packages of xxhash, utf8proc, zstd, jansson, sqlite3,
#           libsodium (keyed hashes of text-free indexes), libarchive, libxml2, poppler-glib,
#           libgit2 (archives, EPUB/HTML, PDF and git repositories as inputs); acl and lz4
#           (libarchive's private libraries, for the static link of make test-install);
#           libmicrohttpd and libcurl (recite serve)
#   tests:  cmocka, clang (second compiler), clang-format, valgrind, python3 (CLI test helpers),
#           groff (PDF fixtures), git (repository fixtures),
#           chromium + fonts-dejavu-core (the HTML report in a browser), python3-dev,
#           python3-setuptools, python3-pytest (the Python binding)
#   bench:  similarity-tester (sim_text), zstd (baseline), time (peak memory), xz-utils, wrk
#           (bench/load.sh),
#           licensecheck (license identification baseline, bench/cmi.sh), poppler-utils
#           (pdftotext), libarchive-tools (bsdtar), unzip (bench/ingest.sh baselines)
set -eu

pkgs="gcc make pkg-config curl ca-certificates libxxhash-dev libutf8proc-dev libzstd-dev \
libjansson-dev libsqlite3-dev libsodium-dev libarchive-dev libxml2-dev libpoppler-glib-dev \
libgit2-dev libacl1-dev liblz4-dev libmicrohttpd-dev libcurl4-openssl-dev \
libcmocka-dev clang clang-format valgrind strace python3 groff git \
chromium fonts-dejavu-core python3-dev python3-setuptools python3-pytest"
if [ "${1:-}" = bench ]; then
    pkgs="$pkgs similarity-tester zstd time xz-utils linux-source licensecheck poppler-utils \
libarchive-tools unzip wrk"
fi

# The SPDX license list (the full text of every license, for license identification): the npm
# package spdx-license-list, fetched from the npm registry, checked, unpacked under
# /usr/local/share/recite (RECITE_SPDX_DIR overrides where recite looks for it).
SPDX_VERSION=6.12.0
SPDX_SHA256=54cc8d13086187333ca1457c8edaa06d9a412144f076aa7f7c1b59c4f3b0a1ef
SPDX_HOME=${RECITE_DATA:-/usr/local/share/recite}/spdx-license-list

missing=""
for p in $pkgs; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing="$missing $p"
    fi
done
fetch_spdx() {
    [ -f "$SPDX_HOME/licenses/MIT.json" ] && return 0
    echo "deps: fetching the SPDX license list $SPDX_VERSION from the npm registry" >&2
    tmp=$(mktemp -d)
    url=https://registry.npmjs.org/spdx-license-list/-/spdx-license-list-$SPDX_VERSION.tgz
    if ! curl -sSfL --retry 3 -o "$tmp/spdx.tgz" "$url" ||
        ! echo "$SPDX_SHA256  $tmp/spdx.tgz" | sha256sum -c --status ||
        ! tar xzf "$tmp/spdx.tgz" -C "$tmp"; then
        rm -rf "$tmp"
        echo "deps: cannot fetch $url" >&2
        exit 2
    fi
    $SUDO mkdir -p "$(dirname "$SPDX_HOME")"
    $SUDO rm -rf "$SPDX_HOME"
    $SUDO mv "$tmp/package" "$SPDX_HOME"
    rm -rf "$tmp"
}

SUDO=""
[ "$(id -u)" = 0 ] || SUDO=sudo
if [ -z "$missing" ]; then
    fetch_spdx
    exit 0
fi

echo "deps: installing$missing" >&2
if [ -n "$SUDO" ] && ! command -v sudo >/dev/null; then
    echo "deps: need root (or sudo) to install$missing" >&2
    exit 2
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
fetch_spdx

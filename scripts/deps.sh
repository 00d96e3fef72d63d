#!/bin/sh
# deps.sh — installs the Debian packages recite needs, when they are missing. Idempotent and
# quiet when everything is present. `deps.sh bench` adds what the benchmarks compare against.
#   build:  gcc make pkg-config + the -dev packages of xxhash, utf8proc, zstd, jansson, sqlite3,
#           libsodium (keyed hashes of text-free indexes), libarchive, libxml2, poppler-glib,
#           libgit2 (archives, EPUB/HTML, PDF and git repositories as inputs); acl and lz4
#           (libarchive's private libraries, for the static link of make test-install);
#           libmicrohttpd and libcurl (recite serve); npm (the SPDX lists, below);
#           openmpi-bin and libopenmpi-dev (--mpi: distributed builds and checks)
#   tests:  cmocka, clang (second compiler), clang-format, valgrind, python3 (CLI test helpers),
#           groff (PDF fixtures), git (repository fixtures),
#           chromium + fonts-dejavu-core (the HTML report in a browser), python3-dev,
#           python3-setuptools, python3-pytest (the Python binding), libclang-rt-dev (clang's
#           sanitizer and libFuzzer runtimes: make fuzz, make test-tsan)
#   bench:  similarity-tester (sim_text), zstd (baseline), time (peak memory), xz-utils, wrk
#           (bench/load.sh),
#           licensecheck (license identification baseline, bench/cmi.sh), poppler-utils
#           (pdftotext), libarchive-tools (bsdtar), unzip (bench/ingest.sh baselines)
set -eu

pkgs="gcc make pkg-config curl ca-certificates libxxhash-dev libutf8proc-dev libzstd-dev \
libjansson-dev libsqlite3-dev libsodium-dev libarchive-dev libxml2-dev libpoppler-glib-dev \
libgit2-dev libacl1-dev liblz4-dev libmicrohttpd-dev libcurl4-openssl-dev \
openmpi-bin libopenmpi-dev \
libcmocka-dev clang libclang-rt-dev clang-format valgrind strace python3 groff git \
chromium fonts-dejavu-core python3-dev python3-setuptools python3-pytest"
if [ "${1:-}" = bench ]; then
    pkgs="$pkgs similarity-tester zstd time xz-utils linux-source licensecheck poppler-utils \
libarchive-tools unzip wrk"
fi

# The SPDX lists, npm packages fetched by npm itself (name, version and the tarball's sha256;
# no registry address here), unpacked under /usr/local/share/recite (RECITE_DATA overrides):
#   spdx-license-list  the full text of every license, for license identification
#                      (RECITE_SPDX_DIR overrides where recite looks for its licenses/)
#   spdx-license-ids   the valid license ids (index.json, deprecated.json)
#   spdx-exceptions    the valid exception ids (index.json)
DATA=${RECITE_DATA:-/usr/local/share/recite}
NPM_PACKAGES="spdx-license-list 6.12.0 54cc8d13086187333ca1457c8edaa06d9a412144f076aa7f7c1b59c4f3b0a1ef
spdx-license-ids 3.0.24 2ccb1debbc8a6f5c588d8bac9a0a9b2420c635ebe9a0eaccd11b6ebc4b91bd9c
spdx-exceptions 2.5.0 c5295dd22415e8b60a5af2560e7461954f660bcb591be7c5622e463956d33256"
command -v npm >/dev/null || pkgs="$pkgs npm"

missing=""
for p in $pkgs; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing="$missing $p"
    fi
done
# Installs one npm package as $DATA/NAME (its package/ directory), unless that version is there.
fetch_npm() {
    name=$1 version=$2 sha=$3
    home=$DATA/$name
    grep -q "\"version\": *\"$version\"" "$home/package.json" 2>/dev/null && return 0
    echo "deps: fetching $name $version with npm pack" >&2
    tmp=$(mktemp -d)
    if ! (cd "$tmp" && npm pack --silent "$name@$version" >/dev/null 2>"$tmp/log") ||
        ! echo "$sha  $tmp/$name-$version.tgz" | sha256sum -c --status ||
        ! tar xzf "$tmp/$name-$version.tgz" -C "$tmp"; then
        cat "$tmp/log" >&2 2>/dev/null || true
        rm -rf "$tmp"
        echo "deps: cannot fetch $name@$version (or its checksum differs)" >&2
        exit 2
    fi
    $SUDO mkdir -p "$DATA"
    $SUDO rm -rf "$home"
    $SUDO mv "$tmp/package" "$home"
    rm -rf "$tmp"
}
fetch_spdx() {
    while read -r name version sha; do
        fetch_npm "$name" "$version" "$sha"
    done <<EOF
$NPM_PACKAGES
EOF
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

#!/bin/sh
# bench/adversarial.sh [BUILD_DIR] [KB] — time per request on texts made to be slow (see
# bench/adversarial.c): a benchmark, not a test. Builds a small index of texts Debian ships (two
# license texts and two C headers), then prints, per text and feed size, the seconds at n and 4n
# and their ratio (about 4: linear; about 16: quadratic). docs/SECURITY.md quotes its figures.
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${1:-$ROOT/build}
KB=${2:-64}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir "$tmp/lib"
cp /usr/share/common-licenses/GPL-3 /usr/share/common-licenses/Apache-2.0 "$tmp/lib/"
cp /usr/include/stdio.h /usr/include/string.h "$tmp/lib/"
"$BUILD/recite" index --auto --no-cmi --quiet --out "$tmp/idx" "$tmp/lib"
# shellcheck disable=SC2046
cc -std=c17 -O2 -I"$ROOT/include" -o "$tmp/adversarial" "$ROOT/bench/adversarial.c" \
    "$BUILD/librecite.a" $(pkg-config --libs libxxhash libutf8proc libzstd jansson sqlite3 libsodium) \
    -lpthread -lm
"$tmp/adversarial" "$tmp/idx" "$KB"

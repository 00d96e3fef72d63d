#!/usr/bin/env bash
# bench/shard_keys.sh RECITE — sharded text-free indexes against one text-free index, over
# random keys (docs/SCALE.md): for each key, the library of tests/cli/t_shards.sh (mkfix.py,
# mkshards.py) indexed --text-free once whole and once in 3 shards; the CLI's JSON reports of
# the test's inputs compared, then every input checked with limits that cut checks short
# (bench_limits.c: max_postings, max_candidates, max_matches over a range) and the results
# compared field by field. Not a test (it takes minutes): prints each key that differs and a
# count; exits 1 when one did.
#
#   KEYS=40    random keys      SHARDS=3    shards      STEPS=12   values per limit
set -uo pipefail

RECITE=$(realpath "${1:?usage: bench/shard_keys.sh path/to/recite}")
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD_DIR=$(dirname "$RECITE")
KEYS=${KEYS:-40}
SHARDS=${SHARDS:-3}
STEPS=${STEPS:-12}
PY=/usr/bin/python3
W=$(mktemp -d "${TMPDIR:-/tmp}/shard-keys.XXXXXX")
trap 'rm -rf "$W"' EXIT
cd "$W" || exit 2
"$PY" "$ROOT/tests/cli/mkfix.py" library "$W" >/dev/null && "$PY" "$ROOT/tests/cli/mkshards.py" lib sh || exit 2
INPUTS=(sh/in/boiler.txt sh/in/shared.txt sh/in/fork.txt sh/in/dup.txt sh/in/lib.txt sh/in/mix.txt
    sh/in/none.txt sh/in/big.txt sh/in/code.txt)
PKGS=$(sed -n '/^PKGS *:=/,/[^\\]$/p' "$ROOT/Makefile" | sed 's/^PKGS *:= *//; s/\\$//' | tr '\n' ' ')
# shellcheck disable=SC2046,SC2086
cc -O2 -std=c17 -I"$ROOT/include" -o bench_limits "$ROOT/bench/bench_limits.c" \
    "$BUILD_DIR/librecite.a" $(pkg-config --libs $PKGS) -lpthread -lm || exit 2
bad=0 truncated=0 checks=0
for i in $(seq "$KEYS"); do
    head -c 32 /dev/urandom >k.key
    hex=$(od -An -tx1 -v k.key | tr -d ' \n')
    rm -rf one sharded
    "$RECITE" index --quiet --text-free --key k.key --out one lib sh/lib &&
        "$RECITE" index --quiet --text-free --key k.key --shards "$SHARDS" --out sharded lib sh/lib || exit 2
    "$RECITE" check --json --key k.key --index one "${INPUTS[@]}" >one.json
    "$RECITE" check --json --key k.key --index sharded "${INPUTS[@]}" >sharded.json
    ok=true
    cmp -s one.json sharded.json || { ok=false; echo "key $hex: the JSON reports differ"; }
    ./bench_limits one sharded k.key "$STEPS" "${INPUTS[@]}" >limits.out
    case $? in
    0) ;;
    1) ok=false; echo "key $hex: results under limits differ:"; grep -v '^{' limits.out | head -5 ;;
    *) exit 2 ;;
    esac
    read -r c t < <("$PY" -c 'import json,sys; r=json.loads(open(sys.argv[1]).read().splitlines()[-1]); print(r["checks"], r["truncated"])' limits.out)
    checks=$((checks + c)) truncated=$((truncated + t))
    $ok || bad=$((bad + 1))
done
echo "$KEYS random keys, $SHARDS shards: $bad differ ($checks checks under limits, $truncated of them truncated)"
[ "$bad" -eq 0 ]

#!/usr/bin/env bash
# bench/near.sh RECITE — near-verbatim matching, prose and code: recall per edit rate and span
# length, precision on unrelated text, the cost of near matching on and off, and sim_c
# (similarity-tester) as a baseline on code. A benchmark, not a test: it fails only when
# something cannot run.
#
#   BENCH_MB=30        the bench corpus (bench/corpus.py, cached in $BENCH_DIR) the prose is drawn
#                      from, and whose held-out prose gives the filler words
#   NEAR_PROSE_MB=15   prose of the library (a sample of the corpus's prose)
#   NEAR_CODE_MB=40    code of the library: /usr/include C/C++ headers (60%) and
#                      /usr/lib/python3* Python files (40%), 1-64 KB each
#   NEAR_SPANS=40      outputs per cell of the grid: span length 20/40/80/160 tokens (words,
#                      lexemes) x edit rate 0, 1/40, 1/20, 1/10, 1/5 edits per token; one
#                      span per output, in filler of random held-out words
#   NEAR_PREC=200      unrelated outputs per set: pure filler, prose works shuffled by word, code
#                      works shuffled by word (any match there is false)
#   BENCH_PASSES=3     timed check passes (latency: each output's best)
#   SIM_OUTPUTS=200    C/C++ code outputs given to sim_c (spread over the cells)
#   SIM_OTHERS=2000    further C/C++ works of the library given to sim_c
#   SIM_RUN=24         sim_c -r (minimum run, in sim_c's tokens)
#   BENCH_DIR          work directory (default bench/out)
#
# Steps: library (cached: $BENCH_DIR/near-P-C/lib) -> recite index --auto (cached per recite
# binary) -> outputs (cached per near_plant.py, sizes) -> bench_check near on and off
# (BENCH_EXACT=1) on each set -> sim_c and recite (index + check, CLI, from scratch) on the
# subset -> tables (bench/near_plant.py report). Recall: a match of the planted work (its
# cluster) covers >= 80% of the span's output bytes. Code spans are edited two ways (half each):
# renames and changed literals only (the shapes stay), or those plus inserted/deleted lines.
# Near off (--exact-only) still reports `near` spans that need no alignment: prose with other
# punctuation, and code with the same shapes (renamed copies).
set -euo pipefail

RECITE=$(realpath "${1:?usage: bench/near.sh path/to/recite}")
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD_DIR=$(dirname "$RECITE")
BENCH_DIR=${BENCH_DIR:-$ROOT/bench/out}
BENCH_MB=${BENCH_MB:-30}
NEAR_PROSE_MB=${NEAR_PROSE_MB:-15}
NEAR_CODE_MB=${NEAR_CODE_MB:-40}
NEAR_SPANS=${NEAR_SPANS:-40}
NEAR_PREC=${NEAR_PREC:-200}
BENCH_PASSES=${BENCH_PASSES:-3}
SIM_OUTPUTS=${SIM_OUTPUTS:-200}
SIM_OTHERS=${SIM_OTHERS:-2000}
SIM_RUN=${SIM_RUN:-24}
PY=/usr/bin/python3
export LC_ALL=C PYTHONDONTWRITEBYTECODE=1

"$ROOT/scripts/deps.sh" bench
for tool in "$PY" sim_c cc pkg-config; do
    command -v "$tool" >/dev/null ||
        { echo "near: $tool is missing (scripts/deps.sh bench)" >&2; exit 2; }
done
mkdir -p "$BENCH_DIR"
BENCH_DIR=$(realpath "$BENCH_DIR")
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }
T0=$(now)

# ---- 1. corpus, library, index ----
CVER=$(sed -n 's/^VERSION = //p' "$ROOT/bench/corpus.py")
CORPUS=$BENCH_DIR/corpus-v$CVER-$BENCH_MB
[ -f "$CORPUS/corpus.json" ] || "$PY" "$ROOT/bench/corpus.py" "$CORPUS" "$BENCH_MB"
NMD5=$(cat "$ROOT/bench/near_plant.py" "$ROOT/bench/plant.py" | md5sum | cut -c1-8)
LIB=$BENCH_DIR/near-$BENCH_MB-$NEAR_PROSE_MB-$NEAR_CODE_MB
echo "== library in $LIB"
if [ ! -f "$LIB/lib.json" ]; then
    "$PY" "$ROOT/bench/near_plant.py" library "$LIB" "$CORPUS" "$NEAR_PROSE_MB" "$NEAR_CODE_MB"
else
    echo "reusing the library built earlier"
fi
RMD5=$(md5sum < "$RECITE" | cut -c1-8)
if [ ! -f "$LIB/idx.$RMD5" ]; then
    rm -rf "$LIB/idx" "$LIB"/idx.*
    t0=$(now)
    (cd "$LIB" && "$RECITE" index --auto --quiet --out idx lib) > "$LIB/idx.log" 2>&1 \
        || { cat "$LIB/idx.log" >&2; echo "near: recite index failed" >&2; exit 2; }
    elapsed "$t0" "$(now)" > "$LIB/idx.$RMD5"
fi
LIB_MB=$(find "$LIB/lib" -type f -printf '%s\n' | awk '{ s += $1 } END { printf "%.1f", s / 1e6 }')
echo "recite index --auto: $(cat "$LIB/idx.$RMD5") s" \
    "($(find "$LIB/lib" -type f | wc -l) files, $LIB_MB MB)"

# ---- 2. outputs ----
PLANT=$LIB/plant-$NEAR_SPANS-$NEAR_PREC-$NMD5
echo "== outputs in $PLANT"
if [ ! -f "$PLANT/truth.json" ]; then
    rm -rf "$LIB"/plant-*
    "$PY" "$ROOT/bench/near_plant.py" plant "$LIB" "$CORPUS" "$PLANT" "$NEAR_SPANS" "$NEAR_PREC"
else
    echo "reusing the outputs generated earlier"
fi

# ---- 3. check, near on and off (library API, one thread) ----
R=$BENCH_DIR/near-run
rm -rf "$R"
mkdir -p "$R"
PKGS=$(sed -n '/^PKGS *:=/{:a;/\\$/{N;ba};s/^PKGS *:= *//;s/\\\n */ /g;p}' "$ROOT/Makefile")
# shellcheck disable=SC2046,SC2086
cc -O2 -std=c17 -I"$ROOT/include" -o "$R/bench_check" "$ROOT/bench/bench_check.c" \
    "$BUILD_DIR/librecite.a" $(pkg-config --libs ${PKGS:-libxxhash libutf8proc libzstd jansson}) \
    -lpthread -lm
check() { # set, on|off, run (1: keeps the matches), env...
    local set=$1 nm=$2 i=$3 m=/dev/null w=/dev/null l=/dev/null
    shift 3
    [ "$i" != 1 ] || { m=$R/m_${set}_$nm.tsv; w=$R/works.tsv; l=$R/l_${set}_$nm.tsv; }
    env "$@" "$R/bench_check" "$LIB/idx" "$PLANT/list_$set.txt" "$m" "$w" "$l" "$BENCH_PASSES" \
        > "$R/c_${set}_${nm}_$i.json" ||
        { echo "near: bench_check failed on $set ($nm)" >&2; exit 2; }
}
mbs() { sed 's/.*"mb_per_s": \([0-9.]*\).*/\1/' "$1"; }
# Twice each, alternating (the machine may be shared: the report takes the faster run).
echo "== check: bench_check, 1 warm-up + $BENCH_PASSES passes, near on and off, alternating, twice"
for set in prose code unrel; do
    for i in 1 2; do
        check "$set" on "$i"
        check "$set" off "$i" BENCH_EXACT=1
    done
    echo "$set: near on $(mbs "$R/c_${set}_on_1.json"), $(mbs "$R/c_${set}_on_2.json") MB/s;" \
        "off $(mbs "$R/c_${set}_off_1.json"), $(mbs "$R/c_${set}_off_2.json") MB/s"
done

# ---- 4. baseline: sim_c on a subset of the code outputs (C/C++) ----
echo "== baseline: sim_c -r $SIM_RUN -S -n on $SIM_OUTPUTS outputs + their works" \
    "+ $SIM_OTHERS others"
"$PY" "$ROOT/bench/near_plant.py" sim-select "$PLANT" "$LIB" "$R" "$SIM_OUTPUTS" "$SIM_OTHERS"
echo "$SIM_RUN" > "$R/sim.run"
cd "$LIB"
xargs -d '\n' cat < "$R/sim_works.txt" > /dev/null # page cache, for both tools
t0=$(now)
sim_c -r "$SIM_RUN" -S -n -i < "$R/sim_args.txt" > "$R/sim.out" 2> "$R/sim.err" \
    || { cat "$R/sim.err" >&2; echo "near: sim_c failed" >&2; exit 2; }
elapsed "$t0" "$(now)" > "$R/sim.sec"
mapfile -t sim_works < "$R/sim_works.txt"
mapfile -t sim_outputs < "$R/sim_outputs.txt"
t0=$(now)
"$RECITE" index --auto --quiet --out "$R/simidx" "${sim_works[@]}" > "$R/simidx.log" 2>&1 \
    || { cat "$R/simidx.log" >&2; echo "near: recite index (subset) failed" >&2; exit 2; }
t1=$(now)
rc=0
"$RECITE" check --json --index "$R/simidx" "${sim_outputs[@]}" > "$R/sim_recite.json" || rc=$?
t2=$(now)
[ "$rc" -le 1 ] || { echo "near: recite check (subset) failed: exit $rc" >&2; exit 2; }
elapsed "$t0" "$t1" > "$R/simidx.sec"
elapsed "$t1" "$t2" > "$R/simcheck.sec"
echo "sim_c $(cat "$R/sim.sec") s; recite index $(cat "$R/simidx.sec") s" \
    "+ check $(cat "$R/simcheck.sec") s"
# The same with recite's guaranteed code length lowered to sim_c's minimum run (their tokens
# differ a little: sim_c's are C tokens, recite's lexemes).
t0=$(now)
"$RECITE" index --auto --quiet --code-min-tokens "$SIM_RUN" --out "$R/simidx_r" "${sim_works[@]}" \
    > "$R/simidx_r.log" 2>&1 \
    || { cat "$R/simidx_r.log" >&2; echo "near: recite index --code-min-tokens failed" >&2
         exit 2; }
t1=$(now)
rc=0
"$RECITE" check --json --index "$R/simidx_r" "${sim_outputs[@]}" > "$R/sim_recite_r.json" || rc=$?
t2=$(now)
[ "$rc" -le 1 ] ||
    { echo "near: recite check (subset, --code-min-tokens) failed: exit $rc" >&2; exit 2; }
elapsed "$t0" "$t1" > "$R/simidx_r.sec"
elapsed "$t1" "$t2" > "$R/simcheck_r.sec"
echo "recite --code-min-tokens $SIM_RUN: index $(cat "$R/simidx_r.sec") s" \
    "+ check $(cat "$R/simcheck_r.sec") s"

# ---- 5. report ----
"$PY" "$ROOT/bench/near_plant.py" report "$PLANT" "$R" | tee "$R/report.txt"
echo
echo "near.sh: $(elapsed "$T0" "$(now)") s in all; work files in $R"

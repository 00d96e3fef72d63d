#!/usr/bin/env bash
# bench/run.sh RECITE — the `make bench` harness: a benchmark, not a test (it never fails on a
# missed target; it exits non-zero only when something could not be run).
#
# Everything is generated at run time from text Debian ships (see bench/corpus.py); nothing
# third-party is committed. Work files go to $BENCH_DIR (default bench/out/, gitignored).
#
#   BENCH_MB=300        size of the indexed library in MB (BENCH_MB=30 for a quick run)
#   BENCH_OUTPUTS=2000  generated outputs of ~4 KB with 1-3 planted spans each
#   BENCH_PASSES=3      timed passes of the check benchmark (latency = best of them)
#   BENCH_FULL=1        also check once with full attribution (every work sharing a span
#                       itemized: common_sample and max_candidates raised); 0 skips it
#   SIM_OUTPUTS=300     outputs given to the sim_text baseline (with the works of their spans)
#   SIM_OTHERS=3000     further random works given to sim_text
#   BENCH_DIR           work directory
#
# Steps: corpus (cached) -> index build timed against zstd -3 -T1 over the same bytes ->
# index size -> planted outputs (cached) -> check throughput/latency/recall with the library
# (bench/bench_check.c) -> sim_text baseline on a subset -> summary table (bench/report.py).
set -euo pipefail

RECITE=${1:?usage: bench/run.sh path/to/recite}
RECITE=$(realpath "$RECITE")
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD_DIR=$(dirname "$RECITE")
BENCH_DIR=${BENCH_DIR:-$ROOT/bench/out}
BENCH_MB=${BENCH_MB:-300}
BENCH_OUTPUTS=${BENCH_OUTPUTS:-2000}
BENCH_PASSES=${BENCH_PASSES:-3}
SIM_OUTPUTS=${SIM_OUTPUTS:-300}
SIM_OTHERS=${SIM_OTHERS:-3000}
PY=/usr/bin/python3
export LC_ALL=C PYTHONDONTWRITEBYTECODE=1

# The Makefile's `deps` installs the build and test packages; the bench adds its own.
"$ROOT/scripts/deps.sh" bench

for tool in "$PY" zstd sim_text /usr/bin/time cc pkg-config; do
    command -v "$tool" >/dev/null || { echo "bench: $tool is missing (scripts/deps.sh bench)" >&2; exit 2; }
done

mkdir -p "$BENCH_DIR"
BENCH_DIR=$(realpath "$BENCH_DIR")
say() { printf '\n== %s\n' "$*"; }
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }
rss_kb() { sed -n 's/.*Maximum resident set size (kbytes): //p' "$1"; }

# ---- 1. corpus (cached: reused while corpus.py's VERSION and BENCH_MB are the same) ----
CVER=$(sed -n 's/^VERSION = //p' "$ROOT/bench/corpus.py")
CORPUS=$BENCH_DIR/corpus-v$CVER-$BENCH_MB
say "corpus ($BENCH_MB MB of text Debian ships) in $CORPUS"
if [ ! -f "$CORPUS/corpus.json" ]; then
    t0=$(now)
    "$PY" "$ROOT/bench/corpus.py" "$CORPUS" "$BENCH_MB"
    echo "built in $(elapsed "$t0" "$(now)") s"
else
    echo "reusing the corpus built earlier"
fi
if [ ! -f "$CORPUS/lib.cat" ]; then
    # The same bytes as one stream, for zstd.
    (cd "$CORPUS" && find lib -type f -print0 | sort -z | xargs -0 cat > lib.cat.tmp && mv lib.cat.tmp lib.cat)
fi
"$PY" - "$CORPUS/corpus.json" <<'EOF'
import json, sys
m = json.load(open(sys.argv[1]))
for s in sorted(m["sources"]):
    st = m["sources"][s]
    print("  %-9s lib %7.1f MB %6d files   held-out %6.1f MB %5d files" % (
        s, st["lib"][0] / 1e6, st["lib"][1], st["held"][0] / 1e6, st["held"][1]))
print("  total     lib %7.1f MB %6d files   held-out %6.1f MB %5d files" % (
    m["lib_bytes"] / 1e6, m["lib_files"], m["held_bytes"] / 1e6, m["held_files"]))
EOF

R=$BENCH_DIR/run
rm -rf "$R"
mkdir -p "$R"
cat > "$R/params.json" <<EOF
{"bench_mb": $BENCH_MB, "outputs": $BENCH_OUTPUTS, "passes": $BENCH_PASSES,
 "sim_outputs": $SIM_OUTPUTS, "sim_others": $SIM_OTHERS, "corpus": "$CORPUS",
 "recite": "$RECITE", "nproc": $(nproc)}
EOF

# ---- 2. index build, timed against zstd -3 -T1 over the same bytes ----
say "index build (recite index, default --jobs and --jobs 1) vs zstd -3 -T1"
cd "$CORPUS"
cat lib.cat > /dev/null # page cache: every timed run reads warm files
find lib -type f -print0 | xargs -0 cat > /dev/null
run_zstd() {
    local t0 t1
    t0=$(now)
    /usr/bin/time -v -o "$R/zstd$1.time" zstd -q -3 -T1 -c lib.cat > /dev/null
    t1=$(now)
    elapsed "$t0" "$t1" > "$R/zstd$1.sec"
    echo "zstd -3 -T1 run $1: $(cat "$R/zstd$1.sec") s"
}
run_index() { # name, extra args...
    local name=$1 t0 t1
    shift
    t0=$(now)
    /usr/bin/time -v -o "$R/$name.time" "$RECITE" index --out "$R/$name" "$@" lib \
        > "$R/$name.log" 2>&1 || { cat "$R/$name.log" >&2; echo "bench: recite index failed" >&2; exit 2; }
    t1=$(now)
    elapsed "$t0" "$t1" > "$R/$name.sec"
    echo "recite index $*: $(cat "$R/$name.sec") s, peak RSS $(( $(rss_kb "$R/$name.time") / 1024 )) MB"
    grep -v '^$' "$R/$name.log" | head -n 3 | sed 's/^/    /'
}
# Interleaved, each recite configuration twice (the machine is shared: the report takes the
# faster run of each, and prints all of them).
run_zstd 1
run_index idx
run_zstd 2
run_index idx1 --jobs 1
run_zstd 3
run_index idx_b
rm -rf "$R/idx_b"
run_index idx1_b --jobs 1
rm -rf "$R/idx1" "$R/idx1_b"
zstd -q -3 -T1 -c lib.cat | wc -c > "$R/zstd.size" # untimed: the compressed size

# ---- 3. index size ----
say "index size"
"$RECITE" stats --index "$R/idx" --json > "$R/stats.json"
du -sb lib | cut -f1 > "$R/lib.du"
du -sb "$R/idx" | cut -f1 > "$R/idx.du"
"$RECITE" stats --index "$R/idx" | sed 's/^/    /'

# ---- 4. planted outputs (cached per corpus, count and version of plant.py) ----
PLANT=$CORPUS/plant-$BENCH_OUTPUTS-$(md5sum < "$ROOT/bench/plant.py" | cut -c1-8)
say "outputs: $BENCH_OUTPUTS of ~4 KB with planted spans, in $PLANT"
if [ ! -f "$PLANT/truth.json" ]; then # truth.json is written last
    rm -rf "$CORPUS"/plant-* # older versions
    "$PY" "$ROOT/bench/plant.py" "$CORPUS" "$PLANT" "$BENCH_OUTPUTS"
else
    echo "reusing the outputs generated earlier"
fi

# ---- 5. check throughput, latency, recall (library API, one thread) ----
say "check: bench_check over $BENCH_OUTPUTS outputs, 1 warm-up + $BENCH_PASSES timed passes, one thread"
# shellcheck disable=SC2046
cc -O2 -std=c17 -I"$ROOT/include" -o "$R/bench_check" "$ROOT/bench/bench_check.c" \
    "$BUILD_DIR/librecite.a" $(pkg-config --libs libxxhash libutf8proc libzstd jansson) -lpthread -lm
/usr/bin/time -v -o "$R/check.time" "$R/bench_check" "$R/idx" "$PLANT/list.txt" \
    "$R/matches.tsv" "$R/works.tsv" "$R/latency.tsv" "$BENCH_PASSES" > "$R/check.json"
cat "$R/check.json"
if [ "${BENCH_FULL:-1}" != 0 ]; then
    # The same outputs with every work that shares a span itemized (the library's defaults
    # itemize a sample of 8 works for spans of common language and verify at most 1000 works per
    # check): the recall of full attribution and what it costs.
    echo "full attribution: BENCH_COMMON_SAMPLE=BENCH_MAX_CANDIDATES=1000000, 1 pass, no warm-up"
    BENCH_WARMUP=0 BENCH_COMMON_SAMPLE=1000000 BENCH_MAX_CANDIDATES=1000000 "$R/bench_check" \
        "$R/idx" "$PLANT/list.txt" "$R/matches_full.tsv" "$R/works.tsv" "$R/latency_full.tsv" 1 \
        > "$R/check_full.json"
    cat "$R/check_full.json"
fi

# ---- 6. baseline: sim_text on a subset ----
say "baseline: sim_text on $SIM_OUTPUTS outputs + the works of their spans + $SIM_OTHERS other works"
"$PY" "$ROOT/bench/report.py" select-sim "$PLANT/truth.json" "$CORPUS" "$R" "$SIM_OUTPUTS" "$SIM_OTHERS"
t0=$(now)
sim_text -r 12 -S -n -i < "$R/sim_args.txt" > "$R/sim.out" 2> "$R/sim.err" \
    || { cat "$R/sim.err" >&2; echo "bench: sim_text failed" >&2; exit 2; }
t1=$(now)
elapsed "$t0" "$t1" > "$R/sim.sec"
echo "sim_text -r 12 -S -n: $(cat "$R/sim.sec") s"
# recite on the same subset, from scratch: index just those works, then check those outputs.
mapfile -t sim_works < "$R/sim_works.txt"
mapfile -t sim_outputs < "$R/sim_outputs.txt"
t0=$(now)
"$RECITE" index --quiet --out "$R/simidx" "${sim_works[@]}" > "$R/simidx.log" 2>&1 \
    || { cat "$R/simidx.log" >&2; echo "bench: recite index (subset) failed" >&2; exit 2; }
t1=$(now)
rc=0
"$RECITE" check --json --index "$R/simidx" "${sim_outputs[@]}" > "$R/sim_recite.json" || rc=$?
t2=$(now)
[ "$rc" -le 1 ] || { echo "bench: recite check (subset) failed: exit $rc" >&2; exit 2; }
elapsed "$t0" "$t1" > "$R/simidx.sec"
elapsed "$t1" "$t2" > "$R/simcheck.sec"
echo "recite index (subset): $(cat "$R/simidx.sec") s; recite check (subset): $(cat "$R/simcheck.sec") s"

# ---- 7. report ----
say "results"
"$PY" "$ROOT/bench/report.py" report "$R" "$PLANT/truth.json" "$CORPUS" | tee "$R/report.txt"

#!/usr/bin/env bash
# bench/run.sh RECITE — the `make bench` harness: a benchmark, not a test (it never fails on a
# missed target; it exits non-zero only when something could not be run).
#
# Everything is generated at run time from text Debian ships (see bench/corpus.py); nothing
# third-party is committed. Work files go to $BENCH_DIR (default bench/out/, gitignored).
#
#   BENCH_MB=300        size of the indexed library in MB (BENCH_MB=30 for a quick run)
#   BENCH_OUTPUTS=2000  generated outputs of ~4 KB with 1-3 planted spans each, in filler taken
#                       from held-out files ("library filler": it shares real text with the
#                       library, so each output also holds ~50 genuine matches)
#   BENCH_OUTPUTS_UNREL=1000  outputs with the same planted spans in filler of held-out words
#                       drawn at random ("unrelated filler": no run of library text besides the
#                       planted spans); 0 skips this set
#   BENCH_PASSES=3      timed passes of the check benchmark (latency = best of them)
#   BENCH_FULL=1        also check each set once with full attribution (BENCH_ALL_WORKS=1, the
#                       library's all_works option: every work sharing a span itemized); 0 skips it
#   BENCH_FULL_SECONDS=150  time limit of each full-attribution pass: it checks the first outputs
#                       of the set until then (the report says how many); 0 = no limit
#   SIM_OUTPUTS=300     outputs given to the sim_text baseline (with the works of their spans)
#   SIM_OTHERS=3000     further random works given to sim_text
#   BENCH_NOMATCH=1000  outputs of ~4 KB sharing nothing with the library (held-out words at
#                       random, no planted span): the speed of text without matches; 0 skips
#   BENCH_HELDCODE=300  outputs of at most 4 KB cut from held-out code (files of the library's
#                       packages in no work: bench/heldcode.py): what a code assistant writes;
#                       a row of the speed table without a goal; 0 skips
#   BENCH_BASELINE=e4f7257  the "before" of the speed table (issue 14): this revision of the
#                       repository is built in $BENCH_DIR/baseline-REV (cached) and measured in
#                       the same run as this tree (its builds, checks, open); "none" skips it
#   BENCH_DIR           work directory
#
# Steps: corpus (cached) -> the baseline revision built (cached) -> index builds (with and
# without CMI, this tree and the baseline) timed against zstd -3 -T1 over the same bytes ->
# index size -> planted outputs, two sets (cached) -> check throughput/latency/recall with the
# library (bench/bench_check.c), each set -> where a check's time goes, phase by phase
# (bench/bench_phases.c) -> sim_text baseline on a subset (library filler) -> summary table, the
# speed table before and after, and the phase table (bench/report.py).
set -euo pipefail

RECITE=${1:?usage: bench/run.sh path/to/recite}
RECITE=$(realpath "$RECITE")
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD_DIR=$(dirname "$RECITE")
BENCH_DIR=${BENCH_DIR:-$ROOT/bench/out}
BENCH_MB=${BENCH_MB:-300}
BENCH_OUTPUTS=${BENCH_OUTPUTS:-2000}
BENCH_OUTPUTS_UNREL=${BENCH_OUTPUTS_UNREL:-1000}
BENCH_PASSES=${BENCH_PASSES:-3}
SIM_OUTPUTS=${SIM_OUTPUTS:-300}
SIM_OTHERS=${SIM_OTHERS:-3000}
BENCH_NOMATCH=${BENCH_NOMATCH:-1000}
BENCH_HELDCODE=${BENCH_HELDCODE:-300}
BENCH_BASELINE=${BENCH_BASELINE:-e4f7257}
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

# ---- 1b. the baseline: another revision of this repository, built once (cached) ----
BASE_RECITE=
if [ "$BENCH_BASELINE" != none ]; then
    BASE_SRC=$BENCH_DIR/baseline-$BENCH_BASELINE
    say "baseline: revision $BENCH_BASELINE of this repository, built in $BASE_SRC"
    if [ ! -x "$BASE_SRC/build/recite" ] || [ ! -f "$BASE_SRC/build/librecite.a" ]; then
        rm -rf "$BASE_SRC"
        mkdir -p "$BASE_SRC"
        git -C "$ROOT" archive "$BENCH_BASELINE" | tar -x -C "$BASE_SRC" \
            || { echo "bench: cannot export revision $BENCH_BASELINE" >&2; exit 2; }
        make -C "$BASE_SRC" -j2 all > "$BASE_SRC.log" 2>&1 \
            || { tail -20 "$BASE_SRC.log" >&2; echo "bench: the baseline does not build" >&2; exit 2; }
    else
        echo "reusing the baseline built earlier"
    fi
    BASE_RECITE=$BASE_SRC/build/recite
fi

R=$BENCH_DIR/run
rm -rf "$R"
mkdir -p "$R"
cat > "$R/params.json" <<EOF
{"bench_mb": $BENCH_MB, "outputs": $BENCH_OUTPUTS, "outputs_unrel": $BENCH_OUTPUTS_UNREL,
 "passes": $BENCH_PASSES,
 "sim_outputs": $SIM_OUTPUTS, "sim_others": $SIM_OTHERS, "corpus": "$CORPUS",
 "recite": "$RECITE", "nproc": $(nproc), "baseline": "$BENCH_BASELINE",
 "nomatch": $BENCH_NOMATCH}
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
run_index() { # name, extra args... ($BIN: the recite to run, default this tree's)
    local name=$1 t0 t1 bin=${BIN:-$RECITE}
    shift
    t0=$(now)
    /usr/bin/time -v -o "$R/$name.time" "$bin" index --out "$R/$name" "$@" lib \
        > "$R/$name.log" 2>&1 || { cat "$R/$name.log" >&2; echo "bench: recite index failed" >&2; exit 2; }
    t1=$(now)
    elapsed "$t0" "$t1" > "$R/$name.sec"
    echo "${BIN:+baseline }recite index $*: $(cat "$R/$name.sec") s, peak RSS $(( $(rss_kb "$R/$name.time") / 1024 )) MB"
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
# The speed table (issue 14): one core, with and without CMI, this tree and the baseline (whose
# first index is kept: the baseline's checks run on it).
run_index nocmi1 --jobs 1 --no-cmi
rm -rf "$R/nocmi1"
if [ -n "$BASE_RECITE" ]; then
    BIN=$BASE_RECITE run_index base_idx1 --jobs 1
    BIN=$BASE_RECITE run_index base_nocmi1 --jobs 1 --no-cmi
    rm -rf "$R/base_nocmi1"
fi
run_index nocmi1_b --jobs 1 --no-cmi
rm -rf "$R/nocmi1_b"
if [ -n "$BASE_RECITE" ]; then
    BIN=$BASE_RECITE run_index base_idx1_b --jobs 1
    BIN=$BASE_RECITE run_index base_nocmi1_b --jobs 1 --no-cmi
    rm -rf "$R/base_idx1_b" "$R/base_nocmi1_b"
fi
zstd -q -3 -T1 -c lib.cat | wc -c > "$R/zstd.size" # untimed: the compressed size

# ---- 3. index size ----
say "index size"
"$RECITE" stats --index "$R/idx" --json > "$R/stats.json"
du -sb lib | cut -f1 > "$R/lib.du"
du -sb "$R/idx" | cut -f1 > "$R/idx.du"
"$RECITE" stats --index "$R/idx" | sed 's/^/    /'

# ---- 4. planted outputs, two sets (cached per corpus, count and version of plant.py) ----
# plant-N-MD5: library filler; plant-unrel-N-MD5: unrelated filler (the same spans, same seed).
PMD5=$(md5sum < "$ROOT/bench/plant.py" | cut -c1-8)
PLANT=$CORPUS/plant-$BENCH_OUTPUTS-$PMD5
PLANT_UNREL=$CORPUS/plant-unrel-$BENCH_OUTPUTS_UNREL-$PMD5
plant() { # dir, count, glob of older versions of that set, plant.py options...
    local dir=$1 n=$2 old=$3
    shift 3
    if [ ! -f "$dir/truth.json" ]; then # truth.json is written last
        rm -rf "$CORPUS"/$old
        "$PY" "$ROOT/bench/plant.py" "$CORPUS" "$dir" "$n" "$@"
    else
        echo "reusing the outputs generated earlier"
    fi
}
say "outputs, library filler: $BENCH_OUTPUTS of ~4 KB with planted spans, in $PLANT"
plant "$PLANT" "$BENCH_OUTPUTS" 'plant-[0-9]*' --filler library
if [ "$BENCH_OUTPUTS_UNREL" != 0 ]; then
    say "outputs, unrelated filler: $BENCH_OUTPUTS_UNREL of ~4 KB with the same planted spans, in $PLANT_UNREL"
    plant "$PLANT_UNREL" "$BENCH_OUTPUTS_UNREL" 'plant-unrel-*' --filler shuffled
fi

# ---- 5. check throughput, latency, recall (library API, one thread), each set ----
# Linked like the Makefile links the library (its PKGS line: the dependencies of librecite.a).
PKGS=$(sed -n '/^PKGS *:=/{:a;/\\$/{N;ba};s/^PKGS *:= *//;s/\\\n */ /g;p}' "$ROOT/Makefile")
# shellcheck disable=SC2046,SC2086
cc -O2 -std=c17 -I"$ROOT/include" -o "$R/bench_check" "$ROOT/bench/bench_check.c" \
    "$BUILD_DIR/librecite.a" $(pkg-config --libs ${PKGS:-libxxhash libutf8proc libzstd jansson}) \
    -lpthread -lm
run_check() { # label, outputs dir, file suffix ("" or "_unrel")
    local label=$1 dir=$2 s=$3 n
    n=$(wc -l < "$dir/list.txt")
    say "check, $label: bench_check over $n outputs, 1 warm-up + $BENCH_PASSES timed passes, one thread"
    /usr/bin/time -v -o "$R/check$s.time" "$R/bench_check" "$R/idx" "$dir/list.txt" \
        "$R/matches$s.tsv" "$R/works.tsv" "$R/latency$s.tsv" "$BENCH_PASSES" > "$R/check$s.json"
    cat "$R/check$s.json"
    if [ "${BENCH_FULL:-1}" != 0 ]; then
        # The same outputs with every work that shares a span itemized (by default a passage of
        # common language is itemized with 3 works, the others counted): the recall of full
        # attribution and what it costs.
        echo "full attribution: BENCH_ALL_WORKS=1 (recite check --all-works), 1 pass, no warm-up," \
            "time limit ${BENCH_FULL_SECONDS:-150} s"
        BENCH_WARMUP=0 BENCH_ALL_WORKS=1 BENCH_TIME_LIMIT=${BENCH_FULL_SECONDS:-150} \
            "$R/bench_check" "$R/idx" "$dir/list.txt" \
            "$R/matches${s}_full.tsv" "$R/works.tsv" "$R/latency${s}_full.tsv" 1 \
            > "$R/check${s}_full.json"
        cat "$R/check${s}_full.json"
    fi
}
run_check "library filler" "$PLANT" ""
if [ "$BENCH_OUTPUTS_UNREL" != 0 ]; then
    run_check "unrelated filler" "$PLANT_UNREL" "_unrel"
fi

# ---- 5b. the speed table: text without matches, opening, and the baseline in the same run ----
# extra_set SCRIPT N SUFFIX MATCHES WHAT: N outputs made by bench/SCRIPT.py, cached in
# $CORPUS/SCRIPT-N-MD5 (SET names it), checked like the planted sets into check$SUFFIX.json.
extra_set() {
    local script=$1 n=$2 suffix=$3 matches=$4 what=$5 md5
    md5=$(cat "$ROOT/bench/$script.py" "$ROOT/bench/plant.py" | md5sum | cut -c1-8)
    SET=$CORPUS/$script-$n-$md5
    say "$what: $n outputs, in $SET"
    if [ ! -f "$SET/list.txt" ]; then
        rm -rf "$CORPUS/$script"-*
        "$PY" "$ROOT/bench/$script.py" "$CORPUS" "$SET" "$n"
    else
        echo "reusing the outputs generated earlier"
    fi
    say "check, $what: bench_check, 1 warm-up + $BENCH_PASSES timed passes, one thread"
    "$R/bench_check" "$R/idx" "$SET/list.txt" "$matches" /dev/null "$R/latency$suffix.tsv" \
        "$BENCH_PASSES" > "$R/check$suffix.json"
    cat "$R/check$suffix.json"
}
if [ "$BENCH_NOMATCH" != 0 ]; then
    extra_set nomatch "$BENCH_NOMATCH" _nomatch /dev/null \
        "outputs without matches (~4 KB, held-out words at random)"
    NOMATCH=$SET
fi
if [ "$BENCH_HELDCODE" != 0 ]; then
    extra_set heldcode "$BENCH_HELDCODE" _code "$R/matches_code.tsv" \
        "held-out code (at most 4 KB a piece)"
    HELDCODE=$SET
fi
# ---- 5c. where a check's time goes: the matcher's phase profile, each set (this tree only) ----
# shellcheck disable=SC2046,SC2086
cc -O2 -std=c17 -D_GNU_SOURCE -I"$ROOT/include" -I"$ROOT/src" -o "$R/bench_phases" \
    "$ROOT/bench/bench_phases.c" "$BUILD_DIR/librecite.a" \
    $(pkg-config --libs ${PKGS:-libxxhash libutf8proc libzstd jansson}) -lpthread -lm
say "phases: bench_phases (the matcher's profile), 1 warm-up + 1 profiled pass, each set"
for set in "$PLANT:" "$PLANT_UNREL:_unrel" "${NOMATCH:-}:_nomatch" "${HELDCODE:-}:_code"; do
    dir=${set%:*} suffix=${set##*:}
    [ -n "$dir" ] && [ -f "$dir/list.txt" ] || continue
    [ "$suffix" != _unrel ] || [ "$BENCH_OUTPUTS_UNREL" != 0 ] || continue
    [ "$suffix" != _nomatch ] || [ "$BENCH_NOMATCH" != 0 ] || continue
    [ "$suffix" != _code ] || [ "$BENCH_HELDCODE" != 0 ] || continue
    "$R/bench_phases" "$R/idx" "$dir/list.txt" 1 > "$R/phases$suffix.json"
    cat "$R/phases$suffix.json"
done
# shellcheck disable=SC2046,SC2086
cc -O2 -std=c17 -I"$ROOT/include" -o "$R/bench_open" "$ROOT/bench/bench_open.c" \
    "$BUILD_DIR/librecite.a" $(pkg-config --libs ${PKGS:-libxxhash libutf8proc libzstd jansson}) \
    -lpthread -lm
# The works' text as the index holds it, for the report's check of source offsets.
# shellcheck disable=SC2046,SC2086
cc -O2 -std=c17 -I"$ROOT/include" -o "$R/work_text" "$ROOT/bench/work_text.c" \
    "$BUILD_DIR/librecite.a" $(pkg-config --libs ${PKGS:-libxxhash libutf8proc libzstd jansson}) \
    -lpthread -lm
say "opening the index: recite_index_open + close, and a check of a tiny text, 200 times"
"$R/bench_open" "$R/idx" 200 > "$R/open.json"
cat "$R/open.json"
if [ -n "$BASE_RECITE" ]; then
    say "the baseline ($BENCH_BASELINE): the same checks and opening, its own index"
    BPKGS=$(sed -n '/^PKGS *:=/{:a;/\\$/{N;ba};s/^PKGS *:= *//;s/\\\n */ /g;p}' "$BASE_SRC/Makefile")
    for tool in bench_check bench_open; do
        # shellcheck disable=SC2046,SC2086
        cc -O2 -std=c17 -I"$BASE_SRC/include" -o "$R/base_$tool" "$ROOT/bench/$tool.c" \
            "$BASE_SRC/build/librecite.a" \
            $(pkg-config --libs ${BPKGS:-libxxhash libutf8proc libzstd jansson}) -lpthread -lm
    done
    base_check() { # label, list, suffix
        echo "baseline check, $1:"
        "$R/base_bench_check" "$R/base_idx1" "$2" "$R/base_matches$3.tsv" /dev/null \
            "$R/base_latency$3.tsv" "$BENCH_PASSES" > "$R/base_check$3.json"
        cat "$R/base_check$3.json"
    }
    base_check "library filler" "$PLANT/list.txt" ""
    [ "$BENCH_OUTPUTS_UNREL" = 0 ] || base_check "unrelated filler" "$PLANT_UNREL/list.txt" "_unrel"
    [ "$BENCH_NOMATCH" = 0 ] || base_check "no matches" "$NOMATCH/list.txt" "_nomatch"
    [ "$BENCH_HELDCODE" = 0 ] || base_check "held-out code" "$HELDCODE/list.txt" "_code"
    "$R/base_bench_open" "$R/base_idx1" 200 > "$R/base_open.json"
    cat "$R/base_open.json"
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
UNREL_TRUTH=()
[ "$BENCH_OUTPUTS_UNREL" = 0 ] || UNREL_TRUTH=("$PLANT_UNREL/truth.json")
"$PY" "$ROOT/bench/report.py" report "$R" "$PLANT/truth.json" "$CORPUS" "${UNREL_TRUTH[@]}" \
    | tee "$R/report.txt"

#!/usr/bin/env bash
# bench/scale.sh RECITE — scale-out benchmark (issue 12): a library of text Debian ships
# (bench/corpus.py; linux-source makes up the bulk beyond a few hundred MB) built as one index,
# as 2 shards in one process and with 2 MPI ranks; checks of ~4 KB outputs with planted spans on
# one index and on the sharded index (throughput, p50/p99, identical results), the same under 2
# MPI ranks fanned out to the shards and scattered (bench_dist.c), the batch check of every
# output by one process and by 2 MPI ranks both ways; wall time and peak memory of every
# process and rank. A benchmark, not a test: it exits non-zero only when something could not be run. The
# figures are the inputs of docs/SCALE.md.
#
#   SCALE_MB=1000        library size in MB
#   SCALE_OUTPUTS=1000   outputs of ~4 KB (bench/plant.py, library filler)
#   SCALE_PASSES=3       timed passes of bench_check (latency: best of them per output)
#   SCALE_JOBS=2         worker threads of one process (the MPI ranks get SCALE_JOBS / 2 each)
#   BENCH_DIR            work directory (default bench/out/)
# Writes $BENCH_DIR/scale-$SCALE_MB/summary.json and prints a table.
set -euo pipefail

RECITE=$(realpath "${1:?usage: bench/scale.sh path/to/recite}")
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD_DIR=$(dirname "$RECITE")
BENCH_DIR=${BENCH_DIR:-$ROOT/bench/out}
SCALE_MB=${SCALE_MB:-1000}
SCALE_OUTPUTS=${SCALE_OUTPUTS:-1000}
SCALE_PASSES=${SCALE_PASSES:-3}
SCALE_JOBS=${SCALE_JOBS:-2}
RANK_JOBS=$((SCALE_JOBS / 2 > 0 ? SCALE_JOBS / 2 : 1))
PY=/usr/bin/python3
export LC_ALL=C PYTHONDONTWRITEBYTECODE=1 SOURCE_DATE_EPOCH=1700000000
# Open MPI as root on one machine (2 ranks on 2 cores: oversubscribed), shared memory only.
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_btl=self,vader

"$ROOT/scripts/deps.sh" bench
for tool in "$PY" mpirun /usr/bin/time cc pkg-config; do
    command -v "$tool" >/dev/null || { echo "scale: $tool is missing (scripts/deps.sh bench)" >&2; exit 2; }
done
mkdir -p "$BENCH_DIR"
BENCH_DIR=$(realpath "$BENCH_DIR")
say() { printf '\n== %s\n' "$*"; }
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }
rss_kb() { sed -n 's/.*Maximum resident set size (kbytes): //p' "$1"; }

CVER=$(sed -n 's/^VERSION = //p' "$ROOT/bench/corpus.py")
CORPUS=$BENCH_DIR/corpus-v$CVER-$SCALE_MB
R=$BENCH_DIR/scale-$SCALE_MB
mkdir -p "$R"
say "corpus ($SCALE_MB MB of text Debian ships) in $CORPUS"
if [ ! -f "$CORPUS/corpus.json" ]; then
    t0=$(now)
    "$PY" "$ROOT/bench/corpus.py" "$CORPUS" "$SCALE_MB"
    echo "built in $(elapsed "$t0" "$(now)") s"
fi
"$PY" -c 'import json,sys; m=json.load(open(sys.argv[1])); print("  %.1f MB in %d files" % (m["lib_bytes"]/1e6, m["lib_files"]))' "$CORPUS/corpus.json"
cd "$CORPUS"

# ---- builds: wall time and peak memory of each process (each rank) ----
# build NAME CMD...: runs CMD under /usr/bin/time into $R/NAME.time, wall time in $R/NAME.wall.
build() {
    local name=$1
    shift
    rm -rf "$R/$name"
    say "build $name: $*"
    local t0
    t0=$(now)
    "$@" >"$R/$name.log" 2>&1 || { cat "$R/$name.log" >&2; echo "scale: build $name failed" >&2; exit 2; }
    elapsed "$t0" "$(now)" >"$R/$name.wall"
    cat "$R/$name.log"
    echo "wall $(cat "$R/$name.wall") s"
}
# The license index is built once and cached for every build below (not timed apart).
export RECITE_CACHE=$R/cache
"$RECITE" index --quiet --out "$R/warm" "$ROOT/README.md" >/dev/null && rm -rf "$R/warm"
build one /usr/bin/time -v -o "$R/one.time" "$RECITE" index --quiet --jobs "$SCALE_JOBS" --out "$R/one" lib
build shards2 /usr/bin/time -v -o "$R/shards2.time" "$RECITE" index --quiet --jobs "$SCALE_JOBS" --shards 2 --out "$R/shards2" lib
build mpi2 mpirun -n 2 --oversubscribe sh -c \
    'exec /usr/bin/time -v -o "$0/mpi2.rank$OMPI_COMM_WORLD_RANK.time" "$@"' "$R" \
    "$RECITE" index --mpi --quiet --jobs "$RANK_JOBS" --out "$R/mpi2" lib
# The same bytes whichever way they were built (same time stamp).
same_files=true
for f in recite.idx shard-0000/recite.idx shard-0001/recite.idx; do
    cmp -s "$R/shards2/$f" "$R/mpi2/$f" || same_files=false
done
echo "shards built in one process and by 2 MPI ranks are byte-identical: $same_files"
for d in one mpi2; do "$RECITE" stats --index "$R/$d" --json >"$R/$d.stats.json"; done
"$RECITE" stats --index "$R/mpi2/shard-0000" --json >"$R/shard0.stats.json"
"$RECITE" stats --index "$R/mpi2/shard-0001" --json >"$R/shard1.stats.json"
"$RECITE" stats --index "$R/mpi2"

# ---- outputs ----
PMD5=$(md5sum <"$ROOT/bench/plant.py" | cut -c1-8)
PLANT=$CORPUS/plant-$SCALE_OUTPUTS-$PMD5
say "outputs: $SCALE_OUTPUTS of ~4 KB with planted spans, library filler, in $PLANT"
[ -f "$PLANT/truth.json" ] || "$PY" "$ROOT/bench/plant.py" "$CORPUS" "$PLANT" "$SCALE_OUTPUTS" --filler library

# ---- checks: one index and the sharded one, library API, one thread ----
# The Makefile's PKGS line (with its continuation lines): the dependencies of librecite.a.
PKGS=$(sed -n '/^PKGS *:=/,/[^\\]$/p' "$ROOT/Makefile" | sed 's/^PKGS *:= *//; s/\\$//' | tr '\n' ' ')
# shellcheck disable=SC2046,SC2086
cc -O2 -std=c17 -I"$ROOT/include" -o "$R/bench_check" "$ROOT/bench/bench_check.c" \
    "$BUILD_DIR/librecite.a" $(pkg-config --libs $PKGS) -lpthread -lm
for d in one mpi2; do
    say "check on $d: bench_check over $SCALE_OUTPUTS outputs, 1 warm-up + $SCALE_PASSES passes"
    /usr/bin/time -v -o "$R/check_$d.time" "$R/bench_check" "$R/$d" "$PLANT/list.txt" \
        "$R/matches_$d.tsv" "$R/works_$d.tsv" "$R/latency_$d.tsv" "$SCALE_PASSES" >"$R/check_$d.json"
    cat "$R/check_$d.json"
done
# The same matches (the cluster column is a number of each index's own; works are compared by id).
same_matches=false
cut -f1,2,4- "$R/matches_one.tsv" >"$R/m1" && cut -f1,2,4- "$R/matches_mpi2.tsv" >"$R/m2" &&
    cmp -s "$R/m1" "$R/m2" && same_matches=true
echo "the sharded index finds the same matches as one index: $same_matches ($(wc -l <"$R/m1") matches)"

# ---- what a fanned-out check would exchange: the matcher's phases counted (internal API) ----
# shellcheck disable=SC2046,SC2086
cc -O2 -std=c17 -D_GNU_SOURCE -I"$ROOT/include" -I"$ROOT/src" -o "$R/bench_fanout" \
    "$ROOT/bench/bench_fanout.c" "$BUILD_DIR/librecite.a" $(pkg-config --cflags --libs $PKGS) -lpthread -lm
for d in one mpi2; do
    say "phases on $d: bench_fanout over $SCALE_OUTPUTS outputs"
    "$R/bench_fanout" "$R/$d" "$PLANT/list.txt" >"$R/fanout_$d.json"
    cat "$R/fanout_$d.json"
done

# ---- checks under 2 MPI ranks: fanned out to the shards, and scattered ----
# shellcheck disable=SC2046
cc -O2 -std=c17 -I"$ROOT/include" -o "$R/bench_dist" "$ROOT/bench/bench_dist.c" \
    "$BUILD_DIR/librecite.a" $(pkg-config --cflags --libs $PKGS ompi-c) -lpthread -lm
for mode in fanout scatter; do
    say "check $mode, 2 MPI ranks on the 2 shards: bench_dist over $SCALE_OUTPUTS outputs, 1 warm-up + $SCALE_PASSES passes"
    mpirun -n 2 --oversubscribe "$R/bench_dist" "$mode" "$R/mpi2" "$PLANT/list.txt" "$SCALE_PASSES" >"$R/dist_$mode.json"
    cat "$R/dist_$mode.json"
done

# ---- batch checks: every output, one process against 2 MPI ranks (fanned out, scattered) ----
mapfile -t OUTS <"$PLANT/list.txt"
say "batch check of ${#OUTS[@]} outputs: one process (one index), then 2 MPI ranks (sharded index)"
t0=$(now)
/usr/bin/time -v -o "$R/batch_one.time" "$RECITE" check --json --index "$R/one" "${OUTS[@]}" >"$R/batch_one.json" || [ $? -eq 1 ]
elapsed "$t0" "$(now)" >"$R/batch_one.wall"
same_batch=true
for mode in fanout scatter; do
    flag=
    [ "$mode" = scatter ] && flag=--scatter
    t0=$(now)
    # shellcheck disable=SC2086
    mpirun -n 2 --oversubscribe sh -c 'm=$1; shift; exec /usr/bin/time -v -o "$0/batch_$m.rank$OMPI_COMM_WORLD_RANK.time" "$@"' "$R" "$mode" \
        "$RECITE" check --mpi $flag --json --index "$R/mpi2" "${OUTS[@]}" >"$R/batch_$mode.json" 2>"$R/batch_$mode.err" || true
    elapsed "$t0" "$(now)" >"$R/batch_$mode.wall"
    cmp -s "$R/batch_one.json" "$R/batch_$mode.json" || same_batch=false
done
echo "one process $(cat "$R/batch_one.wall") s, 2 MPI ranks fanned out $(cat "$R/batch_fanout.wall") s, scattered $(cat "$R/batch_scatter.wall") s; identical JSON: $same_batch"

# ---- summary ----
"$PY" - "$R" "$same_files" "$same_matches" "$same_batch" "$CORPUS/corpus.json" <<'EOF'
import glob, json, os, re, sys
R, same_files, same_matches, same_batch, corpus = sys.argv[1:6]
def rss(p):
    m = re.search(r"Maximum resident set size \(kbytes\): (\d+)", open(p).read())
    return int(m.group(1)) * 1024 if m else None
def wall(n):
    return float(open(os.path.join(R, n + ".wall")).read())
def du(d):
    return sum(os.path.getsize(os.path.join(a, f)) for a, _, fs in os.walk(d) for f in fs
               if not f.startswith("catalog") and "licenses" not in a)
c = json.load(open(corpus))
st = {d: json.load(open(os.path.join(R, d + ".stats.json"))) for d in ("one", "mpi2", "shard0", "shard1")}
chk = {d: json.load(open(os.path.join(R, "check_" + d + ".json"))) for d in ("one", "mpi2")}
s = {
    "library_bytes": c["lib_bytes"], "library_files": c["lib_files"],
    "works": st["one"]["works"], "tokens": st["one"]["tokens"],
    "build": {
        "one_process_s": wall("one"), "one_process_rss": rss(os.path.join(R, "one.time")),
        "shards2_one_process_s": wall("shards2"), "shards2_rss": rss(os.path.join(R, "shards2.time")),
        "mpi2_s": wall("mpi2"),
        "mpi2_rank_rss": [rss(p) for p in sorted(glob.glob(os.path.join(R, "mpi2.rank*.time")))],
        "mpi2_byte_identical_to_one_process_shards": same_files == "true",
    },
    "index_bytes": {"one": du(os.path.join(R, "one")), "sharded": du(os.path.join(R, "mpi2")),
                    "head": os.path.getsize(os.path.join(R, "mpi2", "recite.idx")),
                    "shards": [st["shard0"]["bytes"]["total"], st["shard1"]["bytes"]["total"]],
                    "postings": st["mpi2"]["bytes"]["postings"], "text": st["mpi2"]["bytes"]["text"],
                    "works": st["mpi2"]["bytes"]["works"]},
    "check": {d: {k: chk[d][k] for k in ("outputs", "bytes", "mb_per_s", "p50_ms", "p99_ms",
                                           "max_ms", "matches")} for d in chk},
    "check_rss": {d: rss(os.path.join(R, "check_%s.time" % d)) for d in chk},
    "same_matches": same_matches == "true",
    "fanout": {d: json.load(open(os.path.join(R, "fanout_%s.json" % d))) for d in ("one", "mpi2")},
    "dist": {m: json.load(open(os.path.join(R, "dist_%s.json" % m))) for m in ("fanout", "scatter")},
    "batch": {"one_process_s": wall("batch_one"),
              "one_process_rss": rss(os.path.join(R, "batch_one.time")),
              "identical_json": same_batch == "true"},
}
for m in ("fanout", "scatter"):
    s["batch"]["mpi2_%s_s" % m] = wall("batch_" + m)
    s["batch"]["mpi2_%s_rank_rss" % m] = [rss(p) for p in sorted(glob.glob(os.path.join(R, "batch_%s.rank*.time" % m)))]
json.dump(s, open(os.path.join(R, "summary.json"), "w"), indent=1)
mb = s["library_bytes"] / 1e6
b = s["build"]
print("\nscale-out, %.0f MB library (%d works, %d tokens)" % (mb, s["works"], s["tokens"]))
print("  build, one index, one process    %7.1f s  %6.1f MB/s  peak %5.0f MB" % (b["one_process_s"], mb / b["one_process_s"], b["one_process_rss"] / 1e6))
print("  build, 2 shards, one process     %7.1f s  %6.1f MB/s  peak %5.0f MB" % (b["shards2_one_process_s"], mb / b["shards2_one_process_s"], b["shards2_rss"] / 1e6))
print("  build, 2 MPI ranks               %7.1f s  %6.1f MB/s  peak per rank %s MB" % (b["mpi2_s"], mb / b["mpi2_s"], ", ".join("%.0f" % (r / 1e6) for r in b["mpi2_rank_rss"])))
ib = s["index_bytes"]
print("  index: one %.0f MB; sharded %.0f MB (head %.1f KB, shards %s MB)" % (ib["one"] / 1e6, ib["sharded"] / 1e6, ib["head"] / 1e3, ", ".join("%.0f" % (x / 1e6) for x in ib["shards"])))
for d, name in (("one", "one index"), ("mpi2", "2 shards")):
    k = s["check"][d]
    print("  check, %-9s %d outputs: %6.2f MB/s  p50 %.2f ms  p99 %.2f ms  (peak %.0f MB)" % (name, k["outputs"], k["mb_per_s"], k["p50_ms"], k["p99_ms"], s["check_rss"][d] / 1e6))
for m in ("fanout", "scatter"):
    k = s["dist"][m]
    print("  check, 2 MPI ranks, %-8s %d outputs: %6.2f MB/s  p50 %.2f ms  p99 %.2f ms  (peak per rank %s MB)" % (m, k["outputs"], k["mb_per_s"], k["p50_ms"], k["p99_ms"], ", ".join("%.0f" % x for x in k["rss_mb"])))
bt = s["batch"]
print("  batch check CLI: one process %.1f s (peak %.0f MB); 2 MPI ranks fanned out %.1f s (peak per rank %s MB), scattered %.1f s (%s MB)" % (bt["one_process_s"], bt["one_process_rss"] / 1e6, bt["mpi2_fanout_s"], ", ".join("%.0f" % (r / 1e6) for r in bt["mpi2_fanout_rank_rss"]), bt["mpi2_scatter_s"], ", ".join("%.0f" % (r / 1e6) for r in bt["mpi2_scatter_rank_rss"])))
print("  identical: shard files %s, matches %s, batch JSON %s" % (b["mpi2_byte_identical_to_one_process_shards"], s["same_matches"], bt["identical_json"]))
EOF

#!/usr/bin/env bash
# bench/textfree.sh RECITE — a text-free index against the ordinary one, same library, same
# outputs, same invocation: build time, index size, check throughput and latency, and whether
# the matches are the same. A benchmark, not a test: it fails only when something cannot run.
#
#   BENCH_MB=300       library size (the corpus of bench/run.sh, built by bench/corpus.py and
#                      cached in $BENCH_DIR)
#   BENCH_OUTPUTS=1000 outputs with planted spans, library filler (bench/plant.py; cached)
#   BENCH_PASSES=3     timed check passes (latency: the best pass)
#   BENCH_DIR          work directory (default bench/out)
#
# Exact-only matching is compared too (BENCH_EXACT=1 in a second pair of runs): near matches
# seed on fingerprints, and the key changes which fingerprints winnowing keeps, so only exact
# and normalized matches are expected to be identical.
set -euo pipefail

RECITE=$(realpath "${1:?usage: bench/textfree.sh path/to/recite}")
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD_DIR=$(dirname "$RECITE")
BENCH_DIR=${BENCH_DIR:-$ROOT/bench/out}
BENCH_MB=${BENCH_MB:-300}
BENCH_OUTPUTS=${BENCH_OUTPUTS:-1000}
BENCH_PASSES=${BENCH_PASSES:-3}
PY=/usr/bin/python3
export LC_ALL=C PYTHONDONTWRITEBYTECODE=1

"$ROOT/scripts/deps.sh" bench
mkdir -p "$BENCH_DIR"
BENCH_DIR=$(realpath "$BENCH_DIR")
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }

CVER=$(sed -n 's/^VERSION = //p' "$ROOT/bench/corpus.py")
CORPUS=$BENCH_DIR/corpus-v$CVER-$BENCH_MB
[ -f "$CORPUS/corpus.json" ] || "$PY" "$ROOT/bench/corpus.py" "$CORPUS" "$BENCH_MB"
PMD5=$(md5sum < "$ROOT/bench/plant.py" | cut -c1-8)
PLANT=$CORPUS/plant-$BENCH_OUTPUTS-$PMD5
[ -f "$PLANT/truth.json" ] || "$PY" "$ROOT/bench/plant.py" "$CORPUS" "$PLANT" "$BENCH_OUTPUTS" --filler library

R=$BENCH_DIR/textfree
rm -rf "$R"
mkdir -p "$R"
head -c 32 /dev/urandom > "$R/key"
PKGS=$(sed -n '/^PKGS *:=/{:a;/\\$/{N;ba};s/^PKGS *:= *//;s/\\\n */ /g;p}' "$ROOT/Makefile")
# shellcheck disable=SC2046,SC2086
cc -O2 -std=c17 -I"$ROOT/include" -o "$R/bench_check" "$ROOT/bench/bench_check.c" \
    "$BUILD_DIR/librecite.a" $(pkg-config --libs $PKGS) -lpthread -lm

cd "$CORPUS"
find lib -type f -print0 | xargs -0 cat > /dev/null # warm page cache
build() { # name, extra args...
    local name=$1 t0
    shift
    rm -rf "${R:?}/$name"
    t0=$(now)
    "$RECITE" index --quiet --out "$R/$name" "$@" lib
    echo "$(elapsed "$t0" "$(now)")" >> "$R/$name.sec"
}
echo "== index build, alternating (2 runs each)"
for i in 1 2; do
    build plain
    build tf --text-free --key "$R/key"
    echo "run $i: ordinary $(tail -1 "$R/plain.sec") s, text-free $(tail -1 "$R/tf.sec") s"
done
"$RECITE" stats --index "$R/plain" --json > "$R/plain.stats"
"$RECITE" stats --index "$R/tf" --json > "$R/tf.stats"

check() { # name, suffix, env...
    local name=$1 s=$2
    shift 2
    env "$@" "$R/bench_check" "$R/$name" "$PLANT/list.txt" "$R/m_$name$s.tsv" "$R/w_$name$s.tsv" \
        "$R/l_$name$s.tsv" "$BENCH_PASSES" > "$R/c_$name$s.json"
}
echo "== check, $BENCH_OUTPUTS outputs, $BENCH_PASSES passes, alternating"
check plain ""
check tf "" BENCH_KEY="$R/key"
check plain _exact BENCH_EXACT=1
check tf _exact BENCH_KEY="$R/key" BENCH_EXACT=1

"$PY" - "$R" "$(du -sb lib | cut -f1)" "$PLANT/truth.json" <<'EOF'
import json, sys
r, lib = sys.argv[1], int(sys.argv[2])
truth = json.load(open(sys.argv[3]))
def recall(name):
    """Planted spans detected (a match of any work covers >= 90% of the span's bytes) and
    attributed (a match of the planted work's cluster does)."""
    cl = {}
    for line in open(f"{r}/w_{name}.tsv", errors="surrogateescape"):
        wid, c, _ = line.rstrip("\n").split("\t")
        cl[wid] = c
    ms = {}
    for line in open(f"{r}/m_{name}.tsv", errors="surrogateescape"):
        f = line.rstrip("\n").split("\t")
        ms.setdefault(int(f[0]), []).append((f[1], int(f[3]), int(f[4])))
    n = det = att = 0
    for t in truth:
        for sp in t["spans"]:
            n += 1
            need = 0.9 * (sp["out_end"] - sp["out_start"])
            cover = [(w, min(e, sp["out_end"]) - max(s, sp["out_start"]))
                     for w, s, e in ms.get(t["output"], [])]
            det += any(c >= need for _, c in cover)
            att += any(c >= need and cl.get(w) == cl.get(sp["work"], "?") for w, c in cover)
    return det / n, att / n
st = {n: json.load(open(f"{r}/{n}.stats")) for n in ("plain", "tf")}
sec = {n: min(float(x) for x in open(f"{r}/{n}.sec")) for n in ("plain", "tf")}
def rows(path):
    # output, work, out_start, out_end, src_start, src_end, kind (not the cluster number)
    out = set()
    for line in open(path):
        f = line.rstrip("\n").split("\t")
        out.add((f[0], f[1], f[3], f[4], f[5], f[6], f[8]))
    return out
print(f"\n{'':28}{'ordinary':>12}{'text-free':>12}{'ratio':>8}")
def row(name, a, b, fmt="{:.2f}"):
    print(f"{name:28}{fmt.format(a):>12}{fmt.format(b):>12}{(b / a if a else 0):>8.2f}")
row("build s (best of 2)", sec["plain"], sec["tf"])
row("index MB", st["plain"]["bytes"]["total"] / 1e6, st["tf"]["bytes"]["total"] / 1e6, "{:.1f}")
row("  stored text/records MB", st["plain"]["bytes"]["text"] / 1e6, st["tf"]["bytes"]["text"] / 1e6, "{:.1f}")
row("  postings MB", st["plain"]["bytes"]["postings"] / 1e6, st["tf"]["bytes"]["postings"] / 1e6, "{:.1f}")
print(f"{'index / library':28}{st['plain']['bytes']['total'] / lib:>12.2f}{st['tf']['bytes']['total'] / lib:>12.2f}")
for s, label in (("", "near on"), ("_exact", "exact only")):
    c = {n: json.load(open(f"{r}/c_{n}{s}.json")) for n in ("plain", "tf")}
    row(f"check MB/s ({label})", c["plain"]["mb_per_s"], c["tf"]["mb_per_s"])
    row(f"  p50 ms", c["plain"]["p50_ms"], c["tf"]["p50_ms"], "{:.3f}")
    row(f"  p99 ms", c["plain"]["p99_ms"], c["tf"]["p99_ms"], "{:.3f}")
    a, b = rows(f"{r}/m_plain{s}.tsv"), rows(f"{r}/m_tf{s}.tsv")
    ea = {x for x in a if x[6] != "near"}
    eb = {x for x in b if x[6] != "near"}
    print(f"  matches: ordinary {len(a)}, text-free {len(b)}; exact+normalized: {len(ea)} vs "
          f"{len(eb)}, identical {len(ea & eb)} (boilerplate is itemized with a sample of its "
          f"works, which the key reshuffles)")
    (da, aa), (db, ab) = recall("plain" + s), recall("tf" + s)
    row("  planted spans detected", da, db, "{:.3f}")
    row("  planted spans attributed", aa, ab, "{:.3f}")
EOF

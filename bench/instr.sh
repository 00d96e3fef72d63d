#!/usr/bin/env bash
# bench/instr.sh RECITE [OTHER_RECITE] — what a check costs in instructions (callgrind), which a
# shared, noisy machine does not blur the way it blurs seconds: the measure for changes of a few
# per cent. A benchmark, not a test: it fails only when something cannot run.
#
# bench_check is built against the librecite.a next to each recite given and run under
# callgrind, one warm-up pass and one measured pass (both counted, the filters' making included),
# over three sets generated from the bench corpus (bench/corpus.py, the one bench/run.sh uses):
#   library-heavy  150 outputs with planted spans in library filler (bench/plant.py)
#   unrelated      150 outputs with planted spans in unrelated filler
#   no match       300 outputs sharing nothing with the library (bench/nomatch.py)
# With two recites, the second's counts and ratios are printed too, and the matches of the two
# on the 600 outputs are compared (a change meant to be faster must find the same). Both check
# the index the first one builds, so both must read its format.
#
#   BENCH_MB=50   library size (the corpus is cached in $BENCH_DIR, shared with bench/run.sh)
#   BENCH_DIR     work directory (default bench/out)
set -euo pipefail

RECITE=$(realpath "${1:?usage: bench/instr.sh path/to/recite [path/to/other/recite]}")
OTHER=${2:+$(realpath "$2")}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BENCH_DIR=${BENCH_DIR:-$ROOT/bench/out}
BENCH_MB=${BENCH_MB:-50}
PY=/usr/bin/python3
export LC_ALL=C PYTHONDONTWRITEBYTECODE=1

"$ROOT/scripts/deps.sh" bench
for tool in "$PY" valgrind cc pkg-config; do
    command -v "$tool" >/dev/null || { echo "instr: $tool is missing (scripts/deps.sh)" >&2; exit 2; }
done
for r in "$RECITE" ${OTHER:+"$OTHER"}; do
    [ -f "$(dirname "$r")/librecite.a" ] || { echo "instr: no librecite.a next to $r" >&2; exit 2; }
done
mkdir -p "$BENCH_DIR"
BENCH_DIR=$(realpath "$BENCH_DIR")

CVER=$(sed -n 's/^VERSION = //p' "$ROOT/bench/corpus.py")
CORPUS=$BENCH_DIR/corpus-v$CVER-$BENCH_MB
[ -f "$CORPUS/corpus.json" ] || "$PY" "$ROOT/bench/corpus.py" "$CORPUS" "$BENCH_MB"
# The sets of this script, named apart from bench/run.sh's (which removes older ones of its own).
PMD5=$(md5sum < "$ROOT/bench/plant.py" | cut -c1-8)
NMD5=$(cat "$ROOT/bench/nomatch.py" "$ROOT/bench/plant.py" | md5sum | cut -c1-8)
HEAVY=$CORPUS/instr-heavy-150-$PMD5
UNREL=$CORPUS/instr-unrel-150-$PMD5
NOMATCH=$CORPUS/instr-nomatch-300-$NMD5
[ -f "$HEAVY/truth.json" ] || "$PY" "$ROOT/bench/plant.py" "$CORPUS" "$HEAVY" 150 --filler library
[ -f "$UNREL/truth.json" ] || "$PY" "$ROOT/bench/plant.py" "$CORPUS" "$UNREL" 150 --filler shuffled
[ -f "$NOMATCH/list.txt" ] || "$PY" "$ROOT/bench/nomatch.py" "$CORPUS" "$NOMATCH" 300

R=$BENCH_DIR/instr
rm -rf "$R"
mkdir -p "$R"
echo "== index of the $BENCH_MB MB corpus, built by $RECITE"
(cd "$CORPUS" && "$RECITE" index --quiet --out "$R/idx" lib)
PKGS=$(sed -n '/^PKGS *:=/{:a;/\\$/{N;ba};s/^PKGS *:= *//;s/\\\n */ /g;p}' "$ROOT/Makefile")
n=0
for r in "$RECITE" ${OTHER:+"$OTHER"}; do
    n=$((n + 1))
    # shellcheck disable=SC2046,SC2086
    cc -O2 -g -std=c17 -I"$ROOT/include" -o "$R/bench_check_$n" "$ROOT/bench/bench_check.c" \
        "$(dirname "$r")/librecite.a" $(pkg-config --libs $PKGS) -lpthread -lm
done

echo "== instructions of bench_check (callgrind), warm-up + 1 pass"
for set in heavy:"$HEAVY" unrel:"$UNREL" nomatch:"$NOMATCH"; do
    name=${set%%:*}
    dir=${set#*:}
    for k in $(seq 1 "$n"); do
        valgrind --tool=callgrind --callgrind-out-file=/dev/null "$R/bench_check_$k" "$R/idx" \
            "$dir/list.txt" "$R/matches_${name}_$k.tsv" /dev/null /dev/null 1 \
            > /dev/null 2> "$R/callgrind_${name}_$k.log"
        sed -n 's/.*refs: *//p' "$R/callgrind_${name}_$k.log" | tr -d , > "$R/instr_${name}_$k"
    done
done

"$PY" - "$R" "$n" <<'EOF'
import sys
r, n = sys.argv[1], int(sys.argv[2])
names = {"heavy": "library-heavy (150)", "unrel": "unrelated (150)", "nomatch": "no match (300)"}
head = f"{'':22}{'instructions':>16}" + (f"{'other':>16}{'ratio':>8}{'matches':>10}" if n > 1 else "")
print(head)
for key, label in names.items():
    a = int(open(f"{r}/instr_{key}_1").read())
    line = f"{label:22}{a / 1e6:>14,.1f} M"
    if n > 1:
        b = int(open(f"{r}/instr_{key}_2").read())
        same = open(f"{r}/matches_{key}_1.tsv").read() == open(f"{r}/matches_{key}_2.tsv").read()
        line += f"{b / 1e6:>14,.1f} M{b / a:>8.3f}{'same' if same else 'DIFFER':>10}"
    print(line)
EOF

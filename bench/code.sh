#!/usr/bin/env bash
# bench/code.sh RECITE[:FLAGS[:LABEL]]... — LLM-style code answers (issue 13): recall of copied
# code by transformation (verbatim, re-indented, comments stripped, renamed, renamed with lines
# inserted or deleted, literals changed) and length (20-400 lexemes), and wrong works per
# answer of fresh code, for each recite given and for sim_c (Debian's similarity-tester) in the
# same run. A benchmark, not a test: it fails only when something cannot run.
#
#   RECITE[:FLAGS[:LABEL]]  a recite binary, the flags its `recite index` gets (space-separated,
#                      e.g. "--auto"; none: the default) and a label for the tables. Give
#                      several to compare builds (e.g. main's and this tree's) in one run.
#   BENCH_MB=30        the bench corpus (bench/corpus.py, cached in $BENCH_DIR): its lib/ is the
#                      library (mixed: documentation, man pages, headers, kernel C, Python,
#                      Perl), indexed as it is; its held/ gives fresh code and the answers' prose
#   CODE_N=20          answers per cell (transformation x length; fresh code: twice as many)
#   SIM_RUN=24         sim_c -r (minimum run, in its tokens; its default)
#   BENCH_DIR          work directory (default bench/out)
#
# Steps: corpus (cached) -> answers (bench/code_plant.py plant, cached per its source and N) ->
# per recite: index lib/ (from the corpus directory: ids lib/...) and check --json every
# answer -> sim_c -S on the C/C++ answers against the library's C/C++ files -> tables
# (bench/code_plant.py report).
set -euo pipefail

[ $# -ge 1 ] || { echo "usage: bench/code.sh RECITE[:FLAGS[:LABEL]]..." >&2; exit 2; }
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BENCH_DIR=${BENCH_DIR:-$ROOT/bench/out}
BENCH_MB=${BENCH_MB:-30}
CODE_N=${CODE_N:-20}
SIM_RUN=${SIM_RUN:-24}
PY=/usr/bin/python3
export LC_ALL=C PYTHONDONTWRITEBYTECODE=1

"$ROOT/scripts/deps.sh" bench
for tool in "$PY" sim_c; do
    command -v "$tool" >/dev/null || { echo "code: $tool is missing (scripts/deps.sh bench)" >&2; exit 2; }
done
mkdir -p "$BENCH_DIR"
BENCH_DIR=$(realpath "$BENCH_DIR")
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }

CVER=$(sed -n 's/^VERSION = //p' "$ROOT/bench/corpus.py")
CORPUS=$BENCH_DIR/corpus-v$CVER-$BENCH_MB
[ -f "$CORPUS/corpus.json" ] || "$PY" "$ROOT/bench/corpus.py" "$CORPUS" "$BENCH_MB"
MD5=$(cat "$ROOT/bench/code_plant.py" "$ROOT/bench/near_plant.py" "$ROOT/bench/plant.py" | md5sum | cut -c1-8)
PLANT=$CORPUS/code-$CODE_N-$MD5
echo "== answers in $PLANT"
if [ ! -f "$PLANT/truth.json" ]; then
    rm -rf "$CORPUS"/code-*
    "$PY" "$ROOT/bench/code_plant.py" plant "$CORPUS" "$PLANT" "$CODE_N"
else
    echo "reusing the answers generated earlier"
fi
R=$BENCH_DIR/code-run
rm -rf "$R"
mkdir -p "$R"
mapfile -t answers < "$PLANT/list.txt"

labels=()
for spec in "$@"; do
    IFS=: read -r bin flags label <<< "$spec"
    bin=$(realpath "$bin")
    label=${label:-$(basename "$(dirname "$bin")")${flags:+ $flags}}
    label=${label// /_}
    labels+=("$label")
    echo "== $label: recite index ${flags:-(default)} lib/, then check ${#answers[@]} answers"
    t0=$(now)
    # shellcheck disable=SC2086
    (cd "$CORPUS" && "$bin" index $flags --quiet --out "$R/idx-$label" lib) \
        > "$R/$label.index.log" 2>&1 || [ $? -eq 3 ] ||
        { cat "$R/$label.index.log" >&2; echo "code: recite index failed ($label)" >&2; exit 2; }
    t1=$(now)
    rc=0
    "$bin" check --json --index "$R/idx-$label" "${answers[@]}" > "$R/$label.json" || rc=$?
    [ "$rc" -le 1 ] || { echo "code: recite check failed ($label): exit $rc" >&2; exit 2; }
    t2=$(now)
    echo "index $(elapsed "$t0" "$t1") s, check $(elapsed "$t1" "$t2") s" > "$R/$label.sec"
    cat "$R/$label.sec"
done

echo "== sim_c -r $SIM_RUN -S on the C/C++ answers against the library's C/C++ files"
{ cat "$PLANT/sim_answers.txt"; echo /; cat "$PLANT/sim_lib.txt"; } > "$R/sim_args.txt"
echo "$SIM_RUN" > "$R/sim.run"
t0=$(now)
(cd "$CORPUS" && sim_c -r "$SIM_RUN" -S -n -i < "$R/sim_args.txt" > "$R/sim.out" 2> "$R/sim.err") ||
    { cat "$R/sim.err" >&2; echo "code: sim_c failed" >&2; exit 2; }
elapsed "$t0" "$(now)" > "$R/sim.sec"
echo "sim_c $(cat "$R/sim.sec") s"

"$PY" "$ROOT/bench/code_plant.py" report "$PLANT" "$R" "${labels[@]}" | tee "$R/report.txt"

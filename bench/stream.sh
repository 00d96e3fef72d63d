#!/usr/bin/env bash
# bench/stream.sh RECITE — the cost of streaming verdicts (recite_checker_poll): outputs fed a
# word at a time, with and without a poll after every word, against a batch check of the same
# outputs in the same run; and the same outputs with their words shuffled (text with no
# matches). A benchmark, not a test. Uses the corpus and planted outputs of bench/run.sh
# (generated here when missing).
#   BENCH_MB=300 (the library), STREAM_OUTPUTS=300 (outputs of ~4 KB, library filler),
#   BENCH_PASSES=3, BENCH_DIR (default bench/out)
set -euo pipefail
RECITE=$(realpath "${1:?usage: bench/stream.sh path/to/recite}")
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD_DIR=$(dirname "$RECITE")
BENCH_DIR=${BENCH_DIR:-$ROOT/bench/out}
BENCH_MB=${BENCH_MB:-300}
N=${STREAM_OUTPUTS:-300}
PY=/usr/bin/python3
export LC_ALL=C PYTHONDONTWRITEBYTECODE=1
"$ROOT/scripts/deps.sh" bench
mkdir -p "$BENCH_DIR"
BENCH_DIR=$(realpath "$BENCH_DIR")
CVER=$(sed -n 's/^VERSION = //p' "$ROOT/bench/corpus.py")
CORPUS=$BENCH_DIR/corpus-v$CVER-$BENCH_MB
[ -f "$CORPUS/corpus.json" ] || "$PY" "$ROOT/bench/corpus.py" "$CORPUS" "$BENCH_MB"
PMD5=$(md5sum < "$ROOT/bench/plant.py" | cut -c1-8)
PLANT=$CORPUS/plant-stream-$N-$PMD5
[ -f "$PLANT/truth.json" ] || "$PY" "$ROOT/bench/plant.py" "$CORPUS" "$PLANT" "$N" --filler library
R=$BENCH_DIR/stream
mkdir -p "$R"
if [ ! -f "$R/idx/recite.idx" ] || [ "$R/idx/recite.idx" -ot "$RECITE" ]; then
    echo "== index of the $BENCH_MB MB library"
    (cd "$CORPUS" && "$RECITE" index --quiet --out "$R/idx" lib)
fi
PKGS=$(sed -n '/^PKGS *:=/{:a;/\\$/{N;ba};s/^PKGS *:= *//;s/\\\n */ /g;p}' "$ROOT/Makefile")
# shellcheck disable=SC2046,SC2086
cc -O2 -std=c17 -I"$ROOT/include" -o "$R/bench_stream" "$ROOT/bench/bench_stream.c" \
    "$BUILD_DIR/librecite.a" $(pkg-config --libs $PKGS) -lpthread -lm
echo "== bench_stream: $N outputs, fed a word at a time, ${BENCH_PASSES:-3} passes (best counts)"
"$R/bench_stream" "$R/idx" "$PLANT/list.txt" "${BENCH_PASSES:-3}" | tee "$R/stream.json"

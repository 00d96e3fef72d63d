#!/usr/bin/env bash
# bench/mem.sh RECITE — the memory budget (issue 9, part 4): peak resident memory, time and index
# size of `recite index` and `recite compact` at several --mem budgets, on a library generated
# from text Debian ships (bench/corpus.py, cached), and on one large single-file work. A
# benchmark, not a test: it fails only when something cannot be run.
#
#   MEM_MB=230            size of the library in MB
#   MEM_BUDGETS="64M 256M default"   the --mem values (default: no --mem, i.e. 1 GiB)
#   MEM_JOBS=2            --jobs
#   MEM_BIG_MB=64         one file of this many MB (the library's prose files concatenated):
#                         a single work larger than the small budgets; 0 skips it
#   MEM_DELETE_EVERY=400  before compaction, every n-th work is marked deleted
#   BENCH_DIR             work directory (default bench/out/, gitignored)
#
# Every run is `nice`d and measured with /usr/bin/time (peak RSS = ru_maxrss, which counts the
# pages of mapped files too). The indexes built at every budget are compared byte for byte
# (SOURCE_DATE_EPOCH fixes the creation time): the budget must not change the index.
set -euo pipefail

RECITE=${1:?usage: bench/mem.sh path/to/recite}
RECITE=$(realpath "$RECITE")
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BENCH_DIR=${BENCH_DIR:-$ROOT/bench/out}
MEM_MB=${MEM_MB:-230}
MEM_BUDGETS=${MEM_BUDGETS:-64M 256M default}
MEM_JOBS=${MEM_JOBS:-2}
MEM_BIG_MB=${MEM_BIG_MB:-64}
MEM_DELETE_EVERY=${MEM_DELETE_EVERY:-400}
PY=/usr/bin/python3
export LC_ALL=C PYTHONDONTWRITEBYTECODE=1 SOURCE_DATE_EPOCH=1700000000

for tool in "$PY" /usr/bin/time sha256sum; do
    command -v "$tool" >/dev/null || { echo "bench: $tool is missing" >&2; exit 2; }
done
mkdir -p "$BENCH_DIR"
BENCH_DIR=$(realpath "$BENCH_DIR")

CVER=$(sed -n 's/^VERSION = //p' "$ROOT/bench/corpus.py")
CORPUS=$BENCH_DIR/corpus-v$CVER-$MEM_MB
if [ ! -f "$CORPUS/corpus.json" ]; then
    echo "== corpus ($MEM_MB MB of text Debian ships) in $CORPUS"
    nice "$PY" "$ROOT/bench/corpus.py" "$CORPUS" "$MEM_MB"
fi
R=$BENCH_DIR/mem
rm -rf "$R"
mkdir -p "$R"
cp "$RECITE" "$R/recite" # a private copy: a concurrent `make` cannot swap it
BIN=$R/recite

# The single large work: prose files of the library, concatenated up to MEM_BIG_MB.
if [ "$MEM_BIG_MB" -gt 0 ]; then
    mkdir -p "$R/big"
    "$PY" - "$CORPUS/lib" "$R/big/big.txt" "$MEM_BIG_MB" <<'EOF'
import os, sys
src, dst, mb = sys.argv[1], sys.argv[2], int(sys.argv[3])
want, got = mb << 20, 0
with open(dst, "wb") as out:
    for d in ("doc", "man", "licenses"):
        for root, dirs, files in sorted(os.walk(os.path.join(src, d))):
            dirs.sort()
            for f in sorted(files):
                if got >= want:
                    break
                data = open(os.path.join(root, f), "rb").read()[: want - got]
                out.write(data)
                got += len(data)
EOF
fi

# run NAME -- command...: peak RSS (MB), wall and CPU seconds into $R/NAME.time
run() {
    local name=$1
    shift
    if ! /usr/bin/time -f "%M %e %U %S" -o "$R/$name.time" nice "$@" > "$R/$name.log" 2>&1; then
        cat "$R/$name.log" >&2
        echo "bench: $name failed" >&2
        exit 2
    fi
}
peak_mb() { awk '{ printf "%.1f", $1 / 1024 }' "$R/$1.time"; }
secs() { awk '{ printf "%.2f", $2 }' "$R/$1.time"; }
cpu() { awk '{ printf "%.2f", $3 + $4 }' "$R/$1.time"; }
size_mb() { awk -v b="$(stat -c %s "$1")" 'BEGIN { printf "%.1f", b / 1e6 }'; }
mem_args() { [ "$1" = default ] || echo "--mem $1"; }

ROWS=()
row() { ROWS+=("$(printf '%-8s %-9s %-9s %10s %9s %9s %10s  %s' "$@")"); }
row what input budget "peak MB" seconds "cpu s" "index MB" "sha256 of recite.idx"

# ==== recite index ====
index_at() { # input-name input-path budget
    local name=idx-$1-$3
    # shellcheck disable=SC2046
    run "$name" "$BIN" index --quiet --jobs "$MEM_JOBS" $(mem_args "$3") --out "$R/$name" "$2"
    row index "$1" "$3" "$(peak_mb "$name")" "$(secs "$name")" "$(cpu "$name")" \
        "$(size_mb "$R/$name/recite.idx")" "$(sha256sum < "$R/$name/recite.idx" | cut -c1-16)"
    echo "${ROWS[-1]}"
}
echo "== recite index (jobs $MEM_JOBS) of $CORPUS/lib ($MEM_MB MB)"
echo "${ROWS[0]}"
for m in $MEM_BUDGETS; do index_at lib "$CORPUS/lib" "$m"; done
if [ "$MEM_BIG_MB" -gt 0 ]; then
    for m in $MEM_BUDGETS; do
        index_at big "$R/big/big.txt" "$m"
        rm -rf "$R/idx-big-$m"
    done
fi

# ==== recite compact ====
first=$(echo "$MEM_BUDGETS" | awk '{ print $NF }')
BASE=$R/cbase
cp -r "$R/idx-lib-$first" "$BASE"
"$BIN" catalog list --index "$BASE" --format json > "$R/works.json"
"$PY" -c '
import json, sys
for w in json.load(open(sys.argv[1]))[1::int(sys.argv[2])]:
    print(w["id"])' "$R/works.json" "$MEM_DELETE_EVERY" > "$R/deleted.txt"
while IFS= read -r id; do
    "$BIN" catalog delete --index "$BASE" --work "$id" --why bench > /dev/null
done < "$R/deleted.txt"
for m in $MEM_BUDGETS; do rm -rf "$R/idx-lib-$m"; done
echo "== recite compact (jobs $MEM_JOBS), $(wc -l < "$R/deleted.txt") works deleted"
for m in $MEM_BUDGETS; do
    name=compact-$m
    cp -r "$BASE" "$R/$name"
    # shellcheck disable=SC2046
    run "$name" "$BIN" compact --quiet --jobs "$MEM_JOBS" $(mem_args "$m") --index "$R/$name"
    row compact lib "$m" "$(peak_mb "$name")" "$(secs "$name")" "$(cpu "$name")" \
        "$(size_mb "$R/$name/recite.idx")" "$(sha256sum < "$R/$name/recite.idx" | cut -c1-16)"
    echo "${ROWS[-1]}"
    rm -rf "$R/$name"
done
rm -rf "$BASE"

echo
echo "== summary (peak MB = ru_maxrss of the whole command, catalogue included)"
printf '%s\n' "${ROWS[@]}"
# The budget must not change what is built.
for kind in "index lib" "index big" "compact lib"; do
    n=$(printf '%s\n' "${ROWS[@]:1}" | awk -v k="$kind" '$1 " " $2 == k { print $NF }' | sort -u | wc -l)
    [ "$n" -le 1 ] || echo "bench: $kind: the index differs between budgets" >&2
done

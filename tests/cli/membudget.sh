#!/usr/bin/env bash
# tests/cli/membudget.sh BINARY — the memory budget (docs/MEMORY.md): `recite index --mem` and
# `recite compact --mem` on a library several times larger than the budget peak at most at the
# budget plus the stated allowance (peak RSS of the command: getrusage's ru_maxrss, through
# a small Python wrapper), and build the same bytes as without a budget. The library (about
# 40 MB) is made at run time from text Debian ships (tests/cli/mkmem.py); a 4 MiB single work
# spills its fingerprints and frames. Under a sanitizer build the memory is not comparable:
# the peaks are then reported, not checked (the line says so).
set -u

if [ $# -ne 1 ]; then
    echo "usage: $0 BINARY" >&2
    exit 2
fi
BIN=$(realpath -- "$1" 2>/dev/null)
[ -n "$BIN" ] && [ -x "$BIN" ] || { echo "$0: $1 is not an executable" >&2; exit 2; }
HERE=$(cd -- "$(dirname -- "$0")" && pwd)
PY=/usr/bin/python3
BUDGET_MB=16           # the smallest budget recite accepts
ALLOWANCE_MB=32        # docs/MEMORY.md, README: peak RSS <= budget + this
EXCHANGE_B=24          # docs/MEMORY.md: a sharded build's exchange, bytes per posting
# Large enough that a build without a budget peaks well over budget + allowance (70 MB at 40 MB,
# 48 MB at 24 MB: too close once recite stopped mapping libraries it does not use).
LIB_MB=${RECITE_TEST_MEM_LIB_MB:-40}
export SOURCE_DATE_EPOCH=1700000000 # builds are then byte-identical
export ASAN_OPTIONS="exitcode=86:${ASAN_OPTIONS:-}"
export UBSAN_OPTIONS="exitcode=86:print_stacktrace=1:${UBSAN_OPTIONS:-}"
export PYTHONDONTWRITEBYTECODE=1

T=$(mktemp -d "${TMPDIR:-/tmp}/recite-mem.XXXXXX") || exit 2
trap 'rm -rf -- "$T"' EXIT
trap 'exit 130' INT TERM
cd "$T" || exit 2
cp -- "$BIN" "$T/recite" && BIN=$T/recite || exit 2
export RECITE_CACHE=$T/cache # the license index, built by the first build, reused after
SANITIZED=
if ldd "$BIN" 2>/dev/null | grep -qE 'lib(a|ub|t)san'; then
    SANITIZED=1
fi
"$PY" "$HERE/mkmem.py" "$T/fix" "$LIB_MB" >/dev/null ||
    { echo "membudget.sh: too little text on this machine for a $LIB_MB MB library" >&2; exit 2; }
cat > peak.py <<'EOF'
import resource, subprocess, sys
rc = subprocess.run(sys.argv[2:], stdin=subprocess.DEVNULL).returncode
with open(sys.argv[1], "w") as f:
    f.write("%d\n" % (resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024))
sys.exit(rc)
EOF

NTESTS=0 NFAILED=0 REASONS=() NOTES=()
bad() { REASONS+=("$*"); }
test_case() {
    local name=$1 t0=$SECONDS
    REASONS=() NOTES=()
    "t_$name"
    NTESTS=$((NTESTS + 1))
    if [ "${#REASONS[@]}" -eq 0 ]; then
        echo "ok - $name ($((SECONDS - t0))s; ${NOTES[*]})"
    else
        NFAILED=$((NFAILED + 1))
        local IFS=';'
        echo "FAIL - $name: ${REASONS[*]}"
    fi
}
# run NAME ARGS...: recite ARGS, its peak RSS (MB) in $PEAK; a crash or an exit other than 0
# fails the test.
run() {
    local name=$1
    shift
    "$PY" peak.py "$T/$name.peak" timeout -s KILL 300 "$BIN" "$@" >"$T/$name.out" 2>"$T/$name.err"
    local rc=$?
    PEAK=$(cat "$T/$name.peak" 2>/dev/null || echo 0)
    if [ "$rc" -ne 0 ]; then
        bad "recite $* exited $rc: $(head -c 300 "$T/$name.err" | tr '\n' '|')"
        return 1
    fi
}
# within NAME: $PEAK is at most the budget plus the allowance.
within() {
    NOTES+=("$1 peak $PEAK MB")
    [ -n "$SANITIZED" ] && { NOTES+=("(sanitizer build: peak not checked)"); return; }
    [ "$PEAK" -le $((BUDGET_MB + ALLOWANCE_MB)) ] ||
        bad "$1: peak RSS $PEAK MB, over the budget $BUDGET_MB MB + $ALLOWANCE_MB MB"
}
same() { # FILE1 FILE2 WHAT
    cmp -s -- "$1" "$2" || bad "$3: $1 and $2 differ"
}

# ==== tests ====

t_index_within_budget() {
    run small index --quiet --jobs 2 --mem "${BUDGET_MB}M" --out small fix/lib || return
    within "--mem ${BUDGET_MB}M"
    run whole index --quiet --jobs 2 --out whole fix/lib || return
    NOTES+=("no budget: peak $PEAK MB")
    same small/recite.idx whole/recite.idx "the index built within the budget"
    [ -n "$SANITIZED" ] || [ "$PEAK" -gt $((BUDGET_MB + ALLOWANCE_MB)) ] ||
        bad "the build without a budget peaks at $PEAK MB: the library is too small to test the budget"
}

t_large_work_spills() {
    # One work of 4 MiB: its fingerprints and frames spill (a text-free one, its records); a
    # code work also spills the fingerprints of its words (its view) after its own.
    head -c 32 /dev/urandom > key
    local f
    for f in big.txt big.h; do
        run "b-$f" index --quiet --mem "${BUDGET_MB}M" --out "b-$f" "fix/$f" || return
        within "one 4 MiB work ($f)"
        run "bw-$f" index --quiet --out "bw-$f" "fix/$f" || return
        same "b-$f/recite.idx" "bw-$f/recite.idx" "the index of one large work ($f)"
        run "tf-$f" index --quiet --mem "${BUDGET_MB}M" --text-free --key key --out "tf-$f" \
            "fix/$f" || return
        within "text-free ($f)"
        run "tfw-$f" index --quiet --text-free --key key --out "tfw-$f" "fix/$f" || return
        same "tf-$f/recite.idx" "tfw-$f/recite.idx" "the text-free index of one large work ($f)"
    done
    # The code work was indexed as code, and by its words (prose fingerprints: its view).
    "$BIN" stats --index b-big.h --json > stats.json 2>&1 ||
        bad "recite stats failed: $(head -c 200 stats.json)"
    "$PY" -c 'import json, sys; s = json.load(open(sys.argv[1]))
sys.exit(0 if s["code_fingerprints"] > 0 and s["fingerprints"] > 0 else 1)' stats.json ||
        bad "big.h was not indexed as code with its words: $(head -c 300 stats.json)"
}

t_compact_within_budget() {
    [ -f small/recite.idx ] || { bad "no index to compact (index_within_budget failed)"; return; }
    cp -r small c
    local n=0 id
    # Every 80th work deleted.
    while IFS= read -r id; do
        "$BIN" catalog delete --index c --work "$id" --why test >/dev/null 2>&1 || bad "cannot delete $id"
        n=$((n + 1))
    done < <(find fix/lib -type f | sort | awk 'NR % 80 == 1')
    cp -r c cw
    run compact compact --quiet --jobs 2 --mem "${BUDGET_MB}M" --index c || return
    within "compact ($n works deleted)"
    run compactw compact --quiet --jobs 2 --index cw || return
    same c/recite.idx cw/recite.idx "the index compacted within the budget"
    cmp -s c/recite.idx small/recite.idx && bad "the compaction changed nothing"
}

t_shards_within_budget() {
    # Two shards in one process, each with max(budget / 2, 16 MiB): within their budgets plus
    # the allowance plus the stated cost of the exchange of document frequency (docs/MEMORY.md:
    # at most EXCHANGE_B bytes per posting of the library, the shards' buffers sent and
    # received), and the same bytes as without a budget. --min-tokens 6 makes the postings
    # denser (1.5 M: their sort is what a budget bounds), so that the build without a budget
    # holds clearly more than the two shards' 32 MiB.
    local shards=2 per=$((BUDGET_MB > 32 ? BUDGET_MB / 2 : 16)) opts="--quiet --jobs 2 --min-tokens 6"
    # shellcheck disable=SC2086
    run sh index $opts --shards $shards --mem "${BUDGET_MB}M" --out sh fix/lib || return
    "$BIN" stats --index sh --json > sh-stats.json 2>&1 ||
        { bad "recite stats failed: $(head -c 200 sh-stats.json)"; return; }
    local postings
    postings=$("$PY" -c 'import json, sys; s = json.load(open(sys.argv[1]))
print(s["fingerprints"] + s["code_fingerprints"] + s["shape_fingerprints"])' sh-stats.json) ||
        { bad "no fingerprint counts in the stats"; return; }
    local bound=$((shards * per + ALLOWANCE_MB + (postings * EXCHANGE_B + (1 << 20) - 1) / (1 << 20)))
    NOTES+=("--shards $shards --mem ${BUDGET_MB}M peak $PEAK MB (bound $bound MB: $postings postings)")
    if [ -z "$SANITIZED" ] && [ "$PEAK" -gt "$bound" ]; then
        bad "--shards $shards: peak RSS $PEAK MB, over $((shards * per)) + $ALLOWANCE_MB MB + the exchange"
    fi
    local peak=$PEAK
    # shellcheck disable=SC2086
    run shw index $opts --shards $shards --out shw fix/lib || return
    NOTES+=("no budget: peak $PEAK MB")
    # The bound above holds the exchange's cost whole; that the shards' builders keep to their
    # budgets shows here: without one they hold more, the sort above all (about 38 MB more).
    [ -n "$SANITIZED" ] || [ "$PEAK" -ge $((peak + shards * per / 2)) ] ||
        bad "--shards $shards: $peak MB within the budget, $PEAK MB without: the budget does not bind"
    local f
    for f in recite.idx shard-0000/recite.idx shard-0001/recite.idx; do
        same "sh/$f" "shw/$f" "the sharded index built within the budget ($f)"
    done
}

TESTS=(index_within_budget large_work_spills compact_within_budget shards_within_budget)
START=$SECONDS
for t in "${TESTS[@]}"; do
    test_case "$t"
done
echo "# $((NTESTS - NFAILED)) of $NTESTS memory budget tests passed ($((SECONDS - START))s, $BIN)"
[ "$NFAILED" -eq 0 ]

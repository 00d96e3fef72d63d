# shellcheck shell=bash
# tests/cli/lib.sh — the harness of the CLI tests: running the binary, expectations, fixtures.
# Sourced by tests/cli/run.sh, which runs the tests in its TESTS order (later tests use the
# index and fixtures earlier ones make); the helpers are in tests/cli/lib.sh.

# ==== the harness ====

NTESTS=0
NFAILED=0
REASONS=()
NASSERT=0

bad() { REASONS+=("$*"); }

# test_case NAME FUNCTION: runs one test and prints its outcome (and its time when slow).
test_case() {
    local name=$1 fn=$2 t0=$SECONDS
    REASONS=()
    NASSERT=0
    "$fn"
    if [ "${#REASONS[@]}" -eq 0 ] && [ "$NASSERT" -eq 0 ]; then
        bad "the test made no assertion"
    fi
    NTESTS=$((NTESTS + 1))
    if [ "${#REASONS[@]}" -eq 0 ]; then
        echo "ok - $name"
    else
        NFAILED=$((NFAILED + 1))
        local IFS=';'
        echo "FAIL - $name: ${REASONS[*]}"
    fi
    if [ $((SECONDS - t0)) -ge 5 ]; then echo "# $name took $((SECONDS - t0))s"; fi
}

# check_crash ARGS...: after a run of recite ARGS, a signal, a time-out or a sanitizer report is
# a failure whatever the test expects.
check_crash() {
    if [ "$RC" -ge 128 ] || [ "$RC" -eq 86 ] ||
        grep -qE 'Sanitizer|runtime error:|^==[0-9]+==' "$ERR" 2>/dev/null; then
        bad "CRASH in 'recite $*' (exit $RC): $(grep -m3 -E 'ERROR|runtime error|SUMMARY|killed after' "$ERR" | tr '\n' ' ' | head -c 400)"
    fi
}

# run [--in FILE] [--timeout SECONDS] ARGS...: runs recite; stdout in $OUT, stderr in $ERR,
# status in $RC.
run() {
    local in=/dev/null limit=600
    if [ "${1:-}" = "--in" ]; then
        in=$2
        shift 2
    fi
    if [ "${1:-}" = "--timeout" ]; then
        limit=$2
        shift 2
    fi
    timeout -s KILL "$limit" "$BIN" "$@" <"$in" >"$OUT" 2>"$ERR"
    RC=$?
    [ "$RC" -ne 137 ] || echo "recite was killed after ${limit}s (hung?)" >>"$ERR"
    check_crash "$@"
}

# run_traced ARGS...: run under strace (file opens logged to strace.log).
run_traced() {
    # LeakSanitizer cannot run under ptrace; the untraced runs check for leaks.
    ASAN_OPTIONS="$ASAN_OPTIONS:detect_leaks=0" \
        strace -f -qq -e trace=open,openat,creat -o strace.log "$BIN" "$@" </dev/null >"$OUT" 2>"$ERR"
    RC=$?
    check_crash "$@"
}

snippet() { head -c 300 "$1" | tr '\n' '|'; }

expect_rc() {
    NASSERT=$((NASSERT + 1))
    [ "$RC" -eq "$1" ] || bad "exit $RC, expected $1${2:+ ($2)} [stderr: $(snippet "$ERR")]"
}
expect_err() {
    NASSERT=$((NASSERT + 1))
    grep -qE -- "$1" "$ERR" || bad "stderr lacks /$1/ [stderr: $(snippet "$ERR")]"
}
# expect_grep FILE REGEX: a line of FILE matches.
expect_grep() {
    NASSERT=$((NASSERT + 1))
    grep -qE -- "$2" "$1" || bad "$1 lacks /$2/ [$1: $(snippet "$1")]"
}
expect_out() {
    NASSERT=$((NASSERT + 1))
    grep -qE -- "$1" "$OUT" || bad "stdout lacks /$1/ [stdout: $(snippet "$OUT")]"
}
expect_one_error_line() {
    NASSERT=$((NASSERT + 1))
    local n
    n=$(wc -l <"$ERR")
    if [ "$n" -ne 1 ] || ! grep -qE '^recite: .+' "$ERR"; then
        bad "expected one 'recite: ...' line on stderr, got $n: $(snippet "$ERR")"
    fi
}
# expect DESCRIPTION COMMAND...: the command succeeds.
expect() {
    NASSERT=$((NASSERT + 1))
    local what=$1
    shift
    "$@" >/dev/null 2>&1 || bad "$what"
}
# expect_json FILE EXPR...: every Python expression holds (see check_json.py).
expect_json() {
    NASSERT=$((NASSERT + 1))
    local msg
    msg=$("$PY" "$HERE/check_json.py" "$@" 2>&1) || bad "$(echo "$msg" | head -c 1500 | tr '\n' ' ')"
}
# expect_no_index DIR: neither DIR nor a temporary build directory beside it exists.
expect_no_index() {
    NASSERT=$((NASSERT + 1))
    local d=$1 base parent
    base=$(basename -- "$d")
    parent=$(dirname -- "$d")
    [ ! -e "$d" ] || bad "$d was created"
    if compgen -G "$parent/.$base.tmp-*" >/dev/null; then
        bad "temporary directory left behind: $(echo "$parent"/."$base".tmp-*)"
    fi
}
expect_no_tmp() {
    NASSERT=$((NASSERT + 1))
    local d=$1
    if compgen -G "$(dirname -- "$d")/.$(basename -- "$d").tmp-*" >/dev/null; then
        bad "temporary directory left beside $d"
    fi
}
expect_same_file() {
    NASSERT=$((NASSERT + 1))
    cmp -s -- "$1" "$2" || bad "$3: $1 and $2 differ ($(cmp -- "$1" "$2" 2>&1 | head -1))"
}

# ==== fixtures ====

# plant NAME WORK [mkfix options]: p/NAME.txt holds a span of WORK, p/NAME.json its offsets.
plant() {
    local name=$1 work=$2
    shift 2
    "${MKFIX[@]}" plant "$work" "p/$name.txt" "p/$name.json" "$@" >/dev/null 2>"$T/mkfix.err" ||
        bad "fixture p/$name.txt: $(cat "$T/mkfix.err")"
}
# check_planted NAME WORK_ID KIND SOURCE_FILE: check --json finds the span exactly.
check_planted() {
    local name=$1 work=$2 kind=$3 src=${4:-}
    run check --index idx --json "p/$name.txt"
    cp "$OUT" "p/$name.report"
    expect_rc 1 "a planted span must be found"
    # shellcheck disable=SC2016 # the single quotes are Python's
    expect_json "p/$name.report" 'shape(r)' 'r["verdict"] == "flag"' \
        "planted(r, 'p/$name.json', '$work', '$kind', 'p/$name.txt'${src:+, '$src'})"
}

UNIQ=(--uniq lib --uniq "$T/jsonl-texts")

setup_library() {
    "${MKFIX[@]}" library "$T" || {
        echo "Bail out: cannot make the fixture library" >&2
        exit 1
    }
    mkdir -p jsonl-texts # the JSONL texts as files, so that spans can be checked for uniqueness
    "$PY" -c 'import json,sys
for line in open(sys.argv[1]):
    if line.strip():
        o = json.loads(line); open(sys.argv[2] + "/" + o["id"].replace("/", "_"), "w").write(o["text"])' \
        meta.jsonl jsonl-texts
    "${MKFIX[@]}" own "$T/own" || exit 1
    # p/probe.txt: a span of apache.txt, the input of the corrupt-index tests.
    "${MKFIX[@]}" plant lib/licenses/apache.txt p/probe.txt p/probe.json --ntok 40 || exit 1
}

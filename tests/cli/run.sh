#!/usr/bin/env bash
# tests/cli/run.sh BINARY — black-box tests of the `recite` command (INTERFACE.md).
#
# Every test prints `ok - NAME` or `FAIL - NAME: reasons`; the script prints a count and exits 1
# if anything failed. Fixtures are made at run time in a temporary directory (removed at exit)
# from text Debian ships, by tests/cli/mkfix.py. JSON is checked by tests/cli/check_json.py.
# Any run of BINARY that crashes (signal, sanitizer report) fails the test it belongs to.
#
# Environment: RECITE_TEST_BIG_MB (default 200) sizes the single-line big-file fixture.
set -u

if [ $# -ne 1 ]; then
    echo "usage: $0 BINARY" >&2
    exit 2
fi
BIN=$(realpath -- "$1" 2>/dev/null)
if [ -z "$BIN" ] || [ ! -f "$BIN" ] || [ ! -x "$BIN" ]; then
    echo "$0: $1 is not an executable file" >&2
    exit 2
fi
HERE=$(cd -- "$(dirname -- "$0")" && pwd)
GIVEN_BIN=$BIN
PY=/usr/bin/python3
MKFIX=("$PY" "$HERE/mkfix.py")
BIG_MB=${RECITE_TEST_BIG_MB:-200}

# Sanitizer reports exit 86, so they cannot pass for "1 = recitation found".
export ASAN_OPTIONS="exitcode=86:${ASAN_OPTIONS:-}"
export UBSAN_OPTIONS="exitcode=86:print_stacktrace=1:${UBSAN_OPTIONS:-}"
export LSAN_OPTIONS="exitcode=86:${LSAN_OPTIONS:-}"
unset SOURCE_DATE_EPOCH
export PYTHONDONTWRITEBYTECODE=1

T=$(mktemp -d "${TMPDIR:-/tmp}/recite-cli.XXXXXX") || exit 2
BG_PID=""
cleanup() {
    if [ -n "$BG_PID" ]; then kill -9 "$BG_PID" 2>/dev/null; fi
    rm -rf -- "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
cd "$T" || exit 2
# A private copy, so that a concurrent `make` cannot swap the binary under the tests.
cp -- "$GIVEN_BIN" "$T/recite" && BIN=$T/recite || exit 2
mkdir p # planted check inputs and their expectations

OUT=$T/stdout
ERR=$T/stderr
RC=0

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

# ==== recite (no command) ====

t_version() {
    run --version
    expect_rc 0
    expect_out '^recite [0-9]+\.[0-9]+\.[0-9]+'
}
t_help() {
    run --help
    expect_rc 0
    expect_out 'recite index'
    expect_out 'recite check'
}
t_no_arguments() {
    run
    expect_rc 2
}
t_unknown_command() {
    run frobnicate
    expect_rc 2
    expect_err "^recite: .*frobnicate"
}
t_serve_unavailable() {
    run serve --index idx
    expect_rc 2
    expect_err '^recite: '
}

# ==== index ====

# The main index, used by most check tests: 9 works (8 distinct texts) from lib/ and meta.jsonl.
t_index_library() {
    run index --out idx lib meta.jsonl
    cp "$OUT" index.stdout
    cp "$ERR" index.stderr
    expect_rc 0
    expect_out '^indexed 9 works \(8 distinct texts, [0-9.]+ MB, [0-9]+ tokens\) into idx: '
    expect_out '^1 works were identical to an earlier one and share its entry$'
    expect "idx/recite.idx is missing" test -s idx/recite.idx
    expect_no_tmp idx
}
t_index_skips_hidden() {
    expect_grep index.stderr '^recite: skipped: lib/\.hidden(/bsd\.txt)? \(hidden entry\)$'
    expect_grep index.stderr '^recite: skipped: lib/\.cc0\.txt \(hidden entry\)$'
    plant hidden lib/.hidden/bsd.txt --ntok 30 --at 0.3 "${UNIQ[@]}"
    run check --index idx p/hidden.txt
    expect_rc 0 "a hidden file must not be indexed"
}
t_index_skips_binary_and_empty() {
    expect_grep index.stderr '^recite: skipped: lib/binary\.dat \(.*binary.*\)$'
    expect_grep index.stderr '^recite: skipped: lib/empty\.txt \(.*empty.*\)$'
    run stats --index idx --json
    expect_json "$OUT" 'r["works"] == 9' 'r["clusters"] == 8'
}
t_index_notes_invalid_utf8() {
    expect_grep index.stderr '^recite: [a-z]+: lib/latin1/mpl11\.txt \(.+\)$'
    NASSERT=$((NASSERT + 1))
    ! grep -q 'skipped: lib/latin1' index.stderr || bad "the Latin-1 work was skipped"
}
t_work_id_is_path_as_reached() {
    plant apache lib/licenses/apache.txt --ntok 40 --at 0.5 "${UNIQ[@]}"
    check_planted apache lib/licenses/apache.txt exact lib/licenses/apache.txt
    run index --out idx-slash lib/ meta.jsonl
    expect_rc 0
    run check --index idx-slash --json p/apache.txt
    expect_json "$OUT" 'r["matches"][0]["work"] == "lib/licenses/apache.txt"'
    run index --out idx-file lib/deep/er/artistic.txt
    expect_rc 0
    plant artistic lib/deep/er/artistic.txt --ntok 30 --at 0.4
    run check --index idx-file --json p/artistic.txt
    expect_json "$OUT" '[m["work"] for m in r["matches"]] == ["lib/deep/er/artistic.txt"]'
}
t_dir_walk_sorted_and_also() {
    plant gpl3 lib/gpl/a-gpl3.txt --ntok 40 --at 0.6 "${UNIQ[@]}"
    check_planted gpl3 lib/gpl/a-gpl3.txt exact lib/gpl/a-gpl3.txt
    expect_json p/gpl3.report 'matches_for(r, "lib/gpl/a-gpl3.txt")[0]["also"] == ["lib/gpl/b-gpl3-fork.txt"]' \
        'not matches_for(r, "lib/gpl/b-gpl3-fork.txt")'
}
t_jsonl_work_and_metadata() {
    plant gfdl - --jsonl meta.jsonl --id jsonl/one --ntok 40 --at 0.5 "${UNIQ[@]}"
    check_planted gfdl jsonl/one exact
    expect_json p/gfdl.report 'work_entry(r, "jsonl/one")["title"] == "The GFDL"' \
        'work_entry(r, "jsonl/one")["author"] == "Free Software Foundation"' \
        'work_entry(r, "jsonl/one")["license"] == "GFDL-1.3-only"' \
        'work_entry(r, "jsonl/one")["copyright"].startswith("Copyright (C) 2000, 2001")' \
        'work_entry(r, "jsonl/one")["source"] == "licensed"'
}
t_jsonl_offsets_into_utf8_text() {
    plant lgpl - --jsonl meta.jsonl --id jsonl/two --ntok 40 --at 0.5 "${UNIQ[@]}"
    check_planted lgpl jsonl/two exact
    expect_json p/lgpl.report 'work_entry(r, "jsonl/two")["source"] == "unknown"' \
        'work_entry(r, "jsonl/two")["title"] is None' \
        'work_entry(r, "jsonl/two")["license"] == "LGPL-2.1-only"' \
        'work_entry(r, "jsonl/two")["license_from"] == "text"'
}
t_jsonl_source_outside_contract() {
    # works[].source is one of six values (INTERFACE.md). A JSONL "source" outside them must be
    # refused at index time (exit 2, FILE:LINE) or reported as one of the six (e.g. "unknown").
    "$PY" -c 'import json
print(json.dumps({"id": "odd", "source": "stolen goods",
                  "text": open("lib/licenses/apache.txt", encoding="utf-8").read()}))' >odd-source.jsonl
    run index --out oddsrc odd-source.jsonl
    NASSERT=$((NASSERT + 1))
    if [ "$RC" -eq 2 ]; then
        grep -q 'odd-source\.jsonl:1' "$ERR" || bad "refused without naming the line: $(snippet "$ERR")"
        return
    fi
    [ "$RC" -eq 0 ] || bad "index exit $RC"
    plant oddsrc lib/licenses/apache.txt --ntok 30 --at 0.5
    run check --index oddsrc --json p/oddsrc.txt
    expect_rc 1
    expect_json "$OUT" 'need(work_entry(r, "odd")["source"] in SOURCES, "works[].source is %r" % work_entry(r, "odd")["source"])'
}

# index_fails OUTDIR REGEX ARGS...: index exits 2 with one matching line and leaves nothing.
index_fails() {
    local out=$1 re=$2
    shift 2
    run index --out "$out" "$@"
    expect_rc 2
    expect_one_error_line
    expect_err "$re"
    expect_no_index "$out"
}
t_index_error_missing_path() { index_fails e1 '^recite: no/such/path: cannot access' no/such/path; }
t_index_error_empty_file() { index_fails e2 'lib/empty\.txt: cannot index: file is empty' lib/empty.txt; }
t_index_error_binary_file() { index_fails e3 'lib/binary\.dat: cannot index: .*binary' lib/binary.dat; }
t_index_error_jsonl_invalid() {
    printf '{"id":"a","text":"alpha beta"}\n\n{"id": "b", "text": oops}\n' >bad1.jsonl
    index_fails e4 '^recite: bad1\.jsonl:3: invalid JSON' bad1.jsonl
}
t_index_error_jsonl_missing_id() {
    printf '{"id":"a","text":"alpha beta"}\n{"text":"gamma"}\n' >bad2.jsonl
    index_fails e5 '^recite: bad2\.jsonl:2: missing .*id' bad2.jsonl
}
t_index_error_jsonl_missing_text() {
    printf '\n{"id":"a","title":"no text"}\n' >bad3.jsonl
    index_fails e6 '^recite: bad3\.jsonl:2: missing .*text' bad3.jsonl
}
t_index_error_duplicate_id() {
    printf '{"id":"a","text":"alpha beta"}\n{"id":"a","text":"gamma delta"}\n' >bad4.jsonl
    index_fails e7 'duplicate work id' bad4.jsonl
}
t_index_error_jsonl_mode() {
    printf '%s\n' '{"id":"m","text":"int main(void) { return 0; }","mode":"binary"}' >mode.jsonl
    index_fails e8 '"mode" must be' mode.jsonl
}

# ==== code ====

# A function of Python's standard library, copied with every local renamed and its comments
# and docstring dropped, inside a Markdown fence: found through the shape channel as `near`.
t_code_renamed_function() {
    mkdir -p codelib
    cp /usr/lib/python3*/textwrap.py codelib/textwrap.py
    cp /usr/include/stdio.h codelib/stdio.h
    cp lib/licenses/apache.txt codelib/apache.txt
    run index --auto --out codeidx codelib
    expect_rc 0
    "$PY" - codelib/textwrap.py >p/renamed.md <<'PYEOF'
import re, sys
src = open(sys.argv[1]).read()
a = src.index("    def _wrap_chunks(self, chunks):")
f = src[a:src.index("    def _split_chunks", a)]
f = re.sub(r'"""[\s\S]*?"""', "", f, count=1)
f = re.sub(r"#.*", "", f)
for old, new in [("chunks", "pieces"), ("lines", "out"), ("cur_line", "current"),
                 ("cur_len", "clen"), ("width", "w"), ("indent", "ind")]:
    f = re.sub(r"\b%s\b" % old, new, f)
print("Sure, here is a line wrapper:\n```python\n" + f + "```\nIt wraps lines.")
PYEOF
    run check --index codeidx --json p/renamed.md
    expect_rc 1
    expect_json "$OUT" 'need(any(m["work"] == "codelib/textwrap.py" and m["kind"] == "near" and m["tokens"] >= 300 and 0.5 < m["similarity"] < 1 for m in r["matches"]), "no near match of textwrap.py: %r" % [(m["work"], m["kind"], m["tokens"]) for m in r["matches"]])'
    expect_json "$OUT" 'need(work_entry(r, "codelib/textwrap.py")["mode"] == "code", "mode is not code")'
    run check --index codeidx p/renamed.md
    expect_out 'codelib/textwrap.py:[0-9]+-[0-9]+  [0-9]+ lexemes  near 0\.[0-9]+'
    # The prose work is prose; stats report both kinds of fingerprints.
    run stats --index codeidx --json
    expect_json "$OUT" 'need(r["code_fingerprints"] > 0 and r["shape_fingerprints"] > 0 and r["fingerprints"] > 0 and r["code_min_tokens"] == 65, "stats: %r" % r)'
}
t_index_error_min_tokens_zero() { index_fails e9 'min-tokens' --min-tokens 0 lib; }
t_index_error_unknown_option() { index_fails e10 "unknown option '--foo'" --foo lib; }
t_index_error_missing_out() {
    run index lib
    expect_rc 2
    expect_one_error_line
    expect_err -- '--out'
}
t_index_error_nothing_to_index() {
    mkdir -p onlyskipped/.hid
    echo "hidden words" >onlyskipped/.hid/a.txt
    : >onlyskipped/empty.txt
    printf 'bin\0ary' >onlyskipped/b.bin
    run index --out e11 onlyskipped
    expect_rc 2
    expect_err '^recite: no works to index'
    expect_no_index e11
}
t_index_refuses_foreign_directory() {
    mkdir -p foreign
    echo "keep me" >foreign/notes.txt
    run index --out foreign lib
    expect_rc 2
    expect_one_error_line
    expect_err 'refusing to replace'
    expect "foreign/notes.txt was changed" grep -qx "keep me" foreign/notes.txt
    expect "an index was written into foreign/" test ! -e foreign/recite.idx
    expect_no_tmp foreign
}
t_index_refuses_regular_file_as_out() {
    echo "keep me" >plainfile
    run index --out plainfile lib/licenses
    expect_rc 2
    expect_one_error_line
    expect "plainfile was changed" grep -qx "keep me" plainfile
    expect_no_tmp plainfile
}
t_index_into_empty_directory() {
    mkdir -p emptyout
    run index --out emptyout lib/licenses
    expect_rc 0
    expect "emptyout/recite.idx missing" test -s emptyout/recite.idx
}
t_index_error_keeps_existing() {
    run index --out keep lib/licenses
    expect_rc 0
    cp keep/recite.idx keep.saved
    printf '{"id":"x","text":"alpha"}\n{broken\n' >bad5.jsonl
    run index --out keep lib/deep bad5.jsonl
    expect_rc 2
    expect_same_file keep/recite.idx keep.saved "a failed rebuild changed the index"
    expect_no_tmp keep
}
t_rebuild_replaces() {
    run index --out rebuilt lib/licenses/apache.txt
    expect_rc 0
    run index --out rebuilt lib/licenses/mpl2.txt
    expect_rc 0
    expect_no_tmp rebuilt
    run stats --index rebuilt --json
    expect_json "$OUT" 'r["works"] == 1'
    plant apache2 lib/licenses/apache.txt --ntok 30 --at 0.2
    plant mpl2 lib/licenses/mpl2.txt --ntok 30 --at 0.2
    run check --index rebuilt p/apache2.txt
    expect_rc 0 "the replaced index still finds the old work"
    run check --index rebuilt p/mpl2.txt
    expect_rc 1 "the new index must find the new work"
}
t_index_quiet() {
    run index --quiet --out quiet lib
    expect_rc 0
    NASSERT=$((NASSERT + 1))
    [ ! -s "$OUT" ] || bad "--quiet still prints: $(snippet "$OUT")"
}

t_index_progress_on_terminal() {
    # `script` gives recite a terminal for stderr: a progress line (works, MB, MB/s, ETA) shows;
    # without a terminal (every other test) stderr stays free of it.
    NASSERT=$((NASSERT + 1))
    if ! command -v script >/dev/null; then
        bad "script(1) (bsdutils) is missing: cannot give recite a terminal"
        return
    fi
    script -qec "'$BIN' index --out progress lib" /dev/null >tty.log 2>&1
    expect_grep tty.log 'indexing: [0-9]+/[0-9]+ works, [0-9.]+/[0-9.]+ MB, [0-9.]+ MB/s, ETA'
    run index --out progress2 lib
    expect_rc 0
    NASSERT=$((NASSERT + 1))
    ! grep -q 'indexing:' "$ERR" || bad "progress printed without a terminal"
}

t_index_special_entries() {
    # A FIFO must be skipped, not opened (which would block); a symlink loop must end.
    mkdir -p special/sub
    cp lib/licenses/mpl2.txt special/mpl2.txt
    mkfifo special/fifo
    ln -s .. special/sub/loop
    ln -s /nonexistent/target special/dangling
    run --timeout 60 index --out specialidx special
    expect_rc 0
    expect_err '^recite: skipped: special/fifo '
    run stats --index specialidx --json
    expect_json "$OUT" 'r["works"] >= 1'
}
t_index_mode_options() {
    SOURCE_DATE_EPOCH=1 run index --out mode-default lib/licenses
    expect_rc 0
    SOURCE_DATE_EPOCH=1 run index --prose --out mode-prose lib/licenses
    expect_rc 0
    SOURCE_DATE_EPOCH=1 run index --auto --out mode-auto lib/licenses
    expect_rc 0
    expect_same_file mode-default/recite.idx mode-prose/recite.idx "--prose and the default differ"
    NASSERT=$((NASSERT + 1))
    [ -s mode-auto/recite.idx ] || bad "--auto wrote no index"
}

# ==== reproducible builds ====

make_speclib() {
    [ -d speclib ] && return 0
    "${MKFIX[@]}" speclib speclib 12 || bad "cannot make the 12 MB library"
}
t_reproducible_jobs() {
    make_speclib
    SOURCE_DATE_EPOCH=1 run index --jobs 1 --out r-j1 speclib
    expect_rc 0
    SOURCE_DATE_EPOCH=1 run index --jobs 2 --out r-j2 speclib
    expect_rc 0
    expect_same_file r-j1/recite.idx r-j2/recite.idx "--jobs 1 and --jobs 2 differ"
    run stats --index r-j1 --json
    expect_json "$OUT" 'r["created_unix"] == 1' 'r["text_bytes"] > 5_000_000'
}
t_reproducible_mem() {
    make_speclib
    SOURCE_DATE_EPOCH=1 run index --out r-def speclib
    expect_rc 0
    # Under strace when it is installed, to see that 16M really makes the sort spill runs.
    if command -v strace >/dev/null; then
        SOURCE_DATE_EPOCH=1 run_traced index --mem 16M --out r-m16 speclib
        expect_grep strace.log 'run-[0-9]+\.tmp'
    else
        echo "# strace is not installed: not verifying that --mem 16M spills runs"
        SOURCE_DATE_EPOCH=1 run index --mem 16M --out r-m16 speclib
    fi
    expect_rc 0
    expect_same_file r-def/recite.idx r-m16/recite.idx "--mem 16M (spilled runs) and the default differ"
    expect_no_tmp r-m16
    local headers=(speclib/*)
    plant hdr "${headers[199]}" --ntok 20 --at 0.5
    run check --index r-m16 p/hdr.txt
    expect_rc 1 "the spilled index must find a header span"
}

# ==== big inputs and interrupted builds ====

make_big() {
    [ -s big/big.txt ] && return 0
    mkdir -p big
    echo "# big-file fixture: $BIG_MB MB (RECITE_TEST_BIG_MB)"
    "${MKFIX[@]}" big big/big.txt "$BIG_MB" p/big.txt p/big.json || bad "cannot make the big file"
}
t_big_single_line_file() {
    make_big
    NASSERT=$((NASSERT + 1))
    [ "$(wc -l <big/big.txt)" -eq 0 ] || bad "big.txt is not a single line"
    run index --out bigidx big/big.txt
    expect_rc 0
    run check --index bigidx --json p/big.txt
    expect_rc 1
    expect_json "$OUT" 'shape(r)' "planted(r, 'p/big.json', 'big/big.txt', 'exact', 'p/big.txt', 'big/big.txt')"
}
t_interrupted_rebuild_keeps_index() {
    make_big
    run index --out kept lib/licenses
    expect_rc 0
    cp kept/recite.idx kept.saved
    plant kept lib/licenses/mpl2.txt --ntok 30 --at 0.7
    run check --index kept p/kept.txt
    cp "$OUT" kept.before
    "$BIN" index --out kept big/big.txt >/dev/null 2>kill.err &
    BG_PID=$!
    local i tmp=""
    for ((i = 0; i < 600; i++)); do # up to 60 s for the build to create its temporary directory
        tmp=$(compgen -G ".kept.tmp-*" | head -1)
        [ -n "$tmp" ] && break
        sleep 0.1
    done
    sleep 1 # well inside a build of the big file (8 s optimized, 30 s with sanitizers)
    NASSERT=$((NASSERT + 1))
    if kill -9 "$BG_PID" 2>/dev/null; then
        wait "$BG_PID" 2>/dev/null
        RC=$?
        [ "$RC" -eq 137 ] || bad "the rebuild was not killed (exit $RC)"
    else
        wait "$BG_PID"
        bad "the rebuild ended (exit $?) before it could be killed; raise RECITE_TEST_BIG_MB"
    fi
    BG_PID=""
    [ -n "$tmp" ] || bad "the rebuild never created its temporary directory .kept.tmp-*"
    expect_same_file kept/recite.idx kept.saved "the killed rebuild changed the published index"
    run stats --index kept
    expect_rc 0
    run check --index kept p/kept.txt
    expect_rc 1
    expect_same_file "$OUT" kept.before "check output after the killed rebuild"
    run index --out kept lib/deep
    expect_rc 0 "a rebuild after a killed one"
}

# ==== check: exact and normalized spans ====

t_check_exact_json() {
    plant exact lib/licenses/apache.txt --ntok 40 --at 0.35 "${UNIQ[@]}"
    check_planted exact lib/licenses/apache.txt exact lib/licenses/apache.txt
    expect_json p/exact.report 'r["input"] == "p/exact.txt"' 'r["tokens"] == 40 + 60' \
        'r["truncated"] is False' 'matches_for(r, "lib/licenses/apache.txt")[0]["common"] is False'
}
t_check_text_report() {
    plant text lib/licenses/mpl2.txt --ntok 40 --at 0.4 "${UNIQ[@]}"
    run check --index idx p/text.txt
    expect_rc 1
    local os oe ss se
    read -r os oe ss se < <("$PY" -c 'import json,sys; m=json.load(open(sys.argv[1])); print(m["out_start"], m["out_end"], m["src_start"], m["src_end"])' p/text.json)
    expect_out "^p/text\.txt:$os-$oe  lib/licenses/mpl2\.txt:$ss-$se  40 tokens  exact  \".+\"$"
    expect_out '^p/text\.txt: lib/licenses/mpl2\.txt  '
    expect_out '^p/text\.txt: flag  '
}
t_check_pass() {
    printf 'Nothing here resembles any indexed work at all, zqxv plorb wendigo.\n' >p/pass.txt
    run check --index idx p/pass.txt
    expect_rc 0
    expect_out '^p/pass\.txt: pass  no recitation found; '
    run check --index idx --json p/pass.txt
    expect_rc 0
    expect_json "$OUT" 'shape(r)' 'r["verdict"] == "pass"' 'r["matches"] == [] and r["works"] == []' \
        'r["tokens"] == 11'
}
t_norm_case() {
    plant upper lib/licenses/apache.txt --ntok 40 --at 0.6 --transform upper "${UNIQ[@]}"
    check_planted upper lib/licenses/apache.txt normalized lib/licenses/apache.txt
}
t_norm_curly_quotes() {
    plant curly lib/gpl/a-gpl3.txt --ntok 30 --at 0.1 --transform curly "${UNIQ[@]}"
    check_planted curly lib/gpl/a-gpl3.txt normalized lib/gpl/a-gpl3.txt
}
t_norm_em_dash() {
    plant emdash lib/dashes/gpl2-dashed.txt --ntok 30 --at 0.5 --transform emdash "${UNIQ[@]}"
    check_planted emdash lib/dashes/gpl2-dashed.txt normalized lib/dashes/gpl2-dashed.txt
}
t_norm_reflow() {
    plant reflow lib/licenses/mpl2.txt --ntok 40 --at 0.7 --transform reflow "${UNIQ[@]}"
    check_planted reflow lib/licenses/mpl2.txt normalized lib/licenses/mpl2.txt
}
t_norm_hyphenation() {
    plant hyphen lib/licenses/apache.txt --ntok 30 --at 0.8 --transform hyphen "${UNIQ[@]}"
    check_planted hyphen lib/licenses/apache.txt normalized lib/licenses/apache.txt
}
t_norm_line_numbers() {
    plant lineno lib/deep/er/artistic.txt --ntok 40 --at 0.5 --transform lineno "${UNIQ[@]}"
    check_planted lineno lib/deep/er/artistic.txt normalized lib/deep/er/artistic.txt
}
t_norm_latin1_work() {
    plant latin1 lib/latin1/mpl11.txt --encoding latin-1 --ntok 30 --at 0 --need $'\u00e9' "${UNIQ[@]}"
    check_planted latin1 lib/latin1/mpl11.txt normalized lib/latin1/mpl11.txt
}
t_norm_crlf() {
    plant crlf lib/licenses/mpl2.txt --ntok 40 --at 0.25 --transform crlf "${UNIQ[@]}"
    check_planted crlf lib/licenses/mpl2.txt normalized lib/licenses/mpl2.txt
}
t_norm_unicode_nfd() {
    # Decomposed accents (e + U+0301) against the precomposed letters of the work.
    plant nfd lib/latin1/mpl11.txt --encoding latin-1 --ntok 30 --at 0 --transform nfd "${UNIQ[@]}"
    check_planted nfd lib/latin1/mpl11.txt normalized lib/latin1/mpl11.txt
}
t_norm_ligature() {
    plant lig lib/licenses/apache.txt --ntok 40 --at 0.15 --transform ligature "${UNIQ[@]}"
    check_planted lig lib/licenses/apache.txt normalized lib/licenses/apache.txt
}
t_norm_curly_apostrophe() {
    plant apos lib/gpl/a-gpl3.txt --ntok 30 --at 0.3 --transform apostrophe "${UNIQ[@]}"
    check_planted apos lib/gpl/a-gpl3.txt normalized lib/gpl/a-gpl3.txt
}
t_near_commas_removed() {
    plant nocomma lib/licenses/apache.txt --ntok 40 --at 0.45 --transform nocomma "${UNIQ[@]}"
    check_planted nocomma lib/licenses/apache.txt near lib/licenses/apache.txt
}

t_check_span_is_whole_input() {
    # No filler: the span starts at byte 0 and its last word ends the input (no newline).
    plant bare lib/licenses/mpl2.txt --ntok 30 --at 0.85 --bare 1 "${UNIQ[@]}"
    check_planted bare lib/licenses/mpl2.txt exact lib/licenses/mpl2.txt
}
t_check_two_works_in_one_input() {
    plant two-a lib/deep/er/artistic.txt --ntok 30 --at 0.2 "${UNIQ[@]}"
    plant two-b lib/licenses/apache.txt --ntok 30 --at 0.9 "${UNIQ[@]}"
    "${MKFIX[@]}" join p/two p/two-a p/two-b || bad "cannot join fixtures"
    run check --index idx --json p/two.txt
    expect_rc 1
    expect_json "$OUT" 'shape(r)' \
        "planted(r, 'p/two.a.json', 'lib/deep/er/artistic.txt', 'exact', 'p/two.txt', 'lib/deep/er/artistic.txt')" \
        "planted(r, 'p/two.b.json', 'lib/licenses/apache.txt', 'exact', 'p/two.txt', 'lib/licenses/apache.txt')" \
        'len(r["works"]) == 2' \
        '[m["output"]["start"] for m in r["matches"]] == sorted(m["output"]["start"] for m in r["matches"])'
}

t_json_non_utf8_names() {
    # A work file and an input whose names are Latin-1 bytes, not UTF-8: the JSON report must
    # still be produced (exit 1, valid JSON), however the names are represented.
    local work input
    work=$(printf 'names/caf\xe9.txt')
    input=$(printf 'p/input-\xff.txt')
    mkdir -p names
    cp lib/licenses/mpl2.txt "$work"
    run index --out namesidx names
    expect_rc 0
    plant names lib/licenses/mpl2.txt --ntok 30 --at 0.5 "${UNIQ[@]}"
    run check --index namesidx --json p/names.txt
    expect_rc 1 "a work id that is not UTF-8"
    expect_json "$OUT" 'shape(r)' 'len(r["matches"]) == 1' 'r["matches"][0]["work"].startswith("names/caf")'
    cp p/names.txt "$input"
    run check --index idx --json "$input"
    expect_rc 1 "an input name that is not UTF-8"
    expect_json "$OUT" 'shape(r)' 'r["input"].startswith("p/input-")'
}

# ==== check: coverage, thresholds ====

t_coverage_portion() {
    plant cov lib/licenses/apache.txt --ntok 60 --at 0.5 "${UNIQ[@]}"
    run check --index idx --json p/cov.txt
    expect_rc 1
    expect_json "$OUT" 'work_entry(r, "lib/licenses/apache.txt")["longest_tokens"] == 60' \
        'abs(work_entry(r, "lib/licenses/apache.txt")["coverage"] - 60 / count_words("lib/licenses/apache.txt")) < 0.05 * 60 / count_words("lib/licenses/apache.txt")' \
        'work_entry(r, "lib/licenses/apache.txt").get("extent") == "portion"'
}
t_coverage_whole_work() {
    cp lib/licenses/apache.txt p/whole.txt
    run check --index idx --json p/whole.txt
    expect_rc 1
    expect_json "$OUT" 'shape(r)' 'work_entry(r, "lib/licenses/apache.txt")["coverage"] >= 0.9' \
        'work_entry(r, "lib/licenses/apache.txt").get("extent") == "whole"' \
        'all(m["kind"] == "exact" for m in matches_for(r, "lib/licenses/apache.txt"))'
}
t_threshold_12_found_11_not() {
    run index --out ownidx own/own.txt
    expect_rc 0
    plant own12 own/own.txt --ntok 12 --at 0.5
    plant own11 own/own.txt --ntok 11 --at 0.3
    run check --index ownidx --json p/own12.txt
    expect_rc 1 "a 12-token span must be found"
    expect_json "$OUT" "planted(r, 'p/own12.json', 'own/own.txt', 'exact', 'p/own12.txt', 'own/own.txt')"
    run check --index ownidx --json p/own11.txt
    expect_rc 0 "an 11-token span is below the guarantee"
}
t_index_min_tokens_20() {
    run index --min-tokens 20 --out own20 own/own.txt
    expect_rc 0
    run stats --index own20 --json
    expect_json "$OUT" 'r["min_tokens"] == 20'
    plant own22 own/own.txt --ntok 22 --at 0.6
    run check --index own20 --min-tokens 12 p/own22.txt
    expect_rc 2
    expect_one_error_line
    expect_err "below this index's guarantee"
    run check --index own20 p/own22.txt
    expect_rc 1 "a 22-token span is above the index's guarantee of 20"
    run check --index own20 --min-tokens 25 p/own22.txt
    expect_rc 0 "--min-tokens 25 must not report a 22-token span"
}

# ==== check: inputs ====

t_check_empty_input() {
    : >p/empty.txt
    run check --index idx --json p/empty.txt
    expect_rc 0
    expect_json "$OUT" 'shape(r)' 'r["tokens"] == 0' 'r["verdict"] == "pass"'
    run --in p/empty.txt check --index idx
    expect_rc 0
}
t_check_stdin() {
    plant stdin lib/licenses/mpl2.txt --ntok 30 --at 0.3 "${UNIQ[@]}"
    run --in p/stdin.txt check --index idx --json
    expect_rc 1
    expect_json "$OUT" 'r["input"] == "-"' "planted(r, 'p/stdin.json', 'lib/licenses/mpl2.txt', 'exact', 'p/stdin.txt')"
    run --in p/stdin.txt check --index idx --json -
    expect_rc 1
    expect_json "$OUT" "planted(r, 'p/stdin.json', 'lib/licenses/mpl2.txt', 'exact', 'p/stdin.txt')"
}
t_check_several_inputs() {
    plant multi lib/licenses/mpl2.txt --ntok 30 --at 0.5 "${UNIQ[@]}"
    printf 'plain words of no consequence\n' >p/multi-pass.txt
    run check --index idx --json p/multi-pass.txt p/multi.txt
    expect_rc 1
    expect_json "$OUT" 'isinstance(r, list) and len(r) == 2' \
        '[x["input"] for x in r] == ["p/multi-pass.txt", "p/multi.txt"]' \
        '[x["verdict"] for x in r] == ["pass", "flag"]' 'all(shape(x) for x in r)'
    run check --index idx --json p/multi-pass.txt p/multi-pass.txt
    expect_rc 0
    expect_json "$OUT" 'isinstance(r, list) and len(r) == 2'
}
t_check_invalid_utf8_input() {
    plant junk lib/licenses/mpl2.txt --ntok 30 --at 0.6 --junk 1 "${UNIQ[@]}"
    run check --index idx p/junk.txt
    expect_rc 1
    run check --index idx --json p/junk.txt
    expect_rc 1
    expect_json "$OUT" "planted(r, 'p/junk.json', 'lib/licenses/mpl2.txt', 'exact', 'p/junk.txt')"
    head -c 3000 /dev/urandom | tr -d '\000' >p/noise.txt
    run check --index idx p/noise.txt
    NASSERT=$((NASSERT + 1))
    [ "$RC" -le 1 ] || bad "random bytes: exit $RC"
}

# ==== check: errors ====

check_fails() {
    local re=$1
    shift
    run check "$@"
    expect_rc 2
    expect_one_error_line
    expect_err "$re"
}
t_check_error_missing_input() { check_fails 'no-such-file' --index idx p/no-such-file.txt; }
t_check_error_binary_input() {
    printf 'text\0more' >p/nul.txt
    check_fails 'p/nul\.txt' --index idx p/nul.txt
}
t_check_error_directory_input() { check_fails '^recite: lib' --index idx lib; }
t_check_error_index_is_a_file() { check_fails '^recite: ' --index idx/recite.idx p/pass.txt; }
t_check_error_missing_index() { check_fails '^recite: ' --index no-such-index p/pass.txt; }
t_check_error_missing_index_option() { check_fails '--index' p/pass.txt; }
t_check_error_below_guarantee() { check_fails "below this index's guarantee" --index idx --min-tokens 11 p/pass.txt; }

# ==== check --policy (docs/POLICY.md) ====

# policy_input: p/pol.txt holds 40 tokens of jsonl/one (GFDL-1.3-only, source "licensed").
policy_input() {
    [ -s p/pol.txt ] || plant pol - --jsonl meta.jsonl --id jsonl/one --ntok 40 --at 0.3 "${UNIQ[@]}"
}
t_policy_blocks() {
    policy_input
    cat >pol-block.json <<'JSON'
{"version": 1, "default": "allow",
 "rules": [
   {"common": true, "action": "allow"},
   {"source": "licensed", "min_tokens": 12, "action": "block"}]}
JSON
    run check --index idx --json --policy pol-block.json p/pol.txt
    expect_rc 1 "a recitation was found"
    expect_json "$OUT" 'shape(r)' 'r["verdict"] == "block"' 'r["policy"] == "pol-block.json"' \
        'work_entry(r, "jsonl/one")["action"] == "block"' 'work_entry(r, "jsonl/one")["rule"] == 2'
    run check --index idx --policy pol-block.json p/pol.txt
    expect_rc 1
    expect_out '^p/pol\.txt: jsonl/one  .*; block by rule 2 \(source licensed, min_tokens 12\)$'
    expect_out '^p/pol\.txt: block  1 match in 1 work; [0-9]+ tokens checked; policy pol-block\.json$'
}
t_policy_allows() {
    policy_input
    printf '%s\n' '{"version": 1, "rules": [{"license": "copyleft", "action": "allow"}]}' >pol-allow.json
    run check --index idx --json --policy pol-allow.json p/pol.txt
    expect_rc 1 "a recitation was found, even if allowed"
    expect_json "$OUT" 'shape(r)' 'r["verdict"] == "pass"' \
        'work_entry(r, "jsonl/one")["action"] == "allow"' 'work_entry(r, "jsonl/one")["rule"] == 1'
    run check --index idx --policy pol-allow.json p/pol.txt
    expect_out '^p/pol\.txt: pass  1 match in 1 work; '
}
t_policy_cite_by_family_and_default() {
    policy_input
    plant polmpl lib/licenses/mpl2.txt --ntok 30 --at 0.5 "${UNIQ[@]}"
    # jsonl/one is GFDL-1.3-only: "GFDL-1.3-or-later" is the same license family.
    printf '%s\n' '{"version": 1, "default": "cite", "rules": [{"license": "GFDL-1.3-or-later", "source": "licensed", "action": "cite"}, {"source": "unknown", "action": "flag"}]}' >pol-cite.json
    run check --index idx --json --policy pol-cite.json p/pol.txt p/polmpl.txt
    expect_rc 1
    expect_json "$OUT" '[x["verdict"] for x in r] == ["cite", "flag"]' \
        'work_entry(r[0], "jsonl/one")["action"] == "cite"' \
        'work_entry(r[1], "lib/licenses/mpl2.txt")["action"] == "flag"' \
        'work_entry(r[1], "lib/licenses/mpl2.txt")["rule"] == 2'
    # Without --policy: the default policy (common language passes, anything else is flagged).
    run check --index idx --json p/pol.txt
    expect_json "$OUT" 'r["verdict"] == "flag"' 'r["policy"] == "default"' \
        'work_entry(r, "jsonl/one")["action"] == "flag"' '"rule" not in work_entry(r, "jsonl/one")'
}
t_policy_example_file() {
    policy_input
    run check --index idx --json --policy "$HERE/../../examples/policy.json" p/pol.txt
    expect_rc 1
    expect_json "$OUT" 'shape(r)' 'work_entry(r, "jsonl/one")["action"] in ("allow", "cite", "flag", "block")'
}
# policy_fails REGEX POLICY_FILE: check exits 2 with one matching line and prints nothing.
policy_fails() {
    policy_input
    check_fails "$1" --index idx --json --policy "$2" p/pol.txt
    NASSERT=$((NASSERT + 1))
    [ ! -s "$OUT" ] || bad "stdout is not empty: $(snippet "$OUT")"
}
t_policy_error_malformed() {
    printf '{"version": 1,\n "rules": [\n  {"action": "allow"},\n]}\n' >pol-syntax.json
    policy_fails '^recite: pol-syntax\.json:4:1: invalid JSON: ' pol-syntax.json
    printf '{"version": 1,\n "rules": [\n  {"action": "allow",\n   "sorce": "scanned"}]}\n' >pol-key.json
    policy_fails '^recite: pol-key\.json:4:4: rule 1: unknown key "sorce"' pol-key.json
    printf '{"version": 1,\n "rules": [{"source": "stolen", "action": "deny"}]}\n' >pol-value.json
    policy_fails '^recite: pol-value\.json:2:[0-9]+: rule 1: ' pol-value.json
    printf '{"version": 1, "rules": [{"min_tokens": "12", "action": "block"}]}' >pol-type.json
    policy_fails '^recite: pol-type\.json:1:41: rule 1: "min_tokens" must be a whole number' pol-type.json
    printf '{"version": 1\0}' >pol-nul.json
    policy_fails '^recite: pol-nul\.json:1:14: binary data' pol-nul.json
}
t_policy_error_conflict() {
    cat >pol-conflict.json <<'JSON'
{"version": 1,
 "rules": [
   {"source": "shadow-library", "action": "block"},
   {"license": "permissive", "action": "allow"},
   {"source": "shadow-library", "min_tokens": 40, "action": "flag"}]}
JSON
    policy_fails '^recite: pol-conflict\.json:5:4: rule 3 can never apply: rule 1 \(line 3\) matches everything it matches with another action$' pol-conflict.json
    printf '{"version": 1, "rules": [\n {"cmi": "absent", "action": "cite"},\n {"cmi": "absent", "action": "cite"}]}' >pol-dup.json
    policy_fails '^recite: pol-dup\.json:3:2: rule 2 duplicates rule 1 \(line 2\)$' pol-dup.json
}
t_policy_error_unknown_license() {
    printf '{"version": 1, "rules": [\n {"license": ["MIT",\n   "GPL-9.0-only"], "action": "cite"}]}' >pol-lic.json
    policy_fails "^recite: pol-lic\.json:3:4: rule 1: unknown license id 'GPL-9\.0-only'" pol-lic.json
}
t_policy_error_files() {
    policy_fails '^recite: no-such-policy\.json: cannot open the policy file: No such file' no-such-policy.json
    mkdir -p pol-dir
    policy_fails '^recite: pol-dir: cannot read the policy file: Is a directory' pol-dir
    head -c 1100000 /dev/zero | tr '\0' ' ' >pol-huge.json
    policy_fails '^recite: pol-huge\.json: a policy file is at most 1 MiB' pol-huge.json
    : >pol-empty.json
    policy_fails '^recite: pol-empty\.json:1:1: invalid JSON' pol-empty.json
}

# ==== stats ====

t_stats_text() {
    run stats --index idx
    expect_rc 0
    expect_out '^works +9 in 8 clusters'
}
t_stats_json() {
    run stats --index idx --json
    expect_rc 0
    local size
    size=$(stat -c %s idx/recite.idx)
    expect_json "$OUT" 'r["works"] == 9 and r["clusters"] == 8' 'r["tokens"] > 20000' \
        'r["text_bytes"] > 150000' 'r["fingerprints"] > 0' 'r["min_tokens"] == 12' \
        'r["kgram"] + r["window"] - 1 == r["min_tokens"]' "r['bytes']['total'] == $size" \
        'all(isinstance(r["bytes"][k], int) and r["bytes"][k] > 0 for k in ("postings", "text", "works", "checkpoints"))' \
        'sum(r["bytes"][k] for k in ("postings", "text", "works", "checkpoints")) <= r["bytes"]["total"]'
}
t_stats_errors() {
    run stats --index no-such-index
    expect_rc 2
    expect_one_error_line
    run stats
    expect_rc 2
}

# ==== corrupt indexes ====

# corrupt_copy NAME: a fresh copy of the main index in NAME/.
corrupt_copy() {
    rm -rf "$1"
    mkdir "$1"
    cp idx/recite.idx "$1/recite.idx"
    [ ! -d idx/licenses ] || cp -r idx/licenses "$1/licenses" # the same CMI verdicts
}
# flip FILE OFFSET: inverts the bits of one byte.
flip() {
    "$PY" -c 'import sys
f = open(sys.argv[1], "r+b"); o = int(sys.argv[2]); f.seek(o); b = f.read(1); f.seek(o); f.write(bytes([b[0] ^ 0xff]))' "$1" "$2"
}
# expect_index_rejected DIR REGEX: stats and check both fail with exit 2 and a matching message.
expect_index_rejected() {
    run stats --index "$1"
    expect_rc 2 "stats on $1"
    expect_one_error_line
    expect_err "$2"
    run check --index "$1" p/probe.txt
    expect_rc 2 "check on $1"
    expect_err "$2"
}
t_corrupt_flipped_byte() {
    corrupt_copy cflip
    flip cflip/recite.idx $(($(stat -c %s cflip/recite.idx) / 2))
    expect_index_rejected cflip 'corrupt index'
}
t_corrupt_flip_anywhere_never_crashes() {
    local size i off
    size=$(stat -c %s idx/recite.idx)
    run check --index idx --json p/probe.txt
    cp "$OUT" intact.json
    for ((i = 0; i < 24; i++)); do
        off=$((16 + (size - 17) * i / 23))
        corrupt_copy csweep
        flip csweep/recite.idx "$off"
        run check --index csweep --json p/probe.txt
        NASSERT=$((NASSERT + 1))
        if [ "$RC" -ne 2 ] && ! cmp -s "$OUT" intact.json; then
            bad "byte $off flipped: exit $RC with a different report (undetected corruption)"
        fi
    done
}
t_corrupt_truncated() {
    local size n
    size=$(stat -c %s idx/recite.idx)
    for n in $((size - 1)) $((size / 2)) 100 16 1; do
        corrupt_copy ctrunc
        truncate -s "$n" ctrunc/recite.idx
        expect_index_rejected ctrunc 'truncated|corrupt'
    done
}
t_corrupt_format_version() {
    corrupt_copy cver
    printf '\xe7\x03\x00\x00' | dd of=cver/recite.idx bs=1 seek=8 conv=notrunc status=none
    expect_index_rejected cver 'format version'
}
t_corrupt_no_index_file() {
    rm -rf cnone
    mkdir cnone
    expect_index_rejected cnone '^recite: '
}
t_corrupt_empty_index_file() {
    rm -rf cempty
    mkdir cempty
    : >cempty/recite.idx
    expect_index_rejected cempty '^recite: '
}

# ==== CMI (INTERFACE.md: works[].cmi is present | absent | altered | none) ====

t_cmi_values() {
    plant cmi lib/licenses/apache.txt --ntok 40 --at 0.3 "${UNIQ[@]}"
    run check --index idx --json p/cmi.txt
    expect_json "$OUT" 'cmi_valid(r)'
}
t_cmi_absent_and_present() {
    # jsonl/one carries a copyright notice in its metadata; p/gfdl.txt does not reproduce it.
    plant gfdl - --jsonl meta.jsonl --id jsonl/one --ntok 40 --at 0.5 "${UNIQ[@]}"
    run check --index idx --json p/gfdl.txt
    expect_json "$OUT" 'need(work_entry(r, "jsonl/one")["cmi"] == "absent", "cmi is %r without the notice" % work_entry(r, "jsonl/one")["cmi"])'
    {
        echo "Copyright (C) 2000, 2001, 2002, 2007, 2008 Free Software Foundation, Inc."
        cat p/gfdl.txt
    } >p/gfdl-cmi.txt
    run check --index idx --json p/gfdl-cmi.txt
    expect_json "$OUT" 'need(work_entry(r, "jsonl/one")["cmi"] == "present", "cmi is %r with the notice" % work_entry(r, "jsonl/one")["cmi"])'
}

# ==== license: the license and notices of files, as index identifies them (issue 5) ====

t_license_text() {
    run license /usr/share/common-licenses/Apache-2.0 /usr/include/stdio.h
    expect_rc 0
    expect_out '^/usr/share/common-licenses/Apache-2\.0: Apache-2\.0 \(score 1\.00, from text\)$'
    expect_out '^/usr/include/stdio\.h: LGPL-2\.1-or-later \(score 0\.[0-9]+, from header\)  Copyright \(C\) [0-9-]+ Free Software Foundation, Inc\.$'
    printf 'Nothing here resembles a license at all, zqxv plorb wendigo.\n' >p/nolicense.txt
    run license p/nolicense.txt
    expect_rc 0
    expect_out '^p/nolicense\.txt: unknown$'
}
t_license_json() {
    printf '// SPDX-License-Identifier: MIT OR Apache-2.0\n// Copyright 2020 Jane Q. Sample\nint x;\n' >p/tagged.c
    run license --json p/tagged.c
    expect_rc 0
    expect_json "$OUT" 'set(r) == {"file", "license", "score", "from", "full_text", "copyright", "spdx_tag"}' \
        'r["file"] == "p/tagged.c" and r["license"] == "MIT OR Apache-2.0" and r["from"] == "spdx"' \
        'r["spdx_tag"] == "MIT OR Apache-2.0" and r["score"] == 1 and r["full_text"] is False' \
        'r["copyright"] == ["Copyright 2020 Jane Q. Sample"]'
    run license --json /usr/share/common-licenses/GPL-2 p/nolicense.txt
    expect_rc 0
    expect_json "$OUT" 'isinstance(r, list) and len(r) == 2' \
        'r[0]["license"] == "GPL-2.0-only" and r[0]["from"] == "text" and r[0]["full_text"] is True' \
        '0.9 < r[0]["score"] <= 1 and r[0]["spdx_tag"] is None' \
        'r[1] == {"file": "p/nolicense.txt", "license": None, "score": None, "from": None, "full_text": False, "copyright": [], "spdx_tag": None}'
}
t_license_mode() {
    # A notice in a leading comment of code; as prose the whole text is read.
    printf '/* Licensed under the Apache License, Version 2.0 (the "License"). */\nint y;\n' >p/mode.c
    run license --mode code p/mode.c
    expect_rc 0
    expect_out '^p/mode\.c: Apache-2\.0 '
    run license --mode prose p/mode.c
    expect_rc 0
    expect_out '^p/mode\.c: Apache-2\.0 '
    run license --mode poetry p/mode.c
    expect_rc 2
    expect_one_error_line
}
license_fails() {
    local re=$1
    shift
    run license "$@"
    expect_rc 2
    expect_one_error_line
    expect_err "$re"
    NASSERT=$((NASSERT + 1))
    [ ! -s "$OUT" ] || bad "stdout is not empty: $(snippet "$OUT")"
}
t_license_errors() {
    license_fails 'p/no-such-file\.txt: cannot open' p/no-such-file.txt
    license_fails 'p/no-such-file\.txt' /usr/share/common-licenses/GPL-3 p/no-such-file.txt
    printf 'text\0more' >p/nul.txt
    license_fails 'p/nul\.txt: binary' p/nul.txt
    license_fails '^recite: lib: is a directory' lib
    license_fails 'no FILE'
    license_fails "unknown option" --frobnicate p/tagged.c
}
t_index_no_cmi() {
    run index --no-cmi --out idx-nocmi lib/licenses
    expect_rc 0
    expect "idx-nocmi/licenses exists after --no-cmi" test ! -e idx-nocmi/licenses
    run check --index idx-nocmi --json p/probe.txt
    expect_rc 1
    expect_json "$OUT" 'work_entry(r, "lib/licenses/apache.txt")["cmi"] is None' \
        'work_entry(r, "lib/licenses/apache.txt")["license"] is None'
    run check --index idx --json p/probe.txt
    expect_json "$OUT" 'work_entry(r, "lib/licenses/apache.txt")["cmi"] in ("present", "absent")' \
        'work_entry(r, "lib/licenses/apache.txt")["license"] == "Apache-2.0"'
}

# ==== catalogue (issue 5, item 4) ====

# catalog_fixture: catidx/, an index of lib/licenses and cat.jsonl (works with provenance and
# training runs) with its catalogue; cat/d is a copy of cat/a's text.
catalog_fixture() {
    [ -s catidx/catalog.sqlite ] && return 0
    cat >cat.jsonl <<'JSONL'
{"id": "cat/a", "text": "Call me Ishmael. Some years ago, never mind how long precisely, having little or no money in my purse.", "title": "Moby-Dick, or \"The Whale\"", "author": "Herman Melville", "license": "MIT", "copyright": "(C) 1851 H. M.", "source": "purchased", "url": "https://example.invalid/moby", "runs": ["run-1", "run-2"]}
{"id": "cat/b", "text": "It was the best of times, it was the worst of times, it was the age of wisdom.", "title": "A Tale", "license": "GPL-3.0-only", "source": "scanned", "runs": "run-2"}
{"id": "cat/c", "text": "Happy families are all alike; every unhappy family is unhappy in its own way.", "title": "Line one\nline two", "license": "mit", "source": "shadow-library", "runs": ["run-3"]}
{"id": "cat/d", "text": "Call me Ishmael. Some years ago, never mind how long precisely, having little or no money in my purse."}
JSONL
    run index --out catidx lib/licenses cat.jsonl
    [ "$RC" -eq 0 ] || bad "cannot build catidx: $(snippet "$ERR")"
}
# catalog_copy NAME: a private copy of catidx (index and catalogue) to change.
catalog_copy() {
    catalog_fixture
    rm -rf "$1"
    cp -a catidx "$1"
}
# expect_csv FILE EXPR...: every Python expression holds, `rows` being FILE read by csv.reader.
expect_csv() {
    NASSERT=$((NASSERT + 1))
    local file=$1 e msg
    shift
    for e in "$@"; do
        msg=$("$PY" -c 'import csv, sys
rows = list(csv.reader(open(sys.argv[1], newline="", encoding="utf-8")))
hdr = rows[0]
recs = [dict(zip(hdr, r)) for r in rows[1:]]
by = {r["id"]: r for r in recs} if "id" in hdr else {}
assert eval(sys.argv[2]), "csv: " + sys.argv[2]' "$file" "$e" 2>&1) || bad "$(echo "$msg" | tail -1)"
    done
}

t_catalog_built_by_index() {
    catalog_fixture
    expect "catidx/catalog.sqlite is missing" test -s catidx/catalog.sqlite
    NASSERT=$((NASSERT + 1))
    if compgen -G "catidx/.catalog.sqlite.tmp-*" >/dev/null; then bad "temporary catalogue left"; fi
    expect_no_tmp catidx
    run catalog --help
    expect_rc 0
    expect_out 'recite catalog list --index DIR'
}
t_catalog_list_table() {
    catalog_fixture
    run catalog list --index catidx
    expect_rc 0
    expect_out '^id +source +license +title +runs +deleted$'
    expect_out '^cat/a +purchased +MIT +Moby-Dick, or "The Whale" +run-1,run-2 +-$'
    expect_out '^cat/c +shadow-library +mit +Line one line two +run-3 +-$'
    expect_out '^cat/d +unknown +- +- +- +-$'
    expect_out '^lib/licenses/apache\.txt +unknown +'
    # Aligned: every column starts where its heading does.
    NASSERT=$((NASSERT + 1))
    "$PY" -c 'import sys
lines = open(sys.argv[1], encoding="utf-8").read().splitlines()
starts = [lines[0].index(h) for h in ("source", "license", "title", "runs", "deleted")]
assert len(lines) == 7, len(lines)
for l in lines[1:]:
    for s in starts:
        assert l[s - 2:s] == "  " and l[s] != " ", (l, s)' "$OUT" 2>/dev/null || bad "the table is not aligned: $(snippet "$OUT")"
}
t_catalog_list_csv() {
    catalog_fixture
    run catalog list --index catidx --format csv
    expect_rc 0
    expect_csv "$OUT" 'hdr == ["id", "title", "author", "license", "copyright", "source", "url", "bytes", "tokens", "cluster", "content_hash", "runs", "deleted_at", "deleted_by", "deleted_why"]' \
        'len(recs) == 6' 'by["cat/a"]["title"] == "Moby-Dick, or \"The Whale\""' \
        'by["cat/a"]["runs"] == "run-1,run-2"' 'by["cat/c"]["title"] == "Line one\nline two"' \
        'by["cat/a"]["url"] == "https://example.invalid/moby"' 'by["cat/d"]["license"] == ""' \
        'by["cat/b"]["bytes"] == "78"' 'by["cat/a"]["content_hash"] == by["cat/d"]["content_hash"]'
}
t_catalog_list_json() {
    catalog_fixture
    run catalog list --index catidx --format json
    expect_rc 0
    expect_json "$OUT" 'isinstance(r, list) and len(r) == 6' \
        '[w["id"] for w in r] == ["lib/licenses/apache.txt", "lib/licenses/mpl2.txt", "cat/a", "cat/b", "cat/c", "cat/d"]' \
        'all(set(w) == {"id", "title", "author", "license", "copyright", "source", "url", "content_hash", "bytes", "tokens", "cluster", "runs", "deleted", "deleted_at", "deleted_by", "deleted_why"} for w in r)' \
        'all(re.fullmatch("[0-9a-f]{32}", w["content_hash"]) for w in r)' \
        '{w["id"]: w for w in r}["cat/a"]["runs"] == ["run-1", "run-2"]' \
        '{w["id"]: w for w in r}["cat/b"]["runs"] == ["run-2"]' \
        '{w["id"]: w for w in r}["cat/d"]["runs"] == [] and {w["id"]: w for w in r}["cat/d"]["source"] == "unknown"' \
        '{w["id"]: w for w in r}["cat/a"]["title"] == "Moby-Dick, or \"The Whale\""' \
        '{w["id"]: w for w in r}["cat/a"]["author"] == "Herman Melville"' \
        '{w["id"]: w for w in r}["cat/a"]["copyright"] == "(C) 1851 H. M."' \
        '{w["id"]: w for w in r}["cat/c"]["title"] == "Line one\nline two"' \
        '{w["id"]: w for w in r}["cat/a"]["cluster"] == {w["id"]: w for w in r}["cat/d"]["cluster"]' \
        '{w["id"]: w for w in r}["cat/a"]["content_hash"] == {w["id"]: w for w in r}["cat/d"]["content_hash"]' \
        '{w["id"]: w for w in r}["cat/a"]["content_hash"] != {w["id"]: w for w in r}["cat/b"]["content_hash"]' \
        '{w["id"]: w for w in r}["lib/licenses/apache.txt"]["bytes"] == len(data("lib/licenses/apache.txt"))' \
        'all(w["tokens"] > 10 and w["deleted"] is False and w["deleted_at"] is None for w in r)'
    run catalog list --index catidx --json
    expect_rc 0
    expect_json "$OUT" 'len(r) == 6'
}
t_catalog_list_filters() {
    catalog_fixture
    run catalog list --index catidx --source scanned --format json
    expect_rc 0
    expect_json "$OUT" '[w["id"] for w in r] == ["cat/b"]'
    run catalog list --index catidx --license MIT --format json
    expect_json "$OUT" '[w["id"] for w in r] == ["cat/a", "cat/c"]'
    run catalog list --index catidx --run run-2 --format json
    expect_json "$OUT" '[w["id"] for w in r] == ["cat/a", "cat/b"]'
    run catalog list --index catidx --run run-2 --source purchased --license mit --format json
    expect_json "$OUT" '[w["id"] for w in r] == ["cat/a"]'
    run catalog list --index catidx --source public-domain --format json
    expect_rc 0
    expect_json "$OUT" 'r == []'
    run catalog list --index catidx --source stolen
    expect_rc 2
    expect_one_error_line
    expect_err "unknown source 'stolen'"
}
t_catalog_runs() {
    catalog_fixture
    run catalog runs --index catidx
    expect_rc 0
    expect_out '^run +works$'
    expect_out '^run-2 +2$'
    run catalog runs --index catidx --format json
    expect_rc 0
    expect_json "$OUT" 'r == [{"run": "run-1", "works": 1}, {"run": "run-2", "works": 2}, {"run": "run-3", "works": 1}]'
    run catalog runs --index catidx --format csv
    expect_csv "$OUT" 'rows == [["run", "works"], ["run-1", "1"], ["run-2", "2"], ["run-3", "1"]]'
}
t_catalog_delete_and_audit() {
    catalog_copy catdel
    run catalog audit --index catdel --format json
    expect_rc 0
    expect_json "$OUT" 'r == []'
    run catalog delete --index catdel --work cat/b --who alice --why 'DMCA notice #12, "urgent"'
    expect_rc 0
    expect_out 'cat/b'
    USER=bob run catalog delete --index catdel --work cat/a --why 'license expired'
    expect_rc 0
    run catalog list --index catdel --format json
    expect_json "$OUT" '[w["id"] for w in r] == ["lib/licenses/apache.txt", "lib/licenses/mpl2.txt", "cat/c", "cat/d"]'
    run catalog list --index catdel --deleted --format json
    expect_json "$OUT" 'len(r) == 6' \
        're.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", {w["id"]: w for w in r}["cat/b"]["deleted_at"])' \
        '{w["id"]: w for w in r}["cat/b"]["deleted"] is True' \
        '{w["id"]: w for w in r}["cat/b"]["deleted_by"] == "alice"' \
        '{w["id"]: w for w in r}["cat/b"]["deleted_why"] == "DMCA notice #12, \"urgent\""' \
        '{w["id"]: w for w in r}["cat/a"]["deleted_by"] == "bob"'
    run catalog list --index catdel --deleted
    expect_out '^cat/b +scanned +GPL-3.0-only +A Tale +run-2 +[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z$'
    run catalog runs --index catdel --format json
    expect_json "$OUT" 'r == [{"run": "run-1", "works": 0}, {"run": "run-2", "works": 0}, {"run": "run-3", "works": 1}]'
    run catalog audit --index catdel --format json
    expect_rc 0
    expect_json "$OUT" 'len(r) == 2' \
        '[(e["who"], e["action"], e["work"], e["why"]) for e in r] == [("alice", "delete", "cat/b", "DMCA notice #12, \"urgent\""), ("bob", "delete", "cat/a", "license expired")]' \
        're.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", r[0]["at"])'
    run catalog audit --index catdel
    expect_out '^at +who +action +work +why$'
    expect_out '^[0-9-]+T[0-9:]+Z +alice +delete +cat/b +DMCA notice #12, "urgent"$'
    run catalog audit --index catdel --format csv
    expect_csv "$OUT" 'rows[0] == ["at", "who", "action", "work", "why"]' 'rows[1][1:] == ["alice", "delete", "cat/b", "DMCA notice #12, \"urgent\""]'
    # Deleting again, or a work that does not exist: exit 2, nothing appended.
    cp catdel/catalog.sqlite catdel.saved
    run catalog delete --index catdel --work cat/b --why again
    expect_rc 2
    expect_one_error_line
    expect_err 'already deleted'
    run catalog delete --index catdel --work no/such --why x
    expect_rc 2
    expect_one_error_line
    expect_err "no work 'no/such'"
    expect_same_file catdel/catalog.sqlite catdel.saved "a refused deletion changed the catalogue"
}
t_catalog_reindex_keeps_audit() {
    catalog_copy catre
    run catalog delete --index catre --work cat/b --who alice --why takedown
    expect_rc 0
    run index --out catre lib/licenses cat.jsonl
    expect_rc 0
    expect_no_tmp catre
    run catalog audit --index catre --format json
    expect_rc 0
    expect_json "$OUT" '[(e["who"], e["work"], e["why"]) for e in r] == [("alice", "cat/b", "takedown")]'
    run catalog list --index catre --deleted --format json
    expect_json "$OUT" '{w["id"]: w for w in r}["cat/b"]["deleted_by"] == "alice"'
    run catalog list --index catre --format json
    expect_json "$OUT" '"cat/b" not in [w["id"] for w in r]'
}
# catalog_fails REGEX ARGS...: `recite catalog ARGS` exits 2 with one matching line.
catalog_fails() {
    local re=$1
    shift
    run catalog "$@"
    expect_rc 2
    expect_one_error_line
    expect_err "$re"
}
t_catalog_errors() {
    catalog_fixture
    catalog_fails 'missing subcommand'
    catalog_fails "unknown subcommand 'frob'" frob --index catidx
    catalog_fails '--index DIR is required' list
    catalog_fails "unknown option '--frob'" list --index catidx --frob
    catalog_fails "needs a value" list --index
    catalog_fails "table, csv or json, not 'xml'" list --index catidx --format xml
    catalog_fails "runs does not take '--source'" runs --index catidx --source scanned
    catalog_fails "unexpected argument 'extra'" list --index catidx extra
    catalog_fails '--why' delete --index catidx --work cat/a
    catalog_fails '--work' delete --index catidx --why x
    catalog_fails 'no catalogue' list --index idx-none-such
    mkdir -p catnone
    cp idx/recite.idx catnone/
    catalog_fails 'catnone/catalog\.sqlite: no catalogue' runs --index catnone
}
t_catalog_corrupt_unchanged() {
    catalog_copy catbad
    head -c 8192 /dev/urandom >catbad/catalog.sqlite
    cp catbad/catalog.sqlite catbad.saved
    catalog_fails 'catbad/catalog\.sqlite: not a recite catalogue' list --index catbad
    catalog_fails 'not a recite catalogue' audit --index catbad
    catalog_fails 'not a recite catalogue' delete --index catbad --work cat/a --why x
    expect_same_file catbad/catalog.sqlite catbad.saved "a corrupt catalogue was changed"
    : >catbad/catalog.sqlite
    catalog_fails 'not a recite catalogue \(empty file\)' list --index catbad
}
t_catalog_locked_unchanged() {
    catalog_copy catlock
    cp catlock/catalog.sqlite catlock.saved
    rm -f lock.held lock.release
    # Another process holds an exclusive transaction until lock.release appears.
    "$PY" -c 'import os, sqlite3, sys, time
db = sqlite3.connect(sys.argv[1], isolation_level=None)
db.execute("BEGIN EXCLUSIVE")
open("lock.held", "w").close()
for _ in range(600):
    if os.path.exists("lock.release"):
        break
    time.sleep(0.1)
db.execute("ROLLBACK")' catlock/catalog.sqlite &
    BG_PID=$!
    local i=0
    while [ ! -e lock.held ] && [ "$i" -lt 100 ]; do
        sleep 0.1
        i=$((i + 1))
    done
    expect "the locking process did not start" test -e lock.held
    catalog_fails 'catlock/catalog\.sqlite: database is locked' list --index catlock
    catalog_fails 'database is locked' delete --index catlock --work cat/a --why x
    touch lock.release
    wait "$BG_PID"
    BG_PID=""
    expect_same_file catlock/catalog.sqlite catlock.saved "a locked catalogue was changed"
    run catalog delete --index catlock --work cat/a --why x
    expect_rc 0 "the deletion after the lock was released"
}

# ==== text-free indexes ====

# The same planted span is found at the same offsets with the same kind as in idx, the report
# says the works' text is not available, and the index file holds none of the span's words.
t_textfree_same_report() {
    head -c 32 /dev/urandom >tf.key
    run index --quiet --text-free --key tf.key --out tfidx lib meta.jsonl
    expect_rc 0
    run stats --index tfidx --json
    expect_json "$OUT" 'r["text_free"] is True'
    plant tf lib/licenses/apache.txt --ntok 60 --at 0.4 "${UNIQ[@]}"
    run check --index idx --json p/tf.txt
    cp "$OUT" p/tf.plain
    run check --index tfidx --key tf.key --json p/tf.txt
    expect_rc 1
    expect_json "$OUT" 'shape(r)' "planted(r, 'p/tf.json', 'lib/licenses/apache.txt', 'exact', 'p/tf.txt')" \
        'r["source_text"].startswith("not available")'
    expect_json "$OUT" "[(m['work'], m['output'], m['source'], m['kind']) for m in r['matches']] == [(m['work'], m['output'], m['source'], m['kind']) for m in load('p/tf.plain')['matches']]"
    NASSERT=$((NASSERT + 1))
    local w
    for w in $(tr -cs 'A-Za-z' '\n' <p/tf.txt | awk 'length($0) >= 8' | sort -u | head -20); do
        if grep -qaF -- "$w" tfidx/recite.idx; then bad "the word '$w' is in the text-free index file"; fi
    done
}
t_textfree_key_errors() {
    [ -d tfidx ] || run index --quiet --text-free --key tf.key --out tfidx lib meta.jsonl
    check_fails 'text-free.*--key' --index tfidx p/tf.txt
    head -c 32 /dev/urandom >tf-other.key
    check_fails 'wrong key' --index tfidx --key tf-other.key p/tf.txt
    head -c 8 /dev/urandom >tf-short.key
    check_fails 'too short' --index tfidx --key tf-short.key p/tf.txt
    check_fails 'cannot read the key' --index tfidx --key no-such.key p/tf.txt
    run index --quiet --text-free --out tf-bad lib
    expect_rc 2
    expect_err 'needs --key'
    expect_no_index tf-bad
    run index --quiet --key tf.key --out tf-bad lib
    expect_rc 2
    expect_err 'only for --text-free'
    run index --quiet --text-free --key tf-short.key --out tf-bad lib
    expect_rc 2
    expect_err 'too short'
    expect_no_index tf-bad
}

# ==== compaction ====

t_compact_purges_deleted() {
    rm -rf cpidx
    run index --quiet --out cpidx lib meta.jsonl
    plant cp - --jsonl meta.jsonl --id jsonl/one --ntok 40 --at 0.3 "${UNIQ[@]}"
    run check --index cpidx p/cp.txt
    expect_rc 1 "the span is found before the deletion"
    run catalog delete --index cpidx --work jsonl/one --why "takedown 17" --who cli-test
    expect_rc 0
    run compact --index cpidx
    expect_rc 0
    expect_out '1 deleted works purged'
    run check --index cpidx --json p/cp.txt
    expect_rc 0 "nothing of the deleted work is found after compaction"
    run check --index cpidx --json p/probe.txt
    expect_rc 1 "the other works are still found"
    expect_json "$OUT" "planted(r, 'p/probe.json', 'lib/licenses/apache.txt', 'exact', 'p/probe.txt')"
    run catalog audit --index cpidx --format json
    expect_json "$OUT" 'any(e["work"] == "jsonl/one" and e["why"] == "takedown 17" for e in r)'
    run compact --index cpidx
    expect_rc 0
    expect_out 'nothing to compact'
    expect_no_tmp cpidx
}
t_compact_errors() {
    run compact
    expect_rc 2
    expect_one_error_line
    expect_err '--index'
    run compact --index no-such-index
    expect_rc 2
    expect_one_error_line
    [ -d tfidx ] || run index --quiet --text-free --key tf.key --out tfidx lib meta.jsonl
    run catalog delete --index tfidx --work jsonl/one --why test
    run compact --index tfidx
    expect_rc 2
    expect_one_error_line
    expect_err 'text-free'
}

# ==== main ====

setup_library
TESTS=(
    version help no_arguments unknown_command serve_unavailable
    index_library index_skips_hidden index_skips_binary_and_empty index_notes_invalid_utf8
    work_id_is_path_as_reached dir_walk_sorted_and_also jsonl_work_and_metadata
    jsonl_offsets_into_utf8_text jsonl_source_outside_contract
    index_error_missing_path index_error_empty_file index_error_binary_file
    index_error_jsonl_invalid index_error_jsonl_missing_id index_error_jsonl_missing_text
    index_error_duplicate_id index_error_jsonl_mode index_error_min_tokens_zero
    index_error_unknown_option index_error_missing_out index_error_nothing_to_index
    index_refuses_foreign_directory index_refuses_regular_file_as_out index_into_empty_directory index_error_keeps_existing
    rebuild_replaces index_quiet index_progress_on_terminal index_special_entries index_mode_options
    check_exact_json check_text_report check_pass
    norm_case norm_curly_quotes norm_em_dash norm_reflow norm_hyphenation norm_line_numbers
    norm_latin1_work norm_crlf norm_unicode_nfd norm_ligature norm_curly_apostrophe
    near_commas_removed check_span_is_whole_input check_two_works_in_one_input
    json_non_utf8_names
    coverage_portion coverage_whole_work threshold_12_found_11_not index_min_tokens_20
    check_empty_input check_stdin check_several_inputs check_invalid_utf8_input
    check_error_missing_input check_error_binary_input check_error_directory_input
    check_error_index_is_a_file check_error_missing_index
    check_error_missing_index_option check_error_below_guarantee
    policy_blocks policy_allows policy_cite_by_family_and_default policy_example_file
    policy_error_malformed policy_error_conflict policy_error_unknown_license policy_error_files
    stats_text stats_json stats_errors
    corrupt_flipped_byte corrupt_flip_anywhere_never_crashes corrupt_truncated
    corrupt_format_version corrupt_no_index_file corrupt_empty_index_file
    code_renamed_function cmi_values cmi_absent_and_present
    license_text license_json license_mode license_errors index_no_cmi
    textfree_same_report textfree_key_errors compact_purges_deleted compact_errors
    catalog_built_by_index catalog_list_table catalog_list_csv catalog_list_json
    catalog_list_filters catalog_runs catalog_delete_and_audit catalog_errors
    catalog_corrupt_unchanged catalog_locked_unchanged catalog_reindex_keeps_audit
    reproducible_jobs reproducible_mem
    big_single_line_file interrupted_rebuild_keeps_index
)
START=$SECONDS
for name in "${TESTS[@]}"; do
    test_case "$name" "t_$name"
done
echo "# $((NTESTS - NFAILED)) of $NTESTS tests passed, $NFAILED failed ($((SECONDS - START))s, $GIVEN_BIN)"
[ "$NFAILED" -eq 0 ]

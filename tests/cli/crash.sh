#!/usr/bin/env bash
# tests/cli/crash.sh BINARY — crash and disk tests of `recite index` and `recite compact`
# (issue 9): nothing is lost, whatever happens to a build.
#
#   - kill -9 of a rebuild over an existing index, and of a compaction, at RECITE_CRASH_KILLS
#     (default 20) random moments each: the index directory holds the previous index or the
#     complete new one, byte for byte, readable, with an intact catalogue; the next build
#     removes what the killed ones left;
#   - a disk that fills during a build (tests/cli/wfail.c, an LD_PRELOAD shim: writes to regular
#     files fail with ENOSPC after N bytes), at several N, and single failed writes (EIO): one
#     error line, exit 2, no partial index (a previous one is kept, byte for byte);
#   - a read-only parent directory, a target that is a file, paths through a symlink loop: one
#     error line, exit 2.
# Prints `ok - NAME` or `FAIL - NAME: reasons`; exits 1 if anything failed. RECITE_TEST_SEED
# fixes the kill moments (the seed is printed). Fixtures are made at run time from the copyright
# files and license texts Debian ships.
set -u

if [ $# -ne 1 ] || [ ! -x "$1" ]; then
    echo "usage: $0 BINARY" >&2
    exit 2
fi
BIN=$(realpath -- "$1")
HERE=$(cd -- "$(dirname -- "$0")" && pwd)
KILLS=${RECITE_CRASH_KILLS:-20}
SEED=${RECITE_TEST_SEED:-$(date +%s)}
RANDOM=$SEED
export SOURCE_DATE_EPOCH=1700000000 # builds are then byte-identical
export ASAN_OPTIONS="exitcode=86:verify_asan_link_order=0:${ASAN_OPTIONS:-}"
export UBSAN_OPTIONS="exitcode=86:print_stacktrace=1:${UBSAN_OPTIONS:-}"
export RECITE_CACHE=/nonexistent # no license cache: --no-cmi builds need none

T=$(mktemp -d "${TMPDIR:-/tmp}/recite-crash.XXXXXX") || exit 2
BG_PID=""
cleanup() {
    [ -n "$BG_PID" ] && kill -9 "$BG_PID" 2>/dev/null
    chmod -R u+w "$T" 2>/dev/null
    rm -rf -- "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
chmod 755 "$T" # the read-only test runs recite as another user when root
cd "$T" || exit 2
cp -- "$BIN" "$T/recite" && BIN=$T/recite || exit 2
OUT=$T/stdout ERR=$T/stderr
RC=0

NTESTS=0 NFAILED=0
REASONS=()
NASSERT=0
bad() { REASONS+=("$*"); }
test_case() {
    local name=$1 t0=$SECONDS
    REASONS=()
    NASSERT=0
    "t_$name"
    [ "${#REASONS[@]}" -eq 0 ] && [ "$NASSERT" -eq 0 ] && bad "the test made no assertion"
    NTESTS=$((NTESTS + 1))
    if [ "${#REASONS[@]}" -eq 0 ]; then
        echo "ok - $name ($((SECONDS - t0))s)"
    else
        NFAILED=$((NFAILED + 1))
        local IFS=';'
        echo "FAIL - $name: ${REASONS[*]}"
    fi
}
check_crash() {
    if [ "$RC" -ge 128 ] || [ "$RC" -eq 86 ] ||
        grep -qE 'Sanitizer|runtime error:|^==[0-9]+==' "$ERR" 2>/dev/null; then
        bad "CRASH in 'recite $*' (exit $RC): $(grep -m3 -E 'ERROR|runtime error|SUMMARY' "$ERR" | tr '\n' ' ' | head -c 300)"
    fi
}
run() {
    timeout -s KILL 300 "$BIN" "$@" </dev/null >"$OUT" 2>"$ERR"
    RC=$?
    check_crash "$@"
}
snippet() { head -c 300 "$1" | tr '\n' '|'; }
expect_rc() {
    NASSERT=$((NASSERT + 1))
    [ "$RC" -eq "$1" ] || bad "exit $RC, expected $1${2:+ ($2)} [stderr: $(snippet "$ERR")]"
}
expect_one_error_line() { # [REGEX]
    NASSERT=$((NASSERT + 1))
    local n
    n=$(wc -l <"$ERR")
    if [ "$n" -ne 1 ] || ! grep -qE "^recite: .*${1:-}" "$ERR"; then
        bad "expected one 'recite: ...${1:+ /$1/}' line on stderr, got $n: $(snippet "$ERR")"
    fi
}
expect_same() { # FILE1 FILE2 WHAT
    NASSERT=$((NASSERT + 1))
    cmp -s -- "$1" "$2" || bad "$3: $1 and $2 differ"
}
expect_absent() { # PATH WHAT
    NASSERT=$((NASSERT + 1))
    [ ! -e "$1" ] && [ ! -L "$1" ] || bad "$2: $1 exists"
}
# expect_no_leftovers DIR: no temporary build directory beside DIR, no temporary catalogue in it.
expect_no_leftovers() {
    NASSERT=$((NASSERT + 1))
    local d=$1 left
    left=$(compgen -G "$(dirname -- "$d")/.$(basename -- "$d").tmp-*"; compgen -G "$d/.catalog.sqlite.tmp-*")
    [ -z "$left" ] || bad "left behind: $(echo "$left" | tr '\n' ' ')"
}
# A random delay in [0, max) seconds, printed with millisecond precision.
rand_delay() { awk -v r="$RANDOM$RANDOM" -v m="$1" 'BEGIN { printf "%.3f", (r % 100000) / 100000 * m }'; }
seconds_of() { # COMMAND...: wall seconds of a run
    local t0 t1
    t0=$(date +%s.%N)
    "$@" >/dev/null 2>&1
    t1=$(date +%s.%N)
    awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }'
}

# ==== fixtures ====

# lib/old: Debian's license texts; lib/new: 400 copyright files of installed packages (about
# 4 MB of distinct text: a build long enough to be killed in the middle); lib/cmp: 120 of them,
# the index that is compacted (a compaction reads back every text: slower per byte).
mkdir -p lib/old lib/new lib/cmp
cp /usr/share/common-licenses/* lib/old/ 2>/dev/null
find /usr/share/doc -mindepth 2 -maxdepth 2 -name copyright -type f | sort | head -400 |
    while read -r f; do cp -- "$f" "lib/new/$(basename -- "$(dirname -- "$f")").txt"; done
find lib/new -type f | sort | head -120 | while read -r f; do cp -- "$f" lib/cmp/; done
if [ "$(ls lib/new | wc -l)" -lt 50 ] || [ "$(ls lib/old | wc -l)" -lt 5 ]; then
    echo "crash.sh: too few texts in /usr/share/doc and /usr/share/common-licenses" >&2
    exit 2
fi
gcc -shared -fPIC -O1 -o wfail.so "$HERE/wfail.c" -ldl || exit 2
WFAIL=$T/wfail.so
INDEX=(index --quiet --no-cmi)
echo "# crash.sh: seed $SEED (RECITE_TEST_SEED), $KILLS kills per test"

# The reference indexes (complete builds) every outcome is compared with.
"$BIN" "${INDEX[@]}" --out ref-old lib/old >/dev/null 2>&1 &&
    "$BIN" "${INDEX[@]}" --out ref-new lib/new >/dev/null 2>&1 || {
    echo "crash.sh: cannot build the reference indexes" >&2
    exit 2
}
# catalog_list DIR: its works (CSV); what it said on stderr in catalog.err (a catalogue made for
# an earlier index than DIR's is remade first, and a line says so).
catalog_list() { "$BIN" catalog list --index "$1" --format csv 2>catalog.err || cat catalog.err; }
remade() { grep -q 'made for an earlier index' catalog.err; }
catalog_list ref-old >ref-old.list
catalog_list ref-new >ref-new.list

# ==== kill -9 ====

# kill_loop NAME SETUP_FN CMD...: KILLS times: SETUP_FN prepares the directory `k` (the previous
# state: k/recite.idx = prev.idx, its catalogue listing prev.list), then CMD runs and is killed
# at a random moment in [0, 1.2 x its full duration); afterwards k holds the previous index or
# NEW_IDX (the complete new one, NEW_LIST its listing), readable.
kill_loop() {
    local setup=$1
    shift
    local full kept=0 published=0 window=0 i delay state list
    $setup
    full=$(seconds_of "$BIN" "$@")
    for ((i = 0; i < KILLS; i++)); do
        $setup
        delay=$(rand_delay "$(awk -v f="$full" 'BEGIN { print f * 1.2 }')")
        "$BIN" "$@" >/dev/null 2>kill.err &
        BG_PID=$!
        sleep "$delay"
        kill -9 "$BG_PID" 2>/dev/null
        wait "$BG_PID" 2>/dev/null
        BG_PID=""
        NASSERT=$((NASSERT + 1))
        if cmp -s k/recite.idx prev.idx; then
            state=prev
            kept=$((kept + 1))
        elif cmp -s k/recite.idx "$NEW_IDX"; then
            state=new
        else
            bad "kill $i after ${delay}s: k/recite.idx is neither the previous nor the new index"
            continue
        fi
        run stats --index k
        [ "$RC" -eq 0 ] || bad "kill $i after ${delay}s: the index does not open: $(snippet "$ERR")"
        # A kill between publishing the index and remaking its catalogue left the previous
        # catalogue beside the new index: the catalogue command remakes it first.
        list=$(catalog_list k)
        if [ "$list" = "$(cat prev.list)" ] && [ "$state" = prev ] && ! remade; then
            :
        elif [ "$list" = "$(cat "$NEW_LIST")" ] && [ "$state" = new ]; then
            published=$((published + 1))
            if remade; then window=$((window + 1)); fi
        else
            bad "kill $i after ${delay}s ($state index): the catalogue lists neither the previous nor the new works: $(echo "$list" | head -2 | tr '\n' ' ')"
        fi
    done
    echo "# $KILLS kills over ${full}s runs: previous index kept $kept, new index published $published, of which the catalogue was remade by the next catalogue command (killed between the two) $window"
}

setup_rebuild() {
    rm -rf k
    cp -a ref-old k
    cp ref-old/recite.idx prev.idx
    cp ref-old.list prev.list
}
t_kill_index_rebuild() {
    NEW_IDX=ref-new/recite.idx NEW_LIST=ref-new.list
    kill_loop setup_rebuild "${INDEX[@]}" --out k lib/new
    # What the killed builds left is removed by the next one, which completes.
    run "${INDEX[@]}" --out k lib/new
    expect_rc 0 "a rebuild after killed ones"
    expect_same k/recite.idx ref-new/recite.idx "the rebuild after killed ones"
    expect_no_leftovers k
}

# The index of lib/cmp with three works deleted in its catalogue; its compaction for reference.
make_compactable() {
    rm -rf cbase cref
    "$BIN" "${INDEX[@]}" --out cbase lib/cmp >/dev/null 2>&1 || bad "cannot index lib/cmp"
    local w
    for w in $(catalog_list cbase | sed -n '2,200p' | cut -d, -f1 | sed -n '10p;50p;90p'); do
        "$BIN" catalog delete --index cbase --work "$w" --why "crash test" --who test >/dev/null ||
            bad "cannot delete $w"
    done
    catalog_list cbase >cbase.list
    cp -a cbase cref
    "$BIN" compact --index cref --quiet >/dev/null 2>&1 || bad "the reference compaction failed"
    catalog_list cref >cref.list
    NASSERT=$((NASSERT + 1))
    cmp -s cbase/recite.idx cref/recite.idx && bad "the compaction changed nothing"
}
setup_compact() {
    rm -rf k
    cp -a cbase k
    cp cbase/recite.idx prev.idx
    cp cbase.list prev.list
}
t_kill_compact() {
    make_compactable
    NEW_IDX=cref/recite.idx NEW_LIST=cref.list
    kill_loop setup_compact compact --index k --quiet
    run compact --index k --quiet
    expect_rc 0 "a compaction after a killed one"
    expect_same k/recite.idx cref/recite.idx "the compaction after a killed one"
    expect_no_leftovers k
    run catalog audit --index k --format csv
    NASSERT=$((NASSERT + 1))
    [ "$(grep -c 'crash test' "$OUT")" -eq 3 ] || bad "the audit log lost deletions: $(snippet "$OUT")"
}

# ==== a disk that fills, writes that fail ====

# How many bytes a complete build of lib/new writes to regular files, and in how many writes.
count_writes() {
    rm -rf cnt
    RECITE_WFAIL_REPORT=$T/wfail.count LD_PRELOAD=$WFAIL "$BIN" "${INDEX[@]}" --out cnt lib/new \
        >/dev/null 2>&1
    read -r WBYTES WCALLS <wfail.count
}

t_disk_full_fresh_target() {
    count_writes
    local size n
    size=$(stat -c %s ref-new/recite.idx)
    # At the start, in the text, in the last tables, and after the index (the catalogue).
    for n in 0 $((size / 3)) $((size - 4096)) $((size + 8192)); do
        rm -rf full
        RECITE_WFAIL_BYTES=$n LD_PRELOAD=$WFAIL run "${INDEX[@]}" --out full lib/new
        expect_rc 2 "disk full after $n bytes"
        expect_one_error_line 'No space left on device|disk is full'
        expect_absent full "disk full after $n bytes of $WBYTES (index $size)"
        expect_no_leftovers full
    done
}

t_disk_full_rebuild_keeps_index() {
    local size n
    size=$(stat -c %s ref-new/recite.idx)
    for n in 0 $((size / 2)) $((size - 4096)); do
        rm -rf k
        cp -a ref-old k
        RECITE_WFAIL_BYTES=$n LD_PRELOAD=$WFAIL run "${INDEX[@]}" --out k lib/new
        expect_rc 2 "disk full after $n bytes"
        expect_one_error_line 'No space left on device'
        expect_same k/recite.idx ref-old/recite.idx "a rebuild on a full disk ($n bytes)"
        NASSERT=$((NASSERT + 1))
        [ "$(catalog_list k)" = "$(cat ref-old.list)" ] || bad "the catalogue changed ($n bytes)"
        expect_no_leftovers k
    done
    # Full once the new index is published: the catalogue cannot be remade; the previous one
    # stays (intact), and the next catalogue command, with room, remakes it (saying so).
    rm -rf k
    cp -a ref-old k
    RECITE_WFAIL_BYTES=$((size + 8192)) LD_PRELOAD=$WFAIL run "${INDEX[@]}" --out k lib/new
    expect_rc 2 "disk full in the catalogue"
    expect_one_error_line 'disk is full'
    expect_same k/recite.idx ref-new/recite.idx "the index published before the catalogue failed"
    NASSERT=$((NASSERT + 1))
    [ "$(catalog_list k)" = "$(cat ref-new.list)" ] && remade ||
        bad "the catalogue was not remade by the next catalogue command"
    NASSERT=$((NASSERT + 1))
    [ "$(catalog_list k)" = "$(cat ref-new.list)" ] && ! remade || bad "remade twice"
    # A failed catalogue, and the next build with room: up to date too.
    rm -rf k
    cp -a ref-old k
    RECITE_WFAIL_BYTES=$((size + 8192)) LD_PRELOAD=$WFAIL run "${INDEX[@]}" --out k lib/new
    expect_rc 2 "disk full in the catalogue"
    run "${INDEX[@]}" --out k lib/new
    expect_rc 0
    NASSERT=$((NASSERT + 1))
    [ "$(catalog_list k)" = "$(cat ref-new.list)" ] || bad "the catalogue was not rebuilt"
}

# One write fails (EIO), at writes spread over the whole build: never a corrupt index.
t_failed_write_never_publishes() {
    local k
    for k in 1 2 $((WCALLS / 8)) $((WCALLS / 4)) $((WCALLS / 2)) $((WCALLS * 3 / 4)) \
        $((WCALLS - 12)) $((WCALLS - 6)) $((WCALLS - 2)) "$WCALLS"; do
        rm -rf k
        cp -a ref-old k
        RECITE_WFAIL_NTH=$k LD_PRELOAD=$WFAIL run "${INDEX[@]}" --out k lib/new
        expect_rc 2 "write $k of $WCALLS failed"
        expect_one_error_line 'Input/output error|disk I/O error'
        NASSERT=$((NASSERT + 1))
        cmp -s k/recite.idx ref-old/recite.idx || cmp -s k/recite.idx ref-new/recite.idx ||
            bad "write $k of $WCALLS failed: k/recite.idx is neither the previous nor the new index"
        run stats --index k
        expect_rc 0 "the index after write $k failed"
        expect_no_leftovers k
    done
}

# ==== targets that cannot be written ====

t_read_only_parent() {
    mkdir -p ro
    chmod 555 ro
    local as=()
    # root writes anywhere: run as nobody when root.
    [ "$(id -u)" -eq 0 ] && as=(setpriv --reuid=65534 --regid=65534 --clear-groups)
    chmod -R a+rX lib/old
    "${as[@]}" "$BIN" "${INDEX[@]}" --out ro/idx lib/old </dev/null >"$OUT" 2>"$ERR"
    RC=$?
    check_crash index --out ro/idx
    expect_rc 2
    expect_one_error_line 'Permission denied|Read-only'
    expect_absent ro/idx "index in a read-only directory"
    # An existing index in a read-only directory: kept as it was.
    chmod 755 ro
    cp -a ref-old ro/idx
    chmod -R a+rX ro/idx
    chmod 555 ro
    "${as[@]}" "$BIN" "${INDEX[@]}" --out ro/idx lib/new </dev/null >"$OUT" 2>"$ERR"
    RC=$?
    check_crash index --out ro/idx
    expect_rc 2
    expect_one_error_line 'Permission denied|Read-only'
    expect_same ro/idx/recite.idx ref-old/recite.idx "a rebuild in a read-only directory"
    chmod 755 ro
}

t_target_is_a_file() {
    echo "not an index" >afile
    cp afile afile.saved
    run "${INDEX[@]}" --out afile lib/old
    expect_rc 2
    expect_one_error_line 'not a directory'
    expect_same afile afile.saved "the file named as the target"
    run compact --index afile
    expect_rc 2
    expect_one_error_line
    run stats --index afile
    expect_rc 2
    expect_one_error_line
}

t_symlink_loop() {
    ln -s loop loop
    ln -s loopb loopa
    ln -s loopa loopb
    run "${INDEX[@]}" --out loop/idx lib/old
    expect_rc 2
    expect_one_error_line
    run "${INDEX[@]}" --out loopa lib/old
    expect_rc 2
    expect_one_error_line
    run "${INDEX[@]}" --out idx-from-loop loop
    expect_rc 2
    expect_one_error_line
    expect_absent idx-from-loop "an index of a symlink loop"
    run check --index loopa /dev/null
    expect_rc 2
    expect_one_error_line
    run compact --index loop
    expect_rc 2
    expect_one_error_line
}

TESTS=(kill_index_rebuild kill_compact disk_full_fresh_target disk_full_rebuild_keeps_index
    failed_write_never_publishes read_only_parent target_is_a_file symlink_loop)
START=$SECONDS
for name in "${TESTS[@]}"; do
    test_case "$name"
done
echo "# $((NTESTS - NFAILED)) of $NTESTS crash and disk tests passed ($((SECONDS - START))s, $BIN)"
[ "$NFAILED" -eq 0 ]

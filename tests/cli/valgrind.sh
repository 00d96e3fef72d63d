#!/usr/bin/env bash
# tests/cli/valgrind.sh BINARY — a small index, check and stats of `recite` under valgrind.
#
# Each step prints `ok - NAME` or `FAIL - NAME: reason`. A step fails when valgrind reports any
# error (exit 9, or a ==PID== line on stderr), including definite or indirect leaks, or when
# recite's own exit status is not the expected one. Exits 1 if anything failed.
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
command -v valgrind >/dev/null || {
    echo "FAIL - valgrind: valgrind is not installed"
    exit 1
}
HERE=$(cd -- "$(dirname -- "$0")" && pwd)
PY=/usr/bin/python3
T=$(mktemp -d "${TMPDIR:-/tmp}/recite-vg.XXXXXX") || exit 2
trap 'rm -rf -- "$T"' EXIT
cd "$T" || exit 2

# shellcheck disable=SC2054 # the commas belong to an option's value
VG=(valgrind -q --error-exitcode=9 --leak-check=full --errors-for-leak-kinds=definite,indirect
    "--suppressions=$HERE/../valgrind.supp")
NTESTS=0
NFAILED=0

# step NAME WANT_STATUS [--in FILE] ARGS...: one run of recite under valgrind.
step() {
    local name=$1 want=$2 in=/dev/null rc reason=""
    shift 2
    if [ "$1" = "--in" ]; then
        in=$2
        shift 2
    fi
    "${VG[@]}" "$BIN" "$@" <"$in" >"$name.out" 2>"$name.err"
    rc=$?
    if [ "$rc" -eq 9 ] || grep -q '^==[0-9]\+==' "$name.err"; then
        reason="valgrind: $(grep -m8 '^==[0-9]\+==' "$name.err" | tr '\n' ' ' | head -c 1200)"
    elif [ "$rc" -ne "$want" ]; then
        reason="exit $rc, expected $want: $(head -c 300 "$name.err" | tr '\n' '|')"
    fi
    NTESTS=$((NTESTS + 1))
    if [ -z "$reason" ]; then
        echo "ok - $name"
    else
        NFAILED=$((NFAILED + 1))
        echo "FAIL - $name: $reason"
    fi
}

# A tiny library: three licenses, a hidden file, an empty file, a Latin-1 file, a JSONL file.
mkdir -p lib/sub lib/.hidden
cp /usr/share/common-licenses/Apache-2.0 lib/apache.txt
cp /usr/share/common-licenses/MPL-2.0 lib/sub/mpl2.txt
cp /usr/share/common-licenses/MPL-2.0 lib/sub/mpl2-copy.txt
cp /usr/share/common-licenses/BSD lib/.hidden/bsd.txt
: >lib/empty.txt
printf 'Caf\xe9 na\xefve r\xe9sum\xe9 and the rest of a Latin-1 text.\n' >lib/latin1.txt
"$PY" -c 'import json
t = open("/usr/share/common-licenses/Artistic", encoding="utf-8").read()
print(json.dumps({"id": "artistic", "text": t, "title": "Artistic", "copyright": "(C) Larry Wall"}))
print()' >works.jsonl

"$PY" "$HERE/mkfix.py" plant lib/apache.txt hit.txt hit.json --ntok 40 --at 0.5 || exit 1
{
    sed -n '20,40p' lib/sub/mpl2.txt | tr '[:lower:]' '[:upper:]'
    printf '\xff\xfe invalid bytes, then the end.\n'
} >>hit.txt
printf 'Words that are in no indexed work whatsoever.\n' >miss.txt

step index 0 index --jobs 2 --out idx lib works.jsonl
# About 10 MB of headers (as words): --mem 16M makes the external sort spill runs to disk and
# merge them.
"$PY" "$HERE/mkfix.py" speclib spec 10 || exit 1
step index-spill 0 index --prose --jobs 2 --mem 16M --out idx2 spec
headers=(spec/*)
"$PY" "$HERE/mkfix.py" plant "${headers[99]}" spec-hit.txt spec-hit.json --ntok 20 || exit 1
step check-spilled 1 check --index idx2 --json spec-hit.txt
step check-text 1 check --index idx hit.txt miss.txt
step check-json 1 check --index idx --json hit.txt miss.txt
step check-html 1 check --index idx --html report.html hit.txt miss.txt
step check-stdin 0 --in miss.txt check --index idx
step check-empty 0 --in /dev/null check --index idx --json
step stats 0 stats --index idx
step stats-json 0 stats --index idx --json
step index-error 2 index --out bad lib/empty.txt
# Documents, archives and a git repository (the readers' libraries under valgrind too).
"$PY" "$HERE/mkingest.py" ing >ing.facts || exit 1
step index-docs 3 index --jobs 2 --auto --out idx-docs ing/books ing/arch/nest.tar \
    ing/arch/texts.tar.gz ing/arch/corrupt.tgz --git ing/repo@v1
{
    grep '^PDF_P3_SPAN=' ing.facts | cut -d= -f2-
    grep '^EPUB_CH2_SPAN=' ing.facts | cut -d= -f2-
    cat ing/repo/src/plain.c
} >docs-hit.txt
step check-docs 1 check --index idx-docs --json docs-hit.txt
step check-docs-text 1 check --index idx-docs docs-hit.txt
# flip DIR OFFSET (negative: from the middle): inverts the bits of one byte of DIR/recite.idx.
flip() {
    "$PY" -c 'import os, sys
p = sys.argv[1]; n = os.path.getsize(p); o = int(sys.argv[2]); o = n // 2 if o < 0 else o
f = open(p, "r+b"); f.seek(o); b = f.read(1); f.seek(o); f.write(bytes([b[0] ^ 0xff]))' \
        "$1/recite.idx" "$2"
}
step verify 0 verify --index idx
cp -r idx corrupt
flip corrupt 100 # the header: refused at open
step check-corrupt 2 check --index corrupt hit.txt
cp -r idx corrupt-body
flip corrupt-body -1 # a section: found by verify (and by the first read of its page)
step verify-corrupt 2 verify --index corrupt-body
# A sharded index: shards built in threads, exchanges between them, the head; checks routed.
step index-shards 0 index --jobs 2 --shards 3 --out idx-sh lib works.jsonl
step check-shards 1 check --index idx-sh --json hit.txt miss.txt
step verify-shards 0 verify --index idx-sh

echo "# $((NTESTS - NFAILED)) of $NTESTS valgrind steps passed, $NFAILED failed"
[ "$NFAILED" -eq 0 ]

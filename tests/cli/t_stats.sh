# shellcheck shell=bash
# tests/cli/t_stats.sh — `recite stats` and indexes that are corrupt, truncated or of another version.
# Sourced by tests/cli/run.sh, which runs the tests in its TESTS order (later tests use the
# index and fixtures earlier ones make); the helpers are in tests/cli/lib.sh.

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
    # Stats that cannot be written are an error, as for the other commands.
    "$BIN" stats --index idx >/dev/full 2>"$ERR"
    RC=$?
    expect_rc 2 "stats to a full device"
    expect_one_error_line
}

# Bad input met in a sweep of every command (session 10): each one error line and exit 2,
# nothing written, no wait.
t_bad_input_edges() {
    # Sizes: NaN (no comparison is true of it: the limit was off) and under a byte.
    local v
    # What strtod takes beyond digits (hexadecimal, exponents, leading blanks) is refused too.
    for v in nan 0.0001 -1 inf 0x10M 1e9 ' 64M'; do
        run index --out sized --mem "$v" lib
        expect_rc 2 "--mem $v"
        expect_one_error_line
        expect_no_index sized
        run index --out sized --max-expand "$v" lib
        expect_rc 2 "--max-expand $v"
        expect_one_error_line
    done
    # Whole numbers: digits only (strtoul skipped blanks and took a sign).
    for v in ' 2' '+2' 2x; do
        run index --out sized --jobs "$v" lib
        expect_rc 2 "--jobs '$v'"
        expect_one_error_line
        expect_no_index sized
        run check --index idx --min-tokens "$v" /dev/null
        expect_rc 2 "--min-tokens '$v'"
        expect_one_error_line
    done
    run check --index idx --min-similarity 5e-1 /dev/null
    expect_rc 2 "--min-similarity 5e-1"
    expect_one_error_line
    # A FIFO as the checked file or as the index file: refused at once, not waited on.
    rm -rf fifo.in fifoidx
    mkfifo fifo.in
    mkdir fifoidx
    mkfifo fifoidx/recite.idx
    run --timeout 20 check --index idx fifo.in
    expect_rc 2 "a FIFO to check"
    expect_one_error_line
    expect_err 'not a regular file'
    run --timeout 20 stats --index fifoidx
    expect_rc 2 "a FIFO as the index file"
    expect_one_error_line
    run --timeout 20 index --out fifoidx lib
    expect_rc 2 "a FIFO where the index would be replaced"
    expect_one_error_line
    run --timeout 20 check --index idx --key fifo.in p/probe.txt
    expect_rc 2 "a FIFO as the key"
    expect_one_error_line
    expect_err 'fifo\.in: cannot read the key: not a regular file'
    # A line break in an argument does not break the one line.
    run check --index idx $'no\nsuch'
    expect_rc 2
    expect_one_error_line
    run check $'--fr\nob'
    expect_rc 2
    expect_one_error_line
    # An unreadable catalogue of the index being replaced fails the run before anything is
    # built: the index stays as it was (it used to be replaced, beside the old catalogue).
    rm -rf catg
    cp -a idx catg
    head -c 8192 /dev/urandom >catg/catalog.sqlite
    cp catg/recite.idx catg.idx.saved
    run index --out catg lib
    expect_rc 2 "a corrupt catalogue"
    expect_one_error_line
    expect_same_file catg/recite.idx catg.idx.saved "the index was replaced"
    expect_no_tmp catg
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
# Opening checks the header, the section table and the page checksums (docs/FORMAT.md); a byte
# of a section is checked when a read first touches its page, and `recite verify` reads them all.
t_corrupt_flipped_byte() {
    run verify --index idx
    expect_rc 0 "verify on the intact index"
    expect_out 'intact'
    corrupt_copy cflip
    flip cflip/recite.idx 100 # the header
    expect_index_rejected cflip 'corrupt index'
    corrupt_copy cflip
    flip cflip/recite.idx $(($(stat -c %s cflip/recite.idx) / 2))
    run verify --index cflip
    expect_rc 2 "verify on cflip"
    expect_one_error_line
    expect_err 'corrupt index'
    run verify
    expect_rc 2 "verify without --index"
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

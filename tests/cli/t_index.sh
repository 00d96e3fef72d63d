# shellcheck shell=bash
# tests/cli/t_index.sh — `recite index`: inputs, notes, errors, targets, modes, code, reproducible and big builds.
# Sourced by tests/cli/run.sh, which runs the tests in its TESTS order (later tests use the
# index and fixtures earlier ones make); the helpers are in tests/cli/lib.sh.

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
# A file or directory met in a walked directory that may not be read is skipped with a note and
# the build goes on (exit 3, as for an unreadable document); named on the command line, it is an
# error (exit 2). Permissions do not bind root: as root, recite runs as nobody (setpriv).
t_index_skips_unreadable() {
    local u
    u=$(mktemp -d "${TMPDIR:-/tmp}/recite-perm.XXXXXX") || {
        bad "mktemp"
        return
    }
    mkdir -p "$u/lib/sub" "$u/lib/locked" "$u/out"
    cp lib/licenses/apache.txt "$u/lib/a.txt"
    cp lib/licenses/apache.txt "$u/lib/secret.txt"
    cp lib/deep/er/artistic.txt "$u/lib/sub/b.txt"
    cp lib/deep/er/artistic.txt "$u/lib/locked/c.txt"
    cp "$BIN" "$u/recite"
    chmod -R a+rX "$u"
    chmod 777 "$u/out"
    chmod 000 "$u/lib/secret.txt"
    chmod 700 "$u/lib/locked"
    as_other() { if [ "$(id -u)" -eq 0 ]; then setpriv --reuid=65534 --regid=65534 --clear-groups -- "$@"; else "$@"; fi; }
    (cd "$u" && as_other ./recite index --out out/idx lib) >"$OUT" 2>"$ERR"
    RC=$?
    expect_rc 3 "unreadable entries in a walked directory"
    expect_err '^recite: skipped: lib/secret\.txt \(Permission denied\)$'
    expect_err '^recite: skipped: lib/locked \(Permission denied\)$'
    expect_out '^2 of them could not be read'
    run stats --index "$u/out/idx" --json
    expect_json "$OUT" 'r["works"] == 2'
    (cd "$u" && as_other ./recite index --out out/idx2 lib/secret.txt) >"$OUT" 2>"$ERR"
    RC=$?
    expect_rc 2 "an unreadable file named on the command line"
    expect_one_error_line
    expect_err 'secret\.txt: cannot read: Permission denied'
    expect_no_index "$u/out/idx2"
    chmod -R u+rwX "$u"
    rm -rf -- "$u"
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
    expect_json "$OUT" 'need(r["code_fingerprints"] > 0 and r["shape_fingerprints"] > 0 and r["fingerprints"] > 0 and r["code_min_tokens"] == 40, "stats: %r" % r)'
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
    # The default decides per file (INTERFACE.md): on a library of prose and code it is --auto,
    # and --prose (or --code) still forces one mode for every file.
    mkdir -p mixedlib/src mixedlib/bin
    cp lib/licenses/apache.txt mixedlib/apache.txt
    cp /usr/include/stdio.h mixedlib/src/stdio.h
    cat >mixedlib/bin/upcase <<'SHEOF'
#!/bin/sh
# a script with no extension: code by its first line
if [ $# -eq 0 ]; then
    echo "usage: upcase FILE..." >&2
    exit 2
fi
for f in "$@"; do
    if [ -f "$f" ]; then
        cat -- "$f" | tr 'a-z' 'A-Z' > "$f.upper" && mv -- "$f.upper" "$f"
    elif [ -d "$f" ]; then
        echo "upcase: $f is a directory, skipped" >&2
    else
        echo "upcase: $f: no such file" >&2; exit 1
    fi
done
SHEOF
    SOURCE_DATE_EPOCH=1 run index --out mode-default mixedlib
    expect_rc 0
    SOURCE_DATE_EPOCH=1 run index --prose --out mode-prose mixedlib
    expect_rc 0
    SOURCE_DATE_EPOCH=1 run index --auto --out mode-auto mixedlib
    expect_rc 0
    expect_same_file mode-default/recite.idx mode-auto/recite.idx "--auto and the default differ"
    run stats --index mode-default --json
    expect_json "$OUT" 'need(r["code_fingerprints"] > 0 and r["fingerprints"] > 0, "the default indexed no code: %r" % r)'
    run stats --index mode-prose --json
    expect_json "$OUT" 'need(r["code_fingerprints"] == 0, "--prose indexed code: %r" % r)'
    # The script without an extension is code by its #! line; the license text is prose.
    run check --index mode-default --json mixedlib/bin/upcase mixedlib/apache.txt
    expect_json "$OUT" 'need(work_entry(r[0], "mixedlib/bin/upcase")["mode"] == "code" and work_entry(r[1], "mixedlib/apache.txt")["mode"] == "prose", "modes: %r" % [[(w["work"], w["mode"]) for w in x["works"]] for x in r])'
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
    SOURCE_DATE_EPOCH=1 run index --prose --out r-def speclib
    expect_rc 0
    # Under strace when it is installed, to see that 16M really makes the sort spill runs.
    if command -v strace >/dev/null; then
        SOURCE_DATE_EPOCH=1 run_traced index --prose --mem 16M --out r-m16 speclib
        expect_grep strace.log 'run-[0-9]+\.tmp'
    else
        echo "# strace is not installed: not verifying that --mem 16M spills runs"
        SOURCE_DATE_EPOCH=1 run index --prose --mem 16M --out r-m16 speclib
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

# shellcheck shell=bash
# tests/cli/t_catalog.sh — `recite catalog` and `recite compact`: the provenance catalogue and deletions.
# Sourced by tests/cli/run.sh, which runs the tests in its TESTS order (later tests use the
# index and fixtures earlier ones make); the helpers are in tests/cli/lib.sh.

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
# A build stopped (killed, disk full) after publishing the new index and before remaking its
# catalogue leaves the previous catalogue beside it; the next catalogue command remakes it first
# (deletions and audit log kept) and says so in one line; once only.
t_catalog_stale_remade() {
    catalog_copy catst
    run catalog delete --index catst --work cat/b --who alice --why takedown
    expect_rc 0
    rm -rf catst.new
    run index --out catst.new cat.jsonl
    expect_rc 0
    cp catst.new/recite.idx catst/recite.idx
    run catalog list --index catst --format json
    expect_rc 0
    expect_one_error_line
    expect_err '^recite: catst: the catalogue was made for an earlier index'
    expect_json "$OUT" 'sorted(w["id"] for w in r) == ["cat/a", "cat/c", "cat/d"]'
    run catalog list --index catst --deleted --format json
    expect_rc 0
    expect "said something on stderr again: $(snippet "$ERR")" test ! -s "$ERR"
    expect_json "$OUT" '{w["id"]: w for w in r}["cat/b"]["deleted_by"] == "alice"'
    run catalog audit --index catst --format json
    expect_json "$OUT" '[(e["who"], e["work"]) for e in r] == [("alice", "cat/b")]'
    # A deletion on a stale catalogue lands in the remade one.
    catalog_copy catst
    cp catst.new/recite.idx catst/recite.idx
    run catalog delete --index catst --work cat/c --who bob --why dmca
    expect_rc 0
    expect_one_error_line
    expect_err 'made for an earlier index'
    run catalog list --index catst --format json
    expect "said something on stderr again: $(snippet "$ERR")" test ! -s "$ERR"
    expect_json "$OUT" 'sorted(w["id"] for w in r) == ["cat/a", "cat/b", "cat/d"]'
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

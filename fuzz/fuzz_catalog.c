/*
 * fuzz_catalog.c — the provenance catalogue (src/catalog) on damaged SQLite files: the input is
 * written as DIR/catalog.sqlite beside a small index, then opened read-only (list with filters,
 * runs, audit log), opened writable (a deletion, the audit log again), and rebuilt
 * (recite_catalog_build carries deletions and the audit log over from the damaged file). Every
 * call must succeed or fail cleanly — RECITE_EFORMAT, RECITE_EIO or RECITE_EVERSION for a damaged
 * file, RECITE_EINVAL for a deletion that cannot be made — with a one-line message; strings
 * handed to callbacks are read whole; a rebuilt catalogue lists every work of the index.
 */
#include "fuzz.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char *ix_dir, *cat_path;
static uint32_t nworks;

static const char works_jsonl[] =
    "{\"id\":\"w1\",\"text\":\"The first work of the catalogue fixture, written for the fuzz "
    "seeds: a few sentences of prose, enough words to make fingerprints of.\",\"title\":\"One\","
    "\"author\":\"A. Writer\",\"license\":\"MIT\",\"source\":\"purchased\",\"runs\":[\"r1\","
    "\"r2\"]}\n"
    "{\"id\":\"w2\",\"text\":\"A second work, from another source and under another license, "
    "also long enough to be indexed on its own merits.\",\"license\":\"GPL-2.0-only\","
    "\"source\":\"shadow-library\",\"url\":\"https://example.org/w2\",\"runs\":[\"r2\"]}\n"
    "{\"id\":\"w3\",\"text\":\"The third work has no metadata at all, only its identifier and "
    "this text, which is neither short nor long.\"}\n";

/* The index and a catalogue of it at dir (with a deletion, so the audit log has an entry when
 * `deleted`). */
static void make_fixture(const char *dir, bool deleted)
{
    char *jsonl;
    FZ_CHECK(asprintf(&jsonl, "%s.jsonl", dir) > 0, "oom");
    FZ_CHECK(fz_write(jsonl, works_jsonl, sizeof works_jsonl - 1) == 0, "cannot write");
    const char *paths[] = {jsonl};
    fz_build(dir, paths, 1, RECITE_MODE_PROSE, 1, NULL, 0);
    recite_error err = {0};
    FZ_CHECK(recite_catalog_build(dir, &err) == RECITE_OK, "%s", err.message);
    if (deleted) {
        recite_catalog *cat;
        FZ_CHECK(recite_catalog_open(&cat, dir, 1, &err) == RECITE_OK, "%s", err.message);
        FZ_CHECK(recite_catalog_delete(cat, "w2", "fuzz", "a seed deletion", &err) == RECITE_OK,
                 "%s", err.message);
        recite_catalog_close(cat);
    }
    free(jsonl);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    char *dir = fz_tmpdir("catalog");
    FZ_CHECK(asprintf(&ix_dir, "%s/idx", dir) > 0 &&
                 asprintf(&cat_path, "%s/idx/catalog.sqlite", dir) > 0,
             "oom");
    make_fixture(ix_dir, false);
    recite_index *idx;
    recite_error err = {0};
    FZ_CHECK(recite_index_open(&idx, ix_dir, &err) == RECITE_OK, "%s", err.message);
    nworks = recite_index_work_count(idx);
    recite_index_close(idx);
    return 0;
}

/* ==== callbacks: read every string whole ==== */

static size_t sink;

static size_t slen(const char *s)
{
    return s ? strlen(s) : 0;
}

static int on_work(const recite_catalog_work *w, void *user)
{
    FZ_CHECK(w->id && w->runs, "a work without id or runs");
    sink += slen(w->id) + slen(w->title) + slen(w->author) + slen(w->license) + slen(w->copyright) +
            slen(w->source) + slen(w->url) + slen(w->content_hash) + slen(w->runs) +
            slen(w->deleted_at) + slen(w->deleted_by) + slen(w->deleted_why);
    ++*(size_t *)user;
    return 0;
}

static int on_run(const char *run, uint64_t works, void *user)
{
    (void)user;
    sink += slen(run) + works;
    return 0;
}

static int on_audit(const char *at, const char *who, const char *action, const char *work_id,
                    const char *why, void *user)
{
    (void)user;
    sink += slen(at) + slen(who) + slen(action) + slen(work_id) + slen(why);
    return 0;
}

static void check_rc(int rc, const recite_error *err, const char *what, bool allow_einval)
{
    if (rc == RECITE_OK)
        return;
    fz_check_error(rc, err, what);
    FZ_CHECK(rc == RECITE_EFORMAT || rc == RECITE_EIO || rc == RECITE_EVERSION ||
                 (allow_einval && rc == RECITE_EINVAL),
             "%s: status %d: %s", what, rc, err->message);
}

static void remove_sidecars(void)
{
    static const char *const ext[] = {"-journal", "-wal", "-shm"};
    for (size_t i = 0; i < 3; i++) {
        char *p;
        FZ_CHECK(asprintf(&p, "%s%s", cat_path, ext[i]) > 0, "oom");
        unlink(p);
        free(p);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    remove_sidecars();
    FZ_CHECK(fz_write(cat_path, data, size) == 0, "cannot write %s", cat_path);
    recite_error err = {0};
    recite_catalog *cat = NULL;
    size_t listed = 0;

    int rc = recite_catalog_open(&cat, ix_dir, 0, &err);
    check_rc(rc, &err, "open", false);
    if (rc == RECITE_OK) {
        recite_catalog_filter all = {NULL, NULL, NULL, 1}, some = {"purchased", "MIT", "r1", 0};
        check_rc(recite_catalog_list(cat, &all, on_work, &listed, &err), &err, "list", false);
        check_rc(recite_catalog_list(cat, &some, on_work, &listed, &err), &err, "list", false);
        check_rc(recite_catalog_runs(cat, on_run, NULL, &err), &err, "runs", false);
        check_rc(recite_catalog_audit(cat, on_audit, NULL, &err), &err, "audit", false);
        recite_catalog_close(cat);
        cat = NULL;
    }
    rc = recite_catalog_open(&cat, ix_dir, 1, &err);
    check_rc(rc, &err, "open writable", false);
    if (rc == RECITE_OK) {
        check_rc(recite_catalog_delete(cat, "w1", "fuzzer", "why not", &err), &err, "delete", true);
        check_rc(recite_catalog_audit(cat, on_audit, NULL, &err), &err, "audit", false);
        recite_catalog_close(cat);
        cat = NULL;
    }

    /* A rebuild reads the damaged file for its deletions and audit log. */
    rc = recite_catalog_build(ix_dir, &err);
    check_rc(rc, &err, "build", false);
    if (rc == RECITE_OK) {
        FZ_CHECK(recite_catalog_open(&cat, ix_dir, 0, &err) == RECITE_OK,
                 "a rebuilt catalogue does not open: %s", err.message);
        recite_catalog_filter all = {NULL, NULL, NULL, 1};
        size_t n = 0;
        FZ_CHECK(recite_catalog_list(cat, &all, on_work, &n, &err) == RECITE_OK, "%s", err.message);
        FZ_CHECK(n == nworks, "the rebuilt catalogue lists %zu works of %u", n, nworks);
        recite_catalog_close(cat);
    }
    if (getenv("FUZZ_VERBOSE"))
        fprintf(stderr, "%zu listed; build: %s\n", listed, rc == RECITE_OK ? "ok" : err.message);
    return 0;
}

/* ==== seeds ==== */

static int seed_file(const char *out, const char *name, const char *path)
{
    size_t n;
    uint8_t *b = fz_read(path, &n);
    FZ_CHECK(b, "cannot read %s", path);
    int rc = fz_seed(out, name, b, n);
    free(b);
    return rc;
}

static void sql(const char *path, const char *stmt)
{
    sqlite3 *db;
    FZ_CHECK(sqlite3_open(path, &db) == SQLITE_OK, "cannot open %s", path);
    FZ_CHECK(sqlite3_exec(db, stmt, NULL, NULL, NULL) == SQLITE_OK, "%s: %s", stmt,
             sqlite3_errmsg(db));
    sqlite3_close(db);
}

int fuzz_seeds(const char *out)
{
    char *dir = fz_tmpdir("catalog-seeds"), *a, *b, *ca, *cb, *other;
    FZ_CHECK(asprintf(&a, "%s/plain", dir) > 0 && asprintf(&b, "%s/deleted", dir) > 0 &&
                 asprintf(&ca, "%s/catalog.sqlite", a) > 0 &&
                 asprintf(&cb, "%s/catalog.sqlite", b) > 0 &&
                 asprintf(&other, "%s/other.sqlite", dir) > 0,
             "oom");
    make_fixture(a, false);
    make_fixture(b, true);
    int rc = seed_file(out, "seed-catalogue", ca);
    rc |= seed_file(out, "seed-catalogue-deleted", cb);
    sql(other, "CREATE TABLE t(x); INSERT INTO t VALUES (1);");
    rc |= seed_file(out, "seed-other-database", other);
    sql(ca, "UPDATE meta SET value = '2' WHERE key = 'schema_version';");
    rc |= seed_file(out, "seed-schema-2", ca);
    rc |= fz_seed(out, "seed-empty", "", 0);
    rc |= fz_seed(out, "seed-header-only", "SQLite format 3", 16);
    free(a);
    free(b);
    free(ca);
    free(cb);
    free(other);
    return rc;
}

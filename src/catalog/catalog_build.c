/*
 * catalog_build.c — (re)creates DIR/catalog.sqlite from the index at DIR: one row per work
 * (metadata, content hash, size, cluster), the training runs named in the JSONL "runs" field,
 * and whatever deletions and audit log the previous catalogue held. Written to a temporary file
 * beside it, synced and renamed over it, so readers see the old catalogue or the new one.
 */
#include "rc_catalog.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

/* ==== schema (version 1; docs/CATALOG.md) ====
 *
 * works: one row per work of the index; `num` is its number in the index (index order),
 * `content_hash` the XXH3-128 of its text (32 hex digits, canonical big-endian order, as
 * xxh128sum prints it; computed by the index builder; NULL in a text-free index), `cluster` the
 * index's cluster of identical texts, `source` one of purchased, scanned, licensed, public-domain,
 * shadow-library, unknown. deleted_* stay NULL until the work is deleted, then never change (a
 * trigger refuses).
 *
 * runs: the training runs named by any work; work_runs: which works each run used.
 *
 * audit: the append-only log (triggers refuse UPDATE and DELETE); `work` is the work id as
 * text, so entries outlive the work's row.
 *
 * meta: schema_version, index_created_unix, index_works, index_checksum (the index file's
 * header checksum, hex: recite_catalog_current), recite_version. The file carries
 * PRAGMA application_id 0x52435443 ("RCTC") and user_version 1. */
static const char schema_sql[] =
    "PRAGMA application_id = 1380144195;" /* 0x52435443 */
    "PRAGMA user_version = 1;"
    "CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);"
    "CREATE TABLE works(num INTEGER PRIMARY KEY, id TEXT UNIQUE NOT NULL, title TEXT,"
    " author TEXT, license TEXT, copyright TEXT, source TEXT NOT NULL DEFAULT 'unknown',"
    " url TEXT, content_hash TEXT, bytes INTEGER, tokens INTEGER, cluster INTEGER,"
    " deleted_at TEXT, deleted_by TEXT, deleted_why TEXT);"
    "CREATE TABLE runs(name TEXT PRIMARY KEY);"
    "CREATE TABLE work_runs(work INTEGER NOT NULL REFERENCES works(num),"
    " run TEXT NOT NULL REFERENCES runs(name), PRIMARY KEY(work, run));"
    "CREATE INDEX work_runs_by_run ON work_runs(run);"
    "CREATE TABLE audit(seq INTEGER PRIMARY KEY AUTOINCREMENT, at TEXT NOT NULL,"
    " who TEXT NOT NULL, action TEXT NOT NULL, work TEXT NOT NULL, why TEXT);"
    "CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit"
    " BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;"
    "CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit"
    " BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;"
    "CREATE TRIGGER works_deletion_is_final BEFORE UPDATE OF deleted_at, deleted_by, deleted_why"
    " ON works WHEN OLD.deleted_at IS NOT NULL"
    " BEGIN SELECT RAISE(ABORT, 'a deletion cannot be changed or undone'); END;"
    "CREATE TRIGGER works_no_delete BEFORE DELETE ON works"
    " BEGIN SELECT RAISE(ABORT, 'works are marked deleted, not removed'); END;";

#define TMP_PREFIX "." RC_CATALOG_FILE ".tmp-"
/* Text is hashed in pieces of this size, so a 4 GiB work does not need 4 GiB of memory. */
#define MAX_RUN_BYTES 256

typedef struct builder {
    const char *dir;
    char *path, *tmp_path;
    recite_index *idx;
    recite_catalog out;  /* the new database (at tmp_path; messages name path) */
    recite_catalog *old; /* the previous catalogue, or NULL */
    mode_t mode;
    sqlite3_stmt *ins_work, *ins_run, *ins_work_run;
} builder;

/* ==== temporary files ==== */

static void remove_file(const char *path)
{
    unlink(path);
}

static int make_tmp(builder *b, recite_error *err)
{
    if (asprintf(&b->tmp_path, "%s/" TMP_PREFIX "%ld-XXXXXX", b->dir, (long)getpid()) < 0) {
        b->tmp_path = NULL;
        return rc_error_set(err, RECITE_ENOMEM, "out of memory");
    }
    int fd = mkstemp(b->tmp_path);
    if (fd < 0) {
        int e = errno;
        free(b->tmp_path);
        b->tmp_path = NULL;
        return rc_error_errno(err, RECITE_EIO, e, "%s: cannot create a temporary catalogue",
                              b->dir);
    }
    int r = fchmod(fd, b->mode);
    close(fd);
    if (r != 0)
        return rc_error_errno(err, RECITE_EIO, errno, "%s: cannot set its mode", b->tmp_path);
    return RECITE_OK;
}

/* ==== works ==== */

static int step_done(builder *b, sqlite3_stmt *st, recite_error *err)
{
    int src = sqlite3_step(st);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    if (src == SQLITE_DONE)
        return RECITE_OK;
    if ((src & 0xff) == SQLITE_CONSTRAINT)
        return rc_error_set(err, RECITE_EFORMAT, "%s: the index breaks the catalogue's rules (%s)",
                            b->dir, sqlite3_errmsg(b->out.db));
    return rc_catalog_db_error(b->out.db, src, b->path, err);
}

/* One run name: printable, no comma (the API lists a work's runs comma-separated). */
static int add_run(builder *b, sqlite3_int64 num, const char *id, json_t *name, recite_error *err)
{
    if (!json_is_string(name))
        return rc_error_set(err, RECITE_EFORMAT,
                            "%s: work '%.200s': \"runs\" must be a string or an array of strings",
                            b->dir, id);
    const char *s = json_string_value(name);
    size_t len = json_string_length(name);
    bool ok = len > 0 && len <= MAX_RUN_BYTES && strlen(s) == len;
    for (size_t i = 0; ok && i < len; i++)
        ok = (unsigned char)s[i] >= 0x20 && s[i] != 0x7f && s[i] != ',';
    if (!ok)
        return rc_error_set(err, RECITE_EFORMAT,
                            "%s: work '%.200s': run name \"%.64s\" must be 1 to %d bytes without "
                            "commas or control characters",
                            b->dir, id, s, MAX_RUN_BYTES);
    sqlite3_bind_text(b->ins_run, 1, s, (int)len, SQLITE_STATIC);
    int rc = step_done(b, b->ins_run, err);
    if (rc != RECITE_OK)
        return rc;
    sqlite3_bind_int64(b->ins_work_run, 1, num);
    sqlite3_bind_text(b->ins_work_run, 2, s, (int)len, SQLITE_STATIC);
    return step_done(b, b->ins_work_run, err);
}

/* The JSONL "runs" field, kept by the index in the work's metadata: a string or an array. */
static int add_runs(builder *b, sqlite3_int64 num, const recite_work_info *info, recite_error *err)
{
    if (!info->metadata_json)
        return RECITE_OK;
    json_error_t jerr;
    json_t *root = json_loads(info->metadata_json, 0, &jerr);
    if (!root &&
        rc_json_refused_for_memory(&jerr, info->metadata_json, strlen(info->metadata_json), false))
        return rc_error_set(err, RECITE_ENOMEM, "out of memory");
    if (!json_is_object(root)) {
        json_decref(root);
        return rc_error_set(err, RECITE_EFORMAT, "%s: corrupt index (metadata of work '%.200s')",
                            b->dir, info->id);
    }
    int rc = RECITE_OK;
    json_t *runs = json_object_get(root, "runs");
    if (json_is_array(runs)) {
        for (size_t i = 0; rc == RECITE_OK && i < json_array_size(runs); i++)
            rc = add_run(b, num, info->id, json_array_get(runs, i), err);
    } else if (runs && !json_is_null(runs)) {
        rc = add_run(b, num, info->id, runs, err);
    }
    json_decref(root);
    return rc;
}

static int bind_opt(sqlite3_stmt *st, int i, const char *s)
{
    return s ? sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC) : sqlite3_bind_null(st, i);
}

static int add_works(builder *b, recite_error *err)
{
    int rc = RECITE_OK;
    uint32_t n = recite_index_work_count(b->idx);
    for (uint32_t w = 0; w < n && rc == RECITE_OK; w++) {
        recite_work_info info;
        if (recite_index_work(&info, b->idx, w) != RECITE_OK || !info.id)
            return rc_error_set(err, RECITE_EFORMAT, "%s: corrupt index (work %u)", b->dir, w);

        sqlite3_stmt *st = b->ins_work;
        sqlite3_bind_int64(st, 1, (sqlite3_int64)w);
        sqlite3_bind_text(st, 2, info.id, -1, SQLITE_STATIC);
        bind_opt(st, 3, info.title);
        bind_opt(st, 4, info.author);
        bind_opt(st, 5, info.license);
        bind_opt(st, 6, info.copyright);
        sqlite3_bind_text(st, 7, info.source ? info.source : "unknown", -1, SQLITE_STATIC);
        bind_opt(st, 8, info.url);
        bind_opt(st, 9, info.content_hash); /* NULL in a text-free index */
        sqlite3_bind_int64(st, 10, (sqlite3_int64)info.bytes);
        sqlite3_bind_int64(st, 11, (sqlite3_int64)info.tokens);
        sqlite3_bind_int64(st, 12, (sqlite3_int64)info.cluster);
        rc = step_done(b, st, err);
        if (rc == RECITE_OK)
            rc = add_runs(b, (sqlite3_int64)w, &info, err);
    }
    return rc;
}

static int add_meta(builder *b, recite_error *err)
{
    recite_index_stats s;
    recite_index_get_stats(&s, b->idx);
    char created[32], works[32], schema[16], sum[24];
    snprintf(created, sizeof created, "%llu", (unsigned long long)s.created_unix);
    snprintf(sum, sizeof sum, "%016llx", (unsigned long long)rc_index_header_sum(b->idx));
    snprintf(works, sizeof works, "%llu", (unsigned long long)s.works);
    snprintf(schema, sizeof schema, "%d", RC_CATALOG_SCHEMA);
    const char *kv[][2] = {{"schema_version", schema},
                           {"index_created_unix", created},
                           {"index_works", works},
                           {"index_checksum", sum},
                           {"recite_version", recite_version()}};
    sqlite3_stmt *st;
    int rc = rc_catalog_prepare(&b->out, "INSERT INTO meta(key, value) VALUES (?, ?)", &st, err);
    for (size_t i = 0; rc == RECITE_OK && i < RC_ARRAY_LEN(kv); i++) {
        sqlite3_bind_text(st, 1, kv[i][0], -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, kv[i][1], -1, SQLITE_STATIC);
        rc = step_done(b, st, err);
    }
    sqlite3_finalize(st);
    return rc;
}

/* ==== carrying over the previous catalogue ==== */

/* Copies rows of `from` (old catalogue) into `to` (new), column for column. */
static int copy_rows(builder *b, const char *from_sql, const char *to_sql, recite_error *err)
{
    sqlite3_stmt *from = NULL, *to = NULL;
    int rc = rc_catalog_prepare(b->old, from_sql, &from, err);
    if (rc == RECITE_OK)
        rc = rc_catalog_prepare(&b->out, to_sql, &to, err);
    int src = SQLITE_DONE;
    while (rc == RECITE_OK && (src = sqlite3_step(from)) == SQLITE_ROW) {
        int bsrc = SQLITE_OK; /* a value that cannot be bound (out of memory) would be NULL */
        for (int c = 0; c < sqlite3_column_count(from) && bsrc == SQLITE_OK; c++)
            bsrc = sqlite3_bind_value(to, c + 1, sqlite3_column_value(from, c));
        rc = bsrc == SQLITE_OK ? step_done(b, to, err)
                               : rc_catalog_db_error(b->out.db, bsrc, b->out.path, err);
    }
    if (rc == RECITE_OK && src != SQLITE_DONE)
        rc = rc_catalog_db_error(b->old->db, src, b->old->path, err);
    sqlite3_finalize(from);
    sqlite3_finalize(to);
    return rc;
}

/* Deletions of works still in the index, and the whole audit log (entries of works gone from
 * the index included: the log is history). The old catalogue stays write-locked from here
 * until the new one has replaced it, so that no deletion can slip in between. */
static int carry_over(builder *b, recite_error *err)
{
    int rc = rc_catalog_begin_write(b->old, err);
    if (rc == RECITE_OK)
        rc = copy_rows(b,
                       "SELECT id, deleted_at, deleted_by, deleted_why FROM works "
                       "WHERE deleted_at IS NOT NULL ORDER BY num",
                       "UPDATE works SET deleted_at = ?2, deleted_by = ?3, deleted_why = ?4 "
                       "WHERE id = ?1",
                       err);
    if (rc == RECITE_OK)
        rc = copy_rows(b, "SELECT seq, at, who, action, work, why FROM audit ORDER BY seq",
                       "INSERT INTO audit(seq, at, who, action, work, why) "
                       "VALUES (?, ?, ?, ?, ?, ?)",
                       err);
    return rc;
}

/* ==== the build ==== */

static int write_catalog(builder *b, recite_error *err)
{
    int src = sqlite3_open_v2(b->tmp_path, &b->out.db, SQLITE_OPEN_READWRITE, NULL);
    if (src != SQLITE_OK)
        return rc_catalog_db_error(b->out.db, src, b->path, err);
    sqlite3_extended_result_codes(b->out.db, 1);
    /* A private file until the rename: no journal on disk, one fsync at the end. */
    int rc = rc_catalog_exec(&b->out,
                             "PRAGMA journal_mode = MEMORY; PRAGMA synchronous = OFF;"
                             "PRAGMA foreign_keys = ON; BEGIN;",
                             err);
    if (rc == RECITE_OK)
        rc = rc_catalog_exec(&b->out, schema_sql, err);
    if (rc == RECITE_OK)
        rc = rc_catalog_prepare(&b->out,
                                "INSERT INTO works(num, id, title, author, license, copyright, "
                                "source, url, content_hash, bytes, tokens, cluster) "
                                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                                &b->ins_work, err);
    if (rc == RECITE_OK)
        rc = rc_catalog_prepare(&b->out, "INSERT OR IGNORE INTO runs(name) VALUES (?)", &b->ins_run,
                                err);
    if (rc == RECITE_OK)
        rc = rc_catalog_prepare(&b->out, "INSERT OR IGNORE INTO work_runs(work, run) VALUES (?, ?)",
                                &b->ins_work_run, err);
    if (rc == RECITE_OK)
        rc = add_meta(b, err);
    if (rc == RECITE_OK)
        rc = add_works(b, err);
    if (rc == RECITE_OK && b->old)
        rc = carry_over(b, err);
    sqlite3_finalize(b->ins_work);
    sqlite3_finalize(b->ins_run);
    sqlite3_finalize(b->ins_work_run);
    b->ins_work = b->ins_run = b->ins_work_run = NULL;
    if (rc == RECITE_OK)
        rc = rc_catalog_exec(&b->out, "COMMIT", err);
    src = sqlite3_close(b->out.db);
    b->out.db = NULL;
    if (rc == RECITE_OK && src != SQLITE_OK)
        rc = rc_error_set(err, RECITE_EIO, "%s: cannot close the new catalogue (%s)", b->path,
                          sqlite3_errstr(src));
    return rc;
}

static int publish(builder *b, recite_error *err)
{
    int rc = rc_publish_file(b->tmp_path, b->path, err);
    if (access(b->tmp_path, F_OK) != 0) { /* renamed: nothing left to remove */
        free(b->tmp_path);
        b->tmp_path = NULL;
    }
    return rc;
}

int recite_catalog_build(const char *index_dir, recite_error *err)
{
    builder b = {0};
    b.dir = index_dir;
    b.mode = 0644;
    int rc = rc_catalog_path(index_dir, &b.path, err);
    if (rc != RECITE_OK)
        return rc;
    b.out.path = b.path;
    b.out.writable = 1;
    rc = recite_index_open(&b.idx, index_dir, err);
    if (rc != RECITE_OK)
        goto done;
    rc_remove_stale(index_dir, TMP_PREFIX, remove_file); /* of catalogue builds that died */
    /* A previous catalogue is read first, and one we cannot read is not replaced: its audit
     * log must survive the rebuild. */
    struct stat st;
    if (lstat(b.path, &st) == 0) {
        rc = recite_catalog_open(&b.old, index_dir, 1, err);
        if (rc != RECITE_OK)
            goto done;
        b.mode = st.st_mode & 07777;
    } else if (errno != ENOENT) {
        rc = rc_error_errno(err, RECITE_EIO, errno, "%s: cannot access", b.path);
        goto done;
    }
    rc = make_tmp(&b, err);
    if (rc == RECITE_OK)
        rc = write_catalog(&b, err);
    if (rc == RECITE_OK)
        rc = publish(&b, err);
done:
    if (b.out.db) {
        rc_catalog_rollback(&b.out);
        sqlite3_close_v2(b.out.db);
    }
    if (b.tmp_path) {
        unlink(b.tmp_path);
        free(b.tmp_path);
    }
    recite_catalog_close(b.old); /* rolls back: releases the lock after the rename */
    recite_index_close(b.idx);
    free(b.path);
    return rc;
}

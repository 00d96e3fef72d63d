/*
 * catalog.c — the provenance catalogue (DIR/catalog.sqlite), the mutable part of an index
 * directory: opening and validating it, listing works and training runs, marking a work deleted
 * with an append-only audit entry, and reading the audit log. catalog_build.c creates it; the
 * schema is documented there and in docs/CATALOG.md. Every change is one SQLite transaction.
 */
#include "rc_catalog.h"

#include <errno.h>
#include <stdio.h>
#include <sys/stat.h>
#include <time.h>

/* who and why of a deletion are meant for people: a line or a paragraph, not a document. */
#define MAX_NOTE_BYTES 4096

typedef RC_VEC(char) charbuf;

static const char *const source_kinds[] = {"purchased",     "scanned",        "licensed",
                                           "public-domain", "shadow-library", "unknown"};

/* ==== errors ==== */

int rc_catalog_path(const char *index_dir, char **out, recite_error *err)
{
    *out = NULL;
    if (!index_dir || !*index_dir)
        return rc_error_set(err, RECITE_EINVAL, "no index directory given");
    size_t n = strlen(index_dir);
    while (n > 1 && index_dir[n - 1] == '/')
        n--;
    if (asprintf(out, "%.*s/%s", (int)n, index_dir, RC_CATALOG_FILE) < 0) {
        *out = NULL;
        return rc_error_set(err, RECITE_ENOMEM, "out of memory");
    }
    return RECITE_OK;
}

int rc_catalog_db_error(sqlite3 *db, int src, const char *path, recite_error *err)
{
    const char *msg = db ? sqlite3_errmsg(db) : sqlite3_errstr(src);
    switch (src & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED: return rc_error_set(err, RECITE_EIO, "%s: database is locked", path);
    case SQLITE_NOTADB:
        return rc_error_set(err, RECITE_EFORMAT, "%s: not a recite catalogue (%s)", path, msg);
    case SQLITE_CORRUPT:
        return rc_error_set(err, RECITE_EFORMAT, "%s: corrupt catalogue (%s)", path, msg);
    case SQLITE_NOMEM: return rc_error_set(err, RECITE_ENOMEM, "out of memory");
    default: return rc_error_set(err, RECITE_EIO, "%s: %s", path, msg);
    }
}

int rc_catalog_exec(recite_catalog *cat, const char *sql, recite_error *err)
{
    int src = sqlite3_exec(cat->db, sql, NULL, NULL, NULL);
    return src == SQLITE_OK ? RECITE_OK : rc_catalog_db_error(cat->db, src, cat->path, err);
}

int rc_catalog_prepare(recite_catalog *cat, const char *sql, sqlite3_stmt **out, recite_error *err)
{
    *out = NULL;
    int src = sqlite3_prepare_v2(cat->db, sql, -1, out, NULL);
    if (src == SQLITE_OK)
        return RECITE_OK;
    /* Our statements are fixed: a plain SQL error means the tables are not ours. */
    if (src == SQLITE_ERROR)
        return rc_error_set(err, RECITE_EFORMAT, "%s: not a recite catalogue (%s)", cat->path,
                            sqlite3_errmsg(cat->db));
    return rc_catalog_db_error(cat->db, src, cat->path, err);
}

void rc_catalog_rollback(recite_catalog *cat)
{
    if (cat->db && !sqlite3_get_autocommit(cat->db))
        sqlite3_exec(cat->db, "ROLLBACK", NULL, NULL, NULL);
}

/* ==== opening ==== */

/* Opens the SQLite file at path, noting which file (device, inode) the connection holds: the
 * path is looked at before and after the open, and the open is retried if a rebuild replaced
 * the file in between. */
static int open_file(recite_catalog *cat, recite_error *err)
{
    for (int attempt = 0; attempt < 4; attempt++) {
        struct stat before, after;
        if (stat(cat->path, &before) != 0) {
            if (errno == ENOENT)
                return rc_error_set(err, RECITE_EIO,
                                    "%s: no catalogue here (recite index creates it)", cat->path);
            return rc_error_errno(err, RECITE_EIO, errno, "%s: cannot access", cat->path);
        }
        if (!S_ISREG(before.st_mode))
            return rc_error_set(err, RECITE_EFORMAT, "%s: not a recite catalogue (not a file)",
                                cat->path);
        if (before.st_size == 0) /* SQLite would take it for an empty database */
            return rc_error_set(err, RECITE_EFORMAT, "%s: not a recite catalogue (empty file)",
                                cat->path);
        sqlite3 *db = NULL;
        int flags = cat->writable ? SQLITE_OPEN_READWRITE : SQLITE_OPEN_READONLY;
        int src = sqlite3_open_v2(cat->path, &db, flags, NULL);
        if (src != SQLITE_OK) {
            int rc = rc_catalog_db_error(db, src, cat->path, err);
            sqlite3_close_v2(db);
            return rc;
        }
        if (stat(cat->path, &after) == 0 && after.st_dev == before.st_dev &&
            after.st_ino == before.st_ino) {
            sqlite3_busy_timeout(db, RC_CATALOG_BUSY_MS);
            sqlite3_extended_result_codes(db, 1);
            cat->db = db;
            cat->dev = before.st_dev;
            cat->ino = before.st_ino;
            return RECITE_OK;
        }
        sqlite3_close_v2(db);
    }
    return rc_error_set(err, RECITE_EIO, "%s: replaced repeatedly while opening; try again",
                        cat->path);
}

/* The file must be a recite catalogue of a schema version this code reads. */
static int check_schema(recite_catalog *cat, recite_error *err)
{
    sqlite3_stmt *st = NULL;
    int rc = rc_catalog_prepare(cat, "PRAGMA application_id", &st, err);
    if (rc != RECITE_OK)
        return rc;
    int src = sqlite3_step(st);
    long long app = src == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    sqlite3_finalize(st);
    if (src != SQLITE_ROW)
        return rc_catalog_db_error(cat->db, src, cat->path, err);
    if (app != RC_CATALOG_APP_ID)
        return rc_error_set(err, RECITE_EFORMAT,
                            "%s: not a recite catalogue (an SQLite file of another application)",
                            cat->path);
    rc = rc_catalog_prepare(cat, "SELECT value FROM meta WHERE key = 'schema_version'", &st, err);
    if (rc != RECITE_OK)
        return rc;
    src = sqlite3_step(st);
    long long version = src == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    sqlite3_finalize(st);
    if (src != SQLITE_ROW && src != SQLITE_DONE)
        return rc_catalog_db_error(cat->db, src, cat->path, err);
    if (version > RC_CATALOG_SCHEMA)
        return rc_error_set(err, RECITE_EVERSION,
                            "%s: catalogue schema version %lld; this recite reads version %d",
                            cat->path, version, RC_CATALOG_SCHEMA);
    if (version != RC_CATALOG_SCHEMA)
        return rc_error_set(err, RECITE_EFORMAT, "%s: not a recite catalogue (no schema version)",
                            cat->path);
    if (cat->writable)
        return rc_catalog_exec(cat, "PRAGMA foreign_keys = ON", err);
    return RECITE_OK;
}

int recite_catalog_open(recite_catalog **out, const char *index_dir, int writable,
                        recite_error *err)
{
    *out = NULL;
    recite_catalog *cat = calloc(1, sizeof *cat);
    if (!cat)
        return rc_error_set(err, RECITE_ENOMEM, "out of memory");
    cat->writable = writable != 0;
    int rc = rc_catalog_path(index_dir, &cat->path, err);
    if (rc == RECITE_OK)
        rc = open_file(cat, err);
    if (rc == RECITE_OK)
        rc = check_schema(cat, err);
    if (rc != RECITE_OK) {
        recite_catalog_close(cat);
        return rc;
    }
    *out = cat;
    return RECITE_OK;
}

int recite_catalog_current(recite_catalog *cat, const char *index_dir, int *current,
                           recite_error *err)
{
    *current = 1;
    sqlite3_stmt *st = NULL;
    int rc =
        rc_catalog_prepare(cat, "SELECT value FROM meta WHERE key = 'index_checksum'", &st, err);
    if (rc != RECITE_OK)
        return rc;
    char made_for[24] = "";
    int src = sqlite3_step(st);
    if (src == SQLITE_ROW && sqlite3_column_text(st, 0))
        snprintf(made_for, sizeof made_for, "%s", (const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    if (src != SQLITE_ROW && src != SQLITE_DONE)
        return rc_catalog_db_error(cat->db, src, cat->path, err);
    if (!made_for[0]) /* made before catalogues recorded their index */
        return RECITE_OK;
    recite_index *idx;
    if ((rc = recite_index_open(&idx, index_dir, err)) != RECITE_OK)
        return rc;
    char now[24];
    snprintf(now, sizeof now, "%016llx", (unsigned long long)rc_index_header_sum(idx));
    recite_index_close(idx);
    *current = strcmp(now, made_for) == 0;
    return RECITE_OK;
}

void recite_catalog_close(recite_catalog *cat)
{
    if (!cat)
        return;
    rc_catalog_rollback(cat);
    sqlite3_close_v2(cat->db);
    free(cat->path);
    free(cat);
}

int rc_catalog_begin_write(recite_catalog *cat, recite_error *err)
{
    if (!cat->writable)
        return rc_error_set(err, RECITE_EINVAL, "%s: catalogue opened read-only", cat->path);
    for (int attempt = 0; attempt < 4; attempt++) {
        int rc = rc_catalog_exec(cat, "BEGIN IMMEDIATE", err);
        if (rc != RECITE_OK)
            return rc;
        struct stat st;
        if (stat(cat->path, &st) == 0 && st.st_dev == cat->dev && st.st_ino == cat->ino)
            return RECITE_OK;
        /* A rebuild renamed a new catalogue over ours (carrying over what it had): write to
         * the new one, or the change would vanish with the unlinked file. */
        rc_catalog_rollback(cat);
        sqlite3 *old = cat->db;
        cat->db = NULL;
        rc = open_file(cat, err);
        if (rc == RECITE_OK) {
            sqlite3_close_v2(old);
            rc = check_schema(cat, err);
        } else {
            cat->db = old;
        }
        if (rc != RECITE_OK)
            return rc;
    }
    return rc_error_set(err, RECITE_EIO, "%s: replaced repeatedly while writing; try again",
                        cat->path);
}

/* ==== listing ==== */

static const char *col_text(sqlite3_stmt *st, int col)
{
    return (const char *)sqlite3_column_text(st, col);
}

static uint64_t col_u64(sqlite3_stmt *st, int col)
{
    sqlite3_int64 v = sqlite3_column_int64(st, col);
    return v < 0 ? 0 : (uint64_t)v;
}

static int bind_opt(sqlite3_stmt *st, int i, const char *s)
{
    return s ? sqlite3_bind_text(st, i, s, -1, SQLITE_TRANSIENT) : sqlite3_bind_null(st, i);
}

/* The runs of one work, comma-separated, in name order, into *buf. */
static int work_runs(recite_catalog *cat, sqlite3_stmt *st, sqlite3_int64 num, charbuf *buf,
                     recite_error *err)
{
    buf->n = 0;
    sqlite3_reset(st);
    sqlite3_bind_int64(st, 1, num);
    int src;
    while ((src = sqlite3_step(st)) == SQLITE_ROW) {
        const char *run = col_text(st, 0);
        size_t len = (size_t)sqlite3_column_bytes(st, 0), need;
        if (rc_add_overflows(buf->n, len + 2, &need) || RC_VEC_RESERVE(*buf, need) != RECITE_OK)
            return rc_error_set(err, RECITE_ENOMEM, "out of memory");
        if (buf->n)
            buf->v[buf->n++] = ',';
        if (len)
            memcpy(buf->v + buf->n, run, len);
        buf->n += len;
    }
    if (src != SQLITE_DONE)
        return rc_catalog_db_error(cat->db, src, cat->path, err);
    if (RC_VEC_RESERVE(*buf, buf->n + 1) != RECITE_OK)
        return rc_error_set(err, RECITE_ENOMEM, "out of memory");
    buf->v[buf->n] = 0;
    return RECITE_OK;
}

int recite_catalog_list(recite_catalog *cat, const recite_catalog_filter *filter,
                        int (*fn)(const recite_catalog_work *w, void *user), void *user,
                        recite_error *err)
{
    if (!cat || !fn)
        return rc_error_set(err, RECITE_EINVAL, "recite_catalog_list: no catalogue or callback");
    static const recite_catalog_filter any = {NULL, NULL, NULL, 0};
    if (!filter)
        filter = &any;
    if (filter->source) {
        bool known = false;
        for (size_t i = 0; i < RC_ARRAY_LEN(source_kinds); i++)
            known |= strcmp(filter->source, source_kinds[i]) == 0;
        if (!known)
            return rc_error_set(err, RECITE_EINVAL,
                                "unknown source '%.64s' (one of purchased, scanned, licensed, "
                                "public-domain, shadow-library, unknown)",
                                filter->source);
    }
    /* Licenses compare without case: SPDX identifiers are case-insensitive. */
    static const char sql[] =
        "SELECT num, id, title, author, license, copyright, source, url, content_hash, bytes, "
        "tokens, cluster, deleted_at, deleted_by, deleted_why FROM works w "
        "WHERE (?1 IS NULL OR source = ?1) AND (?2 IS NULL OR license = ?2 COLLATE NOCASE) "
        "AND (?3 IS NULL OR EXISTS (SELECT 1 FROM work_runs r WHERE r.work = w.num AND "
        "r.run = ?3)) AND (?4 OR deleted_at IS NULL) ORDER BY num";
    sqlite3_stmt *st = NULL, *runs = NULL;
    charbuf buf = {0};
    int rc = rc_catalog_prepare(cat, sql, &st, err);
    if (rc == RECITE_OK)
        rc = rc_catalog_prepare(cat, "SELECT run FROM work_runs WHERE work = ? ORDER BY run", &runs,
                                err);
    if (rc != RECITE_OK)
        goto done;
    if (bind_opt(st, 1, filter->source) != SQLITE_OK ||
        bind_opt(st, 2, filter->license) != SQLITE_OK ||
        bind_opt(st, 3, filter->run) != SQLITE_OK ||
        sqlite3_bind_int(st, 4, filter->include_deleted != 0) != SQLITE_OK) {
        rc = rc_catalog_db_error(cat->db, sqlite3_errcode(cat->db), cat->path, err);
        goto done;
    }
    int src;
    while ((src = sqlite3_step(st)) == SQLITE_ROW) {
        rc = work_runs(cat, runs, sqlite3_column_int64(st, 0), &buf, err);
        if (rc != RECITE_OK)
            goto done;
        recite_catalog_work w = {
            .id = col_text(st, 1),
            .title = col_text(st, 2),
            .author = col_text(st, 3),
            .license = col_text(st, 4),
            .copyright = col_text(st, 5),
            .source = col_text(st, 6),
            .url = col_text(st, 7),
            .content_hash = col_text(st, 8),
            .bytes = col_u64(st, 9),
            .tokens = col_u64(st, 10),
            .cluster = (uint32_t)col_u64(st, 11),
            .runs = buf.v,
            .deleted_at = col_text(st, 12),
            .deleted_by = col_text(st, 13),
            .deleted_why = col_text(st, 14),
        };
        if (!w.id || !w.source) {
            rc = rc_error_set(err, RECITE_EFORMAT, "%s: corrupt catalogue (a work without id)",
                              cat->path);
            goto done;
        }
        if (fn(&w, user) != 0)
            goto done;
    }
    if (src != SQLITE_DONE)
        rc = rc_catalog_db_error(cat->db, src, cat->path, err);
done:
    sqlite3_finalize(st);
    sqlite3_finalize(runs);
    RC_VEC_FREE(buf);
    return rc;
}

int recite_catalog_runs(recite_catalog *cat, int (*fn)(const char *run, uint64_t works, void *user),
                        void *user, recite_error *err)
{
    if (!cat || !fn)
        return rc_error_set(err, RECITE_EINVAL, "recite_catalog_runs: no catalogue or callback");
    static const char sql[] =
        "SELECT r.name, count(w.num) FROM runs r LEFT JOIN work_runs wr ON wr.run = r.name "
        "LEFT JOIN works w ON w.num = wr.work AND w.deleted_at IS NULL "
        "GROUP BY r.name ORDER BY r.name";
    sqlite3_stmt *st;
    int rc = rc_catalog_prepare(cat, sql, &st, err);
    if (rc != RECITE_OK)
        return rc;
    int src;
    while ((src = sqlite3_step(st)) == SQLITE_ROW) {
        const char *run = col_text(st, 0);
        if (run && fn(run, col_u64(st, 1), user) != 0)
            break;
    }
    if (src != SQLITE_DONE && src != SQLITE_ROW)
        rc = rc_catalog_db_error(cat->db, src, cat->path, err);
    sqlite3_finalize(st);
    return rc;
}

int recite_catalog_audit(recite_catalog *cat,
                         int (*fn)(const char *at, const char *who, const char *action,
                                   const char *work_id, const char *why, void *user),
                         void *user, recite_error *err)
{
    if (!cat || !fn)
        return rc_error_set(err, RECITE_EINVAL, "recite_catalog_audit: no catalogue or callback");
    sqlite3_stmt *st;
    int rc = rc_catalog_prepare(cat, "SELECT at, who, action, work, why FROM audit ORDER BY seq",
                                &st, err);
    if (rc != RECITE_OK)
        return rc;
    int src;
    while ((src = sqlite3_step(st)) == SQLITE_ROW) {
        const char *at = col_text(st, 0), *who = col_text(st, 1), *action = col_text(st, 2),
                   *work = col_text(st, 3);
        if (!at || !who || !action || !work) {
            rc = rc_error_set(err, RECITE_EFORMAT,
                              "%s: corrupt catalogue (an incomplete audit "
                              "entry)",
                              cat->path);
            break;
        }
        if (fn(at, who, action, work, col_text(st, 4), user) != 0)
            break;
    }
    if (rc == RECITE_OK && src != SQLITE_DONE && src != SQLITE_ROW)
        rc = rc_catalog_db_error(cat->db, src, cat->path, err);
    sqlite3_finalize(st);
    return rc;
}

/* ==== deletion ==== */

/* A who or why: present, not blank, of a sensible size. */
static int check_note(const char *what, const char *s, recite_error *err)
{
    if (!s || !s[strspn(s, " \t\r\n")])
        return rc_error_set(err, RECITE_EINVAL, "a deletion needs %s", what);
    if (strlen(s) > MAX_NOTE_BYTES)
        return rc_error_set(err, RECITE_EINVAL, "%s is longer than %d bytes", what, MAX_NOTE_BYTES);
    return RECITE_OK;
}

int recite_catalog_delete(recite_catalog *cat, const char *work_id, const char *who,
                          const char *why, recite_error *err)
{
    if (!cat)
        return rc_error_set(err, RECITE_EINVAL, "recite_catalog_delete: no catalogue");
    if (!work_id || !*work_id)
        return rc_error_set(err, RECITE_EINVAL, "a deletion needs a work id");
    int rc = check_note("who (a name)", who, err);
    if (rc == RECITE_OK)
        rc = check_note("why (a reason)", why, err);
    if (rc != RECITE_OK)
        return rc;

    sqlite3_stmt *find = NULL, *mark = NULL, *log = NULL;
    rc = rc_catalog_begin_write(cat, err);
    if (rc != RECITE_OK)
        return rc;
    rc = rc_catalog_prepare(cat, "SELECT num, deleted_at, deleted_by FROM works WHERE id = ?",
                            &find, err);
    if (rc == RECITE_OK)
        rc = rc_catalog_prepare(cat,
                                "UPDATE works SET deleted_at = ?, deleted_by = ?, "
                                "deleted_why = ? WHERE num = ?",
                                &mark, err);
    if (rc == RECITE_OK)
        rc = rc_catalog_prepare(cat,
                                "INSERT INTO audit(at, who, action, work, why) "
                                "VALUES (?, ?, 'delete', ?, ?)",
                                &log, err);
    if (rc != RECITE_OK)
        goto done;

    sqlite3_bind_text(find, 1, work_id, -1, SQLITE_STATIC);
    int src = sqlite3_step(find);
    if (src == SQLITE_DONE) {
        rc = rc_error_set(err, RECITE_EINVAL, "%s: no work '%.200s' in the catalogue", cat->path,
                          work_id);
        goto done;
    }
    if (src != SQLITE_ROW) {
        rc = rc_catalog_db_error(cat->db, src, cat->path, err);
        goto done;
    }
    if (sqlite3_column_type(find, 1) != SQLITE_NULL) {
        const char *by = col_text(find, 2);
        rc = rc_error_set(err, RECITE_EINVAL, "work '%.200s' was already deleted (%s by %.100s)",
                          work_id, col_text(find, 1), by ? by : "unknown");
        goto done;
    }
    sqlite3_int64 num = sqlite3_column_int64(find, 0);

    char now[32];
    time_t t = time(NULL);
    struct tm tm;
    if (t == (time_t)-1 || !gmtime_r(&t, &tm) ||
        strftime(now, sizeof now, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0) {
        rc = rc_error_set(err, RECITE_EIO, "cannot read the clock");
        goto done;
    }
    sqlite3_bind_text(mark, 1, now, -1, SQLITE_STATIC);
    sqlite3_bind_text(mark, 2, who, -1, SQLITE_STATIC);
    sqlite3_bind_text(mark, 3, why, -1, SQLITE_STATIC);
    sqlite3_bind_int64(mark, 4, num);
    sqlite3_bind_text(log, 1, now, -1, SQLITE_STATIC);
    sqlite3_bind_text(log, 2, who, -1, SQLITE_STATIC);
    sqlite3_bind_text(log, 3, work_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(log, 4, why, -1, SQLITE_STATIC);
    if ((src = sqlite3_step(mark)) != SQLITE_DONE || (src = sqlite3_step(log)) != SQLITE_DONE) {
        rc = rc_catalog_db_error(cat->db, src, cat->path, err);
        goto done;
    }
    /* Finalize before COMMIT so that no statement keeps the transaction busy. */
    sqlite3_finalize(find);
    sqlite3_finalize(mark);
    sqlite3_finalize(log);
    find = mark = log = NULL;
    rc = rc_catalog_exec(cat, "COMMIT", err);
done:
    sqlite3_finalize(find);
    sqlite3_finalize(mark);
    sqlite3_finalize(log);
    if (rc != RECITE_OK)
        rc_catalog_rollback(cat);
    return rc;
}

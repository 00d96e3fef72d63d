/*
 * test_catalog.c — the provenance catalogue (src/catalog/): built from an index made of JSONL
 * with metadata and training runs; round trip of every field, filters, run counts, deletion and
 * the audit log, a rebuild that keeps both, and bad input: unknown or deleted works, a locked,
 * corrupt, foreign, newer or missing database, bad run names — each a clear error, nothing changed.
 */
#include "test_util.h"

#include "common/rc_common.h"

#include <sqlite3.h>
#include <time.h>

/* ==== fixture: an index of five works in DIR/idx ==== */

typedef struct fixture {
    char *dir, *idx, *jsonl, *cat;
} fixture;

static const char text_a[] = "Call me Ishmael. Some years ago, never mind how long precisely, "
                             "having little or no money in my purse, and nothing particular.\n";
static const char text_b[] = "It was the best of times, it was the worst of times, it was the "
                             "age of wisdom, it was the age of foolishness.\n";
static const char text_d[] = "Happy families are all alike; every unhappy family is unhappy in "
                             "its own way. Everything was in confusion.\n";
static const char text_e[] = "In a hole in the ground there lived a hobbit. Not a nasty, dirty, "
                             "wet hole, filled with the ends of worms.\n";

/* One JSONL line per work; "three" is a copy of "a/one" (same cluster), "five" has no runs. */
static char *jsonl_text(bool with_two)
{
    char *s;
    int n = asprintf(
        &s,
        "{\"id\":\"a/one\",\"text\":\"%.*s\\n\",\"title\":\"Moby-Dick, or \\\"The Whale\\\"\","
        "\"author\":\"Herman Melville\",\"license\":\"MIT\",\"copyright\":\"(C) 1851 H. M.\","
        "\"source\":\"purchased\",\"url\":\"https://example.invalid/moby\","
        "\"runs\":[\"r1\",\"r2\"]}\n"
        "%s"
        "{\"id\":\"three\",\"text\":\"%.*s\\n\"}\n"
        "{\"id\":\"four\",\"text\":\"%.*s\\n\",\"license\":\"mit\",\"source\":\"shadow-library\","
        "\"runs\":[\"r3\",\"r3\"]}\n"
        "{\"id\":\"five\",\"text\":\"%.*s\\n\",\"source\":\"licensed\",\"runs\":null}\n",
        (int)strlen(text_a) - 1, text_a,
        with_two ? "{\"id\":\"two\",\"text\":\"It was the best of times, it was the worst of "
                   "times, it was the age of wisdom, it was the age of foolishness.\\n\","
                   "\"title\":\"A Tale\",\"license\":\"GPL-3.0-only\",\"source\":\"scanned\","
                   "\"runs\":\"r2\"}\n"
                 : "",
        (int)strlen(text_a) - 1, text_a, (int)strlen(text_d) - 1, text_d, (int)strlen(text_e) - 1,
        text_e);
    assert_true(n > 0);
    return s;
}

static void build_index(const char *jsonl, const char *out)
{
    recite_build_options opt = test_opts();
    opt.jobs = 1;
    const char *paths[] = {jsonl};
    recite_error err = {0};
    if (recite_index_build(NULL, out, paths, 1, &opt, &err) != RECITE_OK)
        fail_msg("index build: %s", err.message);
}

static void build_catalog(const char *dir)
{
    recite_error err = {0};
    if (recite_catalog_build(dir, &err) != RECITE_OK)
        fail_msg("catalog build: %s", err.message);
}

/* The index is built once (group setup) and copied for each test: a build is the slow part,
 * under valgrind most of all. */
static char *template_dir;

static int group_setup(void **state)
{
    (void)state;
    template_dir = tmp_dir_make();
    char *jsonl = path_join(template_dir, "works.jsonl"), *idx = path_join(template_dir, "idx");
    char *j = jsonl_text(true);
    write_str(jsonl, j);
    free(j);
    build_index(jsonl, idx);
    build_catalog(idx);
    free(jsonl);
    free(idx);
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    rm_rf(template_dir);
    free(template_dir);
    return 0;
}

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    f->dir = tmp_dir_make();
    f->idx = path_join(f->dir, "idx");
    f->jsonl = path_join(f->dir, "works.jsonl");
    f->cat = path_join(f->idx, "catalog.sqlite");
    char *cmd;
    assert_true(asprintf(&cmd, "cp -a '%s/idx' '%s/works.jsonl' '%s/'", template_dir, template_dir,
                         f->dir) > 0);
    assert_int_equal(system(cmd), 0);
    free(cmd);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    rm_rf(f->dir);
    free(f->dir);
    free(f->idx);
    free(f->jsonl);
    free(f->cat);
    free(f);
    return 0;
}

static recite_catalog *open_cat(const char *dir, int writable)
{
    recite_catalog *cat = NULL;
    recite_error err = {0};
    if (recite_catalog_open(&cat, dir, writable, &err) != RECITE_OK)
        fail_msg("open: %s", err.message);
    return cat;
}

/* ==== collecting callback results ==== */

typedef struct row {
    char *s[13]; /* id title author license copyright source url hash runs at by why */
    uint64_t bytes, tokens;
    uint32_t cluster;
} row;

enum {
    F_ID,
    F_TITLE,
    F_AUTHOR,
    F_LICENSE,
    F_COPYRIGHT,
    F_SOURCE,
    F_URL,
    F_HASH,
    F_RUNS,
    F_AT,
    F_BY,
    F_WHY,
    F_COUNT
};

typedef struct rows {
    row v[16];
    size_t n;
    size_t stop_after; /* 0 = never */
} rows;

static char *dup_or_null(const char *s)
{
    return s ? strdup(s) : NULL;
}

static int collect_work(const recite_catalog_work *w, void *user)
{
    rows *r = user;
    assert_true(r->n < 16);
    row *x = &r->v[r->n++];
    const char *f[F_COUNT] = {w->id,        w->title,      w->author,     w->license,
                              w->copyright, w->source,     w->url,        w->content_hash,
                              w->runs,      w->deleted_at, w->deleted_by, w->deleted_why};
    for (int i = 0; i < F_COUNT; i++)
        x->s[i] = dup_or_null(f[i]);
    x->bytes = w->bytes;
    x->tokens = w->tokens;
    x->cluster = w->cluster;
    return r->stop_after && r->n >= r->stop_after;
}

static void rows_free(rows *r)
{
    for (size_t i = 0; i < r->n; i++)
        for (int k = 0; k < F_COUNT; k++)
            free(r->v[i].s[k]);
    r->n = 0;
}

static rows *list(recite_catalog *cat, const char *source, const char *license, const char *run,
                  int deleted)
{
    static rows r;
    rows_free(&r);
    recite_catalog_filter flt = {source, license, run, deleted};
    recite_error err = {0};
    if (recite_catalog_list(cat, &flt, collect_work, &r, &err) != RECITE_OK)
        fail_msg("list: %s", err.message);
    return &r;
}

/* The ids of a listing, space-separated, for compact assertions. */
static const char *ids(const rows *r)
{
    static char buf[512];
    buf[0] = 0;
    for (size_t i = 0; i < r->n; i++) {
        if (i)
            strcat(buf, " ");
        strcat(buf, r->v[i].s[F_ID]);
    }
    return buf;
}

static const row *find(const rows *r, const char *id)
{
    for (size_t i = 0; i < r->n; i++)
        if (strcmp(r->v[i].s[F_ID], id) == 0)
            return &r->v[i];
    fail_msg("no work %s in the listing", id);
    return NULL;
}

typedef struct counts {
    char text[256];
} counts;

static int collect_run(const char *run, uint64_t works, void *user)
{
    counts *c = user;
    size_t n = strlen(c->text);
    snprintf(c->text + n, sizeof c->text - n, "%s%s=%llu", n ? " " : "", run,
             (unsigned long long)works);
    return 0;
}

static const char *runs_of(recite_catalog *cat)
{
    static counts c;
    c.text[0] = 0;
    recite_error err = {0};
    if (recite_catalog_runs(cat, collect_run, &c, &err) != RECITE_OK)
        fail_msg("runs: %s", err.message);
    return c.text;
}

typedef struct audit_log {
    char text[2048];
    char at[8][32];
    size_t n;
} audit_log;

static int collect_audit(const char *at, const char *who, const char *action, const char *work_id,
                         const char *why, void *user)
{
    audit_log *a = user;
    size_t n = strlen(a->text);
    snprintf(a->text + n, sizeof a->text - n, "%s%s|%s|%s|%s", n ? "\n" : "", who, action, work_id,
             why ? why : "(null)");
    if (a->n < 8)
        snprintf(a->at[a->n], sizeof a->at[0], "%s", at);
    a->n++;
    return 0;
}

static audit_log *audit_of(recite_catalog *cat)
{
    static audit_log a;
    memset(&a, 0, sizeof a);
    recite_error err = {0};
    if (recite_catalog_audit(cat, collect_audit, &a, &err) != RECITE_OK)
        fail_msg("audit: %s", err.message);
    return &a;
}

/* XXH3-128 of a string as the catalogue writes it. */
static void expect_hash(const char *hex, const char *text)
{
    rc_hash128 h = rc_hash128_of(text, strlen(text));
    char want[33];
    snprintf(want, sizeof want, "%016llx%016llx", (unsigned long long)h.hi,
             (unsigned long long)h.lo);
    assert_string_equal(hex, want);
}

/* Whether a temporary catalogue (.catalog.sqlite.tmp-*) is left in dir. */
static bool has_tmp(const char *dir)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    bool found = false;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        found |= strncmp(e->d_name, ".catalog.sqlite.tmp-", 20) == 0;
    closedir(d);
    return found;
}

static void expect_error(int rc, const recite_error *err, int code, const char *needle)
{
    if (rc != code)
        fail_msg("status %d (%s), expected %d", rc, err->message, code);
    if (!strstr(err->message, needle))
        fail_msg("message '%s' lacks '%s'", err->message, needle);
    assert_null(strchr(err->message, '\n'));
}

/* ==== round trip ==== */

static void test_round_trip(void **state)
{
    fixture *f = *state;
    recite_catalog *cat = open_cat(f->idx, 0);
    rows *r = list(cat, NULL, NULL, NULL, 0);
    assert_string_equal(ids(r), "a/one two three four five");

    recite_index *idx;
    recite_error err = {0};
    assert_int_equal(recite_index_open(&idx, f->idx, &err), RECITE_OK);
    for (uint32_t w = 0; w < recite_index_work_count(idx); w++) {
        recite_work_info info;
        assert_int_equal(recite_index_work(&info, idx, w), RECITE_OK);
        const row *x = find(r, info.id);
        assert_int_equal(x->bytes, info.bytes);
        assert_int_equal(x->tokens, info.tokens);
        assert_int_equal(x->cluster, info.cluster);
        assert_true(x->tokens > 10);
    }
    recite_index_stats st;
    recite_index_get_stats(&st, idx);
    recite_index_close(idx);

    const row *a = find(r, "a/one");
    assert_string_equal(a->s[F_TITLE], "Moby-Dick, or \"The Whale\"");
    assert_string_equal(a->s[F_AUTHOR], "Herman Melville");
    assert_string_equal(a->s[F_LICENSE], "MIT");
    assert_string_equal(a->s[F_COPYRIGHT], "(C) 1851 H. M.");
    assert_string_equal(a->s[F_SOURCE], "purchased");
    assert_string_equal(a->s[F_URL], "https://example.invalid/moby");
    assert_string_equal(a->s[F_RUNS], "r1,r2");
    assert_int_equal(a->bytes, strlen(text_a));
    expect_hash(a->s[F_HASH], text_a);
    assert_null(a->s[F_AT]);
    assert_null(a->s[F_BY]);
    assert_null(a->s[F_WHY]);

    const row *b = find(r, "two");
    assert_string_equal(b->s[F_TITLE], "A Tale");
    assert_null(b->s[F_AUTHOR]);
    assert_null(b->s[F_URL]);
    assert_string_equal(b->s[F_SOURCE], "scanned");
    assert_string_equal(b->s[F_RUNS], "r2"); /* a single string */
    expect_hash(b->s[F_HASH], text_b);

    const row *c = find(r, "three"); /* identical to a/one: same cluster and hash */
    assert_int_equal(c->cluster, a->cluster);
    assert_string_equal(c->s[F_HASH], a->s[F_HASH]);
    assert_string_equal(c->s[F_SOURCE], "unknown"); /* not given */
    assert_null(c->s[F_LICENSE]);
    assert_null(c->s[F_TITLE]);
    assert_string_equal(c->s[F_RUNS], "");

    const row *d = find(r, "four");
    assert_string_equal(d->s[F_RUNS], "r3"); /* listed twice, kept once */
    expect_hash(d->s[F_HASH], text_d);
    const row *e = find(r, "five");
    assert_string_equal(e->s[F_RUNS], ""); /* "runs": null */
    assert_string_equal(e->s[F_SOURCE], "licensed");
    assert_int_not_equal(d->cluster, e->cluster);
    rows_free(r);
    recite_catalog_close(cat);

    /* The schema markers: application id, schema version, the index's creation time. */
    sqlite3 *db;
    assert_int_equal(sqlite3_open_v2(f->cat, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    sqlite3_stmt *q;
    assert_int_equal(sqlite3_prepare_v2(db,
                                        "SELECT (SELECT value FROM meta WHERE key = "
                                        "'schema_version'), (SELECT value FROM meta WHERE key "
                                        "= 'index_created_unix'), application_id, user_version "
                                        "FROM pragma_application_id, pragma_user_version",
                                        -1, &q, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(q), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(q, 0), "1");
    assert_int_equal(sqlite3_column_int64(q, 1), (sqlite3_int64)st.created_unix);
    assert_int_equal(sqlite3_column_int64(q, 2), 0x52435443);
    assert_int_equal(sqlite3_column_int64(q, 3), 1);
    sqlite3_finalize(q);
    sqlite3_close(db);

    assert_false(has_tmp(f->idx)); /* no temporary file is left beside it */
}

/* A work longer than the 4 MiB the builder hashes at a time. */
static void test_hash_of_a_long_work(void **state)
{
    fixture *f = *state;
    if (getenv("RECITE_TEST_QUICK"))
        skip();
    size_t len = (9u << 20) + 123;
    char *text = malloc(len + 1);
    rng r = rng_seeded(7);
    for (size_t i = 0; i < len; i++)
        text[i] = (i % 7 == 6) ? ' ' : (char)('a' + rng_below(&r, 26));
    text[len] = 0;
    char *lib = path_join(f->dir, "long");
    mkdir(lib, 0755);
    char *file = path_join(lib, "long.txt");
    write_file(file, text, len);
    char *idx = path_join(f->dir, "longidx");
    build_index(lib, idx);
    build_catalog(idx);
    recite_catalog *cat = open_cat(idx, 0);
    rows *rs = list(cat, NULL, NULL, NULL, 0);
    assert_int_equal(rs->n, 1);
    assert_int_equal(rs->v[0].bytes, len);
    expect_hash(rs->v[0].s[F_HASH], text);
    rows_free(rs);
    recite_catalog_close(cat);
    free(text);
    free(file);
    free(lib);
    free(idx);
}

/* ==== filters and runs ==== */

static void test_filters(void **state)
{
    fixture *f = *state;
    recite_catalog *cat = open_cat(f->idx, 0);
    assert_string_equal(ids(list(cat, "purchased", NULL, NULL, 0)), "a/one");
    assert_string_equal(ids(list(cat, "unknown", NULL, NULL, 0)), "three");
    assert_string_equal(ids(list(cat, "public-domain", NULL, NULL, 0)), "");
    /* SPDX identifiers compare without case. */
    assert_string_equal(ids(list(cat, NULL, "MIT", NULL, 0)), "a/one four");
    assert_string_equal(ids(list(cat, NULL, "gpl-3.0-only", NULL, 0)), "two");
    assert_string_equal(ids(list(cat, NULL, "Apache-2.0", NULL, 0)), "");
    assert_string_equal(ids(list(cat, NULL, NULL, "r2", 0)), "a/one two");
    assert_string_equal(ids(list(cat, NULL, NULL, "r1", 0)), "a/one");
    assert_string_equal(ids(list(cat, NULL, NULL, "nope", 0)), "");
    assert_string_equal(ids(list(cat, "scanned", NULL, "r2", 0)), "two");
    assert_string_equal(ids(list(cat, "shadow-library", "MIT", "r3", 0)), "four");
    assert_string_equal(ids(list(cat, "purchased", "GPL-3.0-only", NULL, 0)), "");
    rows_free(list(cat, NULL, NULL, NULL, 0));

    /* A NULL filter is "everything not deleted"; a callback may stop early. */
    rows r = {.stop_after = 2};
    recite_error err = {0};
    assert_int_equal(recite_catalog_list(cat, NULL, collect_work, &r, &err), RECITE_OK);
    assert_int_equal(r.n, 2);
    rows_free(&r);

    /* A source outside the six is a mistake, not an empty result. */
    recite_catalog_filter bad = {"stolen goods", NULL, NULL, 0};
    expect_error(recite_catalog_list(cat, &bad, collect_work, &r, &err), &err, RECITE_EINVAL,
                 "unknown source 'stolen goods'");
    assert_int_equal(r.n, 0);
    recite_catalog_close(cat);
}

static void test_runs_counts(void **state)
{
    fixture *f = *state;
    recite_catalog *cat = open_cat(f->idx, 1);
    assert_string_equal(runs_of(cat), "r1=1 r2=2 r3=1");
    recite_error err = {0};
    assert_int_equal(recite_catalog_delete(cat, "two", "alice", "takedown", &err), RECITE_OK);
    assert_string_equal(runs_of(cat), "r1=1 r2=1 r3=1");
    assert_int_equal(recite_catalog_delete(cat, "four", "alice", "takedown", &err), RECITE_OK);
    assert_string_equal(runs_of(cat), "r1=1 r2=1 r3=0"); /* a run whose works are all deleted */
    recite_catalog_close(cat);
}

/* ==== deletion and the audit log ==== */

static void expect_iso_between(const char *at, time_t lo, time_t hi)
{
    assert_non_null(at);
    assert_int_equal(strlen(at), 20);
    struct tm tm = {0};
    const char *end = strptime(at, "%Y-%m-%dT%H:%M:%SZ", &tm);
    assert_non_null(end);
    assert_int_equal(*end, 0);
    time_t t = timegm(&tm);
    assert_true(t >= lo && t <= hi);
}

static void test_delete_and_audit(void **state)
{
    fixture *f = *state;
    recite_error err = {0};
    recite_catalog *ro = open_cat(f->idx, 0);
    expect_error(recite_catalog_delete(ro, "two", "alice", "takedown", &err), &err, RECITE_EINVAL,
                 "read-only");
    recite_catalog_close(ro);

    recite_catalog *cat = open_cat(f->idx, 1);
    assert_int_equal(audit_of(cat)->n, 0);
    time_t t0 = time(NULL);
    assert_int_equal(
        recite_catalog_delete(cat, "two", "alice", "DMCA notice #12, \"urgent\"", &err), RECITE_OK);
    assert_int_equal(recite_catalog_delete(cat, "a/one", "bob", "license expired", &err),
                     RECITE_OK);
    time_t t1 = time(NULL);
    assert_string_equal(ids(list(cat, NULL, NULL, NULL, 0)), "three four five");
    assert_string_equal(ids(list(cat, NULL, NULL, "r2", 0)), "");
    rows *r = list(cat, NULL, NULL, NULL, 1);
    assert_string_equal(ids(r), "a/one two three four five");
    const row *two = find(r, "two");
    expect_iso_between(two->s[F_AT], t0, t1);
    assert_string_equal(two->s[F_BY], "alice");
    assert_string_equal(two->s[F_WHY], "DMCA notice #12, \"urgent\"");
    assert_string_equal(two->s[F_TITLE], "A Tale"); /* the row stays, with its metadata */
    assert_string_equal(find(r, "a/one")->s[F_BY], "bob");
    assert_null(find(r, "three")->s[F_AT]);
    /* Filters apply to deleted works too. */
    assert_string_equal(ids(list(cat, "scanned", NULL, NULL, 1)), "two");

    audit_log *a = audit_of(cat);
    assert_int_equal(a->n, 2);
    assert_string_equal(a->text, "alice|delete|two|DMCA notice #12, \"urgent\"\n"
                                 "bob|delete|a/one|license expired");
    r = list(cat, NULL, NULL, NULL, 1);
    assert_string_equal(a->at[0], find(r, "two")->s[F_AT]);
    expect_iso_between(a->at[1], t0, t1);
    rows_free(r);
    recite_catalog_close(cat);

    /* Another connection sees it (it was committed). */
    cat = open_cat(f->idx, 0);
    assert_int_equal(audit_of(cat)->n, 2);
    recite_catalog_close(cat);
}

static void test_delete_errors_change_nothing(void **state)
{
    fixture *f = *state;
    recite_error err = {0};
    recite_catalog *cat = open_cat(f->idx, 1);
    assert_int_equal(recite_catalog_delete(cat, "two", "alice", "first", &err), RECITE_OK);
    size_t len0 = 0, len1 = 0;
    char *before = read_file(f->cat, &len0);

    expect_error(recite_catalog_delete(cat, "no/such/work", "alice", "why", &err), &err,
                 RECITE_EINVAL, "no work 'no/such/work'");
    expect_error(recite_catalog_delete(cat, "two", "bob", "again", &err), &err, RECITE_EINVAL,
                 "already deleted");
    assert_non_null(strstr(err.message, "alice"));
    expect_error(recite_catalog_delete(cat, "three", "bob", NULL, &err), &err, RECITE_EINVAL,
                 "why");
    expect_error(recite_catalog_delete(cat, "three", "bob", " \n", &err), &err, RECITE_EINVAL,
                 "why");
    expect_error(recite_catalog_delete(cat, "three", "", "reason", &err), &err, RECITE_EINVAL,
                 "who");
    expect_error(recite_catalog_delete(cat, "", "bob", "reason", &err), &err, RECITE_EINVAL,
                 "work id");
    char *huge = malloc(100001);
    memset(huge, 'x', 100000);
    huge[100000] = 0;
    expect_error(recite_catalog_delete(cat, "three", "bob", huge, &err), &err, RECITE_EINVAL,
                 "longer than");
    free(huge);

    char *after = read_file(f->cat, &len1);
    assert_int_equal(len0, len1);
    assert_memory_equal(before, after, len0);
    free(before);
    free(after);
    audit_log *a = audit_of(cat);
    assert_int_equal(a->n, 1);
    assert_string_equal(a->text, "alice|delete|two|first");
    assert_string_equal(ids(list(cat, NULL, NULL, NULL, 0)), "a/one three four five");
    rows_free(list(cat, NULL, NULL, NULL, 0));
    recite_catalog_close(cat);
}

/* The schema itself refuses to rewrite history, whoever writes to the file. */
static void test_append_only(void **state)
{
    fixture *f = *state;
    recite_error err = {0};
    recite_catalog *cat = open_cat(f->idx, 1);
    assert_int_equal(recite_catalog_delete(cat, "two", "alice", "why", &err), RECITE_OK);
    recite_catalog_close(cat);
    sqlite3 *db;
    assert_int_equal(sqlite3_open_v2(f->cat, &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
    static const char *const forbidden[] = {
        "UPDATE audit SET who = 'mallory'",
        "DELETE FROM audit",
        "UPDATE works SET deleted_at = NULL WHERE id = 'two'",
        "UPDATE works SET deleted_why = 'other' WHERE id = 'two'",
        "DELETE FROM works WHERE id = 'two'",
    };
    for (size_t i = 0; i < RC_ARRAY_LEN(forbidden); i++) {
        char *msg = NULL;
        int src = sqlite3_exec(db, forbidden[i], NULL, NULL, &msg);
        if (src == SQLITE_OK)
            fail_msg("'%s' was allowed", forbidden[i]);
        sqlite3_free(msg);
    }
    sqlite3_close(db);
    cat = open_cat(f->idx, 0);
    assert_string_equal(audit_of(cat)->text, "alice|delete|two|why");
    assert_string_equal(find(list(cat, NULL, NULL, NULL, 1), "two")->s[F_WHY], "why");
    rows_free(list(cat, NULL, NULL, NULL, 0));
    recite_catalog_close(cat);
}

/* ==== rebuilds ==== */

static void test_rebuild_keeps_deletions_and_audit(void **state)
{
    fixture *f = *state;
    recite_error err = {0};
    recite_catalog *cat = open_cat(f->idx, 1);
    assert_int_equal(recite_catalog_delete(cat, "two", "alice", "takedown", &err), RECITE_OK);
    assert_int_equal(recite_catalog_delete(cat, "four", "bob", "shadow copy", &err), RECITE_OK);
    rows *r = list(cat, NULL, NULL, NULL, 1);
    char *at_two = strdup(find(r, "two")->s[F_AT]);
    recite_catalog_close(cat);

    build_catalog(f->idx);
    cat = open_cat(f->idx, 1);
    assert_string_equal(ids(list(cat, NULL, NULL, NULL, 0)), "a/one three five");
    r = list(cat, NULL, NULL, NULL, 1);
    assert_string_equal(find(r, "two")->s[F_AT], at_two);
    assert_string_equal(find(r, "two")->s[F_BY], "alice");
    assert_string_equal(find(r, "four")->s[F_WHY], "shadow copy");
    assert_string_equal(audit_of(cat)->text,
                        "alice|delete|two|takedown\nbob|delete|four|shadow copy");
    /* The log goes on after the rebuild, in order. */
    assert_int_equal(recite_catalog_delete(cat, "five", "carol", "expired", &err), RECITE_OK);
    assert_string_equal(audit_of(cat)->text, "alice|delete|two|takedown\n"
                                             "bob|delete|four|shadow copy\n"
                                             "carol|delete|five|expired");
    rows_free(r);
    recite_catalog_close(cat);

    /* A new index without "two": its deletion lives on in the audit log only; the others
     * carry over. (The catalogue is moved beside the new index by hand here.) */
    char *jsonl2 = path_join(f->dir, "works2.jsonl"), *idx2 = path_join(f->dir, "idx2");
    char *j = jsonl_text(false);
    write_str(jsonl2, j);
    free(j);
    build_index(jsonl2, idx2);
    size_t len = 0;
    char *bytes = read_file(f->cat, &len);
    char *cat2 = path_join(idx2, "catalog.sqlite");
    write_file(cat2, bytes, len);
    build_catalog(idx2);
    cat = open_cat(idx2, 0);
    assert_string_equal(ids(list(cat, NULL, NULL, NULL, 1)), "a/one three four five");
    assert_string_equal(ids(list(cat, NULL, NULL, NULL, 0)), "a/one three");
    assert_int_equal(audit_of(cat)->n, 3);
    assert_string_equal(runs_of(cat), "r1=1 r2=1 r3=0");
    rows_free(list(cat, NULL, NULL, NULL, 0));
    recite_catalog_close(cat);
    free(bytes);
    free(cat2);
    free(jsonl2);
    free(idx2);
    free(at_two);
}

/* A handle opened before a rebuild writes into the rebuilt catalogue, not the replaced file. */
static void test_delete_after_rebuild_through_old_handle(void **state)
{
    fixture *f = *state;
    recite_error err = {0};
    recite_catalog *old = open_cat(f->idx, 1);
    assert_int_equal(recite_catalog_delete(old, "two", "alice", "first", &err), RECITE_OK);
    build_catalog(f->idx);
    assert_int_equal(recite_catalog_delete(old, "four", "bob", "second", &err), RECITE_OK);
    recite_catalog_close(old);
    recite_catalog *cat = open_cat(f->idx, 0);
    assert_string_equal(audit_of(cat)->text, "alice|delete|two|first\nbob|delete|four|second");
    assert_string_equal(ids(list(cat, NULL, NULL, NULL, 0)), "a/one three five");
    rows_free(list(cat, NULL, NULL, NULL, 0));
    recite_catalog_close(cat);
}

/* `recite index` over an existing index, then the catalogue: deletions survive. This needs the
 * index's atomic publish to carry DIR/catalog.sqlite into the new directory. */
static void test_index_rebuild_keeps_catalogue(void **state)
{
    fixture *f = *state;
    recite_error err = {0};
    recite_catalog *cat = open_cat(f->idx, 1);
    assert_int_equal(recite_catalog_delete(cat, "two", "alice", "takedown", &err), RECITE_OK);
    recite_catalog_close(cat);
    build_index(f->jsonl, f->idx);
    struct stat st;
    assert_int_equal(stat(f->cat, &st), 0); /* the publish carried the catalogue over */
    build_catalog(f->idx);
    cat = open_cat(f->idx, 0);
    assert_string_equal(audit_of(cat)->text, "alice|delete|two|takedown");
    assert_string_equal(ids(list(cat, NULL, NULL, NULL, 0)), "a/one three four five");
    rows_free(list(cat, NULL, NULL, NULL, 0));
    recite_catalog_close(cat);
}

static int current_of(const char *dir)
{
    recite_error err = {0};
    recite_catalog *cat = open_cat(dir, 0);
    int current = -1;
    if (recite_catalog_current(cat, dir, &current, &err) != RECITE_OK)
        fail_msg("recite_catalog_current: %s", err.message);
    recite_catalog_close(cat);
    return current;
}

/* The catalogue names the index it was made for: an index published beside it without it being
 * remade (a build stopped between the two) is not its index until it is remade; a catalogue that
 * names none (made before catalogues did) counts as current. */
static void test_current_index(void **state)
{
    fixture *f = *state;
    assert_int_equal(current_of(f->idx), 1);
    char *j = jsonl_text(false);
    write_str(f->jsonl, j);
    free(j);
    build_index(f->jsonl, f->idx); /* four works, beside the catalogue of the five */
    assert_int_equal(current_of(f->idx), 0);
    build_catalog(f->idx);
    assert_int_equal(current_of(f->idx), 1);
    sqlite3 *db;
    assert_int_equal(sqlite3_open_v2(f->cat, &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
    assert_int_equal(
        sqlite3_exec(db, "DELETE FROM meta WHERE key = 'index_checksum'", NULL, NULL, NULL),
        SQLITE_OK);
    assert_int_equal(sqlite3_changes(db), 1);
    sqlite3_close(db);
    j = jsonl_text(true);
    write_str(f->jsonl, j);
    free(j);
    build_index(f->jsonl, f->idx);
    assert_int_equal(current_of(f->idx), 1);
}

/* ==== bad input ==== */

static void test_locked(void **state)
{
    fixture *f = *state;
    recite_error err = {0};
    size_t len0 = 0, len1 = 0;
    char *before = read_file(f->cat, &len0);
    sqlite3 *db;
    assert_int_equal(sqlite3_open_v2(f->cat, &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);

    /* An exclusive transaction elsewhere: not even readable. */
    assert_int_equal(sqlite3_exec(db, "BEGIN EXCLUSIVE", NULL, NULL, NULL), SQLITE_OK);
    recite_catalog *cat = NULL;
    time_t t0 = time(NULL);
    expect_error(recite_catalog_open(&cat, f->idx, 0, &err), &err, RECITE_EIO,
                 "database is locked");
    assert_true(time(NULL) - t0 >= 1); /* it waited for the lock first */
    assert_null(cat);
    assert_non_null(strstr(err.message, "catalog.sqlite"));
    assert_int_equal(sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL), SQLITE_OK);

    /* A write transaction elsewhere: reading works, a deletion or a rebuild does not. */
    assert_int_equal(sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
    cat = open_cat(f->idx, 1);
    assert_string_equal(ids(list(cat, NULL, NULL, NULL, 0)), "a/one two three four five");
    expect_error(recite_catalog_delete(cat, "two", "alice", "why", &err), &err, RECITE_EIO,
                 "database is locked");
    expect_error(recite_catalog_build(f->idx, &err), &err, RECITE_EIO, "database is locked");
    assert_int_equal(sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);

    char *after = read_file(f->cat, &len1);
    assert_int_equal(len0, len1);
    assert_memory_equal(before, after, len0);
    assert_int_equal(audit_of(cat)->n, 0);
    /* And once the lock is gone, the same deletion goes through. */
    assert_int_equal(recite_catalog_delete(cat, "two", "alice", "why", &err), RECITE_OK);
    rows_free(list(cat, NULL, NULL, NULL, 0));
    recite_catalog_close(cat);
    free(before);
    free(after);
    assert_false(has_tmp(f->idx)); /* the failed rebuild left no temporary file */
}

static void expect_open_fails(const fixture *f, int code, const char *needle)
{
    recite_catalog *cat = NULL;
    recite_error err = {0};
    expect_error(recite_catalog_open(&cat, f->idx, 0, &err), &err, code, needle);
    assert_null(cat);
    expect_error(recite_catalog_open(&cat, f->idx, 1, &err), &err, code, needle);
    assert_null(cat);
}

/* A catalogue that cannot be read is neither opened nor replaced by a rebuild. */
static void expect_rejected(const fixture *f, const void *bytes, size_t len, int code,
                            const char *needle)
{
    write_file(f->cat, bytes, len);
    expect_open_fails(f, code, needle);
    recite_error err = {0};
    expect_error(recite_catalog_build(f->idx, &err), &err, code, needle);
    size_t n = 0;
    char *now = read_file(f->cat, &n);
    assert_int_equal(n, len);
    assert_memory_equal(now, bytes, len);
    free(now);
}

static void test_corrupt_foreign_newer(void **state)
{
    fixture *f = *state;
    rng g = rng_seeded(5);
    char garbage[8192];
    for (size_t i = 0; i < sizeof garbage; i++)
        garbage[i] = (char)rng_next(&g);
    expect_rejected(f, garbage, sizeof garbage, RECITE_EFORMAT, "not a recite catalogue");
    expect_rejected(f, "hello", 5, RECITE_EFORMAT, "not a recite catalogue");
    expect_rejected(f, "", 0, RECITE_EFORMAT, "not a recite catalogue");

    /* Another application's SQLite database. */
    unlink(f->cat);
    sqlite3 *db;
    assert_int_equal(sqlite3_open(f->cat, &db), SQLITE_OK);
    assert_int_equal(
        sqlite3_exec(db, "CREATE TABLE works(x); INSERT INTO works VALUES (1)", NULL, NULL, NULL),
        SQLITE_OK);
    sqlite3_close(db);
    size_t len = 0;
    char *foreign = read_file(f->cat, &len);
    expect_rejected(f, foreign, len, RECITE_EFORMAT, "another application");
    free(foreign);

    /* A catalogue from a newer recite. */
    unlink(f->cat);
    build_catalog(f->idx);
    assert_int_equal(sqlite3_open(f->cat, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "UPDATE meta SET value = '7' WHERE key = 'schema_version'",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(db);
    char *newer = read_file(f->cat, &len);
    expect_rejected(f, newer, len, RECITE_EVERSION, "schema version 7");
    free(newer);

    /* Cut short after its first page: an error, whichever statement meets it first. */
    unlink(f->cat);
    build_catalog(f->idx);
    char *whole = read_file(f->cat, &len);
    assert_true(len > 8192);
    write_file(f->cat, whole, 4096);
    recite_catalog *cat = NULL;
    recite_error err = {0};
    int rc = recite_catalog_open(&cat, f->idx, 0, &err);
    if (rc == RECITE_OK) {
        rows r = {0};
        rc = recite_catalog_list(cat, NULL, collect_work, &r, &err);
        rows_free(&r);
        recite_catalog_close(cat);
    }
    assert_int_not_equal(rc, RECITE_OK);
    assert_true(err.message[0] != 0);
    free(whole);
}

static void test_missing(void **state)
{
    fixture *f = *state;
    unlink(f->cat);
    expect_open_fails(f, RECITE_EIO, "no catalogue");
    recite_catalog *cat = NULL;
    recite_error err = {0};
    expect_error(recite_catalog_open(&cat, "/nonexistent/dir", 0, &err), &err, RECITE_EIO,
                 "/nonexistent/dir/catalog.sqlite");
    expect_error(recite_catalog_open(&cat, NULL, 0, &err), &err, RECITE_EINVAL, "index");
    /* A directory where the file should be. */
    mkdir(f->cat, 0755);
    expect_open_fails(f, RECITE_EFORMAT, "not a recite catalogue");
    rmdir(f->cat);
    /* No index: nothing to build from. */
    char *none = path_join(f->dir, "none");
    assert_int_not_equal(recite_catalog_build(none, &err), RECITE_OK);
    assert_true(err.message[0] != 0);
    free(none);
    /* Built again, it opens. */
    build_catalog(f->idx);
    recite_catalog_close(open_cat(f->idx, 0));
    recite_catalog_close(NULL);
}

static void expect_bad_runs(fixture *f, const char *runs_json, const char *needle)
{
    char *p = path_join(f->dir, "bad.jsonl"), *idx = path_join(f->dir, "badidx");
    char *j;
    assert_true(asprintf(&j, "{\"id\":\"x\",\"text\":\"%s\",\"runs\":%s}\n", "alpha beta gamma",
                         runs_json) > 0);
    write_str(p, j);
    rm_rf(idx);
    build_index(p, idx);
    recite_error err = {0};
    expect_error(recite_catalog_build(idx, &err), &err, RECITE_EFORMAT, needle);
    assert_non_null(strstr(err.message, "'x'"));
    char *cat = path_join(idx, "catalog.sqlite");
    struct stat st;
    assert_int_not_equal(stat(cat, &st), 0); /* nothing written */
    free(cat);
    free(j);
    free(p);
    free(idx);
}

static void test_bad_runs(void **state)
{
    fixture *f = *state;
    expect_bad_runs(f, "[1, 2]", "\"runs\" must be a string or an array of strings");
    expect_bad_runs(f, "[\"a,b\"]", "run name \"a,b\"");
    if (getenv("RECITE_TEST_QUICK")) /* an index build each: the rest natively only */
        return;
    expect_bad_runs(f, "{\"a\": 1}", "\"runs\" must be");
    expect_bad_runs(f, "true", "\"runs\" must be");
    expect_bad_runs(f, "\"\"", "run name \"\"");
    expect_bad_runs(f, "[\"ok\", \"tab\\there\"]", "control characters");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hash_of_a_long_work, setup, teardown),
        cmocka_unit_test_setup_teardown(test_filters, setup, teardown),
        cmocka_unit_test_setup_teardown(test_runs_counts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_delete_and_audit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_delete_errors_change_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_append_only, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rebuild_keeps_deletions_and_audit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_delete_after_rebuild_through_old_handle, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_index_rebuild_keeps_catalogue, setup, teardown),
        cmocka_unit_test_setup_teardown(test_current_index, setup, teardown),
        cmocka_unit_test_setup_teardown(test_locked, setup, teardown),
        cmocka_unit_test_setup_teardown(test_corrupt_foreign_newer, setup, teardown),
        cmocka_unit_test_setup_teardown(test_missing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_runs, setup, teardown),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}

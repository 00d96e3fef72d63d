/*
 * test_shards.c — sharded indexes through the API (recite_index_build_sharded): a check of a
 * sharded index equals, field by field, the check of one index of the same library (common
 * language included, which only the whole library's counts make common); works keep their
 * numbers, ids and representatives; a distributed build (here two participants in threads with
 * a communicator of the test's own) fails on every participant when one fails, and leaves
 * nothing behind; a communicator that does not match the shards is refused.
 */
#include "test_util.h"

#include <pthread.h>

#include "recite.h"

typedef struct fixture {
    char *dir, *lib, *one, *sharded;
} fixture;

static char *gen_words(uint64_t seed, size_t n)
{
    static const char *const syl[] = {"ka", "lo", "mi", "nu", "pe", "ru", "sa", "ti", "vo", "zu"};
    rng r = {seed * 0x9e3779b97f4a7c15ULL + 1};
    char *s = malloc(n * 12 + 1);
    size_t at = 0;
    for (size_t w = 0; w < n; w++) {
        unsigned k = 2 + (unsigned)rng_below(&r, 3);
        for (unsigned i = 0; i < k; i++)
            at += (size_t)sprintf(s + at, "%s", syl[rng_below(&r, 10)]);
        s[at++] = ' ';
    }
    s[at] = 0;
    return s;
}

/* 70 works sharing a boilerplate passage (common language of the library: 70 families, no
 * shard of three holds 64 of them), two identical copies, and four license texts. */
static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    test_dirs_make(&f->dir, &f->lib, &f->one);
    f->sharded = path_join(f->dir, "sharded");
    char *boiler = gen_words(1000, 60);
    for (int i = 0; i < 70; i++) {
        char *a = gen_words((uint64_t)i + 1, 150), *b = gen_words((uint64_t)i + 500, 100), *text,
             name[32];
        assert_true(asprintf(&text, "%s\n\n%s\n\n%s\n", a, boiler, b) >= 0);
        snprintf(name, sizeof name, "w%02d.txt", i);
        test_put(f->lib, name, text, strlen(text));
        free(a);
        free(b);
        free(text);
    }
    free(boiler);
    char *dup = gen_words(4242, 120);
    test_put(f->lib, "dup1.txt", dup, strlen(dup));
    test_put(f->lib, "zdup2.txt", dup, strlen(dup));
    free(dup);
    static const char *const names[] = {"GPL-3", "Apache-2.0", "MPL-2.0", "Artistic"};
    for (size_t i = 0; i < 4; i++)
        free(test_put_license(f->lib, names[i], NULL));
    test_build(f->lib, f->one, NULL);
    recite_build_options opt = test_opts();
    const char *paths[] = {f->lib};
    recite_error err = {0};
    recite_build_stats st;
    if (recite_index_build_sharded(&st, f->sharded, paths, 1, 3, NULL, &opt, &err) != RECITE_OK)
        fail_msg("sharded build: %s", err.message);
    assert_int_equal(st.works, 76);
    assert_int_equal(st.clusters, 75);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    free(f->sharded);
    test_dirs_free(f->dir, f->lib, f->one);
    free(f);
    return 0;
}

static void same_result(const recite_result *a, const recite_result *b)
{
    assert_same_matches(a, b);
    assert_int_equal(a->nworks, b->nworks);
    assert_int_equal(a->common_others, b->common_others);
    assert_int_equal(a->truncated, b->truncated);
    assert_int_equal(a->tokens, b->tokens);
    for (size_t i = 0; i < a->nworks; i++) {
        const recite_work_hit *x = &a->works[i], *y = &b->works[i];
        assert_int_equal(x->work, y->work);
        assert_int_equal(x->matches, y->matches);
        assert_int_equal(x->tokens_covered, y->tokens_covered);
        assert_int_equal(x->longest_tokens, y->longest_tokens);
        assert_int_equal(x->common, y->common);
        assert_int_equal(x->cmi, y->cmi);
        assert_string_equal(x->license, y->license);
        assert_true(x->coverage == y->coverage);
    }
}

static void test_shards_check_equal(void **state)
{
    fixture *f = *state;
    recite_index *one, *sh;
    recite_checker *c1, *c2;
    test_open(f->one, &one, &c1, NULL);
    test_open(f->sharded, &sh, &c2, NULL);
    assert_int_equal(recite_index_work_count(one), recite_index_work_count(sh));
    for (uint32_t w = 0; w < recite_index_work_count(one); w++) {
        recite_work_info a, b;
        assert_int_equal(recite_index_work(&a, one, w), RECITE_OK);
        assert_int_equal(recite_index_work(&b, sh, w), RECITE_OK);
        assert_string_equal(a.id, b.id);
        assert_int_equal(a.representative, b.representative);
        assert_int_equal(a.tokens, b.tokens);
        uint32_t n1, n2;
        const uint32_t *m1 = recite_index_cluster_members(one, a.cluster, &n1);
        const uint32_t *m2 = recite_index_cluster_members(sh, b.cluster, &n2);
        assert_int_equal(n1, n2);
        assert_memory_equal(m1, m2, n1 * sizeof *m1);
    }
    /* The boilerplate alone (common language), a work's own text around it, the duplicated
     * text, license text: the same results. */
    char *w5 = NULL, *boiler = gen_words(1000, 60), *dup = gen_words(4242, 120), *lic;
    size_t len;
    char *path = path_join(f->lib, "w05.txt");
    w5 = read_file(path, &len);
    free(path);
    path = path_join(f->lib, "GPL-3");
    lic = read_file(path, &len);
    free(path);
    lic[3000] = 0;
    const char *texts[] = {boiler, w5, dup, lic + 1000};
    bool common_seen = false;
    for (size_t i = 0; i < 4; i++) {
        const recite_result *r1, *r2;
        recite_error err = {0};
        assert_int_equal(recite_check_text(&r1, c1, texts[i], strlen(texts[i]), &err), RECITE_OK);
        assert_int_equal(recite_check_text(&r2, c2, texts[i], strlen(texts[i]), &err), RECITE_OK);
        assert_true(r1->nmatches > 0);
        same_result(r1, r2);
        common_seen |= i == 0 && r1->matches[0].common && r1->common_others > 0;
    }
    assert_true(common_seen);
    free(w5);
    free(boiler);
    free(dup);
    free(lic);
    recite_checker_free(c1);
    recite_checker_free(c2);
    recite_index_close(one);
    recite_index_close(sh);
}

/* A text of 60 whole works: enough seeds for a sharded index to verify its shards in parallel
 * threads (match_shards.c); the same result as one index. */
static void test_shards_parallel_verify(void **state)
{
    fixture *f = *state;
    recite_index *one, *sh;
    recite_checker *c1, *c2;
    test_open(f->one, &one, &c1, NULL);
    test_open(f->sharded, &sh, &c2, NULL);
    size_t cap = 1 << 20, n = 0;
    char *text = malloc(cap);
    for (int i = 0; i < 60; i++) {
        char name[32], *w;
        size_t len = 0;
        snprintf(name, sizeof name, "w%02d.txt", i);
        char *p = path_join(f->lib, name);
        w = read_file(p, &len);
        free(p);
        assert_true(n + len + 2 < cap);
        memcpy(text + n, w, len);
        n += len;
        text[n++] = '\n';
        free(w);
    }
    text[n] = 0;
    const recite_result *r1, *r2;
    recite_error err = {0};
    assert_int_equal(recite_check_text(&r1, c1, text, n, &err), RECITE_OK);
    assert_int_equal(recite_check_text(&r2, c2, text, n, &err), RECITE_OK);
    assert_true(r1->nworks >= 60);
    same_result(r1, r2);
    free(text);
    recite_checker_free(c1);
    recite_checker_free(c2);
    recite_index_close(one);
    recite_index_close(sh);
}

/* Code works: a fork of the check per run of shards builds its own bit array of the k-grams
 * seed_alone reads (the shapes' channel), and one made by an earlier check of the same checker
 * is not shared with them. A small check first (verified in one thread), then one of 40 whole
 * works (in parallel), then the small one again: the results of one index each time. */
static void test_shards_parallel_code(void **state)
{
    (void)state;
    char *dir, *lib, *one, *sharded;
    test_dirs_make(&dir, &lib, &one);
    sharded = path_join(dir, "sharded");
    size_t cap = 1 << 21, n = 0;
    char *all = malloc(cap);
    for (int i = 0; i < 48; i++) {
        char name[32], *code = NULL;
        size_t len = 0;
        for (int fn = 0; fn < 12; fn++) {
            char *a = gen_words((uint64_t)i * 100 + (uint64_t)fn, 4), *line;
            char *sp1 = strchr(a, ' '), *sp2 = strchr(sp1 + 1, ' '), *sp3 = strchr(sp2 + 1, ' ');
            *sp1 = *sp2 = *sp3 = 0;
            assert_true(
                asprintf(&line,
                         "%sstatic int %s_%d(int %s, int %s)\n{\n    int %s = %s + %s * %d;"
                         "\n    if (%s > %d)\n        return %s - %s;\n    return %s;\n}\n\n",
                         code ? code : "", a, fn, sp1 + 1, sp2 + 1, sp3 + 1, sp1 + 1, sp2 + 1,
                         fn + 3, sp3 + 1, i + fn, sp3 + 1, sp1 + 1, sp3 + 1) >= 0);
            free(code);
            free(a);
            code = line;
        }
        len = strlen(code);
        snprintf(name, sizeof name, "c%02d.c", i);
        test_put(lib, name, code, len);
        if (i < 40) {
            assert_true(n + len + 1 < cap);
            memcpy(all + n, code, len);
            n += len;
        }
        free(code);
    }
    all[n] = 0;
    recite_build_options opt = test_opts();
    opt.mode = RECITE_MODE_AUTO; /* .c files: code */
    test_build(lib, one, &opt);
    const char *paths[] = {lib};
    recite_error err = {0};
    recite_build_stats st;
    assert_int_equal(recite_index_build_sharded(&st, sharded, paths, 1, 3, NULL, &opt, &err),
                     RECITE_OK);
    recite_index *i1, *ish;
    recite_checker *c1, *c2;
    recite_check_options copt = RECITE_CHECK_OPTIONS_INIT;
    copt.max_postings = 1000000; /* no channel's quota cut: seed_alone reads its bits */
    test_open(one, &i1, &c1, &copt);
    test_open(sharded, &ish, &c2, &copt);
    const recite_result *r1, *r2;
    size_t small = 1500;
    for (int round = 0; round < 3; round++) {
        size_t len = round == 1 ? n : small;
        assert_int_equal(recite_check_text(&r1, c1, all, len, &err), RECITE_OK);
        assert_int_equal(recite_check_text(&r2, c2, all, len, &err), RECITE_OK);
        assert_true(r1->nmatches > 0);
        if (round == 1)
            assert_true(r1->nworks >= 40);
        same_result(r1, r2);
    }
    free(all);
    recite_checker_free(c1);
    recite_checker_free(c2);
    recite_index_close(i1);
    recite_index_close(ish);
    test_dirs_free(dir, lib, one);
    free(sharded);
}

/* The same result as one index when a limit cuts the check short (truncated): the seeds,
 * candidates and runs kept are those one index keeps, in the library's order — the quota of
 * seeds may end inside the postings of a k-gram that several shards hold (the first ones in
 * the library's order are taken), and so may the cap on candidates and on runs. */
static void test_shards_limits(void **state)
{
    fixture *f = *state;
    recite_index *one, *sh;
    test_open(f->one, &one, NULL, NULL);
    test_open(f->sharded, &sh, NULL, NULL);
    size_t cap = 1 << 20, n = 0;
    char *text = malloc(cap);
    for (int i = 0; i < 70; i += 3) { /* works in both shards, the boilerplate in each */
        char name[32], *w;
        size_t len = 0;
        snprintf(name, sizeof name, "w%02d.txt", i);
        char *p = path_join(f->lib, name);
        w = read_file(p, &len);
        free(p);
        memcpy(text + n, w, len);
        n += len;
        text[n++] = '\n';
        free(w);
    }
    unsigned truncated = 0;
    for (unsigned v = 1; v < 120; v += 7) {
        for (unsigned which = 0; which < 3; which++) {
            recite_check_options o = RECITE_CHECK_OPTIONS_INIT;
            if (which == 0)
                o.max_postings = 40 * v;
            else if (which == 1)
                o.max_candidates = v / 4 + 1;
            else
                o.max_matches = v / 3 + 1;
            recite_checker *c1, *c2;
            recite_error err = {0};
            assert_int_equal(recite_checker_create(&c1, one, &o, &err), RECITE_OK);
            assert_int_equal(recite_checker_create(&c2, sh, &o, &err), RECITE_OK);
            const recite_result *r1, *r2;
            assert_int_equal(recite_check_text(&r1, c1, text, n, &err), RECITE_OK);
            assert_int_equal(recite_check_text(&r2, c2, text, n, &err), RECITE_OK);
            same_result(r1, r2);
            for (size_t i = 0; i < r1->nmatches; i++)
                assert_int_equal(r1->matches[i].shared_by, r2->matches[i].shared_by);
            truncated += r1->truncated != 0;
            recite_checker_free(c1);
            recite_checker_free(c2);
        }
    }
    assert_true(truncated > 20); /* the limits were reached */
    free(text);
    recite_index_close(one);
    recite_index_close(sh);
}

/* ==== a communicator of the test's own: participants in threads ==== */

typedef struct tcomm {
    pthread_barrier_t bar;
    const void *send[2];
    const size_t *lens[2];
    size_t len[2];
} tcomm;

typedef struct member {
    tcomm *t;
    unsigned rank;
    const char *dir;
    const char *path;
    int rc;
    recite_error err;
} member;

static int t_allgather(void *user, const void *send, size_t len, void **out, size_t *lens)
{
    member *m = user;
    m->t->send[m->rank] = send;
    m->t->len[m->rank] = len;
    pthread_barrier_wait(&m->t->bar);
    char *buf = malloc(m->t->len[0] + m->t->len[1] + 1);
    memcpy(buf, m->t->send[0], m->t->len[0]);
    memcpy(buf + m->t->len[0], m->t->send[1], m->t->len[1]);
    lens[0] = m->t->len[0];
    lens[1] = m->t->len[1];
    pthread_barrier_wait(&m->t->bar);
    *out = buf;
    return RECITE_OK;
}

static int t_alltoall(void *user, const void *send, const size_t *send_lens, void **out,
                      size_t *recv_lens)
{
    member *m = user;
    m->t->send[m->rank] = send;
    m->t->lens[m->rank] = send_lens;
    pthread_barrier_wait(&m->t->bar);
    size_t total = 0;
    for (unsigned r = 0; r < 2; r++)
        total += recv_lens[r] = m->t->lens[r][m->rank];
    char *buf = malloc(total + 1), *p = buf;
    for (unsigned r = 0; r < 2; r++) {
        size_t from = m->rank ? m->t->lens[r][0] : 0;
        memcpy(p, (const char *)m->t->send[r] + from, recv_lens[r]);
        p += recv_lens[r];
    }
    pthread_barrier_wait(&m->t->bar);
    *out = buf;
    return RECITE_OK;
}

static void *member_run(void *arg)
{
    member *m = arg;
    recite_comm comm = {m->rank, 2, t_allgather, t_alltoall, m};
    recite_build_options opt = test_opts();
    const char *paths[] = {m->path};
    m->rc = recite_index_build_sharded(NULL, m->dir, paths, 1, 2, &comm, &opt, &m->err);
    return NULL;
}

static void run_pair(const char *dir, const char *path0, const char *path1, member *ms)
{
    tcomm t;
    pthread_barrier_init(&t.bar, NULL, 2);
    pthread_t th[2];
    ms[0] = (member){&t, 0, dir, path0, -99, {0}};
    ms[1] = (member){&t, 1, dir, path1, -99, {0}};
    for (int i = 0; i < 2; i++)
        assert_int_equal(pthread_create(&th[i], NULL, member_run, &ms[i]), 0);
    for (int i = 0; i < 2; i++)
        pthread_join(th[i], NULL);
    pthread_barrier_destroy(&t.bar);
}

static void test_shards_distributed(void **state)
{
    fixture *f = *state;
    member ms[2];
    /* Both participants with the same inputs: the same index as in one process. */
    char *d = path_join(f->dir, "dist");
    run_pair(d, f->lib, f->lib, ms);
    assert_int_equal(ms[0].rc, RECITE_OK);
    assert_int_equal(ms[1].rc, RECITE_OK);
    recite_index *idx;
    test_open(d, &idx, NULL, NULL);
    recite_index_stats st;
    recite_index_get_stats(&st, idx);
    assert_int_equal(st.shards, 2);
    assert_int_equal(st.works, 76);
    recite_error err = {0};
    assert_int_equal(recite_index_verify(idx, &err), RECITE_OK);
    recite_index_close(idx);
    /* One participant cannot read its input: both fail, with its message, and nothing is
     * left (no index, no temporary directory). */
    char *bad = path_join(f->dir, "bad"), *missing = path_join(f->dir, "no-such-dir");
    run_pair(bad, f->lib, missing, ms);
    assert_int_not_equal(ms[0].rc, RECITE_OK);
    assert_int_not_equal(ms[1].rc, RECITE_OK);
    assert_non_null(strstr(ms[0].err.message, "shard 1"));
    assert_non_null(strstr(ms[0].err.message, "no-such-dir"));
    struct stat sb;
    assert_int_not_equal(stat(bad, &sb), 0);
    DIR *dd = opendir(f->dir);
    struct dirent *e;
    while ((e = readdir(dd)) != NULL)
        if (strncmp(e->d_name, ".bad.tmp-", 9) == 0)
            fail_msg("temporary directory left behind: %s", e->d_name);
    closedir(dd);
    free(d);
    free(bad);
    free(missing);
}

static void test_shards_refused(void **state)
{
    fixture *f = *state;
    const char *paths[] = {f->lib};
    recite_build_options opt = test_opts();
    recite_error err = {0};
    recite_comm comm = {0, 2, t_allgather, t_alltoall, NULL};
    char *d = path_join(f->dir, "refused");
    assert_int_equal(recite_index_build_sharded(NULL, d, paths, 1, 3, &comm, &opt, &err),
                     RECITE_EINVAL);
    assert_non_null(strstr(err.message, "one shard per participant"));
    assert_int_equal(recite_index_build_sharded(NULL, d, paths, 1, 0, NULL, &opt, &err),
                     RECITE_EINVAL);
    struct stat sb;
    assert_int_not_equal(stat(d, &sb), 0);
    free(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shards_check_equal),   cmocka_unit_test(test_shards_parallel_verify),
        cmocka_unit_test(test_shards_parallel_code), cmocka_unit_test(test_shards_limits),
        cmocka_unit_test(test_shards_distributed),   cmocka_unit_test(test_shards_refused),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}

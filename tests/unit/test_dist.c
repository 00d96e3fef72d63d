/*
 * test_dist.c — distributed checks through the API (recite_index_open_part,
 * recite_check_distributed): participants in threads with a communicator of the test's own,
 * each holding part of a sharded index, give participant 0 the result and the JSON and text
 * reports of one index of the same library — common language, duplicates, licenses (CMI),
 * code found by its words, a long text, checks cut short by limits — whether one, two, three or
 * four participants (more than shards) share the shards; a repetitive text against a repetitive
 * work, bounded and still the same; a part refuses ordinary checks and
 * knows other shards' works only as a check brought them; a participant that cannot take part
 * fails the check on all.
 */
#include "test_util.h"

#include <pthread.h>

#include "check/rc_checker.h"
#include "recite.h"

#define MAXP 4
#define NTEXTS 8

typedef struct fixture {
    char *dir, *lib, *one, *sharded;
    char *texts[NTEXTS];
    size_t lens[NTEXTS];
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

static char *lib_file(const fixture *f, const char *name, size_t *len)
{
    char *p = path_join(f->lib, name);
    char *t = read_file(p, len);
    free(p);
    assert_non_null(t);
    return t;
}

/* 40 works sharing a boilerplate passage (common language), a duplicated text, licenses, a
 * Python module whose comments are prose and one of names only; one index, and 3 shards. */
static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    test_dirs_make(&f->dir, &f->lib, &f->one);
    f->sharded = path_join(f->dir, "sharded");
    char *boiler = gen_words(1000, 60);
    for (int i = 0; i < 40; i++) {
        char *a = gen_words((uint64_t)i + 1, 150), *b = gen_words((uint64_t)i + 500, 100), *text,
             name[32];
        assert_true(asprintf(&text, "%s\n\n%s\n\n%s\n", a, boiler, b) >= 0);
        snprintf(name, sizeof name, "w%02d.txt", i);
        test_put(f->lib, name, text, strlen(text));
        free(a);
        free(b);
        free(text);
    }
    char *dup = gen_words(4242, 120);
    test_put(f->lib, "dup1.txt", dup, strlen(dup));
    test_put(f->lib, "zdup2.txt", dup, strlen(dup));
    static const char *const names[] = {"GPL-3", "Apache-2.0", "MPL-2.0"};
    for (size_t i = 0; i < 3; i++)
        free(test_put_license(f->lib, names[i], NULL));
    char *doc = gen_words(777, 40), *code;
    assert_true(asprintf(&code,
                         "# %s\n"
                         "def merge(left, right):\n"
                         "    out = []\n"
                         "    while left and right:\n"
                         "        out.append(left.pop(0) if left[0] < right[0] else right.pop(0))\n"
                         "    return out + left + right\n",
                         doc) >= 0);
    test_put(f->lib, "merge.py", code, strlen(code));
    /* Code whose lexemes are names only (no operator, no bracket): the code channels do not
     * look such k-grams up, in one index or in shards; its words find it. */
    char *mods = gen_words(999, 30), dels[2048] = "", *tok = strtok(mods, " ");
    for (; tok; tok = strtok(NULL, " "))
        strcat(strcat(strcat(dels, "del "), tok), "\n");
    test_put(f->lib, "names.py", dels, strlen(dels));
    free(mods);
    recite_build_options opt = test_opts();
    opt.mode = RECITE_MODE_AUTO;
    test_build(f->lib, f->one, &opt);
    const char *paths[] = {f->lib};
    recite_error err = {0};
    if (recite_index_build_sharded(NULL, f->sharded, paths, 1, 3, NULL, &opt, &err) != RECITE_OK)
        fail_msg("sharded build: %s", err.message);
    /* The texts checked: common language, a work with it, the duplicate, a license, the code's
     * comment, nothing, 10 whole works, the module of names. */
    size_t len;
    f->texts[0] = boiler;
    f->texts[1] = lib_file(f, "w05.txt", &len);
    f->texts[2] = dup;
    char *gpl = lib_file(f, "GPL-3", &len);
    f->texts[3] = strndup(gpl + 2000, 3000);
    free(gpl);
    assert_true(asprintf(&f->texts[4], "It says: %s and more.", doc) >= 0);
    f->texts[5] = gen_words(31337, 200);
    size_t cap = 1 << 20, n = 0;
    f->texts[6] = malloc(cap);
    for (int i = 0; i < 40; i += 4) {
        char name[32];
        snprintf(name, sizeof name, "w%02d.txt", i);
        char *w = lib_file(f, name, &len);
        memcpy(f->texts[6] + n, w, len);
        n += len;
        f->texts[6][n++] = '\n';
        free(w);
    }
    f->texts[6][n] = 0;
    f->texts[7] = lib_file(f, "names.py", &len);
    for (int i = 0; i < NTEXTS; i++)
        f->lens[i] = strlen(f->texts[i]);
    free(doc);
    free(code);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    for (int i = 0; i < NTEXTS; i++)
        free(f->texts[i]);
    free(f->sharded);
    test_dirs_free(f->dir, f->lib, f->one);
    free(f);
    return 0;
}

/* ==== a communicator of the test's own: participants in threads ==== */

typedef struct tcomm {
    pthread_barrier_t bar;
    unsigned n;
    const void *send[MAXP];
    size_t len[MAXP];
} tcomm;

typedef struct participant {
    tcomm *t;
    unsigned rank;
    const fixture *f;
    recite_check_options opt;
    unsigned part, nparts; /* the part of the index it opens */
    /* participant 0: the reports of every text (JSON, text), and the figures of its result */
    char *json[NTEXTS], *text[NTEXTS];
    int truncated[NTEXTS];
    uint64_t memo_hits; /* lookups answered without a scan (rc_match_scan), all texts */
    int rc;
    recite_error err;
} participant;

static int t_allgather(void *user, const void *send, size_t len, void **out, size_t *lens)
{
    participant *p = user;
    tcomm *t = p->t;
    t->send[p->rank] = send;
    t->len[p->rank] = len;
    pthread_barrier_wait(&t->bar);
    size_t total = 0;
    for (unsigned r = 0; r < t->n; r++)
        total += lens[r] = t->len[r];
    char *buf = malloc(total + 1), *q = buf;
    for (unsigned r = 0; r < t->n; r++) {
        memcpy(q, t->send[r], t->len[r]);
        q += t->len[r];
    }
    pthread_barrier_wait(&t->bar);
    *out = buf;
    return RECITE_OK;
}

static void *participate(void *arg)
{
    participant *p = arg;
    recite_comm comm = {p->rank, p->t->n, t_allgather, NULL, p};
    recite_index *idx = NULL;
    recite_checker *chk = NULL;
    p->rc = recite_index_open_part(&idx, p->f->sharded, NULL, 0, p->part, p->nparts, &p->err);
    if (p->rc == RECITE_OK)
        p->rc = recite_checker_create(&chk, idx, &p->opt, &p->err);
    for (int i = 0; i < NTEXTS; i++) {
        const recite_result *res;
        /* A participant that failed to open takes part all the same (with a NULL checker it
         * cannot: the others would wait; the test gives every one an index). */
        if (!chk)
            break;
        int rc = recite_check_distributed(&res, chk, &comm, p->f->texts[i], p->f->lens[i], &p->err);
        if (rc != RECITE_OK) {
            p->rc = rc;
            break;
        }
        if (p->rank == 0) {
            p->truncated[i] = res->truncated;
            if (recite_report_json(&p->json[i], idx, NULL, "t", p->f->texts[i], p->f->lens[i], res,
                                   &p->err) != RECITE_OK ||
                recite_report_text(&p->text[i], idx, NULL, "t", p->f->texts[i], p->f->lens[i], res,
                                   &p->err) != RECITE_OK)
                p->rc = RECITE_EIO;
        }
    }
    if (chk)
        p->memo_hits = chk->m->lookup_memo_hits;
    recite_checker_free(chk);
    recite_index_close(idx);
    return NULL;
}

/* n participants in threads, each opening part `part` of nparts (its own rank when part is
 * UINT32_MAX). */
static void run(const fixture *f, unsigned n, const recite_check_options *opt, unsigned bad_rank,
                participant *ps)
{
    tcomm t;
    memset(&t, 0, sizeof t);
    t.n = n;
    pthread_barrier_init(&t.bar, NULL, n);
    pthread_t th[MAXP];
    for (unsigned r = 0; r < n; r++) {
        memset(&ps[r], 0, sizeof ps[r]);
        ps[r] = (participant){.t = &t, .rank = r, .f = f, .part = r, .nparts = n, .rc = -99};
        ps[r].opt = *opt;
        if (r == bad_rank) /* opens another part than its rank's */
            ps[r].part = (r + 1) % n;
    }
    for (unsigned r = 0; r < n; r++)
        assert_int_equal(pthread_create(&th[r], NULL, participate, &ps[r]), 0);
    for (unsigned r = 0; r < n; r++)
        pthread_join(th[r], NULL);
    pthread_barrier_destroy(&t.bar);
}

static void free_reports(participant *p)
{
    for (int i = 0; i < NTEXTS; i++) {
        free(p->json[i]);
        free(p->text[i]);
    }
}

/* The reports of one index, with the same options. */
static void reference(const fixture *f, const recite_check_options *opt, char **json, char **text,
                      int *truncated)
{
    recite_index *one;
    recite_checker *c;
    test_open(f->one, &one, &c, opt);
    recite_error err = {0};
    for (int i = 0; i < NTEXTS; i++) {
        const recite_result *r;
        assert_int_equal(recite_check_text(&r, c, f->texts[i], f->lens[i], &err), RECITE_OK);
        truncated[i] = r->truncated;
        assert_int_equal(
            recite_report_json(&json[i], one, NULL, "t", f->texts[i], f->lens[i], r, &err),
            RECITE_OK);
        assert_int_equal(
            recite_report_text(&text[i], one, NULL, "t", f->texts[i], f->lens[i], r, &err),
            RECITE_OK);
    }
    recite_checker_free(c);
    recite_index_close(one);
}

static void same_as_one(const fixture *f, const recite_check_options *opt, unsigned n,
                        int *truncated_seen)
{
    char *json[NTEXTS], *text[NTEXTS];
    int truncated[NTEXTS];
    reference(f, opt, json, text, truncated);
    participant ps[MAXP];
    run(f, n, opt, UINT32_MAX, ps);
    for (unsigned r = 0; r < n; r++)
        if (ps[r].rc != RECITE_OK)
            fail_msg("%u participants: participant %u: %s", n, r, ps[r].err.message);
    for (int i = 0; i < NTEXTS; i++) {
        if (strcmp(json[i], ps[0].json[i]) != 0)
            fail_msg("%u participants, text %d: JSON report differs\n%s\n%s", n, i, json[i],
                     ps[0].json[i]);
        assert_string_equal(text[i], ps[0].text[i]);
        assert_int_equal(truncated[i], ps[0].truncated[i]);
        *truncated_seen += truncated[i];
        free(json[i]);
        free(text[i]);
    }
    for (unsigned r = 0; r < n; r++)
        free_reports(&ps[r]);
}

static void test_dist_same_report(void **state)
{
    fixture *f = *state;
    recite_check_options opt = RECITE_CHECK_OPTIONS_INIT;
    int truncated = 0;
    for (unsigned n = 1; n <= MAXP; n++) /* 4: one participant holds no shard */
        same_as_one(f, &opt, n, &truncated);
    assert_int_equal(truncated, 0);
    /* The sharded index opened whole, in one process: the same reports too. */
    char *json[NTEXTS], *text[NTEXTS];
    int tr[NTEXTS];
    reference(f, &opt, json, text, tr);
    recite_index *sh;
    recite_checker *c;
    test_open(f->sharded, &sh, &c, &opt);
    for (int i = 0; i < NTEXTS; i++) {
        const recite_result *r;
        recite_error err = {0};
        char *js;
        assert_int_equal(recite_check_text(&r, c, f->texts[i], f->lens[i], &err), RECITE_OK);
        assert_int_equal(recite_report_json(&js, sh, NULL, "t", f->texts[i], f->lens[i], r, &err),
                         RECITE_OK);
        if (strcmp(js, json[i]) != 0)
            fail_msg("sharded index, text %d: JSON report differs\n%s\n%s", i, json[i], js);
        free(js);
    }
    recite_checker_free(c);
    recite_index_close(sh);
    /* The reports say what the test means them to: common language, the duplicate, the
     * license's CMI, the code found by its words. */
    assert_non_null(strstr(json[0], "\"common\":true"));
    assert_non_null(strstr(json[2], "zdup2.txt\"],\"source_token\""));
    assert_non_null(strstr(json[3], "/GPL-3\""));
    assert_non_null(strstr(json[4], "/merge.py\""));
    assert_non_null(strstr(json[5], "\"matches\":[]"));
    assert_non_null(strstr(json[7], "/names.py\""));
    for (int i = 0; i < NTEXTS; i++) {
        free(json[i]);
        free(text[i]);
    }
}

/* Limits that cut the checks short: the same cut as one index's. */
static void test_dist_limits(void **state)
{
    fixture *f = *state;
    int truncated = 0;
    for (unsigned which = 0; which < 3; which++) {
        recite_check_options opt = RECITE_CHECK_OPTIONS_INIT;
        if (which == 0)
            opt.max_postings = 300;
        else if (which == 1)
            opt.max_matches = 7;
        else
            opt.max_candidates = 3;
        same_as_one(f, &opt, 2, &truncated);
    }
    assert_true(truncated >= 3);
}

/* A part: its own shards' works, the others' unknown until a check brings them; ordinary
 * checks refused. */
static void test_dist_part(void **state)
{
    fixture *f = *state;
    recite_index *one, *part;
    test_open(f->one, &one, NULL, NULL);
    recite_error err = {0};
    assert_int_equal(recite_index_open_part(&part, f->sharded, NULL, 0, 1, 2, &err), RECITE_OK);
    recite_index_stats st;
    recite_index_get_stats(&st, part);
    assert_int_equal(st.shards, 3);
    assert_int_equal(st.works, recite_index_work_count(one));
    unsigned known = 0;
    for (uint32_t w = 0; w < recite_index_work_count(one); w++) {
        recite_work_info a, b;
        assert_int_equal(recite_index_work(&a, one, w), RECITE_OK);
        if (recite_index_work(&b, part, w) == RECITE_OK) {
            assert_string_equal(a.id, b.id);
            known++;
        }
    }
    assert_true(known > 0 && known < recite_index_work_count(one)); /* shard 1 only */
    recite_checker *c;
    assert_int_equal(recite_checker_create(&c, part, NULL, &err), RECITE_OK);
    const recite_result *r;
    assert_int_equal(recite_check_text(&r, c, f->texts[0], f->lens[0], &err), RECITE_EINVAL);
    assert_non_null(strstr(err.message, "in part"));
    recite_checker_free(c);
    recite_index_close(part);
    assert_int_equal(recite_index_open_part(&part, f->sharded, NULL, 0, 2, 2, &err), RECITE_EINVAL);
    /* An ordinary index opens whole. */
    assert_int_equal(recite_index_open_part(&part, f->one, NULL, 0, 1, 2, &err), RECITE_OK);
    recite_index_get_stats(&st, part);
    assert_int_equal(st.shards, 0);
    assert_int_equal(recite_checker_create(&c, part, NULL, &err), RECITE_OK);
    assert_int_equal(recite_check_text(&r, c, f->texts[0], f->lens[0], &err), RECITE_OK);
    recite_checker_free(c);
    recite_index_close(part);
    recite_index_close(one);
}

/* A participant whose index is another part than its rank's: the check fails on every
 * participant, with its message, and none waits for another. */
static void test_dist_refused(void **state)
{
    fixture *f = *state;
    recite_check_options opt = RECITE_CHECK_OPTIONS_INIT;
    participant ps[MAXP];
    run(f, 3, &opt, 2, ps);
    for (unsigned r = 0; r < 3; r++) {
        assert_int_equal(ps[r].rc, RECITE_EINVAL);
        assert_non_null(strstr(ps[r].err.message, "part 0 of 3"));
        free_reports(&ps[r]);
    }
    assert_non_null(strstr(ps[0].err.message, "participant 2"));
}

static char *repeat(const char *unit, size_t n)
{
    size_t u = strlen(unit);
    char *s = malloc(u * n + 1);
    for (size_t i = 0; i < n; i++)
        memcpy(s + u * i, unit, u);
    s[u * n] = 0;
    return s;
}

/* A repetitive text against a repetitive work: every k-gram of the text is the work's repeated
 * k-gram, with hundreds of postings. Each participant sent every posting of it for every k-gram
 * (40 KB of text: 23 GB, then a failed exchange) and one process holding the shards scanned
 * them all for every k-gram (quadratic: 38 s for 390 KB). The hits a participant sends are cut
 * to what can become seeds, and once its hits alone have spent the quota, a k-gram met again is
 * answered by a memo of its scan: the same reports and truncation as one index, with and
 * without limits, and most lookups answered by the memos. */
static void test_dist_repetitive(void **state)
{
    (void)state;
    fixture lf;
    memset(&lf, 0, sizeof lf);
    test_dirs_make(&lf.dir, &lf.lib, &lf.one);
    lf.sharded = path_join(lf.dir, "sharded");
    char *rep = repeat("zo ", 4000);
    test_put(lf.lib, "rep.txt", rep, strlen(rep));
    for (int i = 0; i < 4; i++) {
        char *w = gen_words((uint64_t)i + 77, 300), name[32];
        snprintf(name, sizeof name, "w%d.txt", i);
        test_put(lf.lib, name, w, strlen(w));
        if (i == 2)
            lf.texts[3] = w;
        else
            free(w);
    }
    recite_build_options bo = test_opts();
    test_build(lf.lib, lf.one, &bo);
    const char *paths[] = {lf.lib};
    recite_error err = {0};
    if (recite_index_build_sharded(NULL, lf.sharded, paths, 1, 2, NULL, &bo, &err) != RECITE_OK)
        fail_msg("sharded build: %s", err.message);
    char *half = repeat("zo ", 1500), *words = gen_words(5, 40);
    lf.texts[0] = rep;
    lf.texts[1] = repeat("zo ", 900);
    assert_true(asprintf(&lf.texts[2], "%s%s%s", half, words, half) >= 0);
    assert_true(asprintf(&lf.texts[4], "%s%s", lf.texts[3], half) >= 0);
    lf.texts[5] = repeat("zo zo ka ", 1000);
    lf.texts[6] = repeat("zo ", 40);
    lf.texts[7] = strdup(words);
    free(half);
    free(words);
    for (int i = 0; i < NTEXTS; i++)
        lf.lens[i] = strlen(lf.texts[i]);
    int truncated = 0;
    uint64_t memo_hits = 0;
    static const uint32_t quotas[] = {0, 1, 7, 30, 100, 450, 3000};
    for (unsigned which = 0; which < sizeof quotas / sizeof *quotas; which++) {
        recite_check_options opt = RECITE_CHECK_OPTIONS_INIT;
        opt.max_postings = quotas[which];
        for (unsigned n = 2; n <= 3; n++)
            same_as_one(&lf, &opt, n, &truncated);
        participant ps[MAXP];
        run(&lf, 2, &opt, UINT32_MAX, ps);
        for (unsigned r = 0; r < 2; r++) {
            assert_int_equal(ps[r].rc, RECITE_OK);
            memo_hits += ps[r].memo_hits;
            free_reports(&ps[r]);
        }
    }
    assert_true(truncated >= 3);
    assert_true(memo_hits > 4000); /* each run's text 0 alone has 4,000 k-grams */
    /* The sharded index opened whole in one process (rc_match_lookup_shards): the memo of
     * the channel answers most lookups, with what scanning every posting gives. */
    recite_index *sh;
    test_open(lf.sharded, &sh, NULL, NULL);
    recite_check_options opt = RECITE_CHECK_OPTIONS_INIT;
    opt.max_postings = 100;
    recite_checker *c, *every;
    assert_int_equal(recite_checker_create(&c, sh, &opt, &err), RECITE_OK);
    assert_int_equal(recite_checker_create(&every, sh, &opt, &err), RECITE_OK);
    every->m->lookup_every_posting = true;
    for (int i = 0; i < NTEXTS; i++) {
        const recite_result *r1, *r2;
        uint64_t before = c->m->lookup_memo_hits;
        assert_int_equal(recite_check_text(&r1, c, lf.texts[i], lf.lens[i], &err), RECITE_OK);
        if (i == 0)
            assert_true(c->m->lookup_memo_hits - before > 2000);
        assert_int_equal(recite_check_text(&r2, every, lf.texts[i], lf.lens[i], &err), RECITE_OK);
        assert_same_matches(r1, r2);
        assert_int_equal(r1->truncated, r2->truncated);
        assert_int_equal(r1->tokens, r2->tokens);
    }
    assert_int_equal(every->m->lookup_memo_hits, 0);
    recite_checker_free(c);
    recite_checker_free(every);
    recite_index_close(sh);
    for (int i = 0; i < NTEXTS; i++)
        free(lf.texts[i]);
    free(lf.sharded);
    test_dirs_free(lf.dir, lf.lib, lf.one);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dist_part),       cmocka_unit_test(test_dist_same_report),
        cmocka_unit_test(test_dist_limits),     cmocka_unit_test(test_dist_refused),
        cmocka_unit_test(test_dist_repetitive),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}

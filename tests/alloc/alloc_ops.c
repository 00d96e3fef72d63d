/*
 * alloc_ops.c — the operations the allocation-failure test runs (test_alloc.c): opening an
 * index and reading it, a check (batch and streamed), the reports, a policy, license
 * identification (its index cached and built), a build over a previous index, and the
 * catalogue (built, listed, changed). Each compares what it got with its run without failures
 * (a failure that was absorbed must not change a result) and checks what it left on disk.
 */
#include "test_alloc.h"

#include "index/rc_index.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ==== digests: what an operation gave, as text, compared with its baseline ==== */

static struct {
    char buf[1 << 18];
    size_t n;
} dg;

static void dg_reset(void)
{
    dg.n = 0;
    dg.buf[0] = 0;
}

__attribute__((format(printf, 1, 2))) static void dg_add(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(dg.buf + dg.n, sizeof dg.buf - dg.n, fmt, ap);
    va_end(ap);
    TA_CHECK(k >= 0 && (size_t)k < sizeof dg.buf - dg.n, "digest buffer too small");
    dg.n += (size_t)k;
}

static char *dg_take(void)
{
    char *s = strdup(dg.buf);
    TA_CHECK(s, "out of memory");
    return s;
}

static void dg_expect(const char *base, const char *what)
{
    if (strcmp(dg.buf, base) == 0)
        return;
    size_t i = 0;
    while (dg.buf[i] && dg.buf[i] == base[i])
        i++;
    size_t from = i > 80 ? i - 80 : 0;
    TA_CHECK(false,
             "%s differs from the run without failures at byte %zu:\n  got  %.160s\n  want %.160s",
             what, i, dg.buf + from, base + from);
}

static void digest_result(const recite_result *r)
{
    dg_add("tokens %llu bytes %llu truncated %d invalid %llu others %llu code %llu\n",
           (unsigned long long)r->tokens, (unsigned long long)r->bytes, r->truncated,
           (unsigned long long)r->invalid_utf8, (unsigned long long)r->common_others,
           (unsigned long long)r->code_tokens);
    for (size_t i = 0; i < r->nmatches; i++) {
        const recite_match *m = &r->matches[i];
        dg_add("match w%u out %llu-%llu src %llu-%llu t%llu n%u k%d s%.4f c%d\n", m->work,
               (unsigned long long)m->out_start, (unsigned long long)m->out_end,
               (unsigned long long)m->src_start, (unsigned long long)m->src_end,
               (unsigned long long)m->src_token, m->tokens, (int)m->kind, m->similarity, m->common);
    }
    for (size_t i = 0; i < r->nworks; i++) {
        const recite_work_hit *w = &r->works[i];
        dg_add("work w%u m%u cov %llu %.4f long %u c%d s%.4f cmi %d lic %s %.3f %d copy %s %d "
               "found %s %llu-%llu\n",
               w->work, w->matches, (unsigned long long)w->tokens_covered, w->coverage,
               w->longest_tokens, w->common, w->similarity, (int)w->cmi, w->license,
               w->license_score, (int)w->license_from, w->copyright, (int)w->copyright_from,
               w->cmi_found, (unsigned long long)w->cmi_found_start,
               (unsigned long long)w->cmi_found_end);
    }
}

static char *cache_listing;

/* What every operation that builds must leave as it was: the license cache. */
static void cache_baseline(void)
{
    if (!cache_listing)
        cache_listing = ta_list_dir(fx.cache);
}

static char *read_lib(const char *name, size_t *len)
{
    char *p = ta_join(fx.lib, name);
    char *s = ta_read(p, len);
    TA_CHECK(s, "%s: cannot read", p);
    free(p);
    return s;
}

/* Whether the directory holds what it held (no temporary files or directories left). */
static void expect_listing(const char *dir, const char *base, const char *what)
{
    char *now = ta_list_dir(dir);
    TA_CHECK(strcmp(now, base) == 0, "%s: %s holds\n%s\ninstead of\n%s", what, dir, now, base);
    free(now);
}

/* ==== index: open, verify, works, locators, text ==== */

static char *open_base;

static int open_run(recite_error *err)
{
    enum { MAXW = 16 };
    recite_index *idx = NULL;
    recite_work_info info[MAXW];
    recite_locator loc[MAXW];
    char *text[MAXW] = {0};
    size_t tlen[MAXW];
    uint32_t n = 0;
    int rc = recite_index_open(&idx, fx.idx, err);
    if (rc == RECITE_OK)
        rc = recite_index_verify(idx, err);
    /* The filters of posting keys: a failure to make one is absorbed (lookups go without). */
    for (unsigned c = 0; c < RC_CHANNELS && rc == RECITE_OK; c++)
        if (idx->ch[c].npostings && rc_index_filter_make(idx, c) != RECITE_OK)
            TA_CHECK(atomic_load(&idx->filter[c]) == NULL, "a filter half made");
    if (rc == RECITE_OK)
        n = recite_index_work_count(idx);
    for (uint32_t w = 0; w < n && w < MAXW && rc == RECITE_OK; w++) {
        rc = recite_index_work(&info[w], idx, w);
        if (rc == RECITE_OK)
            rc = recite_index_locate(&loc[w], idx, w, info[w].bytes / 2, err);
        if (rc == RECITE_OK)
            rc = recite_index_work_text(&text[w], &tlen[w], idx, w, 0,
                                        info[w].bytes < 300 ? info[w].bytes : 300, err);
    }
    ah_disarm();
    if (rc == RECITE_OK) {
        dg_reset();
        recite_index_stats st;
        recite_index_get_stats(&st, idx);
        dg_add("works %llu clusters %llu tokens %llu fps %llu\n", (unsigned long long)st.works,
               (unsigned long long)st.clusters, (unsigned long long)st.tokens,
               (unsigned long long)st.fingerprints);
        for (uint32_t w = 0; w < n && w < MAXW; w++)
            dg_add("%s|%s|%s|%s|%s|%llu|%u|line %llu|%.*s\n", info[w].id,
                   info[w].license ? info[w].license : "-",
                   info[w].cmi_json ? info[w].cmi_json : "-",
                   info[w].metadata_json ? info[w].metadata_json : "-",
                   info[w].content_hash ? info[w].content_hash : "-",
                   (unsigned long long)info[w].bytes, info[w].cluster,
                   (unsigned long long)loc[w].line, (int)tlen[w], text[w]);
        if (open_base)
            dg_expect(open_base, "the index read");
        else
            open_base = dg_take();
    }
    for (uint32_t w = 0; w < MAXW; w++)
        free(text[w]);
    recite_index_close(idx);
    return rc;
}

static void open_baseline(void)
{
    recite_error err;
    TA_CHECK(open_run(&err) == RECITE_OK, "%s", err.message);
}

/* ==== checks: batch and streamed ==== */

static char *check_base, *textfree_base;

static void check_baseline(void)
{
    dg_reset();
    digest_result(fx.result);
    free(check_base);
    check_base = dg_take();
}

static int check_run(recite_error *err)
{
    recite_checker *c = NULL;
    const recite_result *res = NULL;
    int rc = recite_checker_create(&c, fx.index, NULL, err);
    if (rc == RECITE_OK)
        rc = recite_check_text(&res, c, fx.output, fx.output_len, err);
    ah_disarm();
    if (rc == RECITE_OK) {
        dg_reset();
        digest_result(res);
        dg_expect(check_base, "the result");
    }
    recite_checker_free(c);
    return rc;
}

/* Pieces of 97 bytes, a poll after each: the final result is the batch one. */
static int stream_run(recite_error *err)
{
    recite_checker *c = NULL;
    const recite_result *res = NULL;
    int rc = recite_checker_create(&c, fx.index, NULL, err);
    size_t events = 0;
    for (size_t at = 0; at < fx.output_len && rc == RECITE_OK; at += 97) {
        size_t n = fx.output_len - at < 97 ? fx.output_len - at : 97;
        rc = recite_checker_feed(c, fx.output + at, n, err);
        recite_poll poll;
        if (rc == RECITE_OK)
            rc = recite_checker_poll(&poll, c, err);
        if (rc == RECITE_OK)
            events += poll.nevents;
    }
    if (rc == RECITE_OK)
        rc = recite_checker_finish(&res, c, err);
    ah_disarm();
    if (rc == RECITE_OK) {
        TA_CHECK(events > 0, "no span events while streaming");
        dg_reset();
        digest_result(res);
        dg_expect(check_base, "the streamed result");
    }
    recite_checker_free(c);
    return rc;
}

/* A text-free index: its key read from its file, the index opened with it, then the same
 * check (its spans are the same). */
static int textfree_run(recite_error *err)
{
    recite_index *idx = NULL;
    recite_checker *c = NULL;
    const recite_result *res = NULL;
    char *key = NULL;
    size_t key_len = 0;
    int rc = recite_key_read(&key, &key_len, fx.tfkey, err);
    if (rc == RECITE_OK) {
        TA_CHECK(key_len == TA_KEY_LEN && memcmp(key, ta_key, TA_KEY_LEN) == 0,
                 "the key read back differs");
        rc = recite_index_open_keyed(&idx, fx.tfidx, key, key_len, err);
    }
    free(key);
    if (rc == RECITE_OK)
        rc = recite_checker_create(&c, idx, NULL, err);
    if (rc == RECITE_OK)
        rc = recite_check_text(&res, c, fx.output, fx.output_len, err);
    ah_disarm();
    if (rc == RECITE_OK) {
        TA_CHECK(res->text_free, "the result of a text-free index says it is not");
        for (size_t i = 0; i < res->nmatches && i < fx.result->nmatches; i++)
            TA_CHECK(res->matches[i].out_start == fx.result->matches[i].out_start &&
                         res->matches[i].out_end == fx.result->matches[i].out_end,
                     "span %zu of the text-free index is not the ordinary index's", i);
        dg_reset();
        digest_result(res);
        if (textfree_base)
            dg_expect(textfree_base, "the text-free result");
        else
            textfree_base = dg_take();
    }
    recite_checker_free(c);
    recite_index_close(idx);
    return rc;
}

static void textfree_baseline(void)
{
    recite_error err;
    TA_CHECK(textfree_run(&err) == RECITE_OK, "%s", err.message);
}

/* ==== reports ==== */

static char *report_base;

static int report_run(recite_error *err)
{
    char *json = NULL, *text = NULL, *html = NULL;
    recite_report_html_options ho = RECITE_REPORT_HTML_OPTIONS_INIT;
    ho.index_name = "idx";
    ho.checked_unix = 1700000000;
    int rc = recite_report_json(&json, fx.index, fx.pol, "out.txt", fx.output, fx.output_len,
                                fx.result, err);
    if (rc == RECITE_OK)
        rc = recite_report_text(&text, fx.index, fx.pol, "out.txt", fx.output, fx.output_len,
                                fx.result, err);
    if (rc == RECITE_OK)
        rc = recite_report_html(&html, fx.index, fx.pol, "out.txt", fx.output, fx.output_len,
                                fx.result, &ho, err);
    ah_disarm();
    if (rc == RECITE_OK) {
        char *all;
        TA_CHECK(asprintf(&all, "%s\n----\n%s\n----\n%s", json, text, html) >= 0, "out of memory");
        if (report_base) {
            size_t i = 0;
            while (all[i] && all[i] == report_base[i])
                i++;
            TA_CHECK(strcmp(all, report_base) == 0,
                     "the reports differ from the run without failures at byte %zu: %.80s", i,
                     all + (i > 40 ? i - 40 : 0));
            free(all);
        } else {
            /* Every report shows a locator (what a failed allocation once dropped). */
            TA_CHECK(strstr(text, "!orchard.txt") && strstr(text, " line ") &&
                         strstr(json, "\"locator\":{\"member\"") &&
                         strstr(html, "<span class=\"tag\">line "),
                     "the reports show no locator of the archive member");
            report_base = all;
        }
    }
    free(json);
    free(text);
    free(html);
    return rc;
}

static void report_baseline(void)
{
    recite_error err;
    TA_CHECK(report_run(&err) == RECITE_OK, "%s", err.message);
}

/* ==== policy: load, parse, decide ==== */

static char *policy_text, *policy_base;

static void policy_digest(const recite_policy *p)
{
    recite_action actions[64];
    int rules[64];
    TA_CHECK(fx.result->nworks <= 64, "too many works");
    recite_action v = recite_policy_decide(actions, rules, p, fx.index, fx.result);
    dg_add("verdict %d:", (int)v);
    for (size_t i = 0; i < fx.result->nworks; i++)
        dg_add(" %d/%d", (int)actions[i], rules[i]);
    dg_add("\n");
}

static int policy_run(recite_error *err)
{
    recite_policy *a = NULL, *b = NULL;
    int rc = recite_policy_load(&a, fx.policy, fx.spdx, err);
    if (rc == RECITE_OK)
        rc = recite_policy_parse(&b, policy_text, strlen(policy_text), "inline.json", fx.spdx, err);
    ah_disarm();
    if (rc == RECITE_OK) {
        dg_reset();
        policy_digest(a);
        policy_digest(b);
        if (policy_base)
            dg_expect(policy_base, "the policy's decisions");
        else
            policy_base = dg_take();
    }
    recite_policy_free(a);
    recite_policy_free(b);
    return rc;
}

static void policy_baseline(void)
{
    if (!policy_text)
        policy_text = ta_policy_text();
    recite_error err;
    TA_CHECK(policy_run(&err) == RECITE_OK, "%s", err.message);
}

/* ==== license identification ==== */

static char *lic_texts[3];
static size_t lic_lens[3];
static const char *const lic_names[3] = {"bsd-license.txt", "ring.c", "keeper.txt"};
static char *lic_base, *tmp_listing;
static const char *lic_cache;

static int license_run(recite_error *err)
{
    recite_license_options opt = RECITE_LICENSE_OPTIONS_INIT;
    opt.cache_dir = lic_cache;
    opt.debian_licenses_dir = fx.debian;
    opt.spdx_dir = fx.spdx;
    opt.tmp_dir = fx.tmp;
    opt.jobs = 1;
    recite_license_checker *lc = NULL;
    recite_license_info info[3];
    int rc = recite_license_checker_create(&lc, &opt, err);
    for (int i = 0; i < 3 && rc == RECITE_OK; i++)
        rc = recite_license_identify(&info[i], lc, lic_names[i], lic_texts[i], lic_lens[i],
                                     RECITE_MODE_AUTO, err);
    ah_disarm();
    if (rc == RECITE_OK) {
        dg_reset();
        for (int i = 0; i < 3; i++) {
            dg_add("%s: %s %.4f %d %d tag %s:", lic_names[i], info[i].license, info[i].score,
                   (int)info[i].from, info[i].full_text, info[i].spdx_tag);
            for (unsigned k = 0; k < info[i].ncopyright; k++)
                dg_add(" [%s]", info[i].copyright[k]);
            dg_add("\n");
        }
        if (lic_base)
            dg_expect(lic_base, "the licenses identified");
        else
            lic_base = dg_take();
    }
    recite_license_checker_free(lc);
    return rc;
}

static void license_baseline(void)
{
    for (int i = 0; i < 3; i++)
        if (!lic_texts[i])
            lic_texts[i] = read_lib(lic_names[i], &lic_lens[i]);
    lic_cache = fx.cache;
    cache_baseline();
    recite_error err;
    TA_CHECK(license_run(&err) == RECITE_OK, "%s", err.message);
    free(tmp_listing);
    tmp_listing = ta_list_dir(fx.tmp);
}

/* The cache left as it was (the operations that use it must not change it). */
static void license_after(int rc)
{
    (void)rc;
    expect_listing(fx.tmp, tmp_listing, "temporary directory of the license checker");
    expect_listing(fx.cache, cache_listing, "license cache");
}

/* Built into an empty cache: what it caches is the cached index, or nothing. */
static void license_build_baseline(void)
{
    license_baseline();
    lic_cache = fx.cache2;
}

static void license_build_setup(void)
{
    ta_rm_rf(fx.cache2);
}

static void license_build_after(int rc)
{
    license_after(rc);
    char *now = ta_list_dir(fx.cache2);
    if (*now) {
        TA_CHECK(strcmp(now, cache_listing) == 0, "license cache built holds\n%s\ninstead of\n%s",
                 now, cache_listing);
        char why[1024];
        TA_CHECK(ta_same_tree(fx.cache2, fx.cache, why, sizeof why), "license cache: %s", why);
    }
    free(now);
}

/* ==== a build over a previous index ==== */

static char *root_listing;

static void build_setup(void)
{
    ta_rm_rf(fx.target);
    ta_copy_dir(fx.saved, fx.target);
}

static void build_baseline(void)
{
    cache_baseline();
    build_setup();
    free(root_listing);
    root_listing = ta_list_dir(fx.root);
}

static int build_run(recite_error *err)
{
    recite_build_options opt = ta_build_options();
    const char *paths[] = {fx.lib, fx.jsonl};
    int rc = recite_index_build(NULL, fx.target, paths, 2, &opt, err);
    ah_disarm();
    return rc;
}

static void build_after(int rc)
{
    char why[2048];
    expect_listing(fx.root, root_listing, "the build's parent directory");
    expect_listing(fx.cache, cache_listing, "license cache");
    if (rc != RECITE_OK) {
        TA_CHECK(ta_same_tree(fx.target, fx.saved, why, sizeof why),
                 "a failed build changed the previous index: %s", why);
        return;
    }
    /* The same index as the fixture's (same inputs and time stamp), the catalogue kept. */
    const char *files[] = {"recite.idx", "licenses/recite.idx"};
    for (int i = 0; i < 2; i++) {
        char *a = ta_join(fx.target, files[i]), *b = ta_join(fx.idx, files[i]);
        TA_CHECK(ta_same_tree(a, b, why, sizeof why), "the index built: %s", why);
        free(a);
        free(b);
    }
    char *a = ta_join(fx.target, "catalog.sqlite"), *b = ta_join(fx.saved, "catalog.sqlite");
    TA_CHECK(ta_same_tree(a, b, why, sizeof why), "the catalogue kept: %s", why);
    free(a);
    free(b);
}

/* ==== compaction: the index at target without a work ==== */

static void compact_setup(void)
{
    ta_rm_rf(fx.target);
    ta_copy_dir(fx.idx, fx.target);
}

static int compact_run(recite_error *err)
{
    recite_build_options opt = ta_build_options();
    const char *drop[] = {"tale/two"};
    recite_build_stats st;
    int rc = recite_index_compact(&st, fx.target, drop, 1, &opt, err);
    ah_disarm();
    if (rc == RECITE_OK)
        TA_CHECK(st.works_dropped == 1, "%llu works dropped, not 1",
                 (unsigned long long)st.works_dropped);
    return rc;
}

static void compact_baseline(void)
{
    cache_baseline();
    compact_setup();
    recite_error err;
    TA_CHECK(compact_run(&err) == RECITE_OK, "compaction: %s", err.message);
    ta_rm_rf(fx.compacted);
    ta_copy_dir(fx.target, fx.compacted);
    free(root_listing);
    root_listing = ta_list_dir(fx.root);
}

static void compact_after(int rc)
{
    char why[2048];
    expect_listing(fx.root, root_listing, "the compacted index's parent directory");
    expect_listing(fx.cache, cache_listing, "license cache");
    TA_CHECK(ta_same_tree(fx.target, rc == RECITE_OK ? fx.compacted : fx.idx, why, sizeof why),
             "%s: %s", rc == RECITE_OK ? "the index compacted" : "a failed compaction changed it",
             why);
}

/* ==== the catalogue ==== */

static int dump_work(const recite_catalog_work *w, void *user)
{
    (void)user;
    dg_add("%s|%s|%s|%s|%s|%s|%s|%s|%llu|%llu|%u|%s|%s|%s|%s\n", w->id, w->title ? w->title : "-",
           w->author ? w->author : "-", w->license ? w->license : "-",
           w->copyright ? w->copyright : "-", w->source ? w->source : "-", w->url ? w->url : "-",
           w->content_hash ? w->content_hash : "-", (unsigned long long)w->bytes,
           (unsigned long long)w->tokens, w->cluster, w->runs ? w->runs : "-",
           w->deleted_at ? "deleted" : "-", w->deleted_by ? w->deleted_by : "-",
           w->deleted_why ? w->deleted_why : "-");
    return 0;
}

static int dump_run(const char *run, uint64_t works, void *user)
{
    (void)user;
    dg_add("run %s %llu\n", run, (unsigned long long)works);
    return 0;
}

static int dump_audit(const char *at, const char *who, const char *action, const char *work_id,
                      const char *why, void *user)
{
    (void)user;
    dg_add("audit %s|%s|%s|%s|%s\n", at && *at ? "at" : "-", who, action, work_id, why);
    return 0;
}

/* Lists everything of the catalogue in dir into the digest (steps stop at the first error). */
static int catalog_dump(recite_catalog *cat, recite_error *err)
{
    recite_catalog_filter all = {.include_deleted = 1}, mit = {.license = "MIT"},
                          r2 = {.run = "r2", .include_deleted = 1};
    int rc = recite_catalog_list(cat, &all, dump_work, NULL, err);
    if (rc == RECITE_OK)
        rc = recite_catalog_list(cat, &mit, dump_work, NULL, err);
    if (rc == RECITE_OK)
        rc = recite_catalog_list(cat, &r2, dump_work, NULL, err);
    if (rc == RECITE_OK)
        rc = recite_catalog_runs(cat, dump_run, NULL, err);
    if (rc == RECITE_OK)
        rc = recite_catalog_audit(cat, dump_audit, NULL, err);
    return rc;
}

/* The catalogue of catdir, as text (disarmed). */
static char *catalog_state(void)
{
    recite_catalog *cat;
    recite_error err;
    int rc = recite_catalog_open(&cat, fx.catdir, 0, &err);
    TA_CHECK(rc == RECITE_OK, "catalogue: %s", err.message);
    dg_reset();
    rc = catalog_dump(cat, &err);
    TA_CHECK(rc == RECITE_OK, "catalogue: %s", err.message);
    recite_catalog_close(cat);
    return dg_take();
}

static char *catdir_listing, *cat_before, *cat_after, *catbuild_base;
static bool cat_deleted;

static void catalog_restore(void)
{
    char *p = ta_join(fx.catdir, "catalog.sqlite");
    ta_copy(fx.catsaved, p);
    free(p);
}

static int catalog_build_run(recite_error *err)
{
    int rc = recite_catalog_build(fx.catdir, err);
    ah_disarm();
    return rc;
}

static void catalog_build_baseline(void)
{
    catalog_restore();
    free(catdir_listing);
    catdir_listing = ta_list_dir(fx.catdir);
    free(cat_before);
    cat_before = catalog_state();
    recite_error err;
    TA_CHECK(catalog_build_run(&err) == RECITE_OK, "catalogue build: %s", err.message);
    free(catbuild_base);
    catbuild_base = catalog_state();
    TA_CHECK(strcmp(catbuild_base, cat_before) == 0, "a rebuilt catalogue differs:\n%s\n%s",
             catbuild_base, cat_before);
}

static void catalog_build_after(int rc)
{
    expect_listing(fx.catdir, catdir_listing, "the catalogue's directory");
    if (rc != RECITE_OK) {
        char *p = ta_join(fx.catdir, "catalog.sqlite"), why[1024];
        TA_CHECK(ta_same_tree(p, fx.catsaved, why, sizeof why),
                 "a failed catalogue build changed it: %s", why);
        free(p);
    }
    char *now = catalog_state();
    TA_CHECK(strcmp(now, cat_before) == 0, "the catalogue holds\n%s\ninstead of\n%s", now,
             cat_before);
    free(now);
}

/* Open, whether it is the index's (it is), list, runs, delete a work, audit. */
static int catalog_run(recite_error *err)
{
    recite_catalog *cat = NULL;
    cat_deleted = false;
    int rc = recite_catalog_open(&cat, fx.catdir, 1, err), current = -1;
    if (rc == RECITE_OK)
        rc = recite_catalog_current(cat, fx.catdir, &current, err);
    TA_CHECK(rc != RECITE_OK || current == 1, "the catalogue is not its index's");
    dg_reset();
    if (rc == RECITE_OK)
        rc = catalog_dump(cat, err);
    if (rc == RECITE_OK)
        rc = recite_catalog_delete(cat, "tale/one", "alloc test", "a second deletion", err);
    cat_deleted = rc == RECITE_OK;
    if (rc == RECITE_OK)
        rc = catalog_dump(cat, err);
    ah_disarm();
    if (rc == RECITE_OK) {
        char *got = dg_take();
        dg_reset();
        dg_add("%s%s", cat_before, cat_after);
        TA_CHECK(strcmp(got, dg.buf) == 0, "the catalogue listed\n%s\ninstead of\n%s", got, dg.buf);
        free(got);
    }
    recite_catalog_close(cat);
    return rc;
}

static void catalog_baseline(void)
{
    catalog_build_baseline();
    catalog_restore();
    recite_catalog *cat;
    recite_error err;
    TA_CHECK(recite_catalog_open(&cat, fx.catdir, 1, &err) == RECITE_OK, "%s", err.message);
    TA_CHECK(recite_catalog_delete(cat, "tale/one", "alloc test", "a second deletion", &err) ==
                 RECITE_OK,
             "%s", err.message);
    recite_catalog_close(cat);
    free(cat_after);
    cat_after = catalog_state();
}

/* Unchanged, or the deletion whole (one transaction). */
static void catalog_after(int rc)
{
    (void)rc;
    expect_listing(fx.catdir, catdir_listing, "the catalogue's directory");
    char *now = catalog_state();
    const char *want = cat_deleted ? cat_after : cat_before;
    TA_CHECK(strcmp(now, want) == 0, "the catalogue %s the deletion holds\n%s\ninstead of\n%s",
             cat_deleted ? "after" : "without", now, want);
    free(now);
}

/* ==== the table ==== */

const op alloc_ops[] = {
    {"index", false, open_baseline, NULL, open_run, NULL},
    {"check", false, check_baseline, NULL, check_run, NULL},
    {"stream", false, check_baseline, NULL, stream_run, NULL},
    {"textfree", false, textfree_baseline, NULL, textfree_run, NULL},
    {"report", false, report_baseline, NULL, report_run, NULL},
    {"policy", false, policy_baseline, NULL, policy_run, NULL},
    {"license", false, license_baseline, NULL, license_run, license_after},
    {"license-build", true, license_build_baseline, license_build_setup, license_run,
     license_build_after},
    {"build", true, build_baseline, build_setup, build_run, build_after},
    {"compact", true, compact_baseline, compact_setup, compact_run, compact_after},
    {"catalog-build", false, catalog_build_baseline, catalog_restore, catalog_build_run,
     catalog_build_after},
    {"catalog", false, catalog_baseline, catalog_restore, catalog_run, catalog_after},
};

const size_t alloc_nops = sizeof alloc_ops / sizeof *alloc_ops;

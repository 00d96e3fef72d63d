/*
 * test_policy.c — the policy engine (src/policy/policy.c): decisions table-driven (one row per
 * work: source, license, CMI, kinds, common, coverage, longest span → action and rule), the
 * verdict as the most severe action, the default policy, malformed policies with their line and
 * column, rules that can never apply, license ids (known, family, suffixes, LicenseRef-, with
 * and without the SPDX list), policy files, and the reports under a policy.
 */
#include "test_util.h"

#include "policy/rc_policy.h"

/* ==== fixture: an index with one work per source ==== */

enum { W_PURCHASED, W_SCANNED, W_LICENSED, W_PUBLIC_DOMAIN, W_SHADOW, W_UNKNOWN, NWORKS };

static const char *const work_ids[NWORKS] = {"w-purchased",     "w-scanned", "w-licensed",
                                             "w-public-domain", "w-shadow",  "w-unknown"};
static const char *const work_sources[NWORKS] = {"purchased",     "scanned",        "licensed",
                                                 "public-domain", "shadow-library", NULL};

static char *dir;
static char *spdx_dir; /* our own small SPDX list */
static recite_index *idx;
static uint32_t work_no[NWORKS]; /* work numbers in the index */

static int group_setup(void **state)
{
    (void)state;
    dir = tmp_dir_make();
    char *spdx = path_join(dir, "spdx");
    assert_int_equal(mkdir(spdx, 0755), 0);
    /* A small SPDX list of our own, so that the tests do not depend on the machine's. */
    const char *const ids[] = {"Beerware", "GPL-2.0-only", "GPL-2.0-or-later", "MIT", "Zed-1.0"};
    for (size_t i = 0; i < RC_ARRAY_LEN(ids); i++) {
        char *name, *p;
        assert_true(asprintf(&name, "%s.json", ids[i]) > 0);
        p = path_join(spdx, name);
        write_str(p, "{}");
        free(p);
        free(name);
    }
    spdx_dir = spdx; /* freed at teardown */

    char *jsonl = path_join(dir, "works.jsonl"), *out = path_join(dir, "idx");
    FILE *f = fopen(jsonl, "w");
    assert_non_null(f);
    for (int w = 0; w < NWORKS; w++) {
        fprintf(f, "{\"id\": \"%s\", \"text\": \"work %d of the policy tests: ", work_ids[w], w);
        for (int k = 0; k < 30; k++)
            fprintf(f, "w%dword%d ", w, k);
        fprintf(f, "\"");
        if (work_sources[w])
            fprintf(f, ", \"source\": \"%s\"", work_sources[w]);
        fprintf(f, "}\n");
    }
    assert_int_equal(fclose(f), 0);
    recite_build_options opt = test_opts();
    opt.jobs = 1;
    opt.skip_cmi = 1;
    const char *paths[] = {jsonl};
    recite_error err = {0};
    if (recite_index_build(NULL, out, paths, 1, &opt, &err) != RECITE_OK)
        fail_msg("index build: %s", err.message);
    if (recite_index_open(&idx, out, &err) != RECITE_OK)
        fail_msg("index open: %s", err.message);
    for (int w = 0; w < NWORKS; w++) {
        bool found = false;
        for (uint32_t i = 0; i < recite_index_work_count(idx) && !found; i++) {
            recite_work_info info;
            assert_int_equal(recite_index_work(&info, idx, i), RECITE_OK);
            if (strcmp(info.id, work_ids[w]) == 0) {
                work_no[w] = i;
                found = true;
            }
        }
        assert_true(found);
    }
    free(jsonl);
    free(out);
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    recite_index_close(idx);
    rm_rf(dir);
    free(dir);
    free(spdx_dir);
    return 0;
}

/* ==== building results ==== */

#define K_EXACT (1u << RECITE_KIND_EXACT)
#define K_NORM (1u << RECITE_KIND_NORMALIZED)
#define K_NEAR (1u << RECITE_KIND_NEAR)

/* One matched work and what the policy should make of it. */
typedef struct row {
    int work; /* W_*: its source */
    const char *license;
    recite_cmi_verdict cmi;
    unsigned kinds; /* K_* of its matches */
    int common;
    double coverage;
    uint32_t longest;
    recite_action want;
    int want_rule; /* 0: the policy's default */
} row;

typedef struct built {
    recite_work_hit hits[16];
    recite_match matches[48];
    recite_result res;
} built;

static void build(built *b, const row *rows, size_t n)
{
    memset(b, 0, sizeof *b);
    assert_true(n <= 16);
    size_t nm = 0;
    for (size_t i = 0; i < n; i++) {
        recite_work_hit *h = &b->hits[i];
        h->work = work_no[rows[i].work];
        snprintf(h->license, sizeof h->license, "%s", rows[i].license);
        h->cmi = rows[i].cmi;
        h->common = rows[i].common;
        h->coverage = rows[i].coverage;
        h->longest_tokens = rows[i].longest;
        h->similarity = 1.0;
        for (unsigned k = 0; k < 3; k++)
            if (rows[i].kinds & (1u << k)) {
                recite_match *m = &b->matches[nm++];
                m->work = h->work;
                m->kind = (recite_kind)k;
                m->tokens = rows[i].longest;
                m->out_start = 0;
                m->out_end = 4;
                m->src_end = 4;
                m->similarity = 1.0;
                m->common = rows[i].common;
                h->matches++;
            }
    }
    b->res.works = b->hits;
    b->res.nworks = n;
    b->res.matches = b->matches;
    b->res.nmatches = nm;
}

static recite_policy *parse(const char *json)
{
    recite_policy *p = NULL;
    recite_error err = {0};
    if (recite_policy_parse(&p, json, strlen(json), "policy.json", spdx_dir, &err) != RECITE_OK)
        fail_msg("parse: %s", err.message);
    return p;
}

/* Each row alone, then all rows together (the verdict: the most severe action). */
static void check_rows(const recite_policy *p, const row *rows, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        built b;
        build(&b, &rows[i], 1);
        recite_action a = RECITE_ACTION_BLOCK;
        int rule = -1;
        recite_action v = recite_policy_decide(&a, &rule, p, idx, &b.res);
        if (a != rows[i].want || rule != rows[i].want_rule || v != a)
            fail_msg("row %zu (%s, license '%s'): %s by rule %d, expected %s by rule %d", i + 1,
                     work_ids[rows[i].work], rows[i].license, recite_action_name(a), rule,
                     recite_action_name(rows[i].want), rows[i].want_rule);
    }
    /* Then in results of several works (each work once in a result, as the checker gives). */
    for (size_t at = 0; at < n;) {
        row batch[NWORKS];
        size_t k = 0;
        unsigned seen = 0;
        for (; at < n && !(seen & (1u << rows[at].work)); at++) {
            seen |= 1u << rows[at].work;
            batch[k++] = rows[at];
        }
        built b;
        build(&b, batch, k);
        recite_action acts[NWORKS];
        int rules[NWORKS];
        recite_action v = recite_policy_decide(acts, rules, p, idx, &b.res), want = 0;
        for (size_t i = 0; i < k; i++) {
            assert_int_equal(acts[i], batch[i].want);
            assert_int_equal(rules[i], batch[i].want_rule);
            if (batch[i].want > want)
                want = batch[i].want;
        }
        assert_int_equal(v, want);
        /* The outputs are optional. */
        assert_int_equal(recite_policy_decide(NULL, NULL, p, idx, &b.res), want);
    }
}

/* ==== decisions ==== */

static const char example_policy[] =
    "{\"version\": 1, \"default\": \"flag\",\n"
    " \"rules\": [\n"
    "   {\"common\": true, \"action\": \"allow\"},\n"
    "   {\"source\": \"shadow-library\", \"min_tokens\": 12, \"action\": \"block\"},\n"
    "   {\"source\": \"public-domain\", \"action\": \"allow\"},\n"
    "   {\"license\": [\"permissive\"], \"cmi\": \"present\", \"action\": \"allow\"},\n"
    "   {\"license\": [\"GPL-2.0-only\", \"GPL-2.0-or-later\"], \"action\": \"cite\"},\n"
    "   {\"license\": \"unknown\", \"kind\": \"near\", \"action\": \"allow\"},\n"
    "   {\"extent\": \"whole\", \"action\": \"block\"},\n"
    "   {\"min_coverage\": 0.5, \"cmi\": [\"absent\", \"altered\"], \"action\": \"block\"},\n"
    "   {\"license\": \"copyleft\", \"source\": [\"purchased\", \"licensed\"], \"action\": "
    "\"cite\"},\n"
    "   {\"kind\": [\"exact\", \"normalized\"], \"source\": \"unknown\", \"action\": \"cite\"}\n"
    " ]}\n";

static void test_decide_table(void **state)
{
    (void)state;
    const recite_action A = RECITE_ACTION_ALLOW, C = RECITE_ACTION_CITE, F = RECITE_ACTION_FLAG,
                        B = RECITE_ACTION_BLOCK;
    const recite_cmi_verdict PRESENT = RECITE_CMI_PRESENT, ABSENT = RECITE_CMI_ABSENT,
                             ALTERED = RECITE_CMI_ALTERED, NONE = RECITE_CMI_NONE,
                             UNKNOWN = RECITE_CMI_UNKNOWN;
    const row rows[] = {
        /* work          license          cmi     kinds    common cov   longest  → action rule */
        {W_SHADOW, "", NONE, K_EXACT, 1, 0.01, 40, A, 1},          /* common: allowed first */
        {W_SHADOW, "", NONE, K_EXACT, 0, 0.01, 12, B, 2},          /* shadow library at 12 tokens */
        {W_SHADOW, "", NONE, K_EXACT, 0, 0.01, 11, F, 0},          /* ... not at 11 */
        {W_SHADOW, "", NONE, K_EXACT | K_NEAR, 0, 0.01, 11, A, 6}, /* unknown license, near */
        {W_SHADOW, "MIT", NONE, K_NEAR, 0, 0.01, 11, F, 0},        /* a license is known */
        {W_PUBLIC_DOMAIN, "MIT", ABSENT, K_EXACT, 0, 0.95, 300, A, 3},
        {W_SCANNED, "MIT", PRESENT, K_EXACT, 0, 0.1, 30, A, 4},
        {W_SCANNED, "mit", PRESENT, K_EXACT, 0, 0.1, 30, A, 4},   /* ids ignore case */
        {W_SCANNED, "MIT", PRESENT, K_EXACT, 0, 0.95, 300, A, 4}, /* first rule wins over 7 */
        {W_SCANNED, "MIT", ABSENT, K_EXACT, 0, 0.1, 30, F, 0},
        {W_SCANNED, "BSD-3-Clause", NONE, K_EXACT, 0, 0.1, 30, F, 0},
        {W_SCANNED, "Apache-2.0", UNKNOWN, K_EXACT, 0, 0.1, 30, F, 0}, /* CMI not known */
        {W_SCANNED, "GPL-2.0+", ABSENT, K_EXACT, 0, 0.1, 30, C, 5},    /* by family */
        {W_SCANNED, "GPL-2.0-or-later", NONE, K_NEAR, 0, 0.1, 30, C, 5},
        {W_SCANNED, "GPL-2.0-with-classpath-exception", NONE, K_EXACT, 0, 0.1, 30, F, 0},
        {W_SCANNED, "GPL-3.0-only", NONE, K_EXACT, 0, 0.1, 30, F, 0},
        {W_PURCHASED, "GPL-3.0-only", NONE, K_EXACT, 0, 0.1, 30, C, 9}, /* copyleft group */
        {W_LICENSED, "LGPL-2.1-only", NONE, K_EXACT, 0, 0.1, 30, C, 9},
        {W_LICENSED, "MPL-2.0", NONE, K_EXACT, 0, 0.1, 30, C, 9},
        {W_UNKNOWN, "", NONE, K_EXACT, 0, 0.95, 200, B, 7}, /* whole work */
        {W_UNKNOWN, "", NONE, K_EXACT, 0, 0.9, 200, B, 7},  /* whole from 0.9 */
        {W_UNKNOWN, "", NONE, K_NORM, 0, 0.2, 20, C, 10},
        {W_UNKNOWN, "", NONE, 0, 0, 0.2, 20, F, 0}, /* no match of any kind */
        {W_SCANNED, "Apache-2.0", ABSENT, K_EXACT, 0, 0.6, 90, B, 8},
        {W_SCANNED, "Apache-2.0", ALTERED, K_EXACT, 0, 0.5, 90, B, 8}, /* 0.5 >= 0.5 */
        {W_SCANNED, "Apache-2.0", ALTERED, K_EXACT, 0, 0.49, 90, F, 0},
        {W_SCANNED, "Apache-2.0", PRESENT, K_EXACT, 0, 0.6, 90, A, 4},
        /* SPDX expressions: a rule holds when any license of the expression meets it */
        {W_SCANNED, "LicenseRef-own OR MIT", PRESENT, K_EXACT, 0, 0.1, 30, A, 4},
        {W_SCANNED, "Apache-2.0 AND GPL-2.0-or-later", NONE, K_EXACT, 0, 0.1, 30, C, 5},
        {W_LICENSED, "MIT AND (LGPL-2.1-only OR BSD-3-Clause)", NONE, K_EXACT, 0, 0.1, 30, C, 9},
        {W_SCANNED, "GPL-3.0-only WITH GCC-exception-3.1", NONE, K_EXACT, 0, 0.1, 30, F, 0},
    };
    recite_policy *p = parse(example_policy);
    check_rows(p, rows, RC_ARRAY_LEN(rows));
    assert_string_equal(rc_policy_name(p), "policy.json");
    assert_string_equal(rc_policy_rule_text(p, 2), "source shadow-library, min_tokens 12");
    assert_string_equal(rc_policy_rule_text(p, 4), "license permissive, cmi present");
    assert_string_equal(rc_policy_rule_text(p, 8), "cmi absent|altered, min_coverage 0.5");
    assert_string_equal(rc_policy_rule_text(p, 11), "");
    recite_policy_free(p);
}

static void test_decide_default_action_and_not_common(void **state)
{
    (void)state;
    const recite_action A = RECITE_ACTION_ALLOW, C = RECITE_ACTION_CITE, B = RECITE_ACTION_BLOCK;
    const row rows[] = {
        {W_SHADOW, "", RECITE_CMI_NONE, K_EXACT, 0, 0.01, 12, B, 1},
        {W_SHADOW, "", RECITE_CMI_NONE, K_EXACT, 1, 0.01, 12, A, 0},
        {W_SCANNED, "", RECITE_CMI_NONE, K_EXACT, 0, 0.01, 12, A, 0},
        {W_SCANNED, "Zed-1.0", RECITE_CMI_NONE, K_EXACT, 0, 0.01, 12, C, 2},
        {W_SCANNED, "Zed-1.0-or-later", RECITE_CMI_NONE, K_EXACT, 0, 0.01, 12, C, 2},
        {W_SCANNED, "LicenseRef-house", RECITE_CMI_NONE, K_EXACT, 0, 0.01, 12, C, 3},
    };
    recite_policy *p = parse("{\"version\": 1, \"default\": \"allow\", \"rules\": [\n"
                             "  {\"common\": false, \"source\": \"shadow-library\", "
                             "\"action\": \"block\"},\n"
                             "  {\"license\": \"Zed-1.0\", \"action\": \"cite\"},\n"
                             "  {\"license\": \"LicenseRef-house\", \"action\": \"cite\",\n"
                             "   \"comment\": \"our own works\"}]}");
    check_rows(p, rows, RC_ARRAY_LEN(rows));
    assert_string_equal(rc_policy_rule_text(p, 1), "source shadow-library, not common");
    recite_policy_free(p);
}

/* Without a policy: common language is allowed, anything else flagged; the documented
 * default policy file decides the same. */
static void test_default_policy(void **state)
{
    (void)state;
    const recite_action A = RECITE_ACTION_ALLOW, F = RECITE_ACTION_FLAG;
    const row rows[] = {
        {W_SHADOW, "", RECITE_CMI_NONE, K_EXACT, 1, 0.01, 40, A, 1},
        {W_SHADOW, "", RECITE_CMI_NONE, K_EXACT, 0, 0.01, 12, F, 0},
        {W_PUBLIC_DOMAIN, "CC0-1.0", RECITE_CMI_NONE, K_EXACT, 0, 1.0, 400, F, 0},
        {W_SCANNED, "MIT", RECITE_CMI_PRESENT, K_NEAR, 0, 0.2, 30, F, 0},
        {W_UNKNOWN, "GPL-3.0-only", RECITE_CMI_UNKNOWN, K_NORM, 1, 0.6, 300, A, 1},
    };
    check_rows(NULL, rows, RC_ARRAY_LEN(rows));
    recite_policy *p = parse("{\"version\": 1, \"default\": \"flag\", \"rules\": [\n"
                             "  {\"common\": true, \"action\": \"allow\"}]}");
    check_rows(p, rows, RC_ARRAY_LEN(rows));
    recite_policy_free(p);
    /* A policy of no rules applies its default to everything. */
    p = parse("{\"version\": 1}");
    const row flagged[] = {{W_SHADOW, "", RECITE_CMI_NONE, K_EXACT, 1, 0.01, 40, F, 0}};
    check_rows(p, flagged, 1);
    recite_policy_free(p);
    assert_string_equal(rc_policy_name(NULL), "default");
    assert_string_equal(rc_policy_rule_text(NULL, 1), "common");
    /* No works: pass. */
    recite_result empty = {0};
    assert_int_equal(recite_policy_decide(NULL, NULL, NULL, idx, &empty), RECITE_ACTION_ALLOW);
    /* Without an index every source is unknown. */
    built b;
    const row r = {W_SHADOW, "", RECITE_CMI_NONE, K_EXACT, 0, 0.01, 40, 0, 0};
    build(&b, &r, 1);
    p = parse("{\"version\": 1, \"rules\": [{\"source\": \"unknown\", \"action\": \"cite\"}]}");
    assert_int_equal(recite_policy_decide(NULL, NULL, p, NULL, &b.res), RECITE_ACTION_CITE);
    assert_int_equal(recite_policy_decide(NULL, NULL, p, idx, &b.res), RECITE_ACTION_FLAG);
    recite_policy_free(p);
    assert_string_equal(recite_action_name(RECITE_ACTION_ALLOW), "allow");
    assert_string_equal(recite_action_name(RECITE_ACTION_CITE), "cite");
    assert_string_equal(recite_action_name(RECITE_ACTION_FLAG), "flag");
    assert_string_equal(recite_action_name(RECITE_ACTION_BLOCK), "block");
}

static void test_verdict_most_severe(void **state)
{
    (void)state;
    recite_policy *p = parse("{\"version\": 1, \"default\": \"allow\", \"rules\": [\n"
                             "  {\"source\": \"shadow-library\", \"action\": \"block\"},\n"
                             "  {\"source\": \"scanned\", \"action\": \"flag\"},\n"
                             "  {\"source\": \"licensed\", \"action\": \"cite\"}]}");
    static const struct {
        int works[3];
        size_t n;
        recite_action verdict;
    } cases[] = {
        {{W_PURCHASED}, 1, RECITE_ACTION_ALLOW},
        {{W_PURCHASED, W_LICENSED}, 2, RECITE_ACTION_CITE},
        {{W_LICENSED, W_SCANNED, W_PURCHASED}, 3, RECITE_ACTION_FLAG},
        {{W_LICENSED, W_SHADOW, W_SCANNED}, 3, RECITE_ACTION_BLOCK},
        {{W_SHADOW, W_PURCHASED}, 2, RECITE_ACTION_BLOCK},
    };
    for (size_t c = 0; c < RC_ARRAY_LEN(cases); c++) {
        row rows[3];
        for (size_t i = 0; i < cases[c].n; i++)
            rows[i] = (row){cases[c].works[i], "", RECITE_CMI_NONE, K_EXACT, 0, 0.1, 20, 0, 0};
        built b;
        build(&b, rows, cases[c].n);
        assert_int_equal(recite_policy_decide(NULL, NULL, p, idx, &b.res), cases[c].verdict);
    }
    recite_policy_free(p);
}

/* ==== malformed policies ==== */

typedef struct bad_case {
    const char *json;
    int code;
    const char *message; /* the whole message */
} bad_case;

static void check_bad(const bad_case *cases, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        static int sentinel;
        recite_policy *p = (recite_policy *)&sentinel; /* must be reset to NULL */
        recite_error err = {0};
        int rc = recite_policy_parse(&p, cases[i].json, strlen(cases[i].json), "policy.json",
                                     spdx_dir, &err);
        if (rc != cases[i].code || strcmp(err.message, cases[i].message) != 0)
            fail_msg("case %zu: %d \"%s\", expected %d \"%s\"", i + 1, rc, err.message,
                     cases[i].code, cases[i].message);
        assert_null(p);
        assert_int_equal(err.code, rc);
    }
}

static void test_parse_errors(void **state)
{
    (void)state;
    const int E = RECITE_EFORMAT;
    const bad_case cases[] = {
        {"{\"version\": 1,}", E, "policy.json:1:15: invalid JSON: string or '}' expected near '}'"},
        {"", E, "policy.json:1:1: invalid JSON: '[' or '{' expected near end of file"},
        {"{\"version\": 1, \"version\": 1}", E,
         "policy.json:1:24: invalid JSON: duplicate object key near '\"version\"'"},
        {"{\"version\":\n 1, \"rules\": [\n  {\"action\": \"allow\"\n ]}", E,
         "policy.json:4:2: invalid JSON: '}' expected near ']'"},
        {"[1]", E,
         "policy.json:1:1: a policy is a JSON object {\"version\": 1, \"default\": ..., "
         "\"rules\": [...]}"},
        {"  {\"rules\": []}", E, "policy.json:1:3: missing \"version\": 1"},
        {"{\"version\": \"1\"}", E,
         "policy.json:1:13: unsupported policy version (this recite reads version 1)"},
        {"{\"version\": 2}", E,
         "policy.json:1:13: unsupported policy version (this recite reads version 1)"},
        {"{\"version\": 1,\n \"defualt\": \"flag\"}", E,
         "policy.json:2:2: unknown key \"defualt\" (expected version, default, rules or comment)"},
        {"{\"version\": 1, \"default\": \"deny\"}", E,
         "policy.json:1:27: \"default\" must be allow, cite, flag or block"},
        {"{\"version\": 1, \"comment\": 7}", E, "policy.json:1:27: \"comment\" must be a string"},
        {"{\"version\": 1, \"rules\": {}}", E,
         "policy.json:1:25: \"rules\" must be a list of rules"},
        {"{\"version\": 1, \"rules\": [\n  {\"action\": \"allow\", \"source\": \"scanned\"},\n"
         "  \"block\"]}",
         E, "policy.json:3:3: rule 2 must be an object {\"action\": ..., conditions...}"},
        {"{\"version\": 1, \"rules\": [\n  {\"source\": \"scanned\"}]}", E,
         "policy.json:2:3: rule 1 has no \"action\" (allow, cite, flag or block)"},
        {"{\"version\": 1, \"rules\": [\n  {\"action\": \"blok\"}]}", E,
         "policy.json:2:14: rule 1: \"action\" must be allow, cite, flag or block"},
        {"{\"version\": 1, \"rules\": [\n  {\"action\": \"allow\",\n   \"sorce\": \"scanned\"}]}",
         E,
         "policy.json:3:4: rule 1: unknown key \"sorce\" (expected license, source, cmi, kind, "
         "common, extent, min_tokens, min_coverage, action or comment)"},
        {"{\"version\": 1, \"rules\": [\n  {\"action\": \"allow\", \"source\": [\"scanned\", "
         "\"stolen\"]}]}",
         E,
         "policy.json:2:45: rule 1: unknown source 'stolen' (expected purchased, scanned, "
         "licensed, public-domain, shadow-library or unknown)"},
        {"{\"version\": 1, \"rules\": [{\"action\": \"allow\", \"cmi\": \"missing\"}]}", E,
         "policy.json:1:53: rule 1: unknown cmi 'missing' (expected present, absent, altered or "
         "none)"},
        {"{\"version\": 1, \"rules\": [{\"action\": \"allow\", \"kind\": \"fuzzy\"}]}", E,
         "policy.json:1:54: rule 1: unknown kind 'fuzzy' (expected exact, normalized or near)"},
        {"{\"version\": 1, \"rules\": [{\"action\": \"allow\", \"extent\": \"half\"}]}", E,
         "policy.json:1:56: rule 1: unknown extent 'half' (expected whole or portion)"},
        {"{\"version\": 1, \"rules\": [{\"action\": \"allow\", \"source\": []}]}", E,
         "policy.json:1:56: rule 1: \"source\" is an empty list, which nothing matches"},
        {"{\"version\": 1, \"rules\": [{\"action\": \"allow\", \"source\": 3}]}", E,
         "policy.json:1:56: rule 1: \"source\" must be a string or a list of strings"},
        {"{\"version\": 1, \"rules\": [{\"action\": \"allow\", \"license\": [\"MIT\", 3]}]}", E,
         "policy.json:1:65: rule 1: \"license\" must be a string or a list of strings"},
        {"{\"version\": 1, \"rules\": [{\"action\": \"allow\", \"common\": \"yes\"}]}", E,
         "policy.json:1:56: rule 1: \"common\" must be true or false"},
        {"{\"version\": 1, \"rules\": [{\"action\": \"allow\", \"min_tokens\": -1}]}", E,
         "policy.json:1:60: rule 1: \"min_tokens\" must be a whole number from 0 to 4294967295"},
        {"{\"version\": 1, \"rules\": [{\"action\": \"allow\", \"min_tokens\": 1.5}]}", E,
         "policy.json:1:60: rule 1: \"min_tokens\" must be a whole number from 0 to 4294967295"},
        {"{\"version\": 1, \"rules\": [{\"action\": \"allow\", \"min_coverage\": 1.01}]}", E,
         "policy.json:1:62: rule 1: \"min_coverage\" must be a number from 0 to 1"},
        {"{\"version\": 1, \"rules\": [{\"action\": \"allow\", \"comment\": null}]}", E,
         "policy.json:1:57: rule 1: \"comment\" must be a string"},
        /* Escaped keys are not located: the rule is named instead. */
        {"{\"version\": 1, \"rules\": [\n {\"action\": \"allow\", \"\\u0073x\": 1}]}", E,
         "policy.json:2:2: rule 1: unknown key \"sx\" (expected license, source, cmi, kind, "
         "common, extent, min_tokens, min_coverage, action or comment)"},
        /* Columns count characters, as jansson's do. */
        {"{\"comment\": \"\xc3\xa9t\xc3\xa9\", \"version\": 1, \"default\": 0}", E,
         "policy.json:1:45: \"default\" must be allow, cite, flag or block"},
    };
    check_bad(cases, RC_ARRAY_LEN(cases));
    /* A NUL byte: binary data, located. */
    recite_policy *p;
    recite_error err = {0};
    assert_int_equal(recite_policy_parse(&p, "{\n \"version\"\0: 1}", 16, NULL, spdx_dir, &err),
                     RECITE_EFORMAT);
    assert_string_equal(err.message,
                        "policy:2:11: binary data (a NUL byte); a policy is a JSON text");
    /* Too many rules. */
    char *big = malloc(300 * 64);
    size_t n = (size_t)sprintf(big, "{\"version\": 1, \"rules\": [");
    for (int i = 0; i < 257; i++)
        n += (size_t)sprintf(big + n, "%s{\"min_tokens\": %d, \"action\": \"flag\"}", i ? "," : "",
                             i + 1);
    n += (size_t)sprintf(big + n, "]}");
    assert_int_equal(recite_policy_parse(&p, big, n, "big.json", spdx_dir, &err), RECITE_ELIMIT);
    assert_string_equal(err.message, "big.json:1:25: more than 256 rules");
    free(big);
    /* Every prefix of a valid policy fails cleanly (or parses). */
    for (size_t k = 0; k < strlen(example_policy); k++) {
        p = NULL;
        if (recite_policy_parse(&p, example_policy, k, NULL, spdx_dir, &err) == RECITE_OK)
            recite_policy_free(p);
        else
            assert_null(p);
    }
}

/* ==== rules that can never apply ==== */

static void test_conflicts(void **state)
{
    (void)state;
    const int E = RECITE_EFORMAT;
    const bad_case cases[] = {
        {"{\"version\": 1,\n \"rules\": [\n"
         "   {\"common\": true, \"action\": \"allow\"},\n"
         "   {\"source\": \"shadow-library\", \"action\": \"block\"},\n"
         "   {\"source\": \"shadow-library\", \"min_tokens\": 30, \"action\": \"flag\"}]}",
         E,
         "policy.json:5:4: rule 3 can never apply: rule 2 (line 4) matches everything it matches "
         "with another action"},
        {"{\"version\": 1, \"rules\": [\n {\"license\": \"permissive\", \"action\": \"allow\"},\n"
         " {\"license\": [\"MIT\", \"BSD-3-Clause\"], \"kind\": \"exact\", \"action\": "
         "\"block\"}]}",
         E,
         "policy.json:3:2: rule 2 can never apply: rule 1 (line 2) matches everything it matches "
         "with another action"},
        {"{\"version\": 1, \"rules\": [\n {\"license\": \"GPL-2.0-only\", \"action\": \"cite\"},\n"
         " {\"license\": \"GPL-2.0-or-later\", \"action\": \"block\"}]}",
         E,
         "policy.json:3:2: rule 2 can never apply: rule 1 (line 2) matches everything it matches "
         "with another action"},
        {"{\"version\": 1, \"rules\": [\n {\"action\": \"flag\"},\n {\"source\": \"scanned\", "
         "\"action\": \"block\"}]}",
         E,
         "policy.json:3:2: rule 2 can never apply: rule 1 (line 2) matches everything it matches "
         "with another action"},
        {"{\"version\": 1, \"rules\": [\n {\"source\": [\"scanned\", \"licensed\"], \"action\": "
         "\"cite\"},\n {\"min_tokens\": 5, \"action\": \"allow\"},\n {\"source\": \"licensed\", "
         "\"min_coverage\": 0.5, \"action\": \"block\"}]}",
         E,
         "policy.json:4:2: rule 3 can never apply: rule 1 (line 2) matches everything it matches "
         "with another action"},
        {"{\"version\": 1, \"rules\": [\n {\"source\": [\"scanned\", \"licensed\"], \"cmi\": "
         "\"absent\", \"action\": \"cite\"},\n {\"cmi\": \"absent\", \"source\": [\"licensed\", "
         "\"scanned\"], \"action\": \"cite\"}]}",
         E, "policy.json:3:2: rule 2 duplicates rule 1 (line 2)"},
        {"{\"version\": 1, \"rules\": [{\"license\": \"unknown\", \"action\": \"cite\"}, "
         "{\"license\": \"unknown\", \"action\": \"cite\", \"comment\": \"again\"}]}",
         E, "policy.json:1:68: rule 2 duplicates rule 1 (line 1)"},
    };
    check_bad(cases, RC_ARRAY_LEN(cases));
    /* Not conflicts: the later rule is narrower in one condition only where the earlier one
     * is broader in another, or the earlier one is narrower, or the actions agree. */
    const char *const fine[] = {
        "{\"version\": 1, \"rules\": [{\"source\": \"shadow-library\", \"min_tokens\": 30, "
        "\"action\": \"block\"}, {\"source\": \"shadow-library\", \"action\": \"flag\"}]}",
        "{\"version\": 1, \"rules\": [{\"license\": \"MIT\", \"action\": \"allow\"}, "
        "{\"license\": \"permissive\", \"action\": \"cite\"}]}",
        "{\"version\": 1, \"rules\": [{\"license\": \"permissive\", \"cmi\": \"present\", "
        "\"action\": \"allow\"}, {\"license\": \"MIT\", \"action\": \"cite\"}]}",
        "{\"version\": 1, \"rules\": [{\"license\": \"permissive\", \"action\": \"allow\"}, "
        "{\"license\": [\"MIT\", \"GPL-2.0-only\"], \"action\": \"cite\"}]}",
        "{\"version\": 1, \"rules\": [{\"license\": \"unknown\", \"action\": \"allow\"}, "
        "{\"action\": \"flag\"}]}",
        "{\"version\": 1, \"rules\": [{\"common\": true, \"action\": \"allow\"}, "
        "{\"common\": false, \"action\": \"flag\"}]}",
        "{\"version\": 1, \"rules\": [{\"source\": \"scanned\", \"action\": \"flag\"}, "
        "{\"source\": \"scanned\", \"kind\": \"near\", \"action\": \"flag\"}]}",
        "{\"version\": 1, \"rules\": [{\"kind\": \"near\", \"action\": \"flag\"}, "
        "{\"kind\": [\"near\", \"exact\"], \"action\": \"block\"}]}",
    };
    for (size_t i = 0; i < RC_ARRAY_LEN(fine); i++)
        recite_policy_free(parse(fine[i]));
}

/* ==== license ids ==== */

static int license_rc(const char *id, recite_error *err)
{
    char *json;
    assert_true(asprintf(&json,
                         "{\"version\": 1, \"rules\": [{\"license\": \"%s\", \"action\": "
                         "\"cite\"}]}",
                         id) > 0);
    recite_policy *p = NULL;
    int rc = recite_policy_parse(&p, json, strlen(json), "policy.json", spdx_dir, err);
    recite_policy_free(p);
    free(json);
    return rc;
}

static void test_license_ids(void **state)
{
    (void)state;
    static const struct {
        const char *id;
        bool with_list, without_list; /* accepted with our SPDX list, and with none */
    } cases[] = {
        {"MIT", true, true},
        {"mit", true, true},
        {"GPL-2.0-only", true, true},
        {"GPL-2.0-or-later", true, true},
        {"GPL-2.0+", true, true},
        {"GPL-2.0", true, true},
        {"LGPL-2.1-only", true, true},     /* Debian's, in the groups */
        {"Artistic-1.0-Perl", true, true}, /* Debian's */
        {"GFDL-1.3-only", true, true},     /* Debian's */
        {"permissive", true, true},        /* groups */
        {"unknown", true, true},
        {"Beerware", true, false},          /* only in the SPDX list */
        {"beerware", true, false},          /* ids ignore case */
        {"Beerware-or-later", true, false}, /* a suffix on a known id */
        {"Zed-1.0", true, false},
        {"Zed-1.0+", true, false},
        {"LicenseRef-mine.2", true, true},
        {"LicenseRef-", false, false},
        {"GPL-9.0", false, false},
        {"GPL-2.0-onyl", false, false},
        {"Permissive", false, false},
        {"MIT license", false, false},
        {"", false, false},
        {"M\\u00efT", false, false},
        {"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", false, false},
    };
    char *saved = spdx_dir, missing[] = "/nonexistent/spdx";
    for (int pass = 0; pass < 2; pass++) {
        if (pass == 1)
            spdx_dir = missing;
        for (size_t i = 0; i < RC_ARRAY_LEN(cases); i++) {
            recite_error err = {0};
            int rc = license_rc(cases[i].id, &err);
            bool want = pass == 0 ? cases[i].with_list : cases[i].without_list;
            if ((rc == RECITE_OK) != want)
                fail_msg("'%s' (%s SPDX list): %s", cases[i].id, pass ? "without" : "with",
                         rc == RECITE_OK ? "accepted" : err.message);
        }
    }
    recite_error err = {0};
    assert_int_equal(license_rc("Beerware", &err), RECITE_EFORMAT);
    assert_string_equal(err.message,
                        "policy.json:1:38: rule 1: unknown license id 'Beerware' (the SPDX "
                        "license list is not installed at /nonexistent/spdx; known: the ids of "
                        "the groups in docs/POLICY.md and LicenseRef-*)");
    spdx_dir = saved;
    assert_int_equal(license_rc("GPL-9.0", &err), RECITE_EFORMAT);
    assert_string_equal(err.message,
                        "policy.json:1:38: rule 1: unknown license id 'GPL-9.0' (not an SPDX "
                        "license id, LicenseRef-*, nor one of the groups permissive, copyleft, "
                        "public-domain, unknown)");
    /* In a list, the offending item is located. */
    const char json[] = "{\"version\": 1, \"rules\": [\n {\"license\": [\"MIT\",\n  \"GPL-9.0\"], "
                        "\"action\": \"cite\"}]}";
    recite_policy *p;
    assert_int_equal(recite_policy_parse(&p, json, strlen(json), "policy.json", spdx_dir, &err),
                     RECITE_EFORMAT);
    assert_true(strncmp(err.message, "policy.json:3:3: rule 1: unknown license id 'GPL-9.0'",
                        strlen("policy.json:3:3: rule 1: unknown license id 'GPL-9.0'")) == 0);
}

/* ==== files ==== */

static void test_load_files(void **state)
{
    (void)state;
    recite_policy *p = NULL;
    recite_error err = {0};
    char *path = path_join(dir, "good.json");
    write_str(path, example_policy);
    assert_int_equal(recite_policy_load(&p, path, spdx_dir, &err), RECITE_OK);
    assert_string_equal(rc_policy_name(p), path);
    recite_policy_free(p);
    recite_policy_free(NULL);

    char *missing = path_join(dir, "missing.json");
    assert_int_equal(recite_policy_load(&p, missing, spdx_dir, &err), RECITE_EIO);
    assert_null(p);
    assert_non_null(strstr(err.message, "missing.json: cannot open the policy file: No such file"));
    assert_int_equal(recite_policy_load(&p, dir, spdx_dir, &err), RECITE_EIO);
    assert_non_null(strstr(err.message, "cannot read the policy file: Is a directory"));

    char *bin = path_join(dir, "bin.json");
    write_file(bin, "{\"version\": 1\0}", 15);
    assert_int_equal(recite_policy_load(&p, bin, spdx_dir, &err), RECITE_EFORMAT);
    assert_non_null(strstr(err.message, "bin.json:1:14: binary data"));

    char *huge = path_join(dir, "huge.json");
    size_t n = (1u << 20) + 1;
    char *spaces = malloc(n);
    memset(spaces, ' ', n);
    spaces[0] = '{';
    write_file(huge, spaces, n);
    assert_int_equal(recite_policy_load(&p, huge, spdx_dir, &err), RECITE_ELIMIT);
    assert_non_null(strstr(err.message, "huge.json: a policy file is at most 1 MiB"));
    assert_int_equal(recite_policy_parse(&p, spaces, n, "x", spdx_dir, &err), RECITE_ELIMIT);
    free(spaces);

    char *bad = path_join(dir, "bad.json");
    write_str(bad, "{\"version\": 1,\n \"rules\": [\n  {\"action\": \"allow\"},\n]}\n");
    assert_int_equal(recite_policy_load(&p, bad, spdx_dir, &err), RECITE_EFORMAT);
    char *want;
    assert_true(asprintf(&want, "%s:4:1: invalid JSON: unexpected token near ']'", bad) > 0);
    assert_string_equal(err.message, want);
    free(want);

    free(path);
    free(missing);
    free(bin);
    free(huge);
    free(bad);
}

/* ==== reports ==== */

static void test_reports(void **state)
{
    (void)state;
    recite_policy *p = parse(example_policy);
    const row rows[] = {
        {W_SHADOW, "", RECITE_CMI_NONE, K_EXACT, 0, 0.1, 30, RECITE_ACTION_BLOCK, 2},
        {W_SCANNED, "MIT", RECITE_CMI_ABSENT, K_EXACT, 0, 0.1, 30, RECITE_ACTION_FLAG, 0},
    };
    built b;
    build(&b, rows, 2);
    const char text[] = "some words of output";
    recite_error err = {0};
    char *out = NULL;
    assert_int_equal(recite_report_json(&out, idx, p, "in.txt", text, strlen(text), &b.res, &err),
                     RECITE_OK);
    assert_non_null(strstr(out, "\"verdict\":\"block\""));
    assert_non_null(strstr(out, "\"policy\":\"policy.json\""));
    assert_non_null(strstr(out, "\"action\":\"block\",\"rule\":2}"));
    assert_non_null(strstr(out, "\"action\":\"flag\"}"));
    free(out);
    assert_int_equal(recite_report_text(&out, idx, p, "in.txt", text, strlen(text), &b.res, &err),
                     RECITE_OK);
    assert_non_null(strstr(out, "; block by rule 2 (source shadow-library, min_tokens 12)\n"));
    assert_non_null(strstr(out, "; flag by the policy's default\n"));
    assert_non_null(strstr(out, "\nin.txt: block  2 matches in 2 works; 0 tokens checked; policy "
                                "policy.json\n"));
    free(out);
    /* Without a policy: the default one, and the text report as it always was. */
    assert_int_equal(
        recite_report_json(&out, idx, NULL, "in.txt", text, strlen(text), &b.res, &err), RECITE_OK);
    assert_non_null(strstr(out, "\"verdict\":\"flag\""));
    assert_non_null(strstr(out, "\"policy\":\"default\""));
    free(out);
    assert_int_equal(
        recite_report_text(&out, idx, NULL, "in.txt", text, strlen(text), &b.res, &err), RECITE_OK);
    assert_null(strstr(out, " by "));
    assert_non_null(strstr(out, "\nin.txt: flag  2 matches in 2 works; 0 tokens checked\n"));
    free(out);
    recite_policy_free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_decide_table),
        cmocka_unit_test(test_decide_default_action_and_not_common),
        cmocka_unit_test(test_default_policy),
        cmocka_unit_test(test_verdict_most_severe),
        cmocka_unit_test(test_parse_errors),
        cmocka_unit_test(test_conflicts),
        cmocka_unit_test(test_license_ids),
        cmocka_unit_test(test_load_files),
        cmocka_unit_test(test_reports),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}

/*
 * test_report.c — the JSON report (src/report/report_json.c), written straight into a buffer:
 * its bytes must be exactly what jansson makes of the same values with the flags of the
 * contract (parsed and dumped again: identical), over works whose ids need escaping (quotes,
 * backslashes, tabs, non-ASCII, bytes that are not UTF-8), CMI evidence, near matches and
 * reals small enough for an exponent.
 */
#include "test_util.h"

#include "index/rc_index.h"

#include <jansson.h>

static void check_json_is_janssons(const char *json)
{
    json_error_t jerr;
    json_t *v = json_loads(json, 0, &jerr);
    if (!v)
        fail_msg("not JSON (%s at %d): %.200s", jerr.text, jerr.position, json);
    char *again = json_dumps(v, JSON_COMPACT | JSON_ENSURE_ASCII | JSON_REAL_PRECISION(6));
    assert_non_null(again);
    assert_string_equal(json, again);
    free(again);
    json_decref(v);
}

static void test_report_bytes_are_janssons(void **state)
{
    (void)state;
    char *dir, *lib, *idx;
    test_dirs_make(&dir, &lib, &idx);
    /* A long work (its coverage is a small real), a licensed one with a notice, odd names. */
    rng r = rng_seeded(77);
    static const char *words[] = {"alpha", "beta",  "gamma", "delta", "epsilon", "zeta",
                                  "eta",   "theta", "iota",  "kappa", "lambda",  "mu"};
    size_t cap = 2u << 20, n = 0;
    char *big = malloc(cap);
    for (int k = 0; k < 150000; k++)
        n += (size_t)snprintf(big + n, cap - n, "%s%s", words[rng_below(&r, 12)],
                              k % 13 == 12 ? ".\n" : " ");
    test_put(lib, "big \"quoted\" \\ work.txt", big, n);
    const char *notice = "Copyright (C) 2001 Jane Doe\n\nPermission is hereby granted, free of "
                         "charge, to any person obtaining a copy of this software, to deal in "
                         "the Software without restriction.\n";
    test_put(lib, "caf\xc3\xa9\tna\xefve-\x93q\x94.txt", notice, strlen(notice));
    test_put(lib, "astral \xf0\x9f\x98\x80.txt", notice, strlen(notice));
    test_build(lib, idx, NULL);
    recite_index *index;
    recite_checker *chk;
    test_open(idx, &index, &chk, NULL);
    /* The output: 14 words of the big work (a coverage below 1e-4: an exponent), the notice
     * with other years (altered CMI). */
    const char *from = strchr(big + 1000, ' ') + 1, *to = from;
    for (int k = 0; k < 14; k++)
        to = strpbrk(to, " \n") + 1;
    char out[4096];
    size_t m =
        (size_t)snprintf(out, sizeof out, "Intro text here.\n%.*s\n", (int)(to - from), from);
    m += (size_t)snprintf(out + m, sizeof out - m, "\nCopyright (C) 1999-2004 Jane Doe\n%s",
                          notice + 28);
    const recite_result *res;
    recite_error err = {0};
    assert_int_equal(recite_check_text(&res, chk, out, m, &err), RECITE_OK);
    assert_true(res->nmatches >= 2);
    rc_store_reader *spare = atomic_load(&index->spare_readers[0]);
    assert_non_null(spare);
    for (int i = 1; i < RC_SPARE_READERS; i++)
        assert_null(atomic_load(&index->spare_readers[i]));
    uint64_t misses = spare->misses, hits = spare->hits;
    char *json = NULL;
    assert_int_equal(recite_report_json(&json, index, NULL, "out \"1\".txt", out, m, res, &err),
                     RECITE_OK);
    check_json_is_janssons(json);
    /* ... through the reader the check used: it gave it back to the index's spares, and the
     * report's locators (each match's lines, from its text block) found the blocks the check
     * decoded, none decoded again. */
    assert_ptr_equal(atomic_load(&index->spare_readers[0]), spare);
    assert_int_equal(spare->misses, misses);
    assert_true(spare->hits > hits);
    /* What the cases were there for. */
    assert_non_null(strstr(json, "\\\"quoted\\\" \\\\ work"));
    assert_non_null(strstr(json, "caf\\u00E9\\tna\\u00EFve-\\u201Cq\\u201D"));
    assert_non_null(strstr(json, "astral \\uD83D\\uDE00"));
    bool exponent = false; /* a coverage in exponent form, as jansson writes it: 6.1e-5 */
    for (const char *c = strstr(json, "\"coverage\":"); c; c = strstr(c + 1, "\"coverage\":")) {
        const char *v = c + strlen("\"coverage\":");
        size_t k = strspn(v, "0123456789.e-");
        exponent |= memchr(v, 'e', k) && !memchr(v, '+', k) && v[strcspn(v, "e") + 2] != '0';
    }
    assert_true(exponent);
    assert_non_null(strstr(json, "\"cmi_evidence\""));
    free(json);
    /* And with nothing found. */
    assert_int_equal(recite_check_text(&res, chk, "nothing", 7, &err), RECITE_OK);
    assert_int_equal(recite_report_json(&json, index, NULL, NULL, "nothing", 7, res, &err),
                     RECITE_OK);
    check_json_is_janssons(json);
    assert_non_null(strstr(json, "\"input\":\"-\""));
    free(json);
    recite_checker_free(chk);
    recite_index_close(index);
    free(big);
    test_dirs_free(dir, lib, idx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_report_bytes_are_janssons),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

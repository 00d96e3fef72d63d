/*
 * test_shape_seeds.c — the code channels' seeds (src/match/matcher.c, lookup_kgrams): a k-gram
 * of lexemes without an operator or a bracket (words, keywords, numbers, strings, prose's
 * punctuation) seeds nothing there, so prose checked against a library with code costs no code
 * alignments; such code is still found by its words; renamed code still seeds.
 */
#include "test_util.h"

#include "match/rc_match.h"

/* Shape-channel seeds taken for `text` against the index at idx. */
static uint64_t shape_seeds(const recite_index *index, const char *text)
{
    recite_check_options opt = RECITE_CHECK_OPTIONS_INIT;
    recite_error err = {0};
    rc_matcher *m = NULL;
    if (rc_matcher_create(&m, index, &opt, &err) != RECITE_OK ||
        rc_matcher_feed(m, text, strlen(text), &err) != RECITE_OK ||
        rc_matcher_finish(m, &err) != RECITE_OK)
        fail_msg("check: %s", err.message);
    uint64_t n = m->chans[RC_CH_SHAPE].seeds_taken;
    rc_matcher_free(m);
    return n;
}

static void test_prose_shapes_seed_nothing(void **state)
{
    (void)state;
    char *dir, *lib, *idx;
    test_dirs_make(&dir, &lib, &idx);
    /* A shell script listing 60 names (a run of word shapes, as prose has), and C code. */
    char sh[4096] = "#!/bin/sh\nfor name in";
    char prose[4096] = "We talked about";
    for (int i = 0; i < 60; i++) {
        snprintf(sh + strlen(sh), sizeof sh - strlen(sh), " name%02d", i);
        snprintf(prose + strlen(prose), sizeof prose - strlen(prose), "%s word%02d",
                 i % 9 == 8 ? "," : "", i);
    }
    strcat(sh, "; do\n    echo \"$name\"\ndone\n");
    strcat(prose, ".\n");
    test_put(lib, "names.sh", sh, strlen(sh));
    static const char c_src[] =
        "static int sum_of_squares(const int *values, size_t count)\n{\n    int total = 0;\n"
        "    for (size_t i = 0; i < count; i++) {\n        if (values[i] < 0)\n"
        "            continue;\n        total += values[i] * values[i];\n    }\n"
        "    return total > 1000 ? 1000 : total;\n}\n";
    test_put(lib, "sum.c", c_src, strlen(c_src));
    recite_build_options opt = test_opts();
    opt.mode = RECITE_MODE_AUTO;
    test_build(lib, idx, &opt);
    recite_index *index = NULL;
    test_open(idx, &index, NULL, NULL);

    /* Before lookup_kgrams skipped prose shapes, the prose's run of words seeded the script. */
    assert_int_equal(shape_seeds(index, prose), 0);
    /* The script has no operator or bracket either (its `"$name"` is a string): it seeds
     * nothing in the code channels, and is still found, by its words in the prose channel. */
    assert_int_equal(shape_seeds(index, sh), 0);
    recite_checker *chk = NULL;
    recite_error err = {0};
    const recite_result *res = NULL;
    assert_int_equal(recite_checker_create(&chk, index, NULL, &err), RECITE_OK);
    assert_int_equal(recite_check_text(&res, chk, sh, strlen(sh), &err), RECITE_OK);
    assert_true(res->nmatches >= 1);
    assert_true(res->matches[0].tokens >= 60);
    recite_checker_free(chk);
    /* Renamed C code has structure: its shapes seed. */
    static const char renamed[] =
        "static int add_up(const int *xs, size_t n)\n{\n    int acc = 0;\n"
        "    for (size_t k = 0; k < n; k++) {\n        if (xs[k] < 0)\n"
        "            continue;\n        acc += xs[k] * xs[k];\n    }\n"
        "    return acc > 1000 ? 1000 : acc;\n}\n";
    assert_true(shape_seeds(index, renamed) > 0);

    recite_index_close(index);
    test_dirs_free(dir, lib, idx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_prose_shapes_seed_nothing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

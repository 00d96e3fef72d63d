/*
 * test_fingerprint.c — k-gram hashing and winnowing (src/fingerprint/): known-answer vectors
 * (these values are part of the on-disk format: a change here needs a format/tokenizer version
 * bump), the streaming winnower against a brute-force reference, and the detection guarantee.
 */
#include "test_util.h"

#include "fingerprint/rc_fingerprint.h"

static void test_known_answers(void **state)
{
    (void)state;
    uint64_t t[6] = {1, 2, 3, 4, 5, 6};
    assert_int_equal(rc_kgram_hash(t, 6), 0xdbb6e3b2d4fed732ULL);
    toklist tl = tokenize_str("Hello caf\xc3\xa9");
    assert_int_equal(tl.n, 2);
    assert_int_equal(tl.v[0].hash, 0xc6c002b7a6c3b8a8ULL);
    assert_int_equal(tl.v[1].hash, 0xc743b4e9f1804a67ULL);
    free(tl.v);
}

static void test_params(void **state)
{
    (void)state;
    unsigned k, w;
    assert_int_equal(rc_fingerprint_params(12, &k, &w), RECITE_OK);
    assert_int_equal(k, 6);
    assert_int_equal(w, 7);
    for (unsigned t = 1; t <= RC_WINDOW_MAX + 5; t++) {
        assert_int_equal(rc_fingerprint_params(t, &k, &w), RECITE_OK);
        assert_int_equal(k + w - 1, t);
        assert_true(k >= 1 && k <= RC_KGRAM_MAX && w >= 1 && w <= RC_WINDOW_MAX);
    }
    assert_int_equal(rc_fingerprint_params(0, &k, &w), RECITE_EINVAL);
    assert_int_equal(rc_fingerprint_params(RC_WINDOW_MAX + 6, &k, &w), RECITE_EINVAL);
}

/* ==== references ==== */

typedef struct fp {
    uint64_t hash, pos;
} fp;

static size_t winnow_stream(const uint64_t *toks, size_t n, unsigned k, unsigned w, fp *out)
{
    rc_winnow wn;
    rc_winnow_init(&wn, k, w);
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (rc_winnow_push(&wn, toks[i], &out[m].hash, &out[m].pos))
            m++;
    if (rc_winnow_finish(&wn, &out[m].hash, &out[m].pos))
        m++;
    return m;
}

/* Robust winnowing by definition: each window's minimum; on a tie the k-gram selected for the
 * previous window if it is still inside, else the rightmost; repeats of a position merged. */
static size_t winnow_reference(const uint64_t *toks, size_t n, unsigned k, unsigned w, fp *out)
{
    if (n < k)
        return 0;
    size_t nk = n - k + 1, m = 0;
    uint64_t *kg = malloc(nk * sizeof *kg);
    for (size_t i = 0; i < nk; i++)
        kg[i] = rc_kgram_hash(toks + i, k);
    size_t width = nk < w ? nk : w;
    for (size_t start = 0; start + width <= nk; start++) {
        size_t best = start;
        for (size_t j = start; j < start + width; j++)
            if (kg[j] <= kg[best])
                best = j;
        if (m > 0 && out[m - 1].pos >= start && kg[out[m - 1].pos] == kg[best])
            best = out[m - 1].pos;
        if (m == 0 || out[m - 1].pos != best)
            out[m++] = (fp){kg[best], best};
    }
    free(kg);
    return m;
}

static void random_tokens(rng *r, uint64_t *t, size_t n, unsigned alphabet)
{
    for (size_t i = 0; i < n; i++)
        t[i] = rc_mix64(1 + rng_below(r, alphabet));
}

/* n random tokens of `alphabet` values: the streaming winnower gives the reference's
 * fingerprints, hash and position, one for one. */
static void expect_stream_equals_reference(rng *r, size_t n, unsigned k, unsigned w,
                                           unsigned alphabet)
{
    uint64_t *toks = malloc((n + 1) * sizeof *toks);
    random_tokens(r, toks, n, alphabet);
    fp *a = malloc((n + 2) * sizeof *a), *b = malloc((n + 2) * sizeof *b);
    size_t na = winnow_stream(toks, n, k, w, a), nb = winnow_reference(toks, n, k, w, b);
    assert_int_equal(na, nb);
    for (size_t i = 0; i < na; i++) {
        assert_int_equal(a[i].hash, b[i].hash);
        assert_int_equal(a[i].pos, b[i].pos);
    }
    free(toks);
    free(a);
    free(b);
}

static void test_stream_matches_reference(void **state)
{
    (void)state;
    rng r = rng_seeded(11);
    for (int it = 0; it < iterations(3000); it++) {
        unsigned t = 1 + (unsigned)rng_below(&r, 40);
        unsigned k, w;
        assert_int_equal(rc_fingerprint_params(t, &k, &w), RECITE_OK);
        size_t n = rng_below(&r, 200);
        /* Small alphabets make ties and repeated k-grams common. */
        expect_stream_equals_reference(&r, n, k, w, rng_below(&r, 2) ? 3u : 1000u);
    }
}

/* The same for windows up to RC_WINDOW_MAX (the winnower's ring wraps) and the longer k-grams of
 * code, over texts many windows long. */
static void test_stream_matches_reference_wide(void **state)
{
    (void)state;
    rng r = rng_seeded(12);
    for (int it = 0; it < iterations(300); it++) {
        bool code = rng_below(&r, 2);
        unsigned t = 1 + (unsigned)rng_below(&r, RC_WINDOW_MAX + 5), k, w;
        if (code ? rc_fingerprint_params_code(t, &k, &w) : rc_fingerprint_params(t, &k, &w))
            continue;
        size_t n = rng_below(&r, 3000);
        expect_stream_equals_reference(&r, n, k, w, rng_below(&r, 2) ? 3u : 100000u);
    }
}

/* Any run of >= w + k - 1 tokens shared by A and B: A's fingerprints include a k-gram inside the
 * run whose hash equals B's k-gram at the same offset in the run. This is what the checker's
 * dense lookups rely on. */
static void test_guarantee(void **state)
{
    (void)state;
    rng r = rng_seeded(12);
    for (int it = 0; it < iterations(5000); it++) {
        unsigned t = 1 + (unsigned)rng_below(&r, 30);
        unsigned k, w;
        rc_fingerprint_params(t, &k, &w);
        size_t run = t + rng_below(&r, 2 * t + 1);
        size_t na = run + rng_below(&r, 100), nb = run + rng_below(&r, 100);
        uint64_t *A = malloc(na * sizeof *A), *B = malloc(nb * sizeof *B);
        unsigned alpha = rng_below(&r, 3) ? 1000 : 4;
        random_tokens(&r, A, na, alpha);
        random_tokens(&r, B, nb, alpha);
        size_t pa = rng_below(&r, na - run + 1), pb = rng_below(&r, nb - run + 1);
        memcpy(A + pa, B + pb, run * sizeof *A);
        fp *fa = malloc((na + 2) * sizeof *fa);
        size_t nfa = winnow_stream(A, na, k, w, fa);
        int found = 0;
        for (size_t i = 0; i < nfa && !found; i++) {
            uint64_t p = fa[i].pos;
            if (p >= pa && p + k <= pa + run)
                found = rc_kgram_hash(B + (p - pa + pb), k) == fa[i].hash;
        }
        if (!found)
            fail_msg("run of %zu tokens (t=%u k=%u w=%u) has no shared fingerprint", run, t, k, w);
        free(A);
        free(B);
        free(fa);
    }
}

static void test_low_entropy_text_is_sparse(void **state)
{
    (void)state;
    uint64_t toks[1000];
    for (size_t i = 0; i < 1000; i++)
        toks[i] = 42;
    fp f[1002];
    size_t m = winnow_stream(toks, 1000, 6, 7, f);
    assert_true(m <= 1000 / 7 + 1);
    assert_true(m >= 1000 / 7 - 1);
}

static void test_density(void **state)
{
    (void)state;
    rng r = rng_seeded(13);
    size_t n = 200000;
    uint64_t *toks = malloc(n * sizeof *toks);
    random_tokens(&r, toks, n, 1u << 30);
    fp *f = malloc((n + 2) * sizeof *f);
    size_t m = winnow_stream(toks, n, 6, 7, f);
    double density = (double)m / (double)(n - 5), expect = 2.0 / 8.0;
    assert_true(density > expect * 0.95 && density < expect * 1.05);
    free(toks);
    free(f);
}

static void test_short_texts(void **state)
{
    (void)state;
    uint64_t toks[20];
    rng r = rng_seeded(14);
    random_tokens(&r, toks, 20, 1000);
    fp f[24];
    /* Fewer than k tokens: nothing. */
    assert_int_equal(winnow_stream(toks, 5, 6, 7, f), 0);
    /* k..t-1 tokens: exactly the smallest k-gram. */
    for (size_t n = 6; n < 12; n++) {
        assert_int_equal(winnow_stream(toks, n, 6, 7, f), 1);
        uint64_t best = UINT64_MAX;
        for (size_t i = 0; i + 6 <= n; i++)
            if (rc_kgram_hash(toks + i, 6) < best)
                best = rc_kgram_hash(toks + i, 6);
        assert_int_equal(f[0].hash, best);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_known_answers),
        cmocka_unit_test(test_params),
        cmocka_unit_test(test_stream_matches_reference),
        cmocka_unit_test(test_stream_matches_reference_wide),
        cmocka_unit_test(test_guarantee),
        cmocka_unit_test(test_density),
        cmocka_unit_test(test_low_entropy_text_is_sparse),
        cmocka_unit_test(test_short_texts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * test_text.c — the tokenizer and normalizer (src/text/): each normalization rule, byte offsets,
 * invalid UTF-8, streaming (split input) and restart equivalence, punctuation signatures.
 */
#include "test_util.h"

#include <xxhash.h>

/* Asserts the tokens of `s` are exactly the words in `expect` (space-separated, already
 * normalized) with the given byte offsets (pairs), when offsets != NULL. */
static void expect_tokens(const char *s, const char *expect, const uint64_t *offsets)
{
    toklist tl = tokenize_str(s);
    char *copy = strdup(expect), *save = NULL;
    size_t i = 0;
    for (char *w = strtok_r(copy, " ", &save); w; w = strtok_r(NULL, " ", &save), i++) {
        if (i >= tl.n)
            fail_msg("%s: only %zu tokens, expected more (next '%s')", s, tl.n, w);
        if (tl.v[i].hash != word_hash(w))
            fail_msg("%s: token %zu is not '%s' (bytes %llu-%llu)", s, i, w,
                     (unsigned long long)tl.v[i].start, (unsigned long long)tl.v[i].end);
        if (offsets) {
            assert_int_equal(tl.v[i].start, offsets[2 * i]);
            assert_int_equal(tl.v[i].end, offsets[2 * i + 1]);
        }
    }
    if (i != tl.n)
        fail_msg("%s: %zu tokens, expected %zu", s, tl.n, i);
    free(copy);
    free(tl.v);
}

static void test_words_and_offsets(void **state)
{
    (void)state;
    static const uint64_t off[] = {0, 5, 7, 12, 14, 18, 19, 20, 21, 31, 32, 36};
    expect_tokens("Hello, world! It's a well-known fact.", "hello world its a wellknown fact", off);
    expect_tokens("", "", NULL);
    expect_tokens("  ... !!! ", "", NULL);
    expect_tokens("x", "x", NULL);
}

/* ASCII words of every length up to 70, in mixed case with digits, at every alignment, after a
 * word of their line, ended by each kind of separator or by the text's end, with or without
 * spaces after it: the hash of the lower-cased word (the tokenizer scans such words sixteen
 * bytes at a time where sixteen bytes are left), the span the word's. */
static void test_ascii_words_any_length(void **state)
{
    (void)state;
    rng r = rng_seeded(61);
    static const char *const ends[] = {"", " ", ".", ",", ")", "\n", "\t", "/", ";", "\"", "#"};
    char word[80], lower[80], text[160];
    for (size_t len = 1; len <= 70; len++)
        for (size_t pad = 1; pad < 18; pad += 3)
            for (size_t e = 0; e < sizeof ends / sizeof *ends; e++)
                for (int tail = 0; tail <= 16; tail += 16) {
                    for (size_t k = 0; k < len; k++) {
                        unsigned x = (unsigned)rng_below(&r, 62);
                        word[k] = (char)(x < 26 ? 'a' + x : x < 52 ? 'A' + x - 26 : '0' + x - 52);
                        lower[k] = (char)(x < 26 ? 'a' + x : x < 52 ? 'a' + x - 26 : '0' + x - 52);
                    }
                    /* "x" first: a word at a line's start may be a line number (another path) */
                    snprintf(text, sizeof text, "x%*s%.*s%s%*s", (int)pad, "", (int)len, word,
                             ends[e], tail, "");
                    toklist tl = tokenize_str(text);
                    assert_int_equal(tl.n, 2);
                    assert_int_equal(tl.v[1].hash, XXH3_64bits_withSeed(lower, len, RC_TOKEN_SEED));
                    assert_int_equal(tl.v[1].start, 1 + pad);
                    assert_int_equal(tl.v[1].end, 1 + pad + len);
                    free(tl.v);
                }
}

static void test_case_and_unicode_forms(void **state)
{
    (void)state;
    assert_true(same_tokens("HELLO World", "hello world"));
    assert_true(same_tokens("Stra\xc3\x9f"
                            "e",
                            "STRASSE"));                /* ß case-folds to ss */
    assert_true(same_tokens("\xef\xac\x81ne", "fine")); /* ﬁ ligature */
    assert_true(same_tokens("\xef\xbc\xa1\xef\xbc\xa2\xef\xbc\xa3", "abc")); /* fullwidth */
    assert_true(same_tokens("caf\xc3\xa9", "cafe\xcc\x81")); /* é composed/decomposed */
    assert_true(same_tokens("\xce\xa3\xce\x9f\xce\xa6\xce\x99\xce\x91",
                            "\xcf\x83\xce\xbf\xcf\x86\xce\xb9\xce\xb1"));
    assert_false(same_tokens("cafe", "caf\xc3\xa9")); /* accents are kept */
    assert_true(same_tokens("x\xc2\xb2", "x2"));      /* superscript two */
}

static void test_quotes_apostrophes_dashes(void **state)
{
    (void)state;
    assert_true(same_tokens("don\xe2\x80\x99t", "don't"));
    assert_true(same_tokens("don't", "dont"));
    assert_true(same_tokens("\xe2\x80\x9cquoted\xe2\x80\x9d text", "\"quoted\" text"));
    assert_true(same_tokens("\xe2\x80\x98single\xe2\x80\x99", "'single'"));
    assert_true(same_tokens("word\xe2\x80\x94word", "word -- word"));
    assert_true(same_tokens("word\xe2\x80\x93word", "word - word"));
    expect_tokens("rock 'n' roll", "rock n roll", NULL);
    expect_tokens("the dogs' bones", "the dogs bones", NULL);
}

static void test_whitespace_and_line_breaks(void **state)
{
    (void)state;
    assert_true(same_tokens("a  b\n\nc\td\r\ne", "a b c d e"));
    assert_true(same_tokens("a\xc2\xa0"
                            "b",
                            "a b")); /* no-break space */
    assert_true(same_tokens("a\xe2\x80\xa8"
                            "b",
                            "a b")); /* line separator */
    assert_true(same_tokens("one\ftwo\vthree", "one two three"));
}

static void test_hyphenation(void **state)
{
    (void)state;
    static const uint64_t off[] = {0, 3, 4, 16, 17, 20};
    expect_tokens("the recita-\ntion now", "the recitation now", off);
    assert_true(same_tokens("recita-\r\n   tion", "recitation"));
    assert_true(same_tokens("recita- \n\ttion", "recitation"));
    assert_true(same_tokens("recita\xe2\x80\x90\ntion", "recitation")); /* U+2010 hyphen */
    assert_true(same_tokens("recita\xc2\xad\ntion", "recitation"));     /* soft hyphen */
    assert_true(same_tokens("recita\xc2\xadtion", "recitation"));
    assert_true(same_tokens("well-known", "well-\nknown"));
    /* Across numbered lines, as in court filings. */
    assert_true(same_tokens("the recita-\n12   tion was", "the recitation was"));
    /* A dash at the end of a line is not a hyphenation: the next line starts a new word. */
    assert_true(same_tokens("word --\nnext", "word next"));
    assert_true(same_tokens("word -\nnext", "word next"));
    /* Two line breaks: a paragraph ends with a hyphen; no join. */
    assert_true(same_tokens("pre-\n\npost", "pre post"));
}

/* Issue 13, point 10: a number range is one token whatever dash joins it — hyphen, en dash,
 * non-breaking hyphen (and figure dash) between two digits — so an output that typesets ranges
 * with en dashes still matches a work written with hyphens. Between letters an en dash still
 * separates words. */
static void test_number_ranges(void **state)
{
    (void)state;
    expect_tokens("1992-1994", "19921994", NULL);
    expect_tokens("1992\xe2\x80\x93"
                  "1994",
                  "19921994", NULL); /* en dash */
    expect_tokens("1992\xe2\x80\x91"
                  "1994",
                  "19921994", NULL); /* non-breaking hyphen */
    expect_tokens("1992\xe2\x80\x92"
                  "1994",
                  "19921994", NULL); /* figure dash */
    assert_true(same_tokens("Copyright (C) 1992\xe2\x80\x93"
                            "1994, 2001\xe2\x80\x93"
                            "2005 the authors",
                            "Copyright (C) 1992-1994, 2001-2005 the authors"));
    /* Offsets span the whole range. */
    expect_tokens("1992\xe2\x80\x93"
                  "1994 ok",
                  "19921994 ok", (const uint64_t[]){0, 11, 12, 14});
    /* Not between two digits: words stay apart, as before. */
    expect_tokens("pages 12\xe2\x80\x93 and", "pages 12 and", NULL);
    expect_tokens("A\xe2\x80\x93"
                  "1",
                  "a 1", NULL);
    expect_tokens("London\xe2\x80\x93Paris", "london paris", NULL);
    expect_tokens("1992 \xe2\x80\x93 1994", "1992 1994", NULL);
}

static void test_line_number_furniture(void **state)
{
    (void)state;
    assert_true(
        same_tokens("1  The plaintiff\n2  alleges that\n 3 the", "The plaintiff alleges that the"));
    assert_true(same_tokens("  12\tfoo", "foo"));
    assert_true(same_tokens("999 foo", "foo"));
    assert_true(same_tokens("7\nfoo", "foo"));                /* a number alone on its line */
    expect_tokens("1000 foo", "1000 foo", NULL);              /* four digits: content */
    expect_tokens("1. Introduction", "1 introduction", NULL); /* a numbered heading */
    expect_tokens("12th night", "12th night", NULL);
    expect_tokens("page 12 of", "page 12 of", NULL); /* mid-line */
    expect_tokens("(12) foo", "12 foo", NULL);       /* punctuation first */
    expect_tokens("12-year term", "12year term", NULL);
    /* Only the first number of a line is furniture. */
    expect_tokens("12 34 foo", "34 foo", NULL);
}

static void test_cjk(void **state)
{
    (void)state;
    toklist tl = tokenize_str("\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e text \xe3\x83\x86\xe3\x82\xad");
    assert_int_equal(tl.n, 6);
    assert_int_equal(tl.v[0].start, 0);
    assert_int_equal(tl.v[0].end, 3);
    assert_int_equal(tl.v[3].start, 10);
    assert_int_equal(tl.v[3].end, 14);
    free(tl.v);
    /* Halfwidth katakana normalize to the fullwidth forms. */
    assert_true(same_tokens("\xef\xbd\xb1", "\xe3\x82\xa2"));
}

static void test_invalid_utf8(void **state)
{
    (void)state;
    /* Latin-1 é decodes as Windows-1252, so it equals the UTF-8 word. */
    assert_true(same_tokens("caf\xe9 au lait", "caf\xc3\xa9 au lait"));
    assert_int_equal(rc_utf8_count_invalid((const uint8_t *)"caf\xe9", 4), 1);
    /* Windows-1252 quotes (0x93/0x94) are quotes, not letters. */
    assert_true(same_tokens("\x93quoted\x94", "quoted"));
    /* Overlong, surrogate, out of range, stray continuation, truncated: never a crash. */
    const char *bad[] = {"a\xc0\xaf"
                         "b",
                         "a\xed\xa0\x80"
                         "b",
                         "a\xf4\x90\x80\x80"
                         "b",
                         "a\x80"
                         "b",
                         "ab\xe2\x82",
                         "\xff\xfe",
                         "\xf0\x9f"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        toklist tl = tokenize_str(bad[i]);
        for (size_t k = 0; k < tl.n; k++) {
            assert_true(tl.v[k].start < tl.v[k].end);
            assert_true(tl.v[k].end <= strlen(bad[i]));
        }
        free(tl.v);
        assert_true(rc_utf8_count_invalid((const uint8_t *)bad[i], strlen(bad[i])) > 0);
    }
    assert_int_equal(rc_utf8_count_invalid((const uint8_t *)"\xe2\x82\xac ok", 6), 0);
    /* NUL and controls separate words. */
    expect_tokens("one\0two", "one", NULL); /* strlen stops at NUL here */
    toklist tl = tokenize_all("one\0two\x01three", 13);
    assert_int_equal(tl.n, 3);
    free(tl.v);
}

static void test_long_words_are_cut(void **state)
{
    (void)state;
    size_t n = 3 * RC_MAX_TOKEN_CP + 10;
    char *s = malloc(n + 1);
    memset(s, 'a', n);
    s[n] = 0;
    toklist tl = tokenize_all(s, n);
    assert_int_equal(tl.n, 4);
    assert_int_equal(tl.v[0].end, RC_MAX_TOKEN_CP);
    assert_int_equal(tl.v[3].end, n);
    free(tl.v);
    free(s);
}

/* ==== streaming and restarting give the same tokens as one pass ==== */

static const char *const pieces[] = {
    "the ",         "The ",         "recita-\n",
    "tion ",        "\n12  ",       "don\xe2\x80\x99t ",
    "caf\xc3\xa9 ", "\xe6\x97\xa5", "\xe2\x80\x94",
    "well-known ",  "  ",           "\n",
    "1. ",          "word, ",       "\xe9 ",
    "\r\n",         "x-\n 3  y ",   "\xef\xac\x81ne ",
    "- ",           "''",           "42 ",
    "end.",
};

static char *random_text(rng *r, size_t npieces, size_t *len)
{
    size_t cap = npieces * 16 + 1, n = 0;
    char *s = malloc(cap);
    for (size_t i = 0; i < npieces; i++) {
        const char *p = pieces[rng_below(r, sizeof pieces / sizeof *pieces)];
        size_t k = strlen(p);
        memcpy(s + n, p, k);
        n += k;
    }
    s[n] = 0;
    *len = n;
    return s;
}

static void assert_same_list(const toklist *a, const rc_token *b, size_t nb)
{
    assert_int_equal(a->n, nb);
    for (size_t i = 0; i < nb; i++) {
        assert_int_equal(a->v[i].hash, b[i].hash);
        assert_int_equal(a->v[i].start, b[i].start);
        assert_int_equal(a->v[i].end, b[i].end);
    }
}

static void test_streaming_equals_batch(void **state)
{
    (void)state;
    rng r = rng_seeded(1);
    static rc_tokenizer tz;
    for (int it = 0; it < iterations(2000); it++) {
        size_t len;
        char *s = random_text(&r, 1 + rng_below(&r, 60), &len);
        toklist whole = tokenize_all(s, len);
        /* Feed growing prefixes, cut anywhere (even inside a UTF-8 sequence). */
        rc_token *got = malloc((whole.n + 8) * sizeof *got);
        size_t ngot = 0, avail = 0;
        rc_tok_state st = {0, true};
        while (avail < len) {
            avail += 1 + rng_below(&r, 8);
            if (avail > len)
                avail = len;
            bool final = avail == len && rng_below(&r, 2);
            ngot += rc_tokenize_prose(&tz, (const uint8_t *)s, avail, final, &st, got + ngot,
                                      whole.n + 8 - ngot);
        }
        ngot += rc_tokenize_prose(&tz, (const uint8_t *)s, len, true, &st, got + ngot,
                                  whole.n + 8 - ngot);
        assert_same_list(&whole, got, ngot);
        free(got);
        free(whole.v);
        free(s);
    }
}

static void test_restart_at_token_end(void **state)
{
    (void)state;
    rng r = rng_seeded(2);
    static rc_tokenizer tz;
    for (int it = 0; it < iterations(2000); it++) {
        size_t len;
        char *s = random_text(&r, 1 + rng_below(&r, 60), &len);
        toklist whole = tokenize_all(s, len);
        if (whole.n > 1) {
            size_t i = 1 + rng_below(&r, whole.n - 1);
            rc_tok_state st = {whole.v[i - 1].end, false};
            rc_token *got = malloc(whole.n * sizeof *got);
            size_t n = rc_tokenize_prose(&tz, (const uint8_t *)s, len, true, &st, got, whole.n);
            toklist tail = {whole.v + i, whole.n - i};
            assert_same_list(&tail, got, n);
            free(got);
        }
        free(whole.v);
        free(s);
    }
}

static void test_capacity_limit_resumes(void **state)
{
    (void)state;
    const char *s = "one two three four five";
    static rc_tokenizer tz;
    rc_tok_state st = {0, true};
    rc_token t[2];
    size_t total = 0, n;
    while ((n = rc_tokenize_prose(&tz, (const uint8_t *)s, strlen(s), true, &st, t, 2)) > 0)
        total += n;
    assert_int_equal(total, 5);
}

/* ==== punctuation signatures ==== */

static int same_sig(const char *a, const char *b)
{
    uint8_t x[256], y[256];
    size_t nx = rc_punct_signature((const uint8_t *)a, strlen(a), 0, strlen(a), x, sizeof x);
    size_t ny = rc_punct_signature((const uint8_t *)b, strlen(b), 0, strlen(b), y, sizeof y);
    return nx == ny && memcmp(x, y, nx) == 0;
}

static void test_punct_signature(void **state)
{
    (void)state;
    assert_true(
        same_sig("Hello, \xe2\x80\x9cworld\xe2\x80\x9d\xe2\x80\x94yes", "Hello, \"world\" -- yes"));
    assert_true(same_sig("it\xe2\x80\x99s", "it's"));
    assert_true(same_sig("wait\xe2\x80\xa6", "wait..."));
    assert_true(same_sig("recita-\ntion", "recitation"));
    assert_true(same_sig("1  text\n2  more", "text more"));
    assert_false(same_sig("Hello, world", "Hello world"));
    assert_false(same_sig("a; b", "a, b"));
    assert_false(same_sig("'a'", "\"a\""));
    /* A dash after a space at the end of a line is a dash, not a hyphenation. */
    assert_true(same_sig("then -\nruns", "then\n- runs"));
    assert_false(same_sig("then -\nruns", "then runs"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_words_and_offsets),
        cmocka_unit_test(test_ascii_words_any_length),
        cmocka_unit_test(test_case_and_unicode_forms),
        cmocka_unit_test(test_quotes_apostrophes_dashes),
        cmocka_unit_test(test_whitespace_and_line_breaks),
        cmocka_unit_test(test_hyphenation),
        cmocka_unit_test(test_number_ranges),
        cmocka_unit_test(test_line_number_furniture),
        cmocka_unit_test(test_cjk),
        cmocka_unit_test(test_invalid_utf8),
        cmocka_unit_test(test_long_words_are_cut),
        cmocka_unit_test(test_streaming_equals_batch),
        cmocka_unit_test(test_restart_at_token_end),
        cmocka_unit_test(test_capacity_limit_resumes),
        cmocka_unit_test(test_punct_signature),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * test_stream.c — streaming verdicts (recite_checker_poll): whatever the pieces a text is fed
 * in (splits inside UTF-8 sequences and inside words) and however often it is polled, finish
 * gives exactly the batch result; the leak bound holds at every poll (every planted span of at
 * least min_tokens that starts before `cleared` has been reported, and `cleared` trails the
 * complete tokens by at most recite_checker_leak_bound()); a span keeps its number as it grows;
 * every span reported while streaming is confirmed by the final result.
 */
#include "test_util.h"

#define FILLER_WORDS 9

typedef struct fixture {
    char *dir, *lib, *idx;
    recite_index *index;
    char *texts[4]; /* the works, for planting */
    size_t lens[4];
    size_t ntexts;
} fixture;

static const char *const licenses[] = {"GPL-3", "Apache-2.0", "MPL-2.0", "Artistic"};

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    test_dirs_make(&f->dir, &f->lib, &f->idx);
    for (size_t i = 0; i < RC_ARRAY_LEN(licenses); i++)
        f->texts[i] = test_put_license(f->lib, licenses[i], &f->lens[i]);
    f->ntexts = RC_ARRAY_LEN(licenses);
    test_build(f->lib, f->idx, NULL);
    test_open(f->idx, &f->index, NULL, NULL);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    recite_index_close(f->index);
    for (size_t i = 0; i < f->ntexts; i++)
        free(f->texts[i]);
    test_dirs_free(f->dir, f->lib, f->idx);
    free(f);
    return 0;
}

/* ==== outputs: filler with planted slices of the works ==== */

typedef struct planted {
    size_t start, end; /* bytes in the output */
    size_t tokens;
} planted;

typedef struct output {
    char *s;
    size_t n, cap;
    planted spans[16];
    size_t nspans;
} output;

static void out_add(output *o, const char *s, size_t n)
{
    if (o->n + n + 1 > o->cap) {
        o->cap = (o->n + n + 1) * 2;
        o->s = realloc(o->s, o->cap);
        assert_non_null(o->s);
    }
    memcpy(o->s + o->n, s, n);
    o->n += n;
    o->s[o->n] = 0;
}

/* Words no license text holds, some of them multi-byte UTF-8. */
static void add_filler(output *o, rng *r, size_t words)
{
    static const char *const fill[FILLER_WORDS] = {
        "zqx",    "na\xc3\xafve", "\xe6\x97\xa5",
        "vlorp",  "qu\xc3\xa9xz", "brimbl",
        "xyzzy,", "frobn.",       "\xe2\x80\x9cwugs\xe2\x80\x9d"};
    for (size_t i = 0; i < words; i++) {
        char buf[64];
        int n = snprintf(buf, sizeof buf, "%s%u ", fill[rng_below(r, FILLER_WORDS)],
                         (unsigned)rng_below(r, 1000));
        out_add(o, buf, (size_t)n);
    }
}

/* Plants `tokens` words of a work, starting at a random word of it. */
static void add_slice(output *o, const fixture *f, rng *r, size_t tokens)
{
    size_t w = rng_below(r, f->ntexts);
    toklist tl = tokenize_all(f->texts[w], f->lens[w]);
    assert_true(tl.n > tokens + 1);
    size_t t0 = rng_below(r, tl.n - tokens);
    size_t a = tl.v[t0].start, b = tl.v[t0 + tokens - 1].end;
    planted p = {o->n, o->n + (b - a), tokens};
    out_add(o, f->texts[w] + a, b - a);
    out_add(o, " ", 1);
    if (o->nspans < RC_ARRAY_LEN(o->spans))
        o->spans[o->nspans++] = p;
    free(tl.v);
}

static output make_output(const fixture *f, rng *r, size_t min_tokens)
{
    output o = {0};
    out_add(&o, "", 0);
    size_t n = 1 + rng_below(r, 4);
    for (size_t i = 0; i < n; i++) {
        add_filler(&o, r, rng_below(r, 40));
        add_slice(&o, f, r, min_tokens + rng_below(r, 3 * min_tokens));
    }
    add_filler(&o, r, rng_below(r, 20));
    return o;
}

/* ==== comparing results ==== */

static void assert_same_result(const recite_result *a, const recite_result *b)
{
    assert_same_matches(a, b);
    assert_int_equal(a->nworks, b->nworks);
    for (size_t i = 0; i < a->nworks; i++) {
        const recite_work_hit *x = &a->works[i], *y = &b->works[i];
        assert_int_equal(x->work, y->work);
        assert_int_equal(x->tokens_covered, y->tokens_covered);
        assert_int_equal(x->cmi, y->cmi);
        assert_string_equal(x->license, y->license);
        assert_string_equal(x->cmi_found, y->cmi_found);
    }
    assert_int_equal(a->tokens, b->tokens);
    assert_int_equal(a->truncated, b->truncated);
    assert_int_equal(a->common_others, b->common_others);
}

/* ==== tests ==== */

/* Random chunkings (1-40 bytes, so splits fall inside words and UTF-8 sequences), polled after
 * a random share of the pieces: finish equals the batch check. */
static void test_chunked_equals_batch(void **state)
{
    fixture *f = *state;
    recite_checker *batch, *stream;
    recite_error err = {0};
    assert_int_equal(recite_checker_create(&batch, f->index, NULL, &err), RECITE_OK);
    assert_int_equal(recite_checker_create(&stream, f->index, NULL, &err), RECITE_OK);
    rng r = rng_seeded(41);
    int trials = iterations(60);
    size_t found = 0;
    for (int t = 0; t < trials; t++) {
        output o = make_output(f, &r, 12);
        const recite_result *want, *got;
        assert_int_equal(recite_check_text(&want, batch, o.s, o.n, &err), RECITE_OK);
        found += want->nmatches;
        int poll_every = 1 + (int)rng_below(&r, 4);
        for (size_t at = 0, piece = 0; at < o.n; piece++) {
            size_t want_k = 1 + rng_below(&r, 40), k = RC_MIN(o.n - at, want_k);
            assert_int_equal(recite_checker_feed(stream, o.s + at, k, &err), RECITE_OK);
            at += k;
            if (piece % (size_t)poll_every == 0) {
                recite_poll p;
                assert_int_equal(recite_checker_poll(&p, stream, &err), RECITE_OK);
                assert_true(p.cleared <= at);
            }
        }
        assert_int_equal(recite_checker_finish(&got, stream, &err), RECITE_OK);
        assert_same_result(want, got);
        free(o.s);
    }
    assert_true(found >= (size_t)trials); /* the outputs did recite */
    recite_checker_free(batch);
    recite_checker_free(stream);
}

/* Tokens of text[0, n) (a final tokenization) that start at or after byte `from`. */
static size_t tokens_from(const char *text, size_t n, uint64_t from)
{
    toklist tl = tokenize_all(text, n);
    size_t k = 0;
    for (size_t i = 0; i < tl.n; i++)
        k += tl.v[i].start >= from;
    free(tl.v);
    return k;
}

typedef struct seen {
    recite_match m[256];
    int growing[256];
    size_t n; /* indexed by span number */
} seen;

/* Fed a few bytes at a time and polled after every piece: at every poll, every planted span
 * that starts before `cleared` has been reported, and `cleared` trails the text by at most the
 * leak bound; at the end every reported span lies inside a final match of the same work. */
static void test_leak_bound(void **state)
{
    fixture *f = *state;
    recite_checker *c;
    recite_error err = {0};
    assert_int_equal(recite_checker_create(&c, f->index, NULL, &err), RECITE_OK);
    unsigned bound = recite_checker_leak_bound(c, RECITE_MODE_PROSE);
    assert_int_equal(bound, 14); /* 12 + 3 - 1 with the default parameters (k 6, w 7) */
    assert_int_equal(recite_checker_leak_bound(c, RECITE_MODE_CODE), 0); /* no code works */
    rng r = rng_seeded(42);
    int trials = iterations(40);
    for (int t = 0; t < trials; t++) {
        output o = make_output(f, &r, 12);
        seen *sn = calloc(1, sizeof *sn);
        for (size_t at = 0; at < o.n;) {
            size_t want_k = 1 + rng_below(&r, 12), k = RC_MIN(o.n - at, want_k);
            assert_int_equal(recite_checker_feed(c, o.s + at, k, &err), RECITE_OK);
            at += k;
            recite_poll p;
            assert_int_equal(recite_checker_poll(&p, c, &err), RECITE_OK);
            assert_false(p.truncated);
            for (size_t e = 0; e < p.nevents; e++) {
                const recite_span_event *ev = &p.events[e];
                assert_true(ev->span <= sn->n && ev->span < RC_ARRAY_LEN(sn->m));
                if (ev->span < sn->n) { /* a grown span: same work and start, longer */
                    assert_int_equal(ev->match.work, sn->m[ev->span].work);
                    assert_int_equal(ev->match.out_start, sn->m[ev->span].out_start);
                    assert_true(ev->match.tokens > sn->m[ev->span].tokens ||
                                (ev->match.tokens == sn->m[ev->span].tokens && !ev->growing));
                    assert_true(sn->growing[ev->span]);
                } else {
                    sn->n++;
                }
                assert_true(ev->match.tokens >= 12);
                assert_true(ev->match.out_end <= at);
                sn->m[ev->span] = ev->match;
                sn->growing[ev->span] = ev->growing;
            }
            /* Every planted span starting before `cleared` is reported. */
            for (size_t s = 0; s < o.nspans; s++) {
                if (o.spans[s].start >= p.cleared)
                    continue;
                bool covered = false;
                for (size_t i = 0; i < sn->n && !covered; i++)
                    covered = sn->m[i].out_start <= o.spans[s].start &&
                              o.spans[s].start < sn->m[i].out_end;
                if (!covered)
                    fail_msg("trial %d: planted span at %zu (%zu tokens) is before cleared %llu "
                             "but not reported",
                             t, o.spans[s].start, o.spans[s].tokens, (unsigned long long)p.cleared);
            }
            /* The bound: complete tokens at or after `cleared` (the last token may still be
             * incomplete: one more). */
            size_t trailing = tokens_from(o.s, at, p.cleared);
            if (trailing > bound + 1)
                fail_msg("trial %d: %zu tokens after cleared %llu (bound %u)", t, trailing,
                         (unsigned long long)p.cleared, bound);
        }
        const recite_result *res;
        assert_int_equal(recite_checker_finish(&res, c, &err), RECITE_OK);
        for (size_t i = 0; i < sn->n; i++) {
            bool inside = false;
            for (size_t m = 0; m < res->nmatches && !inside; m++)
                inside = res->matches[m].work == sn->m[i].work &&
                         res->matches[m].out_start <= sn->m[i].out_start &&
                         sn->m[i].out_end <= res->matches[m].out_end;
            if (!inside)
                fail_msg("trial %d: streamed span %zu (%llu-%llu) is in no final match", t, i,
                         (unsigned long long)sn->m[i].out_start,
                         (unsigned long long)sn->m[i].out_end);
        }
        /* After finish: the final result, everything cleared. */
        recite_poll p;
        assert_int_equal(recite_checker_poll(&p, c, &err), RECITE_OK);
        assert_int_equal(p.nevents, 0);
        assert_int_equal(p.cleared, o.n);
        assert_ptr_equal(p.so_far, res);
        free(sn);
        free(o.s);
    }
    recite_checker_free(c);
}

/* A long recitation fed word by word: one span number, growing, then closed by the filler
 * after it; the verdict so far names the work. */
static void test_span_grows(void **state)
{
    fixture *f = *state;
    recite_checker *c;
    recite_error err = {0};
    assert_int_equal(recite_checker_create(&c, f->index, NULL, &err), RECITE_OK);
    recite_poll p;
    assert_int_equal(recite_checker_poll(&p, c, &err), RECITE_OK); /* nothing fed yet */
    assert_int_equal(p.nevents, 0);
    assert_int_equal(p.cleared, 0);
    assert_int_equal(p.so_far->nworks, 0);

    toklist tl = tokenize_all(f->texts[0], f->lens[0]); /* GPL-3 */
    size_t t0 = 200, nt = 120;
    const char *text = f->texts[0];
    output o = {0};
    out_add(&o, "Here it is: ", 12);
    out_add(&o, text + tl.v[t0].start, tl.v[t0 + nt - 1].end - tl.v[t0].start);
    out_add(&o, " zqx vlorp brimbl xyzzy qux frob zqx vlorp brimbl xyzzy qux frob zqx end.", 74);
    size_t events = 0, last_tokens = 0;
    bool closed = false;
    for (size_t at = 0; at < o.n;) {
        const char *sp = memchr(o.s + at, ' ', o.n - at);
        size_t k = sp ? (size_t)(sp - (o.s + at)) + 1 : o.n - at;
        assert_int_equal(recite_checker_feed(c, o.s + at, k, &err), RECITE_OK);
        at += k;
        assert_int_equal(recite_checker_poll(&p, c, &err), RECITE_OK);
        for (size_t e = 0; e < p.nevents; e++) {
            assert_int_equal(p.events[e].span, 0);
            assert_false(closed);
            assert_true(p.events[e].match.tokens > last_tokens ||
                        (p.events[e].match.tokens == last_tokens && !p.events[e].growing));
            last_tokens = p.events[e].match.tokens;
            closed = !p.events[e].growing;
            events++;
        }
        if (events) {
            assert_int_equal(p.so_far->nmatches, 1);
            assert_int_equal(p.so_far->nworks, 1);
            recite_work_info wi;
            assert_int_equal(recite_index_work(&wi, f->index, p.so_far->works[0].work), RECITE_OK);
            assert_non_null(strstr(wi.id, "GPL-3"));
        }
    }
    assert_true(events > 10); /* grew word by word */
    assert_int_equal(last_tokens, nt);
    assert_true(closed);
    const recite_result *res;
    assert_int_equal(recite_checker_finish(&res, c, &err), RECITE_OK);
    assert_int_equal(res->nmatches, 1);
    assert_int_equal(res->matches[0].tokens, nt);
    /* A new stream starts over: span numbers from 0. */
    assert_int_equal(recite_checker_feed(c, o.s, o.n, &err), RECITE_OK);
    assert_int_equal(recite_checker_poll(&p, c, &err), RECITE_OK);
    assert_int_equal(p.nevents, 1);
    assert_int_equal(p.events[0].span, 0);
    assert_int_equal(p.events[0].match.tokens, nt);
    free(tl.v);
    free(o.s);
    recite_checker_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_chunked_equals_batch),
        cmocka_unit_test(test_leak_bound),
        cmocka_unit_test(test_span_grows),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}

/*
 * fuzz_tokens.h — the invariants fuzz_prose.c and fuzz_code.c check on a tokenizer (header-only,
 * included once by each): tokens are non-empty, in order and inside the buffer; a final pass
 * consumes the whole buffer; and the resume contract holds — tokenizing growing prefixes with
 * final = false (each prefix in a buffer of exactly its size, so a read past it is caught), in
 * calls capped at a few tokens, then once with final = true, gives the tokens of one final pass.
 */
#ifndef RECITE_FUZZ_TOKENS_H
#define RECITE_FUZZ_TOKENS_H

#include "fuzz.h"
#include "text/rc_text.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef size_t (*tok_fn)(rc_tokenizer *tz, const uint8_t *buf, size_t len, bool final,
                         rc_tok_state *st, rc_token *out, size_t cap);

typedef struct tok_list {
    rc_token *v;
    size_t n, cap;
} tok_list;

static void tok_reserve(tok_list *l, size_t extra)
{
    if (l->n + extra <= l->cap)
        return;
    size_t cap = l->cap ? l->cap : 256;
    while (cap < l->n + extra)
        cap *= 2;
    rc_token *v = realloc(l->v, cap * sizeof *v);
    FZ_CHECK(v, "out of memory");
    l->v = v;
    l->cap = cap;
}

static bool tok_equal(const rc_token *a, const rc_token *b)
{
    return a->hash == b->hash && a->shape == b->shape && a->start == b->start && a->end == b->end;
}

/* Tokens of buf[0, len) from *st with the given finality, `cap` per call, until a call returns
 * fewer than cap; checks each call's state and output. */
static void tok_run(tok_fn fn, rc_tokenizer *tz, const uint8_t *buf, size_t len, bool final,
                    rc_tok_state *st, size_t cap, tok_list *out)
{
    for (;;) {
        tok_reserve(out, cap);
        uint64_t before = st->pos;
        size_t n = fn(tz, buf, len, final, st, out->v + out->n, cap);
        FZ_CHECK(n <= cap, "%zu tokens returned for a cap of %zu", n, cap);
        FZ_CHECK(st->pos >= before && st->pos <= len, "resume position %llu (was %llu, len %zu)",
                 (unsigned long long)st->pos, (unsigned long long)before, len);
        for (size_t i = 0; i < n; i++) {
            const rc_token *t = &out->v[out->n + i];
            uint64_t prev_end = out->n + i ? out->v[out->n + i - 1].end : 0;
            FZ_CHECK(t->start < t->end && t->end <= len, "token [%llu, %llu) in %zu bytes",
                     (unsigned long long)t->start, (unsigned long long)t->end, len);
            FZ_CHECK(t->start >= prev_end && t->start >= before,
                     "token at %llu overlaps the previous one (ending at %llu) or starts before "
                     "the resume position %llu",
                     (unsigned long long)t->start, (unsigned long long)prev_end,
                     (unsigned long long)before);
            FZ_CHECK(t->end <= st->pos, "token ends at %llu after the resume position %llu",
                     (unsigned long long)t->end, (unsigned long long)st->pos);
        }
        out->n += n;
        if (n < cap)
            return;
    }
}

static void tok_same(const tok_list *a, const tok_list *b, const char *how)
{
    FZ_CHECK(a->n == b->n, "%s: %zu tokens, one final pass gives %zu", how, b->n, a->n);
    for (size_t i = 0; i < a->n; i++)
        FZ_CHECK(tok_equal(&a->v[i], &b->v[i]),
                 "%s: token %zu is [%llu, %llu) %016llx, one final pass gives [%llu, %llu) %016llx",
                 how, i, (unsigned long long)b->v[i].start, (unsigned long long)b->v[i].end,
                 (unsigned long long)b->v[i].hash, (unsigned long long)a->v[i].start,
                 (unsigned long long)a->v[i].end, (unsigned long long)a->v[i].hash);
}

/* The text of an input: data[1..], or (when data[0] has its top bit) data[1..] repeated to
 * (data[0] & 0x7f) * 128 bytes — long runs, huge tokens. */
static uint8_t *tok_text(const uint8_t *data, size_t size, size_t *len)
{
    const uint8_t *p = size ? data + 1 : data;
    size_t n = size ? size - 1 : 0, want = n;
    if (size && (data[0] & 0x80) && n)
        want = (size_t)(data[0] & 0x7f) * 128 + n;
    uint8_t *t = malloc(want ? want : 1);
    FZ_CHECK(t, "out of memory");
    for (size_t i = 0; i < want; i += n) {
        size_t m = want - i < n ? want - i : n;
        memcpy(t + i, p, m);
    }
    *len = want;
    return t;
}

/* Checks fn on text[0, len); rng decides where the prefixes end and the caps. */
static void tok_check(tok_fn fn, rc_tokenizer *tz, const uint8_t *text, size_t len, fz_rng *rng)
{
    tok_list whole = {0}, capped = {0}, pieces = {0};
    rc_tok_state st = {0, true};
    tok_run(fn, tz, text, len, true, &st, 4096, &whole);
    FZ_CHECK(st.pos == len, "a final pass stopped at %llu of %zu bytes", (unsigned long long)st.pos,
             len);

    /* One token per call (a call that learns nothing from earlier tokens: see the lexer's
     * memory of unclosed constructs), or a few for long texts. */
    st = (rc_tok_state){0, true};
    tok_run(fn, tz, text, len, true, &st, len <= 4096 ? 1 : 1 + (size_t)fz_below(rng, 5), &capped);
    tok_same(&whole, &capped, "final passes of a few tokens");

    /* Growing prefixes: every one for short texts, else a few dozen at random. */
    size_t ncut = len <= 160 ? len : 24 + (size_t)fz_below(rng, 24);
    size_t *cuts = malloc((ncut + 1) * sizeof *cuts);
    FZ_CHECK(cuts, "out of memory");
    for (size_t i = 0; i < ncut; i++)
        cuts[i] = len <= 160 ? i : (size_t)fz_below(rng, len + 1);
    for (size_t i = 1; i < ncut; i++) /* insertion sort: ncut is small */
        for (size_t j = i; j > 0 && cuts[j - 1] > cuts[j]; j--) {
            size_t t = cuts[j];
            cuts[j] = cuts[j - 1];
            cuts[j - 1] = t;
        }
    st = (rc_tok_state){0, true};
    for (size_t i = 0; i < ncut; i++) {
        size_t p = cuts[i];
        uint8_t *prefix = malloc(p ? p : 1);
        FZ_CHECK(prefix, "out of memory");
        memcpy(prefix, text, p);
        size_t before = pieces.n;
        tok_run(fn, tz, prefix, p, false, &st, 1 + (size_t)fz_below(rng, 8), &pieces);
        free(prefix);
        FZ_CHECK(pieces.n <= whole.n, "more tokens from a prefix of %zu bytes than in the text", p);
        for (size_t k = before; k < pieces.n; k++)
            FZ_CHECK(tok_equal(&pieces.v[k], &whole.v[k]),
                     "token %zu from a %zu-byte prefix (non-final) is [%llu, %llu), the final "
                     "pass gives [%llu, %llu)",
                     k, p, (unsigned long long)pieces.v[k].start,
                     (unsigned long long)pieces.v[k].end, (unsigned long long)whole.v[k].start,
                     (unsigned long long)whole.v[k].end);
    }
    tok_run(fn, tz, text, len, true, &st, 1 + (size_t)fz_below(rng, 64), &pieces);
    FZ_CHECK(st.pos == len, "the final call after prefixes stopped at %llu of %zu",
             (unsigned long long)st.pos, len);
    tok_same(&whole, &pieces, "prefixes, then a final pass");
    free(cuts);
    free(whole.v);
    free(capped.v);
    free(pieces.v);
}

#endif /* RECITE_FUZZ_TOKENS_H */

/*
 * match_near.c — near-verbatim spans: the output reproduces a work with small edits (words
 * substituted, inserted or dropped, typos). Exact runs between edits are short, so seeds of such
 * a span lie on nearby diagonals with gaps between them. Per candidate work the seeds are
 * chained (increasing in both texts, small drift of the diagonal, bounded gaps), and each chain
 * is aligned against the stored text with a banded local alignment in token space; the aligned
 * span is reported as `near` when long and similar enough. Runs after the exact matcher.
 */
#include "rc_match.h"

#include <stdlib.h>

#define NEAR_MAX_GAP 64       /* output tokens between two chained seeds */
#define NEAR_MAX_DRIFT 12     /* change of diagonal between two chained seeds (net indels) */
#define NEAR_BAND 8           /* extra diagonals aligned beyond those the chain visits */
#define NEAR_PAD 16           /* tokens aligned before the first and after the last seed */
#define NEAR_LOOKBACK 64      /* seeds considered as predecessors in the chaining */
#define NEAR_MAX_ANCHORS 4096 /* seeds chained per work */
#define NEAR_MAX_CHAINS 32    /* chains aligned per work */
#define SCORE_MATCH 1
#define SCORE_MISMATCH (-2)
#define SCORE_GAP (-2)

typedef struct anchor {
    uint32_t q;
    uint32_t used;
    uint64_t s; /* local token number in the work */
    int32_t score, prev;
} anchor;

static int cmp_anchor(const void *a, const void *b)
{
    const anchor *x = a, *y = b;
    if (x->q != y->q)
        return x->q < y->q ? -1 : 1;
    return (x->s > y->s) - (x->s < y->s);
}

static int64_t diag_of(const anchor *a)
{
    return (int64_t)a->s - (int64_t)a->q;
}

/* Chaining: each seed's best predecessor among the previous NEAR_LOOKBACK (increasing in both
 * texts, within the gap and drift limits); the score counts the output tokens the chain covers,
 * less the drift. */
static void chain(anchor *a, size_t n, unsigned k)
{
    for (size_t i = 0; i < n; i++) {
        a[i].score = (int32_t)k;
        a[i].prev = -1;
        a[i].used = 0;
        size_t from = i > NEAR_LOOKBACK ? i - NEAR_LOOKBACK : 0;
        for (size_t j = from; j < i; j++) {
            if (a[j].q >= a[i].q || a[j].s >= a[i].s || a[i].q - a[j].q > NEAR_MAX_GAP)
                continue;
            int64_t drift = llabs(diag_of(&a[i]) - diag_of(&a[j]));
            if (drift > NEAR_MAX_DRIFT)
                continue;
            int32_t gain = (int32_t)RC_MIN((uint32_t)k, a[i].q - a[j].q) - (int32_t)drift;
            if (a[j].score + gain > a[i].score) {
                a[i].score = a[j].score + gain;
                a[i].prev = (int32_t)j;
            }
        }
    }
}

/* ==== banded local alignment ==== */

enum { FROM_NONE = 0, FROM_DIAG = 1, FROM_UP = 2, FROM_LEFT = 3 };

int rc_align_local_scratch(rc_align_scratch *sc, const uint64_t *a, size_t na, const uint64_t *b,
                           size_t nb, int64_t dlo, int64_t dhi, rc_alignment *out)
{
    memset(out, 0, sizeof *out);
    if (na == 0 || nb == 0 || dhi < dlo)
        return RECITE_OK;
    size_t width = (size_t)(dhi - dlo + 1), stride = width + 2, cells;
    if (rc_mul_overflows(na + 1, stride, &cells) || cells > (64u << 20))
        return RECITE_ELIMIT;
    if (RC_VEC_RESERVE(sc->h, 2 * stride) != RECITE_OK ||
        RC_VEC_RESERVE(sc->from, cells) != RECITE_OK)
        return RECITE_ENOMEM;
    /* Cell (i, c), i in [1, na], c in [1, width]: a[i-1] against b[j], j = i - 1 + dlo + c - 1.
     * Row 0 and the columns 0 and width + 1 stay 0 (borders), as do cells whose j falls outside
     * b. Moves: diagonal (i-1, c); a[i-1] unmatched (i-1, c+1); b[j] unmatched (i, c-1). Only
     * two rows of scores are kept: the traceback needs the moves alone (a cell with a move has a
     * positive score, and a diagonal move is a match exactly when the tokens are equal). Ties go
     * to the diagonal, then up, then left; the best cell is the first maximum in row order. */
    int32_t *prev = sc->h.v, *cur = sc->h.v + stride;
    uint8_t *from = sc->from.v;
    memset(prev, 0, stride * sizeof *prev);
    memset(from, FROM_NONE, stride);
    int32_t best = 0;
    size_t bi = 0, bc = 0;
    for (size_t i = 1; i <= na; i++) {
        int64_t base = (int64_t)i - 2 + dlo; /* j = base + c */
        size_t clo = base >= 0 ? 1 : (size_t)RC_MIN(-base, (int64_t)width + 1);
        size_t chi =
            (int64_t)nb - 1 - base < 1 ? 0 : (size_t)RC_MIN((int64_t)nb - 1 - base, (int64_t)width);
        uint8_t *frow = from + i * stride;
        memset(cur, 0, stride * sizeof *cur);
        memset(frow, FROM_NONE, stride);
        const uint64_t ai = a[i - 1], *brow = b + base;
        for (size_t c = clo; c <= chi; c++) {
            int32_t d = prev[c] + (ai == brow[c] ? SCORE_MATCH : SCORE_MISMATCH);
            int32_t up = prev[c + 1] + SCORE_GAP, left = cur[c - 1] + SCORE_GAP;
            int32_t v = 0;
            uint8_t f = FROM_NONE;
            if (d > v)
                v = d, f = FROM_DIAG;
            if (up > v)
                v = up, f = FROM_UP;
            if (left > v)
                v = left, f = FROM_LEFT;
            cur[c] = v;
            frow[c] = f;
            if (v > best)
                best = v, bi = i, bc = c;
        }
        int32_t *t = prev;
        prev = cur;
        cur = t;
    }
    if (best > 0) {
        /* Back from the best cell (a match: the score peaks on one) through the cells with a
         * move; the earliest match reached is where the alignment starts. */
        out->a1 = bi;
        out->b1 = (size_t)((int64_t)bi - 1 + dlo + (int64_t)bc - 1) + 1;
        size_t i = bi, c = bc;
        for (;;) {
            uint8_t f = from[i * stride + c];
            if (f == FROM_NONE)
                break;
            size_t j = (size_t)((int64_t)i - 1 + dlo + (int64_t)c - 1);
            if (f == FROM_DIAG) {
                if (a[i - 1] == b[j]) {
                    out->matches++;
                    out->a0 = i - 1;
                    out->b0 = j;
                } else {
                    out->edits++;
                }
                i--;
            } else if (f == FROM_UP) {
                out->edits++;
                i--;
                c++;
            } else {
                out->edits++;
                c--;
            }
        }
        out->score = best;
    }
    return RECITE_OK;
}

int rc_align_local(const uint64_t *a, size_t na, const uint64_t *b, size_t nb, int64_t dlo,
                   int64_t dhi, rc_alignment *out)
{
    rc_align_scratch sc = {0};
    int rc = rc_align_local_scratch(&sc, a, na, b, nb, dlo, dhi, out);
    rc_align_scratch_free(&sc);
    return rc;
}

void rc_align_scratch_free(rc_align_scratch *sc)
{
    RC_VEC_FREE(sc->h);
    RC_VEC_FREE(sc->from);
    RC_VEC_FREE(sc->a);
    RC_VEC_FREE(sc->b);
}

/* Aligns output tokens [qa, qb) of the text with the source diagonals [dlo, dhi] of cluster cl
 * (source token s = q + d); results in output and source token numbers. */
static int align_band(rc_matcher *c, const rc_chan *ch, uint32_t cl, uint64_t ntok, uint32_t qa,
                      uint32_t qb, int64_t dlo, int64_t dhi, rc_alignment *al, recite_error *err)
{
    int64_t slo = RC_MAX((int64_t)qa + dlo, (int64_t)0);
    int64_t shi = RC_MIN((int64_t)qb + dhi, (int64_t)ntok); /* exclusive */
    memset(al, 0, sizeof *al);
    if (shi <= slo)
        return RECITE_OK;
    size_t na = qb - qa, nb = (size_t)(shi - slo);
    rc_align_scratch *sc = &c->align;
    if (RC_VEC_RESERVE(sc->a, na) != RECITE_OK || RC_VEC_RESERVE(sc->b, nb) != RECITE_OK)
        return rc_error_set(err, RECITE_ENOMEM, "out of memory");
    uint64_t *a = sc->a.v, *b = sc->b.v;
    int rc = RECITE_OK;
    for (size_t i = 0; i < na; i++)
        a[i] = rc_chan_hash(ch, &ch->stream->toks.v[qa + i]);
    for (size_t j = 0; j < nb; j++) {
        const rc_token *t;
        if ((rc = rc_match_src_tok(c, cl, (uint64_t)slo + j, &t, NULL, err)) != RECITE_OK)
            return rc;
        b[j] = rc_chan_hash(ch, t);
    }
    /* In array terms: b index = a index + (qa + d - slo). */
    int64_t shift = (int64_t)qa - slo;
    rc = rc_align_local_scratch(sc, a, na, b, nb, dlo + shift, dhi + shift, al);
    if (rc == RECITE_ELIMIT) {
        rc = RECITE_OK; /* an absurdly long chain: leave it to the exact matcher */
        memset(al, 0, sizeof *al);
    } else if (rc != RECITE_OK) {
        rc = rc_error_set(err, rc, "out of memory");
    }
    al->a0 += qa;
    al->a1 += qa;
    al->b0 += (size_t)slo;
    al->b1 += (size_t)slo;
    return rc;
}

/* ==== per work ==== */

static int near_in_cluster(rc_matcher *c, unsigned chn, uint32_t cl, anchor *a, size_t n,
                           recite_error *err)
{
    const rc_chan *ch = &c->chans[chn];
    unsigned k = ch->info->kgram;
    rc_cluster info;
    rc_index_cluster(c->idx, cl, &info);
    rc_sort(a, n, sizeof *a, cmp_anchor);
    chain(a, n, k);
    for (unsigned round = 0; round < NEAR_MAX_CHAINS; round++) {
        /* The best chain not yet used. */
        size_t top = n;
        for (size_t i = 0; i < n; i++)
            if (!a[i].used && (top == n || a[i].score > a[top].score))
                top = i;
        if (top == n || a[top].score < (int32_t)ch->min_tokens / 2)
            break;
        uint32_t qfirst = a[top].q, qlast = a[top].q;
        int64_t dmin = diag_of(&a[top]), dmax = dmin;
        size_t seeds = 0;
        for (int32_t i = (int32_t)top; i >= 0 && !a[i].used; i = a[i].prev) {
            a[i].used = 1;
            seeds++;
            qfirst = a[i].q;
            dmin = RC_MIN(dmin, diag_of(&a[i]));
            dmax = RC_MAX(dmax, diag_of(&a[i]));
        }
        /* A lone seed: an exact run, if anything (the exact matcher has it). */
        if (seeds < 2)
            continue;
        uint32_t qa = qfirst > NEAR_PAD ? qfirst - NEAR_PAD : 0;
        uint32_t qb =
            (uint32_t)RC_MIN((uint64_t)qlast + k + NEAR_PAD, (uint64_t)ch->stream->toks.n);
        rc_alignment al;
        int rc = align_band(c, ch, cl, info.ntokens, qa, qb, dmin - NEAR_BAND, dmax + NEAR_BAND,
                            &al, err);
        if (rc != RECITE_OK)
            return rc;
        if (al.matches == 0 || al.edits == 0)
            continue;
        uint32_t qlen = (uint32_t)(al.a1 - al.a0);
        uint64_t slen = al.b1 - al.b0;
        double sim = (double)al.matches / (double)RC_MAX((uint64_t)qlen, slen);
        if (qlen < ch->min_tokens || sim < c->min_similarity)
            continue;
        const rc_token *t0, *t1;
        if ((rc = rc_match_src_tok(c, cl, al.b0, &t0, NULL, err)) != RECITE_OK)
            return rc;
        uint64_t src_start = t0->start;
        if ((rc = rc_match_src_tok(c, cl, al.b1 - 1, &t1, NULL, err)) != RECITE_OK)
            return rc;
        rc_raw_match m = {.cluster = cl,
                          .channel = (uint8_t)chn,
                          .q0 = (uint32_t)al.a0,
                          .len = qlen,
                          .s0 = al.b0,
                          .src_len = (uint32_t)slen,
                          .src_start = src_start,
                          .src_end = t1->end,
                          .common = false,
                          .aligned = true,
                          .kind = RECITE_KIND_NEAR,
                          .similarity = sim};
        if (RC_VEC_PUSH(c->raw, m) != RECITE_OK)
            return rc_error_set(err, RECITE_ENOMEM, "out of memory");
    }
    return RECITE_OK;
}

int rc_match_near(rc_matcher *c, recite_error *err)
{
    RC_VEC(anchor) a = {0};
    int rc = RECITE_OK;
    size_t i = 0;
    while (i < c->seeds.n) {
        uint32_t cl = c->seeds.v[i].cluster;
        uint8_t chn = c->seeds.v[i].channel;
        rc_cluster info;
        rc_index_cluster(c->idx, cl, &info);
        a.n = 0;
        for (; i < c->seeds.n && c->seeds.v[i].cluster == cl && c->seeds.v[i].channel == chn; i++) {
            const rc_seed *sd = &c->seeds.v[i];
            if (a.n >= NEAR_MAX_ANCHORS)
                continue;
            anchor an = {sd->q, 0, sd->gpos - info.token_base, 0, -1};
            if (RC_VEC_PUSH(a, an) != RECITE_OK) {
                rc = rc_error_set(err, RECITE_ENOMEM, "out of memory");
                goto done;
            }
        }
        /* Words, lexemes, and shapes: a renamed copy with lines inserted or deleted. */
        if (a.n >= 2 && (rc = near_in_cluster(c, chn, cl, a.v, a.n, err)) != RECITE_OK)
            goto done;
    }
done:
    RC_VEC_FREE(a);
    return rc;
}

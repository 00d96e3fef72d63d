/*
 * match_align.c — the banded local alignment (Smith-Waterman: match +1, mismatch -2, gap -2)
 * that near-verbatim matching (match_near.c) runs on each chain of seeds, and a bound that
 * tells, in time linear in the tokens, when the best alignment cannot have an edit (near
 * matching then drops it: most chains are one exact run with context around it). Two
 * implementations of one alignment: the scalar one, cell by cell, and a vector one that
 * computes 8 cells of a row at a time (GCC/clang vector extensions on 16-bit scores, tokens as
 * 16-bit ids so that a vector compares 8 of them, the dependency along a row resolved by a
 * prefix maximum, the moves of the traceback recomputed from the scores). They give the same
 * alignment, ties included; the vector one is used unless a score could overflow 16 bits.
 */
#include "rc_match.h"

#include <stdlib.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#define SCORE_MATCH 1
#define SCORE_MISMATCH (-2)
#define SCORE_GAP (-2)

enum { FROM_NONE = 0, FROM_DIAG = 1, FROM_UP = 2, FROM_LEFT = 3 };

/* One step of a trace-back from cell (*i, column *c) of a banded matrix, by move f (not
 * FROM_NONE): the alignment's counts and start are updated; j is b's index of the cell. */
static inline void trace_step(rc_alignment *out, int f, bool match, size_t *i, size_t *c, size_t j)
{
    if (f == FROM_DIAG) {
        if (match) {
            out->matches++;
            out->a0 = *i - 1;
            out->b0 = j;
        } else {
            out->edits++;
        }
        (*i)--;
    } else if (f == FROM_UP) {
        out->edits++;
        (*i)--;
        (*c)++;
    } else {
        out->edits++;
        (*c)--;
    }
}

/* The columns of row i (1-based) whose token of b exists: [*clo, *chi] (empty when clo > chi).
 * Cell (i, c) faces b[j], j = i - 2 + dlo + c. */
static void row_columns(size_t i, int64_t dlo, size_t width, size_t nb, size_t *clo, size_t *chi)
{
    int64_t base = (int64_t)i - 2 + dlo;
    *clo = base >= 0 ? 1 : (size_t)RC_MIN(-base, (int64_t)width + 1);
    *chi = (int64_t)nb - 1 - base < 1 ? 0 : (size_t)RC_MIN((int64_t)nb - 1 - base, (int64_t)width);
}

/* ==== scalar ==== */

/* Cell (i, c), i in [1, na], c in [1, width]: a[i-1] against b[j], j = i - 1 + dlo + c - 1.
 * Row 0 and the columns 0 and width + 1 stay 0 (borders), as do cells whose j falls outside b.
 * Moves: diagonal (i-1, c); a[i-1] unmatched (i-1, c+1); b[j] unmatched (i, c-1). Ties go to
 * the diagonal, then up, then left; the best cell is the first maximum in row order. From the
 * best cell (a match: the score peaks on one) back through the cells with a move; the earliest
 * match reached is where the alignment starts. */
static int align_scalar(rc_align_scratch *sc, const uint64_t *a, size_t na, const uint64_t *b,
                        size_t nb, int64_t dlo, size_t width, rc_alignment *out)
{
    size_t stride = width + 2, cells = (na + 1) * stride;
    if (RC_VEC_RESERVE(sc->h, 2 * stride) != RECITE_OK ||
        RC_VEC_RESERVE(sc->from, cells) != RECITE_OK)
        return RECITE_ENOMEM;
    int32_t *prev = sc->h.v, *cur = sc->h.v + stride;
    uint8_t *from = sc->from.v;
    memset(prev, 0, stride * sizeof *prev);
    memset(from, FROM_NONE, stride);
    int32_t best = 0;
    size_t bi = 0, bc = 0;
    for (size_t i = 1; i <= na; i++) {
        size_t clo, chi;
        row_columns(i, dlo, width, nb, &clo, &chi);
        uint8_t *frow = from + i * stride;
        memset(cur, 0, stride * sizeof *cur);
        memset(frow, FROM_NONE, stride);
        const uint64_t ai = a[i - 1], *brow = b + ((int64_t)i - 2 + dlo);
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
    if (best <= 0)
        return RECITE_OK;
    out->a1 = bi;
    out->b1 = (size_t)((int64_t)bi - 1 + dlo + (int64_t)bc - 1) + 1;
    size_t i = bi, c = bc;
    for (;;) {
        uint8_t f = from[i * stride + c];
        if (f == FROM_NONE)
            break;
        size_t j = (size_t)((int64_t)i - 1 + dlo + (int64_t)c - 1);
        /* a diagonal move is a match exactly when tokens are equal */
        trace_step(out, f, a[i - 1] == b[j], &i, &c, j);
    }
    out->score = best;
    return RECITE_OK;
}

/* ==== token ids ==== */

/* Dense 16-bit ids of the tokens of a and b: equal tokens, equal ids, none of them 0. False
 * when there are too many distinct tokens. */
static bool token_ids(rc_align_scratch *sc, const uint64_t *a, size_t na, const uint64_t *b,
                      size_t nb, bool *nomem)
{
    size_t cap = 64;
    while (cap < 2 * (na + nb))
        cap *= 2;
    if (RC_VEC_RESERVE(sc->tab_key, cap) != RECITE_OK ||
        RC_VEC_RESERVE(sc->tab_id, cap) != RECITE_OK || RC_VEC_RESERVE(sc->aid, na) != RECITE_OK ||
        RC_VEC_RESERVE(sc->ids, nb) != RECITE_OK) {
        *nomem = true;
        return false;
    }
    memset(sc->tab_id.v, 0, cap * sizeof *sc->tab_id.v);
    uint16_t next = 1;
    for (size_t k = 0; k < na + nb; k++) {
        uint64_t key = k < na ? a[k] : b[k - na];
        size_t s = (size_t)(rc_mix64(key) & (cap - 1));
        while (sc->tab_id.v[s] && sc->tab_key.v[s] != key)
            s = (s + 1) & (cap - 1);
        if (!sc->tab_id.v[s]) {
            if (next == UINT16_MAX)
                return false;
            sc->tab_key.v[s] = key;
            sc->tab_id.v[s] = next++;
        }
        if (k < na)
            sc->aid.v[k] = (int16_t)sc->tab_id.v[s];
        else
            sc->ids.v[k - na] = (int16_t)sc->tab_id.v[s];
    }
    return true;
}

/* b's ids into sc->bid with `pad` zeros on each side (0 is no token's id): the rows of the
 * vector kernel read a little outside b. Returns the position of b[0]. */
static int16_t *padded_bid(rc_align_scratch *sc, const int16_t *bid, size_t nb, size_t pad)
{
    if (RC_VEC_RESERVE(sc->bid, nb + 2 * pad) != RECITE_OK)
        return NULL;
    memset(sc->bid.v, 0, pad * sizeof *sc->bid.v);
    memcpy(sc->bid.v + pad, bid, nb * sizeof *bid);
    memset(sc->bid.v + pad + nb, 0, pad * sizeof *sc->bid.v);
    return sc->bid.v + pad;
}

/* 8 lanes of 16 bits: one SSE2 (or NEON) register, what every x86-64 (and arm64) has. */
#define LANES 8
typedef int16_t v16 __attribute__((vector_size(2 * LANES)));

static inline v16 load16(const int16_t *p)
{
    v16 v;
    memcpy(&v, p, sizeof v);
    return v;
}

static inline v16 splat(int16_t x)
{
    return (v16){x, x, x, x, x, x, x, x};
}

static inline v16 vmax(v16 a, v16 b)
{
#if defined(__SSE2__)
    /* pmaxsw: the compilers do not make it of the compare-and-select below. */
    return (v16)_mm_max_epi16((__m128i)a, (__m128i)b);
#else
    v16 m = a > b;
    return (a & m) | (b & ~m);
#endif
}

/* Bit l set when lane l of a comparison's result is true. */
static inline unsigned lane_mask(v16 m)
{
#if defined(__SSE2__)
    /* pmovmskb: two bits per 16-bit lane; keep one. */
    unsigned b = (unsigned)__builtin_ia32_pmovmskb128((__attribute__((vector_size(16))) char)m);
    b &= 0x5555u;
    b = (b | (b >> 1)) & 0x3333u;
    b = (b | (b >> 2)) & 0x0f0fu;
    return (b | (b >> 4)) & 0x00ffu;
#else
    unsigned b = 0;
    for (int l = 0; l < LANES; l++)
        b |= (m[l] != 0) << l;
    return b;
#endif
}

/* Lane l of the result is x[l - s], 0 for l < s (a byte shift of the register). */
#define SHIFT1(x, z) __builtin_shufflevector(x, z, 8, 0, 1, 2, 3, 4, 5, 6)
#define SHIFT2(x, z) __builtin_shufflevector(x, z, 8, 8, 0, 1, 2, 3, 4, 5)
#define SHIFT4(x, z) __builtin_shufflevector(x, z, 8, 8, 8, 8, 0, 1, 2, 3)

/* ==== whether an alignment can have an edit ====
 * The path of the best alignment (whose score S is at least L, the longest run of matches on
 * one diagonal) splits into diagonal segments of matches, with at least one edit (cost >= 2)
 * between two segments, and a later segment lies in later rows. So a path with an edit scores
 * at most W = max over chains of k >= 2 segments of sum |s| - 2 (k - 1), computed over the
 * matching cells in row order by V (the best chain ending at a cell) and W (the best with two
 * or more segments). When W < L, no path with an edit is the best: the alignment has no edit
 * (or no match). Linear in the rows and the matching cells. */
static bool may_edit(rc_align_scratch *sc, const int16_t *aid, size_t na, const int16_t *bid,
                     size_t nb, int64_t dlo, size_t width, bool *nomem)
{
    if (RC_VEC_RESERVE(sc->last, width + 2) != RECITE_OK) {
        *nomem = true;
        return true;
    }
    /* Per column (a diagonal), the values of its matching cell of the last row that had one. */
    rc_align_cell *last = sc->last.v;
    for (size_t c = 0; c <= width + 1; c++)
        last[c].row = 0;
    int32_t longest = 0, best_w = INT32_MIN, v_before = INT32_MIN; /* V over earlier rows */
    size_t nv = (width + LANES - 1) / LANES;
    for (size_t i = 1; i <= na; i++) {
        size_t clo, chi;
        row_columns(i, dlo, width, nb, &clo, &chi);
        if (clo > chi)
            continue;
        const int16_t ai = aid[i - 1], *brow = bid + ((int64_t)i - 2 + dlo);
        /* The row's matching cells, 8 columns at a time (the columns outside b hold id 0,
         * which no token of a has; the cell of a column c is visited once per row, so reading
         * last[c] gives the previous row's). */
        const v16 vai = splat(ai);
        int32_t v_row = INT32_MIN;
        for (size_t k = 0; k < nv; k++) {
            unsigned bits = lane_mask(vai == load16(brow + 1 + k * LANES));
            while (bits) {
                unsigned lane = (unsigned)__builtin_ctz(bits);
                bits &= bits - 1;
                size_t c = 1 + k * LANES + lane;
                if (c < clo || c > chi)
                    continue;
                int32_t r = 1, v = 1, w = INT32_MIN;
                if (last[c].row == i - 1 && i > 1) { /* the segment goes on */
                    r = last[c].r + 1;
                    v = last[c].v + 1;
                    if (last[c].w != INT32_MIN)
                        w = last[c].w + 1;
                }
                if (v_before != INT32_MIN) { /* or a new one after earlier rows' chains */
                    v = RC_MAX(v, v_before - 1);
                    w = RC_MAX(w, v_before - 1);
                }
                last[c] = (rc_align_cell){(uint32_t)i, r, v, w};
                longest = RC_MAX(longest, r);
                best_w = RC_MAX(best_w, w);
                v_row = RC_MAX(v_row, v);
            }
        }
        v_before = RC_MAX(v_before, v_row);
    }
    return best_w >= longest;
}

/* ==== vector ==== */

/* The scores of every cell (16 bits, rows of `stride`), the best cell, then the moves back
 * from it recomputed from the scores (exactly as the scalar kernel decides them). */
static int align_vector(rc_align_scratch *sc, const uint64_t *a, const int16_t *aid, size_t na,
                        const uint64_t *b, const int16_t *bid, size_t nb, int64_t dlo, size_t width,
                        rc_alignment *out)
{
    size_t nv = (width + LANES - 1) / LANES, stride = nv * LANES + 2 + LANES;
    size_t cells = (na + 1) * stride;
    if (RC_VEC_RESERVE(sc->h16, cells) != RECITE_OK)
        return RECITE_ENOMEM;
    int16_t *h = sc->h16.v;
    memset(h, 0, stride * sizeof *h);
    const v16 zero = splat(0), two = splat(2), four = splat(4), eight = splat(8);
    const v16 lane = {1, 2, 3, 4, 5, 6, 7, 8};
    const v16 decay = lane * two; /* 2, 4, ..., 16 */
    int16_t best = 0;
    size_t bi = 0, bc = 0;
    for (size_t i = 1; i <= na; i++) {
        size_t clo, chi;
        row_columns(i, dlo, width, nb, &clo, &chi);
        int16_t *cur = h + i * stride;
        const int16_t *prev = cur - stride;
        memset(cur, 0, stride * sizeof *cur);
        if (clo > chi) /* no token of b faces this row: all zero */
            continue;
        const int16_t *brow = bid + ((int64_t)i - 2 + dlo);
        const v16 ai = splat(aid[i - 1]), vlo = splat((int16_t)clo), vhi = splat((int16_t)chi);
        int16_t carry = 0; /* the final score of the column before this vector's first */
        v16 rowmax = zero;
        for (size_t k = 0; k < nv; k++) {
            size_t c0 = 1 + k * LANES; /* column of lane 0 */
            v16 col = lane + splat((int16_t)(c0 - 1));
            v16 in = (col >= vlo) & (col <= vhi);
            v16 eq = ai == load16(brow + c0);
            v16 d = load16(prev + c0) - two + (eq & splat(3));
            v16 up = load16(prev + c0 + 1) - two;
            /* cur[c] = max(0, d, up, cur[c-1] - 2): a prefix maximum with decay over the
             * lanes (scores are never negative, so the zeros shifted in never win). */
            v16 s = vmax(zero, vmax(d, up)) & in;
            s = vmax(s, SHIFT1(s, zero) - two);
            s = vmax(s, SHIFT2(s, zero) - four);
            s = vmax(s, SHIFT4(s, zero) - eight);
            s = vmax(s, splat(carry) - decay) & in;
            memcpy(cur + c0, &s, sizeof s);
            rowmax = vmax(rowmax, s);
            carry = s[LANES - 1];
        }
        int16_t m = 0;
        for (int l = 0; l < LANES; l++)
            m = rowmax[l] > m ? rowmax[l] : m;
        if (m > best) {
            best = m;
            bi = i;
            for (bc = clo; cur[bc] != m; bc++)
                ;
        }
    }
    if (best <= 0)
        return RECITE_OK;
    out->a1 = bi;
    out->b1 = (size_t)((int64_t)bi - 1 + dlo + (int64_t)bc - 1) + 1;
    size_t i = bi, c = bc;
    while (h[i * stride + c] > 0) { /* a cell with a move has a positive score */
        const int16_t *cur = h + i * stride, *prev = cur - stride;
        size_t j = (size_t)((int64_t)i - 1 + dlo + (int64_t)c - 1);
        bool match = a[i - 1] == b[j];
        int32_t d = prev[c] + (match ? SCORE_MATCH : SCORE_MISMATCH);
        int32_t up = prev[c + 1] + SCORE_GAP, left = cur[c - 1] + SCORE_GAP, v = 0;
        int f = FROM_NONE;
        if (d > v)
            v = d, f = FROM_DIAG;
        if (up > v)
            v = up, f = FROM_UP;
        if (left > v)
            f = FROM_LEFT;
        trace_step(out, f, match, &i, &c, j);
    }
    out->score = best;
    return RECITE_OK;
}

/* ==== the alignment ==== */

/* Rows, columns and scores fit 16 bits. */
static bool vector_fits(size_t na, size_t width)
{
    return na < 16000 && width < 8000;
}

int rc_align_ids(rc_align_scratch *sc, const uint64_t *a, const int16_t *aid, size_t na,
                 const uint64_t *b, const int16_t *bid, size_t nb, int64_t dlo, int64_t dhi,
                 bool skip_without_edit, rc_alignment *out)
{
    memset(out, 0, sizeof *out);
    if (na == 0 || nb == 0 || dhi < dlo)
        return RECITE_OK;
    size_t width = (size_t)(dhi - dlo + 1), cells;
    if (rc_mul_overflows(na + 1, width + 2, &cells) || cells > (64u << 20))
        return RECITE_ELIMIT;
    size_t pad = width + 2 * LANES + 2;
    const int16_t *pb = padded_bid(sc, bid, nb, pad);
    if (!pb)
        return RECITE_ENOMEM;
    bool nomem = false;
    if (skip_without_edit && !may_edit(sc, aid, na, pb, nb, dlo, width, &nomem))
        return RECITE_OK;
    if (nomem)
        return RECITE_ENOMEM;
    return vector_fits(na, width) ? align_vector(sc, a, aid, na, b, pb, nb, dlo, width, out)
                                  : align_scalar(sc, a, na, b, nb, dlo, width, out);
}

int rc_align_local_scratch(rc_align_scratch *sc, const uint64_t *a, size_t na, const uint64_t *b,
                           size_t nb, int64_t dlo, int64_t dhi, rc_alignment *out)
{
    memset(out, 0, sizeof *out);
    bool nomem = false;
    if (na && nb && dhi >= dlo && token_ids(sc, a, na, b, nb, &nomem))
        return rc_align_ids(sc, a, sc->aid.v, na, b, sc->ids.v, nb, dlo, dhi, false, out);
    if (nomem)
        return RECITE_ENOMEM;
    return rc_align_local_reference(a, na, b, nb, dlo, dhi, out);
}

int rc_align_may_edit(rc_align_scratch *sc, const uint64_t *a, size_t na, const uint64_t *b,
                      size_t nb, int64_t dlo, int64_t dhi, bool *may)
{
    *may = true;
    bool nomem = false;
    if (na == 0 || nb == 0 || dhi < dlo || !token_ids(sc, a, na, b, nb, &nomem))
        return nomem ? RECITE_ENOMEM : RECITE_OK;
    size_t width = (size_t)(dhi - dlo + 1), pad = width + 2 * LANES + 2;
    const int16_t *pb = padded_bid(sc, sc->ids.v, nb, pad);
    if (!pb)
        return RECITE_ENOMEM;
    *may = may_edit(sc, sc->aid.v, na, pb, nb, dlo, width, &nomem);
    return nomem ? RECITE_ENOMEM : RECITE_OK;
}

int rc_align_local_reference(const uint64_t *a, size_t na, const uint64_t *b, size_t nb,
                             int64_t dlo, int64_t dhi, rc_alignment *out)
{
    memset(out, 0, sizeof *out);
    if (na == 0 || nb == 0 || dhi < dlo)
        return RECITE_OK;
    size_t width = (size_t)(dhi - dlo + 1), cells;
    if (rc_mul_overflows(na + 1, width + 2, &cells) || cells > (64u << 20))
        return RECITE_ELIMIT;
    rc_align_scratch sc = {0};
    int rc = align_scalar(&sc, a, na, b, nb, dlo, width, out);
    rc_align_scratch_free(&sc);
    return rc;
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
    RC_VEC_FREE(sc->h16);
    RC_VEC_FREE(sc->from);
    RC_VEC_FREE(sc->a);
    RC_VEC_FREE(sc->b);
    RC_VEC_FREE(sc->aid);
    RC_VEC_FREE(sc->bid);
    RC_VEC_FREE(sc->ids);
    RC_VEC_FREE(sc->tab_key);
    RC_VEC_FREE(sc->tab_id);
    RC_VEC_FREE(sc->last);
}

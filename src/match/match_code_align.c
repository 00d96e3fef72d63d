/*
 * match_code_align.c — local alignment of code by shapes, with affine gaps: the kernel of near
 * matching on the shape channel. Two kernels compute the same alignment, cell for cell: the
 * reference (scalar, on 64-bit shapes) and the vector one (on 16-bit ids, 4 columns at a time),
 * which near matching uses whenever the output's shapes fit 16-bit ids.
 */
#include "rc_match.h"

#include <stdlib.h>

/* A copy of code with a line inserted or deleted has a gap of a whole line (5-15 lexemes): with
 * the linear gaps of rc_align_local (-2 a lexeme) the alignment stops at the gap, and the two
 * halves may each be under min_tokens. Here a gap costs 2.5 + 0.5 a lexeme (in units of a match,
 * +1; a mismatch -2), so the alignment goes on across a line when what follows outweighs it. */
#define AL_MATCH 2
#define AL_MISMATCH (-4)
#define AL_OPEN (-5) /* the first lexeme of a gap */
#define AL_EXTEND (-1)
#define AL_MAX_CELLS (1u << 24)

/* A cell's move: where its H came from (2 bits), whether its E and F extend a gap, and whether
 * its two lexemes are equal (read by the trace back, which then needs neither text). */
enum { H_ZERO = 0, H_DIAG = 1, H_E = 2, H_F = 3, E_EXT = 4, F_EXT = 8, EQ = 16 };

/* "Minus infinity": far below any real score, and far above overflow after the few million gap
 * costs a band can add to it, so it never wins a max and needs no test. */
#define NINF (INT32_MIN / 4)

static int reserve(rc_code_scratch *sc, size_t na, size_t w, size_t extra_rows)
{
    size_t cells;
    if (rc_mul_overflows(na + 1, w, &cells) || cells > AL_MAX_CELLS)
        return RECITE_ELIMIT;
    if (RC_VEC_RESERVE(sc->moves, cells + RC_CODE_LANES) != RECITE_OK ||
        RC_VEC_RESERVE(sc->rows, (4 + extra_rows) * (w + 2 * RC_CODE_LANES + 2)) != RECITE_OK)
        return RECITE_ENOMEM;
    return RECITE_OK;
}

/* From the best cell back to where the score started from 0; array terms in *out. */
static void trace_back(const uint8_t *mv, size_t w, int64_t lo, size_t bi, size_t bk, int32_t best,
                       rc_alignment *out)
{
    size_t i = bi, k = bk, first_i = bi, first_j = 0;
    int64_t j = (int64_t)bi + lo + (int64_t)bk;
    uint32_t matches = 0, edits = 0;
    int state = H_ZERO; /* 0: in H, 2: in E, 3: in F */
    for (;;) {
        uint8_t m = mv[i * w + k];
        if (state == H_ZERO) {
            unsigned src = m & 3u;
            if (src == H_ZERO)
                break;
            if (src == H_DIAG) {
                bool eq = m & EQ;
                matches += eq;
                edits += !eq;
                first_i = i - 1;
                first_j = (size_t)(j - 1);
                i--;
                j--;
                continue; /* same column */
            }
            state = (int)src;
            continue;
        }
        edits++;
        if (state == H_E) { /* b[j-1] unmatched; from (i, j-1): column k - 1 */
            state = (m & E_EXT) ? H_E : H_ZERO;
            j--;
            k--;
        } else { /* a[i-1] unmatched; from (i-1, j): column k + 1 */
            state = (m & F_EXT) ? H_F : H_ZERO;
            i--;
            k++;
        }
    }
    out->a0 = first_i;
    out->a1 = bi;
    out->b0 = first_j;
    out->b1 = (size_t)((int64_t)bi + lo + (int64_t)bk);
    out->matches = matches;
    out->edits = edits;
    out->score = best;
}

/* The columns of row i inside b (j = i + lo + k in [0, nb]): [*kb, *ke). */
static void row_cols(size_t i, int64_t lo, size_t w, size_t nb, size_t *kb, size_t *ke)
{
    int64_t j0 = (int64_t)i + lo;
    *kb = j0 >= 0 ? 0 : (size_t)RC_MIN(-j0, (int64_t)w);
    *ke = (int64_t)nb < j0 ? 0 : (size_t)RC_MIN((int64_t)nb - j0 + 1, (int64_t)w);
    if (*ke < *kb)
        *ke = *kb;
}

/* Row 0: H and F of both rows -inf over `width` columns and borders, H of row 0 zero where
 * j = lo + k is inside b; the moves of row 0 none. */
static void first_row(int32_t *hp, int32_t *hc, int32_t *fp, int32_t *fc, size_t width, size_t w,
                      int64_t lo, size_t nb, uint8_t *mv)
{
    for (size_t k = 0; k < width; k++)
        hp[k] = fp[k] = hc[k] = fc[k] = NINF;
    for (size_t k = 0; k < w; k++) {
        int64_t j = lo + (int64_t)k;
        if (j >= 0 && j <= (int64_t)nb)
            hp[k + 1] = 0;
    }
    memset(mv, 0, w);
}

/* The current rows become the previous ones. */
static void next_row(int32_t **hp, int32_t **hc, int32_t **fp, int32_t **fc)
{
    int32_t *t = *hp;
    *hp = *hc;
    *hc = t;
    t = *fp;
    *fp = *fc;
    *fc = t;
}

/* ==== reference: one cell at a time ==== */

int rc_code_align_reference(rc_code_scratch *sc, const uint64_t *a, size_t na, const uint64_t *b,
                            size_t nb, int64_t lo, int64_t hi, rc_alignment *out)
{
    memset(out, 0, sizeof *out);
    if (na == 0 || nb == 0 || hi < lo)
        return RECITE_OK;
    size_t w = (size_t)(hi - lo + 1);
    int rc = reserve(sc, na, w, 0);
    if (rc != RECITE_OK)
        return rc;
    /* Rows of H and F (the previous and the current), each with a border column on both
     * sides: column k + 1 is cell (i, j = i + lo + k). */
    int32_t *hp = sc->rows.v, *hc = hp + (w + 2), *fp = hc + (w + 2), *fc = fp + (w + 2);
    uint8_t *mv = sc->moves.v;
    first_row(hp, hc, fp, fc, w + 2, w, lo, nb, mv);
    int32_t best = 0;
    size_t bi = 0, bk = 0;
    for (size_t i = 1; i <= na; i++) {
        uint8_t *row = mv + i * w;
        size_t kb, ke;
        row_cols(i, lo, w, nb, &kb, &ke);
        int64_t j0 = (int64_t)i + lo;
        hc[0] = hc[w + 1] = fc[0] = fc[w + 1] = NINF;
        for (size_t k = 0; k < w; k++)
            if (k < kb || k >= ke) {
                hc[k + 1] = fc[k + 1] = NINF;
                row[k] = 0;
            }
        int32_t e = NINF; /* E along the row */
        for (size_t k = kb; k < ke; k++) {
            size_t j = (size_t)(j0 + (int64_t)k);
            /* E: b[j-1] against nothing, from (i, j-1) = column k - 1 of this row. */
            int32_t eo = hc[k] + AL_OPEN, ee = e + AL_EXTEND;
            e = RC_MAX(eo, ee);
            uint8_t m = ee > eo ? E_EXT : 0;
            /* F: a[i-1] against nothing, from (i-1, j) = column k + 1 of the previous row. */
            int32_t fo = hp[k + 2] + AL_OPEN, fe = fp[k + 2] + AL_EXTEND;
            int32_t f = RC_MAX(fo, fe);
            m |= fe > fo ? F_EXT : 0;
            int32_t h = 0;
            if (j >= 1) {
                bool eq = a[i - 1] == b[j - 1];
                m |= eq ? EQ : 0;
                int32_t d = hp[k + 1] + (eq ? AL_MATCH : AL_MISMATCH);
                if (d > h) {
                    h = d;
                    m |= H_DIAG;
                }
            }
            if (e > h) {
                h = e;
                m = (uint8_t)((m & ~3u) | H_E);
            }
            if (f > h) {
                h = f;
                m = (uint8_t)((m & ~3u) | H_F);
            }
            hc[k + 1] = h;
            fc[k + 1] = f;
            row[k] = m;
            if (h > best) {
                best = h;
                bi = i;
                bk = k;
            }
        }
        next_row(&hp, &hc, &fp, &fc);
    }
    if (best > 0)
        trace_back(mv, w, lo, bi, bk, best, out);
    return RECITE_OK;
}

/* ==== vector: 8 columns at a time ====
 * Per row: the diagonal, F and H without E (max of 0, the diagonal and F, all from the previous
 * row), a vector at a time; then E, a vector at a time too: E(k) = max over k' < k of
 * H(k') + AL_OPEN + (k - 1 - k') AL_EXTEND, a prefix maximum of H(k') + k' along the row (lane
 * shifts within a vector, a carry between them). E may be computed from H without E: a gap
 * opened after a cell whose H came from E is worse than that gap extended (AL_OPEN <
 * AL_EXTEND). Then H, the moves and the row's best. The maxima and move bits are those of the
 * reference, cell for cell. Made for AVX2, chosen by the CPU; elsewhere the same code built
 * for the plain instruction set (the vectors in halves), which rc_code_align_ids_plain always
 * runs. */

#define LN RC_CODE_LANES
typedef int32_t v32 __attribute__((vector_size(4 * LN)));
typedef int32_t v32u __attribute__((vector_size(4 * LN), aligned(4), may_alias));
typedef uint8_t v32b __attribute__((vector_size(4 * LN)));
typedef uint8_t v8b __attribute__((vector_size(LN)));
/* Macros, not functions: a function taking or returning 32-byte vectors has another ABI with
 * AVX than without. */
#define LD(p) (*(const v32u *)(const void *)(p))
#define ST(p, v) (*(v32u *)(void *)(p) = (v))
#define SP(x) ((v32){(x), (x), (x), (x), (x), (x), (x), (x)})
#define SEL(m, a, b) (((a) & (m)) | ((b) & ~(m))) /* m ? a : b, lane by lane */
#define VMAX(a, b) SEL((a) > (b), a, b)           /* a and b evaluated twice: plain values */
/* Lane l of the result is x[l - s], NINF for l < s. */
#define SHIFT1(x) __builtin_shufflevector(x, SP(NINF), 8, 0, 1, 2, 3, 4, 5, 6)
#define SHIFT2(x) __builtin_shufflevector(x, SP(NINF), 8, 8, 0, 1, 2, 3, 4, 5)
#define SHIFT4(x) __builtin_shufflevector(x, SP(NINF), 8, 8, 8, 8, 0, 1, 2, 3)

static inline __attribute__((always_inline)) int align_ids(rc_code_scratch *sc, const int16_t *aid,
                                                           size_t na, const int16_t *bid, size_t nb,
                                                           int64_t lo, int64_t hi,
                                                           rc_alignment *out)
{
    memset(out, 0, sizeof *out);
    if (na == 0 || nb == 0 || hi < lo)
        return RECITE_OK;
    size_t w = (size_t)(hi - lo + 1), nv = (w + LN - 1) / LN, stride = nv * LN + LN + 2;
    int rc = reserve(sc, na, w, 5);
    if (rc != RECITE_OK)
        return rc;
    /* b's ids with id 0 (never an id of a) on both sides, so that every lane may read one:
     * row i reads b[j - 1] for j = i + lo + k, k < nv * LN. */
    int64_t end = (int64_t)na + lo - 1 + (int64_t)(nv * LN); /* past the last read */
    size_t left = (size_t)(lo < 0 ? -lo : 0) + 1;
    size_t right = end > (int64_t)nb ? (size_t)(end - (int64_t)nb) + 1 : 1;
    if (RC_VEC_RESERVE(sc->bid, left + nb + right) != RECITE_OK)
        return RECITE_ENOMEM;
    memset(sc->bid.v, 0, left * sizeof *sc->bid.v);
    for (size_t j = 0; j < nb; j++)
        sc->bid.v[left + j] = bid[j];
    memset(sc->bid.v + left + nb, 0, right * sizeof *sc->bid.v);
    const int32_t *pb = sc->bid.v + left; /* pb[j] for j in [-left, nb + right) */
    /* Rows of `stride`: column k + 1 is cell k. H and F (previous and current); then, for the
     * current row, H without E, E, the diagonal's score, and the move bits known before E. */
    int32_t *hp = sc->rows.v, *hc = hp + stride, *fp = hc + stride, *fc = fp + stride;
    int32_t *h2 = fc + stride + 1, *ee = h2 + stride, *dd = ee + stride, *mk = dd + stride;
    uint8_t *mv = sc->moves.v;
    first_row(hp, hc, fp, fc, stride, w, lo, nb, mv);
    memset(h2 - 1, 0, (4 * stride) * sizeof *h2); /* h2[-1] and ee[-1] are read, then masked */
    const v32 zero = SP(0), vninf = SP(NINF), lane = {0, 1, 2, 3, 4, 5, 6, 7};
    int32_t best = 0;
    size_t bi = 0, bk = 0;
    for (size_t i = 1; i <= na; i++) {
        size_t kb, ke;
        row_cols(i, lo, w, nb, &kb, &ke);
        const int32_t *brow = pb + ((int64_t)i + lo - 1); /* brow[k] = b[j - 1] */
        const v32 ai = SP(aid[i - 1]), vkb = SP((int32_t)kb), vke = SP((int32_t)ke);
        int32_t carry = NINF; /* the prefix maximum of H + k before this vector */
        for (size_t v = 0; v < nv; v++) {
            size_t k = v * LN;
            v32 col = lane + SP((int32_t)k);
            v32 in = (col >= vkb) & (col < vke);
            v32 eq = ai == LD(brow + k);
            v32 d = LD(hp + k + 1) + SEL(eq, SP(AL_MATCH), SP(AL_MISMATCH));
            v32 fo = LD(hp + k + 2) + SP(AL_OPEN), fe = LD(fp + k + 2) + SP(AL_EXTEND);
            v32 fx = fe > fo;
            v32 f = SEL(fx, fe, fo);
            v32 d0 = VMAX(zero, d);
            v32 h = VMAX(d0, f);
            ST(dd + k, d);
            ST(fc + k + 1, f);
            ST(h2 + k, h);
            ST(mk + k, (eq & SP(EQ)) | (fx & SP(F_EXT)));
            /* E: the prefix maximum of H + k over the row's columns before this one. */
            v32 t = SEL(in, h + col, vninf), s1 = SHIFT1(t);
            t = VMAX(t, s1);
            v32 s2 = SHIFT2(t);
            t = VMAX(t, s2);
            v32 s4 = SHIFT4(t);
            t = VMAX(t, s4);
            v32 c = SP(carry);
            t = VMAX(t, c);
            v32 before = __builtin_shufflevector(t, c, 8, 0, 1, 2, 3, 4, 5, 6);
            ST(ee + k, before + SP(AL_OPEN + 1) - col);
            carry = t[LN - 1];
        }
        uint8_t *row = mv + i * w;
        v32 rowmax = vninf;
        for (size_t v = 0; v < nv; v++) {
            size_t k = v * LN;
            v32 col = lane + SP((int32_t)k);
            v32 in = (col >= vkb) & (col < vke), first = col == vkb;
            v32 d = LD(dd + k), f = LD(fc + k + 1), e = LD(ee + k);
            /* E's extend bit: E(k-1) + AL_EXTEND > H(k-1) + AL_OPEN; at the row's first
             * column both come from -inf, and extending wins, as in the reference. */
            v32 ex = (LD(ee + k - 1) + SP(AL_EXTEND)) > (LD(h2 + k - 1) + SP(AL_OPEN));
            ex = (ex | first) & SP(E_EXT);
            v32 d0 = VMAX(zero, d), me = VMAX(d0, e), h = VMAX(me, f);
            /* The source of H, with the reference's order: F when it beats all, else E when it
             * beats 0 and the diagonal, else the diagonal when positive. */
            v32 src = SEL(d > zero, SP(H_DIAG), zero);
            src = SEL(e > d0, SP(H_E), src);
            src = SEL(f > me, SP(H_F), src);
            v32 m = SEL(in, src | ex | LD(mk + k), zero);
            h = SEL(in, h, vninf);
            ST(hc + k + 1, h);
            ST(fc + k + 1, SEL(in, f, vninf));
            v32b mb = (v32b)m; /* each lane's low byte: the move */
            v8b bytes = __builtin_shufflevector(mb, mb, 0, 4, 8, 12, 16, 20, 24, 28);
            memcpy(row + k, &bytes, LN);
            rowmax = VMAX(rowmax, h);
        }
        hc[0] = fc[0] = NINF;
        int32_t rm = rowmax[0];
        for (int l = 1; l < LN; l++)
            rm = rowmax[l] > rm ? rowmax[l] : rm;
        if (rm > best) {
            best = rm;
            bi = i;
            for (bk = kb; hc[bk + 1] != rm; bk++)
                ;
        }
        next_row(&hp, &hc, &fp, &fc);
    }
    if (best > 0)
        trace_back(mv, w, lo, bi, bk, best, out);
    return RECITE_OK;
}
#undef LN

int rc_code_align_ids_plain(rc_code_scratch *sc, const int16_t *aid, size_t na, const int16_t *bid,
                            size_t nb, int64_t lo, int64_t hi, rc_alignment *out)
{
    return align_ids(sc, aid, na, bid, nb, lo, hi, out);
}

#if defined(__x86_64__) && defined(__GNUC__)
__attribute__((target("avx2"))) static int align_ids_avx2(rc_code_scratch *sc, const int16_t *aid,
                                                          size_t na, const int16_t *bid, size_t nb,
                                                          int64_t lo, int64_t hi, rc_alignment *out)
{
    return align_ids(sc, aid, na, bid, nb, lo, hi, out);
}
#endif

int rc_code_align_ids(rc_code_scratch *sc, const int16_t *aid, size_t na, const int16_t *bid,
                      size_t nb, int64_t lo, int64_t hi, rc_alignment *out)
{
#if defined(__x86_64__) && defined(__GNUC__)
    if (__builtin_cpu_supports("avx2"))
        return align_ids_avx2(sc, aid, na, bid, nb, lo, hi, out);
#endif
    return align_ids(sc, aid, na, bid, nb, lo, hi, out);
}

/* ==== the matcher's: output lexemes against a cluster's ==== */

int rc_code_align(rc_matcher *c, uint32_t cl, uint64_t ntok, uint32_t qa, uint32_t qb, int64_t dlo,
                  int64_t dhi, rc_alignment *out, recite_error *err)
{
    memset(out, 0, sizeof *out);
    rc_code_scratch *sc = &c->code;
    const rc_token *qt = c->chans[RC_CH_SHAPE].stream->toks.v;
    int64_t slo = RC_MAX((int64_t)qa + dlo, (int64_t)0);
    int64_t shi = RC_MIN((int64_t)qb + dhi, (int64_t)ntok);
    if (shi <= slo || qb <= qa)
        return RECITE_OK;
    size_t na = qb - qa, nb = (size_t)(shi - slo);
    /* In array terms: b index j (prefix length) = i + d, d in [lo, hi]. */
    int64_t lo = dlo + (int64_t)qa - slo, hi = dhi + (int64_t)qa - slo;
    const rc_out_ids *ids;
    int rc = rc_match_out_ids(c, RC_CH_SHAPE, &ids);
    if (rc != RECITE_OK)
        return rc_error_set(err, rc, "out of memory");
    /* The vector kernel takes the work's shapes as the output's ids; the reference (an output
     * with too many distinct shapes for ids) the shapes themselves. */
    bool vec = !ids->too_many;
    if (vec ? RC_VEC_RESERVE(sc->ids, nb) != RECITE_OK
            : RC_VEC_RESERVE(sc->as, na) != RECITE_OK || RC_VEC_RESERVE(sc->bs, nb) != RECITE_OK)
        return rc_error_set(err, RECITE_ENOMEM, "out of memory");
    for (size_t i = 0; !vec && i < na; i++)
        sc->as.v[i] = qt[qa + i].shape;
    for (size_t j = 0; j < nb; j++) {
        const rc_token *t;
        if ((rc = rc_match_src_tok(c, cl, (uint64_t)slo + j, &t, NULL, err)) != RECITE_OK)
            return rc;
        if (vec)
            sc->ids.v[j] = rc_match_id_of(c, RC_CH_SHAPE, t->shape);
        else
            sc->bs.v[j] = t->shape;
    }
    rc = vec ? rc_code_align_ids(sc, ids->q.v + qa, na, sc->ids.v, nb, lo, hi, out)
             : rc_code_align_reference(sc, sc->as.v, na, sc->bs.v, nb, lo, hi, out);
    if (rc == RECITE_ENOMEM)
        return rc_error_set(err, rc, "out of memory");
    if (rc != RECITE_OK || out->score == 0)
        return rc; /* RECITE_ELIMIT: the caller's */
    out->a0 += qa;
    out->a1 += qa;
    out->b0 += (size_t)slo;
    out->b1 += (size_t)slo;
    return RECITE_OK;
}

/*
 * match_code.c — how similar a span of the shape channel is (code with renamed identifiers or
 * changed literals). Equal shapes are only a hint: unrelated declarations and tables of
 * constants (`#define A 1` against `#define B 7`) have them too. So the span's lexemes are
 * compared pair by pair (along the alignment's path when it has indels): a keyword or
 * punctuation equal, an identifier equal or consistently renamed (one name of the output for
 * one name of the work throughout the span), a literal only when equal. The similarity counts
 * those pairs over the longer side; a span also has to keep enough of the work's own names
 * and strings as they are (a renamed copy keeps its calls, fields and messages; unrelated code
 * of the same shape keeps almost none: numbers, small ones mostly, say little), counted both
 * by occurrence and by distinct name (one name repeated throughout — `defined`, `self`, a
 * macro — is one piece of evidence, not ten), more of them when the span's shapes are
 * boilerplate that many works share, at least one of its strings when it has several, and to
 * have enough names and literals at all. The same judges edited spans of the lexemes' channel;
 * edited spans found by a code work's words are held to the code guarantee (rc_view_near_ok).
 */
#include "rc_match.h"

#include <stdlib.h>

#define PATH_PAD 12               /* diagonals beyond the ends' difference the path may use */
#define PATH_MAX_CELLS (1u << 24) /* beyond this, pairs are taken along the diagonal */
/* Of the output's names and strings, the share equal in the work: 0.5 for a span of up to 60
 * lexemes, down to 0.3 from 150 on (a short span of the same shapes keeps a few common names
 * by chance: `i`, `len`, `String.Char`; a long one does not). */
#define MIN_KEPT 0.3
#define MIN_KEPT_SHORT 0.5
#define SHORT_FROM 60
#define SHORT_TO 150
#define MIN_NAMES 0.15 /* names and literals among the output's lexemes */
/* Of the output's distinct names and strings, the share the work has as they are. */
#define MIN_KEPT_DISTINCT 0.3
/* A span whose shapes are boilerplate — at least this share of its shape k-grams (those the
 * index holds) in 8 or more families of texts (DF class 2 or 3: the table of number patterns a
 * dozen syntax highlighters have) matches the shapes of many works, so the shapes say little
 * about which: the lexemes have to say more. */
#define BOILER_SHARE 0.8
#define BOILER_DF_CLASS 2u
#define MIN_KEPT_DISTINCT_BOILER 0.5
/* Strings are the most telling lexemes (messages, formats, paths, patterns): a copy keeps them,
 * or changes some; a span of this many strings or more that keeps none shares only structure
 * (one regex table against another). */
#define MIN_STRINGS_TESTED 3

enum { MV_NONE = 0, MV_DIAG = 1, MV_UP = 2, MV_LEFT = 3 };

static int pair_score(uint64_t ah, uint64_t as, uint64_t bh, uint64_t bs)
{
    return ah == bh ? 2 : as == bs ? 1 : -2;
}

/* The pairs of the best global alignment of a[0, na) with b[0, nb) (scores: equal lexemes +2,
 * equal shapes +1, a mismatch or a gap -2) within PATH_PAD diagonals of both ends: their
 * indices in sc->pa, sc->pb (in order). */
static int path_pairs(rc_code_scratch *sc, size_t na, size_t nb)
{
    const uint64_t *ah = sc->ah.v, *as = sc->as.v, *bh = sc->bh.v, *bs = sc->bs.v;
    int64_t dlo = RC_MIN((int64_t)0, (int64_t)nb - (int64_t)na) - PATH_PAD;
    int64_t dhi = RC_MAX((int64_t)0, (int64_t)nb - (int64_t)na) + PATH_PAD;
    size_t w = (size_t)(dhi - dlo + 1);
    sc->pa.n = sc->pb.n = 0;
    if ((na + 1) * w > PATH_MAX_CELLS) { /* a very long span: along the diagonal */
        for (size_t i = 0; i < RC_MIN(na, nb); i++)
            if (RC_VEC_PUSH(sc->pa, (uint32_t)i) != RECITE_OK ||
                RC_VEC_PUSH(sc->pb, (uint32_t)i) != RECITE_OK)
                return RECITE_ENOMEM;
        return RECITE_OK;
    }
    if (RC_VEC_RESERVE(sc->moves, (na + 1) * w) != RECITE_OK ||
        RC_VEC_RESERVE(sc->rows, 2 * (w + 2)) != RECITE_OK ||
        RC_VEC_RESERVE(sc->pa, RC_MIN(na, nb) + 1) != RECITE_OK ||
        RC_VEC_RESERVE(sc->pb, RC_MIN(na, nb) + 1) != RECITE_OK)
        return RECITE_ENOMEM;
    const int32_t ninf = INT32_MIN / 4;
    /* Row i, column k: a[0, i) against b[0, j), j = i + dlo + k; kept in rows of w + 2 with a
     * border column on each side (index k + 1). */
    int32_t *prev = sc->rows.v, *cur = sc->rows.v + (w + 2);
    uint8_t *mv = sc->moves.v;
    for (size_t k = 0; k < w + 2; k++)
        prev[k] = cur[k] = ninf;
    for (size_t k = 0; k < w; k++) {
        int64_t j = dlo + (int64_t)k;
        mv[k] = MV_NONE;
        if (j >= 0 && j <= (int64_t)nb) {
            prev[k + 1] = (int32_t)(-2 * j);
            mv[k] = j ? MV_LEFT : MV_NONE;
        }
    }
    for (size_t i = 1; i <= na; i++) {
        uint8_t *row = mv + i * w;
        cur[0] = cur[w + 1] = ninf;
        for (size_t k = 0; k < w; k++) {
            int64_t j = (int64_t)i + dlo + (int64_t)k;
            int32_t best = ninf;
            uint8_t m = MV_NONE;
            if (j >= 0 && j <= (int64_t)nb) {
                if (j >= 1 && prev[k + 1] > ninf) {
                    best = prev[k + 1] + pair_score(ah[i - 1], as[i - 1], bh[j - 1], bs[j - 1]);
                    m = MV_DIAG;
                }
                if (prev[k + 2] > ninf && prev[k + 2] - 2 > best) {
                    best = prev[k + 2] - 2;
                    m = MV_UP;
                }
                if (j >= 1 && cur[k] > ninf && cur[k] - 2 > best) {
                    best = cur[k] - 2;
                    m = MV_LEFT;
                }
            }
            cur[k + 1] = best;
            row[k] = m;
        }
        int32_t *t = prev;
        prev = cur;
        cur = t;
    }
    /* Back from (na, nb); the pairs come out last first. */
    size_t i = na;
    int64_t j = (int64_t)nb;
    while (i > 0 || j > 0) {
        int64_t k = j - (int64_t)i - dlo;
        uint8_t m = k >= 0 && k < (int64_t)w ? mv[i * w + (size_t)k] : MV_NONE;
        if (m == MV_DIAG) {
            sc->pa.v[sc->pa.n++] = (uint32_t)(i - 1);
            sc->pb.v[sc->pb.n++] = (uint32_t)(j - 1);
            i--;
            j--;
        } else if (m == MV_UP) {
            i--;
        } else if (m == MV_LEFT) {
            j--;
        } else {
            break; /* cannot happen: the end is inside the band */
        }
    }
    for (size_t x = 0, y = sc->pa.n; x + 1 < y; x++, y--) {
        uint32_t t = sc->pa.v[x];
        sc->pa.v[x] = sc->pa.v[y - 1];
        sc->pa.v[y - 1] = t;
        t = sc->pb.v[x];
        sc->pb.v[x] = sc->pb.v[y - 1];
        sc->pb.v[y - 1] = t;
    }
    return RECITE_OK;
}

/* ==== renaming: one name for one name, both ways ==== */

static size_t name_slot(const rc_code_scratch *sc, uint64_t key, size_t base)
{
    size_t cap = sc->cap, s = (size_t)(rc_mix64(key) & (cap - 1));
    while (sc->used.v[base + s] && sc->key.v[base + s] != key)
        s = (s + 1) & (cap - 1);
    return base + s;
}

/* Whether output name x for work name y agrees with the pairs seen so far (and records it). */
static bool rename_consistent(rc_code_scratch *sc, uint64_t x, uint64_t y)
{
    size_t f = name_slot(sc, x, 0), b = name_slot(sc, y, sc->cap);
    if (sc->used.v[f] || sc->used.v[b])
        return sc->used.v[f] && sc->used.v[b] && sc->val.v[f] == y && sc->val.v[b] == x;
    sc->used.v[f] = sc->used.v[b] = 1;
    sc->key.v[f] = x;
    sc->val.v[f] = y;
    sc->key.v[b] = y;
    sc->val.v[b] = x;
    return true;
}

int rc_code_similarity(rc_matcher *c, uint32_t cl, uint32_t q0, uint32_t qlen, uint64_t s0,
                       uint64_t slen, bool indels, rc_code_sim *out, recite_error *err)
{
    memset(out, 0, sizeof *out);
    rc_code_scratch *sc = &c->code;
    const rc_token *qt = c->chans[RC_CH_SHAPE].stream->toks.v;
    if (RC_VEC_RESERVE(sc->ah, qlen) != RECITE_OK || RC_VEC_RESERVE(sc->as, qlen) != RECITE_OK ||
        RC_VEC_RESERVE(sc->bh, slen) != RECITE_OK || RC_VEC_RESERVE(sc->bs, slen) != RECITE_OK)
        return rc_error_set(err, RECITE_ENOMEM, "out of memory");
    size_t names = 0, words = 0; /* names and literals; names and strings */
    for (uint32_t i = 0; i < qlen; i++) {
        sc->ah.v[i] = qt[q0 + i].hash;
        sc->as.v[i] = qt[q0 + i].shape;
        names += rc_code_is_name(c, qt[q0 + i].shape);
        words += qt[q0 + i].shape == c->shape_ident || qt[q0 + i].shape == c->shape_str;
    }
    for (uint64_t j = 0; j < slen; j++) {
        const rc_token *t;
        int rc = rc_match_src_tok(c, cl, s0 + j, &t, NULL, err);
        if (rc != RECITE_OK)
            return rc;
        sc->bh.v[j] = t->hash;
        sc->bs.v[j] = t->shape;
    }
    int rc = RECITE_OK;
    if (indels) {
        rc = path_pairs(sc, qlen, (size_t)slen);
    } else {
        sc->pa.n = sc->pb.n = 0;
        for (uint32_t i = 0; i < RC_MIN((uint64_t)qlen, slen) && rc == RECITE_OK; i++)
            if (RC_VEC_PUSH(sc->pa, i) != RECITE_OK || RC_VEC_PUSH(sc->pb, i) != RECITE_OK)
                rc = RECITE_ENOMEM;
    }
    size_t cap = 16;
    while (cap < 2 * names + 2)
        cap *= 2;
    if (rc != RECITE_OK || RC_VEC_RESERVE(sc->key, 3 * cap) != RECITE_OK ||
        RC_VEC_RESERVE(sc->val, 3 * cap) != RECITE_OK ||
        RC_VEC_RESERVE(sc->used, 3 * cap) != RECITE_OK)
        return rc_error_set(err, RECITE_ENOMEM, "out of memory");
    sc->cap = cap;
    memset(sc->used.v, 0, 3 * cap);
    /* The output's distinct names and strings (a third table, from 2 * cap): val 1 once the
     * work has one of its occurrences as it is. */
    uint64_t distinct = 0, distinct_kept = 0, strings = 0, strings_kept = 0;
    for (uint32_t i = 0; i < qlen; i++) {
        strings += sc->as.v[i] == c->shape_str;
        if (sc->as.v[i] != c->shape_ident && sc->as.v[i] != c->shape_str)
            continue;
        size_t d = name_slot(sc, sc->ah.v[i], 2 * cap);
        if (!sc->used.v[d]) {
            sc->used.v[d] = 1;
            sc->key.v[d] = sc->ah.v[i];
            sc->val.v[d] = 0;
            distinct++;
        }
    }
    uint64_t equal = 0, kept = 0, same = 0;
    for (size_t p = 0; p < sc->pa.n; p++) {
        uint32_t i = sc->pa.v[p], j = sc->pb.v[p];
        if (sc->as.v[i] != sc->bs.v[j])
            continue;
        bool eq = sc->ah.v[i] == sc->bh.v[j];
        same += eq;
        if (!rc_code_is_name(c, sc->as.v[i])) {
            equal++; /* a keyword or punctuation: equal shapes are equal lexemes */
        } else {
            bool ok = sc->as.v[i] == c->shape_ident
                          ? rename_consistent(sc, sc->ah.v[i], sc->bh.v[j])
                          : eq;                      /* a number or string: only when equal */
            bool word = sc->as.v[i] != c->shape_num; /* small numbers say little */
            equal += ok;
            kept += ok && eq && word;
            strings_kept += eq && sc->as.v[i] == c->shape_str;
            if (ok && eq && word) {
                size_t d = name_slot(sc, sc->ah.v[i], 2 * cap);
                distinct_kept += !sc->val.v[d];
                sc->val.v[d] = 1;
            }
        }
    }
    /* The share of the span's shape k-grams (those the index holds) that are boilerplate. */
    const rc_chan *ch = &c->chans[RC_CH_SHAPE];
    uint64_t known = 0, boiler = 0;
    for (uint64_t q = q0; q + ch->info->kgram <= (uint64_t)q0 + qlen && q < ch->kgram_df.n; q++) {
        uint8_t df = ch->kgram_df.v[q];
        known += df != RC_NO_POSTINGS;
        boiler += df != RC_NO_POSTINGS && df >= BOILER_DF_CLASS;
    }
    uint64_t longer = RC_MAX((uint64_t)qlen, slen);
    out->similarity = longer ? (double)equal / (double)longer : 1.0;
    out->kept = words ? (double)kept / (double)words : 0.0;
    out->names = qlen ? (double)names / (double)qlen : 0.0;
    out->kept_distinct = distinct ? (double)distinct_kept / (double)distinct : 0.0;
    out->boilerplate = known ? (double)boiler / (double)known : 0.0;
    out->strings = (uint32_t)RC_MIN(strings, (uint64_t)UINT32_MAX);
    out->strings_kept = (uint32_t)RC_MIN(strings_kept, (uint64_t)UINT32_MAX);
    out->exact = same == longer && qlen == slen;
    out->len = qlen;
    return RECITE_OK;
}

bool rc_code_sim_ok(const rc_matcher *c, const rc_code_sim *cs)
{
    double shortness = cs->len <= SHORT_FROM ? 1.0
                       : cs->len >= SHORT_TO
                           ? 0.0
                           : (double)(SHORT_TO - cs->len) / (double)(SHORT_TO - SHORT_FROM);
    double min_kept = MIN_KEPT + (MIN_KEPT_SHORT - MIN_KEPT) * shortness;
    double min_distinct =
        cs->boilerplate >= BOILER_SHARE ? MIN_KEPT_DISTINCT_BOILER : MIN_KEPT_DISTINCT;
    bool strings_ok = cs->strings < MIN_STRINGS_TESTED || cs->strings_kept > 0;
    return cs->exact || (cs->similarity >= c->min_similarity && cs->kept >= min_kept &&
                         cs->kept_distinct >= min_distinct && cs->names >= MIN_NAMES && strings_ok);
}

void rc_code_scratch_free(rc_code_scratch *sc)
{
    RC_VEC_FREE(sc->ah);
    RC_VEC_FREE(sc->as);
    RC_VEC_FREE(sc->bh);
    RC_VEC_FREE(sc->bs);
    RC_VEC_FREE(sc->moves);
    RC_VEC_FREE(sc->rows);
    RC_VEC_FREE(sc->pa);
    RC_VEC_FREE(sc->pb);
    RC_VEC_FREE(sc->key);
    RC_VEC_FREE(sc->val);
    RC_VEC_FREE(sc->used);
}

/* ==== local alignment of code, with affine gaps ====
 * A copy of code with a line inserted or deleted has a gap of a whole line (5-15 lexemes): with
 * the linear gaps of rc_align_local (-2 a lexeme) the alignment stops at the gap, and the two
 * halves may each be under min_tokens. Here a gap costs 2.5 + 0.5 a lexeme (in units of a match,
 * +1; a mismatch -2), so the alignment goes on across a line when what follows outweighs it. */

#define AL_MATCH 2
#define AL_MISMATCH (-4)
#define AL_OPEN (-5) /* the first lexeme of a gap */
#define AL_EXTEND (-1)
#define AL_MAX_CELLS (1u << 24)

enum { H_ZERO = 0, H_DIAG = 1, H_E = 2, H_F = 3, E_EXT = 4, F_EXT = 8 };

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
    size_t w = (size_t)(hi - lo + 1);
    if ((na + 1) * w > AL_MAX_CELLS)
        return RECITE_ELIMIT;
    if (RC_VEC_RESERVE(sc->ah, na) != RECITE_OK || RC_VEC_RESERVE(sc->as, na) != RECITE_OK ||
        RC_VEC_RESERVE(sc->bh, nb) != RECITE_OK || RC_VEC_RESERVE(sc->bs, nb) != RECITE_OK ||
        RC_VEC_RESERVE(sc->moves, (na + 1) * w) != RECITE_OK ||
        RC_VEC_RESERVE(sc->rows, 4 * (w + 2)) != RECITE_OK)
        return rc_error_set(err, RECITE_ENOMEM, "out of memory");
    for (size_t i = 0; i < na; i++) {
        sc->ah.v[i] = qt[qa + i].hash;
        sc->as.v[i] = qt[qa + i].shape;
    }
    for (size_t j = 0; j < nb; j++) {
        const rc_token *t;
        int rc = rc_match_src_tok(c, cl, (uint64_t)slo + j, &t, NULL, err);
        if (rc != RECITE_OK)
            return rc;
        sc->bh.v[j] = t->hash;
        sc->bs.v[j] = t->shape;
    }
    const int32_t ninf = INT32_MIN / 4;
    /* Rows of H and F (the previous and the current), each with a border column on both
     * sides: column k + 1 is cell (i, j = i + lo + k). */
    int32_t *hp = sc->rows.v, *hc = hp + (w + 2), *fp = hc + (w + 2), *fc = fp + (w + 2);
    for (size_t k = 0; k < w + 2; k++)
        hp[k] = fp[k] = hc[k] = fc[k] = ninf;
    for (size_t k = 0; k < w; k++) {
        int64_t j = lo + (int64_t)k;
        if (j >= 0 && j <= (int64_t)nb)
            hp[k + 1] = 0;
    }
    uint8_t *mv = sc->moves.v;
    memset(mv, 0, w);
    int32_t best = 0;
    size_t bi = 0, bk = 0;
    for (size_t i = 1; i <= na; i++) {
        uint8_t *row = mv + i * w;
        /* The cells of the row inside b, j = i + lo + k in [0, nb]: columns [kb, ke). Outside,
         * -inf and no move. Inside, no test for -inf: ninf plus a few thousand gap costs is
         * still far below any real score and far above overflow, so it never wins a max. */
        int64_t j0 = (int64_t)i + lo;
        size_t kb = j0 >= 0 ? 0 : (size_t)RC_MIN(-j0, (int64_t)w);
        size_t ke = (int64_t)nb < j0 ? 0 : (size_t)RC_MIN((int64_t)nb - j0 + 1, (int64_t)w);
        if (ke < kb)
            ke = kb;
        hc[0] = hc[w + 1] = fc[0] = fc[w + 1] = ninf;
        for (size_t k = 0; k < kb; k++) {
            hc[k + 1] = fc[k + 1] = ninf;
            row[k] = 0;
        }
        for (size_t k = ke; k < w; k++) {
            hc[k + 1] = fc[k + 1] = ninf;
            row[k] = 0;
        }
        const uint64_t ai = sc->as.v[i - 1];
        const uint64_t *bs = sc->bs.v;
        int32_t e = ninf; /* E along the row */
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
                int32_t d = hp[k + 1] + (ai == bs[j - 1] ? AL_MATCH : AL_MISMATCH);
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
        int32_t *t = hp;
        hp = hc;
        hc = t;
        t = fp;
        fp = fc;
        fc = t;
    }
    if (best == 0)
        return RECITE_OK;
    /* Back from the best cell to where the score started from 0. */
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
                bool eq = sc->as.v[i - 1] == sc->bs.v[j - 1];
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
    out->a0 = qa + first_i;
    out->a1 = qa + bi;
    out->b0 = (size_t)slo + first_j;
    out->b1 = (size_t)(slo + (int64_t)bi + lo + (int64_t)bk);
    out->matches = matches;
    out->edits = edits;
    out->score = best;
    return RECITE_OK;
}

/* ==== edited spans found by a code work's words ====
 * A code work is also indexed by its words (its view), so that comments, docstrings and exact
 * code shorter than the code guarantee are found. Words of code repeat far more than words of
 * prose (include lines, header guards, prototypes, imports), and unrelated files share runs of
 * 12-20 of them with a name or two different; found with edits (aligned, or with other
 * punctuation), such a span is the work's code with some lexemes different, which is what the
 * code channels judge, and it is held to the code guarantee: about two lexemes a word, so
 * code_min_tokens / 2 words. A span mostly of the work's comments (most of its words outside
 * the work's lexemes) is prose and keeps the prose rules. */

int rc_view_near_ok(rc_matcher *c, uint32_t cl, uint32_t words, uint64_t s0, uint64_t slen,
                    bool *ok, recite_error *err)
{
    *ok = true;
    if (cl < c->idx->nclusters || words >= (c->chans[RC_CH_CODE].min_tokens + 1) / 2 || !slen)
        return RECITE_OK;
    rc_cluster view, info;
    rc_index_cluster(c->idx, cl, &view);
    rc_index_cluster(c->idx, view.primary, &info);
    /* The span's words (of the view) against the work's lexemes, in byte order. */
    const rc_token *t;
    int rc = rc_match_src_tok(c, cl, s0, &t, NULL, err);
    uint64_t j = 0, in_code = 0;
    if (rc == RECITE_OK)
        rc = rc_match_token_at_byte(c, view.primary, info.ntokens, t->start, false, &j, err);
    for (uint64_t i = 0; rc == RECITE_OK && i < slen; i++) {
        if ((rc = rc_match_src_tok(c, cl, s0 + i, &t, NULL, err)) != RECITE_OK)
            break;
        uint64_t start = t->start, end = t->end;
        const rc_token *x = NULL;
        while (j < info.ntokens &&
               (rc = rc_match_src_tok(c, view.primary, j, &x, NULL, err)) == RECITE_OK &&
               x->end <= start)
            j++;
        if (rc == RECITE_OK && j < info.ntokens && x && x->start < end)
            in_code++;
    }
    *ok = 2 * in_code < slen; /* mostly comments: prose */
    return rc;
}

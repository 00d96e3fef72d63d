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
#define MIN_KEPT_TENTHS 3
#define MIN_KEPT (MIN_KEPT_TENTHS / 10.0)
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

/* A span is reported when rc_code_sim_ok holds, and then not as exact (every lexeme equal: its
 * alignment has no edit, and near matching drops those before asking), so it keeps a share of
 * its names and strings (kept >= min_kept * words > 0 when it has any; a span without any has
 * kept 0 and fails; min_kept >= MIN_KEPT): at least one of the output's names or strings in the
 * span, and MIN_KEPT of them, are paired with the same lexeme in the work, so are among the
 * work's names and strings in the window, and the span has min_tokens lexemes or more. Chance
 * structure (unrelated code of the same shapes) mostly has no name in common in the whole
 * window a chain is aligned in, or too few: three quarters of the shape chains of library
 * filler, whose alignments (and code similarities) are then not computed. */
int rc_code_may_keep(rc_matcher *c, uint32_t cl, uint32_t qa, uint32_t qb, uint64_t sa, uint64_t sb,
                     bool *may, recite_error *err)
{
    rc_code_scratch *sc = &c->code;
    const rc_token *qt = c->chans[RC_CH_SHAPE].stream->toks.v;
    *may = true;
    /* The work's names and strings there, in the scratch's name table (name_slot). */
    size_t cap = 64;
    while (cap < 2 * (sb - sa) + 2)
        cap *= 2;
    if (RC_VEC_RESERVE(sc->key, cap) != RECITE_OK || RC_VEC_RESERVE(sc->used, cap) != RECITE_OK)
        return rc_error_set(err, RECITE_ENOMEM, "out of memory");
    sc->cap = cap;
    memset(sc->used.v, 0, cap);
    for (uint64_t j = sa; j < sb; j++) {
        const rc_token *t;
        int rc = rc_match_src_tok(c, cl, j, &t, NULL, err);
        if (rc != RECITE_OK)
            return rc;
        if (t->shape != c->shape_ident && t->shape != c->shape_str)
            continue;
        size_t d = name_slot(sc, t->hash, 0);
        sc->used.v[d] = 1;
        sc->key.v[d] = t->hash;
    }
    /* Some span of min_tokens lexemes or more in [qa, qb) has to hold at least one shared name
     * or string and MIN_KEPT of its names and strings shared: with prefix sums of
     * 10 x shared - MIN_KEPT_TENTHS x words, one whose sum over [x, y) is >= 0 with a shared
     * one at p, x <= p < y (x only moves right as y does: a running minimum). */
    size_t n = qb - qa, least = c->chans[RC_CH_SHAPE].min_tokens;
    *may = false;
    if (n < least)
        return RECITE_OK;
    if (RC_VEC_RESERVE(sc->rows, n + 1) != RECITE_OK)
        return rc_error_set(err, RECITE_ENOMEM, "out of memory");
    int32_t *sum = sc->rows.v;
    sum[0] = 0;
    size_t last = SIZE_MAX, x = 0; /* the last shared one before y; sums [0, x] in lowest */
    int32_t lowest = 0;
    for (size_t y = 1; y <= n; y++) {
        const rc_token *t = &qt[qa + y - 1];
        bool word = t->shape == c->shape_ident || t->shape == c->shape_str;
        bool shared = word && sc->used.v[name_slot(sc, t->hash, 0)];
        sum[y] = sum[y - 1] + (shared ? 10 : 0) - (word ? MIN_KEPT_TENTHS : 0);
        if (shared)
            last = y - 1;
        if (y < least || last == SIZE_MAX)
            continue;
        for (size_t to = RC_MIN(y - least, last); x < to;) {
            x++; /* not in RC_MIN's arguments: it evaluates them twice */
            lowest = RC_MIN(lowest, sum[x]);
        }
        if (sum[y] - lowest >= 0) {
            *may = true;
            return RECITE_OK;
        }
    }
    return RECITE_OK;
}

/* A run of shapes is paired lexeme by lexeme (rc_code_similarity without indels): kept counts
 * the pairs of equal names and strings, so it is at most the number equal here, and a run with
 * fewer than MIN_KEPT of them (or none) fails unless it is exact, which has every one equal
 * (the only runs let through with fewer). A third of the classifications of library filler,
 * whose stored bytes and similarity are then not read. */
int rc_code_run_may_keep(rc_matcher *c, uint32_t cl, uint32_t q0, uint32_t len, uint64_t s0,
                         bool *may, recite_error *err)
{
    const rc_token *qt = c->chans[RC_CH_SHAPE].stream->toks.v;
    uint64_t words = 0, equal = 0;
    for (uint32_t i = 0; i < len; i++) {
        if (qt[q0 + i].shape != c->shape_ident && qt[q0 + i].shape != c->shape_str)
            continue;
        const rc_token *t;
        int rc = rc_match_src_tok(c, cl, s0 + i, &t, NULL, err);
        if (rc != RECITE_OK)
            return rc;
        words++;
        equal += t->hash == qt[q0 + i].hash;
    }
    *may = equal == words || (equal > 0 && 10 * equal >= MIN_KEPT_TENTHS * words);
    return RECITE_OK;
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
    RC_VEC_FREE(sc->ids);
    RC_VEC_FREE(sc->bid);
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

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
/* Code (the shape channel): lines inserted or deleted shift the diagonal by a line at a time,
 * and the runs between edits may hold no seed: a wider band and more lexemes around the chain,
 * aligned with affine gaps (rc_code_align). */
#define NEAR_PAD_CODE 40
#define NEAR_BAND_CODE 24

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

/* Anchors in output order: the seeds of a work come by diagonal, then output position, so
 * those of one output position come by source position already, and a stable counting sort by
 * output position gives cmp_anchor's order (every anchor has its own pair); a work whose anchors
 * span many more output positions than it has anchors is sorted by comparisons. *to receives
 * the n anchors of `from`; cnt is scratch. */
typedef RC_VEC(anchor) anchor_vec;
typedef RC_VEC(uint32_t) count_vec;
typedef RC_VEC(uint64_t) top_vec;

static int cmp_top(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

static int sort_anchors(const anchor *from, size_t n, anchor_vec *to, count_vec *cnt)
{
    if (RC_VEC_RESERVE(*to, n) != RECITE_OK)
        return RECITE_ENOMEM;
    to->n = n;
    uint32_t lo = UINT32_MAX, hi = 0;
    for (size_t i = 0; i < n; i++) {
        lo = RC_MIN(lo, from[i].q);
        hi = RC_MAX(hi, from[i].q);
    }
    size_t range = n ? (size_t)(hi - lo) + 1 : 0;
    if (range > 8 * n + 4096) {
        memcpy(to->v, from, n * sizeof *from);
        rc_sort(to->v, n, sizeof *to->v, cmp_anchor);
        return RECITE_OK;
    }
    if (RC_VEC_RESERVE(*cnt, range + 1) != RECITE_OK)
        return RECITE_ENOMEM;
    uint32_t *at = cnt->v;
    memset(at, 0, (range + 1) * sizeof *at);
    for (size_t i = 0; i < n; i++)
        at[from[i].q - lo + 1]++;
    for (size_t d = 1; d <= range; d++)
        at[d] += at[d - 1];
    for (size_t i = 0; i < n; i++)
        to->v[at[from[i].q - lo]++] = from[i];
    return RECITE_OK;
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
    size_t near = 0; /* first anchor within NEAR_MAX_GAP output tokens of a[i] (sorted by q) */
    size_t same = 0; /* first anchor of a[i]'s output token: none from there on precedes it */
    for (size_t i = 0; i < n; i++) {
        a[i].score = (int32_t)k;
        a[i].prev = -1;
        a[i].used = 0;
        while (a[i].q - a[near].q > NEAR_MAX_GAP)
            near++;
        if (a[i].q != a[same].q)
            same = i;
        size_t from = i > NEAR_LOOKBACK ? i - NEAR_LOOKBACK : 0;
        for (size_t j = RC_MAX(from, near); j < same; j++) {
            if (a[j].s >= a[i].s)
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

/* ==== output tokens as ids ==== */

static size_t id_slot(uint64_t h, size_t cap)
{
    return (size_t)((h ^ (h >> 29)) & (cap - 1)); /* token hashes are already uniform */
}

/* The ids of channel chn's output tokens (made once per check). */
static int build_ids(rc_matcher *c, unsigned chn)
{
    const rc_chan *ch = &c->chans[chn];
    size_t n = ch->stream->toks.n, cap = 64;
    while (cap < 2 * n)
        cap *= 2;
    rc_out_ids *t = &c->ids[chn];
    if (RC_VEC_RESERVE(t->key, cap) != RECITE_OK || RC_VEC_RESERVE(t->id, cap) != RECITE_OK ||
        RC_VEC_RESERVE(t->q, n + 1) != RECITE_OK)
        return RECITE_ENOMEM;
    t->key.n = t->id.n = cap;
    memset(t->id.v, 0, cap * sizeof *t->id.v);
    uint16_t next = 1;
    t->too_many = false;
    for (size_t q = 0; q < n; q++) {
        uint64_t h = rc_chan_hash(ch, &ch->stream->toks.v[q]);
        size_t s = id_slot(h, cap);
        while (t->id.v[s] && t->key.v[s] != h)
            s = (s + 1) & (cap - 1);
        if (!t->id.v[s]) {
            if (next == UINT16_MAX) {
                t->too_many = true; /* a very long text: aligned on the hashes themselves */
                break;
            }
            t->key.v[s] = h;
            t->id.v[s] = next++;
        }
        t->q.v[q] = (int16_t)t->id.v[s];
    }
    t->built = true;
    return RECITE_OK;
}

int rc_match_out_ids(rc_matcher *c, unsigned chn, const rc_out_ids **out)
{
    *out = &c->ids[chn];
    return c->ids[chn].built ? RECITE_OK : build_ids(c, chn);
}

int16_t rc_match_id_of(const rc_matcher *c, unsigned chn, uint64_t h)
{
    const rc_out_ids *t = &c->ids[chn];
    size_t cap = t->id.n, s = id_slot(h, cap);
    while (t->id.v[s] && t->key.v[s] != h)
        s = (s + 1) & (cap - 1);
    return (int16_t)t->id.v[s];
}

/* ==== alignments shared by works ====
 * Works that share a passage with the same context around it give the same tokens to align
 * against the same output tokens: the alignment is computed once per check and found again by
 * everything it depends on (channel, output range, band, and the source tokens compared whole;
 * the hash only finds the candidate). */

typedef struct align_memo_entry {
    uint64_t hash;
    uint32_t chn, qa, na, nb;
    int64_t dlo, dhi;
    size_t tokens; /* in the arena: the source tokens (u64 each) */
    rc_alignment al;
} align_memo_entry;

static void memo_place(rc_align_memo *am, uint32_t entry)
{
    size_t cap = am->slots.n, s = (size_t)(am->entries.v[entry].hash & (cap - 1));
    while (am->slots.v[s])
        s = (s + 1) & (cap - 1);
    am->slots.v[s] = entry + 1;
}

static const rc_alignment *memo_find(const rc_align_memo *am, const align_memo_entry *k,
                                     const uint64_t *b)
{
    for (size_t cap = am->slots.n, s = cap ? (size_t)(k->hash & (cap - 1)) : 0;
         cap && am->slots.v[s]; s = (s + 1) & (cap - 1)) {
        const align_memo_entry *e = &am->entries.v[am->slots.v[s] - 1];
        if (e->hash == k->hash && e->chn == k->chn && e->qa == k->qa && e->na == k->na &&
            e->nb == k->nb && e->dlo == k->dlo && e->dhi == k->dhi &&
            memcmp(am->arena.v + e->tokens, b, k->nb * sizeof *b) == 0)
            return &e->al;
    }
    return NULL;
}

static int memo_add(rc_align_memo *am, align_memo_entry *k, const uint64_t *b)
{
    if ((am->entries.n + 1) * 2 > am->slots.n) {
        size_t cap = am->slots.n ? 2 * am->slots.n : 256;
        if (RC_VEC_RESERVE(am->slots, cap) != RECITE_OK)
            return RECITE_ENOMEM;
        am->slots.n = cap;
        memset(am->slots.v, 0, cap * sizeof *am->slots.v);
        for (size_t i = 0; i < am->entries.n; i++)
            memo_place(am, (uint32_t)i);
    }
    k->tokens = am->arena.n;
    if (RC_VEC_RESERVE(am->arena, am->arena.n + k->nb) != RECITE_OK ||
        RC_VEC_PUSH(am->entries, *k) != RECITE_OK)
        return RECITE_ENOMEM;
    memcpy(am->arena.v + am->arena.n, b, k->nb * sizeof *b);
    am->arena.n += k->nb;
    memo_place(am, (uint32_t)(am->entries.n - 1));
    return RECITE_OK;
}

void rc_align_memo_reset(rc_align_memo *am)
{
    if (am->entries.n && am->slots.n)
        memset(am->slots.v, 0, am->slots.n * sizeof *am->slots.v);
    am->entries.n = 0;
    am->arena.n = 0;
}

void rc_align_memo_free(rc_align_memo *am)
{
    RC_VEC_FREE(am->entries);
    RC_VEC_FREE(am->slots);
    RC_VEC_FREE(am->arena);
}

/* Aligns output tokens [qa, qb) of the text with the source diagonals [dlo, dhi] of cluster cl
 * (source token s = q + d); results in output and source token numbers. An alignment that
 * cannot have an edit is not computed (near matching would drop it): *al is then all zero. */
static int align_band(rc_matcher *c, const rc_chan *ch, uint32_t cl, uint64_t ntok, uint32_t qa,
                      uint32_t qb, int64_t dlo, int64_t dhi, rc_alignment *al, recite_error *err)
{
    int64_t slo = RC_MAX((int64_t)qa + dlo, (int64_t)0);
    int64_t shi = RC_MIN((int64_t)qb + dhi, (int64_t)ntok); /* exclusive */
    memset(al, 0, sizeof *al);
    if (shi <= slo)
        return RECITE_OK;
    unsigned chn = (unsigned)(ch - c->chans);
    if (!c->ids[chn].built && build_ids(c, chn) != RECITE_OK)
        return rc_error_set(err, RECITE_ENOMEM, "out of memory");
    bool ids = !c->ids[chn].too_many;
    size_t na = qb - qa, nb = (size_t)(shi - slo);
    rc_align_scratch *sc = &c->align;
    if (RC_VEC_RESERVE(sc->a, na) != RECITE_OK || RC_VEC_RESERVE(sc->b, nb) != RECITE_OK ||
        RC_VEC_RESERVE(sc->ids, nb) != RECITE_OK)
        return rc_error_set(err, RECITE_ENOMEM, "out of memory");
    uint64_t *a = sc->a.v, *b = sc->b.v;
    int16_t *bid = sc->ids.v;
    int rc = RECITE_OK;
    for (size_t i = 0; i < na; i++)
        a[i] = rc_chan_hash(ch, &ch->stream->toks.v[qa + i]);
    for (size_t j = 0; j < nb; j++) {
        const rc_token *t;
        if ((rc = rc_match_src_tok(c, cl, (uint64_t)slo + j, &t, NULL, err)) != RECITE_OK)
            return rc;
        b[j] = rc_chan_hash(ch, t);
        if (ids)
            bid[j] = rc_match_id_of(c, chn, b[j]);
    }
    /* In array terms: b index = a index + (qa + d - slo). */
    int64_t shift = (int64_t)qa - slo;
    align_memo_entry key = {
        rc_hash64(b, nb * sizeof *b, ((uint64_t)qa << 32) ^ na ^ (uint64_t)(dlo + shift) << 48),
        chn,
        qa,
        (uint32_t)na,
        (uint32_t)nb,
        dlo + shift,
        dhi + shift,
        0,
        {0}};
    const rc_alignment *known = memo_find(&c->align_memo, &key, b);
    /* Whether an edit is possible at all is asked first (rc_align_may_edit: linear in the
     * matching cells) only for a chain on one diagonal: there it says no to half of them. A
     * chain across diagonals has an indel and nearly always an edit (2,010 of 2,012 on the
     * library-heavy bench outputs): asking would only add its cost. Either way the same span:
     * an alignment without edit is not kept. */
    bool ask = dhi - dlo == 2 * NEAR_BAND, may = true;
    if (known)
        *al = *known;
    else if (ids)
        rc = rc_align_ids(sc, a, c->ids[chn].q.v + qa, na, b, bid, nb, dlo + shift, dhi + shift,
                          ask, al);
    else if ((rc = ask ? rc_align_may_edit(sc, a, na, b, nb, dlo + shift, dhi + shift, &may)
                       : RECITE_OK) == RECITE_OK &&
             may)
        rc = rc_align_local_scratch(sc, a, na, b, nb, dlo + shift, dhi + shift, al);
    if (rc == RECITE_ELIMIT) {
        rc = RECITE_OK; /* an absurdly long chain: leave it to the exact matcher, and say so */
        memset(al, 0, sizeof *al);
        c->truncated = true;
    }
    if (rc == RECITE_OK && !known) {
        key.al = *al;
        rc = memo_add(&c->align_memo, &key, b);
    }
    if (rc != RECITE_OK)
        rc = rc_error_set(err, rc, "out of memory");
    al->a0 += qa;
    al->a1 += qa;
    al->b0 += (size_t)slo;
    al->b1 += (size_t)slo;
    return rc;
}

/* ==== per work ==== */

/* Code whose lines repeat (tables, runs of similar calls) gives a work many chains on
 * diagonals a period apart, each aligned over much the same lexemes, most to the same span: a
 * chain of the shape channel whose every seed lies inside a span already aligned in this work
 * (one whose alignment ended inside its window, not at its edge) is explained by that span and
 * not aligned again. Same matches on the bench sets; 4.6 % fewer instructions on library
 * filler, a third fewer on its slowest outputs (bench/run.sh's p99). Words are not skipped so:
 * there a chain inside a span may still find a longer one of its own. */
static bool chain_inside(const anchor *a, int32_t top, uint32_t mark, unsigned k,
                         const rc_alignment *sp, size_t nsp)
{
    for (size_t r = 0; r < nsp; r++) {
        bool inside = true;
        /* The chain's seeds: from top back, those this round marked. */
        for (int32_t i = top; i >= 0 && a[i].used == mark && inside; i = a[i].prev)
            inside = a[i].q >= sp[r].a0 && a[i].q + k <= sp[r].a1 && a[i].s >= sp[r].b0 &&
                     a[i].s + k <= sp[r].b1;
        if (inside)
            return true;
    }
    return false;
}

static int near_in_cluster(rc_matcher *c, unsigned chn, uint32_t cl, anchor *a, size_t n,
                           top_vec *tops, recite_error *err)
{
    const rc_chan *ch = &c->chans[chn];
    unsigned k = ch->info->kgram;
    rc_cluster info;
    rc_index_cluster(c->idx, cl, &info);
    chain(a, n, k);
    /* The chains worth aligning (a score of min_tokens / 2 or more), best first (ties: the
     * first in output order): each round takes the best whose end is not used yet. */
    int32_t least = (int32_t)ch->min_tokens / 2;
    tops->n = 0;
    for (size_t i = 0; i < n; i++)
        if (a[i].score >= least && RC_VEC_PUSH(*tops, ((uint64_t)(INT32_MAX - a[i].score) << 32) |
                                                          (uint64_t)i) != RECITE_OK)
            return rc_error_set(err, RECITE_ENOMEM, "out of memory");
    rc_sort(tops->v, tops->n, sizeof *tops->v, cmp_top);
    size_t next = 0;
    rc_alignment spans[NEAR_MAX_CHAINS]; /* aligned so far, ended inside their windows */
    size_t nspans = 0;
    for (unsigned round = 0; round < NEAR_MAX_CHAINS; round++) {
        /* The best chain not yet used. */
        while (next < tops->n && a[(uint32_t)tops->v[next]].used)
            next++;
        if (next == tops->n)
            break;
        size_t top = (uint32_t)tops->v[next];
        uint32_t qfirst = a[top].q, qlast = a[top].q;
        int64_t dmin = diag_of(&a[top]), dmax = dmin;
        size_t seeds = 0;
        for (int32_t i = (int32_t)top; i >= 0 && !a[i].used; i = a[i].prev) {
            a[i].used = round + 1;
            seeds++;
            qfirst = a[i].q;
            dmin = RC_MIN(dmin, diag_of(&a[i]));
            dmax = RC_MAX(dmax, diag_of(&a[i]));
        }
        /* A lone seed: an exact run, if anything (the exact matcher has it). */
        if (seeds < 2)
            continue;
        bool code = chn == RC_CH_SHAPE;
        if (code && !c->near_every_chain &&
            chain_inside(a, (int32_t)top, round + 1, k, spans, nspans)) {
            c->near_code_inside++;
            continue;
        }
        uint32_t pad = code ? NEAR_PAD_CODE : NEAR_PAD;
        int64_t band = code ? NEAR_BAND_CODE : NEAR_BAND;
        uint32_t qa = qfirst > pad ? qfirst - pad : 0;
        uint32_t qb = (uint32_t)RC_MIN((uint64_t)qlast + k + pad, (uint64_t)ch->stream->toks.n);
        if (code && !c->near_every_chain) {
            /* The window the alignment would compare (rc_code_align's). */
            int64_t sa = RC_MAX((int64_t)qa + dmin - band, (int64_t)0);
            int64_t sb = RC_MIN((int64_t)qb + dmax + band, (int64_t)info.ntokens);
            bool may = true;
            int rc = sa < sb
                         ? rc_code_may_keep(c, cl, qa, qb, (uint64_t)sa, (uint64_t)sb, &may, err)
                         : RECITE_OK;
            if (rc != RECITE_OK)
                return rc;
            if (!may) {
                c->near_code_unkept++;
                continue;
            }
        }
        c->near_code_aligned += code;
        rc_alignment al;
        int rc =
            code ? rc_code_align(c, cl, info.ntokens, qa, qb, dmin - band, dmax + band, &al, err)
                 : align_band(c, ch, cl, info.ntokens, qa, qb, dmin - band, dmax + band, &al, err);
        if (rc == RECITE_ELIMIT) { /* an absurdly long chain: the exact matcher's */
            rc = RECITE_OK;
            memset(&al, 0, sizeof al);
        }
        if (rc != RECITE_OK)
            return rc;
        if (code && al.matches && al.a0 > qa && al.a1 < qb)
            spans[nspans++] = al;
        if (al.matches == 0 || al.edits == 0)
            continue;
        uint32_t qlen = (uint32_t)(al.a1 - al.a0);
        uint64_t slen = al.b1 - al.b0;
        double sim = (double)al.matches / (double)RC_MAX((uint64_t)qlen, slen);
        if (qlen < ch->min_tokens || sim < c->min_similarity)
            continue;
        if (chn != RC_CH_PROSE) {
            /* Code with edits: equal shapes are a hint, and equal lexemes between edits (the
             * punctuation and keywords of a table's rows, say) too: its names and literals
             * decide (match_code.c), for the lexemes' channel as for the shapes'. */
            rc_code_sim cs;
            if ((rc = rc_code_similarity(c, cl, (uint32_t)al.a0, qlen, al.b0, slen, true, &cs,
                                         err)) != RECITE_OK)
                return rc;
            if (!rc_code_sim_ok(c, &cs))
                continue;
            if (chn == RC_CH_SHAPE)
                sim = cs.similarity;
        }
        const rc_token *t0, *t1;
        if ((rc = rc_match_src_tok(c, cl, al.b0, &t0, NULL, err)) != RECITE_OK)
            return rc;
        uint64_t src_start = t0->start;
        if ((rc = rc_match_src_tok(c, cl, al.b1 - 1, &t1, NULL, err)) != RECITE_OK)
            return rc;
        uint64_t src_end = t1->end; /* t1 may not outlive the next token read */
        if (src_end < src_start)    /* a damaged checkpoint or token record */
            return rc_error_set(err, RECITE_EFORMAT,
                                "corrupt index (token offsets out of order in cluster %u)", cl);
        bool ok = true;
        if (chn == RC_CH_PROSE &&
            (rc = rc_view_near_ok(c, cl, qlen, al.b0, slen, &ok, err)) != RECITE_OK)
            return rc;
        if (!ok)
            continue;
        rc_raw_match m = {.cluster = cl,
                          .primary = info.primary,
                          .first = rc_index_member(c->idx, info.member0),
                          .seed = UINT64_MAX,
                          .channel = (uint8_t)chn,
                          .q0 = (uint32_t)al.a0,
                          .len = qlen,
                          .s0 = al.b0,
                          .src_len = (uint32_t)slen,
                          .src_start = src_start,
                          .src_end = src_end,
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
    anchor_vec a = {0}, sorted = {0};
    count_vec cnt = {0};
    top_vec tops = {0};
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
        if (a.n < 2)
            continue;
        if (sort_anchors(a.v, a.n, &sorted, &cnt) != RECITE_OK) {
            rc = rc_error_set(err, RECITE_ENOMEM, "out of memory");
            goto done;
        }
        if ((rc = near_in_cluster(c, chn, cl, sorted.v, sorted.n, &tops, err)) != RECITE_OK)
            goto done;
    }
done:
    RC_VEC_FREE(a);
    RC_VEC_FREE(sorted);
    RC_VEC_FREE(cnt);
    RC_VEC_FREE(tops);
    return rc;
}

/*
 * match_candidates.c — choosing the works to verify. Seeds come from every work sharing a
 * k-gram with the text; verifying a work is what costs (decompression, tokenizing), counting its
 * seeds is cheap. Works with specific language are all verified (up to max_candidates); works
 * sharing only common language are sampled so that every common passage is attributed to a few
 * of them, and the others are counted.
 */
#include "rc_match.h"

#include <stdlib.h>

/* ==== sorting seeds ====
 * The two sorts of every check's seeds, without a comparator call per comparison: by global
 * position (a stable radix sort of the 32-bit positions), and by (cluster in the library's
 * order, channel, diagonal, output position) (a merge sort; every seed has its own key, so any
 * correct sort gives the same order). The library's order of clusters is that of their first
 * works, views after all clusters: one index numbers them so; a sharded index numbers them
 * shard after shard, and verifies them in the library's order all the same, so that the limits
 * of a check cut where one index's do. */

static bool seed_before(const rc_seed *x, const rc_seed *y)
{
    if (x->view != y->view)
        return y->view;
    if (x->first != y->first)
        return x->first < y->first;
    if (x->channel != y->channel)
        return x->channel < y->channel;
    int64_t dx = (int64_t)x->gpos - (int64_t)x->q, dy = (int64_t)y->gpos - (int64_t)y->q;
    if (dx != dy)
        return dx < dy;
    return x->q < y->q;
}

static int sort_by_gpos(rc_matcher *c)
{
    size_t n = c->seeds.n;
    if (n < 2)
        return RECITE_OK;
    if (RC_VEC_RESERVE(c->seeds_tmp, n) != RECITE_OK)
        return RECITE_ENOMEM;
    rc_seed *from = c->seeds.v, *to = c->seeds_tmp.v;
    /* Least significant digit first over the bits the largest position has: digits of 8 bits
     * for the few seeds of most texts (a pass then clears and sums 256 counts, not 2048), of 11
     * bits for many. */
    uint64_t most = 0;
    for (size_t i = 0; i < n; i++)
        most = RC_MAX(most, from[i].gpos);
    unsigned bits = 1, width = n < 4096 ? 8 : 11;
    while (bits < 64 && most >> bits)
        bits++;
    size_t mask = ((size_t)1 << width) - 1;
    for (unsigned shift = 0; shift < bits; shift += width) {
        size_t count[2049];
        memset(count, 0, (mask + 2) * sizeof *count);
        for (size_t i = 0; i < n; i++)
            count[((from[i].gpos >> shift) & mask) + 1]++;
        if (count[1] == n) /* every key has this digit 0 */
            continue;
        for (size_t d = 1; d <= mask + 1; d++)
            count[d] += count[d - 1];
        for (size_t i = 0; i < n; i++)
            to[count[(from[i].gpos >> shift) & mask]++] = from[i];
        rc_seed *t = from;
        from = to;
        to = t;
    }
    if (from != c->seeds.v)
        memcpy(c->seeds.v, from, n * sizeof *from);
    return RECITE_OK;
}

/* Sorts v[0, n) of type T by BEFORE(const T *, const T *), stably, through tmp (n elements):
 * insertion sort of runs of 16, then merges; BEFORE is inlined, where qsort calls a function a
 * comparison. The seeds' sort by diagonal and the candidates' by key. */
#define MERGE_SORT(T, BEFORE, v, tmp, n)                                                           \
    do {                                                                                           \
        T *from_ = (v), *to_ = (tmp);                                                              \
        const size_t n_ = (n), run_ = 16;                                                          \
        for (size_t a = 0; a < n_; a += run_) {                                                    \
            size_t b = RC_MIN(n_, a + run_);                                                       \
            for (size_t i = a + 1; i < b; i++) {                                                   \
                T x = from_[i];                                                                    \
                size_t j = i;                                                                      \
                for (; j > a && BEFORE(&x, &from_[j - 1]); j--)                                    \
                    from_[j] = from_[j - 1];                                                       \
                from_[j] = x;                                                                      \
            }                                                                                      \
        }                                                                                          \
        for (size_t w = run_; w < n_; w *= 2) {                                                    \
            for (size_t a = 0; a < n_; a += 2 * w) {                                               \
                size_t m = RC_MIN(n_, a + w), b = RC_MIN(n_, a + 2 * w), i = a, j = m, k = a;      \
                while (i < m && j < b)                                                             \
                    to_[k++] = BEFORE(&from_[j], &from_[i]) ? from_[j++] : from_[i++];             \
                while (i < m)                                                                      \
                    to_[k++] = from_[i++];                                                         \
                while (j < b)                                                                      \
                    to_[k++] = from_[j++];                                                         \
            }                                                                                      \
            T *t_ = from_;                                                                         \
            from_ = to_;                                                                           \
            to_ = t_;                                                                              \
        }                                                                                          \
        if (from_ != (v))                                                                          \
            memcpy((v), from_, n_ * sizeof *from_);                                                \
    } while (0)

static int sort_by_diag(rc_matcher *c)
{
    size_t n = c->seeds.n;
    if (n < 2)
        return RECITE_OK;
    if (RC_VEC_RESERVE(c->seeds_tmp, n) != RECITE_OK)
        return RECITE_ENOMEM;
    MERGE_SORT(rc_seed, seed_before, c->seeds.v, c->seeds_tmp.v, n);
    return RECITE_OK;
}

/* The order works are chosen in: specific language first, then most seeds, then the library's
 * order (a cluster's first work; a view after its cluster). Every candidate has its own key. */
static rc_cand_key cand_key(const rc_candidate *cd, uint32_t i)
{
    return (rc_cand_key){(uint64_t)!cd->specific << 32 | (uint32_t)~cd->seeds,
                         (uint64_t)cd->rep << 1 | cd->view, i};
}

static bool key_before(const rc_cand_key *x, const rc_cand_key *y)
{
    return x->hi != y->hi ? x->hi < y->hi : x->lo < y->lo;
}

/* Sorts the candidates' keys (c->cand_keys). */
static int sort_keys(rc_matcher *c)
{
    size_t n = c->cand_keys.n;
    if (RC_VEC_RESERVE(c->cand_tmp, n + 1) != RECITE_OK)
        return RECITE_ENOMEM;
    MERGE_SORT(rc_cand_key, key_before, c->cand_keys.v, c->cand_tmp.v, n);
    return RECITE_OK;
}

/* Seeds come from every work sharing a k-gram with the text. Works with a seed of specific
 * language (a k-gram held by fewer texts than the index's common threshold) are all verified,
 * most-seeded first, up to max_candidates. Works sharing only common language (license headers,
 * boilerplate) are sampled: most-seeded first, a work is kept while it covers a position of the
 * text that fewer than `common_sample` kept works cover. So every passage of common language is
 * attributed to a few works holding it and the cost stays bounded; the other works are counted.
 * Verification is what costs (decompression, tokenizing); counting seeds per work is cheap. */
int rc_match_select(rc_matcher *c, recite_error *err)
{
    if (sort_by_gpos(c) != RECITE_OK)
        return rc_error_set(err, RECITE_ENOMEM, "out of memory");
    c->cands.n = 0;
    /* How many kept works cover each k-gram of each stream (words, lexemes). */
    size_t nk[2] = {c->chans[RC_CH_PROSE].kgram_df.n + 1, c->chans[RC_CH_CODE].kgram_df.n + 1};
    for (unsigned t = 0; t < 2; t++) {
        if (RC_VEC_RESERVE(c->cover[t], nk[t]) != RECITE_OK)
            return rc_error_set(err, RECITE_ENOMEM, "out of memory");
        memset(c->cover[t].v, 0, nk[t]);
    }
    uint8_t *cover[2] = {c->cover[0].v, c->cover[1].v};
    rc_cluster info = {0};
    uint32_t cl = UINT32_MAX;
    for (size_t i = 0; i < c->seeds.n; i++) {
        rc_seed *s = &c->seeds.v[i];
        if (c->annotated) { /* a distributed check's: their shards found them */
            if (cl != s->cluster) {
                cl = s->cluster;
                rc_candidate cd = {cl,    s->first, 0,     i,
                                   false, false,    false, cl >= c->idx->nclusters};
                if (RC_VEC_PUSH(c->cands, cd) != RECITE_OK)
                    return rc_error_set(err, RECITE_ENOMEM, "out of memory");
            }
        } else if (cl == UINT32_MAX || s->gpos >= info.token_base + info.ntokens) {
            /* The first seed of a work: its record is checked once here, for every later
             * step that reads it. */
            cl = rc_index_cluster_of_token(c->idx, s->gpos);
            rc_candidate cd = {cl, 0, 0, i, false, false, false, cl >= c->idx->nclusters};
            int rc = rc_index_cluster_check(c->idx, cl, &info, err);
            cd.rep = rc == RECITE_OK ? rc_index_member(c->idx, info.member0) : 0;
            if (rc == RECITE_OK &&
                (s->gpos < info.token_base || s->gpos >= info.token_base + info.ntokens))
                rc = rc_error_set(err, RECITE_EFORMAT,
                                  "corrupt index (clusters do not tile the tokens)");
            if (rc == RECITE_OK && RC_VEC_PUSH(c->cands, cd) != RECITE_OK)
                rc = rc_error_set(err, RECITE_ENOMEM, "out of memory");
            if (rc != RECITE_OK)
                return rc;
        }
        rc_candidate *cd = &c->cands.v[c->cands.n - 1];
        s->cluster = cl;
        s->first = cd->rep;
        s->view = cl >= c->idx->nclusters;
        cd->seeds++;
        cd->exact |= s->exact;
        cd->specific |= s->exact && c->chans[s->channel].kgram_df.v[s->q] != RC_DF_COMMON;
    }
    /* Chosen in the order of their keys; the candidates stay in the order of their seeds. */
    if (RC_VEC_RESERVE(c->cand_keys, c->cands.n + 1) != RECITE_OK)
        return rc_error_set(err, RECITE_ENOMEM, "out of memory");
    for (size_t i = 0; i < c->cands.n; i++)
        c->cand_keys.v[i] = cand_key(&c->cands.v[i], (uint32_t)i);
    c->cand_keys.n = c->cands.n;
    if (sort_keys(c) != RECITE_OK)
        return rc_error_set(err, RECITE_ENOMEM, "out of memory");
    uint32_t specific = 0, sampled = 0;
    for (size_t i = 0; i < c->cands.n; i++) {
        rc_candidate *cd = &c->cands.v[c->cand_keys.v[i].cand];
        if (cd->specific || !cd->exact) {
            /* Specific language; or only near seeds: worth aligning when there are two. */
            if (!cd->specific && cd->seeds < 2)
                continue;
            cd->keep = ++specific <= c->max_candidates;
            c->truncated |= !cd->keep;
            continue;
        }
        cd->keep = c->all_works;
        for (size_t k = cd->first; k < cd->first + cd->seeds && !cd->keep; k++) {
            const rc_seed *sd = &c->seeds.v[k];
            cd->keep = sd->exact && cover[sd->channel != RC_CH_PROSE][sd->q] < c->common_sample;
        }
        if (!cd->keep)
            continue;
        sampled++;
        for (size_t k = cd->first; k < cd->first + cd->seeds; k++) {
            const rc_seed *sd = &c->seeds.v[k];
            uint8_t *cv = &cover[sd->channel != RC_CH_PROSE][sd->q];
            if (sd->exact && *cv < c->common_sample)
                (*cv)++;
        }
    }
    /* Works sharing the common passages beyond those kept: estimated from the longest posting
     * list of a common k-gram (postings of a fingerprint >= works holding it). */
    uint64_t most = 0;
    for (unsigned k = 0; k < RC_CHANNELS; k++)
        most = RC_MAX(most, c->chans[k].common_postings_max);
    if (most > sampled && !c->all_works)
        c->common_others = most - sampled;
    /* Keep the seeds of the chosen works (each work's seeds are a range of the seeds in
     * position order, and cands are in that order now; a view's positions come after its
     * cluster's, so this is not the order of cluster numbers). */
    size_t keep = 0, k = 0;
    for (size_t i = 0; i < c->seeds.n; i++) {
        while (c->cands.v[k].first + c->cands.v[k].seeds <= i)
            k++;
        if (c->cands.v[k].keep)
            c->seeds.v[keep++] = c->seeds.v[i];
    }
    c->seeds.n = keep;
    return sort_by_diag(c) == RECITE_OK ? RECITE_OK
                                        : rc_error_set(err, RECITE_ENOMEM, "out of memory");
}

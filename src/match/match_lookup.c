/*
 * match_lookup.c — the k-gram lookup of an index of several posting tables: a sharded index's
 * shards in order (or one shard opened alone, whose keys keep the library's bits). The seeds are
 * those one index of the whole library gives: every table's postings of a k-gram, and where only
 * the first few are taken (common language, near seeds) the first in the library's order. As in
 * matcher.c's lookup, k-grams go in batches whose directory entries and keys are prefetched, so
 * the cache misses of a batch overlap.
 */
#include "rc_match.h"

#include <stdlib.h>

#define BATCH 16
#define RANK_CACHE 64 /* texts whose first work is remembered while ranking */

/* A posting of one k-gram found in a table, on its way to becoming a seed. */
typedef struct hit {
    uint64_t gpos, rank;
    uint32_t table;
    uint8_t kind; /* HIT_SPECIFIC, HIT_COMMON (exact, common language) or HIT_NEAR */
} hit;
enum { HIT_SPECIFIC, HIT_COMMON, HIT_NEAR };

/* The texts found while ranking, with their place in the library's order: the postings of a
 * passage's k-grams are in the same few texts, k-gram after k-gram. */
typedef struct rank_cache {
    struct {
        uint64_t base, end; /* the text's local tokens in its table */
        uint64_t first;     /* the library's number of its first work, << 32 */
        uint32_t table;
    } e[RANK_CACHE];
    unsigned n, next;
} rank_cache;

typedef struct lookup {
    rc_matcher *c;
    const rc_posting_table *tabs;
    size_t ntab;
    RC_VEC(hit) hits, tmp;
    RC_VEC(uint64_t) ranges; /* per k-gram of the batch and table: first, end */
    rank_cache rc;
} lookup;

/* (the library's first work of the text holding `pos`) << 32 | its token in the text. */
static uint64_t rank_of(lookup *lk, uint32_t table, uint64_t pos)
{
    rank_cache *rc = &lk->rc;
    for (unsigned i = 0; i < rc->n; i++)
        if (rc->e[i].table == table && pos >= rc->e[i].base && pos < rc->e[i].end)
            return rc->e[i].first | (pos - rc->e[i].base);
    const rc_posting_table *t = &lk->tabs[table];
    const recite_index *sh = t->idx, *head = lk->c->idx;
    uint32_t lc = rc_index_cluster_of_token(sh, pos);
    rc_cluster cl;
    if (lc == UINT32_MAX || rc_index_cluster_check(sh, lc, &cl, NULL) != RECITE_OK ||
        pos < cl.token_base || pos >= cl.token_base + cl.ntokens)
        return UINT64_MAX;
    uint32_t rep = rc_index_member(sh, cl.member0);
    uint32_t w = head->nshards ? rc_shards_global_work(head, t->shard, rep) : rep;
    if (w == UINT32_MAX)
        return UINT64_MAX;
    unsigned slot = rc->n < RANK_CACHE ? rc->n++ : rc->next++ % RANK_CACHE;
    rc->e[slot].base = cl.token_base;
    rc->e[slot].end = cl.token_base + cl.ntokens;
    rc->e[slot].first = (uint64_t)w << 32;
    rc->e[slot].table = table;
    return ((uint64_t)w << 32) | (pos - cl.token_base);
}

static int cmp_rank(const void *a, const void *b)
{
    const hit *x = a, *y = b;
    return (x->rank > y->rank) - (x->rank < y->rank);
}

/* Of the hits of `kind`, keeps the `limit` first in the library's order; each table gave at most
 * `limit`, its first (a table's own order is the library's), so only those are ranked, and only
 * when more than one table gave some. The other hits keep their order. */
static int keep_first(lookup *lk, uint8_t kind, uint64_t limit)
{
    hit *h = lk->hits.v;
    size_t n = lk->hits.n, m = 0;
    uint32_t table = UINT32_MAX;
    bool tables = false;
    for (size_t i = 0; i < n; i++) {
        if (h[i].kind != kind)
            continue;
        m++;
        tables |= table != UINT32_MAX && h[i].table != table;
        table = h[i].table;
    }
    if (m <= limit)
        return RECITE_OK;
    if (RC_VEC_RESERVE(lk->tmp, n) != RECITE_OK)
        return RECITE_ENOMEM;
    hit *t = lk->tmp.v;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) /* the kind first, then the others (stable) */
        if (h[i].kind == kind)
            t[k++] = h[i];
    for (size_t i = 0; i < n; i++)
        if (h[i].kind != kind)
            t[k++] = h[i];
    if (tables) {
        for (size_t i = 0; i < m; i++)
            if ((t[i].rank = rank_of(lk, t[i].table, t[i].gpos - lk->tabs[t[i].table].token0)) ==
                UINT64_MAX)
                return RECITE_EFORMAT;
        rc_sort(t, m, sizeof *t, cmp_rank);
    }
    memcpy(h, t, limit * sizeof *h);
    memcpy(h + limit, t + m, (n - m) * sizeof *h);
    lk->hits.n = n - (m - (size_t)limit);
    return RECITE_OK;
}

/* The hits of k-gram q in table ti (its bucket range already found), as matcher.c's lookup
 * takes postings: every exact one, the first RC_COMMON_POSTINGS of common language, the first
 * RC_NEAR_SEEDS others. */
static int scan_table(lookup *lk, unsigned chn, size_t ti, size_t q, uint64_t hash, uint64_t first,
                      uint64_t end, uint8_t *df, uint64_t *postings, unsigned *left,
                      unsigned *right)
{
    rc_matcher *c = lk->c;
    rc_chan *ch = &c->chans[chn];
    const rc_posting_table *tb = &lk->tabs[ti];
    const rc_channel_info *info = tb->info;
    unsigned k = info->kgram, cc = rc_context_len(info->window);
    size_t n = ch->stream->toks.n;
    uint32_t want = rc_posting_key(hash, info->key_bits, 0, 0, 0);
    uint32_t xb = rc_posting_xbits(hash, info->bucket_bits, info->key_bits);
    if (info->xbits && first < end &&
        rc_index_touch(tb->idx, info->xbits + first, end - first, NULL) != RECITE_OK)
        return RECITE_EFORMAT;
    uint64_t taken = 0, near_taken = 0;
    for (uint64_t i = first; i < end; i++) {
        uint32_t key = rc_get_u32(info->key + 4 * i);
        if ((key & RC_KEY_HASH_MASK) != want || (info->xbits && info->xbits[i] != xb))
            continue;
        /* The highest class the k-gram's bits find, in whatever order the tables come. */
        *df = *df == RC_NO_POSTINGS ? (uint8_t)(key & 3u) : RC_MAX(*df, (uint8_t)(key & 3u));
        (*postings)++;
        if (*left == 256) {
            size_t nl = RC_MIN((size_t)cc, q), nr = RC_MIN((size_t)cc, n - q - k);
            *left = rc_chan_context(ch, q - nl, nl);
            *right = rc_chan_context(ch, q + k, nr);
        }
        bool exact = ((key >> 16) & 0xffu) == *left || (key >> 24) == *right;
        uint8_t kind = HIT_SPECIFIC;
        if (!exact) {
            if (!c->near || (key & 3u) == RC_DF_COMMON || near_taken == RC_NEAR_SEEDS)
                continue;
            near_taken++;
            kind = HIT_NEAR;
        } else if ((key & 3u) == RC_DF_COMMON && !c->all_works) {
            if (taken == RC_COMMON_POSTINGS)
                continue;
            taken++;
            kind = HIT_COMMON;
        }
        if (rc_index_touch(tb->idx, info->pos + 4 * i, 4, NULL) != RECITE_OK ||
            rc_get_u32(info->pos + 4 * i) >= tb->idx->ntokens)
            return RECITE_EFORMAT;
        hit h = {tb->token0 + rc_get_u32(info->pos + 4 * i), 0, (uint32_t)ti, kind};
        if (RC_VEC_PUSH(lk->hits, h) != RECITE_OK)
            return RECITE_ENOMEM;
    }
    return RECITE_OK;
}

int rc_match_lookup_shards(rc_matcher *c, unsigned chn, bool final)
{
    rc_chan *ch = &c->chans[chn];
    lookup lk;
    memset(&lk, 0, sizeof lk);
    lk.c = c;
    lk.tabs = c->idx->tables[chn];
    lk.ntab = c->idx->ntables;
    unsigned k = ch->info->kgram, cc = rc_context_len(ch->info->window);
    const rc_token *toks = ch->stream->toks.v;
    size_t n = ch->stream->toks.n;
    size_t last = n >= k ? n - k + 1 : 0;
    if (!final)
        last = n >= k + cc ? n - k - cc + 1 : 0;
    uint64_t base_k1 = 1, poly = 0, hashes[BATCH];
    for (unsigned t = 1; t < k; t++)
        base_k1 *= RC_KGRAM_BASE;
    if (ch->kgram_df.n < last)
        for (unsigned t = 0; t < k; t++)
            poly = poly * RC_KGRAM_BASE + rc_chan_hash(ch, &toks[ch->kgram_df.n + t]);
    unsigned active = 0; /* each channel has its share of max_postings, as in matcher.c */
    for (unsigned k2 = 0; k2 < RC_CHANNELS; k2++)
        active += c->chans[k2].active;
    uint32_t quota = c->max_postings / (active ? active : 1);
    int rc = RC_VEC_RESERVE(lk.ranges, 2 * BATCH * lk.ntab);
    while (rc == RECITE_OK && ch->kgram_df.n < last) {
        size_t q0 = ch->kgram_df.n, nb = RC_MIN((size_t)BATCH, last - q0);
        /* The batch's hashes, then each table's directory entries, then its keys. */
        for (size_t j = 0; j < nb; j++) {
            size_t q = q0 + j;
            hashes[j] = rc_mix64(poly ^ RC_KGRAM_SEED);
            if (q + k < n)
                poly = (poly - rc_chan_hash(ch, &toks[q]) * base_k1) * RC_KGRAM_BASE +
                       rc_chan_hash(ch, &toks[q + k]);
            for (size_t ti = 0; ti < lk.ntab; ti++) {
                const rc_channel_info *info = lk.tabs[ti].info;
                unsigned bits = info->bucket_bits;
                if (info->npostings)
                    __builtin_prefetch(info->dir + 4 * (bits ? hashes[j] >> (64 - bits) : 0));
            }
        }
        for (size_t j = 0; j < nb && rc == RECITE_OK; j++) {
            for (size_t ti = 0; ti < lk.ntab; ti++) {
                const rc_posting_table *tb = &lk.tabs[ti];
                const rc_channel_info *info = tb->info;
                uint64_t *r = &lk.ranges.v[2 * (j * lk.ntab + ti)];
                r[0] = r[1] = 0;
                if (!info->npostings)
                    continue;
                unsigned bits = info->bucket_bits;
                uint64_t bk = bits ? hashes[j] >> (64 - bits) : 0;
                if (rc_index_touch(tb->idx, info->dir + 4 * bk, 8, NULL) != RECITE_OK) {
                    rc = RECITE_EFORMAT;
                    break;
                }
                rc_index_bucket(info, hashes[j], &r[0], &r[1]);
                if (r[0] > r[1] || r[1] > info->npostings ||
                    rc_index_touch(tb->idx, info->key + 4 * r[0], 4 * (r[1] - r[0]), NULL) !=
                        RECITE_OK) {
                    rc = RECITE_EFORMAT;
                    break;
                }
                __builtin_prefetch(info->key + 4 * r[0]);
            }
        }
        for (size_t j = 0; j < nb && rc == RECITE_OK; j++) {
            size_t q = q0 + j;
            uint8_t df = RC_NO_POSTINGS;
            uint64_t postings = 0;
            unsigned left = 256, right = 256;
            lk.hits.n = 0;
            for (size_t ti = 0; ti < lk.ntab && rc == RECITE_OK; ti++) {
                const uint64_t *r = &lk.ranges.v[2 * (j * lk.ntab + ti)];
                if (r[0] < r[1])
                    rc = scan_table(&lk, chn, ti, q, hashes[j], r[0], r[1], &df, &postings, &left,
                                    &right);
            }
            if (rc == RECITE_OK &&
                (rc = keep_first(&lk, HIT_COMMON, RC_COMMON_POSTINGS)) == RECITE_OK)
                rc = keep_first(&lk, HIT_NEAR, RC_NEAR_SEEDS);
            for (size_t i = 0; i < lk.hits.n && rc == RECITE_OK; i++) {
                if (ch->seeds_taken >= quota) {
                    c->truncated = true;
                    break;
                }
                rc_seed sd = {lk.hits.v[i].gpos, (uint32_t)q, 0, (uint8_t)chn,
                              lk.hits.v[i].kind != HIT_NEAR};
                if (RC_VEC_PUSH(c->seeds, sd) != RECITE_OK)
                    rc = RECITE_ENOMEM;
                ch->seeds_taken++;
            }
            if (df == RC_DF_COMMON && postings > ch->common_postings_max)
                ch->common_postings_max = postings;
            /* Common language: its postings over all tables, as one index counts them. */
            uint32_t common =
                df == RC_DF_COMMON ? (uint32_t)RC_MIN(postings, (uint64_t)UINT32_MAX) : 0;
            if (rc == RECITE_OK && (RC_VEC_PUSH(ch->kgram_df, df) != RECITE_OK ||
                                    RC_VEC_PUSH(ch->kgram_common, common) != RECITE_OK))
                rc = RECITE_ENOMEM;
        }
    }
    RC_VEC_FREE(lk.hits);
    RC_VEC_FREE(lk.tmp);
    RC_VEC_FREE(lk.ranges);
    return rc;
}

/*
 * match_lookup.c — the k-gram lookup of an index of several posting tables: a sharded index's
 * shards in order (or one shard opened alone, whose keys keep the library's bits). The seeds are
 * those one index of the whole library gives: every table's postings of a k-gram, and where only
 * the first few are taken (common language, near seeds, the last ones the quota of seeds allows)
 * the first in the library's order. As in matcher.c's lookup, k-grams go in batches whose
 * directory entries and keys are prefetched, so the cache misses of a batch overlap. A
 * distributed check scans its shards' tables here (rc_match_scan) and takes every shard's scans
 * together the same way (rc_match_take_scans).
 */
#include "rc_match.h"

#include <stdlib.h>

#define BATCH 16
#define RANK_CACHE 64 /* texts whose first work is remembered while ranking */

/* A posting of one k-gram found in a table, on its way to becoming a seed. */
typedef struct hit {
    uint64_t gpos, rank;
    uint32_t table;   /* in lk->tabs; the shard when the hits come ranked */
    uint32_t cluster; /* when ranked: the library's number of its cluster */
    uint8_t kind;     /* RC_HIT_SPECIFIC, RC_HIT_COMMON (exact, common language) or RC_HIT_NEAR */
} hit;

/* The texts found while ranking, with their place in the library's order: the postings of a
 * passage's k-grams are in the same few texts, k-gram after k-gram. */
typedef struct rank_cache {
    struct {
        uint64_t base, end; /* the text's local tokens in its table */
        uint64_t first;     /* the library's number of its first work, << 32 */
        uint32_t table, cluster;
    } e[RANK_CACHE];
    unsigned n, next;
} rank_cache;

typedef struct lookup {
    rc_matcher *c;
    const rc_posting_table *tabs;
    size_t ntab;
    bool ranked;        /* the hits come with their ranks and clusters (a distributed check's) */
    bool cut;           /* some of the k-gram's postings may make no seed (rc_chan.kgram_cut) */
    bool unseen[BATCH]; /* per k-gram of the batch: not looked up (code without structure) */
    RC_VEC(hit) hits, tmp;
    RC_VEC(uint64_t) ranges; /* per k-gram of the batch and table: first, end */
    rank_cache rc;
} lookup;

/* (the library's first work of the text holding `pos`) << 32 | its token in the text, and the
 * library's number of that text's cluster in *cluster. */
static uint64_t rank_of(lookup *lk, uint32_t table, uint64_t pos, uint32_t *cluster)
{
    rank_cache *rc = &lk->rc;
    for (unsigned i = 0; i < rc->n; i++)
        if (rc->e[i].table == table && pos >= rc->e[i].base && pos < rc->e[i].end) {
            *cluster = rc->e[i].cluster;
            return rc->e[i].first | (pos - rc->e[i].base);
        }
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
    *cluster = head->nshards ? rc_shard_global_cluster(head, t->shard, lc) : lc;
    unsigned slot = rc->n < RANK_CACHE ? rc->n++ : rc->next++ % RANK_CACHE;
    rc->e[slot].base = cl.token_base;
    rc->e[slot].end = cl.token_base + cl.ntokens;
    rc->e[slot].first = (uint64_t)w << 32;
    rc->e[slot].table = table;
    rc->e[slot].cluster = *cluster;
    return ((uint64_t)w << 32) | (pos - cl.token_base);
}

/* Ranks hits h[0, n) (unless they came ranked). */
static int rank_hits(lookup *lk, hit *h, size_t n)
{
    for (size_t i = 0; !lk->ranked && i < n; i++)
        if ((h[i].rank = rank_of(lk, h[i].table, h[i].gpos - lk->tabs[h[i].table].token0,
                                 &h[i].cluster)) == UINT64_MAX)
            return RECITE_EFORMAT;
    return RECITE_OK;
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
    lk->cut |= kind == RC_HIT_COMMON;
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
        if (rank_hits(lk, t, m) != RECITE_OK)
            return RECITE_EFORMAT;
        rc_sort(t, m, sizeof *t, cmp_rank);
    }
    memcpy(h, t, limit * sizeof *h);
    memcpy(h + limit, t + m, (n - m) * sizeof *h);
    lk->hits.n = n - (m - (size_t)limit);
    return RECITE_OK;
}

/* The quota of seeds ends inside this k-gram's hits: one index takes them in its order, which is
 * the library's (positions by first work), whatever their kind, so the hits that become seeds are
 * the first in that order. Each table's hits are in its own order already: they are ranked only
 * when more than one table gave some. */
static int rank_all(lookup *lk)
{
    hit *h = lk->hits.v;
    bool tables = false;
    for (size_t i = 1; i < lk->hits.n; i++)
        tables |= h[i].table != h[0].table;
    if (!tables)
        return RECITE_OK;
    if (rank_hits(lk, h, lk->hits.n) != RECITE_OK)
        return RECITE_EFORMAT;
    rc_sort(h, lk->hits.n, sizeof *h, cmp_rank);
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
        if (*left == 256)
            rc_chan_contexts(ch, q, left, right);
        bool exact = ((key >> 16) & 0xffu) == *left || (key >> 24) == *right;
        uint8_t kind = RC_HIT_SPECIFIC;
        if (!exact) {
            if (!c->near || (key & 3u) == RC_DF_COMMON || near_taken == RC_NEAR_SEEDS)
                continue;
            near_taken++;
            kind = RC_HIT_NEAR;
        } else if ((key & 3u) == RC_DF_COMMON && !c->all_works) {
            if (taken == RC_COMMON_POSTINGS) {
                lk->cut = true;
                continue;
            }
            taken++;
            kind = RC_HIT_COMMON;
        }
        if (rc_index_touch(tb->idx, info->pos + 4 * i, 4, NULL) != RECITE_OK ||
            rc_get_u32(info->pos + 4 * i) >= tb->idx->ntokens)
            return RECITE_EFORMAT;
        hit h = {tb->token0 + rc_get_u32(info->pos + 4 * i), 0, (uint32_t)ti, 0, kind};
        if (RC_VEC_PUSH(lk->hits, h) != RECITE_OK)
            return RECITE_ENOMEM;
    }
    return RECITE_OK;
}

/* The channel's share of max_postings, as matcher.c's lookup counts it. */
static uint32_t quota_of(const rc_matcher *c)
{
    unsigned active = 0;
    for (unsigned k = 0; k < RC_CHANNELS; k++)
        active += c->chans[k].active;
    return c->max_postings / (active ? active : 1);
}

/* Makes seeds of k-gram q's hits (every table's, in table order) and records its class and
 * postings: the first common and near hits in the library's order, then as many hits as the
 * quota allows, in that order too when it ends among them. */
static int take_kgram(lookup *lk, unsigned chn, size_t q, uint8_t df, uint64_t postings)
{
    rc_matcher *c = lk->c;
    rc_chan *ch = &c->chans[chn];
    uint32_t quota = quota_of(c);
    int rc = keep_first(lk, RC_HIT_COMMON, RC_COMMON_POSTINGS);
    if (rc == RECITE_OK)
        rc = keep_first(lk, RC_HIT_NEAR, RC_NEAR_SEEDS);
    if (rc == RECITE_OK && ch->seeds_taken < quota && lk->hits.n > quota - ch->seeds_taken)
        rc = rank_all(lk);
    for (size_t i = 0; i < lk->hits.n && rc == RECITE_OK; i++) {
        if (ch->seeds_taken >= quota) {
            c->truncated = ch->quota_cut = true;
            break;
        }
        const hit *h = &lk->hits.v[i];
        rc_seed sd = {.gpos = h->gpos,
                      .q = (uint32_t)q,
                      .channel = (uint8_t)chn,
                      .exact = h->kind != RC_HIT_NEAR};
        if (lk->ranked) {
            sd.cluster = h->cluster;
            sd.first = (uint32_t)(h->rank >> 32);
            sd.view = h->cluster >= c->idx->nclusters;
        }
        if (RC_VEC_PUSH(c->seeds, sd) != RECITE_OK)
            rc = RECITE_ENOMEM;
        ch->seeds_taken++;
    }
    if (df == RC_DF_COMMON && postings > ch->common_postings_max)
        ch->common_postings_max = postings;
    /* Common language: its postings over all tables, as one index counts them. */
    uint32_t common = df == RC_DF_COMMON ? (uint32_t)RC_MIN(postings, (uint64_t)UINT32_MAX) : 0;
    /* A distributed check's hits were taken where their shards are, which do not say whether
     * they left some out: every k-gram counts as cut. */
    uint8_t cut = lk->cut || lk->ranked;
    lk->cut = false;
    if (rc == RECITE_OK && (RC_VEC_PUSH(ch->kgram_df, df) != RECITE_OK ||
                            RC_VEC_PUSH(ch->kgram_common, common) != RECITE_OK ||
                            RC_VEC_PUSH(ch->kgram_cut, cut) != RECITE_OK))
        rc = RECITE_ENOMEM;
    return rc;
}

/* The k-grams of a batch: their hashes and, in a code channel, the structural lexemes of the
 * next one (matcher.c's lookup skips the k-grams without one: so does this). */
typedef struct slide {
    uint64_t poly, base_k1;
    unsigned structure;
    bool code;
} slide;

/* Hashes k-grams [q0, q0 + nb) into hashes[] (sliding sl), then finds each one's bucket of
 * postings in each table (lk->ranges; empty for a k-gram skipped), prefetching directories, then
 * keys. */
static int batch_ranges(lookup *lk, const rc_chan *ch, size_t q0, size_t nb, slide *sl,
                        uint64_t *hashes)
{
    unsigned k = ch->info->kgram;
    const rc_token *toks = ch->stream->toks.v;
    size_t n = ch->stream->toks.n;
    bool skip[BATCH];
    for (size_t j = 0; j < nb; j++) {
        size_t q = q0 + j;
        hashes[j] = rc_mix64(sl->poly ^ RC_KGRAM_SEED);
        skip[j] = lk->unseen[j] = sl->code && sl->structure == 0;
        if (q + k < n) {
            sl->poly = (sl->poly - rc_chan_hash(ch, &toks[q]) * sl->base_k1) * RC_KGRAM_BASE +
                       rc_chan_hash(ch, &toks[q + k]);
            if (sl->code)
                sl->structure +=
                    rc_structural(lk->c, &toks[q + k]) - rc_structural(lk->c, &toks[q]);
        }
        for (size_t ti = 0; ti < lk->ntab && !skip[j]; ti++) {
            const rc_channel_info *info = lk->tabs[ti].info;
            unsigned bits = info->bucket_bits;
            if (info->npostings)
                __builtin_prefetch(info->dir + 4 * (bits ? hashes[j] >> (64 - bits) : 0));
        }
    }
    for (size_t j = 0; j < nb; j++) {
        for (size_t ti = 0; ti < lk->ntab; ti++) {
            const rc_posting_table *tb = &lk->tabs[ti];
            const rc_channel_info *info = tb->info;
            uint64_t *r = &lk->ranges.v[2 * (j * lk->ntab + ti)];
            r[0] = r[1] = 0;
            if (!info->npostings || skip[j])
                continue;
            unsigned bits = info->bucket_bits;
            uint64_t bk = bits ? hashes[j] >> (64 - bits) : 0;
            if (rc_index_touch(tb->idx, info->dir + 4 * bk, 8, NULL) != RECITE_OK)
                return RECITE_EFORMAT;
            rc_index_bucket(info, hashes[j], &r[0], &r[1]);
            if (r[0] > r[1] || r[1] > info->npostings ||
                rc_index_touch(tb->idx, info->key + 4 * r[0], 4 * (r[1] - r[0]), NULL) != RECITE_OK)
                return RECITE_EFORMAT;
            __builtin_prefetch(info->key + 4 * r[0]);
        }
    }
    return RECITE_OK;
}

/* The k-grams to look up from `from` on (all of them when final; else those whose right
 * context is complete), and the slide's start: the polynomial of the first, RC_KGRAM_BASE^(k-1)
 * and (a code channel) the first one's structural lexemes. */
static size_t kgrams_from(const rc_matcher *c, const rc_chan *ch, size_t from, bool final,
                          slide *sl)
{
    unsigned k = ch->info->kgram, cc = rc_context_len(ch->info->window);
    const rc_token *toks = ch->stream->toks.v;
    size_t n = ch->stream->toks.n;
    size_t last = n >= k ? n - k + 1 : 0;
    if (!final)
        last = n >= k + cc ? n - k - cc + 1 : 0;
    *sl = (slide){0, 1, 0, ch != &c->chans[RC_CH_PROSE]};
    for (unsigned t = 1; t < k; t++)
        sl->base_k1 *= RC_KGRAM_BASE;
    for (unsigned t = 0; from < last && t < k; t++) {
        sl->poly = sl->poly * RC_KGRAM_BASE + rc_chan_hash(ch, &toks[from + t]);
        sl->structure += sl->code ? rc_structural(c, &toks[from + t]) : 0;
    }
    return last;
}

static void lookup_init(lookup *lk, rc_matcher *c, unsigned chn)
{
    memset(lk, 0, sizeof *lk);
    lk->c = c;
    lk->tabs = c->idx->tables[chn];
    lk->ntab = c->idx->ntables;
}

static void lookup_free(lookup *lk)
{
    RC_VEC_FREE(lk->hits);
    RC_VEC_FREE(lk->tmp);
    RC_VEC_FREE(lk->ranges);
}

/* The memo entry of k-gram j of the batch (k-gram q of the text), when its buckets hold
 * RC_MEMO_MIN_POSTINGS postings or more over all tables (its contexts then computed into *left
 * and *right); NULL for others. As matcher.c's lookup: a repetitive text checked against a
 * repetitive work scanned every posting of the repeated k-gram for every k-gram of the text. */
static rc_lookup_memo *memo_of(const lookup *lk, rc_chan *ch, size_t j, size_t q, uint64_t hash,
                               unsigned *left, unsigned *right)
{
    if (lk->c->lookup_every_posting || lk->unseen[j])
        return NULL;
    uint64_t total = 0;
    for (size_t ti = 0; ti < lk->ntab; ti++) {
        const uint64_t *r = &lk->ranges.v[2 * (j * lk->ntab + ti)];
        total += r[1] - r[0];
    }
    if (total < RC_MEMO_MIN_POSTINGS)
        return NULL;
    rc_chan_contexts(ch, q, left, right);
    return rc_chan_memo(ch, hash, *left, *right);
}

/* Whether the memo entry tells k-gram's lookup (same hash and contexts: memo_of) without a
 * scan: made in this check, and its hits can make no seed now (there were none, or the
 * channel's quota is spent: the check is then truncated, as take_kgram would say). */
static bool memo_answers(rc_matcher *c, rc_chan *ch, const rc_lookup_memo *m, uint64_t hash,
                         unsigned left, unsigned right)
{
    if (m->gen != ch->memo_gen || m->hash != hash || m->left != left || m->right != right ||
        (m->eligible && ch->seeds_taken < quota_of(c)))
        return false;
    if (m->eligible)
        c->truncated = ch->quota_cut = true;
    c->lookup_memo_hits++;
    return true;
}

int rc_match_lookup_shards(rc_matcher *c, unsigned chn, bool final)
{
    rc_chan *ch = &c->chans[chn];
    lookup lk;
    lookup_init(&lk, c, chn);
    uint64_t hashes[BATCH];
    slide sl;
    size_t last = kgrams_from(c, ch, ch->kgram_df.n, final, &sl);
    int rc = RC_VEC_RESERVE(lk.ranges, 2 * BATCH * lk.ntab);
    while (rc == RECITE_OK && ch->kgram_df.n < last) {
        size_t q0 = ch->kgram_df.n, nb = RC_MIN((size_t)BATCH, last - q0);
        rc = batch_ranges(&lk, ch, q0, nb, &sl, hashes);
        for (size_t j = 0; j < nb && rc == RECITE_OK; j++) {
            size_t q = q0 + j;
            uint8_t df = RC_NO_POSTINGS;
            uint64_t postings = 0;
            unsigned left = 256, right = 256;
            lk.hits.n = 0;
            rc_lookup_memo *memo = memo_of(&lk, ch, j, q, hashes[j], &left, &right);
            if (memo && memo_answers(c, ch, memo, hashes[j], left, right)) {
                df = memo->df;
                postings = memo->postings;
                lk.cut = memo->cut;
                memo = NULL;
            } else {
                for (size_t ti = 0; ti < lk.ntab && rc == RECITE_OK; ti++) {
                    const uint64_t *r = &lk.ranges.v[2 * (j * lk.ntab + ti)];
                    if (r[0] < r[1])
                        rc = scan_table(&lk, chn, ti, q, hashes[j], r[0], r[1], &df, &postings,
                                        &left, &right);
                }
                lk.cut |= lk.unseen[j];
            }
            if (memo) /* eligible: some hit could make a seed (taken, or cut by the quota) */
                *memo = (rc_lookup_memo){hashes[j],      postings, ch->memo_gen, (uint8_t)left,
                                         (uint8_t)right, df,       lk.cut,       lk.hits.n > 0};
            if (rc == RECITE_OK)
                rc = take_kgram(&lk, chn, q, df, postings);
        }
    }
    lookup_free(&lk);
    return rc;
}

/* ==== a distributed check ==== */

/* What a table gave for a k-gram of many postings once the takers' quota is surely spent
 * (rc_match_scan): its class and postings, and its first hit, all that is sent then. */
typedef struct scan_memo {
    uint64_t key, postings; /* key: the k-gram's hash and the table; 0: empty */
    rc_scan_hit hit;
    uint8_t left, right, df;
    bool has_hit;
} scan_memo;

/* Each participant scans its own tables and every participant takes all their hits
 * (rc_match_take_scans), at most the channel's quota of them as seeds, first in the library's
 * order. Two bounds keep what is sent (and scanned) in proportion to the text, where a
 * repetitive text checked against a repetitive work sent every posting of its repeated k-gram
 * for each of its k-grams (40 KB of text against a 1 MB work: 23 GB, then a failed exchange):
 *  - a table's hits of one k-gram are cut to its first quota + RC_COMMON_POSTINGS +
 *    RC_NEAR_SEEDS: a hit that becomes a seed has fewer of its table's hits before it (the
 *    seeds before it, under the quota, and at most the common and near hits its table gave,
 *    which the takers may drop);
 *  - `sure` counts seeds the takers make of this participant's hits whatever the others send
 *    (specific hits, common and near ones up to what take_kgram keeps). Once it reaches the
 *    quota, the quota is spent before any later k-gram: only its class, postings and whether it
 *    has hits matter (the check is truncated if so), so one hit is sent, and a k-gram of many
 *    postings met again with the same contexts is answered by a memo without a scan. */
int rc_match_scan(rc_matcher *c, unsigned chn, rc_scan_emit emit, void *user)
{
    rc_chan *ch = &c->chans[chn];
    lookup lk;
    lookup_init(&lk, c, chn);
    uint64_t hashes[BATCH];
    slide sl;
    size_t last = kgrams_from(c, ch, 0, true, &sl);
    RC_VEC(rc_scan_hit) out = {0};
    uint32_t quota = quota_of(c);
    uint64_t cap = (uint64_t)quota + RC_COMMON_POSTINGS + RC_NEAR_SEEDS, sure = 0;
    scan_memo *memo = calloc(RC_MEMO_SIZE, sizeof *memo);
    int rc = memo ? RC_VEC_RESERVE(lk.ranges, 2 * BATCH * lk.ntab) : RECITE_ENOMEM;
    for (size_t q0 = 0; rc == RECITE_OK && q0 < last; q0 += BATCH) {
        size_t nb = RC_MIN((size_t)BATCH, last - q0);
        rc = batch_ranges(&lk, ch, q0, nb, &sl, hashes);
        for (size_t j = 0; j < nb && rc == RECITE_OK; j++) {
            size_t q = q0 + j;
            unsigned left = 256, right = 256;
            bool spent = sure >= quota;
            uint64_t specific = 0, common = 0, near = 0;
            for (size_t ti = 0; ti < lk.ntab && rc == RECITE_OK; ti++) {
                const uint64_t *r = &lk.ranges.v[2 * (j * lk.ntab + ti)];
                uint8_t df = RC_NO_POSTINGS;
                uint64_t postings = 0;
                lk.hits.n = 0;
                scan_memo *m = NULL;
                if (spent && r[1] - r[0] >= RC_MEMO_MIN_POSTINGS && !c->lookup_every_posting) {
                    if (left == 256)
                        rc_chan_contexts(ch, q, &left, &right);
                    uint64_t key = (hashes[j] + ti * 0x9e3779b97f4a7c15ull) | 1;
                    m = &memo[rc_mix64(key ^ (left << 8 | right)) & (RC_MEMO_SIZE - 1)];
                    if (m->key == key && m->left == left && m->right == right) {
                        c->lookup_memo_hits++;
                        rc_scan_rec rec = {(uint8_t)chn, m->df,      (uint32_t)q, lk.tabs[ti].shard,
                                           m->postings,  m->has_hit, &m->hit};
                        rc = emit(user, &rec);
                        continue;
                    }
                    *m = (scan_memo){.key = key, .left = (uint8_t)left, .right = (uint8_t)right};
                }
                if (r[0] < r[1])
                    rc = scan_table(&lk, chn, ti, q, hashes[j], r[0], r[1], &df, &postings, &left,
                                    &right);
                if (rc != RECITE_OK || postings == 0) {
                    if (m) /* no scan or no posting: not kept */
                        m->key = 0;
                    continue;
                }
                /* Every hit ranked here, where its shard is: the others cannot. */
                size_t nh = RC_MIN((uint64_t)lk.hits.n, spent ? 1 : cap);
                if ((rc = rank_hits(&lk, lk.hits.v, nh)) != RECITE_OK ||
                    (rc = RC_VEC_RESERVE(out, nh + 1)) != RECITE_OK)
                    break;
                for (size_t i = 0; i < nh; i++) {
                    const hit *h = &lk.hits.v[i];
                    out.v[i] = (rc_scan_hit){h->gpos, h->rank, h->cluster, h->kind};
                    specific += h->kind == RC_HIT_SPECIFIC;
                    common += h->kind == RC_HIT_COMMON;
                    near += h->kind == RC_HIT_NEAR;
                }
                if (m) {
                    m->df = df;
                    m->postings = postings;
                    m->has_hit = nh > 0;
                    if (nh)
                        m->hit = out.v[0];
                }
                rc_scan_rec rec = {(uint8_t)chn, df,           (uint32_t)q, lk.tabs[ti].shard,
                                   postings,     (uint32_t)nh, out.v};
                rc = emit(user, &rec);
            }
            sure += specific + RC_MIN(common, (uint64_t)RC_COMMON_POSTINGS) +
                    RC_MIN(near, (uint64_t)RC_NEAR_SEEDS);
        }
    }
    free(memo);
    RC_VEC_FREE(out);
    lookup_free(&lk);
    return rc;
}

int rc_match_take_scans(rc_matcher *c, unsigned chn, const rc_scan_rec *recs, size_t n)
{
    rc_chan *ch = &c->chans[chn];
    lookup lk;
    lookup_init(&lk, c, chn);
    lk.ranked = true;
    slide sl;
    size_t last = kgrams_from(c, ch, ch->kgram_df.n, true, &sl), r = 0;
    int rc = RECITE_OK;
    for (size_t q = ch->kgram_df.n; rc == RECITE_OK && q < last; q++) {
        uint8_t df = RC_NO_POSTINGS;
        uint64_t postings = 0;
        lk.hits.n = 0;
        for (; rc == RECITE_OK && r < n && recs[r].q == q; r++) {
            const rc_scan_rec *s = &recs[r];
            if (s->df != RC_NO_POSTINGS)
                df = df == RC_NO_POSTINGS ? s->df : RC_MAX(df, s->df);
            postings += s->postings;
            if (RC_VEC_RESERVE(lk.hits, lk.hits.n + s->nhits + 1) != RECITE_OK) {
                rc = RECITE_ENOMEM;
                break;
            }
            for (uint32_t i = 0; i < s->nhits; i++) {
                const rc_scan_hit *h = &s->hits[i];
                if (h->gpos >= c->idx->ntokens || h->kind > RC_HIT_NEAR)
                    rc = RECITE_EFORMAT;
                lk.hits.v[lk.hits.n++] = (hit){h->gpos, h->rank, s->shard, h->cluster, h->kind};
            }
        }
        if (rc == RECITE_OK)
            rc = take_kgram(&lk, chn, q, df, postings);
    }
    if (rc == RECITE_OK && r < n) /* records of k-grams the text does not have, or unsorted */
        rc = RECITE_EFORMAT;
    lookup_free(&lk);
    return rc;
}

/*
 * index_filter.c — a filter of each channel's posting keys: text with nothing in common with the
 * library spends most of its check looking up k-grams the index does not hold, and each lookup
 * is two dependent reads far apart in the mapped file (the bucket's directory entry, then its
 * keys), both cache misses. The filter answers "surely absent" for most of those with one read
 * of one cache line: a blocked Bloom filter over what a lookup compares (the bucket and the
 * 14-bit remainder of the k-gram's hash), so it has no false negatives by construction, and a
 * lookup it lets through is the same scan as before: it changes no result.
 *
 * It costs one pass over the channel's keys and two or three bytes a posting, so it is made only
 * once the index has answered enough lookups to pay for it (a check of one small file never
 * does): by the thread whose lookup crosses the mark, while the others go on without it. Like
 * the page bits and the spare reader, it is a cache of what the immutable index says.
 */
#include "rc_index.h"

#include <stdlib.h>

/* Lookups of a channel before its filter is made: a quarter of its postings, and at least
 * FILTER_MIN_LOOKUPS. Making it costs about 10 ns a posting; it saves 50-70 ns a lookup of
 * text without matches on the 50 MB bench library (more on one whose postings do not stay in
 * the cache), so by then it would have paid for itself: what a rent-or-buy rule asks. */
#define FILTER_MIN_LOOKUPS 4096u
/* Not made for a channel with more postings than this (under 1 GiB of filter). */
#define FILTER_MAX_POSTINGS (1ull << 28)

enum { FILTER_NONE = 0, FILTER_MAKING = 1, FILTER_DONE = 2 };

#define FILTER_AHEAD 16 /* a power of two */

static inline void set_bits(rc_kfilter *f, uint64_t g)
{
    uint64_t *w = (uint64_t *)(uintptr_t)rc_kfilter_block(f, g), s = rc_kfilter_slices(g);
    for (unsigned i = 0; i < 4; i++)
        w[RC_KFILTER_WORD(s, i)] |= 1ULL << RC_KFILTER_SHIFT(s, i);
}

/* The filter of channel chn's keys, or NULL (ENOMEM or a damaged directory: lookups then go
 * on without it and meet the damage themselves). */
static rc_kfilter *make(const recite_index *idx, unsigned chn)
{
    const rc_channel_info *ch = &idx->ch[chn];
    uint64_t nb = ch->bucket_bits ? 1ULL << ch->bucket_bits : 1;
    if (!ch->npostings || ch->npostings > FILTER_MAX_POSTINGS || ch->xbits ||
        rc_index_touch(idx, ch->dir, 4 * (nb + 1), NULL) != RECITE_OK ||
        rc_index_touch(idx, ch->key, 4 * ch->npostings, NULL) != RECITE_OK)
        return NULL;
    /* 2^bits blocks of 512 bits: 20 to 40 postings a block, 13 to 26 bits a posting, 4 bits
     * set by each: under 1 % false "may" (0.1 to 0.6 %). */
    unsigned bits = 0;
    while (bits < 40 && (ch->npostings >> bits) > 40)
        bits++;
    rc_kfilter *f = malloc(sizeof *f);
    if (!f)
        return NULL;
    f->bits = bits;
    if (posix_memalign((void **)&f->words, 64, (size_t)64 << bits) != 0) {
        free(f);
        return NULL;
    }
    memset(f->words, 0, (size_t)64 << bits);
    /* Postings in bucket order, blocks at random: each block is fetched FILTER_AHEAD postings
     * before its bits are set (a ring of the hashes in between). */
    uint64_t ring[FILTER_AHEAD];
    uint64_t n = 0;
    for (uint64_t b = 0; b < nb; b++) {
        uint64_t first = rc_get_u32(ch->dir + 4 * b), end = rc_get_u32(ch->dir + 4 * (b + 1));
        if (first > end || end > ch->npostings) {
            rc_kfilter_free(f);
            return NULL;
        }
        for (uint64_t i = first; i < end; i++, n++) {
            uint64_t g = rc_kfilter_hash(b, rc_get_u32(ch->key + 4 * i) & RC_KEY_HASH_MASK);
            __builtin_prefetch(rc_kfilter_block(f, g), 1);
            if (n >= FILTER_AHEAD)
                set_bits(f, ring[n & (FILTER_AHEAD - 1)]);
            ring[n & (FILTER_AHEAD - 1)] = g;
        }
    }
    for (uint64_t k = n > FILTER_AHEAD ? n - FILTER_AHEAD : 0; k < n; k++)
        set_bits(f, ring[k & (FILTER_AHEAD - 1)]);
    return f;
}

int rc_index_filter_make(const recite_index *idx, unsigned chn)
{
    recite_index *mut = (recite_index *)(uintptr_t)idx; /* allocated, never const-defined */
    int none = FILTER_NONE;
    if (!atomic_compare_exchange_strong(&mut->filter_state[chn], &none, FILTER_MAKING))
        return atomic_load(&mut->filter[chn]) ? RECITE_OK : RECITE_ENOMEM;
    rc_kfilter *f = make(idx, chn);
    atomic_store_explicit(&mut->filter[chn], f, memory_order_release);
    atomic_store(&mut->filter_state[chn], FILTER_DONE);
    return f ? RECITE_OK : RECITE_ENOMEM;
}

const rc_kfilter *rc_index_filter(const recite_index *idx, unsigned chn, uint64_t lookups)
{
    recite_index *mut = (recite_index *)(uintptr_t)idx;
    rc_kfilter *f = atomic_load_explicit(&mut->filter[chn], memory_order_acquire);
    if (f || atomic_load_explicit(&mut->filter_state[chn], memory_order_relaxed) != FILTER_NONE)
        return f;
    uint64_t mark = RC_MAX((uint64_t)FILTER_MIN_LOOKUPS, idx->ch[chn].npostings / 4);
    uint64_t before =
        atomic_fetch_add_explicit(&mut->filter_lookups[chn], lookups, memory_order_relaxed);
    if (before + lookups < mark)
        return NULL;
    rc_index_filter_make(idx, chn);
    return atomic_load_explicit(&mut->filter[chn], memory_order_acquire);
}

void recite_index_prepare(const recite_index *idx)
{
    /* A sharded index's lookups scan its shards' tables (the general lookup): no filters. */
    for (const recite_index *ix = idx; ix && !ix->nshards; ix = ix == idx ? ix->licenses : NULL)
        for (unsigned c = 0; c < RC_CHANNELS; c++)
            if (ix->ch[c].npostings)
                rc_index_filter_make(ix, c);
}

void rc_kfilter_free(rc_kfilter *f)
{
    if (f)
        free(f->words);
    free(f);
}

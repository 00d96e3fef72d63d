/*
 * store.c — the stored text of a loaded index: zstd blocks decompressed on demand through a
 * per-thread reader with a cache of decoded blocks, byte ranges of a work's text, and chunks:
 * the tokens between two checkpoints of a stored text (tokenized again, or decoded from the
 * token records of a text-free index), cached, which the matcher extends seeds against.
 */
#include "rc_index.h"

#include <stdlib.h>

int rc_store_reader_init(rc_store_reader *r, const recite_index *idx)
{
    memset(r, 0, sizeof *r);
    r->idx = idx;
    r->block_sets = RC_BLOCK_CACHE / RC_BLOCK_WAYS;
    r->chunk_sets = RC_CHUNK_CACHE / RC_CHUNK_WAYS;
    r->dctx = ZSTD_createDCtx();
    return r->dctx ? RECITE_OK : RECITE_ENOMEM;
}

void rc_store_reader_free(rc_store_reader *r)
{
    if (!r)
        return;
    for (uint32_t s = 0; r->sharded && s < r->idx->nshards; s++) {
        rc_store_reader_free(r->sharded[s]);
        free(r->sharded[s]);
    }
    free(r->sharded);
    for (unsigned i = 0; i < RC_BLOCK_CACHE; i++)
        free(r->cache[i].data);
    for (unsigned i = 0; r->chunks && i < RC_CHUNK_CACHE; i++)
        free(r->chunks[i]);
    free(r->chunks);
    RC_VEC_FREE(r->scratch);
    ZSTD_freeDCtx(r->dctx);
    memset(r, 0, sizeof *r);
}

/* The spare readers are a stack in slots [0, RC_SPARE_READERS): taken from the last slot in use
 * and given back to the first free one, so a thread gets back the reader it gave back last
 * (warm with the blocks of its last check) unless others came in between. */
rc_store_reader *rc_store_reader_get(const recite_index *idx)
{
    /* The mutable fields of an open index (allocated, never const-defined). */
    recite_index *mut = (recite_index *)(uintptr_t)idx;
    rc_store_reader *r = NULL;
    for (int i = RC_SPARE_READERS - 1; i >= 0 && !r; i--)
        if (atomic_load_explicit(&mut->spare_readers[i], memory_order_relaxed))
            r = atomic_exchange(&mut->spare_readers[i], NULL);
    if (r)
        return r;
    if (!(r = malloc(sizeof *r)))
        return NULL;
    if (rc_store_reader_init(r, idx) != RECITE_OK) {
        free(r);
        return NULL;
    }
    return r;
}

void rc_store_reader_put(const recite_index *idx, rc_store_reader *r)
{
    if (!r)
        return;
    recite_index *mut = (recite_index *)(uintptr_t)idx;
    for (int i = 0; i < RC_SPARE_READERS; i++) {
        rc_store_reader *none = NULL;
        if (atomic_compare_exchange_strong(&mut->spare_readers[i], &none, r))
            return;
    }
    rc_store_reader_free(r);
    free(r);
}

/* Frees a reader's cached blocks and chunks (its shards' too), keeping its contexts. */
static void reader_clear(rc_store_reader *r)
{
    for (uint32_t s = 0; r->sharded && s < r->idx->nshards; s++)
        if (r->sharded[s])
            reader_clear(r->sharded[s]);
    for (unsigned i = 0; i < RC_BLOCK_CACHE; i++) {
        free(r->cache[i].data);
        r->cache[i].data = NULL;
        r->cache[i].block = 0;
        r->cache[i].len = 0;
    }
    for (unsigned i = 0; r->chunks && i < RC_CHUNK_CACHE; i++)
        free(r->chunks[i]);
    free(r->chunks);
    r->chunks = NULL;
    RC_VEC_FREE(r->scratch);
}

void rc_store_spare_clear(const recite_index *idx)
{
    recite_index *mut = (recite_index *)(uintptr_t)idx;
    for (int i = 0; i < RC_SPARE_READERS; i++) {
        rc_store_reader *r = atomic_exchange(&mut->spare_readers[i], NULL);
        if (r) {
            reader_clear(r);
            rc_store_reader_put(idx, r);
        }
    }
}

/* A sharded index: the reader of shard s (made on first use), whose chunks are keyed by the
 * library's cluster numbers. NULL when out of memory. */
static rc_store_reader *shard_reader(rc_store_reader *r, uint32_t s)
{
    if (!r->sharded && !(r->sharded = calloc(r->idx->nshards, sizeof *r->sharded)))
        return NULL;
    if (!r->sharded[s]) {
        rc_store_reader *sub = malloc(sizeof *sub);
        if (!sub || rc_store_reader_init(sub, r->idx->shards[s].idx) != RECITE_OK) {
            free(sub);
            return NULL;
        }
        r->sharded[s] = sub;
    }
    return r->sharded[s];
}

/* The block holding stored byte `off`; UINT64_MAX when the table fails its checksums. */
static uint64_t block_of(const recite_index *idx, uint64_t off)
{
    const uint8_t *tb = idx->sec[RC_SEC_TEXT_BLOCKS].data;
    uint64_t lo = 0, hi = idx->nblocks;
    while (hi - lo > 1) {
        uint64_t mid = lo + (hi - lo) / 2;
        if (rc_index_touch(idx, tb + 16 * mid, 8, NULL) != RECITE_OK)
            return UINT64_MAX;
        if (rc_get_u64(tb + 16 * mid) <= off)
            lo = mid;
        else
            hi = mid;
    }
    return lo;
}

/* Decoded block b, from the cache or decompressed into it. */
static int get_block(rc_store_reader *r, uint64_t b, const uint8_t **data, size_t *len,
                     recite_error *err)
{
    const recite_index *idx = r->idx;
    if (b >= idx->nblocks)
        return rc_error_set(err, RECITE_EFORMAT, "corrupt index (text block table)");
    /* Its set (consecutive blocks in consecutive sets), most recently used first. */
    struct rc_block_slot *set = r->cache + (b & (r->block_sets - 1)) * RC_BLOCK_WAYS, slot;
    for (unsigned w = 0; w < RC_BLOCK_WAYS; w++)
        if (set[w].block == b + 1) {
            slot = set[w];
            memmove(set + 1, set, w * sizeof *set);
            set[0] = slot;
            r->hits++;
            *data = slot.data;
            *len = slot.len;
            return RECITE_OK;
        }
    r->misses++;
    const uint8_t *tb = idx->sec[RC_SEC_TEXT_BLOCKS].data;
    int rc = rc_index_touch(idx, tb + 16 * b, 32, err);
    if (rc != RECITE_OK)
        return rc;
    uint64_t r0 = rc_get_u64(tb + 16 * b), r1 = rc_get_u64(tb + 16 * (b + 1));
    uint64_t c0 = rc_get_u64(tb + 16 * b + 8), c1 = rc_get_u64(tb + 16 * b + 24);
    if (r1 <= r0 || r1 - r0 > idx->block_size || c1 <= c0 || c1 > idx->sec[RC_SEC_TEXT_DATA].len)
        return rc_error_set(err, RECITE_EFORMAT, "corrupt index (text block %llu)",
                            (unsigned long long)b);
    uint64_t raw = r1 - r0;
    /* The least recently used slot is refilled (its buffer kept), first in its set. */
    slot = set[RC_BLOCK_WAYS - 1];
    if (!slot.data && !(slot.data = malloc(idx->block_size)))
        return rc_error_set(err, RECITE_ENOMEM, "out of memory");
    memmove(set + 1, set, (RC_BLOCK_WAYS - 1) * sizeof *set);
    set[0] = (struct rc_block_slot){0, slot.data, 0};
    const uint8_t *src = idx->sec[RC_SEC_TEXT_DATA].data + c0;
    if ((rc = rc_index_touch(idx, src, (size_t)(c1 - c0), err)) != RECITE_OK)
        return rc;
    const ZSTD_DDict *dd;
    if ((rc = rc_index_ddict(idx, &dd, err)) != RECITE_OK)
        return rc;
    size_t got =
        dd ? ZSTD_decompress_usingDDict(r->dctx, slot.data, idx->block_size, src, c1 - c0, dd)
           : ZSTD_decompressDCtx(r->dctx, slot.data, idx->block_size, src, c1 - c0);
    if (ZSTD_isError(got) || got != raw)
        return rc_error_set(err, RECITE_EFORMAT, "corrupt index (text block %llu: %s)",
                            (unsigned long long)b,
                            ZSTD_isError(got) ? ZSTD_getErrorName(got) : "wrong length");
    set[0].block = b + 1;
    set[0].len = got;
    *data = slot.data;
    *len = got;
    return RECITE_OK;
}

int rc_store_read(rc_store_reader *r, uint64_t start, uint64_t end, uint8_t *out, recite_error *err)
{
    const recite_index *idx = r->idx;
    if (idx->nshards && start < end) { /* a read never spans two texts, nor two shards */
        uint32_t s = rc_shard_of_text(idx, start);
        if (!idx->shards[s].idx)
            return rc_error_set(err, RECITE_EINVAL, "shard %u is not open here", s);
        rc_store_reader *sub = shard_reader(r, s);
        uint64_t base = idx->shards[s].text0;
        if (!sub)
            return rc_error_set(err, RECITE_ENOMEM, "out of memory");
        return rc_store_read(sub, start - base, end - base, out, err);
    }
    const uint8_t *tb = idx->sec[RC_SEC_TEXT_BLOCKS].data;
    if (end > idx->text_bytes || start > end)
        return rc_error_set(err, RECITE_EINVAL, "text range out of bounds");
    uint64_t off = start;
    while (off < end) {
        uint64_t b = block_of(idx, off);
        const uint8_t *data = NULL;
        size_t len = 0;
        int rc = get_block(r, b, &data, &len, err);
        if (rc != RECITE_OK)
            return rc;
        uint64_t base = rc_get_u64(tb + 16 * b);
        if (off < base || off >= base + len)
            return rc_error_set(err, RECITE_EFORMAT, "corrupt index (text block %llu)",
                                (unsigned long long)b);
        uint64_t n = RC_MIN(end, base + len) - off;
        memcpy(out + (off - start), data + (off - base), n);
        off += n;
    }
    return RECITE_OK;
}

int recite_index_work_text(char **out, size_t *len, const recite_index *idx, uint32_t work,
                           uint64_t start, uint64_t end, recite_error *err)
{
    *out = NULL;
    *len = 0;
    if (idx->text_free)
        return rc_error_set(err, RECITE_ENOTEXT,
                            "the index is text-free: it stores no text of its works");
    if (work >= idx->nworks)
        return rc_error_set(err, RECITE_EINVAL, "no work %u in this index", work);
    uint32_t s, lw;
    if (idx->nshards) {
        if (rc_shards_work(idx, work, &s, &lw) != RECITE_OK)
            return rc_error_set(err, RECITE_EFORMAT, "corrupt index (work map)");
        if (!idx->shards[s].idx)
            return rc_error_set(err, RECITE_EINVAL, "work %u is in shard %u, not open here", work,
                                s);
        return recite_index_work_text(out, len, idx->shards[s].idx, lw, start, end, err);
    }
    rc_cluster cl;
    int rc = rc_index_cluster_check(idx, rc_index_work_cluster(idx, work), &cl, err);
    if (rc != RECITE_OK)
        return rc;
    if (start > end || end > cl.text_len)
        return rc_error_set(err, RECITE_EINVAL, "byte range %llu-%llu outside the work",
                            (unsigned long long)start, (unsigned long long)end);
    char *buf = malloc(end - start + 1);
    if (!buf)
        return rc_error_set(err, RECITE_ENOMEM, "out of memory");
    rc_store_reader *r = rc_store_reader_get(idx);
    rc = r ? rc_store_read(r, cl.text_offset + start, cl.text_offset + end, (uint8_t *)buf, err)
           : RECITE_ENOMEM;
    rc_store_reader_put(idx, r);
    if (rc != RECITE_OK) {
        free(buf);
        return rc == RECITE_ENOMEM ? rc_error_set(err, rc, "out of memory") : rc;
    }
    buf[end - start] = 0;
    *out = buf;
    *len = end - start;
    return RECITE_OK;
}

/* ==== tokens of a stored text, a chunk at a time ==== */

/* Makes the chunk from the stored bytes from checkpoint `chunk` on: `need` tokens. The bytes
 * are read a little past the chunk's end (the tokenizer looks ahead to know a token is
 * complete), more when a token needs it. */
static int tokenize_chunk(rc_store_reader *r, rc_tokenizer *tz, uint32_t cluster,
                          const rc_cluster *cl, uint64_t byte0, uint64_t byte_end, uint32_t need,
                          rc_chunk *ch, recite_error *err)
{
    int rc;
    uint64_t have = RC_MIN(cl->text_len, byte_end + 64);
    rc_tok_state st = {0, byte0 == 0};
    ch->n = 0;
    for (;;) {
        size_t len = (size_t)(have - byte0);
        if ((rc = RC_VEC_RESERVE(r->scratch, len)) != RECITE_OK)
            return rc_error_set(err, rc, "out of memory");
        if ((rc = rc_store_read(r, cl->text_offset + byte0 + r->scratch.n, cl->text_offset + have,
                                r->scratch.v + r->scratch.n, err)) != RECITE_OK)
            return rc;
        r->scratch.n = len;
        bool final = have == cl->text_len;
        ch->n += (uint32_t)rc_tokenize((int)cl->mode, tz, r->scratch.v, len, final, &st,
                                       ch->toks + ch->n, need - ch->n);
        if (ch->n == need)
            break;
        if (final) /* the whole text was tokenized and the token count falls short */
            return rc_error_set(err, RECITE_EFORMAT,
                                "corrupt index (cluster %u has fewer tokens than recorded)",
                                cluster);
        have = RC_MIN(cl->text_len, have + RC_MAX((uint64_t)256, have - byte0));
    }
    for (uint32_t k = 0; k < ch->n; k++) {
        ch->toks[k].start += byte0;
        ch->toks[k].end += byte0;
    }
    return RECITE_OK;
}

/* Text-free: decodes the chunk's token records, starting at record offset byte0. */
static int decode_chunk(rc_store_reader *r, uint32_t cluster, const rc_cluster *cl, uint64_t byte0,
                        uint32_t need, rc_chunk *ch, recite_error *err)
{
    uint64_t stored = rc_index_stored_len(r->idx, cluster);
    bool code = cl->mode == RECITE_MODE_CODE;
    uint64_t have = byte0, prev_end = 0;
    size_t at = 0;
    int rc;
    ch->n = 0;
    while (ch->n < need) {
        size_t avail = r->scratch.n - at;
        bool cp = ch->n == 0; /* only a chunk's first token is a checkpoint token */
        size_t n = avail ? rc_tokrec_decode(r->scratch.v + at, avail, prev_end, cp, code,
                                            &ch->toks[ch->n], &ch->tokx[ch->n])
                         : 0;
        if (n == SIZE_MAX || (n == 0 && have == stored) ||
            (n > 0 && ch->toks[ch->n].end > cl->text_len))
            return rc_error_set(err, RECITE_EFORMAT,
                                "corrupt index (bad token record in cluster %u)", cluster);
        if (n == 0) { /* the record continues past the bytes read: read more */
            uint64_t want = RC_MIN(stored, have + (uint64_t)(need - ch->n) * 12 + 64);
            if ((rc = RC_VEC_RESERVE(r->scratch, want - byte0)) != RECITE_OK)
                return rc_error_set(err, rc, "out of memory");
            if ((rc = rc_store_read(r, cl->text_offset + have, cl->text_offset + want,
                                    r->scratch.v + r->scratch.n, err)) != RECITE_OK)
                return rc;
            r->scratch.n = want - byte0;
            have = want;
            continue;
        }
        at += n;
        prev_end = ch->toks[ch->n].end;
        ch->n++;
    }
    return RECITE_OK;
}

/* Chunk `chunk` of `cluster` of r's index, cached under rc_chunk_key(key_cluster, chunk): the
 * number the caller knows it by (a sharded index's, for a shard's reader). */
static int chunk_of(const rc_chunk **out, rc_store_reader *r, rc_tokenizer *tz, uint32_t cluster,
                    uint32_t key_cluster, const rc_cluster *info, uint64_t chunk, recite_error *err)
{
    const recite_index *idx = r->idx;
    uint64_t nchunks = (info->ntokens + RC_CHECKPOINT_EVERY - 1) / RC_CHECKPOINT_EVERY;
    if (chunk >= nchunks)
        return rc_error_set(err, RECITE_EFORMAT, "corrupt index (token out of range)");
    uint64_t key = rc_chunk_key(key_cluster, chunk);
    if (!r->chunks && !(r->chunks = calloc(RC_CHUNK_CACHE, sizeof *r->chunks)))
        return rc_error_set(err, RECITE_ENOMEM, "out of memory");
    /* The key's set, most recently used first (empty slots last). */
    rc_chunk **set = r->chunks + (rc_mix64(key) & (r->chunk_sets - 1)) * RC_CHUNK_WAYS;
    rc_chunk *ch;
    for (unsigned w = 0; w < RC_CHUNK_WAYS && (ch = set[w]) != NULL; w++)
        if (ch->key == key) {
            memmove(set + 1, set, w * sizeof *set);
            set[0] = ch;
            r->chunk_hits++;
            *out = ch;
            return RECITE_OK;
        }
    r->chunk_misses++;
    /* The least recently used slot's chunk is refilled (a new one while the set has room). */
    if (!(ch = set[RC_CHUNK_WAYS - 1]) && !(ch = malloc(sizeof *ch)))
        return rc_error_set(err, RECITE_ENOMEM, "out of memory");
    memmove(set + 1, set, (RC_CHUNK_WAYS - 1) * sizeof *set);
    set[0] = ch;
    ch->key = 0;
    const uint8_t *cp = idx->sec[RC_SEC_CHECKPOINTS].data + 4 * (info->checkpoint0 + chunk);
    int rc = rc_index_touch(idx, cp, chunk + 1 < nchunks ? 8 : 4, err);
    if (rc != RECITE_OK)
        return rc;
    uint64_t byte0 = rc_get_u32(cp);
    uint64_t stored = idx->text_free ? rc_index_stored_len(idx, cluster) : info->text_len;
    uint64_t byte_end = chunk + 1 < nchunks ? rc_get_u32(cp + 4) : stored;
    if (byte0 > byte_end || byte_end > stored)
        return rc_error_set(err, RECITE_EFORMAT, "corrupt index (bad checkpoint in cluster %u)",
                            cluster);
    uint32_t need = (uint32_t)RC_MIN((uint64_t)RC_CHECKPOINT_EVERY,
                                     info->ntokens - chunk * RC_CHECKPOINT_EVERY);
    r->scratch.n = 0;
    rc = idx->text_free ? decode_chunk(r, cluster, info, byte0, need, ch, err)
                        : tokenize_chunk(r, tz, cluster, info, byte0, byte_end, need, ch, err);
    if (rc != RECITE_OK)
        return rc;
    ch->key = key;
    *out = ch;
    return RECITE_OK;
}

uint64_t rc_store_chunk_of_byte(const recite_index *idx, uint32_t cluster, const rc_cluster *info,
                                uint64_t byte)
{
    rc_cluster local;
    if (idx->nshards) {
        uint32_t lc, s = rc_shard_route(idx, cluster, &lc);
        if (!idx->shards[s].idx)
            return UINT64_MAX;
        local = *info;
        rc_shards_localize(idx, s, &local);
        info = &local;
        idx = idx->shards[s].idx;
    }
    if (idx->text_free) /* its checkpoints are offsets of token records, not of text */
        return UINT64_MAX;
    uint64_t nchunks = (info->ntokens + RC_CHECKPOINT_EVERY - 1) / RC_CHECKPOINT_EVERY;
    const uint8_t *cp = idx->sec[RC_SEC_CHECKPOINTS].data + 4 * (uint64_t)info->checkpoint0;
    /* The last chunk whose checkpoint is at or before byte (checkpoint 0 is the text's start). */
    uint64_t lo = 0, hi = nchunks;
    while (hi - lo > 1) {
        uint64_t mid = lo + (hi - lo) / 2;
        if (rc_index_touch(idx, cp + 4 * mid, 4, NULL) != RECITE_OK)
            return UINT64_MAX;
        if (rc_get_u32(cp + 4 * mid) <= byte)
            lo = mid;
        else
            hi = mid;
    }
    return nchunks ? lo : UINT64_MAX;
}

int rc_store_chunk(const rc_chunk **out, rc_store_reader *r, rc_tokenizer *tz, uint32_t cluster,
                   const rc_cluster *info, uint64_t chunk, recite_error *err)
{
    const recite_index *idx = r->idx;
    if (idx->nshards) { /* the shard's chunk, keyed in the library's numbers (a view's too) */
        uint32_t lc, s = rc_shard_route(idx, cluster, &lc);
        if (!idx->shards[s].idx)
            return rc_error_set(err, RECITE_EINVAL, "shard %u is not open here", s);
        rc_store_reader *sub = shard_reader(r, s);
        if (!sub)
            return rc_error_set(err, RECITE_ENOMEM, "out of memory");
        rc_cluster local = *info;
        rc_shards_localize(idx, s, &local);
        return chunk_of(out, sub, tz, lc, cluster, &local, chunk, err);
    }
    return chunk_of(out, r, tz, cluster, cluster, info, chunk, err);
}

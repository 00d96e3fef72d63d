/*
 * store.c — the stored text of a loaded index: zstd blocks decompressed on demand through a
 * per-thread reader with a cache of decoded blocks, byte ranges of a work's text, and source
 * windows: the tokens of a range of a stored text (tokenized again, or decoded from the token
 * records of a text-free index), which the matcher extends seeds against.
 */
#include "rc_index.h"

#include <stdlib.h>

int rc_store_reader_init(rc_store_reader *r, const recite_index *idx)
{
    memset(r, 0, sizeof *r);
    r->idx = idx;
    r->dctx = ZSTD_createDCtx();
    return r->dctx ? RECITE_OK : RECITE_ENOMEM;
}

void rc_store_reader_free(rc_store_reader *r)
{
    if (!r)
        return;
    for (unsigned i = 0; i < RC_BLOCK_CACHE; i++)
        free(r->cache[i].data);
    ZSTD_freeDCtx(r->dctx);
    memset(r, 0, sizeof *r);
}

static uint64_t block_of(const recite_index *idx, uint64_t off)
{
    const uint8_t *tb = idx->sec[RC_SEC_TEXT_BLOCKS].data;
    uint64_t lo = 0, hi = idx->nblocks;
    while (hi - lo > 1) {
        uint64_t mid = lo + (hi - lo) / 2;
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
    unsigned slot = (unsigned)(b % RC_BLOCK_CACHE);
    if (r->cache[slot].block == b + 1) {
        r->hits++;
        *data = r->cache[slot].data;
        *len = r->cache[slot].len;
        return RECITE_OK;
    }
    r->misses++;
    const recite_index *idx = r->idx;
    const uint8_t *tb = idx->sec[RC_SEC_TEXT_BLOCKS].data;
    uint64_t raw = rc_get_u64(tb + 16 * (b + 1)) - rc_get_u64(tb + 16 * b);
    uint64_t c0 = rc_get_u64(tb + 16 * b + 8), c1 = rc_get_u64(tb + 16 * b + 24);
    if (!r->cache[slot].data) {
        r->cache[slot].data = malloc(idx->block_size);
        if (!r->cache[slot].data)
            return rc_error_set(err, RECITE_ENOMEM, "out of memory");
    }
    r->cache[slot].block = 0;
    const uint8_t *src = idx->sec[RC_SEC_TEXT_DATA].data + c0;
    size_t got = idx->ddict ? ZSTD_decompress_usingDDict(r->dctx, r->cache[slot].data,
                                                         idx->block_size, src, c1 - c0, idx->ddict)
                            : ZSTD_decompressDCtx(r->dctx, r->cache[slot].data, idx->block_size,
                                                  src, c1 - c0);
    if (ZSTD_isError(got) || got != raw)
        return rc_error_set(err, RECITE_EFORMAT, "corrupt index (text block %llu: %s)",
                            (unsigned long long)b,
                            ZSTD_isError(got) ? ZSTD_getErrorName(got) : "wrong length");
    r->cache[slot].block = b + 1;
    r->cache[slot].len = got;
    *data = r->cache[slot].data;
    *len = got;
    return RECITE_OK;
}

int rc_store_read(rc_store_reader *r, uint64_t start, uint64_t end, uint8_t *out, recite_error *err)
{
    const recite_index *idx = r->idx;
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
    rc_cluster cl;
    rc_index_cluster(idx, rc_index_work_cluster(idx, work), &cl);
    if (start > end || end > cl.text_len)
        return rc_error_set(err, RECITE_EINVAL, "byte range %llu-%llu outside the work",
                            (unsigned long long)start, (unsigned long long)end);
    char *buf = malloc(end - start + 1);
    if (!buf)
        return rc_error_set(err, RECITE_ENOMEM, "out of memory");
    rc_store_reader r;
    int rc = rc_store_reader_init(&r, idx);
    if (rc == RECITE_OK)
        rc = rc_store_read(&r, cl.text_offset + start, cl.text_offset + end, (uint8_t *)buf, err);
    rc_store_reader_free(&r);
    if (rc != RECITE_OK) {
        free(buf);
        return rc == RECITE_ENOMEM ? rc_error_set(err, rc, "out of memory") : rc;
    }
    buf[end - start] = 0;
    *out = buf;
    *len = end - start;
    return RECITE_OK;
}

/* ==== tokens of a stored text ==== */

void rc_source_window_free(rc_source_window *sw)
{
    RC_VEC_FREE(sw->toks);
    RC_VEC_FREE(sw->tokx);
    RC_VEC_FREE(sw->bytes);
}

/* Text-free: decodes token records instead of tokenizing text. sw->st.pos is where the next
 * record starts in sw->bytes. */
static int records_grow(rc_store_reader *r, rc_source_window *sw, uint64_t t_to, recite_error *err)
{
    const rc_cluster *cl = &sw->info;
    uint64_t stored = rc_index_stored_len(r->idx, sw->cluster);
    bool code = cl->mode == RECITE_MODE_CODE;
    int rc;
    while (sw->t_to < t_to) {
        uint64_t have = sw->bytes_base + sw->bytes.n;
        size_t at = (size_t)sw->st.pos, avail = sw->bytes.n - at;
        rc_token t;
        rc_tokx x;
        bool cp = sw->next_tok % RC_CHECKPOINT_EVERY == 0;
        size_t n =
            avail ? rc_tokrec_decode(sw->bytes.v + at, avail, sw->prev_end, cp, code, &t, &x) : 0;
        if (n == SIZE_MAX || (n == 0 && have == stored) || (n > 0 && t.end > cl->text_len))
            return rc_error_set(err, RECITE_EFORMAT,
                                "corrupt index (bad token record in cluster %u)", sw->cluster);
        if (n == 0) { /* the record continues past the bytes read: read more */
            uint64_t want = RC_MIN(stored, have + 4096);
            if ((rc = RC_VEC_RESERVE(sw->bytes, want - sw->bytes_base)) != RECITE_OK)
                return rc_error_set(err, rc, "out of memory");
            if ((rc = rc_store_read(r, cl->text_offset + have, cl->text_offset + want,
                                    sw->bytes.v + sw->bytes.n, err)) != RECITE_OK)
                return rc;
            sw->bytes.n = want - sw->bytes_base;
            continue;
        }
        sw->st.pos += n;
        sw->prev_end = t.end;
        sw->next_tok++;
        if (sw->skip) {
            sw->skip--;
            continue;
        }
        if ((rc = RC_VEC_PUSH(sw->toks, t)) != RECITE_OK ||
            (rc = RC_VEC_PUSH(sw->tokx, x)) != RECITE_OK)
            return rc_error_set(err, rc, "out of memory");
        sw->t_to++;
    }
    return RECITE_OK;
}

int rc_source_window_grow(rc_store_reader *r, rc_tokenizer *tz, rc_source_window *sw, uint64_t t_to,
                          recite_error *err)
{
    const rc_cluster *cl = &sw->info;
    if (r->idx->text_free)
        return records_grow(r, sw, t_to > cl->ntokens ? cl->ntokens : t_to, err);
    const uint64_t chunk = 4096;
    rc_token tmp[128];
    int rc;
    if (t_to > cl->ntokens)
        t_to = cl->ntokens;
    while (sw->t_to < t_to) {
        uint64_t have = sw->bytes_base + sw->bytes.n; /* local offset of the end of bytes read */
        bool final = have == cl->text_len;
        /* Tokens come out from the restart point on: the first `skip` precede t_from. */
        size_t cap = (size_t)RC_MIN((uint64_t)RC_ARRAY_LEN(tmp), t_to - sw->t_to + sw->skip);
        size_t n =
            rc_tokenize((int)cl->mode, tz, sw->bytes.v, sw->bytes.n, final, &sw->st, tmp, cap);
        for (size_t k = 0; k < n; k++) {
            if (sw->skip) {
                sw->skip--;
                continue;
            }
            rc_token t = {tmp[k].hash, tmp[k].shape, tmp[k].start + sw->bytes_base,
                          tmp[k].end + sw->bytes_base};
            if ((rc = RC_VEC_PUSH(sw->toks, t)) != RECITE_OK)
                return rc_error_set(err, rc, "out of memory");
            sw->t_to++;
        }
        if (n == cap)
            continue;
        if (final) /* the whole text was tokenized and the token count falls short */
            return rc_error_set(err, RECITE_EFORMAT,
                                "corrupt index (cluster %u has fewer tokens than recorded)",
                                sw->cluster);
        /* The tokenizer needs more bytes to finish the next token. */
        uint64_t want = RC_MIN(cl->text_len, have + chunk);
        if ((rc = RC_VEC_RESERVE(sw->bytes, want - sw->bytes_base)) != RECITE_OK)
            return rc_error_set(err, rc, "out of memory");
        if ((rc = rc_store_read(r, cl->text_offset + have, cl->text_offset + want,
                                sw->bytes.v + sw->bytes.n, err)) != RECITE_OK)
            return rc;
        sw->bytes.n = want - sw->bytes_base;
    }
    return RECITE_OK;
}

int rc_source_window_load(rc_store_reader *r, rc_tokenizer *tz, rc_source_window *sw,
                          uint32_t cluster, uint64_t t_from, uint64_t t_to, recite_error *err)
{
    const recite_index *idx = r->idx;
    sw->valid = false;
    sw->cluster = cluster;
    rc_index_cluster(idx, cluster, &sw->info);
    if (t_to > sw->info.ntokens)
        t_to = sw->info.ntokens;
    if (t_from > t_to)
        t_from = t_to;
    /* Restart at the checkpoint at or before t_from. */
    uint64_t cpi = t_from / RC_CHECKPOINT_EVERY;
    uint64_t byte0 = 0;
    if (sw->info.ntokens)
        byte0 = rc_get_u32(idx->sec[RC_SEC_CHECKPOINTS].data + 4 * (sw->info.checkpoint0 + cpi));
    sw->toks.n = 0;
    sw->tokx.n = 0;
    sw->bytes.n = 0;
    sw->bytes_base = byte0;
    sw->st = (rc_tok_state){0, byte0 == 0};
    sw->prev_end = 0;
    sw->next_tok = cpi * RC_CHECKPOINT_EVERY;
    sw->t_from = sw->t_to = t_from;
    sw->skip = t_from - cpi * RC_CHECKPOINT_EVERY;
    int rc = rc_source_window_grow(r, tz, sw, t_to, err);
    sw->valid = rc == RECITE_OK;
    return rc;
}

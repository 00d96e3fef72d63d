/*
 * index_verify.c — the complete check of an open index (recite_index_verify): every page and
 * every section against its checksum, then every record cross-checked (clusters tiling the text and
 * token spaces in order, checkpoints, members, work strings, text blocks, fingerprint directories
 * and positions, CMI records). Opening checks only what takes constant time (index_load.c); this
 * reads the whole file, and runs where that is worth it: `recite verify`, before a compaction
 * trusts its source, and on every index a build has written, before it is published.
 */
#include "rc_index.h"

#include <xxhash.h>

static int corrupt(recite_error *err, const char *what)
{
    return rc_error_set(err, RECITE_EFORMAT, "corrupt index (%s)", what);
}

static int check_sums(const recite_index *idx, recite_error *err)
{
    /* Every page (the alignment padding between sections included), then every section. */
    int rc = rc_index_touch_pages(idx, 0, idx->npages ? idx->npages - 1 : 0, err);
    if (rc != RECITE_OK)
        return rc;
    for (unsigned id = 1; id < RC_SEC_COUNT_; id++) {
        const rc_section *s = &idx->sec[id];
        if (s->data && XXH3_64bits(s->data, s->len) != idx->sec_sum[id])
            return rc_error_set(err, RECITE_EFORMAT,
                                "corrupt index (checksum mismatch in section %u)", id);
    }
    return RECITE_OK;
}

static int check_blocks(const recite_index *idx, recite_error *err)
{
    const uint8_t *tb = idx->sec[RC_SEC_TEXT_BLOCKS].data;
    for (uint64_t b = 0; b < idx->nblocks; b++) {
        uint64_t r0 = rc_get_u64(tb + 16 * b), c0 = rc_get_u64(tb + 16 * b + 8);
        uint64_t r1 = rc_get_u64(tb + 16 * b + 16), c1 = rc_get_u64(tb + 16 * b + 24);
        if (r1 <= r0 || c1 <= c0 || r1 - r0 > idx->block_size)
            return corrupt(err, "bad text block table");
    }
    return RECITE_OK;
}

/* Clusters tile the text and the token space in order; their checkpoints increase within their
 * text; their members are works of theirs. */
static int check_clusters(const recite_index *idx, recite_error *err)
{
    const rc_section *s = idx->sec;
    uint64_t text_end = 0, tok_end = 0, cp_end = 0, mem_end = 0, work_end = 0;
    for (uint64_t c = 0; c < idx->nclusters; c++) {
        rc_cluster cl;
        int rc = rc_index_cluster_check(idx, (uint32_t)c, &cl, err);
        if (rc != RECITE_OK)
            return rc;
        uint64_t want_cp = (cl.ntokens + RC_CHECKPOINT_EVERY - 1) / RC_CHECKPOINT_EVERY;
        uint64_t stored = rc_index_stored_len(idx, (uint32_t)c);
        if (cl.text_offset != text_end || cl.token_base != tok_end || cl.checkpoint0 != cp_end ||
            cl.member0 != mem_end)
            return corrupt(err, "clusters do not tile the text");
        work_end += cl.text_len;
        text_end += stored;
        tok_end += cl.ntokens;
        cp_end += want_cp;
        mem_end += cl.nmembers;
        const uint8_t *cp = s[RC_SEC_CHECKPOINTS].data + 4 * cl.checkpoint0;
        uint64_t prev = 0;
        for (uint64_t k = 0; k < want_cp; k++) {
            uint64_t off = rc_get_u32(cp + 4 * k);
            if (off < prev || off > stored || (k == 0 && off != 0))
                return corrupt(err, "bad checkpoint");
            prev = off;
        }
        const uint8_t *mem = s[RC_SEC_MEMBERS].data + 4 * (uint64_t)cl.member0;
        for (uint32_t m = 0; m < cl.nmembers; m++) {
            uint32_t w = rc_get_u32(mem + 4 * m);
            if (w >= idx->nworks || rc_index_work_cluster(idx, w) != c)
                return corrupt(err, "bad cluster member");
        }
    }
    if (text_end != idx->text_bytes || tok_end != idx->ntokens ||
        cp_end != s[RC_SEC_CHECKPOINTS].len / 4 || mem_end != idx->nworks ||
        work_end != idx->work_bytes)
        return corrupt(err, "clusters do not cover the text");
    return RECITE_OK;
}

static int check_works(const recite_index *idx, recite_error *err)
{
    const uint8_t *dir = idx->sec[RC_SEC_CMI_DIR].data;
    for (uint64_t w = 0; w < idx->nworks; w++) {
        recite_work_info info;
        if (recite_index_work(&info, idx, (uint32_t)w) != RECITE_OK)
            return corrupt(err, "bad work record");
        if (rc_get_u64(dir + 8 * w) > rc_get_u64(dir + 8 * w + 8))
            return corrupt(err, "bad CMI directory");
    }
    return RECITE_OK;
}

/* Postings of each channel: the directory is monotonic and every position is a token. */
static int check_postings(const recite_index *idx, recite_error *err)
{
    for (unsigned c = 0; c < RC_CHANNELS; c++) {
        const rc_channel_info *ch = &idx->ch[c];
        uint64_t nbk = (uint64_t)1 << ch->bucket_bits, prev = 0;
        for (uint64_t b = 0; b <= nbk; b++) {
            uint64_t v = rc_get_u32(ch->dir + 4 * b);
            if (v < prev)
                return corrupt(err, "fingerprint directory not monotonic");
            prev = v;
        }
        for (uint64_t i = 0; i < ch->npostings; i++)
            if (rc_get_u32(ch->pos + 4 * i) >= idx->ntokens)
                return corrupt(err, "fingerprint position out of range");
    }
    return RECITE_OK;
}

int recite_index_verify(const recite_index *idx, recite_error *err)
{
    int rc = check_sums(idx, err);
    if (rc == RECITE_OK)
        rc = check_blocks(idx, err);
    if (rc == RECITE_OK)
        rc = check_clusters(idx, err);
    if (rc == RECITE_OK)
        rc = check_works(idx, err);
    if (rc == RECITE_OK)
        rc = check_postings(idx, err);
    if (rc == RECITE_OK && idx->licenses)
        rc = recite_index_verify(idx->licenses, err);
    return rc;
}

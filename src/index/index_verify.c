/*
 * index_verify.c — the complete check of an open index (recite_index_verify): every page and
 * every section against its checksum, then every record cross-checked (clusters and their word
 * views tiling the text and token spaces in order, checkpoints, members, work strings, text
 * blocks, fingerprint directories and positions, CMI records). Opening checks only what takes
 * constant time (index_load.c); this reads the whole file, and runs where that is worth it: `recite
 * verify`, before a compaction trusts its source, and on every index a build has written, before it
 * is published.
 */
#include "rc_index.h"

#include <sys/mman.h>
#include <xxhash.h>

static int corrupt(recite_error *err, const char *what)
{
    return rc_error_set(err, RECITE_EFORMAT, "corrupt index (%s)", what);
}

/* Lets the kernel take back the pages of the mapping just read (they stay in the page cache):
 * verifying a whole index should not make it all resident in this process. */
static void release(const recite_index *idx, uint64_t from, uint64_t to)
{
    uintptr_t a = ((uintptr_t)idx->map + from + 4095) & ~(uintptr_t)4095;
    uintptr_t b = ((uintptr_t)idx->map + to) & ~(uintptr_t)4095;
    if (b > a)
        madvise((void *)a, b - a, MADV_DONTNEED);
}

void rc_index_release_pages(const recite_index *idx)
{
    release(idx, 0, idx->map_len);
}

/* Verifying reads each table once, in order; every so many records, what was read goes back
 * (4 MiB of records at most stay resident). */
#define RELEASE_EVERY (1u << 20)
#define release_all rc_index_release_pages

static int check_sums(const recite_index *idx, recite_error *err)
{
    /* Every page (the alignment padding between sections included), 4 MiB at a time, then
     * every section. */
    const uint64_t step = 1024;
    for (uint64_t p = 0; p < idx->npages; p += step) {
        uint64_t last = RC_MIN(p + step, idx->npages) - 1;
        int rc = rc_index_touch_pages(idx, p, last, err);
        if (rc != RECITE_OK)
            return rc;
        release(idx, RC_DATA_OFFSET + p * RC_PAGE_SIZE, RC_DATA_OFFSET + (last + 1) * RC_PAGE_SIZE);
    }
    XXH3_state_t *st = XXH3_createState();
    if (!st)
        return rc_error_set(err, RECITE_ENOMEM, "out of memory");
    int rc = RECITE_OK;
    for (unsigned id = 1; id < RC_SEC_COUNT_ && rc == RECITE_OK; id++) {
        const rc_section *s = &idx->sec[id];
        if (!s->data)
            continue;
        XXH3_64bits_reset(st);
        uint64_t base = (uint64_t)(s->data - idx->map);
        for (uint64_t at = 0; at < s->len; at += (uint64_t)4 << 20) {
            size_t n = (size_t)RC_MIN((uint64_t)4 << 20, s->len - at);
            XXH3_64bits_update(st, s->data + at, n);
            release(idx, base + at, base + at + n);
        }
        if (XXH3_64bits_digest(st) != idx->sec_sum[id])
            rc = rc_error_set(err, RECITE_EFORMAT,
                              "corrupt index (checksum mismatch in section %u)", id);
    }
    XXH3_freeState(st);
    return rc;
}

static int check_blocks(const recite_index *idx, recite_error *err)
{
    const uint8_t *tb = idx->sec[RC_SEC_TEXT_BLOCKS].data;
    for (uint64_t b = 0; b < idx->nblocks; b++) {
        if (b % (RELEASE_EVERY / 4) == 0)
            release_all(idx);
        uint64_t r0 = rc_get_u64(tb + 16 * b), c0 = rc_get_u64(tb + 16 * b + 8);
        uint64_t r1 = rc_get_u64(tb + 16 * b + 16), c1 = rc_get_u64(tb + 16 * b + 24);
        if (r1 <= r0 || c1 <= c0 || r1 - r0 > idx->block_size)
            return corrupt(err, "bad text block table");
    }
    return RECITE_OK;
}

/* The checkpoints of cluster (or view) c increase within its stored bytes. */
static int check_checkpoints(const recite_index *idx, const rc_cluster *cl, uint64_t stored,
                             recite_error *err)
{
    uint64_t want_cp = (cl->ntokens + RC_CHECKPOINT_EVERY - 1) / RC_CHECKPOINT_EVERY;
    const uint8_t *cp = idx->sec[RC_SEC_CHECKPOINTS].data + 4 * cl->checkpoint0;
    uint64_t prev = 0;
    for (uint64_t k = 0; k < want_cp; k++) {
        uint64_t off = rc_get_u32(cp + 4 * k);
        if (off < prev || off > stored || (k == 0 && off != 0))
            return corrupt(err, "bad checkpoint");
        prev = off;
    }
    return RECITE_OK;
}

/* Clusters, each followed by its view when it has one, tile the text and the token space in
 * order; their checkpoints increase within their text; their members are works of theirs. */
static int check_clusters(const recite_index *idx, recite_error *err)
{
    const rc_section *s = idx->sec;
    uint64_t text_end = 0, tok_end = 0, cp_end = 0, mem_end = 0, work_end = 0, next_view = 0;
    for (uint64_t c = 0; c < idx->nclusters; c++) {
        if (c % (RELEASE_EVERY / 64) == 0)
            release_all(idx);
        rc_cluster cl;
        int rc = rc_index_cluster_check(idx, (uint32_t)c, &cl, err);
        if (rc != RECITE_OK)
            return rc;
        uint64_t stored = rc_index_stored_len(idx, (uint32_t)c);
        if (cl.text_offset != text_end || cl.token_base != tok_end || cl.checkpoint0 != cp_end ||
            cl.member0 != mem_end)
            return corrupt(err, "clusters do not tile the text");
        work_end += cl.text_len;
        text_end += stored;
        tok_end += cl.ntokens;
        cp_end += (cl.ntokens + RC_CHECKPOINT_EVERY - 1) / RC_CHECKPOINT_EVERY;
        mem_end += cl.nmembers;
        if ((rc = check_checkpoints(idx, &cl, stored, err)) != RECITE_OK)
            return rc;
        const uint8_t *mem = s[RC_SEC_MEMBERS].data + 4 * (uint64_t)cl.member0;
        for (uint32_t m = 0; m < cl.nmembers; m++) {
            uint32_t w = rc_get_u32(mem + 4 * m);
            if (w >= idx->nworks || rc_index_work_cluster(idx, w) != c)
                return corrupt(err, "bad cluster member");
        }
        rc_view v;
        if (next_view < idx->nviews && rc_index_view(idx, next_view, &v) && v.cluster == c) {
            uint32_t vc = (uint32_t)(idx->nclusters + next_view++);
            rc_cluster vw;
            if ((rc = rc_index_cluster_check(idx, vc, &vw, err)) != RECITE_OK)
                return rc;
            uint64_t vstored = rc_index_stored_len(idx, vc);
            if (vw.text_offset != (idx->text_free ? text_end : cl.text_offset) ||
                vw.token_base != tok_end || vw.checkpoint0 != cp_end)
                return corrupt(err, "views do not tile the text");
            if (idx->text_free)
                text_end += vstored;
            tok_end += vw.ntokens;
            cp_end += (vw.ntokens + RC_CHECKPOINT_EVERY - 1) / RC_CHECKPOINT_EVERY;
            if ((rc = check_checkpoints(idx, &vw, vstored, err)) != RECITE_OK)
                return rc;
        }
    }
    if (text_end != idx->text_bytes || tok_end != idx->ntokens ||
        cp_end != s[RC_SEC_CHECKPOINTS].len / 4 || mem_end != idx->nworks ||
        work_end != idx->work_bytes || next_view != idx->nviews)
        return corrupt(err, "clusters do not cover the text");
    return RECITE_OK;
}

static int check_works(const recite_index *idx, recite_error *err)
{
    const uint8_t *dir = idx->sec[RC_SEC_CMI_DIR].data;
    for (uint64_t w = 0; w < idx->nworks; w++) {
        if (w % (RELEASE_EVERY / 64) == 0)
            release_all(idx);
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
        for (uint64_t i = 0; i < ch->npostings; i++) {
            if (i % RELEASE_EVERY == 0)
                release_all(idx);
            if (rc_get_u32(ch->pos + 4 * i) >= idx->ntokens)
                return corrupt(err, "fingerprint position out of range");
        }
    }
    return RECITE_OK;
}

int recite_index_verify(const recite_index *idx, recite_error *err)
{
    int rc = check_sums(idx, err);
    if (rc == RECITE_OK && idx->nshards) { /* a head: its shards, and its tables against them */
        rc = rc_shards_verify(idx, true, err);
        if (rc == RECITE_OK && idx->licenses)
            rc = recite_index_verify(idx->licenses, err);
        return rc;
    }
    if (rc == RECITE_OK)
        rc = check_blocks(idx, err);
    if (rc == RECITE_OK)
        rc = check_clusters(idx, err);
    if (rc == RECITE_OK)
        rc = check_works(idx, err);
    if (rc == RECITE_OK)
        rc = check_postings(idx, err);
    if (rc == RECITE_OK)
        rc = rc_index_verify_locators(idx, err);
    release_all(idx);
    if (rc == RECITE_OK && idx->licenses)
        rc = recite_index_verify(idx->licenses, err);
    return rc;
}

/*
 * build_store.c — how the builder stores texts: in blocks of 4 KiB, each one zstd frame, so that
 * verifying a hit decompresses only a few KiB; a dictionary trained on a sample of the whole
 * library keeps such small blocks as compact as 32 KiB ones. Workers compress their own works
 * (blocks never straddle two texts), so compression runs on every core.
 */
#define ZDICT_STATIC_LINKING_ONLY
#include "rc_extract.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>
#include <zdict.h>

#define DICT_CAPACITY_MAX (256u * 1024u)
#define DICT_CAPACITY_MIN (16u * 1024u)
#define DICT_MIN_LIBRARY (1u << 20) /* below 1 MB of input, a dictionary is not worth it */
#define DICT_SAMPLES 1024u
#define DICT_SAMPLE_SIZE 4096u /* bytes per sample: 4 MiB of samples in all */

int rc_store_compress(rc_work_ctx *ctx, const ZSTD_CDict *cdict, const uint8_t *text, size_t len,
                      rc_work_out *out)
{
    size_t bound = ZSTD_compressBound(RC_TEXT_BLOCK_SIZE);
    for (size_t off = 0; off < len; off += RC_TEXT_BLOCK_SIZE) {
        size_t n = RC_MIN((size_t)RC_TEXT_BLOCK_SIZE, len - off);
        if (RC_VEC_RESERVE(out->zdata, out->zdata.n + bound) != RECITE_OK)
            return RECITE_ENOMEM;
        size_t z = cdict ? ZSTD_compress_usingCDict(ctx->cctx, out->zdata.v + out->zdata.n, bound,
                                                    text + off, n, cdict)
                         : ZSTD_compressCCtx(ctx->cctx, out->zdata.v + out->zdata.n, bound,
                                             text + off, n, RC_TEXT_LEVEL);
        if (ZSTD_isError(z))
            return RECITE_ENOMEM; /* the only failure with a large enough buffer */
        out->zdata.n += z;
        if (RC_VEC_PUSH(out->zblocks, (uint32_t)z) != RECITE_OK)
            return RECITE_ENOMEM;
        if (ctx->spill_bytes && out->zdata.n >= ctx->spill_bytes / 2) {
            if (!out->zdata_spool.cap)
                rc_spool_init(&out->zdata_spool, ctx->spill_dir, RC_SPOOL_CHUNK);
            int rc =
                rc_spool_append(&out->zdata_spool, out->zdata.v, out->zdata.n, &ctx->spill_err);
            if (rc != RECITE_OK)
                return rc;
            out->zdata.n = 0;
        }
    }
    return RECITE_OK;
}

/* Reads up to `len` bytes of source `s` at `offset` into buf; returns the count (0 on error, and
 * for documents and archives, whose bytes are not the text stored). */
static size_t read_piece(const rc_inputs *in, const rc_source *s, uint64_t offset, uint8_t *buf,
                         size_t len, struct rc_git_cache **git)
{
    if (s->kind == RC_SRC_GIT)
        return rc_doc_name_is_container(in->paths.v[s->path])
                   ? 0
                   : rc_git_read_piece(git, in, s, offset, buf, len);
    if (s->kind == RC_SRC_FILE && rc_doc_name_is_container(in->paths.v[s->path]))
        return 0;
    if (s->kind == RC_SRC_INDEX) {
        char *text;
        size_t got;
        uint64_t end = RC_MIN(s->length, offset + len);
        if (offset >= end || recite_index_work_text(&text, &got, in->from, (uint32_t)s->offset,
                                                    offset, end, NULL) != RECITE_OK)
            return 0;
        memcpy(buf, text, got);
        free(text);
        return got;
    }
    int fd = open(in->paths.v[s->path], O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    ssize_t got = pread(fd, buf, len, (off_t)(s->offset + offset));
    close(fd);
    return got > 0 ? (size_t)got : 0;
}

int rc_store_dict_train(const rc_inputs *in, void **dict, size_t *len, recite_error *err)
{
    *dict = NULL;
    *len = 0;
    if (in->total_bytes < DICT_MIN_LIBRARY || in->sources.n == 0)
        return RECITE_OK;
    /* About 1/64 of the library, within [16 KiB, 256 KiB]: larger dictionaries keep helping
     * 4 KiB blocks, but their size is paid once per index. */
    size_t capacity = (size_t)RC_MIN((uint64_t)DICT_CAPACITY_MAX,
                                     RC_MAX((uint64_t)DICT_CAPACITY_MIN, in->total_bytes / 64));
    uint8_t *samples = malloc((size_t)DICT_SAMPLES * DICT_SAMPLE_SIZE);
    size_t *sizes = malloc(DICT_SAMPLES * sizeof *sizes);
    void *buf = malloc(capacity);
    if (!samples || !sizes || !buf) {
        free(samples);
        free(sizes);
        free(buf);
        return rc_error_set(err, RECITE_ENOMEM, "out of memory");
    }
    /* Evenly spaced pieces over the concatenation of all inputs: deterministic, and spread
     * over every kind of text the library holds. */
    uint64_t step = in->total_bytes / DICT_SAMPLES;
    size_t n = 0, src = 0;
    uint64_t src_start = 0;
    struct rc_git_cache *git = NULL;
    for (unsigned i = 0; i < DICT_SAMPLES; i++) {
        uint64_t at = (uint64_t)i * step;
        while (src < in->sources.n && src_start + in->sources.v[src].length <= at)
            src_start += in->sources.v[src++].length;
        if (src >= in->sources.n)
            break;
        const rc_source *s = &in->sources.v[src];
        uint64_t off = at - src_start;
        size_t want = (size_t)RC_MIN((uint64_t)DICT_SAMPLE_SIZE, s->length - off);
        uint8_t *dst = samples + (size_t)n * DICT_SAMPLE_SIZE;
        size_t got = read_piece(in, s, off, dst, want, &git);
        if (got >= 64 && !memchr(dst, 0, got)) /* skip binary files and slivers */
            sizes[n++] = got;
        /* Compaction: each piece maps pages of the old index (its block table searched, the
         * pages around each one read): they need not stay. */
        if (in->from && i % 64 == 63) {
            rc_index_release_pages(in->from);
            rc_store_spare_clear(in->from); /* and the blocks cached on the way */
        }
    }
    if (in->from) {
        rc_index_release_pages(in->from);
        rc_store_spare_clear(in->from);
    }
    rc_git_cache_free(git);
    /* Compact the samples (ZDICT wants them back to back). */
    size_t total = 0;
    for (size_t i = 0; i < n; i++) {
        memmove(samples + total, samples + i * DICT_SAMPLE_SIZE, sizes[i]);
        total += sizes[i];
    }
    ZDICT_fastCover_params_t p;
    memset(&p, 0, sizeof p);
    p.k = 200;
    p.d = 8;
    p.f = 20;
    p.accel = 5;
    p.zParams.compressionLevel = RC_TEXT_LEVEL;
    size_t got =
        n >= 16 ? ZDICT_trainFromBuffer_fastCover(buf, capacity, samples, sizes, (unsigned)n, p)
                : 0;
    free(samples);
    free(sizes);
    if (n < 16 || ZDICT_isError(got)) { /* too little or too uniform text: go without */
        free(buf);
        return RECITE_OK;
    }
    *dict = buf;
    *len = got;
    return RECITE_OK;
}

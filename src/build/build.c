/*
 * index_build.c — recite_index_build: enumerates the inputs, loads and fingerprints works on
 * `jobs` threads, and commits them in input order on the calling thread (clustering identical
 * texts, compressing text blocks, feeding the external sort), then writes the sections of
 * recite.idx into a temporary directory beside the target and publishes it with an atomic
 * rename. Memory: the sort buffer gets half the budget; at most 2 x jobs batches are in flight.
 */
#include "rc_build.h"
#include "../fingerprint/rc_fingerprint.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <xxhash.h>

#define BATCH_BYTES (4u << 20)
#define BATCH_WORKS 512u
#define DEFAULT_MEM (1ull << 30)

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* ==== section writer: buffered pwrite with a running checksum ==== */

typedef struct secw {
    int fd;
    uint64_t start, off;
    XXH3_state_t *xs;
    uint8_t buf[1 << 16];
    size_t n;
    int errnum;
} secw;

static void secw_begin(secw *w, int fd, uint64_t start)
{
    w->fd = fd;
    w->start = w->off = start;
    w->n = 0;
    w->errnum = 0;
    XXH3_64bits_reset(w->xs);
}

static void secw_flush(secw *w)
{
    size_t done = 0;
    while (done < w->n && !w->errnum) {
        ssize_t r = pwrite(w->fd, w->buf + done, w->n - done, (off_t)w->off);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            w->errnum = r < 0 ? errno : EIO;
            break;
        }
        done += (size_t)r;
        w->off += (uint64_t)r;
    }
    w->n = 0;
}

static void secw_write(secw *w, const void *data, size_t len)
{
    XXH3_64bits_update(w->xs, data, len);
    const uint8_t *p = data;
    while (len) {
        size_t k = RC_MIN(len, sizeof w->buf - w->n);
        memcpy(w->buf + w->n, p, k);
        w->n += k;
        p += k;
        len -= k;
        if (w->n == sizeof w->buf)
            secw_flush(w);
    }
}

static void secw_u32(secw *w, uint32_t v)
{
    uint8_t b[4];
    rc_put_u32(b, v);
    secw_write(w, b, 4);
}

static void secw_u64(secw *w, uint64_t v)
{
    uint8_t b[8];
    rc_put_u64(b, v);
    secw_write(w, b, 8);
}

typedef struct section_entry {
    uint32_t id;
    uint64_t offset, length, checksum;
} section_entry;

static section_entry secw_end(secw *w, uint32_t id)
{
    secw_flush(w);
    return (section_entry){id, w->start, w->off - w->start, XXH3_64bits_digest(w->xs)};
}

static uint64_t align_up(uint64_t x)
{
    return (x + RC_SECTION_ALIGN - 1) & ~(uint64_t)(RC_SECTION_ALIGN - 1);
}

/* ==== hash tables for work ids and contents ==== */

typedef struct slot_table {
    uint64_t *keys; /* hash; 0 marks an empty slot (hashes are forced non-zero) */
    uint32_t *vals;
    size_t cap, n;
} slot_table;

static int table_grow(slot_table *t)
{
    size_t ncap = t->cap ? 2 * t->cap : 1024;
    uint64_t *k = calloc(ncap, sizeof *k);
    uint32_t *v = calloc(ncap, sizeof *v);
    if (!k || !v) {
        free(k);
        free(v);
        return RECITE_ENOMEM;
    }
    for (size_t i = 0; i < t->cap; i++) {
        if (!t->keys[i])
            continue;
        size_t j = t->keys[i] & (ncap - 1);
        while (k[j])
            j = (j + 1) & (ncap - 1);
        k[j] = t->keys[i];
        v[j] = t->vals[i];
    }
    free(t->keys);
    free(t->vals);
    t->keys = k;
    t->vals = v;
    t->cap = ncap;
    return RECITE_OK;
}

/* Iterates over the values stored under `key`: start with *i = SIZE_MAX. */
static bool table_next(const slot_table *t, uint64_t key, size_t *i, uint32_t *val)
{
    if (!t->cap)
        return false;
    size_t j = *i == SIZE_MAX ? (key & (t->cap - 1)) : ((*i + 1) & (t->cap - 1));
    for (; t->keys[j]; j = (j + 1) & (t->cap - 1)) {
        if (t->keys[j] == key) {
            *i = j;
            *val = t->vals[j];
            return true;
        }
    }
    return false;
}

static int table_put(slot_table *t, uint64_t key, uint32_t val)
{
    if (2 * (t->n + 1) > t->cap && table_grow(t) != RECITE_OK)
        return RECITE_ENOMEM;
    size_t j = key & (t->cap - 1);
    while (t->keys[j])
        j = (j + 1) & (t->cap - 1);
    t->keys[j] = key;
    t->vals[j] = val;
    t->n++;
    return RECITE_OK;
}

static void table_free(slot_table *t)
{
    free(t->keys);
    free(t->vals);
    memset(t, 0, sizeof *t);
}

static uint64_t nonzero(uint64_t h)
{
    return h ? h : 1;
}

/* ==== build state ==== */

typedef struct batch {
    size_t first, count;
    rc_work_out *outs;
    int rc;
    recite_error err;
    bool done;
} batch;

typedef struct cluster_rec {
    uint64_t text_offset, text_len, token_base, ntokens, checkpoint0;
    rc_hash128 content;
    uint32_t member0, nmembers, mode;
    uint32_t family; /* first cluster of its family of near-duplicates */
} cluster_rec;

typedef struct work_rec {
    uint64_t str[RC_WS_COUNT_];
    uint32_t cluster;
} work_rec;

typedef struct builder {
    const recite_build_options *opt;
    unsigned kgram[RC_CHANNELS], window[RC_CHANNELS], jobs;
    uint64_t postings[RC_CHANNELS]; /* per channel, as committed */
    rc_inputs in;
    char *tmp_dir, *idx_path;
    int fd;

    /* work distribution */
    pthread_mutex_t mu;
    pthread_cond_t cond_done, cond_space;
    batch *batches;
    size_t nbatches, next_batch, committed, max_inflight;
    bool stop;

    /* committed state (writer thread only) */
    RC_VEC(cluster_rec) clusters;
    RC_VEC(work_rec) works;
    RC_VEC(uint8_t) strings;
    RC_VEC(uint32_t) checkpoints;
    RC_VEC(uint32_t) minhash; /* RC_MINHASH per cluster */
    RC_VEC(bool) minhash_usable;
    slot_table ids, contents;
    rc_sorter sorter;
    uint64_t tokens_total, text_total, works_done, bytes_done;
    uint64_t work_bytes; /* of the distinct texts (text_total counts the stored bytes) */
    rc_key key;          /* text-free: the key of the token hashes */
    bool text_free;

    recite_index *lic; /* the license index built in the temporary directory, or NULL */

    /* text blocks */
    void *dict; /* zstd dictionary of the text, or NULL */
    size_t dict_len;
    ZSTD_CDict *cdict;
    RC_VEC(uint64_t) block_table; /* raw, compressed offset pairs */
    secw *text_w;

    double t0, last_progress;
} builder;

static void progress(builder *b, bool force)
{
    if (!b->opt->progress)
        return;
    double t = now_seconds();
    if (!force && t - b->last_progress < 0.5)
        return;
    b->last_progress = t;
    recite_build_progress p = {b->works_done, b->in.sources.n, b->bytes_done, b->in.total_bytes,
                               t - b->t0};
    b->opt->progress(&p, b->opt->user);
}

static void note(builder *b, recite_note_kind kind, const char *path, const char *detail)
{
    if (b->opt->note)
        b->opt->note(kind, path, detail, b->opt->user);
}

/* ==== workers ==== */

static void *worker_main(void *arg)
{
    builder *b = arg;
    rc_work_ctx *ctx = calloc(1, sizeof *ctx);
    if (ctx) {
        ctx->cctx = ZSTD_createCCtx();
        ctx->cdict = b->cdict;
        ctx->key = b->text_free ? &b->key : NULL;
        if (!ctx->cctx || (!b->opt->skip_cmi && rc_work_cmi_init(ctx, b->lic) != RECITE_OK)) {
            rc_work_cmi_free(ctx);
            ZSTD_freeCCtx(ctx->cctx);
            free(ctx);
            ctx = NULL;
        }
    }
    pthread_mutex_lock(&b->mu);
    for (;;) {
        while (!b->stop && b->next_batch < b->nbatches &&
               b->next_batch >= b->committed + b->max_inflight)
            pthread_cond_wait(&b->cond_space, &b->mu);
        if (b->stop || b->next_batch >= b->nbatches)
            break;
        batch *bt = &b->batches[b->next_batch++];
        pthread_mutex_unlock(&b->mu);

        int rc = RECITE_OK;
        recite_error err = {0};
        bt->outs = calloc(bt->count, sizeof *bt->outs);
        if (!ctx || !bt->outs) {
            rc = rc_error_set(&err, RECITE_ENOMEM, "out of memory");
        } else {
            memcpy(ctx->kgram, b->kgram, sizeof ctx->kgram);
            memcpy(ctx->window, b->window, sizeof ctx->window);
            ctx->mode = (int)b->opt->mode;
            for (size_t i = 0; i < bt->count && rc == RECITE_OK; i++)
                rc = rc_work_load(ctx, &b->in, &b->in.sources.v[bt->first + i], &bt->outs[i], &err);
        }

        pthread_mutex_lock(&b->mu);
        bt->rc = rc;
        bt->err = err;
        bt->done = true;
        pthread_cond_broadcast(&b->cond_done);
    }
    pthread_mutex_unlock(&b->mu);
    if (ctx) {
        rc_work_cmi_free(ctx);
        ZSTD_freeCCtx(ctx->cctx);
    }
    free(ctx);
    return NULL;
}

/* ==== committing works (calling thread, input order) ==== */

/* Appends a work's compressed blocks to the text stream. */
static int append_text(builder *b, const rc_work_out *w, recite_error *err)
{
    secw_write(b->text_w, w->zdata.v, w->zdata.n);
    if (b->text_w->errnum)
        return rc_error_errno(err, RECITE_EIO, b->text_w->errnum, "%s: write failed", b->idx_path);
    uint64_t raw = b->block_table.v[b->block_table.n - 2];
    uint64_t comp = b->block_table.v[b->block_table.n - 1];
    size_t left = rc_work_stored_len(w);
    if (RC_VEC_RESERVE(b->block_table, b->block_table.n + 2 * w->zblocks.n) != RECITE_OK)
        return rc_error_set(err, RECITE_ENOMEM, "out of memory");
    for (size_t i = 0; i < w->zblocks.n; i++) {
        size_t n = RC_MIN(left, (size_t)RC_TEXT_BLOCK_SIZE);
        raw += n;
        comp += w->zblocks.v[i];
        left -= n;
        b->block_table.v[b->block_table.n++] = raw;
        b->block_table.v[b->block_table.n++] = comp;
    }
    return RECITE_OK;
}

static int add_string(builder *b, const char *s, uint64_t *off)
{
    if (!s) {
        *off = 0;
        return RECITE_OK;
    }
    size_t n = strlen(s) + 1;
    if (RC_VEC_RESERVE(b->strings, b->strings.n + n) != RECITE_OK)
        return RECITE_ENOMEM;
    *off = b->strings.n;
    memcpy(b->strings.v + b->strings.n, s, n);
    b->strings.n += n;
    return RECITE_OK;
}

static int commit_work(builder *b, const rc_source *src, rc_work_out *w, recite_error *err)
{
    const char *path = b->in.paths.v[src->path];
    const char *id = w->strs[RC_WS_ID];
    if (w->status != RC_WORK_OK) {
        const char *why = w->status == RC_WORK_SKIP_EMPTY ? "empty" : "binary (contains NUL bytes)";
        if (src->explicit_ && src->kind == RC_SRC_FILE)
            return rc_error_set(err, RECITE_EFORMAT, "%s: cannot index: file is %s", path, why);
        note(b,
             w->status == RC_WORK_SKIP_EMPTY ? RECITE_NOTE_SKIPPED_EMPTY
                                             : RECITE_NOTE_SKIPPED_BINARY,
             id ? id : path, why);
        return RECITE_OK;
    }
    if (b->works.n >= UINT32_MAX)
        return rc_error_set(err, RECITE_ELIMIT, "more than 2^32-1 works in one index");

    /* Work ids are unique. */
    uint64_t idh = nonzero(rc_hash64(id, strlen(id), 0));
    size_t it = SIZE_MAX;
    uint32_t other;
    while (table_next(&b->ids, idh, &it, &other)) {
        if (strcmp((const char *)b->strings.v + b->works.v[other].str[RC_WS_ID], id) == 0) {
            if (src->kind == RC_SRC_JSONL)
                return rc_error_set(err, RECITE_EFORMAT, "%s:%llu: duplicate work id \"%s\"", path,
                                    (unsigned long long)src->line, id);
            return rc_error_set(err, RECITE_EINVAL, "%s: duplicate work id (given twice?)", id);
        }
    }
    uint32_t wnum = (uint32_t)b->works.n;
    if (table_put(&b->ids, idh, wnum) != RECITE_OK)
        return rc_error_set(err, RECITE_ENOMEM, "out of memory");

    /* Identical text: join the existing cluster. */
    uint32_t cluster = UINT32_MAX;
    it = SIZE_MAX;
    uint32_t c;
    uint64_t ch = nonzero(w->content.lo);
    while (table_next(&b->contents, ch, &it, &c)) {
        const cluster_rec *cr = &b->clusters.v[c];
        if (cr->content.lo == w->content.lo && cr->content.hi == w->content.hi &&
            cr->text_len == w->text_len) {
            cluster = c;
            uint32_t rep = b->clusters.v[c].member0; /* first work, recorded at creation */
            note(b, RECITE_NOTE_DUPLICATE, id,
                 (const char *)b->strings.v + b->works.v[rep].str[RC_WS_ID]);
            break;
        }
    }
    int rc;
    if (cluster == UINT32_MAX) {
        if (b->clusters.n >= UINT32_MAX)
            return rc_error_set(err, RECITE_ELIMIT, "too many distinct works");
        if (b->tokens_total + w->ntokens > UINT32_MAX)
            return rc_error_set(err, RECITE_ELIMIT,
                                "%s: the library exceeds 2^32 tokens, the limit of one index "
                                "shard; split it into several indexes",
                                id);
        cluster = (uint32_t)b->clusters.n;
        cluster_rec cr = {.text_offset = b->text_total,
                          .text_len = w->text_len,
                          .token_base = b->tokens_total,
                          .ntokens = w->ntokens,
                          .checkpoint0 = b->checkpoints.n,
                          .content = w->content,
                          .member0 = wnum,
                          .nmembers = 0,
                          .mode = (uint32_t)w->mode,
                          .family = cluster};
        if (RC_VEC_PUSH(b->clusters, cr) != RECITE_OK ||
            table_put(&b->contents, ch, cluster) != RECITE_OK)
            return rc_error_set(err, RECITE_ENOMEM, "out of memory");
        if ((rc = append_text(b, w, err)) != RECITE_OK)
            return rc;
        for (size_t i = 0; i < w->fps.n; i++) {
            /* Sort key: channel (2 bits), fingerprint (46 bits); then the contexts (16 bits). */
            const rc_fp *fp = &w->fps.v[i];
            rc_posting_rec r = {((uint64_t)fp->channel << 62) | ((fp->hash >> 18) << 16) | fp->ctx,
                                (uint32_t)(b->tokens_total + fp->pos), cluster};
            b->postings[fp->channel]++;
            if ((rc = rc_sorter_add(&b->sorter, &r, err)) != RECITE_OK)
                return rc;
        }
        if (RC_VEC_RESERVE(b->checkpoints, b->checkpoints.n + w->checkpoints.n) != RECITE_OK)
            return rc_error_set(err, RECITE_ENOMEM, "out of memory");
        memcpy(b->checkpoints.v + b->checkpoints.n, w->checkpoints.v,
               w->checkpoints.n * sizeof *w->checkpoints.v);
        b->checkpoints.n += w->checkpoints.n;
        b->text_total += rc_work_stored_len(w);
        b->work_bytes += w->text_len;
        b->tokens_total += w->ntokens;
        if (RC_VEC_RESERVE(b->minhash, b->minhash.n + RC_MINHASH) != RECITE_OK ||
            RC_VEC_PUSH(b->minhash_usable, w->minhash_usable) != RECITE_OK)
            return rc_error_set(err, RECITE_ENOMEM, "out of memory");
        memcpy(b->minhash.v + b->minhash.n, w->minhash, sizeof w->minhash);
        b->minhash.n += RC_MINHASH;
    }
    if (w->invalid_utf8) {
        char msg[96];
        snprintf(msg, sizeof msg, "%llu bytes of invalid UTF-8 read as Windows-1252",
                 (unsigned long long)w->invalid_utf8);
        note(b, RECITE_NOTE_INVALID_UTF8, id, msg);
    }
    work_rec wr = {{0}, cluster};
    for (unsigned f = 0; f < RC_WS_COUNT_; f++)
        if (add_string(b, w->strs[f], &wr.str[f]) != RECITE_OK)
            return rc_error_set(err, RECITE_ENOMEM, "out of memory");
    if (RC_VEC_PUSH(b->works, wr) != RECITE_OK)
        return rc_error_set(err, RECITE_ENOMEM, "out of memory");
    return RECITE_OK;
}

/* ==== families ==== */

static int compute_families(builder *b, recite_error *err)
{
    uint32_t *family = malloc((b->clusters.n + 1) * sizeof *family);
    if (!family)
        return rc_error_set(err, RECITE_ENOMEM, "out of memory");
    if (rc_families(b->minhash.v, b->minhash_usable.v, (uint32_t)b->clusters.n, family) !=
        RECITE_OK) {
        free(family);
        return rc_error_set(err, RECITE_ENOMEM, "out of memory");
    }
    for (size_t c = 0; c < b->clusters.n; c++)
        b->clusters.v[c].family = family[c];
    free(family);
    return RECITE_OK;
}

/* ==== writing the tables ==== */

static int write_tables(builder *b, secw *w, section_entry *sec, size_t *nsec, uint64_t *off,
                        recite_error *err)
{
    /* Members grouped by cluster, in work order (so the representative comes first). */
    uint32_t *members = malloc((b->works.n + 1) * sizeof *members);
    uint32_t *fill = calloc(b->clusters.n + 1, sizeof *fill);
    if (!members || !fill) {
        free(members);
        free(fill);
        return rc_error_set(err, RECITE_ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < b->works.n; i++)
        b->clusters.v[b->works.v[i].cluster].nmembers++;
    uint32_t sum = 0;
    for (size_t c = 0; c < b->clusters.n; c++) {
        b->clusters.v[c].member0 = sum;
        fill[c] = sum;
        sum += b->clusters.v[c].nmembers;
    }
    for (size_t i = 0; i < b->works.n; i++)
        members[fill[b->works.v[i].cluster]++] = (uint32_t)i;
    free(fill);

    /* text block table */
    *off = align_up(*off);
    secw_begin(w, b->fd, *off);
    for (size_t i = 0; i < b->block_table.n; i++)
        secw_u64(w, b->block_table.v[i]);
    sec[(*nsec)++] = secw_end(w, RC_SEC_TEXT_BLOCKS);
    *off = align_up(w->off);

    secw_begin(w, b->fd, *off);
    for (size_t c = 0; c < b->clusters.n; c++) {
        const cluster_rec *cr = &b->clusters.v[c];
        secw_u64(w, cr->text_offset);
        secw_u64(w, cr->text_len);
        secw_u64(w, cr->token_base);
        secw_u64(w, cr->ntokens);
        secw_u64(w, cr->checkpoint0);
        secw_u32(w, cr->member0);
        secw_u32(w, cr->nmembers);
        secw_u32(w, rc_mode_to_disk((int)cr->mode));
        secw_u32(w, cr->family);
    }
    sec[(*nsec)++] = secw_end(w, RC_SEC_CLUSTERS);
    *off = align_up(w->off);

    secw_begin(w, b->fd, *off);
    for (size_t i = 0; i < b->works.n; i++) {
        for (unsigned f = 0; f < RC_WS_COUNT_; f++)
            secw_u64(w, b->works.v[i].str[f]);
        secw_u32(w, b->works.v[i].cluster);
        secw_u32(w, 0);
    }
    sec[(*nsec)++] = secw_end(w, RC_SEC_WORKS);
    *off = align_up(w->off);

    secw_begin(w, b->fd, *off);
    for (size_t i = 0; i < b->works.n; i++)
        secw_u32(w, members[i]);
    sec[(*nsec)++] = secw_end(w, RC_SEC_MEMBERS);
    *off = align_up(w->off);
    free(members);

    secw_begin(w, b->fd, *off);
    secw_write(w, b->strings.v, b->strings.n);
    sec[(*nsec)++] = secw_end(w, RC_SEC_STRINGS);
    *off = align_up(w->off);

    secw_begin(w, b->fd, *off);
    for (size_t i = 0; i < b->checkpoints.n; i++)
        secw_u32(w, b->checkpoints.v[i]);
    sec[(*nsec)++] = secw_end(w, RC_SEC_CHECKPOINTS);
    *off = align_up(w->off);
    if (w->errnum)
        return rc_error_errno(err, RECITE_EIO, w->errnum, "%s: write failed", b->idx_path);
    return RECITE_OK;
}

static unsigned bucket_bits_for(uint64_t npostings)
{
    unsigned bits = 0;
    while (bits < 32 && ((uint64_t)8 << bits) < npostings)
        bits++;
    return bits;
}

/* The fingerprint in a sort record: its top 46 bits (the low bits are not kept). */
static uint64_t rec_fingerprint(const rc_posting_rec *r)
{
    return ((r->hash >> 16) & (((uint64_t)1 << 46) - 1)) << 18;
}

static unsigned rec_channel(const rc_posting_rec *r)
{
    return (unsigned)(r->hash >> 62);
}

/* The three posting sections of one channel, written while its postings stream by. */
typedef struct channel_out {
    unsigned bits;
    uint64_t n, nb;
    uint32_t *dir;
    uint64_t dir_off, key_off, pos_off;
} channel_out;

/* Writes a group of postings with one fingerprint, now that its document frequency (the
 * number of distinct texts, clusters increasing with the position) is known. */
static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

/* Distinct families among the clusters of a group of postings (scratch: room for n). */
static uint64_t distinct_families(const builder *b, const rc_posting_rec *g, size_t n,
                                  uint32_t *scratch)
{
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (i == 0 || g[i].cluster != g[i - 1].cluster)
            scratch[m++] = b->clusters.v[g[i].cluster].family;
    rc_sort(scratch, m, sizeof *scratch, cmp_u32);
    uint64_t distinct = m ? 1 : 0;
    for (size_t i = 1; i < m; i++)
        distinct += scratch[i] != scratch[i - 1];
    return distinct;
}

static void write_group(const builder *b, channel_out *co, secw *key_w, secw *pos_w,
                        const rc_posting_rec *g, size_t n, uint32_t *scratch)
{
    unsigned df = rc_df_class(n == 1 ? 1 : distinct_families(b, g, n, scratch));
    for (size_t i = 0; i < n; i++) {
        uint64_t fp = rec_fingerprint(&g[i]);
        co->dir[(co->bits ? fp >> (64 - co->bits) : 0) + 1]++;
        unsigned ctx = (unsigned)(g[i].hash & 0xffff);
        uint8_t v[4];
        rc_put_u32(v, rc_posting_key(fp, co->bits, df, ctx >> 8, ctx & 0xff));
        secw_write(key_w, v, 4);
        rc_put_u32(v, g[i].gpos);
        secw_write(pos_w, v, 4);
    }
}

/* Postings come out of the sort grouped by channel, then by fingerprint. Each channel's
 * sections are laid out in advance (its posting count is known) and filled as they stream. */
static int write_postings(builder *b, secw *w, section_entry *sec, size_t *nsec, uint64_t *off,
                          recite_error *err)
{
    int rc = rc_sorter_finish(&b->sorter, err);
    if (rc != RECITE_OK)
        return rc;
    channel_out co[RC_CHANNELS];
    memset(co, 0, sizeof co);
    secw *pos_w = malloc(sizeof *pos_w);
    if (!pos_w || !(pos_w->xs = XXH3_createState())) {
        free(pos_w);
        return rc_error_set(err, RECITE_ENOMEM, "out of memory");
    }
    for (unsigned c = 0; c < RC_CHANNELS; c++) {
        co[c].n = b->postings[c];
        if (co[c].n > UINT32_MAX) {
            rc = rc_error_set(err, RECITE_ELIMIT, "more than 2^32 fingerprints in one index");
            goto done;
        }
        co[c].bits = bucket_bits_for(co[c].n);
        co[c].nb = (uint64_t)1 << co[c].bits;
        if (!(co[c].dir = calloc(co[c].nb + 1, sizeof *co[c].dir))) {
            rc = rc_error_set(err, RECITE_ENOMEM, "out of memory");
            goto done;
        }
        co[c].dir_off = *off;
        co[c].key_off = align_up(co[c].dir_off + (co[c].nb + 1) * 4);
        co[c].pos_off = align_up(co[c].key_off + co[c].n * 4);
        *off = align_up(co[c].pos_off + co[c].n * 4);
    }
    RC_VEC(rc_posting_rec) group = {0};
    RC_VEC(uint32_t) scratch = {0};
    unsigned cur = 0;
    secw_begin(w, b->fd, co[0].key_off);
    secw_begin(pos_w, b->fd, co[0].pos_off);
    for (;;) {
        rc_posting_rec r;
        rc = rc_sorter_next(&b->sorter, &r, err);
        if (rc < 0)
            break;
        if (group.n && (rc == 0 || RC_SORT_KEY(r.hash) != RC_SORT_KEY(group.v[0].hash))) {
            if (RC_VEC_RESERVE(scratch, group.n) != RECITE_OK) {
                rc = rc_error_set(err, RECITE_ENOMEM, "out of memory");
                break;
            }
            write_group(b, &co[cur], w, pos_w, group.v, group.n, scratch.v);
            group.n = 0;
        }
        /* Close the sections of the channels before this record's (or of all at the end). */
        unsigned next = rc == 0 ? RC_CHANNELS : rec_channel(&r);
        while (cur < next) {
            sec[(*nsec)++] = secw_end(w, RC_SEC_POST_KEY(cur));
            sec[(*nsec)++] = secw_end(pos_w, RC_SEC_POST_POS(cur));
            if (++cur < RC_CHANNELS) {
                secw_begin(w, b->fd, co[cur].key_off);
                secw_begin(pos_w, b->fd, co[cur].pos_off);
            }
        }
        if (rc == 0)
            break;
        if (RC_VEC_PUSH(group, r) != RECITE_OK) {
            rc = rc_error_set(err, RECITE_ENOMEM, "out of memory");
            break;
        }
    }
    RC_VEC_FREE(group);
    RC_VEC_FREE(scratch);
    if (rc < 0)
        goto done;
    if (w->errnum || pos_w->errnum) {
        rc = rc_error_errno(err, RECITE_EIO, w->errnum ? w->errnum : pos_w->errnum,
                            "%s: write failed", b->idx_path);
        goto done;
    }
    for (unsigned c = 0; c < RC_CHANNELS; c++) {
        for (uint64_t i = 1; i <= co[c].nb; i++)
            co[c].dir[i] += co[c].dir[i - 1];
        secw_begin(w, b->fd, co[c].dir_off);
        for (uint64_t i = 0; i <= co[c].nb; i++)
            secw_u32(w, co[c].dir[i]);
        sec[(*nsec)++] = secw_end(w, RC_SEC_POST_DIR(c));
    }
    /* The channel table. */
    secw_begin(w, b->fd, *off);
    for (unsigned c = 0; c < RC_CHANNELS; c++) {
        secw_u32(w, b->kgram[c]);
        secw_u32(w, b->window[c]);
        secw_u32(w, co[c].bits);
        secw_u32(w, 0);
        secw_u64(w, co[c].n);
        secw_u64(w, 0);
    }
    sec[(*nsec)++] = secw_end(w, RC_SEC_CHANNELS);
    *off = w->off;
    rc = w->errnum ? rc_error_errno(err, RECITE_EIO, w->errnum, "%s: write failed", b->idx_path)
                   : RECITE_OK;
done:
    for (unsigned c = 0; c < RC_CHANNELS; c++)
        free(co[c].dir);
    XXH3_freeState(pos_w->xs);
    free(pos_w);
    return rc;
}

static int write_header(builder *b, const section_entry *sec, size_t nsec, uint64_t file_size,
                        recite_error *err)
{
    uint8_t h[RC_DATA_OFFSET];
    memset(h, 0, sizeof h);
    memcpy(h + RC_H_MAGIC, RC_INDEX_MAGIC, 8);
    rc_put_u32(h + RC_H_VERSION, RC_FORMAT_VERSION);
    rc_put_u32(h + RC_H_TOKENIZER, RC_TOKENIZER_VERSION);
    rc_put_u64(h + RC_H_FILE_SIZE, file_size);
    rc_put_u64(h + RC_H_CREATED,
               b->opt->created_unix ? b->opt->created_unix : (uint64_t)time(NULL));
    rc_put_u32(h + RC_H_MODE, rc_mode_to_disk((int)b->opt->mode));
    rc_put_u32(h + RC_H_NSECTIONS, (uint32_t)nsec);
    rc_put_u64(h + RC_H_NWORKS, b->works.n);
    rc_put_u64(h + RC_H_NCLUSTERS, b->clusters.n);
    rc_put_u64(h + RC_H_NTOKENS, b->tokens_total);
    rc_put_u64(h + RC_H_TEXT_BYTES, b->text_total);
    rc_put_u64(h + RC_H_WORK_BYTES, b->work_bytes);
    rc_put_u64(h + RC_H_FLAGS,
               (b->text_free ? RC_FLAG_TEXT_FREE : 0) | (b->opt->skip_cmi ? 0 : RC_FLAG_CMI));
    if (b->text_free)
        rc_put_u64(h + RC_H_KEY_CHECK, b->key.check);
    rc_put_u32(h + RC_H_BLOCK_SIZE, RC_TEXT_BLOCK_SIZE);
    for (size_t i = 0; i < nsec; i++) {
        uint8_t *e = h + RC_SECTIONS_OFFSET + i * RC_SECTION_ENTRY_SIZE;
        rc_put_u32(e, sec[i].id);
        rc_put_u64(e + 8, sec[i].offset);
        rc_put_u64(e + 16, sec[i].length);
        rc_put_u64(e + 24, sec[i].checksum);
    }
    rc_put_u64(h + RC_H_CHECKSUM, XXH3_64bits(h, RC_DATA_OFFSET));
    if (pwrite(b->fd, h, sizeof h, 0) != (ssize_t)sizeof h)
        return rc_error_errno(err, RECITE_EIO, errno, "%s: write failed", b->idx_path);
    /* Pad the file to its recorded size (the last section may end short of an aligned size). */
    if (ftruncate(b->fd, (off_t)file_size) != 0)
        return rc_error_errno(err, RECITE_EIO, errno, "%s: cannot size", b->idx_path);
    return RECITE_OK;
}

/* ==== temporary directory and atomic publish ==== */

/* Removes a temporary index directory (spill runs are removed by the sorter). */
static void remove_tmp_dir(const char *dir)
{
    if (!dir)
        return;
    rc_unlink_in(dir, RC_INDEX_FILE);
    rc_unlink_in(dir, "licenses/" RC_INDEX_FILE);
    rc_unlink_in(dir, "licenses.jsonl");
    rc_unlink_in(dir, RC_CATALOG_FILE);
    char *sub;
    if (asprintf(&sub, "%s/licenses", dir) >= 0) {
        rmdir(sub);
        free(sub);
    }
    rmdir(dir);
}

/* A temporary directory of a build that was killed (its process is gone): recite.idx, run-*.tmp
 * spill files, the license index and a link to the catalogue. */
static void remove_stale_dir(const char *dir)
{
    DIR *sub = opendir(dir);
    struct dirent *f;
    while (sub && (f = readdir(sub)) != NULL) {
        size_t n = strlen(f->d_name);
        if (strncmp(f->d_name, "run-", 4) == 0 && n > 4 && strcmp(f->d_name + n - 4, ".tmp") == 0)
            rc_unlink_in(dir, f->d_name);
    }
    if (sub)
        closedir(sub);
    remove_tmp_dir(dir);
}

/* An existing target must be an index (or an empty directory) before we replace it. */
static int check_target(const char *out_dir, recite_error *err)
{
    struct stat st;
    if (lstat(out_dir, &st) != 0)
        return errno == ENOENT
                   ? RECITE_OK
                   : rc_error_errno(err, RECITE_EIO, errno, "%s: cannot access", out_dir);
    if (!S_ISDIR(st.st_mode))
        return rc_error_set(err, RECITE_EINVAL, "%s: exists and is not a directory", out_dir);
    char *path;
    if (asprintf(&path, "%s/%s", out_dir, RC_INDEX_FILE) < 0)
        return rc_error_set(err, RECITE_ENOMEM, "out of memory");
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    free(path);
    char magic[8] = {0};
    if (fd >= 0) {
        ssize_t r = read(fd, magic, 8);
        close(fd);
        if (r == 8 && memcmp(magic, RC_INDEX_MAGIC, 8) == 0)
            return RECITE_OK;
    }
    /* An empty directory is fine too. */
    DIR *d = opendir(out_dir);
    bool empty = d != NULL;
    struct dirent *e;
    while (d && (e = readdir(d)) != NULL)
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
            empty = false;
    if (d)
        closedir(d);
    if (empty)
        return RECITE_OK;
    return rc_error_set(err, RECITE_EINVAL,
                        "%s: exists and is not a recite index; refusing to replace it", out_dir);
}

/* The provenance catalogue (deletions, audit log) outlives rebuilds: the new directory gets a
 * hard link to it, so a deletion recorded during the build lands in the same file, and the
 * catalogue build that follows (recite_catalog_build) carries it over. */
static int keep_catalogue(const char *tmp_dir, const char *out_dir, recite_error *err)
{
    char *from, *to;
    if (asprintf(&from, "%s/%s", out_dir, RC_CATALOG_FILE) < 0)
        return rc_error_set(err, RECITE_ENOMEM, "out of memory");
    if (asprintf(&to, "%s/%s", tmp_dir, RC_CATALOG_FILE) < 0) {
        free(from);
        return rc_error_set(err, RECITE_ENOMEM, "out of memory");
    }
    int rc = RECITE_OK;
    if (link(from, to) != 0 && errno != ENOENT)
        rc = rc_error_errno(err, RECITE_EIO, errno, "%s: cannot keep the catalogue", from);
    free(from);
    free(to);
    return rc;
}

static int publish(const char *tmp_dir, const char *out_dir, recite_error *err)
{
    struct stat st;
    if (lstat(out_dir, &st) == 0) {
        int rc = keep_catalogue(tmp_dir, out_dir, err);
        if (rc != RECITE_OK)
            return rc;
        /* Swap atomically, then delete the old index, now at tmp_dir. */
        if (renameat2(AT_FDCWD, tmp_dir, AT_FDCWD, out_dir, RENAME_EXCHANGE) == 0) {
            remove_tmp_dir(tmp_dir);
            return RECITE_OK;
        }
        if (errno != EINVAL && errno != ENOSYS)
            return rc_error_errno(err, RECITE_EIO, errno, "%s: cannot publish", out_dir);
        /* No RENAME_EXCHANGE on this file system: move the old one aside first. */
        char *old;
        if (asprintf(&old, "%s.old", tmp_dir) < 0)
            return rc_error_set(err, RECITE_ENOMEM, "out of memory");
        if (rename(out_dir, old) != 0) {
            free(old);
            return rc_error_errno(err, RECITE_EIO, errno, "%s: cannot move aside", out_dir);
        }
        if (rename(tmp_dir, out_dir) != 0) {
            int e = errno;
            rename(old, out_dir);
            free(old);
            return rc_error_errno(err, RECITE_EIO, e, "%s: cannot publish", out_dir);
        }
        remove_tmp_dir(old);
        free(old);
        return RECITE_OK;
    }
    if (rename(tmp_dir, out_dir) != 0)
        return rc_error_errno(err, RECITE_EIO, errno, "%s: cannot publish", out_dir);
    return RECITE_OK;
}

/* ==== the build ==== */

static void make_batches(builder *b)
{
    size_t n = b->in.sources.n, nb = 0, i = 0;
    while (i < n) {
        size_t first = i;
        uint64_t bytes = 0;
        while (i < n && i - first < BATCH_WORKS && (i == first || bytes < BATCH_BYTES))
            bytes += b->in.sources.v[i++].length;
        b->batches[nb++] = (batch){first, i - first, NULL, RECITE_OK, {0}, false};
    }
    b->nbatches = nb;
}

static void builder_free(builder *b)
{
    for (size_t i = 0; i < b->nbatches; i++) {
        if (b->batches[i].outs) {
            for (size_t k = 0; k < b->batches[i].count; k++)
                rc_work_out_free(&b->batches[i].outs[k]);
            free(b->batches[i].outs);
        }
    }
    free(b->batches);
    rc_inputs_free(&b->in);
    RC_VEC_FREE(b->clusters);
    RC_VEC_FREE(b->works);
    RC_VEC_FREE(b->strings);
    RC_VEC_FREE(b->checkpoints);
    RC_VEC_FREE(b->minhash);
    RC_VEC_FREE(b->minhash_usable);
    RC_VEC_FREE(b->block_table);
    table_free(&b->ids);
    table_free(&b->contents);
    rc_sorter_free(&b->sorter);
    recite_index_close(b->lic);
    ZSTD_freeCDict(b->cdict);
    free(b->dict);
    if (b->text_w) {
        XXH3_freeState(b->text_w->xs);
        free(b->text_w);
    }
    if (b->fd >= 0)
        close(b->fd);
    free(b->idx_path);
    free(b->tmp_dir);
}

static unsigned online_cpus(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (unsigned)RC_MIN(n, 256) : 1;
}

/* The works of an existing index as the inputs of a build (compaction). */
static int inputs_from_index(rc_inputs *in, const recite_index *from, const char *dir,
                             const uint32_t *works, size_t nworks, recite_error *err)
{
    memset(in, 0, sizeof *in);
    in->from = from;
    char *d = strdup(dir);
    if (!d || RC_VEC_PUSH(in->paths, d) != RECITE_OK) {
        free(d);
        return rc_error_set(err, RECITE_ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < nworks; i++) {
        recite_work_info info;
        if (recite_index_work(&info, from, works[i]) != RECITE_OK)
            return rc_error_set(err, RECITE_EINVAL, "no work %u in %s", works[i], dir);
        rc_source src = {0, RC_SRC_INDEX, 1, works[i], info.bytes, 0};
        if (RC_VEC_PUSH(in->sources, src) != RECITE_OK)
            return rc_error_set(err, RECITE_ENOMEM, "out of memory");
        in->total_bytes += info.bytes;
    }
    return RECITE_OK;
}

static int build_index(const char *const *paths, size_t npaths, const recite_index *from,
                       const uint32_t *works, size_t nworks, const char *out_dir,
                       const recite_build_options *opt_in, recite_build_stats *stats,
                       recite_error *err)
{
    recite_build_options defaults = RECITE_BUILD_OPTIONS_INIT;
    const recite_build_options *opt = opt_in ? opt_in : &defaults;
    if (opt->version != RECITE_BUILD_OPTIONS_VERSION)
        return rc_error_set(err, RECITE_EINVAL, "build options version %u not supported",
                            opt->version);
    if (!out_dir || !*out_dir)
        return rc_error_set(err, RECITE_EINVAL, "no output directory given");
    if (npaths == 0 && !from)
        return rc_error_set(err, RECITE_EINVAL, "no input paths given");
    if (opt->mode != RECITE_MODE_PROSE && opt->mode != RECITE_MODE_CODE &&
        opt->mode != RECITE_MODE_AUTO)
        return rc_error_set(err, RECITE_EINVAL, "unknown mode %d", (int)opt->mode);

    builder B;
    memset(&B, 0, sizeof B);
    builder *b = &B;
    b->fd = -1;
    b->opt = opt;
    b->t0 = now_seconds();
    unsigned min_tokens = opt->min_tokens ? opt->min_tokens : 12;
    unsigned code_min = opt->code_min_tokens ? opt->code_min_tokens : 65;
    if (rc_fingerprint_params(min_tokens, &b->kgram[RC_CH_PROSE], &b->window[RC_CH_PROSE]) !=
        RECITE_OK)
        return rc_error_set(err, RECITE_EINVAL, "--min-tokens %u out of range (1-%u)", min_tokens,
                            RC_WINDOW_MAX + 5);
    if (rc_fingerprint_params_code(code_min, &b->kgram[RC_CH_CODE], &b->window[RC_CH_CODE]) !=
        RECITE_OK)
        return rc_error_set(err, RECITE_EINVAL, "--code-min-tokens %u out of range (1-%u)",
                            code_min, RC_WINDOW_MAX + RC_KGRAM_MAX - 1);
    b->kgram[RC_CH_SHAPE] = b->kgram[RC_CH_CODE];
    b->window[RC_CH_SHAPE] = b->window[RC_CH_CODE];
    if (opt->text_free_key) {
        if (rc_key_derive(&b->key, opt->text_free_key, opt->text_free_key_len) != RECITE_OK)
            return rc_error_set(err, RECITE_EINVAL,
                                "the key of a text-free index must have at least %d bytes",
                                RC_KEY_MIN_SECRET);
        b->text_free = true;
    }
    b->jobs = opt->jobs ? RC_MIN(opt->jobs, 256u) : online_cpus();
    uint64_t mem = opt->mem_budget ? opt->mem_budget : DEFAULT_MEM;
    if (mem < (16u << 20))
        return rc_error_set(err, RECITE_EINVAL, "--mem must be at least 16 MiB");
    /* Batches vary a lot in cost (512 small files or one 4 MB file), so workers need room to
     * run ahead of the in-order commit: up to 8 batches per worker, within a quarter of the
     * budget (a batch holds about 2 x BATCH_BYTES with its fingerprints). */
    b->max_inflight = RC_MIN(8 * (size_t)b->jobs, (size_t)(mem / 4 / (2 * BATCH_BYTES)));
    if (b->max_inflight < (size_t)b->jobs + 1)
        b->max_inflight = (size_t)b->jobs + 1;

    int rc = check_target(out_dir, err);
    if (rc != RECITE_OK)
        return rc;
    if ((rc = from ? inputs_from_index(&b->in, from, out_dir, works, nworks, err)
                   : rc_inputs_collect(&b->in, paths, npaths, opt->note, opt->user, err)) !=
        RECITE_OK) {
        rc_inputs_free(&b->in);
        return rc;
    }

    pthread_t *threads = NULL;
    size_t nthreads = 0;
    bool sync_ready = false;
    char base[256];
    char *parent = rc_parent_dir(out_dir);
    rc_base_name(out_dir, base, sizeof base);
    char prefix[300];
    snprintf(prefix, sizeof prefix, ".%s.tmp-", base);
    if (parent)
        rc_remove_stale(parent, prefix, remove_stale_dir);
    if (!parent ||
        asprintf(&b->tmp_dir, "%s/.%s.tmp-%ld-XXXXXX", parent, base, (long)getpid()) < 0) {
        b->tmp_dir = NULL;
        free(parent);
        rc = rc_error_set(err, RECITE_ENOMEM, "out of memory");
        goto fail;
    }
    free(parent);
    if (!mkdtemp(b->tmp_dir)) {
        rc = rc_error_errno(err, RECITE_EIO, errno, "%s: cannot create temporary directory",
                            b->tmp_dir);
        free(b->tmp_dir);
        b->tmp_dir = NULL;
        goto fail;
    }
    if (asprintf(&b->idx_path, "%s/%s", b->tmp_dir, RC_INDEX_FILE) < 0) {
        b->idx_path = NULL;
        rc = rc_error_set(err, RECITE_ENOMEM, "out of memory");
        goto fail;
    }
    b->fd = open(b->idx_path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (b->fd < 0) {
        rc = rc_error_errno(err, RECITE_EIO, errno, "%s: cannot create", b->idx_path);
        goto fail;
    }

    /* Half the budget sorts postings; the rest is batches in flight and the tables. */
    if ((rc = rc_sorter_init(&b->sorter, (size_t)(mem / 2),
                             opt->tmp_dir ? opt->tmp_dir : b->tmp_dir, err)) != RECITE_OK)
        goto fail;
    if (!opt->skip_cmi) {
        bool built;
        rc_license_src src = {opt->debian_licenses_dir, opt->spdx_dir, opt->license_cache_dir,
                              opt->tmp_dir, b->jobs};
        if ((rc = rc_license_index_build(b->tmp_dir, &src, &built, err)) != RECITE_OK)
            goto fail;
        char *lic;
        if (built && asprintf(&lic, "%s/licenses", b->tmp_dir) >= 0) {
            rc = recite_index_open(&b->lic, lic, err);
            free(lic);
            if (rc != RECITE_OK)
                goto fail;
        }
    }
    /* A dictionary is made of pieces of the texts: a text-free index has none. */
    if (!b->text_free &&
        (rc = rc_store_dict_train(&b->in, &b->dict, &b->dict_len, err)) != RECITE_OK)
        goto fail;
    if (b->dict && !(b->cdict = ZSTD_createCDict(b->dict, b->dict_len, RC_TEXT_LEVEL))) {
        rc = rc_error_set(err, RECITE_ENOMEM, "out of memory");
        goto fail;
    }
    b->text_w = malloc(sizeof *b->text_w);
    b->batches = calloc(b->in.sources.n + 1, sizeof *b->batches);
    if (!b->text_w || !b->batches || !(b->text_w->xs = XXH3_createState()) ||
        RC_VEC_PUSH(b->strings, 0) != RECITE_OK || RC_VEC_PUSH(b->block_table, 0) != RECITE_OK ||
        RC_VEC_PUSH(b->block_table, 0) != RECITE_OK) {
        rc = rc_error_set(err, RECITE_ENOMEM, "out of memory");
        goto fail;
    }
    secw_begin(b->text_w, b->fd, RC_DATA_OFFSET);
    make_batches(b);

    pthread_mutex_init(&b->mu, NULL);
    pthread_cond_init(&b->cond_done, NULL);
    pthread_cond_init(&b->cond_space, NULL);
    sync_ready = true;
    threads = calloc(b->jobs, sizeof *threads);
    if (!threads) {
        rc = rc_error_set(err, RECITE_ENOMEM, "out of memory");
        goto fail;
    }
    for (; nthreads < b->jobs; nthreads++)
        if (pthread_create(&threads[nthreads], NULL, worker_main, b) != 0)
            break;
    if (nthreads == 0) {
        rc = rc_error_set(err, RECITE_ENOMEM, "cannot start worker threads");
        goto fail;
    }

    /* Commit batches in input order. */
    for (size_t i = 0; i < b->nbatches; i++) {
        batch *bt = &b->batches[i];
        pthread_mutex_lock(&b->mu);
        while (!bt->done) {
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            ts.tv_nsec += 250000000;
            if (ts.tv_nsec >= 1000000000) {
                ts.tv_sec++;
                ts.tv_nsec -= 1000000000;
            }
            pthread_cond_timedwait(&b->cond_done, &b->mu, &ts);
            if (!bt->done) {
                pthread_mutex_unlock(&b->mu);
                progress(b, false);
                pthread_mutex_lock(&b->mu);
            }
        }
        pthread_mutex_unlock(&b->mu);
        if (bt->rc != RECITE_OK) {
            if (err)
                *err = bt->err;
            rc = bt->rc;
            goto fail;
        }
        for (size_t k = 0; k < bt->count; k++) {
            const rc_source *src = &b->in.sources.v[bt->first + k];
            if ((rc = commit_work(b, src, &bt->outs[k], err)) != RECITE_OK)
                goto fail;
            b->works_done++;
            b->bytes_done += src->length;
            rc_work_out_free(&bt->outs[k]);
        }
        free(bt->outs);
        bt->outs = NULL;
        pthread_mutex_lock(&b->mu);
        b->committed = i + 1;
        pthread_cond_broadcast(&b->cond_space);
        pthread_mutex_unlock(&b->mu);
        progress(b, false);
    }
    for (size_t i = 0; i < nthreads; i++)
        pthread_join(threads[i], NULL);
    nthreads = 0;
    progress(b, true);

    if (b->works.n == 0) {
        rc = rc_error_set(err, RECITE_EEMPTY,
                          "no works to index (all inputs were empty, binary "
                          "or hidden)");
        goto fail;
    }
    if ((rc = compute_families(b, err)) != RECITE_OK)
        goto fail;
    section_entry sec[RC_MAX_SECTIONS];
    size_t nsec = 0;
    sec[nsec++] = secw_end(b->text_w, RC_SEC_TEXT_DATA);
    uint64_t off = align_up(b->text_w->off);
    secw_begin(b->text_w, b->fd, off);
    secw_write(b->text_w, b->dict, b->dict_len);
    sec[nsec++] = secw_end(b->text_w, RC_SEC_TEXT_DICT);
    off = b->text_w->off;
    if ((rc = write_tables(b, b->text_w, sec, &nsec, &off, err)) != RECITE_OK)
        goto fail;
    off = align_up(off);
    if ((rc = write_postings(b, b->text_w, sec, &nsec, &off, err)) != RECITE_OK)
        goto fail;
    uint64_t file_size = align_up(off);
    if ((rc = write_header(b, sec, nsec, file_size, err)) != RECITE_OK)
        goto fail;
    if (fsync(b->fd) != 0) {
        rc = rc_error_errno(err, RECITE_EIO, errno, "%s: fsync failed", b->idx_path);
        goto fail;
    }
    close(b->fd);
    b->fd = -1;
    rc_fsync_path(b->tmp_dir);
    recite_index_close(b->lic);
    b->lic = NULL;
    uint64_t spill_runs = b->sorter.runs.n, peak_sort = b->sorter.peak_bytes;
    rc_sorter_free(&b->sorter); /* removes spill files before the directory moves */
    if ((rc = publish(b->tmp_dir, out_dir, err)) != RECITE_OK)
        goto fail;
    {
        char *pp = rc_parent_dir(out_dir);
        if (pp)
            rc_fsync_path(pp);
        free(pp);
    }
    if (stats) {
        memset(stats, 0, sizeof *stats);
        stats->works = b->works.n;
        stats->clusters = b->clusters.n;
        stats->bytes = b->work_bytes;
        stats->tokens = b->tokens_total;
        stats->fingerprints =
            b->postings[RC_CH_PROSE] + b->postings[RC_CH_CODE] + b->postings[RC_CH_SHAPE];
        stats->index_bytes = file_size;
        stats->spill_runs = spill_runs;
        stats->peak_sort_bytes = peak_sort;
        stats->seconds = now_seconds() - b->t0;
    }
    free(b->tmp_dir);
    b->tmp_dir = NULL;
    free(threads);
    if (sync_ready) {
        pthread_mutex_destroy(&b->mu);
        pthread_cond_destroy(&b->cond_done);
        pthread_cond_destroy(&b->cond_space);
    }
    builder_free(b);
    return RECITE_OK;

fail:
    if (nthreads) {
        pthread_mutex_lock(&b->mu);
        b->stop = true;
        pthread_cond_broadcast(&b->cond_space);
        pthread_mutex_unlock(&b->mu);
        for (size_t i = 0; i < nthreads; i++)
            pthread_join(threads[i], NULL);
    }
    free(threads);
    if (sync_ready) {
        pthread_mutex_destroy(&b->mu);
        pthread_cond_destroy(&b->cond_done);
        pthread_cond_destroy(&b->cond_space);
    }
    if (b->fd >= 0) {
        close(b->fd);
        b->fd = -1;
    }
    rc_sorter_free(&b->sorter);
    remove_tmp_dir(b->tmp_dir);
    builder_free(b);
    return rc;
}

int recite_index_build(recite_build_stats *out, const char *dir, const char *const *paths,
                       size_t npaths, const recite_build_options *opt, recite_error *err)
{
    return build_index(paths, npaths, NULL, NULL, 0, dir, opt, out, err);
}

/* ==== compaction ==== */

int recite_index_compact(recite_build_stats *stats, const char *dir, const char *const *drop,
                         size_t ndrop, const recite_build_options *opt_in, recite_error *err)
{
    recite_build_options opt = RECITE_BUILD_OPTIONS_INIT;
    if (opt_in)
        opt = *opt_in;
    if (opt.version != RECITE_BUILD_OPTIONS_VERSION)
        return rc_error_set(err, RECITE_EINVAL, "build options version %u not supported",
                            opt.version);
    if (stats)
        memset(stats, 0, sizeof *stats);
    recite_index *from;
    int rc = recite_index_open(&from, dir, err);
    if (rc != RECITE_OK)
        return rc;
    /* The same guarantees as before; works keep their modes. */
    recite_index_stats st;
    recite_index_get_stats(&st, from);
    opt.min_tokens = st.min_tokens;
    opt.code_min_tokens = st.code_min_tokens;
    opt.text_free_key = NULL;
    uint32_t n = recite_index_work_count(from);
    uint32_t *keep = malloc(((size_t)n + 1) * sizeof *keep);
    if (!keep) {
        recite_index_close(from);
        return rc_error_set(err, RECITE_ENOMEM, "out of memory");
    }
    size_t nkeep = 0;
    for (uint32_t w = 0; w < n; w++) {
        recite_work_info info;
        recite_index_work(&info, from, w);
        bool gone = false;
        for (size_t i = 0; i < ndrop && !gone; i++)
            gone = strcmp(drop[i], info.id) == 0;
        if (!gone)
            keep[nkeep++] = w;
    }
    uint64_t dropped = n - nkeep;
    if (nkeep == n) /* none of them is in the index (any more): it stays as it is */
        rc = RECITE_OK;
    else if (from->text_free)
        rc = rc_error_set(err, RECITE_ENOTEXT,
                          "%s: a text-free index cannot be compacted (it has no text to index "
                          "again): rebuild it from the sources without the deleted works",
                          dir);
    else if (nkeep == 0)
        rc = rc_error_set(err, RECITE_EEMPTY,
                          "%s: every work is deleted: nothing would be left to index", dir);
    else
        rc = build_index(NULL, 0, from, keep, nkeep, dir, &opt, stats, err);
    if (rc == RECITE_OK && stats)
        stats->works_dropped = dropped;
    free(keep);
    recite_index_close(from);
    return rc;
}

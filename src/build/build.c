/*
 * build.c — recite_index_build: the build in phases. prepare() checks the options and the
 * target, collects the inputs, makes the temporary directory and index file, the spools, the
 * sorter, the license index and the compression dictionary; load_and_commit() loads and
 * fingerprints works on `jobs` threads and commits them in input order on the calling thread
 * (build_commit.c); then families of near-duplicates, the sections (index_write.c) and the
 * atomic publish (build_publish.c). One exit path frees everything and, on failure, removes the
 * temporary directory. Memory: within the budget's shares (build_budget.c, docs/MEMORY.md).
 */
#include "rc_builder.h"
#include "rc_extract.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define BATCH_WORKS 512u
/* Works a batch queues before its worker wakes the committing thread (which takes them all):
 * one wake-up per work cost the worker a futex call and both threads a switch each. */
#define WAKE_WORKS 32u
#define DEFAULT_MEM (1ull << 30)
#define MIN_MEM (16ull << 20)

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void progress(rc_builder *b, bool force)
{
    if (!b->opt->progress || (b->shard && b->shard->shard != 0))
        return;
    double t = now_seconds();
    if (!force && t - b->last_progress < 0.5)
        return;
    b->last_progress = t;
    /* Archives give more works than sources: the total grows with them. */
    recite_build_progress p = {b->works_done, RC_MAX(b->works_done, (uint64_t)b->in.sources.n),
                               b->bytes_done, b->in.total_bytes, t - b->t0};
    b->opt->progress(&p, b->opt->user);
}

/* ==== workers ==== */

/* Bytes a loaded work holds until it is committed (its text is freed before), spilled ones
 * included: they count for how far workers run ahead. */
static uint64_t held_bytes(const rc_work_out *w)
{
    return w->zdata.n + rc_spool_size(&w->zdata_spool) + w->records.n +
           w->fps.n * sizeof *w->fps.v + rc_spool_size(&w->fps_spool) +
           (w->checkpoints.n + w->word_checkpoints.n + w->zblocks.n + w->block_lines.n) *
               sizeof(uint32_t) +
           64;
}

typedef struct emitter {
    rc_builder *b;
    rc_batch *bt;
    uint64_t loading; /* bytes of the loading share the worker holds */
} emitter;

/* A worker hands a loaded work to the committing thread, waiting while its batch holds too
 * much (archives give works faster than a commit far behind takes them). */
static int emit_work(rc_work_out *out, void *user)
{
    emitter *e = user;
    rc_builder *b = e->b;
    rc_batch *bt = e->bt;
    free(out->text); /* committing needs its hashes, blocks and fingerprints, not the text */
    out->text = NULL;
    uint64_t size = held_bytes(out);
    pthread_mutex_lock(&b->mu);
    /* The text is gone: give its share back before waiting (the worker of the batch being
     * committed may be waiting for it). */
    rc_budget_load_end(b, &e->loading);
    while (!b->stop && bt->pending > 0 && bt->pending + size > b->batch_hold) {
        pthread_cond_broadcast(&b->cond_done); /* what is queued, for it to take */
        pthread_cond_wait(&b->cond_space, &b->mu);
    }
    int rc = b->stop ? RECITE_EINVAL : RC_VEC_PUSH(bt->outs, *out);
    if (rc == RECITE_OK) {
        memset(out, 0, sizeof *out);
        bt->pending += size;
        /* The committing thread is woken every WAKE_WORKS works queued, or when they hold
         * half of what the batch may (and when the batch is done: worker_main). */
        if ((bt->outs.n - bt->taken) % WAKE_WORKS == 0 || 2 * bt->pending >= b->batch_hold)
            pthread_cond_broadcast(&b->cond_done);
    }
    pthread_mutex_unlock(&b->mu);
    return rc;
}

static void *worker_main(void *arg)
{
    rc_builder *b = arg;
    rc_work_ctx *ctx = calloc(1, sizeof *ctx);
    if (ctx) {
        ctx->cctx = ZSTD_createCCtx();
        ctx->cdict = b->cdict;
        ctx->key = b->text_free ? &b->key : NULL;
        ctx->archive_depth = b->opt->archive_depth;
        ctx->max_expanded = b->opt->max_expanded;
        ctx->max_ratio = b->opt->max_ratio;
        ctx->spill_bytes = b->spill;
        ctx->spill_dir = b->opt->tmp_dir ? b->opt->tmp_dir : b->tmp_dir;
        ctx->defer_compress = true;
        if (!ctx->cctx || (!b->opt->skip_cmi && rc_cmi_ctx_init(&ctx->cmi, b->lic) != RECITE_OK)) {
            rc_cmi_ctx_free(&ctx->cmi);
            ZSTD_freeCCtx(ctx->cctx);
            free(ctx);
            ctx = NULL;
        } else {
            rc_license_matcher_share(ctx->cmi.m, b->lic_shared);
        }
    }
    pthread_mutex_lock(&b->mu);
    for (;;) {
        while (!b->stop && b->next_batch < b->nbatches &&
               b->next_batch >= b->committed + b->max_inflight)
            pthread_cond_wait(&b->cond_space, &b->mu);
        if (b->stop || b->next_batch >= b->nbatches)
            break;
        rc_batch *bt = &b->batches[b->next_batch++];
        pthread_mutex_unlock(&b->mu);

        int rc = RECITE_OK;
        recite_error err = {0};
        if (!ctx) {
            rc = rc_error_set(&err, RECITE_ENOMEM, "out of memory");
        } else {
            memcpy(ctx->kgram, b->kgram, sizeof ctx->kgram);
            memcpy(ctx->window, b->window, sizeof ctx->window);
            ctx->mode = (int)b->opt->mode;
            ctx->shard = b->shard ? b->shard->shard : 0;
            ctx->nshards = b->shard ? b->shard->nshards : 1;
            emitter em = {b, bt, 0};
            rc_defer_init(&ctx->defer, emit_work, &em);
            for (size_t i = 0; i < bt->count && rc == RECITE_OK; i++) {
                size_t src = bt->first + i;
                pthread_mutex_lock(&b->mu);
                rc_budget_load_begin(b, b->in.sources.v[src].length);
                em.loading = b->in.sources.v[src].length;
                pthread_mutex_unlock(&b->mu);
                rc = rc_source_load(ctx, &b->in, src, rc_defer_emit, ctx, &err);
                pthread_mutex_lock(&b->mu);
                rc_budget_load_end(b, &em.loading);
                pthread_mutex_unlock(&b->mu);
            }
            /* The works whose compression waits go before the batch is done. */
            if (rc == RECITE_OK)
                rc = rc_defer_flush(ctx, &err);
            rc_defer_free(&ctx->defer);
            if (rc != RECITE_OK && !err.code && ctx->defer.err_set)
                err = ctx->defer.err;
            /* Handing a work over (emit_work) fails without a message. */
            if (rc != RECITE_OK && !err.code)
                rc_error_set(&err, rc, "%s", recite_strerror(rc));
        }

        pthread_mutex_lock(&b->mu);
        bt->rc = rc;
        bt->err = err;
        bt->done = true;
        pthread_cond_broadcast(&b->cond_done);
    }
    pthread_mutex_unlock(&b->mu);
    if (ctx) {
        rc_cmi_ctx_free(&ctx->cmi);
        ZSTD_freeCCtx(ctx->cctx);
        rc_work_ctx_free_extract(ctx);
    }
    free(ctx);
    return NULL;
}

/* ==== the build ==== */

/* Cuts the sources into batches of at most BATCH_WORKS sources and b->batch_bytes bytes (at
 * least one source each). With `fill` false, only counts them. */
static size_t cut_batches(rc_builder *b, bool fill)
{
    size_t n = b->in.sources.n, nb = 0, i = 0;
    while (i < n) {
        size_t first = i;
        uint64_t bytes = 0;
        while (i < n && i - first < BATCH_WORKS && (i == first || bytes < b->batch_bytes))
            bytes += b->in.sources.v[i++].length;
        if (fill)
            b->batches[nb] = (rc_batch){first, i - first, {0}, 0, 0, RECITE_OK, {0}, false};
        nb++;
    }
    return nb;
}

static int make_batches(rc_builder *b)
{
    size_t nb = cut_batches(b, false);
    if (!(b->batches = calloc(nb + 1, sizeof *b->batches)))
        return RECITE_ENOMEM;
    b->nbatches = cut_batches(b, true);
    return RECITE_OK;
}

/* The spools of the tables (RC_BUILD_SPOOLS of them). */
static void table_spools(rc_builder *b, rc_spool **out)
{
    rc_spool *all[RC_BUILD_SPOOLS] = {&b->clusters,    &b->works,       &b->strings,  &b->cmi_data,
                                      &b->cmi_dir,     &b->checkpoints, &b->minhash,  &b->views,
                                      &b->block_table, &b->loc_index,   &b->loc_data, &b->lines};
    memcpy(out, all, sizeof all);
}

static void builder_free(rc_builder *b)
{
    for (size_t i = 0; i < b->nbatches; i++) {
        for (size_t k = b->batches[i].taken; k < b->batches[i].outs.n; k++)
            rc_work_out_free(&b->batches[i].outs.v[k]);
        RC_VEC_FREE(b->batches[i].outs);
    }
    free(b->batches);
    rc_inputs_free(&b->in);
    rc_spool *spools[RC_BUILD_SPOOLS];
    table_spools(b, spools);
    for (size_t i = 0; i < RC_BUILD_SPOOLS; i++)
        rc_spool_free(spools[i]);
    RC_VEC_FREE(b->dups);
    free(b->family);
    free(b->family_key);
    rc_builder_table_free(&b->ids);
    rc_builder_table_free(&b->contents);
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

/* ==== phases ==== */

/* Options, parameters and the target; nothing is created yet. */
static int check_options(rc_builder *b, const char *out_dir, recite_error *err)
{
    const recite_build_options *opt = b->opt;
    if (opt->version != RECITE_BUILD_OPTIONS_VERSION)
        return rc_error_set(err, RECITE_EINVAL, "build options version %u not supported",
                            opt->version);
    if (!out_dir || !*out_dir)
        return rc_error_set(err, RECITE_EINVAL, "no output directory given");
    if (opt->mode != RECITE_MODE_PROSE && opt->mode != RECITE_MODE_CODE &&
        opt->mode != RECITE_MODE_AUTO)
        return rc_error_set(err, RECITE_EINVAL, "unknown mode %d", (int)opt->mode);
    unsigned min_tokens = opt->min_tokens ? opt->min_tokens : 12;
    /* Code is found by its words from 12 words (about 25 lexemes); renamed, by its shapes from
     * 40 lexemes (k = 10, w = 31). */
    unsigned code_min = opt->code_min_tokens ? opt->code_min_tokens : 40;
    if (rc_fingerprint_params(min_tokens, &b->kgram[RC_CH_PROSE], &b->window[RC_CH_PROSE]) !=
        RECITE_OK)
        return rc_error_set(err, RECITE_EINVAL, "--min-tokens %u out of range (1-%u)", min_tokens,
                            RC_WINDOW_MAX + 5);
    if (rc_fingerprint_params_code(code_min, &b->kgram[RC_CH_CODE], &b->window[RC_CH_CODE]) !=
        RECITE_OK)
        return rc_error_set(err, RECITE_EINVAL, "--code-min-tokens %u out of range (1-%u)",
                            code_min, RC_WINDOW_MAX + RC_KGRAM_MAX - 1);
    /* Shapes are denser than lexemes: a renamed copy with lines edited has runs of equal shapes
     * shorter than the guarantee between its edits, and near matching chains their seeds
     * across the edits (as it does for prose, whose fingerprints are as dense). */
    b->kgram[RC_CH_SHAPE] = b->kgram[RC_CH_CODE];
    b->window[RC_CH_SHAPE] = (b->window[RC_CH_CODE] + 2) / 3;
    if (opt->text_free_key) {
        if (rc_key_derive(&b->key, opt->text_free_key, opt->text_free_key_len) != RECITE_OK)
            return rc_error_set(err, RECITE_EINVAL,
                                "the key of a text-free index must have at least %d bytes",
                                RC_KEY_MIN_SECRET);
        b->text_free = true;
    }
    if (opt->common_texts && opt->common_texts < RC_COMMON_TEXTS_MIN)
        return rc_error_set(err, RECITE_EINVAL, "common_texts must be at least %u",
                            RC_COMMON_TEXTS_MIN);
    b->jobs = opt->jobs ? RC_MIN(opt->jobs, 256u) : online_cpus();
    b->mem = opt->mem_budget ? opt->mem_budget : DEFAULT_MEM;
    if (b->mem < MIN_MEM)
        return rc_error_set(err, RECITE_EINVAL, "--mem must be at least 16 MiB");
    return rc_build_check_target(out_dir, err);
}

/* The temporary directory and index file, the sorter, the license index, the dictionary and
 * the batches. */
static int prepare(rc_builder *b, const char *out_dir, recite_error *err)
{
    const recite_build_options *opt = b->opt;
    int rc = RECITE_OK;
    if (!b->shard) {
        rc = rc_build_tmp_dir(out_dir, &b->tmp_dir, err);
    } else if (asprintf(&b->tmp_dir, "%s/" RC_SHARD_DIR, b->shard->root, b->shard->shard) < 0) {
        b->tmp_dir = NULL;
        rc = rc_error_set(err, RECITE_ENOMEM, "out of memory");
    } else if (mkdir(b->tmp_dir, 0755) != 0) {
        rc = rc_error_errno(err, RECITE_EIO, errno, "%s: cannot create", b->tmp_dir);
        free(b->tmp_dir);
        b->tmp_dir = NULL;
    }
    if (rc != RECITE_OK)
        return rc;
    if (asprintf(&b->idx_path, "%s/%s", b->tmp_dir, RC_INDEX_FILE) < 0) {
        b->idx_path = NULL;
        return rc_error_set(err, RECITE_ENOMEM, "out of memory");
    }
    b->fd = open(b->idx_path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (b->fd < 0)
        return rc_error_errno(err, RECITE_EIO, errno, "%s: cannot create", b->idx_path);
    /* The sort gets what the other shares leave (build_budget.c); its buffers are touched as
     * they fill, so the license index and the dictionary come first in the same memory. */
    rc_budget_plan(b);
    const char *spill_dir = opt->tmp_dir ? opt->tmp_dir : b->tmp_dir;
    if ((rc = rc_sorter_init(&b->sorter, (size_t)rc_budget_sort_bytes(b), spill_dir, err)) !=
        RECITE_OK)
        return rc;
    rc_spool *spools[RC_BUILD_SPOOLS];
    table_spools(b, spools);
    for (size_t i = 0; i < RC_BUILD_SPOOLS; i++)
        rc_spool_init(spools[i], spill_dir, b->spool_cap);
    if (b->shard) { /* the groups of postings written, for the document frequency */
        rc_spool_init(&b->shard->groups, spill_dir, b->spool_cap);
        rc_spool_init(&b->shard->df_send, spill_dir, b->spool_cap);
    }
    if (!opt->skip_cmi) {
        bool built = true; /* a sharded build's is built once, in its root */
        rc_license_src src = {opt->debian_licenses_dir,
                              opt->spdx_dir,
                              opt->license_cache_dir,
                              opt->tmp_dir,
                              b->jobs,
                              RC_MAX(b->mem / 2, MIN_MEM)};
        if (!b->shard && (rc = rc_license_index_build(b->tmp_dir, &src, &built, err)) != RECITE_OK)
            return rc;
        char *lic;
        struct stat lst;
        lic = NULL;
        if (built) {
            if (asprintf(&lic, "%s/licenses", b->shard ? b->shard->root : b->tmp_dir) < 0)
                return rc_error_set(err, RECITE_ENOMEM, "out of memory");
            if (b->shard && stat(lic, &lst) != 0) { /* the build found no license texts */
                free(lic);
                lic = NULL;
            }
        }
        if (lic) {
            rc = recite_index_open(&b->lic, lic, err);
            free(lic);
            if (rc != RECITE_OK)
                return rc;
        }
        if (b->lic && b->in.repos.n &&
            (rc = rc_repos_identify_licenses(&b->in, b->lic, err)) != RECITE_OK)
            return rc;
    }
    /* A dictionary is made of pieces of the texts: a text-free index has none. Its sample is
     * the same whatever the budget (the index must be), and fits in the smallest one. */
    if (!b->text_free &&
        (rc = rc_store_dict_train(&b->in, &b->dict, &b->dict_len, err)) != RECITE_OK)
        return rc;
    if (b->dict && !(b->cdict = ZSTD_createCDict(b->dict, b->dict_len, RC_TEXT_LEVEL)))
        return rc_error_set(err, RECITE_ENOMEM, "out of memory");
    b->text_w = calloc(1, sizeof *b->text_w);
    static const uint8_t zero[16];
    if (!b->text_w || make_batches(b) != RECITE_OK || !(b->text_w->xs = XXH3_createState()))
        return rc_error_set(err, RECITE_ENOMEM, "out of memory");
    /* The empty string at offset 0; the first pair of the block table (0, 0). */
    if ((rc = rc_spool_append(&b->strings, zero, 1, err)) != RECITE_OK ||
        (rc = rc_spool_append(&b->block_table, zero, 16, err)) != RECITE_OK)
        return rc;
    rc_secw_begin(b->text_w, b->fd, RC_DATA_OFFSET);
    return RECITE_OK;
}

/* Takes the next work of batch bt into *w, waiting for it (and updating the progress twice a
 * second meanwhile); false when the batch is done and fully taken. */
static bool take_work(rc_builder *b, rc_batch *bt, rc_work_out *w)
{
    pthread_mutex_lock(&b->mu);
    while (!bt->done && bt->taken == bt->outs.n) {
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
    bool got = bt->taken < bt->outs.n;
    if (got) {
        *w = bt->outs.v[bt->taken];
        memset(&bt->outs.v[bt->taken], 0, sizeof *w);
        bt->taken++;
        bt->pending -= RC_MIN(bt->pending, held_bytes(w));
        /* Keep the queue from growing: drop what was taken once it is most of it. */
        if (bt->taken == bt->outs.n) {
            bt->taken = bt->outs.n = 0;
        } else if (bt->taken >= 256 && 2 * bt->taken >= bt->outs.n) {
            memmove(bt->outs.v, bt->outs.v + bt->taken,
                    (bt->outs.n - bt->taken) * sizeof *bt->outs.v);
            bt->outs.n -= bt->taken;
            bt->taken = 0;
        }
        pthread_cond_broadcast(&b->cond_space);
    }
    pthread_mutex_unlock(&b->mu);
    return got;
}

/* Workers load batches; this thread commits them in input order. The workers are stopped and
 * joined before it returns, whatever happened. */
static int load_and_commit(rc_builder *b, recite_error *err)
{
    pthread_t *threads = calloc(b->jobs, sizeof *threads);
    if (!threads)
        return rc_error_set(err, RECITE_ENOMEM, "out of memory");
    pthread_mutex_init(&b->mu, NULL);
    pthread_cond_init(&b->cond_done, NULL);
    pthread_cond_init(&b->cond_space, NULL);
    /* Without it, each worker tokenizes the license texts it needs into its own cache. */
    if (b->lic && rc_license_shared_create(&b->lic_shared, b->lic, b->lic_share) != RECITE_OK)
        b->lic_shared = NULL;
    size_t nthreads = 0;
    for (; nthreads < b->jobs; nthreads++)
        if (pthread_create(&threads[nthreads], NULL, worker_main, b) != 0)
            break;
    int rc = nthreads ? RECITE_OK : rc_error_set(err, RECITE_ENOMEM, "cannot start worker threads");
    for (size_t i = 0; i < b->nbatches && rc == RECITE_OK; i++) {
        rc_batch *bt = &b->batches[i];
        rc_work_out w;
        while (rc == RECITE_OK && take_work(b, bt, &w)) {
            const rc_source *src = &b->in.sources.v[w.src];
            rc = rc_builder_commit(b, src, &w, err);
            b->works_done++;
            if (w.src_last)
                b->bytes_done += src->length;
            rc_work_out_free(&w);
        }
        if (rc != RECITE_OK)
            break;
        if (bt->rc != RECITE_OK) {
            if (err)
                *err = bt->err;
            rc = bt->rc;
            break;
        }
        RC_VEC_FREE(bt->outs);
        rc_budget_trim_batch(b);
        /* The pages of the license index the workers' identification read (mapped: read
         * again from the page cache when needed). */
        if (b->lic)
            rc_index_release_pages(b->lic);
        pthread_mutex_lock(&b->mu);
        b->committed = i + 1;
        pthread_cond_broadcast(&b->cond_space);
        pthread_mutex_unlock(&b->mu);
        progress(b, false);
    }
    pthread_mutex_lock(&b->mu);
    b->stop = rc != RECITE_OK;
    pthread_cond_broadcast(&b->cond_space);
    pthread_mutex_unlock(&b->mu);
    for (size_t i = 0; i < nthreads; i++)
        pthread_join(threads[i], NULL);
    free(threads);
    rc_license_shared_free(b->lic_shared);
    b->lic_shared = NULL;
    rc_budget_trim();
    pthread_mutex_destroy(&b->mu);
    pthread_cond_destroy(&b->cond_done);
    pthread_cond_destroy(&b->cond_space);
    if (rc == RECITE_OK)
        progress(b, true);
    return rc;
}

/* Families, the sections, and the file closed and synced. */
static int write_index(rc_builder *b, uint64_t *file_size, recite_error *err)
{
    if (b->shard ? b->shard->works_seen == 0 : b->nworks == 0)
        return rc_error_set(err, RECITE_EEMPTY,
                            "no works to index (all inputs were empty, binary or hidden)");
    int rc = rc_builder_families(b, err);
    if (rc == RECITE_OK)
        rc = rc_builder_write(b, file_size, err);
    if (rc != RECITE_OK)
        return rc;
    close(b->fd);
    b->fd = -1;
    rc_fsync_path(b->tmp_dir);
    return RECITE_OK;
}

/* What was written reads back whole (every checksum and cross-reference) before it is
 * published: opening it later checks only its structure (docs/FORMAT.md). */
static int verify_written(const rc_builder *b, recite_error *err)
{
    recite_index *written;
    int rc = recite_index_open(&written, b->tmp_dir, err);
    if (rc == RECITE_OK)
        rc = recite_index_verify(written, err);
    recite_index_close(written);
    return rc;
}

int rc_build_index(recite_build_stats *stats, const char *dir, const char *const *paths,
                   size_t npaths, const recite_index *from, const uint32_t *works, size_t nworks,
                   const recite_build_options *opt, rc_shard_build *shard, recite_error *err)
{
    recite_build_options defaults = RECITE_BUILD_OPTIONS_INIT;
    rc_builder B;
    memset(&B, 0, sizeof B);
    rc_builder *b = &B;
    b->fd = -1;
    b->shard = shard;
    b->opt = opt ? opt : &defaults;
    b->t0 = now_seconds();
    uint64_t file_size = 0;
    bool quiet = shard && shard->shard != 0; /* the first shard tells of skipped inputs */
    int rc = check_options(b, dir, err);
    if (rc == RECITE_OK && npaths == 0 && !from && b->opt->ngit == 0)
        rc = rc_error_set(err, RECITE_EINVAL, "no input paths given");
    if (rc == RECITE_OK)
        rc = from ? rc_inputs_from_index(&b->in, from, dir, works, nworks, err)
                  : rc_inputs_collect(&b->in, paths, npaths, quiet ? NULL : b->opt->note,
                                      b->opt->user, err);
    if (rc == RECITE_OK && !from && b->opt->ngit)
        rc = rc_inputs_add_git(&b->in, b->opt->git, b->opt->ngit, quiet ? NULL : b->opt->note,
                               b->opt->user, err);
    if (rc == RECITE_OK)
        rc = prepare(b, dir, err);
    if (rc == RECITE_OK)
        rc = load_and_commit(b, err);
    if (shard) /* every shard has its works: the exchanges of what is global can start */
        rc = rc_shard_agree(shard, rc, err);
    if (rc == RECITE_OK)
        rc = write_index(b, &file_size, err);
    uint64_t spill_runs = b->sorter.spilled, peak_sort = b->sorter.peak_bytes;
    rc_sorter_free(&b->sorter); /* removes spill files before the directory moves */
    recite_index_close(b->lic); /* its file is in the directory about to move */
    b->lic = NULL;
    rc_budget_trim();
    if (rc == RECITE_OK) /* once the sort's memory is given back */
        rc = verify_written(b, err);
    if (rc == RECITE_OK && shard) { /* written and verified: build_shards.c publishes */
        free(b->tmp_dir);
        b->tmp_dir = NULL;
    } else if (rc == RECITE_OK && (rc = rc_build_publish(b->tmp_dir, dir, err)) == RECITE_OK) {
        char *parent = rc_parent_dir(dir);
        if (parent)
            rc_fsync_path(parent);
        free(parent);
        free(b->tmp_dir); /* it is the index now */
        b->tmp_dir = NULL;
    }
    if (rc == RECITE_OK && stats) {
        memset(stats, 0, sizeof *stats);
        stats->works = b->nworks;
        stats->clusters = b->nclusters;
        stats->bytes = b->work_bytes;
        stats->tokens = b->tokens_total;
        stats->fingerprints =
            b->postings[RC_CH_PROSE] + b->postings[RC_CH_CODE] + b->postings[RC_CH_SHAPE];
        stats->index_bytes = file_size;
        stats->spill_runs = spill_runs;
        stats->peak_sort_bytes = peak_sort;
        stats->seconds = now_seconds() - b->t0;
    }
    if (b->fd >= 0) {
        close(b->fd);
        b->fd = -1;
    }
    if (b->tmp_dir)
        rc_build_remove_tmp(b->tmp_dir);
    builder_free(b);
    rc_budget_trim();
    return rc;
}

int recite_index_build(recite_build_stats *out, const char *dir, const char *const *paths,
                       size_t npaths, const recite_build_options *opt, recite_error *err)
{
    return rc_build_index(out, dir, paths, npaths, NULL, NULL, 0, opt, NULL, err);
}

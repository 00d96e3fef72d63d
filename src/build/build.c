/*
 * build.c — recite_index_build: the build in phases. prepare() checks the options and the
 * target, collects the inputs, makes the temporary directory and index file, the sorter, the
 * license index and the compression dictionary; load_and_commit() loads and fingerprints works
 * on `jobs` threads and commits them in input order on the calling thread (clustering identical
 * texts, streaming text blocks, feeding the external sort); then families of near-duplicates,
 * the sections (index_write.c) and the atomic publish (build_publish.c). One exit path frees
 * everything and, on failure, removes the temporary directory. Memory: the sort buffer gets
 * half the budget; a bounded number of batches is in flight.
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

#define BATCH_BYTES (4u << 20)
#define BATCH_HOLD (2 * (uint64_t)BATCH_BYTES) /* bytes of works a batch holds uncommitted */
#define BATCH_WORKS 512u
#define DEFAULT_MEM (1ull << 30)

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* ==== hash tables for work ids and contents ==== */

static int table_grow(rc_slot_table *t)
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
static bool table_next(const rc_slot_table *t, uint64_t key, size_t *i, uint32_t *val)
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

static int table_put(rc_slot_table *t, uint64_t key, uint32_t val)
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

static void table_free(rc_slot_table *t)
{
    free(t->keys);
    free(t->vals);
    memset(t, 0, sizeof *t);
}

static uint64_t nonzero(uint64_t h)
{
    return h ? h : 1;
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

static void note(rc_builder *b, recite_note_kind kind, const char *path, const char *detail)
{
    /* A sharded build: every shard reads every input; the first tells of inputs skipped, the
     * owner of a work of that work. */
    if (b->shard && b->shard->shard != 0 && kind != RECITE_NOTE_DUPLICATE &&
        kind != RECITE_NOTE_INVALID_UTF8)
        return;
    if (b->opt->note)
        b->opt->note(kind, path, detail, b->opt->user);
}

/* ==== workers ==== */

/* Bytes a loaded work holds until it is committed (its text is freed before). */
static uint64_t held_bytes(const rc_work_out *w)
{
    return w->zdata.n + w->records.n + w->fps.n * sizeof *w->fps.v +
           w->checkpoints.n * sizeof *w->checkpoints.v + 64;
}

typedef struct emitter {
    rc_builder *b;
    rc_batch *bt;
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
    while (!b->stop && bt->pending > 0 && bt->pending + size > BATCH_HOLD)
        pthread_cond_wait(&b->cond_space, &b->mu);
    int rc = b->stop ? RECITE_EINVAL : RC_VEC_PUSH(bt->outs, *out);
    if (rc == RECITE_OK) {
        memset(out, 0, sizeof *out);
        bt->pending += size;
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
        if (!ctx->cctx || (!b->opt->skip_cmi && rc_cmi_ctx_init(&ctx->cmi, b->lic) != RECITE_OK)) {
            rc_cmi_ctx_free(&ctx->cmi);
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
            emitter em = {b, bt};
            for (size_t i = 0; i < bt->count && rc == RECITE_OK; i++)
                rc = rc_source_load(ctx, &b->in, bt->first + i, emit_work, &em, &err);
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

/* ==== committing works (calling thread, input order) ==== */

/* Appends a work's compressed blocks to the text stream. */
static int append_text(rc_builder *b, const rc_work_out *w, recite_error *err)
{
    rc_secw_write(b->text_w, w->zdata.v, w->zdata.n);
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

int rc_builder_add_string(rc_builder *b, const char *s, uint64_t *off)
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

static int commit_work(rc_builder *b, const rc_source *src, rc_work_out *w, recite_error *err)
{
    const char *path = b->in.paths.v[src->path];
    const char *id = w->strs[RC_WS_ID];
    if (w->status == RC_WORK_SKIP_NOTE) {
        note(b, w->note_kind, id ? id : path, w->note ? w->note : "");
        return RECITE_OK;
    }
    if (w->status != RC_WORK_OK && w->status != RC_WORK_OTHER_SHARD) {
        const char *why = w->status == RC_WORK_SKIP_EMPTY ? "empty" : "binary (contains NUL bytes)";
        if (src->explicit_ && src->kind == RC_SRC_FILE)
            return rc_error_set(err, RECITE_EFORMAT, "%s: cannot index: file is %s", path, why);
        note(b,
             w->status == RC_WORK_SKIP_EMPTY ? RECITE_NOTE_SKIPPED_EMPTY
                                             : RECITE_NOTE_SKIPPED_BINARY,
             id ? id : path, why);
        return RECITE_OK;
    }
    if (b->works.n >= (b->shard ? RC_OTHER_ID : UINT32_MAX))
        return rc_error_set(err, RECITE_ELIMIT, "more than 2^32-1 works in one index");

    /* Work ids are unique. */
    if (rc_builder_id_taken(b, id)) {
        if (src->kind == RC_SRC_JSONL)
            return rc_error_set(err, RECITE_EFORMAT, "%s:%llu: duplicate work id \"%s\"", path,
                                (unsigned long long)src->line, id);
        if (src->kind == RC_SRC_INDEX) /* compaction of an index that was damaged */
            return rc_error_set(err, RECITE_EFORMAT, "%s: corrupt index (work id \"%s\" twice)",
                                path, id);
        return rc_error_set(err, RECITE_EINVAL, "%s: duplicate work id (given twice?)", id);
    }
    if (w->status == RC_WORK_OTHER_SHARD)
        return rc_shard_commit_other(b, id, err);
    uint32_t wnum = (uint32_t)b->works.n;
    if (rc_builder_claim_id(b, id, wnum) != RECITE_OK ||
        (b->shard && RC_VEC_PUSH(b->shard->global, (uint32_t)b->shard->works_seen++) != RECITE_OK))
        return rc_error_set(err, RECITE_ENOMEM, "out of memory");

    /* Identical text: join the existing cluster. */
    uint32_t cluster = UINT32_MAX;
    size_t it = SIZE_MAX;
    uint32_t c;
    uint64_t ch = nonzero(w->content.lo);
    while (table_next(&b->contents, ch, &it, &c)) {
        const rc_cluster_rec *cr = &b->clusters.v[c];
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
    bool new_cluster = cluster == UINT32_MAX;
    if (cluster == UINT32_MAX) {
        if (b->clusters.n + b->views.n >= UINT32_MAX - 1)
            return rc_error_set(err, RECITE_ELIMIT, "too many distinct works");
        if (b->tokens_total + w->ntokens + w->nwords > UINT32_MAX)
            return rc_error_set(err, RECITE_ELIMIT,
                                "%s: the library exceeds 2^32 tokens, the limit of one index "
                                "shard; build it in more shards (--shards N)",
                                id);
        cluster = (uint32_t)b->clusters.n;
        rc_cluster_rec cr = {.text_offset = b->text_total,
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
        /* A code work's words: its view, whose tokens follow the work's (docs/FORMAT.md). */
        uint64_t words_base = b->tokens_total + w->ntokens;
        bool view = w->mode == RECITE_MODE_CODE && w->nwords > 0;
        if (view) {
            rc_view_rec vr = {cluster, b->text_total + (b->text_free ? w->word_records_at : 0),
                              words_base, w->nwords, b->checkpoints.n + w->checkpoints.n};
            if (RC_VEC_PUSH(b->views, vr) != RECITE_OK)
                return rc_error_set(err, RECITE_ENOMEM, "out of memory");
        }
        for (size_t i = 0; i < w->fps.n; i++) {
            /* Sort key: channel (2 bits), fingerprint (46 bits); then the contexts (16 bits). */
            const rc_fp *fp = &w->fps.v[i];
            bool word = w->mode == RECITE_MODE_CODE && fp->channel == RC_CH_PROSE;
            rc_posting_rec r = {((uint64_t)fp->channel << 62) | ((fp->hash >> 18) << 16) | fp->ctx,
                                (uint32_t)((word ? words_base : b->tokens_total) + fp->pos),
                                cluster};
            b->postings[fp->channel]++;
            if ((rc = rc_sorter_add(&b->sorter, &r, err)) != RECITE_OK)
                return rc;
        }
        if (RC_VEC_RESERVE(b->checkpoints, b->checkpoints.n + w->checkpoints.n +
                                               (view ? w->word_checkpoints.n : 0)) != RECITE_OK)
            return rc_error_set(err, RECITE_ENOMEM, "out of memory");
        if (w->checkpoints.n) /* none for a text without tokens (code of comments only) */
            memcpy(b->checkpoints.v + b->checkpoints.n, w->checkpoints.v,
                   w->checkpoints.n * sizeof *w->checkpoints.v);
        b->checkpoints.n += w->checkpoints.n;
        if (view && w->word_checkpoints.n) {
            memcpy(b->checkpoints.v + b->checkpoints.n, w->word_checkpoints.v,
                   w->word_checkpoints.n * sizeof *w->word_checkpoints.v);
            b->checkpoints.n += w->word_checkpoints.n;
        }
        b->text_total += rc_work_stored_len(w);
        b->work_bytes += w->text_len;
        b->tokens_total += w->ntokens + (view ? w->nwords : 0);
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
    rc_work_rec wr = {{0}, cluster};
    for (unsigned f = 0; f < RC_WS_COUNT_; f++)
        if (rc_builder_add_string(b, w->strs[f], &wr.str[f]) != RECITE_OK)
            return rc_error_set(err, RECITE_ENOMEM, "out of memory");
    if ((rc = rc_builder_add_locators(b, w, new_cluster)) != RECITE_OK)
        return rc_error_set(err, rc, "%s: %s", id,
                            rc == RECITE_ELIMIT ? "too many pages or chapters" : "out of memory");
    if (RC_VEC_PUSH(b->works, wr) != RECITE_OK ||
        RC_VEC_PUSH(b->cmi_dir, b->cmi_data.n) != RECITE_OK ||
        RC_VEC_RESERVE(b->cmi_data, b->cmi_data.n + w->cmi_rec_len) != RECITE_OK)
        return rc_error_set(err, RECITE_ENOMEM, "out of memory");
    if (w->cmi_rec_len)
        memcpy(b->cmi_data.v + b->cmi_data.n, w->cmi_rec, w->cmi_rec_len);
    b->cmi_data.n += w->cmi_rec_len;
    return RECITE_OK;
}

bool rc_builder_id_taken(const rc_builder *b, const char *id)
{
    uint64_t idh = nonzero(rc_hash64(id, strlen(id), 0));
    size_t it = SIZE_MAX;
    uint32_t v;
    while (table_next(&b->ids, idh, &it, &v)) {
        const char *other = v & RC_OTHER_ID && b->shard
                                ? b->shard->other_ids.v + b->shard->other_at.v[v & ~RC_OTHER_ID]
                                : (const char *)b->strings.v + b->works.v[v].str[RC_WS_ID];
        if (strcmp(other, id) == 0)
            return true;
    }
    return false;
}

int rc_builder_claim_id(rc_builder *b, const char *id, uint32_t val)
{
    return table_put(&b->ids, nonzero(rc_hash64(id, strlen(id), 0)), val);
}

/* ==== families ==== */

static int compute_families(rc_builder *b, recite_error *err)
{
    if (b->shard)
        return rc_shard_families(b, err);
    uint32_t *family = malloc((b->clusters.n + 1) * sizeof *family);
    if (!family)
        return rc_error_set(err, RECITE_ENOMEM, "out of memory");
    if (rc_families(b->minhash.v, b->minhash_usable.v, (uint32_t)b->clusters.n, family) !=
        RECITE_OK) {
        free(family);
        return rc_error_set(err, RECITE_ENOMEM, "out of memory");
    }
    uint64_t families = 0;
    for (size_t c = 0; c < b->clusters.n; c++) {
        b->clusters.v[c].family = b->clusters.v[c].family_key = family[c];
        families += family[c] == c;
    }
    free(family);
    b->common_texts = b->opt->common_texts ? b->opt->common_texts : rc_common_texts(families);
    return RECITE_OK;
}

/* ==== the build ==== */

static void make_batches(rc_builder *b)
{
    size_t n = b->in.sources.n, nb = 0, i = 0;
    while (i < n) {
        size_t first = i;
        uint64_t bytes = 0;
        while (i < n && i - first < BATCH_WORKS && (i == first || bytes < BATCH_BYTES))
            bytes += b->in.sources.v[i++].length;
        b->batches[nb++] = (rc_batch){first, i - first, {0}, 0, 0, RECITE_OK, {0}, false};
    }
    b->nbatches = nb;
}

static void builder_free(rc_builder *b)
{
    for (size_t i = 0; i < b->nbatches; i++) {
        for (size_t k = b->batches[i].taken; k < b->batches[i].outs.n; k++)
            rc_work_out_free(&b->batches[i].outs.v[k]);
        RC_VEC_FREE(b->batches[i].outs);
    }
    free(b->batches);
    rc_builder_free_locators(b);
    rc_inputs_free(&b->in);
    RC_VEC_FREE(b->clusters);
    RC_VEC_FREE(b->views);
    RC_VEC_FREE(b->works);
    RC_VEC_FREE(b->strings);
    RC_VEC_FREE(b->cmi_data);
    RC_VEC_FREE(b->cmi_dir);
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
    if (b->mem < (16u << 20))
        return rc_error_set(err, RECITE_EINVAL, "--mem must be at least 16 MiB");
    /* Batches vary a lot in cost (512 small files or one 4 MB file), so workers need room to
     * run ahead of the in-order commit: up to 8 batches per worker, within a quarter of the
     * budget (a batch holds about 2 x BATCH_BYTES with its fingerprints). */
    b->max_inflight = RC_MIN(8 * (size_t)b->jobs, (size_t)(b->mem / 4 / (2 * BATCH_BYTES)));
    if (b->max_inflight < (size_t)b->jobs + 1)
        b->max_inflight = (size_t)b->jobs + 1;
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
    /* Half the budget sorts postings; the rest is batches in flight and the tables. */
    if ((rc = rc_sorter_init(&b->sorter, (size_t)(b->mem / 2),
                             opt->tmp_dir ? opt->tmp_dir : b->tmp_dir, err)) != RECITE_OK)
        return rc;
    if (!opt->skip_cmi) {
        bool built = true; /* a sharded build's is built once, in its root */
        rc_license_src src = {opt->debian_licenses_dir, opt->spdx_dir, opt->license_cache_dir,
                              opt->tmp_dir, b->jobs};
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
    rc_extract_init();
    /* A dictionary is made of pieces of the texts: a text-free index has none. */
    if (!b->text_free &&
        (rc = rc_store_dict_train(&b->in, &b->dict, &b->dict_len, err)) != RECITE_OK)
        return rc;
    if (b->dict && !(b->cdict = ZSTD_createCDict(b->dict, b->dict_len, RC_TEXT_LEVEL)))
        return rc_error_set(err, RECITE_ENOMEM, "out of memory");
    b->text_w = calloc(1, sizeof *b->text_w);
    b->batches = calloc(b->in.sources.n + 1, sizeof *b->batches);
    if (!b->text_w || !b->batches || !(b->text_w->xs = XXH3_createState()) ||
        RC_VEC_PUSH(b->strings, 0) != RECITE_OK || RC_VEC_PUSH(b->block_table, 0) != RECITE_OK ||
        RC_VEC_PUSH(b->block_table, 0) != RECITE_OK)
        return rc_error_set(err, RECITE_ENOMEM, "out of memory");
    rc_secw_begin(b->text_w, b->fd, RC_DATA_OFFSET);
    make_batches(b);
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
            rc = commit_work(b, src, &w, err);
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
    if (b->shard ? b->shard->works_seen == 0 : b->works.n == 0)
        return rc_error_set(err, RECITE_EEMPTY,
                            "no works to index (all inputs were empty, binary or hidden)");
    int rc = compute_families(b, err);
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
    uint64_t spill_runs = b->sorter.runs.n, peak_sort = b->sorter.peak_bytes;
    rc_sorter_free(&b->sorter); /* removes spill files before the directory moves */
    recite_index_close(b->lic); /* its file is in the directory about to move */
    b->lic = NULL;
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
    if (b->fd >= 0) {
        close(b->fd);
        b->fd = -1;
    }
    if (b->tmp_dir)
        rc_build_remove_tmp(b->tmp_dir);
    builder_free(b);
    return rc;
}

int recite_index_build(recite_build_stats *out, const char *dir, const char *const *paths,
                       size_t npaths, const recite_build_options *opt, recite_error *err)
{
    return rc_build_index(out, dir, paths, npaths, NULL, NULL, 0, opt, NULL, err);
}

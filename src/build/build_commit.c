/*
 * build_commit.c — committing loaded works, on the calling thread in input order: unique ids
 * (a hash table of ids, read back from the works' spool), identical texts joined into one
 * cluster (a hash table of contents), a new text's blocks, view, postings (to the external
 * sort), checkpoints and signature streamed to the builder's spools; then the families of
 * near-duplicates and the library's common threshold.
 */
#include "rc_builder.h"

#include <stdio.h>
#include <stdlib.h>

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

void rc_builder_table_free(rc_slot_table *t)
{
    free(t->keys);
    free(t->vals);
    memset(t, 0, sizeof *t);
}

static uint64_t nonzero(uint64_t h)
{
    return h ? h : 1;
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

/* ==== committing works (calling thread, input order) ==== */

/* Appends a work's compressed blocks to the text stream, and their ends to the block table. */
static int append_text(rc_builder *b, const rc_work_out *w, recite_error *err)
{
    int rc = rc_spool_copy(&w->zdata_spool, b->text_w, err);
    if (rc != RECITE_OK)
        return rc;
    rc_secw_write(b->text_w, w->zdata.v, w->zdata.n);
    if (b->text_w->errnum)
        return rc_error_errno(err, RECITE_EIO, b->text_w->errnum, "%s: write failed", b->idx_path);
    size_t left = rc_work_stored_len(w);
    for (size_t i = 0; i < w->zblocks.n; i++) {
        size_t n = RC_MIN(left, (size_t)RC_TEXT_BLOCK_SIZE);
        b->block_raw += n;
        b->block_comp += w->zblocks.v[i];
        left -= n;
        uint8_t pair[16];
        rc_put_u64(pair, b->block_raw);
        rc_put_u64(pair + 8, b->block_comp);
        if ((rc = rc_spool_append(&b->block_table, pair, sizeof pair, err)) != RECITE_OK)
            return rc;
    }
    return RECITE_OK;
}

int rc_builder_add_string(rc_builder *b, const char *s, uint64_t *off, recite_error *err)
{
    if (!s) {
        *off = 0;
        return RECITE_OK;
    }
    *off = rc_spool_size(&b->strings);
    return rc_spool_append(&b->strings, s, strlen(s) + 1, err);
}

/* The string at offset `off` of the string table (malloc'd). */
static int read_string(rc_builder *b, uint64_t off, char **out, recite_error *err)
{
    RC_VEC(char) s = {0};
    uint64_t end = rc_spool_size(&b->strings);
    for (;;) {
        size_t k = (size_t)RC_MIN((uint64_t)256, end - off);
        if (k == 0 || RC_VEC_RESERVE(s, s.n + k) != RECITE_OK) {
            RC_VEC_FREE(s);
            return k ? rc_error_set(err, RECITE_ENOMEM, "out of memory")
                     : rc_error_set(err, RECITE_EIO, "string table cut short");
        }
        int rc = rc_spool_read(&b->strings, off, s.v + s.n, k, err);
        if (rc != RECITE_OK) {
            RC_VEC_FREE(s);
            return rc;
        }
        char *nul = memchr(s.v + s.n, 0, k);
        s.n += k;
        off += k;
        if (nul) {
            *out = s.v;
            return RECITE_OK;
        }
    }
}

/* The id of committed work number w (malloc'd). */
static int work_id(rc_builder *b, uint32_t w, char **out, recite_error *err)
{
    rc_work_rec wr;
    int rc = rc_spool_read(&b->works, (uint64_t)w * sizeof wr, &wr, sizeof wr, err);
    return rc == RECITE_OK ? read_string(b, wr.str[RC_WS_ID], out, err) : rc;
}

/* Whether committed work number `other` has the id `id`. */
static int same_id(rc_builder *b, uint32_t other, const char *id, bool *same, recite_error *err)
{
    char *s = NULL;
    int rc = work_id(b, other, &s, err);
    if (rc == RECITE_OK)
        *same = strcmp(s, id) == 0;
    free(s);
    return rc;
}

static int duplicate_id(rc_builder *b, const rc_source *src, const char *id, recite_error *err)
{
    const char *path = b->in.paths.v[src->path];
    if (src->kind == RC_SRC_JSONL)
        return rc_error_set(err, RECITE_EFORMAT, "%s:%llu: duplicate work id \"%s\"", path,
                            (unsigned long long)src->line, id);
    if (src->kind == RC_SRC_INDEX) /* compaction of an index that was damaged */
        return rc_error_set(err, RECITE_EFORMAT, "%s: corrupt index (work id \"%s\" twice)", path,
                            id);
    return rc_error_set(err, RECITE_EINVAL, "%s: duplicate work id (given twice?)", id);
}

/* The cluster of an earlier text identical to w's, or UINT32_MAX. */
static int find_cluster(rc_builder *b, const rc_work_out *w, uint64_t ch, uint32_t *cluster,
                        recite_error *err)
{
    size_t it = SIZE_MAX;
    uint32_t c;
    *cluster = UINT32_MAX;
    while (table_next(&b->contents, ch, &it, &c)) {
        rc_cluster_rec cr;
        int rc = rc_spool_read(&b->clusters, (uint64_t)c * sizeof cr, &cr, sizeof cr, err);
        if (rc != RECITE_OK)
            return rc;
        if (cr.content.lo == w->content.lo && cr.content.hi == w->content.hi &&
            cr.text_len == w->text_len) {
            *cluster = c;
            char *rep; /* the cluster's first work, recorded at its creation */
            if ((rc = work_id(b, cr.member0, &rep, err)) != RECITE_OK)
                return rc;
            note(b, RECITE_NOTE_DUPLICATE, w->strs[RC_WS_ID], rep);
            free(rep);
            return RECITE_OK;
        }
    }
    return RECITE_OK;
}

static int put_u64(rc_spool *s, uint64_t v, recite_error *err)
{
    uint8_t b[8];
    rc_put_u64(b, v);
    return rc_spool_append(s, b, sizeof b, err);
}

static int put_checkpoints(rc_builder *b, const uint32_t *v, size_t n, recite_error *err)
{
    for (size_t i = 0; i < n; i++) {
        uint8_t e[4];
        rc_put_u32(e, v[i]);
        int rc = rc_spool_append(&b->checkpoints, e, sizeof e, err);
        if (rc != RECITE_OK)
            return rc;
    }
    b->ncheckpoints += n;
    return RECITE_OK;
}

/* A new distinct text: its cluster, text, postings, checkpoints and signature (and a code
 * text's view: its words). */
static int new_cluster(rc_builder *b, rc_work_out *w, uint32_t wnum, uint64_t ch, uint32_t *out,
                       recite_error *err)
{
    const char *id = w->strs[RC_WS_ID];
    if (b->nclusters + b->nviews >= UINT32_MAX - 1)
        return rc_error_set(err, RECITE_ELIMIT, "too many distinct works");
    if (b->tokens_total + w->ntokens + w->nwords > UINT32_MAX)
        return rc_error_set(err, RECITE_ELIMIT,
                            "%s: the library exceeds 2^32 tokens, the limit of one index "
                            "shard; build it in more shards (--shards N)",
                            id);
    uint32_t cluster = (uint32_t)b->nclusters;
    rc_cluster_rec cr = {.text_offset = b->text_total,
                         .text_len = w->text_len,
                         .token_base = b->tokens_total,
                         .ntokens = w->ntokens,
                         .checkpoint0 = b->ncheckpoints,
                         .content = w->content,
                         .member0 = wnum,
                         .nmembers = 0,
                         .mode = (uint32_t)w->mode,
                         .family = cluster};
    int rc = rc_spool_append(&b->clusters, &cr, sizeof cr, err);
    if (rc != RECITE_OK)
        return rc;
    if (table_put(&b->contents, ch, cluster) != RECITE_OK)
        return rc_error_set(err, RECITE_ENOMEM, "out of memory");
    b->nclusters++;
    if ((rc = append_text(b, w, err)) != RECITE_OK)
        return rc;
    /* A code work's words: its view, whose tokens follow the work's (docs/FORMAT.md). */
    uint64_t words_base = b->tokens_total + w->ntokens;
    bool view = w->mode == RECITE_MODE_CODE && w->nwords > 0;
    if (view) {
        rc_view_rec vr = {
            cluster,    0,         b->text_total + (b->text_free ? w->word_records_at : 0),
            words_base, w->nwords, b->ncheckpoints + w->checkpoints.n};
        if ((rc = rc_spool_append(&b->views, &vr, sizeof vr, err)) != RECITE_OK)
            return rc;
        b->nviews++;
    }
    rc_work_fp_iter fi;
    if ((rc = rc_work_fp_iter_init(&fi, w, err)) != RECITE_OK)
        return rc;
    const rc_fp *fp;
    while ((rc = rc_work_fp_next(&fi, &fp, err)) == 1) {
        /* Sort key: channel (2 bits), fingerprint (46 bits); then the contexts (16 bits). */
        bool word = w->mode == RECITE_MODE_CODE && fp->channel == RC_CH_PROSE;
        rc_posting_rec r = {((uint64_t)fp->channel << 62) | ((fp->hash >> 18) << 16) | fp->ctx,
                            (uint32_t)((word ? words_base : b->tokens_total) + fp->pos), cluster};
        b->postings[fp->channel]++;
        if ((rc = rc_sorter_add(&b->sorter, &r, err)) != RECITE_OK)
            break;
    }
    rc_work_fp_iter_free(&fi);
    if (rc < 0)
        return rc;
    if ((rc = put_checkpoints(b, w->checkpoints.v, w->checkpoints.n, err)) != RECITE_OK ||
        (view &&
         (rc = put_checkpoints(b, w->word_checkpoints.v, w->word_checkpoints.n, err)) != RECITE_OK))
        return rc;
    b->text_total += rc_work_stored_len(w);
    b->work_bytes += w->text_len;
    b->tokens_total += w->ntokens + (view ? w->nwords : 0);
    uint32_t sig[RC_MINHASH + 1];
    memcpy(sig, w->minhash, sizeof w->minhash);
    sig[RC_MINHASH] = w->minhash_usable;
    if ((rc = rc_spool_append(&b->minhash, sig, sizeof sig, err)) != RECITE_OK)
        return rc;
    *out = cluster;
    return RECITE_OK;
}

int rc_builder_commit(rc_builder *b, const rc_source *src, rc_work_out *w, recite_error *err)
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
    if (b->nworks >= (b->shard ? RC_OTHER_ID : UINT32_MAX))
        return rc_error_set(err, RECITE_ELIMIT, "more than 2^32-1 works in one index");

    /* Work ids are unique. */
    bool taken;
    int rc = rc_builder_id_taken(b, id, &taken, err);
    if (rc != RECITE_OK)
        return rc;
    if (taken)
        return duplicate_id(b, src, id, err);
    if (w->status == RC_WORK_OTHER_SHARD)
        return rc_shard_commit_other(b, id, err);
    uint32_t wnum = (uint32_t)b->nworks;
    if (rc_builder_claim_id(b, id, wnum) != RECITE_OK ||
        (b->shard && RC_VEC_PUSH(b->shard->global, (uint32_t)b->shard->works_seen++) != RECITE_OK))
        return rc_error_set(err, RECITE_ENOMEM, "out of memory");

    /* Identical text: join the existing cluster. */
    uint32_t cluster;
    uint64_t ch = nonzero(w->content.lo);
    if ((rc = find_cluster(b, w, ch, &cluster, err)) != RECITE_OK)
        return rc;
    bool is_new = cluster == UINT32_MAX;
    if (is_new) {
        if ((rc = new_cluster(b, w, wnum, ch, &cluster, err)) != RECITE_OK)
            return rc;
    } else if (RC_VEC_PUSH(b->dups, ((rc_dup){cluster, wnum})) != RECITE_OK) {
        return rc_error_set(err, RECITE_ENOMEM, "out of memory");
    }
    if (w->invalid_utf8) {
        char msg[96];
        snprintf(msg, sizeof msg, "%llu bytes of invalid UTF-8 read as Windows-1252",
                 (unsigned long long)w->invalid_utf8);
        note(b, RECITE_NOTE_INVALID_UTF8, id, msg);
    }
    rc_work_rec wr = {{0}, cluster, 0};
    for (unsigned f = 0; f < RC_WS_COUNT_; f++)
        if ((rc = rc_builder_add_string(b, w->strs[f], &wr.str[f], err)) != RECITE_OK)
            return rc;
    if ((rc = rc_builder_add_locators(b, w, is_new, err)) != RECITE_OK)
        return rc;
    if ((rc = rc_spool_append(&b->works, &wr, sizeof wr, err)) != RECITE_OK ||
        (rc = put_u64(&b->cmi_dir, rc_spool_size(&b->cmi_data), err)) != RECITE_OK ||
        (rc = rc_spool_append(&b->cmi_data, w->cmi_rec, w->cmi_rec_len, err)) != RECITE_OK)
        return rc;
    b->nworks++;
    /* Tables that grew take their memory from the sort's share. */
    size_t caps = b->ids.cap + b->contents.cap + b->dups.cap;
    if (caps != b->tables_seen) {
        b->tables_seen = caps;
        return rc_budget_update(b, err);
    }
    return RECITE_OK;
}

int rc_builder_id_taken(rc_builder *b, const char *id, bool *taken, recite_error *err)
{
    uint64_t idh = nonzero(rc_hash64(id, strlen(id), 0));
    size_t it = SIZE_MAX;
    uint32_t v;
    *taken = false;
    while (table_next(&b->ids, idh, &it, &v)) {
        bool same;
        if (v & RC_OTHER_ID && b->shard) { /* a work of another shard */
            same = strcmp(b->shard->other_ids.v + b->shard->other_at.v[v & ~RC_OTHER_ID], id) == 0;
        } else {
            int rc = same_id(b, v, id, &same, err);
            if (rc != RECITE_OK)
                return rc;
        }
        if (same) {
            *taken = true;
            break;
        }
    }
    return RECITE_OK;
}

int rc_builder_claim_id(rc_builder *b, const char *id, uint32_t val)
{
    return table_put(&b->ids, nonzero(rc_hash64(id, strlen(id), 0)), val);
}

/* ==== families ==== */

int rc_builder_families(rc_builder *b, recite_error *err)
{
    if (b->shard)
        return rc_shard_families(b, err);
    if (!(b->family = malloc((b->nclusters + 1) * sizeof *b->family)))
        return rc_error_set(err, RECITE_ENOMEM, "out of memory");
    int rc = rc_families(&b->minhash, (uint32_t)b->nclusters, b->family, err);
    if (rc != RECITE_OK)
        return rc;
    uint64_t families = 0;
    for (uint64_t c = 0; c < b->nclusters; c++)
        families += b->family[c] == c;
    b->common_texts = b->opt->common_texts ? b->opt->common_texts : rc_common_texts(families);
    return RECITE_OK;
}

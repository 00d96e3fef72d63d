/*
 * build_work.c — loads one work for the builder: reads a file or parses a JSONL line
 * (jansson), keeps its metadata, rejects binary input, hashes the content (to cluster identical
 * works) and computes its winnowed fingerprints and tokenizer checkpoints. Runs on worker
 * threads: everything here is per-call state.
 */
#include "rc_build.h"
#include "../fingerprint/rc_fingerprint.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

void rc_work_out_free(rc_work_out *out)
{
    if (!out)
        return;
    for (unsigned i = 0; i < RC_WS_COUNT_; i++)
        free(out->strs[i]);
    free(out->text);
    free(out->cmi_rec);
    RC_VEC_FREE(out->fps);
    RC_VEC_FREE(out->checkpoints);
    RC_VEC_FREE(out->word_checkpoints);
    RC_VEC_FREE(out->records);
    RC_VEC_FREE(out->zdata);
    RC_VEC_FREE(out->zblocks);
    RC_VEC_FREE(out->pages);
    for (size_t i = 0; i < out->chapters.n; i++) {
        free(out->chapters.v[i].title);
        free(out->chapters.v[i].name);
    }
    RC_VEC_FREE(out->chapters);
    free(out->member);
    RC_VEC_FREE(out->block_lines);
    free(out->note);
    rc_spool_free(&out->fps_spool);
    rc_spool_free(&out->zdata_spool);
    memset(out, 0, sizeof *out);
}

/* ==== a work's fingerprints, spilled ones first ==== */

int rc_work_fp_iter_init(rc_work_fp_iter *fi, const rc_work_out *w, recite_error *err)
{
    memset(fi, 0, sizeof *fi);
    fi->w = w;
    fi->left = rc_spool_size(&w->fps_spool) / sizeof(rc_fp);
    return rc_spool_iter_init(&fi->it, &w->fps_spool, err);
}

int rc_work_fp_next(rc_work_fp_iter *fi, const rc_fp **fp, recite_error *err)
{
    if (fi->left) {
        int rc = rc_spool_iter_read(&fi->it, &fi->cur, sizeof fi->cur, err);
        if (rc != RECITE_OK)
            return rc;
        fi->left--;
        *fp = &fi->cur;
        return 1;
    }
    if (fi->i >= fi->w->fps.n)
        return 0;
    *fp = &fi->w->fps.v[fi->i++];
    return 1;
}

void rc_work_fp_iter_free(rc_work_fp_iter *fi)
{
    rc_spool_iter_free(&fi->it);
}

static int read_range(const char *path, uint64_t offset, uint64_t length, bool whole,
                      uint8_t **data, size_t *len, recite_error *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return rc_error_errno(err, RECITE_EIO, errno, "%s: cannot open", path);
    int rc = RECITE_OK;
    if (whole) {
        struct stat st;
        if (fstat(fd, &st) != 0) {
            rc = rc_error_errno(err, RECITE_EIO, errno, "%s: cannot stat", path);
            goto done;
        }
        length = (uint64_t)st.st_size; /* the file may have changed since it was listed */
    }
    if (length > SIZE_MAX - 1) {
        rc = rc_error_set(err, RECITE_ELIMIT, "%s: too large", path);
        goto done;
    }
    uint8_t *buf = malloc((size_t)length + 1);
    if (!buf) {
        rc = rc_error_set(err, RECITE_ENOMEM, "%s: out of memory reading %llu bytes", path,
                          (unsigned long long)length);
        goto done;
    }
    size_t got = 0;
    while (got < length) {
        ssize_t r = pread(fd, buf + got, (size_t)length - got, (off_t)(offset + got));
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            rc = rc_error_errno(err, RECITE_EIO, errno, "%s: read error", path);
            free(buf);
            goto done;
        }
        if (r == 0)
            break; /* shrank while we read: index what is there */
        got += (size_t)r;
    }
    buf[got] = 0;
    *data = buf;
    *len = got;
done:
    close(fd);
    return rc;
}

static char *dup_json_value(json_t *v)
{
    if (!v || json_is_null(v))
        return NULL;
    if (json_is_string(v))
        return strndup(json_string_value(v), json_string_length(v));
    return rc_json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
}

bool rc_is_source_kind(const char *s)
{
    static const char *const kinds[] = {"purchased",     "scanned",        "licensed",
                                        "public-domain", "shadow-library", "unknown"};
    for (size_t i = 0; i < RC_ARRAY_LEN(kinds); i++)
        if (strcmp(s, kinds[i]) == 0)
            return true;
    return false;
}

static const char *const meta_keys[RC_WS_COUNT_] = {
    [RC_WS_TITLE] = "title",         [RC_WS_AUTHOR] = "author", [RC_WS_LICENSE] = "license",
    [RC_WS_COPYRIGHT] = "copyright", [RC_WS_SOURCE] = "source", [RC_WS_URL] = "url",
};

static int parse_jsonl(const char *path, const rc_source *src, const uint8_t *line, size_t len,
                       rc_work_out *out, recite_error *err)
{
    json_error_t jerr;
    json_t *root = json_loadb((const char *)line, len, JSON_ALLOW_NUL, &jerr);
    if (!root && rc_json_refused_for_memory(&jerr, (const char *)line, len, false))
        return rc_error_set(err, RECITE_ENOMEM, "%s:%llu: out of memory", path,
                            (unsigned long long)src->line);
    if (!root)
        return rc_error_set(err, RECITE_EFORMAT, "%s:%llu: invalid JSON at column %d: %s", path,
                            (unsigned long long)src->line, jerr.column, jerr.text);
    int rc = RECITE_OK;
    if (!json_is_object(root)) {
        rc = rc_error_set(err, RECITE_EFORMAT, "%s:%llu: expected a JSON object", path,
                          (unsigned long long)src->line);
        goto done;
    }
    json_t *id = json_object_get(root, "id"), *text = json_object_get(root, "text");
    if (json_is_integer(id)) {
        char num[32];
        snprintf(num, sizeof num, "%lld", (long long)json_integer_value(id));
        out->strs[RC_WS_ID] = strdup(num);
    } else if (json_is_string(id) && json_string_length(id) > 0) {
        out->strs[RC_WS_ID] = strndup(json_string_value(id), json_string_length(id));
    } else {
        rc = rc_error_set(err, RECITE_EFORMAT, "%s:%llu: missing or empty string field \"id\"",
                          path, (unsigned long long)src->line);
        goto done;
    }
    if (!json_is_string(text)) {
        rc = rc_error_set(err, RECITE_EFORMAT, "%s:%llu: missing string field \"text\"", path,
                          (unsigned long long)src->line);
        goto done;
    }
    size_t tl = json_string_length(text);
    out->text = malloc(tl + 1);
    if (!out->text || !out->strs[RC_WS_ID]) {
        rc = rc_error_set(err, RECITE_ENOMEM, "out of memory");
        goto done;
    }
    memcpy(out->text, json_string_value(text), tl);
    out->text[tl] = 0;
    out->text_len = tl;
    for (unsigned f = RC_WS_TITLE; f < RC_WS_META; f++) {
        json_t *v = json_object_get(root, meta_keys[f]);
        if (!(out->strs[f] = dup_json_value(v)) && v && !json_is_null(v)) {
            rc = rc_error_set(err, RECITE_ENOMEM, "out of memory");
            goto done;
        }
    }
    json_t *mode = json_object_get(root, "mode");
    if (mode) {
        const char *m = json_is_string(mode) ? json_string_value(mode) : "";
        if (strcmp(m, "code") == 0 || strcmp(m, "prose") == 0) {
            out->mode = strcmp(m, "code") == 0 ? RECITE_MODE_CODE : RECITE_MODE_PROSE;
            out->mode_given = true;
        } else {
            rc =
                rc_error_set(err, RECITE_EFORMAT, "%s:%llu: \"mode\" must be \"code\" or \"prose\"",
                             path, (unsigned long long)src->line);
            goto done;
        }
    }
    const char *src_kind = out->strs[RC_WS_SOURCE];
    if (src_kind && !rc_is_source_kind(src_kind)) {
        rc = rc_error_set(err, RECITE_EFORMAT,
                          "%s:%llu: \"source\" must be one of purchased, scanned, licensed, "
                          "public-domain, shadow-library, unknown (not \"%.40s\")",
                          path, (unsigned long long)src->line, src_kind);
        goto done;
    }
    json_object_del(root, "id");
    json_object_del(root, "text");
    if (json_object_size(root) > 0 && !(out->strs[RC_WS_META] = rc_json_dumps(root, JSON_COMPACT)))
        rc = rc_error_set(err, RECITE_ENOMEM, "out of memory");
done:
    json_decref(root);
    return rc;
}

/* Hash of tokens [from, from + n) of the work, taken from a channel's history ring. */
static unsigned context_of(const uint64_t *hist, uint64_t from, unsigned n)
{
    uint64_t tmp[RC_WINDOW_MAX];
    for (unsigned i = 0; i < n; i++)
        tmp[i] = hist[(from + i) & (RC_HISTORY - 1)];
    return rc_context8(tmp, n);
}

static void chan_init(rc_chan_state *cs, int channel, unsigned k, unsigned w)
{
    cs->channel = channel;
    cs->kgram = k;
    cs->window = w;
    cs->context = rc_context_len(w);
    cs->pending = SIZE_MAX; /* set to the first fingerprint of this channel when one comes */
    cs->ready_at = UINT64_MAX;
    rc_winnow_init(&cs->wn, k, w);
}

/* Fills the right context of this channel's fingerprints whose tokens are all known (or, at
 * the end of the text, whatever tokens there are). Fingerprints of both channels of a code work
 * interleave in out->fps; each channel walks its own. */
static void complete_right(rc_chan_state *cs, rc_work_out *out, uint64_t ntok, bool end)
{
    if (!end && ntok < cs->ready_at)
        return; /* the first pending one still lacks tokens: so do those after it */
    for (; cs->pending < out->fps.n; cs->pending++) {
        rc_fp *fp = &out->fps.v[cs->pending];
        if (fp->channel != cs->channel)
            continue;
        uint64_t from = fp->pos + cs->kgram;
        if (!end && from + cs->context > ntok) {
            cs->ready_at = from + cs->context;
            return;
        }
        unsigned n = (unsigned)RC_MIN((uint64_t)cs->context, ntok - from);
        fp->ctx |= (uint16_t)context_of(cs->history, from, n);
    }
    cs->ready_at = UINT64_MAX; /* none pending: the next one added sets it */
}

static int add_fp(rc_chan_state *cs, rc_work_out *out, uint64_t hash, uint64_t pos)
{
    unsigned left = (unsigned)RC_MIN((uint64_t)cs->context, pos);
    rc_fp fp = {hash, (uint32_t)pos, (uint16_t)(context_of(cs->history, pos - left, left) << 8),
                (uint8_t)cs->channel, 0};
    if (RC_VEC_PUSH(out->fps, fp) != RECITE_OK)
        return RECITE_ENOMEM;
    if (cs->pending == SIZE_MAX)
        cs->pending = out->fps.n - 1;
    cs->ready_at = RC_MIN(cs->ready_at, pos + cs->kgram + cs->context);
    return RECITE_OK;
}

/* Text-free, spilling: the whole blocks of records so far are compressed (the same blocks as
 * compressing them all at the end: blocks are cut every RC_TEXT_BLOCK_SIZE bytes of the
 * records) and dropped. */
static int compress_records(rc_work_ctx *ctx, rc_work_out *out)
{
    size_t whole = out->records.n / RC_TEXT_BLOCK_SIZE * RC_TEXT_BLOCK_SIZE;
    int rc = rc_store_compress(ctx, NULL, out->records.v, whole, out);
    if (rc != RECITE_OK)
        return rc;
    memmove(out->records.v, out->records.v + whole, out->records.n - whole);
    out->records.n -= whole;
    out->records_done += whole;
    return RECITE_OK;
}

/* One pass over the work's text: tokenized in `mode` (the work's own, or prose for the words of
 * a code work), fingerprinted in ctx->chans[0, nch), with the checkpoints of its tokens and, in
 * a text-free index, their records (from byte records_at of the work's records on; checkpoints
 * count from there). Fingerprints spilled during the pass go into `mh` (NULL: the words of a
 * code work, which are not in its signature). */
typedef struct pass {
    int mode;
    unsigned nch;
    bool words; /* the words of a code work: checkpoints in out->word_checkpoints */
    uint64_t records_at;
    rc_minhash_state *mh;
    uint64_t ntok; /* out: tokens */
} pass;

static int push_checkpoint(rc_work_out *out, const pass *ps, uint64_t at)
{
    return ps->words ? RC_VEC_PUSH(out->word_checkpoints, (uint32_t)at)
                     : RC_VEC_PUSH(out->checkpoints, (uint32_t)at);
}

/* Text-free: appends the record of token number ti, whose next token starts at next_start. */
static int put_record(rc_work_ctx *ctx, rc_work_out *out, const pass *ps, const rc_token *t,
                      uint64_t ti, uint64_t next_start, uint64_t *prev_end)
{
    bool cp = ti % RC_CHECKPOINT_EVERY == 0;
    uint64_t at = out->records_done + out->records.n;
    if (at > UINT32_MAX - RC_TOKREC_MAX)
        return RECITE_ELIMIT;
    if ((cp && push_checkpoint(out, ps, at - ps->records_at) != RECITE_OK) ||
        RC_VEC_RESERVE(out->records, out->records.n + RC_TOKREC_MAX) != RECITE_OK)
        return RECITE_ENOMEM;
    rc_tokx x;
    rc_tokx_of(ctx->key, out->text, out->text_len, t->start, t->end, next_start, ctx->sig, &x);
    out->records.n += rc_tokrec_encode(out->records.v + out->records.n, t, &x, *prev_end, cp,
                                       ps->mode == RECITE_MODE_CODE);
    *prev_end = t->end;
    if (ctx->spill_bytes && out->records.n >= ctx->spill_bytes / 2)
        return compress_records(ctx, out);
    return RECITE_OK;
}

/* Spilling: the fingerprints whose contexts are complete go to the work's spill file once they
 * take half the spill budget (counted into the signature mh as they go, unless NULL). */
static int spill_fps(rc_work_ctx *ctx, rc_work_out *out, unsigned nch, rc_minhash_state *mh)
{
    if (!ctx->spill_bytes || out->fps.n * sizeof *out->fps.v < ctx->spill_bytes / 2)
        return RECITE_OK;
    size_t done = out->fps.n;
    for (unsigned c = 0; c < nch; c++)
        if (ctx->chans[c].pending != SIZE_MAX)
            done = RC_MIN(done, ctx->chans[c].pending);
    if (done == 0)
        return RECITE_OK;
    if (!out->fps_spool.cap)
        rc_spool_init(&out->fps_spool, ctx->spill_dir, RC_SPOOL_CHUNK);
    int rc =
        rc_spool_append(&out->fps_spool, out->fps.v, done * sizeof *out->fps.v, &ctx->spill_err);
    if (rc != RECITE_OK)
        return rc;
    if (mh)
        rc_minhash_add(mh, out->fps.v, done);
    memmove(out->fps.v, out->fps.v + done, (out->fps.n - done) * sizeof *out->fps.v);
    out->fps.n -= done;
    for (unsigned c = 0; c < nch; c++)
        if (ctx->chans[c].pending != SIZE_MAX)
            ctx->chans[c].pending -= done;
    return RECITE_OK;
}

static int fingerprint_pass(rc_work_ctx *ctx, rc_work_out *out, pass *ps)
{
    rc_tok_state st = {0, true};
    uint64_t t = 0, prev_end = 0, hash, pos;
    /* Text-free: each token's record is written when the next token's start is known. */
    rc_token pending = {0};
    uint64_t rec_end = 0;
    int rc;
    for (;;) {
        size_t n = rc_tokenize(ps->mode, &ctx->tz, out->text, out->text_len, true, &st, ctx->toks,
                               RC_ARRAY_LEN(ctx->toks));
        if (ctx->key)
            rc_key_tokens(ctx->key, ctx->toks, n);
        for (size_t i = 0; i < n; i++) {
            if (ctx->key) {
                if (t > 0 && (rc = put_record(ctx, out, ps, &pending, t - 1, ctx->toks[i].start,
                                              &rec_end)) != RECITE_OK)
                    return rc;
                pending = ctx->toks[i];
            } else if (t % RC_CHECKPOINT_EVERY == 0 &&
                       push_checkpoint(out, ps, t ? prev_end : 0) != RECITE_OK) {
                return RECITE_ENOMEM;
            }
            prev_end = ctx->toks[i].end;
            for (unsigned c = 0; c < ps->nch; c++) {
                rc_chan_state *cs = &ctx->chans[c];
                uint64_t h = cs->channel == RC_CH_SHAPE ? ctx->toks[i].shape : ctx->toks[i].hash;
                cs->history[t & (RC_HISTORY - 1)] = h;
                if (rc_winnow_push(&cs->wn, h, &hash, &pos) && add_fp(cs, out, hash, pos))
                    return RECITE_ENOMEM;
            }
            t++;
            for (unsigned c = 0; c < ps->nch; c++)
                complete_right(&ctx->chans[c], out, t, false);
        }
        if ((rc = spill_fps(ctx, out, ps->nch, ps->mh)) != RECITE_OK)
            return rc;
        if (n < RC_ARRAY_LEN(ctx->toks))
            break;
    }
    if (ctx->key && t > 0 &&
        (rc = put_record(ctx, out, ps, &pending, t - 1, out->text_len, &rec_end)) != RECITE_OK)
        return rc;
    for (unsigned c = 0; c < ps->nch; c++) {
        rc_chan_state *cs = &ctx->chans[c];
        if (rc_winnow_finish(&cs->wn, &hash, &pos) && add_fp(cs, out, hash, pos))
            return RECITE_ENOMEM;
        complete_right(cs, out, t, true);
    }
    ps->ntok = t;
    return RECITE_OK;
}

int rc_work_fingerprint(rc_work_ctx *ctx, rc_work_out *out)
{
    if (out->text_len > UINT32_MAX)
        return RECITE_ELIMIT;
    out->text_free = ctx->key != NULL;
    /* Prose works feed one channel (word hashes); code works two (lexeme and shape hashes),
     * then the prose channel with their words (the view of the work: docs/FORMAT.md). */
    rc_minhash_state mh;
    rc_minhash_init(&mh);
    pass ps = {out->mode, 1, false, 0, &mh, 0};
    if (out->mode == RECITE_MODE_CODE) {
        chan_init(&ctx->chans[0], RC_CH_CODE, ctx->kgram[RC_CH_CODE], ctx->window[RC_CH_CODE]);
        chan_init(&ctx->chans[1], RC_CH_SHAPE, ctx->kgram[RC_CH_SHAPE], ctx->window[RC_CH_SHAPE]);
        ps.nch = 2;
    } else {
        chan_init(&ctx->chans[0], RC_CH_PROSE, ctx->kgram[RC_CH_PROSE], ctx->window[RC_CH_PROSE]);
    }
    int rc = fingerprint_pass(ctx, out, &ps);
    if (rc != RECITE_OK)
        return rc;
    out->ntokens = ps.ntok;
    /* Families are of the work's own tokens (its words would make code look alike): the
     * fingerprints spilled so far and those in memory. */
    rc_minhash_add(&mh, out->fps.v, out->fps.n);
    rc_minhash_finish(&mh, out->minhash, &out->minhash_usable);
    if (out->mode != RECITE_MODE_CODE)
        return RECITE_OK;
    uint64_t records_at = out->records_done + out->records.n;
    pass words = {RECITE_MODE_PROSE, 1, true, records_at, NULL, 0};
    chan_init(&ctx->chans[0], RC_CH_PROSE, ctx->kgram[RC_CH_PROSE], ctx->window[RC_CH_PROSE]);
    out->word_records_at = (size_t)records_at;
    if ((rc = fingerprint_pass(ctx, out, &words)) != RECITE_OK)
        return rc;
    out->nwords = words.ntok;
    return RECITE_OK;
}

/* A work of an existing index, with its id, metadata and mode (compaction). */
static int load_from_index(const recite_index *from, uint32_t w, rc_work_out *out,
                           recite_error *err)
{
    recite_work_info info;
    int rc = recite_index_work(&info, from, w);
    if (rc != RECITE_OK)
        return rc_error_set(err, rc, "no work %u in the index", w);
    char *text;
    size_t len;
    if ((rc = recite_index_work_text(&text, &len, from, w, 0, info.bytes, err)) != RECITE_OK)
        return rc;
    out->text = (uint8_t *)text;
    out->text_len = len;
    const char *fields[RC_WS_COUNT_] = {0};
    fields[RC_WS_ID] = info.id;
    fields[RC_WS_TITLE] = info.title;
    fields[RC_WS_AUTHOR] = info.author;
    fields[RC_WS_LICENSE] = info.license;
    fields[RC_WS_COPYRIGHT] = info.copyright;
    fields[RC_WS_SOURCE] = info.source;
    fields[RC_WS_URL] = info.url;
    fields[RC_WS_META] = info.metadata_json;
    for (unsigned f = 0; f < RC_WS_COUNT_; f++)
        if (fields[f] && !(out->strs[f] = strdup(fields[f])))
            return rc_error_set(err, RECITE_ENOMEM, "out of memory");
    out->mode = info.mode;
    out->mode_given = true;
    /* Its locators too: the text is the same, so are its pages, chapters and member. */
    rc_loc_record loc;
    int lrc = rc_index_loc_record(from, w, &loc, err);
    if (lrc != RECITE_OK)
        return lrc;
    if ((loc.member && !(out->member = strdup(loc.member))) ||
        RC_VEC_RESERVE(out->pages, loc.npages) != RECITE_OK ||
        RC_VEC_RESERVE(out->chapters, loc.nchapters) != RECITE_OK)
        return rc_error_set(err, RECITE_ENOMEM, "out of memory");
    for (uint32_t i = 0; i < loc.npages; i++)
        out->pages.v[out->pages.n++] = rc_get_u32(loc.pages + 4 * (size_t)i);
    for (uint32_t i = 0; i < loc.nchapters; i++) {
        const uint8_t *c = loc.chapters + RC_LOC_CHAPTER_SIZE * (size_t)i;
        const char *title = rc_index_string(loc.idx, rc_get_u64(c + 8));
        const char *name = rc_index_string(loc.idx, rc_get_u64(c + 16));
        rc_chapter ch = {rc_get_u32(c), title ? strdup(title) : NULL, name ? strdup(name) : NULL};
        out->chapters.v[out->chapters.n++] = ch;
        if ((title && !ch.title) || (name && !ch.name))
            return rc_error_set(err, RECITE_ENOMEM, "out of memory");
    }
    return RECITE_OK;
}

int rc_work_load(rc_work_ctx *ctx, const rc_inputs *in, const rc_source *src, rc_work_out *out,
                 recite_error *err)
{
    memset(out, 0, sizeof *out);
    const char *path = in->paths.v[src->path];
    int rc;
    if (src->kind == RC_SRC_INDEX) {
        if ((rc = load_from_index(in->from, (uint32_t)src->offset, out, err)) != RECITE_OK)
            return rc;
        /* Each text is read once: the old index's pages it was read from need not stay, nor
         * the blocks its spare reader cached on the way (up to 8 MiB). */
        ctx->from_read += out->text_len;
        if (ctx->from_read >= RC_FROM_RELEASE) {
            ctx->from_read = 0;
            rc_index_release_pages(in->from);
            rc_store_spare_clear(in->from);
        }
    } else if (src->kind == RC_SRC_JSONL) {
        uint8_t *line;
        size_t len;
        if ((rc = read_range(path, src->offset, src->length, false, &line, &len, err)) != RECITE_OK)
            return rc;
        rc = parse_jsonl(path, src, line, len, out, err);
        free(line);
        if (rc != RECITE_OK)
            return rc;
    } else {
        if ((rc = read_range(path, 0, 0, true, &out->text, &out->text_len, err)) != RECITE_OK)
            return rc;
        if (!(out->strs[RC_WS_ID] = strdup(path)))
            return rc_error_set(err, RECITE_ENOMEM, "out of memory");
        /* Binary: a NUL byte near the start, as git and grep decide. */
        if (memchr(out->text, 0, RC_MIN(out->text_len, (size_t)8000))) {
            out->status = RC_WORK_SKIP_BINARY;
            return RECITE_OK;
        }
    }
    return rc_work_process(ctx, out, path, err);
}

/* Lines before each text block: a line number is then one block's count away. */
static int count_block_lines(rc_work_out *out)
{
    size_t nb = (out->text_len + RC_TEXT_BLOCK_SIZE - 1) / RC_TEXT_BLOCK_SIZE;
    if (RC_VEC_RESERVE(out->block_lines, nb) != RECITE_OK)
        return RECITE_ENOMEM;
    uint32_t lines = 0;
    for (size_t b = 0; b < nb; b++) {
        out->block_lines.v[out->block_lines.n++] = lines;
        const uint8_t *p = out->text + b * RC_TEXT_BLOCK_SIZE;
        const uint8_t *end = out->text + RC_MIN(out->text_len, (b + 1) * RC_TEXT_BLOCK_SIZE);
        while ((p = memchr(p, '\n', (size_t)(end - p))) != NULL) {
            lines++;
            p++;
        }
    }
    return RECITE_OK;
}

int rc_work_process(rc_work_ctx *ctx, rc_work_out *out, const char *path, recite_error *err)
{
    int rc;
    if (out->text_len == 0) {
        out->status = RC_WORK_SKIP_EMPTY;
        return RECITE_OK;
    }
    /* A JSONL "mode" wins; then --code or --prose; --auto goes by the file name (or id),
     * then by content. */
    if (!out->mode_given)
        out->mode = ctx->mode != RECITE_MODE_AUTO
                        ? ctx->mode
                        : rc_mode_of_text(out->strs[RC_WS_ID] ? out->strs[RC_WS_ID] : path,
                                          out->text, out->text_len);
    out->content = rc_hash128_of(out->text, out->text_len);
    if (!ctx->key && /* a text-free index keeps nothing that confirms a guessed text */
        asprintf(&out->strs[RC_WS_HASH], "%016llx%016llx", (unsigned long long)out->content.hi,
                 (unsigned long long)out->content.lo) < 0) {
        out->strs[RC_WS_HASH] = NULL;
        return rc_error_set(err, RECITE_ENOMEM, "out of memory");
    }
    if (out->mode == RECITE_MODE_CODE) /* same bytes, other mode: another text */
        out->content.hi ^= 0x9e3779b97f4a7c15ULL;
    if (ctx->nshards > 1 && rc_shard_of_content(out->content, ctx->nshards) != ctx->shard) {
        out->status = RC_WORK_OTHER_SHARD; /* another shard's: counted, not indexed here */
        return RECITE_OK;
    }
    out->invalid_utf8 = rc_utf8_count_invalid(out->text, out->text_len);
    rc = rc_work_fingerprint(ctx, out);
    if (rc == RECITE_ELIMIT)
        return rc_error_set(err, rc,
                            out->text_len > UINT32_MAX
                                ? "%s: larger than 4 GiB, the limit for one work"
                                : "%s: too many tokens for one work of a text-free index",
                            path);
    if (rc == RECITE_OK && !out->text_free && ctx->defer_compress)
        out->compress_later = true; /* when handed on, with others (build_defer.c) */
    else if (rc == RECITE_OK)
        rc = out->text_free ? rc_store_compress(ctx, NULL, out->records.v, out->records.n, out)
                            : rc_store_compress(ctx, ctx->cdict, out->text, out->text_len, out);
    if (rc == RECITE_OK && out->text_free && ctx->spill_bytes) {
        out->records_done += out->records.n; /* compressed: only their count is needed now */
        RC_VEC_FREE(out->records);
    }
    if (rc == RECITE_EIO) { /* a spill file could not be written */
        if (err)
            *err = ctx->spill_err;
        return rc;
    }
    if (rc != RECITE_OK || (ctx->cmi.header && rc_work_cmi(ctx, out) != RECITE_OK) ||
        (!out->text_free && count_block_lines(out) != RECITE_OK))
        return rc_error_set(err, RECITE_ENOMEM, "%s: out of memory", path);
    return RECITE_OK;
}

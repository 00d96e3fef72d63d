/*
 * ingest_fuzz.h — what the fuzz harnesses of the document and archive readers share
 * (fuzz_archive.c, fuzz_epub.c, fuzz_pdf.c, fuzz_html.c): one extraction of any bytes through the
 * builder's reader for that kind (src/build/rc_extract.h), whose works are processed like a
 * build's (tokens, fingerprints, blocks) and dropped, and whose invariants are checked: a
 * reader returns RECITE_OK for anything (a broken input is a note), its texts are within
 * bounds, its pages and chapters increase inside the text. Seeds are made by the harnesses
 * (small valid documents written with libarchive) or by tests/cli/mkingest.py.
 *
 * The harnesses are plain libFuzzer entry points (LLVMFuzzerTestOneInput); ingest_replay.c is
 * the main() that `make test` uses to run them over seeds and their mutations.
 */
#ifndef RECITE_INGEST_FUZZ_H
#define RECITE_INGEST_FUZZ_H

#include "build/rc_extract.h"
#include "fingerprint/rc_fingerprint.h"

#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
/* Writes the harness's seeds into dir (which exists); 0 on success. */
int fuzz_seeds(const char *dir);

#define IF_CHECK(cond, what)                                                                       \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: invariant failed: %s (%s)\n", __FILE__, __LINE__, #cond,       \
                    what);                                                                         \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

static inline int if_emit(rc_work_out *out, void *user)
{
    size_t *works = user;
    (*works)++;
    if (out->status == RC_WORK_OK) {
        IF_CHECK(out->strs[RC_WS_ID] != NULL, "a work has an id");
        for (size_t i = 0; i < out->pages.n; i++)
            IF_CHECK(out->pages.v[i] <= out->text_len &&
                         (i == 0 || out->pages.v[i] > out->pages.v[i - 1]),
                     "pages increase inside the text");
        for (size_t i = 0; i < out->chapters.n; i++)
            IF_CHECK(out->chapters.v[i].start <= out->text_len &&
                         (i == 0 || out->chapters.v[i].start >= out->chapters.v[i - 1].start),
                     "chapters increase inside the text");
    } else if (out->status == RC_WORK_SKIP_NOTE) {
        IF_CHECK(out->note && out->note[0], "a skipped work says why");
    }
    rc_work_out_free(out);
    return RECITE_OK;
}

/* Runs one input through the reader of `kind` (RC_DOC_ARCHIVE, _EPUB, _PDF, _HTML). */
static inline void if_run(rc_doc_kind kind, const uint8_t *data, size_t size)
{
    rc_work_ctx *ctx = calloc(1, sizeof *ctx);
    IF_CHECK(ctx, "out of memory");
    rc_fingerprint_params(12, &ctx->kgram[RC_CH_PROSE], &ctx->window[RC_CH_PROSE]);
    rc_fingerprint_params_code(65, &ctx->kgram[RC_CH_CODE], &ctx->window[RC_CH_CODE]);
    ctx->kgram[RC_CH_SHAPE] = ctx->kgram[RC_CH_CODE];
    ctx->window[RC_CH_SHAPE] = ctx->window[RC_CH_CODE];
    ctx->mode = RECITE_MODE_AUTO;
    ctx->cctx = ZSTD_createCCtx();
    ctx->max_expanded = 64u << 20; /* keep runs short; the ratio check still applies */
    IF_CHECK(ctx->cctx, "out of memory");
    size_t works = 0;
    rc_extract x = {ctx, if_emit, &works, 0, "fuzz", size, 0, 0, false, NULL};
    recite_error err = {0};
    int rc = RECITE_OK;
    if (kind == RC_DOC_ARCHIVE) {
        rc = rc_extract_archive_mem(&x, "fuzz", NULL, data, size, 1, &err);
    } else {
        /* rc_extract_bytes takes ownership and decides by content; the reader itself is
         * called directly so that every input reaches it. */
        rc_work_out out;
        memset(&out, 0, sizeof out);
        json_t *meta = json_object();
        char why[256] = "";
        const char *why_static = NULL;
        if (kind == RC_DOC_PDF)
            rc = rc_extract_pdf(data, size, &out, meta, why, sizeof why);
        else if (kind == RC_DOC_EPUB)
            rc = rc_extract_epub(&x, data, size, &out, meta, why, sizeof why);
        else if (!rc_extract_html(data, size, &out, meta, &why_static))
            IF_CHECK(why_static != NULL, "a failed HTML read says why");
        IF_CHECK(rc == RECITE_OK, "a reader fails only for lack of memory");
        if (!why[0] && !why_static && out.text_len) {
            IF_CHECK(out.text != NULL, "a text");
            out.strs[RC_WS_ID] = strdup("fuzz");
            rc = rc_extract_emit(&x, &out, meta, &err);
            meta = NULL;
        } else {
            IF_CHECK(!why[0] || strlen(why) < sizeof why, "a reason");
        }
        rc_work_out_free(&out);
        json_decref(meta);
    }
    IF_CHECK(rc == RECITE_OK, err.message);
    rc_work_ctx_free_extract(ctx);
    ZSTD_freeCCtx(ctx->cctx);
    free(ctx);
}

#endif /* RECITE_INGEST_FUZZ_H */

/*
 * fuzz_jsonl.c — the JSONL work reader of the index builder: the input is written as a .jsonl
 * file, split into lines by the builder's input walk (rc_inputs_collect) and each line loaded by
 * the builder's loader (rc_work_load: jansson parse, metadata, mode and source checks, CMI
 * extraction, tokenizing, winnowing, text-free token records, compression), as a build's worker
 * does — without the rest of a build, to stay fast. Checks: a line is loaded or refused with
 * RECITE_EFORMAT (one-line message naming the file and line); a loaded work's figures are
 * consistent (checkpoints every 32 tokens inside the text, fingerprints inside the tokens,
 * compressed blocks covering the stored bytes, metadata and CMI as valid JSON).
 * Input byte 0: bit 0 text-free (keyed token records), bits 1-2 the build mode; the rest is
 * the file.
 */
#include "fuzz.h"
#include "build/rc_build.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

#define MAX_LINES 64

static char *path;
static rc_work_ctx *ctx;
static rc_key key;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    char *dir = fz_tmpdir("jsonl");
    FZ_CHECK(asprintf(&path, "%s/works.jsonl", dir) > 0, "oom");
    ctx = calloc(1, sizeof *ctx);
    FZ_CHECK(ctx, "oom");
    ctx->cctx = ZSTD_createCCtx();
    FZ_CHECK(ctx->cctx, "oom");
    FZ_CHECK(rc_cmi_ctx_init(&ctx->cmi, NULL) == RECITE_OK, "oom"); /* notices, no license index */
    FZ_CHECK(rc_fingerprint_params(12, &ctx->kgram[RC_CH_PROSE], &ctx->window[RC_CH_PROSE]) ==
                     RECITE_OK &&
                 rc_fingerprint_params_code(65, &ctx->kgram[RC_CH_CODE],
                                            &ctx->window[RC_CH_CODE]) == RECITE_OK,
             "fingerprint parameters");
    ctx->kgram[RC_CH_SHAPE] = ctx->kgram[RC_CH_CODE];
    ctx->window[RC_CH_SHAPE] = ctx->window[RC_CH_CODE];
    FZ_CHECK(rc_key_derive(&key, fz_key, sizeof fz_key) == RECITE_OK, "key");
    return 0;
}

static void check_json(const char *s, const char *what)
{
    if (!s)
        return;
    json_error_t e;
    json_t *v = json_loads(s, JSON_DECODE_ANY | JSON_ALLOW_NUL, &e);
    FZ_CHECK(v, "%s is not JSON (%s): %.200s", what, e.text, s);
    json_decref(v);
}

static void check_work(const rc_work_out *w)
{
    FZ_CHECK(w->strs[RC_WS_ID] && w->strs[RC_WS_ID][0], "a work without id");
    if (w->status != RC_WORK_OK)
        return;
    FZ_CHECK(w->text_len > 0 && w->text && w->text[w->text_len] == 0, "bad text");
    FZ_CHECK(w->mode == RECITE_MODE_PROSE || w->mode == RECITE_MODE_CODE, "mode %d", w->mode);
    uint64_t want_cp = w->ntokens ? (w->ntokens - 1) / RC_CHECKPOINT_EVERY + 1 : 0;
    FZ_CHECK(w->checkpoints.n == want_cp, "%zu checkpoints for %llu tokens", w->checkpoints.n,
             (unsigned long long)w->ntokens);
    size_t stored = rc_work_stored_len(w);
    for (size_t i = 0; i < w->checkpoints.n; i++)
        FZ_CHECK(w->checkpoints.v[i] <= stored &&
                     (i == 0 ? w->checkpoints.v[i] == 0
                             : w->checkpoints.v[i] >= w->checkpoints.v[i - 1]),
                 "checkpoint %zu at %u", i, w->checkpoints.v[i]);
    /* A code work's words (its view) are fingerprinted in the prose channel, numbered apart. */
    FZ_CHECK(w->mode == RECITE_MODE_CODE || w->nwords == 0, "a prose work with a view");
    for (size_t i = 0; i < w->fps.n; i++) {
        bool words = w->fps.v[i].channel == RC_CH_PROSE;
        uint64_t n = words && w->mode == RECITE_MODE_CODE ? w->nwords : w->ntokens;
        FZ_CHECK(w->fps.v[i].channel < RC_CHANNELS && w->fps.v[i].pos < n &&
                     (words || w->mode == RECITE_MODE_CODE),
                 "fingerprint %zu (channel %u) at token %llu of %llu", i,
                 (unsigned)w->fps.v[i].channel, (unsigned long long)w->fps.v[i].pos,
                 (unsigned long long)n);
    }
    /* The compressed blocks decompress to the stored bytes. */
    const uint8_t *stored_bytes = w->text_free ? w->records.v : w->text;
    uint8_t block[RC_TEXT_BLOCK_SIZE];
    size_t off = 0, zoff = 0;
    for (size_t b = 0; b < w->zblocks.n; b++) {
        size_t raw = stored - off < RC_TEXT_BLOCK_SIZE ? stored - off : RC_TEXT_BLOCK_SIZE;
        FZ_CHECK(zoff + w->zblocks.v[b] <= w->zdata.n, "block %zu past the compressed data", b);
        size_t got = ZSTD_decompress(block, sizeof block, w->zdata.v + zoff, w->zblocks.v[b]);
        FZ_CHECK(!ZSTD_isError(got) && got == raw && memcmp(block, stored_bytes + off, raw) == 0,
                 "block %zu does not decompress to the stored bytes", b);
        off += raw;
        zoff += w->zblocks.v[b];
    }
    FZ_CHECK(off == stored && zoff == w->zdata.n, "blocks cover %zu of %zu stored bytes", off,
             stored);
    check_json(w->strs[RC_WS_META], "metadata");
    check_json(w->strs[RC_WS_CMI], "CMI");
    if (w->strs[RC_WS_SOURCE])
        FZ_CHECK(rc_is_source_kind(w->strs[RC_WS_SOURCE]), "source %s accepted",
                 w->strs[RC_WS_SOURCE]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    FZ_CHECK(fz_write(path, data + 1, size - 1) == 0, "cannot write %s", path);
    ctx->key = (data[0] & 1) ? &key : NULL;
    static const int modes[4] = {RECITE_MODE_PROSE, RECITE_MODE_CODE, RECITE_MODE_AUTO,
                                 RECITE_MODE_PROSE};
    ctx->mode = modes[(data[0] >> 1) & 3];
    rc_inputs in = {0};
    recite_error err = {0};
    const char *paths[] = {path};
    int rc = rc_inputs_collect(&in, paths, 1, NULL, NULL, &err);
    FZ_CHECK(rc == RECITE_OK, "input walk: %s", err.message);
    for (size_t i = 0; i < in.sources.n && i < MAX_LINES; i++) {
        const rc_source *src = &in.sources.v[i];
        FZ_CHECK(src->kind == RC_SRC_JSONL && src->offset + src->length <= size - 1,
                 "line %zu outside the file", i);
        rc_work_out out;
        memset(&err, 0, sizeof err);
        rc = rc_work_load(ctx, &in, src, &out, &err);
        if (getenv("FUZZ_VERBOSE"))
            fprintf(stderr, "line %llu: %s%s\n", (unsigned long long)src->line,
                    rc == RECITE_OK ? "loaded" : err.message,
                    rc == RECITE_OK && out.strs[RC_WS_CMI] ? out.strs[RC_WS_CMI] : "");
        if (rc == RECITE_OK) {
            check_work(&out);
        } else {
            fz_check_error(rc, &err, "rc_work_load");
            FZ_CHECK(rc == RECITE_EFORMAT || rc == RECITE_ELIMIT, "line %llu: %s",
                     (unsigned long long)src->line, err.message);
            char where[64];
            snprintf(where, sizeof where, ":%llu: ", (unsigned long long)src->line);
            FZ_CHECK(rc != RECITE_EFORMAT || strstr(err.message, where),
                     "the message does not name the line: %s", err.message);
        }
        rc_work_out_free(&out);
    }
    rc_inputs_free(&in);
    return 0;
}

int fuzz_seeds(const char *dir)
{
    size_t n;
    char *gpl = fz_text("/usr/share/common-licenses/GPL-2", 0, 3000, &n);
    char *code = fz_text("/usr/include/string.h", 0, 3000, &n);
    json_t *line1 =
        json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:[s,s], s:i}", "id", "gpl2", "text", gpl,
                  "title", "A license", "author", "FSF", "license", "GPL-2.0-only", "source",
                  "licensed", "url", "https://example.org/", "runs", "run-a", "run-b", "extra", 7);
    json_t *line2 = json_pack("{s:i, s:s, s:s, s:{s:s}}", "id", 42, "text", code, "mode", "code",
                              "meta", "k", "v");
    char *l1 = json_dumps(line1, JSON_COMPACT), *l2 = json_dumps(line2, JSON_COMPACT);
    FZ_CHECK(l1 && l2, "oom");
    static const char *const small[] = {
        "{\"id\":\"a\",\"text\":\"Copyright (C) 2001 Someone. SPDX-License-Identifier: MIT\\n"
        "Permission is hereby granted, free of charge, to any person.\"}\n",
        "{\"id\":\"\",\"text\":\"empty "
        "id\"}\n{\"id\":\"x\"}\n[1,2]\n{\"id\":\"y\",\"text\":\"\"}\n",
        "{\"id\":\"m\",\"text\":\"t\",\"mode\":\"poetry\"}\n{\"id\":\"s\",\"text\":\"t\","
        "\"source\":\"stolen\"}\n",
        "{\"id\":\"nul\",\"text\":\"a\\u0000b \\ud83d\\ude00 \\u00e9t\\u00e9\"}\r\n  \n\t\n"
        "{\"id\":\"u\",\"text\":\"no newline at the end\"}",
        "{\"id\":\"bad\",\"text\":\"unterminated}\n{\"id\": 1e400, \"text\": \"x\"}\n",
        "{\"id\":\"dup\",\"id\":\"dup2\",\"text\":\"duplicate keys\",\"title\":null,"
        "\"author\":[1,{\"a\":true}]}\n",
    };
    char *buf;
    int rc = 0;
    FZ_CHECK(asprintf(&buf, "%c%s\n%s\n", 0, l1, l2) > 0, "oom");
    rc |= fz_seed(dir, "seed-metadata", buf, strlen(buf + 1) + 1);
    buf[0] = 1; /* text-free */
    rc |= fz_seed(dir, "seed-text-free", buf, strlen(buf + 1) + 1);
    buf[0] = 4; /* auto */
    rc |= fz_seed(dir, "seed-auto", buf, strlen(buf + 1) + 1);
    free(buf);
    for (size_t i = 0; i < sizeof small / sizeof *small; i++) {
        char name[32];
        snprintf(name, sizeof name, "seed-%02zu", i);
        FZ_CHECK(asprintf(&buf, "%c%s", (int)(i & 1) * 3, small[i]) > 0, "oom");
        rc |= fz_seed(dir, name, buf, strlen(buf + 1) + 1);
        free(buf);
    }
    free(l1);
    free(l2);
    json_decref(line1);
    json_decref(line2);
    free(gpl);
    free(code);
    return rc;
}

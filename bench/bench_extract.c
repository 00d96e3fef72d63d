/*
 * bench_extract.c — extraction alone, per input (bench/ingest.sh): each FILE (or --git REPO) is
 * read by the builder's readers (src/build/extract*.c) on one thread, and the works' text is
 * counted and dropped — no tokens, fingerprints or compression — so the time is the readers'.
 *   bench_extract PASSES FILE...        prints "seconds input_bytes text_bytes works" (best pass)
 *   bench_extract PASSES --git REPO
 */
#include "build/rc_extract.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

typedef struct counts {
    uint64_t text, works;
} counts;

static int count(rc_work_out *out, void *user)
{
    counts *c = user;
    if (out->status == RC_WORK_OK) {
        c->text += out->text_len;
        c->works++;
    }
    rc_work_out_free(out);
    return RECITE_OK;
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: bench_extract PASSES FILE... | PASSES --git REPO\n");
        return 2;
    }
    int passes = atoi(argv[1]);
    rc_inputs in;
    recite_error err = {0};
    bool git = strcmp(argv[2], "--git") == 0;
    int rc = git ? (memset(&in, 0, sizeof in),
                    rc_inputs_add_git(&in, (const char *const *)argv + 3, 1, NULL, NULL, &err))
                 : rc_inputs_collect(&in, (const char *const *)argv + 2, (size_t)(argc - 2), NULL,
                                     NULL, &err);
    if (rc != RECITE_OK) {
        fprintf(stderr, "bench_extract: %s\n", err.message);
        return 2;
    }
    rc_work_ctx *ctx = calloc(1, sizeof *ctx);
    ctx->extract_only = true;
    ctx->mode = RECITE_MODE_PROSE;
    double best = 1e30;
    counts c = {0, 0};
    for (int p = 0; p < passes; p++) {
        c = (counts){0, 0};
        double t0 = now();
        for (size_t s = 0; s < in.sources.n && rc == RECITE_OK; s++) {
            if (in.sources.v[s].kind == RC_SRC_FILE) {
                /* plain text files are read as they are; time the containers' readers */
                char head[RC_SNIFF_BYTES];
                FILE *f = fopen(in.paths.v[in.sources.v[s].path], "rb");
                size_t n = f ? fread(head, 1, sizeof head, f) : 0;
                if (f)
                    fclose(f);
                if (rc_doc_kind_of((const uint8_t *)head, n, in.paths.v[in.sources.v[s].path]) ==
                    RC_DOC_TEXT) {
                    c.text += in.sources.v[s].length;
                    c.works++;
                    continue;
                }
            }
            rc = rc_source_load(ctx, &in, s, count, &c, &err);
        }
        double t = now() - t0;
        if (t < best)
            best = t;
    }
    if (rc != RECITE_OK) {
        fprintf(stderr, "bench_extract: %s\n", err.message);
        return 2;
    }
    printf("%.4f %llu %llu %llu\n", best, (unsigned long long)in.total_bytes,
           (unsigned long long)c.text, (unsigned long long)c.works);
    rc_work_ctx_free_extract(ctx);
    free(ctx);
    rc_inputs_free(&in);
    return 0;
}

/*
 * bench_limits.c — one index against a sharded index of the same library, when a limit cuts a
 * check short: checks each text with max_postings, max_candidates and max_matches over a range
 * and compares the results field by field (what bench/shard_keys.sh runs over random keys).
 *
 *   bench_limits ONE_DIR SHARDED_DIR KEYFILE|- STEPS TEXT...
 *
 * Limits tried per text: max_postings = 40 k, max_candidates = k / 4 + 1, max_matches = k / 3
 * + 1 for k = 1, 1 + 997 / STEPS ... below 1000 (STEPS values each). Prints one line per
 * difference and a JSON summary {"checks", "truncated", "differ"}; exits 1 when something
 * differs, 2 on an error.
 */
#define _POSIX_C_SOURCE 200809L
#include "recite.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *slurp(const char *p, size_t *n)
{
    FILE *f = fopen(p, "rb");
    if (!f) {
        perror(p);
        exit(2);
    }
    char *b = NULL;
    size_t cap = 0, len = 0, got;
    do {
        if (len + 65536 > cap && !(b = realloc(b, cap = 2 * cap + 65536)))
            exit(2);
    } while ((got = fread(b + len, 1, cap - len - 1, f)) > 0 && (len += got));
    fclose(f);
    b[len] = 0;
    *n = len;
    return b;
}

/* The first field that differs, or NULL. */
static const char *differs(const recite_result *a, const recite_result *b)
{
    if (a->nmatches != b->nmatches || a->nworks != b->nworks)
        return "counts";
    if (a->truncated != b->truncated || a->common_others != b->common_others)
        return "truncated/common_others";
    for (size_t i = 0; i < a->nmatches; i++) {
        const recite_match *x = &a->matches[i], *y = &b->matches[i];
        if (x->work != y->work || x->out_start != y->out_start || x->out_end != y->out_end ||
            x->src_start != y->src_start || x->src_end != y->src_end || x->kind != y->kind ||
            x->tokens != y->tokens || x->common != y->common || x->shared_by != y->shared_by ||
            x->passage != y->passage || x->similarity != y->similarity)
            return "a match";
    }
    for (size_t i = 0; i < a->nworks; i++) {
        const recite_work_hit *x = &a->works[i], *y = &b->works[i];
        if (x->work != y->work || x->tokens_covered != y->tokens_covered ||
            x->matches != y->matches || x->score != y->score || x->cmi != y->cmi)
            return "a work";
    }
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc < 6) {
        fprintf(stderr, "usage: bench_limits ONE_DIR SHARDED_DIR KEYFILE|- STEPS TEXT...\n");
        return 2;
    }
    size_t klen = 0;
    char *key = strcmp(argv[3], "-") ? slurp(argv[3], &klen) : NULL;
    recite_error err = {0};
    recite_index *one = NULL, *sh = NULL;
    if (recite_index_open_keyed(&one, argv[1], key, klen, &err) != RECITE_OK ||
        recite_index_open_keyed(&sh, argv[2], key, klen, &err) != RECITE_OK) {
        fprintf(stderr, "bench_limits: %s\n", err.message);
        return 2;
    }
    unsigned steps = (unsigned)atoi(argv[4]);
    steps = steps ? steps : 20;
    unsigned long checks = 0, truncated = 0, bad = 0;
    for (int t = 5; t < argc; t++) {
        size_t len;
        char *text = slurp(argv[t], &len);
        for (unsigned which = 0; which < 3; which++)
            for (unsigned k = 1; k < 1000; k += 997 / steps) {
                recite_check_options o = RECITE_CHECK_OPTIONS_INIT;
                if (which == 0)
                    o.max_postings = 40 * k;
                else if (which == 1)
                    o.max_candidates = k / 4 + 1;
                else
                    o.max_matches = k / 3 + 1;
                recite_checker *c1, *c2;
                const recite_result *r1, *r2;
                if (recite_checker_create(&c1, one, &o, &err) != RECITE_OK ||
                    recite_checker_create(&c2, sh, &o, &err) != RECITE_OK ||
                    recite_check_text(&r1, c1, text, len, &err) != RECITE_OK ||
                    recite_check_text(&r2, c2, text, len, &err) != RECITE_OK) {
                    fprintf(stderr, "bench_limits: %s: %s\n", argv[t], err.message);
                    return 2;
                }
                checks++;
                truncated += r1->truncated != 0;
                const char *d = differs(r1, r2);
                if (d) {
                    bad++;
                    printf("%s: %s %u: %s differs\n", argv[t],
                           which == 0   ? "max_postings"
                           : which == 1 ? "max_candidates"
                                        : "max_matches",
                           which == 0 ? 40 * k : which == 1 ? k / 4 + 1 : k / 3 + 1, d);
                }
                recite_checker_free(c1);
                recite_checker_free(c2);
            }
        free(text);
    }
    printf("{\"checks\": %lu, \"truncated\": %lu, \"differ\": %lu}\n", checks, truncated, bad);
    recite_index_close(one);
    recite_index_close(sh);
    free(key);
    return bad ? 1 : 0;
}

/*
 * python_overhead.c — the C side of bench/python_overhead.py: what recite.Index.check does,
 * through the C API alone (recite_check_text, then recite_policy_decide for the verdict), on the
 * same outputs, one thread, one checker.
 *
 *   python_overhead INDEX_DIR INPUTS ROUNDS   (INPUTS: 4-byte little-endian length + bytes, ...)
 *
 * Prints the best over ROUNDS of the mean nanoseconds per check.
 */
#include "recite.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

int main(int argc, char **argv)
{
    if (argc != 4)
        return 2;
    FILE *f = fopen(argv[2], "rb");
    if (!f)
        return 2;
    char *buf[4096];
    size_t len[4096], n = 0;
    unsigned char h[4];
    while (n < 4096 && fread(h, 1, 4, f) == 4) {
        len[n] = (size_t)h[0] | (size_t)h[1] << 8 | (size_t)h[2] << 16 | (size_t)h[3] << 24;
        buf[n] = malloc(len[n] + 1);
        if (!buf[n] || fread(buf[n], 1, len[n], f) != len[n])
            return 2;
        n++;
    }
    fclose(f);
    recite_index *idx;
    recite_checker *c;
    recite_error err;
    if (recite_index_open(&idx, argv[1], &err) != RECITE_OK ||
        recite_checker_create(&c, idx, NULL, &err) != RECITE_OK) {
        fprintf(stderr, "%s\n", err.message);
        return 2;
    }
    recite_action actions[1024];
    int rules[1024];
    double best = 1e30;
    long sink = 0;
    for (int r = 0; r < atoi(argv[3]); r++) {
        double t0 = now();
        for (size_t i = 0; i < n; i++) {
            const recite_result *res;
            if (recite_check_text(&res, c, buf[i], len[i], &err) != RECITE_OK)
                return 2;
            if (res->nworks <= 1024)
                sink += recite_policy_decide(actions, rules, NULL, idx, res);
            sink += (long)res->nmatches;
        }
        double per = (now() - t0) / (double)n;
        if (per < best)
            best = per;
    }
    printf("%.0f %ld\n", best, sink);
    recite_checker_free(c);
    recite_index_close(idx);
    for (size_t i = 0; i < n; i++)
        free(buf[i]);
    return 0;
}

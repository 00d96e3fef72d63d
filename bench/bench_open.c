/*
 * bench_open.c — how long recite_index_open (and close) takes, and a whole `recite check` of a
 * tiny text as the library sees it (open, checker, check, close).
 *
 *   bench_open INDEX_DIR [RUNS]
 *
 * Opens and closes the index RUNS times (default 200; the first, with cold caches of the
 * process, is reported apart) and prints one JSON object: median, p90 and min of open+close in
 * ms, and the same for open + checker + check of a 20-word text + free + close. Exits 2 on an
 * error.
 */
#define _POSIX_C_SOURCE 200809L
#include "recite.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec * 1e-6;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    if (argc < 2 || argc > 3) {
        fprintf(stderr, "usage: bench_open INDEX_DIR [RUNS]\n");
        return 2;
    }
    int runs = argc == 3 ? atoi(argv[2]) : 200;
    if (runs < 2)
        runs = 2;
    double *open_ms = malloc((size_t)runs * sizeof *open_ms);
    double *check_ms = malloc((size_t)runs * sizeof *check_ms);
    if (!open_ms || !check_ms)
        return 2;
    static const char tiny[] = "The quick brown fox jumps over the lazy dog while the court "
                               "found that the license notice was absent from the copy.\n";
    recite_error err = {0};
    for (int i = 0; i < runs; i++) {
        recite_index *idx;
        double t0 = now_ms();
        if (recite_index_open(&idx, argv[1], &err) != RECITE_OK) {
            fprintf(stderr, "bench_open: %s\n", err.message);
            return 2;
        }
        recite_index_close(idx);
        double t1 = now_ms();
        recite_checker *chk;
        const recite_result *res;
        if (recite_index_open(&idx, argv[1], &err) != RECITE_OK ||
            recite_checker_create(&chk, idx, NULL, &err) != RECITE_OK ||
            recite_check_text(&res, chk, tiny, sizeof tiny - 1, &err) != RECITE_OK) {
            fprintf(stderr, "bench_open: %s\n", err.message);
            return 2;
        }
        recite_checker_free(chk);
        recite_index_close(idx);
        double t2 = now_ms();
        open_ms[i] = t1 - t0;
        check_ms[i] = t2 - t1;
    }
    double first_open = open_ms[0], first_check = check_ms[0];
    qsort(open_ms + 1, (size_t)runs - 1, sizeof *open_ms, cmp_double);
    qsort(check_ms + 1, (size_t)runs - 1, sizeof *check_ms, cmp_double);
    int n = runs - 1;
    printf(
        "{\"runs\": %d, \"open_first_ms\": %.4f, \"open_median_ms\": %.4f, \"open_p90_ms\": %.4f, "
        "\"open_min_ms\": %.4f, \"tiny_check_first_ms\": %.4f, \"tiny_check_median_ms\": %.4f, "
        "\"tiny_check_p90_ms\": %.4f, \"tiny_check_min_ms\": %.4f}\n",
        runs, first_open, open_ms[1 + n / 2],
        open_ms[1 + (n * 9) / 10 < runs ? 1 + (n * 9) / 10 : runs - 1], open_ms[1], first_check,
        check_ms[1 + n / 2], check_ms[1 + (n * 9) / 10 < runs ? 1 + (n * 9) / 10 : runs - 1],
        check_ms[1]);
    free(open_ms);
    free(check_ms);
    return 0;
}

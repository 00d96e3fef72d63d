/*
 * bench_dist.c — checks under mpirun, fanned out to the shards or scattered (bench/scale.sh):
 * per-output latency, throughput and each rank's peak memory.
 *
 *   mpirun -n N bench_dist fanout|scatter INDEX_DIR LIST [PASSES]
 *
 * fanout: rank r opens part r of N of the sharded index (recite_index_open_part: its shards
 * only) and every output is checked by all ranks together (recite_check_distributed), timed on
 * rank 0 from a barrier to its result. scatter: every rank opens the whole index and checks the
 * outputs i with i mod N == r (recite_check_text), timed where checked. One untimed warm-up
 * pass, then PASSES (default 3) timed passes; latencies are each output's best time, the
 * throughput the bytes over the best pass's wall time (barrier to barrier). Rank 0 prints one
 * JSON object: mode, ranks, outputs, bytes, wall_s, mb_per_s, p50_ms, p99_ms, max_ms, matches,
 * rss_mb (peak resident memory of each rank: the index pages it touched, its heap), and for
 * fanout sent_kb and received_kb, what rank 0 exchanged per check (the mean). Exits 2 on an
 * error.
 */
#define _POSIX_C_SOURCE 200809L
#include "recite.h"

#include <mpi.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

static unsigned long long sent, received; /* bytes of this rank's exchanges */

static int comm_allgather(void *user, const void *send, size_t len, void **out, size_t *lens)
{
    (void)user;
    int n;
    MPI_Comm_size(MPI_COMM_WORLD, &n);
    unsigned long long mine = len, *all = malloc((size_t)n * sizeof *all);
    int *counts = malloc((size_t)n * sizeof *counts), *displs = malloc((size_t)n * sizeof *displs);
    MPI_Allgather(&mine, 1, MPI_UNSIGNED_LONG_LONG, all, 1, MPI_UNSIGNED_LONG_LONG,
                  MPI_COMM_WORLD);
    size_t total = 0;
    for (int r = 0; r < n; r++) {
        lens[r] = (size_t)all[r];
        counts[r] = (int)all[r];
        displs[r] = (int)total;
        total += lens[r];
    }
    char *buf = malloc(total + 1);
    sent += len;
    received += total;
    MPI_Allgatherv(send, (int)len, MPI_BYTE, buf, counts, displs, MPI_BYTE, MPI_COMM_WORLD);
    free(all);
    free(counts);
    free(displs);
    *out = buf;
    return RECITE_OK;
}

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static char *slurp(const char *p, size_t *n)
{
    FILE *f = fopen(p, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long l = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = malloc((size_t)l + 1);
    *n = fread(b, 1, (size_t)l, f);
    b[*n] = 0;
    fclose(f);
    return b;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void fail(const char *what, const recite_error *err)
{
    fprintf(stderr, "bench_dist: %s: %s\n", what, err ? err->message : "");
    MPI_Abort(MPI_COMM_WORLD, 2);
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    int rank, size;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    if (argc < 4) {
        if (rank == 0)
            fprintf(stderr, "usage: mpirun -n N bench_dist fanout|scatter INDEX LIST [PASSES]\n");
        MPI_Finalize();
        return 2;
    }
    int fanout = strcmp(argv[1], "fanout") == 0, passes = argc > 4 ? atoi(argv[4]) : 3;
    /* The outputs, every rank reading them all (a shared file system). */
    FILE *lf = fopen(argv[3], "r");
    if (!lf)
        fail(argv[3], NULL);
    char **texts = NULL, line[4096];
    size_t *lens = NULL, n = 0, bytes = 0;
    while (fgets(line, sizeof line, lf)) {
        line[strcspn(line, "\n")] = 0;
        if (!*line)
            continue;
        texts = realloc(texts, (n + 1) * sizeof *texts);
        lens = realloc(lens, (n + 1) * sizeof *lens);
        if (!(texts[n] = slurp(line, &lens[n])))
            fail(line, NULL);
        bytes += lens[n++];
    }
    fclose(lf);
    recite_error err = {0};
    recite_index *idx;
    int rc = fanout ? recite_index_open_part(&idx, argv[2], NULL, 0, (unsigned)rank,
                                             (unsigned)size, &err)
                    : recite_index_open(&idx, argv[2], &err);
    recite_checker *chk;
    if (rc != RECITE_OK || recite_checker_create(&chk, idx, NULL, &err) != RECITE_OK)
        fail(argv[2], &err);
    recite_comm comm = {(unsigned)rank, (unsigned)size, comm_allgather, NULL, NULL};
    double *best = malloc(n * sizeof *best), *lat = malloc(n * sizeof *lat), wall = 1e30;
    for (size_t i = 0; i < n; i++)
        best[i] = 1e30;
    unsigned long long matches = 0;
    for (int pass = 0; pass <= passes; pass++) {
        memset(lat, 0, n * sizeof *lat);
        matches = 0;
        sent = received = 0;
        MPI_Barrier(MPI_COMM_WORLD);
        double t0 = now();
        for (size_t i = 0; i < n; i++) {
            const recite_result *res;
            if (fanout) {
                MPI_Barrier(MPI_COMM_WORLD);
                double a = now();
                if (recite_check_distributed(&res, chk, &comm, texts[i], lens[i], &err) !=
                    RECITE_OK)
                    fail("check", &err);
                lat[i] = rank == 0 ? now() - a : 0;
                matches += rank == 0 ? res->nmatches : 0;
            } else if (i % (size_t)size == (size_t)rank) {
                double a = now();
                if (recite_check_text(&res, chk, texts[i], lens[i], &err) != RECITE_OK)
                    fail("check", &err);
                lat[i] = now() - a;
                matches += res->nmatches;
            }
        }
        MPI_Barrier(MPI_COMM_WORLD);
        double t = now() - t0;
        /* Every output's time is on one rank (the others hold 0). */
        MPI_Allreduce(MPI_IN_PLACE, lat, (int)n, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
        MPI_Allreduce(MPI_IN_PLACE, &matches, 1, MPI_UNSIGNED_LONG_LONG, MPI_SUM, MPI_COMM_WORLD);
        if (pass == 0)
            continue; /* warm-up: page faults on the mapped index */
        if (t < wall)
            wall = t;
        for (size_t i = 0; i < n; i++)
            if (lat[i] < best[i])
                best[i] = lat[i];
    }
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    long rss = ru.ru_maxrss, *all_rss = malloc((size_t)size * sizeof *all_rss);
    MPI_Gather(&rss, 1, MPI_LONG, all_rss, 1, MPI_LONG, 0, MPI_COMM_WORLD);
    if (rank == 0) {
        qsort(best, n, sizeof *best, cmp_double);
        printf("{\"mode\": \"%s\", \"ranks\": %d, \"outputs\": %zu, \"bytes\": %zu, "
               "\"wall_s\": %.3f, \"mb_per_s\": %.3f, \"p50_ms\": %.3f, \"p99_ms\": %.3f, "
               "\"max_ms\": %.3f, \"matches\": %llu, \"rss_mb\": [",
               fanout ? "fanout" : "scatter", size, n, bytes, wall, (double)bytes / 1e6 / wall,
               n ? best[n / 2] * 1e3 : 0, n ? best[(size_t)((double)n * 0.99)] * 1e3 : 0,
               n ? best[n - 1] * 1e3 : 0, matches);
        for (int r = 0; r < size; r++)
            printf("%s%.1f", r ? ", " : "", (double)all_rss[r] / 1024.0);
        printf("], \"sent_kb\": %.2f, \"received_kb\": %.2f}\n",
               n ? (double)sent / 1e3 / (double)n : 0, n ? (double)received / 1e3 / (double)n : 0);
    }
    for (size_t i = 0; i < n; i++)
        free(texts[i]);
    free(texts);
    free(lens);
    free(best);
    free(lat);
    free(all_rss);
    recite_checker_free(chk);
    recite_index_close(idx);
    MPI_Finalize();
    return 0;
}

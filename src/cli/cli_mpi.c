/*
 * cli_mpi.c — `recite index --mpi` and `recite check --mpi` under mpirun (Open MPI): the only
 * file that knows MPI. The build and the fanned-out check (cli_fanout.c) hand the library a
 * recite_comm made of MPI collectives (the library itself does not depend on MPI); the
 * scattered check spreads its inputs over the ranks, each checking its share against the whole
 * index, and gathers the reports on rank 0, which prints them in input order. Built without
 * MPI (no `pkg-config ompi-c`), --mpi says so and fails.
 */
#include "cli.h"

#include <stdlib.h>
#include <string.h>

#ifdef RECITE_WITH_MPI
#include <mpi.h>

static bool started;

int cli_mpi_start(unsigned *rank, unsigned *size)
{
    int provided, r, n;
    /* Only the calling thread talks MPI (the build's workers never do). */
    if (MPI_Init_thread(NULL, NULL, MPI_THREAD_FUNNELED, &provided) != MPI_SUCCESS) {
        fprintf(stderr, "recite: --mpi: MPI_Init failed\n");
        return EXIT_USAGE;
    }
    started = true;
    MPI_Comm_rank(MPI_COMM_WORLD, &r);
    MPI_Comm_size(MPI_COMM_WORLD, &n);
    *rank = (unsigned)r;
    *size = (unsigned)n;
    return 0;
}

void cli_mpi_end(void)
{
    if (started)
        MPI_Finalize();
    started = false;
}

/* ==== the communicator of a distributed build ==== */

static int counts_of(const size_t *lens, unsigned n, int *counts, int *displs)
{
    size_t at = 0;
    for (unsigned r = 0; r < n; r++) {
        if (lens[r] > INT32_MAX || at > INT32_MAX)
            return RECITE_ELIMIT; /* MPI counts are ints: 2 GiB per exchange and rank */
        counts[r] = (int)lens[r];
        displs[r] = (int)at;
        at += lens[r];
    }
    return at > INT32_MAX ? RECITE_ELIMIT : RECITE_OK;
}

static int mpi_allgather(void *user, const void *send, size_t len, void **out, size_t *lens)
{
    (void)user;
    int n;
    MPI_Comm_size(MPI_COMM_WORLD, &n);
    uint64_t mine = len, *all = malloc((size_t)n * sizeof *all);
    int *counts = malloc((size_t)n * sizeof *counts), *displs = malloc((size_t)n * sizeof *displs);
    int rc = all && counts && displs ? RECITE_OK : RECITE_ENOMEM;
    /* Every rank takes part in both exchanges whatever happens here: none is left waiting. */
    if (MPI_Allgather(&mine, 1, MPI_UINT64_T, all, 1, MPI_UINT64_T, MPI_COMM_WORLD) != MPI_SUCCESS)
        rc = RECITE_EIO;
    size_t total = 0;
    for (int r = 0; rc == RECITE_OK && r < n; r++)
        total += lens[r] = (size_t)all[r];
    if (rc == RECITE_OK)
        rc = counts_of(lens, (unsigned)n, counts, displs);
    char *buf = malloc(total + 1);
    if (rc == RECITE_OK && !buf)
        rc = RECITE_ENOMEM;
    if (rc == RECITE_OK && MPI_Allgatherv(send, (int)len, MPI_BYTE, buf, counts, displs, MPI_BYTE,
                                          MPI_COMM_WORLD) != MPI_SUCCESS)
        rc = RECITE_EIO;
    free(all);
    free(counts);
    free(displs);
    if (rc != RECITE_OK) {
        free(buf);
        buf = NULL;
    }
    *out = buf;
    return rc;
}

static int mpi_alltoall(void *user, const void *send, const size_t *send_lens, void **out,
                        size_t *recv_lens)
{
    (void)user;
    int n;
    MPI_Comm_size(MPI_COMM_WORLD, &n);
    uint64_t *sl = malloc((size_t)n * sizeof *sl), *rl = malloc((size_t)n * sizeof *rl);
    int *sc = malloc(4 * (size_t)n * sizeof *sc);
    int rc = sl && rl && sc ? RECITE_OK : RECITE_ENOMEM;
    for (int r = 0; rc == RECITE_OK && r < n; r++)
        sl[r] = send_lens[r];
    if (rc == RECITE_OK &&
        MPI_Alltoall(sl, 1, MPI_UINT64_T, rl, 1, MPI_UINT64_T, MPI_COMM_WORLD) != MPI_SUCCESS)
        rc = RECITE_EIO;
    size_t total = 0;
    for (int r = 0; rc == RECITE_OK && r < n; r++)
        total += recv_lens[r] = (size_t)rl[r];
    if (rc == RECITE_OK && (counts_of(send_lens, (unsigned)n, sc, sc + n) != RECITE_OK ||
                            counts_of(recv_lens, (unsigned)n, sc + 2 * n, sc + 3 * n) != RECITE_OK))
        rc = RECITE_ELIMIT;
    char *buf = malloc(total + 1);
    if (rc == RECITE_OK && !buf)
        rc = RECITE_ENOMEM;
    if (rc == RECITE_OK && MPI_Alltoallv(send, sc, sc + n, MPI_BYTE, buf, sc + 2 * n, sc + 3 * n,
                                         MPI_BYTE, MPI_COMM_WORLD) != MPI_SUCCESS)
        rc = RECITE_EIO;
    free(sl);
    free(rl);
    free(sc);
    if (rc != RECITE_OK) {
        free(buf);
        buf = NULL;
    }
    *out = buf;
    return rc;
}

void cli_mpi_comm(recite_comm *out, unsigned rank, unsigned size)
{
    *out = (recite_comm){rank, size, mpi_allgather, mpi_alltoall, NULL};
}

/* ==== gathering the reports of a distributed check ==== */

int cli_mpi_gather(const cli_report *mine, size_t n, unsigned rank, unsigned size, size_t total,
                   cli_report_fn print, void *user)
{
    /* Each rank's reports as one buffer: per report u64 input, u32 status, u64 length, bytes. */
    size_t len = 0;
    for (size_t i = 0; i < n; i++)
        len += 20 + mine[i].len;
    char *buf = malloc(len + 1), *p = buf;
    int ok = buf != NULL;
    for (size_t i = 0; ok && i < n; i++) {
        uint64_t in = mine[i].input, l = mine[i].len;
        uint32_t st = (uint32_t)mine[i].status;
        memcpy(p, &in, 8);
        memcpy(p + 8, &st, 4);
        memcpy(p + 12, &l, 8);
        memcpy(p + 20, mine[i].text, mine[i].len);
        p += 20 + mine[i].len;
    }
    size_t *lens = calloc(size, sizeof *lens);
    void *all = NULL;
    int rc = ok && lens ? mpi_allgather(NULL, buf, ok ? len : 0, &all, lens) : RECITE_ENOMEM;
    free(buf);
    int status = 0;
    if (rc != RECITE_OK) {
        if (rank == 0)
            fprintf(stderr, "recite: --mpi: the ranks could not gather their reports (%s)\n",
                    recite_strerror(rc));
        status = EXIT_USAGE;
    } else if (rank == 0) {
        /* In input order: each input's report is in the buffer of the rank that checked it. */
        cli_report *order = calloc(total + 1, sizeof *order);
        const char *q = all, *end = q;
        for (unsigned r = 0; r < size; r++)
            end += lens[r];
        while (order && q + 20 <= end) {
            uint64_t in, l;
            uint32_t st;
            memcpy(&in, q, 8);
            memcpy(&st, q + 8, 4);
            memcpy(&l, q + 12, 8);
            if (in < total && l <= (uint64_t)(end - q - 20))
                order[in] = (cli_report){in, (int)st, q + 20, (size_t)l};
            q += 20 + l;
        }
        status = order ? print(order, total, user) : EXIT_USAGE;
        free(order);
    }
    free(all);
    free(lens);
    /* Every rank exits as rank 0 does. */
    int st = status;
    MPI_Bcast(&st, 1, MPI_INT, 0, MPI_COMM_WORLD);
    return st;
}

int cli_mpi_agree(int status)
{
    int all = status;
    if (MPI_Allreduce(&status, &all, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD) != MPI_SUCCESS)
        return EXIT_USAGE;
    return all;
}

#else /* without MPI */

int cli_mpi_start(unsigned *rank, unsigned *size)
{
    *rank = 0;
    *size = 1;
    fprintf(stderr, "recite: --mpi: this recite was built without MPI (install libopenmpi-dev "
                    "and rebuild)\n");
    return EXIT_USAGE;
}

void cli_mpi_end(void)
{
}

void cli_mpi_comm(recite_comm *out, unsigned rank, unsigned size)
{
    *out = (recite_comm){rank, size, NULL, NULL, NULL};
}

int cli_mpi_gather(const cli_report *mine, size_t n, unsigned rank, unsigned size, size_t total,
                   cli_report_fn print, void *user)
{
    (void)mine, (void)n, (void)rank, (void)size, (void)total, (void)print, (void)user;
    return EXIT_USAGE;
}

int cli_mpi_agree(int status)
{
    return status;
}

#endif

/*
 * cli_verify.c — `recite verify --index DIR`: reads the whole index and checks every section's
 * checksum and every cross-reference (recite_index_verify), which opening the index leaves to
 * the reads that touch each record (docs/FORMAT.md). Exit 0 when intact, 2 with the first
 * problem on stderr.
 */
#include "cli.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int cli_verify(int argc, char **argv)
{
    static const struct option opts[] = {
        {"index", required_argument, 0, 'i'}, {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    const char *index_dir = NULL;
    int c;
    while ((c = getopt_long(argc, argv, ":i:h", opts, NULL)) != -1) {
        switch (c) {
        case 'i': index_dir = optarg; break;
        case 'h':
            fputs("usage: recite verify --index DIR\n"
                  "Reads the whole index and checks the checksum of every section and every\n"
                  "cross-reference of its tables (opening an index checks only its structure).\n"
                  "exit status: 0 intact, 2 damaged or unreadable\n",
                  stdout);
            return 0;
        default:
            cli_error("verify: bad option '%s' (see recite verify --help)", argv[optind - 1]);
            return EXIT_USAGE;
        }
    }
    if (!index_dir || optind < argc) {
        fprintf(stderr, "recite: verify: %s (see recite verify --help)\n",
                index_dir ? "unexpected argument" : "--index DIR is required");
        return EXIT_USAGE;
    }
    recite_index *idx;
    recite_error err = {0};
    if (recite_index_open(&idx, index_dir, &err) != RECITE_OK)
        return cli_fail(&err);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int rc = recite_index_verify(idx, &err);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    recite_index_stats st;
    recite_index_get_stats(&st, idx);
    recite_index_close(idx);
    if (rc != RECITE_OK) {
        cli_error("%s: %s", index_dir, err.message);
        return EXIT_USAGE;
    }
    printf("%s: intact (%.1f MB, every checksum and table checked in %.2f s)\n", index_dir,
           (double)st.bytes_total / 1e6,
           (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) * 1e-9);
    return cli_finish_output();
}

/*
 * cli.h — what the `recite` subcommands (main.c, cli_catalog.c, cli_license.c) share: the
 * failure and output conventions (one `recite: ...` line on stderr, exit status 2), reading an
 * input file, and JSON strings from bytes that may not be UTF-8. Uses only include/recite.h.
 */
#ifndef RECITE_CLI_H
#define RECITE_CLI_H

#include "recite.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define EXIT_USAGE 2

int cli_license(int argc, char **argv); /* cli_license.c */
int cli_catalog(int argc, char **argv); /* cli_catalog.c */
/* recite_catalog_open, after remaking a catalogue made for an earlier index than the one at
 * dir (a build stopped between publishing the index and remaking it: recite_catalog_current),
 * which a line on stderr says. */
int cli_catalog_open(recite_catalog **cat, const char *dir, int writable, recite_error *err);
int serve_main(int argc, char **argv); /* src/serve/serve_main.c */
int cli_verify(int argc, char **argv); /* cli_verify.c */

/* The environment the library does not read, read here once: where license indexes are cached
 * ($RECITE_CACHE, else $XDG_CACHE_HOME/recite, else $HOME/.cache/recite; NULL when none), the
 * SPDX license list ($RECITE_SPDX_DIR; NULL = the library's default) and the time stamp of
 * reproducible builds ($SOURCE_DATE_EPOCH; 0 = now). */
typedef struct cli_env {
    char *license_cache_dir;
    const char *spdx_dir;
    uint64_t created_unix;
} cli_env;
void cli_env_read(cli_env *env);
void cli_env_free(cli_env *env);

/* Prints "recite: MESSAGE" for err on stderr; returns EXIT_USAGE. */
int cli_fail(const recite_error *err);

/* Prints "recite: " and the formatted message on stderr as one line (a newline or carriage
 * return in it, e.g. from a path, becomes a space), then a newline. */
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Flushes stdout: 0, or EXIT_USAGE with a message when the output could not be written. */
int cli_finish_output(void);

/* A whole input: a regular file, or standard input for "-". */
typedef struct cli_input {
    const char *name;
    char *data; /* NUL-terminated */
    size_t len;
} cli_input;

/* Reads `name` into in; false, with one line on stderr, for a missing, unreadable, non-regular
 * or binary (NUL bytes in the first 8000) input. in->data is to be freed either way. */
bool cli_read_input(const char *name, cli_input *in);

/* Length of the valid UTF-8 sequence at s (n bytes available) and its code point, or 0 when it
 * is not one. */
size_t cli_utf8_seq(const unsigned char *s, size_t n, unsigned *cp);

/* A byte that is not UTF-8, read as Windows-1252 (as the library reads such text). */
unsigned cli_cp1252(unsigned char b);

/* s[0, n) as a JSON string (invalid UTF-8 bytes as their Windows-1252 characters); NULL as
 * null. */
void cli_json_mem(FILE *f, const char *s, size_t n);
void cli_json_str(FILE *f, const char *s);

/* cli_html.c: writes the HTML evidence report of input i (of n) to `path` (several inputs:
 * FILE-1.html, FILE-2.html, ...). Returns 0, or EXIT_USAGE with one line on stderr. */
int cli_write_html(const char *path, size_t i, size_t n, const recite_index *idx,
                   const recite_policy *policy, const recite_check_options *copt,
                   const char *index_dir, const cli_input *in, const recite_result *res);

/* cli_mpi.c: `--mpi` under mpirun. A report of one input of a distributed check: status 0
 * (nothing found), 1 (found) or EXIT_USAGE (text is then the error message). */
typedef struct cli_report {
    uint64_t input;
    int status;
    const char *text;
    size_t len;
} cli_report;
typedef int (*cli_report_fn)(const cli_report *reports, size_t n, void *user);
/* Starts MPI (MPI_Init): 0, or EXIT_USAGE with a message (a recite built without MPI). */
int cli_mpi_start(unsigned *rank, unsigned *size);
void cli_mpi_end(void); /* MPI_Finalize, when started */
/* The collectives of a distributed build (recite_index_build_sharded). */
void cli_mpi_comm(recite_comm *out, unsigned rank, unsigned size);
/* Gathers every rank's reports (mine[0, n)) on rank 0, which calls print with the reports of
 * all `total` inputs in input order; returns print's status on every rank. */
int cli_mpi_gather(const cli_report *mine, size_t n, unsigned rank, unsigned size, size_t total,
                   cli_report_fn print, void *user);
/* Every rank's status (0 or an exit status): the highest, on every rank. */
int cli_mpi_agree(int status);

/* cli_fanout.c: the index opened for a fanned-out check (its part comm->rank of comm->size);
 * *fanout false when it is an ordinary index (then opened whole, for a scattered check). */
int cli_open_fanout(recite_index **idx, bool *fanout, const char *dir, const char *key,
                    size_t key_len, const recite_comm *comm, recite_error *err);
/* The inputs checked by every rank against its shards, rank 0 printing the reports (JSON or
 * text) in input order; the exit status, the same on every rank. */
int cli_check_fanout(const cli_input *inputs, size_t n, recite_checker *chk,
                     const recite_index *idx, const recite_policy *policy, bool json,
                     const recite_comm *comm);

#endif /* RECITE_CLI_H */

/*
 * main.c — the `recite` command: argument parsing, progress and notes on stderr, reports on
 * stdout, exit status (0 nothing found, 1 recitation found, 2 usage or input error). Uses only
 * the public API in include/recite.h; everything it says to people is decided here.
 */
#include "cli.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define EXIT_FOUND 1
#define EXIT_SKIPPED 3 /* index: built, but some input could not be read (a note says why) */

static const char usage_text[] =
    "usage:\n"
    "  recite index --out DIR [--prose|--code|--auto] [--jobs N] [--mem SIZE] [--min-tokens N]\n"
    "               [--code-min-tokens N] [--no-cmi] [--text-free --key FILE] [--quiet]\n"
    "               [--git REPO[@REV]]... [--archive-depth N] [--max-expand SIZE]\n"
    "               [--max-ratio N] [--shards N] [PATH...]\n"
    "  recite check --index DIR [--json] [--html FILE] [--min-tokens N] [--code-min-tokens N]\n"
    "               [--min-similarity X] [--exact-only] [--all-works] [--background DIR]\n"
    "               [--key FILE] [--policy FILE]\n"
    "               [FILE|-]...\n"
    "  recite stats --index DIR [--json]\n"
    "  recite verify --index DIR\n"
    "  recite license [--json] [--mode prose|code|auto] FILE...\n"
    "  recite catalog list|runs|delete|audit --index DIR ... (recite catalog --help)\n"
    "  recite compact --index DIR [--jobs N] [--mem SIZE] [--quiet]\n"
    "  recite serve --index DIR [--listen ADDR:PORT] [--proxy URL] ... (recite serve --help)\n"
    "  recite --version | --help\n"
    "  mpirun -n N recite index --mpi --out DIR ... | mpirun -n N recite check --mpi [--scatter]\n"
    "               --index DIR FILE...\n"
    "\n"
    "index   build an index of the works under PATH (files, directories, .jsonl files with\n"
    "        one {\"id\", \"text\", ...metadata} object per line) into DIR, atomically;\n"
    "        works are prose (words) or code (lexemes, with shapes that renamed copies\n"
    "        share) by file extension, then content (default, --auto); --prose or --code\n"
    "        forces one mode for every file; --no-cmi: no copyright\n"
    "        notices or license identification (no CMI verdicts from the works' text);\n"
    "        --text-free: store no text, only token hashes keyed with the secret in FILE\n"
    "        (16+ bytes, e.g. head -c 32 /dev/urandom) and offsets; check needs --key FILE;\n"
    "        archives (tar, zip, 7z, ...), EPUB, PDF and HTML files are read by content:\n"
    "        works ARCHIVE!MEMBER, with pages, chapters and lines reported per match;\n"
    "        --git REPO[@REV]: the files of a git commit (default HEAD), ids REPO@REV:PATH;\n"
    "        an input that cannot be read is skipped with a note and the exit status is 3;\n"
    "        --shards N: a sharded index of N shards (checks give the same results);\n"
    "        --mpi under mpirun: one shard per rank, built in parallel (docs/SCALE.md)\n"
    "check   report the spans of each FILE (or standard input) that reproduce indexed works,\n"
    "        exactly, after normalization, or with a few words changed (near, similarity at\n"
    "        least X, default 0.8; --exact-only turns near matching off);\n"
    "        --all-works lists every work sharing a passage of common language (license\n"
    "        headers, boilerplate), not just three of them; --background DIR: an index of\n"
    "        public text, spans also found there are common language; --policy FILE:\n"
    "        rules by license, source, CMI and extent that decide the verdict (pass, cite,\n"
    "        flag, block; docs/POLICY.md); default: common language passes, the rest is flagged;\n"
    "        --key FILE: the key of a text-free index (refused for an ordinary one);\n"
    "        --html FILE also writes an evidence report (several inputs: FILE-1.html, ...);\n"
    "        --mpi under mpirun: each rank opens its shards, inputs are checked by all\n"
    "        (--scatter, an ordinary index, --html: inputs shared out; docs/SCALE.md)\n"
    "stats   describe an index\n"
    "verify  read the whole index and check every checksum and table (open checks structure)\n"
    "license the license (SPDX id) and copyright notices of each FILE, as index records them\n"
    "catalog the provenance catalogue of an index (DIR/catalog.sqlite): list works by source,\n"
    "        license or training run, list runs, mark a work deleted, read the audit log\n"
    "compact rebuild the index without the works marked deleted in its catalogue: their text,\n"
    "        fingerprints and compression dictionary are purged\n"
    "serve   an HTTP service: checks, streaming sessions, guardrail endpoints, and with --proxy\n"
    "        an OpenAI-compatible proxy that stops recitations mid-stream (docs/SERVE.md)\n"
    "\n"
    "exit status: 0 nothing found, 1 recitation found, 2 error, 3 (index) built with\n"
    "             unreadable inputs skipped\n";

static void die_usage(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die_usage(const char *fmt, ...)
{
    char msg[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    cli_error("%s (see recite --help)", msg);
    exit(EXIT_USAGE);
}

/* getopt_long returned '?' (unknown option) or ':' (missing value). */
static void bad_option(int c, char **argv)
{
    const char *arg = argv[optind - 1];
    if (c == ':')
        die_usage("option '%s' needs a value", arg);
    if (optopt && strncmp(arg, "--", 2) != 0)
        die_usage("unknown option '-%c'", optopt);
    die_usage("unknown option '%.*s'", (int)strcspn(arg, "="), arg);
}

/* Whether [s, end) is only digits and a decimal point: what strto* parse beyond that (leading
 * spaces, a sign, hexadecimal, "inf", exponents) is not a number a user means here. */
static bool digits_only(const char *s, const char *end)
{
    return end > s && strspn(s, "0123456789.") == (size_t)(end - s);
}

static unsigned parse_uint(const char *opt, const char *s, unsigned min, unsigned max)
{
    char *end;
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    if (errno || end == s || *end || !digits_only(s, end) || v < min || v > max)
        die_usage("%s expects a whole number from %u to %u, not '%s'", opt, min, max, s);
    return (unsigned)v;
}

static double parse_fraction(const char *opt, const char *s)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || !digits_only(s, end) || !(v > 0.0 && v <= 1.0))
        die_usage("%s expects a number in (0, 1], not '%s'", opt, s);
    return v;
}

static uint64_t parse_size(const char *opt, const char *s)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    const char *num_end = end;
    uint64_t mult = 1;
    if (*end == 'k' || *end == 'K')
        mult = 1ull << 10, end++;
    else if (*end == 'm' || *end == 'M')
        mult = 1ull << 20, end++;
    else if (*end == 'g' || *end == 'G')
        mult = 1ull << 30, end++;
    if (*end == 'i' || *end == 'B' || *end == 'b')
        end++;
    if (*end == 'B')
        end++;
    double bytes = v * (double)mult;
    /* !(>= 1) also refuses NaN, which no comparison is true of (and a size under a byte) */
    if (errno || end == s || *end || !digits_only(s, num_end) || !(bytes >= 1 && bytes <= 1e15))
        die_usage("%s expects a size such as 512M or 2G, not '%s'", opt, s);
    return (uint64_t)bytes;
}

/* ==== index ==== */

typedef struct index_ui {
    bool tty, quiet;
    unsigned long long duplicates, skipped, unreadable;
    bool progress_shown;
} index_ui;

static void on_progress(const recite_build_progress *p, void *user)
{
    index_ui *ui = user;
    if (!ui->tty || ui->quiet)
        return;
    double mb = (double)p->bytes_done / 1e6, total = (double)p->bytes_total / 1e6;
    double rate = p->seconds > 0 ? mb / p->seconds : 0;
    double eta = rate > 0 ? (total - mb) / rate : 0;
    fprintf(stderr, "\r\033[Kindexing: %llu/%llu works, %.1f/%.1f MB, %.1f MB/s, ETA %.0fs",
            (unsigned long long)p->works_done, (unsigned long long)p->works_total, mb, total, rate,
            eta < 0 ? 0 : eta);
    ui->progress_shown = true;
}

static void on_note(recite_note_kind kind, const char *path, const char *detail, void *user)
{
    index_ui *ui = user;
    if (kind == RECITE_NOTE_DUPLICATE) {
        ui->duplicates++;
        return;
    }
    if (kind != RECITE_NOTE_INVALID_UTF8)
        ui->skipped++;
    if (kind == RECITE_NOTE_SKIPPED_UNREADABLE)
        ui->unreadable++;
    if (ui->quiet)
        return;
    if (ui->progress_shown)
        fputs("\r\033[K", stderr);
    const char *what = kind == RECITE_NOTE_INVALID_UTF8 ? "note" : "skipped";
    fprintf(stderr, "recite: %s: %s (%s)\n", what, path, detail);
}

/* The secret of a text-free index (recite_key_read), or exit with its error. */
static char *read_key(const char *path, size_t *len)
{
    char *key;
    recite_error err = {0};
    if (recite_key_read(&key, len, path, &err) != RECITE_OK)
        exit(cli_fail(&err));
    return key;
}

/* Removes the index just published at dir (whose catalogue could not be made): its files, as
 * recite index writes them, then the directory; anything else there is left alone. */
static void remove_new_index(const char *dir)
{
    static const char *const files[] = {"recite.idx", "licenses/recite.idx", "catalog.sqlite"};
    char path[4096];
    for (size_t i = 0; i < sizeof files / sizeof *files; i++)
        if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, files[i]) < sizeof path)
            unlink(path);
    if ((size_t)snprintf(path, sizeof path, "%s/licenses", dir) < sizeof path)
        rmdir(path);
    for (unsigned sh = 0; sh < 4096; sh++) { /* a sharded index's shards */
        if ((size_t)snprintf(path, sizeof path, "%s/shard-%04u/recite.idx", dir, sh) >=
                sizeof path ||
            unlink(path) != 0)
            break;
        path[strlen(path) - strlen("/recite.idx")] = 0;
        rmdir(path);
    }
    rmdir(dir);
}

static int cmd_index(int argc, char **argv)
{
    static const struct option opts[] = {{"out", required_argument, 0, 'o'},
                                         {"jobs", required_argument, 0, 'j'},
                                         {"mem", required_argument, 0, 'm'},
                                         {"min-tokens", required_argument, 0, 'n'},
                                         {"prose", no_argument, 0, 'P'},
                                         {"code", no_argument, 0, 'C'},
                                         {"auto", no_argument, 0, 'A'},
                                         {"quiet", no_argument, 0, 'q'},
                                         {"no-cmi", no_argument, 0, 'X'},
                                         {"code-min-tokens", required_argument, 0, 'K'},
                                         {"text-free", no_argument, 0, 'T'},
                                         {"key", required_argument, 0, 'k'},
                                         {"git", required_argument, 0, 'G'},
                                         {"archive-depth", required_argument, 0, 'D'},
                                         {"max-expand", required_argument, 0, 'E'},
                                         {"max-ratio", required_argument, 0, 'R'},
                                         {"shards", required_argument, 0, 'S'},
                                         {"mpi", no_argument, 0, 'M'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    recite_build_options opt = RECITE_BUILD_OPTIONS_INIT;
    /* The mode is decided per file (RECITE_MODE_AUTO) unless --prose or --code forces one. */
    unsigned shards = 0, rank = 0, size = 1;
    bool mpi = false;
    const char **git = calloc((size_t)argc, sizeof *git); /* at most one per argument */
    if (!git)
        die_usage("out of memory");
    const char *out = NULL, *key_file = NULL;
    bool text_free = false;
    index_ui ui = {isatty(2) != 0, false, 0, 0, 0, false};
    int c;
    while ((c = getopt_long(argc, argv, ":o:j:m:n:qh", opts, NULL)) != -1) {
        switch (c) {
        case 'o': out = optarg; break;
        case 'j': opt.jobs = parse_uint("--jobs", optarg, 1, 256); break;
        case 'm': opt.mem_budget = parse_size("--mem", optarg); break;
        case 'n': opt.min_tokens = parse_uint("--min-tokens", optarg, 1, 261); break;
        case 'K': opt.code_min_tokens = parse_uint("--code-min-tokens", optarg, 1, 271); break;
        case 'P': opt.mode = RECITE_MODE_PROSE; break;
        case 'A': opt.mode = RECITE_MODE_AUTO; break;
        case 'C': opt.mode = RECITE_MODE_CODE; break;
        case 'q': ui.quiet = true; break;
        case 'X': opt.skip_cmi = 1; break;
        case 'T': text_free = true; break;
        case 'k': key_file = optarg; break;
        case 'G': git[opt.ngit++] = optarg; break;
        case 'D': opt.archive_depth = parse_uint("--archive-depth", optarg, 1, 64); break;
        case 'E': opt.max_expanded = parse_size("--max-expand", optarg); break;
        case 'R': opt.max_ratio = parse_uint("--max-ratio", optarg, 1, 1000000); break;
        case 'S': shards = parse_uint("--shards", optarg, 1, 4096); break;
        case 'M': mpi = true; break;
        case 'h':
            free(git);
            fputs(usage_text, stdout);
            return 0;
        default: bad_option(c, argv);
        }
    }
    if (!out)
        die_usage("index: --out DIR is required");
    if (optind >= argc && opt.ngit == 0)
        die_usage("index: no PATH to index");
    opt.git = git;
    if (text_free != (key_file != NULL))
        die_usage(text_free ? "index: --text-free needs --key FILE"
                            : "index: --key is only for --text-free indexes");
    char *key = NULL;
    if (key_file) {
        key = read_key(key_file, &opt.text_free_key_len);
        opt.text_free_key = key;
    }
    if (mpi && cli_mpi_start(&rank, &size) != 0) {
        free(key);
        free(git);
        return EXIT_USAGE;
    }
    ui.quiet |= rank != 0; /* rank 0 speaks for the build */
    opt.progress = on_progress;
    opt.note = on_note;
    opt.user = &ui;
    cli_env env;
    cli_env_read(&env);
    opt.license_cache_dir = env.license_cache_dir;
    opt.spdx_dir = env.spdx_dir;
    opt.created_unix = env.created_unix;
    recite_build_stats st;
    recite_error err = {0};
    struct stat out_st;
    bool existed = lstat(out, &out_st) == 0;
    /* The catalogue of the index being replaced is carried over after the new index is
     * published: one that cannot be read would fail the run with the new index already in
     * place beside the old catalogue, so it fails the run before anything is built. */
    char *cat_path = NULL;
    struct stat cat_st;
    if (existed && asprintf(&cat_path, "%s/catalog.sqlite", out) > 0 &&
        lstat(cat_path, &cat_st) == 0) {
        recite_catalog *old_cat = NULL;
        if (recite_catalog_open(&old_cat, out, 0, &err) != RECITE_OK) {
            free(cat_path);
            cli_env_free(&env);
            free(key);
            free(git);
            cli_fail(&err);
            cli_mpi_end();
            return EXIT_USAGE;
        }
        recite_catalog_close(old_cat);
    }
    free(cat_path);
    recite_comm comm;
    cli_mpi_comm(&comm, rank, size);
    const char *const *paths = (const char *const *)argv + optind;
    size_t npaths = (size_t)(argc - optind);
    int rc = mpi ? recite_index_build_sharded(&st, out, paths, npaths, shards ? shards : size,
                                              &comm, &opt, &err)
             : shards
                 ? recite_index_build_sharded(&st, out, paths, npaths, shards, NULL, &opt, &err)
                 : recite_index_build(&st, out, paths, npaths, &opt, &err);
    cli_env_free(&env);
    free(key);
    free(git);
    if (ui.progress_shown)
        fputs("\r\033[K", stderr);
    /* Rank 0 says why before MPI_Finalize, which the other ranks wait in: once one of them
     * exits non-zero, mpirun ends the job, and a line rank 0 wrote after that could be lost. */
    int failed = rc != RECITE_OK && rank == 0 ? cli_fail(&err) : 0;
    cli_mpi_end();
    if (rank != 0) /* rank 0 reports (and builds the catalogue) */
        return rc != RECITE_OK ? EXIT_USAGE : 0;
    if (rc != RECITE_OK)
        return failed;
    /* The provenance catalogue of the new index, carrying over deletions and the audit log. */
    if (recite_catalog_build(out, &err) != RECITE_OK) {
        if (!existed) /* exit 2 leaves no index without its catalogue where there was none */
            remove_new_index(out);
        return cli_fail(&err);
    }
    if (!ui.quiet) {
        printf("indexed %llu works (%llu distinct texts, %.1f MB, %llu tokens) into %s: "
               "%.1f MB index (%.2fx the text), %.2f s\n",
               (unsigned long long)st.works, (unsigned long long)st.clusters,
               (double)st.bytes / 1e6, (unsigned long long)st.tokens, out,
               (double)st.index_bytes / 1e6,
               st.bytes ? (double)st.index_bytes / (double)st.bytes : 0.0, st.seconds);
        if (mpi || shards)
            printf("in %u shards%s\n", shards ? shards : size, mpi ? ", one per MPI rank" : "");
        if (mpi) /* the other ranks noted theirs */
            ui.duplicates = st.works - st.clusters;
        if (ui.duplicates)
            printf("%llu works were identical to an earlier one and share its entry\n",
                   ui.duplicates);
        if (ui.skipped)
            printf("%llu inputs were skipped (see the notes above)\n", ui.skipped);
        if (ui.unreadable)
            printf("%llu of them could not be read (unreadable, corrupt, encrypted, without "
                   "text or over a limit): exit status %d\n",
                   ui.unreadable, EXIT_SKIPPED);
    }
    return ui.unreadable ? EXIT_SKIPPED : 0;
}

/* ==== compact ==== */

typedef struct id_list {
    char **v;
    size_t n, cap;
    bool oom;
} id_list;

static int collect_deleted(const recite_catalog_work *w, void *user)
{
    id_list *l = user;
    if (!w->deleted_at)
        return 0;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 16;
        char **v = realloc(l->v, cap * sizeof *v);
        if (!v) {
            l->oom = true;
            return 1;
        }
        l->v = v;
        l->cap = cap;
    }
    if (!(l->v[l->n] = strdup(w->id))) {
        l->oom = true;
        return 1;
    }
    l->n++;
    return 0;
}

static int cmd_compact(int argc, char **argv)
{
    static const struct option opts[] = {
        {"index", required_argument, 0, 'i'}, {"jobs", required_argument, 0, 'j'},
        {"mem", required_argument, 0, 'm'},   {"quiet", no_argument, 0, 'q'},
        {"help", no_argument, 0, 'h'},        {0, 0, 0, 0}};
    const char *dir = NULL;
    bool quiet = false;
    recite_build_options opt = RECITE_BUILD_OPTIONS_INIT;
    int c;
    while ((c = getopt_long(argc, argv, ":i:j:m:qh", opts, NULL)) != -1) {
        switch (c) {
        case 'i': dir = optarg; break;
        case 'j': opt.jobs = parse_uint("--jobs", optarg, 1, 256); break;
        case 'm': opt.mem_budget = parse_size("--mem", optarg); break;
        case 'q': quiet = true; break;
        case 'h': fputs(usage_text, stdout); return 0;
        default: bad_option(c, argv);
        }
    }
    if (!dir)
        die_usage("compact: --index DIR is required");
    if (optind < argc)
        die_usage("compact: unexpected argument '%s'", argv[optind]);
    recite_error err = {0};
    recite_catalog *cat = NULL;
    recite_catalog_filter all = {NULL, NULL, NULL, 1};
    id_list del = {0};
    int status = EXIT_USAGE;
    if (cli_catalog_open(&cat, dir, 0, &err) != RECITE_OK ||
        recite_catalog_list(cat, &all, collect_deleted, &del, &err) != RECITE_OK) {
        cli_fail(&err);
        goto done;
    }
    recite_catalog_close(cat);
    cat = NULL;
    if (del.oom) {
        fprintf(stderr, "recite: out of memory\n");
        goto done;
    }
    recite_build_stats st;
    cli_env env;
    cli_env_read(&env);
    opt.license_cache_dir = env.license_cache_dir;
    opt.spdx_dir = env.spdx_dir;
    opt.created_unix = env.created_unix;
    int crc = recite_index_compact(&st, dir, (const char *const *)del.v, del.n, &opt, &err);
    cli_env_free(&env);
    if (crc != RECITE_OK) {
        cli_fail(&err);
        goto done;
    }
    uint64_t dropped = st.works_dropped;
    /* Works deleted by an earlier compaction are not in the index any more. */
    if (dropped == 0) {
        if (!quiet)
            printf("%s: no deleted work is left in the index; nothing to compact\n", dir);
        status = 0;
        goto done;
    }
    if (recite_catalog_build(dir, &err) != RECITE_OK) {
        cli_fail(&err);
        goto done;
    }
    if (!quiet)
        printf("compacted %s: %llu deleted works purged, %llu works left (%.1f MB of text), "
               "%.1f MB index, %.2f s\n",
               dir, (unsigned long long)dropped, (unsigned long long)st.works,
               (double)st.bytes / 1e6, (double)st.index_bytes / 1e6, st.seconds);
    status = 0;
done:
    recite_catalog_close(cat);
    for (size_t i = 0; i < del.n; i++)
        free(del.v[i]);
    free(del.v);
    return status;
}

/* ==== check ==== */

/* Fills err for a failure the library did not report; returns code. */
static int rc_error_message(recite_error *err, int code, const char *msg)
{
    err->code = code;
    snprintf(err->message, sizeof err->message, "%s", msg);
    return code;
}

/* Rank 0 of `recite check --mpi`: every input's report, in input order (cli_mpi_gather). */
static int print_reports(const cli_report *r, size_t n, void *user)
{
    const bool *json = user;
    bool found = false;
    for (size_t i = 0; i < n; i++) {
        if (!r[i].text || r[i].status == EXIT_USAGE) {
            fprintf(stderr, "recite: %.*s\n", r[i].text ? (int)r[i].len : 22,
                    r[i].text ? r[i].text : "a rank lost its report");
            return EXIT_USAGE;
        }
    }
    if (*json && n > 1)
        fputs("[", stdout);
    for (size_t i = 0; i < n; i++) {
        printf("%s%.*s", *json && i ? "," : "", (int)r[i].len, r[i].text);
        found |= r[i].status == EXIT_FOUND;
    }
    if (*json)
        fputs(n > 1 ? "]\n" : "\n", stdout);
    if (fflush(stdout) != 0) {
        fprintf(stderr, "recite: cannot write the report: %s\n", strerror(errno));
        return EXIT_USAGE;
    }
    return found ? EXIT_FOUND : 0;
}

static int cmd_check(int argc, char **argv)
{
    static const struct option opts[] = {{"index", required_argument, 0, 'i'},
                                         {"json", no_argument, 0, 'J'},
                                         {"html", required_argument, 0, 'H'},
                                         {"min-tokens", required_argument, 0, 'n'},
                                         {"policy", required_argument, 0, 'p'},
                                         {"all-works", no_argument, 0, 'W'},
                                         {"exact-only", no_argument, 0, 'E'},
                                         {"min-similarity", required_argument, 0, 'S'},
                                         {"code-min-tokens", required_argument, 0, 'K'},
                                         {"background", required_argument, 0, 'B'},
                                         {"key", required_argument, 0, 'k'},
                                         {"mpi", no_argument, 0, 'M'},
                                         {"scatter", no_argument, 0, 'X'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    const char *index_dir = NULL, *background_dir = NULL, *key_file = NULL;
    const char *policy_file = NULL, *html_file = NULL;
    bool json = false, mpi = false, scatter = false, fanout = false;
    unsigned rank = 0, size = 1;
    int rc;
    recite_check_options copt = RECITE_CHECK_OPTIONS_INIT;
    recite_comm comm;
    bool setup_ok = false;
    int c;
    while ((c = getopt_long(argc, argv, ":i:n:h", opts, NULL)) != -1) {
        switch (c) {
        case 'i': index_dir = optarg; break;
        case 'J': json = true; break;
        case 'H': html_file = optarg; break;
        case 'n': copt.min_tokens = parse_uint("--min-tokens", optarg, 1, 1000000); break;
        case 'W': copt.all_works = 1; break;
        case 'B': background_dir = optarg; break;
        case 'k': key_file = optarg; break;
        case 'K': copt.code_min_tokens = parse_uint("--code-min-tokens", optarg, 1, 1000000); break;
        case 'E': copt.exact_only = 1; break;
        case 'S': copt.min_similarity = parse_fraction("--min-similarity", optarg); break;
        case 'p': policy_file = optarg; break;
        case 'M': mpi = true; break;
        case 'X': scatter = true; break;
        case 'h': fputs(usage_text, stdout); return 0;
        default: bad_option(c, argv);
        }
    }
    if (!index_dir)
        die_usage("check: --index DIR is required");
    if (scatter && !mpi)
        die_usage("check: --scatter goes with --mpi");
    for (int i = optind; mpi && i <= argc; i++)
        if (i == argc ? optind == argc : strcmp(argv[i], "-") == 0)
            die_usage("check: --mpi checks files named on the command line, not standard input");
    if (mpi && cli_mpi_start(&rank, &size) != 0)
        return EXIT_USAGE;
    cli_mpi_comm(&comm, rank, size);
    cli_report *mine = NULL;
    size_t nmine = 0;

    recite_error err = {0};
    recite_index *idx = NULL, *bg = NULL;
    recite_checker *chk = NULL;
    recite_policy *policy = NULL;
    int status = EXIT_USAGE;
    size_t ninputs = optind < argc ? (size_t)(argc - optind) : 1;
    cli_input *inputs = calloc(ninputs, sizeof *inputs);
    if (!inputs) {
        fprintf(stderr, "recite: out of memory\n");
        return EXIT_USAGE;
    }
    /* The policy (loaded once, shared by every input), then every input: a bad one fails the
     * run before anything is printed. */
    if (policy_file &&
        recite_policy_load(&policy, policy_file, getenv("RECITE_SPDX_DIR"), &err) != RECITE_OK) {
        cli_fail(&err);
        goto setup_done;
    }
    for (size_t i = 0; i < ninputs; i++) {
        if (!cli_read_input(optind < argc ? argv[optind + (int)i] : "-", &inputs[i]))
            goto setup_done;
    }
    if (background_dir && recite_index_open(&bg, background_dir, &err) != RECITE_OK) {
        cli_fail(&err);
        goto setup_done;
    }
    copt.background = bg;
    size_t key_len = 0;
    char *key = key_file ? read_key(key_file, &key_len) : NULL;
    /* --mpi on a sharded index: each rank opens its shards and checks every input against them
     * with the others (the HTML report shows the works' text: the inputs are scattered then). */
    if (mpi && !scatter && !html_file)
        rc = cli_open_fanout(&idx, &fanout, index_dir, key, key_len, &comm, &err);
    else
        rc = key ? recite_index_open_keyed(&idx, index_dir, key, key_len, &err)
                 : recite_index_open(&idx, index_dir, &err);
    free(key);
    if (rc != RECITE_OK) {
        cli_fail(&err);
        goto setup_done;
    }
    /* The library ignores a key given to an ordinary index; a user who gives one has named the
     * wrong index (or the wrong file for another flag). */
    recite_index_stats istats;
    recite_index_get_stats(&istats, idx);
    if (key_file && !istats.text_free) {
        cli_error("--key: %s is not a text-free index; it takes no key", index_dir);
        goto setup_done;
    }
    if (recite_checker_create(&chk, idx, &copt, &err) != RECITE_OK) {
        cli_fail(&err);
        goto setup_done;
    }
    setup_ok = true;
setup_done:
    /* Under mpirun every rank goes on only if every rank is ready (none would wait). */
    if (mpi ? cli_mpi_agree(setup_ok ? 0 : EXIT_USAGE) != 0 : !setup_ok)
        goto done;
    if (fanout) {
        status = cli_check_fanout(inputs, ninputs, chk, idx, policy, json, &comm);
        goto done;
    }
    bool found = false;
    if (mpi && !(mine = calloc(ninputs / size + 1, sizeof *mine))) {
        fprintf(stderr, "recite: out of memory\n");
        goto done;
    }
    if (json && ninputs > 1 && !mpi)
        fputs("[", stdout);
    for (size_t i = 0; i < ninputs; i++) {
        const recite_result *res;
        char *report = NULL;
        if (mpi && i % size != rank)
            continue; /* another rank's input */
        if (mpi) {    /* the report, or the error, goes to rank 0 */
            int st = recite_check_text(&res, chk, inputs[i].data, inputs[i].len, &err);
            if (st == RECITE_OK)
                st = json ? recite_report_json(&report, idx, policy, inputs[i].name, inputs[i].data,
                                               inputs[i].len, res, &err)
                          : recite_report_text(&report, idx, policy, inputs[i].name, inputs[i].data,
                                               inputs[i].len, res, &err);
            if (st == RECITE_OK && html_file &&
                cli_write_html(html_file, i, ninputs, idx, policy, &copt, index_dir, &inputs[i],
                               res) != 0)
                st = rc_error_message(&err, RECITE_EIO, "cannot write the HTML report");
            if (st != RECITE_OK)
                report = strdup(err.message);
            mine[nmine++] = (cli_report){i,
                                         st != RECITE_OK ? EXIT_USAGE
                                         : res->nmatches ? EXIT_FOUND
                                                         : 0,
                                         report, report ? strlen(report) : 0};
            continue;
        }
        if (recite_check_text(&res, chk, inputs[i].data, inputs[i].len, &err) != RECITE_OK ||
            (json ? recite_report_json(&report, idx, policy, inputs[i].name, inputs[i].data,
                                       inputs[i].len, res, &err)
                  : recite_report_text(&report, idx, policy, inputs[i].name, inputs[i].data,
                                       inputs[i].len, res, &err)) != RECITE_OK) {
            fflush(stdout);
            cli_fail(&err);
            goto done;
        }
        if (html_file && cli_write_html(html_file, i, ninputs, idx, policy, &copt, index_dir,
                                        &inputs[i], res) != 0) {
            free(report);
            goto done;
        }
        found |= res->nmatches > 0;
        if (json)
            printf("%s%s", i ? "," : "", report);
        else
            fputs(report, stdout);
        free(report);
    }
    if (mpi) {
        status = cli_mpi_gather(mine, nmine, rank, size, ninputs, print_reports, &json);
        goto done;
    }
    if (json)
        fputs(ninputs > 1 ? "]\n" : "\n", stdout);
    if (fflush(stdout) != 0) {
        fprintf(stderr, "recite: cannot write the report: %s\n", strerror(errno));
        goto done;
    }
    status = found ? EXIT_FOUND : 0;
done:
    for (size_t i = 0; i < nmine; i++)
        free((char *)mine[i].text);
    free(mine);
    cli_mpi_end();
    for (size_t i = 0; i < ninputs; i++)
        free(inputs[i].data);
    free(inputs);
    recite_checker_free(chk);
    recite_index_close(idx);
    recite_index_close(bg);
    recite_policy_free(policy);
    return status;
}

/* ==== stats ==== */

static int cmd_stats(int argc, char **argv)
{
    static const struct option opts[] = {{"index", required_argument, 0, 'i'},
                                         {"json", no_argument, 0, 'J'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    const char *index_dir = NULL;
    bool json = false;
    int c;
    while ((c = getopt_long(argc, argv, ":i:h", opts, NULL)) != -1) {
        switch (c) {
        case 'i': index_dir = optarg; break;
        case 'J': json = true; break;
        case 'h': fputs(usage_text, stdout); return 0;
        default: bad_option(c, argv);
        }
    }
    if (!index_dir)
        die_usage("stats: --index DIR is required");
    if (optind < argc)
        die_usage("stats: unexpected argument '%s'", argv[optind]);
    recite_index *idx;
    recite_error err = {0};
    if (recite_index_open(&idx, index_dir, &err) != RECITE_OK)
        return cli_fail(&err);
    recite_index_stats s;
    recite_index_get_stats(&s, idx);
    if (json) {
        printf("{\"format_version\":%u,\"works\":%llu,\"clusters\":%llu,\"tokens\":%llu,"
               "\"text_bytes\":%llu,\"fingerprints\":%llu,\"kgram\":%u,\"window\":%u,"
               "\"min_tokens\":%u,\"code_fingerprints\":%llu,\"shape_fingerprints\":%llu,"
               "\"code_kgram\":%u,\"code_window\":%u,\"code_min_tokens\":%u,\"common_texts\":%u,"
               "\"created_unix\":%llu,\"text_blocks\":%llu,"
               "\"text_block_size\":%llu,\"text_free\":%s,\"shards\":%u,"
               "\"bytes\":{\"total\":%llu,\"postings\":%llu,"
               "\"text\":%llu,\"works\":%llu,\"checkpoints\":%llu}}\n",
               s.format_version, (unsigned long long)s.works, (unsigned long long)s.clusters,
               (unsigned long long)s.tokens, (unsigned long long)s.text_bytes,
               (unsigned long long)s.fingerprints, s.kgram, s.window, s.min_tokens,
               (unsigned long long)s.code_fingerprints, (unsigned long long)s.shape_fingerprints,
               s.code_kgram, s.code_window, s.code_min_tokens, s.common_texts,
               (unsigned long long)s.created_unix, (unsigned long long)s.text_blocks,
               (unsigned long long)s.text_block_size, s.text_free ? "true" : "false", s.shards,
               (unsigned long long)s.bytes_total, (unsigned long long)s.bytes_postings,
               (unsigned long long)s.bytes_text, (unsigned long long)s.bytes_works,
               (unsigned long long)s.bytes_checkpoints);
    } else {
        double tb = s.text_bytes ? (double)s.text_bytes : 1.0;
        printf("index          %s (format %u)\n", index_dir, s.format_version);
        printf("works          %llu in %llu clusters of identical text\n",
               (unsigned long long)s.works, (unsigned long long)s.clusters);
        if (s.shards)
            printf("shards         %u (%s/shard-NNNN), one index of the library\n", s.shards,
                   index_dir);
        printf("text           %.1f MB, %llu tokens\n", (double)s.text_bytes / 1e6,
               (unsigned long long)s.tokens);
        printf("fingerprints   %llu (k-gram %u, window %u: spans of %u+ tokens guaranteed)\n",
               (unsigned long long)s.fingerprints, s.kgram, s.window, s.min_tokens);
        if (s.code_fingerprints)
            printf("code           %llu lexeme + %llu shape fingerprints (k-gram %u, window %u: "
                   "spans of %u+ lexemes guaranteed)\n",
                   (unsigned long long)s.code_fingerprints,
                   (unsigned long long)s.shape_fingerprints, s.code_kgram, s.code_window,
                   s.code_min_tokens);
        printf("common         passages in %u or more distinct texts are common language\n",
               s.common_texts);
        printf("on disk        %.1f MB total (%.2fx the text)\n", (double)s.bytes_total / 1e6,
               (double)s.bytes_total / tb);
        printf("  postings     %.1f MB\n", (double)s.bytes_postings / 1e6);
        printf("  %s %.1f MB in %llu blocks of %llu KiB\n",
               s.text_free ? "tokens      " : "text        ", (double)s.bytes_text / 1e6,
               (unsigned long long)s.text_blocks, (unsigned long long)s.text_block_size / 1024);
        if (s.text_free)
            printf("text-free      no text stored: keyed token hashes and offsets (checking "
                   "needs the key)\n");
        printf("  works        %.1f MB\n", (double)s.bytes_works / 1e6);
        printf("  checkpoints  %.1f MB\n", (double)s.bytes_checkpoints / 1e6);
    }
    recite_index_close(idx);
    return cli_finish_output(); /* stats that could not be written are an error, as elsewhere */
}

int main(int argc, char **argv)
{
    signal(SIGPIPE, SIG_IGN);
    if (argc < 2)
        die_usage("no command: index, check, stats, verify, license, catalog, compact or serve");
    const char *cmd = argv[1];
    if (strcmp(cmd, "--version") == 0 || strcmp(cmd, "-V") == 0) {
        printf("recite %s\n", recite_version());
        return 0;
    }
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
        fputs(usage_text, stdout);
        return 0;
    }
    opterr = 0;
    optind = 1;
    if (strcmp(cmd, "index") == 0)
        return cmd_index(argc - 1, argv + 1);
    if (strcmp(cmd, "check") == 0)
        return cmd_check(argc - 1, argv + 1);
    if (strcmp(cmd, "stats") == 0)
        return cmd_stats(argc - 1, argv + 1);
    if (strcmp(cmd, "verify") == 0)
        return cli_verify(argc - 1, argv + 1);
    if (strcmp(cmd, "license") == 0)
        return cli_license(argc - 1, argv + 1);
    if (strcmp(cmd, "catalog") == 0)
        return cli_catalog(argc - 1, argv + 1);
    if (strcmp(cmd, "compact") == 0)
        return cmd_compact(argc - 1, argv + 1);
    if (strcmp(cmd, "serve") == 0)
        return serve_main(argc - 1, argv + 1);
    die_usage("unknown command '%s'", cmd);
    return EXIT_USAGE;
}

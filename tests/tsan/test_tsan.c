/*
 * test_tsan.c — concurrency of a loaded index, built and run under ThreadSanitizer by
 * `make test-tsan` (issue 9): the library's promise that one recite_index serves any number of
 * threads, each with its own checkers, without locks.
 *   1. N threads x M checkers on one shared index, batch and streaming, give exactly the
 *      single-threaded results (the JSON reports are compared);
 *   2. while they run, the index directory is rebuilt over (recite_index_build publishes
 *      atomically): the checkers on the old index keep working and keep giving the old results,
 *      and a new recite_index_open sees the new index;
 *   3. on a library over 1 MB (its text blocks compressed with a dictionary), the first reads
 *      of stored text are N threads' at once: the dictionary's tables, made on first use, are
 *      made once for all of them, and every thread finds the copy.
 * The index is built from texts Debian ships; TSan reports make the run fail (halt_on_error).
 */
#include "recite.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define NTHREADS 4
#define NCHECKERS 3
#define NQUERIES 6

#define CHECK(cond, ...)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: %s: ", __FILE__, __LINE__, #cond);                             \
            fprintf(stderr, __VA_ARGS__);                                                          \
            fputc('\n', stderr);                                                                   \
            exit(1);                                                                               \
        }                                                                                          \
    } while (0)

static char *queries[NQUERIES];
static size_t query_lens[NQUERIES];
static char *expected[NQUERIES]; /* single-threaded JSON reports */
static recite_index *idx;
static atomic_int stop, rounds_done;

static char *slurp(const char *path, size_t from, size_t max, size_t *len)
{
    FILE *f = fopen(path, "rb");
    CHECK(f, "cannot read %s", path);
    char *buf = malloc(max + 1);
    CHECK(buf, "oom");
    fseek(f, (long)from, SEEK_SET);
    size_t n = fread(buf, 1, max, f);
    fclose(f);
    buf[n] = 0;
    *len = n;
    return buf;
}

static void put(const char *path, const char *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    CHECK(f && fwrite(data, 1, len, f) == len && fclose(f) == 0, "cannot write %s", path);
}

static void build(const char *dir, const char *lib)
{
    recite_build_options opt = RECITE_BUILD_OPTIONS_INIT;
    opt.mode = RECITE_MODE_AUTO;
    opt.jobs = 2;
    opt.created_unix = 1700000000;
    recite_error err = {0};
    const char *paths[] = {lib};
    CHECK(recite_index_build(NULL, dir, paths, 1, &opt, &err) == RECITE_OK, "%s", err.message);
}

static char *report(recite_checker *c, int q, bool stream)
{
    const recite_result *res;
    recite_error err = {0};
    if (!stream) {
        CHECK(recite_check_text(&res, c, queries[q], query_lens[q], &err) == RECITE_OK, "%s",
              err.message);
    } else {
        for (size_t o = 0; o < query_lens[q]; o += 37) {
            size_t n = query_lens[q] - o < 37 ? query_lens[q] - o : 37;
            CHECK(recite_checker_feed(c, queries[q] + o, n, &err) == RECITE_OK, "%s", err.message);
        }
        CHECK(recite_checker_finish(&res, c, &err) == RECITE_OK, "%s", err.message);
    }
    char *json;
    CHECK(recite_report_json(&json, idx, NULL, "q", queries[q], query_lens[q], res, &err) ==
              RECITE_OK,
          "%s", err.message);
    return json;
}

static void *worker(void *arg)
{
    long id = (long)arg;
    recite_checker *c[NCHECKERS];
    recite_error err = {0};
    for (int k = 0; k < NCHECKERS; k++)
        CHECK(recite_checker_create(&c[k], idx, NULL, &err) == RECITE_OK, "%s", err.message);
    for (int round = 0; !atomic_load(&stop) || round < 2; round++) {
        for (int q = 0; q < NQUERIES; q++) {
            int k = (int)((id + q + round) % NCHECKERS);
            char *json = report(c[k], q, (q + round + id) % 2 == 1);
            CHECK(strcmp(json, expected[q]) == 0,
                  "thread %ld, checker %d, query %d, round %d: the report differs from the "
                  "single-threaded one:\n%.600s\nexpected:\n%.600s",
                  id, k, q, round, json, expected[q]);
            free(json);
        }
        atomic_fetch_add(&rounds_done, 1);
    }
    for (int k = 0; k < NCHECKERS; k++)
        recite_checker_free(c[k]);
    return NULL;
}

/* Part 3: threads that are the first to read stored text of an index with a dictionary. */
typedef struct first_reader {
    const recite_index *ix;
    const char *text;
    size_t len;
    pthread_barrier_t *bar;
    size_t matches;
} first_reader;

static void *first_read(void *arg)
{
    first_reader *fr = arg;
    recite_checker *c;
    recite_error err = {0};
    const recite_result *res;
    CHECK(recite_checker_create(&c, fr->ix, NULL, &err) == RECITE_OK, "%s", err.message);
    pthread_barrier_wait(fr->bar);
    CHECK(recite_check_text(&res, c, fr->text, fr->len, &err) == RECITE_OK, "%s", err.message);
    fr->matches = res->nmatches;
    recite_checker_free(c);
    return NULL;
}

static void dictionary_first_use(const char *dir, char *const *texts)
{
    char lib[96], ix[96], p[160];
    snprintf(lib, sizeof lib, "%s/biglib", dir);
    snprintf(ix, sizeof ix, "%s/bigidx", dir);
    CHECK(mkdir(lib, 0755) == 0, "mkdir");
    size_t total = 0;
    for (int i = 0; total < (3u << 19); i++) { /* 1.5 MB: numbered copies of the six texts */
        char *s = NULL;
        int n = asprintf(&s, "Copy %d of the collection.\n%s", i, texts[i % 6]);
        CHECK(n > 0, "oom");
        snprintf(p, sizeof p, "%s/%03d.txt", lib, i);
        put(p, s, (size_t)n);
        total += (size_t)n;
        free(s);
    }
    build(ix, lib);
    recite_index *big;
    recite_error err = {0};
    CHECK(recite_index_open(&big, ix, &err) == RECITE_OK, "%s", err.message);
    char *quote = NULL;
    CHECK(asprintf(&quote, "As the license says: %.1200s", texts[0] + 4000) > 0, "oom");
    pthread_barrier_t bar;
    pthread_barrier_init(&bar, NULL, NTHREADS);
    first_reader fr[NTHREADS];
    pthread_t th[NTHREADS];
    for (int t = 0; t < NTHREADS; t++) {
        fr[t] = (first_reader){big, quote, strlen(quote), &bar, 0};
        CHECK(pthread_create(&th[t], NULL, first_read, &fr[t]) == 0, "pthread_create");
    }
    for (int t = 0; t < NTHREADS; t++) {
        pthread_join(th[t], NULL);
        CHECK(fr[t].matches > 0 && fr[t].matches == fr[0].matches,
              "thread %d: %zu matches, thread 0: %zu", t, fr[t].matches, fr[0].matches);
    }
    pthread_barrier_destroy(&bar);
    free(quote);
    recite_index_close(big);
    printf("tsan: %d threads read stored text first on a %zu-byte library with a dictionary: "
           "%zu matches each\n",
           NTHREADS, total, fr[0].matches);
}

int main(void)
{
    char dir[] = "/tmp/recite-tsan.XXXXXX";
    CHECK(mkdtemp(dir), "mkdtemp");
    char lib[64], ix[64], extra[128];
    snprintf(lib, sizeof lib, "%s/lib", dir);
    snprintf(ix, sizeof ix, "%s/idx", dir);
    CHECK(mkdir(lib, 0755) == 0, "mkdir");
    static const char *const files[] = {"/usr/share/common-licenses/GPL-3",
                                        "/usr/share/common-licenses/Apache-2.0",
                                        "/usr/share/common-licenses/BSD",
                                        "/usr/share/common-licenses/MPL-2.0",
                                        "/usr/include/stdio.h",
                                        "/usr/include/string.h"};
    char *texts[6];
    size_t lens[6];
    for (int i = 0; i < 6; i++) {
        texts[i] = slurp(files[i], 0, 1 << 20, &lens[i]);
        char p[400];
        snprintf(p, sizeof p, "%s/%d-%s", lib, i, strrchr(files[i], '/') + 1);
        put(p, texts[i], lens[i]);
    }
    build(ix, lib);

    /* Queries: excerpts of prose and code, a normalized one, two works at once, none. */
    for (int q = 0; q < NQUERIES; q++) {
        char *s = NULL;
        switch (q) {
        case 0: CHECK(asprintf(&s, "Quote: %.900s", texts[0] + 2000) > 0, "oom"); break;
        case 1:
            CHECK(asprintf(&s, "%.700s and %.500s", texts[1] + 800, texts[3] + 3000) > 0, "oom");
            break;
        case 2: CHECK(asprintf(&s, "```c\n%.1500s\n```", texts[4] + 1000) > 0, "oom"); break;
        case 3: CHECK(asprintf(&s, "%s", texts[2]) > 0, "oom"); break;
        case 4:
            CHECK(asprintf(&s, "%.800s", texts[0] + 9000) > 0, "oom");
            for (char *p = s; *p; p++)
                *p = *p == '\n' ? ' ' : (char)(*p >= 'a' && *p <= 'z' ? *p - 32 : *p);
            break;
        default:
            CHECK(asprintf(&s, "Nothing of the library is quoted in this text at all.") > 0, "oom");
        }
        queries[q] = s;
        query_lens[q] = strlen(s);
    }

    recite_error err = {0};
    CHECK(recite_index_open(&idx, ix, &err) == RECITE_OK, "%s", err.message);
    uint32_t old_works = recite_index_work_count(idx);
    recite_checker *c;
    CHECK(recite_checker_create(&c, idx, NULL, &err) == RECITE_OK, "%s", err.message);
    int with_matches = 0;
    for (int q = 0; q < NQUERIES; q++) {
        expected[q] = report(c, q, false);
        with_matches += strstr(expected[q], "\"matches\":[]") == NULL;
    }
    recite_checker_free(c);
    CHECK(with_matches >= NQUERIES - 1, "only %d queries match the library", with_matches);

    pthread_t th[NTHREADS];
    for (long t = 0; t < NTHREADS; t++)
        CHECK(pthread_create(&th[t], NULL, worker, (void *)t) == 0, "pthread_create");

    /* While they run: a rebuild with one more work replaces the index directory. */
    while (atomic_load(&rounds_done) < NTHREADS)
        usleep(1000);
    snprintf(extra, sizeof extra, "%s/9-GPL-2", lib);
    size_t n;
    char *gpl2 = slurp("/usr/share/common-licenses/GPL-2", 0, 1 << 20, &n);
    put(extra, gpl2, n);
    free(gpl2);
    build(ix, lib);
    recite_index *fresh;
    CHECK(recite_index_open(&fresh, ix, &err) == RECITE_OK, "%s", err.message);
    CHECK(recite_index_work_count(fresh) == old_works + 1,
          "a new open sees %u works, the rebuilt index has %u", recite_index_work_count(fresh),
          old_works + 1);
    CHECK(recite_index_work_count(idx) == old_works, "the old index changed under its readers");
    int before = atomic_load(&rounds_done);
    while (atomic_load(&rounds_done) < before + NTHREADS)
        usleep(1000); /* every thread checks again on the old index after the publish */
    atomic_store(&stop, 1);
    for (int t = 0; t < NTHREADS; t++)
        pthread_join(th[t], NULL);
    recite_index_close(fresh);
    printf("tsan: %d threads x %d checkers, %d rounds of %d checks on one index, results equal "
           "to a single thread's; rebuilt under them (%u -> %u works), old index unchanged\n",
           NTHREADS, NCHECKERS, atomic_load(&rounds_done), NQUERIES, old_works, old_works + 1);

    recite_index_close(idx);
    dictionary_first_use(dir, texts);
    for (int q = 0; q < NQUERIES; q++) {
        free(queries[q]);
        free(expected[q]);
    }
    for (int i = 0; i < 6; i++)
        free(texts[i]);
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : 1;
}

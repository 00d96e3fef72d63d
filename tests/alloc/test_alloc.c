/*
 * test_alloc.c — allocation-failure test in the style of SQLite's: each operation of the public
 * API (alloc_ops.c) runs with its n-th allocation failing, for n = 1, 2, ... until it runs with
 * no failure injected; once failing that allocation only (transient) and once failing every
 * allocation from it on (persistent). Every run must return RECITE_OK or RECITE_ENOMEM with a
 * one-line message, leak nothing, leave nothing partial on disk, and when it succeeds give
 * exactly what the operation gives without failures. The hook is alloc_hook.c.
 *
 *   test_alloc [OP...]            the operations named (all by default)
 *   ALLOC_N=N test_alloc OP       one run of OP with allocation N failing (ALLOC_PERSISTENT=1,
 *                                 ALLOC_OTHERS=1 for the other mode or class), to reproduce one
 */
#include "test_alloc.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#if defined(__SANITIZE_ADDRESS__)
#define HAVE_LSAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define HAVE_LSAN 1
#endif
#endif
#ifdef HAVE_LSAN
#include <sanitizer/lsan_interface.h>
#endif

fixture fx;

#ifdef HAVE_LSAN
/* A smaller quarantine than ASan's 256 MiB: LeakSanitizer walks every block in it at each check,
 * and a run frees far less than this. */
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
    return "quarantine_size_mb=32";
}
#endif

/* ==== where we are, and failing ==== */

static const char *cur_op = "setup";
static int cur_cls = -1, cur_persistent;
static long cur_n;

void ta_where(char *buf, size_t cap)
{
    if (cur_cls < 0)
        snprintf(buf, cap, "%s", cur_op);
    else
        snprintf(buf, cap, "%s: allocation %ld of the %s failing%s", cur_op, cur_n,
                 cur_cls == AH_CALLER ? "caller" : "workers",
                 cur_persistent ? ", and every one after it" : "");
}

void ta_fail(const char *file, int line, const char *fmt, ...)
{
    ah_disarm();
    char where[256];
    ta_where(where, sizeof where);
    fprintf(stderr, "%s:%d: %s: ", file, line, where);
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\n(reproduce: ALLOC_N=%ld%s%s test_alloc %s; fixture kept in %s)\n", cur_n,
            cur_persistent ? " ALLOC_PERSISTENT=1" : "",
            cur_cls == AH_OTHERS ? " ALLOC_OTHERS=1" : "", cur_op, fx.root ? fx.root : "?");
    exit(1);
}

/* ==== files ==== */

char *ta_join(const char *a, const char *b)
{
    char *p;
    TA_CHECK(asprintf(&p, "%s/%s", a, b) >= 0, "out of memory");
    return p;
}

char *ta_read(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 1 << 16, n = 0, got;
    char *buf = malloc(cap + 1);
    TA_CHECK(buf, "out of memory");
    while ((got = fread(buf + n, 1, cap - n, f)) > 0) {
        n += got;
        if (n == cap) {
            buf = realloc(buf, (cap *= 2) + 1);
            TA_CHECK(buf, "out of memory");
        }
    }
    fclose(f);
    buf[n] = 0;
    if (len)
        *len = n;
    return buf;
}

void ta_write(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    TA_CHECK(f, "%s: cannot create: %s", path, strerror(errno));
    TA_CHECK(fwrite(data, 1, len, f) == len && fclose(f) == 0, "%s: write failed", path);
}

void ta_copy(const char *from, const char *to)
{
    size_t n;
    char *data = ta_read(from, &n);
    TA_CHECK(data, "%s: cannot read", from);
    ta_write(to, data, n);
    free(data);
}

void ta_rm_rf(const char *path)
{
    struct stat st;
    if (lstat(path, &st) != 0)
        return;
    if (S_ISDIR(st.st_mode)) {
        DIR *d = opendir(path);
        struct dirent *e;
        while (d && (e = readdir(d)) != NULL) {
            if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
                continue;
            char *child = ta_join(path, e->d_name);
            ta_rm_rf(child);
            free(child);
        }
        if (d)
            closedir(d);
        rmdir(path);
    } else {
        unlink(path);
    }
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The entries of dir (without . and ..), sorted; *n of them. */
static char **names_of(const char *dir, size_t *n)
{
    *n = 0;
    DIR *d = opendir(dir);
    if (!d)
        return NULL;
    char **v = NULL;
    size_t cap = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        if (*n == cap) {
            v = realloc(v, (cap = cap ? 2 * cap : 16) * sizeof *v);
            TA_CHECK(v, "out of memory");
        }
        v[(*n)++] = strdup(e->d_name);
    }
    closedir(d);
    if (*n > 1)
        qsort(v, *n, sizeof *v, cmp_str);
    return v;
}

static void names_free(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

char *ta_list_dir(const char *dir)
{
    size_t n, len = 0;
    char **v = names_of(dir, &n);
    for (size_t i = 0; i < n; i++)
        len += strlen(v[i]) + 1;
    char *s = calloc(1, len + 1);
    TA_CHECK(s, "out of memory");
    for (size_t i = 0; i < n; i++) {
        strcat(s, v[i]);
        strcat(s, "\n");
    }
    names_free(v, n);
    return s;
}

void ta_copy_dir(const char *from, const char *to)
{
    TA_CHECK(mkdir(to, 0755) == 0, "%s: mkdir: %s", to, strerror(errno));
    size_t n;
    char **v = names_of(from, &n);
    for (size_t i = 0; i < n; i++) {
        char *a = ta_join(from, v[i]), *b = ta_join(to, v[i]);
        struct stat st;
        TA_CHECK(lstat(a, &st) == 0, "%s: stat", a);
        if (S_ISDIR(st.st_mode))
            ta_copy_dir(a, b);
        else
            ta_copy(a, b);
        free(a);
        free(b);
    }
    names_free(v, n);
}

bool ta_same_tree(const char *a, const char *b, char *why, size_t cap)
{
    struct stat sa, sb;
    if (lstat(a, &sa) != 0 || lstat(b, &sb) != 0) {
        snprintf(why, cap, "%s or %s is missing", a, b);
        return false;
    }
    if (S_ISDIR(sa.st_mode) != S_ISDIR(sb.st_mode)) {
        snprintf(why, cap, "%s and %s: a directory and a file", a, b);
        return false;
    }
    if (!S_ISDIR(sa.st_mode)) {
        size_t na, nb;
        char *da = ta_read(a, &na), *db = ta_read(b, &nb);
        bool same = da && db && na == nb && memcmp(da, db, na) == 0;
        if (!same)
            snprintf(why, cap, "%s differs from %s (%zu and %zu bytes)", a, b, na, nb);
        free(da);
        free(db);
        return same;
    }
    size_t na, nb;
    char **va = names_of(a, &na), **vb = names_of(b, &nb);
    bool same = na == nb;
    for (size_t i = 0; same && i < na; i++)
        same = strcmp(va[i], vb[i]) == 0;
    if (!same) {
        char *la = ta_list_dir(a), *lb = ta_list_dir(b);
        snprintf(why, cap, "%s holds [%s], %s holds [%s]", a, la, b, lb);
        for (char *p = why; *p; p++)
            if (*p == '\n')
                *p = ' ';
        free(la);
        free(lb);
    }
    for (size_t i = 0; same && i < na; i++) {
        char *pa = ta_join(a, va[i]), *pb = ta_join(b, vb[i]);
        same = ta_same_tree(pa, pb, why, cap);
        free(pa);
        free(pb);
    }
    names_free(va, na);
    names_free(vb, nb);
    return same;
}

/* ==== one run ==== */

/* Blocks allocated while armed and not freed (the hook tracks the blocks of the C library's
 * allocators, jansson's and SQLite's): after every run. */
static void leak_check(void)
{
    if (ah_live() > 0) {
        long seq;
        int cls;
        const char *fn;
        ah_live_first(&seq, &cls, &fn);
        size_t n = ah_live();
        ah_live_clear();
        TA_CHECK(false, "%zu blocks leaked, the first by %s, allocation %ld of the %s", n, fn, seq,
                 cls == AH_CALLER ? "caller" : "workers");
    }
}

/* Unreachable memory of any origin (zstd's contexts, FILE and DIR handles): LeakSanitizer, in
 * sanitizer builds. It costs 15 ms, so it runs every LSAN_EVERY runs and at the end of each
 * series (its report gives the allocation's stack; `since` names the first run it covers). */
#define LSAN_EVERY 16

static void lsan_check(long since)
{
#ifdef HAVE_LSAN
    if (!getenv("ALLOC_NO_LSAN"))
        TA_CHECK(__lsan_do_recoverable_leak_check() == 0,
                 "LeakSanitizer found leaks (above) in a run from n = %ld on", since);
#else
    (void)since;
#endif
}

/* Runs op once with allocation n of class cls failing (n = 0: none); returns how many
 * allocations were failed. */
static long run_once(const op *o, long n, ah_class cls, bool persistent, int *rc_out)
{
    cur_n = n;
    cur_cls = cls;
    cur_persistent = persistent;
    if (o->setup)
        o->setup();
    if (getenv("ALLOC_VERBOSE")) {
        char where[256];
        ta_where(where, sizeof where);
        fprintf(stderr, "%s\n", where);
    }
    recite_error err;
    memset(&err, 0, sizeof err);
    err.code = 12345;
    ah_arm(n, cls, persistent);
    int rc = o->run(&err);
    ah_disarm();
    long injected = ah_injected();
    if (injected == 0)
        TA_CHECK(rc == RECITE_OK, "failed with no allocation failing: %d %s", rc, err.message);
    TA_CHECK(rc == RECITE_OK || rc == RECITE_ENOMEM, "status %d (%s), not RECITE_ENOMEM: %s", rc,
             recite_strerror(rc), err.message);
    if (rc != RECITE_OK) {
        size_t len = strnlen(err.message, sizeof err.message);
        TA_CHECK(err.code == rc, "err.code %d, returned %d", err.code, rc);
        TA_CHECK(len > 0 && len < sizeof err.message, "empty or unterminated message");
        TA_CHECK(!strchr(err.message, '\n') && !strchr(err.message, '\r'),
                 "message of several lines: %s", err.message);
    }
    leak_check();
    if (o->after)
        o->after(rc);
    *rc_out = rc;
    return injected;
}

/* Every allocation point up to ALLOC_FULL (default 200) is failed, and the last ALLOC_FULL / 2
 * (where operations commit, publish and clean up); between, n advances by a stride that grows
 * with n (n / ALLOC_FULL + 1), the persistent series shifted by half a stride from the
 * transient one so that the two fail different points. ALLOC_FULL=0: every point. */
static long full_points(void)
{
    const char *e = getenv("ALLOC_FULL");
    long full = e ? atol(e) : 200;
    return full > 0 ? full : LONG_MAX / 4;
}

/* The n after n: the next point, or one a stride further in the middle of a long series. */
#define RC_MAX_L(a, b) ((a) > (b) ? (a) : (b))

static long next_point(long n, long total, bool *shifted)
{
    long full = full_points(), tail_from = total - full / 2;
    if (n < full || n >= tail_from)
        return n + 1;
    long stride = n / full + 1, next = n + stride;
    if (!*shifted) {
        next += stride / 2;
        *shifted = true;
    }
    return next > tail_from ? RC_MAX_L(n + 1, tail_from) : next;
}

static double seconds_of(clockid_t clock)
{
    struct timespec t;
    clock_gettime(clock, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static void run_op(const op *o)
{
    cur_op = o->name;
    cur_cls = -1;
    double t0 = seconds_of(CLOCK_MONOTONIC), c0 = seconds_of(CLOCK_PROCESS_CPUTIME_ID);
    if (o->baseline)
        o->baseline();
    printf("%-14s", o->name);
    fflush(stdout);
    long total_runs = 0, enomem = 0;
    for (int cls = AH_CALLER; cls <= (o->threads ? AH_OTHERS : AH_CALLER); cls++) {
        /* A run without failures counts the points. */
        int rc;
        run_once(o, 0, (ah_class)cls, false, &rc);
        long points = ah_count((ah_class)cls), runs[2] = {0, 0};
        total_runs++;
        for (int persistent = 0; persistent <= 1; persistent++) {
            long checked = 1;
            bool shifted = !persistent;
            for (long n = 1;; n = next_point(n, points, &shifted)) {
                long injected = run_once(o, n, (ah_class)cls, persistent, &rc);
                total_runs++;
                enomem += rc == RECITE_ENOMEM;
                if (injected == 0)
                    break;
                runs[persistent]++;
                if (total_runs % LSAN_EVERY == 0) {
                    lsan_check(checked);
                    checked = n + 1;
                }
            }
            lsan_check(checked);
        }
        printf("  %s %5ld points", cls == AH_CALLER ? "caller" : "workers", points);
        if (runs[0] < points || runs[1] < points)
            printf(" (%ld + %ld failed)", runs[0], runs[1]);
        fflush(stdout);
    }
    printf("  %5ld runs %5ld ENOMEM  %5.1f s (%.1f s CPU)\n", total_runs, enomem,
           seconds_of(CLOCK_MONOTONIC) - t0, seconds_of(CLOCK_PROCESS_CPUTIME_ID) - c0);
}

/* ==== main ==== */

int main(int argc, char **argv)
{
    ah_init();
    ta_fixture_make();
    const char *one = getenv("ALLOC_N");
    int done = 0;
    for (size_t i = 0; i < alloc_nops; i++) {
        const op *o = &alloc_ops[i];
        bool wanted = argc < 2;
        for (int a = 1; a < argc; a++)
            wanted = wanted || strcmp(argv[a], o->name) == 0;
        if (!wanted)
            continue;
        done++;
        if (one) {
            cur_op = o->name;
            if (o->baseline)
                o->baseline();
            int rc;
            long injected = run_once(o, atol(one), getenv("ALLOC_OTHERS") ? AH_OTHERS : AH_CALLER,
                                     getenv("ALLOC_PERSISTENT") != NULL, &rc);
            lsan_check(atol(one));
            printf("%s: status %d, %ld allocations failed\n", o->name, rc, injected);
        } else {
            run_op(o);
        }
    }
    cur_cls = -1;
    cur_op = "arguments";
    TA_CHECK(done > 0, "no operation of that name");
    ta_fixture_free();
    return 0;
}

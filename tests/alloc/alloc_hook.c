/*
 * alloc_hook.c — the allocation hook of test_alloc.c. The test links librecite.a with
 * -Wl,--wrap=F for every F below, so that the library's own calls of F come here (calls made
 * inside shared libraries do not: --wrap rewrites only references from the objects linked);
 * jansson's and SQLite's allocators are pointed here by their own configuration calls. Each
 * counted call may be failed as the real one fails when memory runs out: NULL (or -1, or
 * MAP_FAILED) with errno = ENOMEM.
 */
#include "alloc_hook.h"

#include <errno.h>
#include <jansson.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/types.h>
#include <dirent.h>
#include <xxhash.h>
#include <zstd.h>

#if defined(__SANITIZE_ADDRESS__)
#define HAVE_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define HAVE_ASAN 1
#endif
#endif
#ifdef HAVE_ASAN
#include <sanitizer/common_interface_defs.h>
#endif

/* ==== state (of the test binary only) ==== */

static atomic_int armed;
static pthread_t caller;
static atomic_long counts[2];
static atomic_long injected;
static long fail_at;
static ah_class fail_class;
static bool fail_persistent;
static bool trace;

void *__real_mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off);

/* Whether the call being made must fail (and counts it when armed). */
static bool should_fail(int *cls_out)
{
    *cls_out = -1;
    if (!atomic_load(&armed))
        return false;
    int cls = pthread_equal(pthread_self(), caller) ? AH_CALLER : AH_OTHERS;
    long k = atomic_fetch_add(&counts[cls], 1) + 1;
    *cls_out = cls;
    if (fail_at <= 0 || cls != (int)fail_class)
        return false;
    if (k == fail_at || (fail_persistent && k > fail_at)) {
        /* ALLOC_TRACE=1: where the first failure is (sanitizer builds). */
        if (atomic_fetch_add(&injected, 1) == 0 && trace) {
#ifdef HAVE_ASAN
            __sanitizer_print_stack_trace();
#endif
        }
        return true;
    }
    return false;
}

/* ==== blocks allocated while armed (open addressing, backward-shift deletion) ==== */

#define LIVE_BITS 18
#define LIVE_CAP ((size_t)1 << LIVE_BITS)

typedef struct live_block {
    void *p;
    long seq;
    int cls;
    const char *fn;
} live_block;

/* Mapped, not a global: LeakSanitizer does not take it for references to the blocks (so it
 * finds their leaks too), nor spend its time scanning it. */
static live_block *live;
static size_t nlive;
static atomic_int nlive_any; /* nlive > 0, read without the lock */
static pthread_mutex_t live_mu = PTHREAD_MUTEX_INITIALIZER;

static size_t slot_of(const void *p)
{
    return (size_t)(((uintptr_t)p >> 4) * 0x9E3779B97F4A7C15ULL >> (64 - LIVE_BITS));
}

static void track(void *p, int cls, const char *fn)
{
    if (!p || cls < 0)
        return;
    long seq = atomic_load(&counts[cls]);
    pthread_mutex_lock(&live_mu);
    if (!live) {
        void *m = __real_mmap(NULL, LIVE_CAP * sizeof *live, PROT_READ | PROT_WRITE,
                              MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (m == MAP_FAILED) {
            fprintf(stderr, "alloc_hook: cannot map the table of blocks\n");
            abort();
        }
        live = m;
    }
    if (nlive + 1 >= LIVE_CAP / 2) {
        fprintf(stderr, "alloc_hook: more than %zu live blocks\n", LIVE_CAP / 2);
        abort();
    }
    size_t i = slot_of(p);
    while (live[i].p)
        i = (i + 1) & (LIVE_CAP - 1);
    live[i] = (live_block){p, seq, cls, fn};
    nlive++;
    atomic_store(&nlive_any, 1);
    pthread_mutex_unlock(&live_mu);
}

static void untrack(const void *p)
{
    if (!p || !atomic_load(&nlive_any))
        return;
    pthread_mutex_lock(&live_mu);
    if (nlive == 0 || !live) {
        pthread_mutex_unlock(&live_mu);
        return;
    }
    size_t i = slot_of(p);
    while (live[i].p && live[i].p != p)
        i = (i + 1) & (LIVE_CAP - 1);
    if (live[i].p) {
        /* Backward shift: move later entries of the run into the hole when their home allows. */
        size_t hole = i, j = i;
        for (;;) {
            j = (j + 1) & (LIVE_CAP - 1);
            if (!live[j].p)
                break;
            size_t home = slot_of(live[j].p);
            if (((j - home) & (LIVE_CAP - 1)) >= ((j - hole) & (LIVE_CAP - 1))) {
                live[hole] = live[j];
                hole = j;
            }
        }
        live[hole] = (live_block){0};
        nlive--;
        atomic_store(&nlive_any, nlive > 0);
    }
    pthread_mutex_unlock(&live_mu);
}

/* ==== large blocks ====
 * A build's sorter asks for two blocks of a quarter of its memory budget (256 MiB by default,
 * and the license index is built with the default). Under ASan, freeing such a block costs
 * 30 ms (its shadow is mapped afresh), which would be most of the test's time: blocks of 64 MiB
 * and more come from a few maps kept for the next build instead. */

#define BIG_BLOCK ((size_t)64 << 20)
#define RC_BIG_MAPS 8

static struct big_map {
    void *p;
    size_t len;
    bool used;
} bigs[RC_BIG_MAPS];
static pthread_mutex_t big_mu = PTHREAD_MUTEX_INITIALIZER;
static atomic_int nbigs; /* maps made (they are kept) */

static void *big_alloc(size_t n)
{
    void *p = NULL;
    pthread_mutex_lock(&big_mu);
    for (size_t i = 0; i < RC_BIG_MAPS && !p; i++)
        if (bigs[i].p && !bigs[i].used && bigs[i].len >= n) {
            bigs[i].used = true;
            p = bigs[i].p;
        }
    for (size_t i = 0; i < RC_BIG_MAPS && !p; i++)
        if (!bigs[i].p) {
            void *m =
                __real_mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
            if (m != MAP_FAILED) {
                bigs[i] = (struct big_map){m, n, true};
                atomic_fetch_add(&nbigs, 1);
            }
            p = m != MAP_FAILED ? m : NULL;
            break;
        }
    pthread_mutex_unlock(&big_mu);
    return p;
}

/* Whether p is a large block (then it is given back). */
static bool big_free(const void *p)
{
    if (!atomic_load(&nbigs))
        return false;
    bool found = false;
    pthread_mutex_lock(&big_mu);
    for (size_t i = 0; i < RC_BIG_MAPS && !found; i++)
        if (p && bigs[i].p == p) {
            bigs[i].used = false;
            found = true;
        }
    pthread_mutex_unlock(&big_mu);
    return found;
}

static size_t big_len(const void *p)
{
    if (!atomic_load(&nbigs))
        return 0;
    size_t len = 0;
    pthread_mutex_lock(&big_mu);
    for (size_t i = 0; i < RC_BIG_MAPS; i++)
        if (p && bigs[i].p == p)
            len = bigs[i].len;
    pthread_mutex_unlock(&big_mu);
    return len;
}

/* ==== control ==== */

void ah_arm(long n, ah_class cls, bool persistent)
{
    atomic_store(&counts[0], 0);
    atomic_store(&counts[1], 0);
    atomic_store(&injected, 0);
    fail_at = n;
    fail_class = cls;
    fail_persistent = persistent;
    caller = pthread_self();
    atomic_store(&armed, 1);
}

void ah_disarm(void)
{
    atomic_store(&armed, 0);
}

long ah_count(ah_class cls)
{
    return atomic_load(&counts[cls]);
}

long ah_injected(void)
{
    return atomic_load(&injected);
}

size_t ah_live(void)
{
    pthread_mutex_lock(&live_mu);
    size_t n = nlive;
    pthread_mutex_unlock(&live_mu);
    return n;
}

void ah_live_first(long *seq, int *cls, const char **fn)
{
    *seq = 0;
    *cls = -1;
    *fn = "";
    pthread_mutex_lock(&live_mu);
    for (size_t i = 0; live && i < LIVE_CAP; i++)
        if (live[i].p &&
            (*cls < 0 || live[i].cls < *cls || (live[i].cls == *cls && live[i].seq < *seq))) {
            *seq = live[i].seq;
            *cls = live[i].cls;
            *fn = live[i].fn;
        }
    pthread_mutex_unlock(&live_mu);
}

void ah_live_clear(void)
{
    pthread_mutex_lock(&live_mu);
    if (live)
        memset(live, 0, LIVE_CAP * sizeof *live);
    nlive = 0;
    atomic_store(&nlive_any, 0);
    pthread_mutex_unlock(&live_mu);
}

/* ==== the C library (-Wl,--wrap) ==== */

void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t size);
void *__real_realloc(void *p, size_t n);
void __real_free(void *p);
char *__real_strdup(const char *s);
char *__real_strndup(const char *s, size_t n);
void *__real_aligned_alloc(size_t align, size_t n);
int __real_posix_memalign(void **out, size_t align, size_t n);
int __real_vasprintf(char **out, const char *fmt, va_list ap);
FILE *__real_open_memstream(char **buf, size_t *size);
FILE *__real_fopen(const char *path, const char *mode);
FILE *__real_fdopen(int fd, const char *mode);
DIR *__real_opendir(const char *path);
DIR *__real_fdopendir(int fd);
void *__real_mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off);

void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t n, size_t size);
void *__wrap_realloc(void *p, size_t n);
void __wrap_free(void *p);
char *__wrap_strdup(const char *s);
char *__wrap_strndup(const char *s, size_t n);
void *__wrap_aligned_alloc(size_t align, size_t n);
int __wrap_posix_memalign(void **out, size_t align, size_t n);
int __wrap_asprintf(char **out, const char *fmt, ...);
int __wrap_vasprintf(char **out, const char *fmt, va_list ap);
FILE *__wrap_open_memstream(char **buf, size_t *size);
FILE *__wrap_fopen(const char *path, const char *mode);
FILE *__wrap_fdopen(int fd, const char *mode);
DIR *__wrap_opendir(const char *path);
DIR *__wrap_fdopendir(int fd);
void *__wrap_mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off);

#define FAIL_OR(fn, call)                                                                          \
    int cls;                                                                                       \
    if (should_fail(&cls)) {                                                                       \
        errno = ENOMEM;                                                                            \
        return NULL;                                                                               \
    }                                                                                              \
    void *p_ = (call);                                                                             \
    track(p_, cls, fn);                                                                            \
    return p_

static void *real_malloc(size_t n)
{
    void *p = n >= BIG_BLOCK ? big_alloc(n) : NULL;
    return p ? p : __real_malloc(n);
}

void *__wrap_malloc(size_t n)
{
    FAIL_OR("malloc", real_malloc(n));
}

void *__wrap_calloc(size_t n, size_t size)
{
    FAIL_OR("calloc", __real_calloc(n, size));
}

void *__wrap_realloc(void *p, size_t n)
{
    int cls;
    if (should_fail(&cls)) {
        errno = ENOMEM;
        return NULL;
    }
    size_t big = big_len(p);
    if (big) { /* a large block moves to an ordinary one (or another large one) */
        void *q = real_malloc(n);
        if (q) {
            memcpy(q, p, big < n ? big : n);
            untrack(p);
            big_free(p);
            track(q, cls, "realloc");
        }
        return q;
    }
    void *q = __real_realloc(p, n);
    if (q || n == 0) {
        untrack(p);
        track(q, cls, "realloc");
    }
    return q;
}

void __wrap_free(void *p)
{
    if (!p) /* often: a text reader frees its 2048 cache slots, most of them empty */
        return;
    untrack(p);
    if (!big_free(p))
        __real_free(p);
}

char *__wrap_strdup(const char *s)
{
    FAIL_OR("strdup", __real_strdup(s));
}

char *__wrap_strndup(const char *s, size_t n)
{
    FAIL_OR("strndup", __real_strndup(s, n));
}

void *__wrap_aligned_alloc(size_t align, size_t n)
{
    FAIL_OR("aligned_alloc", __real_aligned_alloc(align, n));
}

int __wrap_posix_memalign(void **out, size_t align, size_t n)
{
    int cls;
    if (should_fail(&cls))
        return ENOMEM;
    int r = __real_posix_memalign(out, align, n);
    if (r == 0)
        track(*out, cls, "posix_memalign");
    return r;
}

/* As glibc's when its allocation fails: -1, *out left as it was. */
int __wrap_vasprintf(char **out, const char *fmt, va_list ap)
{
    int cls;
    if (should_fail(&cls)) {
        errno = ENOMEM;
        return -1;
    }
    int r = __real_vasprintf(out, fmt, ap);
    if (r >= 0)
        track(*out, cls, "asprintf");
    return r;
}

int __wrap_asprintf(char **out, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int r = __wrap_vasprintf(out, fmt, ap);
    va_end(ap);
    return r;
}

/* Streams and directory handles allocate their FILE or DIR (and buffers). */
FILE *__wrap_open_memstream(char **buf, size_t *size)
{
    int cls;
    if (should_fail(&cls)) {
        errno = ENOMEM;
        return NULL;
    }
    return __real_open_memstream(buf, size);
}

FILE *__wrap_fopen(const char *path, const char *mode)
{
    int cls;
    if (should_fail(&cls)) {
        errno = ENOMEM;
        return NULL;
    }
    return __real_fopen(path, mode);
}

FILE *__wrap_fdopen(int fd, const char *mode)
{
    int cls;
    if (should_fail(&cls)) {
        errno = ENOMEM;
        return NULL;
    }
    return __real_fdopen(fd, mode);
}

DIR *__wrap_opendir(const char *path)
{
    int cls;
    if (should_fail(&cls)) {
        errno = ENOMEM;
        return NULL;
    }
    return __real_opendir(path);
}

DIR *__wrap_fdopendir(int fd)
{
    int cls;
    if (should_fail(&cls)) {
        errno = ENOMEM;
        return NULL;
    }
    return __real_fdopendir(fd);
}

/* The index file's map: no address space left is ENOMEM. */
void *__wrap_mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
    int cls;
    if (should_fail(&cls)) {
        errno = ENOMEM;
        return MAP_FAILED;
    }
    return __real_mmap(addr, len, prot, flags, fd, off);
}

/* ==== zstd and xxHash contexts (-Wl,--wrap: their constructors return NULL when out of
 * memory; what they allocate later, inside the library, is not counted) ==== */

ZSTD_CCtx *__real_ZSTD_createCCtx(void);
ZSTD_DCtx *__real_ZSTD_createDCtx(void);
ZSTD_CDict *__real_ZSTD_createCDict(const void *dict, size_t size, int level);
ZSTD_DDict *__real_ZSTD_createDDict(const void *dict, size_t size);
XXH3_state_t *__real_XXH3_createState(void);
ZSTD_CCtx *__wrap_ZSTD_createCCtx(void);
ZSTD_DCtx *__wrap_ZSTD_createDCtx(void);
ZSTD_CDict *__wrap_ZSTD_createCDict(const void *dict, size_t size, int level);
ZSTD_DDict *__wrap_ZSTD_createDDict(const void *dict, size_t size);
XXH3_state_t *__wrap_XXH3_createState(void);

#define FAIL_OR_UNTRACKED(call)                                                                    \
    int cls;                                                                                       \
    if (should_fail(&cls))                                                                         \
        return NULL;                                                                               \
    return (call)

ZSTD_CCtx *__wrap_ZSTD_createCCtx(void)
{
    FAIL_OR_UNTRACKED(__real_ZSTD_createCCtx());
}

ZSTD_DCtx *__wrap_ZSTD_createDCtx(void)
{
    FAIL_OR_UNTRACKED(__real_ZSTD_createDCtx());
}

ZSTD_CDict *__wrap_ZSTD_createCDict(const void *dict, size_t size, int level)
{
    FAIL_OR_UNTRACKED(__real_ZSTD_createCDict(dict, size, level));
}

ZSTD_DDict *__wrap_ZSTD_createDDict(const void *dict, size_t size)
{
    FAIL_OR_UNTRACKED(__real_ZSTD_createDDict(dict, size));
}

XXH3_state_t *__wrap_XXH3_createState(void)
{
    FAIL_OR_UNTRACKED(__real_XXH3_createState());
}

/* ==== jansson and SQLite: their allocator settings ==== */

/* jansson 2.14's lexer does not check the growth of its token buffer (lex_save ignores it:
 * akheron/jansson#362): a failure there makes it read and write past the buffer. So while it
 * parses, the buffer's growth (to 32, 64, 128... bytes) is neither counted nor failed; its other
 * allocations (values, strings, tables) are. */
static _Thread_local int parsing;

json_t *__real_json_loadb(const char *buf, size_t len, size_t flags, json_error_t *e);
json_t *__real_json_loads(const char *s, size_t flags, json_error_t *e);
json_t *__real_json_load_file(const char *path, size_t flags, json_error_t *e);
json_t *__wrap_json_loadb(const char *buf, size_t len, size_t flags, json_error_t *e);
json_t *__wrap_json_loads(const char *s, size_t flags, json_error_t *e);
json_t *__wrap_json_load_file(const char *path, size_t flags, json_error_t *e);

json_t *__wrap_json_loadb(const char *buf, size_t len, size_t flags, json_error_t *e)
{
    parsing++;
    json_t *j = __real_json_loadb(buf, len, flags, e);
    parsing--;
    return j;
}

json_t *__wrap_json_loads(const char *s, size_t flags, json_error_t *e)
{
    parsing++;
    json_t *j = __real_json_loads(s, flags, e);
    parsing--;
    return j;
}

json_t *__wrap_json_load_file(const char *path, size_t flags, json_error_t *e)
{
    parsing++;
    json_t *j = __real_json_load_file(path, flags, e);
    parsing--;
    return j;
}

static void *json_alloc(size_t n)
{
    if (parsing && n >= 32 && (n & (n - 1)) == 0)
        return __real_malloc(n);
    FAIL_OR("jansson", __real_malloc(n));
}

static void json_release(void *p)
{
    untrack(p);
    __real_free(p);
}

/* SQLite asks for the size of a block: it is kept in a header of 16 bytes. */
static void *sql_alloc(int n)
{
    int cls;
    if (n < 0 || should_fail(&cls))
        return NULL;
    uint64_t *h = __real_malloc((size_t)n + 16);
    if (!h)
        return NULL;
    h[0] = (uint64_t)n;
    track(h, cls, "sqlite");
    return h + 2;
}

static void sql_free(void *p)
{
    if (!p)
        return;
    uint64_t *h = (uint64_t *)p - 2;
    untrack(h);
    __real_free(h);
}

static int sql_size(void *p)
{
    return p ? (int)((uint64_t *)p - 2)[0] : 0;
}

static void *sql_realloc(void *p, int n)
{
    if (!p)
        return sql_alloc(n);
    void *q = sql_alloc(n);
    if (!q)
        return NULL;
    int old = sql_size(p);
    memcpy(q, p, (size_t)(old < n ? old : n));
    sql_free(p);
    return q;
}

static int sql_roundup(int n)
{
    return (n + 7) & ~7;
}

static int sql_init(void *app)
{
    (void)app;
    return SQLITE_OK;
}

static void sql_shutdown(void *app)
{
    (void)app;
}

void ah_init(void)
{
    static const sqlite3_mem_methods methods = {sql_alloc,   sql_free, sql_realloc,  sql_size,
                                                sql_roundup, sql_init, sql_shutdown, NULL};
    if (sqlite3_config(SQLITE_CONFIG_MALLOC, &methods) != SQLITE_OK) {
        fprintf(stderr, "alloc_hook: sqlite3_config failed\n");
        abort();
    }
    if (sqlite3_initialize() != SQLITE_OK) {
        fprintf(stderr, "alloc_hook: sqlite3_initialize failed\n");
        abort();
    }
    json_set_alloc_funcs(json_alloc, json_release);
    trace = getenv("ALLOC_TRACE") != NULL;
}

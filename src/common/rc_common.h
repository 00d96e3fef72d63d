/*
 * rc_common.h — internal helpers every module may use: error reporting into recite_error,
 * checked allocation and size arithmetic, a growable array, little-endian I/O.
 * Depends on nothing but the C library and the public header (for the status codes).
 */
#ifndef RC_COMMON_H
#define RC_COMMON_H

#include "recite.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#if defined(__GNUC__) || defined(__clang__)
#define RC_PRINTF(a, b) __attribute__((format(printf, a, b)))
#define RC_LIKELY(x) __builtin_expect(!!(x), 1)
#define RC_UNLIKELY(x) __builtin_expect(!!(x), 0)
#else
#define RC_PRINTF(a, b)
#define RC_LIKELY(x) (x)
#define RC_UNLIKELY(x) (x)
#endif

/* Macros, so that -Wsign-compare sees their comparison; an argument is evaluated twice, so none
 * may have a side effect (scripts/macro_args.py, run by make test). */
#define RC_MIN(a, b) ((a) < (b) ? (a) : (b))
#define RC_MAX(a, b) ((a) > (b) ? (a) : (b))
#define RC_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* ==== errors ==== */

/* Fills `err` (if not NULL) with `code` and a formatted one-line message; returns `code`. */
int rc_error_set(recite_error *err, int code, const char *fmt, ...) RC_PRINTF(3, 4);

/* Same, appending ": strerror(errnum)"; the code is RECITE_ENOMEM when errnum is ENOMEM. */
int rc_error_errno(recite_error *err, int code, int errnum, const char *fmt, ...) RC_PRINTF(4, 5);

/* The recite_info_source named `name` (recite_info_source_name's inverse); NONE when unknown. */
recite_info_source rc_info_source_of(const char *name);

/* ==== JSON (json_syntax.c) ==== */

/* Whether jansson refused text[0, len) for want of memory rather than for what the text holds:
 * it says so, says nothing, or reports a syntax error in a text that is well-formed JSON (its
 * lexer reports a failed allocation as a syntax error). `jerr` is what jansson filled; `any`:
 * the text may be any value, not only an object or array. text may be NULL (a file): then only
 * what jansson says counts. */
struct json_error_t;
bool rc_json_refused_for_memory(const struct json_error_t *jerr, const char *text, size_t len,
                                bool any);

/* json_dumps(v, flags), or NULL when it fails or (out of memory) writes malformed JSON. */
struct json_t;
char *rc_json_dumps(const struct json_t *v, size_t flags);

/* ==== file system (fs.c) ==== */

/* Whether `name` is prefix + PID + "-..." of a process that is gone: a temporary file or
 * directory a killed writer left behind. */
bool rc_tmp_is_stale(const char *name, const char *prefix);

/* Calls remove(path) for each entry of dir that rc_tmp_is_stale says a dead writer left. */
void rc_remove_stale(const char *dir, const char *prefix, void (*remove)(const char *path));

/* fsync of a file or directory by path: 0, or -1 with errno set. */
int rc_fsync_path(const char *path);

/* The directory holding path ("." for a bare name), in a new string; NULL when out of memory. */
char *rc_parent_dir(const char *path);

/* The last component of path (trailing slashes ignored), copied into buf. */
const char *rc_base_name(const char *path, char *buf, size_t cap);

/* Unlinks dir/name; quietly does nothing when it cannot. */
void rc_unlink_in(const char *dir, const char *name);

/* mkdir -p: whether dir exists (or could be made) as a directory. */
bool rc_mkdir_p(const char *dir);

/* Copies file `from` to `to` (created exclusively, synced); false on any failure. */
bool rc_copy_file(const char *from, const char *to);

/* Publishes a complete temporary file: fsync, rename over path, fsync of the directory. */
int rc_publish_file(const char *tmp_path, const char *path, recite_error *err);

/* ==== checked sizes ==== */

static inline bool rc_mul_overflows(size_t a, size_t b, size_t *out)
{
    return __builtin_mul_overflow(a, b, out);
}

static inline bool rc_add_overflows(size_t a, size_t b, size_t *out)
{
    return __builtin_add_overflow(a, b, out);
}

/* ==== libraries loaded on first use (dl.c) ====
 * A module lists the functions it takes from a library (an X-macro of their names), keeps
 * pointers to them of their own types, and before its first call asks rc_dl_load, whose
 * `resolve` sets the pointers from the opened library (dlsym) and returns the name of one it
 * lacks (NULL: all found). Loaded once per process, by whichever thread comes first; never
 * unloaded. */
typedef struct rc_dl {
    pthread_mutex_t lock;
    int state; /* 0 not tried, 1 loaded, -1 failed (why says why) */
    void *handle;
    char why[256];
} rc_dl;
#define RC_DL_INIT                                                                                 \
    {                                                                                              \
        PTHREAD_MUTEX_INITIALIZER, 0, NULL,                                                        \
        {                                                                                          \
            0                                                                                      \
        }                                                                                          \
    }
/* Sets a function pointer from a symbol of handle; false when there is none. (Through a void *
 * lvalue, as POSIX's dlsym asks: ISO C has no conversion between object and function
 * pointers.) */
#define RC_DL_SYM(handle, ptr, name) ((*(void **)&(ptr) = dlsym((handle), (name))) != NULL)
/* The table of a library's functions: LIST(X, var) names each function f as X(var, f); this
 * declares `static struct {...} var` with a pointer var.f_ of f's type for each (a name of its
 * own: some libraries define their functions as macros too) and `static const char
 * *resolve(void *handle)`, the resolver rc_dl_load takes. */
#define RC_DL_MEMBER_(var, f) __typeof__(f) *f##_;
#define RC_DL_RESOLVE_(var, f)                                                                     \
    if (!RC_DL_SYM(handle, var.f##_, #f))                                                          \
        return #f;
#define RC_DL_TABLE(var, resolve, LIST)                                                            \
    static struct {                                                                                \
        LIST(RC_DL_MEMBER_, var)                                                                   \
    } var;                                                                                         \
    static const char *resolve(void *handle)                                                       \
    {                                                                                              \
        LIST(RC_DL_RESOLVE_, var)                                                                  \
        return NULL;                                                                               \
    }
/* RECITE_OK once the library is loaded and resolved; else RECITE_EIO with the reason in why
 * (soname and the loader's message, or the missing function). */
int rc_dl_load(rc_dl *d, const char *soname, const char *(*resolve)(void *handle), char *why,
               size_t why_cap);

/* The first n bytes of s (fewer at a NUL or past cap - 1) into out, NUL-terminated (cap > 0):
 * snprintf's "%.*s" without its formatting machinery (a tenth of its instructions), for the
 * license ids copied a few hundred times a check. */
static inline void rc_copy_str(char *out, size_t cap, const char *s, size_t n)
{
    const char *end = memchr(s, 0, n);
    size_t k = end ? (size_t)(end - s) : n;
    if (k > cap - 1)
        k = cap - 1;
    memcpy(out, s, k);
    out[k] = 0;
}

/* qsort that accepts n == 0 with a NULL base (qsort itself may not be given NULL). */
static inline void rc_sort(void *base, size_t n, size_t size,
                           int (*cmp)(const void *, const void *))
{
    if (n > 1)
        qsort(base, n, size, cmp);
}

/* ==== growable arrays ====
 * rc_grow ensures room for `need` elements of `elem` bytes in *ptr (capacity *cap), doubling.
 * Returns RECITE_OK or RECITE_ENOMEM (the old buffer is kept on failure). */
int rc_grow(void **ptr, size_t *cap, size_t need, size_t elem);

#define RC_VEC(T)                                                                                  \
    struct {                                                                                       \
        T *v;                                                                                      \
        size_t n, cap;                                                                             \
    }
#define RC_VEC_RESERVE(vec, need) rc_grow((void **)&(vec).v, &(vec).cap, (need), sizeof(*(vec).v))
#define RC_VEC_PUSH(vec, x)                                                                        \
    (((vec).n < (vec).cap || RC_VEC_RESERVE((vec), (vec).n + 1) == RECITE_OK)                      \
         ? ((vec).v[(vec).n++] = (x), RECITE_OK)                                                   \
         : RECITE_ENOMEM)
#define RC_VEC_FREE(vec) (free((vec).v), (vec).v = NULL, (vec).n = (vec).cap = 0)

/* ==== little-endian fixed-width I/O (the on-disk format is little-endian) ==== */

static inline void rc_put_u16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}
static inline void rc_put_u32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}
static inline void rc_put_u64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}
static inline uint16_t rc_get_u16(const uint8_t *p)
{
    return (uint16_t)(p[0] | (p[1] << 8));
}
static inline uint32_t rc_get_u32(const uint8_t *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}
static inline uint64_t rc_get_u64(const uint8_t *p)
{
    return (uint64_t)rc_get_u32(p) | ((uint64_t)rc_get_u32(p + 4) << 32);
}

/* ==== hashing (xxHash) ==== */

uint64_t rc_hash64(const void *data, size_t len, uint64_t seed);

/* 128-bit content hash, for identifying identical works. */
typedef struct rc_hash128 {
    uint64_t lo, hi;
} rc_hash128;
rc_hash128 rc_hash128_of(const void *data, size_t len);

/* CLOCK_MONOTONIC in nanoseconds (phase profiles of the matcher). */
static inline uint64_t rc_clock_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

/* A strong 64-bit mixer (bijective), for deriving hashes from hashes. */
static inline uint64_t rc_mix64(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ULL;
    x ^= x >> 33;
    return x;
}

#endif /* RC_COMMON_H */

/*
 * test_util.h — helpers shared by the unit tests: a seeded PRNG, temporary directories, files,
 * and tokenizing a whole buffer. Header-only; each test binary includes it once.
 */
#ifndef TEST_UTIL_H
#define TEST_UTIL_H

#include <dirent.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "text/rc_text.h"

/* ==== PRNG (xorshift64*) ==== */

typedef struct rng {
    uint64_t s;
} rng;

static inline uint64_t rng_next(rng *r)
{
    r->s ^= r->s >> 12;
    r->s ^= r->s << 25;
    r->s ^= r->s >> 27;
    return r->s * 0x2545F4914F6CDD1DULL;
}

static inline uint64_t rng_below(rng *r, uint64_t n)
{
    return n ? rng_next(r) % n : 0;
}

/* Seed from RECITE_TEST_SEED when set (to reproduce a failure), else `def`. */
static inline rng rng_seeded(uint64_t def)
{
    const char *e = getenv("RECITE_TEST_SEED");
    rng r = {e ? strtoull(e, NULL, 0) : def};
    if (!r.s)
        r.s = 0x9e3779b97f4a7c15ULL;
    return r;
}

/* Fewer iterations under valgrind (RECITE_TEST_QUICK=1): same checks, smaller samples. */
static inline int iterations(int normal)
{
    return getenv("RECITE_TEST_QUICK") ? (normal / 20 > 0 ? normal / 20 : 1) : normal;
}

/* ==== files ==== */

static inline char *tmp_dir_make(void)
{
    char tmpl[] = "/tmp/recite-test-XXXXXX";
    char *d = mkdtemp(tmpl);
    assert_non_null(d);
    return strdup(d);
}

static inline void rm_rf(const char *path)
{
    struct stat st;
    if (lstat(path, &st) != 0)
        return;
    if (S_ISDIR(st.st_mode)) {
        DIR *d = opendir(path);
        if (d) {
            struct dirent *e;
            while ((e = readdir(d)) != NULL) {
                if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
                    continue;
                char *child;
                if (asprintf(&child, "%s/%s", path, e->d_name) >= 0) {
                    rm_rf(child);
                    free(child);
                }
            }
            closedir(d);
        }
        rmdir(path);
    } else {
        unlink(path);
    }
}

static inline char *path_join(const char *a, const char *b)
{
    char *p;
    assert_true(asprintf(&p, "%s/%s", a, b) >= 0);
    return p;
}

static inline void write_file(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
}

static inline void write_str(const char *path, const char *text)
{
    write_file(path, text, strlen(text));
}

/* Reads a whole file; NULL if it cannot. */
static inline char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap + 1);
    size_t got;
    while ((got = fread(buf + n, 1, cap - n, f)) > 0) {
        n += got;
        if (n == cap) {
            cap *= 2;
            buf = realloc(buf, cap + 1);
        }
    }
    fclose(f);
    buf[n] = 0;
    *len = n;
    return buf;
}

/* ==== a library and its index in a temporary directory ==== */

/* Makes a temporary directory *dir with an empty *lib = dir/lib for the works, and names
 * *idx = dir/idx for their index. */
static inline void test_dirs_make(char **dir, char **lib, char **idx)
{
    *dir = tmp_dir_make();
    *lib = path_join(*dir, "lib");
    *idx = path_join(*dir, "idx");
    assert_int_equal(mkdir(*lib, 0755), 0);
}

/* Removes the directory and frees the three names. */
static inline void test_dirs_free(char *dir, char *lib, char *idx)
{
    rm_rf(dir);
    free(dir);
    free(lib);
    free(idx);
}

/* Writes text[0, len) to lib/NAME. */
static inline void test_put(const char *lib, const char *name, const char *text, size_t len)
{
    char *p = path_join(lib, name);
    write_file(p, text, len);
    free(p);
}

/* Opens the index at idx into *index and, when chk is not NULL, a checker of it with opt (NULL:
 * defaults), failing the test with the library's message. */
static inline void test_open(const char *idx, recite_index **index, recite_checker **chk,
                             const recite_check_options *opt)
{
    recite_error err = {0};
    if (recite_index_open(index, idx, &err) != RECITE_OK)
        fail_msg("open %s: %s", idx, err.message);
    if (chk && recite_checker_create(chk, *index, opt, &err) != RECITE_OK)
        fail_msg("checker of %s: %s", idx, err.message);
}

/* Copies /usr/share/common-licenses/NAME (base-files ships them) to lib/NAME and returns its
 * text (the caller frees it), with its length in *len when len is not NULL. */
static inline char *test_put_license(const char *lib, const char *name, size_t *len)
{
    char *src = path_join("/usr/share/common-licenses", name);
    size_t n = 0;
    char *text = read_file(src, &n);
    if (!text)
        fail_msg("%s is missing", src);
    char *dst = path_join(lib, name);
    write_file(dst, text, n);
    free(src);
    free(dst);
    if (len)
        *len = n;
    return text;
}

/* Build options of the tests: prose (what most fixtures are), and a cache of the license
 * index shared by the tests' builds ($RECITE_CACHE, else /tmp/recite-test-cache), so that the
 * license texts are indexed once rather than for every test index. */
static inline recite_build_options test_opts(void)
{
    recite_build_options opt = RECITE_BUILD_OPTIONS_INIT;
    const char *cache = getenv("RECITE_CACHE");
    opt.mode = RECITE_MODE_PROSE;
    opt.license_cache_dir = cache && *cache ? cache : "/tmp/recite-test-cache";
    return opt;
}

/* Builds the index of lib at idx (opt NULL: test_opts()), failing the test with the builder's
 * message. */
static inline void test_build(const char *lib, const char *idx, const recite_build_options *opt)
{
    const char *paths[] = {lib};
    recite_error err = {0};
    recite_build_options def = test_opts();
    if (recite_index_build(NULL, idx, paths, 1, opt ? opt : &def, &err) != RECITE_OK)
        fail_msg("build of %s: %s", lib, err.message);
}

/* ==== tokens ==== */

typedef struct toklist {
    rc_token *v;
    size_t n;
} toklist;

/* Tokenizes a whole buffer (final). */
static inline toklist tokenize_all(const char *s, size_t len)
{
    static rc_tokenizer tz;
    toklist tl = {NULL, 0};
    size_t cap = 64;
    tl.v = malloc(cap * sizeof *tl.v);
    rc_tok_state st = {0, true};
    for (;;) {
        if (tl.n + 64 > cap) {
            cap *= 2;
            tl.v = realloc(tl.v, cap * sizeof *tl.v);
        }
        size_t n = rc_tokenize_prose(&tz, (const uint8_t *)s, len, true, &st, tl.v + tl.n, 64);
        tl.n += n;
        if (n < 64)
            break;
    }
    return tl;
}

static inline toklist tokenize_str(const char *s)
{
    return tokenize_all(s, strlen(s));
}

/* Hash of one word, tokenized mid-line (so a number is not taken for a line number). */
static inline uint64_t word_hash(const char *w)
{
    char *s;
    assert_true(asprintf(&s, "x %s", w) >= 0);
    toklist tl = tokenize_str(s);
    assert_int_equal(tl.n, 2);
    uint64_t h = tl.v[1].hash;
    free(tl.v);
    free(s);
    return h;
}

/* True when a and b tokenize to the same hash sequence. */
static inline int same_tokens(const char *a, const char *b)
{
    toklist x = tokenize_str(a), y = tokenize_str(b);
    int same = x.n == y.n;
    for (size_t i = 0; same && i < x.n; i++)
        same = x.v[i].hash == y.v[i].hash;
    free(x.v);
    free(y.v);
    return same;
}

/* Two results hold the same matches, field by field, in the same order. */
static inline void assert_same_matches(const recite_result *a, const recite_result *b)
{
    assert_int_equal(a->nmatches, b->nmatches);
    for (size_t i = 0; i < a->nmatches; i++) {
        const recite_match *x = &a->matches[i], *y = &b->matches[i];
        assert_int_equal(x->work, y->work);
        assert_int_equal(x->out_start, y->out_start);
        assert_int_equal(x->out_end, y->out_end);
        assert_int_equal(x->src_start, y->src_start);
        assert_int_equal(x->src_end, y->src_end);
        assert_int_equal(x->src_token, y->src_token);
        assert_int_equal(x->tokens, y->tokens);
        assert_int_equal(x->kind, y->kind);
        assert_int_equal(x->common, y->common);
        assert_true(x->similarity == y->similarity);
    }
}

#endif /* TEST_UTIL_H */

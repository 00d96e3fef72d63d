/*
 * fuzz_util.c — helpers of the fuzz harnesses (see fuzz.h), and the mmap wrapper: harnesses are
 * linked with -Wl,--wrap=mmap,--wrap=munmap,--wrap=madvise so that the index loader's map of
 * recite.idx becomes a malloc'd copy of exactly the file's size, where AddressSanitizer sees
 * every read past the end (a real map rounds up to a page and reads past it go unnoticed).
 */
#include "fuzz.h"
#include "common/rc_common.h"

#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/* ==== checks ==== */

void fz_fail(const char *file, int line, const char *cond, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "%s:%d: invariant failed: %s: ", file, line, cond);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    fflush(stderr);
    abort();
}

void fz_check_error(int rc, const recite_error *err, const char *what)
{
    FZ_CHECK(rc < 0 && rc >= RECITE_ENOTEXT, "%s: status %d is not a recite_status", what, rc);
    FZ_CHECK(err->code == rc, "%s: err.code %d, returned %d", what, err->code, rc);
    size_t n = strnlen(err->message, sizeof err->message);
    FZ_CHECK(n > 0 && n < sizeof err->message, "%s: empty or unterminated message", what);
    FZ_CHECK(!strchr(err->message, '\n'), "%s: message of several lines: %s", what, err->message);
}

/* ==== files and directories ==== */

static char *tmp_dirs[64];
static size_t ntmp_dirs;

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    remove(path);
    return 0;
}

void fz_rm_rf(const char *path)
{
    nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static void remove_tmp_dirs(void)
{
    for (size_t i = 0; i < ntmp_dirs; i++) {
        fz_rm_rf(tmp_dirs[i]);
        free(tmp_dirs[i]);
    }
    ntmp_dirs = 0;
}

/* libFuzzer ends a run with _Exit (no atexit handlers): directories of runs that are over are
 * removed by the next run (their names carry the PID). */
static void remove_stale(const char *base, const char *tag)
{
    char prefix[64];
    snprintf(prefix, sizeof prefix, "recite-fuzz-%s-", tag);
    DIR *d = opendir(base);
    struct dirent *e;
    while (d && (e = readdir(d)) != NULL) {
        char *p;
        if (rc_tmp_is_stale(e->d_name, prefix) && asprintf(&p, "%s/%s", base, e->d_name) > 0) {
            fz_rm_rf(p);
            free(p);
        }
    }
    if (d)
        closedir(d);
}

char *fz_tmpdir(const char *tag)
{
    const char *base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : getenv("TMPDIR");
    base = base ? base : "/tmp";
    remove_stale(base, tag);
    char *path;
    FZ_CHECK(asprintf(&path, "%s/recite-fuzz-%s-%ld-XXXXXX", base, tag, (long)getpid()) > 0, "oom");
    FZ_CHECK(mkdtemp(path), "cannot create %s: %s", path, strerror(errno));
    FZ_CHECK(ntmp_dirs < sizeof tmp_dirs / sizeof *tmp_dirs, "too many temporary directories");
    if (ntmp_dirs == 0)
        atexit(remove_tmp_dirs);
    tmp_dirs[ntmp_dirs++] = path;
    return path;
}

int fz_write(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return -1;
    bool ok = fwrite(data, 1, len, f) == len;
    return (fclose(f) == 0 && ok) ? 0 : -1;
}

uint8_t *fz_read(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    uint8_t *buf = NULL;
    size_t n = 0, cap = 0;
    for (;;) {
        if (n + 65536 + 1 > cap) {
            cap = cap ? 2 * cap : 131072;
            uint8_t *p = realloc(buf, cap);
            FZ_CHECK(p, "out of memory");
            buf = p;
        }
        size_t got = fread(buf + n, 1, cap - n - 1, f);
        n += got;
        if (got == 0)
            break;
    }
    fclose(f);
    buf[n] = 0;
    *len = n;
    return buf;
}

int fz_seed(const char *dir, const char *name, const void *data, size_t len)
{
    mkdir(dir, 0755);
    char *path;
    if (asprintf(&path, "%s/%s", dir, name) < 0)
        return -1;
    int rc = fz_write(path, data, len);
    if (rc != 0)
        fprintf(stderr, "cannot write %s: %s\n", path, strerror(errno));
    free(path);
    return rc;
}

/* ==== PRNG ==== */

uint64_t fz_next(fz_rng *r)
{
    uint64_t z = (r->s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

uint64_t fz_hash(const void *data, size_t len)
{
    uint64_t h = 0xcbf29ce484222325ULL; /* FNV-1a, then mixed: its low bits alone are poor */
    for (size_t i = 0; i < len; i++)
        h = (h ^ ((const uint8_t *)data)[i]) * 0x100000001b3ULL;
    fz_rng r = {h};
    return fz_next(&r);
}

/* ==== texts ==== */

char *fz_text(const char *path, size_t from, size_t max, size_t *len)
{
    size_t n;
    uint8_t *all = fz_read(path, &n);
    FZ_CHECK(all, "cannot read %s (a text Debian ships, needed by the fuzz fixtures)", path);
    if (from > n)
        from = n;
    size_t m = n - from < max ? n - from : max;
    memmove(all, all + from, m);
    all[m] = 0;
    if (len)
        *len = m;
    return (char *)all;
}

/* ==== indexes ==== */

const uint8_t fz_key[32] = "recite fuzz key: not a secret!!";

void fz_build(const char *dir, const char *const *paths, size_t n, recite_mode mode, int skip_cmi,
              const void *key, size_t key_len)
{
    recite_build_options opt = RECITE_BUILD_OPTIONS_INIT;
    opt.mode = mode;
    opt.skip_cmi = skip_cmi;
    opt.jobs = 1;
    opt.created_unix = 1700000000;
    opt.text_free_key = key;
    opt.text_free_key_len = key_len;
    recite_error err = {0};
    int rc = recite_index_build(NULL, dir, paths, n, &opt, &err);
    FZ_CHECK(rc == RECITE_OK, "cannot build the fixture index %s: %s", dir, err.message);
}

/* ==== the mmap wrapper ==== */

int __real_madvise(void *addr, size_t len, int advice);
int __wrap_madvise(void *addr, size_t len, int advice);
void *__real_mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off);
int __real_munmap(void *addr, size_t len);
void *__wrap_mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off);
int __wrap_munmap(void *addr, size_t len);

#define MAX_MAPS 16
static struct {
    void *p;
    size_t len;
} maps[MAX_MAPS];

void *__wrap_mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
    if (addr || prot != PROT_READ || fd < 0 || off != 0 || len == 0)
        return __real_mmap(addr, len, prot, flags, fd, off);
    size_t slot = 0;
    while (slot < MAX_MAPS && maps[slot].p)
        slot++;
    FZ_CHECK(slot < MAX_MAPS, "more than %d maps open", MAX_MAPS);
    uint8_t *p = malloc(len);
    if (!p) {
        errno = ENOMEM;
        return MAP_FAILED;
    }
    size_t got = 0;
    while (got < len) {
        ssize_t r = pread(fd, p + got, len - got, (off_t)got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    memset(p + got, 0, len - got); /* as a map past the end of a file reads */
    maps[slot].p = p;
    maps[slot].len = len;
    return p;
}

int __wrap_munmap(void *addr, size_t len)
{
    for (size_t i = 0; i < MAX_MAPS; i++)
        if (maps[i].p == addr) {
            FZ_CHECK(maps[i].len == len, "munmap of %zu bytes of a %zu-byte map", len, maps[i].len);
            free(addr);
            maps[i].p = NULL;
            return 0;
        }
    return __real_munmap(addr, len);
}

/* Advice about one of our copies is ignored: MADV_DONTNEED on malloc'd memory would zero it
 * (a real map of a file reads the file again). */
int __wrap_madvise(void *addr, size_t len, int advice)
{
    for (size_t i = 0; i < MAX_MAPS; i++)
        if (maps[i].p && (uint8_t *)addr >= (uint8_t *)maps[i].p &&
            (uint8_t *)addr < (uint8_t *)maps[i].p + maps[i].len)
            return 0;
    return __real_madvise(addr, len, advice);
}

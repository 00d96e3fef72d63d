/*
 * wfail.c — a write-failure shim for tests/cli/crash.sh, loaded with LD_PRELOAD: writes to
 * regular files fail as on a full disk or a failing one, whatever the file system. Terminals,
 * pipes and /dev/null are not counted (the error message must get out).
 *   RECITE_WFAIL_BYTES=N   after N bytes written to regular files, writes fail with ENOSPC
 *                          (the write that crosses N is short, as on a disk that fills)
 *   RECITE_WFAIL_NTH=K     the K-th write to a regular file fails with EIO, once (a transient
 *                          error); the others succeed
 *   RECITE_WFAIL_REPORT=F  at exit, "BYTES WRITES" (to regular files) is written to F
 * Interposes write, pwrite, pwrite64, writev, pwritev and fwrite (stdio's own flushes are not
 * interposable; what recite writes through stdio goes through fwrite).
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

static long long budget = -1, nth = -1;
static long long written, calls;
static int ready;

static void init(void)
{
    if (ready)
        return;
    const char *b = getenv("RECITE_WFAIL_BYTES"), *n = getenv("RECITE_WFAIL_NTH");
    budget = b ? atoll(b) : -1;
    nth = n ? atoll(n) : -1;
    ready = 1;
}

static int counted(int fd)
{
    struct stat st;
    return fd > 2 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
}

/* How many of `len` bytes a write to fd may write: len, fewer, or -1 (errno set). */
static long long allow(int fd, size_t len)
{
    init();
    if (!counted(fd))
        return (long long)len;
    if (++calls == nth) {
        errno = EIO;
        return -1;
    }
    long long n = (long long)len;
    if (budget >= 0) {
        long long left = budget - written;
        if (left <= 0) {
            errno = ENOSPC;
            return -1;
        }
        if (n > left)
            n = left;
    }
    written += n;
    return n;
}

__attribute__((destructor)) static void report(void)
{
    const char *path = getenv("RECITE_WFAIL_REPORT");
    FILE *f = path ? fopen(path, "w") : NULL;
    if (f) {
        fprintf(f, "%lld %lld\n", written, calls);
        fclose(f);
    }
}

#define REAL(name, type) ((type)dlsym(RTLD_NEXT, name))

ssize_t write(int fd, const void *buf, size_t len)
{
    long long n = allow(fd, len);
    if (n < 0)
        return -1;
    return REAL("write", ssize_t(*)(int, const void *, size_t))(fd, buf, (size_t)n);
}

ssize_t pwrite(int fd, const void *buf, size_t len, off_t off)
{
    long long n = allow(fd, len);
    if (n < 0)
        return -1;
    return REAL("pwrite", ssize_t(*)(int, const void *, size_t, off_t))(fd, buf, (size_t)n, off);
}

ssize_t pwrite64(int fd, const void *buf, size_t len, off_t off)
{
    long long n = allow(fd, len);
    if (n < 0)
        return -1;
    return REAL("pwrite64", ssize_t(*)(int, const void *, size_t, off_t))(fd, buf, (size_t)n, off);
}

static size_t iov_len(const struct iovec *iov, int cnt)
{
    size_t n = 0;
    for (int i = 0; i < cnt; i++)
        n += iov[i].iov_len;
    return n;
}

ssize_t writev(int fd, const struct iovec *iov, int cnt)
{
    long long n = allow(fd, iov_len(iov, cnt));
    if (n < 0)
        return -1;
    if ((size_t)n < iov_len(iov, cnt)) { /* short: write the bytes that fit, one by one */
        errno = ENOSPC;
        return -1;
    }
    return REAL("writev", ssize_t(*)(int, const struct iovec *, int))(fd, iov, cnt);
}

ssize_t pwritev(int fd, const struct iovec *iov, int cnt, off_t off)
{
    long long n = allow(fd, iov_len(iov, cnt));
    if (n < 0)
        return -1;
    if ((size_t)n < iov_len(iov, cnt)) {
        errno = ENOSPC;
        return -1;
    }
    return REAL("pwritev", ssize_t(*)(int, const struct iovec *, int, off_t))(fd, iov, cnt, off);
}

size_t fwrite(const void *buf, size_t size, size_t nmemb, FILE *f)
{
    size_t len = size * nmemb;
    long long n = len ? allow(fileno(f), len) : 0;
    if (n < 0)
        return 0;
    size_t r =
        REAL("fwrite", size_t(*)(const void *, size_t, size_t, FILE *))(buf, 1, (size_t)n, f);
    if ((size_t)n < len)
        errno = ENOSPC;
    return size ? r / size : 0;
}

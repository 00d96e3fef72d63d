/*
 * build_spool.c — spools: append-only byte streams of the builder (the tables of committed
 * works, the fingerprints and compressed blocks of a large work) kept in a buffer of bounded
 * size, with what does not fit in an unlinked temporary file, so that memory does not grow
 * with the library. Read back sequentially (rc_spool_iter) or a record at a time.
 */
#include "rc_build.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

void rc_spool_init(rc_spool *s, const char *dir, size_t cap)
{
    memset(s, 0, sizeof *s);
    s->dir = dir;
    s->cap = cap < 4096 ? 4096 : cap;
}

static int write_all(int fd, const uint8_t *p, size_t n)
{
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return w < 0 ? errno : EIO;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

static int spool_flush(rc_spool *s, recite_error *err)
{
    if (s->n == 0)
        return RECITE_OK;
    if (!s->file) {
        char *path;
        if (asprintf(&path, "%s/spool-XXXXXX", s->dir ? s->dir : "/tmp") < 0)
            return rc_error_set(err, RECITE_ENOMEM, "out of memory");
        s->fd = mkostemp(path, O_CLOEXEC);
        int e = errno;
        s->file = s->fd >= 0;
        if (s->file)
            unlink(path); /* gone with the descriptor, whatever happens to the build */
        int rc =
            s->file ? RECITE_OK : rc_error_errno(err, RECITE_EIO, e, "%s: cannot create", path);
        free(path);
        if (rc != RECITE_OK)
            return rc;
    }
    int e = write_all(s->fd, s->buf, s->n);
    if (e)
        return rc_error_errno(err, RECITE_EIO, e, "%s: cannot write a temporary file",
                              s->dir ? s->dir : "/tmp");
    s->flushed += s->n;
    s->n = 0;
    return RECITE_OK;
}

int rc_spool_append(rc_spool *s, const void *data, size_t len, recite_error *err)
{
    const uint8_t *p = data;
    if (!s->buf && len && !(s->buf = malloc(s->cap)))
        return rc_error_set(err, RECITE_ENOMEM, "out of memory");
    while (len) {
        if (s->n == s->cap) {
            int rc = spool_flush(s, err);
            if (rc != RECITE_OK)
                return rc;
        }
        size_t k = RC_MIN(len, s->cap - s->n);
        memcpy(s->buf + s->n, p, k);
        s->n += k;
        p += k;
        len -= k;
    }
    return RECITE_OK;
}

int rc_spool_read(const rc_spool *s, uint64_t off, void *out, size_t len, recite_error *err)
{
    uint8_t *p = out;
    if (off + len > rc_spool_size(s))
        return rc_error_set(err, RECITE_EIO, "read past the end of a temporary file");
    while (len && off < s->flushed) { /* the part in the file */
        size_t k = (size_t)RC_MIN((uint64_t)len, s->flushed - off);
        ssize_t r = pread(s->fd, p, k, (off_t)off);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return rc_error_errno(err, RECITE_EIO, r < 0 ? errno : EIO,
                                  "cannot read a temporary file");
        p += r;
        off += (uint64_t)r;
        len -= (size_t)r;
    }
    if (len)
        memcpy(p, s->buf + (off - s->flushed), len);
    return RECITE_OK;
}

void rc_spool_free(rc_spool *s)
{
    if (s->file)
        close(s->fd);
    free(s->buf);
    s->buf = NULL;
    s->file = false;
    s->n = 0;
    s->flushed = 0;
}

/* ==== reading back in order ==== */

int rc_spool_iter_init(rc_spool_iter *it, const rc_spool *s, recite_error *err)
{
    memset(it, 0, sizeof *it);
    it->s = s;
    if (s->flushed && !(it->buf = malloc(RC_SPOOL_CHUNK)))
        return rc_error_set(err, RECITE_ENOMEM, "out of memory");
    return RECITE_OK;
}

int rc_spool_iter_next(rc_spool_iter *it, const uint8_t **p, size_t *len, recite_error *err)
{
    const rc_spool *s = it->s;
    *len = 0;
    if (it->off < s->flushed) {
        size_t k = (size_t)RC_MIN((uint64_t)RC_SPOOL_CHUNK, s->flushed - it->off);
        int rc = rc_spool_read(s, it->off, it->buf, k, err);
        if (rc != RECITE_OK)
            return rc;
        *p = it->buf;
        *len = k;
    } else if (it->off < rc_spool_size(s)) { /* the buffer: in place */
        *p = s->buf + (it->off - s->flushed);
        *len = (size_t)(rc_spool_size(s) - it->off);
    }
    it->off += *len;
    return RECITE_OK;
}

int rc_spool_iter_read(rc_spool_iter *it, void *out, size_t len, recite_error *err)
{
    uint8_t *o = out;
    while (len) {
        if (it->have == it->used) {
            int rc = rc_spool_iter_next(it, &it->cur, &it->have, err);
            if (rc != RECITE_OK)
                return rc;
            it->used = 0;
            if (it->have == 0)
                return rc_error_set(err, RECITE_EIO, "temporary file shorter than written");
        }
        size_t k = RC_MIN(len, it->have - it->used);
        memcpy(o, it->cur + it->used, k);
        it->used += k;
        o += k;
        len -= k;
    }
    return RECITE_OK;
}

void rc_spool_iter_free(rc_spool_iter *it)
{
    free(it->buf);
    it->buf = NULL;
}

/*
 * build_sort.c — memory-bounded external sort of postings for the builder. Records collect in a
 * buffer of fixed capacity; a full buffer is radix-sorted and spilled as a run file; at the end
 * the runs are merged with a binary heap. Records arrive in increasing token position, and
 * both the radix sort and the merge are stable, so equal hashes come out by position.
 */
#include "rc_build.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

/* ==== in-memory radix sort ==== */

void rc_radix_sort(rc_posting_rec *a, rc_posting_rec *tmp, size_t n, size_t *counts)
{
    /* LSD on 16-bit digits of the top 48 bits: three passes at most; the histogram fits in
     * L2. */
    rc_posting_rec *src = a, *dst = tmp;
    for (unsigned shift = 16; shift < 64; shift += 16) {
        memset(counts, 0, 65536 * sizeof *counts);
        for (size_t i = 0; i < n; i++)
            counts[(src[i].hash >> shift) & 0xffff]++;
        if (n == 0 || counts[(src[0].hash >> shift) & 0xffff] == n)
            continue; /* one digit value only: this pass would not move anything */
        size_t sum = 0;
        for (size_t d = 0; d < 65536; d++) {
            size_t c = counts[d];
            counts[d] = sum;
            sum += c;
        }
        for (size_t i = 0; i < n; i++)
            dst[counts[(src[i].hash >> shift) & 0xffff]++] = src[i];
        rc_posting_rec *t = src;
        src = dst;
        dst = t;
    }
    if (src != a)
        memcpy(a, src, n * sizeof *a);
}

/* ==== collecting and spilling ==== */

int rc_sorter_init(rc_sorter *s, size_t mem_bytes, const char *dir, recite_error *err)
{
    memset(s, 0, sizeof *s);
    s->dir = dir;
    /* The records and the radix scratch share the budget. */
    s->cap = mem_bytes / (2 * sizeof(rc_posting_rec));
    if (s->cap < 4096)
        s->cap = 4096;
    s->buf = malloc(s->cap * sizeof *s->buf);
    s->tmp = malloc(s->cap * sizeof *s->tmp);
    /* No MADV_HUGEPAGE: where the kernel compacts memory to fault a huge page in (THP defrag
     * "madvise", the default), the first touch of these buffers cost 2-8x more than with small
     * pages, more than the TLB misses of the radix passes save (measured: bench/run.sh, the
     * 50 MB library, 1.95 vs 2.31 CPU-s for the whole build). */
    s->counts = malloc(65536 * sizeof *s->counts);
    if (!s->buf || !s->tmp || !s->counts) {
        rc_sorter_free(s);
        return rc_error_set(err, RECITE_ENOMEM, "out of memory allocating the sort buffer");
    }
    s->peak_bytes = 2 * s->cap * sizeof *s->buf;
    return RECITE_OK;
}

/* Gives the kernel back the pages of p[from, to) (no longer used; they read as zeros if ever
 * touched again). */
static void release(void *p, size_t from, size_t to)
{
    uintptr_t a = ((uintptr_t)p + from + 4095) & ~(uintptr_t)4095,
              e = ((uintptr_t)p + to) & ~(uintptr_t)4095;
    if (e > a)
        madvise((void *)a, e - a, MADV_DONTNEED);
}

static int spill(rc_sorter *s, recite_error *err);

int rc_sorter_limit(rc_sorter *s, size_t mem_bytes, recite_error *err)
{
    size_t cap = RC_MAX(mem_bytes / (2 * sizeof(rc_posting_rec)), (size_t)4096);
    if (cap >= s->cap || !s->buf)
        return RECITE_OK;
    if (s->n > cap) {
        int rc = spill(s, err);
        if (rc != RECITE_OK)
            return rc;
    }
    release(s->buf, cap * sizeof *s->buf, s->cap * sizeof *s->buf);
    release(s->tmp, cap * sizeof *s->tmp, s->cap * sizeof *s->tmp);
    s->cap = cap;
    return RECITE_OK;
}

static int spill(rc_sorter *s, recite_error *err)
{
    rc_radix_sort(s->buf, s->tmp, s->n, s->counts);
    char *path;
    if (asprintf(&path, "%s/run-%05llu.tmp", s->dir, (unsigned long long)s->nfiles++) < 0)
        return rc_error_set(err, RECITE_ENOMEM, "out of memory");
    if (RC_VEC_PUSH(s->runs, path) != RECITE_OK) {
        free(path);
        return rc_error_set(err, RECITE_ENOMEM, "out of memory");
    }
    FILE *f = fopen(path, "wbe");
    if (!f)
        return rc_error_errno(err, RECITE_EIO, errno, "%s: cannot create spill file", path);
    bool ok = fwrite(s->buf, sizeof *s->buf, s->n, f) == s->n;
    ok &= fclose(f) == 0;
    if (!ok)
        return rc_error_set(err, RECITE_EIO, "%s: cannot write spill file (disk full?)", path);
    if (RC_VEC_PUSH(s->run_lens, (uint64_t)s->n) != RECITE_OK)
        return rc_error_set(err, RECITE_ENOMEM, "out of memory");
    s->n = 0;
    return RECITE_OK;
}

int rc_sorter_add(rc_sorter *s, const rc_posting_rec *r, recite_error *err)
{
    if (s->n == s->cap) {
        int rc = spill(s, err);
        if (rc != RECITE_OK)
            return rc;
    }
    s->buf[s->n++] = *r;
    s->total++;
    return RECITE_OK;
}

/* ==== merging ==== */

/* Runs merged at once: more are merged in groups first (and written back as longer runs), so
 * that open files and read buffers stay bounded whatever the number of runs. */
#define FANIN 128
#define READ_MIN 256  /* records per read buffer (4 KiB) */
#define READ_MAX 4096 /* (64 KiB) */

typedef struct run_reader {
    int fd;
    uint64_t off;  /* in the file */
    uint64_t left; /* records not yet read from the file */
    rc_posting_rec *buf;
    size_t n, i;
} run_reader;

struct rc_merge {
    run_reader *readers;
    size_t nreaders;
    size_t *heap; /* reader numbers: a min-heap on (current hash, reader number) */
    size_t nheap;
    rc_posting_rec *bufs; /* the readers' buffers */
};

static int reader_fill(run_reader *r, size_t cap, recite_error *err)
{
    size_t want = (size_t)RC_MIN((uint64_t)cap, r->left), got = 0;
    uint8_t *p = (uint8_t *)r->buf;
    size_t bytes = want * sizeof *r->buf;
    while (got < bytes) {
        ssize_t k = pread(r->fd, p + got, bytes - got, (off_t)(r->off + got));
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return rc_error_errno(err, RECITE_EIO, k < 0 ? errno : EIO, "spill file read error");
        got += (size_t)k;
    }
    r->off += bytes;
    r->n = want;
    r->i = 0;
    r->left -= want;
    return RECITE_OK;
}

static bool heap_less(const struct rc_merge *m, size_t a, size_t b)
{
    const rc_posting_rec *x = &m->readers[a].buf[m->readers[a].i];
    const rc_posting_rec *y = &m->readers[b].buf[m->readers[b].i];
    if (RC_SORT_KEY(x->hash) != RC_SORT_KEY(y->hash))
        return RC_SORT_KEY(x->hash) < RC_SORT_KEY(y->hash);
    return a < b; /* earlier runs hold earlier positions: keeps the merge stable */
}

static void heap_down(struct rc_merge *m, size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, best = i;
        if (l < m->nheap && heap_less(m, m->heap[l], m->heap[best]))
            best = l;
        if (r < m->nheap && heap_less(m, m->heap[r], m->heap[best]))
            best = r;
        if (best == i)
            return;
        size_t t = m->heap[i];
        m->heap[i] = m->heap[best];
        m->heap[best] = t;
        i = best;
    }
}

static void merge_free(struct rc_merge *m)
{
    if (!m)
        return;
    for (size_t i = 0; i < m->nreaders; i++)
        if (m->readers[i].fd >= 0)
            close(m->readers[i].fd);
    free(m->readers);
    free(m->heap);
    free(m->bufs);
    free(m);
}

/* A merge of runs [first, first + count), each read `cap` records at a time. */
static int merge_open(rc_sorter *s, size_t first, size_t count, size_t cap, struct rc_merge **out,
                      recite_error *err)
{
    struct rc_merge *m = calloc(1, sizeof *m);
    *out = m;
    if (!m || !(m->readers = calloc(count, sizeof *m->readers)) ||
        !(m->heap = calloc(count, sizeof *m->heap)) ||
        !(m->bufs = malloc(count * cap * sizeof *m->bufs)))
        return rc_error_set(err, RECITE_ENOMEM, "out of memory");
    for (size_t i = 0; i < count; i++)
        m->readers[i].fd = -1;
    m->nreaders = count;
    for (size_t i = 0; i < count; i++) {
        run_reader *r = &m->readers[i];
        const char *path = s->runs.v[first + i];
        r->fd = open(path, O_RDONLY | O_CLOEXEC);
        if (r->fd < 0)
            return rc_error_errno(err, RECITE_EIO, errno, "%s: cannot reopen spill file", path);
        r->buf = m->bufs + i * cap;
        r->left = s->run_lens.v[first + i];
        int rc = reader_fill(r, cap, err);
        if (rc != RECITE_OK)
            return rc;
        if (r->n)
            m->heap[m->nheap++] = i;
    }
    for (size_t i = m->nheap; i-- > 0;)
        heap_down(m, i);
    return RECITE_OK;
}

static int merge_next(struct rc_merge *m, size_t cap, rc_posting_rec *out, recite_error *err)
{
    if (m->nheap == 0)
        return 0;
    run_reader *r = &m->readers[m->heap[0]];
    *out = r->buf[r->i++];
    if (r->i == r->n) {
        if (r->left) {
            int rc = reader_fill(r, cap, err);
            if (rc != RECITE_OK)
                return rc;
        }
        if (r->i == r->n) /* run exhausted */
            m->heap[0] = m->heap[--m->nheap];
    }
    if (m->nheap)
        heap_down(m, 0);
    return 1;
}

/* Records per read buffer when n runs are merged within the sort's memory. */
static size_t read_cap(const rc_sorter *s, size_t n)
{
    size_t cap = 2 * s->cap / (n ? n : 1); /* the records and the scratch, given back */
    return RC_MAX((size_t)READ_MIN, RC_MIN(cap, (size_t)READ_MAX));
}

/* Merges runs [first, first + count) into one new run, which takes their place. */
static int merge_group(rc_sorter *s, size_t first, size_t count, recite_error *err)
{
    size_t cap = read_cap(s, count + 1);
    struct rc_merge *m;
    int rc = merge_open(s, first, count, cap, &m, err);
    char *path = NULL;
    FILE *f = NULL;
    uint64_t n = 0;
    if (rc == RECITE_OK &&
        asprintf(&path, "%s/run-%05llu.tmp", s->dir, (unsigned long long)s->nfiles++) < 0) {
        path = NULL;
        rc = rc_error_set(err, RECITE_ENOMEM, "out of memory");
    }
    if (rc == RECITE_OK && !(f = fopen(path, "wbe")))
        rc = rc_error_errno(err, RECITE_EIO, errno, "%s: cannot create spill file", path);
    rc_posting_rec r;
    while (rc == RECITE_OK && (rc = merge_next(m, cap, &r, err)) == 1) {
        rc = fwrite(&r, sizeof r, 1, f) == 1
                 ? RECITE_OK
                 : rc_error_set(err, RECITE_EIO, "%s: cannot write spill file (disk full?)", path);
        n++;
    }
    if (f && fclose(f) != 0 && rc == RECITE_OK)
        rc = rc_error_set(err, RECITE_EIO, "%s: cannot write spill file (disk full?)", path);
    merge_free(m);
    if (rc != RECITE_OK) {
        if (path)
            unlink(path);
        free(path);
        return rc;
    }
    for (size_t i = first; i < first + count; i++) {
        unlink(s->runs.v[i]);
        free(s->runs.v[i]);
    }
    s->runs.v[first] = path;
    s->run_lens.v[first] = n;
    memmove(s->runs.v + first + 1, s->runs.v + first + count,
            (s->runs.n - first - count) * sizeof *s->runs.v);
    memmove(s->run_lens.v + first + 1, s->run_lens.v + first + count,
            (s->run_lens.n - first - count) * sizeof *s->run_lens.v);
    s->runs.n -= count - 1;
    s->run_lens.n -= count - 1;
    return RECITE_OK;
}

int rc_sorter_finish(rc_sorter *s, recite_error *err)
{
    int rc;
    if (s->runs.n == 0) {
        rc_radix_sort(s->buf, s->tmp, s->n, s->counts);
        s->next = 0;
        return RECITE_OK;
    }
    if (s->n && (rc = spill(s, err)) != RECITE_OK)
        return rc;
    s->spilled = s->runs.n;
    /* The in-memory buffers are no longer needed: give the memory back before merging. */
    free(s->buf);
    free(s->tmp);
    s->buf = s->tmp = NULL;
    /* Consecutive runs merged in groups (earlier runs hold earlier positions: order kept). */
    while (s->runs.n > FANIN)
        for (size_t first = 0; first + 1 < s->runs.n; first++)
            if ((rc = merge_group(s, first, RC_MIN((size_t)FANIN, s->runs.n - first), err)) !=
                RECITE_OK)
                return rc;
    s->read_cap = read_cap(s, s->runs.n);
    return merge_open(s, 0, s->runs.n, s->read_cap, &s->merge, err);
}

int rc_sorter_next(rc_sorter *s, rc_posting_rec *out, recite_error *err)
{
    if (!s->merge) {
        if (s->next >= s->n)
            return 0;
        *out = s->buf[s->next++];
        return 1;
    }
    return merge_next(s->merge, s->read_cap, out, err);
}

void rc_sorter_free(rc_sorter *s)
{
    merge_free(s->merge);
    free(s->buf);
    free(s->tmp);
    free(s->counts);
    for (size_t i = 0; i < s->runs.n; i++) {
        unlink(s->runs.v[i]);
        free(s->runs.v[i]);
    }
    RC_VEC_FREE(s->runs);
    RC_VEC_FREE(s->run_lens);
    memset(s, 0, sizeof *s);
}

void rc_sorter_release(rc_sorter *s)
{
    size_t spilled = s->spilled;
    uint64_t peak = s->peak_bytes, total = s->total;
    rc_sorter_free(s);
    s->spilled = spilled;
    s->peak_bytes = peak;
    s->total = total;
}

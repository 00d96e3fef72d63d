/*
 * locate.c — locators: where a byte offset of a work is in the original it was extracted from
 * (docs/FORMAT.md, sections LOC_INDEX, LOC_DATA, LINES): the page of a PDF, the chapter of an
 * EPUB, the member of an archive, and the line, counted from the lines before the offset's
 * text block plus the line breaks inside it (one block decompressed). The sections' sizes are
 * checked at open (constant time); a work's record and the table entries are checked, pages
 * and fields, when they are read.
 */
#include "rc_index.h"

#include <stdlib.h>

static int corrupt(recite_error *err, const char *path, const char *what)
{
    return rc_error_set(err, RECITE_EFORMAT, "%s: corrupt index (%s)", path, what);
}

static uint64_t rec_off(const recite_index *idx, uint64_t w)
{
    return rc_get_u64(idx->sec[RC_SEC_LOC_INDEX].data + 8 * w);
}

/* The length of work w's text; 0 when its record names no cluster (a damaged index). */
static uint64_t text_len_of(const recite_index *idx, uint32_t w)
{
    rc_cluster cl;
    if (rc_index_cluster_check(idx, rc_index_work_cluster(idx, w), &cl, NULL) != RECITE_OK)
        return 0;
    return cl.text_len;
}

/* At open, in constant time: the sections have the sizes the works and blocks ask for. A
 * work's record is checked when it is read (loc_record), like every record of the index. */
int rc_index_validate_locators(const recite_index *idx, const char *path, recite_error *err)
{
    const rc_section *ix = &idx->sec[RC_SEC_LOC_INDEX], *data = &idx->sec[RC_SEC_LOC_DATA];
    if (ix->len != (idx->nworks + 1) * 8 || rc_index_touch(idx, ix->data, 8, NULL) != RECITE_OK ||
        rc_index_touch(idx, ix->data + 8 * idx->nworks, 8, NULL) != RECITE_OK ||
        rec_off(idx, 0) != 0 || rec_off(idx, idx->nworks) != data->len)
        return corrupt(err, path, "locator index does not cover the locators");
    const rc_section *ln = &idx->sec[RC_SEC_LINES];
    if (idx->text_free)
        return ln->len == 0 ? RECITE_OK : corrupt(err, path, "line table in a text-free index");
    if (ln->len != idx->nblocks * 4)
        return corrupt(err, path, "line table does not cover the text blocks");
    return RECITE_OK;
}

static int loc_record(const recite_index *idx, uint32_t w, const uint8_t **r, uint32_t *np,
                      uint32_t *nc, uint64_t *member, recite_error *err);

int rc_index_verify_locators(const recite_index *idx, recite_error *err)
{
    for (uint64_t w = 0; w < idx->nworks; w++) {
        const uint8_t *r;
        uint32_t np, nc;
        uint64_t member;
        if (w % 16384 == 0)
            rc_index_release_pages(idx); /* read once: no need to stay resident */
        int rc = loc_record(idx, (uint32_t)w, &r, &np, &nc, &member, err);
        if (rc != RECITE_OK)
            return rc;
    }
    if (idx->text_free)
        return RECITE_OK;
    /* Lines: per text block, 0 at each text's first block, growing by at most its bytes. */
    const uint8_t *tb = idx->sec[RC_SEC_TEXT_BLOCKS].data, *ln = idx->sec[RC_SEC_LINES].data;
    uint64_t blk = 0;
    for (uint64_t c = 0; c < idx->nclusters; c++) {
        rc_cluster cl;
        if (c % 16384 == 0)
            rc_index_release_pages(idx);
        rc_index_cluster(idx, (uint32_t)c, &cl);
        uint64_t end = cl.text_offset + cl.text_len, prev = 0;
        if (blk >= idx->nblocks || rc_get_u64(tb + 16 * blk) != cl.text_offset ||
            rc_get_u32(ln + 4 * blk) != 0)
            return rc_error_set(err, RECITE_EFORMAT,
                                "corrupt index (line table does not match the texts)");
        for (; blk < idx->nblocks && rc_get_u64(tb + 16 * blk) < end; blk++) {
            uint64_t v = rc_get_u32(ln + 4 * blk);
            uint64_t bytes = blk ? rc_get_u64(tb + 16 * blk) - rc_get_u64(tb + 16 * (blk - 1)) : 0;
            if (v < prev || v - prev > bytes)
                return rc_error_set(err, RECITE_EFORMAT, "corrupt index (bad line table)");
            prev = v;
        }
    }
    return blk == idx->nblocks
               ? RECITE_OK
               : rc_error_set(err, RECITE_EFORMAT, "corrupt index (line table too long)");
}

/* Work w's locator record, its pages checked and its fields validated: *r NULL for a work
 * without one. RECITE_EFORMAT for a damaged record. */
static int loc_record(const recite_index *idx, uint32_t w, const uint8_t **r, uint32_t *np,
                      uint32_t *nc, uint64_t *member, recite_error *err)
{
    const rc_section *ix = &idx->sec[RC_SEC_LOC_INDEX], *data = &idx->sec[RC_SEC_LOC_DATA];
    uint64_t nstr = idx->sec[RC_SEC_STRINGS].len;
    *r = NULL;
    *np = *nc = 0;
    *member = 0;
    int rc = rc_index_touch(idx, ix->data + 8 * (uint64_t)w, 16, err);
    if (rc != RECITE_OK)
        return rc;
    uint64_t a = rec_off(idx, w), b = rec_off(idx, (uint64_t)w + 1);
    if (b < a || b > data->len)
        return rc_error_set(err, RECITE_EFORMAT, "corrupt index (locator index not monotonic)");
    if (a == b)
        return RECITE_OK;
    const uint8_t *p = data->data + a;
    if ((rc = rc_index_touch(idx, p, (size_t)(b - a), err)) != RECITE_OK)
        return rc;
    if (b - a < RC_LOC_HEAD_SIZE)
        return rc_error_set(err, RECITE_EFORMAT, "corrupt index (short locator record)");
    uint64_t pages = rc_get_u32(p), chapters = rc_get_u32(p + 4), m = rc_get_u64(p + 8);
    if (b - a != RC_LOC_HEAD_SIZE + 4 * pages + RC_LOC_CHAPTER_SIZE * chapters || m >= nstr)
        return rc_error_set(err, RECITE_EFORMAT, "corrupt index (bad locator record)");
    uint64_t len = text_len_of(idx, w), prev = 0;
    for (uint64_t i = 0; i < pages; i++) {
        uint64_t s = rc_get_u32(p + RC_LOC_HEAD_SIZE + 4 * i);
        if (s < prev || s > len || (i == 0 && s != 0))
            return rc_error_set(err, RECITE_EFORMAT, "corrupt index (bad page locator)");
        prev = s;
    }
    const uint8_t *c = p + RC_LOC_HEAD_SIZE + 4 * pages;
    prev = 0;
    for (uint64_t i = 0; i < chapters; i++, c += RC_LOC_CHAPTER_SIZE) {
        uint64_t s = rc_get_u32(c);
        if (s < prev || s > len || rc_get_u32(c + 4) != 0 || rc_get_u64(c + 8) >= nstr ||
            rc_get_u64(c + 16) >= nstr)
            return rc_error_set(err, RECITE_EFORMAT, "corrupt index (bad chapter locator)");
        prev = s;
    }
    *r = p;
    *np = (uint32_t)pages;
    *nc = (uint32_t)chapters;
    *member = m;
    return RECITE_OK;
}

/* The last entry of a sorted u32 table whose value is <= x (entries `stride` bytes apart). */
static uint64_t last_at_most(const uint8_t *t, uint64_t n, size_t stride, uint64_t x)
{
    uint64_t lo = 0, hi = n; /* answer in [lo, hi) */
    while (hi - lo > 1) {
        uint64_t mid = lo + (hi - lo) / 2;
        if (rc_get_u32(t + stride * mid) <= x)
            lo = mid;
        else
            hi = mid;
    }
    return lo;
}

int rc_index_loc_record(const recite_index *idx, uint32_t w, rc_loc_record *out, recite_error *err)
{
    memset(out, 0, sizeof *out);
    if (w >= idx->nworks)
        return rc_error_set(err, RECITE_EINVAL, "no work %u in the index", w);
    out->idx = idx;
    uint32_t s, lw;
    if (idx->nshards) {
        if (rc_shards_work(idx, w, &s, &lw) != RECITE_OK)
            return rc_error_set(err, RECITE_EFORMAT, "corrupt index (work map)");
        if (!idx->shards[s].idx)
            return rc_error_set(err, RECITE_EINVAL, "work %u is in shard %u, not open here", w, s);
        return rc_index_loc_record(idx->shards[s].idx, lw, out, err);
    }
    const uint8_t *r;
    uint64_t member;
    int rc = loc_record(idx, w, &r, &out->npages, &out->nchapters, &member, err);
    if (rc != RECITE_OK || !r)
        return rc;
    out->member = rc_index_string(idx, member);
    out->pages = r + RC_LOC_HEAD_SIZE;
    out->chapters = out->pages + 4 * (uint64_t)out->npages;
    return RECITE_OK;
}

/* The text block holding global text offset g (at a text's end: its last block, `last`);
 * its first byte's global offset in *start. */
static int block_at(const recite_index *idx, uint64_t g, bool last, uint64_t *blk, uint64_t *start,
                    recite_error *err)
{
    const uint8_t *tb = idx->sec[RC_SEC_TEXT_BLOCKS].data;
    uint64_t probe = last ? g - 1 : g, lo = 0, hi = idx->nblocks;
    int rc = RECITE_OK;
    while (hi - lo > 1 && rc == RECITE_OK) {
        uint64_t mid = lo + (hi - lo) / 2;
        rc = rc_index_touch(idx, tb + 16 * mid, 8, err);
        if (rc_get_u64(tb + 16 * mid) <= probe)
            lo = mid;
        else
            hi = mid;
    }
    if (rc != RECITE_OK || (rc = rc_index_touch(idx, tb + 16 * lo, 8, err)) != RECITE_OK)
        return rc;
    *blk = lo;
    *start = rc_get_u64(tb + 16 * lo);
    if (*start > g || g - *start > RC_TEXT_BLOCK_SIZE) /* the block table is checked where read */
        return rc_error_set(err, RECITE_EFORMAT, "corrupt index (text block table)");
    return RECITE_OK;
}

/* Lines of cluster text [0, a) and [0, b), a <= b, as 1-based line numbers: the count before
 * a's block plus the line breaks from there, one read for both when b is within a block's
 * length of that block's start (a match's first and last byte, mostly), else b's own. */
static int lines_of(const recite_index *idx, const rc_cluster *cl, uint64_t a, uint64_t b,
                    uint64_t *line_a, uint64_t *line_b, recite_error *err)
{
    uint64_t ga = cl->text_offset + a, gb = cl->text_offset + b, blk, start;
    int rc = block_at(idx, ga, a == cl->text_len, &blk, &start, err);
    const uint8_t *lines = idx->sec[RC_SEC_LINES].data + 4 * blk;
    if (rc != RECITE_OK || (rc = rc_index_touch(idx, lines, 4, err)) != RECITE_OK)
        return rc;
    uint64_t n = rc_get_u32(lines), before_a = 0, total = 0;
    bool both = gb - start <= RC_TEXT_BLOCK_SIZE; /* the read may run into the next block */
    uint64_t end = both ? gb : ga;
    if (end > start) {
        uint8_t buf[RC_TEXT_BLOCK_SIZE];
        rc_store_reader *r = rc_store_reader_get(idx); /* given back below whatever failed */
        rc = !r ? rc_error_set(err, RECITE_ENOMEM, "out of memory")
                : rc_store_read(r, start, end, buf, err);
        rc_store_reader_put(idx, r);
        if (rc != RECITE_OK)
            return rc;
        /* Line breaks by memchr (vectorized): a byte loop was a fifth of a report's time. */
        const uint8_t *p = buf, *pa = buf + (ga - start), *pe = buf + (end - start);
        for (; (p = memchr(p, '\n', (size_t)(pe - p))) != NULL; p++) {
            total++;
            before_a += p < pa;
        }
    }
    *line_a = n + before_a + 1;
    if (both) {
        *line_b = n + total + 1;
        return RECITE_OK;
    }
    return lines_of(idx, cl, b, b, line_b, line_b, err);
}

/* Pages, chapter and member of `offset` from work w's locator record r (NULL: none). */
static void locate_in_record(recite_locator *out, const recite_index *idx, const uint8_t *r,
                             uint32_t np, uint32_t nc, uint64_t member, uint64_t offset)
{
    if (!r)
        return;
    out->member = rc_index_string(idx, member);
    if (np) {
        out->pages = np;
        out->page = (uint32_t)last_at_most(r + RC_LOC_HEAD_SIZE, np, 4, offset) + 1;
    }
    const uint8_t *c = r + RC_LOC_HEAD_SIZE + 4 * (uint64_t)np;
    if (nc && rc_get_u32(c) <= offset) {
        uint64_t i = last_at_most(c, nc, RC_LOC_CHAPTER_SIZE, offset);
        out->chapter = (uint32_t)i + 1;
        out->chapter_title = rc_index_string(idx, rc_get_u64(c + RC_LOC_CHAPTER_SIZE * i + 8));
        out->chapter_name = rc_index_string(idx, rc_get_u64(c + RC_LOC_CHAPTER_SIZE * i + 16));
    }
}

int rc_index_locate_span(recite_locator *a, recite_locator *b, const recite_index *idx,
                         uint32_t work, uint64_t off_a, uint64_t off_b, recite_error *err)
{
    memset(a, 0, sizeof *a);
    memset(b, 0, sizeof *b);
    if (work >= idx->nworks)
        return rc_error_set(err, RECITE_EINVAL, "no work %u in the index", work);
    uint32_t s, lw;
    if (idx->nshards) {
        if (rc_shards_work(idx, work, &s, &lw) != RECITE_OK)
            return rc_error_set(err, RECITE_EFORMAT, "corrupt index (work map)");
        if (idx->shards[s].idx)
            return rc_index_locate_span(a, b, idx->shards[s].idx, lw, off_a, off_b, err);
        /* Open elsewhere: the locators a distributed check brought. */
        if (!rc_remote_locate(idx, work, off_a, a) || !rc_remote_locate(idx, work, off_b, b))
            return rc_error_set(err, RECITE_EINVAL, "work %u is in shard %u, not open here", work,
                                s);
        return RECITE_OK;
    }
    rc_cluster cl;
    int rc = rc_index_cluster_check(idx, rc_index_work_cluster(idx, work), &cl, err);
    if (rc != RECITE_OK)
        return rc;
    off_a = RC_MIN(off_a, cl.text_len);
    off_b = RC_MIN(off_b, cl.text_len);
    const uint8_t *r;
    uint32_t np, nc;
    uint64_t member;
    if ((rc = loc_record(idx, work, &r, &np, &nc, &member, err)) != RECITE_OK)
        return rc;
    locate_in_record(a, idx, r, np, nc, member, off_a);
    locate_in_record(b, idx, r, np, nc, member, off_b);
    if (idx->text_free)
        return RECITE_OK;
    return off_a <= off_b ? lines_of(idx, &cl, off_a, off_b, &a->line, &b->line, err)
                          : lines_of(idx, &cl, off_b, off_a, &b->line, &a->line, err);
}

int recite_index_locate(recite_locator *out, const recite_index *idx, uint32_t work,
                        uint64_t offset, recite_error *err)
{
    recite_locator same;
    return rc_index_locate_span(out, &same, idx, work, offset, offset, err);
}

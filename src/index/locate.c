/*
 * locate.c — locators: where a byte offset of a work is in the original it was extracted from
 * (docs/FORMAT.md, sections LOC_INDEX, LOC_DATA, LINES): the page of a PDF, the chapter of an
 * EPUB, the member of an archive, and the line, counted from the lines before the offset's
 * text block plus the line breaks inside it (one block decompressed). Validation of the
 * sections at open is here too, so that lookups need no bounds checks.
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

static uint64_t text_len_of(const recite_index *idx, uint32_t w)
{
    rc_cluster cl;
    rc_index_cluster(idx, rc_index_work_cluster(idx, w), &cl);
    return cl.text_len;
}

int rc_index_validate_locators(const recite_index *idx, const char *path, recite_error *err)
{
    const rc_section *ix = &idx->sec[RC_SEC_LOC_INDEX], *data = &idx->sec[RC_SEC_LOC_DATA];
    uint64_t nstr = idx->sec[RC_SEC_STRINGS].len;
    if (ix->len != (idx->nworks + 1) * 8 || rec_off(idx, 0) != 0 ||
        rec_off(idx, idx->nworks) != data->len)
        return corrupt(err, path, "locator index does not cover the locators");
    for (uint64_t w = 0; w < idx->nworks; w++) {
        uint64_t a = rec_off(idx, w), b = rec_off(idx, w + 1);
        if (b < a || b > data->len)
            return corrupt(err, path, "locator index not monotonic");
        if (a == b)
            continue;
        const uint8_t *r = data->data + a;
        if (b - a < RC_LOC_HEAD_SIZE)
            return corrupt(err, path, "short locator record");
        uint64_t np = rc_get_u32(r), nc = rc_get_u32(r + 4), member = rc_get_u64(r + 8);
        if (b - a != RC_LOC_HEAD_SIZE + 4 * np + RC_LOC_CHAPTER_SIZE * nc || member >= nstr)
            return corrupt(err, path, "bad locator record");
        uint64_t len = text_len_of(idx, (uint32_t)w), prev = 0;
        for (uint64_t i = 0; i < np; i++) {
            uint64_t s = rc_get_u32(r + RC_LOC_HEAD_SIZE + 4 * i);
            if (s < prev || s > len || (i == 0 && s != 0))
                return corrupt(err, path, "bad page locator");
            prev = s;
        }
        const uint8_t *c = r + RC_LOC_HEAD_SIZE + 4 * np;
        prev = 0;
        for (uint64_t i = 0; i < nc; i++, c += RC_LOC_CHAPTER_SIZE) {
            uint64_t s = rc_get_u32(c);
            if (s < prev || s > len || rc_get_u32(c + 4) != 0 || rc_get_u64(c + 8) >= nstr ||
                rc_get_u64(c + 16) >= nstr)
                return corrupt(err, path, "bad chapter locator");
            prev = s;
        }
    }
    /* Lines: per text block, 0 at each text's first block, growing by at most its bytes. */
    const rc_section *ln = &idx->sec[RC_SEC_LINES];
    if (idx->text_free)
        return ln->len == 0 ? RECITE_OK : corrupt(err, path, "line table in a text-free index");
    if (ln->len != idx->nblocks * 4)
        return corrupt(err, path, "line table does not cover the text blocks");
    const uint8_t *tb = idx->sec[RC_SEC_TEXT_BLOCKS].data;
    uint64_t blk = 0;
    for (uint64_t c = 0; c < idx->nclusters; c++) {
        rc_cluster cl;
        rc_index_cluster(idx, (uint32_t)c, &cl);
        uint64_t end = cl.text_offset + cl.text_len, prev = 0;
        if (blk >= idx->nblocks || rc_get_u64(tb + 16 * blk) != cl.text_offset ||
            rc_get_u32(ln->data + 4 * blk) != 0)
            return corrupt(err, path, "line table does not match the texts");
        for (; blk < idx->nblocks && rc_get_u64(tb + 16 * blk) < end; blk++) {
            uint64_t v = rc_get_u32(ln->data + 4 * blk);
            uint64_t bytes = blk ? rc_get_u64(tb + 16 * blk) - rc_get_u64(tb + 16 * (blk - 1)) : 0;
            if (v < prev || v - prev > bytes)
                return corrupt(err, path, "bad line table");
            prev = v;
        }
    }
    return blk == idx->nblocks ? RECITE_OK : corrupt(err, path, "line table too long");
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

static const char *string_at(const recite_index *idx, uint64_t off)
{
    return off ? (const char *)idx->sec[RC_SEC_STRINGS].data + off : NULL;
}

const char *rc_index_string(const recite_index *idx, uint64_t off)
{
    return string_at(idx, off);
}

void rc_index_loc_record(const recite_index *idx, uint32_t w, rc_loc_record *out)
{
    memset(out, 0, sizeof *out);
    uint64_t a = rec_off(idx, w), b = rec_off(idx, (uint64_t)w + 1);
    if (w >= idx->nworks || b <= a)
        return;
    const uint8_t *r = idx->sec[RC_SEC_LOC_DATA].data + a;
    out->npages = rc_get_u32(r);
    out->nchapters = rc_get_u32(r + 4);
    out->member = string_at(idx, rc_get_u64(r + 8));
    out->pages = r + RC_LOC_HEAD_SIZE;
    out->chapters = out->pages + 4 * (uint64_t)out->npages;
}

/* Lines of cluster text [0, offset): the count before offset's block plus its line breaks. */
static int line_of(const recite_index *idx, const rc_cluster *cl, uint64_t offset, uint64_t *line,
                   recite_error *err)
{
    const uint8_t *tb = idx->sec[RC_SEC_TEXT_BLOCKS].data;
    uint64_t g = cl->text_offset + offset;
    /* The block holding the offset (at the end of the text: its last block). */
    uint64_t probe = offset == cl->text_len ? g - 1 : g, lo = 0, hi = idx->nblocks;
    while (hi - lo > 1) {
        uint64_t mid = lo + (hi - lo) / 2;
        if (rc_get_u64(tb + 16 * mid) <= probe)
            lo = mid;
        else
            hi = mid;
    }
    uint64_t start = rc_get_u64(tb + 16 * lo);
    uint64_t n = rc_get_u32(idx->sec[RC_SEC_LINES].data + 4 * lo);
    if (g > start) {
        rc_store_reader *r = malloc(sizeof *r);
        uint8_t *buf = malloc((size_t)(g - start));
        int rc = !r || !buf ? rc_error_set(err, RECITE_ENOMEM, "out of memory")
                 : rc_store_reader_init(r, idx) != RECITE_OK
                     ? rc_error_set(err, RECITE_ENOMEM, "out of memory")
                     : rc_store_read(r, start, g, buf, err);
        if (rc == RECITE_OK)
            for (uint64_t i = 0; i < g - start; i++)
                n += buf[i] == '\n';
        if (r && r->dctx)
            rc_store_reader_free(r);
        free(r);
        free(buf);
        if (rc != RECITE_OK)
            return rc;
    }
    *line = n + 1;
    return RECITE_OK;
}

int recite_index_locate(recite_locator *out, const recite_index *idx, uint32_t work,
                        uint64_t offset, recite_error *err)
{
    memset(out, 0, sizeof *out);
    if (work >= idx->nworks)
        return rc_error_set(err, RECITE_EINVAL, "no work %u in the index", work);
    rc_cluster cl;
    rc_index_cluster(idx, rc_index_work_cluster(idx, work), &cl);
    if (offset > cl.text_len)
        offset = cl.text_len;
    uint64_t a = rec_off(idx, work), b = rec_off(idx, (uint64_t)work + 1);
    if (b > a) {
        const uint8_t *r = idx->sec[RC_SEC_LOC_DATA].data + a;
        uint32_t np = rc_get_u32(r), nc = rc_get_u32(r + 4);
        out->member = string_at(idx, rc_get_u64(r + 8));
        if (np) {
            out->pages = np;
            out->page = (uint32_t)last_at_most(r + RC_LOC_HEAD_SIZE, np, 4, offset) + 1;
        }
        const uint8_t *c = r + RC_LOC_HEAD_SIZE + 4 * (uint64_t)np;
        if (nc && rc_get_u32(c) <= offset) {
            uint64_t i = last_at_most(c, nc, RC_LOC_CHAPTER_SIZE, offset);
            out->chapter = (uint32_t)i + 1;
            out->chapter_title = string_at(idx, rc_get_u64(c + RC_LOC_CHAPTER_SIZE * i + 8));
            out->chapter_name = string_at(idx, rc_get_u64(c + RC_LOC_CHAPTER_SIZE * i + 16));
        }
    }
    if (idx->text_free)
        return RECITE_OK;
    return line_of(idx, &cl, offset, &out->line, err);
}

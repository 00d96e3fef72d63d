/*
 * build_locators.c — the builder's side of locators (docs/FORMAT.md, LOC_INDEX, LOC_DATA,
 * LINES): as works are committed, each one's pages (PDF), chapters (EPUB) and member path
 * (archives) become a record, and each new text's line counts per block join the line table;
 * index_write.c then writes the three sections. src/index/locate.c reads them.
 */
#include "rc_builder.h"

static int put_bytes(rc_builder *b, const uint8_t *p, size_t n)
{
    if (RC_VEC_RESERVE(b->loc_data, b->loc_data.n + n) != RECITE_OK)
        return RECITE_ENOMEM;
    memcpy(b->loc_data.v + b->loc_data.n, p, n);
    b->loc_data.n += n;
    return RECITE_OK;
}

int rc_builder_add_locators(rc_builder *b, const rc_work_out *w, bool new_cluster)
{
    if (b->loc_index.n == 0 && RC_VEC_PUSH(b->loc_index, 0) != RECITE_OK)
        return RECITE_ENOMEM;
    if (new_cluster && !w->text_free) {
        if (RC_VEC_RESERVE(b->lines, b->lines.n + w->block_lines.n) != RECITE_OK)
            return RECITE_ENOMEM;
        memcpy(b->lines.v + b->lines.n, w->block_lines.v,
               w->block_lines.n * sizeof *w->block_lines.v);
        b->lines.n += w->block_lines.n;
    }
    if (w->pages.n || w->chapters.n || w->member) {
        if (w->pages.n > UINT32_MAX || w->chapters.n > UINT32_MAX)
            return RECITE_ELIMIT;
        uint8_t head[RC_LOC_HEAD_SIZE];
        uint64_t member;
        if (rc_builder_add_string(b, w->member, &member) != RECITE_OK)
            return RECITE_ENOMEM;
        rc_put_u32(head, (uint32_t)w->pages.n);
        rc_put_u32(head + 4, (uint32_t)w->chapters.n);
        rc_put_u64(head + 8, member);
        if (put_bytes(b, head, sizeof head) != RECITE_OK)
            return RECITE_ENOMEM;
        for (size_t i = 0; i < w->pages.n; i++) {
            uint8_t v[4];
            rc_put_u32(v, w->pages.v[i]);
            if (put_bytes(b, v, 4) != RECITE_OK)
                return RECITE_ENOMEM;
        }
        for (size_t i = 0; i < w->chapters.n; i++) {
            uint8_t c[RC_LOC_CHAPTER_SIZE];
            uint64_t title, name;
            if (rc_builder_add_string(b, w->chapters.v[i].title, &title) != RECITE_OK ||
                rc_builder_add_string(b, w->chapters.v[i].name, &name) != RECITE_OK)
                return RECITE_ENOMEM;
            rc_put_u32(c, w->chapters.v[i].start);
            rc_put_u32(c + 4, 0);
            rc_put_u64(c + 8, title);
            rc_put_u64(c + 16, name);
            if (put_bytes(b, c, sizeof c) != RECITE_OK)
                return RECITE_ENOMEM;
        }
    }
    return RC_VEC_PUSH(b->loc_index, (uint64_t)b->loc_data.n);
}

int rc_builder_write_locators(rc_builder *b, rc_secw *w, rc_section_entry *sec, size_t *nsec,
                              uint64_t *off, recite_error *err)
{
    *off = rc_align_up(*off);
    rc_secw_begin(w, b->fd, *off);
    if (b->loc_index.n == 0)
        rc_secw_u64(w, 0);
    for (size_t i = 0; i < b->loc_index.n; i++)
        rc_secw_u64(w, b->loc_index.v[i]);
    sec[(*nsec)++] = rc_secw_end(w, RC_SEC_LOC_INDEX);
    *off = rc_align_up(w->off);

    rc_secw_begin(w, b->fd, *off);
    rc_secw_write(w, b->loc_data.v, b->loc_data.n);
    sec[(*nsec)++] = rc_secw_end(w, RC_SEC_LOC_DATA);
    *off = rc_align_up(w->off);

    rc_secw_begin(w, b->fd, *off);
    for (size_t i = 0; i < b->lines.n; i++)
        rc_secw_u32(w, b->lines.v[i]);
    sec[(*nsec)++] = rc_secw_end(w, RC_SEC_LINES);
    *off = rc_align_up(w->off);
    if (w->errnum)
        return rc_error_errno(err, RECITE_EIO, w->errnum, "%s: write failed", b->idx_path);
    return RECITE_OK;
}

void rc_builder_free_locators(rc_builder *b)
{
    RC_VEC_FREE(b->loc_index);
    RC_VEC_FREE(b->loc_data);
    RC_VEC_FREE(b->lines);
}

/*
 * build_locators.c — the builder's side of locators (docs/FORMAT.md, LOC_INDEX, LOC_DATA,
 * LINES): as works are committed, each one's pages (PDF), chapters (EPUB) and member path
 * (archives) become a record, and each new text's line counts per block join the line table;
 * index_write.c then writes the three sections. src/index/locate.c reads them.
 */
#include "rc_builder.h"

static int put_u64(rc_spool *s, uint64_t v, recite_error *err)
{
    uint8_t b[8];
    rc_put_u64(b, v);
    return rc_spool_append(s, b, sizeof b, err);
}

static int add_record(rc_builder *b, const rc_work_out *w, recite_error *err)
{
    const char *id = w->strs[RC_WS_ID];
    if (w->pages.n > UINT32_MAX || w->chapters.n > UINT32_MAX)
        return rc_error_set(err, RECITE_ELIMIT, "%s: too many pages or chapters", id);
    uint8_t head[RC_LOC_HEAD_SIZE];
    uint64_t member;
    int rc = rc_builder_add_string(b, w->member, &member, err);
    if (rc != RECITE_OK)
        return rc;
    rc_put_u32(head, (uint32_t)w->pages.n);
    rc_put_u32(head + 4, (uint32_t)w->chapters.n);
    rc_put_u64(head + 8, member);
    if ((rc = rc_spool_append(&b->loc_data, head, sizeof head, err)) != RECITE_OK)
        return rc;
    for (size_t i = 0; i < w->pages.n; i++) {
        uint8_t v[4];
        rc_put_u32(v, w->pages.v[i]);
        if ((rc = rc_spool_append(&b->loc_data, v, 4, err)) != RECITE_OK)
            return rc;
    }
    for (size_t i = 0; i < w->chapters.n; i++) {
        uint8_t c[RC_LOC_CHAPTER_SIZE];
        uint64_t title, name;
        if ((rc = rc_builder_add_string(b, w->chapters.v[i].title, &title, err)) != RECITE_OK ||
            (rc = rc_builder_add_string(b, w->chapters.v[i].name, &name, err)) != RECITE_OK)
            return rc;
        rc_put_u32(c, w->chapters.v[i].start);
        rc_put_u32(c + 4, 0);
        rc_put_u64(c + 8, title);
        rc_put_u64(c + 16, name);
        if ((rc = rc_spool_append(&b->loc_data, c, sizeof c, err)) != RECITE_OK)
            return rc;
    }
    return RECITE_OK;
}

int rc_builder_add_locators(rc_builder *b, const rc_work_out *w, bool new_cluster,
                            recite_error *err)
{
    int rc;
    if (rc_spool_size(&b->loc_index) == 0 && (rc = put_u64(&b->loc_index, 0, err)) != RECITE_OK)
        return rc;
    if (new_cluster && !w->text_free) {
        for (size_t i = 0; i < w->block_lines.n; i++) {
            uint8_t v[4];
            rc_put_u32(v, w->block_lines.v[i]);
            if ((rc = rc_spool_append(&b->lines, v, 4, err)) != RECITE_OK)
                return rc;
        }
    }
    if ((w->pages.n || w->chapters.n || w->member) && (rc = add_record(b, w, err)) != RECITE_OK)
        return rc;
    return put_u64(&b->loc_index, rc_spool_size(&b->loc_data), err);
}

int rc_builder_write_locators(rc_builder *b, rc_secw *w, rc_section_entry *sec, size_t *nsec,
                              uint64_t *off, recite_error *err)
{
    *off = rc_align_up(*off);
    rc_secw_begin(w, b->fd, *off);
    if (rc_spool_size(&b->loc_index) == 0)
        rc_secw_u64(w, 0);
    int rc = rc_spool_copy(&b->loc_index, w, err);
    if (rc != RECITE_OK)
        return rc;
    sec[(*nsec)++] = rc_secw_end(w, RC_SEC_LOC_INDEX);
    *off = rc_align_up(w->off);

    rc_secw_begin(w, b->fd, *off);
    if ((rc = rc_spool_copy(&b->loc_data, w, err)) != RECITE_OK)
        return rc;
    sec[(*nsec)++] = rc_secw_end(w, RC_SEC_LOC_DATA);
    *off = rc_align_up(w->off);

    rc_secw_begin(w, b->fd, *off);
    if ((rc = rc_spool_copy(&b->lines, w, err)) != RECITE_OK)
        return rc;
    sec[(*nsec)++] = rc_secw_end(w, RC_SEC_LINES);
    *off = rc_align_up(w->off);
    if (w->errnum)
        return rc_error_errno(err, RECITE_EIO, w->errnum, "%s: write failed", b->idx_path);
    return RECITE_OK;
}

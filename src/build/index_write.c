/*
 * index_write.c — writes the sections of recite.idx (docs/FORMAT.md) after the text blocks the
 * commit streamed: the compression dictionary, the cluster, work, member, string and
 * checkpoint tables, the postings of each channel as they come out of the external sort (with
 * each fingerprint's document frequency over families), the channel table, and the header with
 * the section table and checksums.
 */
#include "rc_builder.h"

#include <errno.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

/* ==== section writer ==== */

/* A write error stays (errnum is never cleared): the index is checked for one only after
 * several sections, and a transient error in an earlier one must not be forgotten. */
void rc_secw_begin(rc_secw *w, int fd, uint64_t start)
{
    w->fd = fd;
    w->start = w->off = start;
    w->n = 0;
    XXH3_64bits_reset(w->xs);
}

static void rc_secw_flush(rc_secw *w)
{
    /* The section's checksum over the buffer, not over each write: the postings are written 4
     * bytes at a time, and a streaming update costs as much for 4 bytes as for 4 KiB (the same
     * digest whatever the pieces). */
    XXH3_64bits_update(w->xs, w->buf, w->n);
    size_t done = 0;
    while (done < w->n && !w->errnum) {
        ssize_t r = pwrite(w->fd, w->buf + done, w->n - done, (off_t)w->off);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            w->errnum = r < 0 ? errno : EIO;
            break;
        }
        done += (size_t)r;
        w->off += (uint64_t)r;
    }
    w->n = 0;
}

void rc_secw_write(rc_secw *w, const void *data, size_t len)
{
    if (len == 0) /* data may be NULL then */
        return;
    if (len < sizeof w->buf - w->n) { /* room to spare: most writes are of a record */
        memcpy(w->buf + w->n, data, len);
        w->n += len;
        return;
    }
    const uint8_t *p = data;
    while (len) {
        size_t k = RC_MIN(len, sizeof w->buf - w->n);
        memcpy(w->buf + w->n, p, k);
        w->n += k;
        p += k;
        len -= k;
        if (w->n == sizeof w->buf)
            rc_secw_flush(w);
    }
}

void rc_secw_u32(rc_secw *w, uint32_t v)
{
    uint8_t b[4];
    rc_put_u32(b, v);
    rc_secw_write(w, b, 4);
}

void rc_secw_u64(rc_secw *w, uint64_t v)
{
    uint8_t b[8];
    rc_put_u64(b, v);
    rc_secw_write(w, b, 8);
}

rc_section_entry rc_secw_end(rc_secw *w, uint32_t id)
{
    rc_secw_flush(w);
    return (rc_section_entry){id, w->start, w->off - w->start, XXH3_64bits_digest(w->xs)};
}

uint64_t rc_align_up(uint64_t x)
{
    return (x + RC_SECTION_ALIGN - 1) & ~(uint64_t)(RC_SECTION_ALIGN - 1);
}

/* ==== sections ==== */

void rc_header_finish(uint8_t *h, const rc_section_entry *sec, size_t nsec)
{
    for (size_t i = 0; i < nsec; i++) {
        uint8_t *e = h + RC_SECTIONS_OFFSET + i * RC_SECTION_ENTRY_SIZE;
        rc_put_u32(e, sec[i].id);
        rc_put_u64(e + 8, sec[i].offset);
        rc_put_u64(e + 16, sec[i].length);
        rc_put_u64(e + 24, sec[i].checksum);
    }
    rc_put_u64(h + RC_H_CHECKSUM, XXH3_64bits(h, RC_DATA_OFFSET));
}

int rc_spool_copy(const rc_spool *s, rc_secw *w, recite_error *err)
{
    rc_spool_iter it;
    int rc = rc_spool_iter_init(&it, s, err);
    const uint8_t *p;
    size_t n;
    while (rc == RECITE_OK && (rc = rc_spool_iter_next(&it, &p, &n, err)) == RECITE_OK && n)
        rc_secw_write(w, p, n);
    rc_spool_iter_free(&it);
    return rc;
}

static int write_works(rc_builder *b, rc_secw *w, rc_section_entry *sec, size_t *nsec,
                       uint64_t *off, recite_error *err)
{
    rc_spool_iter it;
    int rc = rc_spool_iter_init(&it, &b->works, err);
    rc_secw_begin(w, b->fd, *off);
    for (uint64_t i = 0; i < b->nworks && rc == RECITE_OK; i++) {
        rc_work_rec wr;
        if ((rc = rc_spool_iter_read(&it, &wr, sizeof wr, err)) != RECITE_OK)
            break;
        for (unsigned f = 0; f < RC_WS_COUNT_; f++)
            rc_secw_u64(w, wr.str[f]);
        rc_secw_u32(w, wr.cluster);
        rc_secw_u32(w, 0);
    }
    rc_spool_iter_free(&it);
    if (rc != RECITE_OK)
        return rc;
    sec[(*nsec)++] = rc_secw_end(w, RC_SEC_WORKS);
    *off = rc_align_up(w->off);
    return RECITE_OK;
}

static int write_views(rc_builder *b, rc_secw *w, rc_section_entry *sec, size_t *nsec,
                       uint64_t *off, recite_error *err)
{
    rc_spool_iter it;
    int rc = rc_spool_iter_init(&it, &b->views, err);
    rc_secw_begin(w, b->fd, *off);
    for (uint64_t v = 0; v < b->nviews && rc == RECITE_OK; v++) {
        rc_view_rec vr;
        if ((rc = rc_spool_iter_read(&it, &vr, sizeof vr, err)) != RECITE_OK)
            break;
        rc_secw_u32(w, vr.cluster);
        rc_secw_u32(w, 0);
        rc_secw_u64(w, vr.text_offset);
        rc_secw_u64(w, vr.token_base);
        rc_secw_u64(w, vr.ntokens);
        rc_secw_u64(w, vr.checkpoint0);
    }
    rc_spool_iter_free(&it);
    if (rc != RECITE_OK)
        return rc;
    sec[(*nsec)++] = rc_secw_end(w, RC_SEC_VIEWS);
    *off = rc_align_up(w->off);
    return RECITE_OK;
}

static int cmp_dup(const void *a, const void *b)
{
    const rc_dup *x = a, *y = b;
    if (x->cluster != y->cluster)
        return x->cluster < y->cluster ? -1 : 1;
    return (x->work > y->work) - (x->work < y->work);
}

/* CLUSTERS, with their members counted and their families; then MEMBERS: a cluster's first
 * work (the one that made it), then the works that joined it, in work order. b->dups is
 * sorted by cluster here. */
static int write_clusters(rc_builder *b, rc_secw *w, rc_section_entry *sec, size_t *nsec,
                          uint64_t *off, recite_error *err)
{
    rc_sort(b->dups.v, b->dups.n, sizeof *b->dups.v, cmp_dup);
    for (int pass = 0; pass < 2; pass++) {
        rc_spool_iter it;
        int rc = rc_spool_iter_init(&it, &b->clusters, err);
        uint32_t member0 = 0;
        size_t d = 0;
        *off = rc_align_up(*off);
        rc_secw_begin(w, b->fd, *off);
        for (uint64_t c = 0; c < b->nclusters && rc == RECITE_OK; c++) {
            rc_cluster_rec cr;
            if ((rc = rc_spool_iter_read(&it, &cr, sizeof cr, err)) != RECITE_OK)
                break;
            size_t d0 = d;
            while (d < b->dups.n && b->dups.v[d].cluster == c)
                d++;
            if (pass == 1) {
                rc_secw_u32(w, cr.member0);
                for (size_t k = d0; k < d; k++)
                    rc_secw_u32(w, b->dups.v[k].work);
                continue;
            }
            uint32_t nmembers = (uint32_t)(1 + d - d0);
            rc_secw_u64(w, cr.text_offset);
            rc_secw_u64(w, cr.text_len);
            rc_secw_u64(w, cr.token_base);
            rc_secw_u64(w, cr.ntokens);
            rc_secw_u64(w, cr.checkpoint0);
            rc_secw_u32(w, member0);
            rc_secw_u32(w, nmembers);
            rc_secw_u32(w, rc_mode_to_disk((int)cr.mode));
            rc_secw_u32(w, b->family[c]);
            member0 += nmembers;
        }
        rc_spool_iter_free(&it);
        if (rc != RECITE_OK)
            return rc;
        sec[(*nsec)++] = rc_secw_end(w, pass == 0 ? RC_SEC_CLUSTERS : RC_SEC_MEMBERS);
        *off = rc_align_up(w->off);
        if (pass == 0 && ((rc = write_views(b, w, sec, nsec, off, err)) != RECITE_OK ||
                          (rc = write_works(b, w, sec, nsec, off, err)) != RECITE_OK))
            return rc;
    }
    return RECITE_OK;
}
/* A section that is a spool's bytes (and `tail`, tail_len bytes, after them). */
static int write_spooled(rc_builder *b, rc_secw *w, const rc_spool *s, const void *tail,
                         size_t tail_len, uint32_t id, rc_section_entry *sec, size_t *nsec,
                         uint64_t *off, recite_error *err)
{
    *off = rc_align_up(*off);
    rc_secw_begin(w, b->fd, *off);
    int rc = rc_spool_copy(s, w, err);
    if (rc != RECITE_OK)
        return rc;
    if (tail_len)
        rc_secw_write(w, tail, tail_len);
    sec[(*nsec)++] = rc_secw_end(w, id);
    *off = rc_align_up(w->off);
    return RECITE_OK;
}

static int write_tables(rc_builder *b, rc_secw *w, rc_section_entry *sec, size_t *nsec,
                        uint64_t *off, recite_error *err)
{
    uint8_t cmi_end[8];
    rc_put_u64(cmi_end, rc_spool_size(&b->cmi_data));
    int rc = write_spooled(b, w, &b->block_table, NULL, 0, RC_SEC_TEXT_BLOCKS, sec, nsec, off, err);
    if (rc == RECITE_OK)
        rc = write_clusters(b, w, sec, nsec, off, err); /* and WORKS, MEMBERS */
    if (rc == RECITE_OK)
        rc = write_spooled(b, w, &b->strings, NULL, 0, RC_SEC_STRINGS, sec, nsec, off, err);
    if (rc == RECITE_OK)
        rc = write_spooled(b, w, &b->checkpoints, NULL, 0, RC_SEC_CHECKPOINTS, sec, nsec, off, err);
    if (rc == RECITE_OK)
        rc = write_spooled(b, w, &b->cmi_dir, cmi_end, sizeof cmi_end, RC_SEC_CMI_DIR, sec, nsec,
                           off, err);
    if (rc == RECITE_OK)
        rc = write_spooled(b, w, &b->cmi_data, NULL, 0, RC_SEC_CMI_DATA, sec, nsec, off, err);
    if (rc != RECITE_OK)
        return rc;
    if (w->errnum)
        return rc_error_errno(err, RECITE_EIO, w->errnum, "%s: write failed", b->idx_path);
    return RECITE_OK;
}

/* The fingerprint in a sort record: its top 46 bits (the low bits are not kept). */
static uint64_t rec_fingerprint(const rc_posting_rec *r)
{
    return ((r->hash >> 16) & (((uint64_t)1 << 46) - 1)) << 18;
}

static unsigned rec_channel(const rc_posting_rec *r)
{
    return (unsigned)(r->hash >> 62);
}

/* The three posting sections of one channel, written while its postings stream by. */
typedef struct channel_out {
    unsigned bits, key_bits; /* of the directory; of the keys (more in a shard: xb) */
    uint8_t *xb;             /* per posting, the bits between (RC_SEC_POST_XBITS); or NULL */
    uint64_t nx;
    uint64_t n, nb;
    uint32_t *dir;
    uint64_t dir_off, key_off, pos_off;
} channel_out;

/* Writes a group of postings with one fingerprint, now that its document frequency (the
 * number of distinct texts, clusters increasing with the position) is known. */
static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

/* Distinct families among the clusters of a group of postings, left in scratch (room for n). */
static uint64_t distinct_families(const rc_builder *b, const rc_posting_rec *g, size_t n,
                                  uint32_t *scratch)
{
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (i == 0 || g[i].cluster != g[i - 1].cluster)
            scratch[m++] = (b->family_key ? b->family_key : b->family)[g[i].cluster];
    rc_sort(scratch, m, sizeof *scratch, cmp_u32);
    uint64_t distinct = m ? 1 : 0;
    for (size_t i = 1; i < m; i++)
        if (scratch[i] != scratch[i - 1])
            scratch[distinct++] = scratch[i];
    return distinct;
}

/* Writes a group; a shard of a sharded build also records it, with its families, for the
 * document frequency over the whole library (rc_shard_df_patch). */
static int write_group(const rc_builder *b, channel_out *co, rc_secw *key_w, rc_secw *pos_w,
                       const rc_posting_rec *g, size_t n, uint32_t *scratch, recite_error *err)
{
    uint64_t families = distinct_families(b, g, n, scratch);
    unsigned df = rc_df_class(families, b->common_texts);
    int rc;
    if (b->shard && (rc = rc_shard_df_group(b->shard, RC_SORT_KEY(g[0].hash), n, scratch,
                                            (size_t)families, err)) != RECITE_OK)
        return rc;
    for (size_t i = 0; i < n; i++) {
        uint64_t fp = rec_fingerprint(&g[i]);
        co->dir[(co->bits ? fp >> (64 - co->bits) : 0) + 1]++;
        unsigned ctx = (unsigned)(g[i].hash & 0xffff);
        uint8_t v[4];
        rc_put_u32(v, rc_posting_key(fp, co->key_bits, df, ctx >> 8, ctx & 0xff));
        if (co->xb)
            co->xb[co->nx++] = (uint8_t)rc_posting_xbits(fp, co->bits, co->key_bits);
        rc_secw_write(key_w, v, 4);
        rc_put_u32(v, g[i].gpos);
        rc_secw_write(pos_w, v, 4);
    }
    return RECITE_OK;
}

/* Postings come out of the sort grouped by channel, then by fingerprint. Each channel's
 * sections are laid out in advance (its posting count is known) and filled as they stream. */
static int write_postings(rc_builder *b, rc_secw *w, rc_section_entry *sec, size_t *nsec,
                          uint64_t *off, recite_error *err)
{
    int rc = rc_sorter_finish(&b->sorter, err);
    if (rc != RECITE_OK)
        return rc;
    channel_out co[RC_CHANNELS];
    memset(co, 0, sizeof co);
    rc_secw *pos_w = calloc(1, sizeof *pos_w);
    if (!pos_w || !(pos_w->xs = XXH3_createState())) {
        free(pos_w);
        return rc_error_set(err, RECITE_ENOMEM, "out of memory");
    }
    for (unsigned c = 0; c < RC_CHANNELS; c++) {
        co[c].n = b->postings[c];
        if (co[c].n > UINT32_MAX) {
            rc = rc_error_set(err, RECITE_ELIMIT, "more than 2^32 fingerprints in one index");
            goto done;
        }
        co[c].bits = co[c].key_bits = rc_bucket_bits_for(co[c].n);
        if (b->shard) { /* the library's key bits; a directory at most 2^8 times coarser */
            co[c].key_bits = b->shard->key_bits[c];
            if (co[c].key_bits > RC_MAX_XBITS)
                co[c].bits = RC_MAX(co[c].bits, co[c].key_bits - RC_MAX_XBITS);
            co[c].bits = RC_MIN(co[c].bits, co[c].key_bits);
            if (co[c].key_bits > co[c].bits && !(co[c].xb = malloc(co[c].n + 1))) {
                rc = rc_error_set(err, RECITE_ENOMEM, "out of memory");
                goto done;
            }
        }
        co[c].nb = (uint64_t)1 << co[c].bits;
        if (!(co[c].dir = calloc(co[c].nb + 1, sizeof *co[c].dir))) {
            rc = rc_error_set(err, RECITE_ENOMEM, "out of memory");
            goto done;
        }
        co[c].dir_off = *off;
        co[c].key_off = rc_align_up(co[c].dir_off + (co[c].nb + 1) * 4);
        co[c].pos_off = rc_align_up(co[c].key_off + co[c].n * 4);
        *off = rc_align_up(co[c].pos_off + co[c].n * 4);
    }
    RC_VEC(rc_posting_rec) group = {0};
    RC_VEC(uint32_t) scratch = {0};
    unsigned cur = 0;
    rc_secw_begin(w, b->fd, co[0].key_off);
    rc_secw_begin(pos_w, b->fd, co[0].pos_off);
    for (;;) {
        rc_posting_rec r;
        rc = rc_sorter_next(&b->sorter, &r, err);
        if (rc < 0)
            break;
        if (group.n && (rc == 0 || RC_SORT_KEY(r.hash) != RC_SORT_KEY(group.v[0].hash))) {
            if (RC_VEC_RESERVE(scratch, group.n) != RECITE_OK) {
                rc = rc_error_set(err, RECITE_ENOMEM, "out of memory");
                break;
            }
            int wrc = write_group(b, &co[cur], w, pos_w, group.v, group.n, scratch.v, err);
            if (wrc != RECITE_OK) { /* rc is the sorter's: a record (1) or the end (0) */
                rc = wrc;
                break;
            }
            group.n = 0;
        }
        /* Close the sections of the channels before this record's (or of all at the end). */
        unsigned next = rc == 0 ? RC_CHANNELS : rec_channel(&r);
        while (cur < next) {
            sec[(*nsec)++] = rc_secw_end(w, RC_SEC_POST_KEY(cur));
            sec[(*nsec)++] = rc_secw_end(pos_w, RC_SEC_POST_POS(cur));
            if (++cur < RC_CHANNELS) {
                rc_secw_begin(w, b->fd, co[cur].key_off);
                rc_secw_begin(pos_w, b->fd, co[cur].pos_off);
            }
        }
        if (rc == 0)
            break;
        if (RC_VEC_PUSH(group, r) != RECITE_OK) {
            rc = rc_error_set(err, RECITE_ENOMEM, "out of memory");
            break;
        }
    }
    RC_VEC_FREE(group);
    RC_VEC_FREE(scratch);
    if (rc < 0)
        goto done;
    if (w->errnum || pos_w->errnum) {
        rc = rc_error_errno(err, RECITE_EIO, w->errnum ? w->errnum : pos_w->errnum,
                            "%s: write failed", b->idx_path);
        goto done;
    }
    for (unsigned c = 0; c < RC_CHANNELS; c++) {
        for (uint64_t i = 1; i <= co[c].nb; i++)
            co[c].dir[i] += co[c].dir[i - 1];
        rc_secw_begin(w, b->fd, co[c].dir_off);
        for (uint64_t i = 0; i <= co[c].nb; i++)
            rc_secw_u32(w, co[c].dir[i]);
        sec[(*nsec)++] = rc_secw_end(w, RC_SEC_POST_DIR(c));
    }
    for (unsigned c = 0; c < RC_CHANNELS; c++) { /* a shard's bits between */
        if (!co[c].xb)
            continue;
        rc_secw_begin(w, b->fd, *off);
        rc_secw_write(w, co[c].xb, co[c].nx);
        sec[(*nsec)++] = rc_secw_end(w, RC_SEC_POST_XBITS(c));
        *off = rc_align_up(w->off);
    }
    /* The channel table. */
    rc_secw_begin(w, b->fd, *off);
    for (unsigned c = 0; c < RC_CHANNELS; c++) {
        rc_secw_u32(w, b->kgram[c]);
        rc_secw_u32(w, b->window[c]);
        rc_secw_u32(w, co[c].bits);
        rc_secw_u32(w, co[c].key_bits != co[c].bits ? co[c].key_bits : 0);
        rc_secw_u64(w, co[c].n);
        rc_secw_u64(w, 0);
    }
    sec[(*nsec)++] = rc_secw_end(w, RC_SEC_CHANNELS);
    *off = w->off;
    rc = w->errnum ? rc_error_errno(err, RECITE_EIO, w->errnum, "%s: write failed", b->idx_path)
                   : RECITE_OK;
done:
    for (unsigned c = 0; c < RC_CHANNELS; c++) {
        free(co[c].dir);
        free(co[c].xb);
    }
    XXH3_freeState(pos_w->xs);
    free(pos_w);
    return rc;
}

/* The checksum of every page from RC_DATA_OFFSET to here (read back from the file: the sections
 * were written out of order), as the last section. */
int rc_write_page_sums(int fd, const char *path, rc_secw *w, rc_section_entry *sec, size_t *nsec,
                       uint64_t *off, recite_error *err)
{
    const size_t span = 256 * RC_PAGE_SIZE; /* read back 1 MiB at a time */
    uint64_t end = rc_align_up(*off);
    uint8_t *buf = malloc(span);
    if (!buf)
        return rc_error_set(err, RECITE_ENOMEM, "out of memory");
    rc_secw_begin(w, fd, end);
    for (uint64_t a = RC_DATA_OFFSET; a < end; a += span) {
        size_t n = (size_t)RC_MIN((uint64_t)span, end - a), got = 0;
        memset(buf, 0, n); /* bytes past the end of the file so far are zeros */
        while (got < n) {
            ssize_t r = pread(fd, buf + got, n - got, (off_t)(a + got));
            if (r < 0 && errno == EINTR)
                continue;
            if (r < 0) {
                free(buf);
                return rc_error_errno(err, RECITE_EIO, errno, "%s: read back failed", path);
            }
            if (r == 0)
                break;
            got += (size_t)r;
        }
        for (size_t p = 0; p < n; p += RC_PAGE_SIZE)
            rc_secw_u64(w, XXH3_64bits(buf + p, RC_MIN((size_t)RC_PAGE_SIZE, n - p)));
    }
    free(buf);
    sec[(*nsec)++] = rc_secw_end(w, RC_SEC_PAGE_SUMS);
    *off = w->off;
    return w->errnum ? rc_error_errno(err, RECITE_EIO, w->errnum, "%s: write failed", path)
                     : RECITE_OK;
}

static int write_header(rc_builder *b, const rc_section_entry *sec, size_t nsec, uint64_t file_size,
                        recite_error *err)
{
    uint8_t h[RC_DATA_OFFSET];
    memset(h, 0, sizeof h);
    memcpy(h + RC_H_MAGIC, RC_INDEX_MAGIC, 8);
    rc_put_u32(h + RC_H_VERSION, RC_FORMAT_VERSION);
    rc_put_u32(h + RC_H_TOKENIZER, RC_TOKENIZER_VERSION);
    rc_put_u64(h + RC_H_FILE_SIZE, file_size);
    rc_put_u64(h + RC_H_CREATED,
               b->opt->created_unix ? b->opt->created_unix : (uint64_t)time(NULL));
    rc_put_u32(h + RC_H_MODE, rc_mode_to_disk((int)b->opt->mode));
    rc_put_u32(h + RC_H_NSECTIONS, (uint32_t)nsec);
    rc_put_u64(h + RC_H_NWORKS, b->nworks);
    rc_put_u64(h + RC_H_NCLUSTERS, b->nclusters);
    rc_put_u64(h + RC_H_NTOKENS, b->tokens_total);
    rc_put_u64(h + RC_H_TEXT_BYTES, b->text_total);
    rc_put_u64(h + RC_H_WORK_BYTES, b->work_bytes);
    rc_put_u64(h + RC_H_FLAGS,
               (b->text_free ? RC_FLAG_TEXT_FREE : 0) | (b->opt->skip_cmi ? 0 : RC_FLAG_CMI));
    if (b->text_free)
        rc_put_u64(h + RC_H_KEY_CHECK, b->key.check);
    rc_put_u32(h + RC_H_BLOCK_SIZE, RC_TEXT_BLOCK_SIZE);
    rc_put_u32(h + RC_H_COMMON, b->common_texts);
    rc_header_finish(h, sec, nsec);
    if (pwrite(b->fd, h, sizeof h, 0) != (ssize_t)sizeof h)
        return rc_error_errno(err, RECITE_EIO, errno, "%s: write failed", b->idx_path);
    /* Pad the file to its recorded size (the last section may end short of an aligned size). */
    if (ftruncate(b->fd, (off_t)file_size) != 0)
        return rc_error_errno(err, RECITE_EIO, errno, "%s: cannot size", b->idx_path);
    return RECITE_OK;
}

int rc_builder_write(rc_builder *b, uint64_t *file_size, recite_error *err)
{
    rc_section_entry sec[RC_MAX_SECTIONS];
    size_t nsec = 0;
    sec[nsec++] = rc_secw_end(b->text_w, RC_SEC_TEXT_DATA);
    uint64_t off = rc_align_up(b->text_w->off);
    rc_secw_begin(b->text_w, b->fd, off);
    rc_secw_write(b->text_w, b->dict, b->dict_len);
    sec[nsec++] = rc_secw_end(b->text_w, RC_SEC_TEXT_DICT);
    off = b->text_w->off;
    int rc = write_tables(b, b->text_w, sec, &nsec, &off, err);
    if (rc == RECITE_OK)
        rc = rc_builder_write_locators(b, b->text_w, sec, &nsec, &off, err);
    if (rc != RECITE_OK)
        return rc;
    off = rc_align_up(off);
    if ((rc = write_postings(b, b->text_w, sec, &nsec, &off, err)) != RECITE_OK)
        return rc;
    /* The sort's memory goes back before a shard's exchange of document frequency. */
    rc_sorter_release(&b->sorter);
    rc_budget_trim();
    if ((b->shard && (rc = rc_shard_df_patch(b, sec, nsec, err)) != RECITE_OK) ||
        (rc = rc_write_page_sums(b->fd, b->idx_path, b->text_w, sec, &nsec, &off, err)) !=
            RECITE_OK)
        return rc;
    *file_size = off; /* the page checksums end the file */
    if ((rc = write_header(b, sec, nsec, *file_size, err)) != RECITE_OK)
        return rc;
    if (fsync(b->fd) != 0)
        return rc_error_errno(err, RECITE_EIO, errno, "%s: fsync failed", b->idx_path);
    return RECITE_OK;
}

/*
 * index_load.c — opens an index: maps recite.idx read-only and checks, in time independent of
 * its size, the header (magic, versions, checksum), the section table (bounds, sizes against
 * the header's counts) and the ends of the tables; every record is checked where it is read
 * (rc_index_cluster_check, recite_index_work, ...), so a damaged file gives an error, never an
 * out-of-bounds read. Checksums and the full cross-check are index_verify.c's. After open the
 * index is immutable and thread-safe; reading its stored text is store.c's.
 */
#include "rc_index.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

/* ==== open and validate ==== */

static int corrupt(recite_error *err, const char *path, const char *what)
{
    return rc_error_set(err, RECITE_EFORMAT, "%s: corrupt index (%s)", path, what);
}

static const struct {
    unsigned id;
    uint64_t elem; /* record size, for the length check */
} section_kinds[] = {
    {RC_SEC_TEXT_DATA, 1},
    {RC_SEC_TEXT_BLOCKS, 16},
    {RC_SEC_CLUSTERS, RC_CLUSTER_REC_SIZE},
    {RC_SEC_WORKS, RC_WORK_REC_SIZE},
    {RC_SEC_MEMBERS, 4},
    {RC_SEC_STRINGS, 1},
    {RC_SEC_CHECKPOINTS, 4},
    {RC_SEC_TEXT_DICT, 1},
    {RC_SEC_CHANNELS, RC_CHANNEL_REC_SIZE},
    {RC_SEC_POST_DIR(RC_CH_PROSE), 4},
    {RC_SEC_POST_KEY(RC_CH_PROSE), 4},
    {RC_SEC_POST_POS(RC_CH_PROSE), 4},
    {RC_SEC_POST_DIR(RC_CH_CODE), 4},
    {RC_SEC_POST_KEY(RC_CH_CODE), 4},
    {RC_SEC_POST_POS(RC_CH_CODE), 4},
    {RC_SEC_POST_DIR(RC_CH_SHAPE), 4},
    {RC_SEC_POST_KEY(RC_CH_SHAPE), 4},
    {RC_SEC_POST_POS(RC_CH_SHAPE), 4},
    {RC_SEC_CMI_DIR, 8},
    {RC_SEC_CMI_DATA, 1},
    {RC_SEC_PAGE_SUMS, 8},
    {RC_SEC_VIEWS, RC_VIEW_REC_SIZE},
    {RC_SEC_LOC_INDEX, 8},
    {RC_SEC_LOC_DATA, 1},
    {RC_SEC_LINES, 4},
};

/* The sections of the head of a sharded index (index_shards.c). */
static const struct {
    unsigned id;
    uint64_t elem;
} head_kinds[] = {
    {RC_SEC_MEMBERS, 4},   {RC_SEC_CHANNELS, RC_CHANNEL_REC_SIZE},
    {RC_SEC_PAGE_SUMS, 8}, {RC_SEC_SHARDS, RC_SHARD_REC_SIZE},
    {RC_SEC_WORK_MAP, 8},  {RC_SEC_SHARD_WORKS, 4},
};

/* ==== pages checked on first read ==== */

int rc_index_touch_pages(const recite_index *idx, uint64_t first, uint64_t last, recite_error *err)
{
    for (uint64_t p = first; p <= last && p < idx->npages; p++) {
        uint64_t bit = (uint64_t)1 << (p & 63);
        if (atomic_load_explicit(&idx->page_ok[p >> 6], memory_order_acquire) & bit)
            continue;
        uint64_t a = RC_DATA_OFFSET + p * RC_PAGE_SIZE;
        uint64_t b = RC_MIN(a + RC_PAGE_SIZE, idx->pages_end);
        if (XXH3_64bits(idx->map + a, b - a) != rc_get_u64(idx->page_sums + 8 * p))
            return rc_error_set(err, RECITE_EFORMAT,
                                "corrupt index (checksum mismatch at bytes %llu-%llu)",
                                (unsigned long long)a, (unsigned long long)b);
        atomic_fetch_or_explicit(&idx->page_ok[p >> 6], bit, memory_order_release);
    }
    return RECITE_OK;
}

/* Whether the pages of p[0, len) are checked (without a message). */
static bool touched(const recite_index *idx, const void *p, size_t len)
{
    return rc_index_touch(idx, p, len, NULL) == RECITE_OK;
}

void rc_index_cluster(const recite_index *idx, uint32_t i, rc_cluster *out)
{
    if (RC_UNLIKELY(idx->nshards)) { /* a cluster or a view of a shard */
        uint32_t local, s = rc_shard_route(idx, i, &local);
        if (!idx->shards[s].idx) { /* open elsewhere: never read (checked first) */
            memset(out, 0, sizeof *out);
            out->primary = i;
            return;
        }
        rc_index_cluster(idx->shards[s].idx, local, out);
        rc_shards_globalize(idx, s, out);
        return;
    }
    if (i >= idx->nclusters) { /* a view: the words of a code cluster, as prose */
        const uint8_t *v =
            idx->sec[RC_SEC_VIEWS].data + (uint64_t)(i - idx->nclusters) * RC_VIEW_REC_SIZE;
        rc_index_cluster(idx, rc_get_u32(v), out);
        out->text_offset = rc_get_u64(v + 8);
        out->token_base = rc_get_u64(v + 16);
        out->ntokens = rc_get_u64(v + 24);
        out->checkpoint0 = rc_get_u64(v + 32);
        out->mode = RECITE_MODE_PROSE;
        out->view = true;
        return;
    }
    const uint8_t *p = idx->sec[RC_SEC_CLUSTERS].data + (uint64_t)i * RC_CLUSTER_REC_SIZE;
    out->text_offset = rc_get_u64(p);
    out->text_len = rc_get_u64(p + 8);
    out->token_base = rc_get_u64(p + 16);
    out->ntokens = rc_get_u64(p + 24);
    out->checkpoint0 = rc_get_u64(p + 32);
    out->member0 = rc_get_u32(p + 40);
    out->nmembers = rc_get_u32(p + 44);
    int mode = rc_mode_from_disk(rc_get_u32(p + 48));
    out->mode = mode < 0 ? UINT32_MAX : (uint32_t)mode; /* invalid: refused by validation */
    out->family = rc_get_u32(p + 52);
    out->primary = i;
    out->view = false;
}

/* Work record w, its pages checked (NULL when they do not match). */
static const uint8_t *work_rec(const recite_index *idx, uint32_t w)
{
    const uint8_t *p = idx->sec[RC_SEC_WORKS].data + (uint64_t)w * RC_WORK_REC_SIZE;
    return w < idx->nworks && touched(idx, p, RC_WORK_REC_SIZE) ? p : NULL;
}

uint32_t rc_index_work_cluster(const recite_index *idx, uint32_t w)
{
    uint32_t s, lw;
    if (RC_UNLIKELY(idx->nshards)) {
        if (rc_shards_work(idx, w, &s, &lw) != RECITE_OK)
            return UINT32_MAX;
        recite_work_info info;
        if (!idx->shards[s].idx)
            return rc_remote_work(idx, w, &info, NULL, NULL) ? info.cluster : UINT32_MAX;
        uint32_t c = rc_index_work_cluster(idx->shards[s].idx, lw);
        return c == UINT32_MAX ? c : (uint32_t)(c + idx->shards[s].cluster0);
    }
    const uint8_t *p = work_rec(idx, w);
    uint32_t c = p ? rc_get_u32(p + 8 * RC_WS_COUNT_) : UINT32_MAX;
    return c < idx->nclusters ? c : UINT32_MAX; /* a work's cluster is never a view */
}

bool rc_index_cluster_valid(const recite_index *idx, uint32_t i, const rc_cluster *cl)
{
    uint64_t ncp = idx->sec[RC_SEC_CHECKPOINTS].len / 4;
    uint64_t want_cp = (cl->ntokens + RC_CHECKPOINT_EVERY - 1) / RC_CHECKPOINT_EVERY;
    if (i >= idx->nclusters + idx->nviews || cl->text_len == 0 || cl->text_len > UINT32_MAX ||
        cl->text_offset > idx->text_bytes || cl->ntokens > idx->ntokens ||
        cl->token_base > idx->ntokens - cl->ntokens || cl->checkpoint0 > ncp ||
        want_cp > ncp - cl->checkpoint0 || cl->nmembers == 0 || cl->member0 > idx->nworks ||
        cl->nmembers > idx->nworks - cl->member0 || cl->family > cl->primary ||
        (cl->mode != RECITE_MODE_PROSE && cl->mode != RECITE_MODE_CODE))
        return false;
    uint64_t stored = rc_index_stored_len(idx, i);
    return stored <= idx->text_bytes - cl->text_offset &&
           (idx->text_free ? stored >= cl->ntokens * 7 : stored == cl->text_len);
}

int rc_index_cluster_check(const recite_index *idx, uint32_t i, rc_cluster *out, recite_error *err)
{
    if (i >= idx->nclusters + idx->nviews)
        return rc_error_set(err, RECITE_EFORMAT, "corrupt index (no cluster %u)", i);
    if (RC_UNLIKELY(idx->nshards)) { /* the shard's record, then its members in the head */
        uint32_t local, s = rc_shard_route(idx, i, &local);
        if (!idx->shards[s].idx)
            return rc_error_set(err, RECITE_EINVAL, "cluster %u is in shard %u, not open here", i,
                                s);
        int rc = rc_index_cluster_check(idx->shards[s].idx, local, out, err);
        if (rc != RECITE_OK)
            return rc;
        rc_shards_globalize(idx, s, out);
        if (out->member0 + out->nmembers > idx->nworks)
            return rc_error_set(err, RECITE_EFORMAT, "corrupt index (bad record of cluster %u)", i);
        return rc_index_touch(idx, idx->sec[RC_SEC_MEMBERS].data + 4 * (uint64_t)out->member0,
                              4 * (size_t)out->nmembers, err);
    }
    if (i >= idx->nclusters) { /* a view: its record, then its code cluster's */
        rc_view v;
        if (!rc_index_view(idx, i - idx->nclusters, &v) || v.cluster >= idx->nclusters)
            return rc_error_set(err, RECITE_EFORMAT, "corrupt index (bad view %llu)",
                                (unsigned long long)(i - idx->nclusters));
        int rc = rc_index_cluster_check(idx, v.cluster, out, err);
        if (rc != RECITE_OK)
            return rc;
        if (out->mode != RECITE_MODE_CODE)
            return rc_error_set(err, RECITE_EFORMAT, "corrupt index (a view of prose cluster %u)",
                                v.cluster);
        rc_index_cluster(idx, i, out);
        return rc_index_cluster_valid(idx, i, out)
                   ? RECITE_OK
                   : rc_error_set(err, RECITE_EFORMAT, "corrupt index (bad view %llu)",
                                  (unsigned long long)(i - idx->nclusters));
    }
    /* Its record (and the next one, where a text-free cluster's records end), then its
     * members. */
    const uint8_t *p = idx->sec[RC_SEC_CLUSTERS].data + (uint64_t)i * RC_CLUSTER_REC_SIZE;
    size_t n = RC_CLUSTER_REC_SIZE * (idx->text_free && i + 1 < idx->nclusters ? 2 : 1);
    int rc = rc_index_touch(idx, p, n, err);
    if (rc != RECITE_OK)
        return rc;
    rc_index_cluster(idx, i, out);
    if (!rc_index_cluster_valid(idx, i, out))
        return rc_error_set(err, RECITE_EFORMAT, "corrupt index (bad record of cluster %u)", i);
    rc = rc_index_touch(idx, idx->sec[RC_SEC_MEMBERS].data + 4 * (uint64_t)out->member0,
                        4 * (size_t)out->nmembers, err);
    /* Its first member stands for it in results: a work of this cluster (the others are read
     * through recite_index_cluster_members, which checks them). A work of another cluster
     * would be given this cluster's offsets, past the end of its own text. */
    if (rc == RECITE_OK && rc_index_work_cluster(idx, rc_index_member(idx, out->member0)) != i)
        return rc_error_set(err, RECITE_EFORMAT, "corrupt index (bad member of cluster %u)", i);
    return rc;
}

/* The ends of the tables, checked at open in constant time: the text blocks cover the text,
 * the checkpoints, members and tokens end where the last cluster says, the string table
 * starts with the empty string and ends with a NUL, and the CMI directory covers its data. */
static int check_ends(const recite_index *idx, const char *path, recite_error *err)
{
    const rc_section *s = idx->sec;
    if (s[RC_SEC_WORKS].len != idx->nworks * RC_WORK_REC_SIZE ||
        s[RC_SEC_CLUSTERS].len != idx->nclusters * RC_CLUSTER_REC_SIZE ||
        s[RC_SEC_MEMBERS].len != idx->nworks * 4 || s[RC_SEC_TEXT_BLOCKS].len < 16 ||
        s[RC_SEC_TEXT_BLOCKS].len % 16 != 0 || s[RC_SEC_CMI_DIR].len != (idx->nworks + 1) * 8)
        return corrupt(err, path, "section sizes disagree with the header");
    const rc_section *str = &s[RC_SEC_STRINGS];
    if (str->len < 1 || !touched(idx, str->data, 1) || !touched(idx, str->data + str->len - 1, 1) ||
        str->data[0] != 0 || str->data[str->len - 1] != 0)
        return corrupt(err, path, "bad string table");
    const uint8_t *tb = s[RC_SEC_TEXT_BLOCKS].data;
    uint64_t nb = s[RC_SEC_TEXT_BLOCKS].len / 16 - 1;
    if (!touched(idx, tb, 16) || !touched(idx, tb + 16 * nb, 16) ||
        !touched(idx, s[RC_SEC_CMI_DIR].data, 8) ||
        !touched(idx, s[RC_SEC_CMI_DIR].data + 8 * idx->nworks, 8))
        return corrupt(err, path, "checksum mismatch");
    if (rc_get_u64(tb) != 0 || rc_get_u64(tb + 8) != 0 ||
        rc_get_u64(tb + 16 * nb) != idx->text_bytes ||
        rc_get_u64(tb + 16 * nb + 8) != s[RC_SEC_TEXT_DATA].len)
        return corrupt(err, path, "text block table does not cover the text");
    if (rc_get_u64(s[RC_SEC_CMI_DIR].data) != 0 ||
        rc_get_u64(s[RC_SEC_CMI_DIR].data + 8 * idx->nworks) != s[RC_SEC_CMI_DATA].len)
        return corrupt(err, path, "CMI directory does not cover the records");
    if (idx->nclusters == 0) {
        if (idx->ntokens || idx->text_bytes || s[RC_SEC_CHECKPOINTS].len)
            return corrupt(err, path, "clusters do not cover the text");
    } else {
        /* The last in token order: the last cluster, or its view when it has one. */
        rc_cluster last;
        uint32_t i = (uint32_t)idx->nclusters - 1;
        rc_view v;
        if (idx->nviews && rc_index_view(idx, idx->nviews - 1, &v) && v.cluster == i)
            i = (uint32_t)(idx->nclusters + idx->nviews - 1);
        if (rc_index_cluster_check(idx, i, &last, NULL) != RECITE_OK ||
            last.token_base + last.ntokens != idx->ntokens ||
            last.member0 + last.nmembers != idx->nworks ||
            last.checkpoint0 + (last.ntokens + RC_CHECKPOINT_EVERY - 1) / RC_CHECKPOINT_EVERY !=
                s[RC_SEC_CHECKPOINTS].len / 4 ||
            last.text_offset + rc_index_stored_len(idx, i) != idx->text_bytes)
            return corrupt(err, path, "clusters do not cover the text");
    }
    for (unsigned c = 0; c < RC_CHANNELS; c++) {
        const rc_channel_info *ch = &idx->ch[c];
        if (!touched(idx, ch->dir, 4) ||
            !touched(idx, ch->dir + 4 * ((uint64_t)1 << ch->bucket_bits), 4) ||
            rc_get_u32(ch->dir) != 0 ||
            rc_get_u32(ch->dir + 4 * ((uint64_t)1 << ch->bucket_bits)) != ch->npostings)
            return corrupt(err, path, "fingerprint directory does not cover the postings");
    }
    return rc_index_validate_locators(idx, path, err);
}

static int parse_header(recite_index *idx, const char *path, recite_error *err)
{
    const uint8_t *h = idx->map;
    if (idx->map_len < RC_DATA_OFFSET || memcmp(h, RC_INDEX_MAGIC, 8) != 0)
        return rc_error_set(err, RECITE_EFORMAT, "%s: not a recite index (bad magic)", path);
    uint32_t version = rc_get_u32(h + RC_H_VERSION);
    if (version != RC_FORMAT_VERSION)
        return rc_error_set(err, RECITE_EVERSION,
                            "%s: index format version %u, this recite reads version %u; rebuild "
                            "the index with this version",
                            path, version, RC_FORMAT_VERSION);
    uint8_t copy[RC_DATA_OFFSET];
    memcpy(copy, h, RC_DATA_OFFSET);
    memset(copy + RC_H_CHECKSUM, 0, 8);
    if (XXH3_64bits(copy, RC_DATA_OFFSET) != rc_get_u64(h + RC_H_CHECKSUM))
        return corrupt(err, path, "header checksum mismatch");
    if (rc_get_u32(h + RC_H_TOKENIZER) != RC_TOKENIZER_VERSION)
        return rc_error_set(err, RECITE_EVERSION,
                            "%s: index built with tokenizer version %u, this recite uses %u; "
                            "rebuild the index",
                            path, rc_get_u32(h + RC_H_TOKENIZER), RC_TOKENIZER_VERSION);
    if (rc_get_u64(h + RC_H_FILE_SIZE) != idx->map_len)
        return rc_error_set(err, RECITE_EFORMAT,
                            "%s: corrupt index (file is %zu bytes, header says %llu: truncated?)",
                            path, idx->map_len, (unsigned long long)rc_get_u64(h + RC_H_FILE_SIZE));
    idx->created = rc_get_u64(h + RC_H_CREATED);
    idx->mode = (unsigned)rc_mode_from_disk(rc_get_u32(h + RC_H_MODE));
    idx->nworks = rc_get_u64(h + RC_H_NWORKS);
    idx->nclusters = rc_get_u64(h + RC_H_NCLUSTERS);
    idx->ntokens = rc_get_u64(h + RC_H_NTOKENS);
    idx->text_bytes = rc_get_u64(h + RC_H_TEXT_BYTES);
    idx->work_bytes = rc_get_u64(h + RC_H_WORK_BYTES);
    idx->block_size = rc_get_u32(h + RC_H_BLOCK_SIZE);
    idx->common_texts = rc_get_u32(h + RC_H_COMMON);
    uint64_t flags = rc_get_u64(h + RC_H_FLAGS);
    if (flags & ~(uint64_t)(RC_FLAG_TEXT_FREE | RC_FLAG_CMI | RC_FLAG_SHARDED))
        return rc_error_set(err, RECITE_EVERSION,
                            "%s: index uses features this recite does not know (flags %#llx)", path,
                            (unsigned long long)flags);
    idx->text_free = flags & RC_FLAG_TEXT_FREE;
    idx->cmi = flags & RC_FLAG_CMI;
    bool head = flags & RC_FLAG_SHARDED; /* the head of a sharded index: its own sections */
    if (!idx->text_free && idx->work_bytes != idx->text_bytes)
        return corrupt(err, path, "text sizes disagree");
    /* Readers allocate blocks of block_size: only the size the format defines is accepted.
     * 32-bit token positions in an index; a head numbers the tokens of all its shards. */
    if (idx->nworks > UINT32_MAX || idx->nclusters > idx->nworks ||
        (!head && idx->ntokens > UINT32_MAX) || idx->block_size != RC_TEXT_BLOCK_SIZE ||
        idx->common_texts < RC_COMMON_TEXTS_MIN)
        return corrupt(err, path, "implausible counts");

    uint32_t nsec = rc_get_u32(h + RC_H_NSECTIONS);
    if (nsec > RC_MAX_SECTIONS)
        return corrupt(err, path, "too many sections");
    for (uint32_t i = 0; i < nsec; i++) {
        const uint8_t *e = h + RC_SECTIONS_OFFSET + i * RC_SECTION_ENTRY_SIZE;
        uint32_t id = rc_get_u32(e);
        uint64_t off = rc_get_u64(e + 8), len = rc_get_u64(e + 16), sum = rc_get_u64(e + 24);
        if (id == 0 || id >= RC_SEC_COUNT_ || idx->sec[id].data)
            return corrupt(err, path, "bad section table");
        if (off % RC_SECTION_ALIGN) /* records are read in place: u32 arrays stay aligned */
            return corrupt(err, path, "misaligned section");
        if (off < RC_DATA_OFFSET || off > idx->map_len || len > idx->map_len - off)
            return rc_error_set(err, RECITE_EFORMAT,
                                "%s: corrupt index (section %u extends past the end of the file: "
                                "truncated?)",
                                path, id);
        idx->sec[id] = (rc_section){idx->map + off, len};
        idx->sec_sum[id] = sum; /* checked by recite_index_verify */
    }
    size_t nkinds = head ? RC_ARRAY_LEN(head_kinds) : RC_ARRAY_LEN(section_kinds);
    for (size_t k = 0; k < nkinds; k++) {
        unsigned id = head ? head_kinds[k].id : section_kinds[k].id;
        const rc_section *s = &idx->sec[id];
        if (!s->data)
            return corrupt(err, path, "missing section");
        if (s->len % (head ? head_kinds[k].elem : section_kinds[k].elem))
            return corrupt(err, path, "section length is not a whole number of records");
    }
    /* The page checksums, checked whole here (a few bytes per page): the last section, with
     * every other one before it. */
    const rc_section *ps = &idx->sec[RC_SEC_PAGE_SUMS];
    idx->pages_end = (uint64_t)(ps->data - idx->map);
    idx->npages = (idx->pages_end - RC_DATA_OFFSET + RC_PAGE_SIZE - 1) / RC_PAGE_SIZE;
    idx->page_sums = ps->data;
    if (ps->len != idx->npages * 8 || idx->pages_end + ps->len != idx->map_len ||
        XXH3_64bits(ps->data, ps->len) != idx->sec_sum[RC_SEC_PAGE_SUMS])
        return corrupt(err, path, "bad page checksums");
    for (unsigned id = 1; id < RC_SEC_COUNT_; id++)
        if (id != RC_SEC_PAGE_SUMS && idx->sec[id].data &&
            (uint64_t)(idx->sec[id].data - idx->map) + idx->sec[id].len > idx->pages_end)
            return corrupt(err, path, "section after the page checksums");
    if (!(idx->page_ok = calloc(idx->npages / 64 + 1, sizeof *idx->page_ok)))
        return rc_error_set(err, RECITE_ENOMEM, "out of memory");
    idx->nblocks = head ? 0 : idx->sec[RC_SEC_TEXT_BLOCKS].len / 16 - 1;
    idx->nviews = idx->sec[RC_SEC_VIEWS].len / RC_VIEW_REC_SIZE; /* a head's: its shards' */
    if (idx->nviews > idx->nclusters)
        return corrupt(err, path, "more views than clusters");
    if (idx->sec[RC_SEC_CHANNELS].len != RC_CHANNELS * RC_CHANNEL_REC_SIZE ||
        !touched(idx, idx->sec[RC_SEC_CHANNELS].data, idx->sec[RC_SEC_CHANNELS].len))
        return corrupt(err, path, "bad channel table");
    for (unsigned c = 0; c < RC_CHANNELS; c++) {
        const uint8_t *rec = idx->sec[RC_SEC_CHANNELS].data + c * RC_CHANNEL_REC_SIZE;
        rc_channel_info *ch = &idx->ch[c];
        ch->kgram = rc_get_u32(rec);
        ch->window = rc_get_u32(rec + 4);
        ch->bucket_bits = rc_get_u32(rec + 8);
        ch->key_bits = rc_get_u32(rec + 12) ? rc_get_u32(rec + 12) : ch->bucket_bits;
        ch->npostings = rc_get_u64(rec + 16);
        if (ch->kgram < 1 || ch->kgram > 16 || ch->window < 1 || ch->window > 256 ||
            ch->bucket_bits > 32 || ch->key_bits > 32 || ch->key_bits < ch->bucket_bits ||
            ch->key_bits - ch->bucket_bits > RC_MAX_XBITS)
            return corrupt(err, path, "bad fingerprint parameters");
        if (head) /* the postings are the shards' */
            continue;
        const rc_section *d = &idx->sec[RC_SEC_POST_DIR(c)], *k = &idx->sec[RC_SEC_POST_KEY(c)],
                         *p = &idx->sec[RC_SEC_POST_POS(c)];
        const rc_section *x = &idx->sec[RC_SEC_POST_XBITS(c)];
        if (d->len != (((uint64_t)1 << ch->bucket_bits) + 1) * 4 || k->len != ch->npostings * 4 ||
            p->len != ch->npostings * 4 ||
            x->len != (ch->key_bits > ch->bucket_bits ? ch->npostings : 0))
            return corrupt(err, path, "fingerprint sections disagree with their parameters");
        ch->xbits = ch->key_bits > ch->bucket_bits ? x->data : NULL;
        ch->dir = d->data;
        ch->key = k->data;
        ch->pos = p->data;
    }
    return RECITE_OK;
}

/* An ordinary index's lookups scan its own postings: one table per channel. */
static int own_tables(recite_index *idx, recite_error *err)
{
    for (unsigned c = 0; c < RC_CHANNELS; c++) {
        if (!(idx->tables[c] = calloc(1, sizeof *idx->tables[c])))
            return rc_error_set(err, RECITE_ENOMEM, "out of memory");
        *idx->tables[c] = (rc_posting_table){idx, &idx->ch[c], 0, 0};
    }
    idx->ntables = 1;
    return RECITE_OK;
}

int rc_index_take_key(recite_index **out, const char *dir, const void *key, size_t key_len,
                      recite_error *err)
{
    if (!(*out)->text_free)
        return RECITE_OK;
    recite_index *idx = *out;
    if (rc_key_derive(&idx->key, key, key ? key_len : 0) != RECITE_OK ||
        idx->key.check != rc_get_u64(idx->map + RC_H_KEY_CHECK)) {
        recite_index_close(idx);
        *out = NULL;
        return rc_error_set(err, RECITE_EKEY, "%s: wrong key for this text-free index", dir);
    }
    idx->has_key = true;
    return RECITE_OK;
}

int recite_index_open_keyed(recite_index **out, const char *dir, const void *key, size_t key_len,
                            recite_error *err)
{
    int rc = rc_index_open_at(out, dir, 0, 0, err);
    return rc == RECITE_OK ? rc_index_take_key(out, dir, key, key_len, err) : rc;
}

int recite_index_open(recite_index **out, const char *dir, recite_error *err)
{
    return rc_index_open_at(out, dir, 0, 0, err);
}

int rc_index_open_at(recite_index **out, const char *dir, unsigned part, unsigned nparts,
                     recite_error *err)
{
    *out = NULL;
    if (!dir)
        return rc_error_set(err, RECITE_EINVAL, "no index directory given");
    char path[4096];
    if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, RC_INDEX_FILE) >= sizeof path)
        return rc_error_set(err, RECITE_EINVAL, "%s: path too long", dir);
    recite_index *idx = calloc(1, sizeof *idx);
    if (!idx)
        return rc_error_set(err, RECITE_ENOMEM, "out of memory");
    idx->fd = -1;
    int rc;
    struct stat st;
    if (stat(dir, &st) != 0) {
        rc = rc_error_errno(err, RECITE_EIO, errno, "%s: cannot open index", dir);
        goto fail;
    }
    if (!S_ISDIR(st.st_mode)) {
        rc = rc_error_set(err, RECITE_EFORMAT, "%s: not an index directory", dir);
        goto fail;
    }
    /* O_NONBLOCK: a FIFO in place of the file is refused below instead of waiting for a writer */
    idx->fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (idx->fd < 0) {
        rc = rc_error_errno(err, errno == ENOENT ? RECITE_EFORMAT : RECITE_EIO, errno,
                            "%s: not a recite index (cannot open %s)", dir, RC_INDEX_FILE);
        goto fail;
    }
    if (fstat(idx->fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        rc = rc_error_set(err, RECITE_EFORMAT, "%s: not a regular file", path);
        goto fail;
    }
    if ((uint64_t)st.st_size < RC_DATA_OFFSET) {
        rc = rc_error_set(err, RECITE_EFORMAT, "%s: corrupt index (only %lld bytes: truncated?)",
                          path, (long long)st.st_size);
        goto fail;
    }
    idx->map_len = (size_t)st.st_size;
    void *m = mmap(NULL, idx->map_len, PROT_READ, MAP_PRIVATE, idx->fd, 0);
    if (m == MAP_FAILED) {
        rc = rc_error_errno(err, RECITE_EIO, errno, "%s: cannot map", path);
        goto fail;
    }
    idx->map = m;
    if ((rc = parse_header(idx, path, err)) != RECITE_OK)
        goto fail;
    if (rc_get_u64(idx->map + RC_H_FLAGS) & RC_FLAG_SHARDED)
        rc = rc_shards_open(idx, dir, part, nparts, err);
    else if ((rc = check_ends(idx, path, err)) == RECITE_OK)
        rc = own_tables(idx, err);
    if (rc != RECITE_OK)
        goto fail;
    /* The license texts (DIR/licenses), when the build found some: for CMI at check time. */
    char *lic;
    struct stat lst;
    if (asprintf(&lic, "%s/licenses/%s", dir, RC_INDEX_FILE) < 0) {
        rc = rc_error_set(err, RECITE_ENOMEM, "out of memory"); /* not: no license texts */
        goto fail;
    }
    {
        if (stat(lic, &lst) == 0) {
            lic[strlen(lic) - strlen(RC_INDEX_FILE) - 1] = 0;
            if ((rc = recite_index_open(&idx->licenses, lic, err)) != RECITE_OK) {
                free(lic);
                goto fail;
            }
        }
        free(lic);
    }
    *out = idx;
    return RECITE_OK;
fail:
    recite_index_close(idx);
    return rc;
}

int rc_index_ddict(const recite_index *idx, const ZSTD_DDict **out, recite_error *err)
{
    recite_index *mut = (recite_index *)(uintptr_t)idx; /* allocated, never const-defined */
    const rc_section *sec = &idx->sec[RC_SEC_TEXT_DICT];
    ZSTD_DDict *dd = atomic_load_explicit(&mut->ddict, memory_order_acquire);
    if (dd || !sec->len) {
        *out = dd;
        return RECITE_OK;
    }
    int rc = rc_index_touch(idx, sec->data, sec->len, err);
    if (rc != RECITE_OK)
        return rc;
    if (!(dd = ZSTD_createDDict(sec->data, sec->len)))
        return rc_error_set(err, RECITE_EFORMAT, "corrupt index (bad text dictionary)");
    ZSTD_DDict *none = NULL; /* another thread may have made them meanwhile: theirs stay */
    if (!atomic_compare_exchange_strong(&mut->ddict, &none, dd)) {
        ZSTD_freeDDict(dd);
        dd = none;
    }
    *out = dd;
    return RECITE_OK;
}

void recite_index_close(recite_index *idx)
{
    if (!idx)
        return;
    recite_index_close(idx->licenses);
    for (int i = 0; i < RC_SPARE_READERS; i++) {
        rc_store_reader *spare = atomic_load(&idx->spare_readers[i]);
        rc_store_reader_free(spare);
        free(spare);
    }
    rc_shards_close(idx);
    rc_remote_free(idx->remote);
    for (unsigned c = 0; c < RC_CHANNELS; c++) {
        free(idx->tables[c]);
        rc_kfilter_free(atomic_load(&idx->filter[c]));
    }
    ZSTD_freeDDict(atomic_load(&idx->ddict));
    free(idx->page_ok);
    sodium_memzero(&idx->key, sizeof idx->key);
    if (idx->map)
        munmap((void *)idx->map, idx->map_len);
    if (idx->fd >= 0)
        close(idx->fd);
    free(idx);
}

/* ==== queries on the tables ==== */

void recite_index_get_stats(recite_index_stats *out, const recite_index *idx)
{
    memset(out, 0, sizeof *out);
    out->format_version = RC_FORMAT_VERSION;
    out->works = idx->nworks;
    out->clusters = idx->nclusters;
    out->tokens = idx->ntokens;
    out->text_bytes = idx->work_bytes;
    out->text_free = idx->text_free;
    const rc_channel_info *pr = &idx->ch[RC_CH_PROSE], *co = &idx->ch[RC_CH_CODE];
    out->fingerprints = pr->npostings;
    out->kgram = pr->kgram;
    out->window = pr->window;
    out->min_tokens = pr->kgram + pr->window - 1;
    out->code_fingerprints = co->npostings;
    out->shape_fingerprints = idx->ch[RC_CH_SHAPE].npostings;
    out->code_kgram = co->kgram;
    out->code_window = co->window;
    out->code_min_tokens = co->kgram + co->window - 1;
    out->created_unix = idx->created;
    out->bytes_total = idx->map_len;
    out->text_block_size = idx->block_size;
    out->common_texts = idx->common_texts;
    if (idx->nshards) { /* the shards' bytes, and the head's */
        for (uint32_t k = 0; k < idx->nshards; k++) {
            recite_index_stats sh;
            if (!idx->shards[k].idx) /* open elsewhere: the open shards' bytes */
                continue;
            recite_index_get_stats(&sh, idx->shards[k].idx);
            out->bytes_total += sh.bytes_total;
            out->bytes_postings += sh.bytes_postings;
            out->bytes_text += sh.bytes_text;
            out->bytes_works += sh.bytes_works;
            out->bytes_checkpoints += sh.bytes_checkpoints;
            out->text_blocks += sh.text_blocks;
        }
        out->bytes_works += idx->sec[RC_SEC_MEMBERS].len + idx->sec[RC_SEC_WORK_MAP].len +
                            idx->sec[RC_SEC_SHARD_WORKS].len;
        out->shards = idx->nshards;
        return;
    }
    const rc_section *s = idx->sec;
    for (unsigned c = 0; c < RC_CHANNELS; c++)
        out->bytes_postings +=
            s[RC_SEC_POST_DIR(c)].len + s[RC_SEC_POST_KEY(c)].len + s[RC_SEC_POST_POS(c)].len;
    out->bytes_text = s[RC_SEC_TEXT_DATA].len + s[RC_SEC_TEXT_BLOCKS].len;
    out->bytes_works = s[RC_SEC_WORKS].len + s[RC_SEC_CLUSTERS].len + s[RC_SEC_MEMBERS].len +
                       s[RC_SEC_STRINGS].len;
    out->bytes_checkpoints = s[RC_SEC_CHECKPOINTS].len;
    out->text_blocks = idx->nblocks;
}

uint32_t recite_index_work_count(const recite_index *idx)
{
    return (uint32_t)idx->nworks;
}

/* The string at offset off of the string table, its pages checked; NULL when it is not one. */
static const char *string_at(const recite_index *idx, uint64_t off)
{
    const rc_section *str = &idx->sec[RC_SEC_STRINGS];
    if (off >= str->len)
        return NULL;
    /* The table ends with a NUL (checked at open): the string ends inside it. */
    const uint8_t *p = str->data + off;
    const uint8_t *nul = memchr(p, 0, (size_t)(str->len - off));
    return touched(idx, p, (size_t)(nul - p) + 1) ? (const char *)p : NULL;
}

const char *rc_index_string(const recite_index *idx, uint64_t off)
{
    return off ? string_at(idx, off) : NULL;
}

int recite_index_work(recite_work_info *out, const recite_index *idx, uint32_t w)
{
    memset(out, 0, sizeof *out);
    if (w >= idx->nworks)
        return RECITE_EINVAL;
    if (idx->nshards) { /* the shard's record, cluster and representative in library numbers */
        uint32_t s, lw;
        if (rc_shards_work(idx, w, &s, &lw) != RECITE_OK)
            return RECITE_EFORMAT;
        if (!idx->shards[s].idx) /* open elsewhere: what a distributed check brought */
            return rc_remote_work(idx, w, out, NULL, NULL) ? RECITE_OK : RECITE_EINVAL;
        int rc = recite_index_work(out, idx->shards[s].idx, lw);
        if (rc != RECITE_OK)
            return rc;
        out->cluster += (uint32_t)idx->shards[s].cluster0;
        out->representative = rc_shards_global_work(idx, s, out->representative);
        if (out->representative == UINT32_MAX) {
            memset(out, 0, sizeof *out);
            return RECITE_EFORMAT;
        }
        return RECITE_OK;
    }
    const uint8_t *rec = work_rec(idx, w);
    if (!rec)
        return RECITE_EFORMAT;
    const char **fields[RC_WS_COUNT_] = {
        &out->id,     &out->title, &out->author,        &out->license,  &out->copyright,
        &out->source, &out->url,   &out->metadata_json, &out->cmi_json, &out->content_hash};
    for (unsigned f = 0; f < RC_WS_COUNT_; f++) {
        uint64_t off = rc_get_u64(rec + 8 * f);
        if (off && !(*fields[f] = string_at(idx, off))) {
            memset(out, 0, sizeof *out);
            return RECITE_EFORMAT;
        }
    }
    out->cluster = rc_get_u32(rec + 8 * RC_WS_COUNT_);
    rc_cluster cl;
    /* An id is required; offset 0 is "", and so is any offset of a NUL byte. A work's cluster
     * is one of the index's clusters, never a view (views are numbered after them). */
    if (!out->id || !out->id[0] || out->cluster >= idx->nclusters ||
        rc_index_cluster_check(idx, out->cluster, &cl, NULL) != RECITE_OK) {
        memset(out, 0, sizeof *out);
        return RECITE_EFORMAT;
    }
    out->bytes = cl.text_len;
    out->tokens = cl.ntokens;
    out->representative = rc_index_member(idx, cl.member0);
    out->mode = (recite_mode)cl.mode;
    if (out->representative >= idx->nworks) { /* a view's members are not checked with it */
        memset(out, 0, sizeof *out);
        return RECITE_EFORMAT;
    }
    return RECITE_OK;
}

const uint32_t *recite_index_cluster_members(const recite_index *idx, uint32_t cluster,
                                             uint32_t *count)
{
    *count = 0;
    rc_cluster cl;
    uint32_t local;
    if (idx->nshards && cluster < idx->nclusters &&
        !idx->shards[rc_shard_route(idx, cluster, &local)].idx) { /* open elsewhere */
        if (!rc_remote_members(idx, cluster, &cl.member0, &cl.nmembers) ||
            rc_index_touch(idx, idx->sec[RC_SEC_MEMBERS].data + 4 * (uint64_t)cl.member0,
                           4 * (size_t)cl.nmembers, NULL) != RECITE_OK)
            return NULL;
    } else if (rc_index_cluster_check(idx, cluster, &cl, NULL) != RECITE_OK) {
        return NULL;
    }
    /* MEMBERS is 4-aligned within a 64-aligned section: safe to view as u32 on little-endian. */
    const uint32_t *m =
        (const uint32_t *)(const void *)(idx->sec[RC_SEC_MEMBERS].data + 4 * (uint64_t)cl.member0);
    for (uint32_t i = 0; i < cl.nmembers; i++) /* a damaged list: callers take them as its works */
        if (m[i] >= idx->nworks || (!idx->nshards && rc_index_work_cluster(idx, m[i]) != cluster))
            return NULL;
    *count = cl.nmembers;
    return m;
}

void rc_index_work_cmi(const recite_index *idx, uint32_t w, const uint8_t **rec, size_t *len)
{
    *rec = NULL;
    *len = 0;
    if (w >= idx->nworks)
        return;
    uint32_t s, lw;
    if (idx->nshards) {
        if (rc_shards_work(idx, w, &s, &lw) != RECITE_OK)
            return;
        if (idx->shards[s].idx)
            rc_index_work_cmi(idx->shards[s].idx, lw, rec, len);
        else
            rc_remote_work(idx, w, NULL, rec, len);
        return;
    }
    const uint8_t *dir = idx->sec[RC_SEC_CMI_DIR].data + 8 * (uint64_t)w;
    if (!touched(idx, dir, 16))
        return;
    uint64_t a = rc_get_u64(dir), b = rc_get_u64(dir + 8);
    if (a < b && b <= idx->sec[RC_SEC_CMI_DATA].len &&
        touched(idx, idx->sec[RC_SEC_CMI_DATA].data + a, (size_t)(b - a))) {
        *rec = idx->sec[RC_SEC_CMI_DATA].data + a;
        *len = (size_t)(b - a);
    }
}

uint32_t rc_index_cluster_of_token(const recite_index *idx, uint64_t gpos)
{
    if (idx->nshards) {
        uint32_t s = rc_shard_of_token(idx, gpos);
        const rc_shard *sh = &idx->shards[s];
        if (!sh->idx)
            return UINT32_MAX;
        uint32_t c = rc_index_cluster_of_token(sh->idx, gpos - sh->token0);
        return c == UINT32_MAX ? c : rc_shard_global_cluster(idx, s, c);
    }
    const uint8_t *recs = idx->sec[RC_SEC_CLUSTERS].data;
    uint64_t lo = 0, hi = idx->nclusters; /* invariant: answer in [lo, hi) */
    while (hi - lo > 1) {
        uint64_t mid = lo + (hi - lo) / 2;
        const uint8_t *base = recs + mid * RC_CLUSTER_REC_SIZE + 16;
        if (!touched(idx, base, 8))
            return UINT32_MAX;
        if (rc_get_u64(base) <= gpos)
            lo = mid;
        else
            hi = mid;
    }
    /* Clusters with no tokens share a base with their successor; step to the one holding gpos. */
    rc_cluster cl;
    for (;;) {
        if (lo >= idx->nclusters ||
            !touched(idx, recs + lo * RC_CLUSTER_REC_SIZE, RC_CLUSTER_REC_SIZE))
            return UINT32_MAX;
        rc_index_cluster(idx, (uint32_t)lo, &cl);
        if ((cl.ntokens && gpos < cl.token_base + cl.ntokens) || lo + 1 >= idx->nclusters ||
            !touched(idx, recs + (lo + 1) * RC_CLUSTER_REC_SIZE + 16, 8) ||
            rc_get_u64(recs + (lo + 1) * RC_CLUSTER_REC_SIZE + 16) > gpos)
            break;
        lo++;
    }
    if (gpos >= cl.token_base && gpos - cl.token_base < cl.ntokens)
        return (uint32_t)lo;
    /* Past the cluster's tokens: the words of a code cluster (its view). */
    uint64_t v = rc_index_view_of_token(idx, gpos);
    return v == UINT64_MAX ? UINT32_MAX : (uint32_t)(idx->nclusters + v);
}

/* ==== stored text ==== */

uint64_t rc_index_stored_len(const recite_index *idx, uint32_t cluster)
{
    if (idx->nshards) {
        uint32_t local, s = rc_shard_route(idx, cluster, &local);
        return idx->shards[s].idx ? rc_index_stored_len(idx->shards[s].idx, local) : UINT64_MAX;
    }
    rc_cluster cl;
    rc_index_cluster(idx, cluster, &cl);
    if (!idx->text_free)
        return cl.text_len;
    /* Text-free: a cluster's records, then its view's records, then the next cluster's. */
    uint64_t end = idx->text_bytes;
    rc_view v;
    uint64_t vi = cl.view ? UINT64_MAX : rc_index_view_of(idx, cl.primary);
    if (vi != UINT64_MAX && rc_index_view(idx, vi, &v)) {
        end = v.text_offset;
    } else if ((uint64_t)cl.primary + 1 < idx->nclusters) {
        rc_cluster next;
        rc_index_cluster(idx, cl.primary + 1, &next);
        end = next.text_offset;
    }
    return end >= cl.text_offset ? end - cl.text_offset : UINT64_MAX;
}

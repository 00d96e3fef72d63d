/*
 * index_load.c — opens an index: maps recite.idx read-only, checks magic, versions, section
 * bounds, checksums and every cross-reference before anything trusts an offset. After open the
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
    {RC_SEC_LOC_INDEX, 8},
    {RC_SEC_LOC_DATA, 1},
    {RC_SEC_LINES, 4},
};

void rc_index_cluster(const recite_index *idx, uint32_t i, rc_cluster *out)
{
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
}

static uint64_t work_str(const recite_index *idx, uint32_t w, unsigned field)
{
    return rc_get_u64(idx->sec[RC_SEC_WORKS].data + (uint64_t)w * RC_WORK_REC_SIZE + 8 * field);
}

uint32_t rc_index_work_cluster(const recite_index *idx, uint32_t w)
{
    return rc_get_u32(idx->sec[RC_SEC_WORKS].data + (uint64_t)w * RC_WORK_REC_SIZE +
                      8 * RC_WS_COUNT_);
}

/* Cross-checks every record so that later reads need no bounds checks. */
static int validate_tables(const recite_index *idx, const char *path, recite_error *err)
{
    const rc_section *s = idx->sec;
    if (s[RC_SEC_WORKS].len != idx->nworks * RC_WORK_REC_SIZE ||
        s[RC_SEC_CLUSTERS].len != idx->nclusters * RC_CLUSTER_REC_SIZE ||
        s[RC_SEC_MEMBERS].len != idx->nworks * 4 || s[RC_SEC_TEXT_BLOCKS].len < 16 ||
        s[RC_SEC_TEXT_BLOCKS].len % 16 != 0)
        return corrupt(err, path, "section sizes disagree with the header");
    /* Strings: offset 0 must be the empty string and the section must end with a NUL. */
    const rc_section *str = &s[RC_SEC_STRINGS];
    if (str->len < 1 || str->data[0] != 0 || str->data[str->len - 1] != 0)
        return corrupt(err, path, "bad string table");

    /* Text blocks: offsets increase and end at the sizes of the text stream. */
    const uint8_t *tb = s[RC_SEC_TEXT_BLOCKS].data;
    uint64_t nb = s[RC_SEC_TEXT_BLOCKS].len / 16 - 1;
    for (uint64_t b = 0; b < nb; b++) {
        uint64_t r0 = rc_get_u64(tb + 16 * b), c0 = rc_get_u64(tb + 16 * b + 8);
        uint64_t r1 = rc_get_u64(tb + 16 * b + 16), c1 = rc_get_u64(tb + 16 * b + 24);
        if (r1 <= r0 || c1 <= c0 || r1 - r0 > idx->block_size)
            return corrupt(err, path, "bad text block table");
    }
    if (rc_get_u64(tb) != 0 || rc_get_u64(tb + 8) != 0 ||
        rc_get_u64(tb + 16 * nb) != idx->text_bytes ||
        rc_get_u64(tb + 16 * nb + 8) != s[RC_SEC_TEXT_DATA].len)
        return corrupt(err, path, "text block table does not cover the text");

    /* Clusters tile the text and the token space in order. */
    uint64_t ncp = s[RC_SEC_CHECKPOINTS].len / 4, text_end = 0, tok_end = 0, cp_end = 0,
             mem_end = 0, work_end = 0;
    for (uint64_t c = 0; c < idx->nclusters; c++) {
        rc_cluster cl;
        rc_index_cluster(idx, (uint32_t)c, &cl);
        uint64_t want_cp = cl.ntokens ? (cl.ntokens - 1) / RC_CHECKPOINT_EVERY + 1 : 0;
        uint64_t stored = rc_index_stored_len(idx, (uint32_t)c);
        if (stored > idx->text_bytes || (idx->text_free && stored < cl.ntokens * 7))
            return corrupt(err, path, "clusters do not tile the text");
        work_end += cl.text_len;
        if (cl.text_offset != text_end || cl.token_base != tok_end || cl.checkpoint0 != cp_end ||
            cl.member0 != mem_end || cl.nmembers == 0 || cl.text_len == 0 ||
            cl.text_len > UINT32_MAX || cl.family > c ||
            (cl.mode != RECITE_MODE_PROSE && cl.mode != RECITE_MODE_CODE))
            return corrupt(err, path, "clusters do not tile the text");
        text_end += stored;
        tok_end += cl.ntokens;
        cp_end += want_cp;
        mem_end += cl.nmembers;
        if (cp_end > ncp || text_end > idx->text_bytes || mem_end > idx->nworks)
            return corrupt(err, path, "cluster out of range");
        const uint8_t *cp = s[RC_SEC_CHECKPOINTS].data + 4 * cl.checkpoint0;
        uint64_t prev = 0;
        for (uint64_t k = 0; k < want_cp; k++) {
            uint64_t off = rc_get_u32(cp + 4 * k);
            if (off < prev || off > stored || (k == 0 && off != 0))
                return corrupt(err, path, "bad checkpoint");
            prev = off;
        }
        const uint8_t *mem = s[RC_SEC_MEMBERS].data + 4 * (uint64_t)cl.member0;
        for (uint32_t m = 0; m < cl.nmembers; m++) {
            uint32_t w = rc_get_u32(mem + 4 * m);
            if (w >= idx->nworks || rc_index_work_cluster(idx, w) != c)
                return corrupt(err, path, "bad cluster member");
        }
    }
    if (text_end != idx->text_bytes || tok_end != idx->ntokens || cp_end != ncp ||
        mem_end != idx->nworks || work_end != idx->work_bytes)
        return corrupt(err, path, "clusters do not cover the text");

    for (uint64_t w = 0; w < idx->nworks; w++) {
        if (rc_index_work_cluster(idx, (uint32_t)w) >= idx->nclusters)
            return corrupt(err, path, "work refers to a missing cluster");
        for (unsigned f = 0; f < RC_WS_COUNT_; f++)
            if (work_str(idx, (uint32_t)w, f) >= str->len)
                return corrupt(err, path, "work string out of range");
        if (work_str(idx, (uint32_t)w, RC_WS_ID) == 0)
            return corrupt(err, path, "work without id");
    }

    /* Postings of each channel: the directory is monotonic and every position is a token of
     * a cluster of the channel's mode (checked where the cluster is found, at lookup). */
    for (unsigned c = 0; c < RC_CHANNELS; c++) {
        const rc_channel_info *ch = &idx->ch[c];
        const uint8_t *dir = ch->dir;
        uint64_t nbk = (uint64_t)1 << ch->bucket_bits, prev = 0;
        for (uint64_t b = 0; b <= nbk; b++) {
            uint64_t v = rc_get_u32(dir + 4 * b);
            if (v < prev || (b == 0 && v != 0))
                return corrupt(err, path, "fingerprint directory not monotonic");
            prev = v;
        }
        if (prev != ch->npostings)
            return corrupt(err, path, "fingerprint directory does not cover the postings");
        for (uint64_t i = 0; i < ch->npostings; i++)
            if (rc_get_u32(ch->pos + 4 * i) >= idx->ntokens)
                return corrupt(err, path, "fingerprint position out of range");
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
    uint64_t flags = rc_get_u64(h + RC_H_FLAGS);
    if (flags & ~(uint64_t)(RC_FLAG_TEXT_FREE | RC_FLAG_CMI))
        return rc_error_set(err, RECITE_EVERSION,
                            "%s: index uses features this recite does not know (flags %#llx)", path,
                            (unsigned long long)flags);
    idx->text_free = flags & RC_FLAG_TEXT_FREE;
    idx->cmi = flags & RC_FLAG_CMI;
    if (!idx->text_free && idx->work_bytes != idx->text_bytes)
        return corrupt(err, path, "text sizes disagree");
    if (idx->nworks > UINT32_MAX || idx->nclusters > idx->nworks || idx->ntokens > UINT32_MAX ||
        idx->block_size == 0)
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
        if (off < RC_DATA_OFFSET || off > idx->map_len || len > idx->map_len - off)
            return rc_error_set(err, RECITE_EFORMAT,
                                "%s: corrupt index (section %u extends past the end of the file: "
                                "truncated?)",
                                path, id);
        if (XXH3_64bits(idx->map + off, len) != sum)
            return rc_error_set(err, RECITE_EFORMAT,
                                "%s: corrupt index (checksum mismatch in section %u)", path, id);
        idx->sec[id] = (rc_section){idx->map + off, len};
    }
    for (size_t k = 0; k < RC_ARRAY_LEN(section_kinds); k++) {
        const rc_section *s = &idx->sec[section_kinds[k].id];
        if (!s->data)
            return corrupt(err, path, "missing section");
        if (s->len % section_kinds[k].elem)
            return corrupt(err, path, "section length is not a whole number of records");
    }
    idx->nblocks = idx->sec[RC_SEC_TEXT_BLOCKS].len / 16 - 1;
    if (idx->sec[RC_SEC_CHANNELS].len != RC_CHANNELS * RC_CHANNEL_REC_SIZE)
        return corrupt(err, path, "bad channel table");
    for (unsigned c = 0; c < RC_CHANNELS; c++) {
        const uint8_t *rec = idx->sec[RC_SEC_CHANNELS].data + c * RC_CHANNEL_REC_SIZE;
        rc_channel_info *ch = &idx->ch[c];
        ch->kgram = rc_get_u32(rec);
        ch->window = rc_get_u32(rec + 4);
        ch->bucket_bits = rc_get_u32(rec + 8);
        ch->npostings = rc_get_u64(rec + 16);
        if (ch->kgram < 1 || ch->kgram > 16 || ch->window < 1 || ch->window > 256 ||
            ch->bucket_bits > 32)
            return corrupt(err, path, "bad fingerprint parameters");
        const rc_section *d = &idx->sec[RC_SEC_POST_DIR(c)], *k = &idx->sec[RC_SEC_POST_KEY(c)],
                         *p = &idx->sec[RC_SEC_POST_POS(c)];
        if (d->len != (((uint64_t)1 << ch->bucket_bits) + 1) * 4 || k->len != ch->npostings * 4 ||
            p->len != ch->npostings * 4)
            return corrupt(err, path, "fingerprint sections disagree with their parameters");
        ch->dir = d->data;
        ch->key = k->data;
        ch->pos = p->data;
    }
    return RECITE_OK;
}

int recite_index_open_keyed(recite_index **out, const char *dir, const void *key, size_t key_len,
                            recite_error *err)
{
    int rc = recite_index_open(out, dir, err);
    if (rc != RECITE_OK || !(*out)->text_free)
        return rc;
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

int recite_index_open(recite_index **out, const char *dir, recite_error *err)
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
    idx->fd = open(path, O_RDONLY | O_CLOEXEC);
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
    if ((rc = validate_tables(idx, path, err)) != RECITE_OK)
        goto fail;
    /* The license texts (DIR/licenses), when the build found some: for CMI at check time. */
    char *lic;
    struct stat lst;
    if (asprintf(&lic, "%s/licenses/%s", dir, RC_INDEX_FILE) >= 0) {
        if (stat(lic, &lst) == 0) {
            lic[strlen(lic) - strlen(RC_INDEX_FILE) - 1] = 0;
            if ((rc = recite_index_open(&idx->licenses, lic, err)) != RECITE_OK) {
                free(lic);
                goto fail;
            }
        }
        free(lic);
    }
    if (idx->sec[RC_SEC_TEXT_DICT].len) {
        idx->ddict =
            ZSTD_createDDict(idx->sec[RC_SEC_TEXT_DICT].data, idx->sec[RC_SEC_TEXT_DICT].len);
        if (!idx->ddict) {
            rc = corrupt(err, path, "bad text dictionary");
            goto fail;
        }
    }
    *out = idx;
    return RECITE_OK;
fail:
    recite_index_close(idx);
    return rc;
}

void recite_index_close(recite_index *idx)
{
    if (!idx)
        return;
    recite_index_close(idx->licenses);
    ZSTD_freeDDict(idx->ddict);
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
    const rc_section *s = idx->sec;
    for (unsigned c = 0; c < RC_CHANNELS; c++)
        out->bytes_postings +=
            s[RC_SEC_POST_DIR(c)].len + s[RC_SEC_POST_KEY(c)].len + s[RC_SEC_POST_POS(c)].len;
    out->bytes_text = s[RC_SEC_TEXT_DATA].len + s[RC_SEC_TEXT_BLOCKS].len;
    out->bytes_works = s[RC_SEC_WORKS].len + s[RC_SEC_CLUSTERS].len + s[RC_SEC_MEMBERS].len +
                       s[RC_SEC_STRINGS].len;
    out->bytes_checkpoints = s[RC_SEC_CHECKPOINTS].len;
    out->text_blocks = idx->nblocks;
    out->text_block_size = idx->block_size;
}

uint32_t recite_index_work_count(const recite_index *idx)
{
    return (uint32_t)idx->nworks;
}

int recite_index_work(recite_work_info *out, const recite_index *idx, uint32_t w)
{
    memset(out, 0, sizeof *out);
    if (w >= idx->nworks)
        return RECITE_EINVAL;
    const char *str = (const char *)idx->sec[RC_SEC_STRINGS].data;
    const char **fields[RC_WS_COUNT_] = {
        &out->id,     &out->title, &out->author,        &out->license,  &out->copyright,
        &out->source, &out->url,   &out->metadata_json, &out->cmi_json, &out->content_hash};
    for (unsigned f = 0; f < RC_WS_COUNT_; f++) {
        uint64_t off = work_str(idx, w, f);
        *fields[f] = off ? str + off : NULL;
    }
    out->cluster = rc_index_work_cluster(idx, w);
    rc_cluster cl;
    rc_index_cluster(idx, out->cluster, &cl);
    out->bytes = cl.text_len;
    out->tokens = cl.ntokens;
    out->representative = rc_get_u32(idx->sec[RC_SEC_MEMBERS].data + 4 * (uint64_t)cl.member0);
    out->mode = (recite_mode)cl.mode;
    return RECITE_OK;
}

const uint32_t *recite_index_cluster_members(const recite_index *idx, uint32_t cluster,
                                             uint32_t *count)
{
    *count = 0;
    if (cluster >= idx->nclusters)
        return NULL;
    rc_cluster cl;
    rc_index_cluster(idx, cluster, &cl);
    *count = cl.nmembers;
    /* MEMBERS is 4-aligned within a 64-aligned section: safe to view as u32 on little-endian. */
    return (const uint32_t *)(const void *)(idx->sec[RC_SEC_MEMBERS].data +
                                            4 * (uint64_t)cl.member0);
}

uint32_t rc_index_cluster_of_token(const recite_index *idx, uint64_t gpos)
{
    uint64_t lo = 0, hi = idx->nclusters; /* invariant: answer in [lo, hi) */
    while (hi - lo > 1) {
        uint64_t mid = lo + (hi - lo) / 2;
        uint64_t base = rc_get_u64(idx->sec[RC_SEC_CLUSTERS].data + mid * RC_CLUSTER_REC_SIZE + 16);
        if (base <= gpos)
            lo = mid;
        else
            hi = mid;
    }
    /* Clusters with no tokens share a base with their successor; step to the one holding gpos. */
    rc_cluster cl;
    rc_index_cluster(idx, (uint32_t)lo, &cl);
    while (cl.ntokens == 0 || gpos >= cl.token_base + cl.ntokens) {
        if (lo + 1 >= idx->nclusters)
            break;
        rc_index_cluster(idx, (uint32_t)++lo, &cl);
    }
    return (uint32_t)lo;
}

/* ==== stored text ==== */

uint64_t rc_index_stored_len(const recite_index *idx, uint32_t cluster)
{
    rc_cluster cl;
    rc_index_cluster(idx, cluster, &cl);
    if (!idx->text_free)
        return cl.text_len;
    uint64_t end = idx->text_bytes;
    if ((uint64_t)cluster + 1 < idx->nclusters) {
        rc_cluster next;
        rc_index_cluster(idx, cluster + 1, &next);
        end = next.text_offset;
    }
    return end - cl.text_offset;
}

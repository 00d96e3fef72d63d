/*
 * index_shards.c — a sharded index (docs/FORMAT.md, "Sharded indexes"): DIR/recite.idx is its
 * head (flag RC_FLAG_SHARDED), which numbers works, clusters and tokens as one index of the whole
 * library, and DIR/shard-NNNN/ are ordinary indexes of disjoint sets of works. Opening maps the
 * shards and checks them against the head in O(shards); the readers of index_load.c, store.c and
 * locate.c route each record to its shard with the functions here.
 */
#include "rc_index.h"

#include <stdio.h>
#include <stdlib.h>
#include <xxhash.h>

static int corrupt(recite_error *err, const char *path, const char *what)
{
    return rc_error_set(err, RECITE_EFORMAT, "%s: corrupt index (%s)", path, what);
}

/* ==== open ==== */

/* A shard as its head records it. */
typedef struct shard_rec {
    uint64_t works, clusters, tokens, stored, work_bytes, file_size, header_sum, postings;
} shard_rec;

static shard_rec read_rec(const uint8_t *p)
{
    return (shard_rec){rc_get_u64(p),      rc_get_u64(p + 8),  rc_get_u64(p + 16),
                       rc_get_u64(p + 24), rc_get_u64(p + 32), rc_get_u64(p + 40),
                       rc_get_u64(p + 48), rc_get_u64(p + 56)};
}

/* Shard s is the index the head describes: its size, header checksum and counts, its channel
 * parameters and its flags. */
static int check_shard(const recite_index *idx, const recite_index *sh, const shard_rec *r,
                       const char *path, recite_error *err)
{
    uint64_t postings = 0;
    for (unsigned c = 0; c < RC_CHANNELS; c++) {
        postings += sh->ch[c].npostings;
        if (sh->ch[c].kgram != idx->ch[c].kgram || sh->ch[c].window != idx->ch[c].window)
            return corrupt(err, path, "a shard's fingerprint parameters differ from the head's");
    }
    if (sh->map_len != r->file_size || rc_get_u64(sh->map + RC_H_CHECKSUM) != r->header_sum)
        return corrupt(err, path, "a shard is not the one its head lists (replaced or damaged)");
    if (sh->nworks != r->works || sh->nclusters != r->clusters || sh->ntokens != r->tokens ||
        sh->text_bytes != r->stored || sh->work_bytes != r->work_bytes || postings != r->postings)
        return corrupt(err, path, "a shard's counts differ from its head's");
    if (sh->text_free != idx->text_free || sh->cmi != idx->cmi || sh->nshards)
        return corrupt(err, path, "a shard's flags differ from its head's");
    if (sh->common_texts != idx->common_texts)
        return corrupt(err, path, "a shard's common threshold differs from its head's");
    return RECITE_OK;
}

int rc_shards_open(recite_index *idx, const char *dir, unsigned part, unsigned nparts,
                   recite_error *err)
{
    const rc_section *sec = idx->sec;
    uint64_t n = sec[RC_SEC_SHARDS].len / RC_SHARD_REC_SIZE;
    if (n == 0 || n > RC_MAX_SHARDS || sec[RC_SEC_WORK_MAP].len != idx->nworks * 8 ||
        sec[RC_SEC_SHARD_WORKS].len != idx->nworks * 4 ||
        sec[RC_SEC_MEMBERS].len != idx->nworks * 4)
        return corrupt(err, dir, "the head's sections disagree with its counts");
    /* Views are numbered nclusters + the first cluster of their shard + their number there:
     * known from the head alone, whichever shards are open. */
    if (idx->nclusters > UINT32_MAX / 2)
        return rc_error_set(err, RECITE_ELIMIT, "%s: more than 2^31 clusters in a sharded index",
                            dir);
    int rc = rc_index_touch(idx, sec[RC_SEC_SHARDS].data, sec[RC_SEC_SHARDS].len, err);
    if (rc != RECITE_OK)
        return rc;
    if (!(idx->shards = calloc(n, sizeof *idx->shards)))
        return rc_error_set(err, RECITE_ENOMEM, "out of memory");
    idx->nshards = (uint32_t)n;
    uint64_t works = 0, clusters = 0, tokens = 0, stored = 0, work_bytes = 0, all_postings = 0;
    uint64_t postings[RC_CHANNELS] = {0};
    size_t open = 0;
    for (uint32_t s = 0; s < n; s++) {
        rc_shard *sh = &idx->shards[s];
        shard_rec r = read_rec(sec[RC_SEC_SHARDS].data + (uint64_t)s * RC_SHARD_REC_SIZE);
        sh->cluster0 = sh->view0 = clusters;
        sh->token0 = tokens;
        sh->text0 = stored;
        sh->work0 = works;
        works += r.works;
        clusters += r.clusters;
        tokens += r.tokens;
        stored += r.stored;
        work_bytes += r.work_bytes;
        all_postings += r.postings;
        if (nparts > 1 && s % nparts != part)
            continue; /* another participant's */
        char path[4096];
        if ((size_t)snprintf(path, sizeof path, "%s/" RC_SHARD_DIR, dir, s) >= sizeof path)
            return rc_error_set(err, RECITE_EINVAL, "%s: path too long", dir);
        if ((rc = recite_index_open(&sh->idx, path, err)) != RECITE_OK)
            return rc;
        if ((rc = check_shard(idx, sh->idx, &r, path, err)) != RECITE_OK)
            return rc;
        if (sh->idx->nviews > r.clusters)
            return corrupt(err, dir, "a shard has more views than clusters");
        for (unsigned c = 0; c < RC_CHANNELS; c++)
            postings[c] += sh->idx->ch[c].npostings;
        open++;
    }
    if (works != idx->nworks || clusters != idx->nclusters || tokens != idx->ntokens ||
        stored != idx->text_bytes || work_bytes != idx->work_bytes)
        return corrupt(err, dir, "the shards do not add up to the library");
    if (idx->nviews)
        return corrupt(err, dir, "the shards' views do not fit the library");
    idx->nviews = idx->nclusters; /* the room of view numbers (not every one is a view) */
    uint64_t head_postings = 0;
    for (unsigned c = 0; c < RC_CHANNELS; c++) {
        head_postings += idx->ch[c].npostings;
        if (open == n && postings[c] != idx->ch[c].npostings)
            return corrupt(err, dir, "the shards' fingerprints do not add up to the library's");
    }
    if (all_postings != head_postings)
        return corrupt(err, dir, "the shards' fingerprints do not add up to the library's");
    /* Lookups scan the open shards' postings in shard order. */
    for (unsigned c = 0; c < RC_CHANNELS; c++) {
        if (!(idx->tables[c] = calloc(open + 1, sizeof *idx->tables[c])))
            return rc_error_set(err, RECITE_ENOMEM, "out of memory");
        size_t t = 0;
        for (uint32_t s = 0; s < n; s++)
            if (idx->shards[s].idx)
                idx->tables[c][t++] = (rc_posting_table){
                    idx->shards[s].idx, &idx->shards[s].idx->ch[c], idx->shards[s].token0, s};
    }
    idx->ntables = open;
    idx->part = nparts > 1;
    idx->part_of = nparts > 1 ? nparts : 1;
    idx->part_no = nparts > 1 ? part : 0;
    return RECITE_OK;
}

int recite_index_open_part(recite_index **out, const char *dir, const void *key, size_t key_len,
                           unsigned part, unsigned nparts, recite_error *err)
{
    *out = NULL;
    if (nparts == 0 || part >= nparts)
        return rc_error_set(err, RECITE_EINVAL, "part %u of %u of an index", part, nparts);
    int rc = rc_index_open_at(out, dir, part, nparts, err);
    if (rc == RECITE_OK && (*out)->nshards && !((*out)->remote = rc_remote_new())) {
        recite_index_close(*out);
        *out = NULL;
        return rc_error_set(err, RECITE_ENOMEM, "out of memory");
    }
    return rc == RECITE_OK ? rc_index_take_key(out, dir, key, key_len, err) : rc;
}

void rc_shards_close(recite_index *idx)
{
    for (uint32_t s = 0; idx->shards && s < idx->nshards; s++)
        recite_index_close(idx->shards[s].idx);
    free(idx->shards);
    idx->shards = NULL;
    idx->nshards = 0;
}

/* ==== routing ==== */

/* The last shard whose range starts at or before x (ranges by offset `field` of rc_shard); it
 * is never an empty shard when x is inside the library. */
#define LAST_AT_MOST(idx, field, x)                                                                \
    do {                                                                                           \
        uint32_t lo = 0, hi = (idx)->nshards;                                                      \
        while (hi - lo > 1) {                                                                      \
            uint32_t mid = lo + (hi - lo) / 2;                                                     \
            if ((idx)->shards[mid].field <= (x))                                                   \
                lo = mid;                                                                          \
            else                                                                                   \
                hi = mid;                                                                          \
        }                                                                                          \
        return lo;                                                                                 \
    } while (0)

uint32_t rc_shard_of_cluster(const recite_index *idx, uint64_t cluster)
{
    LAST_AT_MOST(idx, cluster0, cluster);
}

uint32_t rc_shard_route(const recite_index *idx, uint32_t i, uint32_t *local)
{
    if (i >= idx->nclusters) { /* a view: numbered after the shard's clusters there */
        uint64_t v = i - idx->nclusters;
        uint32_t s = rc_shard_of_cluster(idx, v); /* view0 = cluster0 */
        uint64_t shard_clusters =
            (s + 1 < idx->nshards ? idx->shards[s + 1].cluster0 : idx->nclusters) -
            idx->shards[s].cluster0;
        *local = (uint32_t)(shard_clusters + (v - idx->shards[s].view0));
        return s;
    }
    uint32_t s = rc_shard_of_cluster(idx, i);
    *local = (uint32_t)(i - idx->shards[s].cluster0);
    return s;
}

uint32_t rc_shard_global_cluster(const recite_index *idx, uint32_t s, uint32_t local)
{
    const rc_shard *sh = &idx->shards[s];
    if (sh->idx && local >= sh->idx->nclusters)
        return (uint32_t)(idx->nclusters + sh->view0 + (local - sh->idx->nclusters));
    return (uint32_t)(sh->cluster0 + local);
}

uint32_t rc_shard_of_token(const recite_index *idx, uint64_t gpos)
{
    LAST_AT_MOST(idx, token0, gpos);
}

uint32_t rc_shard_of_text(const recite_index *idx, uint64_t off)
{
    LAST_AT_MOST(idx, text0, off);
}

/* Works of shard s, from the head (whether or not the shard is open here). */
static uint64_t shard_works(const recite_index *idx, uint32_t s)
{
    return (s + 1 < idx->nshards ? idx->shards[s + 1].work0 : idx->nworks) - idx->shards[s].work0;
}

int rc_shards_work(const recite_index *idx, uint32_t w, uint32_t *shard, uint32_t *local)
{
    const uint8_t *p = idx->sec[RC_SEC_WORK_MAP].data + 8 * (uint64_t)w;
    if (w >= idx->nworks || rc_index_touch(idx, p, 8, NULL) != RECITE_OK)
        return RECITE_EFORMAT;
    *shard = rc_get_u32(p);
    *local = rc_get_u32(p + 4);
    if (*shard >= idx->nshards || *local >= shard_works(idx, *shard))
        return RECITE_EFORMAT;
    return RECITE_OK;
}

uint32_t rc_shards_global_work(const recite_index *idx, uint32_t s, uint32_t local)
{
    const rc_shard *sh = &idx->shards[s];
    const uint8_t *p = idx->sec[RC_SEC_SHARD_WORKS].data + 4 * (sh->work0 + local);
    if (local >= shard_works(idx, s) || rc_index_touch(idx, p, 4, NULL) != RECITE_OK)
        return UINT32_MAX;
    uint32_t w = rc_get_u32(p);
    return w < idx->nworks ? w : UINT32_MAX;
}

void rc_shards_globalize(const recite_index *idx, uint32_t s, rc_cluster *cl)
{
    const rc_shard *sh = &idx->shards[s];
    cl->text_offset += sh->text0;
    cl->token_base += sh->token0;
    cl->member0 += (uint32_t)sh->work0;
    cl->family += (uint32_t)sh->cluster0;
    cl->primary += (uint32_t)sh->cluster0;
}

void rc_shards_localize(const recite_index *idx, uint32_t s, rc_cluster *cl)
{
    const rc_shard *sh = &idx->shards[s];
    cl->text_offset -= sh->text0;
    cl->token_base -= sh->token0;
    cl->member0 -= (uint32_t)sh->work0;
    cl->family -= (uint32_t)sh->cluster0;
    cl->primary -= (uint32_t)sh->cluster0;
}

uint64_t rc_posting_rank(const rc_posting_table *t, uint64_t pos, const recite_index *head)
{
    const recite_index *sh = t->idx;
    uint32_t lc = rc_index_cluster_of_token(sh, pos);
    rc_cluster cl;
    if (lc == UINT32_MAX || rc_index_cluster_check(sh, lc, &cl, NULL) != RECITE_OK)
        return UINT64_MAX;
    uint32_t rep = rc_index_member(sh, cl.member0);
    uint32_t w = head->nshards ? rc_shards_global_work(head, t->shard, rep) : rep;
    return (uint64_t)w << 32 | (pos - cl.token_base);
}

/* ==== verification ==== */

int rc_shards_verify(const recite_index *idx, bool shards_too, recite_error *err)
{
    /* A part: its open shards (and the head). */
    for (uint32_t s = 0; shards_too && s < idx->nshards; s++) {
        if (!idx->shards[s].idx)
            continue;
        recite_error e = {0};
        int rc = recite_index_verify(idx->shards[s].idx, &e);
        if (rc != RECITE_OK)
            return rc_error_set(err, rc, "shard %u: %s", s, e.message);
    }
    const uint8_t *mem = idx->sec[RC_SEC_MEMBERS].data;
    for (unsigned id = 1; id < RC_SEC_COUNT_; id++) {
        int rc = rc_index_touch(idx, idx->sec[id].data, idx->sec[id].len, err);
        if (rc != RECITE_OK)
            return rc;
    }
    for (uint32_t s = 0; s < idx->nshards; s++) {
        const rc_shard *sh = &idx->shards[s];
        uint32_t prev = 0;
        for (uint32_t lw = 0; sh->idx && lw < sh->idx->nworks; lw++) {
            uint32_t w = rc_shards_global_work(idx, s, lw), ms, ml;
            if (w == UINT32_MAX || (lw && w <= prev) || rc_shards_work(idx, w, &ms, &ml) != 0 ||
                ms != s || ml != lw)
                return rc_error_set(err, RECITE_EFORMAT,
                                    "corrupt index (the head's work map disagrees with shard %u)",
                                    s);
            prev = w;
            uint32_t m = rc_index_member(sh->idx, lw);
            if (m >= sh->idx->nworks ||
                rc_get_u32(mem + 4 * (sh->work0 + lw)) != rc_shards_global_work(idx, s, m))
                return rc_error_set(err, RECITE_EFORMAT,
                                    "corrupt index (the head's members disagree with shard %u)", s);
        }
    }
    return RECITE_OK;
}

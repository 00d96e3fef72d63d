/*
 * index_remote.c — the works of shards open elsewhere that a distributed check brought to a
 * participant holding part of a sharded index (recite_check_distributed): their records, CMI,
 * clusters' members and locators, copied into one store per index and replaced check after
 * check, so that reports render works of every shard through the ordinary index functions.
 */
#include "rc_index.h"

#include <stdlib.h>

#define NSTR 10 /* the strings of recite_work_info */

typedef struct remote_work {
    uint32_t work, cluster, representative, member0, nmembers;
    recite_mode mode;
    uint64_t bytes, tokens;
    uint64_t str[NSTR]; /* offsets into the arena, 0 = NULL */
    uint64_t cmi, cmi_len;
} remote_work;

typedef struct remote_loc {
    uint32_t work, page, pages, chapter;
    uint64_t offset, line;
    uint64_t chapter_title, chapter_name, member; /* arena offsets, 0 = NULL */
} remote_loc;

struct rc_remote {
    RC_VEC(remote_work) works;   /* sorted by work once sealed */
    RC_VEC(uint64_t) by_cluster; /* cluster << 32 | works[] entry, sorted */
    RC_VEC(remote_loc) locs;     /* sorted by work, offset */
    RC_VEC(uint8_t) arena;       /* starts with a NUL: offset 0 is "none" */
};

rc_remote *rc_remote_new(void)
{
    return calloc(1, sizeof(rc_remote));
}

int rc_remote_begin(const recite_index *idx)
{
    rc_remote *r = idx->remote;
    if (!r)
        return RECITE_EINVAL;
    r->works.n = r->by_cluster.n = r->locs.n = 0;
    r->arena.n = 0;
    return RC_VEC_PUSH(r->arena, 0);
}

void rc_remote_free(rc_remote *r)
{
    if (!r)
        return;
    RC_VEC_FREE(r->works);
    RC_VEC_FREE(r->by_cluster);
    RC_VEC_FREE(r->locs);
    RC_VEC_FREE(r->arena);
    free(r);
}

/* Copies n bytes (a string with its NUL when n is SIZE_MAX) into the arena: their offset, 0 for
 * NULL, UINT64_MAX when out of memory. */
static uint64_t keep(rc_remote *r, const void *p, size_t n)
{
    if (!p)
        return 0;
    if (n == SIZE_MAX)
        n = strlen(p) + 1;
    if (RC_VEC_RESERVE(r->arena, r->arena.n + n + 1) != RECITE_OK)
        return UINT64_MAX;
    uint64_t at = r->arena.n;
    memcpy(r->arena.v + at, p, n);
    r->arena.n += n;
    return at;
}

int rc_remote_add_work(const recite_index *idx, uint32_t work, const recite_work_info *info,
                       const uint8_t *cmi, size_t cmi_len, uint32_t member0, uint32_t nmembers)
{
    rc_remote *r = idx->remote;
    if (!r || work >= idx->nworks || (uint64_t)member0 + nmembers > idx->nworks)
        return RECITE_EINVAL;
    const char *s[NSTR] = {info->id,        info->title,       info->author, info->license,
                           info->copyright, info->source,      info->url,    info->metadata_json,
                           info->cmi_json,  info->content_hash};
    remote_work w = {work,       info->cluster, info->representative, member0, nmembers,
                     info->mode, info->bytes,   info->tokens,         {0},     0,
                     0};
    for (unsigned k = 0; k < NSTR; k++)
        if ((w.str[k] = keep(r, s[k], SIZE_MAX)) == UINT64_MAX)
            return RECITE_ENOMEM;
    if (cmi_len && (w.cmi = keep(r, cmi, cmi_len)) == UINT64_MAX)
        return RECITE_ENOMEM;
    w.cmi_len = cmi_len;
    return RC_VEC_PUSH(r->works, w);
}

int rc_remote_add_locator(const recite_index *idx, uint32_t work, uint64_t offset,
                          const recite_locator *loc)
{
    rc_remote *r = idx->remote;
    if (!r)
        return RECITE_EINVAL;
    remote_loc l = {work, loc->page, loc->pages, loc->chapter, offset, loc->line, 0, 0, 0};
    if ((l.chapter_title = keep(r, loc->chapter_title, SIZE_MAX)) == UINT64_MAX ||
        (l.chapter_name = keep(r, loc->chapter_name, SIZE_MAX)) == UINT64_MAX ||
        (l.member = keep(r, loc->member, SIZE_MAX)) == UINT64_MAX)
        return RECITE_ENOMEM;
    return RC_VEC_PUSH(r->locs, l);
}

static int cmp_work(const void *a, const void *b)
{
    const remote_work *x = a, *y = b;
    return (x->work > y->work) - (x->work < y->work);
}

static int cmp_loc(const void *a, const void *b)
{
    const remote_loc *x = a, *y = b;
    if (x->work != y->work)
        return x->work < y->work ? -1 : 1;
    return (x->offset > y->offset) - (x->offset < y->offset);
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

int rc_remote_seal(const recite_index *idx)
{
    rc_remote *r = idx->remote;
    if (!r)
        return RECITE_EINVAL;
    rc_sort(r->works.v, r->works.n, sizeof *r->works.v, cmp_work);
    size_t n = 0; /* one entry per work */
    for (size_t i = 0; i < r->works.n; i++)
        if (n == 0 || r->works.v[n - 1].work != r->works.v[i].work)
            r->works.v[n++] = r->works.v[i];
    r->works.n = n;
    rc_sort(r->locs.v, r->locs.n, sizeof *r->locs.v, cmp_loc);
    if (RC_VEC_RESERVE(r->by_cluster, n + 1) != RECITE_OK)
        return RECITE_ENOMEM;
    for (size_t i = 0; i < n; i++)
        r->by_cluster.v[i] = (uint64_t)r->works.v[i].cluster << 32 | i;
    r->by_cluster.n = n;
    rc_sort(r->by_cluster.v, n, sizeof *r->by_cluster.v, cmp_u64);
    return RECITE_OK;
}

static const char *str_at(const rc_remote *r, uint64_t off)
{
    return off ? (const char *)r->arena.v + off : NULL;
}

static const remote_work *find_work(const rc_remote *r, uint32_t work)
{
    size_t lo = 0, hi = r->works.n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (r->works.v[mid].work < work)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < r->works.n && r->works.v[lo].work == work ? &r->works.v[lo] : NULL;
}

bool rc_remote_work(const recite_index *idx, uint32_t work, recite_work_info *info,
                    const uint8_t **cmi, size_t *cmi_len)
{
    const rc_remote *r = idx->remote;
    const remote_work *w = r ? find_work(r, work) : NULL;
    if (!w)
        return false;
    if (info) {
        const char **s[NSTR] = {&info->id,          &info->title,         &info->author,
                                &info->license,     &info->copyright,     &info->source,
                                &info->url,         &info->metadata_json, &info->cmi_json,
                                &info->content_hash};
        for (unsigned k = 0; k < NSTR; k++)
            *s[k] = str_at(r, w->str[k]);
        info->bytes = w->bytes;
        info->tokens = w->tokens;
        info->cluster = w->cluster;
        info->representative = w->representative;
        info->mode = w->mode;
    }
    if (cmi) {
        *cmi = w->cmi_len ? r->arena.v + w->cmi : NULL;
        *cmi_len = (size_t)w->cmi_len;
    }
    return true;
}

bool rc_remote_members(const recite_index *idx, uint32_t cluster, uint32_t *member0,
                       uint32_t *nmembers)
{
    const rc_remote *r = idx->remote;
    if (!r)
        return false;
    size_t lo = 0, hi = r->by_cluster.n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (r->by_cluster.v[mid] >> 32 < cluster)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == r->by_cluster.n || r->by_cluster.v[lo] >> 32 != cluster)
        return false;
    const remote_work *w = &r->works.v[(uint32_t)r->by_cluster.v[lo]];
    *member0 = w->member0;
    *nmembers = w->nmembers;
    return true;
}

bool rc_remote_locate(const recite_index *idx, uint32_t work, uint64_t offset, recite_locator *out)
{
    const rc_remote *r = idx->remote;
    if (!r)
        return false;
    size_t lo = 0, hi = r->locs.n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const remote_loc *l = &r->locs.v[mid];
        if (l->work < work || (l->work == work && l->offset < offset))
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == r->locs.n || r->locs.v[lo].work != work || r->locs.v[lo].offset != offset)
        return false;
    const remote_loc *l = &r->locs.v[lo];
    *out = (recite_locator){l->line,
                            l->page,
                            l->pages,
                            l->chapter,
                            str_at(r, l->chapter_title),
                            str_at(r, l->chapter_name),
                            str_at(r, l->member)};
    return true;
}

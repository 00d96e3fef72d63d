/*
 * index_views.c — the word views of code texts (docs/FORMAT.md, section VIEWS): a code cluster
 * is also indexed by its words, as a view numbered nclusters + v that the matcher treats like a
 * prose cluster whose works are the code cluster's. Reading view records, finding the view of a
 * cluster and the view holding a global token; the cluster functions of index_load.c use them.
 */
#include "rc_index.h"

/* View record v (v < nviews), its pages checked; false when they do not match. */
bool rc_index_view(const recite_index *idx, uint64_t v, rc_view *out)
{
    const uint8_t *p = idx->sec[RC_SEC_VIEWS].data + v * RC_VIEW_REC_SIZE;
    if (v >= idx->nviews || rc_index_touch(idx, p, RC_VIEW_REC_SIZE, NULL) != RECITE_OK)
        return false;
    out->cluster = rc_get_u32(p);
    out->text_offset = rc_get_u64(p + 8);
    out->token_base = rc_get_u64(p + 16);
    out->ntokens = rc_get_u64(p + 24);
    out->checkpoint0 = rc_get_u64(p + 32);
    return true;
}

/* Views are in increasing order of their clusters (checked where it matters: a binary search
 * on a damaged table finds nothing, or a view that fails the checks of its caller). */
uint64_t rc_index_view_of(const recite_index *idx, uint32_t cluster)
{
    uint64_t lo = 0, hi = idx->nviews;
    while (lo < hi) {
        uint64_t mid = lo + (hi - lo) / 2;
        rc_view v;
        if (!rc_index_view(idx, mid, &v))
            return UINT64_MAX;
        if (v.cluster == cluster)
            return mid;
        if (v.cluster < cluster)
            lo = mid + 1;
        else
            hi = mid;
    }
    return UINT64_MAX;
}

uint64_t rc_index_view_of_token(const recite_index *idx, uint64_t gpos)
{
    uint64_t lo = 0, hi = idx->nviews; /* the last view whose first token is at or before gpos */
    while (hi - lo > 1) {
        uint64_t mid = lo + (hi - lo) / 2;
        rc_view v;
        if (!rc_index_view(idx, mid, &v))
            return UINT64_MAX;
        if (v.token_base <= gpos)
            lo = mid;
        else
            hi = mid;
    }
    rc_view v;
    if (!rc_index_view(idx, lo, &v) || gpos < v.token_base || gpos - v.token_base >= v.ntokens)
        return UINT64_MAX;
    return lo;
}

/*
 * build_compact.c — compaction (recite_index_compact): the index rebuilt from its own stored
 * texts without the deleted works, by the ordinary build with the kept works of the old index as
 * its inputs (ids, metadata, modes and offsets kept; text, fingerprints and dictionary of the
 * deleted works gone), published atomically like any build.
 */
#include "rc_builder.h"

#include <stdlib.h>

/* The works of an existing index as the inputs of a build (compaction). */
int rc_inputs_from_index(rc_inputs *in, const recite_index *from, const char *dir,
                         const uint32_t *works, size_t nworks, recite_error *err)
{
    memset(in, 0, sizeof *in);
    in->from = from;
    char *d = strdup(dir);
    if (!d || RC_VEC_PUSH(in->paths, d) != RECITE_OK) {
        free(d);
        return rc_error_set(err, RECITE_ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < nworks; i++) {
        recite_work_info info;
        if (recite_index_work(&info, from, works[i]) != RECITE_OK)
            return rc_error_set(err, RECITE_EINVAL, "no work %u in %s", works[i], dir);
        rc_source src = {0, RC_SRC_INDEX, 1, works[i], info.bytes, 0};
        if (RC_VEC_PUSH(in->sources, src) != RECITE_OK)
            return rc_error_set(err, RECITE_ENOMEM, "out of memory");
        in->total_bytes += info.bytes;
    }
    return RECITE_OK;
}

int recite_index_compact(recite_build_stats *stats, const char *dir, const char *const *drop,
                         size_t ndrop, const recite_build_options *opt_in, recite_error *err)
{
    recite_build_options opt = RECITE_BUILD_OPTIONS_INIT;
    if (opt_in)
        opt = *opt_in;
    if (opt.version != RECITE_BUILD_OPTIONS_VERSION)
        return rc_error_set(err, RECITE_EINVAL, "build options version %u not supported",
                            opt.version);
    if (stats)
        memset(stats, 0, sizeof *stats);
    recite_index *from;
    int rc = recite_index_open(&from, dir, err);
    if (rc == RECITE_OK && (rc = recite_index_verify(from, err)) != RECITE_OK) {
        recite_index_close(from); /* its text is what the new index is made of: trust it whole */
        return rc;
    }
    if (rc != RECITE_OK)
        return rc;
    /* The same guarantees as before; works keep their modes. */
    recite_index_stats st;
    recite_index_get_stats(&st, from);
    opt.min_tokens = st.min_tokens;
    opt.code_min_tokens = st.code_min_tokens;
    opt.text_free_key = NULL;
    uint32_t n = recite_index_work_count(from);
    uint32_t *keep = malloc(((size_t)n + 1) * sizeof *keep);
    if (!keep) {
        recite_index_close(from);
        return rc_error_set(err, RECITE_ENOMEM, "out of memory");
    }
    size_t nkeep = 0;
    for (uint32_t w = 0; w < n; w++) {
        recite_work_info info;
        if (recite_index_work(&info, from, w) != RECITE_OK)
            continue; /* cannot happen: verified */
        bool gone = false;
        for (size_t i = 0; i < ndrop && !gone; i++)
            gone = strcmp(drop[i], info.id) == 0;
        if (!gone)
            keep[nkeep++] = w;
    }
    uint64_t dropped = n - nkeep;
    if (nkeep == n) /* none of them is in the index (any more): it stays as it is */
        rc = RECITE_OK;
    else if (from->text_free)
        rc = rc_error_set(err, RECITE_ENOTEXT,
                          "%s: a text-free index cannot be compacted (it has no text to index "
                          "again): rebuild it from the sources without the deleted works",
                          dir);
    else if (nkeep == 0)
        rc = rc_error_set(err, RECITE_EEMPTY,
                          "%s: every work is deleted: nothing would be left to index", dir);
    else
        rc = from->nshards
                 ? rc_build_sharded(stats, dir, NULL, 0, from, keep, nkeep, from->nshards, NULL,
                                    &opt, err)
                 : rc_build_index(stats, dir, NULL, 0, from, keep, nkeep, &opt, NULL, err);
    if (rc == RECITE_OK && stats)
        stats->works_dropped = dropped;
    free(keep);
    recite_index_close(from);
    return rc;
}

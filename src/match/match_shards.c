/*
 * match_shards.c — verification of a sharded index's candidates in parts: the seeds the
 * candidate selection kept (in the library's order) are split by shard, each part extends,
 * classifies and aligns its seeds with a matcher of its own (its own reader, caches and scratch,
 * the text and lookups of the check shared read-only) — in parallel threads here, on other
 * participants in a distributed check (match_dist.c) — and the parts are merged into what one
 * verification of all the seeds gives: everything done per cluster is independent of the other
 * clusters but the limits on extensions, which the merge applies in seed order.
 */
#include "rc_match.h"

#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

#define PARALLEL_MIN_SEEDS 4096 /* fewer: threads cost more than they save */
#define MAX_THREADS 16

/* ==== a part ==== */

/* A matcher for the seeds of the shards in take[] that shares c's text, tokens and lookups
 * (read-only) and owns its caches, scratch, seeds and runs, and a reader while it works. */
static int fork_part(rc_matcher *w, const rc_matcher *c, const uint8_t *take)
{
    memcpy(w, c, sizeof *w);
    w->reader = NULL; /* a spare of the index's, taken on first use */
    w->chunk = NULL;
    memset(&w->align, 0, sizeof w->align);
    memset(w->ids, 0, sizeof w->ids);
    memset(&w->punct_memo, 0, sizeof w->punct_memo);
    memset(&w->align_memo, 0, sizeof w->align_memo);
    memset(&w->imports, 0, sizeof w->imports); /* a fork reports nothing */
    memset(&w->seeds, 0, sizeof w->seeds);
    memset(&w->seeds_tmp, 0, sizeof w->seeds_tmp);
    memset(&w->cands, 0, sizeof w->cands); /* the main matcher's scratch: a fork selects nothing */
    memset(&w->cand_keys, 0, sizeof w->cand_keys);
    memset(&w->cand_tmp, 0, sizeof w->cand_tmp);
    memset(w->cover, 0, sizeof w->cover);
    memset(&w->raw, 0, sizeof w->raw);
    memset(&w->matches, 0, sizeof w->matches);
    memset(&w->works, 0, sizeof w->works);
    memset(&w->srcbuf, 0, sizeof w->srcbuf);
    memset(&w->live, 0, sizeof w->live);
    memset(&w->code, 0, sizeof w->code);
    memset(&w->ext, 0, sizeof w->ext);
    for (unsigned k = 0; k < RC_CHANNELS; k++) /* made by each fork's rc_match_find_runs */
        memset(&w->chans[k].kgram_open, 0, sizeof w->chans[k].kgram_open);
    w->steps = 0;
    w->truncated = false;
    w->part = true;
    w->runs_cut = false;
    w->seed_ids = NULL;
    /* Its seeds, in the order of all the seeds, and their places there. */
    size_t n = 0;
    for (size_t i = 0; i < c->seeds.n; i++) {
        uint32_t lc;
        n += take[rc_shard_route(c->idx, c->seeds.v[i].cluster, &lc)] != 0;
    }
    uint64_t *ids = malloc((n + 1) * sizeof *ids);
    if (!ids || RC_VEC_RESERVE(w->seeds, n + 1) != RECITE_OK) {
        free(ids);
        return RECITE_ENOMEM;
    }
    for (size_t i = 0; i < c->seeds.n; i++) {
        uint32_t lc;
        if (take[rc_shard_route(c->idx, c->seeds.v[i].cluster, &lc)]) {
            ids[w->seeds.n] = i;
            w->seeds.v[w->seeds.n++] = c->seeds.v[i];
        }
    }
    w->seed_ids = ids;
    return RECITE_OK;
}

/* Frees what the fork owns but its runs and extensions (handed over to an rc_part). */
static void fork_free(rc_matcher *w)
{
    rc_matcher_release_reader(w);
    rc_align_scratch_free(&w->align);
    rc_punct_memo_free(&w->punct_memo);
    rc_align_memo_free(&w->align_memo);
    for (unsigned k = 0; k < RC_CHANNELS; k++) {
        RC_VEC_FREE(w->chans[k].kgram_open);
        RC_VEC_FREE(w->ids[k].key);
        RC_VEC_FREE(w->ids[k].id);
        RC_VEC_FREE(w->ids[k].q);
    }
    RC_VEC_FREE(w->seeds);
    RC_VEC_FREE(w->seeds_tmp);
    RC_VEC_FREE(w->srcbuf);
    rc_code_scratch_free(&w->code);
    free((void *)w->seed_ids);
    w->seed_ids = NULL;
}

/* The fork's runs and extensions as a part's result. */
static void fork_result(rc_part *out, rc_matcher *w)
{
    out->raw.v = w->raw.v;
    out->raw.n = w->raw.n;
    out->raw.cap = w->raw.cap;
    out->ext.v = w->ext.v;
    out->ext.n = w->ext.n;
    out->ext.cap = w->ext.cap;
    out->truncated = w->truncated;
    memset(&w->raw, 0, sizeof w->raw);
    memset(&w->ext, 0, sizeof w->ext);
}

void rc_part_free(rc_part *p)
{
    RC_VEC_FREE(p->raw);
    RC_VEC_FREE(p->ext);
}

int rc_match_verify_seeds(rc_matcher *c, recite_error *err)
{
    uint64_t t0 = rc_phase_start(c);
    int rc = rc_match_find_runs(c, err);
    /* Classify before merging, so that of two runs over the same output the exact one wins;
     * shape runs unlike the work's code are dropped. */
    size_t kept = 0;
    for (size_t i = 0; rc == RECITE_OK && i < c->raw.n; i++)
        if ((rc = rc_match_classify(c, &c->raw.v[i], err)) == RECITE_OK && !c->raw.v[i].weak)
            c->raw.v[kept++] = c->raw.v[i];
    if (rc == RECITE_OK)
        c->raw.n = kept;
    rc_phase_end(c, RC_PH_EXACT, t0);
    /* Near-verbatim spans; the exact runs inside one are merged into it later. */
    t0 = rc_phase_start(c);
    if (rc == RECITE_OK && c->near)
        rc = rc_match_near(c, err);
    rc_phase_end(c, RC_PH_NEAR, t0);
    if (rc == RECITE_OK)
        rc = rc_match_describe(c, err);
    return rc;
}

int rc_match_verify_part(rc_part *out, rc_matcher *c, const uint8_t *take, recite_error *err)
{
    /* On c itself, with the seeds of those shards (its reader's caches stay warm from check to
     * check), then c as it was. */
    memset(out, 0, sizeof *out);
    size_t n = 0;
    for (size_t i = 0; i < c->seeds.n; i++) {
        uint32_t lc;
        n += take[rc_shard_route(c->idx, c->seeds.v[i].cluster, &lc)] != 0;
    }
    uint64_t *ids = malloc((n + 1) * sizeof *ids);
    rc_seed *mine = malloc((n + 1) * sizeof *mine);
    if (!ids || !mine) {
        free(ids);
        free(mine);
        return rc_error_set(err, RECITE_ENOMEM, "out of memory");
    }
    n = 0;
    for (size_t i = 0; i < c->seeds.n; i++) {
        uint32_t lc;
        if (take[rc_shard_route(c->idx, c->seeds.v[i].cluster, &lc)]) {
            ids[n] = i;
            mine[n++] = c->seeds.v[i];
        }
    }
    rc_seed *all = c->seeds.v;
    size_t nall = c->seeds.n, cap = c->seeds.cap;
    bool truncated = c->truncated;
    c->seeds.v = mine;
    c->seeds.n = c->seeds.cap = n;
    c->seed_ids = ids;
    c->part = true;
    c->truncated = false;
    c->steps = 0;
    c->raw.n = c->ext.n = 0;
    int rc = rc_match_verify_seeds(c, err);
    out->truncated = c->truncated;
    if (rc == RECITE_OK && (RC_VEC_RESERVE(out->raw, c->raw.n + 1) != RECITE_OK ||
                            RC_VEC_RESERVE(out->ext, c->ext.n + 1) != RECITE_OK))
        rc = rc_error_set(err, RECITE_ENOMEM, "out of memory");
    if (rc == RECITE_OK) { /* (the vectors may be empty and unallocated) */
        for (size_t i = 0; i < c->raw.n; i++)
            out->raw.v[out->raw.n++] = c->raw.v[i];
        for (size_t i = 0; i < c->ext.n; i++)
            out->ext.v[out->ext.n++] = c->ext.v[i];
    }
    c->seeds.v = all;
    c->seeds.n = nall;
    c->seeds.cap = cap;
    c->seed_ids = NULL;
    c->part = false;
    c->truncated = truncated;
    c->steps = 0;
    c->raw.n = c->ext.n = 0;
    c->runs_cut = false;
    free(ids);
    free(mine);
    return rc;
}

/* ==== merging parts ==== */

int rc_match_merge_parts(rc_matcher *c, rc_part *parts, size_t n, recite_error *err)
{
    /* The extensions in seed order (each part's are), counted as one verification counts
     * them: the first extension made over a limit is where that verification stops. */
    size_t *at = calloc(n + 1, sizeof *at);
    if (!at)
        return rc_error_set(err, RECITE_ENOMEM, "out of memory");
    uint64_t steps = 0, runs = 0, cut = UINT64_MAX;
    for (;;) {
        size_t best = n;
        for (size_t p = 0; p < n; p++)
            if (at[p] < parts[p].ext.n &&
                (best == n || parts[p].ext.v[at[p]].seed < parts[best].ext.v[at[best]].seed))
                best = p;
        if (best == n)
            break;
        const rc_extension *e = &parts[best].ext.v[at[best]++];
        if (steps > RC_MAX_COMPARE_STEPS || runs >= (uint64_t)c->max_matches * 4) {
            cut = e->seed;
            break;
        }
        steps += e->steps;
        runs += e->pushed;
    }
    free(at);
    /* A part stops at its own count, never after the whole's: a part that stopped means the
     * whole did too (at the latest there). */
    c->truncated |= cut != UINT64_MAX;
    for (size_t p = 0; p < n; p++) {
        c->truncated |= parts[p].truncated;
        size_t keep = 0;
        for (size_t i = 0; i < parts[p].raw.n; i++) {
            const rc_raw_match *m = &parts[p].raw.v[i];
            keep += m->seed == UINT64_MAX || m->seed < cut;
        }
        if (RC_VEC_RESERVE(c->raw, c->raw.n + keep + 1) != RECITE_OK)
            return rc_error_set(err, RECITE_ENOMEM, "out of memory");
        for (size_t i = 0; i < parts[p].raw.n; i++) {
            const rc_raw_match *m = &parts[p].raw.v[i];
            if (m->seed == UINT64_MAX || m->seed < cut)
                c->raw.v[c->raw.n++] = *m;
        }
    }
    c->steps = steps;
    return RECITE_OK;
}

/* ==== in parallel threads ==== */

typedef struct job {
    rc_matcher m; /* a fork of the check's matcher */
    int rc;
    recite_error err;
} job;

static void *run_job(void *arg)
{
    job *j = arg;
    j->rc = rc_match_verify_seeds(&j->m, &j->err);
    return NULL;
}

/* The threads to use: one per run of shards with about the same number of seeds, at most one
 * per processor. */
static unsigned threads_for(const rc_matcher *c)
{
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    unsigned n = (unsigned)RC_MIN((long)c->idx->nshards, cpus > 0 ? cpus : 1);
    return RC_MIN(n, (unsigned)MAX_THREADS);
}

int rc_match_verify(rc_matcher *c, recite_error *err)
{
    unsigned nt = c->idx->nshards > 1 && c->seeds.n >= PARALLEL_MIN_SEEDS ? threads_for(c) : 1;
    if (nt < 2)
        return rc_match_verify_seeds(c, err);
    /* Runs of shards with about the same number of seeds each. */
    uint32_t ns = c->idx->nshards;
    size_t *count = calloc(ns + 1, sizeof *count);
    uint8_t *take = calloc((size_t)ns * nt + 1, 1);
    job *jobs = calloc(nt, sizeof *jobs);
    rc_part *parts = calloc(nt, sizeof *parts);
    if (!count || !take || !jobs || !parts) {
        free(count);
        free(take);
        free(jobs);
        free(parts);
        return rc_error_set(err, RECITE_ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < c->seeds.n; i++) {
        uint32_t lc;
        count[rc_shard_route(c->idx, c->seeds.v[i].cluster, &lc)]++;
    }
    size_t nparts = 0, sum = 0;
    for (uint32_t s = 0; s < ns; s++) {
        if (nparts < nt && sum >= c->seeds.n * (nparts + 1) / nt && sum > 0 && nparts + 1 < nt)
            nparts++;
        take[nparts * ns + s] = 1;
        sum += count[s];
    }
    nparts++;
    pthread_t th[MAX_THREADS];
    bool started[MAX_THREADS] = {false}, forked[MAX_THREADS] = {false};
    int rc = RECITE_OK;
    for (size_t i = 0; rc == RECITE_OK && i < nparts; i++) {
        if (fork_part(&jobs[i].m, c, take + i * ns) != RECITE_OK)
            rc = rc_error_set(err, RECITE_ENOMEM, "out of memory");
        forked[i] = true;
        /* The last part runs on this thread; so does a part whose thread cannot start. */
        if (rc == RECITE_OK && i + 1 < nparts)
            started[i] = pthread_create(&th[i], NULL, run_job, &jobs[i]) == 0;
    }
    for (size_t i = 0; rc == RECITE_OK && i < nparts; i++)
        if (!started[i])
            run_job(&jobs[i]);
    for (size_t i = 0; i < nparts; i++)
        if (started[i])
            pthread_join(th[i], NULL);
    for (size_t i = 0; i < nparts; i++) {
        if (rc == RECITE_OK && jobs[i].rc != RECITE_OK) {
            rc = jobs[i].rc;
            if (err)
                *err = jobs[i].err;
        }
        if (forked[i]) {
            fork_result(&parts[i], &jobs[i].m);
            fork_free(&jobs[i].m);
        }
    }
    if (rc == RECITE_OK)
        rc = rc_match_merge_parts(c, parts, nparts, err);
    for (size_t i = 0; i < nparts; i++)
        rc_part_free(&parts[i]);
    free(count);
    free(take);
    free(jobs);
    free(parts);
    return rc;
}

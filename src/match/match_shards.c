/*
 * match_shards.c — verification of a sharded index's candidates in parallel threads: the seeds
 * the candidate selection kept are grouped by cluster, and clusters are numbered shard after
 * shard, so each thread takes the seeds of a run of shards and extends, classifies and aligns
 * them with a matcher of its own (its own reader, caches and scratch, the text and lookups of
 * the check shared read-only); the runs found are then merged as one matcher's would be.
 * Everything done per cluster is independent of the other clusters, so the result is the one
 * thread's (the limits on comparisons and runs count per thread: they only set `truncated`).
 */
#include "rc_match.h"

#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

#define PARALLEL_MIN_SEEDS 4096 /* fewer: threads cost more than they save */
#define MAX_THREADS 16

typedef struct part {
    rc_matcher m; /* a fork of the check's matcher */
    int rc;
    recite_error err;
} part;

/* A matcher for seeds[s0, s1) of c that shares c's text, tokens and lookups (read-only) and owns
 * its reader, caches, scratch and runs. */
static int fork_matcher(rc_matcher *w, const rc_matcher *c, size_t s0, size_t s1)
{
    memcpy(w, c, sizeof *w);
    memset(&w->reader, 0, sizeof w->reader);
    w->chunk = NULL;
    memset(&w->align, 0, sizeof w->align);
    memset(w->ids, 0, sizeof w->ids);
    memset(&w->punct_memo, 0, sizeof w->punct_memo);
    memset(&w->align_memo, 0, sizeof w->align_memo);
    memset(&w->seeds_tmp, 0, sizeof w->seeds_tmp);
    memset(&w->raw, 0, sizeof w->raw);
    memset(&w->matches, 0, sizeof w->matches);
    memset(&w->works, 0, sizeof w->works);
    memset(&w->srcbuf, 0, sizeof w->srcbuf);
    memset(&w->live, 0, sizeof w->live);
    memset(&w->code, 0, sizeof w->code);
    w->seeds.v = c->seeds.v + s0; /* a view: never grown or freed by the fork */
    w->seeds.n = w->seeds.cap = s1 - s0;
    w->steps = 0;
    w->truncated = false;
    return rc_store_reader_init(&w->reader, c->idx);
}

static void fork_free(rc_matcher *w)
{
    rc_store_reader_free(&w->reader);
    rc_align_scratch_free(&w->align);
    rc_punct_memo_free(&w->punct_memo);
    rc_align_memo_free(&w->align_memo);
    for (unsigned k = 0; k < RC_CHANNELS; k++) {
        RC_VEC_FREE(w->ids[k].key);
        RC_VEC_FREE(w->ids[k].id);
        RC_VEC_FREE(w->ids[k].q);
    }
    RC_VEC_FREE(w->seeds_tmp);
    RC_VEC_FREE(w->raw);
    RC_VEC_FREE(w->srcbuf);
    rc_code_scratch_free(&w->code);
}

int rc_match_verify_seeds(rc_matcher *c, recite_error *err)
{
    int rc = rc_match_find_runs(c, err);
    /* Classify before merging, so that of two runs over the same output the exact one wins;
     * shape runs unlike the work's code are dropped. */
    size_t kept = 0;
    for (size_t i = 0; rc == RECITE_OK && i < c->raw.n; i++)
        if ((rc = rc_match_classify(c, &c->raw.v[i], err)) == RECITE_OK && !c->raw.v[i].weak)
            c->raw.v[kept++] = c->raw.v[i];
    if (rc == RECITE_OK)
        c->raw.n = kept;
    /* Near-verbatim spans; the exact runs inside one are merged into it later. */
    if (rc == RECITE_OK && c->near)
        rc = rc_match_near(c, err);
    return rc;
}

static void *run_part(void *arg)
{
    part *p = arg;
    p->rc = rc_match_verify_seeds(&p->m, &p->err);
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
    /* Cut the seeds (sorted by cluster, so by shard) at shard boundaries, about evenly. */
    size_t cuts[MAX_THREADS + 1] = {0}, nparts = 0, from = 0;
    for (unsigned t = 1; t <= nt && from < c->seeds.n; t++) {
        size_t to = t == nt ? c->seeds.n : c->seeds.n * t / nt;
        if (to < from)
            to = from;
        if (to < c->seeds.n) { /* to the end of that seed's shard */
            uint32_t lc, s = rc_shard_route(c->idx, c->seeds.v[to].cluster, &lc);
            while (to < c->seeds.n && rc_shard_route(c->idx, c->seeds.v[to].cluster, &lc) == s)
                to++;
        }
        if (to > from) {
            cuts[nparts] = from;
            cuts[++nparts] = to;
            from = to;
        }
    }
    if (nparts < 2)
        return rc_match_verify_seeds(c, err);
    part *parts = calloc(nparts, sizeof *parts);
    pthread_t th[MAX_THREADS];
    bool started[MAX_THREADS] = {false};
    int rc = parts ? RECITE_OK : rc_error_set(err, RECITE_ENOMEM, "out of memory");
    for (size_t i = 0; rc == RECITE_OK && i < nparts; i++) {
        if (fork_matcher(&parts[i].m, c, cuts[i], cuts[i + 1]) != RECITE_OK)
            rc = rc_error_set(err, RECITE_ENOMEM, "out of memory");
        /* The last part runs on this thread; so does a part whose thread cannot start. */
        else if (i + 1 < nparts)
            started[i] = pthread_create(&th[i], NULL, run_part, &parts[i]) == 0;
    }
    if (rc == RECITE_OK)
        for (size_t i = 0; i < nparts; i++)
            if (!started[i])
                run_part(&parts[i]);
    for (size_t i = 0; parts && i < nparts; i++)
        if (started[i])
            pthread_join(th[i], NULL);
    /* The runs in part order (every step after this sorts them), the first error. */
    for (size_t i = 0; rc == RECITE_OK && i < nparts; i++) {
        if (parts[i].rc != RECITE_OK) {
            rc = parts[i].rc;
            if (err)
                *err = parts[i].err;
            break;
        }
        rc_matcher *w = &parts[i].m;
        if (RC_VEC_RESERVE(c->raw, c->raw.n + w->raw.n) != RECITE_OK) {
            rc = rc_error_set(err, RECITE_ENOMEM, "out of memory");
            break;
        }
        memcpy(c->raw.v + c->raw.n, w->raw.v, w->raw.n * sizeof *w->raw.v);
        c->raw.n += w->raw.n;
        c->steps += w->steps;
        c->truncated |= w->truncated;
    }
    for (size_t i = 0; parts && i < nparts; i++)
        fork_free(&parts[i].m);
    free(parts);
    return rc;
}

/*
 * build_budget.c — the memory budget of a build (`--mem`, docs/MEMORY.md): how it is shared
 * between the workers (their own state; fewer workers when the budget cannot hold --jobs of
 * them), the works in flight (sources being loaded, works waiting to be committed, each
 * worker's large work before it spills), the buffers of the table spools, the input list and
 * the hash tables of ids and contents, and the external sort, which gets the rest and gives
 * memory back as the tables grow. build.c asks here before a worker loads a source.
 */
#include "rc_builder.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

#define MiB (1ull << 20)
#define BATCH_BYTES_MAX (4 * MiB) /* bytes of sources in one batch */
#define SPOOL_CAP_MIN (16u << 10)
#define SPOOL_CAP_MAX (4u << 20)
#define SPILL_MIN (64u << 10)
#define SORT_MIN (4096 * 2 * sizeof(rc_posting_rec)) /* the sorter's smallest buffers */
/* What a worker keeps whatever it loads: with CMI, the license matcher's tokenized license
 * texts and blocks (2 MiB, license_match.c), its cache of identified headers (0.65 MiB) and
 * lookup buffers; compression and tokenizer contexts (measured: docs/MEMORY.md). */
#define WORKER_CMI (4 * MiB)
#define WORKER_BASE (1 * MiB)
/* License texts tokenized once for all workers (license_match.c): up to this, or a sixteenth of
 * the budget; the whole license library takes about 13 MiB. */
#define LIC_SHARED_MAX (16 * MiB)

/* Bytes of the input list: the paths and the sources, with the allocator's overhead. */
static uint64_t inputs_bytes(const rc_inputs *in)
{
    uint64_t n = in->paths.cap * sizeof *in->paths.v + in->sources.cap * sizeof *in->sources.v +
                 in->blobs.cap;
    for (size_t i = 0; i < in->paths.n; i++)
        n += strlen(in->paths.v[i]) + 1 + 16;
    return n;
}

void rc_budget_plan(rc_builder *b)
{
    uint64_t mem = b->mem;
    /* Workers' own state comes out of the budget: at most a quarter of it, fewer workers if
     * need be. */
    b->worker_bytes = WORKER_BASE + RC_DEFER_BYTES + (b->opt->skip_cmi ? 0 : WORKER_CMI);
    b->jobs = (unsigned)RC_MAX(1, RC_MIN((uint64_t)b->jobs, mem / 4 / b->worker_bytes));
    unsigned jobs = b->jobs;
    /* An eighth of the budget for the texts being loaded, an eighth for the works waiting for
     * their turn to be committed: batches vary a lot in cost (512 small files or one 4 MB
     * file), so workers need room to run ahead of the in-order commit, up to 8 batches per
     * worker. */
    b->load_max = mem / 8;
    uint64_t waiting = mem / 8;
    b->max_inflight = (size_t)RC_MIN((uint64_t)8 * jobs, waiting / MiB);
    if (b->max_inflight < (size_t)jobs + 1)
        b->max_inflight = (size_t)jobs + 1;
    b->batch_hold = RC_MAX(waiting / b->max_inflight, (uint64_t)SPILL_MIN);
    b->batch_bytes = RC_MIN(b->batch_hold, BATCH_BYTES_MAX);
    /* A work keeps half a batch's share of fingerprints and frames in memory; a larger one
     * spills the rest (at most jobs x that, under a worker). */
    b->spill = (size_t)RC_MAX(b->batch_hold / 2, (uint64_t)SPILL_MIN);
    b->spool_cap = (size_t)RC_MIN(RC_MAX(mem / 512, (uint64_t)SPOOL_CAP_MIN), SPOOL_CAP_MAX);
    b->lic_share = b->opt->skip_cmi ? 0 : RC_MIN(LIC_SHARED_MAX, mem / 16);
    b->inflight =
        b->load_max + waiting + (uint64_t)jobs * (b->spill + b->worker_bytes) + b->lic_share;
    b->inputs_bytes = inputs_bytes(&b->in);
}

uint64_t rc_budget_sort_bytes(const rc_builder *b)
{
    uint64_t tables = (b->ids.cap + b->contents.cap) * (sizeof(uint64_t) + sizeof(uint32_t)) +
                      b->dups.cap * sizeof *b->dups.v;
    uint64_t spools = RC_BUILD_SPOOLS + (b->shard ? 2 : 0); /* a shard's groups, build_shards.c */
    uint64_t other = b->inflight + spools * b->spool_cap + b->inputs_bytes + tables;
    return b->mem > other + SORT_MIN ? b->mem - other : SORT_MIN;
}

int rc_budget_update(rc_builder *b, recite_error *err)
{
    return rc_sorter_limit(&b->sorter, (size_t)rc_budget_sort_bytes(b), err);
}

/* ==== sources being loaded ==== */

void rc_budget_load_begin(rc_builder *b, uint64_t bytes)
{
    /* One source is always let through, whatever its size: a work larger than the share is
     * loaded alone. */
    while (!b->stop && b->loading > 0 && b->loading + bytes > b->load_max)
        pthread_cond_wait(&b->cond_space, &b->mu);
    b->loading += bytes;
}

void rc_budget_load_end(rc_builder *b, uint64_t *bytes)
{
    b->loading -= RC_MIN(b->loading, *bytes);
    *bytes = 0;
    pthread_cond_broadcast(&b->cond_space);
}

/* Under AddressSanitizer or ThreadSanitizer, malloc is the sanitizer's: glibc's allocator is
 * never initialized, and malloc_trim would initialize it in whichever thread calls it first.
 * Two shard threads doing so at once both take glibc's main arena without attaching to it, and
 * the second to exit aborts ("a->attached_threads > 0"). There is nothing of ours to trim. */
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define RC_SANITIZER_MALLOC 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define RC_SANITIZER_MALLOC 1
#endif
#endif

void rc_budget_trim(void)
{
#if defined(__GLIBC__) && !defined(RC_SANITIZER_MALLOC)
    /* Worker threads allocate in arenas of their own, and the committing thread frees what they
     * allocated: the freed pages stay with the process (resident) until trimmed. */
    malloc_trim(0);
#endif
}

/* Resident bytes of the process (Linux's /proc/self/statm), or UINT64_MAX when unknown. */
static uint64_t resident_bytes(void)
{
    FILE *f = fopen("/proc/self/statm", "re");
    if (!f)
        return UINT64_MAX;
    unsigned long long size = 0, resident = 0;
    int got = fscanf(f, "%llu %llu", &size, &resident);
    fclose(f);
    long page = sysconf(_SC_PAGESIZE);
    return got == 2 && page > 0 ? (uint64_t)resident * (uint64_t)page : UINT64_MAX;
}

void rc_budget_trim_batch(const rc_builder *b)
{
    /* Trimming gives back the pages the committing thread freed for the workers, and the next
     * batch faults them in again: trimming after every batch was 8 % of the build of the 50 MB
     * bench library (1.95 -> 1.80 s, 19 % fewer page faults). Below half the budget what the
     * allocator keeps cannot take the build past it (the next batch reuses it before asking
     * for more): from there on, every batch, as before. At the smallest budgets the program
     * alone is past half of it. The phases' trims (build.c, index_write.c) stay. */
    if (resident_bytes() >= b->mem / 2)
        rc_budget_trim();
}

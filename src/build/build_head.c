/*
 * build_head.c — the sharded build's driver (recite_index_build_sharded, and the compaction of a
 * sharded index): the temporary directory and license index of the whole index, each shard built
 * by build.c — in a thread of this process with an in-process communicator, or alone in this
 * process with the caller's (MPI) — and the head (DIR/recite.idx: the shard list with checksums,
 * the work map, the members in the library's numbering; docs/FORMAT.md) written, checked and
 * published by the first shard once every shard is written and verified.
 */
#include "rc_builder.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

/* ==== the in-process communicator: shards in threads ==== */

typedef struct local_comm {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    unsigned size, waiting;
    uint64_t generation;
    bool broken; /* a shard's thread could not start: every exchange fails */
    const void **send;
    const size_t **send_lens;
    size_t *len;
} local_comm;

/* Waits until every shard is here; false when the exchange is broken. */
static bool barrier(local_comm *lc)
{
    pthread_mutex_lock(&lc->mu);
    uint64_t gen = lc->generation;
    if (++lc->waiting == lc->size) {
        lc->waiting = 0;
        lc->generation++;
        pthread_cond_broadcast(&lc->cv);
    } else {
        while (gen == lc->generation && !lc->broken)
            pthread_cond_wait(&lc->cv, &lc->mu);
    }
    bool ok = !lc->broken;
    pthread_mutex_unlock(&lc->mu);
    return ok;
}

typedef struct local_member {
    local_comm *lc;
    unsigned rank;
} local_member;

static int local_allgather(void *user, const void *send, size_t len, void **out, size_t *lens)
{
    local_member *m = user;
    local_comm *lc = m->lc;
    lc->send[m->rank] = send;
    lc->len[m->rank] = len;
    if (!barrier(lc))
        return RECITE_EINVAL;
    size_t total = 0;
    for (unsigned r = 0; r < lc->size; r++)
        total += lens[r] = lc->len[r];
    uint8_t *buf = malloc(total + 1);
    for (unsigned r = 0, at = 0; buf && r < lc->size; at += (unsigned)lens[r], r++)
        if (lens[r])
            memcpy(buf + at, lc->send[r], lens[r]);
    bool ok = barrier(lc); /* the senders' buffers may go now */
    *out = buf;
    return !ok ? RECITE_EINVAL : buf ? RECITE_OK : RECITE_ENOMEM;
}

static int local_alltoall(void *user, const void *send, const size_t *send_lens, void **out,
                          size_t *recv_lens)
{
    local_member *m = user;
    local_comm *lc = m->lc;
    lc->send[m->rank] = send;
    lc->send_lens[m->rank] = send_lens;
    if (!barrier(lc))
        return RECITE_EINVAL;
    size_t total = 0;
    for (unsigned r = 0; r < lc->size; r++)
        total += recv_lens[r] = lc->send_lens[r][m->rank];
    uint8_t *buf = malloc(total + 1);
    size_t at = 0;
    for (unsigned r = 0; buf && r < lc->size; r++) {
        size_t from = 0;
        for (unsigned d = 0; d < m->rank; d++)
            from += lc->send_lens[r][d];
        if (recv_lens[r])
            memcpy(buf + at, (const uint8_t *)lc->send[r] + from, recv_lens[r]);
        at += recv_lens[r];
    }
    bool ok = barrier(lc);
    *out = buf;
    return !ok ? RECITE_EINVAL : buf ? RECITE_OK : RECITE_ENOMEM;
}

/* ==== what the head needs of each shard ==== */

#define INFO_HEAD (10 * 8) /* the SHARDS record (64 bytes), spill runs, peak sort bytes */

/* The shard as written (opened again): its record, then per work its library number, then per
 * member slot the library's number of the work there. */
static int shard_info(rc_shard_build *sb, const recite_build_stats *st, uint8_t **out, size_t *len,
                      recite_error *err)
{
    char *path;
    recite_index *sh = NULL;
    *out = NULL;
    if (asprintf(&path, "%s/" RC_SHARD_DIR, sb->root, sb->shard) < 0)
        return rc_error_set(err, RECITE_ENOMEM, "out of memory");
    int rc = recite_index_open(&sh, path, err);
    free(path);
    if (rc != RECITE_OK)
        return rc;
    uint64_t n = sh->nworks;
    *len = INFO_HEAD + 8 * n;
    uint8_t *p = *out = malloc(*len);
    if (!p || n != sb->global.n) {
        recite_index_close(sh);
        return rc_error_set(err, p ? RECITE_EFORMAT : RECITE_ENOMEM,
                            p ? "shard %u: works lost" : "out of memory", sb->shard);
    }
    uint64_t postings = 0;
    for (unsigned c = 0; c < RC_CHANNELS; c++)
        postings += sh->ch[c].npostings;
    uint64_t head[10] = {n,
                         sh->nclusters,
                         sh->ntokens,
                         sh->text_bytes,
                         sh->work_bytes,
                         sh->map_len,
                         rc_get_u64(sh->map + RC_H_CHECKSUM),
                         postings,
                         st->spill_runs,
                         st->peak_sort_bytes};
    for (unsigned i = 0; i < 10; i++)
        rc_put_u64(p + 8 * i, head[i]);
    rc = rc_index_touch(sh, sh->sec[RC_SEC_MEMBERS].data, sh->sec[RC_SEC_MEMBERS].len, err);
    for (uint64_t w = 0; w < n && rc == RECITE_OK; w++) {
        rc_put_u32(p + INFO_HEAD + 4 * w, sb->global.v[w]);
        uint32_t m = rc_index_member(sh, w);
        if (m >= n)
            rc = rc_error_set(err, RECITE_EFORMAT, "shard %u: bad members", sb->shard);
        else
            rc_put_u32(p + INFO_HEAD + 4 * (n + w), sb->global.v[m]);
    }
    recite_index_close(sh);
    return rc;
}

/* ==== the head ==== */

typedef struct head_in {
    const uint8_t *info[RC_MAX_SHARDS_BUILD];
    uint64_t works, clusters, tokens, stored, work_bytes, postings[RC_CHANNELS];
    unsigned nshards, kgram[RC_CHANNELS], window[RC_CHANNELS];
    unsigned common_texts; /* the library's common threshold, every shard's */
} head_in;

static void secw_u64s(rc_secw *w, const uint8_t *p, size_t n)
{
    rc_secw_write(w, p, 8 * n);
}

/* Writes root/recite.idx: CHANNELS, MEMBERS, SHARDS, WORK_MAP, SHARD_WORKS, PAGE_SUMS. */
static int write_head(const char *root, const head_in *h, const recite_build_options *opt,
                      uint64_t *file_size, recite_error *err)
{
    char *path;
    if (asprintf(&path, "%s/%s", root, RC_INDEX_FILE) < 0)
        return rc_error_set(err, RECITE_ENOMEM, "out of memory");
    rc_secw *w = calloc(1, sizeof *w);
    uint8_t *map = malloc(8 * h->works + 1);
    int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    int rc = RECITE_OK;
    if (fd < 0)
        rc = rc_error_errno(err, RECITE_EIO, errno, "%s: cannot create", path);
    else if (!w || !map || !(w->xs = XXH3_createState()))
        rc = rc_error_set(err, RECITE_ENOMEM, "out of memory");
    rc_section_entry sec[RC_MAX_SECTIONS];
    size_t nsec = 0;
    uint64_t off = RC_DATA_OFFSET;
    if (rc == RECITE_OK) {
        /* The work map: each library work's shard and number there, each set exactly once. */
        memset(map, 0xff, 8 * h->works);
        for (unsigned s = 0; s < h->nshards && rc == RECITE_OK; s++) {
            uint64_t n = rc_get_u64(h->info[s]);
            for (uint64_t lw = 0; lw < n; lw++) {
                uint32_t g = rc_get_u32(h->info[s] + INFO_HEAD + 4 * lw);
                if (g >= h->works || rc_get_u32(map + 8 * (uint64_t)g) != UINT32_MAX) {
                    rc = rc_error_set(err, RECITE_EFORMAT, "the shards' works disagree");
                    break;
                }
                rc_put_u32(map + 8 * (uint64_t)g, s);
                rc_put_u32(map + 8 * (uint64_t)g + 4, (uint32_t)lw);
            }
        }
    }
    if (rc == RECITE_OK) {
        rc_secw_begin(w, fd, off);
        for (unsigned c = 0; c < RC_CHANNELS; c++) {
            rc_secw_u32(w, h->kgram[c]);
            rc_secw_u32(w, h->window[c]);
            rc_secw_u32(w, 0);
            rc_secw_u32(w, 0);
            rc_secw_u64(w, h->postings[c]);
            rc_secw_u64(w, 0);
        }
        sec[nsec++] = rc_secw_end(w, RC_SEC_CHANNELS);
        rc_secw_begin(w, fd, off = rc_align_up(w->off));
        for (unsigned s = 0; s < h->nshards; s++) {
            uint64_t n = rc_get_u64(h->info[s]);
            rc_secw_write(w, h->info[s] + INFO_HEAD + 4 * n, 4 * n);
        }
        sec[nsec++] = rc_secw_end(w, RC_SEC_MEMBERS);
        rc_secw_begin(w, fd, off = rc_align_up(w->off));
        for (unsigned s = 0; s < h->nshards; s++)
            secw_u64s(w, h->info[s], RC_SHARD_REC_SIZE / 8);
        sec[nsec++] = rc_secw_end(w, RC_SEC_SHARDS);
        rc_secw_begin(w, fd, off = rc_align_up(w->off));
        rc_secw_write(w, map, 8 * h->works);
        sec[nsec++] = rc_secw_end(w, RC_SEC_WORK_MAP);
        rc_secw_begin(w, fd, off = rc_align_up(w->off));
        for (unsigned s = 0; s < h->nshards; s++)
            rc_secw_write(w, h->info[s] + INFO_HEAD, 4 * rc_get_u64(h->info[s]));
        sec[nsec++] = rc_secw_end(w, RC_SEC_SHARD_WORKS);
        off = rc_align_up(w->off);
        if (w->errnum)
            rc = rc_error_errno(err, RECITE_EIO, w->errnum, "%s: write failed", path);
    }
    if (rc == RECITE_OK)
        rc = rc_write_page_sums(fd, path, w, sec, &nsec, &off, err);
    if (rc == RECITE_OK) {
        uint8_t hd[RC_DATA_OFFSET];
        memset(hd, 0, sizeof hd);
        memcpy(hd + RC_H_MAGIC, RC_INDEX_MAGIC, 8);
        rc_put_u32(hd + RC_H_VERSION, RC_FORMAT_VERSION);
        rc_put_u32(hd + RC_H_TOKENIZER, RC_TOKENIZER_VERSION);
        rc_put_u64(hd + RC_H_FILE_SIZE, off);
        rc_put_u64(hd + RC_H_CREATED, opt->created_unix ? opt->created_unix : (uint64_t)time(NULL));
        rc_put_u32(hd + RC_H_MODE, rc_mode_to_disk((int)opt->mode));
        rc_put_u32(hd + RC_H_NSECTIONS, (uint32_t)nsec);
        rc_put_u64(hd + RC_H_NWORKS, h->works);
        rc_put_u64(hd + RC_H_NCLUSTERS, h->clusters);
        rc_put_u64(hd + RC_H_NTOKENS, h->tokens);
        rc_put_u64(hd + RC_H_TEXT_BYTES, h->stored);
        rc_put_u64(hd + RC_H_WORK_BYTES, h->work_bytes);
        rc_key key;
        bool text_free = opt->text_free_key && rc_key_derive(&key, opt->text_free_key,
                                                             opt->text_free_key_len) == RECITE_OK;
        rc_put_u64(hd + RC_H_FLAGS, RC_FLAG_SHARDED | (text_free ? RC_FLAG_TEXT_FREE : 0) |
                                        (opt->skip_cmi ? 0 : RC_FLAG_CMI));
        if (text_free)
            rc_put_u64(hd + RC_H_KEY_CHECK, key.check);
        rc_put_u32(hd + RC_H_BLOCK_SIZE, RC_TEXT_BLOCK_SIZE);
        rc_put_u32(hd + RC_H_COMMON, h->common_texts);
        rc_header_finish(hd, sec, nsec);
        if (pwrite(fd, hd, sizeof hd, 0) != (ssize_t)sizeof hd || ftruncate(fd, (off_t)off) != 0 ||
            fsync(fd) != 0)
            rc = rc_error_errno(err, RECITE_EIO, errno, "%s: write failed", path);
        *file_size = off;
    }
    if (fd >= 0)
        close(fd);
    if (w && w->xs)
        XXH3_freeState(w->xs);
    free(w);
    free(map);
    free(path);
    return rc;
}

/* The first shard: the head from every shard's info, checked by opening the whole index, then
 * the atomic publish. */
static int write_and_publish(const char *root, const char *dir, const uint8_t *all,
                             const size_t *lens, unsigned nshards, const recite_build_options *opt,
                             uint64_t *head_bytes, recite_error *err)
{
    head_in h;
    memset(&h, 0, sizeof h);
    h.nshards = nshards;
    for (unsigned s = 0, at = 0; s < nshards; at += (unsigned)lens[s], s++) {
        const uint8_t *p = h.info[s] = all + at;
        if (lens[s] < INFO_HEAD || lens[s] != INFO_HEAD + 8 * rc_get_u64(p))
            return rc_error_set(err, RECITE_EFORMAT, "shard %u: bad report", s);
        h.works += rc_get_u64(p);
        h.clusters += rc_get_u64(p + 8);
        h.tokens += rc_get_u64(p + 16);
        h.stored += rc_get_u64(p + 24);
        h.work_bytes += rc_get_u64(p + 32);
    }
    /* The fingerprint parameters and postings per channel, from the shards as written. */
    for (unsigned s = 0; s < nshards; s++) {
        char *path;
        recite_index *sh;
        if (asprintf(&path, "%s/" RC_SHARD_DIR, root, s) < 0)
            return rc_error_set(err, RECITE_ENOMEM, "out of memory");
        int rc = recite_index_open(&sh, path, err);
        free(path);
        if (rc != RECITE_OK)
            return rc;
        for (unsigned c = 0; c < RC_CHANNELS; c++) {
            h.kgram[c] = sh->ch[c].kgram;
            h.window[c] = sh->ch[c].window;
            h.postings[c] += sh->ch[c].npostings;
        }
        bool agree = s == 0 || sh->common_texts == h.common_texts;
        h.common_texts = sh->common_texts;
        recite_index_close(sh);
        if (!agree)
            return rc_error_set(err, RECITE_EFORMAT, "shard %u: another common threshold", s);
    }
    int rc = write_head(root, &h, opt, head_bytes, err);
    recite_index *idx = NULL;
    if (rc == RECITE_OK && (rc = recite_index_open(&idx, root, err)) == RECITE_OK)
        rc = rc_shards_verify(idx, false, err);
    recite_index_close(idx);
    if (rc == RECITE_OK) {
        rc_fsync_path(root);
        rc = rc_build_publish(root, dir, err);
    }
    if (rc == RECITE_OK) {
        char *parent = rc_parent_dir(dir);
        if (parent)
            rc_fsync_path(parent);
        free(parent);
    }
    return rc;
}

/* ==== one participant ==== */

typedef struct participant {
    const char *dir;
    const char *const *paths;
    size_t npaths;
    const recite_index *from;
    const uint32_t *works;
    size_t nworks;
    unsigned nshards;
    recite_comm comm;
    recite_build_options opt;
    int rc;
    recite_error err;
    recite_build_stats stats;
} participant;

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int run(participant *p)
{
    rc_shard_build sb;
    memset(&sb, 0, sizeof sb);
    sb.comm = &p->comm;
    sb.shard = p->comm.rank;
    sb.nshards = p->nshards;
    recite_error *err = &p->err;
    double t0 = now_seconds();
    bool first = sb.shard == 0;
    char *root = NULL, *made = NULL;
    void *all = NULL;
    uint8_t *info = NULL;
    size_t *lens = calloc(p->nshards, sizeof *lens), info_len = 0;
    int rc = lens ? RECITE_OK : rc_error_set(err, RECITE_ENOMEM, "out of memory");
    /* The temporary directory, made by the first shard beside the target. */
    if (rc == RECITE_OK && first && (rc = rc_build_check_target(p->dir, err)) == RECITE_OK)
        rc = rc_build_tmp_dir(p->dir, &made, err);
    rc =
        rc_shard_allgather(&sb, rc, made ? made : "", made ? strlen(made) + 1 : 0, &all, lens, err);
    if (rc == RECITE_OK && !(root = lens[0] ? strndup(all, lens[0]) : NULL))
        rc = rc_error_set(err, RECITE_ENOMEM, "out of memory");
    free(all);
    all = NULL;
    sb.root = root;
    /* The license index, built once for every shard. */
    if (rc == RECITE_OK && first && !p->opt.skip_cmi) {
        bool built;
        uint64_t mem = p->opt.mem_budget ? p->opt.mem_budget : (1ull << 30);
        rc_license_src src = {p->opt.debian_licenses_dir,
                              p->opt.spdx_dir,
                              p->opt.license_cache_dir,
                              p->opt.tmp_dir,
                              p->opt.jobs,
                              RC_MAX(mem / 2, (uint64_t)16 << 20)};
        rc = rc_license_index_build(root, &src, &built, err);
    }
    if (sb.step < 2)
        rc = rc_shard_agree(&sb, rc, err);
    recite_build_stats st;
    memset(&st, 0, sizeof st);
    if (rc == RECITE_OK)
        rc = rc_build_index(&st, p->dir, p->paths, p->npaths, p->from, p->works, p->nworks, &p->opt,
                            &sb, err);
    if (rc == RECITE_OK && sb.step != RC_SHARD_STEPS - 2)
        rc = rc_error_set(err, RECITE_EINVAL, "shard %u: out of step", sb.shard);
    if (rc != RECITE_OK) /* the steps the build did not take */
        while (sb.step < RC_SHARD_STEPS - 2)
            rc_shard_agree(&sb, rc, err);
    /* Every shard written: what the head needs. */
    if (rc == RECITE_OK)
        rc = shard_info(&sb, &st, &info, &info_len, err);
    rc = rc_shard_allgather(&sb, rc, info, info_len, &all, lens, err);
    uint64_t head_bytes = 0;
    if (rc == RECITE_OK && first)
        rc = write_and_publish(root, p->dir, all, lens, p->nshards, &p->opt, &head_bytes, err);
    rc = rc_shard_agree(&sb, rc, err);
    if (rc == RECITE_OK) {
        recite_build_stats *out = &p->stats;
        memset(out, 0, sizeof *out);
        const uint8_t *q = all;
        for (unsigned s = 0; s < p->nshards; q += lens[s], s++) {
            out->works += rc_get_u64(q);
            out->clusters += rc_get_u64(q + 8);
            out->tokens += rc_get_u64(q + 16);
            out->bytes += rc_get_u64(q + 32);
            out->index_bytes += rc_get_u64(q + 40);
            out->fingerprints += rc_get_u64(q + 56);
            out->spill_runs += rc_get_u64(q + 64);
            out->peak_sort_bytes = RC_MAX(out->peak_sort_bytes, rc_get_u64(q + 72));
        }
        out->index_bytes += head_bytes;
        out->seconds = now_seconds() - t0;
    } else if (first && made) { /* every shard is past its last step: nothing writes there */
        rc_build_remove_tmp(made);
    }
    rc_shard_drain(&sb, rc);
    free(all);
    free(info);
    free(lens);
    free(root);
    free(made);
    rc_shard_build_free(&sb);
    return p->rc = rc;
}

static void *run_thread(void *arg)
{
    run(arg);
    return NULL;
}

int rc_build_sharded(recite_build_stats *stats, const char *dir, const char *const *paths,
                     size_t npaths, const recite_index *from, const uint32_t *works, size_t nworks,
                     unsigned nshards, const recite_comm *comm, const recite_build_options *opt,
                     recite_error *err)
{
    recite_build_options defaults = RECITE_BUILD_OPTIONS_INIT;
    if (!opt)
        opt = &defaults;
    if (stats)
        memset(stats, 0, sizeof *stats);
    if (opt->version != RECITE_BUILD_OPTIONS_VERSION)
        return rc_error_set(err, RECITE_EINVAL, "build options version %u not supported",
                            opt->version);
    if (nshards < 1 || nshards > RC_MAX_SHARDS_BUILD)
        return rc_error_set(err, RECITE_EINVAL, "--shards must be from 1 to %u, not %u",
                            RC_MAX_SHARDS_BUILD, nshards);
    if (comm &&
        (comm->size != nshards || comm->rank >= comm->size || !comm->allgather || !comm->alltoall))
        return rc_error_set(err, RECITE_EINVAL,
                            "a distributed build has one shard per participant: %u shards for "
                            "%u participants",
                            nshards, comm->size);
    if (npaths == 0 && !from && opt->ngit == 0)
        return rc_error_set(err, RECITE_EINVAL, "no input paths given");
    participant proto;
    memset(&proto, 0, sizeof proto);
    proto = (participant){dir, paths, npaths, from, works, nworks, nshards, {0}, *opt, 0, {0}, {0}};
    if (comm) {
        proto.comm = *comm;
        int rc = run(&proto);
        if (rc != RECITE_OK && err)
            *err = proto.err;
        if (rc == RECITE_OK && stats)
            *stats = proto.stats;
        return rc;
    }
    /* In this process: a thread per shard, sharing the worker threads and the memory. */
    unsigned cpus = (unsigned)RC_MAX(sysconf(_SC_NPROCESSORS_ONLN), 1L);
    unsigned jobs = opt->jobs ? opt->jobs : cpus;
    uint64_t mem = opt->mem_budget ? opt->mem_budget : (1ull << 30);
    participant *ps = calloc(nshards, sizeof *ps);
    local_member *ms = calloc(nshards, sizeof *ms);
    pthread_t *th = calloc(nshards, sizeof *th);
    local_comm lc = {.size = nshards};
    pthread_mutex_init(&lc.mu, NULL);
    pthread_cond_init(&lc.cv, NULL);
    lc.send = calloc(nshards, sizeof *lc.send);
    lc.send_lens = calloc(nshards, sizeof *lc.send_lens);
    lc.len = calloc(nshards, sizeof *lc.len);
    int rc = ps && ms && th && lc.send && lc.send_lens && lc.len
                 ? RECITE_OK
                 : rc_error_set(err, RECITE_ENOMEM, "out of memory");
    unsigned started = 0;
    if (rc == RECITE_OK) {
        for (unsigned s = 0; s < nshards; s++) {
            ms[s] = (local_member){&lc, s};
            ps[s] = proto;
            ps[s].comm = (recite_comm){s, nshards, local_allgather, local_alltoall, &ms[s]};
            ps[s].opt.jobs = RC_MAX(jobs / nshards, 1u);
            ps[s].opt.mem_budget = RC_MAX(mem / nshards, (uint64_t)16 << 20);
            if (s) /* one progress line: the first shard's (it reads every input) */
                ps[s].opt.progress = NULL;
        }
        for (; started < nshards; started++)
            if (pthread_create(&th[started], NULL, run_thread, &ps[started]) != 0)
                break;
        if (started < nshards) { /* the others would wait for it at every step: break them */
            pthread_mutex_lock(&lc.mu);
            lc.broken = true;
            pthread_cond_broadcast(&lc.cv);
            pthread_mutex_unlock(&lc.mu);
        }
        for (unsigned s = 0; s < started; s++)
            pthread_join(th[s], NULL);
        if (started < nshards) {
            rc = rc_error_set(err, RECITE_ENOMEM, "cannot start the shards' threads");
        } else {
            rc = ps[0].rc;
            if (rc != RECITE_OK && err)
                *err = ps[0].err;
            if (rc == RECITE_OK && stats)
                *stats = ps[0].stats;
        }
    }
    free(ps);
    free(ms);
    free(th);
    free(lc.send);
    free(lc.send_lens);
    free(lc.len);
    pthread_mutex_destroy(&lc.mu);
    pthread_cond_destroy(&lc.cv);
    return rc;
}

int recite_index_build_sharded(recite_build_stats *out, const char *dir, const char *const *paths,
                               size_t npaths, unsigned shards, const recite_comm *comm,
                               const recite_build_options *opt, recite_error *err)
{
    return rc_build_sharded(out, dir, paths, npaths, NULL, NULL, 0, shards, comm, opt, err);
}

/*
 * build_shards.c — sharded builds (recite_index_build_sharded): each shard is built by the
 * ordinary builder (build.c) from every input, keeping the works whose text hashes to it, and
 * what depends on the whole library is exchanged between the shards at fixed collective steps
 * (families of near-duplicates, document frequency); the first shard then writes the head
 * (DIR/recite.idx, docs/FORMAT.md "Sharded indexes") and publishes the directory atomically.
 * The shards run in threads of this process (an in-process communicator), or one per process
 * with the communicator the caller hands in (MPI in the `recite` command).
 */
#include "rc_builder.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* The collective steps of a sharded build, in order: every shard takes each of them, the ones a
 * failure skips included (rc_shard_drain), so none waits for another forever. */
enum {
    STEP_ROOT = 1,  /* the first shard made the temporary directory: its path */
    STEP_LICENSES,  /* the license index is built in it */
    STEP_LOADED,    /* every shard committed its works (build.c) */
    STEP_FAMILIES,  /* signatures of every text: families of the library */
    STEP_DF_SEND,   /* fingerprint groups and their families, to the shard that counts them */
    STEP_DF_REPLY,  /* their classes, back */
    STEP_WRITTEN,   /* every shard written and verified: what the head needs of each */
    STEP_PUBLISHED, /* the first shard wrote the head and published */
    STEP_LAST = STEP_PUBLISHED
};
_Static_assert(STEP_LAST == RC_SHARD_STEPS, "the steps of rc_builder.h");

#define AGREE_MSG 480

/* ==== collective steps ==== */

int rc_shard_agree(rc_shard_build *sb, int rc, recite_error *err)
{
    sb->step++;
    uint8_t mine[4 + AGREE_MSG];
    memset(mine, 0, sizeof mine);
    rc_put_u32(mine, (uint32_t)(int32_t)rc);
    if (rc != RECITE_OK && err)
        snprintf((char *)mine + 4, AGREE_MSG, "%.479s", err->message);
    void *all = NULL;
    size_t *lens = calloc(sb->nshards, sizeof *lens);
    int crc =
        lens ? sb->comm->allgather(sb->comm->user, mine, sizeof mine, &all, lens) : RECITE_ENOMEM;
    free(lens);
    if (crc != RECITE_OK) {
        free(all);
        return rc != RECITE_OK ? rc
                               : rc_error_set(err, crc,
                                              "the shards of the build could not "
                                              "exchange their state (%s)",
                                              recite_strerror(crc));
    }
    int out = rc;
    for (unsigned r = 0; r < sb->nshards && out == RECITE_OK; r++) {
        const uint8_t *p = (const uint8_t *)all + r * sizeof mine;
        int code = (int)(int32_t)rc_get_u32(p);
        if (code != RECITE_OK && r != sb->shard)
            out = rc_error_set(err, code, "shard %u: %.*s", r, AGREE_MSG, (const char *)p + 4);
    }
    free(all);
    return out;
}

void rc_shard_drain(rc_shard_build *sb, int rc)
{
    recite_error e = {0};
    rc_error_set(&e, rc, "failed");
    while (sb->step < STEP_LAST)
        rc_shard_agree(sb, rc == RECITE_OK ? RECITE_EINVAL : rc, &e);
}

int rc_shard_allgather(rc_shard_build *sb, int rc, const void *send, size_t len, void **out,
                       size_t *lens, recite_error *err)
{
    *out = NULL;
    if ((rc = rc_shard_agree(sb, rc, err)) != RECITE_OK)
        return rc;
    rc = sb->comm->allgather(sb->comm->user, send, len, out, lens);
    return rc == RECITE_OK
               ? rc
               : rc_error_set(err, rc, "the shards could not exchange (%s)", recite_strerror(rc));
}

static int step_alltoall(rc_shard_build *sb, int rc, const void *send, const size_t *send_lens,
                         void **out, size_t *recv_lens, recite_error *err)
{
    *out = NULL;
    if ((rc = rc_shard_agree(sb, rc, err)) != RECITE_OK)
        return rc;
    rc = sb->comm->alltoall(sb->comm->user, send, send_lens, out, recv_lens);
    return rc == RECITE_OK
               ? rc
               : rc_error_set(err, rc, "the shards could not exchange (%s)", recite_strerror(rc));
}

void rc_shard_build_free(rc_shard_build *sb)
{
    RC_VEC_FREE(sb->global);
    RC_VEC_FREE(sb->other_ids);
    RC_VEC_FREE(sb->other_at);
    rc_spool_free(&sb->df_send);
    rc_spool_free(&sb->groups);
}

int rc_shard_commit_other(rc_builder *b, const char *id, recite_error *err)
{
    rc_shard_build *sb = b->shard;
    size_t n = strlen(id) + 1;
    if (sb->other_at.n >= RC_OTHER_ID)
        return rc_error_set(err, RECITE_ELIMIT, "more than 2^31 works in one shard");
    if (RC_VEC_PUSH(sb->other_at, sb->other_ids.n) != RECITE_OK ||
        RC_VEC_RESERVE(sb->other_ids, sb->other_ids.n + n) != RECITE_OK ||
        rc_builder_claim_id(b, id, RC_OTHER_ID | (uint32_t)(sb->other_at.n - 1)) != RECITE_OK)
        return rc_error_set(err, RECITE_ENOMEM, "out of memory");
    memcpy(sb->other_ids.v + sb->other_ids.n, id, n);
    sb->other_ids.n += n;
    sb->works_seen++;
    return RECITE_OK;
}

/* ==== families of the whole library (step 4) ==== */

#define SIG_REC (4 + 1 + 4 * RC_MINHASH) /* u32 first work, u8 usable, the signature */
#define SIG_HEAD (8 * RC_CHANNELS)       /* u64 postings per channel */

typedef struct sig_ref {
    uint32_t rep;
    const uint8_t *rec;
    uint32_t shard, local; /* whose cluster */
} sig_ref;

static int cmp_sig_ref(const void *a, const void *b)
{
    const sig_ref *x = a, *y = b;
    return (x->rep > y->rep) - (x->rep < y->rep);
}

typedef struct fam_pair {
    uint32_t key, cluster;
} fam_pair;

static int cmp_fam_pair(const void *a, const void *b)
{
    const fam_pair *x = a, *y = b;
    if (x->key != y->key)
        return (x->key > y->key) - (x->key < y->key);
    return (x->cluster > y->cluster) - (x->cluster < y->cluster);
}

/* This shard's part of step 4: its postings per channel, then each of its texts (read back
 * from the builder's spools): the library's number of its first work, usable, signature. */
static int shard_signatures(rc_builder *b, uint8_t **out, size_t *len, recite_error *err)
{
    rc_shard_build *sb = b->shard;
    size_t n = (size_t)b->nclusters;
    uint8_t *mine = malloc(SIG_HEAD + n * SIG_REC);
    if (!(*out = mine))
        return rc_error_set(err, RECITE_ENOMEM, "out of memory");
    *len = SIG_HEAD + n * SIG_REC;
    for (unsigned c = 0; c < RC_CHANNELS; c++)
        rc_put_u64(mine + 8 * c, b->postings[c]);
    rc_spool_iter ci, mi;
    int rc = rc_spool_iter_init(&ci, &b->clusters, err);
    if (rc == RECITE_OK && (rc = rc_spool_iter_init(&mi, &b->minhash, err)) != RECITE_OK)
        rc_spool_iter_free(&ci);
    if (rc != RECITE_OK)
        return rc;
    for (size_t c = 0; c < n && rc == RECITE_OK; c++) {
        rc_cluster_rec cr;
        uint32_t sig[RC_MINHASH + 1]; /* the signature and "usable" (build.c) */
        if ((rc = rc_spool_iter_read(&ci, &cr, sizeof cr, err)) != RECITE_OK ||
            (rc = rc_spool_iter_read(&mi, sig, sizeof sig, err)) != RECITE_OK)
            break;
        if (cr.member0 >= sb->global.n) {
            rc = rc_error_set(err, RECITE_EFORMAT, "shard %u: works lost", sb->shard);
            break;
        }
        uint8_t *p = mine + SIG_HEAD + c * SIG_REC;
        /* member0 is the cluster's first work (members are laid out when written) */
        rc_put_u32(p, sb->global.v[cr.member0]);
        p[4] = sig[RC_MINHASH] != 0;
        for (unsigned k = 0; k < RC_MINHASH; k++)
            rc_put_u32(p + 5 + 4 * k, sig[k]);
    }
    rc_spool_iter_free(&ci);
    rc_spool_iter_free(&mi);
    return rc;
}

/* Every shard sends the signature of each of its texts with the library's number of the text's
 * first work; every shard then runs the families of build_family.c over all texts in that order,
 * the order of one index of the library, so the families are the same as that index's. A text's
 * family is named by that number of its family's first text. The signatures of the library go
 * through a spool as in an unsharded build (build_family.c reads them a band at a time). */
int rc_shard_families(rc_builder *b, recite_error *err)
{
    rc_shard_build *sb = b->shard;
    size_t n = (size_t)b->nclusters, mine_len = 0;
    uint8_t *mine = NULL;
    int rc = shard_signatures(b, &mine, &mine_len, err);
    void *all = NULL;
    size_t *lens = calloc(sb->nshards, sizeof *lens);
    if (!lens && rc == RECITE_OK)
        rc = rc_error_set(err, RECITE_ENOMEM, "out of memory");
    rc = rc_shard_allgather(sb, rc, mine, mine_len, &all, lens, err);
    free(mine);
    size_t total = 0;
    uint64_t postings[RC_CHANNELS] = {0};
    const uint8_t *q = all;
    for (unsigned r = 0; rc == RECITE_OK && r < sb->nshards; q += lens[r], r++) {
        if (lens[r] < SIG_HEAD || (lens[r] - SIG_HEAD) % SIG_REC)
            rc = rc_error_set(err, RECITE_EFORMAT, "shard %u: bad signatures", r);
        for (unsigned c = 0; rc == RECITE_OK && c < RC_CHANNELS; c++)
            postings[c] += rc_get_u64(q + 8 * c);
        if (rc == RECITE_OK)
            total += (lens[r] - SIG_HEAD) / SIG_REC;
    }
    for (unsigned c = 0; c < RC_CHANNELS; c++)
        sb->key_bits[c] = rc_bucket_bits_for(postings[c]);
    rc_spool sigs;
    memset(&sigs, 0, sizeof sigs);
    rc_spool_init(&sigs, b->opt->tmp_dir ? b->opt->tmp_dir : b->tmp_dir, b->spool_cap);
    sig_ref *refs = rc == RECITE_OK ? malloc((total + 1) * sizeof *refs) : NULL;
    uint32_t *family = refs ? malloc((total + 1) * sizeof *family) : NULL;
    fam_pair *pairs = family ? malloc((n + 1) * sizeof *pairs) : NULL;
    if (pairs) {
        b->family = malloc((n + 1) * sizeof *b->family);
        b->family_key = malloc((n + 1) * sizeof *b->family_key);
    }
    if (rc == RECITE_OK && (!pairs || !b->family || !b->family_key))
        rc = rc_error_set(err, RECITE_ENOMEM, "out of memory");
    if (rc == RECITE_OK && total > UINT32_MAX)
        rc = rc_error_set(err, RECITE_ELIMIT, "more than 2^32 distinct texts in the library");
    if (rc == RECITE_OK) {
        size_t k = 0;
        const uint8_t *p = all;
        for (unsigned r = 0; r < sb->nshards; r++) {
            p += SIG_HEAD;
            for (size_t i = 0; i < (lens[r] - SIG_HEAD) / SIG_REC; i++, p += SIG_REC)
                refs[k++] = (sig_ref){rc_get_u32(p), p, r, (uint32_t)i};
        }
        rc_sort(refs, total, sizeof *refs, cmp_sig_ref);
        for (size_t i = 0; i < total && rc == RECITE_OK; i++) {
            uint32_t sig[RC_MINHASH + 1];
            for (unsigned j = 0; j < RC_MINHASH; j++)
                sig[j] = rc_get_u32(refs[i].rec + 5 + 4 * j);
            sig[RC_MINHASH] = refs[i].rec[4] != 0;
            rc = rc_spool_append(&sigs, sig, sizeof sig, err);
        }
        if (rc == RECITE_OK)
            rc = rc_families(&sigs, (uint32_t)total, family, err);
    }
    rc_spool_free(&sigs);
    if (rc == RECITE_OK) {
        /* The common threshold of the whole library, the same in every shard. */
        uint64_t families = 0;
        for (size_t i = 0; i < total; i++)
            families += family[i] == i;
        b->common_texts = b->opt->common_texts ? b->opt->common_texts : rc_common_texts(families);
        sb->common_texts = b->common_texts;
        /* This shard's texts: the family's name, and its first text in this shard. */
        for (size_t i = 0; i < total; i++)
            if (refs[i].shard == sb->shard)
                b->family_key[refs[i].local] = refs[family[i]].rep;
        for (size_t c = 0; c < n; c++)
            pairs[c] = (fam_pair){b->family_key[c], (uint32_t)c};
        rc_sort(pairs, n, sizeof *pairs, cmp_fam_pair);
        for (size_t i = 0, first = 0; i < n; i++) {
            if (i == 0 || pairs[i].key != pairs[i - 1].key)
                first = pairs[i].cluster;
            b->family[pairs[i].cluster] = (uint32_t)first;
        }
    }
    free(all);
    free(lens);
    free(refs);
    free(family);
    free(pairs);
    return rc;
}

/* ==== document frequency of the whole library (steps 5 and 6) ==== */

#define DF_REC 12    /* u64 fingerprint key, u32 family */
#define GROUP_REC 12 /* u64 fingerprint key, u32 postings */

static unsigned part_of(uint64_t key, unsigned nshards)
{
    return (unsigned)(rc_mix64(key) % nshards);
}

int rc_shard_df_group(rc_shard_build *sb, uint64_t key, uint64_t npostings,
                      const uint32_t *families, size_t nfamilies, recite_error *err)
{
    /* RC_COMMON_TEXTS_MAX families make the class "common" whatever the others hold (the
     * threshold is at most that): no need to send more. */
    nfamilies = RC_MIN(nfamilies, (size_t)RC_COMMON_TEXTS_MAX);
    uint8_t rec[DF_REC * RC_COMMON_TEXTS_MAX];
    rc_put_u64(rec, key);
    rc_put_u32(rec + 8, (uint32_t)npostings);
    int rc = rc_spool_append(&sb->groups, rec, GROUP_REC, err);
    for (size_t i = 0; i < nfamilies; i++) {
        rc_put_u64(rec + DF_REC * i, key);
        rc_put_u32(rec + DF_REC * i + 8, families[i]);
    }
    if (rc == RECITE_OK)
        rc = rc_spool_append(&sb->df_send, rec, DF_REC * nfamilies, err);
    sb->ngroups += rc == RECITE_OK;
    return rc;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

/* The records one shard sent for counting, consumed a fingerprint at a time (they come in
 * increasing key order: the groups come out of the sort in that order). */
typedef struct df_stream {
    const uint8_t *p, *end;
    unsigned shard;
} df_stream;

static uint64_t stream_key(const df_stream *s)
{
    return rc_get_u64(s->p);
}

/* A binary heap of the streams not exhausted, by their next key. */
static void heap_down(df_stream **h, size_t n, size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, m = i;
        if (l < n && stream_key(h[l]) < stream_key(h[m]))
            m = l;
        if (l + 1 < n && stream_key(h[l + 1]) < stream_key(h[m]))
            m = l + 1;
        if (m == i)
            return;
        df_stream *t = h[i];
        h[i] = h[m];
        h[m] = t;
        i = m;
    }
}

/* The shard that counts a part of the fingerprints receives, from every shard, each of its
 * groups' families. It merges the shards' records by key, counts the distinct families of each
 * fingerprint over all shards and replies, to each shard, the class of each group it sent, in
 * the order sent. Memory: the records received, a byte per group, and one fingerprint's
 * families (at most RC_COMMON_TEXTS_MAX per shard). */
static int count_families(rc_shard_build *sb, const uint8_t *recv, const size_t *recv_lens,
                          uint8_t **reply, size_t *reply_lens, recite_error *err)
{
    unsigned ns = sb->nshards;
    size_t total = 0, *at = calloc(ns, sizeof *at);
    df_stream *streams = calloc(ns, sizeof *streams);
    df_stream **heap = calloc(ns, sizeof *heap);
    RC_VEC(uint32_t) fam = {0};
    int rc = at && streams && heap ? RECITE_OK : rc_error_set(err, RECITE_ENOMEM, "out of memory");
    const uint8_t *p = recv;
    size_t nheap = 0;
    for (unsigned r = 0; rc == RECITE_OK && r < ns; p += recv_lens[r], r++) {
        if (recv_lens[r] % DF_REC) {
            rc = rc_error_set(err, RECITE_EFORMAT, "shard %u: bad document frequency records", r);
            break;
        }
        reply_lens[r] = 0; /* the groups it sent: its distinct keys */
        for (size_t i = 0; i < recv_lens[r]; i += DF_REC)
            reply_lens[r] += i == 0 || rc_get_u64(p + i) != rc_get_u64(p + i - DF_REC);
        at[r] = total;
        total += reply_lens[r];
        streams[r] = (df_stream){p, p + recv_lens[r], r};
        if (recv_lens[r])
            heap[nheap++] = &streams[r];
    }
    *reply = rc == RECITE_OK ? malloc(total + 1) : NULL;
    if (rc == RECITE_OK && !*reply)
        rc = rc_error_set(err, RECITE_ENOMEM, "out of memory");
    for (size_t i = nheap; i-- > 0;)
        heap_down(heap, nheap, i);
    RC_VEC(unsigned) senders = {0};
    while (rc == RECITE_OK && nheap) {
        /* Every stream whose next key is the least: its records of that key. */
        uint64_t key = stream_key(heap[0]);
        fam.n = senders.n = 0;
        while (rc == RECITE_OK && nheap && stream_key(heap[0]) == key) {
            df_stream *s = heap[0];
            for (; s->p < s->end && rc_get_u64(s->p) == key; s->p += DF_REC)
                if (RC_VEC_PUSH(fam, rc_get_u32(s->p + 8)) != RECITE_OK)
                    rc = rc_error_set(err, RECITE_ENOMEM, "out of memory");
            if (RC_VEC_PUSH(senders, s->shard) != RECITE_OK)
                rc = rc_error_set(err, RECITE_ENOMEM, "out of memory");
            if (s->p == s->end)
                heap[0] = heap[--nheap];
            else if (stream_key(s) < key)
                rc = rc_error_set(err, RECITE_EFORMAT, "shard %u: fingerprints out of order",
                                  s->shard);
            heap_down(heap, nheap, 0);
        }
        if (rc != RECITE_OK)
            break;
        rc_sort(fam.v, fam.n, sizeof *fam.v, cmp_u32);
        uint64_t distinct = 0;
        for (size_t i = 0; i < fam.n; i++)
            distinct += i == 0 || fam.v[i] != fam.v[i - 1];
        uint8_t cls = (uint8_t)rc_df_class(distinct, sb->common_texts);
        for (size_t i = 0; i < senders.n; i++)
            (*reply)[at[senders.v[i]]++] = cls;
    }
    RC_VEC_FREE(senders);
    RC_VEC_FREE(fam);
    free(at);
    free(streams);
    free(heap);
    return rc;
}

/* Rewrites the class bits of the posting keys of each channel's key section, group by group,
 * and its checksum. */
static int patch_keys(rc_builder *b, rc_section_entry *sec, size_t nsec, const uint8_t *classes,
                      recite_error *err)
{
    const size_t chunk = 1u << 20;
    uint8_t *buf = malloc(chunk);
    XXH3_state_t *xs = XXH3_createState();
    int rc = buf && xs ? RECITE_OK : rc_error_set(err, RECITE_ENOMEM, "out of memory");
    rc_spool_iter it;
    if (rc == RECITE_OK && (rc = rc_spool_iter_init(&it, &b->shard->groups, err)) != RECITE_OK) {
        free(buf);
        XXH3_freeState(xs);
        return rc;
    }
    uint64_t g = 0, ngroups = b->shard->ngroups, left = 0;
    uint8_t cls = 0;
    for (unsigned c = 0; c < RC_CHANNELS && rc == RECITE_OK; c++) {
        rc_section_entry *e = NULL;
        for (size_t i = 0; i < nsec; i++)
            if (sec[i].id == (uint32_t)RC_SEC_POST_KEY(c))
                e = &sec[i];
        if (!e)
            continue;
        XXH3_64bits_reset(xs);
        for (uint64_t at = 0; at < e->length && rc == RECITE_OK; at += chunk) {
            size_t n = (size_t)RC_MIN((uint64_t)chunk, e->length - at);
            if (pread(b->fd, buf, n, (off_t)(e->offset + at)) != (ssize_t)n) {
                rc = rc_error_errno(err, RECITE_EIO, errno, "%s: read back failed", b->idx_path);
                break;
            }
            for (size_t k = 0; k < n && rc == RECITE_OK; k += 4) {
                while (left == 0 && g < ngroups && rc == RECITE_OK) {
                    uint8_t rec[GROUP_REC];
                    rc = rc_spool_iter_read(&it, rec, sizeof rec, err);
                    left = rc_get_u32(rec + 8);
                    cls = classes[g++];
                }
                if (rc != RECITE_OK)
                    break;
                if (left == 0) {
                    rc = rc_error_set(err, RECITE_EFORMAT, "%s: postings and groups disagree",
                                      b->idx_path);
                    break;
                }
                left--;
                rc_put_u32(buf + k, (rc_get_u32(buf + k) & ~3u) | cls);
            }
            XXH3_64bits_update(xs, buf, n);
            if (rc == RECITE_OK && pwrite(b->fd, buf, n, (off_t)(e->offset + at)) != (ssize_t)n)
                rc = rc_error_errno(err, RECITE_EIO, errno, "%s: write failed", b->idx_path);
        }
        e->checksum = XXH3_64bits_digest(xs);
    }
    rc_spool_iter_free(&it);
    free(buf);
    XXH3_freeState(xs);
    return rc;
}

int rc_shard_df_patch(rc_builder *b, rc_section_entry *sec, size_t nsec, recite_error *err)
{
    rc_shard_build *sb = b->shard;
    unsigned ns = sb->nshards;
    uint64_t ngroups = sb->ngroups;
    size_t *lens = calloc(4 * (size_t)ns, sizeof *lens), *at = NULL, *rlens = NULL,
           *reply_lens = NULL; /* NULL when lens is: a failed step does not read them */
    if (lens) {
        at = lens + ns;
        rlens = lens + 2 * ns;
        reply_lens = lens + 3 * ns;
    }
    uint8_t *send = NULL, *reply = NULL, *classes = malloc(ngroups + 1);
    void *recv = NULL, *replies = NULL;
    int rc = lens && classes ? RECITE_OK : rc_error_set(err, RECITE_ENOMEM, "out of memory");
    /* The records by the shard that counts them, in group order: counted, then copied, from
     * the spool (the buffer sent is the one copy in memory). */
    for (int pass = 0; pass < 2 && rc == RECITE_OK; pass++) {
        rc_spool_iter it;
        if ((rc = rc_spool_iter_init(&it, &sb->df_send, err)) != RECITE_OK)
            break;
        if (pass == 1) {
            for (unsigned r = 1; r < ns; r++)
                at[r] = at[r - 1] + lens[r - 1];
            if (!(send = malloc(at[ns - 1] + lens[ns - 1] + 1)))
                rc = rc_error_set(err, RECITE_ENOMEM, "out of memory");
        }
        for (uint64_t left = rc_spool_size(&sb->df_send) / DF_REC; left && rc == RECITE_OK;
             left--) {
            uint8_t rec[DF_REC];
            if ((rc = rc_spool_iter_read(&it, rec, sizeof rec, err)) != RECITE_OK)
                break;
            unsigned r = part_of(rc_get_u64(rec), ns);
            if (pass == 0) {
                lens[r] += DF_REC;
            } else {
                memcpy(send + at[r], rec, DF_REC);
                at[r] += DF_REC;
            }
        }
        rc_spool_iter_free(&it);
    }
    rc_spool_free(&sb->df_send);
    rc = step_alltoall(sb, rc, send, lens, &recv, rlens, err);
    free(send);
    if (rc == RECITE_OK)
        rc = count_families(sb, recv, rlens, &reply, reply_lens, err);
    free(recv);
    rc = step_alltoall(sb, rc, reply, reply_lens, &replies, rlens, err);
    free(reply);
    if (rc == RECITE_OK) {  /* each group's class, from the shard that counted it */
        size_t *end = lens; /* the send lengths are done with */
        for (unsigned r = 0; r < ns; r++) {
            at[r] = r ? end[r - 1] : 0;
            end[r] = at[r] + rlens[r];
        }
        rc_spool_iter it;
        if ((rc = rc_spool_iter_init(&it, &sb->groups, err)) == RECITE_OK) {
            for (uint64_t g = 0; g < ngroups && rc == RECITE_OK; g++) {
                uint8_t rec[GROUP_REC];
                if ((rc = rc_spool_iter_read(&it, rec, sizeof rec, err)) != RECITE_OK)
                    break;
                unsigned r = part_of(rc_get_u64(rec), ns);
                if (at[r] >= end[r])
                    rc = rc_error_set(err, RECITE_EFORMAT, "document frequencies lost in exchange");
                else
                    classes[g] = ((const uint8_t *)replies)[at[r]++];
            }
            rc_spool_iter_free(&it);
        }
        if (rc == RECITE_OK)
            rc = patch_keys(b, sec, nsec, classes, err);
    }
    free(replies);
    free(classes);
    free(lens);
    rc_spool_free(&sb->groups);
    return rc;
}

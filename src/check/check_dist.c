/*
 * check_dist.c — recite_check_distributed: a check of a sharded index whose shards are spread
 * over the participants of a communicator. The matcher's steps are match_dist.c's (lookups and
 * runs exchanged, the same result everywhere); then each participant sends what participant 0
 * needs of the works in its shards that the result names — records, CMI, their clusters'
 * members, the locators of the matches — and participant 0 keeps them with its index (for the
 * report: recite_index_work and the like answer from them), completes the result with the
 * background index and CMI verdicts, as recite_checker_finish does.
 */
#include "rc_checker.h"

#include "../common/rc_wire.h"

#include <stdlib.h>

/* Whether work w is in a shard open here. */
static bool held_here(const recite_index *idx, uint32_t w)
{
    uint32_t s, lw;
    return rc_shards_work(idx, w, &s, &lw) == RECITE_OK && idx->shards[s].idx;
}

static void put_info(rc_wire *wr, const recite_index *idx, uint32_t w, const recite_work_info *in,
                     const rc_cluster *cl)
{
    const char *s[] = {in->id,     in->title, in->author,        in->license,  in->copyright,
                       in->source, in->url,   in->metadata_json, in->cmi_json, in->content_hash};
    rc_wire_u32(wr, w);
    for (size_t k = 0; k < RC_ARRAY_LEN(s); k++)
        rc_wire_str(wr, s[k]);
    rc_wire_u64(wr, in->bytes);
    rc_wire_u64(wr, in->tokens);
    rc_wire_u32(wr, in->cluster);
    rc_wire_u32(wr, in->representative);
    rc_wire_u32(wr, (uint32_t)in->mode);
    rc_wire_u32(wr, cl->member0);
    rc_wire_u32(wr, cl->nmembers);
    const uint8_t *rec;
    size_t len;
    rc_index_work_cmi(idx, w, &rec, &len);
    rc_wire_u32(wr, (uint32_t)len);
    rc_wire_bytes(wr, rec, len);
}

static void put_locator(rc_wire *wr, uint32_t w, uint64_t offset, const recite_locator *l)
{
    rc_wire_u32(wr, w);
    rc_wire_u64(wr, offset);
    rc_wire_u64(wr, l->line);
    rc_wire_u32(wr, l->page);
    rc_wire_u32(wr, l->pages);
    rc_wire_u32(wr, l->chapter);
    rc_wire_str(wr, l->chapter_title);
    rc_wire_str(wr, l->chapter_name);
    rc_wire_str(wr, l->member);
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

/* The works of this participant's shards that the result names (and the other works of their
 * clusters, which reports list), and the locators of its matches' offsets. */
static int pack_works(const rc_matcher *m, rc_wire *wr, recite_error *err)
{
    const recite_index *idx = m->idx;
    size_t nw = m->matches.n + m->works.n;
    uint32_t *ws = malloc((nw + 1) * sizeof *ws);
    if (!ws)
        return rc_error_set(err, RECITE_ENOMEM, "out of memory");
    size_t n = 0;
    for (size_t i = 0; i < m->matches.n; i++)
        ws[n++] = m->matches.v[i].work;
    for (size_t i = 0; i < m->works.n; i++)
        ws[n++] = m->works.v[i].work;
    rc_sort(ws, n, sizeof *ws, cmp_u32);
    size_t at = wr->b.n;
    uint32_t count = 0;
    rc_wire_u32(wr, 0);
    int rc = RECITE_OK;
    for (size_t i = 0; i < n && rc == RECITE_OK; i++) {
        if ((i && ws[i] == ws[i - 1]) || !held_here(idx, ws[i]))
            continue;
        recite_work_info info;
        rc_cluster cl;
        if (recite_index_work(&info, idx, ws[i]) != RECITE_OK ||
            rc_index_cluster_check(idx, info.cluster, &cl, err) != RECITE_OK) {
            rc = rc_error_set(err, RECITE_EFORMAT, "corrupt index (work %u)", ws[i]);
            break;
        }
        for (uint32_t k = 0; k < cl.nmembers && rc == RECITE_OK; k++) {
            uint32_t w = rc_index_member(idx, cl.member0 + k);
            recite_work_info mi;
            if (recite_index_work(&mi, idx, w) != RECITE_OK)
                rc = rc_error_set(err, RECITE_EFORMAT, "corrupt index (work %u)", w);
            else
                put_info(wr, idx, w, &mi, &cl);
            count++;
        }
    }
    free(ws);
    if (!wr->oom && rc == RECITE_OK)
        rc_put_u32(wr->b.v + at, count);
    /* The locators a report gives of each match: its first byte's and its last's. */
    at = wr->b.n;
    count = 0;
    rc_wire_u32(wr, 0);
    for (size_t i = 0; i < m->matches.n && rc == RECITE_OK; i++) {
        const recite_match *x = &m->matches.v[i];
        if (!held_here(idx, x->work))
            continue;
        uint64_t offs[2] = {x->src_start,
                            x->src_end > x->src_start ? x->src_end - 1 : x->src_start};
        for (unsigned k = 0; k < 2 && rc == RECITE_OK; k++) {
            recite_locator l;
            int lr = recite_index_locate(&l, idx, x->work, offs[k], err);
            if (lr == RECITE_ENOMEM)
                rc = lr;
            else if (lr == RECITE_OK) {
                put_locator(wr, x->work, offs[k], &l);
                count++;
            }
        }
    }
    if (!wr->oom && rc == RECITE_OK)
        rc_put_u32(wr->b.v + at, count);
    return rc;
}

/* Whether work w is in a shard of participant p of n. */
static bool held_by(const recite_index *idx, uint32_t w, unsigned p, unsigned n)
{
    uint32_t s, lw;
    return rc_shards_work(idx, w, &s, &lw) == RECITE_OK && s % n == p;
}

/* What the other participants sent, kept with participant 0's index. */
static int keep_works(const recite_index *idx, rc_exchange *in, recite_error *err)
{
    int rc = rc_remote_begin(idx);
    for (unsigned p = 1; p < in->n && rc == RECITE_OK; p++) {
        rc_rd *rd = &in->from[p];
        uint32_t n = rc_rd_count(rd, 84);
        for (uint32_t i = 0; i < n && rc == RECITE_OK && !rd->bad; i++) {
            uint32_t w = rc_rd_u32(rd);
            char *s[10] = {0};
            bool ok = true;
            for (size_t k = 0; k < 10; k++)
                ok &= rc_rd_str(rd, &s[k]);
            recite_work_info info = {s[0], s[1], s[2], s[3], s[4], s[5], s[6], s[7],
                                     s[8], 0,    0,    0,    0,    0,    s[9]};
            info.bytes = rc_rd_u64(rd);
            info.tokens = rc_rd_u64(rd);
            info.cluster = rc_rd_u32(rd);
            info.representative = rc_rd_u32(rd);
            info.mode = (recite_mode)rc_rd_u32(rd);
            uint32_t member0 = rc_rd_u32(rd), nmembers = rc_rd_u32(rd), clen = rc_rd_u32(rd);
            const uint8_t *cmi = clen ? rc_rd_take(rd, clen) : NULL;
            if (!ok)
                rc = RECITE_ENOMEM;
            else if (!rd->bad && (!info.id || w >= idx->nworks || !held_by(idx, w, p, in->n)))
                rd->bad = true;
            else if (!rd->bad)
                rc = rc_remote_add_work(idx, w, &info, cmi, clen, member0, nmembers);
            for (size_t k = 0; k < 10; k++)
                free(s[k]);
        }
        n = rc_rd_count(rd, 44);
        for (uint32_t i = 0; i < n && rc == RECITE_OK && !rd->bad; i++) {
            recite_locator l = {0};
            uint32_t w = rc_rd_u32(rd);
            uint64_t offset = rc_rd_u64(rd);
            l.line = rc_rd_u64(rd);
            l.page = rc_rd_u32(rd);
            l.pages = rc_rd_u32(rd);
            l.chapter = rc_rd_u32(rd);
            char *t = NULL, *nm = NULL, *mb = NULL;
            if (!rc_rd_str(rd, &t) || !rc_rd_str(rd, &nm) || !rc_rd_str(rd, &mb))
                rc = RECITE_ENOMEM;
            l.chapter_title = t;
            l.chapter_name = nm;
            l.member = mb;
            if (rc == RECITE_OK && !rd->bad)
                rc = rc_remote_add_locator(idx, w, offset, &l);
            free(t);
            free(nm);
            free(mb);
        }
        if (rc == RECITE_OK && rd->bad)
            return rc_error_set(err, RECITE_EFORMAT, "participant %u sent malformed works", p);
    }
    if (rc == RECITE_OK)
        rc = rc_remote_seal(idx);
    return rc == RECITE_OK ? rc : rc_error_set(err, rc, "out of memory");
}

int recite_check_distributed(const recite_result **out, recite_checker *c, const recite_comm *comm,
                             const char *text, size_t len, recite_error *err)
{
    *out = NULL;
    if (!c || !comm || !comm->allgather || comm->size == 0 || comm->rank >= comm->size)
        return rc_error_set(err, RECITE_EINVAL, "a distributed check needs a communicator");
    rc_matcher *m = c->m;
    const recite_index *idx = m->idx;
    int rc = RECITE_OK;
    /* A participant that cannot take part says so in the first exchange: none waits. */
    if (!idx->nshards)
        rc = rc_error_set(err, RECITE_EINVAL, "a distributed check needs a sharded index");
    else if (idx->part_of != comm->size || idx->part_no != comm->rank)
        rc = rc_error_set(err, RECITE_EINVAL,
                          "the index is opened as part %u of %u, not as participant %u of %u",
                          idx->part_no, idx->part_of, comm->rank, comm->size);
    rc_matcher_reset(m);
    c->live_works.n = 0;
    m->dist = true;
    if (rc == RECITE_OK && len) { /* the text, tokenized (the participants look it up) */
        if (RC_VEC_RESERVE(m->text, len + 1) != RECITE_OK)
            rc = rc_error_set(err, RECITE_ENOMEM, "out of memory");
        else {
            memcpy(m->text.v, text, len);
            m->text.n = len;
            m->text.v[len] = 0;
        }
    }
    rc = rc_match_distributed(m, comm, rc, err);
    /* Participant 0 gets what it needs of the other shards' works for CMI and reports. */
    rc_wire w = {{0}, false};
    if (rc == RECITE_OK && comm->rank != 0) /* participant 0 has its own works at hand */
        rc = pack_works(m, &w, err);
    rc_exchange in;
    int xrc = rc_exchange_step(comm, rc, err, &w, &in);
    RC_VEC_FREE(w.b);
    rc = xrc;
    if (rc == RECITE_OK && comm->rank == 0)
        rc = keep_works(idx, &in, err);
    rc_exchange_free(&in);
    if (rc == RECITE_OK && comm->rank == 0)
        rc = rc_checker_complete(c, err);
    m->dist = false;
    if (rc == RECITE_OK)
        *out = &m->result;
    return rc;
}

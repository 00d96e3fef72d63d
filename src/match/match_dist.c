/*
 * match_dist.c — the matcher's part of a distributed check (recite_check_distributed): every
 * participant holds some shards of a sharded index and the same text. Each scans its shards'
 * postings for the text's k-grams (rc_match_scan) and sends the scans to all; each takes every
 * shard's scans together, shard after shard (rc_match_take_scans), so that all have the seeds,
 * classes and counts one index of the library gives, and chooses the same candidates; each
 * verifies the candidates of its shards (rc_match_verify_part) and sends its runs and
 * extensions to all; each merges them as the threads of an in-process check are merged
 * (rc_match_merge_parts) and finishes the same result. Two exchanges (check_dist.c adds a third).
 */
#include "rc_match.h"

#include "../common/rc_wire.h"

#include <stdlib.h>

#define REC_BYTES 22 /* a scan record without its hits */
#define HIT_BYTES 21
#define EXT_BYTES 13
#define RUN_BYTES 101

/* ==== lookups ==== */

typedef struct scan_out {
    rc_wire w;
    uint32_t n;
} scan_out;

static int emit_rec(void *user, const rc_scan_rec *r)
{
    scan_out *o = user;
    rc_wire *w = &o->w;
    rc_wire_u8(w, r->channel);
    rc_wire_u8(w, r->df);
    rc_wire_u32(w, r->q);
    rc_wire_u32(w, r->shard);
    rc_wire_u64(w, r->postings);
    rc_wire_u32(w, r->nhits);
    for (uint32_t i = 0; i < r->nhits; i++) {
        rc_wire_u64(w, r->hits[i].gpos);
        rc_wire_u64(w, r->hits[i].rank);
        rc_wire_u32(w, r->hits[i].cluster);
        rc_wire_u8(w, r->hits[i].kind);
    }
    o->n++;
    return w->oom ? RECITE_ENOMEM : RECITE_OK;
}

static int cmp_rec(const void *a, const void *b)
{
    const rc_scan_rec *x = a, *y = b;
    if (x->channel != y->channel)
        return x->channel < y->channel ? -1 : 1;
    if (x->q != y->q)
        return x->q < y->q ? -1 : 1;
    return (x->shard > y->shard) - (x->shard < y->shard);
}

/* Every participant's scans, taken together channel by channel. */
static int take_scans(rc_matcher *c, const recite_comm *comm, rc_exchange *in, recite_error *err)
{
    RC_VEC(rc_scan_rec) recs = {0};
    RC_VEC(rc_scan_hit) hits = {0};
    RC_VEC(size_t) at = {0};
    int rc = RECITE_OK;
    for (unsigned p = 0; p < in->n && rc == RECITE_OK; p++) {
        rc_rd *rd = &in->from[p];
        uint32_t n = rc_rd_count(rd, REC_BYTES);
        for (uint32_t i = 0; i < n && rc == RECITE_OK && !rd->bad; i++) {
            rc_scan_rec r = {0};
            r.channel = rc_rd_u8(rd);
            r.df = rc_rd_u8(rd);
            r.q = rc_rd_u32(rd);
            r.shard = rc_rd_u32(rd);
            r.postings = rc_rd_u64(rd);
            r.nhits = rc_rd_count(rd, HIT_BYTES);
            /* Only what the sender holds: its shards, the channels of the index. */
            if (r.channel >= RC_CHANNELS || !c->chans[r.channel].active ||
                r.shard >= c->idx->nshards || r.shard % comm->size != p)
                rd->bad = true;
            if (RC_VEC_PUSH(recs, r) != RECITE_OK || RC_VEC_PUSH(at, hits.n) != RECITE_OK ||
                RC_VEC_RESERVE(hits, hits.n + r.nhits + 1) != RECITE_OK) {
                rc = rc_error_set(err, RECITE_ENOMEM, "out of memory");
                break;
            }
            for (uint32_t h = 0; h < r.nhits; h++) {
                rc_scan_hit *x = &hits.v[hits.n++];
                x->gpos = rc_rd_u64(rd);
                x->rank = rc_rd_u64(rd);
                x->cluster = rc_rd_u32(rd);
                x->kind = rc_rd_u8(rd);
                if (x->cluster >= c->idx->nclusters + c->idx->nviews)
                    rd->bad = true;
            }
        }
        if (rd->bad)
            rc = rc_error_set(err, RECITE_EFORMAT,
                              "participant %u sent a malformed lookup of the text", p);
    }
    for (size_t i = 0; rc == RECITE_OK && i < recs.n; i++)
        recs.v[i].hits = hits.v + at.v[i];
    if (rc == RECITE_OK)
        rc_sort(recs.v, recs.n, sizeof *recs.v, cmp_rec);
    for (size_t i = 1; rc == RECITE_OK && i < recs.n; i++)
        if (cmp_rec(&recs.v[i - 1], &recs.v[i]) == 0)
            rc = rc_error_set(err, RECITE_EFORMAT, "a shard's lookup came twice");
    size_t a = 0;
    for (unsigned chn = 0; rc == RECITE_OK && chn < RC_CHANNELS; chn++) {
        size_t b = a;
        while (b < recs.n && recs.v[b].channel == chn)
            b++;
        if (c->chans[chn].active &&
            (rc = rc_match_take_scans(c, chn, b > a ? recs.v + a : NULL, b - a)) != 0)
            rc = rc_error_set(err, rc, "%s", rc_matcher_tokenize_error(rc));
        a = b;
    }
    RC_VEC_FREE(recs);
    RC_VEC_FREE(hits);
    RC_VEC_FREE(at);
    return rc;
}

/* ==== runs ==== */

static void put_part(rc_wire *w, const rc_part *p)
{
    rc_wire_u8(w, p->truncated);
    rc_wire_u32(w, (uint32_t)p->ext.n);
    for (size_t i = 0; i < p->ext.n; i++) {
        rc_wire_u64(w, p->ext.v[i].seed);
        rc_wire_u32(w, p->ext.v[i].steps);
        rc_wire_u8(w, p->ext.v[i].pushed);
    }
    rc_wire_u32(w, (uint32_t)p->raw.n);
    for (size_t i = 0; i < p->raw.n; i++) {
        const rc_raw_match *m = &p->raw.v[i];
        rc_wire_u32(w, m->cluster);
        rc_wire_u32(w, m->primary);
        rc_wire_u32(w, m->first);
        rc_wire_u8(w, m->channel);
        rc_wire_u32(w, m->q0);
        rc_wire_u32(w, m->len);
        rc_wire_u64(w, m->s0);
        rc_wire_u32(w, m->src_len);
        rc_wire_u64(w, m->src_start);
        rc_wire_u64(w, m->src_end);
        rc_wire_u8(w, m->common);
        rc_wire_u8(w, m->aligned);
        rc_wire_u8(w, m->weak);
        rc_wire_u8(w, (uint8_t)m->kind);
        rc_wire_f64(w, m->similarity);
        rc_wire_u64(w, m->w0);
        rc_wire_u64(w, m->w1);
        rc_wire_u64(w, m->wtokens);
        rc_wire_u64(w, m->vtokens);
        rc_wire_u64(w, m->seed);
    }
}

/* A participant's part, checked against the text (its runs lie inside the output). */
static int get_part(const rc_matcher *c, rc_rd *rd, rc_part *p)
{
    memset(p, 0, sizeof *p);
    p->truncated = rc_rd_u8(rd) != 0;
    uint32_t n = rc_rd_count(rd, EXT_BYTES);
    if (RC_VEC_RESERVE(p->ext, n + 1) != RECITE_OK)
        return RECITE_ENOMEM;
    for (uint32_t i = 0; i < n; i++) {
        rc_extension *e = &p->ext.v[p->ext.n++];
        e->seed = rc_rd_u64(rd);
        e->steps = rc_rd_u32(rd);
        e->pushed = rc_rd_u8(rd) != 0;
        if (i && e->seed <= p->ext.v[i - 1].seed)
            rd->bad = true;
    }
    n = rc_rd_count(rd, RUN_BYTES);
    if (RC_VEC_RESERVE(p->raw, n + 1) != RECITE_OK)
        return RECITE_ENOMEM;
    for (uint32_t i = 0; i < n && !rd->bad; i++) {
        rc_raw_match *m = &p->raw.v[p->raw.n++];
        m->cluster = rc_rd_u32(rd);
        m->primary = rc_rd_u32(rd);
        m->first = rc_rd_u32(rd);
        m->channel = rc_rd_u8(rd);
        m->q0 = rc_rd_u32(rd);
        m->len = rc_rd_u32(rd);
        m->s0 = rc_rd_u64(rd);
        m->src_len = rc_rd_u32(rd);
        m->src_start = rc_rd_u64(rd);
        m->src_end = rc_rd_u64(rd);
        m->common = rc_rd_u8(rd) != 0;
        m->aligned = rc_rd_u8(rd) != 0;
        m->weak = rc_rd_u8(rd) != 0;
        uint8_t kind = rc_rd_u8(rd);
        m->kind = (recite_kind)kind;
        m->similarity = rc_rd_f64(rd);
        m->w0 = rc_rd_u64(rd);
        m->w1 = rc_rd_u64(rd);
        m->wtokens = rc_rd_u64(rd);
        m->vtokens = rc_rd_u64(rd);
        m->seed = rc_rd_u64(rd);
        if (m->channel >= RC_CHANNELS || m->len == 0 ||
            (uint64_t)m->q0 + m->len > c->chans[m->channel].stream->toks.n ||
            kind > RECITE_KIND_NEAR || m->first >= c->idx->nworks ||
            m->primary >= c->idx->nclusters || m->w1 < m->w0 ||
            m->cluster >= c->idx->nclusters + c->idx->nviews)
            rd->bad = true;
    }
    return RECITE_OK;
}

/* ==== a check ==== */

int rc_match_distributed(rc_matcher *c, const recite_comm *comm, int rc, recite_error *err)
{
    /* Lookups: this participant's shards for every k-gram, then everyone's together. */
    scan_out o = {{{0}, false}, 0};
    rc_wire_u32(&o.w, 0); /* the count, set below */
    if (rc == RECITE_OK && (rc = rc_matcher_tokenize(c, true)) != RECITE_OK)
        rc = rc_error_set(err, rc, "%s", rc_matcher_tokenize_error(rc));
    for (unsigned chn = 0; rc == RECITE_OK && chn < RC_CHANNELS; chn++)
        if (c->chans[chn].active && (rc = rc_match_scan(c, chn, emit_rec, &o)) != RECITE_OK)
            rc = rc_error_set(err, rc, "%s", rc_matcher_tokenize_error(rc));
    if (!o.w.oom)
        rc_put_u32(o.w.b.v, o.n);
    rc_exchange in;
    rc = rc_exchange_step(comm, rc, err, &o.w, &in);
    RC_VEC_FREE(o.w.b);
    if (rc != RECITE_OK)
        return rc; /* every participant knows */
    rc = take_scans(c, comm, &in, err);
    rc_exchange_free(&in);
    c->annotated = true;
    /* Candidates, the same on every participant; this one verifies those of its shards. */
    if (rc == RECITE_OK)
        rc = rc_match_select(c, err);
    rc_part mine = {0};
    uint8_t *take = calloc(c->idx->nshards + 1, 1);
    if (rc == RECITE_OK && !take)
        rc = rc_error_set(err, RECITE_ENOMEM, "out of memory");
    for (uint32_t s = 0; take && s < c->idx->nshards; s++)
        take[s] = c->idx->shards[s].idx != NULL;
    if (rc == RECITE_OK)
        rc = rc_match_verify_part(&mine, c, take, err);
    free(take);
    rc_wire w = {{0}, false};
    if (rc == RECITE_OK)
        put_part(&w, &mine);
    rc_part_free(&mine);
    rc = rc_exchange_step(comm, rc, err, &w, &in);
    RC_VEC_FREE(w.b);
    if (rc != RECITE_OK)
        return rc;
    /* Everyone's runs, merged as one verification of all the seeds gives them. */
    rc_part *parts = calloc(in.n + 1, sizeof *parts);
    if (!parts)
        rc = rc_error_set(err, RECITE_ENOMEM, "out of memory");
    for (unsigned p = 0; rc == RECITE_OK && p < in.n; p++) {
        if (get_part(c, &in.from[p], &parts[p]) != RECITE_OK)
            rc = rc_error_set(err, RECITE_ENOMEM, "out of memory");
        else if (in.from[p].bad)
            rc = rc_error_set(err, RECITE_EFORMAT, "participant %u sent malformed runs", p);
    }
    if (rc == RECITE_OK)
        rc = rc_match_merge_parts(c, parts, in.n, err);
    for (unsigned p = 0; parts && p < in.n; p++)
        rc_part_free(&parts[p]);
    free(parts);
    rc_exchange_free(&in);
    return rc == RECITE_OK ? rc_match_finish_runs(c, err) : rc;
}

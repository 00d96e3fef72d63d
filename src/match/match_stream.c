/*
 * match_stream.c — streaming verdicts (recite_checker_poll): while text is fed, the seeds
 * found since the last poll are verified against the stored text right away and followed as
 * live spans, which grow as long as the text goes on reproducing the work; a span that reaches
 * min_tokens is reported as an event. `cleared` is the part of the text no unreported span can
 * reach into: see the leak bound in recite.h. finish() ignores all of this and checks the whole
 * text as a batch, so its result never depends on how the text was polled.
 */
#include "rc_match.h"

#include <stdlib.h>

#define MAX_LIVE_STEPS (64u << 20) /* token comparisons per stream before `truncated` */

void rc_live_reset(rc_matcher *c)
{
    c->live.next_seed = 0;
    if (c->live.spans.n && c->live.diag_cap)
        memset(c->live.diag_key, 0, c->live.diag_cap * sizeof *c->live.diag_key);
    c->live.spans.n = 0;
    c->live.events.n = 0;
    c->live.matches.n = 0;
    c->live.works.n = 0;
    memset(&c->live.result, 0, sizeof c->live.result);
    c->live.reported = 0;
    c->live.steps = 0;
    c->live.truncated = false;
}

void rc_live_free(rc_matcher *c)
{
    RC_VEC_FREE(c->live.spans);
    free(c->live.diag_key);
    free(c->live.diag_span);
    c->live.diag_key = NULL;
    c->live.diag_span = NULL;
    c->live.diag_cap = 0;
    RC_VEC_FREE(c->live.events);
    RC_VEC_FREE(c->live.matches);
    RC_VEC_FREE(c->live.works);
}

static unsigned chan_min_tokens(const rc_matcher *c, const rc_chan *ch)
{
    (void)c;
    return ch->min_tokens;
}

unsigned rc_matcher_leak_bound(const rc_matcher *c, recite_mode mode)
{
    /* A run of min_tokens = k + w - 1 tokens has a fingerprint among its first w k-grams; a
     * k-gram is looked up once the rc_context_len(w) tokens after it are complete. So the
     * first token of an unreported run is at most k + w - 1 + context - 1 tokens from the end,
     * or (a span still shorter than a larger min_tokens) min_tokens - 1. */
    unsigned bound = 0;
    for (unsigned k = 0; k < RC_CHANNELS; k++) {
        const rc_chan *ch = &c->chans[k];
        if (!ch->active || (mode == RECITE_MODE_PROSE) != (k == RC_CH_PROSE))
            continue;
        const rc_channel_info *in = ch->info;
        unsigned guarantee = in->kgram + in->window - 1;
        unsigned b = RC_MAX(guarantee + rc_context_len(in->window) - 1, chan_min_tokens(c, ch) - 1);
        bound = RC_MAX(bound, b);
    }
    return bound;
}

/* ==== spans by diagonal ====
 * Seeds arrive in output order per channel, so on one diagonal of one work a new span starts
 * after the previous one ends: the latest span of a diagonal is the only one a seed can be in. */

static uint64_t diag_key(uint32_t cl, uint8_t chn, int64_t diag)
{
    return rc_mix64(((uint64_t)cl << 34 ^ (uint64_t)chn << 32) +
                    (uint64_t)diag * 0x9e3779b97f4a7c15ULL) |
           1;
}

static size_t diag_slot(const rc_matcher *c, uint64_t key)
{
    size_t mask = c->live.diag_cap - 1, i = (size_t)key & mask;
    while (c->live.diag_key[i] && c->live.diag_key[i] != key)
        i = (i + 1) & mask;
    return i;
}

static int diag_put(rc_matcher *c, uint64_t key, uint32_t span)
{
    if (2 * (c->live.spans.n + 1) > c->live.diag_cap) { /* keep the table at most half full */
        size_t cap = c->live.diag_cap ? 2 * c->live.diag_cap : 256;
        uint64_t *keys = calloc(cap, sizeof *keys), *old_keys = c->live.diag_key;
        uint32_t *spans = malloc(cap * sizeof *spans), *old_spans = c->live.diag_span;
        if (!keys || !spans) {
            free(keys);
            free(spans);
            return RECITE_ENOMEM;
        }
        size_t old_cap = c->live.diag_cap;
        c->live.diag_key = keys;
        c->live.diag_span = spans;
        c->live.diag_cap = cap;
        for (size_t i = 0; i < old_cap; i++)
            if (old_keys[i]) {
                size_t s = diag_slot(c, old_keys[i]);
                keys[s] = old_keys[i];
                spans[s] = old_spans[i];
            }
        free(old_keys);
        free(old_spans);
    }
    size_t s = diag_slot(c, key);
    c->live.diag_key[s] = key;
    c->live.diag_span[s] = span;
    return RECITE_OK;
}

/* Whether a followed span on the seed's diagonal already holds output token q. */
static bool held(const rc_matcher *c, uint64_t key, uint32_t q)
{
    if (!c->live.diag_cap)
        return false;
    size_t s = diag_slot(c, key);
    if (!c->live.diag_key[s])
        return false;
    const rc_raw_match *m = &c->live.spans.v[c->live.diag_span[s]].m;
    return q >= m->q0 && q < m->q0 + m->len;
}

/* Grows an open span to the right over the tokens fed since. */
static int grow(rc_matcher *c, rc_live_span *sp, recite_error *err)
{
    rc_raw_match *m = &sp->m;
    const rc_chan *ch = &c->chans[m->channel];
    const rc_token *qt = ch->stream->toks.v, *t;
    uint64_t nq = ch->stream->toks.n;
    rc_cluster info;
    rc_index_cluster(c->idx, m->cluster, &info);
    sp->open = false;
    for (;;) {
        uint64_t q = (uint64_t)m->q0 + m->len, s = m->s0 + m->len;
        if (s >= info.ntokens)
            break; /* the work ends here */
        if (q >= nq) {
            sp->open = true; /* the text may go on */
            break;
        }
        int rc = rc_match_src_tok(c, m->cluster, s, &t, NULL, err);
        if (rc != RECITE_OK)
            return rc;
        c->live.steps++;
        if (rc_chan_hash(ch, t) != rc_chan_hash(ch, &qt[q]))
            break;
        if (t->end < m->src_start) /* a damaged checkpoint or token record */
            return rc_error_set(err, RECITE_EFORMAT,
                                "corrupt index (token offsets out of order in cluster %u)",
                                m->cluster);
        m->len++;
        m->src_len++;
        m->src_end = t->end;
    }
    return RECITE_OK;
}

/* Reports the span when it is long enough and new, grown or closed since it was last
 * reported. */
static int report(rc_matcher *c, rc_live_span *sp, recite_error *err)
{
    const rc_chan *ch = &c->chans[sp->m.channel];
    if (sp->m.len < chan_min_tokens(c, ch) ||
        (sp->m.len == sp->reported_len && sp->open == sp->reported_open))
        return RECITE_OK;
    if (sp->m.channel == RC_CH_PROSE) { /* not long enough without its include lines: not yet */
        uint64_t imports;
        int rc = rc_match_import_words(c, sp->m.q0, sp->m.len, false, &imports, err);
        if (rc != RECITE_OK || sp->m.len - imports < chan_min_tokens(c, ch))
            return rc;
    }
    /* The kind of the whole span: growing can only turn an exact span into a normalized one. */
    int rc = rc_match_classify(c, &sp->m, err);
    if (rc != RECITE_OK || sp->m.weak) /* a shape span unlike the work's code: not reported */
        return rc;
    if (sp->id == UINT32_MAX)
        sp->id = c->live.reported++;
    sp->reported_len = sp->m.len;
    sp->reported_open = sp->open;
    recite_span_event ev = {sp->id, rc_match_to_public(c, &sp->m), sp->open};
    return RC_VEC_PUSH(c->live.events, ev) == RECITE_OK
               ? RECITE_OK
               : rc_error_set(err, RECITE_ENOMEM, "out of memory");
}

/* Verifies the seeds found since the last poll: a seed of specific language (not common) that
 * no followed span holds starts a new one. */
static int new_spans(rc_matcher *c, recite_error *err)
{
    for (size_t i = c->live.next_seed; i < c->seeds.n; i++) {
        const rc_seed *sd = &c->seeds.v[i];
        const rc_chan *ch = &c->chans[sd->channel];
        if (!sd->exact || ch->kgram_df.v[sd->q] == RC_DF_COMMON)
            continue;
        uint32_t cl = rc_index_cluster_of_token(c->idx, sd->gpos);
        rc_cluster info;
        int crc = rc_index_cluster_check(c->idx, cl, &info, err);
        if (crc != RECITE_OK)
            return crc;
        if (sd->gpos < info.token_base || sd->gpos >= info.token_base + info.ntokens)
            return rc_error_set(err, RECITE_EFORMAT,
                                "corrupt index (clusters do not tile the tokens)");
        uint64_t s = sd->gpos - info.token_base;
        uint64_t key = diag_key(cl, sd->channel, (int64_t)s - (int64_t)sd->q);
        if (held(c, key, sd->q))
            continue;
        if (c->live.steps > MAX_LIVE_STEPS ||
            c->live.spans.n >= (size_t)c->max_candidates + c->max_matches) {
            c->live.truncated = true;
            break;
        }
        rc_live_span sp = {.id = UINT32_MAX};
        int rc = rc_match_extend(c, ch, cl, &info, sd->q, s, &sp.m, &c->live.steps, err);
        if (rc != RECITE_OK)
            return rc;
        uint64_t nq = ch->stream->toks.n;
        sp.open = (uint64_t)sp.m.q0 + sp.m.len >= nq && sp.m.s0 + sp.m.len < info.ntokens;
        if (diag_put(c, key, (uint32_t)c->live.spans.n) != RECITE_OK ||
            RC_VEC_PUSH(c->live.spans, sp) != RECITE_OK)
            return rc_error_set(err, RECITE_ENOMEM, "out of memory");
        if ((rc = report(c, &c->live.spans.v[c->live.spans.n - 1], err)) != RECITE_OK)
            return rc;
    }
    c->live.next_seed = c->seeds.n;
    return RECITE_OK;
}

/* Byte offset before which no span not yet reported can start. */
static uint64_t cleared_bytes(const rc_matcher *c)
{
    uint64_t cleared = c->text.n;
    for (unsigned k = 0; k < RC_CHANNELS; k++) {
        const rc_chan *ch = &c->chans[k];
        if (!ch->active)
            continue;
        const rc_stream *st = ch->stream;
        /* k-grams [0, L) have been looked up: an unreported run starts at L - w + 1 or later. */
        uint64_t looked = ch->kgram_df.n, w = ch->info->window;
        uint64_t first = looked + 1 > w ? looked + 1 - w : 0;
        uint64_t at = first < st->toks.n ? st->toks.v[first].start : st->st.pos;
        cleared = RC_MIN(cleared, at);
    }
    /* A span still shorter than min_tokens that may grow. */
    for (size_t i = 0; i < c->live.spans.n; i++) {
        const rc_live_span *sp = &c->live.spans.v[i];
        if (sp->open && sp->id == UINT32_MAX) {
            const rc_token *qt = c->chans[sp->m.channel].stream->toks.v;
            cleared = RC_MIN(cleared, qt[sp->m.q0].start);
        }
    }
    return cleared;
}

/* The reported spans and their works as a result (without CMI: src/check adds it). */
static int rebuild_result(rc_matcher *c, recite_error *err)
{
    c->live.works.n = 0;
    c->live.matches.n = 0;
    for (size_t i = 0; i < c->live.spans.n; i++) {
        const rc_live_span *sp = &c->live.spans.v[i];
        if (sp->id == UINT32_MAX)
            continue;
        recite_match m = rc_match_to_public(c, &sp->m);
        if (RC_VEC_PUSH(c->live.matches, m) != RECITE_OK)
            return rc_error_set(err, RECITE_ENOMEM, "out of memory");
        rc_cluster info;
        rc_index_cluster(c->idx, sp->m.cluster, &info);
        recite_work_hit *h = NULL;
        for (size_t w = 0; w < c->live.works.n && !h; w++)
            if (c->live.works.v[w].work == m.work)
                h = &c->live.works.v[w];
        if (!h) {
            recite_work_hit nh;
            memset(&nh, 0, sizeof nh);
            nh.work = m.work;
            nh.cmi = RECITE_CMI_UNKNOWN;
            if (RC_VEC_PUSH(c->live.works, nh) != RECITE_OK)
                return rc_error_set(err, RECITE_ENOMEM, "out of memory");
            h = &c->live.works.v[c->live.works.n - 1];
        }
        /* Spans of one work in a stream rarely overlap in the work: their sum is the cover. */
        h->matches++;
        h->tokens_covered = RC_MIN(h->tokens_covered + sp->m.src_len, info.ntokens);
        h->longest_tokens = RC_MAX(h->longest_tokens, sp->m.len);
        h->coverage = info.ntokens ? (double)h->tokens_covered / (double)info.ntokens : 0.0;
        h->similarity = (h->similarity * (h->matches - 1) + sp->m.similarity) / h->matches;
        h->score += rc_match_score(&sp->m);
    }
    rc_sort(c->live.works.v, c->live.works.n, sizeof *c->live.works.v, rc_match_cmp_hit);
    rc_sort(c->live.matches.v, c->live.matches.n, sizeof *c->live.matches.v, rc_match_cmp_public);
    for (size_t i = 0; i < c->live.matches.n; i++)
        c->live.matches.v[i].passage = (uint32_t)i;
    return RECITE_OK;
}

int rc_matcher_poll(recite_poll *out, rc_matcher *c, recite_error *err)
{
    memset(out, 0, sizeof *out);
    if (c->finished) { /* the stream is over: the final result */
        out->so_far = &c->result;
        out->cleared = c->text.n;
        out->tokens = c->result.tokens;
        out->truncated = c->result.truncated;
        return RECITE_OK;
    }
    c->live.events.n = 0;
    int rc = RECITE_OK;
    /* Spans that reached the end of the text at the last poll may have grown since. */
    for (size_t i = 0; i < c->live.spans.n && rc == RECITE_OK; i++) {
        rc_live_span *sp = &c->live.spans.v[i];
        if (sp->open && (rc = grow(c, sp, err)) == RECITE_OK)
            rc = report(c, sp, err);
    }
    if (rc == RECITE_OK && !c->live.truncated)
        rc = new_spans(c, err);
    if (rc == RECITE_OK && c->live.events.n)
        rc = rebuild_result(c, err);
    if (rc != RECITE_OK)
        return rc;
    c->live.result = (recite_result){c->streams[0].toks.n,
                                     c->text.n,
                                     c->live.matches.v,
                                     c->live.matches.n,
                                     c->live.works.v,
                                     c->live.works.n,
                                     c->live.truncated || c->truncated,
                                     0,
                                     0,
                                     c->streams[1].toks.n,
                                     c->idx->text_free};
    out->events = c->live.events.v;
    out->nevents = c->live.events.n;
    out->so_far = &c->live.result;
    out->cleared = cleared_bytes(c);
    out->tokens = c->streams[0].toks.n;
    out->truncated = c->live.result.truncated;
    return RECITE_OK;
}

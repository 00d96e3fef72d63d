/*
 * match_verify.c — turns seeds into verified runs: each group of seeds on one diagonal of one
 * work is extended token by token against the work's stored text (decompressed and tokenized
 * on demand around the seed), so a hash collision can never produce a match; then each run is
 * classified as exact (same bytes), normalized (same words and normalized punctuation; for
 * code, same lexemes) or near (same words, different punctuation; for code, same shapes with
 * some lexemes different: a renamed copy).
 */
#include "rc_match.h"

#include <stdlib.h>

/* ==== extension against the stored text ==== */

/* Source token t of cluster cl, from its chunk (made or found in the reader's cache). */
int rc_match_src_tok_load(rc_matcher *c, uint32_t cl, uint64_t t, const rc_token **out,
                          const rc_tokx **x, recite_error *err)
{
    uint64_t chunk = t / RC_CHECKPOINT_EVERY;
    const rc_chunk *ch = c->chunk;
    if (!ch || ch->key != rc_chunk_key(cl, chunk)) {
        if (!c->chunk_cl_known || c->chunk_cl != cl) {
            rc_index_cluster(c->idx, cl, &c->chunk_info);
            c->chunk_cl = cl;
            c->chunk_cl_known = true;
        }
        c->chunk = NULL;
        rc_store_reader *r = rc_matcher_reader(c);
        if (!r)
            return rc_error_set(err, RECITE_ENOMEM, "out of memory");
        int rc = rc_store_chunk(&ch, r, &c->tz, cl, &c->chunk_info, chunk, err);
        if (rc != RECITE_OK)
            return rc;
        c->chunk = ch;
    }
    uint64_t k = t % RC_CHECKPOINT_EVERY;
    if (k >= ch->n)
        return rc_error_set(err, RECITE_EFORMAT, "corrupt index (token out of range)");
    *out = &ch->toks[k];
    if (x)
        *x = &ch->tokx[k];
    return RECITE_OK;
}

/* How many of the n token pairs a[i], b[i] are equal under the channel's hash before the first
 * that differs, going up (step 1) or down (step -1) from a and b. */
static inline uint64_t same_run(const rc_token *a, const rc_token *b, uint64_t n, bool shape,
                                ptrdiff_t step)
{
    uint64_t j = 0;
    if (shape)
        while (j < n && a->shape == b->shape)
            j++, a += step, b += step;
    else
        while (j < n && a->hash == b->hash)
            j++, a += step, b += step;
    return j;
}

/* Extends a seed both ways, a chunk of stored tokens at a time: the chunk holding the next
 * token is found once (rc_match_src_tok), then its tokens are compared in a tight loop. */
int rc_match_extend(rc_matcher *c, const rc_chan *ch, uint32_t cl, const rc_cluster *info,
                    uint32_t q, uint64_t s, rc_raw_match *m, uint64_t *steps, recite_error *err)
{
    const rc_token *t;
    const rc_token *qt = ch->stream->toks.v;
    int rc;
    uint64_t nq = ch->stream->toks.n;
    uint64_t right = 0, left = 0;
    for (;;) { /* right: tokens s + right of the work and q + right of the output on */
        uint64_t room =
            RC_MIN(nq - RC_MIN(nq, q + right), info->ntokens - RC_MIN(info->ntokens, s + right));
        if (!room)
            break;
        if ((rc = rc_match_src_tok(c, cl, s + right, &t, NULL, err)) != RECITE_OK)
            return rc;
        uint64_t in_chunk = c->chunk->n - (s + right) % RC_CHECKPOINT_EVERY,
                 n = RC_MIN(room, in_chunk);
        uint64_t same = same_run(t, &qt[q + right], n, ch->shape, 1);
        right += same;
        if (same < n)
            break;
    }
    for (;;) { /* left: tokens s - left - 1 of the work and q - left - 1 of the output down */
        uint64_t room = RC_MIN(q - left, s - left);
        if (!room)
            break;
        if ((rc = rc_match_src_tok(c, cl, s - left - 1, &t, NULL, err)) != RECITE_OK)
            return rc;
        uint64_t in_chunk = (s - left - 1) % RC_CHECKPOINT_EVERY + 1, n = RC_MIN(room, in_chunk);
        uint64_t same = same_run(t, &qt[q - left - 1], n, ch->shape, -1);
        left += same;
        if (same < n)
            break;
    }
    uint64_t end_byte = 0;
    if (right) {
        if ((rc = rc_match_src_tok(c, cl, s + right - 1, &t, NULL, err)) != RECITE_OK)
            return rc;
        end_byte = t->end;
    }
    *steps += left + right + 1;
    m->cluster = cl;
    m->primary = info->primary;
    m->first = rc_index_member(c->idx, info->member0);
    m->seed = UINT64_MAX;
    m->channel = (uint8_t)(ch - c->chans);
    m->common = false;
    m->aligned = false;
    m->weak = false;
    m->q0 = (uint32_t)(q - left);
    m->len = (uint32_t)(left + right);
    m->s0 = s - left;
    m->src_len = m->len;
    if (m->len == 0)
        return RECITE_OK;
    if ((rc = rc_match_src_tok(c, cl, m->s0, &t, NULL, err)) != RECITE_OK)
        return rc;
    m->src_start = t->start;
    if (!right) {
        if ((rc = rc_match_src_tok(c, cl, m->s0 + m->len - 1, &t, NULL, err)) != RECITE_OK)
            return rc;
        end_byte = t->end;
    }
    m->src_end = end_byte;
    if (m->src_end < m->src_start) /* a damaged checkpoint or token record */
        return rc_error_set(err, RECITE_EFORMAT,
                            "corrupt index (token offsets out of order in cluster %u)", cl);
    return RECITE_OK;
}

/* Whether exact seed i (of seeds sorted by cluster, channel, diagonal and output position)
 * cannot lie in a run of min_tokens, so that extending it (reading the work's stored text)
 * would find nothing to report. A work's fingerprints are winnowed: any w consecutive k-grams of
 * its text hold one, so a run of min_tokens tokens (N = min_tokens - k + 1 k-grams) holds one in
 * every w consecutive k-grams of its own. Each is a seed on the run's diagonal: the lookup finds
 * every posting of an output k-gram, and one inside such a run has a context inside it (exact)
 * -- unless its k-gram is cut: not looked up (code without structure), or some of its postings
 * made no seed (common language past those taken; the quota: quota_cut). So if no N k-grams through
 * the seed have a seed or a cut k-gram in each of their windows of w, no run of min_tokens passes
 * through it. Only a channel whose N is at least 2w can tell (within w, the seed itself fills every
 * window of some N k-grams): the shapes (N = 31, w = 11: a third of a library-heavy check's exact
 * phase went on extending their chance seeds), or a check's min_tokens raised well above the
 * index's guarantee. The k-grams looked at fit a 64-bit mask: N up to 32. Skipping changes no
 * run: only the comparisons counted towards RC_MAX_COMPARE_STEPS. */
static bool alone_applies(const rc_matcher *c, const rc_chan *ch)
{
    unsigned k = ch->info->kgram, w = ch->info->window; /* the index's */
    if (c->extend_every_seed || ch->quota_cut || ch->min_tokens < k ||
        ch->kgram_cut.n != ch->kgram_df.n)
        return false;
    unsigned n = ch->min_tokens - k + 1;
    return n >= 2 * w && 2 * n - 1 <= 64;
}

/* Bits [p, p + m) of the bit array v (m <= 64; v has a word past bit p + m). */
static inline uint64_t bits_at(const uint64_t *v, uint64_t p, unsigned m)
{
    unsigned r = (unsigned)(p & 63);
    uint64_t x = v[p >> 6] >> r;
    if (r && r + m > 64)
        x |= v[(p >> 6) + 1] << (64 - r);
    return m == 64 ? x : x & ((1ull << m) - 1);
}

/* ch->kgram_open from ch->kgram_cut. */
static int open_bits(rc_chan *ch)
{
    size_t nk = ch->kgram_cut.n, nw = nk / 64 + 2;
    if (RC_VEC_RESERVE(ch->kgram_open, nw) != RECITE_OK)
        return RECITE_ENOMEM;
    uint64_t *v = ch->kgram_open.v;
    memset(v, 0, nw * sizeof *v);
    for (size_t q = 0; q < nk; q++)
        v[q >> 6] |= (uint64_t)(ch->kgram_cut.v[q] == 0) << (q & 63);
    ch->kgram_open.n = nw;
    return RECITE_OK;
}

static bool seed_alone(const rc_matcher *c, const rc_chan *ch, size_t i)
{
    const rc_seed *sd = &c->seeds.v[i];
    unsigned k = ch->info->kgram, w = ch->info->window; /* the index's */
    uint64_t nk = ch->kgram_df.n;
    if (!alone_applies(c, ch) || sd->q >= nk)
        return false;
    unsigned n = ch->min_tokens - k + 1;
    /* Bit j: k-gram q - (n - 1) + j, for j in [0, 2n - 1); k-grams before the text's first or
     * after its last start no range. */
    int64_t base = (int64_t)sd->q - (int64_t)(n - 1);
    uint64_t have = 0;
    int64_t diag = (int64_t)sd->gpos - (int64_t)sd->q;
    for (size_t j = i; j < c->seeds.n; j++) { /* the seed and those after it on its diagonal */
        const rc_seed *o = &c->seeds.v[j];
        if (o->cluster != sd->cluster || o->channel != sd->channel ||
            (int64_t)o->gpos - (int64_t)o->q != diag || o->q - sd->q >= n)
            break;
        have |= 1ull << (o->q - base);
    }
    for (size_t j = i; j-- > 0;) { /* those before it */
        const rc_seed *o = &c->seeds.v[j];
        if (o->cluster != sd->cluster || o->channel != sd->channel ||
            (int64_t)o->gpos - (int64_t)o->q != diag || sd->q - o->q >= n)
            break;
        have |= 1ull << (o->q - base);
    }
    /* empty bit j: k-gram j holds no seed and is not cut (bits past the text: not empty, and no
     * range below reaches them); gap bit j: k-grams j .. j + w - 1 are all empty. */
    int64_t j0 = RC_MAX((int64_t)0, -base), j1 = RC_MIN((int64_t)(2 * n - 1), (int64_t)nk - base);
    uint64_t empty =
        j1 > j0 ? bits_at(ch->kgram_open.v, (uint64_t)(base + j0), (unsigned)(j1 - j0)) << j0 : 0;
    empty &= ~have;
    uint64_t gap = empty;
    for (unsigned t = 1; t < w && gap; t++)
        gap &= empty >> t;
    /* The ranges of n k-grams through the seed, inside the text: bits [a, a + n). */
    int64_t lo = RC_MAX((int64_t)0, -base), hi = RC_MIN((int64_t)n - 1, (int64_t)nk - n - base);
    uint64_t windows = (1ull << (n - w + 1)) - 1; /* the starts of a range's windows */
    for (int64_t a = lo; a <= hi; a++)
        if (!(gap >> a & windows))
            return false;
    return true;
}

int rc_match_find_runs(rc_matcher *c, recite_error *err)
{
    for (unsigned k = 0; k < RC_CHANNELS; k++)
        if (c->chans[k].active && alone_applies(c, &c->chans[k]) &&
            open_bits(&c->chans[k]) != RECITE_OK)
            return rc_error_set(err, RECITE_ENOMEM, "out of memory");
    size_t i = 0;
    while (i < c->seeds.n) {
        uint32_t cl = c->seeds.v[i].cluster;
        uint8_t chn = c->seeds.v[i].channel;
        const rc_chan *ch = &c->chans[chn];
        rc_cluster info;
        rc_index_cluster(c->idx, cl, &info);
        int64_t diag = (int64_t)c->seeds.v[i].gpos - (int64_t)c->seeds.v[i].q;
        uint64_t covered = 0; /* output tokens below this are inside a run on this diagonal */
        for (; i < c->seeds.n && c->seeds.v[i].cluster == cl && c->seeds.v[i].channel == chn &&
               (int64_t)c->seeds.v[i].gpos - (int64_t)c->seeds.v[i].q == diag;
             i++) {
            const rc_seed *sd = &c->seeds.v[i];
            if (sd->q < covered || !sd->exact)
                continue;
            if (seed_alone(c, ch, i)) {
                c->seeds_alone++;
                continue;
            }
            /* A part counts its own extensions (rc_match_merge_parts counts them all). */
            if (c->steps > RC_MAX_COMPARE_STEPS || c->raw.n >= (size_t)c->max_matches * 4) {
                if (c->part)
                    c->runs_cut = true;
                else
                    c->truncated = true;
                return RECITE_OK;
            }
            rc_raw_match m;
            uint64_t before = c->steps;
            int rc = rc_match_extend(c, ch, cl, &info, sd->q, sd->gpos - info.token_base, &m,
                                     &c->steps, err);
            if (rc != RECITE_OK)
                return rc;
            m.seed = c->seed_ids ? c->seed_ids[i] : i;
            covered = (uint64_t)sd->q + 1;
            if (m.q0 + m.len > covered)
                covered = m.q0 + m.len;
            bool pushed = m.len >= ch->min_tokens;
            if (pushed && RC_VEC_PUSH(c->raw, m) != RECITE_OK)
                return rc_error_set(err, RECITE_ENOMEM, "out of memory");
            rc_extension e = {m.seed, (uint32_t)(c->steps - before), pushed};
            if (c->part && RC_VEC_PUSH(c->ext, e) != RECITE_OK)
                return rc_error_set(err, RECITE_ENOMEM, "out of memory");
        }
    }
    return RECITE_OK;
}

/* ==== classification ==== */

/* Compares the punctuation of the two spans token by token; returns how many tokens differ. */
static int punct_diffs(rc_matcher *c, const rc_raw_match *m, const uint8_t *src, uint64_t src_base,
                       uint64_t *diffs, recite_error *err)
{
    *diffs = 0;
    const rc_token *st, *st_next, *qt = c->chans[m->channel].stream->toks.v;
    for (uint32_t i = 0; i < m->len; i++) {
        const rc_token *ot = &qt[m->q0 + i];
        uint64_t o_end = i + 1 < m->len ? qt[m->q0 + i + 1].start : ot->end;
        int rc = rc_match_src_tok(c, m->cluster, m->s0 + i, &st, NULL, err);
        if (rc != RECITE_OK)
            return rc;
        uint64_t s_start = st->start, s_end = st->end;
        if (i + 1 < m->len) {
            if ((rc = rc_match_src_tok(c, m->cluster, m->s0 + i + 1, &st_next, NULL, err)) !=
                RECITE_OK)
                return rc;
            s_end = st_next->start;
        }
        if (!rc_punct_same(c->text.v, c->text.n, ot->start, o_end, src,
                           (size_t)(m->src_end - src_base), (size_t)(s_start - src_base),
                           (size_t)(s_end - src_base), c->sig_a, c->sig_b, RC_SIG_CAP))
            (*diffs)++;
    }
    return RECITE_OK;
}

/* ==== the punctuation of a passage, compared once per check ====
 * Works that share a passage hold the same bytes, and their runs over the same output tokens
 * compare the same punctuation: the comparison is made once per check and found again for the
 * next work by everything it depends on — the output tokens, the source bytes and where the
 * source tokens start in them — all compared whole (the hash only finds the candidate). */

typedef struct memo_entry {
    uint64_t hash;
    uint32_t q0, len;
    uint64_t slen;
    size_t data; /* in the arena: the token starts (u32 each), then the bytes */
    uint64_t diffs;
} memo_entry;

static int memo_insert_slot(rc_punct_memo *pm, uint32_t entry)
{
    size_t cap = pm->slots.n, s = (size_t)(pm->entries.v[entry].hash & (cap - 1));
    while (pm->slots.v[s])
        s = (s + 1) & (cap - 1);
    pm->slots.v[s] = entry + 1;
    return RECITE_OK;
}

static int memo_grow(rc_punct_memo *pm)
{
    size_t cap = pm->slots.n ? 2 * pm->slots.n : 256;
    if (RC_VEC_RESERVE(pm->slots, cap) != RECITE_OK)
        return RECITE_ENOMEM;
    pm->slots.n = cap;
    memset(pm->slots.v, 0, cap * sizeof *pm->slots.v);
    for (size_t i = 0; i < pm->entries.n; i++)
        memo_insert_slot(pm, (uint32_t)i);
    return RECITE_OK;
}

static int passage_diffs(rc_matcher *c, const rc_raw_match *m, uint64_t *diffs, recite_error *err)
{
    rc_punct_memo *pm = &c->punct_memo;
    uint64_t slen = m->src_end - m->src_start;
    if (RC_VEC_RESERVE(pm->starts, m->len) != RECITE_OK)
        return rc_error_set(err, RECITE_ENOMEM, "out of memory");
    for (uint32_t i = 0; i < m->len; i++) {
        const rc_token *st;
        int rc = rc_match_src_tok(c, m->cluster, m->s0 + i, &st, NULL, err);
        if (rc != RECITE_OK)
            return rc;
        pm->starts.v[i] = (uint32_t)(st->start - m->src_start);
    }
    size_t nstarts = (size_t)m->len * sizeof *pm->starts.v;
    uint64_t h = rc_hash64(c->srcbuf.v, (size_t)slen,
                           rc_hash64(pm->starts.v, nstarts, ((uint64_t)m->q0 << 32) | m->len));
    for (size_t cap = pm->slots.n, s = cap ? (size_t)(h & (cap - 1)) : 0; cap && pm->slots.v[s];
         s = (s + 1) & (cap - 1)) {
        const memo_entry *e = &pm->entries.v[pm->slots.v[s] - 1];
        if (e->hash == h && e->q0 == m->q0 && e->len == m->len && e->slen == slen &&
            memcmp(pm->arena.v + e->data, pm->starts.v, nstarts) == 0 &&
            memcmp(pm->arena.v + e->data + nstarts, c->srcbuf.v, (size_t)slen) == 0) {
            *diffs = e->diffs;
            return RECITE_OK;
        }
    }
    int rc = punct_diffs(c, m, c->srcbuf.v, m->src_start, diffs, err);
    if (rc != RECITE_OK)
        return rc;
    if ((pm->entries.n + 1) * 2 > pm->slots.n && memo_grow(pm) != RECITE_OK)
        return rc_error_set(err, RECITE_ENOMEM, "out of memory");
    memo_entry e = {h, m->q0, m->len, slen, pm->arena.n, *diffs};
    if (RC_VEC_RESERVE(pm->arena, pm->arena.n + nstarts + slen) != RECITE_OK ||
        RC_VEC_PUSH(pm->entries, e) != RECITE_OK)
        return rc_error_set(err, RECITE_ENOMEM, "out of memory");
    memcpy(pm->arena.v + pm->arena.n, pm->starts.v, nstarts);
    memcpy(pm->arena.v + pm->arena.n + nstarts, c->srcbuf.v, (size_t)slen);
    pm->arena.n += nstarts + slen;
    return memo_insert_slot(pm, (uint32_t)(pm->entries.n - 1));
}

void rc_punct_memo_reset(rc_punct_memo *pm)
{
    if (pm->entries.n && pm->slots.n)
        memset(pm->slots.v, 0, pm->slots.n * sizeof *pm->slots.v);
    pm->entries.n = 0;
    pm->arena.n = 0;
}

void rc_punct_memo_free(rc_punct_memo *pm)
{
    RC_VEC_FREE(pm->entries);
    RC_VEC_FREE(pm->slots);
    RC_VEC_FREE(pm->arena);
    RC_VEC_FREE(pm->starts);
}

/* Text-free: the run's tokens compared by their keyed extras (rc_tokx) — bytes of each token,
 * of the gaps between them, punctuation signatures — and their lengths: *exact when all are
 * equal, *punct the tokens whose punctuation differs. */
static int compare_keyed(rc_matcher *c, const rc_raw_match *m, bool *exact, uint64_t *punct,
                         recite_error *err)
{
    const rc_stream *stream = c->chans[m->channel].stream;
    const rc_token *qt = stream->toks.v;
    *exact = true;
    *punct = 0;
    rc_token prev = {0};
    rc_tokx prevx = {0}, ox;
    for (uint32_t i = 0; i <= m->len; i++) {
        const rc_token *st = NULL;
        const rc_tokx *sx = NULL;
        if (i < m->len) {
            int rc = rc_match_src_tok(c, m->cluster, m->s0 + i, &st, &sx, err);
            if (rc != RECITE_OK)
                return rc;
        }
        if (i > 0) { /* token i - 1 and the gap after it */
            const rc_token *ot = &qt[m->q0 + i - 1];
            uint64_t o_next = m->q0 + i < stream->toks.n ? qt[m->q0 + i].start : c->text.n;
            rc_tokx_of(&c->idx->key, c->text.v, c->text.n, ot->start, ot->end, o_next, c->sig_a,
                       &ox);
            if (ox.xtok != prevx.xtok || ot->end - ot->start != prev.end - prev.start)
                *exact = false;
            if (st) { /* a gap inside the run */
                if (ox.xgap != prevx.xgap || o_next - ot->end != st->start - prev.end)
                    *exact = false;
                *punct += ox.pgap != prevx.pgap;
            }
        }
        if (st) {
            prev = *st;
            prevx = *sx;
        }
    }
    return RECITE_OK;
}

int rc_match_classify(rc_matcher *c, rc_raw_match *m, recite_error *err)
{
    rc_cluster info;
    rc_index_cluster(c->idx, m->cluster, &info);
    const rc_token *qt = c->chans[m->channel].stream->toks.v;
    uint64_t out_start = qt[m->q0].start, out_end = qt[m->q0 + m->len - 1].end;
    uint64_t slen = m->src_end - m->src_start;
    m->kind = RECITE_KIND_EXACT;
    m->similarity = 1.0;
    m->weak = false;
    int rc;
    if (m->channel == RC_CH_SHAPE && !c->near_every_chain) {
        bool may;
        if ((rc = rc_code_run_may_keep(c, m->cluster, m->q0, m->len, m->s0, &may, err)) !=
            RECITE_OK)
            return rc;
        if (!may) { /* near and too unlike the work's code: dropped (rc_code_sim_ok fails) */
            m->kind = RECITE_KIND_NEAR;
            m->weak = true;
            c->shape_runs_unkept++;
            return RECITE_OK;
        }
    }
    uint64_t diffs = 0;
    if (c->idx->text_free) {
        bool exact;
        if ((rc = compare_keyed(c, m, &exact, &diffs, err)) != RECITE_OK || exact)
            return rc;
    } else {
        if (RC_VEC_RESERVE(c->srcbuf, slen + 1) != RECITE_OK)
            return rc_error_set(err, RECITE_ENOMEM, "out of memory");
        rc_store_reader *r = rc_matcher_reader(c);
        if (!r)
            return rc_error_set(err, RECITE_ENOMEM, "out of memory");
        if ((rc = rc_store_read(r, info.text_offset + m->src_start, info.text_offset + m->src_end,
                                c->srcbuf.v, err)) != RECITE_OK)
            return rc;
        if (slen == out_end - out_start && memcmp(c->srcbuf.v, c->text.v + out_start, slen) == 0)
            return RECITE_OK;
    }
    if (m->channel != RC_CH_PROSE) {
        /* Code: the same lexemes with other whitespace or comments is normalized; the same
         * shapes with other lexemes (renamed identifiers, changed literals) is near, when the
         * lexemes say it is the work's code (match_code.c). */
        m->kind = RECITE_KIND_NORMALIZED;
        m->weak = false;
        if (m->channel == RC_CH_SHAPE) {
            rc_code_sim cs;
            if ((rc = rc_code_similarity(c, m->cluster, m->q0, m->len, m->s0, m->src_len, false,
                                         &cs, err)) != RECITE_OK)
                return rc;
            if (!cs.exact) {
                m->kind = RECITE_KIND_NEAR;
                m->similarity = cs.similarity;
                m->weak = !rc_code_sim_ok(c, &cs);
            }
        }
        return RECITE_OK;
    }
    if (!c->idx->text_free && (rc = passage_diffs(c, m, &diffs, err)) != RECITE_OK)
        return rc;
    if (diffs == 0) {
        m->kind = RECITE_KIND_NORMALIZED;
    } else {
        m->kind = RECITE_KIND_NEAR;
        m->similarity = (double)m->len / (double)(m->len + diffs);
        bool ok;
        if ((rc = rc_view_near_ok(c, m->cluster, m->len, m->s0, m->src_len, &ok, err)) != RECITE_OK)
            return rc;
        m->weak = !ok;
    }
    return RECITE_OK;
}

/*
 * matcher.c — the core matcher's front: text arrives by feed() in any pieces; complete tokens
 * are made (words, and lexemes when the index holds code) and every k-gram is looked up as soon
 * as its context is complete (seeds: output token q, global source token g). The matcher knows
 * nothing of copyright notices or policies: src/check wraps it into the public checker, and
 * license identification (src/license) runs it on the license index.
 */
#include "rc_match.h"

#include <stdlib.h>
#include <string.h>

#define DEFAULT_MAX_MATCHES 10000u
#define DEFAULT_MAX_POSTINGS 100000u
#define DEFAULT_MAX_CANDIDATES 1000u
#define DEFAULT_COMMON_SAMPLE 3u
#define DEFAULT_MIN_SIMILARITY 0.8

int rc_matcher_create(rc_matcher **out, const recite_index *idx, const recite_check_options *opt,
                      recite_error *err)
{
    *out = NULL;
    recite_check_options defaults = RECITE_CHECK_OPTIONS_INIT;
    if (!opt)
        opt = &defaults;
    if (!idx)
        return rc_error_set(err, RECITE_EINVAL, "no index");
    if (opt->version != RECITE_CHECK_OPTIONS_VERSION)
        return rc_error_set(err, RECITE_EINVAL, "check options version %u not supported",
                            opt->version);
    if (idx->text_free && !idx->has_key)
        return rc_error_set(err, RECITE_EKEY,
                            "the index is text-free: checking needs its key (--key FILE)");
    const rc_channel_info *pr = &idx->ch[RC_CH_PROSE], *co = &idx->ch[RC_CH_CODE];
    unsigned guarantee = pr->kgram + pr->window - 1, code_guarantee = co->kgram + co->window - 1;
    unsigned min_tokens = opt->min_tokens ? opt->min_tokens : guarantee;
    unsigned code_min = opt->code_min_tokens ? opt->code_min_tokens : code_guarantee;
    if (min_tokens < guarantee)
        return rc_error_set(err, RECITE_EINVAL,
                            "--min-tokens %u is below this index's guarantee of %u tokens: "
                            "shorter spans could be missed; rebuild the index with "
                            "`recite index --min-tokens %u`",
                            min_tokens, guarantee, min_tokens);
    if (code_min < code_guarantee)
        return rc_error_set(err, RECITE_EINVAL,
                            "--code-min-tokens %u is below this index's guarantee of %u lexemes: "
                            "shorter spans could be missed; rebuild the index with "
                            "`recite index --code-min-tokens %u`",
                            code_min, code_guarantee, code_min);
    rc_matcher *c = calloc(1, sizeof *c);
    if (!c)
        return rc_error_set(err, RECITE_ENOMEM, "out of memory");
    c->idx = idx;
    /* Words feed the prose channel; lexemes (made only when the index holds code) feed the
     * code channel by their exact hashes and the shape channel by their shapes. */
    c->streams[0].mode = RECITE_MODE_PROSE;
    c->streams[1].mode = RECITE_MODE_CODE;
    for (unsigned k = 0; k < RC_CHANNELS; k++) {
        rc_chan *ch = &c->chans[k];
        ch->info = &idx->ch[k];
        ch->memo_gen = 1; /* the memo's zeroed entries are empty */
        ch->stream = &c->streams[k == RC_CH_PROSE ? 0 : 1];
        ch->shape = k == RC_CH_SHAPE;
        ch->active = idx->ch[k].npostings > 0;
        ch->min_tokens = k == RC_CH_PROSE ? min_tokens : code_min;
    }
    c->max_matches = opt->max_matches ? opt->max_matches : DEFAULT_MAX_MATCHES;
    c->max_postings = opt->max_postings ? opt->max_postings : DEFAULT_MAX_POSTINGS;
    c->max_candidates = opt->max_candidates ? opt->max_candidates : DEFAULT_MAX_CANDIDATES;
    c->common_sample =
        opt->common_sample ? RC_MIN(opt->common_sample, 255u) : DEFAULT_COMMON_SAMPLE;
    c->all_works = opt->all_works != 0;
    c->near = !opt->exact_only;
    c->min_similarity = opt->min_similarity > 0 ? opt->min_similarity : DEFAULT_MIN_SIMILARITY;
    if (c->min_similarity > 1.0) {
        free(c);
        return rc_error_set(err, RECITE_EINVAL, "--min-similarity must be in (0, 1], not %g",
                            opt->min_similarity);
    }
    if (c->all_works) { /* complete attribution: no sampling, no cap on works */
        c->max_candidates = UINT32_MAX;
        c->common_sample = 255;
    }
    c->shape_ident = rc_code_class_shape('I');
    c->shape_num = rc_code_class_shape('N');
    c->shape_str = rc_code_class_shape('S');
    if (idx->text_free) { /* the index's shapes are keyed: so are the classes */
        c->shape_ident = rc_key_shape(&idx->key, c->shape_ident);
        c->shape_num = rc_key_shape(&idx->key, c->shape_num);
        c->shape_str = rc_key_shape(&idx->key, c->shape_str);
    }
    rc_matcher_reset(c);
    *out = c;
    return RECITE_OK;
}

rc_store_reader *rc_matcher_reader(rc_matcher *c)
{
    if (!c->reader)
        c->reader = rc_store_reader_get(c->idx);
    return c->reader;
}

void rc_matcher_release_reader(rc_matcher *c)
{
    c->chunk = NULL;
    rc_store_reader_put(c->idx, c->reader);
    c->reader = NULL;
}

void rc_matcher_free(rc_matcher *c)
{
    if (!c)
        return;
    rc_matcher_release_reader(c);
    rc_align_scratch_free(&c->align);
    rc_punct_memo_free(&c->punct_memo);
    rc_align_memo_free(&c->align_memo);
    RC_VEC_FREE(c->imports.before);
    rc_code_scratch_free(&c->code);
    RC_VEC_FREE(c->text);
    for (unsigned k = 0; k < 2; k++)
        RC_VEC_FREE(c->streams[k].toks);
    for (unsigned k = 0; k < RC_CHANNELS; k++) {
        RC_VEC_FREE(c->chans[k].kgram_df);
        RC_VEC_FREE(c->chans[k].kgram_common);
        RC_VEC_FREE(c->chans[k].kgram_cut);
        RC_VEC_FREE(c->chans[k].kgram_open);
        RC_VEC_FREE(c->ids[k].key);
        RC_VEC_FREE(c->ids[k].id);
        RC_VEC_FREE(c->ids[k].q);
    }
    RC_VEC_FREE(c->seeds);
    RC_VEC_FREE(c->seeds_tmp);
    RC_VEC_FREE(c->cands);
    RC_VEC_FREE(c->cand_keys);
    RC_VEC_FREE(c->cand_tmp);
    RC_VEC_FREE(c->cover[0]);
    RC_VEC_FREE(c->cover[1]);
    RC_VEC_FREE(c->ext);
    RC_VEC_FREE(c->raw);
    RC_VEC_FREE(c->matches);
    RC_VEC_FREE(c->works);
    RC_VEC_FREE(c->srcbuf);
    rc_live_free(c);
    free(c);
}

void rc_matcher_reset(rc_matcher *c)
{
    c->text.n = 0;
    for (unsigned k = 0; k < 2; k++) {
        c->streams[k].toks.n = 0;
        c->streams[k].st = (rc_tok_state){0, true};
        c->streams[k].tried_at = 0;
    }
    for (unsigned k = 0; k < RC_CHANNELS; k++) {
        c->chans[k].kgram_df.n = 0;
        c->chans[k].kgram_common.n = 0;
        c->chans[k].kgram_cut.n = 0;
        c->chans[k].quota_cut = false;
        c->chans[k].common_postings_max = 0;
        c->chans[k].seeds_taken = 0;
        c->chans[k].memo_gen++;
        c->ids[k].built = false;
    }
    c->seeds.n = 0;
    rc_punct_memo_reset(&c->punct_memo);
    rc_align_memo_reset(&c->align_memo);
    rc_imports_reset(&c->imports);
    c->raw.n = 0;
    c->matches.n = 0;
    c->works.n = 0;
    c->truncated = false;
    c->finished = false;
    c->steps = 0;
    c->ext.n = 0;
    c->runs_cut = false;
    c->annotated = false;
    c->common_others = 0;
    memset(&c->result, 0, sizeof c->result);
    rc_live_reset(c);
}

const char *rc_matcher_text(const rc_matcher *c, size_t *len)
{
    *len = c->text.n;
    return (const char *)c->text.v;
}

/* ==== tokens and seeds ==== */

unsigned rc_chan_context(const rc_chan *ch, size_t from, size_t n)
{
    uint64_t tmp[RC_WINDOW_MAX];
    for (size_t i = 0; i < n; i++)
        tmp[i] = rc_chan_hash(ch, &ch->stream->toks.v[from + i]);
    return rc_context8(tmp, (unsigned)n);
}

/* The value of a token in a k-gram of its channel (rc_chan_hash, the channel's kind known). */
static inline uint64_t kgram_token(const rc_token *t, bool shape)
{
    return shape ? t->shape : t->hash;
}

/* One k-gram of the text on its way through the lookup pipeline. */
typedef struct probe {
    uint64_t hash;
    uint64_t bucket;        /* its bucket's number in the directory */
    uint64_t g;             /* its hash in the filter of posting keys */
    const uint64_t *fblock; /* the filter's block of g */
    uint64_t first, end;    /* its bucket of postings */
} probe;

#define PROBE_BATCH 32

/* Looks up every k-gram whose context is complete (all of them when `final`). Lookups are
 * batched: hash a batch, prefetch its directory entries, then its postings, then scan them, then
 * read the positions of the seeds they make, so the cache misses of a batch overlap instead of
 * queueing one behind another.
 * Postings whose context hashes both differ from the text's cannot start a run of min_tokens
 * (see rc_fingerprint.h) and make no seed; a common k-gram contributes its first
 * RC_COMMON_POSTINGS postings only (the same early works for every k-gram of a passage). The
 * context hashes of a k-gram are computed only when one of its postings has its hash bits: most
 * k-grams of a text are in no work. Every directory entry and position read is checked against
 * the index (RECITE_EFORMAT). */
static inline __attribute__((always_inline)) int lookup_batches(rc_matcher *c, unsigned chn,
                                                                bool final, bool code, bool shape)
{
    rc_chan *ch = &c->chans[chn];
    const rc_channel_info *info = ch->info;
    unsigned k = info->kgram, cc = rc_context_len(info->window), bits = info->bucket_bits;
    const uint8_t *dir = info->dir, *keys = info->key, *pos = info->pos;
    const rc_token *toks = ch->stream->toks.v;
    size_t n = ch->stream->toks.n;
    size_t last = n >= k ? n - k + 1 : 0; /* k-grams that exist */
    if (!final)
        last = n >= k + cc ? n - k - cc + 1 : 0; /* ... and have their right context */
    probe pr[PROBE_BATCH];
    unsigned active = 0;
    for (unsigned k2 = 0; k2 < RC_CHANNELS; k2++)
        active += c->chans[k2].active;
    uint32_t quota = c->max_postings / (active ? active : 1);
    const rc_kfilter *filter =
        rc_index_filter(c->idx, chn, ch->kgram_df.n < last ? last - ch->kgram_df.n : 0);
    /* The k-gram's polynomial (rc_kgram_hash before its mixer), slid one token at a time. */
    uint64_t base_k1 = 1, poly = 0;
    for (unsigned t = 1; t < k; t++)
        base_k1 *= RC_KGRAM_BASE;
    if (ch->kgram_df.n < last)
        for (unsigned t = 0; t < k; t++)
            poly = poly * RC_KGRAM_BASE + kgram_token(&toks[ch->kgram_df.n + t], shape);
    /* Code channels: how many of the k lexemes of the k-gram at kgram_df.n are structural. A
     * k-gram without one is skipped: by shape it has no structure of code (prose matched code
     * works' runs of names, then failed as code, at a third of a check's time); by its exact
     * lexemes it is words, which the prose channel looks up in code works' word views. */
    unsigned structure = 0;
    if (code && ch->kgram_df.n < last)
        for (unsigned t = 0; t < k; t++)
            structure += rc_structural(c, &toks[ch->kgram_df.n + t]);
    /* What the lookups record of each k-gram, written in place (room made once). */
    if (ch->kgram_df.n < last && (RC_VEC_RESERVE(ch->kgram_df, last) != RECITE_OK ||
                                  RC_VEC_RESERVE(ch->kgram_common, last) != RECITE_OK ||
                                  RC_VEC_RESERVE(ch->kgram_cut, last) != RECITE_OK))
        return RECITE_ENOMEM;
    while (ch->kgram_df.n < last) {
        if (code && structure == 0) {
            /* A stretch without structure (prose in a code channel): its k-grams are recorded
             * unseen at once, and the next k-gram with a structural lexeme is hashed afresh. */
            size_t q0 = ch->kgram_df.n, p = q0 + k;
            while (p < n && !rc_structural(c, &toks[p]))
                p++;
            size_t q1 = p < n ? RC_MIN(p - k + 1, last) : last;
            memset(ch->kgram_df.v + q0, RC_NO_POSTINGS, q1 - q0);
            memset(ch->kgram_common.v + q0, 0, (q1 - q0) * sizeof *ch->kgram_common.v);
            memset(ch->kgram_cut.v + q0, 1, q1 - q0);
            ch->kgram_df.n = ch->kgram_common.n = ch->kgram_cut.n = q1;
            if (q1 == last)
                break;
            poly = 0;
            for (unsigned t = 0; t < k; t++) {
                poly = poly * RC_KGRAM_BASE + kgram_token(&toks[q1 + t], shape);
                structure += rc_structural(c, &toks[q1 + t]);
            }
        }
        size_t q0 = ch->kgram_df.n, nb = RC_MIN((size_t)PROBE_BATCH, last - q0);
        size_t fresh = c->seeds.n; /* the batch's seeds from here */
        for (size_t j = 0; j < nb; j++) {
            size_t q = q0 + j;
            if (code && structure == 0) { /* the batch ends before a stretch without structure */
                nb = j;
                break;
            }
            pr[j].hash = rc_mix64(poly ^ RC_KGRAM_SEED);
            pr[j].bucket = bits ? pr[j].hash >> (64 - bits) : 0;
            if (q + k < n) { /* slide to the next k-gram */
                poly = (poly - kgram_token(&toks[q], shape) * base_k1) * RC_KGRAM_BASE +
                       kgram_token(&toks[q + k], shape);
                if (code)
                    structure += rc_structural(c, &toks[q + k]) - rc_structural(c, &toks[q]);
            }
            if (filter) {
                pr[j].g = rc_kfilter_hash(pr[j].bucket, rc_posting_key(pr[j].hash, bits, 0, 0, 0));
                pr[j].fblock = rc_kfilter_block(filter, pr[j].g);
                __builtin_prefetch(pr[j].fblock);
            }
        }
        /* The filter's "surely absent" (most k-grams of text the library does not hold): no
         * postings, as the scan would find. Every k-gram of the batch is recorded so first
         * (every one has structure: the batch ends before a stretch without); the others'
         * directory entries are fetched, and only they go on. */
        memset(ch->kgram_df.v + q0, RC_NO_POSTINGS, nb);
        memset(ch->kgram_common.v + q0, 0, nb * sizeof *ch->kgram_common.v);
        memset(ch->kgram_cut.v + q0, 0, nb);
        ch->kgram_df.n = ch->kgram_common.n = ch->kgram_cut.n = q0 + nb;
        uint8_t live[PROBE_BATCH];
        size_t nlive = 0;
        for (size_t j = 0; j < nb; j++) {
            if (filter && !rc_kfilter_block_may(pr[j].fblock, pr[j].g))
                continue;
            __builtin_prefetch(dir + 4 * pr[j].bucket);
            live[nlive++] = (uint8_t)j;
        }
        for (size_t l = 0; l < nlive; l++) {
            probe *p = &pr[live[l]];
            if (rc_index_touch(c->idx, dir + 4 * p->bucket, 8, NULL) != RECITE_OK)
                return RECITE_EFORMAT;
            rc_index_bucket(info, p->hash, &p->first, &p->end);
            if (p->first > p->end || p->end > info->npostings ||
                rc_index_touch(c->idx, keys + 4 * p->first, 4 * (p->end - p->first), NULL) !=
                    RECITE_OK)
                return RECITE_EFORMAT;
            __builtin_prefetch(keys + 4 * p->first);
        }
        for (size_t l = 0; l < nlive; l++) {
            size_t j = live[l], q = q0 + j;
            uint32_t want = rc_posting_key(pr[j].hash, bits, 0, 0, 0);
            uint8_t df = RC_NO_POSTINGS;
            uint64_t postings = 0, taken = 0, near_taken = 0;
            unsigned left = 256, right = 256; /* not computed yet */
            uint8_t cut = 0;
            /* A k-gram of many postings (a text repeated in the library) met again with the same
             * contexts: what its scan gave before, when its postings can make no seed now (none
             * could, or the quota is spent). A repetitive text checked against a repetitive
             * work rescanned every posting for every k-gram: quadratic. */
            rc_lookup_memo *memo = NULL;
            if (pr[j].end - pr[j].first >= RC_MEMO_MIN_POSTINGS && !c->lookup_every_posting) {
                rc_chan_contexts(ch, q, &left, &right);
                memo = rc_chan_memo(ch, pr[j].hash, left, right);
                if (memo->gen == ch->memo_gen && memo->hash == pr[j].hash && memo->left == left &&
                    memo->right == right && (!memo->eligible || ch->seeds_taken >= quota)) {
                    if (memo->eligible)
                        c->truncated = ch->quota_cut = true;
                    df = memo->df;
                    postings = memo->postings;
                    cut = memo->cut;
                    pr[j].end = pr[j].first; /* no scan */
                    memo = NULL;
                    c->lookup_memo_hits++;
                }
            }
            for (uint64_t i = pr[j].first; i < pr[j].end; i++) {
                uint32_t key = rc_get_u32(keys + 4 * i);
                if ((key & RC_KEY_HASH_MASK) != want)
                    continue;
                /* The k-gram's class: the highest of the postings its bits find (they are one
                 * fingerprint's but where two collide; the highest whatever their order). */
                uint8_t cls = (uint8_t)(key & 3u);
                df = df == RC_NO_POSTINGS ? cls : RC_MAX(df, cls);
                postings++;
                if (left == 256)
                    rc_chan_contexts(ch, q, &left, &right);
                bool exact = ((key >> 16) & 0xffu) == left || (key >> 24) == right;
                if (!exact) {
                    /* Cannot start a run of min_tokens, but may anchor a near-verbatim span:
                     * kept, a few per k-gram, when it is not common language. */
                    if (!c->near || cls == RC_DF_COMMON || near_taken == RC_NEAR_SEEDS)
                        continue;
                    near_taken++;
                } else if (cls == RC_DF_COMMON && taken == RC_COMMON_POSTINGS && !c->all_works) {
                    /* Past the postings taken of common language, the ones after it of the
                     * same bits and class (a fingerprint's postings are together: sorted by
                     * fingerprint) only count: counted in a tight loop. */
                    cut = 1;
                    uint32_t same = want | RC_DF_COMMON;
                    while (i + 1 < pr[j].end && (rc_get_u32(keys + 4 * (i + 1)) & 0xffffu) == same)
                        i++, postings++;
                    continue;
                } else {
                    taken++;
                }
                /* Each channel has its share of max_postings: one count for all would depend on
                 * how the channels' lookups interleave, i.e. on how the text was fed. Past it the
                 * k-gram's postings are still counted (its class, how common it is), as a sharded
                 * index counts them in every shard. */
                if (ch->seeds_taken >= quota) {
                    c->truncated = ch->quota_cut = true;
                    continue;
                }
                rc_seed sd = {.gpos = i, /* its posting: the position is read below */
                              .q = (uint32_t)q,
                              .channel = (uint8_t)chn,
                              .exact = exact};
                if (RC_VEC_PUSH(c->seeds, sd) != RECITE_OK)
                    return RECITE_ENOMEM;
                ch->seeds_taken++;
            }
            if (memo) /* eligible: a posting was taken (or would have been but for the quota) */
                *memo = (rc_lookup_memo){
                    pr[j].hash,     postings, ch->memo_gen, (uint8_t)left,
                    (uint8_t)right, df,       cut,          taken + near_taken > 0};
            if (df == RC_DF_COMMON && postings > ch->common_postings_max)
                ch->common_postings_max = postings;
            uint32_t common =
                df == RC_DF_COMMON ? (uint32_t)RC_MIN(postings, (uint64_t)UINT32_MAX) : 0;
            ch->kgram_df.v[q] = df;
            ch->kgram_common.v[q] = common;
            ch->kgram_cut.v[q] = cut;
        }
        /* The positions of the batch's seeds, read together: their cache misses (positions
         * are a section of their own, far from the keys) overlap. */
        for (size_t s = fresh; s < c->seeds.n; s++)
            __builtin_prefetch(pos + 4 * c->seeds.v[s].gpos);
        for (size_t s = fresh; s < c->seeds.n; s++) {
            uint64_t i = c->seeds.v[s].gpos;
            if (rc_index_touch(c->idx, pos + 4 * i, 4, NULL) != RECITE_OK)
                return RECITE_EFORMAT;
            c->seeds.v[s].gpos = rc_get_u32(pos + 4 * i);
            if (c->seeds.v[s].gpos >= c->idx->ntokens)
                return RECITE_EFORMAT;
        }
    }
    return RECITE_OK;
}

/* One copy of the loop per kind of channel: words, lexemes (structure counted), shapes. */
static int lookup_kgrams(rc_matcher *c, unsigned chn, bool final)
{
    if (chn == RC_CH_PROSE)
        return lookup_batches(c, chn, final, false, false);
    return c->chans[chn].shape ? lookup_batches(c, chn, final, true, true)
                               : lookup_batches(c, chn, final, true, false);
}

/* A feed tokenizes from where the last complete token ended, so a construct left open (an
 * unclosed comment or string, a long line of code, spaces after a hyphen) is scanned again at
 * every feed: quadratic for a long one fed in small pieces. Past RESCAN_TAIL open bytes, a feed
 * tokenizes only when the text has grown by 1/RESCAN_SHARE of them since the last try (linear
 * overall); the tokens are the same, only found a little later (what a poll clears waits for
 * them too), and the final pass takes the rest. */
#define RESCAN_TAIL 256
#define RESCAN_SHARE 16

int rc_matcher_tokenize(rc_matcher *c, bool final)
{
    uint64_t t0 = rc_phase_start(c);
    for (unsigned k = 0; k < 2; k++) {
        rc_stream *st = &c->streams[k];
        if (k == 1 && !c->chans[RC_CH_CODE].active && !c->chans[RC_CH_SHAPE].active)
            break; /* no code in the index: no lexemes needed */
        uint64_t open = c->text.n - st->st.pos, fresh = c->text.n - st->tried_at;
        if (!final && open > RESCAN_TAIL && fresh * RESCAN_SHARE < open)
            continue;
        st->tried_at = c->text.n;
        for (;;) {
            if (RC_VEC_RESERVE(st->toks, st->toks.n + 1024) != RECITE_OK)
                return RECITE_ENOMEM;
            size_t n = rc_tokenize(st->mode, &c->tz, c->text.v, c->text.n, final, &st->st,
                                   st->toks.v + st->toks.n, 1024);
            if (c->idx->text_free) /* its hashes are keyed: so must ours be */
                rc_key_tokens(&c->idx->key, st->toks.v + st->toks.n, n);
            st->toks.n += n;
            if (st->toks.n > UINT32_MAX - 1024)
                return RECITE_ELIMIT;
            if (n < 1024)
                break;
        }
    }
    rc_phase_end(c, RC_PH_TOKENIZE, t0);
    t0 = rc_phase_start(c);
    for (unsigned k = 0; k < RC_CHANNELS && !c->dist; k++) {
        if (!c->chans[k].active)
            continue;
        /* A shard opened alone keeps bits apart too: the general lookup. */
        int rc = c->idx->nshards || c->idx->ch[k].xbits ? rc_match_lookup_shards(c, k, final)
                                                        : lookup_kgrams(c, k, final);
        if (rc != RECITE_OK)
            return rc;
    }
    rc_phase_end(c, RC_PH_LOOKUP, t0);
    return RECITE_OK;
}

const char *rc_matcher_tokenize_error(int rc)
{
    return rc == RECITE_ELIMIT    ? "text too long (more than 2^32 tokens)"
           : rc == RECITE_EFORMAT ? "corrupt index (bad fingerprint directory or position)"
                                  : "out of memory";
}

int rc_matcher_feed(rc_matcher *c, const char *bytes, size_t len, recite_error *err)
{
    if (c->finished)
        rc_matcher_reset(c);
    if (len == 0)
        return RECITE_OK;
    if (RC_VEC_RESERVE(c->text, c->text.n + len + 1) != RECITE_OK)
        return rc_error_set(err, RECITE_ENOMEM, "out of memory");
    memcpy(c->text.v + c->text.n, bytes, len);
    c->text.n += len;
    c->text.v[c->text.n] = 0;
    int rc = rc_matcher_tokenize(c, false);
    return rc == RECITE_OK ? RECITE_OK : rc_error_set(err, rc, "%s", rc_matcher_tokenize_error(rc));
}

/*
 * checker.c — the matcher's front and back. Text arrives by feed() in any pieces; complete
 * tokens are hashed and every k-gram is looked up as soon as it exists (seeds: output token q,
 * global source token g). finish() picks the candidate works (every work with a seed of
 * specific language, and a sample of those sharing only common language), has their seeds
 * extended and classified (match_verify.c), merges runs contained in a longer run of the same
 * work, and computes per-work coverage and the common-language flags.
 */
#include "rc_match.h"

#include <stdlib.h>

#define DEFAULT_MAX_MATCHES 10000u
#define DEFAULT_MAX_POSTINGS 100000u
#define DEFAULT_MAX_CANDIDATES 1000u
#define DEFAULT_COMMON_SAMPLE 3u
#define DEFAULT_MIN_SIMILARITY 0.8
#define NEAR_SEEDS_PER_KGRAM 8 /* postings of one k-gram kept as near seeds */
#define COMMON_SHARE 0.8       /* a run is common when this share of its k-grams is common ... */
#define OWN_TEXT_COVERAGE 0.5  /* ... unless the output reproduces this much of the work */

int recite_checker_create(recite_checker **out, const recite_index *idx,
                          const recite_check_options *opt, recite_error *err)
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
    recite_checker *c = calloc(1, sizeof *c);
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
    c->cmi = !opt->skip_cmi;
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
    if (rc_store_reader_init(&c->reader, idx) != RECITE_OK) {
        free(c);
        return rc_error_set(err, RECITE_ENOMEM, "out of memory");
    }
    if (opt->background) {
        /* Exact spans are enough to know the text is public; one work per passage suffices. */
        recite_check_options bo = RECITE_CHECK_OPTIONS_INIT;
        bo.exact_only = 1;
        bo.common_sample = 1;
        int rc = recite_checker_create(&c->bg, opt->background, &bo, err);
        if (rc != RECITE_OK) {
            rc_store_reader_free(&c->reader);
            free(c);
            return rc;
        }
    }
    recite_checker_reset(c);
    *out = c;
    return RECITE_OK;
}

void recite_checker_free(recite_checker *c)
{
    if (!c)
        return;
    recite_checker_free(c->bg);
    recite_checker_free(c->lic_chk);
    rc_store_reader_free(&c->reader);
    rc_source_window_free(&c->sw);
    RC_VEC_FREE(c->text);
    for (unsigned k = 0; k < 2; k++)
        RC_VEC_FREE(c->streams[k].toks);
    for (unsigned k = 0; k < RC_CHANNELS; k++)
        RC_VEC_FREE(c->chans[k].kgram_df);
    RC_VEC_FREE(c->seeds);
    RC_VEC_FREE(c->raw);
    RC_VEC_FREE(c->matches);
    RC_VEC_FREE(c->works);
    RC_VEC_FREE(c->srcbuf);
    rc_live_free(c);
    free(c);
}

void recite_checker_reset(recite_checker *c)
{
    c->text.n = 0;
    for (unsigned k = 0; k < 2; k++) {
        c->streams[k].toks.n = 0;
        c->streams[k].st = (rc_tok_state){0, true};
    }
    for (unsigned k = 0; k < RC_CHANNELS; k++) {
        c->chans[k].kgram_df.n = 0;
        c->chans[k].common_postings_max = 0;
    }
    c->seeds.n = 0;
    c->raw.n = 0;
    c->matches.n = 0;
    c->works.n = 0;
    c->truncated = false;
    c->finished = false;
    c->steps = 0;
    c->common_others = 0;
    memset(&c->result, 0, sizeof c->result);
    rc_live_reset(c);
}

const char *recite_checker_text(const recite_checker *c, size_t *len)
{
    *len = c->text.n;
    return (const char *)c->text.v;
}

/* ==== tokens and seeds ==== */

static unsigned context_of(const rc_chan *ch, size_t from, size_t n)
{
    uint64_t tmp[RC_WINDOW_MAX];
    for (size_t i = 0; i < n; i++)
        tmp[i] = rc_chan_hash(ch, &ch->stream->toks.v[from + i]);
    return rc_context8(tmp, (unsigned)n);
}

/* One k-gram of the text on its way through the lookup pipeline. */
typedef struct probe {
    uint64_t hash;
    uint64_t first, end; /* its bucket of postings */
    uint32_t left, right;
} probe;

#define PROBE_BATCH 32

/* Looks up every k-gram whose context is complete (all of them when `final`). Lookups are
 * batched: hash a batch, prefetch its directory entries, then its postings, then scan them, so
 * the cache misses of a batch overlap instead of queueing one behind another.
 * Postings whose context hashes both differ from the text's cannot start a run of min_tokens
 * (see rc_fingerprint.h) and make no seed; a common k-gram contributes its first
 * RC_COMMON_POSTINGS postings only (the same early works for every k-gram of a passage). */
static int lookup_kgrams(recite_checker *c, unsigned chn, bool final)
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
    uint64_t hs[RC_KGRAM_MAX];
    probe pr[PROBE_BATCH];
    while (ch->kgram_df.n < last) {
        size_t q0 = ch->kgram_df.n, nb = RC_MIN((size_t)PROBE_BATCH, last - q0);
        for (size_t j = 0; j < nb; j++) {
            size_t q = q0 + j;
            for (unsigned t = 0; t < k; t++)
                hs[t] = rc_chan_hash(ch, &toks[q + t]);
            pr[j].hash = rc_kgram_hash(hs, k);
            size_t nl = RC_MIN((size_t)cc, q), nr = RC_MIN((size_t)cc, n - q - k);
            pr[j].left = context_of(ch, q - nl, nl);
            pr[j].right = context_of(ch, q + k, nr);
            uint64_t bk = bits ? pr[j].hash >> (64 - bits) : 0;
            __builtin_prefetch(dir + 4 * bk);
        }
        for (size_t j = 0; j < nb; j++) {
            rc_index_bucket(info, pr[j].hash, &pr[j].first, &pr[j].end);
            __builtin_prefetch(keys + 4 * pr[j].first);
        }
        for (size_t j = 0; j < nb; j++) {
            size_t q = q0 + j;
            uint32_t want = rc_posting_key(pr[j].hash, bits, 0, 0, 0);
            uint8_t df = RC_NO_POSTINGS;
            uint64_t postings = 0, taken = 0, near_taken = 0;
            for (uint64_t i = pr[j].first; i < pr[j].end; i++) {
                uint32_t key = rc_get_u32(keys + 4 * i);
                if ((key & RC_KEY_HASH_MASK) != want)
                    continue;
                df = (uint8_t)(key & 3u);
                postings++;
                bool exact = ((key >> 16) & 0xffu) == pr[j].left || (key >> 24) == pr[j].right;
                if (!exact) {
                    /* Cannot start a run of min_tokens, but may anchor a near-verbatim span:
                     * kept, a few per k-gram, when it is not common language. */
                    if (!c->near || df == RC_DF_COMMON || near_taken == NEAR_SEEDS_PER_KGRAM)
                        continue;
                    near_taken++;
                } else if (df == RC_DF_COMMON && taken == RC_COMMON_POSTINGS && !c->all_works) {
                    continue;
                } else {
                    taken++;
                }
                if (c->seeds.n >= c->max_postings) {
                    c->truncated = true;
                    break;
                }
                rc_seed sd = {rc_get_u32(pos + 4 * i), (uint32_t)q, 0, (uint8_t)chn, exact};
                if (RC_VEC_PUSH(c->seeds, sd) != RECITE_OK)
                    return RECITE_ENOMEM;
            }
            if (df == RC_DF_COMMON && postings > ch->common_postings_max)
                ch->common_postings_max = postings;
            if (RC_VEC_PUSH(ch->kgram_df, df) != RECITE_OK)
                return RECITE_ENOMEM;
        }
    }
    return RECITE_OK;
}

static int tokenize_more(recite_checker *c, bool final)
{
    for (unsigned k = 0; k < 2; k++) {
        rc_stream *st = &c->streams[k];
        if (k == 1 && !c->chans[RC_CH_CODE].active && !c->chans[RC_CH_SHAPE].active)
            break; /* no code in the index: no lexemes needed */
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
    for (unsigned k = 0; k < RC_CHANNELS; k++) {
        if (!c->chans[k].active)
            continue;
        int rc = lookup_kgrams(c, k, final);
        if (rc != RECITE_OK)
            return rc;
    }
    return RECITE_OK;
}

int recite_checker_feed(recite_checker *c, const char *bytes, size_t len, recite_error *err)
{
    if (c->finished)
        recite_checker_reset(c);
    if (len == 0)
        return RECITE_OK;
    if (RC_VEC_RESERVE(c->text, c->text.n + len + 1) != RECITE_OK)
        return rc_error_set(err, RECITE_ENOMEM, "out of memory");
    memcpy(c->text.v + c->text.n, bytes, len);
    c->text.n += len;
    c->text.v[c->text.n] = 0;
    int rc = tokenize_more(c, false);
    if (rc == RECITE_ELIMIT)
        return rc_error_set(err, rc, "text too long (more than 2^32 tokens)");
    return rc == RECITE_OK ? RECITE_OK : rc_error_set(err, rc, "out of memory");
}

/* ==== choosing the works to verify ==== */

typedef struct candidate {
    uint32_t cluster;
    uint32_t seeds;
    size_t first;  /* its seeds are seeds[first .. first + seeds) while sorted by position */
    bool specific; /* has an exact seed whose k-gram is not common language */
    bool exact;    /* has an exact seed */
    bool keep;
} candidate;

static int cmp_seed_gpos(const void *a, const void *b)
{
    const rc_seed *x = a, *y = b;
    return (x->gpos > y->gpos) - (x->gpos < y->gpos);
}

static int cmp_seed_diag(const void *a, const void *b)
{
    const rc_seed *x = a, *y = b;
    if (x->cluster != y->cluster)
        return x->cluster < y->cluster ? -1 : 1;
    if (x->channel != y->channel)
        return x->channel < y->channel ? -1 : 1;
    int64_t dx = (int64_t)x->gpos - (int64_t)x->q, dy = (int64_t)y->gpos - (int64_t)y->q;
    if (dx != dy)
        return dx < dy ? -1 : 1;
    return (x->q > y->q) - (x->q < y->q);
}

static int cmp_candidate(const void *a, const void *b)
{
    const candidate *x = a, *y = b;
    if (x->specific != y->specific)
        return x->specific ? -1 : 1;
    if (x->seeds != y->seeds)
        return x->seeds > y->seeds ? -1 : 1;
    return (x->cluster > y->cluster) - (x->cluster < y->cluster);
}

static int cmp_candidate_cluster(const void *a, const void *b)
{
    const candidate *x = a, *y = b;
    return (x->cluster > y->cluster) - (x->cluster < y->cluster);
}

/* Seeds come from every work sharing a k-gram with the text. Works with a seed of specific
 * language (a k-gram held by fewer than 64 texts) are all verified, most-seeded first, up to
 * max_candidates. Works sharing only common language (license headers, boilerplate) are
 * sampled: most-seeded first, a work is kept while it covers a position of the text that fewer
 * than `common_sample` kept works cover. So every passage of common language is attributed to
 * a few works holding it and the cost stays bounded; the other works are counted. Verification
 * is what costs (decompression, tokenizing); counting seeds per work is cheap. */
static int select_candidates(recite_checker *c, recite_error *err)
{
    rc_sort(c->seeds.v, c->seeds.n, sizeof *c->seeds.v, cmp_seed_gpos);
    RC_VEC(candidate) cands = {0};
    /* How many kept works cover each k-gram of each stream (words, lexemes). */
    uint8_t *cover[2] = {calloc(c->chans[RC_CH_PROSE].kgram_df.n + 1, 1),
                         calloc(c->chans[RC_CH_CODE].kgram_df.n + 1, 1)};
    if (!cover[0] || !cover[1]) {
        free(cover[0]);
        free(cover[1]);
        return rc_error_set(err, RECITE_ENOMEM, "out of memory");
    }
    rc_cluster info = {0};
    uint32_t cl = UINT32_MAX;
    for (size_t i = 0; i < c->seeds.n; i++) {
        rc_seed *s = &c->seeds.v[i];
        if (cl == UINT32_MAX || s->gpos >= info.token_base + info.ntokens) {
            cl = rc_index_cluster_of_token(c->idx, s->gpos);
            rc_index_cluster(c->idx, cl, &info);
            candidate cd = {cl, 0, i, false, false, false};
            if (RC_VEC_PUSH(cands, cd) != RECITE_OK) {
                RC_VEC_FREE(cands);
                free(cover[0]);
                free(cover[1]);
                return rc_error_set(err, RECITE_ENOMEM, "out of memory");
            }
        }
        s->cluster = cl;
        candidate *cd = &cands.v[cands.n - 1];
        cd->seeds++;
        cd->exact |= s->exact;
        cd->specific |= s->exact && c->chans[s->channel].kgram_df.v[s->q] != RC_DF_COMMON;
    }
    rc_sort(cands.v, cands.n, sizeof *cands.v, cmp_candidate);
    uint32_t specific = 0, sampled = 0;
    for (size_t i = 0; i < cands.n; i++) {
        candidate *cd = &cands.v[i];
        if (cd->specific || !cd->exact) {
            /* Specific language; or only near seeds: worth aligning when there are two. */
            if (!cd->specific && cd->seeds < 2)
                continue;
            cd->keep = ++specific <= c->max_candidates;
            c->truncated |= !cd->keep;
            continue;
        }
        cd->keep = c->all_works;
        for (size_t k = cd->first; k < cd->first + cd->seeds && !cd->keep; k++) {
            const rc_seed *sd = &c->seeds.v[k];
            cd->keep = sd->exact && cover[sd->channel != RC_CH_PROSE][sd->q] < c->common_sample;
        }
        if (!cd->keep)
            continue;
        sampled++;
        for (size_t k = cd->first; k < cd->first + cd->seeds; k++) {
            const rc_seed *sd = &c->seeds.v[k];
            uint8_t *cv = &cover[sd->channel != RC_CH_PROSE][sd->q];
            if (sd->exact && *cv < c->common_sample)
                (*cv)++;
        }
    }
    free(cover[0]);
    free(cover[1]);
    /* Works sharing the common passages beyond those kept: estimated from the longest posting
     * list of a common k-gram (postings of a fingerprint >= works holding it). */
    uint64_t most = 0;
    for (unsigned k = 0; k < RC_CHANNELS; k++)
        most = RC_MAX(most, c->chans[k].common_postings_max);
    if (most > sampled && !c->all_works)
        c->common_others = most - sampled;
    rc_sort(cands.v, cands.n, sizeof *cands.v, cmp_candidate_cluster);
    /* Keep the seeds of the chosen works (seeds are in cluster order, as are cands now). */
    size_t keep = 0, k = 0;
    for (size_t i = 0; i < c->seeds.n; i++) {
        while (cands.v[k].cluster != c->seeds.v[i].cluster)
            k++;
        if (cands.v[k].keep)
            c->seeds.v[keep++] = c->seeds.v[i];
    }
    c->seeds.n = keep;
    RC_VEC_FREE(cands);
    rc_sort(c->seeds.v, c->seeds.n, sizeof *c->seeds.v, cmp_seed_diag);
    return RECITE_OK;
}

/* ==== merging and per-work figures ==== */

static int cmp_raw(const void *a, const void *b)
{
    const rc_raw_match *x = a, *y = b;
    if (x->cluster != y->cluster)
        return x->cluster < y->cluster ? -1 : 1;
    if (x->q0 != y->q0)
        return x->q0 < y->q0 ? -1 : 1;
    if (x->len != y->len)
        return x->len > y->len ? -1 : 1; /* longest first */
    if (x->kind != y->kind)
        return x->kind < y->kind ? -1 : 1; /* then exact, normalized, near */
    if (x->similarity != y->similarity)
        return x->similarity > y->similarity ? -1 : 1;
    return (x->s0 > y->s0) - (x->s0 < y->s0);
}

static int cmp_raw_longest(const void *a, const void *b)
{
    const rc_raw_match *x = a, *y = b;
    if (x->len != y->len)
        return x->len > y->len ? -1 : 1;
    return cmp_raw(a, b);
}

static int cmp_match(const void *a, const void *b)
{
    const recite_match *x = a, *y = b;
    if (x->out_start != y->out_start)
        return x->out_start < y->out_start ? -1 : 1;
    if (x->work != y->work)
        return x->work < y->work ? -1 : 1;
    return (x->src_start > y->src_start) - (x->src_start < y->src_start);
}

static int cmp_hit(const void *a, const void *b)
{
    const recite_work_hit *x = a, *y = b;
    if (x->common != y->common)
        return x->common ? 1 : -1;
    if (x->tokens_covered != y->tokens_covered)
        return x->tokens_covered > y->tokens_covered ? -1 : 1;
    return (x->work > y->work) - (x->work < y->work);
}

typedef struct interval {
    uint64_t a, b;
} interval;

static int cmp_interval(const void *a, const void *b)
{
    const interval *x = a, *y = b;
    return (x->a > y->a) - (x->a < y->a);
}

/* Keeps, per cluster, the runs not contained (in the output) in a longer run. */
static void drop_contained(recite_checker *c)
{
    rc_sort(c->raw.v, c->raw.n, sizeof *c->raw.v, cmp_raw);
    size_t keep = 0;
    uint32_t cl = UINT32_MAX;
    uint64_t reach = 0;
    for (size_t i = 0; i < c->raw.n; i++) {
        rc_raw_match m = c->raw.v[i];
        uint64_t end = (uint64_t)m.q0 + m.len;
        if (m.cluster != cl) {
            cl = m.cluster;
            reach = 0;
        }
        if (end <= reach)
            continue;
        reach = end;
        c->raw.v[keep++] = m;
    }
    c->raw.n = keep;
}

/* Whether most k-grams of the run (those the index knows) are common language. */
static bool run_is_common(const recite_checker *c, const rc_raw_match *m)
{
    const rc_chan *ch = &c->chans[m->channel];
    unsigned k = ch->info->kgram;
    uint64_t known = 0, common = 0;
    for (uint64_t q = m->q0; q + k <= (uint64_t)m->q0 + m->len && q < ch->kgram_df.n; q++) {
        uint8_t df = ch->kgram_df.v[q];
        known += df != RC_NO_POSTINGS;
        common += df == RC_DF_COMMON;
    }
    return known > 0 && (double)common >= COMMON_SHARE * (double)known;
}

static uint32_t representative(const recite_index *idx, const rc_cluster *info)
{
    return rc_get_u32(idx->sec[RC_SEC_MEMBERS].data + 4 * (uint64_t)info->member0);
}

static int work_figures(recite_checker *c, recite_error *err)
{
    /* raw is sorted by cluster: one pass per cluster. */
    RC_VEC(interval) ivs = {0};
    size_t i = 0;
    int rc = RECITE_OK;
    while (i < c->raw.n) {
        uint32_t cl = c->raw.v[i].cluster;
        size_t first = i;
        ivs.n = 0;
        uint32_t longest = 0, count = 0;
        for (; i < c->raw.n && c->raw.v[i].cluster == cl; i++) {
            const rc_raw_match *m = &c->raw.v[i];
            if (RC_VEC_PUSH(ivs, ((interval){m->s0, m->s0 + m->src_len})) != RECITE_OK) {
                rc = rc_error_set(err, RECITE_ENOMEM, "out of memory");
                goto done;
            }
            longest = RC_MAX(longest, m->len);
            count++;
        }
        rc_sort(ivs.v, ivs.n, sizeof *ivs.v, cmp_interval);
        uint64_t covered = 0, cur_a = 0, cur_b = 0;
        for (size_t k = 0; k < ivs.n; k++) {
            if (k == 0 || ivs.v[k].a > cur_b) {
                covered += cur_b - cur_a;
                cur_a = ivs.v[k].a;
                cur_b = ivs.v[k].b;
            } else if (ivs.v[k].b > cur_b) {
                cur_b = ivs.v[k].b;
            }
        }
        covered += cur_b - cur_a;
        rc_cluster info;
        rc_index_cluster(c->idx, cl, &info);
        double coverage = info.ntokens ? (double)covered / (double)info.ntokens : 0.0;
        bool all_common = true;
        double weighted = 0, weight = 0;
        for (size_t k = first; k < i; k++) {
            rc_raw_match *m = &c->raw.v[k];
            m->common = coverage < OWN_TEXT_COVERAGE && run_is_common(c, m);
            all_common &= m->common;
            weighted += m->similarity * m->len;
            weight += m->len;
        }
        recite_work_hit h;
        memset(&h, 0, sizeof h);
        h.work = representative(c->idx, &info);
        h.matches = count;
        h.tokens_covered = covered;
        h.longest_tokens = longest;
        h.coverage = coverage;
        h.common = all_common;
        h.similarity = weight > 0 ? weighted / weight : 1.0;
        if (RC_VEC_PUSH(c->works, h) != RECITE_OK) {
            rc = rc_error_set(err, RECITE_ENOMEM, "out of memory");
            goto done;
        }
    }
    rc_sort(c->works.v, c->works.n, sizeof *c->works.v, cmp_hit);
done:
    RC_VEC_FREE(ivs);
    return rc;
}

recite_match rc_match_to_public(const recite_checker *c, const rc_raw_match *m)
{
    rc_cluster info;
    rc_index_cluster(c->idx, m->cluster, &info);
    const rc_token *qt = c->chans[m->channel].stream->toks.v;
    return (recite_match){representative(c->idx, &info),
                          qt[m->q0].start,
                          qt[m->q0 + m->len - 1].end,
                          m->src_start,
                          m->src_end,
                          m->s0,
                          m->len,
                          m->kind,
                          m->similarity,
                          m->common};
}

/* Marks as common the matches whose output bytes occur, for at least 80% of them, in the
 * background index (public text), and the works all of whose matches are then common. */
static int apply_background(recite_checker *c, recite_error *err)
{
    const recite_result *bres;
    int rc = recite_check_text(&bres, c->bg, (const char *)c->text.v, c->text.n, err);
    if (rc != RECITE_OK)
        return rc;
    c->truncated |= bres->truncated;
    for (size_t i = 0; i < c->matches.n; i++) {
        recite_match *m = &c->matches.v[i];
        /* Bytes of m covered by the background's spans (which are sorted by start). */
        uint64_t covered = 0, reach = m->out_start;
        for (size_t k = 0; k < bres->nmatches; k++) {
            uint64_t a = RC_MAX(bres->matches[k].out_start, reach);
            uint64_t b = RC_MIN(bres->matches[k].out_end, m->out_end);
            if (b > a) {
                covered += b - a;
                reach = b;
            }
        }
        if (covered * 5 >= (m->out_end - m->out_start) * 4)
            m->common = 1;
    }
    for (size_t w = 0; w < c->works.n; w++) {
        bool all = true;
        for (size_t i = 0; i < c->matches.n && all; i++)
            if (c->matches.v[i].work == c->works.v[w].work)
                all = c->matches.v[i].common;
        c->works.v[w].common = all;
    }
    return RECITE_OK;
}

int recite_checker_finish(const recite_result **out, recite_checker *c, recite_error *err)
{
    *out = NULL;
    if (c->finished)
        recite_checker_reset(c); /* finish without feed: an empty text */
    int rc = tokenize_more(c, true);
    if (rc != RECITE_OK)
        return rc_error_set(err, rc, rc == RECITE_ELIMIT ? "text too long" : "out of memory");
    if ((rc = select_candidates(c, err)) != RECITE_OK)
        return rc;
    if ((rc = rc_match_find_runs(c, err)) != RECITE_OK)
        return rc;
    /* Classify before merging, so that of two runs over the same output the exact one wins. */
    for (size_t i = 0; i < c->raw.n; i++)
        if ((rc = rc_match_classify(c, &c->raw.v[i], err)) != RECITE_OK)
            return rc;
    /* Near-verbatim spans; the exact runs inside one are merged into it below. */
    if (c->near && (rc = rc_match_near(c, err)) != RECITE_OK)
        return rc;
    drop_contained(c);
    if (c->raw.n > c->max_matches) {
        /* Keep the longest runs, then restore the (cluster, position) order. */
        c->truncated = true;
        rc_sort(c->raw.v, c->raw.n, sizeof *c->raw.v, cmp_raw_longest);
        c->raw.n = c->max_matches;
        rc_sort(c->raw.v, c->raw.n, sizeof *c->raw.v, cmp_raw);
    }
    if ((rc = work_figures(c, err)) != RECITE_OK)
        return rc;
    if (RC_VEC_RESERVE(c->matches, c->raw.n) != RECITE_OK)
        return rc_error_set(err, RECITE_ENOMEM, "out of memory");
    for (size_t i = 0; i < c->raw.n; i++)
        c->matches.v[i] = rc_match_to_public(c, &c->raw.v[i]);
    c->matches.n = c->raw.n;
    rc_sort(c->matches.v, c->matches.n, sizeof *c->matches.v, cmp_match);
    if (c->bg && c->matches.n && (rc = apply_background(c, err)) != RECITE_OK)
        return rc;
    if (c->cmi && (rc = rc_match_cmi(c, c->works.v, c->works.n, err)) != RECITE_OK)
        return rc;

    c->result = (recite_result){c->streams[0].toks.n, c->text.n,
                                c->matches.v,         c->matches.n,
                                c->works.v,           c->works.n,
                                c->truncated,         rc_utf8_count_invalid(c->text.v, c->text.n),
                                c->common_others,     c->streams[1].toks.n,
                                c->idx->text_free};
    /* The result and the text stay readable until the next feed starts a new text. */
    c->finished = true;
    *out = &c->result;
    return RECITE_OK;
}

int recite_check_text(const recite_result **out, recite_checker *c, const char *text, size_t len,
                      recite_error *err)
{
    recite_checker_reset(c);
    int rc = recite_checker_feed(c, text, len, err);
    if (rc != RECITE_OK)
        return rc;
    return recite_checker_finish(out, c, err);
}

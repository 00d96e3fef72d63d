/*
 * match_finish.c — the matcher's back: finish() picks the candidate works, has their seeds
 * extended and classified (match_verify.c) and chained into near-verbatim spans (match_near.c),
 * merges runs contained in a longer run of the same work, and computes each work's coverage and
 * the common-language flags. The result has no CMI: src/check adds it.
 */
#include "rc_match.h"

#include <stdlib.h>

#define CODE_COMMON_SHARE 0.8 /* a run of code is common when this share of its k-grams is */
#define DF_SHARED 2u          /* the class of k-grams held by 8 texts or more (rc_df_class) */
#define OWN_TEXT_COVERAGE                                                                          \
    0.5 /* no run is common when the output reproduces this much of the work */

static int cmp_raw(const void *a, const void *b)
{
    const rc_raw_match *x = a, *y = b;
    if (x->primary != y->primary) /* a code cluster's runs and its view's together */
        return x->primary < y->primary ? -1 : 1;
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
    if (x->s0 != y->s0)
        return x->s0 < y->s0 ? -1 : 1;
    return (x->channel > y->channel) - (x->channel < y->channel);
}

static int cmp_raw_longest(const void *a, const void *b)
{
    const rc_raw_match *x = a, *y = b;
    if (x->len != y->len)
        return x->len > y->len ? -1 : 1;
    if (x->first != y->first)
        return x->first < y->first ? -1 : 1;
    return cmp_raw(a, b);
}

int rc_match_cmp_public(const void *a, const void *b)
{
    const recite_match *x = a, *y = b;
    if (x->out_start != y->out_start)
        return x->out_start < y->out_start ? -1 : 1;
    if (x->work != y->work)
        return x->work < y->work ? -1 : 1;
    if (x->src_start != y->src_start)
        return x->src_start < y->src_start ? -1 : 1;
    if (x->out_end != y->out_end) /* a total order: the same whatever order the runs came in */
        return x->out_end < y->out_end ? -1 : 1;
    if (x->unit != y->unit)
        return x->unit < y->unit ? -1 : 1;
    return (x->src_end > y->src_end) - (x->src_end < y->src_end);
}

int rc_match_cmp_hit(const void *a, const void *b)
{
    const recite_work_hit *x = a, *y = b;
    if (x->common != y->common)
        return x->common ? 1 : -1;
    if (x->score != y->score)
        return x->score > y->score ? -1 : 1;
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
static void drop_contained(rc_matcher *c)
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

/* ==== code works found by their words (views) ==== */

typedef struct out_span {
    uint64_t a, b; /* output bytes */
    uint32_t primary;
    bool words; /* a run of a view: words of a code work */
    size_t i;
} out_span;

static int cmp_out_span(const void *x_, const void *y_)
{
    const out_span *x = x_, *y = y_;
    if (x->primary != y->primary)
        return x->primary < y->primary ? -1 : 1;
    if (x->a != y->a)
        return x->a < y->a ? -1 : 1;
    if (x->b != y->b)
        return x->b > y->b ? -1 : 1;
    if (x->words != y->words)
        return x->words ? 1 : -1; /* of two equal spans, the lexemes' */
    return (x->i > y->i) - (x->i < y->i);
}

/* A code work found both by its lexemes and by its words over the same output: a run of one
 * kind that lies (in output bytes) inside a run of the other is dropped, so a passage is
 * reported once — by lexemes when both cover the same bytes. */
static int drop_covered_across_units(rc_matcher *c, recite_error *err)
{
    bool views = false;
    for (size_t i = 0; i < c->raw.n && !views; i++)
        views = c->raw.v[i].cluster >= c->idx->nclusters;
    if (!views)
        return RECITE_OK;
    out_span *sp = malloc((c->raw.n + 1) * sizeof *sp);
    bool *drop = calloc(c->raw.n + 1, sizeof *drop);
    if (!sp || !drop) {
        free(sp);
        free(drop);
        return rc_error_set(err, RECITE_ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < c->raw.n; i++) {
        const rc_raw_match *m = &c->raw.v[i];
        const rc_token *qt = c->chans[m->channel].stream->toks.v;
        sp[i] = (out_span){qt[m->q0].start, qt[m->q0 + m->len - 1].end, m->primary,
                           m->cluster >= c->idx->nclusters, i};
    }
    rc_sort(sp, c->raw.n, sizeof *sp, cmp_out_span);
    uint64_t reach[2] = {0, 0}; /* output bytes covered by a run of lexemes [0], of words [1] */
    for (size_t k = 0; k < c->raw.n; k++) {
        if (k == 0 || sp[k].primary != sp[k - 1].primary)
            reach[0] = reach[1] = 0;
        if (sp[k].b <= reach[!sp[k].words])
            drop[sp[k].i] = true;
        else
            reach[sp[k].words] = RC_MAX(reach[sp[k].words], sp[k].b);
    }
    size_t keep = 0;
    for (size_t i = 0; i < c->raw.n; i++)
        if (!drop[i])
            c->raw.v[keep++] = c->raw.v[i];
    c->raw.n = keep;
    free(sp);
    free(drop);
    return RECITE_OK;
}

/* Narrows [*lo, *hi) by token t: the answer is t or before it when t is at or after `byte`,
 * else after it (rc_match_token_at_byte). */
static int probe_token(rc_matcher *c, uint32_t cl, uint64_t t, uint64_t byte, bool by_start,
                       uint64_t *lo, uint64_t *hi, recite_error *err)
{
    const rc_token *tok;
    int rc = rc_match_src_tok(c, cl, t, &tok, NULL, err);
    if (rc != RECITE_OK)
        return rc;
    if (by_start ? tok->start >= byte : tok->end > byte)
        *hi = t;
    else
        *lo = t + 1;
    return RECITE_OK;
}

/* The first token t of cluster cl (n tokens) whose end is after `byte` (by_start: whose start
 * is at or after it); n when there is none. Token ends and starts increase with t. The search
 * starts with the first and last tokens of the chunk the checkpoints say holds `byte`, so it
 * reads that chunk (at hand: the caller has just read the run there) instead of one chunk per
 * halving across the whole work, each decompressed and tokenized (it was 2.8 % of a check of
 * library text). The tokens decide: a wrong hint costs reads, never a wrong answer. */
int rc_match_token_at_byte(rc_matcher *c, uint32_t cl, uint64_t n, uint64_t byte, bool by_start,
                           uint64_t *out, recite_error *err)
{
    uint64_t lo = 0, hi = n;
    rc_cluster info;
    rc_index_cluster(c->idx, cl, &info);
    uint64_t g = rc_store_chunk_of_byte(c->idx, cl, &info, byte);
    int rc = RECITE_OK;
    if (g != UINT64_MAX && g < (n + RC_CHECKPOINT_EVERY - 1) / RC_CHECKPOINT_EVERY) {
        uint64_t first = g * RC_CHECKPOINT_EVERY, last = RC_MIN(first + RC_CHECKPOINT_EVERY, n) - 1;
        rc = probe_token(c, cl, first, byte, by_start, &lo, &hi, err);
        if (rc == RECITE_OK && hi == first && first > 0) /* the answer or one before it */
            rc = probe_token(c, cl, first - 1, byte, by_start, &lo, &hi, err);
        else if (rc == RECITE_OK && lo == first + 1 && last > first)
            rc = probe_token(c, cl, last, byte, by_start, &lo, &hi, err);
    }
    while (rc == RECITE_OK && lo < hi)
        rc = probe_token(c, cl, lo + (hi - lo) / 2, byte, by_start, &lo, &hi, err);
    *out = lo;
    return rc;
}

/* What finishing needs of each run's work (rc_raw_match: w0 ... vtokens): its tokens in the
 * work's own unit — for a run of a view, the lexemes of the code cluster inside its source
 * bytes — and the lengths of the work and of the view. */
int rc_match_describe(rc_matcher *c, recite_error *err)
{
    for (size_t i = 0; i < c->raw.n; i++) {
        rc_raw_match *m = &c->raw.v[i];
        rc_cluster work;
        rc_index_cluster(c->idx, m->primary, &work);
        m->wtokens = work.ntokens;
        if (m->cluster == m->primary) {
            m->w0 = m->s0;
            m->w1 = m->s0 + m->src_len;
            m->vtokens = 0;
            continue;
        }
        rc_cluster view;
        rc_index_cluster(c->idx, m->cluster, &view);
        m->vtokens = view.ntokens;
        int rc =
            rc_match_token_at_byte(c, m->primary, work.ntokens, m->src_start, false, &m->w0, err);
        if (rc == RECITE_OK)
            rc = rc_match_token_at_byte(c, m->primary, work.ntokens, m->src_end, true, &m->w1, err);
        if (rc != RECITE_OK)
            return rc;
        if (m->w1 < m->w0)
            m->w1 = m->w0;
    }
    return RECITE_OK;
}

/* A span's part in its work's score: its tokens, discounted for a span with edits (aligned, or
 * of other lexemes) by similarity^10, so that spans reproducing a work word for word outrank
 * a longer near match — of two versions of a license, the one the output quotes: a notice of
 * GPL-2 with GPL-3's last line is GPL-2 (98 words, all equal) before GPL-3 (104 words, one
 * different: 104 x 0.99^10 = 94). Spans that differ only in punctuation count whole. */
double rc_match_score(const rc_raw_match *m)
{
    double q = m->aligned || m->channel == RC_CH_SHAPE ? m->similarity : 1.0;
    double q2 = q * q, q4 = q2 * q2, q8 = q4 * q4;
    return (double)m->len * q8 * q2;
}

/* Whether a run of words is common language: no stretch of min_tokens of it is specific to a
 * few texts. The text between k-grams the index holds in 8 texts or more (classes 2 and 3) is
 * specific when a k-gram of fewer texts (class 0 or 1) starts in it; a copy of a specific
 * passage of min_tokens words always holds one (the winnowing guarantee), while words edited
 * between shared k-grams (a near copy of a license) hold none. So a license header is common
 * language with its own title line, years and holder in it, and so is a license's variant held
 * by fewer texts than the common threshold; a sentence of the work's own inside one is not. The
 * run must hold a k-gram of common language (class 3) too: a passage held by 8 texts is not
 * common by itself. */
static bool words_are_common(const rc_chan *ch, const rc_raw_match *m)
{
    uint64_t k = ch->info->kgram, min = ch->min_tokens;
    uint64_t end = (uint64_t)m->q0 + m->len, nk = ch->kgram_df.n;
    uint64_t from = m->q0; /* the text after the last shared k-gram starts here */
    bool specific = false; /* ... and a k-gram of fewer texts starts in it */
    bool common = false;   /* a k-gram of the run is common language */
    for (uint64_t q = m->q0; q + k <= end && q < nk; q++) {
        uint8_t df = ch->kgram_df.v[q];
        if (df == RC_NO_POSTINGS)
            continue;
        if (df >= DF_SHARED) {
            if (specific && q - from >= min)
                return false;
            from = RC_MAX(from, q + k);
            specific = false;
            common |= df == RC_DF_COMMON;
        } else if (q >= from) {
            specific = true;
        }
    }
    return common && !(specific && end - from >= min);
}

/* Whether a run is common language. Code keeps the share rule (most of the k-grams the index
 * holds are common): its idioms are common k-grams a few lexemes apart, so a copy of 40 lexemes
 * of one driver's own code seldom has a stretch of min_tokens free of them, and the stretch rule
 * called such copies common (6 of the bench's 1,008 planted spans). */
static bool run_is_common(const rc_matcher *c, const rc_raw_match *m)
{
    const rc_chan *ch = &c->chans[m->channel];
    if (m->channel == RC_CH_PROSE)
        return words_are_common(ch, m);
    unsigned k = ch->info->kgram;
    uint64_t known = 0, common = 0;
    for (uint64_t q = m->q0; q + k <= (uint64_t)m->q0 + m->len && q < ch->kgram_df.n; q++) {
        uint8_t df = ch->kgram_df.v[q];
        known += df != RC_NO_POSTINGS;
        common += df == RC_DF_COMMON;
    }
    return known > 0 && (double)common >= CODE_COMMON_SHARE * (double)known;
}

/* Covered tokens of a set of intervals. */
static uint64_t union_length(interval *iv, size_t n)
{
    rc_sort(iv, n, sizeof *iv, cmp_interval);
    uint64_t covered = 0, cur_a = 0, cur_b = 0;
    for (size_t k = 0; k < n; k++) {
        if (k == 0 || iv[k].a > cur_b) {
            covered += cur_b - cur_a;
            cur_a = iv[k].a;
            cur_b = iv[k].b;
        } else if (iv[k].b > cur_b) {
            cur_b = iv[k].b;
        }
    }
    return covered + (cur_b - cur_a);
}

static int work_figures(rc_matcher *c, recite_error *err)
{
    /* raw is sorted by primary cluster: one pass per work (a code work's runs of lexemes and of
     * words together, counted in lexemes). */
    RC_VEC(interval) ivs = {0};
    RC_VEC(interval) words = {0};
    size_t i = 0;
    int rc = RECITE_OK;
    while (i < c->raw.n) {
        uint32_t cl = c->raw.v[i].primary;
        uint64_t ntokens = c->raw.v[i].wtokens;
        size_t first = i;
        ivs.n = words.n = 0;
        uint32_t longest = 0, count = 0;
        uint64_t nwords = 0;
        for (; i < c->raw.n && c->raw.v[i].primary == cl; i++) {
            const rc_raw_match *m = &c->raw.v[i];
            uint64_t t0 = m->w0, t1 = m->w1;
            if (RC_VEC_PUSH(ivs, ((interval){t0, t1})) != RECITE_OK ||
                (m->cluster != cl &&
                 RC_VEC_PUSH(words, ((interval){m->s0, m->s0 + m->src_len})) != RECITE_OK)) {
                rc = rc_error_set(err, RECITE_ENOMEM, "out of memory");
                goto done;
            }
            if (m->cluster != cl && !nwords)
                nwords = m->vtokens;
            longest = RC_MAX(longest, m->cluster == cl ? m->len : (uint32_t)(t1 - t0));
            count++;
        }
        uint64_t covered = union_length(ivs.v, ivs.n);
        double coverage = ntokens ? (double)covered / (double)ntokens : 0.0;
        if (!ntokens && nwords) /* code with no lexemes (all comments): by its words */
            coverage = (double)union_length(words.v, words.n) / (double)nwords;
        bool all_common = true;
        double weighted = 0, weight = 0, score = 0;
        for (size_t k = first; k < i; k++) {
            rc_raw_match *m = &c->raw.v[k];
            m->common = coverage < OWN_TEXT_COVERAGE && run_is_common(c, m);
            all_common &= m->common;
            weighted += m->similarity * m->len;
            weight += m->len;
            score += rc_match_score(m);
        }
        recite_work_hit h;
        memset(&h, 0, sizeof h);
        h.work = c->raw.v[first].first;
        h.matches = count;
        h.tokens_covered = covered;
        h.longest_tokens = longest;
        h.coverage = coverage;
        h.common = all_common;
        h.similarity = weight > 0 ? weighted / weight : 1.0;
        h.score = score;
        if (RC_VEC_PUSH(c->works, h) != RECITE_OK) {
            rc = rc_error_set(err, RECITE_ENOMEM, "out of memory");
            goto done;
        }
    }
    rc_sort(c->works.v, c->works.n, sizeof *c->works.v, rc_match_cmp_hit);
done:
    RC_VEC_FREE(ivs);
    RC_VEC_FREE(words);
    return rc;
}

/* ==== common language, once per passage ==== */

/* The most postings of a common k-gram of the run: about how many works hold the passage. */
static uint32_t passage_postings(const rc_matcher *c, const rc_raw_match *m)
{
    const rc_chan *ch = &c->chans[m->channel];
    unsigned k = ch->info->kgram;
    uint32_t most = 0;
    for (uint64_t q = m->q0; q + k <= (uint64_t)m->q0 + m->len && q < ch->kgram_common.n; q++)
        most = RC_MAX(most, ch->kgram_common.v[q]);
    return most;
}

/* Matches of common language over the same output bytes are one passage, reported once with
 * the works sampled for it (matches are sorted by output start, then work); with all_works
 * every work is itemized. */
static void group_passages(rc_matcher *c)
{
    recite_match *v = c->matches.v;
    size_t n = c->matches.n;
    for (size_t i = 0; i < n; i++) {
        v[i].passage = (uint32_t)i;
        if (c->all_works)
            v[i].shared_by = 0; /* every work itemized */
    }
    if (c->all_works)
        return;
    for (size_t i = 0; i < n; i++) {
        if (!v[i].common || v[i].passage != i)
            continue;
        uint32_t works = 1;
        for (size_t j = i + 1; j < n && v[j].out_start == v[i].out_start; j++)
            if (v[j].common && v[j].out_end == v[i].out_end && v[j].passage == j) {
                v[j].passage = (uint32_t)i;
                works++;
            }
        uint32_t shared = RC_MAX(v[i].shared_by, works);
        for (size_t j = i; j < n && v[j].out_start == v[i].out_start; j++)
            if (v[j].passage == i)
                v[j].shared_by = shared;
    }
}

recite_match rc_match_to_public(const rc_matcher *c, const rc_raw_match *m)
{
    const rc_token *qt = c->chans[m->channel].stream->toks.v;
    return (recite_match){m->first,
                          qt[m->q0].start,
                          qt[m->q0 + m->len - 1].end,
                          m->src_start,
                          m->src_end,
                          m->s0,
                          m->len,
                          m->kind,
                          m->similarity,
                          m->common,
                          m->channel == RC_CH_PROSE ? RECITE_MODE_PROSE : RECITE_MODE_CODE,
                          0,
                          0};
}

int rc_matcher_finish(rc_matcher *c, recite_error *err)
{
    if (c->finished)
        rc_matcher_reset(c); /* finish without feed: an empty text */
    int rc = rc_matcher_tokenize(c, true);
    if (rc != RECITE_OK)
        return rc_error_set(err, rc, "%s", rc_matcher_tokenize_error(rc));
    uint64_t t0 = rc_phase_start(c);
    if ((rc = rc_match_select(c, err)) != RECITE_OK)
        return rc;
    rc_phase_end(c, RC_PH_SELECT, t0);
    /* Runs, their kinds, near-verbatim spans (a sharded index: shards in parallel threads). */
    if ((rc = rc_match_verify(c, err)) != RECITE_OK)
        return rc;
    t0 = rc_phase_start(c);
    rc = rc_match_finish_runs(c, err);
    rc_phase_end(c, RC_PH_MERGE, t0);
    return rc;
}

/* Drops the runs of words that are not min_tokens long without their words on include and
 * import lines (match_imports.c). */
static int drop_import_lists(rc_matcher *c, recite_error *err)
{
    unsigned min = c->chans[RC_CH_PROSE].min_tokens;
    size_t keep = 0;
    for (size_t i = 0; i < c->raw.n; i++) {
        const rc_raw_match *m = &c->raw.v[i];
        if (m->channel == RC_CH_PROSE) {
            uint64_t imports;
            int rc = rc_match_import_words(c, m->q0, m->len, true, &imports, err);
            if (rc != RECITE_OK)
                return rc;
            if (m->len - imports < min)
                continue;
        }
        c->raw.v[keep++] = *m;
    }
    c->raw.n = keep;
    return RECITE_OK;
}

int rc_match_finish_runs(rc_matcher *c, recite_error *err)
{
    int rc = drop_import_lists(c, err);
    if (rc != RECITE_OK)
        return rc;
    drop_contained(c);
    rc = drop_covered_across_units(c, err);
    if (rc != RECITE_OK)
        return rc;
    if (c->raw.n > c->max_matches) {
        /* Keep the longest runs (ties: the library's order), then restore the (cluster,
         * position) order. */
        c->truncated = true;
        rc_sort(c->raw.v, c->raw.n, sizeof *c->raw.v, cmp_raw_longest);
        c->raw.n = c->max_matches;
        rc_sort(c->raw.v, c->raw.n, sizeof *c->raw.v, cmp_raw);
    }
    if ((rc = work_figures(c, err)) != RECITE_OK)
        return rc;
    if (RC_VEC_RESERVE(c->matches, c->raw.n) != RECITE_OK)
        return rc_error_set(err, RECITE_ENOMEM, "out of memory");
    for (size_t i = 0; i < c->raw.n; i++) {
        c->matches.v[i] = rc_match_to_public(c, &c->raw.v[i]);
        c->matches.v[i].shared_by = c->raw.v[i].common ? passage_postings(c, &c->raw.v[i]) : 0;
    }
    c->matches.n = c->raw.n;
    rc_sort(c->matches.v, c->matches.n, sizeof *c->matches.v, rc_match_cmp_public);
    group_passages(c);

    c->result = (recite_result){c->streams[0].toks.n, c->text.n,
                                c->matches.v,         c->matches.n,
                                c->works.v,           c->works.n,
                                c->truncated,         rc_utf8_count_invalid(c->text.v, c->text.n),
                                c->common_others,     c->streams[1].toks.n,
                                c->idx->text_free};
    /* The result and the text stay readable until the next feed starts a new text. */
    c->finished = true;
    return RECITE_OK;
}

int rc_matcher_check(const recite_result **out, rc_matcher *c, const char *text, size_t len,
                     recite_error *err)
{
    *out = NULL;
    rc_matcher_reset(c);
    int rc = rc_matcher_feed(c, text, len, err);
    if (rc == RECITE_OK)
        rc = rc_matcher_finish(c, err);
    if (rc == RECITE_OK)
        *out = &c->result;
    return rc;
}

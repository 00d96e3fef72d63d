/*
 * checker.c — the matcher. Text arrives by feed() in any pieces; complete tokens are hashed
 * and every k-gram is looked up in the index as soon as it exists (seeds: output token q,
 * global source token g). finish() groups seeds by diagonal (g - q), extends each group to its
 * maximal run of equal tokens against the stored text (never trusting a hash), keeps runs of
 * at least min_tokens, classifies them (exact / normalized / near-punctuation), removes runs
 * contained in another run of the same work, and computes per-work coverage.
 */
#include "../fingerprint/rc_fingerprint.h"
#include "../index/rc_index.h"

#include <stdlib.h>

#define DEFAULT_MAX_MATCHES 10000u
#define DEFAULT_MAX_POSTINGS 100000u
#define MAX_COMPARE_STEPS (64u << 20) /* token comparisons per check before `truncated` */
#define SIG_CAP 256

typedef struct seed {
    uint64_t gpos; /* global token number in the index */
    uint32_t q;    /* token number in the checked text */
} seed;

typedef struct raw_match {
    uint32_t cluster;
    uint32_t q0, len;
    uint64_t s0; /* local token number in the cluster */
    uint64_t src_start, src_end;
} raw_match;

struct recite_checker {
    const recite_index *idx;
    unsigned min_tokens;
    uint32_t max_matches, max_postings;

    rc_tokenizer tz;
    rc_text_reader reader;
    rc_source_window sw;

    /* the stream */
    RC_VEC(uint8_t) text;
    rc_tok_state st;
    RC_VEC(rc_token) toks;
    size_t looked_up; /* k-grams looked up so far */
    RC_VEC(seed) seeds;
    bool truncated;
    bool finished; /* finish() ran: the next feed starts a new text */
    uint64_t steps;

    /* results */
    RC_VEC(raw_match) raw;
    RC_VEC(recite_match) matches;
    RC_VEC(recite_work_hit) works;
    RC_VEC(uint8_t) srcbuf;
    recite_result result;
    uint8_t sig_a[SIG_CAP], sig_b[SIG_CAP];
};

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
    unsigned guarantee = idx->kgram + idx->window - 1;
    unsigned min_tokens = opt->min_tokens ? opt->min_tokens : guarantee;
    if (min_tokens < guarantee)
        return rc_error_set(err, RECITE_EINVAL,
                            "--min-tokens %u is below this index's guarantee of %u tokens: "
                            "shorter spans could be missed; rebuild the index with "
                            "`recite index --min-tokens %u`",
                            min_tokens, guarantee, min_tokens);
    recite_checker *c = calloc(1, sizeof *c);
    if (!c)
        return rc_error_set(err, RECITE_ENOMEM, "out of memory");
    c->idx = idx;
    c->min_tokens = min_tokens;
    c->max_matches = opt->max_matches ? opt->max_matches : DEFAULT_MAX_MATCHES;
    c->max_postings = opt->max_postings ? opt->max_postings : DEFAULT_MAX_POSTINGS;
    if (rc_text_reader_init(&c->reader, idx) != RECITE_OK) {
        free(c);
        return rc_error_set(err, RECITE_ENOMEM, "out of memory");
    }
    c->st = (rc_tok_state){0, true};
    *out = c;
    return RECITE_OK;
}

void recite_checker_free(recite_checker *c)
{
    if (!c)
        return;
    rc_text_reader_free(&c->reader);
    rc_source_window_free(&c->sw);
    RC_VEC_FREE(c->text);
    RC_VEC_FREE(c->toks);
    RC_VEC_FREE(c->seeds);
    RC_VEC_FREE(c->raw);
    RC_VEC_FREE(c->matches);
    RC_VEC_FREE(c->works);
    RC_VEC_FREE(c->srcbuf);
    free(c);
}

void recite_checker_reset(recite_checker *c)
{
    c->text.n = 0;
    c->toks.n = 0;
    c->seeds.n = 0;
    c->raw.n = 0;
    c->matches.n = 0;
    c->works.n = 0;
    c->looked_up = 0;
    c->truncated = false;
    c->finished = false;
    c->steps = 0;
    c->st = (rc_tok_state){0, true};
    memset(&c->result, 0, sizeof c->result);
}

const char *recite_checker_text(const recite_checker *c, size_t *len)
{
    *len = c->text.n;
    return (const char *)c->text.v;
}

/* ==== tokens and seeds ==== */

static int lookup_kgrams(recite_checker *c)
{
    const recite_index *idx = c->idx;
    unsigned k = idx->kgram;
    const uint8_t *rem = idx->sec[RC_SEC_POST_REM].data;
    const uint8_t *pos = idx->sec[RC_SEC_POST_POS].data;
    uint64_t hs[RC_KGRAM_MAX];
    while (c->looked_up + k <= c->toks.n) {
        size_t q = c->looked_up++;
        for (unsigned j = 0; j < k; j++)
            hs[j] = c->toks.v[q + j].hash;
        uint64_t h = rc_kgram_hash(hs, k);
        uint64_t first, end;
        rc_index_bucket(idx, h, &first, &end);
        uint16_t want = rc_posting_rem(h, idx->bucket_bits);
        for (uint64_t i = first; i < end; i++) {
            if (rc_get_u16(rem + 2 * i) != want)
                continue;
            if (c->seeds.n >= c->max_postings) {
                c->truncated = true;
                break;
            }
            seed s = {rc_get_u32(pos + 4 * i), (uint32_t)q};
            if (RC_VEC_PUSH(c->seeds, s) != RECITE_OK)
                return RECITE_ENOMEM;
        }
    }
    return RECITE_OK;
}

static int tokenize_more(recite_checker *c, bool final)
{
    for (;;) {
        if (RC_VEC_RESERVE(c->toks, c->toks.n + 1024) != RECITE_OK)
            return RECITE_ENOMEM;
        size_t n = rc_tokenize_prose(&c->tz, c->text.v, c->text.n, final, &c->st,
                                     c->toks.v + c->toks.n, 1024);
        c->toks.n += n;
        if (c->toks.n > UINT32_MAX - 1024)
            return RECITE_ELIMIT;
        if (n < 1024)
            break;
    }
    return lookup_kgrams(c);
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

/* ==== extension against the stored text ==== */

/* Source token t of cluster cl. The window grows geometrically ahead of an extension going
 * right and is reloaded from an earlier checkpoint for one going left, so a run of n tokens
 * costs O(n) tokenizing; most seeds (chance k-grams, short boilerplate) need only a few dozen. */
static int src_tok(recite_checker *c, uint32_t cl, uint64_t t, bool ahead, const rc_token **out,
                   recite_error *err)
{
    rc_source_window *sw = &c->sw;
    int rc = RECITE_OK;
    if (!sw->valid || sw->cluster != cl || t < sw->t_from || t > sw->t_to + 256) {
        uint64_t back = ahead ? 16 : 256;
        rc = rc_source_window_load(&c->reader, &c->tz, sw, cl, t > back ? t - back : 0,
                                   t + (ahead ? 64 : 16), err);
    } else if (t >= sw->t_to) {
        uint64_t held = sw->t_to - sw->t_from;
        rc = rc_source_window_grow(&c->reader, &c->tz, sw, t + RC_MAX(held, (uint64_t)64), err);
    }
    if (rc != RECITE_OK)
        return rc;
    if (t < sw->t_from || t >= sw->t_to)
        return rc_error_set(err, RECITE_EFORMAT, "corrupt index (token out of range)");
    *out = &sw->toks.v[t - sw->t_from];
    return RECITE_OK;
}

static int extend(recite_checker *c, uint32_t cl, const rc_cluster *info, uint32_t q, uint64_t s,
                  raw_match *m, recite_error *err)
{
    const rc_token *t;
    int rc;
    uint64_t nq = c->toks.n;
    uint64_t right = 0, left = 0;
    while (q + right < nq && s + right < info->ntokens) {
        if ((rc = src_tok(c, cl, s + right, true, &t, err)) != RECITE_OK)
            return rc;
        if (t->hash != c->toks.v[q + right].hash)
            break;
        right++;
    }
    uint64_t end_byte = 0;
    if (right) {
        if ((rc = src_tok(c, cl, s + right - 1, false, &t, err)) != RECITE_OK)
            return rc;
        end_byte = t->end;
    }
    while (left < q && left < s) {
        if ((rc = src_tok(c, cl, s - left - 1, false, &t, err)) != RECITE_OK)
            return rc;
        if (t->hash != c->toks.v[q - left - 1].hash)
            break;
        left++;
    }
    c->steps += left + right + 1;
    m->cluster = cl;
    m->q0 = (uint32_t)(q - left);
    m->len = (uint32_t)(left + right);
    m->s0 = s - left;
    if (m->len == 0)
        return RECITE_OK;
    if ((rc = src_tok(c, cl, m->s0, true, &t, err)) != RECITE_OK)
        return rc;
    m->src_start = t->start;
    if (!right) {
        if ((rc = src_tok(c, cl, m->s0 + m->len - 1, false, &t, err)) != RECITE_OK)
            return rc;
        end_byte = t->end;
    }
    m->src_end = end_byte;
    return RECITE_OK;
}

static int cmp_seed(const void *a, const void *b)
{
    const seed *x = a, *y = b;
    int64_t dx = (int64_t)x->gpos - (int64_t)x->q, dy = (int64_t)y->gpos - (int64_t)y->q;
    if (dx != dy)
        return dx < dy ? -1 : 1;
    return (x->q > y->q) - (x->q < y->q);
}

static int find_runs(recite_checker *c, recite_error *err)
{
    qsort(c->seeds.v, c->seeds.n, sizeof *c->seeds.v, cmp_seed);
    rc_cluster info = {0};
    uint32_t cl = UINT32_MAX;
    size_t i = 0;
    while (i < c->seeds.n) {
        int64_t diag = (int64_t)c->seeds.v[i].gpos - (int64_t)c->seeds.v[i].q;
        uint64_t covered = 0; /* output tokens below this are inside a run on this diagonal */
        for (; i < c->seeds.n && (int64_t)c->seeds.v[i].gpos - (int64_t)c->seeds.v[i].q == diag;
             i++) {
            const seed *sd = &c->seeds.v[i];
            if (sd->q < covered)
                continue;
            if (c->steps > MAX_COMPARE_STEPS || c->raw.n >= (size_t)c->max_matches * 4) {
                c->truncated = true;
                return RECITE_OK;
            }
            if (cl == UINT32_MAX || sd->gpos < info.token_base ||
                sd->gpos >= info.token_base + info.ntokens) {
                cl = rc_index_cluster_of_token(c->idx, sd->gpos);
                rc_index_cluster(c->idx, cl, &info);
            }
            raw_match m;
            int rc = extend(c, cl, &info, sd->q, sd->gpos - info.token_base, &m, err);
            if (rc != RECITE_OK)
                return rc;
            covered = (uint64_t)sd->q + 1;
            if (m.q0 + m.len > covered)
                covered = m.q0 + m.len;
            if (m.len >= c->min_tokens && RC_VEC_PUSH(c->raw, m) != RECITE_OK)
                return rc_error_set(err, RECITE_ENOMEM, "out of memory");
        }
    }
    return RECITE_OK;
}

/* ==== classification ==== */

/* Compares the punctuation of the two spans token by token; returns how many tokens differ. */
static int punct_diffs(recite_checker *c, const raw_match *m, const uint8_t *src, uint64_t src_base,
                       uint64_t *diffs, recite_error *err)
{
    *diffs = 0;
    const rc_token *st, *st_next;
    for (uint32_t i = 0; i < m->len; i++) {
        const rc_token *ot = &c->toks.v[m->q0 + i];
        uint64_t o_end = i + 1 < m->len ? c->toks.v[m->q0 + i + 1].start : ot->end;
        int rc = src_tok(c, m->cluster, m->s0 + i, true, &st, err);
        if (rc != RECITE_OK)
            return rc;
        uint64_t s_start = st->start, s_end = st->end;
        if (i + 1 < m->len) {
            if ((rc = src_tok(c, m->cluster, m->s0 + i + 1, true, &st_next, err)) != RECITE_OK)
                return rc;
            s_end = st_next->start;
        }
        size_t na = rc_punct_signature(c->text.v, c->text.n, ot->start, o_end, c->sig_a, SIG_CAP);
        size_t nb = rc_punct_signature(src, (size_t)(m->src_end - src_base),
                                       (size_t)(s_start - src_base), (size_t)(s_end - src_base),
                                       c->sig_b, SIG_CAP);
        if (na != nb || memcmp(c->sig_a, c->sig_b, na) != 0)
            (*diffs)++;
    }
    return RECITE_OK;
}

static int classify_match(recite_checker *c, const raw_match *m, recite_match *out,
                          recite_error *err)
{
    rc_cluster info;
    rc_index_cluster(c->idx, m->cluster, &info);
    const uint32_t *members = (const uint32_t *)(const void *)(c->idx->sec[RC_SEC_MEMBERS].data +
                                                               4 * (uint64_t)info.member0);
    out->work = members[0];
    out->out_start = c->toks.v[m->q0].start;
    out->out_end = c->toks.v[m->q0 + m->len - 1].end;
    out->src_start = m->src_start;
    out->src_end = m->src_end;
    out->src_token = m->s0;
    out->tokens = m->len;
    out->common = 0;
    out->similarity = 1.0;

    uint64_t slen = m->src_end - m->src_start;
    if (RC_VEC_RESERVE(c->srcbuf, slen + 1) != RECITE_OK)
        return rc_error_set(err, RECITE_ENOMEM, "out of memory");
    int rc = rc_text_read(&c->reader, info.text_offset + m->src_start, info.text_offset + m->src_end,
                          c->srcbuf.v, err);
    if (rc != RECITE_OK)
        return rc;
    if (slen == out->out_end - out->out_start &&
        memcmp(c->srcbuf.v, c->text.v + out->out_start, slen) == 0) {
        out->kind = RECITE_KIND_EXACT;
        return RECITE_OK;
    }
    uint64_t diffs;
    if ((rc = punct_diffs(c, m, c->srcbuf.v, m->src_start, &diffs, err)) != RECITE_OK)
        return rc;
    if (diffs == 0) {
        out->kind = RECITE_KIND_NORMALIZED;
    } else {
        out->kind = RECITE_KIND_NEAR;
        out->similarity = (double)m->len / (double)(m->len + diffs);
    }
    return RECITE_OK;
}

/* ==== merging and per-work figures ==== */

static int cmp_raw(const void *a, const void *b)
{
    const raw_match *x = a, *y = b;
    if (x->cluster != y->cluster)
        return x->cluster < y->cluster ? -1 : 1;
    if (x->q0 != y->q0)
        return x->q0 < y->q0 ? -1 : 1;
    if (x->len != y->len)
        return x->len > y->len ? -1 : 1; /* longest first */
    return (x->s0 > y->s0) - (x->s0 < y->s0);
}

static int cmp_raw_longest(const void *a, const void *b)
{
    const raw_match *x = a, *y = b;
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
    qsort(c->raw.v, c->raw.n, sizeof *c->raw.v, cmp_raw);
    size_t keep = 0;
    uint32_t cl = UINT32_MAX;
    uint64_t reach = 0;
    for (size_t i = 0; i < c->raw.n; i++) {
        raw_match m = c->raw.v[i];
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

static int work_figures(recite_checker *c, recite_error *err)
{
    /* raw is sorted by cluster: one pass per cluster. */
    RC_VEC(interval) ivs = {0};
    size_t i = 0;
    int rc = RECITE_OK;
    while (i < c->raw.n) {
        uint32_t cl = c->raw.v[i].cluster;
        ivs.n = 0;
        uint32_t longest = 0, count = 0;
        for (; i < c->raw.n && c->raw.v[i].cluster == cl; i++) {
            const raw_match *m = &c->raw.v[i];
            if (RC_VEC_PUSH(ivs, ((interval){m->s0, m->s0 + m->len})) != RECITE_OK) {
                rc = rc_error_set(err, RECITE_ENOMEM, "out of memory");
                goto done;
            }
            longest = RC_MAX(longest, m->len);
            count++;
        }
        qsort(ivs.v, ivs.n, sizeof *ivs.v, cmp_interval);
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
        const uint32_t *members = (const uint32_t *)(const void *)(c->idx->sec[RC_SEC_MEMBERS].data +
                                                                   4 * (uint64_t)info.member0);
        recite_work_hit h = {members[0], count, covered, longest,
                             info.ntokens ? (double)covered / (double)info.ntokens : 0.0};
        if (RC_VEC_PUSH(c->works, h) != RECITE_OK) {
            rc = rc_error_set(err, RECITE_ENOMEM, "out of memory");
            goto done;
        }
    }
    qsort(c->works.v, c->works.n, sizeof *c->works.v, cmp_hit);
done:
    RC_VEC_FREE(ivs);
    return rc;
}

int recite_checker_finish(recite_checker *c, const recite_result **out, recite_error *err)
{
    *out = NULL;
    if (c->finished)
        recite_checker_reset(c); /* finish without feed: an empty text */
    int rc = tokenize_more(c, true);
    if (rc != RECITE_OK)
        return rc_error_set(err, rc, rc == RECITE_ELIMIT ? "text too long" : "out of memory");
    if ((rc = find_runs(c, err)) != RECITE_OK)
        return rc;
    drop_contained(c);
    if (c->raw.n > c->max_matches) {
        /* Keep the longest runs, then restore the (cluster, position) order. */
        c->truncated = true;
        qsort(c->raw.v, c->raw.n, sizeof *c->raw.v, cmp_raw_longest);
        c->raw.n = c->max_matches;
        qsort(c->raw.v, c->raw.n, sizeof *c->raw.v, cmp_raw);
    }
    if ((rc = work_figures(c, err)) != RECITE_OK)
        return rc;
    if (RC_VEC_RESERVE(c->matches, c->raw.n) != RECITE_OK)
        return rc_error_set(err, RECITE_ENOMEM, "out of memory");
    for (size_t i = 0; i < c->raw.n; i++) {
        if ((rc = classify_match(c, &c->raw.v[i], &c->matches.v[i], err)) != RECITE_OK)
            return rc;
    }
    c->matches.n = c->raw.n;
    qsort(c->matches.v, c->matches.n, sizeof *c->matches.v, cmp_match);

    c->result = (recite_result){c->toks.n, c->text.n, c->matches.v, c->matches.n, c->works.v,
                                c->works.n, c->truncated, rc_utf8_count_invalid(c->text.v, c->text.n)};
    /* The result and the text stay readable until the next feed starts a new text. */
    c->finished = true;
    *out = &c->result;
    return RECITE_OK;
}

int recite_check_text(recite_checker *c, const char *text, size_t len, const recite_result **out,
                      recite_error *err)
{
    recite_checker_reset(c);
    int rc = recite_checker_feed(c, text, len, err);
    if (rc != RECITE_OK)
        return rc;
    return recite_checker_finish(c, out, err);
}

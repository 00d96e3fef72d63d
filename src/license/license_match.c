/*
 * license_match.c — the cheap comparison of a text with the license texts: an exact vote of the
 * text's k-grams against the license index's postings (the core matcher's lookup, nothing
 * verified), then, for the few licenses with the most votes, a token comparison of the text with
 * each license text (tokenized once per license matcher, or once per build for the matchers of
 * its workers: rc_license_shared): which words of the text the license explains, and which words
 * of the license the text lacks, holder names and titles aside (the SPDX matching guidelines'
 * replaceable text). license_identify.c decides from these.
 */
#include "rc_license.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <xxhash.h>

#define K 3             /* tokens of a k-gram of the comparison */
#define CHAIN_MAX 64    /* positions of one k-gram looked at in a license text */
#define TITLE_TOKENS 12 /* a first line this short is the license's title */
#define VOTE_SHARE 0.2  /* candidates have this share of the best one's votes at least */
#define MIN_VOTES 2     /* ... and this many (one shared k-gram is chance) */
#define JUMP 8          /* a k-gram this far off the text's diagonal is out of order */
/* Bytes of tokenized license texts a matcher keeps (and of the license index's blocks read for
 * them): past it, they are all dropped and made again as needed. A build runs one matcher per
 * worker; the whole library of license texts would take about 13 MB in each. */
#define TEXT_CACHE_MAX (2u << 20)

/* One license text, tokenized: word hashes, replaceable words flagged, a k-gram table. */
typedef struct lic_text {
    uint64_t *tok;
    uint8_t *repl;  /* holder names, titles: not missed when absent */
    uint32_t n;     /* tokens */
    uint32_t fixed; /* tokens that are not replaceable */
    uint32_t *head; /* k-gram hash bucket -> first position + 1 (0 = none) */
    uint32_t *next; /* position -> next position + 1 with the same bucket */
    uint32_t mask;
} lic_text;

struct rc_license_shared {
    const recite_index *lic;
    lic_text *_Atomic *texts; /* per cluster, published once made */
    atomic_size_t bytes;      /* of the texts published */
    size_t max_bytes;
    uint32_t nclusters;
};

struct rc_license_matcher {
    const recite_index *lic;
    rc_license_shared *shared; /* or NULL */
    rc_matcher *m;             /* tokenizes the text and looks its k-grams up */
    rc_store_reader reader;
    rc_tokenizer tz;
    lic_text **texts; /* per cluster, made on first use */
    uint32_t nclusters;
    uint32_t *votes, *last_q; /* per cluster */
    RC_VEC(uint32_t) touched;
    RC_VEC(uint64_t) keys;
    RC_VEC(uint8_t) lcov; /* scratch: covered tokens of one license text */
    RC_VEC(uint8_t) buf;  /* scratch: a license text's bytes */
    RC_VEC(rc_token) toks;
    RC_VEC(uint8_t) qrepl; /* per token of the text looked up: a replaceable word */
    uint64_t repl_words[48];
    unsigned nrepl;
    unsigned max_cands; /* candidates compared (0: as many as asked) */
    uint64_t *ids;      /* hashes of the license ids of the license index (open addressing) */
    size_t nids;        /* slots, a power of two */
    size_t cached;      /* bytes of the tokenized texts in `texts` */
    /* The first token of each cluster, and the index's token count after them, made on the
     * first vote (NULL: the index's own lookup, rc_index_cluster_of_token). */
    uint64_t *bases;
    bool bases_tried;
};

/* Words a license text may have in place of a holder's name ("THE AUTHOR", "the Regents of the
 * University of California", "<copyright holder>"): missing from a text, they count for nothing. */
static const char replaceable[] =
    "copyright holder holders owner owners contributor contributors author authors the and or "
    "its their his her regents university california of by name names organization "
    "organisation company project developers developer foundation year inc";

static uint64_t kgram_hash(const uint64_t *t)
{
    uint64_t h = t[0] * 0x9e3779b97f4a7c15ULL;
    h ^= (t[1] << 21 | t[1] >> 43) * 0xc2b2ae3d27d4eb4fULL;
    h ^= (t[2] << 42 | t[2] >> 22) * 0x165667b19e3779f9ULL;
    return h ^ h >> 29;
}

static bool is_replaceable(const rc_license_matcher *lm, uint64_t h)
{
    unsigned lo = 0, hi = lm->nrepl; /* repl_words is sorted */
    while (lo < hi) {
        unsigned mid = (lo + hi) / 2;
        if (lm->repl_words[mid] == h)
            return true;
        if (lm->repl_words[mid] < h)
            lo = mid + 1;
        else
            hi = mid;
    }
    return false;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

static int collect_ids(rc_license_matcher *lm);

/* Tokenizes s[0, len) as prose into lm->toks. */
static int tokenize(rc_license_matcher *lm, const uint8_t *s, size_t len)
{
    lm->toks.n = 0;
    rc_tok_state st = {0, true};
    for (;;) {
        if (RC_VEC_RESERVE(lm->toks, lm->toks.n + 1024) != RECITE_OK)
            return RECITE_ENOMEM;
        size_t n = rc_tokenize_prose(&lm->tz, s, len, true, &st, lm->toks.v + lm->toks.n, 1024);
        lm->toks.n += n;
        if (n < 1024)
            return lm->toks.n > UINT32_MAX / 2 ? RECITE_ELIMIT : RECITE_OK;
    }
}

int rc_license_matcher_create(rc_license_matcher **out, const recite_index *lic, recite_error *err)
{
    *out = NULL;
    rc_license_matcher *lm = calloc(1, sizeof *lm);
    if (!lm)
        return rc_error_set(err, RECITE_ENOMEM, "out of memory");
    lm->lic = lic;
    lm->nclusters = (uint32_t)lic->nclusters;
    recite_check_options opt = RECITE_CHECK_OPTIONS_INIT;
    opt.all_works = 1;  /* every posting of a k-gram votes */
    opt.exact_only = 1; /* seeds only: nothing is aligned */
    int rc = rc_matcher_create(&lm->m, lic, &opt, err);
    if (rc != RECITE_OK) {
        free(lm);
        return rc;
    }
    lm->texts = calloc(lm->nclusters + 1, sizeof *lm->texts);
    lm->votes = calloc(lm->nclusters + 1, sizeof *lm->votes);
    lm->last_q = calloc(lm->nclusters + 1, sizeof *lm->last_q);
    if (!lm->texts || !lm->votes || !lm->last_q ||
        rc_store_reader_init(&lm->reader, lic) != RECITE_OK ||
        tokenize(lm, (const uint8_t *)replaceable, strlen(replaceable)) != RECITE_OK) {
        rc_license_matcher_free(lm);
        return rc_error_set(err, RECITE_ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < lm->toks.n && lm->nrepl < RC_ARRAY_LEN(lm->repl_words); i++)
        lm->repl_words[lm->nrepl++] = lm->toks.v[i].hash;
    rc_sort(lm->repl_words, lm->nrepl, sizeof *lm->repl_words, cmp_u64);
    if (collect_ids(lm) != RECITE_OK) {
        rc_license_matcher_free(lm);
        return rc_error_set(err, RECITE_ENOMEM, "out of memory");
    }
    *out = lm;
    return RECITE_OK;
}

/* ==== the ids the license texts carry ==== */

static uint64_t id_hash(const char *id, size_t n)
{
    return XXH3_64bits(id, n) | 1; /* 0 marks a free slot */
}

static void id_put(rc_license_matcher *lm, uint64_t h)
{
    size_t i = h & (lm->nids - 1);
    while (lm->ids[i] && lm->ids[i] != h)
        i = (i + 1) & (lm->nids - 1);
    lm->ids[i] = h;
}

/* The license ids of the license index's works ("GPL-2.0-only WITH Classpath-exception-2.0"
 * gives GPL-2.0-only), as a set of their hashes. */
static int collect_ids(rc_license_matcher *lm)
{
    uint32_t nw = recite_index_work_count(lm->lic);
    lm->nids = 64;
    while (lm->nids < 4 * (size_t)nw)
        lm->nids *= 2;
    lm->ids = calloc(lm->nids, sizeof *lm->ids);
    if (!lm->ids)
        return RECITE_ENOMEM;
    for (uint32_t w = 0; w < nw; w++) {
        recite_work_info wi;
        if (recite_index_work(&wi, lm->lic, w) != RECITE_OK)
            continue;
        const char *l = wi.license ? wi.license : wi.id;
        char t[64];
        for (size_t i = 0; rc_license_term(l, i, t, sizeof t); i++)
            id_put(lm, id_hash(t, strlen(t)));
    }
    return RECITE_OK;
}

static bool have_id(const rc_license_matcher *lm, const char *id, size_t n)
{
    uint64_t h = id_hash(id, n);
    for (size_t i = h & (lm->nids - 1); lm->ids[i]; i = (i + 1) & (lm->nids - 1))
        if (lm->ids[i] == h)
            return true;
    return false;
}

bool rc_license_known(const rc_license_matcher *lm, const char *id, size_t n)
{
    char buf[96];
    if (n == 0 || n + 8 >= sizeof buf)
        return false;
    if (have_id(lm, id, n))
        return true;
    /* "-or-later" ids: the text is the "-only" one's */
    if (n > 9 && strncmp(id + n - 9, "-or-later", 9) == 0) {
        snprintf(buf, sizeof buf, "%.*s-only", (int)(n - 9), id);
        return have_id(lm, buf, strlen(buf));
    }
    return false;
}

const recite_index *rc_license_index(const rc_license_matcher *lm)
{
    return lm->lic;
}

static void text_free(lic_text *t)
{
    if (!t)
        return;
    free(t->tok);
    free(t->repl);
    free(t->head);
    free(t->next);
    free(t);
}

void rc_license_matcher_free(rc_license_matcher *lm)
{
    if (!lm)
        return;
    for (uint32_t i = 0; lm->texts && i < lm->nclusters; i++)
        text_free(lm->texts[i]);
    free(lm->texts);
    free(lm->ids);
    free(lm->votes);
    free(lm->last_q);
    free(lm->bases);
    RC_VEC_FREE(lm->touched);
    RC_VEC_FREE(lm->keys);
    RC_VEC_FREE(lm->lcov);
    RC_VEC_FREE(lm->buf);
    RC_VEC_FREE(lm->toks);
    RC_VEC_FREE(lm->qrepl);
    rc_store_reader_free(&lm->reader);
    rc_matcher_free(lm->m);
    free(lm);
}

/* Drops every tokenized text and the blocks read for them (a pointer from text_of is valid
 * until the next call). */
static int drop_texts(rc_license_matcher *lm)
{
    for (uint32_t i = 0; i < lm->nclusters; i++) {
        text_free(lm->texts[i]);
        lm->texts[i] = NULL;
    }
    rc_store_reader_free(&lm->reader);
    if (rc_store_reader_init(&lm->reader, lm->lic) != RECITE_OK) {
        lm->cached = SIZE_MAX; /* no reader: the next call tries again */
        return RECITE_ENOMEM;
    }
    lm->cached = 0;
    return RECITE_OK;
}

/* Bytes a tokenized text takes. */
static size_t text_bytes(const lic_text *t)
{
    return (size_t)t->n * (sizeof *t->tok + 1 + sizeof *t->next) +
           ((size_t)t->mask + 1) * sizeof *t->head + sizeof *t;
}

/* A cluster's license text, tokenized (its bytes read through lm's reader) into *out. */
static int make_text(rc_license_matcher *lm, const rc_cluster *info, lic_text **out,
                     recite_error *err)
{
    if (RC_VEC_RESERVE(lm->buf, info->text_len + 1) != RECITE_OK)
        return rc_error_set(err, RECITE_ENOMEM, "out of memory");
    int rc = rc_store_read(&lm->reader, info->text_offset, info->text_offset + info->text_len,
                           lm->buf.v, err);
    if (rc != RECITE_OK)
        return rc;
    if ((rc = tokenize(lm, lm->buf.v, info->text_len)) != RECITE_OK)
        return rc_error_set(err, rc, "license text too long");
    lic_text *t = calloc(1, sizeof *t);
    uint32_t n = (uint32_t)lm->toks.n, buckets = 16;
    while (buckets < 2 * n)
        buckets *= 2;
    if (t) {
        t->n = n;
        t->mask = buckets - 1;
        t->tok = malloc((n + 1) * sizeof *t->tok);
        t->repl = malloc(n + 1);
        t->head = calloc(buckets, sizeof *t->head);
        t->next = calloc(n + 1, sizeof *t->next);
    }
    if (!t || !t->tok || !t->repl || !t->head || !t->next) {
        text_free(t);
        return rc_error_set(err, RECITE_ENOMEM, "out of memory");
    }
    /* The title: a short first line ("MIT License", "Eclipse Public License - v 1.0"). */
    const uint8_t *s = lm->buf.v;
    size_t a = 0;
    while (a < info->text_len && (s[a] == '\n' || s[a] == ' ' || s[a] == '\r' || s[a] == '\t'))
        a++;
    const uint8_t *nl = memchr(s + a, '\n', info->text_len - a);
    uint64_t title_end = nl ? (uint64_t)(nl - s) : info->text_len;
    uint32_t title_toks = 0;
    while (title_toks < n && lm->toks.v[title_toks].start < title_end)
        title_toks++;
    if (title_toks > TITLE_TOKENS)
        title_toks = 0;
    for (uint32_t i = 0; i < n; i++) {
        t->tok[i] = lm->toks.v[i].hash;
        t->repl[i] = i < title_toks || is_replaceable(lm, t->tok[i]);
        t->fixed += !t->repl[i];
    }
    /* Positions chained in increasing order per bucket. */
    for (uint32_t i = n >= K ? n - K + 1 : 0; i-- > 0;) {
        uint32_t b = (uint32_t)kgram_hash(t->tok + i) & t->mask;
        t->next[i] = t->head[b];
        t->head[b] = i + 1;
    }
    *out = t;
    return RECITE_OK;
}

/* The tokens of cluster cl's license text: the shared one, else this matcher's own (tokenized on
 * first use). A text made here goes to the shared texts while they have room (of two matchers
 * making the same text at once, the first published is kept), else to this matcher's. */
static int text_of(rc_license_matcher *lm, uint32_t cl, const lic_text **out, recite_error *err)
{
    rc_license_shared *sh = lm->shared;
    lic_text *t = sh ? atomic_load_explicit(&sh->texts[cl], memory_order_acquire) : NULL;
    if (!t)
        t = lm->texts[cl];
    if (t) {
        *out = t;
        return RECITE_OK;
    }
    rc_cluster info;
    rc_index_cluster(lm->lic, cl, &info);
    if (lm->cached > TEXT_CACHE_MAX && drop_texts(lm) != RECITE_OK)
        return rc_error_set(err, RECITE_ENOMEM, "out of memory");
    int rc = make_text(lm, &info, &t, err);
    if (rc != RECITE_OK)
        return rc;
    size_t size = text_bytes(t);
    if (sh && atomic_fetch_add(&sh->bytes, size) + size <= sh->max_bytes) {
        lic_text *none = NULL;
        if (atomic_compare_exchange_strong_explicit(&sh->texts[cl], &none, t, memory_order_acq_rel,
                                                    memory_order_acquire)) {
            *out = t;
            return RECITE_OK;
        }
        atomic_fetch_sub(&sh->bytes, size); /* made by another at the same time: theirs */
        text_free(t);
        *out = none;
        return RECITE_OK;
    }
    if (sh)
        atomic_fetch_sub(&sh->bytes, size);
    lm->texts[cl] = t;
    lm->cached += size + info.text_len; /* and its blocks */
    *out = t;
    return RECITE_OK;
}

/* ==== texts shared by the matchers of a build ==== */

int rc_license_shared_create(rc_license_shared **out, const recite_index *lic, size_t max_bytes)
{
    *out = NULL;
    rc_license_shared *sh = calloc(1, sizeof *sh);
    if (!sh)
        return RECITE_ENOMEM;
    sh->lic = lic;
    sh->nclusters = (uint32_t)lic->nclusters;
    sh->max_bytes = max_bytes;
    atomic_init(&sh->bytes, 0);
    if (!(sh->texts = calloc(sh->nclusters + 1, sizeof *sh->texts))) {
        free(sh);
        return RECITE_ENOMEM;
    }
    for (uint32_t i = 0; i <= sh->nclusters; i++)
        atomic_init(&sh->texts[i], NULL);
    *out = sh;
    return RECITE_OK;
}

void rc_license_shared_free(rc_license_shared *sh)
{
    if (!sh)
        return;
    for (uint32_t i = 0; i <= sh->nclusters; i++)
        text_free(atomic_load(&sh->texts[i]));
    free((void *)sh->texts);
    free(sh);
}

void rc_license_matcher_share(rc_license_matcher *lm, rc_license_shared *sh)
{
    if (lm && sh && sh->lic == lm->lic)
        lm->shared = sh;
}

/* ==== the vote ==== */

/* (votes << 32 | ~cluster) sorts by votes, then by cluster number, descending numerically. */
static int cmp_vote_key(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x < y) - (x > y);
}

int rc_license_lookup(rc_license_matcher *lm, const char *text, size_t len, recite_error *err)
{
    rc_matcher_reset(lm->m);
    int rc = rc_matcher_feed(lm->m, text, len, err);
    if (rc != RECITE_OK)
        return rc;
    if ((rc = rc_matcher_tokenize(lm->m, true)) != RECITE_OK)
        return rc_error_set(err, rc, "out of memory");
    /* Which of its words are replaceable, once for all the comparisons. */
    size_t nq;
    const rc_token *q = rc_license_tokens(lm, &nq);
    if (RC_VEC_RESERVE(lm->qrepl, nq + 1) != RECITE_OK)
        return rc_error_set(err, RECITE_ENOMEM, "out of memory");
    for (size_t i = 0; i < nq; i++)
        lm->qrepl.v[i] = is_replaceable(lm, q[i].hash);
    lm->qrepl.n = nq;
    return RECITE_OK;
}

const rc_token *rc_license_tokens(const rc_license_matcher *lm, size_t *n)
{
    *n = lm->m->streams[0].toks.n;
    return lm->m->streams[0].toks.v;
}

void rc_license_matcher_limit(rc_license_matcher *lm, unsigned candidates)
{
    lm->max_cands = candidates;
}

/* The cluster of the license index holding global token gpos. The index's own lookup checks
 * and decodes a record at every halving; the postings of one k-gram are in many licenses, so
 * the vote asks for nearly every seed (414,000 times in the 50 MB bench library's build, 1.6 %
 * of it): a table of the clusters' first tokens, made once from checked records, is searched
 * instead. A cluster without tokens has its successor's first token, so the last cluster
 * starting at or before gpos is the one holding it. */
static uint32_t cluster_of(rc_license_matcher *lm, uint64_t gpos)
{
    const recite_index *idx = lm->m->idx;
    if (!lm->bases_tried) {
        lm->bases_tried = true;
        uint64_t *b = idx->nshards ? NULL : malloc((lm->nclusters + 1) * sizeof *b);
        for (uint32_t c = 0; b && c < lm->nclusters; c++) {
            rc_cluster info;
            if (rc_index_cluster_check(idx, c, &info, NULL) != RECITE_OK ||
                (c > 0 && info.token_base < b[c - 1])) {
                free(b);
                b = NULL;
                break;
            }
            b[c] = info.token_base;
        }
        if (b)
            b[lm->nclusters] = idx->ntokens;
        lm->bases = b;
    }
    const uint64_t *b = lm->bases;
    if (!b || lm->nclusters == 0 || gpos < b[0] || gpos >= b[lm->nclusters])
        return rc_index_cluster_of_token(idx, gpos);
    uint32_t lo = 0, hi = lm->nclusters; /* b[lo] <= gpos < b[hi] */
    while (hi - lo > 1) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (b[mid] <= gpos)
            lo = mid;
        else
            hi = mid;
    }
    return lo;
}

int rc_license_vote(size_t *n_out, rc_license_matcher *lm, const uint8_t *qmask, uint32_t *out,
                    size_t cap)
{
    *n_out = 0;
    if (lm->max_cands && cap > lm->max_cands)
        cap = lm->max_cands;
    for (size_t i = 0; i < lm->touched.n; i++)
        lm->votes[lm->touched.v[i]] = 0;
    lm->touched.n = 0;
    const rc_matcher *m = lm->m;
    rc_cluster info = {0};
    uint32_t cl = UINT32_MAX;
    for (size_t i = 0; i < m->seeds.n; i++) {
        const rc_seed *s = &m->seeds.v[i];
        if (s->channel != RC_CH_PROSE || (qmask && !qmask[s->q]))
            continue;
        if (cl == UINT32_MAX || s->gpos < info.token_base ||
            s->gpos >= info.token_base + info.ntokens) {
            cl = cluster_of(lm, s->gpos);
            rc_index_cluster(m->idx, cl, &info);
        }
        if (lm->votes[cl] == 0) {
            if (RC_VEC_PUSH(lm->touched, cl) != RECITE_OK)
                return RECITE_ENOMEM;
        } else if (lm->last_q[cl] == s->q + 1) {
            continue; /* one vote per k-gram of the text */
        }
        lm->votes[cl]++;
        lm->last_q[cl] = s->q + 1;
    }
    if (RC_VEC_RESERVE(lm->keys, lm->touched.n + 1) != RECITE_OK)
        return RECITE_ENOMEM;
    for (size_t i = 0; i < lm->touched.n; i++) {
        uint32_t c = lm->touched.v[i];
        lm->keys.v[i] = (uint64_t)lm->votes[c] << 32 | (uint32_t)~c;
    }
    rc_sort(lm->keys.v, lm->touched.n, sizeof *lm->keys.v, cmp_vote_key);
    size_t n = 0;
    uint64_t top = lm->touched.n ? lm->keys.v[0] >> 32 : 0;
    for (size_t i = 0; i < lm->touched.n && n < cap; i++)
        if ((double)(lm->keys.v[i] >> 32) >= VOTE_SHARE * (double)top &&
            (lm->keys.v[i] >> 32) >= MIN_VOTES)
            out[n++] = ~(uint32_t)lm->keys.v[i];
    *n_out = n;
    return RECITE_OK;
}

/* ==== the comparison ==== */

int rc_license_compare(rc_license_matcher *lm, uint32_t cl, const uint8_t *qmask, uint8_t *qcov,
                       rc_license_fit *fit, recite_error *err)
{
    memset(fit, 0, sizeof *fit);
    fit->cluster = cl;
    const lic_text *t = NULL;
    int rc = text_of(lm, cl, &t, err);
    if (rc != RECITE_OK)
        return rc;
    size_t nq;
    const rc_token *q = rc_license_tokens(lm, &nq);
    if (RC_VEC_RESERVE(lm->lcov, t->n + 1) != RECITE_OK)
        return rc_error_set(err, RECITE_ENOMEM, "out of memory");
    uint8_t *lcov = lm->lcov.v;
    memset(lcov, 0, t->n + 1);
    memset(qcov, 0, nq + 1);
    int64_t diag = INT64_MIN; /* p - q of the last k-gram found */
    uint32_t fixed_found = 0; /* tokens of the license text found that are not replaceable */
    uint64_t h3[K];
    for (size_t i = 0; i + K <= nq; i++) {
        bool skip = false;
        for (unsigned k = 0; k < K; k++) {
            h3[k] = q[i + k].hash;
            skip |= qmask && !qmask[i + k];
        }
        if (skip)
            continue;
        uint32_t best = UINT32_MAX;
        uint64_t best_d = UINT64_MAX;
        unsigned steps = 0;
        for (uint32_t p1 = t->head[(uint32_t)kgram_hash(h3) & t->mask]; p1 && steps < CHAIN_MAX;
             p1 = t->next[p1 - 1], steps++) {
            uint32_t p = p1 - 1;
            if (t->tok[p] != h3[0] || t->tok[p + 1] != h3[1] || t->tok[p + 2] != h3[2])
                continue;
            /* Of several places, the one on the diagonal the text follows. */
            int64_t d = (int64_t)p - (int64_t)i;
            uint64_t off = diag == INT64_MIN ? 0 : (uint64_t)(d > diag ? d - diag : diag - d);
            if (off < best_d) {
                best_d = off;
                best = p;
                if (off == 0)
                    break;
            }
        }
        if (best == UINT32_MAX)
            continue;
        if (diag != INT64_MIN && best_d > JUMP)
            fit->jumps++;
        diag = (int64_t)best - (int64_t)i;
        for (unsigned k = 0; k < K; k++) {
            qcov[i + k] = 1;
            if (!lcov[best + k]) { /* counted once: the license text's words found */
                lcov[best + k] = 1;
                fit->covered++;
                fixed_found += !t->repl[best + k];
            }
        }
    }
    uint32_t first = UINT32_MAX, last = 0;
    for (size_t i = 0; i < nq; i++) {
        if (qcov[i]) {
            fit->matched++;
            first = RC_MIN(first, (uint32_t)i);
            last = (uint32_t)i;
        } else if ((!qmask || qmask[i]) && !lm->qrepl.v[i]) {
            fit->unexplained++;
        }
    }
    fit->missing = t->fixed - fixed_found;
    fit->license_tokens = t->n;
    fit->license_fixed = t->fixed;
    if (first != UINT32_MAX) {
        fit->start = q[first].start;
        fit->end = q[last].end;
    }
    return RECITE_OK;
}

/*
 * bench_fanout.c — what a fanned-out check would move over the network, measured on a sharded
 * index (docs/SCALE.md): per output, the core matcher's phases run one by one (internal API:
 * src/match/rc_match.h) and counted — k-grams looked up (and how many are common language),
 * seeds each shard gives, seeds and
 * candidate texts the selection keeps, runs the verification finds — and timed (lookups,
 * selection, verification), with the check's total time for comparison.
 *
 *   bench_fanout INDEX_DIR LIST
 *
 * LIST: output files, one a line. Every output is checked once untimed (the index's pages
 * mapped and checked), then measured. Prints one JSON object: means and p50/p99 of each count
 * and time per output, and the seeds per shard (mean, and the mean of the largest shard's
 * share).
 */
#define _POSIX_C_SOURCE 200809L
#include "bench_util.h"
#include "match/rc_match.h"

typedef struct stat_vec {
    double *v;
    size_t n;
} stat_vec;

static double mean(const stat_vec *s)
{
    double t = 0;
    for (size_t i = 0; i < s->n; i++)
        t += s->v[i];
    return s->n ? t / (double)s->n : 0;
}

static double pctl(stat_vec *s, double p)
{
    if (!s->n)
        return 0;
    qsort(s->v, s->n, sizeof *s->v, cmp_double);
    size_t i = (size_t)(p * (double)(s->n - 1) + 0.5);
    return s->v[i];
}

enum { S_BYTES, S_KGRAMS, S_COMMON, S_SEEDS, S_MAXSHARD, S_KEPT, S_CANDS, S_RAW, S_LOOKUP, S_SELECT,
       S_VERIFY, S_TOTAL, S_COUNT };
static const char *const names[S_COUNT] = {
    "bytes", "kgrams", "common_kgrams", "seeds", "seeds_largest_shard", "kept_seeds", "candidate_texts",
    "runs", "lookup_ms", "select_ms", "verify_ms", "check_ms"};

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: bench_fanout INDEX_DIR LIST\n");
        return 2;
    }
    recite_index *idx;
    recite_error err = {0};
    if (recite_index_open(&idx, argv[1], &err) != RECITE_OK) {
        fprintf(stderr, "bench_fanout: %s\n", err.message);
        return 2;
    }
    FILE *list = fopen(argv[2], "r");
    if (!list) {
        fprintf(stderr, "bench_fanout: cannot read %s\n", argv[2]);
        return 2;
    }
    rc_matcher *m, *whole;
    if (rc_matcher_create(&m, idx, NULL, &err) != RECITE_OK ||
        rc_matcher_create(&whole, idx, NULL, &err) != RECITE_OK) {
        fprintf(stderr, "bench_fanout: %s\n", err.message);
        return 2;
    }
    unsigned nshards = idx->nshards ? idx->nshards : 1;
    uint64_t *per_shard = calloc(nshards, sizeof *per_shard), *shard_sum = calloc(nshards, 8);
    stat_vec st[S_COUNT];
    size_t cap = 1024;
    for (int k = 0; k < S_COUNT; k++)
        st[k] = (stat_vec){malloc(cap * sizeof(double)), 0};
    char line[4096];
    int rc = 0;
    RC_VEC(doc) docs = {0};
    while (fgets(line, sizeof line, list)) {
        line[strcspn(line, "\n")] = 0;
        doc d;
        if (!(d.text = read_file(line, &d.len)) || RC_VEC_PUSH(docs, d) != RECITE_OK) {
            fprintf(stderr, "bench_fanout: cannot read %s\n", line);
            rc = 2;
            break;
        }
    }
    for (size_t i = 0; rc == 0 && i < docs.n; i++) { /* warm-up */
        const recite_result *res;
        if (rc_matcher_check(&res, whole, docs.v[i].text, docs.v[i].len, &err) != RECITE_OK)
            rc = 2;
    }
    for (size_t di = 0; rc == 0 && di < docs.n; di++) {
        const char *text = docs.v[di].text;
        size_t len = docs.v[di].len;
        if (st[0].n == cap) {
            cap *= 2;
            for (int k = 0; k < S_COUNT; k++)
                st[k].v = realloc(st[k].v, cap * sizeof(double));
        }
        const recite_result *res;
        double t0 = now();
        if (rc_matcher_check(&res, whole, text, len, &err) != RECITE_OK) {
            fprintf(stderr, "bench_fanout: output %zu: %s\n", di, err.message);
            rc = 2;
            break;
        }
        double t1 = now();
        /* The phases one by one: what each shard would do, and what it would send. */
        rc_matcher_reset(m);
        double a = now();
        int r = rc_matcher_feed(m, text, len, &err);
        if (r == RECITE_OK)
            r = rc_matcher_tokenize(m, true);
        double b = now();
        uint64_t kgrams = 0, common = 0;
        for (unsigned k = 0; k < RC_CHANNELS; k++) {
            kgrams += m->chans[k].kgram_df.n;
            for (size_t q = 0; q < m->chans[k].kgram_df.n; q++)
                common += m->chans[k].kgram_df.v[q] == RC_DF_COMMON;
        }
        memset(per_shard, 0, nshards * sizeof *per_shard);
        for (size_t i = 0; i < m->seeds.n; i++)
            per_shard[idx->nshards ? rc_shard_of_token(idx, m->seeds.v[i].gpos) : 0]++;
        uint64_t largest = 0, seeds = m->seeds.n;
        for (unsigned s = 0; s < nshards; s++) {
            largest = RC_MAX(largest, per_shard[s]);
            shard_sum[s] += per_shard[s];
        }
        if (r == RECITE_OK)
            r = rc_match_select(m, &err);
        double c = now();
        uint64_t kept = m->seeds.n, cands = 0;
        for (size_t i = 0; i < m->seeds.n; i++)
            cands += i == 0 || m->seeds.v[i].cluster != m->seeds.v[i - 1].cluster;
        if (r == RECITE_OK)
            r = rc_match_verify(m, &err);
        double d = now();
        if (r != RECITE_OK) {
            fprintf(stderr, "bench_fanout: output %zu: phases failed\n", di);
            rc = 2;
            break;
        }
        double vals[S_COUNT] = {(double)len,
                                (double)kgrams,
                                (double)common,
                                (double)seeds,
                                seeds ? (double)largest / (double)seeds : 0,
                                (double)kept,
                                (double)cands,
                                (double)m->raw.n,
                                (b - a) * 1e3,
                                (c - b) * 1e3,
                                (d - c) * 1e3,
                                (t1 - t0) * 1e3};
        for (int k = 0; k < S_COUNT; k++)
            st[k].v[st[k].n++] = vals[k];
    }
    fclose(list);
    for (size_t i = 0; i < docs.n; i++)
        free(docs.v[i].text);
    RC_VEC_FREE(docs);
    if (rc == 0) {
        printf("{\"outputs\": %zu, \"shards\": %u", st[0].n, nshards);
        for (int k = 0; k < S_COUNT; k++) {
            double mu = mean(&st[k]);
            printf(", \"%s\": {\"mean\": %.4f, \"p50\": %.4f, \"p99\": %.4f}", names[k], mu,
                   pctl(&st[k], 0.5), pctl(&st[k], 0.99));
        }
        printf(", \"seeds_by_shard\": [");
        for (unsigned s = 0; s < nshards; s++)
            printf("%s%.2f", s ? ", " : "", st[0].n ? (double)shard_sum[s] / (double)st[0].n : 0);
        printf("]}\n");
    }
    for (int k = 0; k < S_COUNT; k++)
        free(st[k].v);
    free(per_shard);
    free(shard_sum);
    rc_matcher_free(m);
    rc_matcher_free(whole);
    recite_index_close(idx);
    return rc;
}

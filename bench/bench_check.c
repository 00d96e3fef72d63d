/*
 * bench_check.c — check throughput and latency of the library, single thread.
 *
 *   bench_check INDEX_DIR LIST MATCHES_TSV WORKS_TSV LATENCY_TSV [PASSES]
 *
 * Opens the index, reads every output named in LIST (one path a line) into memory, checks each
 * once as a warm-up (untimed: page faults on the mapped index), then PASSES (default 3) timed
 * passes, timing every recite_check_text with CLOCK_MONOTONIC. Latencies are reported twice:
 * as timed in the first timed pass, and as each output's best time over the timed passes (the
 * machine is shared: the minimum is the least noisy estimate). Throughput is total bytes over
 * the sum of the best times, and over the whole first timed pass. Prints one JSON object on stdout. Writes the matches of the last pass to
 * MATCHES_TSV:
 *   output  work_id  cluster  out_start  out_end  src_start  src_end  tokens  kind  similarity
 *   common
 * every work of the index to WORKS_TSV: work_id  cluster  representative; and per output to
 * LATENCY_TSV: output  bytes  first_pass_ms  best_ms  matches  common_others  truncated.
 * Check options from the environment (unset or 0 = the library's default):
 *   BENCH_COMMON_SAMPLE (common_sample), BENCH_MAX_CANDIDATES (max_candidates),
 *   BENCH_ALL_WORKS (all_works: itemize every work sharing a span),
 *   BENCH_MAX_POSTINGS (max_postings); BENCH_WARMUP=0 skips the warm-up pass.
 * In the last pass each result is also rendered as the JSON report (recite_report_json, the
 * default policy), timed apart: "json_share" is its time over the checks' time in that pass.
 * BENCH_TIME_LIMIT=S (seconds, unset or 0 = none): the first pass (the warm-up, else the first
 * timed pass) stops starting new outputs once S seconds have gone, and every figure (the other
 * passes, the TSVs, the JSON) covers the outputs it checked: the first ones of LIST. The JSON
 * tells "outputs" (checked) and "outputs_listed".
 * Exits 2 on any error. Frees everything (valgrind-clean).
 */
#define _POSIX_C_SOURCE 200809L
#include "recite.h"
#include "bench_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *kind_name(recite_kind k)
{
    switch (k) {
    case RECITE_KIND_EXACT:
        return "exact";
    case RECITE_KIND_NORMALIZED:
        return "normalized";
    case RECITE_KIND_NEAR:
        return "near";
    }
    return "?";
}

static uint32_t env_u32(const char *name)
{
    const char *v = getenv(name);
    return v ? (uint32_t)strtoul(v, NULL, 10) : 0;
}

static double pct(const double *sorted, size_t n, double p)
{
    if (!n)
        return 0;
    size_t i = (size_t)(p * (double)(n - 1) + 0.5);
    return sorted[i < n ? i : n - 1];
}

int main(int argc, char **argv)
{
    if (argc < 6 || argc > 7) {
        fprintf(stderr,
                "usage: bench_check INDEX_DIR LIST MATCHES_TSV WORKS_TSV LATENCY_TSV [PASSES]\n");
        return 2;
    }
    int passes = argc == 7 ? atoi(argv[6]) : 3;
    if (passes < 1)
        passes = 1;
    int rc = 2;
    recite_error err = {0};
    recite_index *idx = NULL;
    recite_checker *chk = NULL;
    doc *docs = NULL;
    size_t ndocs = 0, capdocs = 0, nlisted = 0;
    double *best = NULL, *lat = NULL, *first = NULL;
    FILE *list = NULL, *mt = NULL, *wt = NULL, *lt = NULL;
    size_t *nm = NULL;
    uint64_t *others = NULL;
    int *trunc = NULL;
    char *line = NULL;
    size_t linecap = 0;

    /* BENCH_KEY: the key file of a text-free index. */
    char key[4096];
    size_t key_len = 0;
    if (getenv("BENCH_KEY")) {
        FILE *kf = fopen(getenv("BENCH_KEY"), "rb");
        key_len = kf ? fread(key, 1, sizeof key, kf) : 0;
        if (kf)
            fclose(kf);
    }
    if ((key_len ? recite_index_open_keyed(&idx, argv[1], key, key_len, &err)
                 : recite_index_open(&idx, argv[1], &err)) != RECITE_OK) {
        fprintf(stderr, "bench_check: %s\n", err.message);
        goto out;
    }
    recite_check_options copt = RECITE_CHECK_OPTIONS_INIT;
    copt.common_sample = env_u32("BENCH_COMMON_SAMPLE");
    copt.max_candidates = env_u32("BENCH_MAX_CANDIDATES");
    copt.all_works = (int)env_u32("BENCH_ALL_WORKS");
    copt.max_postings = env_u32("BENCH_MAX_POSTINGS");
    copt.exact_only = (int)env_u32("BENCH_EXACT");
    int warmup = getenv("BENCH_WARMUP") == NULL || atoi(getenv("BENCH_WARMUP")) != 0;
    if (recite_checker_create(&chk, idx, &copt, &err) != RECITE_OK) {
        fprintf(stderr, "bench_check: %s\n", err.message);
        goto out;
    }
    list = fopen(argv[2], "r");
    if (!list) {
        perror(argv[2]);
        goto out;
    }
    ssize_t got;
    while ((got = getline(&line, &linecap, list)) > 0) {
        if (line[got - 1] == '\n')
            line[--got] = 0;
        if (!got)
            continue;
        if (ndocs == capdocs) {
            capdocs = capdocs ? capdocs * 2 : 1024;
            doc *nd = realloc(docs, capdocs * sizeof *nd);
            if (!nd)
                goto out;
            docs = nd;
        }
        docs[ndocs].text = read_file(line, &docs[ndocs].len);
        if (!docs[ndocs].text) {
            perror(line);
            goto out;
        }
        ndocs++;
    }
    best = malloc((ndocs ? ndocs : 1) * sizeof *best);
    lat = malloc((ndocs ? ndocs : 1) * sizeof *lat);
    first = malloc((ndocs ? ndocs : 1) * sizeof *first);
    nm = malloc((ndocs ? ndocs : 1) * sizeof *nm);
    others = malloc((ndocs ? ndocs : 1) * sizeof *others);
    trunc = malloc((ndocs ? ndocs : 1) * sizeof *trunc);
    if (!best || !lat || !first || !nm || !others || !trunc)
        goto out;

    /* warm-up */
    const char *tl = getenv("BENCH_TIME_LIMIT");
    double limit = tl ? atof(tl) : 0;
    nlisted = ndocs;
    const recite_result *res;
    double t_warm = now();
    for (size_t i = 0; warmup && i < ndocs; i++) {
        if (limit > 0 && now() - t_warm > limit) {
            ndocs = i; /* the time limit: the outputs checked so far */
            break;
        }
        if (recite_check_text(&res, chk, docs[i].text, docs[i].len, &err) != RECITE_OK) {
            fprintf(stderr, "bench_check: output %zu: %s\n", i, err.message);
            goto out;
        }
    }
    t_warm = warmup ? now() - t_warm : 0;

    mt = fopen(argv[3], "w");
    if (!mt) {
        perror(argv[3]);
        goto out;
    }
    double first_pass = 0, last_checks = 0, json_seconds = 0;
    size_t nmatches = 0, truncated = 0;
    for (int p = 0; p < passes; p++) {
        double t_pass = now();
        for (size_t i = 0; i < ndocs; i++) {
            if (p == 0 && !warmup && limit > 0 && now() - t_pass > limit) {
                ndocs = i; /* the time limit: the outputs checked so far */
                break;
            }
            double t0 = now();
            int st = recite_check_text(&res, chk, docs[i].text, docs[i].len, &err);
            double t = now() - t0;
            if (st != RECITE_OK) {
                fprintf(stderr, "bench_check: output %zu: %s\n", i, err.message);
                goto out;
            }
            if (p == 0) {
                first[i] = t * 1e3;
                best[i] = t;
            } else if (t < best[i]) {
                best[i] = t;
            }
            if (p == passes - 1) {
                last_checks += t;
                char *json = NULL;
                double tj = now();
                if (recite_report_json(&json, idx, NULL, "output", docs[i].text, docs[i].len, res,
                                       &err) != RECITE_OK) {
                    fprintf(stderr, "bench_check: output %zu: %s\n", i, err.message);
                    goto out;
                }
                json_seconds += now() - tj;
                free(json);
                nm[i] = res->nmatches;
                others[i] = res->common_others;
                trunc[i] = res->truncated != 0;
                nmatches += res->nmatches;
                truncated += res->truncated != 0;
                for (size_t m = 0; m < res->nmatches; m++) {
                    const recite_match *x = &res->matches[m];
                    recite_work_info wi;
                    if (recite_index_work(&wi, idx, x->work) != RECITE_OK) {
                        fprintf(stderr, "bench_check: bad work %u\n", x->work);
                        goto out;
                    }
                    fprintf(mt, "%zu\t%s\t%u\t%llu\t%llu\t%llu\t%llu\t%u\t%s\t%.4f\t%d\n", i,
                            wi.id, wi.cluster, (unsigned long long)x->out_start,
                            (unsigned long long)x->out_end, (unsigned long long)x->src_start,
                            (unsigned long long)x->src_end, x->tokens, kind_name(x->kind),
                            x->similarity, x->common != 0);
                }
            }
        }
        if (p == 0)
            first_pass = now() - t_pass;
    }
    if (fclose(mt) != 0) {
        mt = NULL;
        perror(argv[3]);
        goto out;
    }
    mt = NULL;
    uint64_t total_bytes = 0;
    for (size_t i = 0; i < ndocs; i++)
        total_bytes += docs[i].len;

    wt = fopen(argv[4], "w");
    if (!wt) {
        perror(argv[4]);
        goto out;
    }
    uint32_t nw = recite_index_work_count(idx);
    for (uint32_t w = 0; w < nw; w++) {
        recite_work_info wi;
        if (recite_index_work(&wi, idx, w) != RECITE_OK)
            goto out;
        fprintf(wt, "%s\t%u\t%u\n", wi.id, wi.cluster, wi.representative);
    }

    lt = fopen(argv[5], "w");
    if (!lt) {
        perror(argv[5]);
        goto out;
    }
    for (size_t i = 0; i < ndocs; i++)
        fprintf(lt, "%zu\t%zu\t%.4f\t%.4f\t%zu\t%llu\t%d\n", i, docs[i].len, first[i],
                best[i] * 1e3, nm[i], (unsigned long long)others[i], trunc[i]);
    if (fclose(lt) != 0) {
        lt = NULL;
        perror(argv[5]);
        goto out;
    }
    lt = NULL;

    double sum = 0;
    for (size_t i = 0; i < ndocs; i++) {
        sum += best[i];
        lat[i] = best[i] * 1e3;
    }
    qsort(lat, ndocs, sizeof *lat, cmp_double);
    qsort(first, ndocs, sizeof *first, cmp_double);
    printf("{\"outputs\": %zu, \"outputs_listed\": %zu, \"bytes\": %llu, \"passes\": %d, "
           "\"seconds_best\": %.6f, "
           "\"seconds_first_pass\": %.6f, \"seconds_warmup\": %.6f, "
           "\"mb_per_s\": %.3f, \"mb_per_s_first_pass\": %.3f, \"mb_per_s_warmup\": %.3f, "
           "\"p50_ms\": %.4f, \"p90_ms\": %.4f, \"p99_ms\": %.4f, \"max_ms\": %.4f, "
           "\"first_p50_ms\": %.4f, \"first_p90_ms\": %.4f, \"first_p99_ms\": %.4f, "
           "\"first_max_ms\": %.4f, \"matches\": %zu, \"truncated\": %zu, "
           "\"json_seconds\": %.6f, \"json_share\": %.4f}\n",
           ndocs, nlisted, (unsigned long long)total_bytes, passes, sum, first_pass, t_warm,
           sum > 0 ? (double)total_bytes / 1e6 / sum : 0,
           first_pass > 0 ? (double)total_bytes / 1e6 / first_pass : 0,
           t_warm > 0 ? (double)total_bytes / 1e6 / t_warm : 0, pct(lat, ndocs, 0.5),
           pct(lat, ndocs, 0.9), pct(lat, ndocs, 0.99), ndocs ? lat[ndocs - 1] : 0.0,
           pct(first, ndocs, 0.5), pct(first, ndocs, 0.9), pct(first, ndocs, 0.99),
           ndocs ? first[ndocs - 1] : 0.0, nmatches, truncated, json_seconds,
           last_checks > 0 ? json_seconds / last_checks : 0);
    rc = 0;
out:
    if (mt)
        fclose(mt);
    if (lt)
        fclose(lt);
    if (wt && fclose(wt) != 0 && rc == 0) {
        perror(argv[4]);
        rc = 2;
    }
    if (list)
        fclose(list);
    free(line);
    for (size_t i = 0; i < (nlisted > ndocs ? nlisted : ndocs); i++)
        free(docs[i].text);
    free(docs);
    free(best);
    free(lat);
    free(first);
    free(nm);
    free(others);
    free(trunc);
    recite_checker_free(chk);
    recite_index_close(idx);
    return rc;
}

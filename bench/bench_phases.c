/*
 * bench_phases.c — where a check's time goes, phase by phase: bench_phases INDEX LIST [PASSES]
 *
 * Checks every file of LIST (one path a line) once as a warm-up, then PASSES times (default 3)
 * with the matcher's phase profile on (rc_matcher.profile: tokenizing, lookups, choosing the
 * works, exact runs, near spans, merging, CMI verdicts; src/match/rc_match.h), one thread, and
 * renders each result as the JSON report in the last pass. The filters of posting keys are made
 * before the warm-up. Prints one JSON object: the seconds
 * of each phase over the profiled passes, the checks' wall time around them (what no phase
 * holds: the checker's own steps, the result's arrays) and the JSON reports' time. Built against
 * this tree only (it reads the matcher's fields): bench/run.sh runs it after bench_check.
 */
#include "recite.h"
#include "bench_util.h"

#include "check/rc_checker.h"
#include "index/rc_index.h"
#include "match/rc_match.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const names[RC_PHASES] = {"tokenize", "lookup", "select", "exact",
                                             "near",     "merge",  "cmi"};

int main(int argc, char **argv)
{
    if (argc < 3 || argc > 4) {
        fprintf(stderr, "usage: bench_phases INDEX LIST [PASSES]\n");
        return 2;
    }
    int passes = argc > 3 ? atoi(argv[3]) : 3;
    if (passes < 1)
        passes = 1;
    FILE *lf = fopen(argv[2], "r");
    if (!lf) {
        perror(argv[2]);
        return 2;
    }
    doc *docs = NULL;
    size_t ndocs = 0, cap = 0, bytes = 0;
    char line[8192];
    while (fgets(line, sizeof line, lf)) {
        line[strcspn(line, "\n")] = 0;
        if (!line[0])
            continue;
        if (ndocs == cap) {
            doc *nd = realloc(docs, (cap = 2 * cap + 64) * sizeof *docs);
            if (!nd)
                return 2;
            docs = nd;
        }
        if (!(docs[ndocs].text = read_file(line, &docs[ndocs].len))) {
            fprintf(stderr, "bench_phases: %s: cannot read\n", line);
            return 2;
        }
        bytes += docs[ndocs++].len;
    }
    fclose(lf);
    recite_index *idx = NULL;
    recite_checker *chk = NULL;
    recite_error err = {0};
    int status = 2;
    if (recite_index_open(&idx, argv[1], &err) != RECITE_OK ||
        recite_checker_create(&chk, idx, NULL, &err) != RECITE_OK) {
        fprintf(stderr, "bench_phases: %s\n", err.message);
        goto out;
    }
    /* The filters of posting keys made first, as a long-running server has them: their making
     * (20-30 ms for 50 MB) is not a phase of a check. */
    for (unsigned ch = 0; ch < RC_CHANNELS; ch++)
        if (idx->ch[ch].npostings)
            rc_index_filter_make(idx, ch);
    const recite_result *res;
    for (size_t i = 0; i < ndocs; i++) /* warm-up: page faults */
        if (recite_check_text(&res, chk, docs[i].text, docs[i].len, &err) != RECITE_OK) {
            fprintf(stderr, "bench_phases: output %zu: %s\n", i, err.message);
            goto out;
        }
    chk->m->profile = true;
    /* What verification skipped in the profiled passes: the matcher's counters are cumulative. */
    const rc_matcher *m = chk->m;
    uint64_t alone0 = m->seeds_alone, aligned0 = m->near_code_aligned,
             inside0 = m->near_code_inside, unkept0 = m->near_code_unkept;
    uint64_t wall = 0, json = 0;
    for (int p = 0; p < passes; p++)
        for (size_t i = 0; i < ndocs; i++) {
            uint64_t t0 = rc_clock_ns();
            if (recite_check_text(&res, chk, docs[i].text, docs[i].len, &err) != RECITE_OK) {
                fprintf(stderr, "bench_phases: output %zu: %s\n", i, err.message);
                goto out;
            }
            wall += rc_clock_ns() - t0;
            if (p == passes - 1) {
                char *js = NULL;
                t0 = rc_clock_ns();
                if (recite_report_json(&js, idx, NULL, "output", docs[i].text, docs[i].len, res,
                                       &err) != RECITE_OK) {
                    fprintf(stderr, "bench_phases: output %zu: %s\n", i, err.message);
                    goto out;
                }
                json += rc_clock_ns() - t0;
                free(js);
            }
        }
    printf("{\"outputs\": %zu, \"bytes\": %zu, \"passes\": %d, \"check_s\": %.6f, "
           "\"json_s_last_pass\": %.6f, \"phases_s\": {",
           ndocs, bytes, passes, wall / 1e9, json / 1e9);
    for (unsigned ph = 0; ph < RC_PHASES; ph++)
        printf("%s\"%s\": %.6f", ph ? ", " : "", names[ph], chk->m->phase_ns[ph] / 1e9);
    printf("}, \"skipped\": {\"seeds_alone\": %llu, \"code_chains_aligned\": %llu, "
           "\"code_chains_inside\": %llu, \"code_chains_unkept\": %llu}}\n",
           (unsigned long long)(m->seeds_alone - alone0),
           (unsigned long long)(m->near_code_aligned - aligned0),
           (unsigned long long)(m->near_code_inside - inside0),
           (unsigned long long)(m->near_code_unkept - unkept0));
    status = 0;
out:
    recite_checker_free(chk);
    recite_index_close(idx);
    for (size_t i = 0; i < ndocs; i++)
        free(docs[i].text);
    free(docs);
    return status;
}

/*
 * cli_fanout.c — `recite check --mpi` on a sharded index: every input is checked by all the
 * ranks together, each against its own shards (recite_check_distributed: rank r opened the
 * shards s with s % ranks == r), and rank 0 prints the reports in input order as they come.
 * Rank 0 alone renders: a failure there is agreed on after each input, so every rank stops
 * with the same status.
 */
#include "cli.h"

#include <stdlib.h>

int cli_open_fanout(recite_index **idx, bool *fanout, const char *dir, const char *key,
                    size_t key_len, const recite_comm *comm, recite_error *err)
{
    int rc = recite_index_open_part(idx, dir, key, key_len, comm->rank, comm->size, err);
    recite_index_stats st;
    if (rc == RECITE_OK)
        recite_index_get_stats(&st, *idx);
    *fanout = rc == RECITE_OK && st.shards > 0;
    return rc;
}

int cli_check_fanout(const cli_input *inputs, size_t n, recite_checker *chk,
                     const recite_index *idx, const recite_policy *policy, bool json,
                     const recite_comm *comm)
{
    bool lead = comm->rank == 0, found = false;
    int status = 0;
    if (lead && json && n > 1)
        fputs("[", stdout);
    for (size_t i = 0; i < n; i++) {
        const recite_result *res;
        recite_error err = {0};
        if (recite_check_distributed(&res, chk, comm, inputs[i].data, inputs[i].len, &err) !=
            RECITE_OK) { /* failed on every rank: rank 0 says why */
            if (lead) {
                fflush(stdout);
                cli_fail(&err);
            }
            return EXIT_USAGE;
        }
        found |= res->nmatches > 0;
        int mine = 0;
        if (lead) {
            char *report = NULL;
            int rc = json ? recite_report_json(&report, idx, policy, inputs[i].name, inputs[i].data,
                                               inputs[i].len, res, &err)
                          : recite_report_text(&report, idx, policy, inputs[i].name, inputs[i].data,
                                               inputs[i].len, res, &err);
            if (rc != RECITE_OK) {
                fflush(stdout);
                mine = cli_fail(&err);
            } else if (json) {
                printf("%s%s", i ? "," : "", report);
            } else {
                fputs(report, stdout);
            }
            free(report);
        }
        if ((status = cli_mpi_agree(mine)) != 0)
            return status;
    }
    if (lead) {
        if (json)
            fputs(n > 1 ? "]\n" : "\n", stdout);
        status = cli_finish_output();
    }
    status = cli_mpi_agree(status);
    return status ? status : found ? 1 : 0;
}

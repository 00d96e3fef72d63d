/*
 * rc_report.h — what the two report renderers share (report.c: the text report;
 * report_json.c: the JSON object of the contract): names of kinds, CMI verdicts and verdicts,
 * and the policy's decision for each work of a result.
 */
#ifndef RC_REPORT_H
#define RC_REPORT_H

#include "../cmi/rc_cmi.h"
#include "../policy/rc_policy.h"

/* Whether match i is reported with an earlier match of its passage of common language (on
 * that match's line, in its sample_works) rather than on its own. */
static inline bool rc_report_in_passage(const recite_result *res, size_t i)
{
    const recite_match *m = &res->matches[i];
    return m->common && m->shared_by && m->passage < i;
}

static inline const char *rc_report_kind_name(recite_kind k)
{
    switch (k) {
    case RECITE_KIND_EXACT: return "exact";
    case RECITE_KIND_NORMALIZED: return "normalized";
    default: return "near";
    }
}

static inline const char *rc_report_cmi_name(recite_cmi_verdict v)
{
    switch (v) {
    case RECITE_CMI_NONE: return "none";
    case RECITE_CMI_PRESENT: return "present";
    case RECITE_CMI_ABSENT: return "absent";
    case RECITE_CMI_ALTERED: return "altered";
    default: return "unknown";
    }
}

/* The verdict: the most severe action; "pass" when everything is allowed. */
static inline const char *rc_report_verdict_name(recite_action a)
{
    return a == RECITE_ACTION_ALLOW ? "pass" : recite_action_name(a);
}

/* Where a match's span starts and ends in its work's original (page, chapter, member, line):
 * RECITE_OK with both, or the error of the first lookup that failed (RECITE_ENOMEM: the
 * report fails rather than lose the locator). */
static inline int rc_report_locate_span(const recite_index *idx, const recite_match *m,
                                        recite_locator *a, recite_locator *b)
{
    uint64_t last = m->src_end > m->src_start ? m->src_end - 1 : m->src_start;
    return rc_index_locate_span(a, b, idx, m->work, m->src_start, last, NULL);
}

/* A code work found only by words of its comments (its spans cover none of its lexemes, which
 * its coverage counts): the longest span in words, for reports to say so; else 0. */
uint32_t rc_report_comment_words(const recite_result *res, const recite_work_hit *h,
                                 recite_mode mode);

/* The policy's decision for each work of a result (see src/policy). */
typedef struct rc_decision {
    recite_action verdict;
    recite_action *actions; /* per works[] entry */
    int *rules;             /* the 1-based rule that decided, 0 the policy's default */
} rc_decision;

int rc_report_decide(const recite_index *idx, const recite_policy *policy, const recite_result *res,
                     rc_decision *d, recite_error *err);
void rc_report_decision_free(rc_decision *d);

#endif /* RC_REPORT_H */

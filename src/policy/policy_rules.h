/*
 * policy_rules.h — what the policy's two files share: the names of the values a rule can test
 * (their order gives the bits of a rule's sets), license groups, and the rule and policy
 * types. policy.c holds the rules and decides; policy_load.c reads and validates policy files.
 */
#ifndef RC_POLICY_RULES_H
#define RC_POLICY_RULES_H

#include "rc_policy.h"
#include "../license/rc_license.h"

#define POLICY_VERSION 1

/* ==== value sets ==== */

extern const char *const rc_action_names[4];
extern const char *const rc_source_names[6];
/* Bit i of a rule's cmi set is cmi_names[i]; a work's verdict maps to it by cmi_bit() (policy.c).
 */
extern const char *const rc_cmi_names[4];
extern const char *const rc_kind_names[3]; /* recite_kind order */
extern const char *const rc_extent_names[2];

enum { GROUP_ID = -1, GROUP_PERMISSIVE, GROUP_COPYLEFT, GROUP_PUBLIC_DOMAIN, GROUP_UNKNOWN };
extern const char *const rc_group_names[4];

/* Whether a work's license (SPDX id, "" unknown) belongs to group g (a GROUP_ value). */
bool rc_policy_in_group(int g, const char *license);

/* Whether an SPDX id is in one of the groups' lists (known without the SPDX list). */
bool rc_policy_grouped(const char *id);

/* ==== rules and policies ==== */

typedef struct license_term {
    int group;   /* GROUP_*, or GROUP_ID for an SPDX id */
    char id[64]; /* the id as written (a group's name for a group) */
} license_term;

typedef struct rule {
    const license_term *licenses; /* any of them; none: any license */
    size_t nlicenses;
    unsigned sources, cmis, kinds, extents; /* sets of bits of the *_names above; 0: any */
    int common;                             /* -1 any, 0 or 1 */
    uint32_t min_tokens;                    /* of the work's longest span; 0: any */
    double min_coverage;                    /* 0: any */
    recite_action action;
    unsigned line;    /* of the rule in its file */
    const char *text; /* the conditions in words, for reports */
} rule;

struct recite_policy {
    const char *name;
    recite_action fallback; /* "default" */
    const rule *rules;
    size_t nrules;
    bool uses_kind; /* some rule has a "kind" condition (which needs a pass over the matches) */
};

#endif /* RC_POLICY_RULES_H */

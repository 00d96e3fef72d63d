/*
 * policy.c — the policy engine (docs/POLICY.md): a small JSON file of ordered rules that say,
 * per matched work, whether a recitation is allowed, allowed with attribution (cite), flagged
 * for review or blocked, by the work's license, source and CMI verdict and by the match. Runs
 * after matching, for the report. Loading validates everything (types, values, license ids,
 * rules that can never apply) and names the line and column of what is wrong; a loaded policy
 * is immutable, and deciding only reads it. This file: the value sets, license groups, the
 * default policy and deciding; policy_load.c reads policy files.
 */
#include "policy_rules.h"

#include <stdlib.h>

/* ==== value sets ==== */

const char *const rc_action_names[4] = {"allow", "cite", "flag", "block"};
const char *const rc_source_names[6] = {"purchased",     "scanned",        "licensed",
                                        "public-domain", "shadow-library", "unknown"};
const char *const rc_cmi_names[4] = {"present", "absent", "altered", "none"};
const char *const rc_kind_names[3] = {"exact", "normalized", "near"};
const char *const rc_extent_names[2] = {"whole", "portion"};
const char *const rc_group_names[4] = {"permissive", "copyleft", "public-domain", "unknown"};

/* License groups, by SPDX license family (a work's license is compared with
 * rc_license_same_family, so "GPL-2.0" stands for GPL-2.0-only, -or-later and GPL-2.0+). Every
 * id Debian's common-licenses are identified as (src/license) is in one of them, and
 * every id here is known even without the SPDX license list. Listed in docs/POLICY.md. */
static const char *const permissive_ids[] = {"0BSD",         "AFL-3.0",
                                             "Apache-1.1",   "Apache-2.0",
                                             "Artistic-1.0", "Artistic-1.0-Perl",
                                             "Artistic-2.0", "BSD-1-Clause",
                                             "BSD-2-Clause", "BSD-2-Clause-Patent",
                                             "BSD-3-Clause", "BSD-3-Clause-Clear",
                                             "BSD-4-Clause", "BSL-1.0",
                                             "CC-BY-3.0",    "CC-BY-4.0",
                                             "curl",         "FTL",
                                             "HPND",         "ICU",
                                             "IJG",          "ISC",
                                             "libpng-2.0",   "MIT",
                                             "MIT-0",        "MS-PL",
                                             "NCSA",         "OpenSSL",
                                             "PHP-3.01",     "PostgreSQL",
                                             "PSF-2.0",      "Python-2.0",
                                             "Unicode-3.0",  "Unicode-DFS-2016",
                                             "UPL-1.0",      "W3C",
                                             "WTFPL",        "X11",
                                             "Zlib",         "zlib-acknowledgement",
                                             "ZPL-2.1"};
static const char *const copyleft_ids[] = {
    "AGPL-1.0", "AGPL-3.0", "CC-BY-SA-3.0", "CC-BY-SA-4.0", "CDDL-1.0", "CDDL-1.1", "CECILL-2.1",
    "CPL-1.0",  "EPL-1.0",  "EPL-2.0",      "EUPL-1.1",     "EUPL-1.2", "GFDL-1.1", "GFDL-1.2",
    "GFDL-1.3", "GPL-1.0",  "GPL-2.0",      "GPL-3.0",      "LGPL-2.0", "LGPL-2.1", "LGPL-3.0",
    "MPL-1.0",  "MPL-1.1",  "MPL-2.0",      "MS-RL",        "ODbL-1.0", "OSL-3.0",  "Sleepycat"};
static const char *const public_domain_ids[] = {"CC0-1.0", "CC-PDDC", "PDDL-1.0", "Unlicense"};

static const struct {
    const char *const *ids;
    size_t n;
} groups[] = {
    {permissive_ids, RC_ARRAY_LEN(permissive_ids)},
    {copyleft_ids, RC_ARRAY_LEN(copyleft_ids)},
    {public_domain_ids, RC_ARRAY_LEN(public_domain_ids)},
    {NULL, 0}, /* unknown: no license known */
};

bool rc_policy_grouped(const char *id)
{
    for (size_t g = 0; g < RC_ARRAY_LEN(groups); g++)
        for (size_t i = 0; i < groups[g].n; i++)
            if (rc_license_same_family(id, groups[g].ids[i]))
                return true;
    return false;
}

bool rc_policy_in_group(int g, const char *license)
{
    if (g == GROUP_UNKNOWN)
        return license[0] == 0;
    if (!license[0])
        return false;
    for (size_t i = 0; i < groups[g].n; i++) /* any license of an expression */
        if (rc_license_share_family(license, groups[g].ids[i]))
            return true;
    return false;
}

/* Common language is allowed; everything else is flagged (the behaviour before policies). */
static const rule default_rules[] = {
    {NULL, 0, 0, 0, 0, 0, 1, 0, 0.0, RECITE_ACTION_ALLOW, 0, "common"}};
static const recite_policy default_policy = {"default", RECITE_ACTION_FLAG, default_rules, 1,
                                             false};

const char *recite_action_name(recite_action a)
{
    return (unsigned)a < RC_ARRAY_LEN(rc_action_names) ? rc_action_names[a] : "flag";
}

const char *rc_policy_name(const recite_policy *p)
{
    return p ? p->name : default_policy.name;
}

const char *rc_policy_rule_text(const recite_policy *p, int number)
{
    if (!p)
        p = &default_policy;
    return number >= 1 && (size_t)number <= p->nrules ? p->rules[number - 1].text : "";
}

void recite_policy_free(recite_policy *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->nrules; i++) {
        free((void *)p->rules[i].licenses);
        free((void *)p->rules[i].text);
    }
    free((void *)p->rules);
    free((void *)p->name);
    free(p);
}

/* ==== deciding ==== */

/* What the rules look at, for one work. */
typedef struct facts {
    const char *license;
    unsigned source, cmi, kinds, extent; /* bits; cmi 0 when not known */
    int common;
    uint32_t longest;
    double coverage;
} facts;

static unsigned cmi_bit(recite_cmi_verdict v)
{
    switch (v) {
    case RECITE_CMI_PRESENT: return 1u << 0;
    case RECITE_CMI_ABSENT: return 1u << 1;
    case RECITE_CMI_ALTERED: return 1u << 2;
    case RECITE_CMI_NONE: return 1u << 3;
    default: return 0; /* an index built without CMI: no cmi condition holds */
    }
}

static unsigned source_bit(const recite_index *idx, uint32_t work)
{
    recite_work_info info;
    const char *s = "unknown";
    if (idx && recite_index_work(&info, idx, work) == RECITE_OK && info.source)
        s = info.source;
    for (size_t i = 0; i < RC_ARRAY_LEN(rc_source_names); i++)
        if (strcmp(s, rc_source_names[i]) == 0)
            return 1u << i;
    return 1u << (RC_ARRAY_LEN(rc_source_names) - 1); /* unknown */
}

static bool rule_holds(const rule *r, const facts *f)
{
    if ((r->sources && !(r->sources & f->source)) || (r->cmis && !(r->cmis & f->cmi)) ||
        (r->kinds && !(r->kinds & f->kinds)) || (r->extents && !(r->extents & f->extent)) ||
        (r->common >= 0 && r->common != f->common) || f->longest < r->min_tokens ||
        f->coverage < r->min_coverage)
        return false;
    if (!r->nlicenses)
        return true;
    for (size_t i = 0; i < r->nlicenses; i++) {
        const license_term *t = &r->licenses[i];
        if (t->group == GROUP_ID ? f->license[0] && rc_license_share_family(f->license, t->id)
                                 : rc_policy_in_group(t->group, f->license))
            return true;
    }
    return false;
}

recite_action recite_policy_decide(recite_action *work_actions, int *rules, const recite_policy *p,
                                   const recite_index *idx, const recite_result *res)
{
    if (!p)
        p = &default_policy;
    recite_action verdict = RECITE_ACTION_ALLOW;
    for (size_t i = 0; i < res->nworks; i++) {
        const recite_work_hit *h = &res->works[i];
        facts f = {h->license,
                   source_bit(idx, h->work),
                   cmi_bit(h->cmi),
                   0,
                   h->coverage >= RC_WHOLE_WORK_COVERAGE ? 1u : 2u,
                   h->common ? 1 : 0,
                   h->longest_tokens,
                   h->coverage};
        if (p->uses_kind)
            for (size_t m = 0; m < res->nmatches; m++)
                if (res->matches[m].work == h->work && (unsigned)res->matches[m].kind < 3)
                    f.kinds |= 1u << res->matches[m].kind;
        recite_action a = p->fallback;
        int which = 0;
        for (size_t r = 0; r < p->nrules; r++)
            if (rule_holds(&p->rules[r], &f)) {
                a = p->rules[r].action;
                which = (int)r + 1;
                break;
            }
        if (work_actions)
            work_actions[i] = a;
        if (rules)
            rules[i] = which;
        if (a > verdict)
            verdict = a;
    }
    return verdict;
}

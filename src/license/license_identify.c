/*
 * license_identify.c — license identification by the core matcher. The license texts (the
 * license index, built by src/build/build_licenses.c and handed in) are matched against a
 * text, and the license that explains most of its words wins: an SPDX id and a score (the share
 * of the text's words that are that license's). A license the text names outright is preferred
 * among near-equals; GPL-family notices get "-or-later" when they say "any later version",
 * "-only" otherwise; a full license text gets "-only". Nothing matched well enough stays
 * unknown.
 */
#include "rc_license.h"

#include <stdio.h>
#include <stdlib.h>

#define MIN_MATCHED 12 /* words of a license a text must hold to be identified */
#define MIN_SCORE 0.2  /* ... and that share of its words */
#define FULL_TEXT 0.5  /* a text holding this share of a license is that license's text */
#define FIT_TIE 0.01   /* fits this close are a tie, decided by the words explained */

/* Licenses named outright ("under the terms of the MIT license"): the evidence when the text
 * only points to its license. Patterns are lower case, whitespace collapsed. */
static const struct {
    const char *pattern, *id;
} mentions[] = {
    /* Perl's own terms: either the GPL or the Artistic License */
    {"same terms as perl itself", "Artistic-1.0-Perl OR GPL-1.0-or-later"},
    {"same terms as the perl 5 programming language", "Artistic-1.0-Perl OR GPL-1.0-or-later"},
    {"same terms as python itself", "PSF-2.0"},
    {"freetype project license", "FTL"},
    {"gnu affero general public license", "AGPL-3.0"},
    {"gnu lesser general public license", "LGPL"},
    {"gnu library general public license", "LGPL-2.0"},
    {"gnu general public license", "GPL"},
    {"apache license, version 2.0", "Apache-2.0"},
    {"apache license version 2.0", "Apache-2.0"},
    {"apache license 2.0", "Apache-2.0"},
    {"mozilla public license, v. 2.0", "MPL-2.0"},
    {"mozilla public license version 2.0", "MPL-2.0"},
    {"the mit license", "MIT"},
    {"mit license", "MIT"},
    {"mit licence", "MIT"},
    {"isc license", "ISC"},
    {"the unlicense", "Unlicense"},
    {"creative commons attribution 4.0", "CC-BY-4.0"},
    {"cc0 1.0", "CC0-1.0"},
    {"python software foundation license", "PSF-2.0"},
    {"boost software license", "BSL-1.0"},
    {"eclipse public license", "EPL-2.0"},
};

/* The GNU version named after position p: "version 2", "v3", "2.1". */
static const char *gnu_version(const char *p)
{
    const char *v = strstr(p, "version ");
    if (!v || v - p > 160)
        return NULL;
    v += 8;
    if (strncmp(v, "2.1", 3) == 0)
        return "2.1";
    if (*v == '2')
        return "2.0";
    if (*v == '3')
        return "3.0";
    if (*v == '1')
        return "1.0";
    return NULL;
}

/* The license the text names first ("... the GNU General Public License, version 2 ...; the
 * library it uses is under the GNU Lesser General Public License" names the GPL). */
static bool mention_of(const char *text, size_t len, char *id, size_t cap)
{
    char buf[8192];
    rc_license_collapse(text, len, buf, sizeof buf);
    const char *first = NULL;
    for (size_t i = 0; i < RC_ARRAY_LEN(mentions); i++) {
        const char *p = strstr(buf, mentions[i].pattern);
        if (!p || (first && p >= first))
            continue;
        const char *m = mentions[i].id;
        if (strcmp(m, "GPL") == 0 || strcmp(m, "LGPL") == 0) {
            const char *v = gnu_version(p);
            if (!v)
                continue;
            bool later = strstr(p, "later version") != NULL;
            snprintf(id, cap, "%s-%s-%s", m, v, later ? "or-later" : "only");
        } else if (strcmp(m, "AGPL-3.0") == 0 || strcmp(m, "LGPL-2.0") == 0) {
            snprintf(id, cap, "%s-%s", m, strstr(p, "later version") ? "or-later" : "only");
        } else {
            snprintf(id, cap, "%s", m);
        }
        first = p;
    }
    return first != NULL;
}

/* Words of the text a license work explains: its matches' tokens, weighted by similarity,
 * each part of the text counted once (a license holding a passage twice, as Sleepycat holds
 * two BSD licenses, matches the text's passage twice). Matches come sorted by output start. */
static double matched_words(const recite_result *res, uint32_t work)
{
    double matched = 0;
    uint64_t covered = 0; /* output bytes before this are counted */
    for (size_t i = 0; i < res->nmatches; i++) {
        const recite_match *m = &res->matches[i];
        if (m->work != work || m->out_end <= covered)
            continue;
        double part = m->out_start >= covered
                          ? 1.0
                          : (double)(m->out_end - covered) / (double)(m->out_end - m->out_start);
        matched += m->tokens * m->similarity * part;
        covered = m->out_end;
    }
    return matched;
}

int rc_license_identify(rc_license_id *out, const recite_index *lic, rc_matcher *m,
                        const char *text, size_t len, recite_error *err)
{
    memset(out, 0, sizeof *out);
    if (!lic || !m || len == 0)
        return RECITE_OK;
    const recite_result *res;
    int rc = rc_matcher_check(&res, m, text, len, err);
    if (rc != RECITE_OK)
        return rc;
    /* The license whose matches explain the most words of the text (weighted by similarity).
     * Many licenses are variants of one another (BSD, MIT, zlib families; Apache and Pixar):
     * among those that explain nearly as much, the best fit both ways wins (Dice coefficient:
     * 2 matched / (text + license words)), so a full text picks the identical license, not a
     * longer variant that contains it; and of fits within FIT_TIE of the best, the one that
     * explains more of the text (a BSD text naming its own holder fits the canonical BSD and
     * a shorter variant about as well: the variant's own words are the ones it lacks). */
    double best = 0;
    for (size_t w = 0; w < res->nworks; w++)
        best = RC_MAX(best, matched_words(res, res->works[w].work));
    char named[64];
    bool has_name = mention_of(text, len, named, sizeof named);
    uint32_t best_work = UINT32_MAX;
    double best_fit = -1, top_fit = -1, best_matched = 0, best_cov = 0;
    for (int pass = 0; pass < 2; pass++) {
        for (size_t w = 0; w < res->nworks && best > 0; w++) {
            const recite_work_hit *h = &res->works[w];
            double matched = matched_words(res, h->work);
            recite_work_info wi;
            if (matched < 0.95 * best || recite_index_work(&wi, lic, h->work) != RECITE_OK)
                continue;
            double fit = 2.0 * matched / ((double)res->tokens + (double)wi.tokens);
            /* A license the text names (with its version) is preferred among the close ones. */
            const char *wl = wi.license ? wi.license : wi.id; /* the SPDX id of the text */
            if (has_name && rc_license_same_family(named, wl))
                fit += 2.0;
            if (pass == 0) {
                top_fit = RC_MAX(top_fit, fit);
                continue;
            }
            if (out->nalt < RC_LICENSE_MAX_ALT)
                snprintf(out->alt[out->nalt++], sizeof out->alt[0], "%s", wl);
            if (fit >= top_fit - FIT_TIE && (best_work == UINT32_MAX || matched > best_matched ||
                                             (matched == best_matched && fit > best_fit))) {
                best_fit = fit;
                best_work = h->work;
                best_matched = matched;
                best_cov = h->coverage;
            }
        }
    }
    if (best_fit >= 2.0) /* the text's own words chose among the variants */
        out->nalt = 0;
    double score = res->tokens ? RC_MIN(1.0, best_matched / (double)res->tokens) : 0;
    recite_work_info info;
    bool matched_ok = best_work != UINT32_MAX && best_matched >= MIN_MATCHED &&
                      score >= MIN_SCORE && recite_index_work(&info, lic, best_work) == RECITE_OK;
    const char *lid = matched_ok ? (info.license ? info.license : info.id) : "";
    bool full = matched_ok && best_cov >= FULL_TEXT;
    /* A text that names its license goes by the name, unless it is almost wholly another
     * license's full text: neither a shared phrase ("is free software; you can redistribute
     * it" against "under the terms of the MIT license") nor the words of a notice (the LGPL's
     * is the GPL's with "Lesser" added) are evidence against the name it gives. */
    if (has_name &&
        (!matched_ok || (!(full && score >= 0.9) && !rc_license_same_family(named, lid)))) {
        snprintf(out->id, sizeof out->id, "%s", named);
        out->nalt = 0;
        out->score = matched_ok && rc_license_same_family(named, lid) ? score : 0;
        out->from = RECITE_FROM_HEADER;
        return RECITE_OK;
    }
    if (!matched_ok) {
        out->nalt = 0;
        return RECITE_OK;
    }
    out->score = score;
    out->full_text = full;
    out->start = UINT64_MAX;
    for (size_t i = 0; i < res->nmatches; i++)
        if (res->matches[i].work == best_work) {
            out->start = RC_MIN(out->start, res->matches[i].out_start);
            out->end = RC_MAX(out->end, res->matches[i].out_end);
        }
    if (out->start == UINT64_MAX)
        out->start = 0;
    out->from = out->full_text ? RECITE_FROM_TEXT : RECITE_FROM_HEADER;
    if (has_name && rc_license_same_family(named, lid) && !out->full_text) {
        snprintf(out->id, sizeof out->id, "%s", named); /* the version the text names */
    } else if (rc_license_gpl_family(lid)) {
        char fam[48];
        rc_license_family_of(lid, fam, sizeof fam);
        bool later = !out->full_text && rc_license_or_later((const uint8_t *)text, len);
        snprintf(out->id, sizeof out->id, "%.47s-%s", fam, later ? "or-later" : "only");
    } else {
        snprintf(out->id, sizeof out->id, "%s", lid);
    }
    return RECITE_OK;
}

int rc_license_matcher_create(rc_matcher **out, const recite_index *lic, recite_error *err)
{
    recite_check_options opt = RECITE_CHECK_OPTIONS_INIT;
    opt.all_works = 1; /* license texts are variants of each other: compare them all */
    opt.min_similarity = 0.7;
    return rc_matcher_create(out, lic, &opt, err);
}

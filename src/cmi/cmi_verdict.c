/*
 * cmi_verdict.c — the CMI verdict of each matched work: does the checked text carry the work's
 * copyright notice and license (present), reproduce the work without them (absent), or show
 * different ones — another holder, changed years, another license (altered)? The work's CMI
 * comes from the index (metadata first, then what was found in its text); the text's from the
 * same extractor and, for license language, the license index.
 */
#include "rc_cmi.h"

#include <stdio.h>
#include <stdlib.h>

#define MAX_LICENSES 8
#define REGION_CAP (16u * 1024u)
#define CHECK_CANDIDATES 4 /* license texts compared with an output's license region */

/* What the checked text carries. */
typedef struct text_cmi {
    rc_cmi cmi;
    rc_license_id lic[MAX_LICENSES]; /* id, alternatives, start and end are used */
    unsigned nlic;
} text_cmi;

static void add_license(text_cmi *t, const rc_license_id *id)
{
    for (unsigned i = 0; i < t->nlic; i++)
        if (rc_license_same_family(t->lic[i].id, id->id))
            return;
    if (t->nlic < MAX_LICENSES)
        t->lic[t->nlic++] = *id;
}

/* The notices, SPDX tag and (with licm: a matcher of the license index, made on first use;
 * NULL when no matched work has a license to compare with) license the text carries. */
static int text_cmi_of(const recite_index *idx, rc_license_matcher **licm, const uint8_t *text,
                       size_t len, text_cmi *t, recite_error *err)
{
    memset(t, 0, sizeof *t);
    rc_cmi_extract(text, len, &t->cmi);
    if (t->cmi.spdx[0]) {
        rc_license_id tag = {.start = t->cmi.spdx_start, .end = t->cmi.spdx_end};
        snprintf(tag.id, sizeof tag.id, "%.63s", t->cmi.spdx);
        add_license(t, &tag);
    }
    const recite_index *lic = idx->licenses;
    if (!lic || !licm) /* no license index, or no work whose license the text's could match */
        return RECITE_OK;
    char *region = malloc(REGION_CAP);
    if (!region)
        return rc_error_set(err, RECITE_ENOMEM, "out of memory");
    uint64_t first;
    size_t n = rc_cmi_license_region(text, len, region, REGION_CAP, &first);
    int rc = RECITE_OK;
    if (n > 0) {
        if (!*licm && (rc = rc_license_matcher_create(licm, lic, err)) == RECITE_OK)
            rc_license_matcher_limit(*licm, CHECK_CANDIDATES);
        rc_license_id id;
        if (rc == RECITE_OK &&
            (rc = rc_license_identify(&id, *licm, region, n, err)) == RECITE_OK && id.id[0]) {
            /* Offsets of the region are not the text's: point at where license language starts. */
            id.end = first + (id.end - id.start);
            id.start = first;
            add_license(t, &id);
        }
    }
    free(region);
    return rc;
}

/* ==== what each work carries ==== */

/* A holder of a work: its name and years (views into the index, or into `extracted` for a
 * notice given as metadata). */
typedef struct holder {
    const char *name;
    unsigned year_min, year_max;
} holder;

typedef struct work_cmi {
    char license[64];
    double license_score;
    recite_info_source license_from;
    char copyright[256];
    recite_info_source copyright_from;
    holder holders[RC_CMI_MAX_NOTICES]; /* notices whose holders and years are the work's */
    unsigned nholders;
    rc_cmi *extracted; /* the metadata's notice, read by the same extractor (freed after) */
    bool known;        /* CMI was extracted at index time, or given as metadata */
} work_cmi;

/* The work's CMI: its metadata first, then its CMI record (binary, read in place). */
static int work_cmi_of(const recite_index *idx, uint32_t work, work_cmi *w)
{
    w->nholders = 0;
    w->license[0] = w->copyright[0] = 0;
    w->license_score = 0;
    w->license_from = w->copyright_from = RECITE_FROM_NONE;
    w->extracted = NULL;
    w->known = false;
    recite_work_info info;
    if (recite_index_work(&info, idx, work) != RECITE_OK)
        return RECITE_OK;
    const uint8_t *rec;
    size_t rec_len;
    rc_index_work_cmi(idx, work, &rec, &rec_len);
    rc_cmi_view v;
    if (rc_cmi_record_view(&v, rec, rec_len) != RECITE_OK) /* not ours: none */
        rc_cmi_record_view(&v, NULL, 0);
    w->known = idx->cmi || info.license || info.copyright;
    if (info.license) {
        snprintf(w->license, sizeof w->license, "%s", info.license);
        w->license_score = 1.0;
        w->license_from = RECITE_FROM_METADATA;
    } else if (v.license[0]) {
        snprintf(w->license, sizeof w->license, "%s", v.license);
        w->license_score = v.license_score;
        w->license_from = v.license_from;
    }
    if (info.copyright) {
        /* The metadata's notice wins; its holder and years come from the same extractor. */
        snprintf(w->copyright, sizeof w->copyright, "%s", info.copyright);
        w->copyright_from = RECITE_FROM_METADATA;
        if (!(w->extracted = malloc(sizeof *w->extracted)))
            return RECITE_ENOMEM;
        rc_cmi_extract((const uint8_t *)info.copyright, strlen(info.copyright), w->extracted);
        for (unsigned k = 0; k < w->extracted->nnotices; k++)
            w->holders[w->nholders++] =
                (holder){w->extracted->notices[k].holder, w->extracted->notices[k].year_min,
                         w->extracted->notices[k].year_max};
        if (!w->nholders) { /* "Jane Doe" alone: the holder */
            rc_notice *n0 = &w->extracted->notices[0];
            snprintf(n0->holder, sizeof n0->holder, "%s", info.copyright);
            w->holders[w->nholders++] = (holder){n0->holder, 0, 0};
        }
    } else {
        for (unsigned k = 0; k < v.nnotices; k++)
            w->holders[w->nholders++] =
                (holder){v.notices[k].holder, v.notices[k].year_min, v.notices[k].year_max};
        if (w->nholders) {
            snprintf(w->copyright, sizeof w->copyright, "%.255s", v.notices[0].text);
            w->copyright_from = RECITE_FROM_TEXT;
        }
    }
    return RECITE_OK;
}

static void set_found(recite_work_hit *h, const char *what, uint64_t start, uint64_t end)
{
    snprintf(h->cmi_found, sizeof h->cmi_found, "%s", what);
    h->cmi_found_start = start;
    h->cmi_found_end = end;
}

int rc_cmi_verdicts(const recite_index *idx, rc_license_matcher **lic, const uint8_t *text,
                    size_t len, recite_work_hit *works, size_t nw, recite_error *err)
{
    if (!nw)
        return RECITE_OK;
    work_cmi *wc = malloc(nw * sizeof *wc);
    text_cmi *t = malloc(sizeof *t);
    size_t *wk0 = malloc((nw + 1) * sizeof *wk0); /* first key of each work's holders */
    rc_holder_key *tk = NULL, *wk = NULL;
    size_t ready = 0; /* works whose work_cmi is filled in */
    int rc = RECITE_OK;
    if (!wc || !t || !wk0) {
        rc = rc_error_set(err, RECITE_ENOMEM, "out of memory");
        goto done;
    }
    /* What the works carry first: the text's CMI matters only against a work that has some, and
     * the text's license (identified with the license index, the costly part) only against a
     * work that has a license. */
    bool any_cmi = false, any_license = false;
    wk0[0] = 0;
    for (; ready < nw; ready++) {
        if ((rc = work_cmi_of(idx, works[ready].work, &wc[ready])) != RECITE_OK) {
            rc = rc_error_set(err, rc, "out of memory");
            goto done;
        }
        wk0[ready + 1] = wk0[ready] + wc[ready].nholders;
        any_cmi |= wc[ready].nholders || wc[ready].license[0];
        any_license |= wc[ready].license[0] != 0;
    }
    memset(t, 0, sizeof *t);
    if (any_cmi &&
        (rc = text_cmi_of(idx, any_license ? lic : NULL, text, len, t, err)) != RECITE_OK)
        goto done;
    /* Holder names split into words once: every notice of the text is compared with every
     * holder of every work. */
    if (t->cmi.nnotices) {
        tk = malloc(t->cmi.nnotices * sizeof *tk);
        wk = malloc((wk0[nw] + 1) * sizeof *wk);
        if (!tk || !wk) {
            rc = rc_error_set(err, RECITE_ENOMEM, "out of memory");
            goto done;
        }
        for (unsigned k = 0; k < t->cmi.nnotices; k++)
            rc_holder_key_of(t->cmi.notices[k].holder, &tk[k]);
        for (size_t i = 0; i < nw; i++)
            for (unsigned j = 0; j < wc[i].nholders; j++)
                rc_holder_key_of(wc[i].holders[j].name, &wk[wk0[i] + j]);
    }
    /* Notices and licenses of the text that belong to some matched work: not replacements. */
    bool known[RC_CMI_MAX_NOTICES] = {false}, lic_known[MAX_LICENSES] = {false};
    for (unsigned k = 0; k < t->cmi.nnotices; k++)
        for (size_t j = 0; j < wk0[nw] && !known[k]; j++)
            known[k] = rc_holder_key_same(&tk[k], &wk[j]);
    for (unsigned k = 0; k < t->nlic; k++)
        for (size_t o = 0; o < nw && !lic_known[k]; o++)
            lic_known[k] = wc[o].license[0] && rc_license_consistent(&t->lic[k], wc[o].license);

    for (size_t i = 0; i < nw; i++) {
        recite_work_hit *h = &works[i];
        const work_cmi *w = &wc[i];
        snprintf(h->license, sizeof h->license, "%s", w->license);
        h->license_score = w->license_score;
        h->license_from = w->license_from;
        snprintf(h->copyright, sizeof h->copyright, "%s", w->copyright);
        h->copyright_from = w->copyright_from;
        if (!w->nholders && !w->license[0]) {
            h->cmi = w->known ? RECITE_CMI_NONE : RECITE_CMI_UNKNOWN; /* --no-cmi */
            continue;
        }
        bool holder_present = false, changed_years = false, foreign = false;
        for (unsigned k = 0; k < t->cmi.nnotices; k++) {
            const rc_notice *on = &t->cmi.notices[k];
            bool mine = false;
            for (unsigned j = 0; j < w->nholders && !mine; j++) {
                const holder *wn = &w->holders[j];
                if (!rc_holder_key_same(&tk[k], &wk[wk0[i] + j]))
                    continue;
                mine = true;
                if (wn->year_min && on->year_min &&
                    (wn->year_min != on->year_min || wn->year_max != on->year_max)) {
                    changed_years = true;
                    set_found(h, on->text, on->start, on->end);
                }
            }
            if (mine && !changed_years && !holder_present) {
                holder_present = true;
                set_found(h, on->text, on->start, on->end);
            }
            /* A notice of nobody whose work the text reproduces is a replacement. */
            if (!known[k] && w->nholders && !holder_present) {
                foreign = true;
                set_found(h, on->text, on->start, on->end);
            }
        }
        bool license_present = false, license_other = false;
        for (unsigned k = 0; k < t->nlic; k++) {
            if (w->license[0] && rc_license_consistent(&t->lic[k], w->license)) {
                license_present = true;
                if (!h->cmi_found[0])
                    set_found(h, t->lic[k].id, t->lic[k].start, t->lic[k].end);
            } else if (!lic_known[k] && w->license[0]) {
                license_other = true;
                if (!h->cmi_found[0] || holder_present) /* the replacement is the news */
                    set_found(h, t->lic[k].id, t->lic[k].start, t->lic[k].end);
            }
        }
        if (changed_years || (foreign && !holder_present) || (license_other && !license_present))
            h->cmi = RECITE_CMI_ALTERED;
        else if (w->nholders ? holder_present : license_present)
            h->cmi = RECITE_CMI_PRESENT;
        else
            h->cmi = RECITE_CMI_ABSENT;
        if (h->cmi == RECITE_CMI_ABSENT)
            h->cmi_found[0] = 0;
    }
done:
    for (size_t i = 0; i < ready && wc; i++)
        free(wc[i].extracted);
    free(wc);
    free(t);
    free(wk0);
    free(tk);
    free(wk);
    return rc;
}

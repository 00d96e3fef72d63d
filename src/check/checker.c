/*
 * checker.c — the public checker (recite_checker_*, layer 7): the core matcher (src/match) on
 * the text, then what a report needs beyond matching — the background index (spans also found
 * in public text are common language) and the CMI verdicts of the matched works (src/cmi),
 * at finish and, for works newly found, while the text streams in (poll).
 */
#include "rc_checker.h"

#include <stdlib.h>

/* An index opened in part is checked by its participants together only. */
static int whole(const recite_checker *c, recite_error *err)
{
    return c->m->idx->part ? rc_error_set(err, RECITE_EINVAL,
                                          "this index is opened in part: check it with every "
                                          "participant (recite_check_distributed)")
                           : RECITE_OK;
}

int recite_checker_create(recite_checker **out, const recite_index *idx,
                          const recite_check_options *opt, recite_error *err)
{
    *out = NULL;
    recite_checker *c = calloc(1, sizeof *c);
    if (!c)
        return rc_error_set(err, RECITE_ENOMEM, "out of memory");
    int rc = rc_matcher_create(&c->m, idx, opt, err);
    if (rc == RECITE_OK && opt && opt->background) {
        /* Exact spans are enough to know the text is public; one work per passage suffices. */
        recite_check_options bo = RECITE_CHECK_OPTIONS_INIT;
        bo.exact_only = 1;
        bo.common_sample = 1;
        rc = rc_matcher_create(&c->bg, opt->background, &bo, err);
    }
    if (rc != RECITE_OK) {
        recite_checker_free(c);
        return rc;
    }
    c->cmi = !(opt && opt->skip_cmi);
    *out = c;
    return RECITE_OK;
}

void recite_checker_free(recite_checker *c)
{
    if (!c)
        return;
    rc_matcher_free(c->m);
    rc_matcher_free(c->bg);
    rc_license_matcher_free(c->lic);
    RC_VEC_FREE(c->live_works);
    free(c);
}

/* The check's readers go back to the index's spares: the report of the result, a one-off read
 * of the same index, then reads through the reader that decoded its blocks. */
static void release_readers(recite_checker *c)
{
    rc_matcher_release_reader(c->m);
    if (c->bg)
        rc_matcher_release_reader(c->bg);
}

void recite_checker_reset(recite_checker *c)
{
    release_readers(c);
    rc_matcher_reset(c->m);
    c->live_works.n = 0;
}

const char *recite_checker_text(const recite_checker *c, size_t *len)
{
    return rc_matcher_text(c->m, len);
}

int recite_checker_feed(recite_checker *c, const char *bytes, size_t len, recite_error *err)
{
    if (whole(c, err) != RECITE_OK)
        return RECITE_EINVAL;
    if (c->m->finished)
        c->live_works.n = 0; /* a new text */
    return rc_matcher_feed(c->m, bytes, len, err);
}

/* Marks as common the matches whose output bytes occur, for at least 80% of them, in the
 * background index (public text), and the works all of whose matches are then common. */
static int apply_background(recite_checker *c, recite_error *err)
{
    rc_matcher *m = c->m;
    const recite_result *bres;
    int rc = rc_matcher_check(&bres, c->bg, (const char *)m->text.v, m->text.n, err);
    if (rc != RECITE_OK)
        return rc;
    m->result.truncated |= bres->truncated;
    for (size_t i = 0; i < m->matches.n; i++) {
        recite_match *mt = &m->matches.v[i];
        /* Bytes of mt covered by the background's spans (which are sorted by start). */
        uint64_t covered = 0, reach = mt->out_start;
        for (size_t k = 0; k < bres->nmatches; k++) {
            uint64_t a = RC_MAX(bres->matches[k].out_start, reach);
            uint64_t b = RC_MIN(bres->matches[k].out_end, mt->out_end);
            if (b > a) {
                covered += b - a;
                reach = b;
            }
        }
        if (covered * 5 >= (mt->out_end - mt->out_start) * 4)
            mt->common = 1;
    }
    for (size_t w = 0; w < m->works.n; w++) {
        bool all = true;
        for (size_t i = 0; i < m->matches.n && all; i++)
            if (m->matches.v[i].work == m->works.v[w].work)
                all = m->matches.v[i].common;
        m->works.v[w].common = all;
    }
    return RECITE_OK;
}

int rc_checker_complete(recite_checker *c, recite_error *err)
{
    rc_matcher *m = c->m;
    int rc = RECITE_OK;
    uint64_t t0 = rc_phase_start(m);
    if (c->bg && m->matches.n)
        rc = apply_background(c, err);
    if (rc == RECITE_OK && c->cmi)
        rc = rc_cmi_verdicts(m->idx, &c->lic, m->text.v, m->text.n, m->works.v, m->works.n, err);
    rc_phase_end(m, RC_PH_CMI, t0);
    release_readers(c);
    return rc;
}

int recite_checker_finish(const recite_result **out, recite_checker *c, recite_error *err)
{
    *out = NULL;
    rc_matcher *m = c->m;
    int rc = whole(c, err);
    if (rc == RECITE_OK)
        rc = rc_matcher_finish(m, err);
    if (rc == RECITE_OK)
        rc = rc_checker_complete(c, err);
    if (rc != RECITE_OK) {
        release_readers(c);
        return rc;
    }
    c->live_works.n = 0;
    *out = &m->result;
    return RECITE_OK;
}

int recite_check_text(const recite_result **out, recite_checker *c, const char *text, size_t len,
                      recite_error *err)
{
    recite_checker_reset(c);
    int rc = recite_checker_feed(c, text, len, err);
    if (rc != RECITE_OK)
        return rc;
    return recite_checker_finish(out, c, err);
}

/* ==== streaming ==== */

unsigned recite_checker_leak_bound(const recite_checker *c, recite_mode mode)
{
    return rc_matcher_leak_bound(c->m, mode);
}

/* The works of the matcher's result so far, with CMI: kept from the last poll for the works
 * seen before, computed (against the text of this moment) for the others. */
static int live_works(recite_checker *c, const recite_result *so_far, recite_error *err)
{
    RC_VEC(recite_work_hit) next = {0};
    if (RC_VEC_RESERVE(next, so_far->nworks + 1) != RECITE_OK)
        return rc_error_set(err, RECITE_ENOMEM, "out of memory");
    size_t fresh = 0;
    for (size_t w = 0; w < so_far->nworks; w++) {
        const recite_work_hit *h = &so_far->works[w];
        const recite_work_hit *old = NULL;
        for (size_t o = 0; o < c->live_works.n && !old; o++)
            if (c->live_works.v[o].work == h->work)
                old = &c->live_works.v[o];
        recite_work_hit nh = *h;
        if (old) { /* the figures are new, the CMI is the work's from before */
            nh = *old;
            nh.matches = h->matches;
            nh.tokens_covered = h->tokens_covered;
            nh.longest_tokens = h->longest_tokens;
            nh.coverage = h->coverage;
            nh.similarity = h->similarity;
            nh.common = h->common;
            next.v[next.n++] = nh;
        } else { /* new works first, so their CMI is computed in one call */
            if (fresh < next.n)
                next.v[next.n] = next.v[fresh];
            next.n++;
            next.v[fresh++] = nh;
        }
    }
    int rc = RECITE_OK;
    if (fresh && c->cmi) {
        const rc_matcher *m = c->m;
        rc = rc_cmi_verdicts(m->idx, &c->lic, m->text.v, m->text.n, next.v, fresh, err);
    }
    if (rc != RECITE_OK) {
        RC_VEC_FREE(next);
        return rc;
    }
    /* Back in the matcher's order (most tokens covered first). */
    for (size_t w = 0; w < so_far->nworks; w++)
        for (size_t k = w; k < next.n; k++)
            if (next.v[k].work == so_far->works[w].work) {
                recite_work_hit t = next.v[w];
                next.v[w] = next.v[k];
                next.v[k] = t;
                break;
            }
    RC_VEC_FREE(c->live_works);
    c->live_works.v = next.v;
    c->live_works.n = next.n;
    c->live_works.cap = next.cap;
    return RECITE_OK;
}

int recite_checker_poll(recite_poll *out, recite_checker *c, recite_error *err)
{
    if (whole(c, err) != RECITE_OK) {
        memset(out, 0, sizeof *out);
        return RECITE_EINVAL;
    }
    int rc = rc_matcher_poll(out, c->m, err);
    if (rc != RECITE_OK || c->m->finished)
        return rc; /* after finish: the final result, CMI included */
    if (out->nevents && (rc = live_works(c, out->so_far, err)) != RECITE_OK)
        return rc;
    c->live = *out->so_far;
    c->live.works = c->live_works.v;
    c->live.nworks = c->live_works.n;
    out->so_far = &c->live;
    return RECITE_OK;
}

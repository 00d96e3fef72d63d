/*
 * serve_filter.c — the release gate of a streamed answer: text goes to a checker as it comes,
 * and is released to the reader only once it is settled (before the poll's `cleared`: every
 * recitation starting there has been reported, the leak bound of recite.h), never inside a span
 * that may still grow (its work's action could still change), with spans of works to redact
 * replaced by a marker and nothing released from the start of a span of a work to block on.
 * At the end the whole text is checked (the batch result, near-verbatim spans included) and the
 * rest is released under the final verdict. Knows nothing of HTTP: the proxy drives it.
 */
#include "serve.h"

#include <stdlib.h>
#include <string.h>

int serve_filter_init(serve_filter *f, const serve_server *s, serve_gen *g, recite_error *err)
{
    *f = (serve_filter){0};
    f->srv = s;
    f->gen = g;
    return serve_checker_get(&f->chk, g, err);
}

void serve_filter_free(serve_filter *f)
{
    if (f->chk)
        serve_checker_put(f->gen, f->chk);
    free(f->spans);
    free(f->acts);
    json_decref(f->annotation);
    *f = (serve_filter){0};
}

static bool acts_for(serve_filter *f, size_t n)
{
    if (n <= f->acts_cap)
        return true;
    size_t cap = n < 16 ? 16 : n * 2;
    serve_act *a = realloc(f->acts, cap * sizeof *a);
    if (!a)
        return false;
    f->acts = a;
    f->acts_cap = cap;
    return true;
}

static bool spans_for(serve_filter *f, size_t n)
{
    if (n <= f->cap)
        return true;
    size_t cap = n < 16 ? 16 : n * 2;
    serve_fspan *s = realloc(f->spans, cap * sizeof *s);
    if (!s)
        return false;
    f->spans = s;
    f->cap = cap;
    return true;
}

/* The "recite" annotation of the choice: verdict, action taken, why, and the works. */
static void annotate(serve_filter *f, const recite_result *res, serve_act action)
{
    json_t *a = json_object();
    if (!a)
        return;
    json_object_set_new(
        a, "verdict",
        json_string(f->verdict == RECITE_ACTION_ALLOW ? "pass" : recite_action_name(f->verdict)));
    json_object_set_new(a, "action", json_string(serve_act_name(action)));
    if (action == ACT_BLOCK)
        json_object_set_new(a, "reason", json_string("recitation"));
    json_t *works = serve_works_json(f->gen, res, f->acts);
    json_object_set_new(a, "works", works ? works : json_array());
    json_object_set_new(a, "leak_bound_tokens", json_integer(f->gen->leak_prose));
    json_object_set_new(a, "complete", json_boolean(f->finished));
    json_object_set_new(a, "truncated", json_boolean(res->truncated));
    json_decref(f->annotation);
    f->annotation = a;
}

/* Releases text[released, limit), redacting, where limit is `cleared` lowered to the start of
 * any span that is growing or to block on (final: the text checked whole). */
static void release(serve_filter *f, uint64_t cleared, bool final, sbuf *out)
{
    size_t len;
    const char *text = recite_checker_text(f->chk, &len);
    uint64_t limit = cleared < len ? cleared : len;
    if (f->truncated && !final)
        limit = f->released; /* the leak bound no longer holds: wait for the whole check */
    for (size_t i = 0; i < f->nspans; i++) {
        const serve_fspan *sp = &f->spans[i];
        if (sp->act == ACT_BLOCK || (sp->growing && !final)) {
            if (sp->start < limit)
                limit = sp->start;
            if (sp->act == ACT_BLOCK)
                f->blocked = true;
        }
        if (sp->act > f->worst)
            f->worst = sp->act;
    }
    limit = serve_utf8_floor(text, len, (size_t)limit);
    uint64_t pos = f->released;
    while (pos < limit) {
        /* The first span to redact that reaches past pos and starts before the limit. */
        const serve_fspan *r = NULL;
        for (size_t i = 0; i < f->nspans; i++) {
            const serve_fspan *sp = &f->spans[i];
            if (sp->act == ACT_REDACT && sp->end > pos && sp->start < limit &&
                (!r || sp->start < r->start))
                r = sp;
        }
        if (!r) {
            sbuf_add(out, text + pos, (size_t)(limit - pos));
            pos = limit;
            break;
        }
        if (r->start > pos) {
            sbuf_add(out, text + pos, (size_t)(r->start - pos));
            pos = r->start;
        }
        serve_add_marker(out, f->srv, f->gen, r->work);
        /* Skip the span and every span to redact overlapping it. */
        uint64_t end = r->end;
        for (bool grew = true; grew;) {
            grew = false;
            for (size_t i = 0; i < f->nspans; i++) {
                const serve_fspan *sp = &f->spans[i];
                if (sp->act == ACT_REDACT && sp->start < end && sp->end > end) {
                    end = sp->end;
                    grew = true;
                }
            }
        }
        pos = end;
    }
    if (pos > f->released)
        f->released = pos;
}

int serve_filter_feed(serve_filter *f, const char *s, size_t n, sbuf *out, recite_error *err)
{
    if (f->blocked || f->finished || n == 0)
        return RECITE_OK;
    recite_poll p;
    int rc = recite_checker_feed(f->chk, s, n, err);
    if (rc == RECITE_OK)
        rc = recite_checker_poll(&p, f->chk, err);
    if (rc != RECITE_OK)
        return rc;
    f->fed += n;
    for (size_t e = 0; e < p.nevents; e++) {
        const recite_span_event *ev = &p.events[e];
        if (ev->span >= f->nspans) {
            if (!spans_for(f, (size_t)ev->span + 1))
                return serve_oom(err);
            for (size_t k = f->nspans; k <= ev->span; k++)
                f->spans[k] = (serve_fspan){0};
            f->nspans = (size_t)ev->span + 1;
        }
        serve_fspan *sp = &f->spans[ev->span];
        sp->start = ev->match.out_start;
        sp->end = ev->match.out_end;
        sp->work = ev->match.work;
        sp->growing = ev->growing != 0;
    }
    /* Actions are decided on the result so far: they may change as spans grow (coverage,
     * longest span), so every span's is decided again. */
    if (!acts_for(f, p.so_far->nworks))
        return serve_oom(err);
    serve_decide(f->acts, &f->verdict, f->srv, f->gen, NULL, p.so_far);
    for (size_t i = 0; i < f->nspans; i++)
        f->spans[i].act = serve_act_of(p.so_far, f->acts, f->spans[i].work);
    f->truncated = p.truncated != 0;
    release(f, p.cleared, false, out);
    if (f->blocked)
        annotate(f, p.so_far, ACT_BLOCK);
    return out->oom ? serve_oom(err) : RECITE_OK;
}

int serve_filter_finish(serve_filter *f, sbuf *out, recite_error *err)
{
    if (f->finished || f->blocked)
        return RECITE_OK;
    const recite_result *res;
    int rc = recite_checker_finish(&res, f->chk, err);
    if (rc != RECITE_OK)
        return rc;
    f->finished = true;
    /* The whole text checked: the final spans (near-verbatim ones too) and actions. */
    if (!acts_for(f, res->nworks) || !spans_for(f, res->nmatches))
        return serve_oom(err);
    serve_decide(f->acts, &f->verdict, f->srv, f->gen, NULL, res);
    f->nspans = res->nmatches;
    for (size_t i = 0; i < res->nmatches; i++) {
        const recite_match *m = &res->matches[i];
        f->spans[i] = (serve_fspan){m->out_start, m->out_end, m->work, false,
                                    serve_act_of(res, f->acts, m->work)};
    }
    f->truncated = res->truncated != 0;
    release(f, res->bytes, true, out);
    annotate(f, res, f->blocked ? ACT_BLOCK : f->worst);
    return out->oom ? serve_oom(err) : RECITE_OK;
}

int serve_filter_whole(serve_filter *f, const char *s, size_t n, sbuf *out, recite_error *err)
{
    int rc = recite_checker_feed(f->chk, s, n, err);
    if (rc != RECITE_OK)
        return rc;
    f->fed += n;
    return serve_filter_finish(f, out, err);
}

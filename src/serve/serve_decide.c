/*
 * serve_decide.c — from a check result to what the server does: each work's policy action
 * (recite_policy_decide) mapped to pass, cite, redact or block by --on-cite/--on-flag/--on-block,
 * redaction markers, and the works found as the JSON annotation that the proxy and the adapters
 * attach (work, title, license, URL, spans).
 */
#include "serve.h"

#include <stdlib.h>
#include <string.h>

serve_act serve_decide(serve_act *acts, recite_action *verdict, const serve_server *s,
                       const serve_gen *g, const recite_policy *policy, const recite_result *res)
{
    if (!policy)
        policy = g->policy;
    recite_action small[16];
    recite_action *actions = res->nworks <= 16 ? small : malloc(res->nworks * sizeof *actions);
    recite_action v;
    serve_act worst = ACT_PASS;
    if (!actions) {
        /* Out of memory: decide the verdict alone and apply it to every work. */
        v = recite_policy_decide(NULL, NULL, policy, g->idx, res);
        worst = s->opt.on[v];
        for (size_t i = 0; i < res->nworks; i++)
            acts[i] = worst;
    } else {
        v = recite_policy_decide(actions, NULL, policy, g->idx, res);
        for (size_t i = 0; i < res->nworks; i++) {
            acts[i] = s->opt.on[actions[i]];
            if (acts[i] > worst)
                worst = acts[i];
        }
        if (actions != small)
            free(actions);
    }
    if (verdict)
        *verdict = v;
    return worst;
}

serve_act serve_act_of(const recite_result *res, const serve_act *acts, uint32_t work)
{
    for (size_t i = 0; i < res->nworks; i++)
        if (res->works[i].work == work)
            return acts[i];
    return ACT_PASS;
}

void serve_add_marker(sbuf *b, const serve_server *s, const serve_gen *g, uint32_t work)
{
    recite_work_info info;
    const char *id = recite_index_work(&info, g->idx, work) == RECITE_OK ? info.id : "?";
    const char *m = s->opt.marker;
    for (const char *p; (p = strstr(m, "{work}")) != NULL; m = p + 6) {
        sbuf_add(b, m, (size_t)(p - m));
        sbuf_adds(b, id);
    }
    sbuf_adds(b, m);
}

void serve_redact(sbuf *out, const serve_server *s, const serve_gen *g, const char *text,
                  size_t len, const recite_result *res, const serve_act *acts, serve_act min_act)
{
    uint64_t at = 0;
    for (size_t i = 0; i < res->nmatches; i++) {
        const recite_match *m = &res->matches[i];
        if (m->out_end <= at || serve_act_of(res, acts, m->work) < min_act)
            continue;
        uint64_t start = m->out_start > at ? m->out_start : at, end = m->out_end;
        /* Matches are sorted by start: extend over those that overlap this one. */
        for (size_t j = i + 1; j < res->nmatches && res->matches[j].out_start < end; j++)
            if (serve_act_of(res, acts, res->matches[j].work) >= min_act &&
                res->matches[j].out_end > end)
                end = res->matches[j].out_end;
        if (start > len)
            break;
        sbuf_add(out, text + at, (size_t)(start - at));
        serve_add_marker(out, s, g, m->work);
        at = end < len ? end : len;
    }
    if (at < len)
        sbuf_add(out, text + at, len - at);
    else if (!out->s)
        sbuf_add(out, "", 0);
}

static json_t *str_or_null(const char *s)
{
    return s && s[0] ? json_string(s) : json_null();
}

json_t *serve_works_json(const serve_gen *g, const recite_result *res, const serve_act *acts)
{
    static const char *const kinds[] = {"exact", "normalized", "near"};
    json_t *arr = json_array();
    for (size_t i = 0; arr && i < res->nworks; i++) {
        const recite_work_hit *h = &res->works[i];
        recite_work_info info;
        if (recite_index_work(&info, g->idx, h->work) != RECITE_OK)
            continue;
        json_t *spans = json_array();
        for (size_t k = 0; spans && k < res->nmatches; k++) {
            const recite_match *m = &res->matches[k];
            if (m->work != h->work)
                continue;
            json_array_append_new(
                spans,
                json_pack("{s:I, s:I, s:I, s:I, s:i, s:s, s:b}", "start", (json_int_t)m->out_start,
                          "end", (json_int_t)m->out_end, "source_start", (json_int_t)m->src_start,
                          "source_end", (json_int_t)m->src_end, "tokens", (int)m->tokens, "kind",
                          kinds[m->kind <= RECITE_KIND_NEAR ? m->kind : 0], "common", m->common));
        }
        json_t *w = json_object();
        if (!w || !spans) {
            json_decref(w);
            json_decref(spans);
            json_decref(arr);
            return NULL;
        }
        json_object_set_new(w, "work", json_string(info.id));
        json_object_set_new(w, "title", str_or_null(info.title));
        json_object_set_new(w, "license", str_or_null(h->license));
        json_object_set_new(w, "url", str_or_null(info.url));
        json_object_set_new(w, "mode",
                            json_string(info.mode == RECITE_MODE_CODE ? "code" : "prose"));
        json_object_set_new(w, "action", json_string(serve_act_name(acts[i])));
        json_object_set_new(w, "spans", spans);
        json_array_append_new(arr, w);
    }
    return arr;
}

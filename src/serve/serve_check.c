/*
 * serve_check.c — the stateless checks of `recite serve`: POST /v1/check (the contract JSON of
 * `recite check --json`, optionally with the text redacted), and the adapters for existing
 * guardrail frameworks: Azure AI Content Safety's protected-material detection
 * (POST /contentsafety/text:detectProtectedMaterial) and LiteLLM's generic guardrail API
 * (POST /beta/litellm_basic_guardrail_api). Shapes in docs/SERVE.md.
 */
#include "serve_http.h"

#include <stdlib.h>
#include <string.h>

/* One text checked with a checker of generation g: the result stays valid until the checker
 * is given back. min_tokens 0 = the index's default (a pooled checker). */
typedef struct one_check {
    serve_gen *g;
    recite_checker *chk;
    bool pooled;
    const recite_result *res;
    serve_act *acts;
    serve_act worst;
    recite_action verdict;
} one_check;

static int run_check(one_check *k, serve_server *s, serve_gen *g, const recite_policy *policy,
                     unsigned min_tokens, const char *text, size_t len, recite_error *err)
{
    *k = (one_check){.g = g};
    int rc;
    if (min_tokens) {
        recite_check_options o = RECITE_CHECK_OPTIONS_INIT;
        o.min_tokens = min_tokens;
        rc = recite_checker_create(&k->chk, g->idx, &o, err);
    } else {
        k->pooled = true;
        rc = serve_checker_get(&k->chk, g, err);
    }
    if (rc == RECITE_OK)
        rc = recite_check_text(&k->res, k->chk, text, len, err);
    if (rc != RECITE_OK)
        return rc;
    k->acts = malloc((k->res->nworks ? k->res->nworks : 1) * sizeof *k->acts);
    if (!k->acts)
        return serve_oom(err);
    k->worst = serve_decide(k->acts, &k->verdict, s, g, policy, k->res);
    serve_metrics_result(&s->metrics, k->res, k->verdict);
    return RECITE_OK;
}

static void end_check(one_check *k)
{
    if (k->pooled)
        serve_checker_put(k->g, k->chk);
    else
        recite_checker_free(k->chk);
    free(k->acts);
    *k = (one_check){0};
}

static enum MHD_Result check_failed(struct MHD_Connection *c, serve_req *r, const recite_error *err)
{
    if (err->code == RECITE_EINVAL)
        return serve_send_error(c, r, 400, "invalid_option", "%s", err->message);
    if (err->code == RECITE_ELIMIT)
        return serve_send_error(c, r, 413, "text_too_long", "%s", err->message);
    return serve_send_error(c, r, 500, "check_failed", "%s",
                            err->message[0] ? err->message : recite_strerror(err->code));
}

/* ==== POST /v1/check ==== */

static enum MHD_Result check_v1(struct MHD_Connection *c, serve_req *r, json_t *body)
{
    serve_server *s = r->srv;
    json_t *text = json_object_get(body, "text"), *mt = json_object_get(body, "min_tokens");
    json_t *pol = json_object_get(body, "policy"), *redact = json_object_get(body, "redact");
    json_t *input = json_object_get(body, "input");
    if (!json_is_string(text))
        return serve_send_error(c, r, 400, "missing_text", "\"text\" (a string) is required");
    if (mt &&
        !(json_is_integer(mt) && json_integer_value(mt) > 0 && json_integer_value(mt) <= 1000000))
        return serve_send_error(c, r, 400, "invalid_option",
                                "\"min_tokens\" must be a whole number from 1 to 1000000");
    if (redact && !json_is_boolean(redact))
        return serve_send_error(c, r, 400, "invalid_option", "\"redact\" must be true or false");
    if (input && !json_is_string(input))
        return serve_send_error(c, r, 400, "invalid_option", "\"input\" must be a string");
    if (pol && !json_is_object(pol))
        return serve_send_error(c, r, 400, "invalid_policy",
                                "\"policy\" must be a policy object (docs/POLICY.md)");
    recite_error err = {0};
    recite_policy *policy = NULL;
    if (pol) {
        char *pj = json_dumps(pol, JSON_COMPACT);
        int prc = pj ? recite_policy_parse(&policy, pj, strlen(pj), "policy",
                                           getenv("RECITE_SPDX_DIR"), &err)
                     : serve_oom(&err);
        free(pj);
        if (prc != RECITE_OK)
            return serve_send_error(c, r, 400, "invalid_policy", "%s", err.message);
    }
    serve_gen *g = serve_gen_acquire(s);
    one_check k;
    const char *t = json_string_value(text);
    size_t len = json_string_length(text);
    enum MHD_Result ok;
    char *report = NULL;
    if (run_check(&k, s, g, policy, mt ? (unsigned)json_integer_value(mt) : 0, t, len, &err) !=
            RECITE_OK ||
        recite_report_json(&report, g->idx, policy ? policy : g->policy,
                           input ? json_string_value(input) : "text", t, len, k.res,
                           &err) != RECITE_OK) {
        ok = check_failed(c, r, &err);
        goto done;
    }
    sbuf b = {0};
    size_t n = strlen(report);
    while (n && (report[n - 1] == '\n' || report[n - 1] == ' '))
        n--;
    if (json_is_true(redact) && n && report[n - 1] == '}') {
        /* The report with one more field: the text, each span of a work to redact or block
         * replaced by the marker. */
        sbuf red = {0};
        serve_redact(&red, s, g, t, len, k.res, k.acts, ACT_REDACT);
        sbuf_add(&b, report, n - 1);
        sbuf_adds(&b, ",\"redacted\":");
        sbuf_json(&b, red.s ? red.s : "", red.n);
        sbuf_adds(&b, "}\n");
        sbuf_free(&red);
    } else {
        sbuf_add(&b, report, n);
        sbuf_adds(&b, "\n");
    }
    size_t bn;
    char *out = sbuf_take(&b, &bn);
    ok = out ? serve_send(c, r, 200, "application/json", out, bn)
             : serve_send_error(c, r, 500, "out_of_memory", "out of memory");
done:
    free(report);
    end_check(&k);
    serve_gen_release(g);
    recite_policy_free(policy);
    return ok;
}

/* ==== Azure: POST /contentsafety/text:detectProtectedMaterial ==== */

static json_t *recite_field(const one_check *k)
{
    json_t *works = serve_works_json(k->g, k->res, k->acts);
    return json_pack("{s:s, s:s, s:o}", "verdict",
                     k->verdict == RECITE_ACTION_ALLOW ? "pass" : recite_action_name(k->verdict),
                     "action", serve_act_name(k->worst), "works", works ? works : json_array());
}

static enum MHD_Result azure(struct MHD_Connection *c, serve_req *r, json_t *body)
{
    serve_server *s = r->srv;
    json_t *text = json_object_get(body, "text");
    if (!json_is_string(text))
        return serve_send_error(c, r, 400, "InvalidRequestBody", "\"text\" (a string) is required");
    serve_gen *g = serve_gen_acquire(s);
    one_check k;
    recite_error err = {0};
    enum MHD_Result ok;
    if (run_check(&k, s, g, NULL, 0, json_string_value(text), json_string_length(text), &err) !=
        RECITE_OK) {
        ok = check_failed(c, r, &err);
    } else {
        atomic_fetch_add(&s->metrics.actions[k.worst], 1);
        /* Detected: anything the policy does not simply allow. */
        json_t *j = json_pack("{s:{s:b}, s:o}", "protectedMaterialAnalysis", "detected",
                              k.verdict != RECITE_ACTION_ALLOW, "recite", recite_field(&k));
        ok = serve_send_json(c, r, 200, j);
    }
    end_check(&k);
    serve_gen_release(g);
    return ok;
}

/* ==== LiteLLM: POST /beta/litellm_basic_guardrail_api ==== */

static enum MHD_Result litellm(struct MHD_Connection *c, serve_req *r, json_t *body)
{
    serve_server *s = r->srv;
    json_t *texts = json_object_get(body, "texts");
    if (!json_is_array(texts))
        return serve_send_error(c, r, 400, "missing_texts",
                                "\"texts\" (an array of strings) is required");
    size_t n = json_array_size(texts);
    for (size_t i = 0; i < n; i++)
        if (!json_is_string(json_array_get(texts, i)))
            return serve_send_error(c, r, 400, "missing_texts",
                                    "\"texts\" must hold strings only (item %zu is not one)", i);
    serve_gen *g = serve_gen_acquire(s);
    json_t *out_texts = json_array(), *details = json_array();
    serve_act worst = ACT_PASS;
    char reason[512] = "";
    recite_error err = {0};
    enum MHD_Result ok;
    for (size_t i = 0; i < n; i++) {
        json_t *t = json_array_get(texts, i);
        one_check k;
        const char *text = json_string_value(t);
        size_t len = json_string_length(t);
        if (run_check(&k, s, g, NULL, 0, text, len, &err) != RECITE_OK) {
            end_check(&k);
            ok = check_failed(c, r, &err);
            goto done;
        }
        if (k.worst == ACT_BLOCK && !reason[0]) {
            for (size_t w = 0; w < k.res->nworks; w++) {
                recite_work_info info;
                if (k.acts[w] == ACT_BLOCK &&
                    recite_index_work(&info, g->idx, k.res->works[w].work) == RECITE_OK) {
                    snprintf(reason, sizeof reason,
                             "recitation of a protected work: %s (text %zu, verdict %s)", info.id,
                             i, recite_action_name(k.verdict));
                    break;
                }
            }
        }
        if (k.worst > worst)
            worst = k.worst;
        sbuf red = {0};
        serve_redact(&red, s, g, text, len, k.res, k.acts, ACT_REDACT);
        json_array_append_new(out_texts, json_stringn(red.s ? red.s : "", red.n));
        sbuf_free(&red);
        json_array_append_new(details, recite_field(&k));
        end_check(&k);
    }
    atomic_fetch_add(&s->metrics.actions[worst], 1);
    json_t *j = json_object();
    if (worst == ACT_BLOCK) {
        json_object_set_new(j, "action", json_string("BLOCKED"));
        json_object_set_new(j, "blocked_reason", json_string(reason));
    } else if (worst == ACT_REDACT) {
        json_object_set_new(j, "action", json_string("GUARDRAIL_INTERVENED"));
        json_object_set_new(j, "texts", out_texts);
        out_texts = NULL;
    } else {
        json_object_set_new(j, "action", json_string("NONE"));
    }
    json_object_set_new(j, "recite", details);
    details = NULL;
    ok = serve_send_json(c, r, 200, j);
done:
    json_decref(out_texts);
    json_decref(details);
    serve_gen_release(g);
    return ok;
}

enum MHD_Result serve_check_handle(struct MHD_Connection *c, serve_req *r)
{
    enum MHD_Result sent;
    json_t *body = serve_body_object(c, r, &sent);
    if (!body)
        return sent;
    enum MHD_Result ok = r->route == ROUTE_CHECK   ? check_v1(c, r, body)
                         : r->route == ROUTE_AZURE ? azure(c, r, body)
                                                   : litellm(c, r, body);
    json_decref(body);
    return ok;
}

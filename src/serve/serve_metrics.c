/*
 * serve_metrics.c — the counters of `recite serve` (lock-free atomics updated by every
 * request) and their Prometheus text exposition for GET /metrics: requests by route and
 * status, a latency histogram per route, bytes, tokens, matches and verdicts checked, proxy
 * actions, sessions, the index in use and its reloads. docs/SERVE.md lists them.
 */
#include "serve.h"

#include <string.h>

static const unsigned statuses[SERVE_NSTATUS] = {200, 201, 204, 400, 401, 404, 405, 408, 409, 410,
                                                 413, 415, 429, 500, 502, 503, 504, 0,   0,   0};
/* Upper bounds of the latency buckets, seconds. */
static const double buckets[SERVE_NBUCKETS] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                               0.1,    0.25,  0.5,    1,     2.5,  10,    60};
static const char *const routes[ROUTE_COUNT] = {"/v1/check",
                                                "/v1/sessions",
                                                "/v1/sessions/{id}/append",
                                                "GET /v1/sessions/{id}",
                                                "DELETE /v1/sessions/{id}",
                                                "/contentsafety/text:detectProtectedMaterial",
                                                "/beta/litellm_basic_guardrail_api",
                                                "/v1/chat/completions",
                                                "/v1/completions",
                                                "/healthz",
                                                "/metrics",
                                                "other"};

const char *serve_route_name(int route)
{
    return route >= 0 && route < ROUTE_COUNT ? routes[route] : "other";
}

static int status_slot(unsigned status)
{
    for (int i = 0; i < SERVE_NSTATUS; i++)
        if (statuses[i] == status)
            return i;
    return SERVE_NSTATUS - 1; /* any other status: counted as 0 ("other") */
}

void serve_metrics_request(serve_metrics *m, int route, unsigned status, double seconds)
{
    if (route < 0 || route >= ROUTE_COUNT)
        route = ROUTE_OTHER;
    atomic_fetch_add_explicit(&m->requests[route][status_slot(status)], 1, memory_order_relaxed);
    int b = 0;
    while (b < SERVE_NBUCKETS && seconds > buckets[b])
        b++;
    atomic_fetch_add_explicit(&m->latency[route][b], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&m->latency_sum_ns[route],
                              (unsigned long long)(seconds > 0 ? seconds * 1e9 : 0),
                              memory_order_relaxed);
}

void serve_metrics_result(serve_metrics *m, const recite_result *res, recite_action verdict)
{
    atomic_fetch_add_explicit(&m->bytes_checked, res->bytes, memory_order_relaxed);
    atomic_fetch_add_explicit(&m->tokens_checked, res->tokens, memory_order_relaxed);
    atomic_fetch_add_explicit(&m->matches, res->nmatches, memory_order_relaxed);
    if (verdict <= RECITE_ACTION_BLOCK)
        atomic_fetch_add_explicit(&m->verdicts[verdict], 1, memory_order_relaxed);
}

static unsigned long long get(atomic_ullong *a)
{
    return atomic_load_explicit(a, memory_order_relaxed);
}

static void counter(sbuf *o, const char *name, const char *help, unsigned long long v)
{
    sbuf_addf(o, "# HELP %s %s\n# TYPE %s counter\n%s %llu\n", name, help, name, name, v);
}

static void gauge(sbuf *o, const char *name, const char *help, double v)
{
    sbuf_addf(o, "# HELP %s %s\n# TYPE %s gauge\n%s %.17g\n", name, help, name, name, v);
}

void serve_metrics_render(sbuf *o, serve_server *s)
{
    serve_metrics *m = &s->metrics;
    sbuf_adds(o, "# HELP recite_http_requests_total HTTP requests answered, by route and "
                 "status.\n# TYPE recite_http_requests_total counter\n");
    for (int r = 0; r < ROUTE_COUNT; r++)
        for (int k = 0; k < SERVE_NSTATUS; k++) {
            unsigned long long v = get(&m->requests[r][k]);
            if (v || (k == 0 && r != ROUTE_OTHER))
                sbuf_addf(o, "recite_http_requests_total{route=\"%s\",status=\"%u\"} %llu\n",
                          routes[r], statuses[k], v);
        }
    sbuf_adds(o, "# HELP recite_http_request_duration_seconds Time from the request's first "
                 "byte to the end of its response.\n"
                 "# TYPE recite_http_request_duration_seconds histogram\n");
    for (int r = 0; r < ROUTE_COUNT; r++) {
        unsigned long long cum = 0;
        for (int b = 0; b <= SERVE_NBUCKETS; b++) {
            cum += get(&m->latency[r][b]);
            if (b < SERVE_NBUCKETS)
                sbuf_addf(o,
                          "recite_http_request_duration_seconds_bucket{route=\"%s\",le=\"%g\"} "
                          "%llu\n",
                          routes[r], buckets[b], cum);
            else
                sbuf_addf(o,
                          "recite_http_request_duration_seconds_bucket{route=\"%s\",le=\"+Inf\"}"
                          " %llu\n",
                          routes[r], cum);
        }
        sbuf_addf(o, "recite_http_request_duration_seconds_sum{route=\"%s\"} %.9f\n", routes[r],
                  (double)get(&m->latency_sum_ns[r]) / 1e9);
        sbuf_addf(o, "recite_http_request_duration_seconds_count{route=\"%s\"} %llu\n", routes[r],
                  cum);
    }
    counter(o, "recite_checked_bytes_total", "Bytes of text checked.", get(&m->bytes_checked));
    counter(o, "recite_checked_tokens_total", "Tokens of text checked.", get(&m->tokens_checked));
    counter(o, "recite_matches_total", "Recited spans found.", get(&m->matches));
    sbuf_adds(o, "# HELP recite_verdicts_total Policy verdicts of complete checks.\n"
                 "# TYPE recite_verdicts_total counter\n");
    static const char *const vnames[4] = {"pass", "cite", "flag", "block"};
    for (int v = 0; v < 4; v++)
        sbuf_addf(o, "recite_verdicts_total{verdict=\"%s\"} %llu\n", vnames[v],
                  get(&m->verdicts[v]));
    sbuf_adds(o, "# HELP recite_actions_total What the proxy and guardrail endpoints did with "
                 "answers: pass, cite, redact, block.\n# TYPE recite_actions_total counter\n");
    for (int a = 0; a < 4; a++)
        sbuf_addf(o, "recite_actions_total{action=\"%s\"} %llu\n", serve_act_name((serve_act)a),
                  get(&m->actions[a]));
    gauge(o, "recite_sessions_open", "Streaming sessions open.",
          s->sessions ? serve_sessions_open(s->sessions) : 0);
    counter(o, "recite_sessions_created_total", "Streaming sessions created.",
            get(&m->sessions_created));
    counter(o, "recite_sessions_expired_total", "Streaming sessions expired (idle).",
            get(&m->sessions_expired));
    gauge(o, "recite_connections_open", "HTTP connections open.", atomic_load(&s->connections));
    counter(o, "recite_connections_rejected_total",
            "Requests answered 503 because of the connection limit.",
            get(&m->rejected_connections));
    counter(o, "recite_upstream_errors_total", "Proxied requests the upstream failed.",
            get(&m->upstream_errors));
    counter(o, "recite_client_disconnects_total", "Proxied streams the client left early.",
            get(&m->client_disconnects));
    serve_gen *g = serve_gen_acquire(s);
    gauge(o, "recite_index_works", "Works in the index in use.", (double)g->stats.works);
    gauge(o, "recite_index_bytes", "Size of the index file in use.", (double)g->stats.bytes_total);
    gauge(o, "recite_index_text_bytes", "Bytes of distinct text in the index in use.",
          (double)g->stats.text_bytes);
    gauge(o, "recite_index_generation", "Number of the index in use (1, then +1 per reload).",
          (double)g->number);
    gauge(o, "recite_leak_bound_tokens",
          "Tokens of prose a recitation may run before it is "
          "reported (recite_checker_leak_bound).",
          (double)g->leak_prose);
    serve_gen_release(g);
    counter(o, "recite_index_reloads_total", "Indexes (or policies) reloaded.", get(&m->reloads));
    counter(o, "recite_index_reload_failures_total",
            "Reloads that failed (the index in use was kept).", get(&m->reload_failures));
    gauge(o, "recite_uptime_seconds", "Seconds since the server started.",
          serve_now() - s->started);
}

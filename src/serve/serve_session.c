/*
 * serve_session.c — streaming sessions of `recite serve`: POST /v1/sessions opens one (a
 * checker of the index in use, kept across requests), POST /v1/sessions/{id}/append feeds text
 * and answers the spans found since the last append, the verdict so far and the cleared offset
 * (recite_checker_poll), GET /v1/sessions/{id} checks the whole text and answers the contract
 * JSON (the session is then finished), DELETE closes it. Sessions expire when idle; their
 * number is capped (429); an id that expired answers 410, an unknown one 404, and a session in
 * use by another request or already finished 409.
 */
#include "serve_http.h"

#include <stdlib.h>
#include <string.h>

#define GONE_RING 4096 /* expired ids remembered, for 410 rather than 404 */

typedef struct session {
    char id[33];
    serve_gen *g;
    recite_checker *chk;
    bool pooled;
    double last_used;
    bool busy; /* a request holds it */
    bool finished;
    char *report; /* after GET: the contract JSON */
    size_t report_len;
    uint64_t bytes;
    struct session *next;
} session;

struct serve_sessions {
    serve_server *srv;
    pthread_mutex_t lock;
    session **buckets;
    size_t mask;
    unsigned open;
    char (*gone)[33];
    size_t gone_next;
};

serve_sessions *serve_sessions_new(serve_server *s)
{
    serve_sessions *ss = calloc(1, sizeof *ss);
    size_t n = 64;
    while (n < 2 * (size_t)s->opt.max_sessions && n < (1u << 24))
        n *= 2;
    if (!ss || !(ss->buckets = calloc(n, sizeof *ss->buckets)) ||
        !(ss->gone = calloc(GONE_RING, sizeof *ss->gone))) {
        if (ss)
            free(ss->buckets);
        free(ss);
        return NULL;
    }
    ss->srv = s;
    ss->mask = n - 1;
    pthread_mutex_init(&ss->lock, NULL);
    return ss;
}

static void session_free(session *x)
{
    if (x->pooled)
        serve_checker_put(x->g, x->chk);
    else
        recite_checker_free(x->chk);
    serve_gen_release(x->g);
    free(x->report);
    free(x);
}

void serve_sessions_free(serve_sessions *ss)
{
    if (!ss)
        return;
    for (size_t b = 0; b <= ss->mask; b++) {
        for (session *x = ss->buckets[b], *next; x; x = next) {
            next = x->next;
            session_free(x);
        }
    }
    pthread_mutex_destroy(&ss->lock);
    free(ss->buckets);
    free(ss->gone);
    free(ss);
}

unsigned serve_sessions_open(serve_sessions *ss)
{
    pthread_mutex_lock(&ss->lock);
    unsigned n = ss->open;
    pthread_mutex_unlock(&ss->lock);
    return n;
}

static size_t bucket_of(const serve_sessions *ss, const char *id)
{
    /* Ids are random: their first hex digits are a good hash. */
    size_t h = 0;
    for (int i = 0; i < 12 && id[i]; i++)
        h = h * 16 + (size_t)(id[i] <= '9' ? id[i] - '0' : id[i] - 'a' + 10);
    return h & ss->mask;
}

void serve_sessions_expire(serve_sessions *ss)
{
    double now = serve_now(), idle = ss->srv->opt.session_idle;
    session *dead = NULL;
    pthread_mutex_lock(&ss->lock);
    for (size_t b = 0; b <= ss->mask && ss->open; b++) {
        for (session **pp = &ss->buckets[b]; *pp;) {
            session *x = *pp;
            if (!x->busy && now - x->last_used > idle) {
                *pp = x->next;
                x->next = dead;
                dead = x;
                ss->open--;
                memcpy(ss->gone[ss->gone_next++ % GONE_RING], x->id, 33);
            } else {
                pp = &x->next;
            }
        }
    }
    pthread_mutex_unlock(&ss->lock);
    for (session *next; dead; dead = next) {
        next = dead->next;
        session_free(dead);
        atomic_fetch_add(&ss->srv->metrics.sessions_expired, 1);
    }
}

/* ==== looking a session up ==== */

static bool was_expired(const serve_sessions *ss, const char *id)
{
    for (size_t i = 0; i < GONE_RING; i++)
        if (ss->gone[i][0] && strcmp(ss->gone[i], id) == 0)
            return true;
    return false;
}

/* The session `id`, marked busy; NULL after sending 404, 409 or 410. With `unlink`, it is
 * also removed from the table (DELETE). */
static session *claim(struct MHD_Connection *c, serve_req *r, bool unlink, enum MHD_Result *sent)
{
    serve_sessions *ss = r->srv->sessions;
    const char *id = r->session_id;
    pthread_mutex_lock(&ss->lock);
    session **pp = &ss->buckets[bucket_of(ss, id)];
    while (*pp && strcmp((*pp)->id, id) != 0)
        pp = &(*pp)->next;
    session *x = *pp;
    if (!x) {
        bool gone = was_expired(ss, id);
        pthread_mutex_unlock(&ss->lock);
        *sent = gone ? serve_send_error(c, r, 410, "session_expired",
                                        "session %s expired after %u s without use", id,
                                        r->srv->opt.session_idle)
                     : serve_send_error(c, r, 404, "session_not_found", "no session %s", id);
        return NULL;
    }
    if (x->busy) {
        pthread_mutex_unlock(&ss->lock);
        *sent = serve_send_error(c, r, 409, "session_busy",
                                 "session %s is in use by another request", id);
        return NULL;
    }
    if (unlink) {
        *pp = x->next;
        ss->open--;
    }
    x->busy = true;
    pthread_mutex_unlock(&ss->lock);
    return x;
}

static void unclaim(serve_sessions *ss, session *x)
{
    pthread_mutex_lock(&ss->lock);
    x->busy = false;
    x->last_used = serve_now();
    pthread_mutex_unlock(&ss->lock);
}

/* ==== the endpoints ==== */

static enum MHD_Result create(struct MHD_Connection *c, serve_req *r)
{
    serve_server *s = r->srv;
    serve_sessions *ss = s->sessions;
    unsigned min_tokens = 0;
    if (r->body.n) {
        enum MHD_Result sent;
        json_t *body = serve_body_object(c, r, &sent);
        if (!body)
            return sent;
        json_t *mt = json_object_get(body, "min_tokens");
        bool bad = mt && !(json_is_integer(mt) && json_integer_value(mt) > 0 &&
                           json_integer_value(mt) <= 1000000);
        min_tokens = mt && !bad ? (unsigned)json_integer_value(mt) : 0;
        json_decref(body);
        if (bad)
            return serve_send_error(c, r, 400, "invalid_option",
                                    "\"min_tokens\" must be a whole number from 1 to 1000000");
    }
    if (serve_sessions_open(ss) >= s->opt.max_sessions)
        return serve_send_error(c, r, 429, "too_many_sessions",
                                "%u sessions are open (the limit); close some or wait for idle "
                                "ones to expire",
                                s->opt.max_sessions);
    session *x = calloc(1, sizeof *x);
    if (!x || !serve_random_id(x->id)) {
        free(x);
        return serve_send_error(c, r, 500, "out_of_memory", "cannot make a session");
    }
    x->g = serve_gen_acquire(s);
    recite_error err = {0};
    int rc;
    if (min_tokens) {
        recite_check_options o = RECITE_CHECK_OPTIONS_INIT;
        o.min_tokens = min_tokens;
        rc = recite_checker_create(&x->chk, x->g->idx, &o, &err);
    } else {
        x->pooled = true;
        rc = serve_checker_get(&x->chk, x->g, &err);
    }
    if (rc != RECITE_OK) {
        session_free(x);
        return serve_send_error(c, r, rc == RECITE_EINVAL ? 400 : 500,
                                rc == RECITE_EINVAL ? "invalid_option" : "check_failed", "%s",
                                err.message);
    }
    x->last_used = serve_now();
    pthread_mutex_lock(&ss->lock);
    bool full = ss->open >= s->opt.max_sessions;
    if (!full) {
        size_t b = bucket_of(ss, x->id);
        x->next = ss->buckets[b];
        ss->buckets[b] = x;
        ss->open++;
    }
    pthread_mutex_unlock(&ss->lock);
    if (full) {
        session_free(x);
        return serve_send_error(c, r, 429, "too_many_sessions", "%u sessions are open (the limit)",
                                s->opt.max_sessions);
    }
    atomic_fetch_add(&s->metrics.sessions_created, 1);
    json_t *j =
        json_pack("{s:s, s:i, s:{s:i, s:i}, s:I}", "id", x->id, "expires_after_idle_seconds",
                  (int)s->opt.session_idle, "leak_bound_tokens", "prose", (int)x->g->leak_prose,
                  "code", (int)x->g->leak_code, "generation", (json_int_t)x->g->number);
    return serve_send_json(c, r, 201, j);
}

static json_t *event_json(const serve_gen *g, const recite_span_event *ev)
{
    static const char *const kinds[] = {"exact", "normalized", "near"};
    recite_work_info info;
    const recite_match *m = &ev->match;
    const char *id = recite_index_work(&info, g->idx, m->work) == RECITE_OK ? info.id : "?";
    return json_pack("{s:i, s:s, s:{s:I, s:I}, s:{s:I, s:I}, s:i, s:s, s:b}", "span", (int)ev->span,
                     "work", id, "output", "start", (json_int_t)m->out_start, "end",
                     (json_int_t)m->out_end, "source", "start", (json_int_t)m->src_start, "end",
                     (json_int_t)m->src_end, "tokens", (int)m->tokens, "kind",
                     kinds[m->kind <= RECITE_KIND_NEAR ? m->kind : 0], "growing", ev->growing);
}

static enum MHD_Result append(struct MHD_Connection *c, serve_req *r)
{
    serve_server *s = r->srv;
    enum MHD_Result sent;
    json_t *body = serve_body_object(c, r, &sent);
    if (!body)
        return sent;
    json_t *text = json_object_get(body, "text");
    if (!json_is_string(text)) {
        json_decref(body);
        return serve_send_error(c, r, 400, "missing_text", "\"text\" (a string) is required");
    }
    session *x = claim(c, r, false, &sent);
    if (!x) {
        json_decref(body);
        return sent;
    }
    size_t len = json_string_length(text);
    recite_error err = {0};
    recite_poll p;
    enum MHD_Result ok;
    if (x->finished) {
        ok =
            serve_send_error(c, r, 409, "session_finished",
                             "session %s is finished (its result was read); open a new one", x->id);
    } else if (x->bytes + len > s->opt.max_session_bytes) {
        ok = serve_send_error(c, r, 413, "session_too_long",
                              "the session's text would exceed the limit of %zu bytes",
                              s->opt.max_session_bytes);
    } else if (recite_checker_feed(x->chk, json_string_value(text), len, &err) != RECITE_OK ||
               recite_checker_poll(&p, x->chk, &err) != RECITE_OK) {
        ok = serve_send_error(c, r, 500, "check_failed", "%s", err.message);
    } else {
        x->bytes += len;
        json_t *events = json_array();
        for (size_t e = 0; e < p.nevents; e++)
            json_array_append_new(events, event_json(x->g, &p.events[e]));
        serve_act *acts = malloc((p.so_far->nworks ? p.so_far->nworks : 1) * sizeof *acts);
        recite_action verdict = RECITE_ACTION_ALLOW;
        serve_act worst = acts ? serve_decide(acts, &verdict, s, x->g, NULL, p.so_far) : ACT_PASS;
        free(acts);
        json_t *j = json_pack("{s:o, s:s, s:s, s:I, s:I, s:I, s:b}", "events", events, "verdict",
                              verdict == RECITE_ACTION_ALLOW ? "pass" : recite_action_name(verdict),
                              "action", serve_act_name(worst), "cleared", (json_int_t)p.cleared,
                              "bytes", (json_int_t)x->bytes, "tokens", (json_int_t)p.tokens,
                              "truncated", p.truncated);
        ok = serve_send_json(c, r, 200, j);
    }
    unclaim(s->sessions, x);
    json_decref(body);
    return ok;
}

static enum MHD_Result get(struct MHD_Connection *c, serve_req *r)
{
    serve_server *s = r->srv;
    enum MHD_Result sent;
    session *x = claim(c, r, false, &sent);
    if (!x)
        return sent;
    recite_error err = {0};
    if (!x->finished) {
        const recite_result *res;
        size_t len;
        const char *text;
        if (recite_checker_finish(&res, x->chk, &err) == RECITE_OK &&
            (text = recite_checker_text(x->chk, &len)) != NULL &&
            recite_report_json(&x->report, x->g->idx, x->g->policy, x->id, text, len, res, &err) ==
                RECITE_OK) {
            x->finished = true;
            x->report_len = strlen(x->report);
            serve_metrics_result(&s->metrics, res,
                                 recite_policy_decide(NULL, NULL, x->g->policy, x->g->idx, res));
        } else if (!err.code) {
            serve_oom(&err);
        }
    }
    enum MHD_Result ok;
    if (x->finished) {
        char *copy = malloc(x->report_len + 1);
        if (copy)
            memcpy(copy, x->report, x->report_len + 1);
        ok = copy ? serve_send(c, r, 200, "application/json", copy, x->report_len)
                  : serve_send_error(c, r, 500, "out_of_memory", "out of memory");
    } else {
        ok = serve_send_error(c, r, 500, "check_failed", "%s", err.message);
    }
    unclaim(s->sessions, x);
    return ok;
}

static enum MHD_Result delete (struct MHD_Connection *c, serve_req *r) {
    enum MHD_Result sent; session *x = claim(c, r, true, &sent); if (!x) return sent;
    session_free(x);
    return serve_send(c, r, 204, NULL, NULL, 0);
}

enum MHD_Result serve_session_handle(struct MHD_Connection *c, serve_req *r, const char *method)
{
    (void)method;
    switch (r->route) {
    case ROUTE_SESSION_CREATE: return create(c, r);
    case ROUTE_SESSION_APPEND: return append(c, r);
    case ROUTE_SESSION_GET: return get(c, r);
    default: return delete (c, r);
    }
}

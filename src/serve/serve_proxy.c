/*
 * serve_proxy.c — `recite serve --proxy URL`: an OpenAI-compatible filtering proxy for
 * POST /v1/chat/completions and /v1/completions. The request goes to the upstream unchanged
 * (libcurl); a streamed answer (server-sent events) is parsed (serve_sse.c), each choice's text
 * goes through a stream filter (serve_filter.c) and only what it releases is sent on, re-chunked
 * in OpenAI's chunk format; a whole answer is checked whole. The response is pulled: the
 * connection's thread drives the upstream transfer from MHD's content reader, so there is no
 * extra thread per request, and a client that leaves stops the upstream transfer.
 */
#include "serve_http.h"

#include <curl/curl.h>
#include <dlfcn.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

/* What the proxy calls of libcurl, loaded when `recite serve --proxy` starts (as the
 * library loads poppler and libgit2: src/common/dl.c): `recite`
 * does not map libcurl and its thirty dependencies for anything else. */
#define CURL_FUNCTIONS(X, a)                                                                       \
    X(a, curl_easy_cleanup)                                                                        \
    X(a, curl_easy_init)                                                                           \
    X(a, curl_easy_setopt)                                                                         \
    X(a, curl_easy_strerror)                                                                       \
    X(a, curl_global_cleanup)                                                                      \
    X(a, curl_global_init)                                                                         \
    X(a, curl_multi_add_handle)                                                                    \
    X(a, curl_multi_cleanup)                                                                       \
    X(a, curl_multi_info_read)                                                                     \
    X(a, curl_multi_init)                                                                          \
    X(a, curl_multi_perform)                                                                       \
    X(a, curl_multi_poll)                                                                          \
    X(a, curl_multi_remove_handle)                                                                 \
    X(a, curl_slist_append)                                                                        \
    X(a, curl_slist_free_all)

static SERVE_DL_TYPE(CURL_FUNCTIONS) cu; /* each function f as cu.f_ */
static void *curl_lib;                   /* opened by serve_proxy_global_init, at start */
SERVE_DL_RESOLVER(cu, curl_resolve, CURL_FUNCTIONS)

typedef struct choice {
    serve_filter f;
    bool active; /* seen in the answer */
    bool done;   /* its finish chunk was sent */
} choice;

typedef struct proxy {
    serve_server *srv;
    serve_gen *g;
    struct MHD_Connection *conn;
    int client_fd; /* -1: not watched */
    bool chat;     /* chat.completions (delta.content) or completions (text) */
    bool stream;   /* the client asked for a stream */
    CURL *easy;
    CURLM *multi;
    struct curl_slist *headers;
    char *body; /* the request, forwarded as is */
    size_t body_len;
    /* the upstream's answer */
    long status;
    bool headers_done, sse, upstream_done, stopped, saw_done;
    CURLcode result;
    double last_byte; /* when the upstream last sent anything (--upstream-idle) */
    char content_type[128];
    sbuf raw; /* a whole (or error) answer */
    serve_sse parser;
    json_t *tmpl;    /* the first chunk: its top-level fields are copied into ours */
    sbuf head, tail; /* a content chunk is head + its choices + tail (built from tmpl) */
    choice *choices;
    size_t nchoices;
    /* what goes to the client */
    sbuf out;
    size_t out_pos;
    bool out_done;
    serve_act worst;
    recite_error err;
} proxy;

/* Multi handles of finished transfers, kept with their connection caches: the next proxied
 * request takes one and reuses its open connection to the upstream. Each is used by one
 * thread at a time. */
#define MULTI_POOL_MAX 64
static struct {
    pthread_mutex_t lock;
    CURLM *v[MULTI_POOL_MAX];
    size_t n;
} multis = {PTHREAD_MUTEX_INITIALIZER, {0}, 0};

static CURLM *multi_get(void)
{
    pthread_mutex_lock(&multis.lock);
    CURLM *m = multis.n ? multis.v[--multis.n] : NULL;
    pthread_mutex_unlock(&multis.lock);
    return m ? m : cu.curl_multi_init_();
}

static void multi_put(CURLM *m)
{
    pthread_mutex_lock(&multis.lock);
    bool kept = multis.n < MULTI_POOL_MAX;
    if (kept)
        multis.v[multis.n++] = m;
    pthread_mutex_unlock(&multis.lock);
    if (!kept)
        cu.curl_multi_cleanup_(m);
}

bool serve_proxy_global_init(char *why, size_t why_cap)
{
    if (!serve_dl_load(&curl_lib, RC_SONAME_CURL, curl_resolve, why, why_cap))
        return false;
    if (cu.curl_global_init_(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        snprintf(why, why_cap, "libcurl could not be initialized");
        return false;
    }
    return true;
}

void serve_proxy_global_cleanup(void)
{
    if (!curl_lib)
        return;
    for (size_t i = 0; i < multis.n; i++)
        cu.curl_multi_cleanup_(multis.v[i]);
    multis.n = 0;
    cu.curl_global_cleanup_();
}

static void proxy_free(void *cls)
{
    proxy *p = cls;
    if (!p)
        return;
    if (p->multi && p->easy)
        cu.curl_multi_remove_handle_(p->multi, p->easy);
    cu.curl_easy_cleanup_(p->easy);
    if (p->multi && p->upstream_done && p->result == CURLE_OK)
        multi_put(p->multi); /* with its connection, open for the next request */
    else
        cu.curl_multi_cleanup_(p->multi);
    cu.curl_slist_free_all_(p->headers);
    for (size_t i = 0; i < p->nchoices; i++) {
        if (p->choices[i].active) {
            if (p->choices[i].f.worst > p->worst)
                p->worst = p->choices[i].f.worst;
            serve_filter_free(&p->choices[i].f);
        }
    }
    if (p->stream && p->headers_done && p->sse) {
        atomic_fetch_add(&p->srv->metrics.actions[p->worst], 1);
        /* A stream freed before its end: the client left (MHD saw the write fail, or the
         * reader saw the connection close). */
        if (!p->out_done)
            atomic_fetch_add(&p->srv->metrics.client_disconnects, 1);
    }
    free(p->choices);
    json_decref(p->tmpl);
    sbuf_free(&p->head);
    sbuf_free(&p->tail);
    serve_sse_free(&p->parser);
    sbuf_free(&p->raw);
    sbuf_free(&p->out);
    free(p->body);
    serve_gen_release(p->g);
    free(p);
}

/* ==== the chunks sent to the client ==== */

/* content_filter_results in Azure OpenAI's shape, from the "recite" annotation: the first
 * prose and code works found, with a citation (URL, license). */
static json_t *content_filter_results(json_t *annotation)
{
    json_t *works = json_object_get(annotation, "works");
    const char *action = json_string_value(json_object_get(annotation, "action"));
    bool filtered = action && (strcmp(action, "block") == 0 || strcmp(action, "redact") == 0);
    json_t *cfr = json_object();
    size_t i;
    json_t *w;
    json_array_foreach(works, i, w)
    {
        const char *mode = json_string_value(json_object_get(w, "mode"));
        const char *key = mode && strcmp(mode, "code") == 0 ? "protected_material_code"
                                                            : "protected_material_text";
        if (json_object_get(cfr, key))
            continue;
        json_object_set_new(cfr, key,
                            json_pack("{s:b, s:b, s:{s:O, s:O}}", "filtered", filtered, "detected",
                                      1, "citation", "URL", json_object_get(w, "url"), "license",
                                      json_object_get(w, "license")));
    }
    return cfr;
}

/* Adds the annotation of a choice: "recite" (verdict, action, works with spans) and, when
 * works were found, "content_filter_results". */
static void annotate_choice(json_t *choice_obj, json_t *annotation)
{
    if (!annotation)
        return;
    json_object_set(choice_obj, "recite", annotation);
    if (json_array_size(json_object_get(annotation, "works")))
        json_object_set_new(choice_obj, "content_filter_results",
                            content_filter_results(annotation));
}

/* The text around the choices of our chunks: the template serialized once with a marker for
 * its choices (and "usage" null when it has one), then split at the marker. */
static bool build_head_tail(proxy *p)
{
    static const char marker[] = "\"recite:choices\"";
    json_t *t = json_copy(p->tmpl);
    if (!t)
        return false;
    json_object_set_new(t, "choices", json_string("recite:choices"));
    if (json_object_get(t, "usage"))
        json_object_set_new(t, "usage", json_null());
    char *s = json_dumps(t, JSON_COMPACT);
    json_decref(t);
    const char *m = s ? strstr(s, marker) : NULL;
    if (m) {
        sbuf_adds(&p->head, "data: ");
        sbuf_add(&p->head, s, (size_t)(m - s));
        sbuf_adds(&p->tail, m + sizeof marker - 1);
        sbuf_adds(&p->tail, "\n\n");
    }
    free(s);
    return m && !p->head.oom && !p->tail.oom;
}

/* One chunk for choice `index`: released text (may be NULL), extra delta fields (role, tool
 * calls: may be NULL), a finish reason (NULL: none yet) and an annotation. */
static void emit_chunk(proxy *p, size_t index, const char *text, size_t len, json_t *delta_extra,
                       const char *finish, json_t *annotation, bool keep_usage)
{
    if (text && !delta_extra && !finish && !annotation && p->tmpl &&
        (p->head.n || build_head_tail(p))) {
        /* The common case, a chunk of content: written directly. */
        sbuf_add(&p->out, p->head.s, p->head.n);
        sbuf_addf(&p->out, "[{\"index\":%zu,\"%s\":", index, p->chat ? "delta" : "text");
        if (p->chat)
            sbuf_adds(&p->out, "{\"content\":");
        sbuf_json(&p->out, text, len);
        sbuf_adds(&p->out, p->chat ? "}," : ",");
        sbuf_adds(&p->out, "\"logprobs\":null,\"finish_reason\":null}]");
        sbuf_add(&p->out, p->tail.s, p->tail.n);
        return;
    }
    json_t *chunk = p->tmpl ? json_copy(p->tmpl) : json_object();
    json_t *ch = json_object();
    if (!chunk || !ch) {
        json_decref(chunk);
        json_decref(ch);
        p->out.oom = true;
        return;
    }
    json_object_set_new(ch, "index", json_integer((json_int_t)index));
    json_t *t = text ? json_stringn(text, len) : NULL;
    if (text && !t)
        t = json_string("\xef\xbf\xbd"); /* never happens: releases end on UTF-8 boundaries */
    if (p->chat) {
        json_t *delta = delta_extra ? json_copy(delta_extra) : json_object();
        if (t)
            json_object_set_new(delta, "content", t);
        json_object_set_new(ch, "delta", delta);
    } else {
        json_object_set_new(ch, "text", t ? t : json_string(""));
    }
    json_object_set_new(ch, "logprobs", json_null());
    json_object_set_new(ch, "finish_reason", finish ? json_string(finish) : json_null());
    annotate_choice(ch, annotation);
    json_object_set_new(chunk, "choices", json_pack("[o]", ch));
    if (!keep_usage && json_object_get(chunk, "usage"))
        json_object_set_new(chunk, "usage", json_null());
    char *s = json_dumps(chunk, JSON_COMPACT);
    json_decref(chunk);
    if (!s) {
        p->out.oom = true;
        return;
    }
    sbuf_adds(&p->out, "data: ");
    sbuf_adds(&p->out, s);
    sbuf_adds(&p->out, "\n\n");
    free(s);
}

/* An error event ends the stream: what was not released is never sent. */
static void emit_error(proxy *p, const char *code, const char *msg)
{
    sbuf_adds(&p->out, "data: {\"error\":{\"message\":");
    sbuf_json(&p->out, msg, strlen(msg));
    sbuf_addf(&p->out, ",\"type\":\"upstream_error\",\"code\":\"%s\"}}\n\n", code);
    p->out_done = true;
}

static choice *choice_at(proxy *p, size_t index)
{
    if (index >= p->srv->opt.max_choices)
        return NULL;
    if (index >= p->nchoices) {
        choice *c = realloc(p->choices, (index + 1) * sizeof *c);
        if (!c)
            return NULL;
        memset(c + p->nchoices, 0, (index + 1 - p->nchoices) * sizeof *c);
        p->choices = c;
        p->nchoices = index + 1;
    }
    choice *c = &p->choices[index];
    if (!c->active) {
        if (serve_filter_init(&c->f, p->srv, p->g, &p->err) != RECITE_OK)
            return NULL;
        c->active = true;
    }
    return c;
}

/* The text of choice c ended (or was stopped): the rest it may release, and its finish
 * chunk. */
static void finish_choice(proxy *p, size_t index, const char *finish, bool keep_usage)
{
    choice *c = &p->choices[index];
    if (c->done)
        return;
    sbuf rel = {0};
    if (!c->f.blocked && serve_filter_finish(&c->f, &rel, &p->err) != RECITE_OK)
        rel.oom = true;
    if (rel.n)
        emit_chunk(p, index, rel.s, rel.n, NULL, NULL, NULL, false);
    sbuf_free(&rel);
    emit_chunk(p, index, NULL, 0, NULL, c->f.blocked ? "content_filter" : finish, c->f.annotation,
               keep_usage);
    c->done = true;
}

static bool all_done(const proxy *p)
{
    for (size_t i = 0; i < p->nchoices; i++)
        if (p->choices[i].active && !p->choices[i].done)
            return false;
    return true;
}

static void finish_all(proxy *p)
{
    for (size_t i = 0; i < p->nchoices; i++)
        if (p->choices[i].active)
            finish_choice(p, i, NULL, false);
}

enum { EV_GO_ON = 0, EV_STOP = 1, EV_FAIL = 2 };

/* One delta of one choice. */
static int on_choice(proxy *p, json_t *ch, bool keep_usage)
{
    json_t *ix = json_object_get(ch, "index");
    json_int_t index = ix ? json_integer_value(ix) : 0;
    choice *c = index >= 0 ? choice_at(p, (size_t)index) : NULL;
    if (!c) {
        emit_error(p, "bad_upstream_answer", "the upstream answered a choice index out of range");
        return EV_FAIL;
    }
    if (c->done)
        return EV_GO_ON;
    json_t *text, *delta = NULL;
    if (p->chat) {
        delta = json_object_get(ch, "delta");
        text = json_object_get(delta, "content");
    } else {
        text = json_object_get(ch, "text");
    }
    /* Fields of the delta other than content (role, tool calls): sent on at once (with the
     * empty content of a role chunk). */
    if (delta && json_object_size(delta) > (text ? 1u : 0u)) {
        json_t *extra = json_copy(delta);
        if (!(json_is_string(text) && json_string_length(text) == 0))
            json_object_del(extra, "content");
        emit_chunk(p, (size_t)index, NULL, 0, extra, NULL, NULL, false);
        json_decref(extra);
    }
    if (json_is_string(text) && json_string_length(text)) {
        sbuf rel = {0};
        if (serve_filter_feed(&c->f, json_string_value(text), json_string_length(text), &rel,
                              &p->err) != RECITE_OK) {
            sbuf_free(&rel);
            emit_error(p, "check_failed", p->err.message);
            return EV_FAIL;
        }
        if (rel.n)
            emit_chunk(p, (size_t)index, rel.s, rel.n, NULL, NULL, NULL, false);
        sbuf_free(&rel);
        if (c->f.blocked)
            finish_choice(p, (size_t)index, NULL, false);
    }
    const char *fin = json_string_value(json_object_get(ch, "finish_reason"));
    if (fin)
        finish_choice(p, (size_t)index, fin, keep_usage);
    return EV_GO_ON;
}

/* One server-sent event of the upstream. */
static int on_event(void *user, const char *event, const char *data, size_t len)
{
    (void)event;
    proxy *p = user;
    if (p->out_done)
        return EV_STOP;
    if (len == 6 && memcmp(data, "[DONE]", 6) == 0) {
        finish_all(p);
        sbuf_adds(&p->out, "data: [DONE]\n\n");
        p->saw_done = true;
        p->out_done = true;
        return EV_GO_ON;
    }
    json_error_t je;
    json_t *chunk = json_loadb(data, len, 0, &je);
    if (!json_is_object(chunk)) {
        json_decref(chunk);
        emit_error(p, "bad_upstream_answer", "the upstream sent an event that is not JSON");
        return EV_FAIL;
    }
    if (json_object_get(chunk, "error")) {
        /* The upstream's own error: no text of the answer in it, sent on as is. */
        sbuf_adds(&p->out, "data: ");
        sbuf_add(&p->out, data, len);
        sbuf_adds(&p->out, "\n\n");
        json_decref(chunk);
        p->out_done = true;
        atomic_fetch_add(&p->srv->metrics.upstream_errors, 1);
        return EV_FAIL;
    }
    /* Our chunks copy the first chunk's fields (in its order: id, created, model, ... are the
     * same in every chunk of a stream), their choices replaced; a chunk that carries usage
     * with its choices is the template of the finish chunks it causes. */
    json_t *usage0 = json_object_get(chunk, "usage");
    if (!p->tmpl ||
        (usage0 && !json_is_null(usage0) && json_array_size(json_object_get(chunk, "choices")))) {
        json_decref(p->tmpl);
        p->tmpl = json_incref(chunk);
    }
    json_t *choices = json_object_get(chunk, "choices");
    json_t *usage = json_object_get(chunk, "usage");
    bool has_usage = usage && !json_is_null(usage);
    int rc = EV_GO_ON;
    if (json_array_size(choices) == 0) {
        /* The usage chunk of stream_options.include_usage (or another chunk without text):
         * after every choice's finish chunk, sent on as is. */
        finish_all(p);
        sbuf_adds(&p->out, "data: ");
        sbuf_add(&p->out, data, len);
        sbuf_adds(&p->out, "\n\n");
    } else {
        size_t i;
        json_t *ch;
        json_array_foreach(choices, i, ch)
        {
            if ((rc = on_choice(p, ch, has_usage)) != EV_GO_ON)
                break;
        }
    }
    json_decref(chunk);
    if (rc == EV_GO_ON && p->nchoices && all_done(p)) {
        bool blocked = false;
        for (size_t i = 0; i < p->nchoices; i++)
            blocked |= p->choices[i].active && p->choices[i].f.blocked;
        if (blocked) {
            /* Every choice is stopped: end the stream now and the upstream's generation. */
            sbuf_adds(&p->out, "data: [DONE]\n\n");
            p->out_done = true;
            p->stopped = true;
            return EV_STOP;
        }
    }
    return rc;
}

/* ==== the upstream transfer ==== */

static size_t on_header(char *buf, size_t size, size_t n, void *user)
{
    proxy *p = user;
    size_t len = size * n;
    p->last_byte = serve_now();
    if (len > 5 && strncmp(buf, "HTTP/", 5) == 0) {
        const char *sp = memchr(buf, ' ', len);
        p->status = sp ? strtol(sp + 1, NULL, 10) : 0;
        p->content_type[0] = 0;
    } else if (len > 13 && strncasecmp(buf, "content-type:", 13) == 0) {
        size_t a = 13, b = len;
        while (a < b && (buf[a] == ' ' || buf[a] == '\t'))
            a++;
        while (b > a && (buf[b - 1] == '\r' || buf[b - 1] == '\n' || buf[b - 1] == ' '))
            b--;
        snprintf(p->content_type, sizeof p->content_type, "%.*s", (int)(b - a), buf + a);
    } else if ((len == 2 && buf[0] == '\r') || (len == 1 && buf[0] == '\n')) {
        if (p->status >= 200) {
            p->headers_done = true;
            p->sse = p->stream && p->status >= 200 && p->status < 300 &&
                     strncasecmp(p->content_type, "text/event-stream", 17) == 0;
        }
    }
    return len;
}

static size_t on_body(char *data, size_t size, size_t n, void *user)
{
    proxy *p = user;
    size_t len = size * n;
    p->last_byte = serve_now();
    if (p->sse) {
        int rc = serve_sse_feed(&p->parser, data, len, on_event, p);
        if (rc == -1 && !p->out_done)
            emit_error(p, "bad_upstream_answer", "the upstream's event stream is malformed");
        return rc == EV_GO_ON ? len : 0; /* 0 ends the transfer */
    }
    if (p->raw.n + len > p->srv->opt.max_upstream_body)
        return 0;
    sbuf_add(&p->raw, data, len);
    return p->raw.oom ? 0 : len;
}

enum { PUMP_OK, PUMP_CLIENT_GONE };

/* Drives the transfer: waits up to `ms` for the upstream (and notices the client leaving). */
static int pump(proxy *p, int ms)
{
    int running = 0;
    cu.curl_multi_perform_(p->multi, &running);
    struct curl_waitfd wfd = {p->client_fd, CURL_WAIT_POLLIN, 0};
    CURLMsg *msg;
    int left;
    while ((msg = cu.curl_multi_info_read_(p->multi, &left)) != NULL) {
        if (msg->msg == CURLMSG_DONE) {
            p->upstream_done = true;
            p->result = msg->data.result;
        }
    }
    if (p->upstream_done)
        return PUMP_OK;
    cu.curl_multi_poll_(p->multi, p->client_fd >= 0 ? &wfd : NULL, p->client_fd >= 0 ? 1 : 0, ms,
                        NULL);
    if (serve_now() - p->last_byte > p->srv->opt.upstream_idle) {
        /* Silence: ends the transfer as a time-out (curl's low-speed limit only counts once
         * the answer has begun). */
        p->upstream_done = true;
        p->result = CURLE_OPERATION_TIMEDOUT;
        return PUMP_OK;
    }
    if (p->client_fd >= 0 && (wfd.revents & (CURL_WAIT_POLLIN | CURL_WAIT_POLLPRI))) {
        char b;
        ssize_t k = recv(p->client_fd, &b, 1, MSG_PEEK | MSG_DONTWAIT);
        if (k == 0 || (k < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR))
            return PUMP_CLIENT_GONE;
        p->client_fd = -1; /* data from the client (pipelining): stop watching */
    }
    return PUMP_OK;
}

static bool timed_out(const proxy *p)
{
    return p->result == CURLE_OPERATION_TIMEDOUT;
}

/* The transfer ended: the stream's end, cleanly or not. */
static void stream_ended(proxy *p)
{
    if (p->out_done)
        return;
    if (p->result == CURLE_OK && all_done(p) && p->nchoices) {
        /* Closed without [DONE] but every choice finished: a complete answer. */
        sbuf_adds(&p->out, "data: [DONE]\n\n");
        p->out_done = true;
        return;
    }
    atomic_fetch_add(&p->srv->metrics.upstream_errors, 1);
    if (timed_out(p))
        emit_error(p, "upstream_timeout", "the upstream did not answer in time");
    else if (p->result != CURLE_OK)
        emit_error(p, "upstream_failed", cu.curl_easy_strerror_(p->result));
    else
        emit_error(p, "upstream_closed", "the upstream ended the stream early");
}

static ssize_t reader(void *cls, uint64_t pos, char *buf, size_t max)
{
    (void)pos;
    proxy *p = cls;
    for (;;) {
        if (p->out.oom)
            return MHD_CONTENT_READER_END_WITH_ERROR;
        if (p->out_pos < p->out.n) {
            size_t k = p->out.n - p->out_pos;
            if (k > max)
                k = max;
            memcpy(buf, p->out.s + p->out_pos, k);
            p->out_pos += k;
            if (p->out_pos == p->out.n)
                p->out.n = p->out_pos = 0;
            return (ssize_t)k;
        }
        if (p->out_done)
            return MHD_CONTENT_READER_END_OF_STREAM;
        if (p->upstream_done) {
            stream_ended(p);
            continue;
        }
        if (pump(p, 250) == PUMP_CLIENT_GONE)
            return MHD_CONTENT_READER_END_WITH_ERROR;
    }
}

/* ==== a whole answer ==== */

static enum MHD_Result whole_answer(struct MHD_Connection *c, serve_req *r, proxy *p)
{
    json_t *ans = json_loadb(p->raw.s ? p->raw.s : "", p->raw.n, 0, NULL);
    json_t *choices = json_object_get(ans, "choices");
    if (!json_is_array(choices)) {
        json_decref(ans);
        atomic_fetch_add(&p->srv->metrics.upstream_errors, 1);
        return serve_send_error(c, r, 502, "bad_upstream_answer",
                                "the upstream's answer is not a completion");
    }
    serve_act worst = ACT_PASS;
    size_t i;
    json_t *ch;
    json_array_foreach(choices, i, ch)
    {
        json_t *holder = p->chat ? json_object_get(ch, "message") : ch;
        const char *key = p->chat ? "content" : "text";
        json_t *text = json_object_get(holder, key);
        if (!json_is_string(text))
            continue;
        serve_filter f;
        sbuf rel = {0};
        recite_error err = {0};
        if (serve_filter_init(&f, p->srv, p->g, &err) != RECITE_OK ||
            serve_filter_whole(&f, json_string_value(text), json_string_length(text), &rel, &err) !=
                RECITE_OK) {
            serve_filter_free(&f);
            sbuf_free(&rel);
            json_decref(ans);
            return serve_send_error(c, r, 500, "check_failed", "%s", err.message);
        }
        if (f.worst > worst)
            worst = f.worst;
        if (f.blocked)
            worst = ACT_BLOCK;
        if (f.blocked || f.worst == ACT_REDACT) {
            json_object_set_new(holder, key, json_stringn(rel.s ? rel.s : "", rel.n));
            if (f.blocked)
                json_object_set_new(ch, "finish_reason", json_string("content_filter"));
        }
        annotate_choice(ch, f.annotation);
        serve_filter_free(&f);
        sbuf_free(&rel);
    }
    atomic_fetch_add(&p->srv->metrics.actions[worst], 1);
    return serve_send_json(c, r, (unsigned)p->status, ans);
}

/* ==== the handler ==== */

static bool setup(proxy *p, serve_req *r)
{
    serve_server *s = r->srv;
    sbuf url = {0};
    sbuf_adds(&url, s->upstream_base);
    sbuf_adds(&url, r->route == ROUTE_CHAT ? "/chat/completions" : "/completions");
    p->easy = cu.curl_easy_init_();
    p->multi = multi_get();
    if (!p->easy || !p->multi || url.oom) {
        sbuf_free(&url);
        return false;
    }
    p->headers = cu.curl_slist_append_(p->headers, "Content-Type: application/json");
    p->headers = cu.curl_slist_append_(p->headers, p->stream ? "Accept: text/event-stream"
                                                             : "Accept: application/json");
    p->headers = cu.curl_slist_append_(p->headers, "Expect:");
    /* The upstream's key: --upstream-key-file, else (when recite itself asks for no token)
     * the client's own Authorization header. */
    const char *auth = s->token ? NULL
                                : serve_mhd.MHD_lookup_connection_value_(p->conn, MHD_HEADER_KIND,
                                                                         "Authorization");
    sbuf h = {0};
    if (s->upstream_key)
        sbuf_addf(&h, "Authorization: Bearer %s", s->upstream_key);
    else if (auth)
        sbuf_addf(&h, "Authorization: %s", auth);
    if (h.s && !h.oom)
        p->headers = cu.curl_slist_append_(p->headers, h.s);
    sbuf_free(&h);
    CURL *e = p->easy;
    cu.curl_easy_setopt_(e, CURLOPT_URL, url.s);
    sbuf_free(&url);
    cu.curl_easy_setopt_(e, CURLOPT_POST, 1L);
    cu.curl_easy_setopt_(e, CURLOPT_POSTFIELDS, p->body);
    cu.curl_easy_setopt_(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)p->body_len);
    cu.curl_easy_setopt_(e, CURLOPT_HTTPHEADER, p->headers);
    cu.curl_easy_setopt_(e, CURLOPT_HEADERFUNCTION, on_header);
    cu.curl_easy_setopt_(e, CURLOPT_HEADERDATA, p);
    cu.curl_easy_setopt_(e, CURLOPT_WRITEFUNCTION, on_body);
    cu.curl_easy_setopt_(e, CURLOPT_WRITEDATA, p);
    cu.curl_easy_setopt_(e, CURLOPT_NOSIGNAL, 1L);
    cu.curl_easy_setopt_(e, CURLOPT_TCP_NODELAY, 1L);
    cu.curl_easy_setopt_(e, CURLOPT_NOPROXY, "localhost,127.0.0.1,::1");
    cu.curl_easy_setopt_(e, CURLOPT_CONNECTTIMEOUT, (long)s->opt.upstream_connect_timeout);
    cu.curl_easy_setopt_(e, CURLOPT_TIMEOUT, (long)s->opt.upstream_timeout);
    cu.curl_easy_setopt_(e, CURLOPT_USERAGENT, "recite-serve/" RECITE_VERSION_STRING);
    return cu.curl_multi_add_handle_(p->multi, e) == CURLM_OK;
}

enum MHD_Result serve_proxy_handle(struct MHD_Connection *c, serve_req *r)
{
    serve_server *s = r->srv;
    if (!s->upstream_base)
        return serve_send_error(c, r, 404, "proxy_off",
                                "the proxy is off: start recite serve with --proxy URL");
    enum MHD_Result sent;
    json_t *body = serve_body_object(c, r, &sent);
    if (!body)
        return sent;
    json_t *n = json_object_get(body, "n");
    bool stream = json_is_true(json_object_get(body, "stream"));
    bool bad_n = n && !(json_is_integer(n) && json_integer_value(n) >= 1 &&
                        json_integer_value(n) <= (json_int_t)s->opt.max_choices);
    json_decref(body);
    if (bad_n)
        return serve_send_error(c, r, 400, "invalid_option",
                                "\"n\" must be a whole number from 1 to %u", s->opt.max_choices);
    proxy *p = calloc(1, sizeof *p);
    if (!p)
        return serve_send_error(c, r, 500, "out_of_memory", "out of memory");
    p->srv = s;
    p->g = serve_gen_acquire(s);
    p->conn = c;
    p->chat = r->route == ROUTE_CHAT;
    p->stream = stream;
    const union MHD_ConnectionInfo *ci =
        serve_mhd.MHD_get_connection_info_(c, MHD_CONNECTION_INFO_CONNECTION_FD);
    p->client_fd = ci ? ci->connect_fd : -1;
    p->body = sbuf_take(&r->body, &p->body_len);
    p->last_byte = serve_now();
    if (!p->body || !setup(p, r)) {
        proxy_free(p);
        return serve_send_error(c, r, 500, "out_of_memory", "cannot start the upstream request");
    }
    /* Wait for the upstream's status and headers (all of a whole answer). */
    while (!p->upstream_done && (!p->headers_done || !p->sse)) {
        if (pump(p, 250) == PUMP_CLIENT_GONE) {
            atomic_fetch_add(&s->metrics.client_disconnects, 1);
            proxy_free(p);
            return MHD_NO;
        }
    }
    if (!p->headers_done || (p->result != CURLE_OK && !p->sse)) {
        atomic_fetch_add(&s->metrics.upstream_errors, 1);
        enum MHD_Result ok =
            timed_out(p) ? serve_send_error(c, r, 504, "upstream_timeout",
                                            "the upstream did not answer in time")
            : p->raw.n >= s->opt.max_upstream_body
                ? serve_send_error(c, r, 502, "upstream_too_large",
                                   "the upstream's answer exceeds %zu bytes",
                                   s->opt.max_upstream_body)
                : serve_send_error(c, r, 502, "upstream_failed", "the upstream failed: %s",
                                   cu.curl_easy_strerror_(p->result));
        proxy_free(p);
        return ok;
    }
    if (p->status < 200 || p->status >= 300) {
        /* The upstream's error, passed on: it holds no generated text. */
        atomic_fetch_add(&s->metrics.upstream_errors, 1);
        size_t len;
        char *raw = sbuf_take(&p->raw, &len);
        enum MHD_Result ok =
            serve_send(c, r, (unsigned)p->status,
                       p->content_type[0] ? p->content_type : "application/json", raw, len);
        proxy_free(p);
        return ok;
    }
    if (!p->sse) {
        enum MHD_Result ok = whole_answer(c, r, p);
        proxy_free(p);
        return ok;
    }
    struct MHD_Response *resp = serve_mhd.MHD_create_response_from_callback_(
        MHD_SIZE_UNKNOWN, 16384, reader, p, proxy_free);
    if (!resp) {
        proxy_free(p);
        return MHD_NO;
    }
    serve_mhd.MHD_add_response_header_(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "text/event-stream");
    serve_mhd.MHD_add_response_header_(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
    r->status = 200;
    enum MHD_Result ok = serve_mhd.MHD_queue_response_(c, 200, resp);
    serve_mhd.MHD_destroy_response_(resp);
    return ok;
}

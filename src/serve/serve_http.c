/*
 * serve_http.c — the HTTP front of `recite serve` on libmicrohttpd (one thread per
 * connection): routing, bearer-token authentication, the limits on connections, body size and
 * body time (each answered with a JSON error: 503, 413, 408), draining, JSON responses, and
 * GET /healthz and /metrics. The endpoints themselves are in serve_check.c, serve_session.c and
 * serve_proxy.c.
 */
#include "serve_http.h"

#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

/* ==== responses ==== */

enum MHD_Result serve_send(struct MHD_Connection *c, serve_req *r, unsigned status,
                           const char *content_type, char *body, size_t len)
{
    struct MHD_Response *resp = serve_mhd.MHD_create_response_from_buffer_(
        body ? len : 0, body ? body : (void *)"",
        body ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
    if (!resp) {
        free(body);
        return MHD_NO;
    }
    if (content_type)
        serve_mhd.MHD_add_response_header_(resp, MHD_HTTP_HEADER_CONTENT_TYPE, content_type);
    if (status == 401)
        serve_mhd.MHD_add_response_header_(resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer");
    if (status == 405 && r->allow)
        serve_mhd.MHD_add_response_header_(resp, MHD_HTTP_HEADER_ALLOW, r->allow);
    if (status == 503 || atomic_load(&r->srv->draining))
        serve_mhd.MHD_add_response_header_(resp, MHD_HTTP_HEADER_CONNECTION, "close");
    r->status = status;
    enum MHD_Result ok = serve_mhd.MHD_queue_response_(c, status, resp);
    serve_mhd.MHD_destroy_response_(resp);
    return ok;
}

enum MHD_Result serve_send_json(struct MHD_Connection *c, serve_req *r, unsigned status, json_t *j)
{
    char *s = j ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    if (!s)
        return serve_send_error(c, r, 500, "out_of_memory", "out of memory");
    size_t n = strlen(s);
    /* A newline after the object, as curl users expect. */
    char *t = realloc(s, n + 2);
    if (t) {
        t[n++] = '\n';
        t[n] = 0;
        s = t;
    }
    return serve_send(c, r, status, "application/json", s, n);
}

static const char *error_type(unsigned status)
{
    switch (status) {
    case 401: return "authentication_error";
    case 408: return "timeout_error";
    case 429: return "rate_limit_error";
    case 502:
    case 504: return "upstream_error";
    default: return status >= 500 ? "server_error" : "invalid_request_error";
    }
}

enum MHD_Result serve_send_error(struct MHD_Connection *c, serve_req *r, unsigned status,
                                 const char *code, const char *fmt, ...)
{
    char msg[600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    sbuf b = {0};
    sbuf_adds(&b, "{\"error\":{\"message\":");
    sbuf_json(&b, msg, strlen(msg));
    sbuf_addf(&b, ",\"type\":\"%s\",\"code\":\"%s\"}}\n", error_type(status), code);
    size_t n;
    char *s = sbuf_take(&b, &n);
    return serve_send(c, r, status, "application/json", s, n);
}

json_t *serve_body_object(struct MHD_Connection *c, serve_req *r, enum MHD_Result *sent)
{
    json_error_t je;
    json_t *j = json_loadb(r->body.s ? r->body.s : "", r->body.n, JSON_ALLOW_NUL, &je);
    if (!j) {
        *sent = serve_send_error(c, r, 400, "invalid_json",
                                 "the body is not valid JSON: %s (line %d, column %d)", je.text,
                                 je.line, je.column);
        return NULL;
    }
    if (!json_is_object(j)) {
        json_decref(j);
        *sent = serve_send_error(c, r, 400, "invalid_json", "the body must be a JSON object");
        return NULL;
    }
    return j;
}

/* ==== routing ==== */

/* The route of (url, method); ROUTE_OTHER with *allow set when the path exists but not with
 * this method, and with *allow NULL for an unknown path. */
static int route_of(const char *url, const char *method, const char **allow, char id[40])
{
    bool get = strcmp(method, "GET") == 0, post = strcmp(method, "POST") == 0;
    static const struct {
        const char *path;
        int route;
    } posts[] = {{"/v1/check", ROUTE_CHECK},
                 {"/v1/sessions", ROUTE_SESSION_CREATE},
                 {"/contentsafety/text:detectProtectedMaterial", ROUTE_AZURE},
                 {"/beta/litellm_basic_guardrail_api", ROUTE_LITELLM},
                 {"/v1/chat/completions", ROUTE_CHAT},
                 {"/v1/completions", ROUTE_COMPLETIONS}};
    *allow = NULL;
    for (size_t i = 0; i < sizeof posts / sizeof *posts; i++) {
        if (strcmp(url, posts[i].path) == 0) {
            *allow = "POST";
            return post ? posts[i].route : ROUTE_OTHER;
        }
    }
    if (strcmp(url, "/healthz") == 0 || strcmp(url, "/metrics") == 0) {
        *allow = "GET";
        return get ? (url[1] == 'h' ? ROUTE_HEALTHZ : ROUTE_METRICS) : ROUTE_OTHER;
    }
    static const char prefix[] = "/v1/sessions/";
    if (strncmp(url, prefix, sizeof prefix - 1) == 0) {
        const char *s = url + sizeof prefix - 1, *slash = strchr(s, '/');
        size_t n = slash ? (size_t)(slash - s) : strlen(s);
        snprintf(id, 40, "%.*s", (int)(n < 39 ? n : 39), s);
        if (slash) {
            if (strcmp(slash, "/append") != 0)
                return ROUTE_OTHER;
            *allow = "POST";
            return post ? ROUTE_SESSION_APPEND : ROUTE_OTHER;
        }
        *allow = "GET, DELETE";
        if (get)
            return ROUTE_SESSION_GET;
        return strcmp(method, "DELETE") == 0 ? ROUTE_SESSION_DELETE : ROUTE_OTHER;
    }
    return ROUTE_OTHER;
}

/* Constant-time comparison of a presented token with the server's. */
static bool token_ok(const serve_server *s, const char *given)
{
    if (!given)
        return false;
    size_t n = strlen(given);
    unsigned diff = n != s->token_len;
    for (size_t i = 0; i < s->token_len; i++)
        diff |= (unsigned char)s->token[i] ^ (unsigned char)(i < n ? given[i] : 0);
    return diff == 0;
}

static bool authorized(const serve_server *s, struct MHD_Connection *c)
{
    if (!s->token)
        return true;
    const char *auth = serve_mhd.MHD_lookup_connection_value_(c, MHD_HEADER_KIND, "Authorization");
    if (auth && strncasecmp(auth, "Bearer ", 7) == 0 && token_ok(s, auth + 7))
        return true;
    /* Azure's and API-gateway style key headers carry the same token. */
    return token_ok(s, serve_mhd.MHD_lookup_connection_value_(c, MHD_HEADER_KIND,
                                                              "Ocp-Apim-Subscription-Key")) ||
           token_ok(s, serve_mhd.MHD_lookup_connection_value_(c, MHD_HEADER_KIND, "x-api-key"));
}

/* ==== healthz, metrics ==== */

static enum MHD_Result healthz(struct MHD_Connection *c, serve_req *r)
{
    serve_server *s = r->srv;
    bool draining = atomic_load(&s->draining) != 0;
    serve_gen *g = serve_gen_acquire(s);
    json_t *j = json_pack(
        "{s:s, s:I, s:I, s:I, s:{s:i, s:i}, s:i, s:o, s:f}", "status", draining ? "draining" : "ok",
        "generation", (json_int_t)g->number, "works", (json_int_t)g->stats.works, "index_bytes",
        (json_int_t)g->stats.bytes_total, "leak_bound_tokens", "prose", (int)g->leak_prose, "code",
        (int)g->leak_code, "sessions", (int)serve_sessions_open(s->sessions), "proxy",
        s->upstream_base ? json_string(s->upstream_base) : json_null(), "uptime_seconds",
        serve_now() - s->started);
    serve_gen_release(g);
    return serve_send_json(c, r, draining ? 503 : 200, j);
}

static enum MHD_Result metrics(struct MHD_Connection *c, serve_req *r)
{
    sbuf b = {0};
    serve_metrics_render(&b, r->srv);
    size_t n;
    char *s = sbuf_take(&b, &n);
    if (!s)
        return serve_send_error(c, r, 500, "out_of_memory", "out of memory");
    return serve_send(c, r, 200, "text/plain; version=0.0.4; charset=utf-8", s, n);
}

/* ==== the request handler ==== */

static enum MHD_Result dispatch(struct MHD_Connection *c, serve_req *r, const char *method)
{
    switch (r->route) {
    case ROUTE_HEALTHZ: return healthz(c, r);
    case ROUTE_METRICS: return metrics(c, r);
    case ROUTE_CHECK:
    case ROUTE_AZURE:
    case ROUTE_LITELLM: return serve_check_handle(c, r);
    case ROUTE_SESSION_CREATE:
    case ROUTE_SESSION_APPEND:
    case ROUTE_SESSION_GET:
    case ROUTE_SESSION_DELETE: return serve_session_handle(c, r, method);
    case ROUTE_CHAT:
    case ROUTE_COMPLETIONS: return serve_proxy_handle(c, r);
    default: return serve_send_error(c, r, 404, "not_found", "no such endpoint");
    }
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls)
{
    (void)version;
    serve_server *s = cls;
    serve_req *r = *con_cls;
    if (!r) {
        /* Headers are in: everything that can be refused before the body is refused now. */
        if (!(r = calloc(1, sizeof *r)))
            return MHD_NO;
        r->srv = s;
        r->t0 = serve_now();
        *con_cls = r;
        atomic_fetch_add(&s->in_flight, 1);
        const char *allow;
        r->route = route_of(url, method, &allow, r->session_id);
        if (atomic_load(&s->draining))
            return serve_send_error(c, r, 503, "draining", "the server is shutting down");
        if (atomic_load(&s->connections) > s->opt.max_connections) {
            atomic_fetch_add(&s->metrics.rejected_connections, 1);
            return serve_send_error(c, r, 503, "too_many_connections",
                                    "more than %u connections are open; try again later",
                                    s->opt.max_connections);
        }
        if (r->route != ROUTE_HEALTHZ && !authorized(s, c))
            return serve_send_error(c, r, 401, "unauthorized",
                                    "a valid bearer token is required (Authorization: Bearer "
                                    "TOKEN)");
        if (r->route == ROUTE_OTHER) {
            if (!allow)
                return serve_send_error(c, r, 404, "not_found", "no such endpoint: %s", url);
            r->allow = allow;
            return serve_send_error(c, r, 405, "method_not_allowed",
                                    "%s does not take %s (allowed: %s)", url, method, allow);
        }
        const char *cl =
            serve_mhd.MHD_lookup_connection_value_(c, MHD_HEADER_KIND, "Content-Length");
        if (cl && strtoull(cl, NULL, 10) > s->opt.max_body)
            return serve_send_error(c, r, 413, "body_too_large",
                                    "the body is larger than the limit of %zu bytes",
                                    s->opt.max_body);
        return MHD_YES;
    }
    if (*upload_data_size) {
        if (!r->too_large) {
            if (r->body.n + *upload_data_size > s->opt.max_body) {
                r->too_large = true;
                sbuf_free(&r->body);
            } else {
                sbuf_add(&r->body, upload_data, *upload_data_size);
            }
        }
        *upload_data_size = 0;
        /* A body still arriving at twice the time limit is cut off; one complete late is
         * answered 408 below. */
        if (serve_now() - r->t0 > 2.0 * s->opt.request_timeout)
            return MHD_NO;
        return MHD_YES;
    }
    if (r->status) /* a response was queued before the body */
        return MHD_YES;
    if (r->too_large)
        return serve_send_error(c, r, 413, "body_too_large",
                                "the body is larger than the limit of %zu bytes", s->opt.max_body);
    if (r->body.oom)
        return serve_send_error(c, r, 500, "out_of_memory", "out of memory");
    if (serve_now() - r->t0 > s->opt.request_timeout)
        return serve_send_error(c, r, 408, "request_timeout",
                                "the request took longer than %u s to arrive",
                                s->opt.request_timeout);
    return dispatch(c, r, method);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)c;
    (void)toe;
    serve_server *s = cls;
    serve_req *r = *con_cls;
    if (!r)
        return;
    serve_metrics_request(&s->metrics, r->route, r->status, serve_now() - r->t0);
    sbuf_free(&r->body);
    free(r);
    *con_cls = NULL;
    atomic_fetch_sub(&s->in_flight, 1);
}

static void on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
                          enum MHD_ConnectionNotificationCode toe)
{
    (void)c;
    (void)socket_context;
    serve_server *s = cls;
    if (toe == MHD_CONNECTION_NOTIFY_STARTED)
        atomic_fetch_add(&s->connections, 1);
    else
        atomic_fetch_sub(&s->connections, 1);
}

static void on_log(void *cls, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
/* Set while the daemon starts: its complaints then (a port it cannot bind) are said by the one
 * error line serve_http_start returns, not logged besides. */
static atomic_bool mhd_starting;

static void on_log(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    if (atomic_load(&mhd_starting))
        return;
    char line[512];
    vsnprintf(line, sizeof line, fmt, ap);
    size_t n = strlen(line);
    while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
        line[--n] = 0;
    serve_log("http: %s", line);
}

serve_mhd_table serve_mhd;
static void *mhd_lib;
SERVE_DL_RESOLVER(serve_mhd, mhd_resolve, SERVE_MHD_FUNCTIONS)

struct MHD_Daemon *serve_http_start(serve_server *s, unsigned *port, recite_error *err)
{
    char why[256];
    if (!serve_dl_load(&mhd_lib, RC_SONAME_MHD, mhd_resolve, why, sizeof why)) {
        snprintf(err->message, sizeof err->message, "recite serve needs libmicrohttpd: %s", why);
        err->code = RECITE_EIO;
        return NULL;
    }
    /* HOST:PORT, HOST an address or name ([...] for IPv6). */
    char host[256];
    const char *listen = s->opt.listen, *colon = strrchr(listen, ':');
    if (!colon || colon == listen || (size_t)(colon - listen) >= sizeof host) {
        snprintf(err->message, sizeof err->message,
                 "--listen expects HOST:PORT such as 127.0.0.1:8080, not '%s'", listen);
        err->code = RECITE_EINVAL;
        return NULL;
    }
    const char *h = listen;
    size_t hn = (size_t)(colon - listen);
    if (h[0] == '[' && hn >= 2 && h[hn - 1] == ']')
        h++, hn -= 2;
    memcpy(host, h, hn);
    host[hn] = 0;
    /* A port getaddrinfo would take modulo 65536 (99999 is 34463) is refused. */
    const char *port_s = colon + 1;
    size_t pn = strspn(port_s, "0123456789");
    if (pn == 0 || pn > 5 || port_s[pn] || strtoul(port_s, NULL, 10) > 65535) {
        snprintf(err->message, sizeof err->message,
                 "--listen expects HOST:PORT with a port from 0 to 65535, not '%s'", listen);
        err->code = RECITE_EINVAL;
        return NULL;
    }
    struct addrinfo hints = {0}, *ai = NULL;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV | AI_PASSIVE;
    int gai = getaddrinfo(host, colon + 1, &hints, &ai);
    if (gai != 0) {
        snprintf(err->message, sizeof err->message, "--listen %s: %s", listen, gai_strerror(gai));
        err->code = RECITE_EINVAL;
        return NULL;
    }
    unsigned flags = MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD |
                     MHD_USE_POLL | MHD_USE_ITC | MHD_USE_ERROR_LOG;
    if (ai->ai_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    atomic_store(&mhd_starting, true);
    struct MHD_Daemon *d = serve_mhd.MHD_start_daemon_(
        flags, 0, NULL, NULL, on_request, s, MHD_OPTION_EXTERNAL_LOGGER, on_log, s,
        MHD_OPTION_SOCK_ADDR, ai->ai_addr, MHD_OPTION_CONNECTION_LIMIT,
        (unsigned)(s->opt.max_connections + 64), MHD_OPTION_CONNECTION_TIMEOUT,
        (unsigned)s->opt.idle_timeout, MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
        MHD_OPTION_NOTIFY_CONNECTION, on_connection, s, MHD_OPTION_LISTEN_BACKLOG_SIZE,
        (unsigned)1024, MHD_OPTION_END);
    atomic_store(&mhd_starting, false);
    freeaddrinfo(ai);
    if (!d) {
        snprintf(err->message, sizeof err->message,
                 "cannot listen on %s (address in use, or not an address of this machine)", listen);
        err->code = RECITE_EIO;
        return NULL;
    }
    const union MHD_DaemonInfo *info = serve_mhd.MHD_get_daemon_info_(d, MHD_DAEMON_INFO_BIND_PORT);
    *port = info ? info->port : 0;
    return d;
}

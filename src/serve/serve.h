/*
 * serve.h — what the parts of `recite serve` share: the server and its options, index
 * generations (an index and a policy, reference-counted, each with a pool of checkers),
 * metrics, byte buffers, the SSE parser and the stream filter. Like src/cli, src/serve uses only
 * include/recite.h of recite (plus libmicrohttpd, libcurl and jansson); docs/SERVE.md is the
 * outside of it.
 */
#ifndef RECITE_SERVE_H
#define RECITE_SERVE_H

#include "recite.h"

#include <dlfcn.h>
#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* `recite serve ARGS...` (argv[0] is "serve"): runs until SIGTERM/SIGINT; the exit status. */
int serve_main(int argc, char **argv);

/* ==== libraries loaded when the server needs them (serve_util.c) ====
 * libmicrohttpd (every `recite serve`) and libcurl (`--proxy`) are not linked: `recite` does not
 * map them and their dependencies for its other commands (as the library loads poppler and
 * libgit2, src/common/dl.c). A list LIST(X, var) of the functions a table takes, X(var, f);
 * SERVE_DL_TABLE declares the table (var.f_, of f's type) and its resolver. */
#define SERVE_DL_MEMBER_(var, f) __typeof__(f) *f##_;
#define SERVE_DL_RESOLVE_(var, f)                                                                  \
    if (!(*(void **)&var.f##_ = dlsym(handle, #f)))                                                \
        return #f;
#define SERVE_DL_TYPE(LIST)                                                                        \
    struct {                                                                                       \
        LIST(SERVE_DL_MEMBER_, _)                                                                  \
    }
#define SERVE_DL_RESOLVER(var, resolve, LIST)                                                      \
    static const char *resolve(void *handle)                                                       \
    {                                                                                              \
        LIST(SERVE_DL_RESOLVE_, var)                                                               \
        return NULL;                                                                               \
    }
/* Opens soname and resolves its functions (once; the handle kept in *handle): false with the
 * reason in why (the loader's message, or the missing function). Called by one thread. */
bool serve_dl_load(void **handle, const char *soname, const char *(*resolve)(void *handle),
                   char *why, size_t why_cap);

/* ==== byte buffers (serve_util.c) ==== */

typedef struct sbuf {
    char *s; /* NUL-terminated when not NULL */
    size_t n, cap;
    bool oom; /* an allocation failed: the content is incomplete */
} sbuf;

void sbuf_add(sbuf *b, const void *p, size_t n);
void sbuf_adds(sbuf *b, const char *s);
void sbuf_addf(sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* s[0, n) as a JSON string literal; bytes that are not UTF-8 become U+FFFD. */
void sbuf_json(sbuf *b, const char *s, size_t n);
void sbuf_free(sbuf *b);
/* Takes the buffer's string (caller frees); the buffer is empty afterwards. */
char *sbuf_take(sbuf *b, size_t *len);

/* Fills err with RECITE_ENOMEM; returns RECITE_ENOMEM. */
int serve_oom(recite_error *err);
/* Seconds on the monotonic clock. */
double serve_now(void);
/* A one-line note on stderr, "recite serve: ..." (unless quiet, for notes). */
void serve_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* 32 random hex digits and a NUL in out[33]; false when no randomness could be read. */
bool serve_random_id(char out[33]);
/* Largest p <= n such that s[0, p) does not end inside a UTF-8 sequence. */
size_t serve_utf8_floor(const char *s, size_t len, size_t n);

/* ==== actions ==== */

/* What the server does about a recitation, decided per work: its policy action
 * (recite_policy_decide) mapped through the server's --on-cite/--on-flag/--on-block. */
typedef enum { ACT_PASS = 0, ACT_CITE = 1, ACT_REDACT = 2, ACT_BLOCK = 3 } serve_act;
const char *serve_act_name(serve_act a);
bool serve_act_parse(serve_act *out, const char *s);

/* ==== index generations (serve_gen.c) ==== */

/* One loaded index and policy. Requests hold a reference for their whole life, so a reload
 * never pulls an index from under one; the last release frees it. Checkers are taken from the
 * generation's pool and given back, so each belongs to one thread at a time and none is made
 * per request once the pool is warm. */
typedef struct serve_gen {
    atomic_uint refs;
    uint64_t number; /* 1 for the first index loaded, +1 per reload */
    recite_index *idx;
    recite_policy *policy; /* NULL: the default policy */
    recite_index_stats stats;
    unsigned leak_prose, leak_code; /* recite_checker_leak_bound, tokens */
    dev_t dev;                      /* of DIR/recite.idx when it was opened */
    ino_t ino;
    int64_t policy_mtime_ns; /* of the policy file (0 without one) */
    ino_t policy_ino;
    pthread_mutex_t pool_lock;
    recite_checker **pool;
    size_t npool, pool_cap;
} serve_gen;

/* ==== metrics (serve_metrics.c) ==== */

enum {
    ROUTE_CHECK,
    ROUTE_SESSION_CREATE,
    ROUTE_SESSION_APPEND,
    ROUTE_SESSION_GET,
    ROUTE_SESSION_DELETE,
    ROUTE_AZURE,
    ROUTE_LITELLM,
    ROUTE_CHAT,
    ROUTE_COMPLETIONS,
    ROUTE_HEALTHZ,
    ROUTE_METRICS,
    ROUTE_OTHER,
    ROUTE_COUNT
};
const char *serve_route_name(int route);

#define SERVE_NSTATUS 20
#define SERVE_NBUCKETS 14

typedef struct serve_metrics {
    atomic_ullong requests[ROUTE_COUNT][SERVE_NSTATUS];
    atomic_ullong latency[ROUTE_COUNT][SERVE_NBUCKETS + 1]; /* per bucket; last = +Inf */
    atomic_ullong latency_sum_ns[ROUTE_COUNT];
    atomic_ullong bytes_checked, tokens_checked, matches;
    atomic_ullong verdicts[4]; /* by recite_action */
    atomic_ullong actions[4];  /* proxy and guardrail outcomes, by serve_act */
    atomic_ullong reloads, reload_failures;
    atomic_ullong sessions_created, sessions_expired;
    atomic_ullong upstream_errors, client_disconnects;
    atomic_ullong rejected_connections;
} serve_metrics;

/* ==== the server ==== */

typedef struct serve_sessions serve_sessions; /* serve_session.c */

typedef struct serve_options {
    const char *index_dir, *listen, *policy_file, *token_file, *key_file;
    const char *proxy_url, *upstream_key_file;
    const char *marker;                /* "{work}" is replaced by the work id */
    size_t max_body;                   /* bytes of a request body */
    size_t max_session_bytes;          /* text of one session */
    size_t max_upstream_body;          /* a non-streaming upstream answer */
    unsigned max_connections;          /* beyond: 503 */
    unsigned max_sessions;             /* open at once; beyond: 429 */
    unsigned session_idle;             /* seconds before an idle session expires */
    unsigned request_timeout;          /* seconds to receive a request body: 408 */
    unsigned idle_timeout;             /* seconds an idle keep-alive connection is kept */
    unsigned upstream_timeout;         /* seconds for a whole upstream answer: 504 */
    unsigned upstream_idle;            /* seconds without a byte from the upstream: 504 */
    unsigned upstream_connect_timeout; /* seconds */
    unsigned reload_interval;          /* seconds between index checks; 0 = SIGHUP only */
    unsigned drain_timeout;            /* seconds SIGTERM waits for requests in flight */
    unsigned max_choices;              /* n of a proxied request */
    serve_act on[4];                   /* by recite_action */
    bool quiet;
} serve_options;

/* The defaults of the options (the values `recite serve --help` names). */
void serve_options_default(serve_options *o);

typedef struct serve_server {
    serve_options opt;
    char *token; /* NULL: no authentication */
    size_t token_len;
    char *upstream_key;  /* sent to the upstream as a bearer token; NULL: none */
    char *upstream_base; /* the upstream base URL without a trailing slash */
    char *key;           /* the key of a text-free index */
    size_t key_len;
    pthread_mutex_t gen_lock;
    serve_gen *gen; /* the current generation (holds one reference) */
    /* The index and policy files of the last reload that failed: not tried again until
     * they change (or SIGHUP). */
    dev_t failed_dev;
    ino_t failed_ino, failed_policy_ino;
    int64_t failed_policy_mtime_ns;
    serve_sessions *sessions;
    serve_metrics metrics;
    atomic_int draining;
    atomic_uint connections, in_flight;
    double started;
} serve_server;

/* Loads generation 1 (index and policy). */
int serve_gen_init(serve_server *s, recite_error *err);
/* The current generation, with a reference the caller gives back with serve_gen_release. */
serve_gen *serve_gen_acquire(serve_server *s);
void serve_gen_release(serve_gen *g);
/* Reloads when DIR/recite.idx or the policy file changed (always when `force`): 1 reloaded,
 * 0 nothing changed, -1 the new index or policy could not be loaded (err; the old one stays). */
int serve_gen_reload(serve_server *s, bool force, recite_error *err);
/* Drops the current generation (at exit). */
void serve_gen_shutdown(serve_server *s);
/* A checker of generation g with the default options: from its pool, or made. */
int serve_checker_get(recite_checker **out, serve_gen *g, recite_error *err);
/* Gives a checker back to g's pool (reset); NULL is ignored. */
void serve_checker_put(serve_gen *g, recite_checker *c);

/* The serve_act of each work of res (acts[i] for res->works[i]) under `policy` (NULL: g's)
 * and the server's mapping; returns the most severe, and the policy verdict in *verdict. */
serve_act serve_decide(serve_act *acts, recite_action *verdict, const serve_server *s,
                       const serve_gen *g, const recite_policy *policy, const recite_result *res);
/* The serve_act of the work `work` given acts from serve_decide (ACT_PASS when absent). */
serve_act serve_act_of(const recite_result *res, const serve_act *acts, uint32_t work);
/* Appends the marker for work `work` (the --redact-marker with {work} replaced). */
void serve_add_marker(sbuf *b, const serve_server *s, const serve_gen *g, uint32_t work);
/* text with every match whose work's act is at least `min_act` replaced by its marker
 * (overlapping matches make one marker). */
void serve_redact(sbuf *out, const serve_server *s, const serve_gen *g, const char *text,
                  size_t len, const recite_result *res, const serve_act *acts, serve_act min_act);
/* The works of res as a JSON array for annotations: work, title, license, url, action and
 * spans (output and source offsets, tokens, kind). */
json_t *serve_works_json(const serve_gen *g, const recite_result *res, const serve_act *acts);

void serve_metrics_request(serve_metrics *m, int route, unsigned status, double seconds);
void serve_metrics_result(serve_metrics *m, const recite_result *res, recite_action verdict);
/* The Prometheus text exposition of the server's metrics. */
void serve_metrics_render(sbuf *out, serve_server *s);

/* ==== sessions (serve_session.c) ==== */

serve_sessions *serve_sessions_new(serve_server *s);
void serve_sessions_free(serve_sessions *ss);
/* Expires sessions idle for longer than the limit (called about once a second). */
void serve_sessions_expire(serve_sessions *ss);
unsigned serve_sessions_open(serve_sessions *ss);

/* ==== SSE parsing (serve_sse.c) ==== */

/* An incremental parser of server-sent events (the WHATWG event-stream format): lines end with
 * CRLF, LF or CR; `data:` lines of an event are joined with LF; `event:` names it; comments
 * and other fields are ignored; an event ends at a blank line. A pure function over bytes. */
typedef struct serve_sse {
    sbuf line;     /* the line being read */
    sbuf data;     /* data of the event being read */
    sbuf event;    /* its `event:` name */
    bool has_data; /* a data field was seen */
    bool after_cr; /* the last byte was CR (a LF right after it ends nothing) */
    bool started;  /* past a leading byte-order mark */
    size_t max;    /* an event or line longer than this is an error; 0 = 1 MiB */
} serve_sse;

/* Called for each complete event that has data: `event` is "" when unnamed. Return 0 to go
 * on; another value stops serve_sse_feed, which then returns it. */
typedef int (*serve_sse_fn)(void *user, const char *event, const char *data, size_t len);

/* Feeds bytes; returns 0, the callback's non-zero value, or -1 (too long or out of memory). */
int serve_sse_feed(serve_sse *p, const char *bytes, size_t n, serve_sse_fn fn, void *user);
void serve_sse_free(serve_sse *p);

/* ==== the stream filter (serve_filter.c) ==== */

/* One streamed text (a choice of a proxied answer) fed to a checker: what may be released to
 * the reader so far (before `cleared`, never inside a span that is growing, recited spans
 * of works to redact replaced by a marker), and whether the stream must stop (a span of a work
 * to block). */
typedef struct serve_fspan {
    uint64_t start, end;
    uint32_t work;
    bool growing;
    serve_act act;
} serve_fspan;

typedef struct serve_filter {
    const serve_server *srv;
    serve_gen *gen;
    recite_checker *chk;
    uint64_t fed;      /* bytes fed */
    uint64_t released; /* bytes of the text released or suppressed */
    serve_fspan *spans;
    size_t nspans, cap;
    serve_act *acts; /* scratch for serve_decide */
    size_t acts_cap;
    bool blocked;  /* stopped: nothing more is released */
    bool finished; /* the text ended and was checked whole */
    bool truncated;
    serve_act worst;       /* most severe act applied */
    recite_action verdict; /* the policy verdict so far (final after finish) */
    json_t *annotation;    /* after finish or block: the "recite" object for the choice */
} serve_filter;

int serve_filter_init(serve_filter *f, const serve_server *s, serve_gen *g, recite_error *err);
void serve_filter_free(serve_filter *f);
/* Feeds a piece of the text; appends to `out` what may be released now. */
int serve_filter_feed(serve_filter *f, const char *s, size_t n, sbuf *out, recite_error *err);
/* The text ended: checks it whole and appends the rest that may be released (nothing when
 * the stream is stopped). Sets f->annotation. */
int serve_filter_finish(serve_filter *f, sbuf *out, recite_error *err);
/* A whole text (a non-streaming answer): the same as feeding it and finishing, without the
 * polls. */
int serve_filter_whole(serve_filter *f, const char *s, size_t n, sbuf *out, recite_error *err);

#endif /* RECITE_SERVE_H */

/*
 * serve_http.h — the HTTP side of `recite serve` shared by its handlers: the state of one
 * request (route, body, status), JSON responses and errors, and the handlers of each group of
 * endpoints (checks and guardrail adapters, sessions, the proxy). Built on libmicrohttpd.
 */
#ifndef RECITE_SERVE_HTTP_H
#define RECITE_SERVE_HTTP_H

#include "serve.h"

#include <microhttpd.h>

typedef struct serve_req {
    serve_server *srv;
    int route;
    char session_id[40]; /* {id} of /v1/sessions/{id}[/append] */
    sbuf body;
    bool too_large;
    double t0;
    unsigned status;   /* of the response queued, for the metrics */
    const char *allow; /* the methods of a 405 */
} serve_req;

/* Queues a response (taking `body`, malloc'd, or NULL for none) and records its status. */
enum MHD_Result serve_send(struct MHD_Connection *c, serve_req *r, unsigned status,
                           const char *content_type, char *body, size_t len);
/* The same with a JSON value (its reference is taken). */
enum MHD_Result serve_send_json(struct MHD_Connection *c, serve_req *r, unsigned status, json_t *j);
/* A JSON error: {"error": {"message", "type", "code"}} (OpenAI's shape; Azure's clients read
 * error.code and error.message). The type follows from the status. */
enum MHD_Result serve_send_error(struct MHD_Connection *c, serve_req *r, unsigned status,
                                 const char *code, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
/* The body as a JSON object; NULL after sending a 400 error (then return *sent). */
json_t *serve_body_object(struct MHD_Connection *c, serve_req *r, enum MHD_Result *sent);

/* serve_check.c: POST /v1/check, the Azure and LiteLLM endpoints. */
enum MHD_Result serve_check_handle(struct MHD_Connection *c, serve_req *r);
/* serve_session.c: /v1/sessions and /v1/sessions/{id}[/append]. */
enum MHD_Result serve_session_handle(struct MHD_Connection *c, serve_req *r, const char *method);
/* serve_proxy.c: POST /v1/chat/completions and /v1/completions. */
enum MHD_Result serve_proxy_handle(struct MHD_Connection *c, serve_req *r);
/* Loads and initializes libcurl (false with the reason in why); cleanup undoes it, if done. */
bool serve_proxy_global_init(char *why, size_t why_cap);
void serve_proxy_global_cleanup(void);

/* libmicrohttpd's functions, loaded by serve_http_start (serve.h, SERVE_DL_TABLE): each f as
 * serve_mhd.f_. */
#define SERVE_MHD_FUNCTIONS(X, a)                                                                  \
    X(a, MHD_add_response_header)                                                                  \
    X(a, MHD_create_response_from_buffer)                                                          \
    X(a, MHD_create_response_from_callback)                                                        \
    X(a, MHD_destroy_response)                                                                     \
    X(a, MHD_get_connection_info)                                                                  \
    X(a, MHD_get_daemon_info)                                                                      \
    X(a, MHD_lookup_connection_value)                                                              \
    X(a, MHD_queue_response)                                                                       \
    X(a, MHD_quiesce_daemon)                                                                       \
    X(a, MHD_start_daemon)                                                                         \
    X(a, MHD_stop_daemon)
typedef SERVE_DL_TYPE(SERVE_MHD_FUNCTIONS) serve_mhd_table;
extern serve_mhd_table serve_mhd;

/* serve_http.c: loads libmicrohttpd and starts the daemon on opt.listen; the bound port in
 * *port. */
struct MHD_Daemon *serve_http_start(serve_server *s, unsigned *port, recite_error *err);

#endif /* RECITE_SERVE_HTTP_H */

/*
 * fuzz_http.c — `recite serve` on any request body: the server runs in this process on a
 * loopback port (libmicrohttpd, as in production) over a small index, and each input is sent by
 * libcurl to one of the JSON endpoints. Every answer must be well-formed (a status the endpoint
 * documents, never a 5xx, a JSON object body, `error` on failures), a check's spans must lie
 * inside the text sent, and the server must stay up and keep its books (no request in flight).
 */
#include "fuzz.h"
#include "serve/serve.h"
#include "serve/serve_http.h"

#include <curl/curl.h>
#include <jansson.h>
#include <microhttpd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static serve_server *srv;
static struct MHD_Daemon *daemon_;
static unsigned port;
static CURL *curl;
static char session[64];

typedef struct answer {
    sbuf body;
    long status;
} answer;

static size_t on_body(char *p, size_t size, size_t n, void *user)
{
    sbuf_add(&((answer *)user)->body, p, size * n);
    return size * n;
}

/* method path body → the answer (status, body); aborts when the server does not answer. */
static void request(answer *a, const char *method, const char *path, const char *ctype,
                    const uint8_t *body, size_t len)
{
    char url[256], header[96];
    snprintf(url, sizeof url, "http://127.0.0.1:%u%s", port, path);
    snprintf(header, sizeof header, "Content-Type: %s", ctype);
    struct curl_slist *hs = curl_slist_append(NULL, header);
    FZ_CHECK(hs, "oom");
    curl_easy_reset(curl);
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, hs);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT, 30L);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, a);
    if (strcmp(method, "POST") == 0) {
        curl_easy_setopt(curl, CURLOPT_POSTFIELDS, (const char *)body);
        curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    }
    *a = (answer){0};
    CURLcode rc = curl_easy_perform(curl);
    curl_slist_free_all(hs);
    FZ_CHECK(rc == CURLE_OK, "%s %s: no answer (%s)", method, path, curl_easy_strerror(rc));
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &a->status);
    FZ_CHECK(!a->body.oom, "oom");
}

static json_t *answer_json(const answer *a, const char *what)
{
    json_error_t je;
    /* A text with U+0000 is taken (bodies are read with JSON_ALLOW_NUL) and comes back in the
     * answer (the redacted text) as \u0000: valid JSON, so read the answer the same way. */
    json_t *j = json_loadb(a->body.s ? a->body.s : "", a->body.n, JSON_ALLOW_NUL, &je);
    FZ_CHECK(json_is_object(j), "%s: status %ld, the body is not a JSON object (%s): %.200s", what,
             a->status, je.text, a->body.s ? a->body.s : "");
    if (a->status >= 400) {
        json_t *e = json_object_get(j, "error");
        FZ_CHECK(e, "%s: status %ld without an error: %.200s", what, a->status, a->body.s);
    }
    return j;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    char *dir = fz_tmpdir("http"), *w1, *w2, *ix;
    FZ_CHECK(asprintf(&w1, "%s/gpl.txt", dir) > 0 && asprintf(&w2, "%s/mit.txt", dir) > 0 &&
                 asprintf(&ix, "%s/idx", dir) > 0,
             "oom");
    size_t n1, n2;
    char *t1 = fz_text("/usr/share/common-licenses/GPL-3", 0, 6000, &n1);
    char *t2 = fz_text("/usr/share/common-licenses/Apache-2.0", 0, 4000, &n2);
    FZ_CHECK(fz_write(w1, t1, n1) == 0 && fz_write(w2, t2, n2) == 0, "cannot write the works");
    const char *paths[] = {w1, w2};
    fz_build(ix, paths, 2, RECITE_MODE_PROSE, 0, NULL, 0);
    free(t1);
    free(t2);
    free(w1);
    free(w2);

    srv = calloc(1, sizeof *srv);
    FZ_CHECK(srv, "oom");
    serve_options_default(&srv->opt);
    srv->opt.index_dir = ix;
    srv->opt.listen = "127.0.0.1:0";
    srv->opt.quiet = true;
    srv->opt.max_body = 64 << 10;
    srv->opt.max_session_bytes = 256 << 10;
    srv->opt.reload_interval = 0;
    srv->started = serve_now();
    recite_error err = {0};
    FZ_CHECK(serve_gen_init(srv, &err) == RECITE_OK, "%s", err.message);
    char why[256] = "";
    FZ_CHECK((srv->sessions = serve_sessions_new(srv)) && serve_proxy_global_init(why, sizeof why),
             "oom or no libcurl: %s", why);
    json_object_seed(0);
    daemon_ = serve_http_start(srv, &port, &err);
    FZ_CHECK(daemon_, "cannot start the server: %s", err.message);
    FZ_CHECK((curl = curl_easy_init()), "curl");
    answer a;
    request(&a, "POST", "/v1/sessions", "application/json", (const uint8_t *)"{}", 2);
    json_t *j = answer_json(&a, "session");
    FZ_CHECK(a.status == 201 && json_is_string(json_object_get(j, "id")), "no session: %.200s",
             a.body.s);
    snprintf(session, sizeof session, "%s", json_string_value(json_object_get(j, "id")));
    json_decref(j);
    sbuf_free(&a.body);
    return 0;
}

/* A check's answer: every span inside the text that was sent. */
static void check_spans(json_t *report, const json_t *sent)
{
    json_t *text = json_object_get(sent, "text");
    if (!json_is_string(text))
        return;
    size_t len = json_string_length(text);
    json_t *matches = json_object_get(report, "matches");
    FZ_CHECK(json_is_array(matches), "a check without matches");
    size_t i;
    json_t *m;
    json_array_foreach(matches, i, m)
    {
        json_t *out = json_object_get(m, "output");
        json_int_t s = json_integer_value(json_object_get(out, "start"));
        json_int_t e = json_integer_value(json_object_get(out, "end"));
        FZ_CHECK(0 <= s && s < e && (size_t)e <= len, "match %zu at %lld-%lld of %zu bytes", i,
                 (long long)s, (long long)e, len);
    }
}

static const struct {
    const char *method, *path;
    unsigned route;
} routes[] = {
    {"POST", "/v1/check", ROUTE_CHECK},
    {"POST", "/v1/sessions", ROUTE_SESSION_CREATE},
    {"POST", NULL, ROUTE_SESSION_APPEND}, /* the session made at start */
    {"POST", "/contentsafety/text:detectProtectedMaterial", ROUTE_AZURE},
    {"POST", "/beta/litellm_basic_guardrail_api", ROUTE_LITELLM},
    {"POST", "/v1/chat/completions", ROUTE_CHAT},
};

/* Input: byte 0 picks the endpoint (and, bit 7, a content type other than JSON); the rest is
 * the request body. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    size_t r = data[0] % (sizeof routes / sizeof *routes);
    char path[128];
    snprintf(path, sizeof path, "%s", routes[r].path ? routes[r].path : "");
    if (!routes[r].path)
        snprintf(path, sizeof path, "/v1/sessions/%s/append", session);
    const char *ctype = data[0] & 0x80 ? "text/plain" : "application/json";
    answer a;
    request(&a, routes[r].method, path, ctype, data + 1, size - 1);
    /* Without an upstream the proxy's routes are not served (404); a full session is 413. */
    FZ_CHECK(a.status >= 200 && a.status < 500, "%s: status %ld: %.300s", path, a.status,
             a.body.s ? a.body.s : "");
    json_t *j = answer_json(&a, path);
    if (routes[r].route == ROUTE_CHECK && a.status == 200) {
        json_t *sent = json_loadb((const char *)data + 1, size - 1, JSON_ALLOW_NUL, NULL);
        FZ_CHECK(sent, "status 200 for a body that is not JSON");
        check_spans(j, sent);
        json_decref(sent);
    }
    if (routes[r].route == ROUTE_SESSION_CREATE && a.status == 201) {
        /* Close it again: sessions are limited. */
        json_t *id = json_object_get(j, "id");
        FZ_CHECK(json_is_string(id), "a session without id");
        char p2[128];
        snprintf(p2, sizeof p2, "/v1/sessions/%s", json_string_value(id));
        answer d;
        request(&d, "DELETE", p2, "application/json", NULL, 0);
        FZ_CHECK(d.status == 200 || d.status == 204, "DELETE %s: %ld", p2, d.status);
        sbuf_free(&d.body);
    }
    json_decref(j);
    sbuf_free(&a.body);
    /* The server counts a request done when its answer is sent, a moment after curl has it. */
    for (int i = 0; i < 2000 && atomic_load(&srv->in_flight) != 0; i++)
        nanosleep(&(struct timespec){0, 1000000}, NULL);
    FZ_CHECK(atomic_load(&srv->in_flight) == 0, "%u requests still in flight after the answer",
             atomic_load(&srv->in_flight));
    return 0;
}

int fuzz_seeds(const char *dir)
{
    static const char *const seeds[] = {
        "\x00{\"text\": \"This program is free software: you can redistribute it and/or modify it "
        "under the terms of the GNU General Public License as published by the Free Software "
        "Foundation\", \"redact\": true}",
        "\x00{\"text\": \"x\", \"min_tokens\": 0}",
        "\x00{\"text\": \"caf\\u00e9\", \"policy\": {\"rules\": []}, \"input\": \"q\"}",
        "\x01{\"min_tokens\": 8}",
        "\x02{\"text\": \"Licensed under the Apache License, Version 2.0 (the \"}",
        "\x03{\"text\": \"Apache License Version 2.0, January 2004\"}",
        "\x04{\"texts\": [\"a\", \"b\"], \"input_type\": \"response\"}",
        "\x05{\"model\": \"m\", \"messages\": [{\"role\": \"user\", \"content\": \"hi\"}]}",
        "\x80not json at all",
        "\x00[1, 2, 3]",
    };
    for (size_t i = 0; i < sizeof seeds / sizeof *seeds; i++) {
        char name[16];
        snprintf(name, sizeof name, "seed-%zu", i);
        size_t n = 1 + strlen(seeds[i] + 1);
        if (fz_seed(dir, name, seeds[i], n) != 0)
            return -1;
    }
    return 0;
}

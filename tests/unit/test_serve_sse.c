/*
 * test_serve_sse.c — the SSE parser of `recite serve` (src/serve/serve_sse.c): fields, line
 * ends (LF, CRLF, CR, and a CRLF split between two pieces), comments, event names, a leading
 * byte-order mark, an unfinished event at the end, limits, the callback's stop; and any
 * chunking of a random stream gives the events of the whole stream. And serve_dl_load
 * (serve_util.c), which opens libmicrohttpd and libcurl when the server starts: a missing
 * library or function is said, a loaded one resolved once.
 */
#include "test_util.h"

#include "serve/serve.h"

typedef struct got {
    char *ev[1024];
    char *name[1024];
    size_t n;
    int stop_at; /* return 7 at this event (0: never) */
} got;

static int collect(void *user, const char *event, const char *data, size_t len)
{
    got *g = user;
    assert_true(g->n < 1024);
    g->ev[g->n] = malloc(len + 1);
    memcpy(g->ev[g->n], data, len);
    g->ev[g->n][len] = 0;
    assert_int_equal(strlen(g->ev[g->n]), len); /* no NUL inside in these tests */
    g->name[g->n] = strdup(event);
    g->n++;
    return g->stop_at && (int)g->n == g->stop_at ? 7 : 0;
}

static void got_free(got *g)
{
    for (size_t i = 0; i < g->n; i++) {
        free(g->ev[i]);
        free(g->name[i]);
    }
    g->n = 0;
}

/* Parses s whole; the events in g. */
static int parse(got *g, const char *s)
{
    serve_sse p = {0};
    int rc = serve_sse_feed(&p, s, strlen(s), collect, g);
    serve_sse_free(&p);
    return rc;
}

static void test_fields(void **state)
{
    (void)state;
    got g = {0};
    assert_int_equal(parse(&g, "data: hello\n\n"), 0);
    assert_int_equal(g.n, 1);
    assert_string_equal(g.ev[0], "hello");
    assert_string_equal(g.name[0], "");
    got_free(&g);
    /* Several data lines join with LF; no space after the colon; only one space is dropped. */
    assert_int_equal(parse(&g, "data: a\ndata:b\ndata:  c\n\n"), 0);
    assert_int_equal(g.n, 1);
    assert_string_equal(g.ev[0], "a\nb\n c");
    got_free(&g);
    /* Comments, unknown fields, id and retry are ignored; event names the event. */
    assert_int_equal(parse(&g, ": keep-alive\n\nid: 3\nretry: 10\nfoo: bar\nevent: error\n"
                               "data: {\"x\":1}\n\n"),
                     0);
    assert_int_equal(g.n, 1);
    assert_string_equal(g.ev[0], "{\"x\":1}");
    assert_string_equal(g.name[0], "error");
    got_free(&g);
    /* A blank line without data dispatches nothing; "data" alone is an empty event; the name
     * does not carry over to the next event. */
    assert_int_equal(parse(&g, "\n\nevent: x\n\ndata\n\ndata: y\n\n"), 0);
    assert_int_equal(g.n, 2);
    assert_string_equal(g.ev[0], "");
    assert_string_equal(g.ev[1], "y");
    assert_string_equal(g.name[1], "");
    got_free(&g);
    /* An event not ended by a blank line is not dispatched. */
    assert_int_equal(parse(&g, "data: [DONE]\n\ndata: cut"), 0);
    assert_int_equal(g.n, 1);
    assert_string_equal(g.ev[0], "[DONE]");
    got_free(&g);
}

static void test_line_ends(void **state)
{
    (void)state;
    got g = {0};
    assert_int_equal(parse(&g, "data: a\r\n\r\ndata: b\r\rdata: c\n\r\n"), 0);
    assert_int_equal(g.n, 3);
    assert_string_equal(g.ev[0], "a");
    assert_string_equal(g.ev[1], "b");
    assert_string_equal(g.ev[2], "c");
    got_free(&g);
    /* A CRLF split between two pieces is one line end, not two. */
    serve_sse p = {0};
    const char *pieces[] = {"data: x\r", "\n", "data: y\r", "\n\r", "\n"};
    for (size_t i = 0; i < 5; i++)
        assert_int_equal(serve_sse_feed(&p, pieces[i], strlen(pieces[i]), collect, &g), 0);
    assert_int_equal(g.n, 1);
    assert_string_equal(g.ev[0], "x\ny");
    serve_sse_free(&p);
    got_free(&g);
    /* A byte-order mark at the very start is dropped (and only there). */
    assert_int_equal(parse(&g, "\xef\xbb\xbf"
                               "data: z\n\n\xef\xbb\xbf"
                               "data: w\n\n"),
                     0);
    assert_int_equal(g.n, 1); /* the second line's field is "\xef\xbb\xbfdata": unknown */
    assert_string_equal(g.ev[0], "z");
    got_free(&g);
}

static void test_limits_and_stop(void **state)
{
    (void)state;
    got g = {0};
    serve_sse p = {.max = 64};
    char line[200];
    memset(line, 'a', sizeof line);
    assert_int_equal(serve_sse_feed(&p, "data: ", 6, collect, &g), 0);
    assert_int_equal(serve_sse_feed(&p, line, sizeof line, collect, &g), -1);
    serve_sse_free(&p);
    /* Many short data lines make a long event: refused too. */
    p = (serve_sse){.max = 64};
    int rc = 0;
    for (int i = 0; i < 40 && rc == 0; i++)
        rc = serve_sse_feed(&p, "data: abc\n", 10, collect, &g);
    assert_int_equal(rc, -1);
    assert_int_equal(g.n, 0);
    serve_sse_free(&p);
    /* The callback's value stops the parse and is returned. */
    g.stop_at = 2;
    assert_int_equal(parse(&g, "data: 1\n\ndata: 2\n\ndata: 3\n\n"), 7);
    assert_int_equal(g.n, 2);
    got_free(&g);
}

/* A random stream of events: data lines with UTF-8, line ends of every kind, comments. */
static void random_stream(char *buf, size_t cap, rng *r, size_t *len, size_t *events)
{
    static const char *const ends[] = {"\n", "\r\n", "\r"};
    static const char *const words[] = {
        "{\"a\":1}", "caf\xc3\xa9", "\xe6\x97\xa5\xe6\x9c\xac", "x y", "[DONE]", ":", "data"};
    size_t n = 0, ev = 0;
    while (n + 200 < cap) {
        const char *end = ends[rng_below(r, 3)];
        if (rng_below(r, 5) == 0)
            n += (size_t)snprintf(buf + n, cap - n, ": comment%s", end);
        size_t lines = 1 + rng_below(r, 3);
        for (size_t i = 0; i < lines; i++)
            n += (size_t)snprintf(buf + n, cap - n, "data: %s%s", words[rng_below(r, 7)],
                                  ends[rng_below(r, 3)]);
        n += (size_t)snprintf(buf + n, cap - n, "%s", ends[rng_below(r, 3)]);
        ev++;
    }
    *len = n;
    *events = ev;
}

static void test_any_chunking(void **state)
{
    (void)state;
    rng r = rng_seeded(77);
    static char buf[8192];
    int trials = iterations(200);
    for (int t = 0; t < trials; t++) {
        size_t len, events;
        random_stream(buf, sizeof buf, &r, &len, &events);
        got whole = {0}, parts = {0};
        serve_sse p = {0};
        assert_int_equal(serve_sse_feed(&p, buf, len, collect, &whole), 0);
        serve_sse_free(&p);
        /* A "\r" that ends a line right before the blank line's "\n" makes one end: the
         * count can be lower than the events written, never higher. */
        assert_true(whole.n <= events && whole.n > 0);
        for (size_t at = 0; at < len;) {
            size_t k = 1 + rng_below(&r, 1 + rng_below(&r, 2) * 40);
            if (k > len - at)
                k = len - at;
            assert_int_equal(serve_sse_feed(&p, buf + at, k, collect, &parts), 0);
            at += k;
        }
        serve_sse_free(&p);
        assert_int_equal(parts.n, whole.n);
        for (size_t i = 0; i < whole.n; i++)
            assert_string_equal(parts.ev[i], whole.ev[i]);
        got_free(&whole);
        got_free(&parts);
    }
}

/* An OpenAI stream as it comes on the wire. */
static void test_openai_stream(void **state)
{
    (void)state;
    const char *s =
        "data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,"
        "\"delta\":{\"role\":\"assistant\",\"content\":\"\"},\"finish_reason\":null}]}\n\n"
        "data: {\"id\":\"c1\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hi\"}}]}\n\n"
        ": OPENROUTER PROCESSING\n\n"
        "data: {\"id\":\"c1\",\"choices\":[],\"usage\":{\"total_tokens\":3}}\n\n"
        "data: [DONE]\n\n";
    got g = {0};
    assert_int_equal(parse(&g, s), 0);
    assert_int_equal(g.n, 4);
    assert_string_equal(g.ev[3], "[DONE]");
    assert_non_null(strstr(g.ev[1], "\"content\":\"Hi\""));
    got_free(&g);
}

#define LIBC_FUNCTIONS(X, a) X(a, strlen)
#define NO_FUNCTIONS(X, a) X(a, recite_no_such_function)
size_t recite_no_such_function(const char *s); /* declared for its type: defined nowhere */
static SERVE_DL_TYPE(LIBC_FUNCTIONS) libc;
static SERVE_DL_TYPE(NO_FUNCTIONS) none;
SERVE_DL_RESOLVER(libc, libc_resolve, LIBC_FUNCTIONS)
SERVE_DL_RESOLVER(none, none_resolve, NO_FUNCTIONS)

static void test_dl_load(void **state)
{
    (void)state;
    char why[256] = "";
    void *h = NULL;
    assert_false(serve_dl_load(&h, "librecite-no-such.so.9", libc_resolve, why, sizeof why));
    assert_null(h);
    assert_non_null(strstr(why, "librecite-no-such.so.9 could not be loaded"));
    assert_false(serve_dl_load(&h, "libc.so.6", none_resolve, why, sizeof why));
    assert_null(h);
    assert_string_equal(why, "libc.so.6 has no recite_no_such_function");
    assert_true(serve_dl_load(&h, "libc.so.6", libc_resolve, why, sizeof why));
    assert_non_null(h);
    assert_int_equal(libc.strlen_("serve"), 5);
    void *was = h;
    assert_true(serve_dl_load(&h, "libc.so.6", libc_resolve, why, sizeof why));
    assert_ptr_equal(h, was);
    (void)none;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fields),          cmocka_unit_test(test_line_ends),
        cmocka_unit_test(test_limits_and_stop), cmocka_unit_test(test_any_chunking),
        cmocka_unit_test(test_openai_stream),   cmocka_unit_test(test_dl_load),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * fuzz_sse.c — the proxy's parser of server-sent events (serve_sse_feed, src/serve/serve_sse.c)
 * on any bytes, differentially: the stream fed whole, fed in pieces cut where the input says
 * (inside CRLF, inside UTF-8 sequences) and read by a plain reference reader written here from
 * the WHATWG rules must give the same events and the same error, and no event exceeds the limit.
 */
#include "fuzz.h"
#include "serve/serve.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The events of one parse, each as "event NUL length data" appended to one buffer. */
typedef struct events {
    sbuf all;
    size_t count;
    size_t stop_after; /* the callback returns 7 after this many events (0: never) */
} events;

static int on_event(void *user, const char *event, const char *data, size_t len)
{
    events *e = user;
    FZ_CHECK(event && data, "an event without name or data pointer");
    sbuf_adds(&e->all, event);
    sbuf_add(&e->all, "", 1);
    sbuf_addf(&e->all, "%zu ", len);
    sbuf_add(&e->all, data, len);
    e->count++;
    FZ_CHECK(!e->all.oom, "oom");
    return e->stop_after && e->count >= e->stop_after ? 7 : 0;
}

/* The reference: the whole stream split into lines first, then each line processed as the
 * standard says (fields, comments, a blank line dispatches). Returns like serve_sse_feed. */
static int reference(const uint8_t *in, size_t n, size_t max, events *e)
{
    sbuf data = {0}, name = {0};
    bool has_data = false;
    int rc = 0;
    size_t i = 0;
    bool first = true;
    while (i < n && rc == 0) {
        size_t j = i;
        while (j < n && in[j] != '\r' && in[j] != '\n')
            j++;
        if (j == n) { /* an unterminated last line: never processed */
            if (j - i > max)
                rc = -1;
            break;
        }
        if (j - i > max) {
            rc = -1;
            break;
        }
        const char *line = (const char *)in + i;
        size_t len = j - i;
        if (first && len >= 3 && memcmp(line, "\xef\xbb\xbf", 3) == 0)
            line += 3, len -= 3; /* a byte-order mark opening the first line */
        first = false;
        i = j + 1;
        if (in[j] == '\r' && i < n && in[i] == '\n')
            i++;
        if (len == 0) {
            if (has_data) {
                size_t dl = data.n && data.s[data.n - 1] == '\n' ? data.n - 1 : data.n;
                rc = on_event(e, name.s ? name.s : "", data.s ? data.s : "", dl);
            }
            data.n = name.n = 0;
            if (name.s)
                name.s[0] = 0;
            has_data = false;
        } else if (line[0] != ':') {
            const char *colon = memchr(line, ':', len);
            size_t flen = colon ? (size_t)(colon - line) : len;
            const char *v = colon ? colon + 1 : line + len;
            size_t vlen = (size_t)(line + len - v);
            if (vlen && *v == ' ')
                v++, vlen--;
            if (flen == 4 && memcmp(line, "data", 4) == 0) {
                sbuf_add(&data, v, vlen);
                sbuf_add(&data, "\n", 1);
                has_data = true;
            } else if (flen == 5 && memcmp(line, "event", 5) == 0) {
                name.n = 0;
                sbuf_add(&name, v, vlen);
            }
        }
        if (rc == 0 && data.n > max)
            rc = -1;
    }
    /* A CR at the very end followed by nothing: the line ended; the parser agrees. */
    sbuf_free(&data);
    sbuf_free(&name);
    return rc;
}

static int parse(const uint8_t *in, size_t n, const uint8_t *cuts, size_t ncuts, size_t max,
                 events *e)
{
    serve_sse p = {.max = max};
    int rc = 0;
    size_t at = 0, c = 0;
    while (at < n && rc == 0) {
        size_t piece = n - at;
        if (c < ncuts) {
            size_t cut = (size_t)cuts[c++] % 9 + 1; /* 1 to 9 bytes */
            piece = piece < cut ? piece : cut;
        }
        rc = serve_sse_feed(&p, (const char *)in + at, piece, on_event, e);
        at += piece;
    }
    serve_sse_free(&p);
    return rc;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    return 0;
}

/* Input: byte 0 picks the limit and where the callback stops; bytes 1-16 say where to cut the
 * stream; the rest is the stream. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 17)
        return 0;
    size_t max = (data[0] & 15) ? (size_t)(data[0] & 15) * 8 : (1u << 20);
    size_t stop = data[0] >> 4 & 3;
    const uint8_t *cuts = data + 1, *in = data + 17;
    size_t n = size - 17;

    events whole = {.stop_after = stop}, pieces = {.stop_after = stop}, ref = {.stop_after = stop};
    int r1 = parse(in, n, NULL, 0, max, &whole);
    int r2 = parse(in, n, cuts, 16, max, &pieces);
    int r3 = reference(in, n, max, &ref);
    FZ_CHECK(r1 == 0 || r1 == -1 || r1 == 7, "status %d", r1);
    FZ_CHECK(r1 == r2 && whole.count == pieces.count && whole.all.n == pieces.all.n &&
                 (whole.all.n == 0 || memcmp(whole.all.s, pieces.all.s, whole.all.n) == 0),
             "whole (%d, %zu events) and in pieces (%d, %zu events) differ", r1, whole.count, r2,
             pieces.count);
    /* A limit stops both on the same line, and no event ends inside a line. */
    FZ_CHECK(r1 == r3 && whole.count == ref.count && whole.all.n == ref.all.n &&
                 (whole.all.n == 0 || memcmp(whole.all.s, ref.all.s, whole.all.n) == 0),
             "parser (%d, %zu events) and reference (%d, %zu events) differ", r1, whole.count, r3,
             ref.count);
    sbuf_free(&whole.all);
    sbuf_free(&pieces.all);
    sbuf_free(&ref.all);
    return 0;
}

int fuzz_seeds(const char *dir)
{
    static const char *const seeds[] = {
        "data: {\"choices\":[{\"delta\":{\"content\":\"Hello\"}}]}\n\ndata: [DONE]\n\n",
        "event: message\r\ndata: one\r\ndata: two\r\n\r\n: comment\r\n\r\n",
        ("\xef\xbb\xbf"
         "data:no space\rdata:  two spaces\r\r"),
        "data\n\nid: 7\nretry: 100\ndata: x\n\nevent: end\n\n",
        "data: caf\xc3\xa9 \xe2\x80\x94 \xff\xfe\n\ndata: unterminated",
    };
    for (size_t i = 0; i < sizeof seeds / sizeof *seeds; i++) {
        uint8_t buf[512];
        size_t n = strlen(seeds[i]);
        memset(buf, (int)(3 * i + 1), 17);
        buf[0] = (uint8_t)(i == 2 ? 0x22 : i == 4 ? 0x01 : 0);
        memcpy(buf + 17, seeds[i], n);
        char name[16];
        snprintf(name, sizeof name, "seed-%zu", i);
        if (fz_seed(dir, name, buf, 17 + n) != 0)
            return -1;
    }
    return 0;
}

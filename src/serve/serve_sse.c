/*
 * serve_sse.c — an incremental parser of server-sent events (the event-stream format of the
 * WHATWG HTML standard), used by the proxy to read an upstream's streamed answer. A pure
 * function over bytes: the pieces may be split anywhere (inside a line, between CR and LF,
 * inside a UTF-8 sequence) and give the same events as the whole stream.
 */
#include "serve.h"

#include <string.h>

#define DEFAULT_MAX (1u << 20)

/* One complete line (without its end): a field of the event being read, or its end. */
static int take_line(serve_sse *p, serve_sse_fn fn, void *user)
{
    const char *line = p->line.s ? p->line.s : "";
    size_t n = p->line.n;
    if (!p->started) {
        p->started = true;
        if (n >= 3 && memcmp(line, "\xef\xbb\xbf", 3) == 0)
            line += 3, n -= 3;
    }
    int rc = 0;
    if (n == 0) {
        /* A blank line dispatches the event, when it has data. */
        if (p->has_data) {
            size_t len = p->data.n;
            if (len && p->data.s[len - 1] == '\n')
                len--;
            const char *data = p->data.s ? p->data.s : "";
            rc = fn(user, p->event.s ? p->event.s : "", data, len);
        }
        p->data.n = 0;
        p->event.n = 0;
        if (p->event.s)
            p->event.s[0] = 0;
        p->has_data = false;
    } else if (line[0] != ':') { /* a line starting with a colon is a comment */
        const char *colon = memchr(line, ':', n);
        size_t flen = colon ? (size_t)(colon - line) : n;
        const char *value = colon ? colon + 1 : line + n;
        size_t vlen = (size_t)(line + n - value);
        if (vlen && value[0] == ' ')
            value++, vlen--;
        if (flen == 4 && memcmp(line, "data", 4) == 0) {
            sbuf_add(&p->data, value, vlen);
            sbuf_add(&p->data, "\n", 1);
            p->has_data = true;
        } else if (flen == 5 && memcmp(line, "event", 5) == 0) {
            p->event.n = 0;
            sbuf_add(&p->event, value, vlen);
        } /* id, retry and unknown fields: nothing the proxy needs */
    }
    p->line.n = 0;
    if (rc == 0 && (p->data.oom || p->event.oom || p->line.oom))
        rc = -1;
    if (rc == 0 && p->data.n > (p->max ? p->max : DEFAULT_MAX))
        rc = -1;
    return rc;
}

int serve_sse_feed(serve_sse *p, const char *bytes, size_t n, serve_sse_fn fn, void *user)
{
    size_t max = p->max ? p->max : DEFAULT_MAX;
    size_t i = 0;
    while (i < n) {
        char c = bytes[i];
        if (p->after_cr) {
            p->after_cr = false;
            if (c == '\n') { /* the LF of a CRLF */
                i++;
                continue;
            }
        }
        if (c == '\r' || c == '\n') {
            p->after_cr = c == '\r';
            i++;
            int rc = take_line(p, fn, user);
            if (rc)
                return rc;
            continue;
        }
        /* The rest of the line up to its end (or the end of the piece) at once. */
        size_t j = i;
        while (j < n && bytes[j] != '\r' && bytes[j] != '\n')
            j++;
        if (p->line.n + (j - i) > max)
            return -1;
        sbuf_add(&p->line, bytes + i, j - i);
        if (p->line.oom)
            return -1;
        i = j;
    }
    return 0;
}

void serve_sse_free(serve_sse *p)
{
    sbuf_free(&p->line);
    sbuf_free(&p->data);
    sbuf_free(&p->event);
    p->has_data = p->after_cr = p->started = false;
}

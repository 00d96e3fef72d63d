/*
 * serve_util.c — small helpers of `recite serve`: growable byte buffers, JSON string literals
 * from bytes, the clock, log lines, random session ids, UTF-8 boundaries, action names.
 */
#include "serve.h"

#include <dlfcn.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <utf8proc.h>

/* ==== byte buffers ==== */

static bool sbuf_reserve(sbuf *b, size_t more)
{
    if (b->oom)
        return false;
    if (more > SIZE_MAX / 2 - b->n) {
        b->oom = true;
        return false;
    }
    size_t need = b->n + more + 1;
    if (need <= b->cap)
        return true;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < need)
        cap *= 2;
    char *p = realloc(b->s, cap);
    if (!p) {
        b->oom = true;
        return false;
    }
    b->s = p;
    b->cap = cap;
    return true;
}

void sbuf_add(sbuf *b, const void *p, size_t n)
{
    if (!sbuf_reserve(b, n))
        return;
    if (n)
        memcpy(b->s + b->n, p, n);
    b->n += n;
    b->s[b->n] = 0;
}

void sbuf_adds(sbuf *b, const char *s)
{
    sbuf_add(b, s, strlen(s));
}

void sbuf_addf(sbuf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char tmp[256];
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n < 0) {
        b->oom = true;
        return;
    }
    if ((size_t)n < sizeof tmp) {
        sbuf_add(b, tmp, (size_t)n);
        return;
    }
    if (!sbuf_reserve(b, (size_t)n))
        return;
    va_start(ap, fmt);
    vsnprintf(b->s + b->n, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->n += (size_t)n;
}

/* Length of the valid UTF-8 sequence at s (n bytes available), or 0. */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
    utf8proc_int32_t cp;
    utf8proc_ssize_t len = utf8proc_iterate(s, (utf8proc_ssize_t)(n < 4 ? n : 4), &cp);
    return len > 0 ? (size_t)len : 0;
}

void sbuf_json(sbuf *b, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *p = (const unsigned char *)s, *end = p + n;
    sbuf_reserve(b, n + n / 8 + 2);
    sbuf_add(b, "\"", 1);
    while (p < end) {
        const unsigned char *run = p;
        while (p < end && *p >= 0x20 && *p < 0x80 && *p != '"' && *p != '\\')
            p++;
        sbuf_add(b, run, (size_t)(p - run));
        if (p == end)
            break;
        unsigned c = *p;
        if (c == '"' || c == '\\') {
            char e[2] = {'\\', (char)c};
            sbuf_add(b, e, 2);
            p++;
        } else if (c < 0x20) {
            const char *e = c == '\n' ? "\\n" : c == '\t' ? "\\t" : c == '\r' ? "\\r" : NULL;
            if (e) {
                sbuf_add(b, e, 2);
            } else {
                char u[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
                sbuf_add(b, u, 6);
            }
            p++;
        } else {
            size_t k = utf8_seq(p, (size_t)(end - p));
            if (k) {
                sbuf_add(b, p, k);
                p += k;
            } else {
                sbuf_add(b, "\\ufffd", 6);
                p++;
            }
        }
    }
    sbuf_add(b, "\"", 1);
}

void sbuf_free(sbuf *b)
{
    free(b->s);
    *b = (sbuf){0};
}

char *sbuf_take(sbuf *b, size_t *len)
{
    if (!b->s)
        sbuf_add(b, "", 0);
    char *s = b->oom ? NULL : b->s;
    if (len)
        *len = b->n;
    if (!s)
        free(b->s);
    *b = (sbuf){0};
    return s;
}

/* ==== clock, log, ids, UTF-8 ==== */

int serve_oom(recite_error *err)
{
    if (err) {
        err->code = RECITE_ENOMEM;
        snprintf(err->message, sizeof err->message, "out of memory");
    }
    return RECITE_ENOMEM;
}

double serve_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void serve_log(const char *fmt, ...)
{
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    fprintf(stderr, "recite serve: %s\n", line);
}

bool serve_random_id(char out[33])
{
    static const char hex[] = "0123456789abcdef";
    unsigned char r[16];
    size_t got = 0;
    while (got < sizeof r) {
        ssize_t k = getrandom(r + got, sizeof r - got, 0);
        if (k < 0) {
            if (errno == EINTR)
                continue;
            return false;
        }
        got += (size_t)k;
    }
    for (size_t i = 0; i < sizeof r; i++) {
        out[2 * i] = hex[r[i] >> 4];
        out[2 * i + 1] = hex[r[i] & 15];
    }
    out[32] = 0;
    return true;
}

size_t serve_utf8_floor(const char *s, size_t len, size_t n)
{
    if (n >= len)
        return len;
    /* A sequence is at most 4 bytes: back off over continuation bytes to its lead byte. */
    size_t p = n;
    while (p > 0 && n - p < 3 && ((unsigned char)s[p] & 0xc0) == 0x80)
        p--;
    return p;
}

/* ==== actions ==== */

static const char *const act_names[] = {"pass", "cite", "redact", "block"};

const char *serve_act_name(serve_act a)
{
    return a <= ACT_BLOCK ? act_names[a] : "pass";
}

bool serve_act_parse(serve_act *out, const char *s)
{
    for (int i = 0; i <= ACT_BLOCK; i++) {
        if (strcmp(s, act_names[i]) == 0) {
            *out = (serve_act)i;
            return true;
        }
    }
    return false;
}

bool serve_dl_load(void **handle, const char *soname, const char *(*resolve)(void *handle),
                   char *why, size_t why_cap)
{
    if (*handle)
        return true;
    void *h = dlopen(soname, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        const char *e = dlerror();
        snprintf(why, why_cap, "%s could not be loaded (%s)", soname, e ? e : "not found");
        return false;
    }
    const char *missing = resolve(h);
    if (missing) {
        snprintf(why, why_cap, "%s has no %s", soname, missing);
        dlclose(h);
        return false;
    }
    *handle = h;
    return true;
}

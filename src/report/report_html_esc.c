/*
 * report_html_esc.c — the output buffer of the HTML evidence report and its escaping. Every
 * piece of text that reaches the document (checked text, works' text, ids, metadata) goes
 * through rc_html_text or rc_html_attr: a model output holding "<script>" or "</textarea>"
 * shows as text, and bytes the HTML parser would alter or drop stay accountable.
 */
#include "rc_report_html.h"

#include <stdio.h>

/* ==== buffer ==== */

void rc_html_put(rc_html *b, const char *s, size_t n)
{
    if (b->oom || n == 0)
        return;
    size_t need;
    if (rc_add_overflows(b->n, n + 1, &need) ||
        rc_grow((void **)&b->s, &b->cap, need, 1) != RECITE_OK) {
        b->oom = true;
        return;
    }
    memcpy(b->s + b->n, s, n);
    b->n += n;
    b->s[b->n] = '\0';
}

void rc_html_puts(rc_html *b, const char *s)
{
    rc_html_put(b, s, strlen(s));
}

void rc_html_printf(rc_html *b, const char *fmt, ...)
{
    char small[256];
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (k < 0) {
        b->oom = true;
        return;
    }
    if ((size_t)k < sizeof small) {
        rc_html_put(b, small, (size_t)k);
        return;
    }
    char *big = malloc((size_t)k + 1);
    if (!big) {
        b->oom = true;
        return;
    }
    va_start(ap, fmt);
    vsnprintf(big, (size_t)k + 1, fmt, ap);
    va_end(ap);
    rc_html_put(b, big, (size_t)k);
    free(big);
}

/* ==== escaping ==== */

/* A code point the HTML parser reports as an error or rewrites: controls (but tab and line
 * feed), carriage return (CR LF becomes LF), C1 controls and noncharacters. */
static bool unkept(int32_t cp)
{
    if (cp < 0x20)
        return cp != '\t' && cp != '\n';
    if (cp >= 0x7f && cp <= 0x9f)
        return true;
    return (cp >= 0xfdd0 && cp <= 0xfdef) || (cp & 0xfffe) == 0xfffe;
}

static void put_cp(rc_html *b, int32_t cp)
{
    uint8_t u[4];
    size_t n;
    if (cp < 0x80) {
        u[0] = (uint8_t)cp, n = 1;
    } else if (cp < 0x800) {
        u[0] = (uint8_t)(0xc0 | (cp >> 6)), u[1] = (uint8_t)(0x80 | (cp & 0x3f)), n = 2;
    } else if (cp < 0x10000) {
        u[0] = (uint8_t)(0xe0 | (cp >> 12)), u[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f));
        u[2] = (uint8_t)(0x80 | (cp & 0x3f)), n = 3;
    } else {
        u[0] = (uint8_t)(0xf0 | (cp >> 18)), u[1] = (uint8_t)(0x80 | ((cp >> 12) & 0x3f));
        u[2] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f)), u[3] = (uint8_t)(0x80 | (cp & 0x3f)), n = 4;
    }
    rc_html_put(b, (const char *)u, n);
}

/* Markup-significant ASCII as references; true when c was one of them. */
static bool put_special(rc_html *b, int32_t c)
{
    switch (c) {
    case '&': rc_html_put(b, "&amp;", 5); return true;
    case '<': rc_html_put(b, "&lt;", 4); return true;
    case '>': rc_html_put(b, "&gt;", 4); return true;
    case '"': rc_html_put(b, "&quot;", 6); return true;
    case '\'': rc_html_put(b, "&#39;", 5); return true;
    default: return false;
    }
}

void rc_html_text(rc_html *b, const char *s, size_t n)
{
    const uint8_t *u = (const uint8_t *)s;
    size_t run = 0; /* start of a run of bytes copied as they are */
    for (size_t i = 0; i < n;) {
        if (u[i] >= 0x20 && u[i] < 0x7f && !strchr("&<>\"'", u[i])) {
            i++;
            continue;
        }
        int32_t cp;
        bool invalid;
        size_t k = rc_utf8_decode(u, n, i, true, &cp, &invalid);
        if (!invalid && !unkept(cp) && !(cp < 0x80 && strchr("&<>\"'", (int)cp))) {
            i += k;
            continue;
        }
        rc_html_put(b, s + run, i - run);
        if (invalid) {
            rc_html_printf(b,
                           "<span class=\"raw\" data-bytes=\"1\" title=\"byte 0x%02X, not "
                           "UTF-8\">\xef\xbf\xbd</span>",
                           u[i]);
        } else if (unkept(cp)) {
            rc_html_printf(b, "<span class=\"raw\" data-bytes=\"%zu\" title=\"U+%04X\">", k,
                           (unsigned)cp);
            if (cp == '\r')
                ; /* shown as nothing: the line feed that usually follows breaks the line */
            else if (cp < 0x20)
                put_cp(b, 0x2400 + cp); /* the control pictures block */
            else if (cp == 0x7f)
                put_cp(b, 0x2421);
            else
                put_cp(b, 0xfffd);
            rc_html_puts(b, "</span>");
        } else {
            put_special(b, cp);
        }
        i += k;
        run = i;
    }
    rc_html_put(b, s + run, n - run);
}

void rc_html_attr(rc_html *b, const char *s, size_t n)
{
    const uint8_t *u = (const uint8_t *)s;
    for (size_t i = 0; i < n;) {
        int32_t cp;
        bool invalid;
        size_t k = rc_utf8_decode(u, n, i, true, &cp, &invalid);
        if (invalid || (unkept(cp) && cp != '\r' && cp != '\t'))
            put_cp(b, 0xfffd);
        else if (cp == '\n' || cp == '\r' || cp == '\t')
            rc_html_put(b, " ", 1);
        else if (!put_special(b, cp))
            rc_html_put(b, s + i, k);
        i += k;
    }
}

void rc_html_attrs(rc_html *b, const char *s)
{
    if (s)
        rc_html_attr(b, s, strlen(s));
}

size_t rc_html_utf8_cut(const char *s, size_t n, size_t pos)
{
    size_t limit = pos + 3 < n ? pos + 3 : n;
    size_t p = pos;
    while (p < limit && ((unsigned char)s[p] & 0xc0) == 0x80)
        p++;
    return p < n && ((unsigned char)s[p] & 0xc0) == 0x80 ? pos : p;
}

/*
 * cmi_extract.c — finds copyright-management information in a text: copyright lines with their
 * years and holder, SPDX-License-Identifier tags, "All rights reserved", title and author lines,
 * and the header where a license notice would be. Plain byte scanning (the markers are ASCII,
 * plus the UTF-8 copyright sign); runs on every work at index time and on checked texts.
 */
#include "rc_cmi.h"
#include "../text/rc_text.h"

#include <ctype.h>
#include <stdlib.h>
#include <utf8proc.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#define HEAD_BYTES (64u * 1024u)
#define TAIL_BYTES (16u * 1024u)
#define MAX_NOTICE_LINE 240

static inline uint8_t lower_ascii(uint8_t c)
{
    return c >= 'A' && c <= 'Z' ? (uint8_t)(c + 32) : c;
}

/* Case-insensitive search for a lower-case ASCII needle in s[0, n). Every line of every work
 * goes through here several times at index time: the first byte is tested inline, without
 * locale calls. */
static const uint8_t *find_ci(const uint8_t *s, size_t n, const char *needle)
{
    size_t m = strlen(needle);
    uint8_t lo = (uint8_t)needle[0], up = lo >= 'a' && lo <= 'z' ? (uint8_t)(lo - 32) : lo;
    for (size_t i = 0; i + m <= n; i++) {
        if (s[i] != lo && s[i] != up)
            continue;
        size_t k = 1;
        while (k < m && lower_ascii(s[i + k]) == (uint8_t)needle[k])
            k++;
        if (k == m)
            return s + i;
    }
    return NULL;
}

/* Copies s[0, n) into out (cap bytes), collapsing whitespace, as valid UTF-8 (a byte that is
 * not is read as Windows-1252, as the tokenizer reads it); returns the length. */
static size_t copy_clean(char *out, size_t cap, const uint8_t *s, size_t n)
{
    size_t m = 0;
    bool space = false;
    for (size_t i = 0; i < n && m + 1 < cap;) {
        if (isspace(s[i])) {
            space = m > 0;
            i++;
            continue;
        }
        if (space && m + 2 < cap)
            out[m++] = ' ';
        space = false;
        int32_t cp;
        bool invalid;
        size_t k = rc_utf8_decode(s, n, i, true, &cp, &invalid);
        uint8_t enc[4];
        size_t e = (size_t)utf8proc_encode_char(cp, enc);
        if (m + e >= cap)
            break;
        memcpy(out + m, enc, e);
        m += e;
        i += k;
    }
    out[m] = 0;
    return m;
}

/* Characters trimmed from the end of a comment line. */
static bool is_trailer(uint8_t c)
{
    return c == ' ' || c == '\t' || c == '*' || c == '/' || c == '#' || c == '\r';
}

/* Characters trimmed from the start of a comment line: comment markers, quotes, bullets. */
static bool is_marker(uint8_t c)
{
    return c == ' ' || c == '\t' || c == '*' || c == '/' || c == '#' || c == ';' || c == '%' ||
           c == '!' || c == '>' || c == '|' || c == '-' || c == '"' || c == '\'' || c == '\r';
}

/* Parses years (1900-2099) at s, returns how far they go; updates *lo and *hi. */
static size_t parse_years(const uint8_t *s, size_t n, unsigned *lo, unsigned *hi)
{
    size_t i = 0, last = 0;
    while (i < n) {
        if (i + 4 <= n && isdigit(s[i]) && isdigit(s[i + 1]) && isdigit(s[i + 2]) &&
            isdigit(s[i + 3]) && (i + 4 == n || !isdigit(s[i + 4]))) {
            unsigned y = (unsigned)((s[i] - '0') * 1000 + (s[i + 1] - '0') * 100 +
                                    (s[i + 2] - '0') * 10 + (s[i + 3] - '0'));
            if (y < 1900 || y > 2099)
                break;
            if (!*lo || y < *lo)
                *lo = y;
            if (y > *hi)
                *hi = y;
            i += 4;
            last = i;
            continue;
        }
        /* Separators between years: spaces, commas, dashes (ASCII or UTF-8 en/em), slashes. */
        if (s[i] == ' ' || s[i] == ',' || s[i] == '-' || s[i] == '/' || s[i] == '\t') {
            i++;
            continue;
        }
        if (i + 3 <= n && s[i] == 0xe2 && s[i + 1] == 0x80 &&
            (s[i + 2] == 0x93 || s[i + 2] == 0x94)) {
            i += 3;
            continue;
        }
        break;
    }
    return last;
}

/* Skips the copyright keywords and symbols at s: "Copyright", "(C)", "©", "Copr.". */
static size_t skip_keywords(const uint8_t *s, size_t n)
{
    size_t i = 0;
    for (;;) {
        while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == ':' || s[i] == ','))
            i++;
        if (i + 9 <= n && find_ci(s + i, 9, "copyright") == s + i)
            i += 9;
        else if (i + 3 <= n && s[i] == '(' && tolower(s[i + 1]) == 'c' && s[i + 2] == ')')
            i += 3;
        else if (i + 2 <= n && s[i] == 0xc2 && s[i + 1] == 0xa9)
            i += 2;
        else if (i + 5 <= n && find_ci(s + i, 5, "copr.") == s + i)
            i += 5;
        else
            return i;
    }
}

static bool is_template(const uint8_t *s, size_t n)
{
    static const char *const marks[] = {"<year",      "[year",     "{year",  "yyyy",
                                        "<name",      "[name",     "<owner", "[owner",
                                        "<copyright", "[fullname", "<author"};
    for (size_t i = 0; i < RC_ARRAY_LEN(marks); i++)
        if (find_ci(s, n, marks[i]))
            return true;
    return false;
}

/* One line s[0, n) at offset `off` of the text: a copyright notice? */
static void notice_line(const uint8_t *s, size_t n, uint64_t off, rc_cmi *out)
{
    size_t a = 0;
    while (a < n && is_marker(s[a]))
        a++;
    while (n > a && is_trailer(s[n - 1]))
        n--;
    if (n - a > MAX_NOTICE_LINE || n <= a)
        return;
    const uint8_t *l = s + a;
    size_t ln = n - a;
    const uint8_t *kw = find_ci(l, ln, "copyright");
    const uint8_t *sym = find_ci(l, ln, "(c)");
    const uint8_t *sign = NULL;
    for (size_t i = 0; i + 1 < ln; i++)
        if (l[i] == 0xc2 && l[i + 1] == 0xa9)
            sign = l + i;
    const uint8_t *start = kw;
    if (!start || (sym && sym < start))
        start = sym;
    if (!start || (sign && sign < start))
        start = sign;
    if (!start)
        return;
    size_t from = (size_t)(start - l), i = from + skip_keywords(start, ln - from);
    unsigned lo = 0, hi = 0;
    i += parse_years(l + i, ln - i, &lo, &hi);
    /* A notice has a year, or the word and a sign ("Copyright (C) Foo"), or the © sign: not
     * "Copyright law ..." nor a list item "(c) You must ..." (nor code calling f(c), the most
     * common case, hence this test before the template's). */
    if ((!lo && !(kw && (sym || sign)) && !sign) || is_template(l, ln))
        return;
    /* The holder: after the years and a "by". */
    size_t h = i;
    while (h < ln && (l[h] == ' ' || l[h] == ',' || l[h] == ':' || l[h] == '.'))
        h++;
    if (ln - h >= 3 && find_ci(l + h, 3, "by ") == l + h)
        h += 3;
    size_t he = ln;
    const uint8_t *arr = find_ci(l + h, ln - h, "all rights reserved");
    if (arr) {
        he = (size_t)(arr - l);
        out->rights_reserved = true;
    }
    while (he > h && (l[he - 1] == ' ' || l[he - 1] == '.' || l[he - 1] == ',' || l[he - 1] == ';'))
        he--;
    if (he <= h && !lo)
        return;
    if (out->nnotices >= RC_CMI_MAX_NOTICES)
        return;
    rc_notice *nt = &out->notices[out->nnotices++];
    copy_clean(nt->text, sizeof nt->text, l + from, ln - from);
    copy_clean(nt->holder, sizeof nt->holder, l + h, he > h ? he - h : 0);
    nt->year_min = lo;
    nt->year_max = hi;
    nt->start = off + a + from;
    nt->end = off + a + ln;
}

/* Whether the lower-case ASCII needle is at s (of n bytes), in any case. */
static bool at_ci(const uint8_t *s, size_t n, const char *needle)
{
    size_t k = 0;
    while (needle[k] && k < n && lower_ascii(s[k]) == (uint8_t)needle[k])
        k++;
    return !needle[k];
}

enum { MARK_NOTICE = 1, MARK_RIGHTS = 2, MARK_SPDX = 4 };

#define ONES 0x0101010101010101ull

/* Whether a byte of x is zero (exact as a yes/no; which byte, not). */
static inline bool any_zero_byte(uint64_t x)
{
    return ((x - ONES) & ~x & (ONES * 0x80)) != 0;
}

/* The candidate pair at l[i] (i + 1 < n): marks what starts there. */
static inline void mark_at(const uint8_t *l, size_t n, size_t i, unsigned *m, const uint8_t **spdx)
{
    unsigned pair = (unsigned)(l[i] | 0x20) << 8 | (l[i + 1] | 0x20);
    if (pair == ('c' << 8 | 'o')) {
        if (!(*m & MARK_NOTICE) && at_ci(l + i, n - i, "copyright"))
            *m |= MARK_NOTICE;
    } else if (pair == ('(' << 8 | 'c')) {
        if (at_ci(l + i, n - i, "(c)"))
            *m |= MARK_NOTICE;
    } else if (pair == ('a' << 8 | 'l')) {
        if (!(*m & MARK_RIGHTS) && at_ci(l + i, n - i, "all rights reserved"))
            *m |= MARK_RIGHTS;
    } else if (pair == ('s' << 8 | 'p')) {
        if (!(*m & MARK_SPDX) && at_ci(l + i, n - i, "spdx-license-identifier:")) {
            *m |= MARK_SPDX;
            *spdx = l + i;
        }
    }
}

/* What a line may hold (every line of every work comes here): a notice ("copyright", "(c)", a
 * byte 0xc2 as of "©"), "all rights reserved", an SPDX tag (whose first position goes to
 * *spdx). Candidates are the positions of the first two bytes of these, ASCII case folded by
 * OR 0x20 (which leaves "(" alone), found sixteen positions at a time with SSE2 (the scan of
 * notices was 5.6 % of a build at eight with 64-bit words), eight otherwise, in order. */
static unsigned line_marks(const uint8_t *l, size_t n, const uint8_t **spdx)
{
    unsigned m = 0;
    if (n >= 2 && memchr(l, 0xc2, n))
        m |= MARK_NOTICE;
    size_t i = 0;
#if defined(__SSE2__)
    const __m128i fold = _mm_set1_epi8(0x20), c = _mm_set1_epi8('c'), o = _mm_set1_epi8('o'),
                  paren = _mm_set1_epi8('('), a_ = _mm_set1_epi8('a'), l_ = _mm_set1_epi8('l'),
                  s_ = _mm_set1_epi8('s'), p_ = _mm_set1_epi8('p');
    for (; i + 17 <= n; i += 16) {
        __m128i x = _mm_or_si128(_mm_loadu_si128((const __m128i *)(const void *)(l + i)), fold);
        __m128i y = _mm_or_si128(_mm_loadu_si128((const __m128i *)(const void *)(l + i + 1)), fold);
        __m128i hit = _mm_or_si128(
            _mm_or_si128(_mm_and_si128(_mm_cmpeq_epi8(x, c), _mm_cmpeq_epi8(y, o)),
                         _mm_and_si128(_mm_cmpeq_epi8(x, paren), _mm_cmpeq_epi8(y, c))),
            _mm_or_si128(_mm_and_si128(_mm_cmpeq_epi8(x, a_), _mm_cmpeq_epi8(y, l_)),
                         _mm_and_si128(_mm_cmpeq_epi8(x, s_), _mm_cmpeq_epi8(y, p_))));
        for (unsigned bits = (unsigned)_mm_movemask_epi8(hit); bits; bits &= bits - 1)
            mark_at(l, n, i + (unsigned)__builtin_ctz(bits), &m, spdx);
    }
#endif
    while (i + 1 < n) {
        if (i + 9 <= n) {
            uint64_t a, b;
            memcpy(&a, l + i, 8);
            memcpy(&b, l + i + 1, 8);
            a |= ONES * 0x20;
            b |= ONES * 0x20;
            if (!any_zero_byte((a ^ ONES * 'c') | (b ^ ONES * 'o')) &&
                !any_zero_byte((a ^ ONES * '(') | (b ^ ONES * 'c')) &&
                !any_zero_byte((a ^ ONES * 'a') | (b ^ ONES * 'l')) &&
                !any_zero_byte((a ^ ONES * 's') | (b ^ ONES * 'p'))) {
                i += 8;
                continue;
            }
        }
        for (size_t end = RC_MIN(i + 8, n - 1); i < end; i++)
            mark_at(l, n, i, &m, spdx);
    }
    return m;
}

static void scan_region(const uint8_t *text, size_t from, size_t to, rc_cmi *out, bool head)
{
    size_t i = from, line = 0;
    while (i < to) {
        const uint8_t *nl = memchr(text + i, '\n', to - i);
        size_t e = nl ? (size_t)(nl - text) : to;
        const uint8_t *l = text + i;
        size_t n = e - i;
        const uint8_t *tag = NULL;
        unsigned marks = line_marks(l, n, &tag);
        if (marks & MARK_NOTICE)
            notice_line(l, n, i, out);
        if (marks & MARK_RIGHTS)
            out->rights_reserved = true;
        if (tag && !out->spdx[0]) {
            size_t k = (size_t)(tag - l) + 24, m = 0;
            while (k < n && l[k] == ' ')
                k++;
            size_t s0 = k;
            while (k < n && m + 1 < sizeof out->spdx && l[k] != '\r' &&
                   !(l[k] == '*' && k + 1 < n && l[k + 1] == '/') &&
                   !(l[k] == '-' && k + 2 < n && l[k + 1] == '-' && l[k + 2] == '>'))
                out->spdx[m++] = (char)l[k++];
            while (m > 0 && (out->spdx[m - 1] == ' ' || out->spdx[m - 1] == '\t'))
                m--;
            out->spdx[m] = 0;
            out->spdx_start = i + s0;
            out->spdx_end = i + s0 + m;
        }
        if (head && line < 200) {
            size_t a = 0;
            while (a < n && is_marker(l[a]))
                a++;
            if (n - a > 6 && !out->title[0] && find_ci(l + a, 6, "title:") == l + a)
                copy_clean(out->title, sizeof out->title, l + a + 6, n - a - 6);
            if (n - a > 7 && !out->author[0] && find_ci(l + a, 7, "author:") == l + a)
                copy_clean(out->author, sizeof out->author, l + a + 7, n - a - 7);
        }
        line++;
        i = e + 1;
    }
}

void rc_cmi_extract(const uint8_t *text, size_t len, rc_cmi *out)
{
    memset(out, 0, sizeof *out);
    size_t head = RC_MIN(len, (size_t)HEAD_BYTES);
    scan_region(text, 0, head, out, true);
    if (len > head) {
        size_t tail = len - RC_MIN(len - head, (size_t)TAIL_BYTES);
        /* Start at a line boundary. */
        const uint8_t *nl = memchr(text + tail, '\n', len - tail);
        if (nl)
            scan_region(text, (size_t)(nl - text) + 1, len, out, false);
    }
}

/* ==== the header ==== */

/* Appends s[0, n) to out as one line of plain text. */
static size_t put_line(char *out, size_t m, size_t cap, const uint8_t *s, size_t n)
{
    size_t a = 0;
    while (a < n && is_marker(s[a]))
        a++;
    while (n > a && is_trailer(s[n - 1]))
        n--;
    for (size_t i = a; i < n && m + 2 < cap; i++)
        out[m++] = (char)s[i];
    if (m + 1 < cap)
        out[m++] = '\n';
    return m;
}

size_t rc_cmi_header(const uint8_t *text, size_t len, int mode, char *out, size_t cap)
{
    size_t m = 0;
    if (cap == 0)
        return 0;
    if (mode != RECITE_MODE_CODE) {
        m = RC_MIN(len, RC_MIN(cap - 1, (size_t)65536));
        memcpy(out, text, m);
        out[m] = 0;
        return m;
    }
    /* Leading comments of code: //, #, -- and ; lines, block comments and a leading docstring. */
    size_t i = 0;
    while (i < len && m + 2 < cap) {
        while (i < len && isspace(text[i]))
            i++;
        if (i >= len)
            break;
        const uint8_t *rest = text + i;
        size_t rn = len - i;
        const uint8_t *nl = memchr(rest, '\n', rn);
        size_t line = nl ? (size_t)(nl - rest) : rn;
        if ((rn >= 2 && rest[0] == '/' && rest[1] == '/') || rest[0] == '#' ||
            (rn >= 2 && rest[0] == '-' && rest[1] == '-') || rest[0] == ';') {
            if (!(rest[0] == '#' && rn > 1 && isalpha(rest[1]))) /* #include is code */
                m = put_line(out, m, cap, rest, line);
            else
                break;
            i += line;
            continue;
        }
        const char *close = NULL;
        size_t open = 0;
        if (rn >= 2 && rest[0] == '/' && rest[1] == '*')
            close = "*/", open = 2;
        else if (rn >= 3 && (memcmp(rest, "\"\"\"", 3) == 0 || memcmp(rest, "'''", 3) == 0))
            close = rest[0] == '"' ? "\"\"\"" : "'''", open = 3;
        if (!close)
            break;
        size_t k = open, cl = strlen(close);
        while (k + cl <= rn && memcmp(rest + k, close, cl) != 0)
            k++;
        /* The block's lines, without their markers. */
        size_t s = open;
        while (s < k && m + 2 < cap) {
            const uint8_t *e = memchr(rest + s, '\n', k - s);
            size_t le = e ? (size_t)(e - rest) : k;
            m = put_line(out, m, cap, rest + s, le - s);
            s = le + 1;
        }
        i += RC_MIN(rn, k + cl);
    }
    out[m] = 0;
    return m;
}

/* ==== comparisons ==== */

/* Lower-case words of s, without legal-form and filler words, into words[]; returns count. */
static size_t holder_words(const char *s, char words[][32], uint8_t *lens, size_t max)
{
    static const char *const drop[] = {
        "inc", "ltd",          "llc",     "corp",         "corporation", "co",   "the",
        "and", "contributors", "authors", "et",           "al",          "gmbh", "ag",
        "sa",  "limited",      "company", "incorporated", "by"};
    size_t n = 0;
    for (size_t i = 0; s[i] && n < max;) {
        while (s[i] && !isalnum((unsigned char)s[i]) && !((unsigned char)s[i] & 0x80))
            i++;
        size_t k = 0;
        char w[32];
        while (s[i] && (isalnum((unsigned char)s[i]) || ((unsigned char)s[i] & 0x80))) {
            if (k + 1 < sizeof w)
                w[k++] = (char)tolower((unsigned char)s[i]);
            i++;
        }
        w[k] = 0;
        if (!k)
            continue;
        /* The legal-form words are 2-12 letters long and start with one of these letters: the
         * others are no such word (holder names are split for every work a check matches). */
        bool skip = false;
        if (k >= 2 && k <= 12 && strchr("abcegilst", w[0]))
            for (size_t d = 0; d < RC_ARRAY_LEN(drop) && !skip; d++)
                skip = strcmp(w, drop[d]) == 0;
        /* E-mail addresses and URLs name the holder too, but vary: keep the words only. */
        if (!skip) {
            memcpy(words[n], w, k + 1);
            lens[n++] = (uint8_t)k;
        }
    }
    return n;
}

/* Equal, or (for words of 5+ letters) one typo apart: a letter changed, added or dropped.
 * Lengths first: a text's notices are compared with every holder of every work it matched. */
static bool same_word(const char *x, size_t nx, const char *y, size_t ny)
{
    if (nx == ny && memcmp(x, y, nx) == 0)
        return true;
    if (nx < 5 || ny < 5 || (nx > ny ? nx - ny : ny - nx) > 1)
        return false;
    size_t i = 0;
    while (i < nx && i < ny && x[i] == y[i])
        i++;
    if (nx == ny)
        return strcmp(x + i + 1, y + i + 1) == 0;
    return nx > ny ? strcmp(x + i + 1, y + i) == 0 : strcmp(x + i, y + i + 1) == 0;
}

void rc_holder_key_of(const char *holder, rc_holder_key *k)
{
    k->n = (unsigned)holder_words(holder, k->w, k->len, RC_HOLDER_WORDS);
}

bool rc_holder_key_same(const rc_holder_key *a, const rc_holder_key *b)
{
    if (!a->n || !b->n)
        return a->n == b->n;
    size_t common = 0;
    for (size_t i = 0; i < a->n; i++)
        for (size_t j = 0; j < b->n; j++)
            if (same_word(a->w[i], a->len[i], b->w[j], b->len[j])) {
                common++;
                break;
            }
    /* All the words of the shorter name appear in the other, or most words are shared. */
    size_t shorter = RC_MIN(a->n, b->n), longer = RC_MAX(a->n, b->n);
    return common == shorter || (double)common >= 0.75 * (double)longer;
}

bool rc_cmi_same_holder(const char *a, const char *b)
{
    rc_holder_key ka, kb;
    rc_holder_key_of(a, &ka);
    rc_holder_key_of(b, &kb);
    return rc_holder_key_same(&ka, &kb);
}

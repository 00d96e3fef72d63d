/*
 * license_names.c — what a text says of its license in words: the licenses it names ("under the
 * GNU General Public License, version 2 or later", "GPLv3+", "Apache License, Version 2",
 * "the 3-clause BSD license"), with version and -only / -or-later as SPDX ids; the exceptions
 * its wording grants (GCC runtime, autoconf, Classpath...); and whether it offers a choice
 * between licenses (an OR expression). license_identify.c weighs these against the license
 * texts the text matches.
 */
#include "rc_license.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <strings.h>
#include <stdlib.h>

/* ==== the text as lower-case words ==== */

/* Comment furniture at the start of a line: markers, quoting, "dnl" (m4), "rem". */
static size_t line_furniture(const char *s, size_t n)
{
    size_t i = 0;
    for (;;) {
        while (i < n && strchr(" \t\r/*#;%!>|-'\"", s[i]) && s[i])
            i++;
        if (i + 3 < n && strncasecmp(s + i, "dnl", 3) == 0 && !isalnum((unsigned char)s[i + 3]))
            i += 3;
        else if (i + 3 < n && strncasecmp(s + i, "rem ", 4) == 0)
            i += 4;
        else
            return i;
    }
}

size_t rc_license_words(const char *text, size_t len, char *out, size_t cap)
{
    size_t m = 0;
    bool space = false;
    for (size_t i = 0; i < len && m + 2 < cap;) {
        const char *nl = memchr(text + i, '\n', len - i);
        size_t e = nl ? (size_t)(nl - text) : len;
        for (size_t k = i + line_furniture(text + i, e - i); k < e && m + 2 < cap; k++) {
            unsigned char ch = (unsigned char)text[k];
            if (ch == ' ' || ch == '\t' || ch == '\r' || ch == '*') {
                space = m > 0;
                continue;
            }
            if (space)
                out[m++] = ' ';
            space = false;
            out[m++] = (char)(ch >= 'A' && ch <= 'Z' ? ch + 32 : ch);
        }
        space = m > 0;
        i = e + 1;
    }
    out[m] = 0;
    return m;
}

/* ==== versions ==== */

static bool word_char(char c)
{
    return isalnum((unsigned char)c);
}

/* A version number at s ("2", "2.1", "3.01"), in out as SPDX writes it ("2" -> "2.0");
 * returns its length, 0 when none. */
static size_t version_at(const char *s, char *out, size_t cap)
{
    size_t i = 0;
    if (!isdigit((unsigned char)s[0]))
        return 0;
    while (isdigit((unsigned char)s[i]))
        i++;
    if (s[i] == '.' && isdigit((unsigned char)s[i + 1])) {
        i++;
        while (isdigit((unsigned char)s[i]))
            i++;
    }
    if (i > 5)
        return 0;
    snprintf(out, cap, "%.*s%s", (int)i, s, memchr(s, '.', i) ? "" : ".0");
    return i;
}

/* The version written right after a name: "v2", " 2.0", "-2", ", version 2", " v. 1.0",
 * " - v 1.0", "(version 3)". *end is where it ends. */
static bool version_after(const char *s, char *out, size_t cap, const char **end)
{
    size_t i = 0;
    while (i < 4 && (s[i] == ' ' || s[i] == ',' || s[i] == '-' || s[i] == '(' || s[i] == ':'))
        i++;
    if (strncmp(s + i, "version", 7) == 0)
        i += 7;
    else if (strncmp(s + i, "ver.", 4) == 0)
        i += 4;
    else if (s[i] == 'v' &&
             (s[i + 1] == '.' || s[i + 1] == ' ' || isdigit((unsigned char)s[i + 1])))
        i += s[i + 1] == '.' ? 2 : 1;
    while (s[i] == ' ')
        i++;
    size_t n = version_at(s + i, out, cap);
    if (n && end)
        *end = s + i + n;
    return n > 0;
}

/* ==== the names ==== */

typedef struct name_rule {
    const char *pattern;  /* lower case; a word boundary before and after */
    const char *id;       /* SPDX id, or a prefix "X-" completed by the version */
    const char *versions; /* versions the family has, "|1.0|1.1|" (NULL: none) */
    const char *fallback; /* the version when none is written (NULL: the name alone says
                             nothing) */
} name_rule;

static const name_rule rules[] = {
    {"apache license", "Apache-", "|1.0|1.1|2.0|", NULL},
    {"apache software license", "Apache-", "|1.0|1.1|2.0|", NULL},
    {"apache public license", "Apache-", "|1.0|1.1|2.0|", NULL},
    {"apache", "Apache-", "|1.0|1.1|2.0|", NULL},
    {"asl", "Apache-", "|2.0|", NULL},
    {"mozilla public license", "MPL-", "|1.0|1.1|2.0|", NULL},
    {"mpl", "MPL-", "|1.0|1.1|2.0|", NULL},
    {"eclipse public license", "EPL-", "|1.0|2.0|", NULL},
    {"epl", "EPL-", "|1.0|2.0|", NULL},
    {"common development and distribution license", "CDDL-", "|1.0|1.1|", NULL},
    {"cddl", "CDDL-", "|1.0|1.1|", NULL},
    {"boost software license", "BSL-", "|1.0|", "1.0"},
    {"artistic license", "Artistic-", "|1.0|2.0|", NULL},
    {"european union public licence", "EUPL-", "|1.0|1.1|1.2|", NULL},
    {"european union public license", "EUPL-", "|1.0|1.1|1.2|", NULL},
    {"eupl", "EUPL-", "|1.0|1.1|1.2|", NULL},
    {"academic free license", "AFL-", "|1.1|1.2|2.0|2.1|3.0|", NULL},
    {"open software license", "OSL-", "|1.0|1.1|2.0|2.1|3.0|", NULL},
    {"php license", "PHP-", "|3.0|3.01|", NULL},
    {"sil open font license", "OFL-", "|1.0|1.1|", NULL},
    {"open font license", "OFL-", "|1.0|1.1|", NULL},
    {"zope public license", "ZPL-", "|1.1|2.0|2.1|", NULL},
    {"universal permissive license", "UPL-", "|1.0|", "1.0"},
    {"mit license", "MIT", NULL, NULL},
    {"mit licence", "MIT", NULL, NULL},
    {"mit-license", "MIT", NULL, NULL},
    {"mit licensed", "MIT", NULL, NULL},
    {"mit-licensed", "MIT", NULL, NULL},
    {"license: mit", "MIT", NULL, NULL},
    {"licensed under mit", "MIT", NULL, NULL},
    {"mit/x11", "MIT", NULL, NULL},
    {"expat license", "MIT", NULL, NULL},
    {"x11 license", "X11", NULL, NULL},
    {"isc license", "ISC", NULL, NULL},
    {"isc licence", "ISC", NULL, NULL},
    {"license: isc", "ISC", NULL, NULL},
    {"unlicense", "Unlicense", NULL, NULL},
    {"zlib license", "Zlib", NULL, NULL},
    {"zlib licence", "Zlib", NULL, NULL},
    {"zlib/libpng license", "Zlib", NULL, NULL},
    {"3-clause bsd", "BSD-3-Clause", NULL, NULL},
    {"bsd 3-clause", "BSD-3-Clause", NULL, NULL},
    {"bsd-3-clause", "BSD-3-Clause", NULL, NULL},
    {"three-clause bsd", "BSD-3-Clause", NULL, NULL},
    {"new bsd", "BSD-3-Clause", NULL, NULL},
    {"modified bsd", "BSD-3-Clause", NULL, NULL},
    {"revised bsd", "BSD-3-Clause", NULL, NULL},
    {"2-clause bsd", "BSD-2-Clause", NULL, NULL},
    {"bsd 2-clause", "BSD-2-Clause", NULL, NULL},
    {"bsd-2-clause", "BSD-2-Clause", NULL, NULL},
    {"two-clause bsd", "BSD-2-Clause", NULL, NULL},
    {"simplified bsd", "BSD-2-Clause", NULL, NULL},
    {"freebsd license", "BSD-2-Clause", NULL, NULL},
    {"4-clause bsd", "BSD-4-Clause", NULL, NULL},
    {"bsd-4-clause", "BSD-4-Clause", NULL, NULL},
    {"original bsd license", "BSD-4-Clause", NULL, NULL},
    {"0bsd", "0BSD", NULL, NULL},
    {"zero-clause bsd", "0BSD", NULL, NULL},
    {"python software foundation license", "PSF-2.0", NULL, NULL},
    {"psf license", "PSF-2.0", NULL, NULL},
    {"same terms as python itself", "PSF-2.0", NULL, NULL},
    {"same terms as perl itself", "Artistic-1.0-Perl OR GPL-1.0-or-later", NULL, NULL},
    {"same terms as the perl 5 programming language", "Artistic-1.0-Perl OR GPL-1.0-or-later", NULL,
     NULL},
    {"freetype project license", "FTL", NULL, NULL},
    {"freetype license", "FTL", NULL, NULL},
    {"wtfpl", "WTFPL", NULL, NULL},
    {"microsoft public license", "MS-PL", NULL, NULL},
    {"ms-pl", "MS-PL", NULL, NULL},
    {"microsoft reciprocal license", "MS-RL", NULL, NULL},
    {"cc0", "CC0-1.0", NULL, NULL},
    {"creative commons zero", "CC0-1.0", NULL, NULL},
    {"openssl license", "OpenSSL", NULL, NULL},
    {"sleepycat license", "Sleepycat", NULL, NULL},
};

static bool version_in(const char *versions, const char *v)
{
    char key[24];
    snprintf(key, sizeof key, "|%.15s|", v);
    return versions && strstr(versions, key) != NULL;
}

/* Whether the pattern is at c + p as whole words. */
static bool at_words(const char *c, size_t p, const char *pattern)
{
    size_t n = strlen(pattern);
    return strncmp(c + p, pattern, n) == 0 && (p == 0 || !word_char(c[p - 1])) &&
           (!word_char(pattern[n - 1]) || !word_char(c[p + n]) ||
            (isdigit((unsigned char)c[p + n]) && !isdigit((unsigned char)pattern[n - 1])) ||
            (c[p + n] == 'v' && isdigit((unsigned char)c[p + n + 1])));
}

/* ==== the GNU family ==== */

/* "version 2 of the" (or "v2 of the", "version 2 or later of the") just before position p:
 * the version a GNU name is preceded by. */
static bool version_before(const char *c, size_t p, char *v, size_t cap, bool *later)
{
    size_t from = p > 48 ? p - 48 : 0;
    const char *best = NULL;
    for (const char *s = strstr(c + from, "version "); s && (size_t)(s - c) < p;
         s = strstr(s + 1, "version "))
        best = s;
    if (!best || !version_at(best + 8, v, cap))
        return false;
    const char *between = best + 8;
    size_t gap = p - (size_t)(between - c);
    char tmp[64];
    snprintf(tmp, sizeof tmp, "%.*s", (int)RC_MIN(gap, sizeof tmp - 1), between);
    if (!strstr(tmp, " of"))
        return false;
    *later = strstr(tmp, "later") != NULL;
    return true;
}

typedef struct gnu_name {
    size_t at, end;
    const char *family; /* "GPL", "LGPL", "AGPL", "GFDL" */
    bool library;       /* "Library General Public License": LGPL 2.0 */
} gnu_name;

/* The end of a name whose last `more` letters are optional: at most `more` bytes past `end`,
 * never past the NUL (the next search starts there). */
static size_t name_end(const char *c, size_t end, size_t more)
{
    while (more-- && c[end])
        end++;
    return end;
}

/* The GNU license names in c, in order. */
static size_t gnu_names(const char *c, gnu_name *out, size_t cap)
{
    size_t n = 0;
    for (size_t p = 0; c[p] && n < cap; p++) {
        /* Every name below starts with one of these letters: the others are passed at once. */
        if (c[p] != 'g' && c[p] != 'f' && c[p] != 'l' && c[p] != 'a')
            continue;
        gnu_name g = {p, 0, NULL, false};
        if (strncmp(c + p, "general public licen", 20) == 0 && (p == 0 || !word_char(c[p - 1]))) {
            g.end = name_end(c, p + 20, 2); /* "licen" + "se"/"ce" */
            g.family = "GPL";
            if (p >= 7 && strncmp(c + p - 7, "lesser ", 7) == 0)
                g.family = "LGPL", g.at = p - 7;
            else if (p >= 8 && strncmp(c + p - 8, "library ", 8) == 0)
                g.family = "LGPL", g.library = true, g.at = p - 8;
            else if (p >= 7 && strncmp(c + p - 7, "affero ", 7) == 0)
                g.family = "AGPL", g.at = p - 7;
            else if (p >= 8 && (strncmp(c + p - 8, "eclipse ", 8) == 0 ||
                                strncmp(c + p - 8, "mozilla ", 8) == 0))
                continue;
        } else if (strncmp(c + p, "free documentation licen", 24) == 0) {
            g.end = name_end(c, p + 24, 2);
            g.family = "GFDL";
        } else if ((p == 0 || !word_char(c[p - 1])) &&
                   (strncmp(c + p, "gpl", 3) == 0 || strncmp(c + p, "lgpl", 4) == 0 ||
                    strncmp(c + p, "agpl", 4) == 0 || strncmp(c + p, "gfdl", 4) == 0)) {
            size_t k = c[p] == 'g' && c[p + 1] == 'p' ? 3 : 4;
            /* "gpl", "gplv2", "gpl2", "gpl-2": nothing else after the letters */
            const char *r = c + p + k;
            if (word_char(*r) && *r != 'v' && !isdigit((unsigned char)*r))
                continue;
            if (*r == 'v' && !isdigit((unsigned char)r[1]))
                continue;
            g.end = p + k;
            g.family = c[p] == 'l'             ? "LGPL"
                       : c[p] == 'a'           ? "AGPL"
                       : c[p] == 'g' && k == 4 ? "GFDL"
                                               : "GPL";
        } else {
            continue;
        }
        out[n++] = g;
        p = g.end - 1;
    }
    return n;
}

static void add_mention(rc_license_mention *out, size_t *n, size_t cap, size_t pos, bool versioned,
                        const char *fmt, ...) __attribute__((format(printf, 6, 7)));

static void add_mention(rc_license_mention *out, size_t *n, size_t cap, size_t pos, bool versioned,
                        const char *fmt, ...)
{
    if (*n >= cap)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(out[*n].id, sizeof out[*n].id, fmt, ap);
    va_end(ap);
    out[*n].pos = pos;
    out[*n].versioned = versioned;
    (*n)++;
}

static void gnu_mentions(const char *c, rc_license_mention *out, size_t *n, size_t cap)
{
    gnu_name g[64];
    size_t ng = gnu_names(c, g, RC_ARRAY_LEN(g));
    size_t len = strlen(c);
    for (size_t i = 0; i < ng; i++) {
        size_t limit = i + 1 < ng ? g[i + 1].at : len; /* the next name's words are its own */
        limit = RC_MIN(limit, g[i].end + 220);
        char v[16] = "";
        bool later = false, only = false, have = false;
        const char *vend = NULL;
        char win[256];
        snprintf(win, sizeof win, "%.*s", (int)(limit - g[i].end), c + g[i].end);
        if (version_after(win, v, sizeof v, &vend)) {
            have = true;
            later = *vend == '+';
        } else {
            const char *s = strstr(win, "version ");
            while (s && !isdigit((unsigned char)s[8]))
                s = strstr(s + 1, "version ");
            if (s && version_at(s + 8, v, sizeof v)) {
                have = true;
                vend = s + 8;
            } else if (version_before(c, g[i].at, v, sizeof v, &later)) {
                have = true;
            }
        }
        if (have) {
            const char *rest = vend ? vend : win;
            later |= strstr(rest, "later version") || strstr(rest, "or later") ||
                     strstr(rest, "any later") || strstr(rest, "or newer") ||
                     strstr(rest, "or greater");
            only = !later && (strstr(rest, " only") || strncmp(rest, "-only", 5) == 0);
            (void)only;
        }
        const char *fam = g[i].family;
        if (!have) {
            /* No version: any version (GPL section 9), from the first of the family. */
            if (strcmp(fam, "GFDL") == 0)
                continue;
            add_mention(out, n, cap, g[i].at, false, "%s-%s-or-later", fam,
                        strcmp(fam, "GPL") == 0    ? "1.0"
                        : strcmp(fam, "LGPL") == 0 ? "2.0"
                                                   : "3.0");
            continue;
        }
        /* Versions each family has: GPL 1-3, LGPL 2.0 (Library), 2.1, 3, AGPL 1 (Affero's)
         * and 3, GFDL 1.1-1.3. */
        bool ok = strcmp(fam, "GPL") == 0    ? version_in("|1.0|2.0|3.0|", v)
                  : strcmp(fam, "LGPL") == 0 ? version_in("|2.0|2.1|3.0|", v)
                  : strcmp(fam, "AGPL") == 0 ? version_in("|1.0|3.0|", v)
                                             : version_in("|1.1|1.2|1.3|", v);
        if (!ok)
            continue;
        add_mention(out, n, cap, g[i].at, true, "%s-%s-%s", fam, v, later ? "or-later" : "only");
    }
}

/* ==== Creative Commons ==== */

static void cc_mentions(const char *c, rc_license_mention *out, size_t *n, size_t cap)
{
    static const char *const starts[] = {"creative commons attribution", "cc by", "cc-by"};
    for (size_t s = 0; s < RC_ARRAY_LEN(starts); s++) {
        size_t sl = strlen(starts[s]);
        for (const char *p = strstr(c, starts[s]); p; p = strstr(p + sl, starts[s])) {
            if (p > c && word_char(p[-1]))
                continue;
            const char *q = p + sl;
            bool nc = false, sa = false, nd = false;
            for (int k = 0; k < 4; k++) {
                while (*q == '-' || *q == ' ' || *q == '_')
                    q++;
                if (strncmp(q, "noncommercial", 13) == 0 || strncmp(q, "non-commercial", 14) == 0)
                    nc = true, q += q[3] == '-' ? 14 : 13;
                else if (strncmp(q, "sharealike", 10) == 0 || strncmp(q, "share-alike", 11) == 0 ||
                         strncmp(q, "share alike", 11) == 0)
                    sa = true, q += q[5] == 'a' ? 10 : 11;
                else if (strncmp(q, "noderivatives", 13) == 0 || strncmp(q, "noderivs", 8) == 0 ||
                         strncmp(q, "no derivatives", 14) == 0)
                    nd = true, q += q[2] == 'd' ? (q[7] == 's' ? 8 : 13) : 14;
                else if (strncmp(q, "nc", 2) == 0 && !word_char(q[2]))
                    nc = true, q += 2;
                else if (strncmp(q, "sa", 2) == 0 && !word_char(q[2]))
                    sa = true, q += 2;
                else if (strncmp(q, "nd", 2) == 0 && !word_char(q[2]))
                    nd = true, q += 2;
                else
                    break;
            }
            char v[16];
            if (!version_after(q, v, sizeof v, NULL) || !version_in("|1.0|2.0|2.5|3.0|4.0|", v) ||
                (sa && nd))
                continue;
            add_mention(out, n, cap, (size_t)(p - c), true, "CC-BY%s%s-%s", nc ? "-NC" : "",
                        sa   ? "-SA"
                        : nd ? "-ND"
                             : "",
                        v);
        }
    }
}

static int cmp_mention(const void *a, const void *b)
{
    const rc_license_mention *x = a, *y = b;
    return (x->pos > y->pos) - (x->pos < y->pos);
}

size_t rc_license_mentions(const char *words, rc_license_mention *out, size_t cap)
{
    size_t n = 0;
    gnu_mentions(words, out, &n, cap);
    cc_mentions(words, out, &n, cap);
    bool perl = false;
    for (size_t r = 0; r < RC_ARRAY_LEN(rules); r++) {
        size_t pl = strlen(rules[r].pattern);
        for (const char *p = strstr(words, rules[r].pattern); p;
             p = strstr(p + pl, rules[r].pattern)) {
            size_t at = (size_t)(p - words);
            if (!at_words(words, at, rules[r].pattern))
                continue;
            if (!rules[r].versions) {
                add_mention(out, &n, cap, at, true, "%s", rules[r].id);
                perl |= strncmp(rules[r].id, "Artistic-1.0-Perl", 17) == 0;
                continue;
            }
            /* "Apache License, Version 2.0", "Apache License 2", "Apache 2.0 license",
             * "MPL-2.0", "the Eclipse Public License - v 1.0" */
            char v[16];
            const char *after = p + pl, *vend = NULL;
            bool have = version_after(after, v, sizeof v, &vend);
            if (!have && pl > 6) { /* "..., as published by X; version 2.0" is too far */
                const char *s = strstr(after, "version ");
                if (s && s - after < 24)
                    have = version_at(s + 8, v, sizeof v) > 0;
            }
            if (!have && rules[r].fallback)
                snprintf(v, sizeof v, "%s", rules[r].fallback), have = true;
            /* A bare abbreviation names a license only with its version ("MPL 2.0"); "apache"
             * alone is a web server. */
            if (!have || !version_in(rules[r].versions, v))
                continue;
            add_mention(out, &n, cap, at, true, "%s%s", rules[r].id, v);
        }
    }
    rc_sort(out, n, sizeof *out, cmp_mention);
    /* One mention per license: the first; a name without a version is dropped when the family
     * is named with one too; with Perl's terms, the GPL and Artistic names are Perl's. */
    size_t keep = 0;
    for (size_t i = 0; i < n; i++) {
        bool drop = false;
        for (size_t k = 0; k < n && !drop; k++) {
            if (k == i)
                continue;
            bool same = rc_license_same_family(out[i].id, out[k].id);
            drop =
                (same && k < i) || (!out[i].versioned && out[k].versioned &&
                                    strncmp(out[i].id, out[k].id, strcspn(out[i].id, "-")) == 0 &&
                                    out[i].id[strcspn(out[i].id, "-")] == '-' &&
                                    out[k].id[strcspn(out[i].id, "-")] == '-');
        }
        if (perl && !drop && strncmp(out[i].id, "Artistic-1.0-Perl", 17) != 0)
            drop = (strncmp(out[i].id, "GPL-", 4) == 0 && !out[i].versioned) ||
                   strncmp(out[i].id, "Artistic-", 9) == 0;
        if (!drop)
            out[keep++] = out[i];
    }
    return keep;
}

/* ==== a choice between licenses ==== */

bool rc_license_dual(const char *words)
{
    static const char *const phrases[] = {
        "dual licens",
        "dual-licens",
        "choice of one of",
        "choose between",
        "between two licen",
        "terms of either",
        "or both in parallel",
        "choose to be licensed",
        "at your discretion",
        "dually licens",
        "dual license",
        "at your choice",
        "at your option, under",
        "your choice of",
        "you may choose either",
        "may choose either",
        "choose one of",
        "alternatively, this",
        "alternatively, you",
        "or alternatively",
        "licensed under either",
        "under either",
        "either of the following licen",
        "at your option, either",
        "at the licensee's option",
        "multi-licens",
    };
    for (size_t i = 0; i < RC_ARRAY_LEN(phrases); i++)
        if (strstr(words, phrases[i]))
            return true;
    return false;
}

bool rc_license_names_or(const char *words, const rc_license_mention *m, size_t n)
{
    for (size_t i = 1; i < n; i++) {
        /* "... the MIT license or the Apache License", "either the GPL ... or the LGPL" */
        size_t from = m[i].pos > 16 ? m[i].pos - 16 : 0;
        char before[32];
        snprintf(before, sizeof before, " %.*s", (int)(m[i].pos - from), words + from);
        if (strstr(before, " or "))
            return true;
        size_t e = m[i - 1].pos > 40 ? m[i - 1].pos - 40 : 0;
        char lead[64];
        snprintf(lead, sizeof lead, " %.*s", (int)(m[i - 1].pos - e), words + e);
        if (strstr(lead, " either "))
            return true;
    }
    return false;
}

/* ==== exceptions, by their wording ==== */

static const struct {
    const char *phrase, *id;
    const char *base; /* the family it modifies: "GPL" (GNU), "Apache" */
} exceptions[] = {
    {"gcc runtime library exception", "GCC-exception-3.1", "GPL"},
    {"unlimited permission to link the compiled version of this file", "GCC-exception-2.0", "GPL"},
    {"some of which are compiled with gcc, to produce an executable", "GCC-exception-2.0", "GPL"},
    {"autoconf configure script exception", "Autoconf-exception-3.0", "GPL"},
    {"the configure scripts that are the output of autoconf", "Autoconf-exception-2.0", "GPL"},
    {"configuration script generated by autoconf, you may include it under the same distribution",
     "Autoconf-exception-generic", "GPL"},
    {"part or all of the bison parser skeleton", "Bison-exception-2.2", "GPL"},
    {"copied by bison into a bison output file", "Bison-exception-1.24", "GPL"},
    {"\"classpath\" exception", "Classpath-exception-2.0", "GPL"},
    {"classpath exception", "Classpath-exception-2.0", "GPL"},
    {"permission to link this library with independent modules to produce an executable",
     "Classpath-exception-2.0", "GPL"},
    {"built using gnu libtool", "Libtool-exception", "GPL"},
    {"use kernel services by normal system calls", "Linux-syscall-note", "GPL"},
    {"with llvm exceptions", "LLVM-exception", "Apache"},
    {"llvm exceptions to the apache 2.0 license", "LLVM-exception", "Apache"},
    {"if you create a document which uses this font", "Font-exception-2.0", "GPL"},
    {"if other files instantiate templates or use macros or inline functions from this file",
     "eCos-exception-2.0", "GPL"},
    {"if other files instantiate generics from this unit", "GNAT-exception", "GPL"},
    {"when this file is read by tex when processing a texinfo source document", "Texinfo-exception",
     "GPL"},
    {"wxwindows library licence", "WxWindows-exception-3.1", "GPL"},
    {"qt lgpl exception version 1.1", "Qt-LGPL-exception-1.1", "GPL"},
};

size_t rc_license_exceptions(const char *words, rc_license_exception *out, size_t cap)
{
    size_t n = 0;
    for (size_t i = 0; i < RC_ARRAY_LEN(exceptions) && n < cap; i++) {
        if (!strstr(words, exceptions[i].phrase))
            continue;
        bool dup = false;
        for (size_t k = 0; k < n && !dup; k++)
            dup = strcmp(out[k].id, exceptions[i].id) == 0;
        if (dup)
            continue;
        const char *id = exceptions[i].id;
        /* The generic autoconf exception of GPL 3 texts says it is a section 7 permission. */
        if (strcmp(id, "Autoconf-exception-generic") == 0 &&
            strstr(words, "additional permission under section 7"))
            id = "Autoconf-exception-generic-3.0";
        out[n].id = id;
        out[n].base = exceptions[i].base;
        n++;
    }
    return n;
}

size_t rc_license_exception_ids(const char **out, size_t cap)
{
    size_t n = 0;
    for (size_t i = 0; i < RC_ARRAY_LEN(exceptions) && n < cap; i++)
        out[n++] = exceptions[i].id;
    if (n < cap)
        out[n++] = "Autoconf-exception-generic-3.0";
    return n;
}

/*
 * license_family.c — which license ids go together: "GPL-2.0-only", "GPL-2.0-or-later" and
 * "GPL-2.0+" are one license family (the wording of a notice decides between them), and an
 * identification consistent with any of its close variants does not contradict a work's
 * license. Also the phrase helpers identification shares with the CMI code.
 */
#include "rc_license.h"

#include <strings.h>

bool rc_license_gpl_family(const char *id)
{
    return strncmp(id, "GPL-", 4) == 0 || strncmp(id, "LGPL-", 5) == 0 ||
           strncmp(id, "AGPL-", 5) == 0 || strncmp(id, "GFDL-", 5) == 0;
}

/* "GPL-2.0-only" -> "GPL-2.0" in out. */
void rc_license_family_of(const char *id, char *out, size_t cap)
{
    rc_copy_str(out, cap, id, strlen(id));
    size_t n = strlen(out);
    if (n > 5 && strcmp(out + n - 5, "-only") == 0)
        out[n - 5] = 0;
    else if (n > 9 && strcmp(out + n - 9, "-or-later") == 0)
        out[n - 9] = 0;
}

/* The i-th license id of an SPDX expression (exceptions, operators and parentheses skipped)
 * in out; false when there is none. */
bool rc_license_term(const char *expr, size_t i, char *out, size_t cap)
{
    bool with = false;
    for (const char *p = expr; *p;) {
        while (*p == ' ' || *p == '(' || *p == ')')
            p++;
        size_t n = strcspn(p, " ()");
        if (!n)
            break;
        if (n == 4 && strncmp(p, "WITH", 4) == 0) {
            with = true;
        } else if ((n == 2 && strncmp(p, "OR", 2) == 0) || (n == 3 && strncmp(p, "AND", 3) == 0)) {
            with = false;
        } else if (!with && i-- == 0) {
            rc_copy_str(out, cap, p, n);
            return true;
        }
        p += n;
    }
    return false;
}

bool rc_license_share_family(const char *a, const char *b)
{
    char x[64], y[64];
    for (size_t i = 0; rc_license_term(a, i, x, sizeof x); i++)
        for (size_t j = 0; rc_license_term(b, j, y, sizeof y); j++)
            if (rc_license_same_family(x, y))
                return true;
    return false;
}

bool rc_license_consistent(const rc_license_id *id, const char *license)
{
    if (rc_license_share_family(id->id, license))
        return true;
    for (unsigned i = 0; i < id->nalt; i++)
        if (rc_license_share_family(id->alt[i], license))
            return true;
    return false;
}

bool rc_license_same_family(const char *a, const char *b)
{
    /* of an expression, its first license ("GPL-2.0-only WITH Classpath-exception-2.0") */
    char fa[64], fb[64], ta[64], tb[64];
    if (!rc_license_term(a, 0, ta, sizeof ta))
        rc_copy_str(ta, sizeof ta, a, strlen(a));
    if (!rc_license_term(b, 0, tb, sizeof tb))
        rc_copy_str(tb, sizeof tb, b, strlen(b));
    rc_license_family_of(ta, fa, sizeof fa);
    rc_license_family_of(tb, fb, sizeof fb);
    /* Treat "GPL-2.0+" as "GPL-2.0" and ignore case. */
    size_t na = strlen(fa), nb = strlen(fb);
    if (na && fa[na - 1] == '+')
        fa[--na] = 0;
    if (nb && fb[nb - 1] == '+')
        fb[--nb] = 0;
    return strcasecmp(fa, fb) == 0;
}

size_t rc_license_collapse(const char *text, size_t len, char *out, size_t cap)
{
    size_t m = 0;
    bool space = false;
    for (size_t i = 0; i < len && m + 2 < cap; i++) {
        unsigned char ch = (unsigned char)text[i];
        if (ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r' || ch == '*' || ch == '#') {
            space = m > 0;
            continue;
        }
        if (space)
            out[m++] = ' ';
        space = false;
        out[m++] = (char)(ch < 0x80 ? (ch >= 'A' && ch <= 'Z' ? ch + 32 : ch) : ch);
    }
    out[m] = 0;
    return m;
}

bool rc_license_or_later(const uint8_t *text, size_t len)
{
    /* Line breaks and comment markers inside the phrase do not matter. */
    char buf[8192];
    rc_license_collapse((const char *)text, len, buf, sizeof buf);
    return strstr(buf, "any later version") != NULL || strstr(buf, "or later version") != NULL;
}

/*
 * cmi_text.c — the CMI of one text as `recite index` records it for a work: its notices
 * (cmi_extract.c), its SPDX tag, else the license its header states or is, identified against
 * the license index (src/license) by the license part of the header — what differs from file to
 * file (notices, titles) is left out, so files sharing a license notice share one identification
 * (cached). Also the one detector of license language, used at index time for headers and at
 * check time for the license region of an output.
 */
#include "rc_cmi.h"

#include <stdio.h>
#include <stdlib.h>
#include <xxhash.h>

#define HEADER_CAP (64u * 1024u)
#define CACHE_SLOTS 1024u       /* x 650 bytes: identified license headers, per worker of a build */
#define TAIL_CAP (16u * 1024u)  /* of a code text, looked at when its header has no license */
#define FIRST_PART (4u * 1024u) /* of a license part, identified before the whole */
#define MOSTLY_LICENSE 0.5      /* score of a start that is mostly license language */
#define SHORT_TEXT (2u * 1024u) /* a header this short is looked at even with no license words */

struct rc_cmi_cache {
    uint64_t key[CACHE_SLOTS]; /* 0 = empty */
    rc_license_id val[CACHE_SLOTS];
};

int rc_cmi_ctx_init(rc_cmi_ctx *ctx, const recite_index *lic)
{
    memset(ctx, 0, sizeof *ctx);
    ctx->lic = lic;
    ctx->header = malloc(HEADER_CAP + 1);
    if (!ctx->header)
        return RECITE_ENOMEM;
    if (!lic)
        return RECITE_OK;
    ctx->cache = calloc(1, sizeof *ctx->cache);
    if (!ctx->cache || rc_license_matcher_create(&ctx->m, lic, NULL) != RECITE_OK)
        return RECITE_ENOMEM;
    return RECITE_OK;
}

void rc_cmi_ctx_free(rc_cmi_ctx *ctx)
{
    rc_license_matcher_free(ctx->m);
    free(ctx->cache);
    free(ctx->header);
    memset(ctx, 0, sizeof *ctx);
}

static char lower_ascii(char c)
{
    return c >= 'A' && c <= 'Z' ? (char)(c + 32) : c;
}

/* Whether the lower-case ASCII word is at l (of n bytes), in any case. */
static bool at_word(const char *l, size_t n, const char *w)
{
    size_t k = 0;
    while (w[k] && k < n && lower_ascii(l[k]) == w[k])
        k++;
    return !w[k];
}

static bool letter(char c)
{
    c = lower_ascii(c);
    return c >= 'a' && c <= 'z';
}

/* What a line of a header may be, in one pass: a notice or SPDX tag (RC_LINE_NOTICE: "(c)", "©"
 * anywhere, a word "copyright", "spdx-license"), license language (RC_LINE_LICENSE: a word starting
 * with "licen", "liab", "permi", "public domain", "warrant", "redistribut", "free software",
 * "terms", "notice" or "copyright" — "notice", not "unnoticed"), and of those the words only
 * licenses use (RC_LINE_GRANT: "licen", "public domain", "warrant", "redistribut", "free
 * software", "permission to use", "hereby grant", "unlimited permission", "gpl", "lgpl",
 * "agpl", "released / distributed / available under"), without which a part is not a license
 * ("#define XA_NOTICE", "See Copyright for the status of this software"). */
unsigned rc_cmi_line_kind(const char *l, size_t n)
{
    /* Word by word: the keywords start words, so each word is looked at by its first letter
     * once and its other letters skipped ("(c)" and "©" are not words). */
    unsigned k = 0;
    for (size_t i = 0; i < n;) {
        const char *p = l + i;
        size_t r = n - i;
        char c = lower_ascii(l[i]);
        if (!(c >= 'a' && c <= 'z')) {
            if ((c == '(' && at_word(p, r, "(c)")) || (c == '\xc2' && r > 1 && p[1] == '\xa9'))
                k |= RC_LINE_NOTICE;
            i++;
            continue;
        }
        switch (c) {
        case 'c':
            if (at_word(p, r, "copyright"))
                k |= RC_LINE_NOTICE | RC_LINE_LICENSE;
            break;
        case 's':
            if (at_word(p, r, "spdx-license"))
                k |= RC_LINE_NOTICE;
            break;
        case 'g':
            if (at_word(p, r, "gpl"))
                k |= RC_LINE_LICENSE | RC_LINE_GRANT;
            break;
        case 'a':
            if (at_word(p, r, "agpl") || at_word(p, r, "available under"))
                k |= RC_LINE_LICENSE | RC_LINE_GRANT;
            break;
        case 'd':
            if (at_word(p, r, "distributed under"))
                k |= RC_LINE_LICENSE | RC_LINE_GRANT;
            break;
        case 'u':
            if (at_word(p, r, "unlimited permission"))
                k |= RC_LINE_LICENSE | RC_LINE_GRANT;
            break;
        case 'l':
            if (at_word(p, r, "licen") || at_word(p, r, "lgpl"))
                k |= RC_LINE_LICENSE | RC_LINE_GRANT;
            else if (at_word(p, r, "liab"))
                k |= RC_LINE_LICENSE;
            break;
        case 'p':
            if (at_word(p, r, "public domain") || at_word(p, r, "permission to use"))
                k |= RC_LINE_LICENSE | RC_LINE_GRANT;
            else if (at_word(p, r, "permi"))
                k |= RC_LINE_LICENSE;
            break;
        case 'h':
            if (at_word(p, r, "hereby grant"))
                k |= RC_LINE_LICENSE | RC_LINE_GRANT;
            break;
        case 'w':
            if (at_word(p, r, "warrant"))
                k |= RC_LINE_LICENSE | RC_LINE_GRANT;
            break;
        case 'r':
            if (at_word(p, r, "redistribut") || at_word(p, r, "released under"))
                k |= RC_LINE_LICENSE | RC_LINE_GRANT;
            break;
        case 'f':
            if (at_word(p, r, "free software"))
                k |= RC_LINE_LICENSE | RC_LINE_GRANT;
            break;
        case 't':
            if (at_word(p, r, "terms"))
                k |= RC_LINE_LICENSE;
            break;
        case 'n':
            if (at_word(p, r, "notice"))
                k |= RC_LINE_LICENSE;
            break;
        default: break;
        }
        while (i < n && letter(l[i]))
            i++;
    }
    return k;
}

/* The license part of a header, what is identified (and the key of the cache): from its first
 * to its last line of license language, without copyright lines and SPDX tags; empty without
 * a word only licenses use. What differs from file to file — notices, the title and
 * description lines before and after the license — is left out, so that the files sharing a
 * license notice share one identification. */
static size_t license_part(char *h, size_t n)
{
    size_t m = 0, i = 0, last = 0; /* last: the output's length after its last license line */
    bool grant = false;
    while (i < n) {
        char *nl = memchr(h + i, '\n', n - i);
        size_t e = nl ? (size_t)(nl - h) + 1 : n;
        unsigned kind = rc_cmi_line_kind(h + i, e - i);
        bool notice = false;
        if (kind & RC_LINE_NOTICE) {
            rc_cmi one;
            rc_cmi_extract((const uint8_t *)h + i, e - i, &one);
            notice = one.nnotices || one.spdx[0];
        }
        bool license = !notice && (kind & RC_LINE_LICENSE);
        grant |= license && (kind & RC_LINE_GRANT);
        if (!notice && (license || m > 0)) { /* nothing before the first license line */
            memmove(h + m, h + i, e - i);
            m += e - i;
            if (license)
                last = m;
        }
        i = e;
    }
    if (!grant)
        last = 0;
    h[last] = 0;
    return last;
}

static bool has_spdx_tag(const char *l, size_t n)
{
    for (size_t i = 0; i + 23 <= n; i++)
        if (lower_ascii(l[i]) == 's' && at_word(l + i, n - i, "spdx-license-identifier"))
            return true;
    return false;
}

/* The lines of license language in the text (lines with words only licenses use: a grant,
 * "license", "warranty", "redistribute"...), each with its two neighbours on either side (a
 * notice's sentence spans lines without the keywords), which is all the license index needs to
 * see: most texts have none and cost nothing. */
size_t rc_cmi_license_region(const uint8_t *s, size_t len, char *out, size_t cap, uint64_t *first)
{
    enum { AROUND = 2 };
    size_t m = 0, i = 0, line = 0, take_until = 0;
    *first = UINT64_MAX;
    /* Offsets of the last AROUND lines, to take them when a keyword line comes. */
    size_t back[AROUND + 1] = {0}, backn = 0;
    while (i < len && m + 2 < cap) {
        const uint8_t *nl = memchr(s + i, '\n', len - i);
        size_t e = nl ? (size_t)(nl - s) + 1 : len;
        size_t from = i;
        unsigned kind = rc_cmi_line_kind((const char *)s + i, e - i);
        /* an SPDX tag's line: its license is the tag's (rc_cmi_extract reads it) */
        if ((kind & RC_LINE_NOTICE) && has_spdx_tag((const char *)s + i, e - i))
            kind = 0;
        if (kind & RC_LINE_GRANT) {
            take_until = line + AROUND + 1;
            if (backn) /* the preceding lines not taken yet */
                from = back[0];
            backn = 0;
        }
        if (line < take_until) {
            if (*first == UINT64_MAX)
                *first = from;
            size_t k = RC_MIN(e - from, cap - 1 - m);
            memcpy(out + m, s + from, k);
            m += k;
            backn = 0;
        } else {
            if (backn == AROUND)
                memmove(back, back + 1, (AROUND - 1) * sizeof *back), backn--;
            back[backn++] = i;
        }
        line++;
        i = e;
    }
    out[m] = 0;
    return m;
}

static int identify(rc_cmi_ctx *ctx, const char *text, size_t len, rc_license_id *id)
{
    memset(id, 0, sizeof *id);
    if (!ctx->m || len == 0)
        return RECITE_OK;
    uint64_t key = XXH3_64bits(text, len) | 1;
    size_t slot = key % CACHE_SLOTS;
    if (ctx->cache->key[slot] == key) {
        *id = ctx->cache->val[slot];
        return RECITE_OK;
    }
    int rc = rc_license_identify(id, ctx->m, text, len, NULL);
    if (rc != RECITE_OK)
        return rc;
    ctx->cache->key[slot] = key;
    ctx->cache->val[slot] = *id;
    return RECITE_OK;
}

int rc_cmi_of_text(rc_cmi_ctx *ctx, const uint8_t *text, size_t len, int mode, rc_cmi *cmi,
                   rc_license_id *id)
{
    rc_cmi_extract(text, len, cmi);
    memset(id, 0, sizeof *id);
    if (cmi->spdx[0]) {
        snprintf(id->id, sizeof id->id, "%.63s", cmi->spdx);
        id->score = 1.0;
        id->from = RECITE_FROM_SPDX;
        return RECITE_OK;
    }
    size_t n = rc_cmi_header(text, len, mode, ctx->header, HEADER_CAP + 1);
    n = license_part(ctx->header, n);
    if (n == 0 && mode == RECITE_MODE_CODE && len > 0) {
        /* No license in the leading comments: it may be at the end (Perl's POD "COPYRIGHT AND
         * LICENSE" section), in the last 16 KiB, as rc_cmi_extract reads notices there. */
        size_t from = len > TAIL_CAP ? len - TAIL_CAP : 0;
        const uint8_t *nl = from ? memchr(text + from, '\n', len - from) : NULL;
        from = nl ? (size_t)(nl - text) + 1 : from;
        memcpy(ctx->header, text + from, len - from);
        n = license_part(ctx->header, len - from);
    }
    if (n == 0) {
        /* No license language: a short text may still be a license whose words are not the
         * usual ones ("The author disclaims copyright to this source code. In place of a legal
         * notice, here is a blessing"); only its full text counts. */
        n = rc_cmi_header(text, len, mode, ctx->header, HEADER_CAP + 1);
        if (n == 0 || n > SHORT_TEXT)
            return RECITE_OK;
        int rc = identify(ctx, ctx->header, n, id);
        if (rc == RECITE_OK && !id->full_text)
            memset(id, 0, sizeof *id);
        return rc;
    }
    /* A long license part (a document that mentions licenses here and there, or a license
     * text) is identified by its start first, and as a whole only when that start is mostly
     * license language: a license text, told from a notice by how much of the license it
     * holds. Documents cost a few KiB of identification, not 64. */
    if (n > FIRST_PART) {
        size_t cut = FIRST_PART;
        while (cut > FIRST_PART / 2 && ctx->header[cut - 1] != '\n')
            cut--;
        int rc = identify(ctx, ctx->header, cut, id);
        if (rc != RECITE_OK || id->text_share < MOSTLY_LICENSE)
            return rc;
    }
    return identify(ctx, ctx->header, n, id);
}

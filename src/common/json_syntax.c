/*
 * json_syntax.c — telling jansson's "out of memory" from a malformed text. jansson's lexer
 * reports an allocation that failed as a syntax error (its load.c says so), so a reader that
 * trusted the message would call a good policy or JSONL line malformed when memory ran out. A
 * syntax check of the text that allocates nothing (RFC 8259) settles which it was. Its writer
 * drops an object key it could not append (dump.c does not check it) and returns the rest:
 * what it writes is checked the same way.
 */
#include "rc_common.h"

#include <jansson.h>

#define MAX_DEPTH 2048 /* jansson's JSON_PARSER_MAX_DEPTH */

static size_t skip_ws(const uint8_t *s, size_t n, size_t i)
{
    while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r'))
        i++;
    return i;
}

static bool is_digit(uint8_t c)
{
    return c >= '0' && c <= '9';
}

static bool is_hex(uint8_t c)
{
    return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* The four hex digits at s[i], or -1. */
static long hex4(const uint8_t *s, size_t n, size_t i)
{
    if (n < i || n - i < 4)
        return -1;
    long v = 0;
    for (size_t k = i; k < i + 4; k++) {
        uint8_t c = s[k];
        if (!is_hex(c))
            return -1;
        v = 16 * v + (c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10);
    }
    return v;
}

/* A string at s[i] == '"': the index past its closing quote, 0 when malformed. *nul is set
 * when it escapes a NUL (\u0000). */
static size_t string_end(const uint8_t *s, size_t n, size_t i, bool *nul)
{
    for (i++; i < n;) {
        uint8_t c = s[i];
        if (c == '"')
            return i + 1;
        if (c < 0x20)
            return 0;
        if (c != '\\') {
            i++;
            continue;
        }
        if (++i >= n)
            return 0;
        if (s[i] == 'u') {
            long u = hex4(s, n, i + 1);
            if (u < 0 || (u >= 0xDC00 && u <= 0xDFFF))
                return 0;
            *nul |= u == 0;
            i += 5;
            if (u >= 0xD800 && u <= 0xDBFF) { /* a pair, as jansson wants it */
                long low = n - i >= 2 && s[i] == '\\' && s[i + 1] == 'u' ? hex4(s, n, i + 2) : -1;
                if (low < 0xDC00 || low > 0xDFFF)
                    return 0;
                i += 6;
            }
        } else if (s[i] && strchr("\"\\/bfnrt", s[i])) {
            i++;
        } else {
            return 0;
        }
    }
    return 0;
}

/* A number, a literal or a string at s[i]: the index past it, 0 when malformed. */
static size_t scalar_end(const uint8_t *s, size_t n, size_t i, bool *nul)
{
    if (s[i] == '"')
        return string_end(s, n, i, nul);
    static const char *const words[] = {"true", "false", "null"};
    for (size_t k = 0; k < RC_ARRAY_LEN(words); k++) {
        size_t len = strlen(words[k]);
        if (n - i >= len && memcmp(s + i, words[k], len) == 0)
            return i + len;
    }
    size_t j = i;
    if (j < n && s[j] == '-')
        j++;
    if (j < n && s[j] == '0')
        j++;
    else if (j < n && is_digit(s[j]))
        while (j < n && is_digit(s[j]))
            j++;
    else
        return 0;
    if (j < n && s[j] == '.') {
        if (++j >= n || !is_digit(s[j]))
            return 0;
        while (j < n && is_digit(s[j]))
            j++;
    }
    if (j < n && (s[j] == 'e' || s[j] == 'E')) {
        if (++j < n && (s[j] == '+' || s[j] == '-'))
            j++;
        if (j >= n || !is_digit(s[j]))
            return 0;
        while (j < n && is_digit(s[j]))
            j++;
    }
    return j;
}

/* Whether text[0, len) is one JSON value (an object or array unless `any`), at most MAX_DEPTH
 * levels deep, with nothing but white space after it. */
static bool well_formed(const uint8_t *s, size_t n, bool any, bool *nul)
{
    uint8_t open[MAX_DEPTH]; /* '{' or '[' of each level */
    size_t depth = 0, i = skip_ws(s, n, 0);
    if (!any && (i >= n || (s[i] != '{' && s[i] != '[')))
        return false;
    for (;;) {
        /* A value at i (after its key, in an object). */
        if (i >= n)
            return false;
        if (s[i] == '{' || s[i] == '[') {
            if (depth == MAX_DEPTH)
                return false;
            open[depth++] = s[i];
            i = skip_ws(s, n, i + 1);
            if (i < n && s[i] == (open[depth - 1] == '{' ? '}' : ']')) { /* empty */
                depth--;
                i++;
            } else {
                if (open[depth - 1] == '{') { /* the first key */
                    if (i >= n || s[i] != '"' || !(i = string_end(s, n, i, nul)))
                        return false;
                    if ((i = skip_ws(s, n, i)) >= n || s[i] != ':')
                        return false;
                    i = skip_ws(s, n, i + 1);
                }
                continue;
            }
        } else if (!(i = scalar_end(s, n, i, nul))) {
            return false;
        }
        /* After a value: a comma, the end of its containers, or the end of the text. */
        for (;;) {
            i = skip_ws(s, n, i);
            if (depth == 0)
                return i == n;
            if (i >= n)
                return false;
            if (s[i] == (open[depth - 1] == '{' ? '}' : ']')) {
                depth--;
                i++;
                continue;
            }
            if (s[i] != ',')
                return false;
            i = skip_ws(s, n, i + 1);
            if (open[depth - 1] == '{') {
                if (i >= n || s[i] != '"' || !(i = string_end(s, n, i, nul)))
                    return false;
                if ((i = skip_ws(s, n, i)) >= n || s[i] != ':')
                    return false;
                i = skip_ws(s, n, i + 1);
            }
            break;
        }
    }
}

bool rc_json_refused_for_memory(const struct json_error_t *jerr, const char *text, size_t len,
                                bool any)
{
    enum json_error_code code = json_error_code(jerr);
    if (code == json_error_out_of_memory || !jerr->text[0])
        return true;
    /* What only the text causes (the syntax check below does not look for these). */
    if (code == json_error_duplicate_key || code == json_error_numeric_overflow ||
        code == json_error_stack_overflow || code == json_error_invalid_utf8 ||
        code == json_error_null_byte_in_key || !text)
        return false;
    /* Anything else jansson says of a well-formed text is a failed allocation (one of them is
     * reported as a \u0000 the text does not hold). */
    bool nul = false;
    return well_formed((const uint8_t *)text, len, any, &nul) &&
           !(code == json_error_null_character && nul);
}

char *rc_json_dumps(const struct json_t *v, size_t flags)
{
    char *s = json_dumps(v, flags);
    bool nul = false;
    if (s && !well_formed((const uint8_t *)s, strlen(s), (flags & JSON_ENCODE_ANY) != 0, &nul)) {
        free(s);
        s = NULL;
    }
    return s;
}

/*
 * tokenize.c — the prose tokenizer and normalizer shared by the index builder and the checker.
 * Turns bytes into tokens (hash of the normalized word + byte span). Everything that makes two
 * texts "the same after normalization" lives here: Unicode compatibility forms and case folding
 * (utf8proc), apostrophes and hyphens inside words, words hyphenated across a line break, and
 * line-number furniture. Punctuation, quotes and dashes separate words and are not tokens.
 */
#include "rc_text.h"

#include <utf8proc.h>
#define XXH_INLINE_ALL
#include <xxhash.h>

/* ==== UTF-8 decoding ==== */

/* Windows-1252 for 0x80..0x9F; 0xA0..0xFF are the Latin-1 code points themselves. */
static const uint16_t cp1252_high[32] = {
    0x20ac, 0x81,   0x201a, 0x192,  0x201e, 0x2026, 0x2020, 0x2021, 0x2c6,  0x2030, 0x160,
    0x2039, 0x152,  0x8d,   0x17d,  0x8f,   0x90,   0x2018, 0x2019, 0x201c, 0x201d, 0x2022,
    0x2013, 0x2014, 0x2dc,  0x2122, 0x161,  0x203a, 0x153,  0x9d,   0x17e,  0x178};

static inline int32_t fallback(uint8_t b)
{
    return (b >= 0x80 && b < 0xa0) ? cp1252_high[b - 0x80] : b;
}

size_t rc_utf8_decode(const uint8_t *s, size_t len, size_t i, bool final, int32_t *cp,
                      bool *invalid)
{
    uint8_t b = s[i];
    *invalid = false;
    if (b < 0x80) {
        *cp = b;
        return 1;
    }
    size_t need;
    int32_t min, c;
    if (b >= 0xc2 && b <= 0xdf) {
        need = 2, min = 0x80, c = b & 0x1f;
    } else if (b >= 0xe0 && b <= 0xef) {
        need = 3, min = 0x800, c = b & 0x0f;
    } else if (b >= 0xf0 && b <= 0xf4) {
        need = 4, min = 0x10000, c = b & 0x07;
    } else {
        goto bad;
    }
    for (size_t k = 1; k < need; k++) {
        if (i + k >= len)
            return final ? (size_t)(*invalid = true, *cp = fallback(b), 1) : 0;
        uint8_t t = s[i + k];
        if ((t & 0xc0) != 0x80)
            goto bad;
        c = (c << 6) | (t & 0x3f);
        /* Reject overlong and out-of-range forms as early as the second byte allows. */
        if (k == 1 && ((need == 3 && c < 0x20) || (need == 4 && (c < 0x10 || c > 0x10f))))
            goto bad;
    }
    if (c < min || (c >= 0xd800 && c <= 0xdfff) || c > 0x10ffff)
        goto bad;
    *cp = c;
    return need;
bad:
    *invalid = true;
    *cp = fallback(b);
    return 1;
}

uint64_t rc_utf8_count_invalid(const uint8_t *s, size_t len)
{
    uint64_t n = 0;
    size_t i = 0;
    while (i < len) {
        if (i + 8 <= len) { /* skip ASCII eight bytes at a time */
            uint64_t v;
            memcpy(&v, s + i, 8);
            if (!(v & 0x8080808080808080ULL)) {
                i += 8;
                continue;
            }
        }
        if (s[i] < 0x80) {
            i++;
            continue;
        }
        int32_t cp;
        bool inv;
        i += rc_utf8_decode(s, len, i, true, &cp, &inv);
        n += inv;
    }
    return n;
}

/* ==== character classes ==== */

enum {
    C_OTHER = 0, /* punctuation, symbols, controls: separate words */
    C_WORD,      /* letters, marks, digits */
    C_CJK,       /* ideographs and kana: one token each */
    C_HSPACE,
    C_NEWLINE,
    C_APOS,  /* apostrophes: dropped inside a word */
    C_HYPHEN /* hyphens: dropped inside a word, join a word broken across lines */
};

static const uint8_t ascii_class[128] = {
    ['\t'] = C_HSPACE,  ['\n'] = C_NEWLINE, ['\v'] = C_NEWLINE, ['\f'] = C_NEWLINE,
    ['\r'] = C_NEWLINE, [' '] = C_HSPACE,   ['\''] = C_APOS,    ['-'] = C_HYPHEN,
    ['0'] = C_WORD,     ['1'] = C_WORD,     ['2'] = C_WORD,     ['3'] = C_WORD,
    ['4'] = C_WORD,     ['5'] = C_WORD,     ['6'] = C_WORD,     ['7'] = C_WORD,
    ['8'] = C_WORD,     ['9'] = C_WORD,     ['A'] = C_WORD,     ['B'] = C_WORD,
    ['C'] = C_WORD,     ['D'] = C_WORD,     ['E'] = C_WORD,     ['F'] = C_WORD,
    ['G'] = C_WORD,     ['H'] = C_WORD,     ['I'] = C_WORD,     ['J'] = C_WORD,
    ['K'] = C_WORD,     ['L'] = C_WORD,     ['M'] = C_WORD,     ['N'] = C_WORD,
    ['O'] = C_WORD,     ['P'] = C_WORD,     ['Q'] = C_WORD,     ['R'] = C_WORD,
    ['S'] = C_WORD,     ['T'] = C_WORD,     ['U'] = C_WORD,     ['V'] = C_WORD,
    ['W'] = C_WORD,     ['X'] = C_WORD,     ['Y'] = C_WORD,     ['Z'] = C_WORD,
    ['a'] = C_WORD,     ['b'] = C_WORD,     ['c'] = C_WORD,     ['d'] = C_WORD,
    ['e'] = C_WORD,     ['f'] = C_WORD,     ['g'] = C_WORD,     ['h'] = C_WORD,
    ['i'] = C_WORD,     ['j'] = C_WORD,     ['k'] = C_WORD,     ['l'] = C_WORD,
    ['m'] = C_WORD,     ['n'] = C_WORD,     ['o'] = C_WORD,     ['p'] = C_WORD,
    ['q'] = C_WORD,     ['r'] = C_WORD,     ['s'] = C_WORD,     ['t'] = C_WORD,
    ['u'] = C_WORD,     ['v'] = C_WORD,     ['w'] = C_WORD,     ['x'] = C_WORD,
    ['y'] = C_WORD,     ['z'] = C_WORD,
};

/* For bytes that are ASCII letters or digits: the byte in lower case; 0 for every other byte. */
static const uint8_t ascii_lower_word[256] = {
    ['0'] = '0', ['1'] = '1', ['2'] = '2', ['3'] = '3', ['4'] = '4', ['5'] = '5', ['6'] = '6',
    ['7'] = '7', ['8'] = '8', ['9'] = '9', ['A'] = 'a', ['B'] = 'b', ['C'] = 'c', ['D'] = 'd',
    ['E'] = 'e', ['F'] = 'f', ['G'] = 'g', ['H'] = 'h', ['I'] = 'i', ['J'] = 'j', ['K'] = 'k',
    ['L'] = 'l', ['M'] = 'm', ['N'] = 'n', ['O'] = 'o', ['P'] = 'p', ['Q'] = 'q', ['R'] = 'r',
    ['S'] = 's', ['T'] = 't', ['U'] = 'u', ['V'] = 'v', ['W'] = 'w', ['X'] = 'x', ['Y'] = 'y',
    ['Z'] = 'z', ['a'] = 'a', ['b'] = 'b', ['c'] = 'c', ['d'] = 'd', ['e'] = 'e', ['f'] = 'f',
    ['g'] = 'g', ['h'] = 'h', ['i'] = 'i', ['j'] = 'j', ['k'] = 'k', ['l'] = 'l', ['m'] = 'm',
    ['n'] = 'n', ['o'] = 'o', ['p'] = 'p', ['q'] = 'q', ['r'] = 'r', ['s'] = 's', ['t'] = 't',
    ['u'] = 'u', ['v'] = 'v', ['w'] = 'w', ['x'] = 'x', ['y'] = 'y', ['z'] = 'z',
};

static bool is_cjk(int32_t c)
{
    return (c >= 0x3040 && c <= 0x30ff) || /* hiragana, katakana */
           (c >= 0x31f0 && c <= 0x31ff) || /* katakana extensions */
           (c >= 0x3400 && c <= 0x4dbf) || /* CJK extension A */
           (c >= 0x4e00 && c <= 0x9fff) || /* CJK unified ideographs */
           (c >= 0xf900 && c <= 0xfaff) || /* compatibility ideographs */
           (c >= 0xff66 && c <= 0xff9f) || /* halfwidth katakana */
           (c >= 0x20000 && c <= 0x3134f); /* extensions B.. */
}

static int classify(int32_t c)
{
    if (c < 0x80)
        return ascii_class[c];
    switch (c) {
    case 0x00ad:
    case 0x2010:
    case 0x2011: return C_HYPHEN;
    case 0x2018:
    case 0x2019:
    case 0x02bc:
    case 0xff07: return C_APOS;
    case 0x0085:
    case 0x2028:
    case 0x2029: return C_NEWLINE;
    default: break;
    }
    if (is_cjk(c))
        return C_CJK;
    switch (utf8proc_category(c)) {
    case UTF8PROC_CATEGORY_LU:
    case UTF8PROC_CATEGORY_LL:
    case UTF8PROC_CATEGORY_LT:
    case UTF8PROC_CATEGORY_LM:
    case UTF8PROC_CATEGORY_LO:
    case UTF8PROC_CATEGORY_MN:
    case UTF8PROC_CATEGORY_MC:
    case UTF8PROC_CATEGORY_ME:
    case UTF8PROC_CATEGORY_ND:
    case UTF8PROC_CATEGORY_NL:
    case UTF8PROC_CATEGORY_NO: return C_WORD;
    case UTF8PROC_CATEGORY_ZS: return C_HSPACE;
    case UTF8PROC_CATEGORY_ZL:
    case UTF8PROC_CATEGORY_ZP: return C_NEWLINE;
    default: return C_OTHER;
    }
}

bool rc_cp_is_word(int32_t cp)
{
    int c = classify(cp);
    return c == C_WORD || c == C_CJK;
}

size_t rc_tokenize(int mode, rc_tokenizer *tz, const uint8_t *buf, size_t len, bool final,
                   rc_tok_state *st, rc_token *out, size_t cap)
{
    return mode == RECITE_MODE_CODE ? rc_lex_code(buf, len, final, st, out, cap)
                                    : rc_tokenize_prose(tz, buf, len, final, st, out, cap);
}

/* Class of the code point at s[i]; *n receives its length, 0 when more input is needed. */
static inline int class_at(const uint8_t *s, size_t len, size_t i, bool final, size_t *n,
                           int32_t *cp)
{
    if (s[i] < 0x80) {
        *n = 1;
        *cp = s[i];
        return ascii_class[s[i]];
    }
    bool inv;
    *n = rc_utf8_decode(s, len, i, final, cp, &inv);
    return *n ? classify(*cp) : C_OTHER;
}

/* ==== hashing a normalized word ==== */

static uint64_t hash_word(rc_tokenizer *tz, size_t rawlen, bool ascii)
{
    if (ascii)
        return XXH3_64bits_withSeed(tz->raw, rawlen, RC_TOKEN_SEED);
    utf8proc_ssize_t n = utf8proc_decompose(
        tz->raw, (utf8proc_ssize_t)rawlen, tz->cps, (utf8proc_ssize_t)RC_ARRAY_LEN(tz->cps),
        UTF8PROC_DECOMPOSE | UTF8PROC_COMPAT | UTF8PROC_CASEFOLD | UTF8PROC_IGNORE);
    if (n < 0 || (size_t)n > RC_ARRAY_LEN(tz->cps))
        return XXH3_64bits_withSeed(tz->raw, rawlen,
                                    RC_TOKEN_SEED); /* cannot happen: raw is valid */
    size_t m = 0;
    for (utf8proc_ssize_t k = 0; k < n; k++)
        m += (size_t)utf8proc_encode_char(tz->cps[k], tz->norm + m);
    return XXH3_64bits_withSeed(tz->norm, m, RC_TOKEN_SEED);
}

/* ==== scanning ==== */

#define NEED_MORE SIZE_MAX

/* Skips horizontal whitespace from i; returns the new position, `len` at the end of input, or
 * NEED_MORE when a code point is cut by the end of a non-final buffer. */
static size_t skip_hspace(const uint8_t *s, size_t len, size_t i, bool final)
{
    while (i < len) {
        size_t n;
        int32_t cp;
        int c = class_at(s, len, i, final, &n, &cp);
        if (!n)
            return NEED_MORE;
        if (c != C_HSPACE)
            return i;
        i += n;
    }
    return i;
}

/* Line-number furniture at s[i]: 1-3 ASCII digits followed by horizontal whitespace or a line
 * end (or the end of the text). Returns the position after the digits, 0 if there is none, or
 * NEED_MORE. */
static size_t furniture_end(const uint8_t *s, size_t len, size_t i, bool final)
{
    size_t k = i;
    while (k < len && k - i < 4 && s[k] >= '0' && s[k] <= '9')
        k++;
    if (k == i || k - i > 3)
        return 0;
    if (k == len)
        return final ? k : NEED_MORE;
    int c = s[k] < 0x80 ? ascii_class[s[k]] : C_OTHER;
    if (s[k] >= 0x80) {
        size_t n;
        int32_t cp;
        c = class_at(s, len, k, final, &n, &cp);
        if (!n)
            return NEED_MORE;
    }
    return (c == C_HSPACE || c == C_NEWLINE) ? k : 0;
}

/* After a hyphen ending at j: if a line break follows (optionally padded, optionally followed by
 * line-number furniture) and then a word character, returns the position of that character;
 * 0 if the word does not continue; NEED_MORE if the input ends before we can tell. */
static size_t hyphen_continuation(const uint8_t *s, size_t len, size_t j, bool final)
{
    size_t k = skip_hspace(s, len, j, final);
    if (k == NEED_MORE || (k == len && !final))
        return NEED_MORE;
    if (k == len)
        return 0;
    size_t n;
    int32_t cp;
    if (class_at(s, len, k, final, &n, &cp) != C_NEWLINE)
        return n ? 0 : NEED_MORE;
    k += n;
    if (cp == '\r' && k < len && s[k] == '\n')
        k++;
    k = skip_hspace(s, len, k, final);
    if (k == NEED_MORE || (k == len && !final))
        return NEED_MORE;
    size_t f = furniture_end(s, len, k, final);
    if (f == NEED_MORE)
        return NEED_MORE;
    if (f) {
        k = skip_hspace(s, len, f, final);
        if (k == NEED_MORE || (k == len && !final))
            return NEED_MORE;
    }
    if (k == len)
        return 0;
    int c = class_at(s, len, k, final, &n, &cp);
    if (!n)
        return NEED_MORE;
    return c == C_WORD ? k : 0;
}

typedef struct word_scan {
    size_t end;     /* byte after the last word character */
    size_t rawlen;  /* bytes of the word in tz->raw */
    bool ascii;     /* tz->raw is lower-case ASCII */
    bool short_num; /* 1-3 ASCII digits and nothing else: a candidate line number */
} word_scan;

static void append_cp(rc_tokenizer *tz, word_scan *w, int32_t cp)
{
    if (cp < 0x80) {
        tz->raw[w->rawlen++] = (uint8_t)((cp >= 'A' && cp <= 'Z') ? cp + 32 : cp);
    } else {
        w->ascii = false;
        w->rawlen += (size_t)utf8proc_encode_char(cp, tz->raw + w->rawlen);
    }
}

/* Scans the word starting at s[i] (a C_WORD character). Returns false when more input is needed. */
static bool scan_word(rc_tokenizer *tz, const uint8_t *s, size_t len, bool final, size_t i,
                      word_scan *w)
{
    size_t ncp = 0;
    bool joined = false;
    w->rawlen = 0;
    w->ascii = true;
    w->end = i;
    for (;;) {
        /* Fast path: a run of ASCII letters and digits, the bulk of most text. */
        size_t room = RC_MAX_TOKEN_CP - ncp, start = i;
        size_t stop = len - i < room ? len : i + room;
        uint8_t *raw = tz->raw + w->rawlen;
        while (i < stop && ascii_lower_word[s[i]])
            *raw++ = ascii_lower_word[s[i++]];
        if (i != start) {
            ncp += i - start;
            w->rawlen += i - start;
            w->end = i;
        }
        if (i >= len) {
            if (!final)
                return false;
            break;
        }
        size_t n;
        int32_t cp;
        int c = class_at(s, len, i, final, &n, &cp);
        if (!n)
            return false;
        if (c == C_WORD) {
            if (ncp == RC_MAX_TOKEN_CP)
                break;
            append_cp(tz, w, cp);
            ncp++;
            i += n;
            w->end = i;
            continue;
        }
        if (c != C_APOS && c != C_HYPHEN)
            break;
        size_t j = i + n;
        if (j >= len) {
            if (!final)
                return false;
            break;
        }
        int32_t cp2;
        size_t n2;
        int c2 = class_at(s, len, j, final, &n2, &cp2);
        if (!n2)
            return false;
        if (c2 == C_WORD) {
            joined = true;
            i = j;
            continue;
        }
        if (c != C_HYPHEN)
            break;
        size_t k = hyphen_continuation(s, len, j, final);
        if (k == NEED_MORE)
            return false;
        if (!k)
            break;
        joined = true;
        i = k;
    }
    /* A candidate line number: 1-3 ASCII digits and nothing else. */
    w->short_num = !joined && ncp >= 1 && ncp <= 3 && w->rawlen == ncp;
    for (size_t k = 0; w->short_num && k < ncp; k++)
        w->short_num = tz->raw[k] >= '0' && tz->raw[k] <= '9';
    return true;
}

size_t rc_tokenize_prose(rc_tokenizer *tz, const uint8_t *buf, size_t len, bool final,
                         rc_tok_state *st, rc_token *out, size_t cap)
{
    size_t i = (size_t)st->pos;
    bool line_start = st->line_start;
    rc_tok_state resume = *st;
    size_t ntok = 0;

    while (i < len && ntok < cap) {
        size_t n;
        int32_t cp;
        int c = class_at(buf, len, i, final, &n, &cp);
        if (!n)
            break;
        switch (c) {
        case C_WORD: {
            word_scan w;
            if (!scan_word(tz, buf, len, final, i, &w))
                goto done;
            if (line_start && w.short_num) {
                size_t f = furniture_end(buf, len, i, final);
                if (f == NEED_MORE)
                    goto done;
                if (f) { /* a line number: not part of the text */
                    line_start = false;
                    i = w.end;
                    resume = (rc_tok_state){i, false};
                    continue;
                }
            }
            uint64_t h = hash_word(tz, w.rawlen, w.ascii);
            out[ntok++] = (rc_token){h, h, i, w.end};
            line_start = false;
            i = w.end;
            resume = (rc_tok_state){i, false};
            continue;
        }
        case C_CJK: {
            word_scan w = {.rawlen = 0, .ascii = true};
            append_cp(tz, &w, cp);
            uint64_t h = hash_word(tz, w.rawlen, w.ascii);
            out[ntok++] = (rc_token){h, h, i, i + n};
            line_start = false;
            break;
        }
        case C_NEWLINE: line_start = true; break;
        case C_HSPACE: break;
        default: line_start = false; break;
        }
        i += n;
        resume = (rc_tok_state){i, line_start};
    }
    if (i >= len && final)
        resume = (rc_tok_state){i, line_start};
done:
    *st = resume;
    return ntok;
}

/* ==== punctuation signature ==== */

static size_t put_sig(uint8_t *out, size_t m, size_t cap, const char *s, size_t n)
{
    for (size_t k = 0; k < n && m < cap; k++)
        out[m++] = (uint8_t)s[k];
    return m;
}

size_t rc_punct_signature(const uint8_t *s, size_t len, size_t from, size_t to, uint8_t *out,
                          size_t cap)
{
    size_t m = 0, i = from;
    bool last_dash = false, after_word = false;
    if (to > len)
        to = len;
    while (i < to) {
        size_t n;
        int32_t cp;
        int c = class_at(s, len, i, true, &n, &cp);
        bool dash = false;
        switch (c) {
        case C_WORD:
        case C_CJK:
        case C_HSPACE:
        case C_NEWLINE: break;
        case C_APOS: m = put_sig(out, m, cap, "'", 1); break;
        case C_HYPHEN: {
            if (cp == 0x00ad)
                break; /* soft hyphen: invisible */
            size_t k = skip_hspace(s, len, i + n, true);
            size_t n2;
            int32_t cp2;
            if (after_word && k < len && class_at(s, len, k, true, &n2, &cp2) == C_NEWLINE)
                break; /* a word hyphenated at a line break (not a dash after a space) */
            dash = true;
            if (!last_dash)
                m = put_sig(out, m, cap, "-", 1);
            break;
        }
        default:
            switch (cp) {
            case '"':
            case 0x201c:
            case 0x201d:
            case 0x201e:
            case 0x201f:
            case 0x00ab:
            case 0x00bb:
            case 0x2033:
            case 0x301d:
            case 0x301e:
            case 0xff02: m = put_sig(out, m, cap, "\"", 1); break;
            case 0x201a:
            case 0x201b:
            case 0x2032:
            case 0x2039:
            case 0x203a:
            case '`': m = put_sig(out, m, cap, "'", 1); break;
            case 0x2012:
            case 0x2013:
            case 0x2014:
            case 0x2015:
            case 0x2212:
            case 0x2e3a:
            case 0x2e3b:
            case 0xfe58:
            case 0xfe63:
            case 0xff0d:
                dash = true;
                if (!last_dash)
                    m = put_sig(out, m, cap, "-", 1);
                break;
            default:
                if (cp < 0x20 || (cp >= 0x7f && cp < 0xa0))
                    break; /* controls */
                if (cp < 0x80) {
                    uint8_t b = (uint8_t)cp;
                    m = put_sig(out, m, cap, (const char *)&b, 1);
                } else {
                    int32_t d[32];
                    int bc = 0;
                    utf8proc_ssize_t k = utf8proc_decompose_char(
                        cp, d, 32, UTF8PROC_DECOMPOSE | UTF8PROC_COMPAT | UTF8PROC_CASEFOLD, &bc);
                    for (utf8proc_ssize_t q = 0; q > -1 && q < k && q < 32 && m + 4 <= cap; q++)
                        m += (size_t)utf8proc_encode_char(d[q], out + m);
                }
                break;
            }
        }
        last_dash = dash || (last_dash && (c == C_HSPACE));
        after_word = c == C_WORD || c == C_CJK;
        i += n;
    }
    return m;
}

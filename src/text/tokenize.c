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
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

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
        return rc_ascii_class[s[i]];
    }
    bool inv;
    *n = rc_utf8_decode(s, len, i, final, cp, &inv);
    return *n ? rc_cp_class(*cp) : C_OTHER;
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
    int c = s[k] < 0x80 ? rc_ascii_class[s[k]] : C_OTHER;
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
    size_t end;    /* byte after the last word character */
    size_t rawlen; /* bytes of the word in tz->raw */
    size_t ncp;    /* code points of the word */
    bool ascii;    /* tz->raw is lower-case ASCII */
    bool joined;   /* parts joined across an apostrophe, hyphen or line break */
} word_scan;

/* 1-3 ASCII digits and nothing else: a candidate line number. */
static bool short_num(const rc_tokenizer *tz, const word_scan *w)
{
    if (w->joined || w->ncp < 1 || w->ncp > 3 || w->rawlen != w->ncp)
        return false;
    for (size_t k = 0; k < w->ncp; k++)
        if (tz->raw[k] < '0' || tz->raw[k] > '9')
            return false;
    return true;
}

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
        if (c != C_APOS && c != C_HYPHEN) {
            /* A number range: an en dash or figure dash between two digits joins them like a
             * hyphen (1992–1994 = 1992-1994). */
            size_t j = i + n;
            if ((cp == 0x2013 || cp == 0x2012) && w->rawlen && tz->raw[w->rawlen - 1] >= '0' &&
                tz->raw[w->rawlen - 1] <= '9') {
                if (j >= len) {
                    if (!final)
                        return false;
                    break;
                }
                if (s[j] >= '0' && s[j] <= '9') {
                    joined = true;
                    i = j;
                    continue;
                }
            }
            break;
        }
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
    w->ncp = ncp;
    w->joined = joined;
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
        /* Spaces and ASCII punctuation between words, the bulk of what is not a word. */
        if (buf[i] < 0x80 && rc_ascii_class[buf[i]] != C_WORD) {
            int c = rc_ascii_class[buf[i]];
            if (c == C_NEWLINE)
                line_start = true;
            else if (c != C_HSPACE)
                line_start = false;
            i++;
            resume = (rc_tok_state){i, line_start};
            continue;
        }
        if (buf[i] < 0x80 && !line_start) {
            /* Fast path: an ASCII word ended by ASCII that neither continues nor joins it (a
             * space, most punctuation), the bulk of most text: what scan_word would find. */
            size_t j = i, lim = RC_MIN(len, i + RC_MAX_TOKEN_CP);
            uint8_t *raw = tz->raw, b;
#if defined(__SSE2__)
            /* Sixteen bytes at a time: ASCII letters (lowered by OR 0x20) and digits (which
             * OR 0x20 leaves alone) are copied, up to the first other byte. Bytes from 0x80
             * compare as negative and are neither. */
            while (j + 16 <= lim) {
                __m128i x = _mm_loadu_si128((const __m128i *)(const void *)(buf + j));
                __m128i low = _mm_or_si128(x, _mm_set1_epi8(0x20));
                __m128i word =
                    _mm_or_si128(_mm_and_si128(_mm_cmpgt_epi8(low, _mm_set1_epi8('a' - 1)),
                                               _mm_cmplt_epi8(low, _mm_set1_epi8('z' + 1))),
                                 _mm_and_si128(_mm_cmpgt_epi8(x, _mm_set1_epi8('0' - 1)),
                                               _mm_cmplt_epi8(x, _mm_set1_epi8('9' + 1))));
                _mm_storeu_si128((__m128i *)(void *)raw, low);
                unsigned stop = ~(unsigned)_mm_movemask_epi8(word) & 0xffffu;
                unsigned k = stop ? (unsigned)__builtin_ctz(stop) : 16;
                raw += k;
                j += k;
                if (stop)
                    break;
            }
#endif
            while (j < lim && (b = ascii_lower_word[buf[j]]) != 0) {
                *raw++ = b;
                j++;
            }
            if (j < lim && buf[j] < 0x80 && rc_ascii_class[buf[j]] != C_APOS &&
                rc_ascii_class[buf[j]] != C_HYPHEN) {
                uint64_t h = XXH3_64bits_withSeed(tz->raw, j - i, RC_TOKEN_SEED);
                out[ntok++] = (rc_token){h, h, i, j};
                i = j;
                resume = (rc_tok_state){i, false};
                continue;
            }
        }
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
            if (line_start && short_num(tz, &w)) {
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

/* The signature of ASCII text without hyphens is its bytes filtered: letters, digits,
 * whitespace and controls dropped, '`' read as an apostrophe, every other byte kept. The next
 * byte of it after position *i (advanced past it), or -1 at the end. */
static int ascii_sig_next(const uint8_t *s, size_t to, size_t *i)
{
    while (*i < to) {
        uint8_t b = s[(*i)++];
        if (ascii_lower_word[b] || b < 0x20 || b == 0x7f || b == ' ')
            continue;
        return b == '`' ? '\'' : b;
    }
    return -1;
}

static bool ascii_without_hyphen(const uint8_t *s, size_t from, size_t to)
{
    for (size_t i = from; i < to; i++)
        if (s[i] >= 0x80 || s[i] == '-')
            return false;
    return true;
}

bool rc_punct_same(const uint8_t *a, size_t alen, size_t afrom, size_t ato, const uint8_t *b,
                   size_t blen, size_t bfrom, size_t bto, uint8_t *scratch_a, uint8_t *scratch_b,
                   size_t cap)
{
    ato = RC_MIN(ato, alen);
    bto = RC_MIN(bto, blen);
    if (afrom <= ato && bfrom <= bto && ato - afrom < cap && bto - bfrom < cap &&
        ascii_without_hyphen(a, afrom, ato) && ascii_without_hyphen(b, bfrom, bto)) {
        /* The common case, without building the signatures (short enough that neither could
         * reach the cap of a signature). */
        size_t i = afrom, j = bfrom;
        for (;;) {
            int x = ascii_sig_next(a, ato, &i), y = ascii_sig_next(b, bto, &j);
            if (x != y)
                return false;
            if (x < 0)
                return true;
        }
    }
    size_t na = rc_punct_signature(a, alen, afrom, ato, scratch_a, cap);
    size_t nb = rc_punct_signature(b, blen, bfrom, bto, scratch_b, cap);
    return na == nb && memcmp(scratch_a, scratch_b, na) == 0;
}

/*
 * utf8.c — decoding UTF-8 that may be invalid (an invalid byte is read as its Windows-1252
 * character, so Latin-1 files make sense and nothing ever fails), and the character classes
 * the prose tokenizer and the code lexer share: word characters, CJK, spaces, line breaks,
 * apostrophes and hyphens. The first stage of both the index builder and the checker.
 */
#include "rc_text.h"

#include <utf8proc.h>

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

const uint8_t rc_ascii_class[128] = {
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

int rc_cp_class(int32_t c)
{
    if (c < 0x80)
        return rc_ascii_class[c];
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
    int c = rc_cp_class(cp);
    return c == C_WORD || c == C_CJK;
}

/*
 * fuzz_prose.c — the prose tokenizer and normalizer (src/text/tokenize.c) on any bytes: invalid
 * UTF-8, huge words, hyphens and line numbers at buffer ends. Checks the tokenizer invariants
 * of fuzz_tokens.h, the UTF-8 decoder against a reference decoder written from RFC 3629 (valid
 * sequences decode alike, anything else is one invalid byte; a non-final cut asks for more only
 * when the sequence really runs past the end), the invalid-byte count, and that punctuation
 * signatures stay within their buffer.
 */
#include "fuzz_tokens.h"

static rc_tokenizer tz;

static size_t prose(rc_tokenizer *t, const uint8_t *buf, size_t len, bool final, rc_tok_state *st,
                    rc_token *out, size_t cap)
{
    return rc_tokenize_prose(t, buf, len, final, st, out, cap);
}

/* RFC 3629: the length of the valid sequence at s[i] and its code point; 0 when invalid. */
static size_t ref_utf8(const uint8_t *s, size_t len, size_t i, int32_t *cp)
{
    uint8_t b = s[i];
    if (b < 0x80) {
        *cp = b;
        return 1;
    }
    size_t need;
    uint8_t lo = 0x80, hi = 0xbf;
    if (b >= 0xc2 && b <= 0xdf)
        need = 2;
    else if (b >= 0xe0 && b <= 0xef)
        need = 3, lo = b == 0xe0 ? 0xa0 : 0x80, hi = b == 0xed ? 0x9f : 0xbf;
    else if (b >= 0xf0 && b <= 0xf4)
        need = 4, lo = b == 0xf0 ? 0x90 : 0x80, hi = b == 0xf4 ? 0x8f : 0xbf;
    else
        return 0;
    if (len - i < need)
        return 0;
    if (s[i + 1] < lo || s[i + 1] > hi)
        return 0;
    int32_t c = b & (need == 2 ? 0x1f : need == 3 ? 0x0f : 0x07);
    for (size_t k = 1; k < need; k++) {
        if ((s[i + k] & 0xc0) != 0x80)
            return 0;
        c = (c << 6) | (s[i + k] & 0x3f);
    }
    *cp = c;
    return need;
}

static size_t lead_length(uint8_t b)
{
    return b < 0xc2 ? 1 : b <= 0xdf ? 2 : b <= 0xef ? 3 : b <= 0xf4 ? 4 : 1;
}

static void check_decoder(const uint8_t *s, size_t len)
{
    uint64_t invalid = 0;
    for (size_t i = 0; i < len;) {
        int32_t cp = -1, ref_cp = -1, cp2 = -1;
        bool inv, inv2;
        size_t n = rc_utf8_decode(s, len, i, true, &cp, &inv);
        size_t r = ref_utf8(s, len, i, &ref_cp);
        if (r) {
            FZ_CHECK(n == r && !inv && cp == ref_cp,
                     "valid sequence at %zu (%zu bytes, U+%04X) decoded as %zu bytes, U+%04X%s", i,
                     r, (unsigned)ref_cp, n, (unsigned)cp, inv ? ", invalid" : "");
        } else {
            FZ_CHECK(n == 1 && inv && cp > 0 && cp <= 0xffff && cp != 0xfffd,
                     "invalid byte %02x at %zu decoded as %zu bytes, U+%04X%s", s[i], i, n,
                     (unsigned)cp, inv ? "" : " (valid)");
            FZ_CHECK(s[i] >= 0xa0 ? cp == s[i] : s[i] < 0x80 || cp >= 0x80,
                     "byte %02x is not read as Windows-1252 (U+%04X)", s[i], (unsigned)cp);
            invalid++;
        }
        /* Cut right after this byte: a non-final decode asks for more only when a sequence
         * that may still be valid runs past the end, and otherwise decides as final does. */
        for (size_t cut = i + 1; cut <= len && cut <= i + 4; cut++) {
            size_t m = rc_utf8_decode(s, cut, i, false, &cp2, &inv2);
            if (m == 0)
                FZ_CHECK(i + lead_length(s[i]) > cut,
                         "non-final decode at %zu with %zu bytes left asks for more", i, cut - i);
            else if (cut == len)
                FZ_CHECK(m == n && inv2 == inv && cp2 == cp, "non-final decode differs at %zu", i);
        }
        i += n;
    }
    FZ_CHECK(rc_utf8_count_invalid(s, len) == invalid, "%llu invalid bytes counted, %llu found",
             (unsigned long long)rc_utf8_count_invalid(s, len), (unsigned long long)invalid);
}

/* Signatures of random ranges, in output buffers of exactly their capacity. */
static void check_signatures(const uint8_t *s, size_t len, fz_rng *rng)
{
    for (int k = 0; k < 4; k++) {
        size_t from = (size_t)fz_below(rng, len + 1);
        size_t to = from + (size_t)fz_below(rng, len - from + 8); /* may pass the end */
        size_t cap = (size_t)fz_below(rng, 300);
        uint8_t *out = malloc(cap ? cap : 1);
        FZ_CHECK(out, "out of memory");
        size_t m = rc_punct_signature(s, len, from, to, out, cap);
        FZ_CHECK(m <= cap, "signature of %zu bytes in a buffer of %zu", m, cap);
        free(out);
    }
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t len;
    uint8_t *text = tok_text(data, size, &len);
    fz_rng rng = {fz_hash(data, size)};
    check_decoder(text, len);
    tok_check(prose, &tz, text, len, &rng);
    check_signatures(text, len, &rng);
    free(text);
    return 0;
}

int fuzz_seeds(const char *dir)
{
    static const char *const seeds[] = {
        "\x01The quick brown fox jumps over the lazy dog.",
        "\x01\xe2\x80\x9c"
        "Curly quotes\xe2\x80\x9d, em\xe2\x80\x94"
        "dashes and it\xe2\x80\x99s "
        "apostrophes.",
        "\x01hyphen-\n  12   ated words across a line break, and line 7 furniture:\n12 next line",
        "\x01Stra\xc3\x9f"
        "e \xef\xac\x81nal \xe2\x85\xa0 NFKD \xef\xbc\xa1\xef\xbc\xa2 "
        "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e\xe3\x81\xae\xe6\x96\x87",
        "\x01invalid \xff\xfe \xc0\xaf overlong \xed\xa0\x80 surrogate \xf4\x90\x80\x80 "
        "\xe2\x82 cut \x80\x9f cp1252 \xe9t\xe9",
        "\x01soft\xc2\xad"
        "hyphen, non\xe2\x80\x91"
        "breaking, tab\tand\r\nCRLF\r\n1\r\n",
        "\xa0"
        "a",                /* a word of 4 K letters */
        "\x90\xc3\xa9",     /* 2 K of e-acute */
        "\x88word- \n",     /* many hyphenated line breaks */
        "\x84\xe4\xb8\x80", /* CJK: one token each */
        "\x01"
        "123\n45 six\n7890 eight\n 9 ten", /* line numbers */
    };
    char name[32];
    for (size_t i = 0; i < sizeof seeds / sizeof *seeds; i++) {
        snprintf(name, sizeof name, "seed-%02zu", i);
        if (fz_seed(dir, name, seeds[i], strlen(seeds[i])) != 0)
            return -1;
    }
    /* A page of a Debian license text. */
    size_t n;
    char *t = fz_text("/usr/share/common-licenses/GPL-3", 0, 4000, &n);
    t[0] = 1;
    int rc = fz_seed(dir, "seed-gpl3", t, n);
    free(t);
    return rc;
}

/*
 * fuzz_code.c — the code lexer (src/text/lex_code.c) on any bytes: unclosed comments and strings,
 * backslashes and quotes at buffer ends, Markdown fences, invalid UTF-8 and huge identifiers.
 * Checks the tokenizer invariants of fuzz_tokens.h (order, bounds, the resume contract), and that
 * lexemes of the same bytes have the same hashes wherever they are cut.
 */
#include "fuzz_tokens.h"

static size_t code(rc_tokenizer *t, const uint8_t *buf, size_t len, bool final, rc_tok_state *st,
                   rc_token *out, size_t cap)
{
    (void)t;
    return rc_lex_code(buf, len, final, st, out, cap);
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
    tok_check(code, NULL, text, len, &rng);
    /* The hash of a lexeme is a function of its bytes: lexing a lexeme alone gives it back
     * (checked on a few; the shape may differ: a keyword alone is still a keyword). */
    rc_token toks[64];
    rc_tok_state st = {0, true};
    size_t n = rc_lex_code(text, len, true, &st, toks, 64);
    for (size_t i = 0; i < n; i += 1 + (size_t)fz_below(&rng, 8)) {
        size_t tl = (size_t)(toks[i].end - toks[i].start);
        uint8_t *alone = malloc(tl);
        FZ_CHECK(alone, "out of memory");
        memcpy(alone, text + toks[i].start, tl);
        rc_token t2[4];
        rc_tok_state st2 = {0, true};
        size_t m = rc_lex_code(alone, tl, true, &st2, t2, 4);
        /* A lexeme may lex differently alone only where context decides: a quote that closed
         * nowhere, a # that starts a comment at the end of a text. */
        if (m == 1 && t2[0].start == 0 && t2[0].end == tl)
            FZ_CHECK(t2[0].hash == toks[i].hash, "lexeme %zu hashes differently alone", i);
        free(alone);
    }
    free(text);
    return 0;
}

int fuzz_seeds(const char *dir)
{
    static const char *const seeds[] = {
        "\x01int main(void) { return printf(\"%d\\n\", 0x1fUL + 1.5e3); } // done",
        "\x01/* unclosed block comment\n int x = 1;",
        "\x01s = '''triple\n quoted''' + \"esc\\\"aped\" + `tpl ${x}` # comment\n#include <x.h>",
        "\x01```python\ndef f(a, b):\n    return a ** b  # power\n```\n",
        "\x01"
        "fn f<'a>(x: &'a str) -> &'a str { x } /* rust */ let \xce\xb1\xce\xb2 = 1;",
        "\x01#!/bin/sh\necho \"$HOME\" | tr a-z A-Z # shout\n## twice\n#",
        "\x01x = \"no close\ny = 'no close either\nz = \\",
        "\x01#include <linux/slab.h>\n# include_next <a\nmy $x;\n=head1 NAME\n\nA\n=cut\n=item 3\n"
        "=begin\nruby\n=end\n```\n__END__\ndata\n```perl\n__DATA__\r\n=pod\n",
        "\x01\xff\xfe identifiers \xc3\xa9t\xc3\xa9 $dollar _under 123abc 1..2 3.",
        "\xa0"
        "a",        /* a 4 K identifier */
        "\x90/*",   /* many comment openers */
        "\x88\"\\", /* quotes and backslashes */
    };
    char name[32];
    for (size_t i = 0; i < sizeof seeds / sizeof *seeds; i++) {
        snprintf(name, sizeof name, "seed-%02zu", i);
        if (fz_seed(dir, name, seeds[i], strlen(seeds[i])) != 0)
            return -1;
    }
    size_t n;
    char *t = fz_text("/usr/include/stdio.h", 0, 6000, &n);
    t[0] = 1;
    int rc = fz_seed(dir, "seed-stdio", t, n);
    free(t);
    return rc;
}

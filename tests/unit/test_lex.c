/*
 * test_lex.c — the code lexer (src/text/lex_code.c): lexemes of C, Python, JavaScript, Go,
 * Rust, Java and shell (comments skipped, strings, numbers, identifiers), Markdown fences, shape
 * hashes (renamed identifiers and changed literals keep the shape, keywords do not), and the
 * same streaming and restart properties as the prose tokenizer.
 */
#include "test_util.h"

typedef struct lexlist {
    rc_token v[512];
    size_t n;
} lexlist;

static lexlist lex(const char *s)
{
    lexlist l;
    rc_tok_state st = {0, true};
    l.n = rc_lex_code((const uint8_t *)s, strlen(s), true, &st, l.v, 512);
    return l;
}

/* Asserts the lexemes of `code` are the items of `expect`, separated by single spaces, where a
 * lexeme holding spaces is written with \x01 in their place (byte-exact otherwise). */
static void expect_lexemes(const char *code, const char *expect)
{
    lexlist l = lex(code);
    char *copy = strdup(expect), *save = NULL;
    size_t i = 0;
    for (char *w = strtok_r(copy, " ", &save); w; w = strtok_r(NULL, " ", &save), i++) {
        for (char *p = w; *p; p++)
            if (*p == '\x01')
                *p = ' ';
        if (i >= l.n)
            fail_msg("%s: only %zu lexemes; next expected '%s'", code, l.n, w);
        size_t len = l.v[i].end - l.v[i].start;
        if (len != strlen(w) || memcmp(code + l.v[i].start, w, len) != 0)
            fail_msg("%s: lexeme %zu is '%.*s', expected '%s'", code, i, (int)len,
                     code + l.v[i].start, w);
    }
    if (i != l.n)
        fail_msg("%s: %zu lexemes, expected %zu", code, l.n, i);
    free(copy);
}

static void test_c(void **state)
{
    (void)state;
    expect_lexemes("int main(void) { /* comment */ return 0; } // tail",
                   "int main ( void ) { return 0 ; }");
    expect_lexemes("#include <stdio.h>\n#define N 10", "# include <stdio.h> # define N 10");
    expect_lexemes("char *s = \"a \\\" b\"; char c = '\\n';", "char * s = \"a\x01\\\"\x01"
                                                              "b\" ; char c = '\\n' ;");
    expect_lexemes("x = 0x1F + 1e10 + 3.14 + 10UL;", "x = 0x1F + 1e10 + 3.14 + 10UL ;");
    expect_lexemes("a->b", "a - > b");
    /* An unclosed block comment is punctuation, not the rest of the text. */
    expect_lexemes("a /* b", "a / * b");
}

/* Issue 13, point 3: glibc writes its preprocessor lines with a space or tab after the `#`
 * (`# define`, `# include`, `#\tif`); at the start of a line and followed by a preprocessor
 * keyword such a `#` is code, not a shell or Python comment. */
static void test_preprocessor_lines(void **state)
{
    (void)state;
    expect_lexemes("# define X 1\n#\tif defined (Y)\n#  include <a.h>\n# endif\n",
                   "# define X 1 # if defined ( Y ) # include <a.h> # endif");
    expect_lexemes("#ifndef _A_H\n# define _A_H 1\n#endif /* _A_H */",
                   "# ifndef _A_H # define _A_H 1 # endif");
    expect_lexemes("  # undef FOO\n\t# ifdef BAR\n  # else\n", "# undef FOO # ifdef BAR # else");
    expect_lexemes("# pragma once\n# error \"no\"\n# elif __GNUC__ >= 3\n",
                   "# pragma once # error \"no\" # elif __GNUC__ > = 3");
    /* Comments that merely start with such a word stay comments. */
    expect_lexemes("# if the user wants it\nx = 1", "x = 1");
    expect_lexemes("# define the function below\ny = 2", "y = 2");
    expect_lexemes("# include this in the docs\nz", "z");
    expect_lexemes("# else branch: nothing\nw", "w");
    /* Not at the start of a line: a comment, as before. */
    expect_lexemes("x = 1 # define Y 2\n", "x = 1");
    expect_lexemes("x = 1 # endif\n", "x = 1");
    /* After a fence or a comment line, a new line starts. */
    expect_lexemes("```c\n# define N 4\n```", "# define N 4");
    expect_lexemes("// note\n# include <b.h>", "# include <b.h>");
}

static void test_python_and_shell(void **state)
{
    (void)state;
    expect_lexemes("def f(x):  # comment\n    return 'a#b'", "def f ( x ) : return 'a#b'");
    expect_lexemes("s = \"\"\"doc\nstring\"\"\"\nt = 1", "s = \"\"\"doc\nstring\"\"\" t = 1");
    expect_lexemes("#!/bin/sh\necho \"hi\" # comment\nexit 0", "echo \"hi\" exit 0");
    expect_lexemes("x = 1 ## doubled", "x = 1");
    expect_lexemes("#\nfoo", "foo");
}

static void test_js_go_rust_java(void **state)
{
    (void)state;
    expect_lexemes("const f = x => `a ${x}\nb`;", "const f = x = > `a\x01${x}\nb` ;");
    expect_lexemes("s := `raw\nstring`", "s : = `raw\nstring`");
    /* Without knowing the language, 'a>(x: &' reads as a quoted string: the same on both sides
     * of a comparison, so matching is not affected, only the lexemes' split. */
    expect_lexemes("fn f<'a>(x: &'a str) {}", "fn f < 'a>(x:\x01&' a str ) { }");
    expect_lexemes("public static void main(String[] args) {}",
                   "public static void main ( String [ ] args ) { }");
    expect_lexemes("let café = 1;", "let café = 1 ;");
}

static void test_markdown_fences(void **state)
{
    (void)state;
    expect_lexemes("Here:\n```python\nx = 1\n```\nDone.", "Here : x = 1 Done .");
    expect_lexemes("~~~\ny\n~~~", "y");
    expect_lexemes("inline `code` here", "inline `code` here");
    expect_lexemes("a `b c` d", "a `b\x01"
                                "c` d");
}

static bool same_exact(const char *a, const char *b)
{
    lexlist x = lex(a), y = lex(b);
    bool same = x.n == y.n;
    for (size_t i = 0; same && i < x.n; i++)
        same = x.v[i].hash == y.v[i].hash;
    return same;
}

static bool same_shape(const char *a, const char *b)
{
    lexlist x = lex(a), y = lex(b);
    bool same = x.n == y.n;
    for (size_t i = 0; same && i < x.n; i++)
        same = x.v[i].shape == y.v[i].shape;
    return same;
}

/* Every keyword keeps its identity (the table stays in byte order: no keyword twice, and the
 * lookup's hash table finds each); names that merely resemble one are identifiers. */
static void test_keywords(void **state)
{
    (void)state;
    size_t n = 0;
    for (const char *k; (k = rc_lex_keyword(n)) != NULL; n++) {
        if (n > 0)
            assert_true(strcmp(rc_lex_keyword(n - 1), k) < 0);
        if (same_shape(k, "zq"))
            fail_msg("keyword '%s' has the shape of an identifier", k);
    }
    assert_true(n > 100);
    const char *names[] = {"whilst", "For", "iff", "a", "zzzz", "Trues", "yields", "abstrac"};
    for (size_t i = 0; i < sizeof names / sizeof *names; i++)
        if (!same_shape(names[i], "zq"))
            fail_msg("'%s' is not an identifier", names[i]);
}

static void test_shapes(void **state)
{
    (void)state;
    /* Whitespace, line breaks and comments do not matter. */
    assert_true(same_exact("a=b+c;", "a =\n  b /* why */ + c ; // done"));
    /* Renamed identifiers and changed literals keep the shape, not the lexemes. */
    assert_true(same_shape("int total = count + 1;", "int sum = n + 2;"));
    assert_false(same_exact("int total = count + 1;", "int sum = n + 2;"));
    assert_true(same_shape("s = \"abc\"", "t = 'xyz'"));
    /* Keywords and punctuation keep their identity. */
    assert_false(same_shape("for (i = 0; i < n; i++)", "while (i = 0; i < n; i++)"));
    assert_false(same_shape("a + b", "a - b"));
    /* An identifier named like a class is not confused with it. */
    assert_false(same_shape("N", "1"));
    /* Preprocessor directives are keywords: a #define line is no #include or #ifdef line. */
    assert_false(same_shape("#define A 1", "#undef A 1"));
    assert_false(same_shape("#include <a>", "#pragma <a>"));
    assert_false(same_shape("#ifdef X", "#name X"));
    assert_true(same_shape("#define A 1", "#define B 2"));
}

/* The header of an #include is one string lexeme, as a quoted one is: two lists of different
 * headers share no lexeme but `#` and `include`, not every `<`, `/`, `.` and `h`. */
static void test_include_headers(void **state)
{
    (void)state;
    expect_lexemes("#include <linux/slab.h>\n#include \"core.h\"\n",
                   "# include <linux/slab.h> # include \"core.h\"");
    expect_lexemes("  #  include_next <stdlib.h>\n#import <Foundation/Foundation.h>",
                   "# include_next <stdlib.h> # import <Foundation/Foundation.h>");
    assert_true(same_shape("#include <linux/slab.h>", "#include <linux/delay.h>"));
    assert_true(same_shape("#include <a.h>", "#include \"a.h\""));
    /* A header is as long as its line allows; without `>` the `<` is punctuation. */
    expect_lexemes("#include <a.h\nx", "# include < a . h x");
    /* Not after #include at the start of a line: comparisons and templates as before. */
    expect_lexemes("if (a <b.h> c) include <x>", "if ( a < b . h > c ) include < x >");
    expect_lexemes("x = 1; #include <a.h>", "x = 1 ; # include < a . h >");
    expect_lexemes("std::vector<int> v;", "std : : vector < int > v ;");
}

/* Perl's POD is documentation: skipped like a comment, from a line starting with a POD command
 * to the line of `=cut` (or a Markdown fence that ends the answer's code block first); Ruby's
 * `=begin` alone on its line ends at `=end`; a block that never closes is no POD. After
 * `__END__` or `__DATA__` alone on a line comes data (and POD), up to a fence or the end. */
static void test_pod(void **state)
{
    (void)state;
    expect_lexemes("my $x = 1;\n=head1 AUTHORS\n\nJane Doe <jane@example.org>\n\n=cut\nprint $x;",
                   "my $x = 1 ; print $x ;");
    expect_lexemes("=pod\n\ntext\n=cutter\nmore\n=cut\n1;", "1 ;");
    expect_lexemes("x\n=begin\ncomment\n=end\ny", "x y");
    expect_lexemes("x\n=begin html\n<p>\n=end html\n\nPOD goes on\n=cut\ny", "x y");
    expect_lexemes("=cut\nz", "z");
    expect_lexemes("```perl\nx;\n=head1 NAME\nA - b\n```\n```c\nint y;\n```", "x ; int y ;");
    /* Never closed: an answer's line, code after it. */
    expect_lexemes("=item 3\nint x;", "= item 3 int x ;");
    expect_lexemes("sub f {}\n=head1 X\n", "sub f { } = head1 X");
    /* Not POD: not at the start of a line, no POD command, or a formula. */
    expect_lexemes("a\n=b;", "a = b ;");
    expect_lexemes("x =head1\n=cut", "x = head1");
    expect_lexemes("=SUM(A1:A3)\n=items\n=cut", "= SUM ( A1 : A3 ) = items");
    /* __END__ and __DATA__ */
    expect_lexemes("print 1;\n__END__\n=head1 AUTHORS\nJane\n", "print 1 ;");
    expect_lexemes("a\n__DATA__\r\nraw data\n```\n```py\nb = 2\n```", "a b = 2");
    expect_lexemes("x = __END__\ny", "x = __END__ y");
    expect_lexemes("__END__ = 1\ny", "__END__ = 1 y");
}

/* ==== streaming and restart ==== */

static const char *const pieces[] = {
    "int ",
    "x",
    " = ",
    "42",
    ";\n",
    "/* c */",
    "// line\n",
    "# comment\n",
    "#include ",
    "<a/b.h>",
    "=head1 X\n",
    "=cut\n",
    "=begin\n",
    "=end\n",
    "__END__\n",
    "```\n",
    "# define ",
    "#\tif X\n",
    "# endif ",
    "\"str\\\"ing\" ",
    "'c' ",
    "`tmpl\n`",
    "\"\"\"doc\"\"\" ",
    "foo(",
    ")",
    "{",
    "}",
    "0x1f ",
    "3.5 ",
    "a->b ",
    "```py\n",
    "caf\xc3\xa9 ",
    "'",
    "\n",
    "  ",
    "/*",
    "*/",
};

static char *random_code(rng *r, size_t n, size_t *len)
{
    char *s = malloc(n * 16 + 1);
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        const char *p = pieces[rng_below(r, sizeof pieces / sizeof *pieces)];
        memcpy(s + m, p, strlen(p));
        m += strlen(p);
    }
    s[m] = 0;
    *len = m;
    return s;
}

static void test_streaming_and_restart(void **state)
{
    (void)state;
    rng r = rng_seeded(51);
    for (int it = 0; it < iterations(2000); it++) {
        size_t len;
        char *s = random_code(&r, 1 + rng_below(&r, 50), &len);
        rc_token whole[1024], got[1024];
        rc_tok_state st = {0, true};
        size_t n = rc_lex_code((const uint8_t *)s, len, true, &st, whole, 1024);
        /* Growing prefixes, cut anywhere. */
        size_t ng = 0, avail = 0;
        rc_tok_state ss = {0, true};
        while (avail < len) {
            avail += 1 + rng_below(&r, 6); /* (not inside RC_MIN: it evaluates twice) */
            if (avail > len)
                avail = len;
            ng += rc_lex_code((const uint8_t *)s, avail, false, &ss, got + ng, 1024 - ng);
        }
        ng += rc_lex_code((const uint8_t *)s, len, true, &ss, got + ng, 1024 - ng);
        assert_int_equal(ng, n);
        for (size_t i = 0; i < n; i++) {
            assert_int_equal(got[i].hash, whole[i].hash);
            assert_int_equal(got[i].start, whole[i].start);
            assert_int_equal(got[i].end, whole[i].end);
        }
        /* Restarting at the end of any lexeme. */
        if (n > 1) {
            size_t i = 1 + rng_below(&r, n - 1);
            rc_tok_state rs = {whole[i - 1].end, false};
            size_t nr = rc_lex_code((const uint8_t *)s, len, true, &rs, got, 1024);
            assert_int_equal(nr, n - i);
            for (size_t k = 0; k < nr; k++) {
                assert_int_equal(got[k].hash, whole[i + k].hash);
                assert_int_equal(got[k].shape, whole[i + k].shape);
            }
        }
        free(s);
    }
}

static void test_real_source_is_lexed(void **state)
{
    (void)state;
    /* Files Debian ships: every byte of a lexeme is inside the text, lexemes do not overlap,
     * and a comment's words never appear as lexemes. */
    const char *files[] = {"/usr/include/stdio.h", "/usr/lib/python3.11/textwrap.py"};
    for (size_t f = 0; f < 2; f++) {
        size_t len = 0;
        char *text = read_file(files[f], &len);
        if (!text)
            fail_msg("%s is missing (shipped by libc6-dev / python3.11)", files[f]);
        rc_tok_state st = {0, true};
        rc_token t[4096];
        uint64_t prev_end = 0, total = 0;
        size_t n;
        while ((n = rc_lex_code((const uint8_t *)text, len, true, &st, t, 4096)) > 0) {
            for (size_t i = 0; i < n; i++) {
                assert_true(t[i].start >= prev_end && t[i].end > t[i].start && t[i].end <= len);
                prev_end = t[i].end;
            }
            total += n;
        }
        assert_true(total > 1000);
        free(text);
    }
}

/* glibc's headers write most directives as `# define`: every one of them is code (the lines of
 * features.h that are preprocessor definitions, counted with a plain scan here, each give a `#`
 * lexeme followed by `define`). */
static void test_glibc_header_directives(void **state)
{
    (void)state;
    size_t len = 0;
    char *text = read_file("/usr/include/features.h", &len);
    if (!text)
        fail_msg("/usr/include/features.h is missing (shipped by libc6-dev)");
    size_t want = 0;
    for (size_t i = 0; i < len; i++) {
        if (i > 0 && text[i - 1] != '\n')
            continue;
        size_t k = i;
        while (k < len && (text[k] == ' ' || text[k] == '\t'))
            k++;
        if (k >= len || text[k] != '#')
            continue;
        k++;
        while (k < len && (text[k] == ' ' || text[k] == '\t'))
            k++;
        want += len - k > 7 && memcmp(text + k, "define", 6) == 0 &&
                (text[k + 6] == ' ' || text[k + 6] == '\t');
    }
    rc_tok_state st = {0, true};
    rc_token *t = malloc(len * sizeof *t);
    size_t n = rc_lex_code((const uint8_t *)text, len, true, &st, t, len), got = 0;
    for (size_t i = 0; i + 1 < n; i++)
        got += t[i].end - t[i].start == 1 && text[t[i].start] == '#' &&
               t[i + 1].end - t[i + 1].start == 6 &&
               memcmp(text + t[i + 1].start, "define", 6) == 0;
    assert_true(want > 50);
    assert_int_equal(got, want);
    free(t);
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_c),
        cmocka_unit_test(test_preprocessor_lines),
        cmocka_unit_test(test_include_headers),
        cmocka_unit_test(test_pod),
        cmocka_unit_test(test_python_and_shell),
        cmocka_unit_test(test_js_go_rust_java),
        cmocka_unit_test(test_markdown_fences),
        cmocka_unit_test(test_shapes),
        cmocka_unit_test(test_keywords),
        cmocka_unit_test(test_streaming_and_restart),
        cmocka_unit_test(test_real_source_is_lexed),
        cmocka_unit_test(test_glibc_header_directives),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * lex_code.c — the code lexer, the counterpart of the prose tokenizer for source code. One
 * lexer for every language (C family, Python, JavaScript/TypeScript, Java, Go, Rust, shell, ...),
 * so that a piece of code lexes the same whatever file or model output it appears in and no
 * language detection is needed: comments and whitespace are skipped; identifiers and keywords,
 * numbers, string literals and single punctuation characters are lexemes. Each lexeme has an
 * exact hash (its bytes) and a shape hash (identifiers -> I, numbers -> N, strings -> S,
 * keywords and punctuation as they are), so renamed copies share shapes.
 *
 * Rules: `//` line and slash-star block comments everywhere; `#` starts a line comment when
 * followed by whitespace, `!` or `#` or at the end of a line (Python, shell, Perl, Ruby, `#!`)
 * and is a lexeme otherwise (C's #include, #define) — and also at the start of a line when
 * spaces or tabs and a preprocessor directive follow it (glibc's `# define`, `#\tif`; see
 * preprocessor_line: a comment such as `# if the user...` stays a comment); strings are "...",
 * '...' and `...` with backslash escapes, and Python's triple quotes; a "..." or '...' that does
 * not close on its line is a lone quote lexeme (Rust lifetimes, apostrophes); a block comment or
 * triple-quoted string that never closes is punctuation; Markdown fences (```lang) are skipped like
 * comments. The header of `#include <stdio.h>` (`#include_next`, `#import`) is one string lexeme,
 * as "stdio.h" is. Perl's POD (a line starting with `=head1`, `=item`, `=pod`... up to the line
 * of `=cut`, or the end of the text) and Ruby's `=begin`...`=end` are skipped like comments:
 * they are documentation, which the words' channel reads as prose.
 */
#include "rc_text.h"

#include <pthread.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

#define LEX_SEED 0x636f64656c657831ULL   /* exact hashes of lexemes */
#define SHAPE_SEED 0x7368617065303031ULL /* shape hashes */
#define NEED_MORE SIZE_MAX

/* Keywords of the languages recite lexes keep their identity in the shape hash (so that `for`
 * and `while` differ), while other identifiers all become I; so do the C preprocessor's
 * directives (`#define` is not `#include`, and no name). In byte order (strcmp): none twice. */
/* clang-format off */
#define KW(s) {s, sizeof s - 1}
/* clang-format on */
static const struct {
    const char *s;
    size_t n;
} keywords[] = {
    KW("False"),     KW("None"),       KW("True"),     KW("abstract"),  KW("and"),
    KW("as"),        KW("async"),      KW("auto"),     KW("await"),     KW("bool"),
    KW("boolean"),   KW("break"),      KW("byte"),     KW("case"),      KW("catch"),
    KW("chan"),      KW("char"),       KW("class"),    KW("const"),     KW("continue"),
    KW("def"),       KW("default"),    KW("defer"),    KW("define"),    KW("del"),
    KW("delete"),    KW("do"),         KW("done"),     KW("double"),    KW("elif"),
    KW("else"),      KW("endif"),      KW("enum"),     KW("esac"),      KW("except"),
    KW("export"),    KW("extends"),    KW("extern"),   KW("false"),     KW("fi"),
    KW("final"),     KW("finally"),    KW("float"),    KW("fn"),        KW("for"),
    KW("foreach"),   KW("from"),       KW("func"),     KW("function"),  KW("global"),
    KW("go"),        KW("goto"),       KW("if"),       KW("ifdef"),     KW("ifndef"),
    KW("impl"),      KW("implements"), KW("import"),   KW("in"),        KW("include"),
    KW("inline"),    KW("instanceof"), KW("int"),      KW("interface"), KW("is"),
    KW("lambda"),    KW("let"),        KW("local"),    KW("long"),      KW("loop"),
    KW("map"),       KW("match"),      KW("mod"),      KW("mut"),       KW("namespace"),
    KW("new"),       KW("nil"),        KW("nonlocal"), KW("not"),       KW("null"),
    KW("or"),        KW("package"),    KW("pass"),     KW("pragma"),    KW("private"),
    KW("protected"), KW("pub"),        KW("public"),   KW("raise"),     KW("range"),
    KW("register"),  KW("return"),     KW("select"),   KW("short"),     KW("signed"),
    KW("sizeof"),    KW("static"),     KW("struct"),   KW("super"),     KW("switch"),
    KW("template"),  KW("then"),       KW("this"),     KW("throw"),     KW("throws"),
    KW("trait"),     KW("true"),       KW("try"),      KW("type"),      KW("typedef"),
    KW("typename"),  KW("typeof"),     KW("undef"),    KW("union"),     KW("unsafe"),
    KW("unsigned"),  KW("use"),        KW("using"),    KW("var"),       KW("virtual"),
    KW("void"),      KW("volatile"),   KW("where"),    KW("while"),     KW("with"),
    KW("yield"),
};
#undef KW

/* Looked up in an open-addressing table of a cheap hash of the name's length and three of its
 * bytes, made once per process: a binary search over the sorted table cost ~37 % of lexing
 * (a linear scan with strlen per keyword, before it, ~10 % of a check on code-heavy outputs). */
#define KW_SLOTS 512               /* a power of two, over 4 times the keywords */
static uint8_t kw_slots[KW_SLOTS]; /* keyword index + 1; 0: free */
static pthread_once_t tables_once = PTHREAD_ONCE_INIT;

static size_t kw_hash(const uint8_t *s, size_t n)
{
    return ((size_t)s[0] * 31u + (size_t)s[n - 1] * 17u + (size_t)s[n / 2] * 7u + n * 101u) &
           (KW_SLOTS - 1);
}

static void kw_init(void)
{
    for (size_t i = 0; i < RC_ARRAY_LEN(keywords); i++) {
        size_t h = kw_hash((const uint8_t *)keywords[i].s, keywords[i].n);
        while (kw_slots[h])
            h = (h + 1) & (KW_SLOTS - 1);
        kw_slots[h] = (uint8_t)(i + 1);
    }
}

/* The exact and shape hashes of each one-byte ASCII lexeme (punctuation, mostly: nearly half of
 * a text's lexemes), made with the keyword table. */
static uint64_t byte_hash[128], byte_shape[128];
static uint64_t shape_hash(const void *p, size_t n);

static void lex_ascii_init(void);

static void tables_init(void)
{
    kw_init();
    lex_ascii_init();
    for (unsigned b = 0; b < 128; b++) {
        uint8_t c = (uint8_t)b;
        byte_hash[b] = XXH3_64bits_withSeed(&c, 1, LEX_SEED);
        byte_shape[b] = shape_hash(&c, 1);
    }
}

static bool is_keyword(const uint8_t *s, size_t n)
{
    if (n < 2 || n > 10)
        return false;
    for (size_t h = kw_hash(s, n); kw_slots[h]; h = (h + 1) & (KW_SLOTS - 1)) {
        size_t k = kw_slots[h] - 1u;
        if (keywords[k].n == n && memcmp(keywords[k].s, s, n) == 0)
            return true;
    }
    return false;
}

const char *rc_lex_keyword(size_t i)
{
    return i < RC_ARRAY_LEN(keywords) ? keywords[i].s : NULL;
}

/* ==== character classes ==== */

/* The code point at s[i]; *n its length in bytes, 0 when cut by the end of a non-final buffer. */
static inline int32_t cp_at(const uint8_t *s, size_t len, size_t i, bool final, size_t *n)
{
    if (s[i] < 0x80) {
        *n = 1;
        return s[i];
    }
    int32_t cp;
    bool inv;
    *n = rc_utf8_decode(s, len, i, final, &cp, &inv);
    return cp;
}

static bool is_space(int32_t c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f' ||
           c == 0x00a0 || c == 0xfeff || c == 0x2028 || c == 0x2029;
}

static bool ident_start(int32_t c)
{
    if (c < 0x80)
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == '$';
    return rc_cp_is_word(c);
}

static bool ident_part(int32_t c)
{
    return ident_start(c) || (c >= '0' && c <= '9');
}

/* ident_part of an ASCII byte. */
static const uint8_t ident_ascii[128] = {
    ['$'] = 1, ['0'] = 1, ['1'] = 1, ['2'] = 1, ['3'] = 1, ['4'] = 1, ['5'] = 1, ['6'] = 1,
    ['7'] = 1, ['8'] = 1, ['9'] = 1, ['A'] = 1, ['B'] = 1, ['C'] = 1, ['D'] = 1, ['E'] = 1,
    ['F'] = 1, ['G'] = 1, ['H'] = 1, ['I'] = 1, ['J'] = 1, ['K'] = 1, ['L'] = 1, ['M'] = 1,
    ['N'] = 1, ['O'] = 1, ['P'] = 1, ['Q'] = 1, ['R'] = 1, ['S'] = 1, ['T'] = 1, ['U'] = 1,
    ['V'] = 1, ['W'] = 1, ['X'] = 1, ['Y'] = 1, ['Z'] = 1, ['_'] = 1, ['a'] = 1, ['b'] = 1,
    ['c'] = 1, ['d'] = 1, ['e'] = 1, ['f'] = 1, ['g'] = 1, ['h'] = 1, ['i'] = 1, ['j'] = 1,
    ['k'] = 1, ['l'] = 1, ['m'] = 1, ['n'] = 1, ['o'] = 1, ['p'] = 1, ['q'] = 1, ['r'] = 1,
    ['s'] = 1, ['t'] = 1, ['u'] = 1, ['v'] = 1, ['w'] = 1, ['x'] = 1, ['y'] = 1, ['z'] = 1};

/* What an ASCII byte starts, for the lexer's first look at it: whitespace and punctuation are
 * taken at once (with a line break noted); the rest go the general way. */
enum {
    LX_OTHER = 0, /* not ASCII: decoded first */
    LX_SPACE,     /* space, tab */
    LX_BREAK,     /* line feed, carriage return, vertical tab, form feed */
    LX_COMMENT,   /* may open a comment or a fence: / # ` ~ */
    LX_NAME,      /* letters, _ and $ */
    LX_DIGIT,
    LX_QUOTE, /* " and ' (` is LX_COMMENT, then a string if no fence) */
    LX_PUNCT  /* any other byte: a lexeme of its own */
};
static uint8_t lex_ascii[128];

static void lex_ascii_init(void)
{
    for (unsigned b = 0; b < 128; b++) {
        uint8_t k = LX_PUNCT;
        if (b == ' ' || b == '\t')
            k = LX_SPACE;
        else if (b == '\n' || b == '\r' || b == '\v' || b == '\f')
            k = LX_BREAK;
        else if (b == '/' || b == '#' || b == '`' || b == '~')
            k = LX_COMMENT;
        else if (ident_start((int32_t)b))
            k = LX_NAME;
        else if (b >= '0' && b <= '9')
            k = LX_DIGIT;
        else if (b == '"' || b == '\'')
            k = LX_QUOTE;
        lex_ascii[b] = k;
    }
}

/* ==== scanning ==== */

/* What one call has learnt about constructs that never close. Without it, a text of openers
 * that never close (a slash-star and a space, or a quote and a backslash, repeated) is scanned
 * to its end (or its line's) once per opener: quadratic, seconds for 100 KB. A non-final call
 * needs none of it: it stops at the first construct still open. */
typedef struct unclosed {
    size_t close_none[3];          /* no star-slash, ''' or """ at or after this offset */
    size_t pod_none[2];            /* no line of =cut, =end (pod_end) at or after this offset */
    size_t str_from[3], str_to[3]; /* a string of this quote opened in [from, to) runs unclosed
                                      to `to` (its newline, or the end of the text) */
} unclosed;

static unsigned quote_slot(uint8_t q)
{
    return q == '"' ? 0u : q == '\'' ? 1u : 2u;
}

/* End of the string opened by quote q at s[i]: after the closing quote; 0 when it does not
 * close on its line (backquotes may span lines); NEED_MORE when the buffer ends first. */
static size_t string_end(const uint8_t *s, size_t len, size_t i, bool final, uint8_t q, unclosed *u)
{
    /* An earlier string of q that ran unclosed from before i to past it went over this quote
     * (escaped: it would have closed there otherwise), then on from i + 1 in the state this one
     * starts in: this one ends unclosed where that one did. */
    unsigned slot = quote_slot(q);
    if (i >= u->str_from[slot] && i < u->str_to[slot])
        return 0;
    size_t k = i + 1;
    for (; k < len; k++) {
        if (s[k] == '\\') {
            k++;
            continue;
        }
        if (s[k] == q)
            return k + 1;
        if ((s[k] == '\n' || s[k] == '\r') && q != '`')
            break;
    }
    if (k >= len && !final)
        return NEED_MORE;
    u->str_from[slot] = i;
    u->str_to[slot] = k < len ? k : len;
    return 0;
}

/* Position after the first `close` at or after `from`; 0 if there is none (final) or
 * NEED_MORE. `*none`: an earlier search found none from there on. */
static size_t find_close(const uint8_t *s, size_t len, size_t from, bool final, const char *close,
                         size_t *none)
{
    if (final && from >= *none)
        return 0;
    size_t cl = strlen(close);
    /* Each candidate first byte by memchr (vectorized), then the rest compared. */
    for (size_t k = from; k + cl <= len;) {
        const uint8_t *at = memchr(s + k, close[0], len - cl + 1 - k);
        if (!at)
            break;
        k = (size_t)(at - s);
        if (memcmp(at + 1, close + 1, cl - 1) == 0)
            return k + cl;
        k++;
    }
    if (!final)
        return NEED_MORE;
    *none = from;
    return 0;
}

/* End of the line comment starting at s[i]: its newline (excluded), or the end of the text. */
static size_t line_comment_end(const uint8_t *s, size_t len, size_t i, bool final)
{
    const uint8_t *nl = memchr(s + i, '\n', len - i);
    if (nl)
        return (size_t)(nl - s);
    return final ? len : NEED_MORE;
}

/* ==== preprocessor lines written with a space after the `#` ==== */

static bool is_ident_byte(uint8_t b)
{
    return (b >= 'a' && b <= 'z') || (b >= 'A' && b <= 'Z') || (b >= '0' && b <= '9') || b == '_';
}

/* Position after spaces and tabs from k (at most e). */
static size_t skip_blank(const uint8_t *s, size_t k, size_t e)
{
    while (k < e && (s[k] == ' ' || s[k] == '\t'))
        k++;
    return k;
}

/* Whether the name at s[k, e) looks like a macro and not an English word: anything but a run of
 * lower-case letters followed by another lower-case word (`# define the function below`). */
static bool macro_name(const uint8_t *s, size_t k, size_t e)
{
    size_t n = k;
    bool plain = true; /* lower-case letters only */
    while (n < e && is_ident_byte(s[n])) {
        plain &= s[n] >= 'a' && s[n] <= 'z';
        n++;
    }
    if (n == k || (s[k] >= '0' && s[k] <= '9'))
        return false;
    if (!plain || n == e || s[n] == '(')
        return true;
    size_t r = skip_blank(s, n, e);
    return r == e || !(s[r] >= 'a' && s[r] <= 'z') || s[r] == '/';
}

/* Whether the line s[i, e), which starts with `#` and a space or tab, is a C preprocessor
 * directive: the directive's name, then what that directive takes (a macro name, a header, a
 * condition, the end of the line...), so that comments opening with the same English word are
 * still read as comments. */
static bool preprocessor_line(const uint8_t *s, size_t i, size_t e)
{
    size_t k = skip_blank(s, i + 1, e), n = k;
    while (n < e && is_ident_byte(s[n]))
        n++;
    size_t kl = n - k, r = skip_blank(s, n, e);
    if (kl < 2 || kl > 12 ||
        (n < e && !(s[n] == ' ' || s[n] == '\t' || s[n] == '\r' || s[n] == '(' || s[n] == '<' ||
                    s[n] == '"' || s[n] == '/')))
        return false;
    const char *kw = (const char *)s + k;
#define KW(w) (kl == sizeof(w) - 1 && memcmp(kw, w, kl) == 0)
    bool end = r == e || s[r] == '\r' ||
               (r + 1 < e && s[r] == '/' && (s[r + 1] == '*' || s[r + 1] == '/'));
    if (KW("define") || KW("undef") || KW("ifdef") || KW("ifndef"))
        return r < e && macro_name(s, r, e);
    if (KW("include") || KW("include_next") || KW("import"))
        return r < e && (s[r] == '<' || s[r] == '"');
    if (KW("if") || KW("elif"))
        return r < e &&
               (s[r] == '!' || s[r] == '(' || s[r] == '_' || (s[r] >= 'A' && s[r] <= 'Z') ||
                (s[r] >= '0' && s[r] <= '9') || (e - r >= 7 && memcmp(s + r, "defined", 7) == 0));
    if (KW("else") || KW("endif"))
        return end;
    if (KW("pragma"))
        return r < e &&
               (s[r] == '_' || (s[r] >= 'a' && s[r] <= 'z') || (s[r] >= 'A' && s[r] <= 'Z'));
    if (KW("error") || KW("warning"))
        return r < e && (s[r] == '"' || (s[r] >= 'A' && s[r] <= 'Z'));
    if (KW("line"))
        return r < e && s[r] >= '0' && s[r] <= '9';
#undef KW
    return false;
}

/* Where the comment starting at s[i] ends; 0 when there is no comment at i; NEED_MORE. A
 * Markdown code fence (three or more backquotes or tildes, and the rest of its line: ```python)
 * counts as a comment: model output wraps code in them. `line_start`: only spaces and tabs
 * precede s[i] on its line. */
static size_t comment_end(const uint8_t *s, size_t len, size_t i, bool final, bool line_start,
                          unclosed *u)
{
    if (s[i] == '`' || s[i] == '~') {
        size_t k = i;
        while (k < len && s[k] == s[i])
            k++;
        if (k == len && !final)
            return NEED_MORE;
        return k - i >= 3 ? line_comment_end(s, len, k, final) : 0;
    }
    if (s[i] != '/' && s[i] != '#')
        return 0;
    if (i + 1 >= len)
        return final ? (s[i] == '#' ? len : 0) : NEED_MORE;
    uint8_t b1 = s[i + 1];
    if (s[i] == '/') {
        if (b1 == '/')
            return line_comment_end(s, len, i, final);
        if (b1 == '*')
            return find_close(s, len, i + 2, final, "*/", &u->close_none[0]); /* 0: punct. */
        return 0;
    }
    if (b1 == ' ' || b1 == '\t' || b1 == '!' || b1 == '#' || b1 == '\n' || b1 == '\r') {
        size_t e = line_comment_end(s, len, i, final);
        if (e != NEED_MORE && line_start && (b1 == ' ' || b1 == '\t') && preprocessor_line(s, i, e))
            return 0; /* a `#` lexeme, then the directive */
        return e;
    }
    return 0;
}

/* ==== Perl's POD (and Ruby's =begin blocks) and __END__: documentation and data, read as a
 * comment ==== */

/* The POD commands a block may open with (perlpod): `=` at the start of a line, then one of
 * them and a space or the line's end. Only these: a line such as `=SUM(A1:A3)` is not POD. */
static bool pod_command(const uint8_t *s, size_t n)
{
    static const char *const cmds[] = {"pod",   "head1", "head2", "head3",    "head4",
                                       "head5", "head6", "over",  "item",     "back",
                                       "begin", "end",   "for",   "encoding", "cut"};
    for (size_t k = 0; k < RC_ARRAY_LEN(cmds); k++)
        if (strlen(cmds[k]) == n && memcmp(cmds[k], s, n) == 0)
            return true;
    return false;
}

/* The first line starting at or after `from` (a line's start) that is a Markdown fence (```
 * or ~~~: a model's code block ends there) or, when `close` is given (`=cut`, `=end`), starts
 * with it as a word: its start, with *closed telling which; len when there is none (final);
 * NEED_MORE when the text's last line, not ended yet, could still become one. */
static size_t block_close_line(const uint8_t *s, size_t len, size_t from, bool final,
                               const char *close, bool *closed)
{
    size_t cl = close ? strlen(close) : 0;
    for (size_t p = from; p < len;) {
        const uint8_t *nl = memchr(s + p, '\n', len - p);
        if (!nl && !final)
            return NEED_MORE;
        size_t end = nl ? (size_t)(nl - s) : len;
        if (close && end - p >= cl && memcmp(s + p, close, cl) == 0 &&
            (p + cl == end || !is_ident_byte(s[p + cl]))) {
            *closed = true;
            return p;
        }
        if (end - p >= 3 && (s[p] == '`' || s[p] == '~') && s[p + 1] == s[p] && s[p + 2] == s[p]) {
            *closed = false;
            return p;
        }
        p = end + 1;
    }
    return final ? len : NEED_MORE;
}

/* Where the POD block opened by the `=` at s[i] (the first byte of its line) ends: at the end
 * of the line of its closing `=cut` (`=end` for Ruby's bare `=begin`), or at a fence that ends
 * the model's code block first; 0 when s[i] opens no block, or one that never closes (a
 * model's answer may hold a line such as `=item 3` with code after it; POD at the end of a
 * Perl file follows `__END__`); NEED_MORE. Its text is documentation: the words' channel reads
 * it as prose, the lexemes' channel skips it (a list of authors is not code with renamed
 * identifiers). `none[k]`: no closing line of kind k (=cut, =end) from there on (final). */
static size_t pod_end(const uint8_t *s, size_t len, size_t i, bool final, size_t none[2])
{
    size_t k = i + 1;
    while (k < len && k - i <= 9 && is_ident_byte(s[k]))
        k++;
    if (k == len && !final)
        return NEED_MORE;
    if (k == i + 1 || !pod_command(s + i + 1, k - i - 1) ||
        (k < len && s[k] != ' ' && s[k] != '\t' && s[k] != '\r' && s[k] != '\n'))
        return 0;
    if (k - i - 1 == 3 && memcmp(s + i + 1, "cut", 3) == 0)
        return line_comment_end(s, len, i, final); /* a stray `=cut`: its line */
    bool ruby = false;                             /* `=begin` alone on its line */
    if (k - i - 1 == 5 && memcmp(s + i + 1, "begin", 5) == 0) {
        size_t r = skip_blank(s, k, len);
        if (r == len && !final)
            return NEED_MORE;
        ruby = r == len || s[r] == '\n' || s[r] == '\r';
    }
    size_t eol = line_comment_end(s, len, i, final);
    if (eol == NEED_MORE)
        return NEED_MORE;
    if (eol == len || (final && eol + 1 >= none[ruby]))
        return 0;
    bool closed = false;
    size_t r = block_close_line(s, len, eol + 1, final, ruby ? "=end" : "=cut", &closed);
    if (r == NEED_MORE)
        return NEED_MORE;
    if (r == len) {
        none[ruby] = eol + 1;
        return 0;
    }
    return closed ? line_comment_end(s, len, r, final) : r;
}

/* Where the data after Perl's or Ruby's `__END__` (`__DATA__`), alone at the start of a line
 * at s[i, e), ends: at a fence, or the end of the text; 0 when this is no such line;
 * NEED_MORE. */
static size_t data_end(const uint8_t *s, size_t len, size_t i, size_t e, bool final)
{
    if (!((e - i == 7 && memcmp(s + i, "__END__", 7) == 0) ||
          (e - i == 8 && memcmp(s + i, "__DATA__", 8) == 0)) ||
        (i > 0 && s[i - 1] != '\n' && s[i - 1] != '\r'))
        return 0;
    size_t eol = line_comment_end(s, len, e, final);
    if (eol == NEED_MORE)
        return NEED_MORE;
    size_t r = skip_blank(s, e, eol); /* nothing else on its line but a \r */
    if (r < eol && !(r == eol - 1 && s[r] == '\r'))
        return 0;
    if (eol == len)
        return len;
    bool closed = false;
    return block_close_line(s, len, eol + 1, final, NULL, &closed);
}

/* ==== include and import lines (for the matcher: their words are no evidence) ==== */

#define IMPORT_LINE_HEAD 512 /* bytes of a line that can tell an import line */

/* Past the word w at s[i] when it is there as a whole word (s has n bytes), else 0. */
static size_t word_at(const uint8_t *s, size_t n, size_t i, const char *w)
{
    size_t k = strlen(w);
    if (i + k > n || memcmp(s + i, w, k) != 0 || (i + k < n && is_ident_byte(s[i + k])))
        return 0;
    return i + k;
}

bool rc_import_line(const uint8_t *s, size_t n)
{
    n = RC_MIN(n, (size_t)IMPORT_LINE_HEAD); /* a stream asks again while a line grows */
    size_t i = skip_blank(s, 0, n), j;
    if (i < n && s[i] == '#') { /* a header named: "# include the header" is a comment */
        i = skip_blank(s, i + 1, n);
        if (!(j = word_at(s, n, i, "include")) && !(j = word_at(s, n, i, "include_next")) &&
            !(j = word_at(s, n, i, "import")))
            return false;
        j = skip_blank(s, j, n);
        return j < n && (s[j] == '<' || s[j] == '"');
    }
    if ((j = word_at(s, n, i, "import")) != 0)
        return j < n && (s[j] == ' ' || s[j] == '\t');
    if ((j = word_at(s, n, i, "from")) == 0 || j >= n || !(s[j] == ' ' || s[j] == '\t'))
        return false;
    j = skip_blank(s, j, n);
    size_t name = j;
    while (j < n && (is_ident_byte(s[j]) || s[j] == '.'))
        j++;
    if (j == name || j >= n || !(s[j] == ' ' || s[j] == '\t'))
        return false;
    return word_at(s, n, skip_blank(s, j, n), "import") != 0;
}

/* ==== the header of an #include: one string, as with quotes ==== */

/* Whether the `<` at s[i] follows `#include`, `#include_next` or `#import` (spaces and tabs
 * allowed around the name) at the start of its line: then `<linux/slab.h>` is one string
 * lexeme, like "slab.h", and two lists of different headers differ in their strings instead
 * of sharing every `<`, `/`, `.` and `h` with a renamed name between them. */
static bool include_header(const uint8_t *s, size_t i)
{
    size_t j = i;
    while (j > 0 && (s[j - 1] == ' ' || s[j - 1] == '\t'))
        j--;
    size_t e = j;
    while (j > 0 && is_ident_byte(s[j - 1]))
        j--;
    size_t n = e - j;
    if (!((n == 7 && memcmp(s + j, "include", 7) == 0) ||
          (n == 12 && memcmp(s + j, "include_next", 12) == 0) ||
          (n == 6 && memcmp(s + j, "import", 6) == 0)))
        return false;
    while (j > 0 && (s[j - 1] == ' ' || s[j - 1] == '\t'))
        j--;
    if (j == 0 || s[j - 1] != '#')
        return false;
    for (j--; j > 0 && (s[j - 1] == ' ' || s[j - 1] == '\t'); j--)
        ;
    return j == 0 || s[j - 1] == '\n' || s[j - 1] == '\r';
}

/* End of the header name opened by the `<` at s[i]: after its `>`; 0 when the line has none
 * (then `<` is punctuation); NEED_MORE. */
static size_t header_end(const uint8_t *s, size_t len, size_t i, bool final)
{
    size_t k = i + 1;
    while (k < len && k - i < 4 * RC_MAX_TOKEN_CP && s[k] != '>' && s[k] != '\n' && s[k] != '\r')
        k++;
    if (k == len && !final)
        return NEED_MORE;
    return k < len && s[k] == '>' ? k + 1 : 0;
}

static uint64_t shape_hash(const void *p, size_t n)
{
    return XXH3_64bits_withSeed(p, n, SHAPE_SEED);
}

uint64_t rc_code_class_shape(char cls)
{
    const char name[2] = {1, cls};
    return shape_hash(name, 2);
}

size_t rc_lex_code(const uint8_t *s, size_t len, bool final, rc_tok_state *st, rc_token *out,
                   size_t cap)
{
    /* Class shapes use a byte no lexeme starts with, so they never equal a lexeme's shape. */
    const uint64_t shape_ident = shape_hash("\1I", 2), shape_num = shape_hash("\1N", 2),
                   shape_str = shape_hash("\1S", 2);
    pthread_once(&tables_once, tables_init);
    size_t i = (size_t)st->pos, ntok = 0;
    rc_tok_state resume = *st;
    /* Only spaces, tabs and comments since the last line break (or the text's start): a `#`
     * here may open a preprocessor directive. A restart at a token's end is never at a line's
     * start, so resuming with false there is exact. */
    bool line_start = st->line_start;
    unclosed u = {{SIZE_MAX, SIZE_MAX, SIZE_MAX},
                  {SIZE_MAX, SIZE_MAX},
                  {SIZE_MAX, SIZE_MAX, SIZE_MAX},
                  {0, 0, 0}};
    while (i < len && ntok < cap) {
        uint8_t kind = s[i] < 0x80 ? lex_ascii[s[i]] : LX_OTHER;
        if (kind == LX_SPACE || kind == LX_BREAK) {
            i++;
            line_start |= kind == LX_BREAK;
            resume = (rc_tok_state){i, line_start};
            continue;
        }
        /* `=` first on its line may open a POD block: skipped below, like a comment. */
        bool pod = s[i] == '=' && (i == 0 || s[i - 1] == '\n' || s[i - 1] == '\r');
        if (kind == LX_PUNCT && !pod) { /* a byte of its own: its hashes from the tables */
            if (s[i] == '<' && include_header(s, i)) {
                size_t e = header_end(s, len, i, final);
                if (e == NEED_MORE)
                    break;
                if (e) {
                    out[ntok++] =
                        (rc_token){XXH3_64bits_withSeed(s + i, e - i, LEX_SEED), shape_str, i, e};
                    i = e;
                    line_start = false;
                    resume = (rc_tok_state){i, false};
                    continue;
                }
            }
            out[ntok++] = (rc_token){byte_hash[s[i]], byte_shape[s[i]], i, i + 1};
            i++;
            line_start = false;
            resume = (rc_tok_state){i, false};
            continue;
        }
        size_t n;
        int32_t c = cp_at(s, len, i, final, &n);
        if (!n)
            break;
        if (kind == LX_OTHER && is_space(c)) {
            i += n;
            if (c == 0x2028 || c == 0x2029)
                line_start = true;
            resume = (rc_tok_state){i, line_start};
            continue;
        }
        size_t e = kind == LX_COMMENT ? comment_end(s, len, i, final, line_start, &u)
                   : pod              ? pod_end(s, len, i, final, u.pod_none)
                                      : 0;
        if (e == NEED_MORE)
            break;
        if (e) {
            i = e;
            resume = (rc_tok_state){i, line_start};
            continue;
        }
        line_start = false;
        uint64_t shape;
        if (ident_start(c)) {
            e = i + n;
            size_t lim = RC_MIN(len, i + 4 * RC_MAX_TOKEN_CP);
            for (;;) {
                while (e < lim && s[e] < 0x80 && ident_ascii[s[e]])
                    e++; /* ASCII, the common case */
                if (e >= len) {
                    if (!final)
                        goto done;
                    break;
                }
                if (s[e] < 0x80 || e - i >= 4 * RC_MAX_TOKEN_CP)
                    break;
                size_t m;
                int32_t d = cp_at(s, len, e, final, &m);
                if (!m)
                    goto done;
                if (!ident_part(d))
                    break;
                e += m;
            }
            if (s[i] == '_' && e - i <= 8) {
                size_t d = data_end(s, len, i, e, final);
                if (d == NEED_MORE)
                    goto done;
                if (d) {
                    i = d;
                    line_start = true;
                    resume = (rc_tok_state){i, true};
                    continue;
                }
            }
            shape = is_keyword(s + i, e - i) ? shape_hash(s + i, e - i) : shape_ident;
        } else if (c >= '0' && c <= '9') {
            /* Digits, letters (0x1f, 1e10, 10UL), underscores, and a dot before a digit. */
            e = i + 1;
            while (e < len && e - i < 4 * RC_MAX_TOKEN_CP &&
                   ((s[e] < 0x80 && ident_part(s[e])) ||
                    (s[e] == '.' && e + 1 < len && s[e + 1] >= '0' && s[e + 1] <= '9')))
                e++;
            if ((e == len || (s[e] == '.' && e + 1 == len)) && !final)
                goto done;
            shape = shape_num;
        } else if (c == '"' || c == '\'' || c == '`') {
            if (i + 2 >= len && !final)
                goto done;
            bool triple = c != '`' && i + 2 < len && s[i + 1] == c && s[i + 2] == c;
            if (triple) {
                char close[4] = {(char)c, (char)c, (char)c, 0};
                e = find_close(s, len, i + 3, final, close, &u.close_none[c == '"' ? 1 : 2]);
            } else {
                e = string_end(s, len, i, final, (uint8_t)c, &u);
            }
            if (e == NEED_MORE)
                goto done;
            if (e) {
                shape = shape_str;
            } else { /* unclosed: a lone quote */
                e = i + 1;
                shape = shape_hash(s + i, 1);
            }
        } else {
            e = i + n;         /* punctuation and anything else: one character */
            if (s[i] < 0x80) { /* a byte of its own: its hashes from the tables */
                out[ntok++] = (rc_token){byte_hash[s[i]], byte_shape[s[i]], i, e};
                i = e;
                resume = (rc_tok_state){i, false};
                continue;
            }
            shape = shape_hash(s + i, n);
        }
        out[ntok++] = (rc_token){XXH3_64bits_withSeed(s + i, e - i, LEX_SEED), shape, i, e};
        i = e;
        resume = (rc_tok_state){i, false};
    }
    if (i >= len && final)
        resume = (rc_tok_state){i, line_start};
done:
    *st = resume;
    return ntok;
}

/* ==== the mode of a file ==== */

int rc_mode_of_path(const char *path)
{
    static const char *const code_ext[] = {
        "c",    "h",      "cc",     "cpp",   "cxx", "hh", "hpp",   "hxx",    "c++",  "h++",   "cs",
        "java", "js",     "jsx",    "mjs",   "cjs", "ts", "tsx",   "go",     "rs",   "py",    "pyi",
        "pyx",  "rb",     "pl",     "pm",    "php", "sh", "bash",  "zsh",    "ksh",  "swift", "kt",
        "kts",  "scala",  "m",      "mm",    "lua", "r",  "sql",   "css",    "scss", "less",  "vue",
        "dart", "groovy", "gradle", "cmake", "mk",  "el", "clj",   "hs",     "ml",   "mli",   "f90",
        "f",    "for",    "jl",     "zig",   "nim", "v",  "sv",    "vhd",    "asm",  "s",     "S",
        "awk",  "tcl",    "ps1",    "bat",   "y",   "l",  "proto", "thrift",
    };
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    if (strcmp(base, "Makefile") == 0 || strcmp(base, "makefile") == 0 ||
        strcmp(base, "CMakeLists.txt") == 0 || strcmp(base, "Dockerfile") == 0)
        return RECITE_MODE_CODE;
    const char *dot = strrchr(base, '.');
    if (!dot || dot == base)
        return RECITE_MODE_PROSE;
    for (size_t i = 0; i < RC_ARRAY_LEN(code_ext); i++)
        if (strcmp(dot + 1, code_ext[i]) == 0)
            return RECITE_MODE_CODE;
    return RECITE_MODE_PROSE;
}

int rc_mode_of_text(const char *path, const uint8_t *text, size_t len)
{
    if (rc_mode_of_path(path) == RECITE_MODE_CODE)
        return RECITE_MODE_CODE;
    /* No extension to go by: a script says what it is on its first line (`#!/bin/sh`). */
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    const char *dot = strrchr(base, '.');
    bool no_ext = !dot || dot == base;
    return no_ext && len >= 2 && text[0] == '#' && text[1] == '!' ? RECITE_MODE_CODE
                                                                  : RECITE_MODE_PROSE;
}

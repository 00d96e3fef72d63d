/*
 * rc_text.h — UTF-8 decoding and tokenization: the first stage of both the index builder and
 * the checker, which must agree byte for byte. A token is a 64-bit hash of a normalized word and
 * the byte span [start, end) of the word in the original text.
 */
#ifndef RC_TEXT_H
#define RC_TEXT_H

#include "../common/rc_common.h"

/* Bumped whenever the tokens produced for some text change; the index records it. */
#define RC_TOKENIZER_VERSION                                                                       \
    3 /* 2: number ranges with en dashes (issue 13), `# define` lines,                             \
         preprocessor directives are keywords of code shapes; 3: `#include <h>` one string,        \
         Perl POD skipped by the code lexer */

/* Longest word, in code points, before it is cut into several tokens. Keeps the scratch space
 * bounded and pathological inputs (a 50 MB run of letters) linear. */
#define RC_MAX_TOKEN_CP 256

typedef struct rc_token {
    uint64_t hash;       /* of the normalized word (prose) or the lexeme's bytes (code) */
    uint64_t shape;      /* code: of the lexeme's class (identifier, number, string) or itself;
                            prose: equal to hash */
    uint64_t start, end; /* byte offsets in the text, end exclusive */
} rc_token;

/* Where tokenizing resumes. Restartable at any token end: {end of previous token, false}, or at
 * the beginning of a text: {0, true}. */
typedef struct rc_tok_state {
    uint64_t pos;
    bool line_start;
} rc_tok_state;

/* Scratch space of a tokenizer; one per thread. */
typedef struct rc_tokenizer {
    uint8_t raw[RC_MAX_TOKEN_CP * 4 + 8];
    int32_t cps[RC_MAX_TOKEN_CP * 18 + 8];
    uint8_t norm[RC_MAX_TOKEN_CP * 18 * 4 + 8];
} rc_tokenizer;

/* ==== UTF-8 and character classes (utf8.c) ==== */

/* Decodes one code point at s[i] (i < len). Invalid or overlong sequences decode one byte as
 * Windows-1252 (so Latin-1 files still make sense). Returns the byte length consumed, or 0 when
 * !final and a valid sequence is cut by the end of the buffer. `*invalid` is set when the byte
 * was not valid UTF-8. */
size_t rc_utf8_decode(const uint8_t *s, size_t len, size_t i, bool final, int32_t *cp,
                      bool *invalid);

/* Number of bytes of s that are not part of a valid UTF-8 sequence. */
uint64_t rc_utf8_count_invalid(const uint8_t *s, size_t len);

/* Classes of characters for tokenizing. */
enum rc_char_class {
    C_OTHER = 0, /* punctuation, symbols, controls: separate words */
    C_WORD,      /* letters, marks, digits */
    C_CJK,       /* ideographs and kana: one token each */
    C_HSPACE,
    C_NEWLINE,
    C_APOS,  /* apostrophes: dropped inside a word */
    C_HYPHEN /* hyphens: dropped inside a word, join a word broken across lines */
};

/* The class of an ASCII byte, and of any code point. */
extern const uint8_t rc_ascii_class[128];
int rc_cp_class(int32_t cp);

/* ==== tokens (tokenize.c, lex_code.c) ==== */

/* Tokenizes prose from st->pos, writing at most `cap` tokens to `out`, and returns how many.
 * When !final, a token that could still change with more input (a word touching the end of the
 * buffer, a hyphen before a possible line break) is not emitted. st is advanced to where the
 * next call should resume. Normalization: Unicode NFKD + case folding, apostrophes and hyphens
 * inside words dropped, words hyphenated across a line break joined, a 1-3 digit number at the
 * start of a line (line numbers of court filings and listings) skipped, CJK characters one
 * token each. */
size_t rc_tokenize_prose(rc_tokenizer *tz, const uint8_t *buf, size_t len, bool final,
                         rc_tok_state *st, rc_token *out, size_t cap);

/* Lexes source code from st->pos like rc_tokenize_prose (same resume contract): comments and
 * whitespace skipped; identifiers, numbers, string literals and punctuation characters are
 * lexemes, with an exact and a shape hash. See lex_code.c for the rules. */
size_t rc_lex_code(const uint8_t *buf, size_t len, bool final, rc_tok_state *st, rc_token *out,
                   size_t cap);

/* Whether the line s[0, n) is an include or import line: `#include`, `#include_next`,
 * `#import` with a header (C, C++, Objective-C); `import x` (Python, Java, JavaScript, Go);
 * `from x import y` (Python: a line of prose of that form is taken for one too). Only the
 * line's first 512 bytes are looked at. */
bool rc_import_line(const uint8_t *s, size_t n);

/* The i-th keyword whose identity the shape hash keeps (in byte order), NULL past the last. */
const char *rc_lex_keyword(size_t i);

/* Tokenizes in the given mode (RECITE_MODE_PROSE or RECITE_MODE_CODE). */
size_t rc_tokenize(int mode, rc_tokenizer *tz, const uint8_t *buf, size_t len, bool final,
                   rc_tok_state *st, rc_token *out, size_t cap);

/* The shape of a class of lexemes: 'I' identifiers, 'N' numbers, 'S' strings (lex_code.c). */
uint64_t rc_code_class_shape(char cls);

/* Whether a code point is a letter, mark or digit (part of a word or identifier). */
bool rc_cp_is_word(int32_t cp);

/* The mode of a file by its name: RECITE_MODE_CODE for source code extensions (and Makefile,
 * Dockerfile...), RECITE_MODE_PROSE otherwise (lex_code.c). */
int rc_mode_of_path(const char *path);
/* The same, then by content when the name has no extension: a `#!` first line is a script. */
int rc_mode_of_text(const char *path, const uint8_t *text, size_t len);

/* Hash of a normalized word: the seed is part of the format. */
#define RC_TOKEN_SEED 0x7265636974653031ULL

/* Appends the normalized punctuation found in s[from, to) to `out` (at most cap bytes; returns
 * the length). Whitespace, word characters, line-number furniture and hyphens at a line break are
 * dropped; quotes become ' or ", dashes -, ellipses "...". Two spans whose words match are
 * `normalized` copies when their signatures are equal too. */
size_t rc_punct_signature(const uint8_t *s, size_t len, size_t from, size_t to, uint8_t *out,
                          size_t cap);

/* Whether a[afrom, ato) and b[bfrom, bto) have the same punctuation signature; scratch_a and
 * scratch_b (cap bytes each) hold the signatures when they have to be built (text that is not
 * plain ASCII, or holds hyphens). */
bool rc_punct_same(const uint8_t *a, size_t alen, size_t afrom, size_t ato, const uint8_t *b,
                   size_t blen, size_t bfrom, size_t bto, uint8_t *scratch_a, uint8_t *scratch_b,
                   size_t cap);

#endif /* RC_TEXT_H */

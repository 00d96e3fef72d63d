/*
 * match_imports.c — words of include and import lines. `#include <linux/slab.h>`, `import os`,
 * `from a.b import c`: their words are the names of other files, and unrelated files of one
 * project share runs of them (three include lines are 13 words). A run of words counts only
 * its words on other lines towards min_tokens, in a check and in a stream alike: an include
 * list is no evidence of copying a work (the lexer makes each header one lexeme for the same
 * reason). The output's prose tokens are classified once, line by line, as they come; which
 * lines are import lines is the lexer's to say (rc_import_line, lex_code.c).
 */
#include "rc_match.h"

#include <stdlib.h>

/* Makes sure the line the counting is on knows its end (the '\n' the text holds after it),
 * searching only text not searched before. */
static void find_line_end(rc_matcher *c)
{
    rc_imports *im = &c->imports;
    if (im->line_end != UINT64_MAX || im->searched >= c->text.n)
        return;
    const uint8_t *nl = memchr(c->text.v + im->searched, '\n', c->text.n - im->searched);
    if (nl)
        im->line_end = (uint64_t)(nl - c->text.v);
    im->searched = c->text.n;
}

/* The line's bytes so far (all of them once its end is in the text). */
static size_t line_bytes(const rc_matcher *c, const uint8_t **s)
{
    const rc_imports *im = &c->imports;
    uint64_t end = im->line_end != UINT64_MAX ? im->line_end : c->text.n;
    *s = c->text.v + im->line;
    return (size_t)(end - im->line);
}

/* Whether the line is an import line: one itself, or a continuation of one (after a line
 * ending in a backslash, or inside its brackets: `from a import (` ... `)`, `import {` ...
 * `} from "b";`). */
static bool line_is_import(const rc_matcher *c)
{
    const rc_imports *im = &c->imports;
    const uint8_t *s;
    size_t n = line_bytes(c, &s);
    return im->depth > 0 || im->backslash || rc_import_line(s, n);
}

/* Classifies the line, whole, and what it carries to the next one. */
static void classify(rc_matcher *c)
{
    rc_imports *im = &c->imports;
    const uint8_t *s;
    size_t n = line_bytes(c, &s);
    im->is = im->depth > 0 || im->backslash || rc_import_line(s, n);
    im->classified = true;
    uint32_t depth = 0;
    bool backslash = false;
    if (im->is) {
        depth = im->depth;
        for (size_t i = 0; i < n; i++)
            if (s[i] == '(' || s[i] == '{')
                depth++;
            else if ((s[i] == ')' || s[i] == '}') && depth)
                depth--;
        while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
            n--;
        backslash = n && s[n - 1] == '\\';
    }
    im->next_depth = depth;
    im->next_backslash = backslash;
}

/* Moves to the line starting at `at`: the line before is whole, and classified now if no token
 * of it was. */
static void start_line(rc_matcher *c, uint64_t at)
{
    rc_imports *im = &c->imports;
    if (!im->classified)
        classify(c);
    im->depth = im->next_depth;
    im->backslash = im->next_backslash;
    im->line = at;
    im->line_end = UINT64_MAX;
    im->searched = at;
    im->classified = false;
    find_line_end(c);
}

/* Counts the prose tokens before `upto` into im->before, except those of a last line the text
 * has not ended yet (its class may still change: `from x` becomes `from x import y`) unless
 * the text is final. */
static int extend(rc_matcher *c, uint64_t upto, bool final)
{
    rc_imports *im = &c->imports;
    const rc_token *toks = c->chans[RC_CH_PROSE].stream->toks.v;
    if (!im->before.n) {
        if (RC_VEC_PUSH(im->before, 0) != RECITE_OK)
            return RECITE_ENOMEM;
        *im = (rc_imports){.before = im->before, .line_end = UINT64_MAX};
        find_line_end(c);
    }
    if (upto > im->before.n - 1 && RC_VEC_RESERVE(im->before, upto + 1) != RECITE_OK)
        return RECITE_ENOMEM;
    for (uint64_t i = im->before.n - 1; i < upto; i++) {
        find_line_end(c);
        while (im->line_end != UINT64_MAX && toks[i].start > im->line_end)
            start_line(c, im->line_end + 1);
        if (im->line_end == UINT64_MAX && !final)
            break;
        if (!im->classified) /* once, when the line is whole */
            classify(c);
        im->before.v[i + 1] = im->before.v[i] + im->is;
        im->before.n = i + 2;
    }
    return RECITE_OK;
}

int rc_match_import_words(rc_matcher *c, uint64_t q0, uint64_t len, bool final, uint64_t *out,
                          recite_error *err)
{
    *out = 0;
    uint64_t end = RC_MIN(q0 + len, (uint64_t)c->chans[RC_CH_PROSE].stream->toks.n);
    if (q0 >= end)
        return RECITE_OK;
    if (extend(c, end, final) != RECITE_OK)
        return rc_error_set(err, RECITE_ENOMEM, "out of memory");
    const rc_imports *im = &c->imports;
    uint64_t counted = im->before.n - 1, mid = RC_MIN(end, counted);
    if (q0 < mid)
        *out = im->before.v[mid] - im->before.v[q0];
    /* The rest is on the last line, not ended yet: by what of it the text holds. */
    if (end > counted && line_is_import(c))
        *out += end - RC_MAX(q0, counted);
    return RECITE_OK;
}

void rc_imports_reset(rc_imports *im)
{
    im->before.n = 0; /* the rest is set when counting starts */
}

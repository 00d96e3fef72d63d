/*
 * fuzz_stream.c — the streaming checker against the batch checker (a differential test, not
 * just "no crash"): the same text fed with recite_checker_feed in random pieces (splits inside
 * UTF-8 sequences and inside words, empty feeds, a reset after unrelated text, polls between
 * pieces) must give what recite_check_text gives — every match, every work, the flags and the
 * JSON report; polls must never clear text not fed or go back. The index
 * is built once per process from texts Debian ships (license texts as prose, C headers as code,
 * a duplicate), in an ordinary and a text-free variant, with a background index; checkers of
 * several option sets (defaults, exact only, all works, tiny limits, background, higher
 * thresholds, text-free) are reused across inputs, so state left over by one input shows too.
 *
 * Input: byte 0 picks the option set, bytes 1-8 seed the chunking, the rest is the text, where
 * 0x01-0x03 followed by three bytes (a, b, c) stand for an excerpt of an indexed text (a picks
 * the text and the length, b and c where it starts): verbatim, normalized (upper case, lines
 * joined) or near (every seventh word dropped), so that inputs reach the matcher's deep paths.
 */
#include "fuzz.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_TEXT 32768

static const char *const lib_files[] = {
    "/usr/share/common-licenses/GPL-3",
    "/usr/share/common-licenses/Apache-2.0",
    "/usr/share/common-licenses/BSD",
    "/usr/share/common-licenses/MPL-2.0",
    "/usr/share/common-licenses/LGPL-2.1",
    "/usr/include/stdio.h",
    "/usr/include/string.h",
};
#define NLIB (sizeof lib_files / sizeof *lib_files)

static char *texts[NLIB];
static size_t text_lens[NLIB];
static recite_index *idx, *idx_free, *idx_bg;

enum { SET_DEFAULT, SET_EXACT, SET_ALL, SET_TINY, SET_BACKGROUND, SET_STRICT, SET_FREE, NSETS };
static recite_checker *batch[NSETS], *stream[NSETS];

static void make_checkers(int set)
{
    recite_check_options o = RECITE_CHECK_OPTIONS_INIT;
    const recite_index *ix = idx;
    switch (set) {
    case SET_EXACT:
        o.exact_only = 1;
        o.skip_cmi = 1;
        break;
    case SET_ALL:
        o.all_works = 1;
        o.min_similarity = 0.6;
        break;
    case SET_TINY:
        o.max_postings = 64;
        o.max_candidates = 2;
        o.max_matches = 3;
        o.common_sample = 1;
        break;
    case SET_BACKGROUND: o.background = idx_bg; break;
    case SET_STRICT:
        o.min_tokens = 20;
        o.code_min_tokens = 90;
        break;
    case SET_FREE: ix = idx_free; break;
    default: break;
    }
    recite_error err = {0};
    FZ_CHECK(recite_checker_create(&batch[set], ix, &o, &err) == RECITE_OK, "%s", err.message);
    FZ_CHECK(recite_checker_create(&stream[set], ix, &o, &err) == RECITE_OK, "%s", err.message);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    char *dir = fz_tmpdir("stream");
    char *paths[NLIB + 1], *bg_paths[2];
    for (size_t i = 0; i < NLIB; i++) {
        texts[i] = fz_text(lib_files[i], 0, 1 << 20, &text_lens[i]);
        const char *base = strrchr(lib_files[i], '/') + 1;
        FZ_CHECK(asprintf(&paths[i], "%s/%s%s", dir, base, strchr(base, '.') ? "" : ".txt") > 0,
                 "oom");
        FZ_CHECK(fz_write(paths[i], texts[i], text_lens[i]) == 0, "cannot write %s", paths[i]);
    }
    /* A copy: one cluster of two works. */
    FZ_CHECK(asprintf(&paths[NLIB], "%s/BSD-copy.txt", dir) > 0, "oom");
    FZ_CHECK(fz_write(paths[NLIB], texts[2], text_lens[2]) == 0, "cannot write");
    char *ix_dir, *free_dir, *bg_dir;
    FZ_CHECK(asprintf(&ix_dir, "%s/idx", dir) > 0 && asprintf(&free_dir, "%s/free", dir) > 0 &&
                 asprintf(&bg_dir, "%s/bg", dir) > 0,
             "oom");
    fz_build(ix_dir, (const char *const *)paths, NLIB + 1, RECITE_MODE_AUTO, 0, NULL, 0);
    fz_build(free_dir, (const char *const *)paths, NLIB + 1, RECITE_MODE_AUTO, 1, fz_key,
             sizeof fz_key);
    /* The background: public text that shares the Apache license with the library. */
    bg_paths[0] = paths[1];
    bg_paths[1] = "/usr/share/common-licenses/GPL-2";
    fz_build(bg_dir, (const char *const *)bg_paths, 2, RECITE_MODE_PROSE, 1, NULL, 0);
    recite_error err = {0};
    FZ_CHECK(recite_index_open(&idx, ix_dir, &err) == RECITE_OK, "%s", err.message);
    FZ_CHECK(recite_index_open_keyed(&idx_free, free_dir, fz_key, sizeof fz_key, &err) == RECITE_OK,
             "%s", err.message);
    FZ_CHECK(recite_index_open(&idx_bg, bg_dir, &err) == RECITE_OK, "%s", err.message);
    for (int s = 0; s < NSETS; s++)
        make_checkers(s);
    for (size_t i = 0; i <= NLIB; i++)
        free(paths[i]);
    free(ix_dir);
    free(free_dir);
    free(bg_dir);
    return 0;
}

/* ==== the text of an input ==== */

typedef struct buf {
    char *v;
    size_t n;
} buf;

static void put(buf *b, const char *s, size_t n)
{
    if (n > MAX_TEXT - b->n)
        n = MAX_TEXT - b->n;
    memcpy(b->v + b->n, s, n);
    b->n += n;
}

static void excerpt(buf *b, int op, uint8_t a, uint8_t hi, uint8_t lo)
{
    size_t t = a % NLIB, len = 16 + (size_t)(a >> 3) * 24;
    size_t start = (((size_t)hi << 8) | lo) * text_lens[t] / 65536;
    if (len > text_lens[t] - start)
        len = text_lens[t] - start;
    const char *s = texts[t] + start;
    if (op == 1) {
        put(b, s, len);
        return;
    }
    size_t word = 0;
    for (size_t i = 0; i < len && b->n < MAX_TEXT; i++) {
        char ch = s[i];
        if (op == 2) { /* normalized: case and line breaks */
            ch = (char)toupper((unsigned char)ch);
            if (ch == '\n')
                ch = ' ';
        } else if (ch == ' ' && ++word % 7 == 0) { /* near: drop a word */
            while (i + 1 < len && s[i + 1] != ' ')
                i++;
            continue;
        }
        b->v[b->n++] = ch;
    }
}

static void make_text(buf *b, const uint8_t *p, size_t n)
{
    b->v = malloc(MAX_TEXT);
    FZ_CHECK(b->v, "out of memory");
    b->n = 0;
    for (size_t i = 0; i < n && b->n < MAX_TEXT; i++) {
        if (p[i] >= 1 && p[i] <= 3 && i + 3 < n) {
            excerpt(b, p[i], p[i + 1], p[i + 2], p[i + 3]);
            i += 3;
        } else {
            b->v[b->n++] = (char)p[i];
        }
    }
}

/* ==== comparing results ==== */

static bool same_double(double a, double b)
{
    return a == b || (isnan(a) && isnan(b));
}

static void compare(const recite_result *a, const recite_result *b)
{
    FZ_CHECK(a->tokens == b->tokens && a->bytes == b->bytes && a->code_tokens == b->code_tokens,
             "stream: %llu tokens (%llu lexemes) of %llu bytes, batch: %llu (%llu) of %llu",
             (unsigned long long)b->tokens, (unsigned long long)b->code_tokens,
             (unsigned long long)b->bytes, (unsigned long long)a->tokens,
             (unsigned long long)a->code_tokens, (unsigned long long)a->bytes);
    FZ_CHECK(
        a->truncated == b->truncated && a->invalid_utf8 == b->invalid_utf8 &&
            a->common_others == b->common_others && a->text_free == b->text_free,
        "stream and batch differ in truncated (%d/%d), invalid_utf8, common_others (%llu/%llu)",
        b->truncated, a->truncated, (unsigned long long)b->common_others,
        (unsigned long long)a->common_others);
    FZ_CHECK(a->nmatches == b->nmatches, "stream: %zu matches, batch: %zu", b->nmatches,
             a->nmatches);
    for (size_t i = 0; i < a->nmatches; i++) {
        const recite_match *x = &a->matches[i], *y = &b->matches[i];
        FZ_CHECK(x->work == y->work && x->out_start == y->out_start && x->out_end == y->out_end &&
                     x->src_start == y->src_start && x->src_end == y->src_end &&
                     x->src_token == y->src_token && x->tokens == y->tokens && x->kind == y->kind &&
                     same_double(x->similarity, y->similarity) && x->common == y->common,
                 "match %zu: stream work %u out %llu-%llu src %llu-%llu %u tokens kind %d, batch "
                 "work %u out %llu-%llu src %llu-%llu %u tokens kind %d",
                 i, y->work, (unsigned long long)y->out_start, (unsigned long long)y->out_end,
                 (unsigned long long)y->src_start, (unsigned long long)y->src_end, y->tokens,
                 y->kind, x->work, (unsigned long long)x->out_start, (unsigned long long)x->out_end,
                 (unsigned long long)x->src_start, (unsigned long long)x->src_end, x->tokens,
                 x->kind);
        FZ_CHECK(x->out_start < x->out_end && x->out_end <= a->bytes, "match %zu out of the text",
                 i);
    }
    FZ_CHECK(a->nworks == b->nworks, "stream: %zu works, batch: %zu", b->nworks, a->nworks);
    for (size_t i = 0; i < a->nworks; i++) {
        const recite_work_hit *x = &a->works[i], *y = &b->works[i];
        FZ_CHECK(
            x->work == y->work && x->matches == y->matches &&
                x->tokens_covered == y->tokens_covered && x->longest_tokens == y->longest_tokens &&
                same_double(x->coverage, y->coverage) && x->common == y->common &&
                same_double(x->similarity, y->similarity) && x->cmi == y->cmi &&
                strcmp(x->license, y->license) == 0 && x->license_from == y->license_from &&
                strcmp(x->copyright, y->copyright) == 0 &&
                strcmp(x->cmi_found, y->cmi_found) == 0 &&
                x->cmi_found_start == y->cmi_found_start && x->cmi_found_end == y->cmi_found_end,
            "work %zu: stream work %u (%u matches, %llu tokens, cmi %d), batch work %u (%u "
            "matches, %llu tokens, cmi %d)",
            i, y->work, y->matches, (unsigned long long)y->tokens_covered, y->cmi, x->work,
            x->matches, (unsigned long long)x->tokens_covered, x->cmi);
    }
}

static char *report(const recite_index *ix, const buf *t, const recite_result *r)
{
    char *json = NULL;
    recite_error err = {0};
    int rc = recite_report_json(&json, ix, NULL, "in", t->v, t->n, r, &err);
    FZ_CHECK(rc == RECITE_OK && json, "report: %s", err.message);
    return json;
}

/* Feeds t in random pieces, polling now and then; checks what the checker holds and what the
 * polls say as it goes (cleared never goes back and never passes the text). */
static void feed_pieces(recite_checker *c, const buf *t, fz_rng *rng)
{
    size_t off = 0;
    uint64_t cleared = 0, tokens = 0;
    recite_error err = {0};
    bool polls = fz_below(rng, 2) == 0;
    while (off < t->n) {
        size_t n;
        switch (fz_below(rng, 6)) {
        case 0: n = 0; break;
        case 1: n = 1; break;
        case 2: n = 1 + (size_t)fz_below(rng, 4); break;
        case 3: n = 1 + (size_t)fz_below(rng, 64); break;
        case 4: n = 1 + (size_t)fz_below(rng, 4096); break;
        default: n = 1 + (size_t)fz_below(rng, 16); break;
        }
        if (n > t->n - off)
            n = t->n - off;
        FZ_CHECK(recite_checker_feed(c, t->v + off, n, &err) == RECITE_OK, "feed: %s", err.message);
        off += n;
        if (polls && fz_below(rng, 4) == 0) {
            recite_poll p;
            FZ_CHECK(recite_checker_poll(&p, c, &err) == RECITE_OK, "poll: %s", err.message);
            FZ_CHECK(p.cleared >= cleared && p.cleared <= off && p.tokens >= tokens,
                     "poll after %zu bytes: cleared %llu (was %llu), tokens %llu (were %llu)", off,
                     (unsigned long long)p.cleared, (unsigned long long)cleared,
                     (unsigned long long)p.tokens, (unsigned long long)tokens);
            for (size_t i = 0; i < p.nevents; i++)
                FZ_CHECK(p.events[i].match.out_start < p.events[i].match.out_end &&
                             p.events[i].match.out_end <= off,
                         "event %zu outside the text fed", i);
            cleared = p.cleared;
            tokens = p.tokens;
        }
        if (fz_below(rng, 16) == 0) {
            size_t held;
            const char *txt = recite_checker_text(c, &held);
            FZ_CHECK(held == off && (off == 0 || memcmp(txt, t->v, off) == 0),
                     "the checker holds %zu bytes after %zu were fed", held, off);
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 9)
        return 0;
    int set = data[0] % NSETS;
    uint64_t seed = 0;
    memcpy(&seed, data + 1, 8);
    fz_rng rng = {seed};
    buf t;
    make_text(&t, data + 9, size - 9);
    const recite_index *ix = set == SET_FREE ? idx_free : idx;

    recite_error err = {0};
    const recite_result *a = NULL, *b = NULL;
    FZ_CHECK(recite_check_text(&a, batch[set], t.v, t.n, &err) == RECITE_OK, "batch: %s",
             err.message);

    recite_checker *c = stream[set];
    if (fz_below(&rng, 4) == 0) { /* unrelated text first, then a reset */
        FZ_CHECK(recite_checker_feed(c, texts[0], 200, &err) == RECITE_OK, "%s", err.message);
        recite_checker_reset(c);
    }
    feed_pieces(c, &t, &rng);
    FZ_CHECK(recite_checker_finish(&b, c, &err) == RECITE_OK, "finish: %s", err.message);
    compare(a, b);
    if (getenv("FUZZ_VERBOSE"))
        fprintf(stderr, "set %d: %zu bytes, %zu matches, %zu works%s\n", set, t.n, a->nmatches,
                a->nworks, a->truncated ? ", truncated" : "");
    char *ja = report(ix, &t, a), *jb = report(ix, &t, b);
    FZ_CHECK(strcmp(ja, jb) == 0, "the JSON reports differ:\nbatch:  %.2000s\nstream: %.2000s", ja,
             jb);
    free(ja);
    free(jb);
    free(t.v);
    return 0;
}

int fuzz_seeds(const char *dir)
{
    /* Option set, chunking seed, then text with excerpt escapes. */
    static const struct {
        const char *name;
        const char *bytes;
        size_t len;
    } seeds[] = {
#define SEED(name, s) {name, s, sizeof s - 1}
        SEED("plain", "\0\1\2\3\4\5\6\7\x08Nothing here is recited; just a few words of prose."),
        SEED("gpl-verbatim", "\0\x11\x22\x33\x44\x55\x66\x77\x88Intro: \x01\xfc\x10\x00 end."),
        SEED("apache-normalized", "\0\x01\x01\x01\x01\x01\x01\x01\x01\x02\xfd\x20\x00"),
        SEED("mpl-near", "\x02\x09\x08\x07\x06\x05\x04\x03\x02\x03\xf8\x40\x00 tail"),
        SEED("bsd-copy", "\0\x42\x42\x42\x42\x42\x42\x42\x42\x01\xfe\x00\x00"),
        SEED("stdio-code", "\0\x13\x37\x13\x37\x13\x37\x13\x37```c\n\x01\xfa\x40\x00\n```"),
        SEED("two-works", "\x03\x99\x88\x77\x66\x55\x44\x33\x22\x01\xfc\x50\x00 and \x01\xf9\x30"
                          "\x00"),
        SEED("background", "\x04\x5a\x5a\x5a\x5a\x5a\x5a\x5a\x5a\x01\xfd\x00\x80"),
        SEED("strict", "\x05\x01\x02\x03\x04\x05\x06\x07\x08\x01\xfc\x20\x00"),
        SEED("text-free", "\x06\x10\x20\x30\x40\x50\x60\x70\x80\x01\xfc\x10\x00 \x02\xf8\x30"
                          "\x00"),
        SEED("invalid-utf8", "\0\xaa\xbb\xcc\xdd\xee\xff\x00\x11\xff\xfe \x01\xfc\x18\x00\xc3"),
#undef SEED
    };
    char name[64];
    for (size_t i = 0; i < sizeof seeds / sizeof *seeds; i++) {
        snprintf(name, sizeof name, "seed-%s", seeds[i].name);
        if (fz_seed(dir, name, seeds[i].bytes, seeds[i].len) != 0)
            return -1;
    }
    return 0;
}

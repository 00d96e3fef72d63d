/*
 * report_html_diff.c — the side-by-side evidence of one span in the HTML report: the output's
 * text and the work's, each with context, and for near spans the word-level differences. Both
 * spans are tokenized with the checker's own tokenizer (src/text) and aligned in token space
 * (banded edit distance: the matcher's near spans stay close to their diagonal), so "the same
 * word" means what it means to the checker.
 */
#include "rc_report_html.h"

/* Spans longer than this (tokens, either side) are shown without word-level differences. */
#define DIFF_MAX_TOKENS 20000
/* Half-width of the alignment band around the line from (0, 0) to (n, m). */
#define DIFF_BAND 96
/* Costs: a substitution is cheaper than a drop plus an insertion, and a renamed identifier
 * (same code shape) cheaper still, so that renames pair up. */
#define COST_INDEL 2
#define COST_SUB 3
#define COST_SAME_SHAPE 1

enum { OP_EQ = 0, OP_SUB, OP_REN, OP_INS, OP_DEL };

typedef RC_VEC(rc_token) tok_vec;

static int tokenize(tok_vec *v, rc_tokenizer *tz, int mode, const char *s, size_t n)
{
    rc_tok_state st = {0, true};
    size_t cap = n / 2 + 2;
    if (RC_VEC_RESERVE(*v, cap) != RECITE_OK)
        return RECITE_ENOMEM;
    for (;;) {
        size_t got =
            rc_tokenize(mode, tz, (const uint8_t *)s, n, true, &st, v->v + v->n, v->cap - v->n);
        v->n += got;
        if (v->n < v->cap)
            return RECITE_OK;
        if (RC_VEC_RESERVE(*v, v->cap * 2) != RECITE_OK)
            return RECITE_ENOMEM;
    }
}

/* ==== alignment ==== */

typedef struct alignment {
    uint8_t *op_out, *op_work; /* per token of each side */
    uint32_t *pair_out;        /* the work token a substituted output token stands for */
    size_t subs, renames, ins, dels;
} alignment;

static int64_t band_lo(size_t i, size_t n, size_t m, size_t w)
{
    int64_t c = n ? (int64_t)((uint64_t)i * m / n) : 0;
    return c - (int64_t)w;
}

/* Aligns a[0, n) with b[0, m): ops for each token of both sides. */
static int align(alignment *al, const rc_token *a, size_t n, const rc_token *b, size_t m)
{
    size_t w = DIFF_BAND;
    if (m + 1 <= 2 * w + 1 || n == 0)
        w = m + 1; /* the band holds every column: plain dynamic programming */
    size_t width = 2 * w + 1;
    size_t cells;
    if (rc_mul_overflows(n + 1, width, &cells))
        return RECITE_ENOMEM;
    uint8_t *dir = malloc(cells);
    uint32_t *prev = malloc(width * sizeof *prev), *cur = malloc(width * sizeof *cur);
    al->op_out = calloc(n + 1, 1);
    al->op_work = calloc(m + 1, 1);
    al->pair_out = calloc(n + 1, sizeof *al->pair_out);
    if (!dir || !prev || !cur || !al->op_out || !al->op_work || !al->pair_out) {
        free(dir), free(prev), free(cur);
        return RECITE_ENOMEM;
    }
    const uint32_t inf = UINT32_MAX / 4;
    for (size_t i = 0; i <= n; i++) {
        int64_t lo = band_lo(i, n, m, w), plo = i ? band_lo(i - 1, n, m, w) : 0;
        for (size_t k = 0; k < width; k++) {
            int64_t j = lo + (int64_t)k;
            uint32_t best = inf;
            uint8_t d = 0;
            if (j >= 0 && j <= (int64_t)m) {
                if (i == 0 && j == 0) {
                    best = 0;
                } else {
                    if (i > 0 && j > 0 && j - 1 - plo >= 0 && j - 1 - plo < (int64_t)width) {
                        const rc_token *x = &a[i - 1], *y = &b[j - 1];
                        uint32_t c = x->hash == y->hash     ? 0
                                     : x->shape == y->shape ? COST_SAME_SHAPE
                                                            : COST_SUB;
                        uint32_t v = prev[j - 1 - plo] + c;
                        if (v < best)
                            best = v, d = 1;
                    }
                    if (i > 0 && j - plo >= 0 && j - plo < (int64_t)width) {
                        uint32_t v = prev[j - plo] + COST_INDEL;
                        if (v < best)
                            best = v, d = 2;
                    }
                    if (k > 0) {
                        uint32_t v = cur[k - 1] + COST_INDEL;
                        if (v < best)
                            best = v, d = 3;
                    }
                }
            }
            cur[k] = best;
            dir[i * width + k] = d;
        }
        uint32_t *t = prev;
        prev = cur;
        cur = t;
    }
    /* Trace back from (n, m). */
    size_t i = n, j = m;
    while (i > 0 || j > 0) {
        int64_t k = (int64_t)j - band_lo(i, n, m, w);
        uint8_t d = (k >= 0 && k < (int64_t)width) ? dir[i * width + (size_t)k] : 0;
        if (d == 1) {
            i--, j--;
            if (a[i].hash != b[j].hash) {
                bool ren = a[i].shape == b[j].shape;
                al->op_out[i] = al->op_work[j] = ren ? OP_REN : OP_SUB;
                al->pair_out[i] = (uint32_t)j;
                ren ? al->renames++ : al->subs++;
            }
        } else if (d == 2) {
            al->op_out[--i] = OP_INS, al->ins++;
        } else if (d == 3) {
            al->op_work[--j] = OP_DEL, al->dels++;
        } else {
            break; /* cannot happen: (n, m) is reached from (0, 0) inside the band */
        }
    }
    free(dir), free(prev), free(cur);
    return RECITE_OK;
}

static void alignment_free(alignment *al)
{
    free(al->op_out);
    free(al->op_work);
    free(al->pair_out);
}

/* ==== panes ==== */

static const char *op_class(uint8_t op)
{
    switch (op) {
    case OP_SUB: return "d-sub";
    case OP_REN: return "d-ren";
    case OP_INS: return "d-ins";
    case OP_DEL: return "d-del";
    default: return NULL;
    }
}

static const char *op_title(uint8_t op, bool code)
{
    switch (op) {
    case OP_SUB: return code ? "changed" : "substituted";
    case OP_REN: return "renamed";
    case OP_INS: return "inserted: not in the work";
    case OP_DEL: return "dropped: in the work, not in the output";
    default: return "";
    }
}

/* The span of a pane, its tokens marked by ops (NULL: as it is). `other` and `pair` name the
 * token each substituted one stands for, in the title. */
static void span_body(rc_html *b, const rc_html_side *s, const rc_token *t, size_t nt,
                      const uint8_t *ops, const rc_html_side *other, const rc_token *ot,
                      const uint32_t *pair, bool code)
{
    const char *span = s->text + s->span_start;
    size_t len = s->span_end - s->span_start, at = 0;
    for (size_t i = 0; ops && i < nt; i++) {
        const char *cls = op_class(ops[i]);
        if (!cls || t[i].end > len)
            continue;
        rc_html_text(b, span + at, (size_t)t[i].start - at);
        rc_html_printf(b, "<span class=\"%s\" title=\"%s", cls, op_title(ops[i], code));
        if (pair && (ops[i] == OP_SUB || ops[i] == OP_REN)) {
            const rc_token *o = &ot[pair[i]];
            rc_html_puts(b, ": the work has ");
            rc_html_attr(b, other->text + other->span_start + o->start,
                         (size_t)(o->end - o->start));
        }
        rc_html_puts(b, "\">");
        rc_html_text(b, span + t[i].start, (size_t)(t[i].end - t[i].start));
        rc_html_puts(b, "</span>");
        at = (size_t)t[i].end;
    }
    rc_html_text(b, span + at, len - at);
}

static void pane(rc_html *b, const char *label, const rc_html_side *s,
                 const rc_html_span_view *view, const rc_token *t, size_t nt, const uint8_t *ops,
                 const rc_html_side *other, const rc_token *ot, const uint32_t *pair)
{
    rc_html_printf(b,
                   "<div class=\"pane\"><div class=\"pane-h\">%s <span class=\"off\">bytes "
                   "%llu&ndash;%llu</span></div><pre>",
                   label, (unsigned long long)(s->offset + s->span_start),
                   (unsigned long long)(s->offset + s->span_end));
    if (s->cut_before)
        rc_html_puts(b, "<span class=\"cut\">&hellip;</span>");
    rc_html_puts(b, "<span class=\"ctx\">");
    rc_html_text(b, s->text, s->span_start);
    rc_html_printf(b, "</span><mark class=\"%s\">", view->mark_class);
    span_body(b, s, t, nt, ops, other, ot, pair, view->mode == RECITE_MODE_CODE);
    rc_html_puts(b, "</mark><span class=\"ctx\">");
    rc_html_text(b, s->text + s->span_end, s->len - s->span_end);
    rc_html_puts(b, "</span>");
    if (s->cut_after)
        rc_html_puts(b, "<span class=\"cut\">&hellip;</span>");
    rc_html_puts(b, "</pre></div>");
}

/* "renamed: a → b, c → d" for code, each distinct pair once (at most 24). */
static void renames(rc_html *b, const alignment *al, const rc_html_side *out, const rc_token *a,
                    size_t n, const rc_html_side *work, const rc_token *w)
{
    size_t shown = 0, seen[24];
    rc_html_puts(b, "<p class=\"renames\">Renamed or changed: ");
    for (size_t i = 0; i < n && shown < RC_ARRAY_LEN(seen); i++) {
        if (al->op_out[i] != OP_REN)
            continue;
        const char *x = out->text + out->span_start + a[i].start;
        size_t xl = (size_t)(a[i].end - a[i].start);
        const rc_token *y = &w[al->pair_out[i]];
        bool dup = false;
        for (size_t k = 0; k < shown && !dup; k++) {
            const rc_token *p = &a[seen[k]], *q = &w[al->pair_out[seen[k]]];
            dup = (size_t)(p->end - p->start) == xl && p->hash == a[i].hash && q->hash == y->hash;
        }
        if (dup)
            continue;
        seen[shown++] = i;
        rc_html_puts(b, shown > 1 ? ", <code>" : "<code>");
        rc_html_text(b, work->text + work->span_start + y->start, (size_t)(y->end - y->start));
        rc_html_puts(b, "</code>&nbsp;&rarr;&nbsp;<code>");
        rc_html_text(b, x, xl);
        rc_html_puts(b, "</code>");
    }
    rc_html_puts(b, "</p>");
}

void rc_html_evidence(rc_html *b, rc_tokenizer *tz, const rc_html_span_view *view,
                      const rc_html_side *output, const rc_html_side *work, const char *work_note)
{
    tok_vec ta = {0}, tb = {0};
    alignment al = {0};
    bool diffed = false, code = view->mode == RECITE_MODE_CODE;
    if (view->diff && work &&
        tokenize(&ta, tz, view->mode, output->text + output->span_start,
                 output->span_end - output->span_start) == RECITE_OK &&
        tokenize(&tb, tz, view->mode, work->text + work->span_start,
                 work->span_end - work->span_start) == RECITE_OK &&
        ta.n <= DIFF_MAX_TOKENS && tb.n <= DIFF_MAX_TOKENS)
        diffed = align(&al, ta.v, ta.n, tb.v, tb.n) == RECITE_OK;
    rc_html_puts(b, "<div class=\"sides\">");
    pane(b, "Output", output, view, ta.v, ta.n, diffed ? al.op_out : NULL, work, tb.v,
         diffed ? al.pair_out : NULL);
    if (work) {
        pane(b, "Work", work, view, tb.v, tb.n, diffed ? al.op_work : NULL, NULL, NULL, NULL);
    } else {
        rc_html_puts(b, "<div class=\"pane\"><div class=\"pane-h\">Work</div><p class=\"note\">");
        rc_html_text(b, work_note, strlen(work_note));
        rc_html_puts(b, "</p></div>");
    }
    rc_html_puts(b, "</div>");
    if (diffed) {
        rc_html_printf(b,
                       "<p class=\"diffsum\">Word-level differences: %zu %s, %zu inserted, %zu "
                       "dropped",
                       al.subs, code ? "changed" : "substituted", al.ins, al.dels);
        if (code)
            rc_html_printf(b, ", %zu renamed (same kind of lexeme)", al.renames);
        if (!al.subs && !al.ins && !al.dels && !al.renames)
            rc_html_puts(b, " (the same words: only punctuation or spacing differs)");
        rc_html_puts(b, ".</p>");
        if (al.renames)
            renames(b, &al, output, ta.v, ta.n, work, tb.v);
    } else if (view->diff && work) {
        rc_html_puts(b, "<p class=\"diffsum\">The span is too long to compare word by "
                        "word.</p>");
    }
    alignment_free(&al);
    RC_VEC_FREE(ta);
    RC_VEC_FREE(tb);
}

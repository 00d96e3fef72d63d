/*
 * report.c — the grep-like text report of a check result, for people (the JSON object of the
 * contract is report_json.c's), and the policy's decision both use. Last stage of the
 * pipeline; reads the index only for work ids, metadata and cluster members.
 */
#include "rc_report.h"

#include <stdio.h>
#include <stdlib.h>

#define WHOLE_WORK_COVERAGE RC_WHOLE_WORK_COVERAGE
#define kind_name rc_report_kind_name
#define cmi_name rc_report_cmi_name
#define verdict_name rc_report_verdict_name

uint32_t rc_report_comment_words(const recite_result *res, const recite_work_hit *h,
                                 recite_mode mode)
{
    uint32_t words = 0;
    if (mode == RECITE_MODE_CODE && h->tokens_covered == 0)
        for (size_t k = 0; k < res->nmatches; k++)
            if (res->matches[k].work == h->work)
                words = RC_MAX(words, res->matches[k].tokens);
    return words;
}

int rc_report_decide(const recite_index *idx, const recite_policy *policy, const recite_result *res,
                     rc_decision *d, recite_error *err)
{
    size_t n = res->nworks ? res->nworks : 1;
    d->actions = calloc(n, sizeof *d->actions);
    d->rules = calloc(n, sizeof *d->rules);
    if (!d->actions || !d->rules) {
        free(d->actions);
        free(d->rules);
        return rc_error_set(err, RECITE_ENOMEM, "out of memory applying the policy");
    }
    d->verdict = recite_policy_decide(d->actions, d->rules, policy, idx, res);
    return RECITE_OK;
}

void rc_report_decision_free(rc_decision *d)
{
    free(d->actions);
    free(d->rules);
}

/* ==== text ==== */

typedef struct sbuf {
    char *s;
    size_t n, cap;
    bool oom;
} sbuf;

static void sb_printf(sbuf *b, const char *fmt, ...) RC_PRINTF(2, 3);
static void sb_printf(sbuf *b, const char *fmt, ...)
{
    if (b->oom)
        return;
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int k = vsnprintf(b->s ? b->s + b->n : NULL, b->s ? b->cap - b->n : 0, fmt, ap);
        va_end(ap);
        if (k < 0) {
            b->oom = true;
            return;
        }
        if (b->s && b->n + (size_t)k < b->cap) {
            b->n += (size_t)k;
            return;
        }
        if (rc_grow((void **)&b->s, &b->cap, b->n + (size_t)k + 1, 1) != RECITE_OK) {
            b->oom = true;
            return;
        }
    }
}

/* Appends text[a, b) with runs of whitespace and controls shown as one space. */
static void sb_flat(sbuf *sb, const char *text, size_t a, size_t b)
{
    bool space = false;
    for (size_t i = a; i < b; i++) {
        unsigned char ch = (unsigned char)text[i];
        if (ch < 0x20 || ch == 0x7f || ch == ' ') {
            space = true;
            continue;
        }
        if (space)
            sb_printf(sb, " ");
        space = false;
        sb_printf(sb, "%c", ch);
    }
}

/* Position after the first `words` words of text[a, b) (or before the last ones, from the end). */
static size_t word_cut(const char *text, size_t a, size_t b, int words, bool from_end)
{
    int seen = 0;
    bool in_word = false;
    if (!from_end) {
        for (size_t i = a; i < b; i++) {
            bool sp = (unsigned char)text[i] <= ' ';
            if (!sp && !in_word && ++seen > words)
                return i;
            in_word = !sp;
        }
        return b;
    }
    for (size_t i = b; i > a; i--) {
        bool sp = (unsigned char)text[i - 1] <= ' ';
        if (!sp && !in_word && ++seen > words)
            return i;
        in_word = !sp;
    }
    return a;
}

/* The locator of a span of an extracted work, in the text report: " p.12", " pp.3-4",
 * " #ch07 \"Title\"", and for a member of an archive its line. Nothing for plain files (their
 * lines are in the JSON), so the lines of a library of files keep their form. */
static void sb_locator(sbuf *sb, const recite_index *idx, const recite_match *m)
{
    recite_locator a, b;
    int rc = rc_report_locate_span(idx, m, &a, &b);
    if (rc == RECITE_ENOMEM)
        sb->oom = true;
    if (rc != RECITE_OK)
        return;
    if (a.page && b.page != a.page)
        sb_printf(sb, " pp.%u-%u", a.page, b.page);
    else if (a.page)
        sb_printf(sb, " p.%u", a.page);
    if (a.chapter) {
        sb_printf(sb, " #ch%02u", a.chapter);
        if (a.chapter_title) {
            size_t n = strlen(a.chapter_title), cut = RC_MIN(n, (size_t)80);
            while (cut < n && ((unsigned char)a.chapter_title[cut] & 0xc0) == 0x80)
                cut++; /* keep a UTF-8 sequence whole */
            sb_printf(sb, " \"");
            sb_flat(sb, a.chapter_title, 0, cut);
            sb_printf(sb, "%s\"", cut < n ? " …" : "");
        }
    }
    if (!a.page && !a.chapter && a.member && a.line)
        sb_printf(sb, " line %llu", (unsigned long long)a.line);
}

static void snippet(sbuf *sb, const char *text, size_t a, size_t b)
{
    const int words = 5;
    size_t head = word_cut(text, a, b, words, false);
    size_t tail = word_cut(text, a, b, words, true);
    /* Keep a UTF-8 sequence whole at the cuts. */
    while (head < b && ((unsigned char)text[head] & 0xc0) == 0x80)
        head++;
    while (tail > a && tail < b && ((unsigned char)text[tail] & 0xc0) == 0x80)
        tail--;
    sb_printf(sb, "\"");
    if (head >= tail || head - a > 120 || b - tail > 120) {
        size_t cut = RC_MIN(b, a + 60);
        while (cut < b && ((unsigned char)text[cut] & 0xc0) == 0x80)
            cut++;
        sb_flat(sb, text, a, cut);
        if (cut < b)
            sb_printf(sb, " …");
    } else {
        sb_flat(sb, text, a, head);
        sb_printf(sb, " … ");
        sb_flat(sb, text, tail, b);
    }
    sb_printf(sb, "\"");
}

int recite_report_text(char **out, const recite_index *idx, const recite_policy *policy,
                       const char *input_name, const char *text, size_t len,
                       const recite_result *res, recite_error *err)
{
    *out = NULL;
    rc_decision d;
    int rc = rc_report_decide(idx, policy, res, &d, err);
    if (rc != RECITE_OK)
        return rc;
    sbuf sb = {0};
    const char *in = input_name ? input_name : "-";
    size_t shown = 0;
    for (size_t i = 0; i < res->nmatches; i++) {
        const recite_match *m = &res->matches[i];
        if (rc_report_in_passage(res, i))
            continue; /* common language: on the line of the first match of its passage */
        shown++;
        recite_work_info info;
        if (recite_index_work(&info, idx, m->work) != RECITE_OK) {
            sb.oom = true; /* a damaged index: no report */
            rc = RECITE_EFORMAT;
            break;
        }
        sb_printf(&sb, "%s:%llu-%llu  %s:%llu-%llu", in, (unsigned long long)m->out_start,
                  (unsigned long long)m->out_end, info.id, (unsigned long long)m->src_start,
                  (unsigned long long)m->src_end);
        sb_locator(&sb, idx, m);
        sb_printf(&sb, "  %u %s  %s", m->tokens,
                  m->unit == RECITE_MODE_CODE     ? "lexemes"
                  : info.mode == RECITE_MODE_CODE ? "words"
                                                  : "tokens",
                  kind_name(m->kind));
        if (m->kind == RECITE_KIND_NEAR)
            sb_printf(&sb, " %.2f", m->similarity);
        if (m->common)
            sb_printf(&sb, "  common");
        if (m->shared_by > 1)
            sb_printf(&sb, " (in ~%u works)", m->shared_by);
        uint32_t nmem;
        recite_index_cluster_members(idx, info.cluster, &nmem);
        if (nmem > 1)
            sb_printf(&sb, "  (+%u identical)", nmem - 1);
        sb_printf(&sb, "  ");
        if (m->out_end <= len)
            snippet(&sb, text, m->out_start, m->out_end);
        sb_printf(&sb, "\n");
    }
    for (size_t i = 0; i < res->nworks; i++) {
        const recite_work_hit *h = &res->works[i];
        recite_work_info info;
        if (recite_index_work(&info, idx, h->work) != RECITE_OK) {
            sb.oom = true;
            rc = RECITE_EFORMAT;
            break;
        }
        uint32_t words = rc_report_comment_words(res, h, info.mode);
        if (words) {
            sb_printf(&sb,
                      "%s: %s  %u span%s in its comments, longest %u words (0 of %llu lexemes), %s",
                      in, info.id, h->matches, h->matches == 1 ? "" : "s", words,
                      (unsigned long long)info.tokens,
                      h->coverage >= WHOLE_WORK_COVERAGE ? "whole work" : "portion");
        } else {
            sb_printf(&sb, "%s: %s  %u span%s, %llu of %llu %s (%.1f%%), longest %u, %s", in,
                      info.id, h->matches, h->matches == 1 ? "" : "s",
                      (unsigned long long)h->tokens_covered, (unsigned long long)info.tokens,
                      info.mode == RECITE_MODE_CODE ? "lexemes" : "tokens", 100.0 * h->coverage,
                      h->longest_tokens,
                      h->coverage >= WHOLE_WORK_COVERAGE ? "whole work" : "portion");
        }
        if (h->similarity < 1.0)
            sb_printf(&sb, ", similarity %.2f", h->similarity);
        if (h->license[0])
            sb_printf(&sb, ", %s", h->license);
        if (h->cmi != RECITE_CMI_UNKNOWN)
            sb_printf(&sb, ", CMI %s", cmi_name(h->cmi));
        if (h->cmi == RECITE_CMI_ABSENT && h->copyright[0])
            sb_printf(&sb, " (expected \"%s\")", h->copyright);
        else if (h->cmi == RECITE_CMI_ALTERED && h->cmi_found[0])
            sb_printf(&sb, " (found \"%s\")", h->cmi_found);
        sb_printf(&sb, "%s", h->common ? ", common language only" : "");
        /* The reasons, when a policy was given (the default one is documented). */
        if (policy && d.rules[i])
            sb_printf(&sb, "; %s by rule %d (%s)", recite_action_name(d.actions[i]), d.rules[i],
                      rc_policy_rule_text(policy, d.rules[i]));
        else if (policy)
            sb_printf(&sb, "; %s by the policy's default", recite_action_name(d.actions[i]));
        sb_printf(&sb, "\n");
    }
    if (res->common_others)
        sb_printf(&sb, "%s: %llu more works share only common language with it (not listed)\n", in,
                  (unsigned long long)res->common_others);
    if (res->text_free && res->nmatches)
        sb_printf(&sb,
                  "%s: (text-free index: offsets into the works are exact; their text is not "
                  "stored)\n",
                  in);
    if (res->nmatches)
        sb_printf(&sb, "%s: %s  %zu match%s in %zu work%s; %llu tokens checked%s%s%s\n", in,
                  verdict_name(d.verdict), shown, shown == 1 ? "" : "es", res->nworks,
                  res->nworks == 1 ? "" : "s", (unsigned long long)res->tokens,
                  policy ? "; policy " : "", policy ? rc_policy_name(policy) : "",
                  res->truncated ? "; TRUNCATED: limits reached, report incomplete" : "");
    else
        sb_printf(&sb, "%s: pass  no recitation found; %llu tokens checked%s%s%s\n", in,
                  (unsigned long long)res->tokens, policy ? "; policy " : "",
                  policy ? rc_policy_name(policy) : "",
                  res->truncated ? "; TRUNCATED: limits reached, report incomplete" : "");
    rc_report_decision_free(&d);
    if (sb.oom) {
        free(sb.s);
        return rc == RECITE_EFORMAT
                   ? rc_error_set(err, rc, "corrupt index (a work record)")
                   : rc_error_set(err, RECITE_ENOMEM, "out of memory rendering the report");
    }
    *out = sb.s;
    return RECITE_OK;
}

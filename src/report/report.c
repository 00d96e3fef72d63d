/*
 * report.c — renders a check result for people and programs: the JSON object of the contract
 * (INTERFACE.md, built with jansson) and the grep-like text report. Last stage of the pipeline;
 * reads the index only for work ids, metadata and cluster members.
 */
#include "../cmi/rc_cmi.h"
#include "../policy/rc_policy.h"

#include <jansson.h>
#include <utf8proc.h>
#include <stdio.h>
#include <stdlib.h>

#define WHOLE_WORK_COVERAGE RC_WHOLE_WORK_COVERAGE

static const char *kind_name(recite_kind k)
{
    switch (k) {
    case RECITE_KIND_EXACT: return "exact";
    case RECITE_KIND_NORMALIZED: return "normalized";
    default: return "near";
    }
}

static const char *cmi_name(recite_cmi_verdict v)
{
    switch (v) {
    case RECITE_CMI_NONE: return "none";
    case RECITE_CMI_PRESENT: return "present";
    case RECITE_CMI_ABSENT: return "absent";
    case RECITE_CMI_ALTERED: return "altered";
    default: return "unknown";
    }
}

/* The policy's decision for each work of a result (see src/policy). */
typedef struct decision {
    recite_action verdict;
    recite_action *actions; /* per works[] entry */
    int *rules;             /* the 1-based rule that decided, 0 the policy's default */
} decision;

static int decide(const recite_index *idx, const recite_policy *policy, const recite_result *res,
                  decision *d, recite_error *err)
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

static void decision_free(decision *d)
{
    free(d->actions);
    free(d->rules);
}

/* The verdict: the most severe action; "pass" when everything is allowed. */
static const char *verdict_name(recite_action a)
{
    return a == RECITE_ACTION_ALLOW ? "pass" : recite_action_name(a);
}

/* A JSON string from bytes that should be UTF-8 but may not be (file names are bytes): invalid
 * bytes are read as Windows-1252, as the tokenizer reads them. */
static json_t *text_json(const char *s)
{
    size_t n = strlen(s);
    if (rc_utf8_count_invalid((const uint8_t *)s, n) == 0)
        return json_stringn(s, n);
    char *buf = malloc(3 * n + 1); /* a fallback byte becomes at most 3 bytes */
    if (!buf)
        return NULL;
    size_t m = 0;
    for (size_t i = 0; i < n;) {
        int32_t cp;
        bool invalid;
        i += rc_utf8_decode((const uint8_t *)s, n, i, true, &cp, &invalid);
        m += (size_t)utf8proc_encode_char(cp, (uint8_t *)buf + m);
    }
    json_t *j = json_stringn(buf, m);
    free(buf);
    return j;
}

static json_t *str_or_null(const char *s)
{
    return s ? text_json(s) : json_null();
}

/* ==== JSON ==== */

static int set(json_t *obj, const char *key, json_t *v)
{
    return v && json_object_set_new(obj, key, v) == 0 ? 0 : -1;
}

static json_t *also_of(const recite_index *idx, uint32_t work)
{
    json_t *arr = json_array();
    recite_work_info info;
    if (!arr || recite_index_work(&info, idx, work) != RECITE_OK)
        return arr;
    uint32_t n;
    const uint32_t *members = recite_index_cluster_members(idx, info.cluster, &n);
    for (uint32_t i = 0; i < n; i++) {
        recite_work_info other;
        if (members[i] != work && recite_index_work(&other, idx, members[i]) == RECITE_OK)
            json_array_append_new(arr, text_json(other.id));
    }
    return arr;
}

static json_t *match_json(const recite_index *idx, const recite_match *m)
{
    recite_work_info info;
    if (recite_index_work(&info, idx, m->work) != RECITE_OK)
        return NULL;
    json_t *o = json_object();
    json_t *out = json_object(), *src = json_object();
    int bad = !o || !out || !src;
    bad |= set(out, "start", json_integer((json_int_t)m->out_start));
    bad |= set(out, "end", json_integer((json_int_t)m->out_end));
    bad |= set(src, "start", json_integer((json_int_t)m->src_start));
    bad |= set(src, "end", json_integer((json_int_t)m->src_end));
    bad |= set(o, "work", text_json(info.id));
    bad |= set(o, "output", out);
    bad |= set(o, "source", src);
    bad |= set(o, "tokens", json_integer(m->tokens));
    bad |= set(o, "kind", json_string(kind_name(m->kind)));
    bad |= set(o, "similarity", json_real(m->similarity));
    bad |= set(o, "common", json_boolean(m->common));
    bad |= set(o, "also", also_of(idx, m->work));
    bad |= set(o, "source_token", json_integer((json_int_t)m->src_token));
    if (bad) {
        json_decref(o);
        return NULL;
    }
    return o;
}

static json_t *work_json(const recite_index *idx, const recite_work_hit *h, recite_action action,
                         int rule)
{
    recite_work_info info;
    if (recite_index_work(&info, idx, h->work) != RECITE_OK)
        return NULL;
    /* Title and author: the metadata's, else "Title:" / "Author:" lines of the text. */
    const uint8_t *rec;
    size_t rec_len;
    rc_cmi_view cmi;
    rc_index_work_cmi(idx, h->work, &rec, &rec_len);
    if (rc_cmi_record_view(&cmi, rec, rec_len) != RECITE_OK)
        rc_cmi_record_view(&cmi, NULL, 0);
    const char *title = info.title ? info.title : cmi.title[0] ? cmi.title : NULL;
    const char *author = info.author ? info.author : cmi.author[0] ? cmi.author : NULL;
    json_t *o = json_object();
    int bad = !o;
    bad |= set(o, "work", text_json(info.id));
    bad |= set(o, "title", str_or_null(title));
    bad |= set(o, "author", str_or_null(author));
    bad |= set(o, "license", str_or_null(h->license[0] ? h->license : NULL));
    bad |= set(o, "license_from", json_string(recite_info_source_name(h->license_from)));
    if (h->license[0])
        bad |= set(o, "license_score", json_real(h->license_score));
    bad |= set(o, "copyright", str_or_null(h->copyright[0] ? h->copyright : NULL));
    bad |= set(o, "copyright_from", json_string(recite_info_source_name(h->copyright_from)));
    if (h->cmi == RECITE_CMI_UNKNOWN)
        bad |= set(o, "cmi", json_null()); /* an index built without CMI: not known */
    else
        bad |= set(o, "cmi", json_string(cmi_name(h->cmi)));
    if (h->cmi == RECITE_CMI_PRESENT || h->cmi == RECITE_CMI_ABSENT ||
        h->cmi == RECITE_CMI_ALTERED) {
        json_t *ev = json_object();
        bad |= !ev;
        bad |=
            set(ev, "expected",
                str_or_null(h->copyright[0] ? h->copyright : (h->license[0] ? h->license : NULL)));
        bad |= set(ev, "found", str_or_null(h->cmi_found[0] ? h->cmi_found : NULL));
        if (h->cmi_found[0])
            bad |= set(ev, "found_at",
                       json_pack("{s:I, s:I}", "start", (json_int_t)h->cmi_found_start, "end",
                                 (json_int_t)h->cmi_found_end));
        bad |= set(o, "cmi_evidence", ev);
    }
    bad |= set(o, "source", text_json(info.source ? info.source : "unknown"));
    bad |= set(o, "coverage", json_real(h->coverage));
    bad |= set(o, "longest_tokens", json_integer(h->longest_tokens));
    bad |= set(o, "spans", json_integer(h->matches));
    bad |= set(o, "tokens_covered", json_integer((json_int_t)h->tokens_covered));
    bad |= set(o, "work_tokens", json_integer((json_int_t)info.tokens));
    bad |= set(o, "extent", json_string(h->coverage >= WHOLE_WORK_COVERAGE ? "whole" : "portion"));
    bad |= set(o, "mode", json_string(info.mode == RECITE_MODE_CODE ? "code" : "prose"));
    bad |= set(o, "common", json_boolean(h->common));
    bad |= set(o, "similarity", json_real(h->similarity));
    bad |= set(o, "action", json_string(recite_action_name(action)));
    if (rule > 0)
        bad |= set(o, "rule", json_integer(rule));
    if (bad) {
        json_decref(o);
        return NULL;
    }
    return o;
}

static json_t *result_json(const recite_index *idx, const recite_policy *policy,
                           const char *input_name, const recite_result *res, const decision *d)
{
    json_t *o = json_object(), *ms = json_array(), *ws = json_array();
    int bad = !o || !ms || !ws;
    for (size_t i = 0; i < res->nmatches && !bad; i++) {
        json_t *m = match_json(idx, &res->matches[i]);
        bad |= !m || json_array_append_new(ms, m) != 0;
    }
    for (size_t i = 0; i < res->nworks && !bad; i++) {
        json_t *w = work_json(idx, &res->works[i], d->actions[i], d->rules[i]);
        bad |= !w || json_array_append_new(ws, w) != 0;
    }
    bad |= set(o, "input", text_json(input_name ? input_name : "-"));
    bad |= set(o, "verdict", json_string(verdict_name(d->verdict)));
    bad |= set(o, "policy", text_json(rc_policy_name(policy)));
    bad |= set(o, "tokens", json_integer((json_int_t)res->tokens));
    bad |= set(o, "code_tokens", json_integer((json_int_t)res->code_tokens));
    bad |= set(o, "bytes", json_integer((json_int_t)res->bytes));
    bad |= set(o, "matches", ms);
    ms = NULL;
    bad |= set(o, "works", ws);
    ws = NULL;
    bad |= set(o, "truncated", json_boolean(res->truncated));
    bad |= set(o, "common_others", json_integer((json_int_t)res->common_others));
    bad |= set(o, "invalid_utf8_bytes", json_integer((json_int_t)res->invalid_utf8));
    /* A text-free index: offsets into the works are exact, their text is not available. */
    if (res->text_free)
        bad |= set(o, "source_text", json_string("not available (text-free index)"));
    json_decref(ms);
    json_decref(ws);
    if (bad) {
        json_decref(o);
        return NULL;
    }
    return o;
}

int recite_report_json(char **out, const recite_index *idx, const recite_policy *policy,
                       const char *input_name, const char *text, size_t len,
                       const recite_result *res, recite_error *err)
{
    (void)text;
    (void)len;
    *out = NULL;
    decision d;
    int rc = decide(idx, policy, res, &d, err);
    if (rc != RECITE_OK)
        return rc;
    json_t *o = result_json(idx, policy, input_name, res, &d);
    decision_free(&d);
    char *s = o ? json_dumps(o, JSON_COMPACT | JSON_ENSURE_ASCII | JSON_REAL_PRECISION(6)) : NULL;
    json_decref(o);
    if (!s)
        return rc_error_set(err, RECITE_ENOMEM, "out of memory rendering JSON");
    *out = s;
    return RECITE_OK;
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
    decision d;
    int rc = decide(idx, policy, res, &d, err);
    if (rc != RECITE_OK)
        return rc;
    sbuf sb = {0};
    const char *in = input_name ? input_name : "-";
    for (size_t i = 0; i < res->nmatches; i++) {
        const recite_match *m = &res->matches[i];
        recite_work_info info;
        recite_index_work(&info, idx, m->work);
        sb_printf(&sb, "%s:%llu-%llu  %s:%llu-%llu  %u %s  %s", in,
                  (unsigned long long)m->out_start, (unsigned long long)m->out_end, info.id,
                  (unsigned long long)m->src_start, (unsigned long long)m->src_end, m->tokens,
                  info.mode == RECITE_MODE_CODE ? "lexemes" : "tokens", kind_name(m->kind));
        if (m->kind == RECITE_KIND_NEAR)
            sb_printf(&sb, " %.2f", m->similarity);
        if (m->common)
            sb_printf(&sb, "  common");
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
        recite_index_work(&info, idx, h->work);
        sb_printf(&sb, "%s: %s  %u span%s, %llu of %llu %s (%.1f%%), longest %u, %s", in, info.id,
                  h->matches, h->matches == 1 ? "" : "s", (unsigned long long)h->tokens_covered,
                  (unsigned long long)info.tokens,
                  info.mode == RECITE_MODE_CODE ? "lexemes" : "tokens", 100.0 * h->coverage,
                  h->longest_tokens, h->coverage >= WHOLE_WORK_COVERAGE ? "whole work" : "portion");
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
                  verdict_name(d.verdict), res->nmatches, res->nmatches == 1 ? "" : "es",
                  res->nworks, res->nworks == 1 ? "" : "s", (unsigned long long)res->tokens,
                  policy ? "; policy " : "", policy ? rc_policy_name(policy) : "",
                  res->truncated ? "; TRUNCATED: limits reached, report incomplete" : "");
    else
        sb_printf(&sb, "%s: pass  no recitation found; %llu tokens checked%s%s%s\n", in,
                  (unsigned long long)res->tokens, policy ? "; policy " : "",
                  policy ? rc_policy_name(policy) : "",
                  res->truncated ? "; TRUNCATED: limits reached, report incomplete" : "");
    decision_free(&d);
    if (sb.oom) {
        free(sb.s);
        return rc_error_set(err, RECITE_ENOMEM, "out of memory rendering the report");
    }
    *out = sb.s;
    return RECITE_OK;
}

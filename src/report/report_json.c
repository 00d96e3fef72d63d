/*
 * report_json.c — the JSON object of the contract (INTERFACE.md) for a check result, written
 * straight into one growing buffer: no tree of values is built. The bytes are those jansson's
 * json_dumps gives with JSON_COMPACT | JSON_ENSURE_ASCII | JSON_REAL_PRECISION(6) (what this
 * report was once made with; tests keep it so): keys in the order written, strings as valid
 * UTF-8 (bytes that are not, read as Windows-1252) with every non-ASCII character escaped,
 * reals with 6 significant digits and always a '.' or an exponent.
 */
#include "rc_report.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

/* ==== the writer ==== */

typedef struct jw {
    char *s;
    size_t n, cap;
    bool oom;
} jw;

static bool room(jw *w, size_t k)
{
    if (w->oom)
        return false;
    if (w->n + k + 1 > w->cap &&
        rc_grow((void **)&w->s, &w->cap, RC_MAX(w->n + k + 1, (size_t)4096), 1) != RECITE_OK) {
        w->oom = true;
        return false;
    }
    return true;
}

static void put(jw *w, const char *p, size_t k)
{
    if (room(w, k)) {
        memcpy(w->s + w->n, p, k);
        w->n += k;
    }
}

/* A piece of the report's fixed text (keys, brackets). */
#define RAW(w, lit) put((w), (lit), sizeof(lit) - 1)

static void put_int(jw *w, long long v)
{
    char buf[24], *p = buf + sizeof buf;
    unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;
    do
        *--p = (char)('0' + u % 10);
    while (u /= 10);
    if (v < 0)
        *--p = '-';
    put(w, p, (size_t)(buf + sizeof buf - p));
}

/* As jansson's jsonp_dtostr with precision 6: "%.6g", then ".0" when there is neither a '.'
 * nor an exponent, and the exponent without '+' and leading zeros. */
static void put_real(jw *w, double v)
{
    if (v > -1e6 && v < 1e6 && v == (double)(long long)v && !(v == 0 && signbit(v))) {
        /* A whole number "%.6g" prints as an integer (1.0 -> "1"): without snprintf, which
         * cost 3 % of a check with its report (the similarity of every exact span is 1). */
        put_int(w, (long long)v);
        RAW(w, ".0");
        return;
    }
    char buf[64];
    int k = snprintf(buf, sizeof buf, "%.6g", v);
    if (k < 0 || (size_t)k >= sizeof buf - 3) {
        w->oom = true;
        return;
    }
    size_t len = (size_t)k;
    if (!memchr(buf, '.', len) && !memchr(buf, 'e', len)) {
        buf[len++] = '.';
        buf[len++] = '0';
        buf[len] = 0;
    }
    char *e = memchr(buf, 'e', len);
    if (e) {
        char *start = e + 1, *end = start + 1;
        if (*start == '-')
            start++;
        while (*end == '0')
            end++;
        if (end != start) {
            memmove(start, end, len - (size_t)(end - buf) + 1);
            len -= (size_t)(end - start);
        }
    }
    put(w, buf, len);
}

static const char hex[] = "0123456789ABCDEF";

static void put_u_escape(jw *w, unsigned cp)
{
    char e[6] = {'\\',        'u', hex[(cp >> 12) & 15], hex[(cp >> 8) & 15], hex[(cp >> 4) & 15],
                 hex[cp & 15]};
    put(w, e, 6);
}

/* A JSON string from bytes that should be UTF-8 but may not be (file names are bytes): invalid
 * bytes are read as Windows-1252, as the tokenizer reads them. */
static void put_str(jw *w, const char *s)
{
    const uint8_t *p = (const uint8_t *)s;
    size_t n = strlen(s);
    RAW(w, "\"");
    size_t i = 0;
    while (i < n) {
        size_t run = i; /* the plain ASCII that needs no escape, copied at once */
        while (run < n && p[run] >= 0x20 && p[run] < 0x80 && p[run] != '"' && p[run] != '\\')
            run++;
        put(w, s + i, run - i);
        if ((i = run) >= n)
            break;
        int32_t cp;
        bool invalid;
        i += rc_utf8_decode(p, n, i, true, &cp, &invalid);
        switch (cp) {
        case '"': RAW(w, "\\\""); break;
        case '\\': RAW(w, "\\\\"); break;
        case '\b': RAW(w, "\\b"); break;
        case '\f': RAW(w, "\\f"); break;
        case '\n': RAW(w, "\\n"); break;
        case '\r': RAW(w, "\\r"); break;
        case '\t': RAW(w, "\\t"); break;
        default:
            if (cp < 0x10000) {
                put_u_escape(w, (unsigned)cp);
            } else {
                unsigned c = (unsigned)cp - 0x10000;
                put_u_escape(w, 0xd800 | ((c >> 10) & 0x3ff));
                put_u_escape(w, 0xdc00 | (c & 0x3ff));
            }
        }
    }
    RAW(w, "\"");
}

static void put_str_or_null(jw *w, const char *s)
{
    if (s)
        put_str(w, s);
    else
        RAW(w, "null");
}

static void put_bool(jw *w, int b)
{
    if (b)
        RAW(w, "true");
    else
        RAW(w, "false");
}

/* ==== the report ==== */

/* Other work ids holding the identical text (the same cluster). */
static int put_also(jw *w, const recite_index *idx, uint32_t work, uint32_t cluster)
{
    uint32_t n;
    const uint32_t *members = recite_index_cluster_members(idx, cluster, &n);
    RAW(w, "[");
    bool first = true;
    for (uint32_t i = 0; i < n; i++) {
        recite_work_info other;
        if (members[i] == work)
            continue;
        if (recite_index_work(&other, idx, members[i]) != RECITE_OK)
            return RECITE_EFORMAT;
        if (!first)
            RAW(w, ",");
        first = false;
        put_str(w, other.id);
    }
    RAW(w, "]");
    return RECITE_OK;
}

/* Where a span of a work is in its original (INTERFACE.md source.locator): line, page,
 * chapter, member; *_end when the span's end is elsewhere. Nothing when nothing is known. */
static void put_locator(jw *w, const recite_index *idx, const recite_match *m)
{
    recite_locator a, b;
    int rc = rc_report_locate_span(idx, m, &a, &b);
    if (rc == RECITE_ENOMEM)
        w->oom = true;
    if (rc != RECITE_OK || !(a.page || a.chapter || a.member || a.line))
        return;
    const char *sep = "";
#define KEY(k) (put(w, sep, strlen(sep)), RAW(w, "\"" k "\":"), sep = ",")
    RAW(w, ",\"locator\":{");
    if (a.page) {
        KEY("page");
        put_int(w, a.page);
        if (b.page != a.page) {
            KEY("page_end");
            put_int(w, b.page);
        }
    }
    if (a.chapter) {
        KEY("chapter");
        put_int(w, a.chapter);
        KEY("chapter_title");
        put_str_or_null(w, a.chapter_title);
        if (a.chapter_name) {
            KEY("chapter_file");
            put_str(w, a.chapter_name);
        }
        if (b.chapter != a.chapter) {
            KEY("chapter_end");
            put_int(w, b.chapter);
        }
    }
    if (a.member) {
        KEY("member");
        put_str(w, a.member);
    }
    if (a.line) {
        KEY("line");
        put_int(w, (long long)a.line);
        if (b.line != a.line) {
            KEY("line_end");
            put_int(w, (long long)b.line);
        }
    }
#undef KEY
    RAW(w, "}");
}

static int put_match(jw *w, const recite_index *idx, const recite_result *res, size_t i)
{
    const recite_match *m = &res->matches[i];
    recite_work_info info;
    if (recite_index_work(&info, idx, m->work) != RECITE_OK)
        return RECITE_EFORMAT;
    RAW(w, "{\"work\":");
    put_str(w, info.id);
    RAW(w, ",\"output\":{\"start\":");
    put_int(w, (long long)m->out_start);
    RAW(w, ",\"end\":");
    put_int(w, (long long)m->out_end);
    RAW(w, "},\"source\":{\"start\":");
    put_int(w, (long long)m->src_start);
    RAW(w, ",\"end\":");
    put_int(w, (long long)m->src_end);
    put_locator(w, idx, m);
    RAW(w, "},\"tokens\":");
    put_int(w, m->tokens);
    RAW(w, ",\"kind\":\"");
    const char *kind = rc_report_kind_name(m->kind);
    put(w, kind, strlen(kind));
    RAW(w, "\",\"similarity\":");
    put_real(w, m->similarity);
    RAW(w, ",\"common\":");
    put_bool(w, m->common);
    RAW(w, ",\"also\":");
    if (put_also(w, idx, m->work, info.cluster) != RECITE_OK)
        return RECITE_EFORMAT;
    RAW(w, ",\"source_token\":");
    put_int(w, (long long)m->src_token);
    if (m->unit == RECITE_MODE_CODE)
        RAW(w, ",\"unit\":\"lexemes\"");
    else
        RAW(w, ",\"unit\":\"words\"");
    if (m->shared_by) { /* a passage of common language, reported once */
        RAW(w, ",\"shared_by\":");
        put_int(w, m->shared_by);
        RAW(w, ",\"sample_works\":[");
        for (size_t j = i; j < res->nmatches && res->matches[j].out_start == m->out_start; j++) {
            if (res->matches[j].passage != i)
                continue;
            recite_work_info other;
            if (recite_index_work(&other, idx, res->matches[j].work) != RECITE_OK)
                return RECITE_EFORMAT;
            if (j != i)
                RAW(w, ",");
            put_str(w, other.id);
        }
        RAW(w, "]");
    }
    RAW(w, "}");
    return RECITE_OK;
}

static int put_work(jw *w, const recite_index *idx, const recite_work_hit *h, recite_action action,
                    int rule)
{
    recite_work_info info;
    if (recite_index_work(&info, idx, h->work) != RECITE_OK)
        return RECITE_EFORMAT;
    /* Title and author: the metadata's, else "Title:" / "Author:" lines of the text. */
    const uint8_t *rec;
    size_t rec_len;
    rc_cmi_view cmi;
    rc_index_work_cmi(idx, h->work, &rec, &rec_len);
    if (rc_cmi_record_view(&cmi, rec, rec_len) != RECITE_OK)
        rc_cmi_record_view(&cmi, NULL, 0);
    RAW(w, "{\"work\":");
    put_str(w, info.id);
    RAW(w, ",\"title\":");
    put_str_or_null(w, info.title ? info.title : cmi.title[0] ? cmi.title : NULL);
    RAW(w, ",\"author\":");
    put_str_or_null(w, info.author ? info.author : cmi.author[0] ? cmi.author : NULL);
    RAW(w, ",\"license\":");
    put_str_or_null(w, h->license[0] ? h->license : NULL);
    RAW(w, ",\"license_from\":");
    put_str(w, recite_info_source_name(h->license_from));
    if (h->license[0]) {
        RAW(w, ",\"license_score\":");
        put_real(w, h->license_score);
    }
    RAW(w, ",\"copyright\":");
    put_str_or_null(w, h->copyright[0] ? h->copyright : NULL);
    RAW(w, ",\"copyright_from\":");
    put_str(w, recite_info_source_name(h->copyright_from));
    RAW(w, ",\"cmi\":");
    if (h->cmi == RECITE_CMI_UNKNOWN) /* an index built without CMI: not known */
        RAW(w, "null");
    else
        put_str(w, rc_report_cmi_name(h->cmi));
    if (h->cmi == RECITE_CMI_PRESENT || h->cmi == RECITE_CMI_ABSENT ||
        h->cmi == RECITE_CMI_ALTERED) {
        RAW(w, ",\"cmi_evidence\":{\"expected\":");
        put_str_or_null(w, h->copyright[0] ? h->copyright : (h->license[0] ? h->license : NULL));
        RAW(w, ",\"found\":");
        put_str_or_null(w, h->cmi_found[0] ? h->cmi_found : NULL);
        if (h->cmi_found[0]) {
            RAW(w, ",\"found_at\":{\"start\":");
            put_int(w, (long long)h->cmi_found_start);
            RAW(w, ",\"end\":");
            put_int(w, (long long)h->cmi_found_end);
            RAW(w, "}");
        }
        RAW(w, "}");
    }
    RAW(w, ",\"source\":");
    put_str(w, info.source ? info.source : "unknown");
    RAW(w, ",\"coverage\":");
    put_real(w, h->coverage);
    RAW(w, ",\"longest_tokens\":");
    put_int(w, h->longest_tokens);
    RAW(w, ",\"spans\":");
    put_int(w, h->matches);
    RAW(w, ",\"tokens_covered\":");
    put_int(w, (long long)h->tokens_covered);
    RAW(w, ",\"work_tokens\":");
    put_int(w, (long long)info.tokens);
    RAW(w, ",\"extent\":");
    put_str(w, h->coverage >= RC_WHOLE_WORK_COVERAGE ? "whole" : "portion");
    RAW(w, ",\"mode\":");
    put_str(w, info.mode == RECITE_MODE_CODE ? "code" : "prose");
    RAW(w, ",\"common\":");
    put_bool(w, h->common);
    RAW(w, ",\"similarity\":");
    put_real(w, h->similarity);
    RAW(w, ",\"score\":");
    put_real(w, h->score);
    RAW(w, ",\"action\":");
    put_str(w, recite_action_name(action));
    if (rule > 0) {
        RAW(w, ",\"rule\":");
        put_int(w, rule);
    }
    RAW(w, "}");
    return RECITE_OK;
}

int recite_report_json(char **out, const recite_index *idx, const recite_policy *policy,
                       const char *input_name, const char *text, size_t len,
                       const recite_result *res, recite_error *err)
{
    (void)text;
    (void)len;
    *out = NULL;
    rc_decision d;
    int rc = rc_report_decide(idx, policy, res, &d, err);
    if (rc != RECITE_OK)
        return rc;
    jw w = {0};
    RAW(&w, "{\"input\":");
    put_str(&w, input_name ? input_name : "-");
    RAW(&w, ",\"verdict\":");
    put_str(&w, rc_report_verdict_name(d.verdict));
    RAW(&w, ",\"policy\":");
    put_str(&w, rc_policy_name(policy));
    RAW(&w, ",\"tokens\":");
    put_int(&w, (long long)res->tokens);
    RAW(&w, ",\"code_tokens\":");
    put_int(&w, (long long)res->code_tokens);
    RAW(&w, ",\"bytes\":");
    put_int(&w, (long long)res->bytes);
    RAW(&w, ",\"matches\":[");
    bool first = true;
    for (size_t i = 0; i < res->nmatches && rc == RECITE_OK; i++) {
        if (rc_report_in_passage(res, i))
            continue; /* common language: in the first match of its passage */
        if (!first)
            RAW(&w, ",");
        first = false;
        rc = put_match(&w, idx, res, i);
    }
    RAW(&w, "],\"works\":[");
    for (size_t i = 0; i < res->nworks && rc == RECITE_OK; i++) {
        if (i)
            RAW(&w, ",");
        rc = put_work(&w, idx, &res->works[i], d.actions[i], d.rules[i]);
    }
    RAW(&w, "],\"truncated\":");
    put_bool(&w, res->truncated);
    RAW(&w, ",\"common_others\":");
    put_int(&w, (long long)res->common_others);
    RAW(&w, ",\"invalid_utf8_bytes\":");
    put_int(&w, (long long)res->invalid_utf8);
    /* A text-free index: offsets into the works are exact, their text is not available. */
    if (res->text_free)
        RAW(&w, ",\"source_text\":\"not available (text-free index)\"");
    RAW(&w, "}");
    rc_report_decision_free(&d);
    if (rc != RECITE_OK || w.oom) {
        free(w.s);
        return rc != RECITE_OK ? rc_error_set(err, rc, "corrupt index (a work record)")
                               : rc_error_set(err, RECITE_ENOMEM, "out of memory rendering JSON");
    }
    w.s[w.n] = 0;
    *out = w.s;
    return RECITE_OK;
}

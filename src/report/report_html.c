/*
 * report_html.c — the HTML evidence report (recite_report_html): one self-contained document
 * for the people who decide whether a match matters. Last stage of the pipeline beside the
 * JSON and text reports (report.c): reads the index for works' metadata and text, the policy
 * for the reasons of each action; the escaping and the per-span evidence live in
 * report_html_esc.c and report_html_diff.c.
 */
#include "../policy/rc_policy.h"
#include "rc_report.h"
#include "rc_report_html.h"

#include <jansson.h>
#include <time.h>

#define DEFAULT_CONTEXT 240
#define DEFAULT_MAX_EVIDENCE 1000
#define MAX_EVIDENCE_BYTES (16u << 20) /* text shown side by side, in all; then listed only */
#define PALETTE 8
#define TITLE_WORKS 4 /* works named in the tooltip of a highlighted segment */

static const char css[] =
    ":root{--ink:#1b1b1b;--mute:#5f6368;--line:#d0d4d9}"
    "*{box-sizing:border-box}"
    "body{font:15px/1.45 'DejaVu Sans',Arial,sans-serif;color:var(--ink);margin:0 auto;"
    "max-width:1200px;padding:24px}"
    "h1{font-size:24px;margin:0 0 4px}h2{font-size:19px;margin:28px 0 8px;border-bottom:2px "
    "solid var(--line);padding-bottom:4px}h3{font-size:16px;margin:0 0 6px}"
    "code,pre{font-family:'DejaVu Sans Mono',monospace;font-size:13px}"
    "pre{white-space:pre-wrap;overflow-wrap:anywhere;margin:0}"
    ".verdict{display:inline-block;padding:2px 12px;border-radius:4px;font-weight:bold;"
    "color:#fff;text-transform:uppercase;letter-spacing:.05em}"
    ".v-pass{background:#2e7d32}.v-cite{background:#1565c0}.v-flag{background:#ef6c00}"
    ".v-block{background:#c62828}"
    ".facts{display:grid;grid-template-columns:repeat(auto-fit,minmax(330px,1fr));gap:4px 24px;"
    "margin:12px 0}"
    "dl.kv{display:grid;grid-template-columns:max-content 1fr;gap:2px 12px;margin:0}"
    "dl.kv dt{color:var(--mute)}dl.kv dd{margin:0;overflow-wrap:anywhere}"
    ".warn{background:#fff3e0;border-left:4px solid #ef6c00;padding:6px 10px;margin:8px 0}"
    ".note{color:var(--mute);font-style:italic}"
    "table{border-collapse:collapse;width:100%;font-size:14px}"
    "th,td{border-bottom:1px solid var(--line);padding:4px 6px;text-align:left;"
    "vertical-align:top}th{background:#f3f4f6}"
    ".sw{display:inline-block;width:12px;height:12px;border-radius:2px;margin-right:6px;"
    "vertical-align:-1px;background:var(--c);border:1px solid var(--e)}"
    ".w0{--c:#ffe082;--l:#fff3cd;--e:#b28704}.w1{--c:#90caf9;--l:#dcefff;--e:#1565c0}"
    ".w2{--c:#a5d6a7;--l:#e1f3e2;--e:#2e7d32}.w3{--c:#f48fb1;--l:#fde0ea;--e:#ad1457}"
    ".w4{--c:#ce93d8;--l:#f2e0f6;--e:#6a1b9a}.w5{--c:#ffab91;--l:#ffe3da;--e:#bf360c}"
    ".w6{--c:#80deea;--l:#dcf6fa;--e:#00838f}.w7{--c:#c5e1a5;--l:#eef6e4;--e:#558b2f}"
    ".w-none{--c:#e0e0e0;--l:#f2f2f2;--e:#757575}"
    "#text pre{border:1px solid var(--line);padding:12px;background:#fcfcfc}"
    "a.hl,mark{color:inherit;text-decoration:none;background:var(--c);border-radius:2px}"
    ".k-normalized{text-decoration:underline dotted var(--e) 2px!important}"
    ".k-near{background:var(--l)!important;text-decoration:underline wavy var(--e) 1px"
    "!important}"
    ".k-common{background:repeating-linear-gradient(135deg,var(--l) 0 4px,#fff 4px 8px)"
    "!important;outline:1px dashed var(--e)}"
    ".legend span{margin-right:14px;padding:0 4px}"
    ".work{border:1px solid var(--line);border-left:6px solid var(--e);border-radius:4px;"
    "padding:12px;margin:16px 0;break-inside:avoid-page}"
    ".ev{margin:14px 0 0;padding-top:10px;border-top:1px dashed var(--line)}"
    ".ev-h{font-weight:bold;margin-bottom:6px}.ev-h .tag{font-weight:normal}"
    ".tag{display:inline-block;border:1px solid var(--line);border-radius:10px;padding:0 8px;"
    "margin-left:6px;font-size:12px;background:#fafafa}"
    ".sides{display:grid;grid-template-columns:1fr 1fr;gap:10px}"
    ".pane{border:1px solid var(--line);border-radius:4px;padding:8px;background:#fcfcfc;"
    "min-width:0}.pane-h{font-weight:bold;margin-bottom:4px}"
    ".off{font-weight:normal;color:var(--mute);font-size:12px}"
    ".ctx{color:var(--mute)}.cut{color:var(--mute)}"
    ".d-sub,.d-ren{background:#ffcc80;outline:1px solid #e65100;border-radius:2px}"
    ".d-ins{background:#b9f6ca;outline:1px solid #1b5e20;border-radius:2px}"
    ".d-del{background:#ffcdd2;outline:1px solid #b71c1c;text-decoration:line-through;"
    "border-radius:2px}"
    ".raw{color:#b71c1c;border:1px dotted #b71c1c}"
    ".diffsum,.renames{font-size:13px;color:var(--mute);margin:6px 0 0}"
    "footer{margin-top:32px;color:var(--mute);font-size:12px}"
    "@media print{body{max-width:none;padding:0;font-size:10pt}"
    "*{-webkit-print-color-adjust:exact;print-color-adjust:exact}"
    "a{color:inherit}h2{break-after:avoid}.ev{break-inside:avoid}"
    ".sides{grid-template-columns:1fr 1fr}pre{font-size:8.5pt}"
    "@page{margin:14mm;@bottom-right{content:counter(page)}}}";

typedef struct ctx {
    rc_html *b;
    const recite_index *idx;
    const recite_policy *policy;
    const char *input_name;
    const char *text;
    size_t len;
    size_t evidence_bytes; /* text shown side by side so far */
    const recite_result *res;
    recite_report_html_options opt;
    int *rank;   /* per match: its work's position in res->works, -1 none */
    bool *shown; /* per match: has its evidence block */
    recite_action *actions;
    int *rules;
    recite_action verdict;
    rc_tokenizer *tz;
} ctx;

static const char *kind_name(recite_kind k)
{
    return k == RECITE_KIND_EXACT ? "exact" : k == RECITE_KIND_NORMALIZED ? "normalized" : "near";
}

static const char *verdict_name(recite_action a)
{
    return a == RECITE_ACTION_ALLOW ? "pass" : recite_action_name(a);
}

static void put_time(rc_html *b, uint64_t unix_time)
{
    time_t t = (time_t)unix_time;
    struct tm tm;
    char s[64];
    if (gmtime_r(&t, &tm) && strftime(s, sizeof s, "%Y-%m-%d %H:%M:%S UTC", &tm))
        rc_html_puts(b, s);
    else
        rc_html_printf(b, "%llu (Unix time)", (unsigned long long)unix_time);
}

static void colour(char *out, size_t cap, int rank)
{
    if (rank < 0)
        snprintf(out, cap, "w-none");
    else
        snprintf(out, cap, "w%d", rank % PALETTE);
}

/* A key/value row of a <dl class="kv">, the value escaped (NULL: "unknown"). */
static void kv(rc_html *b, const char *key, const char *value)
{
    rc_html_printf(b, "<dt>%s</dt><dd>", key);
    if (value)
        rc_html_text(b, value, strlen(value));
    else
        rc_html_puts(b, "<span class=\"note\">unknown</span>");
    rc_html_puts(b, "</dd>");
}

/* ==== header ==== */

static void header(ctx *c)
{
    rc_html *b = c->b;
    const recite_result *r = c->res;
    const recite_check_options *co = c->opt.check_options;
    recite_check_options defaults = RECITE_CHECK_OPTIONS_INIT;
    if (!co)
        co = &defaults;
    recite_index_stats st;
    recite_index_get_stats(&st, c->idx);
    const char *in = c->opt.index_name;

    rc_html_printf(b,
                   "<header><h1>Recitation evidence report</h1><p>Verdict: <span "
                   "class=\"verdict v-%s\" id=\"verdict\">%s</span> &nbsp; ",
                   verdict_name(c->verdict), verdict_name(c->verdict));
    if (r->nmatches)
        rc_html_printf(b, "%zu span%s reproduce%s %zu work%s.", r->nmatches,
                       r->nmatches == 1 ? "" : "s", r->nmatches == 1 ? "s" : "", r->nworks,
                       r->nworks == 1 ? "" : "s");
    else
        rc_html_puts(b, "No recitation was found.");
    rc_html_puts(b, "</p>");
    if (r->truncated)
        rc_html_puts(b, "<p class=\"warn\">A limit on candidates or matches was reached: this "
                        "report is <b>incomplete</b>.</p>");

    rc_html_puts(b, "<div class=\"facts\"><dl class=\"kv\">");
    rc_html_puts(b, "<dt>Checked text</dt><dd id=\"input\">");
    rc_html_text(b, c->input_name, strlen(c->input_name));
    rc_html_puts(b, "</dd>");
    rc_html_printf(b, "<dt>Size</dt><dd>%zu bytes, %llu words", c->len,
                   (unsigned long long)r->tokens);
    if (r->code_tokens)
        rc_html_printf(b, ", %llu lexemes", (unsigned long long)r->code_tokens);
    rc_html_puts(b, "</dd>");
    if (r->invalid_utf8)
        rc_html_printf(b,
                       "<dt>Invalid UTF-8</dt><dd>%llu bytes (shown as &#xFFFD;, read as "
                       "Windows-1252 by the checker)</dd>",
                       (unsigned long long)r->invalid_utf8);
    rc_html_puts(b, "<dt>Checked at</dt><dd>");
    put_time(b, c->opt.checked_unix);
    rc_html_printf(b, "</dd><dt>Checked by</dt><dd>recite %s</dd>", recite_version());
    kv(b, "Policy", rc_policy_name(c->policy));
    if (r->common_others)
        rc_html_printf(b,
                       "<dt>Common language</dt><dd>%llu more works share only common "
                       "language with the text (not listed)</dd>",
                       (unsigned long long)r->common_others);
    rc_html_puts(b, "</dl><dl class=\"kv\">");
    if (in)
        kv(b, "Index", in);
    rc_html_printf(b, "<dt>Index holds</dt><dd>%llu works, %llu distinct texts, %.1f MB</dd>",
                   (unsigned long long)st.works, (unsigned long long)st.clusters,
                   (double)st.text_bytes / 1e6);
    rc_html_puts(b, "<dt>Index built</dt><dd>");
    put_time(b, st.created_unix);
    rc_html_printf(b, " (format version %u)</dd>", st.format_version);
    if (st.text_free)
        rc_html_puts(b, "<dt>Text-free</dt><dd>the index stores no text of its works: offsets "
                        "into them are exact, their text cannot be shown</dd>");
    rc_html_printf(b, "<dt>Options</dt><dd>min tokens %u",
                   co->min_tokens ? co->min_tokens : st.min_tokens);
    if (st.code_fingerprints)
        rc_html_printf(b, ", code min lexemes %u",
                       co->code_min_tokens ? co->code_min_tokens : st.code_min_tokens);
    if (co->exact_only)
        rc_html_puts(b, ", exact and normalized only");
    else
        rc_html_printf(b, ", near spans of similarity &ge; %.2f",
                       co->min_similarity > 0 ? co->min_similarity : 0.8);
    if (co->all_works)
        rc_html_puts(b, ", every work sharing common language itemized");
    else
        rc_html_printf(b, ", common language itemized for %u works",
                       co->common_sample ? co->common_sample : 3);
    if (co->background)
        rc_html_puts(b, ", background index of public text");
    if (co->skip_cmi)
        rc_html_puts(b, ", no CMI verdicts");
    rc_html_puts(b, "</dd></dl></div>");
    rc_html_puts(b, "<p class=\"legend\">Kinds: <span class=\"w0 k-exact\" "
                    "style=\"background:var(--c)\">exact</span><span class=\"w0 k-normalized\" "
                    "style=\"background:var(--c)\">normalized</span><span class=\"w0 k-near\">"
                    "near</span><span class=\"w0 k-common\">common language</span> &nbsp; "
                    "Differences: <span class=\"d-sub\">substituted</span><span "
                    "class=\"d-ins\">inserted</span><span class=\"d-del\">dropped</span></p>");
    rc_html_puts(b, "</header>");
}

/* ==== works ==== */

static const char *work_title(const recite_work_info *info, json_t *cmi, const char *field)
{
    const char *meta = strcmp(field, "title") == 0 ? info->title : info->author;
    return meta ? meta : json_string_value(json_object_get(cmi, field));
}

static void summary(ctx *c)
{
    rc_html *b = c->b;
    const recite_result *r = c->res;
    if (!r->nworks)
        return;
    rc_html_puts(b, "<section id=\"summary\"><h2>Works reproduced</h2><table><thead><tr><th>"
                    "Work</th><th>License</th><th>Source</th><th>Coverage</th><th>Longest"
                    "</th><th>CMI</th><th>Action</th></tr></thead><tbody>");
    for (size_t i = 0; i < r->nworks; i++) {
        const recite_work_hit *h = &r->works[i];
        recite_work_info info;
        if (recite_index_work(&info, c->idx, h->work) != RECITE_OK)
            continue;
        char cls[16];
        colour(cls, sizeof cls, (int)i);
        rc_html_printf(b, "<tr class=\"%s\"><td><span class=\"sw\"></span><a href=\"#w%zu\">", cls,
                       i);
        rc_html_text(b, info.id, strlen(info.id));
        rc_html_puts(b, "</a></td><td>");
        rc_html_text(b, h->license, strnlen(h->license, sizeof h->license));
        rc_html_puts(b, "</td><td>");
        rc_html_attrs(b, info.source ? info.source : "unknown");
        uint32_t words = rc_report_comment_words(r, h, info.mode);
        rc_html_printf(b, "</td><td>%.1f%% (%s)</td><td>%u%s</td><td>", 100.0 * h->coverage,
                       h->coverage >= RC_WHOLE_WORK_COVERAGE ? "whole" : "portion",
                       words ? words : h->longest_tokens, words ? " words (comments)" : "");
        static const char *const cmi[] = {"unknown", "none", "present", "absent", "altered"};
        rc_html_puts(b, (unsigned)h->cmi < RC_ARRAY_LEN(cmi) ? cmi[h->cmi] : "unknown");
        rc_html_printf(b, "</td><td>%s</td></tr>", recite_action_name(c->actions[i]));
    }
    rc_html_puts(b, "</tbody></table></section>");
}

static const char *cmi_sentence(recite_cmi_verdict v)
{
    switch (v) {
    case RECITE_CMI_NONE: return "none: the work carries no copyright notice or license";
    case RECITE_CMI_PRESENT: return "present: the output carries the work's notice or license";
    case RECITE_CMI_ABSENT:
        return "absent: the output reproduces the work without its notice or license";
    case RECITE_CMI_ALTERED:
        return "altered: the output shows a different notice, holder, years or license";
    default: return "unknown: the index was built without CMI";
    }
}

static void work_facts(ctx *c, size_t i, const recite_work_info *info)
{
    rc_html *b = c->b;
    const recite_work_hit *h = &c->res->works[i];
    json_t *cmi = info->cmi_json ? json_loads(info->cmi_json, 0, NULL) : NULL;
    rc_html_puts(b, "<dl class=\"kv\">");
    kv(b, "Title", work_title(info, cmi, "title"));
    kv(b, "Author", work_title(info, cmi, "author"));
    json_decref(cmi);
    rc_html_puts(b, "<dt>License</dt><dd>");
    if (h->license[0]) {
        rc_html_text(b, h->license, strnlen(h->license, sizeof h->license));
        rc_html_printf(b, " <span class=\"note\">(from %s",
                       recite_info_source_name(h->license_from));
        if (h->license_from == RECITE_FROM_HEADER || h->license_from == RECITE_FROM_TEXT)
            rc_html_printf(b, ", score %.2f", h->license_score);
        rc_html_puts(b, ")</span>");
    } else {
        rc_html_puts(b, "<span class=\"note\">unknown</span>");
    }
    rc_html_puts(b, "</dd>");
    kv(b, "Copyright", h->copyright[0] ? h->copyright : NULL);
    kv(b, "Source", info->source ? info->source : "unknown");
    if (info->url)
        kv(b, "URL", info->url);
    if (info->content_hash)
        kv(b, "Content hash", info->content_hash);
    uint32_t nmem;
    const uint32_t *mem = recite_index_cluster_members(c->idx, info->cluster, &nmem);
    if (nmem > 1) {
        rc_html_printf(b, "<dt>Identical copies</dt><dd>");
        for (uint32_t k = 0, shown = 0; k < nmem; k++) {
            recite_work_info o;
            if (mem[k] == h->work || recite_index_work(&o, c->idx, mem[k]) != RECITE_OK)
                continue;
            rc_html_puts(b, shown++ ? ", <code>" : "<code>");
            rc_html_text(b, o.id, strlen(o.id));
            rc_html_puts(b, "</code>");
        }
        rc_html_puts(b, "</dd>");
    }
    const char *unit = info->mode == RECITE_MODE_CODE ? "lexemes" : "words";
    uint32_t words = rc_report_comment_words(c->res, h, info->mode);
    rc_html_printf(b,
                   "<dt>Coverage</dt><dd>%.1f%%: %llu of %llu %s, in %u span%s%s "
                   "(<b>%s</b>)</dd><dt>Longest span</dt><dd>%u %s</dd>",
                   100.0 * h->coverage, (unsigned long long)h->tokens_covered,
                   (unsigned long long)info->tokens, unit, h->matches, h->matches == 1 ? "" : "s",
                   words ? " of its comments (words, no code)" : "",
                   h->coverage >= RC_WHOLE_WORK_COVERAGE ? "whole work" : "portion",
                   words ? words : h->longest_tokens, words ? "words" : unit);
    if (h->similarity < 1.0)
        rc_html_printf(b, "<dt>Similarity</dt><dd>%.2f</dd>", h->similarity);
    if (h->common)
        rc_html_puts(b, "<dt>Common language</dt><dd>every span is language common to many "
                        "unrelated works</dd>");
    rc_html_printf(b, "<dt>CMI</dt><dd class=\"cmi\">%s", cmi_sentence(h->cmi));
    if (h->cmi == RECITE_CMI_PRESENT || h->cmi == RECITE_CMI_ABSENT ||
        h->cmi == RECITE_CMI_ALTERED) {
        const char *exp = h->copyright[0] ? h->copyright : h->license;
        rc_html_puts(b, "<br>expected: ");
        if (exp[0]) {
            rc_html_puts(b, "<q>");
            rc_html_text(b, exp, strlen(exp));
            rc_html_puts(b, "</q>");
        } else {
            rc_html_puts(b, "<span class=\"note\">nothing known</span>");
        }
        rc_html_puts(b, "<br>found: ");
        if (h->cmi_found[0]) {
            rc_html_puts(b, "<q>");
            rc_html_text(b, h->cmi_found, strnlen(h->cmi_found, sizeof h->cmi_found));
            rc_html_printf(b, "</q> (output bytes %llu&ndash;%llu)",
                           (unsigned long long)h->cmi_found_start,
                           (unsigned long long)h->cmi_found_end);
        } else {
            rc_html_puts(b, "<span class=\"note\">nothing</span>");
        }
    }
    rc_html_printf(b, "</dd><dt>Policy</dt><dd class=\"action\"><b>%s</b>, ",
                   recite_action_name(c->actions[i]));
    if (c->rules[i] > 0) {
        rc_html_printf(b, "by rule %d: ", c->rules[i]);
        const char *why = rc_policy_rule_text(c->policy, c->rules[i]);
        rc_html_text(b, why, strlen(why));
    } else {
        rc_html_puts(b, "by the policy's default");
    }
    rc_html_puts(b, "</dd></dl>");
}

/* ==== evidence of a span ==== */

/* A window of `ctx` bytes around [a, z) of s[0, n), cut at UTF-8 boundaries. */
static void window(size_t n, size_t a, size_t z, size_t ctxb, size_t *from, size_t *to)
{
    *from = a > ctxb ? a - ctxb : 0;
    *to = z + ctxb < n ? z + ctxb : n;
}

static void cut_side(rc_html_side *s, const char *buf, size_t n, uint64_t offset, size_t a,
                     size_t z, uint64_t doc_len)
{
    size_t from = rc_html_utf8_cut(buf, n, 0), to = n;
    /* Context starts and ends at a word boundary when one is near. */
    if (offset > 0)
        for (size_t k = from; k < a && k < from + 40; k++)
            if (buf[k] == ' ' || buf[k] == '\n') {
                from = k + 1;
                break;
            }
    if (from > a)
        from = a;
    if (offset + n < doc_len)
        for (size_t k = to; k > z && k + 40 > to; k--)
            if (buf[k - 1] == ' ' || buf[k - 1] == '\n') {
                to = k - 1;
                break;
            }
    while (to > z && to < n && ((unsigned char)buf[to] & 0xc0) == 0x80)
        to--;
    s->text = buf + from;
    s->len = to - from;
    s->span_start = a - from;
    s->span_end = z - from;
    s->offset = offset + from;
    s->cut_before = s->offset > 0;
    s->cut_after = s->offset + s->len < doc_len;
}

static int evidence(ctx *c, size_t mi, size_t nth, size_t total, recite_error *err)
{
    rc_html *b = c->b;
    const recite_match *m = &c->res->matches[mi];
    recite_work_info info;
    if (recite_index_work(&info, c->idx, m->work) != RECITE_OK)
        return RECITE_OK;
    char cls[64];
    colour(cls, 16, c->rank[mi]);
    const char *unit = info.mode == RECITE_MODE_CODE ? "lexemes" : "words";
    rc_html_printf(b,
                   "<div class=\"ev\" id=\"m%zu\" data-start=\"%llu\" data-end=\"%llu\" "
                   "data-src-start=\"%llu\" data-src-end=\"%llu\" data-kind=\"%s\"><div "
                   "class=\"ev-h\">Span %zu of %zu: output bytes %llu&ndash;%llu &harr; work "
                   "bytes %llu&ndash;%llu<span class=\"tag\">%u %s</span><span class=\"tag\">%s",
                   mi, (unsigned long long)m->out_start, (unsigned long long)m->out_end,
                   (unsigned long long)m->src_start, (unsigned long long)m->src_end,
                   kind_name(m->kind), nth, total, (unsigned long long)m->out_start,
                   (unsigned long long)m->out_end, (unsigned long long)m->src_start,
                   (unsigned long long)m->src_end, m->tokens, unit, kind_name(m->kind));
    if (m->kind == RECITE_KIND_NEAR)
        rc_html_printf(b, " %.2f", m->similarity);
    rc_html_puts(b, "</span>");
    if (m->common)
        rc_html_puts(b, "<span class=\"tag\">common language</span>");
    /* Where the span is in the original: page, chapter, member, line. */
    recite_locator loc;
    int lrc = recite_index_locate(&loc, c->idx, m->work, m->src_start, NULL);
    if (lrc == RECITE_ENOMEM) /* the report fails rather than lose the locator */
        b->oom = true;
    if (lrc == RECITE_OK) {
        if (loc.page)
            rc_html_printf(b, "<span class=\"tag\">page %u of %u</span>", loc.page, loc.pages);
        if (loc.chapter) {
            rc_html_printf(b, "<span class=\"tag\">chapter %u", loc.chapter);
            if (loc.chapter_title) {
                rc_html_puts(b, ": ");
                rc_html_text(b, loc.chapter_title, strlen(loc.chapter_title));
            }
            rc_html_puts(b, "</span>");
        }
        if (loc.member) {
            rc_html_puts(b, "<span class=\"tag\">member ");
            rc_html_text(b, loc.member, strlen(loc.member));
            rc_html_puts(b, "</span>");
        }
        if (loc.line && !loc.page && !loc.chapter)
            rc_html_printf(b, "<span class=\"tag\">line %llu</span>", (unsigned long long)loc.line);
    }
    rc_html_puts(b, "</div>");

    size_t ctxb = c->opt.context_bytes;
    size_t of, ot;
    window(c->len, (size_t)m->out_start, (size_t)m->out_end, ctxb, &of, &ot);
    rc_html_side out;
    cut_side(&out, c->text + of, ot - of, of, (size_t)m->out_start - of, (size_t)m->out_end - of,
             c->len);
    size_t wf, wt;
    window((size_t)info.bytes, (size_t)m->src_start, (size_t)m->src_end, ctxb, &wf, &wt);
    char *wtext = NULL, note[700];
    size_t wlen = 0;
    recite_error e = {0};
    int rc = recite_index_work_text(&wtext, &wlen, c->idx, m->work, wf, wt, &e);
    rc_html_side work = {0};
    if (rc == RECITE_ENOMEM)
        return rc_error_set(err, rc, "out of memory reading a work's text");
    if (rc == RECITE_OK && wlen == wt - wf) {
        cut_side(&work, wtext, wlen, wf, (size_t)m->src_start - wf, (size_t)m->src_end - wf,
                 info.bytes);
    } else if (rc == RECITE_ENOTEXT) {
        snprintf(note, sizeof note,
                 "Bytes %llu-%llu of the work. The index is text-free: it keeps no text of its "
                 "works, so the work's side cannot be shown; look the offsets up in the "
                 "original.",
                 (unsigned long long)m->src_start, (unsigned long long)m->src_end);
    } else {
        snprintf(note, sizeof note, "Bytes %llu-%llu of the work; its text could not be read: %s",
                 (unsigned long long)m->src_start, (unsigned long long)m->src_end,
                 rc == RECITE_OK ? "short read" : e.message);
    }
    char mark[96];
    snprintf(mark, sizeof mark, "%s k-%s%s", cls, kind_name(m->kind), m->common ? " k-common" : "");
    rc_html_span_view view = {(int)info.mode, m->kind == RECITE_KIND_NEAR, mark};
    rc_html_evidence(b, c->tz, &view, &out, work.text ? &work : NULL, note);
    free(wtext);
    c->evidence_bytes += (ot - of) + wlen;
    rc_html_puts(b, "</div>");
    return RECITE_OK;
}

/* ==== the checked text, highlighted ==== */

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Whether match x should colour a segment rather than y: not common language first, then the
 * work reported first (most covered), then the longer span. */
static bool before(const ctx *c, size_t x, size_t y)
{
    const recite_match *a = &c->res->matches[x], *b = &c->res->matches[y];
    if (a->common != b->common)
        return !a->common;
    unsigned ra = (unsigned)c->rank[x], rb = (unsigned)c->rank[y]; /* -1: last */
    if (ra != rb)
        return ra < rb;
    return a->out_end - a->out_start > b->out_end - b->out_start;
}

static void segment(ctx *c, size_t from, size_t to, const size_t *act, size_t nact)
{
    rc_html *b = c->b;
    size_t top = act[0];
    bool all_common = true;
    for (size_t k = 0; k < nact; k++) {
        if (before(c, act[k], top))
            top = act[k];
        all_common &= c->res->matches[act[k]].common != 0;
    }
    const recite_match *m = &c->res->matches[top];
    char cls[16];
    colour(cls, sizeof cls, c->rank[top]);
    char href[32]; /* the span's evidence, else its work's entry */
    if (c->shown[top])
        snprintf(href, sizeof href, "m%zu", top);
    else if (c->rank[top] >= 0)
        snprintf(href, sizeof href, "w%d", c->rank[top]);
    else
        snprintf(href, sizeof href, "text");
    rc_html_printf(b,
                   "<a class=\"hl %s k-%s%s\" href=\"#%s\" data-start=\"%zu\" data-end=\"%zu\" "
                   "data-matches=\"",
                   cls, kind_name(m->kind), all_common ? " k-common" : "", href, from, to);
    for (size_t k = 0; k < nact; k++)
        rc_html_printf(b, k ? " %zu" : "%zu", act[k]);
    rc_html_puts(b, "\" title=\"");
    for (size_t k = 0; k < nact && k < TITLE_WORKS; k++) {
        const recite_match *x = &c->res->matches[act[k]];
        recite_work_info info;
        if (recite_index_work(&info, c->idx, x->work) != RECITE_OK)
            continue;
        rc_html_puts(b, k ? "; " : "");
        rc_html_attrs(b, info.id);
        rc_html_printf(b, " (%s%s)", kind_name(x->kind), x->common ? ", common" : "");
    }
    if (nact > TITLE_WORKS)
        rc_html_printf(b, "; and %zu more", nact - TITLE_WORKS);
    rc_html_puts(b, "\">");
    rc_html_text(b, c->text + from, to - from);
    rc_html_puts(b, "</a>");
}

static int output_text(ctx *c, recite_error *err)
{
    rc_html *b = c->b;
    const recite_result *r = c->res;
    size_t nm = r->nmatches;
    uint64_t *cuts = malloc((2 * nm + 1) * sizeof *cuts);
    size_t *order = malloc((nm + 1) * sizeof *order), *act = malloc((nm + 1) * sizeof *act);
    if (!cuts || !order || !act) {
        free(cuts), free(order), free(act);
        return rc_error_set(err, RECITE_ENOMEM, "out of memory rendering the report");
    }
    size_t ncuts = 0;
    for (size_t i = 0; i < nm; i++) {
        order[i] = i;
        cuts[ncuts++] = RC_MIN(r->matches[i].out_start, c->len);
        cuts[ncuts++] = RC_MIN(r->matches[i].out_end, c->len);
    }
    rc_sort(cuts, ncuts, sizeof *cuts, cmp_u64);
    /* matches come sorted by out_start (recite_result); the sweep relies on it */
    for (size_t i = 1; i < nm; i++)
        if (r->matches[i].out_start < r->matches[i - 1].out_start) {
            free(cuts), free(order), free(act);
            return rc_error_set(err, RECITE_EINVAL, "matches are not sorted by output offset");
        }
    rc_html_puts(b, "<section id=\"text\"><h2>The checked text</h2><pre id=\"output\">");
    size_t pos = 0, next = 0, nact = 0;
    for (size_t k = 0; k < ncuts; k++) {
        size_t at = (size_t)cuts[k];
        if (at == pos && k > 0)
            continue;
        if (at > pos) {
            if (nact)
                segment(c, pos, at, act, nact);
            else
                rc_html_text(b, c->text + pos, at - pos);
            pos = at;
        }
        /* The matches covering [pos, next cut): drop those ending here, add those starting. */
        size_t keep = 0;
        for (size_t q = 0; q < nact; q++)
            if (r->matches[act[q]].out_end > pos)
                act[keep++] = act[q];
        nact = keep;
        while (next < nm && r->matches[order[next]].out_start <= pos) {
            if (r->matches[order[next]].out_end > pos)
                act[nact++] = order[next];
            next++;
        }
    }
    rc_html_text(b, c->text + pos, c->len - pos);
    rc_html_puts(b, "</pre></section>");
    free(cuts), free(order), free(act);
    return RECITE_OK;
}

/* ==== the document ==== */

static int works(ctx *c, recite_error *err)
{
    rc_html *b = c->b;
    const recite_result *r = c->res;
    size_t total = r->nmatches, nth = 0;
    if (!r->nworks)
        return RECITE_OK;
    rc_html_puts(b, "<section id=\"works\"><h2>Evidence, work by work</h2>");
    for (size_t i = 0; i < r->nworks; i++) {
        recite_work_info info;
        if (recite_index_work(&info, c->idx, r->works[i].work) != RECITE_OK)
            continue;
        char cls[16];
        colour(cls, sizeof cls, (int)i);
        rc_html_printf(b,
                       "<section class=\"work %s\" id=\"w%zu\"><h3><span class=\"sw\">"
                       "</span>",
                       cls, i);
        rc_html_text(b, info.id, strlen(info.id));
        rc_html_puts(b, "</h3>");
        work_facts(c, i, &info);
        size_t listed = 0;
        for (size_t k = 0; k < r->nmatches; k++) {
            if (c->rank[k] != (int)i)
                continue;
            nth++;
            if (c->shown[k]) {
                int rc = evidence(c, k, nth, total, err);
                if (rc != RECITE_OK)
                    return rc;
            } else {
                const recite_match *m = &r->matches[k];
                rc_html_printf(b,
                               "%s<li data-start=\"%llu\" data-end=\"%llu\">output bytes "
                               "%llu&ndash;%llu, work bytes %llu&ndash;%llu, %u tokens, "
                               "%s</li>",
                               listed++ ? ""
                                        : "<p class=\"note\">Further spans, not shown side "
                                          "by side (report size limits):</p><ul>",
                               (unsigned long long)m->out_start, (unsigned long long)m->out_end,
                               (unsigned long long)m->out_start, (unsigned long long)m->out_end,
                               (unsigned long long)m->src_start, (unsigned long long)m->src_end,
                               m->tokens, kind_name(m->kind));
            }
        }
        if (listed)
            rc_html_puts(b, "</ul>");
        rc_html_puts(b, "</section>");
    }
    rc_html_puts(b, "</section>");
    return RECITE_OK;
}

int recite_report_html(char **out, const recite_index *idx, const recite_policy *policy,
                       const char *input_name, const char *text, size_t len,
                       const recite_result *res, const recite_report_html_options *opt,
                       recite_error *err)
{
    *out = NULL;
    recite_report_html_options o = RECITE_REPORT_HTML_OPTIONS_INIT;
    if (opt && opt->version != RECITE_REPORT_HTML_OPTIONS_VERSION)
        return rc_error_set(err, RECITE_EINVAL,
                            "recite_report_html_options version %u, expected %u", opt->version,
                            RECITE_REPORT_HTML_OPTIONS_VERSION);
    if (opt)
        o = *opt;
    if (!o.context_bytes)
        o.context_bytes = DEFAULT_CONTEXT;
    if (!o.max_evidence)
        o.max_evidence = DEFAULT_MAX_EVIDENCE;
    if (!o.checked_unix)
        o.checked_unix = (uint64_t)time(NULL);
    rc_html b = {0};
    size_t n = res->nmatches + 1, nw = res->nworks + 1;
    ctx c = {.b = &b,
             .idx = idx,
             .policy = policy,
             .input_name = input_name ? input_name : "-",
             .text = text,
             .len = len,
             .res = res,
             .opt = o};
    c.rank = malloc(n * sizeof *c.rank);
    c.shown = calloc(n, sizeof *c.shown);
    c.actions = calloc(nw, sizeof *c.actions);
    c.rules = calloc(nw, sizeof *c.rules);
    c.tz = malloc(sizeof *c.tz);
    int rc = RECITE_OK;
    if (!c.rank || !c.shown || !c.actions || !c.rules || !c.tz) {
        rc = rc_error_set(err, RECITE_ENOMEM, "out of memory rendering the report");
        goto done;
    }
    c.verdict = recite_policy_decide(c.actions, c.rules, policy, idx, res);
    for (size_t i = 0; i < res->nmatches; i++) {
        c.rank[i] = -1;
        for (size_t k = 0; k < res->nworks && c.rank[i] < 0; k++)
            if (res->works[k].work == res->matches[i].work)
                c.rank[i] = (int)k;
    }
    /* Evidence for the first spans of each work in report order, within the limits. */
    size_t shown = 0;
    for (size_t k = 0; k < res->nworks; k++)
        for (size_t i = 0; i < res->nmatches; i++)
            if (c.rank[i] == (int)k && shown < o.max_evidence) {
                c.shown[i] = true;
                shown++;
            }

    rc_html_puts(&b, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                     "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
                     "<meta name=\"generator\" content=\"recite ");
    rc_html_puts(&b, recite_version());
    rc_html_puts(&b, "\"><title>Recitation evidence: ");
    rc_html_text(&b, c.input_name, strlen(c.input_name));
    rc_html_printf(&b, "</title><style>%s</style></head><body>\n", css);
    header(&c);
    summary(&c);
    if ((rc = output_text(&c, err)) != RECITE_OK)
        goto done;
    for (size_t i = 0; i < res->nmatches; i++)
        if (c.rank[i] < 0 && c.shown[i])
            c.shown[i] = false; /* no work entry to show it under (cannot happen) */
    if ((rc = works(&c, err)) != RECITE_OK)
        goto done;
    if (res->text_free && res->nmatches)
        rc_html_puts(&b, "<p class=\"note\">The index is text-free: offsets into the works "
                         "are exact, but their text is not stored and cannot be quoted.</p>");
    rc_html_printf(&b,
                   "<footer>Generated by recite %s. Byte offsets are end-exclusive; tokens "
                   "are words for prose and lexemes for code.</footer>\n</body></html>\n",
                   recite_version());
    if (b.oom)
        rc = rc_error_set(err, RECITE_ENOMEM, "out of memory rendering the report");
done:
    free(c.rank);
    free(c.shown);
    free(c.actions);
    free(c.rules);
    free(c.tz);
    if (rc != RECITE_OK) {
        free(b.s);
        return rc;
    }
    *out = b.s;
    return RECITE_OK;
}

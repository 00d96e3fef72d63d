/*
 * rc_report_html.h — the pieces of the HTML evidence report (report_html.c): a growing output
 * buffer with HTML escaping that keeps every byte of the checked text accountable
 * (report_html_esc.c), and the side-by-side evidence of one span with the word-level
 * differences of near spans (report_html_diff.c).
 */
#ifndef RC_REPORT_HTML_H
#define RC_REPORT_HTML_H

#include "../common/rc_common.h"
#include "../text/rc_text.h"

/* ==== output buffer (report_html_esc.c) ==== */

typedef struct rc_html {
    char *s;
    size_t n, cap;
    bool oom; /* an allocation failed: everything after it is dropped */
} rc_html;

void rc_html_put(rc_html *b, const char *s, size_t n);
void rc_html_puts(rc_html *b, const char *s);
void rc_html_printf(rc_html *b, const char *fmt, ...) RC_PRINTF(2, 3);

/* Appends s[0, n) as HTML text. Bytes the parser would not keep as they are (invalid UTF-8,
 * controls other than tab and newline, carriage returns, C1 controls and noncharacters) become
 * <span class="raw" data-bytes="N">shown</span>, so that the bytes of the source are
 * accountable from the document: each text character is its own UTF-8, each raw span stands
 * for data-bytes bytes. */
void rc_html_text(rc_html *b, const char *s, size_t n);

/* The same for an attribute value or a title: no markup; what cannot be shown as it is becomes
 * U+FFFD, line breaks a space. */
void rc_html_attr(rc_html *b, const char *s, size_t n);
void rc_html_attrs(rc_html *b, const char *s); /* NUL-terminated; NULL writes nothing */

/* Moves a cut at `pos` of s[0, n) forward to the start of a UTF-8 sequence. */
size_t rc_html_utf8_cut(const char *s, size_t n, size_t pos);

/* ==== evidence of one span (report_html_diff.c) ==== */

typedef struct rc_html_side {
    const char *text; /* the context window: text[0, len) */
    size_t len;
    size_t span_start, span_end; /* the span within the window */
    uint64_t offset;             /* byte offset of text[0] in its document */
    bool cut_before, cut_after;  /* the window does not reach the document's ends */
} rc_html_side;

typedef struct rc_html_span_view {
    int mode;               /* RECITE_MODE_PROSE or _CODE: how both sides are tokenized */
    bool diff;              /* mark the word-level differences (near spans) */
    const char *mark_class; /* classes of the highlighted span, e.g. "k-near w3" */
} rc_html_span_view;

/* Writes the two panes of a span's evidence (output left, work right; `work` NULL: a note that
 * the work's text is not available, with its offsets). With view->diff, tokens of both spans
 * are aligned and substituted, inserted and dropped tokens (renamed identifiers and changed
 * literals for code) are marked, followed by a summary line. `tz` is scratch space. */
void rc_html_evidence(rc_html *b, rc_tokenizer *tz, const rc_html_span_view *view,
                      const rc_html_side *output, const rc_html_side *work, const char *work_note);

#endif /* RC_REPORT_HTML_H */

/*
 * extract_pdf.c — PDF with poppler (poppler-glib: GPL-2.0 or GPL-3.0, see the README): the text
 * layer of every page in reading order, pages separated by a form feed (a line break to the
 * tokenizer, so a word hyphenated across pages still joins), each page's start recorded as a
 * locator; the document information (title, author, subject, keywords, dates) and the XMP
 * dc:rights as metadata. Without a text layer (a scan without OCR) or encrypted, the PDF is
 * skipped with a note saying so. Poppler reports damage through GLib's log at debug level,
 * which prints nothing unless G_MESSAGES_DEBUG asks for it.
 */
#include "rc_extract.h"

#include <dlfcn.h>
#include <poppler.h>
#include <stdio.h>
#include <time.h>

/* What this file calls of poppler-glib and the GLib it brings, loaded on first use (dl.c). */
#define PDF_FUNCTIONS(X, a)                                                                        \
    X(a, g_bytes_new_static)                                                                       \
    X(a, g_bytes_unref)                                                                            \
    X(a, g_clear_error)                                                                            \
    X(a, g_free)                                                                                   \
    X(a, g_object_unref)                                                                           \
    X(a, g_utf8_validate)                                                                          \
    X(a, poppler_document_get_author)                                                              \
    X(a, poppler_document_get_creation_date)                                                       \
    X(a, poppler_document_get_creator)                                                             \
    X(a, poppler_document_get_keywords)                                                            \
    X(a, poppler_document_get_metadata)                                                            \
    X(a, poppler_document_get_n_pages)                                                             \
    X(a, poppler_document_get_page)                                                                \
    X(a, poppler_document_get_producer)                                                            \
    X(a, poppler_document_get_subject)                                                             \
    X(a, poppler_document_get_title)                                                               \
    X(a, poppler_document_new_from_bytes)                                                          \
    X(a, poppler_error_quark)                                                                      \
    X(a, poppler_page_get_text)

RC_DL_TABLE(pp, pdf_resolve, PDF_FUNCTIONS)
static rc_dl pdf_dl = RC_DL_INIT;

static void put_string(json_t *meta, const char *key, gchar *value)
{
    if (value && *value && pp.g_utf8_validate_(value, -1, NULL))
        json_object_set_new(meta, key, json_string(value));
    pp.g_free_(value);
}

/* dc:rights of the XMP metadata packet, if any. */
static void xmp_rights(PopplerDocument *doc, json_t *meta)
{
    gchar *xmp = pp.poppler_document_get_metadata_(doc);
    if (!xmp)
        return;
    xmlDoc *x = rc_markup_parse((const uint8_t *)xmp, strlen(xmp), true);
    xmlNode *rights = x ? rc_markup_find(rc_markup_root(x), "rights") : NULL;
    char *text = rights ? rc_markup_inline_text(rights) : NULL;
    if (text && !json_object_get(meta, "copyright"))
        json_object_set_new(meta, "copyright", json_string(text));
    free(text);
    rc_markup_free(x);
    pp.g_free_(xmp);
}

static void info_date(json_t *meta, time_t t)
{
    if (t <= 0)
        return;
    struct tm tm;
    char buf[32];
    if (gmtime_r(&t, &tm) && strftime(buf, sizeof buf, "%Y-%m-%d", &tm) > 0)
        json_object_set_new(meta, "date", json_string(buf));
}

typedef RC_VEC(char) charvec;

/* Appends s without its trailing whitespace; returns the number of non-blank bytes. */
static size_t append_page(charvec *text, const char *s, bool *oom)
{
    size_t n = strlen(s), visible = 0;
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\n' || s[n - 1] == '\r' || s[n - 1] == '\t'))
        n--;
    for (size_t i = 0; i < n; i++)
        visible += !(s[i] == ' ' || s[i] == '\n' || s[i] == '\r' || s[i] == '\t' || s[i] == '\f');
    if (RC_VEC_RESERVE(*text, text->n + n + 2) != RECITE_OK) {
        *oom = true;
        return 0;
    }
    memcpy(text->v + text->n, s, n);
    text->n += n;
    return visible;
}

int rc_extract_pdf(const uint8_t *data, size_t len, rc_work_out *out, json_t *meta, char *why,
                   size_t why_cap)
{
    if (rc_dl_load(&pdf_dl, RC_SONAME_POPPLER, pdf_resolve, why, why_cap) != RECITE_OK)
        return RECITE_OK; /* skipped: why says which library reading it needs */
    GBytes *bytes = pp.g_bytes_new_static_(data, len);
    GError *gerr = NULL;
    PopplerDocument *doc = pp.poppler_document_new_from_bytes_(bytes, NULL, &gerr);
    if (!doc) {
        bool encrypted = gerr && gerr->domain == pp.poppler_error_quark_() &&
                         gerr->code == POPPLER_ERROR_ENCRYPTED;
        snprintf(why, why_cap, "%s%s",
                 encrypted ? "encrypted PDF (a password is needed)" : "unreadable PDF: ",
                 encrypted               ? ""
                 : gerr && gerr->message ? gerr->message
                                         : "damaged");
        pp.g_clear_error_(&gerr);
        pp.g_bytes_unref_(bytes);
        return RECITE_OK;
    }
    put_string(meta, "title", pp.poppler_document_get_title_(doc));
    put_string(meta, "author", pp.poppler_document_get_author_(doc));
    put_string(meta, "subject", pp.poppler_document_get_subject_(doc));
    put_string(meta, "keywords", pp.poppler_document_get_keywords_(doc));
    put_string(meta, "creator", pp.poppler_document_get_creator_(doc));
    put_string(meta, "producer", pp.poppler_document_get_producer_(doc));
    info_date(meta, pp.poppler_document_get_creation_date_(doc));
    xmp_rights(doc, meta);
    int npages = pp.poppler_document_get_n_pages_(doc);
    json_object_set_new(meta, "pages", json_integer(npages > 0 ? npages : 0));
    charvec text = {0};
    bool oom = false;
    size_t visible = 0;
    for (int i = 0; i < npages && !oom; i++) {
        if (i > 0)
            text.v[text.n++] = '\f'; /* room was reserved by append_page */
        if (text.n > UINT32_MAX) {
            snprintf(why, why_cap, "its text is larger than 4 GiB, the limit for one work");
            break;
        }
        if (RC_VEC_PUSH(out->pages, (uint32_t)text.n) != RECITE_OK) {
            oom = true;
            break;
        }
        PopplerPage *page = pp.poppler_document_get_page_(doc, i);
        gchar *t = page ? pp.poppler_page_get_text_(page) : NULL;
        if (t && pp.g_utf8_validate_(t, -1, NULL))
            visible += append_page(&text, t, &oom);
        else if (RC_VEC_RESERVE(text, text.n + 2) != RECITE_OK)
            oom = true;
        pp.g_free_(t);
        if (page)
            pp.g_object_unref_(page);
    }
    pp.g_object_unref_(doc);
    pp.g_bytes_unref_(bytes);
    if (oom || why[0]) {
        RC_VEC_FREE(text);
        return oom ? RECITE_ENOMEM : RECITE_OK;
    }
    if (visible == 0) {
        RC_VEC_FREE(text);
        snprintf(why, why_cap,
                 npages > 0 ? "no text layer in its %d pages (a scan without OCR?)"
                            : "no pages%.0d",
                 npages);
        return RECITE_OK;
    }
    out->text = (uint8_t *)text.v;
    out->text_len = text.n;
    return RECITE_OK;
}

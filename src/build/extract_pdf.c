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

#include <poppler.h>
#include <stdio.h>
#include <time.h>

static void put_string(json_t *meta, const char *key, gchar *value)
{
    if (value && *value && g_utf8_validate(value, -1, NULL))
        json_object_set_new(meta, key, json_string(value));
    g_free(value);
}

/* dc:rights of the XMP metadata packet, if any. */
static void xmp_rights(PopplerDocument *doc, json_t *meta)
{
    gchar *xmp = poppler_document_get_metadata(doc);
    if (!xmp)
        return;
    xmlDoc *x = rc_markup_parse((const uint8_t *)xmp, strlen(xmp), true);
    xmlNode *rights = x ? rc_markup_find(xmlDocGetRootElement(x), "rights") : NULL;
    char *text = rights ? rc_markup_inline_text(rights) : NULL;
    if (text && !json_object_get(meta, "copyright"))
        json_object_set_new(meta, "copyright", json_string(text));
    free(text);
    xmlFreeDoc(x);
    g_free(xmp);
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
    GBytes *bytes = g_bytes_new_static(data, len);
    GError *gerr = NULL;
    PopplerDocument *doc = poppler_document_new_from_bytes(bytes, NULL, &gerr);
    if (!doc) {
        bool encrypted =
            gerr && gerr->domain == POPPLER_ERROR && gerr->code == POPPLER_ERROR_ENCRYPTED;
        snprintf(why, why_cap, "%s%s",
                 encrypted ? "encrypted PDF (a password is needed)" : "unreadable PDF: ",
                 encrypted               ? ""
                 : gerr && gerr->message ? gerr->message
                                         : "damaged");
        g_clear_error(&gerr);
        g_bytes_unref(bytes);
        return RECITE_OK;
    }
    put_string(meta, "title", poppler_document_get_title(doc));
    put_string(meta, "author", poppler_document_get_author(doc));
    put_string(meta, "subject", poppler_document_get_subject(doc));
    put_string(meta, "keywords", poppler_document_get_keywords(doc));
    put_string(meta, "creator", poppler_document_get_creator(doc));
    put_string(meta, "producer", poppler_document_get_producer(doc));
    info_date(meta, poppler_document_get_creation_date(doc));
    xmp_rights(doc, meta);
    int npages = poppler_document_get_n_pages(doc);
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
        PopplerPage *page = poppler_document_get_page(doc, i);
        gchar *t = page ? poppler_page_get_text(page) : NULL;
        if (t && g_utf8_validate(t, -1, NULL))
            visible += append_page(&text, t, &oom);
        else if (RC_VEC_RESERVE(text, text.n + 2) != RECITE_OK)
            oom = true;
        g_free(t);
        if (page)
            g_object_unref(page);
    }
    g_object_unref(doc);
    g_bytes_unref(bytes);
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

/*
 * extract_html.c — markup to text with libxml2, for HTML pages and the XHTML chapters of EPUB
 * books: the visible text (scripts, styles, templates and navigation dropped; entities decoded
 * by the parser), with HTML's whitespace rules, a blank line between blocks and a line break
 * for <br> and list items, so that paragraphs stay paragraphs for the tokenizer. A page's
 * <title> and its author and copyright <meta> become the work's metadata. The parsers are
 * told to print nothing and to fetch nothing from the network.
 */
#include "rc_extract.h"
#include "../text/rc_text.h"

#include <dlfcn.h>
#include <libxml/HTMLparser.h>
#include <libxml/parser.h>
#include <strings.h>

/* What this file calls of libxml2, loaded on first use (dl.c); the other readers of markup
 * (EPUB, PDF metadata) go through rc_markup_*. */
#define XML_FUNCTIONS(X, a)                                                                        \
    X(a, htmlReadMemory)                                                                           \
    X(a, xmlDocGetRootElement)                                                                     \
    X(a, xmlFreeDoc)                                                                               \
    X(a, xmlHasProp)                                                                               \
    X(a, xmlInitParser)                                                                            \
    X(a, xmlNodeListGetString)                                                                     \
    X(a, xmlReadMemory)

RC_DL_TABLE(lx, xml_table, XML_FUNCTIONS)
static rc_dl xml_dl = RC_DL_INIT;
static xmlFreeFunc *xml_free_var; /* libxml2's variable xmlFree: the function it frees with */

/* The table, xmlFree, and the parser initialized once, before any thread parses. */
static const char *xml_resolve(void *handle)
{
    const char *missing = xml_table(handle);
    if (!missing && !RC_DL_SYM(handle, xml_free_var, "xmlFree"))
        missing = "xmlFree";
    if (!missing)
        lx.xmlInitParser_();
    return missing;
}

static void xml_free(void *p)
{
    (*xml_free_var)(p);
}

/* ==== a text with HTML's whitespace ==== */

static void tb_append(rc_textbuf *tb, const char *s, size_t n)
{
    if (tb->oom || RC_VEC_RESERVE(tb->s, tb->s.n + n + 1) != RECITE_OK) {
        tb->oom = true;
        return;
    }
    memcpy(tb->s.v + tb->s.n, s, n);
    tb->s.n += n;
    tb->s.v[tb->s.n] = 0;
}

void rc_textbuf_break(rc_textbuf *tb, unsigned n)
{
    if (n > tb->breaks)
        tb->breaks = n;
}

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f';
}

void rc_textbuf_put(rc_textbuf *tb, const char *s, size_t n, bool pre)
{
    for (size_t i = 0; i < n;) {
        if (!pre && is_space(s[i])) {
            tb->space = true;
            i++;
            continue;
        }
        size_t j = i;
        if (pre)
            j = n;
        else
            while (j < n && !is_space(s[j]))
                j++;
        if (tb->s.n > 0 && tb->breaks) {
            tb_append(tb, "\n\n", tb->breaks > 1 ? 2 : 1);
        } else if (tb->s.n > 0 && tb->space) {
            tb_append(tb, " ", 1);
        }
        tb->breaks = 0;
        tb->space = false;
        tb_append(tb, s + i, j - i);
        i = j;
    }
}

/* ==== elements ==== */

static bool name_in(const xmlChar *name, const char *const *list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (strcasecmp((const char *)name, list[i]) == 0)
            return true;
    return false;
}

static const char *const dropped[] = {
    "script", "style",  "noscript", "template", "nav",    "head",  "svg",   "math", "iframe",
    "object", "button", "select",   "textarea", "canvas", "video", "audio", "map"};
static const char *const page_dropped[] = {"header", "footer", "aside", "form"};
static const char *const blocks[] = {
    "p",       "div",        "h1",      "h2",      "h3",         "h4",     "h5",      "h6",
    "ul",      "ol",         "dl",      "table",   "blockquote", "pre",    "section", "article",
    "figure",  "figcaption", "hr",      "address", "main",       "header", "footer",  "aside",
    "caption", "fieldset",   "details", "summary", "body",       "center", "hgroup"};
static const char *const lines[] = {"br", "li", "tr", "dt", "dd", "option"};

char *rc_xml_attr(xmlNode *node, const char *name)
{
    for (xmlAttr *a = node->properties; a; a = a->next) {
        if (strcasecmp((const char *)a->name, name) != 0)
            continue;
        xmlChar *v = lx.xmlNodeListGetString_(node->doc, a->children, 1);
        if (!v)
            return NULL;
        char *copy = strdup((const char *)v);
        xml_free(v);
        return copy;
    }
    return NULL;
}

/* Elements a page hides or marks as navigation. */
static bool hidden_element(xmlNode *n)
{
    char *role = rc_xml_attr(n, "role"), *aria = rc_xml_attr(n, "aria-hidden");
    bool h = (role && strcasecmp(role, "navigation") == 0) || (aria && strcmp(aria, "true") == 0) ||
             lx.xmlHasProp_(n, (const xmlChar *)"hidden") != NULL; /* a value-less attribute */
    free(role);
    free(aria);
    return h;
}

static void html_text(rc_textbuf *tb, xmlNode *node, unsigned flags, bool pre, unsigned depth)
{
    for (xmlNode *n = node; n && !tb->oom; n = n->next) {
        if (n->type == XML_TEXT_NODE || n->type == XML_CDATA_SECTION_NODE) {
            if (n->content)
                rc_textbuf_put(tb, (const char *)n->content, strlen((const char *)n->content), pre);
            continue;
        }
        if (n->type != XML_ELEMENT_NODE)
            continue;
        if (name_in(n->name, dropped, RC_ARRAY_LEN(dropped)) ||
            ((flags & RC_HTML_PAGE) &&
             name_in(n->name, page_dropped, RC_ARRAY_LEN(page_dropped))) ||
            hidden_element(n))
            continue;
        bool block = name_in(n->name, blocks, RC_ARRAY_LEN(blocks));
        bool line = name_in(n->name, lines, RC_ARRAY_LEN(lines));
        bool cell = strcasecmp((const char *)n->name, "td") == 0 ||
                    strcasecmp((const char *)n->name, "th") == 0;
        if (block)
            rc_textbuf_break(tb, 2);
        else if (line)
            rc_textbuf_break(tb, 1);
        else if (cell)
            tb->space = true;
        if (strcasecmp((const char *)n->name, "img") == 0) {
            char *alt = rc_xml_attr(n, "alt");
            if (alt)
                rc_textbuf_put(tb, alt, strlen(alt), false);
            free(alt);
        }
        if (depth < 256) /* libxml2 limits nesting too; this keeps the stack small anyway */
            html_text(tb, n->children, flags, pre || strcasecmp((const char *)n->name, "pre") == 0,
                      depth + 1);
        if (block)
            rc_textbuf_break(tb, 2);
        else if (line && strcasecmp((const char *)n->name, "br") != 0)
            rc_textbuf_break(tb, 1);
        else if (cell)
            tb->space = true;
    }
}

void rc_markup_text(rc_textbuf *tb, xmlNode *node, unsigned flags)
{
    if (node)
        html_text(tb, node->children, flags, false, 0);
}

char *rc_markup_inline_text(xmlNode *node)
{
    rc_textbuf tb = {0};
    html_text(&tb, node ? node->children : NULL, 0, false, 0);
    if (tb.oom || tb.s.n == 0) {
        RC_VEC_FREE(tb.s);
        return NULL;
    }
    for (size_t i = 0; i < tb.s.n; i++)
        if (tb.s.v[i] == '\n')
            tb.s.v[i] = ' ';
    return tb.s.v;
}

xmlNode *rc_markup_find(xmlNode *node, const char *name)
{
    for (xmlNode *n = node; n; n = n->next) {
        if (n->type != XML_ELEMENT_NODE)
            continue;
        if (strcasecmp((const char *)n->name, name) == 0)
            return n;
        xmlNode *f = rc_markup_find(n->children, name);
        if (f)
            return f;
    }
    return NULL;
}

bool rc_markup_load(const char **why)
{
    if (rc_dl_load(&xml_dl, RC_SONAME_XML2, xml_resolve, NULL, 0) == RECITE_OK)
        return true;
    *why = xml_dl.why; /* set once, never changed after */
    return false;
}

xmlNode *rc_markup_root(xmlDoc *doc)
{
    return doc ? lx.xmlDocGetRootElement_(doc) : NULL;
}

void rc_markup_free(xmlDoc *doc)
{
    if (doc)
        lx.xmlFreeDoc_(doc);
}

xmlDoc *rc_markup_parse(const uint8_t *data, size_t len, bool xml)
{
    const char *why;
    if (len > INT32_MAX || !rc_markup_load(&why))
        return NULL;
    if (xml) {
        /* No entity substitution, no DTD loading, no network: a book cannot make the parser
         * fetch or expand anything. */
        xmlDoc *d = lx.xmlReadMemory_((const char *)data, (int)len, NULL, NULL,
                                      XML_PARSE_NOERROR | XML_PARSE_NOWARNING | XML_PARSE_NONET |
                                          XML_PARSE_NOCDATA);
        if (d && lx.xmlDocGetRootElement_(d))
            return d;
        lx.xmlFreeDoc_(d);
    }
    /* Without a declared charset libxml2 assumes Latin-1: valid UTF-8 is read as UTF-8. */
    const char *enc = rc_utf8_count_invalid(data, len) == 0 ? "UTF-8" : NULL;
    bool declared = memmem(data, RC_MIN(len, (size_t)4096), "charset", 7) != NULL ||
                    memmem(data, RC_MIN(len, (size_t)4096), "encoding=", 9) != NULL;
    htmlDocPtr d = lx.htmlReadMemory_((const char *)data, (int)len, NULL, declared ? NULL : enc,
                                      HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING | HTML_PARSE_NONET |
                                          HTML_PARSE_NOIMPLIED);
    if (d && lx.xmlDocGetRootElement_(d))
        return d;
    lx.xmlFreeDoc_(d);
    return NULL;
}

/* ==== HTML pages ==== */

static void meta_put(json_t *meta, const char *key, const char *value)
{
    if (!value || !*value || json_object_get(meta, key))
        return;
    json_object_set_new(meta, key, json_string(value));
}

/* <meta name=... content=...> and <link rel=...> of the page. */
static void page_meta(xmlNode *node, json_t *meta)
{
    static const struct {
        const char *name, *key;
    } names[] = {
        {"author", "author"},
        {"dc.creator", "author"},
        {"dcterms.creator", "author"},
        {"copyright", "copyright"},
        {"dc.rights", "copyright"},
        {"dcterms.rights", "copyright"},
        {"rights", "copyright"},
        {"dc.title", "title"},
        {"og:title", "title"},
        {"dc.publisher", "publisher"},
        {"dc.date", "date"},
        {"dcterms.date", "date"},
        {"og:url", "url"},
        {"dc.identifier", "identifier"},
    };
    for (xmlNode *n = node; n; n = n->next) {
        if (n->type != XML_ELEMENT_NODE)
            continue;
        if (strcasecmp((const char *)n->name, "meta") == 0) {
            char *name = rc_xml_attr(n, "name");
            if (!name)
                name = rc_xml_attr(n, "property");
            char *content = rc_xml_attr(n, "content");
            for (size_t i = 0; name && content && i < RC_ARRAY_LEN(names); i++)
                if (strcasecmp(name, names[i].name) == 0)
                    meta_put(meta, names[i].key, content);
            free(name);
            free(content);
        } else if (strcasecmp((const char *)n->name, "link") == 0) {
            char *rel = rc_xml_attr(n, "rel"), *href = rc_xml_attr(n, "href");
            if (rel && href && strcasecmp(rel, "license") == 0)
                meta_put(meta, "license_url", href);
            if (rel && href && strcasecmp(rel, "canonical") == 0)
                meta_put(meta, "url", href);
            free(rel);
            free(href);
        }
        page_meta(n->children, meta);
    }
}

bool rc_extract_html(const uint8_t *data, size_t len, rc_work_out *out, json_t *meta,
                     const char **why)
{
    if (!rc_markup_load(why))
        return false;
    xmlDoc *doc = rc_markup_parse(data, len, false);
    if (!doc) {
        *why = "not readable as HTML";
        return false;
    }
    xmlNode *root = lx.xmlDocGetRootElement_(doc);
    xmlNode *title = rc_markup_find(root, "title");
    char *t = title ? rc_markup_inline_text(title) : NULL;
    meta_put(meta, "title", t);
    free(t);
    char *lang = rc_xml_attr(root, "lang");
    meta_put(meta, "language", lang);
    free(lang);
    page_meta(root, meta);
    rc_textbuf tb = {0};
    xmlNode *body = rc_markup_find(root, "body");
    /* Without a <body> (a fragment), everything but the head is the text. */
    if (body)
        rc_markup_text(&tb, body, RC_HTML_PAGE);
    else
        html_text(&tb, root, RC_HTML_PAGE, false, 0);
    lx.xmlFreeDoc_(doc);
    if (tb.oom) {
        RC_VEC_FREE(tb.s);
        *why = "out of memory";
        return false;
    }
    out->text = (uint8_t *)tb.s.v;
    out->text_len = tb.s.n;
    return true;
}

/*
 * extract_epub.c — EPUB books (2 and 3): META-INF/container.xml names the package (OPF); its
 * spine gives the chapters in reading order, each an XHTML file turned to text by
 * extract_html.c and separated by a blank line; the chapter titles come from the table of
 * contents (EPUB 3 nav document or EPUB 2 NCX), else the chapter's first heading; the OPF's
 * Dublin Core metadata (title, creator, rights, identifier/ISBN, publisher, date, language)
 * becomes the work's metadata, dc:rights its copyright notice.
 */
#include "rc_extract.h"

#include <ctype.h>
#include <stdio.h>
#include <strings.h>

/* ==== paths inside the book ==== */

/* The directory part of a path, with its slash ("" for none). */
static char *dir_of(const char *path)
{
    const char *s = strrchr(path, '/');
    return strndup(path, s ? (size_t)(s - path) + 1 : 0);
}

static int hexval(int c)
{
    return isdigit(c) ? c - '0' : isxdigit(c) ? (tolower(c) - 'a' + 10) : -1;
}

/* base + href, percent-decoded, without its fragment, with "." and ".." resolved. */
static char *resolve(const char *base, const char *href)
{
    size_t hl = strcspn(href, "#?");
    size_t bl = href[0] == '/' ? 0 : strlen(base);
    char *p = malloc(bl + hl + 1);
    if (!p)
        return NULL;
    memcpy(p, base, bl);
    size_t n = bl;
    for (size_t i = href[0] == '/' ? 1 : 0; i < hl; i++) {
        if (href[i] == '%' && i + 2 < hl && hexval((unsigned char)href[i + 1]) >= 0 &&
            hexval((unsigned char)href[i + 2]) >= 0) {
            p[n++] = (char)(hexval((unsigned char)href[i + 1]) * 16 +
                            hexval((unsigned char)href[i + 2]));
            i += 2;
        } else {
            p[n++] = href[i];
        }
    }
    p[n] = 0;
    /* Resolve segments in place. */
    char *out = p, *seg = p;
    size_t o = 0;
    while (*seg) {
        size_t k = strcspn(seg, "/");
        bool slash = seg[k] == '/';
        if (k == 1 && seg[0] == '.') {
            /* skip */
        } else if (k == 2 && seg[0] == '.' && seg[1] == '.') {
            if (o > 0) {
                o--; /* drop the previous segment's slash, then the segment */
                while (o > 0 && out[o - 1] != '/')
                    o--;
            }
        } else if (k > 0) {
            memmove(out + o, seg, k);
            o += k;
            if (slash)
                out[o++] = '/';
        }
        seg += k + slash;
    }
    out[o] = 0;
    return out;
}

/* ==== the package ==== */

typedef struct item {
    char *id, *href, *type, *props;
} item;

typedef struct toc_entry {
    char *href, *label;
} toc_entry;

typedef struct book {
    RC_VEC(item) items;
    RC_VEC(char *) spine; /* idrefs */
    char *toc_id;         /* EPUB 2: the NCX item */
    RC_VEC(toc_entry) toc;
} book;

static void book_free(book *b)
{
    for (size_t i = 0; i < b->items.n; i++) {
        free(b->items.v[i].id);
        free(b->items.v[i].href);
        free(b->items.v[i].type);
        free(b->items.v[i].props);
    }
    RC_VEC_FREE(b->items);
    for (size_t i = 0; i < b->spine.n; i++)
        free(b->spine.v[i]);
    RC_VEC_FREE(b->spine);
    free(b->toc_id);
    for (size_t i = 0; i < b->toc.n; i++) {
        free(b->toc.v[i].href);
        free(b->toc.v[i].label);
    }
    RC_VEC_FREE(b->toc);
}

static const item *item_by_id(const book *b, const char *id)
{
    for (size_t i = 0; i < b->items.n; i++)
        if (b->items.v[i].id && strcmp(b->items.v[i].id, id) == 0)
            return &b->items.v[i];
    return NULL;
}

static bool is_isbn(const char *s)
{
    size_t digits = 0;
    for (const char *p = s; *p; p++) {
        if (isdigit((unsigned char)*p) || *p == 'X' || *p == 'x')
            digits++;
        else if (*p != '-' && *p != ' ')
            return false;
    }
    return digits == 10 || digits == 13;
}

/* Dublin Core metadata into meta: several creators are joined with "; ". */
static void opf_metadata(xmlNode *md, json_t *meta)
{
    for (xmlNode *n = md ? md->children : NULL; n; n = n->next) {
        if (n->type != XML_ELEMENT_NODE)
            continue;
        const char *name = (const char *)n->name;
        const char *key = strcmp(name, "title") == 0        ? "title"
                          : strcmp(name, "creator") == 0    ? "author"
                          : strcmp(name, "rights") == 0     ? "copyright"
                          : strcmp(name, "publisher") == 0  ? "publisher"
                          : strcmp(name, "date") == 0       ? "date"
                          : strcmp(name, "language") == 0   ? "language"
                          : strcmp(name, "identifier") == 0 ? "identifier"
                                                            : NULL;
        if (!key)
            continue;
        char *v = rc_markup_inline_text(n);
        if (!v)
            continue;
        json_t *old = json_object_get(meta, key);
        if (strcmp(key, "identifier") == 0) {
            char *scheme = rc_xml_attr(n, "scheme");
            const char *isbn = strncasecmp(v, "urn:isbn:", 9) == 0                         ? v + 9
                               : (scheme && strcasecmp(scheme, "ISBN") == 0) || is_isbn(v) ? v
                                                                                           : NULL;
            if (isbn && !json_object_get(meta, "isbn"))
                json_object_set_new(meta, "isbn", json_string(isbn));
            free(scheme);
        }
        if (!old) {
            json_object_set_new(meta, key, json_string(v));
        } else if (strcmp(key, "author") == 0) {
            char *joined;
            if (asprintf(&joined, "%s; %s", json_string_value(old), v) >= 0) {
                json_object_set_new(meta, key, json_string(joined));
                free(joined);
            }
        }
        free(v);
    }
}

static int parse_opf(xmlDoc *doc, book *b, json_t *meta)
{
    xmlNode *root = rc_markup_root(doc);
    opf_metadata(rc_markup_find(root, "metadata"), meta);
    xmlNode *manifest = rc_markup_find(root, "manifest"), *spine = rc_markup_find(root, "spine");
    for (xmlNode *n = manifest ? manifest->children : NULL; n; n = n->next) {
        if (n->type != XML_ELEMENT_NODE || strcmp((const char *)n->name, "item") != 0)
            continue;
        item it = {rc_xml_attr(n, "id"), rc_xml_attr(n, "href"), rc_xml_attr(n, "media-type"),
                   rc_xml_attr(n, "properties")};
        if (!it.id || !it.href || RC_VEC_PUSH(b->items, it) != RECITE_OK) {
            free(it.id);
            free(it.href);
            free(it.type);
            free(it.props);
        }
    }
    if (spine)
        b->toc_id = rc_xml_attr(spine, "toc");
    for (xmlNode *n = spine ? spine->children : NULL; n; n = n->next) {
        if (n->type != XML_ELEMENT_NODE || strcmp((const char *)n->name, "itemref") != 0)
            continue;
        char *idref = rc_xml_attr(n, "idref");
        if (idref && RC_VEC_PUSH(b->spine, idref) != RECITE_OK) {
            free(idref);
            return RECITE_ENOMEM;
        }
    }
    return RECITE_OK;
}

/* ==== the table of contents ==== */

static void toc_add(book *b, const char *base, const char *href, char *label)
{
    char *h = href ? resolve(base, href) : NULL;
    toc_entry e = {h, label};
    if (!h || !label || RC_VEC_PUSH(b->toc, e) != RECITE_OK) {
        free(h);
        free(label);
    }
}

/* EPUB 3: the <a href> of the nav document's toc. */
static void nav_links(book *b, const char *base, xmlNode *node)
{
    for (xmlNode *n = node; n; n = n->next) {
        if (n->type != XML_ELEMENT_NODE)
            continue;
        if (strcasecmp((const char *)n->name, "a") == 0) {
            char *href = rc_xml_attr(n, "href");
            toc_add(b, base, href, rc_markup_inline_text(n));
            free(href);
        }
        nav_links(b, base, n->children);
    }
}

/* EPUB 2: navPoint/navLabel/text and content@src of the NCX, in document order. */
static void ncx_points(book *b, const char *base, xmlNode *node)
{
    for (xmlNode *n = node; n; n = n->next) {
        if (n->type != XML_ELEMENT_NODE)
            continue;
        if (strcmp((const char *)n->name, "navPoint") == 0) {
            xmlNode *label = rc_markup_find(n->children, "navLabel");
            xmlNode *content = rc_markup_find(n->children, "content");
            char *src = content ? rc_xml_attr(content, "src") : NULL;
            toc_add(b, base, src, label ? rc_markup_inline_text(label) : NULL);
            free(src);
        }
        ncx_points(b, base, n->children);
    }
}

static void read_toc(book *b, const rc_zip *z, const char *opf_dir)
{
    const item *nav = NULL;
    for (size_t i = 0; i < b->items.n && !nav; i++)
        if (b->items.v[i].props && strstr(b->items.v[i].props, "nav"))
            nav = &b->items.v[i];
    const item *ncx = b->toc_id ? item_by_id(b, b->toc_id) : NULL;
    const item *src = nav ? nav : ncx;
    if (!src)
        return;
    char *path = resolve(opf_dir, src->href);
    const rc_zip_entry *e = path ? rc_zip_find(z, path) : NULL;
    xmlDoc *doc = e ? rc_markup_parse(e->data, e->len, true) : NULL;
    char *base = path ? dir_of(path) : NULL;
    if (doc && base) {
        xmlNode *root = rc_markup_root(doc);
        if (nav) {
            /* The nav element whose type is "toc", else the first one. */
            xmlNode *toc = NULL;
            for (xmlNode *n = rc_markup_find(root, "nav"); n && !toc; n = n->next) {
                char *type = n->type == XML_ELEMENT_NODE ? rc_xml_attr(n, "type") : NULL;
                if (type && strcmp(type, "toc") == 0)
                    toc = n;
                free(type);
            }
            if (!toc)
                toc = rc_markup_find(root, "nav");
            if (toc)
                nav_links(b, base, toc->children);
        } else {
            ncx_points(b, base, rc_markup_find(root, "navMap"));
        }
    }
    rc_markup_free(doc);
    free(base);
    free(path);
}

static const char *toc_label(const book *b, const char *path)
{
    for (size_t i = 0; i < b->toc.n; i++)
        if (strcmp(b->toc.v[i].href, path) == 0)
            return b->toc.v[i].label;
    return NULL;
}

/* ==== the book ==== */

/* The title of a chapter without an entry in the table of contents: its first heading, else
 * its <title>. */
static char *chapter_heading(xmlNode *root)
{
    static const char *const h[] = {"h1", "h2", "h3", "title"};
    for (size_t i = 0; i < RC_ARRAY_LEN(h); i++) {
        xmlNode *n = rc_markup_find(root, h[i]);
        char *t = n ? rc_markup_inline_text(n) : NULL;
        if (t)
            return t;
    }
    return NULL;
}

static int read_chapters(const book *b, const rc_zip *z, const char *opf_dir, rc_work_out *out,
                         rc_textbuf *tb)
{
    for (size_t i = 0; i < b->spine.n && !tb->oom; i++) {
        const item *it = item_by_id(b, b->spine.v[i]);
        if (!it)
            continue;
        char *path = resolve(opf_dir, it->href);
        if (!path)
            return RECITE_ENOMEM;
        const rc_zip_entry *e = rc_zip_find(z, path);
        xmlDoc *doc = e ? rc_markup_parse(e->data, e->len, true) : NULL;
        if (!doc) { /* a missing or unreadable chapter: the others still make the book */
            free(path);
            continue;
        }
        xmlNode *root = rc_markup_root(doc);
        if (tb->s.n > 0)
            rc_textbuf_break(tb, 2);
        size_t before = tb->s.n;
        xmlNode *body = rc_markup_find(root, "body");
        rc_markup_text(tb, body ? body : root, 0);
        if (tb->s.n > before) {
            /* The chapter starts where its first text went (after the blank line). */
            size_t start = before + (before > 0 ? 2 : 0);
            const char *label = toc_label(b, path);
            rc_chapter ch = {(uint32_t)RC_MIN(start, (size_t)UINT32_MAX),
                             label ? strdup(label) : chapter_heading(root), path};
            path = NULL;
            if (tb->s.n > UINT32_MAX || RC_VEC_PUSH(out->chapters, ch) != RECITE_OK) {
                free(ch.title);
                free(ch.name);
                rc_markup_free(doc);
                return tb->s.n > UINT32_MAX ? RECITE_ELIMIT : RECITE_ENOMEM;
            }
        }
        free(path);
        rc_markup_free(doc);
    }
    return tb->oom ? RECITE_ENOMEM : RECITE_OK;
}

/* The package's path from META-INF/container.xml. */
static char *package_path(const rc_zip *z)
{
    const rc_zip_entry *c = rc_zip_find(z, "META-INF/container.xml");
    xmlDoc *doc = c ? rc_markup_parse(c->data, c->len, true) : NULL;
    if (!doc)
        return NULL;
    char *path = NULL;
    xmlNode *rf = rc_markup_find(rc_markup_root(doc), "rootfile");
    for (; rf && !path; rf = rf->next) {
        if (rf->type != XML_ELEMENT_NODE)
            continue;
        char *type = rc_xml_attr(rf, "media-type");
        if (!type || strcmp(type, "application/oebps-package+xml") == 0)
            path = rc_xml_attr(rf, "full-path");
        free(type);
    }
    rc_markup_free(doc);
    return path;
}

int rc_extract_epub(rc_extract *x, const uint8_t *data, size_t len, rc_work_out *out, json_t *meta,
                    char *why, size_t why_cap)
{
    rc_zip z;
    int rc = rc_zip_read(x, data, len, &z, why, why_cap);
    if (rc != RECITE_OK || why[0])
        return rc;
    book b;
    memset(&b, 0, sizeof b);
    rc_textbuf tb = {0};
    char *opf_path = package_path(&z), *opf_dir = NULL;
    const rc_zip_entry *opf = opf_path ? rc_zip_find(&z, opf_path) : NULL;
    xmlDoc *doc = opf ? rc_markup_parse(opf->data, opf->len, true) : NULL;
    if (!doc) {
        snprintf(why, why_cap, "not a readable EPUB: %s",
                 !opf_path ? "no package in META-INF/container.xml"
                 : !opf    ? "its package file is missing"
                           : "its package file is not XML");
        goto done;
    }
    if ((rc = parse_opf(doc, &b, meta)) != RECITE_OK || !(opf_dir = dir_of(opf_path)))
        goto done;
    read_toc(&b, &z, opf_dir);
    rc = read_chapters(&b, &z, opf_dir, out, &tb);
    if (rc == RECITE_ELIMIT) {
        rc = RECITE_OK;
        snprintf(why, why_cap, "its text is larger than 4 GiB, the limit for one work");
    } else if (rc == RECITE_OK && out->chapters.n == 0) {
        snprintf(why, why_cap, "not a readable EPUB: no readable chapter in its spine");
    }
    if (rc == RECITE_OK && !why[0]) {
        out->text = (uint8_t *)tb.s.v;
        out->text_len = tb.s.n;
        tb.s.v = NULL;
        json_object_set_new(meta, "chapters", json_integer((json_int_t)out->chapters.n));
    }
done:
    RC_VEC_FREE(tb.s);
    rc_markup_free(doc);
    free(opf_path);
    free(opf_dir);
    book_free(&b);
    rc_zip_free(&z);
    return rc;
}

/*
 * rc_extract.h — extraction of works from documents and archives, for the builder (layer 7):
 * the kind of an input by its first bytes (extract.c), archives with libarchive, nested to a
 * limited depth, under limits on the expanded size and ratio (extract_archive.c), EPUB
 * (extract_epub.c), HTML and XHTML to text with libxml2 (extract_html.c), PDF with poppler
 * (extract_pdf.c), git repositories with libgit2 (extract_git.c). Everything is read in memory
 * or streamed; nothing is written to disk. A broken input is a work skipped with a note.
 */
#ifndef RC_EXTRACT_H
#define RC_EXTRACT_H

#include "rc_build.h"

#include <jansson.h>
#include <libxml/tree.h>

/* ==== kinds of inputs, by content ==== */

typedef enum rc_doc_kind {
    RC_DOC_TEXT = 0, /* plain text or code (or binary: skipped by the text path) */
    RC_DOC_ARCHIVE,  /* tar (plain or compressed), zip, 7z, cpio, ar, a compressed file, ... */
    RC_DOC_EPUB,
    RC_DOC_PDF,
    RC_DOC_HTML
} rc_doc_kind;

#define RC_SNIFF_BYTES 1024u /* bytes of an input the kind is decided on */

/* The kind of an input from its first bytes head[0, n) (RC_SNIFF_BYTES, or the whole input when
 * shorter) and its name (which decides only where the content does not: .epub zips without
 * their mimetype entry, HTML without a doctype). */
rc_doc_kind rc_doc_kind_of(const uint8_t *head, size_t n, const char *name);

/* Whether a name's extension says it is a document or an archive (the dictionary sample of
 * build_store.c skips those: their bytes are not the text that is stored). */
bool rc_doc_name_is_container(const char *name);

/* ==== one extraction: a top-level input and everything inside it ==== */

#define RC_EXTRACT_DEPTH 4                    /* archives inside archives opened by default */
#define RC_EXTRACT_MAX_EXPANDED (16ull << 30) /* bytes extracted from one input by default */
#define RC_EXTRACT_MAX_RATIO 200u             /* expanded / input bytes, by default */
#define RC_EXTRACT_RATIO_FLOOR (16ull << 20)  /* the ratio is checked beyond this many bytes */
#define RC_EXTRACT_MAX_MEMBERS 10000000u      /* members read from one input */

typedef struct rc_extract {
    rc_work_ctx *ctx;
    rc_emit_fn emit;
    void *user;
    size_t src;                 /* the source being loaded */
    const char *input;          /* its name (the top-level id) */
    uint64_t input_bytes;       /* its size: the ratio's denominator */
    uint64_t expanded;          /* bytes read out of archives so far, at every level */
    uint64_t members;           /* archive members read so far */
    bool stopped;               /* a limit was reached: nothing more is read from this input */
    const struct rc_repo *repo; /* git: the repository of the blob, for its metadata */
} rc_extract;

/* Hands a loaded work (text in out->text, id in out->strs[RC_WS_ID]) to the build: processes it
 * (rc_work_process) and emits it. `meta` (may be NULL; consumed) is its metadata as JSON:
 * "title", "author", "copyright", "license" and "url" also fill those fields. */
int rc_extract_emit(rc_extract *x, rc_work_out *out, json_t *meta, recite_error *err);

/* Emits a work skipped with a note (kind, and the reason as a printf format). */
int rc_extract_note(rc_extract *x, const char *id, recite_note_kind kind, const char *fmt, ...)
    RC_PRINTF(4, 5);

/* Adds n bytes to what was extracted from the input; false (and x->stopped, with a note on the
 * input) when that goes past a limit. */
bool rc_extract_account(rc_extract *x, uint64_t n);

/* Extracts the works of data[0, len) (ownership moves here), found by content: a document, an
 * archive (opened when depth < the depth limit), or text. `id` is its work id, `member` its
 * path inside the outermost archive (NULL when not in one). */
int rc_extract_bytes(rc_extract *x, const char *id, const char *member, uint8_t *data, size_t len,
                     unsigned depth, json_t *meta, recite_error *err);

/* ==== archives (extract_archive.c) ==== */

/* The members of the archive file at `path` (open as fd), streamed; each member's works get the
 * id path!member. */
int rc_extract_archive_fd(rc_extract *x, const char *path, int fd, recite_error *err);
/* The members of an archive held in memory (a member of another archive): ids id!member. */
int rc_extract_archive_mem(rc_extract *x, const char *id, const char *member, const uint8_t *data,
                           size_t len, unsigned depth, recite_error *err);

/* The members of a zip held in memory, read whole (EPUB): names and bytes. Counted against the
 * input's limits. *why (static text or from libarchive, copied) is set when it is unreadable. */
typedef struct rc_zip_entry {
    char *name;
    uint8_t *data;
    size_t len;
} rc_zip_entry;
typedef struct rc_zip {
    RC_VEC(rc_zip_entry) entries;
} rc_zip;
int rc_zip_read(rc_extract *x, const uint8_t *data, size_t len, rc_zip *out, char *why,
                size_t why_cap);
const rc_zip_entry *rc_zip_find(const rc_zip *z, const char *name);
void rc_zip_free(rc_zip *z);

/* ==== text of markup (extract_html.c) ==== */

/* A growing text with HTML's whitespace rules: runs of spaces collapse, blocks are separated by
 * a blank line, <br> and list items by a line break. */
typedef struct rc_textbuf {
    RC_VEC(char) s;
    unsigned breaks; /* line breaks owed before the next text */
    bool space;      /* a space owed before the next text */
    bool oom;
} rc_textbuf;

void rc_textbuf_break(rc_textbuf *tb, unsigned n);
void rc_textbuf_put(rc_textbuf *tb, const char *s, size_t n, bool pre);

enum { RC_HTML_PAGE = 1 }; /* a web page: headers, footers and asides are dropped as well */

/* Appends the visible text of node's subtree (scripts, styles, navigation dropped). */
void rc_markup_text(rc_textbuf *tb, xmlNode *node, unsigned flags);
/* The text of node's subtree on one line (titles, labels), malloc'd; NULL when empty. */
char *rc_markup_inline_text(xmlNode *node);
/* Loads libxml2 (on first use, extract_html.c): false with *why saying why it cannot be. */
bool rc_markup_load(const char **why);
/* Parses a document: XML first when `xml` (XHTML), else (or when that fails) HTML. NULL when
 * nothing can be made of it, or libxml2 cannot be loaded. Prints nothing. */
xmlDoc *rc_markup_parse(const uint8_t *data, size_t len, bool xml);
/* A parsed document's root element (NULL for a NULL doc), and the document freed (NULL: none). */
xmlNode *rc_markup_root(xmlDoc *doc);
void rc_markup_free(xmlDoc *doc);
/* The first element named `name` (case-insensitive, any namespace) under node, depth first. */
xmlNode *rc_markup_find(xmlNode *node, const char *name);
/* An attribute's value (any namespace), malloc'd, or NULL. */
char *rc_xml_attr(xmlNode *node, const char *name);

/* An HTML page: its text in out->text and its metadata (title, author, copyright, ...) in meta;
 * false with *why set when it cannot be parsed. */
bool rc_extract_html(const uint8_t *data, size_t len, rc_work_out *out, json_t *meta,
                     const char **why);

/* ==== EPUB (extract_epub.c) and PDF (extract_pdf.c) ==== */

/* A book: the text of its spine in reading order (chapters in out->chapters) and the OPF
 * metadata in meta. Returns RECITE_OK with out->text set, RECITE_OK with *why set when the book
 * is unreadable (why has why_cap bytes), or an error (out of memory). */
int rc_extract_epub(rc_extract *x, const uint8_t *data, size_t len, rc_work_out *out, json_t *meta,
                    char *why, size_t why_cap);

/* A PDF: the text layer page by page (pages separated by a form feed, their starts in
 * out->pages) and the document information in meta. Like rc_extract_epub. */
int rc_extract_pdf(const uint8_t *data, size_t len, rc_work_out *out, json_t *meta, char *why,
                   size_t why_cap);

/* ==== git (extract_git.c) ==== */

#define RC_GIT_OID_SIZE 20

typedef struct rc_repo {
    char *dir;          /* as given */
    char *rev;          /* as given, or "HEAD" */
    char commit[41];    /* the commit the revision names */
    char *url;          /* the remote "origin", else the repository's absolute path */
    char *license_file; /* LICENSE, COPYING, ... at the root of the tree; NULL when none */
    uint8_t license_blob[RC_GIT_OID_SIZE];
    char license[64]; /* its SPDX id once identified (rc_repos_identify_licenses); "" unknown */
} rc_repo;

/* Identifies each repository's license file with the license index (the builder calls it once
 * the license index is built). */
int rc_repos_identify_licenses(rc_inputs *in, const recite_index *lic, recite_error *err);

/* Loads a blob source (its works go through rc_extract_bytes). */
int rc_git_load(rc_extract *x, const rc_inputs *in, const rc_source *src, recite_error *err);

/* Up to len bytes of a blob source at offset into buf (the dictionary sample); *cache keeps
 * repositories open between calls (free it with rc_git_cache_free). Returns the count. */
size_t rc_git_read_piece(struct rc_git_cache **cache, const rc_inputs *in, const rc_source *src,
                         uint64_t offset, uint8_t *buf, size_t len);
void rc_git_cache_free(struct rc_git_cache *cache);
void rc_repo_free(rc_repo *r);

/* Applied to a work of a repository once its own CMI is known: the repository's license when
 * the file carries none (and the commit, url and path as metadata). */
int rc_git_apply(const rc_repo *repo, rc_work_out *out, json_t *meta);

#endif /* RC_EXTRACT_H */

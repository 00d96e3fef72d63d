/*
 * extract.c — how the builder loads a source: by its content (magic bytes, not only its name)
 * a file is plain text, an archive, an EPUB, a PDF or an HTML page; documents become one work
 * each with their locators and metadata, archives one work per member (nested archives opened
 * to a depth limit), under limits on what one input may expand to. A broken input is a work
 * skipped with a note; the build goes on. Runs on the worker threads.
 */
#include "rc_extract.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

/* ==== kinds ==== */

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && strcasecmp(s + n - k, suffix) == 0;
}

static bool starts_ci(const uint8_t *p, size_t n, const char *word)
{
    size_t k = strlen(word);
    return n >= k && strncasecmp((const char *)p, word, k) == 0;
}

rc_doc_kind rc_doc_kind_of(const uint8_t *h, size_t n, const char *name)
{
    static const struct {
        size_t at;
        const char *magic;
        size_t len;
    } archives[] = {
        {0, "PK\x03\x04", 4},
        {0, "PK\x05\x06", 4}, /* zip */
        {0, "\x1f\x8b", 2},
        {0, "\x1f\x9d", 2}, /* gzip, compress */
        {0, "BZh", 3},
        {0,
         "\xfd"
         "7zXZ\x00",
         6}, /* bzip2, xz */
        {0, "\x28\xb5\x2f\xfd", 4},
        {0, "7z\xbc\xaf\x27\x1c", 6}, /* zstd, 7z */
        {0, "LZIP", 4},
        {0, "\x04\x22\x4d\x18", 4}, /* lzip, lz4 */
        {0, "Rar!\x1a\x07", 6},
        {0, "!<arch>\n", 8}, /* rar, ar */
        {0, "070707", 6},
        {0, "070701", 6}, /* cpio */
        {0, "070702", 6},
        {0, "xar!", 4}, /* cpio, xar */
        {0, "MSCF", 4},
        {257, "ustar", 5}, /* cab, tar */
    };
    /* PDF: the header may follow some junk within the first KiB. */
    if (n >= 5 && memmem(h, RC_MIN(n, (size_t)RC_SNIFF_BYTES), "%PDF-", 5))
        return RC_DOC_PDF;
    if (n >= 4 && memcmp(h, "PK\x03\x04", 4) == 0 &&
        ((n >= 58 && memcmp(h + 30, "mimetypeapplication/epub+zip", 28) == 0) ||
         ends_with(name, ".epub")))
        return RC_DOC_EPUB;
    for (size_t i = 0; i < RC_ARRAY_LEN(archives); i++)
        if (n >= archives[i].at + archives[i].len &&
            memcmp(h + archives[i].at, archives[i].magic, archives[i].len) == 0)
            return RC_DOC_ARCHIVE;
    /* HTML: a doctype or an <html> element first (after a BOM, blanks and comments), or an
     * .html name and markup first. */
    size_t i = n >= 3 && memcmp(h, "\xef\xbb\xbf", 3) == 0 ? 3 : 0;
    for (;;) {
        while (i < n && (h[i] == ' ' || h[i] == '\t' || h[i] == '\r' || h[i] == '\n'))
            i++;
        if (i + 4 <= n && memcmp(h + i, "<!--", 4) == 0) {
            const uint8_t *e = memmem(h + i, n - i, "-->", 3);
            if (!e)
                break;
            i = (size_t)(e - h) + 3;
            continue;
        }
        if (i + 5 <= n && memcmp(h + i, "<?xml", 5) == 0) {
            const uint8_t *e = memmem(h + i, n - i, "?>", 2);
            if (!e)
                break;
            i = (size_t)(e - h) + 2;
            continue;
        }
        break;
    }
    if (starts_ci(h + i, n - i, "<!doctype html") || starts_ci(h + i, n - i, "<html"))
        return RC_DOC_HTML;
    if (i < n && h[i] == '<' &&
        (ends_with(name, ".html") || ends_with(name, ".htm") || ends_with(name, ".xhtml")))
        return RC_DOC_HTML;
    return RC_DOC_TEXT;
}

bool rc_doc_name_is_container(const char *name)
{
    static const char *const ext[] = {".pdf", ".epub", ".zip", ".tar", ".tgz", ".gz", ".bz2",
                                      ".xz",  ".zst",  ".7z",  ".tbz", ".txz", ".lz", ".cpio",
                                      ".rar", ".jar",  ".ar",  ".lz4", ".Z"};
    for (size_t i = 0; i < RC_ARRAY_LEN(ext); i++)
        if (ends_with(name, ext[i]))
            return true;
    return false;
}

/* The kind an input is read as: --code keeps HTML as it is (markup is code). */
static rc_doc_kind kind_for(const rc_work_ctx *ctx, const uint8_t *head, size_t n, const char *name)
{
    rc_doc_kind k = rc_doc_kind_of(head, n, name);
    return k == RC_DOC_HTML && ctx->mode == RECITE_MODE_CODE ? RC_DOC_TEXT : k;
}

/* ==== emitting works ==== */

int rc_extract_note(rc_extract *x, const char *id, recite_note_kind kind, const char *fmt, ...)
{
    rc_work_out out;
    memset(&out, 0, sizeof out);
    out.status = RC_WORK_SKIP_NOTE;
    out.note_kind = kind;
    out.src = x->src;
    va_list ap;
    va_start(ap, fmt);
    int k = vasprintf(&out.note, fmt, ap);
    va_end(ap);
    if (k < 0)
        out.note = NULL;
    if (!out.note || !(out.strs[RC_WS_ID] = strdup(id))) {
        rc_work_out_free(&out);
        return RECITE_ENOMEM;
    }
    int rc = x->emit(&out, x->user);
    rc_work_out_free(&out);
    return rc;
}

bool rc_extract_account(rc_extract *x, uint64_t n)
{
    if (x->stopped)
        return false;
    x->expanded += n;
    uint64_t max = x->ctx->max_expanded ? x->ctx->max_expanded : RC_EXTRACT_MAX_EXPANDED;
    uint64_t ratio = x->ctx->max_ratio ? x->ctx->max_ratio : RC_EXTRACT_MAX_RATIO;
    uint64_t in = x->input_bytes ? x->input_bytes : 1;
    bool over_size = x->expanded > max;
    bool over_ratio = x->expanded > RC_EXTRACT_RATIO_FLOOR && x->expanded / in >= ratio;
    if (!over_size && !over_ratio)
        return true;
    x->stopped = true;
    /* The note goes with the works emitted so far (what was read before the limit stays). */
    rc_extract_note(x, x->input, RECITE_NOTE_SKIPPED_UNREADABLE,
                    over_size ? "extraction stopped after %llu bytes: over the limit of %llu "
                                "bytes expanded from one input (the rest is skipped)"
                              : "extraction stopped after %llu bytes: expands more than %llu "
                                "times its size (a zip bomb?; the rest is skipped)",
                    (unsigned long long)x->expanded, (unsigned long long)(over_size ? max : ratio));
    return false;
}

static const char *const meta_fields[] = {
    [RC_WS_TITLE] = "title",         [RC_WS_AUTHOR] = "author", [RC_WS_LICENSE] = "license",
    [RC_WS_COPYRIGHT] = "copyright", [RC_WS_URL] = "url",
};

int rc_extract_emit(rc_extract *x, rc_work_out *out, json_t *meta, recite_error *err)
{
    const char *id = out->strs[RC_WS_ID];
    int rc = RECITE_OK;
    out->src = x->src;
    for (unsigned f = 0; f < RC_ARRAY_LEN(meta_fields) && meta; f++) {
        const char *v =
            meta_fields[f] ? json_string_value(json_object_get(meta, meta_fields[f])) : NULL;
        if (v && *v && !out->strs[f] && !(out->strs[f] = strdup(v))) {
            rc = rc_error_set(err, RECITE_ENOMEM, "out of memory");
            goto done;
        }
    }
    if (!x->ctx->extract_only && (rc = rc_work_process(x->ctx, out, id, err)) != RECITE_OK)
        goto done;
    if (out->status == RC_WORK_SKIP_EMPTY) { /* a document without text: a note, not an error */
        out->status = RC_WORK_SKIP_NOTE;
        out->note_kind = RECITE_NOTE_SKIPPED_EMPTY;
        if (!(out->note = strdup("no text in it"))) {
            rc = rc_error_set(err, RECITE_ENOMEM, "out of memory");
            goto done;
        }
    }
    if (x->repo && out->status == RC_WORK_OK && (!meta && !(meta = json_object()))) {
        rc = rc_error_set(err, RECITE_ENOMEM, "out of memory");
        goto done;
    }
    if (x->repo && out->status == RC_WORK_OK &&
        (rc = rc_git_apply(x->repo, out, meta)) != RECITE_OK) {
        rc = rc_error_set(err, rc, "out of memory");
        goto done;
    }
    if (meta && json_object_size(meta) > 0 &&
        !(out->strs[RC_WS_META] = rc_json_dumps(meta, JSON_COMPACT | JSON_SORT_KEYS))) {
        rc = rc_error_set(err, RECITE_ENOMEM, "out of memory");
        goto done;
    }
    rc = x->emit(out, x->user);
done:
    json_decref(meta);
    rc_work_out_free(out);
    return rc;
}

/* A text (or binary) file found inside something else: a member, a blob. */
static int emit_text(rc_extract *x, const char *id, const char *member, uint8_t *data, size_t len,
                     json_t *meta, recite_error *err)
{
    if (len && memchr(data, 0, RC_MIN(len, (size_t)8000))) {
        free(data);
        json_decref(meta);
        return rc_extract_note(x, id, RECITE_NOTE_SKIPPED_BINARY, "binary (contains NUL bytes)");
    }
    if (len == 0) {
        free(data);
        json_decref(meta);
        return rc_extract_note(x, id, RECITE_NOTE_SKIPPED_EMPTY, "empty");
    }
    rc_work_out out;
    memset(&out, 0, sizeof out);
    out.text = data;
    out.text_len = len;
    if (!(out.strs[RC_WS_ID] = strdup(id)) || (member && !(out.member = strdup(member)))) {
        rc_work_out_free(&out);
        json_decref(meta);
        return rc_error_set(err, RECITE_ENOMEM, "out of memory");
    }
    return rc_extract_emit(x, &out, meta, err);
}

int rc_extract_bytes(rc_extract *x, const char *id, const char *member, uint8_t *data, size_t len,
                     unsigned depth, json_t *meta, recite_error *err)
{
    rc_doc_kind kind = kind_for(x->ctx, data, RC_MIN(len, (size_t)RC_SNIFF_BYTES), id);
    if (kind == RC_DOC_TEXT)
        return emit_text(x, id, member, data, len, meta, err);
    if (len > UINT32_MAX) {
        free(data);
        json_decref(meta);
        return rc_extract_note(x, id, RECITE_NOTE_SKIPPED_UNREADABLE,
                               "larger than 4 GiB, the limit for one work");
    }
    int rc = RECITE_OK;
    if (kind == RC_DOC_ARCHIVE) {
        unsigned max_depth = x->ctx->archive_depth ? x->ctx->archive_depth : RC_EXTRACT_DEPTH;
        json_decref(meta);
        if (depth >= max_depth)
            rc = rc_extract_note(x, id, RECITE_NOTE_SKIPPED_UNREADABLE,
                                 "an archive nested deeper than %u levels: not opened", max_depth);
        else
            rc = rc_extract_archive_mem(x, id, member, data, len, depth + 1, err);
        free(data);
        return rc;
    }
    rc_work_out out;
    memset(&out, 0, sizeof out);
    char why[256] = "";
    const char *why_static = NULL;
    if (!meta && !(meta = json_object()))
        rc = RECITE_ENOMEM;
    else if (kind == RC_DOC_PDF)
        rc = rc_extract_pdf(data, len, &out, meta, why, sizeof why);
    else if (kind == RC_DOC_EPUB)
        rc = rc_extract_epub(x, data, len, &out, meta, why, sizeof why);
    else if (!rc_extract_html(data, len, &out, meta, &why_static))
        snprintf(why, sizeof why, "%s", why_static ? why_static : "unreadable HTML");
    free(data);
    if (rc == RECITE_OK && !why[0] &&
        json_object_set_new(meta, "format",
                            json_string(kind == RC_DOC_PDF    ? "pdf"
                                        : kind == RC_DOC_EPUB ? "epub"
                                                              : "html")) != 0)
        rc = RECITE_ENOMEM;
    if (rc == RECITE_OK && !why[0] &&
        (!(out.strs[RC_WS_ID] = strdup(id)) || (member && !(out.member = strdup(member)))))
        rc = RECITE_ENOMEM;
    if (rc != RECITE_OK || why[0]) {
        rc_work_out_free(&out);
        json_decref(meta);
        if (rc != RECITE_OK)
            return rc_error_set(err, rc, "%s: out of memory", id);
        return rc_extract_note(x, id, RECITE_NOTE_SKIPPED_UNREADABLE, "%s", why);
    }
    return rc_extract_emit(x, &out, meta, err);
}

/* ==== sources ==== */

/* Emits a work loaded by rc_work_load (its source's only one). */
static int emit_one(rc_extract *x, rc_work_out *out)
{
    out->src = x->src;
    int rc = x->emit(out, x->user);
    rc_work_out_free(out);
    return rc;
}

/* Reads a whole file (the documents that are not archives). */
static int read_file(int fd, const char *path, uint8_t **data, size_t *len, recite_error *err)
{
    struct stat st;
    if (fstat(fd, &st) != 0)
        return rc_error_errno(err, RECITE_EIO, errno, "%s: cannot stat", path);
    if ((uint64_t)st.st_size > UINT32_MAX) {
        *data = NULL;
        *len = (size_t)st.st_size;
        return RECITE_OK; /* too large: the caller notes it */
    }
    size_t n = (size_t)st.st_size, got = 0;
    uint8_t *buf = malloc(n + 1);
    if (!buf)
        return rc_error_set(err, RECITE_ENOMEM, "%s: out of memory", path);
    while (got < n) {
        ssize_t r = pread(fd, buf + got, n - got, (off_t)got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            free(buf);
            return rc_error_errno(err, RECITE_EIO, errno, "%s: read error", path);
        }
        if (r == 0)
            break;
        got += (size_t)r;
    }
    buf[got] = 0;
    *data = buf;
    *len = got;
    return RECITE_OK;
}

/* A file: its kind by content decides how it is read. */
static int load_file(rc_extract *x, const rc_inputs *in, const rc_source *src, recite_error *err)
{
    const char *path = in->paths.v[src->path];
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return rc_error_errno(err, RECITE_EIO, errno, "%s: cannot open", path);
    uint8_t head[RC_SNIFF_BYTES];
    ssize_t n;
    do
        n = pread(fd, head, sizeof head, 0);
    while (n < 0 && errno == EINTR);
    if (n < 0) {
        int e = errno;
        close(fd);
        return rc_error_errno(err, RECITE_EIO, e, "%s: read error", path);
    }
    rc_doc_kind kind = kind_for(x->ctx, head, (size_t)n, path);
    int rc;
    if (kind == RC_DOC_TEXT) {
        close(fd);
        rc_work_out out;
        if ((rc = rc_work_load(x->ctx, in, src, &out, err)) != RECITE_OK) {
            rc_work_out_free(&out);
            return rc;
        }
        return emit_one(x, &out);
    }
    x->input = path;
    struct stat st;
    x->input_bytes = fstat(fd, &st) == 0 ? (uint64_t)st.st_size : src->length;
    if (kind == RC_DOC_ARCHIVE) {
        rc = rc_extract_archive_fd(x, path, fd, err);
        close(fd);
        return rc;
    }
    uint8_t *data = NULL;
    size_t len = 0;
    rc = read_file(fd, path, &data, &len, err);
    close(fd);
    if (rc != RECITE_OK)
        return rc;
    if (!data)
        return rc_extract_note(x, path, RECITE_NOTE_SKIPPED_UNREADABLE,
                               "larger than 4 GiB, the limit for one work");
    return rc_extract_bytes(x, path, NULL, data, len, 0, NULL, err);
}

/* Emits what the source gave and marks its last work; a source that gave nothing (an empty
 * archive) gives a note, so that every source ends with a work. */
typedef struct last_tracker {
    rc_emit_fn emit;
    void *user;
    rc_work_out held; /* the latest work, emitted when the next comes or at the end */
    bool have;
} last_tracker;

static int hold_emit(rc_work_out *out, void *user)
{
    last_tracker *t = user;
    int rc = RECITE_OK;
    if (t->have)
        rc = t->emit(&t->held, t->user);
    rc_work_out_free(&t->held);
    t->held = *out;
    memset(out, 0, sizeof *out);
    t->have = true;
    return rc;
}

int rc_source_load(rc_work_ctx *ctx, const rc_inputs *in, size_t src, rc_emit_fn emit, void *user,
                   recite_error *err)
{
    last_tracker t = {emit, user, {0}, false};
    const rc_source *s = &in->sources.v[src];
    rc_extract x = {ctx, hold_emit, &t, src, in->paths.v[s->path], s->length, 0, 0, false, NULL};
    int rc;
    if (s->kind == RC_SRC_FILE) {
        rc = load_file(&x, in, s, err);
    } else if (s->kind == RC_SRC_GIT) {
        rc = rc_git_load(&x, in, s, err);
    } else {
        rc_work_out out;
        rc = rc_work_load(ctx, in, s, &out, err);
        if (rc == RECITE_OK)
            rc = emit_one(&x, &out);
        else
            rc_work_out_free(&out);
    }
    if (rc == RECITE_OK && !t.have)
        rc = rc_extract_note(&x, in->paths.v[s->path], RECITE_NOTE_SKIPPED_EMPTY,
                             "nothing to index in it");
    if (rc == RECITE_OK && t.have) {
        t.held.src_last = true;
        rc = emit(&t.held, user);
    }
    rc_work_out_free(&t.held);
    return rc;
}

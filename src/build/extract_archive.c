/*
 * extract_archive.c — archives with libarchive: tar (plain, gzip, bzip2, xz, zstd, lzip, ...),
 * zip, 7z, cpio, ar, single compressed files. Members are streamed out of the archive (an
 * archive file is never read whole; a nested one is held in memory) and each goes through
 * rc_extract_bytes, so a member is itself text, a document or an archive. Member names are ids
 * only (nothing is written to disk, so "../" in a name is harmless); hidden members and
 * non-files are skipped with a note; every byte read counts against the input's limits.
 */
#include "rc_extract.h"

#include <dlfcn.h>

#include <archive.h>
#include <archive_entry.h>
#include <stdio.h>
#include <strings.h>

#define READ_CHUNK (64u << 10)

/* What this file calls of libarchive, loaded on first use (dl.c). */
#define ARCHIVE_FUNCTIONS(X, a)                                                                    \
    X(a, archive_entry_filetype)                                                                   \
    X(a, archive_entry_hardlink)                                                                   \
    X(a, archive_entry_is_encrypted)                                                               \
    X(a, archive_entry_pathname)                                                                   \
    X(a, archive_entry_pathname_utf8)                                                              \
    X(a, archive_entry_size)                                                                       \
    X(a, archive_entry_size_is_set)                                                                \
    X(a, archive_error_string)                                                                     \
    X(a, archive_format)                                                                           \
    X(a, archive_read_data)                                                                        \
    X(a, archive_read_free)                                                                        \
    X(a, archive_read_new)                                                                         \
    X(a, archive_read_next_header)                                                                 \
    X(a, archive_read_open_fd)                                                                     \
    X(a, archive_read_open_memory)                                                                 \
    X(a, archive_read_support_filter_all)                                                          \
    X(a, archive_read_support_format_all)                                                          \
    X(a, archive_read_support_format_raw)                                                          \
    X(a, archive_read_support_format_zip)

RC_DL_TABLE(la, archive_resolve, ARCHIVE_FUNCTIONS)
static rc_dl archive_dl = RC_DL_INIT;

/* A reader of every format and filter; NULL with why set when libarchive cannot be loaded,
 * with why empty when out of memory. */
static struct archive *archive_new(char *why, size_t why_cap)
{
    why[0] = 0;
    if (rc_dl_load(&archive_dl, RC_SONAME_ARCHIVE, archive_resolve, why, why_cap) != RECITE_OK)
        return NULL;
    struct archive *a = la.archive_read_new_();
    if (!a)
        return NULL;
    la.archive_read_support_filter_all_(a);
    la.archive_read_support_format_all_(a);
    la.archive_read_support_format_raw_(a); /* a single compressed file: one member */
    return a;
}

/* Whether a member path has a hidden component (".x"; "." and ".." are not hidden). */
static bool hidden_path(const char *p)
{
    for (const char *c = p; *c;) {
        size_t n = strcspn(c, "/");
        if (n > 0 && c[0] == '.' && !(n == 1 || (n == 2 && c[1] == '.')))
            return true;
        c += n;
        c += *c == '/';
    }
    return false;
}

/* The name of the one member of a compressed file (raw format): its name without the
 * compression suffix. */
static char *raw_member_name(const char *id)
{
    const char *base = strrchr(id, '!');
    base = base ? base + 1 : id;
    const char *slash = strrchr(base, '/');
    base = slash ? slash + 1 : base;
    static const char *const sfx[] = {".gz", ".bz2", ".xz", ".zst", ".lz", ".lz4", ".Z", ".lzma"};
    size_t n = strlen(base);
    for (size_t i = 0; i < RC_ARRAY_LEN(sfx); i++) {
        size_t k = strlen(sfx[i]);
        if (n > k && strcasecmp(base + n - k, sfx[i]) == 0)
            return strndup(base, n - k);
    }
    return strdup("data");
}

/* Reads the current member's data whole into *data (NULL when a limit stopped it or it could
 * not be read: *why then says why, or is empty when x->stopped). */
static int read_member(rc_extract *x, struct archive *a, struct archive_entry *e, uint8_t **data,
                       size_t *len, char *why, size_t why_cap)
{
    *data = NULL;
    *len = 0;
    why[0] = 0;
    size_t cap = 0, n = 0;
    uint8_t *buf = NULL;
    if (la.archive_entry_size_is_set_(e) && la.archive_entry_size_(e) > 0)
        cap = (size_t)RC_MIN((uint64_t)la.archive_entry_size_(e), (uint64_t)(64u << 20)) + 1;
    if (cap && !(buf = malloc(cap)))
        return RECITE_ENOMEM;
    for (;;) {
        if (n + READ_CHUNK + 1 > cap) {
            if (n > UINT32_MAX) {
                snprintf(why, why_cap, "larger than 4 GiB, the limit for one work");
                break;
            }
            if (rc_grow((void **)&buf, &cap, n + READ_CHUNK + 1, 1) != RECITE_OK) {
                free(buf);
                return RECITE_ENOMEM;
            }
        }
        la_ssize_t r = la.archive_read_data_(a, buf + n, READ_CHUNK);
        if (r == 0) {
            buf[n] = 0;
            *data = buf;
            *len = n;
            return RECITE_OK;
        }
        if (r < 0) {
            const char *msg = la.archive_error_string_(a);
            snprintf(why, why_cap, "unreadable member: %s", msg ? msg : "read error");
            break;
        }
        n += (size_t)r;
        if (!rc_extract_account(x, (uint64_t)r))
            break;
    }
    free(buf);
    return RECITE_OK;
}

/* Reads every member of an opened archive. */
static int read_archive(rc_extract *x, struct archive *a, const char *id, const char *member,
                        unsigned depth, recite_error *err)
{
    int rc = RECITE_OK;
    uint64_t members = 0;
    char why[512];
    for (;;) {
        struct archive_entry *e;
        int r = la.archive_read_next_header_(a, &e);
        if (r == ARCHIVE_EOF)
            break;
        if (r == ARCHIVE_RETRY)
            continue;
        if (r < ARCHIVE_WARN) {
            const char *msg = la.archive_error_string_(a);
            return rc_extract_note(x, id, RECITE_NOTE_SKIPPED_UNREADABLE,
                                   members ? "corrupt archive: read stopped after %llu members: %s"
                                           : "not a readable archive%.0llu: %s",
                                   (unsigned long long)members, msg ? msg : "unknown error");
        }
        if (++x->members > RC_EXTRACT_MAX_MEMBERS) {
            x->stopped = true;
            return rc_extract_note(x, x->input, RECITE_NOTE_SKIPPED_UNREADABLE,
                                   "more than %u archive members: the rest is skipped",
                                   RC_EXTRACT_MAX_MEMBERS);
        }
        members++;
        const char *name = la.archive_entry_pathname_utf8_(e);
        if (!name)
            name = la.archive_entry_pathname_(e);
        char *raw = NULL;
        if (la.archive_format_(a) == ARCHIVE_FORMAT_RAW)
            name = raw = raw_member_name(id);
        if (!name || !*name)
            name = "?";
        while (name[0] == '.' && name[1] == '/')
            name += 2;
        char *child = NULL, *child_member = NULL;
        if (asprintf(&child, "%s!%s", id, name) < 0)
            child = NULL;
        if (member ? asprintf(&child_member, "%s!%s", member, name) < 0
                   : !(child_member = strdup(name)))
            child_member = NULL;
        free(raw);
        if (!child || !child_member) {
            free(child);
            free(child_member);
            return rc_error_set(err, RECITE_ENOMEM, "out of memory");
        }
        mode_t type = la.archive_entry_filetype_(e);
        if (type == AE_IFDIR) {
            /* directories hold nothing themselves */
        } else if (hidden_path(child_member)) {
            rc = rc_extract_note(x, child, RECITE_NOTE_SKIPPED_HIDDEN, "hidden entry");
        } else if (type != AE_IFREG || la.archive_entry_hardlink_(e)) {
            rc = rc_extract_note(x, child, RECITE_NOTE_SKIPPED_SPECIAL,
                                 la.archive_entry_hardlink_(e) ? "a hard link"
                                                               : "not a regular file");
        } else if (la.archive_entry_is_encrypted_(e)) {
            rc = rc_extract_note(x, child, RECITE_NOTE_SKIPPED_UNREADABLE,
                                 "encrypted member (a password is needed)");
        } else {
            uint8_t *data;
            size_t len;
            rc = read_member(x, a, e, &data, &len, why, sizeof why);
            if (rc == RECITE_ENOMEM)
                rc = rc_error_set(err, rc, "%s: out of memory", child);
            else if (data)
                rc = rc_extract_bytes(x, child, child_member, data, len, depth, NULL, err);
            else if (why[0])
                rc = rc_extract_note(x, child, RECITE_NOTE_SKIPPED_UNREADABLE, "%s", why);
        }
        free(child);
        free(child_member);
        if (rc != RECITE_OK || x->stopped)
            return rc;
    }
    return rc;
}

int rc_extract_archive_fd(rc_extract *x, const char *path, int fd, recite_error *err)
{
    char why[256];
    struct archive *a = archive_new(why, sizeof why);
    if (!a && why[0])
        return rc_extract_note(x, path, RECITE_NOTE_SKIPPED_UNREADABLE,
                               "reading archives needs libarchive: %s", why);
    if (!a)
        return rc_error_set(err, RECITE_ENOMEM, "out of memory");
    int rc;
    if (la.archive_read_open_fd_(a, fd, 1 << 16) != ARCHIVE_OK) {
        const char *msg = la.archive_error_string_(a);
        rc = rc_extract_note(x, path, RECITE_NOTE_SKIPPED_UNREADABLE, "not a readable archive: %s",
                             msg ? msg : "unknown format");
    } else {
        rc = read_archive(x, a, path, NULL, 1, err);
    }
    la.archive_read_free_(a);
    return rc;
}

int rc_extract_archive_mem(rc_extract *x, const char *id, const char *member, const uint8_t *data,
                           size_t len, unsigned depth, recite_error *err)
{
    char why[256];
    struct archive *a = archive_new(why, sizeof why);
    if (!a && why[0])
        return rc_extract_note(x, id, RECITE_NOTE_SKIPPED_UNREADABLE,
                               "reading archives needs libarchive: %s", why);
    if (!a)
        return rc_error_set(err, RECITE_ENOMEM, "out of memory");
    int rc;
    if (la.archive_read_open_memory_(a, data, len) != ARCHIVE_OK) {
        const char *msg = la.archive_error_string_(a);
        rc = rc_extract_note(x, id, RECITE_NOTE_SKIPPED_UNREADABLE, "not a readable archive: %s",
                             msg ? msg : "unknown format");
    } else {
        rc = read_archive(x, a, id, member, depth, err);
    }
    la.archive_read_free_(a);
    return rc;
}

/* ==== a zip read whole (EPUB) ==== */

static bool media_file(const char *name)
{
    static const char *const ext[] = {".jpg", ".jpeg", ".png", ".gif",  ".webp",  ".bmp",
                                      ".tif", ".ttf",  ".otf", ".woff", ".woff2", ".mp3",
                                      ".mp4", ".m4a",  ".ogg", ".wav",  ".webm"};
    size_t n = name ? strlen(name) : 0;
    for (size_t i = 0; i < RC_ARRAY_LEN(ext); i++) {
        size_t k = strlen(ext[i]);
        if (n > k && strcasecmp(name + n - k, ext[i]) == 0)
            return true;
    }
    return false;
}

int rc_zip_read(rc_extract *x, const uint8_t *data, size_t len, rc_zip *out, char *why,
                size_t why_cap)
{
    memset(out, 0, sizeof *out);
    why[0] = 0;
    char lib[200];
    if (rc_dl_load(&archive_dl, RC_SONAME_ARCHIVE, archive_resolve, lib, sizeof lib) != RECITE_OK) {
        snprintf(why, why_cap, "reading an EPUB needs libarchive: %s", lib);
        return RECITE_OK;
    }
    struct archive *a = la.archive_read_new_();
    if (!a)
        return RECITE_ENOMEM;
    la.archive_read_support_format_zip_(a);
    int rc = RECITE_OK;
    if (la.archive_read_open_memory_(a, data, len) != ARCHIVE_OK) {
        const char *msg = la.archive_error_string_(a);
        snprintf(why, why_cap, "not a readable zip: %s", msg ? msg : "unknown format");
        goto done;
    }
    for (;;) {
        struct archive_entry *e;
        int r = la.archive_read_next_header_(a, &e);
        if (r == ARCHIVE_EOF)
            break;
        if (r < ARCHIVE_WARN) {
            const char *msg = la.archive_error_string_(a);
            snprintf(why, why_cap, "corrupt zip: %s", msg ? msg : "unknown error");
            break;
        }
        if (la.archive_entry_filetype_(e) != AE_IFREG || media_file(la.archive_entry_pathname_(e)))
            continue; /* images, fonts, audio: not text (and not read) */
        if (++x->members > RC_EXTRACT_MAX_MEMBERS) {
            snprintf(why, why_cap, "more than %u members", RC_EXTRACT_MAX_MEMBERS);
            break;
        }
        const char *name = la.archive_entry_pathname_utf8_(e);
        if (!name)
            name = la.archive_entry_pathname_(e);
        rc_zip_entry z = {name ? strdup(name) : strdup("?"), NULL, 0};
        if (!z.name || RC_VEC_PUSH(out->entries, z) != RECITE_OK) {
            free(z.name);
            rc = RECITE_ENOMEM;
            break;
        }
        rc_zip_entry *ze = &out->entries.v[out->entries.n - 1];
        if (la.archive_entry_is_encrypted_(e)) {
            snprintf(why, why_cap, "encrypted (%s needs a password)", ze->name);
            break;
        }
        rc = read_member(x, a, e, &ze->data, &ze->len, why, why_cap);
        if (rc != RECITE_OK || !ze->data) {
            if (rc == RECITE_OK && !why[0])
                snprintf(why, why_cap, "over the extraction limits");
            break;
        }
    }
done:
    la.archive_read_free_(a);
    if (rc != RECITE_OK || why[0])
        rc_zip_free(out);
    return rc;
}

const rc_zip_entry *rc_zip_find(const rc_zip *z, const char *name)
{
    for (size_t i = 0; i < z->entries.n; i++)
        if (strcmp(z->entries.v[i].name, name) == 0)
            return &z->entries.v[i];
    return NULL;
}

void rc_zip_free(rc_zip *z)
{
    for (size_t i = 0; i < z->entries.n; i++) {
        free(z->entries.v[i].name);
        free(z->entries.v[i].data);
    }
    RC_VEC_FREE(z->entries);
}

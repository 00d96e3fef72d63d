/*
 * seeds_write.h — small valid inputs for the ingest fuzz harnesses' seed corpora, written with
 * libarchive (tar, zip) and by hand (PDF, HTML): a starting point the fuzzer mutates. Header
 * only: each harness includes it.
 */
#ifndef RECITE_SEEDS_WRITE_H
#define RECITE_SEEDS_WRITE_H

#include <archive.h>
#include <archive_entry.h>
#include <stdio.h>
#include <string.h>

static inline int sw_file(const char *dir, const char *name, const void *data, size_t len)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f)
        return -1;
    size_t n = fwrite(data, 1, len, f);
    return fclose(f) == 0 && n == len ? 0 : -1;
}

typedef struct sw_member {
    const char *name;
    const char *data;
    size_t len; /* 0: strlen(data) */
} sw_member;

/* An archive of `format` ("tar", "zip") with `filter` (NULL or "gzip", "xz") in buf. */
static inline size_t sw_archive(const char *format, const char *filter, const sw_member *m,
                                size_t n, unsigned char *buf, size_t cap)
{
    struct archive *a = archive_write_new();
    size_t used = 0;
    if (strcmp(format, "zip") == 0)
        archive_write_set_format_zip(a);
    else
        archive_write_set_format_pax_restricted(a);
    if (filter)
        archive_write_add_filter_by_name(a, filter);
    if (archive_write_open_memory(a, buf, cap, &used) != ARCHIVE_OK) {
        archive_write_free(a);
        return 0;
    }
    for (size_t i = 0; i < n; i++) {
        size_t len = m[i].len ? m[i].len : strlen(m[i].data);
        struct archive_entry *e = archive_entry_new();
        archive_entry_set_pathname(e, m[i].name);
        archive_entry_set_filetype(e, AE_IFREG);
        archive_entry_set_perm(e, 0644);
        archive_entry_set_size(e, (la_int64_t)len);
        archive_entry_set_mtime(e, 1600000000, 0);
        archive_write_header(a, e);
        archive_write_data(a, m[i].data, len);
        archive_entry_free(e);
    }
    archive_write_close(a);
    archive_write_free(a);
    return used;
}

/* A one-page PDF whose text layer is `text` (ASCII without parentheses or backslashes). */
static inline size_t sw_pdf(const char *text, char *buf, size_t cap)
{
    char stream[512];
    int sl = snprintf(stream, sizeof stream, "BT /F1 12 Tf 72 720 Td (%s) Tj ET", text);
    char objs[5][640];
    snprintf(objs[0], sizeof objs[0], "<< /Type /Catalog /Pages 2 0 R >>");
    snprintf(objs[1], sizeof objs[1], "<< /Type /Pages /Kids [3 0 R] /Count 1 >>");
    snprintf(objs[2], sizeof objs[2],
             "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
             "/Resources << /Font << /F1 5 0 R >> >> >>");
    snprintf(objs[3], sizeof objs[3], "<< /Length %d >>\nstream\n%s\nendstream", sl, stream);
    snprintf(objs[4], sizeof objs[4], "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>");
    size_t n = (size_t)snprintf(buf, cap, "%%PDF-1.4\n");
    size_t offs[5];
    for (int i = 0; i < 5 && n < cap; i++) {
        offs[i] = n;
        n += (size_t)snprintf(buf + n, cap - n, "%d 0 obj\n%s\nendobj\n", i + 1, objs[i]);
    }
    size_t x = n;
    n += (size_t)snprintf(buf + n, cap - n, "xref\n0 6\n0000000000 65535 f \n");
    for (int i = 0; i < 5 && n < cap; i++)
        n += (size_t)snprintf(buf + n, cap - n, "%010zu 00000 n \n", offs[i]);
    n += (size_t)snprintf(buf + n, cap - n,
                          "trailer\n<< /Size 6 /Root 1 0 R /Info << /Title (Seed) >> >>\n"
                          "startxref\n%zu\n%%%%EOF\n",
                          x);
    return n < cap ? n : 0;
}

#endif /* RECITE_SEEDS_WRITE_H */

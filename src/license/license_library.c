/*
 * license_library.c — the license texts identification matches against: Debian's
 * /usr/share/common-licenses and the SPDX license list (the npm package spdx-license-list,
 * fetched by scripts/deps.sh), written as one JSONL of works for the builder to index
 * (src/build/build_licenses.c), a key of them for the per-machine cache, and the list of SPDX
 * ids (for policies).
 */
#include "rc_license.h"

#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

/* Debian file names to SPDX ids (the unversioned names are symlinks to the latest version).
 * `variant`: Debian's text is one variant of what the id covers (its BSD is the University of
 * California's, "THE REGENTS AND CONTRIBUTORS"), so the SPDX list's text is added as well. */
static const struct {
    const char *file, *spdx;
    bool variant;
} debian_ids[] = {
    {"Apache-2.0", "Apache-2.0", false},  {"Artistic", "Artistic-1.0-Perl", false},
    {"BSD", "BSD-3-Clause", true},        {"CC0-1.0", "CC0-1.0", false},
    {"GFDL-1.2", "GFDL-1.2-only", false}, {"GFDL-1.3", "GFDL-1.3-only", false},
    {"GPL-1", "GPL-1.0-only", false},     {"GPL-2", "GPL-2.0-only", false},
    {"GPL-3", "GPL-3.0-only", false},     {"LGPL-2", "LGPL-2.0-only", false},
    {"LGPL-2.1", "LGPL-2.1-only", false}, {"LGPL-3", "LGPL-3.0-only", false},
    {"MPL-1.1", "MPL-1.1", false},        {"MPL-2.0", "MPL-2.0", false},
};

const char *rc_license_spdx_dir(const rc_license_src *src)
{
    return src && src->spdx_dir && *src->spdx_dir ? src->spdx_dir : RECITE_DEFAULT_SPDX_DIR;
}

static const char *debian_dir(const rc_license_src *src)
{
    return src && src->debian_dir && *src->debian_dir ? src->debian_dir
                                                      : RECITE_DEFAULT_DEBIAN_LICENSES;
}

/* Whether a line of a license text is a copyright notice or its template ("Copyright (C)
 * 2007 Free Software Foundation", "Copyright (c) <year> <owner>."): a word, sign or "(c)"
 * first, then a digit or a template bracket. */
static bool notice_line(const char *l, size_t n)
{
    size_t i = 0;
    while (i < n && (l[i] == ' ' || l[i] == '\t' || l[i] == '#' || l[i] == '*' || l[i] == '/'))
        i++;
    if (!(n - i >= 9 && strncasecmp(l + i, "copyright", 9) == 0) &&
        !(n - i >= 3 && strncasecmp(l + i, "(c)", 3) == 0) &&
        !(n - i >= 2 && memcmp(l + i, "\xc2\xa9", 2) == 0))
        return false;
    for (; i < n; i++)
        if ((l[i] >= '0' && l[i] <= '9') || l[i] == '<' || l[i] == '[' || l[i] == '{')
            return true;
    return false;
}

/* One license text as a JSONL work: its id is the work's (unique), `license` the SPDX id
 * identification reports (several texts may carry one license). Its notice lines are left
 * out, as they are from the headers identified against it (src/cmi/cmi_text.c): a template line the
 * headers never hold would count against the licenses that have one. RECITE_OK, RECITE_ENOMEM
 * or RECITE_EIO (the line could not be written). */
static int put_license(FILE *f, const char *work, const char *id, const char *title,
                       const char *text, size_t len)
{
    char *kept = malloc(len + 1);
    json_t *o = json_object();
    if (!o || !kept) {
        json_decref(o);
        free(kept);
        return RECITE_ENOMEM;
    }
    size_t m = 0;
    for (size_t i = 0; i < len;) {
        const char *nl = memchr(text + i, '\n', len - i);
        size_t e = nl ? (size_t)(nl - text) + 1 : len;
        if (!notice_line(text + i, e - i)) {
            memcpy(kept + m, text + i, e - i);
            m += e - i;
        }
        i = e;
    }
    /* A field that could not be made would leave a work without its id or text. */
    bool ok = json_object_set_new(o, "id", json_string(work)) == 0 &&
              json_object_set_new(o, "text", json_stringn_nocheck(kept, m)) == 0 &&
              (!title || json_object_set_new(o, "title", json_string(title)) == 0) &&
              json_object_set_new(o, "license", json_string(id)) == 0;
    free(kept);
    char *line = ok ? rc_json_dumps(o, JSON_COMPACT | JSON_ENSURE_ASCII) : NULL;
    json_decref(o);
    if (!line)
        return RECITE_ENOMEM;
    int rc = fprintf(f, "%s\n", line) < 0 ? RECITE_EIO : RECITE_OK;
    free(line);
    return rc;
}

/* Reads a whole file into *out (malloc'd): RECITE_OK, RECITE_ENOMEM, or RECITE_EIO when it
 * cannot be opened or read (a license text that is not there). */
static int slurp(const char *path, char **out, size_t *len)
{
    *out = NULL;
    *len = 0;
    FILE *f = fopen(path, "rb");
    if (!f)
        return errno == ENOMEM ? RECITE_ENOMEM : RECITE_EIO;
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap + 1);
    size_t got;
    while (buf && (got = fread(buf + n, 1, cap - n, f)) > 0) {
        n += got;
        if (n == cap) {
            char *nb = realloc(buf, (cap *= 2) + 1);
            if (!nb)
                free(buf);
            buf = nb;
        }
    }
    int rc = !buf ? RECITE_ENOMEM : ferror(f) ? RECITE_EIO : RECITE_OK;
    fclose(f);
    if (rc != RECITE_OK) {
        free(buf);
        return rc;
    }
    buf[n] = 0;
    *out = buf;
    *len = n;
    return RECITE_OK;
}

/* Deprecated ids of the SPDX list (the npm package spdx-license-ids lists them; a test checks
 * this table against it): what identification reports for their text instead, NULL when
 * another id carries the same text. The "-with-exception" ids are expressions now. */
static const struct {
    const char *id, *now;
} deprecated[] = {
    {"AGPL-1.0", NULL},
    {"AGPL-3.0", NULL},
    {"BSD-2-Clause-FreeBSD", "BSD-2-Clause-Views"},
    {"BSD-2-Clause-NetBSD", NULL},
    {"GFDL-1.1", NULL},
    {"GFDL-1.2", NULL},
    {"GFDL-1.3", NULL},
    {"GPL-1.0", NULL},
    {"GPL-2.0", NULL},
    {"GPL-2.0-with-GCC-exception", "GPL-2.0-only WITH GCC-exception-2.0"},
    {"GPL-2.0-with-autoconf-exception", "GPL-2.0-only WITH Autoconf-exception-2.0"},
    {"GPL-2.0-with-bison-exception", "GPL-2.0-only WITH Bison-exception-2.2"},
    {"GPL-2.0-with-classpath-exception", "GPL-2.0-only WITH Classpath-exception-2.0"},
    {"GPL-2.0-with-font-exception", "GPL-2.0-only WITH Font-exception-2.0"},
    {"GPL-3.0", NULL},
    {"GPL-3.0-with-GCC-exception", "GPL-3.0-only WITH GCC-exception-3.1"},
    {"GPL-3.0-with-autoconf-exception", "GPL-3.0-only WITH Autoconf-exception-3.0"},
    {"LGPL-2.0", NULL},
    {"LGPL-2.1", NULL},
    {"LGPL-3.0", NULL},
    {"Net-SNMP", NULL},
    {"Nunit", NULL},
    {"StandardML-NJ", NULL},
    {"bzip2-1.0.5", NULL},
    {"eCos-2.0", "GPL-2.0-or-later WITH eCos-exception-2.0"},
    {"wxWindows", "GPL-2.0-or-later WITH WxWindows-exception-3.1"},
};

/* The table above, for tests: *n entries of ids and replacements. */
size_t rc_license_deprecated(const char **ids, const char **now, size_t cap)
{
    size_t n = 0;
    for (; n < RC_ARRAY_LEN(deprecated) && n < cap; n++) {
        ids[n] = deprecated[n].id;
        now[n] = deprecated[n].now;
    }
    return n;
}

/* The license a text of the SPDX list is reported as: its id, what replaces a deprecated id,
 * or NULL when the text is left out (an exception filed among the licenses). */
static const char *reported_as(const char *id)
{
    for (size_t i = 0; i < RC_ARRAY_LEN(deprecated); i++)
        if (strcmp(deprecated[i].id, id) == 0)
            return deprecated[i].now;
    size_t n = strlen(id);
    if (n > 10 && strcmp(id + n - 10, "-exception") == 0)
        return NULL;
    return id;
}

/* SPDX ids whose text another id already carries: deprecated aliases ("GPL-2.0", "GPL-2.0+")
 * and the "-or-later" twins of "-only" texts (the wording decides between them later). */
static bool redundant_spdx(const char *dir, const char *id)
{
    size_t n = strlen(id);
    if (n && id[n - 1] == '+')
        return true;
    if (n > 9 && strcmp(id + n - 9, "-or-later") == 0)
        return true;
    char path[4096];
    snprintf(path, sizeof path, "%s/%s-only.json", dir, id);
    return access(path, R_OK) == 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The names in the SPDX directory ending in `suffix` (without it; all but dot files when
 * suffix is ""), sorted: readdir's order is the disk's. A directory that is not there has none. */
static int spdx_names(const char *dir, const char *suffix, char ***out, size_t *count)
{
    *out = NULL;
    *count = 0;
    DIR *d = opendir(dir);
    if (!d)
        return errno == ENOMEM ? RECITE_ENOMEM : RECITE_OK;
    RC_VEC(char *) names = {0};
    size_t k = strlen(suffix);
    int rc = RECITE_OK;
    struct dirent *e;
    while (rc == RECITE_OK && (e = readdir(d)) != NULL) {
        size_t n = strlen(e->d_name);
        if (k ? n <= k || strcmp(e->d_name + n - k, suffix) != 0 : e->d_name[0] == '.')
            continue;
        char *nm = strndup(e->d_name, n - k);
        if (!nm || RC_VEC_PUSH(names, nm) != RECITE_OK) {
            free(nm);
            rc = RECITE_ENOMEM;
        }
    }
    closedir(d);
    if (rc != RECITE_OK) {
        rc_license_ids_free(names.v, names.n);
        return rc;
    }
    rc_sort(names.v, names.n, sizeof *names.v, cmp_str);
    *out = names.v;
    *count = names.n;
    return RECITE_OK;
}

/* One text of the SPDX list: written, or skipped when the file is not a license (unreadable,
 * malformed, no text). RECITE_OK (*count grows when written), RECITE_ENOMEM or RECITE_EIO. */
static int put_spdx(FILE *f, const char *path, const char *work, const char *as, size_t *count)
{
    char *json;
    size_t len;
    int rc = slurp(path, &json, &len);
    if (rc != RECITE_OK)
        return rc == RECITE_ENOMEM ? rc : RECITE_OK;
    json_error_t jerr;
    json_t *o = json_loadb(json, len, 0, &jerr);
    if (!o && rc_json_refused_for_memory(&jerr, json, len, false))
        rc = RECITE_ENOMEM;
    free(json);
    json_t *text = o ? json_object_get(o, "licenseText") : NULL;
    json_t *name = o ? json_object_get(o, "name") : NULL;
    if (rc == RECITE_OK && json_is_string(text) && json_string_length(text) > 0 &&
        (rc = put_license(f, work, as, json_is_string(name) ? json_string_value(name) : NULL,
                          json_string_value(text), json_string_length(text))) == RECITE_OK)
        (*count)++;
    json_decref(o);
    return rc;
}

int rc_license_library_write(const rc_license_src *src, const char *jsonl_path, size_t *count,
                             recite_error *err)
{
    *count = 0;
    FILE *f = fopen(jsonl_path, "we");
    if (!f)
        return rc_error_errno(err, RECITE_EIO, errno, "%s: cannot create", jsonl_path);
    int rc = RECITE_OK;
    for (size_t i = 0; i < RC_ARRAY_LEN(debian_ids) && rc == RECITE_OK; i++) {
        char path[512];
        snprintf(path, sizeof path, "%s/%s", debian_dir(src), debian_ids[i].file);
        size_t len;
        char *text;
        if ((rc = slurp(path, &text, &len)) != RECITE_OK) {
            rc = rc == RECITE_ENOMEM ? rc : RECITE_OK; /* not on this machine */
            continue;
        }
        if (len && (rc = put_license(f, debian_ids[i].spdx, debian_ids[i].spdx, NULL, text, len)) ==
                       RECITE_OK)
            (*count)++;
        free(text);
    }
    /* The SPDX list, in name order (deterministic), skipping what Debian already gave. */
    const char *dir = rc_license_spdx_dir(src);
    char **names = NULL;
    size_t nnames = 0;
    if (rc == RECITE_OK)
        rc = spdx_names(dir, ".json", &names, &nnames);
    for (size_t i = 0; i < nnames && rc == RECITE_OK; i++) {
        const char *id = names[i];
        bool have = false, variant = false;
        for (size_t k = 0; k < RC_ARRAY_LEN(debian_ids) && !have; k++)
            if ((have = strcmp(debian_ids[k].spdx, id) == 0))
                variant = debian_ids[k].variant;
        const char *as = reported_as(id);
        if ((have && !variant) || redundant_spdx(dir, id) || !as)
            continue;
        char work[300];
        snprintf(work, sizeof work, "%s%s", id, variant ? " (SPDX)" : "");
        char path[4096];
        snprintf(path, sizeof path, "%s/%s.json", dir, id);
        rc = put_spdx(f, path, work, as, count);
    }
    rc_license_ids_free(names, nnames);
    if (fclose(f) != 0 && rc == RECITE_OK)
        rc = rc_error_errno(err, RECITE_EIO, errno, "%s: write failed", jsonl_path);
    else if (rc == RECITE_EIO)
        rc = rc_error_set(err, rc, "%s: write failed", jsonl_path);
    else if (rc != RECITE_OK)
        rc = rc_error_set(err, rc, "out of memory");
    return rc;
}

/* Bump when rc_license_library_write selects or writes its texts differently. */
#define LIBRARY_VERSION 4

static void key_add(XXH3_state_t *st, const char *path)
{
    struct stat sb;
    if (stat(path, &sb) != 0)
        return;
    char meta[64];
    int n = snprintf(meta, sizeof meta, "|%lld|%lld.%09ld\n", (long long)sb.st_size,
                     (long long)sb.st_mtim.tv_sec, (long)sb.st_mtim.tv_nsec);
    XXH3_64bits_update(st, path, strlen(path));
    XXH3_64bits_update(st, meta, (size_t)n);
}

int rc_license_library_key(uint64_t *key, const rc_license_src *src)
{
    *key = 0;
    XXH3_state_t *st = XXH3_createState();
    if (!st || XXH3_64bits_reset(st) == XXH_ERROR) {
        XXH3_freeState(st);
        return RECITE_ENOMEM;
    }
    char head[32];
    int n = snprintf(head, sizeof head, "recite-licenses-%d\n", LIBRARY_VERSION);
    XXH3_64bits_update(st, head, (size_t)n);
    for (size_t i = 0; i < RC_ARRAY_LEN(debian_ids); i++) {
        char path[512];
        snprintf(path, sizeof path, "%s/%s", debian_dir(src), debian_ids[i].file);
        key_add(st, path);
    }
    const char *dir = rc_license_spdx_dir(src);
    char **names;
    size_t nnames;
    int rc = spdx_names(dir, "", &names, &nnames);
    for (size_t i = 0; i < nnames; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        key_add(st, path);
    }
    rc_license_ids_free(names, nnames);
    if (rc == RECITE_OK)
        *key = XXH3_64bits_digest(st);
    XXH3_freeState(st);
    return rc;
}

static int cmp_id(const void *a, const void *b)
{
    return strcasecmp(*(char *const *)a, *(char *const *)b);
}

int rc_license_spdx_ids(const rc_license_src *src, char ***ids, size_t *n, bool *missing)
{
    *ids = NULL;
    *n = 0;
    DIR *d = opendir(rc_license_spdx_dir(src));
    *missing = d == NULL;
    RC_VEC(char *) v = {0};
    struct dirent *e;
    int rc = RECITE_OK;
    while (d && (e = readdir(d)) != NULL) {
        size_t len = strlen(e->d_name);
        if (len > 5 && strcmp(e->d_name + len - 5, ".json") == 0) {
            char *id = strndup(e->d_name, len - 5);
            if (!id || RC_VEC_PUSH(v, id) != RECITE_OK) {
                free(id);
                rc = RECITE_ENOMEM;
                break;
            }
        }
    }
    if (d)
        closedir(d);
    if (rc != RECITE_OK) {
        rc_license_ids_free(v.v, v.n);
        return rc;
    }
    rc_sort(v.v, v.n, sizeof *v.v, cmp_id);
    *ids = v.v;
    *n = v.n;
    return RECITE_OK;
}

void rc_license_ids_free(char **ids, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(ids[i]);
    free(ids);
}

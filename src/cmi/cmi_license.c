/*
 * cmi_license.c — license identification by the matcher itself. The license texts found on the
 * machine (Debian's /usr/share/common-licenses and the SPDX license list the deps script fetches
 * from npm) become a small recite index in each index directory (DIR/licenses); a header or a
 * text is checked against it, and the license that explains most of its words wins: an SPDX id
 * and a score (the share of the text's words that are that license's). GPL-family notices get
 * "-or-later" when they say "any later version", "-only" otherwise; a full license text gets
 * "-only". Nothing matched well enough stays unknown.
 */
#include "rc_cmi_license.h"

#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#define MIN_MATCHED 12 /* words of a license a text must hold to be identified */
#define MIN_SCORE 0.2  /* ... and that share of its words */
#define FULL_TEXT 0.5  /* a text holding this share of a license is that license's text */
#define FIT_TIE 0.01   /* fits this close are a tie, decided by the words explained */

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
 * out, as they are from the headers identified against it (index_cmi.c): a template line the
 * headers never hold would count against the licenses that have one. */
static int put_license(FILE *f, const char *work, const char *id, const char *title,
                       const char *text, size_t len)
{
    char *kept = malloc(len + 1);
    json_t *o = json_object();
    if (!o || !kept) {
        json_decref(o);
        free(kept);
        return -1;
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
    json_object_set_new(o, "id", json_string(work));
    json_object_set_new(o, "text", json_stringn_nocheck(kept, m));
    free(kept);
    if (title)
        json_object_set_new(o, "title", json_string(title));
    json_object_set_new(o, "license", json_string(id));
    char *line = json_dumps(o, JSON_COMPACT | JSON_ENSURE_ASCII);
    json_decref(o);
    if (!line)
        return -1;
    int r = fprintf(f, "%s\n", line) < 0 ? -1 : 0;
    free(line);
    return r;
}

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap);
    size_t got;
    while (buf && (got = fread(buf + n, 1, cap - n, f)) > 0) {
        n += got;
        if (n == cap) {
            char *nb = realloc(buf, cap *= 2);
            if (!nb) {
                free(buf);
                buf = NULL;
            }
            buf = nb;
        }
    }
    fclose(f);
    *len = n;
    return buf;
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

int rc_license_library_write(const rc_license_src *src, const char *jsonl_path, size_t *count,
                             recite_error *err)
{
    *count = 0;
    FILE *f = fopen(jsonl_path, "we");
    if (!f)
        return rc_error_errno(err, RECITE_EIO, errno, "%s: cannot create", jsonl_path);
    int rc = RECITE_OK;
    for (size_t i = 0; i < RC_ARRAY_LEN(debian_ids); i++) {
        char path[512];
        snprintf(path, sizeof path, "%s/%s", debian_dir(src), debian_ids[i].file);
        size_t len;
        char *text = slurp(path, &len);
        if (!text)
            continue;
        if (len && put_license(f, debian_ids[i].spdx, debian_ids[i].spdx, NULL, text, len) == 0)
            (*count)++;
        free(text);
    }
    /* The SPDX list, in name order (deterministic), skipping what Debian already gave. */
    const char *dir = rc_license_spdx_dir(src);
    DIR *d = opendir(dir);
    RC_VEC(char *) names = {0};
    struct dirent *e;
    while (d && (e = readdir(d)) != NULL) {
        size_t n = strlen(e->d_name);
        if (n > 5 && strcmp(e->d_name + n - 5, ".json") == 0) {
            char *nm = strndup(e->d_name, n - 5);
            if (!nm || RC_VEC_PUSH(names, nm) != RECITE_OK)
                free(nm);
        }
    }
    if (d)
        closedir(d);
    rc_sort(names.v, names.n, sizeof *names.v, cmp_str);
    for (size_t i = 0; i < names.n; i++) {
        const char *id = names.v[i];
        bool have = false, variant = false;
        for (size_t k = 0; k < RC_ARRAY_LEN(debian_ids) && !have; k++)
            if ((have = strcmp(debian_ids[k].spdx, id) == 0))
                variant = debian_ids[k].variant;
        if ((have && !variant) || redundant_spdx(dir, id))
            continue;
        char work[300];
        snprintf(work, sizeof work, "%s%s", id, variant ? " (SPDX)" : "");
        char path[4096];
        snprintf(path, sizeof path, "%s/%s.json", dir, id);
        json_error_t jerr;
        json_t *o = json_load_file(path, 0, &jerr);
        json_t *text = o ? json_object_get(o, "licenseText") : NULL;
        json_t *name = o ? json_object_get(o, "name") : NULL;
        if (json_is_string(text) && json_string_length(text) > 0 &&
            put_license(f, work, id, json_is_string(name) ? json_string_value(name) : NULL,
                        json_string_value(text), json_string_length(text)) == 0)
            (*count)++;
        json_decref(o);
    }
    for (size_t i = 0; i < names.n; i++)
        free(names.v[i]);
    RC_VEC_FREE(names);
    if (fclose(f) != 0)
        rc = rc_error_errno(err, RECITE_EIO, errno, "%s: write failed", jsonl_path);
    return rc;
}

/* Bump when rc_license_library_write selects or writes its texts differently. */
#define LIBRARY_VERSION 3

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

uint64_t rc_license_library_key(const rc_license_src *src)
{
    XXH3_state_t *st = XXH3_createState();
    if (!st || XXH3_64bits_reset(st) == XXH_ERROR) {
        XXH3_freeState(st);
        return 0;
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
    DIR *d = opendir(dir);
    RC_VEC(char *) names = {0};
    struct dirent *e;
    while (d && (e = readdir(d)) != NULL) {
        char *nm = e->d_name[0] != '.' ? strdup(e->d_name) : NULL;
        if (nm && RC_VEC_PUSH(names, nm) != RECITE_OK)
            free(nm);
    }
    if (d)
        closedir(d);
    rc_sort(names.v, names.n, sizeof *names.v, cmp_str); /* readdir order is the disk's */
    for (size_t i = 0; i < names.n; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, names.v[i]);
        key_add(st, path);
        free(names.v[i]);
    }
    RC_VEC_FREE(names);
    uint64_t key = XXH3_64bits_digest(st);
    XXH3_freeState(st);
    return key;
}

/* ==== identification ==== */

static bool gpl_family(const char *id)
{
    return strncmp(id, "GPL-", 4) == 0 || strncmp(id, "LGPL-", 5) == 0 ||
           strncmp(id, "AGPL-", 5) == 0 || strncmp(id, "GFDL-", 5) == 0;
}

/* "GPL-2.0-only" -> "GPL-2.0" in out. */
static void family_of(const char *id, char *out, size_t cap)
{
    snprintf(out, cap, "%s", id);
    size_t n = strlen(out);
    if (n > 5 && strcmp(out + n - 5, "-only") == 0)
        out[n - 5] = 0;
    else if (n > 9 && strcmp(out + n - 9, "-or-later") == 0)
        out[n - 9] = 0;
}

/* Licenses named outright ("under the terms of the MIT license"): the evidence when the text
 * only points to its license. Patterns are lower case, whitespace collapsed. */
static const struct {
    const char *pattern, *id;
} mentions[] = {
    /* Perl's own terms: either the GPL or the Artistic License */
    {"same terms as perl itself", "Artistic-1.0-Perl OR GPL-1.0-or-later"},
    {"same terms as the perl 5 programming language", "Artistic-1.0-Perl OR GPL-1.0-or-later"},
    {"same terms as python itself", "PSF-2.0"},
    {"freetype project license", "FTL"},
    {"gnu affero general public license", "AGPL-3.0"},
    {"gnu lesser general public license", "LGPL"},
    {"gnu library general public license", "LGPL-2.0"},
    {"gnu general public license", "GPL"},
    {"apache license, version 2.0", "Apache-2.0"},
    {"apache license version 2.0", "Apache-2.0"},
    {"apache license 2.0", "Apache-2.0"},
    {"mozilla public license, v. 2.0", "MPL-2.0"},
    {"mozilla public license version 2.0", "MPL-2.0"},
    {"the mit license", "MIT"},
    {"mit license", "MIT"},
    {"mit licence", "MIT"},
    {"isc license", "ISC"},
    {"the unlicense", "Unlicense"},
    {"creative commons attribution 4.0", "CC-BY-4.0"},
    {"cc0 1.0", "CC0-1.0"},
    {"python software foundation license", "PSF-2.0"},
    {"boost software license", "BSL-1.0"},
    {"eclipse public license", "EPL-2.0"},
};

/* The GNU version named after position p: "version 2", "v3", "2.1". */
static const char *gnu_version(const char *p)
{
    const char *v = strstr(p, "version ");
    if (!v || v - p > 160)
        return NULL;
    v += 8;
    if (strncmp(v, "2.1", 3) == 0)
        return "2.1";
    if (*v == '2')
        return "2.0";
    if (*v == '3')
        return "3.0";
    if (*v == '1')
        return "1.0";
    return NULL;
}

/* The license the text names first ("... the GNU General Public License, version 2 ...; the
 * library it uses is under the GNU Lesser General Public License" names the GPL). */
static bool mention_of(const char *text, size_t len, char *id, size_t cap)
{
    char buf[8192];
    rc_cmi_collapse(text, len, buf, sizeof buf);
    const char *first = NULL;
    for (size_t i = 0; i < RC_ARRAY_LEN(mentions); i++) {
        const char *p = strstr(buf, mentions[i].pattern);
        if (!p || (first && p >= first))
            continue;
        const char *m = mentions[i].id;
        if (strcmp(m, "GPL") == 0 || strcmp(m, "LGPL") == 0) {
            const char *v = gnu_version(p);
            if (!v)
                continue;
            bool later = strstr(p, "later version") != NULL;
            snprintf(id, cap, "%s-%s-%s", m, v, later ? "or-later" : "only");
        } else if (strcmp(m, "AGPL-3.0") == 0 || strcmp(m, "LGPL-2.0") == 0) {
            snprintf(id, cap, "%s-%s", m, strstr(p, "later version") ? "or-later" : "only");
        } else {
            snprintf(id, cap, "%s", m);
        }
        first = p;
    }
    return first != NULL;
}

/* Words of the text a license work explains: its matches' tokens, weighted by similarity,
 * each part of the text counted once (a license holding a passage twice, as Sleepycat holds
 * two BSD licenses, matches the text's passage twice). Matches come sorted by output start. */
static double matched_words(const recite_result *res, uint32_t work)
{
    double matched = 0;
    uint64_t covered = 0; /* output bytes before this are counted */
    for (size_t i = 0; i < res->nmatches; i++) {
        const recite_match *m = &res->matches[i];
        if (m->work != work || m->out_end <= covered)
            continue;
        double part = m->out_start >= covered
                          ? 1.0
                          : (double)(m->out_end - covered) / (double)(m->out_end - m->out_start);
        matched += m->tokens * m->similarity * part;
        covered = m->out_end;
    }
    return matched;
}

int rc_license_identify(const recite_index *lic, recite_checker *chk, const char *text, size_t len,
                        rc_license_id *out, recite_error *err)
{
    memset(out, 0, sizeof *out);
    if (!lic || !chk || len == 0)
        return RECITE_OK;
    const recite_result *res;
    int rc = recite_check_text(&res, chk, text, len, err);
    if (rc != RECITE_OK)
        return rc;
    /* The license whose matches explain the most words of the text (weighted by similarity).
     * Many licenses are variants of one another (BSD, MIT, zlib families; Apache and Pixar):
     * among those that explain nearly as much, the best fit both ways wins (Dice coefficient:
     * 2 matched / (text + license words)), so a full text picks the identical license, not a
     * longer variant that contains it; and of fits within FIT_TIE of the best, the one that
     * explains more of the text (a BSD text naming its own holder fits the canonical BSD and
     * a shorter variant about as well: the variant's own words are the ones it lacks). */
    double best = 0;
    for (size_t w = 0; w < res->nworks; w++)
        best = RC_MAX(best, matched_words(res, res->works[w].work));
    char named[64];
    bool has_name = mention_of(text, len, named, sizeof named);
    uint32_t best_work = UINT32_MAX;
    double best_fit = -1, top_fit = -1, best_matched = 0, best_cov = 0;
    for (int pass = 0; pass < 2; pass++) {
        for (size_t w = 0; w < res->nworks && best > 0; w++) {
            const recite_work_hit *h = &res->works[w];
            double matched = matched_words(res, h->work);
            recite_work_info wi;
            if (matched < 0.95 * best || recite_index_work(&wi, lic, h->work) != RECITE_OK)
                continue;
            double fit = 2.0 * matched / ((double)res->tokens + (double)wi.tokens);
            /* A license the text names (with its version) is preferred among the close ones. */
            const char *wl = wi.license ? wi.license : wi.id; /* the SPDX id of the text */
            if (has_name && rc_license_same_family(named, wl))
                fit += 2.0;
            if (pass == 0) {
                top_fit = RC_MAX(top_fit, fit);
                continue;
            }
            if (out->nalt < RC_LICENSE_MAX_ALT)
                snprintf(out->alt[out->nalt++], sizeof out->alt[0], "%s", wl);
            if (fit >= top_fit - FIT_TIE && (best_work == UINT32_MAX || matched > best_matched ||
                                             (matched == best_matched && fit > best_fit))) {
                best_fit = fit;
                best_work = h->work;
                best_matched = matched;
                best_cov = h->coverage;
            }
        }
    }
    if (best_fit >= 2.0) /* the text's own words chose among the variants */
        out->nalt = 0;
    double score = res->tokens ? RC_MIN(1.0, best_matched / (double)res->tokens) : 0;
    recite_work_info info;
    bool matched_ok = best_work != UINT32_MAX && best_matched >= MIN_MATCHED &&
                      score >= MIN_SCORE && recite_index_work(&info, lic, best_work) == RECITE_OK;
    const char *lid = matched_ok ? (info.license ? info.license : info.id) : "";
    bool full = matched_ok && best_cov >= FULL_TEXT;
    /* A text that names its license goes by the name, unless it is almost wholly another
     * license's full text: neither a shared phrase ("is free software; you can redistribute
     * it" against "under the terms of the MIT license") nor the words of a notice (the LGPL's
     * is the GPL's with "Lesser" added) are evidence against the name it gives. */
    if (has_name &&
        (!matched_ok || (!(full && score >= 0.9) && !rc_license_same_family(named, lid)))) {
        snprintf(out->id, sizeof out->id, "%s", named);
        out->nalt = 0;
        out->score = matched_ok && rc_license_same_family(named, lid) ? score : 0;
        out->from = RECITE_FROM_HEADER;
        return RECITE_OK;
    }
    if (!matched_ok) {
        out->nalt = 0;
        return RECITE_OK;
    }
    out->score = score;
    out->full_text = full;
    out->start = UINT64_MAX;
    for (size_t i = 0; i < res->nmatches; i++)
        if (res->matches[i].work == best_work) {
            out->start = RC_MIN(out->start, res->matches[i].out_start);
            out->end = RC_MAX(out->end, res->matches[i].out_end);
        }
    if (out->start == UINT64_MAX)
        out->start = 0;
    out->from = out->full_text ? RECITE_FROM_TEXT : RECITE_FROM_HEADER;
    if (has_name && rc_license_same_family(named, lid) && !out->full_text) {
        snprintf(out->id, sizeof out->id, "%s", named); /* the version the text names */
    } else if (gpl_family(lid)) {
        char fam[48];
        family_of(lid, fam, sizeof fam);
        bool later = !out->full_text && rc_cmi_or_later((const uint8_t *)text, len);
        snprintf(out->id, sizeof out->id, "%.47s-%s", fam, later ? "or-later" : "only");
    } else {
        snprintf(out->id, sizeof out->id, "%s", lid);
    }
    return RECITE_OK;
}

bool rc_license_consistent(const rc_license_id *id, const char *license)
{
    if (rc_license_same_family(id->id, license))
        return true;
    for (unsigned i = 0; i < id->nalt; i++)
        if (rc_license_same_family(id->alt[i], license))
            return true;
    return false;
}

bool rc_license_same_family(const char *a, const char *b)
{
    char fa[64], fb[64];
    family_of(a, fa, sizeof fa);
    family_of(b, fb, sizeof fb);
    /* Treat "GPL-2.0+" as "GPL-2.0" and ignore case. */
    size_t na = strlen(fa), nb = strlen(fb);
    if (na && fa[na - 1] == '+')
        fa[--na] = 0;
    if (nb && fb[nb - 1] == '+')
        fb[--nb] = 0;
    return strcasecmp(fa, fb) == 0;
}

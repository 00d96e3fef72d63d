/*
 * index_cmi.c — the builder's side of copyright-management information: builds the license
 * index (DIR/licenses) from the license texts on the machine, and for each work extracts its
 * notices and identifies its license (cached by the license part of the header, which repeats
 * across files while copyright lines do not), stored as JSON with the work. The same
 * identification of one text is public as recite_license_identify (`recite license`).
 */
#include "rc_build.h"
#include "../cmi/rc_cmi_license.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#define HEADER_CAP (64u * 1024u)
#define CACHE_SLOTS 4096u
#define TAIL_CAP (16u * 1024u)  /* of a code text, looked at when its header has no license */
#define FIRST_PART (4u * 1024u) /* of a license part, identified before the whole */
#define MOSTLY_LICENSE 0.5      /* score of a start that is mostly license language */

struct rc_license_cache {
    uint64_t key[CACHE_SLOTS]; /* 0 = empty */
    rc_license_id val[CACHE_SLOTS];
};

int rc_license_index_build(const char *dir, const rc_license_src *src, bool *built,
                           recite_error *err)
{
    *built = false;
    char *jsonl = NULL, *out = NULL, *outfile = NULL, *cached = NULL;
    const char *cache =
        src->cache_dir && *src->cache_dir && rc_mkdir_p(src->cache_dir) ? src->cache_dir : NULL;
    int rc = RECITE_OK;
    if (asprintf(&jsonl, "%s/licenses.jsonl", dir) < 0 || asprintf(&out, "%s/licenses", dir) < 0 ||
        asprintf(&outfile, "%s/licenses/%s", dir, RC_INDEX_FILE) < 0) {
        rc = rc_error_set(err, RECITE_ENOMEM, "out of memory");
        goto done;
    }
    /* The same license sources give the same index: reuse one built before, keyed by them. */
    if (cache && asprintf(&cached, "%s/licenses-%016llx-v%u.idx", cache,
                          (unsigned long long)rc_license_library_key(src), RC_FORMAT_VERSION) < 0)
        cached = NULL;
    if (cached && mkdir(out, 0755) == 0) {
        /* A cached copy that does not open (damaged, or written by a build of another
         * format under the same version number) is replaced, not trusted. */
        recite_index *probe = NULL;
        if (rc_copy_file(cached, outfile) && recite_index_open(&probe, out, NULL) == RECITE_OK) {
            recite_index_close(probe);
            *built = true;
            goto done;
        }
        unlink(outfile);
        unlink(cached);
        rmdir(out);
    }
    size_t count = 0;
    if ((rc = rc_license_library_write(src, jsonl, &count, err)) != RECITE_OK || count == 0)
        goto done;
    recite_build_options opt = RECITE_BUILD_OPTIONS_INIT;
    opt.mode = RECITE_MODE_PROSE;
    opt.jobs = src->jobs;
    opt.skip_cmi = 1;
    opt.created_unix = 1; /* the same texts give the same index */
    const char *paths[] = {jsonl};
    if ((rc = recite_index_build(NULL, out, paths, 1, &opt, err)) != RECITE_OK)
        goto done;
    *built = true;
    if (cached) { /* for next time: copy, then rename into place (best effort) */
        char *tmp;
        if (asprintf(&tmp, "%s.%ld.tmp", cached, (long)getpid()) >= 0) {
            if (!rc_copy_file(outfile, tmp) || rename(tmp, cached) != 0)
                unlink(tmp);
            free(tmp);
        }
    }
done:
    if (jsonl)
        unlink(jsonl);
    free(jsonl);
    free(out);
    free(outfile);
    free(cached);
    return rc;
}

int rc_work_cmi_init(rc_work_ctx *ctx, const recite_index *lic)
{
    ctx->lic = lic;
    ctx->lic_chk = NULL;
    ctx->lic_cache = NULL;
    ctx->header = malloc(HEADER_CAP + 1);
    if (!ctx->header)
        return RECITE_ENOMEM;
    if (!lic)
        return RECITE_OK;
    ctx->lic_cache = calloc(1, sizeof *ctx->lic_cache);
    recite_check_options opt = RECITE_CHECK_OPTIONS_INIT;
    opt.all_works = 1; /* license texts are variants of each other: compare them all */
    opt.min_similarity = 0.7;
    opt.skip_cmi = 1; /* the license texts' own notices are not the question */
    if (!ctx->lic_cache || recite_checker_create(&ctx->lic_chk, lic, &opt, NULL) != RECITE_OK)
        return RECITE_ENOMEM;
    return RECITE_OK;
}

void rc_work_cmi_free(rc_work_ctx *ctx)
{
    recite_checker_free(ctx->lic_chk);
    free(ctx->lic_cache);
    free(ctx->header);
    ctx->lic_chk = NULL;
    ctx->lic_cache = NULL;
    ctx->header = NULL;
}

static char lower_ascii(char c)
{
    return c >= 'A' && c <= 'Z' ? (char)(c + 32) : c;
}

/* Whether the lower-case ASCII word is at l (of n bytes), in any case. */
static bool at_word(const char *l, size_t n, const char *w)
{
    size_t k = 0;
    while (w[k] && k < n && lower_ascii(l[k]) == w[k])
        k++;
    return !w[k];
}

enum { LINE_NOTICE = 1, LINE_LICENSE = 2, LINE_GRANT = 4 };

/* What a line of a header may be, in one pass: a notice or SPDX tag (LINE_NOTICE: "copyright",
 * "(c)", "©", "spdx-license" anywhere), license language (LINE_LICENSE: a word starting with
 * "licen", "liab", "permi", "public domain", "warrant", "redistribut", "free software",
 * "terms", "notice" or "copyright" — "notice", not "unnoticed"), and of those the words only
 * licenses use (LINE_GRANT: "licen", "public domain", "warrant", "redistribut", "free
 * software", "permission to use", "hereby grant"), without which a part is not a license
 * ("#define XA_NOTICE", "See Copyright for the status of this software"). */
static unsigned line_kind(const char *l, size_t n)
{
    unsigned k = 0;
    for (size_t i = 0; i < n; i++) {
        char c = lower_ascii(l[i]);
        bool start = i == 0 || !(lower_ascii(l[i - 1]) >= 'a' && lower_ascii(l[i - 1]) <= 'z');
        const char *p = l + i;
        size_t r = n - i;
        switch (c) {
        case 'c':
            if (at_word(p, r, "copyright"))
                k |= LINE_NOTICE | (start ? LINE_LICENSE : 0);
            break;
        case '(':
            if (at_word(p, r, "(c)"))
                k |= LINE_NOTICE;
            break;
        case '\xc2':
            if (r > 1 && p[1] == '\xa9')
                k |= LINE_NOTICE;
            break;
        case 's':
            if (at_word(p, r, "spdx-license"))
                k |= LINE_NOTICE;
            break;
        case 'l':
            if (start && at_word(p, r, "licen"))
                k |= LINE_LICENSE | LINE_GRANT;
            else if (start && at_word(p, r, "liab"))
                k |= LINE_LICENSE;
            break;
        case 'p':
            if (start && (at_word(p, r, "public domain") || at_word(p, r, "permission to use")))
                k |= LINE_LICENSE | LINE_GRANT;
            else if (start && at_word(p, r, "permi"))
                k |= LINE_LICENSE;
            break;
        case 'h':
            if (start && at_word(p, r, "hereby grant"))
                k |= LINE_LICENSE | LINE_GRANT;
            break;
        case 'w':
            if (start && at_word(p, r, "warrant"))
                k |= LINE_LICENSE | LINE_GRANT;
            break;
        case 'r':
            if (start && at_word(p, r, "redistribut"))
                k |= LINE_LICENSE | LINE_GRANT;
            break;
        case 'f':
            if (start && at_word(p, r, "free software"))
                k |= LINE_LICENSE | LINE_GRANT;
            break;
        case 't':
            if (start && at_word(p, r, "terms"))
                k |= LINE_LICENSE;
            break;
        case 'n':
            if (start && at_word(p, r, "notice"))
                k |= LINE_LICENSE;
            break;
        default: break;
        }
    }
    return k;
}

/* The license part of a header, what is identified (and the key of the cache): from its first
 * to its last line of license language, without copyright lines and SPDX tags; empty without
 * a word only licenses use. What differs from file to file — notices, the title and
 * description lines before and after the license — is left out, so that the files sharing a
 * license notice share one identification. */
static size_t license_part(char *h, size_t n)
{
    size_t m = 0, i = 0, last = 0; /* last: the output's length after its last license line */
    bool grant = false;
    while (i < n) {
        char *nl = memchr(h + i, '\n', n - i);
        size_t e = nl ? (size_t)(nl - h) + 1 : n;
        unsigned kind = line_kind(h + i, e - i);
        bool notice = false;
        if (kind & LINE_NOTICE) {
            rc_cmi one;
            rc_cmi_extract((const uint8_t *)h + i, e - i, &one);
            notice = one.nnotices || one.spdx[0];
        }
        bool license = !notice && (kind & LINE_LICENSE);
        grant |= license && (kind & LINE_GRANT);
        if (!notice && (license || m > 0)) { /* nothing before the first license line */
            memmove(h + m, h + i, e - i);
            m += e - i;
            if (license)
                last = m;
        }
        i = e;
    }
    if (!grant)
        last = 0;
    h[last] = 0;
    return last;
}

static int identify(rc_work_ctx *ctx, const char *text, size_t len, rc_license_id *id)
{
    memset(id, 0, sizeof *id);
    if (!ctx->lic_chk || len == 0)
        return RECITE_OK;
    uint64_t key = XXH3_64bits(text, len) | 1;
    size_t slot = key % CACHE_SLOTS;
    if (ctx->lic_cache->key[slot] == key) {
        *id = ctx->lic_cache->val[slot];
        return RECITE_OK;
    }
    int rc = rc_license_identify(ctx->lic, ctx->lic_chk, text, len, id, NULL);
    if (rc != RECITE_OK)
        return rc;
    ctx->lic_cache->key[slot] = key;
    ctx->lic_cache->val[slot] = *id;
    return RECITE_OK;
}

int rc_text_cmi(rc_work_ctx *ctx, const uint8_t *text, size_t len, int mode, rc_cmi *cmi,
                rc_license_id *id)
{
    rc_cmi_extract(text, len, cmi);
    memset(id, 0, sizeof *id);
    if (cmi->spdx[0]) {
        snprintf(id->id, sizeof id->id, "%.63s", cmi->spdx);
        id->score = 1.0;
        id->from = RECITE_FROM_SPDX;
        return RECITE_OK;
    }
    size_t n = rc_cmi_header(text, len, mode, ctx->header, HEADER_CAP + 1);
    n = license_part(ctx->header, n);
    if (n == 0 && mode == RECITE_MODE_CODE && len > 0) {
        /* No license in the leading comments: it may be at the end (Perl's POD "COPYRIGHT AND
         * LICENSE" section), in the last 16 KiB, as rc_cmi_extract reads notices there. */
        size_t from = len > TAIL_CAP ? len - TAIL_CAP : 0;
        const uint8_t *nl = from ? memchr(text + from, '\n', len - from) : NULL;
        from = nl ? (size_t)(nl - text) + 1 : from;
        memcpy(ctx->header, text + from, len - from);
        n = license_part(ctx->header, len - from);
    }
    /* A long license part (a document that mentions licenses here and there, or a license
     * text) is identified by its start first, and as a whole only when that start is mostly
     * license language: a license text, told from a notice by how much of the license it
     * holds. Documents cost a few KiB of identification, not 64. */
    if (n > FIRST_PART) {
        size_t cut = FIRST_PART;
        while (cut > FIRST_PART / 2 && ctx->header[cut - 1] != '\n')
            cut--;
        int rc = identify(ctx, ctx->header, cut, id);
        if (rc != RECITE_OK || id->score < MOSTLY_LICENSE)
            return rc;
    }
    return identify(ctx, ctx->header, n, id);
}

int rc_work_cmi(rc_work_ctx *ctx, rc_work_out *out)
{
    rc_cmi cmi;
    rc_license_id id;
    int rc = rc_text_cmi(ctx, out->text, out->text_len, out->mode, &cmi, &id);
    if (rc != RECITE_OK)
        return rc;
    if (!cmi.nnotices && !id.id[0] && !cmi.rights_reserved && !cmi.title[0] && !cmi.author[0])
        return RECITE_OK; /* nothing to record */
    json_t *o = json_object(), *ns = json_array();
    if (!o || !ns) {
        json_decref(o);
        json_decref(ns);
        return RECITE_ENOMEM;
    }
    for (unsigned i = 0; i < cmi.nnotices; i++) {
        const rc_notice *nt = &cmi.notices[i];
        json_t *n = json_pack("{s:s, s:s, s:[i,i], s:I, s:I}", "text", nt->text, "holder",
                              nt->holder, "years", (int)nt->year_min, (int)nt->year_max, "start",
                              (json_int_t)nt->start, "end", (json_int_t)nt->end);
        if (n)
            json_array_append_new(ns, n);
    }
    json_object_set_new(o, "notices", ns);
    if (cmi.spdx[0])
        json_object_set_new(o, "spdx", json_string(cmi.spdx));
    if (id.id[0])
        json_object_set_new(o, "license",
                            json_pack("{s:s, s:f, s:s}", "id", id.id, "score", id.score, "from",
                                      recite_info_source_name(id.from)));
    json_object_set_new(o, "rights_reserved", json_boolean(cmi.rights_reserved));
    if (cmi.title[0])
        json_object_set_new(o, "title", json_string(cmi.title));
    if (cmi.author[0])
        json_object_set_new(o, "author", json_string(cmi.author));
    out->strs[RC_WS_CMI] = json_dumps(o, JSON_COMPACT | JSON_ENSURE_ASCII);
    json_decref(o);
    return out->strs[RC_WS_CMI] ? RECITE_OK : RECITE_ENOMEM;
}

/* ==== recite_license_identify: the same identification for one text (`recite license`) ==== */

struct recite_license_checker {
    recite_index *lic;
    rc_work_ctx *ctx; /* only its CMI part is used */
};

/* Removes what rc_license_index_build leaves in dir (the opened index stays mapped). */
static void remove_license_dir(const char *dir)
{
    char *p;
    if (asprintf(&p, "%s/licenses/%s", dir, RC_INDEX_FILE) >= 0) {
        unlink(p);
        p[strlen(p) - strlen(RC_INDEX_FILE) - 1] = 0;
        rmdir(p);
        free(p);
    }
    if (asprintf(&p, "%s/licenses.jsonl", dir) >= 0) {
        unlink(p);
        free(p);
    }
    rmdir(dir);
}

int recite_license_checker_create(recite_license_checker **out, const recite_license_options *opt,
                                  recite_error *err)
{
    *out = NULL;
    recite_license_options defaults = RECITE_LICENSE_OPTIONS_INIT;
    if (!opt)
        opt = &defaults;
    if (opt->version != RECITE_LICENSE_OPTIONS_VERSION)
        return rc_error_set(err, RECITE_EINVAL, "license options version %u not supported",
                            opt->version);
    rc_license_src src = {opt->debian_licenses_dir, opt->spdx_dir, opt->cache_dir, opt->tmp_dir,
                          opt->jobs};
    recite_license_checker *lc = calloc(1, sizeof *lc);
    char *tmp = NULL, *licdir = NULL;
    const char *base = opt->tmp_dir;
    int rc = RECITE_OK;
    if (!lc || !(lc->ctx = calloc(1, sizeof *lc->ctx)) ||
        asprintf(&tmp, "%s/recite-license.XXXXXX", base && *base ? base : "/tmp") < 0) {
        tmp = NULL;
        rc = rc_error_set(err, RECITE_ENOMEM, "out of memory");
        goto done;
    }
    if (!mkdtemp(tmp)) {
        rc = rc_error_errno(err, RECITE_EIO, errno, "%s: cannot create", tmp);
        free(tmp);
        tmp = NULL;
        goto done;
    }
    bool built;
    if ((rc = rc_license_index_build(tmp, &src, &built, err)) != RECITE_OK)
        goto done;
    if (!built) {
        rc = rc_error_set(err, RECITE_EEMPTY,
                          "no license texts on this machine (%s, %s): install them with "
                          "scripts/deps.sh",
                          src.debian_dir ? src.debian_dir : RECITE_DEFAULT_DEBIAN_LICENSES,
                          rc_license_spdx_dir(&src));
        goto done;
    }
    if (asprintf(&licdir, "%s/licenses", tmp) < 0) {
        licdir = NULL;
        rc = rc_error_set(err, RECITE_ENOMEM, "out of memory");
        goto done;
    }
    if ((rc = recite_index_open(&lc->lic, licdir, err)) != RECITE_OK)
        goto done;
    if (rc_work_cmi_init(lc->ctx, lc->lic) != RECITE_OK)
        rc = rc_error_set(err, RECITE_ENOMEM, "out of memory");
done:
    if (tmp)
        remove_license_dir(tmp);
    free(tmp);
    free(licdir);
    if (rc != RECITE_OK) {
        recite_license_checker_free(lc);
        return rc;
    }
    *out = lc;
    return RECITE_OK;
}

void recite_license_checker_free(recite_license_checker *lc)
{
    if (!lc)
        return;
    if (lc->ctx)
        rc_work_cmi_free(lc->ctx);
    free(lc->ctx);
    recite_index_close(lc->lic);
    free(lc);
}

int recite_license_identify(recite_license_info *out, recite_license_checker *lc, const char *name,
                            const char *text, size_t len, recite_mode mode, recite_error *err)
{
    assert(lc && out && (text || len == 0));
    memset(out, 0, sizeof *out);
    int m =
        mode == RECITE_MODE_AUTO ? (name ? rc_mode_of_path(name) : RECITE_MODE_PROSE) : (int)mode;
    rc_cmi *cmi = malloc(sizeof *cmi);
    if (!cmi)
        return rc_error_set(err, RECITE_ENOMEM, "out of memory");
    rc_license_id id;
    int rc = rc_text_cmi(lc->ctx, (const uint8_t *)text, len, m, cmi, &id);
    if (rc != RECITE_OK) {
        free(cmi);
        return rc_error_set(err, rc, "%s: license identification failed: %s", name ? name : "text",
                            recite_strerror(rc));
    }
    snprintf(out->license, sizeof out->license, "%s", id.id);
    out->score = id.score;
    out->from = id.from;
    out->full_text = id.full_text;
    snprintf(out->spdx_tag, sizeof out->spdx_tag, "%s", cmi->spdx);
    for (unsigned i = 0; i < cmi->nnotices && i < RECITE_LICENSE_MAX_NOTICES; i++)
        snprintf(out->copyright[out->ncopyright++], sizeof out->copyright[0], "%s",
                 cmi->notices[i].text);
    free(cmi);
    return RECITE_OK;
}

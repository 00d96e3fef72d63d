/*
 * build_licenses.c — the only place the license index is built: the license texts of this
 * machine (src/license/license_library.c) indexed with recite itself into DIR/licenses of every
 * index (taken from a cache directory when built before from the same texts), and the public
 * license identification of one text (recite_license_*, `recite license`), which builds it in a
 * temporary directory.
 */
#include "rc_build.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

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
    uint64_t key;
    if (cache && (rc = rc_license_library_key(&key, src)) != RECITE_OK) {
        rc = rc_error_set(err, rc, "out of memory");
        goto done;
    }
    if (cache && asprintf(&cached, "%s/licenses-%016llx-v%u-t%u.idx", cache,
                          (unsigned long long)key, RC_FORMAT_VERSION, RC_TOKENIZER_VERSION) < 0)
        cached = NULL;
    if (cached && mkdir(out, 0755) == 0) {
        /* A cached copy that does not open and verify (damaged, or written by a build of
         * another format under the same version number) is replaced, not trusted; one that
         * could not be read for want of memory is left alone. */
        recite_index *probe = NULL;
        recite_error perr;
        int prc =
            rc_copy_file(cached, outfile) ? recite_index_open(&probe, out, &perr) : RECITE_EIO;
        if (prc == RECITE_OK)
            prc = recite_index_verify(probe, &perr);
        recite_index_close(probe);
        if (prc == RECITE_OK) {
            *built = true;
            goto done;
        }
        unlink(outfile);
        rmdir(out);
        if (prc == RECITE_ENOMEM) {
            rc = rc_error_set(err, prc, "%s", perr.message);
            goto done;
        }
        unlink(cached);
    }
    size_t count = 0;
    if ((rc = rc_license_library_write(src, jsonl, &count, err)) != RECITE_OK || count == 0)
        goto done;
    recite_build_options opt = RECITE_BUILD_OPTIONS_INIT;
    opt.mode = RECITE_MODE_PROSE;
    opt.jobs = src->jobs;
    opt.mem_budget = src->mem;
    opt.skip_cmi = 1;
    opt.created_unix = 1; /* the same texts give the same index */
    /* License texts share much wording: identification keeps them apart (match_* of
     * src/license), so only what 64 of them share is common there. */
    opt.common_texts = RC_COMMON_TEXTS_MAX;
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

/* ==== recite_license_identify: the same identification for one text (`recite license`) ==== */

struct recite_license_checker {
    recite_index *lic;
    rc_cmi_ctx cmi;
};

/* Removes what rc_license_index_build leaves in dir (the opened index stays mapped), without
 * allocating: it runs when memory ran out too. */
static void remove_license_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        unlinkat(fd, "licenses/" RC_INDEX_FILE, 0);
        unlinkat(fd, "licenses", AT_REMOVEDIR);
        unlinkat(fd, "licenses.jsonl", 0);
        close(fd);
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
    rc_license_src src = {
        opt->debian_licenses_dir, opt->spdx_dir, opt->cache_dir, opt->tmp_dir, opt->jobs, 0};
    recite_license_checker *lc = calloc(1, sizeof *lc);
    char *tmp = NULL, *licdir = NULL;
    const char *base = opt->tmp_dir;
    int rc = RECITE_OK;
    if (!lc || asprintf(&tmp, "%s/recite-license.XXXXXX", base && *base ? base : "/tmp") < 0) {
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
    if (rc_cmi_ctx_init(&lc->cmi, lc->lic) != RECITE_OK)
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
    rc_cmi_ctx_free(&lc->cmi);
    recite_index_close(lc->lic);
    free(lc);
}

int recite_license_identify(recite_license_info *out, recite_license_checker *lc, const char *name,
                            const char *text, size_t len, recite_mode mode, recite_error *err)
{
    assert(lc && out && (text || len == 0));
    memset(out, 0, sizeof *out);
    int m = mode == RECITE_MODE_AUTO
                ? (name ? rc_mode_of_text(name, (const uint8_t *)text, len) : RECITE_MODE_PROSE)
                : (int)mode;
    rc_cmi *cmi = malloc(sizeof *cmi);
    if (!cmi)
        return rc_error_set(err, RECITE_ENOMEM, "out of memory");
    rc_license_id id;
    int rc = rc_cmi_of_text(&lc->cmi, (const uint8_t *)text, len, m, cmi, &id);
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

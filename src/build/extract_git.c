/*
 * extract_git.c — git repositories with libgit2 (`recite index --git REPO[@REV]`): the tree of
 * the commit REV names (default HEAD), every blob a source whose work id is REPO@REV:path, read
 * straight from the object database by the workers (no checkout); hidden entries, symbolic
 * links and submodules skipped with a note. The repository's license file (LICENSE, COPYING,
 * ... at the root) is identified once the license index exists and applied to the files that
 * carry no license of their own; the remote URL and the commit are each work's metadata.
 */
#include "rc_extract.h"

#include <dlfcn.h>
#include <git2.h>
#include <limits.h>
#include <stdio.h>
#include <strings.h>

/* What this file calls of libgit2, loaded on first use (dl.c). */
#define GIT_FUNCTIONS(X, a)                                                                        \
    X(a, git_blob_free)                                                                            \
    X(a, git_blob_lookup)                                                                          \
    X(a, git_blob_rawcontent)                                                                      \
    X(a, git_blob_rawsize)                                                                         \
    X(a, git_commit_tree)                                                                          \
    X(a, git_error_last)                                                                           \
    X(a, git_libgit2_init)                                                                         \
    X(a, git_libgit2_shutdown)                                                                     \
    X(a, git_object_free)                                                                          \
    X(a, git_object_id)                                                                            \
    X(a, git_object_peel)                                                                          \
    X(a, git_odb_free)                                                                             \
    X(a, git_odb_read_header)                                                                      \
    X(a, git_oid_tostr)                                                                            \
    X(a, git_remote_free)                                                                          \
    X(a, git_remote_lookup)                                                                        \
    X(a, git_remote_url)                                                                           \
    X(a, git_repository_free)                                                                      \
    X(a, git_repository_odb)                                                                       \
    X(a, git_repository_open_ext)                                                                  \
    X(a, git_repository_path)                                                                      \
    X(a, git_repository_workdir)                                                                   \
    X(a, git_revparse_single)                                                                      \
    X(a, git_tree_entry_byindex)                                                                   \
    X(a, git_tree_entry_filemode)                                                                  \
    X(a, git_tree_entry_id)                                                                        \
    X(a, git_tree_entry_name)                                                                      \
    X(a, git_tree_entry_type)                                                                      \
    X(a, git_tree_entrycount)                                                                      \
    X(a, git_tree_free)                                                                            \
    X(a, git_tree_walk)

RC_DL_TABLE(lg, git_resolve, GIT_FUNCTIONS)
static rc_dl git_dl = RC_DL_INIT;

struct rc_git_cache {
    RC_VEC(git_repository *) repos; /* by repository number; NULL until first used */
    /* The last blob read by rc_git_read_piece: the dictionary's samples come in source order,
     * several from one blob, and each read inflates and hashes the whole blob. */
    uint64_t piece_blob; /* its number + 1; 0: none */
    uint8_t *piece;
    size_t piece_len;
};

void rc_repo_free(rc_repo *r)
{
    if (!r)
        return;
    free(r->dir);
    free(r->rev);
    free(r->url);
    free(r->license_file);
    free(r);
}

void rc_git_cache_free(struct rc_git_cache *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->repos.n; i++)
        lg.git_repository_free_(c->repos.v[i]);
    RC_VEC_FREE(c->repos);
    free(c->piece);
    free(c);
}

void rc_work_ctx_free_extract(rc_work_ctx *ctx)
{
    rc_git_cache_free(ctx->git);
    ctx->git = NULL;
}

static const char *git_msg(void)
{
    const git_error *e = lg.git_error_last_();
    return e && e->message ? e->message : "unknown error";
}

static git_repository *repo_of(struct rc_git_cache **cache, const rc_inputs *in, size_t r)
{
    if (!*cache && !(*cache = calloc(1, sizeof **cache)))
        return NULL;
    struct rc_git_cache *c = *cache;
    if (RC_VEC_RESERVE(c->repos, in->repos.n) != RECITE_OK)
        return NULL;
    while (c->repos.n < in->repos.n)
        c->repos.v[c->repos.n++] = NULL;
    if (!c->repos.v[r] && lg.git_repository_open_ext_(&c->repos.v[r], in->repos.v[r]->dir,
                                                      GIT_REPOSITORY_OPEN_NO_SEARCH, NULL) != 0)
        c->repos.v[r] = NULL;
    return c->repos.v[r];
}

/* ==== listing a tree ==== */

/* Rank of a license file name at the root (lower is preferred); -1 for other names. */
static int license_rank(const char *name)
{
    static const char *const names[] = {"LICENSE",     "LICENSE.md",  "LICENSE.txt", "LICENCE",
                                        "LICENCE.md",  "LICENCE.txt", "COPYING",     "COPYING.md",
                                        "COPYING.txt", "UNLICENSE",   "LICENSE.rst", "COPYRIGHT"};
    for (size_t i = 0; i < RC_ARRAY_LEN(names); i++)
        if (strcasecmp(name, names[i]) == 0)
            return (int)i;
    return -1;
}

typedef struct walk_state {
    rc_inputs *in;
    git_odb *odb;
    const char *label; /* REPO@REV */
    uint32_t repo;
    rc_note_fn note;
    void *user;
    int rc;
    recite_error *err;
} walk_state;

static int walk_entry(const char *root, const git_tree_entry *e, void *payload)
{
    walk_state *w = payload;
    const char *name = lg.git_tree_entry_name_(e);
    char *id;
    if (asprintf(&id, "%s:%s%s", w->label, root, name) < 0) {
        w->rc = rc_error_set(w->err, RECITE_ENOMEM, "out of memory");
        return -1;
    }
    git_object_t type = lg.git_tree_entry_type_(e);
    int ret = 0;
    if (name[0] == '.') {
        if (w->note)
            w->note(RECITE_NOTE_SKIPPED_HIDDEN, id, "hidden entry", w->user);
        ret = 1; /* a hidden tree is not entered */
    } else if (type == GIT_OBJECT_COMMIT) {
        if (w->note)
            w->note(RECITE_NOTE_SKIPPED_SPECIAL, id, "a submodule (not followed)", w->user);
    } else if (type == GIT_OBJECT_BLOB && lg.git_tree_entry_filemode_(e) == GIT_FILEMODE_LINK) {
        if (w->note)
            w->note(RECITE_NOTE_SKIPPED_SPECIAL, id, "a symbolic link", w->user);
    } else if (type == GIT_OBJECT_BLOB) {
        size_t size = 0;
        git_object_t t;
        const git_oid *oid = lg.git_tree_entry_id_(e);
        if (lg.git_odb_read_header_(&size, &t, w->odb, oid) != 0) {
            w->rc = rc_error_set(w->err, RECITE_EFORMAT, "%s: cannot read the object: %s", id,
                                 git_msg());
            ret = -1;
        } else if (w->in->paths.n >= UINT32_MAX) {
            w->rc = rc_error_set(w->err, RECITE_ELIMIT, "too many input files");
            ret = -1;
        } else if (RC_VEC_RESERVE(w->in->blobs, w->in->blobs.n + RC_GIT_OID_SIZE) != RECITE_OK ||
                   RC_VEC_PUSH(w->in->paths, id) != RECITE_OK) {
            w->rc = rc_error_set(w->err, RECITE_ENOMEM, "out of memory");
            ret = -1;
        } else {
            id = NULL; /* kept in paths */
            uint64_t blob = w->in->blobs.n / RC_GIT_OID_SIZE;
            memcpy(w->in->blobs.v + w->in->blobs.n, oid->id, RC_GIT_OID_SIZE);
            w->in->blobs.n += RC_GIT_OID_SIZE;
            rc_source s = {(uint32_t)(w->in->paths.n - 1), RC_SRC_GIT, 0, blob, size, w->repo};
            if (RC_VEC_PUSH(w->in->sources, s) != RECITE_OK) {
                w->rc = rc_error_set(w->err, RECITE_ENOMEM, "out of memory");
                ret = -1;
            }
            w->in->total_bytes += size;
        }
    }
    free(id);
    return ret;
}

/* The origin's URL without any user and password in it (an index is no place for a token),
 * else the repository's absolute path. */
static char *repo_url(git_repository *repo)
{
    git_remote *remote = NULL;
    char *url = NULL;
    if (lg.git_remote_lookup_(&remote, repo, "origin") == 0 && lg.git_remote_url_(remote)) {
        const char *u = lg.git_remote_url_(remote), *scheme = strstr(u, "://");
        const char *host = scheme ? scheme + 3 : NULL;
        const char *at = host ? strchr(host, '@') : NULL;
        if (at && (size_t)(at - host) < strcspn(host, "/")) {
            if (asprintf(&url, "%.*s%s", (int)(host - u), u, at + 1) < 0)
                url = NULL;
        } else
            url = strdup(u);
    }
    lg.git_remote_free_(remote);
    if (url)
        return url;
    const char *p = lg.git_repository_workdir_(repo);
    if (!p)
        p = lg.git_repository_path_(repo);
    char abs[PATH_MAX];
    return strdup(p && realpath(p, abs) ? abs : p ? p : "");
}

static int add_repo(rc_inputs *in, const char *spec, rc_note_fn note, void *user, recite_error *err)
{
    rc_repo *r = calloc(1, sizeof *r);
    if (!r)
        return rc_error_set(err, RECITE_ENOMEM, "out of memory");
    git_repository *repo = NULL;
    git_object *obj = NULL, *commit = NULL;
    git_tree *tree = NULL;
    git_odb *odb = NULL;
    char *label = NULL;
    int rc = RECITE_OK;
    /* REPO@REV: the last '@' splits, unless what is before it is no repository. */
    const char *at = strrchr(spec, '@');
    r->dir = at ? strndup(spec, (size_t)(at - spec)) : strdup(spec);
    r->rev = strdup(at ? at + 1 : "HEAD");
    if (!r->dir || !r->rev) {
        rc = rc_error_set(err, RECITE_ENOMEM, "out of memory");
        goto done;
    }
    if (lg.git_repository_open_ext_(&repo, r->dir, GIT_REPOSITORY_OPEN_NO_SEARCH, NULL) != 0 &&
        at) {
        free(r->dir);
        free(r->rev);
        r->dir = strdup(spec);
        r->rev = strdup("HEAD");
        if (!r->dir || !r->rev) {
            rc = rc_error_set(err, RECITE_ENOMEM, "out of memory");
            goto done;
        }
        lg.git_repository_open_ext_(&repo, r->dir, GIT_REPOSITORY_OPEN_NO_SEARCH, NULL);
    }
    if (!repo) {
        rc = rc_error_set(err, RECITE_EIO, "%s: not a git repository: %s", spec, git_msg());
        goto done;
    }
    if (!*r->rev || lg.git_revparse_single_(&obj, repo, r->rev) != 0 ||
        lg.git_object_peel_(&commit, obj, GIT_OBJECT_COMMIT) != 0 ||
        lg.git_commit_tree_(&tree, (git_commit *)commit) != 0) {
        rc = rc_error_set(err, RECITE_EINVAL, "%s: no commit '%s' in the repository: %s", r->dir,
                          r->rev, git_msg());
        goto done;
    }
    lg.git_oid_tostr_(r->commit, sizeof r->commit, lg.git_object_id_(commit));
    if (!(r->url = repo_url(repo)) || asprintf(&label, "%s@%s", r->dir, r->rev) < 0) {
        label = NULL;
        rc = rc_error_set(err, RECITE_ENOMEM, "out of memory");
        goto done;
    }
    int best = INT_MAX;
    for (size_t i = 0; i < lg.git_tree_entrycount_(tree); i++) {
        const git_tree_entry *e = lg.git_tree_entry_byindex_(tree, i);
        int rank = license_rank(lg.git_tree_entry_name_(e));
        if (rank >= 0 && rank < best && lg.git_tree_entry_type_(e) == GIT_OBJECT_BLOB) {
            best = rank;
            free(r->license_file);
            if (!(r->license_file = strdup(lg.git_tree_entry_name_(e)))) {
                rc = rc_error_set(err, RECITE_ENOMEM, "out of memory");
                goto done;
            }
            memcpy(r->license_blob, lg.git_tree_entry_id_(e)->id, RC_GIT_OID_SIZE);
        }
    }
    if (in->repos.n >= UINT32_MAX || RC_VEC_PUSH(in->repos, r) != RECITE_OK) {
        rc = rc_error_set(err, RECITE_ENOMEM, "out of memory");
        goto done;
    }
    r = NULL; /* kept in in->repos */
    if (lg.git_repository_odb_(&odb, repo) != 0) {
        rc = rc_error_set(err, RECITE_EIO, "%s: cannot read its objects: %s", spec, git_msg());
        goto done;
    }
    walk_state w = {in, odb, label, (uint32_t)(in->repos.n - 1), note, user, RECITE_OK, err};
    if (lg.git_tree_walk_(tree, GIT_TREEWALK_PRE, walk_entry, &w) != 0 && w.rc == RECITE_OK)
        w.rc = rc_error_set(err, RECITE_EIO, "%s: cannot walk its tree: %s", spec, git_msg());
    rc = w.rc;
done:
    free(label);
    lg.git_odb_free_(odb);
    lg.git_tree_free_(tree);
    lg.git_object_free_(commit);
    lg.git_object_free_(obj);
    lg.git_repository_free_(repo);
    rc_repo_free(r);
    return rc;
}

int rc_inputs_add_git(rc_inputs *in, const char *const *repos, size_t nrepos, rc_note_fn note,
                      void *user, recite_error *err)
{
    int rc = RECITE_OK;
    char why[256];
    if (nrepos && rc_dl_load(&git_dl, RC_SONAME_GIT2, git_resolve, why, sizeof why) != RECITE_OK)
        return rc_error_set(err, RECITE_EIO, "reading git repositories needs libgit2: %s", why);
    if (nrepos && !in->git_init) {
        lg.git_libgit2_init_();
        in->git_init = true;
    }
    for (size_t i = 0; i < nrepos && rc == RECITE_OK; i++)
        rc = add_repo(in, repos[i], note, user, err);
    return rc;
}

void rc_repos_free(rc_inputs *in)
{
    for (size_t i = 0; i < in->repos.n; i++)
        rc_repo_free(in->repos.v[i]);
    RC_VEC_FREE(in->repos);
    RC_VEC_FREE(in->blobs);
    if (in->git_init)
        lg.git_libgit2_shutdown_();
    in->git_init = false;
}

/* ==== reading blobs ==== */

static int read_blob(git_repository *repo, const uint8_t *oid_bytes, uint8_t **data, size_t *len)
{
    git_oid oid;
    memcpy(oid.id, oid_bytes, RC_GIT_OID_SIZE);
    git_blob *blob;
    if (lg.git_blob_lookup_(&blob, repo, &oid) != 0)
        return RECITE_EFORMAT;
    git_object_size_t n = lg.git_blob_rawsize_(blob);
    if (n > UINT32_MAX) {
        lg.git_blob_free_(blob);
        return RECITE_ELIMIT;
    }
    uint8_t *buf = malloc((size_t)n + 1);
    if (!buf) {
        lg.git_blob_free_(blob);
        return RECITE_ENOMEM;
    }
    memcpy(buf, lg.git_blob_rawcontent_(blob), (size_t)n);
    buf[n] = 0;
    lg.git_blob_free_(blob);
    *data = buf;
    *len = (size_t)n;
    return RECITE_OK;
}

int rc_git_load(rc_extract *x, const rc_inputs *in, const rc_source *src, recite_error *err)
{
    const char *id = in->paths.v[src->path];
    const rc_repo *r = in->repos.v[src->line];
    git_repository *repo = repo_of(&x->ctx->git, in, (size_t)src->line);
    if (!repo)
        return rc_error_set(err, RECITE_EIO, "%s: cannot open the repository: %s", r->dir,
                            git_msg());
    uint8_t *data;
    size_t len;
    int rc = read_blob(repo, in->blobs.v + src->offset * RC_GIT_OID_SIZE, &data, &len);
    if (rc == RECITE_ELIMIT)
        return rc_extract_note(x, id, RECITE_NOTE_SKIPPED_UNREADABLE,
                               "larger than 4 GiB, the limit for one work");
    if (rc == RECITE_EFORMAT)
        return rc_extract_note(x, id, RECITE_NOTE_SKIPPED_UNREADABLE, "unreadable object: %s",
                               git_msg());
    if (rc != RECITE_OK)
        return rc_error_set(err, rc, "%s: out of memory", id);
    x->repo = r;
    x->input = id;
    x->input_bytes = len;
    return rc_extract_bytes(x, id, NULL, data, len, 0, NULL, err);
}

size_t rc_git_read_piece(struct rc_git_cache **cache, const rc_inputs *in, const rc_source *src,
                         uint64_t offset, uint8_t *buf, size_t len)
{
    git_repository *repo = repo_of(cache, in, (size_t)src->line);
    if (!repo)
        return 0;
    struct rc_git_cache *c = *cache;
    if (c->piece_blob != src->offset + 1) {
        free(c->piece);
        c->piece = NULL;
        c->piece_blob = 0;
        if (read_blob(repo, in->blobs.v + src->offset * RC_GIT_OID_SIZE, &c->piece,
                      &c->piece_len) != RECITE_OK)
            return 0;
        c->piece_blob = src->offset + 1;
    }
    size_t got = offset < c->piece_len ? RC_MIN(len, c->piece_len - (size_t)offset) : 0;
    memcpy(buf, c->piece + offset, got);
    return got;
}

int rc_repos_identify_licenses(rc_inputs *in, const recite_index *lic, recite_error *err)
{
    struct rc_git_cache *cache = NULL;
    rc_license_matcher *m = NULL;
    int rc = RECITE_OK;
    for (size_t i = 0; i < in->repos.n && rc == RECITE_OK; i++) {
        rc_repo *r = in->repos.v[i];
        git_repository *repo = r->license_file ? repo_of(&cache, in, i) : NULL;
        uint8_t *data;
        size_t len;
        if (!repo || read_blob(repo, r->license_blob, &data, &len) != RECITE_OK)
            continue;
        rc_license_id id;
        if (!m)
            rc = rc_license_matcher_create(&m, lic, err);
        if (rc == RECITE_OK)
            rc = rc_license_identify(&id, m, (const char *)data, len, err);
        if (rc == RECITE_OK)
            snprintf(r->license, sizeof r->license, "%s", id.id);
        free(data);
    }
    rc_license_matcher_free(m);
    rc_git_cache_free(cache);
    return rc;
}

int rc_git_apply(const rc_repo *repo, rc_work_out *out, json_t *meta)
{
    const char *id = out->strs[RC_WS_ID];
    size_t skip = strlen(repo->dir) + 1 + strlen(repo->rev) + 1;
    int bad = 0;
    bad |= json_object_set_new(meta, "repository", json_string(repo->url));
    bad |= json_object_set_new(meta, "commit", json_string(repo->commit));
    bad |= json_object_set_new(meta, "rev", json_string(repo->rev));
    json_t *path = strlen(id) > skip ? json_string(id + skip) : NULL; /* NULL: not UTF-8 */
    if (path)
        bad |= json_object_set_new(meta, "path", path);
    if (!out->strs[RC_WS_URL] && !(out->strs[RC_WS_URL] = strdup(repo->url)))
        bad = 1;
    if (!out->license_found && !out->strs[RC_WS_LICENSE] && repo->license[0]) {
        bad |= json_object_set_new(meta, "license", json_string(repo->license));
        bad |= json_object_set_new(meta, "license_file", json_string(repo->license_file));
        if (!(out->strs[RC_WS_LICENSE] = strdup(repo->license)))
            bad = 1;
    }
    return bad ? RECITE_ENOMEM : RECITE_OK;
}

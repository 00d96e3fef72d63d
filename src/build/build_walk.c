/*
 * build_walk.c — turns the builder's PATH arguments into an ordered list of sources: plain
 * files, files found by walking directories (sorted by name, hidden and special entries skipped
 * with a note, symlink loops broken), and the lines of JSONL files. Nothing is read beyond what
 * is needed to find line boundaries; works are loaded later, in parallel.
 */
#include "rc_build.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

bool rc_is_jsonl_path(const char *path)
{
    size_t n = strlen(path);
    return (n >= 6 && strcmp(path + n - 6, ".jsonl") == 0) ||
           (n >= 7 && strcmp(path + n - 7, ".ndjson") == 0);
}

void rc_inputs_free(rc_inputs *in)
{
    for (size_t i = 0; i < in->paths.n; i++)
        free(in->paths.v[i]);
    RC_VEC_FREE(in->paths);
    RC_VEC_FREE(in->sources);
    rc_repos_free(in);
}

static int add_path(rc_inputs *in, const char *path, uint32_t *idx, recite_error *err)
{
    if (in->paths.n >= UINT32_MAX)
        return rc_error_set(err, RECITE_ELIMIT, "too many input files");
    char *copy = strdup(path);
    if (!copy || RC_VEC_PUSH(in->paths, copy) != RECITE_OK) {
        free(copy);
        return rc_error_set(err, RECITE_ENOMEM, "out of memory");
    }
    *idx = (uint32_t)(in->paths.n - 1);
    return RECITE_OK;
}

static int add_source(rc_inputs *in, rc_source s, recite_error *err)
{
    if (RC_VEC_PUSH(in->sources, s) != RECITE_OK)
        return rc_error_set(err, RECITE_ENOMEM, "out of memory");
    in->total_bytes += s.length;
    return RECITE_OK;
}

/* Splits a JSONL file into one source per non-blank line. */
static int add_jsonl(rc_inputs *in, const char *path, bool explicit_, recite_error *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return rc_error_errno(err, RECITE_EIO, errno, "%s: cannot open", path);
    uint32_t pidx;
    int rc = add_path(in, path, &pidx, err);
    if (rc != RECITE_OK) {
        close(fd);
        return rc;
    }
    enum { BUF = 1 << 20 };
    uint8_t *buf = malloc(BUF);
    if (!buf) {
        close(fd);
        return rc_error_set(err, RECITE_ENOMEM, "out of memory");
    }
    uint64_t off = 0, line = 1, line_start = 0;
    bool blank = true;
    for (;;) {
        ssize_t got = read(fd, buf, BUF);
        if (got < 0) {
            if (errno == EINTR)
                continue;
            rc = rc_error_errno(err, RECITE_EIO, errno, "%s: read error", path);
            goto done;
        }
        for (ssize_t i = 0; i < got; i++) {
            uint8_t b = buf[i];
            if (b == '\n') {
                uint64_t end = off + (uint64_t)i;
                if (!blank && (rc = add_source(in,
                                               (rc_source){pidx, RC_SRC_JSONL, explicit_,
                                                           line_start, end - line_start, line},
                                               err)) != RECITE_OK)
                    goto done;
                line++;
                line_start = end + 1;
                blank = true;
            } else if (b != ' ' && b != '\t' && b != '\r') {
                blank = false;
            }
        }
        if (got == 0) {
            if (!blank)
                rc = add_source(
                    in,
                    (rc_source){pidx, RC_SRC_JSONL, explicit_, line_start, off - line_start, line},
                    err);
            goto done;
        }
        off += (uint64_t)got;
    }
done:
    free(buf);
    close(fd);
    return rc;
}

static int add_file(rc_inputs *in, const char *path, uint64_t size, bool explicit_,
                    recite_error *err)
{
    if (rc_is_jsonl_path(path))
        return add_jsonl(in, path, explicit_, err);
    uint32_t pidx;
    int rc = add_path(in, path, &pidx, err);
    if (rc != RECITE_OK)
        return rc;
    return add_source(in, (rc_source){pidx, RC_SRC_FILE, explicit_, 0, size, 0}, err);
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

typedef struct visited {
    dev_t dev;
    ino_t ino;
} visited;

typedef struct walk {
    rc_inputs *in;
    rc_note_fn note;
    void *user;
    RC_VEC(visited) stack; /* directories on the current path, to break symlink loops */
} walk;

static int walk_dir(walk *wk, const char *dir, recite_error *err)
{
    DIR *d = opendir(dir);
    if (!d)
        return rc_error_errno(err, RECITE_EIO, errno, "%s: cannot open directory", dir);
    RC_VEC(char *) names = {0};
    int rc = RECITE_OK;
    struct dirent *e;
    errno = 0;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        char *nm = strdup(e->d_name);
        if (!nm || RC_VEC_PUSH(names, nm) != RECITE_OK) {
            free(nm);
            rc = rc_error_set(err, RECITE_ENOMEM, "out of memory");
            goto done;
        }
    }
    if (errno) {
        rc = rc_error_errno(err, RECITE_EIO, errno, "%s: cannot read directory", dir);
        goto done;
    }
    rc_sort(names.v, names.n, sizeof *names.v, cmp_names);
    size_t dlen = strlen(dir);
    bool slash = dlen > 0 && dir[dlen - 1] == '/';
    for (size_t i = 0; i < names.n && rc == RECITE_OK; i++) {
        char *child;
        if (asprintf(&child, "%s%s%s", dir, slash ? "" : "/", names.v[i]) < 0) {
            rc = rc_error_set(err, RECITE_ENOMEM, "out of memory");
            break;
        }
        struct stat st;
        if (names.v[i][0] == '.') {
            if (wk->note)
                wk->note(RECITE_NOTE_SKIPPED_HIDDEN, child, "hidden entry", wk->user);
        } else if (stat(child, &st) != 0) {
            if (wk->note)
                wk->note(RECITE_NOTE_SKIPPED_SPECIAL, child, strerror(errno), wk->user);
        } else if ((S_ISDIR(st.st_mode) || S_ISREG(st.st_mode)) &&
                   access(child, S_ISDIR(st.st_mode) ? R_OK | X_OK : R_OK) != 0) {
            /* Met in a directory (not named by the caller): skipped, as an unreadable
             * document is, and the build goes on. */
            if (wk->note)
                wk->note(RECITE_NOTE_SKIPPED_UNREADABLE, child, strerror(errno), wk->user);
        } else if (S_ISDIR(st.st_mode)) {
            bool loop = false;
            for (size_t k = 0; k < wk->stack.n; k++)
                loop |= wk->stack.v[k].dev == st.st_dev && wk->stack.v[k].ino == st.st_ino;
            if (loop) {
                if (wk->note)
                    wk->note(RECITE_NOTE_SKIPPED_SPECIAL, child, "directory loop", wk->user);
            } else if (RC_VEC_PUSH(wk->stack, ((visited){st.st_dev, st.st_ino})) != RECITE_OK) {
                rc = rc_error_set(err, RECITE_ENOMEM, "out of memory");
            } else {
                rc = walk_dir(wk, child, err);
                wk->stack.n--;
            }
        } else if (S_ISREG(st.st_mode)) {
            rc = add_file(wk->in, child, (uint64_t)st.st_size, false, err);
        } else if (wk->note) {
            wk->note(RECITE_NOTE_SKIPPED_SPECIAL, child, "not a regular file", wk->user);
        }
        free(child);
    }
done:
    for (size_t i = 0; i < names.n; i++)
        free(names.v[i]);
    RC_VEC_FREE(names);
    closedir(d);
    return rc;
}

int rc_inputs_collect(rc_inputs *in, const char *const *paths, size_t npaths, rc_note_fn note,
                      void *user, recite_error *err)
{
    memset(in, 0, sizeof *in);
    walk wk = {in, note, user, {0}};
    int rc = RECITE_OK;
    for (size_t i = 0; i < npaths && rc == RECITE_OK; i++) {
        struct stat st;
        if (stat(paths[i], &st) != 0) {
            rc = rc_error_errno(err, RECITE_EIO, errno, "%s: cannot access", paths[i]);
        } else if (S_ISDIR(st.st_mode)) {
            wk.stack.n = 0;
            if (RC_VEC_PUSH(wk.stack, ((visited){st.st_dev, st.st_ino})) != RECITE_OK)
                rc = rc_error_set(err, RECITE_ENOMEM, "out of memory");
            else
                rc = walk_dir(&wk, paths[i], err);
        } else if (S_ISREG(st.st_mode)) {
            if (access(paths[i], R_OK) != 0)
                rc = rc_error_errno(err, RECITE_EIO, errno, "%s: cannot read", paths[i]);
            else
                rc = add_file(in, paths[i], (uint64_t)st.st_size, true, err);
        } else {
            rc = rc_error_set(err, RECITE_EINVAL, "%s: not a regular file or directory", paths[i]);
        }
    }
    RC_VEC_FREE(wk.stack);
    if (rc != RECITE_OK)
        rc_inputs_free(in);
    return rc;
}

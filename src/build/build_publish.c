/*
 * build_publish.c — where a build writes and how it becomes the index: a temporary directory
 * beside the target (.BASE.tmp-PID-XXXXXX, removed on failure, and by the next build when the
 * process died), a target that must be an index or empty before it is replaced, and the atomic
 * publish (renameat2 RENAME_EXCHANGE, then the old index removed) that keeps the catalogue.
 */
#include "rc_builder.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static void remove_stale_dir(const char *dir);

/* Removes a temporary index directory (spill runs are removed by the sorter), the shards of a
 * sharded one included. The files of an unsharded one are removed without allocating: it runs
 * when memory ran out too (the shards' paths are allocated). */
void rc_build_remove_tmp(const char *dir)
{
    if (!dir)
        return;
    DIR *d = opendir(dir);
    struct dirent *f;
    while (d && (f = readdir(d)) != NULL) {
        char *sub;
        if (strncmp(f->d_name, "shard-", 6) == 0 && asprintf(&sub, "%s/%s", dir, f->d_name) >= 0) {
            remove_stale_dir(sub);
            free(sub);
        }
    }
    if (d)
        closedir(d);
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        static const char licensed[] = "licenses/" RC_INDEX_FILE;
        static const char *const files[] = {RC_INDEX_FILE, licensed, "licenses.jsonl",
                                            RC_CATALOG_FILE};
        for (size_t i = 0; i < RC_ARRAY_LEN(files); i++)
            unlinkat(fd, files[i], 0);
        unlinkat(fd, "licenses", AT_REMOVEDIR);
        close(fd);
    }
    rmdir(dir);
}

/* A temporary directory of a build that was killed (its process is gone): recite.idx, run-*.tmp
 * spill files, the license index and a link to the catalogue. */
static void remove_stale_dir(const char *dir)
{
    DIR *sub = opendir(dir);
    struct dirent *f;
    while (sub && (f = readdir(sub)) != NULL) {
        size_t n = strlen(f->d_name);
        if (strncmp(f->d_name, "run-", 4) == 0 && n > 4 && strcmp(f->d_name + n - 4, ".tmp") == 0)
            rc_unlink_in(dir, f->d_name);
    }
    if (sub)
        closedir(sub);
    rc_build_remove_tmp(dir);
}

/* An existing target must be an index (or an empty directory) before we replace it. */
int rc_build_check_target(const char *out_dir, recite_error *err)
{
    struct stat st;
    if (lstat(out_dir, &st) != 0)
        return errno == ENOENT
                   ? RECITE_OK
                   : rc_error_errno(err, RECITE_EIO, errno, "%s: cannot access", out_dir);
    if (!S_ISDIR(st.st_mode))
        return rc_error_set(err, RECITE_EINVAL, "%s: exists and is not a directory", out_dir);
    char *path;
    if (asprintf(&path, "%s/%s", out_dir, RC_INDEX_FILE) < 0)
        return rc_error_set(err, RECITE_ENOMEM, "out of memory");
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK); /* a FIFO: no wait for a writer */
    free(path);
    char magic[8] = {0};
    if (fd >= 0) {
        ssize_t r = read(fd, magic, 8);
        close(fd);
        if (r == 8 && memcmp(magic, RC_INDEX_MAGIC, 8) == 0)
            return RECITE_OK;
    }
    /* An empty directory is fine too. */
    DIR *d = opendir(out_dir);
    bool empty = d != NULL;
    struct dirent *e;
    while (d && (e = readdir(d)) != NULL)
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
            empty = false;
    if (d)
        closedir(d);
    if (empty)
        return RECITE_OK;
    return rc_error_set(err, RECITE_EINVAL,
                        "%s: exists and is not a recite index; refusing to replace it", out_dir);
}

/* The provenance catalogue (deletions, audit log) outlives rebuilds: the new directory gets a
 * hard link to it, so a deletion recorded during the build lands in the same file, and the
 * catalogue build that follows (recite_catalog_build) carries it over. */
static int keep_catalogue(const char *tmp_dir, const char *out_dir, recite_error *err)
{
    char *from, *to;
    if (asprintf(&from, "%s/%s", out_dir, RC_CATALOG_FILE) < 0)
        return rc_error_set(err, RECITE_ENOMEM, "out of memory");
    if (asprintf(&to, "%s/%s", tmp_dir, RC_CATALOG_FILE) < 0) {
        free(from);
        return rc_error_set(err, RECITE_ENOMEM, "out of memory");
    }
    int rc = RECITE_OK;
    if (link(from, to) != 0 && errno != ENOENT)
        rc = rc_error_errno(err, RECITE_EIO, errno, "%s: cannot keep the catalogue", from);
    free(from);
    free(to);
    return rc;
}

int rc_build_publish(const char *tmp_dir, const char *out_dir, recite_error *err)
{
    struct stat st;
    if (lstat(out_dir, &st) == 0) {
        int rc = keep_catalogue(tmp_dir, out_dir, err);
        if (rc != RECITE_OK)
            return rc;
        /* Swap atomically, then delete the old index, now at tmp_dir. */
        if (renameat2(AT_FDCWD, tmp_dir, AT_FDCWD, out_dir, RENAME_EXCHANGE) == 0) {
            rc_build_remove_tmp(tmp_dir);
            return RECITE_OK;
        }
        if (errno != EINVAL && errno != ENOSYS)
            return rc_error_errno(err, RECITE_EIO, errno, "%s: cannot publish", out_dir);
        /* No RENAME_EXCHANGE on this file system: move the old one aside first. */
        char *old;
        if (asprintf(&old, "%s.old", tmp_dir) < 0)
            return rc_error_set(err, RECITE_ENOMEM, "out of memory");
        if (rename(out_dir, old) != 0) {
            free(old);
            return rc_error_errno(err, RECITE_EIO, errno, "%s: cannot move aside", out_dir);
        }
        if (rename(tmp_dir, out_dir) != 0) {
            int e = errno;
            rename(old, out_dir);
            free(old);
            return rc_error_errno(err, RECITE_EIO, e, "%s: cannot publish", out_dir);
        }
        rc_build_remove_tmp(old);
        free(old);
        return RECITE_OK;
    }
    if (rename(tmp_dir, out_dir) != 0)
        return rc_error_errno(err, RECITE_EIO, errno, "%s: cannot publish", out_dir);
    return RECITE_OK;
}

int rc_build_tmp_dir(const char *dir, char **out, recite_error *err)
{
    *out = NULL;
    char base[256], prefix[300];
    char *parent = rc_parent_dir(dir);
    if (!parent)
        return rc_error_set(err, RECITE_ENOMEM, "out of memory");
    rc_base_name(dir, base, sizeof base);
    snprintf(prefix, sizeof prefix, ".%s.tmp-", base);
    rc_remove_stale(parent, prefix, remove_stale_dir);
    char *tmp;
    int n = asprintf(&tmp, "%s/.%s.tmp-%ld-XXXXXX", parent, base, (long)getpid());
    free(parent);
    if (n < 0)
        return rc_error_set(err, RECITE_ENOMEM, "out of memory");
    if (!mkdtemp(tmp)) {
        int rc =
            rc_error_errno(err, RECITE_EIO, errno, "%s: cannot create temporary directory", tmp);
        free(tmp);
        return rc;
    }
    *out = tmp;
    return RECITE_OK;
}

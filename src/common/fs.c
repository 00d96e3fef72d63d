/*
 * fs.c — file-system helpers of the writers (index builds, compaction, catalogue builds, the
 * license cache): fsync of a path, paths' parents and last components, mkdir -p, copying a
 * file, and the temporary files and directories of writers that died. Writers put their PID in
 * temporary names (.DIR.tmp-PID-XXXXXX, .catalog.sqlite.tmp-PID-XXXXXX) so that the next writer
 * can tell a leftover from a build still running, and publish with an atomic rename. And the
 * one reader of a text-free index's key file (recite_key_read), which the command's check,
 * index and serve share.
 */
#include "rc_common.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

bool rc_tmp_is_stale(const char *name, const char *prefix)
{
    size_t plen = strlen(prefix);
    if (strncmp(name, prefix, plen) != 0)
        return false;
    char *end;
    long pid = strtol(name + plen, &end, 10);
    if (end == name + plen || *end != '-' || pid <= 0)
        return false;
    return kill((pid_t)pid, 0) != 0 && errno == ESRCH;
}

void rc_remove_stale(const char *dir, const char *prefix, void (*remove)(const char *path))
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (!rc_tmp_is_stale(e->d_name, prefix))
            continue;
        char *p;
        if (asprintf(&p, "%s/%s", dir, e->d_name) >= 0) {
            remove(p);
            free(p);
        }
    }
    closedir(d);
}

int rc_fsync_path(const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    int r = fsync(fd);
    int e = errno;
    close(fd);
    errno = e;
    return r;
}

char *rc_parent_dir(const char *path)
{
    char *p = strdup(path);
    if (!p)
        return NULL;
    size_t n = strlen(p);
    while (n > 1 && p[n - 1] == '/')
        p[--n] = 0;
    char *slash = strrchr(p, '/');
    if (!slash) {
        free(p);
        return strdup(".");
    }
    if (slash == p)
        slash[1] = 0;
    else
        *slash = 0;
    return p;
}

const char *rc_base_name(const char *path, char *buf, size_t cap)
{
    size_t n = strlen(path);
    while (n > 1 && path[n - 1] == '/')
        n--;
    size_t s = n;
    while (s > 0 && path[s - 1] != '/')
        s--;
    snprintf(buf, cap, "%.*s", (int)(n - s), path + s);
    return buf;
}

void rc_unlink_in(const char *dir, const char *name)
{
    char *path;
    if (asprintf(&path, "%s/%s", dir, name) >= 0) {
        unlink(path);
        free(path);
    }
}

bool rc_mkdir_p(const char *dir)
{
    char *d = strdup(dir);
    bool ok = d != NULL;
    for (char *p = d ? d + 1 : NULL; ok && p && *p; p++)
        if (*p == '/') {
            *p = 0;
            ok = mkdir(d, 0755) == 0 || errno == EEXIST;
            *p = '/';
        }
    ok = ok && (mkdir(d, 0755) == 0 || errno == EEXIST);
    free(d);
    return ok;
}

bool rc_copy_file(const char *from, const char *to)
{
    int in = open(from, O_RDONLY | O_CLOEXEC);
    if (in < 0)
        return false;
    int out = open(to, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    bool ok = out >= 0;
    char buf[1 << 16];
    ssize_t n = 0;
    while (ok && (n = read(in, buf, sizeof buf)) > 0)
        ok = write(out, buf, (size_t)n) == n;
    ok = ok && n == 0 && fsync(out) == 0;
    close(in);
    if (out >= 0)
        close(out);
    if (!ok)
        unlink(to);
    return ok;
}

int rc_publish_file(const char *tmp_path, const char *path, recite_error *err)
{
    /* Everything that can fail for want of memory comes before the rename: after it, the file
     * is published and a failure would be reported for what happened. */
    char *dir = rc_parent_dir(path);
    if (!dir)
        return rc_error_set(err, RECITE_ENOMEM, "out of memory");
    int rc = RECITE_OK;
    if (rc_fsync_path(tmp_path) != 0)
        rc = rc_error_errno(err, RECITE_EIO, errno, "%s: fsync failed", tmp_path);
    else if (rename(tmp_path, path) != 0)
        rc = rc_error_errno(err, RECITE_EIO, errno, "%s: cannot replace", path);
    if (rc != RECITE_OK) {
        free(dir);
        return rc;
    }
    int r = rc_fsync_path(dir);
    int e = errno;
    free(dir);
    if (r != 0)
        return rc_error_errno(err, RECITE_EIO, e, "%s: fsync of its directory failed", path);
    return RECITE_OK;
}

int recite_key_read(char **out, size_t *len, const char *path, recite_error *err)
{
    *out = NULL;
    *len = 0;
    /* O_NONBLOCK: a FIFO (refused below: not a regular file) does not wait for a writer. */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) {
        int e = errno;
        if (fd >= 0)
            close(fd);
        return rc_error_errno(err, RECITE_EIO, e, "%s: cannot read the key", path);
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        return rc_error_set(err, RECITE_EIO, "%s: cannot read the key: %s", path,
                            S_ISDIR(st.st_mode) ? "a directory, not a file" : "not a regular file");
    }
    /* One byte more than a key may have: a longer file is then told from one of the most. */
    char *buf = malloc(RECITE_KEY_MAX_BYTES + 1);
    if (!buf) {
        close(fd);
        return rc_error_set(err, RECITE_ENOMEM, "%s: out of memory", path);
    }
    size_t n = 0;
    while (n < RECITE_KEY_MAX_BYTES + 1) {
        ssize_t r = read(fd, buf + n, RECITE_KEY_MAX_BYTES + 1 - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            int e = errno;
            close(fd);
            free(buf);
            return rc_error_errno(err, RECITE_EIO, e, "%s: cannot read the key", path);
        }
        if (r == 0)
            break;
        n += (size_t)r;
    }
    close(fd);
    if (n < RECITE_KEY_MIN_BYTES) {
        free(buf);
        return rc_error_set(err, RECITE_EINVAL,
                            "%s: key too short: at least %d bytes (head -c 32 /dev/urandom >FILE)",
                            path, RECITE_KEY_MIN_BYTES);
    }
    if (n > RECITE_KEY_MAX_BYTES) {
        free(buf);
        return rc_error_set(err, RECITE_EINVAL, "%s: key too long: at most %d bytes", path,
                            RECITE_KEY_MAX_BYTES);
    }
    *out = buf;
    *len = n;
    return RECITE_OK;
}

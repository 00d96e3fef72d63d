/*
 * tmpfiles.c — names of temporary files and directories of writers that died: index builds
 * (.DIR.tmp-PID-XXXXXX) and catalogue builds (.catalog.sqlite.tmp-PID-XXXXXX) put their PID in
 * the name so that the next writer can tell a leftover from a build still running.
 */
#include "rc_common.h"

#include <errno.h>
#include <signal.h>
#include <sys/types.h>

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

/*
 * dl.c — libraries loaded on first use. The readers of PDF (poppler-glib) and git repositories
 * (libgit2), and the proxy's HTTP client (libcurl), bring some sixty shared objects with them;
 * linked, every run of `recite` mapped and relocated them before main (27 ms for `recite
 * --version` against 8 ms without them). They are compiled against as usual and opened by
 * their soname (found by the Makefile in the library the headers came with) the first time an
 * input or a request needs them; a machine without one reads everything else and says which
 * library a PDF, a repository or the proxy would need.
 */
#include "rc_common.h"

#include <dlfcn.h>
#include <stdio.h>

int rc_dl_load(rc_dl *d, const char *soname, const char *(*resolve)(void *handle), char *why,
               size_t why_cap)
{
    pthread_mutex_lock(&d->lock);
    if (d->state == 0) {
        void *h = dlopen(soname, RTLD_NOW | RTLD_LOCAL);
        const char *missing = h ? resolve(h) : NULL;
        if (!h) {
            const char *e = dlerror();
            snprintf(d->why, sizeof d->why, "%s could not be loaded (%s)", soname,
                     e ? e : "not found");
        } else if (missing) {
            snprintf(d->why, sizeof d->why, "%s has no %s", soname, missing);
            dlclose(h);
            h = NULL;
        }
        d->handle = h;
        d->state = h ? 1 : -1;
    }
    int state = d->state;
    if (state < 0 && why_cap)
        snprintf(why, why_cap, "%s", d->why);
    pthread_mutex_unlock(&d->lock);
    return state > 0 ? RECITE_OK : RECITE_EIO;
}

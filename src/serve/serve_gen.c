/*
 * serve_gen.c — index generations of `recite serve`: the index and policy in use, replaced
 * when `recite index` publishes a new index (DIR/recite.idx is then another file: its device
 * and inode change) or the policy file changes, checked every --reload-interval seconds and on
 * SIGHUP. A generation is reference-counted: requests and sessions keep theirs until they end,
 * so a reload fails no request in flight; the last release closes the old index.
 */
#include "serve.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* Checkers kept per generation for reuse; more are freed when given back. */
#define POOL_MAX 256

static bool stat_index(const char *dir, dev_t *dev, ino_t *ino)
{
    char path[4096];
    struct stat st;
    if ((size_t)snprintf(path, sizeof path, "%s/recite.idx", dir) >= sizeof path ||
        stat(path, &st) != 0)
        return false;
    *dev = st.st_dev;
    *ino = st.st_ino;
    return true;
}

static bool stat_policy(const char *file, int64_t *mtime_ns, ino_t *ino)
{
    struct stat st;
    if (!file || stat(file, &st) != 0)
        return false;
    *mtime_ns = (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
    *ino = st.st_ino;
    return true;
}

static void gen_free(serve_gen *g)
{
    if (!g)
        return;
    for (size_t i = 0; i < g->npool; i++)
        recite_checker_free(g->pool[i]);
    free(g->pool);
    pthread_mutex_destroy(&g->pool_lock);
    recite_policy_free(g->policy);
    recite_index_close(g->idx);
    free(g);
}

static serve_gen *gen_load(serve_server *s, uint64_t number, recite_error *err)
{
    serve_gen *g = calloc(1, sizeof *g);
    if (!g) {
        *err = (recite_error){RECITE_ENOMEM, "out of memory"};
        return NULL;
    }
    pthread_mutex_init(&g->pool_lock, NULL);
    atomic_init(&g->refs, 1);
    g->number = number;
    /* The file's identity first: an index published between the stat and the open is then
     * seen as a change at the next check, never missed. */
    if (!stat_index(s->opt.index_dir, &g->dev, &g->ino)) {
        snprintf(err->message, sizeof err->message, "%s: no index here (recite.idx missing)",
                 s->opt.index_dir);
        err->code = RECITE_EIO;
        gen_free(g);
        return NULL;
    }
    int rc = s->key ? recite_index_open_keyed(&g->idx, s->opt.index_dir, s->key, s->key_len, err)
                    : recite_index_open(&g->idx, s->opt.index_dir, err);
    if (rc != RECITE_OK) {
        gen_free(g);
        return NULL;
    }
    recite_index_get_stats(&g->stats, g->idx);
    /* The library ignores a key given to an ordinary index: one given here names the wrong
     * index (at start-up, a usage error; on a reload, an index that is not taken). */
    if (s->key && !g->stats.text_free) {
        snprintf(err->message, sizeof err->message,
                 "--key: %s is not a text-free index; it takes no key", s->opt.index_dir);
        err->code = RECITE_EINVAL;
        gen_free(g);
        return NULL;
    }
    recite_index_prepare(g->idx); /* no request waits for the lookup filters */
    if (s->opt.policy_file) {
        stat_policy(s->opt.policy_file, &g->policy_mtime_ns, &g->policy_ino);
        if (recite_policy_load(&g->policy, s->opt.policy_file, getenv("RECITE_SPDX_DIR"), err) !=
            RECITE_OK) {
            gen_free(g);
            return NULL;
        }
    }
    /* One checker now: it proves the index can be checked against (a text-free index needs
     * its key) and gives the leak bound. */
    recite_checker *c;
    if (recite_checker_create(&c, g->idx, NULL, err) != RECITE_OK) {
        gen_free(g);
        return NULL;
    }
    g->leak_prose = recite_checker_leak_bound(c, RECITE_MODE_PROSE);
    g->leak_code = recite_checker_leak_bound(c, RECITE_MODE_CODE);
    serve_checker_put(g, c);
    return g;
}

int serve_gen_init(serve_server *s, recite_error *err)
{
    pthread_mutex_init(&s->gen_lock, NULL);
    s->gen = gen_load(s, 1, err);
    return s->gen ? RECITE_OK : err->code;
}

serve_gen *serve_gen_acquire(serve_server *s)
{
    pthread_mutex_lock(&s->gen_lock);
    serve_gen *g = s->gen;
    atomic_fetch_add(&g->refs, 1);
    pthread_mutex_unlock(&s->gen_lock);
    return g;
}

void serve_gen_release(serve_gen *g)
{
    if (g && atomic_fetch_sub(&g->refs, 1) == 1)
        gen_free(g);
}

int serve_gen_reload(serve_server *s, bool force, recite_error *err)
{
    serve_gen *cur = serve_gen_acquire(s);
    dev_t dev = 0;
    ino_t ino = 0;
    int64_t mt = 0;
    ino_t pino = 0;
    bool have_index = stat_index(s->opt.index_dir, &dev, &ino);
    if (s->opt.policy_file)
        stat_policy(s->opt.policy_file, &mt, &pino);
    bool changed = force || (have_index && (dev != cur->dev || ino != cur->ino)) ||
                   (s->opt.policy_file && (mt != cur->policy_mtime_ns || pino != cur->policy_ino));
    uint64_t number = cur->number + 1;
    serve_gen_release(cur);
    /* Files that already failed to load are not tried again every few seconds. */
    if (!changed || (!force && dev == s->failed_dev && ino == s->failed_ino &&
                     mt == s->failed_policy_mtime_ns && pino == s->failed_policy_ino))
        return 0;
    serve_gen *g = gen_load(s, number, err);
    if (!g) {
        s->failed_dev = dev;
        s->failed_ino = ino;
        s->failed_policy_mtime_ns = mt;
        s->failed_policy_ino = pino;
        atomic_fetch_add(&s->metrics.reload_failures, 1);
        return -1;
    }
    pthread_mutex_lock(&s->gen_lock);
    serve_gen *old = s->gen;
    s->gen = g;
    pthread_mutex_unlock(&s->gen_lock);
    serve_gen_release(old);
    atomic_fetch_add(&s->metrics.reloads, 1);
    return 1;
}

void serve_gen_shutdown(serve_server *s)
{
    pthread_mutex_lock(&s->gen_lock);
    serve_gen *g = s->gen;
    s->gen = NULL;
    pthread_mutex_unlock(&s->gen_lock);
    serve_gen_release(g);
    pthread_mutex_destroy(&s->gen_lock);
}

int serve_checker_get(recite_checker **out, serve_gen *g, recite_error *err)
{
    pthread_mutex_lock(&g->pool_lock);
    recite_checker *c = g->npool ? g->pool[--g->npool] : NULL;
    pthread_mutex_unlock(&g->pool_lock);
    if (c) {
        *out = c;
        return RECITE_OK;
    }
    return recite_checker_create(out, g->idx, NULL, err);
}

void serve_checker_put(serve_gen *g, recite_checker *c)
{
    if (!c)
        return;
    recite_checker_reset(c);
    pthread_mutex_lock(&g->pool_lock);
    bool kept = false;
    if (g->npool < POOL_MAX) {
        if (g->npool == g->pool_cap) {
            size_t cap = g->pool_cap ? g->pool_cap * 2 : 8;
            recite_checker **p = realloc(g->pool, cap * sizeof *p);
            if (p) {
                g->pool = p;
                g->pool_cap = cap;
            }
        }
        if (g->npool < g->pool_cap) {
            g->pool[g->npool++] = c;
            kept = true;
        }
    }
    pthread_mutex_unlock(&g->pool_lock);
    if (!kept)
        recite_checker_free(c);
}
